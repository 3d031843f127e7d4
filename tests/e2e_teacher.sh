#!/bin/sh
# End-to-end tests of --strategy teacher (label look-ahead, for measurement only) and
# --reward-size:
#   the run says what it is (stderr, config.json, --help, --list) and records each round's
#   candidates, the one chosen and the refits' cost in rounds.jsonl, apart from the ledger,
#   whose budget columns are a margin run's;
#   the reward split leaves the pool (config.json), the teacher's default is 1000 rows, a
#   margin run with the same --reward-size has the same pool and the same run id but for the
#   strategy;
#   the same command gives byte-identical files; killed and resumed, too;
#   impossible sizes and models without what the teacher needs are refused: exit 2, one line,
#   no run folder.
# Ends with "e2e_teacher: N passed, M failed"; exit status 0 when all pass. Under a minute.
. tests/lib.sh
SYN="synthetic:blobs:k=4,d=10,n=600,test=200,sep=1.5"
SMALL="--dataset $SYN --rounds 4 --batch 5 --init 8 --hidden 16 --epochs 4 --minibatch 16 --mc 4 --seed 7"

# --- what it says it is -------------------------------------------------------------------
"$ALSIM" $SMALL --strategy teacher --reward-size 100 --out "$T/t" 2>"$T/t.err" || bad "teacher run"
d=$(only_dir "$T/t") || bad "no teacher run folder"
check "stderr: label look-ahead, measurement only" grep -q "LABEL LOOK-AHEAD, for measurement only" "$T/t.err"
check "every progress line says label look-ahead (but the last round's)" \
    [ "$(grep -c "| label look-ahead: " "$T/t.err")" -eq 4 ]
