/* test_sql_funcs.c -- the function catalogue: rows, name resolution as in
 * ClickHouse (case rules, the -If combinator), suggestions, result types,
 * and the promise that docs/sql.md documents every function. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/ff_buf.h"
#include "ff_test.h"
#include "sql/ff_sql.h"

static void test_rows(void)
{
    int n = 0;
    for (int i = 1; i < FF_SQL_FN_COUNT_; i++) {
        const ff_sql_func *f = ff_sql_func_get((ff_sql_func_id)i);
        FF_CHECK(f != NULL);
        if (!f || !f->name) {
            fprintf(stderr, "function id %d has no row\n", i);
            FF_CHECK(0);
            continue;
        }
        n++;
        FF_CHECK(f->syntax && f->syntax[0]);
        FF_CHECK(f->summary && f->summary[0]);
        FF_CHECK(f->min_args <= f->max_args);
        FF_CHECK(f->min_params <= f->max_params);
        for (int j = 1; j < i; j++) {
            const ff_sql_func *g = ff_sql_func_get((ff_sql_func_id)j);
            if (!g || !g->name)
                continue;
            FF_CHECK(strcmp(f->name, g->name) != 0);
            if ((f->flags & FF_SQL_FUNC_CI) || (g->flags & FF_SQL_FUNC_CI))
                FF_CHECK(strcasecmp(f->name, g->name) != 0);
        }
        /* resolving the canonical name gives the row back */
        bool is_if = true;
        FF_CHECK_EQ(ff_sql_func_lookup(f->name, strlen(f->name), &is_if), i);
        FF_CHECK(!is_if);
    }
    FF_CHECK(ff_sql_func_get(FF_SQL_FN_UNKNOWN) == NULL);
    FF_CHECK(ff_sql_func_get(FF_SQL_FN_COUNT_) == NULL);
    FF_CHECK(n > 100);
}

static ff_sql_func_id look(const char *name, bool *is_if)
{
    return ff_sql_func_lookup(name, strlen(name), is_if);
}

static void test_lookup(void)
{
    bool is_if;
    /* ClickHouse registers these case-insensitively */
    static const char *const ci[] = {"COUNT",    "Sum",   "AVG",    "mIn",    "MAX",    "IF",
                                     "COALESCE", "LOWER", "upper",  "LENGTH", "CONCAT", "NOW",
                                     "DATEDIFF", "ROUND", "ISNULL", "ifnull", "Abs",    "GREATEST"};
    for (size_t i = 0; i < sizeof ci / sizeof ci[0]; i++) {
        FF_CHECK(look(ci[i], &is_if) != FF_SQL_FN_UNKNOWN);
        FF_CHECK(!is_if);
    }
    /* ... and these only as spelled */
    static const char *const cs[] = {"TODATE",    "uniqexact",     "Uniq",
                                     "TOPK",      "windowfunnel",  "ANY",
                                     "argmax",    "toStartOfHOUR", "jsonextractstring",
                                     "Retention", "QUANTILE",      "today_"};
    for (size_t i = 0; i < sizeof cs / sizeof cs[0]; i++)
        FF_CHECK_EQ(look(cs[i], &is_if), FF_SQL_FN_UNKNOWN);
    /* the -If combinator on aggregates */
    FF_CHECK_EQ(look("countIf", &is_if), FF_SQL_FN_COUNT);
    FF_CHECK(is_if);
    FF_CHECK_EQ(look("COUNTIf", &is_if), FF_SQL_FN_COUNT);
    FF_CHECK(is_if);
    FF_CHECK_EQ(look("sumIf", &is_if), FF_SQL_FN_SUM);
    FF_CHECK(is_if);
    FF_CHECK_EQ(look("uniqExactIf", &is_if), FF_SQL_FN_UNIQ_EXACT);
    FF_CHECK(is_if);
    FF_CHECK_EQ(look("windowFunnelIf", &is_if), FF_SQL_FN_WINDOW_FUNNEL);
    FF_CHECK(is_if);
    FF_CHECK_EQ(look("countIF", &is_if), FF_SQL_FN_UNKNOWN);
    FF_CHECK_EQ(look("toDateIf", &is_if), FF_SQL_FN_UNKNOWN); /* scalar: no combinator */
    FF_CHECK_EQ(look("countIfIf", &is_if), FF_SQL_FN_UNKNOWN);
    FF_CHECK_EQ(look("If", &is_if), FF_SQL_FN_IF); /* if is case-insensitive */
    FF_CHECK(!is_if);
    /* real functions that end in If are not combinators */
    FF_CHECK_EQ(look("multiIf", &is_if), FF_SQL_FN_MULTI_IF);
    FF_CHECK(!is_if);
    FF_CHECK_EQ(look("if", &is_if), FF_SQL_FN_IF);
    FF_CHECK(!is_if);
    FF_CHECK_EQ(look("", &is_if), FF_SQL_FN_UNKNOWN);
}

