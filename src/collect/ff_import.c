/* ff_import.c -- lines of a file -> Segment messages. See ff_import.h. */
#include "collect/ff_import.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "collect/ff_collect_int.h"
#include "core/ff_clock.h"
#include "core/ff_json.h"

#define S(lit) lit, sizeof(lit) - 1

static const ff_collect_alias taobao_aliases[] = {
    {S("pv"), S("product_viewed")},
    {S("cart"), S("product_added")},
    {S("fav"), S("product_added_to_wishlist")},
    {S("buy"), S("order_completed")},
};

static const ff_import_map maps[] = {
    {"taobao", FF_IMPORT_CSV,
     "Taobao UserBehavior CSV: user,item,category,behavior(pv|cart|fav|buy),ts (Unix seconds)",
     taobao_aliases, sizeof taobao_aliases / sizeof taobao_aliases[0]},
    {"apache", FF_IMPORT_CSV,
     "Apache/nginx combined access log (access.log): one page event per line", NULL, 0},
};

const ff_import_map *ff_import_map_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof maps / sizeof maps[0]; i++)
        if (strcmp(maps[i].name, name) == 0)
            return &maps[i];
    return NULL;
}

const char *ff_import_map_names(void)
{
    return "taobao, apache";
}

static const char *const format_names[] = {"ndjson", "segment", "csv"};

bool ff_import_format_parse(const char *s, ff_import_format *out)
{
    for (int i = 0; i < 3; i++)
        if (s && strcmp(s, format_names[i]) == 0) {
            *out = (ff_import_format)i;
            return true;
        }
    return false;
}

const char *ff_import_format_name(ff_import_format f)
{
    return (unsigned)f < 3 ? format_names[f] : "?";
}

/* ---- ids -------------------------------------------------------------------------------- */

/* The line's part of its ids, hashed once per line (a batch line may hold many messages). */
typedef struct line_key {
    uint64_t h1, h2;
} line_key;

static line_key line_key_of(const char *scope, const char *line, size_t len, uint64_t line_no)
{
    uint64_t hs = ff_collect_hash64(0x666f6f7466616c6cull, scope, strlen(scope));
    uint64_t k = ff_collect_mix64(hs ^ ff_collect_mix64(line_no));
    return (line_key){ff_collect_hash64(k, line, len),
                      ff_collect_hash64(ff_collect_mix64(k ^ 0x9e3779b97f4a7c15ull), line, len)};
}

static void id_of(line_key lk, uint32_t sub, char out[37])
{
    uint64_t h1 = ff_collect_mix64(lk.h1 ^ ((uint64_t)sub * 0xbf58476d1ce4e5b9ull));
    uint64_t h2 = ff_collect_mix64(lk.h2 ^ ((uint64_t)sub * 0x94d049bb133111ebull) ^ h1);
    unsigned char u[16];
    for (int i = 0; i < 8; i++) {
        u[i] = (unsigned char)(h1 >> (56 - 8 * i));
        u[8 + i] = (unsigned char)(h2 >> (56 - 8 * i));
    }
    u[6] = (unsigned char)(0x80 | (u[6] & 0x0F)); /* version 8: custom */
    u[8] = (unsigned char)(0x80 | (u[8] & 0x3F)); /* RFC 9562 variant */
    static const char hex[] = "0123456789abcdef";
    char *q = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *q++ = '-';
        *q++ = hex[u[i] >> 4];
        *q++ = hex[u[i] & 15];
    }
    *q = '\0';
}

void ff_import_event_id(const char *scope, const char *line, size_t len, uint64_t line_no,
                        uint32_t sub, char out[37])
{
    id_of(line_key_of(scope, line, len, line_no), sub, out);
}

/* ---- small writers ---------------------------------------------------------------------- */

typedef struct wr {
    ff_buf *b;
    ff_rc rc;
} wr;

static void w_raw(wr *w, const char *s, size_t n)
{
    if (!w->rc)
        w->rc = ff_buf_add(w->b, s, n);
}

static void w_lit(wr *w, const char *s)
{
    w_raw(w, s, strlen(s));
}

static void w_str(wr *w, const char *s, size_t n)
{
    if (!w->rc)
        w->rc = ff_json_write_str(w->b, s, n);
}

static void w_val(wr *w, const ff_json *v)
{
    if (!w->rc)
        w->rc = ff_json_write_value(w->b, v);
}

