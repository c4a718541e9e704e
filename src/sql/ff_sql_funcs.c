/* ff_sql_funcs.c -- the function catalogue: one row per function.
 *
 * WHAT: everything the front end and the planner need to know about a
 * function before running it: its ClickHouse name and case rule, aggregate or
 * scalar, argument and parameter counts, the rule giving its result type, and
 * any extra check of its literal parameters. docs/sql.md describes every row
 * (a unit test checks that each name appears there).
 *
 * DESIGN: a const table indexed by ff_sql_func_id (designated initialisers,
 * so an id can never point at the wrong row). Name resolution follows
 * ClickHouse: an exact, case-sensitive match first; then the names ClickHouse
 * registers case-insensitively (count, sum, avg, min, max, if, coalesce,
 * lower, upper, length, concat, now, dateDiff, round ...); then the -If
 * combinator on any aggregate (countIf, sumIf, uniqIf, quantileIf ...), which
 * adds a UInt8 condition as the last argument.
 *
 * THREADING: read-only data, safe everywhere. OWNERSHIP: nothing allocated,
 * except ff_sql_type_name which appends to the caller's buffer.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "sql/ff_sql_int.h"

#define MANY FF_SQL_ARGS_MANY
#define AGGR FF_SQL_FUNC_AGGREGATE
#define CI FF_SQL_FUNC_CI
#define OP FF_SQL_FUNC_OPERATOR
#define NOK FF_SQL_FUNC_NULLS_OK
#define VOL FF_SQL_FUNC_VOLATILE

#define F(id, nm, amin, amax, pmin, pmax, fl, rt, rty, chk, syn, sum)                              \
    [id] = {nm,  amin, amax, pmin, pmax, fl, FF_SQL_RET_##rt, FF_SQL_T_##rty, FF_SQL_CHECK_##chk,  \
            syn, sum}

const ff_sql_func ff_sql_funcs[FF_SQL_FN_COUNT_] = {
    /* ---- aggregates ---- */
    F(FF_SQL_FN_COUNT, "count", 0, 1, 0, 0, AGGR | CI | NOK, FIXED, UINT64, NONE,
      "count() | count(x) | count(DISTINCT x)", "rows, or rows where x is not NULL"),
    F(FF_SQL_FN_SUM, "sum", 1, 1, 0, 0, AGGR | CI, SUM, UNKNOWN, NONE, "sum(x)", "sum of x"),
    F(FF_SQL_FN_AVG, "avg", 1, 1, 0, 0, AGGR | CI, FIXED, FLOAT64, NONE, "avg(x)",
      "arithmetic mean of x"),
    F(FF_SQL_FN_MIN, "min", 1, 1, 0, 0, AGGR | CI, ARG0, UNKNOWN, NONE, "min(x)", "smallest x"),
    F(FF_SQL_FN_MAX, "max", 1, 1, 0, 0, AGGR | CI, ARG0, UNKNOWN, NONE, "max(x)", "largest x"),
    F(FF_SQL_FN_ANY, "any", 1, 1, 0, 0, AGGR, ARG0, UNKNOWN, NONE, "any(x)",
      "the first x met (not deterministic)"),
    F(FF_SQL_FN_ANY_LAST, "anyLast", 1, 1, 0, 0, AGGR, ARG0, UNKNOWN, NONE, "anyLast(x)",
      "the last x met (not deterministic)"),
    F(FF_SQL_FN_ARG_MIN, "argMin", 2, 2, 0, 0, AGGR, ARG0, UNKNOWN, NONE, "argMin(arg, val)",
      "arg at the smallest val"),
    F(FF_SQL_FN_ARG_MAX, "argMax", 2, 2, 0, 0, AGGR, ARG0, UNKNOWN, NONE, "argMax(arg, val)",
      "arg at the largest val"),
    F(FF_SQL_FN_UNIQ, "uniq", 1, MANY, 0, 0, AGGR | NOK, FIXED, UINT64, NONE, "uniq(x, ...)",
      "approximate number of distinct values (adaptive sampling, ~1.6% error)"),
    F(FF_SQL_FN_UNIQ_EXACT, "uniqExact", 1, MANY, 0, 0, AGGR | NOK, FIXED, UINT64, NONE,
      "uniqExact(x, ...)", "exact number of distinct values"),
    F(FF_SQL_FN_QUANTILE, "quantile", 1, 1, 0, 1, AGGR, QUANTILE, UNKNOWN, QUANTILE,
      "quantile[(level)](x)", "approximate quantile (reservoir of 8192), level 0.5 by default"),
    F(FF_SQL_FN_QUANTILES, "quantiles", 1, 1, 1, 255, AGGR, QUANTILES, UNKNOWN, QUANTILE,
      "quantiles(level, ...)(x)", "several approximate quantiles as an array"),
    F(FF_SQL_FN_TOP_K, "topK", 1, 1, 0, 1, AGGR | NOK, ARRAY_ARG0, UNKNOWN, TOP_K, "topK[(k)](x)",
      "approximately the k most frequent values (k = 10 by default)"),
    F(FF_SQL_FN_GROUP_ARRAY, "groupArray", 1, 1, 0, 0, AGGR | NOK, ARRAY_ARG0, UNKNOWN, NONE,
      "groupArray(x)", "all values as an array"),
    F(FF_SQL_FN_WINDOW_FUNNEL, "windowFunnel", 2, 33, 1, 6, AGGR | NOK, FIXED, UINT8, WINDOW_FUNNEL,
      "windowFunnel(window[, mode, ...])(timestamp, cond1, ..., condN)",
      "deepest funnel step reached inside the window (N <= 32)"),
    F(FF_SQL_FN_RETENTION, "retention", 1, 32, 0, 0, AGGR | NOK, ARRAY_FIXED, UINT8, NONE,
      "retention(cond1, ..., condN)", "[c1, c1 AND c2, ..., c1 AND cN] over the group's rows"),
    F(FF_SQL_FN_SEQUENCE_MATCH, "sequenceMatch", 3, 33, 1, 1, AGGR | NOK, FIXED, UINT8, SEQUENCE,
      "sequenceMatch(pattern)(timestamp, cond1, ..., condN)",
      "1 when the events match the pattern"),
    F(FF_SQL_FN_SEQUENCE_COUNT, "sequenceCount", 3, 33, 1, 1, AGGR | NOK, FIXED, UINT64, SEQUENCE,
      "sequenceCount(pattern)(timestamp, cond1, ..., condN)",
      "number of non-overlapping pattern matches"),
    F(FF_SQL_FN_SESSION_COUNT, "sessionCount", 1, 1, 1, 1, AGGR, FIXED, UINT64, SESSION,
      "sessionCount(gap_seconds)(timestamp)",
      "sessions in the group: runs of timestamps split where two neighbours are more than gap "
      "seconds apart (a Footfall extension)"),
    /* ---- operators ---- */
    F(FF_SQL_FN_PLUS, "plus", 2, 2, 0, 0, OP, ARITH, UNKNOWN, NONE, "a + b", "addition"),
    F(FF_SQL_FN_MINUS, "minus", 2, 2, 0, 0, OP, ARITH, UNKNOWN, NONE, "a - b", "subtraction"),
    F(FF_SQL_FN_MULTIPLY, "multiply", 2, 2, 0, 0, OP, ARITH, UNKNOWN, NONE, "a * b",
      "multiplication"),
    F(FF_SQL_FN_DIVIDE, "divide", 2, 2, 0, 0, OP, FIXED, FLOAT64, NONE, "a / b",
      "division, always Float64"),
    F(FF_SQL_FN_MODULO, "modulo", 2, 2, 0, 0, OP, ARITH, UNKNOWN, NONE, "a % b", "remainder"),
    F(FF_SQL_FN_INT_DIV, "intDiv", 2, 2, 0, 0, 0, ARITH, UNKNOWN, NONE, "intDiv(a, b)",
      "integer division rounding down"),
    F(FF_SQL_FN_NEGATE, "negate", 1, 1, 0, 0, OP, NEGATE, UNKNOWN, NONE, "-a", "negation"),
    F(FF_SQL_FN_EQUALS, "equals", 2, 2, 0, 0, OP, FIXED, UINT8, NONE, "a = b, a == b", "equal"),
    F(FF_SQL_FN_NOT_EQUALS, "notEquals", 2, 2, 0, 0, OP, FIXED, UINT8, NONE, "a != b, a <> b",
      "not equal"),
    F(FF_SQL_FN_LESS, "less", 2, 2, 0, 0, OP, FIXED, UINT8, NONE, "a < b", "less than"),
    F(FF_SQL_FN_GREATER, "greater", 2, 2, 0, 0, OP, FIXED, UINT8, NONE, "a > b", "greater than"),
    F(FF_SQL_FN_LESS_OR_EQUALS, "lessOrEquals", 2, 2, 0, 0, OP, FIXED, UINT8, NONE, "a <= b",
      "less or equal"),
    F(FF_SQL_FN_GREATER_OR_EQUALS, "greaterOrEquals", 2, 2, 0, 0, OP, FIXED, UINT8, NONE, "a >= b",
      "greater or equal"),
    F(FF_SQL_FN_AND, "and", 2, MANY, 0, 0, OP, FIXED, UINT8, NONE, "a AND b", "logical and"),
    F(FF_SQL_FN_OR, "or", 2, MANY, 0, 0, OP, FIXED, UINT8, NONE, "a OR b", "logical or"),
    F(FF_SQL_FN_NOT, "not", 1, 1, 0, 0, OP, FIXED, UINT8, NONE, "NOT a", "logical not"),
    F(FF_SQL_FN_LIKE, "like", 2, 2, 0, 0, OP, FIXED, UINT8, NONE, "s LIKE pattern",
      "pattern match, % and _ wildcards, case-sensitive"),
    F(FF_SQL_FN_NOT_LIKE, "notLike", 2, 2, 0, 0, OP, FIXED, UINT8, NONE, "s NOT LIKE pattern",
      "negated LIKE"),
    F(FF_SQL_FN_ILIKE, "ilike", 2, 2, 0, 0, OP, FIXED, UINT8, NONE, "s ILIKE pattern",
      "case-insensitive LIKE"),
    F(FF_SQL_FN_NOT_ILIKE, "notILike", 2, 2, 0, 0, OP, FIXED, UINT8, NONE, "s NOT ILIKE pattern",
      "negated ILIKE"),
    F(FF_SQL_FN_IN, "in", 2, 2, 0, 0, OP, FIXED, UINT8, NONE, "x IN (a, b, ...), x IN (SELECT ...)",
      "membership"),
    F(FF_SQL_FN_NOT_IN, "notIn", 2, 2, 0, 0, OP, FIXED, UINT8, NONE, "x NOT IN (...)",
      "negated membership"),
    F(FF_SQL_FN_IS_NULL, "isNull", 1, 1, 0, 0, OP | CI | NOK, FIXED, UINT8, NONE,
      "x IS NULL, isNull(x)", "1 when x is NULL"),
    F(FF_SQL_FN_IS_NOT_NULL, "isNotNull", 1, 1, 0, 0, OP | NOK, FIXED, UINT8, NONE,
      "x IS NOT NULL, isNotNull(x)", "1 when x is not NULL"),
    F(FF_SQL_FN_CONCAT, "concat", 1, MANY, 0, 0, OP | CI, FIXED, STRING, NONE,
      "concat(s, ...), s || t", "string concatenation"),
    F(FF_SQL_FN_ARRAY_ELEMENT, "arrayElement", 2, 2, 0, 0, OP, ELEMENT, UNKNOWN, NONE,
      "arr[i], arrayElement(arr, i)", "element i (1-based; negative counts from the end)"),
    F(FF_SQL_FN_TUPLE, "tuple", 1, MANY, 0, 0, OP, FIXED, TUPLE, NONE, "(a, b, ...), tuple(a, ...)",
      "a tuple"),
    F(FF_SQL_FN_ARRAY, "array", 0, MANY, 0, 0, OP, ARRAY_OF, UNKNOWN, NONE, "[a, b, ...]",
      "an array"),
    F(FF_SQL_FN_MULTI_IF, "multiIf", 3, MANY, 0, 0, 0, MULTI_IF, UNKNOWN, MULTI_IF,
      "multiIf(c1, v1, c2, v2, ..., else), CASE WHEN ... END", "first value whose condition holds"),
    F(FF_SQL_FN_CASE_WITH_EXPRESSION, "caseWithExpression", 4, MANY, 0, 0, 0, MULTI_IF, UNKNOWN,
      CASE_EXPR, "CASE x WHEN a THEN ... ELSE ... END", "value for the first WHEN equal to x"),
    /* ---- conditionals ---- */
    F(FF_SQL_FN_IF, "if", 3, 3, 0, 0, CI, IF, UNKNOWN, NONE, "if(cond, then, else)",
      "then when cond is non-zero, else otherwise"),
    F(FF_SQL_FN_COALESCE, "coalesce", 1, MANY, 0, 0, CI | NOK, COMMON, UNKNOWN, NONE,
      "coalesce(x, ...)", "first argument that is not NULL"),
    F(FF_SQL_FN_IF_NULL, "ifNull", 2, 2, 0, 0, CI | NOK, COMMON, UNKNOWN, NONE, "ifNull(x, alt)",
      "x, or alt when x is NULL"),
    /* ---- intervals ---- */
    F(FF_SQL_FN_TO_INTERVAL_SECOND, "toIntervalSecond", 1, 1, 0, 0, 0, INTERVAL, INTERVAL, NONE,
      "INTERVAL n SECOND", "an interval of n seconds"),
    F(FF_SQL_FN_TO_INTERVAL_MINUTE, "toIntervalMinute", 1, 1, 0, 0, 0, INTERVAL, INTERVAL, NONE,
      "INTERVAL n MINUTE", "an interval of n minutes"),
    F(FF_SQL_FN_TO_INTERVAL_HOUR, "toIntervalHour", 1, 1, 0, 0, 0, INTERVAL, INTERVAL, NONE,
      "INTERVAL n HOUR", "an interval of n hours"),
    F(FF_SQL_FN_TO_INTERVAL_DAY, "toIntervalDay", 1, 1, 0, 0, 0, INTERVAL, INTERVAL, NONE,
      "INTERVAL n DAY", "an interval of n days"),
    F(FF_SQL_FN_TO_INTERVAL_WEEK, "toIntervalWeek", 1, 1, 0, 0, 0, INTERVAL, INTERVAL, NONE,
      "INTERVAL n WEEK", "an interval of n weeks"),
    F(FF_SQL_FN_TO_INTERVAL_MONTH, "toIntervalMonth", 1, 1, 0, 0, 0, INTERVAL, INTERVAL, NONE,
      "INTERVAL n MONTH", "an interval of n months"),
    F(FF_SQL_FN_TO_INTERVAL_QUARTER, "toIntervalQuarter", 1, 1, 0, 0, 0, INTERVAL, INTERVAL, NONE,
      "INTERVAL n QUARTER", "an interval of n quarters"),
    F(FF_SQL_FN_TO_INTERVAL_YEAR, "toIntervalYear", 1, 1, 0, 0, 0, INTERVAL, INTERVAL, NONE,
      "INTERVAL n YEAR", "an interval of n years"),
    /* ---- date and time ---- */
    F(FF_SQL_FN_NOW, "now", 0, 1, 0, 0, CI | VOL, FIXED, DATETIME, NONE, "now([tz])",
      "the query's start time (one value per query)"),
    F(FF_SQL_FN_TODAY, "today", 0, 0, 0, 0, VOL, FIXED, DATE, NONE, "today()",
      "the query's start date"),
    F(FF_SQL_FN_TO_DATE, "toDate", 1, 2, 0, 0, 0, FIXED, DATE, NONE, "toDate(x[, tz])",
      "date of a time, a 'YYYY-MM-DD' string or a day number"),
    F(FF_SQL_FN_TO_DATE_TIME, "toDateTime", 1, 2, 0, 0, 0, FIXED, DATETIME, NONE,
      "toDateTime(x[, tz])", "time in seconds from a date, string or Unix time"),
    F(FF_SQL_FN_TO_START_OF_MINUTE, "toStartOfMinute", 1, 2, 0, 0, 0, TIME_ARG0, UNKNOWN, NONE,
      "toStartOfMinute(t[, tz])", "t rounded down to the minute"),
    F(FF_SQL_FN_TO_START_OF_HOUR, "toStartOfHour", 1, 2, 0, 0, 0, TIME_ARG0, UNKNOWN, NONE,
      "toStartOfHour(t[, tz])", "t rounded down to the hour"),
    F(FF_SQL_FN_TO_START_OF_DAY, "toStartOfDay", 1, 2, 0, 0, 0, TIME_ARG0, UNKNOWN, NONE,
      "toStartOfDay(t[, tz])", "t rounded down to midnight"),
    F(FF_SQL_FN_TO_START_OF_WEEK, "toStartOfWeek", 1, 3, 0, 0, 0, FIXED, DATE, NONE,
      "toStartOfWeek(t[, mode][, tz])", "the Sunday (mode 0) or Monday (mode 1) on or before t"),
    F(FF_SQL_FN_TO_MONDAY, "toMonday", 1, 2, 0, 0, 0, FIXED, DATE, NONE, "toMonday(t[, tz])",
      "the Monday on or before t"),
    F(FF_SQL_FN_TO_START_OF_MONTH, "toStartOfMonth", 1, 2, 0, 0, 0, FIXED, DATE, NONE,
      "toStartOfMonth(t[, tz])", "the first day of t's month"),
    F(FF_SQL_FN_TO_START_OF_INTERVAL, "toStartOfInterval", 2, 3, 0, 0, 0, TIME_ARG0, UNKNOWN,
      INTERVAL_ARG1, "toStartOfInterval(t, INTERVAL n unit[, tz])",
      "t rounded down to a multiple of the interval"),
    F(FF_SQL_FN_TO_HOUR, "toHour", 1, 2, 0, 0, 0, FIXED, UINT8, NONE, "toHour(t[, tz])",
      "hour 0-23"),
    F(FF_SQL_FN_TO_DAY_OF_WEEK, "toDayOfWeek", 1, 3, 0, 0, 0, FIXED, UINT8, NONE,
      "toDayOfWeek(t[, mode][, tz])", "day of the week, Monday = 1 .. Sunday = 7 (mode 0)"),
    F(FF_SQL_FN_TO_DAY_OF_MONTH, "toDayOfMonth", 1, 2, 0, 0, 0, FIXED, UINT8, NONE,
      "toDayOfMonth(t[, tz])", "day of the month 1-31"),
    F(FF_SQL_FN_TO_MONTH, "toMonth", 1, 2, 0, 0, 0, FIXED, UINT8, NONE, "toMonth(t[, tz])",
      "month 1-12"),
    F(FF_SQL_FN_TO_YEAR, "toYear", 1, 2, 0, 0, 0, FIXED, UINT16, NONE, "toYear(t[, tz])", "year"),
    F(FF_SQL_FN_TO_UNIX_TIMESTAMP, "toUnixTimestamp", 1, 2, 0, 0, 0, FIXED, UINT32, NONE,
      "toUnixTimestamp(t[, tz])", "seconds since 1970-01-01 UTC"),
    F(FF_SQL_FN_TO_UNIX_TIMESTAMP64_MILLI, "toUnixTimestamp64Milli", 1, 1, 0, 0, 0, FIXED, INT64,
      NONE, "toUnixTimestamp64Milli(t64)", "milliseconds since 1970-01-01 UTC"),
    F(FF_SQL_FN_FROM_UNIX_TIMESTAMP64_MILLI, "fromUnixTimestamp64Milli", 1, 2, 0, 0, 0, FIXED,
      DATETIME64, NONE, "fromUnixTimestamp64Milli(ms[, tz])", "DateTime64(3) from milliseconds"),
    F(FF_SQL_FN_DATE_DIFF, "dateDiff", 3, 4, 0, 0, CI, FIXED, INT64, DATE_DIFF,
      "dateDiff('unit', start, end[, tz])", "number of unit boundaries crossed from start to end"),
    /* ---- strings ---- */
    F(FF_SQL_FN_LOWER, "lower", 1, 1, 0, 0, CI, FIXED, STRING, NONE, "lower(s)",
      "ASCII lower case"),
    F(FF_SQL_FN_UPPER, "upper", 1, 1, 0, 0, CI, FIXED, STRING, NONE, "upper(s)",
      "ASCII upper case"),
    F(FF_SQL_FN_LENGTH, "length", 1, 1, 0, 0, CI, FIXED, UINT64, NONE, "length(s | arr)",
      "bytes in a string, elements in an array"),
    F(FF_SQL_FN_SUBSTRING, "substring", 2, 3, 0, 0, CI, FIXED, STRING, NONE,
      "substring(s, offset[, length])", "bytes from a 1-based offset"),
    F(FF_SQL_FN_POSITION, "position", 2, 3, 0, 0, CI, FIXED, UINT64, NONE,
      "position(haystack, needle[, start])", "1-based byte position of needle, 0 if absent"),
    F(FF_SQL_FN_STARTS_WITH, "startsWith", 2, 2, 0, 0, 0, FIXED, UINT8, NONE,
      "startsWith(s, prefix)", "1 when s starts with prefix"),
    F(FF_SQL_FN_ENDS_WITH, "endsWith", 2, 2, 0, 0, 0, FIXED, UINT8, NONE, "endsWith(s, suffix)",
      "1 when s ends with suffix"),
    F(FF_SQL_FN_EMPTY, "empty", 1, 1, 0, 0, 0, FIXED, UINT8, NONE, "empty(s | arr)",
      "1 for an empty string or array"),
    F(FF_SQL_FN_NOT_EMPTY, "notEmpty", 1, 1, 0, 0, 0, FIXED, UINT8, NONE, "notEmpty(s | arr)",
      "1 for a non-empty string or array"),
    /* ---- JSON ---- */
    F(FF_SQL_FN_JSON_EXTRACT_STRING, "JSONExtractString", 1, MANY, 0, 0, 0, FIXED, STRING, NONE,
      "JSONExtractString(json, key, ...)", "string at the path, '' when absent or not a string"),
    F(FF_SQL_FN_JSON_EXTRACT_FLOAT, "JSONExtractFloat", 1, MANY, 0, 0, 0, FIXED, FLOAT64, NONE,
      "JSONExtractFloat(json, key, ...)", "number at the path, 0 when absent or not a number"),
    F(FF_SQL_FN_JSON_EXTRACT_INT, "JSONExtractInt", 1, MANY, 0, 0, 0, FIXED, INT64, NONE,
      "JSONExtractInt(json, key, ...)", "integer at the path, 0 when absent"),
    F(FF_SQL_FN_JSON_EXTRACT_BOOL, "JSONExtractBool", 1, MANY, 0, 0, 0, FIXED, UINT8, NONE,
      "JSONExtractBool(json, key, ...)", "boolean at the path, 0 when absent"),
    F(FF_SQL_FN_JSON_EXTRACT_RAW, "JSONExtractRaw", 1, MANY, 0, 0, 0, FIXED, STRING, NONE,
      "JSONExtractRaw(json, key, ...)", "the JSON text at the path, '' when absent"),
    F(FF_SQL_FN_JSON_HAS, "JSONHas", 1, MANY, 0, 0, 0, FIXED, UINT8, NONE,
      "JSONHas(json, key, ...)", "1 when the path exists"),
    /* ---- conversions and arithmetic ---- */
    F(FF_SQL_FN_TO_STRING, "toString", 1, 2, 0, 0, 0, FIXED, STRING, NONE, "toString(x[, tz])",
      "text form of x"),
    F(FF_SQL_FN_TO_INT64, "toInt64", 1, 1, 0, 0, 0, FIXED, INT64, NONE, "toInt64(x)",
      "x as Int64 (strings parsed, floats truncated)"),
    F(FF_SQL_FN_TO_UINT64, "toUInt64", 1, 1, 0, 0, 0, FIXED, UINT64, NONE, "toUInt64(x)",
      "x as UInt64"),
    F(FF_SQL_FN_TO_FLOAT64, "toFloat64", 1, 1, 0, 0, 0, FIXED, FLOAT64, NONE, "toFloat64(x)",
      "x as Float64"),
    F(FF_SQL_FN_ROUND, "round", 1, 2, 0, 0, CI, ARG0, UNKNOWN, NONE, "round(x[, digits])",
      "x rounded half to even at digits decimals (floats), half away from zero (integers)"),
    F(FF_SQL_FN_FLOOR, "floor", 1, 2, 0, 0, CI, ARG0, UNKNOWN, NONE, "floor(x[, digits])",
      "x rounded down"),
    F(FF_SQL_FN_CEIL, "ceil", 1, 2, 0, 0, CI, ARG0, UNKNOWN, NONE, "ceil(x[, digits])",
      "x rounded up"),
    F(FF_SQL_FN_ABS, "abs", 1, 1, 0, 0, CI, ABS, UNKNOWN, NONE, "abs(x)", "absolute value"),
    F(FF_SQL_FN_GREATEST, "greatest", 2, MANY, 0, 0, CI, COMMON, UNKNOWN, NONE,
      "greatest(a, b, ...)", "largest argument"),
    F(FF_SQL_FN_LEAST, "least", 2, MANY, 0, 0, CI, COMMON, UNKNOWN, NONE, "least(a, b, ...)",
      "smallest argument"),
    /* ---- arrays ---- */
    F(FF_SQL_FN_HAS, "has", 2, 2, 0, 0, 0, FIXED, UINT8, NONE, "has(arr, x)",
      "1 when arr contains x"),
};

