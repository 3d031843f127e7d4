/* test_cuda — the CUDA backend against the CPU reference beyond single ops (test_backend does
 * those), through the learner:
 *   0. always, GPU or not: the CPU backend has no score_rows and learner_score declines on it;
 *      each strategy's device reduction reads what the strategy needs; learner_score's
 *      plumbing on the CPU given a host score_rows equals learner_predict + the strategies;
 *   1. one full training step: the loss and every gradient, CPU vs CUDA, from the same
 *      weights, rows and dropout masks (dense 784-512-10, two hidden layers, softmax
 *      regression, --l2-per-label, and a sparse first layer); then 40 AdamW steps on each:
 *      the loss agrees;
 *   2. the pool probabilities and MC-dropout samples of a trained 784-512-10 model, CPU vs
 *      CUDA: NMSE <= 1e-7 (identical masks; only fp32 rounding differs);
 *   3. learner_score on CUDA (the device reductions) against learner_predict on CUDA and the
 *      strategies' host functions, for every strategy with a device reduction: 1e-12;
 *   4. on the GPU, the same call twice gives the same bits (training and prediction);
 *   5. the convolutional model's ops (conv2d_forward/_backward, maxpool_forward/_backward),
 *      CPU vs CUDA on the same inputs (max-pooling bit for bit), then the default CNN: one
 *      training step's loss and gradients, a pool's probabilities and MC samples;
 *   6. the BERT encoder's ops one by one, forward and backward (LayerNorm, GELU, attention with
 *      padding masks), then its forward pass on the tiny fixture model, CPU vs CUDA.
 * Parts 1-6 are skipped, and it says so (exit 0), when no GPU is usable (5 and 6 then run
 * CPU vs CPU, so their code is exercised).
 * `test_cuda --probe`: exits 0 and prints the device when a CUDA GPU is usable, else prints
 * the reason and exits 1 (tests/cuda.sh uses it to skip).
 */
#include "sim/backend.h"
#include "sim/bert.h"
#include "sim/bertmodel.h"
#include "sim/cnn.h"
#include "sim/learner.h"
#include "sim/rng.h"
#include "sim/safetensors.h"
#include "strategies/strategy.h"
#include "tests/check.h"
#include "tests/tiny_bert.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ATOL 1e-5
#define RTOL 1e-4

static LearnerConfig config(int d, int k, int n_hidden, const int *hidden, float dropout) {
    LearnerConfig c = {.d = d, .k = k, .n_hidden = n_hidden, .dropout = dropout,
                       .lr = 1e-3f, .weight_decay = 1e-4f, .beta1 = 0.9f, .beta2 = 0.999f,
                       .eps = 1e-8f, .minibatch = 64};
    for (int l = 0; l < n_hidden; l++) c.hidden[l] = hidden[l];
    return c;
}

static void init_or_die(Learner *L, const LearnerConfig *c, const Backend *be) {
    char err[256];
    if (learner_init(L, c, be, err, sizeof err) != 0) {
        fprintf(stderr, "learner_init on %s: %s\n", be->name, err);
        exit(1);
    }
}

/* K blobs in [0,1]^D (pixel-like): row i of class y[i] is its class centre plus noise. */
static void blobs(float *X /*(n,D)*/, int32_t *y /*(n)*/, int n, int D, int K, uint64_t sub) {
    Rng r = rng_stream(7, RNG_DATA, 1000);            // the same centres for every call
    float *centre = malloc((size_t)K * D * sizeof(float));
    for (size_t i = 0; i < (size_t)K * D; i++) centre[i] = (float)rng_uniform(&r);
    r = rng_stream(7, RNG_DATA, sub);
    for (int i = 0; i < n; i++) {
        y[i] = (int32_t)rng_below(&r, (uint32_t)K);
        for (int j = 0; j < D; j++) {
            double v = centre[(size_t)y[i] * D + j] + 0.6 * (rng_uniform(&r) - 0.5);
            X[(size_t)i * D + j] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
        }
    }
    free(centre);
}

/* |got - want| <= ATOL + RTOL·|want| elementwise; one CHECK, the worst error/tolerance shown. */
static void check_close(const char *what, const float *got, const float *want, size_t n) {
    size_t bad = 0;
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (ATOL + RTOL * fabs(want[i]));
        if (!(e <= 1.0)) {
            if (bad < 3) fprintf(stderr, "  %s[%zu] = %.9g, want %.9g\n", what, i, got[i], want[i]);
            bad++;
        }
        if (e > worst) worst = e;
    }
    printf("  %-58s worst error/tolerance %.3f\n", what, worst);
    CHECK(bad == 0, "%s: %zu of %zu out of tolerance", what, bad, n);
}

/* Σ(got - want)² / Σ want², in double. */
static double nmse(const float *got, const float *want, size_t n) {
    double num = 0.0, den = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)got[i] - want[i];
        num += d * d;
        den += (double)want[i] * want[i];
    }
    return den > 0 ? num / den : num;
}

// ----------------------------------------------------------------------------
// 0. without a GPU too

/* learner_score's plumbing (chunks, sample layout, row ids, the deterministic paths) on every
 * machine: the CPU backend plus a host score_rows that calls the strategy whose reduction is
 * `kind`. learner_score must then give exactly learner_predict + the host function on the
 * same backend (the same cap, so the same chunks and the same bits). */
