/* report — statistics across seeds for every (dataset, strategy) of a set of runs, and the
 * files `alsim report` writes (summary.md, summary.json, figures).
 *
 * What is computed, per dataset (runs grouped by the config's "dataset"; the strategies of a
 * dataset are its arms, the reference strategy "random" first, then by name):
 *   - per round r and arm: mean, sd and 95% t-interval of accuracy and macro-F1 over the
 *     seeds whose curve has round r;
 *   - per run: normalised AULC (metrics_aulc: accuracy against labels, trapezoid rule, over
 *     the label range) and labels-to-target (metrics_labels_to_target), both over the rounds
 *     every used run of the dataset has (`common`; normally all of them, see below);
 *     per arm: the t-interval of the AULC, and the median and quartiles (type 7) of
 *     labels-to-target with "not reached" ranked above every reached value;
 *   - against the reference, paired by seed: ΔAULC (arm - reference) and labels saved
 *     (reference - arm, over the seeds where both reached the target) with paired bootstrap
 *     intervals, and ΔAULC's t-interval (summary.json: delta_aulc_t); paired t and Wilcoxon
 *     on ΔAULC, Holm-adjusted over the arms (one family per test);
 *   - every pair of arms (a, b), paired by seed: AULC_a - AULC_b, paired t and Wilcoxon,
 *     Holm-adjusted over the pairs of the dataset; the win/tie/loss verdict of a against b
 *     is the sign of the mean difference when the Holm-adjusted paired-t p < alpha, else tie
 *     (n/a with fewer than 2 paired seeds).
 *   - with --paper NAME (paper.h), first: per arm and accuracy level of the paper, the
 *     acquired labels to reach it (median and quartiles), the published figure beside it, and
 *     labels saved against the reference with paired t and Wilcoxon, Holm-adjusted over the
 *     arms of each level (PaperArm).
 * The target of labels-to-target: --target ACC; or --target-frac F times the full-data
 * ceiling (the mean final accuracy of the dataset's --full-data runs among the inputs); or the
 * runs' own config target; or the paper's first level (--paper); or REPORT_DEFAULT_FRAC of the
 * ceiling; or none.
 *
 * Degenerate input, each with a note in the report: a diverged run (status "diverged", or a
 * NaN accuracy) is counted and left out; a run with fewer rounds than its config asks for
 * shortens `common` for the whole dataset (so every AULC covers the same labels); a single
 * seed gives means without intervals or tests; all differences zero give p = 1 (a tie).
 */
#ifndef ALSIM_REPORT_H
#define ALSIM_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "reports/paper.h"
#include "reports/runs.h"
#include "sim/config.h"
#include "reports/stats.h"

#define REPORT_DEFAULT_FRAC 0.9

typedef struct {
    double alpha;           /* significance level of the verdicts (0.05) */
    double level;           /* interval coverage (0.95) */
    double target;          /* absolute accuracy target; 0: none */
    double target_frac;     /* target as a fraction of the full-data ceiling; 0: none */
    int resamples;          /* bootstrap resamples (10000) */
    uint64_t boot_seed;     /* seed of the bootstrap streams (0) */
    int logx;               /* figures: log-scaled label axis */
    char reference[64];     /* the strategy savings are measured against ("random") */
    const Paper *paper;     /* --paper: the published table to compare with; NULL none */
} ReportOptions;

/* The report options of c (its report, baseline or check options; config.h), level 0.95. */
void report_options_from(ReportOptions *o, const Config *c);

typedef struct {
    double n_labeled;
    Describe acc, f1;       /* over the used runs with this round */
} RoundStats;

/* Arm a against arm b, paired by seed. */
typedef struct {
    int a, b;               /* arm indices */
    int n;                  /* paired seeds */
    double mean_diff;       /* mean of AULC_a - AULC_b */
    TTest t;                /* two-sided paired t on the differences */
    Wilcoxon w;
    double p_t_holm, p_w_holm;
    int verdict;            /* +1 a wins, 0 tie, -1 a loses, VERDICT_NA no test */
    Bootstrap d_aulc;       /* against the reference only: ΔAULC */
    Describe d_aulc_t;      /* against the reference only: ΔAULC's mean, sd and t-interval */
    Bootstrap saved;        /* against the reference only: labels saved */
    int saved_dropped;      /* pairs left out of `saved`: a side never reached the target */
} Comparison;
enum { VERDICT_NA = 2 };

/* An arm's figures for the --paper table, per accuracy level l of the paper: acquired labels
 * (labels beyond round 0's) to reach it, per run over the common rounds, INFINITY when not
 * reached; their quartiles; and against the reference, paired by seed, labels saved =
 * reference - arm (Comparison: mean_diff, t, Wilcoxon, Holm over the arms of the level,
 * verdict +1 when the arm needs fewer). In the tests a run that did not reach the level counts
 * as reaching it one round after its last (acquired labels at the last common round + the
 * batch): a lower bound on its true count, so a seed where only the reference fails still
 * counts for the arm, by at least what is known, and one where both fail counts 0. */
