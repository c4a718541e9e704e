/* test_collect_time.c -- every branch of the event-time rule. */
#include <string.h>

#include "collect/ff_collect_int.h"
#include "ff_test.h"

#define RCV 1750000000000LL /* 2025-06-15T15:06:40Z */
#define DAY 86400000LL

static ff_arena g_arena;

static const ff_json *node(const char *json)
{
    if (!json)
        return NULL;
    ff_json *root = NULL;
    ff_json_error je;
    char wrapped[256];
    snprintf(wrapped, sizeof wrapped, "{\"v\":%s}", json);
    if (ff_json_parse(wrapped, strlen(wrapped), NULL, &g_arena, &root, &je) != FF_OK)
        return NULL;
    return root->child;
}

static ff_time_out resolve(const char *ts, const char *orig, const char *sent)
{
    ff_time_in in = {node(ts),       node(orig),     node(sent), RCV,
                     946684800000LL, 23 * 3600000LL, 3600000LL};
    ff_time_out out;
    ff_time_resolve(&in, &out);
    return out;
}

static void test_parse(void)
{
    int64_t ms;
    FF_CHECK(ff_time_parse(node("\"2025-06-15T15:06:40Z\""), &ms));
    FF_CHECK_EQ(ms, RCV);
    FF_CHECK(ff_time_parse(node("\"2025-06-15T17:06:40.5+02:00\""), &ms));
    FF_CHECK_EQ(ms, RCV + 500);
    FF_CHECK(ff_time_parse(node("1750000000"), &ms)); /* seconds */
    FF_CHECK_EQ(ms, RCV);
    FF_CHECK(ff_time_parse(node("1750000000000"), &ms)); /* milliseconds */
    FF_CHECK_EQ(ms, RCV);
    FF_CHECK(ff_time_parse(node("1750000000.25"), &ms));
    FF_CHECK_EQ(ms, RCV + 250);
    FF_CHECK(ff_time_parse(node("99999999999"), &ms)); /* < 1e11: seconds */
    FF_CHECK_EQ(ms, 99999999999000LL);
    FF_CHECK(ff_time_parse(node("100000000000"), &ms)); /* >= 1e11: ms */
    FF_CHECK_EQ(ms, 100000000000LL);
    FF_CHECK(ff_time_parse(node("\"1750000000000\""), &ms)); /* ms as a string */
    FF_CHECK_EQ(ms, RCV);
    FF_CHECK(ff_time_parse(node("0"), &ms));
    FF_CHECK_EQ(ms, 0);
    FF_CHECK(!ff_time_parse(node("-1"), &ms));
    FF_CHECK(!ff_time_parse(node("1e20"), &ms));
    FF_CHECK(!ff_time_parse(node("\"yesterday\""), &ms));
    FF_CHECK(!ff_time_parse(node("\"2024-02-30T25:61:00Z\""), &ms));
    FF_CHECK(!ff_time_parse(node("\"\""), &ms));
    FF_CHECK(!ff_time_parse(node("true"), &ms));
    FF_CHECK(!ff_time_parse(node("{}"), &ms));
    FF_CHECK(!ff_time_parse(NULL, &ms));
}

