/* fuzz.h — what every parser harness (tests/fuzz/fuzz_*.c, libFuzzer) checks besides the
 * sanitizers: a rejected input gets code 2 or 3 and one non-empty line; an accepted one is a
 * well-formed Dataset (labels in range, finite features, CSR rows ascending within 0..d-1).
 * A violation aborts, so libFuzzer reports it as a crash. */
#ifndef ALSIM_FUZZ_H
#define ALSIM_FUZZ_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "datasets/loader.h"

#define FUZZ_ASSERT(cond) do { if (!(cond)) abort(); } while (0)

/* A loader's verdict rc with message err; ds (NULL: none to check) on success. */
static inline void fuzz_check(int rc, const char *err, const Dataset *ds) {
    if (rc) {
        FUZZ_ASSERT(rc == 2 || rc == 3);
        FUZZ_ASSERT(err[0] && !strchr(err, '\n'));
        return;
    }
    if (!ds) return;
    FUZZ_ASSERT(ds->n >= 1 && ds->d >= 1 && ds->k >= 2 && ds->y && ds->class_names);
    for (int c = 0; c < ds->k; c++)
        FUZZ_ASSERT(ds->class_names[c] && ld_utf8_valid(ds->class_names[c], strlen(ds->class_names[c])));
    for (int i = 0; i < ds->n; i++) FUZZ_ASSERT(ds->y[i] >= 0 && ds->y[i] < ds->k);
    if (ds->x) {
        for (size_t i = 0; i < (size_t)ds->n * (size_t)ds->d; i++) FUZZ_ASSERT(isfinite(ds->x[i]));
        return;
    }
    FUZZ_ASSERT(ds->indptr && ds->indices && ds->values && ds->indptr[0] == 0);
    for (int i = 0; i < ds->n; i++) {
        FUZZ_ASSERT(ds->indptr[i + 1] >= ds->indptr[i]);
        for (int64_t j = ds->indptr[i]; j < ds->indptr[i + 1]; j++) {
            FUZZ_ASSERT(ds->indices[j] >= 0 && ds->indices[j] < ds->d && isfinite(ds->values[j]));
            FUZZ_ASSERT(j == ds->indptr[i] || ds->indices[j] > ds->indices[j - 1]);
        }
    }
}

#endif
