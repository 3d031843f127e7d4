/* synthetic — seeded Gaussian blobs: a dataset that needs no file, for tests, quick starts and
 * sanity checks of strategies. Fully determined by its options (see dataset.h). */
#include "datasets/dataset.h"
#include "datasets/loader.h"
#include "datasets/sha256.h"
#include "sim/rng.h"
#include "sim/util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { long long k, d, n, test; double sep; unsigned long long seed; } BlobOpts;

/* The integer options: name, field, range. */
static const struct { const char *name; size_t off; long long lo, hi; } int_opts[] = {
    { "k",    offsetof(BlobOpts, k),    2, 1000 },
    { "d",    offsetof(BlobOpts, d),    1, 100000 },
    { "n",    offsetof(BlobOpts, n),    2, 10000000 },
    { "test", offsetof(BlobOpts, test), 1, 10000000 },
};

/* Parses "k=4,d=16,..." (without the leading ':') into o. Returns 0 or 2. */
static int parse_opts(BlobOpts *o, char *list, char *err, size_t errlen) {
    for (char *item = list, *comma; item; item = comma ? comma + 1 : NULL) {
        comma = strchr(item, ',');
        if (comma) *comma = '\0';
        char *eq = strchr(item, '=');
        if (!eq || eq == item)
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "synthetic:blobs: option '%s' is not NAME=VALUE "
                        "(options: k, d, n, test, sep, seed)", item);
        *eq = '\0';
        const char *name = item, *val = eq + 1;
        char *end;
        errno = 0;
        if (strcmp(name, "sep") == 0) {
            double v = strtod(val, &end);
            if (!*val || *end || errno || !isfinite(v) || v < 0 || v > 1000)
                return ld_fail(err, errlen, ALSIM_BAD_INPUT, "synthetic:blobs: bad value '%s' for sep (a number "
                            "0..1000, the distance scale between class centres)", val);
            o->sep = v;
            continue;
        }
        if (strcmp(name, "seed") == 0) {
            unsigned long long v = strtoull(val, &end, 10);
            if (!*val || *end || errno || *val == '-')
                return ld_fail(err, errlen, ALSIM_BAD_INPUT, "synthetic:blobs: bad value '%s' for seed (an "
                            "unsigned integer)", val);
            o->seed = v;
            continue;
        }
        size_t i = 0, nopt = sizeof int_opts / sizeof int_opts[0];
        while (i < nopt && strcmp(name, int_opts[i].name) != 0) i++;
        if (i == nopt)
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "synthetic:blobs: unknown option '%s' (options: k, d, n, "
                        "test, sep, seed)", name);
        long long v = strtoll(val, &end, 10);
        if (!*val || *end || errno || v < int_opts[i].lo || v > int_opts[i].hi)
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "synthetic:blobs: bad value '%s' for %s (an integer "
                        "%lld..%lld)", val, name, int_opts[i].lo, int_opts[i].hi);
        *(long long *)((char *)o + int_opts[i].off) = v;
    }
    return 0;
}

/* Rows (n) around the centres (k,d): row i has class i mod k. */
static void gen_rows(Dataset *ds, const float *centres /*(k,d)*/, Rng *r) {
    size_t d = (size_t)ds->d;
    for (int i = 0; i < ds->n; i++) {
        int c = i % ds->k;
        ds->y[i] = c;
        for (size_t j = 0; j < d; j++)
            ds->x[(size_t)i * d + j] = centres[(size_t)c * d + j] + (float)rng_normal(r);
    }
}

/* Shortest %g text of v that reads back as v. */
static void fmt_double(char *buf, size_t len, double v) {
    snprintf(buf, len, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, len, "%.17g", v);
}

int dataset_synthetic_blobs(Dataset *pool, Dataset *test, const char *opts,
                            char *err, size_t errlen) {
    memset(pool, 0, sizeof *pool);
    memset(test, 0, sizeof *test);
    BlobOpts o = { .k = 3, .d = 8, .n = 2000, .test = 1000, .sep = 2.5, .seed = 1 };
    if (*opts) {
        if (*opts != ':' || !opts[1])
            return ld_fail(err, errlen, ALSIM_BAD_INPUT, "synthetic:blobs%s: write synthetic:blobs or "
                        "synthetic:blobs:k=3,d=8,n=2000,test=1000,sep=2.5,seed=1", opts);
        char *list = strdup(opts + 1);
        if (!list) return ld_fail(err, errlen, ALSIM_RUNTIME, "out of memory");
        int rc = parse_opts(&o, list, err, errlen);
        free(list);
        if (rc) return rc;
    }
    if (o.n < o.k || (o.n > INT_MAX / o.d) || (o.test > INT_MAX / o.d))
        return ld_fail(err, errlen, ALSIM_BAD_INPUT, "synthetic:blobs: n=%lld, test=%lld, d=%lld, k=%lld: need "
                    "n >= k and n*d, test*d < 2^31", o.n, o.test, o.d, o.k);
    int k = (int)o.k, d = (int)o.d;

    float *centres = malloc((size_t)k * (size_t)d * sizeof *centres);
    if (!centres) return ld_fail(err, errlen, ALSIM_RUNTIME, "synthetic:blobs: out of memory");
    Rng r = rng_stream(o.seed, RNG_DATA, 0);
    double scale = o.sep / sqrt((double)d);   /* centres ~ sep·N(0, I/d) */
    for (size_t i = 0; i < (size_t)k * (size_t)d; i++) centres[i] = (float)(scale * rng_normal(&r));

    int rc = dataset_alloc(pool, (int)o.n, d, k, "c", err, errlen);
    if (!rc) rc = dataset_alloc(test, (int)o.test, d, k, "c", err, errlen);
    if (rc) { free(centres); dataset_free(pool); return rc; }
    r = rng_stream(o.seed, RNG_DATA, 1);
    gen_rows(pool, centres, &r);
    r = rng_stream(o.seed, RNG_DATA, 2);
    gen_rows(test, centres, &r);
    free(centres);

    char sep[32];
    fmt_double(sep, sizeof sep, o.sep);
    snprintf(pool->name, sizeof pool->name, "synthetic:blobs:k=%d,d=%d,n=%lld,test=%lld,sep=%s,"
             "seed=%llu", k, d, o.n, o.test, sep, o.seed);
    memcpy(test->name, pool->name, sizeof pool->name);
    Sha256 s;
    uint8_t digest[32];
    sha256_init(&s);
    sha256_update(&s, pool->x, (size_t)pool->n * (size_t)d * sizeof *pool->x);
    sha256_update(&s, pool->y, (size_t)pool->n * sizeof *pool->y);
    sha256_update(&s, test->x, (size_t)test->n * (size_t)d * sizeof *test->x);
    sha256_update(&s, test->y, (size_t)test->n * sizeof *test->y);
    sha256_final(digest, &s);
    for (int i = 0; i < 32; i++) snprintf(pool->sha256 + 2 * i, 3, "%02x", digest[i]);
    memcpy(test->sha256, pool->sha256, sizeof pool->sha256);
    return 0;
}
