/* test_alert.c -- alert state (cooldown, history, persistence) and webhook delivery (retries
 * with backoff, dead letters, Slack format) against a tiny HTTP receiver in this process. */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alert/ff_alert.h"
#include "core/ff_arena.h"
#include "core/ff_clock.h"
#include "core/ff_json.h"
#include "ff_test.h"

/* ---- a tiny HTTP receiver: answers 500 to the first fail_first requests, then 200 ---- */

#define MAX_REQ 32
typedef struct receiver {
    int fd;
    int port;
    int fail_first;
    atomic_int n;
    atomic_bool stop;
    int64_t at_ms[MAX_REQ];
    char body[MAX_REQ][4096];
    pthread_t th;
} receiver;

static int64_t now_ms(void)
{
    return (int64_t)(ff_clock_mono_ns() / 1000000u);
}

static void serve_one(receiver *r, int c)
{
    char buf[16384];
    size_t have = 0;
    int64_t deadline = now_ms() + 3000;
    size_t need = 0;
    char *hdr_end = NULL;
    while (now_ms() < deadline && have < sizeof buf - 1) {
        struct pollfd p = {c, POLLIN, 0};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t got = read(c, buf + have, sizeof buf - 1 - have);
        if (got <= 0)
            break;
        have += (size_t)got;
        buf[have] = 0;
        if (!hdr_end && (hdr_end = strstr(buf, "\r\n\r\n"))) {
            char *cl = strcasestr(buf, "Content-Length:");
            need = (size_t)(hdr_end + 4 - buf) + (cl ? (size_t)atoi(cl + 15) : 0);
        }
        if (hdr_end && have >= need)
            break;
    }
    int i = atomic_load(&r->n);
    if (i < MAX_REQ) {
        r->at_ms[i] = now_ms();
        snprintf(r->body[i], sizeof r->body[i], "%s", hdr_end ? hdr_end + 4 : "");
    }
    atomic_fetch_add(&r->n, 1);
    const char *ans = i < r->fail_first
                          ? "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n"
                            "Connection: close\r\n\r\nfail"
                          : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    ssize_t w = write(c, ans, strlen(ans));
    (void)w;
    close(c);
}

