/* strategy — how a query strategy sees the pool, and the registry of strategies.
 *
 * A strategy is a pure function over host arrays: score(scores, view) writes one score per
 * pool row, higher = query first. The loop scores the pool in chunks, so a view covers rows
 * row0..row0+n-1 of the pool (or, with --pool-subset, of the round's subset, whose pool row
 * ids are in rows); a strategy must give each row the same score whatever chunk it sits in
 * (per-row formulas, and counter-based randomness keyed by the pool row id).
 * Selection (select.c) then takes the top b unlabeled rows, ties broken by a seeded hash.
 *
 * A strategy whose score of a row depends on the whole pool (rl: the mean pool entropy is
 * one of its policy's inputs) has hooks: its score() only records each chunk's features in
 * its state, and finish() writes every row's score once all chunks were seen.
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
    int64_t row0;           /* position of the view's first row among the rows scored: its
                               pool row id when the whole pool is scored */
    const int *rows;        /* (n) the view's pool row ids when the rows scored are a subset
                               of the pool (--pool-subset), else NULL (row0 + i) */
    uint64_t seed;          /* the run's seed */
    int round;              /* the acquisition round being scored */
    int h;                  /* embedding width H (0 when none) */
    const float *emb;       /* (n,H) last hidden layer, dropout off; NULL unless NEEDS_EMB */
    void *state;            /* the strategy's state (hooks), else NULL */
} PoolView;

/* What a strategy needs the loop to compute before calling score. */
enum { NEEDS_NOTHING = 0, NEEDS_PROBS = 1, NEEDS_MC = 2, NEEDS_EMB = 4 };

/* What a whole-pool strategy is told at the start of each round's scoring. */
typedef struct {
    int round, rounds;      /* r of R */
    int n_pool, k, h;       /* pool rows N, classes K, embedding width H */
    int n_labeled;
    const float *labeled_emb;       /* (n_labeled, H) embeddings of the labeled rows */
    const int32_t *labeled_y;       /* (n_labeled) their labels */
    int n_ref;
    const float *ref_emb;           /* (n_ref, H) a fixed, evenly spread sample of pool rows */
} RoundInfo;

/* Hooks of a strategy that keeps state across chunks and rounds; NULL for the others. */
typedef struct {
    /* Opens the state for a pool of n_pool rows; the policy file is where the strategy's
     * parameters live (rl). Returns 0, or 2 (bad file) / 3 (out of memory) with err. */
    int (*open)(void **state, const char *policy_path, int n_pool, char *err, size_t errlen);
    void (*close)(void *state);
    /* Before the round's chunks. Returns 0, or -1 when out of memory. */
    int (*begin_round)(void *state, const RoundInfo *info);
    /* After the round's chunks: scores (n) for every row scored, n the pool's rows, or the
     * round's subset's (--pool-subset, n <= n_pool; then the rows are those of the views, in
     * their order, and the pool-level features are means over them). */
    void (*finish)(double *scores, int n, void *state);
} StrategyHooks;

typedef void (*ScoreFn)(double *scores /*(n)*/, const PoolView *v);

typedef struct {
    const char *name;
    const char *help;       /* one line for `alsim --list` */
    int needs;              /* NEEDS_* bits */
    ScoreFn score;
    int reduce;             /* the Reduce kind (sim/backend.h) a backend's score_rows computes
                               equal to score, so a GPU can score without sending the
                               probabilities back; REDUCE_NONE (0): host only */
    const StrategyHooks *hooks;     /* whole-pool strategies only */
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
 *   random            u(seed, round, row)  uniform in [0,1) from a counter-based hash of
 *                     the pool row id
 *   least-confidence  1 - max_c p_c
 *   entropy           H[p] = -Σ_c p_c log p_c   (0 log 0 = 0)
 *   margin            -(p_(1) - p_(2)), the two largest
 *   bald              H[p̄] - (1/T) Σ_t H[p_t]   (mutual information; rounding below 0 clamped)
 *   var-ratios        1 - f/T, f = how many samples predict the modal class (argmax of p_t;
 *                     mode ties go to the lowest class id)
 *   mean-std          (1/K) Σ_c sqrt(E_t[p_t,c²] - p̄_c²)  (population sd over T)
 *   mc-entropy        H[p̄]   (the entropy of the MC-averaged prediction)
 */
void score_random(double *scores, const PoolView *v);
/*   rl                the learned policy's score of the row's features (rl.h, policy.h);
 *                     records features in its state, scores in its finish hook */
void score_rl(double *scores, const PoolView *v);
extern const StrategyHooks rl_hooks;
void score_least_confidence(double *scores, const PoolView *v);
void score_entropy(double *scores, const PoolView *v);
void score_margin(double *scores, const PoolView *v);
void score_bald(double *scores, const PoolView *v);
void score_var_ratios(double *scores, const PoolView *v);
void score_mean_std(double *scores, const PoolView *v);
void score_mc_entropy(double *scores, const PoolView *v);

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
