/* ff_sql.h -- parse a ClickHouse-dialect query into a checked tree.
 *
 * WHAT: the SQL front end's one door. ff_sql_parse takes query text and
 * returns the tree of ff_sql_ast.h, or an error that names the problem and
 * points at it: line, column and a caret under the offending text, e.g.
 *
 *     line 1, column 8: unknown function cuont (did you mean count?)
 *     SELECT cuont() FROM events
 *            ^
 *
 * DESIGN: three stages, each stopping at the first error.
 *   1. ff_sql_lex.c: bytes to tokens. Decodes literals (escapes, 64-bit
 *      integers, floats) and quoted identifiers, skips comments, and rejects
 *      what can never be SQL (stray bytes, unterminated strings).
 *   2. ff_sql_grammar.y (lemon, LALR(1)): tokens to tree. Before each token is
 *      fed, the parser's tables are consulted on a copy of its stack
 *      (lookahead correction, as in Bison's LAC) so an error is reported in the
 *      state where the token arrived, with the complete set of tokens that
 *      could have come instead ("expected FROM, WHERE or ..."), not after
 *      lemon's default reductions have thrown that set away. Nesting beyond
 *      FF_SQL_MAX_DEPTH and lemon's fixed stack both end in a clean error.
 *   3. ff_sql.c: names and rules. Functions resolve against the catalogue
 *      (ClickHouse's case rules and the -If combinator), argument and
 *      parameter counts, literal parameters and their ranges, no aggregate
 *      inside an aggregate or in WHERE/GROUP BY, positional GROUP BY/ORDER BY,
 *      one table (events), consistent aliases.
 *
 * INVARIANTS:
 *  (1) FF_OK means *out is a tree satisfying the invariants of ff_sql_ast.h.
 *  (2) Any other return leaves *out NULL and fills err (when given); err is
 *      never left half-written. Input problems are FF_EBADINPUT; the arena's
 *      cap gives FF_ELIMIT and a failed allocation FF_ENOMEM.
 *  (3) No input makes the parser assert, overflow a stack or read outside
 *      [text, text + len): the text need not be NUL-terminated.
 *
 * THREADING: reentrant; no globals. OWNERSHIP: text is borrowed for the call
 * (the tree keeps a pointer to it in stmt->text, so keep it alive as long as
 * the tree if you use that); everything allocated goes into arena; the
 * lemon parser's stack is a temporary heap block freed before returning.
 */
#ifndef FF_SQL_H
#define FF_SQL_H

#include <stddef.h>
#include <stdint.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_err.h"
#include "sql/ff_sql_ast.h"

/* Error detail. kind is a stable short code for programs and tests:
 *   too_long, bad_char, bad_number, bad_string, unterminated_string,
 *   unterminated_identifier, unterminated_comment, bad_identifier, syntax,
 *   too_deep, unknown_function, wrong_arity, bad_parameters, bad_argument,
 *   nested_aggregate, aggregate_not_allowed, unknown_table, bad_position,
 *   bad_interval, duplicate_alias, unknown_format, invalid_argument,
 *   arena_limit, no_memory. */
typedef struct ff_sql_error {
    ff_rc code;        /* FF_OK until an error is recorded */
    const char *kind;  /* static string, see above; "" when code is FF_OK */
    uint32_t offset;   /* byte offset into the query */
    uint32_t line;     /* 1-based */
    uint32_t column;   /* 1-based, in characters (UTF-8 code points) */
    char msg[256];     /* the problem, one line, without the position */
    char snippet[512]; /* the query line and a caret line under the column */
} ff_sql_error;

/* Parse and check one SELECT statement. len <= FF_SQL_MAX_QUERY_BYTES. */
ff_rc ff_sql_parse(const char *text, size_t len, ff_arena *arena, ff_sql_stmt **out,
                   ff_sql_error *err);

/* Record an error at a byte offset of text (for the planner and executor, so
 * their errors point at the query the same way): fills every field of err,
 * computing line, column and the snippet. Returns code. err may be NULL. */
ff_rc ff_sql_error_set(ff_sql_error *err, ff_rc code, const char *kind, const char *text,
                       size_t len, size_t offset, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/* "line L, column C: msg\n<snippet>" into out. */
ff_rc ff_sql_error_render(const ff_sql_error *err, ff_buf *out);

#endif /* FF_SQL_H */
