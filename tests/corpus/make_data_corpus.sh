#!/bin/sh
# Regenerates tests/corpus/{csv,svmlight,npy,arff}/: small valid files (ok-*) and malformed
# ones for tests/test_loaders.c, tests/e2e_corpus.sh and the fuzzers' seeds (tests/fuzz/).
# Plain printf, so it runs anywhere:   sh tests/corpus/make_data_corpus.sh
# Naming, in every folder: ok-* are valid; test-* are well-formed but bad as the --test file of
# the folder's ok training file; in npy/, labels-* are bad as the labels of ok-X.npy and
# features-* bad as the features of ok-y.npy; every other file is malformed on its own.
# Each folder's README says what is wrong with each file; it is generated from MANIFEST, which
# also holds the message alsim prints for each file (tests/e2e_corpus.sh checks them).
set -eu
cd "$(dirname "$0")"
mkdir -p csv svmlight npy arff

# ---- csv ----------------------------------------------------------------------------------
cd csv
{   # 30 rows, 3 classes by name, a header; one quoted label with a comma
    echo 'sepal_length,sepal_width,petal_length,species'
    i=0
    while [ $i -lt 30 ]; do
        c=$((i % 3))
        case $c in 0) s=setosa ;; 1) s=versicolor ;; 2) s='"virginica, var. 2"' ;; esac
        echo "$((4 + c)).$((i % 10)),$((3 - c)).$(((i * 7) % 10)),$((1 + 2 * c)).$(((i * 3) % 10)),$s"
        i=$((i + 1))
    done
} > ok-header.csv
{   # no header, integer labels 1 and 2 in the first column (--label 0), CRLF line ends
    i=0
    while [ $i -lt 20 ]; do
        printf '%d,%d.5,-%d.25\r\n' $((1 + i % 2)) $((i % 2 * 4)) $((i % 2 * 3))
        i=$((i + 1))
    done
} > ok-noheader.csv
{   # tab-separated, 0/1 labels last
    printf 'x\ty\tlabel\n'
    i=0
    while [ $i -lt 20 ]; do printf '%d.0\t%d\t%d\n' $((i % 2 * 5)) $i $((i % 2)); i=$((i + 1)); done
} > ok-tabs.tsv
: > empty.csv
printf '\n  \n\n' > only-blank-lines.csv
printf 'a,b,label\n' > header-only.csv
printf 'a,b,label\n1,2,x\n3,4\n5,6,y\n' > ragged-short.csv
printf 'a,b,label\n1,2,x\n3,4,y,7\n' > ragged-long.csv
printf 'a,b,label\n1,2,x\n3,4,y\n5,6' > truncated.csv
printf 'a,b,label\n1,NaN,x\n3,4,y\n' > nan.csv
printf 'a,b,label\n1,2,x\n-inf,4,y\n' > inf.csv
printf 'a,b,label\n1,2,x\n3,1e39,y\n' > beyond-float32.csv
printf 'a,b,label\n1,2,x\n3,3e38,y\n' > huge-value.csv
printf 'a,b,label\n1,2,x\n3,four,y\n' > not-a-number.csv
printf 'a,b,label\n1,2,x\n3,,y\n' > empty-field.csv
printf 'a,b,label\n1,2,x\n3,4,\n' > missing-label.csv
printf 'a,b,label\n1,2,x\n3,4,x\n5,6,x\n' > one-class.csv
printf 'a,b,label\n1,2,x\n3,4,"y\n5,6,z\n' > unterminated-quote.csv
printf 'a,b,label\n1,2,x\n3,4,"y"z\n' > text-after-quote.csv
printf 'a,b,label\n1,2,x\n3,4,\377\376\n' > invalid-utf8-label.csv
printf 'a,\303\050,label\n1,2,x\n3,4,y\n' > invalid-utf8-header.csv
printf 'a,b,label\n1,2,x\n3,\0004,y\n' > nul-byte.csv
printf '\037\213\010\000\000\000\000\000\000\003' > gzipped.csv
printf 'label\nx\ny\n' > single-column.csv
printf 'a,b,a,label\n1,2,3,x\n4,5,6,y\n' > duplicate-header.csv
printf '0,1,0,label\n1,2,3,4\n5,6,7,8\n' > duplicate-numeric-header.csv
printf 'sepal_length,sepal_width,petal_length,petal_width,species\n5,3,1,0.2,setosa\n6,2,4,1.3,versicolor\n' > test-more-columns.csv
printf 'sepal_length,sepal_width,petal_length,species\n5,3,1,setosa\n6,2,4,daisy\n' > test-unknown-class.csv
cd ..

