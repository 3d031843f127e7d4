/* test_backend — every Backend op against a naive double-precision reference on random inputs.
 *
 * check_backend(be) runs the table of op checks on any backend, moving data only through
 * be->alloc/upload/download, so the same checks run on the CPU reference and on CUDA when a
 * GPU is usable (skipped, and said so, when not). Tolerance for fp32 results:
 * |got - want| <= 1e-5 + 1e-4·|want|. Dropout masks and ReLU are checked exactly.
 * The optional score_rows is checked against the strategies' host functions (1e-12), the
 * optional mc_head_forward against the ops it fuses, the encoder's backward ops (layernorm,
 * gelu, attention) against central differences of their forwards on the same backend, and
 * with a GPU, check_pair runs every op on CPU and CUDA with the same inputs and compares them.
 */
#include "sim/backend.h"
#include "sim/rng.h"
#include "strategies/strategy.h"
#include "tests/check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ATOL 1e-5
#define RTOL 1e-4

static int n_near_fail;     // CHECK_NEAR over arrays: report only the first few misses

/* Compares got (n) to want (n) elementwise; one CHECK per array, details for the first misses. */
static void check_array(const char *what, const float *got, const double *want, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double g = got[i], w = want[i];
        if (!(fabs(g - w) <= ATOL + RTOL * fabs(w))) {
            if (bad < 3 && n_near_fail < 20) {
                fprintf(stderr, "  %s[%zu] = %.9g, want %.9g\n", what, i, g, w);
                n_near_fail++;
            }
            bad++;
        }
    }
    CHECK(bad == 0, "%s: %zu of %zu elements out of tolerance", what, bad, n);
}

/* n uniform floats in [lo, hi) from stream `sub` of RNG_DATA. */
static float *random_floats(size_t n, double lo, double hi, uint64_t sub) {
    float *a = malloc((n ? n : 1) * sizeof(float));
    Rng r = rng_stream(42, RNG_DATA, sub);
    for (size_t i = 0; i < n; i++) a[i] = (float)(lo + (hi - lo) * rng_uniform(&r));
    return a;
}

/* A backend buffer holding a copy of host (bytes). */
static void *to_device(const Backend *be, const void *host, size_t bytes) {
    void *d = be->alloc(bytes);
    if (!d) {
        fprintf(stderr, "backend %s: alloc of %zu bytes failed\n", be->name, bytes);
        exit(3);
    }
    be->upload(d, host, bytes);
    return d;
}

/* A host copy of a backend buffer of n floats (caller frees). */
static float *to_host(const Backend *be, const float *dev, size_t n) {
    float *h = malloc((n ? n : 1) * sizeof(float));
    be->download(h, dev, n * sizeof(float));
    return h;
}

// ----------------------------------------------------------------------------
// the op checks

static void check_memory(const Backend *be) {
    const size_t n = 1000;
    float *a = random_floats(n, -1, 1, 1);
    float *d = to_device(be, a, n * sizeof(float));
    float *back = to_host(be, d, n);
    CHECK(memcmp(a, back, n * sizeof(float)) == 0, "upload/download round trip differs");
    be->zero(d, n * sizeof(float));
    be->download(back, d, n * sizeof(float));
    size_t nonzero = 0;
    for (size_t i = 0; i < n; i++) nonzero += back[i] != 0.0f;
    CHECK(nonzero == 0, "zero left %zu nonzero floats", nonzero);
    CHECK(((uintptr_t)d & 63) == 0 || strcmp(be->name, "cpu") != 0, "cpu alloc not 64-aligned");
    be->free(d);
    be->free(NULL);
    free(a);
    free(back);
}

static void matmul_case(const Backend *be, int N, int C, int OC, int with_bias, double scale) {
    char what[64];
    float *inp = random_floats((size_t)N * C, -scale, scale, 10);       // (N,C)
    float *w = random_floats((size_t)OC * C, -scale, scale, 11);        // (OC,C)
    float *b = random_floats((size_t)OC, -1, 1, 12);                    // (OC)
    float *dout = random_floats((size_t)N * OC, -scale, scale, 13);     // (N,OC)
    double *want_out = calloc((size_t)N * OC + 1, sizeof(double));
    double *want_dinp = calloc((size_t)N * C + 1, sizeof(double));
    double *want_dw = calloc((size_t)OC * C + 1, sizeof(double));
    double *want_db = calloc((size_t)OC + 1, sizeof(double));
    for (int i = 0; i < N; i++)
        for (int o = 0; o < OC; o++) {
            double s = with_bias ? b[o] : 0.0;
            for (int c = 0; c < C; c++) s += (double)inp[i * C + c] * w[o * C + c];
            want_out[i * OC + o] = s;
        }
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++) {
            double s = 0.0;
            for (int o = 0; o < OC; o++) s += (double)dout[i * OC + o] * w[o * C + c];
            want_dinp[i * C + c] = s;
        }
    for (int o = 0; o < OC; o++) {
        for (int c = 0; c < C; c++) {
            double s = 0.0;
            for (int i = 0; i < N; i++) s += (double)dout[i * OC + o] * inp[i * C + c];
            want_dw[o * C + c] = s;
        }
        for (int i = 0; i < N; i++) want_db[o] += dout[i * OC + o];
    }

    float *d_inp = to_device(be, inp, (size_t)N * C * sizeof(float));
    float *d_w = to_device(be, w, (size_t)OC * C * sizeof(float));
    float *d_b = to_device(be, b, (size_t)OC * sizeof(float));
    float *d_dout = to_device(be, dout, (size_t)N * OC * sizeof(float));
    // outputs start as junk (values in [5,9)) to show they are overwritten, not accumulated
    float *junk = random_floats((size_t)N * C + (size_t)OC * C + N * OC, 5, 9, 14);
    float *d_out = to_device(be, junk, (size_t)N * OC * sizeof(float));
    float *d_dinp = to_device(be, junk, (size_t)N * C * sizeof(float));
    float *d_dw = to_device(be, junk, (size_t)OC * C * sizeof(float));
    float *d_db = to_device(be, junk, (size_t)OC * sizeof(float));

    be->matmul_forward(d_out, d_inp, d_w, with_bias ? d_b : NULL, N, C, OC);
    float *got = to_host(be, d_out, (size_t)N * OC);
    snprintf(what, sizeof what, "matmul_forward(N=%d,C=%d,OC=%d%s)", N, C, OC,
             with_bias ? "" : ",no bias");
    check_array(what, got, want_out, (size_t)N * OC);
    free(got);

    be->matmul_backward(d_dinp, d_dw, d_db, d_dout, d_inp, d_w, N, C, OC);
    snprintf(what, sizeof what, "matmul_backward dinp(N=%d,C=%d,OC=%d)", N, C, OC);
    got = to_host(be, d_dinp, (size_t)N * C);
    check_array(what, got, want_dinp, (size_t)N * C);
    free(got);
    snprintf(what, sizeof what, "matmul_backward dweight(N=%d,C=%d,OC=%d)", N, C, OC);
    got = to_host(be, d_dw, (size_t)OC * C);
    check_array(what, got, want_dw, (size_t)OC * C);
    free(got);
    snprintf(what, sizeof what, "matmul_backward dbias(N=%d,C=%d,OC=%d)", N, C, OC);
    got = to_host(be, d_db, (size_t)OC);
    check_array(what, got, want_db, (size_t)OC);
    free(got);

    // dinp and dbias NULL: dweight alone, still overwritten
    be->upload(d_dw, junk, (size_t)OC * C * sizeof(float));
    be->matmul_backward(NULL, d_dw, NULL, d_dout, d_inp, d_w, N, C, OC);
    snprintf(what, sizeof what, "matmul_backward dweight only(N=%d,C=%d,OC=%d)", N, C, OC);
    got = to_host(be, d_dw, (size_t)OC * C);
    check_array(what, got, want_dw, (size_t)OC * C);
    free(got);

    float *bufs[] = {d_inp, d_w, d_b, d_dout, d_out, d_dinp, d_dw, d_db};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->free(bufs[i]);
    free(inp); free(w); free(b); free(dout); free(junk);
    free(want_out); free(want_dinp); free(want_dw); free(want_db);
}

static void check_matmul(const Backend *be) {
    matmul_case(be, 7, 13, 5, 1, 1.0);
    matmul_case(be, 7, 13, 5, 0, 1.0);
    matmul_case(be, 1, 13, 5, 1, 1.0);
    matmul_case(be, 1, 1, 1, 1, 1.0);
    matmul_case(be, 33, 70, 17, 1, 0.1);    // past BLAS's small-size paths, small values
    matmul_case(be, 130, 257, 10, 1, 0.05);
}

