/* test_oracle — the simulated annotator (sim/oracle.h): label noise at its rate, always
 * another class, the same answer for a row whoever asks and when; noise 0 tells the truth;
 * the initial set balanced over the classes, ascending, reproducible per seed. */
#include "sim/oracle.h"
#include "sim/rng.h"
#include "tests/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { N = 100000 };
static int32_t truth[N], got[N], again[N];
static int rows[N];

/* |count - n·p| within 5 standard deviations of Binomial(n, p): a test that fails by chance
 * about once in 2 million runs, yet catches a rate off by a few percent of itself. */
static int binomial_ok(long count, long n, double p) {
    return fabs((double)count - n * p) <= 5 * sqrt(n * p * (1 - p)) + 1e-9;
}

static void test_noise(void) {
    for (int i = 0; i < N; i++) rows[i] = i;
    static const struct { int k; double rate; } cases[] = { { 2, 0.1 }, { 2, 0.45 }, { 5, 0.2 }, { 10, 0.05 } };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int k = cases[c].k;
        const double rate = cases[c].rate;
        for (int i = 0; i < N; i++) truth[i] = (int32_t)((i * 7 + i / 3) % k);
        Oracle o;
        oracle_init(&o, truth, N, k, rate, 42);
        oracle_label(got, &o, rows, N);
        CHECK(o.queries == N, "k %d: %ld queries counted, want %d", k, o.queries, N);
        long wrong = 0, out_of_range = 0, by_shift[10] = {0};
        for (int i = 0; i < N; i++) {
            if (got[i] < 0 || got[i] >= k) { out_of_range++; continue; }
            if (got[i] != truth[i]) { wrong++; by_shift[(got[i] - truth[i] + k) % k]++; }
        }
        CHECK(out_of_range == 0, "k %d: %ld answers outside 0..%d", k, out_of_range, k - 1);
        /* The rate of wrong answers is the noise rate: a flip that may land on the true class
         * (uniform over all k) would show rate·(k-1)/k, half of it for k = 2. */
        CHECK(binomial_ok(wrong, N, rate), "k %d, noise %g: %ld wrong of %d, want %g ± 5 sd",
              k, rate, wrong, N, N * rate);
        /* A wrong answer is uniform over the k-1 other classes. */
        for (int s = 1; s < k; s++)
            CHECK(binomial_ok(by_shift[s], wrong, 1.0 / (k - 1)),
                  "k %d: %ld of %ld wrong answers are truth+%d, want %g", k, by_shift[s], wrong, s,
                  (double)wrong / (k - 1));

        /* The same row, the same answer: asked again in reverse, by another oracle with the same
         * seed, one row at a time, and a row repeated within one call. */
        Oracle o2;
        oracle_init(&o2, truth, N, k, rate, 42);
        int same = 1;
        for (int i = N - 1; i >= N - 2000; i--) {
            int32_t y;
            oracle_label(&y, &o2, &i, 1);
            same &= y == got[i];
        }
        CHECK(same, "k %d: a row asked alone, later, differs from the first answer", k);
        int rev[4] = { 17, 3, 17, 99999 };
        int32_t y4[4];
        oracle_label(y4, &o2, rev, 4);
        CHECK(y4[0] == y4[2] && y4[0] == got[17] && y4[1] == got[3] && y4[3] == got[99999],
              "k %d: answers depend on the call, not the row", k);
        CHECK(o2.queries == 2000 + 4, "k %d: %ld queries, want 2004", k, o2.queries);

        /* Another seed: other rows flipped (the noise is seeded, not fixed). */
        Oracle o3;
        oracle_init(&o3, truth, N, k, rate, 43);
        oracle_label(again, &o3, rows, N);
        long differ = 0;
        for (int i = 0; i < N; i++) differ += again[i] != got[i];
        CHECK(differ > N * rate / 2, "k %d: seeds 42 and 43 differ on %ld rows only", k, differ);
    }

    /* Noise 0: the truth, every time. */
    for (int i = 0; i < N; i++) truth[i] = (int32_t)(i % 3);
    Oracle o;
    oracle_init(&o, truth, N, 3, 0.0, 7);
    oracle_label(got, &o, rows, N);
    CHECK(!memcmp(got, truth, sizeof truth), "noise 0 changed a label");
    /* Noise 1: never the truth. */
    oracle_init(&o, truth, N, 3, 1.0, 7);
    oracle_label(got, &o, rows, N);
    long right = 0;
    for (int i = 0; i < N; i++) right += got[i] == truth[i];
    CHECK(right == 0, "noise 1: %ld answers are the truth", right);
}

/* Per-class counts of the rows (m) by truth (k <= 8). */
static void class_counts(int counts[8], const int *r, int m, const int32_t *y) {
    memset(counts, 0, 8 * sizeof *counts);
    for (int i = 0; i < m; i++) counts[y[r[i]]]++;
}

static int ascending_in_range(const int *r, int m, int n) {
    for (int i = 0; i < m; i++)
        if (r[i] < 0 || r[i] >= n || (i && r[i] <= r[i - 1])) return 0;
    return 1;
}

