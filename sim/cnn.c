/* cnn — the convolutional classifier of cnn.h, and at the end --model cnn, its ModelOps table
 * (model.h). All the math runs through the Backend table, so this file is the same for the
 * CPU and the GPU.
 *
 * Memory (as learner.c, a few big allocations pointed into):
 *   params block (backend): params | grads | m | v, each n_params floats (padded to 64 bytes)
 *   scratch      (backend): the forward buffers for cap rows, the gradient buffers for a
 *                           minibatch, the convolutions' im2col work
 *   host                  : a minibatch's gathered rows, labels and downloaded logits
 * Activations stay in place where the backward pass allows it: each ReLU overwrites its
 * convolution's or dense layer's output, and the dense layer's dropout its ReLU's output,
 * which is what the backward pass reads (a unit kept by dropout is > 0 exactly when its ReLU
 * was). The pooled trunk output is never overwritten: its dropout goes to `dropped`, so the
 * trunk serves all T MC samples of a chunk.
 */
#include "sim/cnn.h"
#include "sim/model.h"
#include "sim/rng.h"
#include "sim/util.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Dropout units are hashed in groups of 4 with col < 2^20 (rng.h): widths below 2^22. */
#define CNN_MAX_WIDTH (1 << 22)
/* The forward buffers hold at most this many floats (512 MB): fewer rows per chunk for large
 * images. */
#define CNN_FORWARD_FLOATS ((size_t)1 << 27)
/* The convolutions' im2col work, in floats, from which the rows per gemm follow: 16 MB on the
 * CPU (big enough for both cores' gemm; MNIST's second convolution runs 15 rows a gemm), 128 MB
 * on a device. */
#define CNN_WORK_FLOATS ((size_t)1 << 22)
#define CNN_DEVICE_WORK_FLOATS ((size_t)1 << 25)

/* Each sub-buffer starts on a 64-byte boundary (16 floats). */
static size_t pad16(size_t n) { return (n + 15) & ~(size_t)15; }

/* The key of dropout l of a pass keyed by key: 0 after the pooling, 1 after the dense layer. */
static uint64_t layer_key(uint64_t key, int l) { return rng_hash(key, (uint64_t)l, 0); }

static int clamp_rows(size_t rows, int hi) {
    return rows < 1 ? 1 : rows > (size_t)hi ? hi : (int)rows;
}

/* The layers' sizes of c into net (h1..pw, ih2, iw2); ph or pw < 1 when the images are too
 * small. */
static void cnn_dims(Cnn *net, const CnnConfig *c) {
    const int k = c->kernel, s = c->pool;
    net->h1 = c->h - k + 1;
    net->w1 = c->w - k + 1;
    if (c->layout == CNN_CONV_POOL_CONV_POOL) {
        net->qh = net->h1 >= s ? net->h1 / s : 0;
        net->qw = net->w1 >= s ? net->w1 / s : 0;
        net->ih2 = net->qh;
        net->iw2 = net->qw;
    } else {
        net->ih2 = net->h1;
        net->iw2 = net->w1;
    }
    net->h2 = net->ih2 - k + 1;
    net->w2 = net->iw2 - k + 1;
    net->ph = net->h2 >= s ? net->h2 / s : 0;
    net->pw = net->w2 >= s ? net->w2 / s : 0;
}

