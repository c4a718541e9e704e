/* test_store_enc.c -- varints, bit packing, int streams and chunk encodings: round trips (edge
 * values, NULL patterns, one row, block-sized), exact sizes, and corrupt input rejection. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ff_test.h"
#include "store/ff_enc.h"

static struct {
    uint64_t rng;
    ff_arena arena;
} g;

static uint64_t rnd(void)
{
    uint64_t x = g.rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return g.rng = x;
}

static void test_varint(void)
{
    const uint64_t vals[] = {0,     1,          127,        128,       300,        16383,
                             16384, UINT32_MAX, 1ull << 62, INT64_MAX, 1ull << 63, UINT64_MAX};
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        uint8_t b[FF_VARINT_MAX];
        size_t n = ff_varint_put(b, vals[k]);
        FF_CHECK_EQ(n, ff_varint_len(vals[k]));
        const uint8_t *p = b;
        uint64_t v = 0;
        FF_CHECK(ff_varint_get(&p, b + n, &v));
        FF_CHECK(v == vals[k]);
        FF_CHECK(p == b + n);
        p = b; /* truncated */
        FF_CHECK(n == 1 || !ff_varint_get(&p, b + n - 1, &v));
    }
    FF_CHECK_EQ(ff_varint_len(UINT64_MAX), 10);
    const uint8_t overlong[] = {0x80, 0x00};
    const uint8_t *p = overlong;
    uint64_t v;
    FF_CHECK(!ff_varint_get(&p, overlong + 2, &v));
    const uint8_t too_big[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02};
    p = too_big;
    FF_CHECK(!ff_varint_get(&p, too_big + 10, &v));
    const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    p = eleven;
    FF_CHECK(!ff_varint_get(&p, eleven + 11, &v));
    p = overlong;
    FF_CHECK(!ff_varint_get(&p, overlong, &v)); /* empty */

    const int64_t zz[] = {0, -1, 1, INT64_MIN, INT64_MAX, -64, 63};
    for (size_t k = 0; k < sizeof zz / sizeof zz[0]; k++)
        FF_CHECK(ff_unzigzag(ff_zigzag(zz[k])) == zz[k]);
    FF_CHECK_EQ(ff_zigzag(-1), 1);
    FF_CHECK_EQ(ff_zigzag(1), 2);
    FF_CHECK(ff_zigzag(INT64_MIN) == UINT64_MAX);
}

static void test_bitpack(void)
{
    const uint32_t ns[] = {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 127, 1000};
    static uint64_t in[1000], out[1000];
    static uint32_t out32[1000];
    static uint8_t buf[1000 * 8 + 16];
    FF_CHECK_EQ(ff_bits_for(0), 0);
    FF_CHECK_EQ(ff_bits_for(1), 1);
    FF_CHECK_EQ(ff_bits_for(255), 8);
    FF_CHECK_EQ(ff_bits_for(256), 9);
    FF_CHECK_EQ(ff_bits_for(UINT64_MAX), 64);
    int bad = 0;
    for (unsigned w = 0; w <= 64; w++) {
        for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++) {
            uint32_t n = ns[k];
            uint64_t mask = w == 64 ? UINT64_MAX : (w ? (1ull << w) - 1 : 0);
            for (uint32_t i = 0; i < n; i++)
                in[i] = (i % 3 == 0) ? mask : rnd() & mask; /* all-ones values too */
            size_t nb = ff_bitpack_bytes(n, w);
            if (nb != ((uint64_t)n * w + 7) / 8)
                bad++;
            memset(buf, 0xAA, sizeof buf);
            ff_bitpack(in, n, w, buf);
            if (buf[nb] != 0xAA) /* never writes past its size */
                bad++;
            /* an exact-size copy: the sanitizer build catches a read past the packed bytes */
            uint8_t *exact = malloc(nb ? nb : 1);
            FF_VERIFY(exact);
            memcpy(exact, buf, nb);
            ff_bitunpack64(exact, n, w, out);
            for (uint32_t i = 0; i < n; i++)
                bad += out[i] != in[i];
            if (w <= 32) {
                ff_bitunpack32(exact, n, w, out32);
                for (uint32_t i = 0; i < n; i++)
                    bad += out32[i] != (uint32_t)in[i];
            }
            free(exact);
        }
    }
    FF_CHECK_EQ(bad, 0);
    /* Bit order is normative: 3-bit values 1,2,3 -> bits 001 010 011 LSB-first = 0xD1 0x00. */
    const uint64_t three[] = {1, 2, 3};
    uint8_t b2[2];
    ff_bitpack(three, 3, 3, b2);
    FF_CHECK_EQ(b2[0], 0xD1);
    FF_CHECK_EQ(b2[1], 0x00);
}

static const ff_enc int_encs[] = {FF_ENC_I64_PLAIN, FF_ENC_I64_FOR, FF_ENC_I64_DELTA_VARINT,
                                  FF_ENC_I64_DELTA_FOR};

/* Round trip v[0..n) through every int encoding; also shorter/longer inputs must fail. */
static int roundtrip_i64(const int64_t *v, uint32_t n)
{
    int bad = 0;
    static int64_t out[9000];
    for (size_t k = 0; k < 4; k++) {
        ff_buf b;
        ff_buf_init(&b, 0);
        if (ff_enc_i64_put(int_encs[k], v, n, &b) != FF_OK)
            bad++;
        if (b.len != ff_enc_i64_size(int_encs[k], v, n))
            bad++;
        const char *why = NULL;
        memset(out, 0x5A, sizeof out);
        if (ff_enc_i64_get(int_encs[k], (const uint8_t *)b.data, b.len, n, out, &why) != FF_OK) {
            fprintf(stderr, "decode %s n=%u: %s\n", ff_enc_name(int_encs[k]), n, why);
            bad++;
        }
        for (uint32_t i = 0; i < n; i++)
            bad += out[i] != v[i];
        if (n > 0) {
            if (ff_enc_i64_get(int_encs[k], (const uint8_t *)b.data, b.len - 1, n, out, &why) !=
                FF_ECORRUPT)
                bad++;
            ff_buf_addc(&b, 0);
            if (ff_enc_i64_get(int_encs[k], (const uint8_t *)b.data, b.len, n, out, &why) !=
                FF_ECORRUPT)
                bad++;
        }
        ff_buf_fini(&b);
    }
    return bad;
}

