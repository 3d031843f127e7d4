#!/bin/sh
# bench/run_perf.sh — the second half of `make bench` (called by bench/run.sh after the default
# BALD run): alsim against its Python peers per phase of a round, peak memory against its
# bound, seconds per round against pool size up to 1,000,000 rows (with a gnuplot figure in
# bench/), and the issue-7 targets table. Prints markdown on stdout. Not a test.
#
# Environment (bench/run.sh sets the first four):
#   ALSIM         the binary;  OUT  scratch folder (bench/out);  RUN  the default BALD run's folder
#   TIMEV         /usr/bin/time -v output of that run (peak memory)
#   PYTHON        the Python with torch, numpy and scikit-learn (default /usr/bin/python3:
#                 Debian's, where `make bench-setup` installs python3-torch, -sklearn, -numpy)
#   PEER_ROUNDS   rounds of the peer comparisons (default 10: rounds 1..9 are compared)
#   SCALE_SIZES   pool sizes of the scale curve (default 10000 30000 100000 300000 1000000)
#   FIG_DIR       where the scale figure goes (default bench)
set -u
ALSIM=${ALSIM:-./alsim}
OUT=${OUT:-bench/out}
PYTHON=${PYTHON:-/usr/bin/python3}
PEER_ROUNDS=${PEER_ROUNDS:-10}
SCALE_SIZES=${SCALE_SIZES:-10000 30000 100000 300000 1000000}
FIG_DIR=${FIG_DIR:-bench}
KV="$OUT/perf.kv"
MNIST="${ALSIM_DATA:-$HOME/.cache/alsim}/mnist"
LAST=$((PEER_ROUNDS - 1))            # the last round with a scoring pass
: >"$KV"
[ -f "$OUT/core.kv" ] && cat "$OUT/core.kv" >>"$KV"
kv() { awk -v k="$1" '$1 == k {v = $2} END {print v}' "$KV"; }
maxrss_mib() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"; }

# All Python on 2 threads, like alsim on the 2 cores (OpenBLAS under NumPy, torch's intra-op).
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2} OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
have_torch=0 have_sklearn=0
"$PYTHON" -c 'import numpy, torch' 2>/dev/null && have_torch=1
"$PYTHON" -c 'import numpy, sklearn' 2>/dev/null && have_sklearn=1

# --- 1. alsim vs PyTorch: the default MLP with MC dropout, BALD ---------------------------
echo "### Per AL round: alsim against a PyTorch MC-dropout loop (BALD, T = 20)"
echo
echo "Same work: MNIST, pool 60,000, test 10,000, MLP 784-512-10, dropout 0.5, retrained from the"
echo "same initial weights every round for 50·ceil(n/64) AdamW steps of min(64, n) rows (lr 1e-3,"
echo "weight decay 1e-4), T = 20 MC samples of the whole pool (first layer once), BALD, batch 10,"
echo "init 20; rounds 1–$LAST of each side (labeled 30–$((20 + 10 * LAST))), round 0's warm-up left out."
echo "alsim: the default BALD run above. PyTorch: \`bench/peers/torch_al.py --device cpu --threads 2\`"
echo "(a plain loop as a PyTorch user writes it; the same 2 cores)."
echo
if [ "$have_torch" = 1 ] && [ -d "$MNIST" ]; then
    "$PYTHON" bench/peers/torch_al.py --device cpu --threads 2 --data "$MNIST" --strategy bald \
        --rounds "$PEER_ROUNDS" --mc 20 >"$OUT/torch.jsonl" 2>"$OUT/torch.err"
    tv=$("$PYTHON" -c 'import torch; print(torch.__version__)' 2>/dev/null)
    echo "PyTorch $tv (\`torch.get_num_threads()\` = $(sed -n 's/.*"threads": \([0-9]*\).*/\1/p' "$OUT/torch.jsonl"))."
    echo
    "$PYTHON" bench/peers/compare.py --alsim "$RUN" --peer "pytorch=$OUT/torch.jsonl" \
        --rounds "1-$LAST" --kv "$KV" --tag mlp_ || echo "(compare failed: $OUT/torch.err)"
else
    echo "(skipped: $PYTHON lacks torch or numpy, or MNIST is not cached: \`make bench-setup\`)"
