/* report_write — the files of `alsim report`: summary.md (tables a person reads),
 * summary.json (the same numbers for programs) and the figures (figures.c), written into a
 * hidden temporary folder that then replaces the report folder as a whole (see "the folder"
 * below). See report.h. */
#define _GNU_SOURCE     /* renameat2: exchange the new report with the old in one step */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/figures.h"
#include "reports/report.h"
#include "sim/jsonw.h"
#include "sim/util.h"

/* --- number formatting for people --------------------------------------------------- */

typedef struct { char s[96]; } Text;

/* x with prec decimals; "n/a" for NaN (none: no test, too few values); "inf" or "-inf". */
static Text fx(double x, int prec) {
    Text t;
    if (isnan(x)) snprintf(t.s, sizeof t.s, "n/a");
    else if (isinf(x)) snprintf(t.s, sizeof t.s, "%s", x > 0 ? "inf" : "-inf");
    else snprintf(t.s, sizeof t.s, "%.*f", prec, x);
    return t;
}

/* "[lo, hi]", or "n/a". */
static Text interval(double lo, double hi, int prec) {
    Text t;
    if (isnan(lo) || isnan(hi)) snprintf(t.s, sizeof t.s, "n/a");
    else snprintf(t.s, sizeof t.s, "[%.*f, %.*f]", prec, lo, prec, hi);
    return t;
}

/* A p-value: 3 significant digits; "n/a" when there was no test. */
static Text pval(double p) {
    Text t;
    if (isnan(p)) snprintf(t.s, sizeof t.s, "n/a");
    else if (p < 1e-4) snprintf(t.s, sizeof t.s, "%.1e", p);
    else snprintf(t.s, sizeof t.s, "%.3g", p);
    return t;
}

/* A label count: "not reached" for +inf, "n/a" for NaN (no target). */
static Text labels(double x) {
    Text t;
    if (isnan(x)) snprintf(t.s, sizeof t.s, "n/a");
    else if (isinf(x)) snprintf(t.s, sizeof t.s, "not reached");
    else snprintf(t.s, sizeof t.s, "%.4g", x);
    return t;
}

static const char *verdict_word(int v) {
    return v == VERDICT_NA ? "n/a" : v > 0 ? "win" : v < 0 ? "loss" : "tie";
}

/* Text safe inside a Markdown table cell: '|' and newlines replaced. */
static void md_cell(FILE *f, const char *s) {
    for (; *s; s++) fputc(*s == '|' ? '/' : *s == '\n' ? ' ' : *s, f);
}

/* --- summary.md ------------------------------------------------------------------------ */

static void md_config(FILE *f, const DatasetReport *d) {
    fputs("Config shared by every run below (seed and strategy aside): ", f);
    const cJSON *v;
    int first = 1;
    cJSON_ArrayForEach(v, d->config_run->config) {
        if (!strcmp(v->string, "dataset") || !strcmp(v->string, "dataset_sha256")) continue;
        char *s = cJSON_PrintUnformatted(v);
        fprintf(f, "%s%s %s", first ? "" : ", ", v->string, s ? s : "?");
        free(s);
        first = 0;
    }
    fprintf(f, ". Dataset SHA-256 `%s`.\n\n", d->config_run->sha256);
    if (runs_json_int(d->config_run->config, "early_stop", 0) > 0)
        fputs("**Early stopping** (`early_stop`): each fit stopped on the validation set, so the strategies' training "
              "budgets differ; `budget` above is the cap, what each round ran is `steps_used` in its rounds.jsonl.\n\n",
              f);
}

static void md_strategies(FILE *f, const DatasetReport *d, const ReportOptions *o) {
    fprintf(f, "### Strategies\n\nAULC: normalised area under test accuracy against labels (rounds 0-%d, %g-%g labels). "
               "Intervals: %g%% t-intervals of the mean across seeds. Labels to target: median and quartiles "
               "across seeds; a seed that never reaches the target ranks above every other.\n\n",
            d->common - 1, d->config_run->n_labeled[0], d->config_run->n_labeled[d->common - 1], 100 * o->level);
    fputs("| strategy | seeds used | left out | AULC mean | AULC 95% CI | final accuracy mean | final accuracy 95% CI "
          "| labels to target: median [q1, q3] | seeds reaching it |\n|---|---|---|---|---|---|---|---|---|\n", f);
    for (int a = 0; a < d->n_arms; a++) {
        const Arm *arm = &d->arms[a];
        const RoundStats *last = &arm->per_round[d->common - 1];
        fprintf(f, "| %s | %d | %d | %s | %s | %s | %s | ", arm->strategy, arm->n, arm->n_excluded,
                fx(arm->aulc_d.mean, 4).s, interval(arm->aulc_d.lo, arm->aulc_d.hi, 4).s, fx(last->acc.mean, 4).s,
                interval(last->acc.lo, last->acc.hi, 4).s);
        if (isnan(d->target)) fputs("no target | n/a |\n", f);
        else if (!arm->reached) fprintf(f, "not reached by any seed | 0 of %d |\n", arm->n);
        else fprintf(f, "%s [%s, %s] | %d of %d |\n", labels(arm->ltt_q[1]).s, labels(arm->ltt_q[0]).s,
                     labels(arm->ltt_q[2]).s, arm->reached, arm->n);
    }
    fputc('\n', f);
}

/* --paper: the acquired labels to reach each of the paper's levels beside the published figures,
 * then the paired tests against the reference. */