static void *receiver_main(void *arg)
{
    receiver *r = arg;
    while (!atomic_load(&r->stop)) {
        struct pollfd p = {r->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int c = accept(r->fd, NULL, NULL);
        if (c >= 0)
            serve_one(r, c);
    }
    return NULL;
}

static void receiver_start(receiver *r, int fail_first)
{
    memset(r, 0, sizeof *r);
    r->fail_first = fail_first;
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    FF_VERIFY(bind(r->fd, (struct sockaddr *)&a, sizeof a) == 0);
    FF_VERIFY(listen(r->fd, 16) == 0);
    socklen_t l = sizeof a;
    getsockname(r->fd, (struct sockaddr *)&a, &l);
    r->port = ntohs(a.sin_port);
    pthread_create(&r->th, NULL, receiver_main, r);
}

static void receiver_stop(receiver *r)
{
    atomic_store(&r->stop, true);
    pthread_join(r->th, NULL);
    close(r->fd);
}

static bool wait_requests(receiver *r, int n, int64_t timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (atomic_load(&r->n) < n && now_ms() < end)
        usleep(5000);
    return atomic_load(&r->n) >= n;
}

/* ---- helpers ---- */

static void mkdtemp_dir(char *path, size_t n)
{
    snprintf(path, n, "/tmp/ff_test_alert_XXXXXX");
    FF_VERIFY(mkdtemp(path) != NULL);
}

static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[4200];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static void fire(ff_alerts *a, const char *rule, const char *key, ff_alert_state st, int64_t at,
                 double v)
{
    ff_alert_fire f = {
        .rule = rule,
        .key = key,
        .state = st,
        .at_ms = at,
        .value = v,
        .threshold = 5,
        .severity = "critical",
        .summary = "six failed payments",
        .evidence_json = "{\"count\":6,\"sample_event_ids\":[\"e1\"]}",
    };
    ff_alerts_sink(a, &f);
}

/* Parse the /v1/alerts body; counts of firing and resolved. */
static bool parse_answer(ff_alerts *a, size_t *n_firing, size_t *n_resolved, ff_buf *keep)
{
    ff_buf_reset(keep);
    if (ff_alerts_json(a, keep, NULL) != FF_OK)
        return false;
    ff_arena ar;
    ff_arena_init(&ar, 65536, 1u << 26);
    ff_json *root = NULL;
    bool ok = ff_json_parse(keep->data, keep->len, NULL, &ar, &root, NULL) == FF_OK;
    if (ok) {
        ff_json *f = ff_json_get(root, "firing"), *r = ff_json_get(root, "resolved");
        ok = f && r && f->type == FF_JSON_ARRAY && r->type == FF_JSON_ARRAY &&
             ff_json_get(root, "rules") != NULL;
        if (ok) {
            *n_firing = f->n_children;
            *n_resolved = r->n_children;
        }
    }
    ff_arena_fini(&ar);
    return ok;
}

static const int64_t T0 = 1767225600000; /* 2026-01-01 */

/* ---- tests ---- */

static void test_cooldown_and_history(void)
{
    char dir[64];
    mkdtemp_dir(dir, sizeof dir);
    receiver rc;
    receiver_start(&rc, 0);
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", rc.port);
    const char *hooks[] = {url};
    ff_alerts_opts o = {.dir = dir,
                        .webhooks = hooks,
                        .n_webhooks = 1,
                        .cooldown_ms = 600000,
                        .backoff_base_ms = 10,
                        .seed = 7};
    ff_alerts *a = NULL;
    FF_CHECK_EQ(ff_alerts_open(&o, &a, NULL), FF_OK);
    if (!a)
        return;
    ff_buf b;
    ff_buf_init(&b, 1u << 24);
    size_t nf = 0, nr = 0;

    fire(a, "payment_failures_per_user", "u1", FF_ALERT_FIRING, T0, 5);
    fire(a, "payment_failures_per_user", "u1", FF_ALERT_FIRING, T0 + 1000, 7); /* same incident */
    fire(a, "payment_failures_per_user", "u2", FF_ALERT_FIRING, T0 + 2000, 5);
    FF_CHECK(parse_answer(a, &nf, &nr, &b));
    FF_CHECK_EQ(nf, 2);
    FF_CHECK_EQ(nr, 0);
    FF_CHECK(strstr(b.data, "\"value\":7") != NULL); /* the repeat updated the value */
    ff_alerts_stats st;
    ff_alerts_stats_get(a, &st);
    FF_CHECK_EQ(st.fired, 2);
    FF_CHECK_EQ(st.suppressed, 1);

    /* resolve u1, then it fires again 5 minutes later: within the cooldown, same incident */
    fire(a, "payment_failures_per_user", "u1", FF_ALERT_RESOLVED, T0 + 60000, 2);
    FF_CHECK(parse_answer(a, &nf, &nr, &b));
    FF_CHECK_EQ(nf, 1);
    FF_CHECK_EQ(nr, 1);
    fire(a, "payment_failures_per_user", "u1", FF_ALERT_FIRING, T0 + 360000, 6);
    FF_CHECK(parse_answer(a, &nf, &nr, &b));
    FF_CHECK_EQ(nf, 2);
    FF_CHECK_EQ(nr, 0);
    FF_CHECK(strstr(b.data, "\"reopened\":1") != NULL);
    /* resolve and fire again after the cooldown: a new alert with a new id */
    fire(a, "payment_failures_per_user", "u1", FF_ALERT_RESOLVED, T0 + 400000, 1);
    fire(a, "payment_failures_per_user", "u1", FF_ALERT_FIRING, T0 + 400000 + 600001, 9);
    FF_CHECK(parse_answer(a, &nf, &nr, &b));
    FF_CHECK_EQ(nf, 2);
    FF_CHECK_EQ(nr, 1);
    ff_alerts_stats_get(a, &st);
    FF_CHECK_EQ(st.fired, 3);
    FF_CHECK_EQ(st.resolved, 2);
    /* a resolve for something not open is ignored */
    fire(a, "nope", "x", FF_ALERT_RESOLVED, T0, 0);
    ff_alerts_stats_get(a, &st);
    FF_CHECK_EQ(st.resolved, 2);

    /* deliveries: fire u1, fire u2, resolve u1, resolve u1(2nd), fire u1(3rd) = 5 */
    FF_CHECK(ff_alerts_flush(a, 5000));
    FF_CHECK(wait_requests(&rc, 5, 3000));
    FF_CHECK_EQ(atomic_load(&rc.n), 5);
    FF_CHECK(strstr(rc.body[0], "\"event\":\"firing\"") && strstr(rc.body[0], "\"key\":\"u1\""));
    FF_CHECK(strstr(rc.body[2], "\"event\":\"resolved\"") != NULL);
    ff_buf m;
    ff_buf_init(&m, 65536);
    ff_alerts_metrics(a, &m);
    FF_CHECK(strstr(m.data, "footfall_alerts_firing 2") != NULL);
    FF_CHECK(strstr(m.data, "footfall_webhook_deliveries_total 5") != NULL);
    ff_buf_fini(&m);
    ff_alerts_close(a);

    /* restart: the state is kept */
    ff_alerts_opts o2 = {.dir = dir, .cooldown_ms = 600000};
    FF_CHECK_EQ(ff_alerts_open(&o2, &a, NULL), FF_OK);
    FF_CHECK(parse_answer(a, &nf, &nr, &b));
    FF_CHECK_EQ(nf, 2);
    FF_CHECK_EQ(nr, 1);
    /* a new alert after restart gets a fresh id (ids 1..3 were used) */
    fire(a, "r", "k", FF_ALERT_FIRING, T0, 1);
    FF_CHECK(parse_answer(a, &nf, &nr, &b));
    FF_CHECK(strstr(b.data, "{\"id\":4,\"rule\":\"r\"") != NULL);
    ff_alerts_close(a);
    ff_buf_fini(&b);
    receiver_stop(&rc);
    rm_rf(dir);
}

static void test_history_bounded(void)
{
    ff_alerts_opts o = {.history_max = 3, .cooldown_ms = -1};
    ff_alerts *a = NULL;
    FF_CHECK_EQ(ff_alerts_open(&o, &a, NULL), FF_OK);
    char key[16];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "k%d", i);
        fire(a, "r", key, FF_ALERT_FIRING, T0 + i, 1);
        fire(a, "r", key, FF_ALERT_RESOLVED, T0 + i + 1, 0);
    }
    ff_buf b;
    ff_buf_init(&b, 1u << 20);
    size_t nf = 9, nr = 0;
    FF_CHECK(parse_answer(a, &nf, &nr, &b));
    FF_CHECK_EQ(nf, 0);
    FF_CHECK_EQ(nr, 3);
    FF_CHECK(strstr(b.data, "\"key\":\"k9\"") && !strstr(b.data, "\"key\":\"k6\""));
    /* bad evidence is wrapped, never breaks the answer */
    ff_alert_fire f = {.rule = "x",
                       .key = "y",
                       .state = FF_ALERT_FIRING,
                       .at_ms = T0,
                       .evidence_json = "{not json"};
    ff_alerts_sink(a, &f);
    FF_CHECK(parse_answer(a, &nf, &nr, &b));
    FF_CHECK(strstr(b.data, "\"evidence\":{\"text\":\"{not json\"}") != NULL);
    ff_buf_fini(&b);
    ff_alerts_close(a);
}

