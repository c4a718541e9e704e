/* test_collect_decode.c -- the canonical record a message becomes: field
 * order and names, shapes (batch envelope merge, single calls), columns from
 * properties/context, ids, privacy in every container, escaping, and the
 * pipeline under allocation failures. */
#include <stdlib.h>
#include <string.h>

#include "collect/ff_collect.h"
#include "core/ff_json.h"
#include "core/ff_mem.h"
#include "ff_test.h"

#define RCV 1750000000000LL

static ff_collect *mk(ff_collect_ip_mode ip)
{
    ff_collect_opts o;
    ff_collect_opts_default(&o);
    o.dedupe_capacity = 10000;
    o.ip_mode = ip;
    ff_collect *c = NULL;
    if (ff_collect_new(&o, &c, NULL) != FF_OK)
        abort();
    return c;
}

typedef struct res {
    ff_arena arena;
    ff_collect_out out;
    char recs[8][8192]; /* record texts, NUL-terminated */
} res;

static void run(ff_collect *c, res *r, ff_collect_call call, const char *body, const char *peer,
                const char *ua)
{
    memset(r->recs, 0, sizeof r->recs);
    ff_arena_init(&r->arena, 0, 0);
    ff_collect_req req = {call, "text/plain", NULL, body, strlen(body), peer, ua, RCV, NULL};
    ff_collect_out_init(&r->out);
    FF_CHECK_EQ(ff_collect_decode(c, &req, &r->arena, &r->out), FF_OK);
    size_t off = 0;
    for (int i = 0; i < 8 && off + 4 <= r->out.payload.len; i++) {
        const unsigned char *p = (const unsigned char *)r->out.payload.data + off;
        uint32_t len = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        snprintf(r->recs[i], sizeof r->recs[i], "%.*s", (int)len, (const char *)p + 4);
        off += 4 + len;
    }
}

static void fin(ff_collect *c, res *r)
{
    ff_collect_finish(c, &r->out, true);
    ff_collect_out_fini(c, &r->out);
    ff_arena_fini(&r->arena);
}

static void test_full_record(void)
{
    ff_collect *c = mk(FF_COLLECT_IP_TRUNCATE);
    res r;
    const char *body =
        "{\"batch\":[{\"type\":\"track\",\"event\":\"Product Added\",\"userId\":\"u1\","
        "\"anonymousId\":\"a1\",\"messageId\":\"m1\",\"timestamp\":\"2025-06-15T15:06:00Z\","
        "\"originalTimestamp\":\"2025-06-15T15:05:59Z\",\"sentAt\":\"2025-06-15T15:06:39Z\","
        "\"properties\":{\"sku\":\"S-1\",\"category\":\"Shoes\",\"price\":49.5,\"quantity\":2,"
        "\"currency\":\"EUR\",\"cart_id\":\"c9\",\"session_id\":\"s7\",\"element\":\"#buy\","
        "\"url\":\"https://shop.example/p/1\",\"referrer\":\"https://www.google.com/\"},"
        "\"context\":{\"ip\":\"198.51.100.200\",\"location\":{\"country\":\"DE\"},"
        "\"device\":{\"type\":\"tablet\"},\"os\":{\"name\":\"Android\"},\"locale\":\"de-DE\"}}],"
        "\"context\":{\"locale\":\"en-US\",\"library\":{\"name\":\"analytics-next\"}},"
        "\"writeKey\":\"wk_live\"}";
    run(c, &r, FF_CALL_BATCH, body, "203.0.113.5", NULL);
    FF_CHECK_EQ(r.out.status, 0);
    FF_CHECK_EQ(r.out.n_records, 1);
    FF_CHECK_STR(r.out.write_key, "wk_live");
    FF_CHECK_STR(r.recs[0],
                 "{\"v\":1,\"event_id\":\"m1\",\"type\":\"track\",\"event\":\"product_added\","
                 "\"event_original\":\"Product Added\",\"ts\":1749999960000,"
                 "\"received_at\":1750000000000,\"sent_at\":1749999999000,"
                 "\"original_ts\":1749999959000,\"user_id\":\"u1\",\"anonymous_id\":\"a1\","
                 "\"session_id\":\"s7\",\"url\":\"https://shop.example/p/1\","
                 "\"referrer\":\"https://www.google.com/\",\"product_id\":\"S-1\","
                 "\"category\":\"Shoes\",\"price\":\"49.50\",\"quantity\":2,\"currency\":\"EUR\","
                 "\"element\":\"#buy\",\"country\":\"DE\",\"device\":\"tablet\","
                 "\"os\":\"Android\",\"ip\":\"198.51.100.0\",\"properties\":{\"cart_id\":\"c9\"},"
                 "\"context\":{\"location\":{\"country\":\"DE\"},\"device\":{\"type\":\"tablet\"},"
                 "\"os\":{\"name\":\"Android\"},\"locale\":\"de-DE\","
                 "\"library\":{\"name\":\"analytics-next\"}}}");
    fin(c, &r);
    ff_collect_free(c);
}

