/* test_cnn — the convolutional model's ops and the model (sim/cnn.h), on the CPU:
 *   1. conv2d_forward against a direct convolution in double, for several row groups G;
 *      conv2d_backward (input, weight and bias gradients) by central differences of a scalar
 *      loss L = Σ out·R, and against the direct adjoint in double;
 *   2. maxpool_forward against a direct max, maxpool_backward by central differences.
 * (The CPU-vs-CUDA comparison of these ops is in test_cuda.c.)
 *
 * Central differences in float: the ops are linear in each input, so a step of 1e-2 loses
 * nothing to curvature and the error is the loss's float rounding over 2h; tolerance
 * |numeric - analytic| <= 1e-3 + 1e-3·|analytic|. Each check prints its worst
 * error/tolerance.
 */
#include "sim/backend.h"
#include "sim/rng.h"
#include "tests/check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const Backend *be = &backend_cpu;

/* n uniform floats in [lo, hi) from stream `sub` of RNG_DATA. */
static float *random_floats(size_t n, double lo, double hi, uint64_t sub) {
    float *a = malloc((n ? n : 1) * sizeof(float));
    Rng r = rng_stream(42, RNG_DATA, sub);
    for (size_t i = 0; i < n; i++) a[i] = (float)(lo + (hi - lo) * rng_uniform(&r));
    return a;
}

/* |got - want| <= atol + rtol·|want| elementwise; one CHECK, the worst error/tolerance shown. */
static void check_close(const char *what, const float *got, const double *want, size_t n,
                        double atol, double rtol) {
    size_t bad = 0;
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (atol + rtol * fabs(want[i]));
        if (!(e <= 1.0) && bad++ < 3) fprintf(stderr, "  %s[%zu] = %.9g, want %.9g\n", what, i, got[i], want[i]);
        if (e > worst || e != e) worst = e;
    }
    printf("  %-62s worst error/tolerance %.3f\n", what, worst);
    CHECK(bad == 0, "%s: %zu of %zu out of tolerance", what, bad, n);
}

// ----------------------------------------------------------------------------
// 1. convolution

typedef struct { int N, C, H, W, OC, k; } ConvShape;

/* out (N,OC,OH,OW) by the definition, in double. */
static void conv_direct(double *out, const float *inp, const float *w, const float *b, ConvShape s) {
    const int OH = s.H - s.k + 1, OW = s.W - s.k + 1;
    for (int n = 0; n < s.N; n++)
        for (int o = 0; o < s.OC; o++)
            for (int y = 0; y < OH; y++)
                for (int x = 0; x < OW; x++) {
                    double acc = b ? b[o] : 0.0;
                    for (int c = 0; c < s.C; c++)
                        for (int i = 0; i < s.k; i++)
                            for (int j = 0; j < s.k; j++)
                                acc += (double)w[((o * s.C + c) * s.k + i) * s.k + j] *
                                       inp[(((size_t)n * s.C + c) * s.H + y + i) * s.W + x + j];
                    out[(((size_t)n * s.OC + o) * OH + y) * OW + x] = acc;
                }
}

/* L = Σ conv2d_forward(inp, w, b) · R, in double, with rows grouped by G. */
static double conv_loss(const float *inp, const float *w, const float *b, const float *R, ConvShape s,
                        int G, float *out, float *work) {
    be->conv2d_forward(out, work, inp, w, b, s.N, s.C, s.H, s.W, s.OC, s.k, G);
    const size_t n = (size_t)s.N * s.OC * (s.H - s.k + 1) * (s.W - s.k + 1);
    double L = 0.0;
    for (size_t i = 0; i < n; i++) L += (double)out[i] * R[i];
    return L;
}

/* Central differences of conv_loss in each entry of x (n floats, one of inp, w, b). */
static void numeric_grad(double *num, float *x, size_t n, const float *inp, const float *w,
                         const float *b, const float *R, ConvShape s, int G, float *out, float *work) {
    const float h = 1e-2f;
    for (size_t i = 0; i < n; i++) {
        const float orig = x[i];
        x[i] = orig + h;
        const double lp = conv_loss(inp, w, b, R, s, G, out, work);
        const float plus = x[i];
        x[i] = orig - h;
        const double lm = conv_loss(inp, w, b, R, s, G, out, work);
        const float minus = x[i];
        x[i] = orig;
        num[i] = (lp - lm) / ((double)plus - (double)minus);
    }
}