/* ,"key": (or "key": first in its object) */
static void w_key(wr *w, bool *first, const char *key, size_t n)
{
    if (!*first)
        w_raw(w, ",", 1);
    *first = false;
    w_str(w, key, n);
    w_raw(w, ":", 1);
}

__attribute__((format(printf, 3, 4))) static ff_rc reject(ff_import_line_out *res,
                                                          const char *reason, const char *fmt, ...)
{
    res->reason = reason;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->detail, sizeof res->detail, fmt, ap);
    va_end(ap);
    return FF_OK;
}

static const char *json_reason(const char *code)
{
    if (!code)
        return "invalid_json";
    if (!strcmp(code, "invalid_utf8") || !strcmp(code, "too_deep"))
        return code;
    return "invalid_json";
}

/* Event time of an ndjson ts: RFC 3339 text or epoch milliseconds (number or digit string). */
static bool ts_ms(const ff_json *v, int64_t *ms)
{
    if (v->type == FF_JSON_NUMBER)
        return ff_json_as_i64(v, ms) && *ms >= 0 && *ms <= 1000000000000000LL;
    if (v->type != FF_JSON_STRING || v->len == 0)
        return false;
    if (ff_clock_parse_rfc3339(v->str, v->len, ms))
        return true;
    if (v->len > 16)
        return false;
    int64_t x = 0;
    for (size_t i = 0; i < v->len; i++) {
        if (v->str[i] < '0' || v->str[i] > '9')
            return false;
        x = x * 10 + (v->str[i] - '0');
    }
    *ms = x;
    return x <= 1000000000000000LL;
}

static void w_ts(wr *w, int64_t ms)
{
    char buf[32];
    size_t n = ff_clock_format_rfc3339(ms, buf);
    w_raw(w, "\"", 1);
    w_raw(w, buf, n);
    w_raw(w, "\"", 1);
}

/* ---- ndjson: canonical columns ---------------------------------------------------------- */

enum dest {
    D_MESSAGE_ID,
    D_TS,
    D_TYPE,
    D_EVENT,
    D_EVENT_ORIGINAL,
    D_TOP,  /* a top-level Segment field (seg = its name) */
    D_PROP, /* properties.<seg> */
    D_CTX,  /* context.<seg> */
    D_COUNTRY,
    D_DEVICE,
    D_OS,
    D_PROPS_OBJ,
    D_CTX_OBJ,
    D_IGNORE,
};

typedef struct col {
    const char *key;
    const char *seg;
    enum dest dest;
} col;

static const col cols[] = {
    {"event_id", "messageId", D_MESSAGE_ID},
    {"ts", "timestamp", D_TS},
    {"type", "type", D_TYPE},
    {"event", "event", D_EVENT},
    {"event_original", NULL, D_EVENT_ORIGINAL},
    {"user_id", "userId", D_TOP},
    {"anonymous_id", "anonymousId", D_TOP},
    {"group_id", "groupId", D_TOP},
    {"previous_id", "previousId", D_TOP},
    {"traits", "traits", D_TOP},
    {"session_id", "session_id", D_PROP},
    {"url", "url", D_PROP},
    {"referrer", "referrer", D_PROP},
    {"product_id", "product_id", D_PROP},
    {"category", "category", D_PROP},
    {"price", "price", D_PROP},
    {"quantity", "quantity", D_PROP},
    {"order_id", "order_id", D_PROP},
    {"revenue", "revenue", D_PROP},
    {"currency", "currency", D_PROP},
    {"search_term", "search_term", D_PROP},
    {"element", "element", D_PROP},
    {"ip", "ip", D_CTX},
    {"user_agent", "userAgent", D_CTX},
    {"country", "location", D_COUNTRY},
    {"device", "device", D_DEVICE},
    {"os", "os", D_OS},
    {"properties", NULL, D_PROPS_OBJ},
    {"context", NULL, D_CTX_OBJ},
    {"v", NULL, D_IGNORE},
    {"received_at", NULL, D_IGNORE},
    {"sent_at", NULL, D_IGNORE},
    {"original_ts", NULL, D_IGNORE},
    {"flags", NULL, D_IGNORE},
    {"browser", NULL, D_IGNORE},
};
#define N_COLS (sizeof cols / sizeof cols[0])

