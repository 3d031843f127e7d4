#!/bin/sh
# End-to-end tests of hostile inputs that cannot be committed to tests/corpus/, made here at
# test time: devices (/dev/zero), pipes and FIFOs (endless, slow, binary, valid), sparse
# 1 TB files, a stop request (SIGTERM, SIGINT) while a FIFO is being read, a line longer
# than the reader's limit, and a data file whose name starts with a dot. Every refusal is
# exit 2 (or 3 for what cannot fit in memory) with one stderr line naming the file, quickly:
# each command runs under a generous `timeout`, whose own exit (124) fails the check.
# Ends with "e2e_inputs: N passed, M failed"; exit status 0 when all pass.
. tests/lib.sh

C=tests/corpus
X=$C/npy/ok-X.npy Y=$C/npy/ok-y.npy I=$C/idx/ok-images-idx3-ubyte L=$C/idx/ok-labels-idx1-ubyte
SMALL="--rounds 1 --batch 2 --init 4 --hidden 0 --epochs 1 --strategy random --device cpu --quiet"

# refused WANT_STATUS TEXT ARGS...: alsim exits WANT_STATUS (within 60 s) with one stderr
# line holding TEXT, and leaves no run folder. Reads stdin (for the pipe cases).
refused() {
    want=$1 text=$2; shift 2
    rm -rf "$T/out"
    timeout 60 "$ALSIM" "$@" $SMALL --out "$T/out" >/dev/null 2>"$T/err"; st=$?
    lines=$(wc -l <"$T/err")
    if [ "$st" -eq "$want" ] && [ "$lines" -eq 1 ] && grep -qF -e "$text" "$T/err" && [ ! -e "$T/out" ]; then ok
    else bad "$*: exit $st (want $want), $lines stderr lines (want 1 with '$text'): $(cat "$T/err")"; fi
}

# --- devices: refused at once, whatever the format ----------------------------------------
DEV="/dev/zero: is a character device, not a data file"
for f in csv svmlight arff; do refused 2 "$DEV" --dataset "$f:/dev/zero"; done
refused 2 "$DEV" --dataset "npy:/dev/zero,$Y"
refused 2 "$DEV" --dataset "npy:$X,/dev/zero"
refused 2 "$DEV" --dataset "idx:/dev/zero,$L"
refused 2 "$DEV" --dataset "$C/csv/ok-header.csv" --test /dev/zero

# --- pipes: endless binary data stops at its first bytes ----------------------------------
head -c 50000000 /dev/zero | refused 2 "/dev/stdin: line 1: a NUL byte at column 1" --dataset csv:/dev/stdin
head -c 50000000 /dev/zero | refused 2 "/dev/stdin: byte 0: not a .npy file" --dataset "npy:/dev/stdin,$Y"
head -c 50000000 /dev/zero | refused 2 "/dev/stdin: byte 2: unknown IDX type 0x00" --dataset "idx:/dev/stdin,$L"
# a header declaring more than memory, then endless data: refused before any is read (3)
{ cat $C/npy/declares-huge-shape.npy; head -c 50000000 /dev/zero; } |
    refused 3 "of memory to load, more than this machine's" --dataset "npy:/dev/stdin,$Y"
{ cat $C/idx/declares-huge.idx; head -c 50000000 /dev/zero; } |
    refused 3 "of memory to load, more than this machine's" --dataset "idx:/dev/stdin,$L"
# a valid header, then more than it declares: read up to the declared size only
{ cat "$X"; head -c 50000000 /dev/zero; } |
    refused 2 "/dev/stdin: byte 448: trailing bytes: shape (20, 4) of <f4 is 320 data bytes, the file goes on" \
        --dataset "npy:/dev/stdin,$Y"
# one line of 300 MB: the reader's limit on a line (256 MiB)
head -c 300000000 /dev/zero | tr '\0' 1 |
    refused 2 "/dev/stdin: line 1: longer than 256 MiB without a newline" --dataset csv:/dev/stdin

