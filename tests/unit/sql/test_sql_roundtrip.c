/* test_sql_roundtrip.c -- typical product-analytics queries, in ClickHouse's
 * exact syntax, must parse; printing them (ff_sql_format) must give SQL that
 * parses to the same tree, and printing that again must give the same text.
 * Every node's span must lie inside the query and its text must start where
 * the node does (a column's span holds its name, a call's its name). */
#include <stdio.h>
#include <string.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "ff_test.h"
#include "sql/ff_sql.h"

static const char *const QUERIES[] = {
    /* counts and time bucketing */
    "SELECT count() FROM events",
    "SELECT event, count() AS c FROM events GROUP BY event ORDER BY c DESC LIMIT 10",
    "SELECT toStartOfHour(ts) AS hour, count() FROM events WHERE ts >= now() - INTERVAL 1 DAY "
    "GROUP BY hour ORDER BY hour",
    "SELECT toDate(ts) AS day, uniq(user_id) AS dau FROM events GROUP BY day ORDER BY day",
    "SELECT toDate(ts) AS day, uniqExact(user_id) FROM events WHERE ts >= toDateTime('2024-01-01 "
    "00:00:00') GROUP BY day ORDER BY day ASC",
    "SELECT toStartOfMinute(ts) AS m, count() FROM events WHERE ts > now() - INTERVAL 30 MINUTE "
    "GROUP BY m ORDER BY m",
    "SELECT toStartOfWeek(ts) AS week, uniq(user_id) AS wau FROM events GROUP BY week ORDER BY "
    "week",
    "SELECT toStartOfMonth(ts) AS month, uniqExact(user_id) AS mau FROM events GROUP BY month "
    "ORDER BY month",
    "SELECT toStartOfInterval(ts, INTERVAL 15 MINUTE) AS slot, count() FROM events GROUP BY slot "
    "ORDER BY slot",
    "SELECT toDayOfWeek(ts) AS dow, toHour(ts) AS h, count() FROM events GROUP BY dow, h ORDER BY "
    "dow, h",
    "SELECT toYear(ts) AS y, toMonth(ts) AS m, sum(revenue) FROM events GROUP BY y, m ORDER BY y, "
    "m",
    "SELECT toStartOfDay(ts) AS d, sumIf(revenue, event = 'order_completed') AS rev, "
    "countIf(event = 'order_completed') AS orders FROM events GROUP BY d ORDER BY d",
    "SELECT count() FROM events WHERE ts BETWEEN toDateTime('2024-03-01 00:00:00') AND "
    "toDateTime('2024-03-31 23:59:59')",
    "SELECT uniq(user_id) FROM events WHERE event = 'order_completed' AND ts >= today() - 7",
    "SELECT toStartOfHour(ts) AS h, count() FROM events WHERE (ts >= now() - INTERVAL 7 DAY AND ts "
    "< now()) AND (event = 'page' OR type = 'page') GROUP BY h ORDER BY h",
    /* top lists and revenue */
    "SELECT product_id, sum(price * quantity) AS revenue FROM events WHERE event = "
    "'order_completed' GROUP BY product_id ORDER BY revenue DESC LIMIT 20",
    "SELECT topK(10)(search_term) FROM events WHERE event = 'products_searched'",
    "SELECT quantiles(0.5, 0.9, 0.99)(price) FROM events WHERE event = 'order_completed'",
    "SELECT quantile(0.9)(price) AS p90, quantile(price) AS median FROM events",
    "SELECT country, uniq(user_id) AS users FROM events WHERE country != '' GROUP BY country "
    "ORDER BY users DESC LIMIT 10",
    "SELECT device, browser, count() FROM events GROUP BY device, browser ORDER BY 3 DESC",
    "SELECT currency, sum(revenue) FROM events WHERE revenue IS NOT NULL GROUP BY currency",
    "SELECT category, quantileIf(0.5)(price, event = 'order_completed') AS median_paid FROM events "
    "GROUP BY category",
    "SELECT uniqIf(user_id, event = 'order_completed') / uniq(user_id) AS conversion FROM events",
    "SELECT round(avg(price), 2) AS avg_price, category FROM events WHERE event = 'product_viewed' "
    "GROUP BY category",
    "SELECT user_id, argMax(country, ts) AS last_country, argMin(referrer, ts) AS first_referrer "
    "FROM events GROUP BY user_id LIMIT 100",
    "SELECT user_id, anyLast(country), any(device) FROM events GROUP BY user_id",
    "SELECT event, count() FROM events GROUP BY event HAVING count() > 100 ORDER BY count() DESC",
    "SELECT event, count() FROM events GROUP BY event ORDER BY 2 DESC LIMIT 5, 10",
    /* funnels */
    "SELECT level, count() AS users FROM (SELECT user_id, windowFunnel(3600)(ts, event = "
    "'product_viewed', event = 'product_added', event = 'checkout_started', event = "
    "'order_completed') AS level FROM events GROUP BY user_id) GROUP BY level ORDER BY level",
    "SELECT countIf(level >= 1) AS step1, countIf(level >= 2) AS step2, countIf(level >= 3) AS "
    "step3 FROM (SELECT user_id, windowFunnel(86400000, 'strict_once')(toUnixTimestamp64Milli(ts), "
    "event = 'product_viewed', event = 'product_added', event = 'order_completed') AS level FROM "
    "events GROUP BY user_id)",
    "SELECT user_id, windowFunnel(1800, 'strict_order', 'strict_increase')(toDateTime(ts), event = "
    "'cart_viewed', event = 'checkout_started') AS level FROM events WHERE ts >= now() - INTERVAL "
    "14 DAY GROUP BY user_id",
    "SELECT windowFunnel(3600, 'strict_order', 'allow_reentry')(ts, event = 'a', event = 'b') FROM "
    "events GROUP BY session_id",
    "SELECT count() FROM events WHERE user_id IN (SELECT user_id FROM events WHERE event = "
    "'order_completed')",
    "SELECT user_id, sequenceMatch('(?1).*(?2)')(ts, event = 'product_viewed', event = "
    "'order_completed') AS converted FROM events GROUP BY user_id",
    "SELECT sum(c) FROM (SELECT user_id, sequenceCount('(?1)(?t<=3600)(?2)')(toDateTime(ts), "
    "event = 'cart_viewed', event = 'checkout_started') AS c FROM events GROUP BY user_id)",
    /* retention and cohorts */
    "SELECT sum(r[1]) AS d0, sum(r[2]) AS d1, sum(r[3]) AS d7 FROM (SELECT user_id, "
    "retention(toDate(ts) = '2024-03-01', toDate(ts) = '2024-03-02', toDate(ts) = '2024-03-08') AS "
    "r FROM events GROUP BY user_id)",
    "SELECT sum(r[1]), sum(r[2]) / sum(r[1]) AS day1 FROM (SELECT user_id, retention(event = "
    "'signup' AND toDate(ts) = toDate('2024-03-01'), toDate(ts) = toDate('2024-03-01') + 1) AS r "
    "FROM events GROUP BY user_id)",
    "SELECT first_day, count() AS cohort FROM (SELECT user_id, min(toDate(ts)) AS first_day FROM "
    "events GROUP BY user_id) GROUP BY first_day ORDER BY first_day",
    "SELECT dateDiff('day', min(ts), max(ts)) AS lifetime_days, user_id FROM events GROUP BY "
    "user_id",
    "SELECT user_id, max(ts) - min(ts) AS span FROM events GROUP BY user_id ORDER BY span DESC "
    "LIMIT 10",
    /* sessions and paths */
    "SELECT user_id, count(DISTINCT session_id) AS sessions FROM events GROUP BY user_id HAVING "
    "sessions > 3 ORDER BY sessions DESC LIMIT 100",
    "SELECT avg(cnt) FROM (SELECT session_id, count() AS cnt FROM events GROUP BY session_id) AS s",
    "SELECT user_id, groupArray(event) AS path FROM (SELECT user_id, event FROM events WHERE "
    "session_id != '' ORDER BY ts) GROUP BY user_id LIMIT 10",
    "SELECT event_id, ts, event FROM events WHERE session_id = 's1' ORDER BY ts ASC LIMIT 10 "
    "OFFSET "
    "20",
    "SELECT * FROM events WHERE user_id = 'u123' ORDER BY ts DESC LIMIT 100",
    /* filters and strings */
    "SELECT url, count() AS views FROM events WHERE type = 'page' AND url LIKE '%/product/%' GROUP "
    "BY url ORDER BY views DESC LIMIT 50",
    "SELECT lower(search_term) AS term, count() FROM events WHERE search_term ILIKE '%shoe%' GROUP "
    "BY term",
    "SELECT event, count() FROM events WHERE event NOT IN ('page', 'screen', 'identify') GROUP BY "
    "event",
    "SELECT count() FROM events WHERE anonymous_id IS NULL OR user_id = ''",
    "SELECT count() FROM events WHERE startsWith(url, 'https://shop.example.com/') AND NOT "
    "endsWith(url, '.png')",
    "SELECT concat(device, ' / ', os) AS platform, count() FROM events GROUP BY platform",
    "SELECT device || '/' || os AS platform FROM events LIMIT 3",
    "SELECT length(url) > 100 AS long_url, count() FROM events GROUP BY long_url",
    "SELECT JSONExtractString(properties, 'plan') AS plan, count() FROM events WHERE event = "
    "'signup' GROUP BY plan",
    "SELECT avg(JSONExtractFloat(properties, 'load_ms')) FROM events WHERE event = 'page' AND "
    "JSONHas(properties, 'load_ms')",
    "SELECT CASE WHEN price < 10 THEN 'cheap' WHEN price < 100 THEN 'mid' ELSE 'premium' END AS "
    "bucket, count() FROM events WHERE event = 'product_viewed' GROUP BY bucket",
    "SELECT CASE device WHEN 'mobile' THEN 'm' WHEN 'desktop' THEN 'd' END AS dev FROM events",
    "SELECT multiIf(quantity >= 10, 'bulk', quantity >= 2, 'multi', 'single') AS size, count() "
    "FROM events WHERE event = 'product_added' GROUP BY size",
    "SELECT if(user_id != '', 'known', 'anonymous') AS who, count() FROM events GROUP BY who",
    "SELECT coalesce(referrer, 'direct') AS ref, count() FROM events GROUP BY ref ORDER BY count() "
    "DESC LIMIT 10",
    "SELECT toString(toDate(ts)) AS d, toInt64(sum(quantity)) FROM events GROUP BY d",
    "SELECT DISTINCT event FROM events ORDER BY event",
    "SELECT price FROM events WHERE price > 0 ORDER BY price DESC NULLS LAST LIMIT 3",
    "SELECT count() AS total, countIf(device = 'mobile') AS mobile FROM events",
    /* syntax corners */
    "SELECT count() FROM events FORMAT JSON",
    "SELECT event, count() FROM events GROUP BY event FORMAT CSVWithNames;",
    "SELECT `user_id`, \"event\" FROM events LIMIT 1",
    "SELECT e.user_id, count() FROM events AS e GROUP BY e.user_id",
    "-- daily actives\nSELECT /* the /* nested */ comment */ toDate(ts), uniq(user_id)\nFROM "
    "events\nGROUP BY 1\nORDER BY 1",
    "select Count(*), SUM(price), Avg(price), MIN(ts), max(ts) from events where NOT (event = "
    "'page')",
    "SELECT -1, - 2.5, -x, 0x1F, 0b101, 1e3, .5, 'it''s', 'tab\\there', [1, 2, 3], (1, 'a'), "
    "has([1, 2], 1), 18446744073709551615, -9223372036854775808",
};

