#!/bin/sh
# End-to-end tests of `alsim report`, `alsim baseline`, `alsim check` and run_all.sh, on the
# tiny synthetic grid of `run_all.sh --ci` (seconds): the CI gate against the committed
# baseline (tests/baseline/ci.json), the gate's three promised outcomes, the degenerate inputs
# the report defines, and bad input. Ends with "e2e_reports: N passed, M failed".
#
# The "crippled strategy": the baseline of margin is checked against real runs of random, the
# same config with a genuinely worse selection rule, through `alsim check --against
# random=margin` (compare the runs of one strategy with the baseline of another). No fake
# strategy and no doctored numbers: the report of the same runs must say margin beats random.
. tests/lib.sh
# expect CODE WHAT ARGS...: alsim exits CODE; for 2, with exactly one line on stderr.
expect() {
    code=$1 what=$2; shift 2
    "$ALSIM" "$@" >"$T/out" 2>"$T/err"; st=$?
    if [ "$st" -ne "$code" ]; then bad "$what: exit $st, want $code: $(cat "$T/err")"; return; fi
    if [ "$code" -eq 2 ] && [ "$(wc -l <"$T/err")" -ne 1 ]; then bad "$what: want one line on stderr: $(cat "$T/err")"; return; fi
    ok
}
has() { grep -q -- "$2" "$1"; }    # has FILE PATTERN
HAVE_GNUPLOT=1
command -v gnuplot >/dev/null 2>&1 || { HAVE_GNUPLOT=0; echo "e2e_reports: gnuplot not installed: image checks skipped" >&2; }

SYN="synthetic:blobs:k=4,d=2,n=2000,test=1000,sep=5"
CI_OPTS="--rounds 12 --batch 4 --init 8 --hidden 32 --epochs 50 --minibatch 16 --lr 0.02 --quiet"

# --- run_all.sh --ci: the tiny grid, then the report -----------------------------------
ALSIM=$ALSIM bash ./run_all.sh --ci -j 2 --out "$T/runs" --report "$T/rep" >"$T/grid.out" 2>"$T/grid.err"; st=$?
check "run_all.sh --ci exits 0 ($(tail -n 3 "$T/grid.err"))" [ $st -eq 0 ]
check "the grid wrote 15 runs" [ "$(ls "$T/runs" | wc -l)" -eq 15 ]
check "run_all ends with the summary.md path" grep -q "summary: $T/rep/summary.md" "$T/grid.out"
check "run_all ends with the learning-curve PNG path" sh -c "tail -n 1 '$T/grid.out' | grep -q 'learning curves: .*-curves.png'"
ALSIM=$ALSIM bash ./run_all.sh --ci -j 2 --out "$T/runs" --report "$T/rep2" >/dev/null 2>"$T/resume.err"
check "run_all resumes: a finished grid is skipped" [ "$(grep -c 'skipped' "$T/resume.err")" -eq 15 ]
check "resumed report is byte-identical" cmp -s "$T/rep/summary.json" "$T/rep2/summary.json"

R=$T/rep
check "summary.md written" [ -s "$R/summary.md" ]
check "summary.json written" [ -s "$R/summary.json" ]
check "no temporary report folder left" sh -c "! ls -A '$R' | grep -q '^\.tmp'"
ID=$(ls "$R" | sed -n 's/-curves\.gp$//p')
for k in curves f1 aulc wtl; do
    check "figure $k: data and script" [ -s "$R/$ID-$k.dat" -a -s "$R/$ID-$k.gp" ]
    if [ "$HAVE_GNUPLOT" = 1 ]; then
        check "figure $k: PNG" sh -c "head -c 8 '$R/$ID-$k.png' | od -An -c | grep -q 'P   N   G'"
        check "figure $k: SVG" grep -q '<svg' "$R/$ID-$k.svg"
    fi
