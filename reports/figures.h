/* figures — the report's figures, drawn by gnuplot (an external program, DESIGN.md §6).
 *
 * Each figure is four files side by side: NAME.dat (the numbers), NAME.gp (a gnuplot script
 * that reads NAME.dat and writes NAME.png and NAME.svg; run `gnuplot NAME.gp` in the folder
 * to render it again), and the two images. Per dataset with strategies (NAME = <id>-<kind>):
 *   curves   learning curves, test accuracy: the mean over seeds as a line, the 95%
 *            t-interval of the mean as a shaded band (the key says so), the full-data ceiling
 *            and the target as dashed lines when known; optional log-scaled label axis
 *   f1       the same for macro-F1
 *   aulc     mean normalised AULC per strategy as bars with the 95% t-interval
 *   wtl      the win/tie/loss matrix as a heat map (row against column, Holm-adjusted p)
 *   paper    with --paper only: test accuracy against acquired examples (labels beyond round
 *            0's), mean and band per strategy, a dashed line at each of the paper's accuracy
 *            levels: the form of the paper's figure
 * gnuplot is started with fork/exec, its working folder the output folder and its arguments
 * the script names alone: no shell, no user path on its command line. Names that come from
 * run files reach the scripts only inside quoted strings, escaped, with enhanced text off.
 */
#ifndef ALSIM_FIGURES_H
#define ALSIM_FIGURES_H

#include <stddef.h>

#include "reports/report.h"

typedef enum { FIG_CURVES, FIG_F1, FIG_AULC, FIG_WTL, FIG_PAPER, FIG_COUNT } FigureKind;

/* Whether a report with options o draws figure kind (FIG_PAPER: only with --paper). */
int figure_drawn(FigureKind kind, const ReportOptions *o);

/* out (160 bytes) = the base name of figure kind of dataset d: "<id>-<kind>". */
void figure_name(char out[160], const DatasetReport *d, FigureKind kind);

/* What figure kind shows, in a few words. */
const char *figure_title(FigureKind kind);

/* Writes the .dat and .gp files of every figure of rep into dir, then renders them all with
 * one gnuplot process (working folder dir). Returns 0; 1 when gnuplot is not installed (the
 * .dat and .gp files are written, no images); 3 with a reason (a file cannot be written, or
 * gnuplot failed: its first message is quoted). gnuplot's messages go to dir/gnuplot.log,
 * removed on success. */
int figures_write(const Report *rep, const char *dir, char *err, size_t errlen);

#endif
