/* test_store_schema.c -- the column table, exact decimals, rows, and the record / Taobao converters
 * (properties layout, '$' escaping, values that do not fit, rejects). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/ff_json.h"
#include "ff_test.h"
#include "store/ff_schema.h"

static struct {
    ff_arena arena;
} g;

static bool str_is(ff_str s, const char *want)
{
    return s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

#define CHECK_COL(row, col, want)                                                                  \
    do {                                                                                           \
        ff_test_checks++;                                                                          \
        if (!str_is((row).str[col], want)) {                                                       \
            ff_test_failures++;                                                                    \
            fprintf(stderr, "%s:%d: column %s is \"%.*s\", want \"%s\"\n", __FILE__, __LINE__,     \
                    ff_schema_col(col)->name, (int)(row).str[col].len, (row).str[col].p, want);    \
        }                                                                                          \
    } while (0)

static void test_columns(void)
{
    FF_CHECK_EQ(FF_COL_COUNT, 27);
    for (int c = 0; c < FF_COL_COUNT; c++) {
        const ff_col_def *d = ff_schema_col((ff_col)c);
        FF_CHECK(d->name && d->ch_type);
        FF_CHECK_EQ(ff_schema_find(d->name, strlen(d->name)), c);
        FF_CHECK_EQ(d->nullable, c == FF_COL_PRICE || c == FF_COL_QUANTITY || c == FF_COL_REVENUE);
    }
    FF_CHECK_EQ(ff_schema_find("nope", 4), -1);
    FF_CHECK_EQ(ff_schema_find("ts_", 2), FF_COL_TS);
    FF_CHECK_EQ(ff_schema_col(FF_COL_TS)->type, FF_TYPE_TIME_MS);
    FF_CHECK_EQ(ff_schema_col(FF_COL_EVENT)->type, FF_TYPE_LOWCARD);
    FF_CHECK_EQ(ff_schema_col(FF_COL_PRICE)->type, FF_TYPE_DECIMAL);
    FF_CHECK_EQ(ff_schema_col(FF_COL_LOG_OFFSET)->type, FF_TYPE_UINT64);
    FF_CHECK_STR(ff_schema_col(FF_COL_PROPERTIES)->name, "properties");
    FF_CHECK(FF_COLSET_ALL == (1ull << 27) - 1);
}

static void test_decimal(void)
{
    static const struct {
        const char *in;
        int64_t want;
        bool rounded;
    } ok[] = {
        {"19.99", 199900, false},
        {"0", 0, false},
        {"-0", 0, false},
        {"-0.5", -5000, false},
        {"20.00", 200000, false},
        {"1e2", 1000000, false},
        {"1.5E-2", 150, false},
        {"0.00001", 0, true},
        {"0.00005", 0, true},      /* half to even: 0 */
        {"0.00015", 2, true},      /* half to even: 2 */
        {"1.23455", 12346, true},  /* odd last digit rounds up */
        {"1.23465", 12346, true},  /* even stays */
        {"1.234651", 12347, true}, /* more than half */
        {"-2.00005", -20000, true},
        {"922337203685477.5807", INT64_MAX, false},
        {"-922337203685477.5807", -INT64_MAX, false},
        {"0e999999999", 0, false},
        {"5e-999999999", 0, true},
    };
    for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++) {
        int64_t v = -1;
        bool r = !ok[k].rounded;
        ff_rc rc = ff_decimal_parse(ok[k].in, strlen(ok[k].in), &v, &r);
        if (rc != FF_OK || v != ok[k].want || r != ok[k].rounded)
            fprintf(stderr, "decimal %s -> rc %d v %lld rounded %d\n", ok[k].in, rc, (long long)v,
                    r);
        FF_CHECK(rc == FF_OK && v == ok[k].want && r == ok[k].rounded);
    }
    static const char *range[] = {"922337203685477.5808", "1e30", "99999999999999999999"};
    for (size_t k = 0; k < sizeof range / sizeof range[0]; k++) {
        int64_t v;
        bool r;
        FF_CHECK_EQ(ff_decimal_parse(range[k], strlen(range[k]), &v, &r), FF_ELIMIT);
    }
    static const char *bad[] = {"",    "-",  "1.", ".5",    "1e",  "1e+",
                                "abc", "1 ", "+1", "1.2.3", "0x10"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int64_t v;
        bool r;
        FF_CHECK_EQ(ff_decimal_parse(bad[k], strlen(bad[k]), &v, &r), FF_EBADINPUT);
    }
    char buf[32];
    FF_CHECK_EQ(ff_decimal_format(199900, buf), 5);
    FF_CHECK_STR(buf, "19.99");
    ff_decimal_format(-5000, buf);
    FF_CHECK_STR(buf, "-0.5");
    ff_decimal_format(0, buf);
    FF_CHECK_STR(buf, "0");
    ff_decimal_format(200000, buf);
    FF_CHECK_STR(buf, "20");
    ff_decimal_format(1, buf);
    FF_CHECK_STR(buf, "0.0001");
    ff_decimal_format(INT64_MIN, buf);
    FF_CHECK_STR(buf, "-922337203685477.5808");
    /* format -> parse is the identity */
    int bad_rt = 0;
    const int64_t samples[] = {INT64_MAX, -INT64_MAX, 123456789, -1, 10, 1000, 99999};
    for (size_t k = 0; k < sizeof samples / sizeof samples[0]; k++) {
        size_t n = ff_decimal_format(samples[k], buf);
        int64_t v;
        bool r;
        bad_rt += ff_decimal_parse(buf, n, &v, &r) != FF_OK || v != samples[k] || r;
    }
    FF_CHECK_EQ(bad_rt, 0);
}

