/* test_strategies — the score functions and the registry: hand-computed values on small
 * arrays, properties on random ones (BALD >= 0, = 0 when samples agree), agreement with
 * plain reference formulas for any K (including K above bayesian.c's class block), and
 * chunk independence of every registered strategy. */
#include "strategies/strategy.h"
#include "sim/rng.h"
#include "tests/check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One random probability vector (k): Dirichlet(1,...,1) via normalised Exp(1) draws. */
static void dirichlet(float *p /*(k)*/, int k, Rng *r) {
    double e[1024], s = 0.0;
    for (int c = 0; c < k; c++) { e[c] = -log(1.0 - rng_uniform(r)); s += e[c]; }
    for (int c = 0; c < k; c++) p[c] = (float)(e[c] / s);
}

static void test_uncertainty_hand(void) {
    const float probs[4 * 3] = {     /* (n=4, K=3) */
        1.0f, 0.0f, 0.0f,
        0.5f, 0.5f, 0.0f,
        0.7f, 0.2f, 0.1f,
        1.0f / 3, 1.0f / 3, 1.0f / 3,
    };
    PoolView v = {.n = 4, .k = 3, .probs = probs};
    double s[4];
    const double tol = 1e-6;         /* the inputs are float32 */

    score_least_confidence(s, &v);   /* 1 - max */
    CHECK_NEAR(s[0], 0.0, tol, 0);   /* 1 - 1 */
    CHECK_NEAR(s[1], 0.5, tol, 0);   /* 1 - 0.5 */
    CHECK_NEAR(s[2], 0.3, tol, 0);   /* 1 - 0.7 */
    CHECK_NEAR(s[3], 2.0 / 3, tol, 0); /* 1 - 1/3 */

    score_entropy(s, &v);            /* -Σ p ln p, 0 ln 0 = 0 */
    CHECK(s[0] == 0.0, "H(1,0,0) = %.17g, want exactly 0", s[0]);
    CHECK_NEAR(s[1], 0.6931471805599453, tol, 0);  /* 2 · 0.5 ln 2 = ln 2 */
    /* 0.7·0.356675 + 0.2·1.609438 + 0.1·2.302585 = 0.249672 + 0.321888 + 0.230259 */
    CHECK_NEAR(s[2], 0.8018185525433372, tol, 0);
    CHECK_NEAR(s[3], 1.0986122886681098, tol, 0);  /* 3 · (1/3) ln 3 = ln 3 */

    score_margin(s, &v);             /* -(p1 - p2) */
    CHECK_NEAR(s[0], -1.0, tol, 0);  /* -(1 - 0) */
    CHECK_NEAR(s[1], 0.0, tol, 0);   /* -(0.5 - 0.5) */
    CHECK_NEAR(s[2], -0.5, tol, 0);  /* -(0.7 - 0.2) */
    CHECK_NEAR(s[3], 0.0, tol, 0);   /* -(1/3 - 1/3) */

    /* Order does not matter: the two largest of (0.1, 0.2, 0.7) are found wherever they sit. */
    const float rev[3] = {0.1f, 0.2f, 0.7f};
    PoolView v1 = {.n = 1, .k = 3, .probs = rev};
    score_margin(s, &v1);
    CHECK_NEAR(s[0], -0.5, tol, 0);
    score_least_confidence(s, &v1);
    CHECK_NEAR(s[0], 0.3, tol, 0);

    /* A NaN probability gives a NaN score (ranked last), never a confident number. */
    const float bad[3] = {0.5f, NAN, 0.1f};
    PoolView vb = {.n = 1, .k = 3, .probs = bad};
    score_least_confidence(s, &vb); CHECK(isnan(s[0]), "least-confidence of NaN row %g", s[0]);
    score_entropy(s, &vb);          CHECK(isnan(s[0]), "entropy of NaN row %g", s[0]);
    score_margin(s, &vb);           CHECK(isnan(s[0]), "margin of NaN row %g", s[0]);
}

