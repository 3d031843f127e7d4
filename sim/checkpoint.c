/* checkpoint — see checkpoint.h. Layout: "ALSIMCK4", then the fields in declaration order
 * as raw little-endian machine values (the inputs' strings with their NULs), arrays after
 * their counts, then the SHA-256 of all that precedes it. ALSIMCK3 is the same without the
 * strategy's state (its two fields). */
#include "sim/checkpoint.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/sha256.h"
#include "sim/util.h"

static const char MAGIC[8] = {'A', 'L', 'S', 'I', 'M', 'C', 'K', '4'};
static const char MAGIC_CK3[8] = {'A', 'L', 'S', 'I', 'M', 'C', 'K', '3'};   /* read, never written */

void checkpoint_inputs(CheckpointInputs *in, const char config_hash[9], const Dataset *pool,
                       const Dataset *test) {
    memset(in, 0, sizeof *in);
    memcpy(in->config_hash, config_hash, 8);
    snprintf(in->pool_sha256, sizeof in->pool_sha256, "%s", pool->sha256);
    snprintf(in->test_sha256, sizeof in->test_sha256, "%s", test->sha256);
    in->pool_rows = pool->n;
    in->test_rows = test->n;
    in->features = pool->d;
    in->classes = pool->k;
    Sha256 s;
    unsigned char digest[32];
    sha256_init(&s);
    for (int i = 0; i < pool->k; i++) {   /* each name with its length: no two lists collide */
        const char *name = pool->class_names && pool->class_names[i] ? pool->class_names[i] : "";
        uint64_t len = strlen(name);
        sha256_update(&s, &len, sizeof len);
        sha256_update(&s, name, len);
    }
    sha256_final(digest, &s);
    for (int i = 0; i < 32; i++) snprintf(in->classes_sha256 + 2 * i, 3, "%02x", digest[i]);
}

/* Appends "; " (unless first) and a formatted difference to out. */
static void add_diff(char *out, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add_diff(char *out, size_t len, const char *fmt, ...) {
    size_t at = strlen(out);
    if (at && at + 2 < len) { memcpy(out + at, "; ", 3); at += 2; }
    va_list ap;
    va_start(ap, fmt);
    if (at < len) vsnprintf(out + at, len - at, fmt, ap);
    va_end(ap);
}

int checkpoint_check_inputs(const CheckpointInputs *have, const CheckpointInputs *want,
                            const char *data, const char *test, char *err, size_t errlen) {
    char what[1024] = "";
    const char *whose = data;     /* the file the message names first */
    if (strcmp(have->config_hash, want->config_hash))
        add_diff(what, sizeof what, "config hash %s, was %s", want->config_hash, have->config_hash);
    if (strcmp(have->pool_sha256, want->pool_sha256))
        add_diff(what, sizeof what, "SHA-256 %s, was %s", want->pool_sha256, have->pool_sha256);
    /* A test set split from the dataset shares its hash: named once, as the dataset's. */
    const int own_test = strcmp(have->test_sha256, have->pool_sha256) || strcmp(want->test_sha256, want->pool_sha256);
    if (own_test && strcmp(have->test_sha256, want->test_sha256)) {
        if (!what[0] && test) whose = test;
        add_diff(what, sizeof what, "test set SHA-256 %s, was %s", want->test_sha256, have->test_sha256);
    }
    if (have->pool_rows != want->pool_rows)
        add_diff(what, sizeof what, "pool rows %d, were %d", want->pool_rows, have->pool_rows);
    if (have->test_rows != want->test_rows)
        add_diff(what, sizeof what, "test rows %d, were %d", want->test_rows, have->test_rows);
    if (have->features != want->features)
        add_diff(what, sizeof what, "features %d, were %d", want->features, have->features);
    if (have->classes != want->classes)
        add_diff(what, sizeof what, "classes %d, were %d", want->classes, have->classes);
    else if (strcmp(have->classes_sha256, want->classes_sha256))
        add_diff(what, sizeof what, "the class names differ");
    if (!what[0]) return 0;
    char both[2100];    /* one hash covering the dataset and its --test file: name both */
    if (whose == data && test && !own_test && strcmp(have->pool_sha256, want->pool_sha256)) {
        snprintf(both, sizeof both, "%s (with --test %s)", data, test);
        whose = both;
    }
    snprintf(err, errlen, "%s: changed since the run was checkpointed (%s); the checkpoint is kept as it was: "
             "rerun without --resume, or with --force, to start the run over on the new data", whose, what);
    return ALSIM_BAD_INPUT;
}

/* A growable byte buffer: the file is built in memory, then written in one go. */
typedef struct { unsigned char *p; size_t n, cap; int oom; } Buf;

static void put(Buf *b, const void *src, size_t n) {
    if (b->oom || n == 0) return;       /* an empty array may be NULL */
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n) cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) { b->oom = 1; return; }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, n);
    b->n += n;
}

