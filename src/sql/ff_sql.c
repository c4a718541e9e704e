/* ff_sql.c -- parse entry point, error positions, and the name/rule checks.
 *
 * WHAT: ff_sql_parse runs the lexer+grammar (ff_sql_grammar_run), then walks
 * the tree once to resolve function names and enforce the rules listed in
 * ff_sql.h. ff_sql_error_set turns a byte offset into line, column and a
 * caret snippet for every error of the SQL subsystem.
 *
 * DESIGN: the checks are a recursive walk whose depth the builders already
 * bounded (FF_SQL_MAX_DEPTH). Each SELECT is a scope: qualified columns must
 * name its FROM, aggregates are counted per scope (a subquery inside sum()
 * may hold its own aggregates), positions refer to its own select list.
 * Errors point at the offending node: the inner aggregate of a nested pair,
 * the parameter that is not a literal, the call with the wrong arity.
 *
 * THREADING: reentrant. OWNERSHIP: see ff_sql.h.
 */
#include "sql/ff_sql.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/ff_sql_int.h"

/* ---- errors --------------------------------------------------------------- */

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t k;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        cp = c & 0x1F, k = 1;
    else if ((c & 0xF0) == 0xE0)
        cp = c & 0x0F, k = 2;
    else if ((c & 0xF8) == 0xF0)
        cp = c & 0x07, k = 3;
    else
        return 0;
    if (k >= n)
        return 0;
    for (size_t j = 1; j <= k; j++) {
        if ((s[j] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[j] & 0x3F);
    }
    static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
    if (cp < min_cp[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k + 1;
}

/* Replace control characters and invalid UTF-8 in a message with '?'. */
static void sanitize(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        unsigned char c = (unsigned char)s[i];
        size_t k = utf8_len((const unsigned char *)s + i, n - i);
        if (k == 0 || c < 0x20 || c == 0x7f) {
            s[i++] = '?';
        } else {
            i += k;
        }
    }
}

__attribute__((format(printf, 7, 0))) static ff_rc error_vset(ff_sql_error *err, ff_rc code,
                                                              const char *kind, const char *text,
                                                              size_t len, size_t offset,
                                                              const char *fmt, va_list ap)
{
    if (!err)
        return code;
    memset(err, 0, sizeof *err);
    err->code = code;
    err->kind = kind ? kind : "";
    if (!text)
        len = 0;
    if (offset > len)
        offset = len;
    err->offset = (uint32_t)offset;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    sanitize(err->msg);

    const unsigned char *t = (const unsigned char *)text;
    size_t line_start = 0;
    uint32_t line = 1;
    for (size_t i = 0; i < offset; i++) {
        if (t[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    }
    uint32_t col = 1;
    for (size_t i = line_start; i < offset;) {
        size_t k = utf8_len(t + i, len - i);
        i += k ? k : 1;
        col++;
    }
    err->line = line;
    err->column = col;

    /* Snippet: a window of the line around the offset, then the caret. */
    size_t line_end = offset;
    while (line_end < len && t[line_end] != '\n')
        line_end++;
    size_t ws = line_start;
    bool cut_left = false, cut_right = false;
    if (offset - line_start > 70) {
        ws = offset - 50;
        while (ws < offset && (t[ws] & 0xC0) == 0x80)
            ws++;
        cut_left = true;
    }
    size_t we = line_end;
    if (we - ws > 150) {
        we = ws + 150;
        while (we > offset && (t[we] & 0xC0) == 0x80)
            we--;
        cut_right = true;
    }
    char *o = err->snippet;
    char caret[200];
    size_t cn = 0, on = 0;
    if (cut_left) {
        memcpy(o, "...", 3);
        on = 3;
        memcpy(caret, "   ", 3);
        cn = 3;
    }
    for (size_t i = ws; i < we;) {
        unsigned char c = t[i];
        size_t k = utf8_len(t + i, len - i);
        bool before = i < offset;
        if (k == 0) {
            o[on++] = '?';
            k = 1;
        } else if (c == '\t') {
            o[on++] = '\t';
        } else if (c < 0x20 || c == 0x7f) {
            o[on++] = ' ';
        } else {
            memcpy(o + on, t + i, k);
            on += k;
        }
        if (before && cn < sizeof caret - 2)
            caret[cn++] = c == '\t' ? '\t' : ' ';
        i += k;
    }
    if (cut_right) {
        memcpy(o + on, "...", 3);
        on += 3;
    }
    o[on++] = '\n';
    memcpy(o + on, caret, cn);
    on += cn;
    o[on++] = '^';
    o[on] = '\0';
    return code;
}

ff_rc ff_sql_error_set(ff_sql_error *err, ff_rc code, const char *kind, const char *text,
                       size_t len, size_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    error_vset(err, code, kind, text, len, offset, fmt, ap);
    va_end(ap);
    return code;
}

ff_rc ff_sql_error_render(const ff_sql_error *err, ff_buf *out)
{
    return ff_buf_printf(out, "line %u, column %u: %s\n%s", err->line, err->column, err->msg,
                         err->snippet);
}

ff_rc ff_sql_px_fail(ff_sql_pctx *px, ff_rc code, const char *kind, uint32_t offset,
                     const char *fmt, ...)
{
    if (px->rc != FF_OK)
        return px->rc;
    px->rc = code;
    va_list ap;
    va_start(ap, fmt);
    error_vset(px->err, code, kind, px->text, px->len, offset, fmt, ap);
    va_end(ap);
    return code;
}

/* ---- checks ---------------------------------------------------------------- */

enum { CL_SELECT, CL_WHERE, CL_GROUP_BY, CL_HAVING, CL_ORDER_BY };

static const char *clause_name(int cl)
{
    switch (cl) {
    case CL_WHERE:
        return "WHERE";
    case CL_GROUP_BY:
        return "GROUP BY";
    case CL_HAVING:
        return "HAVING";
    case CL_ORDER_BY:
        return "ORDER BY";
    default:
        return "SELECT";
    }
}

typedef struct scope {
    const ff_sql_select *sel;
    int clause;
} scope;

static bool check_select(ff_sql_pctx *px, ff_sql_select *s);
static bool check_expr(ff_sql_pctx *px, const scope *sc, ff_sql_node *n, const ff_sql_node *agg);

static bool is_number_literal(const ff_sql_node *n)
{
    return n->kind == FF_SQL_N_INT || n->kind == FF_SQL_N_FLOAT;
}

static double number_value(const ff_sql_node *n)
{
    if (n->kind == FF_SQL_N_FLOAT)
        return n->v.f;
    if (n->flags & FF_SQL_NF_NEG)
        return (double)(int64_t)n->v.u;
    return (double)n->v.u;
}

static const char *fname(const ff_sql_node *n)
{
    return n->v.col.name.s ? n->v.col.name.s : "?";
}

/* sequenceMatch pattern: (?N) . .* (?t<=N) (?t<N) (?t>=N) (?t>N) (?t==N). */
static bool check_pattern(ff_sql_pctx *px, const ff_sql_node *call, const ff_sql_node *pat,
                          uint32_t n_events)
{
    const char *s = pat->v.str.s;
    size_t n = pat->v.str.len, i = 0;
    int last = 1; /* 1: an event condition (or the start) came last */
    while (i < n) {
        size_t at = i;
        if (i + 1 < n && s[i] == '(' && s[i + 1] == '?') {
            i += 2;
            bool time = i < n && s[i] == 't';
            if (time) {
                i++;
                if (i + 1 < n && (memcmp(s + i, "<=", 2) == 0 || memcmp(s + i, ">=", 2) == 0 ||
                                  memcmp(s + i, "==", 2) == 0))
                    i += 2;
                else if (i < n && (s[i] == '<' || s[i] == '>'))
                    i++;
                else
                    goto bad;
            }
            uint64_t v = 0;
            size_t d0 = i;
            while (i < n && s[i] >= '0' && s[i] <= '9' && i - d0 < 19)
                v = v * 10 + (uint64_t)(s[i++] - '0');
            if (i == d0 || i >= n || s[i] != ')')
                goto bad;
            i++;
            if (time) {
                if (!last) {
                    ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", pat->pos,
                                   "%s pattern: a time condition at character %zu must follow an "
                                   "event condition",
                                   fname(call), at + 1);
                    return false;
                }
                last = 0;
            } else {
                if (v < 1 || v > n_events) {
                    ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", pat->pos,
                                   "%s pattern: event (?%llu) is out of range: there %s %u "
                                   "condition%s",
                                   fname(call), (unsigned long long)v, n_events == 1 ? "is" : "are",
                                   n_events, n_events == 1 ? "" : "s");
                    return false;
                }
                last = 1;
            }
        } else if (i + 1 < n && s[i] == '.' && s[i + 1] == '*') {
            i += 2;
            last = 1;
        } else if (s[i] == '.') {
            i++;
            last = 1;
        } else {
            goto bad;
        }
        continue;
    bad:
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", pat->pos,
                       "%s pattern: cannot parse at character %zu (use (?N), ., .* and "
                       "(?t>=seconds))",
                       fname(call), at + 1);
        return false;
    }
    return true;
}

