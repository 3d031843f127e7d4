/* uncertainty — scores from one prediction per row: least-confidence, entropy and margin.
 *
 * Each reads the row's probabilities v->probs (n,K) (dropout off; NEEDS_PROBS) and nothing
 * else, so a row's score is the same whatever chunk it is scored in. Arithmetic is in double.
 * A NaN probability makes the row's score NaN (ranked last by select.c) rather than a number
 * that could look uncertain or certain. */
#include "strategies/strategy.h"
#include "strategies/scores.h"

#include <math.h>
#include <stddef.h>

/* 1 - max_c p_c: Lewis & Gale (1994)'s uncertainty sampling. */
void score_least_confidence(double *scores, const PoolView *v) {
    for (int i = 0; i < v->n; i++) {
        const float *p = v->probs + (size_t)i * v->k;   /* (K) */
        double top = -INFINITY;
        for (int c = 0; c < v->k; c++) {
            if (isnan(p[c])) { top = NAN; break; }
            if (p[c] > top) top = p[c];
        }
        scores[i] = 1.0 - top;
    }
}

/* H[p] in nats. */
void score_entropy(double *scores, const PoolView *v) {
    for (int i = 0; i < v->n; i++)
        scores[i] = scores_entropy(v->probs + (size_t)i * v->k, v->k);
}

/* -(p_(1) - p_(2)): a small gap between the two most likely classes scores high.
 * With K = 1 there is no second class; p_(2) is taken as 0. */
void score_margin(double *scores, const PoolView *v) {
    for (int i = 0; i < v->n; i++) {
        const float *p = v->probs + (size_t)i * v->k;   /* (K) */
        double first = -INFINITY, second = -INFINITY;
        for (int c = 0; c < v->k; c++) {
            double x = p[c];
            if (isnan(x)) { first = second = NAN; break; }
            if (x > first) { second = first; first = x; }
            else if (x > second) second = x;
        }
        if (v->k == 1) second = 0.0;
        scores[i] = -(first - second);
    }
}
