#!/bin/sh
# run_all.sh --slurm against a real single-node Slurm cluster started here: installs Debian's
# slurm-wlm and munge when missing, starts a private munged (its own socket and key), slurmctld
# and slurmd from a generated slurm.conf (one node, no cgroups, ports 16817-16818), and checks:
#   - a tiny grid (synthetic data, 2 strategies x 3 seeds) submitted with --slurm ends with
#     every run folder present and its curve.csv byte-identical to the same grid run here by
#     run_all.sh, and the report job's report;
#   - a task cancelled with scancel while its run is half-way is named by the report job as not
#     finished; resubmitted (sbatch --array=I OUT/slurm/array.sbatch) it completes its run
#     byte-identically;
#   - --dry-run prints the scripts and submits nothing; sbatch missing from PATH, an unknown
#     partition (sbatch's own message passed on), an unwritable output root and one whose path
#     #SBATCH lines cannot hold are refused with a non-zero exit and nothing submitted.
# Every daemon it started is stopped by its pid at exit. Run it as root, as CI does (the
# install, and slurmd, which launches the jobs; checked here as root only). Ends with
# "slurm: N passed, M failed". About 30 seconds, plus the install on a fresh machine.
. tests/lib.sh
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    echo "slurm: installing slurm-wlm and munge" >&2
    $SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q slurm-wlm munge >/dev/null ||
        { echo "slurm: cannot install slurm-wlm and munge" >&2; exit 1; }
fi
ALSIM=$(realpath "$ALSIM")

