/* model — what each round fits on the labeled rows and predicts the pool with, behind a small
 * table of functions. The session (engine.h), the strategies, the budget ledger and the
 * checkpoint see only this: a model's name, its classes, the width of its embeddings, its
 * minibatch and FLOP counts, and the operations below. Nothing above this header looks inside
 * a model.
 *
 * Implementations: mlp (sim/mlp.c: the MLP of learner.h, dense or CSR input; softmax
 * regression with --hidden 0, trained for the budget's steps), logreg (sim/logreg.c: L2
 * logistic regression fitted to convergence, as scikit-learn's LogisticRegression) and cnn
 * (sim/cnn.c: the convolutional net of cnn.h for image rows, trained for the budget's steps)
 * and bert:DIR (sim/bertmodel.c: a BERT-family encoder fine-tuned on token rows; frozen, its
 * pooled vectors feed --head instead).
 * A new model is a ModelOps table and a row in the registry (model.c).
 *
 * Everything random is a pure function of (seed, round, row): a model's initial weights of
 * model_reset(seed), its minibatch order and dropout masks of model_fit(seed, round), and the
 * MC-dropout masks of model_predict(seed, round, row0 + i). So two strategies with the same
 * seed fit the same round-0 model, and a resumed run ends as an uninterrupted one.
 */
#ifndef ALSIM_MODEL_H
#define ALSIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/dataset.h"
#include "sim/backend.h"
#include "sim/budget.h"     /* Spent: what a fit used of its budget */
#include "sim/config.h"
#include "sim/learner.h"    /* LearnerInput: the rows a model reads, dense or CSR */

typedef struct Model Model;

typedef struct {
    const char *name;       /* --model NAME */
    const char *help;       /* one line for --help and the README */
    /* Builds the model for data of pool's shape (features, classes, dense or CSR) from the
     * options of c, on be, and fills the public fields of m. Weights are not drawn yet
     * (model_reset). Returns 0, or 2 (a setting the model refuses) / 3 (out of memory) with
     * a one-line reason. */
    int (*create)(Model *m, const Config *c, const Dataset *pool, const Backend *be,
                  char *err, size_t errlen);
    /* Optional (NULL: any strategy): whether the model, under the options of c, can give a
     * strategy (its name, for the message) what it needs (NEEDS_* bits of
     * strategies/strategy.h: probabilities, MC samples, embeddings), before any data is
     * read. Returns 0, or 2 with a one-line reason and what to use instead. */
    int (*check)(const Config *c, const char *strategy, int needs, char *err, size_t errlen);
    void (*destroy)(Model *m);
    /* Fresh weights and optimiser state for seed. */
    void (*reset)(Model *m, uint64_t seed);
    /* `steps` optimizer steps on the labeled rows X (n = X->n), y (n), from the current
     * weights; a model fitted to convergence (max_iter > 0) takes at most `steps` and stops
     * when its tolerance is met. spent: on entry the whole budget (the session fills it in,
     * converged -1); a model that stops early writes what it used. Returns the mean training
     * loss (cross-entropy; mlp: of the last epoch's steps); NaN/Inf when it diverged or ran
     * out of memory. */
    double (*fit)(Model *m, Spent *spent, const LearnerInput *X, const int32_t *y, int steps,
                  uint64_t seed, int round);
    /* Rows X (pool row ids row0..row0+n-1): probs (n,K) dropout off, mc (T,n,K) T MC-dropout
     * samples, emb (n,emb_width) the embeddings; each may be NULL. row0 = RNG_ROWS_SHARED
     * (sim/rng.h): every row's sample t uses the same masks (consistent MC dropout). Returns 0, or -1 when out
     * of memory. */
    int (*predict)(Model *m, float *probs, float *mc, float *emb, const LearnerInput *X, int T,
                   uint64_t seed, int round, int64_t row0);
    /* Optional (NULL: none): scores (n) = reduction `kind` (backend.h Reduce) of rows X's
     * probabilities or MC samples, computed where the model runs (a GPU), equal to the
     * strategy's host formula. Returns 0, or -1 when not done: then predict and score on the
     * host. */
    int (*score)(Model *m, double *scores, const LearnerInput *X, int kind, int T,
                 uint64_t seed, int round, int64_t row0);
    /* The state a warm-started run carries between rounds (weights and optimiser), as bytes:
     * its size, a copy out, and a copy in (from a model of the same config). */
    size_t (*state_size)(const Model *m);
    void (*save)(const Model *m, void *state);
    void (*restore)(Model *m, const void *state);
} ModelOps;