#define N_QUERIES (sizeof QUERIES / sizeof QUERIES[0])

typedef struct walk {
    const char *text;
    size_t len;
    int bad;
} walk;

static void walk_sel(walk *w, const ff_sql_select *s);

static void walk_node(walk *w, const ff_sql_node *n)
{
    if ((size_t)n->pos + n->len > w->len || n->depth == 0 || n->depth > FF_SQL_MAX_DEPTH) {
        w->bad++;
        return;
    }
    if (n->kind == FF_SQL_N_COLUMN && !n->v.col.qual.s && n->v.col.name.len == n->len &&
        memcmp(w->text + n->pos, n->v.col.name.s, n->len) != 0)
        w->bad++; /* an unquoted column spans exactly its name */
    if (n->kind == FF_SQL_N_CALL && n->v.col.name.s != ff_sql_func_get(n->func)->name) {
        /* a call written by name (not built from an operator) starts with it */
        if (memcmp(w->text + n->pos, n->v.col.name.s, n->v.col.name.len) != 0)
            w->bad++;
    }
    if (n->kind == FF_SQL_N_SUBQUERY)
        walk_sel(w, n->v.sub);
    if (n->kind == FF_SQL_N_CALL)
        for (uint32_t i = 0; i < n->n_params + n->n_args; i++) {
            if (n->kids[i]->depth >= n->depth)
                w->bad++;
            walk_node(w, n->kids[i]);
        }
}

