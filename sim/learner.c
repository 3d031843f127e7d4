/* learner — the MLP that each round fine-tunes on the labeled set and then scores the pool
 * with (learner_predict → probs and MC-dropout samples → strategies). See learner.h for the
 * contract; all the math runs through the Backend table, so this file is the same for the CPU
 * and the GPU.
 *
 * Memory (llm.c style, a few big allocations pointed into):
 *   params block (backend): params | grads | m | v, each n_params floats (padded to 64 bytes)
 *   scratch      (backend): act[0..n_layers], dact[1..n_layers], probs, targets, cap rows each
 *   host_scratch (host):    the gathered minibatch, its labels and the downloaded logits
 * Activations are kept in place: a hidden layer's matmul output goes through ReLU and dropout
 * in act[l+1], which is exactly what the next layer reads and its backward needs.
 */
#include "sim/learner.h"
#include "sim/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Dropout units are hashed in groups of 4 with col < 2^20 (rng.h), so widths stay below 2^22. */
#define LEARNER_MAX_WIDTH (1 << 22)

/* Each sub-buffer starts on a 64-byte boundary (16 floats). */
static size_t pad16(size_t n) { return (n + 15) & ~(size_t)15; }

/* The key of the dropout after hidden layer l, for a pass (training step or MC sample) keyed
 * by key. See learner.h. */
static uint64_t layer_key(uint64_t key, int l) { return rng_hash(key, (uint64_t)l, 0); }

static const char *config_problem(const LearnerConfig *c) {
    if (c->d < 1) return "d (input features) must be >= 1";
    if (c->k < 2) return "k (classes) must be >= 2";
    if (c->n_hidden < 0 || c->n_hidden > LEARNER_MAX_HIDDEN) return "n_hidden must be in 0..8";
    for (int l = 0; l < c->n_hidden; l++)
        if (c->hidden[l] < 1 || c->hidden[l] >= LEARNER_MAX_WIDTH)
            return "hidden widths must be in 1..4194303";
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f)) return "dropout must be in [0, 1)";
    if (!(c->lr > 0.0f && isfinite(c->lr))) return "lr must be > 0";
    if (!(c->weight_decay >= 0.0f && isfinite(c->weight_decay)))
        return "weight_decay must be >= 0";
    if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f)) return "beta1 must be in [0, 1)";
    if (!(c->beta2 >= 0.0f && c->beta2 < 1.0f)) return "beta2 must be in [0, 1)";
    if (!(c->eps > 0.0f && isfinite(c->eps))) return "eps must be > 0";
    if (c->minibatch < 1) return "minibatch must be >= 1";
    return NULL;
}

