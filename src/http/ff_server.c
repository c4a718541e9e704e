/* ff_server.c -- see ff_server.h. */
#include "http/ff_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "alert/ff_alert.h"
#include "auth/ff_keys.h"
#include "collect/ff_collect.h"
#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_clock.h"
#include "core/ff_json.h"
#include "core/ff_log.h"
#include "core/ff_mem.h"
#include "evlog/ff_evlog.h"
#include "http/ff_assets.h"
#include "http/ff_http_enc.h"
#include "http/ff_ratelimit.h"
#include "sql/ff_sql_exec.h"
#include "store/ff_store.h"
#include "stream/ff_stream.h"

#define ARENA_CHUNK_BYTES (256u * 1024)
/* libmicrohttpd's per-connection pool holds the request line, the headers and
 * the read buffer. It is sized above our own limits so that we, not a closed
 * socket, answer oversize requests with 414/431; beyond the pool MHD closes. */
#define HEADER_POOL_BYTES (128u * 1024)
#define MAX_URL_BYTES (8u * 1024)
#define MAX_HEADER_BYTES (16u * 1024)
#define MAX_HEADER_FIELDS 100u
#define MAX_DISCARD_BYTES (4u * 1024 * 1024) /* of a refused body, then close */

enum { N_LAT_BUCKETS = 12 };
static const double lat_bounds_s[N_LAT_BUCKETS] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02,
                                                   0.05,   0.1,   0.25,  0.5,   1.0,  5.0};

typedef enum route {
    R_NONE,
    R_INGEST,
    R_HEALTH,
    R_METRICS,
    R_ASSET,
    R_QUERY,
    R_LIVE,
    R_LIVE_SNAPSHOT,
    R_ALERTS,
} route;

struct ff_server {
    ff_config cfg;
    ff_evlog *log;
    ff_store *store;
    ff_stream *stream;
    ff_alerts *alerts;   /* alert state + webhooks (DATA/alerts) */
    ff_rules *rules;     /* risk rules, run by the stream */
    ff_anomaly *anomaly; /* minute baselines, run by the stream */
    ff_keys *keys;
    ff_collect *collect;
    ff_ratelimit *rl;
    struct MHD_Daemon *mhd;
    int listen_fd;
    char url[300];
    size_t max_body_bytes;
    int64_t started_ms;
    int64_t last_retain_ms;
    char demo_key[64]; /* write key the demo shop's /demo/config.js hands out */

    _Atomic uint64_t n_req_by_status[6]; /* 1xx..5xx by first digit */
    _Atomic uint64_t n_events_accepted;
    _Atomic uint64_t n_events_rejected;
    _Atomic uint64_t n_requests_ok;
    _Atomic uint64_t n_requests_failed;
    _Atomic uint64_t n_auth_failed;
    _Atomic uint64_t n_rate_limited;
    _Atomic uint64_t n_store_behind; /* ingest refused: the store's backlog was over the bound */
    _Atomic uint64_t lat_buckets[N_LAT_BUCKETS + 1];
    _Atomic uint64_t lat_count;
    _Atomic uint64_t lat_sum_us;
    _Atomic uint64_t bytes_in;
};

/* Per connection, reused across keep-alive requests. */
#ifndef FF_INGEST_NICE
#define FF_INGEST_NICE 0 /* nice value for ingest connection threads; 0 = off (the default) */
#endif

typedef struct conn {
    ff_arena arena;
    ff_buf body;
    ff_collect_out out; /* reused across requests: no allocation in steady state */
    /* An error found while the body streams in cannot be answered until the
     * body ends (libmicrohttpd queues answers only before or after it), so it
     * is kept here; the rest of the body is discarded, up to a bound. */
    unsigned pending_status;
    const char *pending_code;
    const char *pending_msg;
    uint64_t discarded_bytes;
    route rt;
    ff_collect_call call;
    uint64_t start_ns;
    bool responded; /* an answer is queued: discard the rest of the body */
    bool started;
    bool niced; /* this connection's thread runs at FF_INGEST_NICE (see R_INGEST below) */
} conn;

/* ---- small helpers ------------------------------------------------------- */

static bool route_ingest(const char *url, ff_collect_call *call)
{
    static const struct {
        const char *path;
        ff_collect_call call;
    } map[] = {
        {"/v1/batch", FF_CALL_BATCH},       {"/v1/b", FF_CALL_BATCH},
        {"/v1/track", FF_CALL_TRACK},       {"/v1/t", FF_CALL_TRACK},
        {"/v1/page", FF_CALL_PAGE},         {"/v1/p", FF_CALL_PAGE},
        {"/v1/screen", FF_CALL_SCREEN},     {"/v1/s", FF_CALL_SCREEN},
        {"/v1/identify", FF_CALL_IDENTIFY}, {"/v1/i", FF_CALL_IDENTIFY},
        {"/v1/group", FF_CALL_GROUP},       {"/v1/g", FF_CALL_GROUP},
        {"/v1/alias", FF_CALL_ALIAS},       {"/v1/a", FF_CALL_ALIAS},
    };
    size_t len = strlen(url);
    if (len > 1 && url[len - 1] == '/')
        len--; /* tolerate a trailing slash */
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (strlen(map[i].path) == len && strncmp(map[i].path, url, len) == 0) {
            *call = map[i].call;
            return true;
        }
    }
    return false;
}

static route route_of(const char *url, ff_collect_call *call)
{
    if (route_ingest(url, call))
        return R_INGEST;
    if (!strcmp(url, "/healthz"))
        return R_HEALTH;
    if (!strcmp(url, "/metrics"))
        return R_METRICS;
    if (!strcmp(url, "/v1/query") || !strcmp(url, "/v1/query/"))
        return R_QUERY;
    if (!strcmp(url, "/v1/live") || !strcmp(url, "/v1/live/"))
        return R_LIVE;
    if (!strcmp(url, "/v1/live/snapshot"))
        return R_LIVE_SNAPSHOT;
    if (!strcmp(url, "/v1/alerts") || !strcmp(url, "/v1/alerts/"))
        return R_ALERTS;
    if (!strncmp(url, "/sdk/", 5) || !strncmp(url, "/demo", 5) || !strncmp(url, "/dash", 5) ||
        !strcmp(url, "/"))
        return R_ASSET;
    return R_NONE;
}

static void count_status(ff_server *s, unsigned status)
{
    unsigned d = status / 100;
    if (d < 6)
        atomic_fetch_add(&s->n_req_by_status[d], 1);
}

static bool origin_allowed(ff_server *s, struct MHD_Connection *c);

static void add_cors(ff_server *s, struct MHD_Connection *c, struct MHD_Response *r)
{
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    bool any = !strcmp(s->cfg.cors_origins, "*");
    if (any) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
    } else if (origin && origin_allowed(s, c)) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(r, "Vary", "Origin");
    } else {
        return;
    }
    /* Let browser SDKs read the back-pressure hints of 429/503 answers. */
    MHD_add_response_header(r, "Access-Control-Expose-Headers", "Retry-After, X-RateLimit-Reset");
}

static bool origin_allowed(ff_server *s, struct MHD_Connection *c)
{
    if (!strcmp(s->cfg.cors_origins, "*"))
        return true;
    const char *origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (!origin)
        return true; /* not a browser request */
    size_t ol = strlen(origin);
    const char *p = s->cfg.cors_origins;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if ((size_t)(t - p) == ol && strncmp(p, origin, ol) == 0)
            return true;
        p = e;
    }
    return false;
}

static enum MHD_Result respond(ff_server *s, struct MHD_Connection *c, unsigned status,
                               const char *ctype, const char *body, size_t len,
                               const char *const *extra_headers, bool cors)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (ctype)
        MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    for (int i = 0; extra_headers && extra_headers[i]; i += 2)
        MHD_add_response_header(r, extra_headers[i], extra_headers[i + 1]);
    if (cors)
        add_cors(s, c, r);
    enum MHD_Result ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    count_status(s, status);
    return ret;
}