/* mc (T=2, n=2, K=2), sample-major: mc[(t*n + i)*K + c]. */
static const float mc_hand[2 * 2 * 2] = {
    /* t=0 */ 1.0f, 0.0f,   0.8f, 0.2f,
    /* t=1 */ 0.0f, 1.0f,   0.4f, 0.6f,
};

static void test_bald_hand(void) {
    PoolView v = {.n = 2, .k = 2, .t = 2, .mc = mc_hand};
    double s[2];
    score_bald(s, &v);
    /* Row 0: p̄ = (0.5, 0.5), H[p̄] = ln 2; each sample is one-hot, H = 0. BALD = ln 2. */
    CHECK_NEAR(s[0], 0.6931471805599453, 1e-12, 0);
    /* Row 1: p̄ = (0.6, 0.4), H[p̄] = -(0.6 ln 0.6 + 0.4 ln 0.4) = 0.6730116670;
     * H(0.8, 0.2) = 0.5004024235, H(0.4, 0.6) = 0.6730116670, mean 0.5867070453;
     * BALD = 0.6730116670 - 0.5867070453 = 0.0863046217. */
    CHECK_NEAR(s[1], 0.08630462173553433, 1e-6, 0);
    /* mc-entropy is H[p̄] alone: ln 2 and 0.6730116670. */
    score_mc_entropy(s, &v);
    CHECK_NEAR(s[0], 0.6931471805599453, 1e-12, 0);
    CHECK_NEAR(s[1], 0.6730116670092565, 1e-6, 0);
}

static void test_mean_std_hand(void) {
    PoolView v = {.n = 2, .k = 2, .t = 2, .mc = mc_hand};
    double s[2];
    score_mean_std(s, &v);
    /* Row 0: class 0 takes 1, 0 → mean 0.5, population sd 0.5; class 1 likewise. (0.5+0.5)/2. */
    CHECK_NEAR(s[0], 0.5, 1e-12, 0);
    /* Row 1: class 0 takes 0.8, 0.4 → sd 0.2; class 1 takes 0.2, 0.6 → sd 0.2. (0.2+0.2)/2. */
    CHECK_NEAR(s[1], 0.2, 1e-6, 0);
}

static void test_var_ratios_hand(void) {
    /* T=5, n=2, K=3. Row 0 predicts 0,0,1,0,2: f = 3, 1 - 3/5 = 0.4.
     * Row 1 predicts 2,2,1,1 and then (0.4,0.4,0.2), an argmax tie that goes to class 0:
     * f = 2, 1 - 2/5 = 0.6. (Were the tie to go to class 1, f would be 3 and the score 0.4.) */
    const float mc[5 * 2 * 3] = {
        /* t=0 */ 0.8f, 0.1f, 0.1f,   0.1f, 0.2f, 0.7f,
        /* t=1 */ 0.6f, 0.3f, 0.1f,   0.2f, 0.2f, 0.6f,
        /* t=2 */ 0.2f, 0.5f, 0.3f,   0.1f, 0.8f, 0.1f,
        /* t=3 */ 0.9f, 0.0f, 0.1f,   0.3f, 0.6f, 0.1f,
        /* t=4 */ 0.3f, 0.3f, 0.4f,   0.4f, 0.4f, 0.2f,
    };
    PoolView v = {.n = 2, .k = 3, .t = 5, .mc = mc};
    double s[2];
    score_var_ratios(s, &v);
    CHECK_NEAR(s[0], 0.4, 1e-12, 0);
    CHECK_NEAR(s[1], 0.6, 1e-12, 0);
}

