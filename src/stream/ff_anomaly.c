/* ff_anomaly.c -- robust per-minute baselines and alerts. See ff_anomaly.h and
 * docs/architecture.md ("Anomaly detection"). */
#include "stream/ff_anomaly.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/ff_clock.h"
#include "core/ff_json.h"
#include "core/ff_log.h"
#include "core/ff_mem.h"

#define HOURS_PER_WEEK 168
#define WEEK_MS (7LL * 86400 * 1000)
#define SIGMA_PER_MAD 1.2533 /* sqrt(pi/2): sigma of a normal / its mean absolute deviation */
#define LEARN_WHILE_BAD                                                                            \
    0.1 /* alpha factor for anomalous minutes: a lasting shift is learned                          \
           slowly (hours), so an outage stays an alert while it lasts */

typedef enum dir { DIR_BOTH = 0, DIR_UP = 1, DIR_DOWN = 2 } dir;
typedef enum noise { NOISE_NONE = 0, NOISE_BINOMIAL, NOISE_POISSON } noise;

static const struct metric_def {
    const char *name;
    dir d;
    noise nz;
    bool rate;
    const char *severity;
} k_metrics[] = {
    {"events", DIR_BOTH, NOISE_POISSON, false, "warning"},
    {"payment_failure_rate", DIR_UP, NOISE_BINOMIAL, true, "critical"},
    {"cart_conversion", DIR_DOWN, NOISE_BINOMIAL, true, "warning"},
    {"revenue", DIR_DOWN, NOISE_NONE, false, "warning"},
};
#define N_METRICS (sizeof k_metrics / sizeof k_metrics[0])

typedef struct base {
    double level, dev;
    uint32_t n;
} base;

/* Plain old data: saved byte for byte in checkpoints. */
typedef struct mstate {
    base global;
    base season[HOURS_PER_WEEK];
    int64_t first_minute, last_minute;
    int32_t consec_bad, consec_good;
    int32_t firing;
    int32_t pad;
    int64_t fired_at;
    double fired_value, fired_expected;
} mstate;

struct ff_anomaly {
    ff_anomaly_opts o;
    mstate m[N_METRICS];
};

static void set_defaults(ff_anomaly_opts *o)
{
    if (!(o->alpha > 0 && o->alpha <= 1))
        o->alpha = 0.05;
    if (o->warmup_minutes <= 0)
        o->warmup_minutes = 30;
    if (!(o->threshold > 0))
        o->threshold = 6;
    if (!(o->resolve_threshold > 0))
        o->resolve_threshold = 3;
    if (o->resolve_threshold > o->threshold)
        o->resolve_threshold = o->threshold;
    if (o->fire_minutes <= 0)
        o->fire_minutes = 1;
    if (o->resolve_minutes <= 0)
        o->resolve_minutes = 3;
    if (!(o->min_weight > 0))
        o->min_weight = 20;
    if (!(o->rel_floor > 0))
        o->rel_floor = 0.05;
    if (o->season_min_obs <= 0)
        o->season_min_obs = 30;
}

ff_rc ff_anomaly_new(const ff_anomaly_opts *o, ff_anomaly **out, ff_err *err)
{
    *out = NULL;
    ff_anomaly *a = ff_calloc(1, sizeof *a);
    if (!a)
        return FF_ERR_SET(err, FF_ENOMEM, "anomaly: out of memory");
    if (o)
        a->o = *o;
    set_defaults(&a->o);
    for (size_t i = 0; i < N_METRICS; i++)
        a->m[i].last_minute = INT64_MIN;
    *out = a;
    return FF_OK;
}

void ff_anomaly_free(ff_anomaly *a)
{
    ff_free(a);
}

/* Hour of the week, Monday 00:00 UTC = 0 (1970-01-01 was a Thursday). */
static int hour_of_week(int64_t ms)
{
    int64_t h = ms >= 0 ? ms / 3600000 : (ms - 3599999) / 3600000;
    int64_t how = (h + 72) % HOURS_PER_WEEK;
    return (int)(how < 0 ? how + HOURS_PER_WEEK : how);
}

