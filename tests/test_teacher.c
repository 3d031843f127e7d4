/* test_teacher — the look-ahead teacher (--strategy teacher, label look-ahead for measurement
 * only) and the engine's refit it stands on.
 *
 * Candidate batches: margin, entropy and BALD are select_top_b's top b of their scores (the
 * same seeded tie-breaks), in ascending pool row id, never an excluded row, as pool row ids
 * under --pool-subset; BALD and k-center do not apply without MC samples / embeddings; k-center
 * reaches a far row among margin's top 10·b that margin's top b leaves out; class-balanced
 * margin takes each predicted class's best row. The choice: the highest reward accuracy, ties
 * by the lower NLL, then the first; identical candidates are refitted once.
 * The engine: the reward split leaves the pool (disjoint from it and from the test set, drawn
 * from the seed); the refits do not count as queries and leave the ledger as a margin run's;
 * common random numbers (refits of the same rows are bit-identical, whatever was refitted in
 * between); the candidate picked in round r scores exactly what round r+1's real fit scores on
 * the reward split (retraining, warm start, --early-stop); the same seed, the same run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "sim/backend.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "sim/rng.h"
#include "sim/util.h"
#include "strategies/formulas.h"
#include "tests/check.h"

enum { N = 60, K = 3, T = 4, H = 2, B = 4 };

/* A view of N rows: probabilities and MC samples drawn from a seeded stream, embeddings on a
 * line, every 7th row excluded, two labeled rows at the origin. */
typedef struct {
    float probs[N * K], mc[T * N * K], emb[N * H], labeled_emb[2 * H];
    unsigned char excluded[N];
    BatchView v;
} View;

static void make_view(View *w, uint64_t seed) {
    Rng r = rng_stream(seed, RNG_DATA, 77);
    for (int t = -1; t < T; t++)
        for (int i = 0; i < N; i++) {
            float *p = t < 0 ? w->probs + i * K : w->mc + ((size_t)t * N + i) * K;
            double s = 0;
            for (int c = 0; c < K; c++) s += p[c] = (float)(0.05 + rng_uniform(&r));
            for (int c = 0; c < K; c++) p[c] = (float)(p[c] / s);
        }
    for (int i = 0; i < N; i++) {
        w->emb[i * H] = (float)(i % 5);
        w->emb[i * H + 1] = 0;
        w->excluded[i] = i % 7 == 0;
    }
    memset(w->labeled_emb, 0, sizeof w->labeled_emb);
    w->v = (BatchView){.n = N, .k = K, .t = T, .h = H, .probs = w->probs, .mc = w->mc, .emb = w->emb,
                       .excluded = w->excluded, .n_labeled = 2, .labeled_emb = w->labeled_emb,
                       .seed = seed, .round = 2};
}

