/* ff_sql_ast.h -- the parsed form of a query: a compact tree of tagged nodes.
 *
 * WHAT: what the SQL front end hands to the planner. ff_sql_parse (ff_sql.h)
 * builds it; the planner reads it and never changes it. The function catalogue
 * (name, arity, parameters, aggregate or scalar, result type rule) lives here
 * too, because every call node points into it.
 *
 * DESIGN: ClickHouse's own trick: every operator becomes a function call at
 * parse time (a + b is plus(a, b), x BETWEEN 1 AND 2 is
 * and(greaterOrEquals(x, 1), lessOrEquals(x, 2)), CASE is multiIf, INTERVAL 1
 * DAY is toIntervalDay(1), r[1] is arrayElement(r, 1)), so an expression has
 * only ten node kinds:
 *
 *     literal   NULL | BOOL | INT | FLOAT | STRING
 *     COLUMN    name, optional qualifier (e.qual)
 *     STAR      the * of SELECT *
 *     CALL      func (catalogue id), params[n_params], args[n_args]
 *     SUBQUERY  (SELECT ...) used as a value or as the right side of IN
 *     POSITION  GROUP BY 2 / ORDER BY 1: a 1-based select-list position
 *
 * A planner therefore needs one case per node kind plus one table lookup per
 * function. Nodes live in the caller's arena: 64 bytes each, children as an
 * array of pointers (params first, then args), source span (pos, len) on every
 * node so a planner error can point at the text with ff_sql_error_set. A
 * SELECT is a fixed struct (items, from, where, group by, having, order by,
 * limit) rather than a node, because the planner treats each clause
 * differently anyway.
 *
 * The costs: the tree keeps no trace of how an operator was written (x + 1 and
 * plus(x, 1) are the same tree, and ff_sql_format prints both as (x + 1)), and
 * the operand of BETWEEN is shared by the two comparisons (the tree is a DAG
 * there; it is never mutated, so that is harmless).
 *
 * INVARIANTS (after a successful ff_sql_parse):
 *  (1) Every CALL has func != FF_SQL_FN_UNKNOWN, and its argument and parameter
 *      counts are inside the catalogue's bounds (one more argument when
 *      FF_SQL_NF_IF: the -If combinator's condition is the last argument).
 *  (2) Parameters are literals (INT, FLOAT, STRING; INT may be negative).
 *  (3) No aggregate call has an aggregate below it (inside the same SELECT);
 *      WHERE and GROUP BY hold no aggregate.
 *  (4) depth <= FF_SQL_MAX_DEPTH everywhere, so recursive walks are bounded.
 *  (5) POSITION nodes appear only in group_by/order_by and are in range.
 *  (6) Strings are NUL-terminated copies in the arena; STRING values may also
 *      contain NUL bytes, so use v.str.len. Names never contain NUL.
 *
 * THREADING: a parsed tree is immutable; any number of threads may read it.
 * OWNERSHIP: every node, array and string belongs to the arena passed to
 * ff_sql_parse and dies with it. The catalogue is static and const.
 */
#ifndef FF_SQL_AST_H
#define FF_SQL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ff_buf.h"
#include "core/ff_err.h"

/* Limits (query text, nesting, identifiers). */
#define FF_SQL_MAX_QUERY_BYTES (1u << 20)
#define FF_SQL_MAX_DEPTH 256
#define FF_SQL_MAX_IDENT_BYTES 256

typedef struct ff_sql_node ff_sql_node;
typedef struct ff_sql_select ff_sql_select;

/* A name or string in the arena: s is NUL-terminated, len excludes the NUL. */
typedef struct ff_sql_name {
    const char *s; /* NULL when absent */
    uint32_t len;
} ff_sql_name;

