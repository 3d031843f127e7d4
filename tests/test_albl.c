/* test_albl — the albl strategy (strategies/albl.h): Exp4.P's probabilities and update against
 * numbers worked out by hand; the query probability and the importance weight 1/q of every
 * draw, replayed independently with select_top_b; the same draws under a seed whatever the
 * chunking, other draws under another seed; an expert planted to be the one that pays gains
 * the weight (margin in one setting, random in another); the state saved and restored
 * continues bitwise as the uninterrupted one, and damaged state is refused; the options'
 * refusals; and a session of the engine killed after a round and restored from its
 * checkpoint picks the rows the uninterrupted session picks; with --pool-subset it picks
 * within the round's subset. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "datasets/dataset.h"
#include "sim/backend.h"
#include "sim/config.h"
#include "sim/engine.h"
#include "strategies/albl.h"
#include "strategies/strategy.h"
#include "tests/check.h"

/* 1. Exp4.P by hand: E = 4, w = (2, 1, 1, 1), pmin = 0.1, delta = 0.1, T_q = 10.
 *    p = 0.6 · w / 5 + 0.1 = (0.34, 0.22, 0.22, 0.22).
 *    A draw of a row advised by expert 0 (margin) that is one of 50 arm rows:
 *    a = (1, 0, 0, 1/50), q = 0.34 + 0.22/50 = 0.3444.
 *    Reward 0.5; spread = sqrt(ln(4/0.1) / (4 · 10)) = 0.30368073.
 *    Δ_0 = 0.05 · (0.5/0.3444 + 0.30368073/0.34) = 0.05 · (1.45180023 + 0.89317862) = 0.11724894
 *    Δ_1 = Δ_2 = 0.05 · 0.30368073/0.22 = 0.06901835
 *    Δ_3 = 0.05 · (0.5 · 0.02/0.3444 + 1.38036696) = 0.05 · 1.40940296 = 0.07047015
 *    libact multiplies w_i by exp(Δ_i): w = (2.24879861, 1.07145587, 1.07145587, 1.07301254). */
static void test_exp4p_by_hand(void) {
    double logw[4] = {log(2.0), 0, 0, 0}, p[4], advice[4];
    albl_expert_probs(p, logw, 4, 0.1);
    CHECK_NEAR(p[0], 0.34, 1e-15, 0);
    for (int i = 1; i < 4; i++) CHECK_NEAR(p[i], 0.22, 1e-15, 0);
    const int advised[3] = {7, 3, 3};      /* margin advises row 7, entropy and least-confidence row 3 */
    const double q = albl_query_prob(advice, p, advised, 7, 1, 50, 4);
    CHECK_NEAR(q, 0.3444, 1e-15, 0);
    CHECK(advice[0] == 1 && advice[1] == 0 && advice[2] == 0 && advice[3] == 1.0 / 50, "advice of row 7");
    CHECK_NEAR(albl_query_prob(advice, p, advised, 3, 1, 50, 4), 0.22 + 0.22 + 0.22 / 50, 1e-15, 0);
    CHECK_NEAR(albl_query_prob(advice, p, advised, 3, 0, 50, 4), 0.44, 1e-15, 0);  /* not an arm row */
    CHECK_NEAR(albl_query_prob(advice, p, advised, 9, 1, 50, 4), 0.22 / 50, 1e-15, 0);
    double ratio[4];
    albl_query_prob(advice, p, advised, 7, 1, 50, 4);
    for (int i = 0; i < 4; i++) ratio[i] = advice[i] / q;
    albl_update(logw, p, ratio, 0.5, 4, 0.1, 0.1, 10);
    CHECK_NEAR(logw[0], log(2.0) + 0.11724894263707138, 1e-12, 0);
    CHECK_NEAR(logw[1], 0.069018347944125591, 1e-12, 0);
    CHECK_NEAR(logw[2], 0.069018347944125591, 1e-12, 0);
    CHECK_NEAR(logw[3], 0.07047014817641363, 1e-12, 0);
    CHECK_NEAR(exp(logw[0]), 2.24879861, 1e-8, 0);      /* libact's w */
    CHECK_NEAR(exp(logw[3]), 1.07301254, 1e-8, 0);
    /* the probabilities after it: (1 - 0.4) · w_i / Σw + 0.1 */
    const double w[4] = {2.2487986115616954, 1.0714558679803947, 1.0714558679803947, 1.073012537571633};
    const double sum = w[0] + w[1] + w[2] + w[3];
    albl_expert_probs(p, logw, 4, 0.1);
    for (int i = 0; i < 4; i++) CHECK_NEAR(p[i], 0.6 * w[i] / sum + 0.1, 1e-12, 0);
    CHECK_NEAR(p[0] + p[1] + p[2] + p[3], 1.0, 1e-15, 0);
    /* the defaults: libact's pmin sqrt(ln E / (E · T_q)) */
    CHECK_NEAR(albl_default_pmin(5, 200), sqrt(log(5.0) / 1000), 1e-15, 0);
    CHECK_NEAR(albl_default_pmin(5, 200), 0.040117, 1e-6, 0);
    /* IW-ACC = Σ W · correct / (N · T_q) */
    const double W[3] = {4, 100, 2.5};
    const unsigned char ok[3] = {1, 0, 1};
    CHECK_NEAR(albl_iw_accuracy(W, ok, 3, 50, 10), 6.5 / 500, 1e-15, 0);
    CHECK(!strcmp(albl_expert_name(3, 5), "bald") && !strcmp(albl_expert_name(3, 4), "random") &&
          !strcmp(albl_expert_name(0, 4), "margin"), "expert names");
}

