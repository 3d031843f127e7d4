#!/bin/sh
# make fuzz: builds each tests/fuzz/fuzz_NAME.c with clang's libFuzzer against $FUZZ_B/libalsim.a
# (built by make with the fuzzer's coverage and ASan + UBSan), then runs it for $FUZZ_SECONDS
# seconds on $FUZZ_B/corpus/NAME, seeded from tests/corpus/NAME (else tests/fuzz/seeds/NAME).
# One harness at a time; FUZZ_ONLY=NAME runs just one. Prints one line per harness (runs,
# corpus size); a crash leaves its input as $FUZZ_B/fuzz_NAME-crash-* and makes the exit
# status 1.
set -u
B=${FUZZ_B:-build-fuzz}
SECS=${FUZZ_SECONDS:-60}
CFLAGS="-I. -std=c11 -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -O1 -g -fno-omit-frame-pointer"
SAN="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
LIBS=${FUZZ_LIBS:--lgsl -lcjson -lopenblas -lm -lpthread}
status=0
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    fmt=${name#fuzz_}
    [ -n "${FUZZ_ONLY:-}" ] && [ "$FUZZ_ONLY" != "$fmt" ] && continue
    if ! clang $CFLAGS $SAN -o "$B/$name" "$src" "$B/libalsim.a" $LIBS; then
        echo "$name: build failed"; status=1; continue
    fi
    mkdir -p "$B/corpus/$fmt"
    seeds=tests/corpus/$fmt     # the malformed-input corpus, or a format's own seeds
    [ -d "$seeds" ] || seeds=tests/fuzz/seeds/$fmt
    "$B/$name" -max_total_time="$SECS" -max_len=16384 -print_final_stats=1 \
        -artifact_prefix="$B/$name-" "$B/corpus/$fmt" "$seeds" >"$B/$name.log" 2>&1
    st=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$B/$name.log")
    units=$(ls "$B/corpus/$fmt" | wc -l)
    if [ "$st" -eq 0 ]; then
        echo "$name: ${SECS} s, ${runs:-?} runs, no crash; corpus $units inputs"
    else
        echo "$name: FOUND A CRASH (exit $st): see $B/$name.log and $B/$name-*"; status=1
    fi
done
exit $status
