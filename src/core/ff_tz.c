/* ff_tz.c -- TZif (RFC 8536) reader and UTC <-> local conversion (see ff_tz.h).
 *
 * DESIGN: a zone is its transition table (UTC seconds, offset after each transition), the
 * offset before the first transition, and the footer's POSIX TZ rule for later times. The rule
 * is evaluated on demand: the start/end instants of the years around t are computed and the
 * last one at or before t gives the offset (and the span up to the next one).
 * INVARIANTS: trans[] is strictly ascending; every offset is within +-26 hours.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/ff_clock.h"
#include "core/ff_mem.h"
#include "core/ff_tz.h"

#define TZ_FILE_MAX (1u << 20)
#define TZ_OFF_MAX (26 * 3600)

/* One end of a POSIX TZ rule: Jn (1-365, no Feb 29), n (0-365) or Mm.w.d; at `time` local. */
typedef struct rule_day {
    char kind; /* 'J', 'N' or 'M' */
    int n, m, w, d;
    int32_t time; /* seconds after local midnight, may be negative or > 24 h (TZif v3) */
} rule_day;

struct ff_tz {
    char name[FF_TZ_NAME_MAX + 1];
    uint32_t n_trans;
    int64_t *trans;     /* UTC seconds, ascending */
    int32_t *trans_off; /* offset from trans[i] on */
    int32_t off0;       /* before trans[0] (or always, without transitions) */
    bool has_rule;      /* the footer's rule applies from the last transition on */
    bool rule_dst;      /* the rule has a DST part */
    int32_t std_off, dst_off;
    rule_day start, end;
    bool utc;
};

static ff_tz utc_zone = {.name = "UTC", .utc = true};

/* ---- calendar ---------------------------------------------------------------------------- */

static int64_t fdiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t year_of_day(int64_t days)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    unsigned doe = (unsigned)(days - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    return (int64_t)yoe + era * 400 + (mp >= 10);
}

static bool leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Day number (since 1970-01-01) on which rule day r falls in year y. */
static int64_t rule_date(const rule_day *r, int64_t y)
{
    int64_t jan1 = ff_clock_days_from_civil(y, 1, 1);
    if (r->kind == 'J')
        return jan1 + r->n - 1 + (leap(y) && r->n >= 60);
    if (r->kind == 'N')
        return jan1 + r->n;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int64_t first = ff_clock_days_from_civil(y, (unsigned)r->m, 1);
    int dow = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01 was a Thursday (4) */
    int64_t day = first + ((r->d - dow) % 7 + 7) % 7 + 7 * (r->w - 1);
    int len = mdays[r->m - 1] + (r->m == 2 && leap(y));
    while (day >= first + len)
        day -= 7;
    return day;
}

/* ---- POSIX TZ rule of the footer --------------------------------------------------------- */

static const char *tz_name_part(const char *p)
{
    if (*p == '<') {
        while (*p && *p != '>')
            p++;
        return *p == '>' ? p + 1 : NULL;
    }
    const char *s = p;
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    return p - s >= 3 ? p : NULL;
}

/* [+-]hh[:mm[:ss]] with hh <= max_h; *v in seconds (sign as written). */
static const char *tz_hms(const char *p, int max_h, int32_t *v)
{
    int sign = 1, part[3] = {0, 0, 0}, k = 0;
    if (*p == '+' || *p == '-')
        sign = *p++ == '-' ? -1 : 1;
    for (;;) {
        if (*p < '0' || *p > '9')
            return NULL;
        int x = 0, digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 3)
            x = x * 10 + (*p++ - '0'), digits++;
        if ((k == 0 && x > max_h) || (k > 0 && x > 59))
            return NULL;
        part[k++] = x;
        if (k == 3 || *p != ':')
            break;
        p++;
    }
    *v = sign * (part[0] * 3600 + part[1] * 60 + part[2]);
    return p;
}

static const char *tz_num(const char *p, int lo, int hi, int *v)
{
    if (*p < '0' || *p > '9')
        return NULL;
    int x = 0;
    while (*p >= '0' && *p <= '9' && x <= hi)
        x = x * 10 + (*p++ - '0');
    if (x < lo || x > hi)
        return NULL;
    *v = x;
    return p;
}

