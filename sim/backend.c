/* backend — choosing a backend by name at start-up ("auto", "cpu", "cuda").
 *
 * The one place in alsim that knows whether the CUDA backend was compiled in: ALSIM_CUDA is
 * defined by the Makefile when nvcc was found, and then backend_cuda.cu provides
 * backend_cuda_get. Everything else sees only the Backend table.
 */
#include "sim/backend.h"

#include <stdio.h>
#include <string.h>

#ifdef ALSIM_CUDA
/* In backend_cuda.cu: the CUDA backend when a device is usable, else NULL and the reason. */
const Backend *backend_cuda_get(char *err, size_t errlen);
#else
static const Backend *backend_cuda_get(char *err, size_t errlen) {
    snprintf(err, errlen, "this alsim was built without the CUDA backend (nvcc not found, or "
             "CUDA=0); rebuild with nvcc on PATH, or use --device cpu");
    return NULL;
}
#endif

const Backend *backend_get(const char *name, char *err, size_t errlen) {
    if (!err) errlen = 0;
    if (errlen) err[0] = '\0';
    if (!name) name = "";
    if (strcmp(name, "cpu") == 0) return &backend_cpu;
    if (strcmp(name, "cuda") == 0) return backend_cuda_get(err, errlen);
    if (strcmp(name, "auto") == 0) {
        const Backend *be = backend_cuda_get(err, errlen);
        if (errlen) err[0] = '\0';   /* falling back to the CPU is not an error */
        return be ? be : &backend_cpu;
    }
    snprintf(err, errlen, "unknown device '%s' (choices: auto, cpu, cuda)", name);
    return NULL;
}