typedef enum ff_sql_kind {
    FF_SQL_N_NULL = 1, /* NULL */
    FF_SQL_N_BOOL,     /* true / false: v.u is 1 or 0 */
    FF_SQL_N_INT,      /* v.u; with FF_SQL_NF_NEG the value is (int64_t)v.u < 0 */
    FF_SQL_N_FLOAT,    /* v.f (also inf and nan) */
    FF_SQL_N_STRING,   /* v.str, unescaped, may contain NUL */
    FF_SQL_N_COLUMN,   /* v.col.name, optional v.col.qual (qual.name) */
    FF_SQL_N_STAR,     /* SELECT * */
    FF_SQL_N_CALL,     /* func, kids = params then args, v.col.name = name as written */
    FF_SQL_N_SUBQUERY, /* v.sub */
    FF_SQL_N_POSITION, /* v.u = 1-based select-list position (GROUP BY / ORDER BY) */
} ff_sql_kind;

/* Node flags. */
enum {
    FF_SQL_NF_NEG = 1u << 0,      /* INT: negative (two's complement in v.u) */
    FF_SQL_NF_PAREN = 1u << 1,    /* written in parentheses (syntax only) */
    FF_SQL_NF_DISTINCT = 1u << 2, /* CALL: agg(DISTINCT x); count(DISTINCT x) is uniqExact */
    FF_SQL_NF_IF = 1u << 3,       /* CALL: -If combinator (sumIf, uniqIf): last arg = condition */
    FF_SQL_NF_AGG = 1u << 4,      /* CALL: an aggregate function */
    FF_SQL_NF_HAS_AGG = 1u << 5,  /* this subtree holds an aggregate (not counting subqueries) */
    FF_SQL_NF_CONST = 1u << 6,    /* constant: literals and scalar calls on constants */
    FF_SQL_NF_STAR_ARG = 1u << 7, /* CALL: written count(*) */
    FF_SQL_NF_PARAMS = 1u << 8,   /* CALL: written with a parameter list f(...)(...) */
};

/* Function ids: the index into the catalogue (ff_sql_funcs.c). Never reorder
 * casually: tests and the docs check the table against this list. */
