#!/bin/sh
# bench/bert.sh — the BERT encoder's forward pass, alsim against PyTorch, on the same cores,
# model folder and token ids: bench_bert (the encoder on the CPU backend) and
# bench/peers/bert_torch.py (tests/fixtures/hf_bert.py's plain PyTorch encoder, float32, under
# torch.inference_mode(), 2 threads). The models are randomly initialised folders in the
# Hugging Face layout that bench/make_bench_bert.py writes under $OUT (once; delete them to
# redraw). Prints a markdown section on stdout with the targets marked met or not. Not a test.
# About 1 minute on 2 cores for the MiniLM-L6 shape, 4 for BERT-base.
#
#   sh bench/bert.sh            the section alone
#   sh bench/bert.sh --record   the section under lib.sh's dated header (machine, date, commit),
#                               also appended to bench/RESULTS.md
#
# Environment: BERT_SHAPES (default "minilm base": make_bench_bert.py's shapes), BERT_B and
# BERT_T (default 32 sequences × 128 tokens), BENCH_BIN (default build/bench), ALSIM (default
# build/alsim: the rounds with each --finetune, on the first shape), OUT scratch
# folder (default bench/out), PYTHON the Python with torch (default /usr/bin/python3).
set -u
. bench/lib.sh
bench_init bert
SHAPES=${BERT_SHAPES:-minilm base}
BB=${BERT_B:-32}
BT=${BERT_T:-128}
ALSIM=${ALSIM:-build/alsim}

# reps for a shape: fewer for the larger model
reps() { if [ "$1" = base ]; then echo 3; else echo 5; fi; }

section() {
    echo "### BERT encoder forward: alsim against PyTorch"
    echo
    echo "Same work on both sides: a randomly initialised encoder in the Hugging Face layout"
    echo "(\`bench/make_bench_bert.py\`, seed 0, vocab 30522, 512 positions), $BB sequences × $BT tokens"
    echo "([CLS], seeded random ids, [SEP]; no padding), the last hidden states in float32. alsim:"
    echo "\`bench_bert\` (bert_encoder_run on the CPU backend, buffers allocated once). PyTorch: \`bench/peers/bert_torch.py\` (the"
    echo "plain encoder of \`tests/fixtures/hf_bert.py\` that alsim's is checked against, under"
    echo "torch.inference_mode(), \`torch.set_num_threads(2)\`). Medians after one warm-up (5"
    echo "repetitions, 3 for BERT-base). GFLOP by formula: L · (2·N·(4H² + 2HI) + 4·B·T²·H), N = B·T;"
    echo "the sgemm reference: OpenBLAS in the same run on the encoder's linear shapes, FLOP-weighted."
    echo "Load average before: $(cut -d' ' -f1-3 /proc/loadavg) (2 cores: above ~2 another process shares them)."
    echo
    have_torch=0
    "$PYTHON" -c 'import torch' 2>/dev/null && have_torch=1
    rows=""
    for shape in $SHAPES; do
        dir="$OUT/bert-$shape"
        if [ ! -f "$dir/config.json" ] && { [ "$have_torch" = 0 ] ||
            ! "$PYTHON" bench/make_bench_bert.py "$dir" --shape "$shape" >"$OUT/bert-$shape.make.log" 2>&1; }; then
            echo "(no model folder for $shape: $PYTHON with torch runs bench/make_bench_bert.py)"
            continue
        fi
        kvs="$OUT/bert-$shape.kv"
        if ! "$BENCH_BIN/bench_bert" --batch "$BB" --tokens "$BT" --reps "$(reps "$shape")" \
                --ids "$OUT/bert-$shape.ids" --kv "$kvs" "$dir" >"$OUT/bert-$shape.alsim.md"; then
            echo "(bench_bert failed on $dir)"
            continue
        fi
        if [ "$have_torch" = 1 ]; then
            "$PYTHON" bench/peers/bert_torch.py --model "$dir" --ids "$OUT/bert-$shape.ids" --batch "$BB" \
                --tokens "$BT" --reps "$(reps "$shape")" --threads 2 >"$OUT/bert-$shape.torch.json" \
                2>"$OUT/bert-$shape.torch.err" || echo "(bert_torch.py failed: $OUT/bert-$shape.torch.err)"
            "$PYTHON" -c 'import json, sys
d = json.loads(open(sys.argv[1]).read())
print("torch_tokens_per_s", d["tokens_per_s"]); print("torch_forward_s", d["forward_s"])
print("torch_threads", d["threads"]); print("torch_version", d["torch"])' "$OUT/bert-$shape.torch.json" >>"$kvs" 2>/dev/null
        fi
        rows="$rows $shape"
    done
    echo "Load average after: $(cut -d' ' -f1-3 /proc/loadavg)."
    echo
    [ -n "$rows" ] || return 0
    echo "| shape (hidden, layers, heads, intermediate) | alsim tokens/s | PyTorch tokens/s | alsim / PyTorch | alsim GFLOP/s | share of the sgemm rate | linear layers alone: share |"
    echo "|---|---|---|---|---|---|---|"
    for shape in $rows; do
        KV="$OUT/bert-$shape.kv"
        awk -v s="$shape" -v h="$(kv hidden)" -v l="$(kv layers)" -v hd="$(kv heads)" -v i="$(kv intermediate)" \
            -v a="$(kv tokens_per_s)" -v p="$(kv torch_tokens_per_s)" -v g="$(kv gflops)" -v r="$(kv sgemm_ref_gflops)" \
            -v m="$(kv matmul_gflops)" 'BEGIN {
            pt = p == "" ? "–" : sprintf("%.0f", p); ra = p == "" ? "–" : sprintf("%.2f×", a / p)
            printf "| %s (%d, %d, %d, %d) | %.0f | %s | %s | %.1f | %.0f%% of %.1f | %.0f%% (%.1f GFLOP/s) |\n",
                   s, h, l, hd, i, a, pt, ra, g, 100 * g / r, r, 100 * m / r, m }'
    done
    echo
    echo "#### Targets, from this run"
    echo
    echo "| target | shape | measured | met |"
    echo "|---|---|---|---|"
    for shape in $rows; do
        KV="$OUT/bert-$shape.kv"
        awk -v s="$shape" -v a="$(kv tokens_per_s)" -v p="$(kv torch_tokens_per_s)" -v g="$(kv gflops)" \
            -v r="$(kv sgemm_ref_gflops)" 'BEGIN {
            yn = "yes"; no = "**no**"
            printf "| encoder forward ≥ 50%% of the sgemm rate | %s | %.0f%% | %s |\n", s, 100 * g / r, (g / r >= 0.5 ? yn : no)
            if (p != "") printf "| tokens/s ≥ 1.5× PyTorch | %s | %.2f× | %s |\n", s, a / p, (a / p >= 1.5 ? yn : no) }'
    done
    KV="$OUT/bert-$(echo $rows | cut -d' ' -f1).kv"
    [ -n "$(kv torch_version)" ] && echo && echo "PyTorch $(kv torch_version), \`torch.get_num_threads()\` = $(kv torch_threads)."
    for shape in $rows; do
        echo
        echo "#### alsim: bench_bert, $shape"
        echo
        cat "$OUT/bert-$shape.alsim.md"
    done
    rounds_section
}

