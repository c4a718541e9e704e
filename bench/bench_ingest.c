/* bench_ingest.c -- load generator for the ingest path (POST /v1/batch) and its peer.
 *
 * WHAT: sends pre-built batches of realistic e-commerce track events over
 * loopback, on several keep-alive connections at once, and prints one JSON
 * line per run: events/s, MB/s, latency to the response (p50/p90/p99/p99.9),
 * and -- given --watch-pid -- the server's RSS and CPU over the measured
 * window. Two body formats:
 *   --target footfall    POST /v1/batch, {"batch":[...],"sentAt":...}, Basic auth
 *   --target clickhouse  POST /?query=INSERT INTO <table> FORMAT JSONEachRow, the same
 *                        events flattened to one row per line (table: bench/ingest.sh)
 * The same binary also runs a trivial sink (--sink ADDR): an HTTP server that
 * reads each request and answers 200 without looking at it. Pointing the
 * generator at the sink measures the client's own ceiling on this machine.
 *
 * DESIGN: everything that costs CPU on the client is done before timing: the
 * events are generated from a seeded PRNG, rendered into request bodies and,
 * with --gzip, compressed. The timed loop is writev/sendmsg + a minimal
 * HTTP/1.1 response reader (Content-Length, chunked, close), one blocking
 * socket per thread, closed loop (a thread sends its next batch when the
 * previous one was answered). Latency is taken from just before the request
 * is written to the end of the response, into a per-thread log-linear
 * histogram (about 1.6 % resolution), merged at the end.
 *   Unique ids: the collector dedupes by messageId, so a resent id would be
 * dropped, not stored, and make the server look faster. Every event's id is a
 * UUID whose last 12 hex digits are a "pass" counter; when a thread reuses a
 * body it re-stamps those digits in place. Gzip bodies are built so that each
 * pass field is a 12-byte stored block inside the deflate stream (see
 * gzip_body), so they are re-stamped the same way, plus a CRC-32 of the plain
 * text for the trailer (about 16 us per 90 KB body). The cost: a deflate
 * block boundary per event, so gzip bodies are larger than an ordinary gzip
 * of the same text (both ratios are reported).
 *   Phases: connect -> warmup (not counted) -> measure -> stop. A response
 * counts when it completes inside the measure window, so events/s =
 * events acknowledged in the window / window length.
 *
 * INVARIANTS:
 *  (1) Only 2xx responses count as acknowledged events; everything else is
 *      counted by class and the first error body is printed to stderr.
 *  (2) Every loop is bounded: the run by --duration (<= 3600 s) and
 *      --requests, each socket operation by --timeout-ms, reconnects by a
 *      consecutive-failure limit, the sink by --sink-seconds.
 *  (3) Thread t only touches bodies i with i % conns == t, so in-place id
 *      stamping never races with another sender.
 *
 * THREADING: main thread (phases, output), one sender thread per connection,
 * one sampler thread (server RSS/CPU, per-interval throughput). Shared state
 * is the phase flag and counters in g, all atomics.
 * OWNERSHIP: bodies are owned by g and freed at exit; each thread owns its
 * connection buffer and histogram.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/ff_buf.h"
#include "core/ff_clock.h"
#include "core/ff_mem.h"

/* ---- bounds ------------------------------------------------------------- */

#define MAX_CONNS 256
#define MAX_BATCH 10000
#define MAX_EVENTS 20000000u
#define MAX_DURATION_S 3600.0
#define MAX_WARMUP_S 600.0
#define MAX_BODY_BYTES (64u * 1024 * 1024)
#define RBUF_BYTES 65536
#define ERR_SNIPPET 512
#define MAX_CONSEC_FAIL 200
#define MAX_TIMELINE 4096
#define ID_PASS_HEX 12 /* last UUID group: the pass counter */

/* ---- latency histogram (log-linear, 64 sub-buckets per power of two) ----- */

#define H_LINEAR 128u
#define H_BUCKETS (58u * 64u + 128u)

typedef struct hist {
    uint64_t n[H_BUCKETS];
    uint64_t count;
    uint64_t sum_ns;
    uint64_t max_ns;
} hist;

static unsigned hist_index(uint64_t v)
{
    if (v < H_LINEAR)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v); /* >= 7 */
    unsigned shift = msb - 6u;
    return shift * 64u + (unsigned)(v >> shift); /* (v >> shift) in [64, 127] */
}

static uint64_t hist_value(unsigned idx) /* midpoint of the bucket */
{
    if (idx < H_LINEAR)
        return idx;
    unsigned shift = idx / 64u - 1u;
    uint64_t m = idx % 64u + 64u;
    return (m << shift) + ((1ull << shift) >> 1);
}

static void hist_add(hist *h, uint64_t ns)
{
    unsigned i = hist_index(ns);
    if (i >= H_BUCKETS)
        i = H_BUCKETS - 1;
    h->n[i]++;
    h->count++;
    h->sum_ns += ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

static void hist_merge(hist *dst, const hist *src)
{
    for (unsigned i = 0; i < H_BUCKETS; i++)
        dst->n[i] += src->n[i];
    dst->count += src->count;
    dst->sum_ns += src->sum_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
}

static uint64_t hist_quantile(const hist *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if (rank >= h->count)
        rank = h->count - 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < H_BUCKETS; i++) {
        seen += h->n[i];
        if (seen > rank) {
            uint64_t v = hist_value(i);
            return v > h->max_ns ? h->max_ns : v;
        }
    }
    return h->max_ns;
}

/* ---- state ---------------------------------------------------------------- */

enum target { T_FOOTFALL, T_CLICKHOUSE };
enum phase { PH_WARMUP, PH_MEASURE, PH_STOP };

typedef struct body {
    char *data; /* owned; the plain text */
    size_t len;
    uint32_t *id_off; /* offsets of each event's pass field in data */
    char *gz;         /* owned; gzip of data, or NULL */
    size_t gz_len;
    uint32_t *gz_off; /* offsets of each pass field inside gz (stored runs) */
    uint32_t n_events;
    uint64_t pass; /* pass currently stamped (owner thread only) */
} body;

typedef struct opts {
    enum target target;
    const char *url;
    const char *path; /* NULL: the target's default */
    const char *key;
    const char *table;
    const char *label;
    const char *commit;
    const char *build_type;
    const char *sink_addr;
    const char *dump_body; /* write body 0 here and exit */
    unsigned conns;
    unsigned batch;
    unsigned events;
    bool gzip;
    int gzip_level;
    double duration_s;
    double warmup_s;
    uint64_t requests; /* 0 = by duration only */
    uint64_t seed;
    int watch_pid;
    unsigned timeout_ms;
    double sample_every_s;
    double sink_seconds;
} opts;

typedef struct thread_stats {
    hist lat;
    uint64_t ok_req, ok_events, bytes_wire, bytes_raw;
    uint64_t err_http_4xx, err_http_429, err_http_5xx, err_http_other, err_net, reconnects;
    uint64_t restamped;        /* bodies re-sent with new ids */
    uint64_t acked_events_all; /* 2xx in any phase: what the server must now hold */
    int first_err_status;
    char first_err[ERR_SNIPPET];
} thread_stats;

typedef struct sender {
    pthread_t tid;
    unsigned idx;
    thread_stats st;
    char rbuf[RBUF_BYTES];
    size_t rlen, rpos;
    int fd;
    bool fatal;
} sender;

/* The sampler records server RSS and throughput every sample_every_s. */
typedef struct sample {
    double t_s;
    uint64_t events;
    long rss_kb;
} sample;

static struct {
    opts o;
    char host[256];
    char port[16];
    char base_path[512];
    char auth[512];
    body *bodies;
    unsigned n_bodies;
    uint64_t raw_total, wire_total;
    double gen_s, gzip_s;
    double gz_ratio0, gz_ref_ratio; /* body 0: our gzip, an ordinary gzip */
    _Atomic int phase;
    _Atomic uint64_t measured_req;
    _Atomic uint64_t measured_events;
    _Atomic unsigned connected;
    uint64_t t0_ns, t1_ns;
    /* sampler */
    pthread_t sampler;
    bool sampler_on;
    sample tl[MAX_TIMELINE];
    unsigned n_tl;
    long rss_start_kb, rss_end_kb, rss_peak_kb, hwm_end_kb;
    double srv_cpu_start_s, srv_cpu_end_s;
    double mach_start_s, mach_end_s;
} g;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* ---- small helpers --------------------------------------------------------- */

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "bench_ingest: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    exit(2);
}

static void oom_check(ff_rc rc)
{
    if (rc != FF_OK)
        die("buffer", ff_rc_name(rc));
}

static double now_s(void)
{
    return (double)ff_clock_mono_ns() / 1e9;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000u, (long)(ms % 1000u) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned rnd(uint64_t *s, unsigned n)
{
    return (unsigned)(splitmix(s) % n);
}

static void base64(const char *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)(unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)(unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (uint32_t)(unsigned char)in[i + 2];
        out[o++] = tab[(v >> 18) & 63];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
}

static void stamp_hex(char *p, uint64_t v, unsigned digits)
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = digits; i-- > 0;) {
        p[i] = hex[v & 15];
        v >>= 4;
    }
}

