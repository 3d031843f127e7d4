/* jsonw — a small JSON writer for results files.
 *
 * cJSON prints doubles lossily; results must round-trip, so numbers go through fmt_double
 * (the shortest "%.{p}g" that reads back to the same double, at most 17 digits, C locale)
 * and NaN/Inf become null. Compact (one line, for .jsonl) or indented.
 */
#ifndef ALSIM_JSONW_H
#define ALSIM_JSONW_H

#include <stdint.h>
#include <stdio.h>

typedef struct JsonW {
    FILE *f;
    int pretty;             /* 1: two-space indentation; 0: one line */
    int depth;
    int count[32];          /* members written at each depth */
    char close[32];         /* the bracket that closes each depth */
    int after_key;
} JsonW;

/* out (32 bytes) = shortest round-tripping decimal of x (whole numbers below 1e15 without an
 * exponent); "nan", "inf", "-inf" otherwise. */
void fmt_double(char out[32], double x);

void jw_init(JsonW *w, FILE *f, int pretty);
void jw_object(JsonW *w);           /* { */
void jw_array(JsonW *w);            /* [ */
void jw_end(JsonW *w);              /* } or ] */
void jw_key(JsonW *w, const char *k);
void jw_str(JsonW *w, const char *s);
void jw_num(JsonW *w, double x);    /* null when not finite */
void jw_float(JsonW *w, float x);   /* "%.9g": round-trips a float32; null when not finite */
void jw_int(JsonW *w, int64_t x);
void jw_bool(JsonW *w, int b);
void jw_null(JsonW *w);
/* Ends the document: a newline after the top-level value. */
void jw_finish(JsonW *w);

#endif
