/* test_cnn — the convolutional model's ops and the model (sim/cnn.h), on the CPU:
 *   1. conv2d_forward against a direct convolution in double, for several row groups G;
 *      conv2d_backward (input, weight and bias gradients) by central differences of a scalar
 *      loss L = Σ out·R, and against the direct adjoint in double; on both CPU paths (the
 *      AVX-512 direct kernels where compiled in, and im2col + sgemm);
 *   2. maxpool_forward against a direct max, maxpool_backward by central differences;
 *   3. the whole CNN's loss gradient by central differences on a tiny net (1x8x8 images, 3
 *      filters of 3x3, pooling 2, dense 5, 3 classes), with both dropouts on;
 *   4. MC dropout with the trunk computed once per chunk equals the whole net run T times
 *      with the same masks (bit for bit within a chunk), across chunks too;
 *   5. determinism (same seed, same bits), learning a toy image task, the save/restore round
 *      trip of a warm start, the FLOP formula, and --model cnn's refusals.
 * (The CPU-vs-CUDA comparison of the ops is in test_cuda.c.)
 *
 * Central differences in float: the ops are linear in each input, so a step of 1e-2 loses
 * nothing to curvature and the error is the loss's float rounding over 2h; tolerance
 * |numeric - analytic| <= 1e-3 + 1e-3·|analytic|. The whole net is not linear (ReLU, the
 * pooling's switches, the softmax): step 3e-3 and tolerance 1e-4 + 1e-2·|analytic|, as the
 * MLP's check (test_learner.c). Each check prints its worst error/tolerance.
 */
#include "sim/backend.h"
#include "sim/cnn.h"
#include "sim/conv_direct.h"
#include "sim/model.h"
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

static int direct_mode;     /* the CPU backend's convolution kernels (conv_direct.h) under test */

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

static void conv_case(ConvShape s, int G, int sparse) {
    const int OH = s.H - s.k + 1, OW = s.W - s.k + 1;
    const size_t n_in = (size_t)s.N * s.C * s.H * s.W, n_w = (size_t)s.OC * s.C * s.k * s.k;
    const size_t n_out = (size_t)s.N * s.OC * OH * OW;
    float *inp = random_floats(n_in, -1, 1, 1), *w = random_floats(n_w, -0.5, 0.5, 2);
    float *b = random_floats((size_t)s.OC, -1, 1, 3), *R = random_floats(n_out, -1, 1, 4);
    if (sparse) {   // a quarter of the output gradient nonzero, as a ReLU and a 2x2 pooling leave
        Rng r = rng_stream(42, RNG_DATA, 5);
        for (size_t i = 0; i < n_out; i++)
            if (rng_uniform(&r) >= 0.25) R[i] = 0.0f;
    }
    const long sparse_runs = conv_direct_sparse_runs();
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
    if (sparse && direct_mode == CONV_SPARSE)
        CHECK(conv_direct_sparse_runs() > sparse_runs, "conv2d_backward C%d k%d: the sparse kernels did not run", s.C, s.k);

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

    // no input gradient asked (a first layer): the same weight and bias gradients, exactly as
    // the definition in double (the direct kernels have a path of their own for C·k·k <= 16)
    float *dw2 = malloc(n_w * sizeof(float)), *db2 = malloc((size_t)s.OC * sizeof(float));
    be->conv2d_backward(NULL, dw2, db2, work, R, inp, w, s.N, s.C, s.H, s.W, s.OC, s.k, G);
    snprintf(what, sizeof what, "conv2d_backward without dinp: dweight vs double, G%d", G);
    check_close(what, dw2, wdw, n_w, 1e-5, 1e-4);
    snprintf(what, sizeof what, "conv2d_backward without dinp: dbias vs double, G%d", G);
    check_close(what, db2, wdb, (size_t)s.OC, 1e-5, 1e-4);
    be->conv2d_backward(NULL, dw, db, work, R, inp, w, s.N, s.C, s.H, s.W, s.OC, s.k, G);
    CHECK(!memcmp(dw, dw2, n_w * sizeof(float)) && !memcmp(db, db2, (size_t)s.OC * sizeof(float)),
          "conv2d_backward without dinp: not repeatable");
    // no rows: zero gradients
    be->conv2d_backward(NULL, dw2, db2, work, R, inp, w, 0, s.C, s.H, s.W, s.OC, s.k, G);
    int zeros = 1;
    for (size_t i = 0; i < n_w; i++) zeros &= dw2[i] == 0.0f;
    for (int o = 0; o < s.OC; o++) zeros &= db2[o] == 0.0f;
    CHECK(zeros, "conv2d_backward with N = 0: nonzero gradients");

    free(inp); free(w); free(b); free(R); free(out); free(out2); free(work); free(want);
    free(dinp); free(dw); free(db); free(num); free(wdinp); free(wdw); free(wdb); free(dw2); free(db2);
}

