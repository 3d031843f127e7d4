#!/bin/sh
# bench/logreg_fit.sh — one logreg fit, alsim against scikit-learn, on the same rows (make bench
# calls it; prints markdown). For each set (bench/peers/sklearn_logreg.py export): alsim
# `--full-data --model logreg --standardize` fits once on the whole pool (its train seconds
# from timings.csv, iterations from rounds.jsonl); scikit-learn standardizes the same pool and
# times LogisticRegression(C=1, tol=1e-4, max_iter=1000).fit (the median of 3). Both at their
# defaults otherwise: alsim stops when no gradient component exceeds 1e-4, scikit-learn's
# lbfgs on the same test or on scipy's relative decrease of the loss, whichever comes first.
#
# Environment: ALSIM (default ./alsim), PYTHON (default /usr/bin/python3 with
# python3-sklearn), SETS (default "breast_cancer digits mnist"; mnist needs alsim's MNIST
# cache), MNIST_ROWS (default 2000), OUT (scratch, default bench/out/logreg-fit).
set -u
ALSIM=${ALSIM:-./alsim}
PYTHON=${PYTHON:-/usr/bin/python3}
SETS=${SETS:-breast_cancer digits mnist}
MNIST_ROWS=${MNIST_ROWS:-2000}
OUT=${OUT:-bench/out/logreg-fit}
mkdir -p "$OUT"
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-2}
PEER=bench/peers/sklearn_logreg.py
if ! "$PYTHON" -c 'import sklearn' 2>/dev/null; then
    echo "(skipped: $PYTHON lacks scikit-learn: \`make bench-setup\`)"
    exit 0
fi
field() { sed -n "s/.*\"$1\": *\([-0-9.e+]*\).*/\1/p" | head -n 1; }   # a number of a JSON line

echo "| set | rows x features, classes | alsim fit s | alsim iterations | alsim test acc | scikit-learn fit s | sklearn iterations | sklearn test acc |"
echo "|---|---|---|---|---|---|---|---|"
for set in $SETS; do
    dir="$OUT/$set"
    rm -rf "$dir"
    info=$("$PYTHON" "$PEER" export "$set" "$dir" --rows "$MNIST_ROWS" 2>"$dir.err") ||
        { echo "| $set | (export failed: $(tail -n 1 "$dir.err")) |"; continue; }
    "$ALSIM" --dataset "npy:$dir/pool_x.npy,$dir/pool_y.npy" --test "npy:$dir/test_x.npy,$dir/test_y.npy" \
        --model logreg --standardize --full-data --quiet --out "$dir/runs" 2>"$dir/alsim.err" ||
        { echo "| $set | (alsim failed: $(tail -n 1 "$dir/alsim.err")) |"; continue; }
    run=$(ls -d "$dir"/runs/*/ | head -n 1)
    a_s=$(tail -n 1 "$run/timings.csv" | cut -d, -f2)
    a_it=$(field steps_used <"$run/rounds.jsonl")
    a_acc=$(tail -n 1 "$run/curve.csv" | cut -d, -f3)
    sk=$("$PYTHON" "$PEER" fit --data "$dir")
    printf '| %s | %s x %s, %s | %.4f | %s | %.4f | %.4f | %s | %.4f |\n' "$set" \
        "$(echo "$info" | field pool)" "$(echo "$info" | field features)" "$(echo "$info" | field classes)" \
        "$a_s" "$a_it" "$a_acc" "$(echo "$sk" | field fit_s)" "$(echo "$sk" | field n_iter)" "$(echo "$sk" | field accuracy)"
done