static const char *const DATE_DIFF_UNITS[] = {
    "nanosecond", "nanoseconds", "ns",           "microsecond", "microseconds", "us",
    "u",          "millisecond", "milliseconds", "ms",          "second",       "seconds",
    "ss",         "s",           "minute",       "minutes",     "mi",           "n",
    "hour",       "hours",       "hh",           "h",           "day",          "days",
    "dd",         "d",           "week",         "weeks",       "wk",           "ww",
    "month",      "months",      "mm",           "m",           "quarter",      "quarters",
    "qq",         "q",           "year",         "years",       "yyyy",         "yy"};

static bool check_special(ff_sql_pctx *px, ff_sql_node *n, const ff_sql_func *f,
                          uint32_t n_real_args)
{
    ff_sql_node **params = n->kids;
    ff_sql_node **args = n->kids ? n->kids + n->n_params : NULL; /* no NULL + 0 (UB) */
    switch ((ff_sql_check)f->check) {
    case FF_SQL_CHECK_QUANTILE:
        for (uint32_t i = 0; i < n->n_params; i++) {
            const ff_sql_node *p = params[i];
            double v = is_number_literal(p) ? number_value(p) : -1;
            if (!is_number_literal(p) || !(v >= 0 && v <= 1)) {
                ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", p->pos,
                               "the level of %s must be a number between 0 and 1", fname(n));
                return false;
            }
        }
        return true;
    case FF_SQL_CHECK_TOP_K:
        if (n->n_params == 1) {
            const ff_sql_node *p = params[0];
            if (p->kind != FF_SQL_N_INT || (p->flags & FF_SQL_NF_NEG) || p->v.u < 1 ||
                p->v.u > 0xFFFFFF) {
                ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", p->pos,
                               "the k of %s must be an integer from 1 to 16777215", fname(n));
                return false;
            }
        }
        return true;
    case FF_SQL_CHECK_WINDOW_FUNNEL: {
        const ff_sql_node *w = params[0];
        if (w->kind != FF_SQL_N_INT || (w->flags & FF_SQL_NF_NEG)) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", w->pos,
                           "the window of %s must be a non-negative integer, in the units of the "
                           "timestamp",
                           fname(n));
            return false;
        }
        bool strict_order = false, reentry = false;
        uint32_t reentry_pos = 0;
        for (uint32_t i = 1; i < n->n_params; i++) {
            const ff_sql_node *m = params[i];
            static const char *const modes[] = {"strict_deduplication", "strict_order",
                                                "strict_increase", "strict_once", "allow_reentry"};
            bool known = false;
            if (m->kind == FF_SQL_N_STRING)
                for (size_t k = 0; k < sizeof modes / sizeof modes[0]; k++)
                    if (m->v.str.len == strlen(modes[k]) &&
                        memcmp(m->v.str.s, modes[k], m->v.str.len) == 0)
                        known = true;
            if (!known) {
                if (m->kind == FF_SQL_N_STRING && m->v.str.len == 6 &&
                    memcmp(m->v.str.s, "strict", 6) == 0)
                    ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", m->pos,
                                   "the mode 'strict' of %s is now called 'strict_deduplication'",
                                   fname(n));
                else
                    ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", m->pos,
                                   "unknown mode of %s: use 'strict_deduplication', "
                                   "'strict_order', 'strict_increase', 'strict_once' or "
                                   "'allow_reentry'",
                                   fname(n));
                return false;
            }
            if (m->v.str.len == 12 && memcmp(m->v.str.s, "strict_order", 12) == 0)
                strict_order = true;
            if (m->v.str.len == 13 && memcmp(m->v.str.s, "allow_reentry", 13) == 0) {
                reentry = true;
                reentry_pos = m->pos;
            }
        }
        if (reentry && !strict_order) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", reentry_pos,
                           "'allow_reentry' of %s needs 'strict_order' too", fname(n));
            return false;
        }
        return true;
    }
    case FF_SQL_CHECK_SESSION: {
        const ff_sql_node *g = params[0];
        if (g->kind != FF_SQL_N_INT || (g->flags & FF_SQL_NF_NEG) || g->v.u < 1 ||
            g->v.u > 100u * 365 * 86400) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", g->pos,
                           "the gap of %s must be a positive whole number of seconds, such as "
                           "1800",
                           fname(n));
            return false;
        }
        return true;
    }
    case FF_SQL_CHECK_SEQUENCE: {
        const ff_sql_node *p = params[0];
        if (p->kind != FF_SQL_N_STRING) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", p->pos,
                           "the parameter of %s must be a pattern string such as '(?1).*(?2)'",
                           fname(n));
            return false;
        }
        return check_pattern(px, n, p, n_real_args - 1);
    }
    case FF_SQL_CHECK_DATE_DIFF: {
        const ff_sql_node *u = args[0];
        if (u->kind != FF_SQL_N_STRING) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_argument", u->pos,
                           "the first argument of %s must be a unit in quotes, such as 'day'",
                           fname(n));
            return false;
        }
        for (size_t k = 0; k < sizeof DATE_DIFF_UNITS / sizeof DATE_DIFF_UNITS[0]; k++)
            if (u->v.str.len == strlen(DATE_DIFF_UNITS[k]) &&
                strncasecmp(u->v.str.s, DATE_DIFF_UNITS[k], u->v.str.len) == 0)
                return true;
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_argument", u->pos,
                       "unknown unit of %s: use 'second', 'minute', 'hour', 'day', 'week', "
                       "'month', 'quarter' or 'year'",
                       fname(n));
        return false;
    }
    case FF_SQL_CHECK_INTERVAL_ARG1: {
        const ff_sql_node *iv = args[1];
        if (iv->kind != FF_SQL_N_CALL || iv->func < FF_SQL_FN_TO_INTERVAL_SECOND ||
            iv->func > FF_SQL_FN_TO_INTERVAL_YEAR) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_argument", iv->pos,
                           "the second argument of %s must be an INTERVAL, such as INTERVAL 15 "
                           "MINUTE",
                           fname(n));
            return false;
        }
        return true;
    }
    case FF_SQL_CHECK_MULTI_IF:
        if (n_real_args % 2 == 0) {
            ff_sql_px_fail(px, FF_EBADINPUT, "wrong_arity", n->pos,
                           "%s needs an odd number of arguments: cond1, then1, ..., else (got %u)",
                           fname(n), n_real_args);
            return false;
        }
        return true;
    case FF_SQL_CHECK_CASE_EXPR:
        if (n_real_args % 2 == 1) {
            ff_sql_px_fail(px, FF_EBADINPUT, "wrong_arity", n->pos,
                           "%s needs an even number of arguments: x, when1, then1, ..., else",
                           fname(n));
            return false;
        }
        return true;
    default:
        return true;
    }
}

