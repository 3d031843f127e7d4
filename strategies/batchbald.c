/* batchbald — greedy BatchBALD (Kirsch, van Amersfoort & Gal, NeurIPS 2019): the batch whose
 * labels carry the most joint information about the model's weights.
 *
 * With the T MC samples w_1..w_T as the posterior, pick i + 1 is the row x maximising
 *   a(x) = H(y_1, .., y_i, y_x) - Σ_j E_w[H(y_j | w)] - E_w[H(y_x | w)],
 * y_1..y_i the labels of the rows already picked; the picked rows' conditional entropies are
 * the same for every candidate, so the greedy ranks H(y_1..y_i, y_x) - E_w[H(y_x | w)]. The
 * first pick is BALD's (formula_bald, so b = 1 picks bald's top row), ties by select_top_b's
 * order (select_ranks_before).
 *
 * The joint entropy, with P(y_1..y_i | w_t) = Π_j p_t(y_j | x_j) in double:
 *   exact    while K^i <= BATCHBALD_CONFIGS: a (K^i, T) matrix of P(config | w_t), extended by
 *            each pick (K^i -> K^(i+1) rows), and per candidate
 *            H = -Σ_config Σ_c q log q,  q = (1/T) Σ_t P(config | w_t) p_t(c | x);
 *   sampled  beyond it: M = S·T configurations, S = max(1, BATCHBALD_CONFIGS / T) drawn under
 *            each w_t (y_j ~ p_t(· | x_j), ancestrally, from rng_stream(seed, RNG_STRATEGY,
 *            round)), so from the mixture Q(config) = (1/T) Σ_t P(config | w_t), and
 *            H ≈ (1/M) Σ_m Σ_c -(q_mc / Q_m) log q_mc  (importance weights 1/Q_m),
 *            as the paper's released code does (BlackHC/BatchBALD, joint_entropy/sampling.py);
 *            it draws the configurations once, when K^i first exceeds the bound, and extends
 *            each by a label of every later pick drawn under the configuration's own w_t
 *            (the same distribution as redrawing them all, at a fraction of the cost).
 * Per candidate the cost is (configurations)·T·K multiply-adds and (configurations)·K logs.
 * The multiply-adds are one dgemm per block of BLOCK candidates and slice of SLICE
 * configurations, (slice, T) · (T, K·BLOCK); the blocks are spread over the cores
 * (parallel_for_gemm: OpenBLAS on one thread inside), so each candidate's value comes from one
 * fixed sequence of operations whatever the thread count. Against the plain loop it replaced
 * (Σ_t in order of t, a multiply then an add), OpenBLAS's kernel may fuse the multiply-adds and
 * order the sum over t its own way: the q differ in the last bits, the picks did not (random
 * pools, K = 3..10, T = 7..50, 4..14 picks, exact and sampled). The logs are glibc's scalar
 * log, now most of the time (about 5 ns each: 1.2e9 per 10 picks from 2,000 rows, K = 10).
 *
 * Consistent MC dropout. The estimate needs sample t of every row to come from one model w_t:
 * the same dropout masks for every pool row within a round. alsim's MC masks are otherwise
 * keyed by (seed, round, sample t, row, unit) (sim/learner.h, sim/cnn.h), so sample t of two
 * rows comes from two independent masks; on such samples the average over t of a product of
 * per-row probabilities estimates the product of the rows' mean predictions, the joint entropy
 * tends to the sum of the rows' entropies and the greedy to top-b BALD. So batchbald asks for
 * NEEDS_SHARED_MASKS: the engine predicts its rows with row0 = RNG_ROWS_SHARED, and sample t
 * of every row is drawn with the masks of rng_key(seed, RNG_MC, round, t) at row id 0. Its
 * samples, and so its first pick, are therefore not bald's (whose masks stay per row); on the
 * same samples its first pick is bald's top row. Other strategies' masks are unchanged.
 */
#include "strategies/strategy.h"
#include "strategies/formulas.h"
#include "sim/parallel.h"
#include "sim/rng.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MIN_ROWS = 16 };     /* rows per thread of the per-row passes */

static int64_t pool_row(const BatchView *v, int i) { return v->rows ? v->rows[i] : i; }

/* Row x's sample t: K floats. */
static const float *sample(const BatchView *v, int t, int x) {
    return v->mc + ((size_t)t * v->n + x) * v->k;
}

