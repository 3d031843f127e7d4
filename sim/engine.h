/* engine — the one active-learning loop, with no file I/O.
 *
 * A session is one simulated AL run of (config, pool, test, backend, seed). Opening it draws
 * the class-balanced initial set and has the oracle label it; each session_round() then runs
 * one round in the order data flows (DESIGN.md §1):
 *
 *   fit the model on the labeled rows with the round's budget (identical for every strategy)
 *   → evaluate on the test set (one row of the learning curve), and on the validation set
 *     when there is one (session_set_val)
 *   → predict / embed the pool in chunks and score it with the strategy (with --pool-subset,
 *     only the round's subset of the unlabeled rows: session_draw_subset); a strategy that
 *     learns from round to round (albl) is first shown the model's predictions of the labeled
 *     rows, its reward for the previous round's picks
 *   → pick the batch (the picker: top-b with seeded tie-breaks, or the strategy's own greedy
 *     pick (StrategyHooks.pick: rl), unless a driver sets another),
 *     or, for a batch-aware strategy (Strategy.select), let it select the batch itself from
 *     every scored row's predictions gathered in host memory (session_select)
 *   → the oracle labels the picked rows, which join the labeled set.
 *
 * Round R (the last) fits and evaluates only. The drivers sit around it: `alsim run`
 * (sim/run.c: run folder, checkpoint/resume, progress, signals) and `alsim train-policy`
 * (sim/train_policy.c: episodes of the same session whose picker samples from the learned
 * policy). Nothing else runs fit → predict → score → pick in sequence.
 */
#ifndef ALSIM_ENGINE_H
#define ALSIM_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/dataset.h"
#include "sim/backend.h"
#include "sim/budget.h"
#include "sim/checkpoint.h"
#include "sim/config.h"
#include "sim/metrics.h"
#include "sim/model.h"
#include "sim/oracle.h"
#include "sim/pool.h"
#include "strategies/strategy.h"

/* Rows of the pool scored per chunk: bounds the memory of MC samples to T·chunk·K floats. */
#define ENGINE_CHUNK_ROWS 4096
/* Pool rows whose embeddings a whole-pool strategy's density feature compares each row with:
 * evenly spread over the pool. */
#define SESSION_REF_ROWS 256

/* Picks the round's batch: writes into picked (b) the rows to label, from scores (N) of the
 * strategy (higher = query first) and labeled (N) (1: not to be picked: already labeled, or
 * outside the round's --pool-subset). Returns how many it picked (at most b), or -1 when out
 * of memory. ctx is the driver's. */
typedef int (*Picker)(int *picked /*(b)*/, const double *scores /*(N)*/,
                      const unsigned char *labeled /*(N)*/, int n, int b, uint64_t seed,
                      int round, void *ctx);

/* The default picker: the top b unlabeled rows, ties broken by a seeded hash (select_top_b). */
int session_pick_top_b(int *picked, const double *scores, const unsigned char *labeled, int n,
                       int b, uint64_t seed, int round, void *ctx);

/* What one round did: a row of the learning curve, the ledger, the labeled set's class
 * counts and the picked rows with the oracle's answers. Pointers into the session, valid
 * until the next round. */
typedef struct {
    int round, n_labeled;           /* n_labeled: rows the model was fitted on */
    Metrics test;
    double train_loss;
    Ledger ledger;                  /* budget and measured seconds */
    const int *class_counts;        /* (K) labels of each class in the labeled set */
    int k;
    const int *initial;             /* (n_initial) the seed set, in round 0; NULL after */
    int n_initial;
    const int *subset;              /* (n_subset) the pool rows scored this round, in the order
                                       drawn (--pool-subset); NULL when the whole pool was */
    int n_subset;
    const int *picked;              /* (n_picked) rows queried after this round, best first */
    const int32_t *picked_labels;   /* (n_picked) the oracle's answers */
    int n_picked;
    long queries;                   /* oracle queries so far, these included */
    const double *f1;               /* (K) per-class F1 on the test set, NaN for a class with
                                       no test rows */
    int diverged;                   /* NaN/Inf in the loss or the test probabilities: the
                                       session ends with this round */
    int has_val;                    /* 1 when a validation set is measured (session_set_val) */
    Metrics val;                    /* the model on the validation set, after the same fit */
    const Lookahead *lookahead;     /* a look-ahead strategy's candidates this round (teacher:
                                       label look-ahead, measurement only), else NULL; its
                                       refits are extra cost, outside the ledger: */
    int lookahead_fits;             /* refits run this round */
    long lookahead_steps;           /* their optimizer steps (logreg: iterations) */
    double lookahead_flops;         /* their FLOPs by the budget's formula */
} RoundRecord;

