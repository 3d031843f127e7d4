/* test_report — reports/runs.c and reports/report.c on hand-made run folders whose numbers
 * are known: pairing by seed, AULC over the common rounds, per-round statistics, the
 * labels-to-target target rules and quartiles with "not reached", Holm families, verdicts,
 * what is left out and why, refusals, and the files report_write leaves. The statistics
 * themselves are checked against scipy in test_stats. */
#define _XOPEN_SOURCE 700   /* nftw */
#include <cjson/cJSON.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/report.h"
#include "sim/metrics.h"
#include "tests/check.h"

/* The report's defaults, as alsim report takes them from the option table. */
static void report_defaults(ReportOptions *o) {
    Config c;
    config_defaults(&c, CMD_REPORT);
    report_options_from(o, &c);
}

static char root[256];
static const char *sha = "00ff";   /* the dataset's SHA-256 the next runs record */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(path);
}

/* A run folder under root/sub: config, summary and curve (m rows of labels x, accuracy acc). */
static void write_run(const char *sub, const char *strategy, int seed, const char *status, int epochs,
                      int full_data, const double *x, const double *acc, int m) {
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/%s", root, sub);
    mkdir(dir, 0777);
    snprintf(dir, sizeof dir, "%s/%s/toy-%s-seed%d", root, sub, strategy, seed);
    mkdir(dir, 0777);
    snprintf(path, sizeof path, "%s/config.json", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "{\n \"run_seed\": %d,\n \"config\": {\"dataset\": \"toy:1\", \"strategy\": \"%s\", \"rounds\": 4, "
               "\"batch\": 10, \"epochs\": %d, \"seed\": %d, \"full_data\": %s, \"target\": 0, \"hidden\": [8]},\n"
               " \"dataset\": {\"name\": \"toy\", \"sha256\": \"%s\"}\n}\n",
            seed, strategy, epochs, seed, full_data ? "true" : "false", sha);
    fclose(f);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    f = fopen(path, "w");
    fprintf(f, "{\"status\": \"%s\"}\n", status);
    fclose(f);
    snprintf(path, sizeof path, "%s/curve.csv", dir);
    f = fopen(path, "w");
    fprintf(f, "round,n_labeled,accuracy,macro_f1,nll\n");
    for (int i = 0; i < m; i++) fprintf(f, "%d,%g,%.17g,%.17g,0.5\n", i, x[i], acc[i], acc[i] - 0.01);
    fclose(f);
}

static const double X[5] = {20, 30, 40, 50, 60};

/* Accuracy curve of a seed: base + step per round, with a seed-dependent wobble. */
static void curve(double *acc, double base, double step, int seed) {
    for (int i = 0; i < 5; i++) acc[i] = base + step * i + 0.003 * ((seed * 7 + i * 3) % 5);
}

static Report build(const char *sub, const ReportOptions *o, int *rc, char *err, size_t errlen) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", root, sub);
    char *paths[1] = {path};
    Report rep;
    *rc = report_build(&rep, paths, 1, o, err, errlen);
    return rep;
}

static const Arm *arm_named(const DatasetReport *d, const char *s) {
    for (int a = 0; a < d->n_arms; a++) if (!strcmp(d->arms[a].strategy, s)) return &d->arms[a];
    return NULL;
}

