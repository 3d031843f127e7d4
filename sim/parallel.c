/* parallel — see parallel.h. Threads are started per call (tens of microseconds), which the
 * callers amortise over milliseconds of work; no pool to keep, nothing left running. */
#include "sim/parallel.h"

#include <cblas.h>
#include <pthread.h>
#include <stdint.h>

enum { MAX_THREADS = 16 };

typedef struct {
    void (*fn)(void *ctx, int lo, int hi);
    void *ctx;
    int lo, hi;
} Slice;

static void *slice_run(void *arg) {
    Slice *s = arg;
    s->fn(s->ctx, s->lo, s->hi);
    return NULL;
}

void parallel_for(int n, int min_per_thread, void (*fn)(void *ctx, int lo, int hi), void *ctx) {
    if (n <= 0) return;
    int nt = openblas_get_num_threads();
    if (nt > MAX_THREADS) nt = MAX_THREADS;
    if (min_per_thread < 1) min_per_thread = 1;
    if (nt > n / min_per_thread) nt = n / min_per_thread;
    if (nt <= 1) {
        fn(ctx, 0, n);
        return;
    }
    Slice sl[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    int started[MAX_THREADS] = {0};
    for (int i = 0; i < nt; i++)
        sl[i] = (Slice){fn, ctx, (int)((int64_t)n * i / nt), (int)((int64_t)n * (i + 1) / nt)};
    for (int i = 1; i < nt; i++) started[i] = pthread_create(&th[i], NULL, slice_run, &sl[i]) == 0;
    slice_run(&sl[0]);
    for (int i = 1; i < nt; i++) {
        if (started[i]) pthread_join(th[i], NULL);
        else slice_run(&sl[i]);
    }
}