typedef enum ff_sql_func_id {
    FF_SQL_FN_UNKNOWN = 0,
    /* aggregates */
    FF_SQL_FN_COUNT,
    FF_SQL_FN_SUM,
    FF_SQL_FN_AVG,
    FF_SQL_FN_MIN,
    FF_SQL_FN_MAX,
    FF_SQL_FN_ANY,
    FF_SQL_FN_ANY_LAST,
    FF_SQL_FN_ARG_MIN,
    FF_SQL_FN_ARG_MAX,
    FF_SQL_FN_UNIQ,
    FF_SQL_FN_UNIQ_EXACT,
    FF_SQL_FN_QUANTILE,
    FF_SQL_FN_QUANTILES,
    FF_SQL_FN_TOP_K,
    FF_SQL_FN_GROUP_ARRAY,
    FF_SQL_FN_WINDOW_FUNNEL,
    FF_SQL_FN_RETENTION,
    FF_SQL_FN_SEQUENCE_MATCH,
    FF_SQL_FN_SEQUENCE_COUNT,
    FF_SQL_FN_SESSION_COUNT,
    /* operators */
    FF_SQL_FN_PLUS,
    FF_SQL_FN_MINUS,
    FF_SQL_FN_MULTIPLY,
    FF_SQL_FN_DIVIDE,
    FF_SQL_FN_MODULO,
    FF_SQL_FN_INT_DIV,
    FF_SQL_FN_NEGATE,
    FF_SQL_FN_EQUALS,
    FF_SQL_FN_NOT_EQUALS,
    FF_SQL_FN_LESS,
    FF_SQL_FN_GREATER,
    FF_SQL_FN_LESS_OR_EQUALS,
    FF_SQL_FN_GREATER_OR_EQUALS,
    FF_SQL_FN_AND,
    FF_SQL_FN_OR,
    FF_SQL_FN_NOT,
    FF_SQL_FN_LIKE,
    FF_SQL_FN_NOT_LIKE,
    FF_SQL_FN_ILIKE,
    FF_SQL_FN_NOT_ILIKE,
    FF_SQL_FN_IN,
    FF_SQL_FN_NOT_IN,
    FF_SQL_FN_IS_NULL,
    FF_SQL_FN_IS_NOT_NULL,
    FF_SQL_FN_CONCAT,
    FF_SQL_FN_ARRAY_ELEMENT,
    FF_SQL_FN_TUPLE,
    FF_SQL_FN_ARRAY,
    FF_SQL_FN_MULTI_IF,
    FF_SQL_FN_CASE_WITH_EXPRESSION,
    /* conditionals and NULL handling */
    FF_SQL_FN_IF,
    FF_SQL_FN_COALESCE,
    FF_SQL_FN_IF_NULL,
    /* intervals (INTERVAL n UNIT) */
    FF_SQL_FN_TO_INTERVAL_SECOND,
    FF_SQL_FN_TO_INTERVAL_MINUTE,
    FF_SQL_FN_TO_INTERVAL_HOUR,
    FF_SQL_FN_TO_INTERVAL_DAY,
    FF_SQL_FN_TO_INTERVAL_WEEK,
    FF_SQL_FN_TO_INTERVAL_MONTH,
    FF_SQL_FN_TO_INTERVAL_QUARTER,
    FF_SQL_FN_TO_INTERVAL_YEAR,
    /* date and time */
    FF_SQL_FN_NOW,
    FF_SQL_FN_TODAY,
    FF_SQL_FN_TO_DATE,
    FF_SQL_FN_TO_DATE_TIME,
    FF_SQL_FN_TO_START_OF_MINUTE,
    FF_SQL_FN_TO_START_OF_HOUR,
    FF_SQL_FN_TO_START_OF_DAY,
    FF_SQL_FN_TO_START_OF_WEEK,
    FF_SQL_FN_TO_MONDAY,
    FF_SQL_FN_TO_START_OF_MONTH,
    FF_SQL_FN_TO_START_OF_INTERVAL,
    FF_SQL_FN_TO_HOUR,
    FF_SQL_FN_TO_DAY_OF_WEEK,
    FF_SQL_FN_TO_DAY_OF_MONTH,
    FF_SQL_FN_TO_MONTH,
    FF_SQL_FN_TO_YEAR,
    FF_SQL_FN_TO_UNIX_TIMESTAMP,
    FF_SQL_FN_TO_UNIX_TIMESTAMP64_MILLI,
    FF_SQL_FN_FROM_UNIX_TIMESTAMP64_MILLI,
    FF_SQL_FN_DATE_DIFF,
    /* strings */
    FF_SQL_FN_LOWER,
    FF_SQL_FN_UPPER,
    FF_SQL_FN_LENGTH,
    FF_SQL_FN_SUBSTRING,
    FF_SQL_FN_POSITION,
    FF_SQL_FN_STARTS_WITH,
    FF_SQL_FN_ENDS_WITH,
    FF_SQL_FN_EMPTY,
    FF_SQL_FN_NOT_EMPTY,
    /* JSON (the properties column) */
    FF_SQL_FN_JSON_EXTRACT_STRING,
    FF_SQL_FN_JSON_EXTRACT_FLOAT,
    FF_SQL_FN_JSON_EXTRACT_INT,
    FF_SQL_FN_JSON_EXTRACT_BOOL,
    FF_SQL_FN_JSON_EXTRACT_RAW,
    FF_SQL_FN_JSON_HAS,
    /* conversions and arithmetic helpers */
    FF_SQL_FN_TO_STRING,
    FF_SQL_FN_TO_INT64,
    FF_SQL_FN_TO_UINT64,
    FF_SQL_FN_TO_FLOAT64,
    FF_SQL_FN_ROUND,
    FF_SQL_FN_FLOOR,
    FF_SQL_FN_CEIL,
    FF_SQL_FN_ABS,
    FF_SQL_FN_GREATEST,
    FF_SQL_FN_LEAST,
    /* arrays */
    FF_SQL_FN_HAS,
    FF_SQL_FN_COUNT_ /* number of ids; keep last */
} ff_sql_func_id;

/* Value types, as far as the front end can know them. The planner binds
 * columns; ff_sql_func_result_type then derives every call's type. */
