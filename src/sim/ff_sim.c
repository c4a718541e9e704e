/* ff_sim.c -- the sender: paces a generator and POSTs batches (contract in ff_sim.h).
 *
 * One loop on the caller's thread:
 *
 *   +--> refill bucket --(< one batch, and < 1 s since the last send)--> sleep <= 100 ms --+
 *   |         | (enough tokens)                                                             |
 *   |         v                                                                             |
 *   |   build batch --> POST --2xx--> count accepted/rejected ----------------------------->+
 *   |                    | 5xx/429/408/network: backoff, same bytes again (<= max_attempts)
 *   |                    | other 4xx: whole batch rejected;  401/403: stop with FF_EAUTH
 *   +-- stop / duration / max_events --> final tick
 *
 * Backoff is retry_base_ms * 2^(attempt-1), capped at 10 s, with +-25% jitter
 * from an RNG that is separate from the generator's (so network weather never
 * changes the generated messages), or Retry-After when the server sends a
 * longer one (capped at 30 s). All sleeps are sliced to 100 ms so *stop and
 * the once-per-second tick stay responsive.
 */
#include "sim/ff_sim.h"

#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/ff_arena.h"
#include "core/ff_clock.h"
#include "core/ff_json.h"
#include "core/ff_mem.h"
#include "sim/ff_sim_int.h"

#define RESP_MAX_BYTES 65536u
#define SLICE_NS 100000000ull  /* longest single sleep */
#define TICK_NS 1000000000ull  /* on_tick period */
#define FLUSH_NS 1000000000ull /* send a partial batch after this long */
#define BACKOFF_CAP_MS 10000u
#define RETRY_AFTER_CAP_S 30

typedef struct sender {
    const ff_sim_opts *o;
    ff_sim_tick_fn on_tick;
    void *ud;
    ff_simgen *gen;
    CURL *h;
    struct curl_slist *hdrs;
    char auth_hdr[512];
    char *url;
    ff_buf body;
    ff_buf resp;
    ff_arena arena;
    ff_simrng jitter;
    uint32_t batch_size;
    uint32_t max_attempts;
    uint32_t retry_base_ms;
    uint64_t t_start_ns;
    uint64_t last_tick_ns;
    uint64_t n_generated;
    int64_t last_ts_ms;
    int64_t replay_wall0_ms; /* replay clock origin (opts time_scale): wall and event time */
    int64_t replay_ev0_ms;
    bool ever_answered; /* some attempt got an HTTP status */
    char curl_err[CURL_ERROR_SIZE];
    ff_sim_stats st;
} sender;

static bool stop_requested(const sender *s)
{
    return s->o->stop && *s->o->stop;
}

static void fill_stats(sender *s, bool done)
{
    uint64_t now = ff_clock_mono_ns();
    s->st.elapsed_s = (double)(now - s->t_start_ns) / 1e9;
    s->st.rate_achieved = s->st.elapsed_s > 0 ? (double)s->st.n_sent / s->st.elapsed_s : 0;
    if (s->gen) {
        ff_simgen_counts_get(s->gen, &s->st.gen);
        s->st.anomaly_active = ff_simgen_anomaly_active(s->gen);
    }
    s->st.done = done;
}

static void maybe_tick(sender *s)
{
    uint64_t now = ff_clock_mono_ns();
    if (!s->on_tick || now - s->last_tick_ns < TICK_NS)
        return;
    s->last_tick_ns = now;
    fill_stats(s, false);
    s->on_tick(&s->st, s->ud);
}

/* Sleep up to ns in slices, returning early when stop is requested. */
static void sleep_ns(sender *s, uint64_t ns)
{
    uint64_t end = ff_clock_mono_ns() + ns;
    for (;;) {
        maybe_tick(s);
        uint64_t now = ff_clock_mono_ns();
        if (now >= end || stop_requested(s))
            return;
        uint64_t left = end - now;
        if (left > SLICE_NS)
            left = SLICE_NS;
        struct timespec ts = {(time_t)(left / 1000000000ull), (long)(left % 1000000000ull)};
        nanosleep(&ts, NULL); /* EINTR: the loop re-checks */
    }
}

