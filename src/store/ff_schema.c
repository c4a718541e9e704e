/* ff_schema.c -- the column table, rows, and the record/CSV -> row converters. */
#include "store/ff_schema.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/ff_buf.h"
#include "core/ff_decimal.h"
#include "core/ff_json.h"

static const ff_col_def cols[FF_COL_COUNT] = {
    [FF_COL_EVENT_ID] = {"event_id", FF_TYPE_STRING, false, "String"},
    [FF_COL_TS] = {"ts", FF_TYPE_TIME_MS, false, "DateTime64(3, 'UTC')"},
    [FF_COL_RECEIVED_AT] = {"received_at", FF_TYPE_TIME_MS, false, "DateTime64(3, 'UTC')"},
    [FF_COL_TYPE] = {"type", FF_TYPE_LOWCARD, false, "LowCardinality(String)"},
    [FF_COL_EVENT] = {"event", FF_TYPE_LOWCARD, false, "LowCardinality(String)"},
    [FF_COL_EVENT_ORIGINAL] = {"event_original", FF_TYPE_STRING, false, "String"},
    [FF_COL_USER_ID] = {"user_id", FF_TYPE_STRING, false, "String"},
    [FF_COL_ANONYMOUS_ID] = {"anonymous_id", FF_TYPE_STRING, false, "String"},
    [FF_COL_SESSION_ID] = {"session_id", FF_TYPE_STRING, false, "String"},
    [FF_COL_URL] = {"url", FF_TYPE_STRING, false, "String"},
    [FF_COL_REFERRER] = {"referrer", FF_TYPE_STRING, false, "String"},
    [FF_COL_PRODUCT_ID] = {"product_id", FF_TYPE_STRING, false, "String"},
    [FF_COL_CATEGORY] = {"category", FF_TYPE_STRING, false, "String"},
    [FF_COL_PRICE] = {"price", FF_TYPE_DECIMAL, true, "Nullable(Decimal(18, 4))"},
    [FF_COL_QUANTITY] = {"quantity", FF_TYPE_INT64, true, "Nullable(Int64)"},
    [FF_COL_ORDER_ID] = {"order_id", FF_TYPE_STRING, false, "String"},
    [FF_COL_REVENUE] = {"revenue", FF_TYPE_DECIMAL, true, "Nullable(Decimal(18, 4))"},
    [FF_COL_CURRENCY] = {"currency", FF_TYPE_LOWCARD, false, "LowCardinality(String)"},
    [FF_COL_SEARCH_TERM] = {"search_term", FF_TYPE_STRING, false, "String"},
    [FF_COL_ELEMENT] = {"element", FF_TYPE_STRING, false, "String"},
    [FF_COL_COUNTRY] = {"country", FF_TYPE_LOWCARD, false, "LowCardinality(String)"},
    [FF_COL_DEVICE] = {"device", FF_TYPE_LOWCARD, false, "LowCardinality(String)"},
    [FF_COL_BROWSER] = {"browser", FF_TYPE_LOWCARD, false, "LowCardinality(String)"},
    [FF_COL_OS] = {"os", FF_TYPE_LOWCARD, false, "LowCardinality(String)"},
    [FF_COL_IP] = {"ip", FF_TYPE_STRING, false, "String"},
    [FF_COL_PROPERTIES] = {"properties", FF_TYPE_STRING, false, "String"},
    [FF_COL_LOG_OFFSET] = {"log_offset", FF_TYPE_UINT64, false, "UInt64"},
};

const ff_col_def *ff_schema_col(ff_col c)
{
    FF_VERIFY((unsigned)c < FF_COL_COUNT);
    return &cols[c];
}

static uint8_t name_len[FF_COL_COUNT];
static pthread_once_t name_len_once = PTHREAD_ONCE_INIT;

static void init_name_len(void)
{
    for (int c = 0; c < FF_COL_COUNT; c++)
        name_len[c] = (uint8_t)strlen(cols[c].name);
}

