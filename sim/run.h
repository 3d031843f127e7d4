/* run — one active-learning run, (dataset, strategy, seed, config), end to end.
 *
 * The loop of DESIGN.md §1, in run.c, top to bottom in the order data flows:
 *   initial balanced set → oracle → [ fit on the labeled set with the round's budget →
 *   test metrics → score the pool in chunks → top-b → oracle ] × R rounds → summary.
 */
#ifndef ALSIM_RUN_H
#define ALSIM_RUN_H

#include <stdint.h>

#include "datasets/dataset.h"
#include "sim/backend.h"
#include "sim/config.h"

/* Rows of the pool scored per chunk: bounds the memory of MC samples to T·chunk·K floats. */
#define RUN_CHUNK_ROWS 4096

typedef enum {
    RUN_OK = 0,
    RUN_SKIPPED,        /* a finished run of the same id was there */
    RUN_DIVERGED,       /* NaN/Inf in the loss or the probabilities: summary.json says so */
    RUN_INTERRUPTED,    /* SIGINT/SIGTERM: stopped at a round boundary, resumable */
} RunOutcome;

/* Checks cfg against the data: init, batch and rounds must fit the pool. 0, or 2 with the
 * reason in err. */
int run_check_sizes(const Config *cfg, const Dataset *pool, char *err, size_t errlen);

/* Runs cfg on pool/test with one seed on backend be and writes OUT/<run-id>/ (results.h).
 * Checks run_check_sizes first.
 * Returns 0 with *outcome set, or 2 (bad input) / 3 (runtime failure) with a one-line reason
 * in err; on failure nothing that looks like a finished run is left. */
int run_al(RunOutcome *outcome, const Config *cfg, const Dataset *pool, const Dataset *test,
           const Backend *be, uint64_t seed, char *err, size_t errlen);

#endif
