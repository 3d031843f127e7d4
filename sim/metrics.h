/* metrics — how good a model is on the test set, and the area under a learning curve. */
#ifndef ALSIM_METRICS_H
#define ALSIM_METRICS_H

#include <stdint.h>

typedef struct {
    double accuracy;        /* share of rows whose argmax is the label */
    double macro_f1;        /* mean over classes present in y of per-class F1 (0 when a class
                               is never predicted correctly) */
    double nll;             /* mean -log p(label), probabilities floored at 1e-12 */
} Metrics;

/* Metrics of probs (n,K) against labels y (n). Argmax ties go to the lowest class. All three
 * are NaN when any probability is not finite (a diverged model). */
Metrics metrics_eval(const float *probs /*(n,K)*/, const int32_t *y /*(n)*/, int n, int k);

/* Normalised area under the curve acc(x): trapezoid rule over x ascending, divided by
 * x[m-1] - x[0]; for m == 1 it is acc[0]. NaN when any acc is NaN. */
double metrics_aulc(const double *x /*(m)*/, const double *acc /*(m)*/, int m);

/* The first x whose acc reaches target, or -1 when none does. */
double metrics_labels_to_target(const double *x /*(m)*/, const double *acc /*(m)*/, int m, double target);

#endif
