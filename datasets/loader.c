/* loader — the helpers every file loader shares: chunked line reading, field splitting,
 * label -> class id maps, number parsing and one-line errors. See loader.h. */
#include "datasets/loader.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/signals.h"
#include "sim/util.h"

#define LR_CHUNK (1u << 20)     /* bytes read from a file at a time */
#define LR_MEM_CHUNK 64         /* from memory: small, so that short inputs cross chunks */

int ld_fail(char *err, size_t errlen, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return code;
}

char *ld_quote(char *out, size_t out_len, const char *s, size_t n) {
    size_t i;
    (void)out_len;                       /* >= 48: 40 bytes, "..." and the NUL fit */
    for (i = 0; i < n && i < 40; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c >= 32 && c < 127 ? (char)c : '?';
    }
    if (i < n) memcpy(out + i, "...", 4);
    else out[i] = '\0';
    return out;
}

int ld_utf8_valid(const char *str, size_t n) {
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (!len || i + len > n) return 0;
        uint32_t cp = len == 1 ? c : c & (0x7F >> len);
        for (size_t j = 1; j < len; j++) {
            if ((s[i + j] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        static const uint32_t min_cp[5] = { 0, 0, 0x80, 0x800, 0x10000 };
        if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
        i += len;
    }
    return 1;
}

int ld_parse_float(float *out, const char *s, size_t n) {
    if (n == 0 || s[0] == ' ' || s[0] == '\t') return 1;   /* strtof would skip into the next field */
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (end != s + n) return 1;
    if (isnan(v)) return 2;
    if (isinf(v)) return errno == ERANGE ? 3 : 2;
    *out = v;
    return fabsf(v) > (float)LD_MAX_FEATURE ? 4 : 0;
}

const char *ld_float_error(int code) {
    return code == 1 ? "is not a number" : code == 2 ? "is not a finite number"
         : code == 3 ? "is beyond float32"
         : "is beyond +-1e18, alsim's bound on features (float32 training overflows past it; "
           "a missing-value marker?)";
}

size_t ld_phys_bytes(void) {
    static size_t bytes;                 /* asked once: it does not change while alsim runs */
    if (!bytes) {
        long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
        bytes = pages <= 0 || page <= 0 || (unsigned long)pages > SIZE_MAX / (unsigned long)page
              ? SIZE_MAX : (size_t)pages * (size_t)page;
    }
    return bytes;
}

char *ld_bytes_text(char *out, size_t len, double n) {
    snprintf(out, len, "%.0f bytes (%.1f GiB)", n, n / (1024.0 * 1024 * 1024));
    return out;
}

int ld_stopped(const char *path, char *err, size_t errlen) {
    int sig = signals_pending();
    if (!sig) return 0;
    return ld_fail(err, errlen, ALSIM_SIGNALLED + sig, "stopped by %s while loading %s",
                   sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal", path);
}

typedef struct { const char *name; int i; } NameAt;

static int cmp_name_at(const void *a, const void *b) {
    const NameAt *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

int ld_duplicate_name(int *first, int *second, char *const *names, int n) {
    NameAt *order = malloc((n > 0 ? (size_t)n : 1) * sizeof *order);
    if (!order) return -2;
    for (int i = 0; i < n; i++) order[i] = (NameAt){ names[i], i };
    qsort(order, (size_t)n, sizeof *order, cmp_name_at);   /* by name, then by position */
    int found = 0;
    for (int i = 1, g = 0; i < n; i++) {    /* g: where the run of order[i]'s name starts */
        if (strcmp(order[i].name, order[i - 1].name)) { g = i; continue; }
        if (!order[i].name[0]) continue;
        if (!found || order[i].i < *second) {   /* the second occurrence that comes first */
            *first = order[g].i;
            *second = order[i].i;
            found = 1;
        }
    }
    free(order);
    return found;
}

void *ld_grow(void *p, size_t *cap, size_t need, size_t esize) {
    if (need <= *cap) return p;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / esize) return NULL;
        c += c / 2 + 1;
    }
    size_t half = ld_phys_bytes() / 2;  /* beyond it the kernel would kill us, not say why */
    if (need > half / esize) return NULL;
    if (c > half / esize) c = need;
    void *q = realloc(p, c * esize);
    if (q) *cap = c;
    return q;
}

const char *ld_basename(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Opens path for reading: a regular file (*size its length) or a pipe (*size -1); folders
 * and devices are refused. Returns the stream, or NULL with err set (2). */
static FILE *open_file(const char *path, long long *size, char *err, size_t errlen) {
    FILE *fp = fopen(path, "rb");
    if (!fp) { ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: cannot open: %s", path, strerror(errno)); return NULL; }
    struct stat st;
    *size = -1;
    if (fstat(fileno(fp), &st) != 0) {
        ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: cannot open: %s", path, strerror(errno));
        fclose(fp);
        return NULL;
    }
    const char *what = S_ISDIR(st.st_mode) ? "is a folder, not a data file"
                     : S_ISCHR(st.st_mode) ? "is a character device, not a data file (alsim reads regular "
                                             "files and pipes)"
                     : S_ISBLK(st.st_mode) ? "is a block device, not a data file (alsim reads regular "
                                             "files and pipes)"
                     : !S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) ? "is not a regular file or a pipe"
                     : NULL;
    if (what) {
        fclose(fp);
        ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: %s", path, what);
        return NULL;
    }
    if (S_ISREG(st.st_mode)) *size = (long long)st.st_size;
    return fp;
}

/* One read(2) of up to want bytes into buf: *got 0 only at the end. Retries when interrupted,
 * unless a stop is pending (then returns it). line > 0: the line being read, for a read
 * error's message. Returns 0, 2 (read error) or a stop. */
static int read_chunk(FILE *fp, void *buf, size_t want, size_t *got, const char *path, long line,
                      char *err, size_t errlen) {
    for (;;) {
        int rc = ld_stopped(path, err, errlen);
        if (rc) return rc;
        ssize_t n = read(fileno(fp), buf, want);
        if (n >= 0) { *got = (size_t)n; return 0; }
        if (errno == EINTR) continue;       /* a stop is looked at above */
        int e = errno;
        if (line > 0) return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: line %ld: read error: %s", path, line, strerror(e));
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: read error: %s", path, strerror(e));
    }
}

/* The message for a pipe that goes on past LD_PIPE_MAX bytes (3). */
static int pipe_too_long(const char *path, char *err, size_t errlen) {
    return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: more than %llu bytes (16 GiB) from a pipe, alsim's limit "
                   "on a stream it cannot size: write the data to a file", path, LD_PIPE_MAX);
}

/* ---- binary files ---- */

void ld_bin_close(LdBinary *b) {
    if (b->fp) fclose(b->fp);
    free(b->buf);
    memset(b, 0, sizeof *b);
}

size_t ld_bin_size(const LdBinary *b) {
    return b->eof ? b->len : b->size >= 0 ? (size_t)b->size : SIZE_MAX;
}

/* Reads until buf holds `until` bytes or the file ends (until <= what fits in memory). */
static int bin_fill(LdBinary *b, size_t until, char *err, size_t errlen) {
    char num[48];
    while (!b->eof && b->len < until) {
        if (b->cap < until) {        /* a regular file: what is wanted of it; a pipe: doubling */
            size_t cap = until;
            if (b->size < 0) {
                cap = b->cap < 65536 ? 65536 : b->cap <= SIZE_MAX / 4 ? 2 * b->cap : SIZE_MAX / 2;
                if (cap > until) cap = until;
            }
            if (cap > ld_phys_bytes())
                return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: reading %s into memory: more than this "
                               "machine has", b->path, ld_bytes_text(num, sizeof num, (double)cap));
            uint8_t *more = realloc(b->buf, cap + 1);
            if (!more)
                return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory reading %s", b->path,
                               ld_bytes_text(num, sizeof num, (double)cap));
            b->buf = more;
            b->cap = cap;
        }
        size_t want = b->cap - b->len, got = 0;
        if (want > (1u << 24)) want = 1u << 24;     /* a stop is honoured every 16 MiB */
        int rc = read_chunk(b->fp, b->buf + b->len, want, &got, b->path, 0, err, errlen);
        if (rc) return rc;
        b->len += got;
        b->eof = got == 0;
        if (b->size < 0 && b->len > LD_PIPE_MAX) return pipe_too_long(b->path, err, errlen);
    }
    b->buf[b->len] = 0;
    return 0;
}