static void base64(const unsigned char *in, size_t n, char *out)
{
    static const char tb[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = tb[(v >> 18) & 63];
        out[o++] = tb[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tb[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? tb[v & 63] : '=';
    }
    out[o] = '\0';
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    ff_buf *b = ud;
    size_t n = size * nmemb;
    size_t room = b->max - b->len;
    /* Keep the first RESP_MAX_BYTES; the rest is read and dropped. */
    (void)ff_buf_add(b, p, n < room ? n : room);
    return n;
}

static ff_rc validate(const ff_sim_opts *o, ff_sim_anomaly *anomaly, ff_err *err)
{
    if (!o->url || !*o->url)
        return FF_ERR_SET(err, FF_EINVAL, "sim: url is required");
    if (strlen(o->url) > 2000)
        return FF_ERR_SET(err, FF_EINVAL, "sim: url is too long");
    if (!(o->rate > 0) || !isfinite(o->rate) || o->rate > 1e7)
        return FF_ERR_SET(err, FF_EINVAL, "sim: rate must be in (0, 1e7] events/s");
    if (!(o->duration_s >= 0) || !isfinite(o->duration_s))
        return FF_ERR_SET(err, FF_EINVAL, "sim: duration must be >= 0 s");
    if (o->batch_size > FF_SIM_MAX_BATCH)
        return FF_ERR_SET(err, FF_EINVAL, "sim: batch size must be <= %u", FF_SIM_MAX_BATCH);
    if (o->write_key && strlen(o->write_key) > 256)
        return FF_ERR_SET(err, FF_EINVAL, "sim: write key is too long");
    if (!isfinite(o->anomaly_start_s) || o->anomaly_start_s > 1e9)
        return FF_ERR_SET(err, FF_EINVAL, "sim: bad anomaly start");
    if (o->max_attempts > 100)
        return FF_ERR_SET(err, FF_EINVAL, "sim: max_attempts must be <= 100");
    if (!(o->time_scale >= 0) || o->time_scale > 1e6)
        return FF_ERR_SET(err, FF_EINVAL, "sim: time scale must be in [0, 1e6]");
    if (!(o->start_ago_s >= 0) || o->start_ago_s > 366.0 * 86400)
        return FF_ERR_SET(err, FF_EINVAL, "sim: start-ago must be between 0 and 366 days");
    if (ff_sim_anomaly_parse(o->anomaly, anomaly) != FF_OK)
        return FF_ERR_SET(err, FF_EINVAL, "sim: unknown anomaly \"%s\" (known: payment-failures)",
                          o->anomaly);
    return FF_OK;
}

static ff_rc setup(sender *s, ff_sim_anomaly anomaly, ff_err *err)
{
    const ff_sim_opts *o = s->o;
    ff_simgen_opts go = {
        .seed = s->st.seed,
        .n_users = o->n_users,
        .n_products = o->n_products,
        .anomaly = anomaly,
    };
    double start_s = o->anomaly_start_s == 0  ? FF_SIM_DEFAULT_ANOMALY_START_S
                     : o->anomaly_start_s < 0 ? 0
                                              : o->anomaly_start_s;
    go.anomaly_start_ms = (int64_t)(start_s * 1000.0);
    ff_rc rc = ff_simgen_new(&go, &s->gen, err);
    if (rc)
        return rc;

    size_t ulen = strlen(o->url);
    while (ulen > 0 && o->url[ulen - 1] == '/')
        ulen--;
    static const char path[] = "/v1/batch";
    bool has_path = ulen >= sizeof path - 1 &&
                    memcmp(o->url + ulen - (sizeof path - 1), path, sizeof path - 1) == 0;
    s->url = ff_malloc(ulen + sizeof path);
    if (!s->url)
        return FF_ERR_SET(err, FF_ENOMEM, "sim: out of memory");
    memcpy(s->url, o->url, ulen);
    memcpy(s->url + ulen, has_path ? "" : path, has_path ? 1 : sizeof path);

    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return FF_ERR_SET(err, FF_EIO, "sim: curl_global_init failed");
    s->h = curl_easy_init();
    if (!s->h) {
        curl_global_cleanup();
        return FF_ERR_SET(err, FF_EIO, "sim: curl_easy_init failed");
    }
    struct curl_slist *l = NULL, *t;
    const char *hdrs[3] = {"Content-Type: application/json", "Expect:", NULL};
    if (o->write_key && *o->write_key) {
        char user[300], b64[420];
        int n = snprintf(user, sizeof user, "%s:", o->write_key);
        base64((const unsigned char *)user, (size_t)n, b64);
        snprintf(s->auth_hdr, sizeof s->auth_hdr, "Authorization: Basic %s", b64);
        hdrs[2] = s->auth_hdr;
    }
    for (int i = 0; i < 3; i++) {
        if (!hdrs[i])
            continue;
        t = curl_slist_append(l, hdrs[i]);
        if (!t) {
            curl_slist_free_all(l);
            return FF_ERR_SET(err, FF_ENOMEM, "sim: out of memory");
        }
        l = t;
    }
    s->hdrs = l;
    CURL *h = s->h;
    CURLcode c = CURLE_OK;
#define SETOPT(opt, val)                                                                           \
    do {                                                                                           \
        if (c == CURLE_OK)                                                                         \
            c = curl_easy_setopt(h, opt, val);                                                     \
    } while (0)
    SETOPT(CURLOPT_URL, s->url);
    SETOPT(CURLOPT_POST, 1L);
    SETOPT(CURLOPT_HTTPHEADER, s->hdrs);
    SETOPT(CURLOPT_WRITEFUNCTION, on_body);
    SETOPT(CURLOPT_WRITEDATA, &s->resp);
    SETOPT(CURLOPT_USERAGENT, "footfall-sim/0.1.0");
    SETOPT(CURLOPT_NOSIGNAL, 1L);
    SETOPT(CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    SETOPT(CURLOPT_TIMEOUT_MS, 30000L);
    SETOPT(CURLOPT_TCP_KEEPALIVE, 1L);
    SETOPT(CURLOPT_ERRORBUFFER, s->curl_err);
#if LIBCURL_VERSION_NUM >= 0x075500
    SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
#endif
#undef SETOPT
    if (c != CURLE_OK)
        return FF_ERR_SET(err, FF_EINVAL, "sim: curl option refused: %s", curl_easy_strerror(c));
    return FF_OK;
}

static void teardown(sender *s)
{
    if (s->h) {
        curl_easy_cleanup(s->h);
        curl_global_cleanup();
    }
    curl_slist_free_all(s->hdrs);
    ff_free(s->url);
    ff_buf_fini(&s->body);
    ff_buf_fini(&s->resp);
    ff_arena_fini(&s->arena);
    ff_simgen_free(s->gen);
}

/* Build a batch of up to n events into s->body; returns how many it holds.
 * Timestamps are spread over the time since the previous batch, as if each
 * event had happened when its token arrived. */
/* Event time now: the wall clock, or the replay clock (see ff_sim_opts.time_scale). */
static int64_t event_now_ms(const sender *s, int64_t wall_ms)
{
    double scale = s->o->time_scale > 0 ? s->o->time_scale : 1;
    if (scale == 1 && s->replay_ev0_ms == s->replay_wall0_ms)
        return wall_ms;
    double ev = (double)s->replay_ev0_ms + (double)(wall_ms - s->replay_wall0_ms) * scale;
    return ev > (double)wall_ms ? wall_ms : (int64_t)ev;
}

static ff_rc build_batch(sender *s, uint32_t n, uint32_t *n_built)
{
    int64_t wall_ms = ff_clock_now_ms();
    int64_t now_ms = event_now_ms(s, wall_ms);
    if (now_ms < s->last_ts_ms)
        now_ms = s->last_ts_ms; /* wall clock stepped back: do not go back in time */
    int64_t span = now_ms - s->last_ts_ms;
    ff_buf_reset(&s->body);
    ff_rc rc = ff_buf_adds(&s->body, "{\"batch\":[");
    uint32_t k = 0;
    for (; rc == FF_OK && k < n; k++) {
        if (s->body.len > FF_SIM_MAX_BATCH_BYTES - FF_SIM_MAX_MESSAGE_BYTES)
            break; /* keep the request under the collector's 500 KB limit */
        if (k > 0)
            rc = ff_buf_addc(&s->body, ',');
        if (rc == FF_OK)
            rc = ff_simgen_next(s->gen, s->last_ts_ms + span * (int64_t)(k + 1) / (int64_t)n,
                                &s->body);
    }
    s->last_ts_ms = now_ms;
    char ts[32];
    ff_clock_format_rfc3339(wall_ms, ts);
    if (rc == FF_OK)
        rc = ff_buf_printf(&s->body, "],\"sentAt\":\"%s\"}", ts);
    s->n_generated += k;
    *n_built = k;
    return rc;
}

/* Count a 2xx answer: {"success":true,"accepted":N,"rejected":[...]} or any
 * subset of it. Whatever is not accepted counts as rejected (invariant 4). */
static void count_2xx(sender *s, uint32_t n)
{
    uint64_t accepted = n;
    ff_json *root = NULL;
    ff_json_error jerr;
    ff_arena_reset(&s->arena);
    if (s->resp.len > 0 &&
        ff_json_parse(s->resp.data, s->resp.len, NULL, &s->arena, &root, &jerr) == FF_OK &&
        root->type == FF_JSON_OBJECT) {
        ff_json *acc = ff_json_get(root, "accepted");
        ff_json *rej = ff_json_get(root, "rejected");
        ff_json *ok = ff_json_get(root, "success");
        int64_t v;
        if (acc && ff_json_as_i64(acc, &v) && v >= 0)
            accepted = (uint64_t)v < n ? (uint64_t)v : n;
        else if (rej && rej->type == FF_JSON_ARRAY)
            accepted = rej->n_children < n ? n - rej->n_children : 0;
        else if (ok && ok->type == FF_JSON_FALSE)
            accepted = 0;
    }
    s->st.n_accepted += accepted;
    s->st.n_rejected += n - accepted;
}

typedef enum outcome { OUT_DONE, OUT_AUTH, OUT_UNREACHABLE } outcome;

/* A batch reached its final outcome; its events go to *bucket (unless the
 * 2xx counting already split them, bucket NULL). */
static void batch_done(sender *s, uint32_t n, uint64_t *bucket)
{
    if (bucket)
        *bucket += n;
    s->st.n_sent += n;
    s->st.n_batches++;
}

static outcome send_batch(sender *s, uint32_t n)
{
    CURL *h = s->h;
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, s->body.data);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)s->body.len);
    for (uint32_t attempt = 1;; attempt++) {
        struct curl_slist *retry_hdrs = NULL;
        if (attempt > 1) {
            /* SDKs announce retries; the list borrows the base list's tail. */
            char hdr[48];
            snprintf(hdr, sizeof hdr, "X-Retry-Count: %u", attempt - 1);
            retry_hdrs = curl_slist_append(NULL, hdr);
            if (retry_hdrs) {
                retry_hdrs->next = s->hdrs;
                curl_easy_setopt(h, CURLOPT_HTTPHEADER, retry_hdrs);
            }
        }
        ff_buf_reset(&s->resp);
        s->curl_err[0] = '\0';
        uint64_t t0 = ff_clock_mono_ns();
        CURLcode c = curl_easy_perform(h);
        s->st.last_latency_ms = (double)(ff_clock_mono_ns() - t0) / 1e6;
        s->st.n_requests++;
        if (retry_hdrs) {
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, s->hdrs);
            retry_hdrs->next = NULL;
            curl_slist_free_all(retry_hdrs);
        }
        long status = 0;
        curl_off_t retry_after_s = 0;
        bool retry;
        if (c != CURLE_OK) {
            s->st.last_status = 0;
            s->st.n_http_errors++;
            retry = true;
        } else {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after_s);
            s->st.last_status = status;
            s->ever_answered = true;
            if (status >= 200 && status < 300) {
                count_2xx(s, n);
                batch_done(s, n, NULL);
                return OUT_DONE;
            }
            s->st.n_http_errors++;
            if (status == 401 || status == 403) {
                batch_done(s, n, &s->st.n_rejected);
                return OUT_AUTH;
            }
            retry =
                status == 408 || status == 429 || (status >= 500 && status != 501 && status != 505);
            if (!retry) {
                batch_done(s, n, &s->st.n_rejected); /* 400 and friends: can never succeed */
                return OUT_DONE;
            }
        }
        if (attempt >= s->max_attempts || stop_requested(s)) {
            batch_done(s, n, &s->st.n_failed);
            return s->ever_answered ? OUT_DONE : OUT_UNREACHABLE;
        }
        uint64_t ms = (uint64_t)s->retry_base_ms << (attempt - 1 < 20 ? attempt - 1 : 20);
        if (ms > BACKOFF_CAP_MS)
            ms = BACKOFF_CAP_MS;
        ms = ms * (750 + ff_simrng_below(&s->jitter, 501)) / 1000; /* +-25% */
        if (retry_after_s > 0) {
            uint64_t ra =
                (uint64_t)(retry_after_s < RETRY_AFTER_CAP_S ? retry_after_s : RETRY_AFTER_CAP_S) *
                1000;
            if (ra > ms)
                ms = ra;
        }
        s->st.n_retries++;
        sleep_ns(s, ms * 1000000ull);
        if (stop_requested(s)) {
            batch_done(s, n, &s->st.n_failed);
            return OUT_DONE;
        }
    }
}

