/* learner — the model a strategy's picks are used to fine-tune: an MLP classifier.
 *
 * Layers: D → H1 → … → Hn → K with ReLU after each hidden layer, inverted dropout after each
 * hidden ReLU, softmax output, mean cross-entropy loss, AdamW. 0 hidden layers is softmax
 * regression. All parameters live in one backend buffer (one allocation), layer by layer:
 * W_l (out,in) then b_l (out). Gradients, Adam m and v mirror it.
 *
 * Everything random is a pure function of (seed, round, ...): weight init from the
 * RNG_MODEL_INIT stream, minibatch order from RNG_MINIBATCH, training dropout masks keyed by
 * RNG_DROPOUT and MC-dropout masks keyed by RNG_MC and the pool row id. So a run is
 * deterministic, and two strategies with the same seed train the same round-0 model.
 *
 * Dropout keys: a pass (a training step, or MC sample t) has one key; the dropout after hidden
 * layer l (0-based) uses the layer key rng_hash(key, l, 0), and within it unit j of a row with
 * id r is kept iff rng_dropout_keep(layer key, r, j, ...). Row ids are the position in the
 * minibatch (0..m-1) while training and the pool row id while predicting.
 *
 * Scoring: layers before the first dropout are deterministic, so learner_predict computes
 * them once per row and only the rest T times.
 */
#ifndef ALSIM_LEARNER_H
#define ALSIM_LEARNER_H

#include <stddef.h>
#include <stdint.h>
#include "sim/backend.h"

#define LEARNER_MAX_HIDDEN 8
#define LEARNER_CAP 1024    /* rows of scratch: predict works in chunks of this many rows */

typedef struct {
    int d, k;                           /* input features D, classes K */
    int n_hidden;                       /* hidden layers; 0 = softmax regression */
    int hidden[LEARNER_MAX_HIDDEN];     /* their widths H1..Hn */
    float dropout;                      /* drop probability after each hidden ReLU, [0,1) */
    float lr, weight_decay;             /* AdamW */
    float beta1, beta2, eps;
    int minibatch;                      /* rows per optimizer step (fewer if fewer labeled) */
} LearnerConfig;

typedef struct {
    LearnerConfig c;
    const Backend *be;
    int n_layers;                       /* n_hidden + 1 */
    int in[LEARNER_MAX_HIDDEN + 1], out[LEARNER_MAX_HIDDEN + 1];  /* layer l: in[l] → out[l] */
    size_t w_off[LEARNER_MAX_HIDDEN + 1], b_off[LEARNER_MAX_HIDDEN + 1];
    size_t n_params;
    float *params, *grads, *m, *v;      /* backend buffers, (n_params) each, in one
                                           allocation that starts at params */
    int adam_t;                         /* Adam steps taken since the last reset */
    /* Scratch, backend buffers sized for `cap` = max(LEARNER_CAP, c.minibatch) rows, all
     * pointing into the one allocation `scratch`. */
    int cap;
    float *scratch;
    float *act[LEARNER_MAX_HIDDEN + 2]; /* act[0] input (cap,D); act[l+1] output of layer l:
                                           for a hidden layer after ReLU and dropout (in place),
                                           for the last layer the logits (cap,K) */
    float *dact[LEARNER_MAX_HIDDEN + 2];/* gradients of act[1..n_layers]; dact[0] is NULL (the
                                           input gradient is never computed). predict uses
                                           dact[1] as the dropped-out copy of act[1]. */
    float *probs;                       /* (cap,K) */
    int32_t *targets;                   /* (cap) */
    float *host_scratch;                /* host staging, one allocation: the gathered minibatch
                                           (cap,D), then host_y, host_logits; at least n_params
                                           floats (learner_reset builds the weights in it) */
    int32_t *host_y;                    /* (cap) */
    float *host_logits;                 /* (cap,K) */
} Learner;

/* Checks c and allocates a learner on be (weights not yet initialised: call learner_reset).
 * Returns 0, or -1 with a one-line reason in err. */
int learner_init(Learner *L, const LearnerConfig *c, const Backend *be, char *err, size_t errlen);

/* Frees everything; accepts a zeroed struct; leaves L zeroed. */
void learner_free(Learner *L);

/* Fresh weights for (seed, round): He-normal weights W_l ~ N(0, 2/in_l) drawn layer by layer in
 * row-major order from rng_stream(seed, RNG_MODEL_INIT, round), zero biases, Adam state and
 * adam_t zeroed. */
void learner_reset(Learner *L, uint64_t seed, int round);

/* Trains `steps` AdamW steps on the labeled rows X (n,D), y (n): each epoch visits the rows in
 * an order drawn from RNG_MINIBATCH (seed, round), minibatch min(c.minibatch, n) rows; the
 * dropout masks of step s (0-based within this call) are keyed rng_key(seed, RNG_DROPOUT,
 * round, s).
 * Minibatches wrap: every step takes exactly m = min(c.minibatch, n) rows from the stream of
 * successive epoch permutations (one permutation is the previous one shuffled again), so the
 * last minibatch of an epoch is completed from the start of the next one. Hence steps and rows
 * seen are exactly `steps` and steps·m, as budget.h counts them.
 * AdamW continues from L->adam_t (learner_reset zeroes it) and decays every parameter,
 * biases included.
 * Returns the mean training loss (cross-entropy with the training dropout masks, computed in
 * double from the logits) over the rows of the last min(steps, ceil(n/minibatch)) steps (one
 * epoch), or NaN/Inf when training diverged. 0 when steps <= 0 or n <= 0 (nothing done); NaN
 * when the host order array (n ints) cannot be allocated. */
double learner_fit(Learner *L, const float *X /*(n,D)*/, const int32_t *y /*(n)*/, int n,
                   int steps, uint64_t seed, int round);

/* Predicts rows X (n,D) whose pool row ids are row0..row0+n-1, any n, in chunks of L->cap rows.
 * probs (n,K): dropout off (the deterministic, weight-scaled prediction); may be NULL.
 * mc (T,n,K): T MC-dropout samples, masks keyed rng_key(seed, RNG_MC, round, t) and the pool
 * row id, so a row's masks do not depend on how the pool is chunked. NULL when T == 0.
 * The values are bitwise reproducible for the same call; split differently (other than at
 * multiples of L->cap) they agree to fp32 rounding only, because a BLAS may round a row
 * differently depending on how many rows one gemm multiplies.
 * With dropout 0, or no hidden layer, all T samples equal probs bit for bit. */
void learner_predict(float *probs, float *mc, Learner *L, const float *X /*(n,D)*/, int n,
                     int T, uint64_t seed, int round, int64_t row0);

/* For tests: mean cross-entropy of rows X (n,D), y (n) with training dropout masks keyed by
 * key (row ids 0..n-1, as in a training step), and its gradient left in L->grads.
 * 1 <= n <= L->cap, else NaN and nothing done. */
double learner_loss_grad(Learner *L, const float *X, const int32_t *y, int n, uint64_t key);

/* Copy parameters or gradients (n_params floats) to or from host memory. */
void learner_get_params(float *out /*(n_params)*/, const Learner *L);
void learner_set_params(Learner *L, const float *in /*(n_params)*/);
void learner_get_grads(float *out /*(n_params)*/, const Learner *L);

/* Multiply-adds of one forward pass of one row (sum over layers of in·out). */
double learner_macs_per_row(const LearnerConfig *c);

#endif