static void md_paper(FILE *f, const DatasetReport *d, const ReportOptions *o) {
    const Paper *p = o->paper;
    const cJSON *cfg = d->config_run->config;
    const char *model = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "model"));
    const char *layout = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cfg, "cnn_layout"));
    char net[96];       /* the model, with the CNN's layout */
    if (model && layout && !strcmp(model, "cnn")) snprintf(net, sizeof net, "cnn (%s)", layout);
    else snprintf(net, sizeof net, "%s", model ? model : "?");
    fprintf(f, "### Against the paper: %s\n\nThe paper's measure: %s. Here: acquired labels (beyond the %g of round 0) "
               "at the first round whose test accuracy reaches the level, median [quartiles] over seeds; a seed that "
               "never reaches it ranks above every other (\"not reached\"). These runs: %d rounds of %d, T = %d "
               "MC-dropout samples, model %s. The paper's protocol: %s.\n\n",
            p->citation, p->what, d->config_run->n_labeled[0], d->common - 1, runs_json_int(cfg, "batch", 0),
            runs_json_int(cfg, "mc", 0), net, p->protocol);
    fputs("| strategy | paper's name |", f);
    for (int l = 0; l < p->n_levels; l++)
        fprintf(f, " to %g%% %s: alsim | seeds reaching | paper |",
                100 * (p->levels_as_error ? 1 - p->levels[l] : p->levels[l]), p->levels_as_error ? "error" : "accuracy");
    fputs("\n|---|---|", f);
    for (int l = 0; l < p->n_levels; l++) fputs("---|---|---|", f);
    fputc('\n', f);
    for (int a = 0; a < d->n_arms; a++) {
        const Arm *arm = &d->arms[a];
        const PaperRow *row = paper_row(p, arm->strategy);
        fprintf(f, "| %s | %s |", arm->strategy, row ? row->label : "(not in the paper)");
        for (int l = 0; l < p->n_levels; l++) {
            const double *q = arm->paper.q[l];
            fprintf(f, " %s [%s, %s] | %d of %d | %s |", labels(q[1]).s, labels(q[0]).s, labels(q[2]).s,
                    arm->paper.reached[l], arm->n, row ? labels(row->acquired[l]).s : "—");
        }
        fputc('\n', f);
    }
    for (int r = 0; r < p->n_rows; r++) {       /* the paper's strategies these runs lack */
        int have = 0;
        for (int a = 0; a < d->n_arms; a++) have |= !strcmp(d->arms[a].strategy, p->rows[r].strategy);
        if (have) continue;
        fprintf(f, "| %s | %s |", p->rows[r].strategy, p->rows[r].label);
        for (int l = 0; l < p->n_levels; l++) fprintf(f, " not run | — | %s |", labels(p->rows[r].acquired[l]).s);
        fputc('\n', f);
    }
    if (d->ref < 0) { fputc('\n', f); return; }
    const char *ref = d->arms[d->ref].strategy;
    fprintf(f, "\nFewer labels than %s? Labels saved = acquired(%s) - acquired(strategy), paired by seed; a run that "
               "never reached the level counts as reaching it one round after its last (a lower bound: the pairs where "
               "a side did so are counted as censored), so both failing is a difference of 0; paired t and Wilcoxon "
               "signed-rank, two-sided; p_Holm adjusts over the strategies of each level; verdict at alpha %g from the "
               "paired t.\n\n"
               "| strategy | level | pairs | censored pairs | labels saved (mean) | t | p | p_Holm "
               "| Wilcoxon W | p | p_Holm | verdict |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n",
            ref, ref, o->alpha);
    for (int l = 0; l < p->n_levels; l++)
        for (int a = 0; a < d->n_arms; a++) {
            if (a == d->ref) continue;
            const Comparison *c = &d->arms[a].paper.vs_ref[l];
            fprintf(f, "| %s | %g%% accuracy | %d | %d | %s | %s | %s | %s | %s | %s%s | %s | %s |\n", d->arms[a].strategy,
                    100 * p->levels[l], c->n, d->arms[a].paper.censored[l], fx(c->mean_diff, 1).s, fx(c->t.t, 3).s,
                    pval(c->t.p).s, pval(c->p_t_holm).s, c->n >= 2 ? fx(c->w.w, 1).s : "n/a", pval(c->w.p).s,
                    c->n >= 2 ? (c->w.exact ? " (exact)" : " (normal)") : "", pval(c->p_w_holm).s,
                    c->verdict == VERDICT_NA ? "n/a (fewer than 2 pairs)" : c->verdict > 0 ? "fewer labels"
                    : c->verdict < 0 ? "more labels" : "no significant difference");
        }
    fputc('\n', f);
}

