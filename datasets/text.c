/* text — raw emails to hashed TF-IDF features. See text.h for the pipeline and its choices.
 *
 * The email reader is deliberately small: it finds the header block, takes Subject and From,
 * and walks the MIME tree of the body for its text parts. It never trusts a length or a
 * nesting level it reads: every scan is bounded by the bytes it was given, and MIME nesting
 * by MIME_MAX_DEPTH, so malformed mail (plenty in a spam corpus) gives some text, never a
 * crash.
 */
#include "datasets/text.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/util.h"

#define MIME_MAX_DEPTH 8
#define HEADER_MAX 1024         /* Content-Type and -Transfer-Encoding values kept (bytes) */

// ----------------------------------------------------------------------------
// byte buffers and spans

void textbuf_free(TextBuf *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* Room for extra more bytes and a NUL. 0, or -1 when out of memory. */
static int buf_reserve(TextBuf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

static int buf_append(TextBuf *b, const char *s, size_t n) {
    if (buf_reserve(b, n)) return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

static void buf_clear(TextBuf *b) {
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

typedef struct {
    const char *p;
    size_t n;
} Span;

/* The end of the line starting at i (the index of its '\n', or s.n). */
static size_t line_end(Span s, size_t i) {
    const char *nl = memchr(s.p + i, '\n', s.n - i);
    return nl ? (size_t)(nl - s.p) : s.n;
}

/* Length of the line [i, end) without a trailing '\r'. */
static size_t line_len(Span s, size_t i, size_t end) {
    return end > i && s.p[end - 1] == '\r' ? end - i - 1 : end - i;
}

static int starts_with_nocase(const char *s, size_t n, const char *prefix) {
    size_t k = strlen(prefix);
    return n >= k && strncasecmp(s, prefix, k) == 0;
}

// ----------------------------------------------------------------------------
// transfer encodings

static int hex_value(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Quoted-printable (RFC 2045 §6.7): =XX is a byte, '=' at a line's end a soft break;
 * underscore_space: '_' is a space (RFC 2047 Q encoding). Malformed escapes are kept. */
static int decode_qp(TextBuf *out, Span s, int underscore_space) {
    if (buf_reserve(out, s.n)) return -1;
    char *o = out->data + out->len;
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c == '=' && i + 2 < s.n && hex_value(s.p[i + 1]) >= 0 && hex_value(s.p[i + 2]) >= 0) {
            *o++ = (char)(hex_value(s.p[i + 1]) * 16 + hex_value(s.p[i + 2]));
            i += 2;
        } else if (c == '=' && i + 1 < s.n && (s.p[i + 1] == '\n' || s.p[i + 1] == '\r')) {
            i += s.p[i + 1] == '\r' && i + 2 < s.n && s.p[i + 2] == '\n' ? 2 : 1;
        } else {
            *o++ = underscore_space && c == '_' ? ' ' : (char)c;
        }
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return 0;
}

static int base64_value(int c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Base64 (RFC 2045 §6.8): characters outside the alphabet are skipped; stops at '='. */
static int decode_base64(TextBuf *out, Span s) {
    if (buf_reserve(out, s.n / 4 * 3 + 3)) return -1;
    char *o = out->data + out->len;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < s.n && s.p[i] != '='; i++) {
        int v = base64_value((unsigned char)s.p[i]);
        if (v < 0) continue;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *o++ = (char)((acc >> bits) & 0xFF);
        }
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return 0;
}

/* Appends s decoded by its Content-Transfer-Encoding enc (lowercase). */
static int decode_cte(TextBuf *out, Span s, const char *enc) {
    if (strncmp(enc, "quoted-printable", 16) == 0) return decode_qp(out, s, 0);
    if (strncmp(enc, "base64", 6) == 0) return decode_base64(out, s);
    return buf_append(out, s.p, s.n);      // 7bit, 8bit, binary, or unknown: as is
}

// ----------------------------------------------------------------------------
// headers

/* Splits a message or MIME part into its header block and body. The headers end at the
 * first empty line, or at the first line that is neither a header ("Name: ..."), a folded
 * continuation (leading space or tab), nor an mbox "From " line at the top; that line then
 * starts the body. */
static void split_head(Span m, Span *head, Span *body) {
    size_t i = 0;
    while (i < m.n) {
        size_t end = line_end(m, i), len = line_len(m, i, end);
        const char *line = m.p + i;
        size_t name = 0;
        while (name < len && line[name] > ' ' && line[name] < 127 && line[name] != ':') name++;
        int header = (name > 0 && name < len && line[name] == ':') ||
                     (i > 0 && len > 0 && (line[0] == ' ' || line[0] == '\t')) ||
                     (i == 0 && starts_with_nocase(line, len, "From "));
        if (len == 0 || !header) {
            *head = (Span){m.p, i};
            size_t next = len == 0 ? (end < m.n ? end + 1 : m.n) : i;
            *body = (Span){m.p + next, m.n - next};
            return;
        }
        i = end < m.n ? end + 1 : m.n;
    }
    *head = m;
    *body = (Span){m.p + m.n, 0};
}

/* The value of the first header called name (case-insensitive) in head, unfolded (each
 * line break and the whitespace after it become one space), leading and trailing whitespace
 * trimmed, appended to out. Returns 1 when found, 0 when not, -1 when out of memory. */
static int header_value(TextBuf *out, Span head, const char *name) {
    size_t k = strlen(name), i = 0;
    while (i < head.n) {
        size_t end = line_end(head, i), len = line_len(head, i, end);
        const char *line = head.p + i;
        if (len > k && line[k] == ':' && strncasecmp(line, name, k) == 0) {
            size_t start = out->len;
            size_t from = k + 1;
            for (;;) {
                while (from < len && (line[from] == ' ' || line[from] == '\t')) from++;
                if (out->len > start && buf_append(out, " ", 1)) return -1;
                if (buf_append(out, line + from, len - from)) return -1;
                i = end < head.n ? end + 1 : head.n;            // folded continuation lines
                if (i >= head.n || (head.p[i] != ' ' && head.p[i] != '\t')) break;
                end = line_end(head, i);
                len = line_len(head, i, end);
                line = head.p + i;
                from = 0;
            }
            while (out->len > start && isspace((unsigned char)out->data[out->len - 1])) out->len--;
            out->data[out->len] = '\0';
            return 1;
        }
        i = end < head.n ? end + 1 : head.n;
    }
    return 0;
}

/* A short header value (Content-Type, Content-Transfer-Encoding), lowercased, into
 * value (HEADER_MAX bytes, truncated); "" when absent. Returns 0 or -1. */
static int header_lower(char value[HEADER_MAX], Span head, const char *name) {
    TextBuf b = {0};
    int rc = header_value(&b, head, name);
    size_t n = rc == 1 ? (b.len < HEADER_MAX - 1 ? b.len : HEADER_MAX - 1) : 0;
    for (size_t i = 0; i < n; i++) value[i] = (char)tolower((unsigned char)b.data[i]);
    value[n] = '\0';
    textbuf_free(&b);
    return rc < 0 ? -1 : 0;
}

/* At s[i]: an RFC 2047 encoded word =?charset?E?text?= inside s[0..n)? Returns the index
 * after it, with *enc = E lowercased and *text, or 0 when there is none. */
static size_t encoded_word(const char *s, size_t n, size_t i, int *enc, Span *text) {
    if (i + 1 >= n || s[i] != '=' || s[i + 1] != '?') return 0;
    const char *end = s + n;
    const char *q1 = memchr(s + i + 2, '?', n - i - 2);             // after the charset
    if (!q1 || end - q1 < 3 || q1[2] != '?') return 0;              // "?E?"
    const char *q3 = memchr(q1 + 3, '?', (size_t)(end - q1 - 3));   // the end of the text
    if (!q3 || q3 + 1 >= end || q3[1] != '=') return 0;
    *enc = tolower((unsigned char)q1[1]);
    *text = (Span){q1 + 3, (size_t)(q3 - q1 - 3)};
    return (size_t)(q3 + 2 - s);
}

/* Appends a header value with RFC 2047 encoded words decoded to their bytes (the charset is
 * not converted); anything else is copied. */
static int decode_words(TextBuf *out, const char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        int enc;
        Span text;
        size_t next = encoded_word(s, n, i, &enc, &text);
        int rc = !next ? buf_append(out, s + i, 1)
               : enc == 'b' ? decode_base64(out, text)
               : enc == 'q' ? decode_qp(out, text, 1) : buf_append(out, text.p, text.n);
        if (rc) return -1;
        i = next ? next : i + 1;
    }
    return 0;
}

/* A header that is featurized: found, unfolded, encoded words decoded into out. */
static int header_text(TextBuf *out, Span head, const char *name) {
    TextBuf raw = {0};
    int rc = header_value(&raw, head, name);
    if (rc == 1) rc = decode_words(out, raw.data, raw.len);
    textbuf_free(&raw);
    return rc < 0 ? -1 : 0;
}

// ----------------------------------------------------------------------------
// HTML to text

/* i at '<': the index after the tag (or comment, or a <style>/<script> element). */
static size_t skip_tag(const char *s, size_t n, size_t i) {
    static const char *const skipped_elements[] = {"style", "script"};
    if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
        for (size_t j = i + 4; j + 3 <= n; j++)
            if (memcmp(s + j, "-->", 3) == 0) return j + 3;
        return n;
    }
    for (size_t e = 0; e < 2; e++) {
        const char *name = skipped_elements[e];
        size_t k = strlen(name);
        if (n - i > k + 1 && strncasecmp(s + i + 1, name, k) == 0 &&
            (s[i + 1 + k] == '>' || isspace((unsigned char)s[i + 1 + k]))) {
            for (size_t j = i + 1 + k; j + k + 2 <= n; j++)    // to the closing tag "</name"
                if (s[j] == '<' && s[j + 1] == '/' && strncasecmp(s + j + 2, name, k) == 0) {
                    const char *gt = memchr(s + j, '>', n - j);
                    return gt ? (size_t)(gt - s) + 1 : n;
                }
            return n;
        }
    }
    const char *gt = memchr(s + i, '>', n - i);
    return gt ? (size_t)(gt - s) + 1 : n;
}

/* i at '&': writes the entity's character to *c (a space for ones it does not know) and
 * returns the index after it; returns i + 1 with *c = '&' when no ';' closes it nearby. */
static size_t html_entity(const char *s, size_t n, size_t i, char *c) {
    static const struct { const char *name; char c; } entities[] = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"nbsp", ' '}, {"apos", '\''},
    };
    size_t j = i + 1;
    while (j < n && j - i <= 10 && s[j] != ';' && (isalnum((unsigned char)s[j]) || s[j] == '#')) j++;
    if (j >= n || s[j] != ';' || j == i + 1) {
        *c = '&';
        return i + 1;
    }
    *c = ' ';
    if (s[i + 1] == '#') {
        long v = s[i + 2] == 'x' || s[i + 2] == 'X' ? strtol(s + i + 3, NULL, 16) : strtol(s + i + 2, NULL, 10);
        if (v > 0 && v < 128) *c = (char)v;
    } else {
        for (size_t e = 0; e < sizeof entities / sizeof entities[0]; e++)
            if (strlen(entities[e].name) == j - i - 1 && strncasecmp(s + i + 1, entities[e].name, j - i - 1) == 0)
                *c = entities[e].c;
    }
    return j + 1;
}