int learner_init(Learner *L, const LearnerConfig *c, const Backend *be, char *err, size_t errlen) {
    if (!err) errlen = 0;
    *L = (Learner){0};
    const char *problem = be ? config_problem(c) : "no backend";
    if (problem) {
        snprintf(err, errlen, "learner: %s", problem);
        return -1;
    }
    L->c = *c;
    L->be = be;
    L->n_layers = c->n_hidden + 1;

    // layer shapes and parameter offsets: W_l (out,in) then b_l (out), layer by layer
    size_t n_params = 0;
    for (int l = 0; l < L->n_layers; l++) {
        L->in[l] = l == 0 ? c->d : c->hidden[l - 1];
        L->out[l] = l == c->n_hidden ? c->k : c->hidden[l];
        L->w_off[l] = n_params;
        n_params += (size_t)L->in[l] * L->out[l];
        L->b_off[l] = n_params;
        n_params += (size_t)L->out[l];
    }
    L->n_params = n_params;

    // params, grads, m, v: one backend allocation
    size_t np = pad16(n_params);
    L->params = be->alloc(4 * np * sizeof(float));
    if (!L->params) {
        snprintf(err, errlen, "learner: out of memory for %zu parameters (%.1f MB with "
                 "gradients and Adam state)", n_params, 16.0 * np / 1e6);
        learner_free(L);
        return -1;
    }
    L->grads = L->params + np;
    L->m = L->params + 2 * np;
    L->v = L->params + 3 * np;

    // scratch for cap rows: act[0..n_layers], dact[1..n_layers], probs, targets
    int cap = c->minibatch > LEARNER_CAP ? c->minibatch : LEARNER_CAP;
    L->cap = cap;
    size_t width[LEARNER_MAX_HIDDEN + 2];   // columns of act[l]
    width[0] = (size_t)c->d;
    for (int l = 0; l < L->n_layers; l++) width[l + 1] = (size_t)L->out[l];
    size_t total = pad16((size_t)cap * width[0]);
    for (int l = 1; l <= L->n_layers; l++) total += 2 * pad16((size_t)cap * width[l]);
    total += pad16((size_t)cap * c->k) + pad16((size_t)cap);
    L->scratch = be->alloc(total * sizeof(float));
    if (!L->scratch) {
        snprintf(err, errlen, "learner: out of memory for %.1f MB of activations (%d rows)",
                 4.0 * total / 1e6, cap);
        learner_free(L);
        return -1;
    }
    float *p = L->scratch;
    L->act[0] = p;
    p += pad16((size_t)cap * width[0]);
    for (int l = 1; l <= L->n_layers; l++) {
        L->act[l] = p;
        p += pad16((size_t)cap * width[l]);
        L->dact[l] = p;
        p += pad16((size_t)cap * width[l]);
    }
    L->probs = p;
    p += pad16((size_t)cap * c->k);
    L->targets = (int32_t *)p;

    // host staging: minibatch rows (cap,D), labels (cap), logits (cap,K); >= n_params floats
    size_t host = (size_t)cap * c->d + (size_t)cap + (size_t)cap * c->k;
    if (host < n_params) host = n_params;
    L->host_scratch = malloc(host * sizeof(float));
    if (!L->host_scratch) {
        snprintf(err, errlen, "learner: out of host memory for %.1f MB of staging",
                 4.0 * host / 1e6);
        learner_free(L);
        return -1;
    }
    L->host_y = (int32_t *)(L->host_scratch + (size_t)cap * c->d);
    L->host_logits = L->host_scratch + (size_t)cap * c->d + cap;
    return 0;
}

void learner_free(Learner *L) {
    if (L->be) {
        L->be->free(L->params);     // grads, m, v point into it
        L->be->free(L->scratch);    // act, dact, probs, targets point into it
    }
    free(L->host_scratch);
    *L = (Learner){0};
}

void learner_reset(Learner *L, uint64_t seed, int round) {
    float *w = L->host_scratch;     // (n_params)
    Rng r = rng_stream(seed, RNG_MODEL_INIT, (uint64_t)round);
    for (int l = 0; l < L->n_layers; l++) {
        double sd = sqrt(2.0 / L->in[l]);
        size_t nw = (size_t)L->in[l] * L->out[l];
        for (size_t i = 0; i < nw; i++) w[L->w_off[l] + i] = (float)(sd * rng_normal(&r));
        for (int o = 0; o < L->out[l]; o++) w[L->b_off[l] + o] = 0.0f;
    }
    L->be->upload(L->params, w, L->n_params * sizeof(float));
    L->be->zero(L->m, L->n_params * sizeof(float));
    L->be->zero(L->v, L->n_params * sizeof(float));
    L->be->zero(L->grads, L->n_params * sizeof(float));
    L->adam_t = 0;
}

// ----------------------------------------------------------------------------
// forward and backward over the scratch buffers, n <= cap rows

/* Layer l on inp (n,in[l]) into act[l+1] (n,out[l]), with ReLU when it is a hidden layer. */
static void layer_forward(Learner *L, int l, const float *inp, int n) {
    const Backend *be = L->be;
    be->matmul_forward(L->act[l + 1], inp, L->params + L->w_off[l], L->params + L->b_off[l],
                       n, L->in[l], L->out[l]);
    if (l < L->c.n_hidden) be->relu_forward(L->act[l + 1], L->act[l + 1], (size_t)n * L->out[l]);
}

/* Layers l0..n_layers-1, layer l0 reading inp (n,in[l0]), then softmax into L->probs (n,K).
 * With dropout_on, each hidden output l >= l0 is dropped out in place (layer_key(key, l), row
 * ids row0..row0+n-1). */
