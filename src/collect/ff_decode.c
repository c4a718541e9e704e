/* ff_decode.c -- one Segment message (a batch item or a single-call body)
 * to one canonical record.
 *
 * One walk per event. The message's top-level members are picked out in a
 * single scan (switch on key length), the checks run in a fixed order (the
 * first failing one names the reason; docs/api.md lists the order), the typed
 * columns are chosen from properties and context, and the record is written
 * straight into the request's payload buffer: properties, traits and context
 * are copied member by member through one scrubbing writer that enforces the
 * depth/array limits, redacts secret-named fields and card numbers, and
 * normalises numbers. Any rejection found while writing truncates the
 * payload back to where this event began, so no state leaks between events.
 * Nothing here mallocs; the payload buffer grows by doubling.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/ff_collect_int.h"
#include "core/ff_clock.h"

/* ---- a JSON writer with a sticky error ----------------------------------- */

typedef struct jw {
    ff_buf *b;
    ff_rc rc;
} jw;

static inline void jw_add(jw *w, const void *p, size_t n)
{
    ff_buf *b = w->b;
    if (b->len + n < b->cap) { /* fast path: room for the bytes and the NUL */
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
        return;
    }
    if (w->rc == FF_OK)
        w->rc = ff_buf_add(b, p, n);
}

static inline void jw_c(jw *w, char c)
{
    ff_buf *b = w->b;
    if (b->len + 1 < b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return;
    }
    if (w->rc == FF_OK)
        w->rc = ff_buf_addc(b, c);
}

#define JW_LIT(w, lit) jw_add((w), (lit), sizeof(lit) - 1)

/* 1 = escape, 2 = maybe U+2028/2029 (E2 80 A8/A9) */
static const unsigned char esc_tab[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,         1,          1,          1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, ['"'] = 1, ['\\'] = 1, [0xE2] = 2,
};

/* Non-zero when some byte of v is < 0x20, '"', '\\' or 0xE2 (SWAR, 8 at a time). */
static inline uint64_t swar_special(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t lt = (v - ones * 0x20) & ~v;
    uint64_t q = v ^ (ones * '"'), bs = v ^ (ones * '\\'), e2 = v ^ (ones * 0xE2);
    uint64_t eq = ((q - ones) & ~q) | ((bs - ones) & ~bs) | ((e2 - ones) & ~e2);
    return (lt | eq) & high;
}

/* True when s[0..n) holds no byte swar_special flags, checked with two
 * overlapping loads (4 <= n <= 16; every byte is covered at least once). */
static inline bool plain_overlap(const char *s, size_t n)
{
    uint64_t v;
    if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        return !swar_special(a) && !swar_special(b);
    }
    uint32_t lo, hi;
    memcpy(&lo, s, 4);
    memcpy(&hi, s + n - 4, 4);
    v = (uint64_t)lo | (uint64_t)hi << 32;
    return !swar_special(v);
}

