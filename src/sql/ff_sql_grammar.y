/* ff_sql_grammar.y -- the SELECT grammar (a ClickHouse subset), for lemon.
 *
 * WHAT: tokens from ff_sql_lex.c to the tree of ff_sql_ast.h. CMake runs
 * `lemon -T/usr/share/lemon/lempar.c` on this file; the output
 * (ff_sql_grammar.c/.h) lives in the build folder. The token codes in
 * ff_sql_grammar.h (FF_SQL_TK_*) are what the lexer returns.
 *
 * DESIGN: one expression nonterminal with ClickHouse's operator priorities
 * written as lemon precedence (lowest first, all binary operators left
 * associative, as ClickHouse's operator-precedence parser makes them):
 *
 *     OR < AND < NOT x < BETWEEN < IS [NOT] NULL < comparisons, [NOT] LIKE,
 *     [NOT] ILIKE, [NOT] IN < || < + - < * / % < unary - < x[i]
 *
 * `term` is the operand without operators (literal, column, call, (...),
 * [...], CASE, INTERVAL); INTERVAL takes a term so that `INTERVAL 1 DAY` needs
 * no lookahead beyond the unit. The lexer merges NOT LIKE / NOT ILIKE /
 * NOT IN / NOT BETWEEN into one token each, so that their priority is the
 * comparison's and not the prefix NOT's. Only ASC, DESC, NULLS, FIRST, LAST
 * and OFFSET fall back to identifiers (they never end a clause where an
 * identifier could follow, which matters because lemon tries the fallback
 * before a state's default reduction).
 *
 * The driver at the end (ff_sql_grammar_run) does lookahead correction: before
 * a token is handed to the parser it is simulated on a copy of the state stack
 * (reductions included); if the simulation ends in an error the token is
 * rejected there, and the same simulation over every terminal gives the
 * "expected ..." list. Error recovery is off: the first error ends the parse.
 *
 * INVARIANTS: the grammar has no conflicts (lemon fails the build otherwise);
 * every action only passes values to the NULL-safe builders of ff_sql_int.h.
 *
 * THREADING: the generated parser has no globals (tracing aside, which is
 * compiled out with NDEBUG and never enabled). OWNERSHIP: the parser struct is
 * malloc'ed by ff_sql_grammar_run and freed before it returns; the tree goes
 * into px->arena.
 */

%include {
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/ff_buf.h"
#include "core/ff_mem.h"
#include "sql/ff_sql_int.h"

#define YYNOERRORRECOVERY 1
#define ff_sql_lemon_ENGINEALWAYSONSTACK 1
}

%name ff_sql_lemon
%token_prefix FF_SQL_TK_
%token_type {ff_sql_token}
%extra_argument {ff_sql_pctx *px}
%start_symbol cmd
%stack_size 2500

%stack_overflow {
    ff_sql_px_fail(px, FF_EBADINPUT, "too_deep", px->cur_pos,
                   "the query is nested too deeply (limit %d levels)", FF_SQL_MAX_DEPTH);
}

%syntax_error {
    (void)yymajor;
    /* Normally caught by the lookahead check before the token is fed. */
    ff_sql_px_fail(px, FF_EBADINPUT, "syntax", TOKEN.pos, "syntax error");
}

%parse_accept {
    px->done = true;
}

%token SELECT DISTINCT AS FROM WHERE GROUP BY HAVING ORDER ASC DESC NULLS FIRST LAST
       LIMIT OFFSET FORMAT SEMI COMMA LP RP LBRACKET RBRACKET DOT ID INTEGER FLOAT
       STRING NULL TRUE FALSE CASE WHEN THEN ELSE END INTERVAL.

%fallback ID ASC DESC NULLS FIRST LAST OFFSET.

%left OR.
%left AND.
%right NOT.
%left BETWEEN NOT_BETWEEN.
%left IS.
%left EQ NE LT LE GT GE LIKE ILIKE NOT_LIKE NOT_ILIKE IN NOT_IN.
%left CONCAT.
%left PLUS MINUS.
%left STAR SLASH PERCENT.
%right UMINUS.
%left LBRACKET.

/* ---- statement ---------------------------------------------------------- */

cmd ::= select(S) format_opt(F) semi_opt. {
    px->select = S;
    px->format = F.v.str;
    px->format_pos = F.pos;
}