static uint64_t pick_seed(void)
{
    uint64_t x = ff_clock_mono_ns() ^ ((uint64_t)ff_clock_now_ms() << 20) ^ (uint64_t)getpid();
    uint64_t seed = ff_splitmix64(&x);
    return seed ? seed : 1;
}

ff_rc ff_sim_run(const ff_sim_opts *opts, ff_sim_tick_fn on_tick, void *ud, ff_sim_stats *stats_out,
                 ff_err *err)
{
    sender s;
    memset(&s, 0, sizeof s);
    if (stats_out)
        memset(stats_out, 0, sizeof *stats_out);
    ff_sim_anomaly anomaly;
    ff_rc rc = validate(opts, &anomaly, err);
    if (rc)
        return rc;
    s.o = opts;
    s.on_tick = on_tick;
    s.ud = ud;
    s.st.seed = opts->seed ? opts->seed : pick_seed();
    s.batch_size = opts->batch_size ? opts->batch_size : FF_SIM_DEFAULT_BATCH;
    s.max_attempts = opts->max_attempts ? opts->max_attempts : FF_SIM_DEFAULT_MAX_ATTEMPTS;
    s.retry_base_ms = opts->retry_base_ms ? opts->retry_base_ms : FF_SIM_DEFAULT_RETRY_BASE_MS;
    ff_simrng_seed(&s.jitter, s.st.seed ^ 0x6a6974746572ull);
    ff_buf_init(&s.body, FF_SIM_MAX_BATCH_BYTES + 1024);
    ff_buf_init(&s.resp, RESP_MAX_BYTES);
    ff_arena_init(&s.arena, 16384, 4u << 20);
    rc = setup(&s, anomaly, err);
    if (rc) {
        teardown(&s);
        return rc;
    }

    s.t_start_ns = ff_clock_mono_ns();
    s.last_tick_ns = s.t_start_ns;
    s.replay_wall0_ms = ff_clock_now_ms();
    s.replay_ev0_ms = s.replay_wall0_ms - (int64_t)(opts->start_ago_s * 1000.0);
    s.last_ts_ms = s.replay_ev0_ms;
    uint64_t dur_ns = (uint64_t)(opts->duration_s * 1e9);
    uint64_t last_fill = s.t_start_ns, last_send = s.t_start_ns;
    double tokens = 0;
    for (;;) {
        maybe_tick(&s);
        if (stop_requested(&s))
            break;
        uint64_t now = ff_clock_mono_ns();
        if (dur_ns && now - s.t_start_ns >= dur_ns)
            break;
        if (opts->max_events && s.n_generated >= opts->max_events)
            break;
        uint32_t want = s.batch_size;
        if (opts->max_events && opts->max_events - s.n_generated < want)
            want = (uint32_t)(opts->max_events - s.n_generated);
        tokens += (double)(now - last_fill) / 1e9 * opts->rate;
        last_fill = now;
        if (tokens > s.batch_size)
            tokens = s.batch_size; /* the bucket: no catching up after a stall */
        uint32_t n = 0;
        if (tokens >= want)
            n = want;
        else if (tokens >= 1 && now - last_send >= FLUSH_NS)
            n = (uint32_t)tokens;
        if (n == 0) {
            double wait_s = ((double)want - tokens) / opts->rate;
            if (tokens >= 1)
                wait_s = fmin(wait_s, (double)(last_send + FLUSH_NS - now) / 1e9);
            uint64_t wait = (uint64_t)(wait_s * 1e9) + 1000;
            if (wait > SLICE_NS)
                wait = SLICE_NS;
            if (dur_ns && s.t_start_ns + dur_ns - now < wait)
                wait = s.t_start_ns + dur_ns - now;
            sleep_ns(&s, wait);
            continue;
        }
        uint32_t built;
        rc = build_batch(&s, n, &built);
        if (rc) {
            FF_ERR_SET(err, rc, "sim: cannot build a batch: %s", ff_rc_name(rc));
            break;
        }
        tokens -= built;
        outcome out = send_batch(&s, built);
        last_send = ff_clock_mono_ns();
        if (out == OUT_AUTH) {
            rc = FF_ERR_SET(err, FF_EAUTH, "sim: %s answered HTTP %ld: check the write key", s.url,
                            s.st.last_status);
            break;
        }
        if (out == OUT_UNREACHABLE) {
            rc = FF_ERR_SET(err, FF_EIO, "sim: cannot reach %s: %s", s.url,
                            s.curl_err[0] ? s.curl_err : "network error");
            break;
        }
    }
    fill_stats(&s, rc == FF_OK);
    if (rc == FF_OK && on_tick)
        on_tick(&s.st, ud);
    if (stats_out)
        *stats_out = s.st;
    teardown(&s);
    return rc;
}
