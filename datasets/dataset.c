/* dataset — allocation, the --dataset spec dispatch, subsampling and stratified splits.
 *
 * Loaders that know their size allocate through dataset_alloc(_csr); the streaming file
 * loaders (csv, svmlight, arff, npy) grow their own arrays and hand them over. Split and
 * subsample copy rows only through take_rows (the test part) and keep rows in place with
 * keep_rows (the pool), so a split of a big file costs its test share, not a second copy.
 * See dataset.h for the specs.
 */
#include "datasets/dataset.h"
#include "datasets/loader.h"
#include "datasets/tokens.h"
#include "sim/rng.h"
#include "sim/util.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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
    free(ds->label);
    free_names(ds->dropped, ds->n_dropped);
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
        return ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory for a dataset of %d rows x %d features", n, d);
    }
    return 0;
}

int dataset_alloc_csr(Dataset *ds, int n, int d, int k, int64_t nnz, const char *class_prefix,
                      char *err, size_t errlen) {
    int rc = dataset_alloc(ds, n, 0, k, class_prefix, err, errlen);   /* y and class names */
    if (rc) return rc;
    free(ds->x);
    ds->x = NULL;
    ds->d = d;
    ds->indptr = calloc((size_t)n + 1, sizeof *ds->indptr);
    ds->indices = malloc((nnz > 0 ? (size_t)nnz : 1) * sizeof *ds->indices);
    ds->values = malloc((nnz > 0 ? (size_t)nnz : 1) * sizeof *ds->values);
    if (!ds->indptr || !ds->indices || !ds->values) {
        dataset_free(ds);
        return ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory for a sparse dataset of %d rows and %lld "
                    "nonzeros", n, (long long)nnz);
    }
    return 0;
}

int dataset_set_class_names(Dataset *ds, const char *const *names, char *err, size_t errlen) {
    char **copy = calloc((size_t)ds->k, sizeof *copy);
    int ok = copy != NULL;
    for (int c = 0; ok && c < ds->k; c++) ok = (copy[c] = strdup(names[c])) != NULL;
    if (!ok) {
        free_names(copy, ds->k);
        return ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory for class names");
    }
    free_names(ds->class_names, ds->k);
    ds->class_names = copy;
    return 0;
}

/* Copies src's label fields into out (whose own are empty). Returns 0 or 3. */
static int copy_label_fields(Dataset *out, const Dataset *src, char *err, size_t errlen) {
    out->label_from = src->label_from;
    int ok = !src->label || (out->label = strdup(src->label));
    if (ok && src->n_dropped) {
        ok = (out->dropped = calloc((size_t)src->n_dropped, sizeof *out->dropped)) != NULL;
        if (ok) out->n_dropped = src->n_dropped;
        for (int c = 0; ok && c < src->n_dropped; c++) ok = (out->dropped[c] = strdup(src->dropped[c])) != NULL;
    }
    return ok ? 0 : ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory for class names");
}

/* out = rows (m) of src, in the given order, with src's k, image shape, text_tokens, class names, name,
 * sha256 and label fields. Returns 0 or 3 (out zeroed). */
static int take_rows(Dataset *out, const Dataset *src, const int *rows /*(m)*/, int m,
                     char *err, size_t errlen) {
    int64_t nnz = 0;                     /* CSR (src->x NULL): the rows' nonzeros */
    for (int i = 0; !src->x && i < m; i++) nnz += src->indptr[rows[i] + 1] - src->indptr[rows[i]];
    int rc = src->x ? dataset_alloc(out, m, src->d, src->k, "", err, errlen)
                    : dataset_alloc_csr(out, m, src->d, src->k, nnz, "", err, errlen);
    if (!rc) rc = dataset_set_class_names(out, (const char *const *)src->class_names, err, errlen);
    if (!rc) rc = copy_label_fields(out, src, err, errlen);
    if (rc) { dataset_free(out); return rc; }
    size_t d = (size_t)src->d;
    for (int i = 0; i < m; i++) {
        if (src->x) {
            memcpy(out->x + (size_t)i * d, src->x + (size_t)rows[i] * d, d * sizeof *out->x);
        } else {
            int64_t start = src->indptr[rows[i]], len = src->indptr[rows[i] + 1] - start;
            memcpy(out->indices + out->indptr[i], src->indices + start, (size_t)len * sizeof *out->indices);
            memcpy(out->values + out->indptr[i], src->values + start, (size_t)len * sizeof *out->values);
            out->indptr[i + 1] = out->indptr[i] + len;
        }
        out->y[i] = src->y[rows[i]];
    }
    out->image = src->image;
    out->text_tokens = src->text_tokens;
    memcpy(out->name, src->name, sizeof out->name);
    memcpy(out->sha256, src->sha256, sizeof out->sha256);
    return 0;
}

