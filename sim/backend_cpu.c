/* backend_cpu — the reference backend: every op of backend.h as plain loops over host memory,
 * except the dense matmuls and the convolutions' gemms, which go to OpenBLAS (cblas_sgemm). This is the ground truth the
 * CUDA backend (backend_cuda.cu) mirrors op for op and tests compare against; keep it obvious.
 * One exception, at the end of the file and labelled: the optional mc_head_forward, the MC
 * scoring hot path fused with AVX-512 intrinsics over threads; tests compare it with the
 * plain ops it fuses.
 *
 * "Device" buffers are ordinary host memory, 64-byte aligned, so upload and download are
 * memcpy. Shapes follow backend.h: N rows, C input channels, OC output channels, K classes.
 */
#include "sim/backend.h"
#include "sim/conv_direct.h"
#include "sim/parallel.h"
#include "sim/rng.h"

#include <cblas.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX512F__) && defined(__AVX512DQ__)   /* the fused MC head, at the end */
#include <immintrin.h>
#include <stdatomic.h>
#endif

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

// C (M,N) = op(A) · op(B), row-major, through OpenBLAS. OpenBLAS wakes all its threads for any
// gemm above a few hundred thousand multiply-adds; below 2^24 (a minibatch through the K-wide
// output layer, a linear model's step, the output layer of a pool chunk) that costs more than
// it saves (measured on 2 cores: 64x512x10 9.6 µs on one thread, 28 µs on two; 40x784x10 10
// µs against 43), so those run on one thread, while a minibatch through the 784x512 layer
// (2.6e7) still halves on two. OpenBLAS rounds a gemm differently on 1 and on 2 threads, so
// the choice depends on the shape and OPENBLAS_NUM_THREADS only: deterministic.
#ifndef SGEMM_ONE_THREAD_MACS     /* -D to experiment */
#define SGEMM_ONE_THREAD_MACS (1 << 24)
#endif
// C = op(A)·op(B) + beta·C: beta 0 overwrites, 1 accumulates.
static void sgemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K,
                  const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    const int threads = openblas_get_num_threads();
    const int one = threads > 1 && (double)M * N * K < SGEMM_ONE_THREAD_MACS;
    if (one) openblas_set_num_threads(1);
    cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    if (one) openblas_set_num_threads(threads);
}

static void matmul_forward(float *out, const float *inp, const float *weight, const float *bias,
                           int N, int C, int OC) {
    // out (N,OC), inp (N,C), weight (OC,C), bias (OC) or NULL
    if (N <= 0 || OC <= 0) return;
    sgemm(CblasNoTrans, CblasTrans, N, OC, C, inp, C, weight, C, 0.0f, out, OC);
    if (bias) {
        for (int i = 0; i < N; i++) {
            float *out_i = out + (size_t)i * OC;
            for (int o = 0; o < OC; o++) out_i[o] += bias[o];
        }
    }
}

// dbias (OC) = column sums of dout (N,OC), accumulated in float in row order.
static void column_sums(float *dbias, const float *dout, int N, int OC) {
    for (int o = 0; o < OC; o++) dbias[o] = 0.0f;
    for (int i = 0; i < N; i++) {
        const float *dout_i = dout + (size_t)i * OC;
        for (int o = 0; o < OC; o++) dbias[o] += dout_i[o];
    }
}

static void matmul_backward(float *dinp, float *dweight, float *dbias,
                            const float *dout, const float *inp, const float *weight,
                            int N, int C, int OC) {
    // dinp (N,C) or NULL, dweight (OC,C) or NULL, dbias (OC) or NULL; dout (N,OC), inp (N,C),
    // weight (OC,C). All outputs are overwritten.
    if (N <= 0) {   // no rows: zero gradients (gemm with an empty inner dimension is murky)
        if (dweight) memset(dweight, 0, (size_t)OC * C * sizeof(float));
        if (dbias) memset(dbias, 0, (size_t)OC * sizeof(float));
        return;
    }
    if (dinp) {     // dinp = dout · W
        sgemm(CblasNoTrans, CblasNoTrans, N, C, OC, dout, OC, weight, C, 0.0f, dinp, C);
    }
    // dweight = doutᵀ · inp
    if (dweight) sgemm(CblasTrans, CblasNoTrans, OC, C, N, dout, OC, inp, C, 0.0f, dweight, C);
    if (dbias) column_sums(dbias, dout, N, OC);
}

// ----------------------------------------------------------------------------
// sparse matmul: out = X · weight_t + b, X in CSR, weight_t (C,OC) = Wᵀ
//
// Row-major Wᵀ makes both loops stream: a nonzero (i, j, v) reads row j of weight_t and adds
// it into out[i,:] (forward), or adds v·dout[i,:] into row j of dweight_t (backward), each
// OC contiguous floats that the compiler vectorises. With W (OC,C) the same product would
// gather one float per cache line.