/* Each case on both of the CPU backend's paths: the direct kernels (sim/conv_direct.h) where
 * they are compiled in, and im2col + OpenBLAS. */
static void test_conv(void) {
    static const char *const path[] = {"im2col + sgemm", "direct kernels, dense backward",
                                       "direct kernels, sparse backward where it applies"};
    for (direct_mode = conv_direct_compiled() ? CONV_SPARSE : CONV_IM2COL; direct_mode >= CONV_IM2COL; direct_mode--) {
        conv_direct_mode(direct_mode);
        printf("  (%s)\n", path[direct_mode]);
        const ConvShape s = {3, 2, 7, 6, 3, 3};
        conv_case(s, 2, 0);        // groups of 2 and 1
        conv_case(s, 3, 0);        // one group
        conv_case(s, 1, 0);
        conv_case((ConvShape){2, 1, 5, 5, 4, 5}, 2, 0);    // a kernel as large as the image: 1x1 outputs
        conv_case((ConvShape){2, 3, 4, 6, 2, 1}, 1, 0);    // 1x1 kernels
        // several tiles of 96 positions, channel blocks of 4 with a partial one, and (direct)
        // more images than one weight-gradient group of 8
        conv_case((ConvShape){10, 5, 13, 11, 6, 4}, 10, 0);
        conv_case((ConvShape){10, 5, 13, 11, 6, 4}, 3, 0);
        // first layers (C·k·k <= 16 taps): the CNN's 1 channel of 4x4 with more images than the
        // work of G holds at once, and 2 channels of 2x2 with output channels not a multiple of 8
        conv_case((ConvShape){5, 1, 9, 8, 5, 4}, 2, 0);
        conv_case((ConvShape){3, 2, 6, 5, 11, 2}, 3, 0);
        // a sparse output gradient where the sparse kernels apply (k·C a multiple of 128): the
        // CNN's second convolution's shape (4 pieces, one a patch row), two pieces a row, an
        // odd number of pieces (the last one alone), more images than the work buffer holds; and dense there (they must not apply)
        conv_case((ConvShape){3, 32, 9, 8, 5, 4}, 3, 1);
        conv_case((ConvShape){2, 64, 6, 7, 2, 4}, 2, 1);
        conv_case((ConvShape){2, 128, 5, 4, 3, 3}, 2, 1);
        conv_case((ConvShape){4, 32, 9, 8, 5, 4}, 1, 1);      // chunks of 3 and 1 images (the work of G = 1)
        conv_case((ConvShape){2, 32, 9, 8, 5, 4}, 2, 0);
    }
    conv_direct_mode(CONV_SPARSE);
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
    // the same on a row of 18 windows (the vector path, where there is one): ties to the first
    // largest, a NaN never wins unless it comes first
    float rows[2 * 36];
    int32_t am18[18];
    float out18[18];
    for (int i = 0; i < 72; i++) rows[i] = 1.0f;
    rows[2 * 1 + 1] = 2.0f; rows[36 + 2 * 1] = 2.0f;            // window 1: the first 2 is (0, 1)
    rows[2 * 2] = NAN; rows[2 * 2 + 1] = 5.0f;                  // window 2: NaN first, stays
    rows[2 * 3] = 0.5f; rows[36 + 2 * 3 + 1] = NAN;             // window 3: 1 at (0, 1)
    rows[36 + 2 * 17 + 1] = 3.0f;                               // window 17 (the partial vector): (1, 1)
    be->maxpool_forward(out18, am18, rows, 1, 1, 2, 36, 2);
    CHECK(am18[0] == 0 && am18[1] == 3 && am18[2] == 4 && isnan(out18[2]) && am18[3] == 7 && out18[3] == 1.0f &&
          am18[17] == 36 + 35 && out18[17] == 3.0f && am18[16] == 32,
          "maxpool ties and NaN on a row of 18 windows: argmax %d %d %d %d %d %d", am18[0], am18[1], am18[2],
          am18[3], am18[16], am18[17]);
    free(perm); free(inp); free(out); free(R); free(am); free(want); free(dinp);
}

static void test_pool(void) {
    pool_case(2, 3, 6, 8, 2);
    pool_case(2, 2, 5, 7, 2);       // a row and a column past the last whole window
    pool_case(2, 3, 22, 22, 2);     // the CNN's pooling: 11 windows a row
    pool_case(1, 2, 7, 41, 2);      // 20 windows a row: a vector of 16 and a partial one
    pool_case(1, 2, 9, 9, 3);
    pool_case(2, 1, 4, 4, 1);       // s = 1: the identity
}

// ----------------------------------------------------------------------------
// 3-5. the model

