#!/bin/sh
# Regenerates tests/corpus/idx/: small IDX files, malformed ones for tests/test_idx.c and one
# tiny valid pair for the end-to-end tests. Plain printf, so it runs anywhere:
#   sh tests/corpus/make_idx_corpus.sh
# Naming: ok-* are valid; labels-* are well-formed files that are bad as the labels of
# ok-images-idx3-ubyte; every other file is malformed on its own. README (generated from
# ../MANIFEST, which also holds alsim's message for each file) says what is wrong.
set -eu
cd "$(dirname "$0")/idx"

# The valid pair: 20 images of 2x2 u8, class 0 dark (pixels 10+i), class 1 bright (200+i),
# alternating 0,1,0,1,...
{
    printf '\000\000\010\003\000\000\000\024\000\000\000\002\000\000\000\002'
    i=0
    while [ $i -lt 20 ]; do
        if [ $((i % 2)) -eq 0 ]; then v=$((10 + i)); else v=$((200 + i)); fi
        o=$(printf '%03o' $v)
        printf "\\$o\\$o\\$o\\$o"
        i=$((i + 1))
    done
} > ok-images-idx3-ubyte
{
    printf '\000\000\010\001\000\000\000\024'
    i=0
    while [ $i -lt 20 ]; do printf "\\00$((i % 2))"; i=$((i + 1)); done
} > ok-labels-idx1-ubyte

# Malformed on their own.
: > empty.idx
printf '\022\064\126\170\000\000\000\001\000' > bad-magic.idx
printf '\000\000\007\001\000\000\000\001\000' > bad-type.idx
printf '\000\000\010\000' > zero-ndim.idx
printf '\000\000\010\011' > nine-dims.idx
printf '\000\000' > truncated-magic.idx
printf '\000\000\010\003\000\000\000\002\000\000' > truncated-header.idx
printf '\000\000\010\003\000\000\000\002\000\000\000\002\000\000\000\002\001\002\003\004\005' > truncated-data.idx
printf '\000\000\010\001\000\000\000\002\001\002\377\377\377' > trailing-garbage.idx
printf '\000\000\010\002\000\000\000\002\000\000\000\000' > zero-dim.idx
printf '\000\000\010\002\000\000\000\002\377\377\377\377\001\002' > negative-dim.idx
printf '\000\000\010\002\000\000\000\002\200\000\000\000\001\002' > huge-dim.idx
printf '\000\000\010\003\000\001\206\240\000\001\206\240\000\001\206\240\001\002\003\004\005' > declares-huge.idx
printf '\000\000\010\004\177\377\377\377\177\377\377\377\177\377\377\377\177\377\377\377' > overflow-dims.idx
# Images of 20 rows (so that they pair with ok-labels and reach the finiteness check), 1 value
# each, all 1.0 but image 1: f32 (0x0D) with a NaN, f64 (0x0E) with +Inf.
{
    printf '\000\000\015\002\000\000\000\024\000\000\000\001'
    i=0
    while [ $i -lt 20 ]; do if [ $i -eq 1 ]; then printf '\177\300\000\000'; else printf '\077\200\000\000'; fi; i=$((i + 1)); done
} > float-nan.idx
{
    printf '\000\000\016\002\000\000\000\024\000\000\000\001'
    i=0
    while [ $i -lt 20 ]; do if [ $i -eq 1 ]; then printf '\177\360\000\000\000\000\000\000'; else printf '\077\360\000\000\000\000\000\000'; fi; i=$((i + 1)); done
} > double-inf.idx
printf '\037\213\010\000\000\000\000\000' > gzipped.idx

# Bad as labels of ok-images-idx3-ubyte (20 rows).
{   # labels 0 and 2 only: class 1 has no rows
    printf '\000\000\010\001\000\000\000\024'
    i=0
    while [ $i -lt 20 ]; do printf "\\00$((2 * (i % 2)))"; i=$((i + 1)); done
} > labels-skip-class.idx
{   # 19 labels for 20 images
    printf '\000\000\010\001\000\000\000\023'
    i=0
    while [ $i -lt 19 ]; do printf "\\00$((i % 2))"; i=$((i + 1)); done
} > labels-count-mismatch.idx
{   # i8 labels, the fourth is -1
    printf '\000\000\011\001\000\000\000\024'
    i=0
    while [ $i -lt 20 ]; do if [ $i -eq 3 ]; then printf '\377'; else printf "\\00$((i % 2))"; fi; i=$((i + 1)); done
} > labels-negative.idx
{   # f32 labels, one of them 0.5
    printf '\000\000\015\001\000\000\000\024'
    i=0
    while [ $i -lt 20 ]; do
        if [ $i -eq 5 ]; then printf '\077\000\000\000'
        elif [ $((i % 2)) -eq 0 ]; then printf '\000\000\000\000'
        else printf '\077\200\000\000'; fi
        i=$((i + 1))
    done
} > labels-fractional.idx
{   # all labels 0: one class
    printf '\000\000\010\001\000\000\000\024'
    i=0
    while [ $i -lt 20 ]; do printf '\000'; i=$((i + 1)); done
} > labels-one-class.idx
# labels with 2 dims (20x1)
{
    printf '\000\000\010\002\000\000\000\024\000\000\000\001'
    i=0
    while [ $i -lt 20 ]; do printf "\\00$((i % 2))"; i=$((i + 1)); done
} > labels-2d.idx

sh ../make_readmes.sh idx
