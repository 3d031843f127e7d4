#!/bin/sh
# End-to-end tests of the protocol's knobs (the Gal et al. 2017 protocol, README):
#   --pool-subset N   every pick of a round is among the N rows it scored (rounds.jsonl's
#                     "subset"), which are unlabeled, shared by strategies in round 0, and the
#                     same for the same command;
#   --val-size N      N rows leave the pool (config.json), the curve gains val_ columns at its
#                     end (the others as before), rounds.jsonl a "val" object; deterministic;
#   --l2-per-label c  changes the curve, deterministically, and is recorded;
#   --early-stop P    each round stops after whole epochs once P pass without a better
#                     validation accuracy (rounds.jsonl: steps_used, converged), deterministically;
# a run with both killed and resumed ends byte-identical; each knob refused (exit 2, one line,
# no run folder) where it cannot apply; the run ids of runs that do not use them as before
# these options existed.
# Ends with "e2e_protocol: N passed, M failed"; exit status 0 when all pass. A few seconds.
. tests/lib.sh
# rounds_check FILE PROGRAM: runs the awk PROGRAM over rounds.jsonl FILE with arr(line, key, a)
# (the numbers of the array member key into a[1..n]; n, or -1 when absent) and prints what
# PROGRAM prints (tests compare it with "ok").
rounds_check() {
    awk 'function arr(line, key, a,   s, n) {
             if (!match(line, "\"" key "\":\\[[^]]*\\]")) return -1
             s = substr(line, RSTART + length(key) + 4, RLENGTH - length(key) - 5)
             n = split(s, a, ",")
             return s == "" ? 0 : n
         }
         '"$2" "$1"
}
SYN="synthetic:blobs:k=4,d=10,n=400,test=200,sep=2.0"
SMALL="--dataset $SYN --rounds 4 --batch 5 --init 8 --hidden 16 --epochs 4 --minibatch 16 --mc 4 --seed 7 --quiet"