static void test_statistics(void) {
    double acc[5];
    /* random on seeds 0..3, margin on 1..4 (better), entropy on 0..3 (same as random + noise). */
    for (int s = 0; s < 4; s++) { curve(acc, 0.50, 0.05, s); write_run("a", "random", s, "ok", 5, 0, X, acc, 5); }
    for (int s = 1; s < 5; s++) { curve(acc, 0.50, 0.08, s); write_run("a", "margin", s, "ok", 5, 0, X, acc, 5); }
    for (int s = 0; s < 4; s++) { curve(acc, 0.501, 0.05, s + 1); write_run("a", "entropy", s, "ok", 5, 0, X, acc, 5); }
    ReportOptions o;
    report_defaults(&o);
    o.target = 0.7;
    char err[1024];
    int rc;
    Report rep = build("a", &o, &rc, err, sizeof err);
    CHECK(rc == 0, "build: %s", err);
    if (rc) { report_free(&rep); return; }
    CHECK(rep.n_ds == 1 && rep.n_used == 12 && rep.n_excluded == 0, "12 runs in 1 dataset");
    const DatasetReport *d = &rep.ds[0];
    CHECK(d->n_arms == 3 && d->ref == 0 && !strcmp(d->arms[0].strategy, "random"), "random first");
    CHECK(!strcmp(d->arms[1].strategy, "entropy") && !strcmp(d->arms[2].strategy, "margin"), "then by name");
    CHECK(d->common == 5 && d->expected == 5, "5 rows compared");
    CHECK(!strcmp(d->id, "toy"), "id %s", d->id);

    /* AULC per run is metrics_aulc over the curve; the arm's interval is stats_describe. */
    const Arm *m = arm_named(d, "margin"), *r = arm_named(d, "random");
    double want[4];
    for (int s = 1; s < 5; s++) {
        curve(acc, 0.50, 0.08, s);
        want[s - 1] = metrics_aulc(X, acc, 5);
        CHECK_NEAR(m->aulc[s - 1], want[s - 1], 1e-15, 0);
    }
    Describe dm = stats_describe(want, 4, 0.95);
    CHECK_NEAR(m->aulc_d.lo, dm.lo, 1e-15, 0);
    CHECK_NEAR(m->aulc_d.hi, dm.hi, 1e-15, 0);

    /* Per round: round 2 of random, across seeds 0..3. */
    double v[4];
    for (int s = 0; s < 4; s++) { curve(acc, 0.50, 0.05, s); v[s] = acc[2]; }
    Describe d2 = stats_describe(v, 4, 0.95);
    CHECK_NEAR(r->per_round[2].acc.mean, d2.mean, 1e-15, 0);
    CHECK_NEAR(r->per_round[2].acc.hi, d2.hi, 1e-15, 0);
    CHECK(r->per_round[2].n_labeled == 40, "labels of round 2");
    CHECK_NEAR(r->per_round[2].f1.mean, d2.mean - 0.01, 1e-12, 0);

    /* Against random: paired on seeds 1..3 only. */
    const Comparison *c = &d->vs_ref[2];
    CHECK(c->n == 3, "margin-random pairs on the shared seeds: %d", c->n);
    double diff[3];
    for (int s = 1; s < 4; s++) diff[s - 1] = m->aulc[s - 1] - r->aulc[s];
    TTest t = stats_ttest_1samp(diff, 3, 0, ALT_TWO_SIDED);
    CHECK_NEAR(c->t.p, t.p, 1e-15, 0);
    CHECK_NEAR(c->mean_diff, (diff[0] + diff[1] + diff[2]) / 3, 1e-15, 0);
    CHECK(c->d_aulc.lo <= c->d_aulc.mean && c->d_aulc.mean <= c->d_aulc.hi, "bootstrap interval around the mean");
    /* Holm over the two comparisons against random. */
    double p[2] = {d->vs_ref[1].t.p, d->vs_ref[2].t.p}, adj[2];
    stats_holm(adj, p, 2);
    CHECK_NEAR(d->vs_ref[1].p_t_holm, adj[0], 0, 0);
    CHECK_NEAR(d->vs_ref[2].p_t_holm, adj[1], 0, 0);
    CHECK(d->vs_ref[2].verdict == 1, "margin beats random (p_holm %g)", d->vs_ref[2].p_t_holm);

    /* Pairwise: three pairs, the matrix reads both ways. */
    CHECK(d->n_pairs == 3, "3 pairs");
    const Comparison *rm = report_pair(d, 0, 2);
    CHECK(rm && rm->a == 0 && rm->b == 2 && rm->verdict == -1, "random loses to margin");
    CHECK(report_pair(d, 2, 0) == NULL && report_pair(d, 1, 1) == NULL, "pairs are a < b");
    CHECK(report_pair(d, 1, 2)->a == 1 && report_pair(d, 1, 2)->b == 2, "pair (1,2)");

    /* Labels to 0.7: random reaches at 60 (0.70..0.712) for all seeds; margin at 40 or 50. */
    CHECK(r->reached == 4, "random reached %d", r->reached);
    CHECK(!isnan(d->target) && d->target == 0.7, "target --target");
    report_free(&rep);
}

