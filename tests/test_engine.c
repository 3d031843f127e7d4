/* test_engine — what the engine refuses: a checkpoint that does not fit the session it is
 * restored into (rows outside the pool or labeled twice, labels outside the classes, more
 * labels or rounds than the run has, another model's state) is refused with a reason and
 * never written past an array (this test runs under `make asan`); a fitting one restores the
 * labeled set exactly. An empty test set is refused before a session opens. The protocol's
 * knobs: a validation split (--val-size) off the pool, measured every round; each round's
 * subset of the unlabeled rows (--pool-subset), a function of (seed, round, labeled set), the
 * only rows scored and picked from, for every kind of strategy. A driver's picker with the
 * look-ahead (session_enable_lookahead): the rows as scored, and refits that are exactly the
 * next round's fit. The rl strategy's own picker: its greedy, diverse batch. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "sim/backend.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "strategies/rl.h"
#include "tests/check.h"

/* Opens a session of c on pool/test; 0 on success. */
static int open_session(Session *S, const Config *c, const Dataset *pool, const Dataset *test, const Backend *be) {
    char err[512];
    int rc = session_open(S, c, pool, test, be, 3, err, sizeof err);
    CHECK(rc == 0, "session_open: %s", err);
    return rc;
}

/* 1 when row a of A and row b of B hold the same features (dense). */
static int same_row(const Dataset *A, int a, const Dataset *B, int b) {
    return !memcmp(A->x + (size_t)a * A->d, B->x + (size_t)b * B->d, (size_t)A->d * sizeof *A->x);
}

/* --val-size: dataset_split_off takes n rows off the pool, stratified and seeded, disjoint from
 * what stays (so never queried nor in the initial set); a session measures them every round. */
static void test_val(const Backend *be) {
    char err[512];
    Dataset all = {0}, test = {0}, pool = {0}, val = {0};
    CHECK(dataset_synthetic_blobs(&all, &test, ":k=3,d=4,n=150,test=30", err, sizeof err) == 0, "blobs: %s", err);
    int *every = malloc((size_t)all.n * sizeof *every), counts[3], vcounts[3];
    for (int i = 0; i < all.n; i++) every[i] = i;
    CHECK(dataset_take_rows(&pool, &all, every, all.n, err, sizeof err) == 0, "copy: %s", err);
    dataset_class_counts(counts, &pool);
    CHECK(dataset_split_off(&val, &pool, 30, 5, err, sizeof err) == 0, "split off 30: %s", err);
    CHECK(val.n == 30 && pool.n == all.n - 30, "sizes: val %d, pool %d", val.n, pool.n);
    dataset_class_counts(vcounts, &val);
    for (int c = 0; c < 3; c++)
        CHECK(abs(vcounts[c] * all.n - counts[c] * 30) <= all.n, "class %d: %d of 30 validation rows, %d of %d in all",
              c, vcounts[c], counts[c], all.n);
    /* every row of all is in exactly one of pool and val, with its label */
    int found = 0, twice = 0;
    for (int i = 0; i < all.n; i++) {
        int in = 0;
        for (int j = 0; j < pool.n; j++) in += same_row(&all, i, &pool, j) && all.y[i] == pool.y[j];
        for (int j = 0; j < val.n; j++) in += same_row(&all, i, &val, j) && all.y[i] == val.y[j];
        found += in >= 1;
        twice += in > 1;
    }
    CHECK(found == all.n && twice == 0, "pool + val: %d of %d rows found, %d in both", found, all.n, twice);
    Dataset pool2 = {0}, val2 = {0};
    CHECK(dataset_take_rows(&pool2, &all, every, all.n, err, sizeof err) == 0, "copy: %s", err);
    CHECK(dataset_split_off(&val2, &pool2, 30, 5, err, sizeof err) == 0 &&
          !memcmp(val2.x, val.x, (size_t)30 * val.d * sizeof *val.x), "the same seed: the same split");
    dataset_free(&pool2); dataset_free(&val2);
    CHECK(dataset_take_rows(&pool2, &all, every, all.n, err, sizeof err) == 0, "copy: %s", err);
    CHECK(dataset_split_off(&val2, &pool2, 30, 6, err, sizeof err) == 0 &&
          memcmp(val2.x, val.x, (size_t)30 * val.d * sizeof *val.x), "another seed: another split");
    dataset_free(&val2);
    CHECK(dataset_split_off(&val2, &pool2, pool2.n, 6, err, sizeof err) == 2 && val2.n == 0 && pool2.n == 120,
          "a split of every row refused: %s", err);
    dataset_free(&pool2);

    /* A session measures the validation rows every round, as it measures the test set. */
    Config c;
    config_defaults(&c, CMD_RUN);
    snprintf(c.strategy, sizeof c.strategy, "margin");
    c.rounds = 2; c.batch = 5; c.init = 6; c.n_hidden = 1; c.hidden[0] = 8; c.epochs = 3; c.val_size = 30;
    Session S;
    CHECK(session_open(&S, &c, &pool, &test, be, 3, err, sizeof err) == 0, "open: %s", err);
    CHECK(session_set_val(&S, &val, err, sizeof err) == 0, "set_val: %s", err);
    float *probs = malloc((size_t)val.n * val.k * sizeof *probs);
    for (int r = 0; r <= c.rounds; r++) {
        RoundRecord rec;
        CHECK(session_round(&S, &rec, err, sizeof err) == 0, "round %d: %s", r, err);
        const LearnerInput xv = model_rows(&val, 0, val.n);
        model_predict(&S.model, probs, NULL, NULL, &xv, 0, 3, r, 0);
        Metrics want = metrics_eval(probs, val.y, val.n, val.k);
        CHECK(rec.has_val && rec.val.accuracy == want.accuracy && rec.val.nll == want.nll,
              "round %d: validation accuracy %g, want %g", r, rec.val.accuracy, want.accuracy);
    }
    session_close(&S);
    free(probs);
    free(every);
    dataset_free(&all); dataset_free(&test); dataset_free(&pool); dataset_free(&val);
}