int cnn_init(Cnn *net, const CnnConfig *c, const Backend *be, char *err, size_t errlen) {
    if (!err) errlen = 0;
    *net = (Cnn){0};
    const char *bad = NULL;
    if (c->c < 1 || c->h < 1 || c->w < 1) bad = "the rows are not images (no image shape)";
    else if (c->k < 2) bad = "k (classes) must be >= 2";
    else if (c->filters < 1 || c->kernel < 1 || c->pool < 1 || c->dense < 1)
        bad = "filters, kernel, pool and dense must be >= 1";
    else if (c->filters2 < 0) bad = "filters2 must be >= 0";
    else if (c->layout != CNN_CONV_CONV_POOL && c->layout != CNN_CONV_POOL_CONV_POOL) bad = "unknown layout";
    else if (!(c->dropout_conv >= 0.0f && c->dropout_conv < 1.0f) ||
             !(c->dropout_dense >= 0.0f && c->dropout_dense < 1.0f))
        bad = "the dropout probabilities must be in [0, 1)";
    else if (!(c->lr > 0.0f && isfinite(c->lr)) || !(c->weight_decay >= 0.0f && isfinite(c->weight_decay)))
        bad = "lr must be > 0 and weight_decay >= 0";
    else if (!(c->l2_per_label >= 0.0f && isfinite(c->l2_per_label)))
        bad = "l2_per_label must be >= 0";
    else if (c->minibatch < 1) bad = "minibatch must be >= 1";
    if (bad) {
        snprintf(err, errlen, "--model cnn: %s", bad);
        return ALSIM_BAD_INPUT;
    }
    const int two_pools = c->layout == CNN_CONV_POOL_CONV_POOL;
    const int F = c->filters, F2 = c->filters2 ? c->filters2 : F;
    const int k = c->kernel, s = c->pool, K = c->k, Dn = c->dense;
    net->c = *c;
    net->be = be;
    net->f2 = F2;
    cnn_dims(net, c);
    if (net->ph < 1 || net->pw < 1) {
        const int need = two_pools ? s * (k + s - 1) + k - 1 : 2 * (k - 1) + s;
        snprintf(err, errlen, "--model cnn: images of %dx%d pixels are too small for %s with %dx%d kernels and %dx%d "
                 "max-pooling (they need at least %dx%d); lower --kernel or --maxpool",
                 c->h, c->w, two_pools ? "conv-pool-conv-pool" : "conv-conv-pool", k, k, s, s, need, need);
        *net = (Cnn){0};
        return ALSIM_BAD_INPUT;
    }
    const double a1 = (double)F * net->h1 * net->w1, a2 = (double)F2 * net->h2 * net->w2;
    const double flat = (double)F2 * net->ph * net->pw;
    if (a1 >= INT_MAX || a2 >= INT_MAX || (double)c->c * c->h * c->w >= INT_MAX || flat >= CNN_MAX_WIDTH ||
        Dn >= CNN_MAX_WIDTH) {
        snprintf(err, errlen, "--model cnn: layers too wide: %.0f features after the pooling and --dense %d "
                 "(dropout draws masks of fewer than %d units)", flat, Dn, CNN_MAX_WIDTH);
        *net = (Cnn){0};
        return ALSIM_BAD_INPUT;
    }
    net->d = c->c * c->h * c->w;
    net->a1 = F * net->h1 * net->w1;
    net->aq = F * net->qh * net->qw;
    net->a2 = F2 * net->h2 * net->w2;
    net->flat = F2 * net->ph * net->pw;

    // parameters, layer by layer: W1 (F1,C,k,k) b1 (F1) W2 (F2,F1,k,k) b2 (F2) W3 (Dn,Fl)
    // b3 (Dn) W4 (K,Dn) b4 (K)
    size_t n = 0;
    net->w1_off = n; n += (size_t)F * c->c * k * k;
    net->b1_off = n; n += (size_t)F;
    net->w2_off = n; n += (size_t)F2 * F * k * k;
    net->b2_off = n; n += (size_t)F2;
    net->w3_off = n; n += (size_t)Dn * net->flat;
    net->b3_off = n; n += (size_t)Dn;
    net->w4_off = n; n += (size_t)K * Dn;
    net->b4_off = n; n += (size_t)K;
    net->n_params = n;
    const size_t np = pad16(n);
    net->params = be->alloc(4 * np * sizeof(float));
    if (!net->params) {
        snprintf(err, errlen, "--model cnn: out of memory for %zu parameters (%.1f MB with gradients and "
                 "Adam state)", n, 16.0 * np / 1e6);
        cnn_free(net);
        return ALSIM_RUNTIME;
    }
    net->grads = net->params + np;
    net->m = net->params + 2 * np;
    net->v = net->params + 3 * np;

    // rows: cap for the forward buffers, minibatch for the gradients; rows per conv gemm
    const int mb = c->minibatch;
    const size_t fwd = (size_t)net->d + net->a1 + 3 * (size_t)net->aq + net->a2 + 3 * (size_t)net->flat + Dn +
                       2 * (size_t)K;
    net->cap = clamp_rows(CNN_FORWARD_FLOATS / fwd, be->host_memory ? CNN_CAP : CNN_DEVICE_CAP);
    if (net->cap < mb) net->cap = mb;
    const size_t per1 = conv2d_work_floats(1, c->c, c->h, c->w, F, k);
    const size_t per2 = conv2d_work_floats(1, F, net->ih2, net->iw2, F2, k);
    const size_t work = be->host_memory ? CNN_WORK_FLOATS : CNN_DEVICE_WORK_FLOATS;
    net->g1 = clamp_rows(work / per1, net->cap);
    net->g2 = clamp_rows(work / per2, net->cap);
    const size_t work1 = (size_t)net->g1 * per1, work2 = (size_t)net->g2 * per2;

    const size_t cap = (size_t)net->cap, m = (size_t)mb;
    const size_t sizes[] = {
        cap * net->d, cap * net->a1, cap * net->a2, cap * net->flat, cap * net->flat,
        cap * net->flat, cap * Dn, cap * K, cap * K,                                  // forward
        m, m * K, m * Dn, m * net->flat, m * net->a2, m * net->a1,                    // backward
        work1 > work2 ? work1 : work2,
        cap * net->aq, cap * net->aq, cap * net->aq, m * net->aq,                     // two pools
    };
    enum { N_BUFS = sizeof sizes / sizeof sizes[0] };
    size_t total = 0;
    for (int i = 0; i < N_BUFS; i++) total += pad16(sizes[i]);
    net->scratch = be->alloc(total * sizeof(float));
    if (!net->scratch) {
        snprintf(err, errlen, "--model cnn: out of memory for %.1f MB of activations (%d rows)",
                 4.0 * total / 1e6, net->cap);
        cnn_free(net);
        return ALSIM_RUNTIME;
    }
    float *at[N_BUFS], *p = net->scratch;
    for (int i = 0; i < N_BUFS; i++) {
        at[i] = p;
        p += pad16(sizes[i]);
    }
    net->x = at[0];
    net->conv1 = at[1];
    net->conv2 = at[2];
    net->pooled = at[3];
    net->argmax = (int32_t *)at[4];     // cppcheck-suppress invalidPointerCast ; int32 fits a float's slot
    net->dropped = at[5];
    net->hidden = at[6];
    net->logits = at[7];
    net->probs = at[8];
    net->targets = (int32_t *)at[9];    // cppcheck-suppress invalidPointerCast
    net->dlogits = at[10];
    net->dhidden = at[11];
    net->ddropped = at[12];
    net->dconv2 = at[13];
    net->dconv1 = at[14];
    net->work = at[15];
    net->q1 = at[16];
    net->argmax1 = (int32_t *)at[17];   // cppcheck-suppress invalidPointerCast
    net->q1_dropped = at[18];
    net->dq1 = at[19];

    // host staging: a minibatch's rows (m,D), labels (m), logits (m,K); >= n_params floats
    size_t host = m * net->d + m + m * K;
    if (host < n) host = n;
    net->host = malloc(host * sizeof(float));
    if (!net->host) {
        snprintf(err, errlen, "--model cnn: out of host memory for %.1f MB of staging", 4.0 * host / 1e6);
        cnn_free(net);
        return ALSIM_RUNTIME;
    }
    net->host_y = (int32_t *)(net->host + m * net->d);    // cppcheck-suppress invalidPointerCast
    net->host_logits = net->host + m * net->d + m;
    return 0;
}