/* The tiny net: 1x8x8 images, 3 filters of 3x3, pooling 2, dense 5, 3 classes. */
static CnnConfig tiny(float p1, float p2, int minibatch) {
    return (CnnConfig){.c = 1, .h = 8, .w = 8, .k = 3, .filters = 3, .kernel = 3, .pool = 2,
                       .dense = 5, .dropout_conv = p1, .dropout_dense = p2, .lr = 1e-2f,
                       .weight_decay = 1e-4f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                       .minibatch = minibatch};
}

static void init_or_die(Cnn *net, const CnnConfig *c) {
    char err[256];
    if (cnn_init(net, c, be, err, sizeof err) != 0) {
        fprintf(stderr, "cnn_init: %s\n", err);
        exit(1);
    }
}

/* n images of 1x8x8: class 0 a horizontal bar, 1 a vertical bar, 2 a diagonal, at a random
 * place, on noise in [0, 0.3). */
static void toy_images(float *X /*(n,64)*/, int32_t *y /*(n)*/, int n, uint64_t sub) {
    Rng r = rng_stream(5, RNG_DATA, sub);
    for (int i = 0; i < n; i++) {
        float *img = X + (size_t)i * 64;
        for (int p = 0; p < 64; p++) img[p] = (float)(0.3 * rng_uniform(&r));
        y[i] = (int32_t)(i % 3);
        const int at = 1 + (int)rng_below(&r, 6);
        for (int j = 0; j < 8; j++) {
            if (y[i] == 0) img[at * 8 + j] = 1.0f;
            else if (y[i] == 1) img[j * 8 + at] = 1.0f;
            else img[j * 8 + (j + at) % 8] = 1.0f;
        }
    }
}

/* Central differences on every parameter of a net of config c on N = 6 rows (the toy images'
 * 64 values a row, in c's image shape), both dropouts keyed by one fixed key, step 1e-3.
 * The loss has kinks (a ReLU at 0, a pooling window's switch), and a convolution's parameter
 * moves a whole channel's pre-activations at once (216 in the tiny net), so a step can cross
 * one: where the central difference misses, the analytic value must match the one-sided
 * difference of the side without the kink (within 1e-3 + 2e-2·|analytic|: a one-sided
 * difference has an O(h) error), and such parameters must be few (at most 1 in 20). */
static void gradcheck(const CnnConfig *c, const char *name) {
    const int N = 6;
    Cnn net;
    init_or_die(&net, c);
    cnn_reset(&net, 3);
    float X[6 * 64];
    int32_t y[6];
    toy_images(X, y, N, 1);
    const LearnerInput in = {.x = X, .n = N, .d = 64};
    const uint64_t key = rng_key(3, RNG_DROPOUT, 0, 0);     // fixed masks
    const size_t np = net.n_params;
    float *p = malloc(np * sizeof(float)), *ana = malloc(np * sizeof(float));
    cnn_get_params(p, &net);
    Rng r = rng_stream(7, RNG_DATA, 100);     // nonzero biases: every bias path exercised
    const size_t biases[4][2] = {{net.b1_off, (size_t)c->filters}, {net.b2_off, (size_t)net.f2},
                                 {net.b3_off, (size_t)c->dense}, {net.b4_off, (size_t)c->k}};
    for (int l = 0; l < 4; l++)
        for (size_t o = 0; o < biases[l][1]; o++) p[biases[l][0] + o] = (float)(0.2 * (rng_uniform(&r) - 0.3));
    cnn_set_params(&net, p);
    const double loss = cnn_loss_grad(&net, &in, y, key);
    cnn_get_grads(ana, &net);
    CHECK(isfinite(loss) && loss > 0, "%s: loss %g", name, loss);

    const double h = 1e-3;
    size_t bad = 0, nonzero = 0, kinks = 0;
    double worst = 0.0;
    for (size_t i = 0; i < np; i++) {
        const float orig = p[i], plus = (float)(orig + h), minus = (float)(orig - h);
        p[i] = plus;
        cnn_set_params(&net, p);
        const double lp = cnn_loss_grad(&net, &in, y, key);
        p[i] = minus;
        cnn_set_params(&net, p);
        const double lm = cnn_loss_grad(&net, &in, y, key);
        p[i] = orig;
        const double num = (lp - lm) / ((double)plus - (double)minus);
        const double err = fabs(num - ana[i]), tol = 1e-4 + 1e-2 * fabs(ana[i]);
        if (err <= tol) {
            if (err / tol > worst) worst = err / tol;
        } else {        // a kink within the step? then one side is smooth
            const double right = (lp - loss) / ((double)plus - orig), left = (loss - lm) / ((double)orig - minus);
            const double one_sided = fmin(fabs(right - ana[i]), fabs(left - ana[i]));
            if (one_sided <= 1e-3 + 2e-2 * fabs(ana[i])) kinks++;
            else if (bad++ < 5)
                fprintf(stderr, "  %s: param %zu: analytic %.8g, numeric %.8g (one-sided %.8g, %.8g)\n", name, i,
                        ana[i], num, left, right);
        }
        nonzero += ana[i] != 0.0f;
    }
    cnn_set_params(&net, p);
    printf("  gradcheck %-50s %zu params, %zu nonzero, worst error/tolerance %.3f, %zu across a kink\n", name, np,
           nonzero, worst, kinks);
    CHECK(bad == 0, "%s: %zu of %zu gradients off", name, bad, np);
    CHECK(kinks <= np / 20, "%s: %zu of %zu parameters' steps cross a kink", name, kinks, np);
    CHECK(nonzero > np / 2, "%s: only %zu of %zu gradients nonzero", name, nonzero, np);
    float *again = malloc(np * sizeof(float));
    cnn_loss_grad(&net, &in, y, key);
    cnn_get_grads(again, &net);
    CHECK(memcmp(again, ana, np * sizeof(float)) == 0, "%s: gradient not repeatable", name);
    free(again); free(p); free(ana);
    cnn_free(&net);
}

