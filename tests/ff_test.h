/* ff_test.h -- a tiny test harness (after libuv's task.h).
 *
 * Each test program defines test functions, lists them in main with
 * FF_RUN(fn), and ends with FF_DONE(). Checks print file:line and the values
 * on failure and let the test continue; the program exits non-zero when any
 * check failed.
 */
#ifndef FF_TEST_H
#define FF_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ff_test_failures;
static int ff_test_checks;

#define FF_CHECK(cond)                                                                             \
    do {                                                                                           \
        ff_test_checks++;                                                                          \
        if (!(cond)) {                                                                             \
            ff_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

#define FF_CHECK_EQ(a, b)                                                                          \
    do {                                                                                           \
        long long ff_a_ = (long long)(a), ff_b_ = (long long)(b);                                  \
        ff_test_checks++;                                                                          \
        if (ff_a_ != ff_b_) {                                                                      \
            ff_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__, __LINE__, #a, #b,  \
                    ff_a_, ff_b_);                                                                 \
        }                                                                                          \
    } while (0)

#define FF_CHECK_STR(a, b)                                                                         \
    do {                                                                                           \
        const char *ff_a_ = (a), *ff_b_ = (b);                                                     \
        ff_test_checks++;                                                                          \
        if (!ff_a_ || !ff_b_ || strcmp(ff_a_, ff_b_) != 0) {                                       \
            ff_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__, __LINE__, #a,  \
                    #b, ff_a_ ? ff_a_ : "(null)", ff_b_ ? ff_b_ : "(null)");                       \
        }                                                                                          \
    } while (0)

#define FF_RUN(fn)                                                                                 \
    do {                                                                                           \
        int ff_before_ = ff_test_failures;                                                         \
        fn();                                                                                      \
        fprintf(stderr, "%s %s\n", ff_test_failures == ff_before_ ? "ok  " : "FAIL", #fn);         \
    } while (0)

#define FF_DONE()                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "%d checks, %d failed\n", ff_test_checks, ff_test_failures);               \
        return ff_test_failures ? 1 : 0;                                                           \
    } while (0)

#endif /* FF_TEST_H */
