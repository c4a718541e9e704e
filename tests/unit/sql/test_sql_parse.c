/* test_sql_parse.c -- query text to tree, checked through ff_sql_dump.
 *
 * The table pins ClickHouse's operator priorities and associativity, the
 * desugaring of every operator into its function, literal decoding, keyword
 * case, fallback keywords as identifiers, and the SELECT clauses. Then:
 * node flags, exact depth limits for every kind of nesting, the size and
 * identifier limits, the arena cap, failing allocations, and input that is
 * not NUL-terminated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_mem.h"
#include "ff_test.h"
#include "sql/ff_sql.h"

typedef struct pcase {
    const char *q;
    const char *dump;
} pcase;

#define ITEMS(x) "(select (items " x "))"

static const pcase CASES[] = {
    /* priorities and associativity (ClickHouse's operator table) */
    {"SELECT 1 + 2 * 3", ITEMS("(plus 1 (multiply 2 3))")},
    {"SELECT (1 + 2) * 3", ITEMS("(multiply (plus 1 2) 3)")},
    {"SELECT 1 - 2 - 3", ITEMS("(minus (minus 1 2) 3)")},
    {"SELECT 8 / 4 / 2, 7 % 3", ITEMS("(divide (divide 8 4) 2) (modulo 7 3)")},
    {"SELECT a OR b AND c", ITEMS("(or a (and b c))")},
    {"SELECT a AND b AND c OR d OR e", ITEMS("(or (and a b c) d e)")},
    {"SELECT (a AND b) AND c", ITEMS("(and (and a b) c)")},
    {"SELECT NOT a = b", ITEMS("(not (equals a b))")},
    {"SELECT NOT a AND b", ITEMS("(and (not a) b)")},
    {"SELECT NOT NOT a", ITEMS("(not (not a))")},
    {"SELECT a = NOT b", ITEMS("(equals a (not b))")},
    {"SELECT a = b = c", ITEMS("(equals (equals a b) c)")},
    {"SELECT a < b, a <= b, a > b, a >= b, a != b, a <> b, a == b",
     ITEMS("(less a b) (lessOrEquals a b) (greater a b) (greaterOrEquals a b) (notEquals a b) "
           "(notEquals a b) (equals a b)")},
    {"SELECT -x * 2", ITEMS("(multiply (negate x) 2)")},
    {"SELECT -2 * x", ITEMS("(multiply -2 x)")},
    {"SELECT - -2, -(2), -(-2)", ITEMS("(negate -2) (negate 2) (negate -2)")},
    {"SELECT 1 - -1, 1-1", ITEMS("(minus 1 -1) (minus 1 1)")},
    {"SELECT x[1][2], -x[1]",
     ITEMS("(arrayElement (arrayElement x 1) 2) (negate (arrayElement x 1))")},
    {"SELECT a || b || c", ITEMS("(concat a b c)")},
    {"SELECT a + b || c", ITEMS("(concat (plus a b) c)")},
    {"SELECT a || b = c", ITEMS("(equals (concat a b) c)")},
    {"SELECT x BETWEEN 1 AND 2 AND y",
     ITEMS("(and (and (greaterOrEquals x 1) (lessOrEquals x 2)) y)")},
    {"SELECT x NOT BETWEEN 1 AND 2", ITEMS("(or (less x 1) (greater x 2))")},
    {"SELECT x BETWEEN 1 + 1 AND 2 * 3",
     ITEMS("(and (greaterOrEquals x (plus 1 1)) (lessOrEquals x (multiply 2 3)))")},
    {"SELECT NOT x BETWEEN 1 AND 2", ITEMS("(not (and (greaterOrEquals x 1) (lessOrEquals x 2)))")},
    {"SELECT x = 1 BETWEEN 0 AND 1",
     ITEMS("(and (greaterOrEquals (equals x 1) 0) (lessOrEquals (equals x 1) 1))")},
    {"SELECT x IS NULL AND y IS NOT NULL", ITEMS("(and (isNull x) (isNotNull y))")},
    {"SELECT x = 1 IS NULL", ITEMS("(isNull (equals x 1))")},
    {"SELECT NOT x IS NULL", ITEMS("(not (isNull x))")},
    {"SELECT x LIKE 'a%' OR x NOT LIKE 'b%'", ITEMS("(or (like x 'a%') (notLike x 'b%'))")},
    {"SELECT x ILIKE 'a' AND x NOT ILIKE 'b'", ITEMS("(and (ilike x 'a') (notILike x 'b'))")},
    {"SELECT NOT x LIKE 'a'", ITEMS("(not (like x 'a'))")},
    {"SELECT a = b NOT LIKE c", ITEMS("(notLike (equals a b) c)")},
    {"SELECT x IN (1, 2, 3), x NOT IN (1)", ITEMS("(in x (tuple 1 2 3)) (notIn x 1)")},
    {"SELECT (a, b) IN ((1, 2), (3, 4))",
     ITEMS("(in (tuple a b) (tuple (tuple 1 2) (tuple 3 4)))")},
    {"SELECT x IN tuple(1)", ITEMS("(in x (tuple 1))")},
    {"SELECT x IN (SELECT y FROM events)",
     ITEMS("(in x (subquery (select (items y) (from events))))")},
    {"SELECT 1 + x IN (1)", ITEMS("(in (plus 1 x) 1)")},
    {"SELECT x IN (1) AND y", ITEMS("(and (in x 1) y)")},
    /* CASE, INTERVAL, calls */
    {"SELECT CASE WHEN a THEN 1 WHEN b THEN 2 ELSE 3 END", ITEMS("(multiIf a 1 b 2 3)")},
    {"SELECT CASE WHEN a THEN 1 END", ITEMS("(multiIf a 1 NULL)")},
    {"SELECT CASE x WHEN 1 THEN 'a' ELSE 'b' END", ITEMS("(caseWithExpression x 1 'a' 'b')")},
    {"SELECT INTERVAL 1 DAY, INTERVAL -2 hour, interval (1 + 1) Week, INTERVAL n SECOND",
     ITEMS("(toIntervalDay 1) (toIntervalHour -2) (toIntervalWeek (plus 1 1)) "
           "(toIntervalSecond n)")},
    {"SELECT INTERVAL 1 MINUTE, INTERVAL 1 MONTH, INTERVAL 1 QUARTER, INTERVAL 1 YEAR",
     ITEMS("(toIntervalMinute 1) (toIntervalMonth 1) (toIntervalQuarter 1) (toIntervalYear 1)")},
    {"SELECT now() - INTERVAL 7 DAY + 1", ITEMS("(plus (minus (now) (toIntervalDay 7)) 1)")},
    {"SELECT quantile(0.5)(x), quantiles(0.1, 0.9)(x), topK(3)(x), quantile()(x)",
     ITEMS("(quantile [0.5] x) (quantiles [0.1 0.9] x) (topK [3] x) (quantile [] x)")},
    {"SELECT count(), count(*), count(x), count(DISTINCT x), uniq(a, b)",
     ITEMS("(count) (count) (count x) (count DISTINCT x) (uniq a b)")},
    {"SELECT countIf(x > 1), sumIf(y, x > 1), avgIf(y, z), uniqIf(u, c), quantileIf(0.9)(p, c)",
     ITEMS("(countIf (greater x 1)) (sumIf y (greater x 1)) (avgIf y z) (uniqIf u c) "
           "(quantileIf [0.9] p c)")},
    {"SELECT COUNT(), Sum(x), AVG(x), MAX(x), IF(a, 1, 2), CONCAT('a', 'b'), Lower(s), NOW(), "
     "ISNULL(x), DATEDIFF('day', a, b), LENGTH(s), Round(x)",
     ITEMS("(count) (sum x) (avg x) (max x) (if a 1 2) (concat 'a' 'b') (lower s) (now) "
           "(isNull x) (dateDiff 'day' a b) (length s) (round x)")},
    {"SELECT windowFunnel(3600, 'strict_order')(ts, e = 'a', e = 'b')",
     ITEMS("(windowFunnel [3600 'strict_order'] ts (equals e 'a') (equals e 'b'))")},
    {"SELECT retention(a, b, c), sequenceCount('(?1)(?2)')(ts, a, b)",
     ITEMS("(retention a b c) (sequenceCount ['(?1)(?2)'] ts a b)")},
    {"SELECT toStartOfInterval(ts, INTERVAL 1 HOUR)",
     ITEMS("(toStartOfInterval ts (toIntervalHour 1))")},
    {"SELECT JSONExtractString(properties, 'a', 'b')",
     ITEMS("(JSONExtractString properties 'a' 'b')")},
    /* literals */
    {"SELECT NULL, true, FALSE, 1.5, 1e2, 0x10, 0XfF, 0b11, .25, 5., 2.5E-1",
     ITEMS("NULL true false 1.5 100.0 16 255 3 0.25 5.0 0.25")},
    {"SELECT 18446744073709551615, -9223372036854775808, -9223372036854775809",
     ITEMS("18446744073709551615 -9223372036854775808 (negate 9223372036854775809)")},
    {"SELECT inf, -inf, nan, -0.0, INF", ITEMS("inf -inf nan -0.0 inf")},
    {"SELECT 'a\\tb', '\\x41\\x62', 'x\\qy', 'it''s', 'a\\'b', '\\\\', '\\0'",
     ITEMS("'a\\tb' 'Ab' 'xqy' 'it\\'s' 'a\\'b' '\\\\' '\\0'")},
    {"SELECT 'line\nbreak'", ITEMS("'line\\nbreak'")},
    {"SELECT [], [1, 2], (1, 2), ((1)), ((((x))))", ITEMS("(array) (array 1 2) (tuple 1 2) 1 x")},
    /* identifiers and keywords */
    {"SELECT `a b`, \"c\", `x``y`, `q\\`r`, \"from\", `select`",
     ITEMS("`a b` c `x\\`y` `q\\`r` `from` `select`")},
    {"sElEcT a fRoM events wHeRe b GrOuP bY a",
     "(select (items a) (from events) (where b) (group-by a))"},
    {"SELECT first, last, asc, desc, nulls, offset FROM events",
     /* printed quoted: the printers quote every keyword-like name */
     "(select (items `first` `last` `asc` `desc` `nulls` `offset`) (from events))"},
    {"SELECT x AS first FROM events ORDER BY first DESC NULLS LAST",
     "(select (items (as x `first`)) (from events) (order-by (desc `first` nulls-last)))"},
    {"SELECT e.x, `e`.`y` FROM events AS e", "(select (items e.x e.y) (from events e))"},
    {"SELECT x FROM events e", "(select (items x) (from events e))"},
    {"SELECT date, hour, day, type, event FROM events",
     "(select (items date hour day type event) (from events))"},
    /* clauses */
    {"SELECT * FROM events", "(select (items *) (from events))"},
    {"SELECT DISTINCT a, b FROM events", "(select distinct (items a b) (from events))"},
    {"SELECT a FROM events GROUP BY 1 ORDER BY 1 DESC NULLS FIRST, a ASC",
     "(select (items a) (from events) (group-by (pos 1)) (order-by (desc (pos 1) nulls-first) "
     "(asc a)))"},
    {"SELECT a FROM events GROUP BY (1)", "(select (items a) (from events) (group-by (pos 1)))"},
    {"SELECT a FROM events LIMIT 10", "(select (items a) (from events) (limit 10))"},
    {"SELECT a FROM events LIMIT 10 OFFSET 5",
     "(select (items a) (from events) (limit 10) (offset 5))"},
    {"SELECT a FROM events LIMIT 5, 10", "(select (items a) (from events) (limit 10) (offset 5))"},
    {"SELECT a, count() FROM events WHERE b GROUP BY a HAVING count() > 1 ORDER BY 2 LIMIT 3",
     "(select (items a (count)) (from events) (where b) (group-by a) (having (greater (count) 1)) "
     "(order-by (asc (pos 2))) (limit 3))"},
    {"SELECT x FROM (SELECT 1 AS x) AS t WHERE t.x = 1",
     "(select (items x) (from (select (items (as 1 x))) t) (where (equals t.x 1)))"},
    {"SELECT x FROM (SELECT 1 AS x) t", "(select (items x) (from (select (items (as 1 x))) t))"},
    {"SELECT count() FROM events WHERE (SELECT count() FROM events) > 0",
     "(select (items (count)) (from events) (where (greater (subquery (select (items (count)) "
     "(from events))) 0)))"},
    {"SELECT 1 FORMAT JSONEachRow", "(select (items 1)) (format JSONEachRow)"},
    {"SELECT 1 FORMAT Null;", "(select (items 1)) (format Null)"},
    {"  SELECT 1 ; -- trailing comment\n", "(select (items 1))"},
    {"#! shebang-style comment\nSELECT 1 # and another\n", "(select (items 1))"},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        ff_arena a;
        ff_arena_init(&a, 0, 16u << 20);
        ff_buf b;
        ff_buf_init(&b, 0);
        ff_sql_stmt *st = NULL;
        ff_sql_error e;
        ff_rc rc = ff_sql_parse(CASES[i].q, strlen(CASES[i].q), &a, &st, &e);
        if (rc != FF_OK) {
            fprintf(stderr, "case %zu: %s\n  %s: %s\n%s\n", i, CASES[i].q, e.kind, e.msg,
                    e.snippet);
            FF_CHECK(0);
        } else {
            FF_CHECK_EQ(ff_sql_dump(st, &b), FF_OK);
            if (strcmp(b.data, CASES[i].dump) != 0)
                fprintf(stderr, "case %zu: %s\n", i, CASES[i].q);
            FF_CHECK_STR(b.data, CASES[i].dump);
        }
        ff_buf_fini(&b);
        ff_arena_fini(&a);
    }
}

