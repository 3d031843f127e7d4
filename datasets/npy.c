/* npy — NumPy .npy files: `--dataset npy:X.npy,y.npy`, the way to bring a matrix of
 * embeddings from any encoder (np.save("X.npy", X.astype(np.float32)); np.save("y.npy", y)).
 *
 * A file is "\x93NUMPY", a version byte pair (1.0, 2.0 or 3.0), a little-endian header length
 * (2 bytes for 1.0, 4 after), a Python dict literal {'descr': '<f4', 'fortran_order': False,
 * 'shape': (N, D), } padded with spaces, then the raw data. X: 2-D (N, D), or images of shape
 * (N, H, W) or (N, C, H, W), flattened row-major to D = C·H·W features with that image shape
 * (dataset.h); float16, float32 or float64 (integers and bools are read as numbers too), C or
 * Fortran order, either byte order.
 * y: (N,) or (N, 1), integers, bools, integral floats, or strings ('<U..' unicode or '|S..'
 * bytes), kept as class names (order: see loader.h). Object arrays (pickles) are refused.
 *
 * A file's header is read and checked first, against the file's size and the machine's
 * memory (read_npy); then the file is read whole and checked again before any value is
 * touched. A pipe is read up to the size its header declares.
 * Peak memory: X is converted to float32 inside the buffer it was read into (C order, 4 or 8
 * bytes per value), so a float32 X costs its own size once; float16 and Fortran order need a
 * second array. Errors: "PATH: byte B: reason". Assumes a little-endian host, as alsim does.
 */
#include "datasets/loader.h"
#include "sim/util.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_HEAD (1 << 20)      /* bytes read before the header is checked: any header fits */

typedef struct {
    const char *path;
    char descr[16];         /* as written, for messages */
    char kind;              /* f, i, u, b, U (UTF-32), S (bytes) */
    int esize;              /* bytes per element */
    int big;                /* big-endian data */
    int fortran;            /* column-major */
    int ndim;
    int64_t shape[8];
    size_t count;           /* elements */
    size_t data;            /* offset of the first data byte */
} Npy;

