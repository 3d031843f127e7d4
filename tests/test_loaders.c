/* test_loaders — the user's file formats (CSV, svmlight, .npy, ARFF): valid files load with
 * the right shapes, values, class names and order; options (--label, --test, --test-frac) and
 * specs; the malformed corpus (tests/corpus/{csv,svmlight,npy,arff}/) is refused with code 2
 * and one line naming the file and a line or byte; the memory entry points the fuzzers use
 * agree with the file loaders; splits and subsets of CSR data.
 * Run from the repository root (it reads tests/corpus/). Needs no network. */
#include "datasets/dataset.h"
#include "datasets/loader.h"
#include "sim/signals.h"
#include "sim/util.h"
#include "tests/check.h"

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define C "tests/corpus/"

static char tmpdir[256];

typedef int (*Loader)(Dataset *, Dataset *, const char *, const char *, const char *, char *, size_t);

static int one_line(const char *err) { return err[0] && !strchr(err, '\n'); }

static int zeroed(const Dataset *ds) {
    static const Dataset z;
    return !memcmp(ds, &z, sizeof z);
}

/* rc 2, one line naming path and a line or byte, outputs zeroed. */
static void check_refused(int rc, const char *err, const char *path, const Dataset *a,
                          const Dataset *b, const char *what) {
    CHECK(rc == 2, "%s: rc %d, want 2 (%s)", what, rc, err);
    CHECK(strstr(err, path) && (strstr(err, ": line ") || strstr(err, ": byte ")) && one_line(err),
          "%s: message '%s' must name %s and a line or byte, on one line", what, err, path);
    CHECK(zeroed(a) && zeroed(b), "%s: datasets not zeroed on failure", what);
}