static ff_sql_stmt *parse_ok(ff_arena *a, const char *q)
{
    ff_sql_stmt *st = NULL;
    ff_sql_error e;
    ff_rc rc = ff_sql_parse(q, strlen(q), a, &st, &e);
    if (rc != FF_OK)
        fprintf(stderr, "%s\n  %s: %s\n", q, e.kind, e.msg);
    FF_CHECK_EQ(rc, FF_OK);
    return st;
}

/* What the checks record for the planner. */
static void test_flags(void)
{
    ff_arena a;
    ff_arena_init(&a, 0, 0);
    ff_sql_stmt *st =
        parse_ok(&a, "SELECT sum(x) + 1, 1 + 2, lower('A'), x, now(), uniqIf(u, c) FROM events");
    if (st) {
        const ff_sql_select *s = st->select;
        FF_CHECK(s->has_agg);
        const ff_sql_node *sum_plus = s->items[0].expr;
        FF_CHECK_EQ(sum_plus->func, FF_SQL_FN_PLUS);
        FF_CHECK(sum_plus->flags & FF_SQL_NF_HAS_AGG);
        FF_CHECK(!(sum_plus->flags & FF_SQL_NF_AGG));
        FF_CHECK(!(sum_plus->flags & FF_SQL_NF_CONST));
        const ff_sql_node *sum = ff_sql_call_arg(sum_plus, 0);
        FF_CHECK_EQ(sum->func, FF_SQL_FN_SUM);
        FF_CHECK(sum->flags & FF_SQL_NF_AGG);
        FF_CHECK(s->items[1].expr->flags & FF_SQL_NF_CONST);
        FF_CHECK(s->items[2].expr->flags & FF_SQL_NF_CONST);
        FF_CHECK(!(s->items[3].expr->flags & FF_SQL_NF_CONST));
        FF_CHECK(s->items[4].expr->flags & FF_SQL_NF_CONST); /* one value per query */
        const ff_sql_node *uq = s->items[5].expr;
        FF_CHECK_EQ(uq->func, FF_SQL_FN_UNIQ);
        FF_CHECK(uq->flags & FF_SQL_NF_IF);
        FF_CHECK_EQ(uq->n_args, 2);
        FF_CHECK_STR(uq->v.col.name.s, "uniqIf"); /* as written */
        FF_CHECK_EQ(st->depth, 3);
    }
    st = parse_ok(&a, "SELECT a FROM events WHERE b");
    if (st)
        FF_CHECK(!st->select->has_agg);
    st = parse_ok(&a, "SELECT a FROM events GROUP BY a");
    if (st)
        FF_CHECK(st->select->has_agg);
    ff_arena_fini(&a);
}