const ff_sql_func *ff_sql_func_get(ff_sql_func_id id)
{
    if (id <= FF_SQL_FN_UNKNOWN || id >= FF_SQL_FN_COUNT_)
        return NULL;
    return &ff_sql_funcs[id];
}

static ff_sql_func_id lookup_plain(const char *name, size_t len)
{
    for (int i = 1; i < FF_SQL_FN_COUNT_; i++) {
        const char *n = ff_sql_funcs[i].name;
        if (n && strlen(n) == len && memcmp(n, name, len) == 0)
            return (ff_sql_func_id)i;
    }
    for (int i = 1; i < FF_SQL_FN_COUNT_; i++) {
        const char *n = ff_sql_funcs[i].name;
        if (n && (ff_sql_funcs[i].flags & FF_SQL_FUNC_CI) && strlen(n) == len &&
            strncasecmp(n, name, len) == 0)
            return (ff_sql_func_id)i;
    }
    return FF_SQL_FN_UNKNOWN;
}

ff_sql_func_id ff_sql_func_lookup(const char *name, size_t len, bool *is_if)
{
    *is_if = false;
    ff_sql_func_id id = lookup_plain(name, len);
    if (id != FF_SQL_FN_UNKNOWN)
        return id;
    if (len > 2 && memcmp(name + len - 2, "If", 2) == 0) {
        id = lookup_plain(name, len - 2);
        if (id != FF_SQL_FN_UNKNOWN && (ff_sql_funcs[id].flags & FF_SQL_FUNC_AGGREGATE)) {
            *is_if = true;
            return id;
        }
    }
    return FF_SQL_FN_UNKNOWN;
}

