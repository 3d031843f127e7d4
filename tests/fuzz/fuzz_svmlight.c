/* fuzz_svmlight — libFuzzer harness for the svmlight/LIBSVM parser (datasets/svmlight.c),
 * from memory; seeds in tests/corpus/svmlight/. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Dataset ds;
    char err[512];
    int rc = svmlight_parse_mem(&ds, "fuzz.svm", data, size, err, sizeof err);
    fuzz_check(rc, err, &ds);
    dataset_free(&ds);
    return 0;
}
