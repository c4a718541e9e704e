/* ff_sql_ast.c -- building, comparing and printing the query tree.
 *
 * WHAT: the builders the grammar actions call (operators become calls,
 * unary minus on a number becomes a negative literal, a AND b AND c becomes
 * one and() with three arguments, BETWEEN becomes two comparisons), plus
 * three printers: ff_sql_dump (S-expressions for tests), ff_sql_format
 * (canonical SQL that parses back to the same tree) and ff_sql_column_name
 * (ClickHouse's result column names).
 *
 * DESIGN: builders return NULL once px has an error, so actions need no
 * checks. Each builder computes depth and refuses a node deeper than
 * FF_SQL_MAX_DEPTH, which bounds every recursive walk in this file and in
 * the checks. n-ary calls grow their argument array by doubling (capacity is
 * implied: the next power of two at or above n_args), so a chain of 100 000
 * ORs costs linear time and memory.
 *
 * THREADING: builders use the parse context; printers only read the tree.
 * OWNERSHIP: builders allocate in px->arena; printers append to a caller's
 * ff_buf.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql/ff_sql_int.h"

/* ---- allocation and errors ---------------------------------------------- */

void *ff_sql_px_alloc(ff_sql_pctx *px, size_t n, uint32_t offset)
{
    if (px->rc != FF_OK)
        return NULL;
    void *p = ff_arena_alloc(px->arena, n);
    if (!p)
        ff_sql_px_nomem(px, offset);
    return p;
}

void ff_sql_px_nomem(ff_sql_pctx *px, uint32_t offset)
{
    if (px->arena->over_cap)
        ff_sql_px_fail(px, FF_ELIMIT, "arena_limit", offset,
                       "the query needs more memory than the parser may use (%zu bytes)",
                       px->arena->cap_bytes);
    else
        ff_sql_px_fail(px, FF_ENOMEM, "no_memory", offset, "out of memory while parsing");
}

static ff_sql_node *node_new(ff_sql_pctx *px, int kind, uint32_t pos, uint32_t len)
{
    ff_sql_node *n = ff_sql_px_alloc(px, sizeof *n, pos);
    if (!n)
        return NULL;
    memset(n, 0, sizeof *n);
    n->kind = (uint8_t)kind;
    n->pos = pos;
    n->len = len;
    n->depth = 1;
    px->n_nodes++;
    return n;
}

static uint32_t node_end(const ff_sql_node *n)
{
    return n->pos + n->len;
}

/* Sets n's depth from a child's; records too_deep at `at`. */
static bool grow_depth(ff_sql_pctx *px, ff_sql_node *n, uint32_t child_depth, uint32_t at)
{
    if (child_depth + 1 > FF_SQL_MAX_DEPTH) {
        ff_sql_px_fail(px, FF_EBADINPUT, "too_deep", at,
                       "the expression is nested too deeply (limit %d levels)", FF_SQL_MAX_DEPTH);
        return false;
    }
    if (child_depth + 1 > n->depth)
        n->depth = (uint16_t)(child_depth + 1);
    return true;
}

/* A call without arguments yet; call_push adds them. */
static ff_sql_node *call_new(ff_sql_pctx *px, ff_sql_func_id func, uint32_t pos, uint32_t len)
{
    ff_sql_node *n = node_new(px, FF_SQL_N_CALL, pos, len);
    if (!n)
        return NULL;
    n->func = (uint16_t)func;
    const ff_sql_func *f = ff_sql_func_get(func);
    if (f) {
        n->v.col.name.s = f->name;
        n->v.col.name.len = (uint32_t)strlen(f->name);
    }
    return n;
}

/* Appends an argument. The kids array of a call built here always has room
 * for the next power of two at or above its count, so growing doubles it. */
static bool call_push(ff_sql_pctx *px, ff_sql_node *c, ff_sql_node *arg)
{
    uint32_t count = c->n_params + c->n_args;
    if (count > 0 && (count & (count - 1)) == 0) {
        ff_sql_node **k = ff_sql_px_alloc(px, (size_t)count * 2 * sizeof *k, arg->pos);
        if (!k)
            return false;
        memcpy(k, c->kids, count * sizeof *k);
        c->kids = k;
    } else if (count == 0) {
        c->kids = ff_sql_px_alloc(px, sizeof *c->kids, arg->pos);
        if (!c->kids)
            return false;
    }
    c->kids[count] = arg;
    c->n_args++;
    if (!grow_depth(px, c, arg->depth, arg->pos))
        return false;
    if (node_end(arg) > node_end(c))
        c->len = node_end(arg) - c->pos;
    return true;
}

/* ---- lists -------------------------------------------------------------- */

void ff_sql_list_init(ff_sql_list *l)
{
    memset(l, 0, sizeof *l);
}

void ff_sql_list_add(ff_sql_pctx *px, ff_sql_list *l, void *p)
{
    if (px->rc != FF_OK || !p)
        return;
    ff_sql_cell *c = ff_sql_px_alloc(px, sizeof *c, 0);
    if (!c)
        return;
    c->p = p;
    c->next = NULL;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    l->n++;
}

/* ---- leaves ------------------------------------------------------------- */

ff_sql_node *ff_sql_mk_leaf(ff_sql_pctx *px, int kind, const ff_sql_token *t)
{
    ff_sql_node *n = node_new(px, kind, t->pos, t->len);
    if (!n)
        return NULL;
    switch (kind) {
    case FF_SQL_N_INT:
    case FF_SQL_N_BOOL:
        n->v.u = t->v.u;
        break;
    case FF_SQL_N_FLOAT:
        n->v.f = t->v.f;
        break;
    case FF_SQL_N_STRING:
        n->v.str = t->v.str;
        break;
    default:
        break;
    }
    return n;
}

