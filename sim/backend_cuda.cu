/* backend_cuda — the CUDA backend: every op of backend.h on one NVIDIA GPU, name for name and
 * argument for argument with backend_cpu.c (the reference), in the same order in this file:
 * memory, dense matmul (cuBLAS sgemm), sparse matmul, convolution (im2col + cuBLAS sgemm) and
 * max-pooling, relu, dropout, softmax and cross-entropy, AdamW; then score_rows, the per-row
 * acquisition-score reductions that the CPU leaves to the strategies' host functions, so that
 * a pool's probabilities never leave the GPU.
 *
 * Precision, and what is reproducible (README "CUDA backend" says it for users):
 *  - sgemm in fp32 with CUBLAS_PEDANTIC_MATH: plain fp32 FMA kernels, never TF32 or the BF16x9
 *    emulation, whatever the environment asks for. ALSIM_CUBLAS_MATH=default switches to
 *    CUBLAS_DEFAULT_MATH (also no TF32 for sgemm; for benchmarking the two).
 *  - One stream (the legacy default stream: uploads, kernels and cuBLAS in issue order), one
 *    cuBLAS handle with a fixed workspace of our own and atomics off, and kernels with a fixed
 *    reduction order (no atomics anywhere): a run repeats bit for bit on the same GPU model,
 *    driver and toolkit. cuBLAS documents that guarantee for a single stream and a given
 *    toolkit and architecture; across toolkits or GPU models the matmuls may round differently.
 *  - Compiled with -fmad=false (Makefile), as the CPU is compiled with contraction off (GCC in
 *    C11 mode), so elementwise ops round like backend_cpu.c: relu, dropout, cross-entropy,
 *    AdamW and the sparse matmuls (same loop order) give the CPU's bits; sqrtf and division are
 *    IEEE in CUDA (no --use_fast_math) and AdamW's bias corrections are computed on the host
 *    with the CPU's powf. softmax differs from the CPU by CUDA's expf (a few ulps), the dense
 *    matmuls by summation order.
 *  - score_rows calls the host functions' own per-row formulas (strategies/formulas.h), in
 *    double: results equal the host's up to CUDA's double log (<= 1 ulp per call).
 *
 * Errors: alloc returns NULL when the GPU is out of memory (the learner reports it and alsim
 * exits 3). Any other CUDA or cuBLAS failure (a bad launch, a lost device) leaves the context
 * unusable and the ops have no error return, so it ends the process with a message naming
 * file:line and exit code 3 (DESIGN.md §5: runtime failure), as llm.c's cudaCheck does.
 *
 * Shapes follow backend.h: N rows, C input channels, OC output channels, K classes, T samples.
 */
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <dlfcn.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "sim/backend.h"
}
#include "sim/rng.h"
#include "strategies/formulas.h"

#ifndef ALSIM_CUDA_ARCH
#define ALSIM_CUDA_ARCH "90"
#endif

// ----------------------------------------------------------------------------
// cuBLAS, opened with dlopen when a GPU is first used rather than linked: mapping libcublas
// and libcublasLt costs about 220 MiB of memory and 60 ms at every start, GPU or not. These
// are the only cuBLAS functions alsim calls (their exported _v2 names).

#define ALSIM_STR2(x) #x
#define ALSIM_STR(x) ALSIM_STR2(x)
static struct {
    decltype(&cublasCreate_v2) create;
    decltype(&cublasSetMathMode) set_math_mode;
    decltype(&cublasSetAtomicsMode) set_atomics_mode;
    decltype(&cublasSetStream_v2) set_stream;
    decltype(&cublasSetWorkspace_v2) set_workspace;
    decltype(&cublasSgemm_v2) sgemm;
    decltype(&cublasGetStatusString) status_string;
} cb;

// Loads cb; 0, or -1 with the reason.
static int cublas_open(char *reason, size_t len) {
    static const char *const names[] = {"libcublas.so." ALSIM_STR(CUBLAS_VER_MAJOR), "libcublas.so"};
    void *lib = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0] && !lib; i++)
        lib = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(reason, len, "cuBLAS not found (%s); install the CUDA toolkit's cuBLAS or use --device cpu",
                 dlerror());
        return -1;
    }
    cb.create = (decltype(cb.create))dlsym(lib, "cublasCreate_v2");
    cb.set_math_mode = (decltype(cb.set_math_mode))dlsym(lib, "cublasSetMathMode");
    cb.set_atomics_mode = (decltype(cb.set_atomics_mode))dlsym(lib, "cublasSetAtomicsMode");
    cb.set_stream = (decltype(cb.set_stream))dlsym(lib, "cublasSetStream_v2");
    cb.set_workspace = (decltype(cb.set_workspace))dlsym(lib, "cublasSetWorkspace_v2");
    cb.sgemm = (decltype(cb.sgemm))dlsym(lib, "cublasSgemm_v2");
    cb.status_string = (decltype(cb.status_string))dlsym(lib, "cublasGetStatusString");
    if (!cb.create || !cb.set_math_mode || !cb.set_atomics_mode || !cb.set_stream ||
        !cb.set_workspace || !cb.sgemm || !cb.status_string) {
        snprintf(reason, len, "%s lacks a function alsim needs (an older cuBLAS?); use --device cpu", names[0]);
        return -1;
    }
    return 0;
}

// ----------------------------------------------------------------------------
// checked calls: print where, and end the process with exit code 3

static void cuda_check(cudaError_t e, const char *file, int line) {
    if (e == cudaSuccess) return;
    fprintf(stderr, "alsim: CUDA error at %s:%d: %s (%s)\n", file, line, cudaGetErrorString(e),
            cudaGetErrorName(e));
    exit(3);
}
#define cudaCheck(e) cuda_check((e), __FILE__, __LINE__)
#define launchCheck() cuda_check(cudaGetLastError(), __FILE__, __LINE__)

static void cublas_check(cublasStatus_t s, const char *file, int line) {
    if (s == CUBLAS_STATUS_SUCCESS) return;
    fprintf(stderr, "alsim: cuBLAS error at %s:%d: %s\n", file, line, cb.status_string(s));
    exit(3);
}
#define cublasCheck(s) cublas_check((s), __FILE__, __LINE__)

// The one cuBLAS handle (on the legacy default stream), its workspace, and a small device
// buffer score_rows reduces into; set up once by backend_cuda_get.
static cublasHandle_t cublas_handle;
static void *cublas_workspace;
#define CUBLAS_WORKSPACE_BYTES ((size_t)32 << 20)   /* what cuBLAS asks for on Hopper */
static double *score_buf;                           /* (SCORE_PIECE) */
#define SCORE_PIECE 65536                           /* rows reduced per download */
static char device_desc[384];                       /* Backend.device */

#define BLOCK 256

// Blocks for n elements at BLOCK threads, capped: the kernels loop with a grid stride.
static unsigned blocks_for(size_t n) {
    size_t b = (n + BLOCK - 1) / BLOCK;
    if (b < 1) b = 1;
    return b > 65535u * 16 ? 65535u * 16 : (unsigned)b;
}

#define GRID_STRIDE_LOOP(idx, n) \
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < (n); \
         idx += (size_t)gridDim.x * blockDim.x)

