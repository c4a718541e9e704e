/* test_arena.c -- the bump allocator: alignment, chunks, the cap, reset, in-place growth. */
#include <stdint.h>
#include <string.h>

#include "core/ff_arena.h"
#include "core/ff_err.h"
#include "ff_test.h"

static void test_alloc_align_cap(void)
{
    ff_arena a;
    ff_arena_init(&a, 1024, 4096);
    char *p = ff_arena_alloc(&a, 1);
    char *q = ff_arena_alloc(&a, 17);
    FF_CHECK(p && q && ((uintptr_t)p % 16) == 0 && ((uintptr_t)q % 16) == 0);
    FF_CHECK(q - p == 16); /* 1 byte rounds up to 16 */
    FF_CHECK(ff_arena_alloc(&a, 5000) == NULL && a.over_cap);
    ff_arena_reset(&a);
    FF_CHECK(ff_arena_alloc(&a, 100) != NULL);
    ff_arena_fini(&a);
}

static void test_grow_in_place(void)
{
    ff_arena a;
    ff_arena_init(&a, 4096, 0);
    /* the last allocation grows in place while the chunk has room, keeping its bytes */
    unsigned char *p = ff_arena_alloc(&a, 100);
    FF_VERIFY(p);
    memset(p, 7, 100);
    FF_CHECK(ff_arena_grow(&a, p, 100, 1000) == p);
    FF_CHECK(p[99] == 7);
    memset(p, 8, 1000);
    unsigned char *n = ff_arena_alloc(&a, 16); /* lands after the grown block */
    FF_CHECK(n == p + 1008);
    /* not the last allocation any more: refused, p untouched */
    FF_CHECK(ff_arena_grow(&a, p, 1000, 2000) == NULL);
    FF_CHECK(p[999] == 8);
    /* the last one, but past the chunk: refused */
    FF_CHECK(ff_arena_grow(&a, n, 16, 5000) == NULL);
    /* grows to exactly the chunk's end */
    size_t room = 4096 - 1008 - 16;
    FF_CHECK(ff_arena_grow(&a, n, 16, 16 + room) == n);
    FF_CHECK(ff_arena_grow(&a, n, 16 + room, 16 + room + 1) == NULL);
    /* a rounded size that equals the old one is a no-op success */
    unsigned char *m = ff_arena_alloc(&a, 10); /* new chunk */
    FF_VERIFY(m);
    FF_CHECK(ff_arena_grow(&a, m, 10, 16) == m);
    FF_CHECK(ff_arena_alloc(&a, 1) == m + 16);
    FF_CHECK(ff_arena_grow(&a, NULL, 0, 16) == NULL);
    ff_arena_fini(&a);
}

static void test_chunk_cache(void)
{
    ff_arena_cache_drop();
    ff_arena a;
    ff_arena_init(&a, 1 << 20, 0);
    unsigned char *p = ff_arena_alloc(&a, 1000);
    FF_VERIFY(p);
    p[0] = 42;
    FF_CHECK_EQ(ff_arena_cache_bytes(), 0);
    ff_arena_fini(&a); /* the 1 MB chunk goes to the cache */
    FF_CHECK_EQ(ff_arena_cache_bytes(), 1 << 20);
    ff_arena_init(&a, 1 << 20, 0);
    unsigned char *q = ff_arena_alloc(&a, 10);
    FF_CHECK(q == p); /* the same chunk came back */
    FF_CHECK_EQ(ff_arena_cache_bytes(), 0);
    /* a one-off request up to 1/4 smaller than a cached chunk may take it; far smaller not */
    unsigned char *big = ff_arena_alloc(&a, 3 << 20);
    FF_VERIFY(big);
    ff_arena_fini(&a);
    FF_CHECK_EQ(ff_arena_cache_bytes(), (1 << 20) + (3 << 20));
    ff_arena_init(&a, 64 << 10, 0); /* small chunks are never cached */
    FF_VERIFY(ff_arena_alloc(&a, 10));
    FF_CHECK(ff_arena_alloc(&a, (size_t)5 << 19) == big); /* 2.5 MB fits the 3 MB chunk */
    FF_CHECK_EQ(ff_arena_cache_bytes(), 1 << 20);
    ff_arena_fini(&a);
    FF_CHECK_EQ(ff_arena_cache_bytes(), (1 << 20) + (3 << 20));
    /* the cache is bounded */
    ff_arena_init(&a, 64 << 20, 0);
    for (size_t i = 0; i < FF_ARENA_CACHE_BYTES / ((size_t)60 << 20) + 2; i++)
        FF_VERIFY(ff_arena_alloc(&a, (size_t)60 << 20));
    ff_arena_fini(&a);
    FF_CHECK(ff_arena_cache_bytes() <= FF_ARENA_CACHE_BYTES);
    ff_arena_cache_drop();
    FF_CHECK_EQ(ff_arena_cache_bytes(), 0);
}

int main(void)
{
    FF_RUN(test_alloc_align_cap);
    FF_RUN(test_grow_in_place);
    FF_RUN(test_chunk_cache);
    FF_DONE();
}