/* ---- event generation ------------------------------------------------------- */

/* Rendered JSON strings contain no quote or backslash except where escaped
 * explicitly (json_str), so the tables below must stay plain ASCII. */
static const char *const k_categories[] = {
    "Shoes/Running",          "Shoes/Casual",       "Apparel/T-Shirts", "Apparel/Jackets",
    "Electronics/Headphones", "Electronics/Phones", "Home/Kitchen",     "Home/Bedding",
    "Beauty/Skincare",        "Sports/Outdoor",     "Toys/Building",    "Books/Fiction",
};
static const char *const k_adjectives[] = {"Trail", "Classic", "Ultra", "Eco",      "Urban",
                                           "Pro",   "Soft",    "Rapid", "Heritage", "Nova"};
static const char *const k_nouns[] = {"Runner", "Hoodie", "Tee",   "Jacket", "Earbuds",
                                      "Kettle", "Duvet",  "Serum", "Tent",   "Blocks"};
static const char *const k_brands[] = {"Northwind", "Contoso", "Fabrikam", "Tailspin",
                                       "Litware",   "Adatum",  "Proseware"};
static const char *const k_variants[] = {"S", "M", "L", "XL", "Black", "White", "Blue"};
static const char *const k_currencies[] = {"USD", "EUR", "GBP", "EUR", "USD", "USD"};
static const char *const k_locales[] = {"en-US", "de-DE", "en-GB", "fr-FR", "es-ES", "nl-NL"};
static const char *const k_timezones[] = {"America/New_York", "Europe/Berlin", "Europe/London",
                                          "Europe/Paris",     "Europe/Madrid", "Asia/Tokyo"};
static const char *const k_referrers[] = {"https://www.google.com/",
                                          "https://www.bing.com/",
                                          "https://duckduckgo.com/",
                                          "https://news.example.org/deals",
                                          "",
                                          ""};
static const char *const k_uas[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
};
static const char *const k_queries[] = {"running shoes", "rain jacket", "wireless earbuds",
                                        "gift for dad",  "kettle",      "lego"};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define N_PRODUCTS 5000u
#define N_USERS 50000u

enum ev_kind {
    EV_PRODUCT_VIEWED,
    EV_PRODUCT_LIST_VIEWED,
    EV_PRODUCTS_SEARCHED,
    EV_PRODUCT_ADDED,
    EV_PRODUCT_REMOVED,
    EV_CART_VIEWED,
    EV_CHECKOUT_STARTED,
    EV_ORDER_COMPLETED,
};
static const char *const k_event_names[] = {
    "Product Viewed",  "Product List Viewed", "Products Searched", "Product Added",
    "Product Removed", "Cart Viewed",         "Checkout Started",  "Order Completed",
};
/* Cumulative weights out of 100. */
static const unsigned k_event_cum[] = {45, 60, 68, 80, 83, 90, 95, 100};

typedef struct product {
    unsigned idx;
    char id[16];
    char sku[24];
    char name[40];
    const char *category;
    const char *brand;
    const char *variant;
    unsigned price_cents;
} product;

static void product_get(unsigned idx, product *p)
{
    uint64_t s = 0xC0FFEEull ^ ((uint64_t)idx * 0x100000001B3ull);
    p->idx = idx;
    snprintf(p->id, sizeof p->id, "prod_%05u", idx);
    p->variant = k_variants[rnd(&s, NELEM(k_variants))];
    snprintf(p->sku, sizeof p->sku, "SKU-%05u-%s", idx, p->variant);
    snprintf(p->name, sizeof p->name, "%s %s %u", k_adjectives[rnd(&s, NELEM(k_adjectives))],
             k_nouns[rnd(&s, NELEM(k_nouns))], 1 + rnd(&s, 9));
    p->category = k_categories[rnd(&s, NELEM(k_categories))];
    p->brand = k_brands[rnd(&s, NELEM(k_brands))];
    p->price_cents = 299 + rnd(&s, 49700);
}

typedef struct event {
    char id[40]; /* UUID, last group = pass field */
    int64_t ts_ms;
    enum ev_kind kind;
    char user_id[16]; /* empty for anonymous visitors */
    char anon_id[40];
    char ip[16];
    const char *ua;
    const char *locale;
    const char *tz;
    const char *referrer;
    const char *currency;
    char url[128];
    char path[96];
    char title[96];
    product prod; /* the product, or the first one of an order */
    unsigned quantity;
    unsigned position;
    unsigned n_items; /* order lines for Order Completed */
    product items[4];
    unsigned item_qty[4];
    char order_id[20];
    char coupon[12];
    const char *query;
} event;

static void uuid_for(uint64_t seed, char out[37])
{
    uint64_t s = seed;
    uint64_t a = splitmix(&s), b = splitmix(&s);
    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012" PRIx64, (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffffu, (unsigned)a & 0xfffu,
             (unsigned)(0x8000u | ((b >> 48) & 0x3fffu)), (uint64_t)(b & 0xffffffffffffull));
}

static void event_gen(uint64_t *s, uint32_t idx, int64_t ts_ms, event *e)
{
    memset(e, 0, sizeof *e);
    /* id: 8 hex of the pool index (uniqueness), random middle, pass = 0 */
    uint64_t r = splitmix(s);
    snprintf(e->id, sizeof e->id, "%08x-%04x-4%03x-%04x-%012x", idx, (unsigned)(r >> 48),
             (unsigned)(r >> 36) & 0xfffu, (unsigned)(0x8000u | ((r >> 20) & 0x3fffu)), 0u);
    e->ts_ms = ts_ms;
    unsigned w = rnd(s, 100), k = 0;
    while (w >= k_event_cum[k])
        k++;
    e->kind = (enum ev_kind)k;
    unsigned user = rnd(s, N_USERS);
    uuid_for(0xA110ull + user, e->anon_id);
    if (user % 10 < 7) /* 70 % of the traffic is from logged-in users */
        snprintf(e->user_id, sizeof e->user_id, "user_%06u", user);
    uint64_t us = 0x5EEDull + user;
    unsigned oct = 1 + rnd(&us, 222);
    if (oct == 10 || oct == 127 || oct == 172 || oct == 192)
        oct++;
    snprintf(e->ip, sizeof e->ip, "%u.%u.%u.%u", oct, rnd(&us, 256), rnd(&us, 256),
             1 + rnd(&us, 254));
    e->ua = k_uas[rnd(&us, NELEM(k_uas))];
    unsigned loc = rnd(&us, NELEM(k_locales));
    e->locale = k_locales[loc];
    e->tz = k_timezones[loc];
    e->currency = k_currencies[loc];
    e->referrer = k_referrers[rnd(s, NELEM(k_referrers))];
    product_get(rnd(s, N_PRODUCTS), &e->prod);
    e->quantity = 1 + (rnd(s, 10) == 0 ? rnd(s, 4) : 0);
    e->position = 1 + rnd(s, 24);
    switch (e->kind) {
    case EV_PRODUCT_VIEWED:
    case EV_PRODUCT_ADDED:
    case EV_PRODUCT_REMOVED:
        snprintf(e->path, sizeof e->path, "/p/%s", e->prod.id);
        snprintf(e->title, sizeof e->title, "%s - Shop", e->prod.name);
        break;
    case EV_PRODUCT_LIST_VIEWED:
        snprintf(e->path, sizeof e->path, "/c/%s", e->prod.category);
        snprintf(e->title, sizeof e->title, "%s - Shop", e->prod.category);
        break;
    case EV_PRODUCTS_SEARCHED:
        e->query = k_queries[rnd(s, NELEM(k_queries))];
        snprintf(e->path, sizeof e->path, "/search");
        snprintf(e->title, sizeof e->title, "Search - Shop");
        break;
    case EV_CART_VIEWED:
    case EV_CHECKOUT_STARTED:
        snprintf(e->path, sizeof e->path, "%s", e->kind == EV_CART_VIEWED ? "/cart" : "/checkout");
        snprintf(e->title, sizeof e->title, "%s - Shop",
                 e->kind == EV_CART_VIEWED ? "Cart" : "Checkout");
        break;
    case EV_ORDER_COMPLETED:
        snprintf(e->path, sizeof e->path, "/checkout/complete");
        snprintf(e->title, sizeof e->title, "Thank you - Shop");
        snprintf(e->order_id, sizeof e->order_id, "ORD-%08u", idx);
        if (rnd(s, 4) == 0)
            snprintf(e->coupon, sizeof e->coupon, "SPRING%u", 10 + rnd(s, 3) * 5);
        break;
    }
    if (e->kind == EV_CART_VIEWED || e->kind == EV_CHECKOUT_STARTED ||
        e->kind == EV_ORDER_COMPLETED) {
        e->n_items = 1 + rnd(s, 4);
        e->items[0] = e->prod;
        e->item_qty[0] = e->quantity;
        for (unsigned i = 1; i < e->n_items; i++) {
            product_get(rnd(s, N_PRODUCTS), &e->items[i]);
            e->item_qty[i] = 1 + (rnd(s, 8) == 0);
        }
    }
    char q[64] = "";
    if (e->query) {
        snprintf(q, sizeof q, "?q=%s", e->query);
        for (char *c = q; *c; c++)
            *c = *c == ' ' ? '+' : *c;
    }
    int n = snprintf(e->url, sizeof e->url, "https://shop.example.com%s%s", e->path, q);
    if (n < 0 || (size_t)n >= sizeof e->url)
        e->url[0] =
            '\0'; /* never happens with the generator's paths; keeps -Wformat-truncation quiet */
}

