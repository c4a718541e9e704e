/* ff_collect.h -- the collector's request-body pipeline: HTTP body in,
 * canonical records out.
 *
 * WHAT: everything the ingest doors do with a request body, after the HTTP
 * layer has read it and before the batch is appended to the event log:
 * content-type and content-encoding checks, bounded gunzip, strict JSON
 * parsing, the Segment batch / single-call shapes, per-event validation,
 * normalisation (event vocabulary, property map, exact money, event time),
 * privacy (IP anonymised, secret fields and card numbers scrubbed), bot and
 * spam-referrer drops, and dedupe by event_id. The HTTP layer keeps methods,
 * header limits, auth and writing the answer; docs/api.md is the user-facing
 * description of every rule and reason code.
 *
 * DESIGN: one pass. The body is parsed once into a DOM in the caller's arena
 * (core/ff_json); each event is then walked once, validating and writing its
 * canonical record straight into the payload buffer in the evlog framing
 * ([u32 LE length][record JSON] back to back). A problem found half-way
 * truncates the buffer back to the start of that event, so a bad event never
 * costs more than its own bytes and nothing is allocated per event. Request-
 * level problems (the request can never succeed: bad JSON, wrong media type,
 * too large) give a 4xx status and nothing is stored; event-level problems
 * reject only that event, with an index and a reason code.
 *
 * Dedupe is a two-phase reservation so that an acknowledgement never loses an
 * event and a retry is never stored twice:
 *
 *   decode: id unknown ──reserve──▶ [PENDING, owned by this request]
 *           id STORED or owned by us ──▶ dropped, counted duplicate
 *           id PENDING in an older request ──▶ wait (bounded) for its outcome
 *           id PENDING in a younger request ──▶ stored unreserved (counted)
 *   finish(appended_ok=true)  : PENDING ──▶ STORED (until it leaves the window)
 *   finish(appended_ok=false) : PENDING ──▶ removed (the client will retry)
 *
 * The window holds at most dedupe_capacity ids; when full the oldest entry is
 * evicted (an id older than that can then be stored twice: the stream
 * processor's own dedupe is the backstop), and entries older than
 * dedupe_window_ms count as absent.
 *
 * INVARIANTS:
 *  (1) After decode with status 0: n_records + n_rejected + n_duplicates +
 *      n_dropped == n_events.
 *  (2) Every record in the payload is one compact JSON object with v,
 *      event_id, type, event, ts and received_at; its ip is truncated (or
 *      absent), context.ip is gone, and no secret-named field's value and no
 *      card number (outside the id columns, see docs/api.md) is left.
 *  (3) Every event_id in the payload is reserved by this request (or was
 *      assigned by the server and is unique), so two concurrent requests
 *      never both store one id, except when one met the id pending in a
 *      younger request or its wait timed out (both counted as unreserved).
 *      Requests wait only for older ones, so waits cannot deadlock.
 *  (4) Counters for events (accepted, rejected, dropped, duplicates,
 *      scrubbed) are added once per request, at finish, and only when the
 *      request's outcome stands (status != 0, or appended_ok), so a failed
 *      append that the client retries is not counted twice.
 *
 * THREADING: one ff_collect is shared by all request threads: decode, finish,
 * seed_dedupe and metrics are thread-safe (atomic counters, a sharded and
 * locked dedupe window, a lock-free key set). An ff_collect_out belongs to one
 * thread. ff_collect_free must not race with anything.
 *
 * OWNERSHIP: new returns an owned handle (free with ff_collect_free). decode
 * borrows the request for the call only; the DOM and the inflated body live
 * in the caller's arena, and the out's string fields (write_key, message)
 * point into that arena or to static text, so the arena must outlive the use
 * of out; the payload and rejected buffers are heap memory owned by out and
 * released by ff_collect_out_fini.
 */
#ifndef FF_COLLECT_H
#define FF_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_err.h"

typedef struct ff_collect ff_collect; /* opaque */

