/* select — top-b batch selection: which b unlabeled rows the oracle is asked about.
 *
 * Rows are ranked by a strict total order: score descending (NaN below every number, NaNs
 * equal to each other), then a seeded tie hash ascending, then row id ascending. The tie hash
 * rng_hash(rng_key(seed, RNG_TIEBREAK, round, 0), row, 0) makes equal scores (e.g. many rows
 * with least-confidence 0) break by seed, not by position in the pool, and the row id makes
 * the order total, so the result is deterministic.
 *
 * The b best are kept in a bounded heap with the worst kept row at its root, stored in the
 * caller's picked array: one pass over n rows, O(n log b) time, no allocation. Most rows lose
 * to the root on score alone, so the hash is only computed on equal scores. */
#include "strategies/strategy.h"
#include "sim/rng.h"

#include <math.h>

typedef struct {
    const double *scores;   /* (n) */
    uint64_t key;           /* tie-break key for (seed, round) */
} Ranking;

int select_ranks_before(double sa, int64_t ra, double sb, int64_t rb, uint64_t key) {
    int na = isnan(sa), nb = isnan(sb);
    if (na != nb) return nb;                        /* a number beats NaN */
    if (!na && sa != sb) return sa > sb;
    uint64_t ha = rng_hash(key, (uint64_t)ra, 0), hb = rng_hash(key, (uint64_t)rb, 0);
    if (ha != hb) return ha < hb;
    return ra < rb;
}

/* 1 when row a ranks strictly before row b. */
static int ranks_before(const Ranking *r, int a, int b) {
    return select_ranks_before(r->scores[a], a, r->scores[b], b, r->key);
}

/* Restores the heap (worst at the root) below position i of heap (m). */
static void sift_down(const Ranking *r, int *heap, int m, int i) {
    for (;;) {
        int worst = i, l = 2 * i + 1, rt = l + 1;
        if (l < m && ranks_before(r, heap[worst], heap[l])) worst = l;
        if (rt < m && ranks_before(r, heap[worst], heap[rt])) worst = rt;
        if (worst == i) return;
        int tmp = heap[i]; heap[i] = heap[worst]; heap[worst] = tmp;
        i = worst;
    }
}

static void sift_up(const Ranking *r, int *heap, int i) {
    while (i > 0) {
        int parent = (i - 1) / 2;
        if (!ranks_before(r, heap[parent], heap[i])) return;
        int tmp = heap[i]; heap[i] = heap[parent]; heap[parent] = tmp;
        i = parent;
    }
}

int select_top_b(int *picked, const double *scores, const unsigned char *labeled, int n, int b,
                 uint64_t seed, int round) {
    Ranking r = {scores, rng_key(seed, RNG_TIEBREAK, (uint64_t)round, 0)};
    int m = 0;                                      /* rows in the heap picked[0..m) */
    for (int i = 0; i < n && b > 0; i++) {
        if (labeled && labeled[i]) continue;
        if (m < b) {
            picked[m] = i;
            sift_up(&r, picked, m++);
        } else if (ranks_before(&r, i, picked[0])) {
            picked[0] = i;
            sift_down(&r, picked, m, 0);
        }
    }
    /* Heap sort in place: move the worst to the end, repeatedly, leaving best first. */
    for (int end = m - 1; end > 0; end--) {
        int tmp = picked[0]; picked[0] = picked[end]; picked[end] = tmp;
        sift_down(&r, picked, end, 0);
    }
    return m;
}