static const char *tz_rule_day(const char *p, rule_day *r)
{
    memset(r, 0, sizeof *r);
    if (*p == 'J') {
        r->kind = 'J';
        p = tz_num(p + 1, 1, 365, &r->n);
    } else if (*p == 'M') {
        r->kind = 'M';
        if ((p = tz_num(p + 1, 1, 12, &r->m)) && *p == '.' && (p = tz_num(p + 1, 1, 5, &r->w)) &&
            *p == '.')
            p = tz_num(p + 1, 0, 6, &r->d);
        else
            p = NULL;
    } else {
        r->kind = 'N';
        p = tz_num(p, 0, 365, &r->n);
    }
    r->time = 7200;
    if (p && *p == '/')
        p = tz_hms(p + 1, 167, &r->time);
    return p;
}

/* Parse "STD off[DST[off][,start[/time],end[/time]]]" into z; false when it is not one. */
static bool tz_parse_rule(ff_tz *z, const char *s)
{
    int32_t v;
    const char *p = tz_name_part(s);
    if (!p || !(p = tz_hms(p, 24, &v)))
        return false;
    z->std_off = -v; /* POSIX offsets count west */
    if (!*p) {
        z->has_rule = true;
        return true;
    }
    if (!(p = tz_name_part(p)))
        return false;
    z->dst_off = z->std_off + 3600;
    if (*p && *p != ',') {
        if (!(p = tz_hms(p, 24, &v)))
            return false;
        z->dst_off = -v;
    }
    if (!*p) { /* no rule given: POSIX leaves it to the implementation; glibc's US rule */
        z->start = (rule_day){'M', 0, 3, 2, 0, 7200};
        z->end = (rule_day){'M', 0, 11, 1, 0, 7200};
    } else if (*p != ',' || !(p = tz_rule_day(p + 1, &z->start)) || *p != ',' ||
               !(p = tz_rule_day(p + 1, &z->end)) || *p) {
        return false;
    }
    z->rule_dst = z->has_rule = true;
    return true;
}

/* The rule's offset at t and the span [lo, hi) around t where it holds. */
static void rule_span(const ff_tz *z, int64_t t, ff_tz_span *sp)
{
    if (!z->rule_dst) {
        *sp = (ff_tz_span){INT64_MIN, INT64_MAX, z->std_off};
        return;
    }
    int64_t y = year_of_day(fdiv(t, 86400));
    int64_t at[6];
    int32_t off[6];
    int n = 0;
    for (int64_t yy = y - 1; yy <= y + 1; yy++) {
        at[n] = rule_date(&z->start, yy) * 86400 + z->start.time - z->std_off;
        off[n++] = z->dst_off;
        at[n] = rule_date(&z->end, yy) * 86400 + z->end.time - z->dst_off;
        off[n++] = z->std_off;
    }
    for (int i = 1; i < 6; i++) /* insertion sort of the six instants */
        for (int j = i; j > 0 && at[j] < at[j - 1]; j--) {
            int64_t ta = at[j];
            at[j] = at[j - 1], at[j - 1] = ta;
            int32_t to = off[j];
            off[j] = off[j - 1], off[j - 1] = to;
        }
    int k = -1;
    while (k + 1 < 6 && at[k + 1] <= t)
        k++;
    if (k < 0) /* before the first: the state the first one ends */
        *sp = (ff_tz_span){INT64_MIN, at[0], off[0] == z->dst_off ? z->std_off : z->dst_off};
    else
        *sp = (ff_tz_span){at[k], k + 1 < 6 ? at[k + 1] : INT64_MAX, off[k]};
}

/* ---- lookups ----------------------------------------------------------------------------- */