static void test_spans(void)
{
    ff_arena a;
    ff_arena_init(&a, 0, 0);
    const char *q = "SELECT  lower(a || 'x') + -12 AS y, x BETWEEN 1 AND 2 FROM events";
    ff_sql_stmt *st = parse_ok(&a, q);
    if (st) {
        const ff_sql_node *plus = st->select->items[0].expr;
        FF_CHECK_EQ(plus->pos, 8);
        FF_CHECK_EQ(plus->len, strlen("lower(a || 'x') + -12"));
        const ff_sql_node *lower = ff_sql_call_arg(plus, 0);
        FF_CHECK_EQ(lower->pos, 8);
        FF_CHECK_EQ(lower->len, strlen("lower(a || 'x')"));
        const ff_sql_node *cat = ff_sql_call_arg(lower, 0);
        FF_CHECK_EQ(cat->pos, 14);
        FF_CHECK_EQ(cat->len, strlen("a || 'x'"));
        const ff_sql_node *neg = ff_sql_call_arg(plus, 1);
        FF_CHECK_EQ(neg->kind, FF_SQL_N_INT);
        FF_CHECK(neg->flags & FF_SQL_NF_NEG);
        FF_CHECK_EQ((int64_t)neg->v.u, -12);
        FF_CHECK_EQ(neg->pos, 26);
        FF_CHECK_EQ(neg->len, 3);
        const ff_sql_node *btw = st->select->items[1].expr;
        FF_CHECK_EQ(btw->pos, strstr(q, "x BETWEEN") - q);
        FF_CHECK_EQ(btw->len, strlen("x BETWEEN 1 AND 2"));
        FF_CHECK_STR(st->select->items[0].alias.s, "y");
        FF_CHECK_EQ(st->select->from_pos, strstr(q, "events") - q);
        FF_CHECK(st->text == q);
    }
    ff_arena_fini(&a);
}