/* --pool-subset: session_draw_subset is the first m unlabeled rows of a permutation that is a
 * function of (seed, round) alone. */
static void test_draw_subset(void) {
    enum { N = 200, M = 30 };
    int sub[M], sub2[M], perm[N];
    unsigned char labeled[N] = {0}, other[N] = {0};
    for (int i = 0; i < N; i += 3) labeled[i] = 1;      /* 67 labeled */
    CHECK(session_draw_subset(sub, perm, labeled, N, M, 9, 4) == M, "m rows");
    int seen[N] = {0}, bad = 0;
    for (int j = 0; j < M; j++) bad += labeled[sub[j]] || seen[sub[j]]++;
    CHECK(bad == 0, "%d subset rows labeled or drawn twice", bad);
    int k = 0;      /* the first M unlabeled rows of the permutation, in its order */
    for (int i = 0; i < N && k < M; i++) if (!labeled[perm[i]]) bad += perm[i] != sub[k++];
    CHECK(bad == 0, "not the first unlabeled rows of the round's permutation");
    CHECK(session_draw_subset(sub2, perm, labeled, N, M, 9, 4) == M && !memcmp(sub, sub2, sizeof sub),
          "the same (seed, round, labeled set): the same subset");
    CHECK(session_draw_subset(sub2, perm, labeled, N, M, 9, 5) == M && memcmp(sub, sub2, sizeof sub),
          "another round: another subset");
    CHECK(session_draw_subset(sub2, perm, labeled, N, M, 10, 4) == M && memcmp(sub, sub2, sizeof sub),
          "another seed: another subset");
    /* a labeled set that differs in 5 rows (another strategy's picks): nearly the same subset */
    memcpy(other, labeled, sizeof other);
    for (int i = 1, flipped = 0; flipped < 5; i += 3, flipped++) other[i] = 1;
    session_draw_subset(sub2, perm, other, N, M, 9, 4);
    int shared = 0;
    for (int a = 0; a < M; a++) for (int b = 0; b < M; b++) shared += sub[a] == sub2[b];
    CHECK(shared >= M - 5, "labeled sets 5 rows apart share %d of %d subset rows", shared, M);
    /* fewer unlabeled rows than m: all of them */
    unsigned char most[N];
    memset(most, 1, sizeof most);
    most[7] = most[100] = 0;
    CHECK(session_draw_subset(sub2, perm, most, N, M, 9, 4) == 2 && sub2[0] + sub2[1] == 107, "2 unlabeled rows left");
}