static uint64_t event_subtotal_cents(const event *e)
{
    uint64_t t = 0;
    for (unsigned i = 0; i < e->n_items; i++)
        t += (uint64_t)e->items[i].price_cents * e->item_qty[i];
    return t;
}

static void add_money(ff_buf *b, uint64_t cents)
{
    oom_check(ff_buf_printf(b, "%" PRIu64 ".%02u", cents / 100, (unsigned)(cents % 100)));
}

/* The properties that have no column of their own (CH) -- or all of them. */
static void render_props(ff_buf *b, const event *e, bool all)
{
    bool first = true;
#define SEP() (first ? (first = false, "") : ",")
    oom_check(ff_buf_addc(b, '{'));
    bool has_product = e->kind == EV_PRODUCT_VIEWED || e->kind == EV_PRODUCT_ADDED ||
                       e->kind == EV_PRODUCT_REMOVED;
    if (has_product) {
        if (all)
            oom_check(ff_buf_printf(b, "%s\"product_id\":\"%s\"", SEP(), e->prod.id));
        oom_check(ff_buf_printf(b, "%s\"sku\":\"%s\"", SEP(), e->prod.sku));
        if (all)
            oom_check(ff_buf_printf(b, "%s\"category\":\"%s\"", SEP(), e->prod.category));
        oom_check(ff_buf_printf(b, "%s\"name\":\"%s\",\"brand\":\"%s\",\"variant\":\"%s\"", SEP(),
                                e->prod.name, e->prod.brand, e->prod.variant));
        if (all) {
            oom_check(ff_buf_printf(b, ",\"price\":"));
            add_money(b, e->prod.price_cents);
            oom_check(
                ff_buf_printf(b, ",\"quantity\":%u,\"currency\":\"%s\"", e->quantity, e->currency));
        }
        oom_check(ff_buf_printf(b,
                                ",\"position\":%u,\"url\":\"https://shop.example.com/p/%s\","
                                "\"image_url\":\"https://cdn.shop.example.com/i/%s.jpg\"",
                                e->position, e->prod.id, e->prod.id));
    } else if (e->kind == EV_PRODUCT_LIST_VIEWED) {
        oom_check(ff_buf_printf(b, "%s\"list_id\":\"list_%s\"", SEP(), e->prod.category));
        if (all)
            oom_check(ff_buf_printf(b, ",\"category\":\"%s\"", e->prod.category));
        oom_check(ff_buf_printf(b, ",\"products\":[{\"product_id\":\"%s\",\"position\":%u}]",
                                e->prod.id, e->position));
    } else if (e->kind == EV_PRODUCTS_SEARCHED) {
        oom_check(ff_buf_printf(b, "%s\"query\":\"%s\"", SEP(), e->query));
    } else {
        if (e->kind == EV_ORDER_COMPLETED) {
            uint64_t sub = event_subtotal_cents(e);
            uint64_t ship = sub >= 5000 ? 0 : 495, tax = sub * 8 / 100;
            uint64_t disc = e->coupon[0] ? sub / 10 : 0;
            if (all) {
                oom_check(
                    ff_buf_printf(b, "%s\"order_id\":\"%s\",\"revenue\":", SEP(), e->order_id));
                add_money(b, sub - disc);
            }
            oom_check(ff_buf_printf(b, "%s\"total\":", SEP()));
            add_money(b, sub - disc + ship + tax);
            oom_check(ff_buf_adds(b, ",\"shipping\":"));
            add_money(b, ship);
            oom_check(ff_buf_adds(b, ",\"tax\":"));
            add_money(b, tax);
            oom_check(ff_buf_adds(b, ",\"discount\":"));
            add_money(b, disc);
            if (e->coupon[0])
                oom_check(ff_buf_printf(b, ",\"coupon\":\"%s\"", e->coupon));
            if (all)
                oom_check(ff_buf_printf(b, ",\"currency\":\"%s\"", e->currency));
        } else {
            oom_check(ff_buf_printf(b, "%s\"cart_id\":\"cart_%s\"", SEP(), e->anon_id + 24));
        }
        oom_check(ff_buf_adds(b, ",\"products\":["));
        for (unsigned i = 0; i < e->n_items; i++) {
            const product *p = &e->items[i];
            oom_check(ff_buf_printf(b,
                                    "%s{\"product_id\":\"%s\",\"sku\":\"%s\",\"name\":\"%s\","
                                    "\"category\":\"%s\",\"price\":",
                                    i ? "," : "", p->id, p->sku, p->name, p->category));
            add_money(b, p->price_cents);
            oom_check(ff_buf_printf(b, ",\"quantity\":%u}", e->item_qty[i]));
        }
        oom_check(ff_buf_addc(b, ']'));
    }
#undef SEP
    oom_check(ff_buf_addc(b, '}'));
}

/* Segment track message; *id_pos gets the offset of the id's pass field. */
static void render_segment(ff_buf *b, const event *e, size_t *id_pos)
{
    char ts[32];
    ff_clock_format_rfc3339(e->ts_ms, ts);
    oom_check(ff_buf_adds(b, "{\"type\":\"track\",\"messageId\":\""));
    *id_pos = b->len + 24;
    oom_check(ff_buf_printf(b, "%s\",\"timestamp\":\"%s\",", e->id, ts));
    if (e->user_id[0])
        oom_check(ff_buf_printf(b, "\"userId\":\"%s\",", e->user_id));
    oom_check(ff_buf_printf(b, "\"anonymousId\":\"%s\",\"event\":\"%s\",\"properties\":",
                            e->anon_id, k_event_names[e->kind]));
    render_props(b, e, true);
    oom_check(ff_buf_printf(b,
                            ",\"context\":{\"ip\":\"%s\",\"userAgent\":\"%s\",\"locale\":\"%s\","
                            "\"timezone\":\"%s\",\"library\":{\"name\":\"analytics-node\","
                            "\"version\":\"3.1.0\"},\"page\":{\"path\":\"%s\",\"referrer\":\"%s\","
                            "\"title\":\"%s\",\"url\":\"%s\"}},\"integrations\":{}}",
                            e->ip, e->ua, e->locale, e->tz, e->path, e->referrer, e->title,
                            e->url));
}

/* Append s as the content of a JSON string (escaping quotes and backslashes). */
static void json_str(ff_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '"' || c == '\\')
            oom_check(ff_buf_addc(b, '\\'));
        oom_check(ff_buf_addc(b, c));
    }
}

/* One JSONEachRow line for bench.events (schema in bench/ingest.sh). */
static void render_row(ff_buf *b, ff_buf *tmp, const event *e, size_t *id_pos)
{
    const product *p = &e->prod;
    /* the same fields a Segment-spec reader finds at the top of properties */
    bool has_product = e->kind == EV_PRODUCT_VIEWED || e->kind == EV_PRODUCT_ADDED ||
                       e->kind == EV_PRODUCT_REMOVED;
    bool has_category = has_product || e->kind == EV_PRODUCT_LIST_VIEWED;
    uint64_t revenue = 0;
    if (e->kind == EV_ORDER_COMPLETED) {
        uint64_t sub = event_subtotal_cents(e);
        revenue = sub - (e->coupon[0] ? sub / 10 : 0);
    }
    oom_check(ff_buf_adds(b, "{\"event_id\":\""));
    *id_pos = b->len + 24;
    oom_check(ff_buf_printf(b,
                            "%s\",\"ts\":%" PRId64 ",\"ts_ms\":%" PRId64 ",\"event\":\"%s\","
                            "\"user_id\":\"%s\",\"anonymous_id\":\"%s\",\"url\":\"%s\","
                            "\"referrer\":\"%s\",\"product_id\":\"%s\",\"category\":\"%s\","
                            "\"price\":",
                            e->id, e->ts_ms / 1000, e->ts_ms, k_event_names[e->kind], e->user_id,
                            e->anon_id, e->url, e->referrer, has_product ? p->id : "",
                            has_category ? p->category : ""));
    add_money(b, has_product ? p->price_cents : 0);
    oom_check(ff_buf_printf(b, ",\"quantity\":%u,\"order_id\":\"%s\",\"revenue\":",
                            has_product ? e->quantity : 0, e->order_id));
    add_money(b, revenue);
    oom_check(ff_buf_printf(b,
                            ",\"currency\":\"%s\",\"ip\":\"%s\",\"user_agent\":\"%s\","
                            "\"properties\":\"",
                            e->currency, e->ip, e->ua));
    ff_buf_reset(tmp);
    render_props(tmp, e, false);
    json_str(b, tmp->data, tmp->len);
    oom_check(ff_buf_adds(b, "\"}\n"));
}

