/* results — the files one run writes (DESIGN.md §4), and how they reach their folder whole.
 *
 * A run is written into a hidden partial folder OUT/.partial-<run-id>/, locked by the process
 * writing it, and renamed to OUT/<run-id> only when summary.json is written: a folder named
 * like a run is always a complete run. After every round the files are synced and a
 * checkpoint (checkpoint.h) records how far they go, so a killed run resumes (--resume) from
 * its last complete round and ends byte-identical to an uninterrupted one. Files:
 *   config.json   the effective config, seed, backend, versions, git revision, dataset hash
 *   curve.csv     one row per round; deterministic (byte-identical for the same command)
 *   rounds.jsonl  one object per round: budget, class counts of the labeled set, the rows
 *                 picked after the round and their labels (round 0 also lists the initial
 *                 set); deterministic
 *   timings.csv   the measured seconds of each phase per round (kept apart: not deterministic)
 *   summary.json  status, AULC, labels-to-target, final metrics
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
#include "sim/session.h"     /* RoundRecord: what a round did */

typedef struct {
    char dir[4096];         /* the final folder OUT/<run-id> */
    char tmp[4096];         /* the partial folder it is written in until finished */
    FILE *curve, *rounds, *timings;
    int force;              /* replace a finished run of the same id */
    int lock_fd;            /* flock on tmp/lock: one process per run */
} Results;

/* What results_open found. */
typedef enum {
    RESULTS_FRESH,          /* a new run: files created with their headers */
    RESULTS_FINISHED,       /* OUT/<run-id> holds a finished run (and no --force): skip it */
    RESULTS_RESUMED,        /* a checkpoint was found and loaded (--resume) */
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
 * [A-Za-z0-9._] of the dataset replaced by '_'; the hash covers the config (config_hash)
 * and the backend, whose rounding differs. out (256 bytes). */
void results_run_id(char out[256], const Config *c, const char *dataset_name,
                    const char *backend, uint64_t seed);

/* Creates OUT (mkdir -p) and the partial folder OUT/.partial-<run-id>/, and locks it.
 * With resume and a checkpoint there: loads it into ck, cuts the files back to the
 * checkpoint's round and reopens them for appending (RESULTS_RESUMED). Otherwise starts the
 * files afresh, discarding what a dead process left (RESULTS_FRESH). A finished run of the
 * same id without force: RESULTS_FINISHED, nothing created. Returns 0; 2 when the checkpoint
 * is damaged; 3 with a reason when OUT cannot be written or another process holds the run. */
int results_open(Results *r, ResultsStart *start, Checkpoint *ck, const char *out,
                 const char *run_id, int force, int resume, char *err, size_t errlen);

/* Writes config.json: the effective config and where the run came from. */
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

/* Writes summary.json, syncs everything and renames the folder into place (replacing a
 * finished run of the same id when force was given). Returns 0, or 3 with a reason (the
 * temporary folder is then removed). */
int results_finish(Results *r, const Summary *s, char *err, size_t errlen);

/* Removes the partial folder and everything in it; safe after results_finish. */
void results_abort(Results *r);

#endif
