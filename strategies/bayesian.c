/* bayesian — scores from T MC-dropout samples per row: BALD, variation ratios, mean std,
 * the entropy of the mean, and BALD's stochastic batch form (power-bald).
 *
 * Input v->mc is (T,n,K), sample-major (NEEDS_MC): sample t of row i is the K floats at
 * mc + ((size_t)t*n + i)*K. Each score is a per-row formula of formulas.h (which the CUDA
 * backend's score_rows computes too), so it is chunk-independent.
 *
 * Memory order: a row's T samples lie n·K floats apart. We walk rows in order and, within a
 * row, samples in order, reading each sample's classes contiguously; across rows this is T
 * forward streams through mc, each read once, which the prefetcher follows. (Looping t outer
 * over the whole view would stream a single array but needs (n,K) doubles of scratch.)
 *
 * Rows are independent, so each function runs on ranges of rows spread over the cores
 * (sim/parallel.h): the same bits whatever the thread count. */
#include "strategies/strategy.h"
#include "strategies/formulas.h"
#include "sim/parallel.h"

#include <math.h>
#include <stddef.h>

enum { MIN_ROWS = 512 };    /* per thread: below this a thread costs more than it saves */

/* A per-row formula over a row's T samples, sample t at p0 + t·stride. */
typedef double (*McFormula)(const float *p0, size_t stride, int k, int T);

/* What a range of rows (lo..hi-1) of one scoring call reads and writes. */
typedef struct {
    double *scores;
    const PoolView *v;
    McFormula f;
} Job;

static void score_range(void *ctx, int lo, int hi) {
    const Job *job = ctx;
    const PoolView *v = job->v;
    const size_t stride = (size_t)v->n * v->k;      /* from sample t to t+1 of a row */
    for (int i = lo; i < hi; i++)
        job->scores[i] = job->f(v->mc + (size_t)i * v->k, stride, v->k, v->t);
}

static void score_rows_parallel(double *scores, const PoolView *v, McFormula f) {
    Job job = {scores, v, f};
    parallel_for(v->n, MIN_ROWS, score_range, &job);
}

/* H[p̄] - (1/T) Σ_t H[p_t] (Houlsby et al. 2011; Gal et al. 2017). */
void score_bald(double *scores, const PoolView *v) {
    score_rows_parallel(scores, v, formula_bald);
}

/* 1 - f/T, f = how many samples predict the modal class (Freeman 1965; Gal et al. 2017). */
void score_var_ratios(double *scores, const PoolView *v) {
    score_rows_parallel(scores, v, formula_var_ratios);
}

/* (1/K) Σ_c sd_t(p_t,c), the population standard deviation over the T samples (Kampffmeyer
 * et al. 2016; Gal et al. 2017). */
void score_mean_std(double *scores, const PoolView *v) {
    score_rows_parallel(scores, v, formula_mean_std);
}

/* H[p̄], the entropy of the MC-averaged prediction (Gal et al. 2017's Max Entropy). */
void score_mc_entropy(double *scores, const PoolView *v) {
    score_rows_parallel(scores, v, formula_mc_entropy);
}

/* log BALD + Gumbel noise: the top b are a draw of b rows without replacement with probability
 * proportional to BALD^beta, beta = 1 (Gumbel-top-k; Kirsch et al. 2023, power acquisition).
 * The noise is keyed by the pool row id, so the draw does not depend on the chunk. */
void score_power_bald(double *scores, const PoolView *v) {
    score_bald(scores, v);
    const uint64_t key = rng_key(v->seed, RNG_STRATEGY, (uint64_t)v->round, 1);
    for (int i = 0; i < v->n; i++)
        scores[i] = log(scores[i]) + formula_gumbel(key, v->rows ? v->rows[i] : v->row0 + i);
}

/* BALD + Gumbel noise: a draw without replacement with probability proportional to
 * exp(beta·BALD), beta = 1 (Kirsch et al. 2023, softmax acquisition); power-bald's noise. */
void score_softmax_bald(double *scores, const PoolView *v) {
    score_bald(scores, v);
    const uint64_t key = rng_key(v->seed, RNG_STRATEGY, (uint64_t)v->round, 1);
    for (int i = 0; i < v->n; i++)
        scores[i] += formula_gumbel(key, v->rows ? v->rows[i] : v->row0 + i);
}
