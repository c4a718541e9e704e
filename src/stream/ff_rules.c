/* ff_rules.c -- risk rules over sliding event-time windows. See ff_rules.h. */
#include "stream/ff_rules.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ff_arena.h"
#include "core/ff_clock.h"
#include "core/ff_json.h"
#include "core/ff_mem.h"

#define MAX_BY 3
#define MAX_FILTERS 4
#define MAX_NAME 64
#define MAX_KEY 512 /* bytes of a joined key */
#define N_SAMPLES 3
#define SAMPLE_LEN 48
#define DEF_MAX_KEYS 100000
#define ENTRIES_PER_KEY_BUDGET 16 /* average entries per key the global budget allows */
#define SWEEP_EVERY_MS 10000
#define MAX_WINDOW_MS (7LL * 86400 * 1000)

static const char *const k_defaults[] = {
    "payment_failures_per_user: event=payment_failed by=user_id count>=5 window=10m "
    "severity=critical",
    "payment_failures_per_card: event=payment_failed by=properties.card_fingerprint count>=5 "
    "window=10m severity=critical",
    "cart_hoarding: event=product_added by=person,product_id sum(quantity)>=20 window=1h",
    "inhuman_speed_user: type=page|screen by=person count>20 window=10s",
    "flood_per_network: by=ip count>5000 window=10s",
    "many_users_per_device: by=anonymous_id distinct(user_id)>=5 window=1h",
    NULL,
};

const char *const *ff_rules_defaults(void)
{
    return k_defaults;
}

typedef enum agg_kind { AGG_COUNT = 1, AGG_SUM, AGG_MAX, AGG_DISTINCT } agg_kind;

/* A field of a row: a column, the person (user_id else anonymous_id), or properties.NAME. */
#define FIELD_PERSON (-2)
#define FIELD_PROP (-1)
typedef struct field {
    int col; /* ff_col, FIELD_PERSON or FIELD_PROP */
    char prop[MAX_NAME + 1];
    char text[MAX_NAME + 16]; /* as written */
} field;

typedef struct filter {
    field f;
    char *values; /* '|'-separated */
} filter;

typedef struct rule {
    char name[MAX_NAME + 1];
    char *spec; /* normalised text after the colon */
    bool off;
    agg_kind agg;
    field agg_field;
    double threshold;
    bool strict; /* '>' rather than '>=' */
    int64_t window_ms;
    char severity[16];
    filter filters[MAX_FILTERS + 1];
    int n_filters;
    field by[MAX_BY];
    int n_by;
    uint32_t entry_cap;
    uint64_t spec_hash;
} rule;

typedef struct entry {
    int64_t ts;
    double v;
    uint64_t h;
} entry;

typedef struct kstate kstate;
struct kstate {
    kstate *hnext;
    kstate *lprev, *lnext; /* LRU: head = most recently touched */
    kstate *fprev, *fnext; /* firing list */
    uint64_t hash;
    uint32_t rule_idx;
    uint32_t klen;
    char *key;
    entry *e; /* e[off .. off+n) sorted by ts; off moves on instead of shifting the array */
    uint32_t off, n, cap;
    bool firing;
    bool recheck; /* firing, and an event's pruning may have ended the condition */
    int64_t last_ts;
    int64_t fired_at;
    char samples[N_SAMPLES][SAMPLE_LEN];
    uint8_t n_samples, next_sample;
};

struct ff_rules {
    rule *rules;
    size_t n_rules;
    kstate **tab;
    size_t tab_mask;
    size_t n_keys, max_keys;
    size_t n_entries, max_entries;
    kstate *lru_head, *lru_tail;
    kstate *firing;
    int64_t watermark, last_sweep;
};

/* ---- parsing ------------------------------------------------------------------------------ */

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}
#define FNV0 0xcbf29ce484222325ull

static bool name_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

static ff_rc parse_field(const char *s, size_t n, field *out, const char *what, ff_err *err)
{
    memset(out, 0, sizeof *out);
    if (n == 0 || n > MAX_NAME + 11)
        return FF_ERR_SET(err, FF_EBADINPUT, "rule: %s needs a field name", what);
    snprintf(out->text, sizeof out->text, "%.*s", (int)n, s);
    if (n == 6 && !memcmp(s, "person", 6)) {
        out->col = FIELD_PERSON;
        return FF_OK;
    }
    if (n > 11 && !memcmp(s, "properties.", 11)) {
        size_t pl = n - 11;
        if (pl > MAX_NAME)
            return FF_ERR_SET(err, FF_EBADINPUT, "rule: property name too long in %s", what);
        for (size_t i = 0; i < pl; i++)
            if (!name_char(s[11 + i]))
                return FF_ERR_SET(err, FF_EBADINPUT, "rule: bad property name '%.*s' in %s",
                                  (int)pl, s + 11, what);
        memcpy(out->prop, s + 11, pl);
        out->prop[pl] = 0;
        out->col = FIELD_PROP;
        return FF_OK;
    }
    int c = ff_schema_find(s, n);
    if (c < 0 || c == FF_COL_PROPERTIES)
        return FF_ERR_SET(err, FF_EBADINPUT,
                          "rule: unknown field '%.*s' in %s (a column such as user_id, ip, "
                          "anonymous_id, product_id, quantity; person; or properties.NAME)",
                          (int)n, s, what);
    out->col = c;
    return FF_OK;
}

static bool field_numeric(const field *f)
{
    if (f->col == FIELD_PROP)
        return true;
    if (f->col < 0)
        return false;
    return !ff_type_is_str(ff_schema_col((ff_col)f->col)->type);
}

