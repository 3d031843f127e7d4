/* test_stats — reports/stats.c against scipy 1.10 (tests/fixtures/stats_ref.json, written by
 * tests/fixtures/make_stats_ref.py), and the degenerate cases stats.h defines.
 * Tolerances (issue 4): p-values 1e-6 when exact, 1e-4 for approximations; intervals and
 * AULC 1e-9. Run from the repository root. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/stats.h"
#include "sim/metrics.h"
#include "sim/util.h"
#include "tests/check.h"

/* The JSON fixture at path, or NULL when it cannot be read or parsed. */
static cJSON *load(const char *path) {
    char *buf, err[256];
    if (util_read_file(&buf, NULL, path, err, sizeof err)) return NULL;
    cJSON *j = cJSON_Parse(buf);
    free(buf);
    return j;
}

static double num(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* The numbers of array o[k] into out (at most cap); returns how many. */
static int nums(double *out, int cap, const cJSON *o, const char *k) {
    int n = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(o, k)) if (n < cap) out[n++] = v->valuedouble;
    return n;
}

static Alternative alt_of(const cJSON *o) {
    const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, "alt"));
    return !strcmp(s, "less") ? ALT_LESS : !strcmp(s, "greater") ? ALT_GREATER : ALT_TWO_SIDED;
}

enum { CAP = 64 };

static void test_reference(const cJSON *ref) {
    double x[CAP], y[CAP];
    const cJSON *c;
    int cases = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ref, "describe")) {
        int n = nums(x, CAP, c, "x");
        Describe d = stats_describe(x, n, 0.95);
        CHECK_NEAR(d.mean, num(c, "mean"), 1e-12, 1e-12);
        CHECK_NEAR(d.sd, num(c, "sd"), 1e-12, 1e-10);
        CHECK_NEAR(d.lo, num(c, "lo"), 1e-9, 0);
        CHECK_NEAR(d.hi, num(c, "hi"), 1e-9, 0);
        cases++;
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ref, "quantile")) {
        int n = nums(x, CAP, c, "x");
        CHECK_NEAR(stats_quantile_sorted(x, n, num(c, "f")), num(c, "q"), 1e-9, 0);
        cases++;
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ref, "ttest")) {
        int n = nums(x, CAP, c, "x");
        TTest t = stats_ttest_1samp(x, n, num(c, "mu0"), alt_of(c));
        CHECK_NEAR(t.t, num(c, "t"), 1e-9, 1e-9);
        CHECK_NEAR(t.df, num(c, "df"), 0, 0);
        CHECK_NEAR(t.p, num(c, "p"), 1e-6, 0);
        cases++;
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ref, "welch")) {
        int nx = nums(x, CAP, c, "x"), ny = nums(y, CAP, c, "y");
        TTest t = stats_welch(x, nx, y, ny, num(c, "delta0"), alt_of(c));
        CHECK_NEAR(t.t, num(c, "t"), 1e-9, 1e-9);
        CHECK_NEAR(t.df, num(c, "df"), 1e-9, 1e-9);
        CHECK_NEAR(t.p, num(c, "p"), 1e-6, 0);
        cases++;
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ref, "wilcoxon")) {
        int n = nums(x, CAP, c, "d");
        const char *what = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(c, "what"));
        int exact = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c, "exact"));
        Wilcoxon w = stats_wilcoxon(x, n);
        CHECK(w.exact == exact, "%s: exact %d, want %d", what, w.exact, exact);
        CHECK_NEAR(w.w, num(c, "w"), 1e-12, 0);
        CHECK_NEAR(w.p, num(c, "p"), exact ? 1e-6 : 1e-4, 0);
        if (!exact) CHECK_NEAR(w.z, num(c, "z"), 1e-9, 1e-9);
        cases++;
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ref, "holm")) {
        int m = nums(x, CAP, c, "p");
        nums(y, CAP, c, "adj");
        double adj[CAP];
        CHECK(stats_holm(adj, x, m) == 0, "holm");
        for (int i = 0; i < m; i++) CHECK_NEAR(adj[i], y[i], 1e-15, 0);
        stats_holm(x, x, m);                          /* in place */
        for (int i = 0; i < m; i++) CHECK_NEAR(x[i], y[i], 1e-15, 0);
        cases++;
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ref, "bootstrap")) {
        int n = nums(x, CAP, c, "d");
        Rng r = rng_stream((uint64_t)num(c, "seed"), RNG_BOOTSTRAP, (uint64_t)num(c, "sub"));
        Bootstrap b;
        CHECK(stats_bootstrap_mean(&b, x, n, (int)num(c, "resamples"), num(c, "level"), &r) == 0, "boot");
        CHECK_NEAR(b.mean, num(c, "mean"), 1e-12, 0);
        CHECK_NEAR(b.lo, num(c, "lo"), 1e-9, 0);
        CHECK_NEAR(b.hi, num(c, "hi"), 1e-9, 0);
        cases++;
    }
    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ref, "aulc")) {
        int m = nums(x, CAP, c, "x");
        nums(y, CAP, c, "acc");
        CHECK_NEAR(metrics_aulc(x, y, m), num(c, "aulc"), 1e-9, 0);
        cases++;
    }
    CHECK(cases >= 80, "only %d reference cases read", cases);
}

