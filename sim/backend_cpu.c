/* backend_cpu — the reference backend: every op of backend.h as plain loops over host memory,
 * except the two matmuls, which go to OpenBLAS (cblas_sgemm). This is the ground truth the
 * CUDA backend (backend_cuda.cu) mirrors op for op and tests compare against; keep it obvious.
 *
 * "Device" buffers are ordinary host memory, 64-byte aligned, so upload and download are
 * memcpy. Shapes follow backend.h: N rows, C input channels, OC output channels, K classes.
 */
#include "sim/backend.h"
#include "sim/rng.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

// ----------------------------------------------------------------------------
// memory

static void *cpu_alloc(size_t bytes) {
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? bytes : 1) != 0) return NULL;
    return p;
}

static void cpu_free(void *p) { free(p); }

static void cpu_upload(void *dst, const void *src_host, size_t bytes) {
    if (bytes) memcpy(dst, src_host, bytes);
}

static void cpu_download(void *dst_host, const void *src, size_t bytes) {
    if (bytes) memcpy(dst_host, src, bytes);
}

static void cpu_zero(void *p, size_t bytes) {
    if (bytes) memset(p, 0, bytes);
}

// ----------------------------------------------------------------------------
// matmul: out = inp · Wᵀ + b, weights (OC,C) like nn.Linear

static void matmul_forward(float *out, const float *inp, const float *weight, const float *bias,
                           int N, int C, int OC) {
    // out (N,OC), inp (N,C), weight (OC,C), bias (OC) or NULL
    if (N <= 0 || OC <= 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, C,
                1.0f, inp, C, weight, C, 0.0f, out, OC);
    if (bias) {
        for (int i = 0; i < N; i++) {
            float *out_i = out + (size_t)i * OC;
            for (int o = 0; o < OC; o++) out_i[o] += bias[o];
        }
    }
}

static void matmul_backward(float *dinp, float *dweight, float *dbias,
                            const float *dout, const float *inp, const float *weight,
                            int N, int C, int OC) {
    // dinp (N,C) or NULL, dweight (OC,C), dbias (OC) or NULL; dout (N,OC), inp (N,C),
    // weight (OC,C). All outputs are overwritten.
    if (N <= 0) {   // no rows: zero gradients (gemm with an empty inner dimension is murky)
        memset(dweight, 0, (size_t)OC * C * sizeof(float));
        if (dbias) memset(dbias, 0, (size_t)OC * sizeof(float));
        return;
    }
    if (dinp) {     // dinp = dout · W
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, C, OC,
                    1.0f, dout, OC, weight, C, 0.0f, dinp, C);
    }
    // dweight = doutᵀ · inp
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, C, N,
                1.0f, dout, OC, inp, C, 0.0f, dweight, C);
    if (dbias) {    // column sums of dout, accumulated in float in row order
        for (int o = 0; o < OC; o++) dbias[o] = 0.0f;
        for (int i = 0; i < N; i++) {
            const float *dout_i = dout + (size_t)i * OC;
            for (int o = 0; o < OC; o++) dbias[o] += dout_i[o];
        }
    }
}

// ----------------------------------------------------------------------------
// relu

