/* ff_alert.c -- alert state, cooldown, persistence and webhook delivery. See ff_alert.h. */
#include "alert/ff_alert.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/ff_arena.h"
#include "core/ff_clock.h"
#include "core/ff_json.h"
#include "core/ff_log.h"
#include "core/ff_mem.h"

#define DEF_COOLDOWN_MS (15 * 60 * 1000)
#define DEF_HISTORY 1000
#define DEF_ATTEMPTS 6
#define DEF_BACKOFF_MS 1000
#define DEF_BACKOFF_MAX_MS 300000
#define DEF_TIMEOUT_MS 10000
#define DEF_QUEUE 10000
#define MAX_OPEN 10000           /* firing alerts kept; beyond, the oldest is force-resolved */
#define MAX_STR 4096             /* longest rule/key/summary kept */
#define MAX_EVIDENCE (64 * 1024) /* longest evidence object kept */
#define STATE_FILE "alerts.json"
#define DEAD_FILE "dead-letter.ndjson"

typedef struct alert {
    uint64_t id;
    char *rule, *key, *severity, *summary, *evidence;
    ff_alert_state state;
    int64_t fired_at, resolved_at, updated_at; /* event time, ms */
    double value, threshold;
    uint32_t reopened; /* times a re-fire within the cooldown joined this incident */
} alert;

typedef struct job {
    struct job *next;
    char *url;
    char *body;
    int attempts;
    int64_t next_ms; /* monotonic */
    char last_error[160];
} job;

typedef struct hook {
    char *url; /* without the "slack+" prefix */
    bool slack;
} hook;

