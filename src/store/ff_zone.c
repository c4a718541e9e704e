/* ff_zone.c -- zone map construction and the conservative "may match" tests. */
#include "store/ff_zone.h"

#include <string.h>

/* Signed or unsigned comparison by column type. */
static int num_cmp(ff_type t, int64_t a, int64_t b)
{
    if (t == FF_TYPE_UINT64) {
        uint64_t x = (uint64_t)a, y = (uint64_t)b;
        return x < y ? -1 : x > y;
    }
    return a < b ? -1 : a > b;
}

void ff_zone_build_i64(ff_zone *z, ff_type t, const int64_t *v, const uint8_t *nulls, uint32_t n)
{
    memset(z, 0, sizeof *z);
    z->n_rows = n;
    for (uint32_t i = 0; i < n; i++) {
        if (nulls && ((nulls[i >> 3] >> (i & 7)) & 1)) {
            z->n_null++;
            continue;
        }
        if (!z->has_minmax) {
            z->min = z->max = v[i];
            z->has_minmax = true;
            continue;
        }
        if (num_cmp(t, v[i], z->min) < 0)
            z->min = v[i];
        if (num_cmp(t, v[i], z->max) > 0)
            z->max = v[i];
    }
}

/* Compares the first FF_ZONE_STR_MAX + 1 bytes only. That is all a zone keeps, and it picks
 * the same bounds as a full comparison: a <= b implies cut(a) <= cut(b), so the string chosen
 * has the same cut as the true min (max); its first FF_ZONE_STR_MAX bytes and whether it is
 * longer than that (the trunc flag) are then the same too. Long values that share a long
 * prefix (properties, URLs) are compared in a few dozen bytes instead of hundreds. */
static int cut_cmp(ff_str a, ff_str b)
{
    size_t al = a.len > FF_ZONE_STR_MAX + 1 ? FF_ZONE_STR_MAX + 1 : a.len;
    size_t bl = b.len > FF_ZONE_STR_MAX + 1 ? FF_ZONE_STR_MAX + 1 : b.len;
    return ff_str_cmp(a.p, al, b.p, bl);
}

void ff_zone_build_str(ff_zone *z, const ff_str *v, uint32_t n)
{
    memset(z, 0, sizeof *z);
    z->n_rows = n;
    ff_str mn = {"", 0}, mx = {"", 0};
    for (uint32_t i = 0; i < n; i++) {
        if (v[i].len == 0) {
            z->n_null++;
            continue;
        }
        if (!z->has_minmax) {
            mn = mx = v[i];
            z->has_minmax = true;
            continue;
        }
        /* Sorted by person, neighbours are often equal: cheap pointer/length test first. */
        if (v[i].p == mx.p && v[i].len == mx.len)
            continue;
        if (cut_cmp(v[i], mn) < 0)
            mn = v[i];
        else if (cut_cmp(v[i], mx) > 0)
            mx = v[i];
    }
    if (!z->has_minmax)
        return;
    z->min_s = mn.p;
    z->min_len = mn.len > FF_ZONE_STR_MAX ? FF_ZONE_STR_MAX : mn.len;
    z->min_trunc = mn.len > FF_ZONE_STR_MAX;
    z->max_s = mx.p;
    z->max_len = mx.len > FF_ZONE_STR_MAX ? FF_ZONE_STR_MAX : mx.len;
    z->max_trunc = mx.len > FF_ZONE_STR_MAX;
}

bool ff_zone_may_range_i64(const ff_zone *z, ff_type t, int64_t lo, int64_t hi)
{
    if (!z->has_minmax || num_cmp(t, lo, hi) > 0)
        return false;
    return num_cmp(t, z->max, lo) >= 0 && num_cmp(t, z->min, hi) <= 0;
}

bool ff_zone_may_eq_i64(const ff_zone *z, ff_type t, int64_t x)
{
    return ff_zone_may_range_i64(z, t, x, x);
}

bool ff_zone_may_null(const ff_zone *z)
{
    return z->n_null > 0;
}

static bool has_prefix(const char *s, size_t len, const char *pre, size_t pre_len)
{
    return len >= pre_len && (pre_len == 0 || memcmp(s, pre, pre_len) == 0);
}

/* May some value be >= x? The true maximum M is max, or (truncated) starts with max. */
static bool may_ge(const ff_zone *z, const char *x, size_t len)
{
    if (ff_str_cmp(z->max_s, z->max_len, x, len) >= 0)
        return true;
    return z->max_trunc && has_prefix(x, len, z->max_s, z->max_len);
}

/* May some value be <= x? The stored min is <= the true minimum. */
static bool may_le(const ff_zone *z, const char *x, size_t len)
{
    return ff_str_cmp(z->min_s, z->min_len, x, len) <= 0;
}

bool ff_zone_may_eq_str(const ff_zone *z, const char *s, size_t len)
{
    if (len == 0)
        return z->n_null > 0;
    return z->has_minmax && may_le(z, s, len) && may_ge(z, s, len);
}

bool ff_zone_may_range_str(const ff_zone *z, const char *lo, size_t lo_len, const char *hi,
                           size_t hi_len)
{
    if (!z->has_minmax || ff_str_cmp(lo, lo_len, hi, hi_len) > 0)
        return false;
    return may_le(z, hi, hi_len) && may_ge(z, lo, lo_len);
}

bool ff_zone_may_prefix_str(const ff_zone *z, const char *prefix, size_t len)
{
    if (len == 0)
        return z->n_rows > 0;
    if (!z->has_minmax)
        return false;
    /* Values with the prefix lie in [prefix, prefix + 0xFF...]: the block's range must reach
     * prefix from above and start at or below the last string with the prefix. */
    if (!may_ge(z, prefix, len))
        return false;
    return ff_str_cmp(z->min_s, z->min_len, prefix, len) <= 0 ||
           has_prefix(z->min_s, z->min_len, prefix, len);
}
