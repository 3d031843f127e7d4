/* test_learner — the MLP learner and the round budget, on the CPU backend:
 *   1. analytic gradients match central differences (with and without dropout, 0 hidden layers,
 *      dense and sparse (CSR) input, with and without --l2-per-label's penalty, which touches
 *      the first layer's weights only); a sparse learner predicts what a dense one does
 *   2. MC-dropout samples differ across t with dropout, equal probs exactly without
 *   3. learner_predict does not depend on how the pool is chunked (bitwise)
 *   4. it learns a small synthetic 3-class problem
 *   5. learner_fit is deterministic in (seed, round)
 *   6. budget_for_round on hand-computed examples
 * plus config checking and learner_free on a zeroed struct.
 */
#include "sim/budget.h"
#include "sim/learner.h"
#include "sim/rng.h"
#include "tests/check.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static LearnerConfig config(int d, int k, int n_hidden, const int *hidden, float dropout) {
    LearnerConfig c = {.d = d, .k = k, .n_hidden = n_hidden, .dropout = dropout,
                       .lr = 1e-2f, .weight_decay = 0.0f, .beta1 = 0.9f, .beta2 = 0.999f,
                       .eps = 1e-8f, .minibatch = 32};
    for (int l = 0; l < n_hidden; l++) c.hidden[l] = hidden[l];
    return c;
}

/* Rows X (n,d) as the learner reads dense input. */
static LearnerInput dense(const float *X, int n, int d) {
    return (LearnerInput){.x = X, .n = n, .d = d};
}

/* A CSR copy of X (n,d) without its zeros (the caller frees it with free_csr). */
typedef struct { int64_t *indptr; int32_t *indices; float *values; } Csr;

static Csr to_csr(const float *X, int n, int d) {
    Csr c = {malloc(((size_t)n + 1) * sizeof(int64_t)), malloc(((size_t)n * d + 1) * sizeof(int32_t)),
             malloc(((size_t)n * d + 1) * sizeof(float))};
    c.indptr[0] = 0;
    for (int i = 0; i < n; i++) {
        int64_t nnz = c.indptr[i];
        for (int j = 0; j < d; j++)
            if (X[(size_t)i * d + j] != 0.0f) {
                c.indices[nnz] = j;
                c.values[nnz++] = X[(size_t)i * d + j];
            }
        c.indptr[i + 1] = nnz;
    }
    return c;
}

static void free_csr(Csr *c) {
    free(c->indptr); free(c->indices); free(c->values);
}

static LearnerInput sparse_in(const Csr *c, int n, int d) {
    return (LearnerInput){.indptr = c->indptr, .indices = c->indices, .values = c->values,
                          .n = n, .d = d};
}

/* Zeroes about half of X (n,d), and all of row 1 (an empty row), like sparse text features. */
static void sparsify(float *X, int n, int d, uint64_t sub) {
    Rng r = rng_stream(7, RNG_DATA, sub);
    for (size_t i = 0; i < (size_t)n * d; i++)
        if (rng_uniform(&r) < 0.5 || (n > 1 && i / d == 1)) X[i] = 0.0f;
}

/* Learner on the CPU; aborts the test on failure (it cannot go on without one). */
static void init_or_die(Learner *L, const LearnerConfig *c) {
    char err[256];
    if (learner_init(L, c, &backend_cpu, err, sizeof err) != 0) {
        fprintf(stderr, "learner_init: %s\n", err);
        exit(1);
    }
}

/* X (n,D) standard normal and y (n) uniform over K, from stream `sub` of RNG_DATA. */
static void random_data(float *X, int32_t *y, int n, int D, int K, uint64_t sub) {
    Rng r = rng_stream(7, RNG_DATA, sub);
    for (size_t i = 0; i < (size_t)n * D; i++) X[i] = (float)rng_normal(&r);
    for (int i = 0; i < n; i++) y[i] = (int32_t)rng_below(&r, (uint32_t)K);
}

// ----------------------------------------------------------------------------
// 1. gradient check

/* Central differences on every parameter, in float, step GRAD_H: the loss is computed in
 * double from float logits, whose rounding (~1e-7 of the loss) divided by 2h stays ~2e-5, and
 * the truncation error h²·f'''/6 is smaller. Tolerance |num - ana| <= 1e-4 + 1e-2·|ana|; a wrong
 * gradient (missing scale, transposed weight, mask off by one) is off by far more.
 * Biases are set to random values first: with zero biases a row whose inputs to a layer are
 * all dropped has pre-activations exactly 0, on the ReLU's kink, where central differences
 * see half the slope. */
