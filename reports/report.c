/* report — see report.h. Reads top to bottom: options, grouping the runs into datasets and
 * arms, the statistics of each arm, the comparisons, and the `alsim report` command. */
#include "reports/report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/reports.h"
#include "sim/metrics.h"
#include "sim/rng.h"
#include "sim/util.h"

void report_options_from(ReportOptions *o, const Config *c) {
    memset(o, 0, sizeof *o);
    o->alpha = c->alpha;
    o->level = 0.95;
    o->target = c->target;
    o->target_frac = c->target_frac;
    o->resamples = c->resamples;
    o->boot_seed = c->seed;
    o->logx = c->logx;
    snprintf(o->reference, sizeof o->reference, "%s", c->reference);
    o->paper = paper_find(c->paper);
}

/* Appends a note for the reader to d; -1 out of memory. */
static int note(DatasetReport *d, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **more = realloc(d->notes, (size_t)(d->n_notes + 1) * sizeof *more);
    if (!more) return -1;
    d->notes = more;
    if (!(d->notes[d->n_notes] = strdup(buf))) return -1;
    d->n_notes++;
    return 0;
}

/* FNV-1a over "a\0b\0c\0": the sub-stream of one bootstrap, so its draws depend on what is
 * compared, not on what else is in the report. */
static uint64_t stream_of(const char *a, const char *b, const char *c) {
    uint64_t h = 0xcbf29ce484222325ull;
    const char *parts[3] = {a, b, c};
    for (int i = 0; i < 3; i++) {
        const unsigned char *p = (const unsigned char *)parts[i];
        do h = (h ^ *p) * 0x100000001b3ull; while (*p++);
    }
    return h;
}

