#!/bin/sh
# make bench: the core benchmark (sgemm rate, pool pass, training and per-strategy scoring
# throughput), the text and loader benchmarks, the default BALD run on MNIST, --model logreg
# against scikit-learn (bench/logreg_fit.sh, bench/logreg_vs_sklearn.sh), --model cnn against
# PyTorch (bench/cnn.sh, about 10 minutes of the total), the BERT encoder against PyTorch and a
# round with each --finetune (bench/bert.sh, about 8 minutes), the batch-aware strategies' selection
# and BatchBALD against PyTorch (bench/batch.sh, about 8 minutes), then bench/run_perf.sh (the
# PyTorch and scikit-learn/NumPy peers per phase, peak memory, the scale curve to 1,000,000 rows
# with bench/scale.png, the issue-7 targets), appended to bench/RESULTS.md as a dated section
# (machine, date, commit). Not a test. About 35 minutes.
set -eu
ALSIM=${ALSIM:-./alsim}
BENCH_BIN=${BENCH_BIN:-build/bench}
. bench/lib.sh      # results_header
OUT=bench/out
mkdir -p "$OUT"
rm -rf "$OUT/runs"

{
    results_header
    echo "### Core: sgemm rate and the pool-scoring pass"
    echo
    "$BENCH_BIN/bench_core" "$OUT/core.kv"
    echo
    echo "### Text: the SpamAssassin featurizer and the default sparse learner"
    echo
    if "$ALSIM" datasets fetch spamassassin >/dev/null 2>&1; then "$BENCH_BIN/bench_text"
    else echo "(skipped: spamassassin could not be fetched)"; fi
    echo
    echo "### Your own data: load throughput and peak memory per format (bench_load)"
    echo
    "$BENCH_BIN/bench_load" || echo "(bench_load: a check failed; see the table)"
    echo
    echo "### Default BALD run: \`alsim --strategy bald --rounds 20\` (MNIST, pool 60,000, T = 20)"
    echo
} >"$OUT/section.md"

"$ALSIM" --dataset mnist --quiet --out "$OUT/runs" 2>/dev/null || true   # fetch outside the timing
rm -rf "$OUT/runs"
/usr/bin/time -v "$ALSIM" --strategy bald --rounds 20 --out "$OUT/runs" 2>"$OUT/time.txt" >/dev/null
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$OUT/time.txt")
rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$OUT/time.txt")
run=$(ls -d "$OUT"/runs/*/)
{
    echo "| round | train s | score s | select s | eval s |"
    echo "|---|---|---|---|---|"
    tail -n +2 "$run/timings.csv" | awk -F, '{printf "| %d | %.3f | %.3f | %.4f | %.3f |\n", $1, $2, $3, $4, $5}'
    tail -n +2 "$run/timings.csv" | awk -F, '{t+=$2; s+=$3; x+=$4; e+=$5} END {printf "| **sum** | %.2f | %.2f | %.3f | %.2f |\n", t, s, x, e}'
    echo
    echo "Whole run (process wall clock, data loading included): **$wall**; peak memory (max RSS): **$rss MiB**."
    echo "Final accuracy: $(tail -n 1 "$run/curve.csv" | cut -d, -f3) at $(tail -n 1 "$run/curve.csv" | cut -d, -f2) labels."
} >>"$OUT/section.md"
echo >>"$OUT/section.md"
# --model logreg against scikit-learn's LogisticRegression: one fit's seconds, and the random
# strategy's AULC through the same protocol
{
    echo "### logreg: one fit, alsim against scikit-learn (bench/logreg_fit.sh)"
    echo
    ALSIM="$ALSIM" sh bench/logreg_fit.sh
    echo
    echo "### logreg: the random strategy's AULC, alsim against scikit-learn by the same protocol (bench/logreg_vs_sklearn.sh)"
    echo
    ALSIM="$ALSIM" sh bench/logreg_vs_sklearn.sh 2>&1 || echo "(bench/logreg_vs_sklearn.sh failed)"
    echo
} >>"$OUT/section.md"
# --model cnn against PyTorch, phase by phase (alone: sh bench/cnn.sh --record)
BENCH_BIN="$BENCH_BIN" OUT="$OUT" sh bench/cnn.sh >>"$OUT/section.md"
echo >>"$OUT/section.md"
# The BERT encoder against PyTorch and a round with each --finetune (alone: sh bench/bert.sh --record)
ALSIM="$ALSIM" BENCH_BIN="$BENCH_BIN" OUT="$OUT" sh bench/bert.sh >>"$OUT/section.md"
echo >>"$OUT/section.md"
# The batch-aware strategies' selection step, batchbald against PyTorch (alone: sh bench/batch.sh --record)
BENCH_BIN="$BENCH_BIN" OUT="$OUT" sh bench/batch.sh >>"$OUT/section.md"
echo >>"$OUT/section.md"
# The peers (PyTorch, scikit-learn/NumPy) per phase, peak memory, the scale curve, the targets
ALSIM="$ALSIM" OUT="$OUT" RUN="$run" TIMEV="$OUT/time.txt" sh bench/run_perf.sh >>"$OUT/section.md"

cat "$OUT/section.md"
[ -f bench/RESULTS.md ] || printf '# Benchmark results\n\nEach section is one `make bench` run, appended by bench/run.sh.\n' >bench/RESULTS.md
cat "$OUT/section.md" >>bench/RESULTS.md
echo "bench: appended to bench/RESULTS.md" >&2
