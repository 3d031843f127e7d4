/* test_standardize — --standardize (dataset_standardize, datasets/standardize.c) on
 * hand-computed values: dense z-scores of the pool's statistics applied to pool and test (the
 * test set's own values never matter); a constant feature centred, not scaled; CSR divided
 * by the sd (absent entries counted as zeros), not centred, nonzeros kept where they were. */
#include <math.h>
#include <string.h>

#include "datasets/dataset.h"
#include "tests/check.h"

static void test_dense(void) {
    char err[256];
    Dataset pool = {0}, test = {0}, test2 = {0};
    /* pool: feature 0 = 1, 2, 3, 6 (mean 3, sd sqrt(3.5)); feature 1 = 5 everywhere */
    const float px[] = {1, 5, 2, 5, 3, 5, 6, 5};
    const float tx[] = {3, 5, 10, 7};
    CHECK(dataset_alloc(&pool, 4, 2, 2, "c", err, sizeof err) == 0, "alloc");
    CHECK(dataset_alloc(&test, 2, 2, 2, "c", err, sizeof err) == 0, "alloc");
    CHECK(dataset_alloc(&test2, 2, 2, 2, "c", err, sizeof err) == 0, "alloc");
    memcpy(pool.x, px, sizeof px);
    memcpy(test.x, tx, sizeof tx);
    memcpy(test2.x, tx, sizeof tx);
    for (int i = 0; i < 4; i++) pool.y[i] = i % 2;
    CHECK(dataset_standardize(&pool, &test, err, sizeof err) == 0, "standardize: %s", err);
    const double sd = sqrt(3.5);
    for (int i = 0; i < 4; i++) {
        CHECK_NEAR(pool.x[i * 2], (px[i * 2] - 3) / sd, 1e-6, 0);
        CHECK(pool.x[i * 2 + 1] == 0, "constant feature centred: %g", pool.x[i * 2 + 1]);
    }
    CHECK_NEAR(test.x[0], 0.0, 1e-6, 0);
    CHECK_NEAR(test.x[2], 7 / sd, 1e-6, 0);             /* the pool's mean and sd, not the test's */
    CHECK(test.x[1] == 0 && test.x[3] == 2, "constant feature: centred by the pool's 5, sd 1: %g %g", test.x[1], test.x[3]);
    double m = 0, v = 0;
    for (int i = 0; i < 4; i++) m += pool.x[i * 2] / 4.0;
    for (int i = 0; i < 4; i++) v += (pool.x[i * 2] - m) * (pool.x[i * 2] - m) / 4.0;
    CHECK(fabs(m) < 1e-6 && fabs(v - 1) < 1e-6, "pool: mean %g, variance %g", m, v);

    /* Another test set changes nothing in the pool's scaling. */
    Dataset pool2 = {0};
    CHECK(dataset_alloc(&pool2, 4, 2, 2, "c", err, sizeof err) == 0, "alloc");
    memcpy(pool2.x, px, sizeof px);
    test2.x[0] = 1000;
    CHECK(dataset_standardize(&pool2, &test2, err, sizeof err) == 0, "standardize");
    CHECK(memcmp(pool.x, pool2.x, sizeof px) == 0 && test2.x[2] == test.x[2], "the test set does not move the statistics");
    CHECK(dataset_standardize(&pool2, NULL, err, sizeof err) == 0, "no test set");
    dataset_free(&pool); dataset_free(&test); dataset_free(&test2); dataset_free(&pool2);
}

static void test_csr(void) {
    char err[256];
    Dataset pool = {0}, test = {0};
    /* 4 rows x 3 features: feature 0 = 2, 0, 0, 2 (mean 1, sd 1 with the zeros); feature 1 =
     * 4, 0, 0, 0 (mean 1, sd sqrt(3)); feature 2 absent everywhere (sd 0: kept). */
    CHECK(dataset_alloc_csr(&pool, 4, 3, 2, 3, "c", err, sizeof err) == 0, "alloc");
    const int64_t ip[] = {0, 2, 2, 2, 3};
    const int32_t ix[] = {0, 1, 0};
    const float vx[] = {2, 4, 2};
    memcpy(pool.indptr, ip, sizeof ip); memcpy(pool.indices, ix, sizeof ix); memcpy(pool.values, vx, sizeof vx);
    CHECK(dataset_alloc_csr(&test, 1, 3, 2, 2, "c", err, sizeof err) == 0, "alloc");
    const int64_t tip[] = {0, 2};
    const int32_t tix[] = {1, 2};
    const float tvx[] = {3, 5};
    memcpy(test.indptr, tip, sizeof tip); memcpy(test.indices, tix, sizeof tix); memcpy(test.values, tvx, sizeof tvx);
    CHECK(dataset_standardize(&pool, &test, err, sizeof err) == 0, "standardize: %s", err);
    CHECK_NEAR(pool.values[0], 2.0, 1e-6, 0);
    CHECK_NEAR(pool.values[1], 4 / sqrt(3.0), 1e-6, 0);
    CHECK_NEAR(pool.values[2], 2.0, 1e-6, 0);
    CHECK(memcmp(pool.indptr, ip, sizeof ip) == 0 && memcmp(pool.indices, ix, sizeof ix) == 0, "sparsity kept");
    CHECK_NEAR(test.values[0], 3 / sqrt(3.0), 1e-6, 0);
    CHECK(test.values[1] == 5, "a feature absent from the pool: unscaled (%g)", test.values[1]);
    dataset_free(&pool); dataset_free(&test);
}

int main(void) {
    test_dense();
    test_csr();
    return check_done("test_standardize");
}