static void walk_sel(walk *w, const ff_sql_select *s)
{
    for (uint32_t i = 0; i < s->n_items; i++)
        walk_node(w, s->items[i].expr);
    if (s->where)
        walk_node(w, s->where);
    if (s->having)
        walk_node(w, s->having);
    for (uint32_t i = 0; i < s->n_group_by; i++)
        walk_node(w, s->group_by[i]);
    for (uint32_t i = 0; i < s->n_order_by; i++)
        walk_node(w, s->order_by[i].expr);
    if (s->from_sub)
        walk_sel(w, s->from_sub);
}

static void test_roundtrip(void)
{
    int ok = 0;
    for (size_t i = 0; i < N_QUERIES; i++) {
        const char *q = QUERIES[i];
        ff_arena a1, a2;
        ff_arena_init(&a1, 0, 16u << 20);
        ff_arena_init(&a2, 0, 16u << 20);
        ff_buf d1, d2, f1, f2;
        ff_buf_init(&d1, 0);
        ff_buf_init(&d2, 0);
        ff_buf_init(&f1, 0);
        ff_buf_init(&f2, 0);
        ff_sql_stmt *s1 = NULL, *s2 = NULL;
        ff_sql_error e;
        ff_rc rc = ff_sql_parse(q, strlen(q), &a1, &s1, &e);
        if (rc != FF_OK) {
            fprintf(stderr, "query %zu does not parse: %s: %s\n%s\n", i, e.kind, e.msg, e.snippet);
            FF_CHECK(0);
            goto next;
        }
        walk w = {q, strlen(q), 0};
        walk_sel(&w, s1->select);
        if (w.bad)
            fprintf(stderr, "query %zu: %d bad spans\n", i, w.bad);
        FF_CHECK_EQ(w.bad, 0);
        FF_CHECK_EQ(ff_sql_dump(s1, &d1), FF_OK);
        FF_CHECK_EQ(ff_sql_format(s1, &f1), FF_OK);
        rc = ff_sql_parse(f1.data, f1.len, &a2, &s2, &e);
        if (rc != FF_OK) {
            fprintf(stderr, "query %zu: formatted text does not parse: %s\n%s\n", i, e.msg,
                    f1.data);
            FF_CHECK(0);
            goto next;
        }
        FF_CHECK_EQ(ff_sql_dump(s2, &d2), FF_OK);
        FF_CHECK_EQ(ff_sql_format(s2, &f2), FF_OK);
        FF_CHECK_STR(d2.data, d1.data);
        FF_CHECK_STR(f2.data, f1.data);
        FF_CHECK(ff_sql_node_equal(s1->select->items[0].expr, s2->select->items[0].expr));
        if (strcmp(d1.data, d2.data) == 0 && strcmp(f1.data, f2.data) == 0)
            ok++;
    next:
        ff_buf_fini(&d1);
        ff_buf_fini(&d2);
        ff_buf_fini(&f1);
        ff_buf_fini(&f2);
        ff_arena_fini(&a1);
        ff_arena_fini(&a2);
    }
    fprintf(stderr, "round trip: %d of %zu queries\n", ok, N_QUERIES);
    FF_CHECK_EQ(ok, (long long)N_QUERIES);
    FF_CHECK(N_QUERIES >= 60);
}

