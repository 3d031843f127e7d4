/* rl — the policy's features. See rl.h for what each one is and why it is scaled so. */
#include "strategies/rl.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strategies/policy.h"
#include "strategies/formulas.h"
#include "strategies/strategy.h"

const char *const rl_feature_names[RL_FEATURES] = {
    "margin", "entropy", "bald", "dist_labeled", "density", "rarity",
    "budget_used", "labeled_frac", "mean_max_prob", "imbalance",
};

static double norm2(const float *a, int h) {
    double s = 0;
    for (int j = 0; j < h; j++) s += (double)a[j] * a[j];
    return s;
}

int rl_context_prepare(RlContext *ctx) {
    ctx->labeled_norm2 = malloc((size_t)(ctx->n_labeled > 0 ? ctx->n_labeled : 1) * sizeof *ctx->labeled_norm2);
    ctx->ref_norm = malloc((size_t)(ctx->n_ref > 0 ? ctx->n_ref : 1) * sizeof *ctx->ref_norm);
    ctx->class_share = calloc((size_t)(ctx->k > 0 ? ctx->k : 1), sizeof *ctx->class_share);
    if (!ctx->labeled_norm2 || !ctx->ref_norm || !ctx->class_share) { rl_context_free(ctx); return -1; }
    for (int i = 0; i < ctx->n_labeled; i++) {
        ctx->labeled_norm2[i] = norm2(ctx->labeled_emb + (size_t)i * ctx->h, ctx->h);
        const int32_t y = ctx->labeled_y[i];
        if (y >= 0 && y < ctx->k) ctx->class_share[y] += 1.0 / ctx->n_labeled;
    }
    for (int r = 0; r < ctx->n_ref; r++) ctx->ref_norm[r] = sqrt(norm2(ctx->ref_emb + (size_t)r * ctx->h, ctx->h));
    return 0;
}

void rl_context_free(RlContext *ctx) {
    free(ctx->labeled_norm2);
    free(ctx->ref_norm);
    free(ctx->class_share);
    ctx->labeled_norm2 = NULL;
    ctx->ref_norm = NULL;
    ctx->class_share = NULL;
}

int rl_raw_features(double *raw, const RlContext *ctx, const float *probs, const float *mc, int T,
                    const float *emb, int n) {
    const int K = ctx->k, H = ctx->h, L = ctx->n_labeled, R = ctx->n_ref;
    const int cols = L > R ? L : R;
    float *dots = malloc((size_t)n * (cols > 0 ? cols : 1) * sizeof *dots);   /* (n, L) then (n, R) */
    double *dist = malloc((size_t)(n > 0 ? n : 1) * sizeof *dist);
    if (!dots || !dist) { free(dots); free(dist); return -1; }

    /* Distance to the labeled set: ‖e - e_l‖² = ‖e‖² + ‖e_l‖² - 2 e·e_l, dots (n,L) by sgemm. */
    if (L > 0 && n > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, L, H, 1.0f, emb, H,
                    ctx->labeled_emb, H, 0.0f, dots, L);
    for (int i = 0; i < n; i++) {
        double ne2 = norm2(emb + (size_t)i * H, H), best = INFINITY;
        for (int l = 0; l < L; l++) {
            double d = ne2 + ctx->labeled_norm2[l] - 2.0 * dots[(size_t)i * L + l];
            if (d < best) best = d;
        }
        dist[i] = L > 0 ? sqrt(fmax(best, 0.0)) : 0.0;
    }
    /* Density: mean cosine similarity to the reference rows, dots (n,R) by sgemm. */
    if (R > 0 && n > 0)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, R, H, 1.0f, emb, H,
                    ctx->ref_emb, H, 0.0f, dots, R);

    for (int i = 0; i < n; i++) {
        double *f = raw + (size_t)i * RL_RAW;
        const float *p = probs + (size_t)i * K;
        f[RL_MARGIN] = formula_margin(p, K);        /* margin's score itself: its ties kept */
        f[RL_ENTROPY] = formula_entropy(p, K);
        const double bald = formula_bald(mc + (size_t)i * K, (size_t)n * K, K, T);
        f[RL_BALD] = bald > 0 ? bald : 0.0;         /* a NaN counts as 0 */
        f[RL_DIST_LABELED] = dist[i];
        double ne = sqrt(norm2(emb + (size_t)i * H, H)), sim = 0;
        for (int r = 0; r < R; r++)
            if (ne > 0 && ctx->ref_norm[r] > 0) sim += dots[(size_t)i * R + r] / (ne * ctx->ref_norm[r]);
        f[RL_DENSITY] = R > 0 ? sim / R : 0;
        const int top = formula_argmax(p, K);
        f[RL_RARITY] = top >= 0 ? -ctx->class_share[top] : NAN;
        double p1 = -INFINITY;
        for (int c = 0; c < K; c++) if (p[c] > p1) p1 = p[c];
        f[RL_RANKINGS] = p1;
    }
    free(dots); free(dist);
    return 0;
}