/* The configurations of the picked rows' labels: P(config m | w_t) in joint (C,T), and for
 * sampled ones the model each was drawn under. */
typedef struct {
    int c;                  /* configurations C */
    int sampled;            /* 0: all K^i, enumerated; 1: drawn */
    double *joint;          /* (C,T) */
    double *q;              /* (C) sampled: Q_m = (1/T) Σ_t joint[m,t] */
    int *model;             /* (C) sampled: the t configuration m was drawn under */
} Joint;

static void joint_free(Joint *J) { free(J->joint); free(J->q); free(J->model); memset(J, 0, sizeof *J); }

/* The empty batch: one configuration of probability 1 under every w_t. */
static int joint_open(Joint *J, int T) {
    memset(J, 0, sizeof *J);
    J->c = 1;
    J->joint = malloc((size_t)T * sizeof *J->joint);
    if (!J->joint) return -1;
    for (int t = 0; t < T; t++) J->joint[t] = 1.0;
    return 0;
}

/* Exact: every configuration extended by every label of row x, config m·K + c. */
static int joint_extend_exact(Joint *J, const BatchView *v, int x) {
    const int T = v->t, K = v->k;
    double *next = malloc((size_t)J->c * K * T * sizeof *next);
    if (!next) return -1;
    for (int m = 0; m < J->c; m++)
        for (int c = 0; c < K; c++)
            for (int t = 0; t < T; t++)
                next[((size_t)m * K + c) * T + t] = J->joint[(size_t)m * T + t] * (double)sample(v, t, x)[c];
    free(J->joint);
    J->joint = next;
    J->c *= K;
    return 0;
}

/* A label drawn from p (K floats, summing to about 1), by a running sum in class order. */
static int draw_label(const float *p, int K, Rng *rng) {
    double total = 0.0;
    for (int c = 0; c < K; c++) total += p[c] > 0.0f ? p[c] : 0.0f;
    const double u = rng_uniform(rng) * total;
    double acc = 0.0;
    int last = 0;
    for (int c = 0; c < K; c++) {
        if (!(p[c] > 0.0f)) continue;
        acc += p[c];
        last = c;
        if (u < acc) return c;
    }
    return last;
}

/* Sampled: every configuration extended by one label of row x drawn under its own model. */
static void joint_extend_sampled(Joint *J, const BatchView *v, int x, Rng *rng) {
    const int T = v->t;
    for (int m = 0; m < J->c; m++) {
        const int y = draw_label(sample(v, J->model[m], x), v->k, rng);
        double *row = J->joint + (size_t)m * T, s = 0.0;
        for (int t = 0; t < T; t++) s += row[t] *= (double)sample(v, t, x)[y];
        J->q[m] = s / T;
    }
}

/* Sampled: M = S·T configurations of the rows picked (n_picked, view indices), S under each
 * w_t in order of t. */
static int joint_draw(Joint *J, const BatchView *v, const int *picked, int n_picked, int s_per_model,
                      Rng *rng) {
    const int T = v->t, M = s_per_model * T;
    joint_free(J);
    J->sampled = 1;
    J->c = M;
    J->joint = malloc((size_t)M * T * sizeof *J->joint);
    J->q = malloc((size_t)M * sizeof *J->q);
    J->model = malloc((size_t)M * sizeof *J->model);
    if (!J->joint || !J->q || !J->model) return -1;
    for (int m = 0; m < M; m++) {
        J->model[m] = m / s_per_model;
        for (int t = 0; t < T; t++) J->joint[(size_t)m * T + t] = 1.0;
    }
    for (int j = 0; j < n_picked; j++) joint_extend_sampled(J, v, picked[j], rng);
    return 0;
}

/* Candidates per gemm, and configurations per slice of its product: a slice's product (SLICE,
 * K·BLOCK) and the candidates' samples (T, K·BLOCK) stay in the core's cache while the
 * entropies are summed. Fixed numbers, so a candidate's value does not depend on the cores. */
enum { BLOCK = 16, SLICE = 256 };

/* Scratch of joint_entropy_block: samples (T, K·BLOCK) and a slice's product (SLICE, K·BLOCK). */
static size_t block_scratch(const BatchView *v) { return (size_t)(v->t + SLICE) * v->k * BLOCK; }

