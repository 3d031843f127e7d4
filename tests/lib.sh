# lib.sh — what every end-to-end script shares; source it first: `. tests/lib.sh`.
# Sets ALSIM (the binary) and T (a temporary folder removed on exit), counts checks, and
# `finish` prints "NAME: N passed, M failed" and returns the verdict.
set -u
ALSIM=${ALSIM:-./alsim}
T=$(mktemp -d "${TMPDIR:-/tmp}/alsim-e2e.XXXXXX")
trap 'rm -rf "$T"' EXIT
passed=0 failed=0
ok()   { passed=$((passed + 1)); }
bad()  { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
check() { # check "what" command...: passes when the command succeeds
    what=$1; shift
    if "$@"; then ok; else bad "$what"; fi
}
col() { # col FILE N: column(s) N of a CSV without its header
    tail -n +2 "$1" | cut -d, -f"$2"
}
only_dir() { # the single run folder under $1
    set -- "$1"/*; [ $# -eq 1 ] && [ -d "$1" ] && echo "$1"
}
# kill_at N OUT ARGS...: starts alsim ARGS --out OUT --resume and SIGKILLs it as soon as it
# has reported round N on stderr (or when it ends by itself, or after 30 s).
kill_at() {
    n=$1 out=$2; shift 2
    rm -f "$T/kill.log"     # the loop below must not read an earlier run's log
    "$ALSIM" "$@" --out "$out" --resume 2>"$T/kill.log" &
    pid=$!
    i=0
    while kill -0 "$pid" 2>/dev/null && ! grep -q "round *$n/" "$T/kill.log" 2>/dev/null && [ $i -lt 3000 ]; do
        sleep 0.01; i=$((i + 1))
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}
# kill_and_resume NAME "ROUNDS" ARGS...: a reference run of alsim ARGS into $T/ref-NAME, then
# one SIGKILL at each round of ROUNDS (kill_at) and a last --resume into $T/k-NAME; checks that
# every kill left a partial folder and no finished one, that the last resume continued a
# checkpoint, and that curve.csv and rounds.jsonl are the reference's, byte for byte. Sets ref
# and got, the two run folders.
kill_and_resume() {
    name=$1 rounds=$2; shift 2
    "$ALSIM" "$@" --out "$T/ref-$name" --quiet || bad "$name: reference run"
    kills=0
    for k in $rounds; do
        kill_at "$k" "$T/k-$name" "$@"
        kills=$((kills + 1))
        ls -A "$T/k-$name" | grep -q '^\.partial-' && [ -z "$(ls "$T/k-$name")" ] && echo "$k" >>"$T/kills-$name"
    done
    "$ALSIM" "$@" --out "$T/k-$name" --resume 2>"$T/resume-$name.log" || bad "$name: final resume"
    ref=$(only_dir "$T/ref-$name"); got=$(only_dir "$T/k-$name")
    check "$name: $kills SIGKILLs left a partial folder and no finished one each time" [ "$(wc -l <"$T/kills-$name")" -eq "$kills" ]
    check "$name: the last resume continued a checkpoint" grep -q "resuming .* after round" "$T/resume-$name.log"
    check "$name: killed and resumed, curve.csv byte-identical" cmp "$ref/curve.csv" "$got/curve.csv"
    check "$name: killed and resumed, rounds.jsonl byte-identical" cmp "$ref/rounds.jsonl" "$got/rounds.jsonl"
}
expect_fail() { # expect_fail CODE WHAT ARGS...: alsim ARGS exits CODE, one stderr line, no run left
    code=$1 what=$2; shift 2
    rm -rf "$T/fail"; mkdir -p "$T/fail"
    "$ALSIM" "$@" --out "$T/fail/runs" >"$T/fail.out" 2>"$T/fail.err"; st=$?
    lines=$(wc -l <"$T/fail.err")
    left=$(ls -A "$T/fail/runs" 2>/dev/null | wc -l)
    if [ "$st" -eq "$code" ] && [ "$lines" -eq 1 ] && [ "$left" -eq 0 ]; then ok
    else bad "$what: exit $st (want $code), $lines stderr lines (want 1), $left entries left: $(cat "$T/fail.err")"; fi
}
json_num() { # json_num FILE KEY: the first number after "KEY": in FILE
    sed -n "s/.*\"$2\": *\([-0-9.e+]*\).*/\1/p" "$1" | head -n 1
}
finish() { # finish NAME: the closing line and the exit status
    echo "$1: $passed passed, $failed failed"
    [ "$failed" -eq 0 ]
}