int ld_bin_open(LdBinary *b, const char *path, size_t head, char *err, size_t errlen) {
    memset(b, 0, sizeof *b);
    b->path = path;
    if (!(b->fp = open_file(path, &b->size, err, errlen))) return ALSIM_BAD_INPUT;
    if (b->size >= 0 && (unsigned long long)b->size < head) head = (size_t)b->size;
    if (!(b->buf = malloc(head + 1))) {
        ld_bin_close(b);
        return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory", path);
    }
    b->cap = head;
    int rc = bin_fill(b, head, err, errlen);
    if (!rc && b->size >= 0 && b->len == (size_t)b->size) b->eof = 1;
    if (rc) ld_bin_close(b);
    return rc;
}

int ld_bin_read(LdBinary *b, size_t total, char *err, size_t errlen) {
    size_t until = total == SIZE_MAX ? SIZE_MAX : total + 1;
    if (b->size >= 0 && (unsigned long long)b->size < until) until = (size_t)b->size;
    if (until == SIZE_MAX) until = SIZE_MAX - 1;         /* a pipe to its end: grown as it comes */
    int rc = bin_fill(b, until, err, errlen);
    if (!rc && b->size >= 0 && b->len == (size_t)b->size) b->eof = 1;
    return rc;
}

int ld_read_file(uint8_t **out, size_t *out_len, char sha[65], const char *path,
                 char *err, size_t errlen) {
    *out = NULL;
    *out_len = 0;
    LdBinary b;
    int rc = ld_bin_open(&b, path, 0, err, errlen);
    if (!rc) rc = ld_bin_read(&b, SIZE_MAX, err, errlen);
    if (rc) { ld_bin_close(&b); return rc; }
    if (sha) sha256_hex(sha, b.buf, b.len);
    *out = b.buf;
    *out_len = b.len;
    b.buf = NULL;
    ld_bin_close(&b);
    return 0;
}