/* --pool-subset in a session: each round scores only its subset (recorded), draws it from the
 * labeled set before the pick, and picks among it; random scores a row as it would in the whole
 * pool; rl's pool-level features are means over the subset. */
static void test_pool_subset(const Backend *be) {
    char err[512];
    Dataset pool = {0}, test = {0};
    CHECK(dataset_synthetic_blobs(&pool, &test, ":k=3,d=4,n=300,test=60", err, sizeof err) == 0, "blobs: %s", err);
    static const char *const strategies[] = {"random", "bald", "margin", "rl", "power-bald", "coreset", "badge"};
    for (size_t si = 0; si < sizeof strategies / sizeof strategies[0]; si++) {
        Config c;
        config_defaults(&c, CMD_RUN);
        snprintf(c.strategy, sizeof c.strategy, "%s", strategies[si]);
        c.rounds = 3; c.batch = 5; c.init = 6; c.n_hidden = 1; c.hidden[0] = 8; c.epochs = 3; c.mc = 4;
        c.pool_subset = 40;
        Session S;
        if (session_open(&S, &c, &pool, &test, be, 3, err, sizeof err) != 0) {
            CHECK(0, "%s: open: %s", c.strategy, err);
            continue;
        }
        unsigned char *before = malloc((size_t)pool.n);
        int *want = malloc(40 * sizeof *want), *perm = malloc((size_t)pool.n * sizeof *perm);
        for (int r = 0; r <= c.rounds; r++) {
            memcpy(before, S.labeled.labeled, (size_t)pool.n);
            RoundRecord rec;
            CHECK(session_round(&S, &rec, err, sizeof err) == 0, "%s round %d: %s", c.strategy, r, err);
            if (r == c.rounds) {
                CHECK(rec.subset == NULL && rec.n_subset == 0 && rec.n_picked == 0, "%s: the last round scores nothing", c.strategy);
                break;
            }
            int m = session_draw_subset(want, perm, before, pool.n, 40, 3, r);
            CHECK(rec.subset && rec.n_subset == 40 && m == 40 && !memcmp(rec.subset, want, 40 * sizeof *want),
                  "%s round %d: the recorded subset is the drawn one", c.strategy, r);
            int outside = 0;
            for (int i = 0; i < rec.n_picked; i++) {
                int in = 0;
                for (int j = 0; j < rec.n_subset; j++) in |= rec.picked[i] == rec.subset[j];
                outside += !in;
            }
            CHECK(rec.n_picked == 5 && outside == 0, "%s round %d: %d of %d picks outside the subset", c.strategy, r,
                  outside, rec.n_picked);
            if (!strcmp(c.strategy, "random")) {    /* the top 5 of the whole pool's random scores, among the subset */
                double *all = malloc((size_t)pool.n * sizeof *all);
                unsigned char *excl = malloc((size_t)pool.n);
                PoolView v = {.n = pool.n, .k = pool.k, .seed = 3, .round = r};
                score_random(all, &v);
                memset(excl, 1, (size_t)pool.n);
                for (int j = 0; j < 40; j++) excl[want[j]] = 0;
                int top[5];
                select_top_b(top, all, excl, pool.n, 5, 3, r);
                CHECK(!memcmp(top, rec.picked, sizeof top), "random round %d: not the subset's top random scores", r);
                free(all); free(excl);
            }
            if (!strcmp(c.strategy, "rl")) {        /* ranks within the subset's 40 rows; one set of gates */
                const double *f = rl_features(S.strategy_state);
                for (int h = 0; h < RL_RANKINGS; h++) {
                    double sum = 0;     /* average ranks of 0..39 / 39, ties or not: they sum to 20 */
                    for (int j = 0; j < 40; j++) sum += f[j * RL_FEATURES + h];
                    CHECK_NEAR(sum, 20.0, 1e-9, 0);
                }
                int same = 1;
                for (int j = 1; j < 40; j++)
                    same &= !memcmp(f + j * RL_FEATURES + RL_RANKINGS, f + RL_RANKINGS, RL_GATES * sizeof *f);
                CHECK(same, "rl round %d: the gates differ between rows", r);
            }
        }
        free(before); free(want); free(perm);
        session_close(&S);
    }
    /* refused: a subset beyond round 0's unlabeled rows */
    Config c;
    config_defaults(&c, CMD_RUN);
    c.rounds = 3; c.batch = 5; c.init = 6; c.pool_subset = pool.n - 5;
    CHECK(session_check_sizes(&c, &pool, err, sizeof err) == 2 && strstr(err, "--pool-subset"), "pool-subset too big: %s", err);
    c.pool_subset = pool.n - 6;
    CHECK(session_check_sizes(&c, &pool, err, sizeof err) == 0, "pool-subset = the unlabeled rows: %s", err);
    dataset_free(&pool); dataset_free(&test);
}