struct ff_alerts {
    pthread_mutex_t mu;
    pthread_cond_t cv;   /* delivery thread: new job or stop */
    pthread_cond_t idle; /* flush: queue emptied */
    pthread_t thread;
    bool thread_started, stop, busy;
    char *dir;
    hook *hooks;
    size_t n_hooks;
    int64_t cooldown_ms;
    size_t history_max, queue_max;
    int max_attempts;
    int64_t backoff_base_ms, backoff_max_ms, timeout_ms;
    uint64_t rng;
    uint64_t next_id;
    alert *open; /* firing, in fire order */
    size_t n_open, cap_open;
    alert *hist; /* resolved, oldest first */
    size_t n_hist, cap_hist;
    job *q_head, *q_tail;
    size_t q_len;
    char *rules_json;
    ff_alerts_stats st;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t mono_ms(void)
{
    return (int64_t)(ff_clock_mono_ns() / 1000000u);
}

static uint64_t rng_next(uint64_t *s)
{ /* splitmix64 */
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static char *dup_bounded(const char *s, size_t max)
{
    if (!s)
        s = "";
    size_t l = strlen(s);
    return ff_strndup(s, l > max ? max : l);
}

static void alert_free(alert *a)
{
    ff_free(a->rule);
    ff_free(a->key);
    ff_free(a->severity);
    ff_free(a->summary);
    ff_free(a->evidence);
    memset(a, 0, sizeof *a);
}

/* evidence must be one JSON object; anything else is kept as {"text": "..."} */
static char *evidence_copy(const char *ev)
{
    if (!ev || !*ev)
        return ff_strdup("{}");
    size_t l = strlen(ev);
    if (l <= MAX_EVIDENCE) {
        ff_arena ar;
        ff_arena_init(&ar, 16384, 4u * MAX_EVIDENCE + 65536);
        ff_json *root = NULL;
        bool ok = ff_json_parse(ev, l, NULL, &ar, &root, NULL) == FF_OK &&
                  root->type == FF_JSON_OBJECT && !(root->flags & FF_JSON_F_SUBTREE_BAD) &&
                  !(root->flags & FF_JSON_F_DUP_KEY);
        ff_arena_fini(&ar);
        if (ok)
            return ff_strndup(ev, l);
    }
    ff_buf b;
    ff_buf_init(&b, MAX_EVIDENCE + 64);
    ff_buf_adds(&b, "{\"text\":");
    ff_json_write_str(&b, ev, l > 1024 ? 1024 : l);
    ff_buf_addc(&b, '}');
    return ff_buf_detach(&b);
}

static void write_num(ff_buf *b, double v)
{
    if (!isfinite(v))
        ff_buf_adds(b, "null");
    else if (v == floor(v) && fabs(v) < 9e15)
        ff_buf_printf(b, "%.0f", v);
    else
        ff_buf_printf(b, "%.6g", v);
}

static void write_time(ff_buf *b, const char *name, int64_t ms)
{
    char t[40];
    ff_buf_printf(b, ",\"%s\":", name);
    if (ms <= 0) {
        ff_buf_adds(b, "null");
    } else {
        size_t n = ff_clock_format_rfc3339(ms, t);
        ff_json_write_str(b, t, n);
    }
    ff_buf_printf(b, ",\"%s_ms\":%" PRId64, name, ms);
}

static void write_alert(ff_buf *b, const alert *a)
{
    ff_buf_printf(b, "{\"id\":%" PRIu64 ",\"rule\":", a->id);
    ff_json_write_str(b, a->rule, strlen(a->rule));
    ff_buf_adds(b, ",\"key\":");
    ff_json_write_str(b, a->key, strlen(a->key));
    ff_buf_printf(
        b, ",\"state\":\"%s\",\"severity\":", a->state == FF_ALERT_FIRING ? "firing" : "resolved");
    ff_json_write_str(b, a->severity, strlen(a->severity));
    write_time(b, "fired_at", a->fired_at);
    write_time(b, "resolved_at", a->state == FF_ALERT_RESOLVED ? a->resolved_at : 0);
    write_time(b, "updated_at", a->updated_at);
    ff_buf_adds(b, ",\"value\":");
    write_num(b, a->value);
    ff_buf_adds(b, ",\"threshold\":");
    write_num(b, a->threshold);
    ff_buf_printf(b, ",\"reopened\":%u,\"summary\":", a->reopened);
    ff_json_write_str(b, a->summary, strlen(a->summary));
    ff_buf_adds(b, ",\"evidence\":");
    ff_buf_adds(b, a->evidence);
    ff_buf_addc(b, '}');
}

/* ---- persistence ------------------------------------------------------------------------ */

static void save_locked(ff_alerts *a)
{
    if (!a->dir)
        return;
    ff_buf b;
    ff_buf_init(&b, 1u << 30);
    ff_buf_printf(&b, "{\"version\":1,\"next_id\":%" PRIu64 ",\"firing\":[", a->next_id);
    for (size_t i = 0; i < a->n_open; i++) {
        if (i)
            ff_buf_addc(&b, ',');
        write_alert(&b, &a->open[i]);
    }
    ff_buf_adds(&b, "],\"resolved\":[");
    for (size_t i = 0; i < a->n_hist; i++) {
        if (i)
            ff_buf_addc(&b, ',');
        write_alert(&b, &a->hist[i]);
    }
    ff_rc rc = ff_buf_adds(&b, "]}\n");
    char path[4200], tmp[4200];
    snprintf(path, sizeof path, "%s/" STATE_FILE, a->dir);
    snprintf(tmp, sizeof tmp, "%s/" STATE_FILE ".tmp", a->dir);
    if (rc == FF_OK) {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        bool ok = fd >= 0;
        size_t off = 0;
        while (ok && off < b.len) {
            ssize_t w = write(fd, b.data + off, b.len - off);
            if (w < 0 && errno == EINTR)
                continue;
            ok = w > 0;
            off += w > 0 ? (size_t)w : 0;
        }
        if (fd >= 0) {
            ok = ok && fdatasync(fd) == 0;
            close(fd);
        }
        if (ok && rename(tmp, path) == 0) {
            ff_buf_fini(&b);
            return;
        }
        unlink(tmp);
    }
    FF_LOG(FF_LOG_WARN, "alert", "cannot save alert state to %s: %s", path, strerror(errno));
    ff_buf_fini(&b);
}

static const char *jstr(const ff_json *o, const char *k)
{
    ff_json *v = ff_json_get(o, k);
    return v && v->type == FF_JSON_STRING ? v->str : "";
}

static int64_t jint(const ff_json *o, const char *k)
{
    ff_json *v = ff_json_get(o, k);
    int64_t x = 0;
    if (v && v->type == FF_JSON_NUMBER)
        ff_json_as_i64(v, &x);
    return x;
}

static double jdbl(const ff_json *o, const char *k)
{
    ff_json *v = ff_json_get(o, k);
    double x = NAN;
    if (v && v->type == FF_JSON_NUMBER)
        ff_json_as_double(v, &x);
    return x;
}

static bool alert_from_json(const ff_json *o, alert *out)
{
    if (o->type != FF_JSON_OBJECT)
        return false;
    memset(out, 0, sizeof *out);
    out->id = (uint64_t)jint(o, "id");
    out->rule = dup_bounded(jstr(o, "rule"), MAX_STR);
    out->key = dup_bounded(jstr(o, "key"), MAX_STR);
    out->severity = dup_bounded(jstr(o, "severity"), 32);
    out->summary = dup_bounded(jstr(o, "summary"), MAX_STR);
    out->state = !strcmp(jstr(o, "state"), "resolved") ? FF_ALERT_RESOLVED : FF_ALERT_FIRING;
    out->fired_at = jint(o, "fired_at_ms");
    out->resolved_at = jint(o, "resolved_at_ms");
    out->updated_at = jint(o, "updated_at_ms");
    out->value = jdbl(o, "value");
    out->threshold = jdbl(o, "threshold");
    out->reopened = (uint32_t)jint(o, "reopened");
    ff_json *ev = ff_json_get(o, "evidence");
    if (ev && ev->type == FF_JSON_OBJECT) {
        ff_buf b;
        ff_buf_init(&b, MAX_EVIDENCE * 2);
        ff_json_write_value(&b, ev);
        out->evidence = ff_buf_detach(&b);
    } else {
        out->evidence = ff_strdup("{}");
    }
    if (!out->rule || !out->key || !out->severity || !out->summary || !out->evidence ||
        !*out->rule) {
        alert_free(out);
        return false;
    }
    return true;
}

static bool push_alert(alert **arr, size_t *n, size_t *cap, const alert *x)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 16;
        alert *p = ff_realloc(*arr, nc * sizeof *p);
        if (!p)
            return false;
        *arr = p;
        *cap = nc;
    }
    (*arr)[(*n)++] = *x;
    return true;
}

