/* fuzz_arff — libFuzzer harness for the ARFF parser (datasets/arff.c), from memory. The
 * input's size picks --label: none, 0, -1 or "class". Seeds in tests/corpus/arff/. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const labels[4] = { NULL, "0", "-1", "class" };
    Dataset ds;
    char err[512];
    int rc = arff_parse_mem(&ds, "fuzz.arff", data, size, labels[size & 3], err, sizeof err);
    fuzz_check(rc, err, &ds);
    dataset_free(&ds);
    return 0;
}
