/* test_policy — the RL policy's math and file: the Plackett–Luce log-probability gradient,
 * the mixture's gradient, the REINFORCE objective's and the listwise loss's gradients (the
 * parameters' and the temperature's, the diversity penalty's λ included) by central
 * differences, PL sampling against its exact distribution, learning a marked ranking by
 * REINFORCE, recovering a planted gate-dependent ranking and a planted preference for diverse
 * batches (a positive λ) by imitation of a teacher's listwise preferences, the greedy batch
 * (select_top_b's at λ = 0, row for row; diverse at λ > 0), and the policy file (round trip,
 * a version 2 file read with λ = 0, a version 1 file refused, malformed files rejected with a
 * reason). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "strategies/policy.h"
#include "strategies/strategy.h"
#include "tests/check.h"

/* R = 4 rankings, G = 2 gates; the base ranking is 0. */
static const char *const names[] = {"r0", "r1", "r2", "r3", "g0", "g1"};
enum { R = 4, G = 2, F = R + G };

/* A policy with random parameters and random feature rows (ranks in [0,1], gates in [0,1]). */
static void random_policy(Policy *p, Rng *r) {
    policy_init(p, R, G, names, 0);
    for (size_t i = 0; i < p->n_params; i++) p->params[i] = (float)(0.8 * rng_normal(r));
}

static void random_rows(double *feat, int n, Rng *r, int same_gates) {
    for (int i = 0; i < n * F; i++) feat[i] = rng_uniform(r);
    if (same_gates)
        for (int i = 1; i < n; i++) memcpy(feat + i * F + R, feat + R, G * sizeof *feat);
}

/* The numerical derivative of f along parameter k: (f(θ + e) - f(θ - e)) / 2e, with the e
 * actually added in float. */
typedef double (*Objective)(const Policy *p, void *ctx);
static double central(Policy *p, size_t k, Objective f, void *ctx) {
    const float keep = p->params[k], e = 1e-3f;
    p->params[k] = keep + e;
    const float up_at = p->params[k];
    const double up = f(p, ctx);
    p->params[k] = keep - e;
    const float dn_at = p->params[k];
    const double dn = f(p, ctx);
    p->params[k] = keep;
    return (up - dn) / ((double)up_at - dn_at);
}

static void test_pl_grad(void) {
    Rng r = rng_stream(11, RNG_DATA, 0);
    for (int trial = 0; trial < 20; trial++) {
        int n = 3 + trial % 10, b = 1 + trial % 3;
        double s[16], g[16];
        unsigned char el[16];
        int picks[4];
        for (int i = 0; i < n; i++) { s[i] = 3 * rng_normal(&r); el[i] = (i % 5) != 2; }
        int m = pl_sample(picks, s, el, n, b, &r);
        CHECK(m == b, "drew %d of %d", m, b);
        pl_grad(g, s, el, n, picks, m);
        for (int i = 0; i < n; i++) {
            const double e = 1e-5;
            double keep = s[i];
            s[i] = keep + e; double up = pl_log_prob(s, el, n, picks, m);
            s[i] = keep - e; double dn = pl_log_prob(s, el, n, picks, m);
            s[i] = keep;
            CHECK_NEAR(g[i], (up - dn) / (2 * e), 1e-7, 1e-6);
            if (!el[i]) CHECK(g[i] == 0.0, "ineligible row %d has gradient %g", i, g[i]);
        }
    }
}

typedef struct { const double *feat, *ds; int n; } LinCtx;
static double lin_obj(const Policy *p, void *ctx) {
    const LinCtx *c = ctx;
    double s[16], sum = 0;
    policy_forward(s, p, c->feat, c->n);
    for (int i = 0; i < c->n; i++) sum += c->ds[i] * s[i];
    return sum;
}

/* The mixture's backward against central differences; the weights sum to 1 at any gates;
 * the init scores as the base ranking, bit for bit. */
static void test_mixture_grad(void) {
    Policy p;
    Rng r = rng_stream(5, RNG_DATA, 1);
    random_policy(&p, &r);
    CHECK(p.n_params == (size_t)(R * G + R + G + 1), "R·G + R + G + 1 parameters: %zu", p.n_params);
    enum { N = 7 };
    double feat[N * F], ds[N], w[R];
    random_rows(feat, N, &r, 0);
    for (int i = 0; i < N; i++) ds[i] = rng_normal(&r);
    double *grad = calloc(p.n_params, sizeof *grad);
    policy_backward(grad, &p, feat, ds, N);
    LinCtx c = {feat, ds, N};
    for (size_t k = 0; k < p.n_params; k++) CHECK_NEAR(grad[k], central(&p, k, lin_obj, &c), 1e-6, 1e-5);
    policy_weights(w, &p, feat + R);
    CHECK_NEAR(w[0] + w[1] + w[2] + w[3], 1.0, 1e-12, 0);
    free(grad);
    policy_free(&p);

    policy_init(&p, R, G, names, 2);
    double s[N];
    policy_forward(s, &p, feat, N);
    int same = 1;
    for (int i = 0; i < N; i++) same &= s[i] == feat[i * F + 2];
    CHECK(same, "the init scores as its base ranking");
    policy_free(&p);
}

