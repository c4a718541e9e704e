/* ff_stream_util.c -- see ff_stream_int.h. */
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "core/ff_mem.h"
#include "stream/ff_stream_int.h"

/* ---- string map -------------------------------------------------------------------------- */

void ff_smap_init(ff_smap *m, size_t max_entries)
{
    memset(m, 0, sizeof *m);
    m->max_entries = max_entries ? max_entries : (size_t)1 << 30;
}

void ff_smap_fini(ff_smap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        ff_free(m->slots[i].key);
    ff_free(m->slots);
    memset(m, 0, sizeof *m);
}

uint64_t ff_smap_hash(const char *k, size_t len)
{
    return XXH3_64bits(k, len);
}

ff_smap_ent *ff_smap_get(const ff_smap *m, const char *k, size_t len)
{
    if (!m->cap)
        return NULL;
    uint64_t h = ff_smap_hash(k, len);
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        ff_smap_ent *e = &m->slots[i];
        if (!e->key)
            return NULL;
        if (e->hash == h && e->klen == len && memcmp(e->key, k, len) == 0)
            return e;
    }
}

static ff_rc smap_grow(ff_smap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 64;
    ff_smap_ent *ns = ff_calloc(ncap, sizeof *ns);
    if (!ns)
        return FF_ENOMEM;
    for (size_t i = 0; i < m->cap; i++) {
        ff_smap_ent *e = &m->slots[i];
        if (!e->key)
            continue;
        size_t j = e->hash & (ncap - 1);
        while (ns[j].key)
            j = (j + 1) & (ncap - 1);
        ns[j] = *e;
    }
    ff_free(m->slots);
    m->slots = ns;
    m->cap = ncap;
    return FF_OK;
}

ff_rc ff_smap_put(ff_smap *m, const char *k, size_t len, ff_smap_ent **out, bool *created)
{
    ff_smap_ent *e = ff_smap_get(m, k, len);
    if (e) {
        *out = e;
        if (created)
            *created = false;
        return FF_OK;
    }
    if (m->n >= m->max_entries)
        return FF_ELIMIT;
    if ((m->n + 1) * 10 > m->cap * 7) {
        ff_rc rc = smap_grow(m);
        if (rc)
            return rc;
    }
    char *kc = ff_malloc(len + 1);
    if (!kc)
        return FF_ENOMEM;
    memcpy(kc, k, len);
    kc[len] = 0;
    uint64_t h = ff_smap_hash(k, len);
    size_t mask = m->cap - 1, i = h & mask;
    while (m->slots[i].key)
        i = (i + 1) & mask;
    e = &m->slots[i];
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->key = kc;
    e->klen = (uint32_t)len;
    m->n++;
    m->key_bytes += len;
    *out = e;
    if (created)
        *created = true;
    return FF_OK;
}

bool ff_smap_del(ff_smap *m, const char *k, size_t len)
{
    ff_smap_ent *e = ff_smap_get(m, k, len);
    if (!e)
        return false;
    size_t mask = m->cap - 1;
    size_t i = (size_t)(e - m->slots);
    ff_free(e->key);
    m->key_bytes -= e->klen;
    m->n--;
    /* backward-shift deletion */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        ff_smap_ent *f = &m->slots[j];
        if (!f->key)
            break;
        size_t home = f->hash & mask;
        /* f may move to i when i lies cyclically in [home, j) */
        bool move = (i <= j) ? (home <= i || home > j) : (home <= i && home > j);
        if (move) {
            m->slots[i] = *f;
            i = j;
        }
    }
    memset(&m->slots[i], 0, sizeof m->slots[i]);
    return true;
}

/* ---- serialisation ----------------------------------------------------------------------- */

ff_rc ff_ser_u64(ff_buf *b, uint64_t v)
{
    unsigned char x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    return ff_buf_add(b, x, 8);
}

ff_rc ff_ser_i64(ff_buf *b, int64_t v)
{
    return ff_ser_u64(b, (uint64_t)v);
}

ff_rc ff_ser_u32(ff_buf *b, uint32_t v)
{
    unsigned char x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (unsigned char)(v >> (8 * i));
    return ff_buf_add(b, x, 4);
}

