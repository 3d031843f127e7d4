/* figures — see figures.h. */
#include "reports/figures.h"
#include "sim/util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const kind_names[FIG_COUNT] = {"curves", "f1", "aulc", "wtl", "paper"};
static const char *const kind_titles[FIG_COUNT] = {
    "learning curves (test accuracy)", "learning curves (macro-F1)", "normalised AULC",
    "win/tie/loss matrix", "test accuracy against acquired examples, with the paper's levels",
};
/* Line colours, one per strategy (cycled): colour-blind-safe (Okabe–Ito). */
static const char *const colours[] = {
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442",
};
enum { N_COLOURS = sizeof colours / sizeof colours[0] };

void figure_name(char out[160], const DatasetReport *d, FigureKind kind) {
    snprintf(out, 160, "%s-%s", d->id, kind_names[kind]);
}

const char *figure_title(FigureKind kind) { return kind_titles[kind]; }

int figure_drawn(FigureKind kind, const ReportOptions *o) { return kind != FIG_PAPER || o->paper; }

/* s as a gnuplot single-quoted string: ' doubled, control characters dropped. */
static void gp_quote(FILE *f, const char *s) {
    fputc('\'', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20) continue;
        if (*p == '\'') fputc('\'', f);
        fputc(*p, f);
    }
    fputc('\'', f);
}

/* A number for a .dat file: NaN when not finite (gnuplot skips it). */
static void dat_num(FILE *f, double x) {
    if (isfinite(x)) fprintf(f, " %.17g", x);
    else fputs(" NaN", f);
}

/* Opens dir/name.ext for writing. */
static FILE *open_file(const char *dir, const char *name, const char *ext, char *err, size_t errlen) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.%s", dir, name, ext);
    FILE *f = fopen(path, "w");
    if (!f) snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
    return f;
}

/* Opens the .dat file of figure kind of d in dir (name receives its base name) and writes
 * the two comment lines that say what its columns are. */
static FILE *open_dat(char name[160], const DatasetReport *d, FigureKind kind, const char *dir, const char *columns,
                      const char *columns2, char *err, size_t errlen) {
    figure_name(name, d, kind);
    FILE *f = open_file(dir, name, "dat", err, errlen);
    if (f) fprintf(f, "# %s: %s\n# %s\n", kind_titles[kind], columns, columns2);
    return f;
}

static int close_file(FILE *f, const char *name, char *err, size_t errlen) {
    if (fclose(f) != 0) { snprintf(err, errlen, "%s: write failed: %s", name, strerror(errno)); return ALSIM_RUNTIME; }
    return 0;
}

/* The start of every script: what it is, how to render it again, and the PNG output. */
static void gp_header(FILE *f, const DatasetReport *d, const char *name, FigureKind kind, const char *size) {
    fprintf(f, "# alsim report: %s of ", kind_titles[kind]);
    for (const char *p = d->name; *p; p++) fputc(*p == '\n' ? ' ' : *p, f);
    fprintf(f, "\n# Data: %s.dat. Render again (in this folder): gnuplot %s.gp\n", name, name);
    fprintf(f, "reset\nset encoding utf8\nset terminal pngcairo size %s noenhanced font 'sans,10'\nset output '%s.png'\n",
            size, name);
    fputs("set title ", f);
    gp_quote(f, d->name);
    fputc('\n', f);
}

/* The end of every script: the same plot again as SVG. */
static void gp_footer(FILE *f, const char *name, const char *size) {
    fprintf(f, "set terminal svg size %s noenhanced font 'sans,10' background '#ffffff'\nset output '%s.svg'\n"
            "replot\nunset output\n", size, name);
}

/* Learning curves of one metric: test accuracy (FIG_CURVES; FIG_PAPER against acquired
 * examples, labels beyond round 0's, with the paper's levels) or macro-F1 (FIG_F1). */