static void host_score_rows(double *scores, const float *probs, const float *mc, int N, int K,
                            int T, int kind) {
    int n;
    const Strategy *all = strategy_all(&n);
    for (int i = 0; i < n; i++)
        if (all[i].reduce == kind) {
            PoolView v = {.n = N, .k = K, .t = T, .probs = probs, .mc = mc};
            all[i].score(scores, &v);
            return;
        }
}

static void plumbing_case(int n_hidden, const int *hidden, float dropout, const char *name) {
    Backend fake = backend_cpu;
    fake.name = "cpu+host score_rows";
    fake.score_rows = host_score_rows;
    const int D = 12, K = 4, T = 3, N = LEARNER_DEVICE_CAP + 3000;  // two chunks
    const int64_t row0 = 77;
    LearnerConfig c = config(D, K, n_hidden, hidden, dropout);
    Learner L = {0};
    init_or_die(&L, &c, &fake);
    CHECK(L.cap == LEARNER_DEVICE_CAP, "%s: cap %d with score_rows", name, L.cap);
    learner_reset(&L, 2, 0);
    float *X = malloc((size_t)N * D * sizeof(float));
    int32_t *y = malloc((size_t)N * sizeof(int32_t));
    blobs(X, y, N, D, K, 4);
    LearnerInput in = {.x = X, .n = N, .d = D};
    float *probs = malloc((size_t)N * K * sizeof(float));
    float *mc = malloc((size_t)T * N * K * sizeof(float));
    learner_predict(probs, mc, &L, &in, T, 2, 1, row0);
    double *want = malloc((size_t)N * sizeof(double)), *got = malloc((size_t)N * sizeof(double));
    int ns;
    const Strategy *all = strategy_all(&ns);
    for (int s = 0; s < ns; s++) {
        if (all[s].reduce == REDUCE_NONE) continue;
        PoolView v = {.n = N, .k = K, .t = T, .probs = probs, .mc = mc, .row0 = row0};
        all[s].score(want, &v);
        int rc = learner_score(got, &L, &in, all[s].reduce, T, 2, 1, row0);
        CHECK(rc == 0 && memcmp(got, want, (size_t)N * sizeof(double)) == 0,
              "learner_score plumbing, %s, %s: differs from learner_predict + the host function",
              name, all[s].name);
    }
    free(X); free(y); free(probs); free(mc); free(want); free(got);
    learner_free(&L);
}

static void test_contracts(void) {
    CHECK(backend_cpu.score_rows == NULL, "the CPU backend should leave scoring to the host");
    const int hidden[] = {8};
    LearnerConfig c = config(5, 3, 1, hidden, 0.5f);
    Learner L = {0};
    init_or_die(&L, &c, &backend_cpu);
    CHECK(L.cap == LEARNER_CAP, "cpu cap %d, want %d", L.cap, LEARNER_CAP);
    float X[4 * 5] = {0};
    double scores[4];
    LearnerInput in = {.x = X, .n = 4, .d = 5};
    CHECK(learner_score(scores, &L, &in, REDUCE_BALD, 4, 1, 0, 0) == -1,
          "learner_score on the CPU should decline");
    learner_free(&L);

    int n;
    const Strategy *all = strategy_all(&n);
    for (int i = 0; i < n; i++) {
        const int r = all[i].reduce;
        CHECK(r >= REDUCE_NONE && r < REDUCE_COUNT, "%s: reduce %d", all[i].name, r);
        if (r == REDUCE_NONE) continue;
        CHECK(reduce_needs_mc(r) ? (all[i].needs & NEEDS_MC) != 0 : (all[i].needs & NEEDS_PROBS) != 0,
              "%s: its reduction reads what the strategy does not ask the loop for", all[i].name);
    }
    const int h1[] = {16}, h2[] = {16, 8};
    plumbing_case(1, h1, 0.5f, "hidden {16}, dropout 0.5");
    plumbing_case(2, h2, 0.3f, "hidden {16,8}, dropout 0.3");
    plumbing_case(1, h1, 0.0f, "hidden {16}, dropout 0");
    plumbing_case(0, NULL, 0.5f, "no hidden layer");

    const Strategy *want[] = {strategy_find("least-confidence"), strategy_find("entropy"),
                              strategy_find("margin"), strategy_find("bald"),
                              strategy_find("var-ratios"), strategy_find("mean-std"),
                              strategy_find("mc-entropy")};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK(want[i] && want[i]->reduce != REDUCE_NONE, "strategy %zu has no device reduction", i);
}

// ----------------------------------------------------------------------------
// 1. one training step, CPU vs CUDA