static char *tmp_path(const char *name) {
    static char buf[8][512];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static const char *write_tmp(const char *name, const void *data, size_t n) {
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    if (f) { fwrite(data, 1, n, f); fclose(f); }
    return path;
}

static const char *write_text(const char *name, const char *text) {
    return write_tmp(name, text, strlen(text));
}

static int read_all(const char *path, char **buf, size_t *len) {
    uint8_t *b;
    char err[256];
    int rc = ld_read_file(&b, len, NULL, path, err, sizeof err);
    *buf = (char *)b;
    return rc;
}

/* A version 1.0 .npy file: descr (quoted), shape (a tuple), the raw data (n bytes). */
static const char *write_npy(const char *name, const char *descr, const char *shape,
                             const void *data, size_t n) {
    char file[512];
    int hl = snprintf(file + 10, 400, "{'descr': %s, 'fortran_order': False, 'shape': %s, }\n",
                      descr, shape);
    memcpy(file, "\x93NUMPY\x01\x00", 8);
    file[8] = (char)hl;
    file[9] = 0;
    memcpy(file + 10 + hl, data, n);
    return write_tmp(name, file, 10 + (size_t)hl + n);
}

/* Same rows (dense or CSR), labels, classes and hash. */
static int same_data(const Dataset *a, const Dataset *b) {
    if (a->n != b->n || a->d != b->d || a->k != b->k || strcmp(a->sha256, b->sha256)) return 0;
    if ((a->x == NULL) != (b->x == NULL)) return 0;
    if (memcmp(a->y, b->y, (size_t)a->n * sizeof *a->y)) return 0;
    for (int c = 0; c < a->k; c++) if (strcmp(a->class_names[c], b->class_names[c])) return 0;
    if (a->x) return !memcmp(a->x, b->x, (size_t)a->n * (size_t)a->d * sizeof *a->x);
    size_t nnz = (size_t)a->indptr[a->n];
    return !memcmp(a->indptr, b->indptr, ((size_t)a->n + 1) * sizeof *a->indptr) &&
           !memcmp(a->indices, b->indices, nnz * sizeof *a->indices) &&
           !memcmp(a->values, b->values, nnz * sizeof *a->values);
}

/* ---- the malformed corpus ---- */

/* The corpus files of dir (ok-* too when with_ok; never README or hidden files): *n names,
 * each malloc'd, in a malloc'd array. */
static char **corpus_files(const char *dir, int with_ok, int *n) {
    DIR *d = opendir(dir);
    CHECK(d != NULL, "cannot open %s (run from the repository root)", dir);
    char **names = NULL;
    *n = 0;
    for (struct dirent *de; d && (de = readdir(d));) {
        const char *name = de->d_name;
        if (name[0] == '.' || !strcmp(name, "README") || (!with_ok && !strncmp(name, "ok-", 3))) continue;
        char **more = realloc(names, (size_t)(*n + 1) * sizeof *names);
        if (!more) break;
        names = more;
        names[(*n)++] = strdup(name);
    }
    if (d) closedir(d);
    return names;
}

static void free_names(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* Every malformed file of a text format's folder: alone, or as --test of ok (test-*). */
static void corpus_text(const char *dir, Loader load, const char *ok, int min) {
    int n;
    char **names = corpus_files(dir, 0, &n);
    for (int i = 0; i < n; i++) {
        char path[512], err[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        Dataset tr, te;
        int rc = !strncmp(names[i], "test-", 5) ? load(&tr, &te, ok, path, NULL, err, sizeof err)
                                                : load(&tr, &te, path, NULL, NULL, err, sizeof err);
        check_refused(rc, err, path, &tr, &te, path);
    }
    CHECK(n >= min, "only %d malformed files in %s", n, dir);
    free_names(names, n);
}

/* Every malformed .npy file, as features, labels or both (see the corpus README). */
static void corpus_npy(void) {
    const char *dir = C "npy", *X = C "npy/ok-X.npy", *Y = C "npy/ok-y.npy";
    int n;
    char **names = corpus_files(dir, 0, &n);
    for (int i = 0; i < n; i++) {
        const char *name = names[i];
        char path[512], spec[1200], train[1200], err[512];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        snprintf(train, sizeof train, "%s,%s", X, Y);
        int as_x = strncmp(name, "labels-", 7) != 0 && strncmp(name, "test-y-", 7) != 0;
        int as_y = strncmp(name, "features-", 9) != 0 && strncmp(name, "test-X-", 7) != 0;
        int is_test = !strncmp(name, "test-", 5);
        for (int as = 0; as < 2; as++) {
            if (!(as ? as_y : as_x)) continue;
            if (as) snprintf(spec, sizeof spec, "%s,%s", X, path);
            else snprintf(spec, sizeof spec, "%s,%s", path, Y);
            Dataset tr, te;
            int rc = is_test ? dataset_load_npy(&tr, &te, train, spec, NULL, err, sizeof err)
                             : dataset_load_npy(&tr, &te, spec, NULL, NULL, err, sizeof err);
            check_refused(rc, err, path, &tr, &te, spec);
        }
    }
    CHECK(n >= 30, "only %d malformed files in %s", n, dir);
    free_names(names, n);
}

/* --label on valid files: the line and the reason. (Each malformed file's own message is in
 * tests/corpus/MANIFEST, checked through the command line by tests/e2e_corpus.sh.) */
static void label_messages(void) {
    static const struct { Loader load; const char *file, *label, *want; } cases[] = {
        { dataset_load_csv, C "csv/ok-header.csv", "sepal_width", "line 2: column 4 ('species'): 'setosa' is not a number" },
        { dataset_load_csv, C "csv/ok-header.csv", "nope", "line 1: --label 'nope': no such column" },
        { dataset_load_csv, C "csv/ok-header.csv", "4", "line 1: --label 4: the file has 4 columns" },
        { dataset_load_arff, C "arff/ok-iris.arff", "sepalwidth", "line 5: attribute 'sepalwidth' is numeric" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Dataset tr, te;
        char err[512];
        int rc = cases[i].load(&tr, &te, cases[i].file, NULL, cases[i].label, err, sizeof err);
        CHECK(rc == 2 && strstr(err, cases[i].want) && strstr(err, cases[i].file),
              "%s: rc %d '%s', want '%s'", cases[i].file, rc, err, cases[i].want);
    }
}

/* ---- valid files ---- */

static void test_csv(void) {
    Dataset tr, te, t2, t3;
    char err[512];
    int rc = dataset_load_csv(&tr, &te, C "csv/ok-header.csv", NULL, NULL, err, sizeof err);
    CHECK(rc == 0, "ok-header: %s", err);
    if (rc) return;
    CHECK(tr.n == 30 && tr.d == 3 && tr.k == 3 && tr.x && zeroed(&te), "shape %d x %d, k %d", tr.n, tr.d, tr.k);
    CHECK(!strcmp(tr.class_names[0], "setosa") && !strcmp(tr.class_names[1], "versicolor") &&
          !strcmp(tr.class_names[2], "virginica, var. 2"), "class names");
    CHECK(tr.x[0] == 4.0f && tr.x[1] == 3.0f && tr.x[2] == 1.0f && tr.y[0] == 0 && tr.y[2] == 2, "row 0");
    CHECK(!strcmp(tr.name, "ok-header.csv") && strlen(tr.sha256) == 64, "name '%s'", tr.name);
    CHECK(tr.label && !strcmp(tr.label, "species"), "the class column's name kept: '%s'", tr.label ? tr.label : "(none)");
    /* The class column by name, by index, from the end: the same data. */
    static const char *same[] = { "species", "3", "-1" };
    for (int i = 0; i < 3; i++) {
        rc = dataset_load_csv(&t2, &t3, C "csv/ok-header.csv", NULL, same[i], err, sizeof err);
        CHECK(rc == 0 && same_data(&tr, &t2), "--label %s: rc %d %s", same[i], rc, err);
        dataset_free(&t2);
    }
    /* A fixed test file: the classes are the training ones; both hashed together. */
    rc = dataset_load_csv(&t2, &t3, C "csv/ok-header.csv", C "csv/ok-header.csv", NULL, err, sizeof err);
    CHECK(rc == 0 && t3.n == 30 && t3.k == 3 && !memcmp(t3.y, tr.y, 30 * sizeof *tr.y), "--test: %s", err);
    CHECK(rc == 0 && strcmp(t2.sha256, tr.sha256) && !strcmp(t2.sha256, t3.sha256), "--test hash");
    dataset_free(&t2); dataset_free(&t3);

    rc = dataset_load_csv(&t2, &t3, C "csv/ok-noheader.csv", NULL, "0", err, sizeof err);
    CHECK(rc == 0 && t2.n == 20 && t2.d == 2 && t2.k == 2 && !strcmp(t2.class_names[1], "2"), "noheader: %s", err);
    CHECK(rc == 0 && t2.label == NULL, "noheader: the class column has no name");
    CHECK(rc == 0 && t2.x[0] == 0.5f && t2.x[1] == -0.25f && t2.x[3] == -3.25f && t2.y[1] == 1, "noheader values (CRLF)");
    dataset_free(&t2);
    rc = dataset_load_csv(&t2, &t3, C "csv/ok-tabs.tsv", NULL, NULL, err, sizeof err);
    CHECK(rc == 0 && t2.n == 20 && t2.d == 2 && t2.k == 2 && t2.x[2] == 5.0f && t2.x[3] == 1.0f, ".tsv: %s", err);
    dataset_free(&t2);

    /* Header detection, a BOM, integer labels compared as numbers and sorted by value. */
    const char *p = write_text("num-header.csv", "0,1,label\n1.5,2,10\n3,4,+9\n5,6,09\n7,8,-1\n");
    rc = dataset_load_csv(&t2, &t3, p, NULL, NULL, err, sizeof err);
    CHECK(rc == 0 && t2.n == 4 && t2.k == 3, "numeric header: rc %d n %d k %d %s", rc, t2.n, t2.k, err);
    CHECK(rc == 0 && t2.label && !strcmp(t2.label, "label"), "numeric header: the class column is 'label'");
    if (!rc) CHECK(!strcmp(t2.class_names[0], "-1") && !strcmp(t2.class_names[1], "9") &&
                   !strcmp(t2.class_names[2], "10") && t2.y[1] == 1 && t2.y[2] == 1, "integer order");
    dataset_free(&t2);
    /* A CSV class column of decimals: 0.5 and .50 are one class, sorted by value (2 after 0.5). */
    p = write_text("decimal-labels.csv", "a,label\n1,2.0\n2,0.5\n3,.50\n4,2\n5,10.25\n");
    rc = dataset_load_csv(&t2, &t3, p, NULL, NULL, err, sizeof err);
    CHECK(rc == 0 && t2.k == 3, "decimal labels: rc %d, %d classes (want 3) %s", rc, t2.k, err);
    if (!rc && t2.k == 3) CHECK(!strcmp(t2.class_names[0], "0.5") && !strcmp(t2.class_names[1], "2") &&
                                !strcmp(t2.class_names[2], "10.25") && t2.y[0] == 1 && t2.y[2] == 0 && t2.y[3] == 1,
                                "decimal labels by value: %s %s %s", t2.class_names[0], t2.class_names[1], t2.class_names[2]);
    dataset_free(&t2);
    p = write_text("bom.csv", "\xEF\xBB\xBF" "a,b,label\n1,2,b\n3,4,a\n\n  \n5,6,10\n");
    rc = dataset_load_csv(&t2, &t3, p, NULL, "label", err, sizeof err);
    CHECK(rc == 0 && t2.n == 3 && t2.k == 3 && !strcmp(t2.class_names[0], "10") &&
          !strcmp(t2.class_names[1], "a") && t2.y[0] == 2, "BOM, blank lines, mixed labels: %s", err);
    dataset_free(&t2);
    p = write_text("headerless.csv", "1,2,cat\n3,4,dog\n");
    rc = dataset_load_csv(&t2, &t3, p, NULL, NULL, err, sizeof err);
    CHECK(rc == 0 && t2.n == 2, "headerless with text labels: rc %d n %d", rc, t2.n);
    dataset_free(&t2);

    /* A row longer than the reader's chunk (1 MiB): the buffer grows. */
    size_t cols = 200000, cap = 3 * (cols * 6 + 8);
    char *big = malloc(cap), *w = big;
    for (int r = 0; r < 3; r++) {
        for (size_t j = 0; j < cols; j++) w += sprintf(w, "%d.5,", (int)(j % 10));
        w += sprintf(w, "%d\n", r % 2);
    }
    p = write_tmp("wide.csv", big, (size_t)(w - big));
    rc = dataset_load_csv(&t2, &t3, p, NULL, NULL, err, sizeof err);
    CHECK(rc == 0 && t2.n == 3 && t2.d == (int)cols && t2.x[(size_t)2 * cols + 199999] == 9.5f, "wide rows: %s", err);
    dataset_free(&t2);
    /* More distinct labels than LD_MAX_CLASSES: refused. */
    w = big;
    for (int r = 0; r <= LD_MAX_CLASSES; r++) w += sprintf(w, "1,c%d\n", r);
    p = write_tmp("many.csv", big, (size_t)(w - big));
    rc = dataset_load_csv(&t2, &t3, p, NULL, NULL, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "line 65537: more than 65536 distinct labels"), "many labels: rc %d '%s'", rc, err);
    free(big);
    dataset_free(&tr);
}

static void test_svmlight(void) {
    Dataset tr, te, t2, t3;
    char err[512];
    int rc = dataset_load_svmlight(&tr, &te, C "svmlight/ok-1based.svm", NULL, NULL, err, sizeof err);
    CHECK(rc == 0, "ok-1based: %s", err);
    if (rc) return;
    CHECK(tr.n == 20 && tr.d == 7 && tr.k == 2 && tr.x == NULL && tr.indptr[20] == 57, "shape %d x %d, k %d, nnz %lld",
          tr.n, tr.d, tr.k, (long long)tr.indptr[tr.n]);
    CHECK(!strcmp(tr.class_names[0], "-1") && !strcmp(tr.class_names[1], "1") && tr.y[0] == 1 && tr.y[1] == 0, "classes");
    CHECK(tr.indices[0] == 0 && tr.indices[1] == 2 && tr.indices[2] == 6 && tr.values[0] == 0.1f &&
          tr.values[2] == 1.5e-3f, "row 0 (1-based indices shifted)");
    CHECK(tr.indptr[8] == tr.indptr[7], "row 7 has no features");
    rc = dataset_load_svmlight(&t2, &t3, C "svmlight/ok-0based.svm", NULL, NULL, err, sizeof err);
    CHECK(rc == 0 && t2.n == 21 && t2.d == 5 && t2.k == 3 && t2.indices[0] == 0 && t2.indices[1] == 2, "0-based: %s", err);
    if (!rc) CHECK(!strcmp(t2.class_names[0], "eggs") && !strcmp(t2.class_names[2], "spam") && t2.y[0] == 1, "string classes");
    dataset_free(&t2);
    /* LIBSVM labels equal as numbers are one class: 1, 1.0, +1 and 1e0; -1 and -1.00. */
    const char *spellings = write_text("spellings.svm", "1 1:1\n1.0 1:2\n+1 1:3\n1e0 2:1\n-1 1:1\n-1.00 2:2\n");
    rc = dataset_load_svmlight(&t2, &t3, spellings, NULL, NULL, err, sizeof err);
    CHECK(rc == 0 && t2.k == 2, "1, 1.0, +1, 1e0, -1, -1.00: rc %d, %d classes (want 2) %s", rc, t2.k, err);
    if (!rc && t2.k == 2) {
        static const int32_t want_y[6] = { 1, 1, 1, 1, 0, 0 };
        CHECK(!strcmp(t2.class_names[0], "-1") && !strcmp(t2.class_names[1], "1") && !memcmp(t2.y, want_y, sizeof want_y),
              "one class per number, named -1 and 1");
    }
    dataset_free(&t2);
    /* And a --test file's 1.0 is the training file's class 1. */
    rc = dataset_load_svmlight(&t2, &t3, C "svmlight/ok-1based.svm", spellings, NULL, err, sizeof err);
    CHECK(rc == 0 && t3.n == 6 && t3.y[1] == 1 && t3.y[5] == 0, "--test with 1.0 and -1.00: %s", err);
    dataset_free(&t2); dataset_free(&t3);
    /* The base is decided over both files: a 0 in the test file makes both 0-based. */
    const char *test0 = write_text("zero.svm", "1 0:1\n-1 9:1\n");
    rc = dataset_load_svmlight(&t2, &t3, C "svmlight/ok-1based.svm", test0, NULL, err, sizeof err);
    CHECK(rc == 0 && t2.d == 10 && t3.d == 10 && t2.indices[0] == 1 && t3.indices[0] == 0 && t3.n == 2, "joint base: %s", err);
    CHECK(rc == 0 && t3.y[0] == 1 && t3.y[1] == 0, "test labels mapped onto the training classes");
    dataset_free(&t2); dataset_free(&t3);

    /* Splits and subsets keep CSR rows intact. */
    Dataset all = tr, pool, test;
    int64_t nnz = tr.indptr[tr.n];
    rc = dataset_split_stratified(&pool, &test, &all, 0.3, 3, err, sizeof err);
    CHECK(rc == 0 && pool.x == NULL && test.x == NULL && pool.n + test.n == 20 && test.n == 6, "CSR split: %s", err);
    if (!rc) {
        CHECK(pool.indptr[pool.n] + test.indptr[test.n] == nnz && pool.d == 7, "CSR split nonzeros");
        int ok = 1;
        for (int i = 0; i < pool.n; i++)
            for (int64_t j = pool.indptr[i] + 1; j < pool.indptr[i + 1]; j++) ok &= pool.indices[j] > pool.indices[j - 1];
        CHECK(ok, "CSR split rows broken");
        rc = dataset_subsample(&pool, 5, 1, err, sizeof err);
        CHECK(rc == 0 && pool.n == 5 && pool.x == NULL && pool.indptr[0] == 0, "CSR subsample: %s", err);
    }
    dataset_free(&pool); dataset_free(&test);

    /* More than 2^20 columns: fine when at least 1 in 256 is used, refused (with the line of
     * the index that made them) when fewer are. */
    for (int used = 4095; used <= 4096; used++) {
        char *text = malloc((size_t)used * 16 + 64), *w = text;
        for (int j = 1; j < used; j++) w += sprintf(w, "%d %d:1\n", j % 2, j);
        w += sprintf(w, "1 %d:1\n", 256 * 4096);          /* d = 2^20 columns, 1-based */
        w += sprintf(w, "0 1:1\n");
        const char *p = write_tmp("wide.svm", text, (size_t)(w - text));
        rc = dataset_load_svmlight(&t2, &t3, p, NULL, NULL, err, sizeof err);
        if (used == 4096)
            CHECK(rc == 0 && t2.d == 1 << 20, "2^20 columns, 4096 used: rc %d d %d '%s'", rc, t2.d, rc ? err : "");
        else
            CHECK(rc == 0, "2^20 columns, 4095 used: rc %d '%s'", rc, rc ? err : "");
        dataset_free(&t2);
        w = text;                                        /* one column more: 2^20 + 1 */
        for (int j = 1; j < used; j++) w += sprintf(w, "%d %d:1\n", j % 2, j);
        w += sprintf(w, "1 %d:1\n", 256 * 4096 + 1);
        w += sprintf(w, "0 1:1\n");
        p = write_tmp("wide.svm", text, (size_t)(w - text));
        rc = dataset_load_svmlight(&t2, &t3, p, NULL, NULL, err, sizeof err);
        char want[128];
        snprintf(want, sizeof want, "line %d: index 1048577 makes 1048577 feature columns, yet the rows use only %d",
                 used, used);
        if (used == 4096)
            CHECK(rc == 0 && t2.d == (1 << 20) + 1, "2^20 + 1 columns, 4096 used: rc %d '%s'", rc, rc ? err : "");
        else
            CHECK(rc == 2 && strstr(err, want) && zeroed(&t2) && zeroed(&t3), "2^20 + 1 columns, 4095 used: rc %d '%s'",
                  rc, err);
        dataset_free(&t2);
        free(text);
    }
}

static void test_npy(void) {
    Dataset tr, te, t2, t3;
    char err[512];
    int rc = dataset_load_npy(&tr, &te, C "npy/ok-X.npy," C "npy/ok-y.npy", NULL, NULL, err, sizeof err);
    CHECK(rc == 0, "ok pair: %s", err);
    if (rc) return;
    CHECK(tr.n == 20 && tr.d == 4 && tr.k == 2 && !strcmp(tr.class_names[1], "1") && !strcmp(tr.name, "ok-X.npy"), "shape");
    CHECK(tr.x[1] == 0.5f && tr.x[3] == 1.0f && tr.x[4] == 2.0f && tr.y[0] == 0 && tr.y[1] == 1, "values");
    rc = dataset_load_npy(&t2, &t3, C "npy/ok-X-f64-v2.npy," C "npy/ok-y.npy", NULL, NULL, err, sizeof err);
    CHECK(rc == 0 && !memcmp(t2.x, tr.x, 80 * sizeof(float)), "float64 v2: %s", err);
    dataset_free(&t2);
    rc = dataset_load_npy(&t2, &t3, C "npy/ok-X-f16-fortran-v3.npy," C "npy/ok-y-str.npy", NULL, NULL, err, sizeof err);
    CHECK(rc == 0 && !memcmp(t2.x, tr.x, 80 * sizeof(float)), "float16 Fortran v3: %s", err);
    CHECK(rc == 0 && !strcmp(t2.class_names[0], "cat") && !strcmp(t2.class_names[1], "dog") && t2.y[1] == 1, "string labels");
    dataset_free(&t2);
    /* Big-endian float32 features; big-endian int16, bool, uint8 and float64 labels. */
    static const uint8_t data[16] = { 0x3f, 0x80, 0, 0, 0xc0, 0, 0, 0, 0x3f, 0, 0, 0, 0x40, 0x40, 0, 0 };
    const char *px = write_npy("be.npy", "'>f4'", "(2, 2)", data, 16);
    static const struct { const char *descr; int size; uint8_t v[16]; const char *first; } ys[] = {
        { "'>i2'", 2, { 0xff, 0xff, 0, 7 }, "-1" },
        { "'|b1'", 1, { 1, 0 }, "False" },
        { "'|u1'", 1, { 200, 3 }, "3" },
        { "'<f8'", 8, { 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0x40 }, "1" },
    };
    for (size_t i = 0; i < sizeof ys / sizeof ys[0]; i++) {
        const char *py = write_npy("y.npy", ys[i].descr, "(2,)", ys[i].v, 2 * (size_t)ys[i].size);
        char spec[1200];
        snprintf(spec, sizeof spec, "%s,%s", px, py);
        rc = dataset_load_npy(&t2, &t3, spec, NULL, NULL, err, sizeof err);
        CHECK(rc == 0 && t2.n == 2 && t2.d == 2 && t2.x[0] == 1.0f && t2.x[1] == -2.0f && t2.x[3] == 3.0f,
              "big-endian X with %s labels: %s", ys[i].descr, err);
        CHECK(rc == 0 && t2.k == 2 && !strcmp(t2.class_names[0], ys[i].first), "%s labels: first class '%s'",
              ys[i].descr, rc ? "" : t2.class_names[0]);
        dataset_free(&t2);
    }
    /* Images: (N, H, W) is 1 x H x W, flattened row-major; (N, C, H, W) in Fortran order is
     * reordered to row-major (C, H, W) rows; (N, D) has no image shape; 5-D is refused. */
    rc = dataset_load_npy(&t2, &t3, C "npy/ok-X-images.npy," C "npy/ok-y.npy", NULL, NULL, err, sizeof err);
    CHECK(rc == 0 && t2.d == 4 && t2.image.c == 1 && t2.image.h == 2 && t2.image.w == 2 &&
          !memcmp(t2.x, tr.x, 80 * sizeof(float)), "(20, 2, 2) images: rc %d '%s'", rc, err);
    dataset_free(&t2);
    CHECK(tr.image.c == 0 && tr.image.h == 0 && tr.image.w == 0, "(N, D): an image shape");
    {
        float v[24];                     /* element (i, c, y, x) of shape (2, 3, 2, 2) is 1000i + 100c + 10y + x */
        for (int i = 0; i < 2; i++) for (int c = 0; c < 3; c++) for (int y = 0; y < 2; y++) for (int x = 0; x < 2; x++)
            v[i + 2 * (c + 3 * (y + 2 * x))] = (float)(1000 * i + 100 * c + 10 * y + x);    /* Fortran order */
        char file[512];
        int hl = snprintf(file + 10, 400, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3, 2, 2), }\n");
        memcpy(file, "\x93NUMPY\x01\x00", 8);
        file[8] = (char)hl;
        file[9] = 0;
        memcpy(file + 10 + hl, v, sizeof v);
        const char *px4 = write_tmp("nchw.npy", file, 10 + (size_t)hl + sizeof v);
        const char *py4 = write_npy("y4.npy", "'<i2'", "(2,)", (const int16_t[]){ 0, 1 }, 4);
        char spec[1200];
        snprintf(spec, sizeof spec, "%s,%s", px4, py4);
        rc = dataset_load_npy(&t2, &t3, spec, NULL, NULL, err, sizeof err);
        int ok = rc == 0 && t2.n == 2 && t2.d == 12 && t2.image.c == 3 && t2.image.h == 2 && t2.image.w == 2;
        for (int i = 0; ok && i < 2; i++) for (int c = 0; c < 3; c++) for (int y = 0; y < 2; y++) for (int x = 0; x < 2; x++)
            ok &= t2.x[i * 12 + (c * 2 + y) * 2 + x] == (float)(1000 * i + 100 * c + 10 * y + x);
        CHECK(ok, "(2, 3, 2, 2) Fortran-order images: rc %d '%s'", rc, err);
        dataset_free(&t2);
        /* A --test X of other images with as many pixels: refused. */
        const char *pt = write_npy("nchw-test.npy", "'<f4'", "(2, 12, 1, 1)", v, sizeof v);
        char tspec[1200];
        snprintf(tspec, sizeof tspec, "%s,%s", pt, py4);
        rc = dataset_load_npy(&t2, &t3, spec, tspec, NULL, err, sizeof err);
        CHECK(rc == 2 && strstr(err, "byte 8: images of 12x1x1 (CxHxW), the training X") && one_line(err),
              "--test images of another shape: rc %d '%s'", rc, err);
    }
    /* A test pair; its labels must be training classes. */
    rc = dataset_load_npy(&t2, &t3, C "npy/ok-X.npy," C "npy/ok-y.npy", C "npy/ok-X-f64-v2.npy," C "npy/ok-y.npy",
                          NULL, err, sizeof err);
    CHECK(rc == 0 && t3.n == 20 && !memcmp(t3.x, tr.x, 80 * sizeof(float)) && !strcmp(t2.sha256, t3.sha256), "--test: %s", err);
    dataset_free(&t2); dataset_free(&t3);
    rc = dataset_load_npy(&t2, &t3, C "npy/ok-X.npy," C "npy/ok-y.npy", C "npy/ok-X.npy," C "npy/ok-y-str.npy",
                          NULL, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "ok-y-str.npy: byte 128: label 0 ('cat') is not a class of the training labels"), "'%s'", err);
    static const char *bad[] = { C "npy/ok-X.npy", C "npy/ok-X.npy,", ",y.npy", "a,b,c" };
    for (size_t i = 0; i < 4; i++) {
        rc = dataset_load_npy(&t2, &t3, bad[i], NULL, NULL, err, sizeof err);
        CHECK(rc == 2 && strstr(err, "npy:X.npy,y.npy") && one_line(err), "spec '%s': rc %d '%s'", bad[i], rc, err);
    }
    dataset_free(&tr);
}

static void test_arff(void) {
    Dataset tr, te, t2, t3;
    char err[512];
    int rc = dataset_load_arff(&tr, &te, C "arff/ok-iris.arff", NULL, NULL, err, sizeof err);
    CHECK(rc == 0, "ok-iris: %s", err);
    if (rc) return;
    CHECK(tr.n == 30 && tr.d == 3 && tr.k == 3 && tr.x[0] == 4.0f && tr.x[2] == 1.0f && tr.y[2] == 2, "shape/values");
    CHECK(!strcmp(tr.class_names[0], "Iris-setosa") && !strcmp(tr.class_names[2], "Iris virginica"), "declared order");
    rc = dataset_load_arff(&t2, &t3, C "arff/ok-iris.arff", C "arff/ok-iris.arff", NULL, err, sizeof err);
    CHECK(rc == 0 && t3.n == 30 && !memcmp(t3.x, tr.x, 90 * sizeof(float)), "--test: %s", err);
    dataset_free(&t2); dataset_free(&t3);
    rc = dataset_load_arff(&t2, &t3, C "arff/ok-nominal-features.arff", NULL, NULL, err, sizeof err);
    CHECK(rc == 0 && t2.n == 20 && t2.d == 5 && t2.k == 2 && !strcmp(t2.class_names[0], "yes"), "nominal features: %s", err);
    if (!rc) {
        static const float row0[5] = { 1, 0, 0, 60, 70 }, row1[5] = { 0, 1, 0, 61, 71 };
        CHECK(!memcmp(t2.x, row0, sizeof row0) && !memcmp(t2.x + 5, row1, sizeof row1) && t2.y[1] == 1, "one-hot rows");
    }
    dataset_free(&t2);
    rc = dataset_load_arff(&t2, &t3, C "arff/ok-nominal-features.arff", NULL, "outlook", err, sizeof err);
    CHECK(rc == 0 && t2.d == 4 && t2.k == 3 && !strcmp(t2.class_names[2], "rainy") && t2.x[2] == 1.0f, "--label outlook: %s", err);
    CHECK(rc == 0 && t2.label && !strcmp(t2.label, "outlook"), "--label outlook: the class attribute's name kept");
    dataset_free(&t2);
    rc = dataset_load_arff(&t2, &t3, C "arff/ok-nominal-features.arff", NULL, "0", err, sizeof err);
    CHECK(rc == 0 && t2.k == 3, "--label 0: %s", err);
    dataset_free(&t2);
    CHECK(tr.label && !strcmp(tr.label, "class") && tr.n_dropped == 0, "ok-iris: class attribute 'class' kept, none dropped");
    dataset_free(&tr);

    /* The last attribute numeric (a regression set): no class is guessed, --label picks one. */
    rc = dataset_load_arff(&t2, &t3, C "arff/numeric-last-attribute.arff", NULL, NULL, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "numeric-last-attribute.arff: line 4: the last attribute, 'class', is numeric") &&
          strstr(err, "--label NAME (nominal attribute: 'vendor')") && zeroed(&t2), "numeric last attribute: rc %d '%s'", rc, err);
    rc = dataset_load_arff(&t2, &t3, C "arff/numeric-last-attribute.arff", NULL, "vendor", err, sizeof err);
    CHECK(rc == 0 && t2.k == 2 && t2.d == 2 && !strcmp(t2.class_names[1], "amdahl"), "numeric last, --label vendor: %s", err);
    dataset_free(&t2);
    const char *many = write_text("many-nominal.arff", "@relation r\n@attribute a {p,q}\n@attribute b {p,q}\n"
        "@attribute c {p,q}\n@attribute d {p,q}\n@attribute e {p,q}\n@attribute f {p,q}\n@attribute g {p,q}\n"
        "@attribute y numeric\n@data\np,p,p,p,p,p,p,1\n");
    rc = dataset_load_arff(&t2, &t3, many, NULL, NULL, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "line 9: the last attribute, 'y', is numeric") &&
          strstr(err, "(nominal attributes: 'a', 'b', 'c', 'd', 'e' and 2 more)") && one_line(err), "7 nominal: '%s'", err);

    /* A declared class without rows is dropped: the others keep their declared order. */
    rc = dataset_load_arff(&t2, &t3, C "arff/ok-empty-class.arff", NULL, NULL, err, sizeof err);
    CHECK(rc == 0 && t2.k == 2 && t2.n == 20, "empty class dropped: rc %d k %d %s", rc, t2.k, err);
    if (!rc && t2.k == 2)
        CHECK(!strcmp(t2.class_names[0], "x") && !strcmp(t2.class_names[1], "y") && t2.y[0] == 0 && t2.y[1] == 1 &&
              t2.n_dropped == 1 && !strcmp(t2.dropped[0], "z"), "classes x, y; z dropped; y renumbered");
    dataset_free(&t2);
    rc = dataset_load_arff(&t2, &t3, C "arff/ok-empty-class.arff", C "arff/ok-empty-class.arff", NULL, err, sizeof err);
    CHECK(rc == 0 && t3.k == 2 && t3.n == 20 && !memcmp(t2.y, t3.y, 20 * sizeof *t3.y) && !strcmp(t3.class_names[1], "y"),
          "--test maps onto the classes left: %s", err);
    dataset_free(&t2); dataset_free(&t3);
    const char *with_z = write_text("with-z.arff", "@relation r\n@attribute a numeric\n@attribute b numeric\n"
                                    "@attribute class {x, z, y}\n@data\n1,2,y\n3,4,z\n");
    rc = dataset_load_arff(&t2, &t3, C "arff/ok-empty-class.arff", with_z, NULL, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "with-z.arff: line 7: attribute 'class': the class 'z' has no rows in the training file") &&
          zeroed(&t2) && zeroed(&t3), "--test with a row of the dropped class: rc %d '%s'", rc, err);
}

