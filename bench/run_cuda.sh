#!/bin/sh
# make bench-cuda: GPU benchmarks, appended to $RESULTS (default bench/RESULTS.md) as a dated
# section. Not a test. Skips, saying so, when no CUDA GPU is usable.
#   1. bench_cuda: cuBLAS sgemm rate, pool-scoring rows/s (T = 0, 20, 100 reduced on the
#      GPU, and T = 20 through the host path), training steps/s and samples/s;
#   2. the default BALD run, `alsim --device cuda --strategy bald --rounds 20`, per round;
#   3. the shape of the Gal et al. 2017 protocol (MNIST pool 60,000, T = 100, batch 10,
#      init 20, 100 rounds) for every strategy: GAL_ROUNDS rounds (default 10) are run and
#      the 100 rounds extrapolated from the measured seconds per training step (the steps of
#      round r are known: epochs·ceil((20 + 10r)/64)) and per scoring pass; round 0 (warm-up)
#      is left out of the rates; then BALD through all 100 rounds (GAL_FULL=0 skips it), which
#      checks the extrapolation;
#   4. the PyTorch peer (bench/peers/torch_al.py: the same loop on the same GPU) for the
#      default shape and the Gal shape with BALD, when $PYTHON has torch with CUDA: seconds
#      for rounds 1..R of each side (train + eval + score + select), and the ratio;
#   5. the CNN round of Gal et al. 2017 (--model cnn, T = 100 on a 2,000-image subset, 50
#      epochs of Adam at minibatch 128): alsim's rounds 0 and 9 and its scoring pass against
#      bench/peers/torch_cnn.py --device cuda (the same fits at 20 and 110 labels, the same
#      scoring pass, plain and with trunk reuse);
#   6. the BERT encoder's forward (bench_bert --device cuda) against bench/peers/bert_torch.py on
#      the same GPU, on random MiniLM-L6 and BERT-base folders (bench/make_bench_bert.py).
# Environment: ALSIM, BENCH_BIN (folder with bench_cuda), RESULTS, ALSIM_DATA (the MNIST cache;
# fetched on first use where there is a network), GAL_ROUNDS, PYTHON (default python3),
# BENCH_OUT (scratch folder). For a smoke test of this script without a GPU: BENCH_DEVICE=cpu
# BENCH_SMALL=1 (a 2,000-row pool, 3 epochs: the figures then mean nothing).
set -u
ALSIM=${ALSIM:-./alsim}
BENCH_BIN=${BENCH_BIN:-build/bench}
RESULTS=${RESULTS:-bench/RESULTS.md}
GAL_ROUNDS=${GAL_ROUNDS:-10}
PYTHON=${PYTHON:-python3}
OUT=${BENCH_OUT:-bench/out/cuda}
DEV=${BENCH_DEVICE:-cuda}
EPOCHS=50 SMALL="" TSMALL=""
if [ -n "${BENCH_SMALL:-}" ]; then
    EPOCHS=3 SMALL="--pool-size 2000 --test-size 1000 --epochs 3" TSMALL="--pool-size 2000 --epochs 3"
fi
TIMEV=""; [ -x /usr/bin/time ] && TIMEV="/usr/bin/time -v"
rm -rf "$OUT"
mkdir -p "$OUT"

if [ -n "${BENCH_SMALL:-}" ]; then
    echo "| device | $DEV (smoke test: bench_cuda not run) |" >"$OUT/core.md"
else
    "$BENCH_BIN/bench_cuda" "$DEV" >"$OUT/core.md" 2>"$OUT/core.err"
fi
if grep -q '| skipped:' "$OUT/core.md"; then
    echo "bench-cuda: skipped: $(sed 's/^| [a-z]* | skipped: //; s/ |$//' "$OUT/core.md")"
    exit 0
fi
device=$(grep '^| device |' "$OUT/core.md" | sed 's/^| device | //; s/ |$//')

# summarize RUN_DIR LABEL: one table row: rounds, s/step, score s/round, measured seconds for
# rounds 1..R, 100 rounds extrapolated, final accuracy
summarize() {
    paste -d, "$1/curve.csv" "$1/timings.csv" | tail -n +2 | awk -F, -v label="$2" -v epochs="$EPOCHS" '
        # curve: 1 round 2 n_labeled 3 accuracy ... 7 train_steps; timings: 10 round 11 train_s
        # 12 score_s 13 select_s 14 eval_s
        { R = $1; acc = $3
          if ($1 >= 1) { steps += $7; train += $11; ev += $14; nev++
                         measured += $11 + $12 + $13 + $14 }
          if ($1 >= 1 && $12 > 0) { score += $12; sel += $13; nsc++ }
          if ($1 == 0) { score0 = $12; sel0 = $13 } }
        END {
            if (nsc == 0) { score = score0; sel = sel0; nsc = 1 }
            sps = steps > 0 ? train / steps : 0
            total_steps = 0
            for (r = 0; r <= 100; r++) total_steps += epochs * int((20 + 10 * r + 63) / 64)
            extra = sps * total_steps + 100 * (score + sel) / nsc + 101 * (nev ? ev / nev : 0)
            printf "| %s | %d | %.2f | %.4f | %.4f | %.2f | %.1f | %.4f |\n", label, R,
                   1000 * sps, score / nsc, sel / nsc, measured, extra, acc }'
}

