/* test_stream_topk.c -- Space-Saving top-K (exactness below capacity, the error guarantee on a
 * skewed stream against exact counts, epochs and merging, save/load), the window struct
 * (ring recycling, sums, JSON), and the small helpers (string map with deletions, dedupe
 * window, URL paths, the top-level JSON string finder, deterministic ids). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ff_buf.h"
#include "ff_test.h"
#include "stream/ff_stream_int.h"
#include "stream/ff_topk.h"
#include "stream/ff_window.h"

#define EPOCH 900000 /* 15 min */

static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_topk_exact(void)
{
    ff_topk t;
    FF_VERIFY(ff_topk_init(&t, 8, EPOCH) == FF_OK);
    const char *keys[] = {"/a", "/b", "/c"};
    for (int i = 0; i < 10; i++)
        for (int k = 0; k <= i % 3; k++)
            ff_topk_add(&t, keys[k], strlen(keys[k]), 1000 + i);
    ff_topk_item it[8];
    uint32_t n = ff_topk_top(&t, 8, it);
    FF_CHECK_EQ(n, 3);
    FF_CHECK_STR(it[0].key, "/a");
    FF_CHECK_EQ(it[0].count, 10);
    FF_CHECK_EQ(it[0].error, 0);
    FF_CHECK_STR(it[1].key, "/b");
    FF_CHECK_EQ(it[1].count, 6);
    FF_CHECK_STR(it[2].key, "/c");
    FF_CHECK_EQ(it[2].count, 3);
    FF_CHECK_EQ(ff_topk_top(&t, 2, it), 2);
    ff_topk_fini(&t);
}

/* Zipf-like stream over 5000 keys into 100 counters: every reported count satisfies
 * count - error <= true <= count, error <= N/m, and the true top 10 are all reported. */
static void test_topk_guarantee(void)
{
    enum { KEYS = 5000, N = 200000, M = 100 };
    static uint32_t truth[KEYS];
    memset(truth, 0, sizeof truth);
    ff_topk t;
    FF_VERIFY(ff_topk_init(&t, M, EPOCH) == FF_OK);
    char key[32];
    for (int i = 0; i < N; i++) {
        /* inverse-power sampling: key ~ KEYS^(u^3) */
        double u = (double)(rnd() % 1000000) / 1e6;
        int k = (int)(KEYS * u * u * u);
        if (k >= KEYS)
            k = KEYS - 1;
        truth[k]++;
        int n = snprintf(key, sizeof key, "k%d", k);
        ff_topk_add(&t, key, (size_t)n, 5000); /* one epoch */
    }
    ff_topk_item it[M];
    uint32_t n = ff_topk_top(&t, M, it);
    FF_CHECK_EQ(n, M);
    int bad = 0;
    for (uint32_t i = 0; i < n; i++) {
        int k = atoi(it[i].key + 1);
        if (!(it[i].count >= truth[k] && it[i].count - it[i].error <= truth[k]))
            bad++;
        if (it[i].error > N / M)
            bad++;
    }
    FF_CHECK_EQ(bad, 0);
    /* every key whose true count exceeds N/m is held */
    int heavy = 0, missing = 0;
    for (int k = 0; k < KEYS; k++) {
        if (truth[k] <= N / M)
            continue;
        heavy++;
        snprintf(key, sizeof key, "k%d", k);
        bool found = false;
        for (uint32_t i = 0; i < n; i++)
            found |= !strcmp(it[i].key, key);
        missing += !found;
    }
    FF_CHECK(heavy >= 3);
    FF_CHECK_EQ(missing, 0);
    /* the largest is exact enough to be first */
    FF_CHECK_STR(it[0].key, "k0");
    ff_topk_fini(&t);
}