typedef struct { const double *feat; const unsigned char *el; int n; const int *picks; int b; double adv, beta; } PgCtx;
static double pg_obj(const Policy *p, void *ctx) {
    const PgCtx *c = ctx;
    double s[16];
    policy_forward(s, p, c->feat, c->n);
    return c->adv * pl_log_prob(s, c->el, c->n, c->picks, c->b) + c->beta * pl_entropy(s, c->el, c->n);
}

/* REINFORCE's objective (advantage · log π + the entropy bonus) through the mixture. */
static void test_accumulate_grad(void) {
    Policy p;
    Rng r = rng_stream(6, RNG_DATA, 2);
    random_policy(&p, &r);
    enum { N = 9, B = 3 };
    double feat[N * F];
    unsigned char el[N];
    random_rows(feat, N, &r, 1);
    for (int i = 0; i < N; i++) el[i] = i != 4;
    int picks[B] = {2, 7, 0};
    double *grad = calloc(p.n_params, sizeof *grad);
    policy_accumulate(grad, &p, feat, el, N, picks, B, 0.7, 0.3);
    PgCtx c = {feat, el, N, picks, B, 0.7, 0.3};
    for (size_t k = 0; k < p.n_params; k++) CHECK_NEAR(grad[k], central(&p, k, pg_obj, &c), 1e-6, 1e-4);
    free(grad);
    policy_free(&p);
}

typedef struct { const double *feat; int m; const int *members, *count; int b, C; const double *target, *rho; double temp; } LwCtx;
static double lw_obj(const Policy *p, void *ctx) {
    const LwCtx *c = ctx;
    return policy_listwise(NULL, NULL, p, c->feat, c->m, c->members, c->count, c->b, c->C, c->target, c->rho, c->temp);
}

/* The listwise loss's gradient by central differences, over states of 5 candidate batches of
 * up to 3 rows (one short, rows shared between batches) with random redundancies (so λ's
 * parameters have a gradient), several temperatures; the loss against its definition; the
 * target's order and sum. */
static void test_listwise_grad(void) {
    Rng r = rng_stream(7, RNG_DATA, 3);
    enum { M = 10, B = 3, C = 5 };
    const int members[C * B] = {0, 1, 2, 3, 4, 5, 0, 6, -1, 7, 8, 9, 2, 5, 8};
    const int count[C] = {3, 3, 2, 3, 3};
    double worst = 0;
    for (int trial = 0; trial < 6; trial++) {
        Policy p;
        random_policy(&p, &r);
        double feat[M * F], acc[C], nll[C], target[C], rho[C];
        random_rows(feat, M, &r, 1);
        for (int c = 0; c < C; c++) rho[c] = rng_uniform(&r);
        rho[2] = 0;     /* as a batch of one row */
        for (int c = 0; c < C; c++) { acc[c] = 0.8 + 0.02 * rng_normal(&r); nll[c] = 0.5 + 0.1 * rng_uniform(&r); }
        if (trial == 0) acc[3] = acc[1];        /* an accuracy tie: the NLL decides */
        policy_listwise_target(target, acc, nll, C, 0.01);
        double sum = 0;
        for (int c = 0; c < C; c++) sum += target[c];
        CHECK_NEAR(sum, 1.0, 1e-12, 0);
        if (trial == 0) CHECK((nll[3] < nll[1]) == (target[3] > target[1]), "the NLL breaks an accuracy tie");
        const double temp = trial % 2 ? 0.05 : 0.2;
        double *grad = calloc(p.n_params, sizeof *grad);
        double dlogt = 0;
        const double loss = policy_listwise(grad, &dlogt, &p, feat, M, members, count, B, C, target, rho, temp);
        /* d loss / d log(temperature), by central differences in log(temperature) */
        const double h = 1e-5;
        const double up = policy_listwise(NULL, NULL, &p, feat, M, members, count, B, C, target, rho, temp * exp(h));
        const double dn = policy_listwise(NULL, NULL, &p, feat, M, members, count, B, C, target, rho, temp * exp(-h));
        CHECK_NEAR(dlogt, (up - dn) / (2 * h), 1e-7, 1e-5);
        /* the loss from its definition, λ = a·g + a0 the last G + 1 parameters */
        double s[M], bs[C], z = 0, want = 0, lambda = p.params[p.n_params - 1];
        for (int j = 0; j < G; j++) lambda += p.params[p.n_params - 1 - G + j] * feat[R + j];
        CHECK_NEAR(policy_lambda(&p, feat + R), lambda, 1e-12, 1e-12);
        policy_forward(s, &p, feat, M);
        for (int c = 0; c < C; c++) {
            bs[c] = -lambda * rho[c];
            for (int a = 0; a < count[c]; a++) bs[c] += s[members[c * B + a]] / count[c];
            z += exp(bs[c] / temp);
        }
        for (int c = 0; c < C; c++) want -= target[c] * (bs[c] / temp - log(z));
        CHECK_NEAR(loss, want, 1e-9, 1e-9);
        LwCtx lc = {feat, M, members, count, B, C, target, rho, temp};
        int lambda_moved = 0;   /* λ's gradient is there: not all 0 */
        for (size_t k = p.n_params - G - 1; k < p.n_params; k++) lambda_moved += grad[k] != 0;
        CHECK(lambda_moved == G + 1, "λ's parameters: %d of %d have a gradient", lambda_moved, G + 1);
        for (size_t k = 0; k < p.n_params; k++) {
            const double num = central(&p, k, lw_obj, &lc);
            const double e = fabs(grad[k] - num) / (1e-6 + 1e-4 * fabs(num));
            if (e > worst) worst = e;
            CHECK_NEAR(grad[k], num, 1e-6, 1e-4);
        }
        free(grad);
        policy_free(&p);
    }
    printf("listwise gradcheck: worst error/tolerance %.3f\n", worst);
}

