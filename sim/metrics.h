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

/* F1 of each class: f1 (k), f1[c] = 2·tp_c / (predicted_c + labeled_c) over probs (n,K)
 * against y (n), argmax ties to the lowest class; 0 when class c has rows but is never
 * predicted right; NaN when no row is labeled c (recall undefined) or any probability is
 * not finite. metrics_eval's macro_f1 is the mean of the non-NaN entries. */
void metrics_f1_per_class(double *f1 /*(k)*/, const float *probs /*(n,K)*/, const int32_t *y /*(n)*/,
                          int n, int k);

/* Normalised area under the curve acc(x): trapezoid rule over x ascending, divided by
 * x[m-1] - x[0]; for m == 1 it is acc[0]. NaN when any acc is NaN. */
double metrics_aulc(const double *x /*(m)*/, const double *acc /*(m)*/, int m);

/* The first x whose acc reaches target, or -1 when none does. */
double metrics_labels_to_target(const double *x /*(m)*/, const double *acc /*(m)*/, int m, double target);

#endif
