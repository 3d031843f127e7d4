/* gate — the CI regression gate: `alsim baseline` records, per (dataset, strategy), the
 * per-seed AULC and labels-to-target of a set of runs with the config they came from;
 * `alsim check` compares new runs of the same config with it.
 *
 * A regression (exit 1) is, for some (dataset, strategy) of the baseline:
 *   - AULC lower by more than the tolerance, significantly: one-sided test of
 *     H0 mean(new - base) >= -tol against H1 mean(new - base) < -tol at alpha; paired t over
 *     the seeds when the runs have exactly the baseline's seeds, Welch's t otherwise;
 *   - labels-to-target higher by more than its tolerance (default: one query batch), the same
 *     way. A seed that never reaches the target counts as one batch past the last round: a
 *     lower bound on its true value, so this can only understate a rise, never invent one;
 *   - any run of it diverged.
 * With fewer than 2 values on a side no test is possible: the tolerance alone decides (a
 * drop beyond it is a regression), and the table says so.
 * Exit 2 (bad input): malformed files, a baseline group with no runs, or runs whose config
 * differs from the baseline's (re-record the baseline when the change is intended).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "reports/report.h"
#include "reports/reports.h"
#include "sim/jsonw.h"
#include "sim/metrics.h"
#include "sim/util.h"


/* --- alsim baseline ------------------------------------------------------------------- */

static void write_group(JsonW *w, const DatasetReport *d, const Arm *arm) {
    jw_object(w);
    jw_key(w, "dataset"); jw_str(w, d->dataset);
    jw_key(w, "name"); jw_str(w, d->name);
    jw_key(w, "strategy"); jw_str(w, arm->strategy);
    jw_key(w, "config"); runs_write_json(w, d->config_run->config);
    jw_key(w, "curve_rows"); jw_int(w, d->common);   /* rounds 0..curve_rows-1 */
    jw_key(w, "last_labeled"); jw_num(w, d->config_run->n_labeled[d->common - 1]);
    jw_key(w, "batch"); jw_int(w, d->config_run->batch);
    jw_key(w, "target"); jw_num(w, d->target);          /* null: no target */
    jw_key(w, "target_rule"); jw_str(w, d->target_rule);
    jw_key(w, "runs_left_out"); jw_int(w, arm->n_excluded);
    jw_key(w, "aulc_mean"); jw_num(w, arm->aulc_d.mean);
    jw_key(w, "runs");
    jw_array(w);
    for (int i = 0; i < arm->n; i++) {
        jw_object(w);
        jw_key(w, "seed"); jw_int(w, (int64_t)arm->runs[i]->seed);
        jw_key(w, "aulc"); jw_num(w, arm->aulc[i]);
        jw_key(w, "labels_to_target"); jw_num(w, arm->ltt[i]);   /* null: not reached */
        jw_end(w);
    }
    jw_end(w);
    jw_end(w);
}

static int write_baseline(const Report *rep, const char *path, char *err, size_t errlen) {
    char tmp[4200];
    FILE *f = util_open_atomic(tmp, path, err, errlen);
    if (!f) return ALSIM_RUNTIME;
    JsonW w;
    jw_init(&w, f, 1);
    jw_object(&w);
    jw_key(&w, "alsim_baseline"); jw_int(&w, 1);
    jw_key(&w, "git_revision"); jw_str(&w, util_git_revision());
    char when[64];
    time_t now = time(NULL);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    jw_key(&w, "created"); jw_str(&w, when);
    jw_key(&w, "groups");
    jw_array(&w);
    for (int i = 0; i < rep->n_ds; i++)
        for (int a = 0; a < rep->ds[i].n_arms; a++) write_group(&w, &rep->ds[i], &rep->ds[i].arms[a]);
    jw_end(&w);
    jw_end(&w);
    jw_finish(&w);
    return util_commit_atomic(f, 1, tmp, path, err, errlen);
}

