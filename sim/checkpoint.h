/* checkpoint — what `alsim run --resume` needs to continue a killed run and end byte-identical.
 *
 * Written after every round into the run's partial folder, atomically (temporary file,
 * fsync, rename, fsync of the folder), so a kill at any instant leaves either the previous
 * round's checkpoint or this one, never a torn one. The RNG needs no saved state: every
 * stream is derived afresh from (seed, purpose, round) (rng.h), so the seed and the round
 * are the whole state of every stream. The file is binary, for this machine only, and ends
 * with a SHA-256 of its contents: a damaged file is refused, not trusted.
 */
#ifndef ALSIM_CHECKPOINT_H
#define ALSIM_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t seed;
    char config_hash[9];        /* the run's config hash: a checkpoint resumes only its run */
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
} Checkpoint;

/* Writes c to DIR/checkpoint.bin atomically. Returns 0, or 3 with the reason in err. */
int checkpoint_save(const char *dir, const Checkpoint *c, char *err, size_t errlen);

/* Reads DIR/checkpoint.bin into c (allocating its arrays). Returns 0; 1 when there is none;
 * 2 with the reason when it is damaged or not this version. */
int checkpoint_load(Checkpoint *c, const char *dir, char *err, size_t errlen);

/* Frees the arrays checkpoint_load allocated; accepts a zeroed struct. */
void checkpoint_free(Checkpoint *c);

#endif