static void md_savings(FILE *f, const DatasetReport *d, const ReportOptions *o) {
    if (d->ref < 0 || d->n_arms < 2) return;
    const char *ref = d->arms[d->ref].strategy;
    fprintf(f, "### Savings against %s\n\nPaired by seed. ΔAULC = AULC(strategy) - AULC(%s); labels saved = "
               "labels-to-target(%s) - labels-to-target(strategy), over the seeds where both reached the target. "
               "Intervals: paired bootstrap (%d resamples, seed %llu), percentile %g%%. Tests on ΔAULC, two-sided; "
               "p_Holm adjusts over the comparisons of this table only (a smaller family than the pairwise table's, so "
               "a verdict here can differ from the matrix below); verdict at alpha %g from the paired t.\n\n",
            ref, ref, ref, o->resamples, (unsigned long long)o->boot_seed, 100 * o->level, o->alpha);
    int few = 0;
    for (int a = 0; a < d->n_arms; a++) few |= a != d->ref && d->vs_ref[a].n < 10;
    if (few) fputs("With fewer than 10 paired seeds a percentile bootstrap interval is too narrow (n seeds allow only "
                   "C(2n-1, n) distinct resamples: 10 for 3 seeds, 126 for 5): read it together with the tests.\n\n", f);
    fputs("| strategy | pairs | ΔAULC | 95% bootstrap CI | labels saved (mean) | 95% bootstrap CI | pairs without target "
          "| t | p | p_Holm | Wilcoxon W | p | p_Holm | verdict |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", f);
    for (int a = 0; a < d->n_arms; a++) {
        if (a == d->ref) continue;
        const Comparison *c = &d->vs_ref[a];
        fprintf(f, "| %s | %d | %s | %s | ", d->arms[a].strategy, c->n, fx(c->d_aulc.mean, 4).s,
                interval(c->d_aulc.lo, c->d_aulc.hi, 4).s);
        if (isnan(d->target)) fputs("no target | n/a | n/a | ", f);
        else fprintf(f, "%s | %s | %d | ", fx(c->saved.mean, 1).s, interval(c->saved.lo, c->saved.hi, 1).s, c->saved_dropped);
        fprintf(f, "%s | %s | %s | %s | %s%s | %s | %s |\n", fx(c->t.t, 3).s, pval(c->t.p).s, pval(c->p_t_holm).s,
                c->n >= 2 ? fx(c->w.w, 1).s : "n/a", pval(c->w.p).s,
                c->n >= 2 ? (c->w.exact ? " (exact)" : " (normal)") : "", pval(c->p_w_holm).s,
                c->verdict == VERDICT_NA ? "n/a (fewer than 2 pairs)" : c->verdict > 0 ? "better" : c->verdict < 0 ? "worse"
                : "no significant difference");
    }
    fputc('\n', f);
}

static void md_pairwise(FILE *f, const DatasetReport *d, const ReportOptions *o) {
    if (d->n_arms < 2) return;
    fprintf(f, "### Pairwise tests\n\nAULC(A) - AULC(B), paired by seed, two-sided; p_Holm adjusts over the %d pairs. "
               "Wilcoxon signed-rank: zero differences dropped (scipy's 'wilcox'), exact distribution up to %d pairs "
               "without ties, else the normal approximation with tie correction.\n\n",
            d->n_pairs, STATS_WILCOXON_EXACT_MAX);
    fputs("| A | B | pairs | mean ΔAULC | t | p | p_Holm | Wilcoxon W | p | p_Holm | A against B |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|\n", f);
    for (int k = 0; k < d->n_pairs; k++) {
        const Comparison *c = &d->pairs[k];
        fprintf(f, "| %s | %s | %d | %s | %s | %s | %s | %s | %s%s | %s | %s |\n", d->arms[c->a].strategy,
                d->arms[c->b].strategy, c->n, fx(c->mean_diff, 4).s, fx(c->t.t, 3).s, pval(c->t.p).s,
                pval(c->p_t_holm).s, c->n >= 2 ? fx(c->w.w, 1).s : "n/a", pval(c->w.p).s,
                c->n >= 2 ? (c->w.exact ? " (exact)" : " (normal)") : "", pval(c->p_w_holm).s, verdict_word(c->verdict));
    }
    fprintf(f, "\n### Win/tie/loss\n\nRow strategy against column strategy on AULC: win or loss when the Holm-adjusted "
               "paired-t p is below %g, else tie; n/a with fewer than 2 paired seeds.\n\n|  |", o->alpha);
    for (int b = 0; b < d->n_arms; b++) fprintf(f, " %s |", d->arms[b].strategy);
    fputs("\n|---|", f);
    for (int b = 0; b < d->n_arms; b++) fputs("---|", f);
    for (int a = 0; a < d->n_arms; a++) {
        fprintf(f, "\n| **%s** |", d->arms[a].strategy);
        for (int b = 0; b < d->n_arms; b++) {
            const Comparison *c = a < b ? report_pair(d, a, b) : report_pair(d, b, a);
            int v = !c ? VERDICT_NA : c->verdict == VERDICT_NA || a < b ? c->verdict : -c->verdict;
            fprintf(f, " %s |", a == b ? "·" : verdict_word(v));
        }
    }
    fputs("\n\n", f);
}

/* Per-round mean [interval] of one metric for every arm. */
static void md_rounds(FILE *f, const DatasetReport *d, const ReportOptions *o, int acc) {
    fprintf(f, "### Per round: %s\n\nMean [%g%% t-interval] across the seeds that have the round (their number in "
               "brackets when some lack it).\n\n| round | labels |", acc ? "test accuracy" : "test macro-F1", 100 * o->level);
    int rounds = 0;
    for (int a = 0; a < d->n_arms; a++) {
        fprintf(f, " %s |", d->arms[a].strategy);
        if (d->arms[a].rounds > rounds) rounds = d->arms[a].rounds;
    }
    fputs("\n|---|---|", f);
    for (int a = 0; a < d->n_arms; a++) fputs("---|", f);
    for (int r = 0; r < rounds; r++) {
        double x = NAN;
        for (int a = 0; a < d->n_arms && isnan(x); a++) if (r < d->arms[a].rounds) x = d->arms[a].per_round[r].n_labeled;
        fprintf(f, "\n| %d | %g |", r, x);
        for (int a = 0; a < d->n_arms; a++) {
            const Arm *arm = &d->arms[a];
            if (r >= arm->rounds) { fputs(" — |", f); continue; }
            const Describe *s = acc ? &arm->per_round[r].acc : &arm->per_round[r].f1;
            fprintf(f, " %s", fx(s->mean, 4).s);
            if (s->n >= 2) fprintf(f, " %s", interval(s->lo, s->hi, 4).s);
            if (s->n < arm->n) fprintf(f, " (%d)", s->n);
            fputs(" |", f);
        }
    }
    fputs("\n\n", f);
}

