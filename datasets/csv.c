/* csv — numeric features and one class column, one row per line: the plainest way to bring
 * your own data (`--dataset data.csv`, `csv:PATH`; tab-separated when the name ends in .tsv).
 *
 * The class column is --label: a column name (the first line is then a header), a 0-based
 * index (negative: from the end), or by default the last column. Without a name, the first
 * line is a header when one of its feature fields is not a number, or when its class field is
 * not a number while the next line's is (so "0,1,2,label" over integer labels is a header).
 * Fields may be quoted ("a,b", "" for a quote) but not span lines; spaces around fields are
 * dropped; blank lines are skipped. Every feature must be a finite float32. Labels are kept as
 * class names (see loader.h for their order). Rows stream through loader.c's LineReader into
 * growing arrays: peak memory is about the parsed floats plus one read chunk.
 *
 * Text (dataset_load_csv_text, --text-column with --model bert:DIR): one column holds raw
 * text, which becomes a token row (datasets/tokens.h); the class column is --label, by
 * default the last column other than the text column; the other columns are ignored. Quoted
 * fields may then span lines (a record goes on while a quote is open; its messages name the
 * line it starts on). Without a column name (--text-column and --label given as indices or
 * not at all), the first line is a header when its class field is the class of no other row
 * (a one-row class named like a column is far likelier a header than data).
 */
#include "datasets/loader.h"
#include "datasets/tokens.h"
#include "sim/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BAD_QUOTE "unterminated quoted field, or text after its closing quote"

typedef struct {
    const char *label;      /* --label, or NULL: the last column */
    char delim;
    int ncols;              /* columns of the training file; the test file must match */
    const char *text;       /* --text-column, or NULL: numeric features */
    const WordPiece *wp;    /* with text: the tokenizer */
    int max_tokens;         /* with text: the token rows' length */
} CsvCtx;

static int is_number(const char *s, size_t n) {
    float v;
    return ld_parse_float(&v, s, n) != 1;
}

static int blank(const char *s) {
    while (*s == ' ' || *s == '\t') s++;
    return *s == '\0';
}

/* The state of one file being parsed. */
typedef struct {
    LineReader *r;
    LdFields head;          /* line 1, split (a copy: it outlives the reader's buffer) */
    char *head_copy;
    long head_line;         /* its line number (blank lines may come first) */
    int header, label_col, ncols, d;
    int text_col;           /* the text column (token rows), or -1 */
    const WordPiece *wp;    /* with text_col: the tokenizer */
    int maybe_header;       /* text: line 1 is row 0 until its class proves it a header */
    char *rec;              /* text: a record spanning lines, joined (rec_cap bytes) */
    size_t rec_cap;
    float *x;               /* (n, d) */
    int32_t *y;             /* (n) */
    size_t n, cap_x, cap_y;
} Csv;

/* "column C ('name')" for messages. */
static const char *column_name(char *out, size_t len, const Csv *c, int col) {
    char q[48];
    if (c->header)
        snprintf(out, len, "column %d ('%s')", col + 1,
                 ld_quote(q, sizeof q, c->head.f[col], c->head.len[col]));
    else
        snprintf(out, len, "column %d", col + 1);
    return out;
}