static void test_suggest(void)
{
    static const struct {
        const char *typo, *want;
    } s[] = {{"cuont", "count"},
             {"uniqexact", "uniqExact"},
             {"windowFunel", "windowFunnel"},
             {"toStartOfHuor", "toStartOfHour"},
             {"retnetion", "retention"},
             {"Uniq", "uniq"},
             {"JSONExtractStrin", "JSONExtractString"}};
    for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
        const char *got = ff_sql_func_suggest(s[i].typo, strlen(s[i].typo));
        FF_CHECK_STR(got, s[i].want);
    }
    FF_CHECK(ff_sql_func_suggest("xyzzy", 5) == NULL);
    FF_CHECK(ff_sql_func_suggest("frobnicate", 10) == NULL);
    /* operators are never suggested (minus for "mins" would mislead) */
    const char *m = ff_sql_func_suggest("minu", 4);
    FF_CHECK(m == NULL || strcmp(m, "minus") != 0);
}

static ff_sql_type T(uint8_t id)
{
    ff_sql_type t = {id, 0, 0, 0};
    return t;
}

static ff_sql_type N(uint8_t id)
{
    ff_sql_type t = {id, 0, 1, 0};
    return t;
}

static ff_sql_type A(uint8_t elem)
{
    ff_sql_type t = {FF_SQL_T_ARRAY, elem, 0, 0};
    return t;
}

static ff_sql_type I(uint8_t unit)
{
    ff_sql_type t = {FF_SQL_T_INTERVAL, 0, 0, unit};
    return t;
}

static void want_type(ff_sql_func_id f, uint16_t flags, const ff_sql_type *args, uint32_t n,
                      const char *want)
{
    ff_buf b;
    ff_buf_init(&b, 256);
    ff_sql_type t = ff_sql_func_result_type(f, flags, args, n);
    FF_CHECK_EQ(ff_sql_type_name(t, &b), FF_OK);
    if (!b.data || strcmp(b.data, want) != 0)
        fprintf(stderr, "%s: got %s, want %s\n", ff_sql_func_get(f)->name, b.data, want);
    FF_CHECK_STR(b.data, want);
    ff_buf_fini(&b);
}

#define WT(f, flags, want, ...)                                                                    \
    do {                                                                                           \
        ff_sql_type a_[] = {__VA_ARGS__};                                                          \
        want_type(f, flags, a_, sizeof a_ / sizeof a_[0], want);                                   \
    } while (0)