/* check_array on a backend buffer of n floats. */
static void check_device(const Backend *be, const char *what, const float *dev, const double *want,
                         size_t n) {
    float *got = to_host(be, dev, n);
    check_array(what, got, want, n);
    free(got);
}

/* A random CSR matrix (N,C) with about density·C nonzeros a row, columns ascending, values in
 * [-scale, scale); row 1 (when N > 2) is empty and row 2 (when N > 3) full. indptr (N+1),
 * *indices and *values allocated here. Returns nnz. */
static int64_t random_csr(int64_t *indptr, int32_t **indices, float **values, int N, int C,
                          double density, double scale, uint64_t sub) {
    Rng r = rng_stream(42, RNG_DATA, sub);
    *indices = malloc(((size_t)N * C + 1) * sizeof(int32_t));
    *values = malloc(((size_t)N * C + 1) * sizeof(float));
    int64_t nnz = 0;
    indptr[0] = 0;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < C; j++) {
            int take = (N > 2 && i == 1) ? 0 : (N > 3 && i == 2) ? 1 : rng_uniform(&r) < density;
            if (!take) continue;
            (*indices)[nnz] = j;
            (*values)[nnz] = (float)(scale * (2.0 * rng_uniform(&r) - 1.0));
            nnz++;
        }
        indptr[i + 1] = nnz;
    }
    return nnz;
}

static void sparse_matmul_case(const Backend *be, int N, int C, int OC, int with_bias,
                               double density) {
    char what[80];
    int64_t *indptr = malloc(((size_t)N + 1) * sizeof(int64_t));
    int32_t *idx;
    float *val;
    int64_t nnz = random_csr(indptr, &idx, &val, N, C, density, 1.0, 60);
    float *wt = random_floats((size_t)C * OC, -1, 1, 61);              // (C,OC)
    float *b = random_floats((size_t)OC, -1, 1, 62);                   // (OC)
    float *dout = random_floats((size_t)N * OC + 1, -1, 1, 63);        // (N,OC), +1: N may be 0
    double *want_out = calloc((size_t)N * OC + 1, sizeof(double));
    double *want_dw = calloc((size_t)C * OC + 1, sizeof(double));
    double *want_db = calloc((size_t)OC + 1, sizeof(double));
    for (int i = 0; i < N; i++)           // the dense definition, column by column
        for (int o = 0; o < OC; o++) {
            double s = with_bias ? b[o] : 0.0;
            for (int64_t p = indptr[i]; p < indptr[i + 1]; p++)
                s += (double)val[p] * wt[(size_t)idx[p] * OC + o];
            want_out[(size_t)i * OC + o] = s;
            want_db[o] += dout[(size_t)i * OC + o];
            for (int64_t p = indptr[i]; p < indptr[i + 1]; p++)
                want_dw[(size_t)idx[p] * OC + o] += (double)val[p] * dout[(size_t)i * OC + o];
        }

    int64_t *d_indptr = to_device(be, indptr, ((size_t)N + 1) * sizeof(int64_t));
    int32_t *d_idx = to_device(be, idx, ((size_t)nnz + 1) * sizeof(int32_t));
    float *d_val = to_device(be, val, ((size_t)nnz + 1) * sizeof(float));
    float *d_wt = to_device(be, wt, (size_t)C * OC * sizeof(float));
    float *d_b = to_device(be, b, (size_t)OC * sizeof(float));
    float *d_dout = to_device(be, dout, ((size_t)N * OC + 1) * sizeof(float));
    // outputs start as junk in [5,9): they must be overwritten, untouched rows of dweight_t too
    float *junk = random_floats((size_t)C * OC + (size_t)N * OC + 1, 5, 9, 64);
    float *d_out = to_device(be, junk, ((size_t)N * OC + 1) * sizeof(float));
    float *d_dw = to_device(be, junk, (size_t)C * OC * sizeof(float));
    float *d_db = to_device(be, junk, (size_t)OC * sizeof(float));

    be->sparse_matmul_forward(d_out, d_indptr, d_idx, d_val, d_wt, with_bias ? d_b : NULL,
                              N, C, OC);
    snprintf(what, sizeof what, "sparse_matmul_forward(N=%d,C=%d,OC=%d,nnz=%lld%s)", N, C, OC,
             (long long)nnz, with_bias ? "" : ",no bias");
    check_device(be, what, d_out, want_out, (size_t)N * OC);
    be->sparse_matmul_backward(d_dw, d_db, d_dout, d_indptr, d_idx, d_val, N, C, OC);
    snprintf(what, sizeof what, "sparse_matmul_backward dweight_t(N=%d,C=%d,OC=%d)", N, C, OC);
    check_device(be, what, d_dw, want_dw, (size_t)C * OC);
    snprintf(what, sizeof what, "sparse_matmul_backward dbias(N=%d,C=%d,OC=%d)", N, C, OC);
    check_device(be, what, d_db, want_db, (size_t)OC);
    be->upload(d_dw, junk, (size_t)C * OC * sizeof(float));         // dbias NULL
    be->sparse_matmul_backward(d_dw, NULL, d_dout, d_indptr, d_idx, d_val, N, C, OC);
    snprintf(what, sizeof what, "sparse_matmul_backward dweight_t only(N=%d,C=%d,OC=%d)", N, C, OC);
    check_device(be, what, d_dw, want_dw, (size_t)C * OC);

    void *bufs[] = {d_indptr, d_idx, d_val, d_wt, d_b, d_dout, d_out, d_dw, d_db};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->free(bufs[i]);
    free(indptr); free(idx); free(val); free(wt); free(b); free(dout); free(junk);
    free(want_out); free(want_dw); free(want_db);
}

static void check_sparse_matmul(const Backend *be) {
    sparse_matmul_case(be, 7, 50, 5, 1, 0.2);
    sparse_matmul_case(be, 7, 50, 5, 0, 0.2);
    sparse_matmul_case(be, 1, 1, 1, 1, 1.0);
    sparse_matmul_case(be, 0, 20, 3, 1, 0.5);       // no rows: zero gradients
    sparse_matmul_case(be, 5, 30, 4, 1, 0.0);       // only row 2 has nonzeros
    sparse_matmul_case(be, 64, 2000, 33, 1, 0.01);  // text-like: OC not a multiple of 4
}

static void check_relu(const Backend *be) {
    const size_t n = 1001;
    float *x = random_floats(n, -1, 1, 20);
    x[0] = 0.0f;
    x[1] = -0.0f;
    float *dout = random_floats(n, -1, 1, 21);
    float *d_x = to_device(be, x, n * sizeof(float));
    float *d_out = to_device(be, x, n * sizeof(float));
    float *d_dout = to_device(be, dout, n * sizeof(float));
    be->relu_forward(d_out, d_x, n);
    float *out = to_host(be, d_out, n);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) bad += out[i] != (x[i] > 0.0f ? x[i] : 0.0f);
    CHECK(bad == 0, "relu_forward: %zu wrong", bad);
    be->relu_backward(d_dout, d_dout, d_out, n);    // in place
    float *dinp = to_host(be, d_dout, n);
    bad = 0;
    for (size_t i = 0; i < n; i++) bad += dinp[i] != (x[i] > 0.0f ? dout[i] : 0.0f);
    CHECK(bad == 0, "relu_backward: %zu wrong", bad);
    be->relu_forward(d_x, d_x, n);                  // in place
    free(out);
    out = to_host(be, d_x, n);
    bad = 0;
    for (size_t i = 0; i < n; i++) bad += out[i] != (x[i] > 0.0f ? x[i] : 0.0f);
    CHECK(bad == 0, "relu_forward in place: %zu wrong", bad);
    be->free(d_x); be->free(d_out); be->free(d_dout);
    free(x); free(dout); free(out); free(dinp);
}

