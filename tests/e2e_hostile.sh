#!/bin/sh
# Hostile inputs, end to end (seconds): a data file changed between a kill and --resume (fewer
# rows, fewer classes, one value changed and one row dropped), a checkpoint of the previous
# format, symbolic links where a run or partial folder should be and foreign files in a run
# folder under --force, an empty test set, a report written into its runs folder, report
# folders replaced as a whole (stale temporaries of killed reports removed), and the message
# of a run stopped before its first round. Each check names what it guards against.
. tests/lib.sh
case $ALSIM in /*) ;; *) ALSIM=$PWD/$ALSIM ;; esac     # some runs below start in $T

# one_line FILE: stderr held exactly one line.
one_line() { [ "$(wc -l <"$1")" -eq 1 ]; }
# tree_sum DIR: one line per file, name and SHA-256 (what "untouched" compares).
tree_sum() { (cd "$1" && find . -type f -o -type l | LC_ALL=C sort | while read -r f; do printf '%s ' "$f"; cat "$f" | sha256sum; done); }
# dead_pid: the id of a process that has just ended.
dead_pid() { sh -c 'exit 0' & p=$!; wait $p; echo $p; }

# --- 1. --resume after the data file changed ------------------------------------------
# A killed run is made deterministically: a 4 KB file-size limit stops it (exit 3) after a
# few checkpointed rounds; the partial folder holds a checkpoint.
awk 'BEGIN { srand(5); print "a,b,c,d,y"
             for (i = 0; i < 600; i++) { k = i % 3; printf "%.4f,%.4f,%.4f,%.4f,c%d\n", rand() + k, rand() - k, rand(), rand() * k, k } }' >"$T/orig.csv"
RUN="--strategy bald --rounds 40 --batch 5 --init 10 --hidden 8 --epochs 2 --mc 4 --quiet"
# killed OUT: a killed run of $T/d.csv in OUT.
killed() {
    cp "$T/orig.csv" "$T/d.csv"
    ( ulimit -f 8; cd "$T" && exec "$ALSIM" --dataset d.csv $RUN --out "$1" ) 2>/dev/null
    ls "$T/$1"/.partial-*/checkpoint.bin >/dev/null 2>&1
}
# changed NAME WANT: after `killed`, the edited $T/d.csv is refused by --resume, naming it and
# WANT, and the partial folder is left byte for byte as it was.
changed() {
    name=$1 want=$2
    tree_sum "$T/$name" >"$T/$name.before"
    (cd "$T" && "$ALSIM" --dataset d.csv $RUN --out "$name" --resume) >/dev/null 2>"$T/$name.err"; st=$?
    check "resume on $name data: exit 2, not a crash (got $st: $(cat "$T/$name.err"))" [ "$st" -eq 2 ]
    check "resume on $name data: one line" one_line "$T/$name.err"
    check "resume on $name data: names the file and what changed" \
        sh -c "grep -q '^alsim: d.csv: changed since the run was checkpointed' '$T/$name.err' && grep -q '$want' '$T/$name.err'"
    check "resume on $name data: says how to start over" grep -q -- "--force" "$T/$name.err"
    tree_sum "$T/$name" >"$T/$name.after"
    check "resume on $name data: the partial run is untouched" cmp -s "$T/$name.before" "$T/$name.after"
    check "resume on $name data: nothing looks finished" [ -z "$(ls "$T/$name")" ]
}
killed fewer || bad "fewer rows: no checkpointed partial run to resume"
head -n 400 "$T/orig.csv" >"$T/d.csv"                                    # 201 rows fewer
changed fewer "pool rows 279, were 420"
killed classes || bad "fewer classes: no checkpointed partial run"
grep -v ',c2$' "$T/orig.csv" >"$T/d.csv"                                 # class c2 gone
changed classes "classes 2, were 3"
killed edited || bad "one value edited: no checkpointed partial run"
sed -e '2s/^[^,]*,/9.5,/' -e '$d' "$T/orig.csv" >"$T/d.csv"              # one value, one row
changed edited "SHA-256 [0-9a-f]\{64\}, was [0-9a-f]\{64\}"