ff_sql_node *ff_sql_mk_column(ff_sql_pctx *px, const ff_sql_token *qual, const ff_sql_token *name)
{
    uint32_t pos = qual ? qual->pos : name->pos;
    ff_sql_node *n = node_new(px, FF_SQL_N_COLUMN, pos, name->pos + name->len - pos);
    if (!n)
        return NULL;
    n->v.col.name = name->v.str;
    if (qual)
        n->v.col.qual = qual->v.str;
    return n;
}

ff_sql_node *ff_sql_mk_star(ff_sql_pctx *px, const ff_sql_token *t)
{
    return node_new(px, FF_SQL_N_STAR, t->pos, t->len);
}

/* ---- operators ------------------------------------------------------------ */

ff_sql_node *ff_sql_mk_op(ff_sql_pctx *px, ff_sql_func_id func, ff_sql_node *a, ff_sql_node *b)
{
    if (!a)
        return NULL;
    /* Too deep: point at the right operand, where the nesting was noticed. */
    uint32_t deepest = b && b->depth > a->depth ? b->depth : a->depth;
    if (deepest + 1 > FF_SQL_MAX_DEPTH) {
        ff_sql_px_fail(px, FF_EBADINPUT, "too_deep", b ? b->pos : a->pos,
                       "the expression is nested too deeply (limit %d levels)", FF_SQL_MAX_DEPTH);
        return NULL;
    }
    uint32_t end = node_end(b ? b : a);
    ff_sql_node *n = call_new(px, func, a->pos, end - a->pos);
    if (!n)
        return NULL;
    if (!call_push(px, n, a))
        return NULL;
    if (b && !call_push(px, n, b))
        return NULL;
    return n;
}

ff_sql_node *ff_sql_mk_nary(ff_sql_pctx *px, ff_sql_func_id func, ff_sql_node *a, ff_sql_node *b)
{
    if (!a || !b)
        return NULL;
    if (a->kind == FF_SQL_N_CALL && a->func == func && !(a->flags & FF_SQL_NF_PAREN) &&
        a->n_params == 0) {
        return call_push(px, a, b) ? a : NULL;
    }
    return ff_sql_mk_op(px, func, a, b);
}

ff_sql_node *ff_sql_mk_prefix(ff_sql_pctx *px, ff_sql_func_id func, const ff_sql_token *op,
                              ff_sql_node *a)
{
    if (!a || px->rc != FF_OK)
        return NULL;
    uint32_t end = node_end(a);
    if (func == FF_SQL_FN_NEGATE && !(a->flags & FF_SQL_NF_PAREN)) {
        /* -<number> is a negative literal, as in ClickHouse. */
        if (a->kind == FF_SQL_N_INT && !(a->flags & FF_SQL_NF_NEG) &&
            a->v.u <= (uint64_t)INT64_MAX + 1) {
            if (a->v.u != 0) {
                a->v.u = (uint64_t)0 - a->v.u;
                a->flags |= FF_SQL_NF_NEG;
            }
            a->pos = op->pos;
            a->len = end - op->pos;
            return a;
        }
        if (a->kind == FF_SQL_N_FLOAT && !signbit(a->v.f)) {
            a->v.f = -a->v.f;
            a->pos = op->pos;
            a->len = end - op->pos;
            return a;
        }
    }
    ff_sql_node *n = call_new(px, func, op->pos, end - op->pos);
    if (!n || !call_push(px, n, a))
        return NULL;
    return n;
}

ff_sql_node *ff_sql_mk_between(ff_sql_pctx *px, bool negated, ff_sql_node *x, ff_sql_node *lo,
                               ff_sql_node *hi)
{
    if (!x || !lo || !hi)
        return NULL;
    ff_sql_node *a =
        ff_sql_mk_op(px, negated ? FF_SQL_FN_LESS : FF_SQL_FN_GREATER_OR_EQUALS, x, lo);
    ff_sql_node *b =
        ff_sql_mk_op(px, negated ? FF_SQL_FN_GREATER : FF_SQL_FN_LESS_OR_EQUALS, x, hi);
    ff_sql_node *n = ff_sql_mk_op(px, negated ? FF_SQL_FN_OR : FF_SQL_FN_AND, a, b);
    if (n)
        n->flags |= FF_SQL_NF_PAREN; /* a later AND does not merge into it */
    return n;
}

ff_sql_node *ff_sql_mk_is_null(ff_sql_pctx *px, bool negated, ff_sql_node *x,
                               const ff_sql_token *last)
{
    ff_sql_node *n = ff_sql_mk_op(px, negated ? FF_SQL_FN_IS_NOT_NULL : FF_SQL_FN_IS_NULL, x, NULL);
    if (n)
        n->len = last->pos + last->len - n->pos;
    return n;
}

static bool name_is(const ff_sql_name *n, const char *s)
{
    return n->s && n->len == strlen(s) && memcmp(n->s, s, n->len) == 0;
}

ff_sql_node *ff_sql_mk_in(ff_sql_pctx *px, bool negated, ff_sql_node *x, ff_sql_node *rhs)
{
    if (!x || !rhs || px->rc != FF_OK)
        return NULL;
    bool ok = rhs->kind == FF_SQL_N_SUBQUERY || (rhs->flags & FF_SQL_NF_PAREN) ||
              (rhs->kind == FF_SQL_N_CALL && !(rhs->flags & FF_SQL_NF_PARAMS) &&
               name_is(&rhs->v.col.name, "tuple"));
    if (!ok) {
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_argument", rhs->pos,
                       "the right side of %s must be a list in parentheses or a subquery",
                       negated ? "NOT IN" : "IN");
        return NULL;
    }
    return ff_sql_mk_op(px, negated ? FF_SQL_FN_NOT_IN : FF_SQL_FN_IN, x, rhs);
}

/* ---- calls, brackets, CASE, INTERVAL ---------------------------------- */

