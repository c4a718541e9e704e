/* ff_session.c -- see ff_session.h. */
#include "stream/ff_session.h"

#include <stdio.h>
#include <string.h>

#include "core/ff_mem.h"

struct ff_sessions {
    ff_sessions_opts o;
    ff_smap sess;  /* person -> ff_sess* */
    ff_smap links; /* anonymous id -> user id (char*, owned) */
    ff_smap users; /* person -> last seen ts */
    ff_sess **heap;
    size_t heap_n, heap_cap;
    uint32_t hist[FF_SESS_ACT_SECS];
    int64_t top_s, last_sweep_s;
    uint64_t dropped, started, ended, stitched;
    size_t str_bytes;
};

#define DEFAULT_MAX ((uint64_t)4 << 20)

/* ---- small helpers ----------------------------------------------------------------------- */

static bool str_is(ff_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.p, lit, n) == 0;
}

static char *dupn(ff_sessions *ss, const char *p, size_t n)
{
    char *c = ff_strndup(p ? p : "", n);
    if (c)
        ss->str_bytes += n + 1;
    return c;
}

static void set_str(ff_sessions *ss, char **dst, const char *p, size_t n)
{
    if (*dst && strlen(*dst) == n && memcmp(*dst, p, n) == 0)
        return;
    char *c = dupn(ss, p, n);
    if (!c)
        return; /* keep the old value: a display string, not state that matters */
    if (*dst)
        ss->str_bytes -= strlen(*dst) + 1;
    ff_free(*dst);
    *dst = c;
}

static void free_str(ff_sessions *ss, char **s)
{
    if (*s)
        ss->str_bytes -= strlen(*s) + 1;
    ff_free(*s);
    *s = NULL;
}

static void sess_free(ff_sessions *ss, ff_sess *s)
{
    free_str(ss, &s->anon_id); /* person belongs to the table */
    free_str(ss, &s->entry_page);
    free_str(ss, &s->exit_page);
    free_str(ss, &s->currency);
    ff_free(s);
}

static inline int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) && ((a < 0) != (b < 0)))
        q--;
    return q;
}

/* ---- deadlines heap ---------------------------------------------------------------------- */

static int64_t abandon_deadline(const ff_sessions *ss, const ff_sess *s, ff_sess_derived *kind)
{
    *kind = FF_SESS_ENDED;
    if (s->checkout_ts && !s->checkout_fired) {
        *kind = FF_SESS_CHECKOUT_ABANDONED;
        int64_t base = s->checkout_ts > s->cart_last_ts ? s->checkout_ts : s->cart_last_ts;
        return base + ss->o.abandon_ms;
    }
    if (s->cart_items > 0 && !s->checkout_ts && !s->cart_fired) {
        *kind = FF_SESS_CART_ABANDONED;
        return s->cart_last_ts + ss->o.abandon_ms;
    }
    return INT64_MAX;
}

static int64_t sess_deadline(const ff_sessions *ss, const ff_sess *s)
{
    ff_sess_derived k;
    int64_t end = s->last_ts + ss->o.gap_ms, ab = abandon_deadline(ss, s, &k);
    return ab < end ? ab : end;
}

static bool heap_less(const ff_sess *a, const ff_sess *b)
{
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline;
    return strcmp(a->person, b->person) < 0;
}

static void heap_set(ff_sessions *ss, size_t i, ff_sess *s)
{
    ss->heap[i] = s;
    s->heap_idx = i;
}

static void heap_up(ff_sessions *ss, size_t i)
{
    ff_sess *s = ss->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(s, ss->heap[p]))
            break;
        heap_set(ss, i, ss->heap[p]);
        i = p;
    }
    heap_set(ss, i, s);
}

static void heap_down(ff_sessions *ss, size_t i)
{
    ff_sess *s = ss->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        ff_sess *best = s;
        if (l < ss->heap_n && heap_less(ss->heap[l], best)) {
            m = l;
            best = ss->heap[l];
        }
        if (r < ss->heap_n && heap_less(ss->heap[r], best)) {
            m = r;
            best = ss->heap[r];
        }
        if (m == i)
            break;
        heap_set(ss, i, best);
        i = m;
    }
    heap_set(ss, i, s);
}

static void heap_fix(ff_sessions *ss, ff_sess *s)
{
    s->deadline = sess_deadline(ss, s);
    heap_up(ss, s->heap_idx);
    heap_down(ss, s->heap_idx);
}