int cmd_baseline(int argc, char **argv) {
    Config c;
    ReportOptions o;
    char err[8192], **paths;
    int npaths, rc = report_args(&c, &o, &paths, &npaths, CMD_BASELINE, argc, argv, err, sizeof err);
    if (rc < 0) { free(paths); return ALSIM_OK; }
    const char *out = c.out;
    Report rep;
    memset(&rep, 0, sizeof rep);
    if (!rc) rc = report_build(&rep, paths, npaths, &o, err, sizeof err);
    for (int i = 0; !rc && i < rep.n_ds; i++)
        for (int k = 0; k < rep.ds[i].n_notes; k++) fprintf(stderr, "alsim: baseline: %s\n", rep.ds[i].notes[k]);
    if (!rc) rc = write_baseline(&rep, out, err, sizeof err);
    if (!rc) {
        int groups = 0;
        for (int i = 0; i < rep.n_ds; i++) groups += rep.ds[i].n_arms;
        fprintf(stderr, "alsim: baseline of %d (dataset, strategy) groups from %d runs written to %s\n", groups, rep.n_used, out);
    }
    report_free(&rep);
    free(paths);
    if (rc) fprintf(stderr, "alsim: %s\n", err);
    return rc;
}

/* --- alsim check ---------------------------------------------------------------------- */

/* What check compares with what, from its options (config.h). */
typedef struct {
    double alpha;
    double tol_aulc;
    double tol_labels;      /* < 0: one query batch of the group */
    char against_new[64], against_base[64];   /* --against NEW=BASE */
} CheckOptions;

/* One baseline group as read back. */
typedef struct {
    const char *dataset, *strategy;
    const cJSON *config;
    int rounds;
    double last_labeled, batch, target;   /* target NaN: none */
    int n;
    double *seeds, *aulc, *ltt;   /* (n) by seed; ltt NaN: not reached */
} BaseGroup;

static void base_free(BaseGroup *b) { free(b->seeds); }

/* Reads group g (index k) of the baseline file path into b; 0 or 2 with a reason. */
static int read_group(BaseGroup *b, const cJSON *g, int k, const char *path, char *err, size_t errlen) {
    memset(b, 0, sizeof *b);
    const cJSON *runs = cJSON_GetObjectItemCaseSensitive(g, "runs");
    b->dataset = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "dataset"));
    b->strategy = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "strategy"));
    b->config = cJSON_GetObjectItemCaseSensitive(g, "config");
    b->rounds = runs_json_int(g, "curve_rows", 0);
    b->last_labeled = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "last_labeled"));
    b->batch = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(g, "batch"));
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(g, "target");
    b->target = cJSON_IsNumber(t) ? t->valuedouble : NAN;
    if (!b->dataset || !b->strategy || !cJSON_IsObject(b->config) || b->rounds < 1 || isnan(b->last_labeled) ||
        isnan(b->batch) || !cJSON_IsArray(runs) || (t && !cJSON_IsNumber(t) && !cJSON_IsNull(t))) {
        snprintf(err, errlen, "%s: group %d: needs dataset, strategy, config, curve_rows, last_labeled, batch, "
                 "target and runs (write it with alsim baseline)", path, k + 1);
        return ALSIM_BAD_INPUT;
    }
    int m = cJSON_GetArraySize(runs);
    if (!(b->seeds = malloc((size_t)(3 * m + 1) * sizeof *b->seeds))) { snprintf(err, errlen, "out of memory"); return ALSIM_RUNTIME; }
    b->aulc = b->seeds + m;
    b->ltt = b->aulc + m;
    const cJSON *r;
    cJSON_ArrayForEach(r, runs) {
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(r, "seed"), *a = cJSON_GetObjectItemCaseSensitive(r, "aulc");
        const cJSON *l = cJSON_GetObjectItemCaseSensitive(r, "labels_to_target");
        if (!cJSON_IsNumber(s) || !cJSON_IsNumber(a) || !(cJSON_IsNumber(l) || cJSON_IsNull(l)) ||
            (b->n && s->valuedouble <= b->seeds[b->n - 1])) {
            snprintf(err, errlen, "%s: group %d (%s): run %d needs numbers seed (ascending), aulc and labels_to_target (or null)",
                     path, k + 1, b->strategy, b->n + 1);
            return ALSIM_BAD_INPUT;
        }
        b->seeds[b->n] = s->valuedouble;
        b->aulc[b->n] = a->valuedouble;
        b->ltt[b->n++] = cJSON_IsNumber(l) ? l->valuedouble : NAN;
    }
    if (!b->n) { snprintf(err, errlen, "%s: group %d (%s): no runs", path, k + 1, b->strategy); return ALSIM_BAD_INPUT; }
    return 0;
}

/* How one metric compares; filled by test_metric. */
typedef struct {
    int nb, nn;             /* values on each side */
    double base, now;       /* means */
    double p;               /* NaN: no test possible */
    int paired, regression;
    char test[48];
} Outcome;