static ff_rc parse_duration(const char *s, size_t n, int64_t *ms, ff_err *err)
{
    size_t i = 0;
    uint64_t v = 0;
    while (i < n && isdigit((unsigned char)s[i]) && v < 1000000000ull)
        v = v * 10 + (uint64_t)(s[i++] - '0');
    if (i == 0 || i == n)
        goto bad;
    const char *u = s + i;
    size_t ul = n - i;
    int64_t mul;
    if (ul == 2 && !memcmp(u, "ms", 2))
        mul = 1;
    else if (ul == 1 && *u == 's')
        mul = 1000;
    else if (ul == 1 && *u == 'm')
        mul = 60000;
    else if (ul == 1 && *u == 'h')
        mul = 3600000;
    else if (ul == 1 && *u == 'd')
        mul = 86400000;
    else
        goto bad;
    if (v == 0 || (double)v * (double)mul > (double)MAX_WINDOW_MS)
        return FF_ERR_SET(err, FF_EBADINPUT, "rule: window must be between 1ms and 7d, got '%.*s'",
                          (int)n, s);
    *ms = (int64_t)v * mul;
    return FF_OK;
bad:
    return FF_ERR_SET(err, FF_EBADINPUT,
                      "rule: bad window '%.*s' (a whole number and ms, s, m, h or d: 10m)", (int)n,
                      s);
}

static ff_rc parse_aggregate(rule *r, const char *s, size_t n, ff_err *err)
{
    const char *op = NULL;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '>') {
            op = s + i;
            break;
        }
    if (!op)
        return FF_ERR_SET(err, FF_EBADINPUT, "rule: bad term '%.*s'", (int)n, s);
    size_t hl = (size_t)(op - s);
    r->strict = !(op + 1 < s + n && op[1] == '=');
    const char *num = op + (r->strict ? 1 : 2);
    size_t nl = (size_t)(s + n - num);
    if (hl == 5 && !memcmp(s, "count", 5)) {
        r->agg = AGG_COUNT;
    } else {
        static const struct {
            const char *name;
            agg_kind k;
        } fns[] = {{"sum(", AGG_SUM}, {"max(", AGG_MAX}, {"distinct(", AGG_DISTINCT}};
        for (size_t k = 0; k < 3; k++) {
            size_t fl = strlen(fns[k].name);
            if (hl > fl + 1 && !memcmp(s, fns[k].name, fl) && s[hl - 1] == ')') {
                r->agg = fns[k].k;
                ff_rc rc = parse_field(s + fl, hl - fl - 1, &r->agg_field, "the aggregate", err);
                if (rc)
                    return rc;
                if (r->agg != AGG_DISTINCT && !field_numeric(&r->agg_field))
                    return FF_ERR_SET(err, FF_EBADINPUT,
                                      "rule: %s needs a numeric field (quantity, price, revenue "
                                      "or properties.NAME), got '%s'",
                                      fns[k].name, r->agg_field.text);
                break;
            }
        }
        if (!r->agg)
            return FF_ERR_SET(err, FF_EBADINPUT,
                              "rule: unknown aggregate '%.*s' (count, sum(F), max(F), "
                              "distinct(F))",
                              (int)hl, s);
    }
    char buf[64];
    if (nl == 0 || nl >= sizeof buf)
        return FF_ERR_SET(err, FF_EBADINPUT, "rule: '%.*s' needs a number after the comparison",
                          (int)n, s);
    memcpy(buf, num, nl);
    buf[nl] = 0;
    for (size_t i = 0; i < nl; i++)
        if (!isdigit((unsigned char)buf[i]) && buf[i] != '.')
            return FF_ERR_SET(err, FF_EBADINPUT, "rule: bad number '%s'", buf);
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (errno || *end || !isfinite(v) || v > 1e15)
        return FF_ERR_SET(err, FF_EBADINPUT, "rule: bad number '%s'", buf);
    r->threshold = v;
    if (r->agg == AGG_COUNT || r->agg == AGG_DISTINCT) {
        double need = r->strict ? floor(v) + 1 : ceil(v);
        if (v != floor(v) || need < 1 || need > FF_RULES_MAX_ENTRIES)
            return FF_ERR_SET(err, FF_EBADINPUT,
                              "rule: count/distinct threshold must be a whole number that needs "
                              "1 to %d events, got '%s'",
                              FF_RULES_MAX_ENTRIES, buf);
        uint32_t cap = (uint32_t)need * 4 + 16;
        r->entry_cap = cap > FF_RULES_MAX_ENTRIES ? FF_RULES_MAX_ENTRIES : cap;
        if (r->entry_cap < (uint32_t)need)
            r->entry_cap = (uint32_t)need;
    } else {
        r->entry_cap = 256;
    }
    return FF_OK;
}

