#!/bin/sh
# run_all.sh stops as a whole on SIGTERM (to the script) and on SIGINT (Ctrl-C: to its
# process group): no new run starts, the running ones stop at a resumable point, it exits
# 143 / 130 and says how to continue, and no alsim process is left behind.
. tests/lib.sh

# 6 runs of several seconds each, 2 at a time: the signal comes 1 s after the first run's
# folder appears (a loaded machine may take longer to get there), inside the first two.
GRID="--datasets synthetic:blobs:k=3,d=8,n=3000,test=500 --strategies random --seeds 6 --rounds 6 --no-ceiling -j 2"
SLOW="--epochs 20000 --hidden 256"

no_run_left() { ! pgrep -f "[a]lsim --dataset .*--out $1" >/dev/null; }

# runs_started DIR PID: waits (up to 120 s, or until PID, the grid, has ended) until a run
# writing into DIR has its partial folder, then 1 s.
runs_started() {
    i=0
    while kill -0 "$2" 2>/dev/null && ! ls -A "$1" 2>/dev/null | grep -q '^\.partial-' && [ $i -lt 1200 ]; do
        sleep 0.1; i=$((i + 1))
    done
    sleep 1
}

stopped_grid() { # stopped_grid NAME SIG EXIT: checks of a grid stopped by SIG
    name=$1 sig=$2 want=$3
    check "$sig: exit $want (got $(cat "$T/$name.rc"))" [ "$(cat "$T/$name.rc")" = "$want" ]
    check "$sig: says how to continue" grep -q "stopped after .* the same command continues the grid" "$T/$name.err"
    check "$sig: the running runs stopped resumably" grep -q "stopped (resumable)" "$T/$name.err"
    check "$sig: no run started after the signal" [ "$(grep -c '^run_all: \[' "$T/$name.err")" -le 2 ]
    check "$sig: their partial folders are kept for --resume" sh -c "ls -A '$T/$name/runs' | grep -q '^\.partial-'"
    check "$sig: no report" [ ! -e "$T/$name/rep" ]
    check "$sig: no alsim left running" no_run_left "$T/$name/runs"
}

# SIGTERM to the script alone: it passes the signal on to its runs.
ALSIM="$ALSIM" ./run_all.sh $GRID --out "$T/term/runs" --report "$T/term/rep" -- $SLOW >/dev/null 2>"$T/term.err" &
pid=$!
runs_started "$T/term/runs" "$pid"
kill -TERM "$pid"
wait "$pid"; echo $? >"$T/term.rc"
sleep 0.5
stopped_grid term SIGTERM 143

# SIGINT to the process group, as Ctrl-C sends it. A shell starts background commands with
# SIGINT ignored, which a script cannot undo, so perl (part of every Debian) restores it
# before it becomes run_all.sh, in a session of its own.
if command -v setsid >/dev/null && command -v perl >/dev/null; then
    ( setsid -w perl -e '$SIG{INT} = "DEFAULT"; exec @ARGV or die' \
        env ALSIM="$ALSIM" ./run_all.sh $GRID --out "$T/int/runs" --report "$T/int/rep" -- $SLOW \
        >/dev/null 2>"$T/int.err"; echo $? >"$T/int.rc" ) &
    sub=$!
    runs_started "$T/int/runs" "$sub"
    leader=$(pgrep -f "[r]un_all.sh .*--out $T/int/runs" | head -n 1)
    [ -n "$leader" ] && [ "$(ps -o pgid= -p "$leader" | tr -d ' ')" = "$leader" ] && env kill -s INT -- "-$leader"   # procps kill: a process group
    wait "$sub"
    sleep 0.5
    stopped_grid int SIGINT 130
else
    echo "e2e_grid_stop: setsid or perl missing: the SIGINT case skipped" >&2
fi

finish e2e_grid_stop
