/* test_sim.c -- the shop simulator (src/sim/ff_sim.h).
 *
 * Parts: the RNG and Zipf sampler; options; determinism; 100k generated
 * messages checked one by one (strict JSON via ff_json_parse, Segment shape,
 * unique messageIds, known event names, required properties, money
 * arithmetic, one Order Completed per order, identity mix, Zipf skew);
 * payment failure rate before and during the payment-failures anomaly;
 * buffer limits and allocation failures; and the sender against a small
 * HTTP/1.1 server running in a thread of this test on 127.0.0.1:0 (pacing,
 * retries after 503 and 429 without loss, rejections, auth failure,
 * unreachable server, stop flag, duration, anomaly plumbing).
 * No timing assertion is tighter than a factor of ~2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_clock.h"
#include "core/ff_json.h"
#include "core/ff_mem.h"
#include "ff_test.h"
#include "sim/ff_sim.h"
#include "sim/ff_sim_int.h"

#define T0_MS 1717200000000LL /* 2024-06-01T00:00:00Z */

/* ---- Test globals (one struct, as style.md asks) ---------------------------- */

static struct {
    ff_arena arena;
    ff_json_error jerr;
} g;

static ff_json *parse(const char *s, size_t n)
{
    ff_json *root = NULL;
    ff_arena_reset(&g.arena);
    if (ff_json_parse(s, n, NULL, &g.arena, &root, &g.jerr) != FF_OK)
        return NULL;
    return root;
}

static const char *jstr(const ff_json *obj, const char *key)
{
    ff_json *v = ff_json_get(obj, key);
    return v && v->type == FF_JSON_STRING ? v->str : NULL;
}

static bool jint(const ff_json *obj, const char *key, int64_t *out)
{
    return ff_json_as_i64(ff_json_get(obj, key), out);
}

/* Money must be written as an exact decimal with two digits: "19.99". */
static bool jmoney(const ff_json *obj, const char *key, int64_t *cents)
{
    ff_json *v = ff_json_get(obj, key);
    if (!v || v->type != FF_JSON_NUMBER || v->len < 4 || v->str[v->len - 3] != '.')
        return false;
    int64_t c = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (i == v->len - 3)
            continue;
        if (v->str[i] < '0' || v->str[i] > '9')
            return false;
        c = c * 10 + (v->str[i] - '0');
    }
    *cents = c;
    return true;
}

/* ---- A string set (open addressing) ---------------------------------------- */

typedef struct strset {
    char **slot;
    uint32_t *val;
    size_t cap, n;
} strset;

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void strset_fini(strset *s)
{
    for (size_t i = 0; i < s->cap; i++)
        free(s->slot[i]);
    free(s->slot);
    free(s->val);
    memset(s, 0, sizeof *s);
}

/* Returns the value slot of key, inserting it (value 0) when absent;
 * *added tells which. */
static uint32_t *strset_put(strset *s, const char *key, size_t n, bool *added)
{
    if (s->n * 2 >= s->cap) {
        strset old = *s;
        s->cap = old.cap ? old.cap * 2 : 1024;
        s->slot = calloc(s->cap, sizeof *s->slot);
        s->val = calloc(s->cap, sizeof *s->val);
        s->n = 0;
        for (size_t i = 0; i < old.cap; i++) {
            if (!old.slot[i])
                continue;
            size_t j = fnv1a(old.slot[i], strlen(old.slot[i])) & (s->cap - 1);
            while (s->slot[j])
                j = (j + 1) & (s->cap - 1);
            s->slot[j] = old.slot[i];
            s->val[j] = old.val[i];
            s->n++;
        }
        free(old.slot);
        free(old.val);
    }
    size_t j = fnv1a(key, n) & (s->cap - 1);
    while (s->slot[j]) {
        if (strlen(s->slot[j]) == n && memcmp(s->slot[j], key, n) == 0) {
            *added = false;
            return &s->val[j];
        }
        j = (j + 1) & (s->cap - 1);
    }
    s->slot[j] = strndup(key, n);
    s->n++;
    *added = true;
    return &s->val[j];
}

/* ---- RNG, Zipf, options ------------------------------------------------------ */

static void test_rng_zipf(void)
{
    ff_simrng r;
    ff_simrng_seed(&r, 1);
    /* ff_simrng_below stays in range and covers it evenly. */
    uint32_t hist[10] = {0};
    for (int i = 0; i < 100000; i++) {
        uint32_t x = ff_simrng_below(&r, 10);
        FF_CHECK(x < 10);
        if (x < 10)
            hist[x]++;
    }
    for (int i = 0; i < 10; i++)
        FF_CHECK(hist[i] > 9000 && hist[i] < 11000);
    /* Zipf-Mandelbrot with q = 2 over 100 ranks: P(0) = (1/2) / sum_k 1/(k+2). */
    ff_zipf z;
    FF_CHECK_EQ(ff_zipf_init(&z, 100, 2), FF_OK);
    double h = 0;
    for (int k = 0; k < 100; k++)
        h += 1.0 / (k + 2);
    uint32_t cnt[100] = {0};
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        uint32_t k = ff_zipf_sample(&z, &r);
        FF_CHECK(k < 100);
        if (k < 100)
            cnt[k]++;
    }
    double p0 = 0.5 / h, p9 = (1.0 / 11) / h, p99 = (1.0 / 101) / h;
    FF_CHECK(cnt[0] > 0.95 * p0 * n && cnt[0] < 1.05 * p0 * n);
    FF_CHECK(cnt[9] > 0.9 * p9 * n && cnt[9] < 1.1 * p9 * n);
    FF_CHECK(cnt[99] > 0.8 * p99 * n && cnt[99] < 1.2 * p99 * n);
    ff_zipf_fini(&z);
    /* One rank: always 0. Bad arguments are refused. */
    FF_CHECK_EQ(ff_zipf_init(&z, 1, 1), FF_OK);
    FF_CHECK_EQ(ff_zipf_sample(&z, &r), 0);
    ff_zipf_fini(&z);
    FF_CHECK_EQ(ff_zipf_init(&z, 0, 1), FF_EINVAL);
    FF_CHECK_EQ(ff_zipf_init(&z, 5, 0), FF_EINVAL);
}

static int g_ticks_seen; /* for callbacks that must never run */

static void tick_count(const ff_sim_stats *st, void *ud)
{
    (void)st;
    (void)ud;
    g_ticks_seen++;
}