/* ---- a pool whose predictions the test sets, and rounds driven through the hooks ---- */

enum { K = 3 };

typedef struct {
    int n;
    float *probs;           /* (n,K) the model's predictions of the pool */
    int32_t *y;             /* (n) the labels */
    unsigned char *labeled; /* (n) */
    int n_lab;
    int *lab_rows;          /* (n) labeled rows in labeling order */
    int32_t *lab_y;         /* (n) */
    float *lab_probs;       /* (n,K) the model's predictions of them (set by the caller) */
} Sim;

/* Three kinds of rows: margin's favourites (0.5, 0.5, 0), entropy's and least-confidence's
 * (0.36, 0.32, 0.32), and confident ones (0.9, 0.05, 0.05) no heuristic ranks first. */
static int kind_of(int row) { return row % 10 == 0 ? 0 : row % 10 == 1 ? 1 : 2; }

static void sim_init(Sim *s, int n, int n_init) {
    s->n = n;
    s->probs = malloc((size_t)n * K * sizeof *s->probs);
    s->y = malloc((size_t)n * sizeof *s->y);
    s->labeled = calloc((size_t)n, 1);
    s->lab_rows = malloc((size_t)n * sizeof *s->lab_rows);
    s->lab_y = malloc((size_t)n * sizeof *s->lab_y);
    s->lab_probs = malloc((size_t)n * K * sizeof *s->lab_probs);
    static const float kinds[3][K] = {{0.5f, 0.5f, 0.0f}, {0.36f, 0.32f, 0.32f}, {0.9f, 0.05f, 0.05f}};
    for (int i = 0; i < n; i++) {
        /* a small per-row tilt so that rows of a kind are not all tied */
        const float tilt = 0.001f * (float)((i * 7919) % 97) / 97.0f;
        for (int c = 0; c < K; c++) s->probs[i * K + c] = kinds[kind_of(i)][c];
        s->probs[i * K + 0] += tilt;
        s->probs[i * K + 2] -= kind_of(i) == 0 ? 0 : tilt;
        s->probs[i * K + 1] -= kind_of(i) == 0 ? tilt : 0;
        s->y[i] = i % K;
    }
    s->n_lab = 0;
    for (int j = 0; j < n_init; j++) {     /* confident rows 2, 12, 22, .. */
        const int row = 10 * j + 2;
        s->labeled[row] = 1;
        s->lab_rows[s->n_lab] = row;
        s->lab_y[s->n_lab++] = s->y[row];
    }
}

static void sim_free(Sim *s) {
    free(s->probs); free(s->y); free(s->labeled); free(s->lab_rows); free(s->lab_y); free(s->lab_probs);
}

/* The model right (right = 1) or wrong on every labeled row. */
static void sim_predict(Sim *s, int right) {
    for (int j = 0; j < s->n_lab; j++)
        for (int c = 0; c < K; c++)
            s->lab_probs[j * K + c] = c == (right ? s->lab_y[j] : (s->lab_y[j] + 1) % K) ? 0.9f : 0.05f;
}