typedef struct {
    double *acquired[PAPER_MAX_LEVELS];     /* (n) */
    double q[PAPER_MAX_LEVELS][3];
    int reached[PAPER_MAX_LEVELS];
    Comparison vs_ref[PAPER_MAX_LEVELS];
    int censored[PAPER_MAX_LEVELS];         /* paired seeds where a side did not reach the
                                               level (counted at its lower bound) */
} PaperArm;

typedef struct {
    char strategy[64];
    const Run **runs;       /* (n) the used runs, by seed */
    int n;
    int n_excluded;         /* diverged or failed runs left out */
    int rounds;             /* rows of per_round: the longest used curve */
    RoundStats *per_round;  /* (rounds) */
    double *aulc;           /* (n) per run, over the dataset's common rounds */
    Describe aulc_d;
    double *ltt;            /* (n) labels-to-target per run; INFINITY not reached; NaN no target */
    double ltt_q[3];        /* quartiles 1, 2, 3 */
    int reached;
    PaperArm paper;         /* with --paper only */
} Arm;

typedef struct {
    const char *dataset;    /* the config's dataset spec */
    const char *name;       /* as the loader names it */
    char id[96];            /* file-name-safe, unique in the report */
    const Run *config_run;  /* a run whose config stands for the dataset (NULL: full-data only) */
    Arm *arms;              /* (n_arms) reference first */
    int n_arms;
    int ref;                /* index of the reference arm, -1 when absent */
    int common;             /* rounds every used run has: AULC and labels-to-target use these */
    int expected;           /* rounds the config asks for (rounds + 1 rows) */
    double ceiling;         /* mean final accuracy of the full-data runs; NaN when none */
    int n_ceiling;
    double target;          /* NaN: no target */
    char target_rule[160];  /* how the target was chosen, for the reader */
    Comparison *vs_ref;     /* (n_arms) entry i: arm i against the reference (unused at ref) */
    Comparison *pairs;      /* (n_pairs) a < b */
    int n_pairs;
    char **notes;           /* (n_notes) what the reader must know about this dataset */
    int n_notes;
} DatasetReport;

typedef struct {
    ReportOptions opt;
    RunSet set;
    DatasetReport *ds;      /* (n_ds) */
    int n_ds;
    int n_used, n_excluded;
} Report;

/* The command line of report, baseline or check (cmd): c from the option table (config.h)
 * and o from c; the RUNS arguments in *paths (malloc'd, freed by the caller in every case),
 * *npaths of them. Returns 0; -1 after printing the usage for --help or -h; 2 with a reason
 * for an unknown option, a bad value, a required option left out, or no RUNS; 3 out of
 * memory. */
int report_args(Config *c, ReportOptions *o, char ***paths, int *npaths, Command cmd, int argc,
                char **argv, char *err, size_t errlen);

/* Loads the runs under paths (runs_load) and computes everything above. Returns 0; 2 with a
 * one-line reason for bad input (malformed files, mixed configs, no usable run); 3 out of
 * memory. report_free releases it (also after a failure). */
int report_build(Report *rep, char **paths, int npaths, const ReportOptions *opt,
                 char *err, size_t errlen);
void report_free(Report *rep);

/* The comparison of arms a < b of d (NULL when out of range). */
const Comparison *report_pair(const DatasetReport *d, int a, int b);

/* Writes summary.md, summary.json and the figures (figures.h) as the folder out_dir, replaced
 * as a whole: written into a hidden temporary folder beside it, exchanged with the previous
 * report in one rename, the previous report then removed (stale temporary folders of dead
 * processes too). Returns 0; 2 with a reason when out_dir is a symbolic link or not a folder,
 * holds anything but a previous report's files, or is one of the runs folders read
 * (rep->set.roots) or inside one; 3 when a file cannot be written or gnuplot fails (out_dir
 * is then left as it was). When gnuplot is not installed the figures' data and scripts are
 * still written, and *rendered is set to 0 (1 otherwise).
 * Statistics that are not finite are written so that "none" and "infinite" differ: in
 * summary.json a statistic (t, df, p-values, W, means, sd, interval ends, AULC) is a number,
 * null when there is none (no test, too few values), or the string "inf" / "-inf" when it is
 * infinite (the paired t of differences that are all equal and nonzero); summary.md writes
 * "n/a", "inf" and "-inf". (Labels-to-target is not a statistic: per run null with "reached"
 * false, and "not reached" for a quartile.) */
int report_write(const Report *rep, const char *out_dir, int *rendered, char *err, size_t errlen);

#endif