static bool key_is(const ff_json *m, const char *s)
{
    return m->key_len == strlen(s) && memcmp(m->key, s, m->key_len) == 0;
}

static bool present(const ff_json *v)
{
    return v && v->type != FF_JSON_NULL;
}

static ff_rc conv_ndjson(const ff_json *root, const char *line, size_t len, uint64_t line_no,
                         ff_buf *out, ff_import_line_out *res)
{
    const ff_json *slot[N_COLS] = {0};
    for (const ff_json *m = root->child; m; m = m->next) {
        size_t k = 0;
        while (k < N_COLS && !key_is(m, cols[k].key))
            k++;
        if (k == N_COLS) {
            char name[64];
            snprintf(name, sizeof name, "%.*s", (int)(m->key_len > 40 ? 40 : m->key_len), m->key);
            return reject(res, "invalid_event",
                          "unknown column \"%s\" (see docs/operations.md, ndjson columns)", name);
        }
        if (!slot[k])
            slot[k] = m;
    }
#define SLOT(k) slot[k]
    const ff_json *ts = NULL, *ev = NULL, *evo = NULL, *props = NULL, *ctx = NULL;
    for (size_t k = 0; k < N_COLS; k++) {
        if (!slot[k])
            continue;
        switch (cols[k].dest) {
        case D_TS:
            ts = slot[k];
            break;
        case D_EVENT:
            ev = slot[k];
            break;
        case D_EVENT_ORIGINAL:
            evo = slot[k];
            break;
        case D_PROPS_OBJ:
            props = slot[k];
            break;
        case D_CTX_OBJ:
            ctx = slot[k];
            break;
        default:
            break;
        }
    }
    int64_t ms = 0;
    bool has_ts = present(ts);
    if (has_ts && !ts_ms(ts, &ms))
        return reject(res, "invalid_event", "ts is not RFC 3339 text or epoch milliseconds");
    if (props && props->type != FF_JSON_OBJECT && props->type != FF_JSON_NULL)
        return reject(res, "invalid_type:properties", "properties must be an object");
    if (ctx && ctx->type != FF_JSON_OBJECT && ctx->type != FF_JSON_NULL)
        return reject(res, "invalid_type:context", "context must be an object");

    /* event name: event_original when it maps to event, else event (+ alias) */
    const ff_json *send_ev = present(ev) ? ev : NULL;
    if (evo && evo->type == FF_JSON_STRING && evo->len > 0) {
        if (!send_ev) {
            send_ev = evo;
        } else if (ev->type == FF_JSON_STRING &&
                   !(evo->len == ev->len && memcmp(evo->str, ev->str, ev->len) == 0)) {
            /* the stored name is event's canonical form, as HTTP would store it */
            size_t tl = ev->len, cl = 0;
            const char *to = ff_vocab_canonical(ev->str, ev->len, &tl);
            if (!to) {
                to = ev->str;
                tl = ev->len;
            }
            const char *canon = ff_vocab_canonical(evo->str, evo->len, &cl);
            if (!(canon && cl == tl && memcmp(canon, to, cl) == 0))
                res->alias = (ff_collect_alias){evo->str, evo->len, to, tl};
            send_ev = evo;
        }
    }

    wr w = {out, FF_OK};
    bool first = true;
    w_raw(&w, "{", 1);
    /* type, messageId, event, timestamp */
    for (size_t k = 0; k < N_COLS; k++)
        if (cols[k].dest == D_TYPE && present(slot[k])) {
            w_key(&w, &first, S("type"));
            w_val(&w, slot[k]);
        }
    if (first) {
        w_key(&w, &first, S("type"));
        w_lit(&w, "\"track\"");
    }
    bool has_id = false;
    for (size_t k = 0; k < N_COLS; k++)
        if (cols[k].dest == D_MESSAGE_ID && present(slot[k])) {
            w_key(&w, &first, S("messageId"));
            w_val(&w, slot[k]);
            has_id = true;
        }
    if (!has_id) {
        char id[37];
        ff_import_event_id("ndjson", line, len, line_no, 0, id);
        w_key(&w, &first, S("messageId"));
        w_str(&w, id, 36);
    }
    if (send_ev) {
        w_key(&w, &first, S("event"));
        w_val(&w, send_ev);
    }
    if (has_ts) {
        w_key(&w, &first, S("timestamp"));
        w_ts(&w, ms);
    }
    for (size_t k = 0; k < N_COLS; k++)
        if (cols[k].dest == D_TOP && present(slot[k])) {
            w_key(&w, &first, cols[k].seg, strlen(cols[k].seg));
            w_val(&w, slot[k]);
        }
    /* properties: the columns, then the object's other members */
    bool pfirst = true;
    for (size_t k = 0; k < N_COLS; k++)
        if (cols[k].dest == D_PROP && present(slot[k])) {
            if (pfirst)
                w_key(&w, &first, S("properties")), w_raw(&w, "{", 1);
            w_key(&w, &pfirst, cols[k].seg, strlen(cols[k].seg));
            w_val(&w, slot[k]);
        }
    if (props && props->type == FF_JSON_OBJECT) {
        for (const ff_json *m = props->child; m; m = m->next) {
            bool taken = false;
            for (size_t k = 0; k < N_COLS && !taken; k++)
                taken = cols[k].dest == D_PROP && present(slot[k]) && key_is(m, cols[k].seg);
            if (taken)
                continue;
            if (pfirst)
                w_key(&w, &first, S("properties")), w_raw(&w, "{", 1);
            w_key(&w, &pfirst, m->key, m->key_len);
            w_val(&w, m);
        }
    }
    if (!pfirst)
        w_raw(&w, "}", 1);
    /* context */
    bool cfirst = true;
    const char *ctx_taken[8];
    size_t n_taken = 0;
    for (size_t k = 0; k < N_COLS; k++) {
        enum dest d = cols[k].dest;
        if (!(d == D_CTX || d == D_COUNTRY || d == D_DEVICE || d == D_OS) || !present(slot[k]))
            continue;
        if (cfirst)
            w_key(&w, &first, S("context")), w_raw(&w, "{", 1);
        w_key(&w, &cfirst, cols[k].seg, strlen(cols[k].seg));
        ctx_taken[n_taken++] = cols[k].seg;
        if (d == D_CTX) {
            w_val(&w, slot[k]);
        } else {
            w_lit(&w, d == D_COUNTRY  ? "{\"country\":"
                      : d == D_DEVICE ? "{\"type\":"
                                      : "{\"name\":");
            w_val(&w, slot[k]);
            w_raw(&w, "}", 1);
        }
    }
    if (ctx && ctx->type == FF_JSON_OBJECT) {
        for (const ff_json *m = ctx->child; m; m = m->next) {
            bool taken = false;
            for (size_t i = 0; i < n_taken && !taken; i++)
                taken = key_is(m, ctx_taken[i]);
            if (taken)
                continue;
            if (cfirst)
                w_key(&w, &first, S("context")), w_raw(&w, "{", 1);
            w_key(&w, &cfirst, m->key, m->key_len);
            w_val(&w, m);
        }
    }
    if (!cfirst)
        w_raw(&w, "}", 1);
    w_raw(&w, "},", 2);
    if (w.rc)
        return w.rc;
    res->n_events = 1;
    return FF_OK;
#undef SLOT
}