semi_opt ::= .
semi_opt ::= SEMI.

%type format_opt {ff_sql_token}
format_opt(A) ::= . { memset(&A, 0, sizeof A); }
format_opt(A) ::= FORMAT ID(N). { A = N; }
format_opt(A) ::= FORMAT NULL(N). {
    A = N;
    A.v.str.s = "Null";
    A.v.str.len = 4;
}

%type select {ff_sql_select *}
select(A) ::= SELECT(K) distinct_opt(D) sellist(L) from_opt(F) where_opt(W) groupby_opt(G)
              having_opt(H) orderby_opt(O) limit_opt(M). {
    A = ff_sql_mk_select(px, &K, D, &L, F, W, &G, H, &O, &M);
}

%type distinct_opt {bool}
distinct_opt(A) ::= . { A = false; }
distinct_opt(A) ::= DISTINCT. { A = true; }

%type sellist {ff_sql_list}
sellist(A) ::= sellist(A) COMMA selitem(I). { ff_sql_list_add(px, &A, I); }
sellist(A) ::= selitem(I). {
    ff_sql_list_init(&A);
    ff_sql_list_add(px, &A, I);
}

%type selitem {ff_sql_item *}
selitem(A) ::= expr(E). { A = ff_sql_mk_item(px, E, NULL); }
selitem(A) ::= expr(E) AS ID(N). { A = ff_sql_mk_item(px, E, &N); }
selitem(A) ::= STAR(S). { A = ff_sql_mk_item(px, ff_sql_mk_star(px, &S), NULL); }

%type from_opt {ff_sql_from *}
from_opt(A) ::= . { A = NULL; }
from_opt(A) ::= FROM ID(T) as_opt(N). {
    A = ff_sql_px_alloc(px, sizeof *A, T.pos);
    if (A) {
        memset(A, 0, sizeof *A);
        A->kind = FF_SQL_FROM_TABLE;
        A->pos = T.pos;
        A->table = T.v.str;
        A->alias = N.v.str;
    }
}
from_opt(A) ::= FROM LP(P) select(S) RP as_opt(N). {
    A = ff_sql_px_alloc(px, sizeof *A, P.pos);
    if (A) {
        memset(A, 0, sizeof *A);
        A->kind = FF_SQL_FROM_SUBQUERY;
        A->pos = P.pos;
        A->sub = S;
        A->alias = N.v.str;
    }
}

%type as_opt {ff_sql_token}
as_opt(A) ::= . { memset(&A, 0, sizeof A); }
as_opt(A) ::= AS ID(N). { A = N; }
as_opt(A) ::= ID(N). { A = N; }

%type where_opt {ff_sql_node *}
where_opt(A) ::= . { A = NULL; }
where_opt(A) ::= WHERE expr(E). { A = E; }

%type groupby_opt {ff_sql_list}
groupby_opt(A) ::= . { ff_sql_list_init(&A); }
groupby_opt(A) ::= GROUP BY exprlist(L). { A = L; }

%type having_opt {ff_sql_node *}
having_opt(A) ::= . { A = NULL; }
having_opt(A) ::= HAVING expr(E). { A = E; }

%type orderby_opt {ff_sql_list}
orderby_opt(A) ::= . { ff_sql_list_init(&A); }
orderby_opt(A) ::= ORDER BY orderlist(L). { A = L; }

%type orderlist {ff_sql_list}
orderlist(A) ::= orderlist(A) COMMA orderitem(I). { ff_sql_list_add(px, &A, I); }
orderlist(A) ::= orderitem(I). {
    ff_sql_list_init(&A);
    ff_sql_list_add(px, &A, I);
}

%type orderitem {ff_sql_order *}
orderitem(A) ::= expr(E) dir_opt(D) nulls_opt(N). { A = ff_sql_mk_order(px, E, D, N); }

%type dir_opt {int}
dir_opt(A) ::= . { A = 0; }
dir_opt(A) ::= ASC. { A = 0; }
dir_opt(A) ::= DESC. { A = 1; }

%type nulls_opt {int}
nulls_opt(A) ::= . { A = FF_SQL_NULLS_DEFAULT; }
nulls_opt(A) ::= NULLS FIRST. { A = FF_SQL_NULLS_FIRST; }
nulls_opt(A) ::= NULLS LAST. { A = FF_SQL_NULLS_LAST; }