static void dropout_case(const Backend *be, int N, int C, float p, uint64_t key, int64_t row0) {
    const size_t n = (size_t)N * C;
    float *x = random_floats(n, 0.5, 1.5, 30);       // nonzero, so zeros in out are the mask
    float *g = random_floats(n, -1.5, -0.5, 31);
    double *want = calloc(n, sizeof(double));
    uint32_t threshold = rng_dropout_threshold(p);
    int *keep = malloc(n * sizeof(int));
    size_t kept = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < C; j++) {
            keep[(size_t)i * C + j] = rng_dropout_keep(key, rng_mask_row(row0, i), (uint32_t)j,
                                                       threshold);
            kept += keep[(size_t)i * C + j];
        }
    float *d_x = to_device(be, x, n * sizeof(float));
    float *d_out = to_device(be, g, n * sizeof(float));
    float *d_g = to_device(be, g, n * sizeof(float));
    be->dropout_forward(d_out, d_x, N, C, p, key, row0);
    be->dropout_backward(d_g, d_g, N, C, p, key, row0);     // in place
    be->dropout_forward(d_x, d_x, N, C, p, key, row0);      // in place
    float *out = to_host(be, d_out, n), *dg = to_host(be, d_g, n), *inplace = to_host(be, d_x, n);

    size_t mask_bad = 0, bwd_bad = 0, inplace_bad = 0;
    for (size_t i = 0; i < n; i++) {
        mask_bad += (out[i] != 0.0f) != keep[i];
        bwd_bad += (dg[i] != 0.0f) != keep[i];
        inplace_bad += memcmp(&inplace[i], &out[i], sizeof(float)) != 0;
    }
    CHECK(mask_bad == 0, "dropout_forward(p=%g,C=%d): %zu units differ from rng_dropout_keep",
          p, C, mask_bad);
    CHECK(bwd_bad == 0, "dropout_backward(p=%g,C=%d): %zu units differ from rng_dropout_keep",
          p, C, bwd_bad);
    CHECK(inplace_bad == 0, "dropout_forward(p=%g) in place differs in %zu units", p,
          inplace_bad);
    char what[64];
    for (size_t i = 0; i < n; i++) want[i] = keep[i] ? x[i] / (1.0 - p) : 0.0;
    snprintf(what, sizeof what, "dropout_forward(p=%g,C=%d)", p, C);
    check_array(what, out, want, n);
    for (size_t i = 0; i < n; i++) want[i] = keep[i] ? g[i] / (1.0 - p) : 0.0;
    snprintf(what, sizeof what, "dropout_backward(p=%g,C=%d)", p, C);
    check_array(what, dg, want, n);
    double frac = (double)kept / n;     // 0.02 is > 7 standard deviations at n >= 10000
    CHECK(n < 10000 || fabs(frac - (1.0 - p)) < 0.02, "dropout(p=%g): kept fraction %.4f", p,
          frac);

    be->free(d_x); be->free(d_out); be->free(d_g);
    free(x); free(g); free(want); free(keep); free(out); free(dg); free(inplace);
}

/* dropout_channels on (N,C,S): value (i,c,s) kept (x·scale, exactly the float product) iff
 * rng_dropout_keep of unit c, out of place and in place. */
static void dropout_channels_case(const Backend *be, int N, int C, int S, float p, uint64_t key, int64_t row0) {
    const size_t n = (size_t)N * C * S;
    float *x = random_floats(n, 0.5, 1.5, 32);
    const uint32_t threshold = rng_dropout_threshold(p);
    const float scale = 1.0f / (1.0f - p);
    float *d_x = to_device(be, x, n * sizeof(float)), *d_out = to_device(be, x, n * sizeof(float));
    be->dropout_channels(d_out, d_x, N, C, S, p, key, row0);
    be->dropout_channels(d_x, d_x, N, C, S, p, key, row0);     // in place
    float *out = to_host(be, d_out, n), *inplace = to_host(be, d_x, n);
    size_t bad = 0, inplace_bad = 0;
    for (int i = 0; i < N; i++)
        for (int c = 0; c < C; c++) {
            const int keep = p <= 0.0f || rng_dropout_keep(key, rng_mask_row(row0, i), (uint32_t)c, threshold);
            for (int s = 0; s < S; s++) {
                const size_t e = ((size_t)i * C + c) * S + s;
                const float want = keep ? (p <= 0.0f ? x[e] : x[e] * scale) : 0.0f;
                bad += memcmp(&out[e], &want, sizeof want) != 0;
                inplace_bad += memcmp(&inplace[e], &out[e], sizeof(float)) != 0;
            }
        }
    CHECK(bad == 0 && inplace_bad == 0, "dropout_channels(p=%g, C=%d, S=%d): %zu values differ from unit c's mask, "
          "%zu in place", p, C, S, bad, inplace_bad);
    be->free(d_x); be->free(d_out);
    free(x); free(out); free(inplace);
}

static void check_dropout(const Backend *be) {
    const float ps[] = {0.0f, 0.1f, 0.5f};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        dropout_channels_case(be, 9, 32, 144, ps[i], 0x1234567887654321ull, 0);   // MNIST's first pooling
        dropout_channels_case(be, 5, 7, 3, ps[i], 99, 1000003);                      // C not a multiple of 4
        dropout_channels_case(be, 6, 13, 1, ps[i], 7, RNG_ROWS_SHARED + 40);         // S = 1, shared masks
        dropout_case(be, 64, 512, ps[i], 0x1234567887654321ull, 0);
        dropout_case(be, 37, 13, ps[i], 99, 1000003);        // C not a multiple of 4
        dropout_case(be, 5, 3, ps[i], 7, (int64_t)1 << 40);  // C < 4, large row ids
        dropout_case(be, 37, 13, ps[i], 99, RNG_ROWS_SHARED + 40);  // every row row 0's masks
    }
    // different keys and rows give different masks
    const int N = 4, C = 256;
    float *ones = malloc((size_t)N * C * sizeof(float));
    for (int i = 0; i < N * C; i++) ones[i] = 1.0f;
    float *d = to_device(be, ones, (size_t)N * C * sizeof(float));
    float *d2 = to_device(be, ones, (size_t)N * C * sizeof(float));
    be->dropout_forward(d, d, N, C, 0.5f, 1, 0);
    be->dropout_forward(d2, d2, N, C, 0.5f, 2, 0);
    float *a = to_host(be, d, (size_t)N * C), *b = to_host(be, d2, (size_t)N * C);
    CHECK(memcmp(a, b, (size_t)N * C * sizeof(float)) != 0, "dropout: keys 1 and 2 same mask");
    CHECK(memcmp(a, a + C, (size_t)C * sizeof(float)) != 0, "dropout: rows 0 and 1 same mask");
    be->free(d); be->free(d2);
    free(ones); free(a); free(b);
}

static void softmax_case(const Backend *be, const float *logits, int N, int K, const char *name) {
    const size_t n = (size_t)N * K;
    double *want = malloc(n * sizeof(double));
    for (int i = 0; i < N; i++) {
        const float *z = logits + (size_t)i * K;
        double maxv = z[0], sum = 0.0;
        for (int j = 1; j < K; j++) if (z[j] > maxv) maxv = z[j];
        for (int j = 0; j < K; j++) sum += exp(z[j] - maxv);
        for (int j = 0; j < K; j++) want[(size_t)i * K + j] = exp(z[j] - maxv) / sum;
    }
    float *d_z = to_device(be, logits, n * sizeof(float));
    float *d_p = to_device(be, logits, n * sizeof(float));
    be->softmax_forward(d_p, d_z, N, K);
    be->softmax_forward(d_z, d_z, N, K);    // in place
    float *p = to_host(be, d_p, n), *p2 = to_host(be, d_z, n);
    char what[64];
    snprintf(what, sizeof what, "softmax_forward(%s)", name);
    check_array(what, p, want, n);
    CHECK(memcmp(p, p2, n * sizeof(float)) == 0, "softmax_forward(%s) in place differs", name);
    size_t bad_sum = 0, not_finite = 0;
    for (int i = 0; i < N; i++) {
        double s = 0.0;
        for (int j = 0; j < K; j++) {
            s += p[(size_t)i * K + j];
            not_finite += !isfinite(p[(size_t)i * K + j]);
        }
        bad_sum += fabs(s - 1.0) > 1e-5;
    }
    CHECK(bad_sum == 0, "softmax_forward(%s): %zu rows do not sum to 1", name, bad_sum);
    CHECK(not_finite == 0, "softmax_forward(%s): %zu values not finite", name, not_finite);
    be->free(d_z); be->free(d_p);
    free(want); free(p); free(p2);
}

static void check_softmax(const Backend *be) {
    float *z = random_floats(50 * 10, -5, 5, 40);
    softmax_case(be, z, 50, 10, "random");
    free(z);
    z = random_floats(3 * 1000, -3, 3, 41);
    softmax_case(be, z, 3, 1000, "K=1000");
    free(z);
    const float big[] = {1000.0f, 999.0f, -1000.0f, 0.0f,       // would overflow expf unshifted
                         88.0f, 89.0f, 90.0f, 91.0f,
                         -1e30f, -1e30f, -1e30f, -1e30f,        // all equal and huge
                         3e38f, 0.0f, -3e38f, 1.0f};
    softmax_case(be, big, 4, 4, "large logits");
}

