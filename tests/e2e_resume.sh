#!/bin/sh
# Reliability, end to end: runs killed with SIGKILL at several rounds and resumed end
# byte-identical to an uninterrupted run (retraining and warm-starting); SIGINT/SIGTERM leave
# a resumable run and exit 130/143; a diverging run is marked, not crashed; a file-size
# limit (a full disk) and an unwritable cache fail cleanly with exit 3 and corrupt nothing;
# two processes on one output root don't clobber each other.
. tests/lib.sh

CFG="--dataset synthetic:blobs:k=5,d=64,n=12000,test=2000 --strategy bald --rounds 10 --batch 10 --init 10 --hidden 128 --epochs 30 --mc 10 --seed 3"

for mode in retrain warm; do
    extra=""; [ $mode = warm ] && extra="--warm-start"
    kill_and_resume "$mode" "1 3 5 8" $CFG $extra
    check "$mode: no partial folder left" [ -z "$(ls -A "$T/k-$mode" | grep '^\.')" ]
    check "$mode: no checkpoint or lock in the finished folder" [ ! -e "$got/checkpoint.bin" -a ! -e "$got/lock" ]
done

# SIGTERM and SIGINT: exit 143 / 130, a resumable partial folder, then an identical result.
for sig in TERM INT; do
    "$ALSIM" $CFG --out "$T/sig-$sig" 2>"$T/sig-$sig.log" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null && ! grep -q "round *2/" "$T/sig-$sig.log" 2>/dev/null; do sleep 0.01; done
    kill -$sig "$pid"; wait "$pid"; st=$?
    want=143; [ $sig = INT ] && want=130
    check "SIG$sig: exit $want (got $st)" [ "$st" -eq "$want" ]
    check "SIG$sig: says how to continue" grep -q -- "--resume continues it" "$T/sig-$sig.log"
    check "SIG$sig: nothing that looks finished" [ -z "$(ls "$T/sig-$sig")" ]
    "$ALSIM" $CFG --out "$T/sig-$sig" --resume --quiet || bad "SIG$sig: resume"
    check "SIG$sig: resumed run identical" cmp "$(only_dir "$T/ref-retrain")/curve.csv" "$(only_dir "$T/sig-$sig")/curve.csv"
done

# A resume must match its run: the same folder with another model is refused, not mixed.
"$ALSIM" $CFG --out "$T/other" 2>"$T/o.log" &
pid=$!
while kill -0 "$pid" 2>/dev/null && ! grep -q "round *2/" "$T/o.log" 2>/dev/null; do sleep 0.01; done
kill -9 "$pid"; wait "$pid" 2>/dev/null
p=$(ls -d "$T"/other/.partial-* | head -n 1)
printf 'garbage' | dd of="$p/checkpoint.bin" bs=1 seek=30 conv=notrunc 2>/dev/null
"$ALSIM" $CFG --out "$T/other" --resume --quiet >/dev/null 2>"$T/damaged.err"; st=$?
check "a damaged checkpoint: exit 2 (got $st)" [ "$st" -eq 2 ]
check "a damaged checkpoint: one line" [ "$(wc -l <"$T/damaged.err")" -eq 1 ]
check "a damaged checkpoint: the message names it" grep -q "checkpoint.bin: damaged" "$T/damaged.err"
"$ALSIM" $CFG --out "$T/other" --quiet || bad "without --resume a damaged partial run starts afresh"
check "without --resume: a fresh, identical run" cmp "$(only_dir "$T/ref-retrain")/curve.csv" "$(only_dir "$T/other")/curve.csv"

# Divergence: 50 features of +-1e18 (the loader's bound) through 8 hidden layers at a learning
# rate of 10 overflow float32 in the first round; the run is marked, not crashed.
awk 'BEGIN { for (i = 0; i < 60; i++) { for (j = 0; j < 50; j++) printf "%s,", ((i + j) % 2 ? "1e18" : "-1e18"); printf "%d\n", i % 2 } }' >"$T/huge.csv"
"$ALSIM" --dataset "$T/huge.csv" --strategy entropy --rounds 3 --batch 2 --init 4 --hidden 256,256,256,256,256,256,256,256 \
    --lr 10 --epochs 3 --out "$T/div" --quiet 2>"$T/div.err"; st=$?
