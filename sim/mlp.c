/* mlp — the MLP classifier of learner.h as a model (model.h): D → H1 → … → Hn → K with ReLU and
 * dropout, dense or CSR input; softmax regression with no hidden layer. Its options are the
 * run's --hidden, --dropout, --lr, --weight-decay, --l2-per-label (a penalty on W_0, the first
 * layer's weights: learner_fit) and --minibatch; its embeddings are the last hidden layer with
 * dropout off. */
#include "sim/model.h"
#include "sim/util.h"
#include "strategies/strategy.h"  /* NEEDS_* */

#include <stdlib.h>
#include <string.h>

static Learner *L_of(const Model *m) { return m->impl; }

/* MC-dropout samples differ only through dropout, which sits after each hidden layer: without
 * a hidden layer or with dropout 0 every sample is the same, and a strategy that scores MC
 * samples alone (bald, var-ratios, mean-std) scores every row alike: its picks would be the
 * tie-break hash. (rl reads the probabilities too.) Embeddings are the last hidden layer. */
static int mlp_check(const Config *c, const char *strategy, int needs, char *err, size_t errlen) {
    if ((needs & NEEDS_EMB) && c->n_hidden < 1) {
        snprintf(err, errlen, "--strategy %s needs a hidden layer (its features use the last hidden layer); "
                 "--hidden 0 has none", strategy);
        return ALSIM_BAD_INPUT;
    }
    if ((needs & NEEDS_MC) && !(needs & NEEDS_PROBS) && (c->n_hidden < 1 || c->dropout == 0)) {
        snprintf(err, errlen, "--strategy %s scores MC-dropout samples, and with %s they are all the same (every row "
                 "would score alike): give the MLP a hidden layer and dropout (e.g. --hidden 512 --dropout 0.5), or "
                 "use least-confidence, entropy or margin", strategy,
                 c->n_hidden < 1 ? "--hidden 0 (no hidden layer, so no dropout)" : "--dropout 0");
        return ALSIM_BAD_INPUT;
    }
    return 0;
}

static int mlp_create(Model *m, const Config *c, const Dataset *pool, const Backend *be,
                      char *err, size_t errlen) {
    LearnerConfig lc = {
        .d = pool->d, .k = pool->k, .n_hidden = c->n_hidden,
        .dropout = (float)c->dropout, .lr = (float)c->lr, .weight_decay = (float)c->weight_decay,
        .l2_per_label = (float)c->l2_per_label,
        .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .minibatch = c->minibatch,
        .sparse = pool->x == NULL,      /* CSR rows (text): a sparse first layer */
        .mean_nnz = pool->x == NULL && pool->n ? (double)pool->indptr[pool->n] / pool->n : 0.0,
    };
    memcpy(lc.hidden, c->hidden, sizeof lc.hidden);
    Learner *L = calloc(1, sizeof *L);
    if (!L) { snprintf(err, errlen, "out of memory for the model"); return ALSIM_RUNTIME; }
    if (learner_init(L, &lc, be, err, errlen) != 0) { free(L); return ALSIM_RUNTIME; }
    m->impl = L;
    m->k = lc.k;
    m->emb_width = lc.n_hidden > 0 ? lc.hidden[lc.n_hidden - 1] : 0;
    m->minibatch = lc.minibatch;
    m->macs_per_row = learner_macs_per_row(&lc);
    m->train_flops_per_row = learner_train_flops_per_row(&lc);
    return 0;
}

static void mlp_destroy(Model *m) {
    if (m->impl) learner_free(L_of(m));
    free(m->impl);
}

/* Every round of a run resets to the same seed: learner_reset copies the weights it drew. */
static void mlp_reset(Model *m, uint64_t seed) { learner_reset(L_of(m), seed, 0); }

/* Runs its whole budget: spent stays as the session filled it in. */
static double mlp_fit(Model *m, Spent *spent, const LearnerInput *X, const int32_t *y, int steps,
                      uint64_t seed, int round) {
    return learner_fit(L_of(m), X, y, steps, seed, round);
}

static int mlp_predict(Model *m, float *probs, float *mc, float *emb, const LearnerInput *X,
                       int T, uint64_t seed, int round, int64_t row0) {
    return learner_predict_embed(probs, mc, emb, L_of(m), X, T, seed, round, row0);
}

static int mlp_score(Model *m, double *scores, const LearnerInput *X, int kind, int T,
                     uint64_t seed, int round, int64_t row0) {
    return learner_score(scores, L_of(m), X, kind, T, seed, round, row0);
}

/* State: params | Adam m | Adam v (n_params floats each) | adam_t. */
static size_t mlp_state_size(const Model *m) {
    return 3 * L_of(m)->n_params * sizeof(float) + sizeof(int);
}

static void mlp_save(const Model *m, void *state) {
    const Learner *L = L_of(m);
    float *p = state;
    int t;
    learner_get_params(p, L);
    learner_get_adam(p + L->n_params, p + 2 * L->n_params, &t, L);
    memcpy(p + 3 * L->n_params, &t, sizeof t);
}

static void mlp_restore(Model *m, const void *state) {
    Learner *L = L_of(m);
    const float *p = state;
    int t;
    memcpy(&t, p + 3 * L->n_params, sizeof t);
    learner_set_params(L, p);
    learner_set_adam(L, p + L->n_params, p + 2 * L->n_params, t);
}

const ModelOps model_mlp = {
    "mlp", "multilayer perceptron: --hidden widths (0: softmax regression), ReLU, dropout, AdamW",
    mlp_create, mlp_check, mlp_destroy, mlp_reset, mlp_fit, mlp_predict, mlp_score,
    mlp_state_size, mlp_save, mlp_restore,
};
