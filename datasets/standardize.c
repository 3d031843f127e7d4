/* standardize — --standardize: the pool's z-scores applied to pool and test. See dataset.h. */
#include "datasets/dataset.h"
#include "sim/util.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* mean (d) and sd (d) of the features of ds (n rows; CSR rows count absent entries as 0);
 * sd 1 for a feature that is constant up to rounding. Two passes: the squares are of
 * deviations from the mean, so a large offset does not swamp the variance. */
static void feature_stats(double *mean, double *sd, const Dataset *ds) {
    const int n = ds->n, d = ds->d;
    for (int j = 0; j < d; j++) mean[j] = sd[j] = 0;
    if (n == 0) { for (int j = 0; j < d; j++) sd[j] = 1; return; }
    if (ds->x) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) mean[j] += ds->x[(size_t)i * d + j];
        for (int j = 0; j < d; j++) mean[j] /= n;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) {
                double e = ds->x[(size_t)i * d + j] - mean[j];
                sd[j] += e * e;
            }
    } else {
        const int64_t nnz = ds->indptr[n];
        double *count = sd;     /* first the nonzeros per feature, then the squares */
        for (int64_t p = 0; p < nnz; p++) { mean[ds->indices[p]] += ds->values[p]; count[ds->indices[p]] += 1; }
        for (int j = 0; j < d; j++) {
            mean[j] /= n;
            sd[j] = (n - count[j]) * mean[j] * mean[j];     /* the absent entries: 0 - mean */
        }
        for (int64_t p = 0; p < nnz; p++) {
            double e = ds->values[p] - mean[ds->indices[p]];
            sd[ds->indices[p]] += e * e;
        }
    }
    for (int j = 0; j < d; j++) {
        const double var = sd[j] / n, bound = n * DBL_EPSILON * fabs(mean[j]);
        sd[j] = var <= bound * bound ? 1.0 : sqrt(var);
    }
}

/* Applies the scaling to ds: centred (dense) and divided by sd. */
static void apply_stats(Dataset *ds, const double *mean, const double *sd) {
    const int n = ds->n, d = ds->d;
    if (ds->x) {
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) {
                float *v = &ds->x[(size_t)i * d + j];
                *v = (float)((*v - mean[j]) / sd[j]);
            }
    } else {
        const int64_t nnz = n ? ds->indptr[n] : 0;
        for (int64_t p = 0; p < nnz; p++) ds->values[p] = (float)(ds->values[p] / sd[ds->indices[p]]);
    }
}

int dataset_standardize(Dataset *pool, Dataset *test, char *err, size_t errlen) {
    if (pool->text_tokens > 0) {
        snprintf(err, errlen, "--standardize: %s holds token rows (WordPiece ids for --model bert), not "
                 "features to z-score; leave it out", pool->name);
        return ALSIM_BAD_INPUT;
    }
    const int d = pool->d;
    double *mean = malloc((size_t)(d > 0 ? d : 1) * sizeof *mean);
    double *sd = malloc((size_t)(d > 0 ? d : 1) * sizeof *sd);
    if (!mean || !sd) {
        free(mean); free(sd);
        snprintf(err, errlen, "out of memory standardizing %s (%d features)", pool->name, d);
        return ALSIM_RUNTIME;
    }
    feature_stats(mean, sd, pool);
    apply_stats(pool, mean, sd);
    if (test) apply_stats(test, mean, sd);
    free(mean); free(sd);
    return 0;
}