static void step_case(const Backend *cuda, const LearnerConfig *c, const LearnerInput *X,
                      const int32_t *y, const char *name) {
    Learner Lc = {0}, Lg = {0};
    init_or_die(&Lc, c, &backend_cpu);
    init_or_die(&Lg, c, cuda);
    learner_reset(&Lc, 11, 0);
    learner_reset(&Lg, 11, 0);
    const size_t np = Lc.n_params;
    float *pc = malloc(np * sizeof(float)), *pg = malloc(np * sizeof(float));
    learner_get_params(pc, &Lc);
    learner_get_params(pg, &Lg);
    CHECK(memcmp(pc, pg, np * sizeof(float)) == 0, "%s: initial weights differ", name);

    const uint64_t key = rng_key(11, RNG_DROPOUT, 0, 0);
    double loss_c = learner_loss_grad(&Lc, X, y, key), loss_g = learner_loss_grad(&Lg, X, y, key);
    printf("  step %-30s loss cpu %.9f cuda %.9f\n", name, loss_c, loss_g);
    CHECK(isfinite(loss_c) && fabs(loss_g - loss_c) <= ATOL + RTOL * fabs(loss_c),
          "%s: loss cpu %.9g cuda %.9g", name, loss_c, loss_g);
    learner_get_grads(pc, &Lc);
    learner_get_grads(pg, &Lg);
    char what[96];
    snprintf(what, sizeof what, "step %s: gradients (%zu)", name, np);
    check_close(what, pg, pc, np);

    // 40 AdamW steps each: the last epoch's loss agrees (weights drift apart only where a
    // gradient is near 0 and its sign is rounding, which moves the loss very little)
    learner_reset(&Lc, 11, 0);
    learner_reset(&Lg, 11, 0);
    double fit_c = learner_fit(&Lc, X, y, 40, 11, 0), fit_g = learner_fit(&Lg, X, y, 40, 11, 0);
    learner_get_params(pc, &Lc);
    learner_get_params(pg, &Lg);
    double drift = sqrt(nmse(pg, pc, np));
    printf("  fit  %-30s 40 steps: loss cpu %.9f cuda %.9f; weights' relative L2 gap %.2e\n",
           name, fit_c, fit_g, drift);
    CHECK(fabs(fit_g - fit_c) <= 1e-3 * fabs(fit_c) + 1e-5, "%s: 40-step loss cpu %.9g cuda %.9g",
          name, fit_c, fit_g);

    // 4. the same training on the GPU twice: the same bits
    learner_reset(&Lg, 11, 0);
    double fit_g2 = learner_fit(&Lg, X, y, 40, 11, 0);
    learner_get_params(pc, &Lg);
    CHECK(memcmp(pc, pg, np * sizeof(float)) == 0 && memcmp(&fit_g, &fit_g2, sizeof fit_g) == 0,
          "%s: training twice on the GPU gave different weights or loss", name);
    free(pc);
    free(pg);
    learner_free(&Lc);
    learner_free(&Lg);
}

static void test_step(const Backend *cuda) {
    const int N = 64;
    const int h512[] = {512}, h2[] = {64, 32};
    float *X = malloc((size_t)N * 784 * sizeof(float));
    int32_t y[64];
    blobs(X, y, N, 784, 10, 1);
    LearnerInput in = {.x = X, .n = N, .d = 784};
    LearnerConfig c = config(784, 10, 1, h512, 0.5f);
    step_case(cuda, &c, &in, y, "784-512-10, dropout 0.5");
    c = config(784, 10, 2, h2, 0.3f);
    step_case(cuda, &c, &in, y, "784-64-32-10, dropout 0.3");
    c = config(784, 10, 0, NULL, 0.0f);
    step_case(cuda, &c, &in, y, "784-10 (no hidden layer)");
    c = config(784, 10, 1, h512, 0.5f);
    c.l2_per_label = 3.5f;      // Gal et al. 2017's weight decay on the first layer
    step_case(cuda, &c, &in, y, "784-512-10, l2-per-label 3.5");

    // a sparse first layer: the same rows as CSR, zeros dropped
    int64_t indptr[65];
    int32_t *indices = malloc((size_t)N * 784 * sizeof(int32_t));
    float *values = malloc((size_t)N * 784 * sizeof(float));
    int64_t nnz = 0;
    indptr[0] = 0;
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < 784; j++)
            if (X[(size_t)i * 784 + j] > 0.5f) {    // about half: a sparse-ish input
                indices[nnz] = j;
                values[nnz++] = X[(size_t)i * 784 + j];
            }
        indptr[i + 1] = nnz;
    }
    LearnerInput csr = {.indptr = indptr, .indices = indices, .values = values, .n = N, .d = 784};
    c = config(784, 10, 1, h512, 0.5f);
    c.sparse = 1;
    c.mean_nnz = (double)nnz / N;
    step_case(cuda, &c, &csr, y, "sparse 784-512-10, dropout 0.5");
    free(indices);
    free(values);
    free(X);
}

// ----------------------------------------------------------------------------
// 2. pool probabilities of a trained model; 3. learner_score vs the host functions