static void test_retry_backoff(void)
{
    receiver rc;
    receiver_start(&rc, 2); /* two failures, then success */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", rc.port);
    const char *hooks[] = {url};
    ff_alerts_opts o = {.webhooks = hooks,
                        .n_webhooks = 1,
                        .max_attempts = 5,
                        .backoff_base_ms = 100,
                        .backoff_max_ms = 1000,
                        .seed = 42};
    ff_alerts *a = NULL;
    FF_CHECK_EQ(ff_alerts_open(&o, &a, NULL), FF_OK);
    fire(a, "payment_failures_per_user", "u1", FF_ALERT_FIRING, T0, 6);
    FF_CHECK(wait_requests(&rc, 3, 5000));
    FF_CHECK(ff_alerts_flush(a, 5000));
    FF_CHECK_EQ(atomic_load(&rc.n), 3);
    /* backoff: about 100 ms then about 200 ms, each with 50-100% jitter */
    int64_t g1 = rc.at_ms[1] - rc.at_ms[0], g2 = rc.at_ms[2] - rc.at_ms[1];
    FF_CHECK(g1 >= 50 && g1 < 1500); /* upper bounds are loose: a loaded CI box */
    FF_CHECK(g2 >= 100 && g2 < 2000);
    FF_CHECK(!strcmp(rc.body[0], rc.body[2])); /* the same body is re-sent */
    ff_alerts_stats st;
    ff_alerts_stats_get(a, &st);
    FF_CHECK_EQ(st.deliveries_ok, 1);
    FF_CHECK_EQ(st.delivery_attempts, 3);
    FF_CHECK_EQ(st.delivery_failures, 2);
    FF_CHECK_EQ(st.dead_lettered, 0);
    ff_alerts_close(a);
    receiver_stop(&rc);
}

