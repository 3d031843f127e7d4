/* util — see util.h. */
#include "sim/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifndef ALSIM_GIT_REV
#define ALSIM_GIT_REV "unknown"
#endif

double util_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int util_mkdir_p(const char *path, char *err, size_t errlen) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; ; p++) {
        if (*p == '/' || *p == 0) {
            char c = *p;
            *p = 0;
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                snprintf(err, errlen, "%s: cannot create the output folder: %s", buf, strerror(errno));
                return ALSIM_RUNTIME;
            }
            *p = c;
            if (!c) break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: not a folder", path);
        return ALSIM_RUNTIME;
    }
    return ALSIM_OK;
}

int util_read_file(char **text, size_t *len, const char *path, char *err, size_t errlen) {
    *text = NULL;
    if (len) *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
        errno = e;
        return ALSIM_BAD_INPUT;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += got;
        if (n + 1 == cap) {
            char *bigger = cap <= SIZE_MAX / 2 ? realloc(buf, cap *= 2) : NULL;
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    int bad = ferror(f), e = errno;
    fclose(f);
    if (!buf) {
        snprintf(err, errlen, "%s: out of memory reading it", path);
        return ALSIM_RUNTIME;
    }
    if (bad) {
        free(buf);
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
        errno = e;
        return ALSIM_BAD_INPUT;
    }
    buf[n] = 0;
    *text = buf;
    if (len) *len = n;
    return ALSIM_OK;
}

FILE *util_open_atomic(char *tmp, const char *path, char *err, size_t errlen) {
    snprintf(tmp, 4200, "%s.tmp-%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) snprintf(err, errlen, "%s: cannot write: %s", tmp, strerror(errno));
    return f;
}

int util_commit_atomic(FILE *f, int ok, const char *tmp, const char *path, char *err, size_t errlen) {
    ok = ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (fclose(f) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, errno ? strerror(errno) : "write failed");
        unlink(tmp);
        return ALSIM_RUNTIME;
    }
    return ALSIM_OK;
}

const char *util_git_revision(void) { return ALSIM_GIT_REV; }

DIR *util_read_dir(int fd, const char *path, char *err, size_t errlen) {
    int dup_fd = dup(fd);
    DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
    if (!d) {
        snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
        if (dup_fd >= 0) close(dup_fd);
    }
    return d;
}