%type limit_opt {ff_sql_limit}
limit_opt(A) ::= . { memset(&A, 0, sizeof A); }
limit_opt(A) ::= LIMIT INTEGER(N). {
    memset(&A, 0, sizeof A);
    A.has_limit = 1;
    A.limit = N.v.u;
}
limit_opt(A) ::= LIMIT INTEGER(N) OFFSET INTEGER(M). {
    memset(&A, 0, sizeof A);
    A.has_limit = 1;
    A.limit = N.v.u;
    A.has_offset = 1;
    A.offset = M.v.u;
}
limit_opt(A) ::= LIMIT INTEGER(M) COMMA INTEGER(N). {
    memset(&A, 0, sizeof A);
    A.has_limit = 1;
    A.limit = N.v.u;
    A.has_offset = 1;
    A.offset = M.v.u;
}

/* ---- expressions -------------------------------------------------------- */

%type exprlist {ff_sql_list}
exprlist(A) ::= exprlist(A) COMMA expr(E). { ff_sql_list_add(px, &A, E); }
exprlist(A) ::= expr(E). {
    ff_sql_list_init(&A);
    ff_sql_list_add(px, &A, E);
}

%type expr {ff_sql_node *}
expr(A) ::= term(T). { A = T; }
expr(A) ::= expr(X) OR expr(Y). { A = ff_sql_mk_nary(px, FF_SQL_FN_OR, X, Y); }
expr(A) ::= expr(X) AND expr(Y). { A = ff_sql_mk_nary(px, FF_SQL_FN_AND, X, Y); }
expr(A) ::= NOT(O) expr(X). { A = ff_sql_mk_prefix(px, FF_SQL_FN_NOT, &O, X); }
expr(A) ::= expr(X) BETWEEN expr(L) AND expr(H). [BETWEEN] {
    A = ff_sql_mk_between(px, false, X, L, H);
}
expr(A) ::= expr(X) NOT_BETWEEN expr(L) AND expr(H). [BETWEEN] {
    A = ff_sql_mk_between(px, true, X, L, H);
}
expr(A) ::= expr(X) IS NULL(E). { A = ff_sql_mk_is_null(px, false, X, &E); }
expr(A) ::= expr(X) IS NOT NULL(E). [IS] { A = ff_sql_mk_is_null(px, true, X, &E); }
expr(A) ::= expr(X) EQ expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_EQUALS, X, Y); }
expr(A) ::= expr(X) NE expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_NOT_EQUALS, X, Y); }
expr(A) ::= expr(X) LT expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_LESS, X, Y); }
expr(A) ::= expr(X) LE expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_LESS_OR_EQUALS, X, Y); }
expr(A) ::= expr(X) GT expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_GREATER, X, Y); }
expr(A) ::= expr(X) GE expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_GREATER_OR_EQUALS, X, Y); }
expr(A) ::= expr(X) LIKE expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_LIKE, X, Y); }
expr(A) ::= expr(X) NOT_LIKE expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_NOT_LIKE, X, Y); }
expr(A) ::= expr(X) ILIKE expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_ILIKE, X, Y); }
expr(A) ::= expr(X) NOT_ILIKE expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_NOT_ILIKE, X, Y); }
expr(A) ::= expr(X) IN term(Y). { A = ff_sql_mk_in(px, false, X, Y); }
expr(A) ::= expr(X) NOT_IN term(Y). { A = ff_sql_mk_in(px, true, X, Y); }
expr(A) ::= expr(X) CONCAT expr(Y). { A = ff_sql_mk_nary(px, FF_SQL_FN_CONCAT, X, Y); }
expr(A) ::= expr(X) PLUS expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_PLUS, X, Y); }
expr(A) ::= expr(X) MINUS expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_MINUS, X, Y); }
expr(A) ::= expr(X) STAR expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_MULTIPLY, X, Y); }
expr(A) ::= expr(X) SLASH expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_DIVIDE, X, Y); }
expr(A) ::= expr(X) PERCENT expr(Y). { A = ff_sql_mk_op(px, FF_SQL_FN_MODULO, X, Y); }
expr(A) ::= MINUS(O) expr(X). [UMINUS] { A = ff_sql_mk_prefix(px, FF_SQL_FN_NEGATE, &O, X); }