static void test_pool(const Backend *cuda) {
    const int D = 784, K = 10, n_train = 500, N = 5000, T = 8;
    const int64_t row0 = 12345;
    const int hidden[] = {512};
    LearnerConfig c = config(D, K, 1, hidden, 0.5f);
    Learner Lc = {0}, Lg = {0};
    init_or_die(&Lc, &c, &backend_cpu);
    init_or_die(&Lg, &c, cuda);
    CHECK(Lg.cap == LEARNER_DEVICE_CAP, "cuda cap %d, want %d", Lg.cap, LEARNER_DEVICE_CAP);

    float *Xt = malloc((size_t)n_train * D * sizeof(float)), *Xp = malloc((size_t)N * D * sizeof(float));
    int32_t *yt = malloc((size_t)n_train * sizeof(int32_t)), *yp = malloc((size_t)N * sizeof(int32_t));
    blobs(Xt, yt, n_train, D, K, 2);
    blobs(Xp, yp, N, D, K, 3);
    LearnerInput train = {.x = Xt, .n = n_train, .d = D}, pool = {.x = Xp, .n = N, .d = D};
    learner_reset(&Lc, 5, 0);
    learner_fit(&Lc, &train, yt, 60, 5, 0);      // a few epochs: confident, not saturated
    float *params = malloc(Lc.n_params * sizeof(float));
    learner_get_params(params, &Lc);
    learner_set_params(&Lg, params);             // the same trained model on both

    float *probs_c = malloc((size_t)N * K * sizeof(float)), *probs_g = malloc((size_t)N * K * sizeof(float));
    float *mc_c = malloc((size_t)T * N * K * sizeof(float)), *mc_g = malloc((size_t)T * N * K * sizeof(float));
    CHECK(learner_predict(probs_c, mc_c, &Lc, &pool, T, 5, 3, row0) == 0, "cpu predict");
    CHECK(learner_predict(probs_g, mc_g, &Lg, &pool, T, 5, 3, row0) == 0, "cuda predict");
    double e_probs = nmse(probs_g, probs_c, (size_t)N * K), e_mc = nmse(mc_g, mc_c, (size_t)T * N * K);
    int right = 0;
    for (int i = 0; i < N; i++) {
        int best = 0;
        for (int k = 1; k < K; k++) if (probs_c[(size_t)i * K + k] > probs_c[(size_t)i * K + best]) best = k;
        right += best == yp[i];
    }
    printf("  pool %d rows, trained model (pool accuracy %.3f): NMSE probs %.3g, MC samples (T = %d) %.3g\n",
           N, (double)right / N, e_probs, T, e_mc);
    CHECK(e_probs <= 1e-7, "pool probs NMSE %.3g > 1e-7", e_probs);
    CHECK(e_mc <= 1e-7, "pool MC samples NMSE %.3g > 1e-7 (masks differ?)", e_mc);

    // 4. predicting twice on the GPU: the same bits
    float *again = malloc((size_t)T * N * K * sizeof(float));
    learner_predict(NULL, again, &Lg, &pool, T, 5, 3, row0);
    CHECK(memcmp(again, mc_g, (size_t)T * N * K * sizeof(float)) == 0, "GPU MC samples not repeatable");
    free(again);

    // 3. learner_score (device reductions) vs the host functions on the GPU's own predictions
    int ns;
    const Strategy *all = strategy_all(&ns);
    double *want = malloc((size_t)N * sizeof(double)), *got = malloc((size_t)N * sizeof(double));
    for (int s = 0; s < ns; s++) {
        if (all[s].reduce == REDUCE_NONE) continue;
        PoolView v = {.n = N, .k = K, .t = T, .probs = probs_g, .mc = mc_g, .row0 = row0,
                      .seed = 5, .round = 3};
        all[s].score(want, &v);
        int rc = learner_score(got, &Lg, &pool, all[s].reduce, T, 5, 3, row0);
        CHECK(rc == 0, "learner_score %s returned %d", all[s].name, rc);
        size_t bad = 0;
        double worst = 0.0;
        for (int i = 0; i < N; i++) {
            double e = fabs(got[i] - want[i]) / (1e-12 * (1.0 + fabs(want[i])));
            if (!(e <= 1.0) && bad++ < 3)
                fprintf(stderr, "  learner_score %s row %d: %.17g, want %.17g\n", all[s].name, i,
                        got[i], want[i]);
            if (e > worst) worst = e;
        }
        printf("  learner_score %-17s vs host function: worst error/tolerance %.3f\n",
               all[s].name, worst);
        CHECK(bad == 0, "learner_score %s: %zu of %d rows differ from the host function",
              all[s].name, bad, N);
    }
    CHECK(learner_score(got, &Lg, &pool, REDUCE_NONE, T, 5, 3, row0) == -1,
          "learner_score(REDUCE_NONE) should decline");
    CHECK(learner_score(got, &Lg, &pool, REDUCE_BALD, 0, 5, 3, row0) == -1,
          "learner_score(BALD, T = 0) should decline");

    free(want); free(got); free(params);
    free(probs_c); free(probs_g); free(mc_c); free(mc_g);
    free(Xt); free(Xp); free(yt); free(yp);
    learner_free(&Lc);
    learner_free(&Lg);
}

// ----------------------------------------------------------------------------
// 5. the convolutional model's ops, CPU vs CUDA on the same inputs: conv2d_forward and
// _backward within tolerance (pair_report: their gemms round differently), max-pooling bit
// for bit (a comparison and copies). Without a GPU the same code runs CPU against CPU, quietly.

static int pair_quiet;

/* A backend buffer holding a copy of host (bytes). */
static void *to_device(const Backend *be, const void *host, size_t bytes) {
    void *d = be->alloc(bytes ? bytes : 1);
    if (!d) {
        fprintf(stderr, "backend %s: alloc of %zu bytes failed\n", be->name, bytes);
        exit(3);
    }
    be->upload(d, host, bytes);
    return d;
}

/* n uniform floats in [lo, hi) from stream `sub` of RNG_DATA (caller frees). */
static float *random_floats(size_t n, double lo, double hi, uint64_t sub) {
    float *a = malloc((n ? n : 1) * sizeof(float));
    Rng r = rng_stream(42, RNG_DATA, sub);
    for (size_t i = 0; i < n; i++) a[i] = (float)(lo + (hi - lo) * rng_uniform(&r));
    return a;
}

/* CUDA's got (n) against the CPU's want: the same bits when bitwise, else within
 * 1e-5·max|want| + 1e-4·|want| elementwise (a sum over thousands of terms, as a convolution's
 * weight gradient is, can land near 0 with an absolute rounding error of the terms' size). */
