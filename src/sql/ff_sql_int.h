/* ff_sql_int.h -- shared inside src/sql: parse context, tokens, tree builders.
 *
 * WHAT: the glue between the lexer (ff_sql_lex.c), the lemon grammar
 * (ff_sql_grammar.y), the tree builders and printers (ff_sql_ast.c), the
 * catalogue (ff_sql_funcs.c) and the driver and checks (ff_sql.c).
 *
 * DESIGN: one ff_sql_pctx per parse carries the text, the arena and the first
 * error. Every builder returns NULL once an error is recorded (and on
 * allocation failure, which it records), so grammar actions never test
 * anything: they pass NULLs along and the driver stops feeding tokens.
 *
 * THREADING: a context belongs to one parse. OWNERSHIP: all memory from
 * px->arena.
 */
#ifndef FF_SQL_INT_H
#define FF_SQL_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ff_arena.h"
#include "sql/ff_sql.h"
#include "sql/ff_sql_ast.h"

/* A token: its span and its decoded value. */
typedef struct ff_sql_token {
    uint32_t pos, len;
    union {
        uint64_t u;      /* INTEGER */
        double f;        /* FLOAT */
        ff_sql_name str; /* STRING (decoded) and ID (decoded, quoted or not) */
    } v;
} ff_sql_token;

/* A singly linked list built while parsing, turned into an array at the end. */
typedef struct ff_sql_cell {
    void *p;
    struct ff_sql_cell *next;
} ff_sql_cell;

typedef struct ff_sql_list {
    ff_sql_cell *head, *tail;
    uint32_t n;
    uint32_t pos; /* for call arguments: where a DISTINCT or * was */
    uint8_t mod;  /* call arguments: FF_SQL_ARGS_PLAIN / _STAR / _DISTINCT */
} ff_sql_list;

enum { FF_SQL_ARGS_PLAIN = 0, FF_SQL_ARGS_STAR = 1, FF_SQL_ARGS_DISTINCT = 2 };

typedef struct ff_sql_pctx {
    const char *text;
    uint32_t len;
    ff_arena *arena;
    ff_sql_error *err; /* never NULL inside the parser (ff_sql.c supplies one) */
    ff_rc rc;          /* first error, FF_OK while all is well */
    /* lexer */
    uint32_t off;      /* next byte to read */
    int prev_tok;      /* code of the previous token, 0 at the start */
    uint32_t last_end; /* end offset of the previous token */
    bool has_pending;  /* a token read ahead (NOT LIKE merging) */
    int pending_code;
    ff_sql_token pending;
    /* result */
    ff_sql_select *select;
    ff_sql_name format;
    uint32_t format_pos;
    uint32_t n_nodes;
    bool done;        /* the grammar accepted */
    uint32_t cur_pos; /* offset of the token being fed (for stack overflow) */
} ff_sql_pctx;