/* Feed n bytes to deflate with the given flush; the output buffer is big enough. */
static void z_feed(z_stream *z, const char *p, size_t n, int flush)
{
    z->next_in = (Bytef *)p;
    z->avail_in = (uInt)n;
    int rc = deflate(z, flush);
    if (z->avail_in != 0 || (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR))
        die("deflate", z->msg);
}

/* Compress a body as gzip in which every event's pass field is a stored
 * (uncompressed) block, so it can be re-stamped in place. For each field:
 * deflate the text before it with Z_SYNC_FLUSH (ends the block, byte-aligns
 * the output), append a stored block of those 12 bytes by hand, and tell
 * deflate that 12 bytes went by with deflateSetDictionary, which appends to
 * its history (allowed for raw deflate right after a flush). It is given
 * 0xff bytes, not the digits: the text is ASCII, so no later match can cover
 * those positions, and re-stamped digits are never copied anywhere else.
 * Positions stay aligned with the decoder's history. The gzip header and trailer are
 * written here; the trailer's CRC-32 is recomputed after each re-stamping
 * (body_stamp) from the plain text the body keeps. */
static void gzip_body(body *bd, int level, ff_buf *out)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        die("deflateInit2", NULL);
    size_t cap = 10 + (size_t)deflateBound(&z, (uLong)bd->len) + 32u * bd->n_events + 8;
    ff_buf_reset(out);
    oom_check(ff_buf_reserve(out, cap));
    static const unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    memcpy(out->data, hdr, sizeof hdr);
    uint32_t *gz_off = ff_calloc(bd->n_events, sizeof(uint32_t));
    if (!gz_off)
        die("out of memory", NULL);
    size_t o = sizeof hdr; /* bytes of out used */
    size_t in = 0;
    for (uint32_t j = 0; j <= bd->n_events; j++) {
        bool last = j == bd->n_events;
        size_t pos = last ? bd->len : bd->id_off[j];
        z.next_out = (Bytef *)out->data + o;
        z.avail_out = (uInt)(cap - o - 8);
        uLong before = z.total_out;
        z_feed(&z, bd->data + in, pos - in, last ? Z_FINISH : Z_SYNC_FLUSH);
        o += (size_t)(z.total_out - before);
        if (last)
            break;
        /* stored block: BFINAL 0, BTYPE 00, padding; LEN, NLEN; the bytes */
        if (o + 5 + ID_PASS_HEX + 8 > cap)
            die("gzip: output buffer too small", NULL);
        unsigned char sb[5] = {0, ID_PASS_HEX, 0, (unsigned char)~ID_PASS_HEX, 0xff};
        memcpy(out->data + o, sb, sizeof sb);
        o += sizeof sb;
        memcpy(out->data + o, bd->data + pos, ID_PASS_HEX);
        gz_off[j] = (uint32_t)o;
        o += ID_PASS_HEX;
        static const unsigned char opaque[ID_PASS_HEX] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                                          0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        if (deflateSetDictionary(&z, opaque, ID_PASS_HEX) != Z_OK)
            die("deflateSetDictionary", z.msg);
        in = pos + ID_PASS_HEX;
    }
    deflateEnd(&z);
    uint32_t crc = (uint32_t)crc32(0, (const Bytef *)bd->data, (uInt)bd->len);
    uint32_t isize = (uint32_t)bd->len;
    for (int k = 0; k < 4; k++) {
        out->data[o + (size_t)k] = (char)(crc >> (8 * k));
        out->data[o + 4 + (size_t)k] = (char)(isize >> (8 * k));
    }
    o += 8;
    bd->gz = ff_malloc(o);
    if (!bd->gz)
        die("out of memory", NULL);
    memcpy(bd->gz, out->data, o);
    bd->gz_len = o;
    bd->gz_off = gz_off;
}

/* Write the pass into every id, in the plain text and (gzip) the stored runs,
 * and fix the gzip CRC. Owner thread only. */
static void body_stamp(body *bd, uint64_t pass)
{
    for (uint32_t j = 0; j < bd->n_events; j++) {
        stamp_hex(bd->data + bd->id_off[j], pass, ID_PASS_HEX);
        if (bd->gz)
            memcpy(bd->gz + bd->gz_off[j], bd->data + bd->id_off[j], ID_PASS_HEX);
    }
    if (bd->gz) {
        uint32_t crc = (uint32_t)crc32(0, (const Bytef *)bd->data, (uInt)bd->len);
        char *t = bd->gz + bd->gz_len - 8;
        for (int k = 0; k < 4; k++)
            t[k] = (char)(crc >> (8 * k));
    }
    bd->pass = pass;
}

/* Re-stamp body 0, inflate it and compare with its plain text; then put it
 * back. Guards the stored-block construction against a zlib that behaves
 * differently. */
static void gzip_selfcheck(body *bd)
{
    body_stamp(bd, 1);
    char *plain = ff_malloc(bd->len + 1);
    if (!plain)
        die("out of memory", NULL);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK)
        die("inflateInit2", NULL);
    z.next_in = (Bytef *)bd->gz;
    z.avail_in = (uInt)bd->gz_len;
    z.next_out = (Bytef *)plain;
    z.avail_out = (uInt)bd->len + 1;
    int rc = inflate(&z, Z_FINISH);
    bool same =
        rc == Z_STREAM_END && z.total_out == bd->len && memcmp(plain, bd->data, bd->len) == 0;
    inflateEnd(&z);
    ff_free(plain);
    if (!same)
        die("gzip self-check failed: a re-stamped body does not inflate to its text", z.msg);
    body_stamp(bd, 0);
}

static void bodies_build(void)
{
    const opts *o = &g.o;
    g.n_bodies = (o->events + o->batch - 1) / o->batch;
    if (g.n_bodies < o->conns)
        g.n_bodies = o->conns; /* every thread owns at least one body */
    g.bodies = ff_calloc(g.n_bodies, sizeof(body));
    if (!g.bodies)
        die("out of memory", NULL);
    uint64_t s = o->seed;
    int64_t now = ff_clock_now_ms();
    int64_t t_base = now - 3600 * 1000; /* the last hour */
    uint64_t n_total = (uint64_t)g.n_bodies * o->batch;
    char sent_at[32];
    ff_clock_format_rfc3339(now, sent_at);
    ff_buf b, tmp, zbuf;
    ff_buf_init(&b, MAX_BODY_BYTES);
    ff_buf_init(&tmp, 1u << 20);
    ff_buf_init(&zbuf, MAX_BODY_BYTES);
    double t0 = now_s();
    uint32_t ev_idx = 0;
    event e;
    for (unsigned i = 0; i < g.n_bodies; i++) {
        body *bd = &g.bodies[i];
        bd->n_events = o->batch;
        bd->id_off = ff_calloc(o->batch, sizeof(uint32_t));
        if (!bd->id_off)
            die("out of memory", NULL);
        ff_buf_reset(&b);
        if (o->target == T_FOOTFALL)
            oom_check(ff_buf_adds(&b, "{\"batch\":["));
        for (unsigned j = 0; j < o->batch; j++, ev_idx++) {
            int64_t ts = t_base + (int64_t)((double)ev_idx * 3.6e6 / (double)n_total);
            event_gen(&s, ev_idx, ts + rnd(&s, 50), &e);
            size_t pos;
            if (o->target == T_FOOTFALL) {
                if (j)
                    oom_check(ff_buf_addc(&b, ','));
                render_segment(&b, &e, &pos);
            } else {
                render_row(&b, &tmp, &e, &pos);
            }
            bd->id_off[j] = (uint32_t)pos;
        }
        if (o->target == T_FOOTFALL)
            oom_check(ff_buf_printf(&b, "],\"sentAt\":\"%s\"}", sent_at));
        bd->len = b.len;
        bd->data = ff_malloc(b.len + 1);
        if (!bd->data)
            die("out of memory", NULL);
        memcpy(bd->data, b.data, b.len + 1);
        g.raw_total += bd->len;
    }
    g.gen_s = now_s() - t0;
    if (o->gzip) {
        t0 = now_s();
        for (unsigned i = 0; i < g.n_bodies; i++)
            gzip_body(&g.bodies[i], o->gzip_level, &zbuf);
        g.gzip_s = now_s() - t0;
        gzip_selfcheck(&g.bodies[0]);
        /* for comparison: an ordinary gzip of the first body */
        z_stream z;
        memset(&z, 0, sizeof z);
        if (deflateInit2(&z, o->gzip_level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
            die("deflateInit2", NULL);
        ff_buf_reset(&zbuf);
        oom_check(ff_buf_reserve(&zbuf, deflateBound(&z, (uLong)g.bodies[0].len)));
        z.next_out = (Bytef *)zbuf.data;
        z.avail_out = (uInt)deflateBound(&z, (uLong)g.bodies[0].len);
        z_feed(&z, g.bodies[0].data, g.bodies[0].len, Z_FINISH);
        g.gz_ref_ratio = (double)g.bodies[0].len / (double)z.total_out;
        g.gz_ratio0 = (double)g.bodies[0].len / (double)g.bodies[0].gz_len;
        deflateEnd(&z);
    }
    for (unsigned i = 0; i < g.n_bodies; i++)
        g.wire_total += g.bodies[i].gz ? g.bodies[i].gz_len : g.bodies[i].len;
    ff_buf_fini(&b);
    ff_buf_fini(&tmp);
    ff_buf_fini(&zbuf);
}

static void bodies_free(void)
{
    for (unsigned i = 0; i < g.n_bodies; i++) {
        ff_free(g.bodies[i].data);
        ff_free(g.bodies[i].id_off);
        ff_free(g.bodies[i].gz);
        ff_free(g.bodies[i].gz_off);
    }
    ff_free(g.bodies);
    g.bodies = NULL;
}

/* ---- minimal HTTP/1.1 client ------------------------------------------------- */

static int tcp_connect(unsigned timeout_ms)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(g.host, g.port, &hints, &res) != 0 || !res)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd;
}

