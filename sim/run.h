/* run — `alsim run` for one (dataset, strategy, seed, config): the session (engine.h) driven
 * round by round into a run folder OUT/<run-id>/ (results.h), checkpointed after every round so
 * that a killed run resumes (--resume) and ends byte-identical to an uninterrupted one.
 */
#ifndef ALSIM_RUN_H
#define ALSIM_RUN_H

#include <stdint.h>

#include "datasets/dataset.h"
#include "sim/backend.h"
#include "sim/config.h"

typedef enum {
    RUN_OK = 0,
    RUN_SKIPPED,        /* a finished run of the same id was there */
    RUN_DIVERGED,       /* NaN/Inf in the loss or the probabilities: summary.json says so */
    RUN_INTERRUPTED,    /* SIGINT/SIGTERM: stopped at a round boundary, resumable */
} RunOutcome;

/* Runs cfg on pool/test with one seed on backend be and writes OUT/<run-id>/ (results.h);
 * val (--val-size rows split off the pool; may be empty) is measured every round too
 * (session_set_val); reward (--reward-size rows split off the pool; may be empty) is a
 * look-ahead strategy's reward split (session_set_reward). Checks the sizes and the test set first (session_check_sizes,
 * session_check_test). Returns 0 with *outcome set, or 2 (bad input) / 3 (runtime failure)
 * with a one-line reason in err; on failure nothing that looks like a finished run is left. */
int run_al(RunOutcome *outcome, const Config *cfg, const Dataset *pool, const Dataset *test,
           const Dataset *val, const Dataset *reward, const Backend *be, uint64_t seed, char *err,
           size_t errlen);

#endif
