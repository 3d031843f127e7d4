/* oracle — the simulated annotator: the only holder of the pool's labels.
 *
 * The loop never reads the pool's labels; it asks the oracle, which reveals them and counts
 * the queries. Optional label noise flips a label to another class, uniformly, decided by a
 * counter-based hash of (seed, row): the same row always gets the same (possibly wrong)
 * answer, whichever strategy asks and whenever.
 */
#ifndef ALSIM_ORACLE_H
#define ALSIM_ORACLE_H

#include <stdint.h>

typedef struct {
    const int32_t *truth;   /* (n) hidden labels 0..k-1, not owned */
    int n, k;
    double noise;           /* probability that an answer is a wrong class */
    uint64_t noise_key;
    long queries;           /* labels revealed so far */
} Oracle;

void oracle_init(Oracle *o, const int32_t *truth /*(n)*/, int n, int k, double noise, uint64_t seed);

/* labels (m) = the oracle's answers for pool rows rows (m); counts m queries. */
void oracle_label(int32_t *labels /*(m)*/, Oracle *o, const int *rows /*(m)*/, int m);

/* labels (m) = the answers oracle_label would give for rows (m), without counting them: label
 * look-ahead (the teacher strategy), for measurement only. */
void oracle_peek(int32_t *labels /*(m)*/, const Oracle *o, const int *rows /*(m)*/, int m);

/* The initial labeled set, as a person would gather a seed set: n_init rows, balanced over
 * the classes (n_init/k each, and one more of n_init%k classes drawn under the seed; a class
 * with too few rows gives all it has and the rest go to other classes), drawn with
 * RNG_INIT_SET of seed.
 * Writes rows (n_init) in ascending order and returns how many it found (< n_init only when
 * the pool is smaller). Reveals no labels: call oracle_label on the result. */
int oracle_initial_set(int *rows /*(n_init)*/, const Oracle *o, int n_init, uint64_t seed);

#endif