static ff_rc heap_push(ff_sessions *ss, ff_sess *s)
{
    if (ss->heap_n == ss->heap_cap) {
        size_t nc = ss->heap_cap ? ss->heap_cap * 2 : 1024;
        ff_sess **nh = ff_realloc(ss->heap, nc * sizeof *nh);
        if (!nh)
            return FF_ENOMEM;
        ss->heap = nh;
        ss->heap_cap = nc;
    }
    s->deadline = sess_deadline(ss, s);
    heap_set(ss, ss->heap_n++, s);
    heap_up(ss, s->heap_idx);
    return FF_OK;
}

static void heap_remove(ff_sessions *ss, ff_sess *s)
{
    size_t i = s->heap_idx;
    ff_sess *last = ss->heap[--ss->heap_n];
    if (i == ss->heap_n)
        return;
    heap_set(ss, i, last);
    heap_up(ss, i);
    heap_down(ss, last->heap_idx);
}

/* ---- active users ------------------------------------------------------------------------ */

static inline size_t hidx(int64_t s)
{
    int64_t m = s % FF_SESS_ACT_SECS;
    return (size_t)(m < 0 ? m + FF_SESS_ACT_SECS : m);
}

static inline bool in_ring(const ff_sessions *ss, int64_t s)
{
    return ss->top_s != INT64_MIN && s <= ss->top_s && s > ss->top_s - FF_SESS_ACT_SECS;
}

static void hist_advance(ff_sessions *ss, int64_t s)
{
    if (ss->top_s == INT64_MIN) {
        ss->top_s = s;
        ss->last_sweep_s = s;
        return;
    }
    if (s <= ss->top_s)
        return;
    if (s - ss->top_s >= FF_SESS_ACT_SECS) {
        memset(ss->hist, 0, sizeof ss->hist);
    } else {
        for (int64_t k = ss->top_s + 1; k <= s; k++)
            ss->hist[hidx(k)] = 0;
    }
    ss->top_s = s;
}

static void users_sweep(ff_sessions *ss)
{
    int64_t limit_ms = (ss->top_s - FF_SESS_ACT_SECS + 1) * 1000;
    ff_smap *m = &ss->users;
    for (size_t i = 0; i < m->cap;) {
        ff_smap_ent *e = &m->slots[i];
        if (e->key && e->v.i < limit_ms) {
            ff_smap_del(m, e->key, e->klen); /* backward shift may move another entry here */
            continue;
        }
        i++;
    }
    ss->last_sweep_s = ss->top_s;
}

static void touch_user(ff_sessions *ss, const char *p, size_t n, int64_t ts)
{
    int64_t s = floor_div(ts, 1000);
    hist_advance(ss, s);
    ff_smap_ent *e;
    bool created;
    if (ff_smap_put(&ss->users, p, n, &e, &created) != FF_OK) {
        ss->dropped++;
        return;
    }
    if (created) {
        e->v.i = ts;
        if (in_ring(ss, s))
            ss->hist[hidx(s)]++;
    } else if (ts > e->v.i) {
        int64_t olds = floor_div(e->v.i, 1000);
        if (in_ring(ss, olds) && ss->hist[hidx(olds)])
            ss->hist[hidx(olds)]--;
        e->v.i = ts;
        if (in_ring(ss, s))
            ss->hist[hidx(s)]++;
    }
    if (ss->top_s - ss->last_sweep_s >= 60)
        users_sweep(ss);
}

static void forget_user(ff_sessions *ss, const char *p, size_t n, int64_t *last_out)
{
    ff_smap_ent *e = ff_smap_get(&ss->users, p, n);
    *last_out = INT64_MIN;
    if (!e)
        return;
    *last_out = e->v.i;
    int64_t olds = floor_div(e->v.i, 1000);
    if (in_ring(ss, olds) && ss->hist[hidx(olds)])
        ss->hist[hidx(olds)]--;
    ff_smap_del(&ss->users, p, n);
}

