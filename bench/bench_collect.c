/* bench_collect.c -- decode throughput of the collector body pipeline.
 *
 * A 100-event batch of realistic browser e-commerce events (analytics.js
 * shape: page views, product views, searches, cart adds, checkout, orders,
 * each with context.page / userAgent / library / locale, messageIds unique
 * per iteration), decoded repeatedly on one thread: parse + validate +
 * normalise + scrub + records + dedupe reserve/commit. Prints JSON lines.
 * Usage: bench_collect [seconds] [gzip 0|1]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "collect/ff_collect.h"
#include "core/ff_clock.h"

#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#define N_EV 100

static const char *const kinds[] = {
    "{\"type\":\"page\",\"name\":\"Product\",\"properties\":{\"path\":\"/p/sku-%d\","
    "\"title\":\"Running shoe %d\",\"url\":\"https://shop.example/p/sku-%d?utm_source=news\","
    "\"referrer\":\"https://www.google.com/\"}",
    "{\"type\":\"track\",\"event\":\"Product Viewed\",\"properties\":{\"product_id\":\"sku-%d\","
    "\"sku\":\"SKU-%d\",\"category\":\"Shoes\",\"name\":\"Running shoe\",\"brand\":\"Acme\","
    "\"variant\":\"blue\",\"price\":89.9%d,\"currency\":\"EUR\",\"position\":3}",
    "{\"type\":\"track\",\"event\":\"Products Searched\",\"properties\":{\"query\":\"blue running "
    "shoes size %d\",\"results\":%d,\"page\":%d}",
    "{\"type\":\"track\",\"event\":\"Product Added\",\"properties\":{\"cart_id\":\"c-%d\","
    "\"product_id\":\"sku-%d\",\"price\":89.90,\"quantity\":%d,\"currency\":\"EUR\"}",
    "{\"type\":\"track\",\"event\":\"Checkout Started\",\"properties\":{\"order_id\":\"o-%d\","
    "\"value\":179.80,\"revenue\":169.80,\"shipping\":5,\"tax\":%d.5,\"discount\":%d,"
    "\"currency\":\"EUR\",\"products\":[{\"product_id\":\"sku-1\",\"price\":89.9,\"quantity\":2}]}",
    "{\"type\":\"track\",\"event\":\"Order Completed\",\"properties\":{\"order_id\":\"o-%d\","
    "\"total\":\"179.80\",\"revenue\":169.8,\"currency\":\"EUR\",\"coupon\":\"SPRING%d\","
    "\"payment_method\":\"card\",\"items\":%d}",
};

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    uint64_t cpu0 = cpu_ns();
    double secs = argc > 1 ? atof(argv[1]) : 3.0;
    int use_gzip = argc > 2 ? atoi(argv[2]) : 0;
    double warm = argc > 3 ? atof(argv[3]) : 0.0; /* uncounted warm-up (fills the dedupe window) */
    static char body[1 << 20];
    size_t idpos[N_EV];
    size_t o = (size_t)snprintf(body, sizeof body, "{\"batch\":[");
    for (int i = 0; i < N_EV; i++) {
        int k = i % 10 < 3    ? 0
                : i % 10 < 6  ? 1
                : i % 10 == 6 ? 2
                : i % 10 < 9  ? 3
                              : 4 + (i % 20 == 9);
        if (i)
            body[o++] = ',';
        o += (size_t)snprintf(body + o, sizeof body - o, kinds[k], i, i % 7 + 1, i % 9 + 1);
        o += (size_t)snprintf(body + o, sizeof body - o,
                              ",\"anonymousId\":\"9b2f%08d-7c1e-4a5b-8f00-1234567890ab\","
                              "\"userId\":%s,\"messageId\":\"ajs-next-",
                              i / 10, i % 3 ? "null" : "\"user-1234\"");
        idpos[i] = o;
        o += (size_t)snprintf(body + o, sizeof body - o,
                              "0000000000-%03d\",\"timestamp\":\"2025-06-15T15:06:%02d.%03dZ\","
                              "\"context\":{\"page\":{\"path\":\"/p/sku-%d\",\"referrer\":"
                              "\"https://www.google.com/\",\"title\":\"Shop\",\"url\":"
                              "\"https://shop.example/p/sku-%d\"},\"userAgent\":\"Mozilla/5.0 "
                              "(Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, "
                              "like Gecko) Version/17.5 Safari/605.1.15\",\"locale\":\"de-DE\","
                              "\"library\":{\"name\":\"analytics.js\",\"version\":\"next-1.70.0\"},"
                              "\"campaign\":{\"source\":\"news\",\"medium\":\"email\"}},"
                              "\"integrations\":{},\"_metadata\":{\"bundled\":[\"Segment.io\"]}}",
                              i, i % 60, i * 7 % 1000, i, i);
    }
    o += (size_t)snprintf(body + o, sizeof body - o,
                          "],\"sentAt\":\"2025-06-15T15:06:39.500Z\",\"writeKey\":\"wk_bench\"}");
    ff_collect_opts opt;
    ff_collect_opts_default(&opt);
    ff_collect *c;
    if (ff_collect_new(&opt, &c, NULL) != FF_OK)
        return 1;
    ff_arena arena;
    ff_arena_init(&arena, 1024 * 1024, 0); /* one chunk holds a whole request: reused */
    ff_collect_out out;                    /* one per worker thread, reused */
    ff_collect_out_init(&out);
    uint64_t iters = 0, recs = 0, payload_bytes = 0;
    uint64_t t0 = ff_clock_mono_ns(), deadline = t0 + (uint64_t)((secs + warm) * 1e9);
    uint64_t t_warm = t0 + (uint64_t)(warm * 1e9), iters_warm = 0, recs_warm = 0, bytes_warm = 0;
    int warmed = warm <= 0;
    char *z = NULL;
    uLong zl = 0;
    while (ff_clock_mono_ns() < deadline) {
        if (!warmed && ff_clock_mono_ns() >= t_warm) {
            warmed = 1;
            iters_warm = iters;
            recs_warm = recs;
            bytes_warm = payload_bytes;
            t0 = ff_clock_mono_ns();
            cpu0 = cpu_ns();
        }
        for (int b = 0; b < 20; b++, iters++) {
            char num[11];
            snprintf(num, sizeof num, "%010llu", (unsigned long long)iters);
            for (int i = 0; i < N_EV; i++)
                memcpy(body + idpos[i], num, 10);
            const char *in = body;
            size_t inlen = o;
            if (use_gzip) {
                zl = compressBound(o) + 64;
                if (!z)
                    z = malloc(zl);
                z_stream zs;
                memset(&zs, 0, sizeof zs);
                deflateInit2(&zs, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
                zs.next_in = (Bytef *)body;
                zs.avail_in = (uInt)o;
                zs.next_out = (Bytef *)z;
                zs.avail_out = (uInt)zl;
                deflate(&zs, Z_FINISH);
                inlen = zs.total_out;
                deflateEnd(&zs);
                in = z;
            }
            ff_collect_req req = {FF_CALL_BATCH, "text/plain", use_gzip ? "gzip" : NULL, in,  inlen,
                                  "203.0.113.9", NULL,         ff_clock_now_ms(),        NULL};
            if (ff_collect_decode(c, &req, &arena, &out) != FF_OK || out.status != 0 ||
                out.n_records != N_EV) {
                fprintf(stderr, "unexpected: status %d %s n=%u rej=%s\n", out.status, out.code,
                        out.n_records, out.rejected.data);
                return 1;
            }
            recs += out.n_records;
            payload_bytes += out.payload.len;
            ff_collect_finish(c, &out, true);
            ff_arena_reset(&arena);
        }
    }
    double el = (double)(ff_clock_mono_ns() - t0) / 1e9;
    double cpu = (double)(cpu_ns() - cpu0) / 1e9;
    iters -= iters_warm;
    recs -= recs_warm;
    payload_bytes -= bytes_warm;
    printf("{\"bench\":\"collect_decode\",\"events_per_batch\":%d,\"body_bytes\":%zu,"
           "\"gzip\":%d,\"seconds\":%.2f,\"batches\":%llu,\"events\":%llu,\"events_per_s\":%.0f,"
           "\"events_per_cpu_s\":%.0f,\"ns_per_event\":%.0f,\"MB_per_s_in\":%.1f,"
           "\"record_bytes_avg\":%.0f}\n",
           N_EV, o, use_gzip, el, (unsigned long long)iters, (unsigned long long)recs,
           (double)recs / el, (double)recs / cpu, cpu * 1e9 / (double)recs,
           (double)iters * (double)o / el / 1e6, (double)payload_bytes / (double)recs);
    free(z);
    ff_collect_out_fini(c, &out);
    ff_arena_fini(&arena);
    ff_collect_free(c);
    return 0;
}
