/* learner — the MLP that each round fine-tunes on the labeled set and then scores the pool
 * with (learner_predict → probs and MC-dropout samples → strategies). See learner.h for the
 * contract; all the math runs through the Backend table, so this file is the same for the CPU
 * and the GPU.
 *
 * Memory (llm.c style, a few big allocations pointed into):
 *   params block (backend): params | grads | m | v, each n_params floats (padded to 64 bytes)
 *   scratch      (backend): act[0..n_layers], dact[1..n_layers], probs, targets, cap rows each
 *   host_scratch (host):    the gathered minibatch, its labels and the downloaded logits
 *   csr block (backend) and host CSR staging: sparse input only, grown on demand
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
    if (!(c->l2_per_label >= 0.0f && isfinite(c->l2_per_label)))
        return "l2_per_label must be >= 0";
    if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f)) return "beta1 must be in [0, 1)";
    if (!(c->beta2 >= 0.0f && c->beta2 < 1.0f)) return "beta2 must be in [0, 1)";
    if (!(c->eps > 0.0f && isfinite(c->eps))) return "eps must be > 0";
    if (c->minibatch < 1) return "minibatch must be >= 1";
    if (!(c->mean_nnz >= 0.0 && isfinite(c->mean_nnz))) return "mean_nnz must be >= 0";
    return NULL;
}

LearnerInput learner_input_rows(const LearnerInput *in, int off, int m) {
    LearnerInput r = *in;
    r.n = m;
    if (in->x) r.x = in->x + (size_t)off * in->d;
    else r.indptr = in->indptr + off;
    return r;
}

/* Room for nnz nonzeros in the CSR buffers (backend and host), growing them (at least
 * doubling) when needed. Returns 0, or -1 when out of memory (the old buffers are freed and
 * csr_cap is 0, so the next call tries again). */
static int csr_reserve(Learner *L, int64_t nnz) {
    if (nnz <= L->csr_cap && L->csr_indptr) return 0;
    int64_t want = nnz > 2 * L->csr_cap ? nnz : 2 * L->csr_cap;
    if (want < (int64_t)L->cap * 64) want = (int64_t)L->cap * 64;
    L->be->free(L->csr_indptr);
    free(L->host_indptr);
    L->csr_indptr = NULL;
    L->host_indptr = NULL;
    L->csr_cap = 0;
    // indptr (cap+1) int64, then indices (want) int32, then values (want) float, each padded
    size_t ip = pad16(2 * ((size_t)L->cap + 1)), nz = pad16((size_t)want);
    size_t bytes = (ip + 2 * nz) * sizeof(float);
    L->csr_indptr = L->be->alloc(bytes);
    L->host_indptr = malloc(bytes);
    if (!L->csr_indptr || !L->host_indptr) {
        L->be->free(L->csr_indptr);
        free(L->host_indptr);
        L->csr_indptr = NULL;
        L->host_indptr = NULL;
        return -1;
    }
    // One allocation carved into int64 indptr | int32 indices | float values, counted in 4-byte
    // words (ip, nz): int32 and float share size and alignment, so the casts are exact.
    // cppcheck-suppress invalidPointerCast
    L->csr_indices = (int32_t *)((float *)L->csr_indptr + ip);
    // cppcheck-suppress invalidPointerCast
    L->csr_values = (float *)L->csr_indptr + ip + nz;
    // cppcheck-suppress invalidPointerCast
    L->host_indices = (int32_t *)((float *)L->host_indptr + ip);
    // cppcheck-suppress invalidPointerCast
    L->host_values = (float *)L->host_indptr + ip + nz;
    L->csr_cap = want;
    return 0;
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
    if (be->score_rows && cap < LEARNER_DEVICE_CAP) cap = LEARNER_DEVICE_CAP;
    L->cap = cap;
    size_t width[LEARNER_MAX_HIDDEN + 2];   // columns of act[l]
    width[0] = c->sparse ? 0 : (size_t)c->d;  // sparse rows go to the CSR buffers instead
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
    L->act[0] = c->sparse ? NULL : p;
    p += pad16((size_t)cap * width[0]);
    for (int l = 1; l <= L->n_layers; l++) {
        L->act[l] = p;
        p += pad16((size_t)cap * width[l]);
        L->dact[l] = p;
        p += pad16((size_t)cap * width[l]);
    }
    L->probs = p;
    p += pad16((size_t)cap * c->k);
    L->targets = (int32_t *)p;   // cppcheck-suppress invalidPointerCast ; int32 fits a float's slot

    // host staging: minibatch rows (cap,D), labels (cap), logits (cap,K); >= n_params floats
    size_t host = (size_t)cap * width[0] + (size_t)cap + (size_t)cap * c->k;
    if (host < n_params) host = n_params;
    L->host_scratch = malloc(host * sizeof(float));
    if (!L->host_scratch) {
        snprintf(err, errlen, "learner: out of host memory for %.1f MB of staging",
                 4.0 * host / 1e6);
        learner_free(L);
        return -1;
    }
    L->host_y = (int32_t *)(L->host_scratch + (size_t)cap * width[0]);   // cppcheck-suppress invalidPointerCast
    L->host_logits = L->host_scratch + (size_t)cap * width[0] + cap;
    if (c->sparse && csr_reserve(L, (int64_t)cap * 64) != 0) {
        snprintf(err, errlen, "learner: out of memory for the sparse input buffers");
        learner_free(L);
        return -1;
    }
    return 0;
}

