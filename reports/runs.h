/* runs — reading finished run folders (DESIGN.md §4) for reports and the gate.
 *
 * A run folder holds config.json, curve.csv and summary.json (sim/results.h). A path given to
 * runs_load is either such a folder or a folder with run folders at any depth below it (a grid
 * in DIR/dataset/...), up to RUNS_MAX_DEPTH levels down. The search, at every depth: never
 * follows a symbolic link (a path given may be one: it was named); skips hidden entries (the
 * .partial-* folders of runs in progress, the temporaries of reports); takes a folder with a
 * run's summary.json as a run and looks no further inside it; passes over a folder whose
 * summary.json is a report's (a report is never read as a run) and a folder with no run in or
 * below it. Runs are then checked against each other:
 *   - the runs of one dataset (the config's "dataset") must share one config except for the
 *     keys that do not change results (config_key_affects_results: seed, strategy, ...) and the
 *     dataset's SHA-256; otherwise the load is refused, naming two runs and a key that differs.
 *     The same holds among the --full-data runs of a dataset (they give the accuracy ceiling),
 *     which must also share the data and test set of its active-learning runs
 *     (RUNS_CEILING_FREE_KEYS may differ).
 *   - no (dataset, strategy, seed) twice.
 * Folder names are never trusted: everything is read from the files.
 */
#ifndef ALSIM_RUNS_H
#define ALSIM_RUNS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Config keys that do not change a run's results (the options config.c leaves out of
 * config_hash): runs may differ in them and still be compared. */

/* Keys in which a --full-data run may differ from the active-learning runs whose ceiling it
 * gives: how the model is trained and the AL procedure. The data, its split and the test set
 * (everything else, the dataset's SHA-256 included) must be the same. */
#define RUNS_CEILING_FREE_KEYS {"rounds", "batch", "init", "epochs", "minibatch", "mc", "warm_start", \
                                "full_data", "lr", "weight_decay", "dropout", "hidden"}

typedef struct {
    char path[4096];        /* the run folder */
    char dataset[1024];     /* config "dataset": the spec the run was given; the group key */
    char name[1024];        /* dataset "name" as the loader reports it */
    char sha256[72];
    char strategy[64];      /* "full-data" for --full-data runs */
    int full_data;
    uint64_t seed;
    char status[16];        /* summary.json status: ok, diverged, failed */
    int batch;
    double config_target;   /* config "target" (0: none) */
    int m;                  /* rows of curve.csv */
    double *n_labeled;      /* (m) */
    double *accuracy;       /* (m) */
    double *macro_f1;       /* (m) */
    cJSON *config;          /* config.json "config" without RUNS_IGNORED_KEYS, plus "dataset_sha256" */
} Run;

/* How many folder levels below a path given runs_load searches; a tree that goes deeper is
 * refused (exit 2), not searched in part. */
enum { RUNS_MAX_DEPTH = 64 };

typedef struct {
    Run *runs;              /* (n) sorted by dataset, strategy, seed */
    int n;
    int skipped;            /* folders passed over: a report's, or no run in or below them
                               (counted once, at the highest such folder) */
    int links;              /* symbolic links below the paths given, not followed */
    char **roots;           /* (n_roots) the paths given, resolved (realpath): a report is
                               never written into or under one of them */
    int n_roots;
} RunSet;

/* Reads every run in or below paths (npaths), as the file comment says. Returns 0; 2 with
 * "FILE: line L: reason", the reason the runs cannot be compared, a path with no run in or
 * below it, an unreadable folder, or a tree deeper than RUNS_MAX_DEPTH in err (nothing to free
 * then); 3 out of memory. */
int runs_load(RunSet *set, char **paths, int npaths, char *err, size_t errlen);

void runs_free(RunSet *set);

/* 1 when the run cannot be used for statistics: status other than "ok", or a NaN accuracy
 * (a diverged model); why (64 bytes) says which. */
int runs_unusable(const Run *r, char why[64]);

/* 0 when configs a and b agree; else 1 with the first differing key and both values in
 * what ("epochs: 4 vs 2"). strict: a key present in only one of them differs. Not strict
 * (the gate: a baseline recorded before an option existed, or after one was removed): such
 * keys are passed over and listed in what ("label (second only)"), empty when none. */
int runs_config_diff(char *what, size_t len, const cJSON *a, const cJSON *b, int strict);

/* Writes v (any JSON value) through w, numbers round-tripping (sim/jsonw.h). */
struct JsonW;
void runs_write_json(struct JsonW *w, const cJSON *v);

/* The integer value of member key of o; dflt when it is absent or not a number in int range. */
int runs_json_int(const cJSON *o, const char *key, int dflt);

/* Reads and parses a JSON file; NULL with "PATH: line L: reason" in err. */
cJSON *runs_read_json(const char *path, char *err, size_t errlen);

#endif