fi
echo

# --- 2. alsim vs scikit-learn / NumPy: softmax regression, entropy ------------------------
echo "### Per AL round: alsim --hidden 0 against scikit-learn / NumPy (softmax regression, entropy)"
echo
echo "Same work: MNIST, softmax regression 784-10 (\`alsim --hidden 0 --strategy entropy --rounds $PEER_ROUNDS\`),"
echo "50·ceil(n/64) steps of min(64, n) rows per round from the same initial weights, entropy over"
echo "the whole pool, batch 10. \`numpy\`: bench/peers/sklearn_al.py's AdamW exactly as alsim's"
echo "(decoupled weight decay, the same steps and rows seen), vectorised NumPy on OpenBLAS (2 threads);"
echo "\`sklearn\`: MLPClassifier(hidden_layer_sizes=()) with its Adam, the same number of steps."
echo
rm -rf "$OUT/runs-h0"
"$ALSIM" --hidden 0 --strategy entropy --rounds "$PEER_ROUNDS" --quiet --out "$OUT/runs-h0" >/dev/null 2>&1
run_h0=$(ls -d "$OUT"/runs-h0/*/ 2>/dev/null | head -n 1)
if [ "$have_sklearn" = 1 ] && [ -n "$run_h0" ] && [ -d "$MNIST" ]; then
    for tr in numpy sklearn; do
        "$PYTHON" bench/peers/sklearn_al.py --trainer "$tr" --data "$MNIST" --strategy entropy \
            --rounds "$PEER_ROUNDS" >"$OUT/$tr.jsonl" 2>"$OUT/$tr.err"
    done
    echo "NumPy $("$PYTHON" -c 'import numpy; print(numpy.__version__)'), scikit-learn $("$PYTHON" -c 'import sklearn; print(sklearn.__version__)')."
    echo
    "$PYTHON" bench/peers/compare.py --alsim "$run_h0" --peer "numpy=$OUT/numpy.jsonl" \
        --peer "sklearn=$OUT/sklearn.jsonl" --rounds "1-$LAST" --kv "$KV" --tag lin_ \
        || echo "(compare failed: $OUT/numpy.err, $OUT/sklearn.err)"
else
    echo "(skipped: $PYTHON lacks numpy or scikit-learn, or the alsim run failed: \`make bench-setup\`)"
fi
echo

# --- 3. peak memory ------------------------------------------------------------------------
# The bound of issue 7: 1.5 × (dataset + model + one chunk of MC samples). Dataset: MNIST's
# 70,000 rows of 784 float32 and their int32 labels. Model: 407,050 parameters, with their
# gradients and Adam's m and v (4 floats each). One chunk of MC samples: T·4096·K floats.
echo "### Peak memory"
echo
base_log="$OUT/time-base.txt"
rm -rf "$OUT/runs-base"
/usr/bin/time -v "$ALSIM" --dataset synthetic:blobs:k=2,d=2,n=100,test=50 --strategy random \
    --rounds 1 --init 4 --batch 2 --quiet --out "$OUT/runs-base" >/dev/null 2>"$base_log"
peak=$(maxrss_mib "$TIMEV")
base=$(maxrss_mib "$base_log")
awk -v peak="$peak" -v base="$base" 'BEGIN {
    mib = 1048576
    data = (70000 * 784 * 4 + 70000 * 4) / mib
    model = 407050 * 4 * 4 / mib
    chunk = 20 * 4096 * 10 * 4 / mib
    bound = 1.5 * (data + model + chunk)
    own = peak - base
    printf "| what | MiB |\n|---|---|\n"
    printf "| dataset (MNIST pool + test, float32 rows, int32 labels) | %.1f |\n", data
    printf "| model (407,050 parameters: weights, gradients, Adam m and v) | %.1f |\n", model
    printf "| one chunk of MC samples (T = 20, 4,096 rows, K = 10) | %.1f |\n", chunk
    printf "| **bound**: 1.5 × their sum | **%.1f** |\n", bound
    printf "| peak RSS, the default BALD run (whole process) | %d |\n", peak
    printf "| the same binary with a 100-row dataset (code, libraries, runtimes) | %d |\n", base
    printf "| **alsim'\''s own peak**: the difference | **%d** (%.2f × the bound) |\n", own, own / bound
    printf "bound_mib %.2f\nmem_own_mib %d\nmem_peak_mib %d\nmem_base_mib %d\n", bound, own, peak, base > "/dev/stderr"
}' 2>>"$KV"
echo
if ldd "$ALSIM" 2>/dev/null | grep -q cublas; then
    echo "This binary links the CUDA backend: most of its start-up memory is cuBLAS and the CUDA runtime"
    echo "being loaded (a \`make CUDA=0\` binary starts near 25 MiB); alsim's own share is the difference."
fi
echo "The scoring pass holds one chunk of 4,096 rows (T·4,096·K floats of MC samples), whatever the"
echo "pool size: the scale runs below show the memory beyond the data staying flat up to 1,000,000 rows."
echo

# --- 4. scale: seconds per round against pool size ----------------------------------------
echo "### Scale: seconds per round against pool size (synthetic blobs, D = 384, K = 10, BALD, T = 20)"
echo
echo "\`alsim --dataset synthetic:blobs:k=10,d=384,n=N,test=2000 --strategy bald --rounds 2\`: the"
echo "model 384-512-10; per round (rounds 0 and 1, both with a scoring pass): train + score + select +"
echo "eval, mean of the two. Data = (N + 2,000) rows × 384 float32. Figure: bench/scale.png (.svg, .dat, .gp)."
echo
dat="$OUT/scale.dat"
echo "# pool_rows seconds_per_round score_s train_s peak_rss_mib data_mib rss_minus_data_mib" >"$dat"
for n in $SCALE_SIZES; do
    rm -rf "$OUT/runs-scale"
    /usr/bin/time -v "$ALSIM" --dataset "synthetic:blobs:k=10,d=384,n=$n,test=2000" --strategy bald \
        --rounds 2 --quiet --out "$OUT/runs-scale" >/dev/null 2>"$OUT/time-scale.txt" || continue
    r=$(ls -d "$OUT"/runs-scale/*/ | head -n 1)
    rss=$(maxrss_mib "$OUT/time-scale.txt")
    tail -n +2 "$r/timings.csv" | awk -F, -v n="$n" -v rss="$rss" '
        $1 < 2 { rd += $2 + $3 + $4 + $5; sc += $3; tr += $2; k++ }
        END { data = (n + 2000) * 384 * 4 / 1048576
              printf "%d %.4f %.4f %.4f %d %.1f %.1f\n", n, rd / k, sc / k, tr / k, rss, data, rss - data }' >>"$dat"
