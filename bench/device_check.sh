#!/bin/sh
# bench/device_check.sh — the one command a machine with a GPU runs, from the repository root,
# with .device beside it (made by `make device-bundle` on a machine that builds alsim):
#     sh bench/device_check.sh
# It builds nothing. It unpacks .device/alsim-device.tar.gz into $DEVICE_WORK (default
# /tmp/alsim-device), points LD_LIBRARY_PATH at its lib/ (and at the machine's cuBLAS if the
# binaries' rpath to /usr/local/cuda/lib64 misses it) and ALSIM_DATA at its data/, then:
#   0. environment: nvidia-smi, versions, each binary's libraries (all must resolve);
#   1. a --device cpu run of a 2,000-row MNIST slice from the bundle alone (and --device cuda
#      must either work or exit 3 with one line);
#   2. test-cuda (tests/cuda.sh) on the bundled binaries;
#   3. bench-cuda (bench/run_cuda.sh) with the PyTorch peer: a section for bench/RESULTS.md.
# Without a GPU, 2 and 3 skip (and say so): that is how `make device-bundle` tests the bundle.
# Output into $OUT (./device-out when unset), 6 files:
#   summary.txt (a line per step: status, seconds), device_check.log (everything), env.txt,
#   test-cuda.log, bench-cuda.md (append it to bench/RESULTS.md), bench-runs.tar.gz (the
#   benchmark runs' curve.csv, timings.csv and PyTorch logs).
# Exit 0 when every step passed (a skip is a pass), else 1. Each step has a time limit, and no
# step starts after $DEADLINE seconds (default 420) from the start.
set -u
OUT=${OUT:-device-out}
WORK=${DEVICE_WORK:-/tmp/alsim-device}
DEADLINE=${DEADLINE:-420}
mkdir -p "$OUT"
START=$(date +%s)
: >"$OUT/summary.txt"

elapsed() { echo $(($(date +%s) - START)); }
# step NAME LIMIT_S COMMAND...: runs it (unless past the deadline), records status and time
step() {
    name=$1 limit=$2; shift 2
    if [ "$(elapsed)" -ge "$DEADLINE" ]; then
        echo "skipped  $name (past the ${DEADLINE}s deadline)" >>"$OUT/summary.txt"
        return 0
    fi
    t0=$(date +%s)
    echo "=== $name (limit ${limit}s, at $(elapsed)s)"
    case "$(type "$1" 2>/dev/null)" in
        *function*) "$@" ;;                 # ours: their commands carry their own limits
        *) timeout "$limit" "$@" ;;
    esac; st=$?
    t=$(($(date +%s) - t0))
    if [ "$st" -eq 0 ]; then echo "ok       $name (${t}s)" >>"$OUT/summary.txt"
    else echo "FAILED   $name: exit $st (${t}s)" >>"$OUT/summary.txt"; fi
    echo "=== $name: exit $st, ${t}s"
    return 0
}