#define GRAD_H 3e-3
static void gradcheck(int n_hidden, const int *hidden, float dropout, int sparse, float l2,
                      const char *name) {
    const int D = 6, K = 3, N = 10;
    LearnerConfig c = config(D, K, n_hidden, hidden, dropout);
    c.sparse = sparse;      // CSR rows through sparse_matmul, W_0 stored transposed
    c.l2_per_label = l2;    // the loss carries (l2/N)·||W_0||²
    Learner L = {0};
    init_or_die(&L, &c);
    learner_reset(&L, 3, 0);
    float X[10 * 6];
    int32_t y[10];
    random_data(X, y, N, D, K, 1);
    if (sparse) sparsify(X, N, D, 5);
    Csr csr = to_csr(X, N, D);
    const uint64_t key = rng_key(3, RNG_DROPOUT, 0, 0);   // fixed key: fixed masks
    const LearnerInput in = sparse ? sparse_in(&csr, N, D) : dense(X, N, D);

    const size_t np = L.n_params;
    float *p = malloc(np * sizeof(float)), *ana = malloc(np * sizeof(float));
    learner_get_params(p, &L);
    Rng r = rng_stream(7, RNG_DATA, 100);
    for (int l = 0; l < L.n_layers; l++)
        for (int o = 0; o < L.out[l]; o++) p[L.b_off[l] + o] = (float)(rng_uniform(&r) - 0.5);
    learner_set_params(&L, p);
    double loss = learner_loss_grad(&L, &in, y, key);
    learner_get_grads(ana, &L);
    CHECK(isfinite(loss) && loss > 0, "%s: loss %g", name, loss);

    const double h = GRAD_H;
    size_t bad = 0, nonzero = 0;
    double worst = 0.0;
    for (size_t i = 0; i < np; i++) {
        float orig = p[i];
        float plus = (float)(orig + h), minus = (float)(orig - h);
        p[i] = plus;
        learner_set_params(&L, p);
        double lp = learner_loss_grad(&L, &in, y, key);
        p[i] = minus;
        learner_set_params(&L, p);
        double lm = learner_loss_grad(&L, &in, y, key);
        p[i] = orig;
        double num = (lp - lm) / ((double)plus - (double)minus);
        double err = fabs(num - ana[i]), tol = 1e-4 + 1e-2 * fabs(ana[i]);
        if (err / tol > worst) worst = err / tol;
        if (err > tol) {
            if (bad < 5) fprintf(stderr, "  %s: param %zu: analytic %.8g, numeric %.8g\n",
                                 name, i, ana[i], num);
            bad++;
        }
        nonzero += ana[i] != 0.0f;
    }
    learner_set_params(&L, p);
    printf("  gradcheck %-26s %zu params, %zu nonzero, worst error/tolerance %.3f\n", name, np,
           nonzero, worst);
    CHECK(bad == 0, "%s: %zu of %zu gradients off", name, bad, np);
    CHECK(nonzero > np / 2, "%s: only %zu of %zu gradients nonzero", name, nonzero, np);

    // the gradient is left in L->grads and is a pure function of (params, data, key)
    learner_loss_grad(&L, &in, y, key);
    float *again = malloc(np * sizeof(float));
    learner_get_grads(again, &L);
    CHECK(memcmp(again, ana, np * sizeof(float)) == 0, "%s: gradient not repeatable", name);
    free(again);
    free(p);
    free(ana);
    free_csr(&csr);
    learner_free(&L);
}

static void test_gradients(void) {
    const int h2[] = {5, 4};
    gradcheck(2, h2, 0.3f, 0, 0.0f, "hidden {5,4}, dropout 0.3");
    gradcheck(2, h2, 0.0f, 0, 0.0f, "hidden {5,4}, dropout 0");
    gradcheck(0, NULL, 0.0f, 0, 0.0f, "no hidden layer");
    const int h3[] = {7, 6, 5};
    gradcheck(3, h3, 0.5f, 0, 0.0f, "hidden {7,6,5}, dropout 0.5");
    gradcheck(2, h2, 0.3f, 1, 0.0f, "sparse, hidden {5,4}, dropout 0.3");
    gradcheck(0, NULL, 0.0f, 1, 0.0f, "sparse, no hidden layer");
    // --l2-per-label: the penalty (c/n)·||W_0||² is in the loss and its gradient
    gradcheck(2, h2, 0.3f, 0, 3.5f, "l2 3.5, hidden {5,4}, dropout 0.3");
    gradcheck(0, NULL, 0.0f, 0, 3.5f, "l2 3.5, no hidden layer");
    gradcheck(2, h2, 0.3f, 1, 3.5f, "l2 3.5, sparse, hidden {5,4}");
}

// ----------------------------------------------------------------------------
// 1c. --l2-per-label: 2(c/n)·W_0 added to the first layer's gradient, nothing else