static void test_types(void)
{
    want_type(FF_SQL_FN_COUNT, 0, NULL, 0, "UInt64");
    WT(FF_SQL_FN_COUNT, 0, "UInt64", N(FF_SQL_T_STRING));
    WT(FF_SQL_FN_COUNT, FF_SQL_NF_DISTINCT, "UInt64", T(FF_SQL_T_STRING));
    WT(FF_SQL_FN_SUM, 0, "UInt64", T(FF_SQL_T_UINT8));
    WT(FF_SQL_FN_SUM, 0, "Int64", T(FF_SQL_T_INT64));
    WT(FF_SQL_FN_SUM, 0, "Float64", T(FF_SQL_T_FLOAT64));
    WT(FF_SQL_FN_SUM, 0, "Nullable(Int64)", N(FF_SQL_T_INT64));
    WT(FF_SQL_FN_SUM, FF_SQL_NF_IF, "Int64", T(FF_SQL_T_INT64), T(FF_SQL_T_UINT8));
    WT(FF_SQL_FN_AVG, 0, "Float64", T(FF_SQL_T_UINT64));
    WT(FF_SQL_FN_MIN, 0, "String", T(FF_SQL_T_STRING));
    WT(FF_SQL_FN_MAX, 0, "DateTime64(3)", T(FF_SQL_T_DATETIME64));
    WT(FF_SQL_FN_ARG_MAX, 0, "String", T(FF_SQL_T_STRING), T(FF_SQL_T_DATETIME));
    WT(FF_SQL_FN_UNIQ, 0, "UInt64", N(FF_SQL_T_STRING));
    WT(FF_SQL_FN_UNIQ_EXACT, FF_SQL_NF_IF, "UInt64", T(FF_SQL_T_STRING), T(FF_SQL_T_UINT8));
    WT(FF_SQL_FN_QUANTILE, 0, "Float64", T(FF_SQL_T_UINT64));
    WT(FF_SQL_FN_QUANTILE, 0, "DateTime", T(FF_SQL_T_DATETIME));
    WT(FF_SQL_FN_QUANTILES, 0, "Array(Float64)", T(FF_SQL_T_INT64));
    WT(FF_SQL_FN_TOP_K, 0, "Array(String)", T(FF_SQL_T_STRING));
    WT(FF_SQL_FN_GROUP_ARRAY, 0, "Array(UInt64)", T(FF_SQL_T_UINT64));
    WT(FF_SQL_FN_RETENTION, 0, "Array(UInt8)", T(FF_SQL_T_UINT8), T(FF_SQL_T_UINT8));
    WT(FF_SQL_FN_WINDOW_FUNNEL, 0, "UInt8", T(FF_SQL_T_UINT64), T(FF_SQL_T_UINT8));
    WT(FF_SQL_FN_SEQUENCE_COUNT, 0, "UInt64", T(FF_SQL_T_DATETIME), T(FF_SQL_T_UINT8),
       T(FF_SQL_T_UINT8));
    WT(FF_SQL_FN_PLUS, 0, "UInt64", T(FF_SQL_T_UINT8), T(FF_SQL_T_UINT64));
    WT(FF_SQL_FN_MINUS, 0, "Int64", T(FF_SQL_T_UINT64), T(FF_SQL_T_UINT64));
    WT(FF_SQL_FN_PLUS, 0, "Float64", T(FF_SQL_T_INT64), T(FF_SQL_T_FLOAT64));
    WT(FF_SQL_FN_PLUS, 0, "Nullable(Int64)", N(FF_SQL_T_INT64), T(FF_SQL_T_INT64));
    WT(FF_SQL_FN_DIVIDE, 0, "Float64", T(FF_SQL_T_UINT64), T(FF_SQL_T_UINT64));
    WT(FF_SQL_FN_PLUS, 0, "DateTime", T(FF_SQL_T_DATETIME), I(4));
    WT(FF_SQL_FN_MINUS, 0, "Date", T(FF_SQL_T_DATE), I(4));
    WT(FF_SQL_FN_MINUS, 0, "Int64", T(FF_SQL_T_DATE), T(FF_SQL_T_DATE));
    WT(FF_SQL_FN_NEGATE, 0, "Int64", T(FF_SQL_T_UINT64));
    WT(FF_SQL_FN_NEGATE, 0, "Float64", T(FF_SQL_T_FLOAT64));
    WT(FF_SQL_FN_EQUALS, 0, "UInt8", T(FF_SQL_T_STRING), T(FF_SQL_T_STRING));
    WT(FF_SQL_FN_EQUALS, 0, "Nullable(UInt8)", N(FF_SQL_T_STRING), T(FF_SQL_T_STRING));
    WT(FF_SQL_FN_IF, 0, "Int64", T(FF_SQL_T_UINT8), T(FF_SQL_T_UINT8), T(FF_SQL_T_INT64));
    WT(FF_SQL_FN_IF, 0, "Nullable(String)", T(FF_SQL_T_UINT8), T(FF_SQL_T_STRING),
       T(FF_SQL_T_NOTHING));
    WT(FF_SQL_FN_MULTI_IF, 0, "Nullable(String)", T(FF_SQL_T_UINT8), T(FF_SQL_T_STRING),
       T(FF_SQL_T_UINT8), T(FF_SQL_T_STRING), T(FF_SQL_T_NOTHING));
    WT(FF_SQL_FN_CASE_WITH_EXPRESSION, 0, "String", T(FF_SQL_T_STRING), T(FF_SQL_T_STRING),
       T(FF_SQL_T_STRING), T(FF_SQL_T_STRING));
    WT(FF_SQL_FN_COALESCE, 0, "String", N(FF_SQL_T_STRING), T(FF_SQL_T_STRING));
    WT(FF_SQL_FN_COALESCE, 0, "Nullable(String)", N(FF_SQL_T_STRING), N(FF_SQL_T_STRING));
    WT(FF_SQL_FN_LOWER, 0, "Nullable(String)", N(FF_SQL_T_STRING));
    WT(FF_SQL_FN_IS_NULL, 0, "UInt8", N(FF_SQL_T_STRING));
    WT(FF_SQL_FN_ARRAY_ELEMENT, 0, "UInt8", A(FF_SQL_T_UINT8), T(FF_SQL_T_UINT8));
    WT(FF_SQL_FN_ARRAY, 0, "Array(UInt16)", T(FF_SQL_T_UINT8), T(FF_SQL_T_UINT16));
    WT(FF_SQL_FN_TO_START_OF_HOUR, 0, "DateTime64(3)", T(FF_SQL_T_DATETIME64));
    WT(FF_SQL_FN_TO_START_OF_HOUR, 0, "DateTime", T(FF_SQL_T_DATETIME));
    WT(FF_SQL_FN_TO_START_OF_MONTH, 0, "Date", T(FF_SQL_T_DATETIME64));
    WT(FF_SQL_FN_TO_INTERVAL_DAY, 0, "IntervalDay", T(FF_SQL_T_UINT8));
    WT(FF_SQL_FN_TO_INTERVAL_MINUTE, 0, "IntervalMinute", T(FF_SQL_T_UINT8));
    WT(FF_SQL_FN_ABS, 0, "UInt64", T(FF_SQL_T_INT64));
    WT(FF_SQL_FN_TO_YEAR, 0, "UInt16", T(FF_SQL_T_DATE));
    WT(FF_SQL_FN_DATE_DIFF, 0, "Int64", T(FF_SQL_T_STRING), T(FF_SQL_T_DATE), T(FF_SQL_T_DATE));
    WT(FF_SQL_FN_JSON_EXTRACT_FLOAT, 0, "Float64", T(FF_SQL_T_STRING), T(FF_SQL_T_STRING));
    WT(FF_SQL_FN_NOW, 0, "DateTime", T(FF_SQL_T_STRING));
    WT(FF_SQL_FN_PLUS, 0, "Unknown", T(FF_SQL_T_STRING), T(FF_SQL_T_UINT8));
}