ff_sql_node *ff_sql_mk_call(ff_sql_pctx *px, const ff_sql_token *name, ff_sql_list *params,
                            ff_sql_list *args, const ff_sql_token *rp)
{
    if (px->rc != FF_OK)
        return NULL;
    if (params && params->mod != FF_SQL_ARGS_PLAIN) {
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_parameters", params->pos,
                       "%s is not allowed in the parameters of %s",
                       params->mod == FF_SQL_ARGS_STAR ? "*" : "DISTINCT", name->v.str.s);
        return NULL;
    }
    uint32_t np = params ? params->n : 0;
    uint64_t total = (uint64_t)np + args->n;
    ff_sql_node *n = node_new(px, FF_SQL_N_CALL, name->pos, rp->pos + rp->len - name->pos);
    if (!n)
        return NULL;
    n->v.col.name = name->v.str;
    n->func = FF_SQL_FN_UNKNOWN;
    n->n_params = np;
    n->n_args = args->n;
    if (params)
        n->flags |= FF_SQL_NF_PARAMS;
    if (args->mod == FF_SQL_ARGS_STAR)
        n->flags |= FF_SQL_NF_STAR_ARG;
    else if (args->mod == FF_SQL_ARGS_DISTINCT)
        n->flags |= FF_SQL_NF_DISTINCT;
    if (total) {
        n->kids = ff_sql_px_alloc(px, (size_t)total * sizeof *n->kids, name->pos);
        if (!n->kids)
            return NULL;
    }
    uint32_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        ff_sql_list *l = pass == 0 ? params : args;
        if (!l)
            continue;
        for (ff_sql_cell *c = l->head; c; c = c->next) {
            ff_sql_node *e = c->p;
            n->kids[k++] = e;
            if (!grow_depth(px, n, e->depth, e->pos))
                return NULL;
        }
    }
    return n;
}

ff_sql_node *ff_sql_mk_paren(ff_sql_pctx *px, const ff_sql_token *lp, ff_sql_list *l,
                             const ff_sql_token *rp)
{
    if (px->rc != FF_OK || l->n == 0)
        return NULL;
    if (l->n == 1) {
        ff_sql_node *e = l->head->p;
        e->flags |= FF_SQL_NF_PAREN;
        return e;
    }
    ff_sql_node *n = call_new(px, FF_SQL_FN_TUPLE, lp->pos, rp->pos + rp->len - lp->pos);
    if (!n)
        return NULL;
    for (ff_sql_cell *c = l->head; c; c = c->next)
        if (!call_push(px, n, c->p))
            return NULL;
    n->len = rp->pos + rp->len - lp->pos;
    n->flags |= FF_SQL_NF_PAREN;
    return n;
}

ff_sql_node *ff_sql_mk_array(ff_sql_pctx *px, const ff_sql_token *lb, ff_sql_list *l,
                             const ff_sql_token *rb)
{
    ff_sql_node *n = call_new(px, FF_SQL_FN_ARRAY, lb->pos, rb->pos + rb->len - lb->pos);
    if (!n)
        return NULL;
    for (ff_sql_cell *c = l->head; c; c = c->next)
        if (!call_push(px, n, c->p))
            return NULL;
    n->len = rb->pos + rb->len - lb->pos;
    return n;
}

ff_sql_node *ff_sql_mk_subscript(ff_sql_pctx *px, ff_sql_node *a, ff_sql_node *i,
                                 const ff_sql_token *rb)
{
    ff_sql_node *n = ff_sql_mk_op(px, FF_SQL_FN_ARRAY_ELEMENT, a, i);
    if (n)
        n->len = rb->pos + rb->len - n->pos;
    return n;
}

ff_sql_node *ff_sql_mk_subquery(ff_sql_pctx *px, const ff_sql_token *lp, ff_sql_select *s,
                                const ff_sql_token *rp)
{
    if (!s)
        return NULL;
    ff_sql_node *n = node_new(px, FF_SQL_N_SUBQUERY, lp->pos, rp->pos + rp->len - lp->pos);
    if (!n)
        return NULL;
    n->v.sub = s;
    if (!grow_depth(px, n, s->depth, lp->pos))
        return NULL;
    return n;
}

ff_sql_node *ff_sql_mk_case(ff_sql_pctx *px, const ff_sql_token *kw, ff_sql_node *operand,
                            ff_sql_list *whens, ff_sql_node *els, const ff_sql_token *end)
{
    if (px->rc != FF_OK)
        return NULL;
    uint32_t len = end->pos + end->len - kw->pos;
    ff_sql_func_id f = operand ? FF_SQL_FN_CASE_WITH_EXPRESSION : FF_SQL_FN_MULTI_IF;
    ff_sql_node *n = call_new(px, f, kw->pos, len);
    if (!n)
        return NULL;
    if (operand && !call_push(px, n, operand))
        return NULL;
    for (ff_sql_cell *c = whens->head; c; c = c->next)
        if (!call_push(px, n, c->p))
            return NULL;
    if (!els) {
        els = node_new(px, FF_SQL_N_NULL, end->pos, end->len); /* no ELSE: NULL */
        if (!els)
            return NULL;
    }
    if (!call_push(px, n, els))
        return NULL;
    n->pos = kw->pos;
    n->len = len;
    return n;
}

static const struct {
    const char *unit;
    ff_sql_func_id func;
} INTERVAL_UNITS[] = {
    {"second", FF_SQL_FN_TO_INTERVAL_SECOND},   {"minute", FF_SQL_FN_TO_INTERVAL_MINUTE},
    {"hour", FF_SQL_FN_TO_INTERVAL_HOUR},       {"day", FF_SQL_FN_TO_INTERVAL_DAY},
    {"week", FF_SQL_FN_TO_INTERVAL_WEEK},       {"month", FF_SQL_FN_TO_INTERVAL_MONTH},
    {"quarter", FF_SQL_FN_TO_INTERVAL_QUARTER}, {"year", FF_SQL_FN_TO_INTERVAL_YEAR},
};

