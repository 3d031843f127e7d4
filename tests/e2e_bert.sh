#!/bin/sh
# End-to-end tests of --model bert:DIR with the committed tiny model (tests/fixtures/tiny-bert):
#   a CSV with --text-column: --finetune none (the pooled vectors cached on disk: a second run
#   encodes nothing and writes the same files; a damaged cache is reported and rebuilt),
#   --finetune lora:4 and head+last:1 (the same command twice: byte-identical files; the budget
#   columns identical across strategies; killed and resumed: the uninterrupted run's files);
#   config.json names the model folder and its SHA-256;
#   the SpamAssassin emails as text, frozen and with LoRA (deterministic, the same budgets for
#   margin and random; unless ALSIM_E2E_QUICK);
#   refusals: exit 2, one line, no run folder.
# Ends with "e2e_bert: N passed, M failed"; exit status 0 when all pass. About a minute.
. tests/lib.sh
BERT=bert:tests/fixtures/tiny-bert
# a CSV of short texts in the tiny model's words, two classes told apart by their words
awk 'BEGIN { srand(3); print "id,text,label"
    split("free money click here now offer win you your", spam, " ")
    split("meeting report project team please send email list the", ham, " ")
    for (i = 0; i < 240; i++) {
        c = i % 2; t = ""
        for (j = 0; j < 4 + i % 7; j++) t = t (j ? " " : "") (c ? spam[1 + int(rand() * 9)] : ham[1 + int(rand() * 9)])
        if (i % 5 == 0) t = "\"" t ", and a comma\""
        print i "," t "," (c ? "spam" : "ham") } }' >"$T/texts.csv"
export ALSIM_DATA="$T/cache"        # the embedding cache (this CSV needs no catalogued data)
CSV="--dataset $T/texts.csv --text-column text --label label --rounds 3 --batch 6 --init 6 --seed 2"

# --- frozen: pooled vectors, cached -------------------------------------------------------
"$ALSIM" --model $BERT $CSV --strategy margin --out "$T/f1" 2>"$T/f1.err" || bad "frozen run"
d=$(only_dir "$T/f1")
check "frozen: says it encoded every row" grep -q "0 rows' vectors from the cache, 240 encoded" "$T/f1.err"
check "frozen: the cache file exists" sh -c "ls '$T/cache/embeddings/'*.emb >/dev/null"
check "frozen: the head sees 32 features (the hidden size)" grep -q '"features": 32' "$d/config.json"
check "config.json: the model folder and its SHA-256" sh -c "tr -d ' \n' <'$d/config.json' | grep -q '\"language_model\":{\"folder\":\"tests/fixtures/tiny-bert\",\"sha256\":\"[0-9a-f]\{64\}\"}'"
check "config.json: finetune, pooling, head, max_tokens" sh -c "grep -q '\"finetune\": \"none\"' '$d/config.json' && grep -q '\"pooling\": \"cls\"' '$d/config.json' && grep -q '\"head\": \"mlp\"' '$d/config.json' && grep -q '\"max_tokens\": 128' '$d/config.json'"
"$ALSIM" --model $BERT $CSV --strategy margin --out "$T/f2" 2>"$T/f2.err" || bad "frozen run again"
d2=$(only_dir "$T/f2")
check "frozen again: every vector from the cache" grep -q "240 rows' vectors from the cache, 0 encoded" "$T/f2.err"
check "frozen again: byte-identical curve.csv and rounds.jsonl" sh -c "cmp -s '$d/curve.csv' '$d2/curve.csv' && cmp -s '$d/rounds.jsonl' '$d2/rounds.jsonl'"
for f in "$T/cache/embeddings/"*.emb; do head -c 100 "$f" >"$T/short" && cp "$T/short" "$f"; done
"$ALSIM" --model $BERT $CSV --strategy margin --out "$T/f3" 2>"$T/f3.err" || bad "frozen run on a damaged cache"
check "a damaged cache: reported and rebuilt" sh -c "grep -q 'truncated or too long; it is rebuilt' '$T/f3.err' && grep -q '240 encoded' '$T/f3.err'"
check "a damaged cache: the same results" cmp -s "$d/curve.csv" "$(only_dir "$T/f3")/curve.csv"
"$ALSIM" --model $BERT $CSV --strategy margin --pooling mean --head logreg --out "$T/f4" --quiet || bad "frozen, mean pooling, logreg"
check "mean pooling: a cache file of its own" [ "$(ls "$T/cache/embeddings/" | grep -c '\.emb$')" -eq 2 ]

# --- fine-tuned: LoRA and the last layer ----------------------------------------------------
FT="--model $BERT $CSV --epochs 4 --minibatch 8 --mc 4"
for s in margin random bald; do
    "$ALSIM" $FT --finetune lora:4 --strategy $s --out "$T/l" --quiet || bad "lora:4 $s"