// ----------------------------------------------------------------------------
// memory

static void *cuda_alloc(size_t bytes) {
    void *p = NULL;
    if (cudaMalloc(&p, bytes ? bytes : 1) != cudaSuccess) {   // 256-byte aligned
        (void)cudaGetLastError();   // out of memory is not sticky: clear it, report NULL
        return NULL;
    }
    return p;
}

static void cuda_free(void *p) {
    if (p) cudaCheck(cudaFree(p));
}

static void cuda_upload(void *dst, const void *src_host, size_t bytes) {
    if (bytes) cudaCheck(cudaMemcpy(dst, src_host, bytes, cudaMemcpyHostToDevice));
}

static void cuda_download(void *dst_host, const void *src, size_t bytes) {
    if (bytes) cudaCheck(cudaMemcpy(dst_host, src, bytes, cudaMemcpyDeviceToHost));
}

static void cuda_zero(void *p, size_t bytes) {
    if (bytes) cudaCheck(cudaMemsetAsync(p, 0, bytes, 0));
}

// ----------------------------------------------------------------------------
// matmul: out = inp · Wᵀ + b, weights (OC,C) like nn.Linear
//
// cuBLAS is column-major; a row-major (R,S) matrix is a column-major (S,R) one, so each
// product below is the transposed one: out (N,OC) = inp · Wᵀ is outᵀ (OC,N) = W · inpᵀ.

__global__ void add_bias_kernel(float *out, const float *bias, int N, int OC) {
    // out (N,OC) += bias (OC) per row, in float, after the product (as the CPU does)
    GRID_STRIDE_LOOP(idx, (size_t)N * OC) out[idx] += bias[idx % OC];
}

// dbias (OC) = column sums of dout (N,OC), accumulated in float in row order (as the CPU):
// one thread per column, so the order is fixed and the bits are the CPU's.
__global__ void column_sums_kernel(float *dbias, const float *dout, int N, int OC) {
    int o = blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= OC) return;
    float s = 0.0f;
    for (int i = 0; i < N; i++) s += dout[(size_t)i * OC + o];
    dbias[o] = s;
}

static void column_sums(float *dbias, const float *dout, int N, int OC) {
    column_sums_kernel<<<(OC + BLOCK - 1) / BLOCK, BLOCK>>>(dbias, dout, N, OC);
    launchCheck();
}

static void matmul_forward(float *out, const float *inp, const float *weight, const float *bias,
                           int N, int C, int OC) {
    // out (N,OC), inp (N,C), weight (OC,C), bias (OC) or NULL
    if (N <= 0 || OC <= 0) return;
    const float one = 1.0f, zero = 0.0f;
    cublasCheck(cb.sgemm(cublas_handle, CUBLAS_OP_T, CUBLAS_OP_N, OC, N, C,
                            &one, weight, C, inp, C, &zero, out, OC));
    if (bias) {
        add_bias_kernel<<<blocks_for((size_t)N * OC), BLOCK>>>(out, bias, N, OC);
        launchCheck();
    }
}

static void matmul_backward(float *dinp, float *dweight, float *dbias,
                            const float *dout, const float *inp, const float *weight,
                            int N, int C, int OC) {
    // dinp (N,C) or NULL, dweight (OC,C) or NULL, dbias (OC) or NULL; dout (N,OC), inp (N,C),
    // weight (OC,C). All outputs are overwritten.
    if (N <= 0) {   // no rows: zero gradients
        if (dweight) cuda_zero(dweight, (size_t)OC * C * sizeof(float));
        if (dbias) cuda_zero(dbias, (size_t)OC * sizeof(float));
        return;
    }
    const float one = 1.0f, zero = 0.0f;
    if (dinp) {     // dinp = dout · W, i.e. dinpᵀ (C,N) = Wᵀ · doutᵀ
        cublasCheck(cb.sgemm(cublas_handle, CUBLAS_OP_N, CUBLAS_OP_N, C, N, OC,
                                &one, weight, C, dout, OC, &zero, dinp, C));
    }
    // dweight = doutᵀ · inp, i.e. dweightᵀ (C,OC) = inpᵀ · dout
    if (dweight) cublasCheck(cb.sgemm(cublas_handle, CUBLAS_OP_N, CUBLAS_OP_T, C, OC, N,
                            &one, inp, C, dout, OC, &zero, dweight, C));
    if (dbias) column_sums(dbias, dout, N, OC);
}

// ----------------------------------------------------------------------------
// sparse matmul: out = X · weight_t + b, X in CSR, weight_t (C,OC) = Wᵀ
//
// Both kernels keep the CPU's order of additions per output element, so the bits are the
// CPU's, and neither uses atomics. Forward: one thread per (row, output column), threads of
// a warp reading consecutive columns of a weight_t row (coalesced). Backward: dweight_t is
// Xᵀ·dout, a scatter; instead of atomics (order-dependent), each thread owns one column o of
// one slice of weight_t rows and scans every nonzero in row order, adding those that fall in
// its slice: each element gets its additions in the CPU's order.

// out[i,o] (the CPU's order: bias, then each nonzero of row i in turn)
__host__ __device__ inline float sparse_forward_elem(const int64_t *indptr,
                                                     const int32_t *indices, const float *values,
                                                     const float *weight_t, const float *bias,
                                                     int OC, int i, int o) {
    float s = bias ? bias[o] : 0.0f;
    for (int64_t p = indptr[i]; p < indptr[i + 1]; p++)
        s += values[p] * weight_t[(size_t)indices[p] * OC + o];
    return s;
}

// Column o of rows [j0, j1) of dweight_t (zeroed before): every nonzero in row order, those
// in the slice added, so each element sees the CPU's order of additions.
__host__ __device__ inline void sparse_backward_slice(float *dweight_t, const float *dout,
                                                      const int64_t *indptr,
                                                      const int32_t *indices,
                                                      const float *values, int N, int OC, int o,
                                                      int j0, int j1) {
    for (int i = 0; i < N; i++) {
        const float d = dout[(size_t)i * OC + o];
        for (int64_t p = indptr[i]; p < indptr[i + 1]; p++) {
            const int j = indices[p];
            if (j >= j0 && j < j1) dweight_t[(size_t)j * OC + o] += values[p] * d;
        }
    }
}

__global__ void sparse_forward_kernel(float *out, const int64_t *indptr, const int32_t *indices,
                                      const float *values, const float *weight_t,
                                      const float *bias, int N, int OC) {
    int o = blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= OC) return;
    for (int i = blockIdx.y; i < N; i += gridDim.y)
        out[(size_t)i * OC + o] = sparse_forward_elem(indptr, indices, values, weight_t, bias,
                                                      OC, i, o);
}

// Block row y of the grid owns rows [C·y/slices, C·(y+1)/slices) of dweight_t.
__global__ void sparse_backward_kernel(float *dweight_t, const float *dout, const int64_t *indptr,
                                       const int32_t *indices, const float *values, int N, int C,
                                       int OC) {
    int o = blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= OC) return;
    const int j0 = (int)((int64_t)C * blockIdx.y / gridDim.y);
    const int j1 = (int)((int64_t)C * (blockIdx.y + 1) / gridDim.y);
    sparse_backward_slice(dweight_t, dout, indptr, indices, values, N, OC, o, j0, j1);
}

