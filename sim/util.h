/* util — small helpers every module shares, each written once: the clock, the FNV-1a hash.
 * (Atomic files live in jsonw.h, mkdir -p in results.h.) */
#ifndef ALSIM_UTIL_H
#define ALSIM_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Seconds on the monotonic clock, for durations. */
double util_seconds(void);

/* FNV-1a, 64-bit, of n bytes at p continuing from h (start with UTIL_FNV_START). */
#define UTIL_FNV_START 0xcbf29ce484222325ull
uint64_t util_fnv1a(uint64_t h, const void *p, size_t n);

#endif