/* values[k] for the runs of a and b that share a seed, into va and vb; returns the count. */
static int pair_by_seed(double *va, double *vb, const Arm *a, const double *xa, const Arm *b, const double *xb) {
    int n = 0;
    for (int i = 0, j = 0; i < a->n && j < b->n;) {
        uint64_t sa = a->runs[i]->seed, sb = b->runs[j]->seed;
        if (sa < sb) i++;
        else if (sb < sa) j++;
        else { va[n] = xa[i++]; vb[n++] = xb[j++]; }
    }
    return n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* --- one arm ------------------------------------------------------------------------- */

/* Per-round statistics over the used runs of arm (vals: scratch of arm->n). */
static int arm_rounds(Arm *arm, double level, double *acc, double *f1) {
    arm->rounds = 0;
    for (int i = 0; i < arm->n; i++) if (arm->runs[i]->m > arm->rounds) arm->rounds = arm->runs[i]->m;
    arm->per_round = calloc((size_t)arm->rounds, sizeof *arm->per_round);
    if (!arm->per_round) return -1;
    for (int r = 0; r < arm->rounds; r++) {
        int k = 0;
        for (int i = 0; i < arm->n; i++) {
            const Run *run = arm->runs[i];
            if (run->m <= r) continue;
            if (!k) arm->per_round[r].n_labeled = run->n_labeled[r];
            acc[k] = run->accuracy[r];
            f1[k++] = run->macro_f1[r];
        }
        arm->per_round[r].acc = stats_describe(acc, k, level);
        arm->per_round[r].f1 = stats_describe(f1, k, level);
    }
    return 0;
}

/* AULC and labels-to-target of every run over the first `common` rounds, and their summaries. */
static int arm_metrics(Arm *arm, int common, double target, double level) {
    arm->aulc = malloc((size_t)arm->n * sizeof *arm->aulc);
    arm->ltt = malloc((size_t)arm->n * sizeof *arm->ltt);
    double *sorted = malloc((size_t)arm->n * sizeof *sorted);
    if (!arm->aulc || !arm->ltt || !sorted) { free(sorted); return -1; }
    arm->reached = 0;
    for (int i = 0; i < arm->n; i++) {
        const Run *r = arm->runs[i];
        arm->aulc[i] = metrics_aulc(r->n_labeled, r->accuracy, common);
        double l = isnan(target) ? NAN : metrics_labels_to_target(r->n_labeled, r->accuracy, common, target);
        arm->ltt[i] = l < 0 ? INFINITY : l;
        arm->reached += isfinite(arm->ltt[i]);
        sorted[i] = arm->ltt[i];
    }
    arm->aulc_d = stats_describe(arm->aulc, arm->n, level);
    qsort(sorted, (size_t)arm->n, sizeof *sorted, cmp_double);
    for (int q = 0; q < 3; q++)
        arm->ltt_q[q] = isnan(target) ? NAN : stats_quantile_sorted(sorted, arm->n, 0.25 * (q + 1));
    free(sorted);
    return 0;
}

/* --- comparisons ---------------------------------------------------------------------- */

/* The paired tests of arms a and b of d on AULC (scratch: two arrays of the larger arm). */
static void compare(Comparison *c, const DatasetReport *d, int a, int b, double *va, double *vb) {
    const Arm *A = &d->arms[a], *B = &d->arms[b];
    memset(c, 0, sizeof *c);
    c->a = a;
    c->b = b;
    c->n = pair_by_seed(va, vb, A, A->aulc, B, B->aulc);
    for (int i = 0; i < c->n; i++) va[i] -= vb[i];
    c->mean_diff = c->n ? 0 : NAN;
    for (int i = 0; i < c->n; i++) c->mean_diff += va[i] / c->n;
    c->t = stats_ttest_1samp(va, c->n, 0, ALT_TWO_SIDED);
    c->w = stats_wilcoxon(va, c->n);
    if (c->n < 2) c->w.p = NAN;                   /* no test on fewer than 2 pairs */
    c->verdict = VERDICT_NA;
    c->d_aulc.mean = c->saved.mean = c->d_aulc.lo = c->d_aulc.hi = c->saved.lo = c->saved.hi = NAN;
}

/* The verdict of a comparison from its Holm-adjusted paired-t p. */
static int verdict(const Comparison *c, double alpha) {
    if (c->n < 2 || isnan(c->p_t_holm)) return VERDICT_NA;
    if (c->p_t_holm >= alpha || c->mean_diff == 0) return 0;
    return c->mean_diff > 0 ? 1 : -1;
}

/* Bootstrap intervals of arm a against the reference: ΔAULC, and labels saved over the seeds
 * where both reached the target. */
static int savings(Comparison *c, const DatasetReport *d, const ReportOptions *o, double *va, double *vb) {
    const Arm *A = &d->arms[c->a], *R = &d->arms[d->ref];
    int n = pair_by_seed(va, vb, A, A->aulc, R, R->aulc);
    for (int i = 0; i < n; i++) va[i] -= vb[i];
    c->d_aulc_t = stats_describe(va, n, o->level);
    Rng r = rng_stream(o->boot_seed, RNG_BOOTSTRAP, stream_of(d->dataset, A->strategy, "aulc"));
    if (stats_bootstrap_mean(&c->d_aulc, va, n, o->resamples, o->level, &r)) return -1;
    n = pair_by_seed(va, vb, A, A->ltt, R, R->ltt);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(va[i]) && isfinite(vb[i])) va[k++] = vb[i] - va[i];   /* reference - arm */
    c->saved_dropped = isnan(d->target) ? 0 : n - k;
    r = rng_stream(o->boot_seed, RNG_BOOTSTRAP, stream_of(d->dataset, A->strategy, "labels"));
    return stats_bootstrap_mean(&c->saved, va, k, o->resamples, o->level, &r);
}

const Comparison *report_pair(const DatasetReport *d, int a, int b) {
    if (a < 0 || b <= a || b >= d->n_arms) return NULL;
    /* pairs are stored (0,1), (0,2), ..., (1,2), ...: row a starts after the rows before it */
    int idx = a * d->n_arms - a * (a + 1) / 2 + (b - a - 1);
    return &d->pairs[idx];
}

/* Holm over the p-values of comparisons (n), one family per test, then the verdicts. */
static int holm_family(Comparison *c, int n, double alpha, const int *skip) {
    double *p = calloc((size_t)(2 * n + 1), sizeof *p), *q = p ? p + n : NULL;
    if (!p) return -1;
    for (int i = 0; i < n; i++) {
        p[i] = skip && skip[i] ? NAN : c[i].t.p;
        q[i] = skip && skip[i] ? NAN : c[i].w.p;
    }
    int rc = stats_holm(p, p, n) | stats_holm(q, q, n);
    for (int i = 0; i < n; i++) {
        c[i].p_t_holm = p[i];
        c[i].p_w_holm = q[i];
        c[i].verdict = verdict(&c[i], alpha);
    }
    free(p);
    return rc;
}