# ---- svmlight -----------------------------------------------------------------------------
cd svmlight
{   # LIBSVM style: +1/-1 labels, 1-based indices, qid, comments, a row with no features
    echo '# a comment line'
    i=0
    while [ $i -lt 20 ]; do
        if [ $((i % 2)) -eq 0 ]; then l=+1; v=0.$((i % 9 + 1)); else l=-1; v=-$((i % 5 + 1)); fi
        if [ $i -eq 7 ]; then echo "$l qid:3"; else echo "$l qid:$((i / 5)) 1:$v 3:$((i % 4)) 7:1.5e-3 # row $i"; fi
        i=$((i + 1))
    done
} > ok-1based.svm
{   # string labels, 0-based (index 0 present), tabs
    i=0
    while [ $i -lt 21 ]; do
        case $((i % 3)) in 0) l=ham ;; 1) l=spam ;; 2) l=eggs ;; esac
        printf '%s\t0:%d\t%d:0.5\n' $l $((i % 3)) $((2 + i % 3))
        i=$((i + 1))
    done
} > ok-0based.svm
: > empty.svm
printf '# nothing\n\n# but comments\n' > comments-only.svm
printf '1 1:0.5\n1:0.5 2:0.25\n' > no-label.svm
printf '1 1:0.5\n-1 3\n' > not-index-value.svm
printf '1 1:0.5\n-1 -1:0.5\n' > negative-index.svm
printf '1 1:0.5\n-1 99999999999:0.5\n' > huge-index.svm
printf '1 1:0.5\n-1 x:0.5\n' > index-not-a-number.svm
printf '1 1:0.5\n-1 5:1 3:1\n' > unsorted-indices.svm
printf '1 1:0.5\n-1 3:1 3:2\n' > duplicate-index.svm
printf '1 1:0.5\n-1 2:nan\n' > nan.svm
printf '1 1:0.5\n-1 2:inf\n' > inf.svm
printf '1 1:0.5\n-1 2:-3e38\n' > huge-value.svm
printf '1 1:0.5 2:1\n-1 1:0.25\n1 2:0.5 100000000:1\n-1 2:1\n' > stray-huge-index.svm
printf '1 1:0.5\n-1 2:abc\n' > bad-value.svm
printf '1 1:0.5\n-1 2:\n' > empty-value.svm
printf '1 1:0.5\n-1 2:0.5 3' > truncated.svm
printf '1,2 1:0.5\n3 2:0.5\n' > multi-label.svm
printf '1 1:0.5\n1 2:0.5\n' > one-class.svm
i=0; while [ $i -lt 12 ]; do if [ $((i % 2)) -eq 0 ]; then l=1; else l=1.0; fi; echo "$l $((1 + i % 3)):0.$((i % 9 + 1))"; i=$((i + 1)); done > one-class-spelled-two-ways.svm
printf '1\n-1\n1 # no features anywhere\n' > no-features.svm
printf '1 1:0.5\n\377 2:0.5\n' > invalid-utf8-label.svm
printf '1 1:0.5\n-1 2:0.\0005\n' > nul-byte.svm
printf '\037\213\010\000\000\000\000\000\000\003' > gzipped.svm
printf '+1 1:0.5\n2 2:0.5\n' > test-unknown-class.svm
cd ..

