#!/bin/sh
# Writes each corpus folder's README from MANIFEST: a title, one line per file in the
# manifest's order (the name, padded to the folder's longest, and the description), and a
# closing note. make_data_corpus.sh and make_idx_corpus.sh end by calling it, and
# tests/e2e_corpus.sh fails when a committed README differs from what it writes.
#   sh tests/corpus/make_readmes.sh [FOLDER...]      (default: every folder)
set -eu
cd "$(dirname "$0")"
[ $# -gt 0 ] || set -- csv svmlight npy arff idx
for dir in "$@"; do
    maker=make_data_corpus.sh note=
    case $dir in
        csv)      title=CSV; fmt=CSV ;;
        svmlight) title=svmlight/LIBSVM; fmt=svmlight ;;
        npy)      title='NumPy .npy'; fmt=.npy ;;
        arff)     title=ARFF; fmt= ;;
        idx)      title=IDX; fmt=; maker=make_idx_corpus.sh ;;
        *) echo "make_readmes.sh: no corpus folder '$dir' (csv, svmlight, npy, arff, idx)" >&2; exit 2 ;;
    esac
    # where the classes are the labels that occur, an empty class cannot be in the corpus
    [ -z "$fmt" ] || note="A class with no rows cannot happen in $fmt (the classes are the labels that occur)."
    {
        echo "$title test corpus, made by ../$maker (run it to regenerate). One line per file."
        echo "Generated from ../MANIFEST by ../make_readmes.sh; the manifest also says how alsim is"
        echo "given each file and the message it must print."
        awk -F'\t' -v dir="$dir" '
            /^#/ || NF == 0 { next }
            index($1, dir "/") == 1 {
                n++; name[n] = substr($1, length(dir) + 2); desc[n] = $4
                if (length(name[n]) > w) w = length(name[n])
            }
            END { for (i = 1; i <= n; i++) printf("%-" w "s %s\n", name[i], desc[i]) }' MANIFEST
        [ -z "$note" ] || echo "$note"
    } > "$dir/README"
done
