#!/bin/sh
# Slow checks, outside the default suite (make test-slow): the default MLP trained on the
# full MNIST train set must reach >= 97% test accuracy. Prints the figure.
set -u
ALSIM=${ALSIM:-./alsim}
T=$(mktemp -d "${TMPDIR:-/tmp}/alsim-slow.XXXXXX")
trap 'rm -rf "$T"' EXIT
EPOCHS=${EPOCHS:-10}
"$ALSIM" --dataset mnist --full-data --epochs "$EPOCHS" --out "$T" || { echo "slow: 0 passed, 1 failed"; exit 1; }
acc=$(tail -n 1 "$T"/*/curve.csv | cut -d, -f3)
echo "full MNIST, default MLP 784-512-10, dropout 0.5, $EPOCHS epochs: test accuracy $acc"
if awk -v a="$acc" 'BEGIN { exit !(a >= 0.97) }'; then echo "slow: 1 passed, 0 failed"; else echo "slow: 0 passed, 1 failed"; exit 1; fi