static void sparse_matmul_forward(float *out, const int64_t *indptr, const int32_t *indices,
                                  const float *values, const float *weight_t, const float *bias,
                                  int N, int C, int OC) {
    // out (N,OC); indptr (N+1), indices (nnz), values (nnz); weight_t (C,OC); bias (OC) or NULL
    if (N <= 0 || OC <= 0) return;
    dim3 grid((OC + 127) / 128, N < 65535 ? N : 65535);
    sparse_forward_kernel<<<grid, 128>>>(out, indptr, indices, values, weight_t, bias, N, OC);
    launchCheck();
}

static void sparse_matmul_backward(float *dweight_t, float *dbias, const float *dout,
                                   const int64_t *indptr, const int32_t *indices,
                                   const float *values, int N, int C, int OC) {
    // dweight_t (C,OC), dbias (OC) or NULL: overwritten; dout (N,OC); CSR as above
    cuda_zero(dweight_t, (size_t)C * OC * sizeof(float));
    if (N > 0 && C > 0 && OC > 0) {
        int slices = C < 256 ? C : 256;
        dim3 grid((OC + 127) / 128, slices);
        sparse_backward_kernel<<<grid, 128>>>(dweight_t, dout, indptr, indices, values, N, C, OC);
        launchCheck();
    }
    if (dbias) {
        if (N > 0) column_sums(dbias, dout, N, OC);
        else cuda_zero(dbias, (size_t)OC * sizeof(float));
    }
}

// ----------------------------------------------------------------------------
// convolution (valid, stride 1) by im2col + one cuBLAS gemm per group of G rows, as the CPU:
// NCHW images, weight (OC,C,k,k); for a group of g images, col (C·k·k, g·P) holds the patches
// and weight · col is (OC, g·P), channel o's g planes side by side. The data movement (im2col,
// col2im, the copies between (OC, g·P) and (g,OC,P), the bias sum) is exact, so it gives the
// CPU's bits; the gemms round as cuBLAS does.

// Row-major C (M,N) = op(A) · op(B) + beta·C, with ta/tb saying whether A/B are transposed:
// as column-major, Cᵀ = op(B)ᵀ · op(A)ᵀ (see matmul above).
static void sgemm_rowmajor(cublasOperation_t ta, cublasOperation_t tb, int M, int N, int K,
                           const float *A, int lda, const float *B, int ldb, float beta, float *C,
                           int ldc) {
    const float one = 1.0f;
    cublasCheck(cb.sgemm(cublas_handle, tb, ta, N, M, K, &one, B, ldb, A, lda, &beta, C, ldc));
}

// col (C·k·k, g·P): one thread per entry; row (c·k + i)·k + j, column m·P + y·OW + x holds
// inp[m,c,y+i,x+j] (threads of a warp write consecutive columns).
__global__ void im2col_kernel(float *col, const float *inp, int g, int C, int H, int W, int k) {
    const int OH = H - k + 1, OW = W - k + 1;
    const size_t gP = (size_t)g * OH * OW;
    GRID_STRIDE_LOOP(idx, (size_t)C * k * k * gP) {
        const size_t row = idx / gP, q = idx % gP;
        const int c = (int)(row / ((size_t)k * k)), i = (int)(row / k % k), j = (int)(row % k);
        const int m = (int)(q / ((size_t)OH * OW)), y = (int)(q / OW % OH), x = (int)(q % OW);
        col[idx] = inp[(((size_t)m * C + c) * H + y + i) * W + x + j];
    }
}

// dinp (g,C,H,W): one thread per pixel gathers the col entries that copied it, in (i, j)
// order from 0: the CPU's order of additions (its scatter), so the same bits, and no atomics.
__global__ void col2im_kernel(float *dinp, const float *dcol, int g, int C, int H, int W, int k) {
    const int OH = H - k + 1, OW = W - k + 1;
    const size_t gP = (size_t)g * OH * OW;
    GRID_STRIDE_LOOP(idx, (size_t)g * C * H * W) {
        const int x0 = (int)(idx % W), y0 = (int)(idx / W % H), c = (int)(idx / ((size_t)H * W) % C);
        const int m = (int)(idx / ((size_t)C * H * W));
        float s = 0.0f;
        for (int i = 0; i < k; i++) {
            const int y = y0 - i;
            if (y < 0 || y >= OH) continue;
            for (int j = 0; j < k; j++) {
                const int x = x0 - j;
                if (x < 0 || x >= OW) continue;
                s += dcol[((size_t)(c * k + i) * k + j) * gP + ((size_t)m * OH + y) * OW + x];
            }
        }
        dinp[idx] = s;
    }
}

// out (g,OC,P) = prod (OC, g·P) regrouped by image, + bias (OC) or NULL.
__global__ void conv_out_kernel(float *out, const float *prod, const float *bias, int g, int OC, int P) {
    GRID_STRIDE_LOOP(idx, (size_t)g * OC * P) {
        const int p = (int)(idx % P), o = (int)(idx / P % OC), m = (int)(idx / ((size_t)P * OC));
        const float v = prod[(size_t)o * g * P + (size_t)m * P + p];
        out[idx] = bias ? v + bias[o] : v;
    }
}

// dprod (OC, g·P) = dout (g,OC,P) regrouped by channel.
__global__ void conv_dprod_kernel(float *dprod, const float *dout, int g, int OC, int P) {
    GRID_STRIDE_LOOP(idx, (size_t)g * OC * P) {
        const int p = (int)(idx % P), o = (int)(idx / P % OC), m = (int)(idx / ((size_t)P * OC));
        dprod[(size_t)o * g * P + (size_t)m * P + p] = dout[idx];
    }
}

// dbias[o] = Σ_n Σ_p dout[n,o,p] in float, n then p: one thread per channel (the CPU's order).
__global__ void conv_dbias_kernel(float *dbias, const float *dout, int N, int OC, int P) {
    const int o = blockIdx.x * blockDim.x + threadIdx.x;
    if (o >= OC) return;
    float s = 0.0f;
    for (int n = 0; n < N; n++)
        for (int p = 0; p < P; p++) s += dout[((size_t)n * OC + o) * P + p];
    dbias[o] = s;
}

static void conv2d_forward(float *out, float *work, const float *inp, const float *weight,
                           const float *bias, int N, int C, int H, int W, int OC, int k, int G) {
    // out (N,OC,OH,OW); work: col (C·k·k, G·P) then prod (OC, G·P); inp (N,C,H,W);
    // weight (OC, C·k·k); bias (OC) or NULL
    const int P = (H - k + 1) * (W - k + 1), CKK = C * k * k;
    float *col = work, *prod = work + (size_t)CKK * G * P;
    for (int n0 = 0; n0 < N; n0 += G) {
        const int g = N - n0 < G ? N - n0 : G, gP = g * P;
        im2col_kernel<<<blocks_for((size_t)CKK * gP), BLOCK>>>(col, inp + (size_t)n0 * C * H * W, g, C, H, W, k);
        launchCheck();
        sgemm_rowmajor(CUBLAS_OP_N, CUBLAS_OP_N, OC, gP, CKK, weight, CKK, col, gP, 0.0f, prod, gP);
        conv_out_kernel<<<blocks_for((size_t)OC * gP), BLOCK>>>(out + (size_t)n0 * OC * P, prod, bias, g, OC, P);
        launchCheck();
    }
}