static void test_gradient(void) {
    CnnConfig c = tiny(0.25f, 0.5f, 6);
    gradcheck(&c, "1x8x8, 3 of 3x3, pool 2, dense 5, dropout .25/.5");
    c = tiny(0.0f, 0.0f, 6);
    gradcheck(&c, "1x8x8, 3 of 3x3, pool 2, dense 5, no dropout");
    // two channels of 4x8 (the same 64 values a row), 2x2 kernels: 3x7 and 2x6, pooled 1x3,
    // the pooling leaving a column out
    c = tiny(0.3f, 0.2f, 6);
    c.c = 2; c.h = 4; c.w = 8; c.kernel = 2; c.filters = 4; c.dense = 6;
    gradcheck(&c, "2x4x8, 4 of 2x2, pool 2, dense 6, dropout .3/.2");
    // --l2-per-label: the penalty (c/n)·||W3||² is in the loss and its gradient
    c = tiny(0.25f, 0.5f, 6);
    c.l2_per_label = 3.5f;
    gradcheck(&c, "1x8x8, dropout .25/.5, l2 3.5 on the dense layer");
    // conv-pool-conv-pool: 8x8 → 7x7 → pooled 3x3 → 2x2 → pooled 1x1, 3 then 4 channels, each
    // pooling's channel dropout on; then pooling 1 (7x7 → 6x6 → 6x6 → 5x5 → 5x5)
    c = tiny(0.3f, 0.5f, 6);
    c.layout = CNN_CONV_POOL_CONV_POOL; c.kernel = 2; c.filters2 = 4;
    gradcheck(&c, "conv-pool-conv-pool 1x8x8, 3+4 of 2x2, pool 2, dropout .3/.5");
    c.pool = 1;
    gradcheck(&c, "conv-pool-conv-pool 1x8x8, 3+4 of 2x2, pool 1, dropout .3/.5");
}

/* --l2-per-label: the gradient differs from the unpenalised one by 2(c/n)·W3 in the dense
 * layer's weights and by nothing elsewhere. */
static void test_l2(void) {
    const int N = 6;
    const float l2 = 3.5f;
    CnnConfig c0 = tiny(0.25f, 0.5f, N), c1 = c0;
    c1.l2_per_label = l2;
    Cnn a, b;
    init_or_die(&a, &c0);
    init_or_die(&b, &c1);
    cnn_reset(&a, 5);
    cnn_reset(&b, 5);
    float X[6 * 64];
    int32_t y[6];
    toy_images(X, y, N, 2);
    const LearnerInput in = {.x = X, .n = N, .d = 64};
    const uint64_t key = rng_key(5, RNG_DROPOUT, 0, 0);
    const size_t np = a.n_params;
    float *ga = malloc(np * sizeof(float)), *gb = malloc(np * sizeof(float)), *p = malloc(np * sizeof(float));
    cnn_loss_grad(&a, &in, y, key);
    cnn_loss_grad(&b, &in, y, key);
    cnn_get_grads(ga, &a);
    cnn_get_grads(gb, &b);
    cnn_get_params(p, &b);
    size_t off = 0, in_w3 = 0;
    double worst = 0.0;
    for (size_t i = 0; i < np; i++) {
        const int w3 = i >= b.w3_off && i < b.w3_off + (size_t)c1.dense * b.flat;
        const double want = w3 ? 2.0 * l2 / N * p[i] : 0.0, got = (double)gb[i] - ga[i];
        const double e = fabs(got - want) / (1e-6 + 1e-5 * fabs(want));
        if (e > 1.0) off++;
        if (e > worst) worst = e;
        in_w3 += w3 && want != 0.0;
    }
    CHECK(off == 0 && in_w3 == (size_t)c1.dense * b.flat,
          "l2: %zu of %zu gradients off the penalty's 2(c/n)W3 (worst error/tolerance %.2f), %zu of W3's %d weights "
          "penalised", off, np, worst, in_w3, c1.dense * b.flat);
    free(ga); free(gb); free(p);
    cnn_free(&a);
    cnn_free(&b);
}