/* --paper: per arm and level of the paper, the acquired labels to reach it, their quartiles,
 * and labels saved against the reference, Holm-adjusted over the arms of each level (see
 * PaperArm). va, vb: scratch of the largest arm. */
static int paper_metrics(DatasetReport *d, const Paper *p, double alpha, double *va, double *vb) {
    for (int l = 0; l < p->n_levels; l++) {
        for (int a = 0; a < d->n_arms; a++) {
            Arm *arm = &d->arms[a];
            PaperArm *pa = &arm->paper;
            if (!(pa->acquired[l] = malloc((size_t)arm->n * sizeof(double)))) return -1;
            for (int i = 0; i < arm->n; i++) {
                const Run *r = arm->runs[i];
                double x = metrics_labels_to_target(r->n_labeled, r->accuracy, d->common, p->levels[l]);
                pa->acquired[l][i] = x < 0 ? INFINITY : x - r->n_labeled[0];
                pa->reached[l] += x >= 0;
                va[i] = pa->acquired[l][i];
            }
            qsort(va, (size_t)arm->n, sizeof *va, cmp_double);
            for (int q = 0; q < 3; q++) pa->q[l][q] = stats_quantile_sorted(va, arm->n, 0.25 * (q + 1));
        }
        for (int a = 0; a < d->n_arms; a++) d->arms[a].paper.vs_ref[l].verdict = VERDICT_NA;
        if (d->ref < 0) continue;
        Comparison *c = calloc((size_t)d->n_arms, sizeof *c);
        int *skip = calloc((size_t)d->n_arms, sizeof *skip);
        if (!c || !skip) { free(c); free(skip); return -1; }
        const Arm *R = &d->arms[d->ref];
        const double *x = d->config_run->n_labeled;      /* not reached: one round after the last */
        const double bound = x[d->common - 1] - x[0] + (d->common > 1 ? x[d->common - 1] - x[d->common - 2] : 0);
        for (int a = 0; a < d->n_arms; a++) {
            const Arm *A = &d->arms[a];
            c[a].a = a;
            c[a].b = d->ref;
            skip[a] = a == d->ref;
            int k = pair_by_seed(va, vb, A, A->paper.acquired[l], R, R->paper.acquired[l]);
            d->arms[a].paper.censored[l] = 0;
            for (int i = 0; i < k; i++) {
                d->arms[a].paper.censored[l] += !isfinite(va[i]) || !isfinite(vb[i]);
                va[i] = (isfinite(vb[i]) ? vb[i] : bound) - (isfinite(va[i]) ? va[i] : bound);   /* reference - arm */
            }
            c[a].n = k;
            double sum = 0;     /* of whole label counts: exact, so the mean is too */
            for (int i = 0; i < k; i++) sum += va[i];
            c[a].mean_diff = k ? sum / k : NAN;
            c[a].t = stats_ttest_1samp(va, k, 0, ALT_TWO_SIDED);
            c[a].w = stats_wilcoxon(va, k);
            if (k < 2) c[a].w.p = NAN;
        }
        int rc = holm_family(c, d->n_arms, alpha, skip);
        c[d->ref].verdict = VERDICT_NA;
        for (int a = 0; a < d->n_arms; a++) d->arms[a].paper.vs_ref[l] = c[a];
        free(c);
        free(skip);
        if (rc) return -1;
    }
    return 0;
}

/* --- one dataset ---------------------------------------------------------------------- */

