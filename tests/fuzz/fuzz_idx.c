/* fuzz_idx — libFuzzer harness for the IDX parser (datasets/idx.c), from memory. Seeds in
 * tests/corpus/idx/. */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    IdxArray a;
    char err[512];
    int rc = idx_load_mem(&a, "fuzz.idx", data, size, err, sizeof err);
    fuzz_check(rc, err, NULL);
    if (!rc) {
        size_t count = 1;
        for (int i = 0; i < a.ndim; i++) count *= (size_t)a.dims[i];
        FUZZ_ASSERT(a.ndim >= 1 && a.ndim <= 8 && count == a.count && a.data);
        FUZZ_ASSERT(size == 4 + 4 * (size_t)a.ndim + count * (size_t)(a.type == 0x08 || a.type == 0x09 ? 1 :
                    a.type == 0x0B ? 2 : a.type == 0x0E ? 8 : 4));
        idx_free(&a);
    }
    return 0;
}