done
"$ALSIM" $FT --finetune lora:4 --strategy margin --out "$T/l2" --quiet || bad "lora:4 margin again"
lm=$(ls -d "$T/l/"*-margin-*); lr=$(ls -d "$T/l/"*-random-*); lb=$(ls -d "$T/l/"*-bald-*)
check "lora: the same command, byte-identical curve.csv and rounds.jsonl" sh -c "cmp -s '$lm/curve.csv' '$(only_dir "$T/l2")/curve.csv' && cmp -s '$lm/rounds.jsonl' '$(only_dir "$T/l2")/rounds.jsonl'"
bm=$(col "$lm/curve.csv" 7-9); br=$(col "$lr/curve.csv" 7-9); bb=$(col "$lb/curve.csv" 7-9)
check "lora: identical budgets (steps, samples, FLOPs) for margin, random and bald" [ "$bm" = "$br" -a "$bm" = "$bb" ]
check "lora: the budget counts the encoder's FLOPs (over 10^7 a row, a frozen head's 100x)" \
    awk -F, 'NR > 1 && !($9 / $8 > 1e7) { bad = 1 } END { exit bad }' "$lm/curve.csv"
"$ALSIM" $FT --finetune head+last:1 --pooling mean --strategy entropy --out "$T/h" --quiet || bad "head+last:1"
check "head+last:1: runs every round" [ "$(col "$(only_dir "$T/h")/curve.csv" 1 | tail -n 1)" = 3 ]
kill_at 1 "$T/k" $FT --finetune lora:4 --strategy margin --quiet
"$ALSIM" $FT --finetune lora:4 --strategy margin --out "$T/k" --resume --quiet 2>/dev/null || bad "lora resume"
check "lora: killed after round 1 and resumed, the uninterrupted run's curve and picks" \
    sh -c "cmp -s '$lm/curve.csv' '$(only_dir "$T/k")/curve.csv' && cmp -s '$lm/rounds.jsonl' '$(only_dir "$T/k")/rounds.jsonl'"

# --- SpamAssassin's emails as text (fetched into the cache on first use) -------------------
if [ -z "${ALSIM_E2E_QUICK:-}" ]; then
    unset ALSIM_DATA
    S="--model $BERT --dataset spamassassin --pool-size 300 --test-size 200 --rounds 3 --quiet"
    "$ALSIM" $S --finetune none --strategy margin --out "$T/s" || bad "spamassassin frozen"
    check "spamassassin frozen: 2 classes, 32 features" sh -c "tr -d ' \n' <'$(only_dir "$T/s")/config.json' | grep -q '\"features\":32,\"classes\":\[\"ham\",\"spam\"\]'"
    for s in margin random; do
        "$ALSIM" $S --finetune lora:4 --epochs 2 --strategy $s --out "$T/s2" || bad "spamassassin lora $s"
    done
    "$ALSIM" $S --finetune lora:4 --epochs 2 --strategy margin --out "$T/s3" || bad "spamassassin lora again"
    sm=$(ls -d "$T/s2/"*-margin-*); sr=$(ls -d "$T/s2/"*-random-*)
    check "spamassassin lora: 128 tokens a row" grep -q '"features": 128' "$sm/config.json"
    check "spamassassin lora: the same command, byte-identical curve.csv and rounds.jsonl" \
        sh -c "cmp -s '$sm/curve.csv' '$(only_dir "$T/s3")/curve.csv' && cmp -s '$sm/rounds.jsonl' '$(only_dir "$T/s3")/rounds.jsonl'"
    check "spamassassin lora: the same budgets for margin and random" [ "$(col "$sm/curve.csv" 7-9)" = "$(col "$sr/curve.csv" 7-9)" ]
    export ALSIM_DATA="$T/cache"
fi

# --- refusals ---------------------------------------------------------------------------------
expect_fail 2 "a model folder that is not there" --model bert:$T/none $CSV --strategy margin
check "... names the file" grep -q "$T/none/" "$T/fail.err"
expect_fail 2 "--finetune lora:x" --model $BERT $CSV --finetune lora:x
expect_fail 2 "--finetune with --model mlp" $CSV --finetune lora:4
expect_fail 2 "--pooling max" --model $BERT $CSV --pooling max
expect_fail 2 "--head cnn" --model $BERT $CSV --head cnn
expect_fail 2 "head+last:3 of a 2-layer model" --model $BERT $CSV --finetune head+last:3
check "... says how many layers it has" grep -q "has 2 layers" "$T/fail.err"
expect_fail 2 "--max-tokens past the model's positions (frozen)" --model $BERT $CSV --max-tokens 200
check "... names --max-tokens" grep -q -- "--max-tokens 200: the model in tests/fixtures/tiny-bert has 128 positions" "$T/fail.err"
expect_fail 2 "--max-tokens past the model's positions (lora)" --model $BERT $CSV --max-tokens 200 --finetune lora:2
expect_fail 2 "a language model on numbers" --model $BERT --dataset synthetic:blobs:k=2,d=4,n=100,test=40
expect_fail 2 "train-policy with a language model" train-policy --model $BERT --train "$T/texts.csv" --episodes 1
finish e2e_bert
