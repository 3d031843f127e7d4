#!/bin/sh
# --model cnn end to end: a BALD run on a 1,000-row MNIST slice completes and is deterministic
# (byte-identical curve.csv and rounds.jsonl), and config.json records the model, its options
# and the image shape, the ledger its FLOPs by formula; .npy images of shape (n, 8, 8) made
# here train with smaller kernels, and with Kirsch et al.'s layout (conv-pool-conv-pool) and
# fixed-length epochs (--epoch-rows); data that are not images (CSV), images too small for
# the kernels, an unknown layout and --epoch-rows with logreg are refused with exit 2 and one
# line, leaving no run folder.
# Ends with "e2e_cnn: N passed, M failed"; exit status 0 when all pass. About 10 seconds.
. tests/lib.sh
expect_fail() {   # expect_fail CODE WHAT ARGS...: exit CODE, one stderr line, no run left
    code=$1 what=$2; shift 2
    rm -rf "$T/fail"; mkdir -p "$T/fail"
    "$ALSIM" "$@" --quiet --out "$T/fail/runs" >"$T/fail.out" 2>"$T/fail.err"; st=$?
    lines=$(wc -l <"$T/fail.err")
    left=$(ls -A "$T/fail/runs" 2>/dev/null | wc -l)
    if [ "$st" -eq "$code" ] && [ "$lines" -eq 1 ] && [ "$left" -eq 0 ]; then ok
    else bad "$what: exit $st (want $code), $lines stderr lines (want 1), $left entries left: $(cat "$T/fail.err")"; fi
}

# --- refused: no image shape, images too small ------------------------------------------
expect_fail 2 "cnn on a CSV" --dataset tests/corpus/csv/ok-header.csv --model cnn --rounds 1 --batch 2 --init 6
check "cnn on a CSV: says it needs images" grep -q -- "--model cnn needs images: ok-header.csv has 3 features and no image shape" "$T/fail.err"
expect_fail 2 "cnn on 2x2 images" --dataset npy:tests/corpus/npy/ok-X-images.npy,tests/corpus/npy/ok-y.npy --model cnn \
    --rounds 1 --batch 2 --init 6
check "cnn on 2x2 images: too small, and what they need" grep -q "images of 2x2 pixels are too small for conv-conv-pool with 4x4 kernels and 2x2 max-pooling (they need at least 8x8)" "$T/fail.err"
expect_fail 2 "an unknown --cnn-layout" --dataset mnist --model cnn --cnn-layout conv-pool --rounds 1
check "an unknown --cnn-layout: names both" grep -q -- "--cnn-layout: 'conv-pool' is not conv-conv-pool or conv-pool-conv-pool" "$T/fail.err"
expect_fail 2 "--epoch-rows with logreg" --dataset tests/corpus/csv/ok-header.csv --model logreg --epoch-rows 100 --rounds 1 --batch 2 --init 6
check "--epoch-rows with logreg: says why" grep -q -- "--epoch-rows sets the epochs of minibatch training; --model logreg is fitted to convergence" "$T/fail.err"

