/* albl — Active Learning By Learning: Exp4.P over the heuristics. See albl.h for the algorithm
 * and where its batch form differs from libact's. */
#include "strategies/albl.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strategies/formulas.h"
#include "strategies/strategy.h"
#include "sim/rng.h"

/* ---- the bandit's formulas ---- */

int albl_experts(int has_mc) { return has_mc ? 5 : 4; }

const char *albl_expert_name(int i, int e) {
    static const char *const names[ALBL_MAX_EXPERTS] = {"margin", "entropy", "least-confidence", "bald", "random"};
    if (i < 0 || i >= e) return "?";
    return i == e - 1 ? "random" : names[i];
}

double albl_default_pmin(int e, long budget) {
    return sqrt(log((double)e) / e / (double)(budget > 0 ? budget : 1));
}

int albl_check(double pmin, double delta, int e, long budget, char *err, size_t errlen) {
    const double used = pmin > 0 ? pmin : albl_default_pmin(e, budget);
    if (!(delta > 0 && delta <= 1)) {
        snprintf(err, errlen, "--albl-delta %g: Exp4.P's delta must lie in (0, 1] (libact's default: 0.1)", delta);
        return 2;
    }
    if (!(pmin >= 0) || used > 1.0 / e) {
        if (pmin > 0)
            snprintf(err, errlen, "--albl-pmin %g: Exp4.P needs 0 < pmin <= 1/E = %.4g with E = %d experts (each is "
                     "followed with probability at least pmin); 0 takes libact's sqrt(ln E / (E x queries))",
                     pmin, 1.0 / e, e);
        else
            snprintf(err, errlen, "--strategy albl: libact's default pmin sqrt(ln E / (E x queries)) = %.4g for E = %d "
                     "experts and %ld queries (--rounds x --batch) is above 1/E = %.4g; give --albl-pmin in (0, %.4g]",
                     used, e, budget, 1.0 / e, 1.0 / e);
        return 2;
    }
    return 0;
}

void albl_expert_probs(double *p, const double *logw, int e, double pmin) {
    double top = logw[0], sum = 0;
    for (int i = 1; i < e; i++) if (logw[i] > top) top = logw[i];
    for (int i = 0; i < e; i++) sum += exp(logw[i] - top);
    for (int i = 0; i < e; i++) p[i] = (1.0 - e * pmin) * exp(logw[i] - top) / sum + pmin;
}

double albl_query_prob(double *advice, const double *p, const int *advised, int x, int is_arm, int n_arms,
                       int e) {
    double q = 0;
    for (int i = 0; i < e - 1; i++) {
        advice[i] = advised[i] == x ? 1.0 : 0.0;
        q += p[i] * advice[i];
    }
    advice[e - 1] = is_arm && n_arms > 0 ? 1.0 / n_arms : 0.0;
    return q + p[e - 1] * advice[e - 1];
}

void albl_update(double *logw, const double *p, const double *ratio, double reward, int e, double pmin,
                 double delta, long budget) {
    const double spread = sqrt(log(e / delta) / e / (double)budget);
    for (int i = 0; i < e; i++) logw[i] += pmin / 2 * (reward * ratio[i] + spread / p[i]);
}

double albl_iw_accuracy(const double *weight, const unsigned char *correct, int n, int n_pool, long budget) {
    double sum = 0;
    for (int h = 0; h < n; h++) if (correct[h]) sum += weight[h];
    return sum / n_pool / (double)budget;
}

/* ---- the strategy's state ---- */

typedef struct {
    int n_pool;
    int e;                      /* experts E; 0 until the first round */
    double logw[ALBL_MAX_EXPERTS];
    int n_hist, cap_hist;
    int *hist_row;              /* (n_hist) every draw's pool row, in draw order */
    double *hist_w;             /* (n_hist) its importance weight 1/q */
    unsigned char *hist_ok;     /* (cap_hist) scratch: the model right on it */
    int n_pend, cap_pend;
    double *pend_ratio;         /* (n_pend, E) a_i(x)/q(x) of the last round's draws */
    /* The round being scored. */
    double pmin, delta;
    long budget;                /* T_q = rounds · b */
    int batch;
    uint64_t seed;
    int round;
    int whole;                  /* 1: the rows scored are the whole pool; 0: --pool-subset's */
    double *score;              /* (E-1, n_pool) the heuristics' scores, by position among the rows scored */
    int *row_of;                /* (n_pool) pool row id of each position */
    unsigned char *labeled;     /* (n_pool) by pool row: labeled before this round */
    unsigned char *drawn;       /* (n_pool) by pool row: drawn in an earlier round */
    unsigned char *taken;       /* (n_pool) by position: picked this round */
    int *pos;                   /* (n_pool) by pool row: its index in the labeled set, or -1 */
    int *arms;                  /* (n_pool) positions of the random expert's rows */
    int *order;                 /* (n_pool) positions picked this round, in draw order */
} Albl;

