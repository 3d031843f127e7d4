/* stats — the statistics behind `alsim report` and the gate (`alsim check`).
 *
 * Everything here works on plain arrays of per-seed values (an AULC, a labels-to-target, the
 * paired difference of two strategies). GSL gives the distributions and the descriptive
 * statistics, with its abort-on-error handler turned off; the Wilcoxon signed-rank test, the
 * Holm correction and the paired bootstrap are written here. Reference values come from
 * scipy 1.10 (tests/fixtures/make_stats_ref.py).
 *
 * Degenerate input has a defined answer, never a crash:
 *   - fewer than 2 values: no spread, no interval, no test (NaN, n says why);
 *   - zero spread: the sign of the difference is certain, so a t-test gives p = 0 when the
 *     mean lies beyond the null value in the tested direction and p = 1 otherwise (scipy gives
 *     the same, except NaN where the mean equals the null value: p = 1 here);
 *   - Wilcoxon with every difference zero: p = 1 (scipy raises an error).
 */
#ifndef ALSIM_STATS_H
#define ALSIM_STATS_H

#include "sim/rng.h"

/* Mean, sample sd (n-1) and the two-sided t-interval of the mean at `level` (e.g. 0.95):
 * mean ± t_{(1+level)/2, n-1} · sd / sqrt(n). sd, lo, hi are NaN when n < 2; everything is
 * NaN when n == 0. */
typedef struct {
    int n;
    double mean, sd, lo, hi;
} Describe;
Describe stats_describe(const double *x /*(n)*/, int n, double level);

/* The f-quantile (0 <= f <= 1) of sorted ascending values, linear interpolation between
 * order statistics (Hyndman–Fan type 7, numpy's default). +INFINITY values are allowed (a
 * target never reached ranks above every reached one): a quantile that touches one is
 * +INFINITY. NaN when n == 0. */
double stats_quantile_sorted(const double *sorted /*(n)*/, int n, double f);

typedef enum { ALT_TWO_SIDED, ALT_LESS, ALT_GREATER } Alternative;

typedef struct {
    int n;                  /* values used */
    double t, df, p;        /* NaN when no test is possible (n < 2) */
} TTest;

/* One-sample t-test of mean(x) against mu0 (the paired t-test when x holds differences).
 * ALT_LESS: H1 mean < mu0. Zero spread: see the file comment. */
TTest stats_ttest_1samp(const double *x /*(n)*/, int n, double mu0, Alternative alt);

/* Welch's unequal-variance t-test of mean(x) - mean(y) against delta0, Welch–Satterthwaite
 * degrees of freedom. NaN when nx < 2 or ny < 2. */
TTest stats_welch(const double *x /*(nx)*/, int nx, const double *y /*(ny)*/, int ny,
                  double delta0, Alternative alt);

/* The Wilcoxon signed-rank test of the differences d (two-sided), scipy's defaults:
 * zero_method 'wilcox' (zero differences are dropped before ranking; n counts the rest),
 * no continuity correction. The p-value is exact (the distribution of the positive rank sum,
 * counted) when 1 <= n <= STATS_WILCOXON_EXACT_MAX and there are neither zeros nor ties;
 * otherwise the normal approximation with the tie correction of the variance,
 * var = [n(n+1)(2n+1) - ½ Σ t(t²-1)] / 24. w = min(R+, R-) as scipy reports it.
 * This is scipy 1.10's default (method='auto': exact up to 50 pairs; older scipy: 25) wherever
 * that is exact: with zeros scipy 1.10 switches to the approximation too, and with ties its
 * exact mode would truncate the half-integer rank sum, so ties take the approximation here. */
enum { STATS_WILCOXON_EXACT_MAX = 50 };
typedef struct {
    int n;                  /* nonzero differences */
    int n_zero;             /* dropped zero differences */
    int exact;              /* 1: exact distribution; 0: normal approximation */
    double w;               /* min(R+, R-) */
    double r_plus;          /* sum of the ranks of the positive differences */
    double z;               /* the normal deviate (NaN when exact) */
    double p;               /* two-sided; 1 when every difference is zero */
} Wilcoxon;
Wilcoxon stats_wilcoxon(const double *d /*(n)*/, int n);

/* Holm's step-down adjustment of m p-values: sorted ascending, the i-th (0-based) becomes
 * max_{j<=i} min(1, (m'-j) p_(j)), m' the number of p-values that are not NaN. NaN entries
 * stay NaN and do not count. adj and p may be the same array. Returns 0, or -1 out of memory
 * (adj all NaN). */
int stats_holm(double *adj /*(m)*/, const double *p /*(m)*/, int m);

/* Paired bootstrap of the mean of d: `resamples` times, draw n indices uniformly with
 * replacement from r (rng_below), take the mean of those d (summed in draw order, divided by
 * n); the interval is the (1-level)/2 and (1+level)/2 quantiles (type 7) of those means.
 * mean is the plain mean of d. lo, hi NaN when n < 2. Returns 0, or -1 out of memory. */
typedef struct {
    int n;
    double mean, lo, hi;
} Bootstrap;
int stats_bootstrap_mean(Bootstrap *out, const double *d /*(n)*/, int n, int resamples,
                         double level, Rng *r);

#endif
