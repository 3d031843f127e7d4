/* metrics — see metrics.h. */
#include "sim/metrics.h"

#include <math.h>
#include <stdlib.h>

Metrics metrics_eval(const float *probs, const int32_t *y, int n, int k) {
    Metrics m = {0};
    long *tp = calloc((size_t)k, sizeof *tp), *pred = calloc((size_t)k, sizeof *pred);
    long *support = calloc((size_t)k, sizeof *support);
    if (!tp || !pred || !support) {
        free(tp); free(pred); free(support);
        m.accuracy = m.macro_f1 = m.nll = NAN;
        return m;
    }
    long correct = 0;
    double nll = 0;
    int diverged = 0;                                     /* any non-finite probability */
    for (int i = 0; i < n; i++) {
        const float *p = probs + (size_t)i * k;
        int best = 0;
        for (int c = 1; c < k; c++) if (p[c] > p[best]) best = c;
        for (int c = 0; c < k; c++) diverged |= !isfinite(p[c]);
        support[y[i]]++;
        pred[best]++;
        if (best == y[i]) { correct++; tp[best]++; }
        nll -= log(fmax((double)p[y[i]], 1e-12));
    }
    m.accuracy = n ? (double)correct / n : NAN;
    m.nll = n ? nll / n : NAN;
    double f1 = 0;
    int present = 0;
    for (int c = 0; c < k; c++) {
        if (!support[c]) continue;
        present++;
        if (tp[c]) f1 += 2.0 * tp[c] / (double)(pred[c] + support[c]);
    }
    m.macro_f1 = present ? f1 / present : NAN;
    if (diverged) m.accuracy = m.macro_f1 = m.nll = NAN;
    free(tp); free(pred); free(support);
    return m;
}

void metrics_f1_per_class(double *f1, const float *probs, const int32_t *y, int n, int k) {
    long *tp = calloc((size_t)k, sizeof *tp), *pred = calloc((size_t)k, sizeof *pred);
    long *support = calloc((size_t)k, sizeof *support);
    int diverged = !tp || !pred || !support;
    for (int i = 0; i < n && !diverged; i++) {
        const float *p = probs + (size_t)i * k;
        int best = 0;
        for (int c = 0; c < k; c++) {
            diverged |= !isfinite(p[c]);
            if (p[c] > p[best]) best = c;
        }
        support[y[i]]++;
        pred[best]++;
        tp[best] += best == y[i];
    }
    for (int c = 0; c < k; c++)
        f1[c] = diverged || !support[c] ? NAN : 2.0 * tp[c] / (double)(pred[c] + support[c]);
    free(tp); free(pred); free(support);
}

double metrics_aulc(const double *x, const double *acc, int m) {
    if (m <= 0) return NAN;
    if (m == 1 || x[m - 1] == x[0]) return acc[0];
    double area = 0;
    for (int i = 1; i < m; i++) area += 0.5 * (acc[i] + acc[i - 1]) * (x[i] - x[i - 1]);
    return area / (x[m - 1] - x[0]);
}

double metrics_labels_to_target(const double *x, const double *acc, int m, double target) {
    for (int i = 0; i < m; i++) if (acc[i] >= target) return x[i];
    return -1;
}