/* {"success":false,"code":CODE,"message":MSG} */
static enum MHD_Result respond_error(ff_server *s, struct MHD_Connection *c, unsigned status,
                                     const char *code, const char *msg,
                                     const char *const *extra_headers)
{
    ff_buf b;
    ff_buf_init(&b, 4096);
    ff_buf_adds(&b, "{\"success\":false,\"code\":");
    ff_json_write_str(&b, code, strlen(code));
    ff_buf_adds(&b, ",\"message\":");
    ff_json_write_str(&b, msg, strlen(msg));
    ff_buf_adds(&b, "}");
    enum MHD_Result r = respond(s, c, status, "application/json", b.data ? b.data : "{}",
                                b.data ? b.len : 2, extra_headers, true);
    ff_buf_fini(&b);
    atomic_fetch_add(&s->n_requests_failed, 1);
    return r;
}

/* Missing, unknown and revoked keys get the same answer, so a prober learns
 * nothing about which keys exist (bad-inputs rows 24 and 25). */
static enum MHD_Result respond_unauthorized(ff_server *s, struct MHD_Connection *c)
{
    return respond_error(s, c, 401, "unauthorized",
                         "a valid write key is required: Authorization: Basic "
                         "base64(writeKey:) or \"writeKey\" in the body",
                         NULL);
}

/* Write key from "Authorization: Basic base64(key:)". Returns length or 0. */
static size_t basic_auth_key(const char *hdr, char *out, size_t out_size)
{
    if (!hdr || strncasecmp(hdr, "Basic ", 6) != 0)
        return 0;
    const char *b64 = hdr + 6;
    while (*b64 == ' ')
        b64++;
    size_t l = strlen(b64);
    if (l == 0 || l > 400 || l % 4 != 0)
        return 0;
    unsigned char dec[304];
    int n = EVP_DecodeBlock(dec, (const unsigned char *)b64, (int)l);
    if (n < 0)
        return 0;
    /* EVP_DecodeBlock counts padding bytes as zeros: drop them. */
    if (l >= 1 && b64[l - 1] == '=')
        n--;
    if (l >= 2 && b64[l - 2] == '=')
        n--;
    size_t kl = 0;
    while (kl < (size_t)n && dec[kl] != ':')
        kl++;
    if (kl == 0 || kl >= out_size)
        return 0;
    memcpy(out, dec, kl);
    out[kl] = 0;
    return kl;
}

static void peer_ip(struct MHD_Connection *c, char *buf, size_t n)
{
    buf[0] = 0;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, (socklen_t)n);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, (socklen_t)n);
}

static void observe_latency(ff_server *s, uint64_t ns)
{
    double sec = (double)ns / 1e9;
    int i = 0;
    while (i < N_LAT_BUCKETS && sec > lat_bounds_s[i])
        i++;
    atomic_fetch_add(&s->lat_buckets[i], 1);
    atomic_fetch_add(&s->lat_count, 1);
    atomic_fetch_add(&s->lat_sum_us, ns / 1000);
}

typedef struct header_tally {
    size_t bytes;
    size_t fields;
    size_t longest;
    size_t n_content_length;
    bool content_lengths_differ;
    const char *first_content_length;
    bool has_transfer_encoding;
    bool bad_value; /* a control character in a value */
} header_tally;

static enum MHD_Result tally_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    header_tally *t = cls;
    size_t n = strlen(key) + (value ? strlen(value) : 0) + 4;
    t->bytes += n;
    t->fields++;
    if (n > t->longest)
        t->longest = n;
    if (kind != MHD_HEADER_KIND)
        return MHD_YES;
    for (const char *p = value; p && *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\t')
            t->bad_value = true;
    if (!strcasecmp(key, "Content-Length")) {
        if (t->n_content_length++ && value && t->first_content_length &&
            strcmp(value, t->first_content_length) != 0)
            t->content_lengths_differ = true;
        if (!t->first_content_length)
            t->first_content_length = value;
    } else if (!strcasecmp(key, "Transfer-Encoding")) {
        t->has_transfer_encoding = true;
    }
    return MHD_YES;
}

/* ---- endpoints ------------------------------------------------------------- */

