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
 * them once per row and only the rest T times; with one hidden layer that rest (dropout, the
 * output layer, softmax) is one backend call for all T samples when the backend fuses it
 * (mc_head_forward: the CPU with AVX-512).
 *
 * Sparse input (c.sparse, e.g. TF-IDF text with D = 2^18): rows arrive as CSR (LearnerInput
 * with x == NULL) and layer 0 is the backend's sparse_matmul, which never densifies a row.
 * Its weight is then stored transposed, W_0ᵀ (D,H1), so that each nonzero touches one
 * contiguous row; learner_reset draws the same numbers in the same order as for dense input,
 * so the same seed gives the same model whichever way the rows are stored.
 */
#ifndef ALSIM_LEARNER_H
#define ALSIM_LEARNER_H

#include <stddef.h>
#include <stdint.h>
#include "sim/backend.h"

#define LEARNER_MAX_HIDDEN 8
#define LEARNER_CAP 1024    /* rows of scratch: predict works in chunks of this many rows */
#define LEARNER_DEVICE_CAP 16384    /* ... on a backend that scores on the device (score_rows,
                                       a GPU): fewer, larger kernel launches per pool pass */

typedef struct {
    int d, k;                           /* input features D, classes K */
    int n_hidden;                       /* hidden layers; 0 = softmax regression */
    int hidden[LEARNER_MAX_HIDDEN];     /* their widths H1..Hn */
    float dropout;                      /* drop probability after each hidden ReLU, [0,1) */
    float lr, weight_decay;             /* AdamW */
    float l2_per_label;                 /* c >= 0: a fit on n rows adds the L2 penalty
                                           (c/n)·||W_0||² of the first layer's weights to
                                           its loss (learner_fit); 0: none */
    float beta1, beta2, eps;
    int minibatch;                      /* rows per optimizer step (fewer if fewer labeled) */
    int sparse;                         /* 1: input rows are CSR, layer 0 stored (D,H1) */
    double mean_nnz;                    /* sparse only: mean nonzeros per input row, for the
                                           FLOP count (learner_macs_per_row); 0 otherwise */
} LearnerConfig;

/* The rows a learner reads: n rows of d features, dense (x != NULL) or CSR (x == NULL).
 * indptr holds absolute positions into indices/values, so rows off..off+m-1 of a CSR matrix
 * are {indptr + off, indices, values, m} with the same indices and values pointers. */
typedef struct {
    const float *x;                     /* (n,d) row-major, or NULL for CSR */
    const int64_t *indptr;              /* (n+1) row i: positions indptr[i] .. indptr[i+1]-1 */
    const int32_t *indices;             /* columns in 0..d-1, strictly ascending within a row */
    const float *values;
    int n, d;
} LearnerInput;

/* Rows off..off+m-1 of in (0 <= off, off + m <= in->n). */
LearnerInput learner_input_rows(const LearnerInput *in, int off, int m);

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
    /* Scratch, backend buffers sized for `cap` = max(LEARNER_CAP, c.minibatch) rows
     * (LEARNER_DEVICE_CAP instead of LEARNER_CAP when be->score_rows), all pointing into the
     * one allocation `scratch`. */
    int cap;
    float *scratch;
    float *act[LEARNER_MAX_HIDDEN + 2]; /* act[0] input (cap,D), NULL when sparse; act[l+1]
                                           output of layer l:
                                           for a hidden layer after ReLU and dropout (in place),
                                           for the last layer the logits (cap,K) */
    float *dact[LEARNER_MAX_HIDDEN + 2];/* gradients of act[1..n_layers]; dact[0] is NULL (the
                                           input gradient is never computed). predict uses
                                           dact[1] as the dropped-out copy of act[1]. */
    float *probs;                       /* (cap,K) */
    int32_t *targets;                   /* (cap) */
    float *host_scratch;                /* host staging, one allocation: the gathered minibatch
                                           (cap,D) (none when sparse), then host_y,
                                           host_logits; at least n_params floats
                                           (learner_reset builds the weights in it) */
    int32_t *host_y;                    /* (cap) */
    float *host_logits;                 /* (cap,K) */
    /* Sparse input: the CSR rows of the current minibatch or predict chunk, indptr rebased to
     * 0. Backend buffers (one allocation at csr_indptr) and host staging (one allocation at
     * host_indptr), grown together when a chunk has more than csr_cap nonzeros. */
    int64_t csr_cap;                    /* nonzeros they hold: starts at cap·64 */
    int64_t *csr_indptr;                /* (cap+1) */
    int32_t *csr_indices;               /* (csr_cap) */
    float *csr_values;                  /* (csr_cap) */
    int64_t *host_indptr;               /* (cap+1) */
    int32_t *host_indices;              /* (csr_cap) */
    float *host_values;                 /* (csr_cap) */
    /* The MC samples of one chunk, (score_t,cap,K), a backend buffer allocated on first use
     * and grown with T: what learner_score reduces, and where the fused MC head writes. */
    float *score_mc;
    int score_t;
    /* The weights of the last learner_reset that drew them (host, n_params), so that a reset
     * to the same (seed, round), as every round of a run does, is a copy: drawing the 16.8M
     * weights of a text learner takes longer than its training round. NULL until then, or
     * when out of memory (then every reset draws). */
    float *init_weights;
    uint64_t init_seed;
    int init_round;
} Learner;