/* Keeps rows (m, ascending) of ds, in place and in that order (dense or CSR), and gives back
 * the memory of the others. Cannot fail. */
static void keep_rows(Dataset *ds, const int *rows /*(m)*/, int m) {
    size_t d = (size_t)ds->d;
    int64_t nnz = 0;
    for (int i = 0; i < m; i++) {        /* rows[i] >= i: every move goes down, past nothing unread */
        int r = rows[i];
        if (ds->x) {
            memmove(ds->x + (size_t)i * d, ds->x + (size_t)r * d, d * sizeof *ds->x);
        } else {
            int64_t start = ds->indptr[r], len = ds->indptr[r + 1] - start;
            memmove(ds->indices + nnz, ds->indices + start, (size_t)len * sizeof *ds->indices);
            memmove(ds->values + nnz, ds->values + start, (size_t)len * sizeof *ds->values);
            ds->indptr[i] = nnz;
            nnz += len;
        }
        ds->y[i] = ds->y[r];
    }
    ds->n = m;
    void *p;                             /* shrinking: a NULL here just keeps the larger block */
    if (ds->x) {
        if ((p = realloc(ds->x, (m ? (size_t)m * d : 1) * sizeof *ds->x))) ds->x = p;
    } else {
        ds->indptr[m] = nnz;
        if ((p = realloc(ds->indptr, ((size_t)m + 1) * sizeof *ds->indptr))) ds->indptr = p;
        if ((p = realloc(ds->indices, (nnz ? (size_t)nnz : 1) * sizeof *ds->indices))) ds->indices = p;
        if ((p = realloc(ds->values, (nnz ? (size_t)nnz : 1) * sizeof *ds->values))) ds->values = p;
    }
    if ((p = realloc(ds->y, (m ? (size_t)m : 1) * sizeof *ds->y))) ds->y = p;
}

void dataset_class_counts(int *counts, const Dataset *ds) {
    memset(counts, 0, (size_t)ds->k * sizeof *counts);
    for (int i = 0; i < ds->n; i++) counts[ds->y[i]]++;
}

void dataset_print_choices(FILE *f, const Dataset *ds, int quiet) {
    char q[48];
    const char *from = ds->label_from ? ds->label_from : "";
    if (!quiet && !strcmp(from, "last column") && ds->label)
        fprintf(f, "alsim: %s: class column '%s' (the last column; --label NAME picks another)\n", ds->name,
                ld_quote(q, sizeof q, ds->label, strlen(ds->label)));
    else if (!quiet && !strcmp(from, "last column"))
        fprintf(f, "alsim: %s: the class is the last column (no header names it; --label N picks another)\n",
                ds->name);
    else if (!quiet && !strcmp(from, "last attribute"))
        fprintf(f, "alsim: %s: class attribute '%s' (the last attribute; --label NAME picks another)\n", ds->name,
                ds->label ? ld_quote(q, sizeof q, ds->label, strlen(ds->label)) : "");
    if (!ds->n_dropped) return;
    fprintf(f, "alsim: warning: %s: class%s", ds->name, ds->n_dropped > 1 ? "es" : "");
    for (int c = 0; c < ds->n_dropped && c < 10; c++)
        fprintf(f, "%s'%s'", c ? ", " : " ", ld_quote(q, sizeof q, ds->dropped[c], strlen(ds->dropped[c])));
    if (ds->n_dropped > 10) fprintf(f, " and %d more", ds->n_dropped - 10);
    fprintf(f, " of attribute '%s' %s declared but %s no rows: dropped (%d classes remain)\n",
            ds->label ? ld_quote(q, sizeof q, ds->label, strlen(ds->label)) : "",
            ds->n_dropped > 1 ? "are" : "is", ds->n_dropped > 1 ? "have" : "has", ds->k);
}

