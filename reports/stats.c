/* stats — see stats.h. */
#include "reports/stats.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* GSL aborts on a domain error by default; here a bad value becomes NaN and is handled. */
static void gsl_quiet(void) { gsl_set_error_handler_off(); }

Describe stats_describe(const double *x, int n, double level) {
    gsl_quiet();
    Describe d = {n, NAN, NAN, NAN, NAN};
    if (n < 1) return d;
    d.mean = gsl_stats_mean(x, 1, (size_t)n);
    if (n < 2) return d;
    d.sd = gsl_stats_sd_m(x, 1, (size_t)n, d.mean);
    double half = gsl_cdf_tdist_Qinv((1 - level) / 2, n - 1) * d.sd / sqrt((double)n);
    d.lo = d.mean - half;
    d.hi = d.mean + half;
    return d;
}

double stats_quantile_sorted(const double *sorted, int n, double f) {
    if (n < 1) return NAN;
    double h = (n - 1) * f;
    int i = (int)floor(h);
    if (i >= n - 1) return sorted[n - 1];
    double frac = h - i;
    if (isinf(sorted[i + 1])) return frac > 0 ? sorted[i + 1] : sorted[i];
    return sorted[i] + frac * (sorted[i + 1] - sorted[i]);
}

/* The p-value of a t statistic with df degrees of freedom. t = ±inf (zero spread) gives 0
 * or 1 through the limits of the distribution function. */
static double t_pvalue(double t, double df, Alternative alt) {
    switch (alt) {
    case ALT_LESS: return gsl_cdf_tdist_P(t, df);
    case ALT_GREATER: return gsl_cdf_tdist_Q(t, df);
    default: return fmin(1.0, 2 * gsl_cdf_tdist_Q(fabs(t), df));
    }
}

/* t = diff / se, with zero spread defined (see stats.h): diff == 0 gives p = 1. */
static TTest t_finish(int n, double diff, double se, double df, Alternative alt) {
    TTest r = {n, NAN, df, NAN};
    if (se > 0) {
        r.t = diff / se;
        r.p = t_pvalue(r.t, df, alt);
    } else if (diff == 0) {
        r.t = 0;
        r.p = 1;
    } else {
        r.t = diff > 0 ? INFINITY : -INFINITY;
        r.p = t_pvalue(r.t, df, alt);
    }
    return r;
}

TTest stats_ttest_1samp(const double *x, int n, double mu0, Alternative alt) {
    gsl_quiet();
    TTest none = {n, NAN, NAN, NAN};
    if (n < 2) return none;
    double mean = gsl_stats_mean(x, 1, (size_t)n);
    double sd = gsl_stats_sd_m(x, 1, (size_t)n, mean);
    return t_finish(n, mean - mu0, sd / sqrt((double)n), n - 1, alt);
}

TTest stats_welch(const double *x, int nx, const double *y, int ny, double delta0, Alternative alt) {
    gsl_quiet();
    TTest none = {nx + ny, NAN, NAN, NAN};
    if (nx < 2 || ny < 2) return none;
    double mx = gsl_stats_mean(x, 1, (size_t)nx), my = gsl_stats_mean(y, 1, (size_t)ny);
    double vx = gsl_stats_variance_m(x, 1, (size_t)nx, mx) / nx;   /* squared standard errors */
    double vy = gsl_stats_variance_m(y, 1, (size_t)ny, my) / ny;
    double se2 = vx + vy;
    double df = se2 > 0 ? se2 * se2 / (vx * vx / (nx - 1) + vy * vy / (ny - 1)) : nx + ny - 2;
    return t_finish(nx + ny, mx - my - delta0, sqrt(se2), df, alt);
}

typedef struct { double a; int pos; } Signed;  /* |d| and whether d > 0 */

static int cmp_signed(const void *x, const void *y) {
    double a = ((const Signed *)x)->a, b = ((const Signed *)y)->a;
    return (a > b) - (a < b);
}

/* count (n(n+1)/2 + 1): how many subsets of the ranks {1..n} have each sum, i.e. 2^n times
 * the null distribution of R+ without ties. Exact in doubles for n <= 52 (every count and
 * every tail sum is below 2^53). */
_Static_assert(STATS_WILCOXON_EXACT_MAX <= 52, "exact Wilcoxon counts must fit a double's 53 bits");
static void wilcoxon_counts(double *count, int n) {
    int top = n * (n + 1) / 2;
    memset(count, 0, (size_t)(top + 1) * sizeof *count);
    count[0] = 1;
    for (int k = 1; k <= n; k++)
        for (int s = k * (k + 1) / 2; s >= k; s--) count[s] += count[s - k];
}