/* predict's T samples (trunk once per chunk) against cnn_forward (the whole net per sample)
 * with sample t's key, for n rows with pool ids row0..: bitwise when n fits one chunk. */
static void mc_case(int n, float p1, float p2, CnnLayout layout) {
    const int T = 4, K = 3;
    const int64_t row0 = 1000;
    CnnConfig c = tiny(p1, p2, 8);
    if (layout == CNN_CONV_POOL_CONV_POOL) {     // 8x8 → 7x7 → 3x3 → 2x2 → 1x1
        c.layout = layout; c.kernel = 2; c.filters2 = 4;
    }
    Cnn net;
    init_or_die(&net, &c);
    cnn_reset(&net, 4);
    float *X = malloc((size_t)n * 64 * sizeof(float));
    int32_t *y = malloc((size_t)n * sizeof(int32_t));
    toy_images(X, y, n, 2);
    LearnerInput train = {.x = X, .n = 30 < n ? 30 : n, .d = 64};
    cnn_fit(&net, &train, y, 20, 4, 0);
    float *probs = malloc((size_t)n * K * sizeof(float)), *mc = malloc((size_t)T * n * K * sizeof(float));
    float *emb = malloc((size_t)n * 5 * sizeof(float)), *one = malloc((size_t)net.cap * K * sizeof(float));
    const LearnerInput in = {.x = X, .n = n, .d = 64};
    cnn_predict(probs, mc, emb, &net, &in, T, 4, 2, row0);
    double worst = 0.0;
    int bitwise = 1;
    for (int off = 0; off < n; off += net.cap) {        // the whole net, chunk by chunk
        const int cn = n - off < net.cap ? n - off : net.cap;
        const LearnerInput rows = {.x = X + (size_t)off * 64, .n = cn, .d = 64};
        for (int t = -1; t < T; t++) {      // t = -1: dropout off
            cnn_forward(one, &net, &rows, t >= 0, t >= 0 ? rng_key(4, RNG_MC, 2, (uint64_t)t) : 0, row0 + off);
            const float *got = t >= 0 ? mc + ((size_t)t * n + off) * K : probs + (size_t)off * K;
            for (size_t i = 0; i < (size_t)cn * K; i++) {
                const double e = fabs((double)got[i] - one[i]);
                if (e > worst) worst = e;
                bitwise &= got[i] == one[i];
            }
        }
    }
    printf("  MC trunk reuse, %s, %d rows (cap %d), dropout %.2f/%.2f: %s, worst |difference| %.3g\n",
           layout ? "conv-pool-conv-pool" : "conv-conv-pool", n, net.cap, p1, p2,
           bitwise ? "bit for bit" : "within fp32 rounding", worst);
    CHECK(worst <= 1e-6, "trunk reuse differs from the whole net by %g", worst);
    CHECK(n > net.cap || bitwise, "within one chunk, trunk reuse must give the whole net's bits");
    int differ = 0;     // with a dropout on, samples differ from each other and from probs
    for (size_t i = 0; i < (size_t)n * K; i++) differ |= mc[i] != mc[(size_t)n * K + i] || mc[i] != probs[i];
    CHECK((p1 > 0 || p2 > 0) == differ, "dropout %.2f/%.2f: samples %s", p1, p2, differ ? "differ" : "all equal");
    // the embeddings: the dense layer after ReLU (>= 0), the same whatever else is asked
    float *emb2 = malloc((size_t)n * 5 * sizeof(float));
    cnn_predict(NULL, NULL, emb2, &net, &in, 0, 4, 2, row0);
    int nonneg = 1;
    for (size_t i = 0; i < (size_t)n * 5; i++) nonneg &= emb[i] >= 0.0f;
    CHECK(nonneg && memcmp(emb, emb2, (size_t)n * 5 * sizeof(float)) == 0, "embeddings");
    free(X); free(y); free(probs); free(mc); free(emb); free(emb2); free(one);
    cnn_free(&net);
}

static void test_mc(void) {
    for (int l = 0; l < 2; l++) {
        mc_case(40, 0.25f, 0.5f, (CnnLayout)l);
        mc_case(300, 0.25f, 0.5f, (CnnLayout)l);     // two chunks of the CPU's 256 rows
        mc_case(40, 0.0f, 0.5f, (CnnLayout)l);
        mc_case(40, 0.25f, 0.0f, (CnnLayout)l);
        mc_case(40, 0.0f, 0.0f, (CnnLayout)l);
    }
}

/* conv-pool-conv-pool against Kirsch et al.'s code's order, built from the backend's ops: conv,
 * Dropout2d, max-pool, ReLU (twice), dense, dropout, ReLU, dense: the same bits as
 * cnn_forward with the same key (a kept channel's scale commutes with max-pool and ReLU). */