int dataset_subsample(Dataset *ds, int n, uint64_t seed, char *err, size_t errlen) {
    if (n < 1) return ld_fail(err, errlen, ALSIM_BAD_INPUT, "subsample size %d: must be at least 1", n);
    if (n >= ds->n) return 0;
    int *rows = malloc((size_t)ds->n * sizeof *rows);
    char *keep = calloc((size_t)ds->n, 1);
    if (!rows || !keep) {
        free(rows); free(keep);
        return ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory subsampling %d rows", ds->n);
    }
    for (int i = 0; i < ds->n; i++) rows[i] = i;
    Rng r = rng_stream(seed, RNG_SPLIT, 1);
    rng_shuffle(&r, rows, ds->n);
    for (int i = 0; i < n; i++) keep[rows[i]] = 1;
    int m = 0;
    for (int i = 0; i < ds->n; i++) if (keep[i]) rows[m++] = i;   /* original order */
    free(keep);
    keep_rows(ds, rows, m);
    free(rows);
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
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "test fraction %g: must be in [0, 1]", frac);
    }
    int n = src.n, k = src.k, rc = 0;
    int *counts = malloc((size_t)k * sizeof *counts);
    int *start = malloc(((size_t)k + 1) * sizeof *start);
    int *by_class = malloc((n ? (size_t)n : 1) * sizeof *by_class);  /* rows grouped by class */
    char *to_test = calloc(n ? (size_t)n : 1, 1);
    int *rows = malloc((n ? (size_t)n : 1) * sizeof *rows);
    if (!counts || !start || !by_class || !to_test || !rows) {
        rc = ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory splitting %d rows", n);
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
    rc = take_rows(test, &src, rows + m, n - m, err, errlen);   /* a copy of the test rows... */
    if (!rc) {                                                   /* ...then the pool in place */
        keep_rows(&src, rows, m);
        *pool = src;
        memset(&src, 0, sizeof src);
    }
done:
    free(counts); free(start); free(by_class); free(to_test); free(rows);
    dataset_free(&src);
    if (rc) { dataset_free(pool); dataset_free(test); }
    return rc;
}

int dataset_split_off(Dataset *part, Dataset *ds, int n, uint64_t seed, char *err, size_t errlen) {
    memset(part, 0, sizeof *part);
    const int N = ds->n, k = ds->k;
    if (n < 1 || n >= N)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "a split of %d rows off %d: must be 1..%d", n, N, N - 1);
    int *counts = malloc((size_t)k * sizeof *counts);
    int *start = malloc(((size_t)k + 1) * sizeof *start);
    int *by_class = malloc((size_t)N * sizeof *by_class);   /* rows grouped by class */
    char *to_part = calloc((size_t)N, 1);
    int *rows = malloc((size_t)N * sizeof *rows);
    int rc = 0;
    if (!counts || !start || !by_class || !to_part || !rows) {
        rc = ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory splitting %d rows", N);
        goto done;
    }
    dataset_class_counts(counts, ds);
    start[0] = 0;
    for (int c = 0; c < k; c++) start[c + 1] = start[c] + counts[c];
    for (int c = 0; c < k; c++) counts[c] = 0;
    for (int i = 0; i < N; i++) by_class[start[ds->y[i]] + counts[ds->y[i]]++] = i;
    Rng r = rng_stream(seed, RNG_SPLIT, 2);
    for (int c = 0; c < k; c++) rng_shuffle(&r, by_class + start[c], counts[c]);
    /* Every (N/n)-th row of the class-grouped sequence: n distinct positions (the step is
     * above 1), and a class holding L consecutive positions gets floor or ceil of L·n/N. */
    for (int i = 0; i < n; i++) to_part[by_class[(int)(((double)i + 0.5) * N / n)]] = 1;
    int m = 0;                           /* rows: the rest, then the part, each in order */
    for (int i = 0; i < N; i++) if (!to_part[i]) rows[m++] = i;
    for (int i = 0, j = m; i < N; i++) if (to_part[i]) rows[j++] = i;
    if ((rc = take_rows(part, ds, rows + m, N - m, err, errlen)) == 0) keep_rows(ds, rows, m);
done:
    free(counts); free(start); free(by_class); free(to_part); free(rows);
    return rc;
}