/* One round r of R through the hooks: begin_round, score in chunks of chunk rows, finish, the
 * top b of the scores; the picks (b) join the labeled set. Returns how many were picked. */
static int sim_round(Sim *s, void *st, int *picked, int r, int R, int b, uint64_t seed, int chunk, double pmin) {
    const RoundInfo info = {
        .round = r, .rounds = R, .n_pool = s->n, .k = K, .n_labeled = s->n_lab, .labeled_y = s->lab_y,
        .batch = b, .mc = 0, .labeled_rows = s->lab_rows, .labeled_probs = s->lab_probs,
        .albl_pmin = pmin, .albl_delta = ALBL_DEFAULT_DELTA,
    };
    if (albl_hooks.begin_round(st, &info) != 0) return -1;
    double *scores = malloc((size_t)s->n * sizeof *scores);
    for (int off = 0; off < s->n; off += chunk) {
        const int cn = s->n - off < chunk ? s->n - off : chunk;
        const PoolView v = {.n = cn, .k = K, .probs = s->probs + (size_t)off * K, .row0 = off, .seed = seed,
                            .round = r, .state = st};
        score_albl(scores + off, &v);
    }
    albl_hooks.finish(scores, s->n, st);
    const int m = select_top_b(picked, scores, s->labeled, s->n, b, seed, r);
    for (int j = 0; j < m; j++) {
        s->labeled[picked[j]] = 1;
        s->lab_rows[s->n_lab] = picked[j];
        s->lab_y[s->n_lab++] = s->y[picked[j]];
    }
    free(scores);
    return m;
}

static void *open_albl(int n) {
    void *st = NULL;
    char err[256];
    CHECK(albl_hooks.open(&st, "", n, err, sizeof err) == 0, "open: %s", err);
    return st;
}

/* 2. Every draw's weight is 1/q(x), q from the probabilities and the experts' advice at that
 *    draw, replayed here with select_top_b on each heuristic's own scores. */
static void test_importance_weights(void) {
    Sim s;
    sim_init(&s, 200, 6);
    void *st = open_albl(s.n);
    int picked[8];
    sim_predict(&s, 1);
    CHECK(sim_round(&s, st, picked, 0, 5, 8, 11, 64, 0) == 8, "round 0 picks 8");
    const int *rows;
    const double *w;
    const int n_hist = albl_state_history(st, &rows, &w);
    CHECK(n_hist >= 8, "%d draws for 8 picks", n_hist);
    /* replay: E = 4 experts of equal weight, p = 1/4 each; the arm rows are the 194 not in
     * the initial set */
    double *sc[3];
    ScoreFn fn[3] = {score_margin, score_entropy, score_least_confidence};
    for (int i = 0; i < 3; i++) {
        sc[i] = malloc((size_t)s.n * sizeof *sc[i]);
        const PoolView v = {.n = s.n, .k = K, .probs = s.probs, .seed = 11, .round = 0};
        fn[i](sc[i], &v);
    }
    unsigned char *taken = calloc((size_t)s.n, 1);
    for (int j = 0; j < 6; j++) taken[10 * j + 2] = 1;     /* the initial set */
    int n_picked = 0, bad = 0;
    for (int h = 0; h < n_hist; h++) {
        int k_adv = 0;
        for (int i = 0; i < 3; i++) {
            int top;
            select_top_b(&top, sc[i], taken, s.n, 1, 11, 0);
            k_adv += top == rows[h];
        }
        const double q = 0.25 * k_adv + 0.25 / (s.n - 6);
        if (fabs(w[h] - 1.0 / q) > 1e-9 * w[h]) bad++;
        if (!taken[rows[h]]) {
            CHECK(rows[h] == picked[n_picked], "draw %d: pick %d is row %d, the scores' top-b has %d", h, n_picked,
                  rows[h], picked[n_picked]);
            taken[rows[h]] = 1;
            n_picked++;
        }
    }
    CHECK(bad == 0, "%d of %d draws carry a weight other than 1/q", bad, n_hist);
    CHECK(n_picked == 8, "the draws picked %d rows", n_picked);
    /* the probabilities of all rows sum to one (the first draw's q over the pool) */
    double p[4] = {0.25, 0.25, 0.25, 0.25}, advice[4], total = 0;
    int adv[3];
    memset(taken, 0, (size_t)s.n);
    for (int j = 0; j < 6; j++) taken[10 * j + 2] = 1;
    for (int i = 0; i < 3; i++) select_top_b(&adv[i], sc[i], taken, s.n, 1, 11, 0);
    for (int x = 0; x < s.n; x++) total += albl_query_prob(advice, p, adv, x, !taken[x], s.n - 6, 4);
    CHECK_NEAR(total, 1.0, 1e-12, 0);
    for (int i = 0; i < 3; i++) free(sc[i]);
    free(taken);
    albl_hooks.close(st);
    sim_free(&s);
}

