/* bench_cnn — --model cnn (Gal, Islam & Ghahramani 2017's CNN, sim/cnn.h) on MNIST, on the CPU
 * backend, phase by phase of one active-learning round; bench/cnn.sh puts its figures beside
 * PyTorch's (bench/peers/torch_cnn.py) doing the same work on the same cores.
 *
 * Prints markdown tables (for bench/RESULTS.md):
 *   1. the gemm rates: OpenBLAS sgemm on a square 2048³ (the machine's practical limit) and on
 *      each convolution's own gemm shape as conv2d_forward calls it, (OC, G·P) = (OC, C·k·k) ·
 *      (C·k·k, G·P); then the backend's conv2d_forward (im2col, gemm, bias) on each
 *      convolution's forward shape over a 256-row chunk (what the scoring pass runs), and
 *      conv2d_backward over a 128-row minibatch (what a training step runs: the weight
 *      gradient, and for the second convolution the input gradient), each as GFLOP/s by the
 *      gemm FLOP count and as a fraction of the 2048³ sgemm rate;
 *   2. one round's training as Gal et al.'s protocol has it: a fresh model (cnn_reset) fit on
 *      the first n pool rows (n = 20, 110, 520: rounds 0, 9 and 50 of 10 acquisitions a round
 *      from 20 initial labels) for 50 epochs of minibatch 128, 50·ceil(n/128) Adam steps;
 *   3. the T = 100 MC-dropout scoring pass of the first 2,000 pool rows: cnn_predict (the trunk
 *      once per chunk of 256 rows, the head T times), then BALD's reduction (score_bald over
 *      the (T,n,K) samples), timed apart and together.
 * Adam as PyTorch's torch.optim.Adam (weight decay 0, no L2 penalty), lr 1e-3. Threads: the
 * process's default, OpenBLAS's and parallel.h's (OPENBLAS_NUM_THREADS, else one per core).
 * Each figure is the median of several repetitions. With an argument FILE it also writes the
 * key figures as `name value` lines into FILE, for bench/cnn.sh's table.
 * Not a test: nothing here can fail, but it needs MNIST (fetched on first use).
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "sim/backend.h"
#include "sim/cnn.h"
#include "sim/conv_direct.h"
#include "sim/rng.h"
#include "sim/util.h"
#include "strategies/strategy.h"
#include "bench/bench.h"

enum { REPS = 5, T_MC = 100, N_SCORE = 2000, CONV_CHUNK = 256, MINIBATCH = 128 };

/* One convolution of the net: its input shape, kernels and rows per gemm. */
typedef struct {
    const char *name;
    int C, H, W, OC, k, G;
    const float *weight, *bias;
} ConvShape;

/* Gemm FLOPs of one convolution over N rows: 2·N·P·OC·C·k². */
static double conv_flops(const ConvShape *s, int N) {
    return 2.0 * N * (s->H - s->k + 1) * (s->W - s->k + 1) * s->OC * (double)s->C * s->k * s->k;
}