static void conv2d_backward(float *dinp, float *dweight, float *dbias, float *work,
                            const float *dout, const float *inp, const float *weight,
                            int N, int C, int H, int W, int OC, int k, int G) {
    // dinp (N,C,H,W) or NULL, dweight (OC, C·k·k), dbias (OC) or NULL: overwritten;
    // work as conv2d_forward's; dout (N,OC,OH,OW), inp (N,C,H,W), weight (OC, C·k·k)
    const int P = (H - k + 1) * (W - k + 1), CKK = C * k * k;
    float *col = work, *dprod = work + (size_t)CKK * G * P;
    if (N <= 0) cuda_zero(dweight, (size_t)OC * CKK * sizeof(float));
    for (int n0 = 0; n0 < N; n0 += G) {
        const int g = N - n0 < G ? N - n0 : G, gP = g * P;
        im2col_kernel<<<blocks_for((size_t)CKK * gP), BLOCK>>>(col, inp + (size_t)n0 * C * H * W, g, C, H, W, k);
        launchCheck();
        conv_dprod_kernel<<<blocks_for((size_t)OC * gP), BLOCK>>>(dprod, dout + (size_t)n0 * OC * P, g, OC, P);
        launchCheck();
        // dweight (+)= dprod · colᵀ
        sgemm_rowmajor(CUBLAS_OP_N, CUBLAS_OP_T, OC, CKK, gP, dprod, gP, col, gP, n0 ? 1.0f : 0.0f,
                       dweight, CKK);
        if (dinp) {     // the patches' gradients weightᵀ · dprod, into col (no longer needed)
            sgemm_rowmajor(CUBLAS_OP_T, CUBLAS_OP_N, CKK, gP, OC, weight, CKK, dprod, gP, 0.0f, col, gP);
            col2im_kernel<<<blocks_for((size_t)g * C * H * W), BLOCK>>>(dinp + (size_t)n0 * C * H * W, col,
                                                                        g, C, H, W, k);
            launchCheck();
        }
    }
    if (dbias) {
        conv_dbias_kernel<<<(OC + BLOCK - 1) / BLOCK, BLOCK>>>(dbias, dout, N, OC, P);
        launchCheck();
    }
}

// ----------------------------------------------------------------------------
// max-pooling: s x s windows, stride s (the CPU's loops, one thread per output or input pixel)

__global__ void maxpool_forward_kernel(float *out, int32_t *argmax, const float *inp, int N, int C,
                                       int H, int W, int s) {
    const int PH = H / s, PW = W / s;
    GRID_STRIDE_LOOP(idx, (size_t)N * C * PH * PW) {
        const int px = (int)(idx % PW), py = (int)(idx / PW % PH);
        const float *in = inp + idx / ((size_t)PH * PW) * H * W;
        int best = py * s * W + px * s;
        for (int i = 0; i < s; i++)
            for (int j = 0; j < s; j++) {
                const int at = (py * s + i) * W + px * s + j;
                if (in[at] > in[best]) best = at;
            }
        out[idx] = in[best];
        argmax[idx] = best;
    }
}

// dinp: each input pixel takes dout of its window when it is the window's argmax (a gather).
__global__ void maxpool_backward_kernel(float *dinp, const float *dout, const int32_t *argmax,
                                        int N, int C, int H, int W, int s) {
    const int PH = H / s, PW = W / s;
    GRID_STRIDE_LOOP(idx, (size_t)N * C * H * W) {
        const int x = (int)(idx % W), y = (int)(idx / W % H);
        const size_t plane = idx / ((size_t)H * W);
        const int py = y / s, px = x / s;
        float v = 0.0f;
        if (py < PH && px < PW) {
            const size_t q = (plane * PH + py) * PW + px;
            if (argmax[q] == y * W + x) v = dout[q];
        }
        dinp[idx] = v;
    }
}

static void maxpool_forward(float *out, int32_t *argmax, const float *inp, int N, int C, int H,
                            int W, int s) {
    // out (N,C,PH,PW), argmax (N,C,PH,PW); inp (N,C,H,W)
    const size_t n = (size_t)N * C * (H / s) * (W / s);
    if (!n) return;
    maxpool_forward_kernel<<<blocks_for(n), BLOCK>>>(out, argmax, inp, N, C, H, W, s);
    launchCheck();
}

static void maxpool_backward(float *dinp, const float *dout, const int32_t *argmax, int N, int C,
                             int H, int W, int s) {
    // dinp (N,C,H,W); dout, argmax (N,C,PH,PW)
    const size_t n = (size_t)N * C * H * W;
    if (!n) return;
    maxpool_backward_kernel<<<blocks_for(n), BLOCK>>>(dinp, dout, argmax, N, C, H, W, s);
    launchCheck();
}

// ----------------------------------------------------------------------------
// relu

__global__ void relu_forward_kernel(float *out, const float *inp, size_t n) {
    GRID_STRIDE_LOOP(i, n) out[i] = inp[i] > 0.0f ? inp[i] : 0.0f;
}

