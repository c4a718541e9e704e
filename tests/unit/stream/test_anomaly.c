/* test_anomaly.c -- the per-minute baseline detector: quiet on noisy normal data (with a daily
 * cycle), an alert on a step change, its resolution, warm-up, minimum weight, hour-of-week
 * seasonality, save/load. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ff_test.h"
#include "stream/ff_anomaly.h"

typedef struct got {
    int fired, resolved;
    char last_rule[80], last_summary[512], last_evidence[1024];
    int64_t last_at;
} got;

static void sink(void *ctx, const ff_alert_fire *f)
{
    got *g = ctx;
    if (f->state == FF_ALERT_FIRING)
        g->fired++;
    else
        g->resolved++;
    snprintf(g->last_rule, sizeof g->last_rule, "%s", f->rule);
    snprintf(g->last_summary, sizeof g->last_summary, "%s", f->summary);
    snprintf(g->last_evidence, sizeof g->last_evidence, "%s", f->evidence_json);
    g->last_at = f->at_ms;
}

static uint64_t rng = 12345;
static double unif(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}
static double gauss(void)
{
    return sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif());
}
static int poisson(double lam) /* normal approximation is fine for lam > 30 */
{
    if (lam < 30) {
        double l = exp(-lam), p = 1;
        int k = 0;
        do {
            k++;
            p *= unif();
        } while (p > l);
        return k - 1;
    }
    double v = lam + sqrt(lam) * gauss();
    return v < 0 ? 0 : (int)(v + 0.5);
}
static int binomial(int n, double p)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += unif() < p;
    return k;
}

static const int64_t T0 = 1767571200000; /* 2026-01-05T00:00:00Z, a Monday */
#define MIN 60000LL

/* One minute of a normal shop: traffic with a daily cycle (x0.3 at night .. x1.7 midday),
 * payment failures 5%, cart conversion 30%, revenue with lognormal order values. */
static void normal_minute(ff_anomaly *a, int64_t t, double fail_p, got *g)
{
    double hour = (double)((t / MIN) % 1440) / 60.0;
    double cyc = 1 + 0.7 * sin((hour - 6) / 24 * 6.283185307179586);
    int events = poisson(1000 * cyc);
    int attempts = poisson(60 * cyc);
    int fails = binomial(attempts, fail_p);
    int carts = poisson(80 * cyc);
    int orders = binomial(carts, 0.3);
    double revenue = 0;
    for (int i = 0; i < orders; i++)
        revenue += 40 * exp(0.6 * gauss());
    ff_anomaly_observe(a, "events", t, events, 0, sink, g);
    ff_anomaly_observe(a, "payment_failure_rate", t, attempts ? (double)fails / attempts : 0,
                       attempts, sink, g);
    ff_anomaly_observe(a, "cart_conversion", t, carts ? (double)orders / carts : 0, carts, sink, g);
    ff_anomaly_observe(a, "revenue", t, revenue, 0, sink, g);
}

static void test_quiet_on_normal_data(void)
{
    ff_anomaly *a = NULL;
    FF_CHECK_EQ(ff_anomaly_new(NULL, &a, NULL), FF_OK);
    got g = {0};
    for (int64_t m = 0; m < 3 * 1440; m++) /* three days */
        normal_minute(a, T0 + m * MIN, 0.05, &g);
    if (g.fired)
        fprintf(stderr, "  false alarm: %s: %s\n", g.last_rule, g.last_summary);
    FF_CHECK_EQ(g.fired, 0);
    ff_anomaly_free(a);
}

static void test_step_change_and_resolution(void)
{
    ff_anomaly *a = NULL;
    FF_CHECK_EQ(ff_anomaly_new(NULL, &a, NULL), FF_OK);
    got g = {0};
    int64_t m = 0;
    for (; m < 600; m++)
        normal_minute(a, T0 + m * MIN, 0.05, &g);
    FF_CHECK_EQ(g.fired, 0);
    /* payment failures jump to 60% (the simulator's incident) */
    int64_t spike = T0 + m * MIN;
    for (int i = 0; i < 10; i++, m++)
        normal_minute(a, T0 + m * MIN, 0.60, &g);
    FF_CHECK_EQ(g.fired, 1);
    FF_CHECK_STR(g.last_rule, "anomaly:payment_failure_rate");
    FF_CHECK_EQ(g.last_at, spike + MIN); /* the first minute of the incident, when it closes */
    FF_CHECK(strstr(g.last_evidence, "\"direction\":\"up\"") != NULL);
    FF_CHECK_EQ(g.resolved, 0);
    /* still failing 30 minutes later: still one alert, not resolved (slow learning while bad) */
    for (int i = 0; i < 30; i++, m++)
        normal_minute(a, T0 + m * MIN, 0.60, &g);
    FF_CHECK_EQ(g.fired, 1);
    FF_CHECK_EQ(g.resolved, 0);
    /* back to normal: resolved after three normal minutes */
    int64_t back = T0 + m * MIN;
    for (int i = 0; i < 10; i++, m++)
        normal_minute(a, T0 + m * MIN, 0.05, &g);
    FF_CHECK_EQ(g.resolved, 1);
    FF_CHECK_EQ(g.last_at, back + 3 * MIN);
    FF_CHECK_EQ(g.fired, 1);
    /* a traffic collapse (events down 90%) is an anomaly too */
    got g2 = {0};
    ff_anomaly_observe(a, "events", T0 + m * MIN, 40, 0, sink, &g2);
    FF_CHECK_EQ(g2.fired, 1);
    FF_CHECK_STR(g2.last_rule, "anomaly:events");
    /* and a drop in payment failures is not */
    ff_anomaly_observe(a, "payment_failure_rate", T0 + m * MIN, 0.0, 200, sink, &g2);
    FF_CHECK_EQ(g2.fired, 1);
    ff_anomaly_free(a);
}