static void pair_report(const char *what, const float *got, const float *want, size_t n, int bitwise) {
    const int same = memcmp(got, want, n * sizeof(float)) == 0;
    if (bitwise) CHECK(same, "%s: CUDA's bits differ from the CPU's", what);
    if (pair_quiet) {
        CHECK(same, "%s: the CPU against itself differs", what);
        return;
    }
    double scale = 0.0, worst = 0.0;
    for (size_t i = 0; i < n; i++) if (fabs(want[i]) > scale) scale = fabs(want[i]);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        const double e = fabs((double)got[i] - want[i]) / (1e-5 * scale + 1e-4 * fabs(want[i]) + 1e-30);
        if (!(e <= 1.0) && bad++ < 3) fprintf(stderr, "  %s[%zu] = %.9g, want %.9g\n", what, i, got[i], want[i]);
        if (e > worst || e != e) worst = e;
    }
    CHECK(bad == 0, "%s: %zu of %zu out of tolerance", what, bad, n);
    printf("  pair  %-60s %s (worst error/tolerance %.3f)\n", what, same ? "bitwise equal" : "within tolerance", worst);
}

/* conv2d_forward, conv2d_backward (dinp, dweight, dbias) of N images (C,H,W) through OC
 * kernels of k x k, G rows per gemm, on both backends. */
static void pair_conv(const Backend *be2[2], int N, int C, int H, int W, int OC, int k, int G) {
    const int P = (H - k + 1) * (W - k + 1);
    const size_t n_in = (size_t)N * C * H * W, n_w = (size_t)OC * C * k * k, n_out = (size_t)N * OC * P;
    const size_t n_work = conv2d_work_floats(G, C, H, W, OC, k);
    float *inp = random_floats(n_in, 0, 1, 120), *w = random_floats(n_w, -0.2, 0.2, 121);
    float *b = random_floats((size_t)OC, -1, 1, 122), *dout = random_floats(n_out, -1, 1, 123);
    enum { OUT, DINP, DW, DB, OUTS };
    float *res[2][OUTS];
    for (int d = 0; d < 2; d++) {
        const Backend *be = be2[d];
        float *d_inp = to_device(be, inp, n_in * sizeof(float)), *d_w = to_device(be, w, n_w * sizeof(float));
        float *d_b = to_device(be, b, (size_t)OC * sizeof(float));
        float *d_dout = to_device(be, dout, n_out * sizeof(float));
        float *d_out = be->alloc(n_out * sizeof(float)), *d_work = be->alloc(n_work * sizeof(float));
        float *d_dinp = be->alloc(n_in * sizeof(float)), *d_dw = be->alloc(n_w * sizeof(float));
        float *d_db = be->alloc((size_t)OC * sizeof(float));
        be->conv2d_forward(d_out, d_work, d_inp, d_w, d_b, N, C, H, W, OC, k, G);
        be->conv2d_backward(d_dinp, d_dw, d_db, d_work, d_dout, d_inp, d_w, N, C, H, W, OC, k, G);
        const size_t sizes[OUTS] = {n_out, n_in, n_w, (size_t)OC};
        float *bufs[OUTS] = {d_out, d_dinp, d_dw, d_db};
        for (int o = 0; o < OUTS; o++) {
            res[d][o] = malloc(sizes[o] * sizeof(float));
            be->download(res[d][o], bufs[o], sizes[o] * sizeof(float));
        }
        void *all[] = {d_inp, d_w, d_b, d_dout, d_out, d_work, d_dinp, d_dw, d_db};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) be->free(all[i]);
    }
    static const char *names[OUTS] = {"conv2d_forward", "conv2d_backward dinp", "conv2d_backward dweight",
                                      "conv2d_backward dbias"};
    const size_t sizes[OUTS] = {n_out, n_in, n_w, (size_t)OC};
    for (int o = 0; o < OUTS; o++) {
        char what[128];
        snprintf(what, sizeof what, "%s (N=%d,C=%d,%dx%d,OC=%d,k=%d,G=%d)", names[o], N, C, H, W, OC, k, G);
        pair_report(what, res[1][o], res[0][o], sizes[o], 0);
        free(res[0][o]);
        free(res[1][o]);
    }
    free(inp); free(w); free(b); free(dout);
}

/* maxpool_forward (values and argmax) and maxpool_backward on both backends: the same bits. */
static void pair_maxpool(const Backend *be2[2], int N, int C, int H, int W, int s) {
    const size_t n_in = (size_t)N * C * H * W, n_out = (size_t)N * C * (H / s) * (W / s);
    float *inp = random_floats(n_in, -1, 1, 124), *dout = random_floats(n_out, -1, 1, 125);
    for (size_t i = 0; i < n_in; i += 7) inp[i] = 0.25f;     // some ties
    float *out[2], *dinp[2];
    int32_t *am[2];
    for (int d = 0; d < 2; d++) {
        const Backend *be = be2[d];
        float *d_inp = to_device(be, inp, n_in * sizeof(float));
        float *d_dout = to_device(be, dout, n_out * sizeof(float));
        float *d_out = be->alloc(n_out * sizeof(float)), *d_dinp = be->alloc(n_in * sizeof(float));
        int32_t *d_am = be->alloc(n_out * sizeof(int32_t));
        be->maxpool_forward(d_out, d_am, d_inp, N, C, H, W, s);
        be->maxpool_backward(d_dinp, d_dout, d_am, N, C, H, W, s);
        out[d] = malloc(n_out * sizeof(float));
        dinp[d] = malloc(n_in * sizeof(float));
        am[d] = malloc(n_out * sizeof(int32_t));
        be->download(out[d], d_out, n_out * sizeof(float));
        be->download(dinp[d], d_dinp, n_in * sizeof(float));
        be->download(am[d], d_am, n_out * sizeof(int32_t));
        void *all[] = {d_inp, d_dout, d_out, d_dinp, d_am};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) be->free(all[i]);
    }
    char what[128];
    snprintf(what, sizeof what, "maxpool_forward (N=%d,C=%d,%dx%d,s=%d)", N, C, H, W, s);
    pair_report(what, out[1], out[0], n_out, 1);
    CHECK(memcmp(am[0], am[1], n_out * sizeof(int32_t)) == 0, "%s: argmax differs", what);
    snprintf(what, sizeof what, "maxpool_backward (N=%d,C=%d,%dx%d,s=%d)", N, C, H, W, s);
    pair_report(what, dinp[1], dinp[0], n_in, 1);
    for (int d = 0; d < 2; d++) { free(out[d]); free(dinp[d]); free(am[d]); }
    free(inp); free(dout);
}