static const char rec_order[] =
    "{\"v\":1,\"event_id\":\"sim-02aaca841fc95e35-1197\",\"type\":\"track\",\"event\":\"order_"
    "completed\",\"event_original\":\"Order "
    "Completed\",\"ts\":1795379049885,\"received_at\":1795379049887,\"sent_at\":1795379049886,"
    "\"user_id\":\"user-000038\",\"anonymous_id\":\"aaa1c3ce-402c-4905-aca6-4ab605536f45\","
    "\"url\":\"https://shop.example.com/checkout/"
    "payment\",\"referrer\":\"https://shop.example.com/"
    "checkout\",\"order_id\":\"ord-3686467d-1\",\"revenue\":\"57.99\",\"currency\":\"EUR\","
    "\"device\":\"mobile\",\"browser\":\"Chrome\",\"os\":\"Android\",\"ip\":\"203.0.113.0\","
    "\"properties\":{\"checkout_id\":\"chk-3686467d-1\",\"subtotal\":57.99,\"products\":[{"
    "\"product_id\":\"prod-00020\",\"price\":57.99,\"quantity\":1}]},\"context\":{"
    "\"locale\":\"fr-FR\",\"library\":{\"name\":\"footfall-sim\",\"version\":\"0.1.0\"}},"
    "\"flags\":[\"no_currency\"]}";

static void test_record(void)
{
    ff_row r;
    ff_err err = {0};
    FF_CHECK_EQ(ff_row_from_record(rec_order, strlen(rec_order), 77, &g.arena, &r, &err), FF_OK);
    CHECK_COL(r, FF_COL_EVENT_ID, "sim-02aaca841fc95e35-1197");
    CHECK_COL(r, FF_COL_TYPE, "track");
    CHECK_COL(r, FF_COL_EVENT, "order_completed");
    CHECK_COL(r, FF_COL_EVENT_ORIGINAL, "Order Completed");
    CHECK_COL(r, FF_COL_USER_ID, "user-000038");
    CHECK_COL(r, FF_COL_ORDER_ID, "ord-3686467d-1");
    CHECK_COL(r, FF_COL_CURRENCY, "EUR");
    CHECK_COL(r, FF_COL_OS, "Android");
    CHECK_COL(r, FF_COL_IP, "203.0.113.0");
    CHECK_COL(r, FF_COL_PRODUCT_ID, "");
    CHECK_COL(r, FF_COL_SEARCH_TERM, "");
    FF_CHECK(r.num[FF_COL_TS] == 1795379049885);
    FF_CHECK(r.num[FF_COL_RECEIVED_AT] == 1795379049887);
    FF_CHECK_EQ(r.num[FF_COL_LOG_OFFSET], 77);
    FF_CHECK_EQ(r.num[FF_COL_REVENUE], 579900);
    FF_CHECK(!(r.null & FF_COLSET(FF_COL_REVENUE)));
    FF_CHECK(r.null & FF_COLSET(FF_COL_PRICE));
    FF_CHECK(r.null & FF_COLSET(FF_COL_QUANTITY));
    CHECK_COL(r, FF_COL_PROPERTIES,
              "{\"checkout_id\":\"chk-3686467d-1\",\"subtotal\":57.99,\"products\":[{\"product_"
              "id\":\"prod-00020\",\"price\":57.99,\"quantity\":1}],\"$sent_at\":1795379049886,"
              "\"$context\":{\"locale\":\"fr-FR\",\"library\":{\"name\":\"footfall-sim\","
              "\"version\":\"0.1.0\"}},\"$flags\":[\"no_currency\"]}");
    /* the properties text is valid JSON */
    ff_json *root;
    FF_CHECK_EQ(ff_json_parse(r.str[FF_COL_PROPERTIES].p, r.str[FF_COL_PROPERTIES].len, NULL,
                              &g.arena, &root, NULL),
                FF_OK);
    FF_CHECK(ff_json_get(root, "$context") != NULL);
    FF_CHECK(ff_row_person(&r).p == r.str[FF_COL_USER_ID].p);
}