static void test_literal_types(void)
{
    ff_sql_node n;
    memset(&n, 0, sizeof n);
    ff_buf b;
    ff_buf_init(&b, 64);
    static const struct {
        int kind;
        uint64_t u;
        uint16_t flags;
        const char *want;
    } lits[] = {{FF_SQL_N_INT, 1, 0, "UInt8"},
                {FF_SQL_N_INT, 300, 0, "UInt16"},
                {FF_SQL_N_INT, 70000, 0, "UInt32"},
                {FF_SQL_N_INT, 5000000000ull, 0, "UInt64"},
                {FF_SQL_N_INT, (uint64_t)-1, FF_SQL_NF_NEG, "Int64"},
                {FF_SQL_N_FLOAT, 0, 0, "Float64"},
                {FF_SQL_N_STRING, 0, 0, "String"},
                {FF_SQL_N_BOOL, 1, 0, "Bool"},
                {FF_SQL_N_NULL, 0, 0, "Nullable(Nothing)"}};
    for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
        n.kind = (uint8_t)lits[i].kind;
        n.v.u = lits[i].u;
        n.flags = lits[i].flags;
        ff_buf_reset(&b);
        FF_CHECK_EQ(ff_sql_type_name(ff_sql_literal_type(&n), &b), FF_OK);
        FF_CHECK_STR(b.data, lits[i].want);
    }
    ff_buf_fini(&b);
}

/* docs/sql.md describes every function of the catalogue. */
static void test_documented(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/sql.md", FF_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    FF_CHECK(f != NULL);
    if (!f)
        return;
    static char doc[1 << 20];
    size_t n = fread(doc, 1, sizeof doc - 1, f);
    doc[n] = '\0';
    fclose(f);
    int missing = 0;
    for (int i = 1; i < FF_SQL_FN_COUNT_; i++) {
        const ff_sql_func *fn = ff_sql_func_get((ff_sql_func_id)i);
        char needle[96];
        snprintf(needle, sizeof needle, "`%s`", fn->name);
        if (!strstr(doc, needle)) {
            fprintf(stderr, "docs/sql.md does not mention %s\n", needle);
            missing++;
        }
    }
    FF_CHECK_EQ(missing, 0);
    FF_CHECK(strstr(doc, "## Execution") != NULL);
}

int main(void)
{
    FF_RUN(test_rows);
    FF_RUN(test_lookup);
    FF_RUN(test_suggest);
    FF_RUN(test_types);
    FF_RUN(test_literal_types);
    FF_RUN(test_documented);
    FF_DONE();
}