/* Parse "NAME: SPEC" into r (r->spec allocated). */
static ff_rc parse_rule(const char *line, size_t len, rule *r, ff_err *err)
{
    memset(r, 0, sizeof *r);
    if (len > FF_RULES_MAX_TEXT)
        return FF_ERR_SET(err, FF_EBADINPUT, "rule: longer than %d bytes", FF_RULES_MAX_TEXT);
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || (unsigned char)line[i] >= 0x7f)
            return FF_ERR_SET(err, FF_EBADINPUT, "rule: only printable ASCII on one line");
    size_t i = 0;
    while (i < len && isspace((unsigned char)line[i]))
        i++;
    size_t ns = i;
    while (i < len && name_char(line[i]))
        i++;
    size_t nl = i - ns;
    if (nl == 0 || nl > MAX_NAME)
        return FF_ERR_SET(err, FF_EBADINPUT,
                          "rule: needs a name of 1-%d letters, digits, _-. "
                          "then ':' (NAME: SPEC)",
                          MAX_NAME);
    memcpy(r->name, line + ns, nl);
    r->name[nl] = 0;
    while (i < len && isspace((unsigned char)line[i]))
        i++;
    if (i >= len || line[i] != ':')
        return FF_ERR_SET(err, FF_EBADINPUT, "rule %s: expected ':' after the name", r->name);
    i++;
    snprintf(r->severity, sizeof r->severity, "warning");
    bool have_window = false, have_by = false, have_sev = false;
    ff_buf norm;
    ff_buf_init(&norm, FF_RULES_MAX_TEXT + 1);
    ff_rc rc = FF_OK;
    int n_terms = 0;
    while (rc == FF_OK) {
        while (i < len && isspace((unsigned char)line[i]))
            i++;
        if (i >= len)
            break;
        size_t ts = i;
        while (i < len && !isspace((unsigned char)line[i]))
            i++;
        const char *t = line + ts;
        size_t tl = i - ts;
        n_terms++;
        if (norm.len)
            ff_buf_addc(&norm, ' ');
        ff_buf_add(&norm, t, tl);
        const char *eq = memchr(t, '=', tl);
        const char *gt = memchr(t, '>', tl);
        if (tl == 3 && !memcmp(t, "off", 3)) {
            r->off = true;
        } else if (gt && (!eq || gt < eq)) {
            if (r->agg)
                rc = FF_ERR_SET(err, FF_EBADINPUT, "rule %s: more than one aggregate", r->name);
            else
                rc = parse_aggregate(r, t, tl, err);
        } else if (eq) {
            size_t kl = (size_t)(eq - t);
            const char *v = eq + 1;
            size_t vl = tl - kl - 1;
            if (vl == 0) {
                rc = FF_ERR_SET(err, FF_EBADINPUT, "rule %s: '%.*s' has no value", r->name, (int)tl,
                                t);
            } else if (kl == 6 && !memcmp(t, "window", 6)) {
                if (have_window)
                    rc = FF_ERR_SET(err, FF_EBADINPUT, "rule %s: window twice", r->name);
                have_window = true;
                if (!rc)
                    rc = parse_duration(v, vl, &r->window_ms, err);
            } else if (kl == 8 && !memcmp(t, "severity", 8)) {
                if (have_sev)
                    rc = FF_ERR_SET(err, FF_EBADINPUT, "rule %s: severity twice", r->name);
                have_sev = true;
                if (!rc && !(vl == 7 && !memcmp(v, "warning", 7)) &&
                    !(vl == 8 && !memcmp(v, "critical", 8)))
                    rc = FF_ERR_SET(err, FF_EBADINPUT,
                                    "rule %s: severity must be warning or critical", r->name);
                if (!rc)
                    snprintf(r->severity, sizeof r->severity, "%.*s", (int)vl, v);
            } else if (kl == 2 && !memcmp(t, "by", 2)) {
                if (have_by)
                    rc = FF_ERR_SET(err, FF_EBADINPUT, "rule %s: by twice", r->name);
                have_by = true;
                size_t p = 0;
                while (!rc && p <= vl) {
                    size_t q = p;
                    while (q < vl && v[q] != ',')
                        q++;
                    if (r->n_by == MAX_BY)
                        rc = FF_ERR_SET(err, FF_EBADINPUT, "rule %s: at most %d by fields", r->name,
                                        MAX_BY);
                    else
                        rc = parse_field(v + p, q - p, &r->by[r->n_by++], "by", err);
                    p = q + 1;
                }
            } else {
                if (r->n_filters == MAX_FILTERS) {
                    rc = FF_ERR_SET(err, FF_EBADINPUT, "rule %s: at most %d filters", r->name,
                                    MAX_FILTERS);
                    break;
                }
                filter *f = &r->filters[r->n_filters];
                rc = parse_field(t, kl, &f->f, "a filter", err);
                if (!rc && field_numeric(&f->f) && f->f.col != FIELD_PROP)
                    rc = FF_ERR_SET(err, FF_EBADINPUT,
                                    "rule %s: filters compare text fields, '%s' is a number "
                                    "(use max(%s)>=N)",
                                    r->name, f->f.text, f->f.text);
                for (size_t k = 0; !rc && k < vl; k++)
                    if (v[k] == '|' && (k == 0 || k + 1 == vl || v[k + 1] == '|'))
                        rc = FF_ERR_SET(err, FF_EBADINPUT, "rule %s: empty value in '%.*s'",
                                        r->name, (int)tl, t);
                if (!rc) {
                    f->values = ff_strndup(v, vl);
                    if (!f->values)
                        rc = FF_ERR_SET(err, FF_ENOMEM, "rule: out of memory");
                    else
                        r->n_filters++;
                }
            }
        } else {
            rc = FF_ERR_SET(err, FF_EBADINPUT,
                            "rule %s: bad term '%.*s' (expected event=, by=, window=, "
                            "severity=, COLUMN=, count>=N, sum(F)>=N, max(F)>=N, "
                            "distinct(F)>=N or off)",
                            r->name, (int)tl, t);
        }
    }
    if (rc == FF_OK && r->off && n_terms != 1)
        rc = FF_ERR_SET(err, FF_EBADINPUT, "rule %s: 'off' must be alone", r->name);
    if (rc == FF_OK && !r->off) {
        if (!r->agg)
            rc = FF_ERR_SET(err, FF_EBADINPUT,
                            "rule %s: needs a condition (count>=N, sum(F)>=N, max(F)>=N or "
                            "distinct(F)>=N)",
                            r->name);
        else if (!have_by)
            rc = FF_ERR_SET(err, FF_EBADINPUT, "rule %s: needs by=FIELD", r->name);
        else if (!have_window)
            rc = FF_ERR_SET(err, FF_EBADINPUT, "rule %s: needs window=DURATION", r->name);
        else if (r->threshold <= 0)
            rc = FF_ERR_SET(err, FF_EBADINPUT, "rule %s: the threshold must be above 0", r->name);
    }
    if (rc == FF_OK) {
        r->spec = ff_buf_detach(&norm);
        if (!r->spec)
            r->spec = ff_strdup("");
        if (!r->spec)
            rc = FF_ERR_SET(err, FF_ENOMEM, "rule: out of memory");
        else
            r->spec_hash = fnv(r->spec, strlen(r->spec), fnv(r->name, strlen(r->name), FNV0));
    }
    ff_buf_fini(&norm);
    if (rc != FF_OK) {
        for (int k = 0; k < r->n_filters; k++)
            ff_free(r->filters[k].values);
        ff_free(r->spec);
        memset(r, 0, sizeof *r);
    }
    return rc;
}