ff_sql_node *ff_sql_mk_interval(ff_sql_pctx *px, const ff_sql_token *kw, const ff_sql_token *minus,
                                ff_sql_node *n, const ff_sql_token *unit)
{
    if (!n || px->rc != FF_OK)
        return NULL;
    ff_sql_func_id f = FF_SQL_FN_UNKNOWN;
    for (size_t i = 0; i < sizeof INTERVAL_UNITS / sizeof INTERVAL_UNITS[0]; i++) {
        const char *u = INTERVAL_UNITS[i].unit;
        if (unit->v.str.len == strlen(u) && strncasecmp(unit->v.str.s, u, unit->v.str.len) == 0)
            f = INTERVAL_UNITS[i].func;
    }
    if (f == FF_SQL_FN_UNKNOWN) {
        ff_sql_px_fail(px, FF_EBADINPUT, "bad_interval", unit->pos,
                       "unknown interval unit %.40s (expected SECOND, MINUTE, HOUR, DAY, WEEK, "
                       "MONTH, QUARTER or YEAR)",
                       unit->v.str.s);
        return NULL;
    }
    if (minus)
        n = ff_sql_mk_prefix(px, FF_SQL_FN_NEGATE, minus, n);
    ff_sql_node *c = ff_sql_mk_op(px, f, n, NULL);
    if (c) {
        c->pos = kw->pos;
        c->len = unit->pos + unit->len - kw->pos;
    }
    return c;
}

/* ---- select ------------------------------------------------------------- */

ff_sql_item *ff_sql_mk_item(ff_sql_pctx *px, ff_sql_node *e, const ff_sql_token *alias)
{
    if (!e)
        return NULL;
    ff_sql_item *it = ff_sql_px_alloc(px, sizeof *it, e->pos);
    if (!it)
        return NULL;
    it->expr = e;
    it->alias.s = NULL;
    it->alias.len = 0;
    if (alias)
        it->alias = alias->v.str;
    return it;
}

ff_sql_order *ff_sql_mk_order(ff_sql_pctx *px, ff_sql_node *e, int desc, int nulls)
{
    if (!e)
        return NULL;
    ff_sql_order *o = ff_sql_px_alloc(px, sizeof *o, e->pos);
    if (!o)
        return NULL;
    o->expr = e;
    o->desc = (uint8_t)desc;
    o->nulls = (uint8_t)nulls;
    return o;
}

/* A SELECT is as deep as its deepest clause (it adds no level of its own:
 * a subquery node above it does), so a top-level expression may use the
 * whole FF_SQL_MAX_DEPTH. */
static bool sel_depth(ff_sql_pctx *px, ff_sql_select *s, uint32_t child, uint32_t at)
{
    if (child > FF_SQL_MAX_DEPTH) {
        ff_sql_px_fail(px, FF_EBADINPUT, "too_deep", at,
                       "the query is nested too deeply (limit %d levels)", FF_SQL_MAX_DEPTH);
        return false;
    }
    if (child > s->depth)
        s->depth = (uint16_t)child;
    return true;
}

static void sel_span(ff_sql_select *s, const ff_sql_node *n)
{
    if (n && n->pos + n->len > s->pos + s->len)
        s->len = n->pos + n->len - s->pos;
}

ff_sql_select *ff_sql_mk_select(ff_sql_pctx *px, const ff_sql_token *kw, bool distinct,
                                ff_sql_list *items, const ff_sql_from *from, ff_sql_node *where,
                                ff_sql_list *group_by, ff_sql_node *having, ff_sql_list *order_by,
                                const ff_sql_limit *limit)
{
    if (px->rc != FF_OK)
        return NULL;
    ff_sql_select *s = ff_sql_px_alloc(px, sizeof *s, kw->pos);
    if (!s)
        return NULL;
    memset(s, 0, sizeof *s);
    s->pos = kw->pos;
    s->len = kw->len;
    s->depth = 0;
    s->distinct = distinct;
    if (from) {
        s->from_kind = from->kind;
        s->from_table = from->table;
        s->from_sub = from->sub;
        s->from_alias = from->alias;
        s->from_pos = from->pos;
        if (from->sub && !sel_depth(px, s, from->sub->depth + 1u, from->pos))
            return NULL;
    }
    s->n_items = items->n;
    s->items = ff_sql_px_alloc(px, (size_t)items->n * sizeof *s->items, kw->pos);
    if (!s->items)
        return NULL;
    uint32_t k = 0;
    for (ff_sql_cell *c = items->head; c; c = c->next) {
        ff_sql_item *it = c->p;
        s->items[k++] = *it;
        if (!sel_depth(px, s, it->expr->depth, it->expr->pos))
            return NULL;
        sel_span(s, it->expr);
    }
    s->where = where;
    s->having = having;
    if (where && !sel_depth(px, s, where->depth, where->pos))
        return NULL;
    if (having && !sel_depth(px, s, having->depth, having->pos))
        return NULL;
    if (group_by->n) {
        s->n_group_by = group_by->n;
        s->group_by = ff_sql_px_alloc(px, (size_t)group_by->n * sizeof *s->group_by, kw->pos);
        if (!s->group_by)
            return NULL;
        k = 0;
        for (ff_sql_cell *c = group_by->head; c; c = c->next) {
            ff_sql_node *e = c->p;
            s->group_by[k++] = e;
            if (!sel_depth(px, s, e->depth, e->pos))
                return NULL;
        }
    }
    if (order_by->n) {
        s->n_order_by = order_by->n;
        s->order_by = ff_sql_px_alloc(px, (size_t)order_by->n * sizeof *s->order_by, kw->pos);
        if (!s->order_by)
            return NULL;
        k = 0;
        for (ff_sql_cell *c = order_by->head; c; c = c->next) {
            ff_sql_order *o = c->p;
            s->order_by[k++] = *o;
            if (!sel_depth(px, s, o->expr->depth, o->expr->pos))
                return NULL;
        }
    }
    sel_span(s, where);
    sel_span(s, having);
    s->has_limit = limit->has_limit;
    s->has_offset = limit->has_offset;
    s->limit = limit->limit;
    s->offset = limit->offset;
    if (px->last_end > s->pos + s->len && px->last_end <= px->len)
        s->len = px->last_end - s->pos;
    return s;
}

