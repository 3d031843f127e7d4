/* test_rng — pcg32 against the published demo output, then the properties the rest of alsim
 * leans on: unbiased bounded draws, independent per-purpose streams, dropout keep rates and
 * normal moments. */
#include "sim/rng.h"
#include "tests/check.h"

#include <string.h>

static void test_pcg32_reference(void) {
    /* pcg32-demo (pcg-random.org, pcg-c-basic): pcg32_srandom_r(&rng, 42u, 54u). */
    static const uint32_t want[6] = { 0xa15c02b7, 0x7b47f409, 0xba1d3330,
                                      0x83d2f293, 0xbfa4784b, 0xcbed606e };
    Rng r;
    rng_seed(&r, 42u, 54u);
    for (int i = 0; i < 6; i++) {
        uint32_t got = rng_u32(&r);
        CHECK(got == want[i], "draw %d: 0x%08x, want 0x%08x", i, got, want[i]);
    }
}

static void test_below(void) {
    Rng r = rng_stream(7, RNG_STRATEGY, 0);
    enum { B = 10, N = 100000 };
    int counts[B] = {0};
    int in_range = 1;
    for (int i = 0; i < N; i++) {
        uint32_t v = rng_below(&r, B);
        if (v >= B) in_range = 0;
        else counts[v]++;
    }
    CHECK(in_range, "rng_below(10) gave a value >= 10");
    /* Each bucket ~ Binomial(N, 0.1): sd = 95; allow 6 sd. */
    for (int b = 0; b < B; b++)
        CHECK(counts[b] > N / B - 570 && counts[b] < N / B + 570, "bucket %d has %d of %d", b, counts[b], N);
    uint32_t ones = 0;
    for (int i = 0; i < 100; i++) ones += rng_below(&r, 1);
    CHECK(ones == 0, "rng_below(1) must always be 0");
    /* A bound near 2^32 (the rejection path): still in range. */
    int big_ok = 1;
    for (int i = 0; i < 1000; i++) big_ok &= rng_below(&r, 0xF0000000u) < 0xF0000000u;
    CHECK(big_ok, "rng_below(0xF0000000) out of range");
}

static int same_sequence(Rng a, Rng b, int n) {
    for (int i = 0; i < n; i++)
        if (rng_u32(&a) != rng_u32(&b)) return 0;
    return 1;
}

static void test_streams(void) {
    CHECK(same_sequence(rng_stream(1, RNG_SPLIT, 0), rng_stream(1, RNG_SPLIT, 0), 100),
          "same (seed, purpose, sub) must give the same stream");
    CHECK(!same_sequence(rng_stream(1, RNG_SPLIT, 0), rng_stream(1, RNG_INIT_SET, 0), 4),
          "different purposes must differ");
    CHECK(!same_sequence(rng_stream(1, RNG_SPLIT, 0), rng_stream(1, RNG_SPLIT, 1), 4),
          "different subs must differ");
    CHECK(!same_sequence(rng_stream(1, RNG_SPLIT, 0), rng_stream(2, RNG_SPLIT, 0), 4),
          "different seeds must differ");
    /* Every pair of purposes differs in its first draws (a hidden collision would couple them). */
    int distinct = 1;
    for (int p = RNG_SPLIT; p <= RNG_DATA; p++)
        for (int q = p + 1; q <= RNG_DATA; q++)
            distinct &= !same_sequence(rng_stream(5, (RngPurpose)p, 3), rng_stream(5, (RngPurpose)q, 3), 2);
    CHECK(distinct, "two purposes share a stream");
    /* Streams are uncorrelated: matching low bits between two purposes ~ 1/2. */
    Rng a = rng_stream(9, RNG_MODEL_INIT, 0), b = rng_stream(9, RNG_MINIBATCH, 0);
    int same = 0;
    for (int i = 0; i < 10000; i++) same += (rng_u32(&a) & 1) == (rng_u32(&b) & 1);
    CHECK(same > 4700 && same < 5300, "low bits agree %d of 10000 times", same);
    CHECK(rng_key(1, RNG_DROPOUT, 2, 3) == rng_key(1, RNG_DROPOUT, 2, 3), "rng_key not pure");
    CHECK(rng_key(1, RNG_DROPOUT, 2, 3) != rng_key(1, RNG_MC, 2, 3), "rng_key ignores purpose");
    CHECK(rng_key(1, RNG_DROPOUT, 2, 3) != rng_key(1, RNG_DROPOUT, 3, 2), "rng_key symmetric in a, b");
}

static void test_dropout(void) {
    const float ps[2] = { 0.5f, 0.1f };
    for (int t = 0; t < 2; t++) {
        uint64_t key = rng_key(3, RNG_DROPOUT, 0, 0);
        uint32_t th = rng_dropout_threshold(ps[t]);
        long kept = 0, total = 0;
        for (uint64_t row = 0; row < 200; row++)
            for (uint32_t unit = 0; unit < 1000; unit++, total++)
                kept += rng_dropout_keep(key, row, unit, th);
        double rate = (double)kept / (double)total;
        CHECK_NEAR(rate, 1.0 - ps[t], 0.005, 0);
        /* Deterministic: the same call gives the same answer. */
        CHECK(rng_dropout_keep(key, 17, 33, th) == rng_dropout_keep(key, 17, 33, th), "not pure");
    }
    CHECK(rng_dropout_threshold(0.0f) == 0, "p = 0 must keep everything");
    int all_kept = 1;
    for (uint32_t u = 0; u < 4096; u++) all_kept &= rng_dropout_keep(11, 0, u, rng_dropout_threshold(0.0f));
    CHECK(all_kept, "p = 0 dropped a unit");
    double sum = 0;
    for (int i = 0; i < 100000; i++) sum += rng_hash_u01(rng_hash(5, (uint64_t)i, 0));
    CHECK_NEAR(sum / 100000, 0.5, 0.005, 0);
}

static void test_normal_uniform(void) {
    Rng r = rng_stream(1, RNG_MODEL_INIT, 0);
    enum { N = 200000 };
    double s = 0, s2 = 0, u = 0, umin = 1, umax = 0;
    for (int i = 0; i < N; i++) {
        double z = rng_normal(&r);
        s += z; s2 += z * z;
        double v = rng_uniform(&r);
        u += v;
        if (v < umin) umin = v;
        if (v > umax) umax = v;
    }
    double mean = s / N, var = s2 / N - mean * mean;
    CHECK_NEAR(mean, 0.0, 0.015, 0);      /* sd of the mean: 0.0022 */
    CHECK_NEAR(var, 1.0, 0.02, 0);        /* sd of the variance: 0.0032 */
    CHECK_NEAR(u / N, 0.5, 0.005, 0);
    CHECK(umin >= 0 && umax < 1, "rng_uniform outside [0, 1): %g %g", umin, umax);
}

static void test_shuffle(void) {
    int a[50], seen[50] = {0};
    for (int i = 0; i < 50; i++) a[i] = i;
    Rng r = rng_stream(4, RNG_SPLIT, 0);
    rng_shuffle(&r, a, 50);
    int moved = 0, perm = 1;
    for (int i = 0; i < 50; i++) {
        if (a[i] < 0 || a[i] >= 50 || seen[a[i]]++) perm = 0;
        moved += a[i] != i;
    }
    CHECK(perm, "rng_shuffle did not give a permutation");
    CHECK(moved > 25, "rng_shuffle moved only %d of 50", moved);
}

int main(void) {
    test_pcg32_reference();
    test_below();
    test_streams();
    test_dropout();
    test_normal_uniform();
    test_shuffle();
    return check_done("test_rng");
}
