/* ff_inflate.c -- gunzip a request body with a hard cap on the output.
 *
 * A gzip bomb (10 MiB of zeros that inflate to 10 GiB) must cost no more
 * than the cap: the output buffer comes from the request's arena, starts at
 * a size guessed from the input (x4, at least 16 KiB) and doubles up to
 * max_out + 1 bytes; inflating stops as soon as one byte more than max_out
 * has come out. zlib's own state (about 44 KiB: 7 KiB state + 32 KiB window)
 * comes from ff_malloc, so allocation failures can be injected in tests.
 *
 * Several gzip members back to back are one valid gzip file (RFC 1952 2.2,
 * what `cat a.gz b.gz` makes); anything else after the last member, a bad
 * CRC or length trailer, or an input that ends mid-stream is corrupt.
 */
#include <string.h>
#include <zlib.h>

#include "collect/ff_collect_int.h"
#include "core/ff_mem.h"

static voidpf z_alloc(voidpf opaque, uInt items, uInt size)
{
    (void)opaque;
    return ff_calloc(items, size);
}

static void z_free(voidpf opaque, voidpf p)
{
    (void)opaque;
    ff_free(p);
}

ff_inflate_rc ff_inflate_gzip(const char *in, size_t len, size_t max_out, ff_arena *arena,
                              char **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    if (len < 18 || (unsigned char)in[0] != 0x1f || (unsigned char)in[1] != 0x8b)
        return FF_INFLATE_CORRUPT;
    size_t limit = max_out + 1; /* one byte more tells "too large" */
    size_t cap = len > SIZE_MAX / 4 ? limit : len * 4;
    if (cap < 16384)
        cap = 16384;
    if (cap > limit)
        cap = limit;
    char *buf = ff_arena_alloc(arena, cap);
    if (!buf)
        return FF_INFLATE_NOMEM;

    z_stream zs;
    memset(&zs, 0, sizeof zs);
    zs.zalloc = z_alloc;
    zs.zfree = z_free;
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK)
        return FF_INFLATE_NOMEM;
    ff_inflate_rc rc = FF_INFLATE_OK;
    size_t in_pos = 0, produced = 0;
    for (;;) {
        size_t in_chunk = len - in_pos > (uInt)-1 ? (uInt)-1 : len - in_pos;
        zs.next_in = (Bytef *)(uintptr_t)(in + in_pos);
        zs.avail_in = (uInt)in_chunk;
        if (produced == cap) {
            if (cap == limit) {
                rc = FF_INFLATE_TOO_LARGE;
                break;
            }
            size_t ncap = cap > limit / 2 ? limit : cap * 2;
            char *nb = ff_arena_alloc(arena, ncap);
            if (!nb) {
                rc = FF_INFLATE_NOMEM;
                break;
            }
            memcpy(nb, buf, produced);
            buf = nb;
            cap = ncap;
        }
        size_t room = cap - produced > (uInt)-1 ? (uInt)-1 : cap - produced;
        zs.next_out = (Bytef *)(buf + produced);
        zs.avail_out = (uInt)room;
        int zr = inflate(&zs, Z_NO_FLUSH);
        in_pos += in_chunk - zs.avail_in;
        produced += room - zs.avail_out;
        if (zr == Z_STREAM_END) {
            if (in_pos == len)
                break;
            /* Another member must follow, starting with the gzip magic. */
            if (len - in_pos < 2 || (unsigned char)in[in_pos] != 0x1f ||
                (unsigned char)in[in_pos + 1] != 0x8b) {
                rc = FF_INFLATE_CORRUPT;
                break;
            }
            if (inflateReset(&zs) != Z_OK) {
                rc = FF_INFLATE_CORRUPT;
                break;
            }
            continue;
        }
        if (zr == Z_MEM_ERROR) {
            rc = FF_INFLATE_NOMEM;
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = FF_INFLATE_CORRUPT;
            break;
        }
        if (zs.avail_out != 0 && in_pos == len) {
            rc = FF_INFLATE_CORRUPT; /* input ended before the stream did */
            break;
        }
        if (zr == Z_BUF_ERROR && zs.avail_out != 0) {
            rc = FF_INFLATE_CORRUPT;
            break;
        }
    }
    inflateEnd(&zs);
    if (rc == FF_INFLATE_OK) {
        if (produced > max_out) {
            rc = FF_INFLATE_TOO_LARGE;
        } else {
            *out = buf;
            *out_len = produced;
        }
    }
    return rc;
}