/* A bandit where ranking 3 exactly marks the useful candidates (its top 16%): REINFORCE with
 * a moving-average baseline must learn to pick them. The bar: after 400 episodes the top-5 of
 * fresh candidate sets are at least 60% useful (the init, ranking 0: ~16%; a mixture linear
 * in the ranks cannot threshold one as sharply as the old MLP, which reached 90%). */
static void test_learns_marked_feature(void) {
    enum { N = 60, B = 5, EPISODES = 400 };
    Policy p;
    policy_init(&p, R, G, names, 0);
    double *grad = calloc(p.n_params, sizeof *grad), *m = calloc(p.n_params, sizeof *m);
    double *v = calloc(p.n_params, sizeof *v), feat[N * F], s[N];
    int t = 0, picks[B];
    double baseline = 0;
    Rng r = rng_stream(21, RNG_DATA, 3), pr = rng_stream(21, RNG_POLICY, 1);
    for (int ep = 0; ep < EPISODES; ep++) {
        random_rows(feat, N, &r, 1);
        policy_forward(s, &p, feat, N);
        pl_sample(picks, s, NULL, N, B, &pr);
        double reward = 0;
        for (int k = 0; k < B; k++) reward += feat[picks[k] * F + 3] > 0.84;
        reward /= B;
        memset(grad, 0, p.n_params * sizeof *grad);
        policy_accumulate(grad, &p, feat, NULL, N, picks, B, reward - baseline, 0.01);
        policy_adam_step(&p, grad, m, v, &t, 0.1);
        baseline = ep ? 0.9 * baseline + 0.1 * reward : reward;
    }
    double useful = 0;
    for (int trial = 0; trial < 100; trial++) {
        random_rows(feat, N, &r, 1);
        policy_forward(s, &p, feat, N);
        unsigned char taken[N] = {0};
        for (int k = 0; k < B; k++) {
            int best = -1;
            for (int i = 0; i < N; i++) if (!taken[i] && (best < 0 || s[i] > s[best])) best = i;
            taken[best] = 1;
            useful += feat[best * F + 3] > 0.84;
        }
    }
    useful /= 100.0 * B;
    printf("marked-ranking bandit: top-%d useful share %.3f after %d episodes (the init ~0.16)\n", B, useful, EPISODES);
    CHECK(useful >= 0.6, "useful share %.3f < 0.6", useful);
    free(grad); free(m); free(v);
    policy_free(&p);
}

/* The top b rows of feat (n,F) by ranking h (or by the policy's scores s when h < 0), as
 * indices, into out (b). */
static void top_by(int *out, const double *feat, const double *s, int n, int b, int h) {
    unsigned char taken[64] = {0};
    for (int k = 0; k < b; k++) {
        int best = -1;
        for (int i = 0; i < n; i++) {
            if (taken[i]) continue;
            const double x = h >= 0 ? feat[i * F + h] : s[i], y = best < 0 ? 0 : h >= 0 ? feat[best * F + h] : s[best];
            if (best < 0 || x > y) best = i;
        }
        if (best < 0) break;    /* b <= n: not reached */
        taken[best] = 1;
        out[k] = best;
    }
}

/* Imitation recovers a planted, gate-dependent ranking. In each state the teacher's refits
 * find that the batch of ranking 1 is best while gate 0 is below 0.5, and that of ranking 2
 * otherwise (a little noise on the other candidates' accuracies; margin's, ranking 0, never
 * best). The candidates are the top b of each ranking and of the current policy (DAgger's
 * extra candidate: as good as the planted batch when it is the same rows). Eight rounds of
 * DAgger (25 new states labelled against the current policy, then 50 epochs of Adam on the
 * listwise loss plus the L2 toward the init over all states so far) must move the mixture onto the
 * planted rankings: at gate 0 = 0.2 the weight of ranking 1 at least 0.9 and every other
 * within ±0.15, at 0.8 the same of ranking 2, and the policy's top b on fresh states at least
 * 60% the planted batch's rows (the init's: about b/n = 10%; the small weights left on the
 * other rankings reorder rows near the b-th). */
enum { PL_N = 40, PL_B = 4, PL_C = R + 1, PL_STATES = 200 };
typedef struct {
    double feat[PL_N * F];
    int members[PL_C * PL_B], count[PL_C];
    double target[PL_C];
} State;