/* ---- equality ------------------------------------------------------------ */

static bool name_eq(const ff_sql_name *a, const ff_sql_name *b)
{
    if (!a->s || !b->s)
        return !a->s && !b->s;
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

static bool select_equal(const ff_sql_select *a, const ff_sql_select *b);

#define FF_SQL_NF_SEMANTIC (FF_SQL_NF_NEG | FF_SQL_NF_DISTINCT | FF_SQL_NF_IF)

bool ff_sql_node_equal(const ff_sql_node *a, const ff_sql_node *b)
{
    if (a == b)
        return true;
    if (!a || !b || a->kind != b->kind ||
        (a->flags & FF_SQL_NF_SEMANTIC) != (b->flags & FF_SQL_NF_SEMANTIC))
        return false;
    switch (a->kind) {
    case FF_SQL_N_NULL:
    case FF_SQL_N_STAR:
        return true;
    case FF_SQL_N_BOOL:
    case FF_SQL_N_INT:
    case FF_SQL_N_POSITION:
        return a->v.u == b->v.u;
    case FF_SQL_N_FLOAT:
        return memcmp(&a->v.f, &b->v.f, sizeof a->v.f) == 0;
    case FF_SQL_N_STRING:
        return name_eq(&a->v.str, &b->v.str);
    case FF_SQL_N_COLUMN:
        return name_eq(&a->v.col.name, &b->v.col.name) && name_eq(&a->v.col.qual, &b->v.col.qual);
    case FF_SQL_N_SUBQUERY:
        return select_equal(a->v.sub, b->v.sub);
    case FF_SQL_N_CALL:
        if (a->func != b->func || a->n_params != b->n_params || a->n_args != b->n_args)
            return false;
        if (a->func == FF_SQL_FN_UNKNOWN && !name_eq(&a->v.col.name, &b->v.col.name))
            return false;
        for (uint32_t i = 0; i < a->n_params + a->n_args; i++)
            if (!ff_sql_node_equal(a->kids[i], b->kids[i]))
                return false;
        return true;
    default:
        return false;
    }
}

static bool select_equal(const ff_sql_select *a, const ff_sql_select *b)
{
    if (a->distinct != b->distinct || a->from_kind != b->from_kind || a->n_items != b->n_items ||
        a->n_group_by != b->n_group_by || a->n_order_by != b->n_order_by ||
        a->has_limit != b->has_limit || a->has_offset != b->has_offset || a->limit != b->limit ||
        a->offset != b->offset || !name_eq(&a->from_table, &b->from_table) ||
        !name_eq(&a->from_alias, &b->from_alias))
        return false;
    if (a->from_kind == FF_SQL_FROM_SUBQUERY && !select_equal(a->from_sub, b->from_sub))
        return false;
    for (uint32_t i = 0; i < a->n_items; i++)
        if (!ff_sql_node_equal(a->items[i].expr, b->items[i].expr) ||
            !name_eq(&a->items[i].alias, &b->items[i].alias))
            return false;
    if (!!a->where != !!b->where || (a->where && !ff_sql_node_equal(a->where, b->where)))
        return false;
    if (!!a->having != !!b->having || (a->having && !ff_sql_node_equal(a->having, b->having)))
        return false;
    for (uint32_t i = 0; i < a->n_group_by; i++)
        if (!ff_sql_node_equal(a->group_by[i], b->group_by[i]))
            return false;
    for (uint32_t i = 0; i < a->n_order_by; i++)
        if (a->order_by[i].desc != b->order_by[i].desc ||
            a->order_by[i].nulls != b->order_by[i].nulls ||
            !ff_sql_node_equal(a->order_by[i].expr, b->order_by[i].expr))
            return false;
    return true;
}

/* ---- printing helpers ----------------------------------------------------- */

typedef struct pr {
    ff_buf *b;
    ff_rc rc;
} pr;

static void put(pr *p, const char *s)
{
    if (p->rc == FF_OK)
        p->rc = ff_buf_adds(p->b, s);
}

static void putn(pr *p, const char *s, size_t n)
{
    if (p->rc == FF_OK)
        p->rc = ff_buf_add(p->b, s, n);
}

static void putc_(pr *p, char c)
{
    if (p->rc == FF_OK)
        p->rc = ff_buf_addc(p->b, c);
}

static void put_u64(pr *p, uint64_t v)
{
    if (p->rc == FF_OK)
        p->rc = ff_buf_add_u64(p->b, v);
}

static void put_int(pr *p, const ff_sql_node *n)
{
    if (n->flags & FF_SQL_NF_NEG) {
        putc_(p, '-');
        put_u64(p, (uint64_t)0 - n->v.u);
    } else {
        put_u64(p, n->v.u);
    }
}

/* Shortest %g that reads back to the same double; always looks like a float. */
static void put_float(pr *p, double f)
{
    char buf[64];
    if (isnan(f)) {
        put(p, signbit(f) ? "-nan" : "nan");
        return;
    }
    if (isinf(f)) {
        put(p, f < 0 ? "-inf" : "inf");
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, f);
        if (strtod(buf, NULL) == f)
            break;
    }
    put(p, buf);
    if (!strpbrk(buf, ".e"))
        put(p, ".0");
}

static const char HEX[] = "0123456789abcdef";