static void check_crossentropy(const Backend *be) {
    const int N = 9, K = 7;
    float *probs = random_floats((size_t)N * K, 0, 1, 50);
    int32_t targets[9];
    Rng r = rng_stream(42, RNG_DATA, 51);
    for (int i = 0; i < N; i++) targets[i] = (int32_t)rng_below(&r, K);
    double want[9 * 7];
    for (int i = 0; i < N; i++)
        for (int j = 0; j < K; j++)
            want[i * K + j] = ((double)probs[i * K + j] - (j == targets[i])) / N;
    float *d_p = to_device(be, probs, sizeof(float) * N * K);
    int32_t *d_t = to_device(be, targets, sizeof targets);
    float *d_d = be->alloc(sizeof(float) * N * K);
    be->crossentropy_backward(d_d, d_p, d_t, N, K);
    float *got = to_host(be, d_d, (size_t)N * K);
    check_array("crossentropy_backward", got, want, (size_t)N * K);
    be->free(d_p); be->free(d_t); be->free(d_d);
    free(probs); free(got);
}

static void check_adam(const Backend *be) {
    const size_t n = 257;
    const float lr = 1e-2f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, wd = 0.01f;
    float *param = random_floats(n, -1, 1, 60);
    double *p_ref = malloc(n * sizeof(double)), *m_ref = calloc(n, sizeof(double)),
           *v_ref = calloc(n, sizeof(double));
    for (size_t i = 0; i < n; i++) p_ref[i] = param[i];
    float *d_param = to_device(be, param, n * sizeof(float));
    float *d_grad = be->alloc(n * sizeof(float));
    float *d_m = be->alloc(n * sizeof(float)), *d_v = be->alloc(n * sizeof(float));
    be->zero(d_m, n * sizeof(float));
    be->zero(d_v, n * sizeof(float));
    for (int t = 1; t <= 3; t++) {
        float *grad = random_floats(n, -1, 1, 60 + (uint64_t)t);
        grad[0] = 0.0f;     // a zero gradient still decays
        be->upload(d_grad, grad, n * sizeof(float));
        be->adam_update(d_param, d_grad, d_m, d_v, n, lr, beta1, beta2, eps, wd, t);
        for (size_t i = 0; i < n; i++) {    // the textbook AdamW, in double
            m_ref[i] = beta1 * m_ref[i] + (1.0 - beta1) * grad[i];
            v_ref[i] = beta2 * v_ref[i] + (1.0 - beta2) * (double)grad[i] * grad[i];
            double mhat = m_ref[i] / (1.0 - pow(beta1, t));
            double vhat = v_ref[i] / (1.0 - pow(beta2, t));
            p_ref[i] -= lr * (mhat / (sqrt(vhat) + eps) + wd * p_ref[i]);
        }
        free(grad);
        char what[32];
        float *got = to_host(be, d_param, n);
        snprintf(what, sizeof what, "adam_update param t=%d", t);
        check_array(what, got, p_ref, n);
        free(got);
        got = to_host(be, d_m, n);
        snprintf(what, sizeof what, "adam_update m t=%d", t);
        check_array(what, got, m_ref, n);
        free(got);
        got = to_host(be, d_v, n);
        snprintf(what, sizeof what, "adam_update v t=%d", t);
        check_array(what, got, v_ref, n);
        free(got);
    }
    be->free(d_param); be->free(d_grad); be->free(d_m); be->free(d_v);
    free(param); free(p_ref); free(m_ref); free(v_ref);
}

// ----------------------------------------------------------------------------

// ----------------------------------------------------------------------------
// score_rows, the optional op: each device reduction against its strategy's host function

/* probs (N,K) and mc (T,N,K): random, skewed distributions, and rows for the edge cases:
 * row 0 one-hot (0·log 0; the hot class moves between samples), row 1 uniform (every class
 * tied), row 2 a NaN (in probs and in the last sample), row 3 the top two classes tied in
 * every sample, row 4 the same in every sample (BALD 0 up to rounding: clamped). */
static void score_inputs(float *probs, float *mc, int N, int K, int T, uint64_t sub) {
    Rng r = rng_stream(42, RNG_DATA, sub);
    for (int s = 0; s <= T; s++) {                  // s == 0: probs; else sample s-1
        float *base = s == 0 ? probs : mc + (size_t)(s - 1) * N * K;
        for (int i = 0; i < N; i++) {
            float *p = base + (size_t)i * K;
            double sum = 0.0;
            for (int c = 0; c < K; c++) {
                double u = rng_uniform(&r);
                p[c] = (float)(u * u * u);
                sum += p[c];
            }
            for (int c = 0; c < K; c++) p[c] = (float)(p[c] / sum);
            if (i == 0) for (int c = 0; c < K; c++) p[c] = c == s % K ? 1.0f : 0.0f;
            if (i == 1) for (int c = 0; c < K; c++) p[c] = 1.0f / K;
            if (i == 2 && (s == 0 || s == T)) p[K - 1] = NAN;
            if (i == 3) {
                for (int c = 0; c < K; c++) p[c] = 0.0f;
                p[1] = p[K - 2] = 0.5f;
            }
            if (i == 4 && s > 1) memcpy(p, mc + (size_t)4 * K, (size_t)K * sizeof(float));
        }
    }
}

static void score_rows_case(const Backend *be, int N, int K, int T, uint64_t sub) {
    float *probs = malloc((size_t)N * K * sizeof(float));
    float *mc = malloc((size_t)T * N * K * sizeof(float));
    score_inputs(probs, mc, N, K, T, sub);
    float *d_probs = to_device(be, probs, (size_t)N * K * sizeof(float));
    float *d_mc = to_device(be, mc, (size_t)T * N * K * sizeof(float));
    double *want = malloc((size_t)N * sizeof(double)), *got = malloc((size_t)N * sizeof(double));
    int ns;
    const Strategy *all = strategy_all(&ns);
    for (int s = 0; s < ns; s++) {
        if (all[s].reduce == REDUCE_NONE) continue;
        PoolView v = {.n = N, .k = K, .t = T, .probs = probs, .mc = mc, .row0 = 0, .seed = 1};
        all[s].score(want, &v);
        for (int i = 0; i < N; i++) got[i] = -12345.0;
        be->score_rows(got, d_probs, d_mc, N, K, T, all[s].reduce);
        size_t bad = 0;
        for (int i = 0; i < N; i++) {
            int ok = isnan(want[i]) ? isnan(got[i])
                                    : fabs(got[i] - want[i]) <= 1e-12 * (1.0 + fabs(want[i]));
            if (!ok && bad++ < 3)
                fprintf(stderr, "  score_rows %s (N=%d,K=%d,T=%d) row %d: %.17g, want %.17g\n",
                        all[s].name, N, K, T, i, got[i], want[i]);
        }
        CHECK(bad == 0, "score_rows %s (N=%d,K=%d,T=%d): %zu of %d rows differ from the host "
              "function", all[s].name, N, K, T, bad, N);
    }
    for (int i = 0; i < N; i++) got[i] = 0.0;     // no reduction: NaN, never a plausible score
    be->score_rows(got, d_probs, d_mc, N, K, T, REDUCE_NONE);
    size_t not_nan = 0;
    for (int i = 0; i < N; i++) not_nan += !isnan(got[i]);
    CHECK(not_nan == 0, "score_rows(REDUCE_NONE): %zu rows not NaN", not_nan);
    be->free(d_probs); be->free(d_mc);
    free(probs); free(mc); free(want); free(got);
}

/* A host stand-in for score_rows (the strategy whose reduction is kind; NaN for none), so
 * that check_score_rows runs, and is sanitised, on machines without a GPU too. */
static void host_score_rows(double *scores, const float *probs, const float *mc, int N, int K,
                            int T, int kind) {
    int n;
    const Strategy *all = strategy_all(&n);
    for (int i = 0; i < N; i++) scores[i] = NAN;
    for (int i = 0; i < n && kind != REDUCE_NONE; i++)
        if (all[i].reduce == kind) {
            PoolView v = {.n = N, .k = K, .t = T, .probs = probs, .mc = mc};
            all[i].score(scores, &v);
        }
}

static void check_score_rows(const Backend *be) {
    if (!be->score_rows) return;    // optional: this backend leaves scoring to the host
    score_rows_case(be, 300, 10, 7, 70);
    score_rows_case(be, 50, 2, 3, 71);
    score_rows_case(be, 20, 300, 3, 72);       // K > 256: the host's class blocks
    score_rows_case(be, 70001, 3, 2, 73);      // more rows than one device piece (65536)
}

