/* dataset — allocation, the --dataset spec dispatch, subsampling and stratified splits.
 *
 * Every loader allocates through dataset_alloc, and subsample/split copy rows through
 * take_rows, so a Dataset is built in exactly one way. See dataset.h for the specs.
 */
#include "datasets/dataset.h"
#include "sim/rng.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int fail(char *err, size_t errlen, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

static void free_names(char **names, int k) {
    if (!names) return;
    for (int c = 0; c < k; c++) free(names[c]);
    free(names);
}

void dataset_free(Dataset *ds) {
    free(ds->x);
    free(ds->indptr);
    free(ds->indices);
    free(ds->values);
    free(ds->y);
    free_names(ds->class_names, ds->k);
    memset(ds, 0, sizeof *ds);
}

int dataset_alloc(Dataset *ds, int n, int d, int k, const char *class_prefix,
                  char *err, size_t errlen) {
    memset(ds, 0, sizeof *ds);
    size_t nx = (size_t)n * (size_t)d;
    ds->x = malloc((nx ? nx : 1) * sizeof *ds->x);           /* never malloc(0): NULL is OOM */
    ds->y = malloc((n ? (size_t)n : 1) * sizeof *ds->y);
    ds->class_names = calloc((size_t)k, sizeof *ds->class_names);
    int ok = ds->x && ds->y && ds->class_names;
    for (int c = 0; ok && c < k; c++) {
        size_t len = strlen(class_prefix) + 12;
        ds->class_names[c] = malloc(len);
        if (ds->class_names[c]) snprintf(ds->class_names[c], len, "%s%d", class_prefix, c);
        else ok = 0;
    }
    ds->n = n; ds->d = d; ds->k = k;
    if (!ok) {
        dataset_free(ds);
        return fail(err, errlen, 3, "out of memory for a dataset of %d rows x %d features", n, d);
    }
    return 0;
}

int dataset_set_class_names(Dataset *ds, const char *const *names, char *err, size_t errlen) {
    char **copy = calloc((size_t)ds->k, sizeof *copy);
    int ok = copy != NULL;
    for (int c = 0; ok && c < ds->k; c++) ok = (copy[c] = strdup(names[c])) != NULL;
    if (!ok) {
        free_names(copy, ds->k);
        return fail(err, errlen, 3, "out of memory for class names");
    }
    free_names(ds->class_names, ds->k);
    ds->class_names = copy;
    return 0;
}

/* out = rows (m) of src, in the given order, with src's k, class names, name and sha256.
 * Returns 0 or 3 (out zeroed). */
static int take_rows(Dataset *out, const Dataset *src, const int *rows /*(m)*/, int m,
                     char *err, size_t errlen) {
    int rc = dataset_alloc(out, m, src->d, src->k, "", err, errlen);
    if (!rc) rc = dataset_set_class_names(out, (const char *const *)src->class_names, err, errlen);
    if (rc) { dataset_free(out); return rc; }
    size_t d = (size_t)src->d;
    for (int i = 0; i < m; i++) {
        memcpy(out->x + (size_t)i * d, src->x + (size_t)rows[i] * d, d * sizeof *out->x);
        out->y[i] = src->y[rows[i]];
    }
    memcpy(out->name, src->name, sizeof out->name);
    memcpy(out->sha256, src->sha256, sizeof out->sha256);
    return 0;
}

void dataset_class_counts(int *counts, const Dataset *ds) {
    memset(counts, 0, (size_t)ds->k * sizeof *counts);
    for (int i = 0; i < ds->n; i++) counts[ds->y[i]]++;
}

int dataset_subsample(Dataset *ds, int n, uint64_t seed, char *err, size_t errlen) {
    if (n < 1) return fail(err, errlen, 2, "subsample size %d: must be at least 1", n);
    if (n >= ds->n) return 0;
    int *rows = malloc((size_t)ds->n * sizeof *rows);
    char *keep = calloc((size_t)ds->n, 1);
    if (!rows || !keep) {
        free(rows); free(keep);
        return fail(err, errlen, 3, "out of memory subsampling %d rows", ds->n);
    }
    for (int i = 0; i < ds->n; i++) rows[i] = i;
    Rng r = rng_stream(seed, RNG_SPLIT, 1);
    rng_shuffle(&r, rows, ds->n);
    for (int i = 0; i < n; i++) keep[rows[i]] = 1;
    int m = 0;
    for (int i = 0; i < ds->n; i++) if (keep[i]) rows[m++] = i;   /* original order */
    free(keep);
    Dataset out;
    int rc = take_rows(&out, ds, rows, m, err, errlen);
    free(rows);
    if (rc) return rc;
    dataset_free(ds);
    *ds = out;
    return 0;
}