static void rule_fini(rule *r)
{
    for (int k = 0; k < r->n_filters; k++)
        ff_free(r->filters[k].values);
    ff_free(r->spec);
}

ff_rc ff_rules_check(const char *line, size_t len, ff_err *err)
{
    rule r;
    ff_rc rc = parse_rule(line, len, &r, err);
    if (rc == FF_OK)
        rule_fini(&r);
    return rc;
}

/* ---- evaluation --------------------------------------------------------------------------- */

/* Text of a top-level string or number member NAME of the properties JSON (stored in a). */
static ff_str prop_value(const ff_row *row, const char *name, ff_arena *a)
{
    ff_str none = {"", 0};
    ff_str p = row->str[FF_COL_PROPERTIES];
    if (!p.len || !memmem(p.p, p.len, name, strlen(name)))
        return none;
    ff_json *root = NULL;
    if (ff_json_parse(p.p, p.len, NULL, a, &root, NULL) != FF_OK || root->type != FF_JSON_OBJECT)
        return none;
    ff_json *v = ff_json_get(root, name);
    if (!v || (v->type != FF_JSON_STRING && v->type != FF_JSON_NUMBER) || v->len > MAX_KEY)
        return none;
    return (ff_str){v->str, (uint32_t)v->len};
}

static ff_str field_str(const ff_row *row, const field *f, ff_arena *a, char *nb, size_t nbn)
{
    if (f->col == FIELD_PERSON)
        return ff_row_person(row);
    if (f->col == FIELD_PROP)
        return prop_value(row, f->prop, a);
    const ff_col_def *d = ff_schema_col((ff_col)f->col);
    if (ff_type_is_str(d->type))
        return row->str[f->col];
    if (d->nullable && (row->null & FF_COLSET(f->col)))
        return (ff_str){"", 0};
    int n = snprintf(nb, nbn, "%" PRId64, row->num[f->col]);
    return (ff_str){nb, (uint32_t)(n > 0 ? n : 0)};
}

static bool field_num(const ff_row *row, const field *f, ff_arena *a, double *out)
{
    if (f->col == FIELD_PROP) {
        ff_str s = prop_value(row, f->prop, a);
        if (!s.len || s.len > 40)
            return false;
        char b[48];
        memcpy(b, s.p, s.len);
        b[s.len] = 0;
        char *end;
        double v = strtod(b, &end);
        if (*end || !isfinite(v))
            return false;
        *out = v;
        return true;
    }
    if (f->col < 0)
        return false;
    const ff_col_def *d = ff_schema_col((ff_col)f->col);
    if (ff_type_is_str(d->type) || (d->nullable && (row->null & FF_COLSET(f->col))))
        return false;
    *out = d->type == FF_TYPE_DECIMAL ? (double)row->num[f->col] / FF_DECIMAL_SCALE
                                      : (double)row->num[f->col];
    return true;
}

static bool value_in(ff_str s, const char *list)
{
    const char *p = list;
    for (;;) {
        const char *e = strchr(p, '|');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == s.len && !memcmp(p, s.p, l))
            return true;
        if (!e)
            return false;
        p = e + 1;
    }
}

static void lru_unlink(ff_rules *R, kstate *k)
{
    if (k->lprev)
        k->lprev->lnext = k->lnext;
    else
        R->lru_head = k->lnext;
    if (k->lnext)
        k->lnext->lprev = k->lprev;
    else
        R->lru_tail = k->lprev;
    k->lprev = k->lnext = NULL;
}

static void lru_push_head(ff_rules *R, kstate *k)
{
    k->lprev = NULL;
    k->lnext = R->lru_head;
    if (R->lru_head)
        R->lru_head->lprev = k;
    R->lru_head = k;
    if (!R->lru_tail)
        R->lru_tail = k;
}

static void firing_link(ff_rules *R, kstate *k)
{
    k->fprev = NULL;
    k->fnext = R->firing;
    if (R->firing)
        R->firing->fprev = k;
    R->firing = k;
}

static void firing_unlink(ff_rules *R, kstate *k)
{
    if (k->fprev)
        k->fprev->fnext = k->fnext;
    else if (R->firing == k)
        R->firing = k->fnext;
    if (k->fnext)
        k->fnext->fprev = k->fprev;
    k->fprev = k->fnext = NULL;
}

static double aggregate(const rule *r, const kstate *k)
{
    if (r->agg == AGG_COUNT || r->agg == AGG_DISTINCT)
        return (double)k->n;
    double a = 0;
    const entry *e = k->e + k->off;
    for (uint32_t i = 0; i < k->n; i++) {
        if (r->agg == AGG_SUM)
            a += e[i].v;
        else if (i == 0 || e[i].v > a)
            a = e[i].v;
    }
    return a;
}

static bool meets(const rule *r, double v)
{
    return r->strict ? v > r->threshold : v >= r->threshold;
}

/* Drop entries at or before now - window. */
static void prune(ff_rules *R, const rule *r, kstate *k, int64_t now)
{
    int64_t lim = now - r->window_ms;
    uint32_t d = 0;
    while (d < k->n && k->e[k->off + d].ts <= lim)
        d++;
    if (d) {
        k->off += d; /* amortised: the live part is moved down only when the array is full */
        k->n -= d;
        R->n_entries -= d;
    }
}