static void jw_esc(jw *w, const char *s, size_t n)
{
    /* The common case: a short plain string, one copy. */
    if (n >= 4 && n <= 16 && plain_overlap(s, n)) {
        jw_add(w, s, n);
        return;
    }
    size_t i = 0, run = 0;
    while (i < n) {
        /* Skip plain bytes 8 at a time; the lowest flagged byte of
         * swar_special is always a real special byte, so jump right to it. */
        while (i + 8 <= n) {
            uint64_t v;
            memcpy(&v, s + i, 8);
            uint64_t m = swar_special(v);
            if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                i += (size_t)__builtin_ctzll(m) >> 3;
#endif
                goto special;
            }
            i += 8;
        }
        if (i < n && n >= 8) { /* the tail: one load overlapping checked bytes */
            uint64_t v;
            memcpy(&v, s + n - 8, 8);
            if (!swar_special(v))
                break;
        }
        while (i < n && !esc_tab[(unsigned char)s[i]])
            i++;
        if (i >= n)
            break;
    special:;
        unsigned char ch = (unsigned char)s[i];
        if (!esc_tab[ch]) {
            i++;
            continue;
        }
        if (esc_tab[ch] == 2) {
            if (i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                ((unsigned char)s[i + 2] == 0xA8 || (unsigned char)s[i + 2] == 0xA9)) {
                jw_add(w, s + run, i - run);
                jw_add(w, (unsigned char)s[i + 2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
                i += 3;
                run = i;
                continue;
            }
            i++;
            continue;
        }
        jw_add(w, s + run, i - run);
        char tmp[8];
        switch (ch) {
        case '"':
            jw_add(w, "\\\"", 2);
            break;
        case '\\':
            jw_add(w, "\\\\", 2);
            break;
        case '\n':
            jw_add(w, "\\n", 2);
            break;
        case '\r':
            jw_add(w, "\\r", 2);
            break;
        case '\t':
            jw_add(w, "\\t", 2);
            break;
        case '\b':
            jw_add(w, "\\b", 2);
            break;
        case '\f':
            jw_add(w, "\\f", 2);
            break;
        default: {
            static const char hex[] = "0123456789abcdef";
            memcpy(tmp, "\\u00", 4);
            tmp[4] = hex[ch >> 4];
            tmp[5] = hex[ch & 15];
            jw_add(w, tmp, 6);
        }
        }
        i++;
        run = i;
    }
    jw_add(w, s + run, n - run);
}

static void jw_str(jw *w, const char *s, size_t n)
{
    jw_c(w, '"');
    jw_esc(w, s, n);
    jw_c(w, '"');
}

/* ",\"key\":" with a literal key */
#define JW_KEY(w, lit) JW_LIT((w), ",\"" lit "\":")

/* ---- per-event state ------------------------------------------------------ */

typedef struct ev {
    ff_decode_req *r;
    const ff_collect_opts *o;
    jw w;
    unsigned flags; /* 1u << ff_flag */
    uint32_t scrub[FF_S__N];
    const ff_json *skip[16]; /* properties members consumed into columns */
    int n_skip;
    bool null_page_url, null_page_ref;
} ev;

static void ev_flag(ev *e, ff_flag f)
{
    e->flags |= 1u << f;
}

/* Free text: escape, with card numbers replaced. */
static void w_str_scrub(ev *e, const char *s, size_t n)
{
    jw *w = &e->w;
    size_t from = 0, st, en;
    jw_c(w, '"');
    while (from < n && ff_priv_find_pan(s, n, from, &st, &en)) {
        jw_esc(w, s + from, st - from);
        JW_LIT(w, "[REDACTED_PAN]");
        e->scrub[FF_S_CARD_NUMBER]++;
        from = en;
    }
    jw_esc(w, s + from, n - from);
    jw_c(w, '"');
}

/* Write a number node; returns a reason (>= 0) or -1. */
static int w_number(ev *e, const ff_json *v)
{
    jw *w = &e->w;
    const char *t = v->str;
    size_t n = v->len;
    size_t i0 = (n > 0 && t[0] == '-') ? 1 : 0;
    size_t mant_end = n;
    bool integer = true;
    for (size_t k = i0; k < n; k++) {
        if (t[k] == '.') {
            integer = false;
        } else if (t[k] == 'e' || t[k] == 'E') {
            integer = false;
            mant_end = k;
            break;
        }
    }
    if (integer) {
        size_t nd = n - i0;
        if (nd == 1 && t[i0] == '0') {
            jw_c(w, '0'); /* -0 -> 0 */
            return -1;
        }
        if (i0 == 0 && nd >= 13 && nd <= 19 && ff_priv_int_is_pan(t, n)) {
            JW_LIT(w, "\"[REDACTED_PAN]\"");
            e->scrub[FF_S_CARD_NUMBER]++;
            return -1;
        }
        if (nd > 309 || (nd == 309 && (t[i0] > '1' || (t[i0] == '1' && t[i0 + 1] >= '8'))))
            return FF_R_NUMBER_OUT_OF_RANGE;
        if (nd > 16 || (nd == 16 && memcmp(t + i0, "9007199254740992", 16) > 0)) {
            jw_c(w, '"'); /* beyond 2^53: exact as text, since readers parse doubles */
            jw_add(w, t, n);
            jw_c(w, '"');
            ev_flag(e, FF_F_LOSSY_NUMBER);
            return -1;
        }
        jw_add(w, t, n);
        return -1;
    }
    bool zero = true;
    for (size_t k = i0; k < mant_end && zero; k++)
        zero = t[k] == '0' || t[k] == '.';
    if (zero) {
        jw_c(w, '0'); /* -0.0, 0e7 -> 0 */
        return -1;
    }
    bool has_exp = mant_end < n;
    if (!has_exp && n <= 24) { /* < 1e24 and > 1e-23: a double holds it */
        jw_add(w, t, n);
        return -1;
    }
    if (n < 64) {
        char tmp[64];
        memcpy(tmp, t, n);
        tmp[n] = '\0';
        double d = strtod(tmp, NULL);
        if (isinf(d))
            return FF_R_NUMBER_OUT_OF_RANGE;
        if (d == 0) {
            jw_c(w, '0'); /* 1E-400 underflows: normalised to 0 */
            return -1;
        }
        jw_add(w, t, n);
        return -1;
    }
    /* Long text: decide by the decimal exponent of the first digit. */
    int64_t e10 = 0, x = 0;
    size_t k = i0;
    size_t int_digits = 0;
    while (k < mant_end && t[k] != '.') {
        k++;
        int_digits++;
    }
    size_t fz = 0;
    bool found = false;
    for (size_t q = i0; q < i0 + int_digits; q++)
        if (t[q] != '0') {
            e10 = (int64_t)(i0 + int_digits - 1 - q);
            found = true;
            break;
        }
    if (!found)
        for (size_t q = i0 + int_digits + 1; q < mant_end; q++, fz++)
            if (t[q] != '0') {
                e10 = -(int64_t)fz - 1;
                break;
            }
    if (has_exp) {
        size_t q = mant_end + 1;
        bool xneg = q < n && t[q] == '-';
        if (q < n && (t[q] == '-' || t[q] == '+'))
            q++;
        for (; q < n; q++)
            if (x < 1000000)
                x = x * 10 + (t[q] - '0');
        if (xneg)
            x = -x;
    }
    e10 += x;
    if (e10 > 308)
        return FF_R_NUMBER_OUT_OF_RANGE;
    if (e10 < -324) {
        jw_c(w, '0');
        return -1;
    }
    jw_add(w, t, n);
    return -1;
}

static int w_value(ev *e, const ff_json *v, unsigned depth);

static bool keq(const ff_json *m, const char *lit, size_t n)
{
    return m->key_len == n && memcmp(m->key, lit, n) == 0;
}
#define KEQ(m, lit) keq((m), (lit), sizeof(lit) - 1)

/* "key":value for an object member, with secret-named values redacted. */
static int w_member(ev *e, const ff_json *m, unsigned depth)
{
    jw *w = &e->w;
    jw_str(w, m->key, m->key_len);
    jw_c(w, ':');
    if (m->type != FF_JSON_NULL && m->type != FF_JSON_TRUE && m->type != FF_JSON_FALSE &&
        ff_priv_key_is_secret(m->key, m->key_len)) {
        JW_LIT(w, "\"[REDACTED]\"");
        e->scrub[FF_S_PASSWORD_FIELD]++;
        return -1;
    }
    return w_value(e, m, depth);
}

static int w_value(ev *e, const ff_json *v, unsigned depth)
{
    jw *w = &e->w;
    switch (v->type) {
    case FF_JSON_NULL:
        JW_LIT(w, "null");
        return -1;
    case FF_JSON_TRUE:
        JW_LIT(w, "true");
        return -1;
    case FF_JSON_FALSE:
        JW_LIT(w, "false");
        return -1;
    case FF_JSON_NUMBER:
        return w_number(e, v);
    case FF_JSON_STRING:
        w_str_scrub(e, v->str, v->len);
        return -1;
    case FF_JSON_ARRAY: {
        if (depth > e->o->max_prop_depth)
            return FF_R_PROPS_TOO_DEEP;
        if (v->n_children > e->o->max_array_items)
            return FF_R_ARRAY_TOO_LONG;
        jw_c(w, '[');
        for (const ff_json *c = v->child; c; c = c->next) {
            if (c != v->child)
                jw_c(w, ',');
            int rc = w_value(e, c, depth + 1);
            if (rc >= 0)
                return rc;
        }
        jw_c(w, ']');
        return -1;
    }
    case FF_JSON_OBJECT: {
        if (depth > e->o->max_prop_depth)
            return FF_R_PROPS_TOO_DEEP;
        jw_c(w, '{');
        for (const ff_json *c = v->child; c; c = c->next) {
            if (c != v->child)
                jw_c(w, ',');
            int rc = w_member(e, c, depth + 1);
            if (rc >= 0)
                return rc;
        }
        jw_c(w, '}');
        return -1;
    }
    }
    return -1;
}

/* ---- the message ------------------------------------------------------------ */

typedef struct msg {
    const ff_json *type, *event, *name, *user_id, *anon_id, *message_id, *properties, *traits,
        *context, *timestamp, *original_ts, *sent_at, *group_id, *previous_id, *category;
    const ff_json *hash_skip[5]; /* members left out of the payload hash, in source order */
    int n_hash_skip;
} msg;

static void scan_msg(const ff_json *item, msg *m)
{
    memset(m, 0, sizeof *m);
    for (const ff_json *c = item->child; c; c = c->next) {
        const ff_json **slot = NULL;
        bool hash_skip = false;
        switch (c->key_len) {
        case 4:
            if (KEQ(c, "type"))
                slot = &m->type;
            else if (KEQ(c, "name"))
                slot = &m->name;
            break;
        case 5:
            if (KEQ(c, "event"))
                slot = &m->event;
            break;
        case 6:
            if (KEQ(c, "userId"))
                slot = &m->user_id;
            else if (KEQ(c, "traits"))
                slot = &m->traits;
            else if (KEQ(c, "sentAt")) {
                slot = &m->sent_at;
                hash_skip = true;
            }
            break;
        case 7:
            if (KEQ(c, "context"))
                slot = &m->context;
            else if (KEQ(c, "groupId"))
                slot = &m->group_id;
            break;
        case 8:
            if (KEQ(c, "category"))
                slot = &m->category;
            else if (KEQ(c, "writeKey"))
                hash_skip = true;
            break;
        case 9:
            if (KEQ(c, "messageId"))
                slot = &m->message_id;
            else if (KEQ(c, "timestamp"))
                slot = &m->timestamp;
            else if (KEQ(c, "_metadata"))
                hash_skip = true;
            break;
        case 10:
            if (KEQ(c, "properties"))
                slot = &m->properties;
            else if (KEQ(c, "previousId"))
                slot = &m->previous_id;
            else if (KEQ(c, "receivedAt"))
                hash_skip = true;
            break;
        case 11:
            if (KEQ(c, "anonymousId"))
                slot = &m->anon_id;
            break;
        case 12:
            if (KEQ(c, "integrations"))
                hash_skip = true;
            break;
        case 17:
            if (KEQ(c, "originalTimestamp"))
                slot = &m->original_ts;
            break;
        default:
            break;
        }
        if (slot && (c->type != FF_JSON_NULL || slot == &m->event))
            *slot = c; /* "event": null is a wrong type, not a missing name */
        if (hash_skip && m->n_hash_skip < 5)
            m->hash_skip[m->n_hash_skip++] = c;
    }
}

static bool subtree_has_dup(const ff_json *v)
{
    if (v->flags & FF_JSON_F_DUP_KEY)
        return true;
    if (!(v->flags & FF_JSON_F_SUBTREE_BAD))
        return false;
    for (const ff_json *c = v->child; c; c = c->next)
        if ((c->flags & (FF_JSON_F_DUP_KEY | FF_JSON_F_SUBTREE_BAD)) && subtree_has_dup(c))
            return true;
    return false;
}

static int bad_json_reason(const ff_json *v)
{
    if (!v || !(v->flags & (FF_JSON_F_DUP_KEY | FF_JSON_F_SUBTREE_BAD | FF_JSON_F_BAD_SURROGATE)))
        return -1;
    return subtree_has_dup(v) ? FF_R_DUPLICATE_KEY : FF_R_INVALID_STRING;
}

/* Structure check of a container below properties/traits/context; the same
 * limits the writer enforces, used to name the reason for an oversize event
 * (10,000 properties is too_many_properties, not just event_too_large). */
static int structure_reason(const ff_collect_opts *o, const ff_json *v, unsigned depth)
{
    if (v->type != FF_JSON_ARRAY && v->type != FF_JSON_OBJECT)
        return -1;
    if (depth > o->max_prop_depth)
        return FF_R_PROPS_TOO_DEEP;
    if (v->type == FF_JSON_ARRAY && v->n_children > o->max_array_items)
        return FF_R_ARRAY_TOO_LONG;
    for (const ff_json *c = v->child; c; c = c->next) {
        int rc = structure_reason(o, c, depth + 1);
        if (rc >= 0)
            return rc;
    }
    return -1;
}

static ff_reason too_large_reason(const ff_collect_opts *o, const ff_json *item)
{
    for (const ff_json *c = item->child; c; c = c->next) {
        bool props = c->key_len == 10 && memcmp(c->key, "properties", 10) == 0;
        bool traits = c->key_len == 6 && memcmp(c->key, "traits", 6) == 0;
        bool ctx = c->key_len == 7 && memcmp(c->key, "context", 7) == 0;
        if ((!props && !traits && !ctx) || c->type != FF_JSON_OBJECT)
            continue;
        if (!ctx && c->n_children > o->max_properties)
            return FF_R_TOO_MANY_PROPERTIES;
        for (const ff_json *m = c->child; m; m = m->next) {
            int rc = structure_reason(o, m, 1);
            if (rc >= 0)
                return (ff_reason)rc;
        }
    }
    return FF_R_EVENT_TOO_LARGE;
}

static bool has_ctl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            return true;
        if (c == 0xC2 && i + 1 < n && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9F)
            return true; /* C1 controls U+0080..U+009F */
    }
    return false;
}