static void albl_close(void *state) {
    Albl *s = state;
    if (!s) return;
    free(s->hist_row); free(s->hist_w); free(s->hist_ok); free(s->pend_ratio);
    free(s->score); free(s->row_of); free(s->labeled); free(s->drawn); free(s->taken);
    free(s->pos); free(s->arms); free(s->order);
    free(s);
}

static int albl_open(void **state, const char *policy_path, int n_pool, char *err, size_t errlen) {
    (void)policy_path;
    Albl *s = calloc(1, sizeof *s);
    const size_t n = (size_t)(n_pool > 0 ? n_pool : 1);
    if (s) {
        s->n_pool = n_pool;
        s->score = malloc((ALBL_MAX_EXPERTS - 1) * n * sizeof *s->score);
        s->row_of = malloc(n * sizeof *s->row_of);
        s->labeled = malloc(n);
        s->drawn = malloc(n);
        s->taken = malloc(n);
        s->pos = malloc(n * sizeof *s->pos);
        s->arms = malloc(n * sizeof *s->arms);
        s->order = malloc(n * sizeof *s->order);
    }
    if (!s || !s->score || !s->row_of || !s->labeled || !s->drawn || !s->taken || !s->pos || !s->arms || !s->order) {
        albl_close(s);
        snprintf(err, errlen, "out of memory for albl's state of %d rows", n_pool);
        return 3;
    }
    *state = s;
    return 0;
}

/* Appends one draw (pool row, weight, ratio (E)) to the history and the pending updates.
 * Returns 0, or -1 when out of memory. */
static int add_draw(Albl *s, int row, double w, const double *ratio) {
    if (s->n_hist == s->cap_hist) {
        int cap = s->cap_hist ? 2 * s->cap_hist : 64;
        int *r = realloc(s->hist_row, (size_t)cap * sizeof *r);
        if (r) s->hist_row = r;
        double *hw = realloc(s->hist_w, (size_t)cap * sizeof *hw);
        if (hw) s->hist_w = hw;
        unsigned char *ok = realloc(s->hist_ok, (size_t)cap);
        if (ok) s->hist_ok = ok;
        if (!r || !hw || !ok) return -1;
        s->cap_hist = cap;
    }
    if (s->n_pend == s->cap_pend) {
        int cap = s->cap_pend ? 2 * s->cap_pend : 64;
        double *pr = realloc(s->pend_ratio, (size_t)cap * ALBL_MAX_EXPERTS * sizeof *pr);
        if (!pr) return -1;
        s->pend_ratio = pr;
        s->cap_pend = cap;
    }
    s->hist_row[s->n_hist] = row;
    s->hist_w[s->n_hist++] = w;
    memcpy(s->pend_ratio + (size_t)s->n_pend++ * s->e, ratio, (size_t)s->e * sizeof *ratio);
    return 0;
}

/* argmax_c p_c, ties to the lowest class; -1 when a probability is NaN. */
static int predicted(const float *p, int k) {
    int best = 0;
    for (int c = 0; c < k; c++) {
        if (isnan(p[c])) return -1;
        if (p[c] > p[best]) best = c;
    }
    return best;
}