static void forward_from(Learner *L, int l0, const float *inp, int n, int dropout_on,
                         uint64_t key, int64_t row0) {
    const Backend *be = L->be;
    for (int l = l0; l < L->n_layers; l++) {
        layer_forward(L, l, l == l0 ? inp : L->act[l], n);
        if (dropout_on && l < L->c.n_hidden && L->c.dropout > 0.0f)
            be->dropout_forward(L->act[l + 1], L->act[l + 1], n, L->out[l], L->c.dropout,
                                layer_key(key, l), row0);
    }
    be->softmax_forward(L->probs, L->act[L->n_layers], n, L->c.k);
}

/* Gradients of the mean cross-entropy of the last training forward (act, probs, targets,
 * dropout keyed by key, row ids 0..n-1) into L->grads. */
static void backward(Learner *L, int n, uint64_t key) {
    const Backend *be = L->be;
    const int nl = L->n_layers;
    be->crossentropy_backward(L->dact[nl], L->probs, L->targets, n, L->c.k);
    for (int l = nl - 1; l >= 0; l--) {
        be->matmul_backward(l == 0 ? NULL : L->dact[l],
                            L->grads + L->w_off[l], L->grads + L->b_off[l],
                            L->dact[l + 1], L->act[l], L->params + L->w_off[l],
                            n, L->in[l], L->out[l]);
        if (l == 0) break;
        // act[l] is hidden layer l-1's output after ReLU and dropout. Undo the dropout, then
        // the ReLU: its mask is act[l] > 0, which for a kept unit is the same as the ReLU
        // output > 0 (the scale is positive), and a dropped unit's gradient is already 0.
        size_t count = (size_t)n * L->out[l - 1];
        if (L->c.dropout > 0.0f)
            be->dropout_backward(L->dact[l], L->dact[l], n, L->out[l - 1], L->c.dropout,
                                 layer_key(key, l - 1), 0);
        be->relu_backward(L->dact[l], L->dact[l], L->act[l], count);
    }
}

/* Sum over rows of the cross-entropy of logits (n,K) against y (n), in double. */
static double crossentropy_sum(const float *logits, const int32_t *y, int n, int K) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        const float *z = logits + (size_t)i * K;
        double maxv = z[0];
        for (int j = 1; j < K; j++) if (z[j] > maxv) maxv = z[j];
        double s = 0.0;
        for (int j = 0; j < K; j++) s += exp(z[j] - maxv);
        sum += maxv + log(s) - z[y[i]];   // log-sum-exp minus the target logit
    }
    return sum;
}

/* Downloads the logits of the last forward pass (n rows) and returns their loss sum. */
static double download_loss_sum(Learner *L, const int32_t *y, int n) {
    L->be->download(L->host_logits, L->act[L->n_layers], (size_t)n * L->c.k * sizeof(float));
    return crossentropy_sum(L->host_logits, y, n, L->c.k);
}

// ----------------------------------------------------------------------------

double learner_fit(Learner *L, const float *X, const int32_t *y, int n,
                   int steps, uint64_t seed, int round) {
    if (steps <= 0 || n <= 0) return 0.0;
    const Backend *be = L->be;
    const int D = L->c.d;
    const int m = L->c.minibatch < n ? L->c.minibatch : n;           // rows per step
    const int steps_per_epoch = (n + L->c.minibatch - 1) / L->c.minibatch;
    const int loss_steps = steps < steps_per_epoch ? steps : steps_per_epoch;

    int *order = malloc((size_t)n * sizeof(int));   // (n) the current epoch's permutation
    if (!order) return NAN;
    for (int i = 0; i < n; i++) order[i] = i;
    Rng r = rng_stream(seed, RNG_MINIBATCH, (uint64_t)round);
    rng_shuffle(&r, order, n);
    int pos = 0;    // next position in order

    double loss_sum = 0.0;
    for (int s = 0; s < steps; s++) {
        // gather the minibatch on the host, wrapping into a fresh permutation at an epoch's end
        for (int i = 0; i < m; i++) {
            if (pos == n) {
                rng_shuffle(&r, order, n);
                pos = 0;
            }
            int row = order[pos++];
            memcpy(L->host_scratch + (size_t)i * D, X + (size_t)row * D, (size_t)D * sizeof(float));
            L->host_y[i] = y[row];
        }
        be->upload(L->act[0], L->host_scratch, (size_t)m * D * sizeof(float));
        be->upload(L->targets, L->host_y, (size_t)m * sizeof(int32_t));

        uint64_t key = rng_key(seed, RNG_DROPOUT, (uint64_t)round, (uint64_t)s);
        forward_from(L, 0, L->act[0], m, 1, key, 0);
        if (s >= steps - loss_steps) loss_sum += download_loss_sum(L, L->host_y, m);
        backward(L, m, key);
        L->adam_t++;
        be->adam_update(L->params, L->grads, L->m, L->v, L->n_params, L->c.lr, L->c.beta1,
                        L->c.beta2, L->c.eps, L->c.weight_decay, L->adam_t);
    }
    free(order);
    return loss_sum / ((double)loss_steps * m);
}

