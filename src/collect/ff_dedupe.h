/* ff_dedupe.h -- the collector's event_id window (internal to src/collect).
 *
 * WHAT: remembers the event ids accepted in the last window_ms (at most
 * capacity of them) so a retried or replayed batch is not stored twice,
 * with a two-phase reserve / commit-or-release protocol so a failed append
 * never turns the client's retry into a "duplicate" (see ff_collect.h).
 *
 * DESIGN: ids are hashed (keyed 64-bit hash, ff_collect_hash64) and kept in
 * 64 shards, each a mutex, a linear-probing table with backward-shift
 * deletion (no tombstones) and a ring of keys in insertion order. The ring
 * gives eviction order: when a shard is full its oldest entry goes, and
 * entries older than the window are expired from the ring head as new ones
 * come in (and ignored on lookup). Each entry records the ring position it
 * was inserted at, so a stale ring slot (an entry released or re-inserted
 * since) never evicts the wrong entry. Memory: about 48 bytes per id of
 * capacity (24-byte entries at <= 75% load + a 16-byte ring slot that also
 * holds the entry's time, so expiry needs no table lookup), allocated up front.
 *
 *   absent ──reserve(owner)──▶ PENDING(owner) ──commit──▶ STORED ──expire/evict──▶ absent
 *                                   │
 *                                   └──release──▶ absent
 *
 * INVARIANTS:
 *  (1) A shard never holds more than its capacity; the ring holds every
 *      live entry's key at the position the entry records.
 *  (2) commit/release only touch the entry their reservation created
 *      (same key, same position); an evicted reservation is a no-op.
 *  (3) Waiters for a PENDING entry are woken by commit, release or eviction.
 *  (4) A waiter's owner is younger than the owner it waits for (no cycles).
 *
 * THREADING: all calls are thread-safe. OWNERSHIP: new returns an owned
 * handle; free must not race with anything.
 */
#ifndef FF_DEDUPE_H
#define FF_DEDUPE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct ff_dedupe ff_dedupe;

typedef enum ff_dedupe_rc {
    FF_DEDUPE_NEW,      /* reserved for the caller: commit or release it */
    FF_DEDUPE_DUP,      /* already stored, or reserved by the same owner */
    FF_DEDUPE_CONFLICT, /* as DUP, but the payload hash differs */
    FF_DEDUPE_PENDING,  /* reserved by another owner whose append is in flight */
    FF_DEDUPE_TIMEOUT,  /* reserve_wait gave up waiting on another owner */
} ff_dedupe_rc;

/* A reservation handle: what commit/release need. */
typedef struct ff_dedupe_resv {
    uint64_t key;
    uint32_t pos;
} ff_dedupe_resv;

typedef struct ff_dedupe_stats {
    uint64_t entries;
    uint64_t capacity;
    uint64_t evictions; /* live entries pushed out by capacity */
    uint64_t expired;   /* entries that left by age */
} ff_dedupe_stats;

ff_dedupe *ff_dedupe_new(uint32_t capacity, int64_t window_ms);
void ff_dedupe_free(ff_dedupe *d);

/* phash 0 = unknown (never a conflict). owner != 0 identifies the request. */
ff_dedupe_rc ff_dedupe_reserve(ff_dedupe *d, uint64_t key, uint32_t phash, int64_t now_ms,
                               uint32_t owner, ff_dedupe_resv *resv);
/* As reserve, but while the id is PENDING under an older owner (a smaller
 * owner number, compared wrap-safe), wait for its outcome until deadline
 * (CLOCK_MONOTONIC ns; FF_DEDUPE_TIMEOUT then). An id pending under a younger
 * owner returns FF_DEDUPE_PENDING at once: requests only ever wait for older
 * ones, so two requests holding each other's ids cannot deadlock. */
ff_dedupe_rc ff_dedupe_reserve_wait(ff_dedupe *d, uint64_t key, uint32_t phash, int64_t now_ms,
                                    uint32_t owner, uint64_t deadline_mono_ns,
                                    ff_dedupe_resv *resv);
/* A hint: start loading the table slot key would use (no lock, no effect on
 * state). Call it early, reserve later: the cache miss then overlaps other work. */
void ff_dedupe_prefetch(const ff_dedupe *d, uint64_t key);
void ff_dedupe_commit(ff_dedupe *d, const ff_dedupe_resv *resv, uint32_t owner);
void ff_dedupe_release(ff_dedupe *d, const ff_dedupe_resv *resv, uint32_t owner);
/* Insert a STORED entry (start-up refill from the log); ts_ms = its received_at. */
void ff_dedupe_seed(ff_dedupe *d, uint64_t key, int64_t ts_ms, int64_t now_ms);

void ff_dedupe_stats_get(ff_dedupe *d, ff_dedupe_stats *out);

#endif /* FF_DEDUPE_H */