static enum MHD_Result handle_metrics(ff_server *s, struct MHD_Connection *c)
{
    ff_buf b;
    ff_buf_init(&b, 8u << 20);
    ff_evlog_stats st;
    ff_evlog_stats_get(s->log, &st);
    ff_buf_printf(&b,
                  "# HELP footfall_log_bytes Size of all event log segments.\n"
                  "# TYPE footfall_log_bytes gauge\nfootfall_log_bytes %" PRIu64 "\n"
                  "# TYPE footfall_log_segments gauge\nfootfall_log_segments %u\n"
                  "# HELP footfall_log_next_offset Records ever appended (offset of the next).\n"
                  "# TYPE footfall_log_next_offset gauge\nfootfall_log_next_offset %" PRIu64 "\n"
                  "# TYPE footfall_log_durable_offset gauge\nfootfall_log_durable_offset %" PRIu64
                  "\n"
                  "# TYPE footfall_log_first_offset gauge\nfootfall_log_first_offset %" PRIu64 "\n"
                  "# TYPE footfall_log_failed gauge\nfootfall_log_failed %d\n"
                  "# TYPE footfall_log_truncated_at_open_bytes gauge\n"
                  "footfall_log_truncated_at_open_bytes %" PRIu64 "\n"
                  "# HELP footfall_log_retention_held_bytes Log bytes past --retain-mb or "
                  "--retain-hours kept because the store has not sealed them yet (as of the "
                  "last retention pass).\n"
                  "# TYPE footfall_log_retention_held_bytes gauge\n"
                  "footfall_log_retention_held_bytes %" PRIu64 "\n"
                  "# HELP footfall_fsync_seconds Time spent in fdatasync (group commit).\n"
                  "# TYPE footfall_fsync_seconds summary\n"
                  "footfall_fsync_seconds_sum %.6f\nfootfall_fsync_seconds_count %" PRIu64 "\n"
                  "# TYPE footfall_fsync_seconds_max gauge\nfootfall_fsync_seconds_max %.6f\n",
                  st.bytes, st.n_segments, st.next_offset, st.durable_offset, st.first_offset,
                  st.failed ? 1 : 0, st.truncated_bytes_at_open, st.retain_held_bytes,
                  (double)st.sync_ns_total / 1e9, st.n_syncs, (double)st.sync_ns_max / 1e9);
    ff_buf_adds(&b, "# HELP footfall_http_responses_total HTTP answers by status class.\n"
                    "# TYPE footfall_http_responses_total counter\n");
    for (int d = 1; d < 6; d++)
        ff_buf_printf(&b, "footfall_http_responses_total{class=\"%dxx\"} %" PRIu64 "\n", d,
                      atomic_load(&s->n_req_by_status[d]));
    ff_buf_printf(&b,
                  "# TYPE footfall_auth_failures_total counter\nfootfall_auth_failures_total "
                  "%" PRIu64 "\n# TYPE footfall_rate_limited_total counter\n"
                  "footfall_rate_limited_total %" PRIu64 "\n"
                  "# HELP footfall_store_behind_total Ingest requests refused (503) because the "
                  "store's backlog was over ingest-max-lag.\n"
                  "# TYPE footfall_store_behind_total counter\nfootfall_store_behind_total "
                  "%" PRIu64 "\n"
                  "# TYPE footfall_request_bytes_total counter\nfootfall_request_bytes_total "
                  "%" PRIu64 "\n",
                  atomic_load(&s->n_auth_failed), atomic_load(&s->n_rate_limited),
                  atomic_load(&s->n_store_behind), atomic_load(&s->bytes_in));
    ff_buf_adds(&b, "# HELP footfall_ingest_seconds Time from request start to answer.\n"
                    "# TYPE footfall_ingest_seconds histogram\n");
    uint64_t cum = 0;
    for (int i = 0; i < N_LAT_BUCKETS; i++) {
        cum += atomic_load(&s->lat_buckets[i]);
        ff_buf_printf(&b, "footfall_ingest_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                      lat_bounds_s[i], cum);
    }
    cum += atomic_load(&s->lat_buckets[N_LAT_BUCKETS]);
    ff_buf_printf(&b,
                  "footfall_ingest_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
                  "footfall_ingest_seconds_sum %.6f\nfootfall_ingest_seconds_count %" PRIu64 "\n",
                  cum, (double)atomic_load(&s->lat_sum_us) / 1e6, atomic_load(&s->lat_count));
    ff_buf_printf(&b, "# TYPE footfall_uptime_seconds gauge\nfootfall_uptime_seconds %.3f\n",
                  (double)(ff_clock_now_ms() - s->started_ms) / 1e3);
    ff_collect_metrics(s->collect, &b);
    if (s->stream)
        ff_stream_metrics(s->stream, &b);
    if (s->alerts)
        ff_alerts_metrics(s->alerts, &b);
    ff_store_stats ss;
    ff_store_stats_get(s->store, &ss);
    ff_buf_printf(
        &b,
        "# HELP footfall_store_rows Events in the columnar store's parts.\n"
        "# TYPE footfall_store_rows gauge\nfootfall_store_rows %" PRIu64 "\n"
        "# TYPE footfall_store_parts gauge\nfootfall_store_parts %" PRIu64 "\n"
        "# TYPE footfall_store_bytes gauge\nfootfall_store_bytes %" PRIu64 "\n"
        "# HELP footfall_store_lag_records Durable log records the store has not read yet.\n"
        "# TYPE footfall_store_lag_records gauge\nfootfall_store_lag_records %" PRIu64 "\n"
        "# TYPE footfall_store_duplicates_total counter\n"
        "footfall_store_duplicates_total %" PRIu64 "\n"
        "# TYPE footfall_store_seals_total counter\nfootfall_store_seals_total %" PRIu64 "\n"
        "# HELP footfall_store_seal_seconds Time spent sealing parts (sum) and the longest seal.\n"
        "# TYPE footfall_store_seal_seconds_sum counter\nfootfall_store_seal_seconds_sum %.3f\n"
        "# TYPE footfall_store_seal_seconds_max gauge\nfootfall_store_seal_seconds_max %.3f\n"
        "# HELP footfall_store_seal_wait_seconds Time the store consumer stopped reading to wait "
        "for a seal in flight before handing over its next batch (sum) and the longest wait.\n"
        "# TYPE footfall_store_seal_wait_seconds_sum counter\n"
        "footfall_store_seal_wait_seconds_sum %.3f\n"
        "# TYPE footfall_store_seal_wait_seconds_max gauge\n"
        "footfall_store_seal_wait_seconds_max %.3f\n"
        "# TYPE footfall_store_sealed_rows_total counter\nfootfall_store_sealed_rows_total %" PRIu64
        "\n"
        "# TYPE footfall_store_merges_total counter\nfootfall_store_merges_total %" PRIu64 "\n"
        "# TYPE footfall_store_failed gauge\nfootfall_store_failed %d\n",
        ss.rows, ss.parts, ss.bytes, ss.lag, ss.duplicates, ss.seals,
        (double)ss.seal_ns_total / 1e9, (double)ss.seal_ns_max / 1e9,
        (double)ss.seal_wait_ns_total / 1e9, (double)ss.seal_wait_ns_max / 1e9, ss.sealed_rows,
        ss.merges, ss.failed ? 1 : 0);
    enum MHD_Result r = respond(s, c, 200, "text/plain; version=0.0.4; charset=utf-8",
                                b.data ? b.data : "", b.len, NULL, false);
    ff_buf_fini(&b);
    return r;
}

static enum MHD_Result handle_health(ff_server *s, struct MHD_Connection *c)
{
    ff_evlog_stats st;
    ff_evlog_stats_get(s->log, &st);
    char body[256];
    int n = snprintf(body, sizeof body,
                     "{\"status\":\"%s\",\"log_next_offset\":%" PRIu64
                     ",\"log_durable_offset\":%" PRIu64 "}",
                     st.failed ? "failed" : "ok", st.next_offset, st.durable_offset);
    return respond(s, c, st.failed ? 503 : 200, "application/json", body, (size_t)n, NULL, false);
}

/* The dashboard's headers: no inline script or style, no framing, same-origin fetches only. */
#define DASH_CSP                                                                                   \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

static enum MHD_Result handle_asset(ff_server *s, struct MHD_Connection *c, const char *url)
{
    if (!strcmp(url, "/") || !strcmp(url, "/dash")) {
        /* `/` opens the dashboard; /dash needs its slash for the page's relative URLs. */
        static const char *const loc[] = {"Location", "/dash/", NULL};
        return respond(s, c, 302, "text/plain; charset=utf-8", "see /dash/\n", 11, loc, false);
    }
    if (!strcmp(url, "/dash/"))
        url = "/dash/index.html";
    if (!strcmp(url, "/demo") || !strcmp(url, "/demo/"))
        url = "/demo/index.html";
    if (!strcmp(url, "/demo/config.js")) {
        /* The demo shop learns its write key and collector from here. Only
         * `footfall demo` sets a key; a plain `serve` hands out none. */
        ff_buf b;
        ff_buf_init(&b, 4096);
        ff_buf_adds(&b, "window.FOOTFALL_DEMO = {writeKey: ");
        if (s->demo_key[0])
            ff_json_write_str(&b, s->demo_key, strlen(s->demo_key));
        else
            ff_buf_adds(&b, "null");
        ff_buf_adds(&b, ", host: location.origin};\n");
        enum MHD_Result r =
            respond(s, c, 200, "text/javascript; charset=utf-8", b.data, b.len, NULL, false);
        ff_buf_fini(&b);
        return r;
    }
    for (size_t i = 0; i < ff_n_assets; i++) {
        const ff_asset *a = &ff_assets[i];
        if (strcmp(a->path, url) != 0)
            continue;
        const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "If-None-Match");
        bool sdk = !strncmp(url, "/sdk/", 5);
        const char *cache = sdk ? "public, max-age=3600" : "public, max-age=60";
        /* Text assets also exist gzip-compressed (built in, cmake/FFEmbed.cmake): sent as
         * Content-Encoding: gzip to clients that accept it, with an ETag of their own. */
        bool gz = a->gz && ff_http_accepts_gzip(
                               MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding"));
        const char *etag = gz ? a->gz_etag : a->etag;
        const char *hdrs[16] = {"ETag", etag, "Cache-Control", cache, "Access-Control-Allow-Origin",
                                "*",    NULL};
        if (!strncmp(url, "/dash/", 6)) {
            /* index.html names every other file as NAME?v=<content hash> (app.js, app.css,
             * uplot.js, uplot.css; app.js imports uplot.js?v=<hash> too): those URLs never
             * change meaning, so they are cached for a year; the page itself revalidates by
             * ETag every time. */
            bool versioned = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "v") != NULL &&
                             strcmp(url, "/dash/index.html") != 0;
            hdrs[3] = versioned ? "public, max-age=31536000, immutable" : "no-cache";
            hdrs[4] = "Content-Security-Policy";
            hdrs[5] = DASH_CSP;
            hdrs[6] = "X-Frame-Options";
            hdrs[7] = "DENY";
            hdrs[8] = "Referrer-Policy";
            hdrs[9] = "no-referrer";
        }
        if (a->gz) {
            int k = 0;
            while (hdrs[k])
                k += 2;
            hdrs[k] = "Vary";
            hdrs[k + 1] = "Accept-Encoding";
            hdrs[k + 2] = NULL;
        }
        if (inm && (strstr(inm, a->etag) || (a->gz_etag && strstr(inm, a->gz_etag)))) {
            struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
            for (int k = 0; hdrs[k]; k += 2)
                MHD_add_response_header(r, hdrs[k], hdrs[k + 1]);
            enum MHD_Result ret = MHD_queue_response(c, 304, r);
            MHD_destroy_response(r);
            count_status(s, 304);
            return ret;
        }
        struct MHD_Response *r = MHD_create_response_from_buffer(
            gz ? a->gz_len : a->len, (void *)(gz ? a->gz : a->data), MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type", a->content_type);
        if (gz)
            MHD_add_response_header(r, "Content-Encoding", "gzip");
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        for (int k = 0; hdrs[k]; k += 2)
            MHD_add_response_header(r, hdrs[k], hdrs[k + 1]);
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        count_status(s, 200);
        return ret;
    }
    if (!strncmp(url, "/sdk/footfall", 13))
        return respond_error(s, c, 404, "sdk_not_built",
                             "this binary was built without the browser SDK (needs node and "
                             "scripts/install-node-deps.sh at build time)",
                             NULL);
    if (!strncmp(url, "/dash/", 6))
        return respond_error(s, c, 404, "dashboard_not_built",
                             "no such dashboard file (the dashboard is built with node and "
                             "scripts/install-browser-deps.sh at build time)",
                             NULL);
    return respond_error(s, c, 404, "not_found", "no such file", NULL);
}

/* Read key from "Authorization: Bearer KEY" (or Basic, as curl -u sends). */
static size_t bearer_key(const char *hdr, char *out, size_t out_size)
{
    if (!hdr)
        return 0;
    if (strncasecmp(hdr, "Bearer ", 7) == 0) {
        const char *k = hdr + 7;
        while (*k == ' ')
            k++;
        size_t l = strlen(k);
        while (l && k[l - 1] == ' ')
            l--;
        if (l == 0 || l >= out_size)
            return 0;
        memcpy(out, k, l);
        out[l] = 0;
        return l;
    }
    return basic_auth_key(hdr, out, out_size);
}

/* A read (or admin) key from the Authorization header or, when query_key (the live feed and
 * alerts: a browser EventSource cannot set headers), from ?key=. Returns true when allowed;
 * otherwise *ret holds the 401/403 answer. */
static bool read_auth(ff_server *s, struct MHD_Connection *c, bool query_key, enum MHD_Result *ret)
{
    char key[256];
    size_t kl = bearer_key(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"), key,
                           sizeof key);
    const char *qk =
        query_key ? MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "key") : NULL;
    if (!kl && qk && strlen(qk) < sizeof key) {
        kl = strlen(qk);
        memcpy(key, qk, kl + 1);
    }
    ff_key_kind kind;
    if (!kl || ff_keys_check(s->keys, key, kl, &kind) != FF_OK) {
        atomic_fetch_add(&s->n_auth_failed, 1);
        *ret = respond_error(s, c, 401, "unauthorized",
                             query_key ? "a valid read key is required: Authorization: Bearer "
                                         "KEY (or ?key=)"
                                       : "a valid read key is required: Authorization: Bearer KEY",
                             NULL);
        return false;
    }
    if (kind == FF_KEY_WRITE) {
        atomic_fetch_add(&s->n_auth_failed, 1);
        *ret = respond_error(s, c, 403, "wrong_key_kind",
                             "write keys can only send events: use a read key", NULL);
        return false;
    }
    return true;
}