int ff_schema_find(const char *name, size_t len)
{
    /* Called for every member of every record the store and the stream processor read:
     * compare the first byte and the length (no strlen) before the bytes. */
    pthread_once(&name_len_once, init_name_len);
    if (!len)
        return -1;
    for (int c = 0; c < FF_COL_COUNT; c++)
        if (name_len[c] == len && cols[c].name[0] == name[0] &&
            memcmp(cols[c].name, name, len) == 0)
            return c;
    return -1;
}

/* ---- rows ---------------------------------------------------------------------------- */

void ff_row_clear(ff_row *r)
{
    memset(r, 0, sizeof *r);
    for (int c = 0; c < FF_COL_COUNT; c++) {
        r->str[c].p = "";
        if (cols[c].nullable)
            r->null |= FF_COLSET(c);
    }
}

ff_str ff_row_person(const ff_row *r)
{
    return r->str[FF_COL_USER_ID].len ? r->str[FF_COL_USER_ID] : r->str[FF_COL_ANONYMOUS_ID];
}

int ff_str_cmp(const char *a, size_t a_len, const char *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return a_len < b_len ? -1 : a_len > b_len ? 1 : 0;
}

int ff_row_cmp(const ff_row *a, const ff_row *b)
{
    ff_str pa = ff_row_person(a), pb = ff_row_person(b);
    int c = ff_str_cmp(pa.p, pa.len, pb.p, pb.len);
    if (c)
        return c;
    if (a->num[FF_COL_TS] != b->num[FF_COL_TS])
        return a->num[FF_COL_TS] < b->num[FF_COL_TS] ? -1 : 1;
    uint64_t oa = (uint64_t)a->num[FF_COL_LOG_OFFSET], ob = (uint64_t)b->num[FF_COL_LOG_OFFSET];
    return oa < ob ? -1 : oa > ob;
}

/* ---- decimals ------------------------------------------------------------------------ */

ff_rc ff_decimal_parse(const char *s, size_t len, int64_t *units_out, bool *rounded)
{
    return ff_decimal_parse_scaled(s, len, FF_DECIMAL_DIGITS, FF_DECIMAL_DIGITS, units_out, NULL,
                                   rounded);
}

size_t ff_decimal_format(int64_t units, char *buf)
{
    uint64_t u = units < 0 ? (uint64_t)0 - (uint64_t)units : (uint64_t)units;
    uint64_t ip = u / FF_DECIMAL_SCALE, fp = u % FF_DECIMAL_SCALE;
    size_t o = 0;
    if (units < 0)
        buf[o++] = '-';
    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    while (n)
        buf[o++] = tmp[--n];
    if (fp) {
        buf[o++] = '.';
        for (uint64_t div = FF_DECIMAL_SCALE / 10; div && fp; div /= 10) {
            buf[o++] = (char)('0' + fp / div);
            fp %= div;
        }
    }
    buf[o] = '\0';
    return o;
}

/* ---- record -> row ------------------------------------------------------------------- */

#define PROPS_MAX_BYTES (64u * 1024 * 1024)

/* Appends ,"<$><key>": to the properties object in b (the first one opens it with '{'). The
 * key goes through the JSON writer (escaping); a '$' is slipped in after its opening quote. */
static ff_rc props_key(ff_buf *b, bool dollar, const char *key, size_t key_len)
{
    ff_rc rc = ff_buf_addc(b, b->len ? ',' : '{');
    size_t q = b->len;
    if (rc || (rc = ff_json_write_str(b, key, key_len)) != FF_OK)
        return rc;
    if (dollar) {
        if ((rc = ff_buf_reserve(b, 1)) != FF_OK)
            return rc;
        memmove(b->data + q + 2, b->data + q + 1, b->len - q - 1);
        b->data[q + 1] = '$';
        b->data[++b->len] = '\0';
    }
    return ff_buf_addc(b, ':');
}

/* Whether the source text of a value is exactly what ff_json_write_value writes for it, so it
 * can be copied instead of re-serialised (the common case: log records are written by
 * ff_json's writer). True when the text has no backslash (strings then hold no escapes, so
 * every '"' is a delimiter), no white space outside strings (compact) and no U+2028/U+2029
 * (which the writer escapes). Raw control bytes and bad UTF-8 cannot be in parsed text;
 * numbers are written as their source text; members keep their order and duplicates. */