void cnn_free(Cnn *net) {
    if (net->be) {
        net->be->free(net->params);     // grads, m, v point into it
        net->be->free(net->scratch);    // every activation and gradient buffer points into it
    }
    free(net->host);
    free(net->init_weights);
    *net = (Cnn){0};
}

/* Parameters from host w (n_params); gradients, Adam state and adam_t zeroed. */
static void reset_to(Cnn *net, const float *w) {
    const size_t bytes = net->n_params * sizeof(float);
    net->be->upload(net->params, w, bytes);
    net->be->zero(net->grads, bytes);
    net->be->zero(net->m, bytes);
    net->be->zero(net->v, bytes);
    net->adam_t = 0;
}

void cnn_reset(Cnn *net, uint64_t seed) {
    if (net->init_weights && net->init_seed == seed) {
        reset_to(net, net->init_weights);
        return;
    }
    const CnnConfig *c = &net->c;
    const int F = c->filters, kk = c->kernel * c->kernel;
    // each weight block with its fan-in, in the parameter layout's order
    const struct { size_t off, count; double fan_in; } layers[4] = {
        {net->w1_off, (size_t)F * c->c * kk, (double)c->c * kk},
        {net->w2_off, (size_t)net->f2 * F * kk, (double)F * kk},
        {net->w3_off, (size_t)c->dense * net->flat, (double)net->flat},
        {net->w4_off, (size_t)c->k * c->dense, (double)c->dense},
    };
    float *w = net->host;       // (n_params)
    memset(w, 0, net->n_params * sizeof(float));    // the biases
    Rng r = rng_stream(seed, RNG_MODEL_INIT, 0);
    for (int l = 0; l < 4; l++) {
        const double sd = sqrt(2.0 / layers[l].fan_in);
        for (size_t i = 0; i < layers[l].count; i++) w[layers[l].off + i] = (float)(sd * rng_normal(&r));
    }
    if (!net->init_weights) net->init_weights = malloc(net->n_params * sizeof(float));
    if (net->init_weights) {    // NULL: no copy, draw each time
        memcpy(net->init_weights, w, net->n_params * sizeof(float));
        net->init_seed = seed;
    }
    reset_to(net, w);
}