static enum MHD_Result handle_query(ff_server *s, struct MHD_Connection *c, conn *k)
{
    enum MHD_Result ret;
    if (!read_auth(s, c, false, &ret))
        return ret;
    /* The query is the body (as ClickHouse's HTTP interface takes it), or ?query=. */
    const char *q = k->body.data;
    size_t ql = k->body.len;
    const char *qp = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "query");
    if (!ql && qp) {
        q = qp;
        ql = strlen(qp);
    }
    if (!q || !ql)
        return respond_error(s, c, 400, "empty_query", "send the SQL in the request body", NULL);
    const char *fmt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "format");
    if (!fmt)
        fmt = "json";
    if (strcmp(fmt, "json") && strcmp(fmt, "csv"))
        return respond_error(s, c, 400, "bad_format", "format must be json or csv", NULL);
    ff_table_snapshot snap;
    ff_err err = {0};
    if (ff_store_snapshot_acquire(s->store, &snap, &err) != FF_OK)
        return respond_error(s, c, 503, "store_unavailable", err.msg, NULL);
    ff_sql_exec_opts eo = {
        .mem_cap = (size_t)s->cfg.query_mem_mb << 20,
        .timeout_ms = (uint32_t)(s->cfg.query_timeout_s * 1000),
    };
    ff_sql_result *res = NULL;
    ff_sql_error serr;
    memset(&serr, 0, sizeof serr);
    if (ff_sql_query(q, ql, &snap, &eo, &res, &serr) != FF_OK) {
        ff_buf b;
        ff_buf_init(&b, 16384);
        ff_buf_adds(&b, "{\"success\":false,\"code\":");
        const char *kindname = serr.kind && *serr.kind ? serr.kind : "query_failed";
        ff_json_write_str(&b, kindname, strlen(kindname));
        ff_buf_adds(&b, ",\"message\":");
        ff_json_write_str(&b, serr.msg, strlen(serr.msg));
        ff_buf_printf(&b, ",\"line\":%u,\"column\":%u,\"snippet\":", serr.line, serr.column);
        ff_json_write_str(&b, serr.snippet, strlen(serr.snippet));
        ff_buf_addc(&b, '}');
        unsigned st = serr.code == FF_EBADINPUT ? 400 : serr.code == FF_ELIMIT ? 422 : 500;
        ret = respond(s, c, st, "application/json", b.data, b.len, NULL, true);
        ff_buf_fini(&b);
    } else {
        ff_buf out;
        ff_buf_init(&out, 0);
        if (ff_sql_result_write(res, fmt, &out) != FF_OK) {
            ret = respond_error(s, c, 500, "format_failed", "cannot format the result", NULL);
        } else {
            ret = respond(s, c, 200,
                          !strcmp(fmt, "csv") ? "text/csv; charset=utf-8" : "application/json",
                          out.data ? out.data : "", out.len, NULL, true);
        }
        ff_buf_fini(&out);
    }
    ff_sql_result_free(res);
    ff_store_snapshot_release(s->store, &snap);
    return ret;
}

/* ---- live metrics (docs/api.md, "Live metrics") ------------------------------ */

static enum MHD_Result handle_live_snapshot(ff_server *s, struct MHD_Connection *c)
{
    enum MHD_Result ret;
    if (!read_auth(s, c, true, &ret))
        return ret;
    ff_buf b;
    ff_buf_init(&b, (size_t)64 << 20);
    ff_err err = {0};
    if (ff_stream_snapshot_json(s->stream, &b, NULL, &err) != FF_OK)
        ret = respond_error(s, c, 503, "stream_unavailable", err.msg, NULL);
    else
        ret = respond(s, c, 200, "application/json", b.data, b.len, NULL, true);
    ff_buf_fini(&b);
    return ret;
}

/* GET /v1/alerts (read key): firing and resolved alerts with evidence, the rules and the
 * anomaly detector's parameters in force, webhook delivery counters. */
static enum MHD_Result handle_alerts(ff_server *s, struct MHD_Connection *c)
{
    enum MHD_Result ret;
    if (!read_auth(s, c, true, &ret))
        return ret;
    ff_buf b;
    ff_buf_init(&b, (size_t)64 << 20);
    ff_err err = {0};
    if (!s->alerts || ff_alerts_json(s->alerts, &b, &err) != FF_OK)
        ret =
            respond_error(s, c, 503, "alerts_unavailable", s->alerts ? err.msg : "no alerts", NULL);
    else
        ret = respond(s, c, 200, "application/json", b.data, b.len, NULL, true);
    ff_buf_fini(&b);
    return ret;
}