{
    echo
    echo "## $(date -u +%Y-%m-%d) — $("$ALSIM" --version 2>/dev/null || echo "alsim (version unknown)") — CUDA (make bench-cuda)"
    echo
    echo "GPU: $device. Host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')."
    echo
    echo "### Core: sgemm, pool scoring, training (bench_cuda)"
    echo
    cat "$OUT/core.md"
    echo
} >"$OUT/section.md"

# --- 2. the default BALD run ------------------------------------------------------------
"$ALSIM" datasets fetch mnist >/dev/null 2>&1 || true   # fetch, outside the timing
t0=$(date +%s.%N)
$TIMEV timeout 300 "$ALSIM" --device "$DEV" --strategy bald --rounds 20 $SMALL --out "$OUT/default" \
    2>"$OUT/default.time" >/dev/null
wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
run=$(ls -d "$OUT"/default/*/ 2>/dev/null | head -n 1)
{
    echo "### Default BALD run: \`alsim --device cuda --strategy bald --rounds 20\` (MNIST, pool 60,000, T = 20)"
    echo
    if [ -n "$run" ]; then
        echo "| round | labels | train s | score s | select s | eval s | accuracy |"
        echo "|---|---|---|---|---|---|---|"
        paste -d, "$run/curve.csv" "$run/timings.csv" | tail -n +2 |
            awk -F, '{printf "| %d | %d | %.3f | %.3f | %.4f | %.3f | %.4f |\n", $1, $2, $11, $12, $13, $14, $3}'
        tail -n +2 "$run/timings.csv" | awk -F, '{t+=$2; s+=$3; x+=$4; e+=$5} END {printf "| **sum** | | %.2f | %.2f | %.3f | %.2f | |\n", t, s, x, e}'
        echo
        echo "Whole run (process wall clock, data loading and CUDA start-up included): **$wall s**$( [ -n "$TIMEV" ] && awk -F': ' '/Maximum resident set size/ {printf "; peak host memory (max RSS): **%.0f MiB**", $2 / 1024}' "$OUT/default.time")."
    else
        echo "The run failed: $(tail -n 3 "$OUT/default.time" | tr '\n' ' ')"
    fi
    echo
} >>"$OUT/section.md"

# --- 3. the Gal et al. 2017 shape, every strategy ----------------------------------------
{
    echo "### The Gal et al. 2017 protocol shape: MNIST pool 60,000, T = 100, 100 rounds of 10 from 20 labels"
    echo
    echo "$GAL_ROUNDS of the 100 rounds run per strategy; the 100 are extrapolated from the measured"
    echo "ms per training step and seconds per scoring pass of rounds 1..$GAL_ROUNDS (round 0 is warm-up), with"
    echo "the known budget of each round (50 epochs of ceil(n/64) steps, n = 20 + 10r). The model is the MLP"
    echo "784-512-10 with dropout 0.5 (the paper used a CNN), so this is the protocol's shape, not its figure."
    echo
    echo "| strategy | rounds run | ms / step | score s / round | select s / round | measured s, rounds 1..R | 100 rounds, s (extrapolated) | accuracy at R |"
    echo "|---|---|---|---|---|---|---|---|"
} >>"$OUT/section.md"
for s in $("$ALSIM" --list | awk '{print $1}'); do
    timeout 300 "$ALSIM" --device "$DEV" --strategy "$s" --mc 100 --rounds "$GAL_ROUNDS" $SMALL --quiet \
        --out "$OUT/gal-$s" >/dev/null 2>"$OUT/gal-$s.err"
    d=$(ls -d "$OUT/gal-$s"/*/ 2>/dev/null | head -n 1)
    if [ -n "$d" ]; then summarize "$d" "$s" >>"$OUT/section.md"
    else echo "| $s | failed: $(head -c 200 "$OUT/gal-$s.err") | | | | | | |" >>"$OUT/section.md"; fi
