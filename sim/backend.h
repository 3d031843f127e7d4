/* backend — the math the learner needs, behind one small table of function pointers.
 *
 * The learner never touches its buffers directly: it allocates them here, uploads inputs,
 * calls the ops and downloads results. backend_cpu.c is the reference (plain loops with an
 * OpenBLAS gemm path); a CUDA backend implements the same ops, name for name and argument for
 * argument, and tests compare the two. Chosen once at start-up by name; nothing above this
 * header knows which one runs.
 *
 * Conventions: outputs first, then inputs, then sizes. All float buffers are row-major.
 * Weights are stored (OC, C) like nn.Linear, so a layer computes out = inp · Wᵀ + b.
 * Dimension letters: N rows, C input channels, OC output channels, K classes; for images
 * (the convolution and pooling ops) H x W pixels, stored NCHW: row n, channel c, pixel (y, x)
 * at ((n·C + c)·H + y)·W + x, as a Dataset's image rows are (datasets/dataset.h).
 */
#ifndef ALSIM_BACKEND_H
#define ALSIM_BACKEND_H

#include <stddef.h>
#include <stdint.h>

/* Per-row reductions of predictive probabilities that a backend may run where the
 * probabilities are (score_rows below), so that only one score per row leaves it. Each is the
 * formula of a strategy (strategies/strategy.h says which; its registry row names it). */
typedef enum {
    REDUCE_NONE = 0,            /* no backend reduction: the strategy scores on the host */
    REDUCE_LEAST_CONFIDENCE,    /* probs: 1 - max_c p_c */
    REDUCE_ENTROPY,             /* probs: H[p] */
    REDUCE_MARGIN,              /* probs: -(p_(1) - p_(2)) */
    REDUCE_BALD,                /* mc: H[p̄] - (1/T) Σ_t H[p_t], clamped at 0 */
    REDUCE_VAR_RATIOS,          /* mc: 1 - (count of the modal argmax)/T */
    REDUCE_MEAN_STD,            /* mc: (1/K) Σ_c sd_t(p_t,c) */
    REDUCE_MC_ENTROPY,          /* mc: H[p̄] */
    REDUCE_COUNT
} Reduce;

/* 1 when reduction kind reads the T MC samples, 0 when it reads the probs. */
static inline int reduce_needs_mc(int kind) { return kind >= REDUCE_BALD; }

/* The scratch conv2d_forward and conv2d_backward need to run G rows of (C,H,W) images through
 * k x k kernels into OC channels at a time, in floats: the patches, col (C·k·k, G·OH·OW), and
 * the product, (OC, G·OH·OW), with OH = H-k+1, OW = W-k+1. */
static inline size_t conv2d_work_floats(int G, int C, int H, int W, int OC, int k) {
    return (size_t)G * (size_t)(H - k + 1) * (size_t)(W - k + 1) * ((size_t)C * k * k + (size_t)OC);
}