/* The cases stats.h defines by hand. */
static void test_degenerate(void) {
    double one[1] = {0.7}, zero[4] = {0, 0, 0, 0}, same[3] = {0.01, 0.01, 0.01};
    Describe d = stats_describe(one, 1, 0.95);
    CHECK(d.n == 1 && d.mean == 0.7 && isnan(d.sd) && isnan(d.lo) && isnan(d.hi), "single value");
    d = stats_describe(one, 0, 0.95);
    CHECK(isnan(d.mean), "no values");
    d = stats_describe(same, 3, 0.95);
    CHECK(d.sd == 0 && d.lo == d.mean && d.hi == d.mean, "zero spread: a point interval");

    TTest t = stats_ttest_1samp(one, 1, 0, ALT_TWO_SIDED);
    CHECK(isnan(t.p) && isnan(t.t), "one value: no t-test");
    t = stats_ttest_1samp(zero, 4, 0, ALT_TWO_SIDED);
    CHECK(t.t == 0 && t.p == 1, "all differences zero: t 0, p 1 (got %g, %g)", t.t, t.p);
    t = stats_ttest_1samp(zero, 4, 0, ALT_LESS);
    CHECK(t.p == 1, "all zero, one-sided: p 1");
    t = stats_ttest_1samp(same, 3, 0, ALT_TWO_SIDED);
    CHECK(isinf(t.t) && t.t > 0 && t.p == 0, "constant nonzero differences: p 0");
    t = stats_ttest_1samp(same, 3, 0, ALT_LESS);
    CHECK(t.p == 1, "constant positive differences, H1 less: p 1 (got %g)", t.p);
    t = stats_ttest_1samp(same, 3, 0.02, ALT_LESS);
    CHECK(t.p == 0, "constant differences below mu0, H1 less: p 0 (got %g)", t.p);
    t = stats_welch(same, 3, same, 3, 0, ALT_LESS);
    CHECK(t.t == 0 && t.p == 1, "Welch, identical constant samples: p 1");
    t = stats_welch(same, 3, one, 1, 0, ALT_LESS);
    CHECK(isnan(t.p), "Welch with one value: no test");

    Wilcoxon w = stats_wilcoxon(zero, 4);
    CHECK(w.n == 0 && w.n_zero == 4 && w.p == 1, "Wilcoxon, all zero: p 1");
    w = stats_wilcoxon(zero, 0);
    CHECK(w.n == 0 && w.p == 1, "Wilcoxon, no pairs: p 1");
    w = stats_wilcoxon(same, 3);
    CHECK(!w.exact && w.n == 3, "Wilcoxon, ties: normal approximation");

    double p[4] = {NAN, 0.01, NAN, 0.04}, adj[4];
    stats_holm(adj, p, 4);
    CHECK(isnan(adj[0]) && isnan(adj[2]) && adj[1] == 0.02 && adj[3] == 0.04, "Holm skips NaN");

    double inf_sorted[4] = {100, 120, INFINITY, INFINITY};
    CHECK(stats_quantile_sorted(inf_sorted, 4, 0.25) == 115, "quantile below the unreached");
    CHECK(isinf(stats_quantile_sorted(inf_sorted, 4, 0.5)), "median not reached");
    CHECK(stats_quantile_sorted(inf_sorted, 3, 1.0 / 2) == 120, "quantile exactly at a reached one");

    Bootstrap b;
    Rng r = rng_stream(0, RNG_BOOTSTRAP, 0);
    stats_bootstrap_mean(&b, one, 1, 100, 0.95, &r);
    CHECK(b.mean == 0.7 && isnan(b.lo), "bootstrap of one value: no interval");
    stats_bootstrap_mean(&b, zero, 4, 100, 0.95, &r);
    CHECK(b.lo == 0 && b.hi == 0, "bootstrap of zeros: [0, 0]");
}

/* Wilcoxon's exact distribution sums to 1 and is symmetric: two-sided p of R+ and of
 * n(n+1)/2 - R+ agree. */
static void test_wilcoxon_symmetry(void) {
    for (int n = 1; n <= STATS_WILCOXON_EXACT_MAX; n += 4) {
        double d[STATS_WILCOXON_EXACT_MAX], e[STATS_WILCOXON_EXACT_MAX];
        for (int i = 0; i < n; i++) { d[i] = (i + 1) * (i % 3 ? 1 : -1); e[i] = -d[i]; }
        Wilcoxon a = stats_wilcoxon(d, n), b = stats_wilcoxon(e, n);
        CHECK(a.exact && b.exact && fabs(a.p - b.p) < 1e-15 && a.w == b.w, "n=%d: symmetric", n);
        CHECK(a.p > 0 && a.p <= 1, "n=%d: p in (0, 1]", n);
    }
}

int main(void) {
    cJSON *ref = load("tests/fixtures/stats_ref.json");
    CHECK(ref != NULL, "tests/fixtures/stats_ref.json: missing or malformed (run from the repository root)");
    if (ref) test_reference(ref);
    cJSON_Delete(ref);
    test_degenerate();
    test_wilcoxon_symmetry();
    return check_done("test_stats");
}