/* The reward of the last round's draws and their updates; the round's facts. */
static int albl_begin_round(void *state, const RoundInfo *in) {
    Albl *s = state;
    const int e = albl_experts(in->mc > 0), N = s->n_pool;
    if (s->e == 0) {            /* the first round: every expert weighs 1 */
        s->e = e;
        for (int i = 0; i < e; i++) s->logw[i] = 0;
    } else if (s->e != e) {
        return -1;              /* a restored state of another expert set (the config hash prevents it) */
    }
    s->budget = (long)in->rounds * in->batch;
    s->pmin = in->albl_pmin > 0 ? in->albl_pmin : albl_default_pmin(e, s->budget);
    s->delta = in->albl_delta;
    s->batch = in->batch;
    memset(s->labeled, 0, (size_t)N);
    memset(s->drawn, 0, (size_t)N);
    int *pos = s->pos;
    for (int i = 0; i < N; i++) pos[i] = -1;
    for (int j = 0; j < in->n_labeled; j++) {
        const int row = in->labeled_rows[j];
        if (row < 0 || row >= N) return -1;
        s->labeled[row] = 1;
        pos[row] = j;
    }
    for (int h = 0; h < s->n_hist; h++) {
        if (pos[s->hist_row[h]] < 0) return -1;     /* every row drawn is labeled by now (a
                                                       checkpoint of another run: refused) */
        s->drawn[s->hist_row[h]] = 1;
    }
    if (s->n_pend > 0) {        /* reward the last round's draws: IW-ACC of this round's model */
        if (!in->labeled_probs) return -1;
        for (int h = 0; h < s->n_hist; h++) {
            const int j = pos[s->hist_row[h]];
            s->hist_ok[h] = predicted(in->labeled_probs + (size_t)j * in->k, in->k) == in->labeled_y[j];
        }
        const double reward = albl_iw_accuracy(s->hist_w, s->hist_ok, s->n_hist, N, s->budget);
        double p[ALBL_MAX_EXPERTS];
        albl_expert_probs(p, s->logw, e, s->pmin);     /* the p the draws were made with */
        for (int j = 0; j < s->n_pend; j++)
            albl_update(s->logw, p, s->pend_ratio + (size_t)j * e, reward, e, s->pmin, s->delta, s->budget);
        s->n_pend = 0;
    }
    return 0;
}

void score_albl(double *scores, const PoolView *v) {
    Albl *s = v->state;
    const int K = v->k, ns = s ? s->e - 1 : 0;
    const size_t N = s ? (size_t)s->n_pool : 0;
    for (int i = 0; i < v->n; i++) scores[i] = 0.0;     /* finish writes the scores */
    if (!s) return;
    s->seed = v->seed;
    s->round = v->round;
    s->whole = v->rows == NULL;
    for (int i = 0; i < v->n; i++) {
        const size_t at = (size_t)v->row0 + i;
        const float *p = v->probs + (size_t)i * K;
        s->row_of[at] = v->rows ? v->rows[i] : (int)at;
        s->score[0 * N + at] = formula_margin(p, K);
        s->score[1 * N + at] = formula_entropy(p, K);
        s->score[2 * N + at] = formula_least_confidence(p, K);
        if (ns == 4) s->score[3 * N + at] = formula_bald(v->mc + (size_t)i * K, (size_t)v->n * K, K, v->t);
    }
}

/* The position heuristic i advises: its best row among those that may still be picked
 * (select_top_b's order), or -1 when none is left. */
static int advise(const Albl *s, int i, int n, uint64_t tie_key) {
    const double *sc = s->score + (size_t)i * s->n_pool;
    int best = -1;
    for (int x = 0; x < n; x++) {
        if (s->labeled[s->row_of[x]] || s->taken[x]) continue;
        if (best < 0 || select_ranks_before(sc[x], s->row_of[x], sc[best], s->row_of[best], tie_key)) best = x;
    }
    return best;
}

