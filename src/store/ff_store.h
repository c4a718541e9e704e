/* ff_store.h -- the store: consumes the event log into per-day parts, exactly once, and hands
 * out snapshots to queries.
 *
 * WHAT: the one object that owns DATA/store/. It reads the durable event log from where it
 * stopped, turns each canonical record into a row (ff_row_from_record), drops retried events
 * (dedupe by event_id), writes rows into immutable per-day parts (ff_part.h), merges small
 * parts, drops old days (TTL), and gives the SQL executor consistent sets of parts
 * (ff_table_snapshot, ff_table.h).
 *
 * DESIGN:
 *
 *   DATA/store/SEALED                            next log offset to consume (text, one line)
 *   DATA/store/LOCK                              flock of the one writer (FF_ELOCKED)
 *   DATA/store/<YYYYMMDD>/L<lvl>-<first>-<last>.part    first/last: 20-digit log offsets
 *
 *   consumer:    log --cursor--> rows --dedupe--> one ff_part_writer per UTC day of ts
 *                (batch N+1, read while batch N is sealed)
 *                   --hand over (at most one batch in flight)-->
 *   seal thread: batch N --> L0 parts, each within [batch first, batch last]
 *                --> SEALED := last + 1 --> live set (refcounted) --> snapshots
 *   L<k> parts of one day, more than merge_fanin of them --> one L<k+1> part --> unlink inputs
 *
 *  - The "open part" of the issue is realised as sub-second sealing: every seal_interval_ms
 *    (default 1000) the rows consumed since the last seal are written as L0 parts, so an event
 *    is queryable about seal_interval_ms after it is durable in the log. Queries therefore only
 *    ever see immutable, mmapped parts: no structure is shared between the consumer and
 *    readers except the refcounted list of parts, and a snapshot costs one mutex hold. The
 *    many small L0 parts this creates are merged in the background (below). Cost: one part
 *    file per day touched per seal, and fsyncs when sync is on. The writers of a
 *    sealed batch are kept as spares and reset for a later batch (ff_part_writer_reset), so
 *    steady seals reuse warm buffers and zstd contexts instead of faulting in fresh ones; up
 *    to 4 spares hold about one batch's worth of memory between seals.
 *
 *  - Overlapped seals. A seal (sort, encode, zstd, fsync, publish, SEALED) takes about as
 *    long as reading its rows did (0.4-0.7 s per 250 ms of full ingest), so the consumer
 *    does not seal: it hands the batch to a seal thread of the store's own (started at the
 *    first seal) and reads on into a new batch with other writers (spares or new ones). At
 *    most one batch is in flight. The consumer waits only when its batch is due (by time,
 *    seal_max_rows, or FF_STORE_MAX_BATCH_DAYS days) while the previous one is still being
 *    sealed; so reading stops for max(0, seal time - seal_interval_ms) per seal instead of
 *    the whole seal. (Reading on into the due batch was tried: at full ingest on a loaded
 *    machine the read-but-unsealed rows, which back-pressure does not count, grew to 60k per
 *    batch, seals to 1-4 s and the delay to seconds; waiting makes the backlog, and with it
 *    the 503s, reflect the seal's pace.) Memory: two batches of at most seal_max_rows rows
 *    plus the spares. Dedupe and record -> row run at read time, in log order, so the
 *    in-flight batch's ids are in the set before the next batch is read. flush hands over
 *    what was read and waits until it is live; retention and close wait for the batch in
 *    flight.
 *
 *  - Seal batch and SEALED (the crash-safety argument). A batch is the log range
 *    [first, last] read after the previous batch; when its seal starts, first == SEALED
 *    (the previous batch's seal has moved SEALED to its last + 1). Its rows go to one part
 *    per UTC day; a part's range is [min, max] of its rows' offsets, a sub-range of the batch
 *    range. (The whole batch range was the first plan, but ff_part_writer_opts takes the range
 *    when the writer is created, before the batch's end is known; the argument below needs
 *    only "every part of a batch starts at or after the batch's first offset and ends at or
 *    before its last".) Parts are published atomically one at a time by the writer
 *    (temp + fsync + rename + dir fsync); after the last one, SEALED is rewritten atomically
 *    (SEALED.tmp + fsync + rename + dir fsync) to last + 1. So at any crash point:
 *      a. crash before SEALED moves: SEALED == batch first, and the parts already published
 *         have log_first >= batch first == SEALED, while every older part has log_last <
 *         SEALED. Open deletes every part with log_first >=
 *         SEALED, then re-consumes from SEALED: the batch is redone in full, once.
 *      b. crash after SEALED moves: every part of the batch is on disk; resume = SEALED.
 *    A crash therefore never loses a row (resume never passes an unpublished row) nor
 *    duplicates one (a row lives only in parts of its own batch, and either all of those
 *    survive with SEALED past them, or all are deleted before re-consumption). Using
 *    max(log_last) + 1 from the parts instead would skip the unwritten days of case a.
 *    A batch with no rows (all duplicates or rejected) still advances SEALED.
 *    With overlapped seals the argument is unchanged because batches reach disk strictly one
 *    after another: the seal thread seals batches in the order they were handed over, one at
 *    a time, and batch N+1 is handed over only after batch N's seal returned, i.e. after its
 *    SEALED write. Batch N+1 exists only in memory until then (a crash drops it; it is
 *    re-read from the log, which SEALED has not passed). So at any moment at most one batch
 *    has parts on disk past SEALED, and its first offset is SEALED: cases a and b above.
 *    A failed seal (any write error) makes the store failed and is sticky: no later batch is
 *    handed over, so nothing after a failed batch is ever published. The seal thread records
 *    the seal's error before it marks the store failed, and both before the batch stops being
 *    in flight, so every later poll/flush/stop reports that cause (as FF_EFAILED).
 *
 *  - Merges run on a merge thread while the consumer thread runs (without it, in poll between
 *    steps; no_merge: never). When a day folder holds more than
 *    merge_fanin parts of level k (default 8), the oldest of them (by range, as many as fit
 *    in merge_max_rows, at least 2) are read block by block (ff_block_row) into a writer that
 *    re-sorts, published as one L<k+1> part covering [min first, max last], swapped into the
 *    live set, and only then unlinked. By INVARIANT (3) a merge output's range contains
 *    exactly its inputs. Open therefore treats a part whose range lies inside the range of a
 * higher-level part of the same day as the leftover of a merge interrupted between publish and
 * unlink, and deletes it. Write amplification: every row is written once at level 0 and once more
 * per level it climbs; level k holds parts of about fanin^k seal batches, so a day that gets a seal
 * per second for 24 h (86400 L0 parts) climbs at most ceil(log8 86400) = 6 levels: factor
 *    <= 1 + 6 = 7 (fewer when merge_max_rows stops a day's parts from growing; they then
 *    stay as they are). Level is capped at FF_STORE_MAX_LEVEL.
 *
 *  - Dedupe. An event_id seen within dedupe_window_ms (default 24 h) is dropped and counted.
 *    Time is the server's received_at, not the client's ts: a retried batch arrives within
 *    the window of its first attempt even when the client clock is wrong, and a client cannot
 *    push entries out by sending far-future timestamps. The set holds 64-bit XXH3 hashes of
 *    event_ids (a false duplicate needs a 64-bit collision: ~n^2/2^65, 1e-7 for 2e6 ids) in a
 *    FIFO ring with a linear-probing index; entries older than (max received_at seen -
 *    window) leave from the front, and when dedupe_max_ids (default 2 Mi; 24-48 bytes/id) is
 *    reached the oldest leaves early (documented loss of dedupe, counted in stats). At open
 *    the set is rebuilt from the event_id column of blocks whose received_at zone map reaches
 *    into the window (the newest dedupe_max_ids by received_at). Rows with an empty event_id
 *    are never deduped. Records that cannot become rows (bad JSON, no ts, ts outside years
 *    1970..9999) are skipped and counted as rejected.
 *    After a crash the redone batch is deduped against the set rebuilt from the parts; at the
 *    window's edge that set can differ from the one the first attempt had, so a retry
 *    exactly at the edge may be decided differently -- but each record is decided once.
 *
 *  - Retention drops whole day folders older than keep_days (ff_store_retain, or the consumer
 *    at most once a minute when opts.keep_days is set; "today" is the wall clock's UTC day):
 *    parts leave the live set, then are unlinked, then the folder is removed. Snapshots keep
 *    their parts. A crash midway leaves a partly deleted day: each remaining part is still
 *    valid, and SEALED is untouched, so nothing is re-consumed.
 *
 *  - The log's retention. A writer holds the event log from SEALED (ff_evlog_hold, "store"):
 *    taken at open, moved right after each SEALED write, released at close. So the log's
 *    size/age retention never deletes a record that is not yet in parts on disk, however far
 *    the store lags (a slow seal, a failed store, a backlog after a restart); the log grows
 *    past its limits instead and says so (ff_evlog.h). Records read but not sealed are held
 *    too: a crash would re-read them from SEALED.
 *
 *  Lifecycle (one store):
 *
 *    open --start--> [running: thread polls] --stop--> [open] --close--> (freed)
 *     |   \--poll (caller's thread)--> [open]
 *     \-- any write fails --> [failed] (poll/flush/start: FF_EFAILED, naming the failed seal's
 *          (a seal on the seal thread too)  error if a seal failed; flush still waits for the seal
 *                                           in flight; snapshots still work; close and reopen:
 *                                           open's recovery runs)
 *
 * INVARIANTS:
 *  (1) Every convertible, non-duplicate record below SEALED is a row of exactly one live
 *      part; no record at or past SEALED is (parts of the batch in flight are not live until
 *      SEALED has moved past them).
 *  (2) After open, no part on disk has log_first >= SEALED.
 *  (3) Within a day, part ranges are disjoint, and levels are ordered by age: every part of a
 *      higher level covers lower offsets than every part of a lower level. (Seals append L0
 *      parts at the newest offsets; a merge takes the OLDEST parts of one level. By induction
 *      a merge output's range contains its inputs and no other part -- which is what makes
 *      the open-time leftover rule safe: it can only ever delete real merge inputs.)
 *  (4) A part in a snapshot stays open (mapped) until every snapshot holding it is released,
 *      even after a merge or retention unlinked its file.
 *  (5) Level <= FF_STORE_MAX_LEVEL; a merge output has at most merge_max_rows rows (a group
 *      whose oldest part alone exceeds it is not merged further).
 *  (6) At most one batch is in flight, and batch k+1 is handed to the seal thread only after
 *      batch k's SEALED write succeeded: every part file on disk past SEALED belongs to the
 *      one batch that starts at SEALED. After a failed seal no batch is handed over.
 *  (7) Batches cover the log without gaps or overlap: the batch being read starts at the
 *      offset after the last record of the batch in flight (or at SEALED when none is), and
 *      at most two batches, each of at most seal_max_rows rows, are in memory.
 *
 * THREADING: snapshot acquire/release, stats and retain may be called from any thread at
 * any time (retain serialises with the consumer on a work mutex and waits for the seal in
 * flight). Either run the consumer thread (start/stop) or call poll/flush from one thread of
 * yours, never both at once. Inside, up to three threads: the consumer (or the poll caller)
 * reads and owns the batch being read, the cursor and the dedupe set; the seal thread owns
 * the batch in flight (handed over and back under seal_mu) and publishes parts and SEALED
 * under the live-set mutex; the merge thread reads immutable parts and swaps its output in
 * under the same mutex. Lock order: work -> seal -> live set, and work -> merge -> live set;
 * the seal thread never takes work or merge, so merges and seals run side by side (a merge
 * only removes parts it picked; a seal only adds). close must not race with anything; it
 * stops the consumer thread, waits for the seal in flight, then stops the other threads. Across
 * processes: one writer per folder (LOCK); any number of read-only opens beside it (they never
 * modify the folder, and start over when a merge or retention unlinks a part they listed).
 *
 * OWNERSHIP: opts->dir is copied; the evlog is borrowed and must outlive the store (close
 * releases the store's hold on it). A snapshot borrows parts until released; release it
 * before closing the store.
 */
