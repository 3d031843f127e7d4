#!/bin/sh
# alsim report --paper gal2017: the report's first table sets each strategy's acquired labels
# to reach 90% and 95% test accuracy (median [quartiles] over seeds) beside Gal et al. 2017's
# Table 1, with the paired tests against random; the values are recomputed here from the
# runs' curve.csv (awk), the paper's strategies missing from the runs are listed as not run,
# the paper-form figure is drawn, and an unknown paper is refused. Small MLP runs on synthetic
# blobs whose accuracy hovers around 90%, so some seeds reach a level and some do not.
# Ends with "e2e_paper: N passed, M failed"; exit status 0 when all pass. About 10 seconds.
. tests/lib.sh
DATA=synthetic:blobs:k=3,d=4,n=1500,test=600,sep=2.2
for s in random bald var-ratios; do
    "$ALSIM" --dataset "$DATA" --hidden 16 --epochs 30 --minibatch 16 --lr 0.02 --rounds 8 --batch 4 --init 6 --mc 4 \
        --strategy "$s" --seeds 5 --quiet --out "$T/runs" || bad "run $s"
done
"$ALSIM" report "$T/runs" --paper gal2017 --out "$T/rep" >"$T/rep.out" 2>"$T/rep.err" || bad "report --paper: $(cat "$T/rep.err")"
MD=$T/rep/summary.md

# The first table of the dataset is the paper's
check "the first table is the paper's" [ "$(grep -m1 '^### ' "$MD")" = "### Against the paper: Gal, Islam & Ghahramani, \"Deep Bayesian Active Learning with Image Data\", ICML 2017, Table 1 (Bayesian CNN)" ]
check "published figures beside bald" grep -q '^| bald | BALD | .* | 145 | .* | 335 |$' "$MD"
check "published figures beside random" grep -q '^| random | Random | .* | 255 | .* | 835 |$' "$MD"
check "the paper's strategies not run are listed" grep -q '^| mean-std | Mean STD | not run | — | 230 | not run | — | 695 |$' "$MD"
check "max entropy is mc-entropy, not run" grep -q '^| mc-entropy | Max Entropy | not run |' "$MD"
check "the target defaults to the paper's first level" grep -q 'Target of labels-to-target: accuracy 0.9 (the first level of --paper gal2017)' "$MD"
check "the paper-form figure is drawn (PNG and SVG)" [ -s "$(ls "$T"/rep/*-paper.svg)" ] && [ -s "$(ls "$T"/rep/*-paper.png)" ]
check "the report prints the paper figure's path" grep -q "^paper figure: $T/rep/.*-paper.png$" "$T/rep.out"
check "the paper figure has the 90% and 95% lines" grep -q "title '95% accuracy (5% error)'" "$(ls "$T"/rep/*-paper.gp)"
check "summary.json names the paper" grep -q '"paper": "Gal, Islam' "$T/rep/summary.json"

# Recomputed from curve.csv: acquired labels to reach LEVEL per seed (inf: not reached)
acquired() {   # acquired STRATEGY LEVEL: one line per seed, in seed order
    for seed in 0 1 2 3 4; do
        awk -F, -v lv="$2" 'NR == 2 { n0 = $2 } NR > 1 && $3 + 0 >= lv + 0 { print $2 - n0; f = 1; exit }
                            END { if (!f) print "inf" }' "$T"/runs/*-"$1"-seed$seed-*/curve.csv
    done
}
median() { sort -g | sed -n 3p | sed 's/^inf$/not reached/'; }   # the 3rd of 5: type 7's median
for s in random bald var-ratios; do
    for lv in 0.9 0.95; do
        m=$(acquired "$s" "$lv" | median)
        if [ "$lv" = 0.9 ]; then field=3; else field=6; fi
        got=$(grep "^| $s |" "$MD" | head -1 | cut -d'|' -f$((field + 1)) | sed 's/^ //; s/ \[.*//; s/ $//')
        check "$s: median acquired to $lv is $m (report: $got)" [ "$got" = "$m" ]
    done
done
# labels saved against random at 90% and 95%, paired by seed; not reached counts as one round
# after the last (8 rounds of 4: 36 acquired)
for s in bald var-ratios; do
    for lv in 0.9 0.95; do
        want=$(acquired random $lv >"$T/r"; acquired "$s" $lv >"$T/a"
               paste -d' ' "$T/r" "$T/a" | sed 's/inf/36/g' | awk '{ s += $1 - $2; n++; c += ($1 == 36 || $2 == 36) }
                                                              END { printf "%d %d %.1f\n", n, c, s / n }')
        row=$(grep "^| $s | $(echo "$lv" | sed 's/0.9$/90/; s/0.95/95/')% accuracy |" "$MD")
        got="$(echo "$row" | cut -d'|' -f4,5,6 | tr -d ' ' | tr '|' ' ')"
        check "$s at $lv: pairs, censored pairs, mean labels saved: $want (report: $got)" [ "$got" = "$want" ]
    done
done

# Refused: an unknown paper, with exit 2 and one line
"$ALSIM" report "$T/runs" --paper gal2016 --out "$T/rep2" >/dev/null 2>"$T/bad.err"; st=$?
check "unknown paper: exit 2" [ "$st" -eq 2 ]
check "unknown paper: one line naming the known ones" [ "$(cat "$T/bad.err")" = "alsim: --paper: unknown paper 'gal2016' (known: gal2017, batchbald)" ]
check "unknown paper: no report folder" [ ! -e "$T/rep2" ]

# --paper batchbald: Kirsch et al.'s figures beside batchbald and bald, random not in the paper,
# the paired tests against bald (--reference bald)
"$ALSIM" --dataset "$DATA" --hidden 16 --epochs 30 --minibatch 16 --lr 0.02 --rounds 8 --batch 4 --init 6 --mc 4 \
    --strategy batchbald --seeds 5 --quiet --out "$T/runs" || bad "run batchbald"
"$ALSIM" report "$T/runs" --paper batchbald --reference bald --out "$T/rep3" >/dev/null 2>"$T/rep3.err" || bad "report --paper batchbald: $(cat "$T/rep3.err")"
MD=$T/rep3/summary.md
check "batchbald: the first table is Kirsch et al.'s" grep -q -m1 '^### Against the paper: Kirsch, van Amersfoort & Gal, "BatchBALD' "$MD"
check "batchbald: published figures beside batchbald" grep -q '^| batchbald | BatchBALD | .* | 80 | .* | 190 |$' "$MD"
check "batchbald: published figures beside bald" grep -q '^| bald | BALD | .* | 110 | .* | 240 |$' "$MD"
check "batchbald: random is not in the paper" grep -q '^| random | (not in the paper) | .* | — | .* | — |$' "$MD"
check "batchbald: the tests are against bald" grep -q '^Fewer labels than bald? Labels saved = acquired(bald) - acquired(strategy)' "$MD"
check "batchbald: batchbald tested against bald at 90%" grep -q '^| batchbald | 90% accuracy | 5 |' "$MD"
m=$(acquired batchbald 0.9 | median)
got=$(grep "^| batchbald |" "$MD" | head -1 | cut -d'|' -f4 | sed 's/^ //; s/ \[.*//; s/ $//')
check "batchbald: median acquired to 0.9 is $m (report: $got)" [ "$got" = "$m" ]
"$ALSIM" report "$T/runs" --paper batchbald --reference bald --out "$T/rep4" >/dev/null 2>&1
check "batchbald: the same report twice" cmp "$T/rep3/summary.md" "$T/rep4/summary.md"
finish e2e_paper