/* The target of labels-to-target for d (see report.h), and how it was chosen. */
static void choose_target(DatasetReport *d, const ReportOptions *o) {
    d->target = NAN;
    int same = d->n_arms > 0;
    double cfg = same ? d->arms[0].runs[0]->config_target : 0;
    for (int a = 0; a < d->n_arms; a++)
        for (int i = 0; i < d->arms[a].n; i++) same &= d->arms[a].runs[i]->config_target == cfg;
    if (o->target > 0) {
        d->target = o->target;
        snprintf(d->target_rule, sizeof d->target_rule, "accuracy %.4g (--target)", o->target);
    } else if (o->target_frac > 0 && !isnan(d->ceiling)) {
        d->target = o->target_frac * d->ceiling;
        snprintf(d->target_rule, sizeof d->target_rule, "accuracy %.4f = %.3g x the full-data ceiling %.4f (--target-frac)",
                 d->target, o->target_frac, d->ceiling);
    } else if (o->target_frac > 0) {
        snprintf(d->target_rule, sizeof d->target_rule, "none: --target-frac needs a --full-data run of this dataset among the inputs");
    } else if (same && cfg > 0) {
        d->target = cfg;
        snprintf(d->target_rule, sizeof d->target_rule, "accuracy %.4g (the runs' --target)", cfg);
    } else if (o->paper) {
        d->target = o->paper->levels[0];
        snprintf(d->target_rule, sizeof d->target_rule, "accuracy %.4g (the first level of --paper %s)", d->target,
                 o->paper->name);
    } else if (!isnan(d->ceiling)) {
        d->target = REPORT_DEFAULT_FRAC * d->ceiling;
        snprintf(d->target_rule, sizeof d->target_rule, "accuracy %.4f = %.3g x the full-data ceiling %.4f (the default fraction)",
                 d->target, REPORT_DEFAULT_FRAC, d->ceiling);
    } else {
        snprintf(d->target_rule, sizeof d->target_rule,
                 "none: give --target ACC, or include an alsim --full-data run of this dataset (then --target-frac F)");
    }
}