unpack() {
    [ -f .device/alsim-device.tar.gz ] || { echo "no .device/alsim-device.tar.gz: run make device-bundle on a machine that builds alsim, and copy .device here"; return 2; }
    rm -rf "$WORK" && mkdir -p "$WORK" && tar xzf .device/alsim-device.tar.gz -C "$WORK" || return 3
    gunzip -f "$WORK"/alsim-device/data/mnist/*.gz || return 3
    echo "unpacked into $WORK/alsim-device: $(du -sh "$WORK/alsim-device" | cut -f1)"
}

environment() {
    {
        echo "## uname"; uname -a
        echo "## date"; date -u
        echo "## nvidia-smi"; nvidia-smi 2>&1 || echo "(no nvidia-smi)"
        echo "## python3 torch"; python3 -c 'import torch; print(torch.__version__, torch.cuda.is_available())' 2>&1
        echo "## bundle"; cat "$BIN/../MANIFEST"
        for b in "$BIN"/*; do echo "## ldd $(basename "$b")"; ldd "$b"; done
    } >"$OUT/env.txt" 2>&1
    missing=$(for b in "$BIN"/*; do ldd "$b"; done | grep "not found" | sort -u)
    [ -z "$missing" ] || { echo "unresolved libraries:"; echo "$missing"; return 1; }
    # each bundled library is loaded from the bundle, not from the system
    outside=$(for b in "$BIN"/*; do ldd "$b"; done | awk '$2 == "=>" {print $1, $3}' | sort -u |
        while read -r n p; do
            [ -e "$BIN/../lib/$n" ] || continue
            case "$p" in "$WORK"/*) ;; *) echo "$n => $p" ;; esac
        done)
    [ -z "$outside" ] || { echo "bundled libraries loaded from elsewhere: $outside"; return 1; }
    echo "every library resolves; the bundled ones ($(ls "$BIN/../lib" | tr '\n' ' ')) from $WORK"
}

smoke() {
    timeout 120 "$BIN/alsim" --device cpu --dataset mnist --pool-size 2000 --test-size 1000 --rounds 2 \
        --batch 10 --epochs 3 --mc 3 --quiet --out "$WORK/smoke" || return 1
    tail -n 1 "$WORK"/smoke/*/curve.csv
    timeout 120 "$BIN/alsim" --device cuda --dataset mnist --pool-size 2000 --test-size 1000 --rounds 1 \
        --batch 10 --epochs 1 --mc 3 --quiet --out "$WORK/smoke-cuda" 2>"$WORK/smoke-cuda.err"; st=$?
    echo "--device cuda: exit $st $(cat "$WORK/smoke-cuda.err")"
    [ "$st" -eq 0 ] || { [ "$st" -eq 3 ] && [ "$(wc -l <"$WORK/smoke-cuda.err")" -eq 1 ]; }
}

main() {
    step unpack 60 unpack || true
    BIN="$WORK/alsim-device/bin"
    [ -x "$BIN/alsim" ] || { echo "nothing to run"; return 1; }
    export LD_LIBRARY_PATH="$WORK/alsim-device/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export ALSIM_DATA="$WORK/alsim-device/data"
    # alsim dlopens cuBLAS when it uses the GPU: through its rpath (the toolkit it was built
    # with), the loader's cache, or LD_LIBRARY_PATH. Neither of the first two: look for it.
    if [ ! -e /usr/local/cuda/lib64/libcublas.so.13 ] && ! ldconfig -p 2>/dev/null | grep -q "libcublas.so.13"; then
        dir=$(find /usr/local /opt /usr/lib -name 'libcublas.so.13' 2>/dev/null | head -n 1 | xargs -r dirname)
        [ -n "$dir" ] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$dir" && echo "cuBLAS from $dir"
    fi
    step environment 60 environment
    step "cpu smoke run from the bundle" 120 smoke
    step test-cuda 240 env ALSIM="$BIN/alsim" TEST_BIN="$BIN" sh tests/cuda.sh
    step bench-cuda "$((DEADLINE - $(elapsed) > 60 ? DEADLINE - $(elapsed) : 60))" \
        env ALSIM="$BIN/alsim" BENCH_BIN="$BIN" RESULTS="$OUT/bench-cuda.md" \
        BENCH_OUT="$WORK/bench" GAL_ROUNDS="${GAL_ROUNDS:-10}" sh bench/run_cuda.sh
    if [ -d "$WORK/bench" ]; then
        (cd "$WORK" && find bench -name '*.csv' -o -name '*.jsonl' -o -name '*.err' -o -name '*.md' |
            tar czf "$OUT/bench-runs.tar.gz" -T -) || true
    fi
    echo "=== done in $(elapsed)s"
    cat "$OUT/summary.txt"
    ! grep -q '^FAILED' "$OUT/summary.txt"
}

main 2>&1 | tee "$OUT/device_check.log"
# the test-cuda part of the log, on its own
sed -n '/^=== test-cuda (/,/^=== test-cuda:/p' "$OUT/device_check.log" >"$OUT/test-cuda.log"
! grep -q '^FAILED' "$OUT/summary.txt"
