/* bench_stream.c -- stream processor throughput on one core and state memory per active user.
 *
 * Usage: bench_stream [--events N] [--users N] [--mem-users N] [--dir PATH]
 *   --events     records in the throughput run (default 1000000)
 *   --users      concurrently active shoppers in the throughput run (default 20000, drifting)
 *   --mem-users  distinct persons in the memory run (default 1000000; 0 skips it)
 *   --only-stream  skip the store consumer (for profiling the processor)
 *   --dir        a scratch folder (default /var/tmp/ff-bench-stream-PID; removed at the end)
 *
 * Throughput: N canonical records shaped like the collector's output (about 650 bytes: ids,
 * URL, referrer, product, price, currency, country/device/browser/os, anonymised IP,
 * properties, context) from a drifting population of shoppers (page views, searches, product
 * views, cart adds and removals, checkouts, payment failures, orders) are appended to an event
 * log first (not timed). Then, each in the caller's thread (one core):
 *   rows     ff_row_from_record over every record (the JSON parse both consumers pay),
 *   store    the store's consumer (ff_store_poll until caught up, seals included),
 *   stream   the stream processor (ff_stream_poll until caught up, derived records appended,
 *            one checkpoint at the end), first with the default risk rules and anomaly
 *            detection (src/stream/ff_rules.h, ff_anomaly.h) but without writing derived
 *            records (so the log stays the same for the second run), then without rules.
 * Memory: mem-users persons with two events each (a page view, then a cart add) inside ten
 * minutes of event time, so all are active users with an open session at the end; reports
 * the processor's own estimate of its per-person state and the process RSS growth.
 *
 * Prints one JSON line per measurement; never asserts on time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_clock.h"
#include "store/ff_schema.h"
#include "store/ff_store.h"
#include "stream/ff_stream.h"

static struct {
    uint64_t rng;
    char dir[512];
    uint64_t alerts;
} g = {.rng = 0x9e3779b97f4a7c15ull};

static void count_alert(void *ctx, const ff_alert_fire *f)
{
    (void)ctx;
    (void)f;
    g.alerts++;
}

static uint64_t rnd(void)
{
    uint64_t x = g.rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return g.rng = x;
}

static double now_s(void)
{
    return (double)ff_clock_mono_ns() / 1e9;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static const char *const events[] = {"page_viewed",      "products_searched", "product_viewed",
                                     "product_viewed",   "product_added",     "product_removed",
                                     "checkout_started", "payment_failed",    "order_completed"};
static const int weights[] = {40, 6, 25, 0, 12, 3, 6, 2, 6};

static const char *pick_event(void)
{
    int r = (int)(rnd() % 100), acc = 0;
    for (size_t i = 0; i < sizeof weights / sizeof weights[0]; i++) {
        acc += weights[i];
        if (r < acc)
            return events[i];
    }
    return events[0];
}

/* One canonical record into b (payload format: u32 length + bytes). */
static void make_record(ff_buf *b, uint64_t i, const char *ev, uint64_t user, int64_t ts)
{
    char rec[2048];
    static const char *const cur[] = {"USD", "EUR", "GBP"};
    static const char *const pm[] = {"credit_card", "paypal", "apple_pay"};
    unsigned p = (unsigned)(rnd() % 500);
    bool page = !strcmp(ev, "page_viewed");
    int n = snprintf(
        rec, sizeof rec,
        "{\"v\":1,\"event_id\":\"0193%012" PRIx64 "-7000-8000-%012" PRIx64 "\",\"type\":\"%s\","
        "\"event\":\"%s\",\"ts\":%" PRId64 ",\"received_at\":%" PRId64
        ",\"user_id\":\"user-%" PRIu64 "\",\"anonymous_id\":\"anon-%016" PRIx64
        "\",\"url\":\"https://shop.example/%s/%u?utm_source=news\","
        "\"referrer\":\"https://www.google.com/\",\"product_id\":\"sku-%u\",\"category\":\"shoes\","
        "\"price\":\"%u.99\",\"quantity\":%u,%s%s%s\"currency\":\"%s\",%s%s%s\"country\":\"DE\","
        "\"device\":\"desktop\",\"browser\":\"Chrome\",\"os\":\"Windows\",\"ip\":\"203.0.113.0\","
        "\"properties\":{\"name\":\"Runner %u\",\"brand\":\"Acme\",\"variant\":\"blue\","
        "\"payment_method\":\"%s\"},\"context\":{\"library\":{\"name\":\"analytics.js\","
        "\"version\":\"4.1.0\"},\"locale\":\"de-DE\",\"userAgent\":\"Mozilla/5.0 (Windows NT 10.0; "
        "Win64; x64) AppleWebKit/537.36 Chrome/120.0 Safari/537.36\"}}",
        i, i * 2654435761u, page ? "page" : "track", ev, ts, ts + 40, user, user * 7919,
        page ? "p" : "c", p, p, 10 + p % 90, 1 + p % 3,
        !strcmp(ev, "order_completed") ? "\"order_id\":\"o-" : "",
        !strcmp(ev, "order_completed") ? "x" : "", !strcmp(ev, "order_completed") ? "\"," : "",
        cur[user % 3], !strcmp(ev, "order_completed") ? "\"revenue\":\"" : "",
        !strcmp(ev, "order_completed") ? "42.50" : "", !strcmp(ev, "order_completed") ? "\"," : "",
        p, pm[user % 3]);
    if (!strcmp(ev, "products_searched")) {
        /* add a search term: replace the trailing "}" of the record */
        n--;
        n += snprintf(rec + n, sizeof rec - (size_t)n, ",\"search_term\":\"term %u\"}", p % 50);
    }
    unsigned char hdr[4] = {(unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16), 0};
    ff_buf_add(b, hdr, 4);
    ff_buf_add(b, rec, (size_t)n);
}