static ff_rc load_state(ff_alerts *a, ff_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/" STATE_FILE, a->dir);
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? FF_OK : FF_ERR_SYS(err, FF_EIO, "alerts: cannot open %s", path);
    ff_buf b;
    ff_buf_init(&b, 1u << 30);
    char chunk[65536];
    size_t r;
    ff_rc rc = FF_OK;
    while (rc == FF_OK && (r = fread(chunk, 1, sizeof chunk, f)) > 0)
        rc = ff_buf_add(&b, chunk, r);
    fclose(f);
    ff_arena ar;
    ff_arena_init(&ar, 1u << 16, (size_t)1 << 31);
    ff_json *root = NULL;
    ff_json_error je;
    if (rc == FF_OK && b.len && ff_json_parse(b.data, b.len, NULL, &ar, &root, &je) == FF_OK &&
        root->type == FF_JSON_OBJECT) {
        a->next_id = (uint64_t)jint(root, "next_id");
        ff_json *fi = ff_json_get(root, "firing");
        ff_json *re = ff_json_get(root, "resolved");
        for (ff_json *c = fi && fi->type == FF_JSON_ARRAY ? fi->child : NULL; c; c = c->next) {
            alert x;
            if (alert_from_json(c, &x)) {
                x.state = FF_ALERT_FIRING;
                if (!push_alert(&a->open, &a->n_open, &a->cap_open, &x))
                    alert_free(&x);
            }
        }
        for (ff_json *c = re && re->type == FF_JSON_ARRAY ? re->child : NULL; c; c = c->next) {
            alert x;
            if (alert_from_json(c, &x)) {
                x.state = FF_ALERT_RESOLVED;
                if (!push_alert(&a->hist, &a->n_hist, &a->cap_hist, &x))
                    alert_free(&x);
            }
        }
        /* keep the newest history_max */
        if (a->n_hist > a->history_max) {
            size_t drop = a->n_hist - a->history_max;
            for (size_t i = 0; i < drop; i++)
                alert_free(&a->hist[i]);
            memmove(a->hist, a->hist + drop, a->history_max * sizeof *a->hist);
            a->n_hist = a->history_max;
        }
        for (size_t i = 0; i < a->n_open; i++)
            if (a->open[i].id >= a->next_id)
                a->next_id = a->open[i].id + 1;
        for (size_t i = 0; i < a->n_hist; i++)
            if (a->hist[i].id >= a->next_id)
                a->next_id = a->hist[i].id + 1;
        a->st.firing_now = a->n_open;
    } else if (rc == FF_OK && b.len) {
        /* A torn or damaged file: keep it for inspection and start empty. */
        char bad[4300];
        snprintf(bad, sizeof bad, "%s.corrupt", path);
        rename(path, bad);
        FF_LOG(FF_LOG_WARN, "alert", "alert state %s is damaged; moved to %s", path, bad);
    }
    ff_arena_fini(&ar);
    ff_buf_fini(&b);
    return rc == FF_OK ? FF_OK : FF_ERR_SET(err, rc, "alerts: %s too large", path);
}

/* ---- delivery ----------------------------------------------------------------------------- */

