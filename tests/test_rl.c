/* test_rl — the RL policy's features on a hand-worked example: K = 2 classes, embeddings of
 * width 2, two candidates, T = 2 MC samples, two labeled rows, one reference row. */
#include <math.h>
#include <string.h>

#include "strategies/rl.h"
#include "tests/check.h"

int main(void) {
    /* candidate 0: p = (0.8, 0.2); samples (0.9, 0.1), (0.7, 0.3); e = (3, 4)
     * candidate 1: p = (0.3, 0.7); samples both (0.3, 0.7);         e = (0, 2) */
    const float probs[] = {0.8f, 0.2f, 0.3f, 0.7f};
    const float mc[] = {0.9f, 0.1f, 0.3f, 0.7f,     /* sample 0: rows 0, 1 */
                        0.7f, 0.3f, 0.3f, 0.7f};    /* sample 1 */
    const float emb[] = {3, 4, 0, 2};
    const float lab_emb[] = {3, 0, 0, 4};           /* norms 3 and 4: mean norm 3.5 */
    const int32_t lab_y[] = {0, 0};
    const float ref[] = {1, 0};
    RlContext ctx = {.k = 2, .h = 2, .n_labeled = 2, .labeled_emb = lab_emb, .labeled_y = lab_y,
                     .n_ref = 1, .ref_emb = ref, .round = 3, .rounds = 12, .n_pool = 99};
    CHECK(rl_context_prepare(&ctx) == 0, "prepare");
    CHECK_NEAR(ctx.labeled_mean_norm, 3.5, 1e-12, 0);
    double feat[2 * RL_FEATURES];
    memset(feat, 0, sizeof feat);
    CHECK(rl_candidate_features(feat, &ctx, probs, mc, 2, emb, 2) == 0, "features");
    rl_fill_global(feat, &ctx, 2);
    const double *f = feat, *g = feat + RL_FEATURES;
    /* entropy: -(0.8 ln 0.8 + 0.2 ln 0.2) / ln 2 */
    CHECK_NEAR(f[0], 0.7219280948873623, 1e-6, 0);
    CHECK_NEAR(f[1], 0.6, 1e-6, 0);                 /* margin 0.8 - 0.2 */
    CHECK_NEAR(f[2], 0.8, 1e-6, 0);                 /* max prob */
    /* BALD: H(0.8,0.2) - (H(0.9,0.1) + H(0.7,0.3))/2 = 0.0324287857 nats, / ln 2 */
    CHECK_NEAR(f[3], 0.04678484847737541, 1e-6, 0);
    /* nearest labeled: (0,4) at distance 3; 3 / 3.5 */
    CHECK_NEAR(f[4], 0.8571428571428571, 1e-6, 0);
    CHECK_NEAR(f[5], 0.6, 1e-6, 0);                 /* cos((3,4), (1,0)) = 3/5 */
    CHECK_NEAR(f[6], 1.0, 0, 0);                    /* predicts class 0; both labeled are 0 */
    /* candidate 1: samples agree, so BALD is 0; predicts class 1, which no labeled row has */
    CHECK_NEAR(g[0], 0.8812908992306927, 1e-6, 0);
    CHECK_NEAR(g[3], 0.0, 1e-7, 0);
    CHECK_NEAR(g[4], 2.0 / 3.5, 1e-6, 0);           /* (0,2) to (0,4): 2 */
    CHECK_NEAR(g[5], 0.0, 1e-12, 0);                /* orthogonal to (1,0) */
    CHECK_NEAR(g[6], 0.0, 0, 0);
    /* global columns, the same for both rows */
    for (int i = 0; i < 2; i++) {
        const double *h = feat + i * RL_FEATURES;
        CHECK_NEAR(h[7], 3.0 / 12, 1e-15, 0);
        CHECK_NEAR(h[8], log(3.0) / log(100.0), 1e-15, 0);
        CHECK_NEAR(h[9], (0.8 + 0.7) / 2, 1e-6, 0);
        CHECK_NEAR(h[10], (0.7219280948873623 + 0.8812908992306927) / 2, 1e-6, 0);
    }
    CHECK(!strcmp(rl_feature_names[4], "dist_labeled") && !strcmp(rl_feature_names[10], "pool_entropy"), "names");
    rl_context_free(&ctx);
    return check_done("test_rl");
}