/* A text column value: non-empty string or a number's text. */
static bool text_of(const ff_json *v, size_t max, const char **s, size_t *n)
{
    if (!v)
        return false;
    if ((v->type == FF_JSON_STRING && v->len > 0) || v->type == FF_JSON_NUMBER) {
        if (v->len > max)
            return false;
        *s = v->str;
        *n = v->len;
        return true;
    }
    return false;
}

static const ff_json *member(const ff_json *obj, const char *k, size_t kn)
{
    if (!obj || obj->type != FF_JSON_OBJECT)
        return NULL;
    for (const ff_json *c = obj->child; c; c = c->next)
        if (c->key_len == kn && memcmp(c->key, k, kn) == 0)
            return c->type == FF_JSON_NULL ? NULL : c;
    return NULL;
}
#define MEMBER(obj, lit) member((obj), (lit), sizeof(lit) - 1)

static const ff_json *str_member(const ff_json *obj, const char *k, size_t kn)
{
    const ff_json *v = member(obj, k, kn);
    return (v && v->type == FF_JSON_STRING) ? v : NULL;
}
#define STR_MEMBER(obj, lit) str_member((obj), (lit), sizeof(lit) - 1)

void ff_decode_scan_ctx(const ff_json *ctx, ff_ctx_fields *f)
{
    memset(f, 0, sizeof *f);
    if (!ctx || ctx->type != FF_JSON_OBJECT)
        return;
    for (const ff_json *c = ctx->child; c; c = c->next) {
        if (c->type == FF_JSON_NULL)
            continue;
        const ff_json **slot = NULL;
        switch (c->key_len) {
        case 2:
            if (KEQ(c, "ip"))
                slot = &f->ip;
            else if (KEQ(c, "os"))
                slot = &f->os;
            break;
        case 4:
            if (KEQ(c, "page"))
                slot = &f->page;
            break;
        case 6:
            if (KEQ(c, "device"))
                slot = &f->device;
            else if (KEQ(c, "traits"))
                slot = &f->traits;
            break;
        case 8:
            if (KEQ(c, "location"))
                slot = &f->location;
            break;
        case 9:
            if (KEQ(c, "userAgent"))
                slot = &f->user_agent;
            else if (KEQ(c, "sessionId"))
                slot = &f->session_id;
            break;
        case 10:
            if (KEQ(c, "session_id"))
                slot = &f->session_id2;
            break;
        default:
            break;
        }
        if (slot && !*slot)
            *slot = c;
    }
}

/* context.x from the item's context, else the envelope's. */
#define CTX(field) (ic.field ? ic.field : r->env.field)

/* ---- columns ------------------------------------------------------------------ */

enum { COL_TEXT_MAX = 1024 };

typedef struct money_col {
    const ff_json *node;
    bool set;
    ff_money m;
} money_col;

typedef struct cols {
    const ff_json *product_id, *category, *price, *quantity, *order_id, *revenue, *currency,
        *search_term, *element, *url, *referrer, *session_id, *items;
    bool prop_name;              /* properties has "name" */
    bool prop_raw_ts;            /* properties has "_raw_timestamp" */
    const ff_json *pid_alt[3];   /* product_id, sku, item_id */
    const ff_json *cat_alt[2];   /* category, item_category */
    const ff_json *oid_alt[2];   /* order_id, transaction_id */
    const ff_json *rev_alt[4];   /* revenue, total, value, amount */
    const ff_json *st_alt[2];    /* query, search_term */
    const ff_json *el_alt[2];    /* element, element_id */
    const ff_json *sess_alt[2];  /* session_id, $session_id */
    const ff_json *items_alt[2]; /* items, products */
} cols;