/* Optimal string alignment distance, ASCII case folded; stops at 3. */
static int osa_distance(const char *a, size_t na, const char *b, size_t nb)
{
    if (na > 40 || nb > 40)
        return 99;
    int d[41][41];
    for (size_t i = 0; i <= na; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        for (size_t j = 1; j <= nb; j++) {
            char ca = a[i - 1], cb = b[j - 1];
            if (ca >= 'A' && ca <= 'Z')
                ca = (char)(ca + 32);
            if (cb >= 'A' && cb <= 'Z')
                cb = (char)(cb + 32);
            int cost = ca != cb;
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1) {
                char pa = a[i - 2], pb = b[j - 2];
                if (pa >= 'A' && pa <= 'Z')
                    pa = (char)(pa + 32);
                if (pb >= 'A' && pb <= 'Z')
                    pb = (char)(pb + 32);
                if (ca == pb && pa == cb && d[i - 2][j - 2] + 1 < v)
                    v = d[i - 2][j - 2] + 1;
            }
            d[i][j] = v;
        }
    }
    return d[na][nb];
}

const char *ff_sql_func_suggest(const char *name, size_t len)
{
    /* Operators have syntax of their own; suggesting them would confuse. */
    const char *best = NULL;
    int best_d = 3;
    for (int i = 1; i < FF_SQL_FN_COUNT_; i++) {
        const ff_sql_func *f = &ff_sql_funcs[i];
        if (!f->name || (f->flags & FF_SQL_FUNC_OPERATOR))
            continue;
        int d = osa_distance(name, len, f->name, strlen(f->name));
        int limit = len <= 3 ? 1 : 2;
        if (d <= limit && d < best_d) {
            best_d = d;
            best = f->name;
        }
    }
    return best;
}

