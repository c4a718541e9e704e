/* ff_sql_exec.h -- run a parsed query over a table snapshot; results and output formats.
 *
 * WHAT: ff_sql_query parses, binds, plans and executes one SELECT over the `events` table (an
 * ff_table_snapshot) or over a subquery in FROM, and returns a materialised result (typed
 * columns, rows of values, statistics). ff_sql_result_write renders it as ClickHouse's JSON
 * output, CSVWithNames or an aligned text table.
 *
 * DESIGN: the scan reads one block (ff_part_read) at a time into a per-block arena. WHERE
 * conjuncts that compare a table column with a constant prune whole blocks by their zone maps
 * before any chunk is read (ts ranges, equality, IN). The WHERE filter produces a selection
 * vector of the block's rows; SELECT expressions, group keys and aggregate arguments are then
 * evaluated over the selected rows (an interpreter over the bound expression tree, one value at
 * a time; simple column-vs-constant predicates run as tight loops over the column vectors, and
 * toDate/toStartOfHour-like functions of ts and comparisons of them are computed per block into
 * int64 vectors). Aggregation is a hash aggregation keyed by the serialised group-key values
 * (one integer/time key: by the int64; a row whose key columns equal the previous row's joins
 * its group without hashing). An aggregation over the table that reads >= par_min_rows rows
 * runs on opts->threads workers, each over a contiguous range of blocks with its own arenas and
 * group table, merged into the first in range order (same results as one thread). ORDER BY sorts
 * the materialised rows (stable, multi-key); LIMIT/OFFSET cut them. A FROM subquery is run
 * first and its rows feed the outer query as the source.
 *
 * Semantics (docs/sql.md "Execution" lists them in full):
 *  - NULL: only price, quantity and revenue can be NULL. count(x) skips NULLs; sum/avg/min/
 *    max/any of a Nullable argument that saw no non-NULL value return NULL (ClickHouse's Null
 *    combinator); avg over no rows of a non-Nullable argument is nan.
 *  - uniq is HyperLogLog with 2^12 registers (standard error 1.04/sqrt(4096) = 1.6%);
 *    uniqExact is exact (integers by value, strings by XXH3-128, collisions negligible).
 *  - quantile(p)(x) is exact with ClickHouse's linear interpolation (identical to ClickHouse's
 *    reservoir below 8192 values); topK(k)(x) counts exactly (ties by first appearance).
 *  - windowFunnel: the timestamp argument may be ts (DateTime64(3): the window is then in
 *    milliseconds, as with toUnixTimestamp64Milli(ts)), a DateTime (seconds) or an integer.
 *  - toStartOfWeek defaults to mode 0 (weeks start on Sunday), as ClickHouse; mode 1 and
 *    toMonday give Monday. toDayOfWeek: Monday = 1 .. Sunday = 7. dateDiff('week') counts
 *    Monday-based week boundaries.
 *  - Types: Decimal(18, 4) columns stay Decimal under + and - and * integer; sum(Decimal) is
 *    Decimal(38, 4); Decimal * Decimal and Decimal / x are Float64 (ClickHouse keeps Decimal
 *    with a larger scale). Integer arithmetic is 64-bit and wraps.
 *  - windowFunnel modes: default, 'strict_order', 'strict_increase', 'strict_deduplication'
 *    (a repeated condition of a reached level stops the scan: the result is the highest level
 *    reached), 'strict_once' (ClickHouse's chain-per-level algorithm, a row used once per chain)
 *    and 'allow_reentry' (with strict_order). sequenceMatch/sequenceCount follow ClickHouse's
 *    AggregateFunctionSequenceMatch (only rows meeting a condition are events; DFA without time
 *    conditions, backtracking with a 1,000,000-step cap otherwise).
 *  - SELECT DISTINCT dedupes the selected tuples before ORDER BY/LIMIT; x IN (SELECT ...) runs
 *    the subquery once at bind time into a hash set (not used for zone pruning).
 *  - Not supported yet (clean not_supported error with the position): tuple literals outside
 *    IN, nested or NULL-holding array literals, toStartOfInterval, agg(DISTINCT x) other than
 *    count. JSON functions read top-level keys only.
 *  - Time zones: a time function's constant zone argument (any IANA name, core/ff_tz.h), else
 *    the zone of its first argument's DateTime type, else UTC; resolved when binding (unknown:
 *    unknown_time_zone at the argument). Zoned DateTime types print as wall times.
 *  - tests/sql/run_diff.py compares all this with ClickHouse 18.16 (docs/sql.md, "Differential
 *    tests").
 *  - Vectorised parts: a WHERE that is a conjunction of column-vs-constant comparisons (=, !=,
 *    <, <=, >, >=, IN on numeric, time and string columns) runs as loops over the column
 *    vectors (dictionary columns matched once per dictionary entry); GROUP BY one dictionary
 *    column maps codes to groups once per block; toDate, toDateTime, toStartOf{Minute,Hour,Day}
 *    of ts, comparisons of such values and of integer/time columns, and string column = / !=
 *    constant are computed per block. Everything else is interpreted per row over the
 *    selection vector.
 *  - Threads: merges keep results identical to one thread's (group order included), except the
 *    last bits of sum/avg over Float64 values, added in another order (avg of integers and
 *    Decimals keeps an exact 128-bit sum).
 *  - Memory: the cap applies to the query's plan/group/result arena and, per block, to the
 *    scratch arena (given what the first does not use). The result is copied out uncapped.
 *    Sorting and output formatting do not check the timeout.
 *
 * INVARIANTS: FF_OK means *out is a complete result; any error leaves *out NULL and err
 * filled (positions point into the query when the problem is in the text). Memory of one
 * query, all its threads together, is bounded by opts->mem_cap ("memory limit exceeded (N
 * bytes)", FF_ELIMIT) and time by opts->timeout_ms, checked per block ("timeout after N ms",
 * FF_ELIMIT). With threads, the first error in block order is the query's; it stops the other
 * workers at their next block.
 *
 * THREADING: reentrant. An aggregation scan may start opts->threads - 1 worker threads, joined
 * before ff_sql_query returns; they only read the snapshot's parts (ff_part is safe for
 * concurrent readers) and the shared plan.
 * OWNERSHIP: the snapshot is borrowed for the call; the result owns all its memory (free it
 * with ff_sql_result_free).
 */
