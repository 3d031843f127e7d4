/* uncertainty — scores from one prediction per row: least-confidence, entropy and margin.
 *
 * Each reads the row's probabilities v->probs (n,K) (dropout off; NEEDS_PROBS) and nothing
 * else, so a row's score is the same whatever chunk it is scored in. The formulas are
 * formulas.h's, which the CUDA backend's score_rows computes too. */
#include "strategies/strategy.h"
#include "strategies/formulas.h"

#include <stddef.h>

/* 1 - max_c p_c: Lewis & Gale (1994)'s uncertainty sampling. */
void score_least_confidence(double *scores, const PoolView *v) {
    for (int i = 0; i < v->n; i++)
        scores[i] = formula_least_confidence(v->probs + (size_t)i * v->k, v->k);
}

/* H[p] in nats. */
void score_entropy(double *scores, const PoolView *v) {
    for (int i = 0; i < v->n; i++)
        scores[i] = formula_entropy(v->probs + (size_t)i * v->k, v->k);
}

/* -(p_(1) - p_(2)): a small gap between the two most likely classes scores high. */
void score_margin(double *scores, const PoolView *v) {
    for (int i = 0; i < v->n; i++)
        scores[i] = formula_margin(v->probs + (size_t)i * v->k, v->k);
}
