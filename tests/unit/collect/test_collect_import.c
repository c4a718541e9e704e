/* test_collect_import.c -- file lines -> Segment messages (ff_import.c) and the collector's
 * backfill mode: exact output per format and map, deterministic ids, rejections with reason
 * codes and nothing appended, and the records the collector makes of converted lines
 * (historical times kept, aliases, bots, privacy). */
#include <stdlib.h>
#include <string.h>

#include "collect/ff_collect.h"
#include "collect/ff_import.h"
#include "core/ff_json.h"
#include "ff_test.h"

#define RCV 1750000000000LL /* 2025-06-15 */

typedef struct conv {
    ff_arena arena;
    ff_buf out;
    ff_import_line_out res;
    ff_rc rc;
} conv;

/* Convert one line into c->out (reset first); out is NUL-terminated text. */
static const char *cv(conv *c, ff_import_format f, const char *map, const char *line,
                      uint64_t line_no)
{
    ff_buf_reset(&c->out);
    ff_arena_reset(&c->arena);
    c->rc = ff_import_line(f, ff_import_map_find(map), line, strlen(line), line_no, &c->arena,
                           &c->out, &c->res);
    ff_buf_addc(&c->out, '\0');
    c->out.len--;
    return c->out.data;
}

static void conv_init(conv *c)
{
    memset(c, 0, sizeof *c);
    ff_arena_init(&c->arena, 0, 0);
    ff_buf_init(&c->out, 0);
}

static void conv_fini(conv *c)
{
    ff_arena_fini(&c->arena);
    ff_buf_fini(&c->out);
}

static void test_ndjson_exact(void)
{
    conv c;
    conv_init(&c);
    const char *o = cv(&c, FF_IMPORT_NDJSON, NULL,
                       "{\"event_id\":\"e1\",\"ts\":1709287200000,\"event\":\"order_completed\","
                       "\"user_id\":\"u1\",\"order_id\":\"o1\",\"revenue\":\"42.50\",\"currency\":"
                       "\"EUR\",\"quantity\":2,\"country\":\"DE\",\"ip\":\"203.0.113.9\","
                       "\"properties\":{\"coupon\":\"X\",\"order_id\":\"dup\"}}",
                       1);
    FF_CHECK_EQ(c.rc, FF_OK);
    FF_CHECK(c.res.reason == NULL);
    FF_CHECK_EQ(c.res.n_events, 1);
    FF_CHECK_STR(o, "{\"type\":\"track\",\"messageId\":\"e1\",\"event\":\"order_completed\","
                    "\"timestamp\":\"2024-03-01T10:00:00.000Z\",\"userId\":\"u1\",\"properties\":{"
                    "\"quantity\":2,\"order_id\":\"o1\",\"revenue\":\"42.50\",\"currency\":\"EUR\","
                    "\"coupon\":\"X\"},\"context\":{\"ip\":\"203.0.113.9\",\"location\":{"
                    "\"country\":\"DE\"}}},");
    /* every message is valid JSON once the trailing comma is dropped */
    ff_json *root = NULL;
    FF_CHECK_EQ(ff_json_parse(o, strlen(o) - 1, NULL, &c.arena, &root, NULL), FF_OK);

    /* log dump keys are accepted and ignored; page type and RFC 3339 ts pass through */
    o = cv(&c, FF_IMPORT_NDJSON, NULL,
           "{\"v\":1,\"event_id\":\"p\",\"type\":\"page\",\"event\":\"page_viewed\",\"ts\":"
           "\"2001-01-01T00:00:00Z\",\"received_at\":1,\"anonymous_id\":\"a\",\"url\":\"/x\","
           "\"flags\":[\"f\"]}",
           2);
    FF_CHECK_STR(o, "{\"type\":\"page\",\"messageId\":\"p\",\"event\":\"page_viewed\","
                    "\"timestamp\":\"2001-01-01T00:00:00.000Z\",\"anonymousId\":\"a\","
                    "\"properties\":{\"url\":\"/x\"}},");
    conv_fini(&c);
}

