/* batch — the batch-aware strategies: each picks the whole batch from a BatchView (every row
 * scored this round, gathered; strategy.h), so that the rows of one batch differ from each
 * other instead of being b near-copies of the most uncertain row.
 *
 *   coreset  greedy k-center on the embeddings (Sener & Savarese, ICLR 2018).
 *   badge    k-means++ seeding on the last layer's gradient embeddings (Ash et al., ICLR 2020).
 *
 * Both keep, for every row that may be picked, its squared distance to the nearest row chosen
 * so far (the labeled rows too, for coreset) and update it after each pick: O(b·n) distances,
 * plus coreset's n·n_labeled at the start, spread over the cores (sim/parallel.h; each row's
 * minimum is taken in a fixed order, so the bits do not depend on the thread count).
 * Ties break by select_top_b's order (select_ranks_before: the seeded hash of the pool row
 * id), and badge's draws come from rng_stream(seed, RNG_STRATEGY, round): the batch is a pure
 * function of the view.
 */
#include "strategies/strategy.h"
#include "strategies/formulas.h"
#include "sim/parallel.h"
#include "sim/rng.h"

#include <math.h>
#include <stdlib.h>

enum { MIN_ROWS = 256 };    /* per thread, as in bayesian.c */

static int64_t pool_row(const BatchView *v, int i) { return v->rows ? v->rows[i] : i; }

double embedding_distance2(const float *a, const float *b, int h) {
    double s = 0.0;
    for (int j = 0; j < h; j++) {
        const double d = (double)a[j] - b[j];
        s += d * d;
    }
    return s;
}

/* The distance between rows i and j of a view, as the strategy measures it. */
typedef double (*RowDistance)(const BatchView *v, int i, int j);

static double emb_distance(const BatchView *v, int i, int j) {
    return embedding_distance2(v->emb + (size_t)i * v->h, v->emb + (size_t)j * v->h, v->h);
}

static double grad_distance(const BatchView *v, int i, int j) {
    return badge_distance2(v->probs + (size_t)i * v->k, v->emb + (size_t)i * v->h,
                           v->probs + (size_t)j * v->k, v->emb + (size_t)j * v->h, v->k, v->h);
}

/* What a range of rows of one update reads and writes: d2[i] = min(d2[i], dist(i, center)),
 * and for coreset's start, the minimum over the labeled rows. */
typedef struct {
    double *d2;                     /* (n) */
    const unsigned char *done;      /* (n) 1: not a candidate (excluded or picked) */
    const BatchView *v;
    RowDistance dist;
    int center;                     /* the row just picked, or -1: the labeled rows */
} Update;

static void update_range(void *ctx, int lo, int hi) {
    const Update *u = ctx;
    const BatchView *v = u->v;
    for (int i = lo; i < hi; i++) {
        if (u->done[i]) continue;
        if (u->center >= 0) {
            const double d = u->dist(v, i, u->center);
            if (d < u->d2[i] || isnan(d)) u->d2[i] = d;
            continue;
        }
        for (int l = 0; l < v->n_labeled; l++) {
            const double d = embedding_distance2(v->emb + (size_t)i * v->h, v->labeled_emb + (size_t)l * v->h, v->h);
            if (d < u->d2[i] || isnan(d)) u->d2[i] = d;
        }
    }
}

static void update(Update *u, int center) {
    u->center = center;
    parallel_for(u->v->n, MIN_ROWS, update_range, u);
}

/* The candidate (done[i] == 0) that ranks first by d2 (select_ranks_before), or -1 if none. */
static int best_row(const double *d2 /*(n)*/, const unsigned char *done /*(n)*/, const BatchView *v,
                    uint64_t key) {
    int best = -1;
    for (int i = 0; i < v->n; i++)
        if (!done[i] && (best < 0 || select_ranks_before(d2[i], pool_row(v, i), d2[best], pool_row(v, best), key)))
            best = i;
    return best;
}

/* Scratch of a selection: d2 (n) distances, done (n) 1 for rows that may not be picked (now). */
typedef struct {
    double *d2;
    unsigned char *done;
} Scratch;

static int scratch_open(Scratch *s, const BatchView *v) {
    const size_t n = (size_t)(v->n > 0 ? v->n : 1);
    s->d2 = malloc(n * sizeof *s->d2);
    s->done = malloc(n);
    if (!s->d2 || !s->done) {
        free(s->d2); free(s->done);
        return -1;
    }
    for (int i = 0; i < v->n; i++) {
        s->d2[i] = INFINITY;
        s->done[i] = v->excluded ? v->excluded[i] != 0 : 0;
    }
    return 0;
}