check "config.json: label_lookahead" grep -q '"label_lookahead": "this strategy reads labels it has not queried' "$d/config.json"
check "config.json: reward_size and reward_rows" sh -c "grep -q '\"reward_size\": 100,' '$d/config.json' && grep -q '\"reward_rows\": 100' '$d/config.json'"
check "--help marks it" sh -c "'$ALSIM' --help | grep -q 'reward-size.*label look-ahead, measurement only'"
check "--list marks it" sh -c "'$ALSIM' --list | grep -q '^teacher .*LABEL LOOK-AHEAD, for measurement only'"
# rounds.jsonl: rounds 0..3 have a lookahead with its candidates, the chosen one among them,
# at least one refit; the last round none
check "rounds.jsonl: each round's candidates, choice and refits" [ "$(awk '
    { has = index($0, "\"lookahead\":") > 0
      if (NR <= 4) {
          if (!has) bad = bad " round " NR - 1 ": none"
          if (!match($0, /"chosen":"[a-z-]+"/)) { bad = bad " no choice"; next }
          ch = substr($0, RSTART + 10, RLENGTH - 11)
          if (index($0, "\"name\":\"" ch "\"") == 0) bad = bad " chosen " ch " not a candidate"
          if (!match($0, /"refits":[1-9]/)) bad = bad " no refit"
          if (index($0, "\"name\":\"margin\"") == 0 || index($0, "\"name\":\"bald\"") == 0) bad = bad " missing candidates"
      } else if (has) bad = bad " the last round looked ahead" }
    END { print NR == 5 && bad == "" ? "ok" : "bad:" bad }' "$d/rounds.jsonl")" = ok ]
# the ledger is the run's own: curve.csv's budget columns (steps, samples, flops) are margin's
"$ALSIM" $SMALL --strategy margin --reward-size 100 --out "$T/m" --quiet || bad "margin run"
dm=$(only_dir "$T/m")
check "the budget columns of curve.csv are a margin run's" sh -c "[ \"\$(cut -d, -f7-9 '$d/curve.csv')\" = \"\$(cut -d, -f7-9 '$dm/curve.csv')\" ]"
check "the same --reward-size: the same pool as margin's" [ "$(json_num "$d/config.json" pool_rows)" = "$(json_num "$dm/config.json" pool_rows)" ]
check "the same --reward-size: round 0 as margin's" [ "$(sed -n 2p "$d/curve.csv")" = "$(sed -n 2p "$dm/curve.csv")" ]
check "run ids differ in the strategy alone" [ "$(basename "$d" | sed 's/-teacher-/-X-/')" = "$(basename "$dm" | sed 's/-margin-/-X-/')" ]
"$ALSIM" $SMALL --strategy margin --out "$T/m0" --quiet || bad "margin run without --reward-size"
dm0=$(only_dir "$T/m0")
check "--reward-size 100: 100 rows fewer in the pool" [ "$(json_num "$dm0/config.json" pool_rows)" -eq $(( $(json_num "$dm/config.json" pool_rows) + 100 )) ]
check "without --reward-size: no reward split in config.json" sh -c "grep -q '\"reward_size\": 0,' '$dm0/config.json' && ! grep -q reward_rows '$dm0/config.json'"
# the teacher's default reward split
"$ALSIM" --dataset synthetic:blobs:k=3,d=6,n=1600,test=200 --rounds 2 --batch 5 --init 6 --hidden 8 --epochs 2 \
    --strategy teacher --out "$T/dflt" --quiet 2>/dev/null || bad "teacher with the default reward split"
check "the teacher's default reward split: 1000 rows" grep -q '"reward_size": 1000,' "$(only_dir "$T/dflt")/config.json"

# --- determinism, kill and resume ---------------------------------------------------------
"$ALSIM" $SMALL --strategy teacher --reward-size 100 --out "$T/t2" --quiet || bad "teacher again"
d2=$(only_dir "$T/t2")
check "the same command: byte-identical curve.csv" cmp -s "$d/curve.csv" "$d2/curve.csv"
check "the same command: byte-identical rounds.jsonl" cmp -s "$d/rounds.jsonl" "$d2/rounds.jsonl"
"$ALSIM" $SMALL --strategy teacher --reward-size 100 --seed 8 --out "$T/t3" --quiet || bad "teacher seed 8"
check "another seed: other picks" sh -c "! cmp -s '$d/rounds.jsonl' '$(only_dir "$T/t3")/rounds.jsonl'"

BIG="--dataset synthetic:blobs:k=5,d=64,n=12000,test=2000 --strategy teacher --reward-size 500 --rounds 8 --batch 10 --init 10 --hidden 128 --epochs 30 --mc 10 --seed 3"
"$ALSIM" $BIG --out "$T/ref" --quiet || bad "reference run"
for n in 1 4; do
    kill_at "$n" "$T/k" $BIG
done
"$ALSIM" $BIG --out "$T/k" --resume 2>"$T/resume.log" || bad "final resume"
check "the last resume continued a checkpoint" grep -q "resuming .* after round" "$T/resume.log"
check "killed and resumed: curve.csv byte-identical" cmp -s "$(only_dir "$T/ref")/curve.csv" "$(only_dir "$T/k")/curve.csv"
check "killed and resumed: rounds.jsonl byte-identical" cmp -s "$(only_dir "$T/ref")/rounds.jsonl" "$(only_dir "$T/k")/rounds.jsonl"

# --- refusals -----------------------------------------------------------------------------
expect_fail 2 "--reward-size as large as the pool" $SMALL --strategy teacher --reward-size 600
check "... names the option and the pool" grep -q -- "--reward-size 600: .* has only .* pool rows" "$T/fail.err"
expect_fail 2 "--reward-size negative" $SMALL --strategy teacher --reward-size -1
check "... names the option" grep -q -- "--reward-size" "$T/fail.err"
expect_fail 2 "--reward-size not a number" $SMALL --strategy teacher --reward-size many
expect_fail 2 "--reward-size leaving too few rows for the rounds" $SMALL --strategy teacher --reward-size 575
check "... says what the reward split left" grep -q -- "more than the pool .* after --reward-size 575" "$T/fail.err"
expect_fail 2 "the teacher's default on a pool too small for it" $SMALL --strategy teacher
expect_fail 2 "--reward-size after --pool-size" $SMALL --strategy teacher --pool-size 100 --reward-size 100
expect_fail 2 "teacher without a hidden layer (k-center's embeddings)" $SMALL --strategy teacher --reward-size 100 --hidden 0
expect_fail 2 "teacher with logreg" $SMALL --strategy teacher --reward-size 100 --model logreg
finish e2e_teacher
