/* results — the files one run writes (DESIGN.md §4), and how they reach their folder whole.
 *
 * A run is written into a hidden partial folder OUT/.partial-<run-id>/, locked by the process
 * writing it, and renamed to OUT/<run-id> only when summary.json is written: a folder named
 * like a run is always a complete run. After every round the files are synced and a
 * checkpoint (checkpoint.h) records how far they go, so a killed run resumes (--resume) from
 * its last complete round and ends byte-identical to an uninterrupted one. Files:
 *   config.json   the effective config, seed, backend, versions, git revision, dataset hash
 *   curve.csv     one row per round; deterministic (byte-identical for the same command);
 *                 with --val-size three more columns at the end, val_accuracy, val_macro_f1
 *                 and val_nll (appended: readers find columns by name)
 *   rounds.jsonl  one object per round: budget, class counts of the labeled set, the rows
 *                 picked after the round and their labels (round 0 also lists the initial
 *                 set), the rows scored ("subset", with --pool-subset), the validation
 *                 metrics ("val", with --val-size); deterministic
 *   timings.csv   the measured seconds of each phase per round (kept apart: not deterministic)
 *   summary.json  status, AULC, labels-to-target, final metrics
 *
 * Links are never followed below OUT: the run and partial folders are reached from an open
 * descriptor of OUT (openat, O_NOFOLLOW), and a symbolic link (or a file) where either folder
 * should be is refused with exit 2, naming it. --force replaces only a real folder that holds
 * nothing but run files; anything else in it is refused before the run starts, and nothing
 * is removed.
 */
#ifndef ALSIM_RESULTS_H
#define ALSIM_RESULTS_H

#include <stdint.h>
#include <stdio.h>

#include "datasets/dataset.h"
#include "sim/budget.h"
#include "sim/checkpoint.h"
#include "sim/config.h"
#include "sim/metrics.h"
#include "sim/engine.h"     /* RoundRecord: what a round did */

typedef struct {
    char dir[4096];         /* the final folder OUT/<run-id> (for messages) */
    char tmp[4096];         /* the partial folder it is written in until finished; "" when
                               none is held */
    char id[256];           /* <run-id> */
    int root_fd;            /* OUT, open: both folders are reached from it alone */
    int tmp_fd;             /* the partial folder, open */
    FILE *curve, *rounds, *timings;
    int force;              /* replace a finished run of the same id */
    int lock_fd;            /* flock on tmp/lock: one process per run */
} Results;

/* What results_open found. */
typedef enum {
    RESULTS_FRESH,          /* a new run: files created with their headers */
    RESULTS_FINISHED,       /* OUT/<run-id> holds a finished run (and no --force): skip it */
    RESULTS_RESUMED,        /* a checkpoint was found and loaded (--resume): continue with
                               results_resume, or results_suspend to leave it as it is */
} ResultsStart;


typedef struct {
    const char *status;     /* "ok", "diverged", "failed" */
    int rounds_done;        /* rows in curve.csv */
    double aulc;            /* normalised, over accuracy against labels */
    double target, labels_to_target;   /* -1 when not reached; target 0: not asked */
    Metrics final;
    int final_labeled;
    long queries;
    double seconds;
} Summary;

/* The folder name of a run: <dataset>-<model>-<strategy>-seed<seed>-<hash>, with characters outside
 * [A-Za-z0-9._] of the dataset and the model replaced by '_' (--model bert:DIR is "bert_" and the
 * folder's own name); the hash covers the config (config_hash) and the backend, whose rounding
 * differs. out (256 bytes). */
void results_run_id(char out[256], const Config *c, const char *dataset_name,
                    const char *backend, uint64_t seed);

/* Creates OUT (mkdir -p) and the partial folder OUT/.partial-<run-id>/, and locks it; val: the
 * run measures a validation set (--val-size), so curve.csv has its columns.
 * With resume (and not force) and a checkpoint there: loads it into ck and touches nothing
 * else (RESULTS_RESUMED; the caller checks it, then calls results_resume). Otherwise starts
 * the files afresh, discarding what a dead process left (RESULTS_FRESH). A finished run of
 * the same id without force: RESULTS_FINISHED, nothing created. Returns 0; 2 when the
 * checkpoint is damaged, or a link or a file stands where a run or partial folder should, or
 * (force) the finished folder holds other files than a run's; 3 with a reason when OUT
 * cannot be written or another process holds the run. */
int results_open(Results *r, ResultsStart *start, Checkpoint *ck, const char *out,
                 const char *run_id, int val, int force, int resume, char *err, size_t errlen);

/* After RESULTS_RESUMED: cuts the files back to the checkpoint ck's round and reopens them
 * for appending. Returns 0, or 3 with a reason (r is then suspended). */
int results_resume(Results *r, const Checkpoint *ck, char *err, size_t errlen);

/* Writes config.json: the effective config and where the run came from. Its "dataset"
 * object: name, sha256, pool_rows, test_rows, features, classes (the class names in id
 * order), label (the class column's or attribute's name, or null), label_from (how the
 * labels were found: "--label", "last column", "last attribute", "first field",
 * "labels file", "catalog", "generated"; see Dataset) and dropped_classes (declared classes
 * without rows, left out). The "dataset" object is not part of the run id's hash. */
int results_write_config(Results *r, const Config *c, uint64_t seed, const char *backend,
                         const Dataset *pool, const Dataset *test, char *err, size_t errlen);

/* Appends one round to curve.csv, rounds.jsonl and timings.csv. */
void results_round(Results *r, const RoundRecord *rec);

/* Syncs the files and writes ck, with the files' sizes filled in, atomically into the partial
 * folder. Returns 0, or 3 with a reason (disk full: the previous checkpoint stays valid). */
int results_checkpoint(Results *r, Checkpoint *ck, char *err, size_t errlen);

/* Stops writing but keeps the partial folder for --resume: closes the files, releases the
 * lock. */
void results_suspend(Results *r);

/* Writes summary.json, syncs everything and renames the folder into place (with force,
 * exchanging it with a finished run of the same id, which is then removed: only its run
 * files, only when it holds nothing else). Returns 0, or 3 with a reason (the temporary
 * folder is then removed). */
int results_finish(Results *r, const Summary *s, char *err, size_t errlen);

/* Removes the partial folder and everything in it; safe after results_finish. */
void results_abort(Results *r);

#endif