static void test_shapes(void)
{
    ff_collect *c = mk(FF_COLLECT_IP_TRUNCATE);
    res r;
    /* single call: the type comes from the path, whatever the body says */
    run(c, &r, FF_CALL_PAGE,
        "{\"type\":\"track\",\"name\":\"Home\",\"category\":\"Landing\",\"anonymousId\":\"a\","
        "\"writeKey\":\"k2\",\"properties\":{\"path\":\"/\"}}",
        "198.51.100.7", NULL);
    FF_CHECK_EQ(r.out.n_records, 1);
    FF_CHECK_STR(r.out.write_key, "k2");
    FF_CHECK(strstr(r.recs[0], "\"type\":\"page\",\"event\":\"page_viewed\",\"ts\":") != NULL);
    FF_CHECK(strstr(r.recs[0], "\"category\":\"Landing\"") != NULL);
    FF_CHECK(strstr(r.recs[0], "\"properties\":{\"path\":\"/\",\"name\":\"Home\"}") != NULL);
    FF_CHECK(strstr(r.recs[0], "\"ip\":\"198.51.100.0\"") != NULL); /* peer address */
    FF_CHECK(strstr(r.recs[0], "event_original") == NULL);
    /* a server-assigned UUIDv7: version 7, RFC variant, time = received_at */
    const char *id = strstr(r.recs[0], "\"event_id\":\"") + 12;
    FF_CHECK(id[8] == '-' && id[13] == '-' && id[14] == '7' && id[18] == '-' && id[23] == '-');
    FF_CHECK(strchr("89ab", id[19]) != NULL);
    FF_CHECK(strncmp(id, "01977420-dc00", 13) == 0); /* 1750000000000 = 0x01977420dc00 */
    FF_CHECK(strstr(r.recs[0], "\"flags\":[\"no_event_id\"]") != NULL);
    fin(c, &r);
    run(c, &r, FF_CALL_SCREEN, "{\"name\":\"Cart\",\"userId\":\"u\"}", NULL, NULL);
    FF_CHECK(strstr(r.recs[0], "\"type\":\"screen\",\"event\":\"screen_viewed\"") != NULL);
    FF_CHECK(strstr(r.recs[0], "\"ip\"") == NULL); /* no address known */
    fin(c, &r);
    /* identify: traits, also from context.traits */
    run(c, &r, FF_CALL_IDENTIFY,
        "{\"userId\":\"u\",\"context\":{\"traits\":{\"email\":\"a@b.example\",\"password\":\"pw\"}}"
        "}",
        NULL, NULL);
    FF_CHECK(strstr(r.recs[0],
                    "\"traits\":{\"email\":\"a@b.example\",\"password\":\"[REDACTED]\"}") != NULL);
    FF_CHECK(strstr(r.recs[0], "\"pw\"") == NULL);
    fin(c, &r);
    /* group and alias */
    run(c, &r, FF_CALL_GROUP, "{\"userId\":\"u\",\"groupId\":42,\"traits\":{\"name\":\"Acme\"}}",
        NULL, NULL);
    FF_CHECK(strstr(r.recs[0],
                    "\"properties\":{\"group_id\":\"42\"},\"traits\":{\"name\":\"Acme\"}") != NULL);
    fin(c, &r);
    run(c, &r, FF_CALL_GROUP, "{\"userId\":\"u\"}", NULL, NULL);
    FF_CHECK_EQ(r.out.n_rejected, 1);
    FF_CHECK(strstr(r.out.rejected.data, "missing_field:groupId") != NULL);
    fin(c, &r);
    run(c, &r, FF_CALL_ALIAS, "{\"userId\":\"u\",\"previousId\":\"anon-1\"}", NULL, NULL);
    FF_CHECK(strstr(r.recs[0], "\"type\":\"alias\",\"event\":\"alias\"") != NULL);
    FF_CHECK(strstr(r.recs[0], "\"previous_id\":\"anon-1\"") != NULL);
    fin(c, &r);
    run(c, &r, FF_CALL_ALIAS, "{\"userId\":\"u\"}", NULL, NULL);
    FF_CHECK(strstr(r.out.rejected.data, "missing_field:previousId") != NULL);
    fin(c, &r);
    /* batch items: type required and known */
    run(c, &r, FF_CALL_BATCH,
        "{\"batch\":[{\"userId\":\"u\",\"event\":\"x\"},{\"type\":\"bogus\",\"userId\":\"u\"},"
        "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"x\",\"properties\":[1]},"
        "{\"type\":\"track\",\"userId\":{},\"event\":\"x\"},7,"
        "{\"type\":\"identify\",\"userId\":\"u\",\"traits\":\"no\"},"
        "{\"type\":\"track\",\"userId\":\"u\",\"event\":\"x\",\"context\":1}]}",
        NULL, NULL);
    FF_CHECK_STR(
        r.out.rejected.data,
        "[{\"i\":0,\"reason\":\"missing_field:type\"},{\"i\":1,\"reason\":\"invalid_type\"},"
        "{\"i\":2,\"reason\":\"invalid_type:properties\"},"
        "{\"i\":3,\"reason\":\"invalid_identity\"},{\"i\":4,\"reason\":\"invalid_event\"},"
        "{\"i\":5,\"reason\":\"invalid_type:traits\"},"
        "{\"i\":6,\"reason\":\"invalid_type:context\"}]");
    FF_CHECK_EQ(r.out.n_events, 7);
    fin(c, &r);
    ff_collect_free(c);
}

