/* test_select — top-b selection against a brute-force full sort (many random trials with
 * many equal scores, NaN and ±inf, labeled rows excluded), seeded tie-breaks, and the edge
 * cases: b above the unlabeled count, b = 0, nothing unlabeled. */
#include "strategies/strategy.h"
#include "sim/rng.h"
#include "tests/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The order select.c promises, written out independently: score descending with NaN last,
 * then the tie hash ascending, then row id. */
static const double *g_scores;
static uint64_t g_key;

static int cmp_rank(const void *pa, const void *pb) {
    int a = *(const int *)pa, b = *(const int *)pb;
    double sa = g_scores[a], sb = g_scores[b];
    if (isnan(sa) && !isnan(sb)) return 1;
    if (!isnan(sa) && isnan(sb)) return -1;
    if (!isnan(sa) && sa > sb) return -1;
    if (!isnan(sa) && sa < sb) return 1;
    uint64_t ha = rng_hash(g_key, (uint64_t)a, 0), hb = rng_hash(g_key, (uint64_t)b, 0);
    if (ha != hb) return ha < hb ? -1 : 1;
    return (a > b) - (a < b);
}

/* The first min(b, unlabeled) rows of a full sort of the unlabeled rows: want (b). */
static int brute_top_b(int *want, const double *scores, const unsigned char *labeled, int n,
                       int b, uint64_t seed, int round) {
    int *rows = malloc(sizeof(int) * (n > 0 ? n : 1)), m = 0;
    for (int i = 0; i < n; i++) if (!labeled[i]) rows[m++] = i;
    g_scores = scores;
    g_key = rng_key(seed, RNG_TIEBREAK, (uint64_t)round, 0);
    qsort(rows, (size_t)m, sizeof(int), cmp_rank);
    int got = m < b ? m : b;
    memcpy(want, rows, sizeof(int) * (size_t)got);
    free(rows);
    return got;
}

/* Picks are distinct, unlabeled and in range. */
static int picks_valid(const int *picked, int m, const unsigned char *labeled, int n) {
    unsigned char *seen = calloc((size_t)(n > 0 ? n : 1), 1);
    int ok = 1;
    for (int j = 0; j < m && ok; j++) {
        int i = picked[j];
        ok = i >= 0 && i < n && !labeled[i] && !seen[i];
        if (ok) seen[i] = 1;
    }
    free(seen);
    return ok;
}

static void test_against_brute_force(void) {
    enum { MAXN = 300, MAXB = 40 };
    static const double values[] = {0.0, -0.0, 0.25, 0.5, 1.0, -1.0, 1e-300, INFINITY,
                                    -INFINITY, NAN};
    Rng r = rng_stream(1, RNG_DATA, 0);
    int mismatches = 0, invalid = 0, count_wrong = 0;
    for (int trial = 0; trial < 3000; trial++) {
        int n = (int)rng_below(&r, MAXN + 1), b = (int)rng_below(&r, MAXB + 1);
        int mode = trial % 4;   /* 0 continuous, 1 few distinct values, 2 all equal, 3 mixed */
        double label_rate = rng_uniform(&r);
        double scores[MAXN];
        unsigned char labeled[MAXN];
        for (int i = 0; i < n; i++) {
            double u = rng_uniform(&r);
            if (mode == 0) scores[i] = u;
            else if (mode == 1) scores[i] = values[rng_below(&r, 10)];
            else if (mode == 2) scores[i] = 0.5;
            else scores[i] = u < 0.5 ? rng_normal(&r) : values[rng_below(&r, 10)];
            labeled[i] = rng_uniform(&r) < label_rate;
        }
        int picked[MAXB], want[MAXB];
        uint64_t seed = rng_u32(&r);
        int round = (int)rng_below(&r, 50);
        int m = select_top_b(picked, scores, labeled, n, b, seed, round);
        int w = brute_top_b(want, scores, labeled, n, b, seed, round);
        count_wrong += m != w;
        invalid += !picks_valid(picked, m, labeled, n);
        mismatches += m == w && memcmp(picked, want, sizeof(int) * (size_t)m) != 0;
    }
    CHECK(count_wrong == 0, "%d trials picked the wrong number of rows", count_wrong);
    CHECK(invalid == 0, "%d trials picked labeled, repeated or out-of-range rows", invalid);
    CHECK(mismatches == 0, "%d trials differ from the brute-force sort", mismatches);
}