static void arity_text(char *buf, size_t n, uint32_t lo, uint32_t hi)
{
    if (hi == FF_SQL_ARGS_MANY)
        snprintf(buf, n, "at least %u argument%s", lo, lo == 1 ? "" : "s");
    else if (lo == hi)
        snprintf(buf, n, "%u argument%s", lo, lo == 1 ? "" : "s");
    else
        snprintf(buf, n, "%u to %u arguments", lo, hi);
}

static bool check_call(ff_sql_pctx *px, const scope *sc, ff_sql_node *n, const ff_sql_node *agg)
{
    if (n->func == FF_SQL_FN_UNKNOWN) {
        bool is_if = false;
        ff_sql_func_id id = ff_sql_func_lookup(n->v.col.name.s, n->v.col.name.len, &is_if);
        if (id == FF_SQL_FN_UNKNOWN) {
            const char *hint = ff_sql_func_suggest(n->v.col.name.s, n->v.col.name.len);
            if (hint && strcasecmp(hint, n->v.col.name.s) == 0)
                ff_sql_px_fail(px, FF_EBADINPUT, "unknown_function", n->pos,
                               "unknown function %.64s (function names are case-sensitive: did "
                               "you mean %s?)",
                               n->v.col.name.s, hint);
            else if (hint)
                ff_sql_px_fail(px, FF_EBADINPUT, "unknown_function", n->pos,
                               "unknown function %.64s (did you mean %s?)", n->v.col.name.s, hint);
            else
                ff_sql_px_fail(px, FF_EBADINPUT, "unknown_function", n->pos,
                               "unknown function %.64s", n->v.col.name.s);
            return false;
        }
        n->func = (uint16_t)id;
        if (is_if)
            n->flags |= FF_SQL_NF_IF;
    }
    const ff_sql_func *f = ff_sql_func_get((ff_sql_func_id)n->func);
    bool is_agg = f->flags & FF_SQL_FUNC_AGGREGATE;
    uint32_t plus = (n->flags & FF_SQL_NF_IF) ? 1 : 0;

    if ((n->flags & FF_SQL_NF_DISTINCT) && !is_agg) {
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_argument", n->pos,
                       "DISTINCT is only allowed in aggregate functions, and %s is not one",
                       fname(n));
        return false;
    }
    if ((n->flags & FF_SQL_NF_STAR_ARG) && (n->func != FF_SQL_FN_COUNT || plus)) {
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_argument", n->pos,
                       "* is only allowed as the argument of count(*)");
        return false;
    }
    if ((n->flags & FF_SQL_NF_DISTINCT) && n->n_args == 0) {
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_argument", n->pos,
                       "%s(DISTINCT ...) needs an argument", fname(n));
        return false;
    }
    /* parameters */
    if ((n->flags & FF_SQL_NF_PARAMS) && f->max_params == 0) {
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", n->pos,
                       "%s takes no parameters: write %s", fname(n), f->syntax);
        return false;
    }
    if (n->n_params < f->min_params) {
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", n->pos, "%s needs %s%u parameter%s: %s",
                       fname(n), f->min_params == f->max_params ? "" : "at least ", f->min_params,
                       f->min_params == 1 ? "" : "s", f->syntax);
        return false;
    }
    if (n->n_params > f->max_params) {
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", n->kids[f->max_params]->pos,
                       "%s takes at most %u parameter%s: %s", fname(n), f->max_params,
                       f->max_params == 1 ? "" : "s", f->syntax);
        return false;
    }
    for (uint32_t i = 0; i < n->n_params; i++) {
        ff_sql_node *p = n->kids[i];
        if (p->kind != FF_SQL_N_INT && p->kind != FF_SQL_N_FLOAT && p->kind != FF_SQL_N_STRING) {
            ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", p->pos,
                           "the parameters of %s must be literal numbers or strings", fname(n));
            return false;
        }
        p->flags |= FF_SQL_NF_CONST;
    }
    /* arguments */
    uint32_t lo = f->min_args + plus;
    uint32_t hi = f->max_args == FF_SQL_ARGS_MANY ? FF_SQL_ARGS_MANY : f->max_args + plus;
    if (n->n_args < lo || (hi != FF_SQL_ARGS_MANY && n->n_args > hi)) {
        char want[64];
        arity_text(want, sizeof want, lo, hi);
        ff_sql_px_fail(px, FF_EBADINPUT, "wrong_arity", n->pos, "%s expects %s, got %u (%s%s)",
                       fname(n), want, n->n_args, f->syntax, plus ? " plus a condition" : "");
        return false;
    }
    /* aggregates */
    if (is_agg) {
        if (agg) {
            ff_sql_px_fail(px, FF_EBADINPUT, "nested_aggregate", n->pos,
                           "aggregate function %s is inside another aggregate function (%s); "
                           "compute it in a subquery",
                           fname(n), fname(agg));
            return false;
        }
        if (sc->clause == CL_WHERE || sc->clause == CL_GROUP_BY) {
            ff_sql_px_fail(px, FF_EBADINPUT, "aggregate_not_allowed", n->pos,
                           "aggregate function %s is not allowed in %s%s", fname(n),
                           clause_name(sc->clause),
                           sc->clause == CL_WHERE ? " (filter on aggregates with HAVING)" : "");
            return false;
        }
        n->flags |= FF_SQL_NF_AGG | FF_SQL_NF_HAS_AGG;
    }
    bool all_const = true;
    for (uint32_t i = 0; i < n->n_args; i++) {
        ff_sql_node *a = n->kids[n->n_params + i];
        if (!check_expr(px, sc, a, is_agg ? n : agg))
            return false;
        if (a->flags & FF_SQL_NF_HAS_AGG)
            n->flags |= FF_SQL_NF_HAS_AGG;
        if (!(a->flags & FF_SQL_NF_CONST))
            all_const = false;
    }
    if (!is_agg && all_const)
        n->flags |= FF_SQL_NF_CONST;
    return check_special(px, n, f, n->n_args - plus);
}

