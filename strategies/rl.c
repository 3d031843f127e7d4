/* rl — the policy's features. See rl.h for what each one is and why it is scaled so. */
#include "strategies/rl.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "strategies/scores.h"

const char *const rl_feature_names[RL_FEATURES] = {
    "entropy", "margin", "max_prob", "bald", "dist_labeled", "density", "class_share",
    "budget_used", "labeled_frac", "accuracy", "pool_entropy",
};

static double norm2(const float *a, int h) {
    double s = 0;
    for (int j = 0; j < h; j++) s += (double)a[j] * a[j];
    return s;
}

int rl_context_prepare(RlContext *ctx) {
    ctx->labeled_norm2 = malloc((size_t)(ctx->n_labeled > 0 ? ctx->n_labeled : 1) * sizeof *ctx->labeled_norm2);
    ctx->ref_norm = malloc((size_t)(ctx->n_ref > 0 ? ctx->n_ref : 1) * sizeof *ctx->ref_norm);
    if (!ctx->labeled_norm2 || !ctx->ref_norm) { rl_context_free(ctx); return -1; }
    double sum = 0;
    for (int i = 0; i < ctx->n_labeled; i++) {
        ctx->labeled_norm2[i] = norm2(ctx->labeled_emb + (size_t)i * ctx->h, ctx->h);
        sum += sqrt(ctx->labeled_norm2[i]);
    }
    for (int r = 0; r < ctx->n_ref; r++) ctx->ref_norm[r] = sqrt(norm2(ctx->ref_emb + (size_t)r * ctx->h, ctx->h));
    ctx->labeled_mean_norm = ctx->n_labeled && sum > 0 ? sum / ctx->n_labeled : 1.0;
    return 0;
}

void rl_context_free(RlContext *ctx) {
    free(ctx->labeled_norm2);
    free(ctx->ref_norm);
    ctx->labeled_norm2 = NULL;
    ctx->ref_norm = NULL;
}

int rl_candidate_features(double *feat, const RlContext *ctx, const float *probs,
                          const float *mc, int T, const float *emb, int n) {
    const int K = ctx->k, H = ctx->h, L = ctx->n_labeled, R = ctx->n_ref;
    const double logk = log((double)K);
    const int cols = L > R ? L : R;
    double *mean = malloc((size_t)K * sizeof *mean);
    int *share = calloc((size_t)K, sizeof *share);
    float *dots = malloc((size_t)n * (cols > 0 ? cols : 1) * sizeof *dots);   /* (n, L) then (n, R) */
    double *dist = malloc((size_t)n * sizeof *dist);
    if (!mean || !share || !dots || !dist) {
        free(mean); free(share); free(dots); free(dist);
        return -1;
    }
    for (int i = 0; i < L; i++) share[ctx->labeled_y[i]]++;

    /* Distance to the labeled set: ‖e - e_l‖² = ‖e‖² + ‖e_l‖² - 2 e·e_l, dots (n,L) by sgemm. */
    if (L > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, L, H, 1.0f, emb, H,
                    ctx->labeled_emb, H, 0.0f, dots, L);
    for (int i = 0; i < n; i++) {
        double ne2 = norm2(emb + (size_t)i * H, H), best = INFINITY;
        for (int l = 0; l < L; l++) {
            double d = ne2 + ctx->labeled_norm2[l] - 2.0 * dots[(size_t)i * L + l];
            if (d < best) best = d;
        }
        dist[i] = L > 0 ? sqrt(fmax(best, 0.0)) / ctx->labeled_mean_norm : 1.0;
    }
    /* Density: mean cosine similarity to the reference rows, dots (n,R) by sgemm. */
    if (R > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, R, H, 1.0f, emb, H,
                    ctx->ref_emb, H, 0.0f, dots, R);

    for (int i = 0; i < n; i++) {
        double *f = feat + (size_t)i * RL_FEATURES;
        const float *p = probs + (size_t)i * K;
        int top = 0;
        double p1 = -1, p2 = -1;
        for (int c = 0; c < K; c++) {
            if (p[c] > p1) { p2 = p1; p1 = p[c]; top = c; }
            else if (p[c] > p2) p2 = p[c];
        }
        f[0] = scores_entropy(p, K) / logk;
        f[1] = p1 - p2;
        f[2] = p1;

        /* BALD from the T samples of row i. */
        double mean_h = 0, hbar = 0;
        for (int c = 0; c < K; c++) mean[c] = 0;
        for (int t = 0; t < T; t++) {
            const float *q = mc + ((size_t)t * n + i) * K;
            mean_h += scores_entropy(q, K);
            for (int c = 0; c < K; c++) mean[c] += q[c];
        }
        for (int c = 0; c < K; c++) hbar -= scores_xlogx(mean[c] / T);
        f[3] = fmax(0.0, hbar - mean_h / T) / logk;

        f[4] = dist[i];
        double ne = sqrt(norm2(emb + (size_t)i * H, H)), sim = 0;
        for (int r = 0; r < R; r++)
            if (ne > 0 && ctx->ref_norm[r] > 0) sim += dots[(size_t)i * R + r] / (ne * ctx->ref_norm[r]);
        f[5] = R > 0 ? sim / R : 0;
        f[6] = L > 0 ? (double)share[top] / L : 0;
    }
    free(mean); free(share); free(dots); free(dist);
    return 0;
}
void rl_fill_global(double *feat, const RlContext *ctx, int n) {
    double acc = 0, ent = 0;
    for (int i = 0; i < n; i++) {
        acc += feat[(size_t)i * RL_FEATURES + 2];
        ent += feat[(size_t)i * RL_FEATURES + 0];
    }
    const double budget = ctx->rounds > 0 ? (double)ctx->round / ctx->rounds : 0;
    const double frac = log1p((double)ctx->n_labeled) / log1p((double)(ctx->n_pool > 0 ? ctx->n_pool : 1));
    for (int i = 0; i < n; i++) {
        double *f = feat + (size_t)i * RL_FEATURES;
        f[7] = budget;
        f[8] = frac;
        f[9] = n ? acc / n : 0;
        f[10] = n ? ent / n : 0;
    }
}