/* Checks c and allocates a learner on be (weights not yet initialised: call learner_reset).
 * Returns 0, or -1 with a one-line reason in err. */
int learner_init(Learner *L, const LearnerConfig *c, const Backend *be, char *err, size_t errlen);

/* Frees everything; accepts a zeroed struct; leaves L zeroed. */
void learner_free(Learner *L);

/* Fresh weights for (seed, round): He-normal weights W_l ~ N(0, 2/in_l) drawn layer by layer in
 * row-major order from rng_stream(seed, RNG_MODEL_INIT, round), zero biases, Adam state and
 * adam_t zeroed. Resetting to the same (seed, round) again copies the weights it drew. */
void learner_reset(Learner *L, uint64_t seed, int round);

/* Trains `steps` AdamW steps on the labeled rows X (n = X->n rows, dense or CSR as
 * L->c.sparse says, X->d == D), y (n): each epoch visits the rows in
 * an order drawn from RNG_MINIBATCH (seed, round), minibatch min(c.minibatch, n) rows; the
 * dropout masks of step s (0-based within this call) are keyed rng_key(seed, RNG_DROPOUT,
 * round, s).
 * Minibatches wrap: every step takes exactly m = min(c.minibatch, n) rows from the stream of
 * successive epoch permutations (one permutation is the previous one shuffled again), so the
 * last minibatch of an epoch is completed from the start of the next one. Hence steps and rows
 * seen are exactly `steps` and steps·m, as budget.h counts them.
 * AdamW continues from L->adam_t (learner_reset zeroes it) and decays every parameter,
 * biases included.
 * With c.l2_per_label = c > 0 each step's gradient also carries that of the L2 penalty
 * λ·||W_0||², λ = c / n (n = X->n, the labeled rows), on the first layer's weights only (no
 * bias, no later layer): learner_add_l2_grad. This is the weight decay of the authors' code
 * of Gal et al. 2017 (Keras l2(c/n) on the first dense layer). The loss returned is the
 * cross-entropy alone.
 * Returns the mean training loss (cross-entropy with the training dropout masks, computed in
 * double from the logits) over the rows of the last min(steps, ceil(n/minibatch)) steps (one
 * epoch), or NaN/Inf when training diverged. 0 when steps <= 0 or n <= 0 (nothing done); NaN
 * when the host order array (n ints) or, for sparse input, room for a minibatch's nonzeros
 * cannot be allocated. */
double learner_fit(Learner *L, const LearnerInput *X, const int32_t *y /*(n)*/,
                   int steps, uint64_t seed, int round);

/* Predicts rows X (n = X->n rows, dense or CSR as L->c.sparse says) whose pool row ids are
 * row0..row0+n-1, any n, in chunks of L->cap rows. Returns 0, or -1 (nothing useful in probs
 * and mc) when the sparse input buffers cannot grow to a chunk's nonzeros (out of memory).
 * probs (n,K): dropout off (the deterministic, weight-scaled prediction); may be NULL.
 * mc (T,n,K): T MC-dropout samples, masks keyed rng_key(seed, RNG_MC, round, t) and the pool
 * row id, so a row's masks do not depend on how the pool is chunked; with row0 =
 * RNG_ROWS_SHARED (sim/rng.h) every row gets row 0's masks: sample t of all rows comes from
 * one network (consistent MC dropout, what batchbald asks for). NULL when T == 0.
 * The values are bitwise reproducible for the same call; split differently (other than at
 * multiples of L->cap) they agree to fp32 rounding only, because a BLAS may round a row
 * differently depending on how many rows one gemm multiplies.
 * With dropout 0, or no hidden layer, all T samples equal probs bit for bit. */
