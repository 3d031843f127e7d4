#!/bin/sh
# End-to-end tests of --model logreg and --standardize on small tabular files: strategies that
# need MC samples or embeddings refused before a run folder exists (exit 2, one line); the
# same budget for every strategy it serves, what each fit spent in rounds.jsonl; determinism;
# a warm start that ends where a cold one does; the iteration cap's warning; --standardize in
# config.json and the run id, dense and sparse; the MLP's rounds.jsonl as before.
# Ends with "e2e_logreg: N passed, M failed"; exit status 0 when all pass. A few seconds.
. tests/lib.sh

# A tabular set: 3 classes, 4 features on very different scales (x1000, x0.001, an offset).
awk 'BEGIN { srand(7); print "a,b,c,d,class";
  for (i = 0; i < 450; i++) { k = i % 3; u = rand() + rand() - 1; v = rand() + rand() - 1;
    printf "%.6g,%.6g,%.6g,%.6g,%s\n", k + 2 * u, 1000 * (k * 0.5 + 2 * v), 0.001 * (rand() - 0.5),
      1e4 + (k == 2) * 3 + 3 * (rand() - 0.5), substr("xyz", k + 1, 1) } }' >"$T/tab.csv"
# The same kind of data as svmlight (sparse: CSR rows).
awk 'BEGIN { srand(11);
  for (i = 0; i < 300; i++) { k = i % 2; line = k;
    for (j = 1; j <= 20; j++) if (rand() < 0.3 || j == 1 + k) line = line " " j ":" sprintf("%.4g", (j == 1 + k) * 20 + 10 * rand());
    print line } }' >"$T/sparse.svm"
LR="--dataset $T/tab.csv --model logreg --rounds 4 --batch 6 --init 9 --seed 3 --quiet"

# --- refused: the strategies that need MC samples or embeddings, and train-policy ------
for s in bald var-ratios mean-std rl power-bald softmax-bald coreset badge; do
    expect_fail 2 "logreg + $s refused" $LR --strategy "$s"
    check "logreg + $s: the message names it and what to use" grep -q -- "--strategy $s needs .*logreg.*random, least-confidence, entropy, margin" "$T/fail.err"
done
expect_fail 2 "logreg with the default strategy (bald) refused" --dataset "$T/tab.csv" --model logreg
"$ALSIM" train-policy --train "$T/tab.csv" --model logreg --episodes 1 --out "$T/p.json" --quiet 2>"$T/tp.err"
check "train-policy --model logreg: exit 2" [ $? -eq 2 ]
check "train-policy --model logreg: says why" grep -q "rl needs" "$T/tp.err"
check "train-policy --model logreg: no policy written" [ ! -e "$T/p.json" ]

# --- the strategies it serves: one budget, what each fit spent --------------------------
ref=""
for s in random least-confidence entropy margin; do
    "$ALSIM" $LR --standardize --strategy "$s" --out "$T/lr/$s" || bad "logreg run $s"
    d=$(only_dir "$T/lr/$s") || { bad "no run folder for $s"; continue; }
    check "$s: 5 curve rows" [ "$(col "$d/curve.csv" 1 | wc -l)" -eq 5 ]
    col "$d/curve.csv" 7-9 >"$T/budget.$s"
    [ -n "$ref" ] && check "$s vs $ref: the same budget every round" cmp -s "$T/budget.$ref" "$T/budget.$s"
    ref=${ref:-$s}
    check "$s: every fit converged within the cap" [ "$(grep -c '"steps_used":[0-9]*,"flops_used":[0-9.e+]*,"converged":true' "$d/rounds.jsonl")" -eq 5 ]
