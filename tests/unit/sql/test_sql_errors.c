/* test_sql_errors.c -- every kind of error names the problem and points at it.
 *
 * A table of (query, kind, line, column, words the message must contain),
 * one or more rows per error kind, then the full rendered text (message,
 * query line, caret line) for a few, and the rules that must NOT fire. */
#include <stdio.h>
#include <string.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "ff_test.h"
#include "sql/ff_sql.h"

typedef struct err_case {
    const char *q;
    const char *kind;
    unsigned line, column;
    const char *words; /* substring of the message */
} err_case;

static const err_case CASES[] = {
    /* lexical */
    {"SELECT 1 ? 2", "bad_char", 1, 10, "unexpected character '?'"},
    {"SELECT a FROM events WHERE a ! b", "bad_char", 1, 30, "'!'"},
    {"SELECT caf\xc3\xa9", "bad_char", 1, 11, "U+00E9"},
    {"SELECT \xff", "bad_char", 1, 8, "byte 0xFF"},
    {"SELECT \x01", "bad_char", 1, 8, "control character 0x01"},
    {"SELECT 'abc", "unterminated_string", 1, 8, "unterminated string"},
    {"SELECT a,\n  'abc\n FROM events", "unterminated_string", 2, 3, "unterminated string"},
    {"SELECT `abc", "unterminated_identifier", 1, 8, "unterminated quoted identifier"},
    {"SELECT \"abc", "unterminated_identifier", 1, 8, "\" without a closing \""},
    {"SELECT 1 /* note", "unterminated_comment", 1, 10, "unterminated comment"},
    {"SELECT 1 /* a /* b */", "unterminated_comment", 1, 10, "unterminated comment"},
    {"SELECT 1abc", "bad_number", 1, 8, "followed by a letter"},
    {"SELECT 99999999999999999999", "bad_number", 1, 8, "out of range"},
    {"SELECT 0x", "bad_number", 1, 8, "malformed number"},
    {"SELECT 0b102", "bad_number", 1, 8, "malformed number"},
    {"SELECT 'a\\xZZ'", "bad_string", 1, 10, "\\x must be followed by two hex digits"},
    {"SELECT ``", "bad_identifier", 1, 8, "empty quoted identifier"},
    {"SELECT `a\\0b`", "bad_identifier", 1, 8, "NUL"},
    /* syntax */
    {"SELECT FROM events", "syntax", 1, 8,
     "unexpected FROM, expected one of an expression, DISTINCT or '*'"},
    {"SELECT a b FROM events", "syntax", 1, 10, "unexpected identifier b"},
    {"SELECT a b FROM events", "syntax", 1, 10, "(an alias needs AS)"},
    {"SELECT count( FROM events", "syntax", 1, 15, "unexpected FROM"},
    {"SELECT a FROM events WHERE", "syntax", 1, 27,
     "unexpected end of the query, expected an expression"},
    {"SELECT a FROM events WHERE (a = 1", "syntax", 1, 34,
     "expected one of ',', ')' or an operator"},
    {"", "syntax", 1, 1, "expected SELECT"},
    {"  -- only a comment\n", "syntax", 1, 1, "expected SELECT"},
    {"SELECT 1; SELECT 2", "syntax", 1, 11, "(one statement per query)"},
    {"SELECT a FROM events LIMIT -1", "syntax", 1, 28, "unexpected '-', expected number"},
    {"SELECT a FROM events LIMIT 1.5", "syntax", 1, 28, "unexpected number 1.5"},
    {"SELECT a FROM events ORDER a", "syntax", 1, 28, "expected BY"},
    {"SELECT a FROM events GROUP BY a WHERE b", "syntax", 1, 33, "unexpected WHERE"},
    {"SELECT * + 1 FROM events", "syntax", 1, 10, "unexpected '+'"},
    {"SELECT a FROM (SELECT b FROM events FORMAT JSON)", "syntax", 1, 37, "unexpected FORMAT"},
    {"SELECT CASE END", "syntax", 1, 13, "expected one of an expression or WHEN"},
    {"SELECT x IS 1", "syntax", 1, 13, "unexpected number 1, expected one of NULL or NOT"},
    {"SELECT INTERVAL 1", "syntax", 1, 18, "expected one of '[' or identifier"},
    {"SELECT 1 FORMAT", "syntax", 1, 16, "expected one of identifier or NULL"},
    {"SELECT f(1)(2)(3)", "syntax", 1, 15, "unexpected '('"},
    /* unknown functions */
    {"SELECT cuont() FROM events", "unknown_function", 1, 8,
     "unknown function cuont (did you mean count?)"},
    {"SELECT todate(ts) FROM events", "unknown_function", 1, 8,
     "function names are case-sensitive: did you mean toDate?"},
    {"SELECT frobnicate(x) FROM events", "unknown_function", 1, 8, "unknown function frobnicate"},
    {"SELECT fooIf(x, y) FROM events", "unknown_function", 1, 8, "unknown function fooIf"},
    {"SELECT lowerIf(x, y) FROM events", "unknown_function", 1, 8, "unknown function lowerIf"},
    {"SELECT UNIQ(x) FROM events", "unknown_function", 1, 8, "did you mean uniq?"},
    /* arity */
    {"SELECT argMax(x) FROM events", "wrong_arity", 1, 8, "argMax expects 2 arguments, got 1"},
    {"SELECT count(a, b) FROM events", "wrong_arity", 1, 8,
     "count expects 0 to 1 arguments, got 2"},
    {"SELECT countIf() FROM events", "wrong_arity", 1, 8, "expects 1 to 2 arguments, got 0"},
    {"SELECT if(a, b)", "wrong_arity", 1, 8, "if expects 3 arguments, got 2"},
    {"SELECT windowFunnel(10)(ts) FROM events", "wrong_arity", 1, 8,
     "windowFunnel expects 2 to 33 arguments, got 1"},
    {"SELECT retention() FROM events", "wrong_arity", 1, 8, "retention expects 1 to 32 arguments"},
    {"SELECT multiIf(a, b)", "wrong_arity", 1, 8, "expects at least 3 arguments"},
    {"SELECT multiIf(a, b, c, d)", "wrong_arity", 1, 8, "odd number of arguments"},
    {"SELECT now(1, 2)", "wrong_arity", 1, 8, "now expects 0 to 1 arguments, got 2"},
    {"SELECT\n  toStartOfHour()\nFROM events", "wrong_arity", 2, 3, "toStartOfHour expects"},
    /* aggregates */
    {"SELECT sum(count()) FROM events", "nested_aggregate", 1, 12,
     "aggregate function count is inside another aggregate function (sum)"},
    {"SELECT uniqIf(user_id, sum(x) > 0) FROM events", "nested_aggregate", 1, 24, "sum"},
    {"SELECT windowFunnel(60)(ts, count() > 1) FROM events", "nested_aggregate", 1, 29, "count"},
    {"SELECT count() FROM events WHERE sum(x) > 1", "aggregate_not_allowed", 1, 34,
     "not allowed in WHERE"},
    {"SELECT count() FROM events GROUP BY max(x)", "aggregate_not_allowed", 1, 37,
     "not allowed in GROUP BY"},
    {"SELECT a, count() FROM events GROUP BY 2", "aggregate_not_allowed", 1, 40,
     "refers to an aggregate"},
    /* parametric misuse */
    {"SELECT sum(1)(x) FROM events", "bad_parameters", 1, 8, "sum takes no parameters"},
    {"SELECT toDate(1)(x)", "bad_parameters", 1, 8, "toDate takes no parameters"},
    {"SELECT quantile(x)(y) FROM events", "bad_parameters", 1, 17, "must be literal"},
    {"SELECT quantiles(x) FROM events", "bad_parameters", 1, 8,
     "quantiles needs at least 1 parameter"},
    {"SELECT windowFunnel(ts, a, b) FROM events", "bad_parameters", 1, 8,
     "windowFunnel needs at least 1 parameter"},
    {"SELECT quantile(2)(x) FROM events", "bad_parameters", 1, 17, "between 0 and 1"},
    {"SELECT quantiles(0.5, -0.1)(x) FROM events", "bad_parameters", 1, 23, "between 0 and 1"},
    {"SELECT topK(0)(x) FROM events", "bad_parameters", 1, 13, "from 1 to 16777215"},
    {"SELECT topK(1.5)(x) FROM events", "bad_parameters", 1, 13, "from 1 to 16777215"},
    {"SELECT topK(10, 20)(x) FROM events", "bad_parameters", 1, 17, "at most 1 parameter"},
    {"SELECT count(*)(x) FROM events", "bad_parameters", 1, 14, "* is not allowed"},
    {"SELECT windowFunnel('1h')(ts, a) FROM events", "bad_parameters", 1, 21,
     "non-negative integer"},
    {"SELECT windowFunnel(-5)(ts, a) FROM events", "bad_parameters", 1, 21, "non-negative integer"},
    {"SELECT windowFunnel(60, 'fast')(ts, a) FROM events", "bad_parameters", 1, 25,
     "unknown mode of windowFunnel"},
    {"SELECT windowFunnel(60, 'strict')(ts, a) FROM events", "bad_parameters", 1, 25,
     "now called 'strict_deduplication'"},
    {"SELECT windowFunnel(60, 'allow_reentry')(ts, a) FROM events", "bad_parameters", 1, 25,
     "needs 'strict_order'"},
    {"SELECT sequenceMatch(1)(ts, a, b) FROM events", "bad_parameters", 1, 22, "pattern string"},
    {"SELECT sequenceMatch('(?1)(?3)')(ts, a, b) FROM events", "bad_parameters", 1, 22,
     "event (?3) is out of range: there are 2 conditions"},
    {"SELECT sequenceCount('(?1)x')(ts, a, b) FROM events", "bad_parameters", 1, 22,
     "cannot parse at character 5"},
    {"SELECT sequenceMatch('(?1)(?t>1)(?t>2)(?2)')(ts, a, b) FROM events", "bad_parameters", 1, 22,
     "must follow an event condition"},
    {"SELECT sequenceMatch('(?1)')(ts, a) FROM events", "wrong_arity", 1, 8,
     "expects 3 to 33 arguments, got 2"},
    /* other argument rules */
    {"SELECT lower(DISTINCT x) FROM events", "bad_argument", 1, 8, "DISTINCT is only allowed"},
    {"SELECT sum(*) FROM events", "bad_argument", 1, 8, "only allowed as the argument of count(*)"},
    {"SELECT x IN y FROM events", "bad_argument", 1, 13, "list in parentheses or a subquery"},
    {"SELECT dateDiff('fortnight', a, b)", "bad_argument", 1, 17, "unknown unit of dateDiff"},
    {"SELECT dateDiff(u, a, b)", "bad_argument", 1, 17, "must be a unit in quotes"},
    {"SELECT toStartOfInterval(ts, 15) FROM events", "bad_argument", 1, 30, "must be an INTERVAL"},
    {"SELECT now() - INTERVAL 3 fortnight", "bad_interval", 1, 27, "unknown interval unit"},
    /* tables, positions, aliases, formats */
    {"SELECT 1 FROM users", "unknown_table", 1, 15,
     "unknown table users: the only table is events"},
    {"SELECT 1 FROM Events", "unknown_table", 1, 15, "unknown table Events"},
    {"SELECT u.x FROM events", "unknown_table", 1, 8, "unknown table or alias u in u.x"},
    {"SELECT events.x FROM events AS e", "unknown_table", 1, 8, "unknown table or alias events"},
    {"SELECT a FROM events GROUP BY 0", "bad_position", 1, 31, "position 0 is out of range"},
    {"SELECT a, b FROM events ORDER BY 3", "bad_position", 1, 34, "the select list has 2 items"},
    {"SELECT a FROM events GROUP BY -1", "bad_position", 1, 31, "positions start at 1"},
    {"SELECT * FROM events ORDER BY 1", "bad_position", 1, 31, "refers to *"},
    {"SELECT a AS x, b AS x FROM events", "duplicate_alias", 1, 16,
     "alias x names two different expressions"},
    {"SELECT 1 FORMAT Parquet", "unknown_format", 1, 17, "unknown format Parquet"},
};

