/* paper — published tables that `alsim report --paper NAME` sets its own figures beside.
 *
 * A paper's table gives, per strategy, how many acquired examples (labels beyond the initial
 * set) the strategy needed to reach each of a few test-accuracy levels. The report measures
 * the same per run (report.h: PaperArm) and writes both side by side as its first table. The
 * numbers below are copied from the publication named in `citation`; nothing here is fitted.
 */
#ifndef ALSIM_PAPER_H
#define ALSIM_PAPER_H

#define PAPER_MAX_LEVELS 2
#define PAPER_MAX_ROWS 8

typedef struct {
    const char *strategy;                   /* alsim's strategy name (alsim --list) */
    const char *label;                      /* the paper's name for it */
    double acquired[PAPER_MAX_LEVELS];      /* acquired examples to reach each level */
} PaperRow;

typedef struct {
    const char *name;                       /* what --paper takes: "gal2017", "batchbald" */
    const char *citation;                   /* authors, title, venue, table */
    const char *what;                       /* the table's measure, in a few words */
    const char *protocol;                   /* the paper's protocol, in a few words */
    int n_levels;
    double levels[PAPER_MAX_LEVELS];        /* test accuracy levels, ascending */
    int levels_as_error;                    /* 1: the paper names a level by its error (10%),
                                               0: by its accuracy (90%) */
    int n_rows;
    PaperRow rows[PAPER_MAX_ROWS];
} Paper;

/* The paper named name, or NULL. */
const Paper *paper_find(const char *name);

/* The row of strategy in p, or NULL when the paper has none. */
const PaperRow *paper_row(const Paper *p, const char *strategy);

/* The names --paper accepts, comma-separated ("gal2017, batchbald"), for messages. */
const char *paper_names(void);

#endif