/* Appends the row in fs (read at line `line`). Returns 0/2/3. */
static int add_row(Csv *c, const LdFields *fs, LabelMap *classes, long line, char *err, size_t errlen) {
    const char *what = c->header ? "the header has" : "the first line has";
    if (fs->n != c->ncols)
        return lr_fail_at(c->r, line, err, errlen, ALSIM_BAD_INPUT, "%s%d fields, %s %d (ragged rows)",
                          fs->n > c->ncols ? "more than " : "", fs->n > c->ncols ? c->ncols : fs->n,
                          what, c->ncols);
    if (c->n >= INT_MAX)
        return lr_fail_at(c->r, line, err, errlen, ALSIM_BAD_INPUT, "more than %d rows", INT_MAX);
    float *x = ld_grow(c->x, &c->cap_x, (c->n + 1) * (size_t)c->d, sizeof *x);
    if (x) c->x = x;
    int32_t *y = ld_grow(c->y, &c->cap_y, c->n + 1, sizeof *y);
    if (y) c->y = y;
    if (!x || !y) return lr_fail_at(c->r, line, err, errlen, ALSIM_RUNTIME, "out of memory after %zu rows", c->n);
    float *row = c->x + c->n * (size_t)c->d;
    if (c->text_col >= 0) {
        if (dataset_tokens_row(row, c->wp, fs->f[c->text_col], fs->len[c->text_col], c->d) < 0)
            return lr_fail_at(c->r, line, err, errlen, ALSIM_RUNTIME, "out of memory tokenizing row %zu", c->n + 1);
        if (c->maybe_header && c->n == 0) c->y[0] = -1;     /* decided at the end (resolve_header) */
        else {
            const char *s = fs->f[c->label_col];
            size_t len = fs->len[c->label_col];
            int id = labels_id(classes, s, len);
            if (id < 0) return labels_fail(c->r, line, id, s, len, err, errlen);
            c->y[c->n] = id;
        }
        c->n++;
        return 0;
    }
    for (int j = 0, col = 0; col < c->ncols; col++) {
        const char *s = fs->f[col];
        size_t len = fs->len[col];
        if (col == c->label_col) {
            int id = labels_id(classes, s, len);
            if (id < 0) return labels_fail(c->r, line, id, s, len, err, errlen);
            c->y[c->n] = id;
            continue;
        }
        int bad = ld_parse_float(&row[j++], s, len);
        if (bad) {
            char name[128], q[48];
            return lr_fail_at(c->r, line, err, errlen, ALSIM_BAD_INPUT, "%s: %s%s%s %s",
                              column_name(name, sizeof name, c, col), len ? "'" : "",
                              len ? ld_quote(q, sizeof q, s, len) : "an empty field",
                              len ? "'" : "", ld_float_error(bad));
        }
    }
    c->n++;
    return 0;
}

/* A header that names two columns alike is refused: --label and the messages name columns,
 * and a second 'price' is more likely a mistake than a feature. 0/2/3. */
static int unique_names(const Csv *c, char *err, size_t errlen) {
    int a, b, found = ld_duplicate_name(&a, &b, c->head.f, c->ncols);
    if (found == -2) return lr_fail_at(c->r, c->head_line, err, errlen, ALSIM_RUNTIME, "out of memory");
    if (!found) return 0;
    char q[48];
    return lr_fail_at(c->r, c->head_line, err, errlen, ALSIM_BAD_INPUT, "the header names two columns '%s' "
                      "(columns %d and %d): column names must differ",
                      ld_quote(q, sizeof q, c->head.f[b], c->head.len[b]), a + 1, b + 1);
}

/* Where CSV quoting (as ld_next_field's) stands after some of a record. */
enum { Q_START, Q_PLAIN, Q_QUOTED, Q_AFTER };

/* Runs the quoting state *st over s; returns 1 when s ends inside a quoted field. Each line of
 * a record is scanned once, so a stray quote costs linear time, not quadratic. */
static int quote_open(const char *s, char delim, int *st) {
    for (; *s; s++) {
        switch (*st) {
        case Q_START:
            if (*s == '"') *st = Q_QUOTED;
            else if (*s != delim && *s != ' ' && (*s != '\t' || delim == '\t')) *st = Q_PLAIN;
            break;
        case Q_QUOTED:
            if (*s == '"' && s[1] == '"') s++;
            else if (*s == '"') *st = Q_AFTER;
            break;
        default:                        /* text after a closing quote: ld_split reports it */
            if (*s == delim) *st = Q_START;
        }
    }
    return *st == Q_QUOTED;
}

/* The next record: lr_next's line, or with a text column, lines joined by '\n' while a quoted
 * field is open (in c->rec). *first = the line it starts on. Returns lr_next's 1/0/2/3. */