#ifndef FF_SQL_EXEC_H
#define FF_SQL_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_err.h"
#include "core/ff_tz.h"
#include "sql/ff_sql.h"
#include "store/ff_table.h"

typedef struct ff_sql_exec_opts {
    size_t mem_cap;        /* bytes for the whole query; 0 = 1 GiB */
    uint32_t timeout_ms;   /* 0 = none */
    uint32_t threads;      /* workers of an aggregation scan; 0 = the CPUs this process may run
                              on (sched_getaffinity), at most 8; 1 = the calling thread only */
    int64_t now_ms;        /* now()/today(); 0 = the clock */
    uint64_t par_min_rows; /* scans of fewer rows (after pruning) use one thread; 0 = 100000 */
} ff_sql_exec_opts;

/* Value tags. */
typedef enum ff_sql_vt {
    FF_SQL_V_NULL = 0,
    FF_SQL_V_I64,      /* Int64 */
    FF_SQL_V_U64,      /* UInt8/16/32/64 */
    FF_SQL_V_F64,      /* Float64 */
    FF_SQL_V_DEC,      /* Decimal: i = units of 10^-4 */
    FF_SQL_V_STR,      /* s, len */
    FF_SQL_V_DATE,     /* i = days since 1970-01-01 */
    FF_SQL_V_DATETIME, /* i = seconds */
    FF_SQL_V_DT64,     /* i = milliseconds (DateTime64(3)) */
    FF_SQL_V_INTERVAL, /* i = count, len = unit (1 second .. 8 year) */
    FF_SQL_V_ARRAY,    /* a[len] */
} ff_sql_vt;

typedef struct ff_sql_value {
    uint8_t t; /* ff_sql_vt */
    uint32_t len;
    union {
        int64_t i;
        uint64_t u;
        double f;
        const char *s;
        const struct ff_sql_value *a;
    } v;
} ff_sql_value;

typedef struct ff_sql_result_col {
    char *name;      /* alias, else ff_sql_column_name */
    char *type;      /* ClickHouse type name, e.g. "UInt64", "Nullable(Decimal(18, 4))" */
    uint8_t vt;      /* ff_sql_vt of non-NULL values */
    const ff_tz *tz; /* DateTime/DateTime64 with a zone (printed as its wall time);
                               NULL = UTC. Owned by ff_tz's cache: valid until exit */
} ff_sql_result_col;

typedef struct ff_sql_result {
    uint32_t n_cols;
    uint64_t n_rows;
    ff_sql_result_col *cols;
    ff_sql_value *rows; /* n_rows * n_cols, row-major */
    double elapsed_s;
    uint64_t rows_read;  /* rows of the blocks read (pruned blocks are not counted) */
    uint64_t bytes_read; /* decoded bytes of the columns read */
    uint64_t blocks_read, blocks_pruned;
    uint32_t threads; /* threads the largest scan of the query ran on (1 = not parallel) */
    ff_arena arena;   /* owns everything above */
} ff_sql_result;

ff_rc ff_sql_query(const char *sql, size_t len, const ff_table_snapshot *snap,
                   const ff_sql_exec_opts *opts, ff_sql_result **out, ff_sql_error *err);

/* Value of row r, column c. */
static inline const ff_sql_value *ff_sql_result_at(const ff_sql_result *r, uint64_t row, uint32_t c)
{
    return &r->rows[row * r->n_cols + c];
}

/* format: "json" (ClickHouse JSON: meta, data, rows, statistics; 64-bit integers quoted as
 * ClickHouse's output_format_json_quote_64bit_integers=1 does), "csv" (CSVWithNames: a header
 * line of names, strings always quoted with "" doubling, NULL as \N, lines end in \n as
 * ClickHouse writes them) or "table" (aligned text). FF_EINVAL for another format. */
ff_rc ff_sql_result_write(const ff_sql_result *res, const char *format, ff_buf *out);
/* One value as ClickHouse prints it in text formats (no quoting); times in UTC. */
ff_rc ff_sql_value_text(const ff_sql_value *v, ff_buf *out);
/* The same with times as wall times of zone tz (NULL = UTC). */
ff_rc ff_sql_value_text_tz(const ff_sql_value *v, const ff_tz *tz, ff_buf *out);
void ff_sql_result_free(ff_sql_result *res); /* NULL is a no-op */

#endif /* FF_SQL_EXEC_H */