static void learn(base *b, double x, double alpha)
{
    if (b->n == 0) {
        b->level = x;
        b->dev = 0;
        b->n = 1;
        return;
    }
    /* Early on the running mean (1/n) is the better estimate; later the EWMA. */
    double w = 1.0 / (double)(b->n + 1);
    if (w < alpha)
        w = alpha;
    double d = fabs(x - b->level);
    b->dev += w * (d - b->dev);
    b->level += w * (x - b->level);
    if (b->n < UINT32_MAX)
        b->n++;
}

static double noise_scale(noise nz, double expected, double weight)
{
    if (nz == NOISE_BINOMIAL && weight > 0) {
        double p = expected;
        if (p < 0.5 / weight)
            p = 0.5 / weight; /* a zero baseline still has sampling noise */
        if (p > 1 - 0.5 / weight)
            p = 1 - 0.5 / weight;
        return sqrt(p * (1 - p) / weight);
    }
    if (nz == NOISE_POISSON)
        return sqrt(expected > 1 ? expected : 1);
    return 0;
}

static void emit(const ff_anomaly *a, const struct metric_def *d, const mstate *m,
                 ff_alert_state st, int64_t at, double value, double expected, double scale,
                 double z, double weight, bool seasonal, ff_alert_sink_fn sink, void *ctx)
{
    if (!sink)
        return;
    char rule[96], summary[512], ev[1024], t[40];
    snprintf(rule, sizeof rule, "anomaly:%s", d->name);
    ff_clock_format_rfc3339(at - 60000, t);
    if (st == FF_ALERT_FIRING)
        snprintf(summary, sizeof summary,
                 "%s is %.4g in the minute from %s, expected %.4g (robust z %+.1f%s)", d->name,
                 value, t, expected, z, d->rate ? ", enough volume" : "");
    else
        snprintf(summary, sizeof summary, "%s back to normal: %.4g, expected %.4g (z %+.1f)",
                 d->name, value, expected, z);
    snprintf(ev, sizeof ev,
             "{\"metric\":\"%s\",\"minute\":\"%s\",\"value\":%.6g,\"expected\":%.6g,"
             "\"scale\":%.6g,\"z\":%.3f,\"weight\":%.6g,\"baseline\":\"%s\",\"direction\":\"%s\","
             "\"threshold_z\":%.3g,\"history_minutes\":%u,\"fired_at_value\":%.6g}",
             d->name, t, value, expected, scale, z, weight, seasonal ? "hour-of-week" : "global",
             d->d == DIR_UP     ? "up"
             : d->d == DIR_DOWN ? "down"
                                : "both",
             a->o.threshold, m->global.n, m->fired_value);
    ff_alert_fire f = {
        .rule = rule,
        .key = "global",
        .state = st,
        .at_ms = at,
        .value = value,
        .threshold = expected,
        .severity = d->severity,
        .summary = summary,
        .evidence_json = ev,
    };
    sink(ctx, &f);
}