static void test_int_streams(void)
{
    static int64_t v[8192];
    const int64_t edge[] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT64_MIN, INT64_MIN, INT64_MAX};
    FF_CHECK_EQ(roundtrip_i64(edge, 8), 0);
    FF_CHECK_EQ(roundtrip_i64(edge, 1), 0);
    FF_CHECK_EQ(roundtrip_i64(edge + 1, 1), 0);
    FF_CHECK_EQ(roundtrip_i64(edge, 0), 0);
    int64_t alt[64];
    for (int i = 0; i < 64; i++)
        alt[i] = (i & 1) ? INT64_MAX : INT64_MIN;
    FF_CHECK_EQ(roundtrip_i64(alt, 64), 0);
    /* deltas of every varint length 1..10, so the fast 8-byte-load path and the generic one
     * of DELTA_VARINT both see each length (and their hand-over near the end) */
    v[0] = 0;
    for (int i = 1; i < 4000; i++) {
        unsigned bits = (unsigned)(rnd() % 65);
        uint64_t d = bits == 64 ? rnd() : rnd() & ((bits ? (1ull << bits) : 1) - 1);
        v[i] = (int64_t)((uint64_t)v[i - 1] + ((rnd() & 1) ? d : (uint64_t)0 - d));
    }
    for (uint32_t n = 1; n <= 40; n++)
        FF_CHECK_EQ(roundtrip_i64(v, n), 0);
    FF_CHECK_EQ(roundtrip_i64(v, 4000), 0);
    { /* an overlong varint (0 in two bytes) is corrupt on the fast path too */
        const uint8_t over[] = {0x80, 0x00, 1, 1, 1, 1, 1, 1, 1};
        int64_t o[8];
        const char *why = NULL;
        FF_CHECK_EQ(ff_enc_i64_get(FF_ENC_I64_DELTA_VARINT, over, sizeof over, 8, o, &why),
                    FF_ECORRUPT);
        const uint8_t late[] = {1, 1, 1, 1, 1, 1, 1, 0x81, 0x00};
        FF_CHECK_EQ(ff_enc_i64_get(FF_ENC_I64_DELTA_VARINT, late, sizeof late, 8, o, &why),
                    FF_ECORRUPT);
    }
    /* constant */
    for (int i = 0; i < 8192; i++)
        v[i] = 1511658000000;
    FF_CHECK_EQ(roundtrip_i64(v, 8192), 0);
    FF_CHECK_EQ(ff_enc_i64_size(FF_ENC_I64_FOR, v, 8192), 17); /* width 0 */
    /* ts-like: increasing runs with resets (person-sorted time) */
    int64_t t = 1795379049607;
    for (int i = 0; i < 8192; i++) {
        t = (i % 37 == 0) ? 1795379000000 + (int64_t)(rnd() % 3600000)
                          : t + (int64_t)(rnd() % 9000);
        v[i] = t;
    }
    FF_CHECK_EQ(roundtrip_i64(v, 8192), 0);
    FF_CHECK(ff_enc_i64_size(FF_ENC_I64_DELTA_VARINT, v, 8192) <
             ff_enc_i64_size(FF_ENC_I64_PLAIN, v, 8192) / 2);
    /* dense offsets: delta-FOR packs them in 0 bits */
    for (int i = 0; i < 8192; i++)
        v[i] = 1000000 + i;
    FF_CHECK_EQ(roundtrip_i64(v, 8192), 0);
    FF_CHECK_EQ(ff_enc_i64_size(FF_ENC_I64_DELTA_FOR, v, 8192), 25);
    /* random full range, and random small */
    for (int i = 0; i < 8192; i++)
        v[i] = (int64_t)rnd();
    FF_CHECK_EQ(roundtrip_i64(v, 8192), 0);
    FF_CHECK_EQ(ff_enc_i64_size(FF_ENC_I64_FOR, v, 8192), 17 + 8192 * 8);
    for (int i = 0; i < 8192; i++)
        v[i] = (int64_t)(rnd() % 100) - 50;
    FF_CHECK_EQ(roundtrip_i64(v, 8192), 0);
    FF_CHECK(ff_enc_i64_size(FF_ENC_I64_FOR, v, 8192) <= 17 + 8192 * 7 / 8);
    /* common factors: second-precision times (x1000) and 2-digit decimals (x100 units) */
    for (int i = 0; i < 8192; i++)
        v[i] = 1511658000000 + (int64_t)(rnd() % 7000) * 1000;
    FF_CHECK_EQ(roundtrip_i64(v, 8192), 0);
    FF_CHECK_EQ(ff_enc_i64_size(FF_ENC_I64_FOR, v, 8192), 17 + 8192 * 13 / 8); /* 7000 < 2^13 */
    for (int i = 0; i < 8192; i++)
        v[i] = ((int64_t)(rnd() % 20000) - 10000) * 100;
    FF_CHECK_EQ(roundtrip_i64(v, 8192), 0);
    FF_CHECK_EQ(ff_enc_i64_size(FF_ENC_I64_FOR, v, 8192), 17 + 8192 * 15 / 8);
    FF_CHECK_EQ(ff_enc_i64_size(FF_ENC_I64_DELTA_FOR, v, 8192), 25 + (8191 * 16 + 7) / 8);
    const int64_t g3[] = {INT64_MIN + 1, INT64_MAX, INT64_MIN + 1, 0}; /* gcd 2^63 - 1 */
    FF_CHECK_EQ(roundtrip_i64(g3, 4), 0);
    FF_CHECK_EQ(ff_enc_i64_size(FF_ENC_I64_FOR, g3, 4), 17 + 1); /* 4 values of 2 bits */
    const int64_t g4[] = {INT64_MIN, INT64_MAX, -6, 9, 12};
    FF_CHECK_EQ(roundtrip_i64(g4, 5), 0);
    /* a bad width byte is rejected */
    ff_buf b;
    ff_buf_init(&b, 0);
    ff_enc_i64_put(FF_ENC_I64_FOR, v, 10, &b);
    b.data[16] = 65;
    const char *why;
    FF_CHECK_EQ(ff_enc_i64_get(FF_ENC_I64_FOR, (const uint8_t *)b.data, b.len, 10, v, &why),
                FF_ECORRUPT);
    ff_buf_reset(&b);
    ff_enc_i64_put(FF_ENC_I64_FOR, v, 10, &b);
    memset(b.data + 8, 0, 8); /* multiplier 0 */
    FF_CHECK_EQ(ff_enc_i64_get(FF_ENC_I64_FOR, (const uint8_t *)b.data, b.len, 10, v, &why),
                FF_ECORRUPT);
    ff_buf_reset(&b);
    ff_enc_i64_put(FF_ENC_I64_DELTA_FOR, v, 10, &b);
    memset(b.data + 16, 0, 8);
    FF_CHECK_EQ(ff_enc_i64_get(FF_ENC_I64_DELTA_FOR, (const uint8_t *)b.data, b.len, 10, v, &why),
                FF_ECORRUPT);
    FF_CHECK_EQ(ff_enc_i64_get(FF_ENC_STR_DICT, (const uint8_t *)b.data, b.len, 10, v, &why),
                FF_ECORRUPT);
    ff_buf_fini(&b);
}

