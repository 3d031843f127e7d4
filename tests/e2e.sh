#!/bin/sh
# End-to-end tests of the alsim binary ($ALSIM): identical budgets across strategies,
# determinism, config files, bad input and exit codes, and small real runs (synthetic data,
# and 2,000-row MNIST and 1,000-email SpamAssassin slices unless ALSIM_E2E_QUICK is set).
# Ends with "e2e: N passed, M failed"; exit status 0 when all pass.
. tests/lib.sh

SYN="synthetic:blobs:k=4,d=10,n=600,test=400,sep=2.0"
SMALL="--dataset $SYN --rounds 3 --batch 5 --init 8 --hidden 16 --epochs 4 --minibatch 16 --mc 4 --seed 7 --quiet"

# --- help, list -----------------------------------------------------------------------
"$ALSIM" --help >"$T/help" 2>&1; check "--help exits 0" [ $? -eq 0 ]
check "--help shows live defaults" grep -q -- '--rounds R.*\[20\]' "$T/help"
"$ALSIM" --rounds 7 --help >"$T/help7" 2>&1
check "--help shows overridden values" grep -q -- '--rounds R.*\[7\]' "$T/help7"
"$ALSIM" --list >"$T/list" 2>&1; check "--list exits 0" [ $? -eq 0 ]
STRATEGIES=$(awk '{print $1}' "$T/list")
check "--list has the sixteen strategies" [ "$(echo $STRATEGIES)" = "random least-confidence entropy margin bald var-ratios mean-std mc-entropy rl power-bald softmax-bald albl coreset badge batchbald teacher" ]
# teacher splits a reward set off the pool, so its pool is not the others' here: its budget
# and round 0 are compared with margin's of the same --reward-size in tests/e2e_teacher.sh
STRATEGIES=$(echo $STRATEGIES | sed 's/ teacher$//')

# --- identical budgets: every strategy, same seed -------------------------------------
for s in $STRATEGIES; do
    "$ALSIM" $SMALL --strategy "$s" --out "$T/budget/$s" || bad "run $s"
done
ref=""
for s in $STRATEGIES; do
    d=$(only_dir "$T/budget/$s") || { bad "no run folder for $s"; continue; }
    check "$s: 4 curve rows" [ "$(col "$d/curve.csv" 1 | wc -l)" -eq 4 ]
    col "$d/curve.csv" 7-9 >"$T/budget.$s"              # steps, samples, flops per round
    sed -n 2p "$d/curve.csv" >"$T/row0.$s"              # round 0: same set, same model
    head -n 1 "$d/rounds.jsonl" | sed 's/"picked".*//' >"$T/init.$s"   # the initial set
    if [ -z "$ref" ]; then ref=$s; continue; fi
    check "$s vs $ref: same budget every round" cmp -s "$T/budget.$ref" "$T/budget.$s"
    check "$s vs $ref: same round-0 row" cmp -s "$T/row0.$ref" "$T/row0.$s"
    check "$s vs $ref: same initial set" cmp -s "$T/init.$ref" "$T/init.$s"
done
check "budgets grow with the labeled set" [ "$(sed -n 1p "$T/budget.random" | cut -d, -f1)" -lt "$(sed -n 4p "$T/budget.random" | cut -d, -f1)" ]
check "strategies pick differently" sh -c "! cmp -s '$(only_dir "$T/budget/random")/rounds.jsonl' '$(only_dir "$T/budget/bald")/rounds.jsonl'"

# --- determinism: the same command twice ----------------------------------------------
for i in 1 2; do "$ALSIM" $SMALL --strategy bald --out "$T/det$i" || bad "det run $i"; done
d1=$(only_dir "$T/det1"); d2=$(only_dir "$T/det2")
check "same command: curve.csv byte-identical" cmp "$d1/curve.csv" "$d2/curve.csv"
check "same command: rounds.jsonl byte-identical" cmp "$d1/rounds.jsonl" "$d2/rounds.jsonl"
"$ALSIM" $SMALL --strategy bald --seed 8 --out "$T/det3" || bad "det run seed 8"
check "another seed: another curve" sh -c "! cmp -s '$d1/rounds.jsonl' '$(only_dir "$T/det3")/rounds.jsonl'"

# --- outputs --------------------------------------------------------------------------
for f in config.json curve.csv rounds.jsonl timings.csv summary.json; do
    check "run folder has $f" [ -s "$d1/$f" ]