done
check "the band's meaning is in the key" grep -q "shaded band: 95% t-interval of the mean across seeds" "$R/$ID-curves.gp"
check "the .gp reads the data beside it" grep -q "'$ID-curves.dat' index 0" "$R/$ID-curves.gp"
if [ "$HAVE_GNUPLOT" = 1 ]; then
    rm -f "$R/$ID-wtl.png"
    (cd "$R" && gnuplot "$ID-wtl.gp") 2>"$T/rerender.err"
    check "a figure re-renders from its .gp ($(cat "$T/rerender.err"))" [ -s "$R/$ID-wtl.png" ]
fi
check "summary.md: savings against random" has "$R/summary.md" "### Savings against random"
check "summary.md: win/tie/loss matrix" has "$R/summary.md" "### Win/tie/loss"
check "summary.md: Wilcoxon exact for 5 pairs" has "$R/summary.md" "(exact)"
check "margin beats random on these runs (the crippled check below is genuinely worse)" \
    sh -c "grep '^| margin | 5 |' '$R/summary.md' | grep -q '| better |'"

# --- the CI gate: the tiny grid against the committed baseline ---------------------------
expect 0 "CI gate: the grid against tests/baseline/ci.json" check "$T/runs" --baseline tests/baseline/ci.json
cp "$T/out" "$T/gate.txt"
check "CI gate prints a table" grep -q "margin .*AULC .* ok" "$T/gate.txt"

# --- the ceiling run sees the data the options after -- shape (here a smaller pool) -----------
ALSIM=$ALSIM bash ./run_all.sh --datasets "synthetic:blobs:k=3,d=4,n=600,test=200" --strategies "random margin" \
    --seeds 2 --rounds 2 --out "$T/cruns" --report "$T/crep" -- --batch 4 --init 6 --hidden 8 --epochs 3 \
    --pool-size 300 >"$T/ceil.out" 2>"$T/ceil.err"; st=$?
check "run_all.sh with a ceiling and -- --pool-size: the report takes the ceiling ($(tail -n 1 "$T/ceil.err"))" \
    [ $st -eq 0 ] && grep -q '"pool_size": 300' "$T"/cruns/*full-data*/config.json

