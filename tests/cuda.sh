#!/bin/sh
# make test-cuda: the GPU checks. Without a usable CUDA GPU (or in a CUDA=0 build) it says why
# and exits 0. With one:
#   1. test_backend: every op on CUDA against the double reference, and CUDA against the CPU
#      on the same inputs (|cuda - cpu| <= 1e-5 + 1e-4·|cpu|; dropout, relu and cross-entropy
#      bit for bit), score_rows against the strategies' host functions;
#   2. test_cuda: a full training step (loss, gradients) CPU vs CUDA, pool probabilities of a
#      trained model (NMSE <= 1e-7), learner_score vs the host functions, repeatability;
#   3. end to end: the same BALD run on a 2,000-row MNIST slice with --device cpu and
#      --device cuda: the learning curves stay within 1 accuracy point at every round, the
#      budgets are identical, and the CUDA run repeated gives a byte-identical curve;
#   4. the same with --model cnn on a 1,000-row slice (within 2 accuracy points: a
#      1,000-row test set and a model trained on 20 to 60 labels).
# Ends with one line of totals. Environment: ALSIM (the binary), TEST_BIN (folder of the
# test programs), ALSIM_DATA (the MNIST cache, fetched on first use when there is a network).
set -u
ALSIM=${ALSIM:-./alsim}
TEST_BIN=${TEST_BIN:-build/tests}

if ! device=$("$TEST_BIN/test_cuda" --probe 2>&1); then
    echo "test-cuda: skipped: $device"
    echo "tests: 0 passed, 0 failed (skipped: no usable CUDA GPU)"
    exit 0
fi
echo "test-cuda: device: $device"

ALSIM= sh tests/run.sh "$TEST_BIN/test_backend" "$TEST_BIN/test_cuda"; units=$?   # no e2e.sh here

# --- 3. learning curves, CPU vs CUDA ---------------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/alsim-cuda.XXXXXX")
trap 'rm -rf "$T"' EXIT
passed=0 failed=0
ok()  { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
M="--dataset mnist --pool-size 2000 --test-size 1000 --rounds 10 --batch 10 --epochs 10 --mc 10 --strategy bald --seed 3 --quiet"
for dev in cpu cuda cuda2; do
    "$ALSIM" $M --device "${dev%2}" --out "$T/$dev" || bad "alsim --device ${dev%2} exited $?"
done
c1=$(ls -d "$T"/cpu/*/ 2>/dev/null | head -n 1); g1=$(ls -d "$T"/cuda/*/ 2>/dev/null | head -n 1)
g2=$(ls -d "$T"/cuda2/*/ 2>/dev/null | head -n 1)
if [ -n "$c1" ] && [ -n "$g1" ] && [ -n "$g2" ]; then
    grep -q '"backend": "cuda"' "$g1/config.json" && ok || bad "the cuda run's config.json does not say backend cuda"
    # round, accuracy (cpu), accuracy (cuda): every round within 0.01 (one point of accuracy)
    paste -d, "$c1/curve.csv" "$g1/curve.csv" | tail -n +2 |
        awk -F, -v nf="$(head -n 1 "$c1/curve.csv" | awk -F, '{print NF}')" '
            { d = $3 - $(nf + 3); if (d < 0) d = -d; if (d > worst) worst = d
              printf "  round %2d: labels %4d, accuracy cpu %.4f cuda %.4f\n", $1, $2, $3, $(nf + 3)
              if (d > 0.01 + 1e-9) badr++ }
            END { printf "  largest gap %.4f (allowed 0.01)\n", worst; exit badr > 0 }' && ok ||
        bad "CPU and CUDA learning curves differ by more than 1 accuracy point in some round"
    cut -d, -f1,2,7-9 "$c1/curve.csv" >"$T/budget.cpu"; cut -d, -f1,2,7-9 "$g1/curve.csv" >"$T/budget.cuda"
    cmp -s "$T/budget.cpu" "$T/budget.cuda" && ok || bad "CPU and CUDA runs got different budgets"
    cmp -s "$g1/curve.csv" "$g2/curve.csv" && ok || bad "the same CUDA run twice: curve.csv differs"
    cmp -s "$g1/rounds.jsonl" "$g2/rounds.jsonl" && ok || bad "the same CUDA run twice: rounds.jsonl differs"
    same=$(paste -d'\n' "$c1/rounds.jsonl" "$g1/rounds.jsonl" | awk 'NR % 2 { a = $0; next } { if (a == $0) n++ } END { print n + 0 }')
    echo "  rounds whose picks and labels are identical on CPU and CUDA: $same of $(wc -l <"$c1/rounds.jsonl")"
else
    bad "a run folder is missing"
fi
# --- 4. the CNN: the same BALD run on a 1,000-row MNIST slice, CPU and CUDA ------------
C="--dataset mnist --model cnn --pool-size 1000 --test-size 1000 --rounds 4 --batch 10 --epochs 10 --mc 10 --strategy bald --seed 3 --quiet"
for dev in cpu cuda cuda2; do
    "$ALSIM" $C --device "${dev%2}" --out "$T/cnn-$dev" || bad "alsim --model cnn --device ${dev%2} exited $?"
done
c1=$(ls -d "$T"/cnn-cpu/*/ 2>/dev/null | head -n 1); g1=$(ls -d "$T"/cnn-cuda/*/ 2>/dev/null | head -n 1)
g2=$(ls -d "$T"/cnn-cuda2/*/ 2>/dev/null | head -n 1)
if [ -n "$c1" ] && [ -n "$g1" ] && [ -n "$g2" ]; then
    paste -d, "$c1/curve.csv" "$g1/curve.csv" | tail -n +2 |
        awk -F, -v nf="$(head -n 1 "$c1/curve.csv" | awk -F, '{print NF}')" '
            { d = $3 - $(nf + 3); if (d < 0) d = -d; if (d > worst) worst = d
              printf "  cnn round %2d: labels %4d, accuracy cpu %.4f cuda %.4f\n", $1, $2, $3, $(nf + 3)
              if (d > 0.02 + 1e-9) badr++ }
            END { printf "  cnn: largest gap %.4f (allowed 0.02)\n", worst; exit badr > 0 }' && ok ||
        bad "CNN: CPU and CUDA learning curves differ by more than 2 accuracy points in some round"
    cut -d, -f1,2,7-9 "$c1/curve.csv" >"$T/cnn-budget.cpu"; cut -d, -f1,2,7-9 "$g1/curve.csv" >"$T/cnn-budget.cuda"
    cmp -s "$T/cnn-budget.cpu" "$T/cnn-budget.cuda" && ok || bad "CNN: CPU and CUDA runs got different budgets"
    cmp -s "$g1/curve.csv" "$g2/curve.csv" && ok || bad "CNN: the same CUDA run twice: curve.csv differs"
else
    bad "a CNN run folder is missing"
fi
echo "e2e-cuda: $passed passed, $failed failed"
[ "$units" -eq 0 ] && [ "$failed" -eq 0 ]
