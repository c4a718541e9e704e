/* ff_alert.h -- alert state, cooldown, history and webhook delivery.
 *
 * WHAT: the sink that rules (stream/ff_rules) and the anomaly detector (stream/ff_anomaly)
 * report to. It keeps the alerts that are firing and a bounded history of resolved ones
 * (persisted in DIR, normally DATA/alerts/, so a restart keeps them), applies a cooldown so one
 * incident is one alert, and delivers every new firing/resolution to the configured webhooks
 * on its own thread (libcurl), with retries, exponential backoff with jitter, and a dead-letter
 * file (DIR/dead-letter.ndjson) for what could not be delivered after max_attempts tries.
 *
 * DESIGN:
 *  - An alert is identified by (rule, key). FIRING for an identity that is already firing only
 *    updates its value/evidence (no new delivery). RESOLVED closes it and delivers once. A
 *    FIRING that comes within cooldown_ms (event time) of that identity's last resolution
 *    re-opens the same incident silently (no delivery), so a flapping condition is one alert.
 *  - State file DIR/alerts.json is rewritten atomically (tmp + rename) after every change.
 *  - Webhook body (format "json"): {"alert": {...the alert as in GET /v1/alerts...}}.
 *    Format "slack" (per URL with the prefix "slack+", e.g. slack+https://hooks.slack.com/...,
 *    or for all with webhook_format = "slack"): {"text": "<one line>"}. A 2xx answer is a
 *    success; anything else (or no answer within timeout_ms) is retried after
 *    min(backoff_max_ms, backoff_base_ms * 2^(attempt-1)) * (0.5 + random[0, 0.5]).
 *  - The delivery queue is bounded (queue_max); when full the oldest delivery goes to the
 *    dead-letter file (counted as dropped).
 *
 * INVARIANTS: at most one open (firing) alert per (rule, key); history <= history_max;
 *  every queued delivery ends as exactly one of delivered | dead-lettered.
 *
 * THREADING: ff_alerts_sink, ff_alerts_json, ff_alerts_metrics and ff_alerts_set_rules_json
 *  are thread-safe (one mutex). Delivery runs on one internal thread; the sink never blocks
 *  on the network. OWNERSHIP: strings in ff_alert_fire are borrowed for the call only; opts
 *  strings are copied at open.
 */
#ifndef FF_ALERT_H
#define FF_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ff_buf.h"
#include "core/ff_err.h"

typedef enum ff_alert_state { FF_ALERT_FIRING = 1, FF_ALERT_RESOLVED = 2 } ff_alert_state;

typedef struct ff_alert_fire {
    const char *rule; /* rule or detector name, e.g. "payment_failures_per_user",
                         "anomaly:payment_failure_rate" */
    const char *key;  /* what it is about: a user id, ip hash, card fingerprint,
                         "global" for metric anomalies */
    ff_alert_state state;
    int64_t at_ms;             /* event time (watermark) when it fired/resolved */
    double value, threshold;   /* observed vs limit/baseline */
    const char *severity;      /* "warning" | "critical" */
    const char *summary;       /* one human line */
    const char *evidence_json; /* a compact JSON object (counts, window, sample event ids) */
} ff_alert_fire;               /* all strings borrowed for the call only */

typedef void (*ff_alert_sink_fn)(void *ctx, const ff_alert_fire *f);

typedef struct ff_alerts_opts {
    const char *dir;             /* DATA/alerts; created if missing; NULL = no persistence */
    const char *const *webhooks; /* URLs ("slack+" prefix = Slack format); may be NULL */
    size_t n_webhooks;
    const char *webhook_format; /* "json" (default) | "slack" */
    int64_t cooldown_ms;        /* 0 = default 15 min; < 0 = no cooldown */
    size_t history_max;         /* resolved alerts kept; 0 = default 1000 */
    int max_attempts;           /* per delivery; 0 = default 6 */
    int64_t backoff_base_ms;    /* 0 = default 1000 */
    int64_t backoff_max_ms;     /* 0 = default 300000 */
    int64_t timeout_ms;         /* per HTTP request; 0 = default 10000 */
    size_t queue_max;           /* pending deliveries; 0 = default 10000 */
    uint64_t seed;              /* jitter seed; 0 = from the clock */
} ff_alerts_opts;

/* Delivery counters (monotonic since open). */
typedef struct ff_alerts_stats {
    uint64_t fired, resolved, suppressed; /* suppressed = repeats/cooldown merges */
    uint64_t firing_now;
    uint64_t deliveries_ok, delivery_attempts, delivery_failures, dead_lettered, queue_len;
} ff_alerts_stats;

typedef struct ff_alerts ff_alerts;

ff_rc ff_alerts_open(const ff_alerts_opts *o, ff_alerts **out, ff_err *err);
void ff_alerts_close(ff_alerts *a); /* stops delivery thread (pending ones stay dead-lettered
                                       only if they could not be sent before close) */
/* An ff_alert_sink_fn (alerts is an ff_alerts*); thread-safe; applies cooldown (one incident =
 * one alert) and queues webhook deliveries; never blocks on the network. */
void ff_alerts_sink(void *alerts, const ff_alert_fire *f);
/* Body of GET /v1/alerts: {"firing":[...],"resolved":[...],<members of the in-force JSON>,
 * "cooldown_s":N,"delivery":{...counters}}. Newest first. */
ff_rc ff_alerts_json(ff_alerts *a, ff_buf *out, ff_err *err);
/* What is in force, as a JSON object whose members ff_alerts_json adds to its answer, e.g.
 * {"rules":[...ff_rules_json...],"anomaly":{...}}. Default {"rules":[]}. */
ff_rc ff_alerts_set_rules_json(ff_alerts *a, const char *json, ff_err *err);
/* Prometheus text lines (footfall_alerts_*) for /metrics. */
ff_rc ff_alerts_metrics(ff_alerts *a, ff_buf *out);
void ff_alerts_stats_get(ff_alerts *a, ff_alerts_stats *out);
/* Wait until the delivery queue is empty or timeout_ms passed; true when empty (tests). */
bool ff_alerts_flush(ff_alerts *a, int64_t timeout_ms);

#endif /* FF_ALERT_H */