static int next_record(Csv *c, char delim, char **line, size_t *len, long *first, char *err,
                       size_t errlen) {
    int rc = lr_next(c->r, line, len, err, errlen), st = Q_START, open = 1;
    *first = c->r->line;
    if (rc != 1 || c->text_col < 0 || !quote_open(*line, delim, &st)) return rc;
    size_t n = 0;
    for (;;) {
        if (n + *len + 2 > c->rec_cap) {
            if (n + *len + 2 > LD_MAX_LINE)
                return lr_fail_at(c->r, *first, err, errlen, ALSIM_BAD_INPUT, "a record of more than %u MiB "
                                  "(a quoted field that never closes?)", LD_MAX_LINE >> 20);
            size_t cap = 2 * (n + *len + 2);
            char *more = realloc(c->rec, cap);
            if (!more) return lr_fail_at(c->r, *first, err, errlen, ALSIM_RUNTIME, "out of memory");
            c->rec = more;
            c->rec_cap = cap;
        }
        if (n) c->rec[n++] = '\n';
        memcpy(c->rec + n, *line, *len);
        n += *len;
        c->rec[n] = '\0';
        if (!open) break;
        rc = lr_next(c->r, line, len, err, errlen);
        if (rc == 0)
            return lr_fail_at(c->r, *first, err, errlen, ALSIM_BAD_INPUT, "a quoted field starting on this line "
                              "is never closed");
        if (rc != 1) return rc;
        open = quote_open(*line, delim, &st);
    }
    *line = c->rec;
    *len = n;
    return 1;
}

/* Sets *col to the column spec names: a 0-based index (negative: from the end) or a name of
 * the header (then c->header = 1). what: "--label" or "--text-column". Returns 0 or 2. */
static int find_column(int *col, Csv *c, const char *spec, const char *what, char *err, size_t errlen) {
    char q[48], q2[48];
    char *end;
    errno = 0;
    long v = strtol(spec, &end, 10);
    if (*end == '\0' && !errno) {              /* an index */
        if (v < -(long)c->ncols || v >= c->ncols)
            return lr_fail(c->r, err, errlen, ALSIM_BAD_INPUT, "%s %s: the file has %d columns (0..%d, "
                           "or -1..-%d from the end)", what, spec, c->ncols, c->ncols - 1, c->ncols);
        *col = (int)(v < 0 ? v + c->ncols : v);
        return 0;
    }
    *col = -1;                                  /* a name: line 1 is the header */
    for (int i = 0; i < c->ncols && *col < 0; i++)
        if (!strcmp(c->head.f[i], spec)) *col = i;
    if (*col < 0)
        return lr_fail(c->r, err, errlen, ALSIM_BAD_INPUT, "%s '%s': no such column in the header "
                       "(its first column is '%s')", what, ld_quote(q, sizeof q, spec, strlen(spec)),
                       ld_quote(q2, sizeof q2, c->head.f[0], c->head.len[0]));
    c->header = 1;
    return 0;
}

/* Reads line 1 into c->head and finds the class column (and the text column). Returns 0/2/3,
 * or -1 (no lines). */
