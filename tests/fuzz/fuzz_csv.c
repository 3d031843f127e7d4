/* fuzz_csv — libFuzzer harness for the CSV parser (datasets/csv.c), from memory. The input's
 * size picks the variant, so the seeds (tests/corpus/csv/) stay plain files: comma- or
 * tab-separated, and --label none, 0, -1 or a name. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const labels[4] = { NULL, "0", "-1", "label" };
    Dataset ds;
    char err[512];
    int rc = csv_parse_mem(&ds, size & 4 ? "fuzz.tsv" : "fuzz.csv", data, size, labels[size & 3],
                           err, sizeof err);
    fuzz_check(rc, err, &ds);
    dataset_free(&ds);
    return 0;
}
