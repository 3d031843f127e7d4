/* arff — Weka's Attribute-Relation File Format (`--dataset data.arff`, `arff:PATH`):
 *
 *     % comment
 *     @relation iris
 *     @attribute sepallength numeric          (numeric, real and integer are numbers)
 *     @attribute class {setosa, versicolor}   (nominal: a list of values, quoted if need be)
 *     @data
 *     5.1,setosa
 *
 * The class is --label (an attribute name, or a 0-based index, negative from the end) or by
 * default the last nominal attribute; it must be nominal, its classes are its values in the
 * declared order, and each must have rows. Other nominal attributes become one-hot features
 * (one column per value), numeric ones one column each. string, date and relational
 * attributes, missing values ('?') and sparse rows ({...}) are rejected with a message. A test
 * file (--test) must declare the same attributes. Keywords are case-insensitive.
 */
#include "datasets/loader.h"
#include "sim/util.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    char *name;
    int nominal;
    LabelMap values;        /* nominal: the declared values, fixed, in order */
    long line;              /* of its @attribute */
    int col;                /* first feature column (-1: the class) */
} Attr;

typedef struct {
    Attr *a;
    int n, cap;
    int class_attr, d;
} Header;

typedef struct {
    const char *label;      /* --label, or NULL: the last nominal attribute */
    Header train;           /* the training file's header, for the test file to match */
} ArffCtx;

static void header_free(Header *h) {
    for (int i = 0; i < h->n; i++) {
        free(h->a[i].name);
        labels_free(&h->a[i].values);
    }
    free(h->a);
    memset(h, 0, sizeof *h);
}

static void skip_space(char **p) {
    while (**p == ' ' || **p == '\t') (*p)++;
}

/* Takes the next word off *p: quoted ('..' or "..", backslash escapes, unescaped in place) or
 * up to a space, tab or '{'. *word is not NUL-terminated. Returns its length, or -1 for a
 * missing closing quote. */
static long take_word(char **p, char **word) {
    skip_space(p);
    char *s = *p, q = *s;
    if (q == '\'' || q == '"') {
        char *w = *word = ++s;
        for (; *s != q; s++) {
            if (!*s) return -1;
            if (*s == '\\' && s[1]) s++;
            *w++ = *s;
        }
        *p = s + 1;
        return (long)(w - *word);
    }
    *word = s;
    while (*s && *s != ' ' && *s != '\t' && *s != '{') s++;
    *p = s;
    return (long)(s - *word);
}

static int word_is(const char *w, long len, const char *keyword) {
    return len == (long)strlen(keyword) && !strncasecmp(w, keyword, (size_t)len);
}

/* Parses "@attribute NAME TYPE" (p after the keyword) into h. 0/2/3. */
static int add_attribute(Header *h, char *p, const LineReader *r, char *err, size_t errlen) {
    char *name, q[48];
    long len = take_word(&p, &name);
    if (len <= 0)
        return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "@attribute without a name%s",
                       len < 0 ? " (missing closing quote)" : "");
    if (!ld_utf8_valid(name, (size_t)len))
        return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "the attribute name is not valid UTF-8");
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 16;
        Attr *a = realloc(h->a, (size_t)cap * sizeof *a);
        if (!a) return lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory");
        h->a = a;
        h->cap = cap;
    }
    Attr *at = &h->a[h->n];
    memset(at, 0, sizeof *at);
    at->line = r->line;
    if (!(at->name = strndup(name, (size_t)len))) return lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory");
    h->n++;
    skip_space(&p);
    if (*p == '{') {
        char *close = strrchr(p, '}');
        if (!close) return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "attribute '%s': nominal values without a "
                                   "closing '}'", at->name);
        *close = '\0';
        at->nominal = 1;
        for (char *v = p + 1, *field; v;) {
            size_t flen;
            if (ld_next_field(&v, ',', 1, &field, &flen))
                return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "attribute '%s': a nominal value with a missing "
                               "closing quote", at->name);
            int before = at->values.n, id = labels_id(&at->values, field, flen);
            if (id == -5 && !v && before == 0)
                return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "attribute '%s': no nominal values", at->name);
            if (id >= 0 && id < before)
                return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "attribute '%s': the value '%s' is declared twice",
                               at->name, ld_quote(q, sizeof q, field, flen));
            if (id == -5)
                return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "attribute '%s': an empty nominal value", at->name);
            if (id < 0) return labels_fail(r, r->line, id, field, flen, err, errlen);
        }
        at->values.fixed = 1;
        return 0;
    }
    char *type;
    len = take_word(&p, &type);
    if (word_is(type, len, "numeric") || word_is(type, len, "real") || word_is(type, len, "integer"))
        return 0;
    ld_quote(q, sizeof q, type, len > 0 ? (size_t)len : 0);
    if (word_is(type, len, "string") || word_is(type, len, "date") || word_is(type, len, "relational"))
        return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "attribute '%s' is of type %s: alsim reads numeric and "
                       "nominal attributes only", at->name, q);
    return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "attribute '%s': unknown type '%s' (numeric, real, integer "
                   "or {nominal values})", at->name, q);
}