static void sparse_matmul_forward(float *out, const int64_t *indptr, const int32_t *indices,
                                  const float *values, const float *weight_t, const float *bias,
                                  int N, int C, int OC) {
    // out (N,OC); indptr (N+1), indices (nnz), values (nnz); weight_t (C,OC); bias (OC) or NULL
    for (int i = 0; i < N; i++) {
        float *out_i = out + (size_t)i * OC;
        for (int o = 0; o < OC; o++) out_i[o] = bias ? bias[o] : 0.0f;
        for (int64_t p = indptr[i]; p < indptr[i + 1]; p++) {
            const float v = values[p];
            const float *w_j = weight_t + (size_t)indices[p] * OC;
            for (int o = 0; o < OC; o++) out_i[o] += v * w_j[o];
        }
    }
}

static void sparse_matmul_backward(float *dweight_t, float *dbias, const float *dout,
                                   const int64_t *indptr, const int32_t *indices,
                                   const float *values, int N, int C, int OC) {
    // dweight_t (C,OC), dbias (OC) or NULL: overwritten; dout (N,OC); CSR as above
    memset(dweight_t, 0, (size_t)C * OC * sizeof(float));
    for (int i = 0; i < N; i++) {
        const float *dout_i = dout + (size_t)i * OC;
        for (int64_t p = indptr[i]; p < indptr[i + 1]; p++) {
            const float v = values[p];
            float *dw_j = dweight_t + (size_t)indices[p] * OC;
            for (int o = 0; o < OC; o++) dw_j[o] += v * dout_i[o];
        }
    }
    if (dbias) column_sums(dbias, dout, N, OC);
}

// ----------------------------------------------------------------------------
// convolution (valid, stride 1) by im2col + one gemm per group of G rows; NCHW images,
// weight (OC,C,k,k). For a group of g images: col (C·k·k, g·P) holds the patches, a column per
// output pixel (image m, y, x) and a row per kernel tap (c, i, j), so out = weight · col is
// (OC, g·P): channel o's g planes side by side, copied into out (N,OC,P) with the bias.

// col (C·k·k, g·P) = the k x k patches of g images inp (g,C,H,W): row (c·k + i)·k + j,
// column m·P + y·OW + x holds inp[m,c,y+i,x+j]. Each row is runs of OW contiguous pixels.
static void im2col(float *col, const float *inp, int g, int C, int H, int W, int k) {
    const int OH = H - k + 1, OW = W - k + 1;
    for (int c = 0; c < C; c++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                float *dst = col + ((size_t)(c * k + i) * k + j) * g * OH * OW;
                for (int m = 0; m < g; m++) {
                    const float *plane = inp + ((size_t)m * C + c) * H * W;
                    for (int y = 0; y < OH; y++, dst += OW)
                        memcpy(dst, plane + (size_t)(y + i) * W + j, (size_t)OW * sizeof(float));
                }
            }
}

// dinp (g,C,H,W) = the adjoint of im2col: each pixel the sum of the col entries that copied
// it. Written as a scatter over col's rows, which streams col; each pixel still receives its
// terms in (i, j) order starting from 0, the order of the CUDA backend's gather, so the two
// give the same bits.
static void col2im(float *dinp, const float *dcol, int g, int C, int H, int W, int k) {
    const int OH = H - k + 1, OW = W - k + 1;
    memset(dinp, 0, (size_t)g * C * H * W * sizeof(float));
    for (int c = 0; c < C; c++)
        for (int i = 0; i < k; i++)
            for (int j = 0; j < k; j++) {
                const float *src = dcol + ((size_t)(c * k + i) * k + j) * g * OH * OW;
                for (int m = 0; m < g; m++) {
                    float *plane = dinp + ((size_t)m * C + c) * H * W;
                    for (int y = 0; y < OH; y++, src += OW) {
                        float *row = plane + (size_t)(y + i) * W + j;
                        for (int x = 0; x < OW; x++) row[x] += src[x];
                    }
                }
            }
}

static void conv2d_forward(float *out, float *work, const float *inp, const float *weight,
                           const float *bias, int N, int C, int H, int W, int OC, int k, int G) {
    // out (N,OC,OH,OW); work: col (C·k·k, G·P) then prod (OC, G·P); inp (N,C,H,W);
    // weight (OC, C·k·k); bias (OC) or NULL
    if (conv_direct_forward(out, work, inp, weight, bias, N, C, H, W, OC, k, G)) return;
    const int P = (H - k + 1) * (W - k + 1), CKK = C * k * k;
    float *col = work, *prod = work + (size_t)CKK * G * P;
    for (int n0 = 0; n0 < N; n0 += G) {
        const int g = N - n0 < G ? N - n0 : G, gP = g * P;
        im2col(col, inp + (size_t)n0 * C * H * W, g, C, H, W, k);
        sgemm(CblasNoTrans, CblasNoTrans, OC, gP, CKK, weight, CKK, col, gP, 0.0f, prod, gP);
        for (int m = 0; m < g; m++)
            for (int o = 0; o < OC; o++) {
                float *dst = out + ((size_t)(n0 + m) * OC + o) * P;
                const float *src = prod + (size_t)o * gP + (size_t)m * P;
                const float b = bias ? bias[o] : 0.0f;
                for (int p = 0; p < P; p++) dst[p] = bias ? src[p] + b : src[p];
            }
    }
}