static void relu_forward(float *out, const float *inp, size_t n) {
    for (size_t i = 0; i < n; i++) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

static void relu_backward(float *dinp, const float *dout, const float *out, size_t n) {
    for (size_t i = 0; i < n; i++) dinp[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

// ----------------------------------------------------------------------------
// dropout: out = inp · scale where the mask keeps, else 0 (a select, so a dropped NaN is 0)

// v if keep else +0.0f, without a branch: at p = 0.5 a branch on the random bits mispredicts
// half the time, which made dropout 4x slower. Same result as keep ? v : 0.0f.
static inline float keep_or_zero(float v, int keep) {
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    bits &= 0u - (uint32_t)keep;    // all ones or all zeros
    memcpy(&v, &bits, sizeof v);
    return v;
}

// Applies the mask of (key, row0+i, j) to x (N,C) into y (N,C); forward and backward are the
// same operation. Equivalent to rng_dropout_keep per unit, but hashes once per group of 4
// units: the hash of group g = j/4 holds the 16-bit uniforms of units 4g..4g+3, low bits
// first, so on a little-endian machine the uniform of unit j is 16-bit word j of the row's
// hashes. Two simple loops per row (hash, then select) let the compiler vectorize both.
#define DROPOUT_GROUPS 256          /* groups hashed at a time: 1024 units */
static void dropout_apply(float *y, const float *x, int N, int C, float p,
                          uint64_t key, int64_t row0) {
    if (p <= 0.0f) {    // p == 0 keeps everything with scale 1: a copy
        if (y != x) memmove(y, x, (size_t)N * C * sizeof(float));
        return;
    }
    const uint32_t threshold = rng_dropout_threshold(p);
    const float scale = 1.0f / (1.0f - p);
    uint64_t h[DROPOUT_GROUPS];
    uint16_t u[4 * DROPOUT_GROUPS];
    for (int i = 0; i < N; i++) {
        const uint64_t row = (uint64_t)(row0 + i);
        const float *x_i = x + (size_t)i * C;
        float *y_i = y + (size_t)i * C;
        for (int j0 = 0; j0 < C; j0 += 4 * DROPOUT_GROUPS) {
            const int units = C - j0 < 4 * DROPOUT_GROUPS ? C - j0 : 4 * DROPOUT_GROUPS;
            const int groups = (units + 3) / 4;
            for (int g = 0; g < groups; g++) h[g] = rng_hash(key, row, (uint64_t)((j0 >> 2) + g));
            for (int g = 0; g < groups; g++)        // explicit, endian-independent unpacking
                for (int b = 0; b < 4; b++) u[4 * g + b] = (uint16_t)(h[g] >> (16 * b));
            for (int j = 0; j < units; j++)
                y_i[j0 + j] = keep_or_zero(x_i[j0 + j] * scale, u[j] >= threshold);
        }
    }
}

static void dropout_forward(float *out, const float *inp, int N, int C, float p,
                            uint64_t key, int64_t row0) {
    dropout_apply(out, inp, N, C, p, key, row0);
}

static void dropout_backward(float *dinp, const float *dout, int N, int C, float p,
                             uint64_t key, int64_t row0) {
    dropout_apply(dinp, dout, N, C, p, key, row0);
}

// ----------------------------------------------------------------------------
// softmax and cross-entropy

// Precision: float throughout (expf, float sum), max-subtracted so no logit overflows.
static void softmax_forward(float *probs, const float *logits, int N, int K) {
    for (int i = 0; i < N; i++) {
        const float *x = logits + (size_t)i * K;
        float *y = probs + (size_t)i * K;
        float maxv = x[0];
        for (int j = 1; j < K; j++) if (x[j] > maxv) maxv = x[j];
        float sum = 0.0f;
        for (int j = 0; j < K; j++) {   // reads x[j] before writing y[j]: in place is fine
            float e = expf(x[j] - maxv);
            y[j] = e;
            sum += e;
        }
        for (int j = 0; j < K; j++) y[j] /= sum;
    }
}

static void crossentropy_backward(float *dlogits, const float *probs, const int32_t *targets,
                                  int N, int K) {
    // dlogits (N,K), probs (N,K), targets (N)
    for (int i = 0; i < N; i++) {
        const float *p = probs + (size_t)i * K;
        float *d = dlogits + (size_t)i * K;
        for (int j = 0; j < K; j++) {
            float indicator = j == targets[i] ? 1.0f : 0.0f;
            d[j] = (p[j] - indicator) / (float)N;
        }
    }
}

// ----------------------------------------------------------------------------
// AdamW (as in llm.c's adamw_update: bias correction by powf, weight decay decoupled)

static void adam_update(float *param, const float *grad, float *m, float *v, size_t n,
                        float lr, float beta1, float beta2, float eps, float wd, int t) {
    const float beta1_correction = 1.0f - powf(beta1, (float)t);
    const float beta2_correction = 1.0f - powf(beta2, (float)t);
    for (size_t i = 0; i < n; i++) {
        float g = grad[i];
        float m_i = beta1 * m[i] + (1.0f - beta1) * g;
        float v_i = beta2 * v[i] + (1.0f - beta2) * g * g;
        float m_hat = m_i / beta1_correction;
        float v_hat = v_i / beta2_correction;
        m[i] = m_i;
        v[i] = v_i;
        param[i] -= lr * (m_hat / (sqrtf(v_hat) + eps) + wd * param[i]);
    }
}

// ----------------------------------------------------------------------------

const Backend backend_cpu = {
    .name = "cpu",
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_upload,
    .download = cpu_download,
    .zero = cpu_zero,
    .matmul_forward = matmul_forward,
    .matmul_backward = matmul_backward,
    .relu_forward = relu_forward,
    .relu_backward = relu_backward,
    .dropout_forward = dropout_forward,
    .dropout_backward = dropout_backward,
    .softmax_forward = softmax_forward,
    .crossentropy_backward = crossentropy_backward,
    .adam_update = adam_update,
};
