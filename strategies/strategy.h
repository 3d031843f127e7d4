/* strategy — how a query strategy sees the pool, and the registry of strategies.
 *
 * A strategy is a pure function over host arrays: score(scores, view) writes one score per
 * pool row, higher = query first. The loop scores the pool in chunks, so a view covers rows
 * row0..row0+n-1 of the pool; a strategy must give each row the same score whatever chunk it
 * sits in (per-row formulas, and counter-based randomness keyed by the row id).
 * Selection (select.c) then takes the top b unlabeled rows, ties broken by a seeded hash.
 */
#ifndef ALSIM_STRATEGY_H
#define ALSIM_STRATEGY_H

#include <stdint.h>
#include <stdio.h>

typedef struct {
    int n, k;               /* rows in this view, classes K */
    int t;                  /* MC samples T in mc (0 when none) */
    const float *probs;     /* (n,K) predictive probabilities with dropout off; NULL if unused */
    const float *mc;        /* (T,n,K) MC-dropout samples, sample-major; NULL when t == 0 */
    int64_t row0;           /* pool row id of the view's first row */
    uint64_t seed;          /* the run's seed */
    int round;              /* the acquisition round being scored */
} PoolView;

/* What a strategy needs the loop to compute before calling score. */
enum { NEEDS_NOTHING = 0, NEEDS_PROBS = 1, NEEDS_MC = 2 };

typedef void (*ScoreFn)(double *scores /*(n)*/, const PoolView *v);

typedef struct {
    const char *name;
    const char *help;       /* one line for `alsim --list` */
    int needs;              /* NEEDS_* bits */
    ScoreFn score;
} Strategy;

/* The registry (registry.c): one static table. NULL when no strategy is called name. */
const Strategy *strategy_find(const char *name);
/* The whole table; *n receives its length. */
const Strategy *strategy_all(int *n);
/* One line per strategy: name, what it needs, help. */
void strategy_print_list(FILE *f);

/* The scores themselves, one per strategy, each over a view (uncertainty.c, bayesian.c,
 * random.c). Formulas, with p the row's probabilities (probs, or for the Bayesian ones
 * p_t the row's MC samples and p̄ their mean), H the entropy in nats:
 *   random            u(seed, round, row)  uniform in [0,1) from a counter-based hash
 *   least-confidence  1 - max_c p_c
 *   entropy           H[p] = -Σ_c p_c log p_c   (0 log 0 = 0)
 *   margin            -(p_(1) - p_(2)), the two largest
 *   bald              H[p̄] - (1/T) Σ_t H[p_t]   (mutual information; rounding below 0 clamped)
 *   var-ratios        1 - f/T, f = how many samples predict the modal class (argmax of p_t;
 *                     mode ties go to the lowest class id)
 *   mean-std          (1/K) Σ_c sqrt(E_t[p_t,c²] - p̄_c²)  (population sd over T)
 */
void score_random(double *scores, const PoolView *v);
void score_least_confidence(double *scores, const PoolView *v);
void score_entropy(double *scores, const PoolView *v);
void score_margin(double *scores, const PoolView *v);
void score_bald(double *scores, const PoolView *v);
void score_var_ratios(double *scores, const PoolView *v);
void score_mean_std(double *scores, const PoolView *v);

/* Top-b selection (select.c): writes into picked (b) the b rows with labeled[i] == 0 and the
 * highest scores, best first. Ties (equal scores) are broken by rng_hash of
 * rng_key(seed, RNG_TIEBREAK, round, 0) and the row id, so they are seeded, not by position.
 * NaN scores rank below every number; the order is total (score, tie hash, row id), so the
 * result is deterministic. labeled may be NULL (nothing labeled). O(n log b), no allocation.
 * Returns how many were picked: min(b, unlabeled). */
int select_top_b(int *picked /*(b)*/, const double *scores /*(n)*/,
                 const unsigned char *labeled /*(n)*/, int n, int b,
                 uint64_t seed, int round);

#endif