#ifndef FF_STORE_H
#define FF_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ff_err.h"
#include "evlog/ff_evlog.h"
#include "store/ff_table.h"

#define FF_STORE_MAX_LEVEL 9
#define FF_STORE_MAX_BATCH_DAYS 64 /* a batch touching more days seals early */

typedef struct ff_store ff_store;

typedef struct ff_store_opts {
    const char *dir;           /* DATA/store; created if missing */
    ff_evlog *log;             /* borrowed */
    uint32_t seal_interval_ms; /* 0 = 1000 */
    uint64_t seal_max_rows;    /* 0 = 200000; at most two batches of this many rows in memory
                                  (the one read and the one being sealed) */
    int64_t dedupe_window_ms;  /* 0 = 24 h; < 0 = no dedupe */
    uint64_t dedupe_max_ids;   /* 0 = 2 Mi */
    uint32_t merge_fanin;      /* merge when a day has more parts of one level; 0 = 8 */
    uint64_t merge_max_rows;   /* largest merge output; 0 = 2 Mi (the writer holds it all:
                                  ~150-300 bytes/row, so ~0.5 GB at the default) */
    bool no_merge;             /* tests */
    uint32_t keep_days;        /* retention run by the consumer (<= 1/min); 0 = keep */
    bool no_sync;              /* skip fsyncs: survives kill -9, not power loss (tests) */
    /* Open for queries only, beside a running writer (`footfall query` while a server runs):
     * no lock, nothing deleted or written; parts at or past SEALED and merge leftovers are
     * skipped instead of deleted; log may be NULL; poll/start/flush/merge/retain give
     * FF_EINVAL. The snapshot is the folder as of open. */
    bool read_only;
    /* Tests: called on the seal thread before each part of a batch is written (day, the
     * part's log range); it may block (a slow seal), and a return other than FF_OK fails the
     * seal as a write error would. NULL otherwise. */
    ff_rc (*test_seal_hook)(void *arg, int32_t day, uint64_t first, uint64_t last);
    void *test_seal_arg;
} ff_store_opts;