/* The canonical text of a few queries, pinned (what the oracle runner will
 * send to ClickHouse must be valid ClickHouse). */
static void test_format_pinned(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"select Count(*) from events where a=1 and b=2 and c=3",
         "SELECT count() FROM events WHERE ((a = 1) AND (b = 2) AND (c = 3))"},
        {"SELECT x FROM events WHERE x NOT BETWEEN 1 AND 2 AND y",
         "SELECT x FROM events WHERE (((x < 1) OR (x > 2)) AND y)"},
        {"SELECT -(1), -1, - 1.5, -x FROM events",
         "SELECT negate(1), -1, -1.5, negate(x) FROM events"},
        {"SELECT event, count() FROM events GROUP BY 1 ORDER BY 2 DESC LIMIT 5, 10",
         "SELECT event, count() FROM events GROUP BY 1 ORDER BY 2 DESC LIMIT 10 OFFSET 5"},
        {"SELECT `from`, `a b`, \"x\" AS `select` FROM events",
         "SELECT `from`, `a b`, x AS `select` FROM events"},
        {"SELECT 'a''b\\n\\x01', 1e20, 0.1, 2.0, inf FROM events",
         "SELECT 'a\\'b\\n\\x01', 1e+20, 0.1, 2.0, inf FROM events"},
        {"SELECT CASE WHEN a THEN 1 END, x IN (1), x IN (1, 2), r[1] FROM events",
         "SELECT multiIf(a, 1, NULL), (x IN (1)), (x IN (1, 2)), arrayElement(r, 1) FROM events"},
        {"SELECT count(DISTINCT user_id), topK(5)(url) FROM events FORMAT Null",
         "SELECT count(DISTINCT user_id), topK(5)(url) FROM events FORMAT Null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ff_arena a;
        ff_arena_init(&a, 0, 0);
        ff_buf b;
        ff_buf_init(&b, 0);
        ff_sql_stmt *st = NULL;
        ff_sql_error e;
        ff_rc rc = ff_sql_parse(cases[i].in, strlen(cases[i].in), &a, &st, &e);
        FF_CHECK_EQ(rc, FF_OK);
        if (rc == FF_OK) {
            FF_CHECK_EQ(ff_sql_format(st, &b), FF_OK);
            FF_CHECK_STR(b.data, cases[i].out);
        } else {
            fprintf(stderr, "%s\n", e.msg);
        }
        ff_buf_fini(&b);
        ff_arena_fini(&a);
    }
}