static void conv2d_backward(float *dinp, float *dweight, float *dbias, float *work,
                            const float *dout, const float *inp, const float *weight,
                            int N, int C, int H, int W, int OC, int k, int G) {
    // dinp (N,C,H,W) or NULL, dweight (OC, C·k·k), dbias (OC) or NULL: overwritten;
    // work as conv2d_forward's; dout (N,OC,OH,OW), inp (N,C,H,W), weight (OC, C·k·k)
    if (conv_direct_backward(dinp, dweight, dbias, work, dout, inp, weight, N, C, H, W, OC, k, G))
        return;
    const int P = (H - k + 1) * (W - k + 1), CKK = C * k * k;
    float *col = work, *dprod = work + (size_t)CKK * G * P;
    if (N <= 0) memset(dweight, 0, (size_t)OC * CKK * sizeof(float));
    for (int n0 = 0; n0 < N; n0 += G) {
        const int g = N - n0 < G ? N - n0 : G, gP = g * P;
        im2col(col, inp + (size_t)n0 * C * H * W, g, C, H, W, k);
        for (int m = 0; m < g; m++)     // dprod (OC, g·P): the group's dout, channel-major
            for (int o = 0; o < OC; o++)
                memcpy(dprod + (size_t)o * gP + (size_t)m * P, dout + ((size_t)(n0 + m) * OC + o) * P,
                       (size_t)P * sizeof(float));
        // dweight (+)= dprod · colᵀ
        sgemm(CblasNoTrans, CblasTrans, OC, CKK, gP, dprod, gP, col, gP, n0 ? 1.0f : 0.0f,
              dweight, CKK);
        if (dinp) {     // the patches' gradients weightᵀ · dprod, into col (no longer needed)
            sgemm(CblasTrans, CblasNoTrans, CKK, gP, OC, weight, CKK, dprod, gP, 0.0f, col, gP);
            col2im(dinp + (size_t)n0 * C * H * W, col, g, C, H, W, k);
        }
    }
    if (dbias) {
        for (int o = 0; o < OC; o++) dbias[o] = 0.0f;
        for (int n = 0; n < N; n++)
            for (int o = 0; o < OC; o++) {
                const float *d = dout + ((size_t)n * OC + o) * P;
                for (int p = 0; p < P; p++) dbias[o] += d[p];
            }
    }
}

// ----------------------------------------------------------------------------
// max-pooling: s x s windows, stride s

// Max-pooling and ReLU are a pass over a CNN's activations each (millions of floats a training
// step), so they are spread over the cores (parallel.h): by planes, and by chunks of
// ELEMENTWISE_CHUNK; each output is computed as before, so the bits do not change.
#define ELEMENTWISE_CHUNK 16384
typedef struct {
    float *out;
    int32_t *argmax;                /* forward: written */
    const int32_t *from;            /* backward: the forward's argmax */
    const float *inp;               /* forward: its input; backward: dout */
    int H, W, s;
} PoolJob;

#if defined(__AVX512F__)
/* One row of 2x2 windows of a plane, 16 windows a vector, with the scalar loop's result: the
 * first largest pixel in row-major order (a pixel wins only when greater, so a NaN never
 * does unless it comes first). r0 the window row's first pixel row, at offset base in the
 * plane; out and argmax the output row (PW). */
static void maxpool2_row(float *out, int32_t *argmax, const float *r0, int W, int PW, int base) {
    static const int even[16] = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30};
    static const int odd[16] = {1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31};
    const __m512i ie = _mm512_loadu_si512(even), io = _mm512_loadu_si512(odd);
    const __m512i lane2 = _mm512_slli_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), 1);
    const float *r1 = r0 + W;
    for (int px = 0; px < PW; px += 16) {
        const int nw = PW - px < 16 ? PW - px : 16;
        const __mmask16 keep = (__mmask16)((1u << nw) - 1);
        const __mmask16 lo = nw >= 8 ? (__mmask16)0xffff : (__mmask16)((1u << 2 * nw) - 1);
        const __mmask16 hi = nw > 8 ? (__mmask16)((1u << (2 * nw - 16)) - 1) : 0;
        const __m512 a0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * px), a1 = _mm512_maskz_loadu_ps(hi, r0 + 2 * px + 16);
        const __m512 b0 = _mm512_maskz_loadu_ps(lo, r1 + 2 * px), b1 = _mm512_maskz_loadu_ps(hi, r1 + 2 * px + 16);
        __m512 best = _mm512_permutex2var_ps(a0, ie, a1);
        __m512i at = _mm512_setzero_si512();
        const __m512 cand[3] = {_mm512_permutex2var_ps(a0, io, a1), _mm512_permutex2var_ps(b0, ie, b1),
                                _mm512_permutex2var_ps(b0, io, b1)};
        const int offset[3] = {1, W, W + 1};
        for (int c = 0; c < 3; c++) {
            const __mmask16 gt = _mm512_cmp_ps_mask(cand[c], best, _CMP_GT_OQ);
            best = _mm512_mask_mov_ps(best, gt, cand[c]);
            at = _mm512_mask_mov_epi32(at, gt, _mm512_set1_epi32(offset[c]));
        }
        at = _mm512_add_epi32(at, _mm512_add_epi32(lane2, _mm512_set1_epi32(base + 2 * px)));
        _mm512_mask_storeu_ps(out + px, keep, best);
        _mm512_mask_storeu_epi32(argmax + px, keep, at);
    }
}
#endif