int dataset_split_reward(Dataset *reward, Dataset *pool, int n, uint64_t seed, char *err, size_t errlen) {
    return dataset_split_off(reward, pool, n, rng_key(seed, RNG_SPLIT, 3, 0), err, errlen);
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
    if (!list) return ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory");
    const char *paths[4] = { NULL, NULL, NULL, NULL };
    int np = 0, rc = 0;
    for (char *p = list, *comma; p && !rc; p = comma ? comma + 1 : NULL) {
        comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (np == 4 || !*p) rc = ALSIM_BAD_INPUT;
        else paths[np++] = p;
    }
    if (rc || (np != 2 && np != 4))
        rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "dataset '%s': write idx:IMAGES,LABELS or "
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
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: folder path too long", dir);
        if (stat(buf[i], &st) != 0)
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: no %s in this folder (a dataset folder holds the "
                        "IDX files %s, %s, %s and %s)", dir, mnist_files[i], mnist_files[0],
                        mnist_files[1], mnist_files[2], mnist_files[3]);
        paths[i] = buf[i];
    }
    return dataset_open_idx(pool, test, paths, NULL, dir, split_seed, err, errlen);
}

/* The user's file formats: the spec prefix, the file name endings that select the format
 * without one, the loader, where the labels are when --label does not apply, and where
 * they are taken from without --label (Dataset.label_from). */
typedef int (*FileLoader)(Dataset *train, Dataset *test, const char *path, const char *test_path,
                          const char *label, char *err, size_t errlen);
static const struct {
    const char *prefix;
    const char *endings[4];             /* NULL-terminated */
    FileLoader load;
    const char *labels_in;              /* NULL: --label picks them */
    const char *label_from;
} file_formats[] = {
    { "csv:",      { ".csv", ".tsv", NULL },                 dataset_load_csv,      NULL, "last column" },
    { "svmlight:", { ".svm", ".svmlight", ".libsvm", NULL }, dataset_load_svmlight,
      "the first field of each line", "first field" },
    { "npy:",      { NULL },                                 dataset_load_npy,      "y.npy", "labels file" },
    { "arff:",     { ".arff", NULL },                        dataset_load_arff,     NULL, "last attribute" },
};
enum { N_FILE_FORMATS = sizeof file_formats / sizeof file_formats[0] };

/* The format of spec, by prefix or by file name ending, and the path (after the prefix);
 * -1 when it names no file format. */
static int file_format(const char *spec, const char **path) {
    size_t n = strlen(spec);
    *path = spec;
    for (int f = 0; f < N_FILE_FORMATS; f++) {
        size_t p = strlen(file_formats[f].prefix);
        if (!strncmp(spec, file_formats[f].prefix, p)) { *path = spec + p; return f; }
    }
    for (int f = 0; f < N_FILE_FORMATS; f++)
        for (const char *const *e = file_formats[f].endings; *e; e++)
            if (n > strlen(*e) && !strcmp(spec + n - strlen(*e), *e)) return f;
    return -1;
}

/* The refusal of token rows (--model bert:DIR) for a dataset that is not text. */
#define NOT_TEXT "--model bert:... reads text: spamassassin or a CSV with --text-column"

/* A file dataset of format f at path, with the options: loads, then splits unless o->test. */
static int open_file(Dataset *pool, Dataset *test, int f, const char *path,
                     const DatasetOptions *o, uint64_t split_seed, char *err, size_t errlen) {
    const char *label = o->label && *o->label ? o->label : NULL;
    const char *test_path = o->test && *o->test ? o->test : NULL;
    char name[16];
    snprintf(name, sizeof name, "%.*s", (int)strlen(file_formats[f].prefix) - 1,
             file_formats[f].prefix);                                    /* "csv:" -> "csv" */
    if (label && file_formats[f].labels_in)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "--label applies to csv and arff datasets; %s takes its labels "
                    "from %s", name, file_formats[f].labels_in);
    if (test_path) {
        const char *tp;
        int tf = file_format(test_path, &tp);
        if (tf >= 0 && tf != f)
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "--test '%s' is not in the dataset's format (%s)",
                        test_path, name);
        test_path = tp;
        if (o->test_frac != DATASET_TEST_FRAC)
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "--test-frac and --test: give one (the test set is %s)", tp);
    }
    const char *text = o->text_column && *o->text_column ? o->text_column : NULL;
    if (text && file_formats[f].load != dataset_load_csv)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "--text-column applies to csv datasets (a column of raw "
                       "text), not to %s", name);
    if (o->wp && !text) return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s", NOT_TEXT);
    Dataset all = {0};
    Dataset *loaded = test_path ? pool : &all;
    int rc = text ? dataset_load_csv_text(loaded, test, path, test_path, label, text, o->wp, o->max_tokens,
                                          err, errlen)
                  : file_formats[f].load(loaded, test, path, test_path, label, err, errlen);
    if (rc) return rc;
    loaded->label_from = test->label_from = label ? "--label" : file_formats[f].label_from;
    if (test_path) return 0;
    return dataset_split_stratified(pool, test, &all, o->test_frac, split_seed, err, errlen);
}