static void conv_case(ConvShape s, int G) {
    const int OH = s.H - s.k + 1, OW = s.W - s.k + 1;
    const size_t n_in = (size_t)s.N * s.C * s.H * s.W, n_w = (size_t)s.OC * s.C * s.k * s.k;
    const size_t n_out = (size_t)s.N * s.OC * OH * OW;
    float *inp = random_floats(n_in, -1, 1, 1), *w = random_floats(n_w, -0.5, 0.5, 2);
    float *b = random_floats((size_t)s.OC, -1, 1, 3), *R = random_floats(n_out, -1, 1, 4);
    float *out = malloc(n_out * sizeof(float)), *out2 = malloc(n_out * sizeof(float));
    float *work = malloc(conv2d_work_floats(G, s.C, s.H, s.W, s.OC, s.k) * sizeof(float));
    double *want = malloc((n_out > n_in ? n_out : n_in) * sizeof(double));
    char what[128];

    // forward: the definition; and the same G again gives the same bits
    conv_direct(want, inp, w, b, s);
    be->conv2d_forward(out, work, inp, w, b, s.N, s.C, s.H, s.W, s.OC, s.k, G);
    snprintf(what, sizeof what, "conv2d_forward N%d C%d %dx%d OC%d k%d G%d", s.N, s.C, s.H, s.W, s.OC, s.k, G);
    check_close(what, out, want, n_out, 1e-5, 1e-4);
    be->conv2d_forward(out2, work, inp, w, b, s.N, s.C, s.H, s.W, s.OC, s.k, G);
    CHECK(memcmp(out, out2, n_out * sizeof(float)) == 0, "%s: not repeatable", what);
    conv_direct(want, inp, w, NULL, s);
    be->conv2d_forward(out, work, inp, w, NULL, s.N, s.C, s.H, s.W, s.OC, s.k, G);
    snprintf(what, sizeof what, "conv2d_forward, no bias, G%d", G);
    check_close(what, out, want, n_out, 1e-5, 1e-4);

    // backward with dout = R: the gradients of L = Σ out·R
    float *dinp = malloc(n_in * sizeof(float)), *dw = malloc(n_w * sizeof(float));
    float *db = malloc((size_t)s.OC * sizeof(float));
    be->conv2d_backward(dinp, dw, db, work, R, inp, w, s.N, s.C, s.H, s.W, s.OC, s.k, G);
    double *num = malloc((n_in > n_w ? n_in : n_w) * sizeof(double));
    numeric_grad(num, inp, n_in, inp, w, b, R, s, G, out, work);
    snprintf(what, sizeof what, "conv2d_backward dinp by central differences, G%d", G);
    check_close(what, dinp, num, n_in, 1e-3, 1e-3);
    numeric_grad(num, w, n_w, inp, w, b, R, s, G, out, work);
    snprintf(what, sizeof what, "conv2d_backward dweight by central differences, G%d", G);
    check_close(what, dw, num, n_w, 1e-3, 1e-3);
    numeric_grad(num, b, (size_t)s.OC, inp, w, b, R, s, G, out, work);
    snprintf(what, sizeof what, "conv2d_backward dbias by central differences, G%d", G);
    check_close(what, db, num, (size_t)s.OC, 1e-3, 1e-3);

    // and exactly, in double: dinp[n,c,y+i,x+j] += w[o,c,i,j]·R[n,o,y,x], dw[o,c,i,j] +=
    // inp[n,c,y+i,x+j]·R[n,o,y,x], db[o] += R[n,o,y,x]
    double *wdinp = calloc(n_in, sizeof(double)), *wdw = calloc(n_w, sizeof(double));
    double *wdb = calloc((size_t)s.OC, sizeof(double));
    for (int n = 0; n < s.N; n++)
        for (int o = 0; o < s.OC; o++)
            for (int y = 0; y < OH; y++)
                for (int x = 0; x < OW; x++) {
                    const double r = R[(((size_t)n * s.OC + o) * OH + y) * OW + x];
                    wdb[o] += r;
                    for (int c = 0; c < s.C; c++)
                        for (int i = 0; i < s.k; i++)
                            for (int j = 0; j < s.k; j++) {
                                const size_t wi = ((size_t)(o * s.C + c) * s.k + i) * s.k + j;
                                const size_t ii = (((size_t)n * s.C + c) * s.H + y + i) * s.W + x + j;
                                wdinp[ii] += w[wi] * r;
                                wdw[wi] += inp[ii] * r;
                            }
                }
    snprintf(what, sizeof what, "conv2d_backward dinp vs double, G%d", G);
    check_close(what, dinp, wdinp, n_in, 1e-5, 1e-4);
    snprintf(what, sizeof what, "conv2d_backward dweight vs double, G%d", G);
    check_close(what, dw, wdw, n_w, 1e-5, 1e-4);
    snprintf(what, sizeof what, "conv2d_backward dbias vs double, G%d", G);
    check_close(what, db, wdb, (size_t)s.OC, 1e-5, 1e-4);

    // no input gradient asked: the same weight and bias gradients
    float *dw2 = malloc(n_w * sizeof(float)), *db2 = malloc((size_t)s.OC * sizeof(float));
    be->conv2d_backward(NULL, dw2, db2, work, R, inp, w, s.N, s.C, s.H, s.W, s.OC, s.k, G);
    CHECK(!memcmp(dw, dw2, n_w * sizeof(float)) && !memcmp(db, db2, (size_t)s.OC * sizeof(float)),
          "conv2d_backward without dinp: other weight or bias gradients");
    // no rows: zero gradients
    be->conv2d_backward(NULL, dw2, db2, work, R, inp, w, 0, s.C, s.H, s.W, s.OC, s.k, G);
    int zeros = 1;
    for (size_t i = 0; i < n_w; i++) zeros &= dw2[i] == 0.0f;
    for (int o = 0; o < s.OC; o++) zeros &= db2[o] == 0.0f;
    CHECK(zeros, "conv2d_backward with N = 0: nonzero gradients");

    free(inp); free(w); free(b); free(R); free(out); free(out2); free(work); free(want);
    free(dinp); free(dw); free(db); free(num); free(wdinp); free(wdw); free(wdb); free(dw2); free(db2);
}