/* ---- types ------------------------------------------------------------- */

static ff_sql_type ty(uint8_t id)
{
    ff_sql_type t = {id, 0, 0, 0};
    return t;
}

static bool is_uint(uint8_t id)
{
    return id == FF_SQL_T_BOOL || id == FF_SQL_T_UINT8 || id == FF_SQL_T_UINT16 ||
           id == FF_SQL_T_UINT32 || id == FF_SQL_T_UINT64;
}

static bool is_number(uint8_t id)
{
    return is_uint(id) || id == FF_SQL_T_INT64 || id == FF_SQL_T_FLOAT64;
}

static bool is_time(uint8_t id)
{
    return id == FF_SQL_T_DATE || id == FF_SQL_T_DATETIME || id == FF_SQL_T_DATETIME64;
}

/* Common supertype (a simplification of ClickHouse's getLeastSupertype). */
static ff_sql_type supertype(ff_sql_type a, ff_sql_type b)
{
    ff_sql_type r;
    if (a.id == FF_SQL_T_NOTHING) {
        r = b;
        r.nullable = 1;
        return r;
    }
    if (b.id == FF_SQL_T_NOTHING) {
        r = a;
        r.nullable = 1;
        return r;
    }
    uint8_t nullable = a.nullable | b.nullable;
    if (a.id == FF_SQL_T_UNKNOWN || b.id == FF_SQL_T_UNKNOWN)
        r = ty(FF_SQL_T_UNKNOWN);
    else if (a.id == b.id && a.elem == b.elem && a.unit == b.unit)
        r = a;
    else if (is_number(a.id) && is_number(b.id)) {
        if (a.id == FF_SQL_T_FLOAT64 || b.id == FF_SQL_T_FLOAT64)
            r = ty(FF_SQL_T_FLOAT64);
        else if (a.id == FF_SQL_T_INT64 || b.id == FF_SQL_T_INT64)
            r = ty(FF_SQL_T_INT64);
        else
            r = ty(a.id > b.id ? a.id : b.id); /* UInt widths are ordered */
    } else if (is_time(a.id) && is_time(b.id)) {
        r = ty(a.id > b.id ? a.id : b.id); /* Date < DateTime < DateTime64 */
    } else {
        r = ty(FF_SQL_T_UNKNOWN);
    }
    r.nullable = nullable;
    return r;
}