int dataset_split_stratified(Dataset *pool, Dataset *test, Dataset *all, double frac,
                             uint64_t seed, char *err, size_t errlen) {
    Dataset src = *all;                  /* take ownership first: pool or test may alias all */
    memset(all, 0, sizeof *all);
    memset(pool, 0, sizeof *pool);
    memset(test, 0, sizeof *test);
    if (!(frac >= 0 && frac <= 1)) {
        dataset_free(&src);
        return fail(err, errlen, 2, "test fraction %g: must be in [0, 1]", frac);
    }
    int n = src.n, k = src.k, rc = 0;
    int *counts = malloc((size_t)k * sizeof *counts);
    int *start = malloc(((size_t)k + 1) * sizeof *start);
    int *by_class = malloc((n ? (size_t)n : 1) * sizeof *by_class);  /* rows grouped by class */
    char *to_test = calloc(n ? (size_t)n : 1, 1);
    int *rows = malloc((n ? (size_t)n : 1) * sizeof *rows);
    if (!counts || !start || !by_class || !to_test || !rows) {
        rc = fail(err, errlen, 3, "out of memory splitting %d rows", n);
        goto done;
    }
    dataset_class_counts(counts, &src);
    start[0] = 0;
    for (int c = 0; c < k; c++) start[c + 1] = start[c] + counts[c];
    for (int c = 0; c < k; c++) counts[c] = 0;
    for (int i = 0; i < n; i++) by_class[start[src.y[i]] + counts[src.y[i]]++] = i;

    Rng r = rng_stream(seed, RNG_SPLIT, 0);
    for (int c = 0; c < k; c++) {        /* one stream, classes in order: deterministic */
        int *cls = by_class + start[c];
        int t = (int)lround(frac * counts[c]);
        rng_shuffle(&r, cls, counts[c]);
        for (int j = 0; j < t; j++) to_test[cls[j]] = 1;
    }
    int m = 0;                           /* rows: pool rows, then test rows, each in order */
    for (int i = 0; i < n; i++) if (!to_test[i]) rows[m++] = i;
    for (int i = 0, j = m; i < n; i++) if (to_test[i]) rows[j++] = i;
    rc = take_rows(pool, &src, rows, m, err, errlen);
    if (!rc) rc = take_rows(test, &src, rows + m, n - m, err, errlen);
done:
    free(counts); free(start); free(by_class); free(to_test); free(rows);
    dataset_free(&src);
    if (rc) { dataset_free(pool); dataset_free(test); }
    return rc;
}

/* The four MNIST-style file names, in dataset_open_idx's order. */
static const char *const mnist_files[4] = {
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
};

/* idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS] (paths cannot contain commas). */
static int open_idx_spec(Dataset *pool, Dataset *test, const char *spec, uint64_t split_seed,
                         char *err, size_t errlen) {
    char *list = strdup(spec + 4);
    if (!list) return fail(err, errlen, 3, "out of memory");
    const char *paths[4] = { NULL, NULL, NULL, NULL };
    int np = 0, rc = 0;
    for (char *p = list, *comma; p && !rc; p = comma ? comma + 1 : NULL) {
        comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (np == 4 || !*p) rc = 2;
        else paths[np++] = p;
    }
    if (rc || (np != 2 && np != 4))
        rc = fail(err, errlen, 2, "dataset '%s': write idx:IMAGES,LABELS or "
                  "idx:IMAGES,LABELS,TEST_IMAGES,TEST_LABELS (IDX file paths)", spec);
    else
        rc = dataset_open_idx(pool, test, paths, NULL, spec, split_seed, err, errlen);
    free(list);
    return rc;
}

/* A folder of MNIST-style files. */
static int open_idx_dir(Dataset *pool, Dataset *test, const char *dir, uint64_t split_seed,
                        char *err, size_t errlen) {
    char buf[4][4096];
    const char *paths[4];
    for (int i = 0; i < 4; i++) {
        struct stat st;
        int len = snprintf(buf[i], sizeof buf[i], "%s/%s", dir, mnist_files[i]);
        if (len < 0 || (size_t)len >= sizeof buf[i])
            return fail(err, errlen, 2, "%s: folder path too long", dir);
        if (stat(buf[i], &st) != 0)
            return fail(err, errlen, 2, "%s: no %s in this folder (a dataset folder holds the "
                        "IDX files %s, %s, %s and %s)", dir, mnist_files[i], mnist_files[0],
                        mnist_files[1], mnist_files[2], mnist_files[3]);
        paths[i] = buf[i];
    }
    return dataset_open_idx(pool, test, paths, NULL, dir, split_seed, err, errlen);
}

int dataset_open(Dataset *pool, Dataset *test, const char *spec, uint64_t split_seed,
                 char *err, size_t errlen) {
    memset(pool, 0, sizeof *pool);
    memset(test, 0, sizeof *test);
    if (strncmp(spec, "synthetic:", 10) == 0) {
        if (strncmp(spec, "synthetic:blobs", 15) == 0 && (spec[15] == '\0' || spec[15] == ':'))
            return dataset_synthetic_blobs(pool, test, spec + 15, err, errlen);
        return fail(err, errlen, 2, "unknown dataset '%s': the synthetic datasets are "
                    "synthetic:blobs[:k=..,d=..,n=..,test=..,sep=..,seed=..]", spec);
    }
    if (strncmp(spec, "idx:", 4) == 0)
        return open_idx_spec(pool, test, spec, split_seed, err, errlen);
    /* Catalog names first, so that a folder named like one (./mnist) never silently replaces
     * it; such a folder is still reachable as ./mnist. */
    int rc = catalog_open(pool, test, spec, split_seed, err, errlen);
    if (rc != -1) return rc;
    struct stat st;
    if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode))
        return open_idx_dir(pool, test, spec, split_seed, err, errlen);
    return fail(err, errlen, 2, "unknown dataset '%s': not in the catalog (alsim datasets lists "
                "it), not a folder, and not synthetic:... or idx:...", spec);
}