void ff_tz_span_at(const ff_tz *z, int64_t t, ff_tz_span *sp)
{
    uint32_t n = z->n_trans;
    if (n == 0 || t < z->trans[0]) {
        *sp = (ff_tz_span){INT64_MIN, n ? z->trans[0] : INT64_MAX, z->off0};
        return;
    }
    if (t >= z->trans[n - 1]) {
        if (!z->has_rule) {
            *sp = (ff_tz_span){z->trans[n - 1], INT64_MAX, z->trans_off[n - 1]};
            return;
        }
        rule_span(z, t, sp);
        if (sp->lo < z->trans[n - 1])
            sp->lo = z->trans[n - 1];
        return;
    }
    uint32_t lo = 0, hi = n - 1; /* trans[lo] <= t < trans[hi] */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (z->trans[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    *sp = (ff_tz_span){z->trans[lo], z->trans[hi], z->trans_off[lo]};
}

int32_t ff_tz_offset(const ff_tz *z, int64_t t)
{
    if (z->utc)
        return 0;
    ff_tz_span sp;
    ff_tz_span_at(z, t, &sp);
    return sp.off;
}

int64_t ff_tz_from_local(const ff_tz *z, int64_t local, bool gap_after)
{
    if (z->utc)
        return local;
    int32_t o = ff_tz_offset(z, local);
    o = ff_tz_offset(z, local - o);
    ff_tz_span s[3];
    bool have[3] = {false, true, false};
    ff_tz_span_at(z, local - o, &s[1]);
    if (s[1].lo != INT64_MIN)
        ff_tz_span_at(z, s[1].lo - 1, &s[0]), have[0] = true;
    if (s[1].hi != INT64_MAX)
        ff_tz_span_at(z, s[1].hi, &s[2]), have[2] = true;
    for (int k = 0; k < 3; k++) /* earliest instant with this wall time */
        if (have[k] && local - s[k].off >= s[k].lo && local - s[k].off < s[k].hi)
            return local - s[k].off;
    for (int k = 0; k < 2; k++) { /* in the gap of a spring-forward between s[k], s[k + 1] */
        if (!have[k] || !have[k + 1])
            continue;
        int64_t t = s[k + 1].lo;
        if (local >= t + s[k].off && local < t + s[k + 1].off)
            return gap_after ? local - s[k].off : local - s[k + 1].off;
    }
    return local - o;
}

const ff_tz *ff_tz_utc(void)
{
    return &utc_zone;
}

const char *ff_tz_name(const ff_tz *z)
{
    return z->name;
}

bool ff_tz_is_utc(const ff_tz *z)
{
    return z->utc;
}

/* ---- loading ----------------------------------------------------------------------------- */

bool ff_tz_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > FF_TZ_NAME_MAX || name[0] == '/' || name[len - 1] == '/')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '+' || c == '-' || c == '/';
        if (!ok || (c == '/' && name[i + 1] == '/'))
            return false;
    }
    return true;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

typedef struct tzhead {
    char version;
    uint32_t isut, isstd, leap, time, type, chars;
} tzhead;

static bool read_head(const unsigned char *p, size_t avail, tzhead *h)
{
    if (avail < 44 || memcmp(p, "TZif", 4) != 0)
        return false;
    h->version = (char)p[4];
    h->isut = be32(p + 20), h->isstd = be32(p + 24), h->leap = be32(p + 28);
    h->time = be32(p + 32), h->type = be32(p + 36), h->chars = be32(p + 40);
    return h->type >= 1 && h->type <= 256 && h->time <= 1000000 && h->chars <= 65536 &&
           h->leap <= 100000 && (h->isut == 0 || h->isut == h->type) &&
           (h->isstd == 0 || h->isstd == h->type);
}

/* Bytes of a data block with time size ts (4 or 8). */
static size_t block_len(const tzhead *h, size_t ts)
{
    return h->time * ts + h->time + h->type * 6 + h->chars + h->leap * (ts + 4) + h->isstd +
           h->isut;
}

static ff_rc parse_tzif(const unsigned char *buf, size_t len, const char *name, ff_tz **out,
                        ff_err *err)
{
    tzhead h;
    size_t ts = 4;
    const unsigned char *p = buf;
    if (!read_head(p, len, &h))
        return FF_ERR_SET(err, FF_EBADINPUT, "time zone '%s': not a TZif file", name);
    if (h.version >= '2') { /* skip the 32-bit block: use the 64-bit one */
        size_t skip = 44 + block_len(&h, 4);
        if (skip > len || !read_head(p + skip, len - skip, &h))
            return FF_ERR_SET(err, FF_EBADINPUT, "time zone '%s': bad TZif v2 header", name);
        p += skip;
        ts = 8;
    }
    if (h.leap)
        return FF_ERR_SET(err, FF_EBADINPUT,
                          "time zone '%s' counts leap seconds (not supported: use the zone "
                          "without the right/ prefix)",
                          name);
    size_t blen = block_len(&h, ts);
    if (44 + blen > (size_t)(buf + len - p))
        return FF_ERR_SET(err, FF_EBADINPUT, "time zone '%s': truncated TZif file", name);
    const unsigned char *tt = p + 44, *ti = tt + h.time * ts, *ty = ti + h.time;
    ff_tz *z = ff_calloc(1, sizeof *z + h.time * (sizeof(int64_t) + sizeof(int32_t)));
    if (!z)
        return FF_ERR_SET(err, FF_ENOMEM, "time zone '%s': out of memory", name);
    snprintf(z->name, sizeof z->name, "%s", name);
    z->trans = (int64_t *)(z + 1);
    z->trans_off = (int32_t *)(z->trans + h.time);
    z->n_trans = h.time;
    int32_t type_off[256];
    bool type_dst[256];
    for (uint32_t i = 0; i < h.type; i++) {
        type_off[i] = (int32_t)be32(ty + 6 * i);
        type_dst[i] = ty[6 * i + 4] != 0;
        if (type_off[i] < -TZ_OFF_MAX || type_off[i] > TZ_OFF_MAX)
            goto bad;
    }
    for (uint32_t i = 0; i < h.time; i++) {
        z->trans[i] = ts == 8 ? be64(tt + 8 * i) : (int64_t)(int32_t)be32(tt + 4 * i);
        if (ti[i] >= h.type || (i && z->trans[i] <= z->trans[i - 1]))
            goto bad;
        z->trans_off[i] = type_off[ti[i]];
    }
    uint32_t first = 0; /* glibc: before the first transition, the first standard-time type */
    while (first < h.type && type_dst[first])
        first++;
    z->off0 = type_off[first < h.type ? first : 0];
    const unsigned char *foot = p + 44 + blen, *end = buf + len;
    if (ts == 8 && foot < end && *foot == '\n') {
        const unsigned char *nl = memchr(foot + 1, '\n', (size_t)(end - foot - 1));
        char rule[256];
        size_t rl = nl ? (size_t)(nl - foot - 1) : 0;
        if (nl && rl > 0 && rl < sizeof rule) {
            memcpy(rule, foot + 1, rl);
            rule[rl] = 0;
            ff_tz probe = *z;
            if (tz_parse_rule(&probe, rule)) /* an unreadable rule is ignored, as glibc does */
                *z = probe;
        }
    }
    bool utc = z->off0 == 0 && (!z->has_rule || (z->std_off == 0 && !z->rule_dst));
    for (uint32_t i = 0; i < z->n_trans && utc; i++)
        utc = z->trans_off[i] == 0;
    z->utc = utc;
    *out = z;
    return FF_OK;
bad:
    ff_free(z);
    return FF_ERR_SET(err, FF_EBADINPUT, "time zone '%s': corrupt TZif file", name);
}

