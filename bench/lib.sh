# bench/lib.sh — what the standalone benchmark scripts (bench/cnn.sh, bench/batch.sh) share;
# source it first. `bench_init NAME` sets BENCH_BIN, OUT, PYTHON (the Python with torch,
# default /usr/bin/python3), KV ($OUT/NAME.kv, emptied) and kv KEY (its last value), and puts
# both sides on 2 threads (OpenBLAS's and alsim's pool, torch's intra-op threads).
# `results_header` prints a RESULTS.md section's dated header (date, commit, machine);
# `record NAME` runs the script's `section` function under it, keeps it as $OUT/NAME.md,
# prints it and appends it to bench/RESULTS.md. bench/run.sh uses the header too.
bench_init() {
    BENCH_BIN=${BENCH_BIN:-build/bench}
    OUT=${OUT:-bench/out}
    PYTHON=${PYTHON:-/usr/bin/python3}
    KV="$OUT/$1.kv"
    mkdir -p "$OUT"
    : >"$KV"
    export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2} OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
}
kv() { awk -v k="$1" '$1 == k {v = $2} END {print v}' "$KV"; }

results_header() {
    echo
    echo "## $(date -u +%Y-%m-%d) — commit $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
    echo
    echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB;" \
         "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}."
    echo
}

record() {
    {
        results_header
        section
    } >"$OUT/$1.md"
    cat "$OUT/$1.md"
    [ -f bench/RESULTS.md ] || printf '# Benchmark results\n\nEach section is one `make bench` run, appended by bench/run.sh.\n' >bench/RESULTS.md
    cat "$OUT/$1.md" >>bench/RESULTS.md
    echo "bench/$1.sh: appended to bench/RESULTS.md" >&2
}
