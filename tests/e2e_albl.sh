#!/bin/sh
# albl end to end: listed by --list and --help; the same command gives byte-identical results
# and another seed other picks; runs killed with SIGKILL at several rounds and resumed end
# byte-identical to an uninterrupted run (the bandit's weights and draws travel in the
# checkpoint), with MC dropout (5 experts) and warm-started without dropout (4 experts, the
# model's state in the checkpoint too); logreg and --pool-subset run; impossible options
# are refused with exit 2, one line, before any run folder exists.
. tests/lib.sh

CFG="--dataset synthetic:blobs:k=5,d=64,n=40000,test=2000 --strategy albl --rounds 30 --batch 10 --init 10 --hidden 128 --epochs 30 --mc 10 --seed 3"

"$ALSIM" --list | grep -q '^albl .*Hsu & Lin 2015' || bad "--list names albl and its paper"
ok
"$ALSIM" --help >"$T/help.txt"
check "--help lists albl among the strategies" grep -q "albl," "$T/help.txt"
check "--help: --albl-pmin with its default" grep -q -- "--albl-pmin p .*\[0\]" "$T/help.txt"
check "--help: --albl-delta with libact's default" grep -q -- "--albl-delta d .*\[0.1\]" "$T/help.txt"

# The same command twice: byte-identical; another seed: other picks.
"$ALSIM" $CFG --out "$T/a" --quiet || bad "run a"
"$ALSIM" $CFG --out "$T/b" --quiet || bad "run b"
"$ALSIM" $CFG --seed 4 --out "$T/c" --quiet || bad "run c"
a=$(only_dir "$T/a"); b=$(only_dir "$T/b"); c=$(only_dir "$T/c")
check "same seed: curve.csv byte-identical" cmp "$a/curve.csv" "$b/curve.csv"
check "same seed: rounds.jsonl byte-identical" cmp "$a/rounds.jsonl" "$b/rounds.jsonl"
check "another seed: other picks" sh -c "! cmp -s '$a/rounds.jsonl' '$c/rounds.jsonl'"
check "30 rounds of 10 picks" [ "$(grep -c '"picked":\[[0-9]*\(,[0-9]*\)\{9\}\]' "$a/rounds.jsonl")" -eq 30 ]

for mode in mc warm; do
    extra=""; [ $mode = warm ] && extra="--warm-start --dropout 0"
    kill_and_resume "$mode" "3 8 13 18" $CFG $extra
done
check "mc and warm (4 experts) pick differently" sh -c "! cmp -s '$(only_dir "$T/ref-mc")/rounds.jsonl' '$(only_dir "$T/ref-warm")/rounds.jsonl'"

# Other models and the protocol's knobs.
"$ALSIM" $CFG --model logreg --rounds 5 --out "$T/lr" --quiet; st=$?
check "logreg (no MC dropout: 4 experts): exit 0 (got $st)" [ "$st" -eq 0 ]
"$ALSIM" $CFG --pool-subset 500 --rounds 5 --out "$T/sub" --quiet; st=$?
check "--pool-subset: exit 0 (got $st)" [ "$st" -eq 0 ]

# Refusals: exit 2, one line naming the option, no run folder.
refuse() { # refuse WHAT PATTERN ARGS...
    what=$1 pat=$2; shift 2
    "$ALSIM" $CFG "$@" --out "$T/refused" >/dev/null 2>"$T/refused.err"; st=$?
    check "$what: exit 2 (got $st)" [ "$st" -eq 2 ]
    check "$what: one line" [ "$(wc -l <"$T/refused.err")" -eq 1 ]
    check "$what: the message says why" grep -q -- "$pat" "$T/refused.err"
    check "$what: no run folder" [ ! -e "$T/refused" ]
}
refuse "--albl-pmin above 1/E" "--albl-pmin 0.3: Exp4.P needs 0 < pmin <= 1/E = 0.2" --albl-pmin 0.3
refuse "libact's default pmin above 1/E for 2 queries" "give --albl-pmin in" --rounds 1 --batch 2
refuse "--albl-delta 0" "albl-delta" --albl-delta 0
refuse "--albl-delta above 1" "albl-delta" --albl-delta 1.5
"$ALSIM" $CFG --albl-pmin 0.25 --hidden 0 --rounds 3 --out "$T/quarter" --quiet; st=$?
check "--albl-pmin 0.25 = 1/E with 4 experts: exit 0 (got $st)" [ "$st" -eq 0 ]

finish e2e_albl