typedef enum ff_sql_type_id {
    FF_SQL_T_UNKNOWN = 0, /* not known (an unbound column, say) */
    FF_SQL_T_NOTHING,     /* the type of NULL: Nullable(Nothing) */
    FF_SQL_T_BOOL,        /* Bool: 0/1 in a byte */
    FF_SQL_T_UINT8,
    FF_SQL_T_UINT16,
    FF_SQL_T_UINT32,
    FF_SQL_T_UINT64,
    FF_SQL_T_INT64,
    FF_SQL_T_FLOAT64,
    FF_SQL_T_STRING,
    FF_SQL_T_DATE,
    FF_SQL_T_DATETIME,   /* seconds */
    FF_SQL_T_DATETIME64, /* milliseconds (DateTime64(3)), the type of ts */
    FF_SQL_T_INTERVAL,   /* unit in ff_sql_type.unit (ff_sql_func_id of toIntervalX) */
    FF_SQL_T_ARRAY,      /* element type in ff_sql_type.elem */
    FF_SQL_T_TUPLE,
} ff_sql_type_id;

typedef struct ff_sql_type {
    uint8_t id;       /* ff_sql_type_id */
    uint8_t elem;     /* ARRAY: element ff_sql_type_id */
    uint8_t nullable; /* Nullable(...) */
    uint8_t unit;     /* INTERVAL: 1 second .. 8 year (FF_SQL_FN_TO_INTERVAL_* - first + 1) */
} ff_sql_type;

/* How a function's result type follows from its argument types. */
typedef enum ff_sql_ret {
    FF_SQL_RET_FIXED = 0,   /* ff_sql_func.ret_type */
    FF_SQL_RET_ARG0,        /* the type of the first argument (min, max, any, argMin) */
    FF_SQL_RET_ARRAY_ARG0,  /* Array(type of arg 0) (topK, groupArray) */
    FF_SQL_RET_ARRAY_FIXED, /* Array(ret_type) (retention) */
    FF_SQL_RET_ABS,         /* Int64 -> UInt64, else the argument type */
    FF_SQL_RET_SUM,         /* Int64 / UInt64 / Float64 by the argument's class */
    FF_SQL_RET_ARITH,  /* plus/minus/multiply/modulo/intDiv: numeric promotion, date +- interval */
    FF_SQL_RET_NEGATE, /* UInt64 -> Int64, else the argument type */
    FF_SQL_RET_COMMON, /* common supertype of all arguments (coalesce, greatest) */
    FF_SQL_RET_IF,     /* common supertype of args 1 and 2 */
    FF_SQL_RET_MULTI_IF,  /* common supertype of the branch values */
    FF_SQL_RET_ELEMENT,   /* element type of the array in arg 0 */
    FF_SQL_RET_ARRAY_OF,  /* Array(common supertype of the args) (array literal) */
    FF_SQL_RET_QUANTILE,  /* Float64; Date/DateTime stay what they are */
    FF_SQL_RET_QUANTILES, /* Array of RET_QUANTILE */
    FF_SQL_RET_INTERVAL,  /* Interval of the function's unit */
    FF_SQL_RET_TIME_ARG0, /* DateTime, or DateTime64 when arg 0 is DateTime64 */
} ff_sql_ret;

/* Extra checks a function's parameters or literal arguments get. */
typedef enum ff_sql_check {
    FF_SQL_CHECK_NONE = 0,
    FF_SQL_CHECK_QUANTILE,      /* levels in [0, 1] */
    FF_SQL_CHECK_TOP_K,         /* k in 1..16777215 */
    FF_SQL_CHECK_WINDOW_FUNNEL, /* window >= 0 integer, then known mode strings */
    FF_SQL_CHECK_SEQUENCE,      /* pattern string: (?N) . .* (?t op N) */
    FF_SQL_CHECK_SESSION,       /* gap: a positive integer number of seconds */
    FF_SQL_CHECK_DATE_DIFF,     /* literal unit string is known */
    FF_SQL_CHECK_INTERVAL_ARG1, /* arg 1 is INTERVAL n UNIT */
    FF_SQL_CHECK_MULTI_IF,      /* odd number of arguments */
    FF_SQL_CHECK_CASE_EXPR,     /* even number of arguments */
} ff_sql_check;