/* 3. Determinism: the same seed gives the same draws, in one chunk or many; another seed other
 *    draws. */
static void run_rounds(int *picks /*(R*b)*/, const int **hist, int *n_hist, void **keep, int chunk, uint64_t seed) {
    Sim s;
    sim_init(&s, 300, 6);
    void *st = open_albl(s.n);
    for (int r = 0; r < 6; r++) {
        sim_predict(&s, r % 2);
        sim_round(&s, st, picks + r * 5, r, 6, 5, seed, chunk, 0);
    }
    const double *w;
    *n_hist = albl_state_history(st, hist, &w);
    *keep = st;
    sim_free(&s);
}

static void test_determinism(void) {
    int a[30], b[30], c[30], na, nb, nc;
    const int *ha, *hb, *hc;
    void *sa, *sb, *sc;
    run_rounds(a, &ha, &na, &sa, 300, 5);
    run_rounds(b, &hb, &nb, &sb, 7, 5);
    run_rounds(c, &hc, &nc, &sc, 300, 6);
    CHECK(!memcmp(a, b, sizeof a) && na == nb && !memcmp(ha, hb, (size_t)na * sizeof *ha),
          "one chunk or chunks of 7 rows: the same draws");
    double la[ALBL_MAX_EXPERTS], lb[ALBL_MAX_EXPERTS], lc[ALBL_MAX_EXPERTS];
    albl_state_weights(sa, la);
    albl_state_weights(sb, lb);
    albl_state_weights(sc, lc);
    CHECK(!memcmp(la, lb, sizeof la), "the same weights, bitwise");
    CHECK(memcmp(a, c, sizeof a) != 0, "seed 6 draws other rows than seed 5");
    CHECK(memcmp(la, lc, sizeof la) != 0, "seed 6 learns other weights");
    albl_hooks.close(sa); albl_hooks.close(sb); albl_hooks.close(sc);
}

/* 4. A planted setting: the model is right on every labeled row after a round whose pick was
 *    of one kind, wrong after the others, so that expert's picks are the ones that pay. One
 *    row a round (b = 1, libact's step) for 200 rounds, from a pool of 1,000 rows (100 of
 *    margin's kind and 100 of entropy's, so that no heuristic runs out of its own rows).
 *    Returns the expert of the largest weight, its final probability in p_best. */
static int planted(int paying_kind, double *p_best, double *p_start) {
    Sim s;
    sim_init(&s, 1000, 6);
    void *st = open_albl(s.n);
    int pick = -1;
    const int R = 200;
    const double pmin = albl_default_pmin(4, R);
    for (int r = 0; r < R; r++) {
        sim_predict(&s, pick >= 0 && kind_of(pick) == paying_kind);
        if (sim_round(&s, st, &pick, r, R, 1, 21, 1000, 0) != 1) break;
    }
    double logw[ALBL_MAX_EXPERTS], p[ALBL_MAX_EXPERTS];
    const int e = albl_state_weights(st, logw);
    albl_expert_probs(p, logw, e, pmin);
    int best = 0;
    for (int i = 1; i < e; i++) if (logw[i] > logw[best]) best = i;
    *p_best = p[best];
    *p_start = 1.0 / e;
    albl_hooks.close(st);
    sim_free(&s);
    return best;
}

static void test_planted(void) {
    double p, p0;
    int best = planted(0, &p, &p0);         /* margin's rows pay */
    CHECK(best == 0, "margin's picks pay: the heaviest expert is %d (%s)", best, albl_expert_name(best, 4));
    CHECK(p > 1.5 * p0, "margin followed with probability %.3f, from %.3f", p, p0);
    best = planted(2, &p, &p0);             /* the rows only random draws pay */
    CHECK(best == 3, "random's picks pay: the heaviest expert is %d (%s)", best, albl_expert_name(best, 4));
    CHECK(p > 1.5 * p0, "random followed with probability %.3f, from %.3f", p, p0);
}