static void scan_props(const ff_json *props, cols *k)
{
    memset(k, 0, sizeof *k);
    if (!props)
        return;
    for (const ff_json *c = props->child; c; c = c->next) {
        if (c->type == FF_JSON_NULL)
            continue;
        switch (c->key_len) {
        case 3:
            if (KEQ(c, "sku"))
                k->pid_alt[1] = c;
            else if (KEQ(c, "url"))
                k->url = c;
            break;
        case 4:
            if (KEQ(c, "name"))
                k->prop_name = true;
            break;
        case 5:
            if (KEQ(c, "price"))
                k->price = c;
            else if (KEQ(c, "total"))
                k->rev_alt[1] = c;
            else if (KEQ(c, "value"))
                k->rev_alt[2] = c;
            else if (KEQ(c, "query"))
                k->st_alt[0] = c;
            else if (KEQ(c, "items"))
                k->items_alt[0] = c;
            break;
        case 6:
            if (KEQ(c, "amount"))
                k->rev_alt[3] = c;
            break;
        case 7:
            if (KEQ(c, "item_id"))
                k->pid_alt[2] = c;
            else if (KEQ(c, "revenue"))
                k->rev_alt[0] = c;
            else if (KEQ(c, "element"))
                k->el_alt[0] = c;
            break;
        case 8:
            if (KEQ(c, "category"))
                k->cat_alt[0] = c;
            else if (KEQ(c, "quantity"))
                k->quantity = c;
            else if (KEQ(c, "order_id"))
                k->oid_alt[0] = c;
            else if (KEQ(c, "currency"))
                k->currency = c;
            else if (KEQ(c, "referrer"))
                k->referrer = c;
            else if (KEQ(c, "products"))
                k->items_alt[1] = c;
            break;
        case 10:
            if (KEQ(c, "product_id"))
                k->pid_alt[0] = c;
            else if (KEQ(c, "session_id"))
                k->sess_alt[0] = c;
            else if (KEQ(c, "element_id"))
                k->el_alt[1] = c;
            break;
        case 11:
            if (KEQ(c, "search_term"))
                k->st_alt[1] = c;
            else if (KEQ(c, "$session_id"))
                k->sess_alt[1] = c;
            break;
        case 13:
            if (KEQ(c, "item_category"))
                k->cat_alt[1] = c;
            break;
        case 14:
            if (KEQ(c, "transaction_id"))
                k->oid_alt[1] = c;
            else if (KEQ(c, "_raw_timestamp"))
                k->prop_raw_ts = true;
            break;
        default:
            break;
        }
    }
}

/* First alternative usable as a text column. */
static const ff_json *pick_text(const ff_json *const *alt, int n)
{
    const char *s;
    size_t len;
    for (int i = 0; i < n; i++)
        if (text_of(alt[i], COL_TEXT_MAX, &s, &len))
            return alt[i];
    return NULL;
}

static void skip_add(ev *e, const ff_json *v)
{
    if (v && e->n_skip < (int)(sizeof e->skip / sizeof e->skip[0]))
        e->skip[e->n_skip++] = v;
}

static bool skipped(const ev *e, const ff_json *v)
{
    for (int i = 0; i < e->n_skip; i++)
        if (e->skip[i] == v)
            return true;
    return false;
}

/* Parse an amount node; returns a reason or -1. *present false when the node
 * is absent. A non-numeric value is `unparsed` (caller decides). */
static int parse_amount(ev *e, const ff_json *v, int scale, bool neg_ok, ff_money *out,
                        bool *present, bool *unparsed)
{
    *present = false;
    *unparsed = false;
    if (!v)
        return -1;
    if (v->type != FF_JSON_NUMBER && v->type != FF_JSON_STRING) {
        *unparsed = true;
        return -1;
    }
    bool rounded;
    ff_money_rc mrc = ff_money_parse(v->str, v->len, scale, out, &rounded);
    if (mrc == FF_MONEY_SYNTAX) {
        *unparsed = true;
        return -1;
    }
    if (mrc == FF_MONEY_RANGE)
        return FF_R_AMOUNT_OUT_OF_RANGE;
    if (out->units < 0 && !neg_ok)
        return FF_R_INVALID_AMOUNT;
    if (v->type == FF_JSON_STRING)
        ev_flag(e, FF_F_NUMERIC_STRING);
    if (rounded)
        ev_flag(e, FF_F_AMOUNT_ROUNDED);
    *present = true;
    return -1;
}

/* ---- UUIDv7 (RFC 9562 5.7) ------------------------------------------------------- */

static uint64_t rng_next(ff_decode_req *r)
{
    r->rng += 0x9e3779b97f4a7c15ULL;
    return ff_collect_mix64(r->rng);
}

