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
# learning-curve figures. Options after `--` go to every alsim run (not the ceiling run).
# SIGINT or SIGTERM stops the whole grid: no new run starts, the running ones stop at a
# resumable point, and it exits 130 or 143 (the same command continues it).
# Exit status: 0 all runs and the report succeeded; 1 some run failed (the report is still
# made from the rest); 2 usage; 130/143 stopped; otherwise alsim report's code.
set -u

usage() {
    cat <<EOF
usage: ./run_all.sh [--quick | --ci | --paper gal2017|batchbald [--quick]] [options] [-- ALSIM_OPTIONS...]

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
GAL_FULL_HOURS=7.5    # estimated from the quick run's per-row and per-round times (README)
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
BB_FULL_HOURS=47      # estimated from the quick run's per-row and per-round times (README)
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
    -h|--help) usage; exit 0 ;;
    --) shift; EXTRA+=("$@"); break ;;
    *) echo "run_all.sh: unknown option $1 (./run_all.sh --help)" >&2; exit 2 ;;
    esac
    shift
done
for n in "$JOBS" "$SEEDS" "$ROUNDS" "$CEILING_EPOCHS"; do
    case $n in ''|*[!0-9]*|0) echo "run_all.sh: -j, --seeds, --rounds and --ceiling-epochs take a positive integer" >&2; exit 2 ;; esac
done
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
if [ -n "$PAPER" ]; then        # the paper's table, as summary.md has it
    echo
    awk '/^### Against the paper/ { on = 1 } on && /^### / && !/^### Against the paper/ { exit } on' "$REPORT/summary.md"
fi
echo "$paths" | grep -v '^summary: .*summary.json$'
echo "run_all: wall time $((SECONDS / 60)) min $((SECONDS % 60)) s" >&2
[ "$failed" -eq 0 ] || exit 1