static void test_envelope_merge(void)
{
    ff_collect *c = mk(FF_COLLECT_IP_TRUNCATE);
    res r;
    run(c, &r, FF_CALL_BATCH,
        "{\"batch\":[{\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\",\"context\":{\"a\":1,"
        "\"b\":null}},{\"type\":\"track\",\"userId\":\"u\",\"event\":\"e\"}],"
        "\"context\":{\"a\":2,\"b\":2,\"c\":3,\"ip\":\"192.0.2.1\",\"userAgent\":\"Mozilla/5.0 "
        "(Windows NT 10.0; Win64; x64) Chrome/126.0 "
        "Safari/537.36\"},\"integrations\":{\"All\":true}}",
        "203.0.113.5", NULL);
    FF_CHECK_EQ(r.out.n_records, 2);
    FF_CHECK(strstr(r.recs[0], "\"context\":{\"a\":1,\"b\":null,\"c\":3,\"userAgent\"") != NULL);
    FF_CHECK(strstr(r.recs[1], "\"context\":{\"a\":2,\"b\":2,\"c\":3,\"userAgent\"") != NULL);
    FF_CHECK(strstr(r.recs[0], "\"ip\":\"192.0.2.0\"") != NULL); /* context.ip wins over peer */
    FF_CHECK(strstr(r.recs[0], "192.0.2.1") == NULL);
    FF_CHECK(strstr(r.recs[0], "\"browser\":\"Chrome\",\"os\":\"Windows\"") != NULL);
    FF_CHECK(strstr(r.recs[0], "integrations") == NULL);
    fin(c, &r);
    ff_collect_free(c);
}

static void test_ip_drop(void)
{
    ff_collect *c = mk(FF_COLLECT_IP_DROP);
    res r;
    run(c, &r, FF_CALL_TRACK,
        "{\"userId\":\"u\",\"event\":\"e\",\"context\":{\"ip\":\"2001:db8::1\"}}", "203.0.113.5",
        NULL);
    FF_CHECK(strstr(r.recs[0], "\"ip\"") == NULL);
    FF_CHECK(strstr(r.recs[0], "2001:db8") == NULL);
    FF_CHECK(strstr(r.recs[0], "203.0.113") == NULL);
    fin(c, &r);
    FF_CHECK_EQ(ff_collect_counter(c, "footfall_scrubbed_total{kind=\"ip\"}"), 1);
    ff_collect_free(c);
}