/* 5. Saved after round 3 and restored into a fresh state, the run goes on bitwise as the
 *    uninterrupted one; damaged bytes are refused with a reason. */
static void test_save_restore(void) {
    Sim a, b;
    sim_init(&a, 250, 6);
    void *sa = open_albl(a.n);
    int picks_a[40], picks_b[40];
    char err[256];
    for (int r = 0; r < 4; r++) {
        sim_predict(&a, r != 2);
        sim_round(&a, sa, picks_a + r * 4, r, 10, 4, 9, 100, 0);
    }
    const size_t n = albl_hooks.state_size(sa);
    unsigned char *bytes = malloc(n);
    albl_hooks.save(sa, bytes);
    CHECK(n > 8 && !memcmp(bytes, "ALBLST01", 8), "the state begins with its tag and version");
    /* b: the same labeled set, a fresh state restored from the bytes */
    sim_init(&b, 250, 0);
    memcpy(b.labeled, a.labeled, (size_t)a.n);
    memcpy(b.lab_rows, a.lab_rows, (size_t)a.n_lab * sizeof *a.lab_rows);
    memcpy(b.lab_y, a.lab_y, (size_t)a.n_lab * sizeof *a.lab_y);
    b.n_lab = a.n_lab;
    void *sb = open_albl(b.n);
    CHECK(albl_hooks.restore(sb, bytes, n, err, sizeof err) == 0, "restore: %s", err);
    for (int r = 4; r < 10; r++) {
        sim_predict(&a, r % 3 != 0);
        sim_predict(&b, r % 3 != 0);
        sim_round(&a, sa, picks_a + r * 4, r, 10, 4, 9, 100, 0);
        sim_round(&b, sb, picks_b + r * 4, r, 10, 4, 9, 50, 0);
    }
    CHECK(!memcmp(picks_a + 16, picks_b + 16, 24 * sizeof *picks_a), "rounds 4..9 pick the same rows");
    double la[ALBL_MAX_EXPERTS], lb[ALBL_MAX_EXPERTS];
    albl_state_weights(sa, la);
    albl_state_weights(sb, lb);
    CHECK(!memcmp(la, lb, sizeof la), "the same weights, bitwise");
    const size_t na = albl_hooks.state_size(sa), nb = albl_hooks.state_size(sb);
    unsigned char *ba = malloc(na), *bb = malloc(nb);
    albl_hooks.save(sa, ba);
    albl_hooks.save(sb, bb);
    CHECK(na == nb && !memcmp(ba, bb, na), "the same state, byte for byte");
    free(ba); free(bb);

    /* damaged: each refused with its reason, the state left usable */
    struct { const char *what, *why; } cases[] = {
        {"another strategy's tag", "not albl's"},
        {"another version", "another version"},
        {"cut short", "do not add up"},
        {"a longer tail", "do not add up"},
        {"a row outside the pool", "outside the pool"},
        {"another pool's size", "pool's size"},
        {"a weight below 1", "importance weight"},
        {"6 experts", "experts"},
    };
    unsigned char *bad = malloc(n + 8);
    const size_t rows_at = 8 + 2 * sizeof(int) + 4 * sizeof(double) + sizeof(int);
    int n_hist;
    memcpy(&n_hist, bytes + rows_at - sizeof(int), sizeof n_hist);
    for (int k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++) {
        memcpy(bad, bytes, n);
        size_t len = n;
        int v;
        double d = 0.5;
        switch (k) {
        case 0: memcpy(bad, "RLSTATE1", 8); break;
        case 1: bad[7] = '2'; break;
        case 2: len = n - 3; break;
        case 3: len = n + 8; memset(bad + n, 0, 8); break;
        case 4: v = 250; memcpy(bad + rows_at + sizeof(int), &v, sizeof v); break;
        case 5: v = 251; memcpy(bad + 8 + sizeof(int), &v, sizeof v); break;
        case 6: memcpy(bad + rows_at + (size_t)n_hist * sizeof(int), &d, sizeof d); break;
        case 7: v = 6; memcpy(bad + 8, &v, sizeof v); break;
        }
        void *sc = open_albl(250);
        err[0] = 0;
        const int rc = albl_hooks.restore(sc, bad, len, err, sizeof err);
        CHECK(rc == 2 && strstr(err, cases[k].why) && strstr(err, "albl"), "%s: rc %d, %s", cases[k].what, rc, err);
        albl_hooks.close(sc);
    }
    free(bad);
    free(bytes);
    albl_hooks.close(sa); albl_hooks.close(sb);
    sim_free(&a); sim_free(&b);
}