/* ---- chunks ---------------------------------------------------------------------------- */

/* Selections for ff_enc_decode_sel: every row, every 3rd, ~5% at random, first and last. */
static uint32_t make_sel(uint32_t n, int pattern, uint32_t *sel)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        bool take = pattern == 0   ? true
                    : pattern == 1 ? i % 3 == 1
                    : pattern == 2 ? rnd() % 20 == 0
                                   : (i == 0 || i == n - 1);
        if (take)
            sel[m++] = i;
    }
    return m;
}

static int chunk_roundtrip_num(ff_enc_ctx *c, ff_type t, bool nullable, const int64_t *v,
                               const uint8_t *nulls, uint32_t n)
{
    int bad = 0;
    ff_chunk_in in = {t, nullable, n, v, nulls, NULL};
    if (ff_enc_prepare(c, &in, NULL) != FF_OK)
        return 1;
    uint32_t n_null = 0;
    for (uint32_t i = 0; nulls && i < n; i++)
        n_null += (nulls[i >> 3] >> (i & 7)) & 1;
    if (ff_enc_n_null(c) != n_null)
        bad++;
    const ff_enc all[] = {FF_ENC_ALLNULL, FF_ENC_I64_PLAIN, FF_ENC_I64_FOR, FF_ENC_I64_DELTA_VARINT,
                          FF_ENC_I64_DELTA_FOR};
    int applicable = 0;
    for (size_t k = 0; k < 5; k++) {
        size_t size = ff_enc_size(c, all[k]);
        if (size == SIZE_MAX)
            continue;
        applicable++;
        ff_buf b;
        ff_buf_init(&b, 0);
        if (ff_enc_encode(c, all[k], &b, NULL) != FF_OK || b.len != size)
            bad++;
        ff_chunk_desc d = {t, nullable, all[k], n, n_null, false};
        ff_colvec out;
        const char *why = NULL;
        ff_arena_reset(&g.arena);
        if (ff_enc_decode(&d, (const uint8_t *)b.data, b.len, &g.arena, &out, &why) != FF_OK) {
            fprintf(stderr, "chunk %s: %s\n", ff_enc_name(all[k]), why);
            bad++;
            ff_buf_fini(&b);
            continue;
        }
        bad += out.kind != FF_VEC_I64 || out.n_rows != n || out.n_null != n_null;
        bad += (out.nulls != NULL) != (n_null > 0);
        for (uint32_t i = 0; i < n; i++) {
            bool isn = nulls && ((nulls[i >> 3] >> (i & 7)) & 1);
            bad += ff_colvec_is_null(&out, i) != isn;
            bad += isn ? out.i64[i] != 0 : out.i64[i] != v[i];
        }
        /* selective decodes: the selected rows equal the full decode's */
        static uint32_t sel[8193];
        for (int pat = 0; pat < 4; pat++) {
            uint32_t m = make_sel(n, pat, sel);
            ff_colvec sv;
            if (ff_enc_decode_sel(&d, (const uint8_t *)b.data, b.len, sel, m, &g.arena, &sv,
                                  &why) != FF_OK) {
                fprintf(stderr, "chunk %s (selective): %s\n", ff_enc_name(all[k]), why);
                bad++;
                continue;
            }
            for (uint32_t j = 0; j < m; j++) {
                uint32_t i = sel[j];
                bad += ff_colvec_is_null(&sv, i) != ff_colvec_is_null(&out, i);
                bad += sv.i64[i] != out.i64[i];
            }
        }
        /* wrong NULL count in the descriptor is caught */
        if (n_null < n) {
            d.n_null = n_null + 1;
            if (ff_enc_decode(&d, (const uint8_t *)b.data, b.len, &g.arena, &out, &why) !=
                FF_ECORRUPT)
                bad++;
        }
        ff_buf_fini(&b);
    }
    if (n_null == n && applicable != 1)
        bad++; /* all NULL: only ALLNULL */
    if (n_null < n && applicable != 4)
        bad++;
    return bad;
}