static void test_record_odd(void)
{
    ff_row r;
    ff_err err = {0};
    /* minimal: no extra members -> properties '' ; quantity; price as a JSON number */
    const char *a = "{\"v\":1,\"event_id\":\"e1\",\"type\":\"track\",\"event\":\"x\",\"ts\":5,"
                    "\"anonymous_id\":\"anon\",\"price\":19.99,\"quantity\":3}";
    FF_CHECK_EQ(ff_row_from_record(a, strlen(a), 1, &g.arena, &r, &err), FF_OK);
    CHECK_COL(r, FF_COL_PROPERTIES, "");
    FF_CHECK_EQ(r.num[FF_COL_PRICE], 199900);
    FF_CHECK_EQ(r.num[FF_COL_QUANTITY], 3);
    FF_CHECK(!(r.null & (FF_COLSET(FF_COL_PRICE) | FF_COLSET(FF_COL_QUANTITY))));
    FF_CHECK(r.null & FF_COLSET(FF_COL_REVENUE));
    FF_CHECK_EQ(r.num[FF_COL_RECEIVED_AT], 0); /* absent */
    FF_CHECK(str_is(ff_row_person(&r), "anon"));

    /* values that do not fit go to properties as "$key"; client "$" keys get one more '$';
     * numbers in string columns keep their text; null = absent */
    const char *b = "{\"ts\":6,\"user_id\":12345,\"session_id\":null,\"price\":\"1e30\","
                    "\"quantity\":2.5,\"revenue\":\"1.00005\",\"url\":{\"no\":1},"
                    "\"properties\":{\"$x\":1,\"$$y\":2,\"plan\":\"pro\"},\"log_offset\":9,"
                    "\"future\":true}";
    FF_CHECK_EQ(ff_row_from_record(b, strlen(b), 2, &g.arena, &r, &err), FF_OK);
    CHECK_COL(r, FF_COL_USER_ID, "12345");
    CHECK_COL(r, FF_COL_SESSION_ID, "");
    CHECK_COL(r, FF_COL_URL, "");
    FF_CHECK(r.null & FF_COLSET(FF_COL_PRICE));
    FF_CHECK(r.null & FF_COLSET(FF_COL_QUANTITY));
    FF_CHECK_EQ(r.num[FF_COL_REVENUE], 10000); /* rounded half-even, exact text kept */
    FF_CHECK_EQ(r.num[FF_COL_LOG_OFFSET], 2);  /* ours, not the record's */
    CHECK_COL(r, FF_COL_PROPERTIES,
              "{\"$$x\":1,\"$$$y\":2,\"plan\":\"pro\",\"$price\":\"1e30\",\"$quantity\":2.5,"
              "\"$revenue\":\"1.00005\",\"$url\":{\"no\":1},\"$log_offset\":9,"
              "\"$future\":true}");

    /* duplicate column keys: the first wins, the second is kept as "$key" */
    const char *c = "{\"ts\":1,\"ts\":2,\"event\":\"a\",\"event\":\"b\"}";
    FF_CHECK_EQ(ff_row_from_record(c, strlen(c), 3, &g.arena, &r, &err), FF_OK);
    FF_CHECK_EQ(r.num[FF_COL_TS], 1);
    CHECK_COL(r, FF_COL_EVENT, "a");
    CHECK_COL(r, FF_COL_PROPERTIES, "{\"$ts\":2,\"$event\":\"b\"}");

    /* strings with escapes and NUL decode to their bytes */
    const char *d = "{\"ts\":1,\"search_term\":\"a\\u0000b\\\"c\"}";
    FF_CHECK_EQ(ff_row_from_record(d, strlen(d), 4, &g.arena, &r, &err), FF_OK);
    FF_CHECK(r.str[FF_COL_SEARCH_TERM].len == 5 &&
             memcmp(r.str[FF_COL_SEARCH_TERM].p, "a\0b\"c", 5) == 0);

    /* rejects */
    static const char *rej[] = {
        "{\"event\":\"x\"}",             /* no ts */
        "{\"ts\":\"2020-01-01\"}",       /* ts not an integer */
        "{\"ts\":1.5}",                  /* ts not an integer */
        "{\"v\":2,\"ts\":1}",            /* unknown version */
        "[1,2]",                         /* not an object */
        "{\"ts\":1",                     /* bad JSON */
        "",                              /* empty */
        "{\"ts\":99999999999999999999}", /* out of int64 */
    };
    for (size_t k = 0; k < sizeof rej / sizeof rej[0]; k++) {
        err.msg[0] = '\0';
        FF_CHECK_EQ(ff_row_from_record(rej[k], strlen(rej[k]), 40 + k, &g.arena, &r, &err),
                    FF_EBADINPUT);
        FF_CHECK(strstr(err.msg, "log offset") != NULL);
    }
    /* an arena over its cap is FF_ELIMIT, not a crash */
    ff_arena tiny;
    ff_arena_init(&tiny, 256, 512);
    FF_CHECK_EQ(ff_row_from_record(rec_order, strlen(rec_order), 1, &tiny, &r, &err), FF_ELIMIT);
    ff_arena_fini(&tiny);
}