// ----------------------------------------------------------------------------
// forward and backward over the scratch buffers

/* The trunk of n <= cap rows at in (n,D), everything before the first dropout: conv, ReLU,
 * then conv, ReLU, max-pool into pooled (n,Fl), or (conv-pool-conv-pool) max-pool into q1
 * (n,Aq); the argmax kept. */
static void trunk_forward(Cnn *net, const float *in, int n) {
    const Backend *be = net->be;
    const CnnConfig *c = &net->c;
    const int F = c->filters, k = c->kernel;
    be->conv2d_forward(net->conv1, net->work, in, net->params + net->w1_off, net->params + net->b1_off,
                       n, c->c, c->h, c->w, F, k, net->g1);
    be->relu_forward(net->conv1, net->conv1, (size_t)n * net->a1);
    if (c->layout == CNN_CONV_POOL_CONV_POOL) {
        be->maxpool_forward(net->q1, net->argmax1, net->conv1, n, F, net->h1, net->w1, c->pool);
        return;
    }
    be->conv2d_forward(net->conv2, net->work, net->conv1, net->params + net->w2_off,
                       net->params + net->b2_off, n, F, net->h1, net->w1, net->f2, k, net->g2);
    be->relu_forward(net->conv2, net->conv2, (size_t)n * net->a2);
    be->maxpool_forward(net->pooled, net->argmax, net->conv2, n, net->f2, net->h2, net->w2, c->pool);
}

/* The head on the trunk output of n rows: (conv-pool-conv-pool: channel dropout of q1 into
 * q1_dropped (layer key 0), conv, ReLU, max-pool into pooled), then dense, ReLU, dense,
 * softmax, leaving hidden (n,Dn), logits and probs (n,K). With dropout_on, pooled is dropped
 * out into dropped (layer key 0, or channel dropout with layer key 2) and the dense layer's
 * output in place (layer key 1), row ids row0..; the trunk's output itself is left as it is. */