// mc_head_forward, the optional fused op: against dropout → matmul → softmax composed from the
// backend's own ops (tolerance: another summation order), bitwise the same for a row however
// the rows are split into calls, and a dropped NaN gives the composition's finite numbers.
static void mc_head_case(const Backend *be, int N, int C, int K, int T, float p, int64_t row0,
                         uint64_t sub) {
    float *x = random_floats((size_t)N * C, -1, 2, sub), *w = random_floats((size_t)K * C, -1, 1, sub + 1);
    float *b = random_floats((size_t)K, -1, 1, sub + 2);
    for (size_t i = 0; i < (size_t)N * C; i++) if (x[i] < 0.0f) x[i] = 0.0f;    // ReLU-like
    x[(size_t)(N / 2) * C + C / 2] = NAN;   // one NaN: its row's samples are NaN unless dropped
    uint64_t keys[7];
    for (int t = 0; t < T; t++) keys[t] = rng_hash(sub, (uint64_t)t, 3);
    float *dx = to_device(be, x, (size_t)N * C * sizeof(float)), *dw = to_device(be, w, (size_t)K * C * sizeof(float));
    float *db = to_device(be, b, (size_t)K * sizeof(float));
    float *dp = be->alloc((size_t)T * N * K * sizeof(float)), *dh = be->alloc((size_t)N * C * sizeof(float));
    float *dl = be->alloc((size_t)N * K * sizeof(float));
    CHECK(be->mc_head_forward(dp, dx, dw, db, N, C, K, p, keys, T, row0) == 0, "mc_head_forward failed");
    float *got = to_host(be, dp, (size_t)T * N * K);
    double *want = malloc((size_t)T * N * K * sizeof(double));
    size_t nan_got = 0, nan_want = 0;
    for (int t = 0; t < T; t++) {
        be->dropout_forward(dh, dx, N, C, p, keys[t], row0);
        be->matmul_forward(dl, dh, dw, db, N, C, K);
        be->softmax_forward(dl, dl, N, K);
        float *ref = to_host(be, dl, (size_t)N * K);
        for (size_t i = 0; i < (size_t)N * K; i++) {
            want[(size_t)t * N * K + i] = ref[i];
            nan_want += isnan(ref[i]);
            nan_got += isnan(got[(size_t)t * N * K + i]);
        }
        free(ref);
    }
    CHECK(nan_got == nan_want, "mc_head (N=%d,C=%d,K=%d): %zu NaNs, the composition has %zu",
          N, C, K, nan_got, nan_want);
    for (size_t i = 0; i < (size_t)T * N * K; i++) if (isnan(want[i])) want[i] = got[i] = 0.0f;
    char what[96];
    snprintf(what, sizeof what, "mc_head (N=%d,C=%d,K=%d,T=%d,p=%g)", N, C, K, T, p);
    check_array(what, got, want, (size_t)T * N * K);
    // rows split into two calls (the second starting mid-block): the same bits, row by row
    const int n1 = N / 3;
    float *d1 = be->alloc((size_t)T * N * K * sizeof(float));
    CHECK(be->mc_head_forward(d1, dx, dw, db, n1, C, K, p, keys, T, row0) == 0, "first part");
    CHECK(be->mc_head_forward(d1 + (size_t)T * n1 * K, dx + (size_t)n1 * C, dw, db, N - n1, C, K,
                              p, keys, T, row0 + n1) == 0, "second part");
    float *split = to_host(be, d1, (size_t)T * N * K);
    float *again = to_host(be, dp, (size_t)T * N * K);
    size_t differ = 0;
    for (int t = 0; t < T; t++)
        for (int i = 0; i < N; i++) {
            const float *s = i < n1 ? split + ((size_t)t * n1 + i) * K
                                    : split + (size_t)T * n1 * K + ((size_t)t * (N - n1) + i - n1) * K;
            differ += memcmp(s, again + ((size_t)t * N + i) * K, (size_t)K * sizeof(float)) != 0;
        }
    CHECK(differ == 0, "%s: %zu rows change bits when the rows are split into two calls", what, differ);
    be->free(dx); be->free(dw); be->free(db); be->free(dp); be->free(dh); be->free(dl); be->free(d1);
    free(x); free(w); free(b); free(got); free(want); free(split); free(again);
}

static void check_axpy(const Backend *be) {
    const size_t n = 1031;     // not a multiple of any block or vector width
    const float a = -0.375f;
    float *y = random_floats(n, -1, 1, 70), *x = random_floats(n, -2, 2, 71);
    double *want = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) want[i] = (double)y[i] + (double)a * x[i];
    float *d_y = to_device(be, y, n * sizeof(float)), *d_x = to_device(be, x, n * sizeof(float));
    be->axpy(d_y, d_x, a, n);
    float *got = to_host(be, d_y, n), *x_after = to_host(be, d_x, n);
    check_array("axpy", got, want, n);
    CHECK(memcmp(x_after, x, n * sizeof(float)) == 0, "axpy(%s) changed x", be->name);
    be->axpy(d_y, d_x, a, 0);   // n == 0: nothing
    free(got);
    got = to_host(be, d_y, n);
    check_array("axpy n=0 leaves y", got, want, n);
    be->free(d_y); be->free(d_x);
    free(y); free(x); free(want); free(got); free(x_after);
}

static void check_mc_head(const Backend *be) {
    if (!be->mc_head_forward) return;   // optional: the learner composes the ops instead
    mc_head_case(be, 100, 512, 10, 5, 0.5f, 1000, 80);   // the default head; a partial block
    mc_head_case(be, 33, 13, 3, 2, 0.1f, 0, 81);         // C not a multiple of 4
    mc_head_case(be, 20, 64, 37, 3, 0.5f, (int64_t)1 << 40, 82);  // K > 16: class blocks
    mc_head_case(be, 17, 8, 2, 7, 0.9f, 5, 83);
    mc_head_case(be, 100, 512, 10, 5, 0.5f, RNG_ROWS_SHARED, 84);  // shared masks (batchbald)
}

// ----------------------------------------------------------------------------
// The encoder's backward ops against central differences of their forwards on the same
// backend. The loss is L = Σ w·out in double with random w, so dout = w; each input element
// is nudged by ±GRAD_H and the difference divided by the float steps actually taken. The
// fp32 forward rounds L by about 1e-7 of the row it changes, which over 2·GRAD_H is ~1e-5,
// and the truncation error is ~GRAD_H²/6: on the CPU the worst gradient is 0.13 of
// GRAD_ATOL + GRAD_RTOL·|numeric|, while a dropped term is off by O(0.1) (each of layernorm's
// mean and x̂ terms, dgamma's x̂, GELU's x·φ(x), attention's row sum: broken, the check fails).

#define GRAD_H 1e-2
#define GRAD_ATOL 1e-4
#define GRAD_RTOL 1e-3

/* Σ w·out in double. */
static double weighted_sum(const float *out, const float *w, size_t n) {
    double L = 0;
    for (size_t i = 0; i < n; i++) L += (double)w[i] * out[i];
    return L;
}

/* numeric (n) = dL/dx by central differences, x (n) a host input that loss(ctx) uploads and
 * runs the forward on; x is restored. */
static void numeric_grad(double *numeric, float *x, size_t n, double (*loss)(void *ctx), void *ctx) {
    for (size_t i = 0; i < n; i++) {
        const float orig = x[i];
        x[i] = (float)(orig + GRAD_H);
        const double xp = x[i], lp = loss(ctx);
        x[i] = (float)(orig - GRAD_H);
        const double xm = x[i], lm = loss(ctx);
        x[i] = orig;
        numeric[i] = (lp - lm) / (xp - xm);
    }
}

/* One CHECK that the backend's gradient dev (n floats) matches numeric; the first misses shown. */
static void check_grad(const Backend *be, const char *what, const float *dev, const double *numeric, size_t n) {
    float *got = to_host(be, dev, n);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!(fabs(got[i] - numeric[i]) <= GRAD_ATOL + GRAD_RTOL * fabs(numeric[i]))) {
            if (bad < 3 && n_near_fail < 20) {
                fprintf(stderr, "  %s[%zu] = %.9g, central difference %.9g\n", what, i, got[i], numeric[i]);
                n_near_fail++;
            }
            bad++;
        }
    CHECK(bad == 0, "%s on %s: %zu of %zu gradients off the central differences", what, be->name, bad, n);
    free(got);
}

/* The same bits in two backend buffers of n floats. */
static void check_same_bits(const Backend *be, const char *what, const float *a, const float *b, size_t n) {
    float *ha = to_host(be, a, n), *hb = to_host(be, b, n);
    CHECK(memcmp(ha, hb, n * sizeof(float)) == 0, "%s on %s: the bits differ", what, be->name);
    free(ha); free(hb);
}

typedef struct {
    const Backend *be;
    int N, C;
    float eps;
    float *inp, *gamma, *beta, *w;      // host (N,C), (C), (C), (N,C)
    float *d_inp, *d_gamma, *d_beta, *d_out;
} LnCase;

