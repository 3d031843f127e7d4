/* rl — the features the RL policy sees. Every feature is scaled to be comparable across
 * datasets (the policy is trained on some datasets and applied to others):
 *   per candidate
 *     entropy        H[p] / log K                     of the deterministic prediction
 *     margin         p_(1) - p_(2)
 *     max_prob       p_(1)
 *     bald           (H[p̄] - mean_t H[p_t]) / log K   from T MC-dropout samples
 *     dist_labeled   min over labeled rows of ‖e - e_l‖, divided by the mean norm ‖e‖ of the
 *                    labeled embeddings: how far the candidate is from what is already known
 *     density        mean cosine similarity of e to a fixed reference sample of pool rows
 *     class_share    share of the labeled set whose label is the candidate's predicted class
 *   global (the same for every candidate of a round)
 *     budget_used    round / rounds
 *     labeled_frac   log(1 + n_labeled) / log(1 + n_pool)
 *     accuracy       the model's expected accuracy on the pool, mean_i p_(1) (no labels:
 *                    the same quantity at training and at evaluation)
 *     pool_entropy   mean over the pool of the entropy feature
 * "The pool" of accuracy and pool_entropy is the rows scored: every pool row, or with
 * --pool-subset the round's subset (its unlabeled rows only); labeled_frac's n_pool is the
 * whole pool's size either way.
 * e is the candidate's embedding: the learner's last hidden layer with dropout off.
 */
#ifndef ALSIM_RL_H
#define ALSIM_RL_H

#include <stdint.h>

#include "strategies/policy.h"

#define RL_FEATURES 11
#define RL_CANDIDATE_FEATURES 7

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
    double labeled_mean_norm;       /* mean ‖e‖ over labeled_emb */
    double *labeled_norm2;          /* (n_labeled) ‖e_l‖² */
    double *ref_norm;               /* (n_ref) ‖e_r‖ */
} RlContext;

/* Derives the norms above from the embeddings. Returns 0, or -1 when out of memory. */
int rl_context_prepare(RlContext *ctx);
void rl_context_free(RlContext *ctx);

/* feat (n, RL_FEATURES): the per-candidate columns (0..6) for rows with deterministic
 * probs (n,K), MC samples mc (T,n,K) (T >= 1) and embeddings emb (n,H); the global columns
 * are left for rl_fill_global. Distances and similarities go through one sgemm each.
 * Returns 0, or -1 when out of memory. */
int rl_candidate_features(double *feat, const RlContext *ctx, const float *probs,
                           const float *mc, int T, const float *emb, int n);

/* Fills the global columns (7..10) of feat (n, RL_FEATURES) for the n rows scored (the pool,
 * or a subset of it), from the per-candidate columns and ctx. */
void rl_fill_global(double *feat, const RlContext *ctx, int n);

/* The rl strategy's state (its StrategyHooks, strategy.h), for a driver that trains the policy
 * in the session's own loop (sim/train_policy.c). The state is opened without a policy when
 * its policy path is "" (then every score is NaN until rl_use_policy). */

/* Scores with p (not copied: it must outlive the state) instead of the loaded policy. */
void rl_use_policy(void *state, const Policy *p);

/* The features (n_pool, RL_FEATURES) of every pool row in the round last scored (with
 * --pool-subset: of the subset's rows, in the subset's order, in the first rows). */
const double *rl_features(const void *state);

#endif
