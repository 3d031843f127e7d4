#!/usr/bin/env bash
# run_all.sh — the grid: datasets × strategies × seeds → run folders → alsim report.
#
#   ./run_all.sh --quick        MNIST; random, entropy, margin, bald; 3 seeds; 10 rounds; plus a
#                               --full-data ceiling run. A few minutes on 2 cores.
#   ./run_all.sh                the full grid (the figures README.md lists): MNIST, every
#                               strategy, 5 seeds, 20 rounds, plus the ceiling.
#   ./run_all.sh --ci           the tiny synthetic grid CI checks against tests/baseline/ (seconds).
#
# Runs go to OUT (one alsim process per run, -j at a time); a run whose folder is already
# complete is skipped by alsim and a run killed half-way continues from its last complete
# round (--resume), so an interrupted grid resumes where it stopped. Then
# `alsim report OUT --out REPORT`. Ends by printing the paths of summary.md and the
# learning-curve figures. Options after `--` go to every alsim run (not the ceiling run).
# SIGINT or SIGTERM stops the whole grid: no new run starts, the running ones stop at a
# resumable point, and it exits 130 or 143 (the same command continues it).
# Exit status: 0 all runs and the report succeeded; 1 some run failed (the report is still
# made from the rest); 2 usage; 130/143 stopped; otherwise alsim report's code.
set -u

usage() {
    cat <<EOF
usage: ./run_all.sh [--quick | --ci] [options] [-- ALSIM_OPTIONS...]

  --quick              MNIST, random/entropy/margin/bald, 3 seeds, 10 rounds (+ ceiling)
  --ci                 synthetic blobs, random/entropy/margin, 5 seeds, 12 rounds (CI)
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

environment: ALSIM (the binary, default ./alsim), OPENBLAS_NUM_THREADS (default 1 when -j > 1)
EOF
}

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

need() { [ "$2" -ge 2 ] || { echo "run_all.sh: $1 needs a value" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
    case $1 in
    --quick) PRESET=quick; DATASETS="mnist"; STRATEGIES="random entropy margin bald"; SEEDS=3; ROUNDS=10
             REPORT_OPTS="--target-frac 0.7" ;;
    --ci) PRESET=ci; DATASETS="synthetic:blobs:k=4,d=2,n=2000,test=1000,sep=5"; STRATEGIES="random entropy margin"
          SEEDS=5; ROUNDS=12; CEILING=0
          EXTRA=(--batch 4 --init 8 --hidden 32 --epochs 50 --minibatch 16 --lr 0.02) ;;
    -j) need "$1" $#; JOBS=$2; shift ;;
    --datasets) need "$1" $#; DATASETS=$2; shift ;;
    --strategies) need "$1" $#; STRATEGIES=$2; shift ;;
    --seeds) need "$1" $#; SEEDS=$2; shift ;;
    --rounds) need "$1" $#; ROUNDS=$2; shift ;;
    --no-ceiling) CEILING=0 ;;
    --ceiling-epochs) need "$1" $#; CEILING_EPOCHS=$2; shift ;;
    --out) need "$1" $#; OUT=$2; shift ;;
    --report) need "$1" $#; REPORT=$2; shift ;;
    --report-options) need "$1" $#; REPORT_OPTS=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA+=("$@"); break ;;
    *) echo "run_all.sh: unknown option $1 (./run_all.sh --help)" >&2; exit 2 ;;
    esac
    shift
done
for n in "$JOBS" "$SEEDS" "$ROUNDS" "$CEILING_EPOCHS"; do
    case $n in ''|*[!0-9]*|0) echo "run_all.sh: -j, --seeds, --rounds and --ceiling-epochs take a positive integer" >&2; exit 2 ;; esac
done
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
STATUS=$(mktemp -d "${TMPDIR:-/tmp}/run_all.XXXXXX")
trap 'rm -rf "$STATUS"' EXIT
total=$(( ${#DS[@]} * (${#ST[@]} * SEEDS + CEILING) ))
echo "run_all: $total runs (${#DS[@]} datasets x ${#ST[@]} strategies x $SEEDS seeds$([ "$CEILING" = 1 ] && echo " + a ceiling each"), $ROUNDS rounds), $JOBS at a time, into $OUT" >&2

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

# Catalogued datasets are fetched once, before the runs, rather than by several runs at once
# (for any other dataset spec this does nothing).
for d in "${DS[@]}"; do [ "$STOPPED" = 0 ] && { "$ALSIM" datasets fetch "$d" >/dev/null 2>&1 || true; }; done

id=0
for d in "${DS[@]}"; do
    if [ "$CEILING" = 1 ]; then
        throttle
        [ "$STOPPED" = 0 ] || break
        id=$((id + 1))
        job "$id" "$d full-data ceiling" --dataset "$d" --full-data --epochs "$CEILING_EPOCHS" &
    fi
    for s in "${ST[@]}"; do
        for ((seed = 0; seed < SEEDS; seed++)); do
            throttle
            [ "$STOPPED" = 0 ] || break 3
            id=$((id + 1))
            job "$id" "$d $s seed $seed" --dataset "$d" --strategy "$s" --seed "$seed" --rounds "$ROUNDS" "${EXTRA[@]}" &
        done
    done
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
echo "$paths" | grep -v '^summary: .*summary.json$'
[ "$failed" -eq 0 ] || exit 1