static void uuid_v7(ff_decode_req *r, int64_t ms, char out[37])
{
    unsigned char b[16];
    uint64_t t = (uint64_t)ms;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(t >> (40 - 8 * i));
    uint64_t r1 = rng_next(r), r2 = rng_next(r);
    b[6] = (unsigned char)(0x70 | (r1 & 0x0f));
    b[7] = (unsigned char)(r1 >> 8);
    b[8] = (unsigned char)(0x80 | ((r1 >> 16) & 0x3f));
    for (int i = 9; i < 16; i++)
        b[i] = (unsigned char)(r2 >> (8 * (i - 9)));
    static const char hex[] = "0123456789abcdef";
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

/* ---- outcome helpers --------------------------------------------------------------- */

ff_rc ff_decode_reject(ff_decode_req *r, uint32_t index, ff_reason why)
{
    ff_buf *b = &r->out->rejected;
    ff_rc rc = ff_buf_adds(b, r->out->n_rejected ? ",{\"i\":" : "{\"i\":");
    if (!rc)
        rc = ff_buf_add_u64(b, index);
    if (!rc)
        rc = ff_buf_adds(b, ",\"reason\":\"");
    if (!rc)
        rc = ff_buf_adds(b, ff_reason_names[why]);
    if (!rc)
        rc = ff_buf_adds(b, "\"}");
    r->out->n_rejected++;
    r->p->rejected[why]++;
    return rc;
}

static void tally_accept(struct ff_collect_priv *p, unsigned flags, const uint32_t *scrub)
{
    for (int f = 0; f < FF_F__N; f++)
        if (flags & (1u << f))
            p->flags[f]++;
    for (int s = 0; s < FF_S__N; s++)
        p->scrub[s] += scrub[s];
}

static uint32_t payload_hash(const ff_collect *c, const ff_json *item, const msg *m)
{
    uint64_t h = c->seed[1];
    const char *pos = item->src, *end = item->src + item->src_len;
    for (int i = 0; i < m->n_hash_skip; i++) {
        const ff_json *x = m->hash_skip[i];
        if (x->src < pos || x->src > end)
            continue;
        h = ff_collect_hash64(h, pos, (size_t)(x->src - pos));
        pos = x->src + x->src_len;
    }
    h = ff_collect_hash64(h, pos, (size_t)(end - pos));
    return (uint32_t)(h ^ (h >> 32)) | 1u;
}

/* ---- the event ---------------------------------------------------------------------- */

static const char *const type_names[] = {"track", "page", "screen", "identify", "group", "alias"};

static int type_from_name(const ff_json *t)
{
    if (!t || t->type != FF_JSON_STRING)
        return -1;
    for (int i = 0; i < 6; i++)
        if (t->len == strlen(type_names[i]) && memcmp(t->str, type_names[i], t->len) == 0)
            return i;
    return -1;
}

enum { T_TRACK, T_PAGE, T_SCREEN, T_IDENTIFY, T_GROUP, T_ALIAS };

static bool is_id_value(const ff_json *v)
{
    return v && ((v->type == FF_JSON_STRING && v->len > 0) || v->type == FF_JSON_NUMBER);
}

/* Write the properties object (minus consumed members, plus extras). */
static int w_properties(ev *e, const ff_json *props, const ff_json *page_name,
                        const ff_json *raw_ts, const ff_json *extra_id, const char *extra_key)
{
    jw *w = &e->w;
    size_t mark = w->b->len;
    bool any = false;
    JW_LIT(w, ",\"properties\":{");
    if (props) {
        ff_collect *c = e->r->c;
        for (const ff_json *m = props->child; m; m = m->next) {
            if (skipped(e, m))
                continue;
            if (!ff_keyset_admit(c->keys,
                                 ff_collect_hash64(c->seed[0] ^ 0x6b657973ULL, m->key, m->key_len)))
                return FF_R_KEY_CARDINALITY_CAP;
            if (any)
                jw_c(w, ',');
            any = true;
            int rc = w_member(e, m, 1);
            if (rc >= 0)
                return rc;
        }
    }
    if (page_name) {
        if (any)
            jw_c(w, ',');
        JW_LIT(w, "\"name\":");
        w_str_scrub(e, page_name->str, page_name->len);
        any = true;
    }
    if (extra_id) {
        if (any)
            jw_c(w, ',');
        jw_c(w, '"');
        jw_add(w, extra_key, strlen(extra_key));
        JW_LIT(w, "\":");
        jw_str(w, extra_id->str, extra_id->len);
        any = true;
    }
    if (raw_ts) {
        if (any)
            jw_c(w, ',');
        JW_LIT(w, "\"_raw_timestamp\":");
        jw_str(w, raw_ts->str, raw_ts->len);
        any = true;
    }
    if (!any) {
        if (w->rc == FF_OK)
            w->b->len = mark;
        return -1;
    }
    jw_c(w, '}');
    return -1;
}

static int w_object_section(ev *e, const char *lead, size_t lead_len, const ff_json *obj)
{
    jw *w = &e->w;
    if (!obj || obj->n_children == 0)
        return -1;
    jw_add(w, lead, lead_len);
    for (const ff_json *m = obj->child; m; m = m->next) {
        if (m != obj->child)
            jw_c(w, ',');
        int rc = w_member(e, m, 1);
        if (rc >= 0)
            return rc;
    }
    jw_c(w, '}');
    return -1;
}

/* context.page with invalid url/referrer nulled */
static int w_page(ev *e, const ff_json *page)
{
    jw *w = &e->w;
    jw_str(w, page->key, page->key_len);
    JW_LIT(w, ":{");
    for (const ff_json *m = page->child; m; m = m->next) {
        if (m != page->child)
            jw_c(w, ',');
        if ((e->null_page_url && KEQ(m, "url")) || (e->null_page_ref && KEQ(m, "referrer"))) {
            jw_str(w, m->key, m->key_len);
            JW_LIT(w, ":null");
            continue;
        }
        int rc = w_member(e, m, 2);
        if (rc >= 0)
            return rc;
    }
    jw_c(w, '}');
    return -1;
}

static int w_context(ev *e, const ff_json *ictx, const ff_json *ectx)
{
    jw *w = &e->w;
    size_t mark = w->b->len;
    bool any = false;
    JW_LIT(w, ",\"context\":{");
    const ff_json *srcs[2] = {ictx, ectx};
    for (int s = 0; s < 2; s++) {
        if (!srcs[s])
            continue;
        for (const ff_json *m = srcs[s]->child; m; m = m->next) {
            if (KEQ(m, "ip"))
                continue;
            if (s == 1 && ictx) { /* the item's own context wins, even a null */
                bool shadow = false;
                for (const ff_json *q = ictx->child; q && !shadow; q = q->next)
                    shadow = q->key_len == m->key_len && memcmp(q->key, m->key, m->key_len) == 0;
                if (shadow)
                    continue;
            }
            if (any)
                jw_c(w, ',');
            any = true;
            int rc;
            if (m->type == FF_JSON_OBJECT && KEQ(m, "page") &&
                (e->null_page_url || e->null_page_ref)) {
                rc = w_page(e, m);
            } else {
                rc = w_member(e, m, 1);
            }
            if (rc >= 0)
                return rc;
        }
    }
    if (!any) {
        if (w->rc == FF_OK)
            w->b->len = mark;
        return -1;
    }
    jw_c(w, '}');
    return -1;
}

static void w_text_col(ev *e, const char *key_lit, size_t key_len, const ff_json *v, bool scrub)
{
    if (!v)
        return;
    jw_add(&e->w, key_lit, key_len);
    if (scrub)
        w_str_scrub(e, v->str, v->len);
    else
        jw_str(&e->w, v->str, v->len);
}
#define TEXT_COL(e, lit, v, scrub)                                                                 \
    w_text_col((e), ",\"" lit "\":", sizeof(",\"" lit "\":") - 1, (v), (scrub))

static void w_cstr_col(ev *e, const char *key_lit, size_t key_len, const char *s)
{
    if (!s)
        return;
    jw_add(&e->w, key_lit, key_len);
    jw_str(&e->w, s, strlen(s));
}
#define CSTR_COL(e, lit, s) w_cstr_col((e), ",\"" lit "\":", sizeof(",\"" lit "\":") - 1, (s))

static void w_money_col(ev *e, const char *key_lit, size_t key_len, const money_col *m)
{
    if (!m->set)
        return;
    char buf[32];
    size_t n = ff_money_format(&m->m, buf);
    jw_add(&e->w, key_lit, key_len);
    jw_c(&e->w, '"'); /* exact decimal text: readers must not round-trip it through a double */
    jw_add(&e->w, buf, n);
    jw_c(&e->w, '"');
}
#define MONEY_COL(e, lit, m) w_money_col((e), ",\"" lit "\":", sizeof(",\"" lit "\":") - 1, (m))

static void w_i64_col(ev *e, const char *key_lit, size_t key_len, int64_t v)
{
    char buf[24];
    int i = (int)sizeof buf;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        buf[--i] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[--i] = '-';
    jw_add(&e->w, key_lit, key_len);
    jw_add(&e->w, buf + i, sizeof buf - (size_t)i);
}
#define I64_COL(e, lit, v) w_i64_col((e), ",\"" lit "\":", sizeof(",\"" lit "\":") - 1, (v))

static bool ua_bot_cached(ff_decode_req *r, const char *ua, size_t n)
{
    if (!(r->ua_key && r->ua_key_len == n && (r->ua_key == ua || memcmp(r->ua_key, ua, n) == 0))) {
        r->ua_key = ua;
        r->ua_key_len = n;
        r->ua_bot = ff_priv_ua_is_bot(ua, n);
        ff_ua_parse(ua, n, &r->ua);
    }
    return r->ua_bot;
}

ff_rc ff_decode_event(ff_decode_req *r, const ff_json *item, uint32_t index)
{
    ff_collect *c = r->c;
    const ff_collect_opts *o = &c->o;
    const int64_t rcv = r->req->received_at_ms;
    int why = -1;

    if (item->type != FF_JSON_OBJECT)
        return ff_decode_reject(r, index, FF_R_INVALID_EVENT);
    size_t env_bytes = r->env_context ? r->env_context->src_len : 0;
    if (item->src_len + env_bytes > o->max_event_bytes)
        return ff_decode_reject(r, index, too_large_reason(o, item));
    if ((why = bad_json_reason(item)) >= 0 || (why = bad_json_reason(r->env_context)) >= 0)
        return ff_decode_reject(r, index, (ff_reason)why);

    msg m;
    scan_msg(item, &m);

    /* type */
    int type;
    if (r->req->call != FF_CALL_BATCH) {
        type = (int)r->req->call - 1;
    } else {
        if (!m.type)
            return ff_decode_reject(r, index, FF_R_MISSING_TYPE);
        type = type_from_name(m.type);
        if (type < 0)
            return ff_decode_reject(r, index, FF_R_INVALID_TYPE);
    }

    /* event name */
    const char *ev_name = NULL;
    size_t ev_len = 0;
    const ff_json *page_name = NULL;
    switch (type) {
    case T_TRACK:
        if (!m.event)
            return ff_decode_reject(r, index, FF_R_MISSING_EVENT);
        if (m.event->type != FF_JSON_STRING)
            return ff_decode_reject(r, index, FF_R_INVALID_TYPE_EVENT);
        if (m.event->len == 0)
            return ff_decode_reject(r, index, FF_R_MISSING_EVENT);
        if (m.event->len > o->max_name_bytes)
            return ff_decode_reject(r, index, FF_R_NAME_TOO_LONG);
        if (has_ctl(m.event->str, m.event->len))
            return ff_decode_reject(r, index, FF_R_INVALID_NAME);
        ev_name = m.event->str;
        ev_len = m.event->len;
        break;
    case T_PAGE:
    case T_SCREEN:
        ev_name = type == T_PAGE ? "page_viewed" : "screen_viewed";
        ev_len = strlen(ev_name);
        if (m.name && m.name->type == FF_JSON_STRING && m.name->len > 0 &&
            m.name->len <= COL_TEXT_MAX)
            page_name = m.name;
        break;
    default:
        ev_name = type_names[type];
        ev_len = strlen(ev_name);
        break;
    }

    /* identity */
    const ff_json *uid = m.user_id, *aid = m.anon_id;
    if ((uid && uid->type != FF_JSON_STRING && uid->type != FF_JSON_NUMBER) ||
        (aid && aid->type != FF_JSON_STRING && aid->type != FF_JSON_NUMBER))
        return ff_decode_reject(r, index, FF_R_INVALID_IDENTITY);
    if (uid && uid->len == 0)
        uid = NULL;
    if (aid && aid->len == 0)
        aid = NULL;
    if ((uid && uid->len > COL_TEXT_MAX) || (aid && aid->len > COL_TEXT_MAX))
        return ff_decode_reject(r, index, FF_R_INVALID_IDENTITY);
    if (!uid && !aid)
        return ff_decode_reject(r, index, FF_R_MISSING_IDENTITY);
    const ff_json *extra_id = NULL;
    const char *extra_key = NULL;
    if (type == T_GROUP) {
        if (!is_id_value(m.group_id) || m.group_id->len > COL_TEXT_MAX)
            return ff_decode_reject(r, index, FF_R_MISSING_GROUP_ID);
        extra_id = m.group_id;
        extra_key = "group_id";
    } else if (type == T_ALIAS) {
        if (!is_id_value(m.previous_id) || m.previous_id->len > COL_TEXT_MAX)
            return ff_decode_reject(r, index, FF_R_MISSING_PREVIOUS_ID);
        extra_id = m.previous_id;
        extra_key = "previous_id";
    }

    /* event id */
    const char *eid = NULL;
    size_t eid_len = 0;
    if (m.message_id) {
        if (m.message_id->type != FF_JSON_STRING && m.message_id->type != FF_JSON_NUMBER)
            return ff_decode_reject(r, index, FF_R_INVALID_EVENT_ID);
        if (m.message_id->len > o->max_id_bytes || has_ctl(m.message_id->str, m.message_id->len))
            return ff_decode_reject(r, index, FF_R_INVALID_EVENT_ID);
        if (m.message_id->len > 0) {
            eid = m.message_id->str;
            eid_len = m.message_id->len;
        }
    }
    /* The dedupe key, hashed once; its table slot is fetched into cache now
     * so the miss overlaps the record writing below. */
    uint64_t dkey = 0;
    if (eid) {
        dkey = ff_collect_hash64(c->seed[0], eid, eid_len);
        ff_dedupe_prefetch(c->dedupe, dkey);
    }

    /* containers */
    const ff_json *props = m.properties, *traits = m.traits, *ictx = m.context;
    const ff_json *ectx = r->env_context;
    if (props && props->type != FF_JSON_OBJECT)
        return ff_decode_reject(r, index, FF_R_INVALID_TYPE_PROPERTIES);
    if (traits && traits->type != FF_JSON_OBJECT)
        return ff_decode_reject(r, index, FF_R_INVALID_TYPE_TRAITS);
    if (ictx && ictx->type != FF_JSON_OBJECT)
        return ff_decode_reject(r, index, FF_R_INVALID_TYPE_CONTEXT);
    ff_ctx_fields ic;
    ff_decode_scan_ctx(ictx, &ic);
    if (type == T_IDENTIFY && !traits) {
        const ff_json *ct = ic.traits;
        if (ct && ct->type == FF_JSON_OBJECT)
            traits = ct;
    }
    if ((props && props->n_children > o->max_properties) ||
        (traits && traits->n_children > o->max_properties))
        return ff_decode_reject(r, index, FF_R_TOO_MANY_PROPERTIES);

    /* bots: the event's own user agent, else the request's */
    const ff_json *ua_node = CTX(user_agent);
    const char *ua = NULL;
    size_t ua_len = 0;
    if (ua_node && ua_node->type == FF_JSON_STRING) {
        ua = ua_node->str;
        ua_len = ua_node->len;
    } else if (r->req->user_agent) {
        ua = r->req->user_agent;
        ua_len = strlen(ua);
    }
    bool is_bot = ua ? ua_bot_cached(r, ua, ua_len) : false;
    if (is_bot && !o->keep_bots) {
        r->out->n_dropped++;
        r->p->dropped[FF_D_BOT]++;
        return FF_OK;
    }

    ev e;
    memset(&e, 0, sizeof e);
    e.r = r;
    e.o = o;
    e.w.b = &r->out->payload;

    /* columns from properties */
    cols k;
    scan_props(props, &k);
    const ff_json *page = CTX(page);
    if (page && page->type != FF_JSON_OBJECT)
        page = NULL;

    const ff_json *url = NULL, *ref = NULL;
    bool url_from_props = false, ref_from_props = false;
    if (k.url && k.url->type == FF_JSON_STRING) {
        url = k.url;
        url_from_props = true;
    } else {
        url = STR_MEMBER(page, "url");
    }
    if (k.referrer && k.referrer->type == FF_JSON_STRING) {
        ref = k.referrer;
        ref_from_props = true;
    } else {
        ref = STR_MEMBER(page, "referrer");
    }
    if (url && url->len == 0)
        url = NULL;
    if (ref && ref->len == 0)
        ref = NULL;
    if (url && !ff_priv_url_ok(url->str, url->len, o->max_url_bytes)) {
        ev_flag(&e, FF_F_INVALID_URL);
        if (url_from_props)
            skip_add(&e, url);
        else
            e.null_page_url = true;
        url = NULL;
    } else if (url && url_from_props) {
        skip_add(&e, url);
    }
    if (ref && !ff_priv_url_ok(ref->str, ref->len, o->max_url_bytes)) {
        ev_flag(&e, FF_F_INVALID_URL);
        if (ref_from_props)
            skip_add(&e, ref);
        else
            e.null_page_ref = true;
        ref = NULL;
    } else if (ref && ref_from_props) {
        skip_add(&e, ref);
    }
    if (ref && ff_priv_referrer_is_spam(ref->str, ref->len)) {
        r->out->n_dropped++;
        r->p->dropped[FF_D_SPAM_REFERRER]++;
        return FF_OK;
    }

    /* vocabulary */
    size_t canon_len = 0;
    const char *canon = NULL;
    if (type == T_TRACK && r->req->backfill) {
        const ff_collect_backfill *bf = r->req->backfill;
        for (size_t i = 0; i < bf->n_aliases && !canon; i++)
            if (bf->aliases[i].from_len == ev_len &&
                memcmp(bf->aliases[i].from, ev_name, ev_len) == 0) {
                canon = bf->aliases[i].to;
                canon_len = bf->aliases[i].to_len;
            }
    }
    if (type == T_TRACK && !canon)
        canon = ff_vocab_canonical(ev_name, ev_len, &canon_len);
    if (!canon) {
        canon = ev_name;
        canon_len = ev_len;
    }
    unsigned cls = ff_vocab_class(canon, canon_len);
    bool orig_differs = type == T_TRACK && (canon_len != ev_len || memcmp(canon, ev_name, ev_len));
    if (type == T_TRACK && ff_priv_suspicious_unicode(ev_name, ev_len))
        ev_flag(&e, FF_F_SUSPICIOUS_UNICODE);

    /* text columns */
    const ff_json *pid = pick_text(k.pid_alt, 3);
    const ff_json *cat = pick_text(k.cat_alt, 2);
    const ff_json *oid = pick_text(k.oid_alt, 2);
    const ff_json *st = pick_text(k.st_alt, 2);
    const ff_json *el = pick_text(k.el_alt, 2);
    const ff_json *sess = pick_text(k.sess_alt, 2);
    skip_add(&e, pid);
    skip_add(&e, cat);
    skip_add(&e, oid);
    skip_add(&e, st);
    skip_add(&e, el);
    skip_add(&e, sess);
    if (!cat && type == T_PAGE && m.category && m.category->type == FF_JSON_STRING &&
        m.category->len > 0 && m.category->len <= COL_TEXT_MAX)
        cat = m.category;
    if (!sess) {
        const ff_json *const salt[2] = {CTX(session_id), CTX(session_id2)};
        sess = pick_text(salt, 2);
    }

    /* single-product events: the first item fills what the top level lacks */
    const ff_json *price_node = k.price, *qty_node = k.quantity;
    bool price_consumable = true, qty_consumable = true;
    if (cls & FF_EV_PRODUCT) {
        const ff_json *items = k.items_alt[0] ? k.items_alt[0] : k.items_alt[1];
        if (items && items->type == FF_JSON_ARRAY && items->child &&
            items->child->type == FF_JSON_OBJECT) {
            const ff_json *it = items->child;
            if (!pid) {
                const ff_json *const a[3] = {MEMBER(it, "item_id"), MEMBER(it, "product_id"),
                                             MEMBER(it, "sku")};
                pid = pick_text(a, 3);
            }
            if (!cat) {
                const ff_json *const a[2] = {MEMBER(it, "item_category"), MEMBER(it, "category")};
                cat = pick_text(a, 2);
            }
            if (!price_node) {
                price_node = MEMBER(it, "price");
                price_consumable = false;
            }
            if (!qty_node) {
                qty_node = MEMBER(it, "quantity");
                qty_consumable = false;
            }
        }
    }

    /* money */
    int cur_digits = -1;
    const ff_json *cur = k.currency;
    if (cur) {
        if (cur->type != FF_JSON_STRING)
            return ff_decode_reject(r, index, FF_R_INVALID_CURRENCY);
        cur_digits = ff_money_currency_digits(cur->str, cur->len);
        if (cur_digits < 0)
            return ff_decode_reject(r, index, FF_R_INVALID_CURRENCY);
    }
    const bool neg_ok = (cls & FF_EV_NEG_OK) != 0;
    money_col price = {0}, revenue = {0};
    bool present, unparsed;
    const ff_json *rev_node = NULL;
    for (int i = 0; i < 4 && !rev_node; i++)
        rev_node = k.rev_alt[i];
    if ((why = parse_amount(&e, price_node, cur_digits, neg_ok, &price.m, &present, &unparsed)) >=
        0)
        return ff_decode_reject(r, index, (ff_reason)why);
    if (unparsed && (cls & FF_EV_REVENUE))
        return ff_decode_reject(r, index, FF_R_INVALID_AMOUNT);
    price.set = present;
    if ((why = parse_amount(&e, rev_node, cur_digits, neg_ok, &revenue.m, &present, &unparsed)) >=
        0)
        return ff_decode_reject(r, index, (ff_reason)why);
    if (unparsed && (cls & FF_EV_REVENUE))
        return ff_decode_reject(r, index, FF_R_INVALID_AMOUNT);
    revenue.set = present;
    if ((price.set || revenue.set) && cur_digits < 0) {
        if (cls & FF_EV_REVENUE)
            return ff_decode_reject(r, index, FF_R_INVALID_CURRENCY);
        ev_flag(&e, FF_F_NO_CURRENCY);
    }
    if (price.set && price_consumable)
        skip_add(&e, price_node);
    if (revenue.set)
        skip_add(&e, rev_node);
    if (cur)
        skip_add(&e, cur);

    /* quantity */
    bool qty_set = false;
    int64_t qty = 0;
    if (qty_node) {
        if (qty_node->type == FF_JSON_NUMBER && ff_json_as_i64(qty_node, &qty)) {
            qty_set = true;
        } else if (qty_node->type == FF_JSON_STRING && qty_node->len > 0 && qty_node->len <= 18) {
            qty_set = true;
            for (size_t i = 0; i < qty_node->len; i++)
                if (qty_node->str[i] < '0' || qty_node->str[i] > '9')
                    qty_set = false;
            if (qty_set) {
                qty = strtoll(qty_node->str, NULL, 10);
                ev_flag(&e, FF_F_NUMERIC_STRING);
            }
        }
        if (qty_set && qty_consumable)
            skip_add(&e, qty_node);
        if (!qty_set)
            ev_flag(&e, FF_F_INVALID_QUANTITY);
    }

    /* time */
    ff_time_in tin = {m.timestamp,
                      m.original_ts,
                      m.sent_at ? m.sent_at : r->env_sent_at,
                      rcv,
                      o->min_ts_ms,
                      o->max_future_ms,
                      o->max_clock_skew_ms};
    if (r->req->backfill) { /* import: keep historical times as given (ff_collect.h) */
        tin.min_ts_ms = 0;
        tin.max_future_ms = INT64_MAX / 4;
        tin.max_clock_skew_ms = INT64_MAX / 4;
    }
    ff_time_out tout;
    ff_time_resolve(&tin, &tout);
    if (tout.flags & FF_TS_ADJUSTED)
        ev_flag(&e, FF_F_TIMESTAMP_ADJUSTED);
    if (tout.flags & FF_TS_INVALID)
        ev_flag(&e, FF_F_INVALID_TIMESTAMP);
    if (tout.flags & FF_TS_SKEW)
        ev_flag(&e, FF_F_CLOCK_SKEW_CORRECTED);
    const ff_json *raw_ts = NULL;
    if (tout.raw && !k.prop_raw_ts &&
        (tout.raw->type == FF_JSON_STRING || tout.raw->type == FF_JSON_NUMBER))
        raw_ts = tout.raw;

    /* device / browser / os / country / ip */
    const ff_json *dev = CTX(device);
    const ff_json *dtype = STR_MEMBER(dev, "type");
    const char *device = dtype ? ff_ua_device_class(dtype->str, dtype->len) : NULL;
    const ff_json *osn = STR_MEMBER(CTX(os), "name");
    const char *os = osn ? ff_ua_os_family(osn->str, osn->len) : NULL;
    const char *browser = NULL;
    if (ua) {
        if (!device)
            device = r->ua.device;
        if (!os)
            os = r->ua.os;
        browser = r->ua.browser;
    }
    const ff_json *country = STR_MEMBER(CTX(location), "country");
    if (country && (country->len == 0 || country->len > 64))
        country = NULL;
    char ipbuf[64];
    size_t ip_len = 0;
    bool ip_set = false;
    const ff_json *ipn = CTX(ip);
    const char *ip_src = NULL;
    size_t ip_src_len = 0;
    if (ipn && ipn->type == FF_JSON_STRING && ipn->len > 0) {
        ip_src = ipn->str;
        ip_src_len = ipn->len;
    } else if (r->req->peer_ip && r->req->peer_ip[0]) {
        ip_src = r->req->peer_ip;
        ip_src_len = strlen(ip_src);
    }
    if (ip_src) {
        e.scrub[FF_S_IP]++;
        if (o->ip_mode == FF_COLLECT_IP_TRUNCATE)
            ip_set = ff_priv_ip_truncate(ip_src, ip_src_len, ipbuf, &ip_len);
    }

    /* event id */
    char uuid[37];
    if (!eid) {
        uuid_v7(r, rcv, uuid);
        eid = uuid;
        eid_len = 36;
        ev_flag(&e, FF_F_NO_EVENT_ID);
    }

    /* ---- write the record ---- */
    jw *w = &e.w;
    const size_t start = w->b->len;
    jw_add(w, "\0\0\0\0", 4);
    JW_LIT(w, "{\"v\":1,\"event_id\":");
    jw_str(w, eid, eid_len);
    JW_LIT(w, ",\"type\":\"");
    jw_add(w, type_names[type], strlen(type_names[type]));
    JW_LIT(w, "\",\"event\":");
    jw_str(w, canon, canon_len);
    if (orig_differs) {
        JW_LIT(w, ",\"event_original\":");
        jw_str(w, ev_name, ev_len);
    }
    I64_COL(&e, "ts", tout.ts_ms);
    I64_COL(&e, "received_at", rcv);
    if (tout.has_sent_at)
        I64_COL(&e, "sent_at", tout.sent_at_ms);
    if (tout.has_original)
        I64_COL(&e, "original_ts", tout.original_ms);
    TEXT_COL(&e, "user_id", uid, false);
    TEXT_COL(&e, "anonymous_id", aid, false);
    TEXT_COL(&e, "session_id", sess, false);
    TEXT_COL(&e, "url", url, true);
    TEXT_COL(&e, "referrer", ref, true);
    TEXT_COL(&e, "product_id", pid, false);
    TEXT_COL(&e, "category", cat, true);
    MONEY_COL(&e, "price", &price);
    if (qty_set)
        I64_COL(&e, "quantity", qty);
    TEXT_COL(&e, "order_id", oid, false);
    MONEY_COL(&e, "revenue", &revenue);
    TEXT_COL(&e, "currency", cur, false);
    TEXT_COL(&e, "search_term", st, true);
    TEXT_COL(&e, "element", el, true);
    TEXT_COL(&e, "country", country, false);
    CSTR_COL(&e, "device", device);
    CSTR_COL(&e, "browser", browser);
    CSTR_COL(&e, "os", os);
    if (ip_set) {
        JW_LIT(w, ",\"ip\":");
        jw_str(w, ipbuf, ip_len);
    }
    if ((why = w_properties(&e, props, (page_name && !k.prop_name) ? page_name : NULL, raw_ts,
                            extra_id, extra_key)) >= 0 ||
        (why = w_object_section(&e, ",\"traits\":{", 11, traits)) >= 0 ||
        (why = w_context(&e, ictx, ectx)) >= 0) {
        if (w->rc == FF_OK)
            w->b->len = start;
        else
            goto write_failed;
        return ff_decode_reject(r, index, (ff_reason)why);
    }
    if (e.scrub[FF_S_PASSWORD_FIELD] || e.scrub[FF_S_CARD_NUMBER])
        ev_flag(&e, FF_F_REDACTED);
    if (e.flags) {
        JW_LIT(w, ",\"flags\":[");
        bool first = true;
        for (int f = 0; f < FF_F__N; f++) {
            if (!(e.flags & (1u << f)))
                continue;
            if (!first)
                jw_c(w, ',');
            first = false;
            jw_c(w, '"');
            jw_add(w, ff_flag_names[f], strlen(ff_flag_names[f]));
            jw_c(w, '"');
        }
        jw_c(w, ']');
    }
    jw_c(w, '}');
    if (w->rc != FF_OK)
        goto write_failed;
    size_t rec_len = w->b->len - start - 4;
    unsigned char *lp = (unsigned char *)w->b->data + start;
    lp[0] = (unsigned char)rec_len;
    lp[1] = (unsigned char)(rec_len >> 8);
    lp[2] = (unsigned char)(rec_len >> 16);
    lp[3] = (unsigned char)(rec_len >> 24);

    /* ---- dedupe ---- */
    if (!(e.flags & (1u << FF_F_NO_EVENT_ID))) {
        uint64_t key = dkey; /* eid is the client's id here: hashed above */
        uint32_t ph = payload_hash(c, item, &m);
        ff_dedupe_resv resv;
        switch (ff_dedupe_reserve(c->dedupe, key, ph, rcv, r->p->owner, &resv)) {
        case FF_DEDUPE_NEW:
            r->p->resv[r->p->n_resv++] = resv;
            break;
        case FF_DEDUPE_CONFLICT:
            r->out->n_conflicts++;
            __attribute__((fallthrough));
        case FF_DEDUPE_DUP:
            w->b->len = start;
            r->out->n_duplicates++;
            return FF_OK;
        case FF_DEDUPE_PENDING:
        case FF_DEDUPE_TIMEOUT: {
            /* Another request holds this id: settle after the loop. */
            struct ff_collect_priv *p = r->p;
            ff_deferred *d = &p->deferred_items[p->n_deferred];
            d->key = key;
            d->phash = ph;
            d->index = index;
            d->off = p->deferred.len;
            d->len = w->b->len - start;
            d->flags = e.flags;
            memcpy(d->scrub, e.scrub, sizeof d->scrub);
            ff_rc rc = ff_buf_add(&p->deferred, w->b->data + start, d->len);
            w->b->len = start;
            if (rc != FF_OK)
                return rc;
            p->n_deferred++;
            return FF_OK;
        }
        }
    }
    r->out->n_records++;
    tally_accept(r->p, e.flags, e.scrub);
    return FF_OK;

write_failed:
    if (w->rc == FF_ENOMEM)
        return FF_ENOMEM;
    /* FF_ELIMIT: the payload cap (sized from the limits) was hit. */
    w->b->len = start;
    w->rc = FF_OK;
    return ff_decode_reject(r, index, FF_R_EVENT_TOO_LARGE);
}

ff_rc ff_decode_resolve_deferred(ff_decode_req *r)
{
    struct ff_collect_priv *p = r->p;
    for (uint32_t i = 0; i < p->n_deferred; i++) {
        ff_deferred *d = &p->deferred_items[i];
        ff_dedupe_resv resv;
        ff_dedupe_rc rc =
            ff_dedupe_reserve_wait(r->c->dedupe, d->key, d->phash, r->req->received_at_ms, p->owner,
                                   r->deadline_mono_ns, &resv);
        switch (rc) {
        case FF_DEDUPE_CONFLICT:
            r->out->n_conflicts++;
            __attribute__((fallthrough));
        case FF_DEDUPE_DUP:
            r->out->n_duplicates++;
            continue;
        case FF_DEDUPE_NEW:
            p->resv[p->n_resv++] = resv;
            break;
        case FF_DEDUPE_PENDING:
        case FF_DEDUPE_TIMEOUT:
            /* Store it anyway: a possible second copy (the stream
             * processor dedupes again) is better than a lost event. */
            if (rc == FF_DEDUPE_TIMEOUT)
                p->wait_timeouts++;
            else
                p->races++;
            break;
        }
        ff_rc brc = ff_buf_add(&r->out->payload, p->deferred.data + d->off, d->len);
        if (brc != FF_OK)
            return brc == FF_ENOMEM ? FF_ENOMEM
                                    : ff_decode_reject(r, d->index, FF_R_EVENT_TOO_LARGE);
        r->out->n_records++;
        tally_accept(p, d->flags, d->scrub);
    }
    return FF_OK;
}