static double layernorm_loss(void *ctx) {
    LnCase *c = ctx;
    const Backend *be = c->be;
    const size_t n = (size_t)c->N * c->C;
    be->upload(c->d_inp, c->inp, n * sizeof(float));
    be->upload(c->d_gamma, c->gamma, (size_t)c->C * sizeof(float));
    be->upload(c->d_beta, c->beta, (size_t)c->C * sizeof(float));
    be->layernorm_forward(c->d_out, NULL, c->d_inp, c->d_gamma, c->d_beta, c->N, c->C, c->eps);
    float *out = to_host(be, c->d_out, n);
    const double L = weighted_sum(out, c->w, n);
    free(out);
    return L;
}

/* layernorm_backward's dinp, dgamma, dbeta against central differences; dinp in place over
 * dout and without dgamma, dbeta gives the same bits. */
static void layernorm_grad_case(const Backend *be, int N, int C, float eps, uint64_t sub) {
    const size_t n = (size_t)N * C;
    LnCase c = {be, N, C, eps, random_floats(n, -2, 2, sub), random_floats((size_t)C, 0.5, 1.5, sub + 1),
                random_floats((size_t)C, -0.5, 0.5, sub + 2), random_floats(n, -1, 1, sub + 3), 0, 0, 0, 0};
    for (int i = 0; i < N; i++) c.inp[(size_t)i * C] += (float)i;   // rows of other means and spreads
    c.d_inp = to_device(be, c.inp, n * sizeof(float));
    c.d_gamma = to_device(be, c.gamma, (size_t)C * sizeof(float));
    c.d_beta = to_device(be, c.beta, (size_t)C * sizeof(float));
    c.d_out = be->alloc(n * sizeof(float));
    float *d_stats = be->alloc((size_t)N * 2 * sizeof(float)), *d_w = to_device(be, c.w, n * sizeof(float));
    float *d_dinp = be->alloc(n * sizeof(float)), *d_dg = be->alloc((size_t)C * sizeof(float));
    float *d_db = be->alloc((size_t)C * sizeof(float));
    be->layernorm_forward(c.d_out, d_stats, c.d_inp, c.d_gamma, c.d_beta, N, C, eps);
    be->layernorm_backward(d_dinp, d_dg, d_db, d_w, c.d_inp, d_stats, c.d_gamma, N, C);
    double *num = malloc(n * sizeof(double));
    char what[96];
    numeric_grad(num, c.inp, n, layernorm_loss, &c);
    snprintf(what, sizeof what, "layernorm_backward dinp (N=%d,C=%d)", N, C);
    check_grad(be, what, d_dinp, num, n);
    numeric_grad(num, c.gamma, (size_t)C, layernorm_loss, &c);
    snprintf(what, sizeof what, "layernorm_backward dgamma (N=%d,C=%d)", N, C);
    check_grad(be, what, d_dg, num, (size_t)C);
    numeric_grad(num, c.beta, (size_t)C, layernorm_loss, &c);
    snprintf(what, sizeof what, "layernorm_backward dbeta (N=%d,C=%d)", N, C);
    check_grad(be, what, d_db, num, (size_t)C);
    // in place (dinp = dout), no dgamma, dbeta: the same dinp
    be->upload(c.d_inp, c.inp, n * sizeof(float));
    be->layernorm_backward(d_w, NULL, NULL, d_w, c.d_inp, d_stats, c.d_gamma, N, C);
    check_same_bits(be, "layernorm_backward in place, dgamma dbeta NULL", d_w, d_dinp, n);
    void *bufs[] = {c.d_inp, c.d_gamma, c.d_beta, c.d_out, d_stats, d_w, d_dinp, d_dg, d_db};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->free(bufs[i]);
    free(c.inp); free(c.gamma); free(c.beta); free(c.w); free(num);
}

typedef struct {
    const Backend *be;
    size_t n;
    float *inp, *w;         // host (n)
    float *d_inp, *d_out;
} GeluCase;

static double gelu_loss(void *ctx) {
    GeluCase *c = ctx;
    c->be->upload(c->d_inp, c->inp, c->n * sizeof(float));
    c->be->gelu_forward(c->d_out, c->d_inp, c->n);
    float *out = to_host(c->be, c->d_out, c->n);
    const double L = weighted_sum(out, c->w, c->n);
    free(out);
    return L;
}

/* gelu_backward against central differences on [-5, 5] (0 included); in place the same bits. */
static void gelu_grad_case(const Backend *be, size_t n, uint64_t sub) {
    GeluCase c = {be, n, random_floats(n, -5, 5, sub), random_floats(n, -1, 1, sub + 1), 0, 0};
    c.inp[0] = 0.0f;
    c.d_inp = to_device(be, c.inp, n * sizeof(float));
    c.d_out = be->alloc(n * sizeof(float));
    float *d_w = to_device(be, c.w, n * sizeof(float)), *d_dinp = be->alloc(n * sizeof(float));
    be->gelu_backward(d_dinp, d_w, c.d_inp, n);
    double *num = malloc(n * sizeof(double));
    numeric_grad(num, c.inp, n, gelu_loss, &c);
    char what[96];
    snprintf(what, sizeof what, "gelu_backward (n=%zu)", n);
    check_grad(be, what, d_dinp, num, n);
    be->upload(c.d_inp, c.inp, n * sizeof(float));
    be->gelu_backward(d_w, d_w, c.d_inp, n);
    check_same_bits(be, "gelu_backward in place", d_w, d_dinp, n);
    be->free(c.d_inp); be->free(c.d_out); be->free(d_w); be->free(d_dinp);
    free(c.inp); free(c.w); free(num);
}

typedef struct {
    const Backend *be;
    int B, T, H, heads;
    float scale;
    float *q, *k, *v, *w;                   // host (B·T,H) each
    float *d_q, *d_k, *d_v, *d_ctx, *d_probs;
    uint8_t *d_mask;
} AttnCase;

static double attention_loss(void *ctx) {
    AttnCase *c = ctx;
    const Backend *be = c->be;
    const size_t n = (size_t)c->B * c->T * c->H;
    be->upload(c->d_q, c->q, n * sizeof(float));
    be->upload(c->d_k, c->k, n * sizeof(float));
    be->upload(c->d_v, c->v, n * sizeof(float));
    be->attention_forward(c->d_ctx, c->d_probs, c->d_q, c->d_k, c->d_v, c->d_mask, c->B, c->T, c->H,
                          c->heads, c->scale);
    float *out = to_host(be, c->d_ctx, n);
    const double L = weighted_sum(out, c->w, n);
    free(out);
    return L;
}

/* attention_backward's dq, dk, dv against central differences, B sequences of T with the
 * keys of mask (B·T) masked where 0: those keys' dk and dv rows are exactly 0. */
static void attention_grad_case(const Backend *be, int B, int T, int H, int heads, const uint8_t *mask,
                                uint64_t sub) {
    const size_t n = (size_t)B * T * H, np = (size_t)B * heads * T * T;
    AttnCase c = {be, B, T, H, heads, 1.0f / sqrtf((float)(H / heads)), random_floats(n, -2, 2, sub),
                  random_floats(n, -2, 2, sub + 1), random_floats(n, -1, 1, sub + 2),
                  random_floats(n, -1, 1, sub + 3), 0, 0, 0, 0, 0, 0};
    c.d_q = to_device(be, c.q, n * sizeof(float));
    c.d_k = to_device(be, c.k, n * sizeof(float));
    c.d_v = to_device(be, c.v, n * sizeof(float));
    c.d_mask = to_device(be, mask, (size_t)B * T);
    c.d_ctx = be->alloc(n * sizeof(float));
    c.d_probs = be->alloc(np * sizeof(float));
    float *d_w = to_device(be, c.w, n * sizeof(float));
    float *d_dq = be->alloc(n * sizeof(float)), *d_dk = be->alloc(n * sizeof(float)),
          *d_dv = be->alloc(n * sizeof(float));
    be->attention_forward(c.d_ctx, c.d_probs, c.d_q, c.d_k, c.d_v, c.d_mask, B, T, H, heads, c.scale);
    be->attention_backward(d_dq, d_dk, d_dv, d_w, c.d_probs, c.d_q, c.d_k, c.d_v, B, T, H, heads, c.scale);
    double *num = malloc(n * sizeof(double));
    char what[96];
    float *arrays[3] = {c.q, c.k, c.v}, *grads[3] = {d_dq, d_dk, d_dv};
    static const char *names[3] = {"dq", "dk", "dv"};
    for (int a = 0; a < 3; a++) {
        numeric_grad(num, arrays[a], n, attention_loss, &c);
        snprintf(what, sizeof what, "attention_backward %s (B=%d,T=%d,H=%d,heads=%d)", names[a], B, T, H, heads);
        check_grad(be, what, grads[a], num, n);
    }
    float *dk = to_host(be, d_dk, n), *dv = to_host(be, d_dv, n);
    size_t nonzero = 0, masked = 0;
    for (int r = 0; r < B * T; r++)
        if (!mask[r]) {
            masked++;
            for (int j = 0; j < H; j++) nonzero += dk[(size_t)r * H + j] != 0.0f || dv[(size_t)r * H + j] != 0.0f;
        }
    CHECK(masked > 0 && nonzero == 0, "attention_backward on %s: %zu nonzero dk, dv of %zu masked keys",
          be->name, nonzero, masked);
    void *bufs[] = {c.d_q, c.d_k, c.d_v, c.d_mask, c.d_ctx, c.d_probs, d_w, d_dq, d_dk, d_dv};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->free(bufs[i]);
    free(c.q); free(c.k); free(c.v); free(c.w); free(num); free(dk); free(dv);
}