static ff_sql_type arith(ff_sql_func_id f, ff_sql_type a, ff_sql_type b)
{
    if (f == FF_SQL_FN_PLUS || f == FF_SQL_FN_MINUS) {
        if (is_time(a.id) && b.id == FF_SQL_T_INTERVAL)
            return a;
        if (f == FF_SQL_FN_PLUS && a.id == FF_SQL_T_INTERVAL && is_time(b.id))
            return b;
        if (f == FF_SQL_FN_MINUS && is_time(a.id) && a.id == b.id)
            return ty(FF_SQL_T_INT64); /* difference in days or seconds */
    }
    if (!is_number(a.id) || !is_number(b.id))
        return ty(FF_SQL_T_UNKNOWN);
    if (a.id == FF_SQL_T_FLOAT64 || b.id == FF_SQL_T_FLOAT64)
        return ty(FF_SQL_T_FLOAT64);
    if (f == FF_SQL_FN_MINUS || a.id == FF_SQL_T_INT64 || b.id == FF_SQL_T_INT64)
        return ty(FF_SQL_T_INT64);
    return ty(FF_SQL_T_UINT64);
}

static ff_sql_type quantile_of(ff_sql_type a)
{
    if (is_time(a.id))
        return ty(a.id);
    return ty(FF_SQL_T_FLOAT64);
}