/* Quoted with the escapes our lexer (and ClickHouse) reads back. */
static void put_quoted(pr *p, const ff_sql_name *s, char quote)
{
    putc_(p, quote);
    for (uint32_t i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->s[i];
        if (c == (unsigned char)quote || c == '\\') {
            putc_(p, '\\');
            putc_(p, (char)c);
        } else if (c == '\n') {
            putn(p, "\\n", 2);
        } else if (c == '\t') {
            putn(p, "\\t", 2);
        } else if (c == '\r') {
            putn(p, "\\r", 2);
        } else if (c == 0) {
            putn(p, "\\0", 2);
        } else if (c < 0x20 || c == 0x7f) {
            char e[4] = {'\\', 'x', HEX[c >> 4], HEX[c & 15]};
            putn(p, e, 4);
        } else {
            putc_(p, (char)c);
        }
    }
    putc_(p, quote);
}

static bool ident_plain(const ff_sql_name *s)
{
    if (!s->len)
        return false;
    for (uint32_t i = 0; i < s->len; i++) {
        unsigned char c = (unsigned char)s->s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return !ff_sql_is_keyword(s->s, s->len);
}

static void put_ident(pr *p, const ff_sql_name *s)
{
    if (ident_plain(s))
        putn(p, s->s, s->len);
    else
        put_quoted(p, s, '`');
}

static void put_column(pr *p, const ff_sql_node *n)
{
    if (n->v.col.qual.s) {
        put_ident(p, &n->v.col.qual);
        putc_(p, '.');
    }
    put_ident(p, &n->v.col.name);
}

/* Canonical call name: the catalogue's, with If for the combinator. */
static void put_func_name(pr *p, const ff_sql_node *n)
{
    const ff_sql_func *f = ff_sql_func_get((ff_sql_func_id)n->func);
    if (f)
        put(p, f->name);
    else
        putn(p, n->v.col.name.s, n->v.col.name.len);
    if (f && (n->flags & FF_SQL_NF_IF))
        put(p, "If");
}

/* ---- dump (S-expressions) ------------------------------------------------ */

/* Literals, columns and `*` print the same in the dump and as SQL. Returns false for
 * the other kinds, which each printer handles itself. */
static bool put_leaf(pr *p, const ff_sql_node *n)
{
    switch (n->kind) {
    case FF_SQL_N_NULL:
        put(p, "NULL");
        break;
    case FF_SQL_N_BOOL:
        put(p, n->v.u ? "true" : "false");
        break;
    case FF_SQL_N_INT:
        put_int(p, n);
        break;
    case FF_SQL_N_FLOAT:
        put_float(p, n->v.f);
        break;
    case FF_SQL_N_STRING:
        put_quoted(p, &n->v.str, '\'');
        break;
    case FF_SQL_N_COLUMN:
        put_column(p, n);
        break;
    case FF_SQL_N_STAR:
        putc_(p, '*');
        break;
    default:
        return false;
    }
    return true;
}

static void dump_select(pr *p, const ff_sql_select *s);

static void dump_node(pr *p, const ff_sql_node *n)
{
    if (put_leaf(p, n))
        return;
    switch (n->kind) {
    case FF_SQL_N_POSITION:
        put(p, "(pos ");
        put_u64(p, n->v.u);
        putc_(p, ')');
        break;
    case FF_SQL_N_SUBQUERY:
        put(p, "(subquery ");
        dump_select(p, n->v.sub);
        putc_(p, ')');
        break;
    case FF_SQL_N_CALL:
        putc_(p, '(');
        put_func_name(p, n);
        if (n->flags & FF_SQL_NF_DISTINCT)
            put(p, " DISTINCT");
        if (n->flags & FF_SQL_NF_PARAMS) {
            put(p, " [");
            for (uint32_t i = 0; i < n->n_params; i++) {
                if (i)
                    putc_(p, ' ');
                dump_node(p, n->kids[i]);
            }
            putc_(p, ']');
        }
        for (uint32_t i = 0; i < n->n_args; i++) {
            putc_(p, ' ');
            dump_node(p, n->kids[n->n_params + i]);
        }
        putc_(p, ')');
        break;
    default:
        put(p, "(?)");
        break;
    }
}

static void dump_select(pr *p, const ff_sql_select *s)
{
    put(p, s->distinct ? "(select distinct (items" : "(select (items");
    for (uint32_t i = 0; i < s->n_items; i++) {
        putc_(p, ' ');
        if (s->items[i].alias.s) {
            put(p, "(as ");
            dump_node(p, s->items[i].expr);
            putc_(p, ' ');
            put_ident(p, &s->items[i].alias);
            putc_(p, ')');
        } else {
            dump_node(p, s->items[i].expr);
        }
    }
    putc_(p, ')');
    if (s->from_kind != FF_SQL_FROM_NONE) {
        put(p, " (from ");
        if (s->from_kind == FF_SQL_FROM_TABLE)
            put_ident(p, &s->from_table);
        else
            dump_select(p, s->from_sub);
        if (s->from_alias.s) {
            putc_(p, ' ');
            put_ident(p, &s->from_alias);
        }
        putc_(p, ')');
    }
    if (s->where) {
        put(p, " (where ");
        dump_node(p, s->where);
        putc_(p, ')');
    }
    if (s->n_group_by) {
        put(p, " (group-by");
        for (uint32_t i = 0; i < s->n_group_by; i++) {
            putc_(p, ' ');
            dump_node(p, s->group_by[i]);
        }
        putc_(p, ')');
    }
    if (s->having) {
        put(p, " (having ");
        dump_node(p, s->having);
        putc_(p, ')');
    }
    if (s->n_order_by) {
        put(p, " (order-by");
        for (uint32_t i = 0; i < s->n_order_by; i++) {
            const ff_sql_order *o = &s->order_by[i];
            put(p, o->desc ? " (desc " : " (asc ");
            dump_node(p, o->expr);
            if (o->nulls == FF_SQL_NULLS_FIRST)
                put(p, " nulls-first");
            else if (o->nulls == FF_SQL_NULLS_LAST)
                put(p, " nulls-last");
            putc_(p, ')');
        }
        putc_(p, ')');
    }
    if (s->has_limit) {
        put(p, " (limit ");
        put_u64(p, s->limit);
        putc_(p, ')');
    }
    if (s->has_offset) {
        put(p, " (offset ");
        put_u64(p, s->offset);
        putc_(p, ')');
    }
    putc_(p, ')');
}

ff_rc ff_sql_dump_node(const ff_sql_node *n, ff_buf *out)
{
    pr p = {out, FF_OK};
    dump_node(&p, n);
    return p.rc;
}

ff_rc ff_sql_dump(const ff_sql_stmt *st, ff_buf *out)
{
    pr p = {out, FF_OK};
    dump_select(&p, st->select);
    if (st->format.s) {
        put(&p, " (format ");
        putn(&p, st->format.s, st->format.len); /* a known name, see ff_sql_check_stmt */
        putc_(&p, ')');
    }
    return p.rc;
}

/* ---- format (canonical SQL) -------------------------------------------- */

static void fmt_select(pr *p, const ff_sql_select *s);
static void fmt_node(pr *p, const ff_sql_node *n);

static const char *infix_op(ff_sql_func_id f)
{
    switch (f) {
    case FF_SQL_FN_PLUS:
        return " + ";
    case FF_SQL_FN_MINUS:
        return " - ";
    case FF_SQL_FN_MULTIPLY:
        return " * ";
    case FF_SQL_FN_DIVIDE:
        return " / ";
    case FF_SQL_FN_MODULO:
        return " % ";
    case FF_SQL_FN_EQUALS:
        return " = ";
    case FF_SQL_FN_NOT_EQUALS:
        return " != ";
    case FF_SQL_FN_LESS:
        return " < ";
    case FF_SQL_FN_GREATER:
        return " > ";
    case FF_SQL_FN_LESS_OR_EQUALS:
        return " <= ";
    case FF_SQL_FN_GREATER_OR_EQUALS:
        return " >= ";
    case FF_SQL_FN_LIKE:
        return " LIKE ";
    case FF_SQL_FN_NOT_LIKE:
        return " NOT LIKE ";
    case FF_SQL_FN_ILIKE:
        return " ILIKE ";
    case FF_SQL_FN_NOT_ILIKE:
        return " NOT ILIKE ";
    case FF_SQL_FN_AND:
        return " AND ";
    case FF_SQL_FN_OR:
        return " OR ";
    case FF_SQL_FN_CONCAT:
        return " || ";
    default:
        return NULL;
    }
}

static void fmt_list(pr *p, ff_sql_node *const *k, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (i)
            put(p, ", ");
        fmt_node(p, k[i]);
    }
}

