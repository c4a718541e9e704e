/* test_rules.c -- risk rules: each shipped default, sliding windows, resolution, the parser's
 * errors, bounded keys, save/load. */
#include <stdio.h>
#include <string.h>

#include "core/ff_arena.h"
#include "core/ff_json.h"
#include "ff_test.h"
#include "stream/ff_rules.h"

#define MAX_GOT 64
typedef struct got {
    int n;
    struct {
        char rule[80], key[200], summary[300], evidence[2048];
        ff_alert_state st;
        double value;
        int64_t at;
    } a[MAX_GOT];
} got;

static void sink(void *ctx, const ff_alert_fire *f)
{
    got *g = ctx;
    if (g->n >= MAX_GOT)
        return;
    snprintf(g->a[g->n].rule, sizeof g->a[0].rule, "%s", f->rule);
    snprintf(g->a[g->n].key, sizeof g->a[0].key, "%s", f->key);
    snprintf(g->a[g->n].summary, sizeof g->a[0].summary, "%s", f->summary);
    snprintf(g->a[g->n].evidence, sizeof g->a[0].evidence, "%s", f->evidence_json);
    g->a[g->n].st = f->state;
    g->a[g->n].value = f->value;
    g->a[g->n].at = f->at_ms;
    g->n++;
}

static int count_of(const got *g, const char *rule, ff_alert_state st)
{
    int n = 0;
    for (int i = 0; i < g->n; i++)
        if (!strcmp(g->a[i].rule, rule) && g->a[i].st == st)
            n++;
    return n;
}

static const int64_t T0 = 1767225600000; /* 2026-01-01T00:00:00Z */
static int g_seq;

static ff_str S(const char *s)
{
    return (ff_str){s, (uint32_t)strlen(s)};
}

typedef struct ev {
    const char *type, *event, *user, *anon, *ip, *product, *props;
    int64_t ts;
    int64_t qty; /* < 0: NULL */
} ev;

static void send(ff_rules *r, got *g, ev e)
{
    ff_row row;
    ff_row_clear(&row);
    static char ids[4096][24];
    char *id = ids[g_seq++ % 4096];
    snprintf(id, 24, "ev-%d", g_seq);
    row.str[FF_COL_EVENT_ID] = S(id);
    row.str[FF_COL_TYPE] = S(e.type ? e.type : "track");
    row.str[FF_COL_EVENT] = S(e.event ? e.event : "");
    row.str[FF_COL_USER_ID] = S(e.user ? e.user : "");
    row.str[FF_COL_ANONYMOUS_ID] = S(e.anon ? e.anon : "");
    row.str[FF_COL_IP] = S(e.ip ? e.ip : "");
    row.str[FF_COL_PRODUCT_ID] = S(e.product ? e.product : "");
    row.str[FF_COL_PROPERTIES] = S(e.props ? e.props : "");
    row.num[FF_COL_TS] = e.ts;
    if (e.qty >= 0 && (e.event && !strcmp(e.event, "product_added"))) {
        row.num[FF_COL_QUANTITY] = e.qty;
        row.null &= ~FF_COLSET(FF_COL_QUANTITY);
    }
    ff_rules_on_event(r, &row, sink, g);
}

static ff_rules *defaults(void)
{
    ff_rules *r = NULL;
    ff_err err = {0};
    ff_rules_cfg c = {0};
    FF_CHECK_EQ(ff_rules_new(&c, &r, &err), FF_OK);
    return r;
}