uint64_t ff_sessions_active_users(const ff_sessions *ss, uint32_t minutes)
{
    if (ss->top_s == INT64_MIN)
        return 0;
    int64_t n = (int64_t)minutes * 60;
    if (n > FF_SESS_ACT_SECS)
        n = FF_SESS_ACT_SECS;
    uint64_t sum = 0;
    for (int64_t k = 0; k < n; k++)
        sum += ss->hist[hidx(ss->top_s - k)];
    return sum;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

ff_rc ff_sessions_new(const ff_sessions_opts *o, ff_sessions **out, ff_err *err)
{
    *out = NULL;
    ff_sessions *ss = ff_calloc(1, sizeof *ss);
    if (!ss)
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    ss->o = *o;
    if (ss->o.gap_ms <= 0)
        ss->o.gap_ms = 30 * 60 * 1000;
    if (ss->o.abandon_ms <= 0)
        ss->o.abandon_ms = 30 * 60 * 1000;
    if (!ss->o.max_sessions)
        ss->o.max_sessions = DEFAULT_MAX;
    if (!ss->o.max_users)
        ss->o.max_users = DEFAULT_MAX;
    if (!ss->o.max_links)
        ss->o.max_links = DEFAULT_MAX;
    ff_smap_init(&ss->sess, ss->o.max_sessions);
    ff_smap_init(&ss->links, ss->o.max_links);
    ff_smap_init(&ss->users, ss->o.max_users);
    ss->top_s = INT64_MIN;
    *out = ss;
    return FF_OK;
}

void ff_sessions_free(ff_sessions *ss)
{
    if (!ss)
        return;
    for (size_t i = 0; i < ss->sess.cap; i++)
        if (ss->sess.slots[i].key)
            sess_free(ss, ss->sess.slots[i].v.p);
    for (size_t i = 0; i < ss->links.cap; i++)
        if (ss->links.slots[i].key)
            ff_free(ss->links.slots[i].v.p);
    ff_smap_fini(&ss->sess);
    ff_smap_fini(&ss->links);
    ff_smap_fini(&ss->users);
    ff_free(ss->heap);
    ff_free(ss);
}

/* ---- sessions ---------------------------------------------------------------------------- */

static void end_session(ff_sessions *ss, ff_sess *s, const ff_sess_hooks *h)
{
    ff_sess_derived kind;
    int64_t ab = abandon_deadline(ss, s, &kind);
    int64_t end = s->last_ts + ss->o.gap_ms;
    if (ab != INT64_MAX) {
        if (kind == FF_SESS_CART_ABANDONED)
            s->cart_fired = 1;
        else
            s->checkout_fired = 1;
        h->derived(h->ctx, kind, s, ab < end ? ab : end);
    }
    h->derived(h->ctx, FF_SESS_ENDED, s, s->last_ts);
    ss->ended++;
    heap_remove(ss, s);
    ff_smap_del(&ss->sess, s->person, strlen(s->person));
    sess_free(ss, s);
}

void ff_sessions_advance(ff_sessions *ss, int64_t w, const ff_sess_hooks *h)
{
    while (ss->heap_n && ss->heap[0]->deadline <= w) {
        ff_sess *s = ss->heap[0];
        if (s->last_ts + ss->o.gap_ms <= w) {
            end_session(ss, s, h);
            continue;
        }
        ff_sess_derived kind;
        int64_t ab = abandon_deadline(ss, s, &kind);
        if (kind == FF_SESS_CART_ABANDONED)
            s->cart_fired = 1;
        else
            s->checkout_fired = 1;
        h->derived(h->ctx, kind, s, ab);
        heap_fix(ss, s);
    }
}

static void merge_into(ff_sessions *ss, ff_sess *dst, ff_sess *src)
{
    if (src->start_ts < dst->start_ts)
        dst->start_ts = src->start_ts;
    if (src->last_ts > dst->last_ts)
        dst->last_ts = src->last_ts;
    dst->events += src->events;
    dst->pages += src->pages;
    if (src->entry_page && (!dst->entry_page || src->entry_ts < dst->entry_ts)) {
        set_str(ss, &dst->entry_page, src->entry_page, strlen(src->entry_page));
        dst->entry_ts = src->entry_ts;
    }
    if (src->exit_page && (!dst->exit_page || src->exit_ts >= dst->exit_ts)) {
        set_str(ss, &dst->exit_page, src->exit_page, strlen(src->exit_page));
        dst->exit_ts = src->exit_ts;
    }
    const char *sa = ff_sess_anon_id(src);
    if (!dst->anon_id && sa && dst->person_is_user)
        set_str(ss, &dst->anon_id, sa, strlen(sa));
    dst->cart_items += src->cart_items;
    dst->had_cart |= src->had_cart;
    dst->converted |= src->converted;
    dst->cart_fired |= src->cart_fired;
    dst->checkout_fired |= src->checkout_fired;
    if (src->cart_last_ts > dst->cart_last_ts)
        dst->cart_last_ts = src->cart_last_ts;
    if (src->checkout_ts > dst->checkout_ts)
        dst->checkout_ts = src->checkout_ts;
    if (src->cart_start_ts && (!dst->cart_start_ts || src->cart_start_ts < dst->cart_start_ts))
        dst->cart_start_ts = src->cart_start_ts;
    dst->orders += src->orders;
    if (src->currency && (!dst->currency || !strcmp(dst->currency, src->currency))) {
        if (!dst->currency)
            set_str(ss, &dst->currency, src->currency, strlen(src->currency));
        dst->revenue += src->revenue;
    }
}

/* Record anon -> user; at the first link move the anonymous session and activity over. */
static void link_ids(ff_sessions *ss, const char *a, size_t al, const char *u, size_t ul)
{
    if (al == ul && memcmp(a, u, al) == 0)
        return;
    ff_smap_ent *e = ff_smap_get(&ss->links, a, al);
    if (e) {
        char *cur = e->v.p;
        if (strlen(cur) != ul || memcmp(cur, u, ul) != 0) {
            char *c = ff_strndup(u, ul);
            if (c) {
                ff_free(cur);
                e->v.p = c;
            }
        }
        return;
    }
    bool created;
    char *c = ff_strndup(u, ul);
    if (!c || ff_smap_put(&ss->links, a, al, &e, &created) != FF_OK) {
        ff_free(c);
        ss->dropped++;
        return;
    }
    e->v.p = c;
    ff_smap_ent *se = ff_smap_get(&ss->sess, a, al);
    if (se) {
        ff_sess *sa = se->v.p;
        ff_smap_ent *ue = ff_smap_get(&ss->sess, u, ul);
        if (ue) {
            ff_sess *su = ue->v.p;
            merge_into(ss, su, sa);
            heap_remove(ss, sa);
            ff_smap_del(&ss->sess, a, al);
            sess_free(ss, sa);
            heap_fix(ss, su);
        } else {
            ff_smap_ent *ne;
            if (ff_smap_put(&ss->sess, u, ul, &ne, &created) == FF_OK) {
                ff_smap_del(&ss->sess, a, al);
                ne = ff_smap_get(&ss->sess, u, ul); /* del may have moved it */
                ne->v.p = sa;
                if (!sa->anon_id)
                    sa->anon_id = dupn(ss, a, al); /* it was the key */
                sa->person = ne->key;
                sa->person_is_user = 1;
                heap_fix(ss, sa);
            }
        }
        ss->stitched++;
    }
    int64_t last;
    forget_user(ss, a, al, &last);
    if (last != INT64_MIN)
        touch_user(ss, u, ul, last);
}

ff_rc ff_sessions_on_event(ff_sessions *ss, const ff_row *row, const ff_sess_hooks *h)
{
    ff_str uid = row->str[FF_COL_USER_ID], aid = row->str[FF_COL_ANONYMOUS_ID];
    ff_str type = row->str[FF_COL_TYPE], ev = row->str[FF_COL_EVENT];
    int64_t ts = row->num[FF_COL_TS];
    if (str_is(type, "alias") && uid.len) {
        ff_str props = row->str[FF_COL_PROPERTIES];
        size_t pl;
        const char *prev = ff_stream_json_str(props.p, props.len, "$previous_id", &pl);
        if (prev && pl)
            link_ids(ss, prev, pl, uid.p, uid.len);
    }
    const char *pp;
    size_t pn;
    bool is_user = true;
    if (uid.len) {
        if (aid.len)
            link_ids(ss, aid.p, aid.len, uid.p, uid.len);
        pp = uid.p;
        pn = uid.len;
    } else if (aid.len) {
        ff_smap_ent *le = ff_smap_get(&ss->links, aid.p, aid.len);
        pp = le ? le->v.p : aid.p;
        pn = le ? strlen(le->v.p) : aid.len;
        is_user = le != NULL;
    } else {
        return FF_OK; /* no identity: nothing per person */
    }
    touch_user(ss, pp, pn, ts);

    ff_smap_ent *e = ff_smap_get(&ss->sess, pp, pn);
    ff_sess *s = e ? e->v.p : NULL;
    if (s && ts >= s->last_ts + ss->o.gap_ms) {
        end_session(ss, s, h); /* an out-of-order gap: the old session is over */
        s = NULL;
    }
    if (!s) {
        bool created;
        if (ss->sess.n >= ss->o.max_sessions ||
            ff_smap_put(&ss->sess, pp, pn, &e, &created) != FF_OK) {
            ss->dropped++;
            return FF_OK;
        }
        s = ff_calloc(1, sizeof *s);
        if (!s) {
            ff_smap_del(&ss->sess, pp, pn);
            return FF_ENOMEM;
        }
        e->v.p = s;
        s->person = e->key;
        s->person_is_user = is_user;
        s->start_ts = s->last_ts = ts;
        char idtext[600];
        int n = snprintf(idtext, sizeof idtext, "s|%.*s|%lld", (int)(pn > 500 ? 500 : pn), pp,
                         (long long)ts);
        ff_stream_uuid(idtext, (size_t)n, s->sid);
        if (heap_push(ss, s) != FF_OK) {
            ff_smap_del(&ss->sess, pp, pn);
            sess_free(ss, s);
            return FF_ENOMEM;
        }
        ss->started++;
        h->fact(h->ctx, FF_SESS_STARTED, ts);
    }
    s->events++;
    if (ts < s->start_ts)
        s->start_ts = ts;
    if (ts > s->last_ts)
        s->last_ts = ts;
    if (aid.len && s->person_is_user && !(aid.len == pn && !memcmp(aid.p, pp, pn)))
        set_str(ss, &s->anon_id, aid.p, aid.len);
    if (str_is(type, "page") || str_is(type, "screen") ||
        (str_is(ev, "page_viewed") && !str_is(type, "page"))) {
        s->pages++;
        size_t ul;
        const char *path =
            ff_stream_url_path(row->str[FF_COL_URL].p, row->str[FF_COL_URL].len, &ul);
        if (ul) {
            if (!s->entry_page || ts < s->entry_ts) {
                set_str(ss, &s->entry_page, path, ul);
                s->entry_ts = ts;
            }
            if (!s->exit_page || ts >= s->exit_ts) {
                set_str(ss, &s->exit_page, path, ul);
                s->exit_ts = ts;
            }
        }
    }
    if (str_is(ev, "product_added")) {
        int64_t q = (row->null & FF_COLSET(FF_COL_QUANTITY)) ? 1 : row->num[FF_COL_QUANTITY];
        if (q <= 0)
            q = 1;
        if (q > 1000000)
            q = 1000000;
        if (s->cart_fired || s->checkout_fired || (s->cart_items == 0 && !s->checkout_ts)) {
            s->cart_start_ts = ts; /* a new cart episode */
            s->cart_fired = s->checkout_fired = 0;
            s->checkout_ts = 0;
        }
        s->cart_items += (int32_t)q;
        if (ts > s->cart_last_ts)
            s->cart_last_ts = ts;
        if (!s->had_cart) {
            s->had_cart = 1;
            h->fact(h->ctx, FF_SESS_CART, ts);
        }
    } else if (str_is(ev, "product_removed")) {
        int64_t q = (row->null & FF_COLSET(FF_COL_QUANTITY)) ? 1 : row->num[FF_COL_QUANTITY];
        if (q <= 0)
            q = 1;
        s->cart_items = q >= s->cart_items ? 0 : s->cart_items - (int32_t)q;
        if (ts > s->cart_last_ts)
            s->cart_last_ts = ts;
    } else if (str_is(ev, "checkout_started")) {
        if (s->checkout_fired) {
            s->checkout_fired = 0;
            s->cart_start_ts = ts;
        }
        if (!s->cart_start_ts)
            s->cart_start_ts = ts;
        if (ts > s->checkout_ts)
            s->checkout_ts = ts;
    } else if (str_is(ev, "order_completed")) {
        s->orders++;
        ff_str cur = row->str[FF_COL_CURRENCY];
        if (!(row->null & FF_COLSET(FF_COL_REVENUE))) {
            if (!s->currency && cur.len)
                set_str(ss, &s->currency, cur.p, cur.len);
            if (s->currency && strlen(s->currency) == cur.len &&
                memcmp(s->currency, cur.p, cur.len) == 0)
                s->revenue += row->num[FF_COL_REVENUE];
        }
        if (s->had_cart && !s->converted) {
            s->converted = 1;
            h->fact(h->ctx, FF_SESS_CONVERTED, ts);
        }
        s->cart_items = 0;
        s->checkout_ts = 0;
        s->cart_start_ts = 0;
        s->cart_fired = s->checkout_fired = 0;
    }
    heap_fix(ss, s);
    return FF_OK;
}

void ff_sessions_stats_get(const ff_sessions *ss, ff_sessions_stats *out)
{
    out->open = ss->sess.n;
    out->users = ss->users.n;
    out->links = ss->links.n;
    out->dropped = ss->dropped;
    out->started = ss->started;
    out->ended = ss->ended;
    out->stitched = ss->stitched;
    out->bytes = ss->sess.cap * sizeof(ff_smap_ent) + ss->sess.key_bytes +
                 ss->sess.n * (sizeof(ff_sess) + 16 + sizeof(ff_sess *)) +
                 ss->users.cap * sizeof(ff_smap_ent) + ss->users.key_bytes + ss->users.n * 16 +
                 ss->links.cap * sizeof(ff_smap_ent) + ss->links.key_bytes * 2 + ss->links.n * 32 +
                 ss->str_bytes + sizeof *ss;
}

/* ---- checkpoint -------------------------------------------------------------------------- */

ff_rc ff_sessions_save(const ff_sessions *ss, ff_buf *b)
{
    ff_rc rc = ff_ser_u64(b, ss->sess.n);
    for (size_t i = 0; rc == FF_OK && i < ss->sess.cap; i++) {
        if (!ss->sess.slots[i].key)
            continue;
        const ff_sess *s = ss->sess.slots[i].v.p;
        const char *strs[] = {s->person,    s->anon_id,  s->entry_page,
                              s->exit_page, s->currency, s->sid};
        for (size_t k = 0; rc == FF_OK && k < sizeof strs / sizeof strs[0]; k++)
            rc = ff_ser_str(b, strs[k]);
        const int64_t nums[] = {
            s->start_ts,       s->last_ts,       s->entry_ts, s->exit_ts,    s->events,
            s->pages,          s->orders,        s->revenue,  s->cart_items, s->cart_start_ts,
            s->cart_last_ts,   s->checkout_ts,   s->had_cart, s->converted,  s->cart_fired,
            s->checkout_fired, s->person_is_user};
        for (size_t k = 0; rc == FF_OK && k < sizeof nums / sizeof nums[0]; k++)
            rc = ff_ser_i64(b, nums[k]);
    }
    rc = rc ? rc : ff_ser_u64(b, ss->links.n);
    for (size_t i = 0; rc == FF_OK && i < ss->links.cap; i++) {
        if (!ss->links.slots[i].key)
            continue;
        rc = ff_ser_str(b, ss->links.slots[i].key);
        rc = rc ? rc : ff_ser_str(b, ss->links.slots[i].v.p);
    }
    rc = rc ? rc : ff_ser_u64(b, ss->users.n);
    for (size_t i = 0; rc == FF_OK && i < ss->users.cap; i++) {
        if (!ss->users.slots[i].key)
            continue;
        rc = ff_ser_bytes(b, ss->users.slots[i].key, ss->users.slots[i].klen);
        rc = rc ? rc : ff_ser_i64(b, ss->users.slots[i].v.i);
    }
    rc = rc ? rc : ff_ser_bytes(b, ss->hist, sizeof ss->hist);
    const int64_t tail[] = {
        ss->top_s,          ss->last_sweep_s,     (int64_t)ss->dropped, (int64_t)ss->started,
        (int64_t)ss->ended, (int64_t)ss->stitched};
    for (size_t k = 0; rc == FF_OK && k < sizeof tail / sizeof tail[0]; k++)
        rc = ff_ser_i64(b, tail[k]);
    return rc;
}

ff_rc ff_sessions_load(ff_sessions *ss, ff_deser *d)
{
    uint64_t n = ff_deser_u64(d);
    for (uint64_t i = 0; i < n && !d->bad; i++) {
        ff_sess *s = ff_calloc(1, sizeof *s);
        if (!s)
            return FF_ENOMEM;
        size_t pl;
        const char *person = ff_deser_bytes(d, &pl);
        char **strs[] = {&s->anon_id, &s->entry_page, &s->exit_page, &s->currency};
        for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++) {
            *strs[k] = ff_deser_strdup(d);
            if (*strs[k])
                ss->str_bytes += strlen(*strs[k]) + 1;
        }
        size_t sl;
        const char *sid = ff_deser_bytes(d, &sl);
        if (sid && sl == 36)
            memcpy(s->sid, sid, 36);
        int64_t *nums[] = {&s->start_ts, &s->last_ts, &s->entry_ts, &s->exit_ts};
        for (size_t k = 0; k < 4; k++)
            *nums[k] = ff_deser_i64(d);
        s->events = (uint32_t)ff_deser_i64(d);
        s->pages = (uint32_t)ff_deser_i64(d);
        s->orders = (uint32_t)ff_deser_i64(d);
        s->revenue = ff_deser_i64(d);
        s->cart_items = (int32_t)ff_deser_i64(d);
        s->cart_start_ts = ff_deser_i64(d);
        s->cart_last_ts = ff_deser_i64(d);
        s->checkout_ts = ff_deser_i64(d);
        s->had_cart = (uint8_t)ff_deser_i64(d);
        s->converted = (uint8_t)ff_deser_i64(d);
        s->cart_fired = (uint8_t)ff_deser_i64(d);
        s->checkout_fired = (uint8_t)ff_deser_i64(d);
        s->person_is_user = (uint8_t)ff_deser_i64(d);
        const int64_t lim = (int64_t)1 << 60; /* event times are years 1970..9999 */
        const int64_t tsv[] = {s->start_ts,      s->last_ts,      s->entry_ts,   s->exit_ts,
                               s->cart_start_ts, s->cart_last_ts, s->checkout_ts};
        for (size_t k = 0; k < sizeof tsv / sizeof tsv[0]; k++)
            if (tsv[k] < -lim || tsv[k] > lim)
                d->bad = true;
        ff_smap_ent *e;
        bool created;
        if (d->bad || !person || !pl || memchr(person, 0, pl) || sl != 36 ||
            ff_smap_put(&ss->sess, person, pl, &e, &created) != FF_OK || !created) {
            sess_free(ss, s);
            d->bad = true;
            break;
        }
        e->v.p = s;
        s->person = e->key;
        if (heap_push(ss, s) != FF_OK)
            return FF_ENOMEM;
    }
    n = ff_deser_u64(d);
    for (uint64_t i = 0; i < n && !d->bad; i++) {
        size_t kl;
        const char *k = ff_deser_bytes(d, &kl);
        char *v = ff_deser_strdup(d);
        ff_smap_ent *e;
        bool created;
        if (d->bad || !k || !v || ff_smap_put(&ss->links, k, kl, &e, &created) != FF_OK) {
            ff_free(v);
            d->bad = true;
            break;
        }
        if (!created) /* a repeated key (corrupt checkpoint): the last value wins */
            ff_free(e->v.p);
        e->v.p = v;
    }
    n = ff_deser_u64(d);
    for (uint64_t i = 0; i < n && !d->bad; i++) {
        size_t kl;
        const char *k = ff_deser_bytes(d, &kl);
        int64_t v = ff_deser_i64(d);
        ff_smap_ent *e;
        bool created;
        if (d->bad || !k || ff_smap_put(&ss->users, k, kl, &e, &created) != FF_OK) {
            d->bad = true;
            break;
        }
        e->v.i = v;
    }
    size_t hl;
    const void *hp = ff_deser_bytes(d, &hl);
    if (hp && hl == sizeof ss->hist)
        memcpy(ss->hist, hp, hl);
    else
        d->bad = true;
    ss->top_s = ff_deser_i64(d);
    ss->last_sweep_s = ff_deser_i64(d);
    if (ss->top_s != INT64_MIN &&
        (ss->top_s < -((int64_t)1 << 50) || ss->top_s > ((int64_t)1 << 50)))
        d->bad = true;
    if (ss->last_sweep_s < -((int64_t)1 << 50) || ss->last_sweep_s > ((int64_t)1 << 50))
        ss->last_sweep_s = ss->top_s == INT64_MIN ? 0 : ss->top_s;
    if (d->bad)
        ss->top_s = INT64_MIN;
    ss->dropped = (uint64_t)ff_deser_i64(d);
    ss->started = (uint64_t)ff_deser_i64(d);
    ss->ended = (uint64_t)ff_deser_i64(d);
    ss->stitched = (uint64_t)ff_deser_i64(d);
    return d->bad ? FF_ECORRUPT : FF_OK;
}
