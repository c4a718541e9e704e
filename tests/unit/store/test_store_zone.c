/* test_store_zone.c -- zone maps: construction (NULLs, '' rows, truncation, UInt64) and the
 * conservative "may match" tests: never a false "no", checked exhaustively on random sets. */
#include <stdint.h>
#include <string.h>

#include "ff_test.h"
#include "store/ff_zone.h"

static struct {
    uint64_t rng;
} g;

static uint64_t rnd(void)
{
    uint64_t x = g.rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return g.rng = x;
}

static void test_numeric(void)
{
    const int64_t v[] = {5, -3, 99, 0, INT64_MAX};
    uint8_t nulls[1] = {0x10}; /* row 4 is NULL */
    ff_zone z;
    ff_zone_build_i64(&z, FF_TYPE_INT64, v, nulls, 5);
    FF_CHECK_EQ(z.n_rows, 5);
    FF_CHECK_EQ(z.n_null, 1);
    FF_CHECK(z.has_minmax);
    FF_CHECK_EQ(z.min, -3);
    FF_CHECK_EQ(z.max, 99);
    FF_CHECK(ff_zone_may_eq_i64(&z, FF_TYPE_INT64, 5));
    FF_CHECK(ff_zone_may_eq_i64(&z, FF_TYPE_INT64, -3));
    FF_CHECK(ff_zone_may_eq_i64(&z, FF_TYPE_INT64, 99));
    FF_CHECK(!ff_zone_may_eq_i64(&z, FF_TYPE_INT64, 100));
    FF_CHECK(!ff_zone_may_eq_i64(&z, FF_TYPE_INT64, INT64_MAX)); /* only in a NULL row */
    FF_CHECK(!ff_zone_may_range_i64(&z, FF_TYPE_INT64, 100, INT64_MAX));
    FF_CHECK(ff_zone_may_range_i64(&z, FF_TYPE_INT64, INT64_MIN, -3));
    FF_CHECK(!ff_zone_may_range_i64(&z, FF_TYPE_INT64, 10, 5)); /* empty range */
    FF_CHECK(ff_zone_may_null(&z));

    /* all NULL */
    uint8_t alln[1] = {0x1F};
    ff_zone_build_i64(&z, FF_TYPE_DECIMAL, v, alln, 5);
    FF_CHECK(!z.has_minmax);
    FF_CHECK_EQ(z.n_null, 5);
    FF_CHECK(!ff_zone_may_eq_i64(&z, FF_TYPE_DECIMAL, 0));
    FF_CHECK(ff_zone_may_null(&z));
    ff_zone_build_i64(&z, FF_TYPE_INT64, v, NULL, 5);
    FF_CHECK(!ff_zone_may_null(&z));
    FF_CHECK_EQ(z.max, INT64_MAX);

    /* UInt64: 2^63 and more are large, not negative */
    const int64_t u[] = {10, (int64_t)UINT64_MAX, (int64_t)(1ull << 63)};
    ff_zone_build_i64(&z, FF_TYPE_UINT64, u, NULL, 3);
    FF_CHECK_EQ(z.min, 10);
    FF_CHECK(z.max == (int64_t)UINT64_MAX);
    FF_CHECK(ff_zone_may_eq_i64(&z, FF_TYPE_UINT64, (int64_t)(1ull << 62)));
    FF_CHECK(!ff_zone_may_eq_i64(&z, FF_TYPE_UINT64, 5));
    /* the same bits as Int64 order differently */
    ff_zone_build_i64(&z, FF_TYPE_INT64, u, NULL, 3);
    FF_CHECK(z.min == INT64_MIN); /* 2^63 reads as INT64_MIN */
    FF_CHECK_EQ(z.max, 10);
}

static void test_strings(void)
{
    ff_str v[6] = {{"", 0}, {"bob", 3}, {"alice", 5}, {"", 0}, {"carol", 5}, {"bob", 3}};
    ff_zone z;
    ff_zone_build_str(&z, v, 6);
    FF_CHECK_EQ(z.n_null, 2);
    FF_CHECK(z.has_minmax && !z.min_trunc && !z.max_trunc);
    FF_CHECK(z.min_len == 5 && memcmp(z.min_s, "alice", 5) == 0);
    FF_CHECK(z.max_len == 5 && memcmp(z.max_s, "carol", 5) == 0);
    FF_CHECK(ff_zone_may_eq_str(&z, "bob", 3));
    FF_CHECK(ff_zone_may_eq_str(&z, "", 0));
    FF_CHECK(!ff_zone_may_eq_str(&z, "aaron", 5));
    FF_CHECK(!ff_zone_may_eq_str(&z, "dave", 4));
    FF_CHECK(!ff_zone_may_eq_str(&z, "carol2", 6));
    FF_CHECK(ff_zone_may_range_str(&z, "b", 1, "bz", 2));
    FF_CHECK(!ff_zone_may_range_str(&z, "d", 1, "z", 1));
    FF_CHECK(!ff_zone_may_range_str(&z, "z", 1, "a", 1));
    FF_CHECK(ff_zone_may_prefix_str(&z, "car", 3));
    FF_CHECK(ff_zone_may_prefix_str(&z, "al", 2));
    FF_CHECK(!ff_zone_may_prefix_str(&z, "ab", 2));
    FF_CHECK(!ff_zone_may_prefix_str(&z, "d", 1));
    FF_CHECK(ff_zone_may_prefix_str(&z, "", 0));

    /* all empty */
    ff_str e[2] = {{"", 0}, {"", 0}};
    ff_zone_build_str(&z, e, 2);
    FF_CHECK(!z.has_minmax);
    FF_CHECK(ff_zone_may_eq_str(&z, "", 0));
    FF_CHECK(!ff_zone_may_eq_str(&z, "x", 1));
    FF_CHECK(!ff_zone_may_prefix_str(&z, "x", 1));

    /* truncation: values longer than FF_ZONE_STR_MAX */
    char lo[100], hi[100];
    memset(lo, 'b', sizeof lo);
    memset(hi, 'y', sizeof hi);
    ff_str t[2] = {{lo, 100}, {hi, 100}};
    ff_zone_build_str(&z, t, 2);
    FF_CHECK(z.min_trunc && z.max_trunc);
    FF_CHECK_EQ(z.min_len, FF_ZONE_STR_MAX);
    FF_CHECK_EQ(z.max_len, FF_ZONE_STR_MAX);
    FF_CHECK(ff_zone_may_eq_str(&z, lo, 100));
    FF_CHECK(ff_zone_may_eq_str(&z, hi, 100)); /* above the stored max prefix, yet present */
    char above[101];
    memcpy(above, hi, 100);
    above[100] = 'z';
    FF_CHECK(ff_zone_may_eq_str(&z, above, 101)); /* shares the prefix: cannot exclude */
    FF_CHECK(!ff_zone_may_eq_str(&z, "z", 1));
    FF_CHECK(!ff_zone_may_eq_str(&z, "a", 1));
    FF_CHECK(ff_zone_may_range_str(&z, above, 101, "zz", 2));
    FF_CHECK(ff_zone_may_prefix_str(&z, hi, 80));
}