/* properties are copied from the record's text when that text is already what the JSON writer
 * would write (compact, no escapes, no U+2028/9), else re-serialised: same bytes either way */
static void test_record_props_text(void)
{
    static const struct {
        const char *rec, *props;
    } cases[] = {
        /* copied verbatim: compact, no backslash */
        {"{\"ts\":1,\"properties\":{\"x\":{\"y\":[1,\"z w\",null,true,-0.5e3]}},\"flags\":[\"a\"]}",
         "{\"x\":{\"y\":[1,\"z w\",null,true,-0.5e3]},\"$flags\":[\"a\"]}"},
        /* white space outside strings: re-serialised compact, inside strings kept */
        {"{\"ts\":1,\"properties\":{ \"a\" : [1, 2],\"b\":\"x y\"} ,\"context\":{\"k\":\ttrue}}",
         "{\"a\":[1,2],\"b\":\"x y\",\"$context\":{\"k\":true}}"},
        /* escapes in the source: decoded, written the writer's way */
        {"{\"ts\":1,\"properties\":{\"s\":\"\\u0041\\/\\n\"},\"traits\":{\"t\":\"a\\u2028\"}}",
         "{\"s\":\"A/\\n\",\"$traits\":{\"t\":\"a\\u2028\"}}"},
        /* a raw U+2028 is escaped by the writer, so not copied */
        {"{\"ts\":1,\"properties\":{\"p\":\"a\xE2\x80\xA8"
         "b\"}}",
         "{\"p\":\"a\\u2028b\"}"},
        /* a client key with '$' is escaped: the object is not copied whole */
        {"{\"ts\":1,\"properties\":{\"ok\":1,\"$k\":{\"n\":[]}}}", "{\"ok\":1,\"$$k\":{\"n\":[]}}"},
        /* two properties objects: the second goes to "$properties" */
        {"{\"ts\":1,\"properties\":{\"a\":1},\"properties\":{\"b\":2}}", "{\"a\":1,\"b\":2}"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ff_row r;
        ff_err err = {0};
        FF_CHECK_EQ(ff_row_from_record(cases[k].rec, strlen(cases[k].rec), k, &g.arena, &r, &err),
                    FF_OK);
        CHECK_COL(r, FF_COL_PROPERTIES, cases[k].props);
    }
}

static void test_row_order(void)
{
    ff_row a, b;
    ff_row_clear(&a);
    ff_row_clear(&b);
    FF_CHECK(a.null & FF_COLSET(FF_COL_PRICE));
    FF_CHECK(!(a.null & FF_COLSET(FF_COL_TS)));
    FF_CHECK_EQ(ff_row_cmp(&a, &b), 0);
    a.str[FF_COL_ANONYMOUS_ID] = (ff_str){"b", 1};
    b.str[FF_COL_USER_ID] = (ff_str){"a", 1};
    b.str[FF_COL_ANONYMOUS_ID] = (ff_str){"z", 1};
    FF_CHECK(ff_row_cmp(&b, &a) < 0); /* person of b is its user_id "a" */
    b.str[FF_COL_USER_ID] = (ff_str){"b", 1};
    a.num[FF_COL_TS] = 5;
    b.num[FF_COL_TS] = 4;
    FF_CHECK(ff_row_cmp(&b, &a) < 0);
    b.num[FF_COL_TS] = 5;
    a.num[FF_COL_LOG_OFFSET] = -1; /* UInt64 max */
    b.num[FF_COL_LOG_OFFSET] = 1;
    FF_CHECK(ff_row_cmp(&b, &a) < 0);
    FF_CHECK(ff_str_cmp("a", 1, "a\0", 2) < 0);
    FF_CHECK(ff_str_cmp("\xff", 1, "a", 1) > 0); /* bytes compare unsigned */
    FF_CHECK_EQ(ff_str_cmp("", 0, "", 0), 0);
}

static void test_taobao(void)
{
    ff_row r;
    ff_err err = {0};
    const char *line = "543462,1715,1464116,pv,1511658000\n";
    FF_CHECK_EQ(ff_row_from_taobao(line, strlen(line), 0, &g.arena, &r, &err), FF_OK);
    CHECK_COL(r, FF_COL_USER_ID, "543462");
    CHECK_COL(r, FF_COL_PRODUCT_ID, "1715");
    CHECK_COL(r, FF_COL_CATEGORY, "1464116");
    CHECK_COL(r, FF_COL_EVENT, "product_viewed");
    CHECK_COL(r, FF_COL_EVENT_ORIGINAL, "pv");
    CHECK_COL(r, FF_COL_TYPE, "track");
    FF_CHECK(r.num[FF_COL_TS] == 1511658000000);
    FF_CHECK(r.num[FF_COL_RECEIVED_AT] == 1511658000000);
    ff_str id = r.str[FF_COL_EVENT_ID];
    FF_CHECK_EQ(id.len, 36);
    FF_CHECK(id.p[8] == '-' && id.p[13] == '-' && id.p[14] == '7' && id.p[18] == '-' &&
             strchr("89ab", id.p[19]) && id.p[23] == '-');
    FF_CHECK(memcmp(id.p, "015ff5d6-8e80", 13) == 0); /* 1511658000000 = 0x15FF5D68E80 */
    ff_row r2;
    FF_CHECK_EQ(ff_row_from_taobao(line, strlen(line), 1, &g.arena, &r2, &err), FF_OK);
    FF_CHECK(memcmp(r2.str[FF_COL_EVENT_ID].p, id.p, 36) != 0); /* offset makes it unique */
    const char *maps[][2] = {{"1,2,3,cart,4", "product_added"},
                             {"1,2,3,fav,4", "product_added_to_wishlist"},
                             {"1,2,3,buy,4\r\n", "order_completed"}};
    for (int k = 0; k < 3; k++) {
        FF_CHECK_EQ(ff_row_from_taobao(maps[k][0], strlen(maps[k][0]), 0, &g.arena, &r, &err),
                    FF_OK);
        CHECK_COL(r, FF_COL_EVENT, maps[k][1]);
    }
    static const char *bad[] = {"1,2,3,pv",
                                "1,2,3,pv,4,5",
                                "1,2,3,view,4",
                                "a,2,3,pv,4",
                                "1,,3,pv,4",
                                "1,2,3,pv,",
                                "1,2,3,pv,99999999999999999999",
                                ""};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        FF_CHECK_EQ(ff_row_from_taobao(bad[k], strlen(bad[k]), 0, &g.arena, &r, &err),
                    FF_EBADINPUT);

    /* the whole slice, when the shared data is there */
    const char *path = FF_SHARED_DIR "/data/taobao-userbehavior-slice/UserBehavior_slice.csv";
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("SKIPPED: %s not found (the Taobao part of test_taobao)\n", path);
        return;
    }
    char buf[256];
    long n = 0, failed = 0, buys = 0;
    while (fgets(buf, sizeof buf, f)) {
        ff_arena_reset(&g.arena);
        if (ff_row_from_taobao(buf, strlen(buf), (uint64_t)n, &g.arena, &r, &err) != FF_OK)
            failed++;
        else
            buys += str_is(r.str[FF_COL_EVENT], "order_completed");
        n++;
    }
    fclose(f);
    FF_CHECK_EQ(n, 96168);
    FF_CHECK_EQ(failed, 0);
    FF_CHECK(buys > 0);
}

int main(void)
{
    ff_arena_init(&g.arena, 1 << 16, 0);
    FF_RUN(test_columns);
    FF_RUN(test_decimal);
    FF_RUN(test_record);
    FF_RUN(test_record_odd);
    FF_RUN(test_record_props_text);
    FF_RUN(test_row_order);
    FF_RUN(test_taobao);
    ff_arena_fini(&g.arena);
    FF_DONE();
}