static ff_rc try_parse(const char *q, size_t len, const char **kind)
{
    ff_arena a;
    ff_arena_init(&a, 0, 256u << 20);
    ff_sql_stmt *st = NULL;
    ff_sql_error e;
    ff_rc rc = ff_sql_parse(q, len, &a, &st, &e);
    static char k[32];
    snprintf(k, sizeof k, "%s", e.kind);
    *kind = k;
    ff_arena_fini(&a);
    return rc;
}

/* Builds prefix^n core suffix^n. */
static char *nest(const char *head, const char *prefix, const char *core, const char *suffix, int n)
{
    size_t len = strlen(head) + strlen(core) + (strlen(prefix) + strlen(suffix)) * (size_t)n + 1;
    char *q = malloc(len);
    char *p = q;
    p += sprintf(p, "%s", head);
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s", prefix);
    p += sprintf(p, "%s", core);
    for (int i = 0; i < n; i++)
        p += sprintf(p, "%s", suffix);
    return q;
}

/* Nesting: depth 256 parses, 257 is a clean too_deep, and 20000 levels do
 * not overflow anything (lemon's stack is fixed; the C stack is bounded). */
static void test_depth(void)
{
    static const struct {
        const char *prefix, *core, *suffix;
        int per_level; /* nodes added per repetition */
    } forms[] = {
        {"- ", "x", "", 1},
        {"NOT ", "x", "", 1},
        {"abs(", "x", ")", 1},
        {"1 + (", "1", ")", 1},
        {"(", "1", ") + 1", 1},
        {"[", "1", "]", 1},
        {"CASE WHEN x THEN ", "1", " END", 1},
        {"INTERVAL ", "1", " DAY", 1},
        {"(SELECT ", "1", ")", 1},
    };
    for (size_t f = 0; f < sizeof forms / sizeof forms[0]; f++) {
        const char *kind;
        /* n repetitions around a leaf give depth n + 1 */
        char *q = nest("SELECT ", forms[f].prefix, forms[f].core, forms[f].suffix, 255);
        ff_rc rc = try_parse(q, strlen(q), &kind);
        if (rc != FF_OK)
            fprintf(stderr, "form %zu at depth 256: %s\n", f, kind);
        FF_CHECK_EQ(rc, FF_OK);
        free(q);
        q = nest("SELECT ", forms[f].prefix, forms[f].core, forms[f].suffix, 256);
        rc = try_parse(q, strlen(q), &kind);
        FF_CHECK_EQ(rc, FF_EBADINPUT);
        FF_CHECK_STR(kind, "too_deep");
        free(q);
        q = nest("SELECT ", forms[f].prefix, forms[f].core, forms[f].suffix, 20000);
        rc = try_parse(q, strlen(q), &kind);
        FF_CHECK_EQ(rc, FF_EBADINPUT);
        FF_CHECK_STR(kind, "too_deep");
        free(q);
    }
    /* a left-deep chain is also bounded by the depth limit */
    char *q = nest("SELECT 1", "", "", " + 1", 255);
    const char *kind;
    FF_CHECK_EQ(try_parse(q, strlen(q), &kind), FF_OK);
    free(q);
    q = nest("SELECT 1", "", "", " + 1", 256);
    FF_CHECK_EQ(try_parse(q, strlen(q), &kind), FF_EBADINPUT);
    FF_CHECK_STR(kind, "too_deep");
    free(q);
    /* nested FROM subqueries: 255 levels below the top one */
    q = nest("SELECT 1 FROM ", "(SELECT 1 FROM ", "events", ")", 255);
    FF_CHECK_EQ(try_parse(q, strlen(q), &kind), FF_OK);
    free(q);
    q = nest("SELECT 1 FROM ", "(SELECT 1 FROM ", "events", ")", 257);
    FF_CHECK_EQ(try_parse(q, strlen(q), &kind), FF_EBADINPUT);
    FF_CHECK_STR(kind, "too_deep");
    free(q);
    /* 300 parentheses around one literal: brackets are limited too */
    q = nest("SELECT ", "(", "1", ")", 300);
    FF_CHECK_EQ(try_parse(q, strlen(q), &kind), FF_EBADINPUT);
    FF_CHECK_STR(kind, "too_deep");
    free(q);
}