typedef struct ff_store_stats {
    uint64_t rows;            /* rows in live parts */
    uint64_t parts;           /* live parts */
    uint64_t bytes;           /* file bytes of live parts */
    uint64_t resume_offset;   /* SEALED: first log offset not yet in parts */
    uint64_t consumed_offset; /* first log offset not yet read (>= resume_offset) */
    uint64_t lag;             /* log durable offset - consumed_offset */
    uint64_t duplicates;      /* rows dropped as duplicates since open */
    uint64_t rejected;        /* records that could not become rows since open */
    uint64_t dedupe_evicted;  /* ids evicted early because the set was full */
    uint64_t dedupe_ids;      /* ids currently in the dedupe set */
    uint64_t seals;
    uint64_t seal_ns_total; /* time the seal thread spent sealing (write, fsync, publish) */
    uint64_t seal_ns_max;
    uint64_t seal_wait_ns_total; /* time poll (the consumer's read loop) stopped reading to wait
                                    for a seal in flight before handing over its batch; waits in
                                    flush, stop, retain and retention are not counted */
    uint64_t seal_wait_ns_max;
    uint64_t sealed_rows;
    uint64_t merges;
    uint64_t merged_rows;     /* rows rewritten by merges (write amplification) */
    uint64_t cleaned_at_open; /* temp files and leftover parts deleted at open */
    bool failed;
} ff_store_stats;