/* One-sided test of a worsening beyond tol: for AULC (sign -1) a drop, for labels (sign +1)
 * a rise. Paired when the seeds are the same, Welch otherwise. */
static Outcome test_metric(const double *bs, const double *bv, int nb, const double *ns, const double *nv, int nn,
                           double tol, int sign, double alpha) {
    Outcome o = {nb, nn, 0, 0, NAN, 0, 0, ""};
    for (int i = 0; i < nb; i++) o.base += bv[i] / nb;
    for (int i = 0; i < nn; i++) o.now += nv[i] / nn;
    o.paired = nb == nn;
    for (int i = 0; i < nb && o.paired; i++) o.paired = bs[i] == ns[i];   /* both sorted by seed */
    Alternative alt = sign < 0 ? ALT_LESS : ALT_GREATER;
    TTest t;
    double *d = o.paired ? malloc((size_t)nn * sizeof *d) : NULL;
    if (d) {
        for (int i = 0; i < nn; i++) d[i] = nv[i] - bv[i];
        t = stats_ttest_1samp(d, nn, sign * tol, alt);
        snprintf(o.test, sizeof o.test, "paired t, n=%d", nn);
        free(d);
    } else {
        o.paired = 0;                         /* (out of memory: Welch needs none) */
        t = stats_welch(nv, nn, bv, nb, sign * tol, alt);
        snprintf(o.test, sizeof o.test, "Welch t, n=%d/%d", nb, nn);
    }
    o.p = t.p;
    if (isnan(o.p)) {
        snprintf(o.test, sizeof o.test, "none (n<2): tolerance only");
        o.regression = sign * (o.now - o.base) > tol;
    } else {
        o.regression = o.p < alpha;
    }
    return o;
}

static void print_row(const char *strategy, const char *metric, const Outcome *o, double tol, int prec, const char *verdict) {
    char base[48], now[48], p[32];
    snprintf(base, sizeof base, "%.*f (%d)", prec, o->base, o->nb);
    snprintf(now, sizeof now, "%.*f (%d)", prec, o->now, o->nn);
    if (isnan(o->p)) snprintf(p, sizeof p, "-");
    else snprintf(p, sizeof p, "%.3g", o->p);
    printf("  %-22s %-17s %-17s %-17s %+-10.*f %-9.*g %-24s %-9s %s\n", strategy, metric, base, now, prec,
           o->now - o->base, prec + 1, tol, o->test, p, verdict);
}

/* Runs of (dataset, strategy) in set that are unusable (diverged or failed). */
static int count_unusable(const RunSet *set, const char *dataset, const char *strategy) {
    int n = 0;
    char why[64];
    for (int i = 0; i < set->n; i++) {
        const Run *r = &set->runs[i];
        n += !r->full_data && !strcmp(r->dataset, dataset) && !strcmp(r->strategy, strategy) && runs_unusable(r, why);
    }
    return n;
}

