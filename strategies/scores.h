/* scores — small numeric helpers shared by the score functions (uncertainty.c, bayesian.c).
 * Private to strategies/: not part of the strategy contract. */
#ifndef ALSIM_SCORES_H
#define ALSIM_SCORES_H

#include <math.h>

/* p·log p with 0·log 0 = 0. A NaN p gives NaN, so a diverged model's rows score NaN (select.c
 * ranks NaN below every number) instead of looking certain. */
static inline double scores_xlogx(double p) { return p == 0.0 ? 0.0 : p * log(p); }

/* Entropy in nats, -Σ_c p_c log p_c, of p (k), accumulated in double. Entropy is a sum over
 * classes, so calling it on a slice of classes gives that slice's share. */
static inline double scores_entropy(const float *p /*(k)*/, int k) {
    double h = 0.0;
    for (int c = 0; c < k; c++) h -= scores_xlogx(p[c]);
    return h;
}

#endif