void learner_free(Learner *L) {
    if (L->be) {
        L->be->free(L->params);     // grads, m, v point into it
        L->be->free(L->scratch);    // act, dact, probs, targets point into it
        L->be->free(L->csr_indptr); // csr_indices, csr_values point into it
        L->be->free(L->score_mc);
    }
    free(L->host_scratch);
    free(L->host_indptr);           // host_indices, host_values point into it
    free(L->init_weights);
    *L = (Learner){0};
}

/* Parameters from host w (n_params); gradients, Adam state and adam_t zeroed. */
static void reset_to(Learner *L, const float *w) {
    L->be->upload(L->params, w, L->n_params * sizeof(float));
    L->be->zero(L->m, L->n_params * sizeof(float));
    L->be->zero(L->v, L->n_params * sizeof(float));
    L->be->zero(L->grads, L->n_params * sizeof(float));
    L->adam_t = 0;
}

void learner_reset(Learner *L, uint64_t seed, int round) {
    const size_t bytes = L->n_params * sizeof(float);
    if (L->init_weights && L->init_seed == seed && L->init_round == round) {
        reset_to(L, L->init_weights);
        return;
    }
    float *w = L->host_scratch;     // (n_params)
    Rng r = rng_stream(seed, RNG_MODEL_INIT, (uint64_t)round);
    for (int l = 0; l < L->n_layers; l++) {
        const double sd = sqrt(2.0 / L->in[l]);
        const size_t in = (size_t)L->in[l], out = (size_t)L->out[l];
        float *wl = w + L->w_off[l];
        if (l == 0 && L->c.sparse) {    // W_0ᵀ (in,out), drawn in W_0's (out,in) order
            for (size_t o = 0; o < out; o++)
                for (size_t j = 0; j < in; j++) wl[j * out + o] = (float)(sd * rng_normal(&r));
        } else {
            for (size_t i = 0; i < in * out; i++) wl[i] = (float)(sd * rng_normal(&r));
        }
        for (size_t o = 0; o < out; o++) w[L->b_off[l] + o] = 0.0f;
    }
    if (!L->init_weights) L->init_weights = malloc(bytes);   // NULL: no copy, draw each time
    if (L->init_weights) {
        memcpy(L->init_weights, w, bytes);
        L->init_seed = seed;
        L->init_round = round;
    }
    reset_to(L, w);
}