static void test_initial_set(void) {
    /* 500 rows of 4 classes in a scrambled order: 150, 150, 3 and 197 rows. */
    enum { P = 500 };
    static int32_t y[P];
    for (int i = 0; i < P; i++) {
        int j = (i * 211) % P;           /* 211 is prime to 500: a permutation */
        y[j] = i < 150 ? 0 : i < 300 ? 1 : i < 303 ? 2 : 3;
    }
    int set[64], set2[64], counts[8];
    Oracle o;

    /* Enough rows in every class (the short class merged into class 0, k = 3): n_init/k each,
     * n_init%k classes one more. */
    static int32_t y3[P];
    for (int i = 0; i < P; i++) y3[i] = y[i] == 2 ? 0 : y[i] == 3 ? 2 : y[i];
    oracle_init(&o, y3, P, 3, 0.0, 1);
    int m = oracle_initial_set(set, &o, 20, 5);
    class_counts(counts, set, m, y3);
    CHECK(m == 20 && counts[0] + counts[1] + counts[2] == 20 && counts[0] >= 6 && counts[0] <= 7 &&
          counts[1] >= 6 && counts[1] <= 7 && counts[2] >= 6 && counts[2] <= 7,
          "n_init 20, k 3: %d rows, classes %d/%d/%d, want 7/7/6 in some order", m, counts[0], counts[1], counts[2]);
    CHECK(ascending_in_range(set, m, P), "rows not ascending, distinct and in range");
    CHECK(o.queries == 0, "the initial set revealed %ld labels", o.queries);

    /* Class 2 has 3 rows where it wants 22/4 = 5: it gives all 3, and the set is still full. */
    oracle_init(&o, y, P, 4, 0.0, 1);
    m = oracle_initial_set(set, &o, 22, 5);
    class_counts(counts, set, m, y);
    CHECK(m == 22, "n_init 22: %d rows", m);
    CHECK(counts[2] == 3, "the short class gave %d of its 3 rows", counts[2]);
    CHECK(counts[0] >= 5 && counts[1] >= 5 && counts[3] >= 5,
          "classes %d/%d/%d/%d: a class got less than its share of 5 or 6", counts[0], counts[1], counts[2], counts[3]);
    CHECK(ascending_in_range(set, m, P), "rows not ascending, distinct and in range");

    /* Balanced by the truth, whatever the noise: noise must not steer the seed set. */
    oracle_init(&o, y3, P, 3, 0.4, 1);
    m = oracle_initial_set(set2, &o, 20, 5);
    oracle_init(&o, y3, P, 3, 0.0, 1);
    oracle_initial_set(set, &o, 20, 5);
    CHECK(m == 20 && !memcmp(set, set2, sizeof(int) * 20), "the noise rate changed the initial set");

    /* Deterministic per seed; other seeds give other sets. */
    oracle_initial_set(set2, &o, 20, 5);
    CHECK(!memcmp(set, set2, sizeof(int) * 20), "the same seed gave another initial set");
    int differ = 0;
    for (uint64_t s = 6; s < 10; s++) {
        oracle_initial_set(set2, &o, 20, s);
        differ += memcmp(set, set2, sizeof(int) * 20) != 0;
    }
    CHECK(differ == 4, "only %d of 4 other seeds gave another initial set", differ);

    /* A pool smaller than n_init: all of it. */
    oracle_init(&o, y, 10, 4, 0.0, 1);
    m = oracle_initial_set(set, &o, 20, 5);
    CHECK(m == 10 && ascending_in_range(set, m, 10), "a 10-row pool gave %d rows", m);
    for (int i = 0; i < m; i++) CHECK(set[i] == i, "row %d of the whole pool is %d", i, set[i]);
}

/* Fewer initial rows than classes: one row of each of n_init classes, which classes drawn under
 * the seed (before, always the first n_init classes: classes 21-31 of a 31-class set never
 * started seen with --init 20). */
static void test_initial_set_few(void) {
    enum { P = 31 * 20, K = 31, INIT = 20, SEEDS = 40 };
    static int32_t y[P];
    for (int i = 0; i < P; i++) y[i] = i % K;
    Oracle o;
    oracle_init(&o, y, P, K, 0.0, 1);
    int set[INIT], seen_ever[K] = {0}, first_always = 1;
    for (uint64_t s = 0; s < SEEDS; s++) {
        int m = oracle_initial_set(set, &o, INIT, s), counts[K] = {0}, distinct = 0;
        for (int i = 0; i < m; i++) counts[y[set[i]]]++;
        for (int c = 0; c < K; c++) {
            distinct += counts[c] == 1;
            seen_ever[c] |= counts[c] > 0;
            if (c < INIT && counts[c] != 1) first_always = 0;
        }
        CHECK(m == INIT && distinct == INIT, "seed %llu: %d rows over %d classes, want one of each of 20",
              (unsigned long long)s, m, distinct);
    }
    int ever = 0;
    for (int c = 0; c < K; c++) ever += seen_ever[c];
    CHECK(!first_always, "every seed started from the first 20 classes");
    CHECK(ever == K, "over %d seeds only %d of the %d classes ever started seen", SEEDS, ever, K);
}

int main(void) {
    test_noise();
    test_initial_set();
    test_initial_set_few();
    return check_done("test_oracle");
}