done
# and BALD through all 100 rounds, measured, to check the extrapolation (GAL_FULL=0: skip)
if [ "${GAL_FULL:-1}" != 0 ]; then
    timeout 240 "$ALSIM" --device "$DEV" --strategy bald --mc 100 --rounds 100 $SMALL --quiet \
        --out "$OUT/galfull" >/dev/null 2>"$OUT/galfull.err"
    d=$(ls -d "$OUT/galfull"/*/ 2>/dev/null | head -n 1)
    if [ -n "$d" ]; then summarize "$d" "bald, all 100 rounds run" >>"$OUT/section.md"
    else echo "| bald, all 100 rounds | did not finish in 240 s: $(head -c 200 "$OUT/galfull.err") | | | | | | |" >>"$OUT/section.md"; fi
fi
echo >>"$OUT/section.md"

# --- 4. PyTorch on the same GPU ----------------------------------------------------------
# peer_vs ID LABEL ALSIM_RUN_DIR ROUNDS MC: one row comparing rounds 1..R of both sides
peer_vs() {
    timeout 300 "$PYTHON" bench/peers/torch_al.py --data "$MNIST" --device "$DEV" --strategy bald \
        --rounds "$4" --mc "$5" $TSMALL >"$OUT/torch-$1.jsonl" 2>"$OUT/torch-$1.err"
    a=$(tail -n +2 "$3/timings.csv" 2>/dev/null | awk -F, '$1 >= 1 {s += $2 + $3 + $4 + $5} END {printf "%.3f", s}')
    "$PYTHON" - "$OUT/torch-$1.jsonl" "$2" "${a:-0}" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
rounds = [r for r in rows if "round" in r and r["round"] >= 1]
a = float(sys.argv[3])
if not rounds or a <= 0:
    print(f"| {sys.argv[2]} | {a:.3f} | failed (see torch-*.err) | |")
    sys.exit()
t = sum(r["train_s"] + r["eval_s"] + r["score_s"] + r["select_s"] for r in rounds)
tr = sum(r["train_s"] for r in rounds); sc = sum(r["score_s"] for r in rounds)
print(f"| {sys.argv[2]} | {a:.3f} | {t:.3f} (train {tr:.3f}, score {sc:.3f}) | {t / a:.1f}x |")
EOF
}
MNIST=${ALSIM_DATA:-$HOME/.cache/alsim}/mnist
if [ "$DEV" = cuda ]; then want_torch='import torch, sys; sys.exit(not torch.cuda.is_available())'
else want_torch='import torch'; fi
if "$PYTHON" -c "$want_torch" 2>/dev/null; then
    tv=$("$PYTHON" -c 'import torch; print(torch.__version__)')
    {
        echo "### PyTorch $tv on the same device (bench/peers/torch_al.py): BALD, the same loop and budgets"
        echo
        echo "Seconds for rounds 1..R (round 0, with each side's warm-up, left out): train + eval + score +"
        echo "select. PyTorch keeps the pool on the GPU and uses the fused AdamW; alsim uploads each scoring"
        echo "chunk every round. fp32 on both sides (TF32 off)."
        echo
        echo "| shape | alsim s | PyTorch s | alsim faster by |"
        echo "|---|---|---|---|"
        peer_vs default "default (T = 20, 20 rounds)" "$run" 20 20
        peer_vs gal "Gal shape (T = 100, $GAL_ROUNDS rounds)" "$(ls -d "$OUT/gal-bald"/*/ 2>/dev/null | head -n 1)" "$GAL_ROUNDS" 100
        d=$(ls -d "$OUT/galfull"/*/ 2>/dev/null | head -n 1)
        [ -n "$d" ] && peer_vs galfull "Gal shape (T = 100, all 100 rounds)" "$d" 100 100
        echo
    } >>"$OUT/section.md"
else
    echo "PyTorch peer: skipped ($PYTHON has no torch$( [ "$DEV" = cuda ] && echo ' with CUDA'))." >>"$OUT/section.md"
    echo >>"$OUT/section.md"
fi

# --- 5. the CNN round (Gal et al. 2017) against PyTorch on the same GPU ---------------------
CNN_T=100 CNN_SUB=2000 CNN_SMALL=""
[ -n "${BENCH_SMALL:-}" ] && CNN_T=5 CNN_SUB=200 CNN_SMALL="--test-size 1000"
CNN_OPTS="--model cnn --init 20 --batch 10 --mc $CNN_T --pool-subset $CNN_SUB --minibatch 128 --lr 0.001 --weight-decay 0 $CNN_SMALL"
timeout 600 "$ALSIM" --device "$DEV" --dataset mnist --strategy bald $CNN_OPTS --epochs "$EPOCHS" --rounds 10 \
    --quiet --out "$OUT/cnn" >/dev/null 2>"$OUT/cnn.err"
d=$(ls -d "$OUT/cnn"/*/ 2>/dev/null | head -n 1)
{
    echo "### The CNN round (Gal et al. 2017: --model cnn, T = $CNN_T on $CNN_SUB images, $EPOCHS epochs) against PyTorch"
    echo
    if [ -z "$d" ]; then
        echo "alsim --model cnn did not finish in 600 s: $(head -c 300 "$OUT/cnn.err")"
    else
        # rounds 0 (20 labels, with the device's warm-up) and 9 (110 labels); the median scoring pass
        a20=$(awk -F, '$1 == 0 {print $2}' "$d/timings.csv"); a110=$(awk -F, '$1 == 9 {print $2}' "$d/timings.csv")
        asc=$(awk -F, 'NR > 1 && $1 >= 1 && $3 > 0 {print $3}' "$d/timings.csv" | sort -g |
              awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
        if "$PYTHON" -c "$want_torch" 2>/dev/null; then
            timeout 900 "$PYTHON" bench/peers/torch_cnn.py --data "$MNIST" --device "$DEV" --epochs "$EPOCHS" \
                --sizes 20,110 --mc "$CNN_T" --pool "$CNN_SUB" --reps 3 --reps-plain 1 >"$OUT/torch-cnn.json" 2>"$OUT/torch-cnn.err"
        fi
        python3 - "$OUT/torch-cnn.json" "${a20:-0}" "${a110:-0}" "${asc:-0}" <<'EOF'
import json, sys
try:
    t = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
except Exception:
    t = {}
a20, a110, asc = (float(v) for v in sys.argv[2:5])
def row(what, a, p):
    ratio = f"{p / a:.2f}x" if a > 0 and p else "n/a"
    print(f"| {what} | {a:.3f} | {f'{p:.3f}' if p else 'n/a (see torch-cnn.err)'} | {ratio} |")
print("| phase | alsim s | PyTorch s | PyTorch / alsim |")
print("|---|---|---|---|")
row("train, 20 labels (alsim's round 0, with its warm-up)", a20, t.get("train_n20_s"))
row("train, 110 labels (alsim's round 9)", a110, t.get("train_n110_s"))
row("the scoring pass and BALD: against PyTorch plain", asc, t.get("score_plain_s"))
row("the scoring pass and BALD: against PyTorch with trunk reuse", asc, t.get("score_reuse_s"))
EOF
    fi
    echo
} >>"$OUT/section.md"

# 6. the BERT encoder's forward (bench_bert --device) against PyTorch's on the same GPU, on the
# random MiniLM-L6 and BERT-base folders bench/make_bench_bert.py writes (torch needed for them)
{
    echo "### The BERT encoder's forward on the GPU against PyTorch (bench_bert, bench/peers/bert_torch.py)"
    echo
    echo "| shape | alsim tokens/s | PyTorch tokens/s | alsim / PyTorch |"
    echo "|---|---|---|---|"
    for shape in minilm base; do
        dir="$OUT/bert-$shape"
        if ! "$PYTHON" bench/make_bench_bert.py "$dir" --shape "$shape" >"$OUT/bert-$shape.make.log" 2>&1; then
            echo "| $shape | n/a: no model folder ($PYTHON with torch writes it; $OUT/bert-$shape.make.log) | | |"
            continue
        fi
        "$BENCH_BIN/bench_bert" --device "$DEV" --batch 64 --tokens 128 --reps 5 --ids "$OUT/bert-$shape.ids" \
            --kv "$OUT/bert-$shape.kv" "$dir" >"$OUT/bert-$shape.md" 2>"$OUT/bert-$shape.err"
        "$PYTHON" bench/peers/bert_torch.py --model "$dir" --ids "$OUT/bert-$shape.ids" --batch 64 --tokens 128 \
            --reps 5 --device "$DEV" >"$OUT/bert-$shape.torch.json" 2>"$OUT/bert-$shape.torch.err"
        a=$(sed -n 's/^tokens_per_s //p' "$OUT/bert-$shape.kv" 2>/dev/null)
        p=$(sed -n 's/.*"tokens_per_s": \([0-9.e+]*\).*/\1/p' "$OUT/bert-$shape.torch.json" 2>/dev/null)
        awk -v s="$shape" -v a="${a:-0}" -v p="${p:-0}" 'BEGIN {
            printf "| %s | %s | %s | %s |\n", s, a > 0 ? sprintf("%.0f", a) : "n/a", p > 0 ? sprintf("%.0f", p) : "n/a",
                   a > 0 && p > 0 ? sprintf("%.2f×", a / p) : "n/a" }'
    done
    echo
    echo "64 sequences × 128 tokens, random ids, fp32 on both sides (TF32 off); medians of 5 after a warm-up."
    echo
} >>"$OUT/section.md"

cat "$OUT/section.md"
[ -f "$RESULTS" ] || printf '# Benchmark results\n\nEach section is one `make bench` run, appended by bench/run.sh.\n' >"$RESULTS"
cat "$OUT/section.md" >>"$RESULTS"
echo "bench-cuda: appended to $RESULTS" >&2