static int read_head(Csv *c, const CsvCtx *ctx, int is_test, char *err, size_t errlen) {
    char *line;
    size_t len;
    int rc;
    while ((rc = next_record(c, ctx->delim, &line, &len, &c->head_line, err, errlen)) == 1 && blank(line)) {}
    if (rc != 1) return rc ? rc : -1;
    if (!(c->head_copy = malloc(len + 1))) return lr_fail(c->r, err, errlen, ALSIM_RUNTIME, "out of memory");
    memcpy(c->head_copy, line, len + 1);
    rc = ld_split(&c->head, c->head_copy, ctx->delim, 0, 0);
    if (rc == -2) return lr_fail(c->r, err, errlen, ALSIM_RUNTIME, "out of memory");
    if (rc) return lr_fail(c->r, err, errlen, ALSIM_BAD_INPUT, BAD_QUOTE);
    c->ncols = c->head.n;
    if (c->ncols < 2)
        return lr_fail(c->r, err, errlen, ALSIM_BAD_INPUT, "a single column: a CSV dataset has feature columns "
                       "and a class column (separated by %s)", ctx->delim == ',' ? "commas" : "tabs");
    if (is_test && c->ncols != ctx->ncols)
        return lr_fail(c->r, err, errlen, ALSIM_BAD_INPUT, "%d columns, the training file has %d", c->ncols,
                       ctx->ncols);

    const char *label = ctx->label;
    c->text_col = -1;
    if (ctx->text && (rc = find_column(&c->text_col, c, ctx->text, "--text-column", err, errlen))) return rc;
    c->label_col = c->text_col == c->ncols - 1 ? c->ncols - 2 : c->ncols - 1;
    if (label && *label && (rc = find_column(&c->label_col, c, label, "--label", err, errlen))) return rc;
    if (c->text_col >= 0 && c->label_col == c->text_col)
        return lr_fail(c->r, err, errlen, ALSIM_BAD_INPUT, "--label and --text-column name the same column (%d)",
                       c->label_col + 1);
    for (int i = 0; i < c->ncols && !c->header && c->text_col < 0; i++)
        if (i != c->label_col && !is_number(c->head.f[i], c->head.len[i])) c->header = 1;
    c->maybe_header = c->text_col >= 0 && !c->header;
    for (int i = 0; i < c->ncols; i++)
        if (i != c->text_col && !ld_utf8_valid(c->head.f[i], c->head.len[i]))
            return lr_fail(c->r, err, errlen, ALSIM_BAD_INPUT, "field %d is not valid UTF-8", i + 1);
    c->d = c->text_col >= 0 ? ctx->max_tokens : c->ncols - 1;
    return c->header ? unique_names(c, err, errlen) : 0;
}

/* Text columns without a name: line 1 (row 0, its class not yet counted) is data when its
 * class is the class of another row, else the header, and row 0 goes. Returns 0/2/3. */
static int resolve_header(Csv *c, LabelMap *classes, char *err, size_t errlen) {
    const char *s = c->head.f[c->label_col];
    size_t len = c->head.len[c->label_col];
    const int fixed = classes->fixed;
    classes->fixed = 1;                     /* a lookup: line 1's class must exist already */
    int id = labels_id(classes, s, len);
    classes->fixed = fixed;
    c->maybe_header = 0;
    if (c->n && id >= 0) {
        c->y[0] = id;
        return 0;
    }
    c->header = 1;
    for (int i = 0; i < c->ncols; i++)
        if (!ld_utf8_valid(c->head.f[i], c->head.len[i]))
            return lr_fail_at(c->r, c->head_line, err, errlen, ALSIM_BAD_INPUT, "field %d of the header is not "
                              "valid UTF-8", i + 1);
    if (c->n) {
        c->n--;
        memmove(c->x, c->x + c->d, c->n * (size_t)c->d * sizeof *c->x);
        memmove(c->y, c->y + 1, c->n * sizeof *c->y);
    }
    return unique_names(c, err, errlen);
}