/* 6. The options: pmin in (0, 1/E], the default's too; delta in (0, 1]. */
static void test_options(void) {
    char err[512];
    CHECK(albl_check(0, 0.1, 5, 200, err, sizeof err) == 0, "the default pmin for 200 queries: %s", err);
    CHECK(albl_check(0.2, 0.1, 5, 200, err, sizeof err) == 0, "pmin = 1/E: %s", err);
    CHECK(albl_check(0.21, 0.1, 5, 200, err, sizeof err) == 2 && strstr(err, "--albl-pmin 0.21") &&
          strstr(err, "1/E") && !strchr(err, '\n'), "pmin above 1/5: %s", err);
    CHECK(albl_check(0.25, 0.1, 4, 200, err, sizeof err) == 0, "pmin 0.25 with 4 experts: %s", err);
    CHECK(albl_check(0, 0.1, 5, 5, err, sizeof err) == 2 && strstr(err, "default") && strstr(err, "--albl-pmin"),
          "5 queries: libact's default pmin above 1/E: %s", err);
    CHECK(albl_check(0.1, 0, 5, 200, err, sizeof err) == 2 && strstr(err, "--albl-delta"), "delta 0: %s", err);
    CHECK(albl_check(0.1, 1.5, 5, 200, err, sizeof err) == 2 && strstr(err, "--albl-delta"), "delta 1.5: %s", err);
    /* through config_check: the mlp with dropout has 5 experts, without a hidden layer 4 */
    Config c;
    config_defaults(&c, CMD_RUN);
    snprintf(c.strategy, sizeof c.strategy, "albl");
    c.albl_pmin = 0.22;
    CHECK(config_check(&c, CMD_RUN, err, sizeof err) == 2 && strstr(err, "E = 5"), "mlp, pmin 0.22: %s", err);
    c.n_hidden = 0;
    CHECK(config_check(&c, CMD_RUN, err, sizeof err) == 0, "softmax regression (4 experts), pmin 0.22: %s", err);
    snprintf(c.model, sizeof c.model, "logreg");
    CHECK(config_check(&c, CMD_RUN, err, sizeof err) == 0, "logreg (4 experts), pmin 0.22: %s", err);
    config_defaults(&c, CMD_RUN);
    snprintf(c.strategy, sizeof c.strategy, "albl");
    c.rounds = 1;
    c.batch = 2;
    CHECK(config_check(&c, CMD_RUN, err, sizeof err) == 2 && strstr(err, "--albl-pmin"), "2 queries: %s", err);
    char *argv[] = {"--strategy", "albl", "--albl-delta", "0"};
    config_defaults(&c, CMD_RUN);
    CHECK(config_parse_args(&c, CMD_RUN, 4, argv, NULL, NULL, err, sizeof err) == 2 && strstr(err, "albl-delta"),
          "--albl-delta 0 refused as it is read: %s", err);
}

/* The sessions below: 3 blobs of 6 features (300 pool rows, 60 test), albl picking 4 a round
 * from 6 labels for rounds, an MLP of 16 hidden units, 3 epochs, T = 4. */
static void session_setup(Dataset *pool, Dataset *test, Config *c, int rounds) {
    char err[512];
    CHECK(dataset_synthetic_blobs(pool, test, ":k=3,d=6,n=300,test=60", err, sizeof err) == 0, "blobs: %s", err);
    config_defaults(c, CMD_RUN);
    snprintf(c->strategy, sizeof c->strategy, "albl");
    c->rounds = rounds; c->batch = 4; c->init = 6; c->epochs = 3; c->mc = 4; c->n_hidden = 1; c->hidden[0] = 16;
}

/* 7. The engine: a session of albl checkpointed after round 1 and restored into a new session
 *    picks what the uninterrupted session picks, with MC dropout (5 experts) and without. */