static void test_l2_per_label(void) {
    const int D = 6, K = 3, N = 10, h2[] = {5, 4};
    const float c = 3.5f;
    float X[10 * 6];
    int32_t y[10];
    random_data(X, y, N, D, K, 2);
    const LearnerInput in = dense(X, N, D);
    LearnerConfig c0 = config(D, K, 2, h2, 0.3f), c1 = c0;
    c1.l2_per_label = c;
    Learner L0 = {0}, L1 = {0};
    init_or_die(&L0, &c0);
    init_or_die(&L1, &c1);
    learner_reset(&L0, 5, 0);
    learner_reset(&L1, 5, 0);
    const size_t np = L0.n_params, nw = (size_t)L0.in[0] * L0.out[0];
    float *p = malloc(np * sizeof(float)), *g0 = malloc(np * sizeof(float)), *g1 = malloc(np * sizeof(float));
    learner_get_params(p, &L0);
    const uint64_t key = rng_key(5, RNG_DROPOUT, 0, 0);
    double loss0 = learner_loss_grad(&L0, &in, y, key), loss1 = learner_loss_grad(&L1, &in, y, key);
    learner_get_grads(g0, &L0);
    learner_get_grads(g1, &L1);
    double sq = 0.0;
    for (size_t i = 0; i < nw; i++) sq += (double)p[i] * p[i];
    CHECK_NEAR(loss1 - loss0, (double)c / N * sq, 1e-9, 1e-6);
    size_t off_w0 = 0, off_rest = 0;
    for (size_t i = 0; i < np; i++) {
        if (i < nw) off_w0 += g1[i] != g0[i] + (float)(2.0 * c / N) * p[i];
        else off_rest += g1[i] != g0[i];
    }
    CHECK(L0.w_off[0] == 0, "W_0 first in the parameter block");
    CHECK(off_w0 == 0, "l2: %zu of %zu W_0 gradients are not grad + 2(c/n)·w", off_w0, nw);
    CHECK(off_rest == 0, "l2: %zu gradients outside W_0 (biases, later layers) changed", off_rest);

    // training: the penalty shrinks W_0, and a fit is deterministic with it
    learner_reset(&L0, 5, 0);
    learner_reset(&L1, 5, 0);
    learner_fit(&L0, &in, y, 300, 5, 0);
    double fit1 = learner_fit(&L1, &in, y, 300, 5, 0);
    float *p0 = malloc(np * sizeof(float)), *p1 = malloc(np * sizeof(float));
    learner_get_params(p0, &L0);
    learner_get_params(p1, &L1);
    double sq0 = 0.0, sq1 = 0.0;
    for (size_t i = 0; i < nw; i++) { sq0 += (double)p0[i] * p0[i]; sq1 += (double)p1[i] * p1[i]; }
    printf("  l2-per-label %.1f on %d rows: ||W_0||² %.4f -> %.4f after 300 steps (%.4f without)\n",
           c, N, sq, sq1, sq0);
    CHECK(sq1 < 0.5 * sq0, "l2: ||W_0||² %.4f with the penalty, %.4f without", sq1, sq0);
    learner_reset(&L1, 5, 0);
    double fit1b = learner_fit(&L1, &in, y, 300, 5, 0);
    learner_get_params(p0, &L1);
    CHECK(memcmp(p0, p1, np * sizeof(float)) == 0 && fit1 == fit1b, "l2: the same fit twice differs");
    free(p); free(g0); free(g1); free(p0); free(p1);
    learner_free(&L0);
    learner_free(&L1);
}

// ----------------------------------------------------------------------------
// 1b. sparse input gives the dense model's predictions

/* A sparse learner and a dense one with the same seed: the same initial weights (W_0
 * transposed), the same probabilities and MC samples, before and after training, for the
 * same rows given as CSR and densified. Not bitwise: the dense first layer is an sgemm, the
 * sparse one a loop over nonzeros, so they round differently (~1e-7 relative per layer). */
