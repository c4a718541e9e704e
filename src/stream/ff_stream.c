/* ff_stream.c -- the stream processor. Design: ff_stream.h. */
#include "stream/ff_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/ff_arena.h"
#include "core/ff_clock.h"
#include "core/ff_json.h"
#include "core/ff_log.h"
#include "core/ff_mem.h"
#include "store/ff_schema.h"
#include "stream/ff_session.h"
#include "stream/ff_stream_int.h"
#include "stream/ff_topk.h"
#include "stream/ff_window.h"

#define SEC_WINDOWS 120
#define MIN_WINDOWS 60
#define SUMMARY_MINUTES 30
#define TOP_K 10
#define TOPK_EPOCH_MS (15 * 60 * 1000)
#define DELTA_RING 64
#define LOCK_BATCH 1024
#define CKPT_MAGIC "FFSTRM\0\1"
#define CKPT_VERSION 2u
#define MAX_LATENESS_MS (30 * 60 * 1000)

typedef struct totals {
    uint64_t events, late, too_late, duplicates, rejected, derived;
    uint64_t sessions_started, sessions_ended, orders, cart_sessions, converted_sessions;
    uint64_t cart_abandoned, checkout_abandoned, alerts;
    int64_t revenue_cur[FF_WIN_KEYS + 1];
    uint64_t orders_cur[FF_WIN_KEYS + 1];
} totals;

typedef struct delta_slot {
    uint64_t seq;
    char *json;
    size_t len;
} delta_slot;

struct ff_stream {
    ff_stream_opts o;
    char dir[1024];
    ff_evlog_cursor *cur;
    uint64_t next_off;
    ff_sdedupe *dd;
    ff_arena arena;

    /* ---- processing state (checkpointed) ---- */
    int64_t max_ts, wm, closed_upto, sec_final_upto, rules_adv_s, judged_upto;
    totals t;
    ff_win_tables tb;
    ff_win_ring secs, mins;
    ff_topk top_pages, top_products, top_search;
    ff_sessions *ss;

    /* ---- not checkpointed ---- */
    uint64_t gen; /* publication generation: windows changed since the last delta */
    uint64_t derived_dups, derived_appended, checkpoints, ckpt_bytes;
    uint64_t too_late_by_type[FF_WIN_TYPES]; /* since open (not checkpointed) */
    ff_buf pend;                             /* derived records to append (payload format) */
    uint32_t n_pend;
    ff_buf scratch;
    int64_t now_ms; /* received_at of derived records made in this batch */

    /* ---- live feed ---- */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    delta_slot ring[DELTA_RING];
    uint64_t seq;
    bool shutdown;

    /* ---- thread ---- */
    pthread_t th;
    bool running;
    atomic_bool stop;
    ff_rc sticky;
    ff_err sticky_err;
    atomic_bool failed;
};

/* ---- small helpers ----------------------------------------------------------------------- */

