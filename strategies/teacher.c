/* teacher — the look-ahead teacher as a strategy: label look-ahead, for measurement only.
 *
 * Each round it builds a handful of candidate batches from the round's predictions (the
 * rankings a learned policy would mix: margin, entropy, BALD, margin with k-center diversity,
 * class-balanced margin), has the loop refit the run's own model on the labeled rows plus each
 * distinct candidate (strategy.h Lookahead: the model, initial weights, budget rule and
 * minibatch order of the next round's real fit, so every candidate is fitted under common
 * random numbers) and keeps the candidate whose refit is most accurate on the reward split,
 * ties broken by the lower NLL, then by the order of the candidates. The refits read labels
 * the run has not queried: the teacher says how much a policy over these rankings could gain
 * at best (issue 16's stop/go gate); it is never a strategy to label data with.
 *
 * Each candidate is in ascending pool row id, so two candidates of the same rows are the same
 * refit (the second is not refitted: same_as), and the batch picked joins the labeled set in
 * the order its refit saw it: the next round's fit is the refit of the candidate picked.
 */
#include "strategies/strategy.h"
#include "strategies/formulas.h"
#include "sim/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const teacher_candidate_names[TEACHER_CANDIDATES] = {
    "margin", "entropy", "bald", "k-center", "balanced",
};

enum { KCENTER_POOL = 10 };     /* k-center picks among the top KCENTER_POOL·b rows by margin */

static int64_t pool_row(const BatchView *v, int i) { return v->rows ? v->rows[i] : i; }

static int may_pick(const BatchView *v, int i) { return !v->excluded || !v->excluded[i]; }

/* 1 when view row i ranks before view row j by score (select_top_b's order on pool row ids). */
static int before(const BatchView *v, const double *score, int i, int j, uint64_t key) {
    return select_ranks_before(score[i], pool_row(v, i), score[j], pool_row(v, j), key);
}

/* top (m) = the view rows that may be picked and rank first by score (n), best first, among
 * those with only[i] == c when only is not NULL. Returns how many (at most m). Insertion into
 * a sorted list: one pass, most rows losing to the last one kept on the score alone. */
static int top_rows(int *top /*(m)*/, const double *score /*(n)*/, const BatchView *v, int m,
                    const int *only /*(n)*/, int c, uint64_t key) {
    int got = 0;
    if (m <= 0) return 0;
    for (int i = 0; i < v->n; i++) {
        if (!may_pick(v, i) || (only && only[i] != c)) continue;
        if (got == m && !before(v, score, i, top[m - 1], key)) continue;
        int j = got < m ? got++ : m - 1;
        for (; j > 0 && before(v, score, i, top[j - 1], key); j--) top[j] = top[j - 1];
        top[j] = i;
    }
    return got;
}

/* Greedy k-center over the view rows cand (m): b times, the row farthest from the labeled
 * rows and the rows picked so far (coreset's rule, ties by the seeded hash), into out (b).
 * d2 (n) is scratch. Returns how many. */
static int kcenter(int *out, const int *cand, int m, int b, const BatchView *v, double *d2, uint64_t key) {
    for (int a = 0; a < m; a++) {
        const int i = cand[a];
        d2[i] = INFINITY;
        for (int l = 0; l < v->n_labeled && v->labeled_emb; l++) {
            const double d = embedding_distance2(v->emb + (size_t)i * v->h, v->labeled_emb + (size_t)l * v->h, v->h);
            if (d < d2[i]) d2[i] = d;
        }
    }
    int got = 0;
    unsigned char *taken = calloc((size_t)(m > 0 ? m : 1), 1);
    if (!taken) return -1;
    for (; got < b && got < m; got++) {
        int best = -1;
        for (int a = 0; a < m; a++)
            if (!taken[a] && (best < 0 || before(v, d2, cand[a], cand[best], key))) best = a;
        if (best < 0) break;
        taken[best] = 1;
        out[got] = cand[best];
        for (int a = 0; a < m; a++) {
            if (taken[a]) continue;
            const int i = cand[a];
            const double d = embedding_distance2(v->emb + (size_t)i * v->h, v->emb + (size_t)out[got] * v->h, v->h);
            if (d < d2[i]) d2[i] = d;
        }
    }
    free(taken);
    return got;
}

/* Class-balanced margin into out (b): the top ceil(b/K) rows by margin of each predicted
 * class, the best b of those by margin, then the next rows by margin while short of b.
 * pred (n) the predicted classes; top (K·ceil(b/K) + 2b) scratch. Returns how many. */