static bool name_eq(const ff_sql_name *a, const ff_sql_name *b)
{
    return a->s && b->s && a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

static bool check_expr(ff_sql_pctx *px, const scope *sc, ff_sql_node *n, const ff_sql_node *agg)
{
    switch (n->kind) {
    case FF_SQL_N_NULL:
    case FF_SQL_N_BOOL:
    case FF_SQL_N_INT:
    case FF_SQL_N_FLOAT:
    case FF_SQL_N_STRING:
        n->flags |= FF_SQL_NF_CONST;
        return true;
    case FF_SQL_N_COLUMN:
        if (n->v.col.qual.s) {
            const ff_sql_select *s = sc->sel;
            bool ok = name_eq(&n->v.col.qual, &s->from_alias) ||
                      (s->from_kind == FF_SQL_FROM_TABLE && !s->from_alias.s &&
                       name_eq(&n->v.col.qual, &s->from_table));
            if (!ok) {
                ff_sql_px_fail(px, FF_EBADINPUT, "unknown_table", n->pos,
                               "unknown table or alias %.64s in %.64s.%.64s", n->v.col.qual.s,
                               n->v.col.qual.s, n->v.col.name.s);
                return false;
            }
        }
        return true;
    case FF_SQL_N_STAR:
    case FF_SQL_N_POSITION:
        return true;
    case FF_SQL_N_SUBQUERY:
        return check_select(px, n->v.sub);
    case FF_SQL_N_CALL:
        return check_call(px, sc, n, agg);
    default:
        return true;
    }
}

/* GROUP BY / ORDER BY n: a position in the select list. */
static bool check_position(ff_sql_pctx *px, ff_sql_select *s, ff_sql_node *e, int clause)
{
    const char *cl = clause_name(clause);
    if (e->flags & FF_SQL_NF_NEG) {
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_position", e->pos,
                       "%s position %lld is out of range: positions start at 1", cl,
                       (long long)(int64_t)e->v.u);
        return false;
    }
    if (e->v.u < 1 || e->v.u > s->n_items) {
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_position", e->pos,
                       "%s position %llu is out of range: the select list has %u item%s", cl,
                       (unsigned long long)e->v.u, s->n_items, s->n_items == 1 ? "" : "s");
        return false;
    }
    const ff_sql_node *target = s->items[e->v.u - 1].expr;
    if (target->kind == FF_SQL_N_STAR) {
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_position", e->pos, "%s position %llu refers to *", cl,
                       (unsigned long long)e->v.u);
        return false;
    }
    if (clause == CL_GROUP_BY && (target->flags & FF_SQL_NF_HAS_AGG)) {
        ff_sql_px_fail(px, FF_EBADINPUT, "aggregate_not_allowed", e->pos,
                       "GROUP BY position %llu refers to an aggregate", (unsigned long long)e->v.u);
        return false;
    }
    e->kind = FF_SQL_N_POSITION;
    e->flags &= (uint16_t) ~(FF_SQL_NF_CONST | FF_SQL_NF_PAREN);
    return true;
}