/* ---- lifecycle --------------------------------------------------------------------------- */

/* Recover the folder (see DESIGN: delete *.tmp, parts past SEALED and merge leftovers), open
 * every part, rebuild the dedupe set. FF_ECORRUPT for a part that does not open or ranges
 * that overlap other than as merge leftovers. */
ff_rc ff_store_open(const ff_store_opts *opts, ff_store **out, ff_err *err);
/* Stops the thread if running (it seals what is pending), waits for the seal in flight, drops
 * rows read by poll and not handed over (they are re-read at the next open) and closes every
 * part. NULL is a no-op. */
void ff_store_close(ff_store *s);

/* Run the consumer in a thread of the store's own. */
ff_rc ff_store_start(ff_store *s, ff_err *err);
/* Stop the thread (pending rows are sealed first; after an error it still waits for the seal in
 * flight). Returns the thread's sticky error. */
ff_rc ff_store_stop(ff_store *s, ff_err *err);

/* ---- operations -------------------------------------------------------------------------- */

/* One consumer step in the caller's thread: read up to max_records durable records (0 = until
 * the durable tail), hand the batch to the seal thread when seal_interval_ms passed or
 * seal_max_rows are pending (first waiting for the seal in flight, if any), then at most one
 * merge. Returns before the seal is done (flush waits for it); a
 * seal's failure is returned by a later poll or flush, as FF_EFAILED with the seal's error in
 * the message. *n_read_out (may be NULL) gets the records read. */
