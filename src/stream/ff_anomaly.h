/* ff_anomaly.h -- robust per-minute baselines of business metrics, and alerts on departures.
 *
 * WHAT: the processor reports every closed event-time minute of each business metric
 * ("events", "payment_failure_rate", "cart_conversion", "revenue"); each metric keeps a
 * baseline and fires "anomaly:<metric>" (key "global") when a minute departs from it in the
 * metric's bad direction, and resolves when minutes are back to normal.
 *
 * DESIGN (docs/architecture.md, "Anomaly detection"):
 *  - level = EWMA of the value (weight alpha), dev = EWMA of |value - level| (a mean absolute
 *    deviation, the robust stand-in for a standard deviation; sigma ~= 1.25 * dev).
 *  - score = (value - expected) / scale, scale = max(1.25*dev, binomial noise
 *    sqrt(p(1-p)/weight) for rates, rel_floor * |expected|, abs floor).
 *  - A minute updates the baseline with the value clamped to expected +- threshold*scale, so
 *    one spike cannot drag the baseline along (Huber-style).
 *  - No decisions during the warm-up (warmup_minutes observations). Rates whose weight is below
 *    min_weight are neither scored nor learned.
 *  - Seasonality: each metric also keeps 168 hour-of-week baselines; once a week of history
 *    exists and the slot has seen season_min_obs minutes, expected/scale come from the slot.
 *  - Fire after fire_minutes consecutive minutes with score beyond threshold (in the bad
 *    direction); resolve after resolve_minutes consecutive minutes within resolve_threshold.
 *
 * THREADING: one thread (the processor). OWNERSHIP: nothing borrowed after a call.
 */
#ifndef FF_ANOMALY_H
#define FF_ANOMALY_H

#include <stddef.h>
#include <stdint.h>

#include "alert/ff_alert.h"
#include "core/ff_buf.h"
#include "core/ff_err.h"

typedef struct ff_anomaly_opts {
    double alpha;             /* EWMA weight of one minute; 0 = default 0.05 */
    int warmup_minutes;       /* observations before any decision; 0 = default 30 */
    double threshold;         /* robust z to count a minute as anomalous; 0 = default 6 */
    double resolve_threshold; /* |z| under this counts as normal; 0 = default 3 */
    int fire_minutes;         /* consecutive anomalous minutes to fire; 0 = default 1 */
    int resolve_minutes;      /* consecutive normal minutes to resolve; 0 = default 3 */
    double min_weight;        /* rates: minimum denominator; 0 = default 20 */
    double rel_floor;         /* scale >= rel_floor * |expected|; 0 = default 0.05 */
    int season_min_obs;       /* per hour-of-week slot; 0 = default 30 */
} ff_anomaly_opts;

typedef struct ff_anomaly ff_anomaly;

ff_rc ff_anomaly_new(const ff_anomaly_opts *o, ff_anomaly **out, ff_err *err);
void ff_anomaly_free(ff_anomaly *a);
/* One closed event-time minute of one business metric. metric is one of
 * "events", "payment_failure_rate", "cart_conversion", "revenue". weight = the denominator
 * behind a rate (payment attempts, sessions with a cart), 0 for plain values; detectors
 * ignore rates with too small a weight. Unknown metrics are ignored. */
void ff_anomaly_observe(ff_anomaly *a, const char *metric, int64_t minute_start_ms, double value,
                        double weight, ff_alert_sink_fn sink, void *ctx);
ff_rc ff_anomaly_save(const ff_anomaly *a, ff_buf *out, ff_err *err);
ff_rc ff_anomaly_load(ff_anomaly *a, const void *p, size_t n, ff_err *err);
/* The detector parameters in force as a JSON object (for GET /v1/alerts); no live state, so
 * any thread may call it. */
ff_rc ff_anomaly_json(const ff_anomaly *a, ff_buf *out, ff_err *err);

#endif /* FF_ANOMALY_H */