struct Model {
    const ModelOps *ops;
    void *impl;                 /* the implementation's own state */
    int k;                      /* classes K */
    int emb_width;              /* columns of predict's emb; 0 when the model has none */
    int minibatch;              /* rows per optimizer step: the budget counts steps with it */
    int max_iter;               /* a model fitted to convergence (logreg): its iteration cap,
                                   the round's budget whatever --epochs (budget_for_convergence);
                                   0: a model trained for epochs · ceil(n / minibatch) steps */
    double macs_per_row;        /* multiply-adds of one forward pass of one row */
    double train_flops_per_row; /* matmul FLOPs a training step spends per row (budget.h) */
};

/* The registry: the model called name (a name ending in ":DIR", as bert:DIR, by its prefix),
 * or NULL. */
const ModelOps *model_find(const char *name);

/* The folder of a language model (--model bert:DIR: DIR), or NULL for every other model. */
const char *model_folder(const Config *c);

/* 1 when c asks for a frozen encoder (--model bert:DIR --finetune none): the session's rows
 * are then its pooled vectors (sim/embed.h), and its model is --head. */
int model_is_frozen_encoder(const Config *c);
/* One line per model: name and help. */
void model_print_list(FILE *f);

/* Whether the model c->model names can serve strategy (its name) with needs (NEEDS_* of
 * strategies/strategy.h) under c (see ModelOps.check). Returns 0, or 2 with err (also for an
 * unknown model). */
int model_check(const Config *c, const char *strategy, int needs, char *err, size_t errlen);

/* 1 when the model c->model names gives MC-dropout samples that differ from one another under
 * c (its check accepts NEEDS_MC alone: mlp with a hidden layer and dropout, cnn; not logreg),
 * else 0. What NEEDS_MC_IF_DROPOUT (strategies/strategy.h) asks of the engine. */
int model_has_mc(const Config *c);

/* Creates the model c->model names (see ModelOps.create). Returns 0, 2 or 3 with err. */
int model_open(Model *m, const Config *c, const Dataset *pool, const Backend *be, char *err,
               size_t errlen);
/* Frees everything; accepts a zeroed struct; leaves m zeroed. */
void model_close(Model *m);

static inline void model_reset(Model *m, uint64_t seed) { m->ops->reset(m, seed); }
static inline double model_fit(Model *m, Spent *spent, const LearnerInput *X,
                               const int32_t *y, int steps, uint64_t seed, int round) {
    return m->ops->fit(m, spent, X, y, steps, seed, round);
}
static inline int model_predict(Model *m, float *probs, float *mc, float *emb,
                                const LearnerInput *X, int T, uint64_t seed, int round,
                                int64_t row0) {
    return m->ops->predict(m, probs, mc, emb, X, T, seed, round, row0);
}
static inline int model_score(Model *m, double *scores, const LearnerInput *X, int kind, int T,
                              uint64_t seed, int round, int64_t row0) {
    return m->ops->score ? m->ops->score(m, scores, X, kind, T, seed, round, row0) : -1;
}

/* Rows off..off+n-1 of ds as a model reads them: dense, or CSR when ds->x is NULL. */
LearnerInput model_rows(const Dataset *ds, int off, int n);

#endif