static void test_sparse_matches_dense(void) {
    const int D = 300, K = 4, N = 2100, T = 3, steps = 30;   // 2100 rows: 3 predict chunks
    const int hidden[] = {24, 12};
    LearnerConfig cd = config(D, K, 2, hidden, 0.3f), cs = cd;
    cs.sparse = 1;
    Learner Ld = {0}, Ls = {0};
    init_or_die(&Ld, &cd);
    init_or_die(&Ls, &cs);
    float *X = malloc((size_t)N * D * sizeof(float));
    int32_t *y = malloc((size_t)N * sizeof(int32_t));
    random_data(X, y, N, D, K, 6);
    sparsify(X, N, D, 7);       // ~150 nonzeros a row: 1024 rows outgrow the first CSR buffers
    Csr csr = to_csr(X, N, D);
    const LearnerInput xd = dense(X, N, D), xs = sparse_in(&csr, N, D);

    learner_reset(&Ld, 4, 0);
    learner_reset(&Ls, 4, 0);
    float *pd = malloc(Ld.n_params * sizeof(float)), *ps = malloc(Ls.n_params * sizeof(float));
    learner_get_params(pd, &Ld);
    learner_get_params(ps, &Ls);
    size_t w_bad = 0;
    const int H = hidden[0];
    for (int o = 0; o < H; o++)
        for (int j = 0; j < D; j++) w_bad += pd[(size_t)o * D + j] != ps[(size_t)j * H + o];
    CHECK(w_bad == 0, "sparse init: %zu weights of W_0 differ from the dense W_0 transposed", w_bad);
    CHECK(memcmp(pd + Ld.b_off[0], ps + Ls.b_off[0], (Ld.n_params - Ld.b_off[0]) * sizeof(float)) == 0,
          "sparse init: later layers differ");

    float *prd = malloc((size_t)N * K * sizeof(float)), *prs = malloc((size_t)N * K * sizeof(float));
    float *mcd = malloc((size_t)T * N * K * sizeof(float)), *mcs = malloc((size_t)T * N * K * sizeof(float));
    for (int trained = 0; trained <= 1; trained++) {
        if (trained) {
            double ld = learner_fit(&Ld, &xd, y, steps, 4, 1);
            double ls = learner_fit(&Ls, &xs, y, steps, 4, 1);
            CHECK(fabs(ld - ls) <= 1e-4 * fabs(ld), "training loss dense %.9g, sparse %.9g", ld, ls);
        }
        CHECK(learner_predict(prd, mcd, &Ld, &xd, T, 4, 1, 0) == 0, "dense predict");
        CHECK(learner_predict(prs, mcs, &Ls, &xs, T, 4, 1, 0) == 0, "sparse predict");
        double worst = 0.0;
        for (size_t i = 0; i < (size_t)N * K; i++) {
            double e = fabs((double)prd[i] - prs[i]) / (1e-6 + 1e-4 * fabs(prd[i]));
            if (e > worst) worst = e;
        }
        for (size_t i = 0; i < (size_t)T * N * K; i++) {
            double e = fabs((double)mcd[i] - mcs[i]) / (1e-6 + 1e-4 * fabs(mcd[i]));
            if (e > worst) worst = e;
        }
        printf("  sparse vs dense input%s: worst error/tolerance %.3f\n",
               trained ? ", after 30 steps" : "", worst);
        CHECK(worst <= 1.0, "sparse and dense predictions differ (%s training)",
              trained ? "after" : "before");
    }
    CHECK(Ls.csr_cap >= csr.indptr[1024] - csr.indptr[0], "CSR buffers did not grow (%lld)",
          (long long)Ls.csr_cap);
    CHECK(learner_macs_per_row(&cs) == 0.0 + 24 * 12 + 12 * 4, "sparse macs with mean_nnz 0");
    cs.mean_nnz = 150.0;
    CHECK(learner_macs_per_row(&cs) == 150.0 * 24 + 24 * 12 + 12 * 4, "sparse macs with mean_nnz 150");
    free(X); free(y); free(pd); free(ps); free(prd); free(prs); free(mcd); free(mcs);
    free_csr(&csr);
    learner_free(&Ld);
    learner_free(&Ls);
}

// ----------------------------------------------------------------------------
// 2. MC samples

static void mc_case(int n_hidden, const int *hidden, float dropout, int expect_equal,
                    const char *name) {
    const int D = 6, K = 3, N = 20, T = 5;
    LearnerConfig c = config(D, K, n_hidden, hidden, dropout);
    Learner L = {0};
    init_or_die(&L, &c);
    learner_reset(&L, 5, 1);
    float X[20 * 6], probs[20 * 3], mc[5 * 20 * 3];
    int32_t y[20];
    random_data(X, y, N, D, K, 2);
    const LearnerInput in = dense(X, N, D);
    learner_predict(probs, mc, &L, &in, T, 5, 1, 0);
    const size_t per = (size_t)N * K * sizeof(float);
    int equal_probs = 0, equal_pairs = 0;
    for (int t = 0; t < T; t++) {
        equal_probs += memcmp(mc + (size_t)t * N * K, probs, per) == 0;
        for (int u = t + 1; u < T; u++)
            equal_pairs += memcmp(mc + (size_t)t * N * K, mc + (size_t)u * N * K, per) == 0;
    }
    if (expect_equal) {
        CHECK(equal_probs == T, "%s: only %d of %d samples equal probs", name, equal_probs, T);
    } else {
        CHECK(equal_pairs == 0, "%s: %d pairs of samples are identical", name, equal_pairs);
        CHECK(equal_probs == 0, "%s: %d samples equal probs", name, equal_probs);
    }
    size_t bad_rows = 0;
    for (int r = 0; r < (T + 1) * N; r++) {
        const float *row = r < N ? probs + (size_t)r * K : mc + (size_t)(r - N) * K;
        double s = 0.0;
        for (int j = 0; j < K; j++) s += row[j];
        bad_rows += !(fabs(s - 1.0) < 1e-5);
    }
    CHECK(bad_rows == 0, "%s: %zu rows of probs or mc do not sum to 1", name, bad_rows);

    // probs alone, mc alone: the same numbers
    float probs2[20 * 3], mc2[5 * 20 * 3];
    learner_predict(probs2, NULL, &L, &in, 0, 5, 1, 0);
    learner_predict(NULL, mc2, &L, &in, T, 5, 1, 0);
    CHECK(memcmp(probs, probs2, per) == 0, "%s: probs depend on whether mc is asked", name);
    CHECK(memcmp(mc, mc2, per * T) == 0, "%s: mc depends on whether probs is asked", name);
    learner_free(&L);
}

