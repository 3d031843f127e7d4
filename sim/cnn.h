/* cnn — the convolutional classifier for image rows (--model cnn), in one of two layouts:
 *
 * conv-conv-pool, the model of Gal, Islam & Ghahramani 2017 ("Deep Bayesian Active Learning
 * with Image Data"), the default:
 *   image (C,H,W) → conv F1 k×k → ReLU → conv F2 k×k → ReLU → max-pool s×s → dropout p1
 *                 → dense Dn → ReLU → dropout p2 → dense K → softmax
 * conv-pool-conv-pool, the MNIST model of Kirsch, van Amersfoort & Gal 2019 (BatchBALD):
 *   image (C,H,W) → conv F1 k×k → ReLU → max-pool s×s → channel dropout p1
 *                 → conv F2 k×k → ReLU → max-pool s×s → channel dropout p1
 *                 → dense Dn → ReLU → dropout p2 → dense K → softmax
 * (their code orders each block conv, Dropout2d, max-pool, ReLU, and the dense layer's dropout
 * before its ReLU; a channel's scale s >= 0 commutes with max-pooling and ReLU, so the two
 * orders compute the same function).
 *
 * Convolutions are valid (no padding) with stride 1: (C,H,W) → (F1,H1,W1), H1 = H-k+1; the
 * second reads (F1,H1,W1), or after the first pooling (F1,Q_H,Q_W), Q_H = H1/s, and gives
 * (F2,H2,W2), H2 = H1-k+1 or Q_H-k+1; the last max-pooling (s×s windows, stride s) gives
 * (F2,P_H,P_W), P_H = H2/s, flattened to Fl = F2·P_H·P_W features. Mean cross-entropy loss,
 * AdamW, as the MLP (learner.h). The defaults (F1 = F2 = 32, k 4, s 2, Dn 128, p1 0.25,
 * p2 0.5) are Gal et al.'s text; Kirsch et al.'s: F1 32, F2 64, k 5, s 2, Dn 128, p1 = p2 = 0.5.
 *
 * Layouts: rows are NCHW images (the Dataset's image rows, datasets/dataset.h); all parameters
 * live in one backend buffer, layer by layer: conv W1 (F1,C,k,k), b1 (F1), conv W2
 * (F2,F1,k,k), b2 (F2), dense W3 (Dn,Fl), b3 (Dn), dense W4 (K,Dn), b4 (K). Gradients and
 * Adam m, v mirror it.
 *
 * Randomness is a pure function of (seed, round, row), as the MLP's: He-normal weights from
 * rng_stream(seed, RNG_MODEL_INIT, round) in the layout's order, zero biases; minibatch order
 * from RNG_MINIBATCH (seed, round); a pass (training step s, or MC sample t) has one key,
 * rng_key(seed, RNG_DROPOUT, round, s) or rng_key(seed, RNG_MC, round, t), and its
 * dropouts use the layer keys rng_hash(key, l, 0): l = 0 after the (first) pooling, 1 after
 * the dense layer, 2 after the second pooling (conv-pool-conv-pool), with row ids 0..m-1 in a
 * minibatch and pool row ids when predicting. Channel dropout keeps or drops channel c whole,
 * with unit c's mask (Backend.dropout_channels).
 *
 * MC dropout: everything before the first dropout (the "trunk": both convolutions and the
 * pooling, or with conv-pool-conv-pool the first block only) is deterministic, so cnn_predict
 * computes it once per chunk of rows and only the rest (the head) T times.
 */
#ifndef ALSIM_CNN_H
#define ALSIM_CNN_H

#include <stddef.h>
#include <stdint.h>

#include "sim/backend.h"
#include "sim/learner.h"    /* LearnerInput: the rows a model reads */

#define CNN_CAP 256             /* rows of scratch on the CPU: predict works in chunks of this */
#define CNN_DEVICE_CAP 2048     /* ... on a device (a GPU): fewer, larger kernel launches */

typedef enum {
    CNN_CONV_CONV_POOL = 0,         /* Gal et al. 2017 */
    CNN_CONV_POOL_CONV_POOL = 1,    /* Kirsch et al. 2019 */
} CnnLayout;