static void scratch_close(Scratch *s) { free(s->d2); free(s->done); }

int select_coreset(int *picked, const BatchView *v, int b) {
    Scratch s;
    if (scratch_open(&s, v) != 0) return -1;
    const uint64_t key = rng_key(v->seed, RNG_TIEBREAK, (uint64_t)v->round, 0);
    Update u = {s.d2, s.done, v, emb_distance, -1};
    if (v->n_labeled > 0) update(&u, -1);   /* else every row is infinitely far: ties */
    int m = 0;
    for (; m < b; m++) {
        const int c = best_row(s.d2, s.done, v, key);
        if (c < 0) break;
        picked[m] = (int)pool_row(v, c);
        s.done[c] = 1;
        update(&u, c);
    }
    scratch_close(&s);
    return m;
}

void badge_embedding(float *g, const float *p, const float *h, int k, int hw) {
    const int y = formula_argmax(p, k);
    for (int c = 0; c < k; c++)
        for (int j = 0; j < hw; j++) g[(size_t)c * hw + j] = (float)((p[c] - (c == y)) * (double)h[j]);
}

double badge_distance2(const float *p_i, const float *h_i, const float *p_j, const float *h_j, int k,
                       int hw) {
    const int yi = formula_argmax(p_i, k), yj = formula_argmax(p_j, k);
    if (yi < 0 || yj < 0) return NAN;
    double aa = 0.0, bb = 0.0, ab = 0.0, hh_i = 0.0, hh_j = 0.0, hh = 0.0;
    for (int c = 0; c < k; c++) {
        const double a = p_i[c] - (double)(c == yi), bc = p_j[c] - (double)(c == yj);
        aa += a * a; bb += bc * bc; ab += a * bc;
    }
    for (int j = 0; j < hw; j++) {
        hh_i += (double)h_i[j] * h_i[j]; hh_j += (double)h_j[j] * h_j[j]; hh += (double)h_i[j] * h_j[j];
    }
    const double d = aa * hh_i + bb * hh_j - 2.0 * ab * hh;
    return d < 0.0 ? 0.0 : d;
}

/* |g|² = |p - e_y|² |h|², the squared norm of a row's gradient embedding; NaN for a NaN row. */
static double grad_norm2(const float *p /*(K)*/, const float *h /*(H)*/, int k, int hw) {
    const int y = formula_argmax(p, k);
    if (y < 0) return NAN;
    double aa = 0.0, hh = 0.0;
    for (int c = 0; c < k; c++) aa += (p[c] - (double)(c == y)) * (p[c] - (double)(c == y));
    for (int j = 0; j < hw; j++) hh += (double)h[j] * h[j];
    return aa * hh;
}

int select_badge(int *picked, const BatchView *v, int b) {
    Scratch s;
    if (scratch_open(&s, v) != 0) return -1;
    const uint64_t key = rng_key(v->seed, RNG_TIEBREAK, (uint64_t)v->round, 0);
    Rng rng = rng_stream(v->seed, RNG_STRATEGY, (uint64_t)v->round);
    /* The first center: the largest gradient norm (BADGE's code, init_centers). */
    for (int i = 0; i < v->n; i++)
        if (!s.done[i]) s.d2[i] = grad_norm2(v->probs + (size_t)i * v->k, v->emb + (size_t)i * v->h, v->k, v->h);
    int c = b > 0 ? best_row(s.d2, s.done, v, key) : -1, m = 0;
    for (int i = 0; i < v->n; i++) s.d2[i] = INFINITY;
    Update u = {s.d2, s.done, v, grad_distance, -1};
    while (c >= 0) {
        picked[m++] = (int)pool_row(v, c);
        s.done[c] = 1;
        if (m == b) break;
        update(&u, c);
        /* The next: drawn with probability d2 / Σ d2 (k-means++), by a running sum in row
         * order; rows at distance 0 (copies of a center) only when no other row is left. */
        double total = 0.0;
        for (int i = 0; i < v->n; i++)
            if (!s.done[i] && s.d2[i] > 0.0 && isfinite(s.d2[i])) total += s.d2[i];
        c = -1;
        if (total > 0.0) {
            const double x = rng_uniform(&rng) * total;
            double acc = 0.0;
            for (int i = 0; i < v->n && c < 0; i++) {
                if (s.done[i] || !(s.d2[i] > 0.0 && isfinite(s.d2[i]))) continue;
                acc += s.d2[i];
                if (x < acc) c = i;
            }
        }
        if (c < 0) c = best_row(s.d2, s.done, v, key);
    }
    scratch_close(&s);
    return m;
}