# A round of active learning with each --finetune, on the first shape's folder: texts of random
# vocabulary words (about 120 tokens each: truncated to --max-tokens 128), two random classes
# (what a round costs does not depend on what it learns), 1,000 pool and 200 test rows, BALD with
# T = 10, 20 labels then 20 more twice. Figures from one run each: the encoding of every row into the
# embedding cache (an empty cache), and round 1's fit and pool pass from timings.csv.
rounds_section() {
    shape=$(echo $SHAPES | cut -d' ' -f1)
    dir="$OUT/bert-$shape"
    [ -f "$dir/config.json" ] && [ -x "$ALSIM" ] || return 0
    awk 'BEGIN { srand(5); print "text,label"
        for (i = 0; i < 1200; i++) { t = ""; for (j = 0; j < 120; j++) t = t (j ? " " : "") "tok" int(rand() * 30000)
            print t "," int(rand() * 2) } }' >"$OUT/bert-texts.csv"
    R="--model bert:$dir --dataset $OUT/bert-texts.csv --text-column text --test-frac 0.1667 --rounds 2 --init 20 --batch 20 --strategy bald --mc 10 --force --quiet"
    rm -rf "$OUT/bert-cache" "$OUT/bert-rounds"
    t0=$(date +%s.%N)
    ALSIM_DATA="$OUT/bert-cache" "$ALSIM" $R --finetune none --out "$OUT/bert-rounds/none" || { echo "(the frozen round failed)"; return 0; }
    t1=$(date +%s.%N)
    ALSIM_DATA="$OUT/bert-cache" "$ALSIM" $R --finetune lora:8 --epochs 3 --minibatch 16 --out "$OUT/bert-rounds/lora" || { echo "(the LoRA round failed)"; return 0; }
    ALSIM_DATA="$OUT/bert-cache" "$ALSIM" $R --finetune head+last:1 --epochs 3 --minibatch 16 --out "$OUT/bert-rounds/last" || { echo "(the head+last:1 round failed)"; return 0; }
    echo
    echo "#### A round with each --finetune ($shape shape)"
    echo
    echo "Texts of 120 random vocabulary words (truncated to 128 tokens), two random classes; 1,000 pool"
    echo "and 200 test rows; BALD, T = 10; round 1 (40 labels: its fit, then the pass that picks 20). Fine-tuned: 3 epochs of"
    echo "minibatches of 16 (9 AdamW steps). From each run's timings.csv; the frozen run's wall time"
    echo "includes encoding all 1,200 rows into an empty cache."
    echo
    echo "| --finetune | encode 1,200 rows, s | round 1: fit, s | round 1: pool pass (T = 10), s |"
    echo "|---|---|---|---|"
    for m in none lora last; do
        d=$(ls -d "$OUT/bert-rounds/$m/"*/ | head -n 1)
        enc="–"
        [ "$m" = none ] && enc=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f (the whole run)", b - a }')
        name=$m; [ "$m" = lora ] && name="lora:8"; [ "$m" = last ] && name="head+last:1"
        awk -F, -v n="$name" -v e="$enc" 'NR == 3 { printf "| %s | %s | %.3f | %.3f |\n", n, e, $2, $3 }' "$d/timings.csv"
    done
}

if [ "${1:-}" = "--record" ]; then record bert; else section; fi
