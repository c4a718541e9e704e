/* ff_stream.h -- the real-time stream processor: live metrics, sessions, derived events, rules.
 *
 * WHAT: a consumer of the event log, beside the store. It reads durable records from its own
 * checkpointed offset, drops retried events (dedupe by event_id, the store's rule), turns each
 * record into a row (ff_row_from_record) and keeps, in event time: per-second and per-minute
 * windows of business metrics (ff_window.h), sessions with identity stitching and cart /
 * checkout abandonment (ff_session.h), active users, top pages / products / search terms
 * (ff_topk.h). It hands events to the risk rules and closed minutes to the anomaly detector
 * (ff_rules.h, ff_anomaly.h; both optional), writes its own derived events (session_ended,
 * cart_abandoned, checkout_abandoned) back into the log, and serves the live view as a JSON
 * snapshot and as one delta per second for Server-Sent Events (docs/api.md, "Live metrics").
 *
 * DESIGN:
 *
 *   log --cursor(offset)--> record --dedupe--> row --+--> derived? count only
 *                                                     +--> watermark / late / too late
 *                                                     +--> windows (s, min), top-K, totals
 *                                                     +--> sessions --> derived records --append-->
 * log
 *                                                     +--> rules; closed minutes --> anomaly
 *   every checkpoint_ms: [derived appended] --> DATA/stream/CHECKPOINT (tmp, fsync, rename)
 *   every tick_ms: delta (seq + 1) into the ring that SSE connections read
 *
 *  - Event time. max_ts = the largest event ts seen; watermark W = max_ts - watermark_ms
 *    (bounded out-of-orderness, default 30 s), never decreasing. An event is
 *      on time   when ts >= W: counted in its windows;
 *      late      when W - lateness_ms <= ts < W (allowed lateness, default 5 min): still counted
 *                in its windows (and in `totals.late`); the windows it changes go out in the
 *                next delta again;
 *      too late  when ts < W - lateness_ms: counted in `totals.too_late` and by type in
 *                stats, in no window, not in sessions (the record stays in the log and the
 *                store, so SQL still sees it).
 *    A minute window is final once W - lateness_ms >= its end: then it is handed to the
 *    anomaly detector (once, in order; at most the last 60 minutes after a jump) and never
 *    changes again. A second window is marked final once W passes its end (late events can
 *    still update it while it is in the 120-second ring; older ones update minutes only).
 *    Sessions end and carts are abandoned when W reaches their deadline (ff_session.h). Event
 *    time only moves with events: when traffic stops, the watermark, the open sessions and the
 *    "active users" (relative to max_ts) hold until the next event. That keeps every output a
 *    function of the log alone, which is what makes recovery exact.
 *  - Dedupe: an event_id seen within dedupe_window_ms of received_at is dropped (counted). At
 *    open the set is refilled from the log records just before the checkpoint offset (the
 *    newest dedupe_max_ids of them), so a restart decides exactly as an uninterrupted run
 *    (except at the window's capacity edge, as in the store).
 *  - Derived events are canonical records (type track, flags ["derived"], properties with the
 *    details) with event_id = a hash of (kind, session id, episode), appended to the log in one
 *    batch per poll, before the checkpoint that covers the records which caused them. Read
 *    back, a record flagged "derived" only increments `totals.derived` (it never reaches
 *    sessions, windows or rules). A crash between the append and the checkpoint makes the
 *    replay append the same records again with the same ids: the processor's and the store's
 *    dedupe drop the second copies (counted in stats.derived_duplicates, not in
 *    totals.duplicates).
 *  - Checkpoint (DATA/stream/CHECKPOINT): magic, version, length, CRC-32, then the next log
 *    offset and every piece of state (totals, name tables, window rings, the closed-minute
 *    cursor, top-K sketches, sessions, links, active users, rules and anomaly state). It is
 *    written after derived records are durable, atomically (CHECKPOINT.tmp + fsync + rename +
 *    dir fsync). Open loads it and resumes at its offset: a kill -9 at any point redoes at
 *    most checkpoint_ms of records, from exactly the state that had not seen them, so no
 *    count is lost or doubled. A damaged checkpoint is an error (FF_ECORRUPT) naming the
 *    remedy: delete DATA/stream to rebuild everything from the log.
 *  - Live feed: the state is guarded by one mutex, held by the consumer per batch of at most
 *    1024 records and by readers while they serialise. The consumer publishes a delta every
 *    tick_ms (wall clock) into a ring of the last 64 deltas and broadcasts a condition
 *    variable; SSE connections wait on it (ff_stream_live_next).
 *
 *  Lifecycle:   open --start--> [running] --stop--> [open] --close--> (freed)
 *                \--poll (caller's thread, tests, bench)--/
 *
 * INVARIANTS:
 *  (1) The checkpoint's state is exactly the result of processing the records below its offset.
 *  (2) Every derived record caused by a record below a checkpoint's offset is durable in the log.
 *  (3) Watermark, closed-minute cursor and sequence numbers never decrease.
 *  (4) A derived record never changes sessions, windows, rules or anomaly state.
 *
 * THREADING: snapshot/live/stats calls are thread-safe; run either the thread (start/stop) or
 * poll from one thread of yours. close must not race with anything.
 *
 * OWNERSHIP: opts->dir is copied; log, rules, anomaly and sink_ctx are borrowed and must
 * outlive the processor.
 */
