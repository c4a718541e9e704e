/* fuzz_import.c -- fuzz the import line converters (collect/ff_import.c) and the collector's
 * backfill mode behind them.
 *
 * The first byte picks the format/map (ndjson, segment, taobao, apache); the rest is one line.
 * For every input:
 *  - a rejected line names a reason and a detail and appends nothing; a skipped line appends
 *    nothing;
 *  - otherwise the output is n_events messages each followed by ',', the same bytes when
 *    converted again (ids are deterministic), and {"batch":[...]} of them parses as strict
 *    JSON with exactly n_events items;
 *  - that batch, decoded by the collector with a backfill (the map's aliases and the line's),
 *    is accepted as a request (status 0) and accounts for every event:
 *    records + rejected + duplicates + dropped == n_events.
 * Any violation aborts, which libFuzzer and the replay driver report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/ff_collect.h"
#include "collect/ff_import.h"
#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_import: " __VA_ARGS__);                                              \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

static ff_collect *collector(void)
{
    static ff_collect *c;
    if (!c) {
        ff_collect_opts o;
        ff_collect_opts_default(&o);
        o.dedupe_capacity = 1000;
        o.max_body_bytes = 4u << 20;
        o.max_batch_bytes = 4u << 20;
        o.max_batch_events = 100000;
        if (ff_collect_new(&o, &c, NULL) != FF_OK)
            abort();
    }
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const struct {
        ff_import_format f;
        const char *map;
    } modes[] = {{FF_IMPORT_NDJSON, NULL},
                 {FF_IMPORT_SEGMENT, NULL},
                 {FF_IMPORT_CSV, "taobao"},
                 {FF_IMPORT_CSV, "apache"}};
    const ff_import_format f = modes[data[0] % 4].f;
    const ff_import_map *map = ff_import_map_find(modes[data[0] % 4].map);
    const char *line = (const char *)data + 1;
    size_t len = size - 1;

    ff_arena a;
    ff_arena_init(&a, 0, 0);
    ff_buf out, again;
    ff_buf_init(&out, 0);
    ff_buf_init(&again, 0);
    ff_buf_adds(&out, "{\"batch\":[");
    ff_buf_adds(&again, "{\"batch\":[");
    ff_import_line_out r, r2;
    if (ff_import_line(f, map, line, len, 42, &a, &out, &r) != FF_OK)
        FAIL("converter failed without a memory cap");
    if (ff_import_line(f, map, line, len, 42, &a, &again, &r2) != FF_OK)
        FAIL("converter failed the second time");
    if (out.len != again.len || memcmp(out.data, again.data, out.len) != 0 ||
        r.n_events != r2.n_events || (r.reason == NULL) != (r2.reason == NULL))
        FAIL("not deterministic");
    if (r.reason) {
        if (!r.detail[0] || r.n_events || out.len != 10)
            FAIL("rejected line (%s) appended output or has no detail", r.reason);
        goto done;
    }
    if (r.n_events == 0) {
        if (!r.skipped || out.len != 10)
            FAIL("no events, not skipped, or output appended");
        goto done;
    }
    if (out.data[out.len - 1] != ',')
        FAIL("messages do not end with ','");
    out.data[out.len - 1] = ']';
    ff_buf_addc(&out, '}');
    ff_json *root = NULL;
    ff_json_error jerr;
    if (ff_json_parse(out.data, out.len, NULL, &a, &root, &jerr) != FF_OK)
        FAIL("output is not JSON: %s: %.*s", jerr.msg, (int)(out.len > 400 ? 400 : out.len),
             out.data);
    const ff_json *b = ff_json_get(root, "batch");
    if (!b || b->type != FF_JSON_ARRAY || b->n_children != r.n_events)
        FAIL("batch has %u items, n_events %u", b ? b->n_children : 0, r.n_events);

    ff_collect_alias al[8];
    size_t n_al = 0;
    for (size_t i = 0; map && i < map->n_aliases; i++)
        al[n_al++] = map->aliases[i];
    if (r.alias.from_len)
        al[n_al++] = r.alias;
    ff_collect_backfill bf = {al, n_al};
    ff_collect_req req = {FF_CALL_BATCH, "application/json", NULL, out.data, out.len, NULL,
                          NULL,          1750000000000LL,    &bf};
    ff_arena da;
    ff_arena_init(&da, 0, 0);
    ff_collect *c = collector();
    ff_collect_out o;
    ff_collect_out_init(&o);
    if (ff_collect_decode(c, &req, &da, &o) != FF_OK)
        FAIL("decode failed");
    if (o.status != 0)
        FAIL("the collector refused the batch: %d %s (%s)", o.status, o.code, o.message);
    if (o.n_events != r.n_events ||
        o.n_records + o.n_rejected + o.n_duplicates + o.n_dropped != o.n_events)
        FAIL("events not accounted for");
    ff_collect_finish(c, &o, false); /* release ids: the next input starts clean */
    ff_collect_out_fini(c, &o);
    ff_arena_fini(&da);
done:
    ff_buf_fini(&out);
    ff_buf_fini(&again);
    ff_arena_fini(&a);
    return 0;
}