static void test_chunk_numeric(void)
{
    ff_enc_ctx *c;
    FF_CHECK_EQ(ff_enc_ctx_new(&c, NULL), FF_OK);
    static int64_t v[8193];
    static uint8_t nulls[8193 / 8 + 1];
    for (int i = 0; i < 8193; i++)
        v[i] = (int64_t)(rnd() % 1000000);
    /* no NULLs, one row, block sized, block + 1 */
    FF_CHECK_EQ(chunk_roundtrip_num(c, FF_TYPE_TIME_MS, false, v, NULL, 1), 0);
    FF_CHECK_EQ(chunk_roundtrip_num(c, FF_TYPE_TIME_MS, false, v, NULL, 8192), 0);
    FF_CHECK_EQ(chunk_roundtrip_num(c, FF_TYPE_DECIMAL, true, v, NULL, 8193), 0);
    /* UInt64 beyond INT64_MAX */
    int64_t u[3] = {(int64_t)UINT64_MAX, 0, (int64_t)(1ull << 63)};
    FF_CHECK_EQ(chunk_roundtrip_num(c, FF_TYPE_UINT64, false, u, NULL, 3), 0);
    /* NULL patterns: first, last, every other, all but one, all */
    const uint32_t sizes[] = {1, 2, 7, 8, 9, 100, 8192};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        uint32_t n = sizes[s];
        for (int pat = 0; pat < 5; pat++) {
            memset(nulls, 0, sizeof nulls);
            for (uint32_t i = 0; i < n; i++) {
                bool isn = pat == 0   ? i == 0
                           : pat == 1 ? i == n - 1
                           : pat == 2 ? (i & 1)
                           : pat == 3 ? i != n / 2
                                      : true;
                if (isn)
                    nulls[i >> 3] |= (uint8_t)(1u << (i & 7));
            }
            FF_CHECK_EQ(chunk_roundtrip_num(c, FF_TYPE_INT64, true, v, nulls, n), 0);
        }
    }
    /* a NULL bitmap with padding bits set or a wrong popcount is corrupt */
    memset(nulls, 0, sizeof nulls);
    nulls[0] = 0x05; /* rows 0 and 2 of 10 */
    ff_chunk_in in = {FF_TYPE_INT64, true, 10, v, nulls, NULL};
    FF_CHECK_EQ(ff_enc_prepare(c, &in, NULL), FF_OK);
    ff_buf b;
    ff_buf_init(&b, 0);
    FF_CHECK_EQ(ff_enc_encode(c, FF_ENC_I64_PLAIN, &b, NULL), FF_OK);
    FF_CHECK_EQ(b.len, 2 + 8 * 8);
    ff_chunk_desc d = {FF_TYPE_INT64, true, FF_ENC_I64_PLAIN, 10, 2, false};
    ff_colvec out;
    const char *why;
    b.data[1] = (char)0x80; /* padding bit 15 (row 15 of 10) */
    FF_CHECK_EQ(ff_enc_decode(&d, (const uint8_t *)b.data, b.len, &g.arena, &out, &why),
                FF_ECORRUPT);
    b.data[1] = 0;
    b.data[0] = 0x07; /* three NULLs, descriptor says two */
    FF_CHECK_EQ(ff_enc_decode(&d, (const uint8_t *)b.data, b.len, &g.arena, &out, &why),
                FF_ECORRUPT);
    /* NULLs in a non-nullable column, ALLNULL with bytes, wrong encoding for the type */
    ff_chunk_desc d2 = {FF_TYPE_TIME_MS, false, FF_ENC_I64_PLAIN, 10, 2, false};
    FF_CHECK_EQ(ff_enc_decode(&d2, (const uint8_t *)b.data, b.len, &g.arena, &out, &why),
                FF_ECORRUPT);
    ff_chunk_desc d3 = {FF_TYPE_INT64, true, FF_ENC_ALLNULL, 10, 10, false};
    FF_CHECK_EQ(ff_enc_decode(&d3, (const uint8_t *)b.data, 1, &g.arena, &out, &why), FF_ECORRUPT);
    FF_CHECK_EQ(ff_enc_decode(&d3, (const uint8_t *)b.data, 0, &g.arena, &out, &why), FF_OK);
    FF_CHECK_EQ(out.n_null, 10);
    FF_CHECK_EQ(out.nulls[1], 0x03); /* padding bits stay 0 */
    ff_chunk_desc d4 = {FF_TYPE_TIME_MS, false, FF_ENC_STR_PLAIN, 10, 0, false};
    FF_CHECK_EQ(ff_enc_decode(&d4, (const uint8_t *)b.data, b.len, &g.arena, &out, &why),
                FF_ECORRUPT);
    ff_chunk_desc d5 = {FF_TYPE_TIME_MS, false, FF_ENC_ALLNULL, 10, 10, false};
    FF_CHECK_EQ(ff_enc_decode(&d5, (const uint8_t *)b.data, 0, &g.arena, &out, &why), FF_ECORRUPT);
    ff_buf_fini(&b);
    /* the smallest encoding of a constant column is FOR (9 bytes) */
    for (int i = 0; i < 100; i++)
        v[i] = 42;
    ff_chunk_in k = {FF_TYPE_INT64, true, 100, v, NULL, NULL};
    FF_CHECK_EQ(ff_enc_prepare(c, &k, NULL), FF_OK);
    FF_CHECK_EQ(ff_enc_smallest(c, FF_ENC_ANY), FF_ENC_I64_FOR);
    FF_CHECK_EQ(ff_enc_smallest(c, FF_ENC_BIT(FF_ENC_I64_PLAIN)), FF_ENC_I64_PLAIN);
    FF_CHECK_EQ(ff_enc_size(c, FF_ENC_STR_PLAIN), SIZE_MAX);
    FF_CHECK(ff_enc_encode(c, FF_ENC_STR_PLAIN, &b, NULL) == FF_EINVAL);
    ff_buf_fini(&b);
    ff_chunk_in zero = {FF_TYPE_INT64, true, 0, v, NULL, NULL};
    FF_CHECK_EQ(ff_enc_prepare(c, &zero, NULL), FF_EINVAL);
    ff_enc_ctx_free(c);
}

static ff_str cstr_of(const char *s)
{
    return (ff_str){s, (uint32_t)strlen(s)};
}