/* The file-name-safe id of a dataset name, unique among the first n datasets of rep. */
static void dataset_id(char id[96], const Report *rep, int n, const char *name) {
    char base[80];
    snprintf(base, sizeof base, "%s", name);
    for (char *p = base; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
            *p = '_';
    snprintf(id, 96, "%s", base[0] ? base : "dataset");
    for (int k = 2, clash = 1; clash; k++) {
        clash = 0;
        for (int i = 0; i < n; i++) clash |= !strcmp(rep->ds[i].id, id);
        if (clash) snprintf(id, 96, "%s-%d", base[0] ? base : "dataset", k);
    }
}

/* Builds d from the runs [first, last) of rep->set (one dataset, sorted). */
static int build_dataset(Report *rep, DatasetReport *d, int first, int last) {
    const ReportOptions *o = &rep->opt;
    const Run *runs = rep->set.runs;
    d->dataset = runs[first].dataset;
    d->name = runs[first].name;
    d->ref = -1;
    d->ceiling = NAN;
    char why[64];
    /* Arms: one per strategy among the usable AL runs; the reference first. */
    d->arms = calloc((size_t)(last - first), sizeof *d->arms);
    if (!d->arms) return -1;
    double ceiling = 0;
    for (int i = first; i < last; i++) {
        const Run *r = &runs[i];
        if (runs_unusable(r, why)) {
            rep->n_excluded++;
            if (note(d, "left out %s (%s, seed %llu): %s", r->path, r->strategy, (unsigned long long)r->seed, why)) return -1;
            continue;
        }
        rep->n_used++;
        if (r->full_data) { ceiling += r->accuracy[r->m - 1]; d->n_ceiling++; continue; }
        if (!d->config_run) d->config_run = r;
        Arm *arm = d->n_arms ? &d->arms[d->n_arms - 1] : NULL;
        if (!arm || strcmp(arm->strategy, r->strategy)) {
            arm = &d->arms[d->n_arms++];
            snprintf(arm->strategy, sizeof arm->strategy, "%s", r->strategy);
            if (!(arm->runs = malloc((size_t)(last - first) * sizeof *arm->runs))) return -1;
        }
        arm->runs[arm->n++] = r;
    }
    if (d->n_ceiling) d->ceiling = ceiling / d->n_ceiling;
    for (int i = first; i < last; i++) {         /* what was left out, per strategy */
        const Run *r = &runs[i];
        if (r->full_data || !runs_unusable(r, why)) continue;
        int a = 0;
        while (a < d->n_arms && strcmp(d->arms[a].strategy, r->strategy)) a++;
        if (a < d->n_arms) d->arms[a].n_excluded++;
        else if ((i == first || strcmp(runs[i - 1].strategy, r->strategy)) &&
                 note(d, "every run of %s was left out: it has no statistics", r->strategy))
            return -1;
    }
    for (int a = 0; a < d->n_arms; a++) {
        if (strcmp(d->arms[a].strategy, o->reference)) continue;
        Arm ref = d->arms[a];                   /* move the reference to the front */
        memmove(&d->arms[1], &d->arms[0], (size_t)a * sizeof *d->arms);
        d->arms[0] = ref;
        d->ref = 0;
    }
    if (!d->n_arms) return 0;

    /* The rounds compared: those every used run has. */
    d->expected = runs_json_int(d->config_run->config, "rounds", -1) + 1;   /* 0: unknown */
    const Run *shortest = d->arms[0].runs[0];
    for (int a = 0; a < d->n_arms; a++)
        for (int i = 0; i < d->arms[a].n; i++)
            if (d->arms[a].runs[i]->m < shortest->m) shortest = d->arms[a].runs[i];
    d->common = shortest->m;
    if (d->common < d->expected &&
        note(d, "%s has only %d of the %d rounds its config asks for: AULC, labels-to-target and the tests of every "
             "strategy of this dataset use rounds 0-%d (%g-%g labels)", shortest->path, shortest->m, d->expected,
             d->common - 1, shortest->n_labeled[0], shortest->n_labeled[d->common - 1]))
        return -1;
    choose_target(d, o);

    int most = 0;
    for (int a = 0; a < d->n_arms; a++) if (d->arms[a].n > most) most = d->arms[a].n;
    double *va = malloc((size_t)(2 * most) * sizeof *va), *vb = va ? va + most : NULL;
    if (!va) return -1;
    int rc = 0;
    for (int a = 0; a < d->n_arms && !rc; a++) {
        Arm *arm = &d->arms[a];
        rc = arm_rounds(arm, o->level, va, vb) || arm_metrics(arm, d->common, d->target, o->level);
        if (!rc && arm->n == 1)
            rc = note(d, "%s has a single seed: means only, no intervals or tests", arm->strategy);
    }
    if (d->ref < 0 && !rc)
        rc = note(d, "no %s runs: savings against %s are not computed", o->reference, o->reference);

    /* Against the reference, and every pair. */
    d->n_pairs = d->n_arms * (d->n_arms - 1) / 2;
    d->vs_ref = calloc((size_t)d->n_arms, sizeof *d->vs_ref);
    d->pairs = calloc((size_t)(d->n_pairs ? d->n_pairs : 1), sizeof *d->pairs);
    int *skip = calloc((size_t)d->n_arms, sizeof *skip);
    if (!d->vs_ref || !d->pairs || !skip) rc = -1;
    for (int a = 0, k = 0; a < d->n_arms && !rc; a++)
        for (int b = a + 1; b < d->n_arms; b++) compare(&d->pairs[k++], d, a, b, va, vb);
    if (!rc) rc = holm_family(d->pairs, d->n_pairs, o->alpha, NULL);
    if (!rc && d->ref >= 0) {
        for (int a = 0; a < d->n_arms && !rc; a++) {
            skip[a] = a == d->ref;
            if (skip[a]) continue;
            compare(&d->vs_ref[a], d, a, d->ref, va, vb);
            rc = savings(&d->vs_ref[a], d, o, va, vb);
        }
        if (!rc) rc = holm_family(d->vs_ref, d->n_arms, o->alpha, skip);
        d->vs_ref[d->ref].verdict = VERDICT_NA;
    }
    if (!rc && o->paper) rc = paper_metrics(d, o->paper, o->alpha, va, vb);
    free(skip);
    free(va);
    return rc;
}

int report_build(Report *rep, char **paths, int npaths, const ReportOptions *opt, char *err, size_t errlen) {
    memset(rep, 0, sizeof *rep);
    rep->opt = *opt;
    int rc = runs_load(&rep->set, paths, npaths, err, errlen);
    if (rc) return rc;
    const RunSet *s = &rep->set;
    int n = 0;
    for (int i = 0; i < s->n; i++) n += !i || strcmp(s->runs[i].dataset, s->runs[i - 1].dataset);
    rep->ds = calloc((size_t)n, sizeof *rep->ds);
    if (!rep->ds) { snprintf(err, errlen, "out of memory"); return ALSIM_RUNTIME; }
    for (int first = 0, last; first < s->n; first = last) {
        for (last = first + 1; last < s->n && !strcmp(s->runs[last].dataset, s->runs[first].dataset); last++) {}
        DatasetReport *d = &rep->ds[rep->n_ds++];
        if (build_dataset(rep, d, first, last)) { snprintf(err, errlen, "out of memory"); return ALSIM_RUNTIME; }
        dataset_id(d->id, rep, rep->n_ds - 1, d->name);
    }
    if (!rep->n_used) {
        snprintf(err, errlen, "none of the %d runs can be used (every one diverged or failed; see their summary.json)", s->n);
        return ALSIM_BAD_INPUT;
    }
    return 0;
}

void report_free(Report *rep) {
    for (int i = 0; i < rep->n_ds; i++) {
        DatasetReport *d = &rep->ds[i];
        for (int a = 0; a < d->n_arms; a++) {
            Arm *arm = &d->arms[a];
            free(arm->runs); free(arm->per_round); free(arm->aulc); free(arm->ltt);
            for (int l = 0; l < PAPER_MAX_LEVELS; l++) free(arm->paper.acquired[l]);
        }
        free(d->arms); free(d->vs_ref); free(d->pairs);
        for (int k = 0; k < d->n_notes; k++) free(d->notes[k]);
        free(d->notes);
    }
    free(rep->ds);
    runs_free(&rep->set);
    memset(rep, 0, sizeof *rep);
}

/* --- the command ---------------------------------------------------------------------- */

int report_args(Config *c, ReportOptions *o, char ***paths, int *npaths, Command cmd, int argc,
                char **argv, char *err, size_t errlen) {
    config_defaults(c, cmd);
    *npaths = 0;
    if (!(*paths = malloc((size_t)(argc + 1) * sizeof **paths))) {
        snprintf(err, errlen, "out of memory");
        return ALSIM_RUNTIME;
    }
    int rc = config_parse_args(c, cmd, argc, argv, *paths, npaths, err, errlen);
    if (!rc && config_help_asked(argc, argv)) {
        config_print_usage(stdout, c, cmd);
        return -1;
    }
    if (!rc) rc = config_check(c, cmd, err, errlen);
    if (!rc && c->paper[0] && !paper_find(c->paper)) {
        snprintf(err, errlen, "--paper: unknown paper '%s' (known: %s)", c->paper, paper_names());
        rc = ALSIM_BAD_INPUT;
    }
    if (!rc && !*npaths) {
        const char *name = config_command_name(cmd);
        snprintf(err, errlen, "usage: alsim %s RUNS... (alsim %s --help)", name, name);
        rc = ALSIM_BAD_INPUT;
    }
    report_options_from(o, c);
    return rc;
}

int cmd_report(int argc, char **argv) {
    Config c;
    ReportOptions o;
    char err[8192], **paths;
    int npaths, rc = report_args(&c, &o, &paths, &npaths, CMD_REPORT, argc, argv, err, sizeof err);
    if (rc < 0) { free(paths); return ALSIM_OK; }
    const char *out = c.out;
    Report rep;
    memset(&rep, 0, sizeof rep);
    int rendered = 1;
    if (!rc) rc = report_build(&rep, paths, npaths, &o, err, sizeof err);
    if (!rc) rc = report_write(&rep, out, &rendered, err, sizeof err);
    if (!rc) {
        fprintf(stderr, "alsim: report of %d runs (%d used, %d left out) in %d dataset%s\n", rep.set.n, rep.n_used,
                rep.n_excluded, rep.n_ds, rep.n_ds == 1 ? "" : "s");
        if (!rendered) fprintf(stderr, "alsim: warning: gnuplot not found: figures not rendered (their .gp scripts are in %s)\n", out);
        printf("summary: %s/summary.md\nsummary: %s/summary.json\n", out, out);
        for (int i = 0; i < rep.n_ds && rendered; i++)
            if (rep.ds[i].n_arms) {
                printf("learning curves: %s/%s-curves.png\n", out, rep.ds[i].id);
                if (o.paper) printf("paper figure: %s/%s-paper.png\n", out, rep.ds[i].id);
            }
    }
    report_free(&rep);
    free(paths);
    if (rc) fprintf(stderr, "alsim: %s\n", err);
    return rc;
}