/* ---- LineReader ---- */

int lr_open(LineReader *r, const char *path, char *err, size_t errlen) {
    memset(r, 0, sizeof *r);
    r->path = path;
    long long size;
    if (!(r->fp = open_file(path, &size, err, errlen))) return ALSIM_BAD_INPUT;
    r->pipe = size < 0;
    r->cap = LR_CHUNK;
    sha256_init(&r->sha);
    return 0;
}

void lr_open_mem(LineReader *r, const char *name, const void *data, size_t len) {
    memset(r, 0, sizeof *r);
    r->path = name;
    r->mem = data;
    r->mem_len = len;
    r->cap = LR_MEM_CHUNK;
    sha256_init(&r->sha);
}

void lr_close(LineReader *r) {
    if (r->fp) fclose(r->fp);
    free(r->buf);
    memset(r, 0, sizeof *r);
}

int lr_fail_at(const LineReader *r, long line, char *err, size_t errlen, int code,
               const char *fmt, ...) {
    int n = snprintf(err, errlen, "%s: line %ld: ", r->path, line > 0 ? line : 1);
    if (n >= 0 && (size_t)n < errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Moves the unread bytes to the front of the buffer and appends what the source has next,
 * doubling the buffer when a line fills it (up to LD_MAX_LINE). Sets eof when the source is
 * spent. 0, 2, 3 or a stop. */
static int refill(LineReader *r, char *err, size_t errlen) {
    if (!r->buf && !(r->buf = malloc(r->cap + 1)))
        return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory", r->path);
    memmove(r->buf, r->buf + r->pos, r->len - r->pos);
    r->len -= r->pos;
    r->pos = 0;
    if (r->len == r->cap) {
        if (r->cap >= LD_MAX_LINE)
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: line %ld: longer than %u MiB without a newline, "
                           "alsim's limit on a line (is this a text file?)", r->path, r->line + 1,
                           LD_MAX_LINE >> 20);
        char *b = realloc(r->buf, 2 * r->cap + 1);
        if (!b) return ld_fail(err, errlen, ALSIM_RUNTIME, "%s: line %ld: out of memory for a line of %zu bytes",
                               r->path, r->line + 1, r->len);
        r->buf = b;
        r->cap *= 2;
    }
    size_t want = r->cap - r->len, got = 0;
    if (r->fp) {
        int rc = read_chunk(r->fp, r->buf + r->len, want, &got, r->path, r->line + 1, err, errlen);
        if (rc) return rc;
        r->total += got;
        if (r->pipe && r->total > LD_PIPE_MAX) return pipe_too_long(r->path, err, errlen);
    } else {
        got = r->mem_len - r->mem_pos < want ? r->mem_len - r->mem_pos : want;
        if (got) memcpy(r->buf + r->len, r->mem + r->mem_pos, got);
        r->mem_pos += got;
    }
    sha256_update(&r->sha, r->buf + r->len, got);
    r->len += got;
    r->eof = got == 0;
    if (!r->started && (r->len >= 3 || r->eof)) {
        const unsigned char *b = (const unsigned char *)r->buf;
        r->started = 1;
        if (r->len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: byte 0: this is a gzip file; gunzip it first", r->path);
        if (r->len >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF) r->pos = 3;   /* UTF-8 BOM */
    }
    return 0;
}

/* The error for a NUL byte at column col (1-based) of line `line`. */
static int nul_byte(const LineReader *r, long line, size_t col, char *err, size_t errlen) {
    return lr_fail_at(r, line, err, errlen, ALSIM_BAD_INPUT, "a NUL byte at column %zu (is this a binary file?)", col);
}

int lr_next(LineReader *r, char **line, size_t *n, char *err, size_t errlen) {
    size_t scanned = 0;                  /* bytes after pos known to hold no newline and no NUL */
    for (;;) {
        size_t avail = r->len - r->pos;
        char *s = r->buf ? r->buf + r->pos : NULL, *nl = NULL;
        if (avail > scanned) nl = memchr(s + scanned, '\n', avail - scanned);
        if (nl || (r->eof && avail)) {
            size_t len = nl ? (size_t)(nl - s) : avail;
            r->pos += nl ? len + 1 : len;
            s[len] = '\0';               /* at worst buf[cap]: the buffer has cap + 1 bytes */
            if (len && s[len - 1] == '\r') s[--len] = '\0';
            r->line++;
            size_t real = strlen(s);
            if (real != len) return nul_byte(r, r->line, real + 1, err, errlen);
            *line = s;
            *n = len;
            return 1;
        }
        if (r->eof) return 0;
        /* No newline yet: a NUL in this line fails it now, before the line grows any longer
         * (a binary file or /dev/zero through a pipe). */
        const char *nul = avail > scanned ? memchr(s + scanned, '\0', avail - scanned) : NULL;
        if (nul) return nul_byte(r, r->line + 1, (size_t)(nul - s) + 1, err, errlen);
        scanned = avail;
        int rc = refill(r, err, errlen);
        if (rc) return rc;
    }
}

int lr_finish(LineReader *r, char sha[65], char *err, size_t errlen) {
    while (!r->eof) {
        r->pos = r->len;
        int rc = refill(r, err, errlen);
        if (rc) return rc;
    }
    uint8_t digest[32];
    sha256_final(digest, &r->sha);
    for (int i = 0; i < 32; i++) snprintf(sha + 2 * i, 3, "%02x", digest[i]);
    return 0;
}

int ld_next_field(char **pp, char delim, int arff, char **field, size_t *flen) {
    char *p = *pp, *start, *end;
#define LD_SPACE(c) ((c) == ' ' || ((c) == '\t' && delim != '\t'))
    while (LD_SPACE(*p)) p++;
    char q = *p;
    if (q == '"' || (arff && q == '\'')) {
        char *w = start = ++p;
        for (;;) {
            if (*p == '\0') return -1;
            if (arff && *p == '\\' && p[1]) { *w++ = p[1]; p += 2; continue; }
            if (*p == q) {
                if (!arff && p[1] == q) { *w++ = q; p += 2; continue; }
                p++;
                break;
            }
            *w++ = *p++;
        }
        end = w;
        while (LD_SPACE(*p)) p++;
        if (*p != delim && *p != '\0') return -1;
    } else {
        start = p;
        while (*p != delim && *p != '\0') p++;
        end = p;
        while (end > start && LD_SPACE(end[-1])) end--;
    }
#undef LD_SPACE
    *pp = *p == delim ? p + 1 : NULL;    /* before the NUL below, which may land on p */
    *end = '\0';
    *field = start;
    *flen = (size_t)(end - start);
    return 0;
}

int ld_split(LdFields *fs, char *line, char delim, int arff, int at_most) {
    fs->n = 0;
    for (char *p = line; p && (at_most <= 0 || fs->n <= at_most);) {
        if (fs->n == fs->cap) {
            int cap = fs->cap ? 2 * fs->cap : 64;
            char **f = realloc(fs->f, (size_t)cap * sizeof *f);
            if (f) fs->f = f;
            size_t *len = realloc(fs->len, (size_t)cap * sizeof *len);
            if (len) fs->len = len;
            if (!f || !len) return -2;
            fs->cap = cap;
        }
        if (ld_next_field(&p, delim, arff, &fs->f[fs->n], &fs->len[fs->n])) return -1;
        fs->n++;
    }
    return 0;
}

void ld_fields_free(LdFields *fs) {
    free(fs->f);
    free(fs->len);
    memset(fs, 0, sizeof *fs);
}

/* ---- LabelMap ---- */

static uint64_t hash_text(const char *s, size_t n) { return util_fnv1a(UTIL_FNV_START, s, n); }

/* The canonical text of an integer label (sign, 1-19 digits, in int64): "%lld". 0 if not one. */
static int canon_int(char out[24], const char *s, size_t n) {
    size_t i = s[0] == '+' || s[0] == '-';
    if (n <= i || n - i > 19) return 0;
    uint64_t v = 0;
    for (size_t j = i; j < n; j++) {
        if (s[j] < '0' || s[j] > '9') return 0;
        v = v * 10 + (uint64_t)(s[j] - '0');
    }
    int neg = s[0] == '-';
    if (v > (uint64_t)INT64_MAX + (uint64_t)neg) return 0;
    snprintf(out, 24, "%s%" PRIu64, neg && v ? "-" : "", v);
    return 1;
}

/* Where name (len) is, or the empty slot where it would go. */
static size_t find_slot(const LabelMap *m, const char *s, size_t len) {
    size_t mask = m->nslots - 1;
    for (size_t i = hash_text(s, len) & mask;; i = (i + 1) & mask) {
        int32_t v = m->slots[i];
        if (!v) return i;
        const char *name = m->names[v - 1];
        if (strncmp(name, s, len) == 0 && name[len] == '\0') return i;   /* stops at name's end */
    }
}

/* Rebuilds the slots for the names (twice as many slots as needed, at least 64). */
static int rehash(LabelMap *m) {
    size_t ns = 64;
    while (ns < 4 * (size_t)(m->n + 1)) ns *= 2;
    int32_t *slots = calloc(ns, sizeof *slots);
    if (!slots) return -2;
    free(m->slots);
    m->slots = slots;
    m->nslots = ns;
    for (int id = 0; id < m->n; id++)
        m->slots[find_slot(m, m->names[id], strlen(m->names[id]))] = id + 1;
    return 0;
}

int labels_id(LabelMap *m, const char *s, size_t len) {
    char canon[24];
    if (len == 0) return -5;
    if (canon_int(canon, s, len)) { s = canon; len = strlen(canon); }
    if (!m->nslots && rehash(m)) return -2;
    size_t i = find_slot(m, s, len);
    if (m->slots[i]) return m->slots[i] - 1;
    if (m->fixed) return -1;
    if (m->n >= LD_MAX_CLASSES) return -3;
    if (!ld_utf8_valid(s, len)) return -4;
    if (m->n == m->cap) {
        int cap = m->cap ? 2 * m->cap : 16;
        char **names = realloc(m->names, (size_t)cap * sizeof *names);
        if (!names) return -2;
        m->names = names;
        m->cap = cap;
    }
    char *name = malloc(len + 1);
    if (!name) return -2;
    memcpy(name, s, len);
    name[len] = '\0';
    m->names[m->n++] = name;
    if (4 * (size_t)m->n > m->nslots) {  /* keep the load under 1/4... */
        if (rehash(m)) { m->n--; free(name); return -2; }
    } else {
        m->slots[i] = m->n;               /* ...else the free slot found above */
    }
    return m->n - 1;
}

/* Integers first, by value; then the rest by bytes. */
static int is_int(const char *s, long long *v) {
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return *s && *end == '\0' && !errno && (*s == '-' || (*s >= '0' && *s <= '9'));
}

static int cmp_names(const void *a, const void *b) {
    const char *x = **(char *const *const *)a, *y = **(char *const *const *)b;
    long long vx, vy;
    int ix = is_int(x, &vx), iy = is_int(y, &vy);
    if (ix != iy) return iy - ix;
    if (ix) return (vx > vy) - (vx < vy);
    return strcmp(x, y);
}

int labels_sort(LabelMap *m, int32_t *y, size_t n) {
    char ***order = malloc(((size_t)m->n + 1) * sizeof *order);   /* pointers into m->names */
    int32_t *new_id = malloc(((size_t)m->n + 1) * sizeof *new_id);
    char **names = malloc(((size_t)m->n + 1) * sizeof *names);
    int rc = order && new_id && names ? 0 : -2;
    if (!rc) {
        for (int i = 0; i < m->n; i++) order[i] = &m->names[i];
        qsort(order, (size_t)m->n, sizeof *order, cmp_names);
        for (int r = 0; r < m->n; r++) {
            int old = (int)(order[r] - m->names);
            new_id[old] = r;
            names[r] = m->names[old];
        }
        for (size_t i = 0; i < n; i++) y[i] = new_id[y[i]];
        free(m->names);
        m->names = names;
        m->cap = m->n + 1;
        names = NULL;
        rc = rehash(m);
        m->fixed = 1;
    }
    free(order); free(new_id); free(names);
    return rc;
}

int labels_to_dataset(Dataset *ds, const LabelMap *m, char *err, size_t errlen) {
    ds->k = m->n;                        /* parsers leave class_names NULL: nothing to replace */
    return dataset_set_class_names(ds, (const char *const *)m->names, err, errlen);
}

int labels_fail(const LineReader *r, long line, int id, const char *label, size_t len,
                char *err, size_t errlen) {
    char q[48];
    ld_quote(q, sizeof q, label, len);
    switch (id) {
    case -1: return lr_fail_at(r, line, err, errlen, ALSIM_BAD_INPUT, "label '%s' is not a class of the "
                               "training file", q);
    case -2: return lr_fail_at(r, line, err, errlen, ALSIM_RUNTIME, "out of memory for the class labels");
    case -3: return lr_fail_at(r, line, err, errlen, ALSIM_BAD_INPUT, "more than %d distinct labels: is this "
                               "really the class label?", LD_MAX_CLASSES);
    case -4: return lr_fail_at(r, line, err, errlen, ALSIM_BAD_INPUT, "the label '%s' is not valid UTF-8", q);
    default: return lr_fail_at(r, line, err, errlen, ALSIM_BAD_INPUT, "missing label (an empty field)");
    }
}

void labels_free(LabelMap *m) {
    for (int i = 0; i < m->n; i++) free(m->names[i]);
    free(m->names);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

/* ---- text files ---- */

void ld_hash_files(char out[65], const char *const *h, int n) {
    if (n == 1) { memcpy(out, h[0], 65); return; }
    Sha256 s;
    uint8_t digest[32];
    sha256_init(&s);
    for (int i = 0; i < n; i++) {
        sha256_update(&s, h[i], strlen(h[i]));
        sha256_update(&s, "\n", 1);
    }
    sha256_final(digest, &s);
    for (int i = 0; i < 32; i++) snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

/* Parses one file from r into ds (closing r): rows, the classes of a training file sorted
 * (unless the parser fixed them), class names, its hash into sha. 0/2/3; ds zeroed on failure. */
static int load_one(Dataset *ds, LineReader *r, LabelMap *m, TextParser parse, void *ctx,
                    int is_test, char sha[65], char *err, size_t errlen) {
    memset(ds, 0, sizeof *ds);
    int rc = parse(ds, r, m, ctx, is_test, err, errlen);
    if (!rc) rc = lr_finish(r, sha, err, errlen);
    if (!rc && ds->n == 0)
        rc = r->line == 0 ? lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "empty file")
                          : lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "no data rows");
    if (!rc && !is_test && !m->fixed && labels_sort(m, ds->y, (size_t)ds->n))
        rc = lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory for the class labels");
    if (!rc && m->n < 2) {
        char q[48];
        rc = lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "a single class ('%s'): a dataset needs at least 2",
                     m->n ? ld_quote(q, sizeof q, m->names[0], strlen(m->names[0])) : "");
    }
    if (!rc) rc = labels_to_dataset(ds, m, err, errlen);
    lr_close(r);
    if (rc) dataset_free(ds);
    return rc;
}

int ld_load_text(Dataset *train, Dataset *test, const char *path, const char *test_path,
                 TextParser parse, void *ctx, char *err, size_t errlen) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    LabelMap m = {0};
    LineReader r;
    char sha[2][65];
    int rc = lr_open(&r, path, err, errlen);
    if (!rc) rc = load_one(train, &r, &m, parse, ctx, 0, sha[0], err, errlen);
    if (!rc && test_path && !(rc = lr_open(&r, test_path, err, errlen)))
        rc = load_one(test, &r, &m, parse, ctx, 1, sha[1], err, errlen);
    labels_free(&m);
    if (rc) {
        dataset_free(train);
        dataset_free(test);
        return rc;
    }
    ld_hash_files(train->sha256, (const char *const[]){ sha[0], sha[1] }, test_path ? 2 : 1);
    snprintf(train->name, sizeof train->name, "%s", ld_basename(path));
    if (test_path) {
        memcpy(test->sha256, train->sha256, sizeof test->sha256);
        memcpy(test->name, train->name, sizeof test->name);
    }
    return 0;
}

int ld_parse_text_mem(Dataset *ds, const char *name, const void *data, size_t len,
                      TextParser parse, void *ctx, char *err, size_t errlen) {
    LabelMap m = {0};
    LineReader r;
    lr_open_mem(&r, name, data, len);
    int rc = load_one(ds, &r, &m, parse, ctx, 0, ds->sha256, err, errlen);
    labels_free(&m);
    if (!rc) snprintf(ds->name, sizeof ds->name, "%s", ld_basename(name));
    return rc;
}
