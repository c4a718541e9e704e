/* ff_schema.h -- the fixed columns of the `events` table, and one row of it.
 *
 * WHAT: the store's schema is the canonical event (docs/formats/part.md, "Columns"): a fixed,
 * ordered list of typed columns that every part holds, plus ff_row (one event as column values)
 * and the converters that build a row from a canonical log record (the compact JSON that
 * `footfall log dump` prints) or from a line of the Taobao UserBehavior CSV.
 *
 * DESIGN:
 *  - Column ids (ff_col) are the on-disk column order of format version 1. A later version may
 *    append columns; it never renumbers them. A column set (ff_colset) is a bit mask of ids, so
 *    a reader touches only the chunks of the columns a query names.
 *  - Types (ff_type) are logical; physically every column is either an int64 stream (time,
 *    integer, decimal, UInt64) or a byte-string stream.
 *  - NULL rule. Strings are NOT nullable: an absent string is stored as '' (ClickHouse
 *    `String` with default ''), so `user_id = ''` finds events without a user and
 *    `isNull(user_id)` is always false. This is forced by the log record, which omits empty
 *    fields: absent and empty cannot be told apart there. The numeric facts that may be missing
 *    -- price, quantity, revenue -- are Nullable (NULL = not sent), so sum()/avg() skip them as
 *    ClickHouse does. ts, received_at and log_offset are never NULL.
 *  - Decimal = int64 scaled by 10^4 (ClickHouse Decimal(18,4)): "19.99" -> 199900. Parsing is
 *    exact from the number's source text; more than 4 fraction digits round half-even (as the
 *    collector's money parser does).
 *  - properties (String) keeps everything of the record that has no column of its own, as one
 *    compact JSON object, so nothing the client sent is lost:
 *      - the members of the record's "properties" object come first, at the top level, in
 *        order, so `JSONExtractString(properties, 'plan')` works as a ClickHouse user expects;
 *      - every other record member that is not a column (traits, context, flags, sent_at,
 *        original_ts, any future key), and any column member whose value does not fit its
 *        column's type (a price out of range, a quantity of 2.5, a rounded price's exact
 *        text), follows as "$<key>": value ("$context", "$flags", "$sent_at", ...);
 *      - a client property whose key starts with '$' is written with one more '$' ("$x" ->
 *        "$$x"), so the mapping is reversible: a key with exactly one leading '$' is ours;
 *      - no members at all -> '' (not "{}").
 *    The record's "v" member is checked (absent or 1) and not stored.
 *  - Sort key of a part: person = user_id if non-empty else anonymous_id, then ts, then
 *    log_offset (ff_row_cmp). An anonymous visitor who later logs in is two persons here;
 *    identity stitching is a query-time concern.
 *
 * INVARIANTS:
 *  (1) ff_schema_col(c) is defined for every c < FF_COL_COUNT and never changes for v1.
 *  (2) In a row, str[] is meaningful only for string columns and num[] only for numeric ones;
 *      the null bit of a column is set only for nullable numeric columns.
 *  (3) ff_row_from_record either fails (the row's content is then unspecified) or produces a
 *      row whose every string lives in the arena; it never rejects a record for an odd
 *      optional field (that goes to properties), only for bad JSON, a non-object, v != 1 or a
 *      missing/non-integer ts.
 *
 * THREADING: no state; everything is thread-safe.
 * OWNERSHIP: ff_row borrows its strings; the converters put them in the caller's arena (valid
 * until the arena is reset).
 */
#ifndef FF_SCHEMA_H
#define FF_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ff_arena.h"
#include "core/ff_err.h"

typedef enum ff_col {
    FF_COL_EVENT_ID = 0,
    FF_COL_TS,
    FF_COL_RECEIVED_AT,
    FF_COL_TYPE,
    FF_COL_EVENT,
    FF_COL_EVENT_ORIGINAL,
    FF_COL_USER_ID,
    FF_COL_ANONYMOUS_ID,
    FF_COL_SESSION_ID,
    FF_COL_URL,
    FF_COL_REFERRER,
    FF_COL_PRODUCT_ID,
    FF_COL_CATEGORY,
    FF_COL_PRICE,
    FF_COL_QUANTITY,
    FF_COL_ORDER_ID,
    FF_COL_REVENUE,
    FF_COL_CURRENCY,
    FF_COL_SEARCH_TERM,
    FF_COL_ELEMENT,
    FF_COL_COUNTRY,
    FF_COL_DEVICE,
    FF_COL_BROWSER,
    FF_COL_OS,
    FF_COL_IP,
    FF_COL_PROPERTIES,
    FF_COL_LOG_OFFSET,
    FF_COL_COUNT /* 27 */
} ff_col;