static void md_figures(FILE *f, const DatasetReport *d, const ReportOptions *o, int rendered) {
    fputs("### Figures\n\n", f);
    if (!rendered) fputs("gnuplot was not found, so the images were not rendered; each figure's data and script are here "
                         "(render with `gnuplot NAME.gp` in this folder).\n\n", f);
    for (int k = 0; k < FIG_COUNT; k++) {
        if (!figure_drawn((FigureKind)k, o)) continue;
        char name[160];
        figure_name(name, d, (FigureKind)k);
        if (rendered) fprintf(f, "![%s](%s.png)\n\n", figure_title((FigureKind)k), name);
        fprintf(f, "- %s: `%s.png`, `%s.svg` (data `%s.dat`, script `%s.gp`)\n\n", figure_title((FigureKind)k),
                name, name, name, name);
    }
}

static void write_md(FILE *f, const Report *rep, int rendered) {
    const ReportOptions *o = &rep->opt;
    fprintf(f, "# alsim report\n\n%d runs read, %d used, %d left out (diverged or failed; each is named under its dataset)",
            rep->set.n, rep->n_used, rep->n_excluded);
    if (rep->set.skipped) fprintf(f, "; %d folders held no run (no summary.json of a run in or below them) and were passed over",
                                  rep->set.skipped);
    if (rep->set.links) fprintf(f, "; %d symbolic links among the runs folders were not followed", rep->set.links);
    fprintf(f, ". Intervals are %g%%; tests are two-sided and paired by seed; Holm-adjusted p-values control the "
               "family-wise error within each table; verdicts at alpha = %g.\n\n", 100 * o->level, o->alpha);
    for (int i = 0; i < rep->n_ds; i++) {
        const DatasetReport *d = &rep->ds[i];
        fputs("## ", f);
        md_cell(f, d->name);
        fputs("\n\n", f);
        if (strcmp(d->dataset, d->name)) { fputs("Given as `", f); md_cell(f, d->dataset); fputs("`.\n\n", f); }
        if (d->config_run) md_config(f, d);
        if (isnan(d->ceiling)) fputs("Full-data ceiling: no `alsim --full-data` run of this dataset among the inputs.\n\n", f);
        else fprintf(f, "Full-data ceiling: test accuracy %.4f (mean of %d `--full-data` run%s).\n\n", d->ceiling,
                     d->n_ceiling, d->n_ceiling == 1 ? "" : "s");
        if (d->n_arms) fprintf(f, "Target of labels-to-target: %s.\n\n", d->target_rule);
        if (d->n_notes) {
            fputs("**Notes**\n\n", f);
            for (int k = 0; k < d->n_notes; k++) fprintf(f, "- %s\n", d->notes[k]);
            fputc('\n', f);
        }
        if (!d->n_arms) { fputs("No active-learning runs of this dataset to compare.\n\n", f); continue; }
        if (o->paper) md_paper(f, d, o);
        md_strategies(f, d, o);
        md_savings(f, d, o);
        md_pairwise(f, d, o);
        md_rounds(f, d, o, 1);
        md_rounds(f, d, o, 0);
        md_figures(f, d, o, rendered);
    }
}

/* --- summary.json ----------------------------------------------------------------------- */

/* A statistic: a number; null when there is none (NaN: no test, too few values); the string
 * "inf" or "-inf" when it is infinite (a paired t with zero spread), never null. */
static void js_stat(JsonW *w, double x) {
    if (isinf(x)) jw_str(w, x > 0 ? "inf" : "-inf");
    else jw_num(w, x);
}

static void js_describe(JsonW *w, const char *key, const Describe *s) {
    jw_key(w, key);
    jw_object(w);
    jw_key(w, "n"); jw_int(w, s->n);
    jw_key(w, "mean"); js_stat(w, s->mean);
    jw_key(w, "sd"); js_stat(w, s->sd);
    jw_key(w, "lo"); js_stat(w, s->lo);
    jw_key(w, "hi"); js_stat(w, s->hi);
    jw_end(w);
}

/* A bootstrap interval in the shape of js_describe (no sd: null). */
static void js_boot(JsonW *w, const char *key, const Bootstrap *b) {
    Describe s = {b->n, b->mean, NAN, b->lo, b->hi};
    js_describe(w, key, &s);
}