/* Finds the class attribute (--label or the last nominal one), lays out the feature columns,
 * and (training file) puts the class values into classes in their declared order. 0/2/3. */
static int layout(Header *h, const char *label, LabelMap *classes, int is_test,
                  const LineReader *r, char *err, size_t errlen) {
    char q[48];
    h->class_attr = -1;
    if (label && *label) {
        char *end;
        errno = 0;
        long v = strtol(label, &end, 10);
        if (*end == '\0' && !errno) {
            if (v < -(long)h->n || v >= h->n)
                return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "--label %s: the file has %d attributes (0..%d)",
                               label, h->n, h->n - 1);
            h->class_attr = (int)(v < 0 ? v + h->n : v);
        } else {
            for (int i = 0; i < h->n && h->class_attr < 0; i++)
                if (!strcmp(h->a[i].name, label)) h->class_attr = i;
            if (h->class_attr < 0)
                return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "--label '%s': no attribute of that name",
                               ld_quote(q, sizeof q, label, strlen(label)));
        }
        if (!h->a[h->class_attr].nominal)
            return lr_fail_at(r, h->a[h->class_attr].line, err, errlen, ALSIM_BAD_INPUT, "attribute '%s' is numeric: "
                              "the class must be a nominal attribute", h->a[h->class_attr].name);
    } else {
        for (int i = 0; i < h->n; i++) if (h->a[i].nominal) h->class_attr = i;
        if (h->class_attr < 0)
            return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "no nominal attribute to be the class (or name one "
                           "with --label)");
    }
    h->d = 0;
    for (int i = 0; i < h->n; i++) {
        Attr *a = &h->a[i];
        a->col = i == h->class_attr ? -1 : h->d;
        if (i == h->class_attr) continue;
        if (h->d > INT_MAX - (a->nominal ? a->values.n : 1))
            return lr_fail_at(r, a->line, err, errlen, ALSIM_BAD_INPUT, "more than %d feature columns", INT_MAX);
        h->d += a->nominal ? a->values.n : 1;
    }
    if (h->d == 0) return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "no attribute besides the class");
    if (is_test) return 0;
    const LabelMap *cv = &h->a[h->class_attr].values;
    for (int c = 0; c < cv->n; c++) {
        int id = labels_id(classes, cv->names[c], strlen(cv->names[c]));
        if (id < 0)
            return labels_fail(r, h->a[h->class_attr].line, id, cv->names[c], strlen(cv->names[c]),
                               err, errlen);
    }
    classes->fixed = 1;                  /* declared order: not sorted */
    return 0;
}