typedef enum ff_collect_ip_mode {
    FF_COLLECT_IP_TRUNCATE, /* IPv4 /24, IPv6 /48 (default) */
    FF_COLLECT_IP_DROP,     /* no IP stored at all */
} ff_collect_ip_mode;

/* Options; 0 means the default shown. */
typedef struct ff_collect_opts {
    size_t max_body_bytes;        /* after gunzip; 1 MiB. Over: 413 body_too_large */
    size_t max_batch_bytes;       /* sum of a batch's event objects; 500 KB. 413 */
    size_t max_event_bytes;       /* one event object as sent; 32 KiB */
    uint32_t max_batch_events;    /* 500; over: 413 too_many_events */
    uint32_t max_json_depth;      /* 64; deeper: 400 too_deep (see docs/api.md) */
    uint32_t max_properties;      /* top-level keys of properties/traits; 256 */
    uint32_t max_prop_depth;      /* nested containers below properties; 5 */
    uint32_t max_array_items;     /* 100 */
    uint32_t max_name_bytes;      /* event name; 200 */
    uint32_t max_id_bytes;        /* messageId; 200 */
    uint32_t max_url_bytes;       /* url / referrer; 2000 */
    uint32_t key_cardinality_cap; /* distinct property keys, process-wide; 10,000 */
    ff_collect_ip_mode ip_mode;   /* FF_COLLECT_IP_TRUNCATE */
    int64_t max_future_ms;        /* ts later than received_at + this: adjusted; 23 h */
    int64_t min_ts_ms;            /* ts earlier: adjusted; 2000-01-01T00:00:00Z */
    int64_t max_clock_skew_ms;    /* |received_at - sentAt| above this: skew corrected; 5 min */
    int64_t dedupe_window_ms;     /* 24 h */
    uint32_t dedupe_capacity;     /* ids held; 2,000,000 (about 48 bytes each) */
    uint32_t dedupe_wait_ms;      /* wait for another request's pending id; 5000 */
    bool keep_bots;               /* store bot traffic instead of dropping it */
} ff_collect_opts;

/* Which door/path the body came in on. /v1/batch and /v1/b are BATCH; the
 * single-call paths (/v1/track, /v1/t, ...) take `type` from the path. */
typedef enum ff_collect_call {
    FF_CALL_BATCH,
    FF_CALL_TRACK,
    FF_CALL_PAGE,
    FF_CALL_SCREEN,
    FF_CALL_IDENTIFY,
    FF_CALL_GROUP,
    FF_CALL_ALIAS,
} ff_collect_call;

/* An extra event-name alias for one request (see ff_collect_backfill). */
typedef struct ff_collect_alias {
    const char *from; /* name as sent (exact bytes) */
    size_t from_len;
    const char *to; /* canonical name stored in `event` */
    size_t to_len;
} ff_collect_alias;

/* Backfill mode for one request: `footfall import` feeds historical events from
 * files through the same decode as HTTP, with two differences.
 *  - Event time is kept as given: no clamping to [min_ts_ms, received_at +
 *    max_future_ms] and no clock-skew correction from sentAt (old events in a
 *    file are a backfill, not a device with a wrong clock). Times before 1970
 *    and unparsable ones are still flagged and replaced by received_at.
 *  - aliases (n_aliases pairs, exact match, looked up before the vocabulary)
 *    let an import map name events in its data set's own codes, e.g. Taobao
 *    "pv" -> product_viewed; the sent name is kept as event_original.
 * HTTP requests never set it (NULL). */
typedef struct ff_collect_backfill {
    const ff_collect_alias *aliases; /* borrowed for the decode call */
    size_t n_aliases;
} ff_collect_backfill;