/* Consistent MC dropout (row0 = RNG_ROWS_SHARED, batchbald): sample t of every row uses the
 * same masks, so copies of a row get the same T samples (to fp32 rounding: a BLAS may round
 * rows at different positions of a gemm differently), which still differ from each other;
 * with masks keyed per row (row0 = 0) the copies' samples differ. */
static double max_diff(const float *a, const float *b, int k) {
    double d = 0.0;
    for (int c = 0; c < k; c++) d = fmax(d, fabs((double)a[c] - b[c]));
    return d;
}

static void shared_masks_case(int n_hidden, const int *hidden, const char *name) {
    const int D = 6, K = 3, N = 20, T = 5;
    LearnerConfig c = config(D, K, n_hidden, hidden, 0.5f);
    Learner L = {0};
    init_or_die(&L, &c);
    learner_reset(&L, 5, 1);
    float X[20 * 6], shared[5 * 20 * 3], own[5 * 20 * 3];
    int32_t y[20];
    random_data(X, y, N, D, K, 3);
    for (int j = 0; j < D; j++) X[1 * D + j] = X[13 * D + j] = X[j];   // rows 1, 13: copies of row 0
    const LearnerInput in = dense(X, N, D);
    learner_predict(NULL, shared, &L, &in, T, 5, 1, RNG_ROWS_SHARED);
    learner_predict(NULL, own, &L, &in, T, 5, 1, 0);
    int same_shared = 0, same_own = 0, same_t = 0;
    for (int t = 0; t < T; t++) {
        const float *s = shared + (size_t)t * N * K, *o = own + (size_t)t * N * K;
        same_shared += max_diff(s, s + K, K) < 1e-5 && max_diff(s, s + 13 * K, K) < 1e-5;
        same_own += max_diff(o, o + K, K) < 1e-5;
        if (t) same_t += max_diff(s, s - (size_t)N * K, K) < 1e-5;
    }
    CHECK(same_shared == T, "%s, shared masks: copies alike in %d of %d samples", name, same_shared, T);
    CHECK(same_own == 0, "%s, per-row masks: copies alike in %d of %d samples", name, same_own, T);
    CHECK(same_t == 0, "%s, shared masks: %d consecutive samples of row 0 alike", name, same_t);
    learner_free(&L);
}

static void test_mc(void) {
    const int h1[] = {16}, h2[] = {16, 8};
    shared_masks_case(1, h1, "hidden {16}");
    shared_masks_case(2, h2, "hidden {16,8}");
    mc_case(1, h1, 0.5f, 0, "hidden {16}, dropout 0.5");
    mc_case(2, h2, 0.2f, 0, "hidden {16,8}, dropout 0.2");
    mc_case(1, h1, 0.0f, 1, "hidden {16}, dropout 0");
    mc_case(0, NULL, 0.5f, 1, "no hidden layer, dropout 0.5");
}

// ----------------------------------------------------------------------------
// 3. chunk independence

/* The masks depend on the pool row id only, so any chunking gives the same samples. The values
 * are bitwise equal when the backend sees the same matmul shapes (pieces cut at multiples of
 * L->cap); at other cuts OpenBLAS's sgemm may round a row differently depending on how many
 * rows it multiplies (its kernels and thread split depend on M), so those agree to fp32
 * tolerance: a mask keyed by the wrong row would be off by far more. */