int main(int argc, char **argv) {
    FILE *kv = argc > 1 ? fopen(argv[1], "w") : NULL;
    char err[512];
    Dataset pool = {0}, test = {0};
    int rc = catalog_open(&pool, &test, "mnist", 0, err, sizeof err);
    if (rc) {
        fprintf(stderr, "bench_cnn: %s\n", rc < 0 ? "mnist is not catalogued" : err);
        return 3;
    }
    const CnnConfig cc = {
        .c = pool.image.c, .h = pool.image.h, .w = pool.image.w, .k = pool.k,
        .filters = 32, .kernel = 4, .pool = 2, .dense = 128,
        .dropout_conv = 0.25f, .dropout_dense = 0.5f,
        .lr = 1e-3f, .weight_decay = 0.0f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f,
        .minibatch = MINIBATCH, .l2_per_label = 0.0f,
    };
    Cnn net = {0};
    if ((rc = cnn_init(&net, &cc, &backend_cpu, err, sizeof err))) {
        fprintf(stderr, "bench_cnn: %s\n", err);
        return rc;
    }
    cnn_reset(&net, 1);
    const Backend *be = &backend_cpu;

    // --- 1. the gemm rates --------------------------------------------------------------------
    printf("| what | figure |\n|---|---|\n");
    printf("| OpenBLAS config | %s; %d threads |\n", openblas_get_config(), openblas_get_num_threads());
    const double sq_s = sgemm_seconds(CblasNoTrans, 2048, 2048, 2048, REPS);
    const double sq = 2.0 * 2048 * 2048 * 2048 / sq_s / 1e9;
    printf("| sgemm GFLOP/s, 2048³ (the reference) | %.1f |\n", sq);
    const ConvShape convs[2] = {
        {"conv 1 (1×28×28 → 32×25×25, 4×4)", cc.c, cc.h, cc.w, cc.filters, cc.kernel, net.g1,
         net.params + net.w1_off, net.params + net.b1_off},
        {"conv 2 (32×25×25 → 32×22×22, 4×4)", cc.filters, net.h1, net.w1, cc.filters, cc.kernel, net.g2,
         net.params + net.w2_off, net.params + net.b2_off},
    };
    // the inputs: a chunk of MNIST rows for the first, their first convolution for the second
    float *in1 = malloc((size_t)CONV_CHUNK * net.d * sizeof(float));
    float *in2 = malloc((size_t)CONV_CHUNK * net.a1 * sizeof(float));
    float *out = malloc((size_t)CONV_CHUNK * (net.a1 > net.a2 ? net.a1 : net.a2) * sizeof(float));
    float *dinp = malloc((size_t)MINIBATCH * net.a1 * sizeof(float));
    float *dw = malloc((size_t)cc.filters * cc.filters * cc.kernel * cc.kernel * sizeof(float));
    float *db = malloc((size_t)cc.filters * sizeof(float));
    if (!in1 || !in2 || !out || !dinp || !dw || !db) return 3;
    memcpy(in1, pool.x, (size_t)CONV_CHUNK * net.d * sizeof(float));
    be->conv2d_forward(in2, net.work, in1, convs[0].weight, convs[0].bias, CONV_CHUNK, cc.c, cc.h, cc.w,
                       cc.filters, cc.kernel, net.g1);
    be->relu_forward(in2, in2, (size_t)CONV_CHUNK * net.a1);
    const float *inputs[2] = {in1, in2};
    double fwd_flops = 0, fwd_s = 0, bwd_flops = 0, bwd_s = 0;
    const char *path_name[2] = {"im2col + sgemm", "direct (AVX-512)"};
    for (int l = 0; l < 2; l++) {
        const ConvShape *s = &convs[l];
        const int P = (s->H - s->k + 1) * (s->W - s->k + 1), CKK = s->C * s->k * s->k;
        const double g_s = sgemm_seconds(CblasNoTrans, s->OC, s->G * P, CKK, 9);
        const double g_rate = 2.0 * s->OC * s->G * P * (double)CKK / g_s / 1e9;
        printf("| %s: sgemm GFLOP/s at its gemm shape (%d, %d·%d) = (%d, %d) · (%d, %d·%d) | %.1f (%.0f%% of 2048³) |\n",
               s->name, s->OC, s->G, P, s->OC, CKK, CKK, s->G, P, g_rate, 100 * g_rate / sq);
        if (kv) fprintf(kv, "conv%d_gemm_shape_gflops %.2f\n", l + 1, g_rate);
        // both of the CPU backend's paths, the one the model runs (direct, where compiled in) last
        for (int direct = 0; direct <= conv_direct_compiled(); direct++) {
            conv_direct_mode(direct ? CONV_DENSE : CONV_IM2COL);
            double t[REPS] = {0};
            for (int r = 0; r < REPS; r++) {
                double t0 = util_seconds();
                be->conv2d_forward(out, net.work, inputs[l], s->weight, s->bias, CONV_CHUNK, s->C, s->H,
                                   s->W, s->OC, s->k, s->G);
                t[r] = util_seconds() - t0;
            }
            const double f_s = median(t, REPS), f_flops = conv_flops(s, CONV_CHUNK);
            // backward: the weight gradient, and the input gradient of the second (as cnn.c runs it)
            for (int r = 0; r < REPS; r++) {
                double t0 = util_seconds();
                be->conv2d_backward(l ? dinp : NULL, dw, db, net.work, out, inputs[l], s->weight,
                                    MINIBATCH, s->C, s->H, s->W, s->OC, s->k, s->G);
                t[r] = util_seconds() - t0;
            }
            const double b_s = median(t, REPS), b_flops = (l ? 2 : 1) * conv_flops(s, MINIBATCH);
            printf("| %s: conv2d_forward, %s, %d rows: ms, GFLOP/s | %.2f, %.1f (%.0f%% of 2048³) |\n",
                   s->name, path_name[direct], CONV_CHUNK, 1e3 * f_s, f_flops / f_s / 1e9,
                   100 * f_flops / f_s / 1e9 / sq);
            printf("| %s: conv2d_backward (%s), %s, %d rows: ms, GFLOP/s | %.2f, %.1f (%.0f%% of 2048³) |\n",
                   s->name, l ? "weight and input gradients" : "weight gradient", path_name[direct],
                   MINIBATCH, 1e3 * b_s, b_flops / b_s / 1e9, 100 * b_flops / b_s / 1e9 / sq);
            if (kv) fprintf(kv, "conv%d_fwd_%s_gflops %.2f\nconv%d_bwd_%s_gflops %.2f\n", l + 1,
                            direct ? "direct" : "im2col", f_flops / f_s / 1e9, l + 1,
                            direct ? "direct" : "im2col", b_flops / b_s / 1e9);
            if (direct == conv_direct_compiled()) {     // the path the model runs
                fwd_flops += f_flops; fwd_s += f_s; bwd_flops += b_flops; bwd_s += b_s;
            }
        }
    }
    conv_direct_mode(CONV_SPARSE);
    const double fwd_rate = fwd_flops / fwd_s / 1e9, bwd_rate = bwd_flops / bwd_s / 1e9;
    printf("| **both convolutions, forward** (as the scoring pass's trunk), %s: GFLOP/s | **%.1f = %.0f%% of the sgemm rate** |\n",
           path_name[conv_direct_compiled()], fwd_rate, 100 * fwd_rate / sq);
    printf("| **both convolutions, backward** (as a training step), %s: GFLOP/s | **%.1f = %.0f%% of the sgemm rate** |\n",
           path_name[conv_direct_compiled()], bwd_rate, 100 * bwd_rate / sq);
    if (kv) fprintf(kv, "sgemm_square_gflops %.2f\nconv_fwd_gflops %.2f\nconv_bwd_gflops %.2f\n"
                    "conv_fwd_frac %.4f\nconv_bwd_frac %.4f\n", sq, fwd_rate, bwd_rate, fwd_rate / sq,
                    bwd_rate / sq);

    // conv 2's backward as a training step gives it: the output gradient a ReLU and the 2x2
    // max-pooling leave (one nonzero at most per window, where the ReLU passed), through the
    // sparse kernels (the default) and through the dense ones; GFLOP/s by the dense FLOP count
    if (conv_direct_compiled()) {
        const ConvShape *s = &convs[1];
        const size_t n2 = (size_t)MINIBATCH * net.a2, np = n2 / 4;
        float *dout = malloc(n2 * sizeof(float)), *up = malloc(np * sizeof(float));
        float *pooled = malloc(np * sizeof(float));
        int32_t *argmax = malloc(np * sizeof(int32_t));
        if (!dout || !up || !pooled || !argmax) return 3;
        be->conv2d_forward(out, net.work, in2, s->weight, s->bias, MINIBATCH, s->C, s->H, s->W, s->OC, s->k, s->G);
        be->relu_forward(out, out, n2);
        be->maxpool_forward(pooled, argmax, out, MINIBATCH, s->OC, net.h2, net.w2, 2);
        Rng r = rng_stream(1, RNG_DATA, 0);
        for (size_t i = 0; i < np; i++) up[i] = (float)(2.0 * rng_uniform(&r) - 1.0);
        be->maxpool_backward(dout, up, argmax, MINIBATCH, s->OC, net.h2, net.w2, 2);
        be->relu_backward(dout, dout, out, n2);
        size_t nnz = 0;
        for (size_t i = 0; i < n2; i++) nnz += dout[i] != 0.0f;
        const double b_flops = 2 * conv_flops(s, MINIBATCH);
        double b_s[2];
        for (int sparse = 0; sparse < 2; sparse++) {
            conv_direct_mode(sparse ? CONV_SPARSE : CONV_DENSE);
            double t[REPS] = {0};
            for (int rep = 0; rep < REPS; rep++) {
                double t0 = util_seconds();
                be->conv2d_backward(dinp, dw, db, net.work, dout, in2, s->weight, MINIBATCH, s->C, s->H, s->W,
                                    s->OC, s->k, s->G);
                t[rep] = util_seconds() - t0;
            }
            b_s[sparse] = median(t, REPS);
            printf("| %s: conv2d_backward (weight and input gradients), %d rows, a training step's output gradient (%.1f%% nonzero), %s kernels: ms, dense-equivalent GFLOP/s | %.2f, %.1f |\n",
                   s->name, MINIBATCH, 100.0 * nnz / n2, sparse ? "sparse" : "dense direct", 1e3 * b_s[sparse],
                   b_flops / b_s[sparse] / 1e9);
        }
        conv_direct_mode(CONV_SPARSE);
        printf("| **conv 2's backward in training: the sparse kernels against the dense ones** | **%.2f× faster** |\n", b_s[0] / b_s[1]);
        if (kv) fprintf(kv, "conv2_bwd_sparse_ms %.3f\nconv2_bwd_dense_ms %.3f\nconv2_bwd_nonzero %.4f\n", 1e3 * b_s[1],
                        1e3 * b_s[0], (double)nnz / n2);
        free(dout); free(up); free(pooled); free(argmax);
    }
    free(in1); free(in2); free(out); free(dinp); free(dw); free(db);

    // --- 2. one round's training ---------------------------------------------------------------
    printf("\n### CNN training: one round's fit from fresh weights (cnn_reset, cnn_fit: 50 epochs, minibatch 128, Adam)\n\n");
    printf("| labeled rows n | steps | rows/step | s (median of %d) | steps/s | GFLOP/s (cnn_train_flops_per_row) |\n|---|---|---|---|---|---|\n", REPS);
    const int sizes[] = {20, 110, 520};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const int n = sizes[i], steps = 50 * ((n + MINIBATCH - 1) / MINIBATCH);
        const int m = n < MINIBATCH ? n : MINIBATCH;
        LearnerInput X = {.x = pool.x, .n = n, .d = pool.d};
        const int reps = n > 200 ? 3 : REPS;    // the largest fit takes seconds
        double t[REPS] = {0};
        for (int r = 0; r < reps; r++) {
            cnn_reset(&net, 1);
            double t0 = util_seconds();
            cnn_fit(&net, &X, pool.y, steps, 1, 0);
            t[r] = util_seconds() - t0;
        }
        const double s = median(t, reps);
        const double flops = (double)steps * m * cnn_train_flops_per_row(&cc);
        printf("| %d | %d | %d | %.3f | %.1f | %.1f |\n", n, steps, m, s, steps / s, flops / s / 1e9);
        if (kv) fprintf(kv, "train_n%d_s %.4f\n", n, s);
        fflush(stdout);
    }

    // --- 3. the T = 100 scoring pass --------------------------------------------------------
    printf("\n### CNN scoring: T = %d MC-dropout samples of %d pool rows, then BALD (the model of the n = 520 fit)\n\n",
           T_MC, N_SCORE);
    float *mc = malloc((size_t)T_MC * N_SCORE * pool.k * sizeof *mc);
    float *probs = malloc((size_t)N_SCORE * pool.k * sizeof *probs);
    double *scores = malloc((size_t)N_SCORE * sizeof *scores);
    if (!mc || !probs || !scores) return 3;
    LearnerInput X = {.x = pool.x, .n = N_SCORE, .d = pool.d};
    double tp[REPS], tb[REPS], tt[REPS], tr[REPS];
    for (int r = 0; r < REPS; r++) {
        double t0 = util_seconds();
        cnn_predict(NULL, mc, NULL, &net, &X, T_MC, 1, 0, 0);
        double t1 = util_seconds();
        PoolView v = {.n = N_SCORE, .k = pool.k, .t = T_MC, .mc = mc, .seed = 1};
        score_bald(scores, &v);
        tp[r] = t1 - t0;
        tb[r] = util_seconds() - t1;
        tt[r] = tp[r] + tb[r];
        // the trunk and one dropout-off head alone: what the T samples share
        t0 = util_seconds();
        cnn_predict(probs, NULL, NULL, &net, &X, 0, 1, 0, 0);
        tr[r] = util_seconds() - t0;
    }
    const double pred_s = median(tp, REPS), bald_s = median(tb, REPS), total_s = median(tt, REPS);
    const double trunk_s = median(tr, REPS);
    printf("| what | s (median of %d) |\n|---|---|\n", REPS);
    printf("| the trunk and one head, dropout off (cnn_predict, probs only) | %.3f |\n", trunk_s);
    printf("| cnn_predict, T = %d (trunk once per chunk, head T times) | %.3f |\n", T_MC, pred_s);
    printf("| BALD's reduction (score_bald over (T,n,K)) | %.4f |\n", bald_s);
    printf("| **scoring pass: the two above** | **%.3f** |\n", total_s);
    if (kv) fprintf(kv, "score_trunk_s %.4f\nscore_predict_s %.4f\nscore_bald_s %.4f\nscore_s %.4f\n",
                    trunk_s, pred_s, bald_s, total_s);
    free(mc); free(probs); free(scores);
    cnn_free(&net);
    dataset_free(&pool);
    dataset_free(&test);
    if (kv) fclose(kv);
    return 0;
}