/* The inputs, field by field (no padding bytes in the file). */
static void put_inputs(Buf *b, const CheckpointInputs *in) {
    put(b, in->config_hash, sizeof in->config_hash);
    put(b, in->pool_sha256, sizeof in->pool_sha256);
    put(b, in->test_sha256, sizeof in->test_sha256);
    put(b, &in->pool_rows, sizeof in->pool_rows);
    put(b, &in->test_rows, sizeof in->test_rows);
    put(b, &in->features, sizeof in->features);
    put(b, &in->classes, sizeof in->classes);
    put(b, in->classes_sha256, sizeof in->classes_sha256);
}

int checkpoint_save(int dirfd, const char *dir, const Checkpoint *c, char *err, size_t errlen) {
    Buf b = {0};
    put(&b, MAGIC, sizeof MAGIC);
    put(&b, &c->seed, sizeof c->seed);
    put_inputs(&b, &c->inputs);
    put(&b, &c->round, sizeof c->round);
    put(&b, &c->n_labeled, sizeof c->n_labeled);
    put(&b, c->rows, (size_t)c->n_labeled * sizeof *c->rows);
    put(&b, c->labels, (size_t)c->n_labeled * sizeof *c->labels);
    put(&b, &c->queries, sizeof c->queries);
    put(&b, &c->off_curve, sizeof c->off_curve);
    put(&b, &c->off_rounds, sizeof c->off_rounds);
    put(&b, &c->off_timings, sizeof c->off_timings);
    put(&b, &c->n_curve, sizeof c->n_curve);
    put(&b, c->curve_x, (size_t)c->n_curve * sizeof *c->curve_x);
    put(&b, c->curve_acc, (size_t)c->n_curve * sizeof *c->curve_acc);
    put(&b, &c->elapsed, sizeof c->elapsed);
    put(&b, c->last, sizeof c->last);
    put(&b, &c->diverged, sizeof c->diverged);
    put(&b, &c->model_bytes, sizeof c->model_bytes);
    put(&b, c->model_state, c->model_bytes);
    put(&b, &c->strategy_bytes, sizeof c->strategy_bytes);
    put(&b, c->strategy_state, c->strategy_bytes);
    if (!b.oom) {
        Sha256 s;
        unsigned char digest[32];
        sha256_init(&s);
        sha256_update(&s, b.p, b.n);
        sha256_final(digest, &s);
        put(&b, digest, sizeof digest);
    }
    if (b.oom) { free(b.p); snprintf(err, errlen, "%s: out of memory for the checkpoint", dir); return ALSIM_RUNTIME; }

    char path[4200];
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    int fd = openat(dirfd, "checkpoint.bin.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0666);
    int ok = fd >= 0;
    size_t done = 0;
    while (ok && done < b.n) {
        ssize_t w = write(fd, b.p + done, b.n - done);
        if (w <= 0) ok = 0; else done += (size_t)w;
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) ok = 0;
    ok = ok && renameat(dirfd, "checkpoint.bin.tmp", dirfd, "checkpoint.bin") == 0;
    ok = ok && fsync(dirfd) == 0;
    free(b.p);
    if (!ok) {
        snprintf(err, errlen, "%s: cannot write the checkpoint: %s", path, strerror(errno));
        unlinkat(dirfd, "checkpoint.bin.tmp", 0);
        return ALSIM_RUNTIME;
    }
    return 0;
}

/* A reader over the file's bytes; any read past the end marks it short. */
typedef struct { const unsigned char *p; size_t n, at; int short_; } Reader;

static void get(Reader *r, void *dst, size_t n) {
    if (r->short_ || r->n - r->at < n) { r->short_ = 1; memset(dst, 0, n); return; }
    memcpy(dst, r->p + r->at, n);
    r->at += n;
}

/* Allocates count elements of size and reads them; NULL (and short) when impossible. */
static void *get_array(Reader *r, size_t count, size_t size) {
    if (r->short_ || count > (r->n - r->at) / (size ? size : 1)) { r->short_ = 1; return NULL; }
    size_t bytes = count * size;
    void *a = malloc(bytes > 0 ? bytes : 1);
    if (a) get(r, a, count * size); else r->short_ = 1;
    return a;
}

/* The whole of the file name in the folder dirfd, not through a link: *data (malloc'd), *n.
 * 0; 1 when there is none; 2 (a link, unreadable) or 3 (out of memory) with a reason. */
static int read_at(unsigned char **data, size_t *n, int dirfd, const char *name, const char *path,
                   char *err, size_t errlen) {
    *data = NULL;
    *n = 0;
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) return 1;
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path,
                 errno == ELOOP ? "a symbolic link, not alsim's checkpoint" : strerror(errno));
        return ALSIM_BAD_INPUT;
    }
    size_t cap = 1 << 16;
    unsigned char *buf = malloc(cap);
    ssize_t got = 0;
    while (buf && (got = read(fd, buf + *n, cap - *n)) > 0) {
        *n += (size_t)got;
        if (*n == cap) {
            unsigned char *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap *= 2) : NULL;
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    int e = errno;
    close(fd);
    if (!buf) { snprintf(err, errlen, "%s: out of memory reading it", path); return ALSIM_RUNTIME; }
    if (got < 0) { free(buf); snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e)); return ALSIM_BAD_INPUT; }
    *data = buf;
    return 0;
}