# --- pipes holding valid data load like the files ---------------------------------------
for spec in "csv:$C/csv/ok-header.csv" "svmlight:$C/svmlight/ok-1based.svm" "arff:$C/arff/ok-iris.arff" \
            "npy:$X,$Y" "idx:$I,$L"; do
    fmt=${spec%%:*} files=${spec#*:} first=${files%%,*}
    case $files in *,*) rest=,${files#*,} ;; *) rest= ;; esac
    rm -rf "$T/pipe"
    cat "$first" | timeout 60 "$ALSIM" --dataset "$fmt:/dev/stdin$rest" $SMALL --out "$T/pipe" 2>"$T/err"; st=$?
    check "$fmt through a pipe: exit $st: $(cat "$T/err")" [ "$st" -eq 0 -a -n "$(only_dir "$T/pipe")" ]
done

# --- sparse files of 1 TB (300 MB where the file system cannot): the header is checked
# before the body is read, so they cost nothing (reading them whole cannot even start)
SIZE=1T BYTES=1099511627776
truncate -s $SIZE "$T/zeros.npy" 2>/dev/null || SIZE=300M BYTES=314572800
truncate -s $SIZE "$T/zeros.npy" "$T/zeros.idx"
refused 2 "$T/zeros.npy: byte 0: not a .npy file" --dataset "npy:$T/zeros.npy,$Y"
refused 2 "$T/zeros.idx: byte 2: unknown IDX type 0x00" --dataset "idx:$T/zeros.idx,$L"
head -c 128 "$X" >"$T/big.npy" && truncate -s $SIZE "$T/big.npy"
refused 2 "$T/big.npy: byte 448: trailing bytes: shape (20, 4) of <f4 is 320 data bytes, the file has $((BYTES - 128))" \
    --dataset "npy:$T/big.npy,$Y"

# --- a stop while a FIFO is read: exit 128 + the signal, one line, promptly ---------------
# stop_while_loading SIGNAL STATUS: a writer sends a row every 0.2 s and never ends.
stop_while_loading() {
    rm -f "$T/fifo" && mkfifo "$T/fifo" || { bad "mkfifo"; return; }
    { echo a,b,label; while :; do echo 1,2,x; echo 3,4,y; sleep 0.2; done; } >"$T/fifo" 2>/dev/null &
    writer=$!
    rm -rf "$T/out"
    "$ALSIM" --dataset "csv:$T/fifo" $SMALL --out "$T/out" >/dev/null 2>"$T/err" &
    pid=$!
    sleep 1
    kill -"$1" "$pid"
    i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
    wait "$pid"; st=$?
    kill "$writer" 2>/dev/null; wait "$writer" 2>/dev/null
    want="alsim: stopped by SIG$1 while loading $T/fifo"
    if [ "$st" -eq "$2" ] && [ $i -lt 50 ] && [ "$(cat "$T/err")" = "$want" ] && [ ! -e "$T/out" ]; then ok
    else bad "SIG$1 while loading a FIFO: exit $st (want $2) after ${i}00 ms: $(cat "$T/err")"; fi
}
stop_while_loading TERM 143
stop_while_loading INT 130

# --- a FIFO fed by a slow writer that ends: loads like the file ---------------------------
rm -f "$T/fifo" && mkfifo "$T/fifo"
{ head -n 15 $C/csv/ok-header.csv; sleep 0.5; tail -n +16 $C/csv/ok-header.csv; } >"$T/fifo" &
rm -rf "$T/out"
timeout 60 "$ALSIM" --dataset "csv:$T/fifo" $SMALL --out "$T/out" 2>"$T/err"; st=$?
wait
check "a FIFO with a slow writer: exit $st: $(cat "$T/err")" [ "$st" -eq 0 -a -n "$(only_dir "$T/out")" ]

# --- a data file named .something: a visible run folder that alsim report finds ----------
mkdir -p "$T/data" && cp $C/csv/ok-header.csv "$T/data/.hidden.csv" && cp $C/csv/ok-header.csv "$T/data/plain.csv"
rm -rf "$T/out"
"$ALSIM" --dataset "$T/data/.hidden.csv" $SMALL --out "$T/out" 2>"$T/err" || bad ".hidden.csv run: $(cat "$T/err")"
"$ALSIM" --dataset "$T/data/plain.csv" $SMALL --out "$T/out" 2>"$T/err" || bad "plain.csv run: $(cat "$T/err")"
check "no hidden run folder: $(ls -A "$T/out" | tr '\n' ' ')" [ -z "$(ls -A "$T/out" | grep '^\.')" ]
check "the dot became '_': $(ls "$T/out" | tr '\n' ' ')" [ -n "$(ls "$T/out" | grep '^_hidden\.csv-')" ]
check "an ordinary name keeps its id: $(ls "$T/out" | tr '\n' ' ')" [ -n "$(ls "$T/out" | grep '^plain\.csv-')" ]
"$ALSIM" report "$T/out" --out "$T/rep" >"$T/rep.out" 2>&1 || bad "alsim report: $(cat "$T/rep.out")"
check "alsim report finds both runs: $(cat "$T/rep.out")" grep -q "report of 2 runs (2 used" "$T/rep.out"

finish e2e_inputs