static bool send_all(int fd, struct iovec *iov, int n)
{
    while (n > 0) {
        struct msghdr m;
        memset(&m, 0, sizeof m);
        m.msg_iov = iov;
        m.msg_iovlen = (size_t)n;
        ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        size_t left = (size_t)w;
        while (n > 0 && left >= iov->iov_len) {
            left -= iov->iov_len;
            iov++;
            n--;
        }
        if (n > 0) {
            iov->iov_base = (char *)iov->iov_base + left;
            iov->iov_len -= left;
        }
    }
    return true;
}

/* Read more bytes into the sender's buffer; false on EOF, error or timeout. */
static bool rfill(sender *s)
{
    if (s->rpos > 0) {
        memmove(s->rbuf, s->rbuf + s->rpos, s->rlen - s->rpos);
        s->rlen -= s->rpos;
        s->rpos = 0;
    }
    if (s->rlen >= sizeof s->rbuf)
        return false; /* a header or chunk line longer than the buffer */
    for (;;) {
        ssize_t r = recv(s->fd, s->rbuf + s->rlen, sizeof s->rbuf - s->rlen, 0);
        if (r > 0) {
            s->rlen += (size_t)r;
            return true;
        }
        if (r < 0 && errno == EINTR)
            continue;
        return false;
    }
}

/* Find a CRLF-terminated line at rpos; returns its length (without CRLF). */
static bool rline(sender *s, const char **line, size_t *len)
{
    for (;;) {
        char *p = s->rbuf + s->rpos;
        size_t avail = s->rlen - s->rpos;
        char *nl = memchr(p, '\n', avail);
        if (nl) {
            *line = p;
            *len = (size_t)(nl - p);
            if (*len && p[*len - 1] == '\r')
                (*len)--;
            s->rpos += (size_t)(nl - p) + 1;
            return true;
        }
        if (!rfill(s))
            return false;
    }
}

/* Consume n body bytes, keeping the first ones in keep (when non-NULL). */
static bool rskip(sender *s, uint64_t n, char *keep, size_t keep_cap, size_t *kept)
{
    while (n > 0) {
        if (s->rpos == s->rlen) {
            s->rpos = s->rlen = 0;
            if (!rfill(s))
                return false;
        }
        size_t take = s->rlen - s->rpos;
        if (take > n)
            take = (size_t)n;
        if (keep && *kept + 1 < keep_cap) {
            size_t k = keep_cap - 1 - *kept;
            if (k > take)
                k = take;
            memcpy(keep + *kept, s->rbuf + s->rpos, k);
            *kept += k;
            keep[*kept] = '\0';
        }
        s->rpos += take;
        n -= take;
    }
    return true;
}

/* Read one response. Returns the status, or -1 on a broken connection.
 * *must_close is set when the server will close. */
static int http_read_response(sender *s, bool *must_close, char *keep, size_t keep_cap)
{
    const char *line;
    size_t len;
    size_t kept = 0;
    if (keep)
        keep[0] = '\0';
    int status;
    for (;;) { /* skip 1xx interim responses */
        if (!rline(s, &line, &len))
            return -1;
        if (len < 12 || memcmp(line, "HTTP/1.", 7) != 0)
            return -1;
        status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
        bool http10 = line[7] == '0';
        int64_t clen = -1;
        bool chunked = false;
        *must_close = http10;
        for (;;) {
            if (!rline(s, &line, &len))
                return -1;
            if (len == 0)
                break;
            if (len > 15 && strncasecmp(line, "content-length:", 15) == 0) {
                clen = strtoll(line + 15, NULL, 10);
            } else if (len > 18 && strncasecmp(line, "transfer-encoding:", 18) == 0) {
                chunked = memmem(line, len, "chunked", 7) != NULL;
            } else if (len > 11 && strncasecmp(line, "connection:", 11) == 0) {
                if (memmem(line, len, "close", 5))
                    *must_close = true;
                else if (memmem(line, len, "eep-alive", 9))
                    *must_close = false;
            }
        }
        if (status >= 100 && status < 200)
            continue;
        char *kb = status >= 200 && status < 300 ? NULL : keep;
        if (status == 204 || status == 304) {
            return status;
        } else if (chunked) {
            for (;;) {
                if (!rline(s, &line, &len))
                    return -1;
                char tmp[24];
                size_t n = len < sizeof tmp - 1 ? len : sizeof tmp - 1;
                memcpy(tmp, line, n);
                tmp[n] = '\0';
                uint64_t csz = strtoull(tmp, NULL, 16);
                if (csz == 0) {
                    do { /* trailers until an empty line */
                        if (!rline(s, &line, &len))
                            return -1;
                    } while (len != 0);
                    break;
                }
                if (!rskip(s, csz, kb, keep_cap, &kept) || !rline(s, &line, &len))
                    return -1;
            }
        } else if (clen >= 0) {
            if (!rskip(s, (uint64_t)clen, kb, keep_cap, &kept))
                return -1;
        } else {
            /* body until close */
            while (rskip(s, 1u << 20, kb, keep_cap, &kept))
                ;
            *must_close = true;
        }
        return status;
    }
}

/* ---- sender threads ------------------------------------------------------------- */

static void *sender_main(void *arg)
{
    sender *s = arg;
    const opts *o = &g.o;
    thread_stats *st = &s->st;
    char hdr[1024];
    char errbuf[ERR_SNIPPET];
    unsigned consec_fail = 0;
    bool counted_connect = false;
    s->fd = -1;
    unsigned bi = s->idx; /* bodies owned: idx, idx + conns, ... */
    uint64_t pass = 0;
    while (atomic_load(&g.phase) != PH_STOP && !g_stop) {
        if (s->fd < 0) {
            s->fd = tcp_connect(o->timeout_ms);
            s->rlen = s->rpos = 0;
            if (s->fd < 0) {
                st->err_net++;
                if (++consec_fail > MAX_CONSEC_FAIL) {
                    s->fatal = true;
                    break;
                }
                sleep_ms(20);
                continue;
            }
            if (!counted_connect) {
                counted_connect = true;
                atomic_fetch_add(&g.connected, 1);
            } else {
                st->reconnects++;
            }
        }
        body *bd = &g.bodies[bi];
        if (bd->pass != pass) {
            body_stamp(bd, pass);
            st->restamped++;
        }
        const char *wire = bd->gz ? bd->gz : bd->data;
        size_t wire_len = bd->gz ? bd->gz_len : bd->len;
        int hl = snprintf(hdr, sizeof hdr,
                          "POST %s HTTP/1.1\r\nHost: %s:%s\r\n%s"
                          "Content-Type: %s\r\n%sContent-Length: %zu\r\n"
                          "User-Agent: footfall-bench-ingest/1\r\n\r\n",
                          g.base_path, g.host, g.port, g.auth,
                          o->target == T_FOOTFALL ? "application/json" : "text/plain",
                          bd->gz ? "Content-Encoding: gzip\r\n" : "", wire_len);
        struct iovec iov[2] = {{hdr, (size_t)hl}, {(char *)wire, wire_len}};
        uint64_t t_start = ff_clock_mono_ns();
        bool must_close = false;
        int status = -1;
        if (send_all(s->fd, iov, 2))
            status = http_read_response(s, &must_close, errbuf, sizeof errbuf);
        uint64_t t_end = ff_clock_mono_ns();
        bool measure = atomic_load(&g.phase) == PH_MEASURE;
        if (status < 0) {
            close(s->fd);
            s->fd = -1;
            if (measure)
                st->err_net++;
            if (++consec_fail > MAX_CONSEC_FAIL) {
                s->fatal = true;
                break;
            }
            continue; /* resend the same body on a new connection */
        }
        consec_fail = 0;
        if (must_close) {
            close(s->fd);
            s->fd = -1;
        }
        bool ok = status >= 200 && status < 300;
        if (ok)
            st->acked_events_all += bd->n_events;
        if (measure) {
            if (ok) {
                hist_add(&st->lat, t_end - t_start);
                st->ok_req++;
                st->ok_events += bd->n_events;
                st->bytes_wire += wire_len;
                st->bytes_raw += bd->len;
                atomic_fetch_add(&g.measured_events, bd->n_events);
                uint64_t n = atomic_fetch_add(&g.measured_req, 1) + 1;
                if (o->requests && n >= o->requests) {
                    int expect = PH_MEASURE;
                    atomic_compare_exchange_strong(&g.phase, &expect, PH_STOP);
                }
            } else {
                if (status == 429)
                    st->err_http_429++;
                else if (status >= 400 && status < 500)
                    st->err_http_4xx++;
                else if (status >= 500)
                    st->err_http_5xx++;
                else
                    st->err_http_other++;
            }
        }
        if (!ok && st->first_err_status == 0) {
            st->first_err_status = status;
            snprintf(st->first_err, sizeof st->first_err, "%s", errbuf);
        }
        if (!ok && (status == 429 || status == 503))
            sleep_ms(1); /* back-pressure: do not spin */
        if (ok || status < 500) {
            bi += o->conns;
            if (bi >= g.n_bodies) {
                bi = s->idx;
                pass++;
            }
        }
    }
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    return NULL;
}