/* ---- specs and options through dataset_open_with ---- */

static void test_specs(void) {
    Dataset pool, test;
    char err[512];
    static const struct { const char *spec, *label; int n, t, k; } ok[] = {
        { C "csv/ok-header.csv", NULL, 21, 9, 3 },
        { "csv:" C "csv/ok-header.csv", "species", 21, 9, 3 },
        { C "csv/ok-tabs.tsv", NULL, 14, 6, 2 },
        { C "svmlight/ok-1based.svm", NULL, 14, 6, 2 },
        { "svmlight:" C "svmlight/ok-0based.svm", NULL, 15, 6, 3 },
        { "npy:" C "npy/ok-X.npy," C "npy/ok-y.npy", NULL, 14, 6, 2 },
        { C "arff/ok-iris.arff", NULL, 21, 9, 3 },
        { "arff:" C "arff/ok-nominal-features.arff", "play", 14, 6, 2 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        DatasetOptions o = { .label = ok[i].label, .test = NULL, .test_frac = DATASET_TEST_FRAC };
        int rc = dataset_open_with(&pool, &test, ok[i].spec, &o, 1, err, sizeof err);
        CHECK(rc == 0 && pool.n == ok[i].n && test.n == ok[i].t && pool.k == ok[i].k &&
              !strcmp(pool.sha256, test.sha256), "'%s': rc %d pool %d test %d: %s", ok[i].spec, rc, pool.n, test.n, err);
        dataset_free(&pool); dataset_free(&test);
    }
    DatasetOptions half = { .label = NULL, .test = NULL, .test_frac = 0.5 };
    int rc = dataset_open_with(&pool, &test, C "csv/ok-header.csv", &half, 1, err, sizeof err);
    CHECK(rc == 0 && pool.n == 15 && test.n == 15, "--test-frac 0.5: %d + %d", pool.n, test.n);
    dataset_free(&pool); dataset_free(&test);
    DatasetOptions fixed = { .label = NULL, .test = "csv:" C "csv/ok-header.csv", .test_frac = DATASET_TEST_FRAC };
    rc = dataset_open_with(&pool, &test, C "csv/ok-header.csv", &fixed, 1, err, sizeof err);
    CHECK(rc == 0 && pool.n == 30 && test.n == 30, "--test: %s", err);
    dataset_free(&pool); dataset_free(&test);
    fixed.test = C "npy/ok-X.npy," C "npy/ok-y.npy";
    rc = dataset_open_with(&pool, &test, "npy:" C "npy/ok-X.npy," C "npy/ok-y.npy", &fixed, 1, err, sizeof err);
    CHECK(rc == 0 && pool.n == 20 && test.n == 20, "npy --test: %s", err);
    dataset_free(&pool); dataset_free(&test);

    static const struct { const char *spec; DatasetOptions o; const char *want; } bad[] = {
        { C "svmlight/ok-1based.svm", { .label = "0", .test = NULL, .test_frac = DATASET_TEST_FRAC }, "--label applies to csv and arff" },
        { "npy:" C "npy/ok-X.npy," C "npy/ok-y.npy", { .label = "0", .test = NULL, .test_frac = DATASET_TEST_FRAC }, "from y.npy" },
        { "synthetic:blobs", { .label = "0", .test = NULL, .test_frac = DATASET_TEST_FRAC }, "apply to data files" },
        { "mnist", { .label = NULL, .test = "x.csv", .test_frac = DATASET_TEST_FRAC }, "apply to data files" },
        { "synthetic:blobs", { .label = NULL, .test = NULL, .test_frac = 0.5 }, "apply to data files" },
        { C "csv/ok-header.csv", { .label = NULL, .test = C "arff/ok-iris.arff", .test_frac = DATASET_TEST_FRAC }, "not in the dataset's format" },
        { C "csv/ok-header.csv", { .label = NULL, .test = "svmlight:x", .test_frac = DATASET_TEST_FRAC }, "not in the dataset's format" },
        { C "csv/ok-header.csv", { .label = NULL, .test = C "csv/ok-header.csv", .test_frac = 0.5 }, "--test-frac and --test" },
        { C "csv/README", { .label = NULL, .test = NULL, .test_frac = DATASET_TEST_FRAC }, "a file of unknown format" },
        { "emb.npy", { .label = NULL, .test = NULL, .test_frac = DATASET_TEST_FRAC }, "npy:X.npy,y.npy" },
        { "missing.csv", { .label = NULL, .test = NULL, .test_frac = DATASET_TEST_FRAC }, "missing.csv: cannot open" },
        { C "csv", { .label = NULL, .test = NULL, .test_frac = DATASET_TEST_FRAC }, "no train-images-idx3-ubyte" },
        { "csv:" C "csv", { .label = NULL, .test = NULL, .test_frac = DATASET_TEST_FRAC }, "is a folder" },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = dataset_open_with(&pool, &test, bad[i].spec, &bad[i].o, 1, err, sizeof err);
        CHECK(rc == 2 && strstr(err, bad[i].want) && one_line(err) && zeroed(&pool) && zeroed(&test),
              "'%s': rc %d '%s', want '%s'", bad[i].spec, rc, err, bad[i].want);
    }
}

/* ---- where the labels came from: Dataset.label_from, label, dropped; what is said ---- */

/* What dataset_print_choices says about spec (label: --label), quiet or not, into out. */
static int choices_text(char *out, size_t len, const char *spec, const char *label, int quiet, Dataset *pool) {
    Dataset test;
    char err[512];
    DatasetOptions o = { .label = label, .test = NULL, .test_frac = DATASET_TEST_FRAC };
    int rc = dataset_open_with(pool, &test, spec, &o, 1, err, sizeof err);
    out[0] = '\0';
    if (rc) { snprintf(out, len, "rc %d: %s", rc, err); return rc; }
    CHECK(!strcmp(pool->label_from, test.label_from) && (!pool->label) == (!test.label) &&
          pool->n_dropped == test.n_dropped, "%s: the test split keeps the label fields", spec);
    FILE *f = tmpfile();
    if (f) {
        dataset_print_choices(f, pool, quiet);
        rewind(f);
        size_t n = fread(out, 1, len - 1, f);
        out[n] = '\0';
        fclose(f);
    }
    dataset_free(&test);
    return 0;
}

static void test_label_choices(void) {
    static const struct { const char *spec, *label, *from, *name, *said; } cases[] = {
        { C "csv/ok-header.csv", NULL, "last column", "species",
          "alsim: ok-header.csv: class column 'species' (the last column; --label NAME picks another)\n" },
        { C "csv/ok-header.csv", "species", "--label", "species", "" },
        { "csv:" C "csv/ok-noheader.csv", "0", "--label", NULL, "" },
        { C "csv/ok-tabs.tsv", NULL, "last column", "label",
          "alsim: ok-tabs.tsv: class column 'label' (the last column; --label NAME picks another)\n" },
        { C "arff/ok-iris.arff", NULL, "last attribute", "class",
          "alsim: ok-iris.arff: class attribute 'class' (the last attribute; --label NAME picks another)\n" },
        { C "arff/ok-nominal-features.arff", "outlook", "--label", "outlook", "" },
        { C "arff/ok-empty-class.arff", NULL, "last attribute", "class",
          "alsim: ok-empty-class.arff: class attribute 'class' (the last attribute; --label NAME picks another)\n"
          "alsim: warning: ok-empty-class.arff: class 'z' of attribute 'class' is declared but has no rows: "
          "dropped (2 classes remain)\n" },
        { C "svmlight/ok-1based.svm", NULL, "first field", NULL, "" },
        { "npy:" C "npy/ok-X.npy," C "npy/ok-y.npy", NULL, "labels file", NULL, "" },
        { "idx:" C "idx/ok-images-idx3-ubyte," C "idx/ok-labels-idx1-ubyte", NULL, "labels file", NULL, "" },
        { "synthetic:blobs:n=60,test=30", NULL, "generated", NULL, "" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        Dataset pool;
        char said[1024];
        int rc = choices_text(said, sizeof said, cases[i].spec, cases[i].label, 0, &pool);
        CHECK(rc == 0 && pool.label_from && !strcmp(pool.label_from, cases[i].from), "%s: label_from '%s', want '%s' %s",
              cases[i].spec, rc ? "" : pool.label_from ? pool.label_from : "(null)", cases[i].from, rc ? said : "");
        if (rc) continue;
        CHECK(cases[i].name ? pool.label && !strcmp(pool.label, cases[i].name) : !pool.label, "%s: label '%s'",
              cases[i].spec, pool.label ? pool.label : "(null)");
        CHECK(!strcmp(said, cases[i].said), "%s says '%s', want '%s'", cases[i].spec, said, cases[i].said);
        dataset_free(&pool);
        /* quiet: the class column goes unsaid, a dropped class never does */
        choices_text(said, sizeof said, cases[i].spec, cases[i].label, 1, &pool);
        const char *warning = strstr(cases[i].said, "alsim: warning:");
        CHECK(!strcmp(said, warning ? warning : ""), "%s quiet says '%s'", cases[i].spec, said);
        dataset_free(&pool);
    }
    Dataset pool, test;
    char said[1024];
    DatasetOptions o = { .label = NULL, .test = NULL, .test_frac = DATASET_TEST_FRAC };
    const char *two = write_text("two-empty.arff", "@relation r\n@attribute a numeric\n"
                                 "@attribute 'the class' {p, 'q q', r, s}\n@data\n1,r\n2,p\n3,r\n4,p\n");
    int rc = dataset_open_with(&pool, &test, two, &o, 1, said, sizeof said);
    CHECK(rc == 0 && pool.k == 2 && pool.n_dropped == 2, "two dropped: rc %d %s", rc, said);
    if (!rc) {
        FILE *f = tmpfile();
        dataset_print_choices(f, &pool, 1);
        rewind(f);
        said[fread(said, 1, sizeof said - 1, f)] = '\0';
        fclose(f);
        CHECK(!strcmp(said, "alsim: warning: two-empty.arff: classes 'q q', 's' of attribute 'the class' are declared "
                            "but have no rows: dropped (2 classes remain)\n"), "two dropped says '%s'", said);
    }
    dataset_free(&pool);
    dataset_free(&test);
}

/* ---- the memory entry points (the fuzzers') agree with the file loaders ---- */

static void test_memory_entry_points(void) {
    static const struct { const char *path, *label; Loader load; int kind; } files[] = {
        { C "csv/ok-header.csv", NULL, dataset_load_csv, 0 },
        { C "csv/ok-noheader.csv", "0", dataset_load_csv, 0 },
        { C "csv/ok-tabs.tsv", NULL, dataset_load_csv, 0 },
        { C "svmlight/ok-1based.svm", NULL, dataset_load_svmlight, 1 },
        { C "svmlight/ok-0based.svm", NULL, dataset_load_svmlight, 1 },
        { C "arff/ok-iris.arff", NULL, dataset_load_arff, 2 },
        { C "arff/ok-nominal-features.arff", NULL, dataset_load_arff, 2 },
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        Dataset a, b, none;
        char err[512], err2[512], *buf;
        size_t len;
        CHECK(read_all(files[i].path, &buf, &len) == 0, "read %s", files[i].path);
        int ra = files[i].load(&a, &none, files[i].path, NULL, files[i].label, err, sizeof err);
        int rb = files[i].kind == 0 ? csv_parse_mem(&b, files[i].path, buf, len, files[i].label, err2, sizeof err2)
               : files[i].kind == 1 ? svmlight_parse_mem(&b, files[i].path, buf, len, err2, sizeof err2)
                                    : arff_parse_mem(&b, files[i].path, buf, len, files[i].label, err2, sizeof err2);
        CHECK(ra == 0 && rb == 0 && same_data(&a, &b), "%s: file and memory differ (%s | %s)", files[i].path, err, err2);
        dataset_free(&a); dataset_free(&b);
        free(buf);
    }
    /* Memory parsers on every corpus file: the same verdict as the file loader. */
    static const char *const dirs[3] = { C "csv", C "svmlight", C "arff" };
    for (int k = 0; k < 3; k++) {
        int n;
        char **names = corpus_files(dirs[k], 1, &n);
        for (int i = 0; i < n; i++) {
            char path[512], err[512], err2[512], *buf;
            size_t len;
            snprintf(path, sizeof path, "%s/%s", dirs[k], names[i]);
            if (read_all(path, &buf, &len)) continue;
            Dataset a, b, none;
            Loader load = k == 0 ? dataset_load_csv : k == 1 ? dataset_load_svmlight : dataset_load_arff;
            int ra = load(&a, &none, path, NULL, NULL, err, sizeof err);
            int rb = k == 0 ? csv_parse_mem(&b, path, buf, len, NULL, err2, sizeof err2)
                   : k == 1 ? svmlight_parse_mem(&b, path, buf, len, err2, sizeof err2)
                            : arff_parse_mem(&b, path, buf, len, NULL, err2, sizeof err2);
            CHECK(ra == rb && (ra == 0 || !strcmp(err, err2)), "%s: file rc %d '%s', memory rc %d '%s'", path, ra,
                  ra ? err : "", rb, rb ? err2 : "");
            dataset_free(&a); dataset_free(&b);
            free(buf);
        }
        free_names(names, n);
    }
    /* npy from memory. */
    char *bx, *by, err[512];
    size_t lx, ly;
    read_all(C "npy/ok-X-f16-fortran-v3.npy", &bx, &lx);
    read_all(C "npy/ok-y-str.npy", &by, &ly);
    float *x = NULL;
    int32_t *y = NULL;
    int n = 0, d = 0, ny = 0;
    LabelMap m = {0};
    int rc = npy_features_mem(&x, &n, &d, bx, lx, "X", err, sizeof err);
    CHECK(rc == 0 && n == 20 && d == 4 && x[4] == 2.0f, "npy_features_mem: %s", err);
    rc = npy_labels_mem(&y, &ny, &m, by, ly, "y", err, sizeof err);
    CHECK(rc == 0 && ny == 20 && m.n == 2 && y[1] == 1, "npy_labels_mem: %s", err);
    free(x); free(y); free(bx); free(by);
    labels_free(&m);
    IdxArray a;
    read_all("tests/corpus/idx/ok-labels-idx1-ubyte", &bx, &lx);
    rc = idx_load_mem(&a, "labels", bx, lx, err, sizeof err);
    CHECK(rc == 0 && a.count == 20 && a.data[1] == 1, "idx_load_mem: %s", err);
    idx_free(&a);
    rc = idx_load_mem(&a, "labels", bx, lx - 1, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "labels: byte 27: truncated"), "idx_load_mem truncated: '%s'", err);
    free(bx);
}

/* ---- helpers ---- */

static void test_helpers(void) {
    static const struct { const char *s; int ok; } utf8[] = {
        { "plain", 1 }, { "caf\xc3\xa9", 1 }, { "\xe2\x82\xac", 1 }, { "\xf0\x9f\x98\x80", 1 },
        { "\xc3\x28", 0 }, { "\xe2\x82", 0 }, { "\xc0\xaf", 0 }, { "\xed\xa0\x80", 0 }, { "\xf4\x90\x80\x80", 0 },
        { "\xff", 0 },
    };
    for (size_t i = 0; i < sizeof utf8 / sizeof utf8[0]; i++)
        CHECK(ld_utf8_valid(utf8[i].s, strlen(utf8[i].s)) == utf8[i].ok, "utf8 case %zu", i);
    float v;
    CHECK(ld_parse_float(&v, "1.5", 3) == 0 && v == 1.5f, "1.5");
    CHECK(ld_parse_float(&v, "", 0) == 1 && ld_parse_float(&v, "1.5x", 4) == 1 && ld_parse_float(&v, " 1", 2) == 1, "not numbers");
    CHECK(ld_parse_float(&v, "nan", 3) == 2 && ld_parse_float(&v, "-Infinity", 9) == 2 && ld_parse_float(&v, "1e39", 4) == 3, "non-finite");
    /* alsim's bound on features: 1e18 is in, 3e38 (finite in float32) and -1.5e18 are out. */
    CHECK(ld_parse_float(&v, "1e18", 4) == 0 && v == 1e18f && ld_parse_float(&v, "-1e18", 5) == 0, "1e18 accepted");
    CHECK(ld_parse_float(&v, "3e38", 4) == 4 && ld_parse_float(&v, "-1.5e18", 7) == 4 &&
          strstr(ld_float_error(4), "+-1e18"), "beyond LD_MAX_FEATURE");
    /* The first name given twice: the pair whose second occurrence comes first; empty names
     * are not names. */
    static char *const names[] = { "a", "b", "", "c", "b", "a", "", "c" };
    int first = -1, second = -1;
    CHECK(ld_duplicate_name(&first, &second, names, 8) == 1 && first == 1 && second == 4, "duplicate: %d %d", first, second);
    CHECK(ld_duplicate_name(&first, &second, names, 4) == 0, "no duplicate among a, b, '', c");
    static char *const empties[] = { "", "x", "" };
    CHECK(ld_duplicate_name(&first, &second, empties, 3) == 0, "empty names are not duplicates");
    CHECK(ld_duplicate_name(&first, &second, names, 0) == 0, "no names");
    /* A growing array never takes more than half of the machine's memory. */
    size_t cap = 0;
    CHECK(ld_phys_bytes() > 0 && ld_grow(NULL, &cap, ld_phys_bytes() / 2 / 4 + 1, 4) == NULL && cap == 0,
          "ld_grow past half the memory");
    char line[] = "a, \"b,\"\"c\"\" \" ,,d ", *p = line, *f;
    size_t n;
    const char *want[4] = { "a", "b,\"c\" ", "", "d" };
    for (int i = 0; i < 4; i++) {
        int rc = ld_next_field(&p, ',', 0, &f, &n);
        CHECK(rc == 0 && !strcmp(f, want[i]) && n == strlen(want[i]), "field %d: '%s'", i, rc ? "" : f);
    }
    CHECK(p == NULL, "fields left over");
    char bad[] = "\"abc", *q = bad;
    CHECK(ld_next_field(&q, ',', 0, &f, &n) == -1, "unterminated quote");
    LabelMap m = {0};
    CHECK(labels_id(&m, "+1", 2) == 0 && labels_id(&m, "01", 2) == 0 && labels_id(&m, "1", 1) == 0 &&
          labels_id(&m, "-0", 2) == 1 && labels_id(&m, "0", 1) == 1 && m.n == 2 && !strcmp(m.names[0], "1"), "integer labels");
    CHECK(labels_id(&m, "", 0) == -5 && labels_id(&m, "\xff", 1) == -4, "empty, bad UTF-8");
    for (int i = 0; i < 1000; i++) {      /* grows and rehashes */
        char s[16];
        snprintf(s, sizeof s, "w%d", i);
        labels_id(&m, s, strlen(s));
    }
    CHECK(m.n == 1002 && labels_id(&m, "w500", 4) == 502, "1002 labels, w500 = %d", labels_id(&m, "w500", 4));
    labels_free(&m);
    /* Numbers equal as numbers are one class, under one spelling, whatever the row order. */
    static const char *const one[] = { "1", "1.0", "+1", "1e0", "10e-1", "0.1E+1", "01.000" };
    for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
        CHECK(labels_id(&m, one[i], strlen(one[i])) == 0, "'%s' is the class of '1'", one[i]);
    CHECK(m.n == 1 && !strcmp(m.names[0], "1"), "numeric labels: %d classes, named '%s'", m.n, m.names[0]);
    labels_free(&m);
    static const char *const spelled[][2] = {
        { "0.50", "0.5" }, { "-2.250", "-2.25" }, { "-0.0", "0" }, { "1e21", "1e+21" }, { "25e-8", "2.5e-7" },
        { "100000000000000000000", "100000000000000000000" }, { "0.0000010", "0.000001" }, { "1.5e-7", "1.5e-7" },
        { "12345678901234567890123", "1.2345678901234567890123e+22" }, { ".5", "0.5" }, { "7.", "7" },
        { "0x10", "0x10" }, { "inf", "inf" }, { "nan", "nan" }, { "1e", "1e" }, { "1.2.3", "1.2.3" },
        { "1e1234567", "1e1234567" }, { "-", "-" },
    };
    for (size_t i = 0; i < sizeof spelled / sizeof spelled[0]; i++) {
        int id = labels_id(&m, spelled[i][0], strlen(spelled[i][0]));
        CHECK(id >= 0 && !strcmp(m.names[id], spelled[i][1]), "'%s' is named '%s', want '%s'", spelled[i][0],
              id >= 0 ? m.names[id] : "", spelled[i][1]);
    }
    labels_free(&m);
    /* Sorted: numbers by value (exactly: 0.1 and 0.10000000000000000001 differ), then text. */
    static const char *const mixed[] = { "b", "10", "2.5", "-0.5", "a", "1e3", "0.10000000000000000001", "0.1" };
    static const char *const sorted[] = { "-0.5", "0.1", "0.10000000000000000001", "2.5", "10", "1000", "a", "b" };
    int32_t ys[8];
    for (int i = 0; i < 8; i++) ys[i] = labels_id(&m, mixed[i], strlen(mixed[i]));
    CHECK(m.n == 8 && labels_sort(&m, ys, 8) == 0, "8 mixed labels");
    static const char *const named[] = { "b", "10", "2.5", "-0.5", "a", "1000", "0.10000000000000000001", "0.1" };
    for (int i = 0; i < 8 && m.n == 8; i++)
        CHECK(!strcmp(m.names[i], sorted[i]) && !strcmp(m.names[ys[i]], named[i]), "class %d is '%s', want '%s'",
              i, m.names[i], sorted[i]);
    labels_free(&m);
}

/* A SIGINT or SIGTERM (once signals_install is called, as alsim run does) stops a load
 * between its reads with 128 + the signal and "stopped by SIGTERM while loading PATH". Last:
 * the request stays pending. */
static void test_stop_request(void) {
    signals_install();
    raise(SIGTERM);
    Dataset tr, te;
    char err[512];
    static const struct { Loader load; const char *spec, *path; } cases[] = {
        { dataset_load_csv, C "csv/ok-header.csv", C "csv/ok-header.csv" },
        { dataset_load_svmlight, C "svmlight/ok-1based.svm", C "svmlight/ok-1based.svm" },
        { dataset_load_arff, C "arff/ok-iris.arff", C "arff/ok-iris.arff" },
        { dataset_load_npy, C "npy/ok-X.npy," C "npy/ok-y.npy", C "npy/ok-y.npy" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = cases[i].load(&tr, &te, cases[i].spec, NULL, NULL, err, sizeof err);
        char want[256];
        snprintf(want, sizeof want, "stopped by SIGTERM while loading %s", cases[i].path);
        CHECK(rc == ALSIM_SIGNALLED + SIGTERM && !strcmp(err, want) && zeroed(&tr) && zeroed(&te),
              "%s with a SIGTERM pending: rc %d '%s'", cases[i].spec, rc, err);
    }
    Dataset ds;
    int rc = dataset_from_idx(&ds, C "idx/ok-images-idx3-ubyte", C "idx/ok-labels-idx1-ubyte", 0, err, sizeof err);
    CHECK(rc == 143 && strstr(err, "stopped by SIGTERM while loading " C "idx/ok-labels-idx1-ubyte"), "idx: rc %d '%s'", rc, err);
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "%s/alsim-test-loaders-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    test_helpers();
    corpus_text(C "csv", dataset_load_csv, C "csv/ok-header.csv", 20);
    corpus_text(C "svmlight", dataset_load_svmlight, C "svmlight/ok-1based.svm", 20);
    corpus_text(C "arff", dataset_load_arff, C "arff/ok-iris.arff", 30);
    corpus_npy();
    label_messages();
    test_csv();
    test_svmlight();
    test_npy();
    test_arff();
    test_specs();
    test_label_choices();
    test_memory_entry_points();
    test_stop_request();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_done("test_loaders");
}