done
rm -rf "$OUT/runs-scale"
echo "| pool rows | s per round | score s | µs per pool row | peak RSS MiB | data MiB | RSS − data MiB |"
echo "|---|---|---|---|---|---|---|"
awk 'NR > 1 { printf "| %d | %.3f | %.3f | %.2f | %d | %.0f | %.0f |\n", $1, $2, $3, 1e6 * $2 / $1, $5, $6, $7 }' "$dat"
# log-log slope of seconds per round against rows (1 = linear), from the points >= 100,000 rows
# (below that the fixed per-round costs, training and the test set, still show)
awk 'NR > 1 && $1 >= 100000 { x = log($1); y = log($2); sx += x; sy += y; sxx += x * x; sxy += x * y; k++ }
     NR > 1 { if (!min || $7 < min) min = $7; if ($7 > max) max = $7; if ($1 > nmax) { nmax = $1; smax = $2 } }
     END { if (k >= 2) { b = (k * sxy - sx * sy) / (k * sxx - sx * sx)
                         printf "\nLog-log slope of seconds per round against pool rows (points from 100,000 rows): **%.2f** (1 is linear).\n", b
                         printf "scale_slope %.4f\n", b > "/dev/stderr" }
           printf "RSS beyond the data: %.0f to %.0f MiB across the sizes (the runtime and libraries, plus the per-row scores and flags, about 9 bytes a row).\n", min, max
           printf "scale_extra_min_mib %.1f\nscale_extra_max_mib %.1f\nscale_rows_max %d\nscale_s_max %.4f\n", min, max, nmax, smax > "/dev/stderr" }' "$dat" 2>>"$KV"
