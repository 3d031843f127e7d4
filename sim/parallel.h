/* parallel — spreads independent work over the cores, for the CPU hot paths that are not a
 * gemm: the CPU backend's fused MC head and the strategies' per-row MC scores.
 *
 * As many threads as OpenBLAS uses (OPENBLAS_NUM_THREADS, else one per core), so a process
 * never takes more cores than its gemms do: run_all.sh -j gives each process one. Each index
 * is handled by exactly one call of fn, so results never depend on the thread count.
 */
#ifndef ALSIM_PARALLEL_H
#define ALSIM_PARALLEL_H

/* Calls fn(ctx, lo, hi) on contiguous ranges that cover [0, n) once, one range per thread
 * (the calling thread runs the first), with at least min_per_thread indices per thread (so a
 * small n runs on the calling thread alone), and returns when all are done. Threads come
 * from a pool started on first use (parallel.c); with fewer of them (one cannot start), or
 * from inside fn, the ranges are fewer or it runs on the calling thread. n <= 0 does nothing. */
void parallel_for(int n, int min_per_thread, void (*fn)(void *ctx, int lo, int hi), void *ctx);

/* parallel_for for an fn that calls OpenBLAS: as many threads as parallel_for would use, and
 * OpenBLAS on one thread until every range is done (then its count restored), so each gemm
 * inside fn runs whole on the thread that calls it, rounded the same whatever the count, and
 * the threads do not queue for OpenBLAS's own pool. */
void parallel_for_gemm(int n, int min_per_thread, void (*fn)(void *ctx, int lo, int hi), void *ctx);

#endif