static void test_targets_and_exclusions(void) {
    double acc[5];
    for (int s = 0; s < 4; s++) { curve(acc, 0.5, 0.05, s); write_run("b", "random", s, "ok", 5, 0, X, acc, 5); }
    /* margin: seeds 0,1 reach 0.75 at 60 labels... seeds 2,3 never do */
    double reach[5] = {0.5, 0.6, 0.7, 0.74, 0.76}, never[5] = {0.5, 0.6, 0.7, 0.72, 0.74};
    write_run("b", "margin", 0, "ok", 5, 0, X, reach, 5);
    reach[3] = 0.76;
    write_run("b", "margin", 1, "ok", 5, 0, X, reach, 5);
    write_run("b", "margin", 2, "ok", 5, 0, X, never, 5);
    write_run("b", "margin", 3, "ok", 5, 0, X, never, 5);
    double nan_curve[3] = {0.5, NAN, NAN};
    write_run("b", "margin", 4, "diverged", 5, 0, X, nan_curve, 3);
    double full[1] = {0.84}, full2[1] = {0.82}, x_full[1] = {1000};
    write_run("b", "full-data", 0, "ok", 9, 1, x_full, full, 1);    /* other epochs: allowed */
    write_run("b", "full-data", 1, "ok", 9, 1, x_full, full2, 1);

    ReportOptions o;
    report_defaults(&o);
    char err[1024];
    int rc;
    Report rep = build("b", &o, &rc, err, sizeof err);
    CHECK(rc == 0, "build b: %s", err);
    if (rc) { report_free(&rep); return; }
    const DatasetReport *d = &rep.ds[0];
    CHECK(rep.n_excluded == 1 && rep.n_used == 10, "one left out, %d used", rep.n_used);
    const Arm *m = arm_named(d, "margin");
    CHECK(m && m->n == 4 && m->n_excluded == 1, "margin: 4 used, 1 left out");
    int named = 0;
    for (int k = 0; k < d->n_notes; k++) named |= strstr(d->notes[k], "toy-margin-seed4") && strstr(d->notes[k], "diverged");
    CHECK(named, "the diverged run is named in a note");
    CHECK(d->n_ceiling == 2 && fabs(d->ceiling - 0.83) < 1e-15, "ceiling %g", d->ceiling);
    CHECK_NEAR(d->target, REPORT_DEFAULT_FRAC * 0.83, 1e-15, 0);   /* 0.747 */
    /* margin ltt: 60, 50, not, not → sorted 50, 60, inf, inf: q1 57.5, median inf, q3 inf */
    CHECK(m->reached == 2, "margin reached %d", m->reached);
    CHECK_NEAR(m->ltt_q[0], 57.5, 1e-12, 0);
    CHECK(isinf(m->ltt_q[1]) && isinf(m->ltt_q[2]), "median not reached");
    /* labels saved over the seeds where both reached: random never reaches 0.747 (max 0.712) */
    CHECK(d->vs_ref[1].saved.n == 0 && d->vs_ref[1].saved_dropped == 4, "no pair for labels saved");
    report_free(&rep);

    o.target_frac = 0.5;
    rep = build("b", &o, &rc, err, sizeof err);
    CHECK(rc == 0 && fabs(rep.ds[0].target - 0.415) < 1e-12, "--target-frac 0.5: %g", rep.n_ds ? rep.ds[0].target : -1);
    report_free(&rep);
}