static void js_comparison(JsonW *w, const DatasetReport *d, const Comparison *c, int with_savings) {
    jw_object(w);
    jw_key(w, "a"); jw_str(w, d->arms[c->a].strategy);
    jw_key(w, "b"); jw_str(w, d->arms[c->b].strategy);
    jw_key(w, "pairs"); jw_int(w, c->n);
    jw_key(w, "mean_diff_aulc"); js_stat(w, c->mean_diff);
    jw_key(w, "t"); js_stat(w, c->t.t);
    jw_key(w, "t_df"); js_stat(w, c->t.df);
    jw_key(w, "t_p"); js_stat(w, c->t.p);
    jw_key(w, "t_p_holm"); js_stat(w, c->p_t_holm);
    jw_key(w, "wilcoxon_w"); if (c->n >= 2) js_stat(w, c->w.w); else jw_null(w);
    jw_key(w, "wilcoxon_exact"); jw_bool(w, c->n >= 2 && c->w.exact);
    jw_key(w, "wilcoxon_zeros"); jw_int(w, c->w.n_zero);
    jw_key(w, "wilcoxon_p"); js_stat(w, c->w.p);
    jw_key(w, "wilcoxon_p_holm"); js_stat(w, c->p_w_holm);
    jw_key(w, "verdict"); jw_str(w, verdict_word(c->verdict));
    if (with_savings) {
        js_boot(w, "delta_aulc", &c->d_aulc);
        js_describe(w, "delta_aulc_t", &c->d_aulc_t);  /* the t-interval, beside the bootstrap's */
        js_boot(w, "labels_saved", &c->saved);
        jw_key(w, "labels_saved_pairs_dropped"); jw_int(w, c->saved_dropped);
    }
    jw_end(w);
}

/* --paper: per level, the published figure, the runs' acquired labels, quartiles, the test. */
static void js_paper(JsonW *w, const DatasetReport *d, const Arm *arm, const Paper *p) {
    const PaperRow *row = paper_row(p, arm->strategy);
    jw_key(w, "paper");
    jw_object(w);
    jw_key(w, "name"); jw_str(w, p->name);
    jw_key(w, "label"); if (row) jw_str(w, row->label); else jw_null(w);
    jw_key(w, "levels");
    jw_array(w);
    static const char *const q[3] = {"q1", "median", "q3"};
    for (int l = 0; l < p->n_levels; l++) {
        jw_object(w);
        jw_key(w, "accuracy"); jw_num(w, p->levels[l]);
        jw_key(w, "published_acquired"); if (row) jw_num(w, row->acquired[l]); else jw_null(w);
        jw_key(w, "acquired");      /* per run, in the order of "runs"; null: not reached */
        jw_array(w);
        for (int i = 0; i < arm->n; i++) jw_num(w, arm->paper.acquired[l][i]);
        jw_end(w);
        jw_key(w, "reached"); jw_int(w, arm->paper.reached[l]);
        for (int k = 0; k < 3; k++) {
            jw_key(w, q[k]);
            if (isinf(arm->paper.q[l][k])) jw_str(w, "not reached"); else jw_num(w, arm->paper.q[l][k]);
        }
        jw_key(w, "against_reference");
        if (d->ref < 0 || arm == &d->arms[d->ref]) jw_null(w);
        else {
            const Comparison *c = &arm->paper.vs_ref[l];
            jw_object(w);
            jw_key(w, "pairs"); jw_int(w, c->n);
            jw_key(w, "pairs_censored"); jw_int(w, arm->paper.censored[l]);
            jw_key(w, "labels_saved_mean"); js_stat(w, c->mean_diff);
            jw_key(w, "t"); js_stat(w, c->t.t);
            jw_key(w, "t_p"); js_stat(w, c->t.p);
            jw_key(w, "t_p_holm"); js_stat(w, c->p_t_holm);
            jw_key(w, "wilcoxon_w"); if (c->n >= 2) js_stat(w, c->w.w); else jw_null(w);
            jw_key(w, "wilcoxon_p"); js_stat(w, c->w.p);
            jw_key(w, "wilcoxon_p_holm"); js_stat(w, c->p_w_holm);
            jw_key(w, "verdict");
            jw_str(w, c->verdict == VERDICT_NA ? "n/a" : c->verdict > 0 ? "fewer" : c->verdict < 0 ? "more" : "tie");
            jw_end(w);
        }
        jw_end(w);
    }
    jw_end(w);
    jw_end(w);
}

static void js_arm(JsonW *w, const DatasetReport *d, const Arm *arm, const Paper *p) {
    jw_object(w);
    jw_key(w, "strategy"); jw_str(w, arm->strategy);
    jw_key(w, "seeds_used"); jw_int(w, arm->n);
    jw_key(w, "runs_left_out"); jw_int(w, arm->n_excluded);
    jw_key(w, "runs");
    jw_array(w);
    for (int i = 0; i < arm->n; i++) {
        jw_object(w);
        jw_key(w, "seed"); jw_int(w, (int64_t)arm->runs[i]->seed);
        jw_key(w, "path"); jw_str(w, arm->runs[i]->path);
        jw_key(w, "aulc"); js_stat(w, arm->aulc[i]);
        jw_key(w, "labels_to_target"); jw_num(w, arm->ltt[i]);   /* null: not reached or no target */
        jw_key(w, "reached"); if (isnan(d->target)) jw_null(w); else jw_bool(w, isfinite(arm->ltt[i]));
        jw_end(w);
    }
    jw_end(w);
    js_describe(w, "aulc", &arm->aulc_d);
    jw_key(w, "labels_to_target");
    jw_object(w);
    jw_key(w, "reached"); jw_int(w, arm->reached);
    static const char *const q[3] = {"q1", "median", "q3"};
    for (int k = 0; k < 3; k++) {
        jw_key(w, q[k]);
        if (isinf(arm->ltt_q[k])) jw_str(w, "not reached"); else jw_num(w, arm->ltt_q[k]);
    }
    jw_end(w);
    if (p) js_paper(w, d, arm, p);
    jw_key(w, "rounds");
    jw_array(w);
    for (int r = 0; r < arm->rounds; r++) {
        jw_object(w);
        jw_key(w, "round"); jw_int(w, r);
        jw_key(w, "n_labeled"); jw_num(w, arm->per_round[r].n_labeled);
        js_describe(w, "accuracy", &arm->per_round[r].acc);
        js_describe(w, "macro_f1", &arm->per_round[r].f1);
        jw_end(w);
    }
    jw_end(w);
    jw_end(w);
}

