/* test_rl — the RL policy's features: percentile ranks (ties, NaN, one row), the raw values
 * and gates on a hand-worked example (K = 2 classes, embeddings of width 2, two candidates,
 * T = 2 MC samples, two labeled rows, one reference row), and the init policy scoring as
 * the margin ranking, bit for bit. */
#include <math.h>
#include <string.h>

#include "strategies/rl.h"
#include "tests/check.h"

static void test_ranks(void) {
    /* ascending: NaN (position 0), 1 (1), 2 (2), 3 and 3 (3 and 4: both 3.5); / (n - 1) = 4 */
    const double x[] = {3, 1, 3, NAN, 2};
    double r[5];
    CHECK(rl_percentile_ranks(r, x, 1, 5) == 0, "ranks");
    const double want[] = {0.875, 0.25, 0.875, 0.0, 0.5};
    for (int i = 0; i < 5; i++) CHECK_NEAR(r[i], want[i], 0, 0);
    /* a stride: every other value of {5, ., 5, ., 5}: all tied */
    const double y[] = {5, -1, 5, -1, 5};
    CHECK(rl_percentile_ranks(r, y, 2, 3) == 0, "strided");
    for (int i = 0; i < 3; i++) CHECK_NEAR(r[i], 0.5, 0, 0);
    CHECK(rl_percentile_ranks(r, x, 1, 1) == 0 && r[0] == 0.5, "one row: 0.5");
}

static void test_example(void) {
    /* candidate 0: p = (0.8, 0.2); samples (0.9, 0.1), (0.7, 0.3); e = (3, 4)
     * candidate 1: p = (0.3, 0.7); samples both (0.3, 0.7);         e = (0, 2) */
    const float probs[] = {0.8f, 0.2f, 0.3f, 0.7f};
    const float mc[] = {0.9f, 0.1f, 0.3f, 0.7f,     /* sample 0: rows 0, 1 */
                        0.7f, 0.3f, 0.3f, 0.7f};    /* sample 1 */
    const float emb[] = {3, 4, 0, 2};
    const float lab_emb[] = {3, 0, 0, 4};
    const int32_t lab_y[] = {0, 0};
    const float ref[] = {1, 0};
    RlContext ctx = {.k = 2, .h = 2, .n_labeled = 2, .labeled_emb = lab_emb, .labeled_y = lab_y,
                     .n_ref = 1, .ref_emb = ref, .round = 3, .rounds = 12, .n_pool = 99};
    CHECK(rl_context_prepare(&ctx) == 0, "prepare");
    double raw[2 * RL_RAW], feat[2 * RL_FEATURES];
    CHECK(rl_raw_features(raw, &ctx, probs, mc, 2, emb, 2) == 0, "raw features");
    const double *f = raw, *g = raw + RL_RAW;
    CHECK_NEAR(f[RL_MARGIN], -0.6, 1e-6, 0);                    /* -(0.8 - 0.2) */
    CHECK_NEAR(f[RL_ENTROPY], 0.5004024235381879, 1e-6, 0);     /* H(0.8, 0.2) in nats */
    /* BALD: H(0.8,0.2) - (H(0.9,0.1) + H(0.7,0.3))/2 nats */
    CHECK_NEAR(f[RL_BALD], 0.0324287857, 1e-6, 0);
    CHECK_NEAR(f[RL_DIST_LABELED], 3.0, 1e-6, 0);               /* (3,4) to (0,4) */
    CHECK_NEAR(f[RL_DENSITY], 0.6, 1e-6, 0);                    /* cos((3,4), (1,0)) */
    CHECK_NEAR(f[RL_RARITY], -1.0, 0, 0);                       /* class 0: all of the labeled */
    CHECK_NEAR(f[RL_RANKINGS], 0.8, 1e-6, 0);                   /* p_(1) */
    CHECK_NEAR(g[RL_MARGIN], -0.4, 1e-6, 0);
    CHECK_NEAR(g[RL_BALD], 0.0, 1e-7, 0);                       /* the samples agree */
    CHECK_NEAR(g[RL_DIST_LABELED], 2.0, 1e-6, 0);
    CHECK_NEAR(g[RL_DENSITY], 0.0, 1e-12, 0);
    CHECK_NEAR(g[RL_RARITY], 0.0, 0, 0);                        /* class 1: none labeled */

    CHECK(rl_features_from_raw(feat, raw, &ctx, 2) == 0, "features");
    /* Of two rows, the one that ranks first ("pick") has 1, the other 0. */
    const double want0[RL_RANKINGS] = {0, 0, 1, 1, 1, 0}, want1[RL_RANKINGS] = {1, 1, 0, 0, 0, 1};
    for (int h = 0; h < RL_RANKINGS; h++) {
        CHECK_NEAR(feat[h], want0[h], 0, 0);
        CHECK_NEAR(feat[RL_FEATURES + h], want1[h], 0, 0);
    }
    for (int i = 0; i < 2; i++) {
        const double *q = feat + i * RL_FEATURES + RL_RANKINGS;
        CHECK_NEAR(q[0], 3.0 / 12, 1e-15, 0);                   /* budget_used */
        CHECK_NEAR(q[1], log(3.0) / log(100.0), 1e-15, 0);      /* labeled_frac */
        CHECK_NEAR(q[2], 0.75, 1e-6, 0);                        /* mean of 0.8 and 0.7 */
        CHECK_NEAR(q[3], 1.0, 1e-15, 0);                        /* every label one class */
    }
    rl_context_free(&ctx);

    /* A balanced labeled set: imbalance 0. */
    const int32_t bal_y[] = {0, 1};
    ctx.labeled_y = bal_y;
    CHECK(rl_context_prepare(&ctx) == 0, "prepare balanced");
    CHECK(rl_features_from_raw(feat, raw, &ctx, 2) == 0, "features balanced");
    CHECK_NEAR(feat[RL_RANKINGS + 3], 0.0, 1e-15, 0);
    rl_context_free(&ctx);
    CHECK(!strcmp(rl_feature_names[RL_DIST_LABELED], "dist_labeled") && !strcmp(rl_feature_names[9], "imbalance"), "names");
}

/* The init policy's scores are the margin ranks themselves, whatever the other rankings and
 * the gates: bit for bit (so its top b are margin's, ties included). */
static void test_init_is_margin(void) {
    enum { N = 200 };
    Policy p;
    CHECK(rl_policy_init(&p) == 0, "init");
    Rng r = rng_stream(4, RNG_DATA, 9);
    double feat[N * RL_FEATURES], s[N];
    for (int i = 0; i < N * RL_FEATURES; i++) feat[i] = rng_uniform(&r);
    for (int i = 0; i < N; i += 7) feat[i * RL_FEATURES + RL_MARGIN] = 0.5;     /* ties */
    policy_forward(s, &p, feat, N);
    int same = 1;
    for (int i = 0; i < N; i++) same &= s[i] == feat[i * RL_FEATURES + RL_MARGIN];
    CHECK(same, "the init policy scores as the margin rank");
    policy_free(&p);
}

int main(void) {
    test_ranks();
    test_example();
    test_init_is_margin();
    return check_done("test_rl");
}
