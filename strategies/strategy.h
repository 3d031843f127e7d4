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
 * its state, and finish() writes every row's score once all chunks were seen. A hooked
 * strategy that learns from round to round (albl: a bandit's weights) also saves that state
 * into the run's checkpoint and restores it on --resume (StrategyHooks.save, .restore).
 *
 * A batch-aware strategy (coreset, badge: batch.c) has no score: its select() picks the whole
 * batch itself from a BatchView, every row scored this round gathered in host memory, so the
 * rows of one batch can be chosen to differ from each other. The loop calls it instead of
 * scoring and taking the top b. Memory: the view holds (n,K) probabilities, (T,n,K) MC
 * samples and (n,H) embeddings, as the strategy needs, for all n rows scored: with the whole
 * MNIST pool (60,000 rows, K = 10) and T = 100 that is 240 MB of MC samples; --pool-subset M
 * gathers M rows instead.
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
enum { NEEDS_NOTHING = 0, NEEDS_PROBS = 1, NEEDS_MC = 2, NEEDS_EMB = 4,
       NEEDS_SHARED_MASKS = 8,     /* with NEEDS_MC: consistent MC dropout, sample t of every
                                      row drawn with the same dropout masks (one model w_t);
                                      the others' masks are keyed per row (sim/learner.h) */
       NEEDS_MC_IF_DROPOUT = 16,   /* MC samples when the model gives samples that differ
                                      (model_has_mc: a hidden layer with dropout), else none
                                      (T = 0): a strategy that uses them when it can (albl) */
       NEEDS_LABELED_PROBS = 32,   /* hooked strategies: the current model's probabilities of
                                      the labeled rows in RoundInfo (albl's reward) */
       NEEDS_LOOKAHEAD = 64 };     /* a batch-aware strategy that refits the run's model per
                                      candidate batch (Lookahead, below), on labels it has not
                                      queried: measurement only (teacher); MC samples when the
                                      model has dropout, else none */

/* What a whole-pool strategy is told at the start of each round's scoring. */
typedef struct {
    int round, rounds;      /* r of R */
    int n_pool, k, h;       /* pool rows N, classes K, embedding width H */
    int n_labeled;
    const float *labeled_emb;       /* (n_labeled, H) embeddings of the labeled rows */
    const int32_t *labeled_y;       /* (n_labeled) their labels */
    int n_ref;
    const float *ref_emb;           /* (n_ref, H) a fixed, evenly spread sample of pool rows;
                                       n_ref 0 unless NEEDS_EMB */
    /* What a strategy that learns from round to round (albl) reads; the round's model is the
     * one fitted on the labeled rows before this round's scoring. */
    int batch;                      /* rows queried per round b */
    int mc;                         /* MC samples T the round's views hold (0: none) */
    const int *labeled_rows;        /* (n_labeled) the labeled rows' pool ids, in labeling order */
    const float *labeled_probs;     /* (n_labeled, K) the round's model's probabilities of them,
                                       dropout off; NULL unless NEEDS_LABELED_PROBS */
    double albl_pmin, albl_delta;   /* --albl-pmin (0: libact's default), --albl-delta */
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
    /* Optional (all three NULL: nothing the strategy learns carries over to the next round):
     * the state a resumed run needs to end as an uninterrupted one, as bytes in the run's
     * checkpoint (sim/checkpoint.h), saved after each round and restored into a state freshly
     * opened on the same pool before the next. The bytes begin with an 8-byte tag naming the
     * strategy and the version of its layout (albl: "ALBLST01"), so restore refuses another
     * strategy's bytes or another version's by name. state_size: the bytes save writes now
     * (it grows as the run goes on). restore checks every size and index before use and
     * returns 0, or 2 with a one-line reason in err. */
    size_t (*state_size)(const void *state);
    void (*save)(const void *state, void *bytes /*(state_size)*/);
    int (*restore)(void *state, const void *bytes /*(n)*/, size_t n, char *err, size_t errlen);
    /* Optional (NULL: the loop takes the top b, select_top_b): a whole-pool strategy that picks
     * its batch itself from the scores finish wrote and what its state kept of the round (rl:
     * greedily, with a diversity penalty), as the loop's picker (sim/engine.h, Picker): picked
     * (b) = pool row ids from scores (n) and excluded (n) (1: not to be picked: labeled, or
     * outside the round's --pool-subset), indexed by pool row id, n the pool's rows; ties
     * broken by a seeded hash as select_top_b's. Called after finish, in the same round.
     * Returns how many it picked (at most b), or -1 when out of memory. */
    int (*pick)(int *picked /*(b)*/, const double *scores /*(n)*/, const unsigned char *excluded /*(n)*/,
                int n, int b, uint64_t seed, int round, void *state);
} StrategyHooks;

typedef void (*ScoreFn)(double *scores /*(n)*/, const PoolView *v);

/* Label look-ahead (NEEDS_LOOKAHEAD only): what the loop offers a strategy that compares
 * candidate batches by what they would do. refit() fits the run's model exactly as the next
 * round's fit would if the pool rows rows (m) were labeled now (the same model, initial
 * weights, budget rule, minibatch order and dropout seed; the rows appended to the labeled set
 * in that order, with the oracle's answers, which it reads without counting them as queries)
 * and measures it on the reward split (labeled rows kept out of the pool, never queried, never
 * the test set): *acc its accuracy, *nll its mean NLL. Every refit starts from the same state,
 * so equal rows give equal results (common random numbers). The loop's own model is as before
 * afterwards. Returns 0, or -1 when out of memory.
 * The strategy reports what it tried in the fields below it (rounds.jsonl "lookahead"). */
#define LOOKAHEAD_MAX 8
typedef struct {
    int (*refit)(double *acc, double *nll, const int *rows /*(m)*/, int m, void *ctx);
    void *ctx;
    double base_acc, base_nll;      /* this round's model on the reward split */
    /* Filled by the strategy: its candidates in the order tried. */
    int n;
    const char *name[LOOKAHEAD_MAX];
    double acc[LOOKAHEAD_MAX], nll[LOOKAHEAD_MAX];     /* after the refit on labeled ∪ candidate */
    int same_as[LOOKAHEAD_MAX];     /* -1, or an earlier candidate of the same rows (not refitted) */
    int chosen;                     /* the candidate picked */
} Lookahead;

/* What a batch-aware strategy's select() sees: every row scored this round (the whole pool, or
 * the round's --pool-subset, in the order drawn), predicted as the score path predicts them
 * (the same MC-dropout masks), and the labeled set's embeddings. */
typedef struct {
    int n, k;               /* rows n, classes K */
    int t, h;               /* MC samples T, embedding width H; 0 when not asked for */
    const float *probs;     /* (n,K) predictive probabilities, dropout off; NULL unless NEEDS_PROBS */
    const float *mc;        /* (T,n,K) MC-dropout samples, sample-major; NULL unless NEEDS_MC */
    const float *emb;       /* (n,H) last hidden layer, dropout off; NULL unless NEEDS_EMB */
    const int *rows;        /* (n) the rows' pool row ids (--pool-subset), or NULL: row i is
                               pool row i */
    const unsigned char *excluded;  /* (n) 1: not to be picked (already labeled); NULL: every
                                       row may be picked */
    int n_labeled;
    const float *labeled_emb;       /* (n_labeled,H) the labeled rows' embeddings, dropout off;
                                       NULL unless NEEDS_EMB */
    uint64_t seed;          /* the run's seed */
    int round;              /* the acquisition round */
    Lookahead *lookahead;   /* NEEDS_LOOKAHEAD: the loop's refit; NULL otherwise */
} BatchView;

/* Writes into picked (b) the pool row ids of the batch, in the order chosen: at most b rows,
 * each with excluded[i] == 0 and picked once, a pure function of the view (its randomness
 * drawn from (seed, round)). Returns how many it picked, min(b, rows that may be picked), or
 * -1 when out of memory. */
typedef int (*SelectFn)(int *picked /*(b)*/, const BatchView *v, int b);

typedef struct {
    const char *name;
    const char *help;       /* one line for `alsim --list` */
    int needs;              /* NEEDS_* bits */
    ScoreFn score;
    int reduce;             /* the Reduce kind (sim/backend.h) a backend's score_rows computes
                               equal to score, so a GPU can score without sending the
                               probabilities back; REDUCE_NONE (0): host only */
    const StrategyHooks *hooks;     /* whole-pool strategies only */
    SelectFn select;        /* batch-aware strategies only (then score is NULL) */
    int mc_min, mc_max;     /* the --mc (T) the strategy accepts; 0: no bound of its own */
    const char *mc_why;     /* why, for the refusal of a T outside [mc_min, mc_max] */
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
 *                     records features in its state, scores in its finish hook, and picks
 *                     the batch in its pick hook: greedily, each row's score less a learned
 *                     penalty for its similarity to the rows already picked (policy_select) */
void score_rl(double *scores, const PoolView *v);
extern const StrategyHooks rl_hooks;
void score_least_confidence(double *scores, const PoolView *v);
void score_entropy(double *scores, const PoolView *v);
void score_margin(double *scores, const PoolView *v);
void score_bald(double *scores, const PoolView *v);
void score_var_ratios(double *scores, const PoolView *v);
void score_mean_std(double *scores, const PoolView *v);
void score_mc_entropy(double *scores, const PoolView *v);
/*   power-bald        log BALD + G, G a standard Gumbel draw from a counter-based hash of
 *                     (seed, round, pool row id): the top b of these scores are b rows drawn
 *                     without replacement with probability proportional to BALD (the
 *                     Gumbel-top-k trick; Kirsch et al. 2023's power acquisition, beta = 1).
 *                     Rows with BALD = 0 score -inf (drawn only when no other row is left). */
void score_power_bald(double *scores, const PoolView *v);
/*   softmax-bald      BALD + G, G as power-bald's: b rows drawn without replacement with
 *                     probability proportional to exp(BALD) (Kirsch et al. 2023's softmax
 *                     acquisition, beta = 1). */
void score_softmax_bald(double *scores, const PoolView *v);
/*   albl              Active Learning By Learning (Hsu & Lin 2015; albl.h): an Exp4.P bandit
 *                     over the experts margin, entropy, least-confidence, bald (with MC
 *                     dropout) and random draws the round's b rows, and learns from the
 *                     importance-weighted accuracy of the next round's model; its score()
 *                     records the experts' scores, its finish hook ranks the rows drawn first
 *                     (b, b-1, .., 1 in draw order; -inf for the others) */
void score_albl(double *scores, const PoolView *v);
extern const StrategyHooks albl_hooks;

/* The batch-aware strategies (batch.c).
 *   coreset  greedy k-center (Sener & Savarese 2018) on the embeddings: b times, the row
 *            farthest (Euclidean) from the labeled rows and the rows picked so far.
 *   badge    k-means++ seeding (Ash et al. 2020) on the gradient embeddings badge_embedding:
 *            first the row of the largest gradient norm, then rows drawn with probability
 *            proportional to the squared distance to the nearest row picked so far.
 * Ties (equal distances) break as select_top_b's, by the seeded hash of the pool row id. */
int select_coreset(int *picked /*(b)*/, const BatchView *v, int b);
int select_badge(int *picked /*(b)*/, const BatchView *v, int b);

/* teacher (teacher.c): the look-ahead teacher, label look-ahead for measurement only. It
 * builds the candidate batches below (teacher_candidate), refits the run's model once per
 * distinct candidate (v->lookahead->refit) and picks the one whose refit scores the highest
 * accuracy on the reward split, ties broken by the lower NLL, then by the order below. Without
 * a lookahead it returns the margin candidate. Its batch is in ascending pool row id. */
enum { TEACHER_MARGIN, TEACHER_ENTROPY, TEACHER_BALD, TEACHER_KCENTER, TEACHER_BALANCED,
       TEACHER_CANDIDATES };
extern const char *const teacher_candidate_names[TEACHER_CANDIDATES];
int select_teacher(int *picked /*(b)*/, const BatchView *v, int b);
/* Candidate `which` of the view's rows that may be picked, as pool row ids in ascending order
 * into rows (b); returns how many (min(b, rows that may be picked)), 0 when it does not apply
 * (bald without MC samples, k-center without embeddings), -1 when out of memory:
 *   margin    the top b by margin (select_top_b's order: ties by the seeded hash of the row id)
 *   entropy   the top b by entropy
 *   bald      the top b by BALD over the T MC samples
 *   k-center  greedy k-center (coreset's rule) on the embeddings of the top min(10·b, n) rows by
 *             margin: each pick the row farthest from the labeled rows and the rows picked
 *   balanced  margin spread over the predicted classes (argmax p): the top ceil(b/K) rows of
 *             each predicted class by margin, the best b of them by margin, any shortfall
 *             filled by the next rows by margin */
int teacher_candidate(int *rows /*(b)*/, const BatchView *v, int b, int which);

/* batchbald (batchbald.c): greedy BatchBALD (Kirsch, van Amersfoort & Gal 2019) on the T MC
 * samples: the first pick BALD's top row, then each the row maximising the joint mutual
 * information H(y_1..y_i, y_x) - Σ E_w[H(y | w)] of the batch with it. The joint entropy is
 * exact while the picked rows' K^i label configurations number at most BATCHBALD_CONFIGS,
 * beyond that an importance-sampled estimate on S·T configurations (S = BATCHBALD_CONFIGS / T,
 * at least 1) drawn under each sample w_t from rng_stream(seed, RNG_STRATEGY, round), as the
 * paper's code. Memory: (configurations, T) doubles, 80 KB·T. Time per pick: candidates ×
 * configurations × T × K multiply-adds (use --pool-subset). Its samples are consistent MC
 * dropout (NEEDS_SHARED_MASKS): sample t of every row drawn with the same masks. */
#define BATCHBALD_CONFIGS 10000
int select_batchbald(int *picked /*(b)*/, const BatchView *v, int b);
/* H(y_idx[0], .., y_idx[m-1]) in nats over the view's T MC samples (idx: view indices), as
 * select_batchbald computes it: sampled == 0 exact (K^(m-1) configurations), else estimated
 * from S·T configurations of the first m-1 rows drawn from rng_stream(seed, RNG_STRATEGY,
 * round). NaN when m < 1 or out of memory. For tests. */
double batchbald_joint_entropy(const BatchView *v, const int *idx /*(m)*/, int m, int sampled);

/* BADGE's gradient embedding of one row: g (K,H) = (p - e_y) ⊗ h, y = argmax p (ties to the
 * lowest class), the gradient of the cross-entropy at label y with respect to the weights W
 * (K,H) of a last layer z = W h + b, p = softmax(z); g[c*H + j] = (p_c - [c = y]) h_j.
 * p (K) the row's probabilities, h (H) its embedding. */
void badge_embedding(float *g /*(K*H)*/, const float *p /*(K)*/, const float *h /*(H)*/,
                     int k, int hw);
/* The squared Euclidean distance between a (H) and b (H), accumulated in double in order
 * (coreset's and the teacher's k-center). */
double embedding_distance2(const float *a /*(H)*/, const float *b /*(H)*/, int hw);
/* The squared Euclidean distance between two rows' gradient embeddings, without forming them:
 * |a_i|²|h_i|² + |a_j|²|h_j|² - 2 (a_i·a_j)(h_i·h_j), a = p - e_y; clamped at 0. */
double badge_distance2(const float *p_i /*(K)*/, const float *h_i /*(H)*/,
                       const float *p_j /*(K)*/, const float *h_j /*(H)*/, int k, int hw);

/* Top-b selection (select.c): writes into picked (b) the b rows with labeled[i] == 0 and the
 * highest scores, best first. Ties (equal scores) are broken by rng_hash of
 * rng_key(seed, RNG_TIEBREAK, round, 0) and the row id, so they are seeded, not by position.
 * NaN scores rank below every number; the order is total (score, tie hash, row id), so the
 * result is deterministic. labeled may be NULL (nothing labeled). O(n log b), no allocation.
 * Returns how many were picked: min(b, unlabeled). */
int select_top_b(int *picked /*(b)*/, const double *scores /*(n)*/,
                 const unsigned char *labeled /*(n)*/, int n, int b,
                 uint64_t seed, int round);
/* select_top_b's order, for strategies that rank rows themselves: 1 when a row of score sa and
 * pool row id ra ranks strictly before one of score sb and id rb (score descending, NaN last;
 * then rng_hash(key, row, 0) ascending with key = rng_key(seed, RNG_TIEBREAK, round, 0); then
 * the row id). */
int select_ranks_before(double sa, int64_t ra, double sb, int64_t rb, uint64_t key);

#endif