static int bad(const Npy *h, size_t at, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int bad(const Npy *h, size_t at, char *err, size_t errlen, const char *fmt, ...) {
    int n = snprintf(err, errlen, "%s: byte %zu: ", h->path, at);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return ALSIM_BAD_INPUT;
}

static void shape_text(char *out, size_t len, const Npy *h) {
    size_t o = (size_t)snprintf(out, len, "(");
    for (int i = 0; i < h->ndim && o < len; i++)
        o += (size_t)snprintf(out + o, len - o, "%s%lld", i ? ", " : "", (long long)h->shape[i]);
    if (o < len) snprintf(out + o, len - o, h->ndim == 1 ? ",)" : ")");
}

/* The dict parser: p moves through the header text [p, end). */
typedef struct { const uint8_t *b, *p, *end; } Cursor;

static void skip_ws(Cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')) c->p++;
}

static int eat(Cursor *c, char ch) {
    skip_ws(c);
    if (c->p < c->end && *c->p == (uint8_t)ch) { c->p++; return 1; }
    return 0;
}

/* A quoted Python string into out (len): 0, or -1 when it is not one or is too long. */
static int string_lit(Cursor *c, char *out, size_t len) {
    skip_ws(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return -1;
    uint8_t q = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != q) {
        if (n + 1 >= len || *c->p < 32 || *c->p > 126) return -1;
        out[n++] = (char)*c->p++;
    }
    if (c->p >= c->end) return -1;
    c->p++;
    out[n] = '\0';
    return 0;
}

/* Parses descr ("<f4", "|u1", "<U12", ...) into h. 0, or -1 unsupported. */
static int parse_descr(Npy *h) {
    const char *s = h->descr;
    if (!strchr("<>|=", s[0]) || !s[1]) return -1;
    h->big = s[0] == '>';
    h->kind = s[1];
    char *end;
    long n = strtol(s + 2, &end, 10);
    if (*end || end == s + 2 || n < 1 || n > 1 << 20) return -1;
    h->esize = (int)n;
    switch (h->kind) {
    case 'f': return n == 2 || n == 4 || n == 8 ? 0 : -1;
    case 'i': case 'u': return n == 1 || n == 2 || n == 4 || n == 8 ? 0 : -1;
    case 'b': return n == 1 ? 0 : -1;
    case 'U': h->esize = (int)(4 * n); return 0;
    case 'S': return 0;
    default: return -1;
    }
}

/* Reads and checks the preamble, the header dict and the data size of a file of file_len
 * bytes (SIZE_MAX: not known yet, a pipe) whose first len bytes are in buf (all of them, or at
 * least NPY_HEAD). 0 or 2. */
static int npy_header(Npy *h, const uint8_t *buf, size_t len, size_t file_len, const char *path,
                      char *err, size_t errlen) {
    memset(h, 0, sizeof *h);
    h->path = path;
    if (len == 0) return bad(h, 0, err, errlen, "empty file");
    if (len >= 4 && !memcmp(buf, "PK\x03\x04", 4))
        return bad(h, 0, err, errlen, "a .npz (zip) archive: save each array with np.save");
    if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
        return bad(h, 0, err, errlen, "this is a gzip file; gunzip it first");
    if (len < 6 || memcmp(buf, "\x93NUMPY", 6))
        return bad(h, 0, err, errlen, "not a .npy file (it starts with \\x93NUMPY)");
    if (len < 8) return bad(h, len, err, errlen, "truncated: the file ends in its version bytes");
    if (buf[6] < 1 || buf[6] > 3) {
        return bad(h, 6, err, errlen, "format version %u.%u (alsim reads 1.0 to 3.0)", buf[6], buf[7]);
    }
    size_t hl_size = buf[6] == 1 ? 2 : 4, start = 8 + hl_size;
    if (len < start) return bad(h, len, err, errlen, "truncated: the file ends in its header length");
    size_t hlen = buf[8] | (size_t)buf[9] << 8;
    if (hl_size == 4) hlen |= (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
    if (hlen > len - start && (file_len == SIZE_MAX || hlen > file_len - start))
        return file_len == SIZE_MAX
            ? bad(h, 8, err, errlen, "the header says it is %zu bytes long: alsim reads headers up to %d "
                  "bytes (numpy writes a few hundred)", hlen, NPY_HEAD - 12)
            : bad(h, len, err, errlen, "truncated: the header says it is %zu bytes long", hlen);
    if (hlen > len - start)
        return bad(h, 8, err, errlen, "the header says it is %zu bytes long: alsim reads headers up to %d "
                   "bytes (numpy writes a few hundred)", hlen, NPY_HEAD - 12);
    Cursor c = { buf, buf + start, buf + start + hlen };
    int have = 0;                        /* 1 descr, 2 fortran_order, 4 shape */
    if (!eat(&c, '{')) return bad(h, start, err, errlen, "the header is not a Python dict ({...})");
    while (!eat(&c, '}')) {
        char key[32];
        skip_ws(&c);
        size_t at = (size_t)(c.p - buf), key_at = at;
        if (string_lit(&c, key, sizeof key) || !eat(&c, ':'))
            return bad(h, at, err, errlen, "malformed header dict (expected 'key': value)");
        at = (size_t)(c.p - buf);
        if (!strcmp(key, "descr")) {
            if (string_lit(&c, h->descr, sizeof h->descr))
                return bad(h, at, err, errlen, "'descr' is not a plain dtype string (a structured "
                           "array?): save a plain numeric or string array");
            if (!strcmp(h->descr, "|O") || !strcmp(h->descr, "<O") || !strcmp(h->descr, ">O"))
                return bad(h, at, err, errlen, "an object array (pickled Python objects): save "
                           "labels with y.astype(str) or as integers");
            if (parse_descr(h))
                return bad(h, at, err, errlen, "dtype '%s' is not supported (float16/32/64, integers, "
                           "bools, '<U..' or '|S..' strings)", h->descr);
            have |= 1;
        } else if (!strcmp(key, "fortran_order")) {
            skip_ws(&c);
            size_t left = (size_t)(c.end - c.p);
            if (left >= 4 && !memcmp(c.p, "True", 4)) { h->fortran = 1; c.p += 4; }
            else if (left >= 5 && !memcmp(c.p, "False", 5)) { h->fortran = 0; c.p += 5; }
            else return bad(h, at, err, errlen, "'fortran_order' is not True or False");
            have |= 2;
        } else if (!strcmp(key, "shape")) {
            if (!eat(&c, '(')) return bad(h, at, err, errlen, "'shape' is not a tuple");
            while (!eat(&c, ')')) {
                skip_ws(&c);
                int64_t v = 0;
                const uint8_t *digits = c.p;
                while (c.p < c.end && *c.p >= '0' && *c.p <= '9' && v <= INT32_MAX)
                    v = v * 10 + (*c.p++ - '0');
                if (c.p == digits || v > INT32_MAX || h->ndim == 8)
                    return bad(h, (size_t)(digits - buf), err, errlen, "'shape' must hold up to 8 "
                               "integers in 0..2147483647");
                h->shape[h->ndim++] = v;
                if (!eat(&c, ',') && !(skip_ws(&c), c.p < c.end && *c.p == ')'))
                    return bad(h, (size_t)(c.p - buf), err, errlen, "malformed 'shape' tuple");
            }
            have |= 4;
        } else {
            return bad(h, key_at, err, errlen, "unexpected key '%s' in the header", key);
        }
        if (!eat(&c, ',') && !(skip_ws(&c), c.p < c.end && *c.p == '}'))
            return bad(h, (size_t)(c.p - buf), err, errlen, "malformed header dict (expected , or })");
    }
    skip_ws(&c);
    if (c.p != c.end)
        return bad(h, (size_t)(c.p - buf), err, errlen, "text after the header dict");
    if (have != 7)
        return bad(h, start, err, errlen, "the header lacks %s", !(have & 1) ? "'descr'" :
                   !(have & 2) ? "'fortran_order'" : "'shape'");
    h->data = start + hlen;
    size_t count = 1;
    for (int i = 0; i < h->ndim; i++) {
        if (h->shape[i] && count > SIZE_MAX / 16 / (size_t)h->shape[i])
            return bad(h, start, err, errlen, "the shape's size overflows");
        count *= (size_t)h->shape[i];
    }
    h->count = count;
    if (file_len == SIZE_MAX) return 0;          /* a pipe: checked again once read */
    size_t want = count * (size_t)h->esize, have_bytes = file_len - h->data;
    if (want != have_bytes) {
        char s[128];
        shape_text(s, sizeof s, h);
        return bad(h, want < have_bytes ? h->data + want : file_len, err, errlen, "%s: shape %s of %s "
                   "is %zu data bytes, the file has %zu after its %zu-byte header",
                   want < have_bytes ? "trailing bytes" : "truncated", s, h->descr, want,
                   have_bytes, h->data);
    }
    return 0;
}

static float half_to_float(uint16_t v) {
    int exp = v >> 10 & 0x1f, mant = v & 0x3ff;
    float f = exp == 0 ? ldexpf((float)mant, -24)
            : exp == 31 ? (mant ? NAN : INFINITY)
            : ldexpf((float)(mant | 0x400), exp - 25);
    return v >> 15 ? -f : f;
}

/* The element at p (h->esize <= 8 bytes, numeric kinds) as an unsigned integer. */
static uint64_t bits(const Npy *h, const uint8_t *p) {
    uint64_t u = 0;
    for (int i = 0; i < h->esize; i++)
        u |= (uint64_t)p[h->big ? i : h->esize - 1 - i] << (8 * (h->esize - 1 - i));
    return u;
}

/* A signed element's bits, sign-extended. */
static int64_t as_int(const Npy *h, uint64_t u) {
    int shift = 64 - 8 * h->esize;
    return (int64_t)(u << shift) >> shift;
}

/* The element at p as a double. */
static double get(const Npy *h, const uint8_t *p) {
    uint64_t u = bits(h, p);
    switch (h->kind) {
    case 'f':
        if (h->esize == 2) return half_to_float((uint16_t)u);
        if (h->esize == 4) { uint32_t w = (uint32_t)u; float f; memcpy(&f, &w, 4); return f; }
        { double v; memcpy(&v, &u, 8); return v; }
    case 'i': return (double)as_int(h, u);
    case 'u': return (double)u;
    default: return u != 0;              /* 'b' */
    }
}

/* The row-major position of the element at position k (file order) of h's Fortran-order
 * array, whose first index varies fastest. */
static size_t fortran_to_row_major(const Npy *h, size_t k) {
    size_t index[8], dst = 0;
    for (int i = 0; i < h->ndim; i++) {
        index[i] = k % (size_t)h->shape[i];
        k /= (size_t)h->shape[i];
    }
    for (int i = 0; i < h->ndim; i++) dst = dst * (size_t)h->shape[i] + index[i];
    return dst;
}

/* Converts the array in buf (len, taken over: freed or returned as *x) to float32 row-major
 * (n, d): X of shape (n, d), or images (n, H, W) / (n, C, H, W) flattened to d = C·H·W with
 * their shape in *image (zeros for (n, d)). Returns 0/2/3. */
static int to_features(float **x, int *n, int *d, ImageShape *image, uint8_t *buf, size_t len,
                       const char *path, char *err, size_t errlen) {
    Npy h;
    int rc = npy_header(&h, buf, len, len, path, err, errlen);
    char s[128];
    if (!rc && (h.kind == 'U' || h.kind == 'S'))
        rc = bad(&h, 8, err, errlen, "features of dtype '%s' (strings): X must be numeric", h.descr);
    int empty = 0;
    for (int i = 0; !rc && i < h.ndim; i++) empty |= h.shape[i] == 0;
    if (!rc && (h.ndim < 2 || h.ndim > 4 || empty)) {
        shape_text(s, sizeof s, &h);
        rc = bad(&h, 8, err, errlen, "features of shape %s: X must be (N, D), or images (N, H, W) or (N, C, H, W), "
                 "every dimension >= 1 (X.reshape(len(X), -1))", s);
    }
    if (!rc && h.count / (size_t)h.shape[0] > INT_MAX) {
        shape_text(s, sizeof s, &h);
        rc = bad(&h, 8, err, errlen, "features of shape %s: %zu features per row, more than alsim handles", s,
                 h.count / (size_t)h.shape[0]);
    }
    if (rc) { free(buf); return rc; }
    size_t rows = (size_t)h.shape[0], cols = h.count / rows;
    int in_place = !h.fortran && h.esize >= 4;   /* each float lands at or before its source */
    float *out = in_place ? (float *)(void *)buf : malloc(h.count * sizeof *out);
    if (!out) {
        free(buf);
        return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory for %zu values", path, h.count);
    }
    for (size_t k = 0; k < h.count; k++) {   /* k walks the file's order; dst is row-major */
        size_t dst = h.fortran ? fortran_to_row_major(&h, k) : k;
        double v = get(&h, buf + h.data + k * (size_t)h.esize);
        if (!(fabs(v) <= LD_MAX_FEATURE)) {
            char big[64];
            snprintf(big, sizeof big, "%g, beyond +-1e18", v);
            rc = bad(&h, h.data + k * (size_t)h.esize, err, errlen, "the value at row %zu, column "
                     "%zu is %s (%s)", dst / cols, dst % cols,
                     isnan(v) ? "NaN" : isinf(v) ? "infinite" : fabs(v) > FLT_MAX ? "beyond float32" : big,
                     fabs(v) <= FLT_MAX ? "alsim's bound on features: float32 training overflows past it; "
                     "a missing-value marker?" : "features must be finite float32");
            if (!in_place) free(out);
            free(buf);
            return rc;
        }
        float f = (float)v;
        memcpy(out + dst, &f, sizeof f);
    }
    if (in_place) {
        float *shrunk = realloc(buf, h.count * sizeof *out);
        *x = shrunk ? shrunk : out;
    } else {
        free(buf);
        *x = out;
    }
    *n = (int)rows;                      /* shape entries are <= INT32_MAX */
    *d = (int)cols;
    *image = h.ndim == 3 ? (ImageShape){1, (int)h.shape[1], (int)h.shape[2]}
           : h.ndim == 4 ? (ImageShape){(int)h.shape[1], (int)h.shape[2], (int)h.shape[3]}
           : (ImageShape){0, 0, 0};
    return 0;
}

/* The label text of element i of h in buf into out (cap >= 4 * esize / 4 + 24). Returns its
 * length, or -1 with err set. */
static long label_text(char *out, const Npy *h, const uint8_t *buf, size_t i, char *err,
                       size_t errlen) {
    const uint8_t *p = buf + h->data + i * (size_t)h->esize;
    size_t at = h->data + i * (size_t)h->esize;
    if (h->kind == 'U' || h->kind == 'S') {
        size_t n = 0, chars = h->kind == 'U' ? (size_t)h->esize / 4 : (size_t)h->esize, end = chars;
        while (end > 0) {                /* numpy pads with NULs */
            const uint8_t *c = p + (end - 1) * (h->kind == 'U' ? 4 : 1);
            if (h->kind == 'U' ? (c[0] | c[1] | c[2] | c[3]) : c[0]) break;
            end--;
        }
        for (size_t k = 0; k < end; k++) {
            uint32_t cp;
            if (h->kind == 'S') cp = p[k];
            else {
                const uint8_t *c = p + 4 * k;
                cp = h->big ? (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3]
                            : (uint32_t)c[3] << 24 | (uint32_t)c[2] << 16 | (uint32_t)c[1] << 8 | c[0];
            }
            if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
                bad(h, at, err, errlen, "label %zu holds %s", i,
                    cp ? "an invalid code point" : "a NUL character");
                return -1;
            }
            if (h->kind == 'S' || cp < 0x80) out[n++] = (char)cp;
            else if (cp < 0x800) {
                out[n++] = (char)(0xC0 | cp >> 6); out[n++] = (char)(0x80 | (cp & 0x3F));
            }
            else if (cp < 0x10000) {
                out[n++] = (char)(0xE0 | cp >> 12); out[n++] = (char)(0x80 | (cp >> 6 & 0x3F));
                out[n++] = (char)(0x80 | (cp & 0x3F));
            } else {
                out[n++] = (char)(0xF0 | cp >> 18); out[n++] = (char)(0x80 | (cp >> 12 & 0x3F));
                out[n++] = (char)(0x80 | (cp >> 6 & 0x3F)); out[n++] = (char)(0x80 | (cp & 0x3F));
            }
        }
        out[n] = '\0';
        return (long)n;
    }
    uint64_t u = bits(h, p);
    if (h->kind == 'u') return snprintf(out, 24, "%llu", (unsigned long long)u);
    if (h->kind == 'i') return snprintf(out, 24, "%lld", (long long)as_int(h, u));
    if (h->kind == 'b') return snprintf(out, 24, "%s", u ? "True" : "False");
    double v = get(h, p);
    if (!(v == floor(v)) || fabs(v) >= 9.2e18) {
        bad(h, at, err, errlen, "label %zu is %g, not an integer class id", i, v);
        return -1;
    }
    return snprintf(out, 24, "%lld", (long long)v);
}

/* Reads the labels (n) of buf (len) into *y as ids of m. Returns 0/2/3. */
static int to_labels(int32_t **y, int *n, LabelMap *m, const uint8_t *buf, size_t len,
                     const char *path, char *err, size_t errlen) {
    Npy h;
    int rc = npy_header(&h, buf, len, len, path, err, errlen);
    char s[128];
    if (!rc && !(h.ndim == 1 || (h.ndim == 2 && h.shape[1] == 1))) {
        shape_text(s, sizeof s, &h);
        rc = bad(&h, 8, err, errlen, "labels of shape %s: y must be (N,) or (N, 1)", s);
    }
    if (!rc && !h.shape[0]) rc = bad(&h, 8, err, errlen, "no labels: y is empty");
    if (rc) return rc;
    size_t rows = (size_t)h.shape[0];
    int32_t *out = malloc(rows * sizeof *out);
    char *text = malloc((size_t)h.esize + 32);
    if (!out || !text) {
        free(out); free(text);
        return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory for %zu labels", path, rows);
    }
    for (size_t i = 0; i < rows && !rc; i++) {
        long tl = label_text(text, &h, buf, i, err, errlen);
        int id = tl < 0 ? 0 : labels_id(m, text, (size_t)tl);
        if (tl < 0) rc = ALSIM_BAD_INPUT;
        else if (id < 0) {
            char q[48], idx[80];
            static const char *const why[6] = { "", "is not a class of the training labels",
                "out of memory", "is one label too many: more than 65536 distinct labels",
                "is not valid UTF-8", "is empty" };
            snprintf(idx, sizeof idx, "%zu ('%s')", i, ld_quote(q, sizeof q, text, (size_t)tl));
            rc = id == -2 ? ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory for the class labels", path)
                          : bad(&h, h.data + i * (size_t)h.esize, err, errlen, "label %s %s", idx,
                                why[-id]);
        } else out[i] = id;
    }
    free(text);
    if (rc) { free(out); return rc; }
    *y = out;
    *n = (int)rows;
    return 0;
}

int npy_features_mem(float **x, int *n, int *d, const void *data, size_t len,
                     const char *name, char *err, size_t errlen) {
    uint8_t *buf = malloc(len + 1);
    if (!buf) return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory", name);
    if (len) memcpy(buf, data, len);
    ImageShape image;
    return to_features(x, n, d, &image, buf, len, name, err, errlen);
}

int npy_labels_mem(int32_t **y, int *n, LabelMap *m, const void *data, size_t len,
                   const char *name, char *err, size_t errlen) {
    return to_labels(y, n, m, data, len, name, err, errlen);
}

/* Reads the .npy file at path whole into *buf (*len bytes) and its hash into sha, header
 * first: a file that is not .npy, or whose header disagrees with its size, is refused after a
 * few bytes, and one whose data (plus what converting it takes: features float32, labels
 * int32) would not fit in this machine's memory before any is read (3). A pipe is read up to
 * the size its header declares. Returns 0, 2, 3 or a stop. */
static int read_npy(uint8_t **buf, size_t *len, char sha[65], const char *path, int features,
                    char *err, size_t errlen) {
    LdBinary b;
    Npy h;
    int rc = ld_bin_open(&b, path, NPY_HEAD, err, errlen);
    if (rc) return rc;
    rc = npy_header(&h, b.buf, b.len, ld_bin_size(&b), path, err, errlen);
    size_t data = h.count * (size_t)h.esize;     /* < SIZE_MAX / 2: npy_header bounds count */
    if (!rc) {
        int in_place = features && !h.fortran && h.esize >= 4;
        double need = (double)h.data + (double)data + (in_place ? 0.0 : 4.0 * (double)h.count);
        if (need > (double)ld_phys_bytes()) {
            char s[128], a[48], m[48];
            shape_text(s, sizeof s, &h);
            rc = ld_fail(err, errlen, ALSIM_RUNTIME, "%s: byte 8: shape %s of %s needs %s of memory to load, "
                         "more than this machine's %s", path, s, h.descr, ld_bytes_text(a, sizeof a, need),
                         ld_bytes_text(m, sizeof m, (double)ld_phys_bytes()));
        }
    }
    if (!rc) rc = ld_bin_read(&b, h.data + data, err, errlen);
    if (!rc && !b.eof) {                          /* a pipe going on past the declared data */
        char s[128];
        shape_text(s, sizeof s, &h);
        rc = bad(&h, h.data + data, err, errlen, "trailing bytes: shape %s of %s is %zu data bytes, the "
                 "file goes on after them", s, h.descr, data);
    }
    if (rc) { ld_bin_close(&b); return rc; }
    sha256_hex(sha, b.buf, b.len);
    *buf = b.buf;
    *len = b.len;
    b.buf = NULL;
    ld_bin_close(&b);
    return 0;
}

/* Loads X and y (paths[0], paths[1]) into ds, labels through m. sha (2) the files' hashes. */
static int load_pair(Dataset *ds, char sha[2][65], LabelMap *m, char *const paths[2],
                     char *err, size_t errlen) {
    uint8_t *buf;
    size_t len;
    int ny = 0;
    memset(ds, 0, sizeof *ds);
    int rc = read_npy(&buf, &len, sha[1], paths[1], 0, err, errlen);
    if (rc) return rc;
    rc = to_labels(&ds->y, &ny, m, buf, len, paths[1], err, errlen);
    free(buf);
    if (!rc) rc = read_npy(&buf, &len, sha[0], paths[0], 1, err, errlen);
    if (!rc) rc = to_features(&ds->x, &ds->n, &ds->d, &ds->image, buf, len, paths[0], err, errlen);
    if (!rc && ny != ds->n)
        rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 0: %d labels for the %d rows of %s", paths[1], ny,
                     ds->n, paths[0]);
    if (rc) dataset_free(ds);
    return rc;
}