/* Appends the text of HTML s: tags become a space, entities characters. */
static int strip_html(TextBuf *out, const char *s, size_t n) {
    if (buf_reserve(out, n)) return -1;             // the text is never longer than s
    char *o = out->data + out->len;
    size_t i = 0;
    while (i < n) {
        if (s[i] == '<') {
            i = skip_tag(s, n, i);
            *o++ = ' ';
        } else if (s[i] == '&') {
            i = html_entity(s, n, i, o++);
        } else {
            *o++ = s[i++];
        }
    }
    out->len = (size_t)(o - out->data);
    out->data[out->len] = '\0';
    return 0;
}

// ----------------------------------------------------------------------------
// the MIME tree

/* The boundary parameter of a multipart Content-Type (lowercased value, but the boundary
 * itself must keep its case, so it is read from the original header). */
static int boundary_of(char *out, size_t outlen, Span head) {
    TextBuf b = {0};
    int rc = header_value(&b, head, "content-type"), found = 0;
    if (rc < 0) return -1;
    for (size_t i = 0; rc == 1 && i + 9 <= b.len; i++) {
        if (strncasecmp(b.data + i, "boundary=", 9) != 0) continue;
        const char *v = b.data + i + 9;
        size_t n = 0;
        if (*v == '"') {
            v++;
            while (v[n] && v[n] != '"') n++;
        } else {
            while (v[n] && v[n] != ';' && !isspace((unsigned char)v[n])) n++;
        }
        if (n > 0 && n < outlen) {
            memcpy(out, v, n);
            out[n] = '\0';
            found = 1;
        }
        break;
    }
    textbuf_free(&b);
    return found;
}