/* Wide is fine: long lists and long AND/OR chains cost linear time. */
static void test_wide(void)
{
    size_t n = 100000;
    char *q = malloc(n * 8 + 64);
    char *p = q + sprintf(q, "SELECT count() FROM events WHERE x IN (");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, i ? ",%zu" : "%zu", i);
    sprintf(p, ")");
    ff_arena a;
    ff_arena_init(&a, 0, 256u << 20);
    clock_t t0 = clock();
    ff_sql_stmt *st = parse_ok(&a, q);
    if (st) {
        const ff_sql_node *in = st->select->where;
        FF_CHECK_EQ(in->func, FF_SQL_FN_IN);
        FF_CHECK_EQ(ff_sql_call_arg(in, 1)->n_args, n);
        FF_CHECK_EQ(ff_sql_call_arg(ff_sql_call_arg(in, 1), 99999)->v.u, 99999);
    }
    p = q + sprintf(q, "SELECT count() FROM events WHERE ");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, i ? " OR x=%zu" : "x=%zu", i % 10);
    ff_arena_reset(&a);
    st = parse_ok(&a, q);
    if (st) {
        FF_CHECK_EQ(st->select->where->func, FF_SQL_FN_OR);
        FF_CHECK_EQ(st->select->where->n_args, n);
        FF_CHECK_EQ(st->select->where->depth, 3);
    }
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    fprintf(stderr, "two 100000-element queries parsed in %.3f s\n", secs);
    FF_CHECK(secs < 10); /* generous: quadratic behaviour would take minutes */
    ff_arena_fini(&a);
    free(q);
}