/* Checks one baseline group against the runs; returns 0 ok, 1 regression, 2 bad input. */
static int check_group(const BaseGroup *b, const Report *rep, const CheckOptions *co, const char *bpath,
                       char *err, size_t errlen) {
    const char *want = b->strategy;
    if (co->against_base[0] && !strcmp(b->strategy, co->against_base)) want = co->against_new;
    char label[160];
    if (want == b->strategy) snprintf(label, sizeof label, "%s", b->strategy);
    else snprintf(label, sizeof label, "%s (as %s)", want, b->strategy);

    const DatasetReport *d = NULL;
    for (int i = 0; i < rep->n_ds && !d; i++) if (!strcmp(rep->ds[i].dataset, b->dataset)) d = &rep->ds[i];
    char what[512] = "";
    if (d && d->config_run && runs_config_diff(what, sizeof what, b->config, d->config_run->config, 0)) {
        snprintf(err, errlen, "config mismatch for %s on %s: %s (baseline vs runs); record a new baseline (alsim baseline) "
                 "if the change is intended", label, b->dataset, what);
        return ALSIM_BAD_INPUT;
    }
    const Arm *arm = NULL;
    for (int a = 0; d && a < d->n_arms && !arm; a++) if (!strcmp(d->arms[a].strategy, want)) arm = &d->arms[a];
    int diverged = count_unusable(&rep->set, b->dataset, want);
    if (!arm && diverged) {
        printf("  %-22s every run diverged or failed (%d)%*sREGRESSION\n", label, diverged, 70, "");
        return 1;
    }
    if (!arm) {
        snprintf(err, errlen, "%s: the baseline has %s on %s, the runs have none (run it, or record a new baseline)",
                 bpath, want, b->dataset);
        return ALSIM_BAD_INPUT;
    }
    if (what[0]) printf("  %-22s note: options not compared (absent from the baseline or the runs): %s\n", label, what);
    if (d->common != b->rounds) {
        snprintf(err, errlen, "%s on %s: the runs share %d curve rows, the baseline compared %d", label, b->dataset, d->common, b->rounds);
        return ALSIM_BAD_INPUT;
    }
    int n = arm->n;
    double *seeds = malloc((size_t)(2 * n + b->n) * sizeof *seeds);
    if (!seeds) { snprintf(err, errlen, "out of memory"); return ALSIM_BAD_INPUT; }
    double *ltt = seeds + n, *bltt = ltt + n;
    double censor_now = d->config_run->n_labeled[d->common - 1] + d->config_run->batch, censor_base = b->last_labeled + b->batch;
    for (int i = 0; i < n; i++) {
        const Run *r = arm->runs[i];
        seeds[i] = (double)r->seed;
        double l = isnan(b->target) ? -1 : metrics_labels_to_target(r->n_labeled, r->accuracy, d->common, b->target);
        ltt[i] = l < 0 ? censor_now : l;
    }
    for (int i = 0; i < b->n; i++) bltt[i] = isnan(b->ltt[i]) ? censor_base : b->ltt[i];

    int bad = 0;
    Outcome o = test_metric(b->seeds, b->aulc, b->n, seeds, arm->aulc, n, co->tol_aulc, -1, co->alpha);
    print_row(label, "AULC", &o, co->tol_aulc, 4, o.regression ? "REGRESSION" : "ok");
    bad |= o.regression;
    if (!isnan(b->target)) {
        double tol = co->tol_labels >= 0 ? co->tol_labels : b->batch;
        char metric[48];
        snprintf(metric, sizeof metric, "labels to %.3f", b->target);
        o = test_metric(b->seeds, bltt, b->n, seeds, ltt, n, tol, +1, co->alpha);
        print_row(label, metric, &o, tol, 1, o.regression ? "REGRESSION" : "ok");
        bad |= o.regression;
    }
    if (diverged) {
        printf("  %-22s %d run%s diverged or failed%*sREGRESSION\n", label, diverged, diverged == 1 ? "" : "s", 70, "");
        bad = 1;
    }
    free(seeds);
    return bad;
}

/* check's options of c into co; 2 with err when --against is not NEW=BASE. */
static int check_options(CheckOptions *co, const Config *c, char *err, size_t errlen) {
    *co = (CheckOptions){.alpha = c->alpha, .tol_aulc = c->tolerance, .tol_labels = c->tolerance_labels};
    if (!*c->against) return ALSIM_OK;
    const char *v = c->against, *eq = strchr(v, '=');
    if (!eq || eq == v || !eq[1] || (size_t)(eq - v) >= sizeof co->against_new || strlen(eq + 1) >= sizeof co->against_base) {
        snprintf(err, errlen, "check: --against needs NEW=BASE (two strategy names)");
        return ALSIM_BAD_INPUT;
    }
    snprintf(co->against_new, sizeof co->against_new, "%.*s", (int)(eq - v), v);
    snprintf(co->against_base, sizeof co->against_base, "%s", eq + 1);
    return ALSIM_OK;
}

/* Whether the baseline has a group of strategy s (on dataset ds; NULL: any). */
static int baseline_has(const cJSON *groups, const char *ds, const char *s) {
    const cJSON *g;
    cJSON_ArrayForEach(g, groups) {
        const char *gs = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "strategy"));
        const char *gd = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(g, "dataset"));
        if (gs && gd && !strcmp(gs, s) && (!ds || !strcmp(gd, ds))) return 1;
    }
    return 0;
}

/* A gate never passes on a name it did not understand: --against NEW=BASE must name a
 * strategy of the runs (NEW) and one of the baseline (BASE), and every strategy of the runs
 * must have a baseline group on its dataset (or stand in for one through --against), else
 * its runs would go unchecked. 0, or 2 with the name in err. */