/* CNN c on 28x28 images, on both backends from the same weights: the loss and
 * every gradient of one training step (the same dropout masks), then the probabilities and
 * MC samples of a pool (NMSE <= 1e-7, as the MLP's in test_pool). */
static void pair_cnn(const Backend *be2[2], CnnConfig c) {
    const int N = 64, Np = 300, T = 4, K = 10;
    float *X = malloc((size_t)Np * 784 * sizeof(float));
    int32_t *y = malloc((size_t)Np * sizeof(int32_t));
    blobs(X, y, Np, 784, K, 6);
    const LearnerInput batch = {.x = X, .n = N, .d = 784}, pool = {.x = X, .n = Np, .d = 784};
    Cnn net[2];
    float *grads[2], *probs[2], *mc[2];
    double loss[2];
    char err[256];
    for (int d = 0; d < 2; d++) {
        if (cnn_init(&net[d], &c, be2[d], err, sizeof err) != 0) {
            fprintf(stderr, "cnn_init on %s: %s\n", be2[d]->name, err);
            exit(1);
        }
        cnn_reset(&net[d], 8);
        loss[d] = cnn_loss_grad(&net[d], &batch, y, rng_key(8, RNG_DROPOUT, 0, 0));
        grads[d] = malloc(net[d].n_params * sizeof(float));
        cnn_get_grads(grads[d], &net[d]);
        probs[d] = malloc((size_t)Np * K * sizeof(float));
        mc[d] = malloc((size_t)T * Np * K * sizeof(float));
        cnn_predict(probs[d], mc[d], NULL, &net[d], &pool, T, 8, 1, 500);
    }
    if (!pair_quiet) printf("  pair  cnn step: loss cpu %.9f cuda %.9f\n", loss[0], loss[1]);
    CHECK(isfinite(loss[0]) && fabs(loss[1] - loss[0]) <= ATOL + RTOL * fabs(loss[0]), "cnn step: loss cpu %.9g cuda %.9g",
          loss[0], loss[1]);
    pair_report("cnn step: every gradient", grads[1], grads[0], net[0].n_params, 0);
    const double e_probs = nmse(probs[1], probs[0], (size_t)Np * K), e_mc = nmse(mc[1], mc[0], (size_t)T * Np * K);
    if (!pair_quiet) printf("  pair  cnn pool of %d rows: NMSE probs %.3g, MC samples (T = %d) %.3g\n", Np, e_probs, T, e_mc);
    CHECK(e_probs <= 1e-7 && e_mc <= 1e-7, "cnn pool: NMSE probs %.3g, MC %.3g", e_probs, e_mc);
    for (int d = 0; d < 2; d++) {
        free(grads[d]); free(probs[d]); free(mc[d]);
        cnn_free(&net[d]);
    }
    free(X); free(y);
}

/* The CNN's ops at the default model's MNIST shapes, and at odd ones; then the whole model. */
static void test_cnn_ops(const Backend *cpu, const Backend *cuda) {
    const Backend *be2[2] = {cpu, cuda};
    pair_conv(be2, 37, 1, 28, 28, 32, 4, 15);     // the first layer; groups of 15, 15, 7
    pair_conv(be2, 20, 32, 25, 25, 32, 4, 8);     // the second
    pair_conv(be2, 5, 3, 9, 7, 5, 3, 2);
    pair_maxpool(be2, 37, 32, 22, 22, 2);
    pair_maxpool(be2, 3, 2, 7, 9, 3);             // a row and columns past the last window
    const CnnConfig gal = {.c = 1, .h = 28, .w = 28, .k = 10, .filters = 32, .kernel = 4, .pool = 2,
                           .dense = 128, .dropout_conv = 0.25f, .dropout_dense = 0.5f, .lr = 1e-3f,
                           .weight_decay = 1e-4f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
                           .minibatch = 64};
    pair_cnn(be2, gal);                         // the default net
    CnnConfig bb = gal;                         // Kirsch et al.'s: channel dropout, conv in the MC head
    bb.layout = CNN_CONV_POOL_CONV_POOL; bb.filters2 = 64; bb.kernel = 5; bb.dropout_conv = 0.5f;
    pair_cnn(be2, bb);
}

/* The encoder's ops one by one on both backends, each backend's backward fed its own forward's
 * stats and probs: layernorm_forward (out, stats) and _backward (dinp, dgamma, dbeta) over the
 * B·T rows of H, gelu_forward and _backward over (B·T, 4H), attention_forward (ctx, probs) and
 * _backward (dq, dk, dv) with heads heads and sequence s's last s keys masked (padding). */