static ff_rc load_zone(const char *name, ff_tz **out, ff_err *err)
{
    const char *dir = getenv("TZDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return FF_ERR_SET(err, FF_ENOTFOUND, "unknown time zone '%s'", name);
        return FF_ERR_SYS(err, FF_EIO, "time zone '%s': cannot open %s", name, path);
    }
    struct stat st;
    ff_rc rc = FF_OK;
    unsigned char *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rc = FF_ERR_SET(err, FF_ENOTFOUND, "unknown time zone '%s'", name);
    } else if (st.st_size > (off_t)TZ_FILE_MAX) {
        rc = FF_ERR_SET(err, FF_EBADINPUT, "time zone '%s': file too large", name);
    } else if (!(buf = ff_malloc((size_t)st.st_size + 1))) {
        rc = FF_ERR_SET(err, FF_ENOMEM, "time zone '%s': out of memory", name);
    } else {
        size_t got = 0, want = (size_t)st.st_size;
        while (got < want) {
            ssize_t r = read(fd, buf + got, want - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        rc = got == want ? parse_tzif(buf, got, name, out, err)
                         : FF_ERR_SYS(err, FF_EIO, "time zone '%s': cannot read %s", name, path);
    }
    ff_free(buf);
    close(fd);
    return rc;
}

static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;
static ff_tz *cache[FF_TZ_MAX_ZONES];
static uint32_t cache_n;

ff_rc ff_tz_get(const char *name, size_t len, const ff_tz **out, ff_err *err)
{
    if (!ff_tz_name_ok(name, len))
        return FF_ERR_SET(err, FF_EBADINPUT, "invalid time zone name '%.*s'",
                          (int)(len > 64 ? 64 : len), name);
    if (len == 3 && memcmp(name, "UTC", 3) == 0) {
        *out = &utc_zone;
        return FF_OK;
    }
    char nm[FF_TZ_NAME_MAX + 1];
    memcpy(nm, name, len);
    nm[len] = 0;
    pthread_mutex_lock(&cache_mu);
    ff_rc rc = FF_OK;
    uint32_t i = 0;
    while (i < cache_n && strcmp(cache[i]->name, nm) != 0)
        i++;
    if (i < cache_n) {
        *out = cache[i];
    } else if (cache_n == FF_TZ_MAX_ZONES) {
        rc = FF_ERR_SET(err, FF_ELIMIT, "time zone '%s': more than %d zones loaded", nm,
                        FF_TZ_MAX_ZONES);
    } else {
        ff_tz *z = NULL;
        if ((rc = load_zone(nm, &z, err)) == FF_OK) {
            cache[cache_n++] = z;
            *out = z;
        }
    }
    pthread_mutex_unlock(&cache_mu);
    return rc;
}