cp "$dat" "$FIG_DIR/scale.dat"
cat >"$FIG_DIR/scale.gp" <<'EOF'
# bench/scale.gp — seconds per AL round and peak memory against pool size (make bench writes
# scale.dat beside it; render again in this folder: gnuplot scale.gp)
reset
set encoding utf8
stats 'scale.dat' using 1:2 nooutput
ref(x) = STATS_max_y * x / STATS_max_x     # slope 1 through the largest pool: linear growth
do for [fmt in "png svg"] {
    if (fmt eq "png") {
        set terminal pngcairo size 1000,420 noenhanced font 'sans,10'
    } else {
        set terminal svg size 1000,420 noenhanced font 'sans,10' background '#ffffff'
    }
    set output 'scale.'.fmt
    set multiplot layout 1,2 title "alsim, CPU (2 cores): synthetic blobs D = 384, model 384-512-10, BALD T = 20"
    set logscale xy
    set grid
    set key top left
    set xlabel 'pool rows'
    set format x '%.0s%c'
    set ylabel 'seconds per round'
    plot 'scale.dat' using 1:2 with linespoints lw 2 pt 7 title 'train + score + select + eval', \
         '' using 1:3 with linespoints lw 1 pt 5 title 'score', \
         ref(x) with lines dt 2 lc 'gray' title 'linear'
    set ylabel 'MiB'
    plot 'scale.dat' using 1:5 with linespoints lw 2 pt 7 title 'peak RSS', \
         '' using 1:6 with linespoints lw 1 pt 5 title 'data (float32 rows)', \
         '' using 1:7 with linespoints lw 1 pt 9 title 'peak RSS - data'
    unset multiplot
    unset output
}
EOF
if command -v gnuplot >/dev/null 2>&1; then
    (cd "$FIG_DIR" && gnuplot scale.gp) 2>"$OUT/gnuplot.err" || echo "(gnuplot failed: $OUT/gnuplot.err)"
else
    echo "(gnuplot not found: bench/scale.dat and scale.gp written, no figure)"
fi
echo
echo "![seconds per round and memory against pool size](scale.png)"
echo

# --- 5. the targets ------------------------------------------------------------------------
echo "### Targets (issue 7), from this run"
echo
awk -v sp="$(kv mlp_speedup_pytorch_round)" -v lf="$(kv layer_frac_of_sgemm)" \
    -v lg="$(kv layer_gflops)" -v sg="$(kv sgemm_gflops)" -v own="$(kv mem_own_mib)" \
    -v bound="$(kv bound_mib)" -v slope="$(kv scale_slope)" -v emin="$(kv scale_extra_min_mib)" \
    -v emax="$(kv scale_extra_max_mib)" -v nmax="$(kv scale_rows_max)" -v smax="$(kv scale_s_max)" 'BEGIN {
    print "| target | measured | met |\n|---|---|---|"
    if (sp != "") printf "| per AL round ≥ 10× faster than the PyTorch loop (2 cores, same work) | %.1f× (median whole round, rounds 1–9) | %s |\n", sp, (sp >= 10 ? "yes" : "**no**")
    else print "| per AL round ≥ 10× faster than the PyTorch loop | not measured (no torch) | – |"
    printf "| the dominant pool-scoring layer ≥ 70%% of the sgemm rate | %.1f of %.1f GFLOP/s = %.0f%% | %s |\n", lg, sg, 100 * lf, (lf >= 0.7 ? "yes" : "**no**")
    printf "| peak memory ≤ 1.5 × (dataset + model + one MC chunk) | alsim'\''s own %d MiB ≤ %.0f MiB (%.2f×) | %s |\n", own, bound, own / bound, (own <= bound ? "yes" : "**no**")
    if (slope != "") printf "| seconds per round grow linearly with the pool, to %d rows | log-log slope %.2f; %.2f s per round at %d rows | %s |\n", nmax, slope, smax, nmax, (slope > 0.85 && slope < 1.15) ? "yes" : "**no**"
    printf "| memory bounded by chunking for any pool size | RSS beyond the data %.0f–%.0f MiB from 10,000 to %d rows | %s |\n", emin, emax, nmax, (emax - emin < 64) ? "yes" : "**no**"
}'