/* Sorting row indices by value for the ranks: NaN lowest, then ascending; equal values (and
 * NaNs) compare equal, so their order does not matter. */
typedef struct { double x; int i; } Keyed;

static int cmp_keyed(const void *a, const void *b) {
    const double x = ((const Keyed *)a)->x, y = ((const Keyed *)b)->x;
    if (isnan(x) || isnan(y)) return isnan(y) - isnan(x);
    return (x > y) - (x < y);
}

static int same_value(double x, double y) { return x == y || (isnan(x) && isnan(y)); }

int rl_percentile_ranks(double *rank, const double *x, size_t stride, int n) {
    if (n <= 0) return 0;
    Keyed *k = malloc((size_t)n * sizeof *k);
    if (!k) return -1;
    for (int i = 0; i < n; i++) k[i] = (Keyed){x[(size_t)i * stride], i};
    qsort(k, (size_t)n, sizeof *k, cmp_keyed);
    for (int a = 0; a < n;) {
        int e = a + 1;
        while (e < n && same_value(k[e].x, k[a].x)) e++;
        /* positions a..e-1 share their mean, (a + e - 1) / 2 */
        const double r = n > 1 ? (a + e - 1) / 2.0 / (n - 1) : 0.5;
        for (int j = a; j < e; j++) rank[k[j].i] = r;
        a = e;
    }
    free(k);
    return 0;
}

int rl_features_from_raw(double *feat, const double *raw, const RlContext *ctx, int n) {
    double *rank = malloc((size_t)(n > 0 ? n : 1) * sizeof *rank);
    if (!rank) return -1;
    for (int h = 0; h < RL_RANKINGS; h++) {
        if (rl_percentile_ranks(rank, raw + h, RL_RAW, n)) { free(rank); return -1; }
        for (int i = 0; i < n; i++) feat[(size_t)i * RL_FEATURES + h] = rank[i];
    }
    free(rank);
    double p1 = 0, ent = 0;
    for (int i = 0; i < n; i++) {
        const double x = raw[(size_t)i * RL_RAW + RL_RANKINGS];
        p1 += isfinite(x) ? x : 0;
    }
    for (int c = 0; c < ctx->k; c++)
        if (ctx->class_share[c] > 0) ent -= ctx->class_share[c] * log(ctx->class_share[c]);
    double g[RL_GATES];
    g[0] = ctx->rounds > 0 ? (double)ctx->round / ctx->rounds : 0;
    g[1] = log1p((double)ctx->n_labeled) / log1p((double)(ctx->n_pool > 0 ? ctx->n_pool : 1));
    g[2] = n ? p1 / n : 0;
    g[3] = ctx->n_labeled > 0 && ctx->k > 1 ? fmin(1.0, fmax(0.0, 1.0 - ent / log((double)ctx->k))) : 0;
    for (int i = 0; i < n; i++) memcpy(feat + (size_t)i * RL_FEATURES + RL_RANKINGS, g, sizeof g);
    return 0;
}

int rl_policy_init(Policy *p) {
    return policy_init(p, RL_RANKINGS, RL_GATES, rl_feature_names, RL_MARGIN);
}

/* ---- the rl strategy: features chunk by chunk, the policy's scores at the end ---- */

typedef struct {
    Policy own;             /* the policy loaded from the policy file, if any */
    const Policy *policy;   /* the one that scores: &own, or a driver's (rl_use_policy) */
    RlContext ctx;
    int n_pool;
    int bad;                /* a chunk's raw features could not be computed this round */
    int scored;             /* finish computed the features and scores of this round */
    int n_scored;           /* rows scored this round: the pool's, or the --pool-subset's */
    double *raw;            /* (n_pool, RL_RAW) this round's raw values, chunk by chunk */
    double *feat;           /* (n_pool, RL_FEATURES) this round's features */
    int *rows;              /* (n_pool) the pool row id of each row scored, in their order */
    double *pick_scores;    /* (n_pool) the picker's scores of the rows scored, in their order */
    unsigned char *pick_excl;   /* (n_pool) the same of its excluded flags */
    int keep_emb;           /* the policy's λ may be nonzero: this round's embeddings are kept */
    float *emb;             /* (n_pool, H) this round's embeddings when keep_emb, else unused */
} RlState;

