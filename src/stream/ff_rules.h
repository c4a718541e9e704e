/* ff_rules.h -- risk rules: sliding event-time windows per key, firing and resolving alerts.
 *
 * WHAT: a set of rules, each "NAME: SPEC" (config key `rule`, repeatable; see
 * docs/operations.md, "Alert rules"). SPEC is space-separated terms:
 *     event=NAME[|NAME...]      only these canonical events (default: every event)
 *     COLUMN=VALUE[|VALUE...]   only events whose string column has one of these values
 *     by=FIELD[,FIELD...]       the key (user_id, anonymous_id, ip, session_id, product_id,
 *                               any string column, or properties.NAME); events with an empty
 *                               key are skipped
 *     count>=N | sum(F)>=N | max(F)>=N | distinct(F)>=N      (also '>'); F numeric for
 *                               sum/max (quantity, price, revenue), any field for distinct
 *     window=D                  sliding event-time window: 500ms, 10s, 10m, 1h, 1d
 *     severity=warning|critical (default warning)
 * and "NAME: off" switches a shipped default off. A rule whose name is a default's replaces it.
 * Defaults (ff_rules_defaults): payment_failures_per_user, payment_failures_per_card,
 * cart_hoarding, inhuman_speed_user, inhuman_speed_ip, many_users_per_device.
 *
 * DESIGN:
 *  - Per rule, a hash table of keys; per key a time-sorted list of entries (ts, value, hash)
 *    inside the window. count/distinct keep at most FF_RULES_MAX_ENTRIES entries (thresholds
 *    above that are rejected, so the decision stays exact); sum/max merge the two oldest
 *    entries when full (the merged entry expires with the newer one: conservative).
 *  - Memory is bounded: at most max_keys keys over all rules. Keys are on an LRU list; at each
 *    advance the idle keys (every entry older than the window, not firing) are freed, and at
 *    the cap the least recently used key is evicted (a firing one is resolved first).
 *  - A key fires when its aggregate meets the threshold (at the event's ts) and resolves when
 *    the watermark has moved far enough that it no longer does. Repeat FIRING calls carry the
 *    new value; ff_alerts applies cooldown.
 *
 * THREADING: one thread (the processor) per ff_rules; ff_rules_json is safe once built.
 * OWNERSHIP: ff_rules owns its copies of the cfg strings.
 */
#ifndef FF_RULES_H
#define FF_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alert/ff_alert.h"
#include "core/ff_buf.h"
#include "core/ff_err.h"
#include "store/ff_schema.h"

#define FF_RULES_MAX_ENTRIES 8192 /* per key */
#define FF_RULES_MAX_RULES 64
#define FF_RULES_MAX_TEXT 1024 /* one rule line */

typedef struct ff_rules_cfg {
    const char *const *rules; /* "NAME: SPEC" lines, may be NULL */
    size_t n_rules;
    bool no_defaults; /* true: only the given rules */
    size_t max_keys;  /* keys over all rules; 0 = default 100000 */
} ff_rules_cfg;

typedef struct ff_rules ff_rules;

/* The shipped default rule lines (NULL-terminated). */
const char *const *ff_rules_defaults(void);

/* Check one rule line; FF_EBADINPUT with a message naming the problem. (Fuzz target.) */
ff_rc ff_rules_check(const char *line, size_t len, ff_err *err);

ff_rc ff_rules_new(const ff_rules_cfg *cfg, ff_rules **out, ff_err *err); /* cfg from config */
void ff_rules_free(ff_rules *r);
/* one event (row built with ff_row_from_record), in processing order; time = row ts */
void ff_rules_on_event(ff_rules *r, const ff_row *row, ff_alert_sink_fn sink, void *ctx);
/* event-time watermark moved: expire windows, resolve alerts whose condition ended */
void ff_rules_advance(ff_rules *r, int64_t watermark_ms, ff_alert_sink_fn sink, void *ctx);
ff_rc ff_rules_save(const ff_rules *r, ff_buf *out, ff_err *err); /* for the checkpoint */
ff_rc ff_rules_load(ff_rules *r, const void *p, size_t n, ff_err *err);

/* The rules in force as a JSON array of {"name","spec","severity",...}. */
ff_rc ff_rules_json(const ff_rules *r, ff_buf *out, ff_err *err);
/* Number of keys held (all rules). */
size_t ff_rules_keys(const ff_rules *r);

#endif /* FF_RULES_H */