__global__ void relu_backward_kernel(float *dinp, const float *dout, const float *out, size_t n) {
    GRID_STRIDE_LOOP(i, n) dinp[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

static void relu_forward(float *out, const float *inp, size_t n) {
    if (!n) return;
    relu_forward_kernel<<<blocks_for(n), BLOCK>>>(out, inp, n);
    launchCheck();
}

static void relu_backward(float *dinp, const float *dout, const float *out, size_t n) {
    if (!n) return;
    relu_backward_kernel<<<blocks_for(n), BLOCK>>>(dinp, dout, out, n);
    launchCheck();
}

// ----------------------------------------------------------------------------
// dropout: out = inp · scale where the mask keeps, else 0 (a select, so a dropped NaN is 0)

// Units 4g..4g+3 of row i (row id row0+i) of x (N,C) into y: one hash holds their four
// 16-bit uniforms, low bits first (rng_dropout_keep). VEC4: C % 4 == 0 and 16-byte aligned
// buffers, so the group is one float4 load and store. y may equal x (read before write).
template <bool VEC4>
__host__ __device__ inline void dropout_group(float *y, const float *x, int C, uint32_t threshold,
                                              float scale, uint64_t key, int64_t row0, int i,
                                              int g) {
    const uint64_t h = rng_hash(key, rng_mask_row(row0, i), (uint64_t)g);
    const size_t base = (size_t)i * C + 4 * (size_t)g;
    if (VEC4) {
        float4 v = *(const float4 *)(x + base);
        v.x = ((uint32_t)(h >> 0) & 0xFFFFu) >= threshold ? v.x * scale : 0.0f;
        v.y = ((uint32_t)(h >> 16) & 0xFFFFu) >= threshold ? v.y * scale : 0.0f;
        v.z = ((uint32_t)(h >> 32) & 0xFFFFu) >= threshold ? v.z * scale : 0.0f;
        v.w = ((uint32_t)(h >> 48) & 0xFFFFu) >= threshold ? v.w * scale : 0.0f;
        *(float4 *)(y + base) = v;
    } else {
        const int units = C - 4 * g < 4 ? C - 4 * g : 4;
        for (int b = 0; b < units; b++) {
            const uint32_t u = (uint32_t)(h >> (16 * b)) & 0xFFFFu;
            const float v = x[base + b] * scale;
            y[base + b] = u >= threshold ? v : 0.0f;
        }
    }
}

// One thread per group of 4 units, rows along grid y.
template <bool VEC4>
__global__ void dropout_kernel(float *y, const float *x, int N, int C, uint32_t threshold,
                               float scale, uint64_t key, int64_t row0) {
    const int g = blockIdx.x * blockDim.x + threadIdx.x;
    if (g >= (C + 3) >> 2) return;
    for (int i = blockIdx.y; i < N; i += gridDim.y)
        dropout_group<VEC4>(y, x, C, threshold, scale, key, row0, i, g);
}

static void dropout_apply(float *y, const float *x, int N, int C, float p,
                          uint64_t key, int64_t row0) {
    if (N <= 0 || C <= 0) return;
    if (p <= 0.0f) {    // p == 0 keeps everything with scale 1: a copy
        if (y != x)
            cudaCheck(cudaMemcpyAsync(y, x, (size_t)N * C * sizeof(float),
                                      cudaMemcpyDeviceToDevice, 0));
        return;
    }
    const uint32_t threshold = rng_dropout_threshold(p);   // on the host, as the CPU
    const float scale = 1.0f / (1.0f - p);
    const int groups = (C + 3) / 4;
    dim3 grid((groups + 127) / 128, N < 65535 ? N : 65535);
    const int vec4 = C % 4 == 0 && (((uintptr_t)x | (uintptr_t)y) & 15) == 0;
    if (vec4) dropout_kernel<true><<<grid, 128>>>(y, x, N, C, threshold, scale, key, row0);
    else dropout_kernel<false><<<grid, 128>>>(y, x, N, C, threshold, scale, key, row0);
    launchCheck();
}

static void dropout_forward(float *out, const float *inp, int N, int C, float p,
                            uint64_t key, int64_t row0) {
    dropout_apply(out, inp, N, C, p, key, row0);
}

static void dropout_backward(float *dinp, const float *dout, int N, int C, float p,
                             uint64_t key, int64_t row0) {
    dropout_apply(dinp, dout, N, C, p, key, row0);
}

// Channel dropout: one thread per value of y (N,C,S), its channel's uniform from the hash of
// the channel's group of 4, as dropout_group draws unit c's. y may equal x.
__global__ void dropout_channels_kernel(float *y, const float *x, int N, int C, int S,
                                        uint32_t threshold, float scale, uint64_t key,
                                        int64_t row0) {
    const size_t total = (size_t)N * C * S;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < total;
         e += (size_t)gridDim.x * blockDim.x) {
        const size_t ic = e / (size_t)S;
        const int i = (int)(ic / (size_t)C), c = (int)(ic % (size_t)C);
        const uint64_t h = rng_hash(key, rng_mask_row(row0, i), (uint64_t)(c >> 2));
        const uint32_t u = (uint32_t)(h >> (16 * (c & 3))) & 0xFFFFu;
        const float v = x[e] * scale;
        y[e] = u >= threshold ? v : 0.0f;
    }
}

static void dropout_channels(float *out, const float *inp, int N, int C, int S, float p,
                             uint64_t key, int64_t row0) {
    if (N <= 0 || C <= 0 || S <= 0) return;
    const size_t total = (size_t)N * C * S;
    if (p <= 0.0f) {
        if (out != inp)
            cudaCheck(cudaMemcpyAsync(out, inp, total * sizeof(float), cudaMemcpyDeviceToDevice, 0));
        return;
    }
    const uint32_t threshold = rng_dropout_threshold(p);
    const float scale = 1.0f / (1.0f - p);
    const size_t blocks = (total + BLOCK - 1) / BLOCK;
    dropout_channels_kernel<<<(unsigned)(blocks < 65535 ? blocks : 65535), BLOCK>>>(
        out, inp, N, C, S, threshold, scale, key, row0);
    launchCheck();
}

// ----------------------------------------------------------------------------
// softmax and cross-entropy

// One thread per row, the CPU's loop: max, expf and a float sum in class order, then divide.
// In place is fine (each x[j] is read before y[j] is written, by the same thread).
__global__ void softmax_forward_kernel(float *probs, const float *logits, int N, int K) {
    GRID_STRIDE_LOOP(i, (size_t)N) {
        const float *x = logits + i * K;
        float *y = probs + i * K;
        float maxv = x[0];
        for (int j = 1; j < K; j++) if (x[j] > maxv) maxv = x[j];
        float sum = 0.0f;
        for (int j = 0; j < K; j++) {
            float e = expf(x[j] - maxv);
            y[j] = e;
            sum += e;
        }
        for (int j = 0; j < K; j++) y[j] /= sum;
    }
}

static void softmax_forward(float *probs, const float *logits, int N, int K) {
    if (N <= 0) return;
    softmax_forward_kernel<<<blocks_for((size_t)N), BLOCK>>>(probs, logits, N, K);
    launchCheck();
}

__global__ void crossentropy_backward_kernel(float *dlogits, const float *probs,
                                             const int32_t *targets, int N, int K) {
    GRID_STRIDE_LOOP(idx, (size_t)N * K) {
        const size_t i = idx / K;
        const int j = (int)(idx % K);
        float indicator = j == targets[i] ? 1.0f : 0.0f;
        dlogits[idx] = (probs[idx] - indicator) / (float)N;
    }
}

static void crossentropy_backward(float *dlogits, const float *probs, const int32_t *targets,
                                  int N, int K) {
    // dlogits (N,K), probs (N,K), targets (N)
    if (N <= 0) return;
    crossentropy_backward_kernel<<<blocks_for((size_t)N * K), BLOCK>>>(dlogits, probs, targets,
                                                                       N, K);
    launchCheck();
}

// ----------------------------------------------------------------------------
// AdamW (as in llm.c's adamw_kernel; the bias corrections come from the host, as the CPU's)

__global__ void adam_update_kernel(float *param, const float *grad, float *m, float *v, size_t n,
                                   float lr, float beta1, float beta2, float eps, float wd,
                                   float beta1_correction, float beta2_correction) {
    GRID_STRIDE_LOOP(i, n) {
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

static void adam_update(float *param, const float *grad, float *m, float *v, size_t n,
                        float lr, float beta1, float beta2, float eps, float wd, int t) {
    if (!n) return;
    const float beta1_correction = 1.0f - powf(beta1, (float)t);
    const float beta2_correction = 1.0f - powf(beta2, (float)t);
    adam_update_kernel<<<blocks_for(n), BLOCK>>>(param, grad, m, v, n, lr, beta1, beta2, eps, wd,
                                                 beta1_correction, beta2_correction);
    launchCheck();
}

// axpy: y += a·x, with -fmad=false a multiply then an add, as the CPU rounds it

__global__ void axpy_kernel(float *y, const float *x, float a, size_t n) {
    GRID_STRIDE_LOOP(i, n) y[i] += a * x[i];
}

static void axpy(float *y, const float *x, float a, size_t n) {
    if (!n) return;
    axpy_kernel<<<blocks_for(n), BLOCK>>>(y, x, a, n);
    launchCheck();
}

// ----------------------------------------------------------------------------
// score_rows: the strategies' per-row formulas (strategies/formulas.h, the host functions'
// own), one thread per row, so each score equals the host's up to CUDA's double log.

// The score of row i: reduction kind of probs (N,K) or mc (T,N,K).
__device__ inline double score_row(const float *probs, const float *mc, int N, int K, int T,
                                   int kind, int i) {
    const float *p = probs ? probs + (size_t)i * K : NULL;     // (K)
    const float *p0 = mc ? mc + (size_t)i * K : NULL;           // sample t at p0 + t·N·K
    const size_t stride = (size_t)N * K;
    switch (kind) {
    case REDUCE_LEAST_CONFIDENCE: return formula_least_confidence(p, K);
    case REDUCE_ENTROPY: return formula_entropy(p, K);
    case REDUCE_MARGIN: return formula_margin(p, K);
    case REDUCE_BALD: return formula_bald(p0, stride, K, T);
    case REDUCE_VAR_RATIOS: return formula_var_ratios(p0, stride, K, T);
    case REDUCE_MEAN_STD: return formula_mean_std(p0, stride, K, T);
    case REDUCE_MC_ENTROPY: return formula_mc_entropy(p0, stride, K, T);
    default: return NAN;
    }
}

__global__ void score_rows_kernel(double *scores, const float *probs, const float *mc,
                                  int N, int K, int T, int kind, int row_off, int rows) {
    const int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r < rows) scores[r] = score_row(probs, mc, N, K, T, kind, row_off + r);
}

static void score_rows(double *scores_host, const float *probs, const float *mc, int N, int K,
                       int T, int kind) {
    // scores_host (N) on the host; probs (N,K) and mc (T,N,K) backend buffers
    if (N <= 0) return;
    const int ok = kind > REDUCE_NONE && kind < REDUCE_COUNT && K >= 1 &&
                   (reduce_needs_mc(kind) ? mc != NULL && T >= 1 : probs != NULL);
    if (!ok) {      // a caller's mistake: NaN scores rank last rather than look meaningful
        for (int i = 0; i < N; i++) scores_host[i] = NAN;
        return;
    }
    for (int off = 0; off < N; off += SCORE_PIECE) {
        const int rows = N - off < SCORE_PIECE ? N - off : SCORE_PIECE;
        score_rows_kernel<<<(rows + 127) / 128, 128>>>(score_buf, probs, mc, N, K, T, kind, off,
                                                       rows);
        launchCheck();
        cuda_download(scores_host + off, score_buf, (size_t)rows * sizeof(double));
    }
}

// ----------------------------------------------------------------------------
// start-up: find a usable GPU, or say why not

__global__ void probe_kernel(int *out) { *out = 42; }

// Sets up device 0 (CUDA_VISIBLE_DEVICES picks which one that is). 0, or -1 with the reason.
static int cuda_setup(char *reason, size_t len) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess || count == 0) {
        if (e == cudaErrorInsufficientDriver)   // what the runtime says when there is no driver
            snprintf(reason, len, "no usable CUDA GPU: no NVIDIA driver found, or one older "
                     "than the CUDA %d.%d runtime alsim was built with (cudaGetDeviceCount: %s); "
                     "use --device cpu", CUDART_VERSION / 1000, CUDART_VERSION % 1000 / 10,
                     cudaGetErrorString(e));
        else if (e != cudaSuccess && e != cudaErrorNoDevice)
            snprintf(reason, len, "no usable CUDA GPU (cudaGetDeviceCount: %s); use --device cpu",
                     cudaGetErrorString(e));
        else
            snprintf(reason, len, "no CUDA GPU found (the NVIDIA driver sees none); use --device cpu");
        (void)cudaGetLastError();
        return -1;
    }
    cudaDeviceProp prop;
    if ((e = cudaSetDevice(0)) != cudaSuccess ||
        (e = cudaGetDeviceProperties(&prop, 0)) != cudaSuccess) {
        snprintf(reason, len, "CUDA GPU 0 is not usable (%s); use --device cpu",
                 cudaGetErrorString(e));
        (void)cudaGetLastError();
        return -1;
    }
    // The kernels are compiled for one architecture (Makefile CUDA_ARCH) plus its PTX: a GPU
    // older than that cannot run them. Launch one to find out now rather than mid-run.
    int *d_probe = NULL, probe = 0;
    if ((e = cudaMalloc(&d_probe, sizeof(int))) == cudaSuccess) {
        probe_kernel<<<1, 1>>>(d_probe);
        e = cudaGetLastError();
        if (e == cudaSuccess) e = cudaMemcpy(&probe, d_probe, sizeof(int), cudaMemcpyDeviceToHost);
        cudaFree(d_probe);
    }
    if (e != cudaSuccess || probe != 42) {
        snprintf(reason, len, "CUDA GPU 0 (%s, compute capability %d.%d) cannot run alsim's "
                 "kernels, built for sm_%s (%s); rebuild with make CUDA_ARCH=%d%d, or use "
                 "--device cpu", prop.name, prop.major, prop.minor, ALSIM_CUDA_ARCH,
                 cudaGetErrorString(e), prop.major, prop.minor);
        (void)cudaGetLastError();
        return -1;
    }

    if (cublas_open(reason, len) != 0) return -1;
    const char *math_env = getenv("ALSIM_CUBLAS_MATH");
    const int pedantic = !(math_env && strcmp(math_env, "default") == 0);
    cublasStatus_t s = cb.create(&cublas_handle);
    if (s == CUBLAS_STATUS_SUCCESS)
        s = cb.set_math_mode(cublas_handle, pedantic ? CUBLAS_PEDANTIC_MATH : CUBLAS_DEFAULT_MATH);
    if (s == CUBLAS_STATUS_SUCCESS) s = cb.set_atomics_mode(cublas_handle, CUBLAS_ATOMICS_NOT_ALLOWED);
    if (s == CUBLAS_STATUS_SUCCESS) s = cb.set_stream(cublas_handle, 0);
    if (s == CUBLAS_STATUS_SUCCESS) {
        // A fixed workspace of our own: cuBLAS then never picks one per call (its documented
        // condition for deterministic results besides a single stream).
        if (cudaMalloc(&cublas_workspace, CUBLAS_WORKSPACE_BYTES) != cudaSuccess ||
            cudaMalloc(&score_buf, SCORE_PIECE * sizeof(double)) != cudaSuccess) {
            (void)cudaGetLastError();
            snprintf(reason, len, "CUDA GPU 0 (%s): out of memory at start-up; use --device cpu",
                     prop.name);
            return -1;
        }
        s = cb.set_workspace(cublas_handle, cublas_workspace, CUBLAS_WORKSPACE_BYTES);
    }
    if (s != CUBLAS_STATUS_SUCCESS) {
        snprintf(reason, len, "cuBLAS could not start on CUDA GPU 0 (%s): %s; use --device cpu",
                 prop.name, cb.status_string(s));
        return -1;
    }
    int runtime = 0, driver = 0;
    cudaRuntimeGetVersion(&runtime);
    cudaDriverGetVersion(&driver);
    snprintf(device_desc, sizeof device_desc,
             "%s, %.1f GiB, compute capability %d.%d, %d SMs; CUDA runtime %d.%d, driver %d.%d; "
             "cuBLAS %s fp32",
             prop.name, (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), prop.major,
             prop.minor, prop.multiProcessorCount, runtime / 1000, runtime % 1000 / 10,
             driver / 1000, driver % 1000 / 10, pedantic ? "pedantic" : "default");
    return 0;
}

