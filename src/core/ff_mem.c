#include "core/ff_mem.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_long fail_countdown; /* 0 = disarmed */

static int should_fail(void)
{
    if (atomic_load_explicit(&fail_countdown, memory_order_relaxed) == 0)
        return 0;
    return atomic_fetch_sub(&fail_countdown, 1) == 1;
}

void ff_mem_fail_after(long n)
{
    atomic_store(&fail_countdown, n > 0 ? n : 0);
}

void *ff_malloc(size_t n)
{
    return should_fail() ? NULL : malloc(n ? n : 1);
}

void *ff_calloc(size_t count, size_t n)
{
    return should_fail() ? NULL : calloc(count ? count : 1, n ? n : 1);
}

void *ff_realloc(void *p, size_t n)
{
    return should_fail() ? NULL : realloc(p, n ? n : 1);
}

void ff_free(void *p)
{
    free(p);
}

char *ff_strndup(const char *s, size_t n)
{
    char *d = ff_malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

char *ff_strdup(const char *s)
{
    return ff_strndup(s, strlen(s));
}