static void pair_encoder_ops(const Backend *be2[2], int B, int T, int H, int heads) {
    const int N = B * T;
    const size_t n = (size_t)N * H, ni = 4 * n, np = (size_t)B * heads * T * T;
    const float scale = 1.0f / sqrtf((float)(H / heads));
    float *x = random_floats(n, -2, 2, 130), *gamma = random_floats((size_t)H, 0.5, 1.5, 131);
    float *beta = random_floats((size_t)H, -0.5, 0.5, 132), *dout = random_floats(n, -1, 1, 133);
    float *xi = random_floats(ni, -4, 4, 134), *douti = random_floats(ni, -1, 1, 135);
    float *q = random_floats(n, -2, 2, 136), *k = random_floats(n, -2, 2, 137), *v = random_floats(n, -1, 1, 138);
    uint8_t *mask = malloc((size_t)N);
    for (int r = 0; r < N; r++) mask[r] = r % T < T - r / T;
    enum { LN, STATS, LN_DINP, LN_DG, LN_DB, GELU, GELU_B, CTX, PROBS, DQ, DK, DV, PCLS, PMEAN, PBCLS, PBMEAN, OUTS };
    const size_t nb = (size_t)B * H;
    const size_t sizes[OUTS] = {n, 2 * (size_t)N, n, (size_t)H, (size_t)H, ni, ni, n, np, n, n, n, nb, nb, n, n};
    float *res[2][OUTS];
    for (int d = 0; d < 2; d++) {
        const Backend *be = be2[d];
        float *d_x = to_device(be, x, n * sizeof(float)), *d_gamma = to_device(be, gamma, (size_t)H * sizeof(float));
        float *d_beta = to_device(be, beta, (size_t)H * sizeof(float)), *d_dout = to_device(be, dout, n * sizeof(float));
        float *d_xi = to_device(be, xi, ni * sizeof(float)), *d_douti = to_device(be, douti, ni * sizeof(float));
        float *d_q = to_device(be, q, n * sizeof(float)), *d_k = to_device(be, k, n * sizeof(float));
        float *d_v = to_device(be, v, n * sizeof(float));
        uint8_t *d_mask = to_device(be, mask, (size_t)N);
        float *d_res[OUTS];
        for (int o = 0; o < OUTS; o++) d_res[o] = be->alloc(sizes[o] * sizeof(float));
        be->layernorm_forward(d_res[LN], d_res[STATS], d_x, d_gamma, d_beta, N, H, 1e-12f);
        be->layernorm_backward(d_res[LN_DINP], d_res[LN_DG], d_res[LN_DB], d_dout, d_x, d_res[STATS], d_gamma, N, H);
        be->gelu_forward(d_res[GELU], d_xi, ni);
        be->gelu_backward(d_res[GELU_B], d_douti, d_xi, ni);
        be->attention_forward(d_res[CTX], d_res[PROBS], d_q, d_k, d_v, d_mask, B, T, H, heads, scale);
        be->attention_backward(d_res[DQ], d_res[DK], d_res[DV], d_dout, d_res[PROBS], d_q, d_k, d_v, B, T, H,
                               heads, scale);
        for (int cls = 0; cls < 2; cls++) {     // pooling: dout's first B rows as the pooled gradient
            be->pool_forward(d_res[cls ? PCLS : PMEAN], d_x, d_mask, B, T, H, cls);
            be->pool_backward(d_res[cls ? PBCLS : PBMEAN], d_dout, d_mask, B, T, H, cls);
        }
        for (int o = 0; o < OUTS; o++) {
            res[d][o] = malloc(sizes[o] * sizeof(float));
            be->download(res[d][o], d_res[o], sizes[o] * sizeof(float));
            be->free(d_res[o]);
        }
        void *all[] = {d_x, d_gamma, d_beta, d_dout, d_xi, d_douti, d_q, d_k, d_v, d_mask};
        for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) be->free(all[i]);
    }
    static const char *names[OUTS] = {"layernorm_forward", "layernorm_forward stats", "layernorm_backward dinp",
        "layernorm_backward dgamma", "layernorm_backward dbeta", "gelu_forward", "gelu_backward",
        "attention_forward ctx", "attention_forward probs", "attention_backward dq", "attention_backward dk",
        "attention_backward dv", "pool_forward cls", "pool_forward mean", "pool_backward cls", "pool_backward mean"};
    for (int o = 0; o < OUTS; o++) {
        char what[128];
        snprintf(what, sizeof what, "%s (B=%d,T=%d,H=%d,heads=%d)", names[o], B, T, H, heads);
        pair_report(what, res[1][o], res[0][o], sizes[o], 0);
        free(res[0][o]);
        free(res[1][o]);
    }
    free(x); free(gamma); free(beta); free(dout); free(xi); free(douti); free(q); free(k); free(v); free(mask);
}

/* The encoder's ops at a BERT-like shape (33 tokens: no power of two) and at a small one. */
static void test_encoder_ops(const Backend *cpu, const Backend *cuda) {
    const Backend *be2[2] = {cpu, cuda};
    pair_encoder_ops(be2, 4, 33, 64, 4);
    pair_encoder_ops(be2, 3, 5, 12, 3);
}

/* The BERT encoder's forward pass (its ops: embed, LayerNorm, GELU, attention, matmuls) on
 * both backends, on the committed tiny model (tests/fixtures/tiny-bert) and its reference
 * inputs: every hidden state within fp32 tolerance. */
