/* fuzz_npy — libFuzzer harness for the .npy parser (datasets/npy.c), from memory: each input
 * is read both as features X and as labels y. Seeds in tests/corpus/npy/. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[512];
    float *x = NULL;
    int n = 0, d = 0;
    int rc = npy_features_mem(&x, &n, &d, data, size, "fuzz.npy", err, sizeof err);
    fuzz_check(rc, err, NULL);
    if (!rc) {
        FUZZ_ASSERT(n >= 1 && d >= 1);
        for (size_t i = 0; i < (size_t)n * (size_t)d; i++) FUZZ_ASSERT(isfinite(x[i]));
        free(x);
    }
    int32_t *y = NULL;
    LabelMap m = {0};
    rc = npy_labels_mem(&y, &n, &m, data, size, "fuzz.npy", err, sizeof err);
    fuzz_check(rc, err, NULL);
    if (!rc) {
        FUZZ_ASSERT(n >= 1);
        for (int i = 0; i < n; i++) FUZZ_ASSERT(y[i] >= 0 && y[i] < m.n);
        free(y);
    }
    labels_free(&m);
    return 0;
}