static bool str_is(ff_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

static bool row_is_derived(const ff_row *r)
{
    static const char pat[] = "\"$flags\":[\"derived\"";
    ff_str p = r->str[FF_COL_PROPERTIES];
    return p.len && memmem(p.p, p.len, pat, sizeof pat - 1) != NULL;
}

static void sink_count(void *ctx, const ff_alert_fire *f)
{
    ff_stream *s = ctx;
    s->t.alerts++;
    if (s->o.sink)
        s->o.sink(s->o.sink_ctx, f);
}

static void mark(ff_stream *s, ff_win *w)
{
    w->dirty_gen = s->gen;
}

/* ---- derived records --------------------------------------------------------------------- */

static void jkey(ff_buf *b, const char *k)
{
    ff_buf_printf(b, ",\"%s\":", k);
}

static void jstr(ff_buf *b, const char *k, const char *v)
{
    if (!v || !*v)
        return;
    jkey(b, k);
    ff_json_write_str(b, v, strlen(v));
}

static void emit_derived(void *ctx, ff_sess_derived kind, const ff_sess *ss, int64_t ts)
{
    ff_stream *s = ctx;
    static const char *const names[] = {"session_ended", "cart_abandoned", "checkout_abandoned"};
    const char *name = names[kind];
    if (kind == FF_SESS_ENDED) {
        s->t.sessions_ended++;
        if (ss->had_cart) {
            s->t.cart_sessions++;
            if (ss->converted)
                s->t.converted_sessions++;
        }
    } else if (kind == FF_SESS_CART_ABANDONED) {
        s->t.cart_abandoned++;
    } else {
        s->t.checkout_abandoned++;
    }
    if (s->o.no_derived)
        return;
    char idtext[128], id[37];
    int n = snprintf(idtext, sizeof idtext, "%s|%s|%" PRId64, name, ss->sid,
                     kind == FF_SESS_ENDED ? (int64_t)0 : ss->cart_start_ts);
    ff_stream_uuid(idtext, (size_t)n, id);
    ff_buf *b = &s->scratch;
    ff_buf_reset(b);
    ff_buf_printf(b, "{\"v\":1,\"event_id\":\"%s\",\"type\":\"track\",\"event\":\"%s\"", id, name);
    ff_buf_printf(b, ",\"ts\":%" PRId64 ",\"received_at\":%" PRId64, ts, s->now_ms);
    jstr(b, "user_id", ff_sess_user_id(ss));
    jstr(b, "anonymous_id", ff_sess_anon_id(ss));
    jstr(b, "session_id", ss->sid);
    ff_buf_printf(b, ",\"properties\":{\"session_start\":%" PRId64, ss->start_ts);
    if (kind == FF_SESS_ENDED) {
        ff_buf_printf(b,
                      ",\"duration_ms\":%" PRId64 ",\"events\":%u,\"pages\":%u,\"orders\":%u"
                      ",\"converted\":%s",
                      ss->last_ts - ss->start_ts, ss->events, ss->pages, ss->orders,
                      ss->converted ? "true" : "false");
        jstr(b, "entry_page", ss->entry_page);
        jstr(b, "exit_page", ss->exit_page);
        if (ss->currency) {
            char d[32];
            ff_decimal_format(ss->revenue, d);
            jstr(b, "revenue", d);
            jstr(b, "currency", ss->currency);
        }
    } else {
        ff_buf_printf(b,
                      ",\"cart_items\":%d,\"cart_started\":%" PRId64
                      ",\"last_cart_activity\":%" PRId64 ",\"abandon_ms\":%" PRId64,
                      ss->cart_items, ss->cart_start_ts, ss->cart_last_ts, s->o.abandon_ms);
        if (kind == FF_SESS_CHECKOUT_ABANDONED)
            ff_buf_printf(b, ",\"checkout_started\":%" PRId64, ss->checkout_ts);
    }
    ff_buf_adds(b, "},\"flags\":[\"derived\"]}");
    uint32_t len = (uint32_t)b->len;
    unsigned char hdr[4] = {(unsigned char)len, (unsigned char)(len >> 8),
                            (unsigned char)(len >> 16), (unsigned char)(len >> 24)};
    if (ff_buf_add(&s->pend, hdr, 4) == FF_OK && ff_buf_add(&s->pend, b->data, b->len) == FF_OK)
        s->n_pend++;
}

static void fact(void *ctx, ff_sess_fact f, int64_t ts)
{
    ff_stream *s = ctx;
    ff_win *ws[2] = {ff_win_ring_at(&s->secs, ts, true), ff_win_ring_at(&s->mins, ts, true)};
    if (f == FF_SESS_STARTED)
        s->t.sessions_started++;
    for (int i = 0; i < 2; i++) {
        ff_win *w = ws[i];
        if (!w)
            continue;
        if (f == FF_SESS_STARTED)
            w->sessions_started++;
        else if (f == FF_SESS_CART)
            w->cart_sessions++;
        else
            w->converted++;
        mark(s, w);
    }
}

/* ---- event time -------------------------------------------------------------------------- */

/* A minute is final once the watermark minus the allowed lateness has passed it. */
static void close_minute(ff_stream *s, int64_t m)
{
    ff_win *w = ff_win_ring_at(&s->mins, m, false);
    if (w) {
        w->final = 1;
        mark(s, w);
    }
}

/* The anomaly detector judges a minute as soon as the watermark passes its end, not when it
 * is final: an incident must be reported within a couple of minutes, and waiting for the
 * allowed lateness (5 minutes by default) would delay every alert by that much. Events later
 * than the watermark still count in the minute's live and stored figures; the detector has
 * seen the minute without them (docs/architecture.md, "Stream"). */
static void judge_minute(ff_stream *s, int64_t m)
{
    if (!s->o.anomaly)
        return;
    ff_win *w = ff_win_ring_at(&s->mins, m, false);
    ff_win z;
    if (!w) {
        ff_win_clear(&z, m);
        w = &z;
    }
    double att = (double)w->pay_ok + w->pay_fail;
    double rev = 0;
    for (int i = 0; i <= FF_WIN_KEYS; i++)
        rev += (double)w->revenue_cur[i] / FF_DECIMAL_SCALE;
    ff_anomaly_observe(s->o.anomaly, "events", m, (double)w->events, 0, sink_count, s);
    ff_anomaly_observe(s->o.anomaly, "payment_failure_rate", m, att ? w->pay_fail / att : 0, att,
                       sink_count, s);
    ff_anomaly_observe(s->o.anomaly, "cart_conversion", m,
                       w->cart_sessions ? (double)w->converted / w->cart_sessions : 0,
                       (double)w->cart_sessions, sink_count, s);
    ff_anomaly_observe(s->o.anomaly, "revenue", m, rev, 0, sink_count, s);
}

static const ff_sess_hooks *hooks(ff_stream *s)
{
    static __thread ff_sess_hooks h;
    h.ctx = s;
    h.fact = fact;
    h.derived = emit_derived;
    return &h;
}

static void on_watermark(ff_stream *s)
{
    int64_t w = s->wm;
    ff_sessions_advance(s->ss, w, hooks(s));
    /* close minutes */
    int64_t limit = w - s->o.lateness_ms;
    if (s->closed_upto == INT64_MIN)
        s->closed_upto = ff_win_align(limit, 60000);
    if (limit - s->closed_upto > (int64_t)MIN_WINDOWS * 60000)
        s->closed_upto = ff_win_align(limit, 60000) - (int64_t)MIN_WINDOWS * 60000;
    while (s->closed_upto + 60000 <= limit) {
        close_minute(s, s->closed_upto);
        s->closed_upto += 60000;
    }
    if (s->judged_upto == INT64_MIN)
        s->judged_upto = ff_win_align(w, 60000);
    if (w - s->judged_upto > (int64_t)MIN_WINDOWS * 60000)
        s->judged_upto = ff_win_align(w, 60000) - (int64_t)MIN_WINDOWS * 60000;
    while (s->judged_upto + 60000 <= w) {
        judge_minute(s, s->judged_upto);
        s->judged_upto += 60000;
    }
    /* second windows: final once the watermark passed them */
    if (s->sec_final_upto == INT64_MIN)
        s->sec_final_upto = ff_win_align(w, 1000);
    if (w - s->sec_final_upto > (int64_t)SEC_WINDOWS * 1000)
        s->sec_final_upto = ff_win_align(w, 1000) - (int64_t)SEC_WINDOWS * 1000;
    while (s->sec_final_upto + 1000 <= w) {
        ff_win *sw = ff_win_ring_at(&s->secs, s->sec_final_upto, false);
        if (sw) {
            sw->final = 1;
            mark(s, sw);
        }
        s->sec_final_upto += 1000;
    }
    if (s->o.rules) {
        int64_t sec = w / 1000;
        if (sec != s->rules_adv_s) {
            s->rules_adv_s = sec;
            ff_rules_advance(s->o.rules, w, sink_count, s);
        }
    }
}

/* ---- one event --------------------------------------------------------------------------- */

static void win_event(ff_stream *s, ff_win *w, const ff_row *r, uint32_t ti, uint32_t ei,
                      uint32_t ci, uint32_t mi, int kind)
{
    w->events++;
    w->by_type[ti]++;
    w->by_event[ei]++;
    if (kind == 1) { /* order */
        w->orders++;
        w->orders_cur[ci]++;
        if (!(r->null & FF_COLSET(FF_COL_REVENUE)))
            w->revenue_cur[ci] += r->num[FF_COL_REVENUE];
    }
    if (kind == 1 || kind == 2) {
        int k = kind == 1 ? 0 : 1;
        if (k == 0)
            w->pay_ok++;
        else
            w->pay_fail++;
        if (r->str[FF_COL_CURRENCY].len)
            w->pay_cur[ci][k]++;
        if (mi != UINT32_MAX)
            w->pay_meth[mi][k]++;
    }
    if (kind == 3)
        w->checkouts_started++;
    mark(s, w);
}

static ff_rc process_row(ff_stream *s, const ff_row *r)
{
    s->t.events++;
    int64_t ts = r->num[FF_COL_TS];
    if (s->max_ts == INT64_MIN || ts > s->max_ts) {
        s->max_ts = ts;
        int64_t nw = ts - s->o.watermark_ms;
        if (s->wm == INT64_MIN || nw > s->wm) {
            s->wm = nw;
            on_watermark(s);
        }
    }
    ff_str type = r->str[FF_COL_TYPE], ev = r->str[FF_COL_EVENT];
    uint32_t ti = ff_win_type_index(type.p, type.len);
    if (s->o.rules)
        ff_rules_on_event(s->o.rules, r, sink_count, s);
    if (ts < s->wm - s->o.lateness_ms) {
        s->t.too_late++;
        s->too_late_by_type[ti]++;
        return FF_OK;
    }
    if (ts < s->wm)
        s->t.late++;
    uint32_t ei = ff_names_get(&s->tb.events, ev.p, ev.len);
    int kind = 0;
    if (str_is(ev, "order_completed"))
        kind = 1;
    else if (str_is(ev, "payment_failed"))
        kind = 2;
    else if (str_is(ev, "checkout_started"))
        kind = 3;
    uint32_t ci = 0, mi = UINT32_MAX;
    if (kind == 1 || kind == 2) {
        ff_str c = r->str[FF_COL_CURRENCY];
        ci = c.len ? ff_names_get(&s->tb.currencies, c.p, c.len)
                   : ff_names_get(&s->tb.currencies, "???", 3);
        ff_str p = r->str[FF_COL_PROPERTIES];
        size_t ml;
        const char *m = ff_stream_json_str(p.p, p.len, "payment_method", &ml);
        if (m && ml)
            mi = ff_names_get(&s->tb.methods, m, ml);
    }
    if (kind == 1) {
        s->t.orders++;
        s->t.orders_cur[ci]++;
        if (!(r->null & FF_COLSET(FF_COL_REVENUE)))
            s->t.revenue_cur[ci] += r->num[FF_COL_REVENUE];
    }
    ff_win *sw = ff_win_ring_at(&s->secs, ts, true);
    if (sw)
        win_event(s, sw, r, ti, ei, ci, mi, kind);
    ff_win *mw = ff_win_ring_at(&s->mins, ts, true);
    if (mw)
        win_event(s, mw, r, ti, ei, ci, mi, kind);
    /* top-K */
    if (str_is(type, "page") || str_is(ev, "page_viewed")) {
        size_t pl;
        const char *path = ff_stream_url_path(r->str[FF_COL_URL].p, r->str[FF_COL_URL].len, &pl);
        ff_topk_add(&s->top_pages, path, pl, ts);
    }
    if (str_is(ev, "product_viewed") && r->str[FF_COL_PRODUCT_ID].len)
        ff_topk_add(&s->top_products, r->str[FF_COL_PRODUCT_ID].p, r->str[FF_COL_PRODUCT_ID].len,
                    ts);
    if (r->str[FF_COL_SEARCH_TERM].len)
        ff_topk_add(&s->top_search, r->str[FF_COL_SEARCH_TERM].p, r->str[FF_COL_SEARCH_TERM].len,
                    ts);
    return ff_sessions_on_event(s->ss, r, hooks(s));
}

static ff_rc process_record(ff_stream *s, const void *rec, size_t len, uint64_t off)
{
    ff_row row;
    ff_err e = {0};
    ff_rc rc = ff_row_from_record(rec, len, off, &s->arena, &row, &e);
    if (rc == FF_EBADINPUT) {
        s->t.rejected++;
        return FF_OK;
    }
    if (rc)
        return rc;
    bool derived = row_is_derived(&row);
    ff_str id = row.str[FF_COL_EVENT_ID];
    if (s->o.dedupe_window_ms >= 0 &&
        ff_sdedupe_check(s->dd, id.p, id.len, row.num[FF_COL_RECEIVED_AT])) {
        if (derived)
            s->derived_dups++;
        else
            s->t.duplicates++;
        return FF_OK;
    }
    if (derived) {
        s->t.derived++;
        return FF_OK;
    }
    return process_row(s, &row);
}

/* ---- poll -------------------------------------------------------------------------------- */

static ff_rc flush_derived(ff_stream *s, ff_err *err)
{
    if (!s->n_pend)
        return FF_OK;
    ff_rc rc = ff_evlog_append(s->o.log, s->pend.data, s->pend.len, s->n_pend, NULL, err);
    if (rc)
        return rc;
    s->derived_appended += s->n_pend;
    ff_buf_reset(&s->pend);
    s->n_pend = 0;
    return FF_OK;
}

ff_rc ff_stream_poll(ff_stream *s, uint64_t max_records, uint64_t *n_read_out, ff_err *err)
{
    uint64_t n = 0;
    ff_rc rc = FF_OK;
    if (atomic_load(&s->failed))
        return FF_ERR_SET(err, FF_EFAILED, "stream processor failed earlier: restart it");
    bool eof = false;
    while (!eof && (!max_records || n < max_records)) {
        pthread_mutex_lock(&s->mu);
        s->now_ms = ff_clock_now_ms();
        for (int k = 0; k < LOCK_BATCH && (!max_records || n < max_records); k++) {
            uint64_t off;
            const void *rec;
            size_t len;
            rc = ff_evlog_cursor_next(s->cur, &off, &rec, &len, err);
            if (rc == FF_EOF) {
                rc = FF_OK;
                eof = true;
                break;
            }
            if (rc)
                break;
            rc = process_record(s, rec, len, off);
            if (rc) {
                FF_ERR_SET(err, rc, "stream: processing record %" PRIu64 " failed", off);
                break;
            }
            s->next_off = off + 1;
            n++;
            ff_arena_reset(&s->arena); /* keeps its first chunk: no allocation per record */
        }
        pthread_mutex_unlock(&s->mu);
        ff_arena_reset(&s->arena);
        if (rc)
            break;
        if (s->pend.len > (4u << 20)) {
            rc = flush_derived(s, err);
            if (rc)
                break;
        }
    }
    if (rc == FF_OK)
        rc = flush_derived(s, err);
    if (rc)
        atomic_store(&s->failed, true);
    if (n_read_out)
        *n_read_out = n;
    return rc;
}

/* ---- checkpoint -------------------------------------------------------------------------- */

static ff_rc fsync_dir(const char *path, ff_err *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return FF_ERR_SYS(err, FF_EIO, "cannot open folder %s", path);
    int r = fsync(fd);
    close(fd);
    return r == 0 ? FF_OK : FF_ERR_SYS(err, FF_EIO, "fsync folder %s", path);
}

static ff_rc save_state(ff_stream *s, ff_buf *b, ff_err *err)
{
    ff_rc rc = ff_ser_u64(b, s->next_off);
    const int64_t hdr[] = {s->max_ts,         s->wm,          s->closed_upto,
                           s->sec_final_upto, s->rules_adv_s, s->judged_upto};
    for (size_t i = 0; rc == FF_OK && i < sizeof hdr / sizeof hdr[0]; i++)
        rc = ff_ser_i64(b, hdr[i]);
    rc = rc ? rc : ff_ser_bytes(b, &s->t, sizeof s->t);
    rc = rc ? rc : ff_names_save(&s->tb.events, b);
    rc = rc ? rc : ff_names_save(&s->tb.currencies, b);
    rc = rc ? rc : ff_names_save(&s->tb.methods, b);
    rc = rc ? rc : ff_win_ring_save(&s->secs, b);
    rc = rc ? rc : ff_win_ring_save(&s->mins, b);
    rc = rc ? rc : ff_topk_save(&s->top_pages, b);
    rc = rc ? rc : ff_topk_save(&s->top_products, b);
    rc = rc ? rc : ff_topk_save(&s->top_search, b);
    rc = rc ? rc : ff_sessions_save(s->ss, b);
    if (rc)
        return FF_ERR_SET(err, rc, "checkpoint too large or out of memory");
    ff_buf blob;
    ff_buf_init(&blob, (size_t)1 << 30);
    if (s->o.rules)
        rc = ff_rules_save(s->o.rules, &blob, err);
    if (rc == FF_OK)
        rc = ff_ser_bytes(b, blob.data, blob.len);
    ff_buf_reset(&blob);
    if (rc == FF_OK && s->o.anomaly)
        rc = ff_anomaly_save(s->o.anomaly, &blob, err);
    if (rc == FF_OK)
        rc = ff_ser_bytes(b, blob.data, blob.len);
    ff_buf_fini(&blob);
    return rc;
}

ff_rc ff_stream_checkpoint(ff_stream *s, ff_err *err)
{
    ff_rc rc = flush_derived(s, err); /* INVARIANT (2) */
    if (rc)
        return rc;
    ff_buf b;
    ff_buf_init(&b, (size_t)4 << 30);
    char head[24] = {0};
    ff_buf_add(&b, head, sizeof head);
    rc = save_state(s, &b, err);
    if (rc) {
        ff_buf_fini(&b);
        return rc;
    }
    uint64_t plen = b.len - sizeof head;
    uint32_t crc = (uint32_t)crc32(0, (const Bytef *)b.data + sizeof head, (uInt)plen);
    memcpy(b.data, CKPT_MAGIC, 8);
    for (int i = 0; i < 4; i++) {
        b.data[8 + i] = (char)(CKPT_VERSION >> (8 * i));
        b.data[12 + i] = (char)(crc >> (8 * i));
    }
    for (int i = 0; i < 8; i++)
        b.data[16 + i] = (char)(plen >> (8 * i));
    char tmp[1100], path[1100];
    snprintf(tmp, sizeof tmp, "%s/CHECKPOINT.tmp", s->dir);
    snprintf(path, sizeof path, "%s/CHECKPOINT", s->dir);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        ff_buf_fini(&b);
        return FF_ERR_SYS(err, FF_EIO, "cannot create %s", tmp);
    }
    size_t done = 0;
    while (done < b.len) {
        ssize_t w = write(fd, b.data + done, b.len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    bool ok = done == b.len && (s->o.no_sync || fsync(fd) == 0);
    int e = errno;
    close(fd);
    size_t total = b.len;
    ff_buf_fini(&b);
    if (!ok) {
        errno = e;
        return FF_ERR_SYS(err, FF_EIO, "cannot write %s", tmp);
    }
    if (rename(tmp, path) != 0)
        return FF_ERR_SYS(err, FF_EIO, "cannot rename %s", tmp);
    rc = s->o.no_sync ? FF_OK : fsync_dir(s->dir, err);
    if (rc == FF_OK) {
        s->checkpoints++;
        s->ckpt_bytes = total;
    }
    return rc;
}

static ff_rc load_checkpoint(ff_stream *s, ff_err *err)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/CHECKPOINT", s->dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return FF_OK; /* a fresh start: from offset 0 */
        return FF_ERR_SYS(err, FF_EIO, "cannot open %s", path);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return FF_ERR_SYS(err, FF_EIO, "cannot stat %s", path);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *p = ff_malloc(n ? n : 1);
    if (!p) {
        close(fd);
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory reading %s", path);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    ff_rc rc = FF_OK;
    uint64_t plen = 0;
    uint32_t ver = 0, crc = 0;
    if (got == n && n >= 24) {
        for (int i = 0; i < 4; i++) {
            ver |= (uint32_t)p[8 + i] << (8 * i);
            crc |= (uint32_t)p[12 + i] << (8 * i);
        }
        for (int i = 0; i < 8; i++)
            plen |= (uint64_t)p[16 + i] << (8 * i);
    }
    if (got != n || n < 24 || memcmp(p, CKPT_MAGIC, 8) != 0 || ver != CKPT_VERSION ||
        plen != n - 24 || crc != (uint32_t)crc32(0, p + 24, (uInt)plen)) {
        ff_free(p);
        return FF_ERR_SET(err, FF_ECORRUPT,
                          "%s is damaged or from another version: delete %s to rebuild the "
                          "live state from the log",
                          path, s->dir);
    }
    ff_deser d = {.p = p + 24, .n = plen};
    s->next_off = ff_deser_u64(&d);
    int64_t *hdr[] = {&s->max_ts,         &s->wm,          &s->closed_upto,
                      &s->sec_final_upto, &s->rules_adv_s, &s->judged_upto};
    for (size_t i = 0; i < sizeof hdr / sizeof hdr[0]; i++)
        *hdr[i] = ff_deser_i64(&d);
    size_t tl;
    const void *tp = ff_deser_bytes(&d, &tl);
    if (tp && tl == sizeof s->t)
        memcpy(&s->t, tp, tl);
    else
        d.bad = true;
    ff_names_load(&s->tb.events, &d);
    ff_names_load(&s->tb.currencies, &d);
    ff_names_load(&s->tb.methods, &d);
    ff_win_ring_load(&s->secs, &d);
    ff_win_ring_load(&s->mins, &d);
    ff_topk_load(&s->top_pages, &d);
    ff_topk_load(&s->top_products, &d);
    ff_topk_load(&s->top_search, &d);
    rc = ff_sessions_load(s->ss, &d);
    if (rc == FF_ENOMEM) {
        ff_free(p);
        return FF_ERR_SET(err, rc, "out of memory loading %s", path);
    }
    size_t bl;
    const void *bp = ff_deser_bytes(&d, &bl);
    if (!d.bad && bl && s->o.rules && ff_rules_load(s->o.rules, bp, bl, err) != FF_OK)
        FF_LOG(FF_LOG_WARN, "stream", "rules state in the checkpoint not loaded: %s", err->msg);
    bp = ff_deser_bytes(&d, &bl);
    if (!d.bad && bl && s->o.anomaly && ff_anomaly_load(s->o.anomaly, bp, bl, err) != FF_OK)
        FF_LOG(FF_LOG_WARN, "stream", "anomaly state in the checkpoint not loaded: %s", err->msg);
    bool bad = d.bad;
    ff_free(p);
    if (bad)
        return FF_ERR_SET(err, FF_ECORRUPT,
                          "%s does not parse: delete %s to rebuild the live state from the log",
                          path, s->dir);
    /* windows changed before the crash must reach live clients again */
    for (uint32_t i = 0; i < s->secs.n; i++)
        s->secs.slot[i].dirty_gen = 0;
    for (uint32_t i = 0; i < s->mins.n; i++)
        s->mins.slot[i].dirty_gen = 0;
    return FF_OK;
}

/* Refill the dedupe set from the records just before the resume offset. */
static ff_rc refill_dedupe(ff_stream *s, ff_err *err)
{
    if (s->o.dedupe_window_ms < 0 || s->next_off == 0)
        return FF_OK;
    ff_evlog_stats st;
    ff_evlog_stats_get(s->o.log, &st);
    uint64_t from = s->next_off > s->o.dedupe_max_ids ? s->next_off - s->o.dedupe_max_ids : 0;
    if (from < st.first_offset)
        from = st.first_offset;
    ff_evlog_cursor *c;
    ff_rc rc = ff_evlog_cursor_open(s->o.log, from, &c, err);
    if (rc)
        return rc;
    static const char rk[] = ",\"received_at\":";
    uint64_t off;
    const void *rec;
    size_t len;
    while ((rc = ff_evlog_cursor_next(c, &off, &rec, &len, err)) == FF_OK && off < s->next_off) {
        size_t il;
        const char *id = ff_stream_json_str(rec, len, "event_id", &il);
        const char *ra = memmem(rec, len, rk, sizeof rk - 1);
        if (!id || !ra)
            continue;
        int64_t at = strtoll(ra + sizeof rk - 1, NULL, 10);
        ff_sdedupe_check(s->dd, id, il, at);
    }
    ff_evlog_cursor_close(c);
    return rc == FF_EOF || rc == FF_OK ? FF_OK : rc;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

ff_rc ff_stream_open(const ff_stream_opts *opts, ff_stream **out, ff_err *err)
{
    *out = NULL;
    if (!opts->dir || !opts->log)
        return FF_ERR_SET(err, FF_EINVAL, "stream: dir and log are required");
    ff_stream *s = ff_calloc(1, sizeof *s);
    if (!s)
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    s->o = *opts;
    if (s->o.watermark_ms == 0)
        s->o.watermark_ms = 30000;
    if (s->o.watermark_ms < 0)
        s->o.watermark_ms = 0;
    if (s->o.lateness_ms == 0)
        s->o.lateness_ms = 5 * 60000;
    if (s->o.lateness_ms < 0)
        s->o.lateness_ms = 0;
    if (s->o.lateness_ms > MAX_LATENESS_MS)
        s->o.lateness_ms = MAX_LATENESS_MS;
    if (s->o.session_gap_ms <= 0)
        s->o.session_gap_ms = 30 * 60000;
    if (s->o.abandon_ms <= 0)
        s->o.abandon_ms = 30 * 60000;
    if (!s->o.checkpoint_ms)
        s->o.checkpoint_ms = 5000;
    if (!s->o.tick_ms)
        s->o.tick_ms = 1000;
    if (!s->o.dedupe_window_ms)
        s->o.dedupe_window_ms = 24LL * 3600 * 1000;
    if (!s->o.dedupe_max_ids)
        s->o.dedupe_max_ids = (uint64_t)2 << 20;
    if (!s->o.topk_counters)
        s->o.topk_counters = 100;
    snprintf(s->dir, sizeof s->dir, "%s", opts->dir);
    s->o.dir = s->dir;
    s->max_ts = s->wm = s->closed_upto = s->sec_final_upto = s->judged_upto = INT64_MIN;
    s->rules_adv_s = INT64_MIN;
    s->gen = 1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &ca);
    pthread_condattr_destroy(&ca);
    ff_arena_init(&s->arena, 1u << 20, 64u << 20);
    ff_buf_init(&s->pend, 64u << 20);
    ff_buf_init(&s->scratch, 1u << 20);
    ff_names_init(&s->tb.events, FF_WIN_NAMES);
    ff_names_init(&s->tb.currencies, FF_WIN_KEYS);
    ff_names_init(&s->tb.methods, FF_WIN_KEYS);
    ff_sessions_opts so = {.gap_ms = s->o.session_gap_ms,
                           .abandon_ms = s->o.abandon_ms,
                           .max_sessions = s->o.max_sessions,
                           .max_users = s->o.max_users,
                           .max_links = s->o.max_users};
    ff_rc rc;
    if (mkdir(s->dir, 0755) != 0 && errno != EEXIST) {
        rc = FF_ERR_SYS(err, FF_EIO, "cannot create %s", s->dir);
        goto fail;
    }
    if ((rc = ff_win_ring_init(&s->secs, SEC_WINDOWS, 1000)) ||
        (rc = ff_win_ring_init(&s->mins, MIN_WINDOWS, 60000)) ||
        (rc = ff_topk_init(&s->top_pages, s->o.topk_counters, TOPK_EPOCH_MS)) ||
        (rc = ff_topk_init(&s->top_products, s->o.topk_counters, TOPK_EPOCH_MS)) ||
        (rc = ff_topk_init(&s->top_search, s->o.topk_counters, TOPK_EPOCH_MS))) {
        FF_ERR_SET(err, rc, "stream: out of memory");
        goto fail;
    }
    if ((rc = ff_sessions_new(&so, &s->ss, err)))
        goto fail;
    s->dd = ff_sdedupe_new(s->o.dedupe_max_ids, s->o.dedupe_window_ms);
    if (!s->dd) {
        rc = FF_ERR_SET(err, FF_ENOMEM, "stream: out of memory for the dedupe set");
        goto fail;
    }
    if ((rc = load_checkpoint(s, err)))
        goto fail;
    uint64_t t0 = ff_clock_mono_ns();
    if ((rc = refill_dedupe(s, err)))
        goto fail;
    ff_evlog_stats lst;
    ff_evlog_stats_get(s->o.log, &lst);
    if (s->next_off < lst.first_offset) {
        /* retention removed records the processor never read: they cannot be counted */
        FF_LOG(FF_LOG_WARN, "stream",
               "log records %" PRIu64 "..%" PRIu64
               " were removed by retention before the stream read them; skipping",
               s->next_off, lst.first_offset - 1);
        s->next_off = lst.first_offset;
    }
    if ((rc = ff_evlog_cursor_open(s->o.log, s->next_off, &s->cur, err)))
        goto fail;
    FF_LOG(FF_LOG_INFO, "stream", "resuming at log offset %" PRIu64 " (dedupe refill %.1f ms)",
           s->next_off, (double)(ff_clock_mono_ns() - t0) / 1e6);
    *out = s;
    return FF_OK;
fail:
    ff_stream_close(s);
    return rc;
}

void ff_stream_close(ff_stream *s)
{
    if (!s)
        return;
    if (s->running) {
        ff_err e = {0};
        if (ff_stream_stop(s, &e) != FF_OK)
            FF_LOG(FF_LOG_ERROR, "stream", "stop: %s", e.msg);
    }
    ff_evlog_cursor_close(s->cur);
    ff_sdedupe_free(s->dd);
    ff_sessions_free(s->ss);
    ff_topk_fini(&s->top_pages);
    ff_topk_fini(&s->top_products);
    ff_topk_fini(&s->top_search);
    ff_win_ring_fini(&s->secs);
    ff_win_ring_fini(&s->mins);
    ff_names_fini(&s->tb.events);
    ff_names_fini(&s->tb.currencies);
    ff_names_fini(&s->tb.methods);
    ff_arena_fini(&s->arena);
    ff_buf_fini(&s->pend);
    ff_buf_fini(&s->scratch);
    for (int i = 0; i < DELTA_RING; i++)
        ff_free(s->ring[i].json);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    ff_free(s);
}

static void *thread_main(void *arg)
{
    ff_stream *s = arg;
    pthread_setname_np(pthread_self(), "ff-stream"); /* names show in top -H and perf */
    uint64_t tick_ns = (uint64_t)s->o.tick_ms * 1000000ull;
    uint64_t ckpt_ns = (uint64_t)s->o.checkpoint_ms * 1000000ull;
    uint64_t now = ff_clock_mono_ns();
    uint64_t next_tick = now + tick_ns, next_ckpt = now + ckpt_ns;
    bool dirty = false;
    while (!atomic_load(&s->stop)) {
        uint64_t n = 0;
        ff_err e = {0};
        if (!atomic_load(&s->failed)) {
            if (ff_stream_poll(s, 65536, &n, &e) != FF_OK) {
                FF_LOG(FF_LOG_ERROR, "stream", "processor failed: %s", e.msg);
                s->sticky = e.code ? e.code : FF_EFAILED;
                s->sticky_err = e;
            }
            if (n)
                dirty = true;
        }
        now = ff_clock_mono_ns();
        if (now >= next_tick) {
            ff_stream_publish(s, NULL);
            next_tick += tick_ns;
            if (next_tick <= now)
                next_tick = now + tick_ns;
        }
        if (now >= next_ckpt) {
            if (dirty && !atomic_load(&s->failed)) {
                if (ff_stream_checkpoint(s, &e) != FF_OK)
                    FF_LOG(FF_LOG_ERROR, "stream", "checkpoint: %s", e.msg);
                else
                    dirty = false;
            }
            next_ckpt = now + ckpt_ns;
        }
        if (!n) {
            uint64_t until = next_tick < next_ckpt ? next_tick : next_ckpt;
            uint64_t wait_ms = until > now ? (until - now) / 1000000ull + 1 : 1;
            if (wait_ms > 100)
                wait_ms = 100;
            if (atomic_load(&s->failed))
                usleep((useconds_t)wait_ms * 1000);
            else
                ff_evlog_wait(s->o.log, s->next_off, (uint32_t)wait_ms);
        }
    }
    if (dirty && !atomic_load(&s->failed)) {
        ff_err e = {0};
        if (ff_stream_checkpoint(s, &e) != FF_OK)
            FF_LOG(FF_LOG_ERROR, "stream", "final checkpoint: %s", e.msg);
    }
    return NULL;
}

ff_rc ff_stream_start(ff_stream *s, ff_err *err)
{
    if (s->running)
        return FF_ERR_SET(err, FF_EINVAL, "stream processor already running");
    atomic_store(&s->stop, false);
    if (pthread_create(&s->th, NULL, thread_main, s) != 0)
        return FF_ERR_SET(err, FF_EIO, "cannot start the stream thread");
    s->running = true;
    return FF_OK;
}

ff_rc ff_stream_stop(ff_stream *s, ff_err *err)
{
    if (!s->running)
        return FF_OK;
    atomic_store(&s->stop, true);
    pthread_join(s->th, NULL);
    s->running = false;
    if (s->sticky) {
        if (err)
            *err = s->sticky_err;
        return s->sticky;
    }
    return FF_OK;
}

/* ---- live view --------------------------------------------------------------------------- */

static void put_i64_or_null(ff_buf *b, const char *k, int64_t v)
{
    if (v == INT64_MIN)
        ff_buf_printf(b, ",\"%s\":null", k);
    else
        ff_buf_printf(b, ",\"%s\":%" PRId64, k, v);
}

static void write_totals(ff_stream *s, ff_buf *b)
{
    const totals *t = &s->t;
    ff_buf_printf(b,
                  ",\"totals\":{\"events\":%" PRIu64 ",\"late\":%" PRIu64 ",\"too_late\":%" PRIu64
                  ",\"duplicates\":%" PRIu64 ",\"rejected\":%" PRIu64 ",\"derived\":%" PRIu64
                  ",\"sessions_started\":%" PRIu64 ",\"sessions_ended\":%" PRIu64
                  ",\"orders\":%" PRIu64 ",\"revenue\":{",
                  t->events, t->late, t->too_late, t->duplicates, t->rejected, t->derived,
                  t->sessions_started, t->sessions_ended, t->orders);
    bool first = true;
    for (uint32_t i = 0; i <= FF_WIN_KEYS; i++) {
        if (!t->orders_cur[i] && !t->revenue_cur[i])
            continue;
        if (!first)
            ff_buf_addc(b, ',');
        first = false;
        const char *name = ff_names_name(&s->tb.currencies, i);
        ff_json_write_str(b, name, strlen(name));
        char d[32];
        size_t n = ff_decimal_format(t->revenue_cur[i], d);
        ff_buf_adds(b, ":\"");
        ff_buf_add(b, d, n);
        ff_buf_addc(b, '"');
    }
    ff_buf_printf(b,
                  "},\"cart_sessions\":%" PRIu64 ",\"converted_sessions\":%" PRIu64
                  ",\"cart_abandoned\":%" PRIu64 ",\"checkout_abandoned\":%" PRIu64
                  ",\"alerts\":%" PRIu64 "}",
                  t->cart_sessions, t->converted_sessions, t->cart_abandoned, t->checkout_abandoned,
                  t->alerts);
}

static void write_common(ff_stream *s, ff_buf *b, uint64_t seq)
{
    ff_evlog_stats st;
    ff_evlog_stats_get(s->o.log, &st);
    ff_buf_printf(b, "{\"seq\":%" PRIu64 ",\"generated_at\":%" PRId64, seq, ff_clock_now_ms());
    put_i64_or_null(b, "watermark", s->wm);
    put_i64_or_null(b, "max_event_ts", s->max_ts);
    ff_buf_printf(b, ",\"log_offset\":%" PRIu64 ",\"lag\":%" PRIu64, s->next_off,
                  st.durable_offset > s->next_off ? st.durable_offset - s->next_off : 0);
    write_totals(s, b);
    ff_sessions_stats ss;
    ff_sessions_stats_get(s->ss, &ss);
    ff_buf_printf(b,
                  ",\"active_users\":{\"1m\":%" PRIu64 ",\"5m\":%" PRIu64 ",\"30m\":%" PRIu64
                  "},\"active_sessions\":%" PRIu64 ",\"summary\":",
                  ff_sessions_active_users(s->ss, 1), ff_sessions_active_users(s->ss, 5),
                  ff_sessions_active_users(s->ss, 30), ss.open);
    ff_win sum;
    int64_t top = s->max_ts == INT64_MIN ? 0 : ff_win_align(s->max_ts, 60000);
    ff_win_clear(&sum, top - (int64_t)(SUMMARY_MINUTES - 1) * 60000);
    for (uint32_t i = 0; i < s->mins.n; i++) {
        const ff_win *w = &s->mins.slot[i];
        if (w->t != FF_WIN_EMPTY && w->t <= top && w->t > top - (int64_t)SUMMARY_MINUTES * 60000)
            ff_win_add(&sum, w);
    }
    ff_win_json(b, &sum, &s->tb);
    ff_buf_printf(b, ",\"top\":{\"window_minutes\":%d,\"pages\":", 2 * TOPK_EPOCH_MS / 60000);
    ff_topk_json(&s->top_pages, TOP_K, b);
    ff_buf_adds(b, ",\"products\":");
    ff_topk_json(&s->top_products, TOP_K, b);
    ff_buf_adds(b, ",\"search_terms\":");
    ff_topk_json(&s->top_search, TOP_K, b);
    ff_buf_addc(b, '}');
}

static void write_range(ff_stream *s, ff_buf *b, const ff_win_ring *r, bool minutes)
{
    ff_buf_addc(b, '[');
    if (s->max_ts != INT64_MIN) {
        int64_t top = ff_win_align(s->max_ts, r->size_ms);
        for (int64_t i = (int64_t)r->n - 1; i >= 0; i--) {
            int64_t t = top - i * r->size_ms;
            const ff_win *w = ff_win_ring_at((ff_win_ring *)r, t, false);
            ff_win z;
            if (!w) {
                ff_win_clear(&z, t);
                z.final = minutes ? (s->closed_upto != INT64_MIN && t + 60000 <= s->closed_upto)
                                  : (s->wm != INT64_MIN && t + 1000 <= s->wm);
                w = &z;
            }
            if (i != (int64_t)r->n - 1)
                ff_buf_addc(b, ',');
            ff_win_json(b, w, &s->tb);
        }
    }
    ff_buf_addc(b, ']');
}

ff_rc ff_stream_snapshot_json(ff_stream *s, ff_buf *out, uint64_t *seq_out, ff_err *err)
{
    pthread_mutex_lock(&s->mu);
    uint64_t seq = s->seq;
    write_common(s, out, seq);
    ff_buf_printf(out,
                  ",\"config\":{\"watermark_ms\":%" PRId64 ",\"lateness_ms\":%" PRId64
                  ",\"session_gap_ms\":%" PRId64 ",\"abandon_ms\":%" PRId64
                  ",\"second_windows\":%d,\"minute_windows\":%d,\"summary_minutes\":%d"
                  ",\"top_k\":%d},\"seconds\":",
                  s->o.watermark_ms, s->o.lateness_ms, s->o.session_gap_ms, s->o.abandon_ms,
                  SEC_WINDOWS, MIN_WINDOWS, SUMMARY_MINUTES, TOP_K);
    write_range(s, out, &s->secs, false);
    ff_buf_adds(out, ",\"minutes\":");
    write_range(s, out, &s->mins, true);
    ff_rc rc = ff_buf_addc(out, '}');
    pthread_mutex_unlock(&s->mu);
    if (seq_out)
        *seq_out = seq;
    if (rc)
        return FF_ERR_SET(err, rc, "snapshot too large");
    return FF_OK;
}

static int win_t_cmp(const void *a, const void *b)
{
    const ff_win *x = *(const ff_win *const *)a, *y = *(const ff_win *const *)b;
    return x->t < y->t ? -1 : x->t > y->t;
}

static void write_dirty(ff_stream *s, ff_buf *b, const ff_win_ring *r)
{
    const ff_win *list[MIN_WINDOWS > SEC_WINDOWS ? MIN_WINDOWS : SEC_WINDOWS];
    size_t n = 0;
    for (uint32_t i = 0; i < r->n; i++)
        if (r->slot[i].t != FF_WIN_EMPTY && r->slot[i].dirty_gen == s->gen)
            list[n++] = &r->slot[i];
    qsort(list, n, sizeof list[0], win_t_cmp);
    ff_buf_addc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            ff_buf_addc(b, ',');
        ff_win_json(b, list[i], &s->tb);
    }
    ff_buf_addc(b, ']');
}

ff_rc ff_stream_publish(ff_stream *s, ff_err *err)
{
    ff_buf b;
    ff_buf_init(&b, (size_t)64 << 20);
    pthread_mutex_lock(&s->mu);
    uint64_t seq = s->seq + 1;
    write_common(s, &b, seq);
    ff_buf_adds(&b, ",\"seconds\":");
    write_dirty(s, &b, &s->secs);
    ff_buf_adds(&b, ",\"minutes\":");
    write_dirty(s, &b, &s->mins);
    ff_rc rc = ff_buf_addc(&b, '}');
    if (rc == FF_OK) {
        delta_slot *d = &s->ring[seq % DELTA_RING];
        ff_free(d->json);
        d->len = b.len;
        d->json = ff_buf_detach(&b);
        d->seq = seq;
        s->seq = seq;
        s->gen++;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    ff_buf_fini(&b);
    return rc ? FF_ERR_SET(err, rc, "delta too large") : FF_OK;
}

ff_rc ff_stream_live_next(ff_stream *s, uint64_t after_seq, uint32_t timeout_ms, ff_buf *out,
                          uint64_t *seq_out)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->shutdown && s->seq <= after_seq) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) == ETIMEDOUT)
            break;
    }
    ff_rc rc;
    uint64_t want = after_seq + 1;
    if (s->shutdown) {
        rc = FF_EOF;
    } else if (s->seq <= after_seq) {
        rc = FF_EAGAIN;
    } else if (s->seq - want >= DELTA_RING || s->ring[want % DELTA_RING].seq != want) {
        rc = FF_ENOTFOUND;
    } else {
        const delta_slot *d = &s->ring[want % DELTA_RING];
        rc = ff_buf_add(out, d->json, d->len);
        if (seq_out)
            *seq_out = want;
    }
    pthread_mutex_unlock(&s->mu);
    return rc;
}