enum {
    FF_SQL_FUNC_AGGREGATE = 1u << 0, /* aggregate (else scalar) */
    FF_SQL_FUNC_CI = 1u << 1,        /* name is case-insensitive in ClickHouse */
    FF_SQL_FUNC_OPERATOR = 1u << 2,  /* printed as an operator by ff_sql_format */
    FF_SQL_FUNC_NULLS_OK = 1u << 3,  /* result is not Nullable when an argument is */
    FF_SQL_FUNC_VOLATILE = 1u << 4,  /* depends on the clock: constant per query only */
};

#define FF_SQL_ARGS_MANY 0xFFFF /* max_args: unbounded */

typedef struct ff_sql_func {
    const char *name;    /* canonical ClickHouse spelling */
    uint16_t min_args;   /* arguments (the second list of a parametric call) */
    uint16_t max_args;   /* FF_SQL_ARGS_MANY = unbounded */
    uint8_t min_params;  /* parameters (first list); 0/0 = not parametric */
    uint8_t max_params;  /* 0 = not parametric */
    uint8_t flags;       /* FF_SQL_FUNC_* */
    uint8_t ret;         /* ff_sql_ret */
    uint8_t ret_type;    /* ff_sql_type_id for FF_SQL_RET_FIXED */
    uint8_t check;       /* ff_sql_check */
    const char *syntax;  /* e.g. "quantile(level)(x)", used in messages */
    const char *summary; /* one line for the docs and messages */
} ff_sql_func;

struct ff_sql_node {
    uint8_t kind;      /* ff_sql_kind */
    uint8_t reserved;  /* zero */
    uint16_t flags;    /* FF_SQL_NF_* */
    uint16_t func;     /* CALL: ff_sql_func_id */
    uint16_t depth;    /* height of the subtree; a leaf is 1 */
    uint32_t pos;      /* byte offset of the first character in the query */
    uint32_t len;      /* bytes of query text covered */
    uint32_t n_params; /* CALL: parameters, kids[0 .. n_params) */
    uint32_t n_args;   /* CALL: arguments, kids[n_params .. n_params + n_args) */
    ff_sql_node **kids;
    union {
        uint64_t u; /* BOOL, INT, POSITION */
        double f;   /* FLOAT */
        ff_sql_name str;
        struct {
            ff_sql_name name; /* COLUMN name; CALL name as written */
            ff_sql_name qual; /* COLUMN qualifier (t in t.x), s NULL when none */
        } col;
        ff_sql_select *sub; /* SUBQUERY */
    } v;
};

typedef struct ff_sql_item {
    ff_sql_node *expr;
    ff_sql_name alias; /* AS alias; s NULL when none */
} ff_sql_item;

enum { FF_SQL_NULLS_DEFAULT = 0, FF_SQL_NULLS_FIRST = 1, FF_SQL_NULLS_LAST = 2 };

typedef struct ff_sql_order {
    ff_sql_node *expr;
    uint8_t desc;  /* 1 for DESC */
    uint8_t nulls; /* FF_SQL_NULLS_*; ClickHouse's default is NULLS LAST */
} ff_sql_order;

typedef enum ff_sql_from_kind {
    FF_SQL_FROM_NONE = 0, /* no FROM: one row, as ClickHouse's system.one */
    FF_SQL_FROM_TABLE,    /* from_table (always "events" after checking) */
    FF_SQL_FROM_SUBQUERY, /* from_sub */
} ff_sql_from_kind;

