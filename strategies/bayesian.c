/* bayesian — scores from T MC-dropout samples per row: BALD, variation ratios, mean std.
 *
 * Input v->mc is (T,n,K), sample-major (NEEDS_MC): sample t of row i is the K floats at
 * mc + ((size_t)t*n + i)*K. Each score is a per-row formula, so it is chunk-independent.
 *
 * Memory order: a row's T samples lie n·K floats apart. We walk rows in order and, within a
 * row, samples in order, reading each sample's K classes contiguously; across rows this is T
 * forward streams through mc, each read once, which the prefetcher follows. (Looping t outer
 * over the whole view would stream a single array but needs (n,K) doubles of scratch.)
 * Per-class accumulators live on the stack in blocks of CLASS_BLOCK classes, so any K works
 * without allocating; for K <= CLASS_BLOCK (the usual case) each row is one block.
 *
 * All arithmetic is in double. 0·log 0 = 0. A NaN in a row's samples makes its score NaN.
 * Rows are independent, so each function runs on ranges of rows spread over the cores
 * (sim/parallel.h): the same bits whatever the thread count. */
#include "strategies/strategy.h"
#include "strategies/scores.h"
#include "sim/parallel.h"

#include <math.h>
#include <stddef.h>

enum { CLASS_BLOCK = 256 };
enum { MIN_ROWS = 512 };    /* per thread: below this a thread costs more than it saves */

/* What a range of rows (lo..hi-1) of one scoring call reads and writes. */
typedef struct {
    double *scores;
    const PoolView *v;
} Job;

/* Sample t of row i, classes c0.. : (K - c0) floats. */
static const float *mc_at(const PoolView *v, int t, int i, int c0) {
    return v->mc + ((size_t)t * v->n + i) * v->k + c0;
}

/* H[p̄] - (1/T) Σ_t H[p_t] (Houlsby et al. 2011; Gal et al. 2017). Both entropies are sums
 * over classes, so they are accumulated block by block. */
static void bald_rows(void *ctx, int lo, int hi) {
    double *scores = ((Job *)ctx)->scores;
    const PoolView *v = ((Job *)ctx)->v;
    double pbar[CLASS_BLOCK];                       /* Σ_t p_t,c for the block's classes */
    for (int i = lo; i < hi; i++) {
        double h_mean = 0.0, h_each = 0.0;          /* H[p̄], Σ_t H[p_t] */
        for (int c0 = 0; c0 < v->k; c0 += CLASS_BLOCK) {
            int kb = v->k - c0 < CLASS_BLOCK ? v->k - c0 : CLASS_BLOCK;
            for (int c = 0; c < kb; c++) pbar[c] = 0.0;
            for (int t = 0; t < v->t; t++) {
                const float *p = mc_at(v, t, i, c0);
                for (int c = 0; c < kb; c++) pbar[c] += p[c];
                h_each += scores_entropy(p, kb);
            }
            for (int c = 0; c < kb; c++) h_mean -= scores_xlogx(pbar[c] / v->t);
        }
        double mi = h_mean - h_each / v->t;
        scores[i] = mi < 0.0 ? 0.0 : mi;            /* MI >= 0; a negative is rounding only */
    }
}

void score_bald(double *scores, const PoolView *v) {
    Job job = {scores, v};
    parallel_for(v->n, MIN_ROWS, bald_rows, &job);
}

/* The predicted class of one sample: argmax, ties to the lowest class; -1 on NaN. */
static int argmax_sample(const float *p /*(K)*/, int k) {
    int best = 0;
    for (int c = 0; c < k; c++) {
        if (isnan(p[c])) return -1;
        if (p[c] > p[best]) best = c;
    }
    return best;
}

/* 1 - f/T, f = how many samples predict the modal class (Freeman 1965; Gal et al. 2017).
 * Only the modal count matters, so how mode ties are broken does not change the score.
 * The class histogram is kept per block of classes; for K > CLASS_BLOCK the argmaxes are
 * recomputed once per block. */
static void var_ratios_rows(void *ctx, int lo, int hi) {
    double *scores = ((Job *)ctx)->scores;
    const PoolView *v = ((Job *)ctx)->v;
    int count[CLASS_BLOCK];
    for (int i = lo; i < hi; i++) {
        int f = 0, bad = 0;
        for (int c0 = 0; c0 < v->k && !bad; c0 += CLASS_BLOCK) {
            for (int c = 0; c < CLASS_BLOCK; c++) count[c] = 0;
            for (int t = 0; t < v->t; t++) {
                int a = argmax_sample(mc_at(v, t, i, 0), v->k);
                if (a < 0) { bad = 1; break; }
                if (a < c0 || a >= c0 + CLASS_BLOCK) continue;   /* another block's class */
                if (++count[a - c0] > f) f = count[a - c0];
            }
        }
        scores[i] = bad ? NAN : 1.0 - (double)f / v->t;
    }
}

void score_var_ratios(double *scores, const PoolView *v) {
    Job job = {scores, v};
    parallel_for(v->n, MIN_ROWS, var_ratios_rows, &job);
}

/* (1/K) Σ_c sd_t(p_t,c), the population standard deviation over the T samples (Kampffmeyer
 * et al. 2016; Gal et al. 2017). Two passes over the row's block (the second from cache):
 * means, then squared deviations, which avoids the cancellation of E[p²] - p̄². */
static void mean_std_rows(void *ctx, int lo, int hi) {
    double *scores = ((Job *)ctx)->scores;
    const PoolView *v = ((Job *)ctx)->v;
    double mean[CLASS_BLOCK], ss[CLASS_BLOCK];      /* per class: mean, Σ_t (p - mean)² */
    for (int i = lo; i < hi; i++) {
        double sum_sd = 0.0;
        for (int c0 = 0; c0 < v->k; c0 += CLASS_BLOCK) {
            int kb = v->k - c0 < CLASS_BLOCK ? v->k - c0 : CLASS_BLOCK;
            for (int c = 0; c < kb; c++) mean[c] = 0.0, ss[c] = 0.0;
            for (int t = 0; t < v->t; t++) {
                const float *p = mc_at(v, t, i, c0);
                for (int c = 0; c < kb; c++) mean[c] += p[c];
            }
            for (int c = 0; c < kb; c++) mean[c] /= v->t;
            for (int t = 0; t < v->t; t++) {
                const float *p = mc_at(v, t, i, c0);
                for (int c = 0; c < kb; c++) ss[c] += (p[c] - mean[c]) * (p[c] - mean[c]);
            }
            for (int c = 0; c < kb; c++) sum_sd += sqrt(ss[c] / v->t);
        }
        scores[i] = sum_sd / v->k;
    }
}

void score_mean_std(double *scores, const PoolView *v) {
    Job job = {scores, v};
    parallel_for(v->n, MIN_ROWS, mean_std_rows, &job);
}
