/* policy — the learned query policy of the RL strategy: a gated mixture of heuristic
 * rankings that scores each candidate, the Plackett–Luce distribution over batches those
 * scores define (REINFORCE), the listwise loss that imitates a look-ahead teacher, and the
 * versioned JSON file a trained policy lives in.
 *
 * Features of a candidate (rl.h): R rankings r (R) in [0, 1], higher = pick first, then G
 * state gates g (G), the same for every candidate of a round. Parameters, float32 in one
 * block: A (R,G) | c (R). The mixture:
 *     z = A g + c                               (R)
 *     w_h = [h = base] + z_h - mean_h' z_h'     (R) weights, Σ_h w_h = 1
 *     score_i = Σ_h w_h r_h(i) = r_base(i) + Σ_h z_h (r_h(i) - mean_h' r_h'(i))
 * The gates enter only through the weights of the ranks. At the init (A = 0, c = 0) the
 * weights are exactly the base ranking's (margin for the rl strategy), so a policy that
 * learned nothing scores as that ranking and picks its top b exactly; training regularises
 * the parameters toward 0 (L2), i.e. toward the base. Why not w = softmax(A g + c): a pure
 * base needs an infinite logit, and a large finite one (exact enough to pick the base's
 * batch) leaves the other rankings' weights, and their gradients, below 1e-20: imitation
 * could never move them. The affine weights above are exact at 0 with gradients of order 1;
 * a weight may go negative (prefer the other end of a ranking), which the L2 keeps in check.
 *
 * A per-row score and its top b cannot ask for rows that differ from each other, and the
 * look-ahead teacher's best batches are often k-center's over margin's top. So the batch is
 * picked greedily, with a learned diversity penalty (policy_select): pick k = 1..b is
 *     argmax over the shortlist's rows left of  score_i - λ(g) s_i,
 *     s_i = max over the rows j picked so far of cos⁺(e_i, e_j)    (0 for the first pick)
 * where cos⁺(x, y) = max(0, x·y / (‖x‖ ‖y‖)) (0 when a norm is 0) of the learner's
 * embeddings e, so s_i in [0, 1] is how redundant row i is with the batch so far, and
 *     λ(g) = a·g + a0                           parameters a (G) | a0 (1), after c
 * is affine in the gates, as z is: exactly 0 at the init (then the greedy batch is the top b
 * of the scores, in select_top_b's order and with its tie-break), with gradients of order 1
 * there. λ > 0 trades score for rows unlike those picked; λ < 0 prefers rows like them (the
 * L2 toward the init keeps it in check, as it does a negative weight). The shortlist is the
 * top POLICY_SHORTLIST·b rows by score (all the rows when λ = 0), as the teacher's k-center
 * candidate looks only at margin's top 10·b: the scores are percentile ranks, so without it a
 * λ of 0.2 would trade the top for rows a fifth of the way down the pool.
 *
 * Plackett–Luce: a batch of b is drawn by picking one candidate at a time with probability
 * softmax(scores) over those not yet picked. Drawing it is the same as taking the top b of
 * scores + independent Gumbel noise (the Gumbel-top-k trick), which is what pl_sample does.
 * It samples from the per-row scores alone: REINFORCE (policy_accumulate) learns no λ (its
 * parameters keep their init, 0, and such a policy picks the top b of its scores).
 */
#ifndef ALSIM_POLICY_H
#define ALSIM_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "sim/rng.h"

#define POLICY_MAX_RANKINGS 8
#define POLICY_MAX_GATES 8
#define POLICY_MAX_CANDIDATES 16                /* candidate batches of one state, C */
#define POLICY_SHORTLIST 10                     /* the greedy pick's rows: the top 10·b by score */
#define POLICY_FORMAT "alsim-policy"
#define POLICY_VERSION 3
#define POLICY_KIND "gated-rank-mixture"

typedef struct {
    int n_rankings;                         /* R */
    int n_gates;                            /* G */
    int n_features;                         /* F = R + G: a feature row is r (R) then g (G) */
    int base;                               /* the ranking the init scores as (0..R-1) */
    size_t n_params;                        /* R·G + R + G + 1 */
    float *params;                          /* (n_params): A (R,G) | c (R) | a (G) | a0 (1) */
    const char *const *feature_names;       /* (F) the names the features were trained with */
    /* Provenance, written to and read from the file. */
    char train_datasets[1024];
    long episodes;
    uint64_t seed;
    char algo[32];                          /* how it was trained: "dagger", "reinforce", "" */
    char reward[32];
    char git_revision[64];
} Policy;

/* The policy that scores as ranking base: R rankings and G gates (names (R+G), not copied:
 * static strings), all parameters 0. Returns 0, or -1 when out of memory. */
int policy_init(Policy *p, int n_rankings, int n_gates, const char *const *feature_names,
                int base);
void policy_free(Policy *p);                /* accepts a zeroed struct */

/* w (R) = the mixture weights at gates g (G). */
void policy_weights(double *w, const Policy *p, const double *g);

/* scores (n) = the mixture's score of each feature row of feat (n,F). */
void policy_forward(double *scores, const Policy *p, const double *feat, int n);

/* grad (n_params) += d(Σ_i dscores_i · scores_i)/d params at feat (n,F) (0 for λ's: a row's
 * score does not depend on them). */
void policy_backward(double *grad, const Policy *p, const double *feat, const double *dscores,
                     int n);

/* λ(g) = a·g + a0, the weight of the diversity penalty at gates g (G). */
double policy_lambda(const Policy *p, const double *g);

/* 1 when a parameter of λ is not 0 (λ may be nonzero at some gates), else 0: then
 * policy_select needs no embeddings. */
int policy_has_lambda(const Policy *p);