static void test_options(void)
{
    ff_sim_anomaly a;
    FF_CHECK_EQ(ff_sim_anomaly_parse(NULL, &a), FF_OK);
    FF_CHECK_EQ(a, FF_SIM_ANOMALY_NONE);
    FF_CHECK_EQ(ff_sim_anomaly_parse("none", &a), FF_OK);
    FF_CHECK_EQ(ff_sim_anomaly_parse("payment-failures", &a), FF_OK);
    FF_CHECK_EQ(a, FF_SIM_ANOMALY_PAYMENT_FAILURES);
    FF_CHECK_EQ(ff_sim_anomaly_parse("payment_failures", &a), FF_EINVAL);

    ff_simgen *gen = NULL;
    ff_err err = {0};
    ff_simgen_opts go = {.seed = 1, .n_users = FF_SIM_MAX_USERS + 1};
    FF_CHECK_EQ(ff_simgen_new(&go, &gen, &err), FF_EINVAL);
    FF_CHECK(gen == NULL);
    FF_CHECK(strstr(err.msg, "n_users") != NULL);
    go = (ff_simgen_opts){.seed = 1, .anomaly = (ff_sim_anomaly)7};
    FF_CHECK_EQ(ff_simgen_new(&go, &gen, &err), FF_EINVAL);
    ff_simgen_free(NULL);

    /* The sender refuses bad options before doing anything, and never calls
     * the callback then. */
    ff_sim_opts bad[] = {
        {.url = NULL, .rate = 10},
        {.url = "", .rate = 10},
        {.url = "http://127.0.0.1:9", .rate = 0},
        {.url = "http://127.0.0.1:9", .rate = -5},
        {.url = "http://127.0.0.1:9", .rate = 10, .duration_s = -1},
        {.url = "http://127.0.0.1:9", .rate = 10, .batch_size = FF_SIM_MAX_BATCH + 1},
        {.url = "http://127.0.0.1:9", .rate = 10, .anomaly = "latency"},
    };
    g_ticks_seen = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ff_sim_stats st;
        FF_CHECK_EQ(ff_sim_run(&bad[i], tick_count, NULL, &st, &err), FF_EINVAL);
        FF_CHECK_EQ(st.n_requests, 0);
    }
    FF_CHECK_EQ(g_ticks_seen, 0);
}

/* ---- Determinism -------------------------------------------------------------- */

static void gen_stream(uint64_t seed, int n, ff_buf *out)
{
    ff_simgen_opts go = {.seed = seed};
    ff_simgen *gen = NULL;
    FF_CHECK_EQ(ff_simgen_new(&go, &gen, NULL), FF_OK);
    if (!gen)
        return;
    for (int i = 0; i < n; i++) {
        FF_CHECK_EQ(ff_simgen_next(gen, T0_MS + i * 37, out), FF_OK);
        ff_buf_addc(out, '\n');
    }
    ff_simgen_free(gen);
}

static void test_determinism(void)
{
    ff_buf a, b, c;
    ff_buf_init(&a, 0);
    ff_buf_init(&b, 0);
    ff_buf_init(&c, 0);
    gen_stream(42, 20000, &a);
    gen_stream(42, 20000, &b);
    gen_stream(43, 20000, &c);
    FF_CHECK(a.len > 20000 * 200);
    FF_CHECK_EQ(a.len, b.len);
    FF_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
    FF_CHECK(a.len != c.len || memcmp(a.data, c.data, a.len) != 0);
    /* Seed 42 is visible in the ids. */
    FF_CHECK(strstr(a.data, "\"messageId\":\"sim-000000000000002a-1\"") != NULL);
    ff_buf_fini(&a);
    ff_buf_fini(&b);
    ff_buf_fini(&c);
}

/* ---- 100k messages, one by one ------------------------------------------------ */

typedef struct event_rule {
    const char *name;
    const char *props[7]; /* required properties */
} event_rule;

static const event_rule k_rules[] = {
    {"Products Searched", {"query"}},
    {"Product List Viewed", {"list_id", "category", "products"}},
    {"Product Clicked", {"product_id", "sku", "category", "name", "price", "currency"}},
    {"Product Viewed", {"product_id", "sku", "category", "name", "price", "currency"}},
    {"Product Added", {"cart_id", "product_id", "sku", "name", "price", "quantity", "currency"}},
    {"Product Removed", {"cart_id", "product_id", "sku", "price", "quantity", "currency"}},
    {"Cart Viewed", {"cart_id", "products"}},
    {"Checkout Started", {"order_id", "value", "revenue", "currency", "products"}},
    {"Payment Info Entered", {"checkout_id", "order_id", "step", "payment_method"}},
    {"Order Completed",
     {"order_id", "total", "revenue", "shipping", "tax", "currency", "products"}},
    {"Payment Failed", {"order_id", "decline_code", "payment_method", "amount", "currency"}},
    {"Signed In", {"username"}},
    {"Signed Up", {"method"}},
    {"Element Clicked", {"element"}},
    {"Page Scrolled", {"depth"}},
    {"Time On Page", {"seconds"}},
    {"Product Added to Wishlist", {"product_id", "wishlist_id", "price"}},
    {"Product Shared", {"product_id", "share_via"}},
    {"Product Reviewed", {"product_id", "review_id", "review_body", "rating"}},
};
#define N_RULES (sizeof k_rules / sizeof k_rules[0])

static bool is_currency(const char *c)
{
    return c && (!strcmp(c, "USD") || !strcmp(c, "EUR") || !strcmp(c, "GBP"));
}

/* Sum of price * quantity over products[]; -1 when malformed. */
static int64_t products_sum(const ff_json *props)
{
    ff_json *arr = ff_json_get(props, "products");
    if (!arr || arr->type != FF_JSON_ARRAY || arr->n_children == 0)
        return -1;
    int64_t sum = 0;
    for (ff_json *p = arr->child; p; p = p->next) {
        int64_t price, qty;
        if (!jmoney(p, "price", &price) || !jint(p, "quantity", &qty) || qty < 1 ||
            !jstr(p, "product_id"))
            return -1;
        sum += price * qty;
    }
    return sum;
}

typedef struct msg_stats {
    uint64_t n_bad; /* messages failing some check (details printed for the first few) */
    uint64_t n_type[3];
    uint64_t n_event[N_RULES];
    uint64_t n_anon_only, n_identified, n_mid_session_login;
    uint64_t n_currency_other;
    uint32_t views[FF_SIM_DEFAULT_PRODUCTS];
} msg_stats;

static void bad(msg_stats *ms, const char *why, const char *msg)
{
    if (ms->n_bad++ < 5)
        fprintf(stderr, "bad message (%s): %.400s\n", why, msg);
}

static void check_context(msg_stats *ms, const ff_json *m, const char *raw)
{
    ff_json *ctx = ff_json_get(m, "context");
    ff_json *page = ff_json_get(ctx, "page");
    ff_json *lib = ff_json_get(ctx, "library");
    const char *url = jstr(page, "url"), *path = jstr(page, "path");
    if (!jstr(ctx, "ip") || !jstr(ctx, "userAgent") || !page || !url || !path ||
        !jstr(page, "title") || !jstr(page, "referrer") ||
        !ff_json_is_str(ff_json_get(lib, "name"), "footfall-sim"))
        bad(ms, "context", raw);
    else if (strncmp(url, "https://shop.example.com/", 25) != 0 || path[0] != '/')
        bad(ms, "page url", raw);
}

