/* idx — LeCun's IDX format (MNIST and friends): the loader behind mnist, DIR and idx:... specs.
 *
 * Its header is read first and checked against the file's size (and the values against the
 * machine's memory) before the rest is read into one buffer and its SHA-256 taken, so a
 * malformed file is refused after 36 bytes and can never make us read out of bounds; a
 * cached file with an expected hash is hashed whole first. Dimensions are unsigned 32-bit
 * (alsim reads up to 2^31 - 1). Every error is one line, "PATH: byte OFFSET: reason", and returns 2 (3 for out of
 * memory). Layout: bytes 0-1 zero, byte 2 the type, byte 3 the number of dims, then each dim
 * as a big-endian int32, then the values, big-endian, row-major.
 */
#include "datasets/dataset.h"
#include "datasets/loader.h"
#include "datasets/sha256.h"
#include "sim/util.h"

#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CLASSES 65536   /* labels above this are surely not class ids */

/* A whole IDX file in memory, header checked. */
typedef struct {
    const char *path;
    uint8_t *buf;           /* (len) the whole file */
    size_t len;
    int type, ndim, dims[8];
    size_t count;           /* product of dims */
    size_t hdr, esize;      /* header bytes; bytes per value */
    char sha256[65];
} IdxFile;

static void idxfile_free(IdxFile *f) { free(f->buf); f->buf = NULL; }

static size_t type_size(int type) {
    switch (type) {
    case 0x08: case 0x09: return 1;
    case 0x0B: return 2;
    case 0x0C: case 0x0D: return 4;
    case 0x0E: return 8;
    default: return 0;
    }
}

static const char *type_name(int type) {
    switch (type) {
    case 0x08: return "u8";
    case 0x09: return "i8";
    case 0x0B: return "i16";
    case 0x0C: return "i32";
    case 0x0D: return "f32";
    case 0x0E: return "f64";
    default: return "?";
    }
}

static uint32_t be32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Value i of f, converted to double; i < f->count (so in bounds after idx_read). */
static double idx_get(const IdxFile *f, size_t i) {
    const uint8_t *p = f->buf + f->hdr + i * f->esize;
    switch (f->type) {
    case 0x08: return p[0];
    case 0x09: return (int8_t)p[0];
    case 0x0B: return (int16_t)(uint16_t)(p[0] << 8 | p[1]);
    case 0x0C: return (int32_t)be32(p);
    case 0x0D: { uint32_t u = be32(p); float v; memcpy(&v, &u, 4); return v; }
    default: {
        uint64_t u = (uint64_t)be32(p) << 32 | be32(p + 4);
        double v;
        memcpy(&v, &u, 8);
        return v;
    }
    }
}

/* Checks an IDX header: the first len bytes of b (all of the header, unless the file is
 * shorter) of a file of file_len bytes (SIZE_MAX: not known yet, a pipe): magic, type, dims,
 * and the size they declare against file_len. Fills f's type, esize, ndim, dims, hdr and
 * count. Returns 0 or 2. */
static int idx_header(IdxFile *f, const uint8_t *b, size_t len, size_t file_len, char *err,
                      size_t errlen) {
    const char *path = f->path;
    if (len == 0)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 0: empty file (an IDX file starts 00 00 TT NN)", path);
    if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 0: this is a gzip file; gunzip it first", path);
    if (len < 4)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %zu: truncated header: %zu bytes, an IDX file "
                       "starts with 4 magic bytes 00 00 TT NN", path, len, len);
    if (b[0] != 0 || b[1] != 0)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 0: bad magic 0x%08x (an IDX file starts 00 00 TT NN)",
                       path, (unsigned)be32(b));
    if (!type_size(b[2]))
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 2: unknown IDX type 0x%02X (known: 08 u8, 09 i8, "
                       "0B i16, 0C i32, 0D f32, 0E f64)", path, (unsigned)b[2]);
    if (b[3] < 1 || b[3] > 8)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 3: %d dims (alsim reads 1 to 8)", path, b[3]);
    f->type = b[2];
    f->esize = type_size(f->type);
    f->ndim = b[3];
    f->hdr = 4 + 4 * (size_t)f->ndim;
    if (len < f->hdr)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %zu: truncated header: %d dims need %zu header "
                       "bytes, the file has %zu", path, len, f->ndim, f->hdr, len);
    char shape[8 * 12] = "";
    size_t count = 1, off = 0;
    for (int i = 0; i < f->ndim; i++) {
        uint32_t dim = be32(b + 4 + 4 * i);     /* unsigned: 0xFFFFFFFF is 4294967295, not -1 */
        if (dim == 0 || dim > INT32_MAX)
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %d: dimension %d is %" PRIu32 " (%s)", path,
                           4 + 4 * i, i, dim, dim ? "alsim reads dimensions up to 2147483647" : "must be positive");
        if (count > SIZE_MAX / 8 / (size_t)dim)
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %d: dimensions overflow: their product "
                           "does not fit in memory", path, 4 + 4 * i);
        f->dims[i] = (int)dim;
        count *= (size_t)dim;
        off += (size_t)snprintf(shape + off, sizeof shape - off, "%s%" PRIu32, i ? "x" : "", dim);
    }
    f->count = count;
    if (file_len == SIZE_MAX) return 0;         /* a pipe: checked again once read */
    size_t want = count * f->esize, have = file_len - f->hdr;
    if (have < want)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %zu: truncated: header says %s %s = %zu data bytes, "
                       "the file has %zu after the %zu-byte header", path, file_len, shape,
                       type_name(f->type), want, have, f->hdr);
    if (have > want)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %zu: %zu trailing bytes after the data (header says "
                       "%s %s = %zu data bytes)", path, f->hdr + want, have - want, shape,
                       type_name(f->type), want);
    return 0;
}

