/* rng — PCG32 (O'Neill, pcg-random.org, "pcg32_random_r" and friends), written here, and the
 * stream/key derivation. See rng.h. */
#include "sim/rng.h"

#include <math.h>
#include <stdlib.h>

void rng_seed(Rng *r, uint64_t initstate, uint64_t initseq) {
    r->state = 0u;
    r->inc = (initseq << 1u) | 1u;
    rng_u32(r);
    r->state += initstate;
    rng_u32(r);
}

uint32_t rng_u32(Rng *r) {
    uint64_t old = r->state;
    r->state = old * 6364136223846793005ull + r->inc;
    uint32_t xorshifted = (uint32_t)(((old >> 18u) ^ old) >> 27u);
    uint32_t rot = (uint32_t)(old >> 59u);
    return (xorshifted >> rot) | (xorshifted << ((-rot) & 31));
}

uint32_t rng_below(Rng *r, uint32_t bound) {
    /* 2^32 mod bound, in unsigned arithmetic (pcg32_boundedrand_r): reject below it */
    uint32_t threshold = (0u - bound) % bound;   /* cppcheck-suppress oppositeExpression */
    for (;;) {
        uint32_t x = rng_u32(r);
        if (x >= threshold) return x % bound;
    }
}

double rng_uniform(Rng *r) {
    uint64_t hi = rng_u32(r) >> 5, lo = rng_u32(r) >> 6;   /* 27 + 26 = 53 bits */
    return (double)(hi * 67108864.0 + lo) * 0x1.0p-53;
}

double rng_normal(Rng *r) {
    for (;;) {
        double u = 2.0 * rng_uniform(r) - 1.0, v = 2.0 * rng_uniform(r) - 1.0;
        double s = u * u + v * v;
        if (s > 0.0 && s < 1.0) return u * sqrt(-2.0 * log(s) / s);  /* second value unused */
    }
}

void rng_shuffle(Rng *r, int *a, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_below(r, (uint32_t)i + 1);
        int t = a[i]; a[i] = a[j]; a[j] = t;
    }
}

uint64_t rng_key(uint64_t seed, RngPurpose purpose, uint64_t a, uint64_t b) {
    uint64_t k = rng_mix64(seed ^ ((uint64_t)purpose * 0xD1B54A32D192ED03ull));
    k = rng_mix64(k + a * 0x9E3779B97F4A7C15ull + 1);
    return rng_mix64(k + b * 0xC2B2AE3D27D4EB4Full + 2);
}

Rng rng_stream(uint64_t seed, RngPurpose purpose, uint64_t sub) {
    Rng r;
    rng_seed(&r, rng_key(seed, purpose, sub, 0), rng_key(seed, purpose, sub, 1));
    return r;
}

int rng_epochs_open(RngEpochs *e, int n, uint64_t seed, int round) {
    e->order = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    if (!e->order) {
        e->n = e->pos = 0;
        return -1;
    }
    for (int i = 0; i < n; i++) e->order[i] = i;
    e->r = rng_stream(seed, RNG_MINIBATCH, (uint64_t)round);
    rng_shuffle(&e->r, e->order, n);
    e->n = n;
    e->pos = 0;
    return 0;
}

void rng_epochs_next(int *batch, RngEpochs *e, int m) {
    for (int i = 0; i < m; i++) {
        if (e->pos == e->n) {
            rng_shuffle(&e->r, e->order, e->n);
            e->pos = 0;
        }
        batch[i] = e->order[e->pos++];
    }
}

void rng_epochs_close(RngEpochs *e) {
    free(e->order);
    e->order = NULL;
    e->n = e->pos = 0;
}