static void check_encoder_backward(const Backend *be) {
    layernorm_grad_case(be, 6, 9, 1e-5f, 130);
    layernorm_grad_case(be, 1, 32, 1e-12f, 134);        // BERT's eps
    gelu_grad_case(be, 61, 140);
    // 3 sequences of 5: all keys valid; the last two masked (padding); only the first valid
    static const uint8_t mask[15] = {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 0, 0, 0, 0};
    attention_grad_case(be, 3, 5, 12, 3, mask, 150);
    static const uint8_t mask2[14] = {1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 1, 1, 1, 0};
    attention_grad_case(be, 2, 7, 8, 1, mask2, 160);   // one head; masked keys inside the row
}

// ----------------------------------------------------------------------------
// CUDA against the CPU: the same inputs through both, CUDA's output within
// ATOL + RTOL·|CPU's| everywhere. relu, dropout and cross-entropy must also give the CPU's
// bits (a select, one multiply, a subtract and a divide: no compiler can round them
// differently); for the rest it says whether the bits matched (backend_cuda.cu: adam and the
// sparse matmuls do when the CPU is compiled without FP contraction, as GCC does in C11 mode).

static int pair_quiet;      // comparing the CPU with itself (no GPU): no report lines

static void pair_compare(const char *what, const float *cuda, const float *cpu, size_t n,
                         int must_be_bitwise) {
    double *want = calloc(n ? n : 1, sizeof(double));
    for (size_t i = 0; i < n; i++) want[i] = cpu[i];
    check_array(what, cuda, want, n);
    int same = memcmp(cuda, cpu, n * sizeof(float)) == 0;
    if (must_be_bitwise) CHECK(same, "%s: CUDA's bits differ from the CPU's", what);
    if (!pair_quiet) printf("  pair  %-52s %s\n", what, same ? "bitwise equal" : "within tolerance");
    free(want);
}

static void pair_matmul(const Backend *be2[2], int N, int C, int OC) {
    float *inp = random_floats((size_t)N * C, 0, 1, 80), *w = random_floats((size_t)OC * C, -0.1, 0.1, 81);
    float *b = random_floats((size_t)OC, -1, 1, 82), *dout = random_floats((size_t)N * OC, -1, 1, 83);
    float *out[2], *dinp[2], *dw[2], *db[2];
    for (int k = 0; k < 2; k++) {
        const Backend *be = be2[k];
        float *d_inp = to_device(be, inp, (size_t)N * C * sizeof(float));
        float *d_w = to_device(be, w, (size_t)OC * C * sizeof(float));
        float *d_b = to_device(be, b, (size_t)OC * sizeof(float));
        float *d_dout = to_device(be, dout, (size_t)N * OC * sizeof(float));
        float *d_out = be->alloc((size_t)N * OC * sizeof(float));
        float *d_dinp = be->alloc((size_t)N * C * sizeof(float));
        float *d_dw = be->alloc((size_t)OC * C * sizeof(float));
        float *d_db = be->alloc((size_t)OC * sizeof(float));
        be->matmul_forward(d_out, d_inp, d_w, d_b, N, C, OC);
        be->matmul_backward(d_dinp, d_dw, d_db, d_dout, d_inp, d_w, N, C, OC);
        out[k] = to_host(be, d_out, (size_t)N * OC);
        dinp[k] = to_host(be, d_dinp, (size_t)N * C);
        dw[k] = to_host(be, d_dw, (size_t)OC * C);
        db[k] = to_host(be, d_db, (size_t)OC);
        float *bufs[] = {d_inp, d_w, d_b, d_dout, d_out, d_dinp, d_dw, d_db};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->free(bufs[i]);
    }
    char what[96];
    snprintf(what, sizeof what, "matmul_forward (N=%d,C=%d,OC=%d)", N, C, OC);
    pair_compare(what, out[1], out[0], (size_t)N * OC, 0);
    snprintf(what, sizeof what, "matmul_backward dinp (N=%d,C=%d,OC=%d)", N, C, OC);
    pair_compare(what, dinp[1], dinp[0], (size_t)N * C, 0);
    snprintf(what, sizeof what, "matmul_backward dweight (N=%d,C=%d,OC=%d)", N, C, OC);
    pair_compare(what, dw[1], dw[0], (size_t)OC * C, 0);
    snprintf(what, sizeof what, "matmul_backward dbias (N=%d,C=%d,OC=%d)", N, C, OC);
    pair_compare(what, db[1], db[0], (size_t)OC, 0);
    for (int k = 0; k < 2; k++) { free(out[k]); free(dinp[k]); free(dw[k]); free(db[k]); }
    free(inp); free(w); free(b); free(dout);
}

static void pair_sparse_matmul(const Backend *be2[2], int N, int C, int OC, double density) {
    int64_t *indptr = malloc(((size_t)N + 1) * sizeof(int64_t));
    int32_t *idx;
    float *val;
    int64_t nnz = random_csr(indptr, &idx, &val, N, C, density, 1.0, 84);
    float *wt = random_floats((size_t)C * OC, -1, 1, 85), *b = random_floats((size_t)OC, -1, 1, 86);
    float *dout = random_floats((size_t)N * OC, -1, 1, 87);
    float *out[2], *dw[2], *db[2];
    for (int k = 0; k < 2; k++) {
        const Backend *be = be2[k];
        int64_t *d_indptr = to_device(be, indptr, ((size_t)N + 1) * sizeof(int64_t));
        int32_t *d_idx = to_device(be, idx, ((size_t)nnz + 1) * sizeof(int32_t));
        float *d_val = to_device(be, val, ((size_t)nnz + 1) * sizeof(float));
        float *d_wt = to_device(be, wt, (size_t)C * OC * sizeof(float));
        float *d_b = to_device(be, b, (size_t)OC * sizeof(float));
        float *d_dout = to_device(be, dout, (size_t)N * OC * sizeof(float));
        float *d_out = be->alloc((size_t)N * OC * sizeof(float));
        float *d_dw = be->alloc((size_t)C * OC * sizeof(float));
        float *d_db = be->alloc((size_t)OC * sizeof(float));
        be->sparse_matmul_forward(d_out, d_indptr, d_idx, d_val, d_wt, d_b, N, C, OC);
        be->sparse_matmul_backward(d_dw, d_db, d_dout, d_indptr, d_idx, d_val, N, C, OC);
        out[k] = to_host(be, d_out, (size_t)N * OC);
        dw[k] = to_host(be, d_dw, (size_t)C * OC);
        db[k] = to_host(be, d_db, (size_t)OC);
        void *bufs[] = {d_indptr, d_idx, d_val, d_wt, d_b, d_dout, d_out, d_dw, d_db};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->free(bufs[i]);
    }
    char what[96];
    snprintf(what, sizeof what, "sparse_matmul_forward (N=%d,C=%d,OC=%d)", N, C, OC);
    pair_compare(what, out[1], out[0], (size_t)N * OC, 0);
    snprintf(what, sizeof what, "sparse_matmul_backward dweight_t (N=%d,C=%d,OC=%d)", N, C, OC);
    pair_compare(what, dw[1], dw[0], (size_t)C * OC, 0);
    snprintf(what, sizeof what, "sparse_matmul_backward dbias (N=%d,C=%d,OC=%d)", N, C, OC);
    pair_compare(what, db[1], db[0], (size_t)OC, 0);
    for (int k = 0; k < 2; k++) { free(out[k]); free(dw[k]); free(db[k]); }
    free(indptr); free(idx); free(val); free(wt); free(b); free(dout);
}

/* relu forward and backward, dropout forward (in place and not) and backward, softmax,
 * cross-entropy, 3 AdamW steps: n elements or (N,C) shapes, on both backends. */