static int check_names(const cJSON *groups, const RunSet *set, const CheckOptions *co,
                       const char *bpath, char *err, size_t errlen) {
    if (co->against_base[0] && !baseline_has(groups, NULL, co->against_base)) {
        snprintf(err, errlen, "check: --against %s=%s: %s has no strategy '%s' (its groups are listed in the file)",
                 co->against_new, co->against_base, bpath, co->against_base);
        return ALSIM_BAD_INPUT;
    }
    int new_found = 0;
    for (int i = 0; i < set->n; i++) new_found |= !strcmp(set->runs[i].strategy, co->against_new);
    if (co->against_new[0] && !new_found) {
        snprintf(err, errlen, "check: --against %s=%s: no run of strategy '%s' among the runs",
                 co->against_new, co->against_base, co->against_new);
        return ALSIM_BAD_INPUT;
    }
    for (int i = 0; i < set->n; i++) {
        const Run *r = &set->runs[i];
        if (r->full_data || baseline_has(groups, r->dataset, r->strategy) ||
            (co->against_new[0] && !strcmp(r->strategy, co->against_new))) continue;
        snprintf(err, errlen, "check: %s has no baseline for strategy '%s' on %s (run %s): record one with alsim "
                 "baseline, or leave those runs out", bpath, r->strategy, r->dataset, r->path);
        return ALSIM_BAD_INPUT;
    }
    return ALSIM_OK;
}

int cmd_check(int argc, char **argv) {
    Config c;
    CheckOptions co;
    ReportOptions o;
    char err[8192], **paths;
    int npaths, rc = report_args(&c, &o, &paths, &npaths, CMD_CHECK, argc, argv, err, sizeof err);
    if (rc < 0) { free(paths); return ALSIM_OK; }
    if (!rc) rc = check_options(&co, &c, err, sizeof err);
    const char *bpath = c.baseline;
    cJSON *base = NULL;
    if (!rc && !(base = runs_read_json(bpath, err, sizeof err))) rc = ALSIM_BAD_INPUT;
    const cJSON *groups = cJSON_GetObjectItemCaseSensitive(base, "groups");
    if (!rc && (cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(base, "alsim_baseline")) != 1 || !cJSON_IsArray(groups) ||
                !cJSON_GetArraySize(groups))) {
        snprintf(err, sizeof err, "%s: not an alsim baseline (no \"alsim_baseline\": 1 with groups; write one with alsim baseline)", bpath);
        rc = ALSIM_BAD_INPUT;
    }
    Report rep;
    memset(&rep, 0, sizeof rep);
    if (!rc) rc = report_build(&rep, paths, npaths, &o, err, sizeof err);
    if (!rc) rc = check_names(groups, &rep.set, &co, bpath, err, sizeof err);
    BaseGroup *b = rc ? NULL : malloc(sizeof *b);
    if (!rc && !b) { snprintf(err, sizeof err, "out of memory"); rc = ALSIM_RUNTIME; }
    int regressions = 0, k = 0;
    if (!rc) {
        printf("alsim check against %s: alpha %g, one-sided; AULC tolerance %g\n", bpath, co.alpha, co.tol_aulc);
        const cJSON *g;
        const char *shown = "";
        cJSON_ArrayForEach(g, groups) {
            rc = read_group(b, g, k++, bpath, err, sizeof err);
            if (rc) { base_free(b); break; }
            if (strcmp(shown, b->dataset)) {
                printf("\n%s\n  %-22s %-17s %-17s %-17s %-10s %-9s %-24s %-9s %s\n", b->dataset, "strategy", "metric",
                       "baseline (seeds)", "runs (seeds)", "change", "tolerance", "test", "p", "verdict");
                shown = b->dataset;
            }
            int r = check_group(b, &rep, &co, bpath, err, sizeof err);
            base_free(b);
            if (r == ALSIM_BAD_INPUT) { rc = ALSIM_BAD_INPUT; break; }
            regressions += r;
        }
    }
    if (!rc) {
        printf("\n");
        if (regressions) fprintf(stderr, "alsim: check: REGRESSION in %d of %d baseline groups\n", regressions, k);
        else fprintf(stderr, "alsim: check: pass (%d baseline groups, no regression)\n", k);
        rc = regressions ? ALSIM_REGRESSION : ALSIM_OK;
    } else {
        fflush(stdout);
        fprintf(stderr, "alsim: %s\n", err);
    }
    free(b);
    report_free(&rep);
    cJSON_Delete(base);
    free(paths);
    return rc;
}