/* Checks the whole IDX file in f->buf (f->len bytes, hashed into f->sha256) against want_sha
 * (or NULL), then its header. Returns 0 or 2; on failure f holds nothing. */
static int idx_check(IdxFile *f, const char *want_sha, char *err, size_t errlen) {
    int rc = 0;
    if (want_sha && strcmp(f->sha256, want_sha) != 0)
        rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 0: the cached file is corrupt (SHA-256 %.12s..., "
                     "expected %.12s...); delete it and alsim will fetch it again",
                     f->path, f->sha256, want_sha);
    if (!rc) rc = idx_header(f, f->buf, f->len, f->len, err, errlen);
    if (rc) idxfile_free(f);
    return rc;
}

/* Reads and checks an IDX file, header first (unless want_sha, the expected hash of a cached
 * file, asks for the whole file to be hashed before it is parsed): a file whose header
 * disagrees with its size is refused after 36 bytes, one whose values (plus extra bytes per
 * value for what the caller converts them to) would not fit in this machine's memory before
 * any is read (3), and a pipe is read up to the size its header declares. Returns 0, 2, 3 or
 * a stop; on failure f holds nothing. */
static int idx_read(IdxFile *f, const char *path, const char *want_sha, size_t extra,
                    char *err, size_t errlen) {
    memset(f, 0, sizeof *f);
    f->path = path;
    LdBinary b;
    int rc = ld_bin_open(&b, path, want_sha ? 0 : 4 + 4 * 8, err, errlen);
    if (rc) return rc;
    size_t total = SIZE_MAX;
    if (!want_sha) {
        IdxFile h = { .path = path };
        rc = idx_header(&h, b.buf, b.len, ld_bin_size(&b), err, errlen);
        total = h.hdr + h.count * h.esize;       /* count < SIZE_MAX / 8: no overflow */
        double need = (double)total + (double)extra * (double)h.count;
        if (!rc && need > (double)ld_phys_bytes()) {
            char a[48], m[48];
            rc = ld_fail(err, errlen, ALSIM_RUNTIME, "%s: byte 4: %zu values of %s need %s of memory to load, more "
                         "than this machine's %s", path, h.count, type_name(h.type), ld_bytes_text(a, sizeof a, need),
                         ld_bytes_text(m, sizeof m, (double)ld_phys_bytes()));
        }
    }
    if (!rc) rc = ld_bin_read(&b, total, err, errlen);
    if (!rc && !b.eof)                           /* a pipe going on past the declared data */
        rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %zu: trailing bytes: the file goes on after the %zu "
                     "bytes its header declares", path, total, total);
    if (rc) { ld_bin_close(&b); return rc; }
    f->buf = b.buf;
    f->len = b.len;
    b.buf = NULL;
    ld_bin_close(&b);
    sha256_hex(f->sha256, f->buf, f->len);
    return idx_check(f, want_sha, err, errlen);
}

/* Checks that float data is finite. Returns 0 or 2. */
static int check_finite(const IdxFile *f, char *err, size_t errlen) {
    if (f->type != 0x0D && f->type != 0x0E) return 0;
    for (size_t i = 0; i < f->count; i++) {
        double v = idx_get(f, i);
        if (!isfinite(v))
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %zu: value %zu is %s (IDX float data must be "
                        "finite)", f->path, f->hdr + i * f->esize, i, isnan(v) ? "NaN" : "Inf");
    }
    return 0;
}

