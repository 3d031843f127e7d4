#!/usr/bin/env bash
# rl_lodo.sh — the RL policy's evidence: leave one dataset out. For each catalogued dataset,
# train a policy on the other two (alsim train-policy --algo A, default episode settings), then
# run random, entropy, margin, BALD and rl on the held-out one (5 seeds, 20 rounds of 10, the
# defaults of alsim run) and report (alsim report). An episode is a default run of the rl
# strategy (with DAgger, plus up to 6 refits a round), so the 300-episode policies take hours
# (REINFORCE) to a day or more (DAgger, estimated) each on 2 cores (pass --episodes for a
# shorter try); resumable (policies and runs continue where they stopped). Results under
# results/lodo-A/ (git-ignored); the figures go into README.md by hand.
#
#   bench/rl_lodo.sh [-j N] [--episodes E] [--seeds S] [--algo dagger|reinforce]
set -eu
ALSIM=${ALSIM:-./alsim}
JOBS=2 EPISODES=300 SEEDS=5 ALGO=dagger
while [ $# -gt 0 ]; do
    case $1 in
    -j) JOBS=$2; shift ;;
    --episodes) EPISODES=$2; shift ;;
    --seeds) SEEDS=$2; shift ;;
    --algo) ALGO=$2; shift ;;
    *) echo "rl_lodo.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
OUT=results/lodo-$ALGO
mkdir -p "$OUT"
ALL="mnist fashion-mnist spamassassin"
for d in $ALL; do "$ALSIM" datasets fetch "$d" >/dev/null; done

# The policies: one per held-out dataset, trained on the others (two at a time).
for held in $ALL; do
    train=$(echo $ALL | tr ' ' '\n' | grep -vx "$held" | paste -sd+ -)
    "$ALSIM" train-policy --train "$train" --algo "$ALGO" --episodes "$EPISODES" --seed 0 --quiet \
        --out "$OUT/policy-without-$held.json" &
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
done
wait

# Each held-out dataset: the baselines and rl under that dataset's policy.
for held in $ALL; do
    ./run_all.sh -j "$JOBS" --datasets "$held" --strategies "random entropy margin bald rl" \
        --seeds "$SEEDS" --rounds 20 --no-ceiling --out "$OUT/runs-$held" --report "$OUT/report-$held" \
        -- --policy "$OUT/policy-without-$held.json"
done
echo "rl_lodo: reports in $OUT/report-*/summary.md"