static void head_forward(Cnn *net, int n, int dropout_on, uint64_t key, int64_t row0) {
    const Backend *be = net->be;
    const CnnConfig *c = &net->c;
    const int two_pools = c->layout == CNN_CONV_POOL_CONV_POOL;
    if (two_pools) {
        const float *in2 = net->q1;
        if (dropout_on) {
            be->dropout_channels(net->q1_dropped, net->q1, n, c->filters, net->qh * net->qw, c->dropout_conv,
                                 layer_key(key, 0), row0);
            in2 = net->q1_dropped;
        }
        be->conv2d_forward(net->conv2, net->work, in2, net->params + net->w2_off, net->params + net->b2_off,
                           n, c->filters, net->qh, net->qw, net->f2, c->kernel, net->g2);
        be->relu_forward(net->conv2, net->conv2, (size_t)n * net->a2);
        be->maxpool_forward(net->pooled, net->argmax, net->conv2, n, net->f2, net->h2, net->w2, c->pool);
    }
    const float *in = net->pooled;
    if (dropout_on) {
        if (two_pools)
            be->dropout_channels(net->dropped, net->pooled, n, net->f2, net->ph * net->pw, c->dropout_conv,
                                 layer_key(key, 2), row0);
        else
            be->dropout_forward(net->dropped, net->pooled, n, net->flat, c->dropout_conv, layer_key(key, 0), row0);
        in = net->dropped;
    }
    be->matmul_forward(net->hidden, in, net->params + net->w3_off, net->params + net->b3_off, n,
                       net->flat, c->dense);
    be->relu_forward(net->hidden, net->hidden, (size_t)n * c->dense);
    if (dropout_on)
        be->dropout_forward(net->hidden, net->hidden, n, c->dense, c->dropout_dense, layer_key(key, 1), row0);
    be->matmul_forward(net->logits, net->hidden, net->params + net->w4_off, net->params + net->b4_off, n,
                       c->dense, c->k);
    be->softmax_forward(net->probs, net->logits, n, c->k);
}

/* Gradients of the mean cross-entropy of the last training forward (n <= minibatch rows of x,
 * targets, dropout keyed by key with row ids 0..n-1) into net->grads. */
static void backward(Cnn *net, int n, uint64_t key) {
    const Backend *be = net->be;
    const CnnConfig *c = &net->c;
    const int F = c->filters, F2 = net->f2, k = c->kernel, Dn = c->dense;
    const int two_pools = c->layout == CNN_CONV_POOL_CONV_POOL;
    float *g = net->grads;
    be->crossentropy_backward(net->dlogits, net->probs, net->targets, n, c->k);
    be->matmul_backward(net->dhidden, g + net->w4_off, g + net->b4_off, net->dlogits, net->hidden,
                        net->params + net->w4_off, n, Dn, c->k);
    be->dropout_backward(net->dhidden, net->dhidden, n, Dn, c->dropout_dense, layer_key(key, 1), 0);
    be->relu_backward(net->dhidden, net->dhidden, net->hidden, (size_t)n * Dn);
    be->matmul_backward(net->ddropped, g + net->w3_off, g + net->b3_off, net->dhidden, net->dropped,
                        net->params + net->w3_off, n, net->flat, Dn);
    if (two_pools)
        be->dropout_channels(net->ddropped, net->ddropped, n, F2, net->ph * net->pw, c->dropout_conv,
                             layer_key(key, 2), 0);
    else
        be->dropout_backward(net->ddropped, net->ddropped, n, net->flat, c->dropout_conv, layer_key(key, 0), 0);
    be->maxpool_backward(net->dconv2, net->ddropped, net->argmax, n, F2, net->h2, net->w2, c->pool);
    be->relu_backward(net->dconv2, net->dconv2, net->conv2, (size_t)n * net->a2);
    if (two_pools) {
        be->conv2d_backward(net->dq1, g + net->w2_off, g + net->b2_off, net->work, net->dconv2, net->q1_dropped,
                            net->params + net->w2_off, n, F, net->qh, net->qw, F2, k, net->g2);
        be->dropout_channels(net->dq1, net->dq1, n, F, net->qh * net->qw, c->dropout_conv, layer_key(key, 0), 0);
        be->maxpool_backward(net->dconv1, net->dq1, net->argmax1, n, F, net->h1, net->w1, c->pool);
    } else {
        be->conv2d_backward(net->dconv1, g + net->w2_off, g + net->b2_off, net->work, net->dconv2, net->conv1,
                            net->params + net->w2_off, n, F, net->h1, net->w1, F2, k, net->g2);
    }
    be->relu_backward(net->dconv1, net->dconv1, net->conv1, (size_t)n * net->a1);
    be->conv2d_backward(NULL, g + net->w1_off, g + net->b1_off, net->work, net->dconv1, net->x,
                        net->params + net->w1_off, n, c->c, c->h, c->w, F, k, net->g1);
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
        sum += maxv + log(s) - z[y[i]];     // cppcheck-suppress invalidFunctionArg
    }
    return sum;
}