/* ClickHouse's result column names. */
static void test_column_names(void)
{
    const char *q = "SELECT count(), COUNT(*), uniqExact(user_id), x + 1, quantile(0.9)(price), "
                    "count(DISTINCT user_id), -1, 'a', toStartOfHour(ts), [1, 2], a.b "
                    "FROM events AS a";
    static const char *const want[] = {"count()",
                                       "COUNT()",
                                       "uniqExact(user_id)",
                                       "plus(x, 1)",
                                       "quantile(0.9)(price)",
                                       "countDistinct(user_id)",
                                       "-1",
                                       "'a'",
                                       "toStartOfHour(ts)",
                                       "[1, 2]",
                                       "a.b"};
    ff_arena a;
    ff_arena_init(&a, 0, 0);
    ff_sql_stmt *st = NULL;
    ff_sql_error e;
    FF_CHECK_EQ(ff_sql_parse(q, strlen(q), &a, &st, &e), FF_OK);
    if (st) {
        FF_CHECK_EQ(st->select->n_items, sizeof want / sizeof want[0]);
        for (uint32_t i = 0; i < st->select->n_items && i < sizeof want / sizeof want[0]; i++) {
            ff_buf b;
            ff_buf_init(&b, 0);
            FF_CHECK_EQ(ff_sql_column_name(st->select->items[i].expr, &b), FF_OK);
            FF_CHECK_STR(b.data, want[i]);
            ff_buf_fini(&b);
        }
    }
    ff_arena_fini(&a);
}

int main(void)
{
    FF_RUN(test_roundtrip);
    FF_RUN(test_format_pinned);
    FF_RUN(test_column_names);
    FF_DONE();
}