ff_sql_type ff_sql_func_result_type(ff_sql_func_id func, uint16_t flags, const ff_sql_type *args,
                                    uint32_t n_args)
{
    const ff_sql_func *f = ff_sql_func_get(func);
    ff_sql_type unknown = ty(FF_SQL_T_UNKNOWN);
    if (!f)
        return unknown;
    bool agg = f->flags & FF_SQL_FUNC_AGGREGATE;
    if (agg && (flags & FF_SQL_NF_IF) && n_args > 0)
        n_args--; /* the combinator's condition does not shape the result */
    if (func == FF_SQL_FN_COUNT && (flags & FF_SQL_NF_DISTINCT))
        return ty(FF_SQL_T_UINT64);
    ff_sql_type a0 = n_args > 0 ? args[0] : unknown;
    ff_sql_type r = unknown;
    switch ((ff_sql_ret)f->ret) {
    case FF_SQL_RET_FIXED:
        r = ty(f->ret_type);
        break;
    case FF_SQL_RET_ARG0:
        r = a0;
        r.nullable = 0;
        break;
    case FF_SQL_RET_ARRAY_ARG0:
        r = ty(FF_SQL_T_ARRAY);
        r.elem = a0.id;
        break;
    case FF_SQL_RET_ARRAY_FIXED:
        r = ty(FF_SQL_T_ARRAY);
        r.elem = f->ret_type;
        break;
    case FF_SQL_RET_ABS:
        r = a0.id == FF_SQL_T_INT64 ? ty(FF_SQL_T_UINT64) : ty(a0.id);
        break;
    case FF_SQL_RET_SUM:
        if (a0.id == FF_SQL_T_FLOAT64)
            r = ty(FF_SQL_T_FLOAT64);
        else if (a0.id == FF_SQL_T_INT64)
            r = ty(FF_SQL_T_INT64);
        else if (is_uint(a0.id))
            r = ty(FF_SQL_T_UINT64);
        break;
    case FF_SQL_RET_ARITH:
        r = n_args >= 2 ? arith(func, a0, args[1]) : unknown;
        break;
    case FF_SQL_RET_NEGATE:
        r = is_uint(a0.id) ? ty(FF_SQL_T_INT64) : ty(a0.id);
        r.unit = a0.unit;
        break;
    case FF_SQL_RET_COMMON:
    case FF_SQL_RET_ARRAY_OF:
        if (n_args > 0) {
            r = args[0];
            for (uint32_t i = 1; i < n_args; i++)
                r = supertype(r, args[i]);
        } else {
            r = ty(FF_SQL_T_NOTHING);
        }
        if (f->ret == FF_SQL_RET_ARRAY_OF) {
            ff_sql_type e = r;
            r = ty(FF_SQL_T_ARRAY);
            r.elem = e.id;
        }
        break;
    case FF_SQL_RET_IF:
        r = n_args >= 3 ? supertype(args[1], args[2]) : unknown;
        break;
    case FF_SQL_RET_MULTI_IF: {
        /* multiIf(c, v, ..., else): values at odd indexes and the last;
         * caseWithExpression(x, w, v, ..., else): at even indexes from 2. */
        uint32_t first = func == FF_SQL_FN_CASE_WITH_EXPRESSION ? 2 : 1;
        if (n_args < first + 1)
            break;
        r = args[n_args - 1];
        for (uint32_t i = first; i + 1 < n_args; i += 2)
            r = supertype(r, args[i]);
        break;
    }
    case FF_SQL_RET_ELEMENT:
        r = a0.id == FF_SQL_T_ARRAY ? ty(a0.elem) : unknown;
        break;
    case FF_SQL_RET_QUANTILE:
        r = quantile_of(a0);
        break;
    case FF_SQL_RET_QUANTILES:
        r = ty(FF_SQL_T_ARRAY);
        r.elem = quantile_of(a0).id;
        break;
    case FF_SQL_RET_INTERVAL:
        r = ty(FF_SQL_T_INTERVAL);
        r.unit = (uint8_t)(func - FF_SQL_FN_TO_INTERVAL_SECOND + 1);
        break;
    case FF_SQL_RET_TIME_ARG0:
        r = ty(a0.id == FF_SQL_T_DATETIME64 ? FF_SQL_T_DATETIME64 : FF_SQL_T_DATETIME);
        break;
    }
    /* Nullable: scalars propagate it unless they handle NULLs themselves;
     * aggregates return Nullable when their value argument is. */
    if (!(f->flags & FF_SQL_FUNC_NULLS_OK) && r.id != FF_SQL_T_UNKNOWN) {
        if (agg) {
            if (n_args > 0 && (a0.nullable || a0.id == FF_SQL_T_NOTHING))
                r.nullable = 1;
        } else if (f->ret != FF_SQL_RET_COMMON && f->ret != FF_SQL_RET_IF &&
                   f->ret != FF_SQL_RET_MULTI_IF && f->ret != FF_SQL_RET_ARRAY_OF) {
            for (uint32_t i = 0; i < n_args; i++)
                if (args[i].nullable || args[i].id == FF_SQL_T_NOTHING)
                    r.nullable = 1;
        }
    }
    if (func == FF_SQL_FN_COALESCE || func == FF_SQL_FN_IF_NULL) {
        /* Nullable only when every argument is. */
        r.nullable = n_args > 0;
        for (uint32_t i = 0; i < n_args; i++)
            if (!args[i].nullable && args[i].id != FF_SQL_T_NOTHING)
                r.nullable = 0;
    }
    return r;
}