static int write_curves(const DatasetReport *d, const ReportOptions *o, const char *dir, FigureKind kind,
                        char *err, size_t errlen) {
    char name[160];
    const int acc = kind != FIG_F1, paper = kind == FIG_PAPER;
    const double x_off = paper ? d->arms[0].per_round[0].n_labeled : 0;     /* round 0's labels */
    FILE *f = open_dat(name, d, kind, dir, "per strategy (one block each, in key order) and round: labels, mean,",
                       "lower and upper end of the 95% t-interval of the mean across seeds (NaN: one seed), seeds",
                       err, errlen);
    if (!f) return ALSIM_RUNTIME;
    for (int a = 0; a < d->n_arms; a++) {
        const Arm *arm = &d->arms[a];
        fprintf(f, "%s# %s\n", a ? "\n\n" : "", arm->strategy);
        for (int r = 0; r < arm->rounds; r++) {
            const Describe *s = acc ? &arm->per_round[r].acc : &arm->per_round[r].f1;
            fprintf(f, "%.17g", arm->per_round[r].n_labeled - x_off);
            dat_num(f, s->mean); dat_num(f, s->lo); dat_num(f, s->hi);
            fprintf(f, " %d\n", s->n);
        }
    }
    int rc = close_file(f, name, err, errlen);
    if (rc) return rc;

    if (!(f = open_file(dir, name, "gp", err, errlen))) return ALSIM_RUNTIME;
    gp_header(f, d, name, kind, "900,680");
    if (paper) fprintf(f, "set xlabel 'acquired examples (labels beyond the %g of round 0)%s'\nset ylabel 'test accuracy'\n"
                       "set yrange [*:1]\n", x_off, o->logx ? " (log scale)" : "");   /* the levels inside the frame */
    else fprintf(f, "set xlabel 'labeled examples%s'\nset ylabel '%s'\n", o->logx ? " (log scale)" : "",
                 acc ? "test accuracy" : "test macro-F1");
    fputs("set key below maxrows 4 height 1\nset grid\nset style fill transparent solid 0.18 noborder\n", f);
    double x0 = INFINITY, x1 = -INFINITY;
    for (int a = 0; a < d->n_arms; a++)
        for (int r = 0; r < d->arms[a].rounds; r++) {
            x0 = fmin(x0, d->arms[a].per_round[r].n_labeled - x_off);
            x1 = fmax(x1, d->arms[a].per_round[r].n_labeled - x_off);
        }
    if (x1 > x0 && (!o->logx || x0 > 0)) fprintf(f, "set xrange [%.17g:%.17g]\n", x0, x1);
    if (o->logx && d->arms[0].rounds > 1) {     /* a log axis within one decade has no tics: name some rounds */
        const Arm *arm = &d->arms[0];
        int step = (arm->rounds + 7) / 8;
        fputs("set xtics (", f);
        for (int r = 0; r < arm->rounds; r += step)
            fprintf(f, "%s%.17g", r ? ", " : "", arm->per_round[r].n_labeled - x_off);
        fputs(")\n", f);
    }
    if (o->logx) fputs("set logscale x\n", f);
    fputs("plot \\\n", f);
    for (int a = 0; a < d->n_arms; a++) {
        const Arm *arm = &d->arms[a];
        const char *c = colours[a % N_COLOURS];
        fprintf(f, "  '%s.dat' index %d using 1:3:4 with filledcurves lc rgb '%s' notitle, \\\n", name, a, c);
        fprintf(f, "  '%s.dat' index %d using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc rgb '%s' title ", name, a, c);
        char t[160];
        snprintf(t, sizeof t, "%s (mean of %d seed%s)", arm->strategy, arm->n, arm->n == 1 ? "" : "s");
        gp_quote(f, t);
        fputs(", \\\n", f);
    }
    for (int l = 0; paper && l < o->paper->n_levels; l++)
        fprintf(f, "  %.17g with lines dt %d lw 1.5 lc rgb '#555555' title '%g%% accuracy (%g%% error)', \\\n",
                o->paper->levels[l], 2 + 2 * l, 100 * o->paper->levels[l], 100 * (1 - o->paper->levels[l]));
    if (acc && !paper && !isnan(d->ceiling))
        fprintf(f, "  %.17g with lines dt 2 lw 1.5 lc rgb '#555555' title 'full-data ceiling %.4f (mean of %d run%s)', \\\n",
                d->ceiling, d->ceiling, d->n_ceiling, d->n_ceiling == 1 ? "" : "s");
    if (acc && !paper && !isnan(d->target))
        fprintf(f, "  %.17g with lines dt 3 lw 1.5 lc rgb '#aa3377' title 'target %.4f (labels-to-target)', \\\n",
                d->target, d->target);
    fprintf(f, "  NaN with filledcurves lc rgb '#888888' title 'shaded band: %g%% t-interval of the mean across seeds'\n",
            100 * o->level);
    gp_footer(f, name, "900,680");
    return close_file(f, name, err, errlen);
}