static int extract_text(TextBuf *out, Span head, Span body, int depth);

/* The parts of a multipart body between "--boundary" lines (the preamble and what follows
 * "--boundary--" are ignored). Returns the number of parts, or -1 when out of memory. */
static int walk_multipart(TextBuf *out, Span body, const char *boundary, int depth) {
    size_t blen = strlen(boundary), i = 0, part_start = 0;
    int in_part = 0, parts = 0;
    while (i < body.n) {
        size_t end = line_end(body, i), len = line_len(body, i, end);
        const char *line = body.p + i;
        // a delimiter: "--boundary" or "--boundary--", then only whitespace
        size_t rest = blen + 2;
        int closing = len >= blen + 4 && memcmp(line + rest, "--", 2) == 0;
        if (closing) rest += 2;
        while (rest < len && (line[rest] == ' ' || line[rest] == '\t')) rest++;
        if (len >= blen + 2 && rest == len && line[0] == '-' && line[1] == '-' &&
            memcmp(line + 2, boundary, blen) == 0) {
            if (in_part) {
                Span part = {body.p + part_start, i - part_start}, h, b;
                split_head(part, &h, &b);
                if (extract_text(out, h, b, depth + 1)) return -1;
                parts++;
            }
            if (closing) return parts;
            in_part = 1;
            part_start = end < body.n ? end + 1 : body.n;
        }
        i = end < body.n ? end + 1 : body.n;
    }
    if (in_part && part_start < body.n) {           // no closing delimiter: the last part
        Span part = {body.p + part_start, body.n - part_start}, h, b;
        split_head(part, &h, &b);
        if (extract_text(out, h, b, depth + 1)) return -1;
        parts++;
    }
    return parts;
}

