/* bench_load — how fast the user's file formats load, and at what peak memory (make bench).
 *
 * Writes one file of at least 100 MiB per format (CSV, svmlight, .npy, ARFF) of seeded
 * pseudo-random data into a fresh folder under $TMPDIR (default /tmp; never the repository;
 * removed at the end), then loads each in a child process of its own (fork), twice:
 *   load   the format's loader alone (dataset_load_*: read, parse, SHA-256, class names);
 *   open   the --dataset path (dataset_open_with: the load, then the 30% stratified split).
 * For each: wall seconds, MB/s of file bytes (MB = 10^6 bytes; the file is in the page cache,
 * as just written), and the child's peak resident memory (wait4's ru_maxrss, which includes
 * the process's own baseline, also shown), checked against 2x the data's in-memory size
 * (features x, or the CSR arrays, plus the labels). Prints markdown for bench/RESULTS.md;
 * exit status 1 when a check fails. Not a test.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench/bench.h"
#include "datasets/dataset.h"

#define TARGET_BYTES (100u << 20)   /* each file at least this large */
#define DENSE_D 64                  /* features of the CSV and ARFF files */
#define NPY_D 256                   /* features of the .npy file (an embedding) */
#define SVM_D (1 << 20)             /* feature space of the svmlight file */
#define SVM_NNZ 48                  /* nonzeros per svmlight row */
#define CLASSES 10