static bool verbatim_ok(const char *src, size_t len)
{
    const char *p = src, *end = src + len;
    if (!p || memchr(p, '\\', len))
        return false;
    /* U+2028/U+2029 are E2 80 A8/A9; 0xE2 itself is rare, so look only where it is. */
    for (const char *q = memchr(p, 0xE2, len); q; q = memchr(q + 1, 0xE2, (size_t)(end - q - 1)))
        if (end - q >= 3 && (unsigned char)q[1] == 0x80 && ((unsigned char)q[2] & 0xFE) == 0xA8)
            return false;
    /* Outside strings (short: punctuation, numbers, literals) byte by byte; a string is
     * skipped to its closing quote in one memchr, as no quote inside it is escaped. */
    while (p < end) {
        if (*p == '"') {
            const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
            if (!q)
                return false;
            p = q + 1;
        } else if ((unsigned char)*p <= ' ') {
            return false;
        } else {
            p++;
        }
    }
    return true;
}

static ff_rc props_value(ff_buf *b, const ff_json *v)
{
    if (verbatim_ok(v->src, v->src_len))
        return ff_buf_add(b, v->src, v->src_len);
    return ff_json_write_value(b, v);
}

static ff_rc props_member(ff_buf *b, bool dollar, const ff_json *m)
{
    ff_rc rc = props_key(b, dollar, m->key, m->key_len);
    return rc ? rc : props_value(b, m);
}

/* Pass 1 for a properties object whose members all go out unchanged (no key starts with
 * '$') and whose text is verbatim: its text without the closing brace, in one copy. */
static bool props_object_fast(ff_buf *b, const ff_json *obj, ff_rc *rc)
{
    if (b->len || !obj->child || !obj->src || obj->src_len < 2 || obj->src[0] != '{' ||
        obj->src[obj->src_len - 1] != '}')
        return false;
    for (const ff_json *k = obj->child; k; k = k->next)
        if (k->key_len > 0 && k->key[0] == '$')
            return false;
    if (!verbatim_ok(obj->src, obj->src_len))
        return false;
    *rc = ff_buf_add(b, obj->src, obj->src_len - 1);
    return true;
}

static bool is_props_object(const ff_json *m)
{
    return m->key_len == 10 && memcmp(m->key, "properties", 10) == 0 && m->type == FF_JSON_OBJECT;
}

typedef enum fit { FIT_NO, FIT_YES, FIT_YES_KEEP_TEXT } fit;

/* Puts member m into column c of r. */
static fit set_column(ff_row *r, ff_col c, const ff_json *m)
{
    const ff_col_def *d = &cols[c];
    if (ff_type_is_str(d->type)) {
        if (m->type == FF_JSON_NULL) {
            r->str[c].p = "";
            r->str[c].len = 0;
            return FIT_YES;
        }
        if ((m->type != FF_JSON_STRING && m->type != FF_JSON_NUMBER) || m->len > UINT32_MAX)
            return FIT_NO;
        r->str[c].p = m->str;
        r->str[c].len = (uint32_t)m->len;
        return FIT_YES;
    }
    if (m->type == FF_JSON_NULL && d->nullable) {
        r->null |= FF_COLSET(c);
        return FIT_YES;
    }
    int64_t v;
    if (d->type == FF_TYPE_DECIMAL) {
        if (m->type != FF_JSON_NUMBER && m->type != FF_JSON_STRING)
            return FIT_NO;
        bool rounded;
        if (ff_decimal_parse(m->str, m->len, &v, &rounded) != FF_OK)
            return FIT_NO;
        r->num[c] = v;
        r->null &= ~FF_COLSET(c);
        return rounded ? FIT_YES_KEEP_TEXT : FIT_YES;
    }
    if (m->type != FF_JSON_NUMBER || !ff_json_as_i64(m, &v))
        return FIT_NO;
    r->num[c] = v;
    r->null &= ~FF_COLSET(c);
    return FIT_YES;
}