static void chunk_case(Learner *L, const float *X, const float *probs, const float *mc, int N,
                       int T, int64_t row0, const int *cuts, int n_cuts, int bitwise,
                       const char *name) {
    const int D = L->c.d, K = L->c.k;
    float *pp = malloc((size_t)N * K * sizeof(float));
    float *pm = malloc((size_t)T * N * K * sizeof(float));
    size_t probs_bad = 0, mc_bad = 0;
    double worst = 0.0;
    for (int s = 0; s + 1 < n_cuts; s++) {
        int off = cuts[s], len = cuts[s + 1] - cuts[s];
        LearnerInput piece = dense(X + (size_t)off * D, len, D);
        learner_predict(pp, pm, L, &piece, T, 9, 2, row0 + off);
        for (int t = -1; t < T; t++) {      // t = -1: probs
            const float *got = t < 0 ? pp : pm + (size_t)t * len * K;
            const float *want = t < 0 ? probs + (size_t)off * K : mc + ((size_t)t * N + off) * K;
            int differ;
            if (bitwise) {
                differ = memcmp(got, want, (size_t)len * K * sizeof(float)) != 0;
            } else {
                differ = 0;
                for (size_t i = 0; i < (size_t)len * K; i++) {
                    double e = fabs((double)got[i] - want[i]) / (1e-6 + 1e-5 * fabs(want[i]));
                    if (e > worst) worst = e;
                    differ |= e > 1.0;
                }
            }
            if (t < 0) probs_bad += differ;
            else mc_bad += differ;
        }
    }
    CHECK(probs_bad == 0, "chunks %s: probs of %zu pieces differ", name, probs_bad);
    CHECK(mc_bad == 0, "chunks %s: mc of %zu (piece, sample) pairs differ", name, mc_bad);
    if (!bitwise) printf("  chunks %s: worst error/tolerance %.3f\n", name, worst);
    free(pp);
    free(pm);
}

static void test_chunks(void) {
    const int D = 20, K = 4, N = 2500, T = 4;
    const int hidden[] = {32, 16};
    const int64_t row0 = 100;
    LearnerConfig c = config(D, K, 2, hidden, 0.3f);
    Learner L = {0};
    init_or_die(&L, &c);
    learner_reset(&L, 9, 2);
    float *X = malloc((size_t)N * D * sizeof(float));
    int32_t *y = malloc((size_t)N * sizeof(int32_t));
    random_data(X, y, N, D, K, 3);
    float *probs = malloc((size_t)N * K * sizeof(float));
    float *mc = malloc((size_t)T * N * K * sizeof(float));
    const LearnerInput in = dense(X, N, D);
    learner_predict(probs, mc, &L, &in, T, 9, 2, row0);   // chunks of 1024, 1024, 452

    const int same[] = {0, N};                              // the same call: bitwise
    chunk_case(&L, X, probs, mc, N, T, row0, same, 2, 1, "repeated");
    const int aligned[] = {0, 1024, N};                     // same matmul shapes: bitwise
    chunk_case(&L, X, probs, mc, N, T, row0, aligned, 3, 1, "1024 + 1476");
    const int odd[] = {0, 1, 700, N};                       // 1800 itself chunked 1024 + 776
    chunk_case(&L, X, probs, mc, N, T, row0, odd, 4, 0, "1 + 699 + 1800");

    // the row id, not the position, decides the mask: a shifted row0 changes the samples
    float *pm = malloc((size_t)T * 700 * K * sizeof(float));
    const LearnerInput first = dense(X, 700, D);
    learner_predict(NULL, pm, &L, &first, T, 9, 2, row0 + 1);
    double diff = 0.0;
    for (size_t i = 0; i < 700 * (size_t)K; i++) diff += fabs((double)pm[i] - mc[i]);
    CHECK(diff > 1.0, "chunks: row0 ignored (total |difference| %g)", diff);
    free(X); free(y); free(probs); free(mc); free(pm);
    learner_free(&L);
}

// ----------------------------------------------------------------------------
// 4. it learns; 5. it is deterministic

/* Three interleaved spiral arms in 2D (the CS231n toy problem): not linearly separable. */
static void spirals(float *X /*(n,2)*/, int32_t *y /*(n)*/, int n) {
    Rng r = rng_stream(11, RNG_DATA, 0);
    for (int i = 0; i < n; i++) {
        int k = i % 3;
        double radius = (double)(i / 3) / (n / 3);
        double theta = k * 4.0 + 4.0 * radius + 0.2 * rng_normal(&r);
        X[2 * i] = (float)(radius * sin(theta));
        X[2 * i + 1] = (float)(radius * cos(theta));
        y[i] = k;
    }
}

static double accuracy(Learner *L, const float *X, const int32_t *y, int n) {
    float *probs = malloc((size_t)n * L->c.k * sizeof(float));
    const LearnerInput in = dense(X, n, L->c.d);
    learner_predict(probs, NULL, L, &in, 0, 0, 0, 0);
    int right = 0;
    for (int i = 0; i < n; i++) {
        int best = 0;
        for (int j = 1; j < L->c.k; j++)
            if (probs[(size_t)i * L->c.k + j] > probs[(size_t)i * L->c.k + best]) best = j;
        right += best == y[i];
    }
    free(probs);
    return (double)right / n;
}

