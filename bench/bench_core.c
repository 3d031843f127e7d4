/* bench_core — the machine's practical limit and how close alsim's hot paths get to it.
 *
 * Prints markdown tables (for bench/RESULTS.md):
 *   1. OpenBLAS sgemm GFLOP/s at the first layer's pool-scoring shape (4096x784 · 784x512, and
 *      1024 rows: the learner's chunk) and at a square 2048 shape: the practical limit;
 *   2. the pool-scoring pass of the default model (784-512-10, dropout 0.5) over 60,000 rows:
 *      deterministic probs, and T = 20 MC-dropout samples, in chunks as the loop does it,
 *      with the GFLOP/s it achieves (FLOPs: 2·N·(784·512) once, plus 2·N·512·10 per sample);
 *      and its dominant layer alone (the first: staging, gemm, bias, ReLU, chunk by chunk, as
 *      learner_predict runs it) against the sgemm rate;
 *   2b. each optimisation against the path it replaces, in the same run: the fused MC head
 *      (mc_head_forward) against the composed ops, and the pool rows read in place against
 *      staged copies (host_memory), for the default model and a linear one;
 *   3. training throughput of the default MLP (learner_fit with the budget of 50 epochs for
 *      a labeled set of n rows): steps/s, samples/s, GFLOP/s by budget.h's formula;
 *   4. pool scoring per strategy against pool size (1k, 10k, 60k rows) and T (1, 20, 100):
 *      the session's scoring step (session_score_pool: predict chunk by chunk, then the
 *      strategy's function; for rl also the embeddings and features it needs).
 * Each figure is the median of several repetitions. With an argument FILE it also writes the
 * key figures as `name value` lines into FILE, for bench/run.sh's targets table.
 * Not a test: nothing here can fail.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "sim/backend.h"
#include "sim/budget.h"
#include "sim/learner.h"
#include "sim/rng.h"
#include "sim/engine.h"
#include "strategies/strategy.h"
#include "bench/bench.h"

enum { D = 784, H = 512, K = 10 };

/* Median GFLOP/s of C (M,N) = A (M,K) · B (N,K)ᵀ, the layout of matmul_forward. */
static double sgemm_rate(int M, int N, int Kd, int reps) {
    return 2.0 * M * N * Kd / sgemm_seconds(CblasTrans, M, N, Kd, reps) / 1e9;
}

static LearnerConfig default_mlp(void) {
    return (LearnerConfig){.d = D, .k = K, .n_hidden = 1, .hidden = {H}, .dropout = 0.5f,
                           .lr = 1e-3f, .weight_decay = 1e-4f, .beta1 = 0.9f, .beta2 = 0.999f,
                           .eps = 1e-8f, .minibatch = 64};
}

/* The engine's scoring step (session_score_pool, what every round runs) for strategy st
 * with T MC samples on be, over the first n rows of the pool (X, y): its median seconds over at
 * least 3 repetitions and 0.3 s in all, at most 15. The model is the default MLP at its
 * initial weights. NAN when the engine cannot be opened. */
static double time_pass(const Strategy *st, const Backend *be, int n_hidden, float *X,
                        int32_t *y, int n, int T) {
    Config c;
    config_defaults(&c, CMD_RUN);
    snprintf(c.strategy, sizeof c.strategy, "%s", st->name);
    c.mc = T > 0 ? T : 1;
    c.n_hidden = n_hidden;
    c.rounds = 1;
    Dataset pool = {.n = n, .d = D, .k = K, .x = X, .y = y}, test = pool;
    test.n = 100;
    Session S;
    char err[512];
    if (session_open(&S, &c, &pool, &test, be, 1, err, sizeof err)) {
        fprintf(stderr, "bench_core: %s\n", err);
        return NAN;
    }
    model_reset(&S.model, 1);
    double t[15], total = 0.0;
    int reps = 0;
    while (reps < 15 && (reps < 3 || total < 0.3)) {
        double t0 = util_seconds();
        session_score_pool(&S);
        t[reps] = util_seconds() - t0;
        total += t[reps++];
    }
    session_close(&S);
    return median(t, reps);
}