static void test_single_seed_and_short(void) {
    double acc[5];
    curve(acc, 0.5, 0.05, 0);
    write_run("c", "random", 0, "ok", 5, 0, X, acc, 5);
    write_run("c", "margin", 0, "ok", 5, 0, X, acc, 3);       /* missing rounds 3 and 4 */
    ReportOptions o;
    report_defaults(&o);
    char err[1024];
    int rc;
    Report rep = build("c", &o, &rc, err, sizeof err);
    CHECK(rc == 0, "build c: %s", err);
    if (rc) { report_free(&rep); return; }
    const DatasetReport *d = &rep.ds[0];
    CHECK(d->common == 3 && d->expected == 5, "common rows %d", d->common);
    CHECK_NEAR(d->arms[0].aulc[0], metrics_aulc(X, acc, 3), 1e-15, 0);  /* random too uses 3 rows */
    CHECK(d->arms[0].rounds == 5 && d->arms[1].rounds == 3, "per-round tables keep every round");
    CHECK(isnan(d->arms[0].aulc_d.lo) && isnan(d->arms[0].per_round[0].acc.sd), "one seed: no interval");
    CHECK(d->vs_ref[1].verdict == VERDICT_NA && isnan(d->vs_ref[1].t.p) && isnan(d->vs_ref[1].w.p), "one pair: no test");
    CHECK(isnan(d->target), "no target without --target or a ceiling");
    int said = 0;
    for (int k = 0; k < d->n_notes; k++) said |= strstr(d->notes[k], "has only 3 of the 5 rounds") != NULL;
    CHECK(said, "the short run is noted");

    /* The files: written through a temporary folder, nothing of it left. No gnuplot here. */
    char out[512], path[600];
    snprintf(out, sizeof out, "%s/report-c", root);
    char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", "/nonexistent", 1);
    int rendered = 1;
    rc = report_write(&rep, out, &rendered, err, sizeof err);
    if (old_path) { setenv("PATH", old_path, 1); free(old_path); }
    CHECK(rc == 0 && rendered == 0, "report_write without gnuplot: rc %d rendered %d %s", rc, rendered, err);
    snprintf(path, sizeof path, "%s/summary.json", out);
    FILE *f = fopen(path, "r");
    char buf[1 << 16] = "";
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    cJSON *j = cJSON_Parse(buf);
    CHECK(j != NULL, "summary.json parses");
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(j, "runs_used")) == 2, "summary.json runs_used");
    cJSON_Delete(j);
    snprintf(path, sizeof path, "%s/toy-curves.gp", out);
    CHECK(access(path, R_OK) == 0, "figure script written");
    snprintf(path, sizeof path, "%s/.report-c.tmp-report-%ld", root, (long)getpid());
    CHECK(access(path, F_OK) != 0, "temporary folder removed");
    report_free(&rep);
}

static void test_refusals(void) {
    double acc[5];
    curve(acc, 0.5, 0.05, 0);
    write_run("d", "random", 0, "ok", 5, 0, X, acc, 5);
    write_run("d", "margin", 0, "ok", 7, 0, X, acc, 5);       /* another epochs */
    ReportOptions o;
    report_defaults(&o);
    char err[1024];
    int rc;
    Report rep = build("d", &o, &rc, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "different configs") && strstr(err, "epochs: 7 vs 5") && strstr(err, "toy-margin-seed0") &&
          strstr(err, "toy-random-seed0"), "mixed configs refused, naming both: %s", err);
    report_free(&rep);

    double full[1] = {0.9}, x_full[1] = {1000};
    write_run("f", "random", 0, "ok", 5, 0, X, acc, 5);
    sha = "11ee";                                             /* another dataset content */
    write_run("f", "full-data", 0, "ok", 5, 1, x_full, full, 1);
    sha = "00ff";
    rep = build("f", &o, &rc, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "cannot be the accuracy ceiling") && strstr(err, "dataset_sha256"),
          "a ceiling of other data refused: %s", err);
    report_free(&rep);

    write_run("e", "random", 0, "ok", 5, 0, X, acc, 5);
    char path[600];
    snprintf(path, sizeof path, "%s/e/toy-random-seed0/curve.csv", root);
    static const struct { const char *curve, *want; } bad[] = {
        {"round,n_labeled,accuracy,macro_f1\n0,20,0.5,0.5\n2,30,0.6,0.6\n", "curve.csv: line 3: round 2, expected 1"},
        {"round,n_labeled,accuracy,macro_f1\n0,20,1.5,0.5\n", "line 2: accuracy and macro_f1 must lie in [0, 1]"},
        {"round,labels,accuracy,macro_f1\n0,20,0.5,0.5\n", "line 1: no column \"n_labeled\""},
        {"round,n_labeled,accuracy,macro_f1\n0,20,0.5\n", "line 2: 3 fields, the header has 4"},
        {"round,n_labeled,accuracy,macro_f1\n0,30,0.5,0.5\n1,20,0.5,0.5\n", "line 3: n_labeled 20 is not a count that never"},
        {"round,n_labeled,accuracy,macro_f1\n", "line 2: no rounds"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        FILE *f = fopen(path, "w");
        fputs(bad[k].curve, f);
        fclose(f);
        rep = build("e", &o, &rc, err, sizeof err);
        CHECK(rc == 2 && strstr(err, bad[k].want), "malformed curve %zu: %s", k, err);
        report_free(&rep);
    }
}

