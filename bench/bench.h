/* bench.h — the few helpers the benchmark programs share (bench_core.c, bench_cuda.c,
 * bench_load.c): the median of repeated timings, uniform test data. Not a
 * library. */
#ifndef ALSIM_BENCH_H
#define ALSIM_BENCH_H

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

#endif
