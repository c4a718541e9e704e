/* ff_window.c -- see ff_window.h. */
#include "stream/ff_window.h"

#include <inttypes.h>
#include <string.h>

#include "core/ff_json.h"
#include "core/ff_mem.h"
#include "store/ff_schema.h"

/* ---- names ------------------------------------------------------------------------------- */

void ff_names_init(ff_names *t, uint32_t max)
{
    memset(t, 0, sizeof *t);
    ff_smap_init(&t->map, 0);
    t->max = max > FF_WIN_NAMES ? FF_WIN_NAMES : max;
}

void ff_names_fini(ff_names *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        ff_free(t->name[i]);
    ff_smap_fini(&t->map);
    memset(t, 0, sizeof *t);
}

uint32_t ff_names_get(ff_names *t, const char *s, size_t len)
{
    ff_smap_ent *e = ff_smap_get(&t->map, s, len);
    if (e)
        return (uint32_t)e->v.i;
    if (t->n >= t->max)
        return t->max;
    char *c = ff_strndup(s, len);
    if (!c)
        return t->max;
    bool created;
    if (ff_smap_put(&t->map, s, len, &e, &created) != FF_OK) {
        ff_free(c);
        return t->max;
    }
    e->v.i = t->n;
    t->name[t->n++] = c;
    return t->n - 1;
}

const char *ff_names_name(const ff_names *t, uint32_t i)
{
    return i < t->n ? t->name[i] : "$other";
}

ff_rc ff_names_save(const ff_names *t, ff_buf *b)
{
    ff_rc rc = ff_ser_u32(b, t->n);
    for (uint32_t i = 0; rc == FF_OK && i < t->n; i++)
        rc = ff_ser_str(b, t->name[i]);
    return rc;
}

ff_rc ff_names_load(ff_names *t, ff_deser *d)
{
    uint32_t n = ff_deser_u32(d);
    if (n > t->max)
        d->bad = true;
    for (uint32_t i = 0; !d->bad && i < n; i++) {
        size_t len;
        const char *s = ff_deser_bytes(d, &len);
        if (!s || ff_names_get(t, s, len) != i)
            d->bad = true;
    }
    return d->bad ? FF_ECORRUPT : FF_OK;
}

/* ---- windows ----------------------------------------------------------------------------- */

static const char *const type_names[FF_WIN_TYPES] = {"track", "page",  "screen", "identify",
                                                     "group", "alias", "$other"};

uint32_t ff_win_type_index(const char *s, size_t len)
{
    for (uint32_t i = 0; i + 1 < FF_WIN_TYPES; i++)
        if (strlen(type_names[i]) == len && memcmp(type_names[i], s, len) == 0)
            return i;
    return FF_WIN_TYPES - 1;
}

const char *ff_win_type_name(uint32_t i)
{
    return type_names[i < FF_WIN_TYPES ? i : FF_WIN_TYPES - 1];
}

void ff_win_clear(ff_win *w, int64_t t)
{
    memset(w, 0, sizeof *w);
    w->t = t;
}

void ff_win_add(ff_win *dst, const ff_win *src)
{
    if (src->t == FF_WIN_EMPTY)
        return;
    dst->events += src->events;
    for (int i = 0; i < FF_WIN_TYPES; i++)
        dst->by_type[i] += src->by_type[i];
    for (int i = 0; i <= FF_WIN_NAMES; i++)
        dst->by_event[i] += src->by_event[i];
    dst->sessions_started += src->sessions_started;
    dst->orders += src->orders;
    dst->cart_sessions += src->cart_sessions;
    dst->converted += src->converted;
    dst->checkouts_started += src->checkouts_started;
    dst->pay_ok += src->pay_ok;
    dst->pay_fail += src->pay_fail;
    for (int i = 0; i <= FF_WIN_KEYS; i++) {
        dst->orders_cur[i] += src->orders_cur[i];
        dst->revenue_cur[i] += src->revenue_cur[i];
        for (int k = 0; k < 2; k++) {
            dst->pay_cur[i][k] += src->pay_cur[i][k];
            dst->pay_meth[i][k] += src->pay_meth[i][k];
        }
    }
}

static void put_rate(ff_buf *b, const char *key, uint64_t num, uint64_t den)
{
    ff_buf_printf(b, ",\"%s\":", key);
    if (!den)
        ff_buf_adds(b, "null");
    else
        ff_buf_printf(b, "%.6g", (double)num / (double)den);
}

static void put_key(ff_buf *b, bool *first, const char *k)
{
    if (!*first)
        ff_buf_addc(b, ',');
    *first = false;
    ff_json_write_str(b, k, strlen(k));
    ff_buf_addc(b, ':');
}

static void put_money(ff_buf *b, int64_t units)
{
    char d[32];
    size_t n = ff_decimal_format(units, d);
    ff_buf_addc(b, '"');
    ff_buf_add(b, d, n);
    ff_buf_addc(b, '"');
}

static void put_pay_map(ff_buf *b, const char *name, const uint32_t (*pay)[2], const ff_names *tb)
{
    ff_buf_printf(b, ",\"%s\":{", name);
    bool first = true;
    for (uint32_t i = 0; i <= FF_WIN_KEYS; i++) {
        if (!pay[i][0] && !pay[i][1])
            continue;
        put_key(b, &first, ff_names_name(tb, i));
        ff_buf_printf(b, "{\"succeeded\":%u,\"failed\":%u}", pay[i][0], pay[i][1]);
    }
    ff_buf_addc(b, '}');
}