/* ---- server sampler ---------------------------------------------------------------- */

static long proc_status_kb(int pid, const char *field)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long v = -1;
    size_t fl = strlen(field);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, field, fl) == 0 && line[fl] == ':') {
            v = strtol(line + fl + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

static double proc_cpu_s(int pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* comm may contain spaces */
    if (!p)
        return -1;
    unsigned long ut = 0, st = 0;
    /* after ")": state(3) ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt
     * utime(14) stime(15) */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Busy CPU seconds of the whole machine (all cores) since boot: user, nice,
 * system, irq, softirq and steal from the first line of /proc/stat. */
static double machine_busy_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return -1;
    unsigned long long v[8] = {0};
    int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
                   &v[4], &v[5], &v[6], &v[7]);
    fclose(f);
    if (n < 7)
        return -1;
    unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return (double)busy / (double)sysconf(_SC_CLK_TCK);
}

static void *sampler_main(void *arg)
{
    (void)arg;
    const opts *o = &g.o;
    double next = 0;
    while (atomic_load(&g.phase) != PH_STOP && !g_stop) {
        if (atomic_load(&g.phase) == PH_MEASURE) {
            double t = (double)(ff_clock_mono_ns() - g.t0_ns) / 1e9;
            long rss = o->watch_pid > 0 ? proc_status_kb(o->watch_pid, "VmRSS") : -1;
            if (rss > g.rss_peak_kb)
                g.rss_peak_kb = rss;
            if (t >= next && g.n_tl < MAX_TIMELINE) {
                sample *sm = &g.tl[g.n_tl++];
                sm->t_s = t;
                sm->events = atomic_load(&g.measured_events);
                sm->rss_kb = rss;
                next += o->sample_every_s;
            }
        }
        sleep_ms(50);
    }
    return NULL;
}

/* ---- trivial sink -------------------------------------------------------------------- */

typedef struct sink_conn {
    int fd;
    double deadline;
} sink_conn;

static _Atomic unsigned g_sink_live;

static void *sink_conn_main(void *arg)
{
    sink_conn *c = arg;
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               "Content-Length: 16\r\n\r\n{\"success\":true}";
    char *buf = ff_malloc(RBUF_BYTES);
    size_t len = 0;
    while (buf && !g_stop && now_s() < c->deadline) {
        char *end = len ? memmem(buf, len, "\r\n\r\n", 4) : NULL;
        if (!end) {
            if (len == RBUF_BYTES)
                break;
            ssize_t r = recv(c->fd, buf + len, RBUF_BYTES - len, 0);
            if (r <= 0) {
                if (r < 0 && (errno == EINTR || errno == EAGAIN))
                    continue;
                break;
            }
            len += (size_t)r;
            continue;
        }
        size_t hlen = (size_t)(end - buf) + 4;
        uint64_t clen = 0;
        for (char *p = buf; p < end; p++) {
            if ((p == buf || p[-1] == '\n') && strncasecmp(p, "content-length:", 15) == 0)
                clen = strtoull(p + 15, NULL, 10);
        }
        /* discard the body */
        uint64_t have = len - hlen;
        uint64_t extra = have > clen ? have - clen : 0;
        uint64_t need = clen > have ? clen - have : 0;
        while (need > 0) {
            ssize_t r = recv(c->fd, buf, RBUF_BYTES, 0);
            if (r <= 0) {
                if (r < 0 && (errno == EINTR || errno == EAGAIN) && now_s() < c->deadline)
                    continue;
                goto out;
            }
            if ((uint64_t)r > need) {
                extra = (uint64_t)r - need;
                memmove(buf, buf + need, (size_t)extra);
                len = (size_t)extra;
                need = 0;
                goto respond;
            }
            need -= (uint64_t)r;
        }
        if (extra)
            memmove(buf, buf + hlen + clen, (size_t)extra);
        len = (size_t)extra;
    respond:
        if (send(c->fd, resp, sizeof resp - 1, MSG_NOSIGNAL) != (ssize_t)(sizeof resp - 1))
            break;
    }
out:
    ff_free(buf);
    close(c->fd);
    ff_free(c);
    atomic_fetch_sub(&g_sink_live, 1);
    return NULL;
}

static int sink_run(const char *addr, double seconds)
{
    char host[128];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        die("--sink wants HOST:PORT", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        die("--sink wants an IPv4 address", host);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 128) != 0)
        die("bind/listen", strerror(errno));
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    printf("listening http://%s:%u\n", host, (unsigned)ntohs(sa.sin_port));
    fflush(stdout);
    double deadline = now_s() + seconds;
    while (!g_stop && now_s() < deadline) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, 200) <= 0)
            continue;
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
            continue;
        if (atomic_load(&g_sink_live) >= MAX_CONNS) {
            close(cfd);
            continue;
        }
        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct timeval tv = {1, 0}; /* lets threads notice the deadline */
        setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        sink_conn *c = ff_malloc(sizeof *c);
        if (!c) {
            close(cfd);
            continue;
        }
        c->fd = cfd;
        c->deadline = deadline;
        pthread_t t;
        atomic_fetch_add(&g_sink_live, 1);
        if (pthread_create(&t, NULL, sink_conn_main, c) != 0) {
            atomic_fetch_sub(&g_sink_live, 1);
            close(cfd);
            ff_free(c);
            continue;
        }
        pthread_detach(t);
    }
    close(fd);
    for (int i = 0; i < 50 && atomic_load(&g_sink_live) > 0; i++)
        sleep_ms(50);
    return 0;
}

/* ---- output ---------------------------------------------------------------------------- */

static void json_kv_str(ff_buf *b, const char *k, const char *v, bool comma)
{
    oom_check(ff_buf_printf(b, "%s\"%s\":\"", comma ? "," : "", k));
    json_str(b, v ? v : "", v ? strlen(v) : 0);
    oom_check(ff_buf_addc(b, '"'));
}

static void host_info(ff_buf *b)
{
    char model[256] = "unknown", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p += 2;
                p[strcspn(p, "\n")] = '\0';
                snprintf(model, sizeof model, "%s", p);
            }
            break;
        }
    }
    if (f)
        fclose(f);
    long mem_kb = -1;
    f = fopen("/proc/meminfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "MemTotal:", 9) == 0) {
            mem_kb = strtol(line + 9, NULL, 10);
            break;
        }
    }
    if (f)
        fclose(f);
    double la[3] = {0, 0, 0};
    f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
            la[0] = la[1] = la[2] = -1;
        fclose(f);
    }
    struct utsname u;
    uname(&u);
    oom_check(ff_buf_printf(b, ",\"host\":{\"nproc\":%ld", sysconf(_SC_NPROCESSORS_ONLN)));
    json_kv_str(b, "cpu", model, true);
    oom_check(ff_buf_printf(b, ",\"mem_mb\":%ld", mem_kb / 1024));
    json_kv_str(b, "kernel", u.release, true);
    oom_check(ff_buf_printf(b, ",\"loadavg_end\":[%.2f,%.2f,%.2f]}", la[0], la[1], la[2]));
}