static void dead_letter_locked(ff_alerts *a, job *j, const char *why)
{
    a->st.dead_lettered++;
    if (!a->dir) {
        FF_LOG(FF_LOG_WARN, "alert", "webhook delivery to %s dropped: %s", j->url, why);
        return;
    }
    ff_buf b;
    ff_buf_init(&b, 1u << 24);
    char t[40];
    size_t tn = ff_clock_format_rfc3339(ff_clock_now_ms(), t);
    ff_buf_adds(&b, "{\"at\":");
    ff_json_write_str(&b, t, tn);
    ff_buf_adds(&b, ",\"url\":");
    ff_json_write_str(&b, j->url, strlen(j->url));
    ff_buf_printf(&b, ",\"attempts\":%d,\"reason\":", j->attempts);
    ff_json_write_str(&b, why, strlen(why));
    ff_buf_adds(&b, ",\"last_error\":");
    ff_json_write_str(&b, j->last_error, strlen(j->last_error));
    ff_buf_adds(&b, ",\"body\":");
    ff_buf_adds(&b, j->body);
    ff_buf_adds(&b, "}\n");
    char path[4200];
    snprintf(path, sizeof path, "%s/" DEAD_FILE, a->dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    bool ok = fd >= 0 && write(fd, b.data, b.len) == (ssize_t)b.len;
    if (fd >= 0) {
        ok = ok && fdatasync(fd) == 0;
        close(fd);
    }
    if (!ok)
        FF_LOG(FF_LOG_WARN, "alert", "cannot write %s: %s", path, strerror(errno));
    FF_LOG(FF_LOG_WARN, "alert", "webhook delivery to %s dead-lettered after %d attempts: %s",
           j->url, j->attempts, why);
    ff_buf_fini(&b);
}

static void job_free(job *j)
{
    if (!j)
        return;
    ff_free(j->url);
    ff_free(j->body);
    ff_free(j);
}

static void enqueue_locked(ff_alerts *a, const char *url, char *body)
{
    job *j = ff_calloc(1, sizeof *j);
    if (!j || !(j->url = ff_strdup(url))) {
        ff_free(j);
        ff_free(body);
        a->st.dead_lettered++;
        return;
    }
    j->body = body;
    j->next_ms = mono_ms();
    if (a->q_len >= a->queue_max && a->q_head) {
        job *old = a->q_head;
        a->q_head = old->next;
        if (!a->q_head)
            a->q_tail = NULL;
        a->q_len--;
        dead_letter_locked(a, old, "queue full");
        job_free(old);
    }
    if (a->q_tail)
        a->q_tail->next = j;
    else
        a->q_head = j;
    a->q_tail = j;
    a->q_len++;
    pthread_cond_signal(&a->cv);
}

static size_t discard_cb(char *p, size_t sz, size_t n, void *u)
{
    (void)p;
    (void)u;
    return sz * n;
}

/* One POST; true on a 2xx. */
static bool post_once(ff_alerts *a, const char *url, const char *body, char *errbuf, size_t errn)
{
    CURL *h = curl_easy_init();
    if (!h) {
        snprintf(errbuf, errn, "curl_easy_init failed");
        return false;
    }
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    char cerr[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)a->timeout_ms);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)a->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard_cb);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "footfall-alerts/1");
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    CURLcode cc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    if (cc != CURLE_OK) {
        snprintf(errbuf, errn, "%s", cerr[0] ? cerr : curl_easy_strerror(cc));
        return false;
    }
    if (status < 200 || status > 299) {
        snprintf(errbuf, errn, "HTTP %ld", status);
        return false;
    }
    return true;
}

static int64_t backoff_ms(ff_alerts *a, int attempts)
{
    double d = (double)a->backoff_base_ms;
    for (int i = 1; i < attempts && d < (double)a->backoff_max_ms; i++)
        d *= 2;
    if (d > (double)a->backoff_max_ms)
        d = (double)a->backoff_max_ms;
    double jitter = 0.5 + 0.5 * ((double)(rng_next(&a->rng) >> 11) / 9007199254740992.0);
    return (int64_t)(d * jitter);
}

