/* check.h — the test header. Each test is a program whose exit status is the verdict.
 *
 *   CHECK(cond, fmt, ...)        record a failure (with file:line and the message) unless cond
 *   CHECK_NEAR(got, want, atol, rtol)   |got - want| <= atol + rtol·|want|
 *   return check_done("name");   prints "name: N passed, M failed", returns the exit status
 */
#ifndef ALSIM_CHECK_H
#define ALSIM_CHECK_H

#include <math.h>
#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(cond, ...) do {                                              \
        if (cond) check_passed++;                                          \
        else {                                                             \
            check_failed++;                                                \
            fprintf(stderr, "%s:%d: FAIL: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
        }                                                                  \
    } while (0)

#define CHECK_NEAR(got, want, atol, rtol) do {                             \
        double g_ = (got), w_ = (want);                                    \
        CHECK(fabs(g_ - w_) <= (atol) + (rtol) * fabs(w_),                 \
              "%s = %.17g, want %.17g", #got, g_, w_);                     \
    } while (0)

static inline int check_done(const char *name) {
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
