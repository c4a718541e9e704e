/* fuzz_collect.c -- arbitrary bytes through the collector's body pipeline.
 *
 * The first byte picks the variant (bit 0: gzip the rest first, bits 1-3:
 * the call: batch or one of the single calls, bit 4: text/plain); the rest
 * is the body. Invariants checked on every input:
 *   - decode returns FF_OK (no input is an internal error),
 *   - status is 0, 400, 413 or 415, with a code when not 0,
 *   - with status 0: n_records + n_rejected + n_duplicates + n_dropped ==
 *     n_events, the payload is exactly n_records length-prefixed records,
 *     each one a JSON object with event_id, ts and event, with no raw IP of
 *     the peer (unless the body itself contains that text), and the
 *     rejected list is valid JSON,
 *   - with status != 0 nothing is stored.
 * Dedupe state is kept across inputs (one collector per process), as in the
 * server, so replays of one input exercise the duplicate paths too.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "collect/ff_collect.h"
#include "core/ff_json.h"

static ff_collect *g_collect;

static void check(int ok)
{
    if (!ok)
        abort();
}

static void check_out(const ff_collect_out *out, bool body_has_peer_ip)
{
    if (out->status != 0) {
        check(out->status == 400 || out->status == 413 || out->status == 415);
        check(out->code && out->code[0]);
        check(out->n_records == 0 && out->payload.len == 0);
        return;
    }
    check(out->n_records + out->n_rejected + out->n_duplicates + out->n_dropped == out->n_events);
    ff_arena a;
    ff_arena_init(&a, 0, 0);
    size_t off = 0;
    uint32_t n = 0;
    while (off < out->payload.len) {
        check(off + 4 <= out->payload.len);
        const unsigned char *p = (const unsigned char *)out->payload.data + off;
        uint32_t len = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        check(off + 4 + len <= out->payload.len);
        ff_json *root = NULL;
        ff_json_error je;
        check(ff_json_parse((const char *)p + 4, len, NULL, &a, &root, &je) == FF_OK);
        check(root->type == FF_JSON_OBJECT);
        check(root->flags == 0);
        const ff_json *id = ff_json_get(root, "event_id");
        check(id && id->type == FF_JSON_STRING && id->len > 0);
        check(ff_json_get(root, "ts") && ff_json_get(root, "ts")->type == FF_JSON_NUMBER);
        check(ff_json_get(root, "event") && ff_json_get(root, "event")->type == FF_JSON_STRING);
        if (!body_has_peer_ip) /* the peer address is never stored in full */
            check(memmem(p + 4, len, "198.51.100.23", 13) == NULL);
        off += 4 + len;
        n++;
        ff_arena_reset(&a);
    }
    check(n == out->n_records);
    ff_json *root = NULL;
    ff_json_error je;
    check(ff_json_parse(out->rejected.data, out->rejected.len, NULL, &a, &root, &je) == FF_OK);
    check(root->type == FF_JSON_ARRAY && root->n_children == out->n_rejected);
    ff_arena_fini(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!g_collect) {
        ff_collect_opts o;
        ff_collect_opts_default(&o);
        o.dedupe_capacity = 4096;
        o.dedupe_wait_ms = 10;
        o.key_cardinality_cap = 512;
        if (ff_collect_new(&o, &g_collect, NULL) != FF_OK)
            abort();
    }
    unsigned mode = data[0];
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    char *z = NULL;
    const char *ce = NULL;
    if (mode & 1) {
        uLong cap = compressBound(len) + 32;
        z = malloc(cap);
        z_stream zs;
        memset(&zs, 0, sizeof zs);
        deflateInit2(&zs, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
        zs.next_in = (Bytef *)(uintptr_t)body;
        zs.avail_in = (uInt)len;
        zs.next_out = (Bytef *)z;
        zs.avail_out = (uInt)cap;
        deflate(&zs, Z_FINISH);
        len = zs.total_out;
        deflateEnd(&zs);
        body = z;
        ce = "gzip";
    }
    ff_collect_call call = (ff_collect_call)(((mode >> 1) & 7) % 7);
    ff_collect_req req = {call,
                          (mode & 16) ? "text/plain" : "application/json",
                          ce,
                          body,
                          len,
                          "198.51.100.23",
                          (mode & 32) ? "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0"
                                      : NULL,
                          1750000000000LL,
                          NULL};
    ff_arena arena;
    ff_arena_init(&arena, 64 * 1024, 256u * 1024 * 1024);
    ff_collect_out out;
    ff_collect_out_init(&out);
    check(ff_collect_decode(g_collect, &req, &arena, &out) == FF_OK);
    check_out(&out, memmem(data, size, "198.51.100.23", 13) != NULL);
    ff_collect_finish(g_collect, &out, (mode & 64) == 0);
    ff_collect_out_fini(g_collect, &out);
    ff_arena_fini(&arena);
    free(z);
    return 0;
}