/* ---- segment ---------------------------------------------------------------------------- */

static void seg_message(wr *w, const ff_json *item, const line_key *lk, uint32_t sub)
{
    if (item->type == FF_JSON_OBJECT && !ff_json_get(item, "messageId")) {
        char id[37];
        id_of(*lk, sub, id);
        w_raw(w, "{\"messageId\":", 13);
        w_str(w, id, 36);
        if (item->n_children)
            w_raw(w, ",", 1);
        w_raw(w, item->src + 1, item->src_len - 1);
    } else {
        w_raw(w, item->src, item->src_len); /* the collector rejects what is wrong with it */
    }
    w_raw(w, ",", 1);
}

static ff_rc conv_segment(const ff_json *root, const char *line, size_t len, uint64_t line_no,
                          ff_buf *out, ff_import_line_out *res)
{
    wr w = {out, FF_OK};
    const line_key lk = line_key_of("segment", line, len, line_no);
    const ff_json *batch = ff_json_get(root, "batch");
    if (batch) {
        if (batch->type != FF_JSON_ARRAY)
            return reject(res, "invalid_event", "\"batch\" must be an array");
        uint32_t i = 0;
        for (const ff_json *it = batch->child; it; it = it->next, i++)
            seg_message(&w, it, &lk, i);
        if (w.rc)
            return w.rc;
        res->n_events = i;
        res->skipped = i == 0;
        return FF_OK;
    }
    seg_message(&w, root, &lk, 0);
    if (w.rc)
        return w.rc;
    res->n_events = 1;
    return FF_OK;
}