/* x tics naming the strategies, 0..n-1. */
static void gp_strategy_tics(FILE *f, const DatasetReport *d, const char *axis) {
    fprintf(f, "set %s (", axis);
    for (int a = 0; a < d->n_arms; a++) {
        if (a) fputs(", ", f);
        gp_quote(f, d->arms[a].strategy);
        fprintf(f, " %d", a);
    }
    fputs(")\n", f);
}

static int write_aulc(const DatasetReport *d, const ReportOptions *o, const char *dir, char *err, size_t errlen) {
    char name[160];
    FILE *f = open_dat(name, d, FIG_AULC, dir, "per strategy (x tics in the script): index, mean, lower and upper",
                       "end of the 95% t-interval of the mean across seeds (NaN: one seed), seeds", err, errlen);
    if (!f) return ALSIM_RUNTIME;
    double lo = 1, hi = 0;
    for (int a = 0; a < d->n_arms; a++) {
        const Describe *s = &d->arms[a].aulc_d;
        fprintf(f, "%d", a);
        dat_num(f, s->mean); dat_num(f, s->lo); dat_num(f, s->hi);
        fprintf(f, " %d\n", s->n);
        lo = fmin(lo, isnan(s->lo) ? s->mean : s->lo);
        hi = fmax(hi, isnan(s->hi) ? s->mean : s->hi);
    }
    int rc = close_file(f, name, err, errlen);
    if (rc) return rc;
    /* The axis starts just below the lowest interval (the bars are cut there, and the label
     * says so): from 0, differences of a few points would not show. */
    double y0 = fmax(0, floor(lo * 20 - 1) / 20), y1 = fmin(1, ceil(hi * 20 + 0.5) / 20);
    if (!(y1 > y0)) { y0 = 0; y1 = 1; }
    if (!(f = open_file(dir, name, "gp", err, errlen))) return ALSIM_RUNTIME;
    gp_header(f, d, name, FIG_AULC, "800,500");
    fprintf(f, "set ylabel 'normalised AULC (axis from %.2f)'\nset yrange [%.2f:%.2f]\n", y0, y0, y1);
    fprintf(f, "set xrange [-0.6:%d.6]\nset boxwidth 0.6\nset style fill solid 0.55 border lc rgb '#333333'\n",
            d->n_arms - 1);
    gp_strategy_tics(f, d, "xtics");
    fputs("set grid ytics\nset key top left box opaque\n", f);
    fprintf(f, "plot '%s.dat' using 1:2 with boxes lc rgb '#56B4E9' title 'mean AULC across seeds', \\\n"
               "  '%s.dat' using 1:2:3:4 with yerrorbars pt 7 ps 0.6 lw 1.5 lc rgb '#000000' title '%g%% t-interval of the mean'\n",
            name, name, 100 * o->level);
    gp_footer(f, name, "800,500");
    return close_file(f, name, err, errlen);
}

static int write_wtl(const DatasetReport *d, const ReportOptions *o, const char *dir, char *err, size_t errlen) {
    char name[160];
    FILE *f = open_dat(name, d, FIG_WTL, dir, "the row strategy against the column strategy on AULC: column, row,",
                       "verdict (1 win, 0 tie or no test, -1 loss), label (verdict, Holm-adjusted paired-t p)", err, errlen);
    if (!f) return ALSIM_RUNTIME;
    for (int a = 0; a < d->n_arms; a++) {
        for (int b = 0; b < d->n_arms; b++) {
            const Comparison *c = a < b ? report_pair(d, a, b) : report_pair(d, b, a);
            int v = c ? (c->verdict == VERDICT_NA ? VERDICT_NA : (a < b ? c->verdict : -c->verdict)) : VERDICT_NA;
            char label[64];
            if (a == b) snprintf(label, sizeof label, "-");
            else if (v == VERDICT_NA) snprintf(label, sizeof label, "n/a (n=%d)", c->n);
            else snprintf(label, sizeof label, "%s p=%.2g", v > 0 ? "win" : v < 0 ? "loss" : "tie", c->p_t_holm);
            fprintf(f, "%d %d %d \"%s\"\n", b, a, v == VERDICT_NA ? 0 : v, label);
        }
        fputc('\n', f);
    }
    int rc = close_file(f, name, err, errlen);
    if (rc) return rc;
    if (!(f = open_file(dir, name, "gp", err, errlen))) return ALSIM_RUNTIME;
    int side = 220 + 110 * d->n_arms;
    char size[32];
    snprintf(size, sizeof size, "%d,%d", side + 80, side);
    gp_header(f, d, name, FIG_WTL, size);
    /* a second title line; "\n" needs gnuplot's double quotes */
    fputs("set title ", f);
    gp_quote(f, d->name);
    fprintf(f, " . \"\\nrow against column on AULC: paired t across seeds, Holm-adjusted, alpha %g\"\n", o->alpha);
    fprintf(f, "set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\n", d->n_arms - 1, d->n_arms - 1);
    gp_strategy_tics(f, d, "xtics");
    gp_strategy_tics(f, d, "ytics");
    fputs("set xtics rotate by 30 right\nset xlabel 'column'\nset ylabel 'row'\nunset key\nunset colorbox\n"
          "set cbrange [-1:1]\nset palette defined (-1 '#E08070', 0 '#EEEEEE', 1 '#70B070')\n"
          "set tics scale 0\n", f);
    fprintf(f, "plot '%s.dat' using 1:2:3 with image, '%s.dat' using 1:2:4 with labels font ',9'\n", name, name);
    gp_footer(f, name, size);
    return close_file(f, name, err, errlen);
}

