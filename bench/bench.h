/* bench.h — the few helpers the benchmark programs share (bench_core.c, bench_cnn.c,
 * bench_cuda.c, bench_load.c): the median of repeated timings, uniform test data, OpenBLAS's
 * sgemm time. Not a library. */
#ifndef ALSIM_BENCH_H
#define ALSIM_BENCH_H

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "sim/rng.h"
#include "sim/util.h"

static inline int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v (n), which it sorts. */
static inline double median(double *v, int n) {
    if (n <= 0) return 0.0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* x (n) uniform in [0,1) from stream 99 of RNG_DATA under seed. */
static inline void fill(float *x, size_t n, uint64_t seed) {
    Rng r = rng_stream(seed, RNG_DATA, 99);
    for (size_t i = 0; i < n; i++) x[i] = (float)rng_uniform(&r);
}

/* Median seconds of reps (<= 16) cblas_sgemm calls C (M,N) = A (M,Kd) · op(B), row-major,
 * after one warm-up: B is (N,Kd) with tb CblasTrans (a dense layer's weights), (Kd,N) with
 * CblasNoTrans (conv2d_forward's im2col columns). NaN when out of memory. */
static inline double sgemm_seconds(CBLAS_TRANSPOSE tb, int M, int N, int Kd, int reps) {
    float *A = malloc((size_t)M * Kd * sizeof *A), *B = malloc((size_t)Kd * N * sizeof *B);
    float *C = malloc((size_t)M * N * sizeof *C);
    double t[16];
    if (!A || !B || !C || reps < 1 || reps > 16) { free(A); free(B); free(C); return NAN; }
    fill(A, (size_t)M * Kd, 1);
    fill(B, (size_t)Kd * N, 2);
    const int ldb = tb == CblasTrans ? Kd : N;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, tb, M, N, Kd, 1.0f, A, Kd, B, ldb, 0.0f, C, N);
    for (int r = 0; r < reps; r++) {
        double t0 = util_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, tb, M, N, Kd, 1.0f, A, Kd, B, ldb, 0.0f, C, N);
        t[r] = util_seconds() - t0;
    }
    free(A); free(B); free(C);
    return median(t, reps);
}

#endif