ff_rc ff_row_from_record(const char *rec, size_t len, uint64_t log_offset, ff_arena *arena,
                         ff_row *out, ff_err *err)
{
    ff_row_clear(out);
    ff_json *root = NULL;
    ff_json_error je;
    ff_rc rc = ff_json_parse(rec, len, NULL, arena, &root, &je);
    if (rc != FF_OK)
        return FF_ERR_SET(err, rc, "record at log offset %" PRIu64 ": %s at byte %zu: %s",
                          log_offset, je.code ? je.code : "error", je.offset, je.msg);
    if (root->type != FF_JSON_OBJECT)
        return FF_ERR_SET(err, FF_EBADINPUT, "record at log offset %" PRIu64 ": not an object",
                          log_offset);
    ff_buf b;
    ff_buf_init(&b, PROPS_MAX_BYTES);
    rc = ff_buf_reserve(&b, len < PROPS_MAX_BYTES / 2 ? len / 2 + 64 : 64);
    /* Pass 1: the client's properties, at the top level, escaping keys that start with '$'. */
    for (const ff_json *m = root->child; m && rc == FF_OK; m = m->next)
        if (is_props_object(m) && !props_object_fast(&b, m, &rc))
            for (const ff_json *k = m->child; k && rc == FF_OK; k = k->next)
                rc = props_member(&b, k->key_len > 0 && k->key[0] == '$', k);
    /* Pass 2: columns; whatever has no column or does not fit it becomes "$key". */
    ff_colset seen = 0;
    bool bad_version = false;
    for (const ff_json *m = root->child; m && rc == FF_OK; m = m->next) {
        if (m->key_len == 1 && m->key[0] == 'v') {
            int64_t v;
            bad_version |= m->type != FF_JSON_NUMBER || !ff_json_as_i64(m, &v) || v != 1;
            continue;
        }
        if (is_props_object(m))
            continue;
        int c = ff_schema_find(m->key, m->key_len);
        fit f = FIT_NO;
        if (c >= 0 && c != FF_COL_LOG_OFFSET && c != FF_COL_PROPERTIES && !(seen & FF_COLSET(c)))
            f = set_column(out, (ff_col)c, m);
        if (f != FIT_NO)
            seen |= FF_COLSET(c);
        if (f != FIT_YES)
            rc = props_member(&b, true, m);
    }
    if (rc == FF_OK && b.len) {
        if ((rc = ff_buf_addc(&b, '}')) == FF_OK && b.len > UINT32_MAX)
            rc = FF_ELIMIT;
        char *p = rc == FF_OK ? ff_arena_strndup(arena, b.data, b.len) : NULL;
        if (rc == FF_OK && !p)
            rc = arena->over_cap ? FF_ELIMIT : FF_ENOMEM;
        if (p)
            out->str[FF_COL_PROPERTIES] = (ff_str){p, (uint32_t)b.len};
    }
    ff_buf_fini(&b);
    if (bad_version)
        return FF_ERR_SET(err, FF_EBADINPUT,
                          "record at log offset %" PRIu64 ": unsupported version", log_offset);
    if (rc != FF_OK)
        return FF_ERR_SET(err, rc, "record at log offset %" PRIu64 ": out of memory (%s)",
                          log_offset, ff_rc_name(rc));
    if (!(seen & FF_COLSET(FF_COL_TS)))
        return FF_ERR_SET(err, FF_EBADINPUT,
                          "record at log offset %" PRIu64 ": no integer \"ts\" member", log_offset);
    out->num[FF_COL_LOG_OFFSET] = (int64_t)log_offset;
    return FF_OK;
}