# --force (with --resume, as run_all.sh passes it) starts over on the new data; the run then
# records the new data's hash.
(cd "$T" && "$ALSIM" --dataset d.csv $RUN --out edited --resume --force) 2>"$T/force.err"; st=$?
check "changed data, --resume --force: starts over, exit 0 (got $st: $(cat "$T/force.err"))" [ "$st" -eq 0 ]
new=$(sha256sum <"$T/d.csv" | cut -d' ' -f1)
check "changed data, --resume --force: config.json has the new SHA-256" grep -q "\"sha256\": \"$new\"" "$(only_dir "$T/edited")/config.json"
# The data as it was: the same resume continues and ends identical to an uninterrupted run.
killed same || bad "unchanged data: no checkpointed partial run"
(cd "$T" && "$ALSIM" --dataset d.csv $RUN --out same --resume) 2>"$T/same.err" || bad "unchanged data: resume failed: $(cat "$T/same.err")"
(cd "$T" && "$ALSIM" --dataset d.csv $RUN --out ref) || bad "the uninterrupted run"
check "unchanged data: resumed, byte-identical" cmp "$(only_dir "$T/ref")/rounds.jsonl" "$(only_dir "$T/same")/rounds.jsonl"
# A checkpoint of the previous format (ALSIMCK2) is refused by name, not trusted.
killed old || bad "old format: no checkpointed partial run"
printf 'ALSIMCK2' | dd of="$(ls -d "$T"/old/.partial-*)/checkpoint.bin" bs=1 conv=notrunc 2>/dev/null
(cd "$T" && "$ALSIM" --dataset d.csv $RUN --out old --resume) 2>"$T/old.err"; st=$?
check "an ALSIMCK2 checkpoint: exit 2, one line (got $st)" sh -c "[ $st -eq 2 ] && [ \$(wc -l <'$T/old.err') -eq 1 ]"
check "an ALSIMCK2 checkpoint: the message names the format" grep -q "format ALSIMCK2" "$T/old.err"