static const char *agg_name(agg_kind a)
{
    return a == AGG_COUNT ? "count" : a == AGG_SUM ? "sum" : a == AGG_MAX ? "max" : "distinct";
}

static void fmt_window(int64_t ms, char *b, size_t n)
{
    if (ms % 86400000 == 0)
        snprintf(b, n, "%" PRId64 "d", ms / 86400000);
    else if (ms % 3600000 == 0)
        snprintf(b, n, "%" PRId64 "h", ms / 3600000);
    else if (ms % 60000 == 0)
        snprintf(b, n, "%" PRId64 "m", ms / 60000);
    else if (ms % 1000 == 0)
        snprintf(b, n, "%" PRId64 "s", ms / 1000);
    else
        snprintf(b, n, "%" PRId64 "ms", ms);
}

static void by_text(const rule *r, char *b, size_t n)
{
    b[0] = 0;
    for (int i = 0; i < r->n_by; i++) {
        size_t l = strlen(b);
        snprintf(b + l, n - l, "%s%s", i ? "," : "", r->by[i].text);
    }
}

static void emit(const ff_rules *R, const rule *r, const kstate *k, ff_alert_state st, int64_t at,
                 double value, const char *why, ff_alert_sink_fn sink, void *ctx)
{
    if (!sink)
        return;
    char key[MAX_KEY + 1];
    snprintf(key, sizeof key, "%.*s", (int)k->klen, k->key);
    char win[32], by[256], summary[1024];
    fmt_window(r->window_ms, win, sizeof win);
    by_text(r, by, sizeof by);
    char aggd[96];
    if (r->agg == AGG_COUNT)
        snprintf(aggd, sizeof aggd, "count");
    else
        snprintf(aggd, sizeof aggd, "%s(%s)", agg_name(r->agg), r->agg_field.text);
    if (st == FF_ALERT_FIRING)
        snprintf(summary, sizeof summary, "%s = %g for %s=%s within %s (limit %s%g)", aggd, value,
                 by, key, win, r->strict ? ">" : ">=", r->threshold);
    else
        snprintf(summary, sizeof summary, "%s for %s=%s back to %g within %s (%s)", aggd, by, key,
                 value, win, why ? why : "condition ended");
    ff_buf ev;
    ff_buf_init(&ev, 16384);
    ff_buf_adds(&ev, "{\"rule\":");
    ff_json_write_str(&ev, r->name, strlen(r->name));
    ff_buf_adds(&ev, ",\"spec\":");
    ff_json_write_str(&ev, r->spec, strlen(r->spec));
    ff_buf_adds(&ev, ",\"by\":");
    ff_json_write_str(&ev, by, strlen(by));
    ff_buf_adds(&ev, ",\"key\":");
    ff_json_write_str(&ev, key, strlen(key));
    ff_buf_printf(&ev,
                  ",\"aggregate\":\"%s\",\"window_ms\":%" PRId64 ",\"value\":%.10g,"
                  "\"threshold\":%.10g,\"entries\":%u",
                  agg_name(r->agg), r->window_ms, value, r->threshold, k->n);
    if (k->n) {
        char t[40];
        ff_clock_format_rfc3339(k->e[k->off].ts, t);
        ff_buf_printf(&ev, ",\"first_ts\":\"%s\"", t);
        ff_clock_format_rfc3339(k->e[k->off + k->n - 1].ts, t);
        ff_buf_printf(&ev, ",\"last_ts\":\"%s\"", t);
    }
    ff_buf_adds(&ev, ",\"sample_event_ids\":[");
    for (uint8_t i = 0; i < k->n_samples; i++) {
        const char *s = k->samples[(k->next_sample + N_SAMPLES - k->n_samples + i) % N_SAMPLES];
        if (i)
            ff_buf_addc(&ev, ',');
        ff_json_write_str(&ev, s, strlen(s));
    }
    ff_buf_adds(&ev, "]}");
    ff_alert_fire f = {
        .rule = r->name,
        .key = key,
        .state = st,
        .at_ms = at,
        .value = value,
        .threshold = r->threshold,
        .severity = r->severity,
        .summary = summary,
        .evidence_json = ev.data ? ev.data : "{}",
    };
    (void)R;
    sink(ctx, &f);
    ff_buf_fini(&ev);
}

static void key_free(ff_rules *R, kstate *k)
{
    /* unlink from the hash chain */
    kstate **pp = &R->tab[k->hash & R->tab_mask];
    while (*pp && *pp != k)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = k->hnext;
    lru_unlink(R, k);
    if (k->firing)
        firing_unlink(R, k);
    R->n_entries -= k->n;
    R->n_keys--;
    ff_free(k->e);
    ff_free(k->key);
    ff_free(k);
}

/* Evict the least recently used key (a firing one is resolved first). */
static void evict_one(ff_rules *R, ff_alert_sink_fn sink, void *ctx)
{
    kstate *k = R->lru_tail;
    if (!k)
        return;
    if (k->firing)
        emit(R, &R->rules[k->rule_idx], k, FF_ALERT_RESOLVED,
             R->watermark > k->last_ts ? R->watermark : k->last_ts,
             aggregate(&R->rules[k->rule_idx], k), "evicted: too many keys", sink, ctx);
    key_free(R, k);
}