/* BALD is 0 when all samples agree and >= 0 (at most ln K) on random samples. */
static void test_bald_properties(void) {
    enum { T = 8, N = 400, K = 6 };
    float *mc = malloc(sizeof(float) * T * N * K);   /* (T,N,K) */
    double s[N];
    Rng r = rng_stream(7, RNG_DATA, 0);
    for (int i = 0; i < N; i++) {
        float p[K];
        dirichlet(p, K, &r);
        for (int t = 0; t < T; t++) memcpy(mc + ((size_t)t * N + i) * K, p, sizeof p);
    }
    PoolView v = {.n = N, .k = K, .t = T, .mc = mc};
    score_bald(s, &v);
    int bad = 0;
    for (int i = 0; i < N; i++) bad += !(s[i] >= 0.0 && s[i] <= 1e-12);
    CHECK(bad == 0, "%d rows with agreeing samples have BALD outside [0, 1e-12]", bad);
    score_mean_std(s, &v);
    bad = 0;
    for (int i = 0; i < N; i++) bad += s[i] != 0.0;
    CHECK(bad == 0, "%d rows with agreeing samples have mean-std != 0", bad);
    score_var_ratios(s, &v);
    bad = 0;
    for (int i = 0; i < N; i++) bad += s[i] != 0.0;
    CHECK(bad == 0, "%d rows with agreeing samples have var-ratios != 0", bad);

    for (size_t j = 0; j < (size_t)T * N; j++) dirichlet(mc + j * K, K, &r);
    score_bald(s, &v);
    bad = 0;
    for (int i = 0; i < N; i++) bad += !(s[i] >= 0.0 && s[i] <= log((double)K) + 1e-12);
    CHECK(bad == 0, "%d rows with random samples have BALD outside [0, ln K]", bad);
    free(mc);
}

/* Plain reference formulas, one row at a time, with heap arrays of any K. */
static double ref_entropy(const double *p, int k) {
    double h = 0.0;
    for (int c = 0; c < k; c++) if (p[c] > 0) h -= p[c] * log(p[c]);
    return h;
}

static void test_bayesian_vs_reference(void) {
    const int ks[] = {2, 5, 256, 257, 600};   /* 256 = bayesian.c's class block */
    for (size_t q = 0; q < sizeof ks / sizeof ks[0]; q++) {
        int k = ks[q], n = 13, T = 9;
        float *mc = malloc(sizeof(float) * T * n * k);   /* (T,n,K) */
        double *pbar = malloc(sizeof(double) * k), *pt = malloc(sizeof(double) * k);
        int *count = malloc(sizeof(int) * k);
        double bald[13], vr[13], ms[13], me[13];
        Rng r = rng_stream(11 + q, RNG_DATA, 0);
        for (int j = 0; j < T * n; j++) dirichlet(mc + (size_t)j * k, k, &r);
        PoolView v = {.n = n, .k = k, .t = T, .mc = mc};
        score_bald(bald, &v);
        score_var_ratios(vr, &v);
        score_mean_std(ms, &v);
        score_mc_entropy(me, &v);
        for (int i = 0; i < n; i++) {
            double h_each = 0.0, sd = 0.0;
            int f = 0;
            for (int c = 0; c < k; c++) pbar[c] = 0.0, count[c] = 0;
            for (int t = 0; t < T; t++) {
                const float *p = mc + ((size_t)t * n + i) * k;
                int a = 0;
                for (int c = 0; c < k; c++) {
                    pt[c] = p[c];
                    pbar[c] += p[c] / (double)T;
                    if (p[c] > p[a]) a = c;
                }
                h_each += ref_entropy(pt, k) / T;
                if (++count[a] > f) f = count[a];
            }
            for (int c = 0; c < k; c++) {
                double var = 0.0;
                for (int t = 0; t < T; t++) {
                    double d = mc[((size_t)t * n + i) * k + c] - pbar[c];
                    var += d * d / T;
                }
                sd += sqrt(var) / k;
            }
            CHECK_NEAR(bald[i], ref_entropy(pbar, k) - h_each, 1e-12, 1e-9);
            CHECK_NEAR(vr[i], 1.0 - (double)f / T, 1e-15, 0);
            CHECK_NEAR(ms[i], sd, 1e-12, 1e-9);
            CHECK_NEAR(me[i], ref_entropy(pbar, k), 1e-12, 1e-9);
        }
        free(mc); free(pbar); free(pt); free(count);
    }
}