# --- the cluster -----------------------------------------------------------------------
C=$T/cluster
mkdir -p "$C/state" "$C/spool" "$C/log" "$C/munge" "$C/sock"
chmod 755 "$T" "$C" "$C/sock"; chmod 700 "$C/munge"
PIDS=""           # the daemons this script started
any_alive() { for p in $PIDS; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
stop_daemons() {   # by pid: TERM, then KILL what is left after 5 s
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    i=0
    while [ $i -lt 50 ] && any_alive; do i=$((i + 1)); sleep 0.1; done
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    return 0
}
trap 'stop_daemons; rm -rf "$T"' EXIT
started() { [ -s "$1" ] && PIDS="$PIDS $(cat "$1")"; }   # started PIDFILE: remember the daemon
dd if=/dev/urandom of="$C/munge/munge.key" bs=1024 count=1 2>/dev/null; chmod 600 "$C/munge/munge.key"
munged --socket="$C/sock/munge.sock" --key-file="$C/munge/munge.key" --pid-file="$C/munge/munged.pid" \
    --log-file="$C/munge/munged.log" --seed-file="$C/munge/munged.seed" || { bad "munged did not start"; finish slurm; exit; }
started "$C/munge/munged.pid"
NODE=$(hostname -s)
CPUS=$(nproc); [ "$CPUS" -gt 2 ] && CPUS=2
cat >"$C/slurm.conf" <<EOF
ClusterName=alsimtest
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$C/sock/munge.sock
CredType=cred/munge
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
StateSaveLocation=$C/state
SlurmdSpoolDir=$C/spool
SlurmctldPidFile=$C/slurmctld.pid
SlurmdPidFile=$C/slurmd.pid
SlurmctldLogFile=$C/log/slurmctld.log
SlurmdLogFile=$C/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
KillWait=5
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$C/slurm.conf"
slurmctld || { bad "slurmctld did not start: $(tail -3 "$C/log/slurmctld.log")"; finish slurm; exit; }
i=0; until [ -s "$C/slurmctld.pid" ] || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done; started "$C/slurmctld.pid"
slurmd || { bad "slurmd did not start: $(tail -3 "$C/log/slurmd.log")"; finish slurm; exit; }
i=0; until [ -s "$C/slurmd.pid" ] || [ $i -ge 50 ]; do i=$((i + 1)); sleep 0.1; done; started "$C/slurmd.pid"
i=0
until sinfo -h -o %t 2>/dev/null | grep -qx idle; do
    i=$((i + 1)); [ $i -lt 60 ] || break; sleep 1
done
check "the cluster's node is up" sh -c "sinfo -h -o %t | grep -qx idle"

# wait_jobs ID...: until none of the jobs is in the queue (at most 3 minutes)
wait_jobs() {
    i=0
    while [ -n "$(squeue -h -j "$(echo "$*" | tr ' ' ,)" 2>/dev/null)" ] && [ $i -lt 180 ]; do i=$((i + 1)); sleep 1; done
}

# --- a tiny grid, here and on the cluster ---------------------------------------------------
SYN="synthetic:blobs:k=3,d=8,n=1500,test=300"
OPTS="--batch 5 --init 6 --hidden 16 --epochs 20 --minibatch 16"
ALSIM="$ALSIM" ./run_all.sh --datasets "$SYN" --strategies "random margin" --seeds 3 --rounds 4 --no-ceiling \
    --out "$T/local" --report "$T/local-rep" -- $OPTS >/dev/null 2>"$T/local.log" || bad "the grid here: $(tail -2 "$T/local.log")"
ids=$(ALSIM="$ALSIM" ./run_all.sh --datasets "$SYN" --strategies "random margin" --seeds 3 --rounds 4 --no-ceiling \
    --slurm --out "$T/sl" --report "$T/sl-rep" -- $OPTS 2>"$T/sl.log") || bad "submit the grid: $(cat "$T/sl.log")"
check "--slurm prints the job ids and how to follow them" sh -c "grep -q 'submitted job array [0-9]* (6 tasks, 6 runs) and report job [0-9]*' '$T/sl.log' && grep -q 'follow with: squeue -j' '$T/sl.log'"
check "--slurm writes the batch scripts next to the runs" [ -s "$T/sl/slurm/array.sbatch" ] && [ -s "$T/sl/slurm/report.sbatch" ]
wait_jobs $ids
n_local=$(ls "$T/local" | wc -l); same=0
for d in "$T"/local/*/; do
    r=$(basename "$d")
    cmp -s "$d/curve.csv" "$T/sl/$r/curve.csv" && same=$((same + 1))
done
check "6 run folders here, 6 on the cluster, every curve.csv byte-identical ($same of $n_local)" [ "$n_local" -eq 6 ] && [ "$same" -eq 6 ]
check "the report job wrote the report" [ -s "$T/sl-rep/summary.md" ]
check "the report job's log: 6 of 6 runs succeeded" grep -q "^run_all: 6 of 6 runs succeeded" "$T/sl/slurm/logs/report.log"

# --- a task cancelled half-way, then resubmitted ----------------------------------------------
# (runs of about 8 s, 2 to 3 s a round on one core: the cancel lands after round 0, mid-run;
# the run here on one OpenBLAS thread, as a task with one CPU and as run_all.sh -j 2 run it)
SLOWD="synthetic:blobs:k=3,d=256,n=1500,test=300"
SLOW="--batch 5 --init 6 --hidden 512 --epochs 5000 --minibatch 4 --mc 4"
ids=$(ALSIM="$ALSIM" ./run_all.sh --datasets "$SLOWD" --strategies bald --seeds 2 --rounds 3 --no-ceiling --array-max 1 \
    --slurm --out "$T/slow" --report "$T/slow-rep" -- $SLOW 2>"$T/slow.log") || bad "submit the slow grid: $(cat "$T/slow.log")"
array=${ids% *}
i=0
until ls "$T"/slow/.partial-*/curve.csv >/dev/null 2>&1 && [ "$(wc -l <"$(ls "$T"/slow/.partial-*/curve.csv | head -1)")" -ge 2 ]; do
    i=$((i + 1)); [ $i -lt 600 ] || break; sleep 0.2
done
scancel "${array}_0"
wait_jobs $ids
check "the cancel landed mid-run (a partial run folder of seed 0 was seen)" [ $i -lt 600 ]
check "the cancelled task's run is left partial" sh -c "ls -d '$T'/slow/.partial-*seed0-* >/dev/null 2>&1"
check "the report job names the cancelled run, with its log" grep -q "^run_all: run 0 (.* bald seed 0): .*; log $T/slow/slurm/logs/task-0.log" "$T/slow/slurm/logs/report.log"
check "the report job's log: 1 of 2 runs succeeded" grep -q "^run_all: 1 of 2 runs succeeded" "$T/slow/slurm/logs/report.log"
id=$(sbatch --parsable --array=0 "$T/slow/slurm/array.sbatch") || bad "resubmit task 0"
wait_jobs "${id%%;*}"
OPENBLAS_NUM_THREADS=1 "$ALSIM" --dataset "$SLOWD" --strategy bald --seed 0 --rounds 3 $SLOW --quiet --out "$T/slow-local" || bad "the slow run here"
r=$(basename "$(only_dir "$T/slow-local")")
check "resubmitted, the cancelled run completes byte-identically" cmp -s "$T/slow-local/$r/curve.csv" "$T/slow/$r/curve.csv"
check "resubmitted, its status is 0" [ "$(cat "$T/slow/slurm/status/0" 2>/dev/null)" = 0 ]

# --- refused, nothing submitted ---------------------------------------------------------------
before=$(squeue -h | wc -l)
ALSIM="$ALSIM" ./run_all.sh --ci --slurm --dry-run --out "$T/dry" >"$T/dry.out" 2>"$T/dry.err"
check "--dry-run: exit 0, both scripts printed" sh -c "grep -q '^#SBATCH --array=0-14' '$T/dry.out' && grep -q '^#SBATCH --job-name=alsim-ci-report' '$T/dry.out'"
check "--dry-run: nothing written" [ ! -e "$T/dry" ]
ALSIM="$ALSIM" ./run_all.sh --ci --slurm --partition nosuchpart --out "$T/np" >/dev/null 2>"$T/np.err"; st=$?
check "an unknown partition: exit 3, sbatch's message passed on" sh -c "[ $st -eq 3 ] && grep -qi 'partition' '$T/np.err' && grep -q 'sbatch refused the job array' '$T/np.err'"
touch "$T/afile"
ALSIM="$ALSIM" ./run_all.sh --ci --slurm --out "$T/afile/runs" >/dev/null 2>"$T/nw.err"; st=$?
check "an unwritable output root: exit 2, one line" sh -c "[ $st -eq 2 ] && [ \$(wc -l <'$T/nw.err') -eq 2 ] && grep -q 'cannot write the output root' '$T/nw.err'"
ALSIM="$ALSIM" ./run_all.sh --ci --slurm --dry-run --out "$T/with space" >/dev/null 2>"$T/sp.err"; st=$?
check "an output root with a space: exit 2, says why" sh -c "[ $st -eq 2 ] && grep -q 'may hold only letters, digits' '$T/sp.err'"
mkdir -p "$T/bin"
for t in bash sh env nproc realpath mkdir mktemp cat rm mv ls wc grep sed awk dirname tr sleep; do
    p=$(command -v "$t") && ln -s "$p" "$T/bin/$t"
done
PATH="$T/bin" ALSIM="$ALSIM" "$T/bin/bash" ./run_all.sh --ci --slurm --out "$T/nosb" >/dev/null 2>"$T/nosb.err"; st=$?
check "sbatch missing from PATH: exit 2, says so" sh -c "[ $st -eq 2 ] && grep -q 'sbatch not found on PATH' '$T/nosb.err'"
check "nothing was submitted by the refused commands" [ "$(squeue -h | wc -l)" -eq "$before" ]

stop_daemons
stopped_all() { [ "$(echo $PIDS | wc -w)" -eq 3 ] && ! any_alive; }
check "the 3 daemons started here are stopped" stopped_all
finish slurm
