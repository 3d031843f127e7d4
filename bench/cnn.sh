#!/bin/sh
# bench/cnn.sh — --model cnn (Gal et al. 2017's CNN on MNIST) against PyTorch, phase by phase of
# one active-learning round, on the same cores: bench_cnn (alsim, CPU backend) and
# bench/peers/torch_cnn.py (PyTorch written as its users write it: plain MC dropout, and with
# the convolutional trunk computed once per batch). Prints a markdown section on stdout with
# the issue-14 targets marked met or not. Not a test. About 10 minutes on 2 cores, most of it
# PyTorch's plain scoring pass.
#
#   sh bench/cnn.sh            the section alone (bench/run.sh calls it so)
#   sh bench/cnn.sh --record   the section under run.sh's dated header (machine, date, commit),
#                              also appended to bench/RESULTS.md
#
# Environment: BENCH_BIN (default build/bench), OUT scratch folder (default bench/out),
# PYTHON the Python with torch (default /usr/bin/python3: Debian's python3-torch).
set -u
. bench/lib.sh
bench_init cnn
MNIST="${ALSIM_DATA:-$HOME/.cache/alsim}/mnist"

section() {
    echo "### CNN (Gal et al. 2017) round: alsim against PyTorch"
    echo
    echo "Same work on both sides: MNIST 1×28×28, the CNN conv 32 4×4 → ReLU → conv 32 4×4 → ReLU →"
    echo "max-pool 2×2 → dropout 0.25 → dense 128 → ReLU → dropout 0.5 → dense 10 → softmax. **Train n**:"
    echo "fresh weights fit on the first n pool rows for 50 epochs of minibatch 128 (50·ceil(n/128) Adam"
    echo "steps, lr 1e-3, no weight decay), n = 20, 110, 520 (rounds 0, 9, 50 of 10 acquisitions a round"
    echo "from 20 labels). **Score**: T = 100 MC-dropout samples of the first 2,000 pool rows, then BALD."
    echo "alsim: \`bench_cnn\` (sim/cnn.h on the CPU backend; the trunk once per 256-row chunk, the head"
    echo "T times). PyTorch: \`bench/peers/torch_cnn.py\`, an nn.Module and torch.optim.Adam; *plain*:"
    echo "model.train() and T whole forward passes per 256-row batch under torch.no_grad(); *trunk reuse*:"
    echo "the convolutions and pooling once per batch, T passes of the head. Medians (alsim: 5 repetitions,"
    echo "3 for n = 520; PyTorch: 5, 3 for n = 520, 1 for the plain pass, which takes minutes)."
    echo "Load average before: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores: above ~2 another process shares them)."
    echo
    echo "#### alsim: bench_cnn"
    echo
    if ! "$BENCH_BIN/bench_cnn" "$KV"; then
        echo "(bench_cnn failed)"
        return 0
    fi
    echo
    have_torch=0
    "$PYTHON" -c 'import numpy, torch' 2>/dev/null && have_torch=1
    if [ "$have_torch" = 1 ] && [ -d "$MNIST" ]; then
        (cd bench/peers && "$PYTHON" torch_cnn.py --data "$MNIST" --threads 2) >"$OUT/torch_cnn.json" \
            2>"$OUT/torch_cnn.err" || echo "(torch_cnn.py failed: $OUT/torch_cnn.err)"
        "$PYTHON" -c 'import json, sys
d = json.loads(open(sys.argv[1]).read())
for k, v in d.items():
    if isinstance(v, (int, float)): print("torch_" + k, v)
print("torch_version", d["torch"])' "$OUT/torch_cnn.json" >>"$KV" 2>/dev/null
    fi
    echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    echo "#### Per phase"
    echo
    if [ -z "$(kv torch_score_reuse_s)" ]; then
        echo "(PyTorch skipped: $PYTHON lacks torch or numpy, or MNIST is not cached: \`make bench-setup\`)"
        return 0
    fi
    echo "PyTorch $(kv torch_version), \`torch.get_num_threads()\` = $(kv torch_threads)."
    echo
    echo "| phase | alsim s | PyTorch plain s | PyTorch trunk-reuse s | plain / alsim | trunk-reuse / alsim |"
    echo "|---|---|---|---|---|---|"
    for n in 20 110 520; do
        awk -v n="$n" -v a="$(kv train_n${n}_s)" -v p="$(kv torch_train_n${n}_s)" 'BEGIN {
            printf "| train, n = %d (%d steps) | %.3f | %.3f | – | %.2f× | – |\n", n, 50 * int((n + 127) / 128), a, p, p / a }'
    done
    awk -v a="$(kv score_s)" -v p="$(kv torch_score_plain_s)" -v r="$(kv torch_score_reuse_s)" 'BEGIN {
        printf "| score, T = 100, 2,000 rows, BALD | %.3f | %.2f | %.2f | %.1f× | %.2f× |\n", a, p, r, p / a, r / a }'
    echo
    echo "#### Targets (issue 14), from this run"
    echo
    awk -v a20="$(kv train_n20_s)" -v a110="$(kv train_n110_s)" -v a520="$(kv train_n520_s)" \
        -v p20="$(kv torch_train_n20_s)" -v p110="$(kv torch_train_n110_s)" -v p520="$(kv torch_train_n520_s)" \
        -v as="$(kv score_s)" -v ps="$(kv torch_score_plain_s)" -v rs="$(kv torch_score_reuse_s)" \
        -v sq="$(kv sgemm_square_gflops)" -v cf="$(kv conv_fwd_gflops)" -v cb="$(kv conv_bwd_gflops)" 'BEGIN {
        yn = "yes"; no = "**no**"
        print "| target | measured | met |\n|---|---|---|"
        printf "| scoring pass ≥ 10× faster than plain PyTorch | %.1f× (%.2f s against %.3f s) | %s |\n", ps / as, ps, as, (ps / as >= 10 ? yn : no)
        printf "| scoring pass ≥ 2× faster than PyTorch with trunk reuse | %.2f× (%.2f s against %.3f s) | %s |\n", rs / as, rs, as, (rs / as >= 2 ? yn : no)
        lo = p20 / a20; if (p110 / a110 < lo) lo = p110 / a110; if (p520 / a520 < lo) lo = p520 / a520
        printf "| training ≥ 2× faster (each n) | %.2f×, %.2f×, %.2f× at n = 20, 110, 520 | %s |\n", p20 / a20, p110 / a110, p520 / a520, (lo >= 2 ? yn : no)
        printf "| the conv layers'\'' gemms ≥ 60%% of the sgemm rate: forward (conv2d_forward, both convolutions) | %.1f of %.1f GFLOP/s = %.0f%% | %s |\n", cf, sq, 100 * cf / sq, (cf / sq >= 0.6 ? yn : no)
        printf "| the same, backward (conv2d_backward, as a training step) | %.1f of %.1f GFLOP/s = %.0f%% | %s |\n", cb, sq, 100 * cb / sq, (cb / sq >= 0.6 ? yn : no)
    }'
}

if [ "${1:-}" = "--record" ]; then record cnn; else section; fi