static void get_inputs(Reader *r, CheckpointInputs *in) {
    get(r, in->config_hash, sizeof in->config_hash);
    get(r, in->pool_sha256, sizeof in->pool_sha256);
    get(r, in->test_sha256, sizeof in->test_sha256);
    get(r, &in->pool_rows, sizeof in->pool_rows);
    get(r, &in->test_rows, sizeof in->test_rows);
    get(r, &in->features, sizeof in->features);
    get(r, &in->classes, sizeof in->classes);
    get(r, in->classes_sha256, sizeof in->classes_sha256);
    in->config_hash[sizeof in->config_hash - 1] = 0;   /* strings, whatever the file says */
    in->pool_sha256[sizeof in->pool_sha256 - 1] = 0;
    in->test_sha256[sizeof in->test_sha256 - 1] = 0;
    in->classes_sha256[sizeof in->classes_sha256 - 1] = 0;
}

int checkpoint_load(Checkpoint *c, int dirfd, const char *dir, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    char path[4200];
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    unsigned char *data;
    size_t n;
    int read_rc = read_at(&data, &n, dirfd, "checkpoint.bin", path, err, errlen);
    if (read_rc) return read_rc;

    int rc = ALSIM_BAD_INPUT;
    const char *why = NULL;
    char older[160];
    unsigned char digest[32];
    const int ck3 = n >= sizeof MAGIC && !memcmp(data, MAGIC_CK3, sizeof MAGIC_CK3);
    if (n >= sizeof MAGIC && !memcmp(data, MAGIC, 7) && data[7] != MAGIC[7] && !ck3) {
        snprintf(older, sizeof older, "of format %.8s, not this alsim's %.8s (an older or newer alsim wrote it)",
                 (const char *)data, MAGIC);
        why = older;
    } else if (n < sizeof MAGIC + 32 || (memcmp(data, MAGIC, sizeof MAGIC) && !ck3))
        why = "not an alsim checkpoint of this version";
    else {
        Sha256 s;
        sha256_init(&s);
        sha256_update(&s, data, n - 32);
        sha256_final(digest, &s);
        if (memcmp(digest, data + n - 32, 32)) why = "damaged (its SHA-256 does not match)";
    }
    if (!why) {
        Reader r = {data, n - 32, sizeof MAGIC, 0};
        get(&r, &c->seed, sizeof c->seed);
        get_inputs(&r, &c->inputs);
        get(&r, &c->round, sizeof c->round);
        get(&r, &c->n_labeled, sizeof c->n_labeled);
        if (c->n_labeled < 0) r.short_ = 1;
        c->rows = get_array(&r, (size_t)(c->n_labeled > 0 ? c->n_labeled : 0), sizeof *c->rows);
        c->labels = get_array(&r, (size_t)(c->n_labeled > 0 ? c->n_labeled : 0), sizeof *c->labels);
        get(&r, &c->queries, sizeof c->queries);
        get(&r, &c->off_curve, sizeof c->off_curve);
        get(&r, &c->off_rounds, sizeof c->off_rounds);
        get(&r, &c->off_timings, sizeof c->off_timings);
        get(&r, &c->n_curve, sizeof c->n_curve);
        if (c->n_curve < 0) r.short_ = 1;
        c->curve_x = get_array(&r, (size_t)(c->n_curve > 0 ? c->n_curve : 0), sizeof *c->curve_x);
        c->curve_acc = get_array(&r, (size_t)(c->n_curve > 0 ? c->n_curve : 0), sizeof *c->curve_acc);
        get(&r, &c->elapsed, sizeof c->elapsed);
        get(&r, c->last, sizeof c->last);
        get(&r, &c->diverged, sizeof c->diverged);
        get(&r, &c->model_bytes, sizeof c->model_bytes);
        c->model_state = get_array(&r, c->model_bytes, 1);
        if (!ck3) {
            get(&r, &c->strategy_bytes, sizeof c->strategy_bytes);
            c->strategy_state = get_array(&r, c->strategy_bytes, 1);
        }
        if (r.short_ || r.at != r.n) why = "damaged (its sizes do not add up)";
        else rc = 0;
    }
    free(data);
    if (rc) {
        snprintf(err, errlen, "%s: %s; run without --resume (or with --force) to start the run again", path, why);
        checkpoint_free(c);
    }
    return rc;
}

void checkpoint_free(Checkpoint *c) {
    free(c->rows);
    free(c->labels);
    free(c->curve_x);
    free(c->curve_acc);
    free(c->model_state);
    free(c->strategy_state);
    memset(c, 0, sizeof *c);
}