static void print_result(const thread_stats *tot, const hist *h, double dur, double cpu_client)
{
    const opts *o = &g.o;
    ff_buf b;
    ff_buf_init(&b, 1u << 20);
    char ts[32];
    ff_clock_format_rfc3339(ff_clock_now_ms(), ts);
    oom_check(ff_buf_adds(&b, "{\"bench\":\"ingest\""));
    json_kv_str(&b, "commit", o->commit, true);
    json_kv_str(&b, "build_type", o->build_type, true);
    json_kv_str(&b, "time", ts, true);
    host_info(&b);
    oom_check(ff_buf_adds(&b, ",\"params\":{"));
    json_kv_str(&b, "label", o->label, false);
    json_kv_str(&b, "target", o->target == T_FOOTFALL ? "footfall" : "clickhouse", true);
    json_kv_str(&b, "url", o->url, true);
    oom_check(ff_buf_printf(&b,
                            ",\"conns\":%u,\"batch\":%u,\"gzip\":%s,\"gzip_level\":%d,"
                            "\"pool_events\":%" PRIu64 ",\"pool_bodies\":%u,"
                            "\"duration_s\":%.1f,\"warmup_s\":%.1f,\"requests\":%" PRIu64
                            ",\"seed\":%" PRIu64 "}",
                            o->conns, o->batch, o->gzip ? "true" : "false", o->gzip_level,
                            (uint64_t)g.n_bodies * o->batch, g.n_bodies, o->duration_s, o->warmup_s,
                            o->requests, o->seed));
    double eps = dur > 0 ? (double)tot->ok_events / dur : 0;
    oom_check(ff_buf_printf(
        &b,
        ",\"results\":{\"window_s\":%.3f,\"requests\":%" PRIu64 ",\"events\":%" PRIu64
        ",\"events_per_s\":%.0f,\"requests_per_s\":%.1f,\"mb_per_s\":%.2f,"
        "\"mb_per_s_uncompressed\":%.2f,\"body_bytes_avg\":%.0f,\"event_bytes_avg\":%.0f,"
        "\"lat_ms\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f,"
        "\"mean\":%.3f}",
        dur, tot->ok_req, tot->ok_events, eps, dur > 0 ? (double)tot->ok_req / dur : 0,
        dur > 0 ? (double)tot->bytes_wire / dur / 1e6 : 0,
        dur > 0 ? (double)tot->bytes_raw / dur / 1e6 : 0, (double)g.wire_total / (double)g.n_bodies,
        (double)g.raw_total / ((double)g.n_bodies * o->batch), (double)hist_quantile(h, 0.50) / 1e6,
        (double)hist_quantile(h, 0.90) / 1e6, (double)hist_quantile(h, 0.99) / 1e6,
        (double)hist_quantile(h, 0.999) / 1e6, (double)h->max_ns / 1e6,
        h->count ? (double)h->sum_ns / (double)h->count / 1e6 : 0));
    oom_check(ff_buf_printf(&b,
                            ",\"errors\":{\"http_4xx\":%" PRIu64 ",\"http_429\":%" PRIu64
                            ",\"http_5xx\":%" PRIu64 ",\"http_other\":%" PRIu64 ",\"net\":%" PRIu64
                            ",\"reconnects\":%" PRIu64 "}",
                            tot->err_http_4xx, tot->err_http_429, tot->err_http_5xx,
                            tot->err_http_other, tot->err_net, tot->reconnects));
    oom_check(ff_buf_printf(
        &b,
        ",\"acked_events_all\":%" PRIu64 ",\"bodies_restamped\":%" PRIu64 ","
        "\"client_cpu_s\":%.2f,\"client_cpu_us_per_event\":%.3f,"
        "\"gen_s\":%.2f,\"gzip_s\":%.2f,\"gzip_ratio\":%.2f,\"gzip_ratio_ordinary\":%.2f",
        tot->acked_events_all, tot->restamped, cpu_client,
        tot->ok_events ? cpu_client * 1e6 / (double)tot->ok_events : 0, g.gen_s, g.gzip_s,
        g.gz_ratio0, g.gz_ref_ratio));
    if (o->watch_pid > 0) {
        double scpu = g.srv_cpu_end_s - g.srv_cpu_start_s;
        oom_check(ff_buf_printf(&b,
                                ",\"server\":{\"pid\":%d,\"rss_start_kb\":%ld,\"rss_end_kb\":%ld,"
                                "\"rss_peak_kb\":%ld,\"vmhwm_kb\":%ld,\"cpu_s\":%.2f,"
                                "\"cpu_us_per_event\":%.3f}",
                                o->watch_pid, g.rss_start_kb, g.rss_end_kb, g.rss_peak_kb,
                                g.hwm_end_kb, scpu,
                                tot->ok_events ? scpu * 1e6 / (double)tot->ok_events : 0));
    }
    /* The whole machine over the window: busy cores, and what was neither this
     * client nor the watched server (other work on a shared machine, plus
     * kernel time not charged to a process, e.g. some loopback softirq). */
    double mach = g.mach_end_s - g.mach_start_s;
    double srv = o->watch_pid > 0 ? g.srv_cpu_end_s - g.srv_cpu_start_s : 0;
    double others = mach - cpu_client - srv;
    oom_check(ff_buf_printf(&b, ",\"machine\":{\"busy_cores\":%.2f,\"others_cores\":%.2f}",
                            dur > 0 ? mach / dur : 0, dur > 0 && others > 0 ? others / dur : 0));
    /* per-interval throughput (and RSS when watched) */
    oom_check(
        ff_buf_printf(&b, ",\"timeline\":{\"every_s\":%.1f,\"events_per_s\":[", o->sample_every_s));
    for (unsigned i = 1; i < g.n_tl; i++) {
        double dt = g.tl[i].t_s - g.tl[i - 1].t_s;
        double v = dt > 0 ? (double)(g.tl[i].events - g.tl[i - 1].events) / dt : 0;
        oom_check(ff_buf_printf(&b, "%s%.0f", i > 1 ? "," : "", v));
    }
    oom_check(ff_buf_adds(&b, "],\"rss_kb\":["));
    for (unsigned i = 0; i < g.n_tl; i++)
        oom_check(ff_buf_printf(&b, "%s%ld", i ? "," : "", g.tl[i].rss_kb));
    oom_check(ff_buf_adds(&b, "]}}}\n"));
    fwrite(b.data, 1, b.len, stdout);
    fflush(stdout);
    ff_buf_fini(&b);
}

/* ---- options --------------------------------------------------------------------------- */

static void usage(void)
{
    fputs("usage: bench_ingest --target footfall|clickhouse --url http://HOST:PORT [options]\n"
          "       bench_ingest --sink 127.0.0.1:0 [--sink-seconds S]\n"
          "  --key KEY          write key (footfall; sent as Basic base64(KEY:))\n"
          "  --path P           request path+query (default: /v1/batch, or the ClickHouse\n"
          "                     INSERT ... FORMAT JSONEachRow query for --table)\n"
          "  --table T          ClickHouse table (default bench.events)\n"
          "  --conns N          concurrent keep-alive connections (default 4, max 256)\n"
          "  --batch N          events per request (default 100)\n"
          "  --events N         distinct events to pre-generate (default 200000)\n"
          "  --gzip             send pre-compressed bodies, Content-Encoding: gzip\n"
          "  --gzip-level N     zlib level for --gzip (default 6)\n"
          "  --duration S       measured window in seconds (default 10, max 3600)\n"
          "  --requests N       stop after N acknowledged requests (default: no limit)\n"
          "  --warmup S         unmeasured warm-up seconds (default 2)\n"
          "  --watch-pid PID    sample this server's RSS and CPU during the window\n"
          "  --sample-every S   timeline interval (default 5)\n"
          "  --timeout-ms N     per socket operation (default 30000)\n"
          "  --seed N           PRNG seed (default 1)\n"
          "  --label TEXT --commit SHA --build-type T   copied into the output line\n"
          "  --dump-body FILE   write the first body to FILE and exit (with --gzip: the gzip\n"
          "                     form, re-stamped once, ids ending in 000000000001)\n",
          stderr);
}

static double arg_num(const char *name, const char *v, double lo, double hi)
{
    char *end;
    double d = strtod(v, &end);
    if (*v == '\0' || *end != '\0' || d < lo || d > hi) {
        fprintf(stderr, "bench_ingest: %s must be a number in [%g, %g], got '%s'\n", name, lo, hi,
                v);
        exit(2);
    }
    return d;
}