ff_rc ff_win_json(ff_buf *b, const ff_win *w, const ff_win_tables *tb)
{
    ff_buf_printf(b, "{\"t\":%" PRId64 ",\"final\":%s,\"events\":%" PRIu64 ",\"by_type\":{", w->t,
                  w->final ? "true" : "false", w->events);
    bool first = true;
    for (int i = 0; i < FF_WIN_TYPES; i++) {
        if (!w->by_type[i])
            continue;
        put_key(b, &first, type_names[i]);
        ff_buf_printf(b, "%u", w->by_type[i]);
    }
    ff_buf_adds(b, "},\"by_event\":{");
    first = true;
    for (uint32_t i = 0; i <= FF_WIN_NAMES; i++) {
        if (!w->by_event[i])
            continue;
        put_key(b, &first, ff_names_name(&tb->events, i));
        ff_buf_printf(b, "%u", w->by_event[i]);
    }
    ff_buf_printf(b, "},\"sessions_started\":%u,\"orders\":%u,\"revenue\":{", w->sessions_started,
                  w->orders);
    first = true;
    for (uint32_t i = 0; i <= FF_WIN_KEYS; i++) {
        if (!w->orders_cur[i] && !w->revenue_cur[i])
            continue;
        put_key(b, &first, ff_names_name(&tb->currencies, i));
        put_money(b, w->revenue_cur[i]);
    }
    ff_buf_adds(b, "},\"aov\":{");
    first = true;
    for (uint32_t i = 0; i <= FF_WIN_KEYS; i++) {
        if (!w->orders_cur[i])
            continue;
        put_key(b, &first, ff_names_name(&tb->currencies, i));
        int64_t n = w->orders_cur[i], r = w->revenue_cur[i];
        int64_t q = r / n, rem = r % n; /* round half away from zero, without overflow */
        if (2 * (rem < 0 ? -rem : rem) >= n)
            q += r < 0 ? -1 : 1;
        put_money(b, q);
    }
    ff_buf_printf(b, "},\"cart_sessions\":%u,\"converted\":%u", w->cart_sessions, w->converted);
    put_rate(b, "cart_conversion", w->converted, w->cart_sessions);
    ff_buf_printf(b, ",\"checkouts_started\":%u", w->checkouts_started);
    put_rate(b, "checkout_success_rate", w->orders, w->checkouts_started);
    uint64_t att = (uint64_t)w->pay_ok + w->pay_fail;
    ff_buf_printf(b, ",\"payments\":{\"attempts\":%" PRIu64 ",\"succeeded\":%u,\"failed\":%u", att,
                  w->pay_ok, w->pay_fail);
    put_rate(b, "failure_rate", w->pay_fail, att);
    put_pay_map(b, "by_method", w->pay_meth, &tb->methods);
    put_pay_map(b, "by_currency", w->pay_cur, &tb->currencies);
    return ff_buf_adds(b, "}}");
}

/* ---- ring -------------------------------------------------------------------------------- */

ff_rc ff_win_ring_init(ff_win_ring *r, uint32_t n, int64_t size_ms)
{
    r->slot = ff_malloc((size_t)n * sizeof *r->slot);
    if (!r->slot)
        return FF_ENOMEM;
    r->n = n;
    r->size_ms = size_ms;
    for (uint32_t i = 0; i < n; i++)
        ff_win_clear(&r->slot[i], FF_WIN_EMPTY);
    return FF_OK;
}

void ff_win_ring_fini(ff_win_ring *r)
{
    ff_free(r->slot);
    r->slot = NULL;
}

ff_win *ff_win_ring_at(ff_win_ring *r, int64_t ts, bool create)
{
    int64_t t = ff_win_align(ts, r->size_ms);
    int64_t k = t / r->size_ms;
    uint32_t i = (uint32_t)(((k % r->n) + r->n) % r->n);
    ff_win *w = &r->slot[i];
    if (w->t == t)
        return w;
    if (!create || (w->t != FF_WIN_EMPTY && w->t > t))
        return NULL;
    ff_win_clear(w, t);
    return w;
}

ff_rc ff_win_ring_save(const ff_win_ring *r, ff_buf *b)
{
    ff_rc rc = ff_ser_u32(b, r->n);
    if (rc == FF_OK)
        rc = ff_ser_u32(b, (uint32_t)sizeof(ff_win));
    if (rc == FF_OK)
        rc = ff_ser_bytes(b, r->slot, (size_t)r->n * sizeof *r->slot);
    return rc;
}

ff_rc ff_win_ring_load(ff_win_ring *r, ff_deser *d)
{
    uint32_t n = ff_deser_u32(d), sz = ff_deser_u32(d);
    size_t len;
    const void *p = ff_deser_bytes(d, &len);
    if (d->bad || n != r->n || sz != sizeof(ff_win) || len != (size_t)n * sizeof(ff_win)) {
        d->bad = true;
        return FF_ECORRUPT;
    }
    memcpy(r->slot, p, len);
    return FF_OK;
}