void learner_predict(float *probs, float *mc, Learner *L, const float *X, int n,
                     int T, uint64_t seed, int round, int64_t row0) {
    const Backend *be = L->be;
    const int D = L->c.d, K = L->c.k;
    const int want_mc = mc != NULL && T > 0;
    // MC samples differ from probs only when some dropout sits after a hidden layer
    const int stochastic = want_mc && L->c.n_hidden > 0 && L->c.dropout > 0.0f;
    const size_t chunk_bytes_per_row = (size_t)K * sizeof(float);

    for (int off = 0; off < n; off += L->cap) {
        const int cn = n - off < L->cap ? n - off : L->cap;   // rows in this chunk
        be->upload(L->act[0], X + (size_t)off * D, (size_t)cn * D * sizeof(float));
        // Layer 0 (+ ReLU) sits before the first dropout: once per chunk, into act[1].
        layer_forward(L, 0, L->act[0], cn);

        // The deterministic pass: probs, and every MC sample when none is stochastic.
        if (probs || (want_mc && !stochastic)) {
            forward_from(L, 1, L->act[1], cn, 0, 0, 0);
            if (probs) be->download(probs + (size_t)off * K, L->probs, cn * chunk_bytes_per_row);
            if (want_mc && !stochastic)
                for (int t = 0; t < T; t++)
                    be->download(mc + ((size_t)t * n + off) * K, L->probs,
                                 cn * chunk_bytes_per_row);
        }
        if (!stochastic) continue;

        // T samples: act[1] stays intact; each sample drops it out into dact[1] (free while
        // predicting) and runs the remaining layers from there.
        for (int t = 0; t < T; t++) {
            uint64_t key = rng_key(seed, RNG_MC, (uint64_t)round, (uint64_t)t);
            be->dropout_forward(L->dact[1], L->act[1], cn, L->out[0], L->c.dropout,
                                layer_key(key, 0), row0 + off);
            forward_from(L, 1, L->dact[1], cn, 1, key, row0 + off);
            be->download(mc + ((size_t)t * n + off) * K, L->probs, cn * chunk_bytes_per_row);
        }
    }
}

double learner_loss_grad(Learner *L, const float *X, const int32_t *y, int n, uint64_t key) {
    if (n < 1 || n > L->cap) return NAN;
    L->be->upload(L->act[0], X, (size_t)n * L->c.d * sizeof(float));
    L->be->upload(L->targets, y, (size_t)n * sizeof(int32_t));
    forward_from(L, 0, L->act[0], n, 1, key, 0);
    double loss = download_loss_sum(L, y, n) / n;
    backward(L, n, key);
    return loss;
}

void learner_get_params(float *out, const Learner *L) {
    L->be->download(out, L->params, L->n_params * sizeof(float));
}

void learner_set_params(Learner *L, const float *in) {
    L->be->upload(L->params, in, L->n_params * sizeof(float));
}

void learner_get_grads(float *out, const Learner *L) {
    L->be->download(out, L->grads, L->n_params * sizeof(float));
}

double learner_macs_per_row(const LearnerConfig *c) {
    double macs = 0.0;
    int in = c->d;
    for (int l = 0; l < c->n_hidden; l++) {
        macs += (double)in * c->hidden[l];
        in = c->hidden[l];
    }
    return macs + (double)in * c->k;
}