/* A batch-aware strategy in a session: the rows are predicted chunk by chunk (5,000 rows: two
 * chunks) and gathered as one prediction of the whole pool gives them, and the session's batch
 * is the strategy's selection from that view, the labeled rows excluded. */
static void test_batch_session(const Backend *be) {
    char err[512];
    Dataset pool = {0}, test = {0};
    CHECK(dataset_synthetic_blobs(&pool, &test, ":k=3,d=4,n=5000,test=60", err, sizeof err) == 0, "blobs: %s", err);
    Config c;
    config_defaults(&c, CMD_RUN);
    snprintf(c.strategy, sizeof c.strategy, "badge");
    c.rounds = 1; c.batch = 5; c.init = 6; c.n_hidden = 1; c.hidden[0] = 8; c.epochs = 2;
    Session S;
    if (open_session(&S, &c, &pool, &test, be)) {
        dataset_free(&pool); dataset_free(&test);
        return;
    }
    RoundRecord rec;
    CHECK(session_round(&S, &rec, err, sizeof err) == 0 && rec.n_picked == 5, "badge round 0: %s", err);
    const int N = pool.n, K = pool.k, H = S.model.emb_width, nl = S.labeled.n_labeled - rec.n_picked;
    float *probs = malloc((size_t)N * K * sizeof *probs), *emb = malloc((size_t)N * H * sizeof *emb);
    float *lemb = malloc((size_t)nl * H * sizeof *lemb);
    unsigned char *excl = calloc((size_t)N, 1);
    const LearnerInput x = model_rows(&pool, 0, N);
    model_predict(&S.model, probs, NULL, emb, &x, 0, 3, 0, 0);
    int bad = 0;
    for (size_t i = 0; i < (size_t)N * K; i++) bad += fabsf(probs[i] - S.all_probs[i]) > 1e-6f;
    for (size_t i = 0; i < (size_t)N * H; i++) bad += fabsf(emb[i] - S.all_emb[i]) > 1e-5f * (1 + fabsf(emb[i]));
    CHECK(N > ENGINE_CHUNK_ROWS && bad == 0, "%d gathered values of %d rows differ from one prediction of the whole pool", bad, N);
    Dataset lab = {0};
    CHECK(dataset_take_rows(&lab, &pool, S.labeled.rows, nl, err, sizeof err) == 0, "labeled rows: %s", err);
    const LearnerInput xl = model_rows(&lab, 0, nl);
    model_predict(&S.model, NULL, NULL, lemb, &xl, 0, 3, 0, 0);
    for (int i = 0; i < nl; i++) excl[S.labeled.rows[i]] = 1;
    BatchView v = {.n = N, .k = K, .h = H, .probs = probs, .emb = emb, .excluded = excl,
                   .n_labeled = nl, .labeled_emb = lemb, .seed = 3, .round = 0};
    int want[5];
    CHECK(select_badge(want, &v, 5) == 5 && !memcmp(want, rec.picked, sizeof want),
          "the session's batch is select_badge's on the pool's predictions");
    for (int i = 0; i < rec.n_picked; i++) CHECK(!excl[rec.picked[i]], "picked row %d was labeled", rec.picked[i]);
    free(probs); free(emb); free(lemb); free(excl);
    dataset_free(&lab);
    session_close(&S);
    dataset_free(&pool); dataset_free(&test);
}