static void test_payment_failures_per_user(void)
{
    ff_rules *r = defaults();
    got g = {0};
    const char *R = "payment_failures_per_user";
    for (int i = 0; i < 4; i++)
        send(r, &g, (ev){.event = "payment_failed", .user = "u1", .ts = T0 + i * 60000, .qty = -1});
    /* other users and other events do not count */
    send(r, &g, (ev){.event = "payment_failed", .user = "u2", .ts = T0 + 250000, .qty = -1});
    send(r, &g, (ev){.event = "order_completed", .user = "u1", .ts = T0 + 260000, .qty = -1});
    FF_CHECK_EQ(count_of(&g, R, FF_ALERT_FIRING), 0);
    send(r, &g, (ev){.event = "payment_failed", .user = "u1", .ts = T0 + 300000, .qty = -1});
    FF_CHECK_EQ(count_of(&g, R, FF_ALERT_FIRING), 1);
    FF_CHECK_STR(g.a[g.n - 1].key, "u1");
    FF_CHECK_EQ((int)g.a[g.n - 1].value, 5);
    FF_CHECK_EQ(g.a[g.n - 1].at, T0 + 300000);
    FF_CHECK(strstr(g.a[g.n - 1].evidence, "\"sample_event_ids\":[\"ev-") != NULL);
    /* a sixth does not fire again */
    send(r, &g, (ev){.event = "payment_failed", .user = "u1", .ts = T0 + 310000, .qty = -1});
    FF_CHECK_EQ(count_of(&g, R, FF_ALERT_FIRING), 1);
    /* watermark: at T0+10m the first failure leaves the window (6 -> 5: still firing), at
     * T0+10m+60s the second too (4): resolved */
    ff_rules_advance(r, T0 + 600000, sink, &g);
    FF_CHECK_EQ(count_of(&g, R, FF_ALERT_RESOLVED), 0);
    ff_rules_advance(r, T0 + 660000, sink, &g);
    FF_CHECK_EQ(count_of(&g, R, FF_ALERT_RESOLVED), 1);
    FF_CHECK_EQ(g.a[g.n - 1].at, T0 + 660000);
    /* the same five spread over 12 minutes never fire */
    got g2 = {0};
    for (int i = 0; i < 5; i++)
        send(r, &g2,
             (ev){.event = "payment_failed", .user = "u3", .ts = T0 + i * 180000, .qty = -1});
    FF_CHECK_EQ(count_of(&g2, R, FF_ALERT_FIRING), 0);
    ff_rules_free(r);
}

static void test_payment_failures_per_card(void)
{
    ff_rules *r = defaults();
    got g = {0};
    char user[16];
    for (int i = 0; i < 5; i++) {
        snprintf(user, sizeof user, "v%d", i); /* five different users, one card */
        send(r, &g,
             (ev){.event = "payment_failed",
                  .user = user,
                  .props = "{\"decline_code\":\"card_declined\",\"card_fingerprint\":"
                           "\"fp_42\"}",
                  .ts = T0 + i * 1000,
                  .qty = -1});
    }
    FF_CHECK_EQ(count_of(&g, "payment_failures_per_card", FF_ALERT_FIRING), 1);
    FF_CHECK_EQ(count_of(&g, "payment_failures_per_user", FF_ALERT_FIRING), 0);
    FF_CHECK_STR(g.a[0].key, "fp_42");
    ff_rules_free(r);
}

static void test_cart_hoarding(void)
{
    ff_rules *r = defaults();
    got g = {0};
    const char *R = "cart_hoarding";
    send(r, &g, (ev){.event = "product_added", .anon = "a1", .product = "p1", .ts = T0, .qty = 25});
    FF_CHECK_EQ(count_of(&g, R, FF_ALERT_FIRING), 1);
    FF_CHECK_STR(g.a[0].key, "a1|p1"); /* person falls back to anonymous_id */
    /* 4 x 5 of one product within the hour also counts; 19 of another does not */
    for (int i = 0; i < 4; i++)
        send(r, &g,
             (ev){.event = "product_added",
                  .user = "u1",
                  .product = "p2",
                  .ts = T0 + i * 600000,
                  .qty = 5});
    send(r, &g, (ev){.event = "product_added", .user = "u1", .product = "p3", .ts = T0, .qty = 19});
    FF_CHECK_EQ(count_of(&g, R, FF_ALERT_FIRING), 2);
    FF_CHECK_STR(g.a[g.n - 1].key, "u1|p2");
    /* normal carts (1-3) never do */
    got g2 = {0};
    for (int i = 0; i < 200; i++)
        send(r, &g2,
             (ev){.event = "product_added",
                  .user = "u5",
                  .product = i % 2 ? "p8" : "p9",
                  .ts = T0 + (int64_t)i * 600000,
                  .qty = 1 + i % 3});
    FF_CHECK_EQ(count_of(&g2, R, FF_ALERT_FIRING), 0);
    ff_rules_free(r);
}