// ----------------------------------------------------------------------------
// the transformer encoder's ops, as the CPU's (one thread per element or row)

__global__ void embed_forward_kernel(float *out, const int32_t *ids, const int32_t *types, const float *word,
                                     const float *pos, const float *type, int T, int H, size_t n) {
    GRID_STRIDE_LOOP(idx, n) {
        const size_t r = idx / H;
        const int j = (int)(idx % H);
        out[idx] = word[(size_t)ids[r] * H + j] + pos[(r % T) * H + j] + type[(size_t)types[r] * H + j];
    }
}

static void embed_forward(float *out, const int32_t *ids, const int32_t *types, const float *word,
                          const float *pos, const float *type, int B, int T, int H) {
    const size_t n = (size_t)B * T * H;
    if (!n) return;
    embed_forward_kernel<<<blocks_for(n), BLOCK>>>(out, ids, types, word, pos, type, T, H, n);
    launchCheck();
}

// One thread per row: moments in double, as the CPU.
// Pooling: one thread per (sequence, column), tokens summed in order as on the CPU.
__global__ void pool_forward_kernel(float *out, const float *hidden, const uint8_t *mask, int B, int T, int H,
                                    int cls) {
    GRID_STRIDE_LOOP(r, (size_t)B * H) {
        const int s = (int)(r / H), j = (int)(r % H);
        const float *h0 = hidden + (size_t)s * T * H;
        if (cls) {
            out[r] = h0[j];
            continue;
        }
        float sum = 0.0f;
        int n = 0;
        for (int t = 0; t < T; t++)
            if (mask[(size_t)s * T + t]) {
                n++;
                sum += h0[(size_t)t * H + j];
            }
        out[r] = n ? sum / (float)n : 0.0f;
    }
}