/* The round's draws (see albl.h): b rows, each scored by its rank in draw order. */
static void albl_finish(double *scores, int n, void *state) {
    Albl *s = state;
    const int e = s->e, ns = e - 1;
    const int whole = s->whole;
    double p[ALBL_MAX_EXPERTS], advice[ALBL_MAX_EXPERTS];
    albl_expert_probs(p, s->logw, e, s->pmin);
    memset(s->taken, 0, (size_t)n);
    int n_arms = 0, open = 0;
    for (int x = 0; x < n; x++) {
        const int row = s->row_of[x];
        /* the random expert's rows: all but the initial set (labeled, never drawn), or the subset */
        if (!whole || !s->labeled[row] || s->drawn[row]) s->arms[n_arms++] = x;
        open += !s->labeled[row];
    }
    const uint64_t tie_key = rng_key(s->seed, RNG_TIEBREAK, (uint64_t)s->round, 0);
    const uint64_t draw_key = rng_key(s->seed, RNG_STRATEGY, (uint64_t)s->round, 1);
    int advised[ALBL_MAX_EXPERTS - 1];
    for (int i = 0; i < ns; i++) advised[i] = advise(s, i, n, tie_key);
    const int want = s->batch < open ? s->batch : open;
    int picked = 0, failed = 0;
    for (uint64_t d = 0; picked < want; d++) {
        /* the expert: the first whose cumulative probability exceeds u */
        const double u = rng_hash_u01(rng_hash(draw_key, d, 0));
        int a = 0;
        for (double cum = p[0]; a < e - 1 && u >= cum; cum += p[++a]) {}
        const int x = a < ns ? advised[a]      /* n_arms >= the rows still open: never 0 here */
                    : s->arms[(int)(rng_hash_u01(rng_hash(draw_key, d, 1)) * n_arms)];
        const int is_arm = !whole || !s->labeled[s->row_of[x]] || s->drawn[s->row_of[x]];
        const double q = albl_query_prob(advice, p, advised, x, is_arm, n_arms, e);
        double ratio[ALBL_MAX_EXPERTS];
        for (int i = 0; i < e; i++) ratio[i] = advice[i] / q;
        if (add_draw(s, s->row_of[x], 1.0 / q, ratio) != 0) { failed = 1; break; }
        if (s->labeled[s->row_of[x]] || s->taken[x]) continue;     /* drawn again, libact's way */
        s->taken[x] = 1;
        s->order[picked++] = x;
        for (int i = 0; i < ns; i++)
            if (advised[i] == x) advised[i] = advise(s, i, n, tie_key);
    }
    for (int x = 0; x < n; x++) scores[x] = failed ? NAN : -INFINITY;
    for (int j = 0; j < picked && !failed; j++) scores[s->order[j]] = want - j;
}

/* ---- the checkpointed state: "ALBLST01", then as raw machine values: int e, int n_pool,
 * double logw[e], int n_hist, int rows[n_hist], double weights[n_hist], int n_pend,
 * double ratios[n_pend * e] ---- */

static const char TAG[8] = {'A', 'L', 'B', 'L', 'S', 'T', '0', '1'};

static size_t albl_state_size(const void *state) {
    const Albl *s = state;
    return sizeof TAG + 4 * sizeof(int) + (size_t)s->e * sizeof(double) +
           (size_t)s->n_hist * (sizeof(int) + sizeof(double)) + (size_t)s->n_pend * s->e * sizeof(double);
}

static unsigned char *put(unsigned char *at, const void *src, size_t n) {
    if (n) memcpy(at, src, n);
    return at + n;
}

static void albl_save(const void *state, void *bytes) {
    const Albl *s = state;
    unsigned char *at = bytes;
    at = put(at, TAG, sizeof TAG);
    at = put(at, &s->e, sizeof s->e);
    at = put(at, &s->n_pool, sizeof s->n_pool);
    at = put(at, s->logw, (size_t)s->e * sizeof *s->logw);
    at = put(at, &s->n_hist, sizeof s->n_hist);
    at = put(at, s->hist_row, (size_t)s->n_hist * sizeof *s->hist_row);
    at = put(at, s->hist_w, (size_t)s->n_hist * sizeof *s->hist_w);
    at = put(at, &s->n_pend, sizeof s->n_pend);
    put(at, s->pend_ratio, (size_t)s->n_pend * s->e * sizeof *s->pend_ratio);
}