static kstate *key_get(ff_rules *R, uint32_t ri, const char *key, size_t klen,
                       ff_alert_sink_fn sink, void *ctx)
{
    uint64_t h = fnv(key, klen, fnv(&ri, sizeof ri, FNV0));
    for (kstate *k = R->tab[h & R->tab_mask]; k; k = k->hnext)
        if (k->hash == h && k->rule_idx == ri && k->klen == klen && !memcmp(k->key, key, klen))
            return k;
    while (R->n_keys >= R->max_keys)
        evict_one(R, sink, ctx);
    kstate *k = ff_calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->key = ff_strndup(key, klen);
    if (!k->key) {
        ff_free(k);
        return NULL;
    }
    k->klen = (uint32_t)klen;
    k->hash = h;
    k->rule_idx = ri;
    k->hnext = R->tab[h & R->tab_mask];
    R->tab[h & R->tab_mask] = k;
    lru_push_head(R, k);
    R->n_keys++;
    return k;
}

static bool add_entry(ff_rules *R, const rule *r, kstate *k, int64_t ts, double v, uint64_t h)
{
    entry *e = k->e ? k->e + k->off : NULL; /* NULL + 0 is undefined: no entries yet */
    if (r->agg == AGG_DISTINCT) {           /* a value seen again moves to its newest time */
        for (uint32_t i = 0; i < k->n; i++)
            if (e[i].h == h) {
                if (e[i].ts >= ts)
                    return true;
                memmove(e + i, e + i + 1, (k->n - i - 1) * sizeof *e);
                k->n--;
                R->n_entries--;
                break;
            }
    }
    if (k->n >= r->entry_cap) {
        if (r->agg == AGG_SUM || r->agg == AGG_MAX) /* merge the two oldest */
            e[1].v = r->agg == AGG_SUM ? e[0].v + e[1].v : (e[0].v > e[1].v ? e[0].v : e[1].v);
        k->off++;
        k->n--;
        R->n_entries--;
    }
    if (k->off + k->n == k->cap) { /* no room at the end */
        if (k->off && (k->off >= k->cap / 2 || k->cap >= 2 * r->entry_cap)) {
            /* at least half is dead space (or the array is at its largest): move the live part
             * down; amortised O(1) per entry */
            memmove(k->e, k->e + k->off, k->n * sizeof *k->e);
            k->off = 0;
        } else {
            uint32_t nc = k->cap ? k->cap * 2 : 4;
            if (nc > 2 * r->entry_cap)
                nc = 2 * r->entry_cap;
            entry *p = ff_realloc(k->e, nc * sizeof *p);
            if (!p)
                return false;
            k->e = p;
            k->cap = nc;
        }
    }
    e = k->e + k->off;
    uint32_t pos = k->n; /* keep sorted: late events slide back */
    while (pos > 0 && e[pos - 1].ts > ts)
        pos--;
    memmove(e + pos + 1, e + pos, (k->n - pos) * sizeof *e);
    e[pos] = (entry){ts, v, h};
    k->n++;
    R->n_entries++;
    return true;
}

void ff_rules_on_event(ff_rules *R, const ff_row *row, ff_alert_sink_fn sink, void *ctx)
{
    if (!R || !row)
        return;
    int64_t ts = row->num[FF_COL_TS];
    ff_arena ar;
    ff_arena_init(&ar, 8192, 1u << 20);
    for (uint32_t ri = 0; ri < R->n_rules; ri++) {
        const rule *r = &R->rules[ri];
        if (r->off)
            continue;
        bool ok = true;
        char nb[32];
        for (int fi = 0; ok && fi < r->n_filters; fi++) {
            ff_str s = field_str(row, &r->filters[fi].f, &ar, nb, sizeof nb);
            ok = value_in(s, r->filters[fi].values);
        }
        if (!ok)
            continue;
        char key[MAX_KEY];
        size_t kl = 0;
        for (int bi = 0; ok && bi < r->n_by; bi++) {
            ff_str s = field_str(row, &r->by[bi], &ar, nb, sizeof nb);
            if (!s.len || kl + s.len + 1 > sizeof key) {
                ok = false;
                break;
            }
            if (bi)
                key[kl++] = '|';
            memcpy(key + kl, s.p, s.len);
            kl += s.len;
        }
        if (!ok)
            continue;
        double v = 1;
        uint64_t h = 0;
        if (r->agg == AGG_SUM || r->agg == AGG_MAX) {
            if (!field_num(row, &r->agg_field, &ar, &v))
                continue;
        } else if (r->agg == AGG_DISTINCT) {
            ff_str s = field_str(row, &r->agg_field, &ar, nb, sizeof nb);
            if (!s.len)
                continue;
            h = fnv(s.p, s.len, FNV0) | 1;
        }
        kstate *k = key_get(R, ri, key, kl, sink, ctx);
        if (!k)
            continue;
        if (R->lru_head != k) {
            lru_unlink(R, k);
            lru_push_head(R, k);
        }
        if (!add_entry(R, r, k, ts, v, h))
            continue;
        if (ts > k->last_ts)
            k->last_ts = ts;
        ff_str id = row->str[FF_COL_EVENT_ID];
        if (id.len) {
            snprintf(k->samples[k->next_sample], SAMPLE_LEN, "%.*s",
                     (int)(id.len < SAMPLE_LEN ? id.len : SAMPLE_LEN - 1), id.p);
            k->next_sample = (uint8_t)((k->next_sample + 1) % N_SAMPLES);
            if (k->n_samples < N_SAMPLES)
                k->n_samples++;
        }
        prune(R, r, k, k->last_ts);
        double a = aggregate(r, k);
        if (k->firing && !meets(r, a))
            k->recheck = true; /* resolved at the next watermark */
        if (!k->firing && meets(r, a)) {
            k->firing = true;
            k->fired_at = ts;
            firing_link(R, k);
            emit(R, r, k, FF_ALERT_FIRING, ts, a, NULL, sink, ctx);
        }
        ff_arena_reset(&ar);
    }
    ff_arena_fini(&ar);
    while (R->n_entries > R->max_entries && R->lru_tail)
        evict_one(R, sink, ctx);
}