static uint64_t next(uint64_t *s) {     /* xorshift64*: fast, seeded, good enough for data */
    *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

/* A value in [-10, 10) with 4 decimals, as text ("-3.1416"). */
static char *put_value(char *p, uint64_t *s) {
    int v = (int)(next(s) % 200000) - 100000;
    if (v < 0) { *p++ = '-'; v = -v; }
    if (v >= 100000) *p++ = '1';
    *p++ = (char)('0' + v / 10000 % 10);
    *p++ = '.';
    for (int div = 1000; div; div /= 10) *p++ = (char)('0' + v / div % 10);
    return p;
}

/* Writes rows from row(buf, s) until the file holds TARGET_BYTES; returns the rows written. */
static long write_rows(FILE *f, const char *header, char *(*row)(char *, uint64_t *, long)) {
    static char buf[1 << 16];
    uint64_t s = 0x9E3779B97F4A7C15ull;
    size_t total = fwrite(header, 1, strlen(header), f);
    long n = 0;
    while (total < TARGET_BYTES) {
        size_t len = (size_t)(row(buf, &s, n++) - buf);
        total += fwrite(buf, 1, len, f);
    }
    return n;
}

static char *csv_row(char *p, uint64_t *s, long i) {
    for (int j = 0; j < DENSE_D; j++) { p = put_value(p, s); *p++ = ','; }
    return p + sprintf(p, "c%ld\n", i % CLASSES);
}

static char *arff_row(char *p, uint64_t *s, long i) {
    return csv_row(p, s, i);              /* the same rows; the header differs */
}

static char *svm_row(char *p, uint64_t *s, long i) {
    p += sprintf(p, "%ld", i % CLASSES);
    long idx = 0;
    for (int j = 0; j < SVM_NNZ; j++) {
        idx += 1 + (long)(next(s) % (2 * SVM_D / SVM_NNZ - 1));
        if (idx > SVM_D) break;
        p += sprintf(p, " %ld:", idx);
        p = put_value(p, s);
    }
    *p++ = '\n';
    return p;
}

/* X (N, NPY_D) float32 and y (N) int64, version 1.0. Returns 0 or -1. */
static int write_npy(const char *xpath, const char *ypath) {
    long n = (TARGET_BYTES + NPY_D * 4 - 1) / (NPY_D * 4);
    FILE *fx = fopen(xpath, "wb"), *fy = fopen(ypath, "wb");
    if (!fx || !fy) { if (fx) fclose(fx); if (fy) fclose(fy); return -1; }
    char head[128];
    int len = snprintf(head, sizeof head, "{'descr': '<f4', 'fortran_order': False, 'shape': (%ld, %d), }", n, NPY_D);
    fprintf(fx, "\x93NUMPY%c%c%c%c%-*s\n", 1, 0, 118, 0, 117, head);   /* 10 + 117 + 1 = 128 */
    len = snprintf(head, sizeof head, "{'descr': '<i8', 'fortran_order': False, 'shape': (%ld,), }", n);
    fprintf(fy, "\x93NUMPY%c%c%c%c%-*s\n", 1, 0, 118, 0, 117, head);
    (void)len;
    uint64_t s = 42;
    static float row[NPY_D];
    for (long i = 0; i < n; i++) {
        for (int j = 0; j < NPY_D; j++) row[j] = (float)((double)(next(&s) >> 11) * 0x1p-53 * 2 - 1);
        int64_t y = i % CLASSES;
        fwrite(row, sizeof row, 1, fx);
        fwrite(&y, sizeof y, 1, fy);
    }
    int bad = ferror(fx) || ferror(fy);
    return (fclose(fx) | fclose(fy) | bad) ? -1 : 0;
}

typedef int (*Loader)(Dataset *, Dataset *, const char *, const char *, const char *, char *, size_t);

typedef struct {
    int rc, n, d;
    long long nnz;
    double seconds, cpu_seconds, data_bytes, peak_bytes;
    char err[256];
} Result;

static double data_bytes(const Dataset *ds) {
    if (!ds->y) return 0;
    double b = (double)ds->n * sizeof *ds->y;
    if (ds->x) return b + (double)ds->n * ds->d * sizeof *ds->x;
    return b + ((double)ds->n + 1) * sizeof *ds->indptr +
           (double)ds->indptr[ds->n] * (sizeof *ds->indices + sizeof *ds->values);
}

/* Runs one load in a child process: load (NULL: dataset_open_with on spec). */
static Result measure(Loader load, const char *path, const char *spec) {
    Result res = { .rc = -1 };
    int fd[2];
    if (pipe(fd)) return res;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        Dataset a = {0}, b = {0};
        Result r = {0};
        double t0 = util_seconds();
        if (!path) r.rc = 0;            /* the baseline: the process alone */
        else if (load) r.rc = load(&a, &b, path, NULL, NULL, r.err, sizeof r.err);
        else r.rc = dataset_open_with(&a, &b, spec, NULL, 1, r.err, sizeof r.err);
        r.seconds = util_seconds() - t0;
        if (path && !r.rc) {
            r.n = a.n + b.n;
            r.d = a.d;
            r.nnz = a.x ? 0 : (long long)(a.indptr[a.n] + (b.indptr ? b.indptr[b.n] : 0));
            r.data_bytes = data_bytes(&a) + data_bytes(&b);
        }
        ssize_t w = write(fd[1], &r, sizeof r);
        _exit(w == (ssize_t)sizeof r ? 0 : 1);
    }
    close(fd[1]);
    if (pid < 0 || read(fd[0], &res, sizeof res) != (ssize_t)sizeof res) res.rc = -1;
    close(fd[0]);
    struct rusage ru;
    int status;
    if (pid > 0 && wait4(pid, &status, 0, &ru) == pid) {
        res.peak_bytes = (double)ru.ru_maxrss * 1024;
        res.cpu_seconds = (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
                          (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
    }
    return res;
}

static long long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long long n = ftell(f);
    fclose(f);
    return n;
}

int main(void) {
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char dir[512], path[4][600], spec[4][2600], npy_y[600];
    snprintf(dir, sizeof dir, "%s/alsim-bench-load-XXXXXX", tmp);
    if (!mkdtemp(dir)) { perror("bench_load: mkdtemp"); return 1; }
    static const struct { const char *name, *file, *prefix; Loader load; } fmt[4] = {
        { "CSV (64 features, text labels)", "data.csv", "csv:", dataset_load_csv },
        { "svmlight (2^20 features, 48 nonzeros a row)", "data.svm", "svmlight:", dataset_load_svmlight },
        { ".npy float32 (256 features) + int64 labels", "X.npy", "npy:", dataset_load_npy },
        { "ARFF (64 numeric + a nominal class)", "data.arff", "arff:", dataset_load_arff },
    };
    for (int f = 0; f < 4; f++) snprintf(path[f], sizeof path[f], "%s/%s", dir, fmt[f].file);
    snprintf(npy_y, sizeof npy_y, "%s/y.npy", dir);

    double t0 = util_seconds();
    char arff_head[8192], *h = arff_head;
    h += sprintf(h, "@relation bench\n");
    for (int j = 0; j < DENSE_D; j++) h += sprintf(h, "@attribute f%d numeric\n", j);
    h += sprintf(h, "@attribute class {");
    for (int c = 0; c < CLASSES; c++) h += sprintf(h, "%sc%d", c ? "," : "", c);
    sprintf(h, "}\n@data\n");
    char csv_head[1024], *c = csv_head;
    for (int j = 0; j < DENSE_D; j++) c += sprintf(c, "f%d,", j);
    sprintf(c, "label\n");
    int ok = 1;
    for (int f = 0; f < 4 && ok; f++) {
        if (f == 2) { ok = write_npy(path[2], npy_y) == 0; continue; }
        FILE *out = fopen(path[f], "wb");
        if (!out) { ok = 0; break; }
        write_rows(out, f == 0 ? csv_head : f == 3 ? arff_head : "",
                   f == 0 ? csv_row : f == 1 ? svm_row : arff_row);
        ok = fclose(out) == 0;
    }
    if (!ok) { fprintf(stderr, "bench_load: cannot write the files in %s\n", dir); return 1; }
    double gen_s = util_seconds() - t0;

    Result base = measure(NULL, NULL, NULL);
    printf("Files of at least 100 MiB each, written to %s (%.0f s), loaded in a child process each; "
           "the process alone peaks at %.1f MiB. Peak = the child's max RSS; data = x (or CSR) + labels "
           "in memory; `load` = the loader alone, `open` = --dataset (load + 30%% split).\n\n",
           tmp, gen_s, base.peak_bytes / 1048576);
    printf("| format | file MB | rows x features (nonzeros) | load s (CPU s) | MB/s (per CPU s) | data MiB | "
           "load peak MiB | peak / data | open s | open peak / data |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|\n");
    int failed = 0;
    for (int f = 0; f < 4; f++) {
        const char *p = path[f];
        char pair[1300];   /* X,y */
        if (f == 2) { snprintf(pair, sizeof pair, "%s,%s", path[2], npy_y); p = pair; }
        snprintf(spec[f], sizeof spec[f], "%s%s", fmt[f].prefix, p);
        double mb = (double)file_size(path[f]) + (f == 2 ? (double)file_size(npy_y) : 0);
        Result r = measure(fmt[f].load, p, NULL), o = measure(NULL, p, spec[f]);
        if (r.rc || o.rc) {
            printf("| %s | %.1f | failed: %s%s | | | | | | | |\n", fmt[f].name, mb / 1e6, r.rc ? r.err : o.err,
                   r.rc == -1 ? "(child died)" : "");
            failed = 1;
            continue;
        }
        double ratio = r.peak_bytes / r.data_bytes, oratio = o.peak_bytes / o.data_bytes;
        char shape[96];
        if (r.nnz) snprintf(shape, sizeof shape, "%d x %d (%lld)", r.n, r.d, r.nnz);
        else snprintf(shape, sizeof shape, "%d x %d", r.n, r.d);
        printf("| %s | %.1f | %s | %.2f (%.2f) | %.0f (%.0f) | %.1f | %.1f | %.2f %s | %.2f | %.2f %s |\n",
               fmt[f].name, mb / 1e6, shape, r.seconds, r.cpu_seconds, mb / 1e6 / r.seconds,
               mb / 1e6 / r.cpu_seconds, r.data_bytes / 1048576, r.peak_bytes / 1048576, ratio,
               ratio <= 2 ? "✓" : "✗", o.seconds, oratio, oratio <= 2 ? "✓" : "✗");
        failed |= ratio > 2 || oratio > 2;
    }
    for (int f = 0; f < 4; f++) remove(path[f]);
    remove(npy_y);
    rmdir(dir);
    if (failed) printf("\n**bench_load: a load failed or peaked above 2x its data.**\n");
    return failed;
}