static int albl_restore(void *state, const void *bytes, size_t n, char *err, size_t errlen) {
    Albl *s = state;
    const unsigned char *b = bytes;
    int e = 0, n_pool = 0, n_hist = 0, n_pend = 0;
    size_t at = sizeof TAG;
    const char *why = NULL;
    if (n < sizeof TAG || memcmp(b, TAG, 4)) why = "it is not albl's";
    else if (memcmp(b, TAG, sizeof TAG)) why = "it is of another version than this alsim's ALBLST01";
    /* the sizes, each checked before the arrays they count are read */
    if (!why && n >= at + 2 * sizeof(int)) {
        memcpy(&e, b + at, sizeof e);
        memcpy(&n_pool, b + at + sizeof e, sizeof n_pool);
        at += 2 * sizeof(int);
    } else if (!why) why = "it is cut short";
    if (!why && (e != albl_experts(0) && e != albl_experts(1))) why = "its number of experts is not 4 or 5";
    if (!why && n_pool != s->n_pool) why = "it is of another pool's size";
    if (!why && n >= at + (size_t)e * sizeof(double) + sizeof(int)) {
        memcpy(&n_hist, b + at + (size_t)e * sizeof(double), sizeof n_hist);
    } else if (!why) why = "it is cut short";
    const size_t hist_at = at + (size_t)e * sizeof(double) + sizeof(int);
    if (!why && (n_hist < 0 || (size_t)n_hist > (n - hist_at) / (sizeof(int) + sizeof(double)))) why = "its draws do not fit";
    const size_t pend_at = hist_at + (size_t)(n_hist > 0 ? n_hist : 0) * (sizeof(int) + sizeof(double));
    if (!why && n >= pend_at + sizeof(int)) memcpy(&n_pend, b + pend_at, sizeof n_pend);
    else if (!why) why = "it is cut short";
    if (!why && (n_pend < 0 || n_pend > n_hist ||
                 n != pend_at + sizeof(int) + (size_t)n_pend * e * sizeof(double)))
        why = "its sizes do not add up";
    double logw[ALBL_MAX_EXPERTS];
    if (!why) {
        memcpy(logw, b + at, (size_t)e * sizeof(double));
        for (int i = 0; i < e; i++) if (!isfinite(logw[i])) why = "a weight is not finite";
    }
    for (int h = 0; !why && h < n_hist; h++) {
        int row;
        double w;
        memcpy(&row, b + hist_at + (size_t)h * sizeof(int), sizeof row);
        memcpy(&w, b + hist_at + (size_t)n_hist * sizeof(int) + (size_t)h * sizeof(double), sizeof w);
        if (row < 0 || row >= s->n_pool) why = "a draw names a row outside the pool";
        else if (!(w >= 1.0) || !isfinite(w)) why = "a draw's importance weight is not 1/q of a probability q";
    }
    for (size_t j = 0; !why && j < (size_t)n_pend * e; j++) {
        double r;
        memcpy(&r, b + pend_at + sizeof(int) + j * sizeof(double), sizeof r);
        if (!(r >= 0) || !isfinite(r)) why = "a pending draw's advice ratio is not finite and >= 0";
    }
    if (why) {
        snprintf(err, errlen, "its albl state: %s", why);
        return 2;
    }
    /* the draws, then the pending updates, through the same path as a round's */
    s->e = e;
    memcpy(s->logw, logw, (size_t)e * sizeof *logw);
    s->n_hist = s->n_pend = 0;
    for (int h = 0; h < n_hist; h++) {
        int row;
        double w, ratio[ALBL_MAX_EXPERTS] = {0};
        memcpy(&row, b + hist_at + (size_t)h * sizeof(int), sizeof row);
        memcpy(&w, b + hist_at + (size_t)n_hist * sizeof(int) + (size_t)h * sizeof(double), sizeof w);
        if (add_draw(s, row, w, ratio) != 0) {
            snprintf(err, errlen, "out of memory restoring albl's %d draws", n_hist);
            return 3;
        }
    }
    s->n_pend = n_pend;     /* add_draw made room for n_hist >= n_pend rows */
    memcpy(s->pend_ratio, b + pend_at + sizeof(int), (size_t)n_pend * e * sizeof *s->pend_ratio);
    return 0;
}

int albl_state_weights(const void *state, double *logw) {
    const Albl *s = state;
    memcpy(logw, s->logw, sizeof s->logw);
    return s->e;
}

int albl_state_history(const void *state, const int **rows, const double **weights) {
    const Albl *s = state;
    *rows = s->hist_row;
    *weights = s->hist_w;
    return s->n_hist;
}

const StrategyHooks albl_hooks = {albl_open, albl_close, albl_begin_round, albl_finish,
                                  albl_state_size, albl_save, albl_restore, NULL};