int learner_predict(float *probs, float *mc, Learner *L, const LearnerInput *X,
                    int T, uint64_t seed, int round, int64_t row0);

/* learner_predict, and also emb (n, H_last): each row's embedding, the output of the last
 * hidden layer with dropout off (what the RL policy's distance and density features use).
 * Needs a hidden layer; emb may be NULL. */
int learner_predict_embed(float *probs, float *mc, float *emb, Learner *L, const LearnerInput *X,
                          int T, uint64_t seed, int round, int64_t row0);

/* Scores rows X (as learner_predict) on the backend: predicts each chunk of L->cap rows with
 * learner_predict's own loop (the same ops, masks and chunks, so the same probabilities) but
 * leaves the probabilities, or the T MC samples for the MC kinds (reduce_needs_mc), in backend
 * buffers, and reduces them there with be->score_rows(kind): only scores (n) come back, to the
 * host. Pools of any size stream through L->cap rows at a time.
 * Returns 0, or -1 with nothing done when the backend has no score_rows, kind is REDUCE_NONE
 * or unknown, an MC kind has T < 1, or a buffer cannot be allocated: then score on the host
 * (learner_predict and the strategy's function), which is what the CPU backend always does. */
int learner_score(double *scores /*(n)*/, Learner *L, const LearnerInput *X, int kind, int T,
                  uint64_t seed, int round, int64_t row0);

/* For tests: mean cross-entropy of rows X (n = X->n), y (n) with training dropout masks keyed
 * by key (row ids 0..n-1, as in a training step), plus with c.l2_per_label the penalty
 * (c/n)·||W_0||² of a fit on these n rows, and its gradient left in L->grads (what a training
 * step on them follows). 1 <= n <= L->cap, else NaN and nothing done. */
double learner_loss_grad(Learner *L, const LearnerInput *X, const int32_t *y, uint64_t key);

/* The gradient of an L2 penalty λ·||w||² added to a weight's gradient: grad (n) += 2λ·w (n),
 * both buffers of be (be->axpy). learner_fit applies it to the first layer (c.l2_per_label);
 * another model applies it to whichever weights its protocol penalises (a CNN: the dense
 * layer after its convolutions). λ = 0 does nothing. */
void learner_add_l2_grad(const Backend *be, float *grad /*(n)*/, const float *w /*(n)*/,
                         size_t n, double lambda);

/* ||w||² of a weight w (n) in a buffer of be, summed in double on a host copy (for the tests'
 * loss values, not the training loop). NaN when out of memory. */
double learner_l2_value(const Backend *be, const float *w /*(n)*/, size_t n);

/* Copy parameters or gradients (n_params floats) to or from host memory, in the layout of
 * learner.h (W_0 transposed, (D,H1), for a sparse learner). */
void learner_get_params(float *out /*(n_params)*/, const Learner *L);
void learner_set_params(Learner *L, const float *in /*(n_params)*/);
void learner_get_grads(float *out /*(n_params)*/, const Learner *L);

/* The AdamW state, for checkpoints of warm-started runs: moments m and v (n_params each) and
 * the step count adam_t. Get, then set on a learner of the same config, restores it exactly. */
void learner_get_adam(float *m /*(n_params)*/, float *v /*(n_params)*/, int *adam_t, const Learner *L);
void learner_set_adam(Learner *L, const float *m /*(n_params)*/, const float *v /*(n_params)*/, int adam_t);

/* Multiply-adds of one forward pass of one row (sum over layers of in·out, with in = mean_nnz
 * for the first layer of a sparse learner). */
double learner_macs_per_row(const LearnerConfig *c);

/* FLOPs of the matmuls learner_fit runs per row (elementwise ops, softmax and Adam are not
 * counted): forward 2·MACs; backward 2·MACs for the weight gradients plus 2·MACs for the
 * input gradients, less the first layer's (D·out0 MACs, never computed), where out0 is H1,
 * or K with no hidden layer. With sparse input D is the pool's mean nonzeros per row (a
 * property of the pool, the same for every strategy). What budget.h counts per row seen. */
double learner_train_flops_per_row(const LearnerConfig *c);

#endif