/* Runs gnuplot on scripts (n) with working folder dir. 0, 1 not installed, 3 failed. */
static int run_gnuplot(const char *dir, char **scripts, int n, char *err, size_t errlen) {
    char log[4200];
    snprintf(log, sizeof log, "%s/gnuplot.log", dir);
    char **argv = calloc((size_t)n + 2, sizeof *argv);
    if (!argv) { snprintf(err, errlen, "out of memory"); return ALSIM_RUNTIME; }
    argv[0] = "gnuplot";
    for (int i = 0; i < n; i++) argv[i + 1] = scripts[i];
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) { free(argv); snprintf(err, errlen, "cannot start gnuplot: %s", strerror(errno)); return ALSIM_RUNTIME; }
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || chdir(dir) != 0) _exit(126);
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
        execvp("gnuplot", argv);
        _exit(127);
    }
    free(argv);
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) { snprintf(err, errlen, "gnuplot: %s", strerror(errno)); return ALSIM_RUNTIME; }
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    if (code == 127) { unlink(log); return 1; }
    if (code == 0) { unlink(log); return 0; }
    char first[512] = "";
    FILE *f = fopen(log, "r");
    while (f && fgets(first, sizeof first, f) && first[strspn(first, " \t\r\n")] == 0) {}
    if (f) fclose(f);
    first[strcspn(first, "\r\n")] = 0;
    snprintf(err, errlen, "gnuplot failed (exit %d) in %s: %s", code, dir, first[0] ? first : "no message");
    unlink(log);
    return ALSIM_RUNTIME;
}

int figures_write(const Report *rep, const char *dir, char *err, size_t errlen) {
    int n = 0, rc = 0;
    char **scripts = calloc((size_t)rep->n_ds * FIG_COUNT + 1, sizeof *scripts);
    if (!scripts) { snprintf(err, errlen, "out of memory"); return ALSIM_RUNTIME; }
    for (int i = 0; i < rep->n_ds && !rc; i++) {
        const DatasetReport *d = &rep->ds[i];
        if (!d->n_arms) continue;
        rc = write_curves(d, &rep->opt, dir, FIG_CURVES, err, errlen);
        if (!rc) rc = write_curves(d, &rep->opt, dir, FIG_F1, err, errlen);
        if (!rc) rc = write_aulc(d, &rep->opt, dir, err, errlen);
        if (!rc) rc = write_wtl(d, &rep->opt, dir, err, errlen);
        if (!rc && rep->opt.paper) rc = write_curves(d, &rep->opt, dir, FIG_PAPER, err, errlen);
        for (int k = 0; k < FIG_COUNT && !rc; k++) {
            if (!figure_drawn((FigureKind)k, &rep->opt)) continue;
            char name[160];
            figure_name(name, d, (FigureKind)k);
            if (!(scripts[n] = malloc(strlen(name) + 4))) { snprintf(err, errlen, "out of memory"); rc = ALSIM_RUNTIME; break; }
            sprintf(scripts[n++], "%s.gp", name);
        }
    }
    if (!rc && n) rc = run_gnuplot(dir, scripts, n, err, errlen);
    for (int i = 0; i < n; i++) free(scripts[i]);
    free(scripts);
    return rc;
}