static void *deliver_main(void *arg)
{
    ff_alerts *a = arg;
    pthread_setname_np(pthread_self(), "ff-webhooks"); /* names show in top -H and perf */
    pthread_mutex_lock(&a->mu);
    for (;;) {
        if (a->stop)
            break;
        /* the due job that is earliest */
        job *best = NULL, *best_prev = NULL, *prev = NULL;
        for (job *j = a->q_head; j; prev = j, j = j->next)
            if (!best || j->next_ms < best->next_ms) {
                best = j;
                best_prev = prev;
            }
        if (!best) {
            pthread_cond_broadcast(&a->idle);
            pthread_cond_wait(&a->cv, &a->mu);
            continue;
        }
        int64_t now = mono_ms();
        if (best->next_ms > now) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            int64_t wait = best->next_ms - now;
            ts.tv_sec += wait / 1000;
            ts.tv_nsec += (long)(wait % 1000) * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&a->cv, &a->mu, &ts);
            continue;
        }
        /* unlink it while it is in flight */
        if (best_prev)
            best_prev->next = best->next;
        else
            a->q_head = best->next;
        if (a->q_tail == best)
            a->q_tail = best_prev;
        best->next = NULL;
        a->busy = true;
        pthread_mutex_unlock(&a->mu);
        char errbuf[160] = "";
        bool ok = post_once(a, best->url, best->body, errbuf, sizeof errbuf);
        pthread_mutex_lock(&a->mu);
        a->busy = false;
        a->st.delivery_attempts++;
        best->attempts++;
        if (ok) {
            a->st.deliveries_ok++;
            a->q_len--;
            job_free(best);
            continue;
        }
        a->st.delivery_failures++;
        snprintf(best->last_error, sizeof best->last_error, "%s", errbuf);
        FF_LOG(FF_LOG_INFO, "alert", "webhook %s attempt %d failed: %s", best->url, best->attempts,
               errbuf);
        if (best->attempts >= a->max_attempts) {
            a->q_len--;
            dead_letter_locked(a, best, "retries exhausted");
            job_free(best);
            continue;
        }
        best->next_ms = mono_ms() + backoff_ms(a, best->attempts);
        if (a->q_tail)
            a->q_tail->next = best;
        else
            a->q_head = best;
        a->q_tail = best;
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static char *body_for(const alert *x, bool slack)
{
    ff_buf b;
    ff_buf_init(&b, MAX_EVIDENCE * 4);
    if (slack) {
        char line[2 * MAX_STR + 256];
        char t[40];
        ff_clock_format_rfc3339(x->state == FF_ALERT_FIRING ? x->fired_at : x->resolved_at, t);
        snprintf(line, sizeof line, "%s %s [%s] %s (key %s): %s at %s",
                 x->state == FF_ALERT_FIRING ? ":rotating_light:" : ":white_check_mark:",
                 x->state == FF_ALERT_FIRING ? "FIRING" : "RESOLVED", x->severity, x->rule, x->key,
                 x->summary, t);
        ff_buf_adds(&b, "{\"text\":");
        ff_json_write_str(&b, line, strlen(line));
        ff_buf_addc(&b, '}');
    } else {
        ff_buf_printf(&b, "{\"source\":\"footfall\",\"event\":\"%s\",\"alert\":",
                      x->state == FF_ALERT_FIRING ? "firing" : "resolved");
        write_alert(&b, x);
        ff_buf_addc(&b, '}');
    }
    return ff_buf_detach(&b);
}

static void notify_locked(ff_alerts *a, const alert *x)
{
    for (size_t i = 0; i < a->n_hooks; i++) {
        char *body = body_for(x, a->hooks[i].slack);
        if (body)
            enqueue_locked(a, a->hooks[i].url, body);
    }
}

/* ---- state changes ------------------------------------------------------------------------ */

static void history_add_locked(ff_alerts *a, alert *x)
{
    if (a->n_hist >= a->history_max && a->n_hist) {
        alert_free(&a->hist[0]);
        memmove(a->hist, a->hist + 1, (a->n_hist - 1) * sizeof *a->hist);
        a->n_hist--;
    }
    if (!push_alert(&a->hist, &a->n_hist, &a->cap_hist, x))
        alert_free(x);
}

static void set_text(char **dst, const char *src, size_t max)
{
    char *n = dup_bounded(src, max);
    if (n) {
        ff_free(*dst);
        *dst = n;
    }
}