/* Run folders at any depth below the folder given (a grid in DIR/dataset/...), and what the
 * search never takes for a run: a symbolic link (to a run folder or to a folder of runs), a
 * hidden folder (a run in progress, .partial-*), a report's folder; a folder with no runs in
 * or below it counts once as passed over; a tree deeper than the search goes is refused. */
static void test_nested(void) {
    double acc[5];
    char path[600], target[600];
    static const char *const dirs[] = {"g", "g/ds1", "g/ds2", "g/empty", "g/empty/sub", "g/ds1/.partial-x", "g/ds2/rep"};
    for (size_t k = 0; k < sizeof dirs / sizeof dirs[0]; k++) {
        snprintf(path, sizeof path, "%s/%s", root, dirs[k]);
        mkdir(path, 0777);
    }
    for (int s = 0; s < 2; s++) {
        curve(acc, 0.5, 0.05, s);
        write_run("g/ds1/grid", "random", s, "ok", 5, 0, X, acc, 5);   /* three levels down */
        curve(acc, 0.5, 0.08, s);
        write_run("g/ds2", "margin", s, "ok", 5, 0, X, acc, 5);        /* two levels down */
    }
    write_run("g/ds1/.partial-x", "bald", 0, "ok", 5, 0, X, acc, 5);   /* hidden: a run in progress */
    write_run("outside", "entropy", 0, "ok", 5, 0, X, acc, 5);
    snprintf(target, sizeof target, "%s/outside/toy-entropy-seed0", root);
    snprintf(path, sizeof path, "%s/g/linked-run", root);
    CHECK(symlink(target, path) == 0, "symlink to a run");
    snprintf(target, sizeof target, "%s/outside", root);
    snprintf(path, sizeof path, "%s/g/ds1/linked-runs", root);
    CHECK(symlink(target, path) == 0, "symlink to a folder of runs");
    snprintf(path, sizeof path, "%s/g/ds2/rep/summary.json", root);
    FILE *f = fopen(path, "w");
    if (f) { fputs("{\"alsim_report\": 1, \"status\": \"ok\"}\n", f); fclose(f); }

    ReportOptions o;
    report_defaults(&o);
    char err[1024];
    int rc;
    Report rep = build("g", &o, &rc, err, sizeof err);
    CHECK(rc == 0, "runs two and three levels down are found: %s", err);
    if (!rc) {
        CHECK(rep.set.n == 4, "4 runs read (links, the hidden folder and the report passed over), got %d", rep.set.n);
        CHECK(rep.n_ds == 1 && rep.ds[0].n_arms == 2, "random and margin only");
        CHECK(rep.set.links == 2, "2 symbolic links not followed, got %d", rep.set.links);
        CHECK(rep.set.skipped == 2, "the report folder and g/empty passed over (g/empty/sub not counted again), got %d",
              rep.set.skipped);
    }
    report_free(&rep);

    rep = build("g/empty", &o, &rc, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "no run folders in it or below it"), "a tree without runs: %s", err);
    report_free(&rep);

    /* 100 levels (more than RUNS_MAX_DEPTH), a run at the bottom: refused, not searched forever. */
    size_t n = (size_t)snprintf(path, sizeof path, "%s/deep", root);
    mkdir(path, 0777);
    for (int k = 0; k < 100 && n + 3 < sizeof path; k++) {
        n += (size_t)snprintf(path + n, sizeof path - n, "/a");
        mkdir(path, 0777);
    }
    write_run(path + strlen(root) + 1, "random", 0, "ok", 5, 0, X, acc, 5);
    rep = build("deep", &o, &rc, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "levels"), "a tree deeper than the search: refused with the reason: %s", err);
    report_free(&rep);
}

/* The whole of the file dir/name (static buffer; empty when missing). */
static const char *slurp(const char *dir, const char *name) {
    static char buf[1 << 17];
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    return buf;
}