static void maxpool_planes(void *arg, int lo, int hi) {
    const PoolJob *j = arg;
    float *out = j->out;
    int32_t *argmax = j->argmax;
    const int H = j->H, W = j->W, s = j->s, PH = H / s, PW = W / s;
    for (size_t plane = (size_t)lo; plane < (size_t)hi; plane++) {
        const float *in = j->inp + plane * H * W;
#if defined(__AVX512F__)
        if (s == 2) {
            for (int py = 0; py < PH; py++)
                maxpool2_row(out + (plane * PH + py) * PW, argmax + (plane * PH + py) * PW, in + 2 * py * W, W, PW,
                             2 * py * W);
            continue;
        }
#endif
        for (int py = 0; py < PH; py++)
            for (int px = 0; px < PW; px++) {
                int best = py * s * W + px * s;
                for (int i = 0; i < s; i++)
                    for (int jj = 0; jj < s; jj++) {
                        const int at = (py * s + i) * W + px * s + jj;
                        if (in[at] > in[best]) best = at;
                    }
                const size_t o = (plane * PH + py) * PW + px;
                out[o] = in[best];
                argmax[o] = best;
            }
    }
}

static void maxpool_forward(float *out, int32_t *argmax, const float *inp, int N, int C, int H,
                            int W, int s) {
    // out (N,C,PH,PW), argmax (N,C,PH,PW); inp (N,C,H,W)
    PoolJob j = {out, argmax, NULL, inp, H, W, s};
    parallel_for(N * C, 64, maxpool_planes, &j);
}

static void unpool_planes(void *arg, int lo, int hi) {
    const PoolJob *j = arg;
    float *out = j->out;
    const int32_t *from = j->from;
    const float *dout = j->inp;
    const size_t HW = (size_t)j->H * j->W, P = (size_t)(j->H / j->s) * (j->W / j->s);
    memset(out + (size_t)lo * HW, 0, (size_t)(hi - lo) * HW * sizeof(float));
    for (size_t plane = (size_t)lo; plane < (size_t)hi; plane++)
        for (size_t q = 0; q < P; q++) out[plane * HW + from[plane * P + q]] = dout[plane * P + q];
}

static void maxpool_backward(float *dinp, const float *dout, const int32_t *argmax, int N, int C,
                             int H, int W, int s) {
    // dinp (N,C,H,W); dout, argmax (N,C,PH,PW)
    PoolJob j = {dinp, NULL, argmax, dout, H, W, s};
    parallel_for(N * C, 64, unpool_planes, &j);
}

// ----------------------------------------------------------------------------
// relu

typedef struct { float *out; const float *a, *b; size_t n; } ReluJob;

// The pointers are copied out of the job first, so that the loops vectorise (a store through
// j->out could otherwise change j itself).
static void relu_chunks(void *arg, int lo, int hi) {    // out = max(a, 0)
    const ReluJob *j = arg;
    float *out = j->out;
    const float *a = j->a;
    const size_t end = (size_t)hi * ELEMENTWISE_CHUNK < j->n ? (size_t)hi * ELEMENTWISE_CHUNK : j->n;
    for (size_t i = (size_t)lo * ELEMENTWISE_CHUNK; i < end; i++) out[i] = a[i] > 0.0f ? a[i] : 0.0f;
}

static void relu_grad_chunks(void *arg, int lo, int hi) {   // out = a where b > 0, else 0
    const ReluJob *j = arg;
    float *out = j->out;
    const float *a = j->a, *b = j->b;
    const size_t end = (size_t)hi * ELEMENTWISE_CHUNK < j->n ? (size_t)hi * ELEMENTWISE_CHUNK : j->n;
    for (size_t i = (size_t)lo * ELEMENTWISE_CHUNK; i < end; i++) out[i] = b[i] > 0.0f ? a[i] : 0.0f;
}

static void relu_forward(float *out, const float *inp, size_t n) {
    ReluJob j = {out, inp, NULL, n};
    parallel_for((int)((n + ELEMENTWISE_CHUNK - 1) / ELEMENTWISE_CHUNK), 4, relu_chunks, &j);
}