static void test_table(void)
{
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const err_case *c = &CASES[i];
        ff_arena a;
        ff_arena_init(&a, 0, 16u << 20);
        ff_sql_stmt *st = (ff_sql_stmt *)&a; /* must be reset to NULL */
        ff_sql_error e;
        ff_rc rc = ff_sql_parse(c->q, strlen(c->q), &a, &st, &e);
        int ok = rc == FF_EBADINPUT && st == NULL && e.code == FF_EBADINPUT &&
                 strcmp(e.kind, c->kind) == 0 && e.line == c->line && e.column == c->column &&
                 strstr(e.msg, c->words) != NULL;
        if (!ok)
            fprintf(stderr,
                    "case %zu: %s\n  want %s %u:%u \"%s\"\n  got  rc %d %s %u:%u \"%s\"\n%s\n", i,
                    c->q, c->kind, c->line, c->column, c->words, rc, e.kind, e.line, e.column,
                    e.msg, e.snippet);
        FF_CHECK(ok);
        ff_arena_fini(&a);
    }
}

static void check_render(const char *q, const char *want)
{
    ff_arena a;
    ff_arena_init(&a, 0, 0);
    ff_sql_stmt *st = NULL;
    ff_sql_error e;
    ff_buf b;
    ff_buf_init(&b, 0);
    FF_CHECK_EQ(ff_sql_parse(q, strlen(q), &a, &st, &e), FF_EBADINPUT);
    FF_CHECK_EQ(ff_sql_error_render(&e, &b), FF_OK);
    FF_CHECK_STR(b.data, want);
    ff_buf_fini(&b);
    ff_arena_fini(&a);
}

