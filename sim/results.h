/* results — the files one run writes (DESIGN.md §4), and how they reach their folder whole.
 *
 * A run is written into a hidden temporary folder OUT/.tmp-<run-id>-<pid> and renamed to
 * OUT/<run-id> only when summary.json is written: a folder named like a run is always a
 * complete run. Files:
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
#include "sim/config.h"
#include "sim/metrics.h"

typedef struct {
    char dir[4096];         /* the final folder OUT/<run-id> */
    char tmp[4096];         /* where it is written until finished */
    FILE *curve, *rounds, *timings;
    int force;              /* replace a finished run of the same id */
} Results;

typedef struct {
    int round, n_labeled;
    Metrics test;
    double train_loss;
    Ledger ledger;          /* budget and measured seconds */
    const int *class_counts;        /* (K) labels of each class in the labeled set */
    int k;
    const int *initial;             /* (n_initial) the seed set, in round 0; NULL after */
    int n_initial;
    const int *picked;              /* (n_picked) rows queried after this round, best first */
    const int32_t *picked_labels;   /* (n_picked) the oracle's answers */
    int n_picked;
    long queries;                   /* oracle queries so far, these included */
} RoundRecord;

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

/* The folder name of a run: <dataset>-<strategy>-seed<seed>-<config hash>, with characters
 * outside [A-Za-z0-9._] of the dataset replaced by '_'. out (256 bytes). */
void results_run_id(char out[256], const Config *c, const char *dataset_name, uint64_t seed);

/* Creates OUT (mkdir -p) and the temporary folder, and opens the files with their headers.
 * Returns 0; 1 when OUT/<run-id> already holds a finished run and force is off (nothing
 * created; skip it); 3 with a reason when OUT cannot be written. */
int results_open(Results *r, const char *out, const char *run_id, int force,
                 char *err, size_t errlen);

/* Writes config.json: the effective config and where the run came from. */
int results_write_config(Results *r, const Config *c, uint64_t seed, const char *backend,
                         const Dataset *pool, const Dataset *test, char *err, size_t errlen);

/* Appends one round to curve.csv, rounds.jsonl and timings.csv. */
void results_round(Results *r, const RoundRecord *rec);

/* Writes summary.json, syncs everything and renames the folder into place (replacing a
 * finished run of the same id when force was given). Returns 0, or 3 with a reason (the
 * temporary folder is then removed). */
int results_finish(Results *r, const Summary *s, char *err, size_t errlen);

/* Removes the temporary folder and everything in it; safe after results_finish. */
void results_abort(Results *r);

#endif