static void append_all(ff_evlog *log, ff_buf *b, uint32_t *n_in_buf)
{
    if (!*n_in_buf)
        return;
    ff_err err = {0};
    if (ff_evlog_append(log, b->data, b->len, *n_in_buf, NULL, &err) != FF_OK) {
        fprintf(stderr, "bench_stream: append: %s\n", err.msg);
        exit(1);
    }
    ff_buf_reset(b);
    *n_in_buf = 0;
}

static ff_evlog *open_log(const char *name)
{
    char path[700];
    snprintf(path, sizeof path, "%s/%s", g.dir, name);
    ff_evlog_opts lo = {.dir = path, .sync = FF_EVLOG_SYNC_INTERVAL, .sync_interval_ms = 50};
    ff_evlog *log;
    ff_err err = {0};
    if (ff_evlog_open(&lo, &log, &err) != FF_OK) {
        fprintf(stderr, "bench_stream: %s\n", err.msg);
        exit(1);
    }
    return log;
}

static void wait_durable(ff_evlog *log, uint64_t n)
{
    for (int i = 0; i < 1000; i++) {
        ff_evlog_stats st;
        ff_evlog_stats_get(log, &st);
        if (st.durable_offset >= n)
            return;
        ff_evlog_wait(log, st.durable_offset, 100);
    }
}