static void test_render(void)
{
    check_render("SELECT cuont() FROM events",
                 "line 1, column 8: unknown function cuont (did you mean count?)\n"
                 "SELECT cuont() FROM events\n"
                 "       ^");
    /* the caret lands on the right line of a multi-line query */
    check_render("SELECT event,\n       count()\nFROM events\nWHERE sum(price) > 10",
                 "line 4, column 7: aggregate function sum is not allowed in WHERE (filter on "
                 "aggregates with HAVING)\n"
                 "WHERE sum(price) > 10\n"
                 "      ^");
    /* tabs are kept so the caret lines up; columns count characters */
    check_render("SELECT\t'\xc3\xa9t\xc3\xa9', frob(1)",
                 "line 1, column 15: unknown function frob\n"
                 "SELECT\t'\xc3\xa9t\xc3\xa9', frob(1)\n"
                 "      \t       ^");
    /* end of input: the caret goes just after the last token */
    check_render("SELECT a FROM events WHERE\n\n",
                 "line 1, column 27: unexpected end of the query, expected an expression\n"
                 "SELECT a FROM events WHERE\n"
                 "                          ^");
}

/* A long line is cut around the error, with ... on the cut sides. */
static void test_long_line(void)
{
    char q[4096];
    int n = snprintf(q, sizeof q, "SELECT ");
    for (int i = 0; i < 100; i++)
        n += snprintf(q + n, sizeof q - (size_t)n, "c%02d, ", i);
    n += snprintf(q + n, sizeof q - (size_t)n, "nosuch(1), ");
    for (int i = 0; i < 100; i++)
        n += snprintf(q + n, sizeof q - (size_t)n, "d%02d, ", i);
    snprintf(q + n, sizeof q - (size_t)n, "1 FROM events");
    ff_arena a;
    ff_arena_init(&a, 0, 0);
    ff_sql_stmt *st = NULL;
    ff_sql_error e;
    FF_CHECK_EQ(ff_sql_parse(q, strlen(q), &a, &st, &e), FF_EBADINPUT);
    FF_CHECK_STR(e.kind, "unknown_function");
    FF_CHECK_EQ(e.column, 7 + 100 * 5 + 1);
    const char *nl = strchr(e.snippet, '\n');
    FF_CHECK(nl != NULL);
    if (nl) {
        FF_CHECK(strncmp(e.snippet, "...", 3) == 0);
        FF_CHECK(strncmp(nl - 3, "...", 3) == 0);
        /* the caret sits under the n of nosuch */
        const char *caret = strchr(nl, '^');
        size_t col = (size_t)(caret - nl - 1);
        FF_CHECK(col < (size_t)(nl - e.snippet));
        FF_CHECK(strncmp(e.snippet + col, "nosuch(", 7) == 0);
        FF_CHECK(strlen(e.snippet) < 300);
    }
    ff_arena_fini(&a);
}

