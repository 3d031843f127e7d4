#!/bin/sh
# The RL strategy end to end: train-policy (--algo dagger and reinforce) is deterministic under
# a seed and continues a stopped or killed training to the same policy; `--strategy rl --policy FILE` runs and is deterministic;
# DAgger learns the diversity penalty's λ, REINFORCE leaves it 0; the shipped policy (the init,
# which scores as margin) picks margin's rows, bit for bit, and so does it written as a version
# 2 file (no λ); a malformed policy file, or one of version 1, is refused with exit 2 and one line.
. tests/lib.sh

SYN="synthetic:blobs:k=3,d=8,n=3000,test=500"
TP="--train $SYN --rounds 3 --pool-size 300 --reward-size 200 --batch 5 --init 6 --hidden 16 --epochs 5 --mc 4 --seed 1 --quiet"

for algo in dagger reinforce; do
A="$TP --algo $algo"
"$ALSIM" train-policy $A --episodes 6 --out "$T/a.json" || bad "$algo: train-policy a"
"$ALSIM" train-policy $A --episodes 6 --out "$T/b.json" || bad "$algo: train-policy b"
check "$algo: the same seed gives the same policy, byte for byte" cmp "$T/a.json" "$T/b.json"
check "$algo: the file records its provenance" grep -q "\"algo\": \"$algo\"" "$T/a.json"
check "$algo: the file records its episodes" grep -q '"episodes": 6' "$T/a.json"
check "$algo: the policy moved from the init" sh -c "! cmp -s '$T/a.json' strategies/default-policy.json"
# The diversity penalty's λ: DAgger learns it from the teacher's preferences; REINFORCE samples
# from per-row scores and leaves it at 0.
lam=$(tr -d ' \n' <"$T/a.json" | grep -o '"lambda_a":\[[^]]*\],"lambda_0":\[[^]]*\]')
if [ "$algo" = dagger ]; then
    check "dagger: λ learned (not all 0: $lam)" sh -c "echo '$lam' | grep -q '[1-9]'"
else
    check "reinforce: λ stays 0 ($lam)" [ "$lam" = '"lambda_a":[0,0,0,0],"lambda_0":[0]' ]
fi
"$ALSIM" train-policy $A --seed 2 --episodes 6 --out "$T/c.json" || bad "$algo: train-policy c"
check "$algo: another seed, another policy" sh -c "! cmp -s '$T/a.json' '$T/c.json'"

# Stopped after 3 episodes and continued to 6: the state carries everything (the policy, Adam's
# moments, the baselines, DAgger's aggregated states), so it ends where 6 in one go end.
"$ALSIM" train-policy $A --episodes 3 --out "$T/h.json" || bad "$algo: train-policy h (3 episodes)"
"$ALSIM" train-policy $A --episodes 6 --out "$T/h.json" || bad "$algo: train-policy h (to 6)"
check "$algo: 3 episodes then 3 more, the same policy as 6" cmp "$T/a.json" "$T/h.json"

# Killed after a few episodes and started again: continues, and ends where an uninterrupted
# training ends.
rm -f "$T/k.log"
"$ALSIM" train-policy $(echo "$A" | sed 's/--quiet//') --episodes 6 --out "$T/k.json" 2>"$T/k.log" &
pid=$!
while kill -0 "$pid" 2>/dev/null && ! grep -q "episode *3/" "$T/k.log" 2>/dev/null; do sleep 0.01; done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
"$ALSIM" train-policy $(echo "$A" | sed 's/--quiet//') --episodes 6 --out "$T/k.json" 2>"$T/k2.log" || bad "$algo: resumed training"
check "$algo: a killed training resumes" grep -q "resuming after episode" "$T/k2.log"
check "$algo: resumed, the same policy" cmp "$T/a.json" "$T/k.json"

