/* ff_topk.c -- see ff_topk.h. */
#include "stream/ff_topk.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/ff_json.h"
#include "core/ff_mem.h"

static ff_rc sketch_init(ff_topk_sketch *s, uint32_t m)
{
    s->epoch = INT64_MIN;
    s->n_used = 0;
    s->n_total = 0;
    s->ctr = ff_calloc(m, sizeof *s->ctr);
    return s->ctr ? FF_OK : FF_ENOMEM;
}

ff_rc ff_topk_init(ff_topk *t, uint32_t m, int64_t epoch_ms)
{
    memset(t, 0, sizeof *t);
    if (m == 0 || m > FF_TOPK_MAX_COUNTERS || epoch_ms <= 0)
        return FF_EINVAL;
    t->m = m;
    t->epoch_ms = epoch_ms;
    if (sketch_init(&t->cur, m) || sketch_init(&t->prev, m)) {
        ff_topk_fini(t);
        return FF_ENOMEM;
    }
    return FF_OK;
}

void ff_topk_fini(ff_topk *t)
{
    ff_free(t->cur.ctr);
    ff_free(t->prev.ctr);
    t->cur.ctr = t->prev.ctr = NULL;
}

static void sketch_reset(ff_topk_sketch *s, int64_t epoch)
{
    s->epoch = epoch;
    s->n_used = 0;
    s->n_total = 0;
}

static uint64_t sketch_min(const ff_topk_sketch *s, uint32_t m, uint32_t *at)
{
    if (s->n_used < m) {
        if (at)
            *at = s->n_used;
        return 0;
    }
    uint32_t best = 0;
    for (uint32_t i = 1; i < s->n_used; i++)
        if (s->ctr[i].count < s->ctr[best].count)
            best = i;
    if (at)
        *at = best;
    return s->ctr[best].count;
}

static void sketch_add(ff_topk_sketch *s, uint32_t m, const char *key, size_t len, uint64_t h)
{
    s->n_total++;
    for (uint32_t i = 0; i < s->n_used; i++) {
        ff_topk_ctr *c = &s->ctr[i];
        if (c->hash == h && strncmp(c->key, key, len) == 0 && c->key[len] == 0) {
            c->count++;
            return;
        }
    }
    uint32_t at;
    uint64_t cmin = sketch_min(s, m, &at);
    ff_topk_ctr *c = &s->ctr[at];
    if (s->n_used < m)
        s->n_used++;
    c->hash = h;
    memcpy(c->key, key, len);
    c->key[len] = 0;
    c->count = cmin + 1;
    c->error = cmin;
}

void ff_topk_add(ff_topk *t, const char *key, size_t len, int64_t ts)
{
    if (!len)
        return;
    if (len > FF_TOPK_KEY_MAX)
        len = FF_TOPK_KEY_MAX;
    int64_t e = ts / t->epoch_ms;
    if (ts < 0 && e * t->epoch_ms != ts)
        e--;
    if (t->cur.epoch == INT64_MIN) {
        sketch_reset(&t->cur, e);
    } else if (e > t->cur.epoch) {
        ff_topk_sketch old = t->prev;
        t->prev = t->cur;
        t->cur = old;
        sketch_reset(&t->cur, e);
        if (t->prev.epoch != e - 1)
            sketch_reset(&t->prev, e - 1); /* a gap: the previous epoch saw nothing */
    }
    ff_topk_sketch *s = NULL;
    if (e == t->cur.epoch)
        s = &t->cur;
    else if (e == t->prev.epoch)
        s = &t->prev;
    if (!s)
        return; /* older than the window */
    sketch_add(s, t->m, key, len, ff_smap_hash(key, len));
}

static int item_cmp(const void *a, const void *b)
{
    const ff_topk_item *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->key, y->key);
}

static const ff_topk_ctr *sketch_find(const ff_topk_sketch *s, const ff_topk_ctr *c)
{
    for (uint32_t i = 0; i < s->n_used; i++)
        if (s->ctr[i].hash == c->hash && strcmp(s->ctr[i].key, c->key) == 0)
            return &s->ctr[i];
    return NULL;
}

