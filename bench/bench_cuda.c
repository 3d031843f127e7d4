/* bench_cuda — GPU throughput of the pieces of an AL round, through the Backend table only.
 *
 * Prints markdown table rows (for bench/RESULTS.md, via bench/run_cuda.sh):
 *   1. sgemm GFLOP/s through matmul_forward (cuBLAS, fp32, no TF32) at the pool-scoring layer's
 *      shape (16384x784 · 784x512, one learner chunk on the GPU) and at 4096³;
 *   2. pool scoring of the default model (784-512-10, dropout 0.5) over 60,000 rows, uploads
 *      from host memory included, as a round does it: rows/s for the deterministic pass
 *      (entropy), and for T = 20 and T = 100 MC-dropout samples reduced to BALD on the GPU
 *      (model_score), and T = 20 through the host path (the same backend without its device
 *      reduction: predict, download, score_bald on the CPU) to show what the device reduction
 *      saves; all through the session's scoring step (session_score_pool), as a round runs it;
 *   3. training: AdamW steps of minibatch 64 (learner_fit on 1,000 labeled rows): steps/s and
 *      samples/s;
 * and the time to upload the pool (60,000 x 784 floats from pageable host memory), which every
 * scoring pass pays on the GPU.
 * Usage: bench_cuda [cpu|cuda] (default cuda; cpu gives the same table for the CPU backend,
 * with fewer repetitions). Without a usable GPU it prints one row saying so and exits 0.
 * Each figure is the median of several repetitions. Not a test: nothing here fails.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/backend.h"
#include "sim/learner.h"
#include "sim/rng.h"
#include "sim/engine.h"
#include "strategies/strategy.h"
#include "bench/bench.h"

/* Median GFLOP/s of matmul_forward out (M,N) = A (M,K) · B (N,K)ᵀ on be. A download of one
 * float after the launches waits for the GPU (one stream). */
static double sgemm_rate(const Backend *be, int M, int N, int K, int reps) {
    float *h = malloc(((size_t)M * K + (size_t)N * K) * sizeof *h);
    fill(h, (size_t)M * K + (size_t)N * K, 2);
    float *A = be->alloc((size_t)M * K * sizeof(float)), *B = be->alloc((size_t)N * K * sizeof(float));
    float *C = be->alloc((size_t)M * N * sizeof(float));
    if (!A || !B || !C) return 0.0;
    be->upload(A, h, (size_t)M * K * sizeof(float));
    be->upload(B, h + (size_t)M * K, (size_t)N * K * sizeof(float));
    float one;
    be->matmul_forward(C, A, B, NULL, M, K, N);     // warm-up (cuBLAS picks its kernel)
    be->download(&one, C, sizeof one);
    double t[16];
    const int inner = 5;
    for (int r = 0; r < reps; r++) {
        double t0 = util_seconds();
        for (int i = 0; i < inner; i++) be->matmul_forward(C, A, B, NULL, M, K, N);
        be->download(&one, C, sizeof one);
        t[r] = (util_seconds() - t0) / inner;
    }
    be->free(A); be->free(B); be->free(C);
    free(h);
    return 2.0 * M * N * K / median(t, reps) / 1e9;
}