/* ---- taobao ----------------------------------------------------------------------------- */

static bool digits(const char *s, size_t n)
{
    if (n == 0 || n > 18)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static ff_rc conv_taobao(const char *line, size_t len, uint64_t line_no, ff_buf *out,
                         ff_import_line_out *res)
{
    const char *f[5];
    size_t fl[5];
    size_t start = 0;
    int nf = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == ',') {
            if (nf == 5)
                return reject(res, "invalid_event", "taobao line: more than 5 fields");
            f[nf] = line + start;
            fl[nf++] = i - start;
            start = i + 1;
        }
    }
    if (nf != 5)
        return reject(res, "invalid_event",
                      "taobao line: %d fields, want 5 (user,item,category,behavior,ts)", nf);
    if (!digits(f[0], fl[0]) || !digits(f[1], fl[1]) || !digits(f[2], fl[2]) ||
        !digits(f[4], fl[4]))
        return reject(res, "invalid_event", "taobao line: ids and ts must be digits");
    const ff_collect_alias *al = NULL;
    for (size_t k = 0; k < sizeof taobao_aliases / sizeof taobao_aliases[0]; k++)
        if (taobao_aliases[k].from_len == fl[3] && !memcmp(taobao_aliases[k].from, f[3], fl[3]))
            al = &taobao_aliases[k];
    if (!al) {
        char b[24];
        snprintf(b, sizeof b, "%.*s", (int)(fl[3] > 16 ? 16 : fl[3]), f[3]);
        return reject(res, "invalid_event",
                      "taobao line: unknown behavior \"%s\" (pv|cart|fav|buy)", b);
    }
    int64_t secs = 0;
    for (size_t i = 0; i < fl[4]; i++)
        secs = secs * 10 + (f[4][i] - '0');
    if (secs > 1000000000000LL) /* year 33658 */
        return reject(res, "invalid_event", "taobao line: ts out of range");
    char id[37];
    ff_import_event_id("taobao", line, len, line_no, 0, id);
    wr w = {out, FF_OK};
    w_lit(&w, "{\"type\":\"track\",\"messageId\":\"");
    w_raw(&w, id, 36);
    w_lit(&w, "\",\"event\":\"");
    w_raw(&w, al->from, al->from_len);
    w_lit(&w, "\",\"userId\":\"");
    w_raw(&w, f[0], fl[0]);
    w_lit(&w, "\",\"timestamp\":");
    w_ts(&w, secs * 1000);
    w_lit(&w, ",\"properties\":{\"product_id\":\"");
    w_raw(&w, f[1], fl[1]);
    w_lit(&w, "\",\"category\":\"");
    w_raw(&w, f[2], fl[2]);
    w_lit(&w, "\"}},");
    if (w.rc)
        return w.rc;
    res->n_events = 1;
    return FF_OK;
}

/* ---- apache combined log ---------------------------------------------------------------- */

/* A "quoted" field at *p (backslash escapes kept as text); a missing closing quote at the
 * end of the line is accepted (a cut line). */
static bool quoted(const char **p, const char *e, const char **s, size_t *n)
{
    const char *q = *p;
    if (q >= e || *q != '"')
        return false;
    q++;
    *s = q;
    while (q < e && *q != '"')
        q += (*q == '\\' && q + 1 < e) ? 2 : 1;
    if (q > e)
        q = e;
    *n = (size_t)(q - *s);
    *p = q < e ? q + 1 : e;
    return true;
}

static const char *token(const char **p, const char *e, size_t *n)
{
    const char *s = *p;
    const char *q = s;
    while (q < e && *q != ' ')
        q++;
    *n = (size_t)(q - s);
    *p = q < e ? q + 1 : e;
    return s;
}