static void planted_state(State *st, const Policy *p, Rng *r) {
    double acc[PL_C], nll[PL_C], s[PL_N];
    random_rows(st->feat, PL_N, r, 1);
    const int best = st->feat[R] < 0.5 ? 1 : 2;
    for (int h = 0; h < R; h++) top_by(st->members + h * PL_B, st->feat, NULL, PL_N, PL_B, h);
    policy_forward(s, p, st->feat, PL_N);
    top_by(st->members + R * PL_B, st->feat, s, PL_N, PL_B, -1);
    for (int c = 0; c < PL_C; c++) {
        st->count[c] = PL_B;
        acc[c] = 0.80 + 0.002 * rng_uniform(r);
        nll[c] = 0.5;
    }
    acc[best] = 0.82;
    /* the policy's candidate: as good as the planted one when it is the same rows */
    if (!memcmp(st->members + R * PL_B, st->members + best * PL_B, PL_B * sizeof(int))) acc[R] = 0.82;
    policy_listwise_target(st->target, acc, nll, PL_C, 0.002);
}

static void test_imitation_recovers_planted(void) {
    Policy p;
    policy_init(&p, R, G, names, 0);
    State *data = calloc(PL_STATES, sizeof *data);
    double *grad = calloc(p.n_params, sizeof *grad), *m = calloc(p.n_params, sizeof *m), *v = calloc(p.n_params, sizeof *v);
    int t = 0;
    Rng r = rng_stream(31, RNG_DATA, 4);
    /* DAgger's aggregation: each pass adds states labelled against the current policy. */
    for (int pass = 0; pass < 8; pass++) {
        for (int k = pass * PL_STATES / 8; k < (pass + 1) * PL_STATES / 8; k++) planted_state(&data[k], &p, &r);
        const int have = (pass + 1) * PL_STATES / 8;
        for (int epoch = 0; epoch < 50; epoch++) {
            memset(grad, 0, p.n_params * sizeof *grad);
            for (int k = 0; k < have; k++)
                policy_listwise(grad, NULL, &p, data[k].feat, PL_N, data[k].members, data[k].count, PL_B, PL_C, data[k].target,
                                NULL, 0.1);
            for (size_t i = 0; i < p.n_params; i++) grad[i] = -grad[i] / have;
            policy_l2(grad, &p, -1e-2);         /* negated with the rest: descent */
            policy_adam_step(&p, grad, m, v, &t, 0.05);
        }
    }
    double w_lo[R], w_hi[R];
    const double g_lo[G] = {0.2, 0.5}, g_hi[G] = {0.8, 0.5};
    policy_weights(w_lo, &p, g_lo);
    policy_weights(w_hi, &p, g_hi);
    printf("imitation: weights at gate 0 = 0.2: %.2f %.2f %.2f %.2f; at 0.8: %.2f %.2f %.2f %.2f\n",
           w_lo[0], w_lo[1], w_lo[2], w_lo[3], w_hi[0], w_hi[1], w_hi[2], w_hi[3]);
    CHECK(w_lo[1] >= 0.9 && w_hi[2] >= 0.9, "planted weights %.3f (gate low), %.3f (gate high) < 0.9", w_lo[1], w_hi[2]);
    for (int h = 0; h < R; h++) {
        if (h != 1) CHECK(fabs(w_lo[h]) <= 0.15, "gate low: ranking %d's weight %.3f", h, w_lo[h]);
        if (h != 2) CHECK(fabs(w_hi[h]) <= 0.15, "gate high: ranking %d's weight %.3f", h, w_hi[h]);
    }
    int hits = 0, init_hits = 0;
    Policy init;
    policy_init(&init, R, G, names, 0);
    for (int trial = 0; trial < 100; trial++) {
        State st, st0;
        Rng r0 = r;
        planted_state(&st, &p, &r);
        planted_state(&st0, &init, &r0);
        const int best = st.feat[R] < 0.5 ? 1 : 2;
        for (int a = 0; a < PL_B; a++)
            for (int k = 0; k < PL_B; k++) {
                hits += st.members[R * PL_B + a] == st.members[best * PL_B + k];
                init_hits += st0.members[R * PL_B + a] == st0.members[best * PL_B + k];
            }
    }
    printf("imitation: the policy's batches share %.2f of the planted ranking's rows (the init's %.2f)\n",
           hits / (100.0 * PL_B), init_hits / (100.0 * PL_B));
    CHECK(hits >= 60 * PL_B, "planted rows: %.2f < 0.6", hits / (100.0 * PL_B));
    policy_free(&init);
    free(data); free(grad); free(m); free(v);
    policy_free(&p);
}

/* The greedy batch. At λ = 0 it is select_top_b's, row for row and in order, over the same
 * rows: scores with many ties and NaNs, excluded rows, rows that are a subset of a pool (ids)
 * or the pool itself (ids NULL). At λ > 0 a hand-checked case (the penalty against the row
 * picked first decides between the second-best row and a worse, dissimilar one), and with
 * clustered embeddings a large λ takes one row of each cluster, a zero λ the top b. */