static void pool_forward(float *out, const float *hidden, const uint8_t *mask, int B, int T, int H, int cls) {
    if (B <= 0 || H <= 0) return;
    pool_forward_kernel<<<blocks_for((size_t)B * H), BLOCK>>>(out, hidden, mask, B, T, H, cls);
    launchCheck();
}

// One thread per (sequence, column): its count, then every token's entry.
__global__ void pool_backward_kernel(float *dhidden, const float *dout, const uint8_t *mask, int B, int T, int H,
                                     int cls) {
    GRID_STRIDE_LOOP(r, (size_t)B * H) {
        const int s = (int)(r / H), j = (int)(r % H);
        int n = 0;
        for (int t = 0; t < T; t++) n += mask[(size_t)s * T + t] != 0;
        const float d = dout[r];
        for (int t = 0; t < T; t++) {
            const int on = cls ? t == 0 : mask[(size_t)s * T + t] != 0;
            dhidden[((size_t)s * T + t) * H + j] = !on ? 0.0f : cls ? d : d / (float)n;
        }
    }
}

static void pool_backward(float *dhidden, const float *dout, const uint8_t *mask, int B, int T, int H, int cls) {
    if (B <= 0 || H <= 0) return;
    pool_backward_kernel<<<blocks_for((size_t)B * H), BLOCK>>>(dhidden, dout, mask, B, T, H, cls);
    launchCheck();
}

__global__ void layernorm_forward_kernel(float *out, float *stats, const float *inp, const float *gamma,
                                         const float *beta, int N, int C, float eps) {
    GRID_STRIDE_LOOP(i, (size_t)N) {
        const float *x = inp + i * C;
        double s = 0, ss = 0;
        for (int j = 0; j < C; j++) s += x[j];
        const double mean = s / C;
        for (int j = 0; j < C; j++) ss += (x[j] - mean) * (x[j] - mean);
        const float m = (float)mean, rstd = (float)(1.0 / sqrt(ss / C + eps));
        float *o = out + i * C;
        for (int j = 0; j < C; j++) o[j] = (x[j] - m) * rstd * gamma[j] + beta[j];
        if (stats) stats[2 * i] = m, stats[2 * i + 1] = rstd;
    }
}

static void layernorm_forward(float *out, float *stats, const float *inp, const float *gamma,
                              const float *beta, int N, int C, float eps) {
    if (N <= 0) return;
    layernorm_forward_kernel<<<blocks_for((size_t)N), BLOCK>>>(out, stats, inp, gamma, beta, N, C, eps);
    launchCheck();
}

__global__ void gelu_forward_kernel(float *out, const float *inp, size_t n) {
    GRID_STRIDE_LOOP(i, n) out[i] = 0.5f * inp[i] * (1.0f + erff(inp[i] * 0.70710678118654752f));
}

static void gelu_forward(float *out, const float *inp, size_t n) {
    if (!n) return;
    gelu_forward_kernel<<<blocks_for(n), BLOCK>>>(out, inp, n);
    launchCheck();
}

// Scale, mask and softmax each row of probs (B·heads·T rows of T), one thread per row.
__global__ void attention_softmax_kernel(float *probs, const uint8_t *mask, int heads, int T, float scale,
                                         size_t rows) {
    GRID_STRIDE_LOOP(r, rows) {
        const int s = (int)(r / ((size_t)heads * T));
        float *row = probs + r * T;
        float maxv = -FLT_MAX;
        for (int j = 0; j < T; j++) {
            row[j] = row[j] * scale + (mask[(size_t)s * T + j] ? 0.0f : -FLT_MAX);
            if (row[j] > maxv) maxv = row[j];
        }
        float sum = 0.0f;
        for (int j = 0; j < T; j++) {
            row[j] = expf(row[j] - maxv);
            sum += row[j];
        }
        for (int j = 0; j < T; j++) row[j] /= sum;
    }
}

static void attention_forward(float *ctx, float *probs, const float *q, const float *k, const float *v,
                              const uint8_t *mask, int B, int T, int H, int heads, float scale) {
    // ctx (B·T,H), probs (B,heads,T,T); q, k, v (B·T,H), a head's columns strided by H
    const int dh = H / heads;
    if (B <= 0 || T <= 0) return;
    for (int s = 0; s < B; s++)
        for (int h = 0; h < heads; h++) {
            const size_t at = (size_t)s * T * H + (size_t)h * dh;
            sgemm_rowmajor(CUBLAS_OP_N, CUBLAS_OP_T, T, T, dh, q + at, H, k + at, H, 0.0f,
                           probs + ((size_t)s * heads + h) * T * T, T);
        }
    const size_t rows = (size_t)B * heads * T;
    attention_softmax_kernel<<<blocks_for(rows), BLOCK>>>(probs, mask, heads, T, scale, rows);
    launchCheck();
    for (int s = 0; s < B; s++)
        for (int h = 0; h < heads; h++) {
            const size_t at = (size_t)s * T * H + (size_t)h * dh;
            sgemm_rowmajor(CUBLAS_OP_N, CUBLAS_OP_N, T, dh, T, probs + ((size_t)s * heads + h) * T * T, T,
                           v + at, H, 0.0f, ctx + at, H);
        }
}