static void relu_backward(float *dinp, const float *dout, const float *out, size_t n) {
    ReluJob j = {dinp, dout, out, n};
    parallel_for((int)((n + ELEMENTWISE_CHUNK - 1) / ELEMENTWISE_CHUNK), 4, relu_grad_chunks, &j);
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
        const uint64_t row = rng_mask_row(row0, i);
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

/* dropout_apply with each unit's mask spread over S consecutive values: y (N,C,S). The
 * masks' uniforms as dropout_apply draws them, C at a time. */
static void dropout_apply_spread(float *y, const float *x, int N, int C, int S, float p,
                                 uint64_t key, int64_t row0) {
    if (p <= 0.0f) {
        if (y != x) memmove(y, x, (size_t)N * C * S * sizeof(float));
        return;
    }
    const uint32_t threshold = rng_dropout_threshold(p);
    const float scale = 1.0f / (1.0f - p);
    for (int i = 0; i < N; i++) {
        const uint64_t row = rng_mask_row(row0, i);
        for (int c = 0; c < C; c++) {
            const uint16_t u = (uint16_t)(rng_hash(key, row, (uint64_t)(c >> 2)) >> (16 * (c & 3)));
            const int keep = u >= threshold;
            const size_t o = ((size_t)i * C + c) * S;
            for (int s = 0; s < S; s++) y[o + s] = keep_or_zero(x[o + s] * scale, keep);
        }
    }
}

static void dropout_forward(float *out, const float *inp, int N, int C, float p,
                            uint64_t key, int64_t row0) {
    dropout_apply(out, inp, N, C, p, key, row0);
}

static void dropout_channels(float *out, const float *inp, int N, int C, int S, float p,
                             uint64_t key, int64_t row0) {
    dropout_apply_spread(out, inp, N, C, S, p, key, row0);
}

static void dropout_backward(float *dinp, const float *dout, int N, int C, float p,
                             uint64_t key, int64_t row0) {
    dropout_apply(dinp, dout, N, C, p, key, row0);
}

// ----------------------------------------------------------------------------
// softmax and cross-entropy

// Precision: float throughout (expf, float sum), max-subtracted so no logit overflows.
// y (K) = softmax of x (K); y may equal x. Shared with the fused MC head below.
static void softmax_row(float *y, const float *x, int K) {
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

static void softmax_forward(float *probs, const float *logits, int N, int K) {
    for (int i = 0; i < N; i++) softmax_row(probs + (size_t)i * K, logits + (size_t)i * K, K);
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

static void axpy(float *y, const float *x, float a, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += a * x[i];
}

// ----------------------------------------------------------------------------
// the transformer encoder's ops

static void embed_forward(float *out, const int32_t *ids, const int32_t *types, const float *word,
                          const float *pos, const float *type, int B, int T, int H) {
    // out (B·T,H); ids, types (B·T); word (V,H), pos (>=T,H), type (TV,H)
    for (int r = 0; r < B * T; r++) {
        const float *w = word + (size_t)ids[r] * H, *p = pos + (size_t)(r % T) * H,
                    *y = type + (size_t)types[r] * H;
        float *o = out + (size_t)r * H;
        for (int j = 0; j < H; j++) o[j] = w[j] + p[j] + y[j];
    }
}

static void pool_forward(float *out, const float *hidden, const uint8_t *mask, int B, int T, int H,
                         int cls) {
    // out (B,H); hidden (B·T,H); mask (B·T)
    for (int s = 0; s < B; s++) {
        float *o = out + (size_t)s * H;
        const float *h0 = hidden + (size_t)s * T * H;
        if (cls) {
            memcpy(o, h0, (size_t)H * sizeof(float));
            continue;
        }
        int n = 0;
        for (int j = 0; j < H; j++) o[j] = 0.0f;
        for (int t = 0; t < T; t++)
            if (mask[s * T + t]) {
                n++;
                for (int j = 0; j < H; j++) o[j] += h0[(size_t)t * H + j];
            }
        for (int j = 0; j < H; j++) o[j] = n ? o[j] / (float)n : 0.0f;
    }
}

static void pool_backward(float *dhidden, const float *dout, const uint8_t *mask, int B, int T, int H,
                          int cls) {
    // dhidden (B·T,H); dout (B,H); mask (B·T)
    for (int s = 0; s < B; s++) {
        int n = 0;
        for (int t = 0; t < T; t++) n += mask[s * T + t] != 0;
        const float *d = dout + (size_t)s * H;
        for (int t = 0; t < T; t++) {
            float *o = dhidden + ((size_t)s * T + t) * H;
            const int on = cls ? t == 0 : mask[s * T + t] != 0;
            for (int j = 0; j < H; j++) o[j] = !on ? 0.0f : cls ? d[j] : d[j] / (float)n;
        }
    }
}

static void layernorm_forward(float *out, float *stats, const float *inp, const float *gamma,
                              const float *beta, int N, int C, float eps) {
    // out (N,C), stats (N,2) or NULL; inp (N,C); gamma, beta (C). Moments in double.
    for (int i = 0; i < N; i++) {
        const float *x = inp + (size_t)i * C;
        double s = 0, ss = 0;
        for (int j = 0; j < C; j++) s += x[j];
        const double mean = s / C;
        for (int j = 0; j < C; j++) ss += (x[j] - mean) * (x[j] - mean);
        const float m = (float)mean, rstd = (float)(1.0 / sqrt(ss / C + eps));
        float *o = out + (size_t)i * C;
        for (int j = 0; j < C; j++) o[j] = (x[j] - m) * rstd * gamma[j] + beta[j];
        if (stats) stats[2 * i] = m, stats[2 * i + 1] = rstd;
    }
}

// Elementwise, so spread over the cores (parallel.h) in chunks of GELU_CHUNK: erff is the
// encoder's costliest op after its gemms, and the bits do not depend on the thread count.
#define GELU_CHUNK 4096
typedef struct { float *out; const float *inp; size_t n; } GeluJob;

static void gelu_chunks(void *arg, int lo, int hi) {
    const GeluJob *g = arg;
    const size_t end = (size_t)hi * GELU_CHUNK < g->n ? (size_t)hi * GELU_CHUNK : g->n;
    for (size_t i = (size_t)lo * GELU_CHUNK; i < end; i++)
        g->out[i] = 0.5f * g->inp[i] * (1.0f + erff(g->inp[i] * 0.70710678118654752f));
}

static void gelu_forward(float *out, const float *inp, size_t n) {
    GeluJob g = {out, inp, n};
    parallel_for((int)((n + GELU_CHUNK - 1) / GELU_CHUNK), 16, gelu_chunks, &g);
}

// One (sequence, head) pair after another, lo..hi of the B·heads; the pairs are independent,
// so they are spread over the cores with each gemm whole on one thread (parallel_for_gemm):
// the same bits whatever the thread count.
typedef struct {
    float *ctx, *probs;
    const float *q, *k, *v;
    const uint8_t *mask;
    int T, H, heads;
    float scale;
} AttentionJob;

static void attention_heads(void *arg, int lo, int hi) {
    const AttentionJob *a = arg;
    const int T = a->T, H = a->H, dh = H / a->heads;
    for (int sh = lo; sh < hi; sh++) {
        const int s = sh / a->heads, h = sh % a->heads;
        const size_t at = (size_t)s * T * H + (size_t)h * dh;
        float *P = a->probs + (size_t)sh * T * T;
        sgemm(CblasNoTrans, CblasTrans, T, T, dh, a->q + at, H, a->k + at, H, 0.0f, P, T);
        for (int i = 0; i < T; i++) {
            float *row = P + (size_t)i * T;
            for (int j = 0; j < T; j++) row[j] = row[j] * a->scale + (a->mask[s * T + j] ? 0.0f : -FLT_MAX);
            softmax_row(row, row, T);
        }
        sgemm(CblasNoTrans, CblasNoTrans, T, dh, T, P, T, a->v + at, H, 0.0f, a->ctx + at, H);
    }
}

static void attention_forward(float *ctx, float *probs, const float *q, const float *k,
                              const float *v, const uint8_t *mask, int B, int T, int H,
                              int heads, float scale) {
    // ctx (B·T,H), probs (B,heads,T,T); q, k, v (B·T,H), a head's columns strided by H
    AttentionJob a = {ctx, probs, q, k, v, mask, T, H, heads, scale};
    parallel_for_gemm(B * heads, 1, attention_heads, &a);
}

static void layernorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout,
                               const float *inp, const float *stats, const float *gamma,
                               int N, int C) {
    // dinp (N,C), may be dout; dgamma, dbeta (C) or NULL; dout, inp (N,C); stats (N,2);
    // gamma (C). dgamma, dbeta summed in float over rows in ascending order (as the GPU's
    // per-column threads); each row's two means in double. A row's dout is read to the end
    // before its dinp is written, so dinp may be dout.
    if (dgamma) memset(dgamma, 0, (size_t)C * sizeof(float));
    if (dbeta) memset(dbeta, 0, (size_t)C * sizeof(float));
    for (int i = 0; i < N; i++) {
        const float *x = inp + (size_t)i * C, *g = dout + (size_t)i * C;
        const float m = stats[2 * i], rstd = stats[2 * i + 1];
        double s1 = 0, s2 = 0;      // Σ dnorm, Σ dnorm·x̂ with dnorm = dout·gamma
        for (int j = 0; j < C; j++) {
            const float xh = (x[j] - m) * rstd, dn = g[j] * gamma[j];
            if (dgamma) dgamma[j] += g[j] * xh;
            if (dbeta) dbeta[j] += g[j];
            s1 += dn;
            s2 += (double)dn * xh;
        }
        const float a = (float)(s1 / C), b = (float)(s2 / C);
        float *d = dinp + (size_t)i * C;
        for (int j = 0; j < C; j++) {
            const float xh = (x[j] - m) * rstd, dn = g[j] * gamma[j];
            d[j] = rstd * (dn - a - xh * b);
        }
    }
}

static void gelu_backward(float *dinp, const float *dout, const float *inp, size_t n) {
    // GELU'(x) = Φ(x) + x·φ(x); dinp may be dout
    for (size_t i = 0; i < n; i++) {
        const float x = inp[i];
        const float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
        const float pdf = expf(-0.5f * x * x) * 0.39894228040143268f;
        dinp[i] = dout[i] * (cdf + x * pdf);
    }
}

static void attention_backward(float *dq, float *dk, float *dv, const float *dctx,
                               const float *probs, const float *q, const float *k,
                               const float *v, int B, int T, int H, int heads, float scale) {
    // dq, dk, dv, dctx, q, k, v (B·T,H), a head's columns strided by H; probs (B,heads,T,T).
    // ds (T,T), one (sequence, head) at a time: dprobs, then in place the scores' gradient
    // times scale. The ops have no error return: out of memory here ends the process with
    // exit status 3 (a runtime failure, README), as the learner does when an alloc fails.
    if (B <= 0 || T <= 0) return;
    const int dh = H / heads;
    float *ds = malloc((size_t)T * T * sizeof(float));
    if (!ds) {
        fprintf(stderr, "alsim: out of memory in attention_backward (%zu bytes)\n",
                (size_t)T * T * sizeof(float));
        exit(3);
    }
    for (int s = 0; s < B; s++)
        for (int h = 0; h < heads; h++) {
            const size_t at = (size_t)s * T * H + (size_t)h * dh;
            const float *P = probs + ((size_t)s * heads + h) * T * T;
            sgemm(CblasTrans, CblasNoTrans, T, dh, T, P, T, dctx + at, H, 0.0f, dv + at, H);
            sgemm(CblasNoTrans, CblasTrans, T, T, dh, dctx + at, H, v + at, H, 0.0f, ds, T);
            for (int i = 0; i < T; i++) {
                const float *p = P + (size_t)i * T;
                float *row = ds + (size_t)i * T;
                double dot = 0;     // Σ_j dprobs·probs: the softmax's backward
                for (int j = 0; j < T; j++) dot += (double)row[j] * p[j];
                const float d = (float)dot;
                for (int j = 0; j < T; j++) row[j] = p[j] * (row[j] - d) * scale;
            }
            sgemm(CblasNoTrans, CblasNoTrans, T, dh, T, ds, T, k + at, H, 0.0f, dq + at, H);
            sgemm(CblasTrans, CblasNoTrans, T, dh, T, ds, T, q + at, H, 0.0f, dk + at, H);
        }
    free(ds);
}

// ----------------------------------------------------------------------------
// The fused MC-dropout head (optional op mc_head_forward): the hot path of MC scoring
//
// Scoring the pool with T MC samples runs dropout → the K-wide output layer → softmax T times
// per row. Composed from the ops above that is T passes over an (N,H) buffer and a gemm with
// only K = 10 output columns, which OpenBLAS runs far below its rate, on one core for the
// elementwise ops. Here one pass does all three for a block of 16 rows, one row per lane of a
// 512-bit vector: the block's inputs are transposed once (unit-major, pre-scaled by 1/(1-p)),
// then for each sample a unit costs a quarter of a hash (the same rng_hash, 8 rows a
// vector), a masked load (the dropout select: a dropped unit is +0, as keep_or_zero) and K
// fused multiply-adds with the broadcast weight W[c,j]. A row's logits are the sum over units
// in ascending order in its own lane, so its bits do not depend on the block, N, or the
// thread count. Blocks are split over the cores (parallel.h). Built only for AVX-512 (F + DQ:
// 64-bit multiplies for the hash); elsewhere the op is NULL and the learner composes
// dropout_forward, matmul_forward and softmax_forward instead. On 2 cores at T = 20 the part
// of the pool pass it replaces runs 2.2x faster (bench_core, "Optimisations"; RESULTS.md).
#if defined(__AVX512F__) && defined(__AVX512DQ__)
#define CPU_MC_HEAD 1

#define HEAD_ROWS 16        /* rows per block: one per lane of a 512-bit vector */
#define HEAD_CLASSES 16     /* classes per pass over the units: accumulators stay in registers */

typedef struct {
    float *probs;                       /* (T,N,K) */
    const float *inp, *weight, *bias;   /* (N,C), (K,C), (K) or NULL */
    int N, C, K, T;
    float p;
    const uint64_t *keys;               /* (T) */
    int64_t row0;
    atomic_int failed;                  /* set by a thread that ran out of memory */
} HeadJob;

// acc[c] (lanes = the block's 16 rows), c < kb: the logits of classes c0..c0+kb-1 of the
// sample keyed by key, without the bias. xt (C,16): the block's inputs, transposed and scaled;
// rows_lo/rows_hi: the rows' ids shifted into rng_hash's row field (rows 0-7, 8-15).
static inline void head_accumulate(__m512 *acc, int kb, const float *xt, const float *weight,
                                   int c0, int C, uint64_t key, __m512i rows_lo,
                                   __m512i rows_hi, __m512i threshold) {
    const __m512i golden = _mm512_set1_epi64((long long)0x9E3779B97F4A7C15ull);
    const __m512i mix1 = _mm512_set1_epi64((long long)0xBF58476D1CE4E5B9ull);
    const __m512i mix2 = _mm512_set1_epi64((long long)0x94D049BB133111EBull);
    const __m512i k = _mm512_set1_epi64((long long)key);
    const __m512i low16 = _mm512_set1_epi64(0xFFFF);
    for (int c = 0; c < kb; c++) acc[c] = _mm512_setzero_ps();
    for (int g = 0; 4 * g < C; g++) {
        __m512i h[2];   // rng_hash(key, row, g) of rows 0-7 and 8-15: rng.h, lane by lane
        for (int half = 0; half < 2; half++) {
            __m512i z = _mm512_or_si512(half ? rows_hi : rows_lo, _mm512_set1_epi64(g));
            z = _mm512_add_epi64(k, _mm512_mullo_epi64(z, golden));
            z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 30)), mix1);
            z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), mix2);
            h[half] = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
        }
        const int units = C - 4 * g < 4 ? C - 4 * g : 4;
        for (int b = 0; b < units; b++) {   // unit j keeps iff its 16-bit uniform >= threshold
            const int j = 4 * g + b;
            const __mmask8 lo = _mm512_cmpge_epu64_mask(
                _mm512_and_si512(_mm512_srli_epi64(h[0], 16 * b), low16), threshold);
            const __mmask8 hi = _mm512_cmpge_epu64_mask(
                _mm512_and_si512(_mm512_srli_epi64(h[1], 16 * b), low16), threshold);
            const __m512 x = _mm512_maskz_load_ps((__mmask16)(lo | (unsigned)hi << 8),
                                                  xt + (size_t)j * HEAD_ROWS);
            const float *w_j = weight + (size_t)c0 * C + j;
            for (int c = 0; c < kb; c++)
                acc[c] = _mm512_fmadd_ps(x, _mm512_set1_ps(w_j[(size_t)c * C]), acc[c]);
        }
    }
}