/* Appends the text of one entity (headers head, body body) to out, walking multiparts. */
static int extract_text(TextBuf *out, Span head, Span body, int depth) {
    char type[HEADER_MAX], enc[HEADER_MAX], boundary[256];
    if (depth > MIME_MAX_DEPTH) return 0;
    if (header_lower(type, head, "content-type") || header_lower(enc, head, "content-transfer-encoding"))
        return -1;
    if (strncmp(type, "multipart/", 10) == 0) {
        int rc = boundary_of(boundary, sizeof boundary, head);
        if (rc < 0) return -1;
        int parts = rc ? walk_multipart(out, body, boundary, depth) : 0;
        if (parts != 0) return parts < 0 ? -1 : 0;
        // no boundary or no parts found: broken MIME; read the body as plain text below
        type[0] = '\0';
    } else if (strncmp(type, "message/rfc822", 14) == 0) {
        Span h, b;
        split_head(body, &h, &b);
        return extract_text(out, h, b, depth + 1);
    }
    int html = strncmp(type, "text/html", 9) == 0;
    if (type[0] && strncmp(type, "text/", 5) != 0) return 0;    // images, attachments
    TextBuf decoded = {0};
    int rc = decode_cte(&decoded, body, enc);
    if (!rc && out->len) rc = buf_append(out, "\n", 1);
    if (!rc && decoded.len) rc = html ? strip_html(out, decoded.data, decoded.len)
                                      : buf_append(out, decoded.data, decoded.len);
    textbuf_free(&decoded);
    return rc;
}

int text_email_fields(TextBuf *subject, TextBuf *from, TextBuf *body, const char *raw, size_t n) {
    buf_clear(subject);
    buf_clear(from);
    buf_clear(body);
    Span head, b;
    split_head((Span){raw, n}, &head, &b);
    if (header_text(subject, head, "subject") || header_text(from, head, "from")) return -1;
    return extract_text(body, head, b, 0);
}