static void fmt_call(pr *p, const ff_sql_node *n)
{
    ff_sql_func_id f = (ff_sql_func_id)n->func;
    ff_sql_node *const *args = n->kids ? n->kids + n->n_params : NULL; /* no NULL + 0 */
    const char *op = infix_op(f);
    bool plain = !(n->flags & (FF_SQL_NF_PARAMS | FF_SQL_NF_DISTINCT | FF_SQL_NF_IF));
    if (plain && op && n->n_args >= 2) {
        putc_(p, '(');
        for (uint32_t i = 0; i < n->n_args; i++) {
            if (i)
                put(p, op);
            fmt_node(p, args[i]);
        }
        putc_(p, ')');
        return;
    }
    if (plain && n->n_args == 1 &&
        (f == FF_SQL_FN_NOT || f == FF_SQL_FN_IS_NULL || f == FF_SQL_FN_IS_NOT_NULL)) {
        putc_(p, '(');
        if (f == FF_SQL_FN_NOT)
            put(p, "NOT ");
        fmt_node(p, args[0]);
        if (f == FF_SQL_FN_IS_NULL)
            put(p, " IS NULL");
        else if (f == FF_SQL_FN_IS_NOT_NULL)
            put(p, " IS NOT NULL");
        putc_(p, ')');
        return;
    }
    if (plain && n->n_args == 2 && (f == FF_SQL_FN_IN || f == FF_SQL_FN_NOT_IN)) {
        putc_(p, '(');
        fmt_node(p, args[0]);
        put(p, f == FF_SQL_FN_IN ? " IN " : " NOT IN ");
        const ff_sql_node *r = args[1];
        if (r->kind == FF_SQL_N_SUBQUERY ||
            (r->kind == FF_SQL_N_CALL && r->func == FF_SQL_FN_TUPLE && r->n_args >= 2 &&
             !(r->flags & FF_SQL_NF_PARAMS))) {
            fmt_node(p, r);
        } else {
            putc_(p, '(');
            fmt_node(p, r);
            putc_(p, ')');
        }
        putc_(p, ')');
        return;
    }
    if (plain && f == FF_SQL_FN_TUPLE && n->n_args >= 2) {
        putc_(p, '(');
        fmt_list(p, args, n->n_args);
        putc_(p, ')');
        return;
    }
    if (plain && f == FF_SQL_FN_ARRAY) {
        putc_(p, '[');
        fmt_list(p, args, n->n_args);
        putc_(p, ']');
        return;
    }
    put_func_name(p, n);
    if (n->flags & FF_SQL_NF_PARAMS) {
        putc_(p, '(');
        fmt_list(p, n->kids, n->n_params);
        putc_(p, ')');
    }
    putc_(p, '(');
    if (n->flags & FF_SQL_NF_DISTINCT)
        put(p, "DISTINCT ");
    fmt_list(p, args, n->n_args);
    putc_(p, ')');
}