static void write_json(FILE *f, const Report *rep, int rendered) {
    const ReportOptions *o = &rep->opt;
    JsonW w;
    jw_init(&w, f, 1);
    jw_object(&w);
    jw_key(&w, "alsim_report"); jw_int(&w, 1);
    jw_key(&w, "runs_read"); jw_int(&w, rep->set.n);
    jw_key(&w, "runs_used"); jw_int(&w, rep->n_used);
    jw_key(&w, "runs_left_out"); jw_int(&w, rep->n_excluded);
    jw_key(&w, "alpha"); jw_num(&w, o->alpha);
    jw_key(&w, "level"); jw_num(&w, o->level);
    jw_key(&w, "bootstrap_resamples"); jw_int(&w, o->resamples);
    jw_key(&w, "bootstrap_seed"); jw_int(&w, (int64_t)o->boot_seed);
    jw_key(&w, "reference"); jw_str(&w, o->reference);
    jw_key(&w, "paper"); if (o->paper) jw_str(&w, o->paper->citation); else jw_null(&w);
    jw_key(&w, "datasets");
    jw_array(&w);
    for (int i = 0; i < rep->n_ds; i++) {
        const DatasetReport *d = &rep->ds[i];
        jw_object(&w);
        jw_key(&w, "dataset"); jw_str(&w, d->dataset);
        jw_key(&w, "name"); jw_str(&w, d->name);
        jw_key(&w, "id"); jw_str(&w, d->id);
        jw_key(&w, "config");
        if (d->config_run) runs_write_json(&w, d->config_run->config); else jw_null(&w);
        jw_key(&w, "ceiling"); jw_num(&w, d->ceiling);
        jw_key(&w, "ceiling_runs"); jw_int(&w, d->n_ceiling);
        jw_key(&w, "target"); jw_num(&w, d->target);
        jw_key(&w, "target_rule"); jw_str(&w, d->target_rule);
        jw_key(&w, "curve_rows_compared"); jw_int(&w, d->common);
        jw_key(&w, "curve_rows_expected"); jw_int(&w, d->expected);
        jw_key(&w, "notes");
        jw_array(&w);
        for (int k = 0; k < d->n_notes; k++) jw_str(&w, d->notes[k]);
        jw_end(&w);
        jw_key(&w, "strategies");
        jw_array(&w);
        for (int a = 0; a < d->n_arms; a++) js_arm(&w, d, &d->arms[a], o->paper);
        jw_end(&w);
        jw_key(&w, "against_reference");
        jw_array(&w);
        for (int a = 0; a < d->n_arms && d->ref >= 0; a++)
            if (a != d->ref) js_comparison(&w, d, &d->vs_ref[a], 1);
        jw_end(&w);
        jw_key(&w, "pairwise");
        jw_array(&w);
        for (int k = 0; k < d->n_pairs; k++) js_comparison(&w, d, &d->pairs[k], 0);
        jw_end(&w);
        jw_end(&w);
    }
    jw_end(&w);
    jw_end(&w);
    jw_finish(&w);
}

/* --- the folder ------------------------------------------------------------------------
 *
 * A report folder X is replaced as a whole: the report is written into a temporary folder
 * beside it, PARENT/.<X>.tmp-report-<pid>, which is then exchanged with X in one rename
 * (renameat2 RENAME_EXCHANGE; a plain rename when X is new), and the previous report, now
 * under the temporary name, is removed. So X never mixes two reports, and a killed report
 * leaves X as it was. X must be a real folder holding only what a report writes (summary.md,
 * summary.json, gnuplot.log, <id>-<figure>.dat/.gp/.png/.svg, and the .tmp-report-<pid>
 * folders of older alsims); anything else is refused, not removed, and so is X inside one of
 * the runs folders read (a later report would read it as a run). Temporary folders of dead
 * processes are removed. Nothing is followed through a symbolic link. */

/* 1 when name is a file a report writes. */
static int is_report_file(const char *name) {
    if (!strcmp(name, "summary.md") || !strcmp(name, "summary.json") || !strcmp(name, "gnuplot.log")) return 1;
    static const char *const kinds[] = {"-curves", "-f1", "-aulc", "-wtl", "-paper"};
    static const char *const exts[] = {".dat", ".gp", ".png", ".svg"};
    const char *dot = strrchr(name, '.');
    if (!dot || dot == name) return 0;
    int ext_ok = 0;
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) ext_ok |= !strcmp(dot, exts[i]);
    for (size_t i = 0; ext_ok && i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t k = strlen(kinds[i]), stem = (size_t)(dot - name);
        if (stem > k && !strncmp(dot - k, kinds[i], k)) return 1;
    }
    return 0;
}