static void test_batchbald_order(void) {
    const int n = 9, K = 3, F1 = 3, F2 = 4, Dn = 5;
    CnnConfig c = tiny(0.5f, 0.5f, 8);
    c.layout = CNN_CONV_POOL_CONV_POOL; c.kernel = 2; c.filters2 = F2;
    Cnn net;
    init_or_die(&net, &c);
    cnn_reset(&net, 8);
    float X[9 * 64];
    int32_t y[9];
    toy_images(X, y, n, 3);
    const LearnerInput in = {.x = X, .n = n, .d = 64};
    cnn_fit(&net, &in, y, 10, 8, 0);
    float *w = malloc(net.n_params * sizeof(float));
    cnn_get_params(w, &net);
    const uint64_t key = rng_key(8, RNG_MC, 1, 0), k0 = rng_hash(key, 0, 0), k1 = rng_hash(key, 1, 0),
                   k2 = rng_hash(key, 2, 0);
    const int64_t row0 = 50;
    float c1[9 * 3 * 7 * 7], q1[9 * 3 * 3 * 3], c2[9 * 4 * 2 * 2], q2[9 * 4], h[9 * 5], z[9 * 3], want[9 * 3];
    float work[4096];
    int32_t am1[9 * 27], am2[9 * 4];
    be->conv2d_forward(c1, work, X, w + net.w1_off, w + net.b1_off, n, 1, 8, 8, F1, 2, 1);
    be->dropout_channels(c1, c1, n, F1, 49, 0.5f, k0, row0);
    be->maxpool_forward(q1, am1, c1, n, F1, 7, 7, 2);
    be->relu_forward(q1, q1, (size_t)n * 27);
    be->conv2d_forward(c2, work, q1, w + net.w2_off, w + net.b2_off, n, F1, 3, 3, F2, 2, 1);
    be->dropout_channels(c2, c2, n, F2, 4, 0.5f, k2, row0);
    be->maxpool_forward(q2, am2, c2, n, F2, 2, 2, 2);
    be->relu_forward(q2, q2, (size_t)n * 4);
    be->matmul_forward(h, q2, w + net.w3_off, w + net.b3_off, n, F2, Dn);
    be->dropout_forward(h, h, n, Dn, 0.5f, k1, row0);
    be->relu_forward(h, h, (size_t)n * Dn);
    be->matmul_forward(z, h, w + net.w4_off, w + net.b4_off, n, Dn, K);
    be->softmax_forward(want, z, n, K);
    float got[9 * 3];
    cnn_forward(got, &net, &in, 1, key, row0);
    CHECK(memcmp(got, want, sizeof got) == 0, "conv-pool-conv-pool: not the bits of Kirsch et al.'s order");
    free(w);
    cnn_free(&net);
}

/* Channel dropout keeps or drops each channel whole, with unit c's mask of dropout_forward:
 * S = 1 gives dropout_forward's bits; each (row, channel) of S values is all kept (x·scale)
 * or all 0; its own backward; about p of the channels dropped. */
static void test_dropout_channels(void) {
    const int N = 7, C = 37, S = 5;
    const float p = 0.3f;
    const uint64_t key = rng_key(9, RNG_DROPOUT, 1, 2);
    float *x = random_floats((size_t)N * C * S, 0.5, 1.5, 40), *y = malloc((size_t)N * C * S * sizeof(float));
    float *a = malloc((size_t)N * C * sizeof(float)), *b = malloc((size_t)N * C * sizeof(float));
    be->dropout_forward(a, x, N, C, p, key, 100);
    be->dropout_channels(b, x, N, C, 1, p, key, 100);
    CHECK(memcmp(a, b, (size_t)N * C * sizeof(float)) == 0, "dropout_channels with S = 1: not dropout_forward's bits");
    float ones[7 * 37];
    for (int i = 0; i < N * C; i++) ones[i] = 1.0f;
    be->dropout_forward(a, ones, N, C, p, key, 100);        // unit c's mask and scale per row
    be->dropout_channels(y, x, N, C, S, p, key, 100);
    int whole = 1, dropped = 0;
    for (int i = 0; i < N * C; i++) {
        dropped += a[i] == 0.0f;
        for (int s = 0; s < S; s++) whole &= y[(size_t)i * S + s] == x[(size_t)i * S + s] * a[i];
    }
    CHECK(whole, "dropout_channels: a channel not kept or dropped whole with its unit's mask");
    CHECK(dropped > N * C * p / 2 && dropped < N * C * p * 1.6, "dropout_channels: %d of %d channels dropped at p %.1f",
          dropped, N * C, p);
    be->dropout_channels(x, x, N, C, S, p, key, 100);      // in place, as a backward pass runs it
    CHECK(memcmp(x, y, (size_t)N * C * S * sizeof(float)) == 0, "dropout_channels in place: other values");
    free(x); free(y); free(a); free(b);
}

