/* rl — the policy's features. See rl.h for what each one is and why it is scaled so. */
#include "strategies/rl.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "strategies/policy.h"
#include "strategies/formulas.h"
#include "strategies/strategy.h"

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
    int *share = calloc((size_t)K, sizeof *share);
    float *dots = malloc((size_t)n * (cols > 0 ? cols : 1) * sizeof *dots);   /* (n, L) then (n, R) */
    double *dist = malloc((size_t)n * sizeof *dist);
    if (!share || !dots || !dist) {
        free(share); free(dots); free(dist);
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
        f[0] = formula_entropy(p, K) / logk;
        f[1] = p1 - p2;
        f[2] = p1;
        /* BALD from the T samples of row i; a NaN (a diverged model) counts as 0. */
        f[3] = fmax(0.0, formula_bald(mc + (size_t)i * K, (size_t)n * K, K, T)) / logk;

        f[4] = dist[i];
        double ne = sqrt(norm2(emb + (size_t)i * H, H)), sim = 0;
        for (int r = 0; r < R; r++)
            if (ne > 0 && ctx->ref_norm[r] > 0) sim += dots[(size_t)i * R + r] / (ne * ctx->ref_norm[r]);
        f[5] = R > 0 ? sim / R : 0;
        f[6] = L > 0 ? (double)share[top] / L : 0;
    }
    free(share); free(dots); free(dist);
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

/* ---- the rl strategy: features chunk by chunk, the policy's scores at the end ---- */

typedef struct {
    Policy own;             /* the policy loaded from the policy file, if any */
    const Policy *policy;   /* the one that scores: &own, or a driver's (rl_use_policy) */
    RlContext ctx;
    int n_pool;
    double *feat;       /* (n_pool, RL_FEATURES) this round's features */
} RlState;

static int rl_open(void **state, const char *policy_path, int n_pool, char *err, size_t errlen) {
    RlState *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, errlen, "out of memory"); return 3; }
    if (policy_path && *policy_path) {
        int rc = policy_load(&s->own, policy_path, rl_feature_names, RL_FEATURES, err, errlen);
        if (rc) { free(s); return rc; }
        s->policy = &s->own;
    }
    s->n_pool = n_pool;
    s->feat = malloc((size_t)n_pool * RL_FEATURES * sizeof *s->feat);
    if (!s->feat) {
        policy_free(&s->own);
        free(s);
        snprintf(err, errlen, "out of memory for the RL features of %d rows", n_pool);
        return 3;
    }
    *state = s;
    return 0;
}

static void rl_close(void *state) {
    RlState *s = state;
    if (!s) return;
    policy_free(&s->own);
    rl_context_free(&s->ctx);
    free(s->feat);
    free(s);
}

static int rl_begin_round(void *state, const RoundInfo *in) {
    RlState *s = state;
    rl_context_free(&s->ctx);
    s->ctx = (RlContext){
        .k = in->k, .h = in->h, .n_labeled = in->n_labeled,
        .labeled_emb = in->labeled_emb, .labeled_y = in->labeled_y,
        .n_ref = in->n_ref, .ref_emb = in->ref_emb,
        .round = in->round, .rounds = in->rounds, .n_pool = in->n_pool,
    };
    return rl_context_prepare(&s->ctx);
}

void score_rl(double *scores, const PoolView *v) {
    RlState *s = v->state;
    int bad = !s || !v->emb || !v->mc ||
              rl_candidate_features(s->feat + (size_t)v->row0 * RL_FEATURES, &s->ctx, v->probs,
                                    v->mc, v->t, v->emb, v->n) != 0;
    for (int i = 0; i < v->n; i++) scores[i] = bad ? NAN : 0.0;   /* finish writes the scores */
}

static void rl_finish(double *scores, int n, void *state) {
    RlState *s = state;
    rl_fill_global(s->feat, &s->ctx, n);
    if (s->policy) policy_forward(scores, NULL, s->policy, s->feat, n);
    else for (int i = 0; i < n; i++) scores[i] = NAN;
}

void rl_use_policy(void *state, const Policy *p) { ((RlState *)state)->policy = p; }

const double *rl_features(const void *state) { return ((const RlState *)state)->feat; }

const StrategyHooks rl_hooks = {rl_open, rl_close, rl_begin_round, rl_finish, NULL, NULL, NULL};