// layernorm_backward in two kernels: dgamma, dbeta one thread per column, summing the rows in
// ascending order in float (the CPU's order, so its bits); then dinp one thread per row, its
// two means in double, as the CPU. dinp may be dout: the column sums read dout first.
__global__ void layernorm_dparams_kernel(float *dgamma, float *dbeta, const float *dout, const float *inp,
                                         const float *stats, int N, int C) {
    GRID_STRIDE_LOOP(j, (size_t)C) {
        float sg = 0.0f, sb = 0.0f;
        for (int i = 0; i < N; i++) {
            const float g = dout[(size_t)i * C + j];
            const float xh = (inp[(size_t)i * C + j] - stats[2 * i]) * stats[2 * i + 1];
            sg += g * xh;
            sb += g;
        }
        if (dgamma) dgamma[j] = sg;
        if (dbeta) dbeta[j] = sb;
    }
}

__global__ void layernorm_dinp_kernel(float *dinp, const float *dout, const float *inp, const float *stats,
                                      const float *gamma, int N, int C) {
    GRID_STRIDE_LOOP(i, (size_t)N) {
        const float *x = inp + i * C, *g = dout + i * C;
        const float m = stats[2 * i], rstd = stats[2 * i + 1];
        double s1 = 0, s2 = 0;
        for (int j = 0; j < C; j++) {
            const float xh = (x[j] - m) * rstd, dn = g[j] * gamma[j];
            s1 += dn;
            s2 += (double)dn * xh;
        }
        const float a = (float)(s1 / C), b = (float)(s2 / C);
        float *d = dinp + i * C;
        for (int j = 0; j < C; j++) {
            const float xh = (x[j] - m) * rstd, dn = g[j] * gamma[j];
            d[j] = rstd * (dn - a - xh * b);
        }
    }
}

static void layernorm_backward(float *dinp, float *dgamma, float *dbeta, const float *dout, const float *inp,
                               const float *stats, const float *gamma, int N, int C) {
    if (C <= 0) return;
    if (dgamma || dbeta) {
        layernorm_dparams_kernel<<<blocks_for((size_t)C), BLOCK>>>(dgamma, dbeta, dout, inp, stats, N, C);
        launchCheck();
    }
    if (N <= 0) return;
    layernorm_dinp_kernel<<<blocks_for((size_t)N), BLOCK>>>(dinp, dout, inp, stats, gamma, N, C);
    launchCheck();
}

__global__ void gelu_backward_kernel(float *dinp, const float *dout, const float *inp, size_t n) {
    GRID_STRIDE_LOOP(i, n) {
        const float x = inp[i];
        const float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
        const float pdf = expf(-0.5f * x * x) * 0.39894228040143268f;
        dinp[i] = dout[i] * (cdf + x * pdf);
    }
}

static void gelu_backward(float *dinp, const float *dout, const float *inp, size_t n) {
    if (!n) return;
    gelu_backward_kernel<<<blocks_for(n), BLOCK>>>(dinp, dout, inp, n);
    launchCheck();
}

// The softmax's backward over each row of ds (B·heads·T rows of T), one thread per row, in
// place: ds holds dprobs, becomes probs ⊙ (dprobs - Σ dprobs·probs) · scale, the sum in
// double (the CPU's order and bits).
__global__ void attention_dscores_kernel(float *ds, const float *probs, int T, float scale, size_t rows) {
    GRID_STRIDE_LOOP(r, rows) {
        const float *p = probs + r * T;
        float *row = ds + r * T;
        double dot = 0;
        for (int j = 0; j < T; j++) dot += (double)row[j] * p[j];
        const float d = (float)dot;
        for (int j = 0; j < T; j++) row[j] = p[j] * (row[j] - d) * scale;
    }
}

// attention_backward's (B,heads,T,T) scratch for dprobs and dscores, kept between calls and
// grown when a call needs more; out of GPU memory there ends the process (exit 3), as any
// CUDA failure inside an op does (the ops have no error return).
static float *attn_scratch;
static size_t attn_scratch_floats;

static void attention_backward(float *dq, float *dk, float *dv, const float *dctx, const float *probs,
                               const float *q, const float *k, const float *v, int B, int T, int H, int heads,
                               float scale) {
    // dq, dk, dv, dctx, q, k, v (B·T,H), a head's columns strided by H; probs (B,heads,T,T)
    const int dh = H / heads;
    if (B <= 0 || T <= 0) return;
    const size_t need = (size_t)B * heads * T * T;
    if (need > attn_scratch_floats) {
        if (attn_scratch) cudaCheck(cudaFree(attn_scratch));
        attn_scratch = NULL;
        attn_scratch_floats = 0;
        cudaCheck(cudaMalloc(&attn_scratch, need * sizeof(float)));
        attn_scratch_floats = need;
    }
    float *ds = attn_scratch;
    for (int s = 0; s < B; s++)
        for (int h = 0; h < heads; h++) {
            const size_t at = (size_t)s * T * H + (size_t)h * dh, pt = ((size_t)s * heads + h) * T * T;
            sgemm_rowmajor(CUBLAS_OP_T, CUBLAS_OP_N, T, dh, T, probs + pt, T, dctx + at, H, 0.0f, dv + at, H);
            sgemm_rowmajor(CUBLAS_OP_N, CUBLAS_OP_T, T, T, dh, dctx + at, H, v + at, H, 0.0f, ds + pt, T);
        }
    const size_t rows = (size_t)B * heads * T;
    attention_dscores_kernel<<<blocks_for(rows), BLOCK>>>(ds, probs, T, scale, rows);
    launchCheck();
    for (int s = 0; s < B; s++)
        for (int h = 0; h < heads; h++) {
            const size_t at = (size_t)s * T * H + (size_t)h * dh, pt = ((size_t)s * heads + h) * T * T;
            sgemm_rowmajor(CUBLAS_OP_N, CUBLAS_OP_N, T, dh, T, ds + pt, T, k + at, H, 0.0f, dq + at, H);
            sgemm_rowmajor(CUBLAS_OP_T, CUBLAS_OP_N, T, dh, T, ds + pt, T, q + at, H, 0.0f, dk + at, H);
        }
}

static const Backend backend_cuda = {
    .name = "cuda",
    .device = device_desc,
    .alloc = cuda_alloc,
    .free = cuda_free,
    .upload = cuda_upload,
    .download = cuda_download,
    .zero = cuda_zero,
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
    .score_rows = score_rows,
    .mc_head_forward = nullptr,     // optional: the learner composes dropout, matmul, softmax
    .host_memory = 0,
};

extern "C" const Backend *backend_cuda_get(char *err, size_t errlen) {
    static int state;               // 0 not tried, 1 usable, -1 not usable
    static char reason[512];
    if (state == 0) state = cuda_setup(reason, sizeof reason) == 0 ? 1 : -1;
    if (state > 0) return &backend_cuda;
    if (err && errlen) snprintf(err, errlen, "%s", reason);
    return NULL;
}
