/* bench_core — the machine's practical limit and how close the pool-scoring pass gets to it.
 *
 * Prints markdown table rows (for bench/RESULTS.md):
 *   1. OpenBLAS sgemm GFLOP/s at the first layer's pool-scoring shape (4096x784 · 784x512)
 *      and at a square 2048 shape;
 *   2. the pool-scoring pass of the default model (784-512-10, dropout 0.5) over 60,000 rows:
 *      deterministic probs, and T = 20 MC-dropout samples, in chunks as the loop does it,
 *      with the GFLOP/s it achieves (FLOPs: 2·N·(784·512) once, plus 2·N·512·10 per sample).
 * Each figure is the median of several repetitions. Not a test: nothing here can fail.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim/backend.h"
#include "sim/learner.h"
#include "sim/rng.h"
#include "sim/run.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void fill(float *x, size_t n, uint64_t seed) {
    Rng r = rng_stream(seed, RNG_DATA, 99);
    for (size_t i = 0; i < n; i++) x[i] = (float)rng_uniform(&r);
}

/* Median GFLOP/s of C (M,N) = A (M,K) · B (N,K)ᵀ, the layout of matmul_forward. */
static double sgemm_rate(int M, int N, int K, int reps) {
    float *A = malloc((size_t)M * K * sizeof *A), *B = malloc((size_t)N * K * sizeof *B);
    float *C = malloc((size_t)M * N * sizeof *C);
    double t[16];
    fill(A, (size_t)M * K, 1);
    fill(B, (size_t)N * K, 2);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
    for (int r = 0; r < reps; r++) {
        double t0 = now_s();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, A, K, B, K, 0.0f, C, N);
        t[r] = now_s() - t0;
    }
    free(A); free(B); free(C);
    return 2.0 * M * N * K / median(t, reps) / 1e9;
}

int main(void) {
    const int N = 60000, D = 784, H = 512, K = 10, T = 20, reps = 5;
    printf("| what | figure |\n|---|---|\n");
    printf("| OpenBLAS config | %s |\n", openblas_get_config());
    double peak_layer = sgemm_rate(RUN_CHUNK_ROWS, H, D, 9);
    double peak_square = sgemm_rate(2048, 2048, 2048, 5);
    printf("| sgemm GFLOP/s, 4096x784 · 784x512 (the scoring layer's shape) | %.1f |\n", peak_layer);
    printf("| sgemm GFLOP/s, 2048³ | %.1f |\n", peak_square);

    LearnerConfig lc = {.d = D, .k = K, .n_hidden = 1, .hidden = {H}, .dropout = 0.5f,
                        .lr = 1e-3f, .weight_decay = 1e-4f, .beta1 = 0.9f, .beta2 = 0.999f,
                        .eps = 1e-8f, .minibatch = 64};
    Learner L = {0};
    char err[256];
    if (learner_init(&L, &lc, &backend_cpu, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 3; }
    learner_reset(&L, 1, 0);
    float *X = malloc((size_t)N * D * sizeof *X);
    float *probs = malloc((size_t)RUN_CHUNK_ROWS * K * sizeof *probs);
    float *mc = malloc((size_t)T * RUN_CHUNK_ROWS * K * sizeof *mc);
    if (!X || !probs || !mc) return 3;
    fill(X, (size_t)N * D, 3);

    for (int withmc = 0; withmc <= 1; withmc++) {
        double t[16];
        for (int r = 0; r < reps; r++) {
            double t0 = now_s();
            for (int off = 0; off < N; off += RUN_CHUNK_ROWS) {
                int n = N - off < RUN_CHUNK_ROWS ? N - off : RUN_CHUNK_ROWS;
                learner_predict(withmc ? NULL : probs, withmc ? mc : NULL, &L, X + (size_t)off * D, n,
                                withmc ? T : 0, 1, 0, off);
            }
            t[r] = now_s() - t0;
        }
        double s = median(t, reps);
        double flops = 2.0 * N * ((double)D * H + (withmc ? T : 1) * (double)H * K);
        double layer1 = 2.0 * N * D * H;
        if (!withmc)
            printf("| pool pass, probs only (60,000 rows): s, rows/s, GFLOP/s | %.3f, %.0f, %.1f (%.0f%% of sgemm) |\n",
                   s, N / s, flops / s / 1e9, 100 * flops / s / 1e9 / peak_layer);
        else
            printf("| pool pass, T = %d MC samples (60,000 rows): s, rows/s, GFLOP/s | %.3f, %.0f, %.1f; first layer alone would take %.3f s at the sgemm rate |\n",
                   T, s, N / s, flops / s / 1e9, layer1 / (peak_layer * 1e9));
    }
    free(X); free(probs); free(mc);
    learner_free(&L);
    return 0;
}