/* One SSE connection: a snapshot, then every delta; a resync (fell behind the delta ring)
 * sends a fresh snapshot. Runs in the connection's own thread, so it may block. */
typedef struct live_conn {
    ff_stream *stream;
    ff_buf out;
    size_t pos;
    uint64_t seq;
    uint64_t last_send_ns;
    bool need_snapshot;
} live_conn;

#define LIVE_PING_NS (15ull * 1000000000ull)

static void live_event(live_conn *lc, const char *name, const ff_buf *json)
{
    ff_buf_printf(&lc->out, "id: %" PRIu64 "\nevent: %s\ndata: ", lc->seq, name);
    ff_buf_add(&lc->out, json->data, json->len);
    ff_buf_adds(&lc->out, "\n\n");
}

static ssize_t live_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    live_conn *lc = cls;
    (void)pos;
    for (;;) {
        if (lc->pos < lc->out.len) {
            size_t n = lc->out.len - lc->pos;
            if (n > max)
                n = max;
            memcpy(buf, lc->out.data + lc->pos, n);
            lc->pos += n;
            lc->last_send_ns = ff_clock_mono_ns();
            return (ssize_t)n;
        }
        ff_buf_reset(&lc->out);
        lc->pos = 0;
        ff_buf json;
        ff_buf_init(&json, (size_t)64 << 20);
        if (lc->need_snapshot) {
            lc->need_snapshot = false;
            if (ff_stream_snapshot_json(lc->stream, &json, &lc->seq, NULL) != FF_OK) {
                ff_buf_fini(&json);
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
            live_event(lc, "snapshot", &json);
            ff_buf_fini(&json);
            continue;
        }
        uint64_t seq = 0;
        ff_rc rc = ff_stream_live_next(lc->stream, lc->seq, 1000, &json, &seq);
        if (rc == FF_OK) {
            lc->seq = seq;
            live_event(lc, "delta", &json);
        } else if (rc == FF_ENOTFOUND) {
            lc->need_snapshot = true;
        } else if (rc == FF_EAGAIN) {
            if (ff_clock_mono_ns() - lc->last_send_ns >= LIVE_PING_NS)
                ff_buf_adds(&lc->out, ": ping\n\n");
        } else {
            ff_buf_fini(&json);
            return MHD_CONTENT_READER_END_OF_STREAM; /* shutting down */
        }
        ff_buf_fini(&json);
    }
}

static void live_free(void *cls)
{
    live_conn *lc = cls;
    ff_buf_fini(&lc->out);
    ff_free(lc);
}

static enum MHD_Result handle_live(ff_server *s, struct MHD_Connection *c)
{
    enum MHD_Result ret;
    if (!read_auth(s, c, true, &ret))
        return ret;
    live_conn *lc = ff_calloc(1, sizeof *lc);
    if (!lc)
        return respond_error(s, c, 503, "overloaded", "out of memory", NULL);
    lc->stream = s->stream;
    lc->need_snapshot = true; /* also on reconnect with Last-Event-ID: resynchronise */
    lc->last_send_ns = ff_clock_mono_ns();
    ff_buf_init(&lc->out, (size_t)64 << 20);
    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, live_read, lc, live_free);
    if (!r) {
        live_free(lc);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "text/event-stream");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    add_cors(s, c, r);
    ret = MHD_queue_response(c, 200, r);
    MHD_destroy_response(r);
    count_status(s, 200);
    return ret;
}