typedef struct {
    int c, h, w;                /* input images: C channels of H×W pixels, D = C·H·W */
    int k;                      /* classes K */
    CnnLayout layout;
    int filters;                /* F1: kernels of the first convolution */
    int filters2;               /* F2: kernels of the second; 0 = F1 */
    int kernel;                 /* k: their size, k×k */
    int pool;                   /* s: max-pooling windows s×s, stride s */
    int dense;                  /* Dn: units of the dense hidden layer */
    float dropout_conv;         /* p1: drop probability after the (each) pooling, [0,1) */
    float dropout_dense;        /* p2: drop probability after the dense layer, [0,1) */
    float lr, weight_decay;     /* AdamW */
    float beta1, beta2, eps;
    int minibatch;              /* rows per optimizer step (fewer if fewer labeled) */
    float l2_per_label;         /* c >= 0: a fit on n rows adds the L2 penalty (c/n)·||W3||² on
                                   the dense layer (the paper's weight decay, Keras l2(c/n)) */
} CnnConfig;

typedef struct {
    CnnConfig c;
    const Backend *be;
    int d;                      /* D = C·H·W */
    int f2;                     /* F2 (c.filters2, or F1 when 0) */
    int h1, w1, qh, qw, h2, w2, ph, pw; /* the convolutions' outputs, the poolings' (Q: the first
                                   pooling's, conv-pool-conv-pool; 0 otherwise) */
    int ih2, iw2;               /* the second convolution's input: H1×W1 or Q_H×Q_W */
    int a1, aq, a2, flat;       /* per row: F1·H1·W1, F1·Q_H·Q_W, F2·H2·W2, Fl = F2·P_H·P_W */
    size_t w1_off, b1_off, w2_off, b2_off, w3_off, b3_off, w4_off, b4_off, n_params;
    float *params, *grads, *m, *v;  /* backend buffers, (n_params) each, one allocation at params */
    int adam_t;                 /* Adam steps taken since the last reset */
    int cap;                    /* rows of the forward buffers: max(CNN_CAP or as many as fit
                                   2^27 floats, minibatch) */
    int g1, g2;                 /* rows per gemm of each convolution (conv2d_forward's G) */
    /* Backend scratch, one allocation at `scratch`: forward buffers for cap rows, gradient
     * buffers for minibatch rows, the convolutions' work. */
    float *scratch;
    float *x;                   /* (cap,D) input rows (unused on a host-memory backend when
                                   predicting: the rows are read in place) */
    float *conv1, *conv2;       /* (cap,A1), (cap,A2) after ReLU */
    float *q1, *q1_dropped;     /* (cap,Aq) the first pooling, after its channel dropout */
    int32_t *argmax1;           /* (cap,Aq) the first pooling's argmax */
    float *pooled;              /* (cap,Fl) the trunk's output */
    int32_t *argmax;            /* (cap,Fl) the pooling's argmax */
    float *dropped;             /* (cap,Fl) pooled after dropout p1 (the dense layer's input) */
    float *hidden;              /* (cap,Dn) after ReLU and dropout p2 */
    float *logits, *probs;      /* (cap,K) */
    int32_t *targets;           /* (minibatch) */
    float *dlogits, *dhidden, *ddropped, *dconv2, *dq1, *dconv1;  /* gradients, (minibatch, ...) */
    float *work;                /* conv2d_work_floats for g1 rows of the first convolution
                                   or g2 of the second, whichever is larger */
    /* Host staging, one allocation: a minibatch's rows (minibatch,D), its labels and logits;
     * at least n_params floats (cnn_reset builds the weights in it). */
    float *host;
    int32_t *host_y;
    float *host_logits;
    float *init_weights;        /* (n_params) the weights of the last reset, NULL until then */
    uint64_t init_seed;
} Cnn;

/* Checks c and allocates a CNN on be (weights not drawn yet: cnn_reset). Returns 0, or 2
 * (a setting it refuses: images too small for the kernels and the pooling, a width beyond
 * the dropout masks' 2^22 units) or 3 (out of memory), with a one-line reason in err. */
int cnn_init(Cnn *net, const CnnConfig *c, const Backend *be, char *err, size_t errlen);

/* Frees everything; accepts a zeroed struct; leaves net zeroed. */
void cnn_free(Cnn *net);