static void test_select_greedy(void) {
    enum { N = 120, M = 50, B = 9 };
    Rng r = rng_stream(41, RNG_DATA, 5);
    int same = 0, trials = 0;
    for (int trial = 0; trial < 40; trial++) {
        double pool[N], view[M];
        unsigned char pex[N], vex[M];
        int ids[M], perm[N], want[B], got[B];
        for (int i = 0; i < N; i++) perm[i] = i;
        rng_shuffle(&r, perm, N);
        for (int i = 0; i < N; i++) {
            const double u = rng_uniform(&r);
            pool[i] = u < 0.1 ? NAN : floor(u * 6) / 6;        /* 6 values: many ties */
            pex[i] = 1;
        }
        for (int j = 0; j < M; j++) {       /* the view: M pool rows in a shuffled order */
            ids[j] = perm[j];
            view[j] = pool[ids[j]];
            vex[j] = rng_uniform(&r) < 0.2;
            pex[ids[j]] = vex[j];
        }
        const int b = trial % 2 ? B : 3;
        const int nw = select_top_b(want, pool, pex, N, b, 7, trial);
        const int ng = policy_select(got, view, NULL, 0, vex, ids, M, b, 0.0, 7, trial);
        same += nw == ng && !memcmp(want, got, (size_t)nw * sizeof *want);
        trials++;
        /* the pool itself (ids NULL), with embeddings present but λ = 0 */
        float emb[N * 3];
        for (int i = 0; i < N * 3; i++) emb[i] = (float)rng_normal(&r);
        const int nw2 = select_top_b(want, pool, pex, N, b, 3, trial);
        const int ng2 = policy_select(got, pool, emb, 3, pex, NULL, N, b, 0.0, 3, trial);
        same += nw2 == ng2 && !memcmp(want, got, (size_t)nw2 * sizeof *want);
        trials++;
    }
    CHECK(same == trials, "lambda 0: %d of %d batches are select_top_b's", same, trials);

    /* rows 0 and 1 point the same way, row 2 across: after row 0 (score 1.0), row 1 (0.9) is
     * penalised by λ·1, row 2 (0.5) not at all */
    const float e3[3 * 2] = {1, 0, 2, 0, 0, 1};
    const double s3[3] = {1.0, 0.9, 0.5};
    int pk[3];
    CHECK(policy_select(pk, s3, e3, 2, NULL, NULL, 3, 3, 0.3, 1, 0) == 3 && pk[0] == 0 && pk[1] == 1 && pk[2] == 2,
          "λ 0.3: %d %d %d, want 0 1 2", pk[0], pk[1], pk[2]);
    CHECK(policy_select(pk, s3, e3, 2, NULL, NULL, 3, 3, 0.5, 1, 0) == 3 && pk[0] == 0 && pk[1] == 2 && pk[2] == 1,
          "λ 0.5: %d %d %d, want 0 2 1", pk[0], pk[1], pk[2]);
    const int all3[3] = {0, 1, 2}, two[2] = {0, 2};
    CHECK_NEAR(policy_batch_redundancy(e3, 2, all3, 3), 2.0 / 3, 1e-12, 0);   /* 1, 1, 0 */
    CHECK_NEAR(policy_batch_redundancy(e3, 2, two, 2), 0.0, 0, 0);
    CHECK_NEAR(policy_batch_redundancy(e3, 2, all3, 1), 0.0, 0, 0);

    /* 4 clusters of 10 rows: a large λ takes one row of each, the best of it; λ 0 the top 4 */
    enum { NC = 40, H = 4 };
    float emb[NC * H];
    double sc[NC];
    for (int i = 0; i < NC; i++) {
        for (int j = 0; j < H; j++) emb[i * H + j] = (float)(0.05 * rng_normal(&r)) + (j == i % 4);
        sc[i] = rng_uniform(&r);
    }
    int top[4], div[4], seen[4] = {0};
    policy_select(div, sc, emb, H, NULL, NULL, NC, 4, 5.0, 2, 1);
    select_top_b(top, sc, NULL, NC, 4, 2, 1);
    for (int k = 0; k < 4; k++) seen[div[k] % 4]++;
    CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1 && seen[3] == 1, "λ 5: clusters %d %d %d %d", seen[0], seen[1],
          seen[2], seen[3]);
    for (int k = 0; k < 4; k++) {       /* each the best row of its cluster */
        int best = 1;
        for (int i = div[k] % 4; i < NC; i += 4) best &= sc[i] <= sc[div[k]];
        CHECK(best, "λ 5: pick %d is not its cluster's best", k);
    }
    int tz[4];
    policy_select(tz, sc, emb, H, NULL, NULL, NC, 4, 0.0, 2, 1);
    CHECK(!memcmp(tz, top, sizeof tz), "λ 0 with clustered embeddings: the top 4");

    /* The shortlist: 40 rows, b = 2, so a penalty picks among the top 20 by score only. Rows
     * 0..19 share one direction, rows 20..39 another, and the scores fall with the row: λ 5
     * would take row 20 second, but it is not on the shortlist, so row 1 (the next one) */
    enum { NS = 40 };
    float es[NS * 2];
    double ss[NS];
    for (int i = 0; i < NS; i++) {
        es[2 * i] = i < 20 ? 1.0f : 0.0f;
        es[2 * i + 1] = i < 20 ? 0.0f : 1.0f;
        ss[i] = 1.0 - 0.01 * i;
    }
    int sl[2];
    CHECK(policy_select(sl, ss, es, 2, NULL, NULL, NS, 2, 5.0, 2, 1) == 2 && sl[0] == 0 && sl[1] == 1,
          "λ 5, a shortlist of 20: picks %d %d, want 0 1", sl[0], sl[1]);
    CHECK(policy_select(sl, ss, es, 2, NULL, NULL, 21, 2, 5.0, 2, 1) == 2 && sl[0] == 0 && sl[1] == 1,
          "λ 5, 21 rows: picks %d %d, want 0 1 (row 20 is 21st)", sl[0], sl[1]);
    ss[20] = 0.995;         /* now row 20 is second by score, on the shortlist: taken second */
    CHECK(policy_select(sl, ss, es, 2, NULL, NULL, NS, 2, 5.0, 2, 1) == 2 && sl[0] == 0 && sl[1] == 20,
          "λ 5, row 20 on the shortlist: picks %d %d, want 0 20", sl[0], sl[1]);
    unsigned char exs[NS] = {0};
    ss[20] = 0.8;
    for (int i = 1; i < 20; i++) exs[i] = 1;    /* rows 1..19 excluded: the shortlist is 0, 20..38 */
    CHECK(policy_select(sl, ss, es, 2, exs, NULL, NS, 2, 5.0, 2, 1) == 2 && sl[0] == 0 && sl[1] == 20,
          "λ 5, excluded rows are not on the shortlist: picks %d %d, want 0 20", sl[0], sl[1]);
}