int main(int argc, char **argv)
{
    uint64_t n_events = 1000000, n_users = 20000, mem_users = 1000000;
    bool only_stream = false; /* for profiling */
    snprintf(g.dir, sizeof g.dir, "/var/tmp/ff-bench-stream-%d", (int)getpid());
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--events") && i + 1 < argc)
            n_events = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--users") && i + 1 < argc)
            n_users = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--mem-users") && i + 1 < argc)
            mem_users = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--only-stream"))
            only_stream = true;
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            snprintf(g.dir, sizeof g.dir, "%s", argv[++i]);
        else {
            fprintf(stderr, "usage: bench_stream [--events N] [--users N] [--mem-users N] "
                            "[--dir PATH]\n");
            return 2;
        }
    }
    mkdir(g.dir, 0755);
    const int64_t t0 = 1763856000000; /* 2025-11-23 */

    /* ---- throughput ---- */
    ff_evlog *log = open_log("log");
    ff_buf b;
    ff_buf_init(&b, 64u << 20);
    uint32_t nb = 0;
    uint64_t bytes = 0;
    for (uint64_t i = 0; i < n_events; i++) {
        /* a population of n_users drifting by one user per 50 events; 100 events/s of
         * event time, so sessions end (30 min gap) as users drift out */
        uint64_t user = i / 50 + rnd() % n_users;
        int64_t ts = t0 + (int64_t)(i * 10) - (int64_t)(rnd() % 2000); /* a little disorder */
        size_t before = b.len;
        make_record(&b, i, pick_event(), user, ts);
        bytes += b.len - before - 4;
        if (++nb == 2000)
            append_all(log, &b, &nb);
    }
    append_all(log, &b, &nb);
    wait_durable(log, n_events);

    /* rows: the JSON parse alone (twice: the first pass also warms the page cache) */
    uint64_t n = 0;
    double rows_s = 0, t;
    for (int pass = 0; pass < (only_stream ? 0 : 2); pass++) {
        ff_evlog_cursor *cur;
        ff_evlog_cursor_open(log, 0, &cur, NULL);
        ff_arena arena;
        ff_arena_init(&arena, 1u << 20, 1u << 30);
        uint64_t off;
        const void *rec;
        size_t len;
        n = 0;
        t = now_s();
        while (ff_evlog_cursor_next(cur, &off, &rec, &len, NULL) == FF_OK) {
            ff_row row;
            if (ff_row_from_record(rec, len, off, &arena, &row, NULL) == FF_OK)
                n++;
            if (arena.used_bytes > (4u << 20))
                ff_arena_reset(&arena);
            if (off + 1 >= n_events)
                break;
        }
        rows_s = now_s() - t;
        ff_evlog_cursor_close(cur);
        ff_arena_fini(&arena);
    }
    printf("{\"bench\":\"stream\",\"run\":\"rows\",\"events\":%" PRIu64
           ",\"avg_record_bytes\":%.0f,\"seconds\":%.3f,\"events_per_s\":%.0f}\n",
           n, (double)bytes / (double)n_events, rows_s, (double)n / rows_s);

    /* the store's consumer over the same log */
    char sdir[700];
    snprintf(sdir, sizeof sdir, "%s/store", g.dir);
    ff_store_opts so = {.dir = sdir, .log = log, .no_sync = true, .no_merge = true};
    ff_store *store;
    ff_err err = {0};
    if (ff_store_open(&so, &store, &err) != FF_OK) {
        fprintf(stderr, "bench_stream: store: %s\n", err.msg);
        return 1;
    }
    t = now_s();
    uint64_t got = 0, k;
    while (!only_stream && got < n_events && ff_store_poll(store, 0, &k, &err) == FF_OK && k)
        got += k;
    ff_store_flush(store, &err);
    double store_s = now_s() - t;
    ff_store_close(store);
    printf("{\"bench\":\"stream\",\"run\":\"store_consumer\",\"events\":%" PRIu64
           ",\"seconds\":%.3f,\"events_per_s\":%.0f}\n",
           got, store_s, (double)got / store_s);

    /* the stream processor, alone and with the default rules + anomaly detection */
    char stdir[700];
    ff_stream *s = NULL;
    ff_stream_stats st;
    double stream_s = 0, ckpt_s = 0, ct;
    long rss0 = 0;
    for (int with_rules = 1; with_rules >= 0; with_rules--) {
        if (s) {
            ff_stream_close(s);
            s = NULL;
        }
        snprintf(stdir, sizeof stdir, "%s/stream%d", g.dir, with_rules);
        ff_rules *rules = NULL;
        ff_anomaly *anomaly = NULL;
        if (with_rules) {
            ff_rules_cfg rc = {0};
            ff_anomaly_opts ao = {0};
            if (ff_rules_new(&rc, &rules, &err) != FF_OK ||
                ff_anomaly_new(&ao, &anomaly, &err) != FF_OK) {
                fprintf(stderr, "bench_stream: rules: %s\n", err.msg);
                return 1;
            }
        }
        ff_stream_opts o = {.dir = stdir,
                            .log = log,
                            .no_sync = true,
                            .rules = rules,
                            .anomaly = anomaly,
                            .sink = count_alert,
                            .sink_ctx = NULL,
                            /* the run without rules (second) writes the derived records */
                            .no_derived = with_rules != 0};
        rss0 = rss_kb();
        if (ff_stream_open(&o, &s, &err) != FF_OK) {
            fprintf(stderr, "bench_stream: stream: %s\n", err.msg);
            return 1;
        }
        t = now_s();
        got = 0;
        while (got < n_events && ff_stream_poll(s, 0, &k, &err) == FF_OK && k)
            got += k;
        stream_s = now_s() - t;
        ct = now_s();
        ff_stream_checkpoint(s, &err);
        ckpt_s = now_s() - ct;
        ff_stream_stats_get(s, &st);
        if (with_rules) {
            printf(
                "{\"bench\":\"stream\",\"run\":\"stream_processor_with_rules\",\"events\":%" PRIu64
                ",\"seconds\":%.3f,\"events_per_s\":%.0f,\"alerts\":%" PRIu64
                ",\"checkpoint_bytes\":%" PRIu64 "}\n",
                got, stream_s, (double)got / stream_s, g.alerts, st.checkpoint_bytes);
            ff_stream_close(s);
            s = NULL;
            ff_rules_free(rules);
            ff_anomaly_free(anomaly);
        }
    }
    ff_buf snap;
    ff_buf_init(&snap, 64u << 20);
    ct = now_s();
    ff_stream_snapshot_json(s, &snap, NULL, NULL);
    double snap_s = now_s() - ct;
    printf("{\"bench\":\"stream\",\"run\":\"stream_processor\",\"events\":%" PRIu64
           ",\"seconds\":%.3f,\"events_per_s\":%.0f,\"vs_store_consumer\":%.2f,\"vs_rows\":%.2f,"
           "\"derived_appended\":%" PRIu64 ",\"sessions_open\":%" PRIu64
           ",\"checkpoint_bytes\":%" PRIu64 ",\"checkpoint_s\":%.3f,\"snapshot_bytes\":%zu,"
           "\"snapshot_s\":%.4f,\"rss_growth_mb\":%.1f}\n",
           got, stream_s, (double)got / stream_s, store_s / stream_s, rows_s / stream_s,
           st.derived_appended, st.sessions_open, st.checkpoint_bytes, ckpt_s, snap.len, snap_s,
           (double)(rss_kb() - rss0) / 1024);
    ff_buf_fini(&snap);
    ff_stream_close(s);
    ff_evlog_close(log);

    /* ---- memory per active user ---- */
    if (mem_users) {
        ff_evlog *mlog = open_log("memlog");
        for (uint64_t i = 0; i < mem_users * 2; i++) {
            uint64_t user = i % mem_users;
            int64_t ts = t0 + (int64_t)(i * 600000 / (mem_users * 2));
            make_record(&b, i, i < mem_users ? "page_viewed" : "product_added", user, ts);
            if (++nb == 2000)
                append_all(mlog, &b, &nb);
        }
        append_all(mlog, &b, &nb);
        wait_durable(mlog, mem_users * 2);
        snprintf(stdir, sizeof stdir, "%s/memstream", g.dir);
        ff_stream_opts mo = {.dir = stdir, .log = mlog, .no_sync = true, .dedupe_max_ids = 1 << 16};
        long r0 = rss_kb();
        if (ff_stream_open(&mo, &s, &err) != FF_OK) {
            fprintf(stderr, "bench_stream: stream: %s\n", err.msg);
            return 1;
        }
        long r1 = rss_kb();
        while (ff_stream_poll(s, 0, &k, &err) == FF_OK && k)
            ;
        ff_stream_stats_get(s, &st);
        long r2 = rss_kb();
        ff_buf sj;
        ff_buf_init(&sj, 64u << 20);
        ff_stream_snapshot_json(s, &sj, NULL, NULL);
        const char *au = strstr(sj.data, "\"30m\":");
        printf("{\"bench\":\"stream\",\"run\":\"memory\",\"persons\":%" PRIu64
               ",\"active_users_30m\":%lld,\"sessions_open\":%" PRIu64
               ",\"state_bytes_est\":%zu,\"state_bytes_per_person\":%.0f,"
               "\"rss_growth_mb\":%.1f,\"rss_bytes_per_person\":%.0f,\"fixed_rss_mb\":%.1f}\n",
               mem_users, au ? atoll(au + 6) : -1LL, st.sessions_open, st.state_bytes,
               (double)st.state_bytes / (double)mem_users, (double)(r2 - r1) / 1024,
               (double)(r2 - r1) * 1024 / (double)mem_users, (double)(r1 - r0) / 1024);
        ff_buf_fini(&sj);
        ff_stream_close(s);
        ff_evlog_close(mlog);
    }
    ff_buf_fini(&b);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g.dir);
    if (system(cmd) != 0)
        fprintf(stderr, "bench_stream: could not remove %s\n", g.dir);
    return 0;
}