static enum MHD_Result handle_ingest(ff_server *s, struct MHD_Connection *c, conn *k)
{
    char key_buf[256];
    size_t key_len = basic_auth_key(
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"), key_buf, sizeof key_buf);
    ff_key_kind kind;
    if (key_len) {
        /* A key in the header is checked before the body is even parsed. */
        if (ff_keys_check(s->keys, key_buf, key_len, &kind) != FF_OK) {
            atomic_fetch_add(&s->n_auth_failed, 1);
            return respond_unauthorized(s, c);
        }
        if (kind != FF_KEY_WRITE) {
            atomic_fetch_add(&s->n_auth_failed, 1);
            return respond_error(s, c, 403, "wrong_key_kind",
                                 "this key cannot send events: use a write key", NULL);
        }
    }
    char ip[64];
    peer_ip(c, ip, sizeof ip);
    ff_collect_req req = {
        .call = k->call,
        .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type"),
        .content_encoding = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Encoding"),
        .body = k->body.data ? k->body.data : "",
        .body_len = k->body.len,
        .peer_ip = ip,
        .user_agent = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent"),
        .received_at_ms = ff_clock_now_ms(),
    };
    ff_collect_out *out = &k->out;
    ff_rc rc = ff_collect_decode(s->collect, &req, &k->arena, out);
    if (rc != FF_OK) {
        static const char *const hdrs[] = {"Retry-After", "1", NULL};
        return respond_error(s, c, 503, "overloaded", "server out of memory; retry later", hdrs);
    }
    enum MHD_Result ret;
    bool finished = false;
    if (!key_len) {
        /* Body key: needs a parsed body; a body that failed to parse is
         * answered as such (its key cannot be known). */
        if (out->status) {
            ret = respond_error(s, c, (unsigned)out->status, out->code, out->message, NULL);
            goto done;
        }
        if (!out->write_key || ff_keys_check(s->keys, out->write_key, out->write_key_len, &kind)) {
            atomic_fetch_add(&s->n_auth_failed, 1);
            ret = respond_unauthorized(s, c);
            goto done;
        }
        if (kind != FF_KEY_WRITE) {
            atomic_fetch_add(&s->n_auth_failed, 1);
            ret = respond_error(s, c, 403, "wrong_key_kind",
                                "this key cannot send events: use a write key", NULL);
            goto done;
        }
    }
    if (out->status) {
        ret = respond_error(s, c, (unsigned)out->status, out->code, out->message, NULL);
        goto done;
    }
    if (out->n_records) {
        ff_err err = {0};
        rc = ff_evlog_append(s->log, out->payload.data, out->payload.len, out->n_records, NULL,
                             &err);
        if (rc) {
            ff_collect_finish(s->collect, out, false);
            finished = true;
            FF_LOG(FF_LOG_ERROR, "http", "append failed: %s", err.msg);
            static const char *const hdrs[] = {"Retry-After", "5", NULL};
            ret = respond_error(s, c, 503, "log_unavailable",
                                "the event log cannot take writes now; nothing was stored, retry",
                                hdrs);
            goto done;
        }
    }
    ff_collect_finish(s->collect, out, true);
    finished = true;
    atomic_fetch_add(&s->n_events_accepted, out->n_records);
    atomic_fetch_add(&s->n_events_rejected, out->n_rejected);
    atomic_fetch_add(&s->n_requests_ok, 1);
    {
        ff_buf b;
        ff_buf_init(&b, 0);
        ff_buf_printf(&b, "{\"success\":true,\"accepted\":%u,\"duplicates\":%u,\"dropped\":%u",
                      out->n_records, out->n_duplicates, out->n_dropped);
        if (out->n_rejected) {
            ff_buf_adds(&b, ",\"rejected\":");
            ff_buf_add(&b, out->rejected.data, out->rejected.len);
        }
        ff_buf_addc(&b, '}');
        ret = respond(s, c, 200, "application/json", b.data, b.len, NULL, true);
        ff_buf_fini(&b);
    }
done:
    if (!finished)
        ff_collect_finish(s->collect, out, false);
    return ret;
}

/* ---- libmicrohttpd callbacks ----------------------------------------------- */

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    ff_server *s = cls;
    (void)connection;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        conn *k = ff_calloc(1, sizeof *k);
        if (k) {
            ff_arena_init(&k->arena, ARENA_CHUNK_BYTES, 64u << 20);
            ff_buf_init(&k->body, s->max_body_bytes);
            ff_collect_out_init(&k->out);
        }
        *socket_context = k;
    } else if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        conn *k = *socket_context;
        if (k) {
            ff_collect_out_fini(s->collect, &k->out);
            ff_arena_fini(&k->arena);
            ff_buf_fini(&k->body);
            ff_free(k);
        }
        *socket_context = NULL;
    }
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)connection;
    (void)toe;
    conn *k = *con_cls;
    if (k) {
        ff_arena_reset(&k->arena);
        ff_buf_reset(&k->body);
        if (k->body.cap > 256 * 1024) /* do not keep a huge buffer per idle connection */
            ff_buf_fini(&k->body);
        k->started = false;
        k->responded = false;
    }
    *con_cls = NULL;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    ff_server *s = cls;
    if (*con_cls == NULL) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        conn *k = ci ? ci->socket_context : NULL;
        if (!k)
            return MHD_NO;
        *con_cls = k;
        k->started = true;
        k->responded = false;
        k->pending_status = 0;
        k->discarded_bytes = 0;
        k->start_ns = ff_clock_mono_ns();
        ff_buf_reset(&k->body);
        header_tally qt = {0};
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, tally_header, &qt);
        if (strlen(url) + qt.bytes > MAX_URL_BYTES) {
            k->responded = true;
            return respond_error(s, c, 414, "uri_too_long", "request target over 8 KiB", NULL);
        }
        header_tally ht = {0};
        MHD_get_connection_values(c, MHD_HEADER_KIND, tally_header, &ht);
        if (ht.bytes > MAX_HEADER_BYTES || ht.fields > MAX_HEADER_FIELDS) {
            k->responded = true;
            return respond_error(s, c, 431, "headers_too_large",
                                 "request headers over 16 KiB or 100 fields", NULL);
        }
        /* Framing ambiguities are how requests get smuggled past proxies
         * (RFC 9112 section 6): refuse them rather than pick a reading. */
        const char *bad = NULL;
        unsigned bad_status = 400;
        const char *te = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
        if (ht.bad_value)
            bad = "a header value holds a control character";
        else if (ht.n_content_length > 1 && ht.content_lengths_differ)
            bad = "conflicting Content-Length headers";
        else if (ht.n_content_length && ht.has_transfer_encoding)
            bad = "both Content-Length and Transfer-Encoding";
        else if (ht.has_transfer_encoding && !strcmp(version, MHD_HTTP_VERSION_1_0))
            bad = "Transfer-Encoding in an HTTP/1.0 request";
        else if (te && strcasecmp(te, "chunked") != 0) {
            bad = "only Transfer-Encoding: chunked is supported";
            bad_status = 501;
        }
        if (bad) {
            k->responded = true;
            return respond_error(s, c, bad_status,
                                 bad_status == 501 ? "unsupported_transfer_encoding"
                                                   : "bad_request_framing",
                                 bad, NULL);
        }
        k->rt = route_of(url, &k->call);
        /* Issue 3 (an event queryable within 1 s at full ingest): on a saturated box the
         * ingest connection threads and the store consumer compete for the CPU, and the
         * consumer falls behind. The first ingest request of a connection lowers its thread's
         * priority to nice FF_INGEST_NICE (threads are per connection here, and an
         * unprivileged thread cannot raise it again, so a later query on the same
         * connection stays niced too). 0 = off. Figures: docs/benchmarks.md, "Store
         * consumer". */
        if (FF_INGEST_NICE > 0 && k->rt == R_INGEST && !k->niced) {
            k->niced = true;
            (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), FF_INGEST_NICE);
        }
        bool is_post = !strcmp(method, "POST");
        switch (k->rt) {
        case R_NONE:
            k->responded = true;
            return respond_error(s, c, 404, "not_found", "no such endpoint", NULL);
        case R_HEALTH:
        case R_METRICS:
        case R_ASSET:
        case R_LIVE:
        case R_LIVE_SNAPSHOT:
        case R_ALERTS:
            if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
                static const char *const allow[] = {"Allow", "GET, HEAD", NULL};
                k->responded = true;
                return respond_error(s, c, 405, "method_not_allowed", "use GET", allow);
            }
            return MHD_YES;
        case R_QUERY:
            if (strcmp(method, "POST") && strcmp(method, "OPTIONS")) {
                static const char *const allow[] = {"Allow", "POST, OPTIONS", NULL};
                k->responded = true;
                return respond_error(s, c, 405, "method_not_allowed", "use POST", allow);
            }
            break;
        case R_INGEST:
            break;
        }
        if (!strcmp(method, "OPTIONS")) {
            k->responded = true;
            if (!origin_allowed(s, c))
                return respond_error(s, c, 403, "origin_not_allowed",
                                     "this origin may not send events", NULL);
            static const char *const pre[] = {
                "Access-Control-Allow-Methods",
                "POST, OPTIONS",
                "Access-Control-Allow-Headers",
                "Authorization, Content-Type, Content-Encoding, X-Retry-Count",
                "Access-Control-Max-Age",
                "86400",
                NULL};
            return respond(s, c, 204, NULL, "", 0, pre, true);
        }
        if (!is_post) {
            static const char *const allow[] = {"Allow", "POST, OPTIONS", NULL};
            k->responded = true;
            return respond_error(s, c, 405, "method_not_allowed", "use POST", allow);
        }
        if (!origin_allowed(s, c)) {
            k->responded = true;
            return respond_error(s, c, 403, "origin_not_allowed", "this origin may not send events",
                                 NULL);
        }
        if (s->rl) {
            char ip[64];
            peer_ip(c, ip, sizeof ip);
            uint32_t retry_s = 0;
            if (!ff_ratelimit_take(s->rl, ip, ff_clock_mono_ns(), &retry_s)) {
                char ra[16];
                snprintf(ra, sizeof ra, "%u", retry_s ? retry_s : 1);
                const char *const hdrs[] = {"Retry-After", ra, NULL};
                atomic_fetch_add(&s->n_rate_limited, 1);
                k->responded = true;
                return respond_error(s, c, 429, "rate_limited",
                                     "too many requests from this address; retry later", hdrs);
            }
        }
        /* Back-pressure: while the store has more unread log records than ingest-max-lag, new
         * events would wait that long before queries see them; refuse them before their body
         * is read (the client retries after a second: SDKs and bench_ingest do). Nothing
         * accepted is affected: the log keeps everything it acknowledged. */
        if (k->rt == R_INGEST && s->cfg.ingest_max_lag &&
            ff_store_backlog(s->store) > s->cfg.ingest_max_lag) {
            static const char *const hdrs[] = {"Retry-After", "1", NULL};
            atomic_fetch_add(&s->n_store_behind, 1);
            k->responded = true;
            return respond_error(s, c, 503, "store_behind",
                                 "the store is behind the log by more than ingest-max-lag events; "
                                 "nothing was stored, retry after a second",
                                 hdrs);
        }
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno || *end || n > s->max_body_bytes) {
                k->responded = true;
                return respond_error(s, c, 413, "body_too_large",
                                     "request body is over the limit (max-body-kb)", NULL);
            }
        }
        return MHD_YES;
    }
    conn *k = *con_cls;
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        atomic_fetch_add(&s->bytes_in, n);
        if (ff_clock_mono_ns() - k->start_ns > s->cfg.body_timeout_s * 1000000000ull) {
            /* Too slow (R.U.D.Y.): an answer could only go out after the rest
             * of the body, which is exactly what we will not wait for. */
            FF_LOG(FF_LOG_DEBUG, "http", "body deadline passed: closing");
            return MHD_NO;
        }
        if (k->responded || k->pending_status) {
            /* Discarding a refused body, but not forever. */
            k->discarded_bytes += n;
            return k->discarded_bytes > MAX_DISCARD_BYTES ? MHD_NO : MHD_YES;
        }
        if (k->rt != R_INGEST && k->rt != R_QUERY)
            return MHD_YES; /* GET endpoints ignore bodies */
        if (ff_buf_add(&k->body, upload_data, n) != FF_OK) {
            k->pending_status = 413;
            k->pending_code = "body_too_large";
            k->pending_msg = "request body is over the limit (max-body-kb)";
            k->discarded_bytes = n;
        }
        return MHD_YES;
    }
    if (k->responded)
        return MHD_YES;
    k->responded = true;
    if (k->pending_status)
        return respond_error(s, c, k->pending_status, k->pending_code, k->pending_msg, NULL);
    switch (k->rt) {
    case R_HEALTH:
        return handle_health(s, c);
    case R_METRICS:
        return handle_metrics(s, c);
    case R_ASSET:
        return handle_asset(s, c, url);
    case R_QUERY:
        return handle_query(s, c, k);
    case R_LIVE:
        return handle_live(s, c);
    case R_LIVE_SNAPSHOT:
        return handle_live_snapshot(s, c);
    case R_ALERTS:
        return handle_alerts(s, c);
    case R_INGEST: {
        enum MHD_Result r = handle_ingest(s, c, k);
        observe_latency(s, ff_clock_mono_ns() - k->start_ns);
        return r;
    }
    case R_NONE:
        break;
    }
    return MHD_NO;
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    msg[strcspn(msg, "\n")] = 0;
    FF_LOG(FF_LOG_DEBUG, "http", "libmicrohttpd: %s", msg);
}