static void fmt_node(pr *p, const ff_sql_node *n)
{
    if (put_leaf(p, n))
        return;
    switch (n->kind) {
    case FF_SQL_N_POSITION:
        put_u64(p, n->v.u);
        break;
    case FF_SQL_N_SUBQUERY:
        putc_(p, '(');
        fmt_select(p, n->v.sub);
        putc_(p, ')');
        break;
    case FF_SQL_N_CALL:
        fmt_call(p, n);
        break;
    default:
        break;
    }
}

static void fmt_select(pr *p, const ff_sql_select *s)
{
    put(p, s->distinct ? "SELECT DISTINCT " : "SELECT ");
    for (uint32_t i = 0; i < s->n_items; i++) {
        if (i)
            put(p, ", ");
        fmt_node(p, s->items[i].expr);
        if (s->items[i].alias.s) {
            put(p, " AS ");
            put_ident(p, &s->items[i].alias);
        }
    }
    if (s->from_kind == FF_SQL_FROM_TABLE) {
        put(p, " FROM ");
        put_ident(p, &s->from_table);
    } else if (s->from_kind == FF_SQL_FROM_SUBQUERY) {
        put(p, " FROM (");
        fmt_select(p, s->from_sub);
        putc_(p, ')');
    }
    if (s->from_kind != FF_SQL_FROM_NONE && s->from_alias.s) {
        put(p, " AS ");
        put_ident(p, &s->from_alias);
    }
    if (s->where) {
        put(p, " WHERE ");
        fmt_node(p, s->where);
    }
    if (s->n_group_by) {
        put(p, " GROUP BY ");
        fmt_list(p, s->group_by, s->n_group_by);
    }
    if (s->having) {
        put(p, " HAVING ");
        fmt_node(p, s->having);
    }
    if (s->n_order_by) {
        put(p, " ORDER BY ");
        for (uint32_t i = 0; i < s->n_order_by; i++) {
            const ff_sql_order *o = &s->order_by[i];
            if (i)
                put(p, ", ");
            fmt_node(p, o->expr);
            if (o->desc)
                put(p, " DESC");
            if (o->nulls == FF_SQL_NULLS_FIRST)
                put(p, " NULLS FIRST");
            else if (o->nulls == FF_SQL_NULLS_LAST)
                put(p, " NULLS LAST");
        }
    }
    if (s->has_limit) {
        put(p, " LIMIT ");
        put_u64(p, s->limit);
    }
    if (s->has_offset) {
        put(p, " OFFSET ");
        put_u64(p, s->offset);
    }
}

ff_rc ff_sql_format_node(const ff_sql_node *n, ff_buf *out)
{
    pr p = {out, FF_OK};
    fmt_node(&p, n);
    return p.rc;
}

ff_rc ff_sql_format(const ff_sql_stmt *st, ff_buf *out)
{
    pr p = {out, FF_OK};
    fmt_select(&p, st->select);
    if (st->format.s) {
        put(&p, " FORMAT ");
        if (st->format.len == 4 && memcmp(st->format.s, "Null", 4) == 0)
            put(&p, "Null"); /* a keyword, but FORMAT accepts it */
        else
            put_ident(&p, &st->format);
    }
    return p.rc;
}

/* ---- ClickHouse result column names ------------------------------------ */

static void colname(pr *p, const ff_sql_node *n)
{
    switch (n->kind) {
    case FF_SQL_N_NULL:
        put(p, "NULL");
        return;
    case FF_SQL_N_BOOL:
        put(p, n->v.u ? "true" : "false");
        return;
    case FF_SQL_N_INT:
        put_int(p, n);
        return;
    case FF_SQL_N_FLOAT: {
        char buf[64];
        snprintf(buf, sizeof buf, "%.17g", n->v.f);
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(buf, sizeof buf, "%.*g", prec, n->v.f);
            if (strtod(buf, NULL) == n->v.f)
                break;
        }
        put(p, buf);
        return;
    }
    case FF_SQL_N_STRING:
        put_quoted(p, &n->v.str, '\'');
        return;
    case FF_SQL_N_COLUMN:
        if (n->v.col.qual.s) {
            putn(p, n->v.col.qual.s, n->v.col.qual.len);
            putc_(p, '.');
        }
        putn(p, n->v.col.name.s, n->v.col.name.len);
        return;
    case FF_SQL_N_STAR:
        putc_(p, '*');
        return;
    case FF_SQL_N_POSITION:
        put_u64(p, n->v.u);
        return;
    case FF_SQL_N_SUBQUERY:
        put(p, "_subquery");
        return;
    case FF_SQL_N_CALL:
        break;
    default:
        return;
    }
    ff_sql_node *const *args = n->kids ? n->kids + n->n_params : NULL; /* no NULL + 0 */
    if (n->func == FF_SQL_FN_ARRAY) {
        putc_(p, '[');
        for (uint32_t i = 0; i < n->n_args; i++) {
            if (i)
                put(p, ", ");
            colname(p, args[i]);
        }
        putc_(p, ']');
        return;
    }
    /* As written (COUNT stays COUNT, ClickHouse keeps the spelling). */
    putn(p, n->v.col.name.s, n->v.col.name.len);
    if (n->flags & FF_SQL_NF_DISTINCT)
        put(p, "Distinct");
    if (n->flags & FF_SQL_NF_PARAMS) {
        putc_(p, '(');
        for (uint32_t i = 0; i < n->n_params; i++) {
            if (i)
                put(p, ", ");
            colname(p, n->kids[i]);
        }
        putc_(p, ')');
    }
    putc_(p, '(');
    for (uint32_t i = 0; i < n->n_args; i++) {
        if (i)
            put(p, ", ");
        colname(p, args[i]);
    }
    putc_(p, ')');
}

ff_rc ff_sql_column_name(const ff_sql_node *n, ff_buf *out)
{
    pr p = {out, FF_OK};
    colname(&p, n);
    return p.rc;
}