// ----------------------------------------------------------------------------
// tokens and hashed features

static int is_word_byte(unsigned char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

int text_next_token(char tok[TEXT_MAX_TOKEN + 1], int *skipped, const char *text, size_t len,
                    size_t *pos) {
    size_t i = *pos;
    int skip = 0;
    for (;;) {
        while (i < len && !is_word_byte((unsigned char)text[i])) i++;
        size_t start = i;
        while (i < len && is_word_byte((unsigned char)text[i])) i++;
        size_t n = i - start;
        if (n > TEXT_MAX_TOKEN) {       // too long to be a word: skip it
            skip = 1;
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            unsigned char c = (unsigned char)text[start + k];
            tok[k] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
        }
        tok[n] = '\0';
        *pos = i;
        if (skipped) *skipped = skip;
        return (int)n;                  // 0 at the end of text
    }
}

/* FNV-1a mixes its last bytes poorly (one-letter words differ only in a few middle bits),
 * so the hash goes through MurmurHash3's 64-bit finalizer before its low 18 bits are taken. */
uint32_t text_bucket(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return (uint32_t)(h & (TEXT_BUCKETS - 1));
}

uint32_t text_feature_id(const char *prefix, const char *w1, const char *w2) {
    uint64_t h = util_fnv1a(UTIL_FNV_START, prefix, strlen(prefix));
    h = util_fnv1a(h, w1, strlen(w1));
    if (w2) {
        h = util_fnv1a(h, " ", 1);
        h = util_fnv1a(h, w2, strlen(w2));
    }
    return text_bucket(h);
}

/* A growable array of feature ids. */
typedef struct {
    uint32_t *id;
    size_t n, cap;
} Ids;

static int ids_push(Ids *a, uint32_t v) {
    if (a->n == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 1024;
        uint32_t *p = realloc(a->id, cap * sizeof *p);
        if (!p) return -1;
        a->id = p;
        a->cap = cap;
    }
    a->id[a->n++] = v;
    return 0;
}

/* Appends the unigram and bigram ids of text (a field with the given prefix) to ids. A
 * bigram's hash continues its first word's: FNV(prefix w1 " " w2). */
static int field_features(Ids *ids, const char *prefix, const char *text, size_t len) {
    const uint64_t h_prefix = util_fnv1a(UTIL_FNV_START, prefix, strlen(prefix));
    char tok[TEXT_MAX_TOKEN + 1];
    size_t pos = 0;
    int n, skipped, have_prev = 0;
    uint64_t h_prev = 0;                // FNV(prefix prev_word)
    while ((n = text_next_token(tok, &skipped, text, len, &pos)) > 0) {
        uint64_t h = util_fnv1a(h_prefix, tok, (size_t)n);
        if (ids_push(ids, text_bucket(h))) return -1;
        if (have_prev && !skipped) {
            uint64_t hb = util_fnv1a(util_fnv1a(h_prev, " ", 1), tok, (size_t)n);
            if (ids_push(ids, text_bucket(hb))) return -1;
        }
        h_prev = h;
        have_prev = 1;
    }
    return 0;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* A growable CSR under construction: indices and counts, row by row. */
typedef struct {
    int32_t *indices;
    float *values;
    size_t nnz, cap;
} Triplets;

static int triplets_reserve(Triplets *t, size_t extra) {
    if (t->nnz + extra <= t->cap) return 0;
    size_t cap = t->cap ? t->cap : 1 << 16;
    while (cap < t->nnz + extra) cap *= 2;
    int32_t *i = realloc(t->indices, cap * sizeof *i);
    if (i) t->indices = i;
    float *v = realloc(t->values, cap * sizeof *v);
    if (v) t->values = v;
    if (!i || !v) return -1;
    t->cap = cap;
    return 0;
}

int text_count_docs(Dataset *counts, const char *const *docs, const size_t *lens,
                    const int32_t *labels, int n, int k, char *err, size_t errlen) {
    memset(counts, 0, sizeof *counts);
    TextBuf subject = {0}, from = {0}, body = {0};
    Ids ids = {0};
    Triplets t = {0};
    int64_t *indptr = malloc(((size_t)n + 1) * sizeof *indptr);
    int oom = !indptr;
    if (!oom) indptr[0] = 0;
    for (int d = 0; d < n && !oom; d++) {
        ids.n = 0;
        oom = text_email_fields(&subject, &from, &body, docs[d], lens[d]) ||
              field_features(&ids, "subject:", subject.data, subject.len) ||
              field_features(&ids, "from:", from.data, from.len) ||
              field_features(&ids, "", body.data, body.len) ||
              triplets_reserve(&t, ids.n);
        if (oom) break;
        qsort(ids.id, ids.n, sizeof *ids.id, cmp_u32);
        for (size_t i = 0; i < ids.n; i++) {        // runs of equal ids: (bucket, count)
            if (i > 0 && ids.id[i] == ids.id[i - 1]) {
                t.values[t.nnz - 1] += 1.0f;
            } else {
                t.indices[t.nnz] = (int32_t)ids.id[i];
                t.values[t.nnz++] = 1.0f;
            }
        }
        indptr[d + 1] = (int64_t)t.nnz;
    }
    textbuf_free(&subject);
    textbuf_free(&from);
    textbuf_free(&body);
    free(ids.id);
    if (oom) snprintf(err, errlen, "out of memory featurizing %d documents", n);
    int rc = oom ? 3 : dataset_alloc_csr(counts, n, TEXT_BUCKETS, k, (int64_t)t.nnz, "", err, errlen);
    if (!rc) {
        memcpy(counts->indptr, indptr, ((size_t)n + 1) * sizeof *indptr);
        memcpy(counts->indices, t.indices, t.nnz * sizeof *t.indices);
        memcpy(counts->values, t.values, t.nnz * sizeof *t.values);
        memcpy(counts->y, labels, (size_t)n * sizeof *labels);
    }
    free(indptr);
    free(t.indices);
    free(t.values);
    return rc;
}

// ----------------------------------------------------------------------------
// TF-IDF

int text_idf_fit(double *idf, const Dataset *counts) {
    int *df = calloc((size_t)counts->d, sizeof *df);
    if (!df) return -1;
    const int64_t nnz = counts->indptr[counts->n];
    for (int64_t p = 0; p < nnz; p++) df[counts->indices[p]]++;    // columns unique per row
    for (int j = 0; j < counts->d; j++) idf[j] = log((1.0 + counts->n) / (1.0 + df[j])) + 1.0;
    free(df);
    return 0;
}

void text_tfidf_apply(Dataset *ds, const double *idf) {
    for (int i = 0; i < ds->n; i++) {
        double norm2 = 0.0;
        for (int64_t p = ds->indptr[i]; p < ds->indptr[i + 1]; p++) {
            double w = (1.0 + log((double)ds->values[p])) * idf[ds->indices[p]];
            ds->values[p] = (float)w;
            norm2 += w * w;
        }
        if (norm2 <= 0.0) continue;
        const double scale = 1.0 / sqrt(norm2);
        for (int64_t p = ds->indptr[i]; p < ds->indptr[i + 1]; p++)
            ds->values[p] = (float)(ds->values[p] * scale);
    }
}

int text_open_docs(Dataset *pool, Dataset *test, const char *const *docs, const size_t *lens,
                   const int32_t *labels, int n, int k, double test_frac, uint64_t split_seed,
                   char *err, size_t errlen) {
    Dataset counts;
    int rc = text_count_docs(&counts, docs, lens, labels, n, k, err, errlen);
    if (!rc) rc = dataset_split_stratified(pool, test, &counts, test_frac, split_seed, err, errlen);
    if (rc) return rc;
    double *idf = malloc((size_t)pool->d * sizeof *idf);
    if (!idf || text_idf_fit(idf, pool) != 0) {     // the pool only: nothing from the test set
        free(idf);
        dataset_free(pool);
        dataset_free(test);
        snprintf(err, errlen, "out of memory for the idf of %d features", TEXT_BUCKETS);
        return ALSIM_RUNTIME;
    }
    text_tfidf_apply(pool, idf);
    text_tfidf_apply(test, idf);
    free(idf);
    return 0;
}