typedef struct {
    /* What it was opened with (not owned). */
    const Config *cfg;
    const Dataset *pool, *test;
    const Dataset *val;         /* NULL, or the validation rows (session_set_val) */
    const Backend *be;
    uint64_t seed;
    const Strategy *st;         /* NULL for --full-data (one round on the whole pool) */
    int R, T;                   /* rounds R (the curve has R+1 rows), MC samples T */
    Picker pick;                /* session_pick_top_b, or the strategy's own (StrategyHooks.pick,
                                   pick_ctx its state), unless the driver sets another */
    void *pick_ctx;
    int (*stop)(void);          /* optional: polled between the phases of a round; nonzero
                                   abandons the round (a signal to stop) */
    /* The state: everything a checkpoint holds. */
    Model model;
    Oracle oracle;
    Pool labeled;               /* labeled rows in labeling order, with the oracle's answers */
    int round;                  /* the next round to run, 0..R+1 */
    int rounds_done;            /* rows of the curve so far */
    double *curve_x, *curve_acc;/* (R+1) labeled rows and test accuracy per round */
    Metrics last;               /* the last round's test metrics */
    int diverged;               /* a round diverged: the session is over */
    void *strategy_state;       /* a whole-pool strategy's state (its hooks), else NULL */
    /* Buffers, one allocation each, freed by session_close. */
    int n_initial, *initial;    /* (n_init) the seed set */
    int *picked;                /* (b) */
    int32_t *answers;           /* (max(n_init, b)) the oracle's answers */
    int *class_counts;          /* (K) */
    double *f1;                 /* (K) */
    float *xl;                  /* (n_max, D) the labeled rows gathered (dense pools) */
    int64_t *xl_indptr;         /* CSR pools: (n_max+1), */
    int32_t *xl_indices;        /* the labeled rows' nonzeros (room for the n_max longest) */
    float *xl_values;
    float *test_probs;          /* (n_test, K) */
    float *val_probs;           /* (n_val, K) */
    float *chunk_probs, *chunk_mc, *chunk_emb;  /* (chunk,K), (T,chunk,K), (chunk,H) */
    float *labeled_emb, *ref_emb;   /* (n_max,H), (SESSION_REF_ROWS,H): whole-pool strategies */
    float *labeled_probs;       /* (n_max,K) the labeled rows' probabilities: NEEDS_LABELED_PROBS */
    void *strategy_bytes;       /* (strategy_cap) a hooked strategy's state, for the checkpoint */
    size_t strategy_cap;
    double *scores;             /* (N) */
    /* --pool-subset: the round's subset and its scoring, allocated only with it. */
    int n_subset, *subset;      /* (pool_subset) pool rows scored this round, in the order drawn */
    int *perm;                  /* (N) the round's permutation of the pool */
    unsigned char *excluded;    /* (N) 1: not to be picked this round (labeled, or not drawn) */
    double *subset_scores;      /* (pool_subset) the strategy's scores, in the subset's order */
    float *xs;                  /* (pool_subset, D) the subset's rows gathered (dense pools) */
    int64_t *xs_indptr;         /* CSR pools: (pool_subset+1), */
    int32_t *xs_indices;        /* the subset's nonzeros (room for the pool_subset longest) */
    float *xs_values;
    void *model_state;          /* (model state_size) warm-started checkpoints */
    void *best_state;           /* (model state_size) --early-stop: the best epoch's model */
    /* A batch-aware strategy's view: every row scored this round (n = the pool's N, or
     * --pool-subset's m), as it needs them; allocated only for such a strategy. The MC
     * samples are the big one: T·n·K floats (60,000 rows, K = 10, T = 100: 240 MB). */
    float *all_probs, *all_mc, *all_emb;    /* (n,K), (T,n,K), (n,H) */
    /* A look-ahead strategy's (NEEDS_LOOKAHEAD: teacher) refits, allocated only for it. */
    const Dataset *reward;      /* the reward split (session_set_reward), NULL until set */
    float *reward_probs;        /* (n_reward, K) */
    void *look_state;           /* (model state_size) the round's model, kept over the refits */
    int *look_rows;             /* (n_max) labeled rows, then a candidate's */
    int32_t *look_y;            /* (n_max) their labels (the oracle's answers) */
    Lookahead look;             /* the round's candidates, as the strategy reported them */
    int look_ran;               /* 1 when this round's selection refitted */
    int look_fits;              /* this round's refits, */
    long look_steps;            /* their steps */
    double look_flops;          /* and FLOPs (the ledger's formula), outside the ledger */
} Session;