#ifndef FF_STREAM_H
#define FF_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "alert/ff_alert.h"
#include "core/ff_buf.h"
#include "core/ff_err.h"
#include "evlog/ff_evlog.h"
#include "stream/ff_anomaly.h"
#include "stream/ff_rules.h"

typedef struct ff_stream ff_stream;

typedef struct ff_stream_opts {
    const char *dir; /* DATA/stream; created if missing */
    ff_evlog *log;   /* borrowed */
    ff_alert_sink_fn sink;
    void *sink_ctx;
    ff_rules *rules;                  /* may be NULL */
    ff_anomaly *anomaly;              /* may be NULL */
    int64_t watermark_ms;             /* bounded out-of-orderness; 0 = 30 s; < 0 = none */
    int64_t lateness_ms;              /* allowed lateness; 0 = 5 min; < 0 = none; at most 30 min */
    int64_t session_gap_ms;           /* 0 = 30 min */
    int64_t abandon_ms;               /* 0 = 30 min */
    uint32_t checkpoint_ms;           /* 0 = 5000 */
    uint32_t tick_ms;                 /* delta interval; 0 = 1000 */
    int64_t dedupe_window_ms;         /* 0 = 24 h */
    uint64_t dedupe_max_ids;          /* 0 = 2 Mi */
    uint64_t max_sessions, max_users; /* 0 = 4 Mi each */
    uint32_t topk_counters;           /* Space-Saving counters per epoch; 0 = 100 */
    bool no_sync;                     /* no fsync of checkpoints (tests) */
    bool no_derived;                  /* do not append derived records (benchmarks) */
} ff_stream_opts;

typedef struct ff_stream_stats {
    uint64_t offset; /* next log offset to read */
    uint64_t lag;
    uint64_t events, late, too_late, duplicates, rejected, derived, derived_duplicates;
    uint64_t derived_appended, checkpoints, checkpoint_bytes, alerts;
    uint64_t sessions_open, users_tracked, links, sessions_dropped;
    uint64_t seq;
    size_t state_bytes; /* approximate heap bytes of sessions/users/links/dedupe */
    int64_t watermark;  /* INT64_MIN before the first event */
    bool failed;
} ff_stream_stats;

/* ---- lifecycle --------------------------------------------------------------------------- */

/* Load DATA/stream/CHECKPOINT (if any), refill the dedupe set from the log, open a cursor at
 * the checkpoint's offset. */
ff_rc ff_stream_open(const ff_stream_opts *opts, ff_stream **out, ff_err *err);
/* Stops the thread if running (writing a last checkpoint) and frees. NULL is a no-op. */
void ff_stream_close(ff_stream *s);
ff_rc ff_stream_start(ff_stream *s, ff_err *err);
ff_rc ff_stream_stop(ff_stream *s, ff_err *err);

/* ---- operations (caller's thread; not while the thread runs) ------------------------------ */

/* Read up to max_records durable records (0 = to the tail), append derived records. */
ff_rc ff_stream_poll(ff_stream *s, uint64_t max_records, uint64_t *n_read_out, ff_err *err);
ff_rc ff_stream_checkpoint(ff_stream *s, ff_err *err);
/* Publish a delta now (the thread does it every tick_ms). */
ff_rc ff_stream_publish(ff_stream *s, ff_err *err);

/* ---- live view (any thread) ----------------------------------------------------------------- */

/* The snapshot JSON (docs/api.md) appended to out; *seq_out (may be NULL) = its seq. */
ff_rc ff_stream_snapshot_json(ff_stream *s, ff_buf *out, uint64_t *seq_out, ff_err *err);
/* The delta with seq after_seq + 1, appended to out, waiting up to timeout_ms for it.
 * FF_EAGAIN on timeout; FF_ENOTFOUND when it already left the ring (resynchronise with a
 * snapshot); FF_EOF after ff_stream_live_shutdown. */
ff_rc ff_stream_live_next(ff_stream *s, uint64_t after_seq, uint32_t timeout_ms, ff_buf *out,
                          uint64_t *seq_out);
/* Wake every live_next waiter and make them return FF_EOF (server shutdown). */
void ff_stream_live_shutdown(ff_stream *s);

/* ---- introspection ----------------------------------------------------------------------- */

void ff_stream_stats_get(ff_stream *s, ff_stream_stats *out);
/* Prometheus lines (footfall_stream_*). */
void ff_stream_metrics(ff_stream *s, ff_buf *out);

#endif /* FF_STREAM_H */
