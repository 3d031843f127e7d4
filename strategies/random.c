/* random — the passive baseline: every row gets a uniform score in [0,1).
 *
 * The score is a counter-based hash of (seed, round, pool row id) (formula_random), not a
 * draw from a stream, so it does not depend on the chunk a row is scored in nor on the order
 * rows are visited, and changing anything else in the run never changes which rows random
 * picks. With --pool-subset it picks the top-b of these scores among the round's subset. */
#include "strategies/strategy.h"
#include "strategies/formulas.h"

void score_random(double *scores, const PoolView *v) {
    uint64_t key = rng_key(v->seed, RNG_STRATEGY, (uint64_t)v->round, 0);
    for (int i = 0; i < v->n; i++) scores[i] = formula_random(key, v->rows ? v->rows[i] : v->row0 + i);
}