/* Checks the sizes of c against the pool: init, batch and rounds must fit, and --pool-subset
 * must not exceed the unlabeled rows of round 0 (it would score them all). 0, or 2 with the
 * reason in err. */
int session_check_sizes(const Config *c, const Dataset *pool, char *err, size_t errlen);

/* Checks that test has rows to measure the model on (an empty test set would read as a
 * diverged run). 0, or 2 with the reason and what to do in err. */
int session_check_test(const Config *c, const Dataset *pool, const Dataset *test, char *err,
                       size_t errlen);

/* Opens a session of c on pool and test with seed, on be: checks the sizes and the test
 * set, builds the model (c->model) and the strategy (c->strategy; its hooks' state from
 * c->policy), and has the oracle label the initial set (all of the pool with c->full_data).
 * pool, test and c must outlive the session. Returns 0, or 2 (bad input) / 3 (runtime
 * failure) with a one-line reason in err; on failure S is closed. */
int session_open(Session *S, const Config *c, const Dataset *pool, const Dataset *test,
                 const Backend *be, uint64_t seed, char *err, size_t errlen);

/* Optional, after session_open: every round also measures the model on val (labeled rows kept
 * apart from the pool, never queried: --val-size), into RoundRecord.val, after the same fit
 * and the same way as the test set; with --early-stop, also after each epoch of a fit. val must have
 * the pool's features and classes and outlive the session. Returns 0, or 2 (another shape) /
 * 3 (out of memory) with a reason. */
int session_set_val(Session *S, const Dataset *val, char *err, size_t errlen);

/* Required before the first round of a look-ahead strategy (NEEDS_LOOKAHEAD: teacher), after
 * session_open: reward holds labeled rows kept out of the pool (--reward-size: never queried,
 * never the test set) on which each refit of a candidate batch is measured (Lookahead in
 * strategies/strategy.h). reward must have the pool's features and classes and outlive the
 * session. Returns 0, or 2 (another shape, or no rows) / 3 (out of memory) with a reason. */
int session_set_reward(Session *S, const Dataset *reward, char *err, size_t errlen);

/* For a driver whose picker compares candidate batches by what they would do (train-policy's
 * DAgger teacher), after session_open with a whole-pool strategy (hooks: rl) and instead of
 * session_set_reward: every round, the predictions of the rows scored (probabilities, MC
 * samples, embeddings, exactly those the strategy scored) are also kept, and before the
 * picker runs the round's model is kept and measured on reward, so that within the picker
 * session_batch_view offers them with the Lookahead refit of strategy.h (the teacher's: the
 * next round's fit on labeled ∪ candidate under common random numbers, on reward); the
 * round's model is restored after the picker. Memory: a batch-aware strategy's (the rows
 * scored, T·n·K MC floats). Returns 0, or 2 (not such a strategy, another shape) / 3 (out of
 * memory) with a reason. */
int session_enable_lookahead(Session *S, const Dataset *reward, char *err, size_t errlen);

/* v = the round's view of the rows scored, as a batch-aware strategy's select() sees it
 * (session_select), with the look-ahead when one is running: within session_select, or
 * within a picker of a session with session_enable_lookahead. */
void session_batch_view(BatchView *v, Session *S);

/* Frees everything; accepts a zeroed struct. */
void session_close(Session *S);

/* Runs round S->round (see the top of this file) and describes it in rec. Returns 0; 1 when
 * S->stop asked to stop mid-round (the round is abandoned: the session is not to be used
 * further); 3 with a reason in err when out of memory. */
