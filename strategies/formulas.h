/* formulas — every per-row acquisition-score formula, written once for the CPU and the GPU.
 *
 * The strategies' host functions (uncertainty.c, bayesian.c, random.c, and rl.c's features)
 * and the CUDA backend's score_rows kernel (sim/backend_cuda.cu) both call these inline
 * functions, so a score has one definition: C11 here, __host__ __device__ under nvcc
 * (ALSIM_HD, sim/rng.h). Private to strategies/ and the backends: not the strategy contract
 * (strategy.h lists the formulas in words).
 *
 * A row is read where it lies: its probabilities p (K), or its T MC samples, sample t at
 * p0 + t·stride (stride = N·K floats in a (T,N,K) sample-major array). Arithmetic is in
 * double, in a fixed order of operations, so the host and the device give the same bits up to
 * the device's double log. 0·log 0 = 0. A NaN probability makes the row's score NaN (ranked
 * last by select.c) instead of a number that could look certain or uncertain.
 */
#ifndef ALSIM_FORMULAS_H
#define ALSIM_FORMULAS_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/rng.h"

/* BALD's entropies are summed per block of this many classes (for K > 256, block by block):
 * part of the formula's order of operations, hence of its bits. */
#define FORMULA_CLASS_BLOCK 256

/* How many classes a row's per-class accumulators cover at once: the sums over samples of
 * BALD and mean-std (FORMULA_SUMS, doubles) and var-ratios' class counts (FORMULA_COUNTS).
 * Each class's sum runs over t in order whatever the width, and the modal count does not
 * depend on it, so the width changes only speed, never a bit: a CPU thread keeps a class
 * block on its stack and reads each sample's block contiguously; a GPU thread keeps one
 * class's sums in registers and a few counts in local memory. */
#ifdef __CUDA_ARCH__
#define FORMULA_SUMS 1
#define FORMULA_COUNTS 64
#else
#define FORMULA_SUMS 256
#define FORMULA_COUNTS 256
#endif

/* p·log p with 0·log 0 = 0; a NaN p gives NaN. */
static inline ALSIM_HD double formula_xlogx(double p) { return p == 0.0 ? 0.0 : p * log(p); }

/* Entropy in nats, -Σ_c p_c log p_c, of p (k), accumulated in class order. Calling it on a
 * slice of classes gives that slice's share. */
static inline ALSIM_HD double formula_entropy(const float *p /*(k)*/, int k) {
    double h = 0.0;
    for (int c = 0; c < k; c++) h -= formula_xlogx(p[c]);
    return h;
}

/* The predicted class: argmax of p (k), ties to the lowest class; -1 when p holds a NaN. */
static inline ALSIM_HD int formula_argmax(const float *p /*(k)*/, int k) {
    int best = 0;
    for (int c = 0; c < k; c++) {
        if (isnan(p[c])) return -1;
        if (p[c] > p[best]) best = c;
    }
    return best;
}

/* random: uniform in [0,1) from the counter-based hash of (key, pool row id), with key =
 * rng_key(seed, RNG_STRATEGY, round, 0). */
static inline ALSIM_HD double formula_random(uint64_t key, int64_t row) {
    return rng_hash_u01(rng_hash(key, (uint64_t)row, 0));
}

/* A standard Gumbel draw, -log(-log u), u uniform in (0,1) (never 0 nor 1: 53 bits + 1/2)
 * from the counter-based hash of (key, pool row id); power-bald's noise, with key =
 * rng_key(seed, RNG_STRATEGY, round, 1) (random's draws use sub 0). */
static inline ALSIM_HD double formula_gumbel(uint64_t key, int64_t row) {
    const double u = ((double)(rng_hash(key, (uint64_t)row, 0) >> 11) + 0.5) * 0x1p-53;
    return -log(-log(u));
}

/* least-confidence: 1 - max_c p_c (Lewis & Gale 1994). */
static inline ALSIM_HD double formula_least_confidence(const float *p /*(k)*/, int k) {
    double top = -INFINITY;
    for (int c = 0; c < k; c++) {
        if (isnan(p[c])) { top = NAN; break; }
        if (p[c] > top) top = p[c];
    }
    return 1.0 - top;
}

/* margin: -(p_(1) - p_(2)), the two largest; a small gap scores high. With k = 1 there is no
 * second class: p_(2) is 0. */
static inline ALSIM_HD double formula_margin(const float *p /*(k)*/, int k) {
    double first = -INFINITY, second = -INFINITY;
    for (int c = 0; c < k; c++) {
        double x = p[c];
        if (isnan(x)) { first = second = NAN; break; }
        if (x > first) { second = first; first = x; }
        else if (x > second) second = x;
    }
    if (k == 1) second = 0.0;
    return -(first - second);
}