/* The pid of a temporary report folder name: prefix then digits only; 0 when it is not one. */
static long tmp_pid(const char *name, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) || !name[n]) return 0;
    char *end;
    long pid = strtol(name + n, &end, 10);
    return *end || pid <= 0 ? 0 : pid;
}

/* 1 when process pid is gone (its temporary folder is stale). */
static int pid_dead(long pid) { return kill((pid_t)pid, 0) != 0 && errno == ESRCH; }

/* Removes the folder name in dirfd: the report files in it (and in its .tmp-report-<pid>
 * folders), then the folder, which must then be empty. Links are removed, never followed.
 * 0, or -1. */
static int remove_report_dir(int dirfd, const char *name, int depth) {
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return -1;
    DIR *d = fdopendir(fd);
    if (!d) { close(fd); return -1; }
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        struct stat st;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (S_ISREG(st.st_mode) && is_report_file(e->d_name)) unlinkat(fd, e->d_name, 0);
        else if (S_ISDIR(st.st_mode) && depth == 0 && tmp_pid(e->d_name, ".tmp-report-"))
            remove_report_dir(fd, e->d_name, 1);
    }
    closedir(d);
    return unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* Checks what the folder fd (the old report X, named path) holds: 0 when only a report's
 * files (and stale temporary folders); else 2, or 3 when a live process is writing into it,
 * with the reason in err. */
static int check_old_report(int fd, const char *path, char *err, size_t errlen) {
    DIR *d = util_read_dir(fd, path, err, errlen);
    if (!d) return ALSIM_RUNTIME;
    int rc = 0;
    for (struct dirent *e; !rc && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        struct stat st;
        if (fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        long pid = S_ISDIR(st.st_mode) ? tmp_pid(e->d_name, ".tmp-report-") : 0;
        if (pid && !pid_dead(pid)) {
            snprintf(err, errlen, "%s: another alsim process (pid %ld) is writing a report into it; wait for it", path, pid);
            rc = ALSIM_RUNTIME;
        } else if (!pid && !(S_ISREG(st.st_mode) && is_report_file(e->d_name))) {
            snprintf(err, errlen, "%s: holds '%s', which is not part of an alsim report; a report replaces its folder "
                     "as a whole: give --out a new or empty folder, or a previous report's", path, e->d_name);
            rc = ALSIM_BAD_INPUT;
        }
    }
    closedir(d);
    return rc;
}

/* out = the absolute form of path, the links of its existing part resolved (realpath of the
 * longest prefix that exists; the rest appended, "." and ".." applied by name). 0 or -1. */
static int resolve_path(char *out, size_t len, const char *path) {
    char buf[8200], cwd[4096];
    if (path[0] == '/') snprintf(buf, sizeof buf, "%s", path);
    else if (getcwd(cwd, sizeof cwd)) snprintf(buf, sizeof buf, "%s/%s", cwd, path);
    else return -1;
    char *rest = buf + strlen(buf), real[PATH_MAX];
    for (;;) {                          /* shorten until the prefix exists */
        char save = *rest;
        *rest = 0;
        int found = realpath(buf[0] ? buf : "/", real) != NULL;
        *rest = save;
        if (found) break;
        while (rest > buf && rest[-1] == '/') rest--;
        while (rest > buf && rest[-1] != '/') rest--;
        if (rest == buf) return -1;
    }
    snprintf(out, len, "%s", real);
    for (char *tok = strtok(rest, "/"); tok; tok = strtok(NULL, "/")) {
        if (!strcmp(tok, ".")) continue;
        if (!strcmp(tok, "..")) { char *s = strrchr(out, '/'); if (s) s[s == out] = 0; continue; }
        size_t n = strlen(out);
        snprintf(out + n, len - n, "%s%s", n && out[n - 1] == '/' ? "" : "/", tok);
    }
    return 0;
}

/* 0 when out_dir is neither one of the runs folders read nor inside one; else 2. */
static int check_not_in_runs(const Report *rep, const char *out_dir, char *err, size_t errlen) {
    char out[4096];
    if (resolve_path(out, sizeof out, out_dir) != 0) return 0;   /* unresolvable: mkdir will say */
    for (int i = 0; i < rep->set.n_roots; i++) {
        const char *root = rep->set.roots[i];
        size_t n = strlen(root);
        if (!strncmp(out, root, n) && (out[n] == 0 || out[n] == '/' || (n == 1 && root[0] == '/'))) {
            snprintf(err, errlen, "--out %s: %s the runs folder %s, so later reports of it would read the report as "
                     "a run; write the report elsewhere", out_dir, out[n] ? "is inside" : "is", root);
            return ALSIM_BAD_INPUT;
        }
    }
    return 0;
}

/* Writes dir/name with fn. */
static int write_file(const char *dir, const char *name, void (*fn)(FILE *, const Report *, int),
                      const Report *rep, int rendered, char *err, size_t errlen) {
    char path[4700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) { snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno)); return ALSIM_RUNTIME; }
    fn(f, rep, rendered);
    int bad = fflush(f) != 0 || fsync(fileno(f)) != 0;
    if (fclose(f) != 0 || bad) { snprintf(err, errlen, "%s: write failed: %s", path, strerror(errno)); return ALSIM_RUNTIME; }
    return 0;
}

/* Puts the finished temporary folder tmp_name (in parent) in place of base: exchanged with
 * an old report, which is then removed. 0, or 3. */