static void test_learns(void) {
    const int N = 300, steps = 400;
    const int hidden[] = {64, 64};
    LearnerConfig c = config(2, 3, 2, hidden, 0.1f);
    Learner L = {0};
    init_or_die(&L, &c);
    float X[300 * 2];
    int32_t y[300];
    spirals(X, y, N);
    learner_reset(&L, 1, 0);
    double before = accuracy(&L, X, y, N);
    const LearnerInput in = dense(X, N, 2);
    double loss = learner_fit(&L, &in, y, steps, 1, 0);
    double after = accuracy(&L, X, y, N);
    printf("  spirals: training accuracy %.3f -> %.3f after %d steps, last-epoch loss %.4f\n",
           before, after, steps, loss);
    CHECK(before < 0.6, "accuracy before training %.3f, want about chance", before);
    CHECK(after > 0.9, "accuracy after %d steps %.3f, want > 0.9", steps, after);
    CHECK(isfinite(loss) && loss < 0.5, "last-epoch loss %g", loss);
    CHECK(L.adam_t == steps, "adam_t %d after %d steps", L.adam_t, steps);
    learner_free(&L);
}

static void test_deterministic(void) {
    const int D = 8, K = 3, N = 100, steps = 25;   // 4 steps an epoch, the 4th wraps
    const int hidden[] = {12};
    LearnerConfig c = config(D, K, 1, hidden, 0.3f);
    Learner L = {0};
    init_or_die(&L, &c);
    float X[100 * 8];
    int32_t y[100];
    random_data(X, y, N, D, K, 4);
    const size_t bytes = L.n_params * sizeof(float);
    float *a = malloc(bytes), *b = malloc(bytes), *init = malloc(bytes);

    learner_reset(&L, 42, 3);
    learner_get_params(init, &L);
    const LearnerInput in = dense(X, N, D);
    double loss_a = learner_fit(&L, &in, y, steps, 42, 3);
    learner_get_params(a, &L);
    learner_reset(&L, 42, 3);
    double loss_b = learner_fit(&L, &in, y, steps, 42, 3);
    learner_get_params(b, &L);
    CHECK(memcmp(a, b, bytes) == 0, "same (seed, round): weights differ");
    CHECK(memcmp(&loss_a, &loss_b, sizeof loss_a) == 0, "same (seed, round): loss %.17g vs %.17g",
          loss_a, loss_b);
    CHECK(memcmp(a, init, bytes) != 0, "training did not change the weights");

    learner_reset(&L, 42, 4);
    learner_get_params(b, &L);
    CHECK(memcmp(init, b, bytes) != 0, "round 4 starts from round 3's weights");
    learner_fit(&L, &in, y, steps, 42, 4);
    learner_get_params(b, &L);
    CHECK(memcmp(a, b, bytes) != 0, "different round: same weights");

    // He init: weights of layer 0 have variance about 2/D, biases are zero
    learner_reset(&L, 42, 3);
    learner_get_params(init, &L);
    double ss = 0.0;
    int nw = L.in[0] * L.out[0];
    for (int i = 0; i < nw; i++) ss += (double)init[L.w_off[0] + i] * init[L.w_off[0] + i];
    CHECK(fabs(ss / nw - 2.0 / D) < 0.5 * 2.0 / D, "layer 0 weight variance %g, want %g",
          ss / nw, 2.0 / D);
    int nonzero_bias = 0;
    for (int l = 0; l < L.n_layers; l++)
        for (int o = 0; o < L.out[l]; o++) nonzero_bias += init[L.b_off[l] + o] != 0.0f;
    CHECK(nonzero_bias == 0, "%d nonzero biases after reset", nonzero_bias);

    CHECK(learner_fit(&L, &in, y, 0, 42, 3) == 0.0, "0 steps should return 0");
    free(a); free(b); free(init);
    learner_free(&L);
}

// ----------------------------------------------------------------------------
// 6. budget; config checks