static void pair_bert(const Backend *cpu, const Backend *gpu) {
    Bert b;
    SafeTensors ref;
    char err[512] = "";
    if (bert_load(&b, "tests/fixtures/tiny-bert", err, sizeof err) ||
        st_open(&ref, TINY_BERT_REFERENCE, err, sizeof err)) {
        CHECK(0, "bert fixture: %s", err);
        return;
    }
    const StTensor *ti = st_find(&ref, "input_ids"), *tt = st_find(&ref, "token_type_ids");
    const StTensor *tm = st_find(&ref, "attention_mask");
    const int nb = (int)ti->shape[0], nt = (int)ti->shape[1], n = nb * nt;
    int32_t *ids = malloc(3 * (size_t)n * sizeof(int32_t));     // ids, types, then the mask as int32
    uint8_t *mask = malloc((size_t)n);
    tiny_bert_i32(ids, ti);
    tiny_bert_i32(ids + n, tt);
    tiny_bert_i32(ids + 2 * n, tm);
    for (int i = 0; i < n; i++) mask[i] = (uint8_t)ids[2 * n + i];
    const size_t nh = (size_t)n * b.c.hidden;
    float *h[2] = {malloc(nh * sizeof(float)), malloc(nh * sizeof(float))};
    const Backend *be2[2] = {cpu, gpu};
    for (int d = 0; d < 2; d++) {
        const int rc = bert_forward(h[d], &b, be2[d], ids, ids + n, mask, nb, nt, err, sizeof err);
        CHECK(rc == 0, "bert_forward on %s: %s", be2[d]->name, err);
    }
    pair_report("bert_forward: last hidden states (tiny-bert, 3 x 9 x 32)", h[1], h[0], nh, 0);
    free(h[0]); free(h[1]); free(ids); free(mask);
    st_close(&ref);
    bert_free(&b);
}

/* --model bert:DIR's fine-tuning step on both backends: the tiny model on the reference's
 * token rows (types 0), one loss and gradient for --finetune lora:4 (cls) and head+last:1
 * (mean), the same seed's initial weights on each: within fp32 tolerance. */
static void pair_bertmodel(const Backend *cpu, const Backend *gpu) {
    SafeTensors ref;
    char err[512] = "";
    if (st_open(&ref, TINY_BERT_REFERENCE, err, sizeof err)) {
        CHECK(0, "bert fixture: %s", err);
        return;
    }
    Dataset pool = {0};
    tiny_bert_rows(&pool, &ref);
    const char *modes[2][2] = {{"lora:4", "cls"}, {"head+last:1", "mean"}};
    for (int md = 0; md < 2; md++) {
        Config c;
        config_defaults(&c, CMD_RUN);
        snprintf(c.model, sizeof c.model, "bert:tests/fixtures/tiny-bert");
        snprintf(c.finetune, sizeof c.finetune, "%s", modes[md][0]);
        snprintf(c.pooling, sizeof c.pooling, "%s", modes[md][1]);
        c.minibatch = 4;
        float *g[2] = {NULL, NULL};
        size_t n_train = 0;
        double loss[2] = {0, 0};
        const Backend *be2[2] = {cpu, gpu};
        for (int d = 0; d < 2; d++) {
            Model m;
            if (model_open(&m, &c, &pool, be2[d], err, sizeof err)) {
                CHECK(0, "bert model on %s: %s", be2[d]->name, err);
                continue;
            }
            model_reset(&m, 3);
            n_train = (m.ops->state_size(&m) - sizeof(int)) / (3 * sizeof(float));
            g[d] = malloc(n_train * sizeof(float));
            const LearnerInput X = model_rows(&pool, 0, pool.n);
            loss[d] = bert_model_loss_grad(g[d], &m, &X, pool.y);
            model_close(&m);
        }
        if (g[0] && g[1]) {
            char what[96];
            snprintf(what, sizeof what, "bert model --finetune %s gradients", modes[md][0]);
            pair_report(what, g[1], g[0], n_train, 0);
            CHECK(fabs(loss[0] - loss[1]) <= 1e-5 * (1 + fabs(loss[0])), "%s loss: %g vs %g", modes[md][0], loss[1],
                  loss[0]);
        }
        free(g[0]);
        free(g[1]);
    }
    dataset_free(&pool);
    st_close(&ref);
}

int main(int argc, char **argv) {
    char err[512];
    const Backend *cuda = backend_get("cuda", err, sizeof err);
    if (argc > 1 && strcmp(argv[1], "--probe") == 0) {
        printf("%s\n", cuda ? (cuda->device ? cuda->device : "cuda") : err);
        return cuda ? 0 : 1;
    }
    clock_t t0 = clock();
    test_contracts();
    if (!cuda) {
        printf("  test_cuda: GPU parts skipped: %s\n", err);
        pair_quiet = 1;                 // the comparisons' own code still runs: CPU vs CPU
        int before = check_failed;
        test_cnn_ops(&backend_cpu, &backend_cpu);
        test_encoder_ops(&backend_cpu, &backend_cpu);
        pair_bert(&backend_cpu, &backend_cpu);
        pair_bertmodel(&backend_cpu, &backend_cpu);
        printf("  (no GPU: the CNN's and BERT's ops compared CPU vs CPU: %s)\n", check_failed == before ? "ok" : "FAILED");
        return check_done("test_cuda");
    }
    printf("  device: %s\n", cuda->device ? cuda->device : "?");
    test_step(cuda);
    test_pool(cuda);
    test_cnn_ops(&backend_cpu, cuda);
    test_encoder_ops(&backend_cpu, cuda);
    pair_bert(&backend_cpu, cuda);
    pair_bertmodel(&backend_cpu, cuda);
    printf("  (%.1f s CPU)\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
    return check_done("test_cuda");
}