typedef struct alias_ref {
    const ff_sql_item *it;
} alias_ref;

static int alias_cmp(const void *a, const void *b)
{
    const ff_sql_item *x = ((const alias_ref *)a)->it, *y = ((const alias_ref *)b)->it;
    uint32_t n = x->alias.len < y->alias.len ? x->alias.len : y->alias.len;
    int c = memcmp(x->alias.s, y->alias.s, n);
    if (c)
        return c;
    if (x->alias.len != y->alias.len)
        return x->alias.len < y->alias.len ? -1 : 1;
    return x < y ? -1 : x > y;
}

static bool check_aliases(ff_sql_pctx *px, const ff_sql_select *s)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < s->n_items; i++)
        n += s->items[i].alias.s != NULL;
    if (n < 2)
        return true;
    alias_ref *refs = ff_sql_px_alloc(px, n * sizeof *refs, s->pos);
    if (!refs)
        return false;
    n = 0;
    for (uint32_t i = 0; i < s->n_items; i++)
        if (s->items[i].alias.s)
            refs[n++].it = &s->items[i];
    qsort(refs, n, sizeof *refs, alias_cmp);
    for (uint32_t i = 1; i < n; i++) {
        const ff_sql_item *a = refs[i - 1].it, *b = refs[i].it;
        if (name_eq(&a->alias, &b->alias) && !ff_sql_node_equal(a->expr, b->expr)) {
            const ff_sql_item *later = a > b ? a : b;
            ff_sql_px_fail(px, FF_EBADINPUT, "duplicate_alias", later->expr->pos,
                           "alias %.64s names two different expressions", later->alias.s);
            return false;
        }
    }
    return true;
}