# --- 2. links and foreign files where a run or partial folder should be --------------------
SYN="--dataset synthetic:blobs:k=3,d=4,n=200,test=60 --strategy margin --rounds 2 --batch 5 --init 6 --hidden 8 --epochs 2 --quiet"
"$ALSIM" $SYN --out "$T/L" || bad "a run to plant links over"
id=$(basename "$(only_dir "$T/L")")
mkdir "$T/victim"
cp "$T/L/$id"/* "$T/victim/"
for f in checkpoint.bin lock other.txt; do echo keep >"$T/victim/$f"; done
tree_sum "$T/victim" >"$T/victim.sum"
rm -r "$T/L/$id"
ln -s "$T/victim" "$T/L/$id"
"$ALSIM" $SYN --out "$T/L" --force 2>"$T/link.err"; st=$?
check "a linked run folder, --force: exit 2, one line (got $st: $(cat "$T/link.err"))" sh -c "[ $st -eq 2 ] && [ \$(wc -l <'$T/link.err') -eq 1 ]"
check "a linked run folder, --force: names the link" grep -q "$id: a symbolic link" "$T/link.err"
tree_sum "$T/victim" >"$T/victim.after"
check "a linked run folder, --force: the folder it points to is untouched" cmp -s "$T/victim.sum" "$T/victim.after"
"$ALSIM" $SYN --out "$T/L" 2>"$T/link2.err"; st=$?
check "a linked run folder: refused, not taken for a finished run (got $st)" [ "$st" -eq 2 ]
rm "$T/L/$id"
mkdir "$T/L/$id"
cp "$T/victim"/* "$T/L/$id/"
"$ALSIM" $SYN --out "$T/L" --force 2>"$T/foreign.err"; st=$?
check "a run folder holding other.txt, --force: exit 2 (got $st)" [ "$st" -eq 2 ]
check "a run folder holding other.txt, --force: names the file" grep -q "other.txt" "$T/foreign.err"
check "a run folder holding other.txt, --force: nothing removed" [ "$(ls "$T/L/$id" | wc -l)" -eq 8 ]
rm "$T/L/$id/other.txt"
"$ALSIM" $SYN --out "$T/L" --force || bad "--force over a run folder of run files"
check "--force over a run folder of run files: replaced by a fresh run" \
    sh -c "[ ! -e '$T/L/$id/checkpoint.bin' ] && [ ! -e '$T/L/$id/lock' ] && grep -q '\"status\": \"ok\"' '$T/L/$id/summary.json'"
check "--force: nothing else left in the output root" [ "$(ls -A "$T/L" | wc -l)" -eq 1 ]
rm -r "$T/L/$id"
ln -s "$T/victim" "$T/L/.partial-$id"
"$ALSIM" $SYN --out "$T/L" 2>"$T/plink.err"; st=$?
check "a linked partial folder: exit 2, one line (got $st: $(cat "$T/plink.err"))" sh -c "[ $st -eq 2 ] && [ \$(wc -l <'$T/plink.err') -eq 1 ]"
check "a linked partial folder: names it" grep -q "partial-$id: a symbolic link" "$T/plink.err"
tree_sum "$T/victim" >"$T/victim.after"
check "a linked partial folder: nothing written through it" cmp -s "$T/victim.sum" "$T/victim.after"
check "a linked partial folder: no run folder made of it" [ ! -e "$T/L/$id" ]
rm "$T/L/.partial-$id"
mkdir "$T/L/.partial-$id"
ln -s "$T/victim/config.json" "$T/L/.partial-$id/config.json"
"$ALSIM" $SYN --out "$T/L" || bad "a partial folder holding a link: a fresh run"
tree_sum "$T/victim" >"$T/victim.after"
check "a link inside a partial folder: removed, not written through" cmp -s "$T/victim.sum" "$T/victim.after"

# --- 6. an empty test set is bad input, not a diverged run -----------------------------
awk 'BEGIN { srand(2); for (i = 0; i < 40; i++) printf "%.3f,%.3f,%d\n", rand() + i % 2, rand(), i % 2 }' >"$T/s40.csv"
"$ALSIM" --dataset "$T/s40.csv" --test-frac 0.01 --strategy margin --rounds 2 --batch 2 --init 4 --hidden 4 --epochs 2 --quiet --out "$T/E" 2>"$T/e1.err"; st=$?
check "40 rows, --test-frac 0.01: exit 2 (got $st: $(cat "$T/e1.err"))" [ "$st" -eq 2 ]
check "40 rows, --test-frac 0.01: one line" one_line "$T/e1.err"
check "40 rows, --test-frac 0.01: says what to do" grep -q "the test set is empty: .*raise --test-frac to at least 0.025" "$T/e1.err"
awk 'BEGIN { for (i = 0; i < 300; i++) printf "%.3f,%.3f,c%d\n", i / 7, i % 5, i }' >"$T/ones.csv"
"$ALSIM" --dataset "$T/ones.csv" --strategy random --rounds 2 --batch 2 --init 4 --hidden 4 --epochs 2 --quiet --out "$T/E" 2>"$T/e2.err"; st=$?
check "300 classes of one row: exit 2 (got $st: $(cat "$T/e2.err"))" [ "$st" -eq 2 ]
check "300 classes of one row: the test set is empty" grep -q "the test set is empty" "$T/e2.err"
check "an empty test set: no run folder" [ -z "$(ls -A "$T/E" 2>/dev/null)" ]

# --- 8. a report folder is replaced as a whole -----------------------------------------
for s in 0 1; do
    "$ALSIM" $SYN --seed $s --out "$T/RA" || bad "runs A"
    "$ALSIM" $SYN --dataset synthetic:blobs:k=3,d=5,n=200,test=60 --seed $s --out "$T/RB" || bad "runs B"
done
cp -r "$T/RA" "$T/R7"; cp -r "$T/RA" "$T/RP"
"$ALSIM" report "$T/RA" --out "$T/X" >/dev/null 2>&1 || bad "report A into X"
idA=$(ls "$T/X" | sed -n 's/-curves\.gp$//p')
p1=$(dead_pid); p2=$(dead_pid)
mkdir "$T/X/.tmp-report-$p1" "$T/.X.tmp-report-$p2"                      # killed reports' leftovers
echo x >"$T/X/.tmp-report-$p1/summary.md"; echo x >"$T/.X.tmp-report-$p2/summary.json"
"$ALSIM" report "$T/RB" --out "$T/X" >/dev/null 2>"$T/rb.err" || bad "report B into X: $(cat "$T/rb.err")"
check "report B over report A: none of A's figures left" sh -c "! ls '$T/X' | grep -q '^$idA-'"
check "report B over report A: B's figures there" sh -c "ls '$T/X' | grep -q 'd_5.*-curves.dat'"
check "stale temporary folders of killed reports removed" sh -c "[ ! -e '$T/X/.tmp-report-$p1' ] && [ ! -e '$T/.X.tmp-report-$p2' ]"
check "no temporary folder left beside or in X" sh -c "! ls -A '$T' '$T/X' | grep -q 'tmp-report'"
echo mine >"$T/X/notes.txt"
"$ALSIM" report "$T/RA" --out "$T/X" >/dev/null 2>"$T/rn.err"; st=$?
check "a report folder holding notes.txt: exit 2, names it (got $st)" sh -c "[ $st -eq 2 ] && grep -q notes.txt '$T/rn.err'"
check "a report folder holding notes.txt: nothing removed" sh -c "[ -e '$T/X/notes.txt' ] && ls '$T/X' | grep -q 'd_5.*-curves.dat'"
rm "$T/X/notes.txt"
ln -s "$T/X" "$T/XL"
"$ALSIM" report "$T/RA" --out "$T/XL" >/dev/null 2>"$T/rl.err"; st=$?
check "a linked report folder: exit 2, names the link (got $st)" sh -c "[ $st -eq 2 ] && grep -q 'XL: a symbolic link' '$T/rl.err'"

# --- 7. a report into its own runs folder -----------------------------------------------
"$ALSIM" report "$T/R7" --out "$T/R7" >/dev/null 2>"$T/r1.err"; st=$?
check "report --out its runs folder: exit 2, one line (got $st)" sh -c "[ $st -eq 2 ] && [ \$(wc -l <'$T/r1.err') -eq 1 ]"
"$ALSIM" report "$T/R7" --out "$T/R7/rep" >/dev/null 2>"$T/r2.err"; st=$?
check "report --out inside its runs folder: exit 2 (got $st)" [ "$st" -eq 2 ]
check "report into the runs folder: nothing written there" [ "$(ls -A "$T/R7" | wc -l)" -eq 2 ]
"$ALSIM" report "$T/R7" --out "$T/X7" >/dev/null 2>&1 || bad "report into X7"
cp -r "$T/X7" "$T/RP/rep"; cp "$T/X7/summary.json" "$T/RP/"        # an older alsim's pollution
"$ALSIM" report "$T/RP" --out "$T/XP" >/dev/null 2>"$T/rp.err"; st=$?
check "a runs folder holding a report: still reported, the report passed over (got $st: $(cat "$T/rp.err"))" \
    sh -c "[ $st -eq 0 ] && grep -q '\"runs_read\": 2' '$T/XP/summary.json'"

# --- 10. stopped before round 0 -------------------------------------------------------
"$ALSIM" --dataset synthetic:blobs:k=3,d=32,n=300,test=100 --strategy random --rounds 1 --batch 5 --init 30 \
    --hidden 256 --epochs 30000 --out "$T/S" 2>"$T/s.err" &
pid=$!
while kill -0 "$pid" 2>/dev/null && ! grep -q "pool 300" "$T/s.err" 2>/dev/null; do sleep 0.01; done
kill -TERM "$pid"; wait "$pid"; st=$?
check "SIGTERM in round 0: exit 143 (got $st)" [ "$st" -eq 143 ]
check "SIGTERM in round 0: no 'round -1'" sh -c "! grep -q 'round -1' '$T/s.err'"
check "SIGTERM in round 0: says it stopped before round 0 was complete" grep -q "before round 0 of .* was complete" "$T/s.err"

finish e2e_hostile