static int num2(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool isd(char c)
{
    return c >= '0' && c <= '9';
}

/* dd/Mon/yyyy:HH:MM:SS +zzzz */
static bool clf_time(const char *s, size_t n, int64_t *ms)
{
    static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    if (n != 26 || s[2] != '/' || s[6] != '/' || s[11] != ':' || s[14] != ':' || s[17] != ':' ||
        s[20] != ' ' || (s[21] != '+' && s[21] != '-'))
        return false;
    const int dg[] = {0, 1, 7, 8, 9, 10, 12, 13, 15, 16, 18, 19, 22, 23, 24, 25};
    for (size_t i = 0; i < sizeof dg / sizeof dg[0]; i++)
        if (!isd(s[dg[i]]))
            return false;
    int m = -1;
    for (int k = 0; k < 12; k++)
        if (memcmp(s + 3, mon + 3 * k, 3) == 0)
            m = k + 1;
    int d = num2(s), y = num2(s + 7) * 100 + num2(s + 9);
    int hh = num2(s + 12), mi = num2(s + 15), ss = num2(s + 18);
    int oh = num2(s + 22), om = num2(s + 24);
    if (m < 0 || d < 1 || d > 31 || hh > 23 || mi > 59 || ss > 60 || om > 59 || y < 1970)
        return false;
    int64_t days = ff_clock_days_from_civil(y, (unsigned)m, (unsigned)d);
    int64_t t = ((days * 24 + hh) * 60 + mi) * 60 + ss;
    int64_t off = (oh * 60 + om) * 60;
    t -= s[21] == '+' ? off : -off;
    *ms = t * 1000;
    return true;
}

static ff_rc conv_apache(const char *line, size_t len, uint64_t line_no, ff_buf *out,
                         ff_import_line_out *res)
{
    const char *p = line, *e = line + len;
    size_t ipn, idn, usn;
    const char *ip = token(&p, e, &ipn);
    token(&p, e, &idn);
    token(&p, e, &usn);
    if (ipn == 0 || ipn > 45 || p >= e || *p != '[')
        return reject(res, "invalid_event",
                      "apache line: not in combined log format (IP - - [time] \"request\" ...)");
    for (size_t i = 0; i < ipn; i++)
        if (!(isd(ip[i]) || ip[i] == '.' || ip[i] == ':' || (ip[i] >= 'a' && ip[i] <= 'f') ||
              (ip[i] >= 'A' && ip[i] <= 'F')))
            return reject(res, "invalid_event", "apache line: bad client address");
    const char *ts = p + 1;
    const char *rb = memchr(ts, ']', (size_t)(e - ts));
    int64_t ms;
    if (!rb || !clf_time(ts, (size_t)(rb - ts), &ms))
        return reject(res, "invalid_event", "apache line: bad [dd/Mon/yyyy:HH:MM:SS +zzzz] time");
    p = rb + 1;
    if (p < e && *p == ' ')
        p++;
    const char *rq, *ref = NULL, *ua = NULL;
    size_t rqn, refn = 0, uan = 0, stn = 0, byn = 0;
    if (!quoted(&p, e, &rq, &rqn))
        return reject(res, "invalid_event", "apache line: no \"request\" field");
    if (p < e && *p == ' ')
        p++;
    const char *st = token(&p, e, &stn);
    const char *by = token(&p, e, &byn);
    if (stn != 3 || st[0] < '1' || st[0] > '5' || !isd(st[1]) || !isd(st[2]))
        return reject(res, "invalid_event", "apache line: bad status code");
    if (p < e && quoted(&p, e, &ref, &refn) && p < e && *p == ' ')
        p++;
    if (p < e)
        quoted(&p, e, &ua, &uan);
    /* request: METHOD SP PATH SP PROTOCOL */
    const char *method = rq, *path = NULL;
    size_t mn = 0, pn = 0;
    const char *sp = memchr(rq, ' ', rqn);
    if (sp) {
        mn = (size_t)(sp - rq);
        path = sp + 1;
        const char *sp2 = memchr(path, ' ', (size_t)(rq + rqn - path));
        pn = sp2 ? (size_t)(sp2 - path) : (size_t)(rq + rqn - path);
    }
    /* visitor: truncated IP + user agent (nothing the stored row does not already show) */
    size_t keep = ipn;
    if (memchr(ip, ':', ipn)) {
        int colons = 0;
        for (size_t i = 0; i < ipn; i++)
            if (ip[i] == ':' && ++colons == 3) {
                keep = i;
                break;
            }
    } else {
        const char *dot = NULL;
        for (size_t i = 0; i < ipn; i++)
            if (ip[i] == '.')
                dot = ip + i;
        if (dot)
            keep = (size_t)(dot - ip);
    }
    char vis[64], vbuf[600];
    int vl = snprintf(vbuf, sizeof vbuf, "%.*s|%.*s", (int)keep, ip, (int)(uan > 500 ? 500 : uan),
                      ua ? ua : "");
    snprintf(vis, sizeof vis, "apache-%016llx",
             (unsigned long long)ff_collect_hash64(0x61706163686555ull, vbuf,
                                                   (size_t)(vl < 0 ? 0 : vl)));
    char id[37];
    ff_import_event_id("apache", line, len, line_no, 0, id);
    wr w = {out, FF_OK};
    w_lit(&w, "{\"type\":\"page\",\"messageId\":\"");
    w_raw(&w, id, 36);
    w_lit(&w, "\",\"anonymousId\":\"");
    w_lit(&w, vis);
    w_lit(&w, "\",\"timestamp\":");
    w_ts(&w, ms);
    w_lit(&w, ",\"properties\":{");
    bool pf = true;
    if (path && pn) {
        w_key(&w, &pf, S("url"));
        w_str(&w, path, pn);
    }
    if (ref && refn && !(refn == 1 && ref[0] == '-')) {
        w_key(&w, &pf, S("referrer"));
        w_str(&w, ref, refn);
    }
    w_key(&w, &pf, S("method"));
    w_str(&w, method, mn ? mn : rqn);
    w_key(&w, &pf, S("status"));
    w_raw(&w, st, 3);
    if (byn && digits(by, byn)) {
        w_key(&w, &pf, S("bytes"));
        while (byn > 1 && by[0] == '0') /* JSON numbers have no leading zeros */
            by++, byn--;
        w_raw(&w, by, byn);
    }
    w_lit(&w, "},\"context\":{\"ip\":");
    w_str(&w, ip, ipn);
    if (ua && uan && !(uan == 1 && ua[0] == '-')) {
        w_lit(&w, ",\"userAgent\":");
        w_str(&w, ua, uan);
    }
    w_lit(&w, "}},");
    if (w.rc)
        return w.rc;
    res->n_events = 1;
    return FF_OK;
}

bool ff_import_wrong_input(const ff_import_map *map, const char *first_line, size_t len, char *msg,
                           size_t msg_size)
{
    if (map && !strcmp(map->name, "apache") && len >= 8 && memcmp(first_line, "line_no,", 8) == 0) {
        snprintf(msg, msg_size,
                 "this looks like access_log.csv; the apache map reads the log itself "
                 "(access.log, combined log format)");
        return true;
    }
    return false;
}

/* ---- entry ------------------------------------------------------------------------------ */

ff_rc ff_import_line(ff_import_format fmt, const ff_import_map *map, const char *line, size_t len,
                     uint64_t line_no, ff_arena *arena, ff_buf *out, ff_import_line_out *res)
{
    memset(res, 0, sizeof *res);
    if (len && line[len - 1] == '\r')
        len--;
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    if (i == len) {
        res->skipped = true;
        return FF_OK;
    }
    if (len > FF_IMPORT_MAX_LINE_BYTES)
        return reject(res, "event_too_large", "line longer than 1 MiB");
    size_t mark = out->len;
    ff_rc rc;
    if (fmt == FF_IMPORT_CSV) {
        if (!map)
            return reject(res, "invalid_event", "csv needs --map (%s)", ff_import_map_names());
        if (!strcmp(map->name, "taobao"))
            rc = conv_taobao(line, len, line_no, out, res);
        else
            rc = conv_apache(line, len, line_no, out, res);
    } else {
        ff_json *root = NULL;
        ff_json_error jerr = {0};
        rc = ff_json_parse(line, len, NULL, arena, &root, &jerr);
        if (rc == FF_EBADINPUT) {
            char m[140];
            snprintf(m, sizeof m, "%s at byte %zu", jerr.msg, jerr.offset + 1);
            return reject(res, json_reason(jerr.code), "%s", m);
        }
        if (rc)
            return rc;
        if (root->type != FF_JSON_OBJECT)
            return reject(res, "invalid_event", "a line must hold one JSON object");
        if (fmt == FF_IMPORT_NDJSON)
            rc = conv_ndjson(root, line, len, line_no, out, res);
        else
            rc = conv_segment(root, line, len, line_no, out, res);
    }
    if (rc || res->reason) {
        out->len = mark; /* INVARIANT (1): nothing appended */
        res->n_events = 0;
        if (res->reason)
            res->alias.from_len = 0;
    }
    return rc;
}