static void test_seeded_ties(void) {
    enum { N = 1000, B = 10 };
    static double scores[N];
    static unsigned char labeled[N];
    for (int i = 0; i < N; i++) scores[i] = 0.25;
    int a[B], a2[B], c[B], d[B];
    select_top_b(a, scores, labeled, N, B, 1, 0);
    select_top_b(a2, scores, labeled, N, B, 1, 0);
    select_top_b(c, scores, labeled, N, B, 2, 0);
    select_top_b(d, scores, labeled, N, B, 1, 1);
    CHECK(memcmp(a, a2, sizeof a) == 0, "same seed, different picks");
    int shared_seed = 0, shared_round = 0, in_front = 0;
    for (int j = 0; j < B; j++) {
        in_front += a[j] < B;
        for (int k = 0; k < B; k++) shared_seed += a[j] == c[k], shared_round += a[j] == d[k];
    }
    CHECK(shared_seed < B, "seeds 1 and 2 pick the same rows among equal scores");
    CHECK(shared_round < B, "rounds 0 and 1 pick the same rows among equal scores");
    CHECK(in_front < B, "ties broken by position: picked the first %d rows", B);

    /* A strictly higher score beats every tie; NaN loses to every number, even -inf. */
    scores[777] = 0.5;
    scores[3] = NAN;
    scores[4] = -INFINITY;
    int p[N];
    int m = select_top_b(p, scores, labeled, N, N, 1, 0);
    CHECK(m == N && p[0] == 777, "higher score not first: %d", p[0]);
    CHECK(p[N - 1] == 3 && p[N - 2] == 4, "last two %d %d, want 4 then 3 (NaN)",
          p[N - 2], p[N - 1]);
    labeled[777] = 1;
    m = select_top_b(p, scores, labeled, N, 1, 1, 0);
    CHECK(m == 1 && p[0] != 777, "labeled row 777 picked");
}

static void test_edges(void) {
    double scores[6] = {0.1, 0.9, 0.5, 0.7, 0.3, 0.2};
    unsigned char labeled[6] = {0, 1, 0, 1, 0, 1};
    int p[10];
    int m = select_top_b(p, scores, labeled, 6, 10, 4, 2);
    CHECK(m == 3, "b above the unlabeled count: picked %d, want 3", m);
    CHECK(m == 3 && p[0] == 2 && p[1] == 4 && p[2] == 0, "order %d %d %d, want 2 4 0",
          p[0], p[1], p[2]);
    CHECK(select_top_b(p, scores, labeled, 6, 0, 4, 2) == 0, "b = 0 picked something");
    CHECK(select_top_b(p, scores, labeled, 0, 5, 4, 2) == 0, "n = 0 picked something");
    unsigned char all[6] = {1, 1, 1, 1, 1, 1};
    CHECK(select_top_b(p, scores, all, 6, 5, 4, 2) == 0, "everything labeled, yet picked");
    m = select_top_b(p, scores, NULL, 6, 2, 4, 2);
    CHECK(m == 2 && p[0] == 1 && p[1] == 3, "labeled NULL: top 2 are %d %d, want 1 3", p[0], p[1]);
    m = select_top_b(p, scores, labeled, 6, 2, 4, 2);
    CHECK(m == 2 && p[0] == 2 && p[1] == 4, "top 2 are %d %d, want 2 4", p[0], p[1]);
}

/* A pool of a million rows with b = 10: the bounded heap must give the full sort's answer. */
static void test_large_pool(void) {
    enum { N = 1000000, B = 10 };
    double *scores = malloc(sizeof(double) * N);
    unsigned char *labeled = calloc(N, 1);
    Rng r = rng_stream(2, RNG_DATA, 0);
    for (int i = 0; i < N; i++) {
        scores[i] = (double)rng_below(&r, 1000) / 1000;   /* ~1000 rows share each value */
        labeled[i] = rng_below(&r, 10) == 0;
    }
    int picked[B], want[B];
    int m = select_top_b(picked, scores, labeled, N, B, 77, 5);
    int w = brute_top_b(want, scores, labeled, N, B, 77, 5);
    CHECK(m == B && w == B && memcmp(picked, want, sizeof picked) == 0, "large pool differs");
    free(scores);
    free(labeled);
}

int main(void) {
    test_against_brute_force();
    test_seeded_ties();
    test_edges();
    test_large_pool();
    return check_done("test_select");
}