static void parse_args(int argc, char **argv)
{
    opts *o = &g.o;
    o->target = T_FOOTFALL;
    o->table = "bench.events";
    o->key = "";
    o->label = "";
    o->commit = "unknown";
#ifdef NDEBUG
    o->build_type = "release";
#else
    o->build_type = "debug";
#endif
    o->conns = 4;
    o->batch = 100;
    o->events = 200000;
    o->gzip_level = 6;
    o->duration_s = 10;
    o->warmup_s = 2;
    o->seed = 1;
    o->timeout_ms = 30000;
    o->sample_every_s = 5;
    o->sink_seconds = 900;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (strcmp(a, name) == 0 && (v || (die("missing value for", name), 0)) && ++i)
        if (strcmp(a, "--gzip") == 0) {
            o->gzip = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage();
            exit(0);
        } else if (OPT("--target")) {
            if (strcmp(v, "footfall") == 0)
                o->target = T_FOOTFALL;
            else if (strcmp(v, "clickhouse") == 0)
                o->target = T_CLICKHOUSE;
            else
                die("unknown --target", v);
        } else if (OPT("--url")) {
            o->url = v;
        } else if (OPT("--path")) {
            o->path = v;
        } else if (OPT("--key")) {
            o->key = v;
        } else if (OPT("--table")) {
            o->table = v;
        } else if (OPT("--label")) {
            o->label = v;
        } else if (OPT("--commit")) {
            o->commit = v;
        } else if (OPT("--build-type")) {
            o->build_type = v;
        } else if (OPT("--sink")) {
            o->sink_addr = v;
        } else if (OPT("--dump-body")) {
            o->dump_body = v;
        } else if (OPT("--conns")) {
            o->conns = (unsigned)arg_num(a, v, 1, MAX_CONNS);
        } else if (OPT("--batch")) {
            o->batch = (unsigned)arg_num(a, v, 1, MAX_BATCH);
        } else if (OPT("--events")) {
            o->events = (unsigned)arg_num(a, v, 1, MAX_EVENTS);
        } else if (OPT("--gzip-level")) {
            o->gzip_level = (int)arg_num(a, v, 1, 9);
        } else if (OPT("--duration")) {
            o->duration_s = arg_num(a, v, 0.1, MAX_DURATION_S);
        } else if (OPT("--warmup")) {
            o->warmup_s = arg_num(a, v, 0, MAX_WARMUP_S);
        } else if (OPT("--requests")) {
            o->requests = (uint64_t)arg_num(a, v, 0, 1e12);
        } else if (OPT("--seed")) {
            o->seed = (uint64_t)arg_num(a, v, 0, 1e15);
        } else if (OPT("--watch-pid")) {
            o->watch_pid = (int)arg_num(a, v, 0, 1e9);
        } else if (OPT("--timeout-ms")) {
            o->timeout_ms = (unsigned)arg_num(a, v, 100, 600000);
        } else if (OPT("--sample-every")) {
            o->sample_every_s = arg_num(a, v, 0.1, 600);
        } else if (OPT("--sink-seconds")) {
            o->sink_seconds = arg_num(a, v, 1, 86400);
        } else {
            usage();
            die("unknown option", a);
        }
#undef OPT
    }
    if (o->sink_addr || o->dump_body)
        return;
    if (!o->url)
        die("--url is required", NULL);
    /* http://HOST:PORT[/path] */
    const char *p = o->url;
    if (strncmp(p, "http://", 7) != 0)
        die("--url must start with http://", o->url);
    p += 7;
    const char *slash = strchr(p, '/');
    size_t hp_len = slash ? (size_t)(slash - p) : strlen(p);
    const char *colon = memchr(p, ':', hp_len);
    if (!colon || (size_t)(colon - p) >= sizeof g.host ||
        hp_len - (size_t)(colon - p) - 1 >= sizeof g.port)
        die("--url needs an explicit port", o->url);
    memcpy(g.host, p, (size_t)(colon - p));
    memcpy(g.port, colon + 1, hp_len - (size_t)(colon - p) - 1);
    if (o->path) {
        snprintf(g.base_path, sizeof g.base_path, "%s", o->path);
    } else if (o->target == T_FOOTFALL) {
        snprintf(g.base_path, sizeof g.base_path, "%s", slash ? slash : "/v1/batch");
    } else {
        snprintf(g.base_path, sizeof g.base_path,
                 "/?%squery=INSERT%%20INTO%%20%s%%20FORMAT%%20JSONEachRow",
                 o->gzip ? "enable_http_compression=1&" : "", o->table);
    }
    if (o->target == T_FOOTFALL && o->key[0]) {
        char kc[256], enc[400];
        int n = snprintf(kc, sizeof kc, "%s:", o->key);
        if (n <= 0 || (size_t)n >= sizeof kc)
            die("--key too long", NULL);
        base64(kc, (size_t)n, enc);
        snprintf(g.auth, sizeof g.auth, "Authorization: Basic %s\r\n", enc);
    }
}

/* ---- main ------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    parse_args(argc, argv);
    const opts *o = &g.o;
    if (o->sink_addr)
        return sink_run(o->sink_addr, o->sink_seconds);

    if (o->dump_body) { /* one body is enough */
        g.o.conns = 1;
        g.o.events = g.o.batch;
    }
    bodies_build();
    if (o->dump_body) {
        FILE *f = fopen(o->dump_body, "wb");
        if (!f)
            die("cannot write", o->dump_body);
        body *bd = &g.bodies[0];
        if (bd->gz) { /* show the re-stamped form: ids end in ...000000000001 */
            body_stamp(bd, 1);
            fwrite(bd->gz, 1, bd->gz_len, f);
        } else {
            fwrite(bd->data, 1, bd->len, f);
        }
        fclose(f);
        bodies_free();
        return 0;
    }
    fprintf(stderr,
            "bench_ingest: %u bodies of %u events, %.1f MB raw, %.1f MB on the wire "
            "(generated in %.2f s, gzip %.2f s)\n",
            g.n_bodies, o->batch, (double)g.raw_total / 1e6, (double)g.wire_total / 1e6, g.gen_s,
            g.gzip_s);

    sender *ss = ff_calloc(o->conns, sizeof(sender));
    if (!ss)
        die("out of memory", NULL);
    atomic_store(&g.phase, PH_WARMUP);
    for (unsigned i = 0; i < o->conns; i++) {
        ss[i].idx = i;
        if (pthread_create(&ss[i].tid, NULL, sender_main, &ss[i]) != 0)
            die("pthread_create", strerror(errno));
    }
    g.rss_peak_kb = -1;
    if (pthread_create(&g.sampler, NULL, sampler_main, NULL) == 0)
        g.sampler_on = true;

    /* warm-up (also waits for the connections, bounded) */
    double t_w = now_s();
    while (!g_stop && now_s() - t_w < o->warmup_s + 10.0) {
        if (atomic_load(&g.connected) == o->conns && now_s() - t_w >= o->warmup_s)
            break;
        sleep_ms(10);
    }
    if (atomic_load(&g.connected) < o->conns)
        fprintf(stderr, "bench_ingest: only %u of %u connections up after warm-up\n",
                atomic_load(&g.connected), o->conns);
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    if (o->watch_pid > 0) {
        g.rss_start_kb = proc_status_kb(o->watch_pid, "VmRSS");
        g.srv_cpu_start_s = proc_cpu_s(o->watch_pid);
    }
    g.mach_start_s = machine_busy_s();
    g.t0_ns = ff_clock_mono_ns();
    atomic_store(&g.phase, PH_MEASURE);
    while (!g_stop && atomic_load(&g.phase) == PH_MEASURE) {
        double el = (double)(ff_clock_mono_ns() - g.t0_ns) / 1e9;
        if (el >= o->duration_s)
            break;
        bool all_dead = true;
        for (unsigned i = 0; i < o->conns; i++)
            all_dead = all_dead && ss[i].fatal;
        if (all_dead)
            break;
        sleep_ms(el + 0.05 < o->duration_s ? 20 : 1);
    }
    atomic_store(&g.phase, PH_STOP);
    g.t1_ns = ff_clock_mono_ns();
    g.mach_end_s = machine_busy_s();
    getrusage(RUSAGE_SELF, &ru1);
    if (o->watch_pid > 0) {
        g.rss_end_kb = proc_status_kb(o->watch_pid, "VmRSS");
        g.hwm_end_kb = proc_status_kb(o->watch_pid, "VmHWM");
        g.srv_cpu_end_s = proc_cpu_s(o->watch_pid);
    }
    if (g.sampler_on) { /* before touching what it writes */
        pthread_join(g.sampler, NULL);
        g.sampler_on = false;
    }
    if (g.rss_end_kb > g.rss_peak_kb)
        g.rss_peak_kb = g.rss_end_kb;
    double t_end_s = (double)(g.t1_ns - g.t0_ns) / 1e9;
    if (g.n_tl < MAX_TIMELINE &&
        (g.n_tl == 0 || t_end_s - g.tl[g.n_tl - 1].t_s >= o->sample_every_s / 2)) {
        /* closing sample, unless the last one was just taken */
        g.tl[g.n_tl].t_s = t_end_s;
        g.tl[g.n_tl].events = atomic_load(&g.measured_events);
        g.tl[g.n_tl].rss_kb = g.rss_end_kb;
        g.n_tl++;
    }
    for (unsigned i = 0; i < o->conns; i++)
        pthread_join(ss[i].tid, NULL);

    thread_stats *tot = ff_calloc(1, sizeof *tot);
    hist *h = ff_calloc(1, sizeof *h);
    if (!tot || !h)
        die("out of memory", NULL);
    bool any_fatal = false;
    for (unsigned i = 0; i < o->conns; i++) {
        thread_stats *st = &ss[i].st;
        hist_merge(h, &st->lat);
        tot->ok_req += st->ok_req;
        tot->ok_events += st->ok_events;
        tot->bytes_wire += st->bytes_wire;
        tot->bytes_raw += st->bytes_raw;
        tot->err_http_4xx += st->err_http_4xx;
        tot->err_http_429 += st->err_http_429;
        tot->err_http_5xx += st->err_http_5xx;
        tot->err_http_other += st->err_http_other;
        tot->err_net += st->err_net;
        tot->reconnects += st->reconnects;
        tot->restamped += st->restamped;
        tot->acked_events_all += st->acked_events_all;
        any_fatal = any_fatal || ss[i].fatal;
        if (st->first_err_status && !tot->first_err_status) {
            tot->first_err_status = st->first_err_status;
            fprintf(stderr, "bench_ingest: first error: HTTP %d: %.300s\n", st->first_err_status,
                    st->first_err);
        }
    }
    double dur = (double)(g.t1_ns - g.t0_ns) / 1e9;
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                 (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    print_result(tot, h, dur, cpu);
    if (any_fatal)
        fprintf(stderr, "bench_ingest: some connections gave up after %d failures in a row\n",
                MAX_CONSEC_FAIL);
    int rc = tot->ok_req > 0 ? 0 : 1;
    ff_free(tot);
    ff_free(h);
    ff_free(ss);
    bodies_free();
    return rc;
}