void ff_rules_advance(ff_rules *R, int64_t wm, ff_alert_sink_fn sink, void *ctx)
{
    if (!R || wm <= R->watermark)
        return;
    R->watermark = wm;
    for (kstate *k = R->firing, *n; k; k = n) {
        n = k->fnext;
        const rule *r = &R->rules[k->rule_idx];
        if (!k->recheck && k->n && k->e[k->off].ts > wm - r->window_ms)
            continue; /* nothing left the window since the last check: still meets */
        k->recheck = false;
        prune(R, r, k, wm);
        double a = aggregate(r, k);
        if (!meets(r, a)) {
            k->firing = false;
            firing_unlink(R, k);
            emit(R, r, k, FF_ALERT_RESOLVED, wm, a, NULL, sink, ctx);
        }
    }
    /* idle keys: everything in their window has expired */
    if (wm - R->last_sweep >= SWEEP_EVERY_MS) {
        R->last_sweep = wm;
        for (kstate *k = R->lru_tail, *p; k; k = p) {
            p = k->lprev;
            if (!k->firing && k->last_ts <= wm - R->rules[k->rule_idx].window_ms)
                key_free(R, k);
        }
    }
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

static ff_rc add_rule(ff_rules *R, const char *line, size_t len, ff_err *err)
{
    rule r;
    ff_rc rc = parse_rule(line, len, &r, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < R->n_rules; i++) {
        if (!strcmp(R->rules[i].name, r.name)) { /* same name: replaces */
            rule_fini(&R->rules[i]);
            R->rules[i] = r;
            return FF_OK;
        }
    }
    if (R->n_rules >= FF_RULES_MAX_RULES) {
        rule_fini(&r);
        return FF_ERR_SET(err, FF_ELIMIT, "rules: at most %d rules", FF_RULES_MAX_RULES);
    }
    R->rules[R->n_rules++] = r;
    return FF_OK;
}

ff_rc ff_rules_new(const ff_rules_cfg *cfg, ff_rules **out, ff_err *err)
{
    *out = NULL;
    ff_rules_cfg d = {0};
    if (!cfg)
        cfg = &d;
    ff_rules *R = ff_calloc(1, sizeof *R);
    if (!R)
        return FF_ERR_SET(err, FF_ENOMEM, "rules: out of memory");
    R->rules = ff_calloc(FF_RULES_MAX_RULES, sizeof *R->rules);
    R->max_keys = cfg->max_keys ? cfg->max_keys : DEF_MAX_KEYS;
    R->max_entries = R->max_keys * ENTRIES_PER_KEY_BUDGET;
    if (R->max_entries < 4 * FF_RULES_MAX_ENTRIES)
        R->max_entries = 4 * FF_RULES_MAX_ENTRIES;
    size_t buckets = 1024;
    while (buckets < R->max_keys && buckets < ((size_t)1 << 26))
        buckets <<= 1;
    R->tab = ff_calloc(buckets, sizeof *R->tab);
    R->tab_mask = buckets - 1;
    R->watermark = INT64_MIN;
    R->last_sweep = INT64_MIN / 2;
    ff_rc rc = R->rules && R->tab ? FF_OK : FF_ERR_SET(err, FF_ENOMEM, "rules: out of memory");
    for (size_t i = 0; rc == FF_OK && !cfg->no_defaults && k_defaults[i]; i++)
        rc = add_rule(R, k_defaults[i], strlen(k_defaults[i]), err);
    for (size_t i = 0; rc == FF_OK && i < cfg->n_rules; i++)
        rc = add_rule(R, cfg->rules[i], strlen(cfg->rules[i]), err);
    if (rc != FF_OK) {
        ff_rules_free(R);
        return rc;
    }
    *out = R;
    return FF_OK;
}

void ff_rules_free(ff_rules *R)
{
    if (!R)
        return;
    for (kstate *k = R->lru_head, *n; k; k = n) {
        n = k->lnext;
        ff_free(k->e);
        ff_free(k->key);
        ff_free(k);
    }
    if (R->rules)
        for (size_t i = 0; i < R->n_rules; i++)
            rule_fini(&R->rules[i]);
    ff_free(R->rules);
    ff_free(R->tab);
    ff_free(R);
}

size_t ff_rules_keys(const ff_rules *R)
{
    return R ? R->n_keys : 0;
}

ff_rc ff_rules_json(const ff_rules *R, ff_buf *out, ff_err *err)
{
    ff_buf_addc(out, '[');
    bool first = true;
    for (size_t i = 0; i < R->n_rules; i++) {
        const rule *r = &R->rules[i];
        if (r->off)
            continue;
        if (!first)
            ff_buf_addc(out, ',');
        first = false;
        char by[256];
        by_text(r, by, sizeof by);
        ff_buf_adds(out, "{\"name\":");
        ff_json_write_str(out, r->name, strlen(r->name));
        ff_buf_adds(out, ",\"spec\":");
        ff_json_write_str(out, r->spec, strlen(r->spec));
        ff_buf_adds(out, ",\"by\":");
        ff_json_write_str(out, by, strlen(by));
        ff_buf_printf(out,
                      ",\"aggregate\":\"%s\",\"op\":\"%s\",\"threshold\":%.10g,"
                      "\"window_ms\":%" PRId64 ",\"severity\":\"%s\"}",
                      agg_name(r->agg), r->strict ? ">" : ">=", r->threshold, r->window_ms,
                      r->severity);
    }
    ff_rc rc = ff_buf_addc(out, ']');
    return rc == FF_OK ? FF_OK : FF_ERR_SET(err, rc, "rules: answer too large");
}

/* ---- save / load: "FFRULES1", watermark, then per key: spec hash, key, state, entries. All
 * integers little-endian as stored by memcpy (same host; the checkpoint is not portable). */

#define MAGIC "FFRULES1"

static void put(ff_buf *b, const void *p, size_t n, ff_rc *rc)
{
    if (*rc == FF_OK)
        *rc = ff_buf_add(b, p, n);
}

ff_rc ff_rules_save(const ff_rules *R, ff_buf *out, ff_err *err)
{
    ff_rc rc = FF_OK;
    put(out, MAGIC, 8, &rc);
    put(out, &R->watermark, 8, &rc);
    uint64_t n = R->n_keys;
    put(out, &n, 8, &rc);
    /* oldest first so that load rebuilds the same LRU order */
    for (const kstate *k = R->lru_tail; k && rc == FF_OK; k = k->lprev) {
        const rule *r = &R->rules[k->rule_idx];
        put(out, &r->spec_hash, 8, &rc);
        put(out, &k->klen, 4, &rc);
        put(out, k->key, k->klen, &rc);
        uint8_t fl = k->firing ? 1 : 0;
        put(out, &fl, 1, &rc);
        put(out, &k->last_ts, 8, &rc);
        put(out, &k->fired_at, 8, &rc);
        put(out, &k->n_samples, 1, &rc);
        put(out, &k->next_sample, 1, &rc);
        put(out, k->samples, sizeof k->samples, &rc);
        put(out, &k->n, 4, &rc);
        put(out, k->e + k->off, (size_t)k->n * sizeof *k->e, &rc);
    }
    return rc == FF_OK ? FF_OK : FF_ERR_SET(err, rc, "rules: checkpoint too large");
}

typedef struct rd {
    const unsigned char *p;
    size_t n, off;
    bool bad;
} rd;

static void get(rd *r, void *dst, size_t n)
{
    if (r->bad || r->n - r->off < n) {
        r->bad = true;
        memset(dst, 0, n);
        return;
    }
    memcpy(dst, r->p + r->off, n);
    r->off += n;
}

static void clear_keys(ff_rules *R)
{
    while (R->lru_head)
        key_free(R, R->lru_head);
    R->firing = NULL;
}

ff_rc ff_rules_load(ff_rules *R, const void *p, size_t n, ff_err *err)
{
    clear_keys(R);
    rd r = {p, n, 0, false};
    char magic[8];
    get(&r, magic, 8);
    if (r.bad || memcmp(magic, MAGIC, 8))
        return FF_ERR_SET(err, FF_ECORRUPT, "rules: checkpoint has no FFRULES1 header");
    int64_t wm;
    uint64_t nk;
    get(&r, &wm, 8);
    get(&r, &nk, 8);
    for (uint64_t i = 0; i < nk && !r.bad; i++) {
        uint64_t sh;
        uint32_t kl, ne;
        get(&r, &sh, 8);
        get(&r, &kl, 4);
        if (r.bad || kl == 0 || kl > MAX_KEY || kl > r.n - r.off) {
            r.bad = true;
            break;
        }
        const char *key = (const char *)r.p + r.off;
        r.off += kl;
        uint8_t fl, ns, nx;
        int64_t last, fired;
        char samples[N_SAMPLES][SAMPLE_LEN];
        get(&r, &fl, 1);
        get(&r, &last, 8);
        get(&r, &fired, 8);
        get(&r, &ns, 1);
        get(&r, &nx, 1);
        get(&r, samples, sizeof samples);
        get(&r, &ne, 4);
        if (r.bad || ne > FF_RULES_MAX_ENTRIES || (size_t)ne * sizeof(entry) > r.n - r.off ||
            ns > N_SAMPLES || nx >= N_SAMPLES || fl > 1) {
            r.bad = true;
            break;
        }
        const unsigned char *ep = r.p + r.off;
        r.off += (size_t)ne * sizeof(entry);
        uint32_t ri = UINT32_MAX;
        for (uint32_t k = 0; k < R->n_rules; k++)
            if (R->rules[k].spec_hash == sh && !R->rules[k].off)
                ri = k;
        if (ri == UINT32_MAX)
            continue; /* the rule changed or is gone: its keys start afresh */
        const rule *ru = &R->rules[ri];
        if (R->n_keys >= R->max_keys)
            evict_one(R, NULL, NULL);
        size_t before = R->n_keys;
        kstate *k = key_get(R, ri, key, kl, NULL, NULL);
        if (!k)
            break;
        if (R->n_keys == before && (k->e || k->n || k->firing)) {
            r.bad = true; /* the same key twice */
            break;
        }
        uint32_t take = ne > ru->entry_cap ? ru->entry_cap : ne;
        if (take) {
            k->e = ff_malloc(take * sizeof *k->e);
            if (!k->e) {
                key_free(R, k);
                break;
            }
            memcpy(k->e, ep + (size_t)(ne - take) * sizeof(entry), take * sizeof(entry));
        }
        for (uint32_t j = 1; j < take; j++)
            if (k->e[j].ts < k->e[j - 1].ts) {
                r.bad = true;
            }
        k->n = k->cap = take;
        R->n_entries += take;
        k->last_ts = last;
        k->fired_at = fired;
        k->n_samples = ns;
        k->next_sample = nx;
        memcpy(k->samples, samples, sizeof samples);
        for (int s = 0; s < N_SAMPLES; s++)
            k->samples[s][SAMPLE_LEN - 1] = 0;
        if (fl) {
            k->firing = true;
            k->recheck = true;
            firing_link(R, k);
        }
    }
    if (r.bad || r.off != r.n) {
        clear_keys(R);
        return FF_ERR_SET(err, FF_ECORRUPT, "rules: checkpoint is damaged (at byte %zu of %zu)",
                          r.off, r.n);
    }
    R->watermark = wm;
    return FF_OK;
}