/* ---- Taobao CSV -> row --------------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
    if (n == 0 || n > 18)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

ff_rc ff_row_from_taobao(const char *line, size_t len, uint64_t log_offset, ff_arena *arena,
                         ff_row *out, ff_err *err)
{
    static const struct {
        const char *code, *event;
    } map[] = {{"pv", "product_viewed"},
               {"cart", "product_added"},
               {"fav", "product_added_to_wishlist"},
               {"buy", "order_completed"}};
    ff_row_clear(out);
    while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    const char *f[5];
    size_t fl[5];
    size_t start = 0;
    int nf = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || line[i] == ',') {
            if (nf == 5)
                return FF_ERR_SET(err, FF_EBADINPUT, "taobao line: more than 5 fields");
            f[nf] = line + start;
            fl[nf++] = i - start;
            start = i + 1;
        }
    }
    if (nf != 5)
        return FF_ERR_SET(err, FF_EBADINPUT, "taobao line: %d fields, want 5", nf);
    if (!all_digits(f[0], fl[0]) || !all_digits(f[1], fl[1]) || !all_digits(f[2], fl[2]) ||
        !all_digits(f[4], fl[4]))
        return FF_ERR_SET(err, FF_EBADINPUT, "taobao line: ids and ts must be digits");
    const char *event = NULL;
    const char *code = NULL;
    for (size_t k = 0; k < sizeof map / sizeof map[0]; k++)
        if (strlen(map[k].code) == fl[3] && memcmp(map[k].code, f[3], fl[3]) == 0) {
            event = map[k].event;
            code = map[k].code;
        }
    if (!event)
        return FF_ERR_SET(err, FF_EBADINPUT, "taobao line: unknown behavior \"%.*s\"",
                          (int)(fl[3] > 16 ? 16 : fl[3]), f[3]);
    int64_t secs = 0;
    for (size_t i = 0; i < fl[4]; i++)
        secs = secs * 10 + (f[4][i] - '0');
    if (secs > INT64_MAX / 1000)
        return FF_ERR_SET(err, FF_EBADINPUT, "taobao line: ts out of range");
    int64_t ts = secs * 1000;

    char *ids = ff_arena_alloc(arena, fl[0] + fl[1] + fl[2] + 37);
    if (!ids)
        return FF_ERR_SET(err, arena->over_cap ? FF_ELIMIT : FF_ENOMEM, "taobao line: no memory");
    char *p = ids;
    for (int k = 0; k < 3; k++) {
        memcpy(p, f[k], fl[k]);
        static const ff_col dst[3] = {FF_COL_USER_ID, FF_COL_PRODUCT_ID, FF_COL_CATEGORY};
        out->str[dst[k]] = (ff_str){p, (uint32_t)fl[k]};
        p += fl[k];
    }
    /* UUIDv7: 48-bit ms time, version 7, 12 + 62 hash bits, RFC 9562 variant. */
    XXH128_hash_t h = XXH3_128bits_withSeed(line, len, log_offset);
    uint64_t ms = (uint64_t)ts & 0xFFFFFFFFFFFFull;
    unsigned char u[16];
    for (int k = 0; k < 6; k++)
        u[k] = (unsigned char)(ms >> (40 - 8 * k));
    u[6] = (unsigned char)(0x70 | ((h.high64 >> 8) & 0x0F));
    u[7] = (unsigned char)h.high64;
    u[8] = (unsigned char)(0x80 | ((h.low64 >> 56) & 0x3F));
    for (int k = 9; k < 16; k++)
        u[k] = (unsigned char)(h.low64 >> (8 * (15 - k)));
    static const char hex[] = "0123456789abcdef";
    char *q = p;
    for (int k = 0; k < 16; k++) {
        if (k == 4 || k == 6 || k == 8 || k == 10)
            *q++ = '-';
        *q++ = hex[u[k] >> 4];
        *q++ = hex[u[k] & 15];
    }
    out->str[FF_COL_EVENT_ID] = (ff_str){p, 36};
    out->str[FF_COL_TYPE] = (ff_str){"track", 5};
    out->str[FF_COL_EVENT] = (ff_str){event, (uint32_t)strlen(event)};
    out->str[FF_COL_EVENT_ORIGINAL] = (ff_str){code, (uint32_t)strlen(code)};
    out->num[FF_COL_TS] = ts;
    out->num[FF_COL_RECEIVED_AT] = ts;
    out->num[FF_COL_LOG_OFFSET] = (int64_t)log_offset;
    return FF_OK;
}