static void test_ids(void)
{
    char a[37], b[37], d[37], e[37];
    ff_import_event_id("taobao", "1,2,3,pv,4", 10, 7, 0, a);
    ff_import_event_id("taobao", "1,2,3,pv,4", 10, 7, 0, b);
    ff_import_event_id("taobao", "1,2,3,pv,4", 10, 8, 0, d);
    ff_import_event_id("ndjson", "1,2,3,pv,4", 10, 7, 0, e);
    FF_CHECK_STR(a, b);
    FF_CHECK(strcmp(a, d) != 0); /* the same text on another line is another event */
    FF_CHECK(strcmp(a, e) != 0);
    FF_CHECK_EQ(strlen(a), 36);
    FF_CHECK(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    FF_CHECK(a[14] == '8');                                                 /* version 8 */
    FF_CHECK(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b'); /* variant */

    conv c;
    conv_init(&c);
    /* a line without event_id gets the derived id */
    char *o1 = strdup(cv(&c, FF_IMPORT_NDJSON, NULL, "{\"event\":\"x\",\"user_id\":\"u\"}", 3));
    const char *o2 = cv(&c, FF_IMPORT_NDJSON, NULL, "{\"event\":\"x\",\"user_id\":\"u\"}", 3);
    FF_CHECK_STR(o1, o2);
    char want[37];
    const char *l3 = "{\"event\":\"x\",\"user_id\":\"u\"}";
    ff_import_event_id("ndjson", l3, strlen(l3), 3, 0, want);
    FF_CHECK(strstr(o1, want) != NULL);
    free(o1);
    conv_fini(&c);
}

static void test_rejects(void)
{
    conv c;
    conv_init(&c);
    static const struct {
        ff_import_format f;
        const char *map, *line, *reason;
    } cases[] = {
        {FF_IMPORT_NDJSON, NULL, "{\"event\":", "invalid_json"},
        {FF_IMPORT_NDJSON, NULL, "[1]", "invalid_event"},
        {FF_IMPORT_NDJSON, NULL, "{\"event\":\"x\",\"colour\":1}", "invalid_event"},
        {FF_IMPORT_NDJSON, NULL, "{\"event\":\"x\",\"ts\":\"yesterday\"}", "invalid_event"},
        {FF_IMPORT_NDJSON, NULL, "{\"event\":\"x\",\"properties\":[]}", "invalid_type:properties"},
        {FF_IMPORT_NDJSON, NULL, "{\"event\":\"\xff\"}", "invalid_utf8"},
        {FF_IMPORT_SEGMENT, NULL, "{\"batch\":{}}", "invalid_event"},
        {FF_IMPORT_SEGMENT, NULL, "\"s\"", "invalid_event"},
        {FF_IMPORT_CSV, "taobao", "1,2,3,pv", "invalid_event"},
        {FF_IMPORT_CSV, "taobao", "1,2,3,pv,4,5", "invalid_event"},
        {FF_IMPORT_CSV, "taobao", "1,2,3,look,4", "invalid_event"},
        {FF_IMPORT_CSV, "taobao", "a,2,3,pv,4", "invalid_event"},
        {FF_IMPORT_CSV, "apache", "hello world", "invalid_event"},
        {FF_IMPORT_CSV, "apache",
         "1.2.3.4 - - [17/Foo/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 200 1", "invalid_event"},
        {FF_IMPORT_CSV, "apache",
         "1.2.3.4 - - [17/May/2015:10:05:03 +0000] \"GET / HTTP/1.1\" 2x0 1", "invalid_event"},
        {FF_IMPORT_CSV, NULL, "1,2", "invalid_event"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ff_buf_reset(&c.out);
        ff_buf_adds(&c.out, "KEEP");
        ff_import_line_out r;
        ff_rc rc = ff_import_line(cases[i].f, ff_import_map_find(cases[i].map), cases[i].line,
                                  strlen(cases[i].line), 1, &c.arena, &c.out, &r);
        FF_CHECK_EQ(rc, FF_OK);
        FF_CHECK_STR(r.reason, cases[i].reason);
        FF_CHECK(r.detail[0] != '\0');
        FF_CHECK_EQ(r.n_events, 0);
        FF_CHECK_EQ(c.out.len, 4); /* INVARIANT (1): nothing appended */
        if (!r.reason || strcmp(r.reason, cases[i].reason))
            fprintf(stderr, "  case %zu: %s\n", i, cases[i].line);
    }
    /* blank lines are skipped, not rejected */
    cv(&c, FF_IMPORT_NDJSON, NULL, "  \r", 1);
    FF_CHECK(c.res.skipped && !c.res.reason && c.out.len == 0);
    conv_fini(&c);
}

static void test_taobao_apache(void)
{
    conv c;
    conv_init(&c);
    const char *o = cv(&c, FF_IMPORT_CSV, "taobao", "543462,1715,1464116,fav,1511658000\r", 1);
    char id[37];
    ff_import_event_id("taobao", "543462,1715,1464116,fav,1511658000", 34, 1, 0, id);
    char want[512];
    snprintf(want, sizeof want,
             "{\"type\":\"track\",\"messageId\":\"%s\",\"event\":\"fav\",\"userId\":\"543462\","
             "\"timestamp\":\"2017-11-26T01:00:00.000Z\",\"properties\":{\"product_id\":\"1715\","
             "\"category\":\"1464116\"}},",
             id);
    FF_CHECK_STR(o, want);
    const ff_import_map *tb = ff_import_map_find("taobao");
    FF_CHECK(tb && tb->format == FF_IMPORT_CSV && tb->n_aliases == 4);
    /* the same mapping as ff_row_from_taobao (store/ff_schema.c) */
    static const char *const names[][2] = {{"pv", "product_viewed"},
                                           {"cart", "product_added"},
                                           {"fav", "product_added_to_wishlist"},
                                           {"buy", "order_completed"}};
    for (size_t i = 0; tb && i < 4; i++) {
        FF_CHECK_STR(tb->aliases[i].from, names[i][0]);
        FF_CHECK_STR(tb->aliases[i].to, names[i][1]);
    }

    o = cv(&c, FF_IMPORT_CSV, "apache",
           "83.149.9.216 - - [17/May/2015:10:05:03 +0200] \"GET /a/b.png?x=\\\"1 HTTP/1.1\" 200 "
           "0203 \"http://r.example/\" \"Mozilla/5.0 (X11; Linux x86_64) Firefox/30.0\"",
           5);
    FF_CHECK(c.res.n_events == 1 && !c.res.reason);
    FF_CHECK(strstr(o, "\"type\":\"page\"") != NULL);
    FF_CHECK(strstr(o, "\"timestamp\":\"2015-05-17T08:05:03.000Z\"") != NULL); /* +0200 */
    FF_CHECK(strstr(o, "\"url\":\"/a/b.png?x=\\\\\\\"1\"") != NULL);
    FF_CHECK(strstr(o, "\"referrer\":\"http://r.example/\"") != NULL);
    FF_CHECK(strstr(o, "\"status\":200,\"bytes\":203") != NULL);
    FF_CHECK(strstr(o, "\"ip\":\"83.149.9.216\"") != NULL);
    FF_CHECK(strstr(o, "\"anonymousId\":\"apache-") != NULL);
    /* the cut line of the data set: user agent without its closing quote */
    o = cv(&c, FF_IMPORT_CSV, "apache",
           "46.118.127.106 - - [20/May/2015:12:05:17 +0000] \"GET /x HTTP/1.1\" 200 235 \"-\" "
           "\"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html",
           8899);
    FF_CHECK(c.res.n_events == 1 && !c.res.reason);
    FF_CHECK(strstr(o, "Googlebot/2.1; +http://www.google.com/bot.html\"}}") != NULL);
    FF_CHECK(strstr(o, "referrer") == NULL);
    char msg[200];
    FF_CHECK(ff_import_wrong_input(ff_import_map_find("apache"), "line_no,client_ip", 17, msg,
                                   sizeof msg));
    FF_CHECK(!ff_import_wrong_input(ff_import_map_find("taobao"), "line_no,client_ip", 17, msg,
                                    sizeof msg));
    conv_fini(&c);
}

static void test_segment(void)
{
    conv c;
    conv_init(&c);
    const char *o =
        cv(&c, FF_IMPORT_SEGMENT, NULL,
           "{\"batch\":[{\"type\":\"track\",\"event\":\"a\",\"userId\":\"u\"},{},"
           "{\"messageId\":\"m\",\"type\":\"page\",\"userId\":\"u\"}],\"writeKey\":\"k\"}",
           4);
    FF_CHECK_EQ(c.res.n_events, 3);
    char id0[37], id1[37];
    const char *line =
        "{\"batch\":[{\"type\":\"track\",\"event\":\"a\",\"userId\":\"u\"},{},"
        "{\"messageId\":\"m\",\"type\":\"page\",\"userId\":\"u\"}],\"writeKey\":\"k\"}";
    ff_import_event_id("segment", line, strlen(line), 4, 0, id0);
    ff_import_event_id("segment", line, strlen(line), 4, 1, id1);
    char want[600];
    snprintf(want, sizeof want,
             "{\"messageId\":\"%s\",\"type\":\"track\",\"event\":\"a\",\"userId\":\"u\"},"
             "{\"messageId\":\"%s\"},{\"messageId\":\"m\",\"type\":\"page\",\"userId\":\"u\"},",
             id0, id1);
    FF_CHECK_STR(o, want);
    conv_fini(&c);
}

/* ---- through the collector ---------------------------------------------------------------- */

static ff_collect *mk(bool keep_bots)
{
    ff_collect_opts o;
    ff_collect_opts_default(&o);
    o.dedupe_capacity = 10000;
    o.keep_bots = keep_bots;
    ff_collect *c = NULL;
    if (ff_collect_new(&o, &c, NULL) != FF_OK)
        abort();
    return c;
}

/* Decode the converted lines as one batch; returns the payload's records joined by '\n'. */
static char *decode(ff_collect *col, ff_import_format f, const char *map, const char *const *lines,
                    size_t n, bool backfill, ff_collect_out *out)
{
    conv c;
    conv_init(&c);
    ff_buf body;
    ff_buf_init(&body, 0);
    ff_buf_adds(&body, "{\"batch\":[");
    ff_collect_alias al[8];
    size_t n_al = 0;
    const ff_import_map *m = ff_import_map_find(map);
    for (size_t i = 0; m && i < m->n_aliases; i++)
        al[n_al++] = m->aliases[i];
    for (size_t i = 0; i < n; i++) {
        ff_import_line_out r;
        FF_CHECK_EQ(ff_import_line(f, m, lines[i], strlen(lines[i]), i + 1, &c.arena, &body, &r),
                    FF_OK);
        FF_CHECK(r.reason == NULL);
        if (r.alias.from_len && n_al < 8)
            al[n_al++] = r.alias;
    }
    body.data[body.len - 1] = ']';
    ff_buf_addc(&body, '}');
    ff_collect_backfill bf = {al, n_al};
    ff_collect_req req = {
        FF_CALL_BATCH, "application/json",   NULL, body.data, body.len, NULL, NULL,
        RCV,           backfill ? &bf : NULL};
    ff_arena a;
    ff_arena_init(&a, 0, 0);
    ff_collect_out_init(out);
    FF_CHECK_EQ(ff_collect_decode(col, &req, &a, out), FF_OK);
    FF_CHECK_EQ(out->status, 0);
    ff_buf recs;
    ff_buf_init(&recs, 0);
    for (size_t p = 0; p + 4 <= out->payload.len;) {
        uint32_t l;
        memcpy(&l, out->payload.data + p, 4);
        ff_buf_add(&recs, out->payload.data + p + 4, l);
        ff_buf_addc(&recs, '\n');
        p += 4 + l;
    }
    ff_buf_addc(&recs, '\0');
    ff_collect_finish(col, out, true);
    ff_arena_fini(&a);
    ff_buf_fini(&body);
    conv_fini(&c);
    return ff_buf_detach(&recs);
}

static void test_backfill_records(void)
{
    ff_collect *col = mk(false);
    ff_collect_out out;
    /* 1990 is before min_ts (2000): HTTP replaces it, a backfill keeps it; sentAt far from
     * received_at: HTTP shifts the time, a backfill does not. */
    const char *seg[] = {
        "{\"type\":\"track\",\"event\":\"a\",\"userId\":\"u\",\"messageId\":\"old\","
        "\"timestamp\":\"1990-01-01T00:00:00Z\"}",
        "{\"type\":\"track\",\"event\":\"b\",\"userId\":\"u\",\"messageId\":\"skew\","
        "\"timestamp\":\"2017-01-01T00:00:00Z\",\"sentAt\":\"2017-01-01T00:00:01Z\"}",
    };
    char *r = decode(col, FF_IMPORT_SEGMENT, NULL, seg, 2, true, &out);
    FF_CHECK(
        strstr(r, "\"event_id\":\"old\",\"type\":\"track\",\"event\":\"a\",\"ts\":631152000000,") !=
        NULL);
    FF_CHECK(strstr(r, "\"ts\":1483228800000,") != NULL);
    FF_CHECK(strstr(r, "timestamp_adjusted") == NULL && strstr(r, "clock_skew") == NULL);
    FF_CHECK_EQ(out.n_records, 2);
    ff_collect_out_fini(col, &out);
    free(r);
    ff_collect_free(col);

    col = mk(false); /* fresh dedupe window */
    r = decode(col, FF_IMPORT_SEGMENT, NULL, seg, 2, false, &out);
    FF_CHECK(strstr(r, "\"ts\":631152000000,") == NULL);
    FF_CHECK(strstr(r, "\"ts\":1483228800000,") == NULL);
    FF_CHECK(strstr(r, "timestamp_adjusted") != NULL);
    ff_collect_out_fini(col, &out);
    free(r);

    /* taobao: the alias gives the canonical event and keeps the code; re-decoding the same
     * lines is all duplicates (deterministic ids) */
    const char *tb[] = {"1,10,100,pv,1511658000", "2,20,200,buy,1511658001",
                        "2,20,200,buy,1511658001"};
    r = decode(col, FF_IMPORT_CSV, "taobao", tb, 3, true, &out);
    FF_CHECK(
        strstr(r, "\"event\":\"product_viewed\",\"event_original\":\"pv\",\"ts\":1511658000000,") !=
        NULL);
    FF_CHECK(strstr(r, "\"event\":\"order_completed\",\"event_original\":\"buy\"") != NULL);
    FF_CHECK(strstr(r, "\"user_id\":\"1\",\"product_id\":\"10\",\"category\":\"100\"") != NULL);
    FF_CHECK_EQ(out.n_records, 3); /* an identical line elsewhere is another event */
    ff_collect_out_fini(col, &out);
    free(r);
    r = decode(col, FF_IMPORT_CSV, "taobao", tb, 3, true, &out);
    FF_CHECK_EQ(out.n_records, 0);
    FF_CHECK_EQ(out.n_duplicates, 3);
    ff_collect_out_fini(col, &out);
    free(r);

    /* ndjson event_original outside the vocabulary */
    const char *nd[] = {"{\"event\":\"Product Added\",\"event_original\":\"add\",\"user_id\":\"u\","
                        "\"ts\":\"2020-05-05T05:05:05.123Z\"}"};
    r = decode(col, FF_IMPORT_NDJSON, NULL, nd, 1, true, &out);
    FF_CHECK(
        strstr(r, "\"event\":\"product_added\",\"event_original\":\"add\",\"ts\":1588655105123,") !=
        NULL);
    ff_collect_out_fini(col, &out);
    free(r);

    /* apache: the IP is anonymised, bots are dropped as over HTTP */
    const char *ap[] = {
        "83.149.9.216 - - [17/May/2015:10:05:03 +0000] \"GET /p HTTP/1.1\" 200 5 \"-\" "
        "\"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 Chrome/32.0 "
        "Safari/537.36\"",
        "66.249.73.135 - - [17/May/2015:10:05:04 +0000] \"GET /q HTTP/1.1\" 200 5 \"-\" "
        "\"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)\""};
    r = decode(col, FF_IMPORT_CSV, "apache", ap, 2, true, &out);
    FF_CHECK_EQ(out.n_records, 1);
    FF_CHECK_EQ(out.n_dropped, 1);
    FF_CHECK(strstr(r, "\"ip\":\"83.149.9.0\"") != NULL);
    FF_CHECK(strstr(r, "83.149.9.216") == NULL);
    FF_CHECK(strstr(r, "\"type\":\"page\",\"event\":\"page_viewed\",\"ts\":1431857103000,") !=
             NULL);
    FF_CHECK(strstr(r, "\"url\":\"/p\"") != NULL);
    ff_collect_out_fini(col, &out);
    free(r);
    ff_collect_free(col);
}

int main(void)
{
    FF_RUN(test_ndjson_exact);
    FF_RUN(test_ids);
    FF_RUN(test_rejects);
    FF_RUN(test_taobao_apache);
    FF_RUN(test_segment);
    FF_RUN(test_backfill_records);
    FF_DONE();
}