# Killed between the state file and the policy file after the last episode: the policy file is
# one episode behind a finished state; the same command writes it again.
"$ALSIM" train-policy $A --episodes 5 --out "$T/s.json" || bad "$algo: train-policy s (5 episodes)"
cp "$T/s.json" "$T/s5.json"
"$ALSIM" train-policy $A --episodes 6 --out "$T/s.json" || bad "$algo: train-policy s (6 episodes)"
cp "$T/s5.json" "$T/s.json"
"$ALSIM" train-policy $A --episodes 6 --out "$T/s.json" || bad "$algo: train-policy s (nothing left)"
check "$algo: a finished state rewrites a policy file left behind" cmp "$T/a.json" "$T/s.json"
# A damaged state (cut short): refused, not trusted.
head -c $(( $(wc -c <"$T/s.json.state") - 7 )) "$T/s.json.state" >"$T/cut" && mv "$T/cut" "$T/s.json.state"
"$ALSIM" train-policy $A --episodes 7 --out "$T/s.json" 2>"$T/dmg.err"; st=$?
check "$algo: a damaged state is exit 2 (got $st)" [ "$st" -eq 2 ]
check "$algo: a damaged state says so" grep -q 's.json.state: damaged; delete it to train afresh' "$T/dmg.err"
cp "$T/a.json" "$T/$algo.json"
rm -f "$T"/[abchks].json "$T"/[abchks].json.state
done
check "dagger and reinforce train different policies" sh -c "! cmp -s '$T/dagger.json' '$T/reinforce.json'"
"$ALSIM" train-policy $TP --episodes 6 --out "$T/a.json" || bad "train-policy a (the default --algo)"
check "train-policy: --algo dagger is the default" cmp "$T/a.json" "$T/dagger.json"
"$ALSIM" train-policy $TP --seed 2 --episodes 6 --out "$T/c.json" || bad "train-policy c (the default --algo)"
"$ALSIM" train-policy $TP --algo nosuch --episodes 2 --out "$T/x.json" 2>"$T/algo.err"; st=$?
check "train-policy: an unknown --algo is exit 2 with the choices" sh -c "[ $st -eq 2 ] && grep -q 'dagger or reinforce' '$T/algo.err'"

# SIGTERM in the middle of a long episode stops it at the next round (not at the episode's
# end): exit 143 and one line saying how to continue.
"$ALSIM" train-policy --train "$SYN" --rounds 400 --pool-size 2000 --reward-size 200 --batch 4 --init 6 \
    --hidden 128 --epochs 400 --mc 4 --episodes 2 --out "$T/s.json" 2>"$T/s.log" &
pid=$!
sleep 1; kill -TERM "$pid"
st=0; timeout 30 sh -c "while kill -0 $pid 2>/dev/null; do sleep 0.05; done" || st=1
wait "$pid"; rc=$?
check "train-policy: SIGTERM mid-episode stops within the episode" [ "$st" -eq 0 ]
check "train-policy: SIGTERM is exit 143" [ "$rc" -eq 143 ]
check "train-policy: SIGTERM says how to continue" grep -q "stopped after episode 0; the same command continues it" "$T/s.log"

# The policy applied.
R="--dataset $SYN --strategy rl --rounds 3 --batch 5 --init 6 --hidden 16 --epochs 5 --mc 4 --quiet"
"$ALSIM" $R --policy "$T/a.json" --out "$T/r1" || bad "rl run 1"
"$ALSIM" $R --policy "$T/a.json" --out "$T/r2" || bad "rl run 2"
check "rl: a run finishes" [ -n "$(only_dir "$T/r1")" ]
check "rl: deterministic picks" cmp "$(only_dir "$T/r1")/rounds.jsonl" "$(only_dir "$T/r2")/rounds.jsonl"
check "rl: config.json records the policy" grep -q '"policy": ".*a.json"' "$(only_dir "$T/r1")/config.json"
"$ALSIM" $R --out "$T/r3" || bad "rl with the shipped default policy"
"$ALSIM" $R --policy "$T/c.json" --out "$T/r1" || bad "rl run with another policy"
check "rl: another policy file is another run, not one already finished" [ "$(ls "$T/r1" | wc -l)" -eq 2 ]
# The DAgger policy (its λ not 0: a greedy, diverse batch) with --pool-subset: deterministic.
"$ALSIM" $R --policy "$T/dagger.json" --pool-subset 200 --out "$T/d1" || bad "rl run with --pool-subset 1"
"$ALSIM" $R --policy "$T/dagger.json" --pool-subset 200 --out "$T/d2" || bad "rl run with --pool-subset 2"
check "rl with λ and --pool-subset: deterministic picks" \
    cmp "$(only_dir "$T/d1")/rounds.jsonl" "$(only_dir "$T/d2")/rounds.jsonl"