int session_round(Session *S, RoundRecord *rec, char *err, size_t errlen);

/* The scoring step of session_round, alone (benchmarks time it): S->scores (N) = the
 * strategy's score of every pool row under the current model, for round S->round. A model
 * that reduces where it runs (model_score: a GPU) keeps the probabilities there and returns
 * one score per row; else, or when it cannot, each chunk of ENGINE_CHUNK_ROWS rows is
 * predicted and scored on the host. A whole-pool strategy is first told the round's facts
 * (the labeled and reference rows' embeddings, or the labeled rows' probabilities:
 * NEEDS_LABELED_PROBS). For a batch-aware strategy it predicts the
 * rows the same way, chunk by chunk, but gathers them into S->all_* (for session_select)
 * instead of scoring: S->scores is then NaN.
 * With --pool-subset m: only the round's subset (session_draw_subset into S->subset,
 * S->n_subset) is gathered and scored, as the authors' code of Gal et al. 2017 scores 2,000
 * random pool rows a round; S->scores is NaN for the other rows and S->excluded marks every
 * row but the subset's. Its MC-dropout masks are keyed by a row's position in the subset
 * (model_predict's row ids), its strategy's random draws by the pool row id (PoolView.rows).
 * Returns 0, or -1 when out of memory. */
int session_score_pool(Session *S);

/* The selection step of session_round for a batch-aware strategy (S->st->select), after
 * session_score_pool gathered the round's predictions: S->picked (b) = the strategy's batch
 * from a BatchView of the rows scored (the whole pool with the labeled rows excluded, or the
 * round's subset) and the labeled rows' embeddings. The driver's picker is not called.
 * A look-ahead strategy's view also offers the refit of strategy.h's Lookahead: the model of
 * round r+1 fitted as session_round would fit it (the same reset or warm start, budget rule,
 * fit, --early-stop, seed and round) on the labeled rows plus a candidate's, measured on the
 * reward split; S->model is restored to this round's afterwards, and S->look records the
 * candidates, S->look_fits/steps/flops the refits' cost (never the ledger's).
 * Returns how many it picked (at most b), or -1 when out of memory (or, for a look-ahead
 * strategy, when no reward split was set). */
int session_select(Session *S);

/* --pool-subset: subset (m) = the first m rows with labeled[i] == 0 in a permutation of the n
 * pool rows drawn from rng_stream(seed, RNG_POOL_SUBSET, round), in that order (fewer when
 * fewer are unlabeled); perm (n) is scratch. A pure function of (seed, round, labeled): two
 * strategies at the same (seed, round) draw the same subset from the same labeled set, and
 * share all of it but about m·(rows labeled by one and not the other)/n rows otherwise.
 * Returns how many rows it took. */
int session_draw_subset(int *subset /*(m)*/, int *perm /*(n)*/, const unsigned char *labeled /*(n)*/,
                        int n, int m, uint64_t seed, int round);

/* 1 when every round has run or one diverged. */
int session_done(const Session *S);

/* Fills ck with the session's state after its last round (pointers into S, valid until the
 * next round): labeled set, oracle queries, curve, last metrics, when warm-starting the
 * model's state, and the state a hooked strategy carries across rounds (StrategyHooks.save).
 * The caller adds what is its own (file offsets, elapsed time, config hash). Returns 0, or -1
 * when out of memory (for the strategy's state). */
int session_checkpoint(Session *S, Checkpoint *ck);

/* Continues from a checkpoint of this session's run: the labeled set, the oracle's count, the
 * curve, when warm-starting the model, and a hooked strategy's state (StrategyHooks.restore,
 * which checks its own bytes). Every size and index in ck is checked against the session
 * first (rows in the pool and each once, labels among its classes, the labeled set and the
 * curve within the run's rounds, the model's state size, a strategy state present exactly
 * when the strategy keeps one), so no checkpoint can write past an array. Returns 0, or 2
 * with a reason when it does not match (3 when out of memory). */
int session_restore(Session *S, const Checkpoint *ck, char *err, size_t errlen);

/* probs (n,K) = the current model's predictions (dropout off) for pool rows rows (n).
 * Returns 0, or 3 with a reason when out of memory. */
int session_predict_rows(float *probs, Session *S, const int *rows, int n, char *err,
                         size_t errlen);

#endif
