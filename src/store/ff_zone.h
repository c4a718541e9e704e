/* ff_zone.h -- zone maps: per block per column min/max and NULL count, for pruning.
 *
 * WHAT: a part keeps one zone per (block, column) in its footer. A scan asks "may this block
 * hold a row matching the predicate?" and skips the block's chunks when the answer is no.
 * Answers are conservative: "no" is certain, "maybe" may be wrong.
 *
 * DESIGN:
 *  - Numeric columns: min/max over the non-NULL rows; n_null = NULL rows. UInt64 columns
 *    compare as unsigned (ff_zone_* take the column type for that).
 *  - String columns: min/max byte-wise (ff_str_cmp) over the non-empty rows; n_null counts
 *    the '' rows (an absent string is '', ff_schema.h). A bound longer than FF_ZONE_STR_MAX
 *    bytes is stored as its prefix: a truncated min is still a lower bound (a prefix sorts
 *    first); a truncated max is flagged (max_trunc) and then bounds every value v by
 *    "v <= max or v starts with max".
 *  - has_minmax is false when every row is NULL / ''.
 *
 * INVARIANTS (for zones built by ff_zone_build_*; a reader trusts the footer's zones, which
 * its checksum covers):
 *  (1) n_null <= n_rows; has_minmax == (n_null < n_rows).
 *  (2) with has_minmax, min <= max and every non-NULL/non-empty value lies in the bounds.
 *
 * THREADING: plain data and pure functions.
 * OWNERSHIP: the string bounds borrow memory: from the values given to ff_zone_build_str, or
 * from the part's footer for zones returned by ff_part_zone (valid until ff_part_close).
 */
#ifndef FF_ZONE_H
#define FF_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/ff_schema.h"

#define FF_ZONE_STR_MAX 64

typedef struct ff_zone {
    uint32_t n_rows;
    uint32_t n_null;   /* NULL rows (numeric) or '' rows (string) */
    bool has_minmax;   /* some row is non-NULL / non-empty */
    bool min_trunc;    /* strings: min is a prefix of the true minimum */
    bool max_trunc;    /* strings: max is a prefix of the true maximum */
    int64_t min, max;  /* numeric */
    const char *min_s; /* strings (at most FF_ZONE_STR_MAX bytes) */
    const char *max_s;
    uint32_t min_len, max_len;
} ff_zone;

/* Build the zone of n numeric values (nulls: bitmap as in ff_colvec, or NULL). */
void ff_zone_build_i64(ff_zone *z, ff_type t, const int64_t *v, const uint8_t *nulls, uint32_t n);
/* Build the zone of n strings; bounds point into v's strings, already truncated. */
void ff_zone_build_str(ff_zone *z, const ff_str *v, uint32_t n);

/* Numeric: may a non-NULL value x with lo <= x <= hi exist? (t decides signedness) */
bool ff_zone_may_range_i64(const ff_zone *z, ff_type t, int64_t lo, int64_t hi);
bool ff_zone_may_eq_i64(const ff_zone *z, ff_type t, int64_t x);
/* Numeric: may a NULL exist (IS NULL)? Strings: may '' exist? */
bool ff_zone_may_null(const ff_zone *z);
/* Strings: may a row equal s? (s = '' asks for absent values) */
bool ff_zone_may_eq_str(const ff_zone *z, const char *s, size_t len);
/* Strings: may a non-empty value v with lo <= v <= hi exist? */
bool ff_zone_may_range_str(const ff_zone *z, const char *lo, size_t lo_len, const char *hi,
                           size_t hi_len);
/* Strings: may a value start with prefix (LIKE 'prefix%')? */
bool ff_zone_may_prefix_str(const ff_zone *z, const char *prefix, size_t len);

#endif /* FF_ZONE_H */