static int balanced(int *out, const BatchView *v, int b, const double *margin, const int *pred, int *top,
                    uint64_t key) {
    const int q = (b + v->k - 1) / v->k;
    int m = 0;
    for (int c = 0; c < v->k; c++) m += top_rows(top + m, margin, v, q, pred, c, key);
    /* the best b of the m, by margin (insertion sort of the m, best first) */
    for (int a = 1; a < m; a++) {
        const int x = top[a];
        int j = a;
        for (; j > 0 && before(v, margin, x, top[j - 1], key); j--) top[j] = top[j - 1];
        top[j] = x;
    }
    int got = m < b ? m : b;
    memcpy(out, top, (size_t)got * sizeof *out);
    if (got < b) {      /* classes with too few rows: the next rows by margin */
        int *next = top + m;
        const int n_next = top_rows(next, margin, v, 2 * b, NULL, 0, key);
        for (int a = 0; a < n_next && got < b; a++) {
            int dup = 0;
            for (int j = 0; j < got; j++) dup |= out[j] == next[a];
            if (!dup) out[got++] = next[a];
        }
    }
    return got;
}

static int cmp_int(const void *a, const void *b) {
    const int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int teacher_candidate(int *rows, const BatchView *v, int b, int which) {
    const int n = v->n, K = v->k;
    if (b <= 0 || n <= 0 || !v->probs) return 0;
    if (which == TEACHER_BALD && (!v->mc || v->t < 1)) return 0;
    if (which == TEACHER_KCENTER && (!v->emb || v->h < 1)) return 0;
    const uint64_t key = rng_key(v->seed, RNG_TIEBREAK, (uint64_t)v->round, 0);
    const int m_top = which == TEACHER_KCENTER ? KCENTER_POOL * b : b;
    double *score = malloc((size_t)n * sizeof *score);
    int *idx = malloc(((size_t)m_top + (size_t)K * ((b + K - 1) / K) + 2 * (size_t)b) * sizeof *idx);
    int *pred = which == TEACHER_BALANCED ? malloc((size_t)n * sizeof *pred) : NULL;
    int got = -1;
    if (!score || !idx || (which == TEACHER_BALANCED && !pred)) goto done;
    for (int i = 0; i < n; i++) {
        const float *p = v->probs + (size_t)i * K;
        score[i] = which == TEACHER_ENTROPY ? formula_entropy(p, K)
                 : which == TEACHER_BALD ? formula_bald(v->mc + (size_t)i * K, (size_t)n * K, K, v->t)
                 : formula_margin(p, K);
        if (pred) pred[i] = formula_argmax(p, K);
    }
    if (which == TEACHER_KCENTER) {
        const int m = top_rows(idx, score, v, m_top, NULL, 0, key);
        got = kcenter(rows, idx, m, b, v, score, key);     /* score is scratch from here */
    } else if (which == TEACHER_BALANCED) {
        got = balanced(rows, v, b, score, pred, idx, key);
    } else {
        got = top_rows(idx, score, v, b, NULL, 0, key);
        memcpy(rows, idx, (size_t)got * sizeof *rows);
    }
    for (int a = 0; a < got; a++) rows[a] = (int)pool_row(v, rows[a]);
    if (got > 0) qsort(rows, (size_t)got, sizeof *rows, cmp_int);
done:
    free(score);
    free(idx);
    free(pred);
    return got;
}

int select_teacher(int *picked, const BatchView *v, int b) {
    Lookahead *la = v->lookahead;
    int *cand = malloc((size_t)TEACHER_CANDIDATES * (b > 0 ? b : 1) * sizeof *cand);
    int count[TEACHER_CANDIDATES], which[LOOKAHEAD_MAX];
    if (!cand) return -1;
    for (int w = 0; w < TEACHER_CANDIDATES; w++)
        if ((count[w] = teacher_candidate(cand + (size_t)w * b, v, b, w)) < 0) { free(cand); return -1; }
    int best = TEACHER_MARGIN;      /* without a look-ahead: margin's batch */
    if (la) {
        la->n = 0;
        la->chosen = -1;
        for (int w = 0; w < TEACHER_CANDIDATES && la->n < LOOKAHEAD_MAX; w++) {
            if (count[w] == 0) continue;    /* does not apply (bald without MC samples) */
            const int i = la->n++;
            which[i] = w;
            la->name[i] = teacher_candidate_names[w];
            la->same_as[i] = -1;
            for (int j = 0; j < i && la->same_as[i] < 0; j++)
                if (count[which[j]] == count[w] &&
                    !memcmp(cand + (size_t)which[j] * b, cand + (size_t)w * b, (size_t)count[w] * sizeof *cand))
                    la->same_as[i] = j;
            if (la->same_as[i] >= 0) {
                la->acc[i] = la->acc[la->same_as[i]];
                la->nll[i] = la->nll[la->same_as[i]];
            } else if (la->refit(&la->acc[i], &la->nll[i], cand + (size_t)w * b, count[w], la->ctx) != 0) {
                free(cand);
                return -1;
            }
            const int c = la->chosen;
            if (c < 0 || la->acc[i] > la->acc[c] || (la->acc[i] == la->acc[c] && la->nll[i] < la->nll[c]))
                la->chosen = i;
        }
        if (la->chosen >= 0) best = which[la->chosen];
    }
    const int got = count[best];
    memcpy(picked, cand + (size_t)best * b, (size_t)got * sizeof *picked);
    free(cand);
    return got;
}