int main(int argc, char **argv) {
    const int N = 60000, T = 20, reps = 5;
    FILE *kv = argc > 1 ? fopen(argv[1], "w") : NULL;
    printf("| what | figure |\n|---|---|\n");
    printf("| OpenBLAS config | %s; %d threads |\n", openblas_get_config(), openblas_get_num_threads());
    double peak_layer = sgemm_rate(ENGINE_CHUNK_ROWS, H, D, 9);
    double peak_chunk = sgemm_rate(LEARNER_CAP, H, D, 9);
    double peak_square = sgemm_rate(2048, 2048, 2048, 5);
    printf("| sgemm GFLOP/s, 4096x784 · 784x512 (the scoring layer's shape) | %.1f |\n", peak_layer);
    printf("| sgemm GFLOP/s, 1024x784 · 784x512 (the learner's chunk of it) | %.1f |\n", peak_chunk);
    printf("| sgemm GFLOP/s, 2048³ | %.1f |\n", peak_square);

    LearnerConfig lc = default_mlp();
    Learner L = {0};
    char err[256];
    if (learner_init(&L, &lc, &backend_cpu, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 3; }
    learner_reset(&L, 1, 0);
    float *X = malloc((size_t)N * D * sizeof *X);
    float *probs = malloc((size_t)ENGINE_CHUNK_ROWS * K * sizeof *probs);
    float *mc = malloc((size_t)T * ENGINE_CHUNK_ROWS * K * sizeof *mc);
    int32_t *y = malloc((size_t)N * sizeof *y);
    if (!X || !probs || !mc || !y) return 3;
    fill(X, (size_t)N * D, 3);
    for (int i = 0; i < N; i++) y[i] = i % K;

    // --- 2. the pool pass, and its first layer alone ---------------------------------------
    double pass_s[2];
    for (int withmc = 0; withmc <= 1; withmc++) {
        double t[16];
        for (int r = 0; r < reps; r++) {
            double t0 = util_seconds();
            for (int off = 0; off < N; off += ENGINE_CHUNK_ROWS) {
                int n = N - off < ENGINE_CHUNK_ROWS ? N - off : ENGINE_CHUNK_ROWS;
                LearnerInput rows = {.x = X + (size_t)off * D, .n = n, .d = D};
                learner_predict(withmc ? NULL : probs, withmc ? mc : NULL, &L, &rows,
                                withmc ? T : 0, 1, 0, off);
            }
            t[r] = util_seconds() - t0;
        }
        double sec = pass_s[withmc] = median(t, reps);
        double flops = 2.0 * N * ((double)D * H + (withmc ? T : 1) * (double)H * K);
        double layer1 = 2.0 * N * D * H;
        if (!withmc)
            printf("| pool pass, probs only (60,000 rows): s, rows/s, GFLOP/s | %.3f, %.0f, %.1f (%.0f%% of sgemm) |\n",
                   sec, N / sec, flops / sec / 1e9, 100 * flops / sec / 1e9 / peak_layer);
        else
            printf("| pool pass, T = %d MC samples (60,000 rows): s, rows/s, GFLOP/s | %.3f, %.0f, %.1f; first layer alone would take %.3f s at the sgemm rate |\n",
                   T, sec, N / sec, flops / sec / 1e9, layer1 / (peak_layer * 1e9));
    }
    // The first layer as learner_predict runs it: stage a chunk, gemm + bias, ReLU.
    {
        const Backend *be = &backend_cpu;
        double t[16];
        for (int r = 0; r < reps; r++) {
            double t0 = util_seconds();
            for (int off = 0; off < N; off += L.cap) {
                int n = N - off < L.cap ? N - off : L.cap;
                be->upload(L.act[0], X + (size_t)off * D, (size_t)n * D * sizeof(float));
                be->matmul_forward(L.act[1], L.act[0], L.params + L.w_off[0], L.params + L.b_off[0], n, D, H);
                be->relu_forward(L.act[1], L.act[1], (size_t)n * H);
            }
            t[r] = util_seconds() - t0;
        }
        double sec = median(t, reps), rate = 2.0 * N * D * H / sec / 1e9;
        printf("| the dominant layer alone (784→512 + ReLU over 60,000 rows, in the learner's %d-row chunks, staging included): s, GFLOP/s | %.3f, %.1f = **%.0f%% of the sgemm rate**; %.0f%% of the T = %d pass, %.0f%% of the probs pass |\n",
               L.cap, sec, rate, 100 * rate / peak_layer, 100 * sec / pass_s[1], T, 100 * sec / pass_s[0]);
        if (kv) fprintf(kv, "sgemm_gflops %.2f\nlayer_gflops %.2f\nlayer_frac_of_sgemm %.4f\n"
                        "pass_t20_s %.4f\npass_probs_s %.4f\n", peak_layer, rate, rate / peak_layer,
                        pass_s[1], pass_s[0]);
    }
    printf("| MC head | %s |\n", backend_cpu.mc_head_forward
           ? "fused (dropout, 512→10, softmax in one pass; backend_cpu.c mc_head_forward)"
           : "composed (dropout_forward, matmul_forward, softmax_forward per sample)");

    // --- 2b. the optimisations, each against the path it replaces, in this run ------------
    printf("\n### Optimisations, each against the path it replaces (same run, 60,000 rows)\n\n");
    printf("| what | before | after | speed-up |\n|---|---|---|---|\n");
    if (backend_cpu.mc_head_forward) {   // the T = 20 pass with the head composed from the ops
        Backend composed = backend_cpu;
        composed.mc_head_forward = NULL;
        const Strategy *bald = strategy_find("bald");
        double before = time_pass(bald, &composed, 1, X, y, N, T), after = time_pass(bald, &backend_cpu, 1, X, y, N, T);
        printf("| BALD pass, T = %d: dropout → 512→10 → softmax fused (mc_head_forward) vs composed | %.3f s | %.3f s | %.2f× |\n",
               T, before, after, before / after);
        if (kv) fprintf(kv, "fused_head_before_s %.4f\nfused_head_after_s %.4f\n", before, after);
    }
    for (int nh = 1; nh >= 0; nh--) {  // the probs pass: pool rows read in place vs copied per chunk
        Backend staged = backend_cpu;
        staged.host_memory = 0;
        const Strategy *ent = strategy_find("entropy");
        double before = time_pass(ent, &staged, nh, X, y, N, 0), after = time_pass(ent, &backend_cpu, nh, X, y, N, 0);
        printf("| entropy pass, %s: pool rows read in place vs copied per chunk (host_memory) | %.4f s | %.4f s | %.2f× |\n",
               nh ? "784-512-10" : "softmax regression 784-10", before, after, before / after);
    }

    // --- 3. training throughput -----------------------------------------------------------
    printf("\n### Training throughput: the default MLP 784-512-10 (learner_fit, AdamW, minibatch 64, 50 epochs)\n\n");
    printf("| labeled rows n | steps (50 epochs) | rows/step | s | steps/s | samples/s | GFLOP/s |\n|---|---|---|---|---|---|---|\n");
    {
        const int sizes[] = {20, 220, 1000};
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            const int n = sizes[k];
            Budget b = budget_for_round(50, 0, lc.minibatch, learner_train_flops_per_row(&lc), n);
            LearnerInput in = {.x = X, .n = n, .d = D};
            double t[5];
            for (int r = 0; r < 5; r++) {
                learner_reset(&L, 1, 0);
                double t0 = util_seconds();
                learner_fit(&L, &in, y, b.steps, 1, 0);
                t[r] = util_seconds() - t0;
            }
            double sec = median(t, 5);
            printf("| %d | %d | %ld | %.3f | %.0f | %.0f | %.1f |\n", n, b.steps, b.samples / b.steps,
                   sec, b.steps / sec, b.samples / sec, b.flops / sec / 1e9);
            if (kv) fprintf(kv, "train_n%d_samples_per_s %.1f\ntrain_n%d_gflops %.2f\n", n,
                            b.samples / sec, n, b.flops / sec / 1e9);
        }
    }

    // --- 4. pool scoring per strategy, pool size and T -------------------------------------
    printf("\n### Pool scoring per strategy: rows/s (ms per pass), the engine's scoring step (predict in chunks of %d rows, then score)\n\n",
           ENGINE_CHUNK_ROWS);
    printf("| strategy | T | 1,000 rows | 10,000 rows | 60,000 rows |\n|---|---|---|---|---|\n");
    {
        const int pools[] = {1000, 10000, 60000}, ts[] = {1, 20, 100};
        int ns;
        const Strategy *all = strategy_all(&ns);
        for (int k = 0; k < ns; k++) {
            const Strategy *st = &all[k];
            const int uses_mc = (st->needs & NEEDS_MC) != 0;
            for (int ti = 0; ti < (uses_mc ? 3 : 1); ti++) {
                const int Tn = uses_mc ? ts[ti] : 0;
                printf("| %s | %s |", st->name, uses_mc ? (ti == 0 ? "1" : ti == 1 ? "20" : "100") : "–");
                for (int pi = 0; pi < 3; pi++) {
                    double sec = time_pass(st, &backend_cpu, 1, X, y, pools[pi], Tn);
                    if (st->needs) printf(" %.0f (%.1f) |", pools[pi] / sec, 1e3 * sec);
                    else printf(" %.2g (%.3f) |", pools[pi] / sec, 1e3 * sec);  // no model pass
                    if (kv && pools[pi] == 60000)
                        fprintf(kv, "score_%s_t%d_60k_s %.5f\n", st->name, Tn, sec);
                }
                printf("\n");
                fflush(stdout);
            }
        }
    }
    free(X); free(probs); free(mc); free(y);
    learner_free(&L);
    if (kv) fclose(kv);
    return 0;
}