static void test_inhuman_speed(void)
{
    ff_rules *r = defaults();
    got g = {0};
    const char *R = "inhuman_speed_user";
    /* 20 page views in 10 s: a fast human, no alert */
    for (int i = 0; i < 20; i++)
        send(r, &g, (ev){.type = "page", .user = "h1", .ts = T0 + i * 450, .qty = -1});
    FF_CHECK_EQ(count_of(&g, R, FF_ALERT_FIRING), 0);
    /* 21 in 10 s: a bot */
    for (int i = 0; i < 21; i++)
        send(r, &g, (ev){.type = "page", .user = "b1", .ts = T0 + i * 400, .qty = -1});
    FF_CHECK_EQ(count_of(&g, R, FF_ALERT_FIRING), 1);
    FF_CHECK_STR(g.a[0].key, "b1");
    /* tracks do not count towards page speed */
    for (int i = 0; i < 50; i++)
        send(r, &g, (ev){.event = "product_viewed", .user = "h2", .ts = T0 + i * 100, .qty = -1});
    FF_CHECK_EQ(count_of(&g, R, FF_ALERT_FIRING), 1);
    /* the network flood rule: > 5000 events in 10 s from one (truncated) address */
    for (int i = 0; i < 5001; i++) {
        if (i == 5000)
            FF_CHECK_EQ(count_of(&g, "flood_per_network", FF_ALERT_FIRING), 0);
        send(r, &g, (ev){.event = "x", .anon = "z", .ip = "203.0.113.0", .ts = T0 + i, .qty = -1});
    }
    FF_CHECK_EQ(count_of(&g, "flood_per_network", FF_ALERT_FIRING), 1);
    ff_rules_free(r);
}

static void test_many_users_per_device(void)
{
    ff_rules *r = defaults();
    got g = {0};
    const char *R = "many_users_per_device";
    char u[16];
    for (int i = 0; i < 20; i++) /* the same two users again and again: fine */
        send(r, &g,
             (ev){.event = "signed_in",
                  .user = i % 2 ? "a" : "b",
                  .anon = "dev1",
                  .ts = T0 + i * 1000,
                  .qty = -1});
    FF_CHECK_EQ(count_of(&g, R, FF_ALERT_FIRING), 0);
    for (int i = 0; i < 5; i++) {
        snprintf(u, sizeof u, "acct%d", i);
        send(
            r, &g,
            (ev){.event = "signed_in", .user = u, .anon = "dev2", .ts = T0 + i * 60000, .qty = -1});
    }
    FF_CHECK_EQ(count_of(&g, R, FF_ALERT_FIRING), 1);
    FF_CHECK_STR(g.a[g.n - 1].key, "dev2");
    FF_CHECK_EQ((int)g.a[g.n - 1].value, 5);
    /* an hour after the first sign-in, 4 distinct remain: resolved */
    ff_rules_advance(r, T0 + 3600000, sink, &g);
    FF_CHECK_EQ(count_of(&g, R, FF_ALERT_RESOLVED), 1);
    ff_rules_free(r);
}

static void test_window_edges_and_late_events(void)
{
    const char *rules[] = {"w: event=e by=user_id count>=3 window=10s"};
    ff_rules_cfg c = {.rules = rules, .n_rules = 1, .no_defaults = true};
    ff_rules *r = NULL;
    FF_CHECK_EQ(ff_rules_new(&c, &r, NULL), FF_OK);
    got g = {0};
    /* at T0, T0+5s, T0+10s: the first is exactly one window old -> out (window is (t-10s, t]) */
    send(r, &g, (ev){.event = "e", .user = "u", .ts = T0, .qty = -1});
    send(r, &g, (ev){.event = "e", .user = "u", .ts = T0 + 5000, .qty = -1});
    send(r, &g, (ev){.event = "e", .user = "u", .ts = T0 + 10000, .qty = -1});
    FF_CHECK_EQ(g.n, 0);
    /* a late event (T0+9s, arriving after T0+10s) is still inside and completes three */
    send(r, &g, (ev){.event = "e", .user = "u", .ts = T0 + 9000, .qty = -1});
    FF_CHECK_EQ(g.n, 1);
    FF_CHECK_EQ(g.a[0].st, FF_ALERT_FIRING);
    /* an event older than the window (relative to the key's newest) does not count */
    send(r, &g, (ev){.event = "e", .user = "v", .ts = T0 + 20000, .qty = -1});
    send(r, &g, (ev){.event = "e", .user = "v", .ts = T0 + 21000, .qty = -1});
    send(r, &g, (ev){.event = "e", .user = "v", .ts = T0 + 5000, .qty = -1});
    FF_CHECK_EQ(g.n, 1);
    /* the watermark going backwards changes nothing */
    ff_rules_advance(r, T0 + 14000, sink, &g);
    ff_rules_advance(r, T0 + 1000, sink, &g);
    FF_CHECK_EQ(g.n, 1);
    ff_rules_advance(r, T0 + 15000, sink, &g); /* 5s leaves: 9s,10s remain -> resolved */
    FF_CHECK_EQ(g.n, 2);
    FF_CHECK_EQ(g.a[1].st, FF_ALERT_RESOLVED);
    /* a key whose own newer event (ahead of the watermark) pushed the old ones out resolves at
     * the next watermark, although its oldest remaining entry has not expired */
    send(r, &g, (ev){.event = "e", .user = "w", .ts = T0 + 100000, .qty = -1});
    send(r, &g, (ev){.event = "e", .user = "w", .ts = T0 + 101000, .qty = -1});
    send(r, &g, (ev){.event = "e", .user = "w", .ts = T0 + 102000, .qty = -1});
    FF_CHECK_EQ(g.n, 3);
    send(r, &g, (ev){.event = "e", .user = "w", .ts = T0 + 112500, .qty = -1});
    ff_rules_advance(r, T0 + 105000, sink, &g);
    FF_CHECK_EQ(g.n, 4);
    FF_CHECK_EQ(g.a[3].st, FF_ALERT_RESOLVED);
    ff_rules_free(r);
}