/* Imitation recovers a planted preference for diverse batches: a positive λ. Each state: 40
 * rows in 4 clusters of embeddings (a row's cluster drawn at random; its embedding the
 * cluster's axis plus a little noise: cos⁺ about 1 within a cluster, about 0 across). The
 * candidates: the top b of each ranking, the planted batch (the greedy batch over ranking 0
 * with λ = 0.5: ranking 0's best rows, one cluster each, as k-center over margin's top) and
 * the policy's own greedy batch; the teacher finds the planted batch best (the policy's as
 * good when it is the same rows). After DAgger as above, λ must be positive at every corner
 * of the gates (at least 0.1), ranking 0 must keep the largest weight, and the policy's
 * batches on fresh states must be exactly the planted batch's rows in at least 60% of them
 * (the init's, margin's top b: about 9%, at most 20% checked). */
enum { DV_N = 40, DV_B = 4, DV_H = 4, DV_C = R + 2, DV_STATES = 200 };
typedef struct {
    double feat[DV_N * F];
    float emb[DV_N * DV_H];
    int members[DV_C * DV_B], count[DV_C];
    double target[DV_C], rho[DV_C];
    int planted_same;       /* the policy's batch has the planted batch's rows */
} DvState;

static int cmp_int(const void *a, const void *b) { return (*(const int *)a > *(const int *)b) - (*(const int *)a < *(const int *)b); }

static void diverse_state(DvState *st, const Policy *p, Rng *r) {
    double acc[DV_C], nll[DV_C], s[DV_N], r0[DV_N];
    random_rows(st->feat, DV_N, r, 1);
    for (int i = 0; i < DV_N; i++) {
        const int k = (int)(rng_uniform(r) * 4);
        for (int j = 0; j < DV_H; j++) st->emb[i * DV_H + j] = (float)(0.05 * rng_normal(r)) + (j == k);
        r0[i] = st->feat[i * F];
    }
    for (int h = 0; h < R; h++) top_by(st->members + h * DV_B, st->feat, NULL, DV_N, DV_B, h);
    int *planted = st->members + R * DV_B, *own = st->members + (R + 1) * DV_B;
    policy_select(planted, r0, st->emb, DV_H, NULL, NULL, DV_N, DV_B, 0.5, 1, 0);
    policy_forward(s, p, st->feat, DV_N);
    policy_select(own, s, st->emb, DV_H, NULL, NULL, DV_N, DV_B, policy_lambda(p, st->feat + R), 1, 0);
    for (int c = 0; c < DV_C; c++) {
        qsort(st->members + c * DV_B, DV_B, sizeof(int), cmp_int);     /* as the teacher's: ascending */
        st->count[c] = DV_B;
        st->rho[c] = policy_batch_redundancy(st->emb, DV_H, st->members + c * DV_B, DV_B);
        acc[c] = 0.80 + 0.002 * rng_uniform(r);
        nll[c] = 0.5;
    }
    acc[R] = 0.82;
    st->planted_same = !memcmp(own, planted, DV_B * sizeof *own);
    if (st->planted_same) acc[R + 1] = 0.82;
    policy_listwise_target(st->target, acc, nll, DV_C, 0.002);
}