%type term {ff_sql_node *}
term(A) ::= INTEGER(T). { A = ff_sql_mk_leaf(px, FF_SQL_N_INT, &T); }
term(A) ::= FLOAT(T). { A = ff_sql_mk_leaf(px, FF_SQL_N_FLOAT, &T); }
term(A) ::= STRING(T). { A = ff_sql_mk_leaf(px, FF_SQL_N_STRING, &T); }
term(A) ::= NULL(T). { A = ff_sql_mk_leaf(px, FF_SQL_N_NULL, &T); }
term(A) ::= TRUE(T). {
    T.v.u = 1;
    A = ff_sql_mk_leaf(px, FF_SQL_N_BOOL, &T);
}
term(A) ::= FALSE(T). {
    T.v.u = 0;
    A = ff_sql_mk_leaf(px, FF_SQL_N_BOOL, &T);
}
term(A) ::= ID(N). { A = ff_sql_mk_column(px, NULL, &N); }
term(A) ::= ID(Q) DOT ID(N). { A = ff_sql_mk_column(px, &Q, &N); }
term(A) ::= ID(N) LP callargs(G) RP(R). { A = ff_sql_mk_call(px, &N, NULL, &G, &R); }
term(A) ::= ID(N) LP callargs(P) RP LP callargs(G) RP(R). {
    A = ff_sql_mk_call(px, &N, &P, &G, &R);
}
term(A) ::= LP(L) exprlist(E) RP(R). { A = ff_sql_mk_paren(px, &L, &E, &R); }
term(A) ::= LP(L) select(S) RP(R). { A = ff_sql_mk_subquery(px, &L, S, &R); }
term(A) ::= LBRACKET(L) RBRACKET(R). {
    ff_sql_list e;
    ff_sql_list_init(&e);
    A = ff_sql_mk_array(px, &L, &e, &R);
}
term(A) ::= LBRACKET(L) exprlist(E) RBRACKET(R). { A = ff_sql_mk_array(px, &L, &E, &R); }
term(A) ::= term(X) LBRACKET expr(I) RBRACKET(R). { A = ff_sql_mk_subscript(px, X, I, &R); }
term(A) ::= CASE(K) case_operand(O) case_whens(W) case_else(E) END(Z). {
    A = ff_sql_mk_case(px, &K, O, &W, E, &Z);
}
term(A) ::= INTERVAL(K) term(N) ID(U). { A = ff_sql_mk_interval(px, &K, NULL, N, &U); }
term(A) ::= INTERVAL(K) MINUS(M) term(N) ID(U). { A = ff_sql_mk_interval(px, &K, &M, N, &U); }

%type callargs {ff_sql_list}
callargs(A) ::= . { ff_sql_list_init(&A); }
callargs(A) ::= STAR(S). {
    ff_sql_list_init(&A);
    A.mod = FF_SQL_ARGS_STAR;
    A.pos = S.pos;
}
callargs(A) ::= exprlist(L). { A = L; }
callargs(A) ::= DISTINCT(D) exprlist(L). {
    A = L;
    A.mod = FF_SQL_ARGS_DISTINCT;
    A.pos = D.pos;
}

%type case_operand {ff_sql_node *}
case_operand(A) ::= . { A = NULL; }
case_operand(A) ::= expr(E). { A = E; }

%type case_whens {ff_sql_list}
case_whens(A) ::= case_whens(A) WHEN expr(C) THEN expr(V). {
    ff_sql_list_add(px, &A, C);
    ff_sql_list_add(px, &A, V);
}
case_whens(A) ::= WHEN expr(C) THEN expr(V). {
    ff_sql_list_init(&A);
    ff_sql_list_add(px, &A, C);
    ff_sql_list_add(px, &A, V);
}

%type case_else {ff_sql_node *}
case_else(A) ::= . { A = NULL; }
case_else(A) ::= ELSE expr(E). { A = E; }