static void test_dead_letter(void)
{
    char dir[64];
    mkdtemp_dir(dir, sizeof dir);
    receiver rc;
    receiver_start(&rc, 1000); /* always fails */
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", rc.port);
    const char *hooks[] = {url, "http://127.0.0.1:1/refused"};
    ff_alerts_opts o = {.dir = dir,
                        .webhooks = hooks,
                        .n_webhooks = 2,
                        .max_attempts = 3,
                        .backoff_base_ms = 10,
                        .backoff_max_ms = 20,
                        .timeout_ms = 2000};
    ff_alerts *a = NULL;
    FF_CHECK_EQ(ff_alerts_open(&o, &a, NULL), FF_OK);
    fire(a, "cart_hoarding", "u9|p1", FF_ALERT_FIRING, T0, 40);
    FF_CHECK(ff_alerts_flush(a, 10000));
    FF_CHECK_EQ(atomic_load(&rc.n), 3);
    ff_alerts_stats st;
    ff_alerts_stats_get(a, &st);
    FF_CHECK_EQ(st.dead_lettered, 2);
    FF_CHECK_EQ(st.deliveries_ok, 0);
    FF_CHECK_EQ(st.delivery_attempts, 6);
    ff_alerts_close(a);
    char path[200];
    snprintf(path, sizeof path, "%s/dead-letter.ndjson", dir);
    FILE *f = fopen(path, "r");
    FF_CHECK(f != NULL);
    int lines = 0;
    char line[16384];
    while (f && fgets(line, sizeof line, f)) {
        lines++;
        FF_CHECK(strstr(line, "\"reason\":\"retries exhausted\"") != NULL);
        FF_CHECK(strstr(line, "\"attempts\":3") != NULL);
        FF_CHECK(strstr(line, "\"key\":\"u9|p1\"") != NULL);
        ff_arena ar;
        ff_arena_init(&ar, 65536, 1u << 24);
        ff_json *root;
        FF_CHECK_EQ(ff_json_parse(line, strlen(line), NULL, &ar, &root, NULL), FF_OK);
        ff_arena_fini(&ar);
    }
    if (f)
        fclose(f);
    FF_CHECK_EQ(lines, 2);
    FF_CHECK(strstr(line, "HTTP 500") || strstr(line, "onnect")); /* last_error is kept */
    receiver_stop(&rc);
    rm_rf(dir);
}

static void test_slack_and_bad_opts(void)
{
    receiver rc;
    receiver_start(&rc, 0);
    char url[128];
    snprintf(url, sizeof url, "slack+http://127.0.0.1:%d/services/x", rc.port);
    const char *hooks[] = {url};
    ff_alerts_opts o = {.webhooks = hooks, .n_webhooks = 1};
    ff_alerts *a = NULL;
    FF_CHECK_EQ(ff_alerts_open(&o, &a, NULL), FF_OK);
    fire(a, "anomaly:payment_failure_rate", "global", FF_ALERT_FIRING, T0, 0.6);
    FF_CHECK(ff_alerts_flush(a, 5000));
    FF_CHECK_EQ(atomic_load(&rc.n), 1);
    FF_CHECK(!strncmp(rc.body[0], "{\"text\":\"", 9));
    FF_CHECK(strstr(rc.body[0], "FIRING") && strstr(rc.body[0], "anomaly:payment_failure_rate"));
    ff_alerts_close(a);
    receiver_stop(&rc);

    const char *bad[] = {"ftp://x/y"};
    ff_alerts_opts ob = {.webhooks = bad, .n_webhooks = 1};
    ff_err err = {0};
    FF_CHECK_EQ(ff_alerts_open(&ob, &a, &err), FF_EINVAL);
    FF_CHECK(strstr(err.msg, "ftp://x/y") != NULL);
    ff_alerts_opts of = {.webhook_format = "xml"};
    FF_CHECK_EQ(ff_alerts_open(&of, &a, &err), FF_EINVAL);
}

int main(void)
{
    FF_RUN(test_cooldown_and_history);
    FF_RUN(test_history_bounded);
    FF_RUN(test_retry_backoff);
    FF_RUN(test_dead_letter);
    FF_RUN(test_slack_and_bad_opts);
    FF_DONE();
}
