/* ff_server.h -- the Footfall node: owns the subsystems and serves HTTP.
 *
 * WHAT: `footfall serve` in one object. It opens the event log, the keys and
 * the collector for a data folder, refills the collector's dedupe window
 * from the log's recent records, and serves the HTTP API with
 * libmicrohttpd: the Segment doors (/v1/{batch,track,page,screen,identify,
 * group,alias} and /v1/{t,p,s,i,g,a,b}), CORS preflight, /healthz,
 * /metrics, and the embedded static files: the browser SDK at /sdk/ and
 * the demo shop at /demo/. docs/api.md describes every answer.
 *
 * DESIGN: libmicrohttpd in thread-per-connection mode. A request handler
 * reads the body into its connection's buffer (bounded by max-body-kb:
 * 413 as soon as Content-Length or the bytes received say it is over),
 * decodes it with ff_collect, checks the write key, appends the records to
 * the log and only then answers 200 -- so a 200 means durable. Blocking in
 * the handler is what makes group commit work: every connection thread
 * waiting for the same fdatasync is released by it at once. Each connection
 * keeps its arena and body buffer across keep-alive requests, so steady
 * state allocates nothing per request.
 *
 *   headers ──route/method/auth/size checks──▶ body chunks (bounded, timed)
 *      ──▶ decode ──▶ append + fsync (group commit) ──▶ 200 | 4xx | 503
 *
 * INVARIANTS:
 *  (1) No 2xx for an ingest request before its records are durable (per
 *      the fsync policy).
 *  (2) A request that fails leaves nothing in the log and its event ids
 *      unreserved, so the client's retry is stored exactly once.
 *  (3) Memory per connection is bounded by max-body-kb plus the arena cap.
 *
 * THREADING: start/stop from the main thread; handlers run on connection
 * threads. OWNERSHIP: open returns an owned handle; close stops and frees.
 */
#ifndef FF_SERVER_H
#define FF_SERVER_H

#include <stdint.h>

#include "config/ff_options.h"
#include "core/ff_err.h"

typedef struct ff_server ff_server;

typedef struct ff_server_counts {
    uint64_t events_accepted; /* stored in the log by this process */
    uint64_t events_rejected;
    uint64_t requests_ok;
    uint64_t requests_failed;
    uint64_t log_next_offset; /* records in the log (all time) */
} ff_server_counts;

/* Open the data folder and start listening on cfg->listen. */
ff_rc ff_server_open(const ff_config *cfg, ff_server **out, ff_err *err);
void ff_server_close(ff_server *s); /* NULL is a no-op */

/* "http://HOST:PORT" with the port actually bound. */
const char *ff_server_url(const ff_server *s);

/* Periodic housekeeping (key reload, retention); call about once a second. */
void ff_server_tick(ff_server *s);

void ff_server_counts_get(ff_server *s, ff_server_counts *out);

/* The write key that /demo/config.js gives the demo shop (footfall demo). */
void ff_server_set_demo_key(ff_server *s, const char *write_key);

#endif /* FF_SERVER_H */
