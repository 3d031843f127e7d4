/* rl — the features the RL policy sees. They must compare across datasets and model sizes
 * (the policy is trained on some datasets and applied to others), so every per-candidate
 * feature is a percentile rank within the round's scored rows, and the state is a few
 * bounded gates.
 *
 * Per candidate: six heuristic rankings, each a percentile rank in [0, 1] of a raw value
 * among the n rows scored this round (every pool row, labeled ones included, or with
 * --pool-subset the round's subset): rank = (average 0-based position in ascending order of
 * the raw value) / (n - 1), equal raw values sharing the average of their positions (0.5
 * for all when n = 1). For every ranking 1 = "pick first":
 *     margin         raw -(p_(1) - p_(2)), margin's own score: 1 = the smallest margin
 *     entropy        raw H[p]: 1 = the most uncertain
 *     bald           raw H[p̄] - mean_t H[p_t] over T MC-dropout samples (clamped at 0, a
 *                    NaN counts as 0): 1 = the most disagreement
 *     dist_labeled   raw min over labeled rows of ‖e - e_l‖: 1 = the farthest from what is
 *                    already known (all 0.5 when nothing is labeled)
 *     density        raw mean cosine similarity of e to a fixed reference sample of pool rows:
 *                    1 = the densest, the most representative
 *     rarity         raw -(share of the labeled set whose label is the candidate's predicted
 *                    class, argmax p): 1 = the rarest predicted class
 *   A NaN raw value (a diverged model's probabilities) ranks below every number, as NaN
 *   scores do in select_top_b. The margin rank is a strictly increasing function of
 *   margin's score with its ties kept, so the top b by rank (select_top_b's tie-break) are
 *   margin's top b, row for row.
 * Gates: the same for every candidate of a round, each in [0, 1]:
 *     budget_used    round / rounds
 *     labeled_frac   log(1 + n_labeled) / log(1 + n_pool) (n_pool the whole pool's size)
 *     mean_max_prob  mean over the rows scored of p_(1): the model's expected accuracy, no
 *                    labels needed (the same quantity in training and in a run)
 *     imbalance      1 - H(labeled class shares) / log K: 0 for a balanced labeled set, 1 when
 *                    every label is one class (0 when nothing is labeled)
 * e is the candidate's embedding: the learner's last hidden layer with dropout off.
 * The feature row of a candidate: the six ranks (columns 0..5), then the four gates (6..9).
 *
 * The batch: the strategy picks it itself (its pick hook, strategy.h), greedily as policy.h
 * says: each pick the row of the best score less λ(gates) times its largest clamped cosine
 * similarity of e to the rows already picked. With λ = 0 (the init, the shipped policy, a
 * version 2 file or a REINFORCE-trained one) that is the top b of the scores, select_top_b's
 * rows in its order: the init picks margin's batch, row for row, whole pool or --pool-subset.
 * The round's embeddings are kept (n_pool·H floats) only when the policy's λ is not 0.
 */
#ifndef ALSIM_RL_H
#define ALSIM_RL_H

#include <stddef.h>
#include <stdint.h>

#include "strategies/policy.h"

#define RL_RANKINGS 6
#define RL_GATES 4
#define RL_FEATURES (RL_RANKINGS + RL_GATES)
#define RL_RAW (RL_RANKINGS + 1)    /* the six raw values, then p_(1) (for mean_max_prob) */
enum { RL_MARGIN, RL_ENTROPY, RL_BALD, RL_DIST_LABELED, RL_DENSITY, RL_RARITY };

extern const char *const rl_feature_names[RL_FEATURES];

typedef struct {
    int k, h;                       /* classes K, embedding width H */
    int n_labeled;
    const float *labeled_emb;       /* (n_labeled, H) */
    const int32_t *labeled_y;       /* (n_labeled) */
    int n_ref;
    const float *ref_emb;           /* (n_ref, H) reference sample for density */
    int round, rounds, n_pool;
    /* Derived by rl_context_prepare, freed by rl_context_free: */
    double *labeled_norm2;          /* (n_labeled) ‖e_l‖² */
    double *ref_norm;               /* (n_ref) ‖e_r‖ */
    double *class_share;            /* (K) share of the labeled set in each class */
} RlContext;

/* Derives the norms and class shares above. Returns 0, or -1 when out of memory. */
int rl_context_prepare(RlContext *ctx);
void rl_context_free(RlContext *ctx);

/* raw (n, RL_RAW): the raw values of the rankings (rl.h's table, "higher = pick") and p_(1)
 * for rows with deterministic probs (n,K), MC samples mc (T,n,K) (T >= 1) and embeddings emb
 * (n,H). Per row: the same values whatever chunk the row sits in. Distances and similarities
 * go through one sgemm each. Returns 0, or -1 when out of memory. */
int rl_raw_features(double *raw, const RlContext *ctx, const float *probs, const float *mc,
                    int T, const float *emb, int n);

/* rank (n) = the percentile ranks of x (n values, stride apart), as rl.h defines them
 * (average ranks for ties, NaN lowest). Returns 0, or -1 when out of memory. */
int rl_percentile_ranks(double *rank, const double *x, size_t stride, int n);

/* feat (n, RL_FEATURES) = the ranks of raw (n, RL_RAW) among the n rows and the gates of ctx.
 * Returns 0, or -1 when out of memory. */
int rl_features_from_raw(double *feat, const double *raw, const RlContext *ctx, int n);

/* A fresh policy over these features that scores as margin (policy_init with RL_MARGIN as
 * its base ranking). Returns 0, or -1 when out of memory. */
int rl_policy_init(Policy *p);

/* The rl strategy's state (its StrategyHooks, strategy.h), for a driver that trains the policy
 * in the session's own loop (sim/train_policy.c). The state is opened without a policy when
 * its policy path is "" (then every score is NaN until rl_use_policy). */

/* Scores with p (not copied: it must outlive the state) instead of the loaded policy. */
void rl_use_policy(void *state, const Policy *p);

/* The features (n, RL_FEATURES) of the rows scored in the round last scored (the pool, or
 * with --pool-subset the subset's rows in the subset's order, in the first rows). */
const double *rl_features(const void *state);

#endif