void ff_alerts_sink(void *alerts, const ff_alert_fire *f)
{
    ff_alerts *a = alerts;
    if (!a || !f || !f->rule || !*f->rule)
        return;
    const char *key = f->key && *f->key ? f->key : "global";
    pthread_mutex_lock(&a->mu);
    size_t oi = a->n_open;
    for (size_t i = 0; i < a->n_open; i++)
        if (!strcmp(a->open[i].rule, f->rule) && !strcmp(a->open[i].key, key)) {
            oi = i;
            break;
        }
    if (f->state == FF_ALERT_FIRING) {
        if (oi < a->n_open) { /* the same incident: update, no notification */
            alert *x = &a->open[oi];
            x->value = f->value;
            x->threshold = f->threshold;
            x->updated_at = f->at_ms;
            if (f->summary)
                set_text(&x->summary, f->summary, MAX_STR);
            char *ev = evidence_copy(f->evidence_json);
            if (ev) {
                ff_free(x->evidence);
                x->evidence = ev;
            }
            a->st.suppressed++;
            save_locked(a);
            pthread_mutex_unlock(&a->mu);
            return;
        }
        /* resolved recently (event time)? then re-open that incident silently */
        if (a->cooldown_ms > 0) {
            for (size_t i = a->n_hist; i-- > 0;) {
                alert *h = &a->hist[i];
                if (strcmp(h->rule, f->rule) || strcmp(h->key, key))
                    continue;
                if (f->at_ms - h->resolved_at < a->cooldown_ms) {
                    alert x = *h;
                    memmove(a->hist + i, a->hist + i + 1, (a->n_hist - i - 1) * sizeof *a->hist);
                    a->n_hist--;
                    x.state = FF_ALERT_FIRING;
                    x.resolved_at = 0;
                    x.updated_at = f->at_ms;
                    x.value = f->value;
                    x.threshold = f->threshold;
                    x.reopened++;
                    char *ev = evidence_copy(f->evidence_json);
                    if (ev) {
                        ff_free(x.evidence);
                        x.evidence = ev;
                    }
                    if (push_alert(&a->open, &a->n_open, &a->cap_open, &x))
                        a->st.firing_now = a->n_open;
                    else
                        alert_free(&x);
                    a->st.suppressed++;
                    save_locked(a);
                    pthread_mutex_unlock(&a->mu);
                    return;
                }
                break; /* only the latest resolution of this identity counts */
            }
        }
        if (a->n_open >= MAX_OPEN) { /* bounded: the oldest open alert is closed */
            alert old = a->open[0];
            memmove(a->open, a->open + 1, (a->n_open - 1) * sizeof *a->open);
            a->n_open--;
            old.state = FF_ALERT_RESOLVED;
            old.resolved_at = f->at_ms;
            history_add_locked(a, &old);
        }
        alert x = {0};
        x.id = a->next_id++;
        x.rule = dup_bounded(f->rule, MAX_STR);
        x.key = dup_bounded(key, MAX_STR);
        x.severity = dup_bounded(f->severity && *f->severity ? f->severity : "warning", 32);
        x.summary = dup_bounded(f->summary ? f->summary : "", MAX_STR);
        x.evidence = evidence_copy(f->evidence_json);
        x.state = FF_ALERT_FIRING;
        x.fired_at = x.updated_at = f->at_ms;
        x.value = f->value;
        x.threshold = f->threshold;
        if (!x.rule || !x.key || !x.severity || !x.summary || !x.evidence ||
            !push_alert(&a->open, &a->n_open, &a->cap_open, &x)) {
            alert_free(&x);
            pthread_mutex_unlock(&a->mu);
            return;
        }
        a->st.fired++;
        a->st.firing_now = a->n_open;
        FF_LOG(FF_LOG_INFO, "alert", "FIRING %s key=%s value=%g threshold=%g", x.rule, x.key,
               x.value, x.threshold);
        notify_locked(a, &a->open[a->n_open - 1]);
        save_locked(a);
    } else {
        if (oi == a->n_open) { /* nothing open: ignore */
            pthread_mutex_unlock(&a->mu);
            return;
        }
        alert x = a->open[oi];
        memmove(a->open + oi, a->open + oi + 1, (a->n_open - oi - 1) * sizeof *a->open);
        a->n_open--;
        x.state = FF_ALERT_RESOLVED;
        x.resolved_at = x.updated_at = f->at_ms;
        if (f->evidence_json && *f->evidence_json) {
            char *ev = evidence_copy(f->evidence_json);
            if (ev) {
                ff_free(x.evidence);
                x.evidence = ev;
            }
        }
        x.value = f->value;
        a->st.resolved++;
        a->st.firing_now = a->n_open;
        FF_LOG(FF_LOG_INFO, "alert", "RESOLVED %s key=%s", x.rule, x.key);
        notify_locked(a, &x);
        history_add_locked(a, &x);
        save_locked(a);
    }
    pthread_mutex_unlock(&a->mu);
}

/* ---- open / close / read ------------------------------------------------------------------ */

static ff_rc mkdir_p(const char *dir, ff_err *err)
{
    char p[4096];
    size_t l = strlen(dir);
    if (l >= sizeof p)
        return FF_ERR_SET(err, FF_EINVAL, "alerts: path too long");
    memcpy(p, dir, l + 1);
    for (size_t i = 1; i <= l; i++) {
        if (p[i] == '/' || p[i] == 0) {
            char c = p[i];
            p[i] = 0;
            if (mkdir(p, 0755) != 0 && errno != EEXIST)
                return FF_ERR_SYS(err, FF_EIO, "alerts: cannot create %s", p);
            p[i] = c;
        }
    }
    return FF_OK;
}

