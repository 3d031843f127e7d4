#!/usr/bin/env bash
# rl_lodo.sh — the RL policy's evidence: leave one dataset out. For each catalogued dataset,
# train a policy on the other two (alsim train-policy --algo A), then run random, entropy,
# margin, BALD, albl and rl on the held-out one (S seeds, paired by seed) and report it twice
# (alsim report: savings against random, and against margin). Then one table over the three
# held-out datasets: rl against margin and against random, ΔAULC with its paired bootstrap
# interval, the paired t and Wilcoxon p-values and both Holm-adjusted over the 6 comparisons
# (3 datasets x 2), and the criteria marked met or not.
# Episodes and runs share every option after `--` (an episode is a run of the rl strategy with
# the same options: same model, budget, pool size, rounds), e.g. `-- --rounds 10 --pool-size
# 3000`. With the defaults of alsim run a 300-episode DAgger policy takes about 9 hours on 2
# cores when spamassassin is among its training sets (about 200 s an episode there) and about
# 3 without it (bench/RESULTS.md); resumable (policies and runs continue where they stopped).
# Results under results/lodo-A/ (git-ignored): the table is results/lodo-A/lodo.md.
#
#   bench/rl_lodo.sh [-j N] [--episodes E] [--seeds S] [--algo dagger|reinforce] [-- OPTIONS...]
set -eu
ALSIM=${ALSIM:-./alsim}
JOBS=2 EPISODES=300 SEEDS=10 ALGO=dagger
while [ $# -gt 0 ]; do
    case $1 in
    -j) JOBS=$2; shift ;;
    --episodes) EPISODES=$2; shift ;;
    --seeds) SEEDS=$2; shift ;;
    --algo) ALGO=$2; shift ;;
    --) shift; break ;;
    *) echo "rl_lodo.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
OPTS=("$@")     # shared by the episodes and the runs
OUT=results/lodo-$ALGO
mkdir -p "$OUT"
ALL="mnist fashion-mnist spamassassin"
for d in $ALL; do "$ALSIM" datasets fetch "$d" >/dev/null; done

# The policies: one per held-out dataset, trained on the others (JOBS at a time).
for held in $ALL; do
    train=$(echo $ALL | tr ' ' '\n' | grep -vx "$held" | paste -sd+ -)
    "$ALSIM" train-policy --train "$train" --algo "$ALGO" --episodes "$EPISODES" --seed 0 --quiet \
        --out "$OUT/policy-without-$held.json" ${OPTS[@]+"${OPTS[@]}"} &
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
done
wait

# Each held-out dataset: the baselines and rl under that dataset's policy, reported against
# random (run_all.sh) and against margin.
for held in $ALL; do
    ./run_all.sh -j "$JOBS" --datasets "$held" --strategies "random entropy margin bald albl rl" \
        --seeds "$SEEDS" --no-ceiling --out "$OUT/runs-$held" --report "$OUT/report-$held" \
        -- --policy "$OUT/policy-without-$held.json" ${OPTS[@]+"${OPTS[@]}"}
    "$ALSIM" report "$OUT/runs-$held" --reference margin --out "$OUT/report-$held-vs-margin" >/dev/null
done

# The table: the rl row of each report's savings table (pairs, ΔAULC, its interval, t, p, ...,
# Wilcoxon W, p), then Holm over the 6 comparisons, for the t and the Wilcoxon p-values.
{
    echo "| held-out dataset | rl against | pairs | ΔAULC | 95% bootstrap CI | t p | t p_Holm (6) | Wilcoxon p | Wilcoxon p_Holm (6) |"
    echo "|---|---|---|---|---|---|---|---|---|"
    for held in $ALL; do
        for ref in random margin; do
            f="$OUT/report-$held/summary.md"
            [ "$ref" = margin ] && f="$OUT/report-$held-vs-margin/summary.md"
            # columns: strategy, pairs, ΔAULC, CI, labels saved, CI, pairs without target, t, p, p_Holm,
            # Wilcoxon W, p, p_Holm, verdict
            awk '/^### Savings against/ { s = 1 } s && /^\| rl \|/ { print; exit }' "$f" |
                awk -F'|' -v d="$held" -v r="$ref" '{
                gsub(/ /, "", $3); gsub(/ /, "", $4); gsub(/^ +| +$/, "", $5); gsub(/ /, "", $10); gsub(/^ +| +$/, "", $13)
                split($13, w, " "); print d "\t" r "\t" $3 "\t" $4 "\t" $5 "\t" $10 "\t" w[1] }'
        done
    done | awk -F'\t' '
        { d[NR] = $1; r[NR] = $2; n[NR] = $3; m[NR] = $4; ci[NR] = $5; pt[NR] = $6; pw[NR] = $7 }
        function holm(p, out,    i, j, k, idx, t, run) {   # Holm step-down over the NR p-values
            for (i = 1; i <= NR; i++) idx[i] = i
            for (i = 1; i <= NR; i++) for (j = i + 1; j <= NR; j++)
                if (p[idx[j]] + 0 < p[idx[i]] + 0) { t = idx[i]; idx[i] = idx[j]; idx[j] = t }
            run = 0
            for (k = 1; k <= NR; k++) { t = (NR - k + 1) * p[idx[k]]; if (t > 1) t = 1; if (t > run) run = t; out[idx[k]] = run }
        }
        END {
            holm(pt, ht); holm(pw, hw)
            for (i = 1; i <= NR; i++)
                printf "| %s | %s | %s | %+.4f | %s | %.3g | %.3g | %.3g | %.3g |\n", d[i], r[i], n[i], m[i], ci[i], pt[i], ht[i], pw[i], hw[i]
        }'
} >"$OUT/lodo.md"
cat "$OUT/lodo.md"
echo "rl_lodo: reports in $OUT/report-*/summary.md; the table in $OUT/lodo.md"