/* Same seed: same weights, loss and predictions, bit for bit; another seed: other weights. */
static void test_deterministic(void) {
    const int n = 60, T = 3;
    float X[60 * 64];
    int32_t y[60];
    toy_images(X, y, n, 3);
    const LearnerInput in = {.x = X, .n = n, .d = 64};
    CnnConfig c = tiny(0.25f, 0.5f, 16);
    float *params[2], mc[2][3 * 60 * 3];
    double loss[2];
    for (int run = 0; run < 2; run++) {
        Cnn net;
        init_or_die(&net, &c);
        cnn_reset(&net, 9);
        loss[run] = cnn_fit(&net, &in, y, 12, 9, 1);
        params[run] = malloc(net.n_params * sizeof(float));
        cnn_get_params(params[run], &net);
        cnn_predict(NULL, mc[run], NULL, &net, &in, T, 9, 1, 0);
        if (run == 1) {
            CHECK(memcmp(params[0], params[1], net.n_params * sizeof(float)) == 0 &&
                  memcmp(&loss[0], &loss[1], sizeof loss[0]) == 0, "training twice: other weights or loss");
            CHECK(memcmp(mc[0], mc[1], sizeof mc[0]) == 0, "predicting twice: other MC samples");
            cnn_reset(&net, 10);
            cnn_get_params(params[1], &net);
            CHECK(memcmp(params[0], params[1], net.n_params * sizeof(float)) != 0, "seed 10: the same weights");
            cnn_reset(&net, 9);         // back to seed 9: the drawn weights, copied
            float *w9 = malloc(net.n_params * sizeof(float));
            cnn_get_params(w9, &net);
            Cnn fresh;
            init_or_die(&fresh, &c);
            cnn_reset(&fresh, 9);
            cnn_get_params(params[1], &fresh);
            CHECK(memcmp(w9, params[1], net.n_params * sizeof(float)) == 0, "reset to a seed again: other weights");
            free(w9);
            cnn_free(&fresh);
        }
        cnn_free(&net);
    }
    free(params[0]); free(params[1]);
}

/* The toy bars are learned: test accuracy > 0.9 after 150 steps. */
static void test_learns(void) {
    const int n = 150, nt = 150, K = 3;
    float *X = malloc((size_t)(n + nt) * 64 * sizeof(float));
    int32_t *y = malloc((size_t)(n + nt) * sizeof(int32_t));
    toy_images(X, y, n + nt, 4);
    CnnConfig c = tiny(0.25f, 0.5f, 32);
    c.filters = 8;
    c.dense = 32;
    Cnn net;
    init_or_die(&net, &c);
    cnn_reset(&net, 1);
    const LearnerInput train = {.x = X, .n = n, .d = 64}, test = {.x = X + (size_t)n * 64, .n = nt, .d = 64};
    const double loss = cnn_fit(&net, &train, y, 150, 1, 0);
    float *probs = malloc((size_t)nt * K * sizeof(float));
    cnn_predict(probs, NULL, NULL, &net, &test, 0, 1, 0, 0);
    int right = 0;
    for (int i = 0; i < nt; i++) {
        int best = 0;
        for (int k = 1; k < K; k++) if (probs[i * K + k] > probs[i * K + best]) best = k;
        right += best == y[n + i];
    }
    printf("  toy bars: training loss %.3f, test accuracy %.3f\n", loss, (double)right / nt);
    CHECK((double)right / nt > 0.9, "test accuracy %.3f", (double)right / nt);
    free(X); free(y); free(probs);
    cnn_free(&net);
}

/* A Dataset of n toy images with the given image shape (the rows as toy_images). */
static void toy_dataset(Dataset *ds, int n, ImageShape shape) {
    char err[256];
    dataset_alloc(ds, n, 64, 3, "", err, sizeof err);
    toy_images(ds->x, ds->y, n, 6);
    ds->image = shape;
    snprintf(ds->name, sizeof ds->name, "toy");
}