/* The greedy batch above: picked (b) = the ids of the rows chosen, in the order chosen, from
 * rows i with excluded[i] == 0 (excluded NULL: every row), their scores (n) and embeddings emb
 * (n,H) (unused, and may be NULL, when lambda == 0), penalised by lambda; with lambda != 0
 * from the shortlist of the top POLICY_SHORTLIST·b of those rows by score. Rows compare as in
 * select_top_b (select_ranks_before: adjusted score descending, NaN last, then the seeded
 * hash of the row's id with key rng_key(seed, RNG_TIEBREAK, round, 0), then the id), a row's
 * id being ids[i] (ids NULL: i), so with lambda == 0 the batch is select_top_b's over the
 * same rows, row for row. O(b·n + b²·H) time (O(b·n) when lambda == 0), O(n) memory. Returns how
 * many it picked, min(b, rows not excluded), or -1 when out of memory. */
int policy_select(int *picked /*(b)*/, const double *scores /*(n)*/, const float *emb /*(n,H)*/,
                  int h, const unsigned char *excluded /*(n)*/, const int *ids /*(n)*/, int n,
                  int b, double lambda, uint64_t seed, int round);

/* The redundancy of a batch for the listwise loss: the mean over its m rows (indices into
 * emb (n,H)) of each row's largest cos⁺ with another row of the batch (policy_select's s_i,
 * taken over the whole batch instead of the rows picked before it, so that it does not
 * depend on an order); in [0, 1], 0 when m < 2. */
double policy_batch_redundancy(const float *emb /*(n,H)*/, int h, const int *rows /*(m)*/, int m);

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
 * entropy of its first pick (the entropy bonus keeps the policy exploring); λ's parameters get
 * no gradient. Returns the log probability of the picks, or NaN when out of memory. */
double policy_accumulate(double *grad, const Policy *p, const double *feat,
                         const unsigned char *eligible, int n, const int *picks, int b,
                         double advantage, double beta);

/* ---- imitation: the listwise loss over a teacher's candidate batches ----
 * One state: C candidate batches, candidate c the rows members[c*b .. c*b+count[c]-1]
 * (indices into feat (m,F), the features of the state's candidate rows), each with a
 * teacher's target probability target[c] (Σ = 1, policy_listwise_target) and its redundancy
 * rho[c] (policy_batch_redundancy of its rows' embeddings; rho NULL: all 0); 1 <= C <=
 * POLICY_MAX_CANDIDATES.
 * The policy's score of a batch is the mean of its rows' scores less the diversity penalty,
 *     s_c = (1/count_c) Σ_{i in c} score_i - λ(g) rho_c
 * (g the state's gates, those of its first row: the rows of one round share them; rho does
 * not depend on the parameters, so s_c is linear in λ's); its distribution over the
 * candidates is q = softmax(s / temperature), and
 *     loss = -Σ_c target_c log q_c     (cross-entropy; listwise, as ListNet's top-one loss)
 * with d loss / d s_c = (q_c - target_c) / temperature. */

/* The target of one state from the teacher's refits: target = softmax(key / tau), key_c =
 * acc_c - POLICY_NLL_TIEBREAK · nll_c (accuracy on the reward split after the refit on
 * candidate c; the NLL only separates candidates of (nearly) equal accuracy). tau is in
 * accuracy units: 0.01 makes a candidate 1 point more accurate e times likelier. */
#define POLICY_NLL_TIEBREAK 0.01
void policy_listwise_target(double *target /*(C)*/, const double *acc /*(C)*/,
                            const double *nll /*(C)*/, int C, double tau);

/* The loss above; grad (n_params), when not NULL, += d loss / d params, and *dlogt, when
 * dlogt is not NULL, += d loss / d log(temperature) = -Σ_c (q_c - target_c) s_c / temperature.
 * The temperature is the trainer's to learn alongside (it sets how sure the policy is of its
 * preference, which the weights cannot, summing to 1; it never changes a top b). Returns the
 * loss, or NaN when out of memory. */
double policy_listwise(double *grad, double *dlogt, const Policy *p, const double *feat /*(m,F)*/,
                       int m, const int *members /*(C*b)*/, const int *count /*(C)*/, int b, int C,
                       const double *target /*(C)*/, const double *rho /*(C)*/, double temperature);

/* The L2 pull toward the init (all parameters 0, λ's included): grad (n_params) += lambda ·
 * params; returns (lambda/2) Σ params². */
double policy_l2(double *grad, const Policy *p, double lambda);

/* Adam ascent on p's parameters along grad (n_params) (pass a loss's gradient negated to
 * descend); m and v (n_params) are the moments, *t the step count (incremented). lr is the
 * step size. */
void policy_adam_step(Policy *p, const double *grad, double *m, double *v, int *t, double lr);

/* Writes p as versioned JSON (weights "%.9g") to path through a temporary file and a rename.
 * Returns 0, or 3 with the reason in err. */
int policy_save(const Policy *p, const char *path, char *err, size_t errlen);

/* Reads a policy file; its features must be expected_names (R rankings then G gates). A
 * version 2 file (the mixture before the diversity penalty: no "lambda_a", "lambda_0") is
 * read with λ's parameters 0, so it picks as it did, its top b. A version 1 file (an MLP over
 * features alsim no longer computes) is refused with the reason: it cannot be converted,
 * only retrained. Returns 0, or 2 with "PATH: line L: reason" in err
 * (malformed JSON, wrong format or version, wrong shapes, non-finite weights, other
 * features), or 3 when out of memory. */
int policy_load(Policy *p, const char *path, const char *const *expected_names,
                int n_rankings, int n_gates, char *err, size_t errlen);

#endif