static int csv_parse(Dataset *ds, LineReader *r, LabelMap *classes, void *vctx, int is_test,
                     char *err, size_t errlen) {
    CsvCtx *ctx = vctx;
    Csv c = { .r = r, .wp = ctx->wp, .text_col = ctx->text ? 0 : -1 };
    LdFields fs = {0};
    int rc = read_head(&c, ctx, is_test, err, errlen);
    if (rc == -1) { rc = 0; goto done; }         /* no lines: load_one says "empty file" */
    if (rc) goto done;
    /* Line 1's class field is not a number: it is a header if line 2's is (decided there). */
    int pending = !c.header && c.text_col < 0 && !is_number(c.head.f[c.label_col], c.head.len[c.label_col]);
    if (!c.header && !pending && (rc = add_row(&c, &c.head, classes, c.head_line, err, errlen)))
        goto done;
    char *line;
    size_t len;
    long first;
    while ((rc = next_record(&c, ctx->delim, &line, &len, &first, err, errlen)) == 1) {
        if (blank(line)) continue;
        int bad = ld_split(&fs, line, ctx->delim, 0, c.ncols);
        if (bad == -2) { rc = lr_fail_at(r, first, err, errlen, ALSIM_RUNTIME, "out of memory"); goto done; }
        if (bad) { rc = lr_fail_at(r, first, err, errlen, ALSIM_BAD_INPUT, BAD_QUOTE); goto done; }
        if (pending) {
            pending = 0;
            if (fs.n == c.ncols && is_number(fs.f[c.label_col], fs.len[c.label_col])) {
                c.header = 1;
                if ((rc = unique_names(&c, err, errlen))) goto done;
            } else if ((rc = add_row(&c, &c.head, classes, c.head_line, err, errlen))) goto done;
        }
        if ((rc = add_row(&c, &fs, classes, first, err, errlen))) goto done;
    }
    if (rc) goto done;
    if (pending && (rc = add_row(&c, &c.head, classes, c.head_line, err, errlen))) goto done;
    if (c.maybe_header && (rc = resolve_header(&c, classes, err, errlen))) goto done;
    if (!is_test) ctx->ncols = c.ncols;
    if (c.header && !(ds->label = strndup(c.head.f[c.label_col], c.head.len[c.label_col]))) {
        rc = lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory");
        goto done;
    }
    ds->n = (int)c.n;
    ds->d = c.d;
    ds->x = c.n ? realloc(c.x, c.n * (size_t)c.d * sizeof *c.x) : c.x;   /* shrinking: cannot fail... */
    if (!ds->x) ds->x = c.x;                                            /* ...but keep it if it does */
    ds->y = c.y;
    ds->text_tokens = c.text_col >= 0 ? c.d : 0;
    c.x = NULL;
    c.y = NULL;
done:
    free(c.x);
    free(c.y);
    free(c.rec);
    free(c.head_copy);
    ld_fields_free(&c.head);
    ld_fields_free(&fs);
    return rc;
}

int dataset_load_csv(Dataset *train, Dataset *test, const char *path, const char *test_path,
                     const char *label, char *err, size_t errlen) {
    size_t n = strlen(path);
    CsvCtx ctx = { label, n >= 4 && !strcmp(path + n - 4, ".tsv") ? '\t' : ',', 0, NULL, NULL, 0 };
    return ld_load_text(train, test, path, test_path, csv_parse, &ctx, err, errlen);
}

int dataset_load_csv_text(Dataset *train, Dataset *test, const char *path, const char *test_path,
                          const char *label, const char *text_column, const WordPiece *wp,
                          int max_tokens, char *err, size_t errlen) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    if (max_tokens < 2 || max_tokens > DATASET_MAX_TOKENS)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "--max-tokens %d: must be 2..%d", max_tokens, DATASET_MAX_TOKENS);
    size_t n = strlen(path);
    CsvCtx ctx = { label, n >= 4 && !strcmp(path + n - 4, ".tsv") ? '\t' : ',', 0, text_column, wp, max_tokens };
    int rc = ld_load_text(train, test, path, test_path, csv_parse, &ctx, err, errlen);
    if (rc) return rc;
    dataset_tokens_hash(train->sha256, train->sha256, wp, max_tokens);
    if (test_path) memcpy(test->sha256, train->sha256, sizeof test->sha256);
    return 0;
}

int csv_text_parse_mem(Dataset *ds, const char *name, const void *data, size_t len, const char *label,
                       const char *text_column, const WordPiece *wp, int max_tokens, char *err, size_t errlen) {
    size_t n = strlen(name);
    CsvCtx ctx = { label, n >= 4 && !strcmp(name + n - 4, ".tsv") ? '\t' : ',', 0, text_column, wp, max_tokens };
    return ld_parse_text_mem(ds, name, data, len, csv_parse, &ctx, err, errlen);
}

int csv_parse_mem(Dataset *ds, const char *name, const void *data, size_t len,
                  const char *label, char *err, size_t errlen) {
    size_t n = strlen(name);
    CsvCtx ctx = { label, n >= 4 && !strcmp(name + n - 4, ".tsv") ? '\t' : ',', 0, NULL, NULL, 0 };
    return ld_parse_text_mem(ds, name, data, len, csv_parse, &ctx, err, errlen);
}
