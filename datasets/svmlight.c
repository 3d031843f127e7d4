/* svmlight — the sparse format of SVMlight and LIBSVM (`--dataset a9a.svm`, `svmlight:PATH`):
 *
 *     <label> [qid:<n>] <index>:<value> <index>:<value> ... [# comment]
 *
 * Labels are any integers or strings (class names kept, see loader.h); qid is ignored; indices
 * ascend within a row. Index base: auto-detected — a file in which some index is 0 is
 * 0-based, otherwise 1-based (LIBSVM's convention), decided over the training and test files
 * together; d = the largest index + 1 (0-based). The result is CSR (x == NULL), built while
 * streaming, never densified. Blank lines and lines starting with '#' are skipped.
 */
#include "datasets/loader.h"
#include "sim/util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* More feature columns than WIDE_D are refused when fewer than one in WIDE_UNUSED of them
 * occurs in any row: the data is CSR and costs nothing per column, but the model holds a
 * weight per column (and hidden unit) and trains every one of them each step, so one stray
 * index of 1e8 in a 60-row file cost 100 s and 9.4 GB. Real sparse data (news20's 1.36M
 * columns, hashed text in 2^18 buckets) uses a good share of its columns. */
#define WIDE_D (1 << 20)
#define WIDE_UNUSED 256

typedef struct {
    int64_t max_index;      /* largest index in the files read so far; -1: none */
    int has_zero;           /* some index is 0: 0-based */
    const char *max_path;   /* where max_index is: the file and line */
    long max_line;
} SvmCtx;

/* The end of the token at p: a space, tab, '#' or the end of the line. */
static char *token_end(char *p) {
    while (*p && *p != ' ' && *p != '\t' && *p != '#') p++;
    return p;
}

/* Growing CSR arrays. */
typedef struct {
    int64_t *indptr;        /* (n + 1) */
    int32_t *indices;       /* (nnz) */
    float *values;          /* (nnz) */
    int32_t *y;             /* (n) */
    size_t n, nnz, cap_ptr, cap_idx, cap_val, cap_y;
} Csr;

/* Parses the features after the label of one line into c (appending to nnz). 0/2/3. */
static int parse_features(Csr *c, char *p, SvmCtx *ctx, const LineReader *r, char *err, size_t errlen) {
    char q[48];
    int64_t prev = -1;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\0' || *p == '#') return 0;
        char *tok = p, *end = token_end(p), after = *end;
        *end = '\0';
        char *colon = strchr(tok, ':');
        if (!colon)
            return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "'%s' is not INDEX:VALUE",
                           ld_quote(q, sizeof q, tok, strlen(tok)));
        if (colon - tok == 3 && !strncmp(tok, "qid", 3)) {
            p = after ? end + 1 : end;
            if (after == '#') return 0;
            continue;
        }
        int64_t idx = 0;
        for (char *d = tok; d < colon; d++) {
            if (*d < '0' || *d > '9' || idx > INT32_MAX)   /* a sign, a letter, or too large */
                return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "index '%s' is not an integer in 0..%d",
                               ld_quote(q, sizeof q, tok, (size_t)(colon - tok)), INT32_MAX - 1);
            idx = idx * 10 + (*d - '0');
        }
        if (colon == tok || idx > INT32_MAX - 1)
            return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "index '%s' is not an integer in 0..%d",
                           ld_quote(q, sizeof q, tok, (size_t)(colon - tok)), INT32_MAX - 1);
        if (idx <= prev)
            return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "index %lld after %lld: indices must ascend within "
                           "a row", (long long)idx, (long long)prev);
        float v;
        int bad = ld_parse_float(&v, colon + 1, strlen(colon + 1));
        if (bad) {
            return lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "index %lld: value '%s' %s", (long long)idx,
                           ld_quote(q, sizeof q, colon + 1, strlen(colon + 1)), ld_float_error(bad));
        }
        int32_t *indices = ld_grow(c->indices, &c->cap_idx, c->nnz + 1, sizeof *indices);
        if (indices) c->indices = indices;
        float *values = ld_grow(c->values, &c->cap_val, c->nnz + 1, sizeof *values);
        if (values) c->values = values;
        if (!indices || !values)
            return lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory after %zu nonzeros", c->nnz);
        c->indices[c->nnz] = (int32_t)idx;
        c->values[c->nnz++] = v;
        prev = idx;
        if (idx > ctx->max_index) {
            ctx->max_index = idx;
            ctx->max_path = r->path;
            ctx->max_line = r->line;
        }
        if (idx == 0) ctx->has_zero = 1;
        if (after != ' ' && after != '\t') return 0;
        p = end + 1;
    }
}

