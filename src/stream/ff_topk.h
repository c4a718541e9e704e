/* ff_topk.h -- bounded-memory heavy hitters (Space-Saving), in two event-time epochs.
 *
 * WHAT: the live "top pages / products / search terms". An ff_topk counts keys with at most
 * `m` counters per epoch and reports the k largest with an error bound.
 *
 * DESIGN (Metwally, Agrawal, El Abbadi, "Efficient computation of frequent and top-k
 * elements in data streams", 2005):
 *  - A sketch has m counters (key, count, error). A key already held gets count + 1. A new
 *    key takes a free counter (count 1, error 0) or, when all are taken, replaces the counter
 *    with the smallest count c_min: count = c_min + 1, error = c_min.
 *  - Guarantee for a sketch that saw N increments: for every held key,
 *    count - error <= true count <= count, and error <= c_min <= N / m. Every key whose true
 *    count exceeds N / m is held. So with m = 100 counters and 1,000,000 page views in an
 *    epoch, a reported count is at most 10,000 too high, and the reported `error` is a per-key
 *    bound that is usually far smaller on skewed (Zipf-like) traffic.
 *  - Windows: event time is cut into epochs of epoch_ms (15 min). The structure keeps the
 *    current and the previous epoch's sketch; a report merges both (the window is therefore
 *    the last 15 to 30 minutes). Merge: count = sum of the key's counts in the sketches
 *    holding it; error = the sum of their errors plus, for each full sketch that does not
 *    hold the key, that sketch's c_min (its possible uncounted occurrences). An event older
 *    than the previous epoch is not counted.
 *  - Keys are capped at FF_TOPK_KEY_MAX bytes (longer ones are cut). Lookup is a scan of the
 *    m 64-bit hashes (m is small: 100 by default, a cache line per 8 keys).
 *
 * INVARIANTS: (1) n_used <= m; (2) count >= error for every counter; (3) cur.epoch > prev.epoch.
 *
 * THREADING: none. OWNERSHIP: keys are copied into the sketch.
 */
#ifndef FF_TOPK_H
#define FF_TOPK_H

#include <stdint.h>

#include "core/ff_buf.h"
#include "core/ff_err.h"
#include "stream/ff_stream_int.h"

#define FF_TOPK_KEY_MAX 200
#define FF_TOPK_MAX_COUNTERS 1024

typedef struct ff_topk_ctr {
    uint64_t hash;
    uint64_t count, error;
    char key[FF_TOPK_KEY_MAX + 1];
} ff_topk_ctr;

typedef struct ff_topk_sketch {
    int64_t epoch; /* epoch number (ts / epoch_ms); INT64_MIN = unused */
    uint32_t n_used;
    uint64_t n_total; /* increments seen */
    ff_topk_ctr *ctr;
} ff_topk_sketch;

typedef struct ff_topk {
    uint32_t m;
    int64_t epoch_ms;
    ff_topk_sketch cur, prev;
} ff_topk;

typedef struct ff_topk_item {
    const char *key; /* borrowed from the ff_topk until its next change */
    uint64_t count, error;
} ff_topk_item;

ff_rc ff_topk_init(ff_topk *t, uint32_t m, int64_t epoch_ms);
void ff_topk_fini(ff_topk *t);
/* Count one occurrence of key at event time ts. */
void ff_topk_add(ff_topk *t, const char *key, size_t len, int64_t ts);
/* The merged top k (k <= m) of both epochs, largest count first (ties: key order); returns
 * how many were written to out. */
uint32_t ff_topk_top(const ff_topk *t, uint32_t k, ff_topk_item *out);
/* [{"key":..,"count":n,"error":e},...] */
ff_rc ff_topk_json(const ff_topk *t, uint32_t k, ff_buf *b);
ff_rc ff_topk_save(const ff_topk *t, ff_buf *b);
ff_rc ff_topk_load(ff_topk *t, ff_deser *d);

#endif /* FF_TOPK_H */