/* One training pass on the n rows staged in x and targets (labels y on the host): forward
 * with dropout keyed by key, backward into grads. Returns the summed loss when want_loss (a
 * download of the logits), else 0. */
static double train_pass(Cnn *net, const int32_t *y, int n, uint64_t key, int want_loss) {
    trunk_forward(net, net->x, n);
    head_forward(net, n, 1, key, 0);
    double loss = 0.0;
    if (want_loss) {
        net->be->download(net->host_logits, net->logits, (size_t)n * net->c.k * sizeof(float));
        loss = crossentropy_sum(net->host_logits, y, n, net->c.k);
    }
    backward(net, n, key);
    return loss;
}

/* The dense layer's L2 penalty of a fit on n rows, (c.l2_per_label / n)·||W3||²: its gradient
 * added to grads; nothing when c.l2_per_label is 0. */
static void add_dense_l2(Cnn *net, int n) {
    if (net->c.l2_per_label > 0.0f)
        learner_add_l2_grad(net->be, net->grads + net->w3_off, net->params + net->w3_off,
                            (size_t)net->c.dense * net->flat, (double)net->c.l2_per_label / n);
}

// ----------------------------------------------------------------------------

double cnn_fit(Cnn *net, const LearnerInput *X, const int32_t *y, int steps, uint64_t seed, int round) {
    const int n = X->n;
    if (steps <= 0 || n <= 0) return 0.0;
    const Backend *be = net->be;
    const CnnConfig *c = &net->c;
    const size_t D = (size_t)net->d;
    const int m = c->minibatch < n ? c->minibatch : n;           // rows per step
    const int steps_per_epoch = (n + c->minibatch - 1) / c->minibatch;
    const int loss_steps = steps < steps_per_epoch ? steps : steps_per_epoch;

    // batch (m): this step's rows, from reshuffled epochs of the n rows (as learner_fit)
    int *batch = malloc((size_t)m * sizeof(int));
    RngEpochs ep;
    if (!batch || rng_epochs_open(&ep, n, seed, round)) {
        free(batch);
        return NAN;
    }

    double loss_sum = 0.0;
    for (int s = 0; s < steps; s++) {
        rng_epochs_next(batch, &ep, m);
        for (int i = 0; i < m; i++) {
            net->host_y[i] = y[batch[i]];
            memcpy(net->host + i * D, X->x + (size_t)batch[i] * D, D * sizeof(float));
        }
        be->upload(net->x, net->host, (size_t)m * D * sizeof(float));
        be->upload(net->targets, net->host_y, (size_t)m * sizeof(int32_t));
        const uint64_t key = rng_key(seed, RNG_DROPOUT, (uint64_t)round, (uint64_t)s);
        loss_sum += train_pass(net, net->host_y, m, key, s >= steps - loss_steps);
        add_dense_l2(net, n);
        net->adam_t++;
        be->adam_update(net->params, net->grads, net->m, net->v, net->n_params, c->lr, c->beta1,
                        c->beta2, c->eps, c->weight_decay, net->adam_t);
    }
    free(batch);
    rng_epochs_close(&ep);
    return loss_sum / ((double)loss_steps * m);
}

/* Where the trunk reads rows off..off+n-1 of X: in place when the backend's buffers are host
 * memory (the CPU), else uploaded into x. */
static const float *chunk_input(Cnn *net, const LearnerInput *X, int off, int n) {
    const float *rows = X->x + (size_t)off * net->d;
    if (net->be->host_memory) return rows;
    net->be->upload(net->x, rows, (size_t)n * net->d * sizeof(float));
    return net->x;
}