void ff_stream_live_shutdown(ff_stream *s)
{
    pthread_mutex_lock(&s->mu);
    s->shutdown = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ---- introspection ----------------------------------------------------------------------- */

void ff_stream_stats_get(ff_stream *s, ff_stream_stats *out)
{
    memset(out, 0, sizeof *out);
    ff_evlog_stats st;
    ff_evlog_stats_get(s->o.log, &st);
    pthread_mutex_lock(&s->mu);
    out->offset = s->next_off;
    out->lag = st.durable_offset > s->next_off ? st.durable_offset - s->next_off : 0;
    out->events = s->t.events;
    out->late = s->t.late;
    out->too_late = s->t.too_late;
    out->duplicates = s->t.duplicates;
    out->rejected = s->t.rejected;
    out->derived = s->t.derived;
    out->derived_duplicates = s->derived_dups;
    out->derived_appended = s->derived_appended;
    out->checkpoints = s->checkpoints;
    out->checkpoint_bytes = s->ckpt_bytes;
    out->alerts = s->t.alerts;
    ff_sessions_stats ss;
    ff_sessions_stats_get(s->ss, &ss);
    out->sessions_open = ss.open;
    out->users_tracked = ss.users;
    out->links = ss.links;
    out->sessions_dropped = ss.dropped;
    out->seq = s->seq;
    out->state_bytes = ss.bytes + ff_sdedupe_bytes(s->dd);
    out->watermark = s->wm;
    out->failed = atomic_load(&s->failed);
    pthread_mutex_unlock(&s->mu);
}

void ff_stream_metrics(ff_stream *s, ff_buf *b)
{
    ff_stream_stats st;
    ff_stream_stats_get(s, &st);
    ff_buf_printf(
        b,
        "# HELP footfall_stream_events_total Unique non-derived events the stream processed.\n"
        "# TYPE footfall_stream_events_total counter\nfootfall_stream_events_total %" PRIu64 "\n"
        "# TYPE footfall_stream_late_events_total counter\n"
        "footfall_stream_late_events_total{kind=\"late\"} %" PRIu64 "\n"
        "footfall_stream_late_events_total{kind=\"too_late\"} %" PRIu64 "\n"
        "# TYPE footfall_stream_duplicates_total counter\n"
        "footfall_stream_duplicates_total %" PRIu64 "\n"
        "# TYPE footfall_stream_derived_appended_total counter\n"
        "footfall_stream_derived_appended_total %" PRIu64 "\n"
        "# HELP footfall_stream_lag_records Durable log records the stream has not read.\n"
        "# TYPE footfall_stream_lag_records gauge\nfootfall_stream_lag_records %" PRIu64 "\n"
        "# TYPE footfall_stream_sessions_open gauge\nfootfall_stream_sessions_open %" PRIu64 "\n"
        "# TYPE footfall_stream_state_bytes gauge\nfootfall_stream_state_bytes %zu\n"
        "# TYPE footfall_stream_checkpoint_bytes gauge\n"
        "footfall_stream_checkpoint_bytes %" PRIu64 "\n"
        "# TYPE footfall_stream_failed gauge\nfootfall_stream_failed %d\n",
        st.events, st.late, st.too_late, st.duplicates, st.derived_appended, st.lag,
        st.sessions_open, st.state_bytes, st.checkpoint_bytes, st.failed ? 1 : 0);
    ff_buf_adds(b, "# HELP footfall_stream_too_late_events_total Events behind the watermark by "
                   "more than the allowed lateness (stored, in no live window), by type.\n"
                   "# TYPE footfall_stream_too_late_events_total counter\n");
    uint64_t by_type[FF_WIN_TYPES];
    pthread_mutex_lock(&s->mu);
    memcpy(by_type, s->too_late_by_type, sizeof by_type);
    pthread_mutex_unlock(&s->mu);
    for (uint32_t i = 0; i < FF_WIN_TYPES; i++)
        ff_buf_printf(b, "footfall_stream_too_late_events_total{type=\"%s\"} %" PRIu64 "\n",
                      ff_win_type_name(i), by_type[i]);
}