/* Splits "X.npy,y.npy" into two paths (in a copy: *copy, to free). 0 or 2. */
static int split_spec(char *paths[2], char **copy, const char *spec, char *err, size_t errlen) {
    char *comma = strchr(spec, ',');
    if (!comma || comma == spec || !comma[1] || strchr(comma + 1, ','))
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "npy dataset '%s': write npy:X.npy,y.npy (features, then "
                       "labels)", spec);
    if (!(*copy = strdup(spec))) return ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory");
    paths[0] = *copy;
    paths[1] = *copy + (comma - spec) + 1;
    (*copy)[comma - spec] = '\0';
    return 0;
}

int dataset_load_npy(Dataset *train, Dataset *test, const char *spec, const char *test_spec,
                     const char *label, char *err, size_t errlen) {
    (void)label;                         /* the labels are y */
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    char *paths[4], *copy[2] = { NULL, NULL }, sha[4][65];
    LabelMap m = {0};
    int rc = split_spec(paths, &copy[0], spec, err, errlen);
    if (!rc && test_spec) rc = split_spec(paths + 2, &copy[1], test_spec, err, errlen);
    if (!rc) rc = load_pair(train, sha, &m, paths, err, errlen);
    if (!rc && labels_sort(&m, train->y, (size_t)train->n))
        rc = ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory for the class labels", paths[1]);
    if (!rc && m.n < 2) {
        char q[48];
        rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 0: a single class ('%s'): a dataset needs at least 2",
                     paths[1], ld_quote(q, sizeof q, m.names[0], strlen(m.names[0])));
    }
    if (!rc) rc = labels_to_dataset(train, &m, err, errlen);
    if (!rc && test_spec) rc = load_pair(test, sha + 2, &m, paths + 2, err, errlen);
    if (!rc && test_spec && test->d != train->d)
        rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 0: %d features, the training X (%s) has %d",
                     paths[2], test->d, paths[0], train->d);
    if (!rc && test_spec && memcmp(&test->image, &train->image, sizeof train->image))
        rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 8: images of %dx%dx%d (CxHxW), the training X (%s) "
                     "has %dx%dx%d (0x0x0: not images)", paths[2], test->image.c, test->image.h, test->image.w,
                     paths[0], train->image.c, train->image.h, train->image.w);
    if (!rc && test_spec) rc = labels_to_dataset(test, &m, err, errlen);
    if (!rc) {
        ld_hash_files(train->sha256, (const char *const[]){ sha[0], sha[1], sha[2], sha[3] },
                      test_spec ? 4 : 2);
        snprintf(train->name, sizeof train->name, "%s", ld_basename(paths[0]));
        if (test_spec) {
            memcpy(test->sha256, train->sha256, sizeof test->sha256);
            memcpy(test->name, train->name, sizeof test->name);
        }
    }
    labels_free(&m);
    free(copy[0]);
    free(copy[1]);
    if (rc) { dataset_free(train); dataset_free(test); }
    return rc;
}
