#!/usr/bin/env bash
# run_all.sh — the grid: datasets × strategies × seeds → run folders → alsim report.
#
#   ./run_all.sh --quick        MNIST; random, entropy, margin, bald; 3 seeds; 10 rounds; plus a
#                               --full-data ceiling run. A few minutes on 2 cores.
#   ./run_all.sh                the full grid (the figures README.md lists): MNIST, every
#                               strategy, 5 seeds, 20 rounds, plus the ceiling.
#   ./run_all.sh --ci           the tiny synthetic grid CI checks against tests/baseline/ (seconds).
#   ./run_all.sh --paper gal2017 [--quick]
#                               Gal, Islam & Ghahramani 2017's Table 1 on MNIST with their CNN
#                               (see usage below); the report's first table sets the labels each
#                               strategy needed to reach 10% and 5% test error beside the paper's.
#   ./run_all.sh --paper batchbald [--quick]
#                               Kirsch et al. 2019's Table 1 (MNIST, b = 10): BatchBALD, BALD and
#                               random, labels to 90% and 95% accuracy, tested against BALD.
#
# Runs go to OUT (one alsim process per run, -j at a time); a run whose folder is already
# complete is skipped by alsim and a run killed half-way continues from its last complete
# round (--resume), so an interrupted grid resumes where it stopped. Then
# `alsim report OUT --out REPORT`. Ends by printing the paths of summary.md and the
# learning-curve figures. Options after `--` go to every alsim run (the ceiling run too, before
# its own --full-data --epochs).
# SIGINT or SIGTERM stops the whole grid: no new run starts, the running ones stop at a
# resumable point, and it exits 130 or 143 (the same command continues it).
# With --slurm the same grid goes to a Slurm cluster instead, as a job array (one task per run)
# and a report job after it (see usage below and README: On a cluster).
# Exit status: 0 all runs and the report succeeded (--slurm: submitted); 1 some run failed (the
# report is still made from the rest); 2 usage; 3 --slurm: sbatch refused the grid; 130/143
# stopped; otherwise alsim report's code.
set -u