done
check "summary says ok" grep -q '"status": "ok"' "$d1/summary.json"
check "config.json records the dataset hash" grep -q '"sha256": "[0-9a-f]\{64\}"' "$d1/config.json"
check "timings are kept apart" sh -c "! grep -q _s '$d1/rounds.jsonl'"
"$ALSIM" $SMALL --strategy bald --out "$T/det1" 2>"$T/skip.err"
check "a finished run is skipped" grep -q "skipped" "$T/skip.err"
"$ALSIM" $SMALL --strategy bald --out "$T/det1" --force || bad "--force"
check "--force redoes it, same result" cmp "$d1/curve.csv" "$d2/curve.csv"
"$ALSIM" $SMALL --strategy margin --seeds 3 --out "$T/seeds" || bad "--seeds 3"
check "--seeds 3 gives three runs" [ "$(ls "$T/seeds" | wc -l)" -eq 3 ]

# --- config file with command-line overrides ------------------------------------------
printf '{\n  "dataset": "%s",\n  "rounds": 2,\n  "batch": 4,\n  "hidden": [12, 8],\n  "epochs": 3,\n  "strategy": "entropy"\n}\n' "$SYN" >"$T/cfg.json"
"$ALSIM" -c "$T/cfg.json" --rounds 3 --init 8 --quiet --out "$T/cfg" || bad "-c run"
d=$(only_dir "$T/cfg")
check "-c: the command line overrides the file" [ "$(col "$d/curve.csv" 1 | wc -l)" -eq 4 ]
check "-c: the file's values are used" grep -q '"strategy": "entropy"' "$d/config.json"
check "-c: hidden list kept" sh -c "tr -d ' \n' <'$d/config.json' | grep -q '\"hidden\":\[12,8\]'"

# --- bad input: exit codes, one line, nothing left that looks like a run --------------
C=tests/corpus/idx
OKI=$C/ok-images-idx3-ubyte OKL=$C/ok-labels-idx1-ubyte
# (the malformed IDX files, like every corpus file: tests/e2e_corpus.sh)
expect_fail 2 "missing IDX file" --dataset "idx:$C/no-such-idx3-ubyte,$OKL"
check "missing IDX file: the message names it" grep -q "no-such-idx3-ubyte" "$T/fail.err"
expect_fail 2 "unknown strategy" --dataset "$SYN" --strategy nosuch
expect_fail 2 "rounds 0" --dataset "$SYN" --rounds 0
expect_fail 2 "rounds -3" --dataset "$SYN" --rounds -3
expect_fail 2 "batch larger than the pool" --dataset "$SYN" --batch 100000
expect_fail 2 "budget larger than the pool" --dataset "$SYN" --rounds 200 --batch 10
expect_fail 2 "unknown option" --dataset "$SYN" --nosuch 3
expect_fail 2 "--pool-size above the data is refused, not capped" --dataset "$SYN" --pool-size 100000000
check "--pool-size above the data: says how many rows there are" grep -q "pool-size 100000000: .* has only [0-9]* pool rows" "$T/fail.err"
expect_fail 2 "--test-size above the data" --dataset "$SYN" --test-size 100000000
expect_fail 2 "missing value" --dataset
expect_fail 2 "unknown dataset" --dataset no-such-dataset
expect_fail 2 "--text-column without --model bert:DIR" --dataset "$SYN" --text-column text
check "--text-column without bert: says it needs --model bert:DIR" grep -q "applies to --model bert:DIR only" "$T/fail.err"
expect_fail 2 "--max-tokens 1" --dataset "$SYN" --max-tokens 1
printf '{\n  "rounds": 2,\n  "batch": oops\n}\n' >"$T/broken.json"
expect_fail 2 "malformed config JSON" -c "$T/broken.json"
check "malformed config: message names file and line" grep -q "broken.json: line 3" "$T/fail.err"
printf '{\n  "rounds": 2,\n  "bach": 4\n}\n' >"$T/typo.json"
expect_fail 2 "unknown config key" -c "$T/typo.json"
check "unknown key: message names file, line and key" grep -q 'typo.json: line 3: unknown option "bach"' "$T/fail.err"
"$ALSIM" $SMALL --strategy random --out /dev/null/runs >/dev/null 2>"$T/unwritable.err"; st=$?
check "unwritable output folder: exit 3" [ "$st" -eq 3 ]
check "unwritable output folder: one line" [ "$(wc -l <"$T/unwritable.err")" -eq 1 ]
"$ALSIM" $SMALL --device cuda --out "$T/cuda" >/dev/null 2>"$T/cuda.err"; st=$?
if [ "$st" -eq 0 ]; then    # a usable GPU: then the run must have used it
    check "--device cuda with a GPU: the run says backend cuda" grep -q '"backend": "cuda"' "$(only_dir "$T/cuda")/config.json"
else
    check "--device cuda without a usable GPU: exit 3, one line ($(cat "$T/cuda.err"))" [ "$st" -eq 3 -a "$(wc -l <"$T/cuda.err")" -eq 1 ]
fi