/* ---- lifecycle ------------------------------------------------------------- */

static ff_rc listen_on(const char *spec, int *fd_out, char *url, size_t url_n, ff_err *err)
{
    char host[256];
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec)
        return FF_ERR_SET(err, FF_EINVAL, "--listen must be HOST:PORT, got '%s'", spec);
    size_t hl = (size_t)(colon - spec);
    if (hl >= sizeof host)
        return FF_ERR_SET(err, FF_EINVAL, "--listen host is too long");
    memcpy(host, spec, hl);
    host[hl] = 0;
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = 0;
    }
    const char *port = colon + 1;
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int g = getaddrinfo(host, port, &hints, &ai);
    if (g != 0)
        return FF_ERR_SET(err, FF_EINVAL, "cannot resolve --listen %s: %s", spec, gai_strerror(g));
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(ai);
        return FF_ERR_SYS(err, FF_EIO, "socket");
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1024) != 0) {
        int e = errno;
        close(fd);
        freeaddrinfo(ai);
        errno = e;
        return FF_ERR_SYS(err, FF_EIO, "cannot listen on %s", spec);
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    char addr[INET6_ADDRSTRLEN] = "";
    unsigned p = 0;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, addr, sizeof addr);
        p = ntohs(in->sin_port);
        snprintf(url, url_n, "http://%s:%u", addr, p);
    } else {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof addr);
        p = ntohs(in6->sin6_port);
        snprintf(url, url_n, "http://[%s]:%u", addr, p);
    }
    freeaddrinfo(ai);
    *fd_out = fd;
    return FF_OK;
}

/* Refill the dedupe window from the newest records of the log. */
static void seed_dedupe(ff_server *s)
{
    ff_evlog_stats st;
    ff_evlog_stats_get(s->log, &st);
    uint64_t from =
        st.next_offset > s->cfg.dedupe_capacity ? st.next_offset - s->cfg.dedupe_capacity : 0;
    ff_evlog_cursor *cur;
    if (ff_evlog_cursor_open(s->log, from, &cur, NULL) != FF_OK)
        return;
    uint64_t off, n = 0;
    const void *rec;
    size_t len;
    ff_err err = {0};
    ff_rc rc;
    uint64_t t0 = ff_clock_mono_ns();
    while ((rc = ff_evlog_cursor_next(cur, &off, &rec, &len, &err)) == FF_OK) {
        ff_collect_seed_dedupe(s->collect, rec, len);
        n++;
    }
    if (rc != FF_EOF)
        FF_LOG(FF_LOG_ERROR, "http", "reading the log for dedupe stopped: %s", err.msg);
    ff_evlog_cursor_close(cur);
    FF_LOG(FF_LOG_INFO, "http", "dedupe window refilled from %" PRIu64 " records in %.1f ms", n,
           (double)(ff_clock_mono_ns() - t0) / 1e6);
}

/* Alerts (DATA/alerts), rules and the anomaly detector from the options; the stream runs the
 * last two and reports to the first. */
static ff_rc open_alerts(ff_server *s, const ff_config *cfg, ff_err *err)
{
    enum { MAX_ITEMS = 256 };
    char hooks_copy[sizeof cfg->webhook], rules_copy[sizeof cfg->rule]; /* both are copied */
    const char *hooks[MAX_ITEMS], *rules[MAX_ITEMS];
    size_t n_hooks = 0, n_rules = 0, pos = 0, len, off = 0;
    const char *it;
    while (n_hooks < MAX_ITEMS && ff_options_list_next(cfg->webhook, &pos, &it, &len)) {
        memcpy(hooks_copy + off, it, len); /* items are shorter than the list: they fit */
        hooks_copy[off + len] = 0;
        hooks[n_hooks++] = hooks_copy + off;
        off += len + 1;
    }
    pos = off = 0;
    while (n_rules < MAX_ITEMS && ff_options_list_next(cfg->rule, &pos, &it, &len)) {
        memcpy(rules_copy + off, it, len);
        rules_copy[off + len] = 0;
        rules[n_rules++] = rules_copy + off;
        off += len + 1;
    }
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/alerts", cfg->data);
    ff_alerts_opts ao = {
        .dir = dir,
        .webhooks = hooks,
        .n_webhooks = n_hooks,
        .webhook_format = cfg->webhook_format == 1 ? "slack" : "json",
        .cooldown_ms = cfg->alert_cooldown_s ? (int64_t)cfg->alert_cooldown_s * 1000 : -1,
        .history_max = (size_t)cfg->alert_history,
        .max_attempts = (int)cfg->webhook_attempts,
        .backoff_base_ms = (int64_t)cfg->webhook_backoff_ms,
        .timeout_ms = (int64_t)cfg->webhook_timeout_s * 1000,
    };
    ff_rc rc = ff_alerts_open(&ao, &s->alerts, err);
    if (rc)
        return rc;
    ff_rules_cfg rc_cfg = {
        .rules = rules,
        .n_rules = n_rules,
        .no_defaults = cfg->rule_defaults == 1,
        .max_keys = (size_t)cfg->rule_max_keys,
    };
    rc = ff_rules_new(&rc_cfg, &s->rules, err);
    if (rc)
        return rc;
    ff_anomaly_opts an = {
        .alpha = cfg->anomaly_alpha,
        .warmup_minutes = (int)cfg->anomaly_warmup_min,
        .threshold = cfg->anomaly_threshold,
        .min_weight = cfg->anomaly_min_weight,
    };
    rc = ff_anomaly_new(&an, &s->anomaly, err);
    if (rc)
        return rc;
    /* GET /v1/alerts shows the rules and the detector in force */
    ff_buf b;
    ff_buf_init(&b, 1u << 20);
    ff_buf_adds(&b, "{\"rules\":");
    rc = ff_rules_json(s->rules, &b, err);
    ff_buf_adds(&b, ",\"anomaly\":");
    if (rc == FF_OK)
        rc = ff_anomaly_json(s->anomaly, &b, err);
    ff_buf_addc(&b, '}');
    if (rc == FF_OK)
        rc = ff_alerts_set_rules_json(s->alerts, b.data, err);
    ff_buf_fini(&b);
    FF_LOG(FF_LOG_INFO, "alert", "alerts: %zu webhook(s), %zu configured rule(s)%s", n_hooks,
           n_rules, cfg->rule_defaults == 1 ? "" : " + defaults");
    return rc;
}