static void test_warmup_and_min_weight(void)
{
    ff_anomaly_opts o = {.warmup_minutes = 30};
    ff_anomaly *a = NULL;
    FF_CHECK_EQ(ff_anomaly_new(&o, &a, NULL), FF_OK);
    got g = {0};
    int64_t m = 12 * 60; /* midday: enough payment attempts per minute */
    for (; m < 12 * 60 + 20; m++)
        normal_minute(a, T0 + m * MIN, 0.05, &g);
    normal_minute(a, T0 + m++ * MIN, 0.9, &g); /* in warm-up: no decision */
    FF_CHECK_EQ(g.fired, 0);
    for (; m < 12 * 60 + 60; m++)
        normal_minute(a, T0 + m * MIN, 0.05, &g);
    /* 100% failures over 5 attempts: too little volume */
    ff_anomaly_observe(a, "payment_failure_rate", T0 + m++ * MIN, 1.0, 5, sink, &g);
    FF_CHECK_EQ(g.fired, 0);
    ff_anomaly_observe(a, "payment_failure_rate", T0 + m++ * MIN, 1.0, 25, sink, &g);
    FF_CHECK_EQ(g.fired, 1);
    /* a replayed minute counts once; unknown metrics are ignored */
    ff_anomaly_observe(a, "payment_failure_rate", T0 + (m - 1) * MIN, 0.05, 100, sink, &g);
    ff_anomaly_observe(a, "nonsense", T0, 1, 1, sink, &g);
    FF_CHECK_EQ(g.fired, 1);
    FF_CHECK_EQ(g.resolved, 0);
    ff_anomaly_free(a);
}

/* A daily newsletter at 12:00 triples traffic for an hour. Without hour-of-week baselines that
 * hour alerts every day; once a week of history exists it is expected. */
static void test_seasonality(void)
{
    ff_anomaly *a = NULL;
    FF_CHECK_EQ(ff_anomaly_new(NULL, &a, NULL), FF_OK);
    got g = {0};
    int week_fired[3] = {0, 0, 0};
    for (int64_t m = 0; m < 3 * 7 * 1440; m++) {
        int64_t t = T0 + m * MIN;
        int hour = (int)((m % 1440) / 60);
        double lam = hour == 12 ? 3000 : 1000;
        int before = g.fired;
        ff_anomaly_observe(a, "events", t, poisson(lam), 0, sink, &g);
        week_fired[m / (7 * 1440)] += g.fired - before;
    }
    FF_CHECK(week_fired[0] >= 5); /* the first week: the newsletter looks like an incident */
    FF_CHECK_EQ(week_fired[2], 0);
    FF_CHECK(strstr(g.last_evidence, "\"baseline\":\"hour-of-week\"") ||
             strstr(g.last_evidence, "\"baseline\":\"global\""));
    fprintf(stderr, "  seasonality: alerts per week %d %d %d\n", week_fired[0], week_fired[1],
            week_fired[2]);
    ff_anomaly_free(a);
}

static void test_save_load(void)
{
    ff_anomaly *a = NULL, *b = NULL;
    FF_CHECK_EQ(ff_anomaly_new(NULL, &a, NULL), FF_OK);
    FF_CHECK_EQ(ff_anomaly_new(NULL, &b, NULL), FF_OK);
    got g = {0};
    int64_t m = 0;
    for (; m < 120; m++)
        normal_minute(a, T0 + m * MIN, 0.05, &g);
    ff_buf s;
    ff_buf_init(&s, 1u << 20);
    FF_CHECK_EQ(ff_anomaly_save(a, &s, NULL), FF_OK);
    FF_CHECK_EQ(ff_anomaly_load(b, s.data, s.len, NULL), FF_OK);
    /* the loaded detector is warm: it fires on the spike at once, like the original */
    got ga = {0}, gb = {0};
    ff_anomaly_observe(a, "payment_failure_rate", T0 + m * MIN, 0.6, 80, sink, &ga);
    ff_anomaly_observe(b, "payment_failure_rate", T0 + m * MIN, 0.6, 80, sink, &gb);
    FF_CHECK_EQ(ga.fired, 1);
    FF_CHECK_EQ(gb.fired, 1);
    FF_CHECK_STR(ga.last_summary, gb.last_summary);
    ff_buf j;
    ff_buf_init(&j, 1u << 16);
    FF_CHECK_EQ(ff_anomaly_json(b, &j, NULL), FF_OK);
    FF_CHECK(strstr(j.data, "\"metric\":\"payment_failure_rate\"") != NULL);
    ff_buf_fini(&j);
    ff_err err = {0};
    FF_CHECK_EQ(ff_anomaly_load(b, s.data, s.len - 1, &err), FF_ECORRUPT);
    FF_CHECK_EQ(ff_anomaly_load(b, "FFANOM00", 8, &err), FF_ECORRUPT);
    ff_buf_fini(&s);
    ff_anomaly_free(a);
    ff_anomaly_free(b);
}

int main(void)
{
    FF_RUN(test_quiet_on_normal_data);
    FF_RUN(test_step_change_and_resolution);
    FF_RUN(test_warmup_and_min_weight);
    FF_RUN(test_seasonality);
    FF_RUN(test_save_load);
    FF_DONE();
}