static void test_budget(void) {
    const int hidden[] = {3};
    LearnerConfig c = config(2, 2, 1, hidden, 0.0f);
    c.minibatch = 32;
    Budget b = budget_for_round(3, 0, c.minibatch, learner_train_flops_per_row(&c), 100);  // ceil(100/32) = 4 steps an epoch
    CHECK(b.steps == 12 && b.samples == 12 * 32, "n=100: steps %d samples %ld", b.steps, b.samples);
    b = budget_for_round(5, 0, c.minibatch, learner_train_flops_per_row(&c), 10);  // fewer rows than a minibatch
    CHECK(b.steps == 5 && b.samples == 50, "n=10: steps %d samples %ld", b.steps, b.samples);
    b = budget_for_round(2, 0, c.minibatch, learner_train_flops_per_row(&c), 64);  // exact multiple
    CHECK(b.steps == 4 && b.samples == 128, "n=64: steps %d samples %ld", b.steps, b.samples);
    b = budget_for_round(2, 0, c.minibatch, learner_train_flops_per_row(&c), 0);
    CHECK(b.steps == 0 && b.samples == 0 && b.flops == 0.0, "n=0 not empty");
    // --epoch-rows: epochs of max(n, N) draws
    b = budget_for_round(3, 5056, 64, learner_train_flops_per_row(&c), 20);    // ceil(5056/64) = 79 an epoch
    CHECK(b.steps == 237 && b.samples == 237L * 20, "epoch rows 5056, n=20: steps %d samples %ld", b.steps, b.samples);
    b = budget_for_round(3, 5056, 64, learner_train_flops_per_row(&c), 6000);  // more rows: one pass
    CHECK(b.steps == 3 * 94 && b.samples == 3L * 94 * 64, "epoch rows 5056, n=6000: steps %d", b.steps);
    b = budget_for_round(1000000, 10000000, 1, learner_train_flops_per_row(&c), 5);
    CHECK(b.steps == INT_MAX, "1e6 epochs of 1e7 draws: steps %d, not capped at INT_MAX", b.steps);

    // D=2 → H=3 → K=2: MACs = 6 + 6 = 12; per row 2·12 forward + 4·12 backward − 2·2·3 (the
    // first layer's input gradient) = 60 FLOPs; n=100 → 384 samples → 23040.
    CHECK(learner_macs_per_row(&c) == 12.0, "macs %g", learner_macs_per_row(&c));
    CHECK(budget_for_round(3, 0, c.minibatch, learner_train_flops_per_row(&c), 100).flops == 384.0 * 60, "flops %.17g",
          budget_for_round(3, 0, c.minibatch, learner_train_flops_per_row(&c), 100).flops);
    // softmax regression D=4, K=3: MACs 12; 2·12 + 4·12 − 2·4·3 = 48 per row
    LearnerConfig s = config(4, 3, 0, NULL, 0.0f);
    s.minibatch = 10;
    CHECK(budget_for_round(1, 0, s.minibatch, learner_train_flops_per_row(&s), 10).flops == 10.0 * 48, "softmax regression flops %.17g",
          budget_for_round(1, 0, s.minibatch, learner_train_flops_per_row(&s), 10).flops);
    // the budget's rows are what learner_fit takes: steps·min(minibatch, n)
    const int h2[] = {5, 4};
    LearnerConfig big = config(784, 10, 2, h2, 0.0f);
    CHECK(learner_macs_per_row(&big) == 784.0 * 5 + 5 * 4 + 4 * 10, "macs of 784-5-4-10");
}

static void test_config_checks(void) {
    const int hidden[] = {4};
    LearnerConfig good = config(3, 2, 1, hidden, 0.5f);
    struct { LearnerConfig c; const char *why; } bad[9];
    for (int i = 0; i < 9; i++) bad[i].c = good;
    bad[0].c.dropout = 1.0f;   bad[0].why = "dropout 1";
    bad[1].c.k = 1;            bad[1].why = "k 1";
    bad[2].c.n_hidden = 9;     bad[2].why = "9 hidden layers";
    bad[3].c.hidden[0] = 0;    bad[3].why = "width 0";
    bad[4].c.minibatch = 0;    bad[4].why = "minibatch 0";
    bad[5].c.lr = NAN;         bad[5].why = "lr NaN";
    bad[6].c.beta2 = 1.0f;     bad[6].why = "beta2 1";
    bad[7].c.d = 0;            bad[7].why = "d 0";
    bad[8].c.l2_per_label = -1.0f; bad[8].why = "l2_per_label -1";
    char err[256];
    for (int i = 0; i < 9; i++) {
        Learner L = {0};
        err[0] = '\0';
        int rc = learner_init(&L, &bad[i].c, &backend_cpu, err, sizeof err);
        CHECK(rc == -1 && strncmp(err, "learner: ", 9) == 0, "%s accepted (err '%s')",
              bad[i].why, err);
        CHECK(L.params == NULL && L.host_scratch == NULL, "%s: left allocations", bad[i].why);
        learner_free(&L);
    }
    Learner L = {0};
    learner_free(&L);                       // a zeroed struct is fine
    good.minibatch = 3000;                  // bigger than LEARNER_CAP: scratch grows
    CHECK(learner_init(&L, &good, &backend_cpu, err, sizeof err) == 0, "%s", err);
    CHECK(L.cap == 3000, "cap %d", L.cap);
    CHECK(L.n_params == 3 * 4 + 4 + 4 * 2 + 2, "n_params %zu", L.n_params);
    learner_free(&L);
    CHECK(L.params == NULL && L.be == NULL, "learner_free left fields set");
}

int main(void) {
    clock_t t0 = clock();
    test_config_checks();
    test_gradients();
    test_l2_per_label();
    test_sparse_matches_dense();
    test_mc();
    test_chunks();
    test_learns();
    test_deterministic();
    test_budget();
    printf("  (%.1f s CPU)\n", (double)(clock() - t0) / CLOCKS_PER_SEC);
    return check_done("test_learner");
}
