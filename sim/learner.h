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
 * Scoring: layers before the first dropout are deterministic, so learner_predict computes
 * them once per row and only the rest T times.
 */
#ifndef ALSIM_LEARNER_H
#define ALSIM_LEARNER_H

#include <stddef.h>
#include <stdint.h>
#include "sim/backend.h"

#define LEARNER_MAX_HIDDEN 8

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
    float *params, *grads, *m, *v;      /* backend buffers, (n_params) each */
    int adam_t;                         /* Adam steps taken since the last reset */
    /* Scratch, backend buffers sized for `cap` rows; see learner.c. */
    int cap;
    float *act[LEARNER_MAX_HIDDEN + 2]; /* act[0] input (cap,D); act[l+1] output of layer l */
    float *dact[LEARNER_MAX_HIDDEN + 2];
    float *probs;                       /* (cap,K) */
    int32_t *targets;                   /* (cap) */
    float *host_scratch;                /* host staging */
} Learner;

/* Checks c and allocates a learner on be (weights not yet initialised: call learner_reset).
 * Returns 0, or -1 with a one-line reason in err. */
int learner_init(Learner *L, const LearnerConfig *c, const Backend *be, char *err, size_t errlen);

/* Frees everything; accepts a zeroed struct; leaves L zeroed. */
void learner_free(Learner *L);

/* Fresh weights for (seed, round): He-normal weights, zero biases, Adam state zeroed. */
void learner_reset(Learner *L, uint64_t seed, int round);

/* Trains `steps` AdamW steps on the labeled rows X (n,D), y (n): each epoch visits the rows in
 * an order drawn from RNG_MINIBATCH (seed, round), minibatch min(c.minibatch, n) rows; the
 * dropout masks of step s are keyed rng_key(seed, RNG_DROPOUT, round, s).
 * Returns the mean training loss over the last min(steps, ceil(n/minibatch)) steps (one
 * epoch), or NaN/Inf when training diverged. */
double learner_fit(Learner *L, const float *X /*(n,D)*/, const int32_t *y /*(n)*/, int n,
                   int steps, uint64_t seed, int round);

/* Predicts rows X (n,D) whose pool row ids are row0..row0+n-1.
 * probs (n,K): dropout off (the deterministic, weight-scaled prediction); may be NULL.
 * mc (T,n,K): T MC-dropout samples, masks keyed rng_key(seed, RNG_MC, round, t) and the pool
 * row id, so a row's samples do not depend on how the pool is chunked. NULL when T == 0.
 * With dropout 0 all T samples equal probs. */
void learner_predict(float *probs, float *mc, Learner *L, const float *X /*(n,D)*/, int n,
                     int T, uint64_t seed, int round, int64_t row0);

/* For tests: mean cross-entropy of rows X (n,D), y (n) with training dropout masks keyed by
 * key, and its gradient left in L->grads. n <= L->cap. */
double learner_loss_grad(Learner *L, const float *X, const int32_t *y, int n, uint64_t key);

/* Copy parameters or gradients (n_params floats) to or from host memory. */
void learner_get_params(float *out /*(n_params)*/, const Learner *L);
void learner_set_params(Learner *L, const float *in /*(n_params)*/);
void learner_get_grads(float *out /*(n_params)*/, const Learner *L);

/* Multiply-adds of one forward pass of one row (sum over layers of in·out). */
double learner_macs_per_row(const LearnerConfig *c);

#endif