ff_rc ff_alerts_open(const ff_alerts_opts *o, ff_alerts **out, ff_err *err)
{
    *out = NULL;
    ff_alerts_opts d = {0};
    if (!o)
        o = &d;
    if (o->webhook_format && strcmp(o->webhook_format, "json") &&
        strcmp(o->webhook_format, "slack"))
        return FF_ERR_SET(err, FF_EINVAL, "alerts: webhook format must be json or slack, got '%s'",
                          o->webhook_format);
    for (size_t i = 0; i < o->n_webhooks; i++) {
        const char *u = o->webhooks[i];
        if (!strncmp(u, "slack+", 6))
            u += 6;
        if (strncmp(u, "http://", 7) && strncmp(u, "https://", 8))
            return FF_ERR_SET(err, FF_EINVAL,
                              "alerts: webhook '%s' must start with http:// or https:// "
                              "(optionally slack+)",
                              o->webhooks[i]);
    }
    pthread_once(&curl_once, curl_init_once);
    ff_alerts *a = ff_calloc(1, sizeof *a);
    if (!a)
        return FF_ERR_SET(err, FF_ENOMEM, "alerts: out of memory");
    pthread_mutex_init(&a->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->cv, &ca);
    pthread_cond_init(&a->idle, &ca);
    pthread_condattr_destroy(&ca);
    a->cooldown_ms = o->cooldown_ms == 0  ? DEF_COOLDOWN_MS
                     : o->cooldown_ms < 0 ? 0
                                          : o->cooldown_ms;
    a->history_max = o->history_max ? o->history_max : DEF_HISTORY;
    a->max_attempts = o->max_attempts > 0 ? o->max_attempts : DEF_ATTEMPTS;
    a->backoff_base_ms = o->backoff_base_ms > 0 ? o->backoff_base_ms : DEF_BACKOFF_MS;
    a->backoff_max_ms = o->backoff_max_ms > 0 ? o->backoff_max_ms : DEF_BACKOFF_MAX_MS;
    if (a->backoff_max_ms < a->backoff_base_ms)
        a->backoff_max_ms = a->backoff_base_ms;
    a->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEF_TIMEOUT_MS;
    a->queue_max = o->queue_max ? o->queue_max : DEF_QUEUE;
    a->rng = o->seed ? o->seed : (uint64_t)ff_clock_mono_ns() ^ (uint64_t)getpid() << 32;
    a->next_id = 1;
    bool slack_all = o->webhook_format && !strcmp(o->webhook_format, "slack");
    ff_rc rc = FF_OK;
    if (o->n_webhooks) {
        a->hooks = ff_calloc(o->n_webhooks, sizeof *a->hooks);
        if (!a->hooks)
            rc = FF_ERR_SET(err, FF_ENOMEM, "alerts: out of memory");
        for (size_t i = 0; rc == FF_OK && i < o->n_webhooks; i++) {
            const char *u = o->webhooks[i];
            bool sl = slack_all;
            if (!strncmp(u, "slack+", 6)) {
                u += 6;
                sl = true;
            }
            a->hooks[i].url = ff_strdup(u);
            a->hooks[i].slack = sl;
            a->n_hooks++;
            if (!a->hooks[i].url)
                rc = FF_ERR_SET(err, FF_ENOMEM, "alerts: out of memory");
        }
    }
    if (rc == FF_OK && o->dir) {
        a->dir = ff_strdup(o->dir);
        if (!a->dir)
            rc = FF_ERR_SET(err, FF_ENOMEM, "alerts: out of memory");
        else if ((rc = mkdir_p(a->dir, err)) == FF_OK)
            rc = load_state(a, err);
    }
    if (rc == FF_OK) {
        if (pthread_create(&a->thread, NULL, deliver_main, a) != 0)
            rc = FF_ERR_SYS(err, FF_EIO, "alerts: cannot start the delivery thread");
        else
            a->thread_started = true;
    }
    if (rc != FF_OK) {
        ff_alerts_close(a);
        return rc;
    }
    *out = a;
    return FF_OK;
}

void ff_alerts_close(ff_alerts *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    if (a->thread_started)
        pthread_join(a->thread, NULL);
    /* What was not delivered by now is kept in the dead-letter file, never lost silently. */
    for (job *j = a->q_head, *n; j; j = n) {
        n = j->next;
        if (!j->last_error[0])
            snprintf(j->last_error, sizeof j->last_error, "not sent before shutdown");
        dead_letter_locked(a, j, "shutdown");
        job_free(j);
    }
    for (size_t i = 0; i < a->n_open; i++)
        alert_free(&a->open[i]);
    for (size_t i = 0; i < a->n_hist; i++)
        alert_free(&a->hist[i]);
    for (size_t i = 0; i < a->n_hooks; i++)
        ff_free(a->hooks[i].url);
    ff_free(a->hooks);
    ff_free(a->open);
    ff_free(a->hist);
    ff_free(a->dir);
    ff_free(a->rules_json);
    pthread_cond_destroy(&a->cv);
    pthread_cond_destroy(&a->idle);
    pthread_mutex_destroy(&a->mu);
    ff_free(a);
}

ff_rc ff_alerts_set_rules_json(ff_alerts *a, const char *json, ff_err *err)
{
    if (!json)
        json = "{\"rules\":[]}";
    size_t l = strlen(json);
    ff_arena ar;
    ff_arena_init(&ar, 65536, 64u << 20);
    ff_json *root = NULL;
    bool ok = ff_json_parse(json, l, NULL, &ar, &root, NULL) == FF_OK &&
              root->type == FF_JSON_OBJECT && root->n_children > 0 && json[0] == '{' &&
              json[l - 1] == '}';
    ff_arena_fini(&ar);
    if (!ok)
        return FF_ERR_SET(err, FF_EINVAL, "alerts: in-force JSON must be a non-empty object");
    char *c = ff_strdup(json);
    if (!c)
        return FF_ERR_SET(err, FF_ENOMEM, "alerts: out of memory");
    pthread_mutex_lock(&a->mu);
    ff_free(a->rules_json);
    a->rules_json = c;
    pthread_mutex_unlock(&a->mu);
    return FF_OK;
}