/* ff_enc_postings_match against a scan of v: every value alone, pairs, an absent value. */
static int postings_match_check(const ff_chunk_desc *d, const ff_buf *b, const ff_str *v,
                                uint32_t n)
{
    static uint32_t rows[8193];
    int bad = 0;
    for (uint32_t t = 0; t < n && t < 64; t++) {
        ff_str want[3] = {v[t], v[(t * 7919) % n], {"\001absent", 7}};
        for (uint32_t nv = 1; nv <= 3; nv++) {
            uint32_t m = 0;
            const char *why = NULL;
            ff_arena_reset(&g.arena);
            ff_colvec vec;
            if (ff_enc_postings_match(d, (const uint8_t *)b->data, b->len, want, nv, &g.arena, rows,
                                      &m, nv == 2 ? &vec : NULL, &why) != FF_OK) {
                fprintf(stderr, "postings match: %s\n", why);
                return bad + 1;
            }
            uint32_t j = 0;
            for (uint32_t i = 0; i < n; i++) {
                bool hit = false;
                for (uint32_t k = 0; k < nv; k++)
                    hit |= v[i].len == want[k].len &&
                           (!v[i].len || memcmp(v[i].p, want[k].p, v[i].len) == 0);
                if (hit)
                    bad += j >= m || rows[j++] != i;
                if (nv != 2)
                    continue;
                bad += vec.kind != FF_VEC_DICT || vec.codes[i] >= vec.n_dict;
                uint32_t len;
                const char *s = ff_colvec_str(&vec, i, &len);
                bad += hit && (len != v[i].len || (len && memcmp(s, v[i].p, len) != 0));
            }
            bad += j != m;
        }
    }
    return bad;
}

static int chunk_roundtrip_str(ff_enc_ctx *c, ff_type t, const ff_str *v, uint32_t n,
                               uint32_t want_distinct)
{
    int bad = 0;
    ff_chunk_in in = {t, false, n, NULL, NULL, v};
    if (ff_enc_prepare(c, &in, NULL) != FF_OK)
        return 1;
    if (want_distinct && ff_enc_n_distinct(c) != want_distinct) {
        fprintf(stderr, "distinct %u want %u\n", ff_enc_n_distinct(c), want_distinct);
        bad++;
    }
    const ff_enc encs[] = {FF_ENC_STR_PLAIN, FF_ENC_STR_DICT, FF_ENC_STR_UUID, FF_ENC_STR_POSTINGS,
                           FF_ENC_STR_DICT_SPARSE};
    for (int k = 0; k < 5; k++) {
        bool dict = k == 1 || k == 3 || k == 4;
        size_t size = ff_enc_size(c, encs[k]);
        if ((k == 2 || k == 4) && size == SIZE_MAX)
            continue; /* not all UUIDs; no '' rows or only '' rows */
        ff_buf b;
        ff_buf_init(&b, 0);
        if (ff_enc_encode(c, encs[k], &b, NULL) != FF_OK || b.len != size)
            bad++;
        ff_chunk_desc d = {t, false, encs[k], n, 0, false};
        ff_colvec out;
        const char *why = NULL;
        ff_arena_reset(&g.arena);
        if (ff_enc_decode(&d, (const uint8_t *)b.data, b.len, &g.arena, &out, &why) != FF_OK) {
            fprintf(stderr, "string chunk %s: %s\n", ff_enc_name(encs[k]), why);
            ff_buf_fini(&b);
            bad++;
            continue;
        }
        bad += out.kind != (dict ? FF_VEC_DICT : FF_VEC_STR) || out.n_rows != n || out.nulls;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t len;
            const char *s = ff_colvec_str(&out, i, &len);
            bad += len != v[i].len || (len && memcmp(s, v[i].p, len) != 0);
        }
        static uint32_t sel[8193];
        for (int pat = 0; pat < 4; pat++) {
            uint32_t m = make_sel(n, pat, sel);
            ff_colvec sv;
            if (ff_enc_decode_sel(&d, (const uint8_t *)b.data, b.len, sel, m, &g.arena, &sv,
                                  &why) != FF_OK) {
                fprintf(stderr, "string chunk %s (selective): %s\n", ff_enc_name(encs[k]), why);
                bad++;
                continue;
            }
            for (uint32_t j = 0; j < m; j++) {
                uint32_t len;
                const char *s = ff_colvec_str(&sv, sel[j], &len);
                bad += len != v[sel[j]].len || (len && memcmp(s, v[sel[j]].p, len) != 0);
            }
            if (dict && m < n) /* rows not selected hold a valid code */
                for (uint32_t i = 0; i < n; i++)
                    bad += sv.codes[i] >= sv.n_dict;
        }
        if (dict) { /* codes order like the strings; the dictionary is distinct */
            bad += out.n_dict != ff_enc_n_distinct(c);
            for (uint32_t i = 1; i < n; i++) {
                int sc = ff_str_cmp(v[i - 1].p, v[i - 1].len, v[i].p, v[i].len);
                int cc = out.codes[i - 1] < out.codes[i] ? -1 : out.codes[i - 1] > out.codes[i];
                bad += (sc < 0 ? -1 : sc > 0) != cc;
            }
        }
        if (k == 3)
            bad += postings_match_check(&d, &b, v, n);
        /* one byte less or more is corrupt */
        if (ff_enc_decode(&d, (const uint8_t *)b.data, b.len - 1, &g.arena, &out, &why) !=
            FF_ECORRUPT)
            bad++;
        ff_buf_addc(&b, 'x');
        if (ff_enc_decode(&d, (const uint8_t *)b.data, b.len, &g.arena, &out, &why) != FF_ECORRUPT)
            bad++;
        ff_buf_fini(&b);
    }
    return bad;
}

