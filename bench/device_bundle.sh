#!/bin/sh
# make device-bundle: prepares .device/, what runs the GPU checks on a machine with a GPU that
# cannot build alsim: one with the NVIDIA driver and the CUDA toolkit (cuBLAS), perhaps
# PyTorch, but no GSL, cJSON or OpenBLAS and no network. So:
#   1. builds here, into $BUNDLE_BUILD (default /tmp/alsim-bundle-build; not build/, which is
#      shared), with ARCH=x86-64-v3 (any x86-64 server of the last ten years; not -march=native
#      of this machine), the CUDA backend included: alsim, test_backend, test_cuda,
#      bench_cuda, bench_core, bench_bert;
#   2. stages them with the shared libraries they load that a CUDA image may lack (what ldd
#      lists, less the C runtime, libstdc++/libgcc_s, and cuBLAS, which the toolkit there
#      has: 600 MB not worth copying) and the MNIST IDX files of the cache, gzipped;
#   3. packs that as .device/alsim-device.tar.gz (about 30 MB) with a MANIFEST, and checks
#      that the working tree plus .device stays under 60 MiB, quick to copy;
#   4. tests the bundle here as far as a machine without a GPU can: bench/device_check.sh
#      unpacks it into a scratch folder and runs from there alone (LD_LIBRARY_PATH into it):
#      every library resolves from the bundle, test-cuda skips cleanly, and a --device cpu run
#      of a 2,000-row MNIST slice from the bundled data works.
# README "CUDA backend" says how the GPU machine runs it.
set -eu
BUNDLE=${BUNDLE:-.device}
BUILD=${BUNDLE_BUILD:-/tmp/alsim-bundle-build}
ARCH=${BUNDLE_ARCH:-x86-64-v3}
CUDA_ARCH=${CUDA_ARCH:-90}
DATA=${ALSIM_DATA:-$HOME/.cache/alsim}
BINS="alsim tests/test_backend tests/test_cuda bench/bench_cuda bench/bench_core bench/bench_bert"

NVCC=$(command -v nvcc 2>/dev/null || ls /usr/local/cuda/bin/nvcc 2>/dev/null || true)
[ -n "$NVCC" ] || { echo "device-bundle: nvcc not found: the bundle is for the GPU machine and needs the CUDA backend" >&2; exit 2; }

# 1. build
targets=""
for b in $BINS; do targets="$targets $BUILD/$b"; done
make --no-print-directory B="$BUILD" ARCH="$ARCH" CUDA_ARCH="$CUDA_ARCH" $targets >"$BUILD.log" 2>&1 ||
    { tail -n 30 "$BUILD.log" >&2; echo "device-bundle: build failed (log: $BUILD.log)" >&2; exit 3; }
[ -f "$BUILD/sim/backend_cuda.o" ] || { echo "device-bundle: the CUDA backend was not built" >&2; exit 3; }
echo "device-bundle: built $BINS in $BUILD (ARCH=$ARCH)"

# 2. stage
STAGE=$(mktemp -d "${TMPDIR:-/tmp}/alsim-bundle.XXXXXX")
trap 'rm -rf "$STAGE"' EXIT
R="$STAGE/alsim-device"
mkdir -p "$R/bin" "$R/lib" "$R/data/mnist"
for b in $BINS; do cp "$BUILD/$b" "$R/bin/"; done
# every library ldd resolves for the binaries, but those any Linux with CUDA has
for b in "$R"/bin/*; do ldd "$b"; done | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' | sort -u |
while read -r soname path; do
    case "$soname" in
        linux-vdso*|ld-linux*|libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|libstdc++.so*|libgcc_s.so*) ;;
        libcublas*|libcudart*|libcuda.so*) ;;        # the toolkit and driver there
        *) cp -L "$path" "$R/lib/$soname" ;;
    esac
done
echo "device-bundle: libraries: $(ls "$R/lib" | tr '\n' ' ')"
if [ ! -f "$DATA/mnist/train-images-idx3-ubyte" ]; then
    echo "device-bundle: MNIST is not in $DATA: fetching it"
    ALSIM_DATA="$DATA" "$BUILD/alsim" datasets fetch mnist >/dev/null
fi
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    gzip -6 -c "$DATA/mnist/$f" >"$R/data/mnist/$f.gz"
done
{
    echo "alsim device bundle, made $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(uname -m) from commit $(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo -dirty)"
    echo "build: ARCH=$ARCH, CUDA_ARCH=$CUDA_ARCH, $("$NVCC" --version | tail -n 2 | head -n 1)"
    echo
    (cd "$R" && find . -type f | sort | while read -r f; do
        printf '%s  %s  %s\n' "$(sha256sum "$f" | cut -c1-16)" "$(wc -c <"$f")" "$f"; done)
} >"$R/MANIFEST"

# 3. pack, and the size to copy
mkdir -p "$BUNDLE"
rm -f "$BUNDLE/alsim-device.tar.gz"
tar czf "$BUNDLE/alsim-device.tar.gz" -C "$STAGE" alsim-device
cp "$R/MANIFEST" "$BUNDLE/MANIFEST"
bundle=$(du -cb "$BUNDLE"/* | tail -n 1 | cut -f1)
tree=$( (git ls-files; git ls-files --others --exclude-standard) | sort -u |
        while read -r f; do [ -f "$f" ] && printf '%s\0' "$f"; done | xargs -0 du -cb 2>/dev/null |
        awk '$2 == "total" {t += $1} END {print t + 0}')
total=$((bundle + tree))
printf 'device-bundle: %s: %.1f MiB; with the working tree: %.1f MiB (kept under 60 MiB)\n' \
    "$BUNDLE/alsim-device.tar.gz" "$(echo "$bundle" | awk '{print $1 / 1048576}')" "$(echo "$total" | awk '{print $1 / 1048576}')"
[ "$total" -lt $((60 * 1048576)) ] || { echo "device-bundle: the working tree and the bundle are over 60 MiB: too big to copy quickly" >&2; exit 3; }

# 4. test it here, from the bundle alone
[ -n "${BUNDLE_NO_TEST:-}" ] && exit 0
out=$(mktemp -d "${TMPDIR:-/tmp}/alsim-bundle-test.XXXXXX")
echo "device-bundle: testing the bundle here (bench/device_check.sh, output in $out)"
if OUT="$out" DEVICE_WORK="$out/work" sh bench/device_check.sh >"$out/stdout.txt" 2>&1; then
    tail -n 12 "$out/stdout.txt"
    echo "device-bundle: ok. On the GPU machine, with .device beside the checkout: sh bench/device_check.sh"
else
    tail -n 30 "$out/stdout.txt" >&2
    echo "device-bundle: the bundle's self-test failed (log: $out/stdout.txt)" >&2
    exit 3
fi