ff_rc ff_server_open(const ff_config *cfg, ff_server **out, ff_err *err)
{
    *out = NULL;
    ff_server *s = ff_calloc(1, sizeof *s);
    if (!s)
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    s->cfg = *cfg;
    s->listen_fd = -1;
    s->started_ms = ff_clock_now_ms();
    s->max_body_bytes = (size_t)cfg->max_body_kb * 1024;
    ff_rc rc = ff_keys_open(cfg->data, &s->keys, err);
    if (rc)
        goto fail;
    char logdir[1100];
    snprintf(logdir, sizeof logdir, "%s/log", cfg->data);
    ff_evlog_opts lo = {
        .dir = logdir,
        .segment_bytes = cfg->segment_mb << 20,
        .sync = cfg->fsync == FF_FSYNC_INTERVAL ? FF_EVLOG_SYNC_INTERVAL : FF_EVLOG_SYNC_EACH_BATCH,
        .sync_interval_ms = (uint32_t)cfg->fsync_interval_ms,
        .retain_bytes = cfg->retain_mb << 20,
        .retain_ms = cfg->retain_hours * 3600ull * 1000,
        /* The store (opened below) holds the log from SEALED, so retention never deletes an
         * accepted event that is not yet in its parts. The stream processor does not hold it:
         * what it would lose is derived (live counts, derived events), it reports the gap at
         * open, and a stuck processor must not grow the log until the disk is full
         * (docs/architecture.md, "Log retention waits for the store"). */
        .retain_n_holds = 1,
    };
    rc = ff_evlog_open(&lo, &s->log, err);
    if (rc)
        goto fail;
    ff_collect_opts co;
    ff_collect_opts_default(&co);
    co.max_body_bytes = s->max_body_bytes;
    co.max_batch_bytes = (size_t)cfg->max_batch_kb * 1024;
    co.max_event_bytes = (size_t)cfg->max_event_kb * 1024;
    co.max_batch_events = (uint32_t)cfg->max_batch_events;
    co.ip_mode = cfg->ip_mode == FF_IPOPT_DROP ? FF_COLLECT_IP_DROP : FF_COLLECT_IP_TRUNCATE;
    co.dedupe_window_ms = (int64_t)cfg->dedupe_hours * 3600 * 1000;
    co.dedupe_capacity = (uint32_t)cfg->dedupe_capacity;
    rc = ff_collect_new(&co, &s->collect, err);
    if (rc)
        goto fail;
    char storedir[1100];
    snprintf(storedir, sizeof storedir, "%s/store", cfg->data);
    ff_store_opts so = {
        .dir = storedir,
        .log = s->log,
        .dedupe_window_ms = (int64_t)cfg->dedupe_hours * 3600 * 1000,
        .keep_days = (uint32_t)cfg->store_keep_days,
        .seal_interval_ms = (uint32_t)cfg->store_seal_ms,
        .merge_fanin = (uint32_t)cfg->store_merge_fanin,
    };
    rc = ff_store_open(&so, &s->store, err);
    if (rc)
        goto fail;
    rc = ff_store_start(s->store, err);
    if (rc)
        goto fail;
    rc = open_alerts(s, cfg, err);
    if (rc)
        goto fail;
    char streamdir[1100];
    snprintf(streamdir, sizeof streamdir, "%s/stream", cfg->data);
    ff_stream_opts sto = {
        .dir = streamdir,
        .log = s->log,
        .rules = s->rules,
        .anomaly = s->anomaly,
        .sink = ff_alerts_sink,
        .sink_ctx = s->alerts,
        .watermark_ms = cfg->watermark_ms ? (int64_t)cfg->watermark_ms : -1,
        .lateness_ms = cfg->lateness_ms ? (int64_t)cfg->lateness_ms : -1,
        .session_gap_ms = (int64_t)cfg->session_gap_min * 60000,
        .abandon_ms = (int64_t)cfg->abandon_min * 60000,
        .checkpoint_ms = (uint32_t)cfg->stream_checkpoint_ms,
        .dedupe_window_ms = (int64_t)cfg->dedupe_hours * 3600 * 1000,
        .dedupe_max_ids = cfg->dedupe_capacity,
        .no_derived = !cfg->stream_derived,
    };
    rc = ff_stream_open(&sto, &s->stream, err);
    if (rc)
        goto fail;
    rc = ff_stream_start(s->stream, err);
    if (rc)
        goto fail;
    seed_dedupe(s);
    if (cfg->rate_limit) {
        rc = ff_ratelimit_new((double)cfg->rate_limit, (double)cfg->rate_limit * 2, &s->rl, err);
        if (rc)
            goto fail;
    }
    rc = listen_on(cfg->listen, &s->listen_fd, s->url, sizeof s->url, err);
    if (rc)
        goto fail;
    s->mhd = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL,
        NULL, on_request, s, MHD_OPTION_LISTEN_SOCKET, s->listen_fd, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned int)cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned int)cfg->header_timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)HEADER_POOL_BYTES, MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s, MHD_OPTION_THREAD_STACK_SIZE,
        (size_t)(256 * 1024), MHD_OPTION_END);
    if (!s->mhd) {
        rc = FF_ERR_SET(err, FF_EIO, "cannot start the HTTP server on %s", cfg->listen);
        goto fail;
    }
    *out = s;
    return FF_OK;
fail:
    ff_server_close(s);
    return rc;
}

void ff_server_close(ff_server *s)
{
    if (!s)
        return;
    if (s->stream)
        ff_stream_live_shutdown(s->stream); /* SSE connections end, so MHD can stop */
    if (s->mhd)
        MHD_stop_daemon(s->mhd);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->stream) {
        ff_err err = {0};
        if (ff_stream_stop(s->stream, &err) != FF_OK)
            FF_LOG(FF_LOG_ERROR, "http", "stream stop: %s", err.msg);
        ff_stream_close(s->stream); /* appends to the log: before the log closes */
    }
    ff_alerts_close(s->alerts); /* after the stream: it reports to the alerts */
    ff_rules_free(s->rules);
    ff_anomaly_free(s->anomaly);
    if (s->store) {
        ff_err err = {0};
        if (ff_store_stop(s->store, &err) != FF_OK)
            FF_LOG(FF_LOG_ERROR, "http", "store stop: %s", err.msg);
        ff_store_close(s->store);
    }
    ff_collect_free(s->collect);
    ff_evlog_close(s->log);
    ff_keys_close(s->keys);
    ff_ratelimit_free(s->rl);
    ff_free(s);
}

const char *ff_server_url(const ff_server *s)
{
    return s->url;
}

void ff_server_tick(ff_server *s)
{
    ff_keys_maybe_reload(s->keys);
    const int64_t retain_every_ms = 60 * 1000;
    int64_t now = ff_clock_now_ms();
    if (now - s->last_retain_ms > retain_every_ms) {
        s->last_retain_ms = now;
        ff_evlog_retain(s->log, NULL);
    }
}

void ff_server_set_demo_key(ff_server *s, const char *write_key)
{
    snprintf(s->demo_key, sizeof s->demo_key, "%s", write_key ? write_key : "");
}

void ff_server_counts_get(ff_server *s, ff_server_counts *out)
{
    out->events_accepted = atomic_load(&s->n_events_accepted);
    out->events_rejected = atomic_load(&s->n_events_rejected);
    out->requests_ok = atomic_load(&s->n_requests_ok);
    out->requests_failed = atomic_load(&s->n_requests_failed);
    ff_evlog_stats st;
    ff_evlog_stats_get(s->log, &st);
    out->log_next_offset = st.next_offset;
}