static void check_track(msg_stats *ms, const ff_json *m, const char *raw, strset *checkouts,
                        strset *orders)
{
    const char *ev = jstr(m, "event");
    ff_json *props = ff_json_get(m, "properties");
    size_t r = 0;
    while (r < N_RULES && (!ev || strcmp(ev, k_rules[r].name) != 0))
        r++;
    if (r == N_RULES || !props || props->type != FF_JSON_OBJECT) {
        bad(ms, "unknown event", raw);
        return;
    }
    ms->n_event[r]++;
    for (int i = 0; i < 7 && k_rules[r].props[i]; i++)
        if (!ff_json_get(props, k_rules[r].props[i]))
            bad(ms, k_rules[r].props[i], raw);
    int64_t v, cents;
    const char *cur = jstr(props, "currency");
    if (ff_json_get(props, "currency") && !is_currency(cur))
        bad(ms, "currency", raw);
    if (cur && strcmp(cur, "USD") != 0)
        ms->n_currency_other++;
    if (ff_json_get(props, "price") && (!jmoney(props, "price", &cents) || cents <= 0))
        bad(ms, "price", raw);
    if (ff_json_get(props, "quantity") && (!jint(props, "quantity", &v) || v < 1))
        bad(ms, "quantity", raw);
    bool added;
    if (!strcmp(ev, "Product Viewed")) {
        unsigned p;
        const char *pid = jstr(props, "product_id");
        if (pid && sscanf(pid, "prod-%5u", &p) == 1 && p < FF_SIM_DEFAULT_PRODUCTS)
            ms->views[p]++;
        else
            bad(ms, "product_id", raw);
    } else if (!strcmp(ev, "Page Scrolled")) {
        if (!jint(props, "depth", &v) || (v != 25 && v != 50 && v != 75 && v != 100))
            bad(ms, "depth", raw);
    } else if (!strcmp(ev, "Time On Page")) {
        if (!jint(props, "seconds", &v) || v < 1 || v > 3600)
            bad(ms, "seconds", raw);
    } else if (!strcmp(ev, "Product Reviewed")) {
        if (!jint(props, "rating", &v) || v < 1 || v > 5)
            bad(ms, "rating", raw);
    } else if (!strcmp(ev, "Products Searched")) {
        const char *q = jstr(props, "query");
        if (!q || !*q)
            bad(ms, "query", raw);
    } else if (!strcmp(ev, "Checkout Started")) {
        const char *oid = jstr(props, "order_id");
        int64_t sum = products_sum(props);
        if (!oid || sum < 0 || !jmoney(props, "value", &v) || v != sum ||
            !jmoney(props, "revenue", &v) || v != sum)
            bad(ms, "checkout amounts", raw);
        else if (strset_put(checkouts, oid, strlen(oid), &added), !added)
            bad(ms, "checkout order_id reused", raw);
    } else if (!strcmp(ev, "Order Completed")) {
        const char *oid = jstr(props, "order_id");
        int64_t sum = products_sum(props), total, ship, tax;
        if (!oid || sum < 0 || !jmoney(props, "revenue", &v) || v != sum ||
            !jmoney(props, "total", &total) || !jmoney(props, "shipping", &ship) ||
            !jmoney(props, "tax", &tax) || total != sum + ship + tax)
            bad(ms, "order amounts", raw);
        else if (strset_put(checkouts, oid, strlen(oid), &added), added)
            bad(ms, "order without checkout", raw);
        else if (strset_put(orders, oid, strlen(oid), &added), !added)
            bad(ms, "order completed twice", raw);
    } else if (!strcmp(ev, "Payment Failed")) {
        const char *oid = jstr(props, "order_id");
        if (!oid || (strset_put(checkouts, oid, strlen(oid), &added), added))
            bad(ms, "failed payment without checkout", raw);
    }
}

static void test_messages(void)
{
    enum { N = 100000 };
    ff_simgen_opts go = {.seed = 7};
    ff_simgen *gen = NULL;
    FF_CHECK_EQ(ff_simgen_new(&go, &gen, NULL), FF_OK);
    if (!gen)
        return;
    msg_stats *ms = calloc(1, sizeof *ms);
    strset ids = {0}, anon = {0}, checkouts = {0}, orders = {0};
    ff_buf b;
    ff_buf_init(&b, 1 << 20);
    uint64_t n_dup_ids = 0;
    for (int i = 0; i < N; i++) {
        int64_t now = T0_MS + (int64_t)i * 10;
        ff_buf_reset(&b);
        if (ff_simgen_next(gen, now, &b) != FF_OK) {
            bad(ms, "next failed", "");
            continue;
        }
        ff_json *m = parse(b.data, b.len);
        if (!m || m->type != FF_JSON_OBJECT || (m->flags & FF_JSON_F_SUBTREE_BAD)) {
            bad(ms, "not a JSON object", b.data);
            continue;
        }
        const char *type = jstr(m, "type"), *id = jstr(m, "messageId");
        const char *uid = jstr(m, "userId"), *aid = jstr(m, "anonymousId");
        const char *ts = jstr(m, "timestamp");
        int64_t ts_ms;
        if (!type || !id || !ts || !ff_clock_parse_rfc3339(ts, strlen(ts), &ts_ms) ||
            ts_ms != now || strlen(ts) != 24) {
            bad(ms, "header", b.data);
            continue;
        }
        bool added;
        strset_put(&ids, id, strlen(id), &added);
        n_dup_ids += !added;
        if (!aid && !uid) {
            bad(ms, "no identity", b.data);
            continue;
        }
        if (uid)
            ms->n_identified++;
        else
            ms->n_anon_only++;
        /* anon map: bit 0 = this device sent something without userId. */
        uint32_t *st = aid ? strset_put(&anon, aid, strlen(aid), &added) : NULL;
        check_context(ms, m, b.data);
        if (!strcmp(type, "track")) {
            ms->n_type[0]++;
            check_track(ms, m, b.data, &checkouts, &orders);
        } else if (!strcmp(type, "page")) {
            ms->n_type[1]++;
            ff_json *props = ff_json_get(m, "properties");
            const char *url = jstr(props, "url");
            const char *curl = jstr(ff_json_get(ff_json_get(m, "context"), "page"), "url");
            if (!jstr(m, "name") || !url || !curl || strcmp(url, curl) != 0)
                bad(ms, "page", b.data);
        } else if (!strcmp(type, "identify")) {
            ms->n_type[2]++;
            const char *email = jstr(ff_json_get(m, "traits"), "email");
            if (!uid || !email || !strchr(email, '@'))
                bad(ms, "identify", b.data);
            if (st && (*st & 1))
                ms->n_mid_session_login++;
        } else {
            bad(ms, "type", b.data);
        }
        if (st && !uid)
            *st |= 1;
    }
    FF_CHECK_EQ(ms->n_bad, 0);
    FF_CHECK_EQ(n_dup_ids, 0);
    FF_CHECK_EQ(ids.n, N);
    /* All three call types, and every event name of the vocabulary, occur. */
    FF_CHECK(ms->n_type[0] > N / 2 && ms->n_type[1] > N / 20 && ms->n_type[2] > 50);
    for (size_t r = 0; r < N_RULES; r++) {
        if (ms->n_event[r] == 0)
            fprintf(stderr, "never generated: %s\n", k_rules[r].name);
        FF_CHECK(ms->n_event[r] > 0);
    }
    /* A plausible funnel: views > adds > checkouts > orders > 0. */
    uint64_t views = ms->n_event[3], adds = ms->n_event[4], chk = ms->n_event[7];
    uint64_t done = ms->n_event[9];
    FF_CHECK(views > adds && adds > chk && chk > done && done > 50);
    FF_CHECK_EQ(done, orders.n);
    /* Identity mix: both kinds in bulk, and anonymous visitors signing in. */
    FF_CHECK(ms->n_anon_only > N / 5 && ms->n_identified > N / 10);
    FF_CHECK(ms->n_mid_session_login > 20);
    FF_CHECK(ms->n_currency_other > 100);
    /* Zipf: the top product is viewed far more often than the median one. */
    uint32_t sorted[FF_SIM_DEFAULT_PRODUCTS];
    memcpy(sorted, ms->views, sizeof sorted);
    for (int i = 1; i < (int)FF_SIM_DEFAULT_PRODUCTS; i++) /* insertion sort, descending */
        for (int j = i; j > 0 && sorted[j] > sorted[j - 1]; j--) {
            uint32_t t = sorted[j];
            sorted[j] = sorted[j - 1];
            sorted[j - 1] = t;
        }
    uint32_t median = sorted[FF_SIM_DEFAULT_PRODUCTS / 2];
    fprintf(stderr, "  product views: top %u, median %u; orders %llu, identify %llu\n", sorted[0],
            median, (unsigned long long)done, (unsigned long long)ms->n_type[2]);
    FF_CHECK(sorted[0] > 10 * (median ? median : 1));
    ff_simgen_counts c;
    ff_simgen_counts_get(gen, &c);
    FF_CHECK_EQ(c.n_messages, N);
    FF_CHECK_EQ(c.n_orders, done);
    FF_CHECK_EQ(c.n_payment_failures, ms->n_event[10]);
    FF_CHECK(c.n_sessions > 1000);
    ff_buf_fini(&b);
    strset_fini(&ids);
    strset_fini(&anon);
    strset_fini(&checkouts);
    strset_fini(&orders);
    free(ms);
    ff_simgen_free(gen);
}

