/* albl — Active Learning By Learning (Hsu & Lin, "Active Learning by Learning", AAAI 2015) as
 * libact implements it (libact/query_strategies/active_learning_by_learning.py: the classes
 * ActiveLearningByLearning and Exp4P), in alsim's rounds of b queries. A whole-pool strategy
 * with hooks (strategy.h): its score() records the experts' scores of each chunk, its finish
 * hook draws the round's rows, and its begin_round hook rewards the previous round's draws.
 *
 * The bandit: Exp4.P (Beygelzimer et al., AISTATS 2011) whose E experts are also its arms
 * (libact: "the advice of the kth expert are always equal e_k"). The experts, in this order:
 *   margin, entropy, least-confidence, bald (only when the run has MC dropout), random
 * random last, as libact's uniform_sampler (on by default and in its examples). Expert i has a
 * log-weight logw_i, 0 at the start, and is followed with probability
 *   p_i = (1 - E·pmin) · w_i / Σ_j w_j + pmin,        w_i = exp(logw_i)
 * A heuristic expert advises one row: its first row, in select_top_b's order of its scores
 * (ties by the seeded hash of (seed, round, pool row)), among the rows that may be picked
 * (unlabeled, not yet picked this round); following one expert for all b draws of a round
 * picks exactly that heuristic's top b. The random expert advises each "arm row" with
 * probability 1/n_arms: the pool rows outside the initial labeled set, labeled since or not
 * (libact: the rows unlabeled when the strategy was made), or with --pool-subset the round's
 * subset. A row x is drawn with probability
 *   q(x) = Σ_heuristics p_i [advice_i = x] + p_random [x is an arm row] / n_arms
 * and carries the importance weight W = 1/q(x).
 *
 * The reward (libact's calc_reward_fn): the importance-weighted accuracy of the current model
 * on every row drawn so far,
 *   IW-ACC = Σ_h W_h [argmax_c p_c(x_h) = y_h] / (N · T_q)
 * N the pool's rows (labeled and unlabeled), T_q = rounds · b the query budget, y_h the oracle's
 * answer, p the model's probabilities with dropout off (argmax ties to the lowest class, NaN:
 * wrong).
 *
 * The update of one draw x, made with probabilities p, under reward r (libact's Exp4P.exp4p):
 *   logw_i += pmin/2 · (r · a_i(x)/q(x) + (1/p_i) · sqrt(ln(E/delta) / (E · T_q)))
 * a_i(x) the probability expert i gave x (1 or 0 for a heuristic, 1/n_arms for random).
 * pmin defaults to libact's sqrt(ln E / (E · T_q)) and must lie in (0, 1/E]; delta (libact's
 * default 0.1) in (0, 1].
 *
 * The batch form, where alsim differs from libact (one query per step, the model refitted and
 * the weights updated between two steps):
 *  - A round draws its b rows by sequential draws from q, all under the round's weights and
 *    the round's model; after each pick the heuristics advise their next row.
 *  - The reward of a round's draws is the IW-ACC of the next round's model (fitted with their
 *    labels), computed once before that round's draws; each draw is updated with it, its own
 *    q(x) and a_i(x), and the p it was drawn with (so a round's updates commute). libact
 *    rewards a draw with the model refitted after that draw alone. The last round's draws are
 *    never rewarded, as libact's last query.
 *  - A draw of a row that cannot be picked (only the random expert draws one: a row labeled in
 *    an earlier round, or picked earlier in this one) joins the history with its weight, as
 *    libact's update() of an already-labeled entry does, is updated with the round's other
 *    draws, and the draw is repeated. libact updates it at once, under the current model.
 *  - The heuristics score with the round's model (libact's strategies each fit their own).
 *  - Weights are kept as logarithms (libact multiplies w by exp(..)): the same p without
 *    overflow.
 *  - Randomness is counter-based: draw d of round r takes its expert from
 *    rng_hash(rng_key(seed, RNG_STRATEGY, r, 1), d, 0) and random's row from (.., d, 1), so the
 *    draws do not depend on how the pool is chunked (libact: numpy's RandomState.choice).
 *
 * Cross-round state (checkpointed, StrategyHooks.save): the log-weights, every draw's pool row
 * and weight, and the last round's draws awaiting their reward (a_i(x)/q(x) for each expert).
 */
#ifndef ALSIM_ALBL_H
#define ALSIM_ALBL_H

#include <stddef.h>

#define ALBL_MAX_EXPERTS 5
#define ALBL_DEFAULT_DELTA 0.1

/* E: the experts of a run, 5 when it has MC dropout (bald among them), else 4. */
int albl_experts(int has_mc);

/* The name of expert i (0..e-1) of e experts: "margin", "entropy", "least-confidence",
 * "bald" (e = 5), "random" (the last). */
const char *albl_expert_name(int i, int e);

/* libact's default pmin for e experts and a query budget of budget rows: sqrt(ln e / (e·budget)). */
double albl_default_pmin(int e, long budget);

/* 0 when pmin (0: the default) and delta suit e experts and the budget: 0 < pmin <= 1/e (above,
 * p_i would be negative), 0 < delta <= 1. Else 2 with a one-line reason naming the option. */
int albl_check(double pmin, double delta, int e, long budget, char *err, size_t errlen);

/* p (e) = the probability of following each expert: (1 - e·pmin)·w_i/Σw + pmin, w = exp(logw). */
void albl_expert_probs(double *p /*(e)*/, const double *logw /*(e)*/, int e, double pmin);

/* q(x), the probability of drawing row x, and advice (e) = a_i(x), what each expert gave it:
 * 1 when heuristic i advises x (advised[i] == x), 0 otherwise; for random (the last),
 * 1/n_arms when x is an arm row (is_arm), else 0. p (e) from albl_expert_probs; advised
 * (e-1) the heuristics' rows. */
double albl_query_prob(double *advice /*(e)*/, const double *p /*(e)*/, const int *advised /*(e-1)*/,
                       int x, int is_arm, int n_arms, int e);

/* One draw's Exp4.P update of logw (e): ratio (e) = a_i(x)/q(x) of the draw, p (e) the
 * probabilities it was drawn with, reward its IW-ACC; see the top of this file. */
void albl_update(double *logw /*(e)*/, const double *p /*(e)*/, const double *ratio /*(e)*/,
                 double reward, int e, double pmin, double delta, long budget);

/* IW-ACC = Σ_h weight_h · correct_h / (n_pool · budget) over the n draws. */
double albl_iw_accuracy(const double *weight /*(n)*/, const unsigned char *correct /*(n)*/, int n,
                        int n_pool, long budget);

/* For tests and reports, of an albl state (albl_hooks): the number of experts (0 before the
 * first round) with logw (ALBL_MAX_EXPERTS) their log-weights; and the draws so far, *rows and
 * *weights (n, returned) pointing into the state. */
int albl_state_weights(const void *state, double *logw /*(ALBL_MAX_EXPERTS)*/);
int albl_state_history(const void *state, const int **rows, const double **weights);

#endif