static void test_random(void) {
    enum { N = 1000 };
    double a[N], b[N], c[N], d[N];
    PoolView v = {.n = N, .k = 3, .seed = 42, .round = 3};
    score_random(a, &v);
    score_random(b, &v);
    v.round = 4;
    score_random(c, &v);
    v.round = 3;
    v.seed = 43;
    score_random(d, &v);
    int out = 0, same_round = 0, same_seed = 0;
    double mean = 0.0;
    for (int i = 0; i < N; i++) {
        out += !(a[i] >= 0.0 && a[i] < 1.0);
        same_round += a[i] == c[i];
        same_seed += a[i] == d[i];
        mean += a[i] / N;
    }
    CHECK(out == 0, "%d random scores outside [0,1)", out);
    CHECK(memcmp(a, b, sizeof a) == 0, "random is not deterministic for (seed, round, row)");
    CHECK(same_round == 0, "%d rows scored the same in rounds 3 and 4", same_round);
    CHECK(same_seed == 0, "%d rows scored the same under seeds 42 and 43", same_seed);
    CHECK_NEAR(mean, 0.5, 0.05, 0);  /* sd of the mean of 1000 U(0,1) is 0.009 */

    /* Rows 0..99 at once equal rows 0..49 then 50..99 with row0 = 50. */
    double whole[100], parts[100];
    PoolView w = {.n = 100, .k = 3, .seed = 5, .round = 1};
    score_random(whole, &w);
    w.n = 50;
    score_random(parts, &w);
    w.row0 = 50;
    score_random(parts + 50, &w);
    CHECK(memcmp(whole, parts, sizeof whole) == 0, "random depends on the chunk");
}

/* Every registered strategy gives each row the same score whatever chunk it is scored in.
 * A chunk's view has its own (T, n_chunk, K) MC array, so the samples are re-laid out. */
static void test_chunk_independence(void) {
    enum { N = 100, K = 4, T = 7 };
    static float probs[N * K], mc[T * N * K];      /* (N,K), (T,N,K) */
    static float mc_chunk[T * N * K];               /* (T,n_chunk,K) */
    Rng r = rng_stream(3, RNG_DATA, 0);
    for (int i = 0; i < N; i++) dirichlet(probs + i * K, K, &r);
    for (int j = 0; j < T * N; j++) dirichlet(mc + j * K, K, &r);
    const int cuts[][2] = {{0, 50}, {50, 100}, {0, 1}, {1, 38}, {38, 99}, {99, 100}};

    int ns;
    const Strategy *all = strategy_all(&ns);
    for (int s = 0; s < ns; s++) {
        /* A whole-pool strategy (rl) scores in its finish hook, from features recorded per
         * chunk; tests/test_rl.c and the end-to-end runs cover it. */
        if (all[s].hooks) continue;
        /* A batch-aware strategy (coreset, badge) selects from the whole view, not per row:
         * tests/test_batch.c. */
        if (all[s].select) continue;
        double whole[N], part[N];
        PoolView v = {.n = N, .k = K, .t = T, .probs = probs, .mc = mc, .seed = 9, .round = 2};
        all[s].score(whole, &v);
        int differ = 0;
        for (size_t q = 0; q < sizeof cuts / sizeof cuts[0]; q++) {
            int lo = cuts[q][0], m = cuts[q][1] - lo;
            for (int t = 0; t < T; t++)
                memcpy(mc_chunk + (size_t)t * m * K, mc + ((size_t)t * N + lo) * K,
                       sizeof(float) * m * K);
            PoolView c = v;
            c.n = m;
            c.row0 = lo;
            c.probs = probs + lo * K;
            c.mc = mc_chunk;
            all[s].score(part, &c);
            for (int i = 0; i < m; i++)
                differ += memcmp(&part[i], &whole[lo + i], sizeof(double)) != 0;
        }
        CHECK(differ == 0, "%s: %d row scores depend on the chunk", all[s].name, differ);
    }
}