typedef struct Backend {
    const char *name;                /* "cpu", "cuda" */
    const char *device;              /* what it runs on, for the log ("NVIDIA H200, 139.8 GiB,
                                        ..."); NULL for the CPU */

    /* Memory. Buffers are opaque to callers; sizes in bytes. alloc returns NULL on failure,
     * else a buffer aligned to at least 64 bytes; free accepts NULL. */
    void *(*alloc)(size_t bytes);
    void (*free)(void *p);
    void (*upload)(void *dst, const void *src_host, size_t bytes);
    void (*download)(void *dst_host, const void *src, size_t bytes);
    void (*zero)(void *p, size_t bytes);

    /* out (N,OC) = inp (N,C) · weight (OC,C)ᵀ + bias (OC); bias may be NULL. N may be 0. */
    void (*matmul_forward)(float *out, const float *inp, const float *weight, const float *bias,
                           int N, int C, int OC);
    /* Gradients of matmul_forward, overwriting (not accumulating):
     * dinp (N,C) = dout · weight (skipped when dinp is NULL), dweight (OC,C) = doutᵀ · inp
     * (skipped when NULL: a frozen weight), dbias (OC) = column sums of dout (skipped when
     * NULL). N == 0 gives zero gradients. */
    void (*matmul_backward)(float *dinp, float *dweight, float *dbias,
                            const float *dout, const float *inp, const float *weight,
                            int N, int C, int OC);

    /* out = max(inp, 0) elementwise; out may equal inp. */
    void (*relu_forward)(float *out, const float *inp, size_t n);
    /* dinp = dout where out > 0, else 0; dinp may equal dout. */
    void (*relu_backward)(float *dinp, const float *dout, const float *out, size_t n);

    /* Inverted dropout with counter-based masks (rng.h, rng_dropout_keep):
     * out[i,j] = inp[i,j] * s if keep(key, row, j) else 0, row = rng_mask_row(row0, i): row0+i,
     * or 0 for every row when row0 < 0 (RNG_ROWS_SHARED: one mask for all rows); s = 1.0f / (1.0f - p) in
     * float and threshold rng_dropout_threshold(p); a select, not a multiply by the mask, so a
     * dropped NaN gives 0. out may equal inp. p == 0 copies. The same (key, row, unit) gives
     * the same mask and the same bits on every backend. */
    void (*dropout_forward)(float *out, const float *inp, int N, int C, float p,
                            uint64_t key, int64_t row0);
    /* dinp = dout masked and scaled exactly as dropout_forward did; dinp may equal dout. */
    void (*dropout_backward)(float *dinp, const float *dout, int N, int C, float p,
                             uint64_t key, int64_t row0);
    /* Channel dropout (PyTorch's Dropout2d) on N rows of C channels of S values each,
     * (N,C,S): out[i,c,s] = inp[i,c,s] * scale if keep(key, row, c) else 0, channel c kept or
     * dropped whole with unit c's mask of dropout_forward (rows, scale and threshold as there;
     * S == 1 is dropout_forward). Its own backward: dinp = dout masked the same. out may
     * equal inp; p == 0 copies. */
    void (*dropout_channels)(float *out, const float *inp, int N, int C, int S, float p,
                             uint64_t key, int64_t row0);

    /* probs (N,K) = softmax over each row of logits (N,K), max-subtracted, in float (expf,
     * float sum; the CPU divides each exp by the row sum); may alias. */
    void (*softmax_forward)(float *probs, const float *logits, int N, int K);
    /* dlogits (N,K) = (probs - onehot(targets)) / N: the gradient of the mean cross-entropy.
     * targets (N) are int32 class ids in a backend buffer. */
    void (*crossentropy_backward)(float *dlogits, const float *probs, const int32_t *targets,
                                  int N, int K);

    /* AdamW on n parameters, step t >= 1 (bias-corrected), decoupled weight decay wd:
     * param -= lr * (mhat / (sqrt(vhat) + eps) + wd * param). */
    void (*adam_update)(float *param, const float *grad, float *m, float *v, size_t n,
                        float lr, float beta1, float beta2, float eps, float wd, int t);
    /* y (n) += a * x (n), elementwise in float (one multiply, one add: no fused multiply-add,
     * the same bits on every backend); y must not overlap x. The gradient of an L2 penalty
     * λ·||W||² added to a weight's gradient is axpy(grad, W, 2λ, n). */
    void (*axpy)(float *y, const float *x, float a, size_t n);

    /* Sparse input for the first layer (text TF-IDF, svmlight files): X (N,C) in CSR, all
     * three arrays in backend buffers. Row i's nonzeros are values[p] at columns indices[p],
     * p = indptr[i] .. indptr[i+1]-1, with indptr[0] == 0 and columns in 0..C-1. Rows may be
     * empty. The weight is stored TRANSPOSED, weight_t (C,OC) = Wᵀ, so that a nonzero adds
     * one contiguous row of OC floats (coalesced on a GPU, streamed on a CPU).
     * out (N,OC) = X · weight_t + bias (OC); bias may be NULL. Each out[i,:] starts from the
     * bias (or 0) and adds values[p]·weight_t[indices[p],:] for p in order. N may be 0. */
    void (*sparse_matmul_forward)(float *out, const int64_t *indptr, const int32_t *indices,
                                  const float *values, const float *weight_t, const float *bias,
                                  int N, int C, int OC);
    /* Gradients of sparse_matmul_forward, overwriting (not accumulating): dweight_t (C,OC) =
     * Xᵀ · dout, every row written (zero where no row of X has a nonzero); dbias (OC) = column
     * sums of dout (skipped when NULL). No input gradient: the input is data. */
    void (*sparse_matmul_backward)(float *dweight_t, float *dbias, const float *dout,
                                   const int64_t *indptr, const int32_t *indices,
                                   const float *values, int N, int C, int OC);

    /* Convolution of images, valid padding, stride 1: inp (N,C,H,W) through OC kernels of
     * C x k x k, weight (OC,C,k,k) like nn.Conv2d, into out (N,OC,OH,OW), OH = H-k+1,
     * OW = W-k+1, P = OH·OW:
     *   out[n,o,y,x] = bias[o] + Σ_{c,i,j} weight[o,c,i,j] · inp[n,c,y+i,x+j]
     * computed G rows at a time (the last group may be smaller) by im2col and one gemm: the
     * patches col (C·k·k, g·P), col[(c·k + i)·k + j, m·P + y·OW + x] = inp[n0+m, c, y+i, x+j],
     * then (OC, g·P) = weight · col, written to out with the bias added (in float, after the
     * product). work: conv2d_work_floats(G, C, H, W, OC, k) floats, a backend buffer. bias
     * may be NULL. Bitwise reproducible for the same N and G; N may be 0. */
    void (*conv2d_forward)(float *out, float *work, const float *inp, const float *weight,
                           const float *bias, int N, int C, int H, int W, int OC, int k, int G);
    /* Gradients of conv2d_forward, overwriting (not accumulating), G rows at a time as the
     * forward: dweight (OC,C,k,k) = Σ over groups of dout_g (OC, g·P) · col_gᵀ, accumulated
     * group after group; dinp (N,C,H,W) (skipped when NULL) from the patches' gradients
     * weightᵀ · dout_g, each input pixel summing the patch entries that copied it in (i, j)
     * order from 0 (a gather, no atomics); dbias (OC) = Σ_n Σ_(y,x) dout[n,o,y,x] in float in
     * that order (skipped when NULL; the CPU's direct kernels, sim/conv_direct.h, sum it in
     * another order). work as conv2d_forward's. N == 0 gives zero gradients. */
    void (*conv2d_backward)(float *dinp, float *dweight, float *dbias, float *work,
                            const float *dout, const float *inp, const float *weight,
                            int N, int C, int H, int W, int OC, int k, int G);
    /* Max-pooling over s x s windows with stride s: out (N,C,PH,PW), PH = H/s, PW = W/s
     * (rows and columns past the last whole window are left out) = each window's largest
     * value; argmax (N,C,PH,PW) its pixel y·W + x in the input plane, the first in row-major
     * order among equals (compared with >, so a NaN is passed over unless it comes first). */
    void (*maxpool_forward)(float *out, int32_t *argmax, const float *inp, int N, int C, int H,
                            int W, int s);
    /* dinp (N,C,H,W) = dout at each window's argmax pixel, 0 elsewhere (overwriting): windows
     * do not overlap, so each pixel gathers at most one value. */
    void (*maxpool_backward)(float *dinp, const float *dout, const int32_t *argmax, int N, int C,
                             int H, int W, int s);

    /* The transformer encoder's ops (sim/bert.h). Rows are the B·T tokens of B sequences of
     * T, row-major: token t of sequence s is row s·T + t.
     * out (B·T, H) = word[ids] + pos[t] + type[types], in float in that order; ids, types
     * (B·T) int32 backend buffers, each in its table's range (the caller checks); word (V,H),
     * pos (T or more, H), type (TV,H). */
    void (*embed_forward)(float *out, const int32_t *ids, const int32_t *types, const float *word,
                          const float *pos, const float *type, int B, int T, int H);
    /* A sentence's vector from its tokens' rows: out (B,H) from hidden (B·T,H) and mask
     * (B·T) uint8: cls: row s·T (the [CLS] token); else (cls = 0) the mean of the rows with
     * mask 1, summed in float in token order then divided by their count (0 when none). */
    void (*pool_forward)(float *out, const float *hidden, const uint8_t *mask, int B, int T,
                         int H, int cls);
    /* Its gradient, overwriting dhidden (B·T,H): cls: dout's row s at row s·T, 0 elsewhere;
     * mean: dout's row s divided by the count on each row with mask 1, 0 elsewhere. */
    void (*pool_backward)(float *dhidden, const float *dout, const uint8_t *mask, int B, int T,
                          int H, int cls);
    /* LayerNorm of each row of inp (N,C): out = (inp - mean) · rstd · gamma + beta with mean
     * and the biased variance of the row, rstd = 1/sqrt(var + eps); stats (N,2) receives each
     * row's (mean, rstd) for a backward (skipped when NULL). out may equal inp. */
    void (*layernorm_forward)(float *out, float *stats, const float *inp, const float *gamma,
                              const float *beta, int N, int C, float eps);
    /* out = x · (1 + erf(x / sqrt(2))) / 2 elementwise (the erf GELU); out may equal inp. */
    void (*gelu_forward)(float *out, const float *inp, size_t n);
    /* Multi-head self-attention over q, k, v (B·T, H), head h the columns h·dh .. h·dh+dh-1
     * of each (dh = H / heads): for each sequence s and head h,
     *   probs[s,h] (T,T) = softmax over keys j of q_i·k_j · scale, keys with mask[s,j] == 0
     *                      given -FLT_MAX added (as BERT's extended attention mask)
     *   ctx rows of s, head h's columns (T,dh) = probs[s,h] · v
     * mask (B·T) uint8, probs (B, heads, T, T) kept for a backward. ctx must not alias q, k
     * or v. */
    void (*attention_forward)(float *ctx, float *probs, const float *q, const float *k,
                              const float *v, const uint8_t *mask, int B, int T, int H,
                              int heads, float scale);
    /* Gradients of the three above, overwriting (not accumulating), for fine-tuning:
     * layernorm: dinp (N,C) from dout (N,C), inp (N,C), the forward's stats (N,2) and gamma
     * (C); dgamma, dbeta (C) = Σ_rows dout·x̂ and Σ_rows dout (each skipped when NULL);
     * dinp may equal dout (not inp). */
    void (*layernorm_backward)(float *dinp, float *dgamma, float *dbeta, const float *dout,
                               const float *inp, const float *stats, const float *gamma,
                               int N, int C);
    /* gelu: dinp = dout · GELU'(inp) elementwise, GELU'(x) = Φ(x) + x·φ(x); dinp may equal
     * dout. */
    void (*gelu_backward)(float *dinp, const float *dout, const float *inp, size_t n);
    /* attention: dq, dk, dv (B·T, H) from dctx (B·T, H) and the forward's probs (B, heads,
     * T, T), q, k, v: per sequence and head, dv = probsᵀ·dctx, dprobs = dctx·vᵀ, dscores =
     * probs ⊙ (dprobs - rowsum(dprobs ⊙ probs)) (masked keys have probs 0, so get 0),
     * dq = dscores·k·scale, dk = dscoresᵀ·q·scale. No output may alias an input. dscores
     * needs scratch of the backend's own, (T,T) on the CPU, (B,heads,T,T) on the GPU (kept and
     * grown); out of memory there ends the process with exit status 3. */
    void (*attention_backward)(float *dq, float *dk, float *dv, const float *dctx,
                               const float *probs, const float *q, const float *k,
                               const float *v, int B, int T, int H, int heads, float scale);

    /* Optional, NULL when absent (the CPU: there the strategies' host functions score).
     * scores_host (N), a HOST array, receives reduction `kind` (Reduce, not REDUCE_NONE) of
     * each row: from probs (N,K) for the probs kinds, or from mc (T,N,K), sample-major, for
     * the MC kinds (reduce_needs_mc); both are backend buffers, the unused one may be NULL.
     * Same formulas as the host functions (strategy.h), in double, in their order of
     * operations; argmax ties go to the lowest class; a NaN in a row makes its score NaN. */
    void (*score_rows)(double *scores_host, const float *probs, const float *mc,
                       int N, int K, int T, int kind);

    /* Optional, NULL when absent (then the learner composes the ops above; the CPU has it
     * when built for AVX-512, the GPU does not). The output layer of T MC-dropout samples in
     * one call, fused: for t in 0..T-1,
     *   probs[t] (N,K) = softmax_forward(dropout_forward(inp, p, keys[t], row0) · weightᵀ + bias)
     * with inp (N,C), weight (K,C), bias (K) or NULL, probs (T,N,K) sample-major, all backend
     * buffers. The same masks bit for bit; each row's products are summed in a fixed order of
     * its own, not matmul_forward's, so the values equal the composition up to fp32 rounding,
     * and are the same bits for the same row whatever N, row split or thread count.
     * Returns 0, or -1 when it could not (out of memory): then compose the ops instead. */
    int (*mc_head_forward)(float *probs, const float *inp, const float *weight, const float *bias,
                           int N, int C, int K, float p, const uint64_t *keys, int T,
                           int64_t row0);

    /* 1 when the buffers are ordinary host memory (the CPU): an op may then read a host array
     * in place of a buffer, and the learner skips uploading the pool's rows (a copy). */
    int host_memory;
} Backend;

/* The backend called name ("cpu", "cuda", or "auto": the GPU when one is usable, else the
 * CPU). Returns NULL and writes a one-line reason into err when it is not available. */
const Backend *backend_get(const char *name, char *err, size_t errlen);

extern const Backend backend_cpu;

#endif