/* mc-entropy: H[p̄], the entropy of the mean of the T samples at p0 + t·stride (Gal et al.
 * 2017's Max Entropy of the Bayesian CNN), over classes in order, p̄_c = (Σ_t p_t,c) / T with
 * t in order, FORMULA_SUMS classes at a time. */
static inline ALSIM_HD double formula_mc_entropy(const float *p0, size_t stride, int k, int T) {
    double h_mean = 0.0;
    double pbar[FORMULA_SUMS];                      /* Σ_t p_t,c for classes a0.. */
    for (int a0 = 0; a0 < k; a0 += FORMULA_SUMS) {
        const int ka = k - a0 < FORMULA_SUMS ? k - a0 : FORMULA_SUMS;
        for (int c = 0; c < ka; c++) pbar[c] = 0.0;
        for (int t = 0; t < T; t++) {
            const float *q = p0 + t * stride + a0;
            for (int c = 0; c < ka; c++) pbar[c] += q[c];
        }
        for (int c = 0; c < ka; c++) h_mean -= formula_xlogx(pbar[c] / T);
    }
    return h_mean;
}

/* bald: H[p̄] - (1/T) Σ_t H[p_t], the mutual information of the T samples at p0 + t·stride
 * (Houlsby et al. 2011; Gal et al. 2017), clamped at 0 (a negative is rounding only).
 * H[p̄] is formula_mc_entropy's; Σ_t H[p_t] is summed block by block of FORMULA_CLASS_BLOCK
 * classes, samples in order within a block. */
static inline ALSIM_HD double formula_bald(const float *p0, size_t stride, int k, int T) {
    double h_each = 0.0;                            /* Σ_t H[p_t] */
    for (int c0 = 0; c0 < k; c0 += FORMULA_CLASS_BLOCK) {
        const int kb = k - c0 < FORMULA_CLASS_BLOCK ? k - c0 : FORMULA_CLASS_BLOCK;
        for (int t = 0; t < T; t++) h_each += formula_entropy(p0 + t * stride + c0, kb);
    }
    const double mi = formula_mc_entropy(p0, stride, k, T) - h_each / T;
    return mi < 0.0 ? 0.0 : mi;
}

/* var-ratios: 1 - f/T, f = how many of the T samples predict the modal class (Freeman 1965;
 * Gal et al. 2017). Only the modal count matters, so how mode ties break does not change it.
 * Classes are counted FORMULA_COUNTS at a time, each block recomputing the argmaxes. */
static inline ALSIM_HD double formula_var_ratios(const float *p0, size_t stride, int k, int T) {
    int count[FORMULA_COUNTS];
    int f = 0;
    for (int c0 = 0; c0 < k; c0 += FORMULA_COUNTS) {
        for (int c = 0; c < FORMULA_COUNTS; c++) count[c] = 0;
        for (int t = 0; t < T; t++) {
            const int a = formula_argmax(p0 + t * stride, k);
            if (a < 0) return NAN;
            if (a < c0 || a >= c0 + FORMULA_COUNTS) continue;   /* another block's class */
            if (++count[a - c0] > f) f = count[a - c0];
        }
    }
    return 1.0 - (double)f / T;
}

/* mean-std: (1/K) Σ_c sd_t(p_t,c), the population standard deviation over the T samples
 * (Kampffmeyer et al. 2016; Gal et al. 2017). Per class two passes, means then squared
 * deviations, which avoids the cancellation of E[p²] - p̄². */
static inline ALSIM_HD double formula_mean_std(const float *p0, size_t stride, int k, int T) {
    double mean[FORMULA_SUMS], ss[FORMULA_SUMS];    /* per class: mean, Σ_t (p - mean)² */
    double sum_sd = 0.0;
    for (int a0 = 0; a0 < k; a0 += FORMULA_SUMS) {
        const int ka = k - a0 < FORMULA_SUMS ? k - a0 : FORMULA_SUMS;
        for (int c = 0; c < ka; c++) mean[c] = 0.0, ss[c] = 0.0;
        for (int t = 0; t < T; t++) {
            const float *q = p0 + t * stride + a0;
            for (int c = 0; c < ka; c++) mean[c] += q[c];
        }
        for (int c = 0; c < ka; c++) mean[c] /= T;
        for (int t = 0; t < T; t++) {
            const float *q = p0 + t * stride + a0;
            for (int c = 0; c < ka; c++) {
                const double d = q[c] - mean[c];
                ss[c] += d * d;
            }
        }
        for (int c = 0; c < ka; c++) sum_sd += sqrt(ss[c] / T);
    }
    return sum_sd / k;
}

#endif