void cnn_predict(float *probs, float *mc, float *emb, Cnn *net, const LearnerInput *X, int T,
                 uint64_t seed, int round, int64_t row0) {
    const Backend *be = net->be;
    const int n = X->n, K = net->c.k, Dn = net->c.dense;
    const int want_mc = T > 0 && mc;
    // MC samples differ from probs only when a dropout is on
    const int stochastic = net->c.dropout_conv > 0.0f || net->c.dropout_dense > 0.0f;
    for (int off = 0; off < n; off += net->cap) {
        const int cn = n - off < net->cap ? n - off : net->cap;     // rows in this chunk
        // the trunk sits before the first dropout: once per chunk, into pooled
        trunk_forward(net, chunk_input(net, X, off, cn), cn);
        // dropout off: probs, the embeddings, and every sample when no dropout is on
        if (probs || emb || (want_mc && !stochastic)) {
            head_forward(net, cn, 0, 0, 0);
            if (probs) be->download(probs + (size_t)off * K, net->probs, (size_t)cn * K * sizeof(float));
            if (emb) be->download(emb + (size_t)off * Dn, net->hidden, (size_t)cn * Dn * sizeof(float));
        }
        // T samples: only the head, each from the same pooled
        for (int t = 0; want_mc && t < T; t++) {
            if (stochastic)
                head_forward(net, cn, 1, rng_key(seed, RNG_MC, (uint64_t)round, (uint64_t)t), row0 + off);
            be->download(mc + ((size_t)t * n + off) * K, net->probs, (size_t)cn * K * sizeof(float));
        }
    }
}

void cnn_forward(float *probs, Cnn *net, const LearnerInput *X, int dropout_on, uint64_t key,
                 int64_t row0) {
    const int n = X->n;
    if (n < 1 || n > net->cap) return;
    net->be->upload(net->x, X->x, (size_t)n * net->d * sizeof(float));
    trunk_forward(net, net->x, n);
    head_forward(net, n, dropout_on, key, row0);
    net->be->download(probs, net->probs, (size_t)n * net->c.k * sizeof(float));
}

double cnn_loss_grad(Cnn *net, const LearnerInput *X, const int32_t *y, uint64_t key) {
    const int n = X->n;
    if (n < 1 || n > net->c.minibatch) return NAN;
    net->be->upload(net->x, X->x, (size_t)n * net->d * sizeof(float));
    net->be->upload(net->targets, y, (size_t)n * sizeof(int32_t));
    double loss = train_pass(net, y, n, key, 1) / n;
    if (net->c.l2_per_label > 0.0f) {   // the penalty's value and gradient
        loss += (double)net->c.l2_per_label / n *
                learner_l2_value(net->be, net->params + net->w3_off, (size_t)net->c.dense * net->flat);
        add_dense_l2(net, n);
    }
    return loss;
}

void cnn_get_params(float *out, const Cnn *net) {
    net->be->download(out, net->params, net->n_params * sizeof(float));
}

void cnn_set_params(Cnn *net, const float *in) {
    net->be->upload(net->params, in, net->n_params * sizeof(float));
}

void cnn_get_grads(float *out, const Cnn *net) {
    net->be->download(out, net->grads, net->n_params * sizeof(float));
}

void cnn_get_adam(float *m, float *v, int *adam_t, const Cnn *net) {
    net->be->download(m, net->m, net->n_params * sizeof(float));
    net->be->download(v, net->v, net->n_params * sizeof(float));
    *adam_t = net->adam_t;
}

void cnn_set_adam(Cnn *net, const float *m, const float *v, int adam_t) {
    net->be->upload(net->m, m, net->n_params * sizeof(float));
    net->be->upload(net->v, v, net->n_params * sizeof(float));
    net->adam_t = adam_t;
}

/* MACs of the first convolution, and of the whole forward pass, per row. */
static double conv1_macs(const CnnConfig *c) {
    const int k = c->kernel;
    return (double)(c->h - k + 1) * (c->w - k + 1) * c->filters * c->c * k * k;
}

double cnn_macs_per_row(const CnnConfig *c) {
    Cnn d = {0};
    cnn_dims(&d, c);
    const int k = c->kernel, F2 = c->filters2 ? c->filters2 : c->filters;
    const double flat = (double)F2 * d.ph * d.pw;
    return conv1_macs(c) + (double)d.h2 * d.w2 * F2 * c->filters * k * k + flat * c->dense + (double)c->dense * c->k;
}

double cnn_train_flops_per_row(const CnnConfig *c) {
    return 6.0 * cnn_macs_per_row(c) - 2.0 * conv1_macs(c);
}

