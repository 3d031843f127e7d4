#!/usr/bin/env bash
# teacher_gate.sh — issue 16's stop/go gate: is there headroom over margin sampling for a
# policy that mixes the usual rankings? It runs the look-ahead teacher (--strategy teacher:
# LABEL LOOK-AHEAD, for measurement only; it refits the model on each candidate batch and keeps
# the best on a reward split) against margin and random, paired by seed, at test scale, on each
# catalogued dataset, and prints per dataset the mean normalised AULC of each strategy and the
# paired ΔAULC teacher − margin with its 95% t-interval and paired-t p (all from alsim report
# --reference margin: its delta_aulc_t and t_p), whether the mean ΔAULC and the interval's
# lower end reach 0.02, and which candidate the teacher kept how often. If the teacher does
# not clear 0.02 on a dataset, no imitation of it will.
#
# Every strategy gets the same --reward-size (so the same pool: the reward rows leave it for
# all three), --pool-size and --test-size (mnist and fashion-mnist; spamassassin uses its
# whole pool and test set), and the defaults of alsim run otherwise (an MLP of 512 hidden
# units, 64 on spamassassin's sparse text, dropout 0.5, 50 epochs, T = 20, b = 10 from 20
# labels). Runs go through run_all.sh (one alsim per run, -j at a time, one
# OpenBLAS thread each; resumable); results under OUT (git-ignored results/ by default). Ends
# with the table, the settings, the wall and CPU time.
#
#   bench/teacher_gate.sh [-j N] [--seeds S] [--rounds R] [--datasets "D ..."]
#                         [--pool-size N] [--test-size N] [--reward-size N] [--out DIR]
#                         [--table-only]
# --table-only prints the table from the reports already in OUT, running nothing (e.g. after
# a report made by hand of fewer seeds: alsim report OUT/runs-D/*-seed[0-4]-* --reference
# margin --out OUT/report-D).
set -eu
ALSIM=${ALSIM:-./alsim}
PYTHON=${PYTHON:-python3}
JOBS=2 SEEDS=10 ROUNDS=10 POOL=6000 TEST=5000 REWARD=1000 TABLE_ONLY=0
DATASETS="mnist fashion-mnist spamassassin" OUT=results/teacher-gate
while [ $# -gt 0 ]; do
    case $1 in
    -j) JOBS=$2; shift ;;
    --seeds) SEEDS=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --datasets) DATASETS=$2; shift ;;
    --pool-size) POOL=$2; shift ;;
    --test-size) TEST=$2; shift ;;
    --reward-size) REWARD=$2; shift ;;
    --out) OUT=$2; shift ;;
    --table-only) TABLE_ONLY=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "teacher_gate.sh: unknown option $1 (--help)" >&2; exit 2 ;;
    esac
    shift
done
mkdir -p "$OUT"
t0=$(date +%s)
for d in $DATASETS; do
    [ "$TABLE_ONLY" = 1 ] && break
    case $d in
    mnist|fashion-mnist) "$ALSIM" datasets fetch "$d" >/dev/null; size="--pool-size $POOL --test-size $TEST" ;;
    spamassassin) "$ALSIM" datasets fetch "$d" >/dev/null; size="" ;;
    *) size="" ;;
    esac
    # shellcheck disable=SC2086
    ./run_all.sh -j "$JOBS" --datasets "$d" --strategies "random margin teacher" --seeds "$SEEDS" \
        --rounds "$ROUNDS" --no-ceiling --out "$OUT/runs-$d" --report "$OUT/report-$d" \
        --report-options "--reference margin" -- --reward-size "$REWARD" $size --quiet
done
wall=$(( $(date +%s) - t0 ))

# The table, from each report's summary.json.
"$PYTHON" - "$OUT" $DATASETS <<'EOF'
import glob, json, sys
out, sets = sys.argv[1], sys.argv[2:]
def signed(x):
    return "n/a" if x is None or isinstance(x, str) else f"{x:+.4f}"
print("| dataset | paired seeds | AULC random | AULC margin | AULC teacher | ΔAULC teacher − margin | 95% t-interval "
      "| paired t p | mean ≥ 0.02 | interval above 0.02 |")
print("|---|---|---|---|---|---|---|---|---|---|")
chosen = {}
for d in sets:
    rep = json.load(open(f"{out}/report-{d}/summary.json"))
    for ds in rep["datasets"]:
        aulc = {s["strategy"]: s["aulc"]["mean"] for s in ds["strategies"]}
        c = next(c for c in ds["against_reference"] if c["a"] == "teacher")
        dt = c["delta_aulc_t"]
        yes = lambda x: "n/a" if x is None else "yes" if x >= 0.02 else "no"
        print(f"| {d} | {c['pairs']} | {aulc.get('random', float('nan')):.4f} | {aulc['margin']:.4f} | "
              f"{aulc['teacher']:.4f} | {signed(dt['mean'])} | [{signed(dt['lo'])}, {signed(dt['hi'])}] | "
              f"{c['t_p']:.2g} | {yes(dt['mean'])} | {yes(dt['lo'])} |")
    # which candidate the teacher kept, over every round of every seed (rounds.jsonl)
    counts = {}
    for f in glob.glob(f"{out}/runs-{d}/*-teacher-*/rounds.jsonl"):
        for line in open(f):
            la = json.loads(line).get("lookahead")
            if la and la["chosen"]:
                counts[la["chosen"]] = counts.get(la["chosen"], 0) + 1
    chosen[d] = counts
print()
print("Candidates the teacher kept (rounds, all seeds):")
for d, counts in chosen.items():
    print(f"- {d}: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])))
EOF
[ "$TABLE_ONLY" = 1 ] && exit 0
times >"$OUT/times.txt"     # in this shell: its second line is the children's user and system time
cpu=$(tail -n 1 "$OUT/times.txt" | awk '{ split($1, u, "m"); split($2, s, "m"); sub("s", "", u[2]); sub("s", "", s[2]);
                                        printf "%.0f", 60 * (u[1] + s[1]) + u[2] + s[2] }')
echo
echo "Settings: $SEEDS seeds (0..$((SEEDS - 1))), $ROUNDS rounds of 10 from 20 labels, --reward-size $REWARD for every" \
     "strategy; mnist and fashion-mnist --pool-size $POOL --test-size $TEST (the reward rows come out of that pool);" \
     "spamassassin its whole pool and test set; the defaults of alsim run otherwise (MLP 512 hidden units, 64 on" \
     "sparse text, 50 epochs, T = 20); -j $JOBS."
echo "Wall time ${wall} s; CPU time of the runs and reports ${cpu} s."
echo "Runs and reports under $OUT/ (report-<dataset>/summary.md)."
