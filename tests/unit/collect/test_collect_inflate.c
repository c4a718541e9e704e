/* test_collect_inflate.c -- gunzip: ok, multi-member, bomb capped with bounded
 * memory, truncated, corrupt, trailing garbage, allocation failure. */
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "collect/ff_collect_int.h"
#include "core/ff_mem.h"
#include "ff_test.h"

static char *gz(const char *in, size_t len, size_t *out_len)
{
    uLong cap = compressBound(len) + 64;
    char *out = malloc(cap);
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 9, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY);
    zs.next_in = (Bytef *)(uintptr_t)in;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap;
    deflate(&zs, Z_FINISH);
    *out_len = zs.total_out;
    deflateEnd(&zs);
    return out;
}

static void test_ok(void)
{
    ff_arena a;
    ff_arena_init(&a, 0, 0);
    const char *msg = "{\"batch\":[{\"type\":\"track\"}]}";
    size_t zl;
    char *z = gz(msg, strlen(msg), &zl);
    char *out;
    size_t ol;
    FF_CHECK_EQ(ff_inflate_gzip(z, zl, 1 << 20, &a, &out, &ol), FF_INFLATE_OK);
    FF_CHECK_EQ(ol, strlen(msg));
    FF_CHECK(memcmp(out, msg, ol) == 0);
    /* exactly at the cap is fine, one byte less is too large */
    FF_CHECK_EQ(ff_inflate_gzip(z, zl, strlen(msg), &a, &out, &ol), FF_INFLATE_OK);
    FF_CHECK_EQ(ff_inflate_gzip(z, zl, strlen(msg) - 1, &a, &out, &ol), FF_INFLATE_TOO_LARGE);
    /* two members back to back */
    char *two = malloc(2 * zl);
    memcpy(two, z, zl);
    memcpy(two + zl, z, zl);
    FF_CHECK_EQ(ff_inflate_gzip(two, 2 * zl, 1 << 20, &a, &out, &ol), FF_INFLATE_OK);
    FF_CHECK_EQ(ol, 2 * strlen(msg));
    /* trailing garbage */
    two[zl] = 'x';
    FF_CHECK_EQ(ff_inflate_gzip(two, zl + 3, 1 << 20, &a, &out, &ol), FF_INFLATE_CORRUPT);
    free(two);
    /* truncated at every length */
    for (size_t cut = 0; cut < zl; cut++)
        FF_CHECK_EQ(ff_inflate_gzip(z, cut, 1 << 20, &a, &out, &ol), FF_INFLATE_CORRUPT);
    /* a flipped byte in the data or the CRC */
    z[zl - 6] ^= 0x55;
    FF_CHECK_EQ(ff_inflate_gzip(z, zl, 1 << 20, &a, &out, &ol), FF_INFLATE_CORRUPT);
    /* not gzip */
    FF_CHECK_EQ(ff_inflate_gzip(msg, strlen(msg), 1 << 20, &a, &out, &ol), FF_INFLATE_CORRUPT);
    free(z);
    /* an empty payload */
    z = gz("", 0, &zl);
    FF_CHECK_EQ(ff_inflate_gzip(z, zl, 1 << 20, &a, &out, &ol), FF_INFLATE_OK);
    FF_CHECK_EQ(ol, 0);
    free(z);
    ff_arena_fini(&a);
}

static void test_bomb(void)
{
    /* 256 MiB of zeros: about 250 KB of gzip */
    size_t big = 256u * 1024 * 1024;
    char *src = calloc(1, big);
    size_t zl;
    char *z = gz(src, big, &zl);
    free(src);
    FF_CHECK(zl < 512 * 1024);
    ff_arena a;
    ff_arena_init(&a, 0, 0);
    char *out;
    size_t ol;
    FF_CHECK_EQ(ff_inflate_gzip(z, zl, 1 << 20, &a, &out, &ol), FF_INFLATE_TOO_LARGE);
    FF_CHECK(a.used_bytes <= 2u * (1 << 20) + 64 * 1024 + zl * 4); /* the buffers, nothing more */
    ff_arena_fini(&a);
    /* an arena cap below the output also stops it */
    ff_arena_init(&a, 4096, 64 * 1024);
    FF_CHECK_EQ(ff_inflate_gzip(z, zl, 1 << 20, &a, &out, &ol), FF_INFLATE_NOMEM);
    FF_CHECK(a.over_cap);
    ff_arena_fini(&a);
    free(z);
}

static void test_alloc_failure(void)
{
    const char *msg = "{\"a\":1}";
    size_t zl;
    char *z = gz(msg, strlen(msg), &zl);
    int failed = 0;
    for (long n = 1; n <= 6; n++) {
        ff_arena a;
        ff_arena_init(&a, 0, 0);
        char *out;
        size_t ol;
        ff_mem_fail_after(n);
        ff_inflate_rc rc = ff_inflate_gzip(z, zl, 1 << 20, &a, &out, &ol);
        ff_mem_fail_after(0);
        FF_CHECK(rc == FF_INFLATE_OK || rc == FF_INFLATE_NOMEM);
        failed += rc == FF_INFLATE_NOMEM;
        ff_arena_fini(&a);
    }
    FF_CHECK(failed >= 1);
    free(z);
}

int main(void)
{
    FF_RUN(test_ok);
    FF_RUN(test_bomb);
    FF_RUN(test_alloc_failure);
    FF_DONE();
}