static int svm_parse(Dataset *ds, LineReader *r, LabelMap *classes, void *vctx, int is_test,
                     char *err, size_t errlen) {
    SvmCtx *ctx = vctx;
    Csr c = {0};
    char *line, q[48];
    size_t len;
    int rc;
    if (!(c.indptr = ld_grow(NULL, &c.cap_ptr, 1, sizeof *c.indptr)))
        return lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory");
    c.indptr[0] = 0;
    while ((rc = lr_next(r, &line, &len, err, errlen)) == 1) {
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '\0' || *p == '#') continue;
        char *end = token_end(p), after = *end;
        *end = '\0';
        if (strchr(p, ':')) {
            rc = lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "the line starts with '%s': a row starts with its label",
                         ld_quote(q, sizeof q, p, strlen(p)));
            break;
        }
        if (strchr(p, ',')) {
            rc = lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "label '%s': multi-label rows are not supported",
                         ld_quote(q, sizeof q, p, strlen(p)));
            break;
        }
        if (c.n >= INT_MAX) { rc = lr_fail(r, err, errlen, ALSIM_BAD_INPUT, "more than %d rows", INT_MAX); break; }
        int id = labels_id(classes, p, (size_t)(end - p));
        if (id < 0) { rc = labels_fail(r, r->line, id, p, (size_t)(end - p), err, errlen); break; }
        int64_t *indptr = ld_grow(c.indptr, &c.cap_ptr, c.n + 2, sizeof *indptr);
        if (indptr) c.indptr = indptr;
        int32_t *y = ld_grow(c.y, &c.cap_y, c.n + 1, sizeof *y);
        if (y) c.y = y;
        if (!indptr || !y) {
            rc = lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory after %zu rows", c.n);
            break;
        }
        if (after == ' ' || after == '\t')
            if ((rc = parse_features(&c, end + 1, ctx, r, err, errlen))) break;
        c.y[c.n++] = id;
        c.indptr[c.n] = (int64_t)c.nnz;
    }
    if (!rc && !c.indices) {             /* never NULL, even without a nonzero */
        c.indices = malloc(sizeof *c.indices);
        c.values = malloc(sizeof *c.values);
        if (!c.indices || !c.values) rc = lr_fail(r, err, errlen, ALSIM_RUNTIME, "out of memory");
    }
    if (rc) {
        free(c.indptr); free(c.indices); free(c.values); free(c.y);
        return rc;
    }
    ds->n = (int)c.n;
    ds->indptr = c.indptr;
    ds->indices = c.indices;
    ds->values = c.values;
    ds->y = c.y;
    return 0;
}

/* The distinct columns the rows of train and test (NULL or zeroed: none) use, of d; -1 when
 * out of memory. */
static int64_t used_columns(Dataset *const both[2], int64_t d) {
    uint8_t *seen = calloc((size_t)(d + 7) / 8, 1);
    if (!seen) return -1;
    int64_t used = 0;
    for (int t = 0; t < 2; t++) {
        const Dataset *ds = both[t];
        if (!ds || !ds->indptr) continue;
        for (int64_t i = 0; i < ds->indptr[ds->n]; i++) {
            int32_t j = ds->indices[i];
            used += !(seen[j >> 3] & (1u << (j & 7)));
            seen[j >> 3] |= (uint8_t)(1u << (j & 7));
        }
    }
    free(seen);
    return used;
}

/* Applies the index base and sets d, over train and test (NULL or zeroed: none); refuses a
 * width almost no row uses (WIDE_D). 0, 2 or 3. */
static int svm_finish(Dataset *train, Dataset *test, const SvmCtx *ctx, const char *path,
                      char *err, size_t errlen) {
    if (ctx->max_index < 0) {
        dataset_free(train);
        if (test) dataset_free(test);
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: line 1: no row has a feature (INDEX:VALUE)", path);
    }
    int shift = !ctx->has_zero;          /* 1-based: index i is column i - 1 */
    Dataset *both[2] = { train, test };
    for (int t = 0; t < 2; t++) {
        Dataset *ds = both[t];
        if (!ds || !ds->indptr) continue;
        size_t nnz = (size_t)ds->indptr[ds->n];
        for (size_t i = 0; shift && i < nnz; i++) ds->indices[i]--;
        ds->d = (int)(ctx->max_index + 1 - shift);
    }
    int64_t d = ctx->max_index + 1 - shift, used = d > WIDE_D ? used_columns(both, d) : d;
    int rc = 0;
    if (used < 0)
        rc = ld_fail(err, errlen, ALSIM_RUNTIME, "%s: out of memory counting %lld columns", path, (long long)d);
    else if (used < d / WIDE_UNUSED)
        rc = ld_fail(err, errlen, ALSIM_BAD_INPUT, "%s: line %ld: index %lld makes %lld feature columns, yet the "
                     "rows use only %lld distinct ones: the model would hold and train weights for %lld columns "
                     "no row has. A typo? Else renumber the features densely (alsim refuses over %d columns "
                     "when under 1 in %d is used)", ctx->max_path, ctx->max_line, (long long)ctx->max_index,
                     (long long)d, (long long)used, (long long)(d - used), WIDE_D, WIDE_UNUSED);
    if (rc) {
        dataset_free(train);
        if (test) dataset_free(test);
    }
    return rc;
}

int dataset_load_svmlight(Dataset *train, Dataset *test, const char *path, const char *test_path,
                          const char *label, char *err, size_t errlen) {
    (void)label;                         /* the label is each line's first field */
    SvmCtx ctx = { -1, 0, NULL, 0 };
    int rc = ld_load_text(train, test, path, test_path, svm_parse, &ctx, err, errlen);
    return rc ? rc : svm_finish(train, test, &ctx, path, err, errlen);
}

int svmlight_parse_mem(Dataset *ds, const char *name, const void *data, size_t len,
                       char *err, size_t errlen) {
    SvmCtx ctx = { -1, 0, NULL, 0 };
    int rc = ld_parse_text_mem(ds, name, data, len, svm_parse, &ctx, err, errlen);
    return rc ? rc : svm_finish(ds, NULL, &ctx, name, err, errlen);
}