// Blocks lo..hi-1 of 16 rows: every sample, every class, softmax.
static void head_blocks(void *arg, int lo, int hi) {
    HeadJob *a = arg;
    const int N = a->N, C = a->C, K = a->K;
    const float scale = 1.0f / (1.0f - a->p);
    const __m512i threshold = _mm512_set1_epi64(rng_dropout_threshold(a->p));
    float *xt = cpu_alloc((size_t)C * HEAD_ROWS * sizeof(float));     // (C,16)
    float *logits = cpu_alloc((size_t)K * HEAD_ROWS * sizeof(float)); // (K,16)
    if (!xt || !logits) {
        atomic_store(&a->failed, 1);
        free(xt);
        free(logits);
        return;
    }
    __m512 acc[HEAD_CLASSES];
    for (int blk = lo; blk < hi; blk++) {
        const int i0 = blk * HEAD_ROWS, nr = N - i0 < HEAD_ROWS ? N - i0 : HEAD_ROWS;
        for (int r = 0; r < HEAD_ROWS; r++) {   // lanes past the last row hold zeros
            const float *x = a->inp + (size_t)(i0 + (r < nr ? r : 0)) * C;
            for (int j = 0; j < C; j++) xt[(size_t)j * HEAD_ROWS + r] = r < nr ? x[j] * scale : 0.0f;
        }
        int64_t ids[HEAD_ROWS];
        for (int r = 0; r < HEAD_ROWS; r++) ids[r] = (int64_t)(rng_mask_row(a->row0, i0 + r) << 20);
        const __m512i rows_lo = _mm512_loadu_si512(ids), rows_hi = _mm512_loadu_si512(ids + 8);
        for (int t = 0; t < a->T; t++) {
            for (int c0 = 0; c0 < K; c0 += HEAD_CLASSES) {
                const int kb = K - c0 < HEAD_CLASSES ? K - c0 : HEAD_CLASSES;
                switch (kb) {   // a constant class count per case keeps acc in registers
#define HEAD_CASE(n) case n: head_accumulate(acc, n, xt, a->weight, c0, C, a->keys[t], \
                                             rows_lo, rows_hi, threshold); break;
                HEAD_CASE(1) HEAD_CASE(2) HEAD_CASE(3) HEAD_CASE(4) HEAD_CASE(5) HEAD_CASE(6)
                HEAD_CASE(7) HEAD_CASE(8) HEAD_CASE(9) HEAD_CASE(10) HEAD_CASE(11)
                HEAD_CASE(12) HEAD_CASE(13) HEAD_CASE(14) HEAD_CASE(15) HEAD_CASE(16)
#undef HEAD_CASE
                }
                for (int c = 0; c < kb; c++)
                    _mm512_store_ps(logits + (size_t)(c0 + c) * HEAD_ROWS, acc[c]);
            }
            for (int r = 0; r < nr; r++) {      // + bias, then softmax_forward's row
                float *out = a->probs + ((size_t)t * N + i0 + r) * K;
                for (int c = 0; c < K; c++)
                    out[c] = logits[(size_t)c * HEAD_ROWS + r] + (a->bias ? a->bias[c] : 0.0f);
                softmax_row(out, out, K);
            }
        }
    }
    free(xt);
    free(logits);
}