static void write_stats(ff_buf *b, const ff_alerts_stats *s, size_t n_hooks)
{
    ff_buf_printf(b,
                  "{\"webhooks\":%zu,\"fired\":%" PRIu64 ",\"resolved\":%" PRIu64
                  ",\"suppressed\":%" PRIu64 ",\"delivered\":%" PRIu64 ",\"attempts\":%" PRIu64
                  ",\"failures\":%" PRIu64 ",\"dead_lettered\":%" PRIu64 ",\"queued\":%" PRIu64 "}",
                  n_hooks, s->fired, s->resolved, s->suppressed, s->deliveries_ok,
                  s->delivery_attempts, s->delivery_failures, s->dead_lettered, s->queue_len);
}

ff_rc ff_alerts_json(ff_alerts *a, ff_buf *out, ff_err *err)
{
    pthread_mutex_lock(&a->mu);
    ff_buf_adds(out, "{\"firing\":[");
    for (size_t i = a->n_open; i-- > 0;) { /* newest first */
        write_alert(out, &a->open[i]);
        if (i)
            ff_buf_addc(out, ',');
    }
    ff_buf_adds(out, "],\"resolved\":[");
    for (size_t i = a->n_hist; i-- > 0;) {
        write_alert(out, &a->hist[i]);
        if (i)
            ff_buf_addc(out, ',');
    }
    /* the members of the in-force object (checked to be an object when set) */
    const char *inf = a->rules_json ? a->rules_json : "{\"rules\":[]}";
    size_t il = strlen(inf);
    ff_buf_adds(out, "],");
    if (il > 2)
        ff_buf_add(out, inf + 1, il - 2);
    else
        ff_buf_adds(out, "\"rules\":[]");
    ff_buf_printf(out, ",\"cooldown_s\":%" PRId64 ",\"delivery\":", a->cooldown_ms / 1000);
    ff_alerts_stats s = a->st;
    s.queue_len = a->q_len;
    write_stats(out, &s, a->n_hooks);
    ff_rc rc = ff_buf_addc(out, '}');
    pthread_mutex_unlock(&a->mu);
    return rc == FF_OK ? FF_OK : FF_ERR_SET(err, rc, "alerts: answer too large");
}

void ff_alerts_stats_get(ff_alerts *a, ff_alerts_stats *out)
{
    pthread_mutex_lock(&a->mu);
    *out = a->st;
    out->queue_len = a->q_len;
    out->firing_now = a->n_open;
    pthread_mutex_unlock(&a->mu);
}

ff_rc ff_alerts_metrics(ff_alerts *a, ff_buf *out)
{
    ff_alerts_stats s;
    ff_alerts_stats_get(a, &s);
    return ff_buf_printf(
        out,
        "# HELP footfall_alerts_firing Alerts firing now.\n"
        "# TYPE footfall_alerts_firing gauge\nfootfall_alerts_firing %" PRIu64 "\n"
        "# TYPE footfall_alerts_fired_total counter\nfootfall_alerts_fired_total %" PRIu64 "\n"
        "# TYPE footfall_alerts_resolved_total counter\nfootfall_alerts_resolved_total %" PRIu64
        "\n# HELP footfall_alerts_suppressed_total Repeats and re-fires within the cooldown.\n"
        "# TYPE footfall_alerts_suppressed_total counter\nfootfall_alerts_suppressed_total "
        "%" PRIu64 "\n"
        "# TYPE footfall_webhook_deliveries_total counter\nfootfall_webhook_deliveries_total "
        "%" PRIu64 "\n"
        "# TYPE footfall_webhook_attempts_total counter\nfootfall_webhook_attempts_total %" PRIu64
        "\n# TYPE footfall_webhook_failures_total counter\nfootfall_webhook_failures_total "
        "%" PRIu64 "\n"
        "# HELP footfall_webhook_dead_letters_total Deliveries given up "
        "(DATA/alerts/dead-letter.ndjson).\n"
        "# TYPE footfall_webhook_dead_letters_total counter\nfootfall_webhook_dead_letters_total "
        "%" PRIu64 "\n"
        "# TYPE footfall_webhook_queue gauge\nfootfall_webhook_queue %" PRIu64 "\n",
        s.firing_now, s.fired, s.resolved, s.suppressed, s.deliveries_ok, s.delivery_attempts,
        s.delivery_failures, s.dead_lettered, s.queue_len);
}

bool ff_alerts_flush(ff_alerts *a, int64_t timeout_ms)
{
    int64_t end = mono_ms() + timeout_ms;
    pthread_mutex_lock(&a->mu);
    while ((a->q_len > 0 || a->busy) && mono_ms() < end) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&a->idle, &a->mu, &ts);
    }
    bool empty = a->q_len == 0 && !a->busy;
    pthread_mutex_unlock(&a->mu);
    return empty;
}