/* The values of a checked file f into out; frees f's buffer. Returns 0, 2 or 3. */
static int to_array(IdxArray *out, IdxFile *f, char *err, size_t errlen) {
    int rc = check_finite(f, err, errlen);
    double *data = rc ? NULL : malloc(f->count * sizeof *data);
    if (!rc && !data) rc = ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory for %zu values", f->path, f->count);
    if (rc) { idxfile_free(f); return rc; }
    for (size_t i = 0; i < f->count; i++) data[i] = idx_get(f, i);
    out->type = f->type;
    out->ndim = f->ndim;
    memcpy(out->dims, f->dims, sizeof f->dims);
    out->count = f->count;
    out->data = data;
    memcpy(out->sha256, f->sha256, sizeof f->sha256);
    idxfile_free(f);
    return 0;
}

int idx_load(IdxArray *out, const char *path, char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    IdxFile f;
    int rc = idx_read(&f, path, NULL, sizeof(double), err, errlen);
    return rc ? rc : to_array(out, &f, err, errlen);
}

int idx_load_mem(IdxArray *out, const char *name, const void *data, size_t len,
                 char *err, size_t errlen) {
    memset(out, 0, sizeof *out);
    IdxFile f = { .path = name, .len = len };
    if (!(f.buf = malloc(len + 1))) return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory", name);
    if (len) memcpy(f.buf, data, len);
    sha256_hex(f.sha256, f.buf, len);
    int rc = idx_check(&f, NULL, err, errlen);
    return rc ? rc : to_array(out, &f, err, errlen);
}

void idx_free(IdxArray *a) {
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* Reads and checks a labels file: ndim 1, integer values 0..MAX_CLASSES-1, every class in
 * 0..max present, at least two classes. On success *labels (n) is malloc'd. */
static int read_labels(int32_t **labels, int *n_out, int *k_out, char sha[65], const char *path,
                       const char *want_sha, char *err, size_t errlen) {
    IdxFile f;
    int rc = idx_read(&f, path, want_sha, sizeof(int32_t), err, errlen);
    if (rc) return rc;
    int n = f.dims[0], k = 0;
    int32_t *y = NULL;
    int *counts = NULL;
    if (f.ndim != 1) {
        rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 3: a labels file has 1 dim, this one has %d", path, f.ndim);
        goto done;
    }
    y = malloc((size_t)n * sizeof *y);
    if (!y) { rc = ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory for %d labels", path, n); goto done; }
    for (int i = 0; i < n; i++) {
        double v = idx_get(&f, (size_t)i);
        size_t off = f.hdr + (size_t)i * f.esize;
        if (!(v == floor(v)))
            rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %zu: label %d is %g, not an integer class id",
                      path, off, i, v);
        else if (v < 0 || v >= MAX_CLASSES)
            rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %zu: label %d is %.0f, out of range (class ids "
                      "are 0..%d)", path, off, i, v, MAX_CLASSES - 1);
        if (rc) goto done;
        y[i] = (int32_t)v;
        if (y[i] + 1 > k) k = y[i] + 1;
    }
    counts = calloc((size_t)k, sizeof *counts);
    if (!counts) { rc = ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory", path); goto done; }
    for (int i = 0; i < n; i++) counts[y[i]]++;
    for (int c = 0; c < k && !rc; c++)
        if (!counts[c])
            rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %zu: class %d has no rows (labels must cover "
                      "every class 0..%d)", path, f.hdr, c, k - 1);
    if (!rc && k < 2)
        rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %zu: every label is 0; a dataset needs at least "
                  "2 classes", path, f.hdr);
done:
    free(counts);
    if (!rc) {
        *labels = y; *n_out = n; *k_out = k;
        memcpy(sha, f.sha256, 65);
    } else {
        free(y);
    }
    idxfile_free(&f);
    return rc;
}

/* dataset_from_idx with expected hashes (NULL: unchecked) and the two file hashes out. */
static int from_idx(Dataset *ds, char sha_out[2][65], const char *images_path,
                    const char *labels_path, double scale, const char *const want[2],
                    char *err, size_t errlen) {
    memset(ds, 0, sizeof *ds);
    int32_t *y = NULL;
    int n = 0, k = 0;
    int rc = read_labels(&y, &n, &k, sha_out[1], labels_path, want ? want[1] : NULL, err, errlen);
    if (rc) return rc;
    IdxFile f;
    if ((rc = idx_read(&f, images_path, want ? want[0] : NULL, sizeof(float), err, errlen))) { free(y); return rc; }
    size_t d = f.count / (size_t)f.dims[0];
    if (f.dims[0] != n)
        rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 4: %d labels for %d images in %s", labels_path, n,
                  f.dims[0], images_path);
    else if (d > INT_MAX)
        rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 8: %zu features per row, more than alsim handles",
                  images_path, d);
    if (!rc) rc = dataset_alloc(ds, n, (int)d, k, "", err, errlen);
    if (rc) { free(y); idxfile_free(&f); return rc; }

    if (scale == 0) scale = f.type == 0x08 ? 255.0 : 1.0;
    double inv = 1.0 / scale;
    for (size_t i = 0; i < f.count && !rc; i++) {
        double v = idx_get(&f, i), x = v * inv;
        if (!(fabs(x) <= LD_MAX_FEATURE))   /* NaN, Inf, beyond float32 or alsim's bound */
            rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte %zu: value %zu is %g (%s)", images_path,
                         f.hdr + i * f.esize, i, v, fabs(x) <= FLT_MAX ? "beyond +-1e18, alsim's bound on "
                         "features: float32 training overflows past it; a missing-value marker?"
                         : "features must be finite float32");
        else
            ds->x[i] = (float)x;
    }
    memcpy(ds->y, y, (size_t)n * sizeof *y);
    free(y);
    if (f.ndim == 3) ds->image = (ImageShape){1, f.dims[1], f.dims[2]};                /* (n, H, W) */
    else if (f.ndim == 4) ds->image = (ImageShape){f.dims[1], f.dims[2], f.dims[3]};   /* (n, C, H, W) */
    memcpy(sha_out[0], f.sha256, 65);
    idxfile_free(&f);
    if (rc) { dataset_free(ds); return rc; }

    char text[2 * 65 + 1];
    snprintf(text, sizeof text, "%s\n%s\n", sha_out[0], sha_out[1]);
    sha256_hex(ds->sha256, text, strlen(text));
    snprintf(ds->name, sizeof ds->name, "idx:%s", images_path);
    return 0;
}