static bool check_select(ff_sql_pctx *px, ff_sql_select *s)
{
    if (s->from_kind == FF_SQL_FROM_TABLE) {
        if (!(s->from_table.len == 6 && memcmp(s->from_table.s, "events", 6) == 0)) {
            ff_sql_px_fail(px, FF_EBADINPUT, "unknown_table", s->from_pos,
                           "unknown table %.64s: the only table is events", s->from_table.s);
            return false;
        }
    } else if (s->from_kind == FF_SQL_FROM_SUBQUERY) {
        if (!check_select(px, s->from_sub))
            return false;
    }
    bool agg = s->n_group_by > 0;
    scope sc = {s, CL_SELECT};
    for (uint32_t i = 0; i < s->n_items; i++) {
        if (!check_expr(px, &sc, s->items[i].expr, NULL))
            return false;
        agg |= (s->items[i].expr->flags & FF_SQL_NF_HAS_AGG) != 0;
    }
    if (!check_aliases(px, s))
        return false;
    if (s->where) {
        sc.clause = CL_WHERE;
        if (!check_expr(px, &sc, s->where, NULL))
            return false;
    }
    sc.clause = CL_GROUP_BY;
    for (uint32_t i = 0; i < s->n_group_by; i++) {
        ff_sql_node *e = s->group_by[i];
        if (e->kind == FF_SQL_N_INT) {
            if (!check_position(px, s, e, CL_GROUP_BY))
                return false;
        } else if (!check_expr(px, &sc, e, NULL)) {
            return false;
        }
    }
    if (s->having) {
        sc.clause = CL_HAVING;
        if (!check_expr(px, &sc, s->having, NULL))
            return false;
        agg |= (s->having->flags & FF_SQL_NF_HAS_AGG) != 0;
    }
    sc.clause = CL_ORDER_BY;
    for (uint32_t i = 0; i < s->n_order_by; i++) {
        ff_sql_node *e = s->order_by[i].expr;
        if (e->kind == FF_SQL_N_INT) {
            if (!check_position(px, s, e, CL_ORDER_BY))
                return false;
        } else {
            if (!check_expr(px, &sc, e, NULL))
                return false;
            agg |= (e->flags & FF_SQL_NF_HAS_AGG) != 0;
        }
    }
    s->has_agg = agg;
    return true;
}