uint32_t ff_topk_top(const ff_topk *t, uint32_t k, ff_topk_item *out)
{
    const ff_topk_sketch *sk[2] = {&t->cur, &t->prev};
    uint64_t cmin[2];
    for (int j = 0; j < 2; j++)
        cmin[j] = sk[j]->epoch == INT64_MIN ? 0 : sketch_min(sk[j], t->m, NULL);
    ff_topk_item *all = ff_malloc(2 * (size_t)t->m * sizeof *all);
    if (!all)
        return 0;
    uint32_t n = 0;
    for (int j = 0; j < 2; j++) {
        const ff_topk_sketch *s = sk[j];
        if (s->epoch == INT64_MIN)
            continue;
        for (uint32_t i = 0; i < s->n_used; i++) {
            const ff_topk_ctr *c = &s->ctr[i];
            const ff_topk_sketch *o = sk[1 - j];
            const ff_topk_ctr *oc = o->epoch == INT64_MIN ? NULL : sketch_find(o, c);
            if (j == 1 && oc)
                continue; /* already merged from cur */
            ff_topk_item *it = &all[n++];
            it->key = c->key;
            it->count = c->count + (oc ? oc->count : 0);
            it->error = c->error + (oc ? oc->error : cmin[1 - j]);
        }
    }
    qsort(all, n, sizeof *all, item_cmp);
    if (k > n)
        k = n;
    memcpy(out, all, k * sizeof *out);
    ff_free(all);
    return k;
}

ff_rc ff_topk_json(const ff_topk *t, uint32_t k, ff_buf *b)
{
    ff_topk_item items[64];
    if (k > 64)
        k = 64;
    uint32_t n = ff_topk_top(t, k, items);
    ff_buf_addc(b, '[');
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            ff_buf_addc(b, ',');
        ff_buf_adds(b, "{\"key\":");
        ff_json_write_str(b, items[i].key, strlen(items[i].key));
        ff_buf_printf(b, ",\"count\":%" PRIu64 ",\"error\":%" PRIu64 "}", items[i].count,
                      items[i].error);
    }
    return ff_buf_addc(b, ']');
}

static ff_rc sketch_save(const ff_topk_sketch *s, ff_buf *b)
{
    ff_rc rc = ff_ser_i64(b, s->epoch);
    rc = rc ? rc : ff_ser_u64(b, s->n_total);
    rc = rc ? rc : ff_ser_u32(b, s->n_used);
    for (uint32_t i = 0; rc == FF_OK && i < s->n_used; i++) {
        rc = ff_ser_str(b, s->ctr[i].key);
        rc = rc ? rc : ff_ser_u64(b, s->ctr[i].count);
        rc = rc ? rc : ff_ser_u64(b, s->ctr[i].error);
    }
    return rc;
}

static void sketch_load(ff_topk_sketch *s, uint32_t m, ff_deser *d)
{
    s->epoch = ff_deser_i64(d);
    s->n_total = ff_deser_u64(d);
    s->n_used = ff_deser_u32(d);
    if (s->n_used > m) {
        d->bad = true;
        s->n_used = 0;
        return;
    }
    for (uint32_t i = 0; i < s->n_used && !d->bad; i++) {
        size_t len;
        const char *k = ff_deser_bytes(d, &len);
        if (len > FF_TOPK_KEY_MAX) {
            d->bad = true;
            break;
        }
        if (len)
            memcpy(s->ctr[i].key, k, len);
        s->ctr[i].key[len] = 0;
        s->ctr[i].hash = ff_smap_hash(s->ctr[i].key, len);
        s->ctr[i].count = ff_deser_u64(d);
        s->ctr[i].error = ff_deser_u64(d);
    }
    if (d->bad)
        s->n_used = 0;
}

ff_rc ff_topk_save(const ff_topk *t, ff_buf *b)
{
    ff_rc rc = sketch_save(&t->cur, b);
    return rc ? rc : sketch_save(&t->prev, b);
}

ff_rc ff_topk_load(ff_topk *t, ff_deser *d)
{
    sketch_load(&t->cur, t->m, d);
    sketch_load(&t->prev, t->m, d);
    return d->bad ? FF_ECORRUPT : FF_OK;
}