%code {

/* ---- driver with lookahead correction ---------------------------------- */

/* Would the parser in its current state accept terminal t (shift it, possibly
 * after reductions)? Simulates the reductions on a virtual stack: states above
 * `base` are virtual, the real stack below is only read. */
static bool ff_sql_lac_accepts(const yyParser *p, int t)
{
    YYACTIONTYPE vstack[64];
    int vn = 0;
    const yyStackEntry *base = p->yytos;
    YYACTIONTYPE state = base->stateno;
    for (int guard = 0; guard < 4096; guard++) {
        YYACTIONTYPE act = yy_find_shift_action((YYCODETYPE)t, state);
        if (act >= YY_MIN_REDUCE) {
            unsigned rule = act - YY_MIN_REDUCE;
            int pop = -yyRuleInfoNRhs[rule];
            while (pop > 0 && vn > 0) {
                vn--;
                pop--;
            }
            if (pop > (int)(base - p->yystack))
                return false;
            base -= pop;
            YYACTIONTYPE top = vn ? vstack[vn - 1] : base->stateno;
            YYACTIONTYPE go = yy_find_reduce_action(top, yyRuleInfoLhs[rule]);
            if (vn == (int)(sizeof vstack / sizeof vstack[0]))
                return true; /* cannot happen with this grammar; let the parser decide */
            vstack[vn++] = go;
            state = go;
        } else if (act <= YY_MAX_SHIFTREDUCE || act == YY_ACCEPT_ACTION) {
            return true;
        } else {
            return false;
        }
    }
    return true;
}

static bool ff_sql_is_expr_start(int t)
{
    switch (t) {
    case FF_SQL_TK_ID:
    case FF_SQL_TK_INTEGER:
    case FF_SQL_TK_FLOAT:
    case FF_SQL_TK_STRING:
    case FF_SQL_TK_NULL:
    case FF_SQL_TK_TRUE:
    case FF_SQL_TK_FALSE:
    case FF_SQL_TK_LP:
    case FF_SQL_TK_LBRACKET:
    case FF_SQL_TK_MINUS:
    case FF_SQL_TK_NOT:
    case FF_SQL_TK_CASE:
    case FF_SQL_TK_INTERVAL:
        return true;
    default:
        return false;
    }
}

static bool ff_sql_is_binop(int t)
{
    switch (t) {
    case FF_SQL_TK_OR:
    case FF_SQL_TK_AND:
    case FF_SQL_TK_BETWEEN:
    case FF_SQL_TK_NOT_BETWEEN:
    case FF_SQL_TK_IS:
    case FF_SQL_TK_EQ:
    case FF_SQL_TK_NE:
    case FF_SQL_TK_LT:
    case FF_SQL_TK_LE:
    case FF_SQL_TK_GT:
    case FF_SQL_TK_GE:
    case FF_SQL_TK_LIKE:
    case FF_SQL_TK_ILIKE:
    case FF_SQL_TK_NOT_LIKE:
    case FF_SQL_TK_NOT_ILIKE:
    case FF_SQL_TK_IN:
    case FF_SQL_TK_NOT_IN:
    case FF_SQL_TK_CONCAT:
    case FF_SQL_TK_PLUS:
    case FF_SQL_TK_MINUS:
    case FF_SQL_TK_STAR:
    case FF_SQL_TK_SLASH:
    case FF_SQL_TK_PERCENT:
    case FF_SQL_TK_LBRACKET:
        return true;
    default:
        return false;
    }
}

static bool ff_sql_is_fallback(int t)
{
    return t == FF_SQL_TK_ASC || t == FF_SQL_TK_DESC || t == FF_SQL_TK_NULLS ||
           t == FF_SQL_TK_FIRST || t == FF_SQL_TK_LAST || t == FF_SQL_TK_OFFSET;
}

/* "unexpected X, expected A, B or C" from the simulated parser state. */
static void ff_sql_report_syntax(ff_sql_pctx *px, const yyParser *p, int code,
                                 const ff_sql_token *tok, bool px_prev_was_semi)
{
    bool ok[YYNTOKEN];
    for (int t = 0; t < YYNTOKEN; t++)
        ok[t] = ff_sql_lac_accepts(p, t);

    const char *names[YYNTOKEN + 2];
    int n = 0, n_ops = 0;
    bool expr = ok[FF_SQL_TK_ID] && ok[FF_SQL_TK_INTEGER] && ok[FF_SQL_TK_LP];
    for (int t = 0; t < YYNTOKEN; t++)
        if (ok[t] && ff_sql_is_binop(t) && !(expr && ff_sql_is_expr_start(t)))
            n_ops++;
    bool ops = n_ops >= 3;
    if (expr)
        names[n++] = "an expression";
    for (int t = 1; t < YYNTOKEN; t++) {
        if (!ok[t] || (expr && ff_sql_is_expr_start(t)) || (ops && ff_sql_is_binop(t)))
            continue;
        if (ff_sql_is_fallback(t) && ok[FF_SQL_TK_ID])
            continue; /* accepted only as an identifier */
        names[n++] = ff_sql_token_display(t);
    }
    if (ops)
        names[n++] = "an operator";
    if (ok[0])
        names[n++] = "the end of the query";

    char what[96];
    if (code == 0) {
        snprintf(what, sizeof what, "end of the query");
    } else if (code == FF_SQL_TK_ID || code == FF_SQL_TK_STRING || code == FF_SQL_TK_INTEGER ||
               code == FF_SQL_TK_FLOAT) {
        uint32_t show = tok->len > 40 ? 40 : tok->len;
        char text[48];
        uint32_t k = 0;
        for (uint32_t i = 0; i < show; i++) {
            unsigned char c = (unsigned char)px->text[tok->pos + i];
            text[k++] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
        }
        text[k] = '\0';
        snprintf(what, sizeof what, "%s %s%s", ff_sql_token_display(code), text,
                 tok->len > show ? "..." : "");
    } else {
        snprintf(what, sizeof what, "%s", ff_sql_token_display(code));
    }

    ff_buf b;
    ff_buf_init(&b, 200);
    (void)ff_buf_printf(&b, "unexpected %s", what);
    if (n > 0) {
        (void)ff_buf_adds(&b, n == 1 ? ", expected " : ", expected one of ");
        int shown = n > 10 ? 9 : n;
        for (int i = 0; i < shown; i++) {
            if (i > 0)
                (void)ff_buf_adds(&b, i == n - 1 ? " or " : ", ");
            (void)ff_buf_adds(&b, names[i]);
        }
        if (shown < n)
            (void)ff_buf_adds(&b, ", ...");
    }
    if (code == FF_SQL_TK_ID && ok[FF_SQL_TK_AS])
        (void)ff_buf_adds(&b, " (an alias needs AS)");
    if (code != 0 && n == 1 && ok[0] && px_prev_was_semi)
        (void)ff_buf_adds(&b, " (one statement per query)");
    uint32_t at = code == 0 ? px->last_end : tok->pos;
    ff_sql_px_fail(px, FF_EBADINPUT, "syntax", at, "%s", b.data ? b.data : "syntax error");
    ff_buf_fini(&b);
}

ff_rc ff_sql_grammar_run(ff_sql_pctx *px)
{
    yyParser *p = ff_malloc(sizeof *p);
    if (!p) {
        ff_sql_px_fail(px, FF_ENOMEM, "no_memory", 0, "out of memory for the parser");
        return px->rc;
    }
    ff_sql_lemonInit(p);
    uint32_t open = 0; /* ( and [ not yet closed */
    int prev = 0;
    for (;;) {
        ff_sql_token tok;
        int code = ff_sql_lex_next(px, &tok);
        if (code < 0)
            break;
        if (code == FF_SQL_TK_LP || code == FF_SQL_TK_LBRACKET) {
            if (++open > FF_SQL_MAX_DEPTH) {
                ff_sql_px_fail(px, FF_EBADINPUT, "too_deep", tok.pos,
                               "brackets are nested too deeply (limit %d)", FF_SQL_MAX_DEPTH);
                break;
            }
        } else if ((code == FF_SQL_TK_RP || code == FF_SQL_TK_RBRACKET) && open > 0) {
            open--;
        }
        if (!ff_sql_lac_accepts(p, code)) {
            ff_sql_report_syntax(px, p, code, &tok, prev == FF_SQL_TK_SEMI);
            break;
        }
        prev = code;
        px->cur_pos = tok.pos;
        ff_sql_lemon(p, code, tok, px);
        if (px->rc != FF_OK || code == 0)
            break;
    }
    ff_sql_lemonFinalize(p);
    ff_free(p);
    if (px->rc == FF_OK && !px->done)
        ff_sql_px_fail(px, FF_EBADINPUT, "syntax", px->last_end, "incomplete query");
    return px->rc;
}

} /* %code */