ff_rc ff_ser_bytes(ff_buf *b, const void *p, size_t n)
{
    ff_rc rc = ff_ser_u32(b, (uint32_t)n);
    if (rc == FF_OK && n)
        rc = ff_buf_add(b, p, n);
    return rc;
}

ff_rc ff_ser_str(ff_buf *b, const char *s)
{
    return ff_ser_bytes(b, s ? s : "", s ? strlen(s) : 0);
}

uint64_t ff_deser_u64(ff_deser *d)
{
    if (d->bad || d->n - d->pos < 8) {
        d->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)d->p[d->pos + (size_t)i] << (8 * i);
    d->pos += 8;
    return v;
}

int64_t ff_deser_i64(ff_deser *d)
{
    return (int64_t)ff_deser_u64(d);
}

uint32_t ff_deser_u32(ff_deser *d)
{
    if (d->bad || d->n - d->pos < 4) {
        d->bad = true;
        return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)d->p[d->pos + (size_t)i] << (8 * i);
    d->pos += 4;
    return v;
}

const void *ff_deser_bytes(ff_deser *d, size_t *len_out)
{
    uint32_t n = ff_deser_u32(d);
    *len_out = 0;
    if (d->bad || d->n - d->pos < n) {
        d->bad = true;
        return NULL;
    }
    const void *p = d->p + d->pos;
    d->pos += n;
    *len_out = n;
    return p;
}

char *ff_deser_strdup(ff_deser *d)
{
    size_t n;
    const char *p = ff_deser_bytes(d, &n);
    if (!p || !n)
        return NULL;
    char *s = ff_strndup(p, n);
    if (!s)
        d->bad = true;
    return s;
}

/* ---- dedupe window ----------------------------------------------------------------------- */

typedef struct sd_slot {
    uint64_t hash;
    int64_t at_ms;
} sd_slot;

struct ff_sdedupe {
    sd_slot *ring;         /* FIFO, capacity max_ids */
    uint64_t cap, head, n; /* head = ring index of the oldest entry */
    uint64_t *index;       /* high 32 bits: hash tag; low 32: ring position + 1 (0 = empty) */
    uint64_t index_cap;
    int64_t window_ms;
    int64_t max_at_ms;
    uint64_t evicted;
};

ff_sdedupe *ff_sdedupe_new(uint64_t max_ids, int64_t window_ms)
{
    if (max_ids < 16)
        max_ids = 16;
    if (max_ids > (1u << 30))
        max_ids = 1u << 30;
    ff_sdedupe *d = ff_calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->cap = max_ids;
    d->index_cap = 64;
    while (d->index_cap < max_ids * 2)
        d->index_cap <<= 1;
    d->ring = ff_malloc(d->cap * sizeof *d->ring);
    d->index = ff_calloc(d->index_cap, sizeof *d->index);
    if (!d->ring || !d->index) {
        ff_sdedupe_free(d);
        return NULL;
    }
    d->window_ms = window_ms;
    d->max_at_ms = INT64_MIN;
    return d;
}

void ff_sdedupe_free(ff_sdedupe *d)
{
    if (!d)
        return;
    ff_free(d->ring);
    ff_free(d->index);
    ff_free(d);
}

#define SD_POS(v) ((uint32_t)(v))
#define SD_TAG(h) ((h)&0xffffffff00000000ull)

static uint64_t *sd_find(ff_sdedupe *d, uint64_t h, uint64_t *slot_out)
{
    uint64_t mask = d->index_cap - 1;
    for (uint64_t i = h & mask;; i = (i + 1) & mask) {
        uint64_t v = d->index[i];
        if (!SD_POS(v)) {
            *slot_out = i;
            return NULL;
        }
        /* the tag saves a ring access (a cache miss) per non-matching probe */
        if ((v & 0xffffffff00000000ull) == SD_TAG(h) && d->ring[SD_POS(v) - 1].hash == h) {
            *slot_out = i;
            return slot_out;
        }
    }
}

static void sd_index_del(ff_sdedupe *d, uint64_t i)
{
    uint64_t mask = d->index_cap - 1;
    uint64_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        uint64_t v = d->index[j];
        if (!SD_POS(v))
            break;
        uint64_t home = d->ring[SD_POS(v) - 1].hash & mask;
        bool move = (i <= j) ? (home <= i || home > j) : (home <= i && home > j);
        if (move) {
            d->index[i] = v;
            i = j;
        }
    }
    d->index[i] = 0;
}