# --- npy images (60, 8, 8): uint8 bars (1 background, 100 the bar), labels 1, 2, 3 ---------
npy_head() {   # npy_head DICT: a version 1.0 header, padded to 64 bytes as numpy writes it
    len=$((${#1} + 1)); pad=$(( (64 - (10 + len) % 64) % 64 )); hl=$((len + pad))
    printf '\223NUMPY\001\000'; printf "\\$(printf %03o $((hl % 256)))\\$(printf %03o $((hl / 256)))"
    printf '%s%*s\n' "$1" "$pad" ''
}
{ npy_head "{'descr': '|u1', 'fortran_order': False, 'shape': (60, 8, 8), }"
  LC_ALL=C awk 'BEGIN { srand(3); for (i = 0; i < 60; i++) { k = i % 3; at = 1 + int(rand() * 6)
      for (y = 0; y < 8; y++) for (x = 0; x < 8; x++) {
          on = (k == 0 && y == at) || (k == 1 && x == at) || (k == 2 && x == (y + at) % 8)
          printf "%c", on ? 100 : 1 } } }'; } >"$T/X.npy"
{ npy_head "{'descr': '|u1', 'fortran_order': False, 'shape': (60,), }"
  LC_ALL=C awk 'BEGIN { for (i = 0; i < 60; i++) printf "%c", 1 + i % 3 }'; } >"$T/y.npy"
"$ALSIM" --dataset "npy:$T/X.npy,$T/y.npy" --model cnn --kernel 3 --conv-filters 4 --dense 8 --rounds 2 --batch 3 \
    --init 6 --epochs 5 --mc 3 --strategy bald --quiet --out "$T/npy" || bad "cnn on npy images"
n=$(only_dir "$T/npy")
check "npy images: 3 curve rows" [ "$(col "$n/curve.csv" 1 2>/dev/null | wc -l)" -eq 3 ]
check "npy images: config.json records the image shape" sh -c "tr -d ' \n' <'$n/config.json' | grep -q '\"image_shape\":\[1,8,8\]'"
check "npy images: config.json records --kernel 3" grep -q '"kernel": 3,' "$n/config.json"

# Kirsch et al.'s layout on the 8x8 bars (2x2 kernels: 7x7, pooled 3x3, 2x2, pooled 1x1), with
# epochs of 64 draws: batchbald and bald run, twice the same; each round trains 3 epochs of
# ceil(64/8) = 8 steps of min(8, labeled) rows (6, then 8)
for i in 1 2; do
    for s in bald batchbald; do
        "$ALSIM" --dataset "npy:$T/X.npy,$T/y.npy" --model cnn --cnn-layout conv-pool-conv-pool --kernel 2 --conv-filters 4 \
            --conv2-filters 6 --dropout-conv 0.5 --dense 8 --rounds 2 --batch 3 --init 6 --epochs 3 --epoch-rows 64 \
            --minibatch 8 --mc 3 --strategy $s --quiet --out "$T/cpcp$i" || bad "conv-pool-conv-pool $s run $i"
    done
done
for s in bald batchbald; do
    a=$(ls -d "$T"/cpcp1/*-$s-*); b=$(ls -d "$T"/cpcp2/*-$s-*)
    check "conv-pool-conv-pool $s: deterministic curve.csv" cmp "$a/curve.csv" "$b/curve.csv"
    check "conv-pool-conv-pool $s: 24 steps a round, of min(8, labeled) rows" [ "$(col "$a/curve.csv" 7,8 | tr "\n" " ")" = "24,144 24,192 24,192 " ]
done
check "conv-pool-conv-pool: config.json records the layout and the filters" sh -c "tr -d ' \n' <'$a/config.json' | grep -q '\"cnn_layout\":\"conv-pool-conv-pool\",\"conv_filters\":4,\"conv2_filters\":6'"
check "conv-pool-conv-pool: config.json records --epoch-rows" grep -q '"epoch_rows": 64,' "$a/config.json"

# --- MNIST, a 1,000-row slice (fetched into the cache on first use) ------------------------
if [ -z "${ALSIM_E2E_QUICK:-}" ]; then
    M="--dataset mnist --model cnn --pool-size 1000 --test-size 500 --rounds 2 --batch 10 --init 20 --epochs 3 --mc 4 --strategy bald --quiet"
    for i in 1 2; do "$ALSIM" $M --out "$T/mnist$i" || bad "mnist cnn run $i"; done
    m1=$(only_dir "$T/mnist1"); m2=$(only_dir "$T/mnist2")
    check "mnist cnn: 3 curve rows" [ "$(col "$m1/curve.csv" 1 2>/dev/null | wc -l)" -eq 3 ]
    check "mnist cnn: deterministic curve.csv" cmp "$m1/curve.csv" "$m2/curve.csv"
    check "mnist cnn: deterministic rounds.jsonl" cmp "$m1/rounds.jsonl" "$m2/rounds.jsonl"
    check "mnist cnn: config.json says model cnn" grep -q '"model": "cnn"' "$m1/config.json"
    check "mnist cnn: config.json records the paper's defaults" sh -c "tr -d ' \n' <'$m1/config.json' | grep -q '\"cnn_layout\":\"conv-conv-pool\",\"conv_filters\":32,\"conv2_filters\":0,\"kernel\":4,\"maxpool\":2,\"dense\":128,\"dropout_conv\":0.25,\"dropout_dense\":0.5'"
    check "mnist cnn: image shape 1x28x28" sh -c "tr -d ' \n' <'$m1/config.json' | grep -q '\"image_shape\":\[1,28,28\]'"
    # 3 steps of 20 rows, 51,840,512 FLOPs a row: 6 x 8,746,752 MACs less the first convolution's input gradient
    check "mnist cnn: round 0's budget, FLOPs by formula" [ "$(col "$m1/curve.csv" 7-9 | head -n 1)" = "3,60,3110430720" ]
    acc=$(col "$m1/curve.csv" 3 | tail -n 1)
    check "mnist cnn: better than chance (final accuracy $acc > 0.15)" awk -v a="$acc" 'BEGIN { exit !(a > 0.15) }'
fi

finish e2e_cnn
