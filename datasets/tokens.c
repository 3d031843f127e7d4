/* tokens — raw texts to token rows (contract: tokens.h). */
#include "datasets/tokens.h"
#include "datasets/loader.h"
#include "datasets/sha256.h"
#include "datasets/text.h"
#include "sim/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXACT_ID (1 << 24)      /* float32 holds every integer up to 2^24 exactly */

int dataset_tokens_row(float *row, const WordPiece *wp, const char *text, size_t len, int max_tokens) {
    int32_t *ids = malloc((size_t)max_tokens * sizeof *ids);
    uint8_t *mask = malloc((size_t)max_tokens);
    int real = ids && mask ? wp_encode(ids, mask, wp, text, len, max_tokens) : -1;
    for (int i = 0; real >= 0 && i < max_tokens; i++) row[i] = i < real ? (float)ids[i] : -1.0f;
    free(ids);
    free(mask);
    return real;
}

/* The checks shared by the two builders. 0 or 2. */
static int check_args(const WordPiece *wp, int max_tokens, char *err, size_t errlen) {
    if (max_tokens < 2 || max_tokens > DATASET_MAX_TOKENS)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "--max-tokens %d: must be 2..%d ([CLS] and [SEP] take two)",
                       max_tokens, DATASET_MAX_TOKENS);
    if (wp->n > MAX_EXACT_ID)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "a vocabulary of %d tokens: token rows hold ids as float32, "
                       "exact up to %d", wp->n, MAX_EXACT_ID);
    return 0;
}

/* ds = n token rows of max_tokens for k classes, uninitialised (dataset_alloc), after the
 * arguments' checks. Returns 0, 2 or 3 (ds zeroed). */
static int alloc_rows(Dataset *ds, int n, int k, const WordPiece *wp, int max_tokens, char *err, size_t errlen) {
    memset(ds, 0, sizeof *ds);
    int rc = check_args(wp, max_tokens, err, errlen);
    if (!rc) rc = dataset_alloc(ds, n, max_tokens, k, "", err, errlen);
    if (!rc) ds->text_tokens = max_tokens;
    return rc;
}

int dataset_tokens_from_texts(Dataset *ds, const char *const *texts, const size_t *lens, int n,
                              const int32_t *labels, int k, const WordPiece *wp, int max_tokens,
                              char *err, size_t errlen) {
    int rc = alloc_rows(ds, n, k, wp, max_tokens, err, errlen);
    if (rc) return rc;
    for (int i = 0; i < n; i++) {
        if (dataset_tokens_row(ds->x + (size_t)i * (size_t)max_tokens, wp, texts[i], lens[i], max_tokens) < 0) {
            dataset_free(ds);
            return ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory tokenizing text %d of %d", i + 1, n);
        }
        ds->y[i] = labels[i];
    }
    return 0;
}

int dataset_tokens_from_emails(Dataset *ds, const char *const *docs, const size_t *lens, int n,
                               const int32_t *labels, int k, const WordPiece *wp, int max_tokens,
                               char *err, size_t errlen) {
    int rc = alloc_rows(ds, n, k, wp, max_tokens, err, errlen);
    if (rc) return rc;
    TextBuf subject = {0}, from = {0}, body = {0};
    char *text = NULL;
    size_t cap = 0;
    for (int i = 0; i < n && !rc; i++) {
        if (text_email_fields(&subject, &from, &body, docs[i], lens[i]) != 0) { rc = ALSIM_RUNTIME; break; }
        const size_t len = subject.len + 1 + body.len;
        if (len + 1 > cap) {
            char *more = realloc(text, len + 1);
            if (!more) { rc = ALSIM_RUNTIME; break; }
            text = more;
            cap = len + 1;
        }
        if (subject.len) memcpy(text, subject.data, subject.len);
        text[subject.len] = '\n';
        if (body.len) memcpy(text + subject.len + 1, body.data, body.len);
        text[len] = '\0';
        if (dataset_tokens_row(ds->x + (size_t)i * (size_t)max_tokens, wp, text, len, max_tokens) < 0)
            rc = ALSIM_RUNTIME;
        ds->y[i] = labels[i];
    }
    free(text);
    textbuf_free(&subject);
    textbuf_free(&from);
    textbuf_free(&body);
    if (rc) {
        dataset_free(ds);
        return ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory tokenizing %d emails", n);
    }
    return 0;
}

void dataset_tokens_hash(char out[65], const char *source, const WordPiece *wp, int max_tokens) {
    char text[256];
    int len = snprintf(text, sizeof text, "%s\n%s\n%d\nlower=%d strip_accents=%d chinese=%d\n", source,
                       wp->sha256, max_tokens, wp->opt.lower, wp->opt.strip_accents, wp->opt.chinese);
    sha256_hex(out, text, len > 0 && (size_t)len < sizeof text ? (size_t)len : 0);
}

int dataset_tokens_check(const DatasetOptions *opt, char *err, size_t errlen) {
    if (!opt) return 0;
    const int has_column = opt->text_column && *opt->text_column;
    if (has_column && !opt->wp)
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "--text-column %s: makes token rows for a language model; it "
                       "needs --model bert:DIR (whose vocab.txt tokenizes the text)", opt->text_column);
    if (opt->wp && (opt->max_tokens < 2 || opt->max_tokens > DATASET_MAX_TOKENS))
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "--max-tokens %d: must be 2..%d ([CLS] and [SEP] take two)",
                       opt->max_tokens, DATASET_MAX_TOKENS);
    return 0;
}

int dataset_tokens_unpack(int32_t *ids, uint8_t *mask, const float *x, int d, const int *rows, int first, int B) {
    int Tc = 1;
    for (int i = 0; i < B; i++) {
        const float *r = x + (size_t)(rows ? rows[i] : first + i) * d;
        int len = 0;
        while (len < d && r[len] >= 0.0f) len++;
        if (len > Tc) Tc = len;
    }
    for (int i = 0; i < B; i++) {
        const float *r = x + (size_t)(rows ? rows[i] : first + i) * d;
        for (int t = 0; t < Tc; t++) {
            const int on = r[t] >= 0.0f;
            ids[i * Tc + t] = on ? (int32_t)r[t] : 0;
            mask[i * Tc + t] = (uint8_t)on;
        }
    }
    return Tc;
}
