/* test_jsonw — fmt_double (sim/jsonw.h), the number format of every results file: each printed
 * value reads back (strtod) to the same double, bit for bit, over random bit patterns of every
 * exponent and of the subnormals; it is the shortest such "%.{p}g"; whole numbers below 1e15
 * carry no exponent; NaN and infinities have fixed spellings. */
#include "sim/jsonw.h"
#include "sim/rng.h"
#include "tests/check.h"

#include <float.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static double from_bits(uint64_t u) { double x; memcpy(&x, &u, sizeof x); return x; }
static uint64_t to_bits(double x) { uint64_t u; memcpy(&u, &x, sizeof u); return u; }

/* Significant digits of a "%g" string: the mantissa's digits less its leading zeros. */
static int sig_digits(const char *s) {
    int n = 0, lead = 1;
    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9') continue;
        if (lead && *s == '0') continue;
        lead = 0;
        n++;
    }
    return n;
}

/* The contract for one finite x. Returns 1 when it holds. */
static int check_one(double x) {
    char out[32], fewer[400];         /* "%.{p}g" of any double fits */
    memset(out, 'x', sizeof out);
    fmt_double(out, x);
    size_t len = strnlen(out, sizeof out);
    if (len == sizeof out) return 0;                       /* not terminated in 32 bytes */
    char *end;
    double back = strtod(out, &end);
    if (*end || to_bits(back) != to_bits(x)) return 0;     /* not the same double (-0 too) */
    if (x == (double)(int64_t)x && fabs(x) < 1e15) {       /* whole: plain digits, exact */
        char plain[32];
        snprintf(plain, sizeof plain, "%.0f", x);
        return strcmp(out, plain) == 0;
    }
    /* The shortest: it is "%.{p}g" for its p digits, and p-1 digits do not read back. */
    int p = sig_digits(out);
    snprintf(fewer, sizeof fewer, "%.*g", p, x);
    if (strcmp(fewer, out)) return 0;
    if (p > 1) {
        snprintf(fewer, sizeof fewer, "%.*g", p - 1, x);
        if (strtod(fewer, NULL) == x) return 0;
    }
    return p <= 17;
}

static void sweep(const char *what, Rng *r, int count, uint64_t mask, uint64_t set) {
    long bad = 0;
    for (int i = 0; i < count; i++) {
        uint64_t u = (((uint64_t)rng_u32(r) << 32) | rng_u32(r)) & mask;
        u |= set;
        double x = from_bits(u);
        if (!isfinite(x)) continue;
        if (!check_one(x)) {
            if (!bad++) {
                char out[32];
                fmt_double(out, x);
                fprintf(stderr, "%s: bits 0x%016llx (%.17g) printed as '%s'\n", what,
                        (unsigned long long)u, x, out);
            }
        }
    }
    CHECK(bad == 0, "%s: %ld of %d values not printed as the shortest round trip", what, bad, count);
}

static void test_round_trip(void) {
    Rng r = rng_stream(1, RNG_STRATEGY, 0);
    /* Any bit pattern: every exponent, both signs. */
    sweep("random bits", &r, 25000, ~0ull, 0);
    /* Subnormals: exponent field 0, random mantissa and sign. */
    sweep("subnormals", &r, 10000, 0x800FFFFFFFFFFFFFull, 0);
    /* Values in [0.125, 2), either sign: where results files' numbers live. */
    sweep("near 1", &r, 10000, 0x8007FFFFFFFFFFFFull, 0x3FC0000000000000ull);
    /* Whole numbers below 1e15, and their neighbours (w + 0.5, the next double up). */
    long bad = 0;
    for (int i = 0; i < 5000; i++) {
        double w = (double)(rng_u32(&r) % 1000000) * 1e9 + rng_u32(&r) % 1000000000u;  /* < 1e15 */
        if (i & 1) w = -w;
        bad += !check_one(w) + !check_one(w + 0.5) + !check_one(nextafter(w, 1e300));
    }
    CHECK(bad == 0, "%ld whole numbers or their neighbours misprinted", bad);
    static const double edge[] = {
        0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.0 / 3, 2.0 / 3, 1e-300, 1e300, DBL_MIN, DBL_MAX, -DBL_MAX,
        4.9406564584124654e-324, 2.2250738585072009e-308, 1e15 - 1, 1e15, 1e15 + 2, 9007199254740993.0,
        123456789012345.6, 0.30000000000000004, 5e-324, 1.7976931348623157e308,
    };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        CHECK(check_one(edge[i]), "%.17g is not printed as the shortest round trip", edge[i]);
}

static void test_spellings(void) {
    static const struct { double x; const char *want; } cases[] = {
        { 50.0, "50" }, { -7.0, "-7" }, { 0.0, "0" }, { -0.0, "-0" },
        { 1e14, "100000000000000" }, { 999999999999999.0, "999999999999999" },
        { 1e15, "1e+15" },                               /* whole, but not below 1e15: shortest */
        { 0.1, "0.1" }, { 1.5, "1.5" }, { 0.30000000000000004, "0.30000000000000004" },
        { 1.0 / 3, "0.3333333333333333" }, { 5e-324, "5e-324" }, { 2.5e-7, "2.5e-07" },
        { 1.7976931348623157e308, "1.7976931348623157e+308" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[32];
        fmt_double(out, cases[i].x);
        CHECK(!strcmp(out, cases[i].want), "fmt_double(%.17g) = '%s', want '%s'", cases[i].x, out, cases[i].want);
    }
    char out[32];
    fmt_double(out, NAN);
    CHECK(!strcmp(out, "nan"), "NaN printed as '%s'", out);
    fmt_double(out, -NAN);
    CHECK(!strcmp(out, "nan"), "-NaN printed as '%s'", out);
    fmt_double(out, INFINITY);
    CHECK(!strcmp(out, "inf"), "+Inf printed as '%s'", out);
    fmt_double(out, -INFINITY);
    CHECK(!strcmp(out, "-inf"), "-Inf printed as '%s'", out);
}

int main(void) {
    test_spellings();
    test_round_trip();
    return check_done("test_jsonw");
}