static void test_privacy_everywhere(void)
{
    ff_collect *c = mk(FF_COLLECT_IP_TRUNCATE);
    res r;
    run(c, &r, FF_CALL_TRACK,
        "{\"userId\":\"u\",\"event\":\"Products Searched\",\"properties\":{\"query\":"
        "\"4111 1111 1111 1111\",\"nested\":{\"list\":[{\"apiKey\":\"k\"},\"5555555555554444\","
        "6011111111111117],\"order_ref\":\"1750000000000\"},\"token\":null,\"secret\":false},"
        "\"context\":{\"page\":{\"url\":\"https://s.example/?cc=4111111111111111\"},"
        "\"headers\":{\"Authorization_token\":\"t\"}}}",
        NULL, NULL);
    const char *rec = r.recs[0];
    FF_CHECK(strstr(rec, "4111") == NULL);
    FF_CHECK(strstr(rec, "5555") == NULL);
    FF_CHECK(strstr(rec, "6011") == NULL);
    FF_CHECK(strstr(rec, "\"search_term\":\"[REDACTED_PAN]\"") != NULL);
    FF_CHECK(
        strstr(rec,
               "\"list\":[{\"apiKey\":\"[REDACTED]\"},\"[REDACTED_PAN]\",\"[REDACTED_PAN]\"]") !=
        NULL);
    FF_CHECK(strstr(rec, "\"order_ref\":\"1750000000000\"") != NULL); /* not a card */
    FF_CHECK(strstr(rec, "\"token\":null,\"secret\":false") != NULL); /* nothing to hide */
    FF_CHECK(strstr(rec, "\"url\":\"https://s.example/?cc=[REDACTED_PAN]\"") != NULL);
    FF_CHECK(strstr(rec, "\"Authorization_token\":\"[REDACTED]\"") != NULL);
    FF_CHECK(strstr(rec, "\"redacted\"") != NULL);
    fin(c, &r);
    FF_CHECK_EQ(ff_collect_counter(c, "footfall_scrubbed_total{kind=\"card_number\"}"), 5);
    FF_CHECK_EQ(ff_collect_counter(c, "footfall_scrubbed_total{kind=\"password_field\"}"), 2);
    ff_collect_free(c);
}

static void test_escaping_and_numbers(void)
{
    ff_collect *c = mk(FF_COLLECT_IP_TRUNCATE);
    res r;
    run(c, &r, FF_CALL_TRACK,
        "{\"userId\":\"u\\\"q\",\"event\":\"line\\u2028sep\",\"properties\":{\"t\":"
        "\"a\\tb\\u0001\","
        "\"\\u2029k\":1,\"f\":1.50,\"e\":2E+3,\"z\":-0.000,\"big\":-123456789012345678901,"
        "\"neg\":-5}}",
        NULL, NULL);
    const char *rec = r.recs[0];
    FF_CHECK(strstr(rec, "\"user_id\":\"u\\\"q\"") != NULL);
    FF_CHECK(strstr(rec, "\"event\":\"line\\u2028sep\"") != NULL);
    FF_CHECK(strstr(rec, "\"t\":\"a\\tb\\u0001\"") != NULL);
    FF_CHECK(strstr(rec, "\"\\u2029k\":1") != NULL);
    FF_CHECK(strstr(rec, "\"f\":1.50,\"e\":2E+3,\"z\":0,") != NULL);
    FF_CHECK(strstr(rec, "\"big\":\"-123456789012345678901\"") != NULL);
    FF_CHECK(strstr(rec, "\"neg\":-5") != NULL);
    FF_CHECK(strstr(rec, "\"lossy_number\"") != NULL);
    fin(c, &r);
    ff_collect_free(c);
}