// ----------------------------------------------------------------------------
// forward and backward over the scratch buffers, n <= cap rows

/* Layer l on inp (n,in[l]) into act[l+1] (n,out[l]), with ReLU when it is a hidden layer.
 * Layer 0 of a sparse learner reads the CSR rows staged in csr_* instead (inp is NULL). */
static void layer_forward(Learner *L, int l, const float *inp, int n) {
    const Backend *be = L->be;
    if (l == 0 && L->c.sparse)
        be->sparse_matmul_forward(L->act[1], L->csr_indptr, L->csr_indices, L->csr_values,
                                  L->params + L->w_off[0], L->params + L->b_off[0],
                                  n, L->in[0], L->out[0]);
    else
        be->matmul_forward(L->act[l + 1], inp, L->params + L->w_off[l], L->params + L->b_off[l],
                           n, L->in[l], L->out[l]);
    if (l < L->c.n_hidden) be->relu_forward(L->act[l + 1], L->act[l + 1], (size_t)n * L->out[l]);
}

/* Layers l0..n_layers-1, layer l0 reading inp (n,in[l0]), leaving the logits in
 * act[n_layers] (n,K). With dropout_on, each hidden output l >= l0 is dropped out in place
 * (layer_key(key, l), row ids row0..row0+n-1). */
static void forward_logits(Learner *L, int l0, const float *inp, int n, int dropout_on,
                           uint64_t key, int64_t row0) {
    const Backend *be = L->be;
    for (int l = l0; l < L->n_layers; l++) {
        layer_forward(L, l, l == l0 ? inp : L->act[l], n);
        if (dropout_on && l < L->c.n_hidden && L->c.dropout > 0.0f)
            be->dropout_forward(L->act[l + 1], L->act[l + 1], n, L->out[l], L->c.dropout,
                                layer_key(key, l), row0);
    }
}

/* forward_logits, then softmax into L->probs (n,K). */
static void forward_from(Learner *L, int l0, const float *inp, int n, int dropout_on,
                         uint64_t key, int64_t row0) {
    forward_logits(L, l0, inp, n, dropout_on, key, row0);
    L->be->softmax_forward(L->probs, L->act[L->n_layers], n, L->c.k);
}

/* Gradients of the mean cross-entropy of the last training forward (act, probs, targets,
 * dropout keyed by key, row ids 0..n-1) into L->grads. */
