#!/bin/sh
# The malformed-input corpus, driven by tests/corpus/MANIFEST (its header says the fields).
# alsim ($ALSIM) is given every corpus file as the manifest's HOW says; a malformed file must
# make it exit 2 with one stderr line ending in "tests/corpus/FILE: MESSAGE" and leave no
# output folder, a valid one (MESSAGE "-") must give one finished run. Every file of a corpus
# folder has a line and every line a file. Regenerating the corpus in a scratch copy gives the
# committed files, and the READMEs are what make_readmes.sh writes from the manifest.
# Ends with "e2e_corpus: N passed, M failed"; exit status 0 when all pass.
. tests/lib.sh

C=tests/corpus M=tests/corpus/MANIFEST
TAB=$(printf '\t')
SMALL="--rounds 1 --batch 2 --init 4 --hidden 0 --epochs 1 --strategy random --device cpu --quiet"

# --- the manifest: four non-empty fields a line, no file twice --------------------------
malformed=$(awk -F'\t' '/^#/ || NF == 0 { next }
    NF != 4 || $1 == "" || $2 == "" || $3 == "" || $4 == "" || seen[$1]++ { print NR ": " $0 }' "$M")
check "MANIFEST lines that are not FILE<tab>HOW<tab>MESSAGE<tab>DESCRIPTION or name a file twice: $malformed" \
    [ -z "$malformed" ]

# --- a line for every file, a file for every line ---------------------------------------
awk -F'\t' '!/^#/ && NF { print $1 }' "$M" | LC_ALL=C sort -u >"$T/rows"
for d in "$C"/*/; do
    d=${d%/}
    ls -A "$d" | grep -vx README | sed "s|^|${d#"$C"/}/|"
done | LC_ALL=C sort >"$T/files"
unlisted=$(LC_ALL=C comm -23 "$T/files" "$T/rows" | tr '\n' ' ')
missing=$(LC_ALL=C comm -13 "$T/files" "$T/rows" | tr '\n' ' ')
check "corpus files without a MANIFEST line: $unlisted" [ -z "$unlisted" ]
check "MANIFEST lines whose file is missing: $missing" [ -z "$missing" ]

# --- every file through the command line -------------------------------------------------
X=$C/npy/ok-X.npy Y=$C/npy/ok-y.npy I=$C/idx/ok-images-idx3-ubyte L=$C/idx/ok-labels-idx1-ubyte
i=0
while IFS=$TAB read -r file how msg desc; do
    case $file in '' | '#'*) continue ;; esac
    p=$C/$file
    [ -e "$p" ] || continue                   # counted above
    case $how in
        csv | svmlight | arff) set -- --dataset "$how:$p" ;;
        csv-test)      set -- --dataset $C/csv/ok-header.csv --test "$p" ;;
        svmlight-test) set -- --dataset $C/svmlight/ok-1based.svm --test "$p" ;;
        arff-test)     set -- --dataset $C/arff/ok-iris.arff --test "$p" ;;
        npy-X)         set -- --dataset "npy:$p,$Y" ;;
        npy-y)         set -- --dataset "npy:$X,$p" ;;
        npy-test-X)    set -- --dataset "npy:$X,$Y" --test "$p,$Y" ;;
        npy-test-y)    set -- --dataset "npy:$X,$Y" --test "$X,$p" ;;
        idx-images)    set -- --dataset "idx:$p,$L" ;;
        idx-labels)    set -- --dataset "idx:$I,$p" ;;
        *) bad "$file: unknown HOW '$how' in MANIFEST"; continue ;;
    esac
    i=$((i + 1)) out=$T/run$i
    "$ALSIM" "$@" $SMALL --out "$out" </dev/null >/dev/null 2>"$T/err"; st=$?
    if [ "$msg" = - ]; then
        d=$(only_dir "$out")
        if [ "$st" -eq 0 ] && [ -n "$d" ] && [ -s "$d/curve.csv" ]; then ok
        else bad "$file ($how) is valid, yet exit $st: $(cat "$T/err")"; fi
        continue
    fi
    # shell builtins only from here on: 146 files, and a fork is slow
    lines=0 line=
    while IFS= read -r l; do lines=$((lines + 1)) line=$l; done <"$T/err"
    case $line in *"$p: $msg") said=1 ;; *) said=0 ;; esac
    if [ "$st" -eq 2 ] && [ "$lines" -eq 1 ] && [ "$said" -eq 1 ] && [ ! -e "$out" ]; then ok
    else bad "$file ($how): exit $st (want 2), $lines stderr lines (want 1), $out $([ -e "$out" ] && echo left || echo 'not left');
      got:  $line
      want: ...$p: $msg"; fi
done <"$M"

# --- the generators and the READMEs --------------------------------------------------------
G=$T/corpus
mkdir -p "$G/idx"
cp "$M" "$C"/*.sh "$G"/
check "make_data_corpus.sh runs" sh "$G/make_data_corpus.sh"
check "make_idx_corpus.sh runs" sh "$G/make_idx_corpus.sh"
for d in "$C"/*/; do
    d=$(basename "$d")
    check "$C/$d/README differs from what MANIFEST generates (sh $C/make_readmes.sh)" \
        cmp -s "$G/$d/README" "$C/$d/README"
done
differ=$(diff -rq -x README "$G" "$C" 2>&1 | sed "s|$T/||g" | tr '\n' ';')
check "the generators do not write the committed corpus: $differ" [ -z "$differ" ]

finish e2e_corpus
