# bench/record.sh — sourced by a standalone benchmark script (bench/cnn.sh, bench/batch.sh):
# `record NAME` runs the script's `section` function under a dated header (date, commit,
# machine), keeps it as $OUT/NAME.md, prints it and appends it to bench/RESULTS.md.
record() {
    {
        echo
        echo "## $(date -u +%Y-%m-%d) — commit $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)"
        echo
        echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB;" \
             "OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}."
        echo
        section
    } >"$OUT/$1.md"
    cat "$OUT/$1.md"
    [ -f bench/RESULTS.md ] || printf '# Benchmark results\n\nEach section is one `make bench` run, appended by bench/run.sh.\n' >bench/RESULTS.md
    cat "$OUT/$1.md" >>bench/RESULTS.md
    echo "bench/$1.sh: appended to bench/RESULTS.md" >&2
}