void ff_anomaly_observe(ff_anomaly *a, const char *metric, int64_t minute_start_ms, double value,
                        double weight, ff_alert_sink_fn sink, void *ctx)
{
    if (!a || !metric || !isfinite(value) || !isfinite(weight))
        return;
    size_t mi = 0;
    while (mi < N_METRICS && strcmp(k_metrics[mi].name, metric))
        mi++;
    if (mi == N_METRICS)
        return;
    const struct metric_def *d = &k_metrics[mi];
    mstate *m = &a->m[mi];
    if (minute_start_ms <= m->last_minute)
        return; /* replayed or out of order: each minute counts once */
    if (d->rate && weight < a->o.min_weight)
        return; /* too little volume to judge or learn a rate */
    m->last_minute = minute_start_ms;
    if (m->global.n == 0)
        m->first_minute = minute_start_ms;
    int slot = hour_of_week(minute_start_ms);
    bool seasonal = minute_start_ms - m->first_minute >= WEEK_MS &&
                    m->season[slot].n >= (uint32_t)a->o.season_min_obs;
    const base *b = seasonal ? &m->season[slot] : &m->global;
    double expected = b->level;
    double scale = SIGMA_PER_MAD * b->dev;
    double nzs = noise_scale(d->nz, expected, weight);
    if (scale < nzs)
        scale = nzs;
    if (scale < a->o.rel_floor * fabs(expected))
        scale = a->o.rel_floor * fabs(expected);
    if (scale < 1e-9)
        scale = 1e-9;
    double z = (value - expected) / scale;
    bool warm = m->global.n >= (uint32_t)a->o.warmup_minutes;
    double thr = a->o.threshold;
    bool bad = warm && (d->d == DIR_UP ? z >= thr : d->d == DIR_DOWN ? z <= -thr : fabs(z) >= thr);
    double rz = d->d == DIR_UP ? z : d->d == DIR_DOWN ? -z : fabs(z);
    bool good = rz < a->o.resolve_threshold;
    FF_LOG(FF_LOG_DEBUG, "anomaly",
           "metric=%s minute=%" PRId64 " value=%.6g weight=%.6g expected=%.6g scale=%.6g z=%.2f "
           "n=%u warm=%d seasonal=%d",
           d->name, minute_start_ms, value, weight, expected, scale, z, m->global.n, warm ? 1 : 0,
           seasonal ? 1 : 0);
    m->consec_bad = bad ? m->consec_bad + 1 : 0;
    m->consec_good = good ? m->consec_good + 1 : 0;
    int64_t at = minute_start_ms + 60000;
    if (!m->firing && m->consec_bad >= a->o.fire_minutes) {
        m->firing = 1;
        m->fired_at = at;
        m->fired_value = value;
        m->fired_expected = expected;
        m->consec_good = 0;
        emit(a, d, m, FF_ALERT_FIRING, at, value, expected, scale, z, weight, seasonal, sink, ctx);
    } else if (m->firing && m->consec_good >= a->o.resolve_minutes) {
        m->firing = 0;
        emit(a, d, m, FF_ALERT_RESOLVED, at, value, expected, scale, z, weight, seasonal, sink,
             ctx);
    }
    /* Learn. The baseline that judged this minute learns it clamped to expected +-
     * threshold*scale (Huber), and an anomalous minute counts only LEARN_WHILE_BAD as much; the
     * other one (global when seasonal, the slot before) learns the plain value. */
    base *judge = seasonal ? &m->season[slot] : &m->global;
    base *other = seasonal ? &m->global : &m->season[slot];
    if (warm) {
        double lo = expected - thr * scale, hi = expected + thr * scale;
        double x = value < lo ? lo : value > hi ? hi : value;
        double w = (bad || m->firing) ? a->o.alpha * LEARN_WHILE_BAD : a->o.alpha;
        judge->dev += w * (fabs(x - judge->level) - judge->dev);
        judge->level += w * (x - judge->level);
        if (judge->n < UINT32_MAX)
            judge->n++;
    } else {
        learn(judge, value, a->o.alpha);
    }
    learn(other, value, a->o.alpha);
}

ff_rc ff_anomaly_json(const ff_anomaly *a, ff_buf *out, ff_err *err)
{
    ff_buf_printf(out,
                  "{\"alpha\":%g,\"warmup_minutes\":%d,\"threshold_z\":%g,\"resolve_z\":%g,"
                  "\"fire_minutes\":%d,\"resolve_minutes\":%d,\"min_weight\":%g,"
                  "\"rel_floor\":%g,\"season_min_obs\":%d,\"metrics\":[",
                  a->o.alpha, a->o.warmup_minutes, a->o.threshold, a->o.resolve_threshold,
                  a->o.fire_minutes, a->o.resolve_minutes, a->o.min_weight, a->o.rel_floor,
                  a->o.season_min_obs);
    /* parameters only: the live state belongs to the processor's thread */
    for (size_t i = 0; i < N_METRICS; i++)
        ff_buf_printf(out, "%s{\"metric\":\"%s\",\"rule\":\"anomaly:%s\",\"direction\":\"%s\"}",
                      i ? "," : "", k_metrics[i].name, k_metrics[i].name,
                      k_metrics[i].d == DIR_UP     ? "up"
                      : k_metrics[i].d == DIR_DOWN ? "down"
                                                   : "both");
    ff_rc rc = ff_buf_adds(out, "]}");
    return rc == FF_OK ? FF_OK : FF_ERR_SET(err, rc, "anomaly: answer too large");
}

