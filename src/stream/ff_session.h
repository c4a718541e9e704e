/* ff_session.h -- sessions per person, identity stitching, cart abandonment, active users.
 *
 * WHAT: the per-person state of the stream processor. Events (already deduped, non-derived,
 * not too late) come in processing order; the module keeps one open session per person,
 * links anonymous ids to user ids, tells the processor about facts that land in windows
 * (a session started, a session's first cart add, its first order after a cart add) and
 * asks it to emit derived events (session_ended, cart_abandoned, checkout_abandoned) when the
 * watermark passes their deadlines.
 *
 * DESIGN:
 *  - Person = user_id when the event has one, else the user id the anonymous_id was linked to,
 *    else the anonymous_id. An event carrying both ids (identify, login, or any later event)
 *    links anonymous_id -> user_id, and so does an alias event (previous_id -> user_id). At
 *    the first link of an anonymous id, its open session is re-keyed to the user (or merged
 *    into the user's open session: earliest start, latest end, counts added, entry page of the
 *    earlier one, exit page of the later one), and its active-user entry moves to the user.
 *    A link to a different user later (a shared device) re-points the anonymous id; sessions
 *    are not split. The link table is bounded (max_links); when full, new links are not
 *    recorded (counted).
 *  - A session ends when the watermark reaches last_ts + gap_ms (event time; default 30 min),
 *    or earlier when an event of the same person arrives with ts >= last_ts + gap_ms (out of
 *    order: the old session ends, a new one starts). Its session_ended event has ts = last_ts.
 *  - Cart episodes: product_added adds quantity (default 1) to the cart, product_removed takes
 *    it off (not below 0). With items in the cart and no checkout_started, cart_abandoned
 *    fires when the watermark reaches cart_last_ts + abandon_ms, or at session end (ts =
 *    whichever deadline came first). After checkout_started with no order_completed,
 *    checkout_abandoned fires at max(checkout_ts, cart_last_ts) + abandon_ms, or at session end.
 *    Each fires at most once per episode; order_completed closes the episode (cart emptied,
 *    conversion recorded); a product_added after an abandonment opens a new episode. Derived
 *    ids are a hash of (kind, session id, episode start), so a replay recreates the same ids.
 *  - Deadlines: one binary min-heap entry per session keyed by (next deadline, person), fixed
 *    up in place after every event (O(log n)); advance pops what the watermark has passed.
 *    The tie-break on person makes the order of derived events a function of the input alone
 *    (also after a checkpoint restore, which rebuilds the heap).
 *  - Active users: person -> last seen ts (event time), and a ring of FF_SESS_ACT_SECS
 *    one-second buckets counting persons by the second of their last seen; active in the last
 *    N minutes = the sum of the newest N*60 buckets (exact at one-second resolution). Persons
 *    not seen for FF_SESS_ACT_SECS seconds are swept once a minute (event time).
 *  - Memory: a session is ~250 bytes + its strings, a person entry ~60 bytes, a link ~100
 *    bytes (see docs/benchmarks.md). max_sessions / max_users bound the tables; beyond them new
 *    persons are not tracked (counted in stats), never a crash.
 *
 * INVARIANTS: (1) every open session is in the heap exactly once and heap_idx is its index;
 * (2) hist[s mod N] counts the persons whose last seen second is s, for s in (top - N, top].
 *
 * THREADING: none (the processor's thread). OWNERSHIP: sessions own their strings; rows are
 * borrowed for the call.
 */
#ifndef FF_SESSION_H
#define FF_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ff_buf.h"
#include "core/ff_err.h"
#include "store/ff_schema.h"
#include "stream/ff_stream_int.h"

#define FF_SESS_ACT_SECS 1860 /* 31 minutes of one-second buckets */

typedef enum ff_sess_fact {
    FF_SESS_STARTED,   /* a session began (ts = its first event) */
    FF_SESS_CART,      /* a session's first cart add */
    FF_SESS_CONVERTED, /* a session's first order after a cart add */
} ff_sess_fact;

typedef enum ff_sess_derived {
    FF_SESS_ENDED,
    FF_SESS_CART_ABANDONED,
    FF_SESS_CHECKOUT_ABANDONED,
} ff_sess_derived;

typedef struct ff_sess {
    const char *person; /* borrowed: the key of the session table's entry */
    char *anon_id;      /* set only when it differs from person (a stitched user) */
    char *entry_page, *exit_page, *currency;
    char sid[37]; /* session id: uuid of (person at birth, first ts) */
    int64_t start_ts, last_ts, entry_ts, exit_ts;
    uint32_t events, pages, orders;
    int64_t revenue; /* decimal units, orders in `currency` only */
    int32_t cart_items;
    int64_t cart_start_ts, cart_last_ts, checkout_ts; /* 0 = none */
    uint8_t had_cart, converted, cart_fired, checkout_fired;
    uint8_t person_is_user; /* person is a user id (else an anonymous id) */
    int64_t deadline;
    size_t heap_idx;
} ff_sess;

/* The session's user id (NULL when anonymous) and anonymous id (NULL when unknown). */
static inline const char *ff_sess_user_id(const ff_sess *s)
{
    return s->person_is_user ? s->person : NULL;
}
static inline const char *ff_sess_anon_id(const ff_sess *s)
{
    return s->anon_id ? s->anon_id : (s->person_is_user ? NULL : s->person);
}

typedef struct ff_sess_hooks {
    void *ctx;
    void (*fact)(void *ctx, ff_sess_fact f, int64_t ts);
    /* s is valid for the call only; ts = the derived event's time; episode = its key part */
    void (*derived)(void *ctx, ff_sess_derived kind, const ff_sess *s, int64_t ts);
} ff_sess_hooks;

typedef struct ff_sessions_opts {
    int64_t gap_ms, abandon_ms;
    uint64_t max_sessions, max_users, max_links; /* 0 = 4 Mi each */
} ff_sessions_opts;

typedef struct ff_sessions_stats {
    uint64_t open, users, links;
    uint64_t dropped; /* persons not tracked because a table was full */
    uint64_t started, ended, stitched;
    size_t bytes; /* approximate heap bytes held */
} ff_sessions_stats;

typedef struct ff_sessions ff_sessions;

ff_rc ff_sessions_new(const ff_sessions_opts *o, ff_sessions **out, ff_err *err);
void ff_sessions_free(ff_sessions *ss);

/* One event, in processing order. FF_ENOMEM only (tables full are counted, not errors). */
ff_rc ff_sessions_on_event(ff_sessions *ss, const ff_row *row, const ff_sess_hooks *h);
/* The watermark moved to w: fire abandonments and end sessions whose deadline is <= w. */
void ff_sessions_advance(ff_sessions *ss, int64_t w, const ff_sess_hooks *h);
/* Distinct persons seen in (top second - minutes*60, top second]. */
uint64_t ff_sessions_active_users(const ff_sessions *ss, uint32_t minutes);
void ff_sessions_stats_get(const ff_sessions *ss, ff_sessions_stats *out);

ff_rc ff_sessions_save(const ff_sessions *ss, ff_buf *b);
ff_rc ff_sessions_load(ff_sessions *ss, ff_deser *d);

#endif /* FF_SESSION_H */