# --- --pool-subset ----------------------------------------------------------------------
for s in random bald rl; do
    "$ALSIM" $SMALL --strategy "$s" --pool-subset 50 --out "$T/sub/$s" || bad "--pool-subset run $s"
    d=$(only_dir "$T/sub/$s") || { bad "no run folder for $s"; continue; }
    # each scoring round: 50 distinct unlabeled rows scored, all 5 picks among them; the last
    # round scores nothing
    check "$s: every round scored 50 distinct rows, none labeled before, and picked among them" \
        [ "$(rounds_check "$d/rounds.jsonl" '
            { ni = arr($0, "initial", ini); for (i = 1; i <= ni; i++) lab[ini[i]] = 1
              ns = arr($0, "subset", sub_); np = arr($0, "picked", pk); delete in_sub
              if (NR <= 4 && ns != 50) bad = bad " round " NR - 1 ": " ns " rows scored"
              if (NR == 5 && ns != -1) bad = bad " the last round scored rows"
              for (i = 1; i <= ns; i++) {
                  if (sub_[i] in in_sub) bad = bad " a row twice"
                  if (sub_[i] in lab) bad = bad " a labeled row scored"
                  in_sub[sub_[i]] = 1 }
              if (NR <= 4 && np != 5) bad = bad " " np " picks"
              for (i = 1; i <= np; i++) { if (!(pk[i] in in_sub)) bad = bad " a pick outside the subset"; lab[pk[i]] = 1 } }
            END { print NR == 5 && bad == "" ? "ok" : "bad:" bad }')" = ok ]
    rounds_check "$d/rounds.jsonl" 'NR == 1 { n = arr($0, "subset", a); for (i = 1; i <= n; i++) printf "%s ", a[i] }' >"$T/sub0.$s"
    check "$s: config.json records pool_subset" grep -q '"pool_subset": 50,' "$d/config.json"
done
check "round 0: the same subset for every strategy" sh -c "[ -s '$T/sub0.random' ] && cmp -s '$T/sub0.random' '$T/sub0.bald' && cmp -s '$T/sub0.random' '$T/sub0.rl'"
"$ALSIM" $SMALL --strategy bald --pool-subset 50 --out "$T/sub2" || bad "--pool-subset again"
d1=$(only_dir "$T/sub/bald"); d2=$(only_dir "$T/sub2")
check "--pool-subset: the same command, byte-identical curve.csv" cmp -s "$d1/curve.csv" "$d2/curve.csv"
check "--pool-subset: the same command, byte-identical rounds.jsonl" cmp -s "$d1/rounds.jsonl" "$d2/rounds.jsonl"
"$ALSIM" $SMALL --strategy bald --out "$T/whole" || bad "whole-pool run"
dw=$(only_dir "$T/whole")
check "--pool-subset: another run id" [ "$(basename "$d1")" != "$(basename "$dw")" ]
check "--pool-subset: other picks than scoring the whole pool" sh -c "! cmp -s '$d1/rounds.jsonl' '$dw/rounds.jsonl'"
check "the whole pool: no subset recorded" sh -c "! grep -q '\"subset\"' '$dw/rounds.jsonl'"

# --- --val-size ---------------------------------------------------------------------------
"$ALSIM" $SMALL --strategy margin --val-size 40 --out "$T/val" || bad "--val-size run"
"$ALSIM" $SMALL --strategy margin --out "$T/noval" || bad "run without --val-size"
dv=$(only_dir "$T/val"); dn=$(only_dir "$T/noval")
pool_all=$(json_num "$dn/config.json" pool_rows)
check "--val-size: 40 rows leave the pool" [ "$(json_num "$dv/config.json" pool_rows)" -eq $((pool_all - 40)) ]
check "--val-size: config.json records it" [ "$(json_num "$dv/config.json" val_size),$(json_num "$dv/config.json" val_rows)" = "40,40" ]
check "--val-size: curve.csv's columns as before, then val_accuracy,val_macro_f1,val_nll" \
    [ "$(head -n 1 "$dv/curve.csv")" = "$(head -n 1 "$dn/curve.csv"),val_accuracy,val_macro_f1,val_nll" ]
check "--val-size: a validation accuracy every round, in [0, 1]" \
    awk -F, 'NR > 1 { n++; if (!($10 >= 0 && $10 <= 1)) exit 1 } END { exit n != 5 }' "$dv/curve.csv"
check "--val-size: rounds.jsonl's val object equals curve.csv's" \
    [ "$(sed -n 's/.*"val":{"accuracy":\([^,]*\),.*/\1/p' "$dv/rounds.jsonl" | tr '\n' ' ')" = "$(col "$dv/curve.csv" 10 | tr '\n' ' ')" ]
check "--val-size: initial and picked rows are distinct rows of the smaller pool" \
    [ "$(rounds_check "$dv/rounds.jsonl" '
        function add(r) { if (r in seen || r < 0 || r >= '"$((pool_all - 40))"') bad = 1; seen[r] = 1; k++ }
        { n = arr($0, "initial", a); for (i = 1; i <= n; i++) add(a[i])
          n = arr($0, "picked", a); for (i = 1; i <= n; i++) add(a[i]) }
        END { print !bad && k == 8 + 4 * 5 ? "ok" : "bad" }')" = ok ]
check "without --val-size: curve.csv and rounds.jsonl have no validation" \
    sh -c "! grep -q val '$dn/curve.csv' && ! grep -q '\"val\"' '$dn/rounds.jsonl'"
"$ALSIM" $SMALL --strategy margin --val-size 40 --out "$T/val2" || bad "--val-size again"
check "--val-size: the same command, byte-identical curve.csv" cmp -s "$dv/curve.csv" "$(only_dir "$T/val2")/curve.csv"
"$ALSIM" $SMALL --strategy margin --val-size 40 --pool-subset 30 --full-data --out "$T/valfull" || bad "--val-size --full-data"
check "--val-size with --full-data: measured too" [ "$(col "$(only_dir "$T/valfull")/curve.csv" 10 | wc -l)" -eq 1 ]

# --- --l2-per-label -----------------------------------------------------------------------
"$ALSIM" $SMALL --strategy margin --l2-per-label 3.5 --out "$T/l2" || bad "--l2-per-label run"
"$ALSIM" $SMALL --strategy margin --l2-per-label 3.5 --out "$T/l2b" || bad "--l2-per-label again"
dl=$(only_dir "$T/l2")
check "--l2-per-label: another curve than without" sh -c "! cmp -s '$dl/curve.csv' '$dn/curve.csv'"
check "--l2-per-label: the same command, byte-identical curve.csv" cmp -s "$dl/curve.csv" "$(only_dir "$T/l2b")/curve.csv"
check "--l2-per-label: the same budget as without" [ "$(col "$dl/curve.csv" 7-9)" = "$(col "$dn/curve.csv" 7-9)" ]
check "--l2-per-label: config.json records it" grep -q '"l2_per_label": 3.5,' "$dl/config.json"
check "--l2-per-label: another run id" [ "$(basename "$dl")" != "$(basename "$dn")" ]

# --- --early-stop -------------------------------------------------------------------------
# epochs of --epoch-rows 64 draws (4 steps of 16), at most 40; patience 2 on the 40 validation
# rows: each round stops early, its steps_used a whole number of epochs, flagged converged
ES="$SMALL --strategy margin --val-size 40 --epochs 40 --epoch-rows 64 --lr 0.01"
"$ALSIM" $ES --early-stop 2 --out "$T/es" || bad "--early-stop run"
"$ALSIM" $ES --early-stop 2 --out "$T/es2" || bad "--early-stop again"
de=$(only_dir "$T/es")
check "--early-stop: the same command, byte-identical curve.csv" cmp -s "$de/curve.csv" "$(only_dir "$T/es2")/curve.csv"
check "--early-stop: the same command, byte-identical rounds.jsonl" cmp -s "$de/rounds.jsonl" "$(only_dir "$T/es2")/rounds.jsonl"
check "--early-stop: the budget is the cap, 40 epochs of 4 steps" [ "$(col "$de/curve.csv" 7 | sort -u)" = "160" ]
check "--early-stop: every round stopped early, after whole epochs, at 3 epochs or more" sh -c "grep -o '\"steps_used\":[0-9]*,\"flops_used\":[0-9.e+]*,\"converged\":true' '$de/rounds.jsonl' |
    sed 's/.*steps_used\":\([0-9]*\),.*/\1/' | awk '\$1 % 4 || \$1 < 12 || \$1 >= 160 { bad = 1 } END { exit bad || NR != 5 }'"
check "--early-stop: config.json records it" grep -q '"early_stop": 2,' "$de/config.json"
"$ALSIM" report "$T/es" --out "$T/es-rep" >/dev/null 2>&1 || bad "report of an early-stopped run"
check "--early-stop: the report says the budgets differ" grep -q '^\*\*Early stopping\*\* (`early_stop`): each fit stopped on the validation set, so the strategies. training budgets differ' "$T/es-rep/summary.md"
# a patience longer than the epochs: every epoch runs, flagged not converged
"$ALSIM" $ES --early-stop 1000 --out "$T/esall" || bad "--early-stop 1000 run"
da=$(only_dir "$T/esall")
check "--early-stop 1000: every epoch runs, not converged" sh -c "[ \"\$(grep -c '\"steps_used\":160,\"flops_used\":[0-9.e+]*,\"converged\":false' '$da/rounds.jsonl')\" -eq 5 ]"
check "--early-stop 2 stops where --early-stop 1000 runs on: fewer steps" [ "$(grep -o '"steps_used":[0-9]*' "$de/rounds.jsonl" | head -1)" != '"steps_used":160' ]

# --- killed and resumed: the subsets and the validation columns as an uninterrupted run's --
# (many small steps: about a second, so that the kill lands mid-run)
RES="--dataset synthetic:blobs:k=5,d=64,n=4000,test=500 --strategy bald --rounds 5 --batch 10 --init 10 --hidden 128 --epochs 2000 --minibatch 4 --mc 8 --seed 3 --pool-subset 500 --val-size 200"
"$ALSIM" $RES --quiet --out "$T/res-ref" || bad "reference run for resume"
"$ALSIM" $RES --out "$T/res" 2>"$T/res.log" &
pid=$!
i=0
while kill -0 "$pid" 2>/dev/null && ! grep -q "round *1/" "$T/res.log" 2>/dev/null && [ $i -lt 3000 ]; do
    sleep 0.01; i=$((i + 1))
done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
"$ALSIM" $RES --out "$T/res" --resume 2>"$T/res2.log" || bad "resume"
check "resumed after a SIGKILL" grep -q "resuming .* after round" "$T/res2.log"
check "killed and resumed: curve.csv byte-identical" cmp -s "$(only_dir "$T/res-ref")/curve.csv" "$(only_dir "$T/res")/curve.csv"
check "killed and resumed: rounds.jsonl byte-identical" cmp -s "$(only_dir "$T/res-ref")/rounds.jsonl" "$(only_dir "$T/res")/rounds.jsonl"

# --- refused before any run folder --------------------------------------------------------
expect_fail 2 "--pool-subset below --batch" $SMALL --pool-subset 4
check "... says so" grep -q -- "--pool-subset 4 is smaller than --batch 5" "$T/fail.err"
expect_fail 2 "--pool-subset beyond round 0's unlabeled rows" $SMALL --pool-subset 395
check "... says so" grep -q -- "--pool-subset 395 is more than the 392 unlabeled rows" "$T/fail.err"
expect_fail 2 "--val-size as large as the pool" $SMALL --val-size 400
check "... says so" grep -q -- "--val-size 400: .* has only 400 pool rows" "$T/fail.err"
expect_fail 2 "--val-size + --init beyond the pool" $SMALL --val-size 395
check "... says so" grep -q -- "--init 8 is larger than the pool .*5 rows after --val-size 395" "$T/fail.err"
expect_fail 2 "--val-size leaving too few rows for the rounds" $SMALL --val-size 380
expect_fail 2 "--l2-per-label with --model logreg" $SMALL --model logreg --strategy margin --l2-per-label 3.5
expect_fail 2 "--l2-per-label below 0" $SMALL --l2-per-label -1
expect_fail 2 "--pool-subset below 0" $SMALL --pool-subset -1
expect_fail 2 "--early-stop without --val-size" $SMALL --early-stop 3
check "... says so" grep -q -- "--early-stop 3 measures a validation set after each epoch: add --val-size N" "$T/fail.err"
expect_fail 2 "--early-stop with --model logreg" $SMALL --model logreg --strategy margin --val-size 40 --early-stop 3

# --- run ids: runs that do not use the knobs keep the ids alsim gave them before (these
# folder names are those of alsim at 7fed235, before the options existed) -----------------
IDS="--dataset synthetic:blobs:k=3,d=5,n=300,test=100 --rounds 2 --batch 5 --init 6 --hidden 8 --epochs 2 --mc 3 --quiet --device cpu"
for knobs in "" "--pool-subset 0 --val-size 0 --l2-per-label 0"; do
    rm -rf "$T/ids"
    "$ALSIM" $IDS --strategy bald $knobs --out "$T/ids" || bad "ids run"
    "$ALSIM" $IDS --strategy random $knobs --out "$T/ids" || bad "ids run (random)"
    "$ALSIM" $IDS --full-data --mc 20 $knobs --out "$T/ids" || bad "ids run (full data)"
    check "run ids as before the knobs (${knobs:-defaults})" [ "$(ls "$T/ids" | tr '\n' ' ')" = \
        "synthetic_blobs_k_3_d_5_n_300_test_100_sep_2.5_seed_1-mlp-bald-seed0-ccc412b3 synthetic_blobs_k_3_d_5_n_300_test_100_sep_2.5_seed_1-mlp-full-data-seed0-90494be5 synthetic_blobs_k_3_d_5_n_300_test_100_sep_2.5_seed_1-mlp-random-seed0-ccc412b3 " ]
done

finish e2e_protocol