/* Rules that must not fire on valid queries. */
static void test_not_errors(void)
{
    static const char *const ok[] = {
        "SELECT sum(x) FROM events WHERE x IN (SELECT max(y) FROM events)",
        "SELECT sum((SELECT count() FROM events)) FROM events",
        "SELECT a AS x, a AS x FROM events",
        "SELECT events.x FROM events",
        "SELECT e.x FROM events AS e",
        "SELECT t.n FROM (SELECT count() AS n FROM events) AS t",
        "SELECT count() FROM events HAVING count() > 1",
        "SELECT countIf(x, y > 1), COUNTIf(y > 1), quantile()(x), topK(x) FROM events",
        "SELECT windowFunnel(0)(ts, a) FROM events",
        "SELECT windowFunnel(60, 'strict_deduplication', 'strict_increase', 'strict_once')(ts, a) "
        "FROM events",
        "SELECT sequenceMatch('(?t>10)(?1).*(?2)')(ts, a, b) FROM events",
        "SELECT sequenceMatch('.(?1)(?t==5)')(ts, a, b) FROM events",
        "SELECT dateDiff('DAY', a, b), dateDiff('hh', a, b, 'UTC')",
        "SELECT 1 FORMAT Null",
        "SELECT first, last, asc, desc, nulls, offset FROM events ORDER BY first DESC NULLS LAST",
        "SELECT x AS first FROM events LIMIT 1 OFFSET 2",
        "SELECT count() FROM events e WHERE e.ts > 0",
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        ff_arena a;
        ff_arena_init(&a, 0, 0);
        ff_sql_stmt *st = NULL;
        ff_sql_error e;
        ff_rc rc = ff_sql_parse(ok[i], strlen(ok[i]), &a, &st, &e);
        if (rc != FF_OK)
            fprintf(stderr, "%s\n  %s: %s\n%s\n", ok[i], e.kind, e.msg, e.snippet);
        FF_CHECK_EQ(rc, FF_OK);
        FF_CHECK_EQ(e.code, FF_OK);
        ff_arena_fini(&a);
    }
}