static void test_topk_epochs(void)
{
    ff_topk t;
    FF_VERIFY(ff_topk_init(&t, 4, EPOCH) == FF_OK);
    for (int i = 0; i < 5; i++)
        ff_topk_add(&t, "old", 3, 10);
    for (int i = 0; i < 3; i++)
        ff_topk_add(&t, "new", 3, EPOCH + 10); /* next epoch: both count */
    ff_topk_add(&t, "old", 3, EPOCH + 20);
    ff_topk_item it[4];
    FF_CHECK_EQ(ff_topk_top(&t, 4, it), 2);
    FF_CHECK_STR(it[0].key, "old");
    FF_CHECK_EQ(it[0].count, 6);   /* merged over the two epochs */
    ff_topk_add(&t, "late", 4, 5); /* older than the previous epoch? no: epoch 0 = prev */
    FF_CHECK_EQ(ff_topk_top(&t, 4, it), 3);
    ff_topk_add(&t, "newer", 5, 2 * EPOCH + 1); /* epoch 2: epoch 0 leaves the window */
    uint32_t n = ff_topk_top(&t, 4, it);
    FF_CHECK_EQ(n, 3); /* new(3), old(1) from epoch 1, newer(1) */
    FF_CHECK_STR(it[0].key, "new");
    ff_topk_add(&t, "x", 1, 10); /* epoch 0: beyond the window, ignored */
    FF_CHECK_EQ(ff_topk_top(&t, 4, it), 3);
    ff_topk_add(&t, "gap", 3, 10 * EPOCH); /* a gap: both older epochs leave */
    FF_CHECK_EQ(ff_topk_top(&t, 4, it), 1);
    /* save/load round trip */
    ff_buf b;
    ff_buf_init(&b, 1u << 20);
    FF_VERIFY(ff_topk_save(&t, &b) == FF_OK);
    ff_topk u;
    FF_VERIFY(ff_topk_init(&u, 4, EPOCH) == FF_OK);
    ff_deser d = {.p = (const unsigned char *)b.data, .n = b.len};
    FF_CHECK_EQ(ff_topk_load(&u, &d), FF_OK);
    FF_CHECK_EQ(ff_topk_top(&u, 4, it), 1);
    FF_CHECK_STR(it[0].key, "gap");
    ff_deser shortd = {.p = (const unsigned char *)b.data, .n = b.len - 3};
    FF_CHECK_EQ(ff_topk_load(&u, &shortd), FF_ECORRUPT);
    ff_buf_fini(&b);
    ff_topk_fini(&u);
    ff_topk_fini(&t);
}

static void test_windows_ring(void)
{
    ff_win_ring r;
    FF_VERIFY(ff_win_ring_init(&r, 60, 60000) == FF_OK);
    ff_win *w = ff_win_ring_at(&r, 120500, true);
    FF_CHECK(w && w->t == 120000);
    w->events = 5;
    FF_CHECK(ff_win_ring_at(&r, 179999, false) == w);
    /* 60 minutes later the same slot is recycled for the newer minute */
    ff_win *w2 = ff_win_ring_at(&r, 120000 + 60 * 60000, true);
    FF_CHECK(w2 == w && w2->t == 120000 + 60 * 60000 && w2->events == 0);
    /* and the old minute can no longer be had */
    FF_CHECK(ff_win_ring_at(&r, 120000, true) == NULL);
    /* negative times align downwards */
    FF_CHECK_EQ(ff_win_align(-1, 1000), -1000);
    ff_win a, b;
    ff_win_clear(&a, 0);
    ff_win_clear(&b, 60000);
    a.events = 2;
    a.revenue_cur[1] = 50000;
    a.orders_cur[1] = 2;
    b.events = 3;
    b.revenue_cur[1] = 10000;
    b.orders_cur[1] = 1;
    ff_win_add(&a, &b);
    FF_CHECK_EQ(a.events, 5);
    ff_win_tables tb;
    ff_names_init(&tb.events, FF_WIN_NAMES);
    ff_names_init(&tb.currencies, 2);
    ff_names_init(&tb.methods, FF_WIN_KEYS);
    FF_CHECK_EQ(ff_names_get(&tb.currencies, "EUR", 3), 0);
    FF_CHECK_EQ(ff_names_get(&tb.currencies, "USD", 3), 1);
    FF_CHECK_EQ(ff_names_get(&tb.currencies, "GBP", 3), 2); /* overflow */
    FF_CHECK_STR(ff_names_name(&tb.currencies, 2), "$other");
    ff_buf j;
    ff_buf_init(&j, 1u << 20);
    ff_win_json(&j, &a, &tb);
    FF_CHECK(strstr(j.data, "\"revenue\":{\"USD\":\"6\"}") != NULL);
    FF_CHECK(strstr(j.data, "\"aov\":{\"USD\":\"2\"}") != NULL);
    FF_CHECK(strstr(j.data, "\"cart_conversion\":null") != NULL);
    ff_buf_fini(&j);
    ff_names_fini(&tb.events);
    ff_names_fini(&tb.currencies);
    ff_names_fini(&tb.methods);
    ff_win_ring_fini(&r);
}