static void sd_pop_front(ff_sdedupe *d)
{
    sd_slot *s = &d->ring[d->head];
    uint64_t slot;
    if (sd_find(d, s->hash, &slot) && SD_POS(d->index[slot]) - 1 == d->head)
        sd_index_del(d, slot);
    d->head = (d->head + 1) % d->cap;
    d->n--;
}

bool ff_sdedupe_check(ff_sdedupe *d, const char *id, size_t len, int64_t received_at_ms)
{
    if (!len)
        return false; /* an empty event_id is never deduped */
    if (received_at_ms > d->max_at_ms)
        d->max_at_ms = received_at_ms;
    if (d->window_ms > 0) {
        while (d->n && d->ring[d->head].at_ms < d->max_at_ms - d->window_ms)
            sd_pop_front(d);
    }
    uint64_t h = XXH3_64bits(id, len);
    uint64_t slot;
    if (sd_find(d, h, &slot))
        return true;
    if (d->n == d->cap) {
        sd_pop_front(d);
        d->evicted++;
        sd_find(d, h, &slot); /* the probe sequence may have changed */
    }
    uint64_t pos = (d->head + d->n) % d->cap;
    d->ring[pos].hash = h;
    d->ring[pos].at_ms = received_at_ms;
    d->index[slot] = SD_TAG(h) | (pos + 1);
    d->n++;
    return false;
}

uint64_t ff_sdedupe_size(const ff_sdedupe *d)
{
    return d->n;
}

uint64_t ff_sdedupe_evicted(const ff_sdedupe *d)
{
    return d->evicted;
}

size_t ff_sdedupe_bytes(const ff_sdedupe *d)
{
    return (size_t)(d->cap * sizeof *d->ring + d->index_cap * sizeof *d->index);
}

/* ---- misc -------------------------------------------------------------------------------- */

void ff_stream_uuid(const char *text, size_t len, char out[37])
{
    XXH128_hash_t h = XXH3_128bits(text, len);
    unsigned char b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (unsigned char)(h.high64 >> (56 - 8 * i));
        b[8 + i] = (unsigned char)(h.low64 >> (56 - 8 * i));
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x80); /* version 8 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10 */
    static const char hx[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hx[b[i] >> 4];
        out[o++] = hx[b[i] & 15];
    }
    out[o] = 0;
}

const char *ff_stream_url_path(const char *url, size_t len, size_t *len_out)
{
    *len_out = 0;
    if (!len)
        return url;
    const char *p = url, *end = url + len;
    const char *ss = NULL;
    for (const char *q = url; q + 2 < end; q++) {
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            ss = q + 3;
            break;
        }
        if (*q == '/' || *q == '?' || *q == '#')
            break;
    }
    if (ss) {
        p = ss;
        while (p < end && *p != '/' && *p != '?' && *p != '#')
            p++;
        if (p == end || *p != '/') {
            *len_out = 1;
            return "/";
        }
    }
    const char *e = p;
    while (e < end && *e != '?' && *e != '#')
        e++;
    *len_out = (size_t)(e - p);
    return p;
}

const char *ff_stream_json_str(const char *obj, size_t len, const char *key, size_t *len_out)
{
    size_t kl = strlen(key);
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = obj[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == '"') {
            /* a key at depth 1 starts after '{' or ',' */
            bool is_key = depth == 1 && i > 0 && (obj[i - 1] == '{' || obj[i - 1] == ',');
            if (is_key && i + 1 + kl + 3 <= len && memcmp(obj + i + 1, key, kl) == 0 &&
                obj[i + 1 + kl] == '"' && obj[i + 2 + kl] == ':' && obj[i + 3 + kl] == '"') {
                size_t s = i + 4 + kl, j = s;
                while (j < len && obj[j] != '"') {
                    if (obj[j] == '\\')
                        j++;
                    j++;
                }
                if (j >= len)
                    return NULL;
                *len_out = j - s;
                return obj + s;
            }
            in_str = true;
        }
    }
    return NULL;
}