Wilcoxon stats_wilcoxon(const double *d, int n) {
    gsl_quiet();
    Wilcoxon r = {0, 0, 0, 0, 0, NAN, 1};
    Signed *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    if (!v) { r.p = NAN; return r; }
    for (int i = 0; i < n; i++) {
        if (d[i] == 0) { r.n_zero++; continue; }
        v[r.n].a = fabs(d[i]);
        v[r.n++].pos = d[i] > 0;
    }
    if (r.n == 0) { free(v); return r; }          /* every difference zero: p = 1 */
    /* Ranks of |d| in ascending order; a group of t ties shares the mean of its ranks. */
    qsort(v, (size_t)r.n, sizeof *v, cmp_signed);
    double ties = 0;                              /* Σ t(t²-1) over groups of ties */
    for (int i = 0; i < r.n;) {
        int j = i;
        while (j + 1 < r.n && v[j + 1].a == v[i].a) j++;
        double t = j - i + 1, rank = 0.5 * (i + j) + 1;
        for (int k = i; k <= j; k++) if (v[k].pos) r.r_plus += rank;
        ties += t * (t * t - 1);
        i = j + 1;
    }
    free(v);
    double total = r.n * (r.n + 1) / 2.0;
    r.w = fmin(r.r_plus, total - r.r_plus);
    r.exact = r.n <= STATS_WILCOXON_EXACT_MAX && r.n_zero == 0 && ties == 0;
    if (r.exact) {
        /* scipy's rule: R+ at the centre gives 1, else twice the smaller tail. */
        double count[STATS_WILCOXON_EXACT_MAX * (STATS_WILCOXON_EXACT_MAX + 1) / 2 + 1];
        int top = (int)total, w = (int)r.r_plus;
        wilcoxon_counts(count, r.n);
        double below = 0, above = 0;
        for (int s = 0; s <= w; s++) below += count[s];
        for (int s = w; s <= top; s++) above += count[s];
        r.p = w == top / 2 ? 1.0 : fmin(1.0, 2 * fmin(below, above) / ldexp(1.0, r.n));
    } else {
        double var = (r.n * (r.n + 1.0) * (2.0 * r.n + 1) - 0.5 * ties) / 24;
        r.z = (r.w - total / 2) / sqrt(var);
        r.p = fmin(1.0, 2 * gsl_cdf_ugaussian_Q(fabs(r.z)));
    }
    return r;
}

int stats_holm(double *adj, const double *p, int m) {
    double *in = malloc((size_t)(m > 0 ? m : 1) * sizeof *in);   /* adj may alias p */
    int *order = malloc((size_t)(m > 0 ? m : 1) * sizeof *order);
    if (!in || !order) {
        for (int i = 0; i < m; i++) adj[i] = NAN;
        free(in); free(order);
        return -1;
    }
    int k = 0;                                    /* the p-values that are numbers, ascending */
    for (int i = 0; i < m; i++) {
        in[i] = p[i];
        if (isnan(p[i])) continue;
        int j = k++;
        for (; j > 0 && in[order[j - 1]] > p[i]; j--) order[j] = order[j - 1];
        order[j] = i;
    }
    double run = 0;
    for (int j = 0; j < k; j++) {
        run = fmax(run, fmin(1.0, (k - j) * in[order[j]]));
        adj[order[j]] = run;
    }
    for (int i = 0; i < m; i++) if (isnan(in[i])) adj[i] = NAN;
    free(in); free(order);
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int stats_bootstrap_mean(Bootstrap *out, const double *d, int n, int resamples, double level, Rng *r) {
    gsl_quiet();
    out->n = n;
    out->mean = n > 0 ? gsl_stats_mean(d, 1, (size_t)n) : NAN;
    out->lo = out->hi = NAN;
    if (n < 2 || resamples < 1) return 0;
    double *means = malloc((size_t)resamples * sizeof *means);
    if (!means) return -1;
    for (int b = 0; b < resamples; b++) {
        double s = 0;
        for (int i = 0; i < n; i++) s += d[rng_below(r, (uint32_t)n)];
        means[b] = s / n;
    }
    qsort(means, (size_t)resamples, sizeof *means, cmp_double);
    out->lo = stats_quantile_sorted(means, resamples, (1 - level) / 2);
    out->hi = stats_quantile_sorted(means, resamples, (1 + level) / 2);
    free(means);
    return 0;
}