static void test_smap(void)
{
    ff_smap m;
    ff_smap_init(&m, 3000);
    char k[32];
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(k, sizeof k, "key%d", i);
        ff_smap_ent *e;
        bool created;
        FF_VERIFY(ff_smap_put(&m, k, (size_t)n, &e, &created) == FF_OK && created);
        e->v.i = i;
    }
    ff_smap_ent *e;
    FF_CHECK_EQ(ff_smap_put(&m, "one more", 8, &e, NULL), FF_ELIMIT);
    for (int i = 0; i < 3000; i += 2) {
        int n = snprintf(k, sizeof k, "key%d", i);
        FF_CHECK(ff_smap_del(&m, k, (size_t)n));
    }
    int bad = 0;
    for (int i = 0; i < 3000; i++) {
        int n = snprintf(k, sizeof k, "key%d", i);
        ff_smap_ent *g = ff_smap_get(&m, k, (size_t)n);
        if ((i % 2 == 0) != (g == NULL) || (g && g->v.i != i))
            bad++;
    }
    FF_CHECK_EQ(bad, 0);
    FF_CHECK_EQ(m.n, 1500);
    ff_smap_fini(&m);
}

static void test_dedupe_window(void)
{
    ff_sdedupe *d = ff_sdedupe_new(16, 1000);
    FF_CHECK(!ff_sdedupe_check(d, "a", 1, 0));
    FF_CHECK(ff_sdedupe_check(d, "a", 1, 10));
    FF_CHECK(!ff_sdedupe_check(d, "", 0, 10)); /* empty ids are never duplicates */
    FF_CHECK(!ff_sdedupe_check(d, "", 0, 10));
    FF_CHECK(!ff_sdedupe_check(d, "b", 1, 1001)); /* "a" (at 0) is now out of the window */
    FF_CHECK(!ff_sdedupe_check(d, "a", 1, 1002));
    /* capacity: the oldest leaves early */
    char k[16];
    for (int i = 0; i < 20; i++) {
        int n = snprintf(k, sizeof k, "c%d", i);
        FF_CHECK(!ff_sdedupe_check(d, k, (size_t)n, 1003));
    }
    FF_CHECK(ff_sdedupe_evicted(d) > 0);
    FF_CHECK_EQ(ff_sdedupe_size(d), 16);
    FF_CHECK(ff_sdedupe_check(d, "c19", 3, 1004));
    FF_CHECK(!ff_sdedupe_check(d, "c0", 2, 1004)); /* evicted */
    ff_sdedupe_free(d);
}

static void test_helpers(void)
{
    size_t n;
    const char *p = ff_stream_url_path("https://s.io/a/b?x=1#f", 22, &n);
    FF_CHECK(n == 4 && !memcmp(p, "/a/b", 4));
    p = ff_stream_url_path("https://s.io", 12, &n);
    FF_CHECK(n == 1 && *p == '/');
    p = ff_stream_url_path("/cart?x", 7, &n);
    FF_CHECK(n == 5 && !memcmp(p, "/cart", 5));
    ff_stream_url_path("", 0, &n);
    FF_CHECK_EQ(n, 0);
    const char *j =
        "{\"a\":{\"payment_method\":\"nested\"},\"payment_method\":\"pa\\\"y\",\"z\":1}";
    p = ff_stream_json_str(j, strlen(j), "payment_method", &n);
    FF_CHECK(p && n == 5 && !memcmp(p, "pa\\\"y", 5));
    const char *j2 = "{\"x\":\"\\\"payment_method\\\":\\\"no\\\"\"}";
    FF_CHECK(ff_stream_json_str(j2, strlen(j2), "payment_method", &n) == NULL);
    char a[37], b[37];
    ff_stream_uuid("x", 1, a);
    ff_stream_uuid("x", 1, b);
    FF_CHECK_STR(a, b);
    FF_CHECK_EQ(strlen(a), 36);
    FF_CHECK(a[14] == '8');
    ff_stream_uuid("y", 1, b);
    FF_CHECK(strcmp(a, b) != 0);
}

int main(void)
{
    FF_RUN(test_topk_exact);
    FF_RUN(test_topk_guarantee);
    FF_RUN(test_topk_epochs);
    FF_RUN(test_windows_ring);
    FF_RUN(test_smap);
    FF_RUN(test_dedupe_window);
    FF_RUN(test_helpers);
    FF_DONE();
}