static int rl_open(void **state, const char *policy_path, int n_pool, char *err, size_t errlen) {
    RlState *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, errlen, "out of memory"); return 3; }
    if (policy_path && *policy_path) {
        int rc = policy_load(&s->own, policy_path, rl_feature_names, RL_RANKINGS, RL_GATES, err, errlen);
        if (rc) { free(s); return rc; }
        s->policy = &s->own;
    }
    s->n_pool = n_pool;
    s->raw = malloc((size_t)n_pool * RL_RAW * sizeof *s->raw);
    s->feat = malloc((size_t)n_pool * RL_FEATURES * sizeof *s->feat);
    s->rows = malloc((size_t)n_pool * sizeof *s->rows);
    s->pick_scores = malloc((size_t)n_pool * sizeof *s->pick_scores);
    s->pick_excl = malloc((size_t)n_pool);
    if (!s->raw || !s->feat || !s->rows || !s->pick_scores || !s->pick_excl) {
        policy_free(&s->own);
        free(s->raw); free(s->feat); free(s->rows); free(s->pick_scores); free(s->pick_excl);
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
    free(s->raw);
    free(s->feat);
    free(s->rows);
    free(s->pick_scores);
    free(s->pick_excl);
    free(s->emb);
    free(s);
}

static int rl_begin_round(void *state, const RoundInfo *in) {
    RlState *s = state;
    rl_context_free(&s->ctx);
    s->bad = 0;
    s->scored = 0;
    s->n_scored = 0;
    /* The embeddings are kept for the pick only when the policy's λ may be nonzero (the
     * shipped init's is 0 everywhere: no (n_pool, H) floats for it). */
    s->keep_emb = s->policy && policy_has_lambda(s->policy) && in->h > 0;
    if (s->keep_emb && !s->emb && !(s->emb = malloc((size_t)s->n_pool * in->h * sizeof *s->emb))) return -1;
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
              rl_raw_features(s->raw + (size_t)v->row0 * RL_RAW, &s->ctx, v->probs, v->mc, v->t, v->emb, v->n) != 0;
    if (s && bad) s->bad = 1;
    for (int i = 0; i < v->n; i++) scores[i] = bad ? NAN : 0.0;   /* finish writes the scores */
    if (!s || bad) return;
    for (int i = 0; i < v->n; i++) s->rows[v->row0 + i] = v->rows ? v->rows[i] : (int)v->row0 + i;
    if (s->keep_emb)
        memcpy(s->emb + (size_t)v->row0 * v->h, v->emb, (size_t)v->n * v->h * sizeof *v->emb);
}

static void rl_finish(double *scores, int n, void *state) {
    RlState *s = state;
    if (s->bad || !s->policy || rl_features_from_raw(s->feat, s->raw, &s->ctx, n)) {
        for (int i = 0; i < n; i++) scores[i] = NAN;
        return;
    }
    policy_forward(scores, s->policy, s->feat, n);
    s->scored = 1;
    s->n_scored = n;
}

/* The batch: policy_select over the rows scored this round, with λ at the round's gates (0 when
 * the round could not be scored: then every score is NaN and the pick is select_top_b's). The
 * picker's arrays are indexed by pool row id; the state's rows are in the order scored. */
static int rl_pick(int *picked, const double *scores, const unsigned char *excluded, int n, int b, uint64_t seed,
                   int round, void *state) {
    RlState *s = state;
    if (!s->scored) return select_top_b(picked, scores, excluded, n, b, seed, round);
    const int m = s->n_scored;
    const double lambda = s->keep_emb && m > 0 ? policy_lambda(s->policy, s->feat + RL_RANKINGS) : 0;
    for (int j = 0; j < m; j++) {
        s->pick_scores[j] = scores[s->rows[j]];
        s->pick_excl[j] = excluded && excluded[s->rows[j]];
    }
    return policy_select(picked, s->pick_scores, lambda != 0 ? s->emb : NULL, s->ctx.h, s->pick_excl, s->rows, m,
                         b, lambda, seed, round);
}

void rl_use_policy(void *state, const Policy *p) { ((RlState *)state)->policy = p; }

const double *rl_features(const void *state) { return ((const RlState *)state)->feat; }

const StrategyHooks rl_hooks = {
    .open = rl_open, .close = rl_close, .begin_round = rl_begin_round, .finish = rl_finish, .pick = rl_pick,
};