static void pair_elementwise(const Backend *be2[2], int N, int C, float p) {
    const size_t n = (size_t)N * C;
    float *x = random_floats(n, -1, 1, 90), *g = random_floats(n, -1, 1, 91);
    float *z = random_floats(n, -10, 10, 92), *pr = random_floats(n, 0, 1, 94);
    int32_t *targets = malloc((size_t)N * sizeof(int32_t));
    Rng r = rng_stream(42, RNG_DATA, 93);
    for (int i = 0; i < N; i++) targets[i] = (int32_t)rng_below(&r, (uint32_t)C);
    enum { RELU, RELU_B, DROP, DROP_IN, DROP_B, SOFTMAX, XENT, PARAM, M, V, OUTS };
    float *res[2][OUTS];
    for (int k = 0; k < 2; k++) {
        const Backend *be = be2[k];
        float *d_x = to_device(be, x, n * sizeof(float)), *d_g = to_device(be, g, n * sizeof(float));
        float *d_z = to_device(be, z, n * sizeof(float)), *d_y = be->alloc(n * sizeof(float));
        int32_t *d_t = to_device(be, targets, (size_t)N * sizeof(int32_t));
        be->relu_forward(d_y, d_x, n);
        res[k][RELU] = to_host(be, d_y, n);
        be->relu_backward(d_y, d_g, d_y, n);
        res[k][RELU_B] = to_host(be, d_y, n);
        be->dropout_forward(d_y, d_x, N, C, p, 0xC0FFEEull, 777);
        res[k][DROP] = to_host(be, d_y, n);
        be->upload(d_y, x, n * sizeof(float));
        be->dropout_forward(d_y, d_y, N, C, p, 0xC0FFEEull, 777);
        res[k][DROP_IN] = to_host(be, d_y, n);
        be->dropout_backward(d_y, d_g, N, C, p, 0xC0FFEEull, 777);
        res[k][DROP_B] = to_host(be, d_y, n);
        be->softmax_forward(d_y, d_z, N, C);
        res[k][SOFTMAX] = to_host(be, d_y, n);
        be->upload(d_y, pr, n * sizeof(float));    // the same probabilities on both sides
        be->crossentropy_backward(d_z, d_y, d_t, N, C);
        res[k][XENT] = to_host(be, d_z, n);
        float *d_m = be->alloc(n * sizeof(float)), *d_v = be->alloc(n * sizeof(float));
        be->zero(d_m, n * sizeof(float));
        be->zero(d_v, n * sizeof(float));
        for (int t = 1; t <= 3; t++)    // gradients: g, the dropped-out g, the cross-entropy
            be->adam_update(d_x, t == 1 ? d_g : t == 2 ? d_y : d_z, d_m, d_v, n, 1e-3f, 0.9f,
                            0.999f, 1e-8f, 1e-4f, t);
        res[k][PARAM] = to_host(be, d_x, n);
        res[k][M] = to_host(be, d_m, n);
        res[k][V] = to_host(be, d_v, n);
        void *bufs[] = {d_x, d_g, d_z, d_y, d_t, d_m, d_v};
        for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) be->free(bufs[i]);
    }
    static const char *names[OUTS] = {"relu_forward", "relu_backward", "dropout_forward",
        "dropout_forward in place", "dropout_backward", "softmax_forward",
        "crossentropy_backward", "adam_update param (3 steps)", "adam_update m", "adam_update v"};
    static const int bitwise[OUTS] = {1, 1, 1, 1, 1, 0, 1, 0, 0, 0};
    for (int o = 0; o < OUTS; o++) {
        char what[96];
        snprintf(what, sizeof what, "%s (N=%d,C=%d%s)", names[o], N, C,
                 o >= DROP && o <= DROP_B ? (p == 0.5f ? ",p=0.5" : ",p=0.3") : "");
        pair_compare(what, res[1][o], res[0][o], n, bitwise[o]);
        free(res[0][o]);
        free(res[1][o]);
    }
    free(x); free(g); free(z); free(pr); free(targets);
}

/* axpy on both backends: the same bits (a multiply and an add). */
static void pair_axpy(const Backend *be2[2], size_t n) {
    float *y = random_floats(n, -1, 1, 95), *x = random_floats(n, -1, 1, 96), *res[2];
    for (int k = 0; k < 2; k++) {
        const Backend *be = be2[k];
        float *d_y = to_device(be, y, n * sizeof(float)), *d_x = to_device(be, x, n * sizeof(float));
        be->axpy(d_y, d_x, 2.0f * 3.5f / 37.0f, n);    // 2λ with λ = c / n_labeled
        res[k] = to_host(be, d_y, n);
        be->free(d_y); be->free(d_x);
    }
    char what[96];
    snprintf(what, sizeof what, "axpy (n=%zu)", n);
    pair_compare(what, res[1], res[0], n, 1);
    free(res[0]); free(res[1]); free(y); free(x);
}

/* Every op, CUDA against the CPU; returns the number of failed checks. */
static int check_pair(const Backend *cpu, const Backend *cuda) {
    int before = check_failed;
    const Backend *be2[2] = {cpu, cuda};
    pair_matmul(be2, 64, 784, 512);        // a training step's first layer
    pair_matmul(be2, 33, 70, 17);
    pair_sparse_matmul(be2, 64, 2000, 33, 0.01);
    pair_elementwise(be2, 64, 512, 0.5f);
    pair_elementwise(be2, 37, 10, 0.3f);    // C not a multiple of 4: no float4 dropout
    pair_axpy(be2, (size_t)784 * 512 + 3);
    return check_failed - before;
}

typedef struct {
    const char *name;
    void (*check)(const Backend *be);
} OpCheck;

static const OpCheck op_checks[] = {
    {"alloc/upload/download/zero/free", check_memory},
    {"matmul_forward, matmul_backward", check_matmul},
    {"relu_forward, relu_backward", check_relu},
    {"dropout_forward, dropout_backward", check_dropout},
    {"softmax_forward", check_softmax},
    {"crossentropy_backward", check_crossentropy},
    {"adam_update", check_adam},
    {"axpy", check_axpy},
    {"sparse_matmul_forward, _backward", check_sparse_matmul},
    {"score_rows (optional)", check_score_rows},
    {"mc_head_forward (optional)", check_mc_head},
    {"layernorm, gelu, attention _backward", check_encoder_backward},
};

/* Runs every op check on be; returns the number of failed checks. */
static int check_backend(const Backend *be) {
    int failed_before = check_failed;
    for (size_t i = 0; i < sizeof op_checks / sizeof op_checks[0]; i++) {
        int before = check_failed;
        op_checks[i].check(be);
        printf("  %-5s %-36s %s\n", be->name, op_checks[i].name,
               check_failed == before ? "ok" : "FAILED");
    }
    return check_failed - failed_before;
}

static void check_backend_get(void) {
    char err[256];
    CHECK(backend_get("cpu", err, sizeof err) == &backend_cpu, "cpu");
    CHECK(err[0] == '\0', "err set on success: %s", err);
    CHECK(backend_get("auto", err, sizeof err) != NULL, "auto gave NULL: %s", err);
    CHECK(backend_get("tpu", err, sizeof err) == NULL, "tpu accepted");
    CHECK(strstr(err, "cpu") && strstr(err, "cuda") && strstr(err, "auto"),
          "unknown-name message does not list the choices: %s", err);
    const Backend *cuda = backend_get("cuda", err, sizeof err);
    CHECK(cuda ? strcmp(cuda->name, "cuda") == 0 : err[0] != '\0', "cuda: no backend, no reason");
    CHECK(backend_get("nope", NULL, 0) == NULL, "NULL err");
}

int main(void) {
    check_backend_get();
    check_backend(&backend_cpu);
    char err[256];
    const Backend *cuda = backend_get("cuda", err, sizeof err);
    if (cuda) {
        printf("  cuda  device: %s\n", cuda->device ? cuda->device : "?");
        check_backend(cuda);
        check_pair(&backend_cpu, cuda);
    } else {
        printf("  cuda  skipped: %s\n", err);
        // the GPU checks' own code still runs: CPU against itself, score_rows on a stand-in
        Backend host = backend_cpu;
        host.name = "host";
        host.score_rows = host_score_rows;
        int before = check_failed;
        pair_quiet = 1;
        check_pair(&backend_cpu, &backend_cpu);
        check_score_rows(&host);
        printf("  (no GPU: the CPU-vs-CUDA comparison run CPU vs CPU, score_rows checks on a host "
               "stand-in: %s)\n", check_failed == before ? "ok" : "FAILED");
    }
    return check_done("test_backend");
}