# --- a small valid IDX dataset end to end ----------------------------------------------
"$ALSIM" --dataset "idx:$OKI,$OKL" --rounds 2 --batch 2 --init 4 --hidden 8 --epochs 3 --mc 3 --quiet --out "$T/idx" || bad "idx run"
check "idx: run folder written" [ -n "$(only_dir "$T/idx")" ]

# --- MNIST, a 2,000-row slice (fetched into the cache on first use) --------------------
if [ -z "${ALSIM_E2E_QUICK:-}" ]; then
    M="--dataset mnist --pool-size 2000 --test-size 1000 --rounds 3 --batch 10 --epochs 10 --mc 5 --quiet"
    for i in 1 2; do "$ALSIM" $M --strategy bald --out "$T/mnist$i" || bad "mnist run $i"; done
    m1=$(only_dir "$T/mnist1"); m2=$(only_dir "$T/mnist2")
    check "mnist slice: deterministic curve" cmp "$m1/curve.csv" "$m2/curve.csv"
    check "mnist slice: deterministic picks" cmp "$m1/rounds.jsonl" "$m2/rounds.jsonl"
    check "mnist slice: 784 features, 10 classes" grep -q '"features": 784' "$m1/config.json"
    acc=$(col "$m1/curve.csv" 3 | tail -n 1)
    check "mnist slice: learns (final accuracy $acc > 0.5)" awk -v a="$acc" 'BEGIN { exit !(a > 0.5) }'
fi

# --- SpamAssassin text: TF-IDF features in CSR through the sparse first layer -----------
if [ -z "${ALSIM_E2E_QUICK:-}" ]; then
    S="--dataset spamassassin --pool-size 1000 --test-size 500 --rounds 2 --batch 10 --epochs 30 --quiet"
    for i in 1 2; do "$ALSIM" $S --strategy margin --hidden 16 --out "$T/spam$i" || bad "spamassassin run $i"; done
    s1=$(only_dir "$T/spam1"); s2=$(only_dir "$T/spam2")
    check "spamassassin slice: deterministic curve" cmp "$s1/curve.csv" "$s2/curve.csv"
    check "spamassassin slice: deterministic picks and per-class F1" cmp "$s1/rounds.jsonl" "$s2/rounds.jsonl"
    check "spamassassin slice: 2^18 hashed features, ham and spam" sh -c "tr -d ' \n' <'$s1/config.json' | grep -q '\"features\":262144,\"classes\":\[\"ham\",\"spam\"\]'"
    check "spamassassin slice: per-class F1 in rounds.jsonl" grep -q '"f1":\[[0-9.e-]*,[0-9.e-]*\]' "$s1/rounds.jsonl"
    acc=$(col "$s1/curve.csv" 3 | sort -g | tail -n 1)      # ham is 69% of the test set
    check "spamassassin slice: learns (best accuracy $acc > 0.8)" awk -v a="$acc" 'BEGIN { exit !(a > 0.8) }'
    "$ALSIM" $S --strategy random --rounds 1 --epochs 1 --out "$T/spam-default" || bad "spamassassin default hidden"
    check "spamassassin: sparse input defaults to one hidden layer of 64" sh -c "tr -d ' \n' <'$(only_dir "$T/spam-default")/config.json' | grep -q '\"hidden\":\[64\]'"
    "$ALSIM" datasets >"$T/datasets" 2>&1
    check "alsim datasets lists the three catalogued sets" sh -c "grep -q '^mnist ' '$T/datasets' && grep -q '^fashion-mnist ' '$T/datasets' && grep -q '^spamassassin .* yes' '$T/datasets'"
fi

# --init below the number of classes: said on stderr (even with --quiet), and the classes of
# round 0 differ between seeds (they used to be the first --init classes for every seed).
K12="synthetic:blobs:k=12,d=4,n=600,test=100"
"$ALSIM" --dataset "$K12" --init 5 --seeds 4 --rounds 1 --batch 1 --hidden 0 --epochs 1 --strategy random --quiet \
    --out "$T/few" 2>"$T/few.err" || bad "--init 5 of 12 classes"
check "--init below the classes is said" grep -q "note: --init 5 is below the 12 classes" "$T/few.err"
for d in "$T"/few/*/; do head -n 1 "$d/rounds.jsonl" | grep -o '"class_counts":[^]]*' ; done | sort -u >"$T/few.labels"
check "--init below the classes: the seeds start from different classes" [ "$(wc -l <"$T/few.labels")" -gt 1 ]
"$ALSIM" --dataset "$K12" --init 12 --rounds 1 --batch 1 --hidden 0 --epochs 1 --strategy random --quiet \
    --out "$T/enough" 2>"$T/enough.err" || bad "--init 12 of 12 classes"
check "--init of one row a class says nothing" [ ! -s "$T/enough.err" ]

finish e2e
