/* oracle — see oracle.h. */
#include "sim/oracle.h"

#include <stdlib.h>

#include "sim/rng.h"

void oracle_init(Oracle *o, const int32_t *truth, int n, int k, double noise, uint64_t seed) {
    o->truth = truth;
    o->n = n;
    o->k = k;
    o->noise = noise;
    o->noise_key = rng_key(seed, RNG_ORACLE_NOISE, 0, 0);
    o->queries = 0;
}

void oracle_label(int32_t *labels, Oracle *o, const int *rows, int m) {
    oracle_peek(labels, o, rows, m);
    o->queries += m;
}

void oracle_peek(int32_t *labels, const Oracle *o, const int *rows, int m) {
    for (int i = 0; i < m; i++) {
        int32_t y = o->truth[rows[i]];
        if (o->noise > 0 && o->k > 1) {
            uint64_t h = rng_hash(o->noise_key, (uint64_t)rows[i], 0);
            if (rng_hash_u01(h) < o->noise) {
                /* another class, uniformly: shift by 1..k-1 */
                int32_t shift = 1 + (int32_t)(rng_hash(o->noise_key, (uint64_t)rows[i], 1) % (uint64_t)(o->k - 1));
                y = (y + shift) % o->k;
            }
        }
        labels[i] = y;
    }
}

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int oracle_initial_set(int *rows, const Oracle *o, int n_init, uint64_t seed) {
    /* A random order of the pool; then walk it, taking a row when its class still has room. */
    int *order = malloc((size_t)o->n * sizeof *order);
    int *want = calloc((size_t)o->k, sizeof *want);
    int *classes = malloc((size_t)o->k * sizeof *classes);
    if (!order || !want || !classes) { free(order); free(want); free(classes); return -1; }
    for (int i = 0; i < o->n; i++) order[i] = i;
    Rng r = rng_stream(seed, RNG_INIT_SET, 0);
    rng_shuffle(&r, order, o->n);
    /* n_init/k rows of each class, and one more of n_init%k classes drawn under the seed, not
     * the first ones: with fewer rows than classes, every class is as likely to start seen. */
    for (int c = 0; c < o->k; c++) classes[c] = c;
    Rng rc = rng_stream(seed, RNG_INIT_SET, 1);
    rng_shuffle(&rc, classes, o->k);
    for (int i = 0; i < o->k; i++) want[classes[i]] = n_init / o->k + (i < n_init % o->k);
    free(classes);

    int got = 0;
    unsigned char *taken = calloc((size_t)o->n, 1);
    if (!taken) { free(order); free(want); return -1; }
    for (int i = 0; i < o->n && got < n_init; i++) {
        int row = order[i];
        if (want[o->truth[row]] > 0) { want[o->truth[row]]--; rows[got++] = row; taken[row] = 1; }
    }
    /* Classes that ran out: fill from the same order, any class. */
    for (int i = 0; i < o->n && got < n_init; i++)
        if (!taken[order[i]]) { rows[got++] = order[i]; taken[order[i]] = 1; }
    qsort(rows, (size_t)got, sizeof *rows, cmp_int);
    free(taken);
    free(order);
    free(want);
    return got;
}