int main(int argc, char **argv) {
    const char *device = argc > 1 ? argv[1] : "cuda";
    char err[512];
    const Backend *be = backend_get(device, err, sizeof err);
    if (!be) {
        printf("| %s | skipped: %s |\n", device, err);
        return 0;
    }
    const int gpu = be->score_rows != NULL;
    const int N = 60000, D = 784, H = 512, K = 10, reps = gpu ? 5 : 3;
    printf("| what | figure |\n|---|---|\n");
    printf("| device | %s: %s |\n", be->name, be->device ? be->device : "host CPU");
    double peak_layer = sgemm_rate(be, 16384, H, D, reps);
    printf("| sgemm GFLOP/s, 16384x784 · 784x512 (a scoring chunk's first layer) | %.0f |\n",
           peak_layer);
    if (gpu) printf("| sgemm GFLOP/s, 4096³ | %.0f |\n", sgemm_rate(be, 4096, 4096, 4096, reps));

    LearnerConfig lc = {.d = D, .k = K, .n_hidden = 1, .hidden = {H}, .dropout = 0.5f,
                        .lr = 1e-3f, .weight_decay = 1e-4f, .beta1 = 0.9f, .beta2 = 0.999f,
                        .eps = 1e-8f, .minibatch = 64};
    Learner L = {0};
    if (learner_init(&L, &lc, be, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 3; }
    learner_reset(&L, 1, 0);
    float *X = malloc((size_t)N * D * sizeof *X);
    int32_t *y = malloc((size_t)N * sizeof *y);
    if (!X || !y) return 3;
    fill(X, (size_t)N * D, 3);
    for (int i = 0; i < N; i++) y[i] = i % K;

    // what a pool pass spends on moving the pool (host memory, not pinned) to the backend
    {
        float *dev = be->alloc((size_t)N * D * sizeof(float));
        double t[16];
        for (int r = 0; dev && r < reps; r++) {
            double t0 = util_seconds();
            be->upload(dev, X, (size_t)N * D * sizeof(float));
            t[r] = util_seconds() - t0;
        }
        if (dev) printf("| upload of the pool, 60,000 x 784 floats (188 MB, pageable): s, GB/s | %.4f, %.1f |\n",
                        median(t, reps), (double)N * D * sizeof(float) / median(t, reps) / 1e9);
        be->free(dev);
    }

    // 2. pool scoring, the engine's scoring step: {strategy, T, host path}. The host path is
    // the same backend without its device reduction (score_rows), as a CPU runs it.
    struct { const char *what, *strategy; int T, host; } cases[] = {
        {"deterministic pass + entropy", "entropy", 0, 0},
        {"T = 20 MC samples + BALD", "bald", 20, 0},
        {"T = 100 MC samples + BALD", "bald", 100, 0},
        {"T = 20 + BALD, host path (samples downloaded, score_bald on the CPU)", "bald", 20, 1},
    };
    Backend host_path = *be;
    host_path.score_rows = NULL;
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const int T = cases[c].T, host = cases[c].host || !gpu;
        if (!gpu && T == 100) continue;     // minutes on a CPU; the T = 20 row scales
        Config cfg;
        config_defaults(&cfg, CMD_RUN);
        snprintf(cfg.strategy, sizeof cfg.strategy, "%s", cases[c].strategy);
        cfg.mc = T ? T : 1;
        cfg.rounds = 1;
        Dataset ds = {.n = N, .d = D, .k = K, .x = X, .y = y}, test = ds;
        test.n = 100;
        Session S;
        if (session_open(&S, &cfg, &ds, &test, host ? &host_path : be, 1, err, sizeof err)) {
            fprintf(stderr, "bench_cuda: %s\n", err);
            return 3;
        }
        model_reset(&S.model, 1);
        double t[16];
        for (int r = 0; r < reps; r++) {
            double t0 = util_seconds();
            session_score_pool(&S);
            t[r] = util_seconds() - t0;
        }
        session_close(&S);
        double s = median(t, reps);
        double flops = 2.0 * N * ((double)D * H + (T ? T : 1) * (double)H * K);
        printf("| pool scoring, 60,000 rows, %s%s: s, rows/s, GFLOP/s | %.4f, %.0f, %.0f |\n",
               cases[c].what, host && !cases[c].host ? " (host path: no device reduction)" : "",
               s, N / s, flops / s / 1e9);
    }

    // 3. training: steps of 64 rows on 1,000 labeled rows
    {
        const int n = 1000, steps = gpu ? 2000 : 300;
        LearnerInput lab = {.x = X, .n = n, .d = D};
        double t[16];
        for (int r = 0; r < reps; r++) {
            learner_reset(&L, 1, 0);
            double t0 = util_seconds();
            learner_fit(&L, &lab, y, steps, 1, 0);
            t[r] = util_seconds() - t0;
        }
        double s = median(t, reps);
        printf("| training, minibatch 64, 784-512-10: steps/s, samples/s (%d steps) | %.0f, %.0f |\n",
               steps, steps / s, steps * 64.0 / s);
    }
    free(X); free(y);
    learner_free(&L);
    return 0;
}