/* Sets where pool's and test's labels came from, after a load that returned rc. Returns rc. */
static int labels_from(Dataset *pool, Dataset *test, const char *from, int rc) {
    if (!rc) pool->label_from = test->label_from = from;
    return rc;
}

int dataset_open(Dataset *pool, Dataset *test, const char *spec, uint64_t split_seed,
                 char *err, size_t errlen) {
    return dataset_open_with(pool, test, spec, NULL, split_seed, err, errlen);
}

int dataset_open_with(Dataset *pool, Dataset *test, const char *spec, const DatasetOptions *opt,
                      uint64_t split_seed, char *err, size_t errlen) {
    static const DatasetOptions none = { NULL, NULL, DATASET_TEST_FRAC, NULL, NULL, 0 };
    const DatasetOptions *o = opt ? opt : &none;
    memset(pool, 0, sizeof *pool);
    memset(test, 0, sizeof *test);
    int rc = dataset_tokens_check(o, err, errlen);
    if (rc) return rc;
    const char *path;
    int f = file_format(spec, &path);
    if (f >= 0) return open_file(pool, test, f, path, o, split_seed, err, errlen);
    if (o->text_column && *o->text_column)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "--text-column applies to csv datasets (a column of raw "
                       "text), not to '%s'", spec);
    if ((o->label && *o->label) || (o->test && *o->test) || o->test_frac != DATASET_TEST_FRAC)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "--label, --test and --test-frac apply to data files (csv, "
                    "svmlight, npy, arff), not to '%s'", spec);
    if (o->wp && (strncmp(spec, "synthetic:", 10) == 0 || strncmp(spec, "idx:", 4) == 0))
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s, not '%s'", NOT_TEXT, spec);
    if (strncmp(spec, "synthetic:", 10) == 0) {
        if (strncmp(spec, "synthetic:blobs", 15) == 0 && (spec[15] == '\0' || spec[15] == ':'))
            return labels_from(pool, test, "generated", dataset_synthetic_blobs(pool, test, spec + 15, err, errlen));
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "unknown dataset '%s': the synthetic datasets are "
                    "synthetic:blobs[:k=..,d=..,n=..,test=..,sep=..,seed=..]", spec);
    }
    if (strncmp(spec, "idx:", 4) == 0)
        return labels_from(pool, test, "labels file", open_idx_spec(pool, test, spec, split_seed, err, errlen));
    /* Catalog names first, so that a folder named like one (./mnist) never silently replaces
     * it; such a folder is still reachable as ./mnist. */
    rc = catalog_open_tokens(pool, test, spec, o->wp, o->max_tokens, split_seed, err, errlen);
    if (rc != -1) return labels_from(pool, test, "catalog", rc);
    if (o->wp) return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s, not '%s'", NOT_TEXT, spec);
    struct stat st;
    if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode))
        return labels_from(pool, test, "labels file", open_idx_dir(pool, test, spec, split_seed, err, errlen));
    size_t n = strlen(spec);
    if (n > 4 && !strcmp(spec + n - 4, ".npy"))
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "dataset '%s': a .npy dataset is two files, features and "
                    "labels: npy:X.npy,y.npy", spec);
    if (stat(spec, &st) == 0)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "dataset '%s': a file of unknown format; name it with "
                    "csv:, svmlight: or arff: (or use .csv, .tsv, .svm, .arff)", spec);
    return ld_fail(err, errlen, ALSIM_BAD_INPUT, "unknown dataset '%s': not in the catalog (alsim datasets lists "
                "it), not a folder, not a data file (.csv, .tsv, .svm, .libsvm, .arff, or csv:, "
                "svmlight:, npy:X,Y, arff:), and not synthetic:... or idx:...", spec);
}

int dataset_take_rows(Dataset *out, const Dataset *src, const int *rows, int m,
                      char *err, size_t errlen) {
    return take_rows(out, src, rows, m, err, errlen);
}
