/* ff_window.h -- tumbling event-time windows of live metrics (per second, per minute).
 *
 * WHAT: one ff_win holds every live metric of one window [t, t + size): events by type and
 * name, sessions started, orders and revenue by currency, cart sessions and conversions,
 * checkouts, payment outcomes by method and currency. An ff_win_ring keeps the newest N
 * windows of one size; ff_names interns the few strings the windows break down by (event
 * names, currencies, payment methods) into small indexes.
 *
 * DESIGN:
 *  - A window is a fixed-size struct of counters indexed by interned name, so adding an event
 *    is a few increments and no allocation, a window serialises as plain integers, and two
 *    windows add up field by field (ff_win_add; used for the `summary`).
 *  - Name tables are bounded (FF_WIN_NAMES event names, FF_WIN_KEYS currencies and methods);
 *    later distinct names count under the overflow index, shown as "$other". Tables only
 *    grow (an index never changes meaning), so they are checkpointed with the windows.
 *  - Ring slot of a window = (t / size) mod N. A slot holding an older window is recycled for
 *    a newer one; a slot holding a newer window refuses the older one (it is beyond the ring:
 *    the caller counts it elsewhere). The processor closes minutes before they can be
 *    recycled (see ff_stream.h, "Event time").
 *  - Change tracking for SSE deltas: every change stamps the window with the current
 *    publication generation (dirty_gen); a delta carries windows stamped with the generation
 *    being published.
 *
 * INVARIANTS: (1) a non-empty slot's t is aligned to size and (t / size) mod N is its index;
 * (2) by_event/orders_cur/... indexes are < their table's max + 1.
 *
 * THREADING: none (the processor's lock covers it). OWNERSHIP: ff_names owns its strings.
 */
#ifndef FF_WINDOW_H
#define FF_WINDOW_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ff_buf.h"
#include "core/ff_err.h"
#include "stream/ff_stream_int.h"

#define FF_WIN_NAMES 64 /* distinct event names per processor */
#define FF_WIN_KEYS 16  /* distinct currencies, payment methods */
#define FF_WIN_TYPES 7  /* track page screen identify group alias, other */
#define FF_WIN_EMPTY INT64_MIN

typedef struct ff_names {
    ff_smap map; /* name -> index */
    char *name[FF_WIN_NAMES];
    uint32_t n, max;
} ff_names;

void ff_names_init(ff_names *t, uint32_t max); /* max <= FF_WIN_NAMES */
void ff_names_fini(ff_names *t);
/* Index of name (interned on first sight); max = the overflow ("$other") index. */
uint32_t ff_names_get(ff_names *t, const char *s, size_t len);
const char *ff_names_name(const ff_names *t, uint32_t i); /* "$other" for the overflow */
ff_rc ff_names_save(const ff_names *t, ff_buf *b);
ff_rc ff_names_load(ff_names *t, ff_deser *d);

typedef struct ff_win {
    int64_t t; /* FF_WIN_EMPTY for an unused slot */
    uint64_t dirty_gen;
    uint32_t final;
    uint64_t events;
    uint32_t by_type[FF_WIN_TYPES];
    uint32_t by_event[FF_WIN_NAMES + 1];
    uint32_t sessions_started, orders, cart_sessions, converted, checkouts_started;
    uint32_t pay_ok, pay_fail;
    uint32_t orders_cur[FF_WIN_KEYS + 1];
    int64_t revenue_cur[FF_WIN_KEYS + 1]; /* decimal units (10^-4) */
    uint32_t pay_cur[FF_WIN_KEYS + 1][2]; /* [ok, fail] */
    uint32_t pay_meth[FF_WIN_KEYS + 1][2];
} ff_win;

typedef struct ff_win_tables {
    ff_names events, currencies, methods;
} ff_win_tables;

void ff_win_clear(ff_win *w, int64_t t);
void ff_win_add(ff_win *dst, const ff_win *src);
/* Index of a type name ("track", ...) in by_type. */
uint32_t ff_win_type_index(const char *s, size_t len);
/* The name of a by_type index ("$other" for the last). */
const char *ff_win_type_name(uint32_t i);
/* The window as the JSON object of docs/api.md ("Window object"). */
ff_rc ff_win_json(ff_buf *b, const ff_win *w, const ff_win_tables *tb);

typedef struct ff_win_ring {
    ff_win *slot;
    uint32_t n;
    int64_t size_ms;
} ff_win_ring;

ff_rc ff_win_ring_init(ff_win_ring *r, uint32_t n, int64_t size_ms);
void ff_win_ring_fini(ff_win_ring *r);
static inline int64_t ff_win_align(int64_t ts, int64_t size_ms)
{
    int64_t q = ts / size_ms;
    if (ts < 0 && q * size_ms != ts)
        q--;
    return q * size_ms;
}
/* The window holding ts: existing, or (create) a recycled slot; NULL when the slot holds a
 * newer window (ts is beyond the ring) or !create and it is absent. */
ff_win *ff_win_ring_at(ff_win_ring *r, int64_t ts, bool create);
ff_rc ff_win_ring_save(const ff_win_ring *r, ff_buf *b);
ff_rc ff_win_ring_load(ff_win_ring *r, ff_deser *d);

#endif /* FF_WINDOW_H */
