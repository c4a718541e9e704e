/* ff_evlog.h -- durable append-only event log (embedded file backend).
 *
 * WHAT: the system of record. The collector appends batches of records (one
 * record = one canonical event); stream and store read them back by offset.
 * Nothing is rewritten. A JetStream backend will implement the same calls.
 *
 * DESIGN: a directory of segment files named by the offset of their first
 * record (00000000000000000000.ffl). Only the newest segment is written. A
 * segment is a 16-byte file header followed by frames; a frame is a 40-byte
 * header (magic, version, record count, payload length, base offset, append
 * time, CRC-32 of header and payload, computed by zlib) and a payload of
 * length-prefixed records. Full format: docs/formats/evlog.md.
 *
 * Group commit: appenders write their frame under the append lock, then wait
 * for a sync that covers their end position. Whoever finds no sync running
 * becomes the leader, fsyncs once for everybody written so far, and wakes
 * the rest. So N concurrent requests cost about one fdatasync, not N.
 *
 *   append ──write──▶ [written] ──fdatasync (leader)──▶ [durable] ──▶ 200
 *
 * Recovery at open scans the newest segment. A torn tail -- a frame cut
 * short, or a last frame whose CRC fails, or zeros -- is truncated: it never
 * survives, everything before it does. Damage with more data after it is not
 * a crash artefact, so open refuses (FF_ECORRUPT) rather than drop
 * acknowledged records; `repair` cuts there on purpose. Earlier segments are
 * verified by `footfall log verify`.
 *
 * Retention deletes whole segments, oldest first, never the newest: while the total is over
 * retain_bytes, or while the oldest is older (mtime) than retain_ms; at open, at each roll and
 * at ff_evlog_retain. It never deletes what a consumer still needs. A consumer that keeps its
 * own durable position in the log (the store's SEALED: everything below it is in parts on
 * disk) holds the log from there (ff_evlog_hold_new, moved forward by ff_evlog_hold_set), and
 * a segment goes only when every record in it is below every hold. Consumers open after the
 * log, so opts.retain_n_holds says how many holds to wait for: while fewer exist (before the
 * store opens, after it closes) retention deletes nothing. The cost: a consumer that lags or
 * has failed makes the log grow past the limits. The bytes retention would have deleted but a
 * hold kept are in stats (retain_held_bytes, as of the last pass) and logged at warn, at most
 * every 10 minutes, naming the hold and its offset, so an operator sees why.
 *
 * INVARIANTS:
 *  (1) Offsets are dense: the frame after one with base b and n records has
 *      base b + n, across segment boundaries.
 *  (2) Readers never see a record beyond the durable offset (FF_EVLOG_SYNC_
 *      EACH_BATCH) -- a record a crash could still remove is invisible.
 *  (3) After a failed write or sync the log is FAILED: appends return
 *      FF_EFAILED until it is closed and reopened (recovery then runs).
 *  (4) One process owns a log directory for writing (flock on LOCK).
 *  (5) Retention never deletes a record at or past the lowest hold, and deletes nothing while
 *      fewer than opts.retain_n_holds holds exist.
 *
 * THREADING: append and sync are thread-safe (many appenders); each cursor
 * belongs to one thread; holds may be taken, moved and freed from any thread
 * (moving one is an atomic store); close must not race with anything.
 * OWNERSHIP: open returns an owned handle; append borrows the payload for the
 * call only; cursor_next returns a view valid until the next call; hold_new
 * returns an owned hold (its name is copied) that must be freed before close.
 */
#ifndef FF_EVLOG_H
#define FF_EVLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ff_err.h"

typedef struct ff_evlog ff_evlog;
typedef struct ff_evlog_cursor ff_evlog_cursor;
typedef struct ff_evlog_hold ff_evlog_hold;

typedef enum ff_evlog_sync {
    FF_EVLOG_SYNC_EACH_BATCH, /* fsync before append returns (group commit); safe default */
    FF_EVLOG_SYNC_INTERVAL,   /* fsync every sync_interval_ms in the background: a crash of
                                 the machine (not of the process) may lose that much */
} ff_evlog_sync;