static int mc_head_forward(float *probs, const float *inp, const float *weight, const float *bias,
                           int N, int C, int K, float p, const uint64_t *keys, int T,
                           int64_t row0) {
    // probs (T,N,K); inp (N,C); weight (K,C); bias (K) or NULL; keys (T)
    if (N <= 0 || T <= 0) return 0;
    HeadJob job = {probs, inp, weight, bias, N, C, K, T, p, keys, row0, 0};
    parallel_for((N + HEAD_ROWS - 1) / HEAD_ROWS, 1, head_blocks, &job);
    return atomic_load(&job.failed) ? -1 : 0;
}
#endif

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
    .dropout_channels = dropout_channels,
    .softmax_forward = softmax_forward,
    .crossentropy_backward = crossentropy_backward,
    .adam_update = adam_update,
    .axpy = axpy,
    .sparse_matmul_forward = sparse_matmul_forward,
    .sparse_matmul_backward = sparse_matmul_backward,
    .conv2d_forward = conv2d_forward,
    .conv2d_backward = conv2d_backward,
    .maxpool_forward = maxpool_forward,
    .maxpool_backward = maxpool_backward,
    .embed_forward = embed_forward,
    .pool_forward = pool_forward,
    .pool_backward = pool_backward,
    .layernorm_forward = layernorm_forward,
    .gelu_forward = gelu_forward,
    .attention_forward = attention_forward,
    .layernorm_backward = layernorm_backward,
    .gelu_backward = gelu_backward,
    .attention_backward = attention_backward,
#ifdef CPU_MC_HEAD
    .mc_head_forward = mc_head_forward,
#endif
    .host_memory = 1,
};