done
d=$(only_dir "$T/lr/random")
check "logreg budget: --max-iter steps, full-batch rows" [ "$(col "$d/curve.csv" 2,7,8 | head -n 1)" = "9,1000,9000" ]
check "logreg learns the tabular set (final accuracy > 0.8)" awk -F, 'END { exit !($3 > 0.8) }' "$d/curve.csv"
check "config.json records standardize" grep -q '"standardize": true' "$d/config.json"
check "config.json records C, max_iter, tol" grep -q '"C": 1,' "$d/config.json"
"$ALSIM" $LR --standardize --strategy random --out "$T/lr2" || bad "second run"
check "logreg: the same command, byte-identical rounds.jsonl" cmp -s "$d/rounds.jsonl" "$(only_dir "$T/lr2")/rounds.jsonl"
check "logreg: the same command, byte-identical curve.csv" cmp -s "$d/curve.csv" "$(only_dir "$T/lr2")/curve.csv"

# --- warm start: from the previous round's weights to the same optimum -----------------
"$ALSIM" $LR --standardize --strategy random --warm-start --out "$T/warm" || bad "warm-start run"
w=$(only_dir "$T/warm")
col "$d/curve.csv" 3 >"$T/acc.cold"; col "$w/curve.csv" 3 >"$T/acc.warm"
check "warm start: the same test accuracies as retraining" cmp -s "$T/acc.cold" "$T/acc.warm"
used() { grep -o '"steps_used":[0-9]*' "$1" | cut -d: -f2 | awk 'NR > 1 { s += $1 } END { print s }'; }   # rounds 1..R
check "warm start: fewer iterations after round 0" [ "$(used "$w/rounds.jsonl")" -lt "$(used "$d/rounds.jsonl")" ]

# --- standardize: another run id and other features; raw features need more iterations --
"$ALSIM" $LR --strategy random --out "$T/raw" 2>"$T/raw.err" || bad "raw run"
r=$(only_dir "$T/raw")
check "--standardize gives another run id" [ "$(basename "$r" | sed 's/.*-//')" != "$(basename "$d" | sed 's/.*-//')" ]
check "without --standardize: not recorded as on" grep -q '"standardize": false' "$r/config.json"
check "raw features: more iterations than standardized" [ "$(used "$r/rounds.jsonl")" -gt "$(used "$d/rounds.jsonl")" ]

# --- the cap: a warning, and rounds.jsonl says which rounds stopped short ---------------
"$ALSIM" $LR --strategy random --max-iter 2 --out "$T/cap" 2>"$T/cap.err"
check "--max-iter 2: exit 0" [ $? -eq 0 ]
check "--max-iter 2: one warning line" [ "$(grep -c 'warning: .*stopped short of --tol' "$T/cap.err")" -eq 1 ]
check "--max-iter 2: converged false in rounds.jsonl" grep -q '"steps_used":2,"flops_used":[0-9.e+]*,"converged":false' "$(only_dir "$T/cap")/rounds.jsonl"

# --- sparse rows: standardized without centring, fitted as CSR ---------------------------
"$ALSIM" --dataset "$T/sparse.svm" --model logreg --standardize --strategy margin --rounds 3 --batch 5 --init 6 \
    --quiet --out "$T/sp" || bad "sparse logreg run"
s=$(only_dir "$T/sp")
check "sparse logreg: 4 rounds, all converged" [ "$(grep -c '"converged":true' "$s/rounds.jsonl")" -eq 4 ]
check "sparse logreg learns (final accuracy > 0.8)" awk -F, 'END { exit !($3 > 0.8) }' "$s/curve.csv"

# --- the MLP's files do not change: no fit report in its rounds.jsonl -------------------
"$ALSIM" --dataset "$T/tab.csv" --strategy margin --rounds 1 --batch 5 --init 9 --hidden 8 --epochs 2 --quiet \
    --out "$T/mlp" || bad "mlp run"
check "mlp: rounds.jsonl has no steps_used" sh -c "! grep -q steps_used '$(only_dir "$T/mlp")/rounds.jsonl'"
check "mlp: --standardize off by default" grep -q '"standardize": false' "$(only_dir "$T/mlp")/config.json"

finish e2e_logreg