/* Through the Model interface: defaults, FLOPs, refusals, save/restore, embeddings' width. */
static void test_model(void) {
    Config cfg;
    config_defaults(&cfg, CMD_RUN);
    snprintf(cfg.model, sizeof cfg.model, "cnn");
    CHECK(cfg.conv_filters == 32 && cfg.kernel == 4 && cfg.maxpool == 2 && cfg.dense == 128 &&
          cfg.dropout_conv == 0.25 && cfg.dropout_dense == 0.5, "the paper's defaults");
    // the default net on 28x28: conv 25x25x32, conv 22x22x32, pool 11x11x32 = 3872, 128, 10
    const CnnConfig mnist = {.c = 1, .h = 28, .w = 28, .k = 10, .filters = 32, .kernel = 4, .pool = 2,
                             .dense = 128};
    const double macs = 25.0 * 25 * 32 * 16 + 22.0 * 22 * 32 * 32 * 16 + 3872.0 * 128 + 128.0 * 10;
    CHECK(cnn_macs_per_row(&mnist) == macs, "MACs %.0f, want %.0f", cnn_macs_per_row(&mnist), macs);
    CHECK(cnn_train_flops_per_row(&mnist) == 6 * macs - 2 * 25.0 * 25 * 32 * 16, "train FLOPs %.0f",
          cnn_train_flops_per_row(&mnist));
    // Kirsch et al.'s: conv 24x24x32, pool 12x12, conv 8x8x64, pool 4x4x64 = 1024, 128, 10
    const CnnConfig bb = {.c = 1, .h = 28, .w = 28, .k = 10, .layout = CNN_CONV_POOL_CONV_POOL, .filters = 32,
                          .filters2 = 64, .kernel = 5, .pool = 2, .dense = 128};
    const double bb_macs = 24.0 * 24 * 32 * 25 + 8.0 * 8 * 64 * 32 * 25 + 1024.0 * 128 + 128.0 * 10;
    CHECK(cnn_macs_per_row(&bb) == bb_macs, "conv-pool-conv-pool MACs %.0f, want %.0f", cnn_macs_per_row(&bb), bb_macs);

    char err[512];
    Dataset flat, small, ok;
    toy_dataset(&flat, 40, (ImageShape){0, 0, 0});
    toy_dataset(&small, 40, (ImageShape){1, 4, 16});
    toy_dataset(&ok, 40, (ImageShape){1, 8, 8});
    Model m;
    int rc = model_open(&m, &cfg, &flat, be, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "--model cnn needs images") && !strchr(err, '\n'), "no image shape: rc %d '%s'", rc, err);
    cfg.kernel = 3;
    rc = model_open(&m, &cfg, &small, be, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "images of 4x16 pixels are too small") && strstr(err, "at least 6x6"),
          "4x16 images: rc %d '%s'", rc, err);
    snprintf(cfg.cnn_layout, sizeof cfg.cnn_layout, "conv-pool-conv-pool");   // 8x8 → 6 → 3 → 1 → 0: too small
    rc = model_open(&m, &cfg, &ok, be, err, sizeof err);
    CHECK(rc == 2 && strstr(err, "images of 8x8 pixels are too small for conv-pool-conv-pool") &&
          strstr(err, "at least 10x10"), "8x8 images, conv-pool-conv-pool with 3x3 kernels: rc %d '%s'", rc, err);
    snprintf(cfg.cnn_layout, sizeof cfg.cnn_layout, "conv-conv-pool");
    cfg.conv_filters = 3;
    cfg.dense = 5;
    cfg.minibatch = 8;
    rc = model_open(&m, &cfg, &ok, be, err, sizeof err);
    CHECK(rc == 0 && m.k == 3 && m.emb_width == 5 && m.minibatch == 8, "8x8 images: rc %d '%s'", rc, err);
    CHECK(model_check(&cfg, "rl", 7, err, sizeof err) == 0, "rl's embeddings refused: %s", err);
    if (rc) goto out;

    // a warm start's round trip: fit, save, fit more; restore into a fresh model, fit the same
    const LearnerInput X = model_rows(&ok, 0, ok.n);
    Spent spent = {0};
    model_reset(&m, 2);
    model_fit(&m, &spent, &X, ok.y, 6, 2, 0);
    const size_t bytes = m.ops->state_size(&m);
    void *state = malloc(bytes), *after = malloc(bytes), *again = malloc(bytes);
    m.ops->save(&m, state);
    model_fit(&m, &spent, &X, ok.y, 6, 2, 1);
    m.ops->save(&m, after);
    Model m2;
    model_open(&m2, &cfg, &ok, be, err, sizeof err);
    model_reset(&m2, 5);                // other weights, then the saved state
    m2.ops->restore(&m2, state);
    model_fit(&m2, &spent, &X, ok.y, 6, 2, 1);
    m2.ops->save(&m2, again);
    CHECK(memcmp(after, again, bytes) == 0, "save, restore, fit: not where fitting on went");
    float probs[40 * 3];
    CHECK(model_predict(&m2, probs, NULL, NULL, &X, 0, 2, 1, 0) == 0, "predict");
    free(state); free(after); free(again);
    model_close(&m2);
    model_close(&m);
out:
    dataset_free(&flat);
    dataset_free(&small);
    dataset_free(&ok);
}

int main(void) {
    test_conv();
    test_pool();
    test_gradient();
    test_l2();
    test_mc();
    test_dropout_channels();
    test_batchbald_order();
    test_deterministic();
    test_learns();
    test_model();
    return check_done("test_cnn");
}