static void test_chunk_strings(void)
{
    ff_enc_ctx *c;
    FF_CHECK_EQ(ff_enc_ctx_new(&c, NULL), FF_OK);
    static ff_str v[8192];
    static char pool[8192 * 40];
    /* all empty */
    for (int i = 0; i < 8192; i++)
        v[i] = (ff_str){"", 0};
    FF_CHECK_EQ(chunk_roundtrip_str(c, FF_TYPE_STRING, v, 8192, 1), 0);
    FF_CHECK_EQ(ff_enc_size(c, FF_ENC_STR_DICT), 3); /* n_dict, one length, width 0 */
    /* one row */
    v[0] = (ff_str){"only", 4};
    FF_CHECK_EQ(chunk_roundtrip_str(c, FF_TYPE_LOWCARD, v, 1, 1), 0);
    /* binary bytes with NUL, and a prefix pair ("a" < "a\0") */
    v[0] = (ff_str){"a\0b", 3};
    v[1] = (ff_str){"a", 1};
    v[2] = (ff_str){"a\0", 2};
    v[3] = (ff_str){"\xff\xfe", 2};
    v[4] = (ff_str){"", 0};
    v[5] = (ff_str){"a", 1};
    FF_CHECK_EQ(chunk_roundtrip_str(c, FF_TYPE_STRING, v, 6, 5), 0);
    /* few distinct values (dictionary territory) and all distinct (plain) */
    static const char *names[] = {"page_viewed", "product_viewed", "product_added",
                                  "order_completed", ""};
    for (int i = 0; i < 8192; i++)
        v[i] = (ff_str){names[rnd() % 5], 0}, v[i].len = (uint32_t)strlen(v[i].p);
    FF_CHECK_EQ(chunk_roundtrip_str(c, FF_TYPE_LOWCARD, v, 8192, 5), 0);
    FF_CHECK(ff_enc_size(c, FF_ENC_STR_DICT) < ff_enc_size(c, FF_ENC_STR_PLAIN) / 4);
    FF_CHECK_EQ(ff_enc_smallest(c, FF_ENC_ANY), FF_ENC_STR_DICT);
    for (int i = 0; i < 8192; i++) {
        char *p = pool + 40 * i;
        int len = snprintf(p, 40, "evt-%016llx", (unsigned long long)rnd());
        v[i] = (ff_str){p, (uint32_t)len};
    }
    FF_CHECK_EQ(chunk_roundtrip_str(c, FF_TYPE_STRING, v, 8192, 8192), 0);
    FF_CHECK_EQ(ff_enc_smallest(c, FF_ENC_ANY), FF_ENC_STR_PLAIN);
    /* a dictionary whose values share a long prefix: the sort key is taken after it, so
     * values that end inside the key, hold NUL bytes there (like the padding) or differ
     * only past it must still come out in byte order (the decoder rejects any other) */
    {
        static const struct {
            const char *s;
            uint32_t len;
        } tails[] = {{"", 0},
                     {"a", 1},
                     {"a\0", 2},
                     {"a\0\0\0\0\0\0\0\0x", 10},
                     {"a\0\0\0\0\0\0\0\0", 9},
                     {"abcdefgh", 8},
                     {"abcdefghi", 9},
                     {"abcdefgh\0", 9},
                     {"abcdefgg\xff", 9},
                     {"b", 1},
                     {"\xff", 1},
                     {"abcdefghz", 9}};
        const char *pre = "https://shop.example.com/p/";
        size_t pl = strlen(pre);
        uint32_t nt = (uint32_t)(sizeof tails / sizeof tails[0]);
        for (uint32_t i = 0; i < nt; i++) {
            char *p = pool + 40 * i;
            memcpy(p, pre, pl);
            memcpy(p + pl, tails[i].s, tails[i].len);
            v[i] = (ff_str){p, (uint32_t)pl + tails[i].len};
            v[nt + i] = v[i]; /* repeated: not all distinct, so a dictionary is a candidate */
        }
        FF_CHECK_EQ(chunk_roundtrip_str(c, FF_TYPE_STRING, v, 2 * nt, nt), 0);
        v[0] = (ff_str){"h", 1}; /* now the common prefix is only "h" */
        FF_CHECK_EQ(chunk_roundtrip_str(c, FF_TYPE_STRING, v, 2 * nt, nt + 1), 0);
    }
    /* a long string (longer than any varint byte) */
    static char big[100000];
    memset(big, 'x', sizeof big);
    v[0] = (ff_str){big, sizeof big};
    v[1] = (ff_str){"", 0};
    FF_CHECK_EQ(chunk_roundtrip_str(c, FF_TYPE_STRING, v, 2, 2), 0);

    /* UUIDs: 16 bytes each; any upper-case or odd one makes the encoding inapplicable */
    for (int i = 0; i < 100; i++) {
        char *p = pool + 40 * i;
        uint64_t a = rnd(), b = rnd();
        snprintf(p, 40, "%08x-%04x-7%03x-%04x-%012llx", (unsigned)(a >> 32),
                 (unsigned)(a >> 16) & 0xFFFF, (unsigned)a & 0xFFF,
                 (unsigned)(0x8000 | (b >> 48 & 0x3FFF)),
                 (unsigned long long)(b & 0xFFFFFFFFFFFFull));
        v[i] = (ff_str){p, 36};
    }
    FF_CHECK_EQ(chunk_roundtrip_str(c, FF_TYPE_STRING, v, 100, 100), 0);
    FF_CHECK_EQ(ff_enc_size(c, FF_ENC_STR_UUID), 1600);
    FF_CHECK_EQ(ff_enc_smallest(c, FF_ENC_ANY), FF_ENC_STR_UUID);
    char upper[37];
    memcpy(upper, v[5].p, 36);
    upper[0] = 'A';
    upper[1] = 'B';
    ff_str keep5 = v[5];
    v[5] = (ff_str){upper, 36};
    FF_CHECK_EQ(chunk_roundtrip_str(c, FF_TYPE_STRING, v, 100, 100), 0);
    FF_CHECK_EQ(ff_enc_size(c, FF_ENC_STR_UUID), SIZE_MAX);
    v[5] = keep5;
    static const char *not_uuid[] = {"", "0123456789abcdef0123456789abcdef0123",
                                     "01234567-89ab-cdef-0123-456789abcdeg",
                                     "01234567-89ab-cdef-0123-456789abcde"};
    for (int k = 0; k < 4; k++) {
        v[7] = cstr_of(not_uuid[k]);
        ff_chunk_in in = {FF_TYPE_STRING, false, 100, NULL, NULL, v};
        FF_CHECK_EQ(ff_enc_prepare(c, &in, NULL), FF_OK);
        FF_CHECK_EQ(ff_enc_size(c, FF_ENC_STR_UUID), SIZE_MAX);
    }
    ff_chunk_desc du = {FF_TYPE_STRING, false, FF_ENC_STR_UUID, 2, 0, false};
    ff_colvec ou;
    const char *whyu;
    /* planes: byte k of value i at [k * 2 + i] */
    const uint8_t ub[32] = {0x01, 0xab, 0x8f, [12] = 0x7a, [30] = 0xff};
    FF_CHECK_EQ(ff_enc_decode(&du, ub, 32, &g.arena, &ou, &whyu), FF_OK);
    uint32_t ul;
    const char *us = ff_colvec_str(&ou, 0, &ul);
    FF_CHECK(ul == 36 && memcmp(us, "018f0000-0000-7a00-0000-0000000000ff", 36) == 0);
    FF_CHECK_EQ(ff_enc_decode(&du, ub, 31, &g.arena, &ou, &whyu), FF_ECORRUPT);

    /* corrupt dictionaries */
    v[0] = (ff_str){"b", 1};
    v[1] = (ff_str){"a", 1};
    v[2] = (ff_str){"c", 1};
    ff_chunk_in in = {FF_TYPE_STRING, false, 3, NULL, NULL, v};
    FF_CHECK_EQ(ff_enc_prepare(c, &in, NULL), FF_OK);
    ff_buf b;
    ff_buf_init(&b, 0);
    FF_CHECK_EQ(ff_enc_encode(c, FF_ENC_STR_DICT, &b, NULL), FF_OK);
    /* layout: 03 | 01 01 01 | 'a' 'b' 'c' | width 02 | codes 1,0,2 in 2 bits = 0b100001 */
    const uint8_t want[] = {3, 1, 1, 1, 'a', 'b', 'c', 2, 0x21};
    FF_CHECK_EQ(b.len, sizeof want);
    FF_CHECK(memcmp(b.data, want, sizeof want) == 0);
    ff_chunk_desc d = {FF_TYPE_STRING, false, FF_ENC_STR_DICT, 3, 0, false};
    ff_colvec out;
    const char *why;
    uint8_t bad[sizeof want];
    memcpy(bad, want, sizeof want);
    bad[4] = 'b'; /* "b","b","c": not distinct */
    FF_CHECK_EQ(ff_enc_decode(&d, bad, sizeof bad, &g.arena, &out, &why), FF_ECORRUPT);
    memcpy(bad, want, sizeof want);
    bad[8] = 0x31; /* code 3 >= n_dict */
    FF_CHECK_EQ(ff_enc_decode(&d, bad, sizeof bad, &g.arena, &out, &why), FF_ECORRUPT);
    memcpy(bad, want, sizeof want);
    bad[7] = 3; /* width does not match the size */
    FF_CHECK_EQ(ff_enc_decode(&d, bad, sizeof bad, &g.arena, &out, &why), FF_ECORRUPT);
    memcpy(bad, want, sizeof want);
    bad[0] = 4; /* dictionary larger than the rows */
    FF_CHECK_EQ(ff_enc_decode(&d, bad, sizeof bad, &g.arena, &out, &why), FF_ECORRUPT);
    bad[0] = 0;
    FF_CHECK_EQ(ff_enc_decode(&d, bad, sizeof bad, &g.arena, &out, &why), FF_ECORRUPT);
    FF_CHECK_EQ(ff_enc_decode(&d, want, sizeof want, &g.arena, &out, &why), FF_OK);
    FF_CHECK_EQ(out.codes[0], 1);
    FF_CHECK_EQ(out.codes[1], 0);
    FF_CHECK_EQ(out.codes[2], 2);
    /* plain layout: lengths then bytes */
    ff_buf_reset(&b);
    FF_CHECK_EQ(ff_enc_encode(c, FF_ENC_STR_PLAIN, &b, NULL), FF_OK);
    const uint8_t wantp[] = {1, 1, 1, 'b', 'a', 'c'};
    FF_CHECK_EQ(b.len, sizeof wantp);
    FF_CHECK(memcmp(b.data, wantp, sizeof wantp) == 0);
    ff_chunk_desc dp = {FF_TYPE_STRING, false, FF_ENC_STR_PLAIN, 3, 0, false};
    const uint8_t huge_len[] = {0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 1, 'a', 'b'};
    FF_CHECK_EQ(ff_enc_decode(&dp, huge_len, sizeof huge_len, &g.arena, &out, &why), FF_ECORRUPT);
    FF_CHECK_EQ(ff_enc_decode(&dp, wantp, 0, &g.arena, &out, &why), FF_ECORRUPT);
    ff_chunk_desc dn = {FF_TYPE_STRING, false, FF_ENC_STR_PLAIN, 0, 0, false};
    FF_CHECK_EQ(ff_enc_decode(&dn, wantp, 0, &g.arena, &out, &why), FF_ECORRUPT);
    ff_buf_fini(&b);
    ff_enc_ctx_free(c);
}