/* A test file's header must be the training file's. 0 or 2. */
static int same_header(const Header *h, const Header *t, const LineReader *r, char *err,
                       size_t errlen) {
    if (h->n != t->n)
        return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "%d attributes, the training file has %d", h->n, t->n);
    for (int i = 0; i < h->n; i++) {
        const Attr *a = &h->a[i], *b = &t->a[i];
        int same = !strcmp(a->name, b->name) && a->nominal == b->nominal && a->values.n == b->values.n;
        for (int v = 0; same && v < a->values.n; v++)
            same = !strcmp(a->values.names[v], b->values.names[v]);
        if (!same)
            return lr_fail_at(r, a->line, err, errlen, ALSIM_BAD_INPUT, "attribute %d ('%s') differs from the "
                              "training file's ('%s', declared at its line %ld)", i, a->name,
                              b->name, b->line);
    }
    return 0;
}

/* Two attributes of one name are refused: --label, a test file's header and the messages
 * name attributes. The error is on the line of the second. 0/2/3. */
static int unique_names(const Header *h, const LineReader *r, char *err, size_t errlen) {
    char **names = malloc((size_t)h->n * sizeof *names);
    if (!names) return lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory");
    for (int i = 0; i < h->n; i++) names[i] = h->a[i].name;
    int a, b, found = ld_duplicate_name(&a, &b, names, h->n);
    free(names);
    if (found == -2) return lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory");
    if (!found) return 0;
    char q[48];
    return lr_fail_at(r, h->a[b].line, err, errlen, ALSIM_BAD_INPUT, "attribute '%s' is declared twice (lines "
                      "%ld and %ld): attribute names must differ",
                      ld_quote(q, sizeof q, h->a[b].name, strlen(h->a[b].name)), h->a[a].line, h->a[b].line);
}

/* Reads the header up to @data into h. 0/2/3. */
static int read_header(Header *h, LineReader *r, char *err, size_t errlen) {
    char *line, q[48];
    size_t len;
    int rc;
    while ((rc = lr_next(r, &line, &len, err, errlen)) == 1) {
        char *p = line, *kw;
        skip_space(&p);
        if (*p == '\0' || *p == '%') continue;
        if (*p != '@') {
            return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "'%s' before @data (expected @relation, @attribute "
                           "or @data)", ld_quote(q, sizeof q, p, strlen(p)));
        }
        long kl = take_word(&p, &kw);
        if (word_is(kw, kl, "@data"))
            return h->n ? unique_names(h, r, err, errlen)
                        : lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "@data before any @attribute");
        if (word_is(kw, kl, "@relation")) continue;
        if (word_is(kw, kl, "@attribute")) {
            if ((rc = add_attribute(h, p, r, err, errlen))) return rc;
            continue;
        }
        return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "unknown keyword '%s' (expected @relation, @attribute or "
                       "@data)", ld_quote(q, sizeof q, kw, kl > 0 ? (size_t)kl : 0));
    }
    if (rc) return rc;
    return r->line ? lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "no @data line: the file ends in its header") : 0;
}

/* Parses one data row (p) into row (d floats) and *label; fs: scratch. 0/2/3. */
static int read_row(float *row, int32_t *label, char *p, LdFields *fs, const Header *h,
                    LabelMap *classes, const LineReader *r, char *err, size_t errlen) {
    char q[48];
    if (*p == '{')
        return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "sparse rows ({index value, ...}) are not supported");
    int rc = ld_split(fs, p, ',', 1, h->n);
    if (rc == -2) return lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory");
    if (rc) return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "value %d: a missing closing quote", fs->n + 1);
    if (fs->n != h->n)
        return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "%s%d values, the header declares %d attributes",
                       fs->n > h->n ? "more than " : "", fs->n > h->n ? h->n : fs->n, h->n);
    memset(row, 0, (size_t)h->d * sizeof *row);
    for (int i = 0; i < h->n; i++) {
        const Attr *a = &h->a[i];
        const char *field = fs->f[i];
        size_t flen = fs->len[i];
        if (flen == 1 && field[0] == '?')
            return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "attribute '%s': a missing value ('?')", a->name);
        if (i == h->class_attr || a->nominal) {
            LabelMap *m = i == h->class_attr ? classes : (LabelMap *)&a->values;
            int id = labels_id(m, field, flen);
            if (id == -2) return lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory");
            if (id < 0)
                return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "attribute '%s': '%s' is not one of its values",
                               a->name, ld_quote(q, sizeof q, field, flen));
            if (i == h->class_attr) *label = id;
            else row[a->col + id] = 1.0f;
            continue;
        }
        int bad = ld_parse_float(&row[a->col], field, flen);
        if (bad)
            return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "attribute '%s': '%s' %s", a->name,
                           ld_quote(q, sizeof q, field, flen), ld_float_error(bad));
    }
    return 0;
}

