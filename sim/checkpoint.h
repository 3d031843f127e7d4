/* checkpoint — what `alsim run --resume` needs to continue a killed run and end byte-identical.
 *
 * Written after every round into the run's partial folder, atomically (temporary file,
 * fsync, rename, fsync of the folder), so a kill at any instant leaves either the previous
 * round's checkpoint or this one, never a torn one. The RNG needs no saved state: every
 * stream is derived afresh from (seed, purpose, round) (rng.h), so the seed and the round
 * are the whole state of every stream. The file is binary, for this machine only, and ends
 * with a SHA-256 of its contents: a damaged file is refused, not trusted.
 *
 * A checkpoint is bound to the run's inputs (CheckpointInputs): the config hash, the SHA-256,
 * sizes and class names of the pool and test sets. `--resume` compares them with the data it
 * has just loaded and refuses a mismatch (checkpoint_check_inputs), so a data file edited
 * between a kill and a resume never continues under the old run's name.
 *
 * Format ALSIMCK4: ALSIMCK3 and, after the model's state, the state a hooked strategy carries
 * across rounds (StrategyHooks.save: opaque bytes beginning with the strategy's own tag and
 * version). An ALSIMCK3 file reads as one with no strategy state (every strategy of that
 * alsim kept none); ALSIMCK2, without the inputs, is refused with a message saying so.
 *
 * The files are read and written relative to an open folder (dirfd) and never through a
 * symbolic link (O_NOFOLLOW): a link planted in a run folder is refused, not followed.
 */
#ifndef ALSIM_CHECKPOINT_H
#define ALSIM_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "datasets/dataset.h"

/* What a run was started on. A checkpoint resumes only the run of the same inputs. */
typedef struct {
    char config_hash[9];        /* config_hash of the run's config */
    char pool_sha256[65];       /* the datasets' content hashes (dataset.h), hex */
    char test_sha256[65];
    int pool_rows, test_rows, features, classes;   /* N, test N, D, K */
    char classes_sha256[65];    /* SHA-256 of the class names in class order, hex */
} CheckpointInputs;

typedef struct {
    uint64_t seed;
    CheckpointInputs inputs;    /* what the run was started on */
    int round;                  /* the last round whose results are complete */
    int n_labeled;
    int *rows;                  /* (n_labeled) labeled pool rows, in labeling order */
    int32_t *labels;            /* (n_labeled) the oracle's answers */
    long queries;
    int64_t off_curve, off_rounds, off_timings;  /* the results files' sizes after `round` */
    int n_curve;
    double *curve_x, *curve_acc;  /* (n_curve) labels and accuracy per round so far */
    double elapsed;             /* seconds the run had taken */
    double last[3];             /* the last round's test accuracy, macro-F1, NLL */
    int diverged;               /* the last round diverged: the run ends there */
    /* The model's state (model.h), when warm-starting (model_bytes == 0 otherwise). */
    size_t model_bytes;
    void *model_state;          /* (model_bytes) */
    /* A hooked strategy's state across rounds (strategy_bytes == 0: none). */
    size_t strategy_bytes;
    void *strategy_state;       /* (strategy_bytes) */
} Checkpoint;

/* in = the inputs of a run of config hash config_hash on pool and test. */
void checkpoint_inputs(CheckpointInputs *in, const char config_hash[9], const Dataset *pool,
                       const Dataset *test);

/* 0 when the checkpoint's inputs (have) are the run's (want); else 2 with one line in err
 * naming what changed: "DATA: changed since the run was checkpointed (SHA-256 NEW, was OLD;
 * pool rows N, were M; ...); ...". data names the dataset (the --dataset spec), test the
 * test file (NULL when the test set is split from the dataset). */
int checkpoint_check_inputs(const CheckpointInputs *have, const CheckpointInputs *want,
                            const char *data, const char *test, char *err, size_t errlen);

/* Writes c to checkpoint.bin in the folder dirfd (named dir in messages) atomically.
 * Returns 0, or 3 with the reason in err. */
int checkpoint_save(int dirfd, const char *dir, const Checkpoint *c, char *err, size_t errlen);

/* Reads checkpoint.bin of the folder dirfd (named dir in messages) into c (allocating its
 * arrays). Returns 0; 1 when there is none; 2 with the reason when it is damaged, a link, or
 * of another format. */
int checkpoint_load(Checkpoint *c, int dirfd, const char *dir, char *err, size_t errlen);

/* Frees the arrays checkpoint_load allocated; accepts a zeroed struct. */
void checkpoint_free(Checkpoint *c);

#endif
