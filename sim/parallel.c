/* parallel — see parallel.h.
 *
 * A small persistent pool: the helper threads start on first use and then wait on a condition
 * variable between calls (no spinning, so an idle alsim uses no CPU). Starting threads per
 * call was simpler but measured no faster than one thread: Linux puts a new thread on its
 * parent's core, and a job of a few milliseconds ends before the balancer moves it to the
 * idle one. A woken pool thread goes back to the core it last ran on. The pool serves one
 * call at a time (a mutex); a call from inside a job, or while the pool cannot start, runs
 * on the calling thread alone.
 */
#define _GNU_SOURCE     /* sched_getcpu, pthread_setaffinity_np: see keep_off_cpu */
#include "sim/parallel.h"

#include <cblas.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>

enum { MAX_THREADS = 16 };

static pthread_mutex_t call_lock = PTHREAD_MUTEX_INITIALIZER;  /* one call at a time */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;       /* guards the fields below */
static pthread_cond_t work_ready = PTHREAD_COND_INITIALIZER, work_done = PTHREAD_COND_INITIALIZER;
static int helpers;                     /* helper threads started */
static pthread_t helper_thread[MAX_THREADS];
static unsigned long generation;        /* bumped for every job */
static int pending;                     /* helpers still running the current job */
static struct {
    void (*fn)(void *ctx, int lo, int hi);
    void *ctx;
    int n, nt;                          /* [0, n) in nt ranges; helper h runs range h + 1 */
} job;
static _Thread_local int in_job;        /* set on helpers and on a caller inside a job */

static void run_range(int part, int nt, int n, void (*fn)(void *, int, int), void *ctx) {
    const int lo = (int)((int64_t)n * part / nt), hi = (int)((int64_t)n * (part + 1) / nt);
    if (lo < hi) fn(ctx, lo, hi);
}

static void *helper_main(void *arg) {
    const int h = (int)(intptr_t)arg;
    unsigned long seen = 0;
    in_job = 1;
    pthread_mutex_lock(&lock);
    for (;;) {
        while (generation == seen) pthread_cond_wait(&work_ready, &lock);
        seen = generation;
        if (h + 1 >= job.nt) continue;          // not needed for this job
        void (*fn)(void *, int, int) = job.fn;
        void *ctx = job.ctx;
        const int n = job.n, nt = job.nt;
        pthread_mutex_unlock(&lock);
        run_range(h + 1, nt, n, fn, ctx);
        pthread_mutex_lock(&lock);
        if (--pending == 0) pthread_cond_signal(&work_done);
    }
    return NULL;
}

/* Lets helpers 0..k-1 run anywhere but on the caller's current core. Linux wakes a thread on
 * its waker's core when the two do not share a cache (as this VM's 2 cores report), and the
 * caller then runs its own range there: the two halves would share one core. */
static void keep_off_cpu(int k) {
#ifdef __linux__
    const int me = sched_getcpu();
    if (me < 0) return;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0 || CPU_COUNT(&set) < 2) return;
    CPU_CLR(me, &set);
    for (int h = 0; h < k; h++) pthread_setaffinity_np(helper_thread[h], sizeof set, &set);
#else
    (void)k;
#endif
}

/* parallel_for with nt threads at most. */
static void spread(int n, int min_per_thread, void (*fn)(void *ctx, int lo, int hi), void *ctx, int nt) {
    if (n <= 0) return;
    if (nt > MAX_THREADS) nt = MAX_THREADS;
    if (min_per_thread < 1) min_per_thread = 1;
    if (nt > n / min_per_thread) nt = n / min_per_thread;
    if (nt <= 1 || in_job) {
        fn(ctx, 0, n);
        return;
    }
    pthread_mutex_lock(&call_lock);
    pthread_mutex_lock(&lock);
    while (helpers < nt - 1) {              // start the helpers this call needs, once
        pthread_t t;
        if (pthread_create(&t, NULL, helper_main, (void *)(intptr_t)helpers) != 0) break;
        pthread_detach(t);
        helper_thread[helpers++] = t;
    }
    if (nt > helpers + 1) nt = helpers + 1;
    keep_off_cpu(nt - 1);
    job.fn = fn;
    job.ctx = ctx;
    job.n = n;
    job.nt = nt;
    pending = nt - 1;
    generation++;
    pthread_cond_broadcast(&work_ready);
    pthread_mutex_unlock(&lock);

    in_job = 1;
    run_range(0, nt, n, fn, ctx);
    in_job = 0;

    pthread_mutex_lock(&lock);
    while (pending > 0) pthread_cond_wait(&work_done, &lock);
    pthread_mutex_unlock(&lock);
    pthread_mutex_unlock(&call_lock);
}

void parallel_for(int n, int min_per_thread, void (*fn)(void *ctx, int lo, int hi), void *ctx) {
    spread(n, min_per_thread, fn, ctx, openblas_get_num_threads());
}

void parallel_for_gemm(int n, int min_per_thread, void (*fn)(void *ctx, int lo, int hi), void *ctx) {
    const int nt = openblas_get_num_threads();
    if (nt > 1) openblas_set_num_threads(1);
    spread(n, min_per_thread, fn, ctx, nt);
    if (nt > 1) openblas_set_num_threads(nt);
}
