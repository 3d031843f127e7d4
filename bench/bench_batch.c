/* bench_batch — the selection step alone of the batch-aware strategies (issue 15), against pool
 * size and b, on synthetic but realistic inputs: T = 100 MC samples of K = 10 classes (most
 * rows confident, some not, the samples spread per row), probabilities their mean, H = 128
 * embeddings, 20 labeled rows (coreset's distances to the labeled set).
 *
 *   batchbald    select_batchbald (exact joint entropy to 10,000 configurations, sampled beyond)
 *   badge        select_badge (k-means++ seeding on the gradient embeddings)
 *   coreset      select_coreset (greedy k-center)
 *   power-bald   score_power_bald over the pool, then select_top_b
 *   bald (top-b) score_bald over the pool, then select_top_b: the non-batch reference
 *
 * Prints a markdown table of median seconds (REPS repetitions, default 3; batchbald at pool
 * 2,000 only, by default: 5x the rows is 5x its time, minutes a repetition). With an argument
 * DIR it also writes, for bench/peers/torch_batchbald.py (the same inputs in PyTorch):
 *   DIR/batch_mc.bin     the pool-2,000 MC samples: int32 magic 0x4d43424c ("LBCM" little-
 *                        endian), T, n, K, then T·n·K float32, sample-major (T,n,K) as alsim's
 *   DIR/batch_picks.txt  batchbald's 10 picks on them, one line
 *   DIR/batch.kv         `batchbald_2000_b10_s <median seconds>` and the thread count
 * Not a test: nothing here can fail.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strategies/strategy.h"
#include "sim/rng.h"
#include "sim/util.h"
#include "bench/bench.h"

enum { T = 100, K = 10, H = 128, N_LABELED = 20, MAX_REPS = 16 };

typedef struct {
    int n;
    float *mc;          /* (T,n,K) */
    float *probs;       /* (n,K) mean over T */
    float *emb;         /* (n,H) */
    float *labeled;     /* (N_LABELED,H) */
} Inputs;

/* Row i: a class y and a confidence a ~ U(0, 8) give logits z_c = a·[c = y] + U(0,1); sample t
 * adds s·N(0,1) per class, s ~ U(0, 2.5) per row, and takes the softmax. Embeddings: N(0,1),
 * shifted by the row's class, ReLU'd as a hidden layer's. */
static void inputs_make(Inputs *in, int n, uint64_t seed) {
    Rng r = rng_stream(seed, RNG_DATA, 15);
    in->n = n;
    in->mc = malloc(sizeof(float) * (size_t)T * n * K);
    in->probs = calloc((size_t)n * K, sizeof(float));
    in->emb = malloc(sizeof(float) * (size_t)n * H);
    in->labeled = malloc(sizeof(float) * (size_t)N_LABELED * H);
    double z[K];
    for (int i = 0; i < n; i++) {
        const int y = (int)rng_below(&r, K);
        const double a = 8.0 * rng_uniform(&r), s = 2.5 * rng_uniform(&r);
        double base[K];
        for (int c = 0; c < K; c++) base[c] = (c == y ? a : 0.0) + rng_uniform(&r);
        for (int t = 0; t < T; t++) {
            double mx = -INFINITY, sum = 0.0;
            for (int c = 0; c < K; c++) { z[c] = base[c] + s * rng_normal(&r); mx = fmax(mx, z[c]); }
            for (int c = 0; c < K; c++) sum += z[c] = exp(z[c] - mx);
            float *p = in->mc + ((size_t)t * n + i) * K;
            for (int c = 0; c < K; c++) {
                p[c] = (float)(z[c] / sum);
                in->probs[(size_t)i * K + c] += p[c] / T;
            }
        }
        for (int j = 0; j < H; j++) {
            const double e = rng_normal(&r) + (j % K == y ? 1.0 : 0.0);
            in->emb[(size_t)i * H + j] = (float)(e > 0 ? e : 0);
        }
    }
    for (size_t j = 0; j < (size_t)N_LABELED * H; j++) {
        const double e = rng_normal(&r);
        in->labeled[j] = (float)(e > 0 ? e : 0);
    }
}

static void inputs_free(Inputs *in) { free(in->mc); free(in->probs); free(in->emb); free(in->labeled); }

enum { S_BATCHBALD, S_BADGE, S_CORESET, S_POWER_BALD, S_BALD, N_STRATEGIES };
static const char *const names[N_STRATEGIES] = {"batchbald", "badge", "coreset", "power-bald", "bald (top-b)"};

