/* checkpoint — see checkpoint.h. Layout: "ALSIMCK2", then the fields in declaration order
 * as raw little-endian machine values, arrays after their counts, then the SHA-256 of all
 * that precedes it. */
#include "sim/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "datasets/sha256.h"
#include "sim/util.h"

static const char MAGIC[8] = {'A', 'L', 'S', 'I', 'M', 'C', 'K', '2'};

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

int checkpoint_save(const char *dir, const Checkpoint *c, char *err, size_t errlen) {
    Buf b = {0};
    put(&b, MAGIC, sizeof MAGIC);
    put(&b, &c->seed, sizeof c->seed);
    put(&b, c->config_hash, sizeof c->config_hash);
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
    if (!b.oom) {
        Sha256 s;
        unsigned char digest[32];
        sha256_init(&s);
        sha256_update(&s, b.p, b.n);
        sha256_final(digest, &s);
        put(&b, digest, sizeof digest);
    }
    if (b.oom) { free(b.p); snprintf(err, errlen, "%s: out of memory for the checkpoint", dir); return ALSIM_RUNTIME; }

    char tmp[4200], path[4200];
    snprintf(tmp, sizeof tmp, "%s/checkpoint.bin.tmp", dir);
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    int ok = fd >= 0;
    size_t done = 0;
    while (ok && done < b.n) {
        ssize_t w = write(fd, b.p + done, b.n - done);
        if (w <= 0) ok = 0; else done += (size_t)w;
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0) ok = 0;
    ok = ok && rename(tmp, path) == 0;
    if (ok) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        ok = dfd >= 0 && fsync(dfd) == 0;
        if (dfd >= 0) close(dfd);
    }
    free(b.p);
    if (!ok) {
        snprintf(err, errlen, "%s: cannot write the checkpoint: %s", path, strerror(errno));
        unlink(tmp);
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

int checkpoint_load(Checkpoint *c, const char *dir, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    char path[4200];
    snprintf(path, sizeof path, "%s/checkpoint.bin", dir);
    unsigned char *data;
    size_t n;
    int read_rc = util_read_file((char **)&data, &n, path, err, errlen);
    if (read_rc == ALSIM_BAD_INPUT && errno == ENOENT) return 1;
    if (read_rc) return read_rc;

    int rc = ALSIM_BAD_INPUT;
    const char *why = NULL;
    unsigned char digest[32];
    if (n < sizeof MAGIC + 32 || memcmp(data, MAGIC, sizeof MAGIC)) why = "not an alsim checkpoint of this version";
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
        get(&r, c->config_hash, sizeof c->config_hash);
        c->config_hash[8] = 0;
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
        if (r.short_ || r.at != r.n) why = "damaged (its sizes do not add up)";
        else rc = 0;
    }
    free(data);
    if (rc) {
        snprintf(err, errlen, "%s: %s; run without --resume to start the run again", path, why);
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
    memset(c, 0, sizeof *c);
}