static int arff_parse(Dataset *ds, LineReader *r, LabelMap *classes, void *vctx, int is_test,
                      char *err, size_t errlen) {
    ArffCtx *ctx = vctx;
    Header h = {0};
    LdFields fs = {0};
    float *x = NULL;
    int32_t *y = NULL;
    int *counts = NULL;
    size_t n = 0, cap_x = 0, cap_y = 0;
    int rc = read_header(&h, r, err, errlen);
    if (rc || !h.n) goto done;           /* an empty file: load_one says so */
    if ((rc = layout(&h, ctx->label, classes, is_test, r, err, errlen))) goto done;
    if (is_test && (rc = same_header(&h, &ctx->train, r, err, errlen))) goto done;
    char *line;
    size_t len;
    while ((rc = lr_next(r, &line, &len, err, errlen)) == 1) {
        char *p = line;
        skip_space(&p);
        if (*p == '\0' || *p == '%') continue;
        if (n >= INT_MAX) { rc = lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "more than %d rows", INT_MAX); break; }
        float *gx = ld_grow(x, &cap_x, (n + 1) * (size_t)h.d, sizeof *x);
        if (gx) x = gx;
        int32_t *gy = ld_grow(y, &cap_y, n + 1, sizeof *y);
        if (gy) y = gy;
        if (!gx || !gy) { rc = lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory after %zu rows", n); break; }
        if ((rc = read_row(x + n * (size_t)h.d, &y[n], p, &fs, &h, classes, r, err, errlen))) break;
        n++;
    }
    if (rc) goto done;
    if (!is_test && n) {                 /* every declared class has rows */
        const Attr *ca = &h.a[h.class_attr];
        if (!(counts = calloc((size_t)ca->values.n, sizeof *counts))) {
            rc = lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++) counts[y[i]]++;
        for (int c = 0; c < ca->values.n && !rc; c++)
            if (!counts[c])
                rc = lr_fail_at(r, ca->line, err, errlen, ALSIM_BAD_INPUT, "class '%s' of attribute '%s' has no rows",
                                ca->values.names[c], ca->name);
        if (rc) goto done;
    }
    ds->n = (int)n;
    ds->d = h.d;
    ds->x = x;
    ds->y = y;
    x = NULL;
    y = NULL;
    if (!is_test) {                      /* keep the header for the test file */
        header_free(&ctx->train);
        ctx->train = h;
        memset(&h, 0, sizeof h);
    }
done:
    free(x);
    free(y);
    free(counts);
    ld_fields_free(&fs);
    header_free(&h);
    return rc;
}

int dataset_load_arff(Dataset *train, Dataset *test, const char *path, const char *test_path,
                      const char *label, char *err, size_t errlen) {
    ArffCtx ctx = { label, {0} };
    int rc = ld_load_text(train, test, path, test_path, arff_parse, &ctx, err, errlen);
    header_free(&ctx.train);
    return rc;
}

int arff_parse_mem(Dataset *ds, const char *name, const void *data, size_t len,
                   const char *label, char *err, size_t errlen) {
    ArffCtx ctx = { label, {0} };
    int rc = ld_parse_text_mem(ds, name, data, len, arff_parse, &ctx, err, errlen);
    header_free(&ctx.train);
    return rc;
}
