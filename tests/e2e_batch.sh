#!/bin/sh
# End-to-end tests of the batch-aware strategies (coreset, badge, batchbald), power-bald and softmax-bald: the same
# command picks the same rows and writes the same curve, another seed picks others; the budget
# is random's, round by round; with --pool-subset every pick is one of the round's subset rows;
# the selection's seconds are in timings.csv; a model without embeddings is refused in one line,
# and batchbald with --mc below 2 or above 1000.
# Ends with "e2e_batch: N passed, M failed".
. tests/lib.sh
SYN="synthetic:blobs:k=4,d=10,n=600,test=200,sep=2.0"
SMALL="--dataset $SYN --rounds 3 --batch 6 --init 8 --hidden 16 --epochs 4 --minibatch 16 --mc 4 --quiet"

"$ALSIM" $SMALL --strategy random --seed 7 --out "$T/random" || bad "random run"
col "$(only_dir "$T/random")/curve.csv" 7-9 >"$T/budget.random"
for s in power-bald softmax-bald coreset badge batchbald; do
    for i in 1 2; do "$ALSIM" $SMALL --strategy "$s" --seed 7 --out "$T/$s$i" || bad "$s run $i"; done
    "$ALSIM" $SMALL --strategy "$s" --seed 8 --out "$T/${s}8" || bad "$s seed 8"
    d1=$(only_dir "$T/${s}1"); d2=$(only_dir "$T/${s}2"); d8=$(only_dir "$T/${s}8")
    check "$s: same command, byte-identical curve.csv" cmp -s "$d1/curve.csv" "$d2/curve.csv"
    check "$s: same command, byte-identical rounds.jsonl (the picks)" cmp -s "$d1/rounds.jsonl" "$d2/rounds.jsonl"
    check "$s: another seed picks other rows" sh -c "! cmp -s '$d1/rounds.jsonl' '$d8/rounds.jsonl'"
    check "$s: 6 rows picked each round but the last" [ "$(grep -c '"picked":\[[0-9]*,[0-9]*,[0-9]*,[0-9]*,[0-9]*,[0-9]*\]' "$d1/rounds.jsonl")" -eq 3 ]
    col "$d1/curve.csv" 7-9 >"$T/budget.$s"
    check "$s: the same budget as random every round" cmp -s "$T/budget.random" "$T/budget.$s"
    check "$s: selection seconds in timings.csv" awk -F, 'NR == 1 { ok = $4 == "select_s" } NR > 1 && $4 !~ /^[0-9.e-]+$/ { ok = 0 } END { exit !ok }' "$d1/timings.csv"

    # --pool-subset: the picks of each round are among its subset
    "$ALSIM" $SMALL --strategy "$s" --seed 7 --pool-subset 40 --out "$T/${s}sub" || bad "$s --pool-subset"
    ds=$(only_dir "$T/${s}sub")
    outside=$(awk '/"subset"/ {
        match($0, /"subset":\[[^]]*\]/); n = split(substr($0, RSTART + 10, RLENGTH - 11), sub_, ",")
        delete in_; for (i = 1; i <= n; i++) in_[sub_[i]] = 1
        match($0, /"picked":\[[^]]*\]/); m = split(substr($0, RSTART + 10, RLENGTH - 11), p, ",")
        for (i = 1; i <= m; i++) if (!(p[i] in in_)) bad++
        rounds++ }
        END { print (rounds == 3 ? bad + 0 : "no subsets") }' "$ds/rounds.jsonl")
    check "$s --pool-subset 40: picks outside the round's subset: $outside" [ "$outside" = 0 ]
done

# coreset and badge need the last hidden layer
for s in coreset badge; do
    "$ALSIM" --dataset "$SYN" --hidden 0 --strategy "$s" --quiet --out "$T/fail" >/dev/null 2>"$T/fail.err"; st=$?
    check "$s --hidden 0: exit 2 with one line ($(cat "$T/fail.err"))" [ "$st" -eq 2 -a "$(wc -l <"$T/fail.err")" -eq 1 ]
    check "$s --hidden 0: no run folder" [ ! -d "$T/fail" ] || [ -z "$(ls -A "$T/fail")" ]
done
# batchbald needs 2 <= T <= 1000, refused before any work
for t in 1 1001; do
    "$ALSIM" --dataset "$SYN" --strategy batchbald --mc $t --quiet --out "$T/failmc" >/dev/null 2>"$T/failmc.err"; st=$?
    check "batchbald --mc $t: exit 2 with one line ($(cat "$T/failmc.err"))" [ "$st" -eq 2 -a "$(wc -l <"$T/failmc.err")" -eq 1 ]
    check "batchbald --mc $t: no run folder" [ ! -d "$T/failmc" ] || [ -z "$(ls -A "$T/failmc")" ]
done
finish e2e_batch