static const char *const FORMATS[] = {"JSON",          "JSONCompact",           "JSONEachRow",
                                      "CSV",           "CSVWithNames",          "TSV",
                                      "TabSeparated",  "TSVWithNames",          "Pretty",
                                      "PrettyCompact", "TabSeparatedWithNames", "Null"};

ff_rc ff_sql_check_stmt(ff_sql_pctx *px, ff_sql_stmt *st)
{
    if (!check_select(px, st->select))
        return px->rc;
    if (st->format.s) {
        bool known = false;
        for (size_t i = 0; i < sizeof FORMATS / sizeof FORMATS[0]; i++)
            if (st->format.len == strlen(FORMATS[i]) &&
                memcmp(st->format.s, FORMATS[i], st->format.len) == 0)
                known = true;
        if (!known)
            return ff_sql_px_fail(px, FF_EBADINPUT, "unknown_format", st->format_pos,
                                  "unknown format %.64s (use JSON, JSONCompact, JSONEachRow, CSV, "
                                  "CSVWithNames, TSV, TSVWithNames, Pretty or Null)",
                                  st->format.s);
    }
    return FF_OK;
}

/* ---- entry point ------------------------------------------------------- */

ff_rc ff_sql_parse(const char *text, size_t len, ff_arena *arena, ff_sql_stmt **out,
                   ff_sql_error *err)
{
    ff_sql_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    err->kind = "";
    if (out)
        *out = NULL;
    if (!out || !arena || (!text && len))
        return ff_sql_error_set(err, FF_EINVAL, "invalid_argument", NULL, 0, 0,
                                "ff_sql_parse needs text, an arena and an out pointer");
    if (len > FF_SQL_MAX_QUERY_BYTES)
        return ff_sql_error_set(err, FF_EBADINPUT, "too_long", text, len, 0,
                                "the query is %zu bytes long (limit %u)", len,
                                FF_SQL_MAX_QUERY_BYTES);
    ff_sql_pctx px;
    memset(&px, 0, sizeof px);
    px.text = text ? text : "";
    px.len = (uint32_t)len;
    px.arena = arena;
    px.err = err;
    if (ff_sql_grammar_run(&px) != FF_OK)
        return px.rc;
    ff_sql_stmt *st = ff_sql_px_alloc(&px, sizeof *st, 0);
    if (!st)
        return px.rc;
    memset(st, 0, sizeof *st);
    st->select = px.select;
    st->format = px.format;
    st->format_pos = px.format_pos;
    st->text = px.text;
    st->text_len = px.len;
    if (ff_sql_check_stmt(&px, st) != FF_OK)
        return px.rc;
    st->n_nodes = px.n_nodes;
    st->depth = px.select->depth;
    *out = st;
    return FF_OK;
}