/* h[j] = H(picked labels, y_cand[j]) for nb <= BLOCK candidates (view indices): the joint
 * entropy in nats with row cand[j] added, exact or estimated. The sums
 *   q[m, j·K + c] = Σ_t joint[m,t] p_t(c | x_j)
 * are one dgemm per slice of SLICE configurations, (slice, T) · (T, K·nb); then, per candidate
 * and configuration in order, -Σ_c (q/T) log (q/T), summed over configurations (exact) or each
 * over Q_m and averaged (sampled). scratch: block_scratch(v) doubles. */
static void joint_entropy_block(double *h /*(nb)*/, const Joint *J, const BatchView *v, const int *cand /*(nb)*/,
                                int nb, double *scratch) {
    const int T = v->t, K = v->k, ld = K * nb;
    double *px = scratch, *q = scratch + (size_t)T * K * BLOCK;  /* px (T, K·nb), q (SLICE, K·nb) */
    for (int t = 0; t < T; t++)
        for (int j = 0; j < nb; j++)
            for (int c = 0; c < K; c++) px[(size_t)t * ld + j * K + c] = sample(v, t, cand[j])[c];
    for (int j = 0; j < nb; j++) h[j] = 0.0;
    for (int m0 = 0; m0 < J->c; m0 += SLICE) {
        const int rows = J->c - m0 < SLICE ? J->c - m0 : SLICE;
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, ld, T, 1.0, J->joint + (size_t)m0 * T, T,
                    px, ld, 0.0, q, ld);
        const size_t len = (size_t)rows * ld;
        for (size_t i = 0; i < len; i++) q[i] /= T;     /* a pass of its own: it vectorises */
        for (int r = 0; r < rows; r++) {
            const double *qr = q + (size_t)r * ld, qm = J->sampled ? J->q[m0 + r] : 1.0;
            const int keep = !J->sampled || qm > 0.0 || isnan(qm);
            for (int j = 0; j < nb; j++) {
                double hm = 0.0;
                for (int c = 0; c < K; c++) hm -= formula_xlogx(qr[j * K + c]);
                if (!J->sampled) h[j] += hm;
                else if (keep) h[j] += hm / qm;
            }
        }
    }
    if (J->sampled)
        for (int j = 0; j < nb; j++) h[j] /= J->c;
}

/* One greedy step's scores: score[i] = H(picked, y_i) - E_w[H(y_i | w)] for candidates. */
typedef struct {
    double *score;                  /* (n) */
    const double *cond;             /* (n) E_w[H(y_i | w)] */
    const unsigned char *done;      /* (n) */
    const Joint *J;
    const BatchView *v;
    const int *cand;                /* (n_cand) the rows not done, in view order */
    int n_cand;
    int oom;
} Step;

/* Blocks lo..hi-1 of BLOCK candidates (cand[BLOCK·blk ..]). */
static void step_range(void *ctx, int lo, int hi) {
    Step *s = ctx;
    double *scratch = malloc(block_scratch(s->v) * sizeof *scratch), h[BLOCK];
    if (!scratch) { s->oom = 1; return; }   /* a lone int store: any thread may set it */
    for (int blk = lo; blk < hi; blk++) {
        const int *cand = s->cand + (size_t)blk * BLOCK;
        const int nb = s->n_cand - blk * BLOCK < BLOCK ? s->n_cand - blk * BLOCK : BLOCK;
        joint_entropy_block(h, s->J, s->v, cand, nb, scratch);
        for (int j = 0; j < nb; j++) s->score[cand[j]] = h[j] - s->cond[cand[j]];
    }
    free(scratch);
}

/* E_w[H(y_i | w)] = (1/T) Σ_t H[p_t(· | x_i)] of rows lo..hi-1. */
static void cond_range(void *ctx, int lo, int hi) {
    Step *s = ctx;
    double *cond = (double *)s->cond;
    for (int i = lo; i < hi; i++) {
        double h = 0.0;
        for (int t = 0; t < s->v->t; t++) h += formula_entropy(sample(s->v, t, i), s->v->k);
        cond[i] = h / s->v->t;
    }
}

/* The first pick's scores: BALD, as score_bald. */
static void bald_range(void *ctx, int lo, int hi) {
    Step *s = ctx;
    const size_t stride = (size_t)s->v->n * s->v->k;
    for (int i = lo; i < hi; i++)
        if (!s->done[i]) s->score[i] = formula_bald(s->v->mc + (size_t)i * s->v->k, stride, s->v->k, s->v->t);
}