static int cmp_int(const void *a, const void *b) {
    const int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* want (b) = select_top_b of score over the view, sorted ascending. */
static int top_sorted(int *want, const double *score, const View *w, int b) {
    int m = select_top_b(want, score, w->excluded, N, b, w->v.seed, w->v.round);
    qsort(want, (size_t)m, sizeof *want, cmp_int);
    return m;
}

static void test_candidates(void) {
    View w;
    make_view(&w, 11);
    double margin[N], entropy[N], bald[N];
    for (int i = 0; i < N; i++) {
        margin[i] = formula_margin(w.probs + i * K, K);
        entropy[i] = formula_entropy(w.probs + i * K, K);
        bald[i] = formula_bald(w.mc + i * K, (size_t)N * K, K, T);
    }
    int got[B], want[B];
    const double *scores[3] = {margin, entropy, bald};
    const int which[3] = {TEACHER_MARGIN, TEACHER_ENTROPY, TEACHER_BALD};
    for (int s = 0; s < 3; s++) {
        int n = teacher_candidate(got, &w.v, B, which[s]);
        int m = top_sorted(want, scores[s], &w, B);
        CHECK(n == B && m == B && !memcmp(got, want, sizeof got), "%s: select_top_b's top %d, sorted",
              teacher_candidate_names[which[s]], B);
    }
    /* every candidate: b distinct rows that may be picked, ascending */
    for (int c = 0; c < TEACHER_CANDIDATES; c++) {
        int n = teacher_candidate(got, &w.v, B, c), bad = 0;
        for (int i = 0; i < n; i++) bad += w.excluded[got[i]] || (i && got[i] <= got[i - 1]);
        CHECK(n == B && bad == 0, "%s: %d rows, %d excluded or out of order", teacher_candidate_names[c], n, bad);
    }
    /* class-balanced: with b = K, the best row by margin of each predicted class */
    int bal[K], best[K];
    for (int c = 0; c < K; c++) best[c] = -1;
    const uint64_t key = rng_key(w.v.seed, RNG_TIEBREAK, (uint64_t)w.v.round, 0);
    for (int i = 0; i < N; i++) {
        if (w.excluded[i]) continue;
        int c = formula_argmax(w.probs + i * K, K);
        if (best[c] < 0 || select_ranks_before(margin[i], i, margin[best[c]], best[c], key)) best[c] = i;
    }
    qsort(best, K, sizeof *best, cmp_int);
    CHECK(teacher_candidate(bal, &w.v, K, TEACHER_BALANCED) == K && !memcmp(bal, best, sizeof bal),
          "balanced: one row per predicted class, its best by margin (%d %d %d, want %d %d %d)", bal[0], bal[1], bal[2],
          best[0], best[1], best[2]);
    /* k-center: a row far from every other among margin's top 10·b, but not in its top b, is reached */
    int top[10 * B];
    select_top_b(top, margin, w.excluded, N, 10 * B, w.v.seed, w.v.round);
    const int far = top[10 * B - 1];
    w.emb[far * H] = 100;
    w.emb[far * H + 1] = 100;
    int kc[B], mg[B], in_kc = 0, in_mg = 0, outside = 0;
    teacher_candidate(kc, &w.v, B, TEACHER_KCENTER);
    teacher_candidate(mg, &w.v, B, TEACHER_MARGIN);
    for (int i = 0; i < B; i++) {
        in_kc |= kc[i] == far;
        in_mg |= mg[i] == far;
        int in_top = 0;
        for (int j = 0; j < 10 * B; j++) in_top |= top[j] == kc[i];
        outside += !in_top;
    }
    CHECK(in_kc && !in_mg, "k-center picks the far row %d (%d), margin does not (%d)", far, in_kc, in_mg);
    CHECK(outside == 0, "k-center: %d rows outside margin's top %d", outside, 10 * B);
    /* what does not apply: bald without MC samples, k-center without embeddings */
    View bare = w;
    bare.v.mc = NULL;
    bare.v.t = 0;
    CHECK(teacher_candidate(got, &bare.v, B, TEACHER_BALD) == 0, "bald without MC samples: none");
    bare.v.emb = NULL;
    bare.v.h = 0;
    CHECK(teacher_candidate(got, &bare.v, B, TEACHER_KCENTER) == 0, "k-center without embeddings: none");
    /* fewer rows that may be picked than b: all of them */
    View few = w;
    memset(few.excluded, 1, sizeof few.excluded);
    few.excluded[3] = few.excluded[40] = 0;
    few.v.excluded = few.excluded;
    for (int c = 0; c < TEACHER_CANDIDATES; c++)
        CHECK(teacher_candidate(got, &few.v, B, c) == 2 && got[0] == 3 && got[1] == 40, "%s: the 2 rows left",
              teacher_candidate_names[c]);
    /* --pool-subset: a view of rows given by pool row id; candidates come back as pool row ids */
    View sub = w;
    int ids[N];
    for (int i = 0; i < N; i++) ids[i] = 1000 + 3 * i;
    sub.v.rows = ids;
    int pooled = 0;
    CHECK(teacher_candidate(got, &sub.v, B, TEACHER_MARGIN) == B, "subset: b rows");
    for (int i = 0; i < B; i++) pooled += got[i] >= 1000 && (got[i] - 1000) % 3 == 0 && !w.excluded[(got[i] - 1000) / 3];
    CHECK(pooled == B, "subset: candidates are the subset's pool row ids (%d of %d)", pooled, B);
}

/* A refit planted for the choice: accuracy = share of the rows in `good`, nll from nll_of. */
typedef struct {
    const unsigned char *good;
    double nll;             /* every refit's NLL, or NAN: the first row's id */
    int calls;
} Fake;

static int fake_refit(double *acc, double *nll, const int *rows, int m, void *ctx) {
    Fake *f = ctx;
    int g = 0;
    for (int i = 0; i < m; i++) g += f->good[rows[i]];
    *acc = (double)g / m;
    *nll = isnan(f->nll) ? rows[0] : f->nll;
    f->calls++;
    return 0;
}

static void test_choice(void) {
    View w;
    make_view(&w, 5);
    int cand[TEACHER_CANDIDATES][B], picked[B];
    for (int c = 0; c < TEACHER_CANDIDATES; c++) CHECK(teacher_candidate(cand[c], &w.v, B, c) == B, "candidate %d", c);
    /* plant entropy's rows that margin's batch lacks as the good ones: entropy (or a candidate
     * as good) wins */
    unsigned char good[N] = {0};
    for (int i = 0; i < B; i++) good[cand[TEACHER_ENTROPY][i]] = 1;
    for (int i = 0; i < B; i++) good[cand[TEACHER_MARGIN][i]] = 0;
    Fake f = {good, 1.0, 0};
    Lookahead la = {.refit = fake_refit, .ctx = &f};
    w.v.lookahead = &la;
    CHECK(select_teacher(picked, &w.v, B) == B, "b picked");
    int distinct = 0;
    for (int i = 0; i < la.n; i++) distinct += la.same_as[i] < 0;
    CHECK(la.n == TEACHER_CANDIDATES && f.calls == distinct, "%d candidates, %d refits for %d distinct", la.n, f.calls,
          distinct);
    double top = -1;
    for (int i = 0; i < la.n; i++) top = fmax(top, la.acc[i]);
    const int ch = la.chosen < 0 ? 0 : la.chosen;
    CHECK(la.chosen >= 0 && la.acc[ch] == top && top > la.acc[TEACHER_MARGIN], "the most accurate refit wins");
    CHECK(!memcmp(picked, cand[ch], sizeof picked), "the batch is the chosen candidate's");
    /* all as accurate: the lowest NLL (here the smallest first row id) */
    memset(good, 0, sizeof good);
    f = (Fake){good, NAN, 0};
    select_teacher(picked, &w.v, B);
    int want = 0;
    for (int c = 1; c < TEACHER_CANDIDATES; c++) if (cand[c][0] < cand[want][0]) want = c;
    CHECK(la.chosen == want, "equal accuracy: the lowest NLL wins (%d, want %d)", la.chosen, want);
    /* all equal: the first candidate, margin */
    f = (Fake){good, 0.5, 0};
    select_teacher(picked, &w.v, B);
    CHECK(la.chosen == 0 && !memcmp(picked, cand[TEACHER_MARGIN], sizeof picked), "all equal: margin, the first");
    /* two classes: entropy ranks as margin does, so its batch is margin's and is not refitted */
    View two = w;
    float p2[N * 2];
    for (int i = 0; i < N; i++) {
        p2[2 * i] = w.probs[i * K] / (w.probs[i * K] + w.probs[i * K + 1]);
        p2[2 * i + 1] = 1 - p2[2 * i];
    }
    two.v.probs = p2;
    two.v.k = 2;
    two.v.mc = NULL;
    two.v.t = 0;
    f = (Fake){good, 0.5, 0};
    two.v.lookahead = &la;
    select_teacher(picked, &two.v, B);
    distinct = 0;
    for (int i = 0; i < la.n; i++) distinct += la.same_as[i] < 0;
    CHECK(la.n == TEACHER_CANDIDATES - 1 && la.same_as[1] == 0 && !strcmp(la.name[1], "entropy"),
          "K = 2: entropy's batch is margin's (same_as %d), bald left out (%d candidates)", la.same_as[1], la.n);
    CHECK(f.calls == distinct, "K = 2: %d refits for %d distinct candidates", f.calls, distinct);
    /* without a look-ahead: margin's batch */
    w.v.lookahead = NULL;
    CHECK(select_teacher(picked, &w.v, B) == B && !memcmp(picked, cand[TEACHER_MARGIN], sizeof picked),
          "no look-ahead: margin's batch");
}

/* 1 when row a of A and row b of B hold the same features (dense). */
static int same_row(const Dataset *A, int a, const Dataset *B_, int b) {
    return !memcmp(A->x + (size_t)a * A->d, B_->x + (size_t)b * B_->d, (size_t)A->d * sizeof *A->x);
}

/* 1 when row a of A is among the rows of B. */
static int has_row(const Dataset *B_, const Dataset *A, int a) {
    for (int j = 0; j < B_->n; j++) if (same_row(A, a, B_, j)) return 1;
    return 0;
}

static void small_config(Config *c, const char *strategy) {
    config_defaults(c, CMD_RUN);
    snprintf(c->strategy, sizeof c->strategy, "%s", strategy);
    c->rounds = 3; c->batch = 5; c->init = 6; c->n_hidden = 1; c->hidden[0] = 16; c->epochs = 4; c->mc = 4;
    c->minibatch = 8;
}

/* Runs every round of a teacher session of c, checking the chain: round r's chosen refit equals
 * round r+1's model on the reward split, bit for bit; queries only for labeled rows; the ledger
 * as margin's. picks (R·b) receives the rows picked. */
static void run_chain(int *picks, const Config *c, const Dataset *pool, const Dataset *test, const Dataset *val,
                      const Dataset *reward, const Backend *be, const char *what) {
    char err[512];
    Session S, M;
    if (session_open(&S, c, pool, test, be, 4, err, sizeof err)) { CHECK(0, "%s: open: %s", what, err); return; }
    Config cm = *c;
    snprintf(cm.strategy, sizeof cm.strategy, "margin");
    if (session_open(&M, &cm, pool, test, be, 4, err, sizeof err)) { CHECK(0, "%s: open margin: %s", what, err); session_close(&S); return; }
    if (val) { session_set_val(&S, val, err, sizeof err); session_set_val(&M, val, err, sizeof err); }
    RoundRecord rec, recm;
    CHECK(session_round(&S, &rec, err, sizeof err) == ALSIM_BAD_INPUT, "%s: no reward split: refused (%s)", what, err);
    session_close(&S);
    session_open(&S, c, pool, test, be, 4, err, sizeof err);
    if (val) session_set_val(&S, val, err, sizeof err);
    CHECK(session_set_reward(&S, reward, err, sizeof err) == 0, "%s: set_reward: %s", what, err);
    double prev_acc = NAN, prev_nll = NAN;
    int chained = 0, broken = 0, queries_off = 0, ledger_off = 0, in_reward = 0, n_picks = 0;
    for (int r = 0; r <= c->rounds; r++) {
        CHECK(session_round(&S, &rec, err, sizeof err) == 0, "%s round %d: %s", what, r, err);
        session_round(&M, &recm, err, sizeof err);
        ledger_off += rec.ledger.budget.steps != recm.ledger.budget.steps ||
                      rec.ledger.budget.flops != recm.ledger.budget.flops ||
                      (c->early_stop == 0 && rec.ledger.spent.steps != recm.ledger.spent.steps);  /* early stopping's
                      epochs depend on the data */
        queries_off += S.oracle.queries != S.labeled.n_labeled;
        if (r == c->rounds) { CHECK(rec.lookahead == NULL, "%s: the last round looks ahead at nothing", what); break; }
        if (!rec.lookahead) { CHECK(0, "%s round %d: no look-ahead recorded", what, r); break; }
        if (r > 0) {
            broken += rec.lookahead->base_acc != prev_acc || rec.lookahead->base_nll != prev_nll;
            chained++;
        }
        const Lookahead *la = rec.lookahead;
        CHECK(la->chosen >= 0 && rec.lookahead_fits >= 1 && rec.lookahead_flops > 0, "%s round %d: %d refits", what, r,
              rec.lookahead_fits);
        if (la->chosen < 0) break;
        prev_acc = la->acc[la->chosen];
        prev_nll = la->nll[la->chosen];
        for (int i = 0; i < rec.n_picked; i++) {
            in_reward += has_row(reward, pool, rec.picked[i]);
            picks[n_picks++] = rec.picked[i];
        }
    }
    CHECK(chained == c->rounds - 1 && broken == 0,
          "%s: the chosen refit of round r is round r+1's model on the reward split (%d of %d rounds differ)", what,
          broken, chained);
    CHECK(queries_off == 0, "%s: the look-ahead counted queries (%d rounds)", what, queries_off);
    CHECK(ledger_off == 0, "%s: the ledger is not margin's (%d rounds)", what, ledger_off);
    CHECK(in_reward == 0, "%s: %d picks are reward rows", what, in_reward);

    session_close(&S);
    session_close(&M);
}

/* Common random numbers: after round 0 of a teacher session of c, the refit of the same rows
 * gives the same bits, whatever was refitted in between; other rows, another result; no query
 * is counted; a refit beyond a round's batch is refused. */
static void crn_check(const Config *c, const Dataset *pool, const Dataset *test, const Dataset *reward,
                      const Backend *be, const char *what) {
    char err[512];
    Session S;
    RoundRecord rec;
    if (session_open(&S, c, pool, test, be, 4, err, sizeof err) || session_set_reward(&S, reward, err, sizeof err) ||
        session_round(&S, &rec, err, sizeof err)) {
        CHECK(0, "%s: %s", what, err);
        session_close(&S);
        return;
    }
    int a[5], b[5], na = 0, nb = 0, many[40];
    for (int i = 0; i < pool->n && nb < 5; i++) {
        if (S.labeled.labeled[i]) continue;
        if (na < 5) a[na++] = i; else b[nb++] = i;
    }
    double acc1, nll1, acc2, nll2, acc3, nll3;
    CHECK(S.look.refit(&acc1, &nll1, a, 5, S.look.ctx) == 0 && S.look.refit(&acc2, &nll2, b, 5, S.look.ctx) == 0 &&
          S.look.refit(&acc3, &nll3, a, 5, S.look.ctx) == 0, "%s: refits", what);
    CHECK(acc1 == acc3 && nll1 == nll3, "%s: the same rows refitted twice: %.17g/%.17g vs %.17g/%.17g", what, acc1,
          nll1, acc3, nll3);
    CHECK(nll1 != nll2, "%s: other rows, another refit (NLL %.17g both)", what, nll1);
    CHECK(S.oracle.queries == S.labeled.n_labeled, "%s: refits count no queries", what);
    for (int i = 0; i < 40; i++) many[i] = a[0];
    CHECK(S.look.refit(&acc1, &nll1, many, c->batch + 1, S.look.ctx) == -1, "%s: more rows than a batch: refused", what);
    session_close(&S);
}

static void test_engine(const Backend *be) {
    char err[512];
    Dataset all = {0}, test = {0}, pool = {0}, reward = {0}, val = {0}, again = {0}, again_r = {0};
    CHECK(dataset_synthetic_blobs(&all, &test, ":k=3,d=6,n=400,test=100,sep=1.5", err, sizeof err) == 0, "blobs: %s", err);
    int *every = malloc((size_t)all.n * sizeof *every);
    for (int i = 0; i < all.n; i++) every[i] = i;
    dataset_take_rows(&pool, &all, every, all.n, err, sizeof err);
    CHECK(dataset_split_reward(&reward, &pool, 60, 4, err, sizeof err) == 0, "reward split: %s", err);
    CHECK(reward.n == 60 && pool.n == all.n - 60, "reward %d rows, pool %d", reward.n, pool.n);
    int shared_pool = 0, shared_test = 0;
    for (int i = 0; i < reward.n; i++) {
        shared_pool += has_row(&pool, &reward, i);
        shared_test += has_row(&test, &reward, i);
    }
    CHECK(shared_pool == 0 && shared_test == 0, "reward rows also in the pool (%d) or the test set (%d)", shared_pool,
          shared_test);
    dataset_take_rows(&again, &all, every, all.n, err, sizeof err);
    dataset_split_reward(&again_r, &again, 60, 4, err, sizeof err);
    CHECK(!memcmp(again_r.x, reward.x, (size_t)60 * reward.d * sizeof *reward.x), "the same seed: the same reward split");
    dataset_free(&again); dataset_free(&again_r);
    dataset_take_rows(&again, &all, every, all.n, err, sizeof err);
    dataset_split_reward(&again_r, &again, 60, 5, err, sizeof err);
    CHECK(memcmp(again_r.x, reward.x, (size_t)60 * reward.d * sizeof *reward.x), "another seed: another reward split");
    Dataset vsplit = {0};   /* not --val-size's draw: the same seed splits other rows */
    dataset_free(&again); dataset_free(&again_r);
    dataset_take_rows(&again, &all, every, all.n, err, sizeof err);
    dataset_split_off(&vsplit, &again, 60, 4, err, sizeof err);
    CHECK(memcmp(vsplit.x, reward.x, (size_t)60 * reward.d * sizeof *reward.x), "the reward split is not the validation split");
    dataset_free(&again); dataset_free(&vsplit);

    enum { PICKS = 3 * 5 };
    int p1[PICKS], p2[PICKS], p3[PICKS];
    Config c;
    small_config(&c, "teacher");
    run_chain(p1, &c, &pool, &test, NULL, &reward, be, "retrain");
    run_chain(p2, &c, &pool, &test, NULL, &reward, be, "retrain again");
    CHECK(!memcmp(p1, p2, sizeof p1), "the same seed: the same picks");
    crn_check(&c, &pool, &test, &reward, be, "retrain");
    c.warm_start = 1;
    run_chain(p3, &c, &pool, &test, NULL, &reward, be, "warm start");
    crn_check(&c, &pool, &test, &reward, be, "warm start");
    small_config(&c, "teacher");
    c.early_stop = 2; c.val_size = 40; c.epochs = 6;
    dataset_split_off(&val, &pool, 40, 4, err, sizeof err);
    run_chain(p3, &c, &pool, &test, &val, &reward, be, "early stop");
    free(every);
    dataset_free(&all); dataset_free(&test); dataset_free(&pool); dataset_free(&reward); dataset_free(&val);
}

int main(void) {
    char err[512];
    test_candidates();
    test_choice();
    const Backend *be = backend_get("cpu", err, sizeof err);
    CHECK(be != NULL, "cpu backend: %s", err);
    if (be) test_engine(be);
    return check_done("test_teacher");
}