typedef struct ff_collect_req {
    ff_collect_call call;
    const char *content_type;     /* header value, NULL when absent */
    const char *content_encoding; /* header value, NULL when absent */
    const char *body;             /* as received (maybe gzip); not NUL-terminated */
    size_t body_len;
    const char *peer_ip;                 /* textual socket address (or a trusted X-Forwarded-For) */
    const char *user_agent;              /* header value, NULL when absent */
    int64_t received_at_ms;              /* server clock when the request arrived */
    const ff_collect_backfill *backfill; /* NULL (HTTP); set by `footfall import` only */
} ff_collect_req;

typedef struct ff_collect_out {
    /* Request-level outcome: status 0 = proceed (append the payload, then
     * answer success); else the HTTP status (400, 413, 415) with code and
     * message for the error body, and nothing to store. */
    int status;
    const char *code;    /* stable reason code, "" when status is 0 */
    const char *message; /* one human line */

    const char *write_key; /* the body's writeKey (NUL-terminated), or NULL */
    size_t write_key_len;

    ff_buf payload;      /* records: [u32 LE length][record JSON] ... */
    uint32_t n_records;  /* records in payload */
    ff_buf rejected;     /* JSON array text [{"i":k,"reason":"..."}], always valid */
    uint32_t n_rejected; /* events rejected */
    uint32_t n_events;   /* events in the request (1 for a single call) */
    uint32_t n_duplicates;
    uint32_t n_conflicts; /* duplicates whose payload differed (subset of n_duplicates) */
    uint32_t n_dropped;   /* bot / spam-referrer events, answered as success */

    struct ff_collect_priv *priv; /* reservations and per-request tallies */
} ff_collect_out;

/* Lifecycle */
void ff_collect_opts_default(ff_collect_opts *o);
ff_rc ff_collect_new(const ff_collect_opts *o, ff_collect **out, ff_err *err);
void ff_collect_free(ff_collect *c); /* NULL is a no-op */

/* Operations */

/* out must have been set up once with ff_collect_out_init. It can then be
 * reused for any number of requests (one thread at a time): decode resets it
 * and keeps its buffers, so a worker thread that holds one out and one arena
 * allocates nothing per request in the steady state. */
void ff_collect_out_init(ff_collect_out *out);

/* Decode one request body. Returns FF_OK with out filled (check out->status),
 * or FF_ENOMEM when the heap ran out (answer 503). The arena holds the DOM
 * (about 100 bytes per JSON value) and the inflated body; when its cap is hit
 * the request gets 413 too_complex. If the previous request on this out was
 * not finished, decode finishes it with appended_ok = false first. */
ff_rc ff_collect_decode(ff_collect *c, const ff_collect_req *req, ff_arena *arena,
                        ff_collect_out *out);

/* Settle a decoded request: exactly once per decode that returned FF_OK.
 * appended_ok = the payload is durable in the log (pass true when there was
 * nothing to append). On true the reserved ids become STORED and the
 * request's counters are added; on false the reservations are released so
 * the client's retry is accepted. Ignored for status != 0. */
void ff_collect_finish(ff_collect *c, ff_collect_out *out, bool appended_ok);

/* Free out's buffers (then out may be initialised again). If finish was not
 * called it runs finish(false). */
void ff_collect_out_fini(ff_collect *c, ff_collect_out *out);

/* Refill the dedupe window from one canonical record (as stored in the log),
 * e.g. the last dedupe_window_ms of records at start-up. Records without
 * event_id/received_at, older than the window, or with a server-assigned
 * UUIDv7 id are skipped (FF_OK). FF_EBADINPUT when the text is not a record. */
ff_rc ff_collect_seed_dedupe(ff_collect *c, const char *record_json, size_t len);

/* Introspection */

/* Append Prometheus text-format lines for every counter to out. */
ff_rc ff_collect_metrics(ff_collect *c, ff_buf *out);

/* Read one counter by its metric line name, e.g.
 * "footfall_events_dropped_total{reason=\"bot\"}" (for tests); 0 if unknown. */
uint64_t ff_collect_counter(ff_collect *c, const char *name);

#endif /* FF_COLLECT_H */