static void test_parser(void)
{
    ff_err err = {0};
    static const struct {
        const char *line, *msg;
    } bad[] = {
        {"", "needs a name"},
        {"x event=a", "expected ':'"},
        {"x: by=user_id window=1m", "needs a condition"},
        {"x: count>=5 window=1m", "needs by="},
        {"x: by=user_id count>=5", "needs window"},
        {"x: by=user_id count>=5 window=10y", "bad window"},
        {"x: by=user_id count>=5 window=30d", "between 1ms and 7d"},
        {"x: by=nosuch count>=5 window=1m", "unknown field 'nosuch'"},
        {"x: by=user_id count>=2.5 window=1m", "whole number"},
        {"x: by=user_id count>=9000 window=1m", "whole number"},
        {"x: by=user_id sum(user_id)>=5 window=1m", "numeric field"},
        {"x: by=user_id avg(quantity)>=5 window=1m", "unknown aggregate"},
        {"x: by=user_id count>=5 window=1m severity=meh", "severity"},
        {"x: by=user_id count>=5 window=1m quantity=3", "filters compare text"},
        {"x: by=user_id count>=5 window=1m event=a||b", "empty value"},
        {"x: by=user_id count>=5 count>=6 window=1m", "more than one aggregate"},
        {"x: by=a,b,c,d count>=5 window=1m", "unknown field"},
        {"x: off by=user_id", "alone"},
        {"x: by=user_id count>=0 window=1m", "whole number"},
        {"x: by=user_id count>=5 window=1m junk", "bad term"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        ff_rc rc = ff_rules_check(bad[i].line, strlen(bad[i].line), &err);
        FF_CHECK_EQ(rc, FF_EBADINPUT);
        if (!strstr(err.msg, bad[i].msg))
            fprintf(stderr, "  line '%s': message '%s' lacks '%s'\n", bad[i].line, err.msg,
                    bad[i].msg);
        FF_CHECK(strstr(err.msg, bad[i].msg) != NULL);
    }
    for (const char *const *d = ff_rules_defaults(); *d; d++)
        FF_CHECK_EQ(ff_rules_check(*d, strlen(*d), NULL), FF_OK);
    const char *good = "big_spender: event=order_completed by=person,currency sum(revenue)>1000 "
                       "window=1d severity=critical";
    FF_CHECK_EQ(ff_rules_check(good, strlen(good), NULL), FF_OK);

    /* config: a default switched off, one replaced, one added; the JSON lists them */
    const char *cfg[] = {"flood_per_network: off",
                         "cart_hoarding: event=product_added by=person max(quantity)>=50 "
                         "window=1h",
                         good};
    ff_rules_cfg c = {.rules = cfg, .n_rules = 3};
    ff_rules *r = NULL;
    FF_CHECK_EQ(ff_rules_new(&c, &r, NULL), FF_OK);
    ff_buf b;
    ff_buf_init(&b, 1u << 20);
    FF_CHECK_EQ(ff_rules_json(r, &b, NULL), FF_OK);
    ff_arena ar;
    ff_arena_init(&ar, 65536, 1u << 24);
    ff_json *root = NULL;
    FF_CHECK_EQ(ff_json_parse(b.data, b.len, NULL, &ar, &root, NULL), FF_OK);
    FF_CHECK(root && root->type == FF_JSON_ARRAY && root->n_children == 6);
    FF_CHECK(!strstr(b.data, "flood_per_network"));
    FF_CHECK(strstr(b.data, "max(quantity)>=50") != NULL);
    FF_CHECK(strstr(b.data, "\"name\":\"big_spender\"") != NULL);
    ff_arena_fini(&ar);
    ff_buf_fini(&b);
    got g = {0};
    send(r, &g, (ev){.event = "product_added", .user = "u", .product = "p", .ts = T0, .qty = 30});
    FF_CHECK_EQ(g.n, 0); /* the replaced rule needs 50 */
    ff_rules_free(r);
    const char *bad_cfg[] = {"oops: count>=1"};
    ff_rules_cfg cb = {.rules = bad_cfg, .n_rules = 1};
    FF_CHECK_EQ(ff_rules_new(&cb, &r, &err), FF_EBADINPUT);
    FF_CHECK(strstr(err.msg, "oops") != NULL);
}

static void test_bounded_keys(void)
{
    const char *rules[] = {"k: by=user_id count>=3 window=1m"};
    ff_rules_cfg c = {.rules = rules, .n_rules = 1, .no_defaults = true, .max_keys = 100};
    ff_rules *r = NULL;
    FF_CHECK_EQ(ff_rules_new(&c, &r, NULL), FF_OK);
    got g = {0};
    char u[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(u, sizeof u, "user%d", i);
        send(r, &g, (ev){.event = "e", .user = u, .ts = T0 + i, .qty = -1});
        FF_CHECK(ff_rules_keys(r) <= 100);
    }
    FF_CHECK_EQ(ff_rules_keys(r), 100);
    /* a busy key survives eviction as it keeps being touched */
    for (int i = 0; i < 300; i++) {
        snprintf(u, sizeof u, "x%d", i);
        send(r, &g, (ev){.event = "e", .user = u, .ts = T0 + 20000 + i, .qty = -1});
        if (i % 50 == 0)
            send(r, &g, (ev){.event = "e", .user = "hot", .ts = T0 + 20000 + i, .qty = -1});
    }
    FF_CHECK_EQ(count_of(&g, "k", FF_ALERT_FIRING), 1);
    FF_CHECK_STR(g.a[0].key, "hot");
    /* idle keys go once the watermark passes their window */
    ff_rules_advance(r, T0 + 200000, sink, &g);
    FF_CHECK_EQ(ff_rules_keys(r), 0);
    FF_CHECK_EQ(count_of(&g, "k", FF_ALERT_RESOLVED), 1);
    ff_rules_free(r);
}

static void test_save_load(void)
{
    ff_rules *r = defaults();
    got g = {0};
    for (int i = 0; i < 4; i++)
        send(r, &g, (ev){.event = "payment_failed", .user = "u1", .ts = T0 + i * 1000, .qty = -1});
    for (int i = 0; i < 5; i++)
        send(r, &g, (ev){.event = "payment_failed", .user = "u2", .ts = T0 + i * 1000, .qty = -1});
    FF_CHECK_EQ(g.n, 1);
    ff_buf b;
    ff_buf_init(&b, 1u << 24);
    FF_CHECK_EQ(ff_rules_save(r, &b, NULL), FF_OK);
    size_t keys = ff_rules_keys(r);
    ff_rules_free(r);

    r = defaults();
    FF_CHECK_EQ(ff_rules_load(r, b.data, b.len, NULL), FF_OK);
    FF_CHECK_EQ(ff_rules_keys(r), keys);
    got g2 = {0};
    send(r, &g2, (ev){.event = "payment_failed", .user = "u1", .ts = T0 + 5000, .qty = -1});
    FF_CHECK_EQ(count_of(&g2, "payment_failures_per_user", FF_ALERT_FIRING), 1); /* 4 + 1 */
    /* u2 was firing before the restart: its resolution still comes */
    ff_rules_advance(r, T0 + 700000, sink, &g2);
    FF_CHECK_EQ(count_of(&g2, "payment_failures_per_user", FF_ALERT_RESOLVED), 2);
    /* damaged checkpoints are refused, leaving an empty (usable) state */
    ff_err err = {0};
    FF_CHECK_EQ(ff_rules_load(r, b.data, b.len - 3, &err), FF_ECORRUPT);
    FF_CHECK_EQ(ff_rules_keys(r), 0);
    FF_CHECK_EQ(ff_rules_load(r, "FFRULES2", 8, &err), FF_ECORRUPT);
    ((char *)b.data)[30] ^= 0x55; /* inside the first key's length */
    ff_rc rc = ff_rules_load(r, b.data, b.len, &err);
    FF_CHECK(rc == FF_ECORRUPT || rc == FF_OK);
    ff_buf_fini(&b);
    ff_rules_free(r);
}

int main(void)
{
    FF_RUN(test_payment_failures_per_user);
    FF_RUN(test_payment_failures_per_card);
    FF_RUN(test_cart_hoarding);
    FF_RUN(test_inhuman_speed);
    FF_RUN(test_many_users_per_device);
    FF_RUN(test_window_edges_and_late_events);
    FF_RUN(test_parser);
    FF_RUN(test_bounded_keys);
    FF_RUN(test_save_load);
    FF_DONE();
}