/* report_write with no gnuplot on PATH (the figures' data and scripts only). */
static int write_without_gnuplot(const Report *rep, const char *out, char *err, size_t errlen) {
    char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", "/nonexistent", 1);
    int rendered, rc = report_write(rep, out, &rendered, err, errlen);
    if (old_path) { setenv("PATH", old_path, 1); free(old_path); }
    return rc;
}

/* Paired differences all equal and nonzero (zero spread): the t statistic is infinite, and
 * the files say so ("inf", "-inf"), apart from "no test" (null in summary.json, n/a in
 * summary.md). */
static void test_infinite_t(void) {
    double a[5], b[5];
    curve(a, 0.5, 0.05, 0);
    for (int i = 0; i < 5; i++) b[i] = a[i] + 0.1;
    for (int s = 0; s < 3; s++) {                 /* every seed the same curves */
        write_run("h", "random", s, "ok", 5, 0, X, a, 5);
        write_run("h", "margin", s, "ok", 5, 0, X, b, 5);
    }
    ReportOptions o;
    report_defaults(&o);
    char err[1024], out[512];
    int rc;
    Report rep = build("h", &o, &rc, err, sizeof err);
    CHECK(rc == 0, "build h: %s", err);
    if (rc) { report_free(&rep); return; }
    const DatasetReport *d = &rep.ds[0];
    CHECK(isinf(d->vs_ref[1].t.t) && d->vs_ref[1].t.t > 0 && d->vs_ref[1].t.p == 0, "margin - random: t = +inf, p 0");
    snprintf(out, sizeof out, "%s/report-h", root);
    rc = write_without_gnuplot(&rep, out, err, sizeof err);
    CHECK(rc == 0, "report_write h: %s", err);
    report_free(&rep);

    cJSON *j = cJSON_Parse(slurp(out, "summary.json"));
    const cJSON *ds = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "datasets"), 0);
    const cJSON *vs = cJSON_GetArrayItem(cJSON_GetObjectItem(ds, "against_reference"), 0);
    const cJSON *pw = cJSON_GetArrayItem(cJSON_GetObjectItem(ds, "pairwise"), 0);
    const char *t_vs = cJSON_GetStringValue(cJSON_GetObjectItem(vs, "t"));
    const char *t_pw = cJSON_GetStringValue(cJSON_GetObjectItem(pw, "t"));
    CHECK(t_vs && !strcmp(t_vs, "inf"), "summary.json: margin against random, t \"inf\" (got %s)", t_vs ? t_vs : "no string");
    CHECK(t_pw && !strcmp(t_pw, "-inf"), "summary.json: random against margin, t \"-inf\" (got %s)", t_pw ? t_pw : "no string");
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItem(vs, "t_p")) == 0, "summary.json: its p is the number 0");
    cJSON_Delete(j);
    const char *md = slurp(out, "summary.md");
    CHECK(strstr(md, "| inf | 0.0e+00 |") != NULL, "summary.md: t inf in the savings table");
    CHECK(strstr(md, "| -inf | 0.0e+00 |") != NULL, "summary.md: t -inf in the pairwise table");

    /* No test (one seed): null and n/a, as before. */
    write_run("i", "random", 0, "ok", 5, 0, X, a, 5);
    write_run("i", "margin", 0, "ok", 5, 0, X, b, 5);
    rep = build("i", &o, &rc, err, sizeof err);
    snprintf(out, sizeof out, "%s/report-i", root);
    if (!rc) rc = write_without_gnuplot(&rep, out, err, sizeof err);
    report_free(&rep);
    CHECK(rc == 0, "report i: %s", err);
    j = cJSON_Parse(slurp(out, "summary.json"));
    ds = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "datasets"), 0);
    vs = cJSON_GetArrayItem(cJSON_GetObjectItem(ds, "against_reference"), 0);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(vs, "t")) && cJSON_IsNull(cJSON_GetObjectItem(vs, "t_p")),
          "summary.json: no test, t and p null");
    cJSON_Delete(j);
}

int main(void) {
    snprintf(root, sizeof root, "%s/alsim-test-report.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(root)) { perror("mkdtemp"); return 1; }
    test_statistics();
    test_targets_and_exclusions();
    test_single_seed_and_short();
    test_refusals();
    test_nested();
    test_infinite_t();
    nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return check_done("test_report");
}