/* ---- save / load: "FFANOM01", u32 record size, u32 count, then per metric a u8 name length,
 * the name, and the mstate bytes (same host: not portable). Unknown names are skipped. */

#define MAGIC "FFANOM01"

ff_rc ff_anomaly_save(const ff_anomaly *a, ff_buf *out, ff_err *err)
{
    ff_rc rc = ff_buf_add(out, MAGIC, 8);
    uint32_t sz = (uint32_t)sizeof(mstate), n = (uint32_t)N_METRICS;
    if (!rc)
        rc = ff_buf_add(out, &sz, 4);
    if (!rc)
        rc = ff_buf_add(out, &n, 4);
    for (size_t i = 0; !rc && i < N_METRICS; i++) {
        uint8_t l = (uint8_t)strlen(k_metrics[i].name);
        rc = ff_buf_add(out, &l, 1);
        if (!rc)
            rc = ff_buf_add(out, k_metrics[i].name, l);
        if (!rc)
            rc = ff_buf_add(out, &a->m[i], sizeof(mstate));
    }
    return rc == FF_OK ? FF_OK : FF_ERR_SET(err, rc, "anomaly: checkpoint too large");
}

static bool base_ok(const base *b)
{
    return isfinite(b->level) && isfinite(b->dev) && b->dev >= 0;
}

ff_rc ff_anomaly_load(ff_anomaly *a, const void *p, size_t n, ff_err *err)
{
    const unsigned char *s = p;
    uint32_t sz, cnt;
    if (n < 16 || memcmp(s, MAGIC, 8))
        return FF_ERR_SET(err, FF_ECORRUPT, "anomaly: checkpoint has no FFANOM01 header");
    memcpy(&sz, s + 8, 4);
    memcpy(&cnt, s + 12, 4);
    if (sz != sizeof(mstate) || cnt > 64)
        return FF_ERR_SET(err, FF_ECORRUPT, "anomaly: checkpoint of another layout");
    mstate tmp[N_METRICS];
    memcpy(tmp, a->m, sizeof tmp);
    size_t off = 16;
    for (uint32_t i = 0; i < cnt; i++) {
        if (off + 1 > n)
            goto bad;
        uint8_t l = s[off++];
        if (off + l + sizeof(mstate) > n)
            goto bad;
        const char *name = (const char *)s + off;
        off += l;
        size_t mi = 0;
        while (mi < N_METRICS &&
               !(strlen(k_metrics[mi].name) == l && !memcmp(k_metrics[mi].name, name, l)))
            mi++;
        mstate m;
        memcpy(&m, s + off, sizeof m);
        off += sizeof m;
        if (mi == N_METRICS)
            continue;
        bool ok = base_ok(&m.global) && m.consec_bad >= 0 && m.consec_good >= 0 &&
                  (m.firing == 0 || m.firing == 1);
        for (int h = 0; ok && h < HOURS_PER_WEEK; h++)
            ok = base_ok(&m.season[h]);
        if (!ok)
            goto bad;
        tmp[mi] = m;
    }
    if (off != n)
        goto bad;
    memcpy(a->m, tmp, sizeof tmp);
    return FF_OK;
bad:
    return FF_ERR_SET(err, FF_ECORRUPT, "anomaly: checkpoint is damaged");
}