# --- a grid one level deeper (DIR/dataset/run folders), for report, baseline and check -------
mkdir -p "$T/nest/ci/syn" && cp -r "$T"/runs/* "$T/nest/ci/syn/"
ln -s "$T/runs" "$T/nest/ci/linked"        # followed, it would give every run twice
expect 0 "report: run folders two levels down are found" report "$T/nest" --out "$T/rnest"
check "nested: the 15 runs read" grep -q '"runs_read": 15' "$T/rnest/summary.json"
check "nested: the link was not followed, and the report says so" \
    grep -q "1 symbolic links among the runs folders were not followed" "$T/rnest/summary.md"
expect 0 "baseline: run folders two levels down" baseline "$T/nest" --out "$T/nbase.json" --target 0.8
check "nested baseline: 3 groups from 15 runs" grep -q "3 (dataset, strategy) groups from 15 runs" "$T/err"
expect 0 "check: run folders two levels down against tests/baseline/ci.json" check "$T/nest" --baseline tests/baseline/ci.json

# --- the gate's promises ---------------------------------------------------------------
expect 0 "baseline from the grid" baseline "$T/runs" --out "$T/base.json" --target 0.8
expect 0 "a rerun identical to the baseline passes" check "$T/runs" --baseline "$T/base.json"
check "identical: paired test" grep -q "paired t, n=5" "$T/out"
expect 1 "a crippled strategy fails (random's runs against margin's baseline)" \
    check "$T/runs" --baseline "$T/base.json" --against random=margin
check "crippled: the margin row says REGRESSION" grep -q "random (as margin) .*AULC.*REGRESSION" "$T/out"
# A gate never passes on a name it did not understand.
expect 2 "a typo in --against's BASE is refused, not a pass" check "$T/runs" --baseline "$T/base.json" --against random=margn
check "typo in BASE: named" grep -q "has no strategy 'margn'" "$T/err"
expect 2 "a typo in --against's NEW is refused" check "$T/runs" --baseline "$T/base.json" --against randm=margin
check "typo in NEW: named" grep -q "no run of strategy 'randm'" "$T/err"
mkdir -p "$T/onlymargin" && cp -r "$T"/runs/*-margin-seed* "$T/onlymargin/"
expect 0 "a baseline of margin alone" baseline "$T/onlymargin" --out "$T/margin.json" --target 0.8
expect 2 "runs of a strategy the baseline lacks are refused, not left unchecked" check "$T/runs" --baseline "$T/margin.json"
check "unbaselined strategy: named" grep -q "no baseline for strategy '\(entropy\|random\)'" "$T/err"
for s in random entropy margin; do
    "$ALSIM" --dataset "$SYN" $CI_OPTS --strategy $s --seed 5 --seeds 5 --out "$T/other" || bad "runs with seeds 5-9"
done
expect 0 "a rerun with other seeds of unchanged strategies passes" check "$T/other" --baseline "$T/base.json"
check "other seeds: Welch's test" grep -q "Welch t, n=5/5" "$T/out"
"$ALSIM" --dataset "$SYN" $CI_OPTS --epochs 40 --strategy margin --seeds 2 --out "$T/epochs40" || bad "epochs 40 runs"
expect 2 "a config mismatch is refused" check "$T/epochs40" --baseline "$T/base.json"
check "config mismatch names the key" grep -q "config mismatch .*epochs: 50 vs 40" "$T/err"
printf '{\n  "alsim_baseline": 1,\n  "groups": [ oops ]\n}\n' >"$T/broken.json"
expect 2 "a malformed baseline" check "$T/runs" --baseline "$T/broken.json"
check "malformed baseline: file and line" grep -q "broken.json: line 3" "$T/err"
expect 2 "check without --baseline" check "$T/runs"
expect 2 "check --tolerance oops" check "$T/runs" --baseline "$T/base.json" --tolerance oops

# --- degenerate input the report defines ------------------------------------------------
expect 2 "mixed configs in one report are refused" report "$T/runs" "$T/epochs40" --out "$T/mixed"
check "mixed configs: both runs and the key named" grep -q "different configs: .* and .* differ in epochs" "$T/err"
check "mixed configs: nothing written" [ ! -e "$T/mixed/summary.md" ]

# A diverged run, as run.c leaves one: status "diverged", the curve ending in a NaN round.
mkdir -p "$T/div"
for d in "$T"/runs/*-margin-seed* "$T"/runs/*-random-seed*; do cp -r "$d" "$T/div/"; done
D=$(ls -d "$T"/div/*-margin-seed2-*)
sed -i 's/"status": "ok"/"status": "diverged"/' "$D/summary.json"
head -n 5 "$D/curve.csv" >"$D/c" && echo "4,24,nan,nan,nan,nan,200,3200,1e6" >>"$D/c" && mv "$D/c" "$D/curve.csv"
expect 0 "a diverged run is left out, not a crash" report "$T/div" --out "$T/rdiv"
check "diverged: counted in summary.json" grep -q '"runs_left_out": 1' "$T/rdiv/summary.json"
check "diverged: named in summary.md" grep -q "left out .*margin-seed2.*diverged" "$T/rdiv/summary.md"
check "diverged: margin uses 4 seeds" grep -q '^| margin | 4 | 1 |' "$T/rdiv/summary.md"

# A run with fewer rounds than its config asks for: every AULC of the dataset uses the same rounds.
mkdir -p "$T/short"
for d in "$T"/runs/*-margin-seed* "$T"/runs/*-random-seed*; do cp -r "$d" "$T/short/"; done
S=$(ls -d "$T"/short/*-margin-seed1-*)
head -n 9 "$S/curve.csv" >"$S/c" && mv "$S/c" "$S/curve.csv"
expect 0 "a strategy missing rounds" report "$T/short" --out "$T/rshort"
check "missing rounds: a note" grep -q "has only 8 of the 13 rounds its config asks for" "$T/rshort/summary.md"
check "missing rounds: 8 rows compared" grep -q '"curve_rows_compared": 8' "$T/rshort/summary.json"

# A single seed.
one=$(ls -d "$T"/runs/*-margin-seed0-*)
expect 0 "a single seed" report "$one" --out "$T/rone"
check "single seed: said so" grep -q "margin has a single seed: means only" "$T/rone/summary.md"

# All differences zero: a dataset every strategy learns perfectly from the first round.
EASY="synthetic:blobs:k=2,d=2,n=400,test=200,sep=80"
for s in random margin; do
    "$ALSIM" --dataset "$EASY" --rounds 3 --batch 2 --init 4 --hidden 8 --epochs 200 --lr 0.05 --dropout 0 --seeds 3 --strategy $s --quiet --out "$T/easy" || bad "easy runs"
done
expect 0 "all differences zero" report "$T/easy" --out "$T/reasy"
check "all zero: paired t p = 1" grep -q '"t_p": 1,' "$T/reasy/summary.json"
check "all zero: Wilcoxon p = 1" grep -q '"wilcoxon_p": 1,' "$T/reasy/summary.json"
check "all zero: a tie" grep -q '"verdict": "tie"' "$T/reasy/summary.json"

# Labels-to-target from a full-data ceiling run of the same dataset.
"$ALSIM" --dataset "$SYN" --full-data --epochs 5 --hidden 32 --quiet --out "$T/ceil" || bad "full-data run"
cp -r "$T"/runs/* "$T/ceil/"
expect 0 "a report with a full-data ceiling" report "$T/ceil" --out "$T/rceil" --target-frac 0.95
check "ceiling: target from it" grep -q "x the full-data ceiling" "$T/rceil/summary.md"
check "ceiling: a ceiling line in the curves" grep -q "full-data ceiling" "$T/rceil/$ID-curves.gp"

# No gnuplot: the numbers and scripts, no images, a warning, exit 0.
PATH=/nonexistent "$ALSIM" report "$T/runs" --out "$T/rnogp" >/dev/null 2>"$T/nogp.err"
check "no gnuplot: exit 0" [ $? -eq 0 ]
check "no gnuplot: warned" grep -q "gnuplot not found" "$T/nogp.err"
check "no gnuplot: scripts written, no images" [ -s "$T/rnogp/$ID-curves.gp" -a ! -e "$T/rnogp/$ID-curves.png" ]

# --- bad input --------------------------------------------------------------------------
expect 2 "report of a folder without runs" report "$T/rep" --out "$T/x"
expect 2 "report of a missing folder" report "$T/nosuch" --out "$T/x"
mkdir -p "$T/bad"; cp -r "$one" "$T/bad/"
B=$(ls -d "$T"/bad/*)
printf 'round,n_labeled,accuracy,macro_f1\n0,8,0.5,0.5\n1,12,zero,0.5\n' >"$B/curve.csv"
expect 2 "a malformed curve.csv" report "$T/bad" --out "$T/x"
check "malformed curve.csv: file and line" grep -q "curve.csv: line 3: accuracy \"zero\" is not a number" "$T/err"
printf '{ "status": ' >"$B/summary.json"
expect 2 "a truncated summary.json" report "$T/bad" --out "$T/x"
check "truncated summary.json: named" grep -q "summary.json: line 1: malformed JSON" "$T/err"
expect 2 "the same run twice" report "$one" "$T/runs" --out "$T/x"
expect 2 "report --alpha 2" report "$T/runs" --alpha 2
expect 2 "report --nosuch" report "$T/runs" --nosuch
expect 0 "report --help" report --help

finish e2e_reports