int dataset_from_idx(Dataset *ds, const char *images_path, const char *labels_path,
                     double scale, char *err, size_t errlen) {
    char sha[2][65];
    return from_idx(ds, sha, images_path, labels_path, scale, NULL, err, errlen);
}

int dataset_open_idx(Dataset *pool, Dataset *test, const char *const paths[4],
                     const char *const want_sha[4], const char *name, uint64_t split_seed,
                     char *err, size_t errlen) {
    memset(pool, 0, sizeof *pool);
    memset(test, 0, sizeof *test);
    char sha[4][65];
    int have_test = paths[2] && paths[3];
    int rc = from_idx(pool, sha, paths[0], paths[1], 0, want_sha, err, errlen);
    if (rc) return rc;
    if (have_test) {
        rc = from_idx(test, sha + 2, paths[2], paths[3], 0, want_sha ? want_sha + 2 : NULL,
                      err, errlen);
        if (!rc && (test->d != pool->d || test->k != pool->k))
            rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 0: the test set has %d features and %d classes, "
                      "the training set (%s) %d and %d", paths[2], test->d, test->k, paths[0],
                      pool->d, pool->k);
        else if (!rc && memcmp(&test->image, &pool->image, sizeof pool->image))
            rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 3: the test images are %dx%dx%d (CxHxW), the "
                         "training images (%s) %dx%dx%d", paths[2], test->image.c, test->image.h,
                         test->image.w, paths[0], pool->image.c, pool->image.h, pool->image.w);
    } else {
        Dataset all = *pool;
        *pool = (Dataset){0};
        rc = dataset_split_stratified(pool, test, &all, 0.3, split_seed, err, errlen);
    }
    if (rc) { dataset_free(pool); dataset_free(test); return rc; }

    char text[4 * 65 + 1] = "";
    for (int i = 0; i < (have_test ? 4 : 2); i++) {
        strcat(text, sha[i]);
        strcat(text, "\n");
    }
    sha256_hex(pool->sha256, text, strlen(text));
    memcpy(test->sha256, pool->sha256, sizeof pool->sha256);
    snprintf(pool->name, sizeof pool->name, "%s", name);
    snprintf(test->name, sizeof test->name, "%s", name);
    return 0;
}
