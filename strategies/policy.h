/* policy — the learned query policy of the RL strategy: a small network that scores each
 * candidate from its features, the Plackett–Luce distribution over batches those scores
 * define, and the versioned JSON file a trained policy lives in.
 *
 * Network: F features, normalised by a stored mean and sd, → H tanh units → 1 score.
 * Parameters are float32 in one block: W1 (H,F) | b1 (H) | w2 (H) | b2 (1).
 * Plackett–Luce: a batch of b is drawn by picking one candidate at a time with probability
 * softmax(scores) over those not yet picked. Drawing it is the same as taking the top b of
 * scores + independent Gumbel noise (the Gumbel-top-k trick), which is what pl_sample does.
 */
#ifndef ALSIM_POLICY_H
#define ALSIM_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "sim/rng.h"

#define POLICY_MAX_FEATURES 16
#define POLICY_FORMAT "alsim-policy"
#define POLICY_VERSION 1

typedef struct {
    int n_features;                         /* F */
    int n_hidden;                           /* H */
    size_t n_params;
    float *params;                          /* (n_params): W1 (H,F) | b1 (H) | w2 (H) | b2 */
    double feat_mean[POLICY_MAX_FEATURES];  /* (F) normalisation: (f - mean) / sd */
    double feat_sd[POLICY_MAX_FEATURES];    /* (F) > 0 */
    const char *const *feature_names;       /* (F) the names the features were trained with */
    /* Provenance, written to and read from the file. */
    char train_datasets[1024];
    long episodes;
    uint64_t seed;
    char reward[32];
    char git_revision[64];
} Policy;

/* A fresh policy of F features (names, not copied: static strings) and H hidden units,
 * Xavier-uniform weights from RNG_POLICY (seed), zero biases, identity normalisation.
 * Returns 0, or -1 when out of memory. */
int policy_init(Policy *p, int n_features, const char *const *feature_names, int n_hidden,
                uint64_t seed);
void policy_free(Policy *p);                /* accepts a zeroed struct */

/* scores (n) = the network on features feat (n,F). hidden (n,H), when not NULL, receives
 * the tanh activations that policy_backward needs. */
void policy_forward(double *scores, double *hidden, const Policy *p, const double *feat, int n);

/* grad (n_params) += d(Σ_i dscores_i · scores_i)/d params, for the forward pass that gave
 * hidden (n,H) on feat (n,F). */
void policy_backward(double *grad, const Policy *p, const double *feat, const double *hidden,
                     const double *dscores, int n);

/* Plackett–Luce over the candidates with eligible[i] != 0 (NULL: all n). */

/* picks (b) = a batch drawn from PL(softmax(scores)), in drawing order. Returns how many
 * were drawn: min(b, eligible). */
int pl_sample(int *picks, const double *scores, const unsigned char *eligible, int n, int b,
              Rng *rng);

/* log P(picks in this order) under PL(softmax(scores)). */
double pl_log_prob(const double *scores, const unsigned char *eligible, int n,
                   const int *picks, int b);

/* dscores (n) = d log P(picks) / d scores (0 for ineligible rows). */
void pl_grad(double *dscores, const double *scores, const unsigned char *eligible, int n,
             const int *picks, int b);

/* Entropy (nats) of the first pick's distribution softmax(scores) over eligible rows. */
double pl_entropy(const double *scores, const unsigned char *eligible, int n);

/* REINFORCE, for one decision: grad (n_params) += advantage · ∇ log P(picks) + beta · ∇ H,
 * where P is PL(softmax(policy scores)) over the eligible rows of feat (n,F) and H the
 * entropy of its first pick (the entropy bonus keeps the policy exploring). Returns the log
 * probability of the picks, or NaN when out of memory. */
double policy_accumulate(double *grad, const Policy *p, const double *feat,
                         const unsigned char *eligible, int n, const int *picks, int b,
                         double advantage, double beta);

/* Adam ascent on p's parameters along grad (n_params); m and v (n_params) are the moments,
 * *t the step count (incremented). lr is the step size. */
void policy_adam_step(Policy *p, const double *grad, double *m, double *v, int *t, double lr);

/* Writes p as versioned JSON (weights "%.9g") to path through a temporary file and a rename.
 * Returns 0, or 3 with the reason in err. */
int policy_save(const Policy *p, const char *path, char *err, size_t errlen);

/* Reads a policy file; its features must be expected_names (F). Returns 0, or 2 with
 * "PATH: line L: reason" in err (malformed JSON, wrong format or version, wrong shapes,
 * non-finite weights, other features), or 3 when out of memory. */
int policy_load(Policy *p, const char *path, const char *const *expected_names, int n_expected,
                char *err, size_t errlen);

#endif
