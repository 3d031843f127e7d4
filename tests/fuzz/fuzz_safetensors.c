/* fuzz_safetensors — libFuzzer harness for the .safetensors reader (sim/safetensors.c), from
 * memory. A refusal must be code 2 or 3 with one non-empty line and leave nothing behind; an
 * accepted file must have tensors that tile its data exactly, each of numel · size bytes, and
 * every float tensor must read. Seeds in tests/fuzz/seeds/safetensors/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sim/safetensors.h"

#define FUZZ_ASSERT(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[512] = "";
    SafeTensors st;
    const int rc = st_parse(&st, data, size, "fuzz.safetensors", err, sizeof err);
    if (rc) {
        FUZZ_ASSERT(rc == 2 || rc == 3);
        FUZZ_ASSERT(err[0] && !strchr(err, '\n'));
        FUZZ_ASSERT(st.n == 0 && !st.tensors);
        return 0;
    }
    const unsigned char *end = data + size;
    const unsigned char *at = st.n ? st.tensors[0].data : end;
    for (int i = 0; i < st.n; i++) {
        const StTensor *t = &st.tensors[i];
        FUZZ_ASSERT(t->data == at && t->data + t->nbytes <= end);
        FUZZ_ASSERT((size_t)t->numel * (size_t)st_dtype_size(t->dtype) == t->nbytes);
        FUZZ_ASSERT(st_find(&st, t->name) != NULL);
        at = t->data + t->nbytes;
        if (t->dtype == ST_F32 || t->dtype == ST_F16 || t->dtype == ST_BF16) {
            float *out = malloc((size_t)t->numel * sizeof(float) + 1);
            FUZZ_ASSERT(out && st_to_float(out, t, "fuzz.safetensors", err, sizeof err) == 0);
            free(out);
        }
    }
    FUZZ_ASSERT(at == end);
    st_close(&st);
    return 0;
}