static void test_imitation_recovers_diversity(void) {
    Policy p;
    policy_init(&p, R, G, names, 0);
    DvState *data = calloc(DV_STATES, sizeof *data);
    double *grad = calloc(p.n_params, sizeof *grad), *m = calloc(p.n_params, sizeof *m), *v = calloc(p.n_params, sizeof *v);
    int t = 0;
    Rng r = rng_stream(51, RNG_DATA, 6);
    for (int pass = 0; pass < 8; pass++) {
        for (int k = pass * DV_STATES / 8; k < (pass + 1) * DV_STATES / 8; k++) diverse_state(&data[k], &p, &r);
        const int have = (pass + 1) * DV_STATES / 8;
        for (int epoch = 0; epoch < 50; epoch++) {
            memset(grad, 0, p.n_params * sizeof *grad);
            for (int k = 0; k < have; k++)
                policy_listwise(grad, NULL, &p, data[k].feat, DV_N, data[k].members, data[k].count, DV_B, DV_C,
                                data[k].target, data[k].rho, 0.1);
            for (size_t i = 0; i < p.n_params; i++) grad[i] = -grad[i] / have;
            policy_l2(grad, &p, -1e-2);
            policy_adam_step(&p, grad, m, v, &t, 0.05);
        }
    }
    double lo = INFINITY, w[R];
    for (int corner = 0; corner < 4; corner++) {
        const double g[G] = {corner & 1, corner >> 1};
        const double l = policy_lambda(&p, g);
        if (l < lo) lo = l;
        policy_weights(w, &p, g);
        for (int h = 1; h < R; h++) CHECK(w[0] > w[h], "gates %d: ranking %d's weight %.3f above ranking 0's %.3f", corner, h, w[h], w[0]);
    }
    const double mid[G] = {0.5, 0.5};
    policy_weights(w, &p, mid);
    printf("diversity imitation: λ %.3f at the gates' centre (smallest at a corner %.3f); weights %.2f %.2f %.2f %.2f\n",
           policy_lambda(&p, mid), lo, w[0], w[1], w[2], w[3]);
    CHECK(lo >= 0.1, "λ at a corner of the gates %.3f < 0.1", lo);
    Policy init;
    policy_init(&init, R, G, names, 0);
    int hits = 0, init_hits = 0;
    for (int trial = 0; trial < 100; trial++) {
        DvState st, st0;
        Rng r0 = r;
        diverse_state(&st, &p, &r);
        diverse_state(&st0, &init, &r0);
        hits += st.planted_same;
        init_hits += st0.planted_same;
    }
    printf("diversity imitation: the policy's batch is the planted one in %d%% of fresh states (the init's %d%%)\n", hits,
           init_hits);
    CHECK(init_hits <= 20, "the planted batch is margin's top b too often (%d%%): the test tells nothing", init_hits);
    CHECK(hits >= 60, "the policy's batch is the planted one in %d%% < 60%%", hits);
    policy_free(&init);
    free(data); free(grad); free(m); free(v);
    policy_free(&p);
}