/* Random sets and probes: whenever some value truly matches, the zone must say "may". */
static void test_no_false_negatives(void)
{
    static char pool[64][80];
    static const char alpha[] = "ab\xff";
    int fn = 0, pruned = 0;
    for (int round = 0; round < 300; round++) {
        ff_str v[16];
        uint32_t n = 1 + (uint32_t)(rnd() % 16);
        for (uint32_t i = 0; i < n; i++) {
            char *p = pool[i];
            uint32_t len = (uint32_t)(rnd() % 4 == 0   ? 0
                                      : rnd() % 4 == 0 ? 60 + rnd() % 20
                                                       : rnd() % 5);
            for (uint32_t k = 0; k < len; k++)
                p[k] = (char)(k < 60 && rnd() % 8 ? 'a' : alpha[rnd() % 3]);
            v[i] = (ff_str){p, len};
        }
        ff_zone z;
        ff_zone_build_str(&z, v, n);
        for (int probe = 0; probe < 50; probe++) {
            char q[80];
            uint32_t ql;
            if (probe % 3 == 0) { /* a member, maybe cut */
                ff_str m = v[rnd() % n];
                ql = m.len ? (uint32_t)(rnd() % (m.len + 1)) : 0;
                memcpy(q, m.p, m.len);
                if (probe % 2)
                    ql = m.len;
            } else {
                ql = (uint32_t)(rnd() % 70);
                for (uint32_t k = 0; k < ql; k++)
                    q[k] = (char)(rnd() % 8 ? 'a' : alpha[rnd() % 3]);
            }
            bool eq = false, pre = false;
            for (uint32_t i = 0; i < n; i++) {
                if (ff_str_cmp(v[i].p, v[i].len, q, ql) == 0)
                    eq = true;
                if (v[i].len >= ql && memcmp(v[i].p, q, ql) == 0)
                    pre = true;
            }
            bool meq = ff_zone_may_eq_str(&z, q, ql), mpre = ff_zone_may_prefix_str(&z, q, ql);
            fn += (eq && !meq) + (pre && !mpre);
            pruned += !meq;
            /* ranges: [q, q2] */
            char q2[80];
            uint32_t ql2 = (uint32_t)(rnd() % 70);
            for (uint32_t k = 0; k < ql2; k++)
                q2[k] = (char)(rnd() % 8 ? 'a' : alpha[rnd() % 3]);
            bool rng = false;
            for (uint32_t i = 0; i < n; i++)
                rng |= v[i].len && ff_str_cmp(v[i].p, v[i].len, q, ql) >= 0 &&
                       ff_str_cmp(v[i].p, v[i].len, q2, ql2) <= 0;
            fn += rng && !ff_zone_may_range_str(&z, q, ql, q2, ql2);
        }
        /* numbers */
        int64_t iv[16];
        uint8_t nb[2] = {(uint8_t)rnd(), (uint8_t)rnd()};
        for (uint32_t i = 0; i < n; i++)
            iv[i] = (int64_t)(rnd() % 200) - 100;
        ff_zone_build_i64(&z, FF_TYPE_INT64, iv, nb, n);
        for (int probe = 0; probe < 50; probe++) {
            int64_t a = (int64_t)(rnd() % 240) - 120, b = a + (int64_t)(rnd() % 30);
            bool any = false;
            for (uint32_t i = 0; i < n; i++)
                any |= !((nb[i >> 3] >> (i & 7)) & 1) && iv[i] >= a && iv[i] <= b;
            fn += any && !ff_zone_may_range_i64(&z, FF_TYPE_INT64, a, b);
        }
    }
    FF_CHECK_EQ(fn, 0);
    FF_CHECK(pruned > 1000); /* and it does prune */
}

int main(void)
{
    g.rng = 88172645463325252ull;
    FF_RUN(test_numeric);
    FF_RUN(test_strings);
    FF_RUN(test_no_false_negatives);
    FF_DONE();
}