typedef struct ff_evlog_opts {
    const char *dir;        /* created if missing */
    uint64_t segment_bytes; /* roll to a new segment past this; 0 = 128 MiB */
    ff_evlog_sync sync;
    uint32_t sync_interval_ms; /* for FF_EVLOG_SYNC_INTERVAL; 0 = 200 */
    uint64_t retain_bytes;     /* delete oldest sealed segments past this total; 0 = keep */
    uint64_t retain_ms;        /* delete sealed segments older than this; 0 = keep */
    uint32_t retain_n_holds;   /* holds retention waits for (consumers that open after the
                                  log): until that many exist it deletes nothing; 0 = none */
    bool read_only;            /* no lock, no recovery writes: for dump/verify */
    bool repair;               /* recovery may cut at damage that has data after it (the
                                  records after it are lost); default: refuse to open */
} ff_evlog_opts;

/* A record is [u32 little-endian length][bytes]; a payload is records back
 * to back. ff_evlog_payload_add appends one record to a payload buffer. */
#define FF_EVLOG_MAX_FRAME_BYTES (64u * 1024 * 1024)

typedef struct ff_evlog_stats {
    uint64_t next_offset;    /* offset the next record will get */
    uint64_t durable_offset; /* records below this survive a crash */
    uint64_t first_offset;   /* oldest record still retained */
    uint64_t bytes;          /* total size of all segments */
    uint32_t n_segments;
    uint64_t n_syncs;
    uint64_t sync_ns_total;
    uint64_t sync_ns_max;
    uint64_t truncated_bytes_at_open; /* torn tail removed by recovery */
    uint64_t retain_held_bytes;       /* what the last retention pass would have deleted by
                                         size or age but a hold (or one not yet taken) kept */
    bool failed;
} ff_evlog_stats;

/* Lifecycle */
ff_rc ff_evlog_open(const ff_evlog_opts *opts, ff_evlog **out, ff_err *err);
void ff_evlog_close(ff_evlog *log); /* NULL is a no-op; syncs what was written */

/* Append n_records records (payload as above). On FF_OK the records are
 * durable per the sync policy and got offsets first_offset_out ..
 * first_offset_out + n_records - 1. */
ff_rc ff_evlog_append(ff_evlog *log, const void *payload, size_t len, uint32_t n_records,
                      uint64_t *first_offset_out, ff_err *err);

/* Apply retention now (also done at open and when a segment rolls), within the holds. */
ff_rc ff_evlog_retain(ff_evlog *log, ff_err *err);

/* Retention holds (see DESIGN). Hold the log from from_offset: retention keeps every segment
 * with a record at or past it. name (copied; at most 31 bytes kept) says who holds, in logs. */
ff_rc ff_evlog_hold_new(ff_evlog *log, const char *name, uint64_t from_offset, ff_evlog_hold **out,
                        ff_err *err);
/* Move the hold (forward: what retention already deleted does not come back). */
void ff_evlog_hold_set(ff_evlog_hold *h, uint64_t from_offset);
/* Release the hold; before ff_evlog_close. NULL is a no-op. */
void ff_evlog_hold_free(ff_evlog_hold *h);

/* Reading. A cursor returns one record at a time. FF_EOF at the durable tail;
 * calling next again later continues (tail following). */
ff_rc ff_evlog_cursor_open(ff_evlog *log, uint64_t from_offset, ff_evlog_cursor **out, ff_err *err);
ff_rc ff_evlog_cursor_next(ff_evlog_cursor *cur, uint64_t *offset_out, const void **rec_out,
                           size_t *len_out, ff_err *err);
void ff_evlog_cursor_close(ff_evlog_cursor *cur);

/* The durable offset now (one atomic load; any thread). */
uint64_t ff_evlog_durable_offset(ff_evlog *log);

/* Block until durable_offset > after_offset or timeout; FF_EAGAIN on timeout. */
ff_rc ff_evlog_wait(ff_evlog *log, uint64_t after_offset, uint32_t timeout_ms);

/* Verify every frame of every segment: CRCs, dense offsets, record framing.
 * Returns FF_ECORRUPT with the segment, byte position and reason in err. */
ff_rc ff_evlog_verify(ff_evlog *log, uint64_t *n_records_out, ff_err *err);

/* Introspection */
void ff_evlog_stats_get(ff_evlog *log, ff_evlog_stats *out);

#endif /* FF_EVLOG_H */
