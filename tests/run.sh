#!/bin/sh
# The test runner: runs each unit-test program given as an argument, then every end-to-end
# script tests/e2e*.sh in name order (when $ALSIM is set; tests/lib.sh is their library, not
# a test), and ends with one line of totals. Exit status: 0 when all pass.
passed=0 failed=0
tally() {   # tally NAME OUTPUT STATUS
    line=$(printf '%s\n' "$2" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    p=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/')
    f=$(printf '%s' "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
    [ -n "$line" ] || { p=0; f=1; }
    [ "$3" -ne 0 ] && [ "$f" -eq 0 ] && f=1      # a crash counts as a failure
    passed=$((passed + p)); failed=$((failed + f))
    if [ "$f" -eq 0 ]; then echo "ok    $1 ($p checks)"; else echo "FAIL  $1"; printf '%s\n' "$2" | sed 's/^/      /'; fi
}
for t in "$@"; do
    out=$("$t" 2>&1); st=$?
    tally "$(basename "$t")" "$out" $st
done
if [ -n "${ALSIM:-}" ]; then
    for s in $(ls tests/e2e*.sh | LC_ALL=C sort); do
        out=$(sh "$s" 2>&1); st=$?
        tally "$(basename "$s" .sh)" "$out" $st
    done
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
