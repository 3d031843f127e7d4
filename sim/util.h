/* util — small helpers every module shares, each written once: the exit statuses, the clock,
 * the FNV-1a hash, mkdir -p, whole-file reads, files that appear whole or not at all, and the
 * source revision alsim was built from. */
#ifndef ALSIM_UTIL_H
#define ALSIM_UTIL_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* What every fallible function returns and what alsim exits with (DESIGN.md §5). A function
 * that fails writes one line naming the file, line and reason into its err buffer. */
typedef enum {
    ALSIM_OK = 0,
    ALSIM_REGRESSION = 1,   /* check: a strategy got worse than the baseline */
    ALSIM_BAD_INPUT = 2,    /* usage, a malformed file, an impossible configuration */
    ALSIM_RUNTIME = 3,      /* no device, out of memory, cannot write, diverged */
    ALSIM_SIGNALLED = 128,  /* + the signal's number: stopped by SIGINT (130) or SIGTERM (143) */
} AlsimStatus;

/* Seconds on the monotonic clock, for durations. */
double util_seconds(void);

/* FNV-1a, 64-bit, of n bytes at p continuing from h (start with UTIL_FNV_START). */
#define UTIL_FNV_START 0xcbf29ce484222325ull
static inline uint64_t util_fnv1a(uint64_t h, const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ull;   /* the FNV 64-bit prime */
    return h;
}

/* mkdir -p path: creates it and any missing parents. ALSIM_OK, or ALSIM_RUNTIME with the
 * folder that could not be made and why in err (also when path exists but is no folder). */
int util_mkdir_p(const char *path, char *err, size_t errlen);

/* The whole of the file at path in *text (malloc'd, NUL-terminated after *len bytes; len may
 * be NULL). ALSIM_OK; ALSIM_BAD_INPUT "PATH: cannot read: reason" (errno is left as the
 * failing call set it, so ENOENT tells a missing file); ALSIM_RUNTIME out of memory. */
int util_read_file(char **text, size_t *len, const char *path, char *err, size_t errlen);

/* A stream over the entries of the open folder fd, on a duplicate of fd (fd stays open and
 * is the caller's), for closedir. NULL with "PATH: cannot read: reason" in err. */
DIR *util_read_dir(int fd, const char *path, char *err, size_t errlen);

/* Files that appear whole or not at all: util_open_atomic opens a temporary beside path
 * (tmp, 4200 bytes, receives its name); util_commit_atomic flushes, fsyncs and closes it and
 * renames it over path; on a failure (ok == 0, or any of those steps) it removes the
 * temporary. NULL / ALSIM_RUNTIME with "PATH: cannot write: reason" in err. */
FILE *util_open_atomic(char *tmp, const char *path, char *err, size_t errlen);
int util_commit_atomic(FILE *f, int ok, const char *tmp, const char *path, char *err, size_t errlen);

/* The source revision alsim was built from ("unknown" outside a git checkout; "-dirty" when
 * it had uncommitted changes), for config.json, baselines and policy files. */
const char *util_git_revision(void);

#endif