# ---- npy ----------------------------------------------------------------------------------
cd npy
# npy_head MAJOR DICT: the preamble and the dict, padded with spaces and a newline to a multiple
# of 64 bytes, as numpy writes it (header length: 2 bytes little-endian for 1.0, 4 after).
byte() { printf "\\$(printf %03o "$1")"; }
npy_head() {
    pre=$((10 + ($1 > 1) * 2)); len=$((${#2} + 1)); pad=$(( (64 - (pre + len) % 64) % 64 ))
    hl=$((len + pad))
    printf '\223NUMPY'; byte "$1"; byte 0
    byte $((hl % 256)); byte $((hl / 256))
    if [ "$1" -gt 1 ]; then byte 0; byte 0; fi
    printf '%s' "$2"
    i=0; while [ $i -lt $pad ]; do printf ' '; i=$((i + 1)); done
    printf '\n'
}
F0='\000\000\000\000' F1='\000\000\200\077' F2='\000\000\000\100' FH='\000\000\000\077'
FNAN='\000\000\300\177' FINF='\000\000\200\177' FBIG='\346\261\141\177'
I0='\000\000\000\000\000\000\000\000' I1='\001\000\000\000\000\000\000\000'
# rows N: N rows of 4 float32: class 0 rows (even) near 0, class 1 rows near 2
rows() { i=0; while [ $i -lt "$1" ]; do if [ $((i % 2)) -eq 0 ]; then printf "$F0$FH$F0$F1"; else printf "$F2$F1$F2$F2"; fi; i=$((i + 1)); done; }
labels() { i=0; while [ $i -lt "$1" ]; do if [ $((i % 2)) -eq 0 ]; then printf "$I0"; else printf "$I1"; fi; i=$((i + 1)); done; }
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"; rows 20; } > ok-X.npy
{ npy_head 1 "{'descr': '<i8', 'fortran_order': False, 'shape': (20,), }"; labels 20; } > ok-y.npy
{   # the same 20x4 matrix as float64, version 2.0
    npy_head 2 "{'descr': '<f8', 'fortran_order': False, 'shape': (20, 4), }"
    D0='\000\000\000\000\000\000\000\000' D1='\000\000\000\000\000\000\360\077'
    D2='\000\000\000\000\000\000\000\100' DH='\000\000\000\000\000\000\340\077'
    i=0; while [ $i -lt 20 ]; do if [ $((i % 2)) -eq 0 ]; then printf "$D0$DH$D0$D1"; else printf "$D2$D1$D2$D2"; fi; i=$((i + 1)); done
} > ok-X-f64-v2.npy
{   # the same matrix as float16 in Fortran order (column by column), version 3.0
    npy_head 3 "{'descr': '<f2', 'fortran_order': True, 'shape': (20, 4), }"
    H0='\000\000' H1='\000\074' H2='\000\100' HH='\000\070'
    for col in "$H0 $H2" "$HH $H1" "$H0 $H2" "$H1 $H2"; do
        set -- $col
        i=0; while [ $i -lt 20 ]; do if [ $((i % 2)) -eq 0 ]; then printf "$1"; else printf "$2"; fi; i=$((i + 1)); done
    done
} > ok-X-f16-fortran-v3.npy
# the same 20 rows as 2x2 images (20, 2, 2): 1 channel of 2x2 pixels each
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 2, 2), }"; rows 20; } > ok-X-images.npy
{   # string labels: '<U3' cat/dog (UTF-32LE, NUL-padded)
    npy_head 1 "{'descr': '<U3', 'fortran_order': False, 'shape': (20,), }"
    i=0; while [ $i -lt 20 ]; do if [ $((i % 2)) -eq 0 ]; then printf 'c\0\0\0a\0\0\0t\0\0\0'; else printf 'd\0\0\0o\0\0\0g\0\0\0'; fi; i=$((i + 1)); done
} > ok-y-str.npy
: > empty.npy
printf 'PK\003\004\024\000\000\000' > npz-archive.npy
printf '\037\213\010\000\000\000\000\000\000\003' > gzipped.npy
{ printf '\223NUMPX\001\000'; printf 'v\000'; printf '%118s\n' ''; } > bad-magic.npy
printf '\223NUM' > truncated-magic.npy
printf '\223NUMPY\001\000\166' > truncated-header-length.npy
{ npy_head 4 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"; rows 20; } > bad-version.npy
npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }" | head -c 50 > truncated-header.npy
{ npy_head 1 "['descr', '<f4']"; rows 20; } > header-not-a-dict.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, }"; rows 20; } > header-no-shape.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), 'extra': 1, }"; rows 20; } > header-unknown-key.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, x), }"; rows 20; } > header-bad-shape.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (20, 4), }"; rows 20; } > header-bad-fortran-order.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), } junk"; rows 20; } > header-trailing-text.npy
{ npy_head 1 "{'descr': '<c8', 'fortran_order': False, 'shape': (20, 4), }"; rows 20; rows 20; } > complex-dtype.npy
{ npy_head 1 "{'descr': '|O', 'fortran_order': False, 'shape': (20,), }"; labels 20; } > object-array.npy
{ npy_head 1 "{'descr': [('a', '<f4'), ('b', '<f4')], 'fortran_order': False, 'shape': (20,), }"; labels 20; } > structured-dtype.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"; rows 19; } > truncated-data.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"; rows 20; printf 'xyz'; } > trailing-bytes.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 100000), }"; rows 20; } > declares-huge-shape.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (2147483647, 2147483647, 2147483647), }"; rows 1; } > overflow-shape.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 4), }"; } > zero-rows.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"; rows 5; printf "$F0$FNAN$F0$F1"; rows 14; } > nan.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"; rows 11; printf "$F0$F0$F0$FINF"; rows 8; } > inf.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 4), }"; rows 5; printf "$F0$FBIG$F0$F1"; rows 14; } > features-huge-value.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20,), }"; rows 5; } > features-1d.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 1, 1, 2, 2), }"; rows 20; } > features-5d.npy
{ npy_head 1 "{'descr': '<U3', 'fortran_order': False, 'shape': (20, 1), }"; i=0; while [ $i -lt 20 ]; do printf 'a\0\0\0b\0\0\0c\0\0\0'; i=$((i + 1)); done; } > features-strings.npy
{ npy_head 1 "{'descr': '<i8', 'fortran_order': False, 'shape': (19,), }"; labels 19; } > labels-count-mismatch.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do if [ $i -eq 3 ]; then printf "$FH"; else printf "$F1"; fi; i=$((i + 1)); done; } > labels-fractional.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do if [ $i -eq 4 ]; then printf "$FNAN"; else printf "$F1"; fi; i=$((i + 1)); done; } > labels-nan.npy
{ npy_head 1 "{'descr': '<i8', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do printf "$I1"; i=$((i + 1)); done; } > labels-one-class.npy
{ npy_head 1 "{'descr': '<i8', 'fortran_order': False, 'shape': (10, 2), }"; labels 20; } > labels-2d.npy
{ npy_head 1 "{'descr': '<U1', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do if [ $i -eq 6 ]; then printf '\000\330\000\000'; else printf 'a\0\0\0'; fi; i=$((i + 1)); done; } > labels-invalid-utf32.npy
{ npy_head 1 "{'descr': '|S2', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do if [ $i -eq 2 ]; then printf '\377\376'; else printf 'ab'; fi; i=$((i + 1)); done; } > labels-invalid-utf8.npy
{ npy_head 1 "{'descr': '<U2', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do if [ $i -eq 9 ]; then printf '\0\0\0\0\0\0\0\0'; else printf 'a\0\0\0%s\0\0\0' $((i % 2)); fi; i=$((i + 1)); done; } > labels-empty-string.npy
{ npy_head 1 "{'descr': '<f4', 'fortran_order': False, 'shape': (20, 5), }"; rows 25; } > test-X-5-features.npy
{ npy_head 1 "{'descr': '<i8', 'fortran_order': False, 'shape': (20,), }"; i=0; while [ $i -lt 20 ]; do if [ $i -eq 1 ]; then printf '\007\000\000\000\000\000\000\000'; else printf "$I0"; fi; i=$((i + 1)); done; } > test-y-unknown-class.npy
cd ..

# ---- arff ---------------------------------------------------------------------------------
cd arff
{
    echo '% A small iris-like set.'
    echo '@RELATION iris'
    echo ''
    echo "@ATTRIBUTE 'sepal length' NUMERIC"
    echo '@attribute sepalwidth real'
    echo '@attribute petallength integer'
    echo "@attribute class {Iris-setosa, Iris-versicolor, 'Iris virginica'}"
    echo '@DATA'
    i=0
    while [ $i -lt 30 ]; do
        case $((i % 3)) in 0) c=Iris-setosa ;; 1) c=Iris-versicolor ;; 2) c="'Iris virginica'" ;; esac
        echo "$((4 + i % 3)).$((i % 10)), $((3 - i % 3)).$(((i * 7) % 10)),$((1 + i % 3)),$c"
        i=$((i + 1))
    done
    echo '% trailing comment'
} > ok-iris.arff
{   # a nominal feature (one-hot) among numeric ones, the class last
    echo '@relation weather'
    echo '@attribute outlook {sunny, overcast, rainy}'
    echo '@attribute temperature numeric'
    echo '@attribute humidity numeric'
    echo '@attribute play {yes, no}'
    echo '@data'
    i=0
    while [ $i -lt 20 ]; do
        case $((i % 3)) in 0) o=sunny ;; 1) o=overcast ;; 2) o=rainy ;; esac
        if [ $((i % 2)) -eq 0 ]; then p=yes; else p=no; fi
        echo "$o,$((60 + i)),$((70 + i % 7)),$p"
        i=$((i + 1))
    done
} > ok-nominal-features.arff
{   # the class z is declared between x and y but no row has it (as Weka's glass.arff)
    echo '@relation r'
    echo '@attribute a numeric'
    echo '@attribute b numeric'
    echo '@attribute class {x, z, y}'
    echo '@data'
    i=0
    while [ $i -lt 20 ]; do
        if [ $((i % 2)) -eq 0 ]; then c=x; else c=y; fi
        echo "$((i % 2 * 3)).$((i % 10)),$i,$c"
        i=$((i + 1))
    done
} > ok-empty-class.arff
H='@relation r
@attribute a numeric
@attribute b numeric
@attribute class {x, y}
@data'
: > empty.arff
printf '%% only\n%% comments\n' > comments-only.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x, y}\n' > no-data-section.arff
printf '@relation r\n@data\n1,x\n' > data-before-attributes.arff
printf '@relation r\n@attribut a numeric\n@data\n' > unknown-keyword.arff
printf '@relation r\nhello\n@attribute a numeric\n@data\n' > junk-in-header.arff
printf '@relation r\n@attribute a string\n@attribute class {x, y}\n@data\n' > string-attribute.arff
printf '@relation r\n@attribute a date "yyyy-MM-dd"\n@attribute class {x, y}\n@data\n' > date-attribute.arff
printf '@relation r\n@attribute a float\n@attribute class {x, y}\n@data\n' > unknown-type.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x, y\n@data\n' > unclosed-nominal.arff
printf '@relation r\n@attribute a numeric\n@attribute class {}\n@data\n' > empty-nominal.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x, x}\n@data\n' > duplicate-nominal.arff
printf '@relation r\n@attribute a numeric\n@attribute b numeric\n@attribute a numeric\n@attribute class {x, y}\n@data\n1,2,3,x\n4,5,6,y\n' > duplicate-attribute.arff
printf '@relation r\n@attribute "a numeric\n@data\n' > unterminated-name.arff
printf '@relation r\n@attribute a numeric\n@attribute b numeric\n@data\n1,2\n' > no-nominal-attribute.arff
printf '%s\n1,2,x\n3,y\n' "$H" > ragged-short.arff
printf '%s\n1,2,x\n3,4,y,5\n' "$H" > ragged-long.arff
printf '%s\n1,2,x\n3,4,y\n5,6' "$H" > truncated.arff
printf '%s\n1,2,x\n3,?,y\n' "$H" > missing-value.arff
printf '%s\n1,2,x\n3,NaN,y\n' "$H" > nan.arff
printf '%s\n1,2,x\n3,Infinity,y\n' "$H" > inf.arff
printf '%s\n1,2,x\n3,4e40,y\n' "$H" > beyond-float32.arff
printf '%s\n1,2,x\n3,1e30,y\n' "$H" > huge-value.arff
printf '%s\n1,2,x\n3,four,y\n' "$H" > not-a-number.arff
printf '%s\n1,2,x\n3,4,z\n' "$H" > unknown-class-value.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x, y, z}\n@data\n1,x\n2,x\n3,x\n' > one-class-with-rows.arff
{   # a regression set: the last attribute is numeric (as Weka's cpu.with.vendor.arff)
    printf '@relation cpu\n@attribute vendor {adviser, amdahl}\n@attribute MYCT numeric\n@attribute class numeric\n@data\n'
    i=0
    while [ $i -lt 12 ]; do
        if [ $((i % 2)) -eq 0 ]; then v=adviser; else v=amdahl; fi
        echo "$v,$((25 + 10 * i)),$((198 + 7 * i))"
        i=$((i + 1))
    done
} > numeric-last-attribute.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x}\n@data\n1,x\n2,x\n' > one-class.arff
printf '%s\n1,2,x\n{0 3, 2 y}\n' "$H" > sparse-row.arff
printf "%s\n1,2,x\n3,4,'y\n" "$H" > unterminated-quote.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x, \377}\n@data\n1,x\n' > invalid-utf8.arff
printf '%s\n1,2,x\n3,\0004,y\n' "$H" > nul-byte.arff
printf '\037\213\010\000\000\000\000\000\000\003' > gzipped.arff
printf '@relation r\n@attribute a numeric\n@attribute class {x, y}\n@attribute class2 {p, q}\n@data\n1,x,p\n2,y,q\n' > test-different-header.arff
printf "@relation iris\n@attribute 'sepal length' numeric\n@attribute sepalwidth real\n@attribute petallength integer\n@attribute class {Iris-setosa, Iris-versicolor}\n@data\n1,2,3,Iris-setosa\n" > test-other-class-values.arff
cd ..

sh ./make_readmes.sh csv svmlight npy arff
