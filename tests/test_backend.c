/* test_backend — every Backend op against a naive double-precision reference on random inputs.
 *
 * check_backend(be) runs the table of op checks on any backend, moving data only through
 * be->alloc/upload/download, so the same checks run on the CPU reference and on CUDA when a
 * GPU is usable (skipped, and said so, when not). Tolerance for fp32 results:
 * |got - want| <= 1e-5 + 1e-4·|want|. Dropout masks and ReLU are checked exactly.
 */
#include "sim/backend.h"
#include "sim/rng.h"
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
            keep[(size_t)i * C + j] = rng_dropout_keep(key, (uint64_t)(row0 + i), (uint32_t)j,
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

static void check_dropout(const Backend *be) {
    const float ps[] = {0.0f, 0.1f, 0.5f};
    for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
        dropout_case(be, 64, 512, ps[i], 0x1234567887654321ull, 0);
        dropout_case(be, 37, 13, ps[i], 99, 1000003);        // C not a multiple of 4
        dropout_case(be, 5, 3, ps[i], 7, (int64_t)1 << 40);  // C < 4, large row ids
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
    if (cuda) check_backend(cuda);
    else printf("  cuda  skipped: %s\n", err);
    return check_done("test_backend");
}