usage() {
    cat <<EOF
usage: ./run_all.sh [--quick | --ci | --paper gal2017|batchbald [--quick]] [options] [-- ALSIM_OPTIONS...]
       ./run_all.sh ... --slurm [--partition P] [--time T] [--mem M] [--array-max N]
                        [--sbatch-args '...'] [--dry-run]

  --quick              MNIST, random/entropy/margin/bald, 3 seeds, 10 rounds (+ ceiling)
  --ci                 synthetic blobs, random/entropy/margin, 5 seeds, 12 rounds (CI)
  --paper gal2017      Gal et al. 2017, Table 1: MNIST, --model cnn, bald/var-ratios/mc-entropy/
                       mean-std/random, 3 seeds, 100 rounds of 10 from 20 labels, T = 100,
                       a 2,000-row pool subset scored per round, 50 epochs of Adam; then
                       alsim report --paper gal2017 (about $GAL_FULL_HOURS hours on 2 cores)
  --paper gal2017 --quick
                       the same protocol reduced to finish in under 30 minutes on 2 cores:
                       bald/var-ratios/random, 5 seeds, $GAL_QUICK_ROUNDS rounds, T = $GAL_QUICK_T,
                       $GAL_QUICK_EPOCHS epochs, a $GAL_QUICK_TEST-row test subset
  --paper batchbald    Kirsch et al. 2019, Table 1: MNIST, --model cnn, batchbald/bald/random,
                       their CNN, $BB_FULL_SEEDS seeds, $BB_FULL_ROUNDS rounds of 10 from 20 labels (to 300), T = 100,
                       the whole pool, $BB_FULL_EPOCHS epochs of 5,056 draws, a 1,024-row validation split;
                       then alsim report --paper batchbald --reference bald (about $BB_FULL_HOURS hours on
                       2 cores)
  --paper batchbald --quick
                       the same protocol reduced to finish in under 30 minutes on 2 cores:
                       $BB_QUICK_SEEDS seeds, $BB_QUICK_ROUNDS rounds, T = $BB_QUICK_T, $BB_QUICK_EPOCHS epochs of 5,056 draws, a
                       $BB_QUICK_SUBSET-row pool subset scored per round, a $BB_QUICK_TEST-row test subset, no
                       validation split
  -j N                 runs at a time [$(nproc 2>/dev/null || echo 1), the number of cores]
  --datasets "D ..."   datasets (names or specs as alsim --dataset takes them)
  --strategies "S ..." strategies (alsim --list)
  --seeds N            seeds 0..N-1
  --rounds R           acquisition rounds
  --no-ceiling         no --full-data run per dataset
  --ceiling-epochs E   epochs of the --full-data ceiling run [10]
  --out DIR            run folders [runs/<preset>]
  --report DIR         the report [results/<preset>]
  --report-options "O" extra options for alsim report (e.g. "--target-frac 0.7 --logx")
  -h, --help           this text

On a Slurm cluster (README: On a cluster): the same grid as a job array, one task per run
(per group of runs beyond 1,000), each \`alsim ... --resume\` into the shared output root, and a
report job after it (afterany) that names the runs that did not finish. Prints the job ids;
the batch scripts are written to OUT/slurm/ (resubmit a task: sbatch --array=I OUT/slurm/array.sbatch).
  --slurm              submit with sbatch instead of running here
  --partition P, --time T, --mem M
                       the tasks' partition, time limit and memory (#SBATCH lines; default:
                       the cluster's)
  --array-max N        at most N tasks running at once (%N)
  --sbatch-args '...'  more sbatch options, for both jobs (e.g. '--account=lab --qos=short')
  --dry-run            print the batch scripts (and so the grid); submit and write nothing

environment: ALSIM (the binary, default ./alsim), OPENBLAS_NUM_THREADS (default 1 when -j > 1)
EOF
}

# The Gal et al. 2017 protocol (README: Reproducing Gal et al. 2017): the paper's CNN and
# acquisition, the authors' code where the paper is silent (50 epochs, Adam at 1e-3 with
# minibatch 128, a 2,000-image pool subset, T = 100), no weight decay (the paper chose it on
# validation data; the code's L2 3.5/N belongs to its smaller network: add
# `-- --l2-per-label 3.5` for it). --quick keeps the protocol and cuts rounds, strategies, T,
# epochs and the test set, as its banner says.
GAL_OPTS=(--model cnn --init 20 --batch 10 --pool-subset 2000 --minibatch 128 --lr 0.001 --weight-decay 0)
GAL_FULL_HOURS=3.5    # estimated from the quick run's per-row and per-round times (README)
GAL_QUICK_ROUNDS=25
GAL_QUICK_T=20
GAL_QUICK_EPOCHS=25
GAL_QUICK_TEST=2000
# The Kirsch, van Amersfoort & Gal 2019 (BatchBALD) protocol (README: Reproducing BatchBALD):
# their MNIST CNN (two blocks of 5x5 conv, max-pool, channel dropout 0.5; dense 128, dropout
# 0.5), b = 10 from 20 balanced labels, Adam at 1e-3 with minibatch 64, epochs of 5,056 draws,
# T = 100 over the whole pool, their 1,024-image validation split off the pool. Their early
# stopping on it (patience 3, median 6-7 epochs trained, so the restored model had 3-4) is a
# fixed budget here, the same for every strategy: $BB_FULL_EPOCHS epochs (theirs: add
# `-- --early-stop 3 --epochs 30`). The report tests each strategy against BALD.
BB_OPTS=(--model cnn --cnn-layout conv-pool-conv-pool --conv-filters 32 --conv2-filters 64 --kernel 5
         --maxpool 2 --dense 128 --dropout-conv 0.5 --dropout-dense 0.5 --init 20 --batch 10 --minibatch 64
         --lr 0.001 --weight-decay 0 --epoch-rows 5056)
BB_STRATEGIES="batchbald bald random"
BB_FULL_SEEDS=6
BB_FULL_ROUNDS=28
BB_FULL_EPOCHS=4
BB_FULL_HOURS=58      # from one measured round of the full protocol on 2 cores (README)
BB_QUICK_SEEDS=5
BB_QUICK_ROUNDS=20
BB_QUICK_T=20
BB_QUICK_EPOCHS=3
BB_QUICK_SUBSET=1000
BB_QUICK_TEST=2000
ALSIM=${ALSIM:-./alsim}
JOBS=$(nproc 2>/dev/null || echo 1)
PRESET=full
DATASETS="mnist"
STRATEGIES="random least-confidence entropy margin bald var-ratios mean-std"
SEEDS=5
ROUNDS=20
CEILING=1
CEILING_EPOCHS=10
OUT=""
REPORT=""
REPORT_OPTS=""
EXTRA=()
PAPER=""
QUICK=0
USER_STRATEGIES="" USER_SEEDS="" USER_ROUNDS="" USER_ROPTS=""
SLURM=0 DRY_RUN=0 PARTITION="" TIME_LIMIT="" MEM="" ARRAY_MAX="" SBATCH_ARGS=""

need() { [ "$2" -ge 2 ] || { echo "run_all.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case $1 in
    --quick) QUICK=1; PRESET=quick; DATASETS="mnist"; STRATEGIES="random entropy margin bald"; SEEDS=3; ROUNDS=10
             REPORT_OPTS="--target-frac 0.7" ;;
    --paper) need "$1" $#
             case $2 in gal2017|batchbald) ;; *) echo "run_all.sh: --paper: unknown paper '$2' (known: gal2017, batchbald)" >&2; exit 2 ;; esac
             PAPER=$2; shift ;;
    --ci) PRESET=ci; DATASETS="synthetic:blobs:k=4,d=2,n=2000,test=1000,sep=5"; STRATEGIES="random entropy margin"
          SEEDS=5; ROUNDS=12; CEILING=0
          EXTRA=(--batch 4 --init 8 --hidden 32 --epochs 50 --minibatch 16 --lr 0.02) ;;
    -j) need "$1" $#; JOBS=$2; shift ;;
    --datasets) need "$1" $#; DATASETS=$2; shift ;;
    --strategies) need "$1" $#; STRATEGIES=$2; USER_STRATEGIES=$2; shift ;;
    --seeds) need "$1" $#; SEEDS=$2; USER_SEEDS=$2; shift ;;
    --rounds) need "$1" $#; ROUNDS=$2; USER_ROUNDS=$2; shift ;;
    --no-ceiling) CEILING=0 ;;
    --ceiling-epochs) need "$1" $#; CEILING_EPOCHS=$2; shift ;;
    --out) need "$1" $#; OUT=$2; shift ;;
    --report) need "$1" $#; REPORT=$2; shift ;;
    --report-options) need "$1" $#; REPORT_OPTS=$2; USER_ROPTS=$2; shift ;;
    --slurm) SLURM=1 ;;
    --dry-run) DRY_RUN=1 ;;
    --partition) need "$1" $#; PARTITION=$2; shift ;;
    --time) need "$1" $#; TIME_LIMIT=$2; shift ;;
    --mem) need "$1" $#; MEM=$2; shift ;;
    --array-max) need "$1" $#; ARRAY_MAX=$2; shift ;;
    --sbatch-args) need "$1" $#; SBATCH_ARGS=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA+=("$@"); break ;;
    *) echo "run_all.sh: unknown option $1 (./run_all.sh --help)" >&2; exit 2 ;;
    esac
    shift
done
for n in "$JOBS" "$SEEDS" "$ROUNDS" "$CEILING_EPOCHS" ${ARRAY_MAX:+"$ARRAY_MAX"}; do
    case $n in ''|*[!0-9]*|0) echo "run_all.sh: -j, --seeds, --rounds, --ceiling-epochs and --array-max take a positive integer" >&2; exit 2 ;; esac
done
if [ "$SLURM" = 0 ] && { [ "$DRY_RUN" = 1 ] || [ -n "$PARTITION$TIME_LIMIT$MEM$ARRAY_MAX$SBATCH_ARGS" ]; }; then
    echo "run_all.sh: --dry-run, --partition, --time, --mem, --array-max and --sbatch-args go with --slurm" >&2
    exit 2
fi
if [ "$PAPER" = batchbald ]; then     # after the loop: --paper and --quick come in either order
    if [ "$QUICK" = 1 ]; then
        PRESET=$PAPER-quick; SEEDS=$BB_QUICK_SEEDS; ROUNDS=$BB_QUICK_ROUNDS
        EXTRA=("${BB_OPTS[@]}" --mc "$BB_QUICK_T" --epochs "$BB_QUICK_EPOCHS" --pool-subset "$BB_QUICK_SUBSET"
               --test-size "$BB_QUICK_TEST" "${EXTRA[@]}")
        echo "run_all: --paper $PAPER --quick: the protocol reduced to fit 30 minutes on 2 cores: ${USER_SEEDS:-$SEEDS}" \
             "seeds (the paper: 6), ${USER_ROUNDS:-$ROUNDS} rounds of 10 (the paper: up to 300 labels), T = $BB_QUICK_T" \
             "(the paper: 100), $BB_QUICK_EPOCHS epochs of 5,056 draws per round (the full protocol: $BB_FULL_EPOCHS), a" \
             "random $BB_QUICK_SUBSET-row pool subset scored per round (the paper: the whole pool), a random" \
             "$BB_QUICK_TEST-row subset of the 10,000 test rows per seed, no validation split" >&2
    else
        PRESET=$PAPER; SEEDS=$BB_FULL_SEEDS; ROUNDS=$BB_FULL_ROUNDS
        EXTRA=("${BB_OPTS[@]}" --mc 100 --epochs "$BB_FULL_EPOCHS" --val-size 1024 "${EXTRA[@]}")
    fi
    STRATEGIES=${USER_STRATEGIES:-$BB_STRATEGIES}; SEEDS=${USER_SEEDS:-$SEEDS}; ROUNDS=${USER_ROUNDS:-$ROUNDS}
    DATASETS="mnist"; CEILING=0; REPORT_OPTS="--paper $PAPER --reference bald $USER_ROPTS"
elif [ -n "$PAPER" ]; then
    if [ "$QUICK" = 1 ]; then
        PRESET=$PAPER-quick; STRATEGIES="bald var-ratios random"; SEEDS=5; ROUNDS=$GAL_QUICK_ROUNDS
        STRATEGIES=${USER_STRATEGIES:-$STRATEGIES}; SEEDS=${USER_SEEDS:-$SEEDS}; ROUNDS=${USER_ROUNDS:-$ROUNDS}
        EXTRA=("${GAL_OPTS[@]}" --mc "$GAL_QUICK_T" --epochs "$GAL_QUICK_EPOCHS" --test-size "$GAL_QUICK_TEST" "${EXTRA[@]}")
        echo "run_all: --paper $PAPER --quick: the paper's protocol reduced to fit 30 minutes on 2 cores: 3 of its 5" \
             "strategies, $SEEDS seeds (the paper: 3), $ROUNDS rounds of 10 (the paper: 100), T = $GAL_QUICK_T (the" \
             "authors' code: 100), $GAL_QUICK_EPOCHS epochs per round (the authors' code: 50), a random" \
             "$GAL_QUICK_TEST-row subset of the 10,000 test rows per seed" >&2
    else
        PRESET=$PAPER; STRATEGIES="bald var-ratios mc-entropy mean-std random"; SEEDS=3; ROUNDS=100
        STRATEGIES=${USER_STRATEGIES:-$STRATEGIES}; SEEDS=${USER_SEEDS:-$SEEDS}; ROUNDS=${USER_ROUNDS:-$ROUNDS}
        EXTRA=("${GAL_OPTS[@]}" --mc 100 --epochs 50 "${EXTRA[@]}")
    fi
    DATASETS="mnist"; CEILING=0; REPORT_OPTS="--paper $PAPER $USER_ROPTS"
fi
OUT=${OUT:-runs/$PRESET}
REPORT=${REPORT:-results/$PRESET}
if [ ! -x "$ALSIM" ]; then
    echo "run_all.sh: $ALSIM not found: build it with make (or set ALSIM)" >&2
    exit 2
fi
# Parallel runs each get one BLAS thread unless told otherwise: 2 processes x 2 threads on
# 2 cores only fight.
if [ "$JOBS" -gt 1 ] && [ -z "${OPENBLAS_NUM_THREADS:-}" ]; then export OPENBLAS_NUM_THREADS=1; fi

read -r -a DS <<<"$DATASETS"
read -r -a ST <<<"$STRATEGIES"

# The grid, in the order the runs start: per dataset its ceiling run, then strategies x seeds.
# WHAT[i] names run i, ARGS[i] holds its alsim arguments, shell-quoted (eval "set -- ...").
WHAT=() ARGS=()
add_run() { WHAT+=("$1"); shift; ARGS+=("$(printf '%q ' "$@")"); }
for d in "${DS[@]}"; do
    # the ceiling sees the same data as the runs (the options after --: --pool-size, --val-size,
    # --reward-size...), with its own epochs
    [ "$CEILING" = 1 ] && add_run "$d full-data ceiling" --dataset "$d" "${EXTRA[@]}" --full-data --epochs "$CEILING_EPOCHS"
    for s in "${ST[@]}"; do
        for ((seed = 0; seed < SEEDS; seed++)); do
            add_run "$d $s seed $seed" --dataset "$d" --strategy "$s" --seed "$seed" --rounds "$ROUNDS" "${EXTRA[@]}"
        done
    done
done
total=${#ARGS[@]}
echo "run_all: $total runs (${#DS[@]} datasets x ${#ST[@]} strategies x $SEEDS seeds$([ "$CEILING" = 1 ] && echo " + a ceiling each"), $ROUNDS rounds), $([ "$SLURM" = 1 ] && echo "as a Slurm job array" || echo "$JOBS at a time"), into $OUT" >&2

# Catalogued datasets are fetched once, before the runs, rather than by several runs at once
# (for any other dataset spec this does nothing; on a cluster the cache must be shared).
fetch_datasets() {
    for d in "${DS[@]}"; do [ "$STOPPED" = 0 ] && { "$ALSIM" datasets fetch "$d" >/dev/null 2>&1 || true; }; done
}

# --- --slurm: the grid as a job array and a report job ------------------------------------
# Runs are grouped G to a task so that a grid fits Slurm's default MaxArraySize (1,001).
slurm_sbatch_lines() {   # the resource lines both scripts share
    echo "#SBATCH --cpus-per-task=1"
    [ -n "$PARTITION" ] && echo "#SBATCH --partition=$PARTITION"
    [ -n "$TIME_LIMIT" ] && echo "#SBATCH --time=$TIME_LIMIT"
    [ -n "$MEM" ] && echo "#SBATCH --mem=$MEM"
    return 0
}
slurm_array_script() {   # slurm_array_script SL ALSIM OUT G TASKS
    local sl=$1 alsim=$2 out=$3 g=$4 tasks=$5
    cat <<EOF
#!/usr/bin/env bash
# alsim grid '$PRESET': $total runs, $g a task, as a Slurm job array; written by run_all.sh --slurm.
# Each task runs its alsim runs with --resume into the shared output root: a preempted or
# requeued task continues from the last complete round, a finished run is skipped, and alsim's
# per-run lock keeps two tasks out of one run folder. Resubmit task I: sbatch --array=I $sl/array.sbatch
#SBATCH --job-name=alsim-$PRESET
#SBATCH --array=0-$((tasks - 1))${ARRAY_MAX:+%$ARRAY_MAX}
#SBATCH --output=$sl/logs/task-%a.log
#SBATCH --requeue
$(slurm_sbatch_lines)
set -u
export OPENBLAS_NUM_THREADS=\${SLURM_CPUS_PER_TASK:-1}
ALSIM=$(printf %q "$alsim")
OUT=$(printf %q "$out")
args() {   # args I: run I's alsim arguments, into A
    case \$1 in
$(for ((i = 0; i < total; i++)); do printf '    %d) A=(%s) ;;\n' "$i" "${ARGS[i]% }"; done)
    esac
}
rc=0
for ((i = SLURM_ARRAY_TASK_ID * $g; i < (SLURM_ARRAY_TASK_ID + 1) * $g && i < $total; i++)); do
    rm -f "$sl/status/\$i"
    args "\$i"
    "\$ALSIM" "\${A[@]}" --out "\$OUT" --quiet --resume
    st=\$?
    echo "\$st" >"$sl/status/\$i"     # what the report job reads
    [ "\$st" = 0 ] || rc=\$st
done
exit "\$rc"
EOF
}
slurm_report_script() {   # slurm_report_script SL ALSIM OUT REPORT G
    local sl=$1 alsim=$2 out=$3 report=$4 g=$5
    cat <<EOF
#!/usr/bin/env bash
# alsim grid '$PRESET': the report, after the job array whatever became of its tasks (afterany);
# written by run_all.sh --slurm. It names each run that did not finish, with its log.
#SBATCH --job-name=alsim-$PRESET-report
#SBATCH --output=$sl/logs/report.log
$(slurm_sbatch_lines)
set -u
WHAT=(
$(for ((i = 0; i < total; i++)); do printf "    '%s'\n" "${WHAT[i]//\'/\'\\\'\'}"; done)
)
failed=0
for ((i = 0; i < \${#WHAT[@]}; i++)); do
    st=\$(cat "$sl/status/\$i" 2>/dev/null) || st=""
    [ "\$st" = 0 ] && continue
    failed=\$((failed + 1))
    if [ -z "\$st" ]; then how="did not finish (cancelled, preempted, out of time, or its node failed)"; else how="exit \$st"; fi
    echo "run_all: run \$i (\${WHAT[i]}): \$how; log $sl/logs/task-\$((i / $g)).log"
done
echo "run_all: \$((\${#WHAT[@]} - failed)) of \${#WHAT[@]} runs succeeded"
$(printf %q "$alsim") report $(printf %q "$out") --out $(printf %q "$report") ${ROPTS[@]+$(printf '%q ' "${ROPTS[@]}")}
rc=\$?
[ "\$rc" = 0 ] && [ "\$failed" -gt 0 ] && rc=1
exit "\$rc"
EOF
}
abs_path() { realpath -m -- "$1"; }
slurm_grid() {
    local g=$(( (total + 999) / 1000 )) tasks
    tasks=$(( (total + g - 1) / g ))
    local alsim out report sl
    alsim=$(abs_path "$ALSIM"); out=$(abs_path "$OUT"); report=$(abs_path "$REPORT"); sl=$out/slurm
    read -r -a ROPTS <<<"$REPORT_OPTS"
    read -r -a SB <<<"$SBATCH_ARGS"
    case $sl$report in
    *[!A-Za-z0-9._/+,:=@-]*)
        echo "run_all.sh: --slurm: the output and report paths ($out, $report) may hold only letters, digits and ._/+,:=@- (#SBATCH lines cannot quote others)" >&2
        return 2 ;;
    esac
    if [ "$DRY_RUN" = 1 ]; then
        echo "# --- $sl/array.sbatch"; slurm_array_script "$sl" "$alsim" "$out" "$g" "$tasks"
        echo "# --- $sl/report.sbatch (submitted with --dependency=afterany:<the array's job id>)"
        slurm_report_script "$sl" "$alsim" "$out" "$report" "$g"
        echo "run_all: --dry-run: nothing submitted, nothing written" >&2
        return 0
    fi
    if ! command -v sbatch >/dev/null 2>&1; then
        echo "run_all.sh: --slurm: sbatch not found on PATH: run it on a Slurm submit host (or --dry-run to see the scripts)" >&2
        return 2
    fi
    if ! mkdir -p "$sl/logs" "$sl/status" 2>/dev/null || ! [ -w "$sl" ] || ! [ -w "$out" ]; then
        echo "run_all.sh: --slurm: cannot write the output root $out: nothing submitted" >&2
        return 2
    fi
    if ! { slurm_array_script "$sl" "$alsim" "$out" "$g" "$tasks" >"$sl/array.sbatch.tmp" &&
           slurm_report_script "$sl" "$alsim" "$out" "$report" "$g" >"$sl/report.sbatch.tmp" &&
           mv "$sl/array.sbatch.tmp" "$sl/array.sbatch" && mv "$sl/report.sbatch.tmp" "$sl/report.sbatch"; }; then
        echo "run_all.sh: --slurm: cannot write the batch scripts into $sl: nothing submitted" >&2
        return 2
    fi
    fetch_datasets
    local array_id report_id
    array_id=$(sbatch --parsable ${SB[@]+"${SB[@]}"} "$sl/array.sbatch") || {
        echo "run_all.sh: --slurm: sbatch refused the job array (its message above): nothing submitted" >&2; return 3; }
    array_id=${array_id%%;*}
    report_id=$(sbatch --parsable --dependency="afterany:$array_id" ${SB[@]+"${SB[@]}"} "$sl/report.sbatch") || {
        scancel "$array_id" 2>/dev/null
        echo "run_all.sh: --slurm: sbatch refused the report job (its message above): the array $array_id was cancelled" >&2
        return 3; }
    report_id=${report_id%%;*}
    echo "run_all: submitted job array $array_id ($tasks tasks, $total runs) and report job $report_id (after it)" >&2
    echo "run_all: follow with: squeue -j $array_id,$report_id; when done: sacct -j $array_id,$report_id; logs in $sl/logs/" >&2
    echo "run_all: the report will be $report/summary.md; the batch scripts are $sl/array.sbatch and $sl/report.sbatch" >&2
    echo "$array_id $report_id"
}
if [ "$SLURM" = 1 ]; then
    STOPPED=0
    slurm_grid
    exit $?
fi

STATUS=$(mktemp -d "${TMPDIR:-/tmp}/run_all.XXXXXX")
trap 'rm -rf "$STATUS"' EXIT

# One run: its own arguments, then the status file it leaves ("0" = success).
job() {
    local id=$1 what=$2; shift 2
    local t0=$SECONDS
    "$ALSIM" "$@" --out "$OUT" --quiet --resume     # a run killed half-way continues
    local st=$?
    echo "$st" >"$STATUS/$id"
    local how="FAILED (exit $st)"
    [ "$st" = 0 ] && how=ok
    [ "$st" = 130 ] || [ "$st" = 143 ] && how="stopped (resumable)"
    echo "run_all: [$(ls "$STATUS" | wc -l)/$total] $what: $how ($((SECONDS - t0)) s)" >&2
}
throttle() { while [ "$STOPPED" = 0 ] && [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done; }

# SIGINT/SIGTERM: start nothing more and pass the signal to the running alsim processes
# (a Ctrl-C reaches them already; a SIGTERM to this script alone does not). alsim stops at
# a resumable point; the grid ends with 130/143 once they have.
STOPPED=0
stop() {
    [ "$STOPPED" = 0 ] || return 0
    STOPPED=$1
    echo "run_all: SIG$2: starting no more runs; the running ones stop where --resume continues them" >&2
    for p in $(jobs -p); do pkill "-$2" -P "$p" 2>/dev/null; done
}
trap 'stop 130 INT' INT
trap 'stop 143 TERM' TERM

fetch_datasets
for ((i = 0; i < total; i++)); do
    throttle
    [ "$STOPPED" = 0 ] || break
    eval "set -- ${ARGS[i]}"
    job "$((i + 1))" "${WHAT[i]}" "$@" &
done
while [ -n "$(jobs -rp)" ]; do wait; done     # a trapped signal interrupts wait: wait again
if [ "$STOPPED" != 0 ]; then
    echo "run_all: stopped after $(grep -lx 0 "$STATUS"/* 2>/dev/null | wc -l) of $total runs; the same command continues the grid" >&2
    exit "$STOPPED"
fi
failed=$(cat "$STATUS"/* 2>/dev/null | grep -vc '^0$')
[ "$(ls "$STATUS" | wc -l)" -eq "$total" ] || failed=$((failed + total - $(ls "$STATUS" | wc -l)))
echo "run_all: $((total - failed)) of $total runs succeeded" >&2

read -r -a ROPTS <<<"$REPORT_OPTS"
paths=$("$ALSIM" report "$OUT" --out "$REPORT" "${ROPTS[@]}") || exit $?
if [ -n "$PAPER" ]; then        # the paper's table, as summary.md has it
    echo
    awk '/^### Against the paper/ { on = 1 } on && /^### / && !/^### Against the paper/ { exit } on' "$REPORT/summary.md"
fi
echo "$paths" | grep -v '^summary: .*summary.json$'
echo "run_all: wall time $((SECONDS / 60)) min $((SECONDS % 60)) s" >&2
[ "$failed" -eq 0 ] || exit 1
