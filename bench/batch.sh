#!/bin/sh
# bench/batch.sh — the batch-aware strategies' selection step (issue 15): bench_batch (alsim:
# batchbald, badge, coreset, power-bald, top-b bald against pool size and b, T = 100) and
# bench/peers/torch_batchbald.py (BatchBALD's greedy selection in plain PyTorch, as the paper's
# released code computes it) on the same MC samples, and the target: alsim's batchbald
# >= 5x faster than PyTorch at b = 10, T = 100, pool 2,000. Prints a markdown section. Not a
# test. About 8 minutes on 2 cores: alsim's batchbald at b = 40 (3 x ~55 s) and one PyTorch
# selection (~3.5 min).
#
#   sh bench/batch.sh            the section alone (bench/run.sh calls it so)
#   sh bench/batch.sh --record   the section under run.sh's dated header (machine, date,
#                                commit), also appended to bench/RESULTS.md
#
# Environment: BENCH_BIN (default build/bench), OUT scratch folder (default bench/out), PYTHON
# the Python with torch (default /usr/bin/python3: Debian's python3-torch), REPS alsim's
# repetitions (default 3), TORCH_REPS PyTorch's (default 1: minutes each).
set -u
. bench/lib.sh
bench_init batch

section() {
    echo "### Batch-aware selection: the selection step alone, and BatchBALD against PyTorch"
    echo
    echo "Synthetic MC-dropout samples (bench_batch: T = 100, K = 10, most rows confident, some not),"
    echo "probabilities their mean, H = 128 embeddings, 20 labeled rows. Each figure: the strategy's"
    echo "selection of b rows from the pool alone (for power-bald and bald: scoring the pool, then top b)."
    echo "batchbald: exact joint entropy while K^i <= 10,000 configurations, 10,000 sampled beyond."
    echo "Load average before: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores: above ~2 another process shares them)."
    echo
    echo "#### alsim: bench_batch"
    echo
    if ! REPS="${REPS:-3}" "$BENCH_BIN/bench_batch" "$OUT"; then
        echo "(bench_batch failed)"
        return 0
    fi
    echo
    echo "#### BatchBALD against PyTorch (b = 10, T = 100, pool 2,000, the same samples)"
    echo
    if ! "$PYTHON" -c 'import numpy, torch' 2>/dev/null; then
        echo "(PyTorch skipped: $PYTHON lacks torch or numpy: \`make bench-setup\`)"
        return 0
    fi
    if ! "$PYTHON" bench/peers/torch_batchbald.py "$OUT/batch_mc.bin" --batch 10 --threads 2 \
            --reps "${TORCH_REPS:-1}" --picks "$OUT/batch_picks.txt" >"$OUT/torch_batchbald.json" \
            2>"$OUT/torch_batchbald.err"; then
        echo "(torch_batchbald.py failed: $OUT/torch_batchbald.err)"
        return 0
    fi
    "$PYTHON" -c 'import json, sys
d = json.loads(open(sys.argv[1]).read())
for k, v in d.items():
    if isinstance(v, (int, float)): print("torch_" + k, v)
print("torch_version", d["torch"])' "$OUT/torch_batchbald.json" >>"$KV"
    echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "PyTorch $(kv torch_version), \`torch.get_num_threads()\` = $(kv torch_threads), $(kv torch_reps) repetition(s);"
    echo "bench/peers/torch_batchbald.py: the algorithm of BlackHC/batchbald_redux's get_batchbald_batch"
    echo "(one (configurations, T) x (T, K) matmul per candidate in chunks of 1,024 candidates, the"
    echo "configurations resampled afresh each sampled step). Picks: the $(kv torch_exact_picks) made from exact joint entropies"
    echo "agree in $(kv torch_same_exact_picks) of $(kv torch_exact_picks) with alsim's; $(kv torch_same_picks) of 10 rows in both batches (the sampled"
    echo "steps draw different configurations)."
    echo
    awk -v a="$(kv batchbald_2000_b10_s)" -v p="$(kv torch_median_s)" 'BEGIN {
        print "| selection | alsim s | PyTorch s | PyTorch / alsim | target ≥ 5× met |\n|---|---|---|---|---|"
        printf "| batchbald, b = 10, T = 100, pool 2,000 | %.2f | %.1f | %.1f× | %s |\n", a, p, p / a, (p / a >= 5 ? "yes" : "**no**") }'
}

if [ "${1:-}" = "--record" ]; then record batch; else section; fi