ff_rc ff_store_poll(ff_store *s, uint64_t max_records, uint64_t *n_read_out, ff_err *err);
/* Seal whatever was read, and wait until it and the seal in flight are done: on FF_OK every
 * record read so far is below SEALED and its row in a live part. On a failed store (or when a
 * seal fails) FF_EFAILED, returned only after the seal in flight is done: no seal is writing
 * when flush returns. */
ff_rc ff_store_flush(ff_store *s, ff_err *err);
/* Merge until no day has more than merge_fanin parts of one level. */
ff_rc ff_store_merge_all(ff_store *s, ff_err *err);
/* Drop day folders with day < today(now_ms) - keep_days (keep_days 0: nothing). now_ms 0 =
 * the clock. *n_days_out (may be NULL) gets the folders dropped. */
ff_rc ff_store_retain(ff_store *s, uint32_t keep_days, int64_t now_ms, uint32_t *n_days_out,
                      ff_err *err);

/* Fill out with every live part (refcounted). Never fails for lack of parts (n_parts may be
 * 0); FF_ENOMEM only. */
ff_rc ff_store_snapshot_acquire(ff_store *s, ff_table_snapshot *out, ff_err *err);
void ff_store_snapshot_release(ff_store *s, ff_table_snapshot *snap); /* zeroes snap */

/* ---- introspection ----------------------------------------------------------------------- */

void ff_store_stats_get(ff_store *s, ff_store_stats *out);
/* Durable log records the consumer has not read yet (its backlog: what new events wait behind
 * before they can be sealed). Cheap (two atomic loads): the server asks it per ingest request
 * for back-pressure. Any thread. */
uint64_t ff_store_backlog(ff_store *s);

/* Offline check of a store folder (for `footfall store verify`): every part passes
 * ff_part_verify, its name matches its footer (range, level format) and its folder its
 * partition day, ranges within a day are disjoint and none reaches SEALED. Reports the first
 * problem as FF_ECORRUPT. Counts may be NULL. Does not modify anything. */
ff_rc ff_store_verify(const char *dir, uint64_t *n_parts_out, uint64_t *n_rows_out, ff_err *err);

/* Offline upgrade (for `footfall store rewrite`): every live part written in an older format
 * version is rewritten with this release's writer (the same rows, block size, log range and
 * day; new encodings such as postings) and atomically replaces the old file under its name.
 * Takes the folder's writer lock (FF_ELOCKED while a server runs on it). A crash leaves each
 * part old or new (leftover *.tmp files are deleted at the next open). Counts may be NULL. */
ff_rc ff_store_rewrite(const char *dir, bool no_sync, uint64_t *n_parts_out,
                       uint64_t *n_rewritten_out, ff_err *err);

#endif /* FF_STORE_H */