/* b = 2 from 3 candidates: every ordered pair's frequency against its PL probability. */
static void test_pl_sample_distribution(void) {
    double s[3] = {0.0, 1.0, 2.0};
    Rng r = rng_stream(9, RNG_POLICY, 7);
    int count[3][3] = {{0}};
    const int draws = 60000;
    int twice = 0;
    for (int t = 0; t < draws; t++) {
        int picks[2];
        pl_sample(picks, s, NULL, 3, 2, &r);
        twice += picks[0] == picks[1];
        count[picks[0]][picks[1]]++;
    }
    CHECK(twice == 0, "a row drawn twice in %d of %d batches", twice, draws);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            if (a == b) continue;
            int pk[2] = {a, b};
            double want = exp(pl_log_prob(s, NULL, 3, pk, 2));
            double got = (double)count[a][b] / draws;
            double sd = sqrt(want * (1 - want) / draws);
            CHECK(fabs(got - want) < 5 * sd, "P(%d then %d) = %.4f, want %.4f", a, b, got, want);
        }
    unsigned char el[3] = {1, 0, 1};
    int picks[3];
    CHECK(pl_sample(picks, s, el, 3, 3, &r) == 2, "only eligible rows are drawn");
    CHECK(picks[0] != 1 && picks[1] != 1, "an ineligible row was drawn");
    double h = pl_entropy(s, NULL, 3), z = 1 + exp(1) + exp(2), want = 0;
    for (int i = 0; i < 3; i++) want -= exp(s[i]) / z * log(exp(s[i]) / z);
    CHECK_NEAR(h, want, 1e-12, 0);
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void test_file(void) {
    char dir[] = "/tmp/alsim-policy.XXXXXX", path[256], err[700], bpath_v2[300];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/p.json", dir);
    Policy p, q;
    policy_init(&p, R, G, names, 1);
    p.params[0] = 0.1f;
    p.params[1] = -1e-30f;
    p.params[p.n_params - 1] = 1.0f / 3;       /* λ's a0 */
    p.params[p.n_params - 2] = -0.25f;          /* λ's a (last gate) */
    p.params[R * G] = 0.5f;                     /* c_0 */
    snprintf(p.train_datasets, sizeof p.train_datasets, "mnist+fashion-mnist");
    snprintf(p.algo, sizeof p.algo, "dagger");
    p.episodes = 123;
    CHECK(policy_save(&p, path, err, sizeof err) == 0, "save: %s", err);
    CHECK(policy_load(&q, path, names, R, G, err, sizeof err) == 0, "load: %s", err);
    CHECK(q.n_rankings == R && q.n_gates == G && q.base == 1 && q.n_params == p.n_params, "shape");
    CHECK(memcmp(p.params, q.params, p.n_params * sizeof *p.params) == 0, "weights round-trip bitwise");
    CHECK(q.episodes == 123 && !strcmp(q.train_datasets, "mnist+fashion-mnist") && !strcmp(q.algo, "dagger"), "provenance");
    policy_free(&q);
    /* Version 2 (no λ): the same file without "lambda_a" and "lambda_0" reads with λ = 0 and
     * the mixture's weights as they were; a version 3 file without them is refused. */
    {
        FILE *f2 = fopen(path, "r");
        char t2[20000], v2[20000];
        size_t n2 = fread(t2, 1, sizeof t2 - 1, f2);
        fclose(f2);
        t2[n2] = 0;
        char *la = strstr(t2, ",\n    \"lambda_a\""), *end = la ? strstr(la, "]\n  }") : NULL;
        CHECK(la && end, "lambda_a and lambda_0 in the file");
        if (la && end) {
            char *ver = strstr(t2, "\"version\": 3");
            CHECK(ver != NULL, "version 3 written");
            snprintf(v2, sizeof v2, "%.*s%s", (int)(la - t2), t2, end + 1);   /* without the λ keys */
            snprintf(bpath_v2, sizeof bpath_v2, "%s/v3-without-lambda.json", dir);
            write_file(bpath_v2, v2);
            CHECK(policy_load(&q, bpath_v2, names, R, G, err, sizeof err) == 2 && strstr(err, "lambda_a"),
                  "version 3 without λ: %s", err);
            if (ver) ver[strlen("\"version\": ")] = '2';
            snprintf(v2, sizeof v2, "%.*s%s", (int)(la - t2), t2, end + 1);
            snprintf(bpath_v2, sizeof bpath_v2, "%s/v2.json", dir);
            write_file(bpath_v2, v2);
            CHECK(policy_load(&q, bpath_v2, names, R, G, err, sizeof err) == 0, "version 2: %s", err);
            int lam0 = 1;
            for (size_t i = (size_t)(R * G + R); i < q.n_params; i++) lam0 &= q.params[i] == 0.0f;
            CHECK(q.n_params == p.n_params && lam0 && !memcmp(q.params, p.params, (size_t)(R * G + R) * sizeof *q.params),
                  "version 2: the mixture's weights as written, λ's parameters 0");
            policy_free(&q);
        }
    }
    const char *other[] = {"r0", "r1", "x2", "r3", "g0", "g1"};
    CHECK(policy_load(&q, path, other, R, G, err, sizeof err) == 2 && strstr(err, "x2"), "other features: %s", err);
    CHECK(policy_load(&q, path, names, R - 1, G + 1, err, sizeof err) == 2 && strstr(err, "rankings"), "other shape: %s", err);

    /* Malformed files: each is exit-code 2 with the path and a line in one line of text. */
    struct { const char *text, *want; } bad[] = {
        {"{\"format\": \"alsim-policy\",\n \"version\": 2,\n", "malformed JSON"},
        {"{\"format\": \"something\", \"version\": 2}", "not an alsim policy"},
        {"{\"format\": \"alsim-policy\",\n\"version\": 9}", "version 9"},
        {"{\"format\": \"alsim-policy\",\n\"version\": 1}", "version 1 (an MLP"},
        {"{\"format\": \"alsim-policy\", \"version\": 2,\n\"architecture\": {\"kind\": \"mlp-tanh\", \"rankings\": 4, \"gates\": 2, \"base\": \"r0\"}}", "architecture"},
        {"{\"format\": \"alsim-policy\", \"version\": 2,\n\"architecture\": {\"kind\": \"gated-rank-mixture\", \"rankings\": 4, \"gates\": 2, \"base\": \"g0\"}}", "not one of the rankings"},
        {"", "malformed JSON"},
    };
    char bpath[300];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(bpath, sizeof bpath, "%s/bad%zu.json", dir, i);
        write_file(bpath, bad[i].text);
        int rc = policy_load(&q, bpath, names, R, G, err, sizeof err);
        CHECK(rc == 2 && strstr(err, bpath) && strstr(err, bad[i].want) && !strchr(err, '\n'),
              "bad file %zu: rc %d, '%s'", i, rc, err);
    }
    /* A NaN weight (null), a short weight array and a huge weight, made from the good file. */
    FILE *f = fopen(path, "r");
    char text[20000];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    char *a = strstr(text, "\"A\": [");
    CHECK(a != NULL, "A in file");
    if (a) {
        char edited[20100];
        size_t at = (size_t)(a - text) + strlen("\"A\": [");
        while (text[at] == ' ' || text[at] == '\n') at++;
        size_t end = at;
        while (text[end] != ',') end++;
        snprintf(edited, sizeof edited, "%.*snull%s", (int)at, text, text + end);
        snprintf(bpath, sizeof bpath, "%s/nan.json", dir);
        write_file(bpath, edited);
        CHECK(policy_load(&q, bpath, names, R, G, err, sizeof err) == 2 && strstr(err, "not a finite number"), "null weight: %s", err);
        snprintf(edited, sizeof edited, "%.*s%s", (int)at, text, text + end + 1);
        write_file(bpath, edited);
        CHECK(policy_load(&q, bpath, names, R, G, err, sizeof err) == 2 && strstr(err, "needs"), "short A: %s", err);
        snprintf(edited, sizeof edited, "%.*s1e30%s", (int)at, text, text + end);
        write_file(bpath, edited);
        CHECK(policy_load(&q, bpath, names, R, G, err, sizeof err) == 2 && strstr(err, "beyond"), "huge weight: %s", err);
    }
    policy_free(&p);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

int main(void) {
    test_mixture_grad();
    test_accumulate_grad();
    test_listwise_grad();
    test_pl_grad();
    test_pl_sample_distribution();
    test_learns_marked_feature();
    test_imitation_recovers_planted();
    test_select_greedy();
    test_imitation_recovers_diversity();
    test_file();
    return check_done("test_policy");
}