/* ff_sql_error_set is public for the planner: same format, any offset. */
static void test_error_set(void)
{
    ff_sql_error e;
    const char *q = "SELECT nosuchcolumn\nFROM events";
    FF_CHECK_EQ(ff_sql_error_set(&e, FF_EBADINPUT, "unknown_column", q, strlen(q), 7,
                                 "unknown column %s", "nosuchcolumn"),
                FF_EBADINPUT);
    FF_CHECK_EQ(e.line, 1);
    FF_CHECK_EQ(e.column, 8);
    FF_CHECK_STR(e.msg, "unknown column nosuchcolumn");
    FF_CHECK_STR(e.snippet, "SELECT nosuchcolumn\n       ^");
    /* offsets past the end are clamped; control bytes in messages masked */
    FF_CHECK_EQ(ff_sql_error_set(&e, FF_EBADINPUT, "x", q, strlen(q), 9999, "bad\x01name"),
                FF_EBADINPUT);
    FF_CHECK_EQ(e.offset, strlen(q));
    FF_CHECK_EQ(e.line, 2);
    FF_CHECK_EQ(e.column, 12);
    FF_CHECK_STR(e.msg, "bad?name");
    FF_CHECK_EQ(ff_sql_error_set(NULL, FF_ELIMIT, "x", q, 1, 0, "no err struct"), FF_ELIMIT);
}

int main(void)
{
    FF_RUN(test_table);
    FF_RUN(test_render);
    FF_RUN(test_long_line);
    FF_RUN(test_not_errors);
    FF_RUN(test_error_set);
    FF_DONE();
}