struct ff_sql_select {
    uint32_t pos, len; /* span of SELECT ... */
    uint16_t depth;    /* height of its deepest clause (a FROM subquery adds one) */
    uint8_t distinct;  /* SELECT DISTINCT */
    uint8_t from_kind; /* ff_sql_from_kind */
    uint8_t has_agg;   /* an aggregation query: GROUP BY or an aggregate in the items,
                          HAVING or ORDER BY */
    uint8_t has_limit;
    uint8_t has_offset;
    uint8_t reserved;
    ff_sql_name from_table;
    ff_sql_select *from_sub;
    ff_sql_name from_alias; /* s NULL when none */
    uint32_t from_pos;      /* byte offset of the table name or '(' */
    uint32_t n_items, n_group_by, n_order_by;
    ff_sql_item *items;
    ff_sql_node *where; /* NULL when absent */
    ff_sql_node **group_by;
    ff_sql_node *having; /* NULL when absent */
    ff_sql_order *order_by;
    uint64_t limit, offset;
};

typedef struct ff_sql_stmt {
    ff_sql_select *select;
    ff_sql_name format; /* FORMAT name; s NULL when none */
    uint32_t format_pos;
    uint32_t n_nodes; /* expression nodes built */
    uint16_t depth;   /* height of the whole tree */
    const char *text; /* the query text as given (borrowed, not copied) */
    uint32_t text_len;
} ff_sql_stmt;

/* ---- the function catalogue ------------------------------------------- */

/* The entry for id; NULL for FF_SQL_FN_UNKNOWN or out of range. */
const ff_sql_func *ff_sql_func_get(ff_sql_func_id id);

/* Resolve a name as ClickHouse would: exact match, then the case-insensitive
 * names, then the -If combinator on an aggregate (uniqIf -> uniq + *is_if).
 * Returns FF_SQL_FN_UNKNOWN when nothing matches. */
ff_sql_func_id ff_sql_func_lookup(const char *name, size_t len, bool *is_if);

/* The closest catalogue name for an "unknown function" hint, or NULL. */
const char *ff_sql_func_suggest(const char *name, size_t len);

/* Result type of a call of func with the given argument types. flags are the
 * call's FF_SQL_NF_* (DISTINCT and IF change the result of some aggregates).
 * Unknown argument types give a best effort (often FF_SQL_T_UNKNOWN). */
ff_sql_type ff_sql_func_result_type(ff_sql_func_id func, uint16_t flags, const ff_sql_type *args,
                                    uint32_t n_args);

/* Type of a literal node (NULL, BOOL, INT, FLOAT, STRING), else UNKNOWN. */
ff_sql_type ff_sql_literal_type(const ff_sql_node *n);

/* ClickHouse's name for a type ("UInt64", "Array(Float64)", "Nullable(String)"). */
ff_rc ff_sql_type_name(ff_sql_type t, ff_buf *out);

/* ---- walking and printing ---------------------------------------------- */

/* Parameter i / argument i of a CALL (no bounds check beyond an FF_ASSERT). */
static inline ff_sql_node *ff_sql_call_param(const ff_sql_node *n, uint32_t i)
{
    return n->kids[i];
}
static inline ff_sql_node *ff_sql_call_arg(const ff_sql_node *n, uint32_t i)
{
    return n->kids[n->n_params + i];
}

/* Structural equality of two expressions (kinds, values, functions, flags
 * that matter; not positions or parentheses). */
bool ff_sql_node_equal(const ff_sql_node *a, const ff_sql_node *b);

/* Canonical S-expression of a statement / an expression, one line, for tests
 * and debugging: (select (items (as (count) c)) (from events) ...). */
ff_rc ff_sql_dump(const ff_sql_stmt *st, ff_buf *out);
ff_rc ff_sql_dump_node(const ff_sql_node *n, ff_buf *out);

/* Canonical SQL text: parses back to a tree that dumps identically (every
 * operator fully parenthesised, LIMIT m, n written as LIMIT n OFFSET m). */
ff_rc ff_sql_format(const ff_sql_stmt *st, ff_buf *out);
ff_rc ff_sql_format_node(const ff_sql_node *n, ff_buf *out);

/* ClickHouse's result column name for an expression: count(), plus(x, 1),
 * quantile(0.9)(x), countDistinct(user_id) ... (the alias, when there is one,
 * is the caller's business). */
ff_rc ff_sql_column_name(const ff_sql_node *n, ff_buf *out);

#endif /* FF_SQL_AST_H */