static void test_columns(void)
{
    ff_collect *c = mk(FF_COLLECT_IP_TRUNCATE);
    res r;
    /* GA4 purchase: transaction_id, value, items[] stay in properties */
    run(c, &r, FF_CALL_TRACK,
        "{\"userId\":\"u\",\"event\":\"purchase\",\"properties\":{\"transaction_id\":\"T-9\","
        "\"value\":\"120.456\",\"currency\":\"KWD\",\"payment_type\":\"card\",\"items\":"
        "[{\"item_id\":\"I1\",\"price\":60}]}}",
        NULL, NULL);
    const char *rec = r.recs[0];
    FF_CHECK(strstr(rec, "\"event\":\"order_completed\",\"event_original\":\"purchase\"") != NULL);
    FF_CHECK(strstr(rec, "\"order_id\":\"T-9\",\"revenue\":\"120.456\",\"currency\":\"KWD\"") !=
             NULL);
    FF_CHECK(strstr(rec, "\"product_id\"") == NULL); /* an order is not a product view */
    FF_CHECK(strstr(rec, "\"properties\":{\"payment_type\":\"card\",\"items\":") != NULL);
    fin(c, &r);
    /* GA4 view_item: the first item fills the product columns */
    run(c, &r, FF_CALL_TRACK,
        "{\"userId\":\"u\",\"event\":\"view_item\",\"properties\":{\"currency\":\"JPY\","
        "\"items\":[{\"item_id\":\"I1\",\"item_category\":\"Bags\",\"price\":1200.4,"
        "\"quantity\":1}]}}",
        NULL, NULL);
    rec = r.recs[0];
    FF_CHECK(strstr(rec, "\"product_id\":\"I1\",\"category\":\"Bags\",\"price\":\"1200\","
                         "\"quantity\":1,\"currency\":\"JPY\"") != NULL);
    FF_CHECK(strstr(rec, "\"amount_rounded\"") != NULL);
    fin(c, &r);
    /* custom events keep names and need no currency for a plain price */
    run(c, &r, FF_CALL_TRACK,
        "{\"userId\":\"u\",\"event\":\"Song Played\",\"properties\":{\"price\":\"free\","
        "\"quantity\":\"many\"}}",
        NULL, NULL);
    rec = r.recs[0];
    FF_CHECK(strstr(rec, "\"event\":\"Song Played\",\"ts\"") != NULL);
    FF_CHECK(strstr(rec, "\"properties\":{\"price\":\"free\",\"quantity\":\"many\"}") != NULL);
    FF_CHECK(strstr(rec, "\"invalid_quantity\"") != NULL);
    fin(c, &r);
    /* unparseable amount on an order event is rejected */
    run(c, &r, FF_CALL_TRACK,
        "{\"userId\":\"u\",\"event\":\"Order Completed\",\"properties\":{\"revenue\":\"lots\","
        "\"currency\":\"USD\"}}",
        NULL, NULL);
    FF_CHECK(strstr(r.out.rejected.data, "invalid_amount") != NULL);
    fin(c, &r);
    /* negative price outside refunds */
    run(c, &r, FF_CALL_TRACK,
        "{\"userId\":\"u\",\"event\":\"Product Viewed\",\"properties\":{\"price\":-1,"
        "\"currency\":\"USD\"}}",
        NULL, NULL);
    FF_CHECK(strstr(r.out.rejected.data, "invalid_amount") != NULL);
    fin(c, &r);
    /* a chargeback may be negative */
    run(c, &r, FF_CALL_TRACK,
        "{\"userId\":\"u\",\"event\":\"ff:chargeback_opened\",\"properties\":{\"amount\":-25,"
        "\"currency\":\"GBP\",\"order_id\":123}}",
        NULL, NULL);
    FF_CHECK(strstr(r.recs[0],
                    "\"order_id\":\"123\",\"revenue\":\"-25.00\",\"currency\":\"GBP\"") != NULL);
    fin(c, &r);
    ff_collect_free(c);
}

static void test_alloc_failures(void)
{
    ff_collect *c = mk(FF_COLLECT_IP_TRUNCATE);
    const char *head = "{\"batch\":[{\"type\":\"track\",\"userId\":\"u\",\"event\":\"Order "
                       "Completed\",\"messageId\":\"fail-";
    const char *tail = "\",\"properties\":{\"revenue\":10,\"currency\":\"USD\",\"password\":"
                       "\"x\"}},{\"type\":\"page\",\"anonymousId\":\"a\"}]}";
    int nomem = 0;
    for (long n = 1; n < 40; n++) {
        char b[512];
        snprintf(b, sizeof b, "%s%ld%s", head, n, tail);
        ff_arena a;
        ff_arena_init(&a, 4096, 0);
        ff_collect_out out;
        ff_collect_out_init(&out);
        ff_collect_req req = {
            FF_CALL_BATCH, "application/json", NULL, b, strlen(b), NULL, NULL, RCV, NULL};
        ff_mem_fail_after(n);
        ff_rc rc = ff_collect_decode(c, &req, &a, &out);
        ff_mem_fail_after(0);
        FF_CHECK(rc == FF_OK || rc == FF_ENOMEM);
        nomem += rc == FF_ENOMEM;
        if (rc == FF_OK)
            ff_collect_finish(c, &out, true);
        ff_collect_out_fini(c, &out);
        ff_arena_fini(&a);
    }
    FF_CHECK(nomem > 0);
    ff_collect_free(c);
}

int main(void)
{
    FF_RUN(test_full_record);
    FF_RUN(test_shapes);
    FF_RUN(test_envelope_merge);
    FF_RUN(test_ip_drop);
    FF_RUN(test_privacy_everywhere);
    FF_RUN(test_escaping_and_numbers);
    FF_RUN(test_columns);
    FF_RUN(test_alloc_failures);
    FF_DONE();
}