d=$(only_dir "$T/div")
check "divergence: every seed diverged, exit 3 (got $st)" [ "$st" -eq 3 ]
check "divergence: summary.json says diverged" grep -q '"status": "diverged"' "$d/summary.json"
check "divergence: the message says so" grep -q "diverged" "$T/div.err"

# A full disk: a 4 KB file-size limit stops the run with exit 3 and a reason; nothing that
# looks finished; freed again, --resume completes it identically.
( ulimit -f 8; exec "$ALSIM" $CFG --rounds 40 --batch 5 --out "$T/full" --quiet ) 2>"$T/full.err"; st=$?
check "file-size limit: exit 3 (got $st)" [ "$st" -eq 3 ]
check "file-size limit: one line" [ "$(wc -l <"$T/full.err")" -eq 1 ]
check "file-size limit: says what failed" grep -q "failed" "$T/full.err"
check "file-size limit: nothing that looks finished" [ -z "$(ls "$T/full")" ]
"$ALSIM" $CFG --rounds 40 --batch 5 --out "$T/full" --resume --quiet || bad "resume after the limit"
"$ALSIM" $CFG --rounds 40 --batch 5 --out "$T/full-ref" --quiet || bad "full-ref"
check "after the limit, resumed run identical" cmp "$(only_dir "$T/full-ref")/rounds.jsonl" "$(only_dir "$T/full")/rounds.jsonl"

# An unwritable dataset cache: exit 3, one line.
ALSIM_DATA=/dev/null/cache "$ALSIM" datasets fetch mnist >/dev/null 2>"$T/cache.err"; st=$?
check "unwritable cache: exit 3 (got $st)" [ "$st" -eq 3 ]
check "unwritable cache: one line" [ "$(wc -l <"$T/cache.err")" -eq 1 ]

# Two processes, one output root: the same run twice at once (one writes, the other is told
# another process holds it, or skips it once finished), and two different runs side by side.
"$ALSIM" $CFG --out "$T/two" --quiet 2>"$T/two-a.err" & a=$!
"$ALSIM" $CFG --out "$T/two" --quiet 2>"$T/two-b.err" & b=$!
"$ALSIM" $CFG --strategy margin --out "$T/two" --quiet & c=$!
wait $a; sa=$?; wait $b; sb=$?; wait $c; sc=$?
check "same run twice at once: one finished it (exits $sa, $sb)" [ "$sa" -eq 0 -o "$sb" -eq 0 ]
check "same run twice at once: the other held off cleanly" sh -c "[ $sa -eq 0 -o $sa -eq 3 ] && [ $sb -eq 0 -o $sb -eq 3 ]"
check "two runs side by side: both finished" [ "$sc" -eq 0 -a "$(ls "$T/two" | wc -l)" -eq 2 ]
check "same run twice at once: the result is whole" cmp "$(only_dir "$T/ref-retrain")/curve.csv" "$(ls -d "$T"/two/*bald* | head -n 1)/curve.csv"

# Two fetches of one dataset into an empty cache at once: the cache is locked, so one
# fetches while the other waits, and both load the same verified files.
ALSIM_DATA="$T/cache" "$ALSIM" datasets fetch mnist >"$T/f1.out" 2>/dev/null & a=$!
ALSIM_DATA="$T/cache" "$ALSIM" datasets fetch mnist >"$T/f2.out" 2>/dev/null & b=$!
wait $a; sa=$?; wait $b; sb=$?
check "two fetches at once: both succeed (exits $sa, $sb)" [ "$sa" -eq 0 -a "$sb" -eq 0 ]
check "two fetches at once: the same verified dataset" sh -c "[ -s '$T/f1.out' ] && cmp -s '$T/f1.out' '$T/f2.out'"
check "two fetches at once: no temporary left in the cache" [ -z "$(ls -A "$T/cache/mnist" 2>/dev/null | grep -v -- '-ubyte$')" ]

finish e2e_resume
