/* rng — every random draw in alsim comes from here.
 *
 * Two kinds of randomness:
 *  - PCG32 streams (the published pcg32 algorithm, O'Neill 2014), one per purpose. A stream is
 *    a pure function of (seed, purpose, sub), so changing the strategy never changes the split,
 *    the initial set, the model init or the minibatch order of a run with the same seed.
 *  - A counter-based hash for values that must not depend on the order they are drawn in
 *    (dropout masks, per-row random scores, tie-breaks): rng_hash(key, row, col). It is
 *    stateless and cheap, and its inline functions below are the CUDA backend's too
 *    (ALSIM_HD: __host__ __device__ under nvcc), so CPU and GPU draw the same bits.
 */
#ifndef ALSIM_RNG_H
#define ALSIM_RNG_H

#include <stdint.h>

/* Marks the inline functions that CUDA kernels call too (here and strategies/formulas.h). */
#ifndef ALSIM_HD
#ifdef __CUDACC__
#define ALSIM_HD __host__ __device__
#else
#define ALSIM_HD
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

typedef struct { uint64_t state, inc; } Rng;

/* One purpose per kind of draw; the numbers are part of the file format of results
 * (they decide which numbers a seed gives), so never renumber, only append. */
typedef enum {
    RNG_SPLIT = 1,      /* train/test split (sub 0), pool subsampling (1), validation split (2);
                           the reward split draws with rng_key(seed, RNG_SPLIT, 3, 0) as its seed */
    RNG_INIT_SET,       /* the initial labeled set */
    RNG_MODEL_INIT,     /* weight initialisation */
    RNG_DROPOUT,        /* dropout masks while training */
    RNG_MC,             /* dropout masks of MC samples while scoring */
    RNG_MINIBATCH,      /* minibatch order */
    RNG_TIEBREAK,       /* tie-breaks in top-b selection */
    RNG_ORACLE_NOISE,   /* simulated label noise */
    RNG_POLICY,         /* RL policy sampling */
    RNG_STRATEGY,       /* a strategy's own draws (random scores) */
    RNG_DATA,           /* synthetic data generation */
    RNG_BOOTSTRAP,      /* reports: paired bootstrap resampling of seeds */
    RNG_POOL_SUBSET,    /* the pool rows scored in a round (--pool-subset; sub: the round) */
    RNG_EPOCH           /* --early-stop: epoch e of round r fits with seed rng_key(seed, RNG_EPOCH, r, e) */
} RngPurpose;

/* The published pcg32_srandom_r: seed r from (initstate, initseq). */
void rng_seed(Rng *r, uint64_t initstate, uint64_t initseq);

/* A generator for (seed, purpose, sub); sub separates draws of one purpose, e.g. rounds. */
Rng rng_stream(uint64_t seed, RngPurpose purpose, uint64_t sub);

uint32_t rng_u32(Rng *r);                    /* pcg32_random_r */
uint32_t rng_below(Rng *r, uint32_t bound);  /* uniform in [0, bound), unbiased; bound > 0 */
double rng_uniform(Rng *r);                  /* uniform in [0, 1), 53 random bits */
double rng_normal(Rng *r);                   /* standard normal (Marsaglia polar, deterministic) */
void rng_shuffle(Rng *r, int *a /*(n)*/, int n); /* Fisher–Yates */

/* A 64-bit key for counter-based draws of (seed, purpose, a, b). */
uint64_t rng_key(uint64_t seed, RngPurpose purpose, uint64_t a, uint64_t b);

/* The minibatch order of every model trained for a number of steps (mlp, cnn, bert): epochs
 * of the n labeled rows, each in an order drawn from rng_stream(seed, RNG_MINIBATCH, round)
 * (the first shuffle when opened, a fresh one at each epoch's end); a step takes the next m
 * rows, wrapping into the next epoch. */
typedef struct {
    Rng r;
    int *order;             /* (n) the current epoch's permutation */
    int n, pos;             /* rows; the next position in order */
} RngEpochs;

/* Returns 0, or -1 when out of memory (e zeroed). */
int rng_epochs_open(RngEpochs *e, int n, uint64_t seed, int round);
/* batch (m) = the next m rows (m <= n). */
void rng_epochs_next(int *batch, RngEpochs *e, int m);
void rng_epochs_close(RngEpochs *e);        /* accepts a zeroed struct */

#ifdef __cplusplus
}
#endif

/* splitmix64's finaliser: a bijection on 64-bit words with good avalanche. */
static inline ALSIM_HD uint64_t rng_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* The counter-based hash: a pure function of (key, row, col), col < 2^20.
 * Distinct (row, col) give distinct inputs to the bijection, so no two collide for one key. */
static inline ALSIM_HD uint64_t rng_hash(uint64_t key, uint64_t row, uint64_t col) {
    return rng_mix64(key + ((row << 20) | col) * 0x9E3779B97F4A7C15ull);
}

/* Uniform double in [0,1) from a hash value (53 high bits). */
static inline ALSIM_HD double rng_hash_u01(uint64_t h) { return (double)(h >> 11) * 0x1.0p-53; }

/* Dropout keep decision for unit `unit` of row `row` under key, drop probability p.
 * One hash gives four 16-bit uniforms (units 4c..4c+3), so p is resolved to 1/65536.
 * backend_cpu.c and backend_cuda.cu draw exactly these masks, one rng_hash per four units. */
static inline ALSIM_HD uint32_t rng_dropout_threshold(float p) { return (uint32_t)(p * 65536.0f + 0.5f); }
static inline ALSIM_HD int rng_dropout_keep(uint64_t key, uint64_t row, uint32_t unit, uint32_t threshold) {
    uint64_t h = rng_hash(key, row, unit >> 2);
    uint32_t u = (uint32_t)(h >> (16 * (unit & 3))) & 0xFFFFu;
    return u >= threshold;
}

/* Dropout masks shared by every row (consistent MC dropout, what batchbald needs): a backend
 * op given a row0 below 0, as RNG_ROWS_SHARED plus any offset the layers above add, draws the
 * masks of row id 0 for every row. rng_mask_row is the row id a mask op uses for its row i. */
#define RNG_ROWS_SHARED (-((int64_t)1 << 62))
static inline ALSIM_HD uint64_t rng_mask_row(int64_t row0, int64_t i) {
    return row0 < 0 ? 0 : (uint64_t)(row0 + i);
}

#endif