static void test_limits(void)
{
    const char *kind;
    /* exactly 1 MiB is accepted, one byte more is not */
    size_t max = FF_SQL_MAX_QUERY_BYTES;
    char *q = malloc(max + 1);
    memset(q, ' ', max + 1);
    memcpy(q, "SELECT 1", 8);
    FF_CHECK_EQ(try_parse(q, max, &kind), FF_OK);
    FF_CHECK_EQ(try_parse(q, max + 1, &kind), FF_EBADINPUT);
    FF_CHECK_STR(kind, "too_long");
    free(q);
    /* identifiers: 256 bytes fine, 257 not, bare or quoted */
    char id[300], buf[400];
    memset(id, 'a', sizeof id);
    for (int quoted = 0; quoted < 2; quoted++) {
        for (int len = 256; len <= 257; len++) {
            int n = snprintf(buf, sizeof buf, "SELECT %s%.*s%s", quoted ? "`" : "", len, id,
                             quoted ? "`" : "");
            ff_rc rc = try_parse(buf, (size_t)n, &kind);
            FF_CHECK_EQ(rc, len == 256 ? FF_OK : FF_EBADINPUT);
            if (len == 257)
                FF_CHECK_STR(kind, "bad_identifier");
        }
    }
    /* bad calls */
    ff_sql_stmt *st = NULL;
    ff_arena a;
    ff_arena_init(&a, 0, 0);
    FF_CHECK_EQ(ff_sql_parse("SELECT 1", 8, NULL, &st, NULL), FF_EINVAL);
    FF_CHECK_EQ(ff_sql_parse(NULL, 3, &a, &st, NULL), FF_EINVAL);
    FF_CHECK_EQ(ff_sql_parse("SELECT 1", 8, &a, NULL, NULL), FF_EINVAL);
    FF_CHECK_EQ(ff_sql_parse("SELECT 1", 8, &a, &st, NULL), FF_OK); /* err is optional */
    FF_CHECK(st != NULL);
    ff_arena_fini(&a);
}