static void test_conv(void) {
    const ConvShape s = {3, 2, 7, 6, 3, 3};
    conv_case(s, 2);        // groups of 2 and 1
    conv_case(s, 3);        // one group
    conv_case(s, 1);
    conv_case((ConvShape){2, 1, 5, 5, 4, 5}, 2);    // a kernel as large as the image: 1x1 outputs
    conv_case((ConvShape){2, 3, 4, 6, 2, 1}, 1);    // 1x1 kernels
}

// ----------------------------------------------------------------------------
// 2. max-pooling

static void pool_case(int N, int C, int H, int W, int s) {
    const int PH = H / s, PW = W / s;
    const size_t n_in = (size_t)N * C * H * W, n_out = (size_t)N * C * PH * PW;
    // distinct values 0.1 apart in a shuffled order: no ties, no switch within a step of 1e-2
    int *perm = malloc(n_in * sizeof(int));
    for (size_t i = 0; i < n_in; i++) perm[i] = (int)i;
    Rng r = rng_stream(42, RNG_DATA, 9);
    rng_shuffle(&r, perm, (int)n_in);
    float *inp = malloc(n_in * sizeof(float));
    for (size_t i = 0; i < n_in; i++) inp[i] = 0.1f * (float)perm[i] - 3.0f;
    float *out = malloc(n_out * sizeof(float)), *R = random_floats(n_out, -1, 1, 10);
    int32_t *am = malloc(n_out * sizeof(int32_t));
    double *want = malloc(n_in * sizeof(double));
    be->maxpool_forward(out, am, inp, N, C, H, W, s);
    int ok = 1;
    for (size_t plane = 0; plane < (size_t)N * C; plane++)
        for (int py = 0; py < PH; py++)
            for (int px = 0; px < PW; px++) {
                double m = -INFINITY;
                int at = -1;
                for (int i = 0; i < s; i++)
                    for (int j = 0; j < s; j++) {
                        const int q = (py * s + i) * W + px * s + j;
                        if (inp[plane * H * W + q] > m) { m = inp[plane * H * W + q]; at = q; }
                    }
                const size_t o = (plane * PH + py) * PW + px;
                ok &= out[o] == (float)m && am[o] == at;
            }
    CHECK(ok, "maxpool_forward N%d C%d %dx%d s%d: not each window's max and its pixel", N, C, H, W, s);

    // backward with dout = R, against central differences of L = Σ out·R
    float *dinp = malloc(n_in * sizeof(float));
    be->maxpool_backward(dinp, R, am, N, C, H, W, s);
    const float h = 1e-2f;
    for (size_t i = 0; i < n_in; i++) {
        double L[2];
        const float orig = inp[i];
        float at[2];
        for (int side = 0; side < 2; side++) {
            inp[i] = at[side] = side ? orig - h : orig + h;
            be->maxpool_forward(out, am, inp, N, C, H, W, s);
            L[side] = 0.0;
            for (size_t q = 0; q < n_out; q++) L[side] += (double)out[q] * R[q];
        }
        inp[i] = orig;
        want[i] = (L[0] - L[1]) / ((double)at[0] - (double)at[1]);
    }
    char what[96];
    snprintf(what, sizeof what, "maxpool_backward N%d C%d %dx%d s%d by central differences", N, C, H, W, s);
    check_close(what, dinp, want, n_in, 1e-3, 1e-3);

    // ties go to the first pixel in row-major order
    float flat[4] = {1, 1, 1, 1}, one;
    int32_t first;
    be->maxpool_forward(&one, &first, flat, 1, 1, 2, 2, 2);
    CHECK(first == 0 && one == 1.0f, "maxpool tie: argmax %d", first);
    free(perm); free(inp); free(out); free(R); free(am); free(want); free(dinp);
}

static void test_pool(void) {
    pool_case(2, 3, 6, 8, 2);
    pool_case(2, 2, 5, 7, 2);       // a row and a column past the last whole window
    pool_case(1, 2, 9, 9, 3);
    pool_case(2, 1, 4, 4, 1);       // s = 1: the identity
}

int main(void) {
    test_conv();
    test_pool();
    return check_done("test_cnn");
}