/* One selection of b rows by strategy s; picked (b). */
static void select_once(int s, const Inputs *in, int b, int *picked, double *scores /*(n)*/) {
    const BatchView v = {.n = in->n, .k = K, .t = T, .h = H, .probs = in->probs, .mc = in->mc, .emb = in->emb,
                         .n_labeled = N_LABELED, .labeled_emb = in->labeled, .seed = 1, .round = 1};
    const PoolView pv = {.n = in->n, .k = K, .t = T, .mc = in->mc, .seed = 1, .round = 1};
    switch (s) {
    case S_BATCHBALD: select_batchbald(picked, &v, b); break;
    case S_BADGE: select_badge(picked, &v, b); break;
    case S_CORESET: select_coreset(picked, &v, b); break;
    case S_POWER_BALD: score_power_bald(scores, &pv); select_top_b(picked, scores, NULL, in->n, b, 1, 1); break;
    default: score_bald(scores, &pv); select_top_b(picked, scores, NULL, in->n, b, 1, 1); break;
    }
}

/* Median seconds of reps selections (after one untimed, except for batchbald: seconds each). */
static double time_select(int s, const Inputs *in, int b, int reps, int *picked) {
    double t[MAX_REPS], *scores = malloc(sizeof(double) * (size_t)in->n);
    if (s != S_BATCHBALD) select_once(s, in, b, picked, scores);
    for (int r = 0; r < reps; r++) {
        const double t0 = util_seconds();
        select_once(s, in, b, picked, scores);
        t[r] = util_seconds() - t0;
    }
    free(scores);
    return median(t, reps);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : NULL;
    const char *env = getenv("REPS");
    int reps = env ? atoi(env) : 3;
    if (reps < 1) reps = 1;
    if (reps > MAX_REPS) reps = MAX_REPS;
    const int pools[2] = {2000, 10000}, bs[2] = {10, 40};
    double sec[N_STRATEGIES][2][2];
    int picked[40];
    for (int p = 0; p < 2; p++) {
        Inputs in;
        inputs_make(&in, pools[p], 15);
        for (int s = 0; s < N_STRATEGIES; s++)
            for (int j = 0; j < 2; j++) {
                sec[s][p][j] = NAN;
                if (s == S_BATCHBALD && pools[p] > 2000) continue;
                sec[s][p][j] = time_select(s, &in, bs[j], reps, picked);
                if (dir && s == S_BATCHBALD && bs[j] == 10) {
                    char path[4096];
                    snprintf(path, sizeof path, "%s/batch_picks.txt", dir);
                    FILE *f = fopen(path, "w");
                    for (int i = 0; f && i < 10; i++) fprintf(f, "%d%c", picked[i], i < 9 ? ' ' : '\n');
                    if (f) fclose(f);
                    snprintf(path, sizeof path, "%s/batch_mc.bin", dir);
                    f = fopen(path, "wb");
                    const int32_t head[4] = {0x4d43424c, T, in.n, K};
                    if (f) {
                        fwrite(head, sizeof head, 1, f);
                        fwrite(in.mc, sizeof(float), (size_t)T * in.n * K, f);
                        fclose(f);
                    }
                    snprintf(path, sizeof path, "%s/batch.kv", dir);
                    f = fopen(path, "w");
                    if (f) {
                        fprintf(f, "batchbald_2000_b10_s %.6f\nthreads %d\n", sec[s][p][j], openblas_get_num_threads());
                        fclose(f);
                    }
                }
            }
        inputs_free(&in);
    }
    printf("| strategy | pool 2,000, b = 10 | pool 2,000, b = 40 | pool 10,000, b = 10 | pool 10,000, b = 40 |\n");
    printf("|---|---|---|---|---|\n");
    for (int s = 0; s < N_STRATEGIES; s++) {
        printf("| %s |", names[s]);
        for (int p = 0; p < 2; p++)
            for (int j = 0; j < 2; j++) {
                if (isnan(sec[s][p][j])) printf(" not run (about %.0f s: 5× pool 2,000) |", 5 * sec[s][0][j]);
                else if (sec[s][p][j] < 0.1) printf(" %.2f ms |", 1e3 * sec[s][p][j]);
                else printf(" %.2f s |", sec[s][p][j]);
            }
        printf("\n");
    }
    printf("\nT = %d, K = %d, H = %d, %d labeled rows; median of %d repetitions (the others after one untimed"
           " call); %d OpenBLAS threads (alsim's pool the same).\n", T, K, H, N_LABELED, reps,
           openblas_get_num_threads());
    return 0;
}