ff_sql_type ff_sql_literal_type(const ff_sql_node *n)
{
    switch (n->kind) {
    case FF_SQL_N_NULL: {
        ff_sql_type t = ty(FF_SQL_T_NOTHING);
        t.nullable = 1; /* Nullable(Nothing) */
        return t;
    }
    case FF_SQL_N_BOOL:
        return ty(FF_SQL_T_BOOL);
    case FF_SQL_N_INT:
        if (n->flags & FF_SQL_NF_NEG)
            return ty(FF_SQL_T_INT64);
        return ty(n->v.u <= 255           ? FF_SQL_T_UINT8
                  : n->v.u <= 65535       ? FF_SQL_T_UINT16
                  : n->v.u <= 4294967295u ? FF_SQL_T_UINT32
                                          : FF_SQL_T_UINT64);
    case FF_SQL_N_FLOAT:
        return ty(FF_SQL_T_FLOAT64);
    case FF_SQL_N_STRING:
        return ty(FF_SQL_T_STRING);
    default:
        return ty(FF_SQL_T_UNKNOWN);
    }
}

static const char *base_name(uint8_t id)
{
    switch (id) {
    case FF_SQL_T_NOTHING:
        return "Nothing";
    case FF_SQL_T_BOOL:
        return "Bool";
    case FF_SQL_T_UINT8:
        return "UInt8";
    case FF_SQL_T_UINT16:
        return "UInt16";
    case FF_SQL_T_UINT32:
        return "UInt32";
    case FF_SQL_T_UINT64:
        return "UInt64";
    case FF_SQL_T_INT64:
        return "Int64";
    case FF_SQL_T_FLOAT64:
        return "Float64";
    case FF_SQL_T_STRING:
        return "String";
    case FF_SQL_T_DATE:
        return "Date";
    case FF_SQL_T_DATETIME:
        return "DateTime";
    case FF_SQL_T_DATETIME64:
        return "DateTime64(3)";
    case FF_SQL_T_TUPLE:
        return "Tuple";
    default:
        return "Unknown";
    }
}

ff_rc ff_sql_type_name(ff_sql_type t, ff_buf *out)
{
    static const char *const units[] = {"Second", "Minute", "Hour",    "Day",
                                        "Week",   "Month",  "Quarter", "Year"};
    char inner[64];
    if (t.id == FF_SQL_T_ARRAY) {
        ff_sql_type e = ty(t.elem);
        ff_buf tmp;
        ff_buf_init(&tmp, 64);
        ff_rc rc = ff_sql_type_name(e, &tmp);
        snprintf(inner, sizeof inner, "Array(%s)", rc == FF_OK && tmp.data ? tmp.data : "Unknown");
        ff_buf_fini(&tmp);
    } else if (t.id == FF_SQL_T_INTERVAL) {
        snprintf(inner, sizeof inner, "Interval%s",
                 t.unit >= 1 && t.unit <= 8 ? units[t.unit - 1] : "");
    } else {
        snprintf(inner, sizeof inner, "%s", base_name(t.id));
    }
    if (t.nullable && t.id != FF_SQL_T_ARRAY && t.id != FF_SQL_T_TUPLE)
        return ff_buf_printf(out, "Nullable(%s)", inner);
    return ff_buf_adds(out, inner);
}
