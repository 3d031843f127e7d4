/* jsonw — see jsonw.h. */
#include "sim/jsonw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void fmt_double(char out[32], double x) {
    if (isnan(x)) { strcpy(out, "nan"); return; }
    if (isinf(x)) { strcpy(out, x > 0 ? "inf" : "-inf"); return; }
    if (x == floor(x) && fabs(x) < 1e15) { snprintf(out, 32, "%.0f", x); return; }  /* 50, not 5e+01 */
    for (int p = 1; p <= 17; p++) {
        snprintf(out, 32, "%.*g", p, x);
        if (strtod(out, NULL) == x) return;
    }
}

void jw_init(JsonW *w, FILE *f, int pretty) {
    memset(w, 0, sizeof *w);
    w->f = f;
    w->pretty = pretty;
}

/* Before a value or a key: a comma after an earlier member, and indentation. */
static void before(JsonW *w) {
    if (w->after_key) { w->after_key = 0; return; }
    if (w->depth == 0) return;
    if (w->count[w->depth]++) fputc(',', w->f);
    if (w->pretty) fprintf(w->f, "\n%*s", 2 * w->depth, "");
}

static void open(JsonW *w, char c) {
    before(w);
    fputc(c, w->f);
    w->depth++;
    w->count[w->depth] = 0;
    w->close[w->depth] = c == '{' ? '}' : ']';
}

void jw_object(JsonW *w) { open(w, '{'); }
void jw_array(JsonW *w) { open(w, '['); }

void jw_end(JsonW *w) {
    char c = w->close[w->depth];
    int had = w->count[w->depth];
    w->depth--;
    if (w->pretty && had) fprintf(w->f, "\n%*s", 2 * w->depth, "");
    fputc(c, w->f);
}

void jw_key(JsonW *w, const char *k) {
    jw_str(w, k);
    fputc(':', w->f);
    if (w->pretty) fputc(' ', w->f);
    w->after_key = 1;
}

void jw_str(JsonW *w, const char *s) {
    before(w);
    fputc('"', w->f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", w->f); break;
        case '\\': fputs("\\\\", w->f); break;
        case '\n': fputs("\\n", w->f); break;
        case '\t': fputs("\\t", w->f); break;
        case '\r': fputs("\\r", w->f); break;
        default:
            if (*p < 0x20) fprintf(w->f, "\\u%04x", *p);
            else fputc(*p, w->f);
        }
    }
    fputc('"', w->f);
}

void jw_num(JsonW *w, double x) {
    if (!isfinite(x)) { jw_null(w); return; }
    char buf[32];
    fmt_double(buf, x);
    before(w);
    fputs(buf, w->f);
}

void jw_float(JsonW *w, float x) {
    if (!isfinite(x)) { jw_null(w); return; }
    before(w);
    fprintf(w->f, "%.9g", (double)x);
}

void jw_int(JsonW *w, int64_t x) { before(w); fprintf(w->f, "%lld", (long long)x); }
void jw_bool(JsonW *w, int b) { before(w); fputs(b ? "true" : "false", w->f); }
void jw_null(JsonW *w) { before(w); fputs("null", w->f); }
void jw_finish(JsonW *w) { fputc('\n', w->f); }
