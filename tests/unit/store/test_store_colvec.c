/* test_store_colvec.c -- the vector layout: STR and DICT access, NULL bitmaps, block rows. */
#include <string.h>

#include "ff_test.h"
#include "store/ff_colvec.h"

static void test_vectors(void)
{
    /* STR: "ab", "", "cde" */
    static const uint32_t off[] = {0, 2, 2, 5};
    ff_colvec s = {
        .kind = FF_VEC_STR, .type = FF_TYPE_STRING, .n_rows = 3, .off = off, .bytes = "abcde"};
    uint32_t len;
    const char *p = ff_colvec_str(&s, 0, &len);
    FF_CHECK(len == 2 && memcmp(p, "ab", 2) == 0);
    ff_colvec_str(&s, 1, &len);
    FF_CHECK_EQ(len, 0);
    p = ff_colvec_str(&s, 2, &len);
    FF_CHECK(len == 3 && memcmp(p, "cde", 3) == 0);
    FF_CHECK(!ff_colvec_is_null(&s, 1));

    /* DICT: entries "", "mobile", "tablet"; rows tablet, "", mobile, tablet */
    static const uint32_t doff[] = {0, 0, 6, 12};
    static const uint32_t codes[] = {2, 0, 1, 2};
    ff_colvec d = {.kind = FF_VEC_DICT,
                   .type = FF_TYPE_LOWCARD,
                   .n_rows = 4,
                   .codes = codes,
                   .n_dict = 3,
                   .dict_off = doff,
                   .dict_bytes = "mobiletablet"};
    p = ff_colvec_str(&d, 0, &len);
    FF_CHECK(len == 6 && memcmp(p, "tablet", 6) == 0);
    ff_colvec_str(&d, 1, &len);
    FF_CHECK_EQ(len, 0);
    p = ff_colvec_str(&d, 2, &len);
    FF_CHECK(len == 6 && memcmp(p, "mobile", 6) == 0);

    /* I64 with NULLs in rows 1 and 9 */
    static const int64_t v[10] = {5, 0, 7, 8, 9, 10, 11, 12, 13, 0};
    static const uint8_t nulls[2] = {0x02, 0x02};
    ff_colvec n = {.kind = FF_VEC_I64,
                   .type = FF_TYPE_DECIMAL,
                   .n_rows = 10,
                   .n_null = 2,
                   .nulls = nulls,
                   .i64 = v};
    int seen = 0;
    for (uint32_t i = 0; i < 10; i++)
        seen += ff_colvec_is_null(&n, i) ? (int)i : 0;
    FF_CHECK_EQ(seen, 10);

    ff_block b;
    memset(&b, 0, sizeof b);
    b.n_rows = 3;
    b.col[FF_COL_URL] = s;
    b.col[FF_COL_DEVICE] = d;
    b.col[FF_COL_PRICE] = n;
    b.col[FF_COL_TS] =
        (ff_colvec){.kind = FF_VEC_I64, .type = FF_TYPE_TIME_MS, .n_rows = 3, .i64 = v};
    b.cols = FF_COLSET(FF_COL_URL) | FF_COLSET(FF_COL_DEVICE) | FF_COLSET(FF_COL_PRICE) |
             FF_COLSET(FF_COL_TS);
    ff_row r;
    ff_block_row(&b, 1, &r);
    FF_CHECK_EQ(r.str[FF_COL_URL].len, 0);
    FF_CHECK_EQ(r.str[FF_COL_DEVICE].len, 0);
    FF_CHECK(r.null & FF_COLSET(FF_COL_PRICE));
    FF_CHECK_EQ(r.num[FF_COL_TS], 0);
    ff_block_row(&b, 2, &r);
    FF_CHECK(r.str[FF_COL_URL].len == 3 && memcmp(r.str[FF_COL_URL].p, "cde", 3) == 0);
    FF_CHECK(r.str[FF_COL_DEVICE].len == 6 && memcmp(r.str[FF_COL_DEVICE].p, "mobile", 6) == 0);
    FF_CHECK(!(r.null & FF_COLSET(FF_COL_PRICE)));
    FF_CHECK_EQ(r.num[FF_COL_PRICE], 7);
    FF_CHECK_EQ(r.num[FF_COL_TS], 7);
    /* columns not read come back empty / NULL */
    FF_CHECK_EQ(r.str[FF_COL_EVENT_ID].len, 0);
    FF_CHECK(r.str[FF_COL_EVENT_ID].p != NULL);
    FF_CHECK(r.null & FF_COLSET(FF_COL_REVENUE));
}

int main(void)
{
    FF_RUN(test_vectors);
    FF_DONE();
}