/* Record the first error (later ones are ignored); returns px->rc. */
ff_rc ff_sql_px_fail(ff_sql_pctx *px, ff_rc code, const char *kind, uint32_t offset,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Record an allocation failure: ELIMIT when the arena's cap was hit. */
void ff_sql_px_nomem(ff_sql_pctx *px, uint32_t offset);
void *ff_sql_px_alloc(ff_sql_pctx *px, size_t n, uint32_t offset);

/* Lexer: next token code (> 0), 0 at the end, -1 after recording an error. */
int ff_sql_lex_next(ff_sql_pctx *px, ff_sql_token *tok);
/* Keyword spelling or token description for messages ("FROM", "')'"). */
const char *ff_sql_token_display(int code);
/* Is name a keyword the lexer would not return as an identifier? */
bool ff_sql_is_keyword(const char *s, size_t len);

/* Grammar driver (in the generated parser): lex and parse the whole text.
 * Returns px->rc; on FF_OK px->select is the statement. */
ff_rc ff_sql_grammar_run(ff_sql_pctx *px);

/* ---- builders (ff_sql_ast.c), all NULL-safe ------------------------------ */
ff_sql_node *ff_sql_mk_leaf(ff_sql_pctx *px, int kind, const ff_sql_token *t);
ff_sql_node *ff_sql_mk_column(ff_sql_pctx *px, const ff_sql_token *qual, const ff_sql_token *name);
ff_sql_node *ff_sql_mk_star(ff_sql_pctx *px, const ff_sql_token *t);
/* An operator: func with n children (n = 1 or 2), span from first to last. */
ff_sql_node *ff_sql_mk_op(ff_sql_pctx *px, ff_sql_func_id func, ff_sql_node *a, ff_sql_node *b);
/* a OP b for the n-ary operators (and, or, concat): appends to a when a is the
 * same unparenthesised operator, as ClickHouse merges a AND b AND c. */
ff_sql_node *ff_sql_mk_nary(ff_sql_pctx *px, ff_sql_func_id func, ff_sql_node *a, ff_sql_node *b);
/* Prefix operator (NOT, unary minus) starting at the operator token. */
ff_sql_node *ff_sql_mk_prefix(ff_sql_pctx *px, ff_sql_func_id func, const ff_sql_token *op,
                              ff_sql_node *a);
ff_sql_node *ff_sql_mk_between(ff_sql_pctx *px, bool negated, ff_sql_node *x, ff_sql_node *lo,
                               ff_sql_node *hi);
ff_sql_node *ff_sql_mk_is_null(ff_sql_pctx *px, bool negated, ff_sql_node *x,
                               const ff_sql_token *last);
ff_sql_node *ff_sql_mk_in(ff_sql_pctx *px, bool negated, ff_sql_node *x, ff_sql_node *rhs);
/* name(params)(args) or name(args); params NULL when not parametric. */
ff_sql_node *ff_sql_mk_call(ff_sql_pctx *px, const ff_sql_token *name, ff_sql_list *params,
                            ff_sql_list *args, const ff_sql_token *rp);
/* ( list ): one element is that element (parenthesised), more make a tuple. */
ff_sql_node *ff_sql_mk_paren(ff_sql_pctx *px, const ff_sql_token *lp, ff_sql_list *l,
                             const ff_sql_token *rp);
ff_sql_node *ff_sql_mk_array(ff_sql_pctx *px, const ff_sql_token *lb, ff_sql_list *l,
                             const ff_sql_token *rb);
ff_sql_node *ff_sql_mk_subscript(ff_sql_pctx *px, ff_sql_node *a, ff_sql_node *i,
                                 const ff_sql_token *rb);
ff_sql_node *ff_sql_mk_subquery(ff_sql_pctx *px, const ff_sql_token *lp, ff_sql_select *s,
                                const ff_sql_token *rp);
/* CASE [operand] WHEN.. THEN.. [ELSE ..] END; whens alternates when, then. */
ff_sql_node *ff_sql_mk_case(ff_sql_pctx *px, const ff_sql_token *kw, ff_sql_node *operand,
                            ff_sql_list *whens, ff_sql_node *els, const ff_sql_token *end);
/* INTERVAL [-]n UNIT; minus is the '-' token or NULL. */
ff_sql_node *ff_sql_mk_interval(ff_sql_pctx *px, const ff_sql_token *kw, const ff_sql_token *minus,
                                ff_sql_node *n, const ff_sql_token *unit);

void ff_sql_list_init(ff_sql_list *l);
void ff_sql_list_add(ff_sql_pctx *px, ff_sql_list *l, void *p);

ff_sql_item *ff_sql_mk_item(ff_sql_pctx *px, ff_sql_node *e, const ff_sql_token *alias);
ff_sql_order *ff_sql_mk_order(ff_sql_pctx *px, ff_sql_node *e, int desc, int nulls);

/* Clauses collected by the grammar, assembled by ff_sql_mk_select. */
typedef struct ff_sql_from {
    uint8_t kind; /* ff_sql_from_kind */
    uint32_t pos;
    ff_sql_name table;
    ff_sql_select *sub;
    ff_sql_name alias;
} ff_sql_from;

typedef struct ff_sql_limit {
    uint8_t has_limit, has_offset;
    uint64_t limit, offset;
} ff_sql_limit;

ff_sql_select *ff_sql_mk_select(ff_sql_pctx *px, const ff_sql_token *kw, bool distinct,
                                ff_sql_list *items, const ff_sql_from *from, ff_sql_node *where,
                                ff_sql_list *group_by, ff_sql_node *having, ff_sql_list *order_by,
                                const ff_sql_limit *limit);

/* Checks (ff_sql.c): resolve functions and apply the rules of ff_sql.h. */
ff_rc ff_sql_check_stmt(ff_sql_pctx *px, ff_sql_stmt *st);

/* Catalogue internals shared with the checks. */
extern const ff_sql_func ff_sql_funcs[FF_SQL_FN_COUNT_];

#endif /* FF_SQL_INT_H */