/* The candidate ranking first (select_ranks_before), or -1 when none is left. */
static int best_row(const double *score, const unsigned char *done, const BatchView *v, uint64_t key) {
    int best = -1;
    for (int i = 0; i < v->n; i++)
        if (!done[i] && (best < 0 || select_ranks_before(score[i], pool_row(v, i), score[best], pool_row(v, best), key)))
            best = i;
    return best;
}

/* 1 while the K^i label configurations of i picked rows number at most BATCHBALD_CONFIGS. */
static int exact_fits(int k, int i) {
    double c = 1.0;
    for (int j = 0; j < i; j++) c *= k;
    return c <= BATCHBALD_CONFIGS;
}

static int s_per_model(int T) { return BATCHBALD_CONFIGS / T > 0 ? BATCHBALD_CONFIGS / T : 1; }

/* Brings J to the rows picked (n_picked view indices, the last just added): exact while it
 * fits, else drawn once and then extended. */
static int joint_add(Joint *J, const BatchView *v, const int *picked, int n_picked, Rng *rng) {
    if (!J->sampled && exact_fits(v->k, n_picked)) return joint_extend_exact(J, v, picked[n_picked - 1]);
    if (!J->sampled) return joint_draw(J, v, picked, n_picked, s_per_model(v->t), rng);
    joint_extend_sampled(J, v, picked[n_picked - 1], rng);
    return 0;
}

int select_batchbald(int *picked, const BatchView *v, int b) {
    const size_t n = (size_t)(v->n > 0 ? v->n : 1);
    double *score = malloc(n * sizeof *score), *cond = malloc(n * sizeof *cond);
    unsigned char *done = malloc(n);
    int *chosen = malloc((size_t)(b > 0 ? b : 1) * sizeof *chosen);     /* view indices */
    int *cand = malloc(n * sizeof *cand);                               /* view indices */
    Joint J;
    int m = 0, rc = joint_open(&J, v->t > 0 ? v->t : 1);
    if (!score || !cond || !done || !chosen || !cand || rc != 0) goto oom;
    for (int i = 0; i < v->n; i++) done[i] = v->excluded ? v->excluded[i] != 0 : 0;
    const uint64_t key = rng_key(v->seed, RNG_TIEBREAK, (uint64_t)v->round, 0);
    Rng rng = rng_stream(v->seed, RNG_STRATEGY, (uint64_t)v->round);
    Step s = {score, cond, done, &J, v, cand, 0, 0};
    if (b > 0) parallel_for(v->n, MIN_ROWS * 16, bald_range, &s);
    if (b > 1) parallel_for(v->n, MIN_ROWS * 16, cond_range, &s);
    for (; m < b; m++) {
        if (m > 0) {
            if (joint_add(&J, v, chosen, m, &rng) != 0) goto oom;
            s.n_cand = 0;
            for (int i = 0; i < v->n; i++)
                if (!done[i]) cand[s.n_cand++] = i;
            parallel_for_gemm((s.n_cand + BLOCK - 1) / BLOCK, 1, step_range, &s);
            if (s.oom) goto oom;
        }
        const int c = best_row(score, done, v, key);
        if (c < 0) break;
        chosen[m] = c;
        picked[m] = (int)pool_row(v, c);
        done[c] = 1;
    }
    joint_free(&J);
    free(score); free(cond); free(done); free(chosen); free(cand);
    return m;
oom:
    joint_free(&J);
    free(score); free(cond); free(done); free(chosen); free(cand);
    return -1;
}

double batchbald_joint_entropy(const BatchView *v, const int *idx, int m, int sampled) {
    Joint J;
    double h = NAN;
    Rng rng = rng_stream(v->seed, RNG_STRATEGY, (uint64_t)v->round);
    double *scratch = malloc(block_scratch(v) * sizeof *scratch);
    if (m < 1 || !scratch || joint_open(&J, v->t) != 0) { free(scratch); return NAN; }
    int rc = 0;
    if (sampled && m > 1) rc = joint_draw(&J, v, idx, m - 1, s_per_model(v->t), &rng);
    else
        for (int j = 0; j + 1 < m && rc == 0; j++) rc = joint_extend_exact(&J, v, idx[j]);
    if (rc == 0) joint_entropy_block(&h, &J, v, &idx[m - 1], 1, scratch);
    joint_free(&J);
    free(scratch);
    return h;
}
