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
 * Dimension letters: N rows, C input channels, OC output channels, K classes.
 */
#ifndef ALSIM_BACKEND_H
#define ALSIM_BACKEND_H

#include <stddef.h>
#include <stdint.h>

typedef struct Backend {
    const char *name;                /* "cpu", "cuda" */

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
     * dinp (N,C) = dout · weight (skipped when dinp is NULL), dweight (OC,C) = doutᵀ · inp,
     * dbias (OC) = column sums of dout (skipped when NULL). N == 0 gives zero gradients. */
    void (*matmul_backward)(float *dinp, float *dweight, float *dbias,
                            const float *dout, const float *inp, const float *weight,
                            int N, int C, int OC);

    /* out = max(inp, 0) elementwise; out may equal inp. */
    void (*relu_forward)(float *out, const float *inp, size_t n);
    /* dinp = dout where out > 0, else 0; dinp may equal dout. */
    void (*relu_backward)(float *dinp, const float *dout, const float *out, size_t n);

    /* Inverted dropout with counter-based masks (rng.h, rng_dropout_keep):
     * out[i,j] = inp[i,j] * s if keep(key, row0+i, j) else 0, with s = 1.0f / (1.0f - p) in
     * float and threshold rng_dropout_threshold(p); a select, not a multiply by the mask, so a
     * dropped NaN gives 0. out may equal inp. p == 0 copies. The same (key, row, unit) gives
     * the same mask and the same bits on every backend. */
    void (*dropout_forward)(float *out, const float *inp, int N, int C, float p,
                            uint64_t key, int64_t row0);
    /* dinp = dout masked and scaled exactly as dropout_forward did; dinp may equal dout. */
    void (*dropout_backward)(float *dinp, const float *dout, int N, int C, float p,
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
} Backend;

/* The backend called name ("cpu", "cuda", or "auto": the GPU when one is usable, else the
 * CPU). Returns NULL and writes a one-line reason into err when it is not available. */
const Backend *backend_get(const char *name, char *err, size_t errlen);

extern const Backend backend_cpu;

#endif