static void test_rules(void)
{
    /* 1. nothing: received_at */
    ff_time_out o = resolve(NULL, NULL, NULL);
    FF_CHECK_EQ(o.ts_ms, RCV);
    FF_CHECK_EQ(o.flags, 0);
    /* 2. timestamp */
    o = resolve("\"2025-06-15T15:00:00Z\"", NULL, NULL);
    FF_CHECK_EQ(o.ts_ms, RCV - 400000);
    FF_CHECK_EQ(o.flags, 0);
    /* 2b. timestamp + sentAt within the skew tolerance: untouched */
    o = resolve("\"2025-06-15T15:00:00Z\"", NULL, "\"2025-06-15T15:06:30Z\"");
    FF_CHECK_EQ(o.ts_ms, RCV - 400000);
    FF_CHECK(o.has_sent_at);
    FF_CHECK_EQ(o.sent_at_ms, RCV - 10000);
    /* 2c. device clock 3 days behind (row 69): corrected by received_at - sentAt */
    o = resolve("\"2025-06-12T15:00:00Z\"", NULL, "\"2025-06-12T15:06:40Z\"");
    FF_CHECK_EQ(o.ts_ms, RCV - 400000);
    FF_CHECK(o.flags & FF_TS_SKEW);
    /* 2d. device clock 2 days ahead: corrected back */
    o = resolve("\"2025-06-17T15:00:00Z\"", NULL, "\"2025-06-17T15:06:40Z\"");
    FF_CHECK_EQ(o.ts_ms, RCV - 400000);
    FF_CHECK(o.flags & FF_TS_SKEW);
    /* 3. originalTimestamp + sentAt: received_at - (sentAt - originalTimestamp) */
    o = resolve(NULL, "\"2025-06-15T15:06:00Z\"", "\"2025-06-15T15:06:30Z\"");
    FF_CHECK_EQ(o.ts_ms, RCV - 30000);
    FF_CHECK(o.has_original);
    FF_CHECK_EQ(o.original_ms, RCV - 40000);
    FF_CHECK_EQ(o.flags, 0);
    o = resolve(NULL, "\"2020-01-01T00:00:00Z\"", "\"2020-01-01T00:00:05Z\"");
    FF_CHECK_EQ(o.ts_ms, RCV - 5000); /* a clock years off still gives the right time */
    FF_CHECK(o.flags & FF_TS_SKEW);
    /* 4. originalTimestamp alone */
    o = resolve(NULL, "\"2025-06-15T15:06:00Z\"", NULL);
    FF_CHECK_EQ(o.ts_ms, RCV - 40000);
    /* out of range: adjusted, raw kept */
    o = resolve("0", NULL, NULL);
    FF_CHECK_EQ(o.ts_ms, RCV);
    FF_CHECK(o.flags & FF_TS_ADJUSTED);
    FF_CHECK(o.raw != NULL);
    o = resolve("\"1999-12-31T23:59:59Z\"", NULL, NULL);
    FF_CHECK(o.flags & FF_TS_ADJUSTED);
    o = resolve("\"2000-01-01T00:00:00Z\"", NULL, NULL);
    FF_CHECK_EQ(o.flags, 0);
    o = resolve("\"2025-06-16T14:06:40Z\"", NULL, NULL); /* exactly +23 h: allowed */
    FF_CHECK_EQ(o.flags, 0);
    FF_CHECK_EQ(o.ts_ms, RCV + 23 * 3600000LL);
    o = resolve("\"2025-06-16T14:06:41Z\"", NULL, NULL); /* +23 h 1 s */
    FF_CHECK(o.flags & FF_TS_ADJUSTED);
    FF_CHECK_EQ(o.ts_ms, RCV);
    o = resolve("\"2100-01-01T00:00:00Z\"", NULL, NULL);
    FF_CHECK(o.flags & FF_TS_ADJUSTED);
    /* invalid: the chosen field decides, even when another field is good */
    o = resolve("\"yesterday\"", "\"2025-06-15T15:06:00Z\"", NULL);
    FF_CHECK_EQ(o.ts_ms, RCV);
    FF_CHECK(o.flags & FF_TS_INVALID);
    FF_CHECK(o.has_original);
    o = resolve(NULL, "\"nope\"", "\"2025-06-15T15:06:30Z\"");
    FF_CHECK(o.flags & FF_TS_INVALID);
    FF_CHECK(!o.has_original);
    /* null counts as absent */
    o = resolve("null", NULL, NULL);
    FF_CHECK_EQ(o.flags, 0);
    FF_CHECK_EQ(o.ts_ms, RCV);
    /* an absurd sentAt is ignored (not used for skew, not stored) */
    o = resolve("\"2025-06-15T15:00:00Z\"", NULL, "\"1970-01-02T00:00:00Z\"");
    FF_CHECK(!o.has_sent_at);
    FF_CHECK_EQ(o.ts_ms, RCV - 400000);
    (void)DAY;
}

int main(void)
{
    ff_arena_init(&g_arena, 0, 0);
    FF_RUN(test_parse);
    FF_RUN(test_rules);
    ff_arena_fini(&g_arena);
    FF_DONE();
}