static void backward(Learner *L, int n, uint64_t key) {
    const Backend *be = L->be;
    const int nl = L->n_layers;
    be->crossentropy_backward(L->dact[nl], L->probs, L->targets, n, L->c.k);
    for (int l = nl - 1; l >= 0; l--) {
        if (l == 0 && L->c.sparse)
            be->sparse_matmul_backward(L->grads + L->w_off[0], L->grads + L->b_off[0], L->dact[1],
                                       L->csr_indptr, L->csr_indices, L->csr_values,
                                       n, L->in[0], L->out[0]);
        else
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

void learner_add_l2_grad(const Backend *be, float *grad, const float *w, size_t n, double lambda) {
    if (lambda != 0.0) be->axpy(grad, w, (float)(2.0 * lambda), n);
}

double learner_l2_value(const Backend *be, const float *w, size_t n) {
    float *h = malloc(n * sizeof *h);
    if (!h) return NAN;
    be->download(h, w, n * sizeof *h);
    double sq = 0.0;
    for (size_t i = 0; i < n; i++) sq += (double)h[i] * h[i];
    free(h);
    return sq;
}

/* The first layer's L2 penalty of a fit on n rows (c.l2_per_label / n)·||W_0||², its gradient
 * added to L->grads; nothing when c.l2_per_label is 0. */
static void add_first_layer_l2(Learner *L, int n) {
    if (L->c.l2_per_label > 0.0f)
        learner_add_l2_grad(L->be, L->grads + L->w_off[0], L->params + L->w_off[0],
                            (size_t)L->in[0] * L->out[0], (double)L->c.l2_per_label / n);
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
        // s >= 1: the largest term is exp(0)
        sum += maxv + log(s) - z[y[i]];   // cppcheck-suppress invalidFunctionArg
    }
    return sum;
}

/* Downloads the logits of the last forward pass (n rows) and returns their loss sum. */
static double download_loss_sum(Learner *L, const int32_t *y, int n) {
    L->be->download(L->host_logits, L->act[L->n_layers], (size_t)n * L->c.k * sizeof(float));
    return crossentropy_sum(L->host_logits, y, n, L->c.k);
}

/* Uploads m rows of X to the learner's input: dense rows into act[0] (m,D), CSR rows into
 * csr_* (indptr rebased to 0). rows (m) lists the row ids, or is NULL for rows 0..m-1 of X.
 * Returns 0, or -1 when the CSR buffers cannot grow to the rows' nonzeros. */
static int stage_input(Learner *L, const LearnerInput *X, const int *rows, int m) {
    const Backend *be = L->be;
    const size_t D = (size_t)L->c.d;
    if (!L->c.sparse) {
        if (!rows) {
            be->upload(L->act[0], X->x, (size_t)m * D * sizeof(float));
            return 0;
        }
        for (int i = 0; i < m; i++)
            memcpy(L->host_scratch + i * D, X->x + (size_t)rows[i] * D, D * sizeof(float));
        be->upload(L->act[0], L->host_scratch, (size_t)m * D * sizeof(float));
        return 0;
    }
    int64_t nnz = 0;
    for (int i = 0; i < m; i++) {
        int row = rows ? rows[i] : i;
        nnz += X->indptr[row + 1] - X->indptr[row];
    }
    if (csr_reserve(L, nnz) != 0) return -1;
    L->host_indptr[0] = 0;
    if (rows) {         // gather the rows' nonzeros into the host staging, then upload
        for (int i = 0; i < m; i++) {
            const int64_t start = X->indptr[rows[i]], len = X->indptr[rows[i] + 1] - start;
            memcpy(L->host_indices + L->host_indptr[i], X->indices + start, (size_t)len * sizeof(int32_t));
            memcpy(L->host_values + L->host_indptr[i], X->values + start, (size_t)len * sizeof(float));
            L->host_indptr[i + 1] = L->host_indptr[i] + len;
        }
        be->upload(L->csr_indices, L->host_indices, (size_t)nnz * sizeof(int32_t));
        be->upload(L->csr_values, L->host_values, (size_t)nnz * sizeof(float));
    } else {            // contiguous rows: their nonzeros are contiguous too
        const int64_t start = X->indptr[0];
        for (int i = 0; i <= m; i++) L->host_indptr[i] = X->indptr[i] - start;
        be->upload(L->csr_indices, X->indices + start, (size_t)nnz * sizeof(int32_t));
        be->upload(L->csr_values, X->values + start, (size_t)nnz * sizeof(float));
    }
    be->upload(L->csr_indptr, L->host_indptr, ((size_t)m + 1) * sizeof(int64_t));
    return 0;
}

// ----------------------------------------------------------------------------

double learner_fit(Learner *L, const LearnerInput *X, const int32_t *y,
                   int steps, uint64_t seed, int round) {
    const int n = X->n;
    if (steps <= 0 || n <= 0) return 0.0;
    const Backend *be = L->be;
    const int m = L->c.minibatch < n ? L->c.minibatch : n;           // rows per step
    const int steps_per_epoch = (n + L->c.minibatch - 1) / L->c.minibatch;
    const int loss_steps = steps < steps_per_epoch ? steps : steps_per_epoch;

    // batch (m): this step's rows, from reshuffled epochs of the n rows
    int *batch = malloc((size_t)m * sizeof(int));
    RngEpochs ep;
    if (!batch || rng_epochs_open(&ep, n, seed, round)) {
        free(batch);
        return NAN;
    }

    double loss_sum = 0.0;
    for (int s = 0; s < steps; s++) {
        rng_epochs_next(batch, &ep, m);
        for (int i = 0; i < m; i++) L->host_y[i] = y[batch[i]];
        if (stage_input(L, X, batch, m) != 0) {
            free(batch);
            rng_epochs_close(&ep);
            return NAN;
        }
        be->upload(L->targets, L->host_y, (size_t)m * sizeof(int32_t));

        uint64_t key = rng_key(seed, RNG_DROPOUT, (uint64_t)round, (uint64_t)s);
        forward_from(L, 0, L->act[0], m, 1, key, 0);
        if (s >= steps - loss_steps) loss_sum += download_loss_sum(L, L->host_y, m);
        backward(L, m, key);
        add_first_layer_l2(L, n);
        L->adam_t++;
        be->adam_update(L->params, L->grads, L->m, L->v, L->n_params, L->c.lr, L->c.beta1,
                        L->c.beta2, L->c.eps, L->c.weight_decay, L->adam_t);
    }
    free(batch);
    rng_epochs_close(&ep);
    return loss_sum / ((double)loss_steps * m);
}

/* Stages the rows of a predict chunk (all rows of X, contiguous) for layer 0 and sets *in0
 * to where layer 0 reads them: X's own dense rows in place when the backend's buffers are
 * host memory (the CPU: uploading would copy every pool row; in place is 6% faster on the
 * default model's pool pass, 10% slower on a linear model's, whose skinny gemm reads a
 * cached copy better: bench_core measures both), else act[0] after an upload (NULL for
 * sparse rows: layer 0 reads the CSR buffers). Returns 0, or -1 when the CSR buffers cannot
 * grow (out of memory). */
static int chunk_input(const float **in0, Learner *L, const LearnerInput *X) {
    *in0 = L->act[0];
    if (!L->c.sparse && L->be->host_memory) {
        *in0 = X->x;
        return 0;
    }
    return stage_input(L, X, NULL, X->n);
}

/* Room for T samples of a chunk in score_mc, (T,cap,K), allocated on first use and grown with
 * T. Returns 0, or -1 when out of memory. */
static int score_mc_reserve(Learner *L, int T) {
    if (T <= L->score_t) return 0;
    L->be->free(L->score_mc);
    L->score_mc = L->be->alloc((size_t)T * L->cap * L->c.k * sizeof(float));
    L->score_t = L->score_mc ? T : 0;
    return L->score_mc ? 0 : -1;
}

/* The T MC samples of the chunk whose first layer (after ReLU) is in act[1], cn rows with pool
 * ids row0.., through the backend's fused head (dropout → output layer → softmax, mc_head_forward)
 * into score_mc (T,cn,K), reserved here. Only for one hidden layer, where that is all that is
 * left to run T times. Returns 0, or -1 when not done (no fused head, a deeper model, out of
 * memory): then compose the ops, sample by sample. */
static int fused_mc_head(Learner *L, int cn, int T, uint64_t seed, int round, int64_t row0) {
    if (!L->be->mc_head_forward || L->n_layers != 2 || score_mc_reserve(L, T) != 0) return -1;
    enum { KEYS = 64 };
    uint64_t keys[KEYS];    // the dropout key of layer 0 for samples t0..t0+KEYS-1
    for (int t0 = 0; t0 < T; t0 += KEYS) {
        const int nt = T - t0 < KEYS ? T - t0 : KEYS;
        for (int t = 0; t < nt; t++)
            keys[t] = layer_key(rng_key(seed, RNG_MC, (uint64_t)round, (uint64_t)(t0 + t)), 0);
        if (L->be->mc_head_forward(L->score_mc + (size_t)t0 * cn * L->c.k, L->act[1],
                                   L->params + L->w_off[1], L->params + L->b_off[1], cn,
                                   L->in[1], L->c.k, L->c.dropout, keys, nt, row0) != 0)
            return -1;
    }
    return 0;
}

/* What predict_chunks delivers, each optional: host arrays (learner_predict_embed), or scores
 * reduced on the backend (learner_score). */
typedef struct {
    float *probs;       /* (n,K) host: dropout off */
    float *mc;          /* (T,n,K) host: the T MC samples */
    float *emb;         /* (n,H_last) host: the last hidden layer's output, dropout off */
    double *scores;     /* (n) host: be->score_rows(kind) of the probabilities, or for an MC
                         * kind of the T samples, which then stay in score_mc (T,cn,K) */
    int kind;
} PredictOut;

/* The one predict loop: X streams through in chunks of L->cap rows; layer 0 runs once per
 * chunk, the rest once with dropout off (probs, embeddings, and every sample when no dropout
 * is stochastic) and T times with MC dropout (fused when the backend can). Returns 0, or -1
 * when out of memory. */
static int predict_chunks(const PredictOut *o, Learner *L, const LearnerInput *X, int T,
                          uint64_t seed, int round, int64_t row0) {
    const Backend *be = L->be;
    const int H = L->c.n_hidden > 0 ? L->out[L->c.n_hidden - 1] : 0;   // the last hidden layer
    float *const emb = H ? o->emb : NULL;
    const int n = X->n, K = L->c.k;
    // the samples reduced on the backend (in score_mc), else downloaded into o->mc
    const int score_mc = o->scores && reduce_needs_mc(o->kind);
    const int want_mc = T > 0 && (o->mc || score_mc);
    const int want_probs = o->probs || (o->scores && !score_mc);
    // MC samples differ from probs only when some dropout sits after a hidden layer
    const int stochastic = want_mc && L->c.n_hidden > 0 && L->c.dropout > 0.0f;
    const size_t chunk_bytes_per_row = (size_t)K * sizeof(float);
    if (score_mc && score_mc_reserve(L, T) != 0) return -1;    // room for (T,cap,K)

    for (int off = 0; off < n; off += L->cap) {
        const int cn = n - off < L->cap ? n - off : L->cap;   // rows in this chunk
        const LearnerInput chunk = learner_input_rows(X, off, cn);
        const float *in0;
        if (chunk_input(&in0, L, &chunk) != 0) return -1;
        // Layer 0 (+ ReLU) sits before the first dropout: once per chunk, into act[1].
        layer_forward(L, 0, in0, cn);

        // The deterministic pass: probs, the embeddings (act[n_hidden], left by it), and the
        // logits of every MC sample when none is stochastic (left in act[n_layers]).
        if (want_probs || emb || (want_mc && !stochastic)) {
            forward_from(L, 1, L->act[1], cn, 0, 0, 0);
            if (o->probs)
                be->download(o->probs + (size_t)off * K, L->probs, cn * chunk_bytes_per_row);
            if (emb)
                be->download(emb + (size_t)off * H, L->act[L->c.n_hidden],
                             (size_t)cn * H * sizeof(float));
            if (o->scores && !score_mc)
                be->score_rows(o->scores + off, L->probs, NULL, cn, K, 0, o->kind);
        }
        if (!want_mc) continue;

        // T samples: fused into score_mc where the backend can (one hidden layer), else
        // composed; act[1] stays intact, each sample dropping it out into dact[1] (free while
        // predicting) and running the remaining layers from there. Sample t's softmax goes
        // to its slice of score_mc when scoring, else to L->probs and then to o->mc.
        const int fused = stochastic && fused_mc_head(L, cn, T, seed, round, row0 + off) == 0;
        for (int t = 0; t < T && !fused; t++) {
            if (stochastic) {
                uint64_t key = rng_key(seed, RNG_MC, (uint64_t)round, (uint64_t)t);
                be->dropout_forward(L->dact[1], L->act[1], cn, L->out[0], L->c.dropout,
                                    layer_key(key, 0), row0 + off);
                forward_logits(L, 1, L->dact[1], cn, 1, key, row0 + off);
            }
            if (score_mc)
                be->softmax_forward(L->score_mc + (size_t)t * cn * K, L->act[L->n_layers], cn, K);
            else {
                if (stochastic) be->softmax_forward(L->probs, L->act[L->n_layers], cn, K);
                be->download(o->mc + ((size_t)t * n + off) * K, L->probs,
                             cn * chunk_bytes_per_row);
            }
        }
        if (score_mc)
            be->score_rows(o->scores + off, NULL, L->score_mc, cn, K, T, o->kind);
        else if (fused)
            for (int t = 0; t < T; t++)
                be->download(o->mc + ((size_t)t * n + off) * K, L->score_mc + (size_t)t * cn * K,
                             cn * chunk_bytes_per_row);
    }
    return 0;
}

int learner_predict(float *probs, float *mc, Learner *L, const LearnerInput *X,
                    int T, uint64_t seed, int round, int64_t row0) {
    return learner_predict_embed(probs, mc, NULL, L, X, T, seed, round, row0);
}

int learner_predict_embed(float *probs, float *mc, float *emb, Learner *L, const LearnerInput *X,
                          int T, uint64_t seed, int round, int64_t row0) {
    const PredictOut o = {.probs = probs, .mc = mc, .emb = emb};
    return predict_chunks(&o, L, X, T, seed, round, row0);
}

int learner_score(double *scores, Learner *L, const LearnerInput *X, int kind, int T,
                  uint64_t seed, int round, int64_t row0) {
    if (!L->be->score_rows || kind <= REDUCE_NONE || kind >= REDUCE_COUNT) return -1;
    if (reduce_needs_mc(kind) && T < 1) return -1;
    const PredictOut o = {.scores = scores, .kind = kind};
    return predict_chunks(&o, L, X, T, seed, round, row0);
}

double learner_loss_grad(Learner *L, const LearnerInput *X, const int32_t *y, uint64_t key) {
    const int n = X->n;
    if (n < 1 || n > L->cap || stage_input(L, X, NULL, n) != 0) return NAN;
    L->be->upload(L->targets, y, (size_t)n * sizeof(int32_t));
    forward_from(L, 0, L->act[0], n, 1, key, 0);
    double loss = download_loss_sum(L, y, n) / n;
    backward(L, n, key);
    if (L->c.l2_per_label > 0.0f) {     // the penalty's value and gradient
        loss += (double)L->c.l2_per_label / n *
                learner_l2_value(L->be, L->params + L->w_off[0], (size_t)L->in[0] * L->out[0]);
        add_first_layer_l2(L, n);
    }
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

void learner_get_adam(float *m, float *v, int *adam_t, const Learner *L) {
    L->be->download(m, L->m, L->n_params * sizeof(float));
    L->be->download(v, L->v, L->n_params * sizeof(float));
    *adam_t = L->adam_t;
}

void learner_set_adam(Learner *L, const float *m, const float *v, int adam_t) {
    L->be->upload(L->m, m, L->n_params * sizeof(float));
    L->be->upload(L->v, v, L->n_params * sizeof(float));
    L->adam_t = adam_t;
}

double learner_macs_per_row(const LearnerConfig *c) {
    double macs = 0.0;
    double in = c->sparse ? c->mean_nnz : c->d;
    for (int l = 0; l < c->n_hidden; l++) {
        macs += in * c->hidden[l];
        in = c->hidden[l];
    }
    return macs + in * c->k;
}

double learner_train_flops_per_row(const LearnerConfig *c) {
    const double macs = learner_macs_per_row(c);
    const int out0 = c->n_hidden > 0 ? c->hidden[0] : c->k;
    const double in0 = c->sparse ? c->mean_nnz : c->d;
    return 2.0 * macs + 4.0 * macs - 2.0 * in0 * out0;
}