/* The text need not be NUL-terminated (ASan catches any read past it). */
static void test_no_nul(void)
{
    static const char *const qs[] = {"SELECT 1",  "SELECT 'abc", "SELECT x -- c", "SELECT 1 /* c",
                                     "SELECT 0x", "SELECT `a",   "SELECT a NOT",  "SELECT 1e",
                                     "SELECT .",  "SELECT '\\x4"};
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++) {
        size_t n = strlen(qs[i]);
        char *exact = malloc(n);
        memcpy(exact, qs[i], n);
        const char *kind;
        ff_rc rc = try_parse(exact, n, &kind);
        FF_CHECK(rc == FF_OK || rc == FF_EBADINPUT);
        free(exact);
    }
}

/* The arena's cap becomes FF_ELIMIT; failed allocations FF_ENOMEM. */
static void test_memory(void)
{
    const char *q = "SELECT event, count() AS c, uniq(user_id) FROM events WHERE ts > now() - "
                    "INTERVAL 1 DAY AND event IN ('a', 'b', 'c') GROUP BY event ORDER BY c DESC";
    ff_arena a;
    ff_arena_init(&a, 256, 1024);
    ff_sql_stmt *st = NULL;
    ff_sql_error e;
    FF_CHECK_EQ(ff_sql_parse(q, strlen(q), &a, &st, &e), FF_ELIMIT);
    FF_CHECK_STR(e.kind, "arena_limit");
    FF_CHECK(st == NULL);
    ff_arena_fini(&a);

    int failures = 0, n;
    for (n = 1; n < 200; n++) {
        ff_arena_init(&a, 256, 0);
        ff_mem_fail_after(n);
        ff_rc rc = ff_sql_parse(q, strlen(q), &a, &st, &e);
        ff_mem_fail_after(0);
        ff_arena_fini(&a);
        if (rc == FF_OK)
            break;
        failures++;
        FF_CHECK_EQ(rc, FF_ENOMEM);
        FF_CHECK_STR(e.kind, "no_memory");
        FF_CHECK(st == NULL);
    }
    FF_CHECK(failures >= 3); /* the parser block and several arena chunks */
    FF_CHECK(n < 200);
}

int main(void)
{
    FF_RUN(test_table);
    FF_RUN(test_flags);
    FF_RUN(test_spans);
    FF_RUN(test_depth);
    FF_RUN(test_wide);
    FF_RUN(test_limits);
    FF_RUN(test_no_nul);
    FF_RUN(test_memory);
    FF_DONE();
}