/* A set of columns: bit c is column c. */
typedef uint64_t ff_colset;
#define FF_COLSET(c) ((ff_colset)1 << (c))
#define FF_COLSET_ALL (FF_COLSET(FF_COL_COUNT) - 1)

/* Logical column types; the numbers are stored in part footers (never renumber). */
typedef enum ff_type {
    FF_TYPE_STRING = 1,  /* String; '' = absent */
    FF_TYPE_LOWCARD = 2, /* LowCardinality(String): few distinct values; '' = absent */
    FF_TYPE_TIME_MS = 3, /* Int64 milliseconds since the epoch, UTC (DateTime64(3, 'UTC')) */
    FF_TYPE_INT64 = 4,   /* Int64 */
    FF_TYPE_DECIMAL = 5, /* Decimal(18,4): int64 scaled by FF_DECIMAL_SCALE */
    FF_TYPE_UINT64 = 6,  /* UInt64, held in int64 storage as its bit pattern */
} ff_type;

#define FF_DECIMAL_SCALE 10000
#define FF_DECIMAL_DIGITS 4

typedef struct ff_col_def {
    const char *name; /* the SQL column name */
    ff_type type;
    bool nullable;       /* only price, quantity, revenue */
    const char *ch_type; /* the equivalent ClickHouse column type, for DDL and DESCRIBE */
} ff_col_def;

/* A borrowed byte string (may contain NUL; not NUL-terminated). */
typedef struct ff_str {
    const char *p;
    uint32_t len;
} ff_str;

/* One event. Index str[] and num[] by ff_col. */
typedef struct ff_row {
    ff_str str[FF_COL_COUNT];  /* string columns */
    int64_t num[FF_COL_COUNT]; /* numeric columns (UInt64 as its bit pattern) */
    ff_colset null;            /* nullable numeric columns that are NULL */
} ff_row;

/* ---- schema ---------------------------------------------------------------------------- */

/* The definition of column c (c < FF_COL_COUNT), never NULL. */
const ff_col_def *ff_schema_col(ff_col c);
/* The id of the column named name[0..len), or -1. */
int ff_schema_find(const char *name, size_t len);

static inline bool ff_type_is_str(ff_type t)
{
    return t == FF_TYPE_STRING || t == FF_TYPE_LOWCARD;
}

/* ---- rows ------------------------------------------------------------------------------ */

/* Every string '', every number 0, every nullable column NULL. */
void ff_row_clear(ff_row *r);
/* The sort person: user_id when non-empty, else anonymous_id. */
ff_str ff_row_person(const ff_row *r);
/* Byte-wise comparison (memcmp order, a prefix sorts first): <0, 0, >0. */
int ff_str_cmp(const char *a, size_t a_len, const char *b, size_t b_len);
/* The part sort order: (person, ts, log_offset). */
int ff_row_cmp(const ff_row *a, const ff_row *b);

/* Build a row from one canonical log record (compact JSON). log_offset is the record's offset
 * in the event log. Strings go to arena. FF_EBADINPUT for a record that cannot be a row (see
 * INVARIANTS (3)), FF_ELIMIT/FF_ENOMEM when memory runs out. */
ff_rc ff_row_from_record(const char *rec, size_t len, uint64_t log_offset, ff_arena *arena,
                         ff_row *out, ff_err *err);

/* Build a row from one line of the Taobao UserBehavior CSV ("user,item,category,behavior,ts",
 * a trailing "\r" or "\n" is allowed): user_id = user, product_id = item, category = category,
 * event = product_viewed | product_added | product_added_to_wishlist | order_completed for
 * pv | cart | fav | buy (event_original keeps the code), type = track, ts = received_at =
 * seconds * 1000, and event_id = a UUIDv7 made of ts and a hash of (line, log_offset), as the
 * collector would assign one. For tests and benchmarks. FF_EBADINPUT for a malformed line. */
ff_rc ff_row_from_taobao(const char *line, size_t len, uint64_t log_offset, ff_arena *arena,
                         ff_row *out, ff_err *err);

/* ---- decimals -------------------------------------------------------------------------- */

/* Parse decimal text (JSON number grammar: -?digits[.digits][(e|E)[+-]digits]) exactly into
 * units of 10^-4, rounding half-even past 4 fraction digits (*rounded tells). FF_EBADINPUT on
 * bad syntax, FF_ELIMIT when the value does not fit in int64 units. */
ff_rc ff_decimal_parse(const char *s, size_t len, int64_t *units_out, bool *rounded);
/* Minimal text for units: "19.99", "-0.5", "20". buf needs 24 bytes; returns the length. */
size_t ff_decimal_format(int64_t units, char *buf);

#endif /* FF_SCHEMA_H */