/* session_enable_lookahead: a driver's picker (train-policy's DAgger) sees the round's rows
 * as scored (the margin candidate of its BatchView is the init rl policy's top b, both whole
 * pool and --pool-subset), and a refit of the batch it then picks, in its order, is exactly
 * the next round's fit: the same accuracy and NLL on the reward split (here the session's
 * test set too). Refits leave the round's model as it was: the curve is that of a session
 * without look-ahead. */
typedef struct {
    Session *S;
    int fails, rounds;
    double acc[8], nll[8];      /* per round: the refit of the batch picked */
} LookProbe;

static int cmp_ints(const void *a, const void *b) {
    const int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int probe_pick(int *picked, const double *scores, const unsigned char *excluded, int n, int b, uint64_t seed,
                      int round, void *ctx) {
    LookProbe *p = ctx;
    const int got = session_pick_top_b(picked, scores, excluded, n, b, seed, round, NULL);
    BatchView v;
    session_batch_view(&v, p->S);
    int cand[16], sorted[16];
    if (!v.lookahead || teacher_candidate(cand, &v, b, TEACHER_MARGIN) != got) { p->fails++; return got; }
    memcpy(sorted, picked, (size_t)got * sizeof *sorted);
    qsort(sorted, (size_t)got, sizeof *sorted, cmp_ints);
    p->fails += memcmp(sorted, cand, (size_t)got * sizeof *cand) != 0;
    for (int k = 0; k < 3; k++)     /* other refits first: each starts from the same state */
        if (teacher_candidate(cand, &v, b, k) < 0 || v.lookahead->refit(&p->acc[round], &p->nll[round], cand, b, v.lookahead->ctx))
            p->fails++;
    if (v.lookahead->refit(&p->acc[round], &p->nll[round], picked, got, v.lookahead->ctx)) p->fails++;
    p->rounds++;
    return got;
}

/* A small rl run on 300 blobs for the picker tests: 3 rounds of 5 from 6 labels, an MLP of 8
 * units; with --pool-subset 40 when sub. */
static void rl_small_config(Config *c, int sub) {
    config_defaults(c, CMD_RUN);
    snprintf(c->strategy, sizeof c->strategy, "rl");
    c->rounds = 3; c->batch = 5; c->init = 6; c->n_hidden = 1; c->hidden[0] = 8; c->epochs = 3; c->mc = 4;
    c->pool_subset = sub ? 40 : 0;
}

static void test_picker_lookahead(const Backend *be) {
    char err[512];
    Dataset pool = {0}, test = {0};
    CHECK(dataset_synthetic_blobs(&pool, &test, ":k=3,d=4,n=300,test=60", err, sizeof err) == 0, "blobs: %s", err);
    for (int sub = 0; sub < 2; sub++) {
        Config c;
        rl_small_config(&c, sub);
        Session S, plain;
        Policy init;
        CHECK(rl_policy_init(&init) == 0, "policy");
        if (open_session(&S, &c, &pool, &test, be) || open_session(&plain, &c, &pool, &test, be)) continue;
        rl_use_policy(S.strategy_state, &init);
        rl_use_policy(plain.strategy_state, &init);
        CHECK(session_enable_lookahead(&S, &test, err, sizeof err) == 0, "enable: %s", err);
        LookProbe p = {.S = &S};
        S.pick = probe_pick;
        S.pick_ctx = &p;
        for (int r = 0; r <= c.rounds; r++) {
            RoundRecord rec, rp;
            CHECK(session_round(&S, &rec, err, sizeof err) == 0, "round %d: %s", r, err);
            CHECK(session_round(&plain, &rp, err, sizeof err) == 0, "plain round %d: %s", r, err);
            CHECK(rec.test.accuracy == rp.test.accuracy && rec.n_picked == rp.n_picked &&
                  !memcmp(rec.picked, rp.picked, (size_t)rec.n_picked * sizeof *rec.picked),
                  "subset %d round %d: the refits changed the session", sub, r);
            if (r > 0)
                CHECK(rec.test.accuracy == p.acc[r - 1] && rec.test.nll == p.nll[r - 1],
                      "subset %d round %d: accuracy %.17g, nll %.17g; the refit said %.17g, %.17g", sub, r,
                      rec.test.accuracy, rec.test.nll, p.acc[r - 1], p.nll[r - 1]);
        }
        CHECK(p.fails == 0 && p.rounds == c.rounds, "subset %d: %d failures in %d rounds", sub, p.fails, p.rounds);
        session_close(&S);
        session_close(&plain);
        policy_free(&init);
    }
    Config c;   /* refused for a strategy without hooks */
    config_defaults(&c, CMD_RUN);
    snprintf(c.strategy, sizeof c.strategy, "margin");
    c.rounds = 2; c.batch = 5; c.init = 6; c.n_hidden = 1; c.hidden[0] = 8; c.epochs = 3;
    Session S;
    if (!open_session(&S, &c, &pool, &test, be)) {
        CHECK(session_enable_lookahead(&S, &test, err, sizeof err) == 2 && strstr(err, "margin"), "margin refused: %s", err);
        session_close(&S);
    }
    dataset_free(&pool); dataset_free(&test);
}

/* The rl strategy picks its own batch (its pick hook, the session's picker unless a driver
 * sets another): with a policy whose λ is not 0, each round's batch is policy_select over the
 * rows scored (the policy's scores of the round's features, the rows' embeddings as the
 * look-ahead's view gathers them, labeled rows excluded), whole pool and --pool-subset (then
 * only the subset's rows), never a labeled row; and the penalty changed some round's batch
 * from the top b of the scores. */
typedef struct {
    Session *S;
    const Policy *p;
    int fails, rounds, differ;
} DivProbe;

static int div_pick(int *picked, const double *scores, const unsigned char *excluded, int n, int b, uint64_t seed,
                    int round, void *ctx) {
    DivProbe *d = ctx;
    const int got = d->S->st->hooks->pick(picked, scores, excluded, n, b, seed, round, d->S->strategy_state);
    BatchView v;
    session_batch_view(&v, d->S);
    const double *f = rl_features(d->S->strategy_state);
    double *s = malloc((size_t)v.n * sizeof *s);
    unsigned char *ex = calloc((size_t)v.n, 1);
    int want[16], top[16];
    policy_forward(s, d->p, f, v.n);
    for (int j = 0; v.excluded && j < v.n; j++) ex[j] = v.excluded[j];
    const int m = policy_select(want, s, v.emb, v.h, ex, v.rows, v.n, b, policy_lambda(d->p, f + RL_RANKINGS), seed,
                                round);
    d->fails += v.emb == NULL || m != got || memcmp(want, picked, (size_t)got * sizeof *picked) != 0;
    for (int k = 0; k < got; k++) d->fails += picked[k] < 0 || picked[k] >= n || excluded[picked[k]];
    select_top_b(top, scores, excluded, n, b, seed, round);
    d->differ += memcmp(top, picked, (size_t)got * sizeof *picked) != 0;
    d->rounds++;
    free(s); free(ex);
    return got;
}

static void test_rl_diverse_pick(const Backend *be) {
    char err[512];
    Dataset pool = {0}, test = {0};
    CHECK(dataset_synthetic_blobs(&pool, &test, ":k=3,d=4,n=300,test=60", err, sizeof err) == 0, "blobs: %s", err);
    for (int sub = 0; sub < 2; sub++) {
        Config c;
        rl_small_config(&c, sub);
        Session S;
        Policy pol;
        CHECK(rl_policy_init(&pol) == 0, "policy");
        pol.params[pol.n_params - 1] = 5.0f;       /* λ = 5 at every gate: diversity first */
        if (open_session(&S, &c, &pool, &test, be)) { policy_free(&pol); continue; }
        rl_use_policy(S.strategy_state, &pol);
        CHECK(S.pick != session_pick_top_b && S.pick == S.st->hooks->pick, "rl's picker is its pick hook");
        CHECK(session_enable_lookahead(&S, &test, err, sizeof err) == 0, "enable: %s", err);
        DivProbe d = {.S = &S, .p = &pol};
        S.pick = div_pick;
        S.pick_ctx = &d;
        for (int r = 0; r <= c.rounds; r++) {
            RoundRecord rec;
            CHECK(session_round(&S, &rec, err, sizeof err) == 0, "round %d: %s", r, err);
            for (int k = 0; k < rec.n_picked && rec.subset; k++) {
                int in = 0;
                for (int j = 0; j < rec.n_subset; j++) in |= rec.picked[k] == rec.subset[j];
                CHECK(in, "subset round %d: pick %d outside the subset", r, rec.picked[k]);
            }
        }
        CHECK(d.fails == 0 && d.rounds == c.rounds, "subset %d: %d failures in %d rounds", sub, d.fails, d.rounds);
        CHECK(d.differ > 0, "subset %d: λ = 5 never changed a batch from the top b", sub);
        session_close(&S);
        policy_free(&pol);
    }
    dataset_free(&pool); dataset_free(&test);
}

int main(void) {
    char err[512];
    const Backend *be = backend_get("cpu", err, sizeof err);
    CHECK(be != NULL, "cpu backend: %s", err);
    Dataset pool = {0}, test = {0};
    CHECK(dataset_synthetic_blobs(&pool, &test, ":k=3,d=4,n=120,test=30", err, sizeof err) == 0, "blobs: %s", err);
    Config c;
    config_defaults(&c, CMD_RUN);
    snprintf(c.strategy, sizeof c.strategy, "margin");
    c.rounds = 3; c.batch = 5; c.init = 6; c.n_hidden = 1; c.hidden[0] = 8; c.epochs = 2;

    /* A real checkpoint after round 1, copied so it outlives the session. */
    Session S;
    if (!be || open_session(&S, &c, &pool, &test, be)) return check_done("test_engine");
    RoundRecord rec;
    for (int r = 0; r < 2; r++) CHECK(session_round(&S, &rec, err, sizeof err) == 0, "round %d: %s", r, err);
    Checkpoint ck = {0};
    session_checkpoint(&S, &ck);
    const int n = ck.n_labeled;
    int *rows = malloc((size_t)n * sizeof *rows);
    int32_t *labels = malloc((size_t)n * sizeof *labels);
    double x[4], acc[4];
    memcpy(rows, ck.rows, (size_t)n * sizeof *rows);
    memcpy(labels, ck.labels, (size_t)n * sizeof *labels);
    memcpy(x, ck.curve_x, (size_t)ck.n_curve * sizeof *x);
    memcpy(acc, ck.curve_acc, (size_t)ck.n_curve * sizeof *acc);
    ck.rows = rows; ck.labels = labels; ck.curve_x = x; ck.curve_acc = acc;
    session_close(&S);
    CHECK(n == 6 + 2 * 5 && ck.round == 1 && ck.n_curve == 2, "checkpoint after round 1: %d labels", n);

    /* The good one restores exactly. */
    if (open_session(&S, &c, &pool, &test, be)) return check_done("test_engine");
    CHECK(session_restore(&S, &ck, err, sizeof err) == 0, "restore: %s", err);
    CHECK(S.labeled.n_labeled == n && !memcmp(S.labeled.rows, rows, (size_t)n * sizeof *rows) && S.round == 2,
          "the labeled set and the round restored");
    int marked = 0;
    for (int i = 0; i < pool.n; i++) marked += S.labeled.labeled[i];
    CHECK(marked == n, "exactly the checkpoint's rows are marked labeled (%d)", marked);
    session_close(&S);

    /* Each way a checkpoint can fail to fit: refused with a reason. */
    struct { const char *what, *why; } cases[] = {
        {"a row past the pool", "pool row"},
        {"a negative row", "pool row"},
        {"a row twice", "twice"},
        {"a label outside the classes", "label"},
        {"more labels than the run takes", "labeled set"},
        {"more rounds than the run has", "rounds"},
        {"a round that disagrees with the curve", "rounds"},
        {"another model's state", "model"},
    };
    for (int k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++) {
        Checkpoint bad = ck;
        int brows[64];
        int32_t blabels[64];
        memcpy(brows, rows, (size_t)n * sizeof *rows);
        memcpy(blabels, labels, (size_t)n * sizeof *labels);
        for (int i = n; i < 64; i++) { brows[i] = i; blabels[i] = 0; }
        bad.rows = brows; bad.labels = blabels;
        unsigned char state[16] = {0};
        switch (k) {
        case 0: brows[3] = pool.n; break;
        case 1: brows[0] = -1; break;
        case 2: brows[5] = brows[2]; break;
        case 3: blabels[4] = pool.k; break;
        case 4: bad.n_labeled = 64; break;
        case 5: bad.n_curve = c.rounds + 2; bad.round = c.rounds + 1; break;
        case 6: bad.round = 0; break;
        case 7: bad.model_bytes = sizeof state; bad.model_state = state; break;
        }
        if (open_session(&S, &c, &pool, &test, be)) break;
        int rc = session_restore(&S, &bad, err, sizeof err);
        CHECK(rc == 2 && strstr(err, cases[k].why), "%s: rc %d, %s", cases[k].what, rc, err);
        session_close(&S);
    }

    /* An empty test set: refused before anything runs, saying how to get one. */
    Dataset empty = test;
    empty.n = 0;
    CHECK(session_check_test(&c, &pool, &empty, err, sizeof err) == 2 && strstr(err, "the test set is empty") &&
          strstr(err, "--test-frac"), "empty test set: %s", err);
    CHECK(session_open(&S, &c, &pool, &empty, be, 3, err, sizeof err) == 2 && strstr(err, "the test set is empty"),
          "session_open refuses an empty test set: %s", err);
    snprintf(c.test, sizeof c.test, "t.csv");
    CHECK(session_check_test(&c, &pool, &empty, err, sizeof err) == 2 && strstr(err, "t.csv has no rows"),
          "an empty --test file: %s", err);
    CHECK(session_check_test(&c, &pool, &test, err, sizeof err) == 0, "a test set with rows passes");

    free(rows);
    free(labels);
    dataset_free(&pool);
    dataset_free(&test);
    test_val(be);
    test_draw_subset();
    test_pool_subset(be);
    test_batch_session(be);
    test_picker_lookahead(be);
    test_rl_diverse_pick(be);
    return check_done("test_engine");
}