static void test_arena_cap(void)
{
    /* a decode that needs more than the arena may hold fails with FF_ELIMIT, not a crash */
    ff_arena small;
    ff_arena_init(&small, 1024, 4096);
    static int64_t v[8192];
    ff_buf b;
    ff_buf_init(&b, 0);
    FF_CHECK_EQ(ff_enc_i64_put(FF_ENC_I64_FOR, v, 8192, &b), FF_OK);
    ff_chunk_desc d = {FF_TYPE_TIME_MS, false, FF_ENC_I64_FOR, 8192, 0, false};
    ff_colvec out;
    const char *why;
    FF_CHECK_EQ(ff_enc_decode(&d, (const uint8_t *)b.data, b.len, &small, &out, &why), FF_ELIMIT);
    ff_buf_fini(&b);
    ff_arena_fini(&small);
}

/* Hand-made STR_POSTINGS chunks of 4 rows, dictionary {"a", "b"}: the good one and damaged
 * ones (a row in two lists, an extra high bit, rows out of order, a list too long). */
static void test_postings_corrupt(void)
{
    static const uint8_t good[] = {2, 1, 1, 'a', 'b', 2, 1, 2, 3, 2, 1, 2, 6};
    static const uint8_t twice[] = {2, 1, 1, 'a', 'b', 2, 1, 2, 3, 2, 1, 1, 5};
    static const uint8_t extra[] = {2, 1, 1, 'a', 'b', 2, 1, 2, 7, 2, 1, 2, 6};
    static const uint8_t order[] = {2, 1, 1, 'a', 'b', 2, 1, 1, 3, 2, 1, 2, 6};
    static const uint8_t toolong[] = {2, 1, 1, 'a', 'b', 5, 1, 2, 3, 2, 1, 2, 6};
    ff_chunk_desc d = {FF_TYPE_LOWCARD, false, FF_ENC_STR_POSTINGS, 4, 0, false};
    ff_colvec out;
    const char *why = NULL;
    ff_arena_reset(&g.arena);
    FF_CHECK_EQ(ff_enc_decode(&d, good, sizeof good, &g.arena, &out, &why), FF_OK);
    FF_CHECK(out.kind == FF_VEC_DICT && out.codes[0] == 0 && out.codes[1] == 0 &&
             out.codes[2] == 1 && out.codes[3] == 1);
    const struct {
        const uint8_t *b;
        const char *why;
    } bad[] = {{twice, "two postings lists"},
               {extra, "extra high bits"},
               {order, "out of order"},
               {toolong, "out of range"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        FF_CHECK_EQ(ff_enc_decode(&d, bad[k].b, sizeof good, &g.arena, &out, &why), FF_ECORRUPT);
        FF_CHECK(why && strstr(why, bad[k].why) != NULL);
    }
    uint32_t rows[4], m = 0;
    ff_str ab[2] = {{"a", 1}, {"b", 1}};
    FF_CHECK_EQ(
        ff_enc_postings_match(&d, good, sizeof good, ab + 1, 1, &g.arena, rows, &m, NULL, &why),
        FF_OK);
    FF_CHECK(m == 2 && rows[0] == 2 && rows[1] == 3);
    FF_CHECK_EQ(
        ff_enc_postings_match(&d, twice, sizeof twice, ab, 2, &g.arena, rows, &m, NULL, &why),
        FF_ECORRUPT);
    FF_CHECK_EQ(
        ff_enc_postings_match(&d, order, sizeof order, ab, 1, &g.arena, rows, &m, NULL, &why),
        FF_ECORRUPT);
    d.enc = FF_ENC_STR_DICT;
    FF_CHECK_EQ(ff_enc_postings_match(&d, good, sizeof good, ab, 1, &g.arena, rows, &m, NULL, &why),
                FF_EINVAL);
}

/* Hand-made STR_DICT_SPARSE chunks of 3 rows "", "a", "b" and damaged ones. */
static void test_sparse_corrupt(void)
{
    static const uint8_t good[] = {0x01, 2, 1, 1, 'a', 'b', 1, 0x02};
    static const uint8_t past[] = {0x09, 2, 1, 1, 'a', 'b', 1, 0x02};
    static const uint8_t all[] = {0x07, 2, 1, 1, 'a', 'b', 1, 0x02};
    static const uint8_t empty[] = {0x01, 2, 0, 1, 'a', 1, 0x02};
    static const uint8_t code[] = {0x01, 1, 1, 'a', 0, 0x00};
    ff_chunk_desc d = {FF_TYPE_STRING, false, FF_ENC_STR_DICT_SPARSE, 3, 0, false};
    ff_colvec out;
    const char *why = NULL;
    ff_arena_reset(&g.arena);
    FF_CHECK_EQ(ff_enc_decode(&d, good, sizeof good, &g.arena, &out, &why), FF_OK);
    FF_CHECK(out.kind == FF_VEC_DICT && out.n_dict == 3 && out.codes[0] == 0 && out.codes[1] == 1 &&
             out.codes[2] == 2);
    uint32_t len;
    FF_CHECK(ff_colvec_str(&out, 2, &len) && len == 1);
    FF_CHECK(ff_colvec_str(&out, 0, &len) && len == 0);
    uint32_t sel[1] = {2};
    FF_CHECK_EQ(ff_enc_decode_sel(&d, good, sizeof good, sel, 1, &g.arena, &out, &why), FF_OK);
    FF_CHECK(out.codes[2] == 2 && out.codes[1] < out.n_dict);
    const struct {
        const uint8_t *b;
        size_t n;
        const char *why;
    } bad[] = {{past, sizeof past, "past the rows"},
               {all, sizeof all, "only '' rows"},
               {empty, sizeof empty, "holds ''"},
               {code, sizeof code, "wrong length"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        FF_CHECK_EQ(ff_enc_decode(&d, bad[k].b, bad[k].n, &g.arena, &out, &why), FF_ECORRUPT);
        FF_CHECK(why && strstr(why, bad[k].why) != NULL);
    }
    /* a dictionary already checked (same bytes read before) skips only the order check */
    static const uint8_t unsorted[] = {0x01, 2, 1, 1, 'b', 'a', 1, 0x02};
    FF_CHECK_EQ(ff_enc_decode(&d, unsorted, sizeof unsorted, &g.arena, &out, &why), FF_ECORRUPT);
    d.dict_checked = true;
    FF_CHECK_EQ(ff_enc_decode(&d, unsorted, sizeof unsorted, &g.arena, &out, &why), FF_OK);
    FF_CHECK_EQ(ff_enc_decode(&d, past, sizeof past, &g.arena, &out, &why), FF_ECORRUPT);
}

int main(void)
{
    g.rng = 0x9E3779B97F4A7C15ull;
    ff_arena_init(&g.arena, 1 << 20, 0);
    FF_RUN(test_varint);
    FF_RUN(test_bitpack);
    FF_RUN(test_int_streams);
    FF_RUN(test_chunk_numeric);
    FF_RUN(test_chunk_strings);
    FF_RUN(test_postings_corrupt);
    FF_RUN(test_sparse_corrupt);
    FF_RUN(test_arena_cap);
    ff_arena_fini(&g.arena);
    FF_DONE();
}