/* ---- Payment failure rate, normal and during the anomaly ------------------------ */

static void test_payment_failures(void)
{
    enum { N_NORMAL = 500000, N_ANOMALY = 100000, STEP_MS = 2 };
    ff_simgen_opts go = {.seed = 99,
                         .anomaly = FF_SIM_ANOMALY_PAYMENT_FAILURES,
                         .anomaly_start_ms = (int64_t)N_NORMAL * STEP_MS};
    ff_simgen *gen = NULL;
    FF_CHECK_EQ(ff_simgen_new(&go, &gen, NULL), FF_OK);
    if (!gen)
        return;
    uint64_t ok[2] = {0}, fail[2] = {0}, processing[2] = {0}, n_bad = 0;
    ff_buf b;
    ff_buf_init(&b, 1 << 16);
    for (int i = 0; i < N_NORMAL + N_ANOMALY; i++) {
        int64_t now = T0_MS + (int64_t)i * STEP_MS;
        int phase = i >= N_NORMAL;
        ff_buf_reset(&b);
        FF_CHECK_EQ(ff_simgen_next(gen, now, &b), FF_OK);
        FF_CHECK_EQ(ff_simgen_anomaly_active(gen), phase);
        if (!strstr(b.data, "\"event\":\"Payment Failed\"") &&
            !strstr(b.data, "\"event\":\"Order Completed\""))
            continue; /* cheap filter; the payment messages are parsed */
        ff_json *m = parse(b.data, b.len);
        ff_json *props = ff_json_get(m, "properties");
        const char *ev = jstr(m, "event");
        if (!ev || !props) {
            n_bad++;
        } else if (!strcmp(ev, "Order Completed")) {
            ok[phase]++;
        } else if (!strcmp(ev, "Payment Failed")) {
            fail[phase]++;
            processing[phase] +=
                ff_json_is_str(ff_json_get(props, "decline_code"), "processing_error");
        }
    }
    FF_CHECK_EQ(n_bad, 0);
    double r0 = (double)fail[0] / (double)(fail[0] + ok[0]);
    double r1 = (double)fail[1] / (double)(fail[1] + ok[1]);
    fprintf(stderr, "  payments: normal %llu (%.2f%% failed), anomaly %llu (%.2f%% failed)\n",
            (unsigned long long)(fail[0] + ok[0]), 100 * r0, (unsigned long long)(fail[1] + ok[1]),
            100 * r1);
    FF_CHECK(fail[0] + ok[0] > 1000);
    FF_CHECK(fail[1] + ok[1] > 200);
    FF_CHECK(r0 > 0.03 && r0 < 0.07);
    FF_CHECK(r1 > 0.53 && r1 < 0.67);
    /* During the outage most declines are processing errors; before, few. */
    FF_CHECK(processing[1] * 2 > fail[1]);
    FF_CHECK(processing[0] * 4 < fail[0] + 4);
    ff_buf_fini(&b);
    ff_simgen_free(gen);
}

/* ---- Limits and allocation failures --------------------------------------------- */

static void test_limits(void)
{
    ff_simgen_opts go = {.seed = 3};
    ff_simgen *gen = NULL;
    FF_CHECK_EQ(ff_simgen_new(&go, &gen, NULL), FF_OK);
    if (!gen)
        return;
    /* A buffer too small for any message: FF_ELIMIT, and the buffer is untouched. */
    ff_buf small;
    ff_buf_init(&small, 64);
    FF_CHECK_EQ(ff_buf_adds(&small, "keep"), FF_OK);
    for (int i = 0; i < 10; i++)
        FF_CHECK_EQ(ff_simgen_next(gen, T0_MS + i, &small), FF_ELIMIT);
    FF_CHECK_EQ(small.len, 4);
    FF_CHECK_STR(small.data, "keep");
    ff_buf_fini(&small);
    ff_simgen_free(gen);

    /* Fail each allocation of ff_simgen_new in turn: FF_ENOMEM, nothing leaks
     * (LSan checks), and once allocations succeed it works. */
    int n_nomem = 0;
    for (long k = 1; k < 40; k++) {
        ff_mem_fail_after(k);
        gen = NULL;
        ff_rc rc = ff_simgen_new(&go, &gen, NULL);
        ff_mem_fail_after(0);
        if (rc == FF_OK) {
            ff_buf b;
            ff_buf_init(&b, 0);
            FF_CHECK_EQ(ff_simgen_next(gen, T0_MS, &b), FF_OK);
            ff_buf_fini(&b);
            ff_simgen_free(gen);
            break;
        }
        FF_CHECK_EQ(rc, FF_ENOMEM);
        FF_CHECK(gen == NULL);
        n_nomem++;
    }
    FF_CHECK(n_nomem >= 5);
}

/* Degenerate shops: one user, one product, more sessions than users. Every
 * message still parses and has an identity; nothing panics. */