/* Fresh weights for seed (He-normal, zero biases; see above), Adam state and adam_t zeroed.
 * Resetting to the same seed again copies the weights it drew. */
void cnn_reset(Cnn *net, uint64_t seed);

/* `steps` AdamW steps on the labeled rows X (n = X->n, dense, X->d == D), y (n), as
 * learner_fit: minibatches of min(minibatch, n) rows from successive epoch permutations
 * (RNG_MINIBATCH (seed, round)), wrapping, so exactly steps·min(minibatch, n) rows are seen;
 * step s's dropout keyed rng_key(seed, RNG_DROPOUT, round, s). Returns the mean training loss
 * over the last min(steps, ceil(n/minibatch)) steps (cross-entropy with the training dropout
 * masks, in double from the logits), NaN/Inf when training diverged or the host order array
 * cannot be allocated; 0 when steps <= 0 or n <= 0 (nothing done). */
double cnn_fit(Cnn *net, const LearnerInput *X, const int32_t *y /*(n)*/, int steps, uint64_t seed,
               int round);

/* Predicts rows X (any n, dense) whose pool row ids are row0..row0+n-1, in chunks of net->cap
 * rows: probs (n,K) dropout off; mc (T,n,K) T MC-dropout samples, sample t keyed
 * rng_key(seed, RNG_MC, round, t) and the pool row id (every row
 * the masks of row 0 when row0 = RNG_ROWS_SHARED: consistent MC dropout); emb (n,Dn) the dense layer's output
 * after ReLU, dropout off. Each may be NULL. The trunk runs once per chunk, the head once with
 * dropout off (when probs or emb are asked for, or every sample equals it: both dropouts 0)
 * and T times with MC dropout. Bitwise reproducible for the same call; split differently the
 * values agree to fp32 rounding (a gemm over other rows may round a row differently). */
void cnn_predict(float *probs, float *mc, float *emb, Cnn *net, const LearnerInput *X, int T,
                 uint64_t seed, int round, int64_t row0);

/* For tests: probs (n,K) of rows X (1 <= n <= cap) through the whole network, trunk
 * included, with every dropout keyed by key (row ids row0..) as one MC sample, or dropout off
 * when dropout_on is 0: what cnn_predict's reuse of the trunk must equal. */
void cnn_forward(float *probs, Cnn *net, const LearnerInput *X, int dropout_on, uint64_t key,
                 int64_t row0);

/* For tests: mean cross-entropy of rows X (1 <= n <= minibatch), y (n) with training dropout
 * masks keyed by key (row ids 0..n-1, as a training step), plus with c.l2_per_label the
 * penalty (c/n)·||W3||² of a fit on these n rows, and its gradient left in net->grads. NaN and nothing done for another n. */
double cnn_loss_grad(Cnn *net, const LearnerInput *X, const int32_t *y, uint64_t key);

/* Parameters, gradients (n_params floats, the layout above) and the AdamW state (moments m
 * and v, n_params each, and adam_t) to or from host memory. */
void cnn_get_params(float *out /*(n_params)*/, const Cnn *net);
void cnn_set_params(Cnn *net, const float *in /*(n_params)*/);
void cnn_get_grads(float *out /*(n_params)*/, const Cnn *net);
void cnn_get_adam(float *m /*(n_params)*/, float *v /*(n_params)*/, int *adam_t, const Cnn *net);
void cnn_set_adam(Cnn *net, const float *m /*(n_params)*/, const float *v /*(n_params)*/, int adam_t);

/* Multiply-adds of one forward pass of one row: H1·W1·F1·C·k² + H2·W2·F2·F1·k² + Fl·Dn + Dn·K.
 * c must pass cnn_init's checks. */
double cnn_macs_per_row(const CnnConfig *c);

/* FLOPs of the matmuls (the convolutions' gemms included) cnn_fit runs per row, as the MLP
 * counts them (learner_train_flops_per_row): forward 2·MACs; backward 2·MACs for the weight
 * gradients and 2·MACs for the input gradients, less the first convolution's input gradient
 * (never computed): 6·MACs - 2·H1·W1·F·C·k². What budget.h counts per row seen. */
double cnn_train_flops_per_row(const CnnConfig *c);

#endif