static void test_session_resume(const Backend *be, int hidden) {
    char err[512];
    Dataset pool = {0}, test = {0};
    Config c;
    session_setup(&pool, &test, &c, 5);
    c.n_hidden = hidden ? 1 : 0;
    CHECK(config_check(&c, CMD_RUN, err, sizeof err) == 0, "config: %s", err);
    Session A, B;
    RoundRecord rec;
    int want[5][4], got[5][4];
    CHECK(session_open(&A, &c, &pool, &test, be, 4, err, sizeof err) == 0, "open: %s", err);
    CHECK(A.T == (hidden ? 4 : 0), "MC samples %d with hidden %d", A.T, hidden);
    for (int r = 0; r <= c.rounds; r++) {
        CHECK(session_round(&A, &rec, err, sizeof err) == 0, "round %d: %s", r, err);
        if (r < c.rounds) memcpy(want[r], rec.picked, sizeof want[r]);
    }
    double logw[ALBL_MAX_EXPERTS];
    CHECK(albl_state_weights(A.strategy_state, logw) == (hidden ? 5 : 4), "the experts");
    session_close(&A);

    CHECK(session_open(&A, &c, &pool, &test, be, 4, err, sizeof err) == 0, "open: %s", err);
    for (int r = 0; r < 2; r++) {
        CHECK(session_round(&A, &rec, err, sizeof err) == 0, "round %d: %s", r, err);
        memcpy(got[r], rec.picked, sizeof got[r]);
    }
    Checkpoint ck = {0};
    CHECK(session_checkpoint(&A, &ck) == 0 && ck.strategy_bytes > 8, "the checkpoint holds albl's state");
    CHECK(session_open(&B, &c, &pool, &test, be, 4, err, sizeof err) == 0, "open: %s", err);
    CHECK(session_restore(&B, &ck, err, sizeof err) == 0, "restore: %s", err);
    /* the same checkpoint without its strategy state: refused */
    Checkpoint none = ck;
    none.strategy_bytes = 0;
    none.strategy_state = NULL;
    Session C;
    CHECK(session_open(&C, &c, &pool, &test, be, 4, err, sizeof err) == 0, "open: %s", err);
    CHECK(session_restore(&C, &none, err, sizeof err) == 2 && strstr(err, "lacks the state"), "no state: %s", err);
    session_close(&C);
    session_close(&A);
    for (int r = 2; r <= c.rounds; r++) {
        CHECK(session_round(&B, &rec, err, sizeof err) == 0, "round %d: %s", r, err);
        if (r < c.rounds) memcpy(got[r], rec.picked, sizeof got[r]);
    }
    session_close(&B);
    CHECK(!memcmp(want, got, sizeof want), "hidden %d: killed after round 1 and restored, the same picks", hidden);
    dataset_free(&pool);
    dataset_free(&test);
}

/* 8. With --pool-subset every pick lies in the round's subset. */
static void test_session_subset(const Backend *be) {
    char err[512];
    Dataset pool = {0}, test = {0};
    Config c;
    session_setup(&pool, &test, &c, 4);
    c.pool_subset = 30;
    Session S;
    RoundRecord rec;
    CHECK(session_open(&S, &c, &pool, &test, be, 8, err, sizeof err) == 0, "open: %s", err);
    int outside = 0, picks = 0;
    for (int r = 0; r < c.rounds; r++) {
        CHECK(session_round(&S, &rec, err, sizeof err) == 0, "round %d: %s", r, err);
        for (int j = 0; j < rec.n_picked; j++) {
            int in = 0;
            for (int i = 0; i < rec.n_subset; i++) in |= rec.subset[i] == rec.picked[j];
            outside += !in;
            picks++;
        }
    }
    CHECK(picks == 16 && outside == 0, "--pool-subset: %d of %d picks outside the round's subset", outside, picks);
    session_close(&S);
    dataset_free(&pool);
    dataset_free(&test);
}

int main(void) {
    test_exp4p_by_hand();
    test_importance_weights();
    test_determinism();
    test_planted();
    test_save_restore();
    test_options();
    char err[256];
    const Backend *be = backend_get("cpu", err, sizeof err);
    CHECK(be != NULL, "cpu backend: %s", err);
    if (be) {
        test_session_resume(be, 1);
        test_session_resume(be, 0);
        test_session_subset(be);
    }
    return check_done("test_albl");
}