static void test_small_worlds(void)
{
    static const ff_simgen_opts cases[] = {
        {.seed = 1, .n_users = 1, .n_products = 1, .n_sessions = 1},
        {.seed = 2, .n_users = 3, .n_products = 5, .n_sessions = 100},
        {.seed = 3, .n_users = 50000, .n_products = 20000, .n_sessions = 2000},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ff_simgen *gen = NULL;
        FF_CHECK_EQ(ff_simgen_new(&cases[c], &gen, NULL), FF_OK);
        if (!gen)
            continue;
        ff_buf b;
        ff_buf_init(&b, 1 << 16);
        uint64_t n_bad = 0;
        for (int i = 0; i < 20000; i++) {
            ff_buf_reset(&b);
            ff_json *m = NULL;
            if (ff_simgen_next(gen, T0_MS + i, &b) == FF_OK)
                m = parse(b.data, b.len);
            if (!m || !jstr(m, "type") || !jstr(m, "anonymousId"))
                n_bad++;
        }
        FF_CHECK_EQ(n_bad, 0);
        ff_simgen_counts cnt;
        ff_simgen_counts_get(gen, &cnt);
        FF_CHECK_EQ(cnt.n_messages, 20000);
        if (cases[c].n_sessions <= 100) /* 2000 open sessions: ~10 messages each so far */
            FF_CHECK(cnt.n_orders > 0);
        ff_buf_fini(&b);
        ff_simgen_free(gen);
    }
}

/* ---- A tiny HTTP/1.1 server for the sender tests ---------------------------------- */

enum srv_mode { SRV_ACCEPTED, SRV_PLAIN, SRV_REJECT2, SRV_400, SRV_401 };

#define SRV_MAX_CONNS 8
#define SRV_MAX_REQ (2u << 20)

typedef struct srv_conn {
    int fd;
    char *buf;
    size_t len;
} srv_conn;

typedef struct srv {
    /* script (set before start) */
    enum srv_mode mode;
    int fail_first;          /* answer fail_status to this many requests first */
    int fail_status;         /* 503 or 429 */
    const char *retry_after; /* Retry-After value with fail_status, or NULL */
    /* plumbing */
    int lfd;
    uint16_t port;
    pthread_t th;
    atomic_int stop;
    ff_arena arena;
    /* results (server thread writes, test reads after join) */
    int n_requests, n_2xx, n_conns, n_retry_hdr, n_bad_requests;
    int n_same_body_after_fail;
    uint64_t n_msgs_2xx, n_dup_2xx, n_msgs_seen;
    uint64_t fail_body_hash;
    bool have_fail_body;
    char auth[128];
    char path[128];
    strset ids;     /* messageIds of 2xx-answered batches */
    uint64_t n_ids; /* ids.n, kept by srv_stop */
    /* event timestamps and sentAt seen (ms) */
    int64_t ts_min, ts_max, sent_max;
} srv;

static const char *hdr_find(const char *h, size_t hlen, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    for (const char *p = h; p < h + hlen;) {
        const char *eol = memchr(p, '\n', (size_t)(h + hlen - p));
        if (!eol)
            break;
        if ((size_t)(eol - p) > nl + 1 && strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ')
                v++;
            *vlen = (size_t)(eol - v);
            if (*vlen && v[*vlen - 1] == '\r')
                (*vlen)--;
            return v;
        }
        p = eol + 1;
    }
    return NULL;
}

static void srv_reply(int fd, int status, const char *extra_hdr, const char *body)
{
    char out[1024];
    const char *reason = status == 200   ? "OK"
                         : status == 400 ? "Bad Request"
                         : status == 401 ? "Unauthorized"
                         : status == 429 ? "Too Many Requests"
                                         : "Service Unavailable";
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n%s\r\n%s",
                     status, reason, strlen(body), extra_hdr, body);
    size_t off = 0;
    while (off < (size_t)n) {
        ssize_t w = write(fd, out + off, (size_t)n - off);
        if (w <= 0)
            return;
        off += (size_t)w;
    }
}

/* Handle one complete request (headers h[0..hlen), body). */
static void srv_handle(srv *s, int fd, const char *h, size_t hlen, const char *body, size_t blen)
{
    s->n_requests++;
    size_t vlen;
    const char *v;
    bool ok_req = strncmp(h, "POST ", 5) == 0;
    const char *sp = memchr(h + 5, ' ', hlen - 5);
    if (sp) {
        size_t pl = (size_t)(sp - (h + 5));
        snprintf(s->path, sizeof s->path, "%.*s", (int)pl, h + 5);
    }
    if ((v = hdr_find(h, hlen, "Authorization", &vlen)))
        snprintf(s->auth, sizeof s->auth, "%.*s", (int)vlen, v);
    v = hdr_find(h, hlen, "Content-Type", &vlen);
    ok_req = ok_req && v && vlen == 16 && strncmp(v, "application/json", 16) == 0;
    if (hdr_find(h, hlen, "X-Retry-Count", &vlen))
        s->n_retry_hdr++;
    uint64_t bh = fnv1a(body, blen);
    if (s->have_fail_body && bh == s->fail_body_hash)
        s->n_same_body_after_fail++;
    s->have_fail_body = false;

    /* The body must be {"batch":[{messageId...},...],"sentAt":"..."}. */
    ff_json *root = NULL;
    ff_json_error jerr;
    ff_arena_reset(&s->arena);
    ff_json *batch = NULL;
    if (ff_json_parse(body, blen, NULL, &s->arena, &root, &jerr) == FF_OK) {
        batch = ff_json_get(root, "batch");
        const char *sent = jstr(root, "sentAt");
        int64_t ms;
        if (!batch || batch->type != FF_JSON_ARRAY || !sent ||
            !ff_clock_parse_rfc3339(sent, strlen(sent), &ms))
            batch = NULL;
    }
    if (!ok_req || !batch)
        s->n_bad_requests++;
    uint32_t n = batch ? batch->n_children : 0;
    s->n_msgs_seen += n;

    if (s->fail_first > 0) {
        s->fail_first--;
        s->fail_body_hash = bh;
        s->have_fail_body = true;
        char extra[64] = "";
        if (s->retry_after)
            snprintf(extra, sizeof extra, "Retry-After: %s\r\n", s->retry_after);
        srv_reply(fd, s->fail_status, extra, "{\"code\":\"unavailable\",\"message\":\"busy\"}");
        return;
    }
    char resp[256];
    switch (s->mode) {
    case SRV_400:
        srv_reply(fd, 400, "", "{\"code\":\"bad_request\",\"message\":\"no\"}");
        return;
    case SRV_401:
        srv_reply(fd, 401, "", "{\"code\":\"unauthorized\",\"message\":\"bad key\"}");
        return;
    case SRV_PLAIN:
        snprintf(resp, sizeof resp, "{\"success\":true}");
        break;
    case SRV_REJECT2:
        snprintf(resp, sizeof resp,
                 "{\"success\":true,\"accepted\":%u,\"rejected\":[{\"i\":0,\"reason\":"
                 "\"invalid_event\"},{\"i\":1,\"reason\":\"too_large\"}]}",
                 n >= 2 ? n - 2 : 0);
        break;
    case SRV_ACCEPTED:
        snprintf(resp, sizeof resp, "{\"success\":true,\"accepted\":%u}", n);
        break;
    }
    s->n_2xx++;
    for (ff_json *m = batch ? batch->child : NULL; m; m = m->next) {
        const char *id = jstr(m, "messageId");
        const char *tss = jstr(m, "timestamp");
        int64_t tms;
        if (tss && ff_clock_parse_rfc3339(tss, strlen(tss), &tms)) {
            if (!s->ts_min || tms < s->ts_min)
                s->ts_min = tms;
            if (tms > s->ts_max)
                s->ts_max = tms;
        }
        const char *sent = jstr(root, "sentAt");
        if (sent && ff_clock_parse_rfc3339(sent, strlen(sent), &tms) && tms > s->sent_max)
            s->sent_max = tms;
        bool added = false;
        if (id)
            strset_put(&s->ids, id, strlen(id), &added);
        s->n_msgs_2xx++;
        s->n_dup_2xx += !added;
    }
    srv_reply(fd, 200, "", resp);
}