// ----------------------------------------------------------------------------
// --model cnn: the options of the run (Config) → CnnConfig, the model's table

static Cnn *net_of(const Model *m) { return m->impl; }

static int cnn_create(Model *m, const Config *c, const Dataset *pool, const Backend *be, char *err,
                      size_t errlen) {
    if (!pool->x || pool->image.c < 1) {
        snprintf(err, errlen, "--model cnn needs images: %s has %d features and no image shape (IDX images, or npy "
                 "X of shape (n, H, W) or (n, C, H, W), have one)", pool->name, pool->d);
        return ALSIM_BAD_INPUT;
    }
    const CnnConfig cc = {
        .c = pool->image.c, .h = pool->image.h, .w = pool->image.w, .k = pool->k,
        .layout = strcmp(c->cnn_layout, "conv-pool-conv-pool") ? CNN_CONV_CONV_POOL : CNN_CONV_POOL_CONV_POOL,
        .filters = c->conv_filters, .filters2 = c->conv2_filters, .kernel = c->kernel, .pool = c->maxpool,
        .dense = c->dense,
        .dropout_conv = (float)c->dropout_conv, .dropout_dense = (float)c->dropout_dense,
        .lr = (float)c->lr, .weight_decay = (float)c->weight_decay,
        .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .minibatch = c->minibatch,
        .l2_per_label = (float)c->l2_per_label,
    };
    Cnn *net = calloc(1, sizeof *net);
    if (!net) { snprintf(err, errlen, "out of memory for the model"); return ALSIM_RUNTIME; }
    int rc = cnn_init(net, &cc, be, err, errlen);
    if (rc) { free(net); return rc; }
    m->impl = net;
    m->k = cc.k;
    m->emb_width = cc.dense;        /* the dense layer's output: what rl's features compare */
    m->minibatch = cc.minibatch;
    m->macs_per_row = cnn_macs_per_row(&cc);
    m->train_flops_per_row = cnn_train_flops_per_row(&cc);
    return 0;
}

static void cnn_destroy(Model *m) {
    if (m->impl) cnn_free(net_of(m));
    free(m->impl);
}

static void cnn_model_reset(Model *m, uint64_t seed) { cnn_reset(net_of(m), seed); }

/* Runs its whole budget: spent stays as the engine filled it in. */
static double cnn_model_fit(Model *m, Spent *spent, const LearnerInput *X, const int32_t *y, int steps,
                            uint64_t seed, int round) {
    return cnn_fit(net_of(m), X, y, steps, seed, round);
}

static int cnn_model_predict(Model *m, float *probs, float *mc, float *emb, const LearnerInput *X, int T,
                             uint64_t seed, int round, int64_t row0) {
    cnn_predict(probs, mc, emb, net_of(m), X, T, seed, round, row0);
    return 0;
}

/* State: params | Adam m | Adam v (n_params floats each) | adam_t. */
static size_t cnn_state_size(const Model *m) {
    return 3 * net_of(m)->n_params * sizeof(float) + sizeof(int);
}

static void cnn_save(const Model *m, void *state) {
    const Cnn *net = net_of(m);
    float *p = state;
    int t;
    cnn_get_params(p, net);
    cnn_get_adam(p + net->n_params, p + 2 * net->n_params, &t, net);
    memcpy(p + 3 * net->n_params, &t, sizeof t);
}

static void cnn_restore(Model *m, const void *state) {
    Cnn *net = net_of(m);
    const float *p = state;
    int t;
    memcpy(&t, p + 3 * net->n_params, sizeof t);
    cnn_set_params(net, p);
    cnn_set_adam(net, p + net->n_params, p + 2 * net->n_params, t);
}

const ModelOps model_cnn = {
    "cnn", "convolutional net for images: conv, conv, max-pool, dropout, dense, dropout, or conv, max-pool, channel "
    "dropout twice, dense, dropout (--cnn-layout, --conv-filters, --conv2-filters, --kernel, --maxpool, --dense, "
    "--dropout-conv, --dropout-dense), AdamW",
    cnn_create, NULL, cnn_destroy, cnn_model_reset, cnn_model_fit, cnn_model_predict, NULL,
    cnn_state_size, cnn_save, cnn_restore,
};