# The shipped policy learned nothing yet: it must pick margin's batches, row for row, with the
# whole pool scored and with --pool-subset (the same curve follows).
M="--dataset $SYN --rounds 4 --batch 5 --init 6 --hidden 16 --epochs 5 --mc 4 --quiet"
for sub in "" "--pool-subset 400"; do
    "$ALSIM" $M $sub --strategy margin --out "$T/mm" || bad "margin run $sub"
    "$ALSIM" $M $sub --strategy rl --out "$T/mr" || bad "rl run with the shipped policy $sub"
    grep -o '"picked":\[[^]]*\]' "$(only_dir "$T/mm")/rounds.jsonl" >"$T/mm.picks"
    grep -o '"picked":\[[^]]*\]' "$(only_dir "$T/mr")/rounds.jsonl" >"$T/mr.picks"
    check "rl with the shipped policy picks margin's rows ${sub:-(whole pool)}" \
        sh -c "[ \$(grep -c '[0-9]' '$T/mm.picks') -eq 4 ] && cmp -s '$T/mm.picks' '$T/mr.picks'"
    check "rl with the shipped policy: margin's curve ${sub:-(whole pool)}" \
        cmp "$(only_dir "$T/mm")/curve.csv" "$(only_dir "$T/mr")/curve.csv"
    rm -rf "$T/mm" "$T/mr"
done

# A policy file of version 2 (the mixture before the diversity penalty: no λ) is read with λ = 0:
# the shipped init written as version 2 picks margin's rows too.
tr -d '\n' <strategies/default-policy.json | sed -e 's/"version": 3/"version": 2/' \
    -e 's/, *"lambda_a": *\[[^]]*\], *"lambda_0": *\[[^]]*\]//' >"$T/v2.json"
check "version 2 file: written without λ" sh -c "grep -q '\"version\": 2' '$T/v2.json' && ! grep -q lambda '$T/v2.json'"
"$ALSIM" $M --strategy margin --out "$T/mm" || bad "margin run (version 2)"
"$ALSIM" $M --strategy rl --policy "$T/v2.json" --out "$T/m2" || bad "rl run with a version 2 policy"
grep -o '"picked":\[[^]]*\]' "$(only_dir "$T/mm")/rounds.jsonl" >"$T/mm.picks"
grep -o '"picked":\[[^]]*\]' "$(only_dir "$T/m2")/rounds.jsonl" >"$T/m2.picks"
check "version 2 file: read, picks margin's rows" sh -c "[ \$(grep -c '[0-9]' '$T/mm.picks') -eq 4 ] && cmp -s '$T/mm.picks' '$T/m2.picks'"
rm -rf "$T/mm" "$T/m2"

# A policy file of version 1 (the MLP before the rank features): refused, saying why.
printf '{"format": "alsim-policy",\n "version": 1,\n "architecture": {"kind": "mlp-tanh", "features": 11, "hidden": 16}}\n' >"$T/v1.json"
"$ALSIM" $R --policy "$T/v1.json" --out "$T/v1" >/dev/null 2>"$T/v1.err"; st=$?
check "version 1 policy: exit 2 (got $st)" [ "$st" -eq 2 ]
check "version 1 policy: says it must be retrained" grep -q 'v1.json: line 2: policy file version 1 .*train a new one' "$T/v1.err"

# A malformed policy: exit 2, one line naming the file; nothing written.
printf '{"format": "alsim-policy",\n "version": 2,\n "architecture": {"kind": "mlp-tanh", "rankings": 6, "gates": 4}}\n' >"$T/bad.json"
"$ALSIM" $R --policy "$T/bad.json" --out "$T/bad" >/dev/null 2>"$T/bad.err"; st=$?
check "malformed policy: exit 2 (got $st)" [ "$st" -eq 2 ]
check "malformed policy: one line naming the file and line" sh -c "[ \$(wc -l <'$T/bad.err') -eq 1 ] && grep -q 'bad.json: line 3' '$T/bad.err'"
check "malformed policy: nothing written" [ ! -e "$T/bad" ]
"$ALSIM" train-policy --train "$SYN" --episodes 2 --out "$T/x.json" --nosuch 1 >/dev/null 2>"$T/opt.err"; st=$?
check "train-policy: an unknown option is exit 2" [ "$st" -eq 2 ]

finish e2e_rl
