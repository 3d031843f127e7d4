/* reports — the subcommands of the reports module, for the command table in sim/main.c.
 *
 *   alsim report RUNS... [--out DIR] ...     statistics across seeds, summary.md/.json, figures
 *   alsim baseline RUNS... --out FILE        record the metrics the gate compares against
 *   alsim check RUNS... --baseline FILE ...  the regression gate
 *
 * RUNS are run folders or folders of run folders (reports/runs.h). Each command prints its
 * usage with --help. Exit codes (DESIGN.md §5): 0 success (check: no regression), 1 check
 * found a regression, 2 usage or bad input (one line naming the file, the line and the
 * reason; for check also a config that differs from the baseline's), 3 runtime failure.
 */
#ifndef ALSIM_REPORTS_H
#define ALSIM_REPORTS_H

/* Each takes the arguments after its name and returns the exit code. */
int cmd_report(int argc, char **argv);      /* report.c */
int cmd_baseline(int argc, char **argv);    /* gate.c */
int cmd_check(int argc, char **argv);       /* gate.c */

#endif