static void test_registry(void) {
    enum { N_NAMES = 16 };
    static const char *names[N_NAMES] = {"random", "least-confidence", "entropy", "margin",
                                  "bald", "var-ratios", "mean-std", "mc-entropy", "rl",
                                  "power-bald", "softmax-bald", "albl", "coreset", "badge", "batchbald",
                                  "teacher"};
    static const int needs[N_NAMES] = {NEEDS_NOTHING, NEEDS_PROBS, NEEDS_PROBS, NEEDS_PROBS,
                                NEEDS_MC, NEEDS_MC, NEEDS_MC, NEEDS_MC, NEEDS_PROBS | NEEDS_MC | NEEDS_EMB,
                                NEEDS_MC, NEEDS_MC, NEEDS_PROBS | NEEDS_MC_IF_DROPOUT | NEEDS_LABELED_PROBS,
                                NEEDS_EMB, NEEDS_PROBS | NEEDS_EMB, NEEDS_MC | NEEDS_SHARED_MASKS,
                                NEEDS_PROBS | NEEDS_EMB | NEEDS_LOOKAHEAD};
    int n;
    const Strategy *all = strategy_all(&n);
    CHECK(n == N_NAMES, "registry has %d strategies, want %d", n, N_NAMES);
    for (int i = 0; i < n && i < N_NAMES; i++) {
        CHECK(strcmp(all[i].name, names[i]) == 0, "entry %d is %s, want %s",
              i, all[i].name, names[i]);
        CHECK(all[i].needs == needs[i], "%s needs %d, want %d",
              all[i].name, all[i].needs, needs[i]);
        CHECK((all[i].score != NULL) != (all[i].select != NULL) && all[i].help && all[i].help[0],
              "%s incomplete: a score or a select function (one), and a help line", all[i].name);
        CHECK(!all[i].select || (all[i].reduce == 0 /* REDUCE_NONE */ && !all[i].hooks),
              "%s: a batch-aware strategy has no device reduction nor hooks", all[i].name);
        CHECK(strategy_find(names[i]) == &all[i], "strategy_find(%s)", names[i]);
    }
    CHECK(strategy_find("nope") == NULL, "unknown name found");
    CHECK(strategy_find("") == NULL, "empty name found");
    CHECK(strategy_find("BALD") == NULL, "names are case-sensitive");

    FILE *f = tmpfile();
    CHECK(f != NULL, "tmpfile");
    if (!f) return;
    strategy_print_list(f);
    rewind(f);
    char line[512];
    int lines = 0, ok = 1;
    while (fgets(line, sizeof line, f)) {
        if (lines < N_NAMES) {
            const int e = needs[lines] & NEEDS_EMB, mc = needs[lines] & NEEDS_MC, p = needs[lines] & NEEDS_PROBS;
            const char *want = e && mc && p ? "probs+MC+hidden" : e && mc ? "MC+hidden" : e && p ? "probs+hidden" : e ? "hidden"
                             : mc ? "MC samples" : p ? "probs" : " - ";
            ok &= strncmp(line, names[lines], strlen(names[lines])) == 0 && strstr(line, want);
        }
        lines++;
    }
    fclose(f);
    CHECK(lines == N_NAMES, "--list printed %d lines, want %d", lines, N_NAMES);
    CHECK(ok, "--list lines do not start with name and show needs");
}

int main(void) {
    test_uncertainty_hand();
    test_bald_hand();
    test_mean_std_hand();
    test_var_ratios_hand();
    test_bald_properties();
    test_bayesian_vs_reference();
    test_random();
    test_chunk_independence();
    test_registry();
    return check_done("test_strategies");
}