static int swap_in(int parent, const char *tmp_name, const char *base, int have_old, const char *out_dir,
                   char *err, size_t errlen) {
    if (have_old) {
        if (renameat2(parent, tmp_name, parent, base, RENAME_EXCHANGE) == 0) {
            remove_report_dir(parent, tmp_name, 0);     /* the old report, now under tmp_name */
            return 0;
        }
        if (errno != EINVAL && errno != ENOSYS) {
            snprintf(err, errlen, "%s: cannot replace it: %s", out_dir, strerror(errno));
            return ALSIM_RUNTIME;
        }
        if (remove_report_dir(parent, base, 0) != 0) {  /* a file system without exchange */
            snprintf(err, errlen, "%s: cannot replace it: %s", out_dir, strerror(errno));
            return ALSIM_RUNTIME;
        }
    }
    int moved = renameat2(parent, tmp_name, parent, base, RENAME_NOREPLACE);
    if (moved != 0 && (errno == EINVAL || errno == ENOSYS)) moved = renameat(parent, tmp_name, parent, base);
    if (moved != 0) {
        snprintf(err, errlen, "%s: cannot move the report into place: %s", out_dir, strerror(errno));
        return ALSIM_RUNTIME;
    }
    return 0;
}

int report_write(const Report *rep, const char *out_dir, int *rendered, char *err, size_t errlen) {
    *rendered = 0;
    int rc = check_not_in_runs(rep, out_dir, err, errlen);
    if (rc) return rc;
    /* PARENT and X's name in it (an --out of "." or ".." is named by its resolved path). */
    char path[4096], parent_path[4096], base[256];
    snprintf(path, sizeof path, "%s", out_dir);
    for (size_t n = strlen(path); n > 1 && path[n - 1] == '/'; n--) path[n - 1] = 0;
    const char *last = strrchr(path, '/');
    if (!strcmp(last ? last + 1 : path, ".") || !strcmp(last ? last + 1 : path, "..") || !strcmp(path, "/")) {
        if (resolve_path(path, sizeof path, out_dir) != 0 || !strcmp(path, "/")) {
            snprintf(err, errlen, "--out %s: cannot be a report folder (a report replaces its folder as a whole)", out_dir);
            return ALSIM_BAD_INPUT;
        }
        last = strrchr(path, '/');
    }
    if (strlen(last ? last + 1 : path) >= sizeof base - 32) {
        snprintf(err, errlen, "--out %s: the folder's name is too long", out_dir);
        return ALSIM_BAD_INPUT;
    }
    memcpy(base, last ? last + 1 : path, strlen(last ? last + 1 : path) + 1);   /* fits: checked above */
    if (!last) snprintf(parent_path, sizeof parent_path, ".");
    else if (last == path) snprintf(parent_path, sizeof parent_path, "/");
    else snprintf(parent_path, sizeof parent_path, "%.*s", (int)(last - path), path);
    if ((rc = util_mkdir_p(parent_path, err, errlen))) return rc;
    int parent = open(parent_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0) { snprintf(err, errlen, "%s: cannot open: %s", parent_path, strerror(errno)); return ALSIM_RUNTIME; }

    /* What stands at X now: nothing, or a previous report (a real folder of report files). */
    int have_old = 0;
    struct stat st;
    if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (S_ISLNK(st.st_mode)) {
            snprintf(err, errlen, "%s: a symbolic link; a report replaces its folder as a whole and never writes through "
                     "links: give --out the real folder", out_dir);
            rc = ALSIM_BAD_INPUT;
        } else if (!S_ISDIR(st.st_mode)) {
            snprintf(err, errlen, "%s: not a folder", out_dir);
            rc = ALSIM_BAD_INPUT;
        } else {
            int old = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            rc = old < 0 ? (snprintf(err, errlen, "%s: cannot open: %s", out_dir, strerror(errno)), ALSIM_RUNTIME)
                         : check_old_report(old, out_dir, err, errlen);
            if (old >= 0) close(old);
            have_old = 1;
        }
    }
    if (rc) { close(parent); return rc; }

    /* Temporary folders of killed reports of X go; then this one's. */
    char prefix[300], tmp_name[300 + 24], tmp[4500];
    snprintf(prefix, sizeof prefix, ".%s.tmp-report-", base);
    DIR *d = fdopendir(dup(parent));
    for (struct dirent *e; d && (e = readdir(d));) {
        long pid = tmp_pid(e->d_name, prefix);
        if (pid && (pid == (long)getpid() || pid_dead(pid))) remove_report_dir(parent, e->d_name, 0);
    }
    if (d) closedir(d);
    snprintf(tmp_name, sizeof tmp_name, "%s%ld", prefix, (long)getpid());
    snprintf(tmp, sizeof tmp, "%s/%s", parent_path, tmp_name);
    if (mkdirat(parent, tmp_name, 0777) != 0) {
        snprintf(err, errlen, "%s: cannot create: %s", tmp, strerror(errno));
        close(parent);
        return ALSIM_RUNTIME;
    }
    rc = figures_write(rep, tmp, err, errlen);
    *rendered = rc != 1;
    if (rc == 1) rc = 0;
    if (!rc) rc = write_file(tmp, "summary.json", write_json, rep, *rendered, err, errlen);
    if (!rc) rc = write_file(tmp, "summary.md", write_md, rep, *rendered, err, errlen);
    if (!rc) rc = swap_in(parent, tmp_name, base, have_old, out_dir, err, errlen);
    if (rc) remove_report_dir(parent, tmp_name, 0);
    else fsync(parent);
    close(parent);
    return rc;
}