/* Consume complete requests from c; returns false when the connection must close. */
static bool srv_drain(srv *s, srv_conn *c)
{
    for (;;) {
        char *end = c->len >= 4 ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
        if (!end)
            return c->len < 65536;
        size_t hlen = (size_t)(end - c->buf) + 4, vlen;
        const char *cl = hdr_find(c->buf, hlen, "Content-Length", &vlen);
        size_t blen = cl ? strtoul(cl, NULL, 10) : 0;
        if (blen > SRV_MAX_REQ - hlen)
            return false;
        if (c->len < hlen + blen)
            return true;
        srv_handle(s, c->fd, c->buf, hlen, c->buf + hlen, blen);
        memmove(c->buf, c->buf + hlen + blen, c->len - hlen - blen);
        c->len -= hlen + blen;
    }
}

static void *srv_main(void *arg)
{
    srv *s = arg;
    srv_conn conns[SRV_MAX_CONNS];
    for (int i = 0; i < SRV_MAX_CONNS; i++)
        conns[i] = (srv_conn){.fd = -1};
    uint64_t deadline = ff_clock_mono_ns() + 60ull * 1000000000ull; /* hard bound */
    while (!atomic_load(&s->stop) && ff_clock_mono_ns() < deadline) {
        struct pollfd pf[SRV_MAX_CONNS + 1];
        pf[0] = (struct pollfd){.fd = s->lfd, .events = POLLIN};
        for (int i = 0; i < SRV_MAX_CONNS; i++)
            pf[i + 1] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
        if (poll(pf, SRV_MAX_CONNS + 1, 50) <= 0)
            continue;
        if (pf[0].revents & POLLIN) {
            int fd = accept(s->lfd, NULL, NULL);
            int i = 0;
            while (i < SRV_MAX_CONNS && conns[i].fd >= 0)
                i++;
            if (fd >= 0 && i < SRV_MAX_CONNS) {
                conns[i].fd = fd;
                conns[i].buf = malloc(SRV_MAX_REQ);
                conns[i].len = 0;
                s->n_conns++;
            } else if (fd >= 0) {
                close(fd);
            }
        }
        for (int i = 0; i < SRV_MAX_CONNS; i++) {
            srv_conn *c = &conns[i];
            if (c->fd < 0 || !(pf[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t r = read(c->fd, c->buf + c->len, SRV_MAX_REQ - c->len);
            if (r <= 0 || !(c->len += (size_t)r, srv_drain(s, c))) {
                close(c->fd);
                free(c->buf);
                *c = (srv_conn){.fd = -1};
            }
        }
    }
    for (int i = 0; i < SRV_MAX_CONNS; i++) {
        if (conns[i].fd >= 0) {
            close(conns[i].fd);
            free(conns[i].buf);
        }
    }
    return NULL;
}

static bool srv_start(srv *s)
{
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(s->lfd, 16) != 0 || getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0) {
        perror("srv_start");
        return false;
    }
    s->port = ntohs(a.sin_port);
    ff_arena_init(&s->arena, 1 << 16, 64u << 20);
    atomic_store(&s->stop, 0);
    return pthread_create(&s->th, NULL, srv_main, s) == 0;
}

static void srv_stop(srv *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->th, NULL);
    close(s->lfd);
    ff_arena_fini(&s->arena);
    s->n_ids = s->ids.n;
    strset_fini(&s->ids);
}

typedef struct tick_log {
    int n_ticks, n_final;
    int stop_after; /* set *stop at this tick (0 = never) */
    volatile sig_atomic_t *stop;
    ff_sim_stats last;
} tick_log;

static void on_tick(const ff_sim_stats *st, void *ud)
{
    tick_log *t = ud;
    if (st->done)
        t->n_final++;
    else
        t->n_ticks++;
    t->last = *st;
    if (t->stop_after && t->n_ticks >= t->stop_after && t->stop)
        *t->stop = 1;
}

/* Every event ends in exactly one of accepted / rejected / failed (invariant 4). */
static void check_balance(const ff_sim_stats *st)
{
    FF_CHECK_EQ(st->n_sent, st->n_accepted + st->n_rejected + st->n_failed);
}

static char g_url[64];

static const char *srv_url(const srv *s)
{
    snprintf(g_url, sizeof g_url, "http://127.0.0.1:%u", (unsigned)s->port);
    return g_url;
}

static void test_send_paced(void)
{
    srv s = {.mode = SRV_ACCEPTED};
    if (!srv_start(&s)) {
        FF_CHECK(0);
        return;
    }
    ff_sim_opts o = {.url = srv_url(&s),
                     .write_key = "testkey",
                     .rate = 1000,
                     .max_events = 500,
                     .seed = 5,
                     .batch_size = 100};
    tick_log tl = {0};
    ff_sim_stats st;
    ff_err err = {0};
    uint64_t t0 = ff_clock_mono_ns();
    FF_CHECK_EQ(ff_sim_run(&o, on_tick, &tl, &st, &err), FF_OK);
    double secs = (double)(ff_clock_mono_ns() - t0) / 1e9;
    srv_stop(&s);
    fprintf(stderr, "  500 events at 1000/s took %.3f s, last latency %.2f ms\n", secs,
            st.last_latency_ms);
    FF_CHECK(secs > 0.3 && secs < 2.0);
    FF_CHECK_EQ(st.seed, 5);
    FF_CHECK_EQ(st.n_sent, 500);
    FF_CHECK_EQ(st.n_accepted, 500);
    FF_CHECK_EQ(st.n_rejected, 0);
    FF_CHECK_EQ(st.n_failed, 0);
    FF_CHECK_EQ(st.n_batches, 5);
    FF_CHECK_EQ(st.n_requests, 5);
    FF_CHECK_EQ(st.n_retries, 0);
    FF_CHECK_EQ(st.n_http_errors, 0);
    FF_CHECK_EQ(st.last_status, 200);
    FF_CHECK(st.done);
    check_balance(&st);
    FF_CHECK_EQ(tl.n_final, 1);
    FF_CHECK(tl.last.done && tl.last.n_sent == 500);
    /* What the server saw: 5 well-formed batches on one kept-alive connection. */
    FF_CHECK_EQ(s.n_requests, 5);
    FF_CHECK_EQ(s.n_bad_requests, 0);
    FF_CHECK_EQ(s.n_msgs_2xx, 500);
    FF_CHECK_EQ(s.n_dup_2xx, 0);
    FF_CHECK_EQ(s.n_conns, 1);
    FF_CHECK_STR(s.path, "/v1/batch");
    FF_CHECK_STR(s.auth, "Basic dGVzdGtleTo="); /* base64("testkey:") */
    FF_CHECK_EQ(s.n_retry_hdr, 0);
}

static void test_send_retry_503(void)
{
    srv s = {.mode = SRV_ACCEPTED, .fail_first = 2, .fail_status = 503};
    if (!srv_start(&s)) {
        FF_CHECK(0);
        return;
    }
    /* A trailing slash on the URL is fine. */
    char url[80];
    snprintf(url, sizeof url, "%s/", srv_url(&s));
    ff_sim_opts o = {.url = url,
                     .write_key = "k",
                     .rate = 20000,
                     .max_events = 300,
                     .seed = 6,
                     .batch_size = 100,
                     .retry_base_ms = 20};
    ff_sim_stats st;
    FF_CHECK_EQ(ff_sim_run(&o, NULL, NULL, &st, NULL), FF_OK);
    srv_stop(&s);
    FF_CHECK_EQ(st.n_sent, 300);
    FF_CHECK_EQ(st.n_accepted, 300);
    FF_CHECK_EQ(st.n_failed, 0);
    FF_CHECK_EQ(st.n_retries, 2);
    FF_CHECK_EQ(st.n_http_errors, 2);
    FF_CHECK_EQ(st.n_requests, 5);
    FF_CHECK_EQ(st.n_batches, 3);
    check_balance(&st);
    /* No loss, no duplicate among stored batches; retries re-sent the same bytes. */
    FF_CHECK_EQ(s.n_msgs_2xx, 300);
    FF_CHECK_EQ(s.n_ids, 300);
    FF_CHECK_EQ(s.n_dup_2xx, 0);
    FF_CHECK_EQ(s.n_same_body_after_fail, 2);
    FF_CHECK_EQ(s.n_retry_hdr, 2);
    FF_CHECK_EQ(s.n_bad_requests, 0);
    FF_CHECK_STR(s.path, "/v1/batch");
}

static void test_send_retry_after_429(void)
{
    srv s = {.mode = SRV_ACCEPTED, .fail_first = 1, .fail_status = 429, .retry_after = "1"};
    if (!srv_start(&s)) {
        FF_CHECK(0);
        return;
    }
    ff_sim_opts o = {
        .url = srv_url(&s), .rate = 20000, .max_events = 100, .seed = 8, .retry_base_ms = 10};
    ff_sim_stats st;
    uint64_t t0 = ff_clock_mono_ns();
    FF_CHECK_EQ(ff_sim_run(&o, NULL, NULL, &st, NULL), FF_OK);
    double secs = (double)(ff_clock_mono_ns() - t0) / 1e9;
    srv_stop(&s);
    FF_CHECK(secs >= 0.9 && secs < 5); /* waited for Retry-After, not 10 ms */
    FF_CHECK_EQ(st.n_accepted, 100);
    FF_CHECK_EQ(st.n_retries, 1);
    FF_CHECK_EQ(s.n_msgs_2xx, 100);
    FF_CHECK_EQ(s.n_same_body_after_fail, 1);
    FF_CHECK(s.auth[0] == '\0'); /* no write key: no Authorization header */
}

static void test_send_rejections(void)
{
    static const struct {
        enum srv_mode mode;
        uint64_t accepted, rejected, http_errors;
    } cases[] = {
        {SRV_REJECT2, 294, 6, 0},
        {SRV_PLAIN, 300, 0, 0},
        {SRV_400, 0, 300, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        srv s = {.mode = cases[i].mode};
        if (!srv_start(&s)) {
            FF_CHECK(0);
            return;
        }
        ff_sim_opts o = {.url = srv_url(&s),
                         .write_key = "k",
                         .rate = 50000,
                         .max_events = 300,
                         .seed = 9,
                         .batch_size = 100,
                         .retry_base_ms = 10};
        ff_sim_stats st;
        FF_CHECK_EQ(ff_sim_run(&o, NULL, NULL, &st, NULL), FF_OK);
        srv_stop(&s);
        FF_CHECK_EQ(st.n_sent, 300);
        FF_CHECK_EQ(st.n_accepted, cases[i].accepted);
        FF_CHECK_EQ(st.n_rejected, cases[i].rejected);
        FF_CHECK_EQ(st.n_http_errors, cases[i].http_errors);
        FF_CHECK_EQ(st.n_retries, 0); /* 400 is never retried */
        FF_CHECK_EQ(st.n_requests, 3);
        FF_CHECK_EQ(s.n_msgs_seen, 300);
        check_balance(&st);
    }
}

static void test_send_auth_and_unreachable(void)
{
    srv s = {.mode = SRV_401};
    if (!srv_start(&s)) {
        FF_CHECK(0);
        return;
    }
    ff_sim_opts o = {.url = srv_url(&s), .write_key = "wrong", .rate = 1000, .seed = 10};
    tick_log tl = {0};
    ff_sim_stats st;
    ff_err err = {0};
    FF_CHECK_EQ(ff_sim_run(&o, on_tick, &tl, &st, &err), FF_EAUTH);
    srv_stop(&s);
    FF_CHECK_EQ(err.code, FF_EAUTH);
    FF_CHECK(strstr(err.msg, "401") != NULL);
    FF_CHECK_EQ(tl.n_final, 0); /* no final tick on failure */
    FF_CHECK_EQ(st.n_requests, 1);
    FF_CHECK_EQ(st.n_rejected, st.n_sent);

    /* A port nobody listens on: FF_EIO after max_attempts, quickly. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t al = sizeof a;
    FF_CHECK(bind(fd, (struct sockaddr *)&a, sizeof a) == 0);
    FF_CHECK(getsockname(fd, (struct sockaddr *)&a, &al) == 0);
    /* Bound but never listening: connections are refused, and holding the
     * socket keeps anyone else from taking the port meanwhile. */
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    o = (ff_sim_opts){.url = url, .rate = 1000, .seed = 11, .max_attempts = 3, .retry_base_ms = 10};
    uint64_t t0 = ff_clock_mono_ns();
    FF_CHECK_EQ(ff_sim_run(&o, NULL, NULL, &st, &err), FF_EIO);
    double secs = (double)(ff_clock_mono_ns() - t0) / 1e9;
    FF_CHECK(secs < 3);
    FF_CHECK(strstr(err.msg, "cannot reach") != NULL);
    FF_CHECK_EQ(st.n_requests, 3);
    FF_CHECK_EQ(st.n_retries, 2);
    FF_CHECK_EQ(st.last_status, 0);
    FF_CHECK_EQ(st.n_failed, st.n_sent);
    FF_CHECK(st.n_sent > 0);
    close(fd);
}

static void test_send_stop_and_duration(void)
{
    srv s = {.mode = SRV_ACCEPTED};
    if (!srv_start(&s)) {
        FF_CHECK(0);
        return;
    }
    /* duration 0: runs until the flag; the tick callback raises it. */
    volatile sig_atomic_t stop = 0;
    tick_log tl = {.stop_after = 2, .stop = &stop};
    ff_sim_opts o = {.url = srv_url(&s), .rate = 300, .seed = 12, .stop = &stop};
    ff_sim_stats st;
    uint64_t t0 = ff_clock_mono_ns();
    FF_CHECK_EQ(ff_sim_run(&o, on_tick, &tl, &st, NULL), FF_OK);
    double secs = (double)(ff_clock_mono_ns() - t0) / 1e9;
    FF_CHECK(secs > 1.5 && secs < 4);
    FF_CHECK_EQ(tl.n_ticks, 2);
    FF_CHECK_EQ(tl.n_final, 1);
    FF_CHECK(tl.last.done);
    FF_CHECK(st.n_sent > 300 && st.n_sent < 1500);
    FF_CHECK(st.rate_achieved > 50 && st.rate_achieved < 600);
    check_balance(&st);

    /* duration 1.5 s at a low rate: partial batches are flushed every second. */
    uint64_t before = s.n_msgs_2xx;
    o = (ff_sim_opts){.url = srv_url(&s), .rate = 40, .duration_s = 1.5, .seed = 13};
    t0 = ff_clock_mono_ns();
    FF_CHECK_EQ(ff_sim_run(&o, NULL, NULL, &st, NULL), FF_OK);
    secs = (double)(ff_clock_mono_ns() - t0) / 1e9;
    FF_CHECK(secs > 1.4 && secs < 3);
    FF_CHECK(st.n_batches >= 1 && st.n_sent >= 30 && st.n_sent < 100);
    FF_CHECK_EQ(st.n_accepted, st.n_sent);
    srv_stop(&s);
    FF_CHECK_EQ(s.n_msgs_2xx - before, st.n_sent);
    FF_CHECK_EQ(s.n_bad_requests, 0);
}

static void test_send_anomaly(void)
{
    srv s = {.mode = SRV_ACCEPTED};
    if (!srv_start(&s)) {
        FF_CHECK(0);
        return;
    }
    /* Anomaly from the start; big batches (the sender splits them under the
     * 450 KB cap). */
    ff_sim_opts o = {.url = srv_url(&s),
                     .rate = 1e6,
                     .max_events = 40000,
                     .seed = 14,
                     .batch_size = 1000,
                     .anomaly = "payment-failures",
                     .anomaly_start_s = -1};
    ff_sim_stats st;
    FF_CHECK_EQ(ff_sim_run(&o, NULL, NULL, &st, NULL), FF_OK);
    srv_stop(&s);
    fprintf(stderr, "  %llu events in %llu batches: %.0f events/s against the test server\n",
            (unsigned long long)st.n_sent, (unsigned long long)st.n_batches, st.rate_achieved);
    FF_CHECK_EQ(st.n_sent, 40000);
    FF_CHECK_EQ(s.n_msgs_2xx, 40000);
    FF_CHECK_EQ(s.n_ids, 40000);
    FF_CHECK_EQ(s.n_bad_requests, 0);
    FF_CHECK(st.n_batches > 40); /* 1000 messages never fit in 450 KB */
    FF_CHECK(st.anomaly_active);
    uint64_t pay = st.gen.n_payment_failures + st.gen.n_orders;
    FF_CHECK(pay > 50);
    FF_CHECK(st.gen.n_payment_failures * 10 > pay * 4); /* > 40%, normally 5% */
}

/* Replay clock: 1.5 s of wall time at 600x starting an hour ago covers 15 minutes of event
 * time, all in the past; sentAt stays the wall clock. */
static void test_send_replay_clock(void)
{
    srv s = {.mode = SRV_ACCEPTED};
    if (!srv_start(&s)) {
        FF_CHECK(0);
        return;
    }
    int64_t wall0 = ff_clock_now_ms();
    ff_sim_opts o = {.url = srv_url(&s),
                     .rate = 400,
                     .duration_s = 1.5,
                     .seed = 15,
                     .time_scale = 600,
                     .start_ago_s = 3600};
    ff_sim_stats st;
    FF_CHECK_EQ(ff_sim_run(&o, NULL, NULL, &st, NULL), FF_OK);
    int64_t wall1 = ff_clock_now_ms();
    srv_stop(&s);
    FF_CHECK(st.n_sent > 100);
    FF_CHECK(s.ts_min >= wall0 - 3600 * 1000 - 1000 && s.ts_min < wall0 - 3500 * 1000);
    int64_t span = s.ts_max - s.ts_min;
    FF_CHECK(span > 600 * 1000 && span < 1200 * 1000); /* about 900 s of event time */
    FF_CHECK(s.ts_max < wall1 - 2000 * 1000);          /* still well in the past */
    FF_CHECK(s.sent_max >= wall0 && s.sent_max <= wall1);
    /* a replay clock never runs into the future: an hour at 1e6x catches up at once */
    srv s2 = {.mode = SRV_ACCEPTED};
    FF_VERIFY(srv_start(&s2));
    o = (ff_sim_opts){.url = srv_url(&s2),
                      .rate = 400,
                      .duration_s = 1.2,
                      .seed = 16,
                      .time_scale = 1e6,
                      .start_ago_s = 3600};
    FF_CHECK_EQ(ff_sim_run(&o, NULL, NULL, &st, NULL), FF_OK);
    wall1 = ff_clock_now_ms();
    srv_stop(&s2);
    FF_CHECK(s2.ts_max <= wall1 && s2.ts_max > wall1 - 5000);
    ff_sim_opts bad = {.url = "http://127.0.0.1:1", .rate = 1, .time_scale = -1};
    FF_CHECK_EQ(ff_sim_run(&bad, NULL, NULL, NULL, NULL), FF_EINVAL);
}

int main(void)
{
    ff_arena_init(&g.arena, 1 << 16, 64u << 20);
    FF_RUN(test_rng_zipf);
    FF_RUN(test_options);
    FF_RUN(test_determinism);
    FF_RUN(test_messages);
    FF_RUN(test_payment_failures);
    FF_RUN(test_limits);
    FF_RUN(test_small_worlds);
    FF_RUN(test_send_paced);
    FF_RUN(test_send_retry_503);
    FF_RUN(test_send_retry_after_429);
    FF_RUN(test_send_rejections);
    FF_RUN(test_send_auth_and_unreachable);
    FF_RUN(test_send_stop_and_duration);
    FF_RUN(test_send_anomaly);
    FF_RUN(test_send_replay_clock);
    ff_arena_fini(&g.arena);
    FF_DONE();
}
