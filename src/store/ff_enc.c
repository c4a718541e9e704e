/* ff_enc.c -- column chunk encodings (layouts: ff_enc.h and docs/formats/part.md). */
#include "store/ff_enc.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/ff_mem.h"

/* ---- little-endian loads and stores ------------------------------------------------------ */

static inline uint64_t ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline void st64(uint8_t *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    memcpy(p, &v, 8);
}

/* Loads up to 8 bytes (fewer when fewer remain), zero-filled. */
static inline uint64_t ld_upto8(const uint8_t *p, size_t avail)
{
    if (avail >= 8)
        return ld64(p);
    uint64_t v = 0;
    for (size_t k = 0; k < avail; k++)
        v |= (uint64_t)p[k] << (8 * k);
    return v;
}

/* ---- names ------------------------------------------------------------------------------- */

const char *ff_enc_name(ff_enc e)
{
    switch (e) {
    case FF_ENC_ALLNULL:
        return "allnull";
    case FF_ENC_I64_PLAIN:
        return "i64_plain";
    case FF_ENC_I64_FOR:
        return "i64_for";
    case FF_ENC_I64_DELTA_VARINT:
        return "i64_delta_varint";
    case FF_ENC_I64_DELTA_FOR:
        return "i64_delta_for";
    case FF_ENC_STR_PLAIN:
        return "str_plain";
    case FF_ENC_STR_DICT:
        return "str_dict";
    case FF_ENC_STR_UUID:
        return "str_uuid";
    case FF_ENC_STR_POSTINGS:
        return "str_postings";
    case FF_ENC_STR_DICT_SPARSE:
        return "str_dict_sparse";
    }
    return "?";
}

bool ff_enc_valid_for(ff_enc e, ff_type t, bool nullable)
{
    if (ff_type_is_str(t))
        return e == FF_ENC_STR_PLAIN || e == FF_ENC_STR_DICT || e == FF_ENC_STR_UUID ||
               e == FF_ENC_STR_POSTINGS || e == FF_ENC_STR_DICT_SPARSE;
    if (t < FF_TYPE_TIME_MS || t > FF_TYPE_UINT64)
        return false;
    if (e == FF_ENC_ALLNULL)
        return nullable;
    return e >= FF_ENC_I64_PLAIN && e <= FF_ENC_I64_DELTA_FOR;
}

/* ---- primitives -------------------------------------------------------------------------- */

unsigned ff_bits_for(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

size_t ff_varint_len(uint64_t v)
{
    return v ? (ff_bits_for(v) + 6) / 7 : 1;
}

size_t ff_varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

bool ff_varint_get(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
    const uint8_t *p = *pp;
    if (p < end && *p < 0x80) { /* one byte: the common case */
        *out = *p;
        *pp = p + 1;
        return true;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < FF_VARINT_MAX; i++) {
        if (p >= end)
            return false;
        uint8_t b = *p++;
        if (i == FF_VARINT_MAX - 1 && b > 1)
            return false; /* more than 64 bits */
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            if (b == 0 && i > 0)
                return false; /* overlong */
            *out = v;
            *pp = p;
            return true;
        }
    }
    return false;
}

size_t ff_bitpack_bytes(uint32_t n, unsigned width)
{
    return (size_t)(((uint64_t)n * width + 7) / 8);
}

/* A bit writer: values are appended LSB-first; full 64-bit words are stored as they fill. */
typedef struct bitw {
    uint8_t *out;
    size_t o;
    uint64_t acc;
    unsigned fill; /* bits in acc, < 64 */
} bitw;

static inline void bitw_put(bitw *b, uint64_t x, unsigned w)
{
    /* x < 2^w; 1 <= w <= 64 */
    b->acc |= x << b->fill;
    if (b->fill + w >= 64) {
        st64(b->out + b->o, b->acc);
        b->o += 8;
        unsigned used = 64 - b->fill;
        b->acc = used < 64 ? x >> used : 0;
        b->fill = b->fill + w - 64;
    } else {
        b->fill += w;
    }
}

static inline void bitw_flush(bitw *b)
{
    for (unsigned k = 0; k < (b->fill + 7) / 8; k++)
        b->out[b->o++] = (uint8_t)(b->acc >> (8 * k));
    b->acc = 0;
    b->fill = 0;
}

static inline uint64_t width_mask(unsigned w)
{
    return w >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << w) - 1);
}

void ff_bitpack(const uint64_t *v, uint32_t n, unsigned width, uint8_t *out)
{
    if (width == 0)
        return;
    uint64_t mask = width_mask(width);
    bitw b = {out, 0, 0, 0};
    for (uint32_t i = 0; i < n; i++)
        bitw_put(&b, v[i] & mask, width);
    bitw_flush(&b);
}

/* Value i of a bit-packed stream of nb bytes (random access for selective decodes). */
static inline uint64_t unpack_one(const uint8_t *in, size_t nb, uint64_t i, unsigned w)
{
    if (w == 0)
        return 0;
    uint64_t bit = i * w;
    size_t byte = (size_t)(bit >> 3);
    unsigned sh = (unsigned)(bit & 7);
    uint64_t x = ld_upto8(in + byte, nb - byte) >> sh;
    if (sh + w > 64)
        x |= (uint64_t)in[byte + 8] << (64 - sh);
    return x & width_mask(w);
}

/* Unpacking, the hot path of every column read: groups of 8 values take exactly `width`
 * bytes, so a group starts on a byte boundary; with the width a compile-time constant (one
 * specialised loop per width through FF_UNPACK_WIDTHS), every offset and shift below is a
 * constant and the 8 extractions are independent loads. A group is unpacked this way while
 * its last 8-byte load stays inside the input; the rest goes through the generic loop.
 * Checked against the bit-at-a-time reference for every width in test_store_enc.c. */
#define FF_UNPACK_GROUPS(NAME, T)                                                                  \
    static inline __attribute__((always_inline)) uint32_t NAME(                                    \
        const uint8_t *in, size_t nb, uint32_t n, const unsigned w, T *out)                        \
    {                                                                                              \
        const uint64_t mask = width_mask(w);                                                       \
        /* the farthest byte a group reads: (7w)/8 + 8 from its start */                           \
        size_t need = (size_t)(7 * w) / 8 + 8;                                                     \
        uint32_t groups = n / 8;                                                                   \
        if (nb < need)                                                                             \
            return 0;                                                                              \
        size_t fit = (nb - need) / w + 1; /* groups whose reads stay in bounds */                  \
        if (groups > fit)                                                                          \
            groups = (uint32_t)fit;                                                                \
        for (uint32_t g = 0; g < groups; g++, in += w, out += 8)                                   \
            for (unsigned k = 0; k < 8; k++)                                                       \
                out[k] = (T)((ld64(in + (k * w) / 8) >> ((k * w) % 8)) & mask);                    \
        return groups * 8;                                                                         \
    }
FF_UNPACK_GROUPS(unpack_groups32, uint32_t)
FF_UNPACK_GROUPS(unpack_groups64, uint64_t)

#define FF_W8(X, b) X(b + 1) X(b + 2) X(b + 3) X(b + 4) X(b + 5) X(b + 6) X(b + 7) X(b + 8)
#define FF_UNPACK_WIDTHS(X) FF_W8(X, 0) FF_W8(X, 8) FF_W8(X, 16) FF_W8(X, 24)

void ff_bitunpack64(const uint8_t *in, uint32_t n, unsigned width, uint64_t *out)
{
    if (width == 0) {
        memset(out, 0, (size_t)n * sizeof *out);
        return;
    }
    size_t nb = ff_bitpack_bytes(n, width);
    uint32_t i = 0;
    switch (width) {
#define FF_CASE64(W)                                                                               \
    case W:                                                                                        \
        i = unpack_groups64(in, nb, n, W, out);                                                    \
        break;
        FF_UNPACK_WIDTHS(FF_CASE64)
        FF_W8(FF_CASE64, 32)
        FF_CASE64(41)
        FF_CASE64(42)
        FF_CASE64(43)
        FF_CASE64(44)
        FF_CASE64(45)
        FF_CASE64(46)
        FF_CASE64(47)
        FF_CASE64(48)
#undef FF_CASE64
    default:
        break;
    }
    for (; i < n; i++) /* the tail, and widths without a specialised loop */
        out[i] = unpack_one(in, nb, i, width);
}

void ff_bitunpack32(const uint8_t *in, uint32_t n, unsigned width, uint32_t *out)
{
    if (width == 0) {
        memset(out, 0, (size_t)n * sizeof *out);
        return;
    }
    size_t nb = ff_bitpack_bytes(n, width);
    uint32_t i = 0;
    switch (width) {
#define FF_CASE32(W)                                                                               \
    case W:                                                                                        \
        i = unpack_groups32(in, nb, n, W, out);                                                    \
        break;
        FF_UNPACK_WIDTHS(FF_CASE32)
#undef FF_CASE32
    default:
        break;
    }
    for (; i < n; i++) /* the tail: fewer than 8 values, or too near the end for a group */
        out[i] = (uint32_t)unpack_one(in, nb, i, width);
}

/* ---- int64 value streams ----------------------------------------------------------------- */

typedef struct istats {
    int64_t min, max;   /* of the values */
    int64_t dmin, dmax; /* of the deltas v[i] - v[i-1], i >= 1 (wrapping) */
    uint64_t vgcd;      /* gcd of all v[i] - min (1 when they are all equal) */
    uint64_t dgcd;      /* gcd of all d[i] - dmin (1 when they are all equal) */
    size_t dv_bytes;    /* DELTA_VARINT size */
} istats;

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    int sh = __builtin_ctzll(a | b);
    a >>= __builtin_ctzll(a);
    do {
        b >>= __builtin_ctzll(b);
        if (a > b) {
            uint64_t t = a;
            a = b;
            b = t;
        }
        b -= a;
    } while (b);
    return a << sh;
}

/* |x - y| of two int64 as an exact uint64. */
static inline uint64_t absdiff(int64_t x, int64_t y)
{
    return x >= y ? (uint64_t)x - (uint64_t)y : (uint64_t)y - (uint64_t)x;
}

/* gcd{v[i] - min} equals gcd{|v[i] - v[0]|}: one pass, no need to know min first. The gcd
 * work stops once it reaches 1 (millisecond times get there within a few values). */
static void i64_stats(const int64_t *v, uint32_t n, istats *s)
{
    memset(s, 0, sizeof *s);
    s->vgcd = s->dgcd = 1;
    if (n == 0)
        return;
    s->min = s->max = v[0];
    s->dv_bytes = ff_varint_len(ff_zigzag(v[0]));
    if (n == 1)
        return;
    int64_t d1 = (int64_t)((uint64_t)v[1] - (uint64_t)v[0]);
    s->dmin = s->dmax = d1;
    uint64_t gv = 0, gd = 0;
    bool gv_done = false, gd_done = false;
    for (uint32_t i = 1; i < n; i++) {
        int64_t x = v[i];
        int64_t d = (int64_t)((uint64_t)x - (uint64_t)v[i - 1]);
        if (x < s->min)
            s->min = x;
        if (x > s->max)
            s->max = x;
        if (d < s->dmin)
            s->dmin = d;
        if (d > s->dmax)
            s->dmax = d;
        s->dv_bytes += ff_varint_len(ff_zigzag(d));
        if (!gv_done) {
            gv = gcd_u64(gv, absdiff(x, v[0]));
            gv_done = gv == 1;
        }
        if (!gd_done) {
            gd = gcd_u64(gd, absdiff(d, d1));
            gd_done = gd == 1;
        }
    }
    s->vgcd = gv ? gv : 1;
    s->dgcd = gd ? gd : 1;
}

static unsigned for_width(const istats *s)
{
    return ff_bits_for(((uint64_t)s->max - (uint64_t)s->min) / s->vgcd);
}

static unsigned dfor_width(const istats *s)
{
    return ff_bits_for(((uint64_t)s->dmax - (uint64_t)s->dmin) / s->dgcd);
}

#define FOR_HDR 17  /* base, mult, width */
#define DFOR_HDR 25 /* first, dmin, mult, width */

static size_t i64_size_from(ff_enc e, const istats *s, uint32_t n)
{
    if (n == 0)
        return 0;
    switch (e) {
    case FF_ENC_I64_PLAIN:
        return (size_t)n * 8;
    case FF_ENC_I64_FOR:
        return FOR_HDR + ff_bitpack_bytes(n, for_width(s));
    case FF_ENC_I64_DELTA_VARINT:
        return s->dv_bytes;
    case FF_ENC_I64_DELTA_FOR:
        return DFOR_HDR + ff_bitpack_bytes(n - 1, dfor_width(s));
    default:
        return SIZE_MAX;
    }
}

size_t ff_enc_i64_size(ff_enc e, const int64_t *v, uint32_t n)
{
    istats s;
    i64_stats(v, n, &s);
    return i64_size_from(e, &s, n);
}

static ff_rc i64_put_with(ff_enc e, const int64_t *v, uint32_t n, const istats *s, ff_buf *out)
{
    size_t size = i64_size_from(e, s, n);
    if (size == SIZE_MAX)
        return FF_EINVAL;
    ff_rc rc = ff_buf_reserve(out, size);
    if (rc)
        return rc;
    uint8_t *p = (uint8_t *)out->data + out->len;
    if (n > 0) {
        switch (e) {
        case FF_ENC_I64_PLAIN:
            for (uint32_t i = 0; i < n; i++)
                st64(p + 8 * (size_t)i, (uint64_t)v[i]);
            break;
        case FF_ENC_I64_FOR: {
            unsigned w = for_width(s);
            uint64_t m = s->vgcd;
            st64(p, (uint64_t)s->min);
            st64(p + 8, m);
            p[16] = (uint8_t)w;
            if (w) {
                bitw b = {p + FOR_HDR, 0, 0, 0};
                for (uint32_t i = 0; i < n; i++) {
                    uint64_t u = (uint64_t)v[i] - (uint64_t)s->min;
                    bitw_put(&b, m == 1 ? u : u / m, w);
                }
                bitw_flush(&b);
            }
            break;
        }
        case FF_ENC_I64_DELTA_VARINT: {
            size_t o = ff_varint_put(p, ff_zigzag(v[0]));
            for (uint32_t i = 1; i < n; i++)
                o +=
                    ff_varint_put(p + o, ff_zigzag((int64_t)((uint64_t)v[i] - (uint64_t)v[i - 1])));
            FF_VERIFY(o == size);
            break;
        }
        case FF_ENC_I64_DELTA_FOR: {
            unsigned w = dfor_width(s);
            uint64_t m = s->dgcd;
            st64(p, (uint64_t)v[0]);
            st64(p + 8, (uint64_t)s->dmin);
            st64(p + 16, m);
            p[24] = (uint8_t)w;
            if (w) {
                bitw b = {p + DFOR_HDR, 0, 0, 0};
                for (uint32_t i = 1; i < n; i++) {
                    uint64_t u = (uint64_t)v[i] - (uint64_t)v[i - 1] - (uint64_t)s->dmin;
                    bitw_put(&b, m == 1 ? u : u / m, w);
                }
                bitw_flush(&b);
            }
            break;
        }
        default:
            return FF_EINVAL;
        }
    }
    out->len += size;
    out->data[out->len] = '\0';
    return FF_OK;
}

ff_rc ff_enc_i64_put(ff_enc e, const int64_t *v, uint32_t n, ff_buf *out)
{
    istats s;
    i64_stats(v, n, &s);
    return i64_put_with(e, v, n, &s, out);
}

#define CORRUPT(msg)                                                                               \
    do {                                                                                           \
        *why = (msg);                                                                              \
        return FF_ECORRUPT;                                                                        \
    } while (0)

ff_rc ff_enc_i64_get(ff_enc e, const uint8_t *p, size_t len, uint32_t n, int64_t *out,
                     const char **why)
{
    if (n == 0) {
        if (len != 0)
            CORRUPT("bytes after an empty value stream");
        return FF_OK;
    }
    uint64_t *u = (uint64_t *)out;
    switch (e) {
    case FF_ENC_I64_PLAIN:
        if (len != (size_t)n * 8)
            CORRUPT("plain int stream has the wrong length");
        for (uint32_t i = 0; i < n; i++)
            u[i] = ld64(p + 8 * (size_t)i);
        return FF_OK;
    case FF_ENC_I64_FOR: {
        if (len < FOR_HDR)
            CORRUPT("frame-of-reference header truncated");
        uint64_t base = ld64(p), mult = ld64(p + 8);
        unsigned w = p[16];
        if (w > 64)
            CORRUPT("bit width over 64");
        if (mult == 0)
            CORRUPT("frame-of-reference multiplier 0");
        if (len != FOR_HDR + ff_bitpack_bytes(n, w))
            CORRUPT("frame-of-reference stream has the wrong length");
        ff_bitunpack64(p + FOR_HDR, n, w, u);
        if (mult == 1)
            for (uint32_t i = 0; i < n; i++)
                u[i] += base;
        else
            for (uint32_t i = 0; i < n; i++)
                u[i] = base + u[i] * mult;
        return FF_OK;
    }
    case FF_ENC_I64_DELTA_VARINT: {
        const uint8_t *q = p, *end = p + len;
        uint64_t prev = 0;
        uint32_t i = 0;
        /* Fast path while 8 bytes can be loaded: a varint of up to 8 bytes is found with one
         * load and a count of trailing zeros, its 7-bit groups gathered with shifts and masks
         * (no per-byte branches; the checks are ff_varint_get's: no overlong form). */
        for (; i < n && end - q >= 8; i++) {
            uint64_t w = ld64(q), stop = ~w & 0x8080808080808080ull;
            if (!stop)
                break; /* 9 or 10 bytes: the generic loop below */
            unsigned len8 = ((unsigned)__builtin_ctzll(stop) >> 3) + 1;
            uint64_t x = len8 == 8 ? w : w & (((uint64_t)1 << (8 * len8)) - 1);
            if (len8 > 1 && (x >> (8 * (len8 - 1))) == 0)
                CORRUPT("bad or truncated varint");
            uint64_t z = (x & 0x7f) | ((x >> 1) & ((uint64_t)0x7f << 7)) |
                         ((x >> 2) & ((uint64_t)0x7f << 14)) | ((x >> 3) & ((uint64_t)0x7f << 21)) |
                         ((x >> 4) & ((uint64_t)0x7f << 28)) | ((x >> 5) & ((uint64_t)0x7f << 35)) |
                         ((x >> 6) & ((uint64_t)0x7f << 42)) | ((x >> 7) & ((uint64_t)0x7f << 49));
            q += len8;
            prev += (uint64_t)ff_unzigzag(z);
            u[i] = prev;
        }
        for (; i < n; i++) {
            uint64_t z;
            if (!ff_varint_get(&q, end, &z))
                CORRUPT("bad or truncated varint");
            prev += (uint64_t)ff_unzigzag(z);
            u[i] = prev;
        }
        if (q != end)
            CORRUPT("bytes after the last varint");
        return FF_OK;
    }
    case FF_ENC_I64_DELTA_FOR: {
        if (len < DFOR_HDR)
            CORRUPT("delta frame-of-reference header truncated");
        uint64_t first = ld64(p), dmin = ld64(p + 8), mult = ld64(p + 16);
        unsigned w = p[24];
        if (w > 64)
            CORRUPT("bit width over 64");
        if (mult == 0)
            CORRUPT("delta frame-of-reference multiplier 0");
        if (len != DFOR_HDR + ff_bitpack_bytes(n - 1, w))
            CORRUPT("delta frame-of-reference stream has the wrong length");
        u[0] = first;
        ff_bitunpack64(p + DFOR_HDR, n - 1, w, u + 1);
        for (uint32_t i = 1; i < n; i++)
            u[i] = u[i - 1] + dmin + u[i] * mult;
        return FF_OK;
    }
    default:
        CORRUPT("not an int encoding");
    }
}

/* ---- UUID text <-> 16 bytes ------------------------------------------------------------- */

static const char hexdig[] = "0123456789abcdef";

static inline int hexval(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* True when s is canonical lowercase UUID text; the 16 bytes go to out (may be NULL). */
static bool uuid_parse(const char *s, uint32_t len, uint8_t *out)
{
    if (len != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-')
        return false;
    int k = 0;
    for (int i = 0; i < 36; i += 2) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            i++;
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        if (out)
            out[k] = (uint8_t)(hi << 4 | lo);
        k++;
    }
    return true;
}

static void uuid_format(const uint8_t *b, char *out)
{
    int o = 0;
    for (int k = 0; k < 16; k++) {
        if (k == 4 || k == 6 || k == 8 || k == 10)
            out[o++] = '-';
        out[o++] = hexdig[b[k] >> 4];
        out[o++] = hexdig[b[k] & 15];
    }
}

/* ---- Elias-Fano row lists (STR_POSTINGS) ------------------------------------------------- */

/* A list of c ascending rows out of n keeps each row's low l bits bit-packed and its high
 * part r >> l in unary: bit (r >> l) + i of a bitmap is set for the i-th row. With
 * l = floor(log2(n / c)) that is at most c * (l + 2) + 8 bits: 2 bits a row above the
 * information-theoretic size, whatever the gaps. */
static unsigned ef_low_bits(uint32_t n, uint32_t c)
{
    uint32_t q = n / c;
    return q ? ff_bits_for(q) - 1 : 0;
}

static size_t ef_high_bytes(uint32_t n, uint32_t c, unsigned l)
{
    return ((size_t)c + ((n - 1) >> l) + 7) / 8;
}

static size_t ef_size(uint32_t n, uint32_t c)
{
    unsigned l = ef_low_bits(n, c);
    return ff_varint_len(c) + 1 + ff_bitpack_bytes(c, l) + ef_high_bytes(n, c, l);
}

typedef struct eflist {
    uint32_t c;
    unsigned l;
    const uint8_t *low, *high;
    size_t low_nb, high_nb;
} eflist;

/* The header of the list at *pp; advances past the whole list. */
static bool ef_parse(const uint8_t **pp, const uint8_t *end, uint32_t n, eflist *o,
                     const char **why)
{
    uint64_t c;
    if (!ff_varint_get(pp, end, &c) || *pp >= end) {
        *why = "postings list header truncated";
        return false;
    }
    if (c == 0 || c > n) {
        *why = "postings list length out of range";
        return false;
    }
    unsigned l = *(*pp)++;
    if (l > 31) {
        *why = "postings low-bit width out of range";
        return false;
    }
    o->c = (uint32_t)c;
    o->l = l;
    o->low_nb = ff_bitpack_bytes(o->c, l);
    o->high_nb = ef_high_bytes(n, o->c, l);
    if ((size_t)(end - *pp) < o->low_nb + o->high_nb) {
        *why = "postings list truncated";
        return false;
    }
    o->low = *pp;
    o->high = *pp + o->low_nb;
    *pp += o->low_nb + o->high_nb;
    return true;
}

/* The list's rows into out[0..c): strictly increasing, < n, exactly c high bits set. */
static bool ef_rows(const eflist *L, uint32_t n, uint32_t *out, const char **why)
{
    uint32_t i = 0;
    uint64_t prev = 0;
    size_t words = (L->high_nb + 7) / 8;
    for (size_t w = 0; w < words; w++) {
        uint64_t x = ld_upto8(L->high + 8 * w, L->high_nb - 8 * w);
        while (x) {
            uint64_t pos = 64 * (uint64_t)w + (unsigned)__builtin_ctzll(x);
            x &= x - 1;
            if (i == L->c || pos < i) {
                *why = "postings list has extra high bits";
                return false;
            }
            uint64_t r = ((pos - i) << L->l) | unpack_one(L->low, L->low_nb, i, L->l);
            if (r >= n || (i && r <= prev)) {
                *why = "postings rows out of order or range";
                return false;
            }
            out[i++] = (uint32_t)r;
            prev = r;
        }
    }
    if (i != L->c) {
        *why = "postings list has too few rows";
        return false;
    }
    return true;
}

/* A full decode's inner loop: codes[r] = code for each row r of the list (low: scratch of c
 * values). Checks order, range and the number of high bits; a row in two lists leaves
 * another row unset, which the caller's coverage check finds. */
static bool ef_scatter(const eflist *L, uint32_t n, uint32_t code, uint32_t *low, uint32_t *codes,
                       const char **why)
{
    ff_bitunpack32(L->low, L->c, L->l, low);
    uint32_t i = 0, c = L->c;
    unsigned l = L->l;
    uint64_t over = 0;
    int64_t prev = -1;
    size_t words = (L->high_nb + 7) / 8;
    for (size_t w = 0; w < words; w++) {
        uint64_t x = ld_upto8(L->high + 8 * w, L->high_nb - 8 * w);
        uint64_t base = 64 * (uint64_t)w;
        for (; x && i < c; x &= x - 1, i++) {
            /* pos >= i: the i-th set bit is at bit i or later */
            uint64_t r = ((base + (unsigned)__builtin_ctzll(x) - i) << l) | low[i];
            over |= (uint64_t)(r >= n) | (uint64_t)((int64_t)r <= prev);
            prev = (int64_t)r;
            codes[r < n ? r : 0] = code;
        }
        if (x) {
            *why = "postings list has extra high bits";
            return false;
        }
    }
    if (over) {
        *why = "postings rows out of order or range";
        return false;
    }
    if (i != c) {
        *why = "postings list has too few rows";
        return false;
    }
    return true;
}

static size_t ef_put(uint8_t *p, const uint32_t *rows, uint32_t c, uint32_t n)
{
    unsigned l = ef_low_bits(n, c);
    size_t o = ff_varint_put(p, c);
    p[o++] = (uint8_t)l;
    if (l) {
        bitw b = {p + o, 0, 0, 0};
        for (uint32_t i = 0; i < c; i++)
            bitw_put(&b, rows[i] & (((uint64_t)1 << l) - 1), l);
        bitw_flush(&b);
        o += b.o;
    }
    size_t hb = ef_high_bytes(n, c, l);
    memset(p + o, 0, hb);
    for (uint32_t i = 0; i < c; i++) {
        uint64_t bit = (uint64_t)(rows[i] >> l) + i;
        p[o + bit / 8] |= (uint8_t)(1u << (bit % 8));
    }
    return o + hb;
}

/* ---- chunk context ----------------------------------------------------------------------- */

typedef struct sortent {
    uint64_t key; /* 8 bytes after the dictionary's common prefix, big-endian, 0-padded */
    const char *p;
    uint32_t len;
    uint32_t idx;
} sortent;

struct ff_enc_ctx {
    ff_chunk_in in;
    bool prepared;
    uint32_t n_null;
    uint32_t cap; /* capacity of the per-row arrays below */

    /* numeric */
    int64_t *vals;    /* compacted non-NULL values (cap) */
    const int64_t *v; /* the values to encode: vals or in.i64 */
    uint32_t n_vals;
    istats st;

    /* strings */
    uint32_t *slots; /* hash table: 0 = empty, else unique index + 1 */
    uint32_t n_slots;
    ff_str *uniq;    /* distinct values, first-seen order (cap) */
    uint64_t *uhash; /* their hashes (cap) */
    uint32_t n_uniq;
    uint32_t *row_u; /* per row: unique index (cap) */
    uint32_t *ucnt;  /* unique index -> rows holding it (cap) */
    uint32_t *lists; /* STR_POSTINGS: rows grouped by code (cap) */
    uint32_t *rank;  /* unique index -> code (cap) */
    sortent *sorted; /* uniques in code order (cap) */
    bool dict_sorted;
    bool all_uuid;           /* every value is a canonical lowercase UUID */
    size_t dict_entry_bytes; /* sum of varint lengths + bytes of the distinct values */
    uint32_t n_empty;        /* '' rows */
    size_t plain_size;
};

ff_rc ff_enc_ctx_new(ff_enc_ctx **out, ff_err *err)
{
    ff_enc_ctx *c = ff_calloc(1, sizeof *c);
    if (!c)
        return FF_ERR_SET(err, FF_ENOMEM, "encoder context: out of memory");
    *out = c;
    return FF_OK;
}

void ff_enc_ctx_free(ff_enc_ctx *c)
{
    if (!c)
        return;
    ff_free(c->vals);
    ff_free(c->slots);
    ff_free(c->uniq);
    ff_free(c->uhash);
    ff_free(c->row_u);
    ff_free(c->ucnt);
    ff_free(c->lists);
    ff_free(c->rank);
    ff_free(c->sorted);
    ff_free(c);
}

static ff_rc ctx_reserve(ff_enc_ctx *c, uint32_t n)
{
    if (n <= c->cap)
        return FF_OK;
    uint32_t cap = c->cap ? c->cap : 1024;
    while (cap < n)
        cap = cap > UINT32_MAX / 2 ? n : cap * 2;
#define GROW(field)                                                                                \
    do {                                                                                           \
        void *np_ = ff_realloc(c->field, (size_t)cap * sizeof *c->field);                          \
        if (!np_)                                                                                  \
            return FF_ENOMEM;                                                                      \
        c->field = np_;                                                                            \
    } while (0)
    GROW(vals);
    GROW(uniq);
    GROW(uhash);
    GROW(row_u);
    GROW(ucnt);
    GROW(lists);
    GROW(rank);
    GROW(sorted);
#undef GROW
    c->cap = cap;
    return FF_OK;
}

static ff_rc prepare_strings(ff_enc_ctx *c)
{
    uint32_t n = c->in.n_rows;
    uint64_t want = (uint64_t)n * 2;
    uint32_t ns = 16;
    while (ns < want)
        ns *= 2;
    if (ns > c->n_slots) {
        uint32_t *s = ff_realloc(c->slots, (size_t)ns * sizeof *s);
        if (!s)
            return FF_ENOMEM;
        c->slots = s;
        c->n_slots = ns;
    }
    memset(c->slots, 0, (size_t)ns * sizeof *c->slots);
    uint32_t mask = ns - 1;
    c->n_uniq = 0;
    c->dict_entry_bytes = 0;
    c->plain_size = 0;
    c->n_empty = 0;
    const ff_str *sv = c->in.str;
    for (uint32_t i = 0; i < n; i++) {
        const ff_str s = sv[i];
        c->plain_size += ff_varint_len(s.len) + s.len;
        c->n_empty += s.len == 0;
        /* Consecutive equal values are common (sorted by person): skip the hash. */
        if (i > 0 && s.len == sv[i - 1].len &&
            (s.p == sv[i - 1].p || memcmp(s.p, sv[i - 1].p, s.len) == 0)) {
            c->row_u[i] = c->row_u[i - 1];
            c->ucnt[c->row_u[i]]++;
            continue;
        }
        uint64_t h = XXH3_64bits(s.p, s.len);
        uint32_t j = (uint32_t)h & mask;
        uint32_t u;
        for (;;) {
            uint32_t e = c->slots[j];
            if (!e) {
                u = c->n_uniq++;
                c->uniq[u] = s;
                c->uhash[u] = h;
                c->ucnt[u] = 0;
                c->slots[j] = u + 1;
                c->dict_entry_bytes += ff_varint_len(s.len) + s.len;
                break;
            }
            u = e - 1;
            if (c->uhash[u] == h && c->uniq[u].len == s.len &&
                memcmp(c->uniq[u].p, s.p, s.len) == 0)
                break;
            j = (j + 1) & mask;
        }
        c->row_u[i] = u;
        c->ucnt[u]++;
    }
    c->dict_sorted = false;
    c->all_uuid = true;
    for (uint32_t u = 0; u < c->n_uniq && c->all_uuid; u++)
        c->all_uuid = uuid_parse(c->uniq[u].p, c->uniq[u].len, NULL);
    return FF_OK;
}

ff_rc ff_enc_prepare(ff_enc_ctx *c, const ff_chunk_in *in, ff_err *err)
{
    c->prepared = false;
    if (in->n_rows == 0)
        return FF_ERR_SET(err, FF_EINVAL, "encoder: a chunk has at least one row");
    c->in = *in;
    ff_rc rc = ctx_reserve(c, in->n_rows);
    if (rc)
        return FF_ERR_SET(err, rc, "encoder: out of memory for %u rows", in->n_rows);
    c->n_null = 0;
    if (ff_type_is_str(in->type)) {
        if (!in->str)
            return FF_ERR_SET(err, FF_EINVAL, "encoder: string chunk without values");
        if ((rc = prepare_strings(c)) != FF_OK)
            return FF_ERR_SET(err, rc, "encoder: out of memory");
    } else {
        if (!in->i64)
            return FF_ERR_SET(err, FF_EINVAL, "encoder: numeric chunk without values");
        c->v = in->i64;
        c->n_vals = in->n_rows;
        if (in->nullable && in->nulls) {
            uint32_t m = 0;
            for (uint32_t i = 0; i < in->n_rows; i++) {
                if ((in->nulls[i >> 3] >> (i & 7)) & 1)
                    c->n_null++;
                else
                    c->vals[m++] = in->i64[i];
            }
            c->v = c->vals;
            c->n_vals = m;
        }
        i64_stats(c->v, c->n_vals, &c->st);
    }
    c->prepared = true;
    return FF_OK;
}

uint32_t ff_enc_n_null(const ff_enc_ctx *c)
{
    return c->n_null;
}

uint32_t ff_enc_n_distinct(const ff_enc_ctx *c)
{
    return ff_type_is_str(c->in.type) ? c->n_uniq : 0;
}

const ff_str *ff_enc_distinct(const ff_enc_ctx *c, uint32_t *n)
{
    bool is_str = c->prepared && ff_type_is_str(c->in.type);
    *n = is_str ? c->n_uniq : 0;
    return is_str ? c->uniq : NULL;
}

size_t ff_enc_size(const ff_enc_ctx *c, ff_enc e)
{
    if (!c->prepared || !ff_enc_valid_for(e, c->in.type, c->in.nullable))
        return SIZE_MAX;
    uint32_t n = c->in.n_rows;
    if (ff_type_is_str(c->in.type)) {
        if (e == FF_ENC_STR_PLAIN)
            return c->plain_size;
        if (e == FF_ENC_STR_UUID)
            return c->all_uuid ? (size_t)n * 16 : SIZE_MAX;
        if (e == FF_ENC_STR_POSTINGS) {
            size_t sz = ff_varint_len(c->n_uniq) + c->dict_entry_bytes;
            for (uint32_t u = 0; u < c->n_uniq; u++)
                sz += ef_size(n, c->ucnt[u]);
            return sz;
        }
        if (e == FF_ENC_STR_DICT_SPARSE) {
            if (c->n_empty == 0 || c->n_empty == n)
                return SIZE_MAX;
            uint32_t nd = c->n_uniq - 1; /* without '' (one varint byte of length 0) */
            return ((size_t)n + 7) / 8 + ff_varint_len(nd) + c->dict_entry_bytes - 1 + 1 +
                   ff_bitpack_bytes(n - c->n_empty, ff_bits_for(nd - 1));
        }
        unsigned w = ff_bits_for(c->n_uniq - 1);
        return ff_varint_len(c->n_uniq) + c->dict_entry_bytes + 1 + ff_bitpack_bytes(n, w);
    }
    if (e == FF_ENC_ALLNULL)
        return c->n_null == n ? 0 : SIZE_MAX;
    if (c->n_null == n)
        return SIZE_MAX; /* all NULL: only ALLNULL */
    size_t bitmap = c->n_null ? ((size_t)n + 7) / 8 : 0;
    return bitmap + i64_size_from(e, &c->st, c->n_vals);
}

ff_enc ff_enc_smallest(const ff_enc_ctx *c, uint32_t allowed)
{
    static const ff_enc order[] = {FF_ENC_ALLNULL,       FF_ENC_I64_FOR,   FF_ENC_I64_DELTA_VARINT,
                                   FF_ENC_I64_DELTA_FOR, FF_ENC_I64_PLAIN, FF_ENC_STR_DICT,
                                   FF_ENC_STR_UUID,      FF_ENC_STR_PLAIN};
    ff_enc best = FF_ENC_ALLNULL;
    size_t best_size = SIZE_MAX;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        size_t s = ff_enc_size(c, order[k]);
        /* ALLNULL is never optional: it is the only encoding of an all-NULL chunk. */
        if (order[k] != FF_ENC_ALLNULL && !(allowed & FF_ENC_BIT(order[k])))
            continue;
        if (s < best_size) {
            best = order[k];
            best_size = s;
        }
    }
    return best;
}

/* Keys order like the strings where they differ (all strings share the prefix before them; a
 * string that ends inside the key pads with 0, which sorts first or ties); ties compare the
 * strings. Long values with a common start (URLs, JSON) are then mostly told apart by one
 * integer comparison. */
static int sortent_cmp(const void *a, const void *b)
{
    const sortent *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return ff_str_cmp(x->p, x->len, y->p, y->len);
}

static void dict_sort(ff_enc_ctx *c)
{
    if (c->dict_sorted)
        return;
    size_t cp = c->n_uniq ? c->uniq[0].len : 0; /* common prefix of every distinct value */
    for (uint32_t u = 1; u < c->n_uniq && cp; u++) {
        const char *a = c->uniq[0].p, *b = c->uniq[u].p;
        size_t m = c->uniq[u].len < cp ? c->uniq[u].len : cp, j = 0;
        while (j < m && a[j] == b[j])
            j++;
        cp = j;
    }
    for (uint32_t u = 0; u < c->n_uniq; u++) {
        const ff_str *v = &c->uniq[u];
        uint64_t key = 0;
        for (size_t j = cp; j < cp + 8; j++)
            key = (key << 8) | (j < v->len ? (unsigned char)v->p[j] : 0u);
        c->sorted[u] = (sortent){key, v->p, v->len, u};
    }
    qsort(c->sorted, c->n_uniq, sizeof *c->sorted, sortent_cmp);
    for (uint32_t k = 0; k < c->n_uniq; k++)
        c->rank[c->sorted[k].idx] = k;
    c->dict_sorted = true;
}

ff_rc ff_enc_encode(ff_enc_ctx *c, ff_enc e, ff_buf *out, ff_err *err)
{
    size_t size = ff_enc_size(c, e);
    if (size == SIZE_MAX)
        return FF_ERR_SET(err, FF_EINVAL, "encoder: %s does not apply to this chunk",
                          ff_enc_name(e));
    ff_rc rc = ff_buf_reserve(out, size);
    if (rc)
        return FF_ERR_SET(err, rc, "encoder: chunk of %zu bytes: %s", size, ff_rc_name(rc));
    const size_t start = out->len;
    uint8_t *p = (uint8_t *)out->data + start;
    uint32_t n = c->in.n_rows;
    if (e == FF_ENC_STR_PLAIN) {
        size_t o = 0;
        for (uint32_t i = 0; i < n; i++)
            o += ff_varint_put(p + o, c->in.str[i].len);
        for (uint32_t i = 0; i < n; i++) {
            if (c->in.str[i].len)
                memcpy(p + o, c->in.str[i].p, c->in.str[i].len);
            o += c->in.str[i].len;
        }
        FF_VERIFY(o == size);
        out->len += size;
    } else if (e == FF_ENC_STR_DICT_SPARSE) {
        dict_sort(c); /* '' is present, so it is entry 0: the others' codes are rank - 1 */
        size_t nb = ((size_t)n + 7) / 8, o = nb;
        memset(p, 0, nb);
        for (uint32_t i = 0; i < n; i++)
            if (c->in.str[i].len == 0)
                p[i / 8] |= (uint8_t)(1u << (i % 8));
        uint32_t nd = c->n_uniq - 1;
        o += ff_varint_put(p + o, nd);
        for (uint32_t k = 1; k < c->n_uniq; k++)
            o += ff_varint_put(p + o, c->sorted[k].len);
        for (uint32_t k = 1; k < c->n_uniq; k++) {
            memcpy(p + o, c->sorted[k].p, c->sorted[k].len);
            o += c->sorted[k].len;
        }
        unsigned w = ff_bits_for(nd - 1);
        p[o++] = (uint8_t)w;
        if (w) {
            bitw b = {p + o, 0, 0, 0};
            for (uint32_t i = 0; i < n; i++)
                if (c->in.str[i].len)
                    bitw_put(&b, c->rank[c->row_u[i]] - 1, w);
            bitw_flush(&b);
            o += b.o;
        }
        FF_VERIFY(o == size);
        out->len += size;
    } else if (e == FF_ENC_STR_DICT || e == FF_ENC_STR_POSTINGS) {
        dict_sort(c);
        size_t o = ff_varint_put(p, c->n_uniq);
        for (uint32_t k = 0; k < c->n_uniq; k++)
            o += ff_varint_put(p + o, c->sorted[k].len);
        for (uint32_t k = 0; k < c->n_uniq; k++) {
            if (c->sorted[k].len)
                memcpy(p + o, c->sorted[k].p, c->sorted[k].len);
            o += c->sorted[k].len;
        }
        if (e == FF_ENC_STR_POSTINGS) {
            /* rows grouped by code (a counting sort), each group one list */
            uint32_t at = 0;
            for (uint32_t k = 0; k < c->n_uniq; k++) {
                uint32_t u = c->sorted[k].idx;
                c->rank[u] = at; /* rank is rebuilt by dict_sort's next call */
                at += c->ucnt[u];
            }
            for (uint32_t i = 0; i < n; i++)
                c->lists[c->rank[c->row_u[i]]++] = i;
            at = 0;
            for (uint32_t k = 0; k < c->n_uniq; k++) {
                uint32_t cnt = c->ucnt[c->sorted[k].idx];
                o += ef_put(p + o, c->lists + at, cnt, n);
                at += cnt;
            }
            c->dict_sorted = false;
            FF_VERIFY(o == size);
            out->len += size;
            out->data[out->len] = '\0';
            return FF_OK;
        }
        unsigned w = ff_bits_for(c->n_uniq - 1);
        p[o++] = (uint8_t)w;
        if (w) {
            bitw b = {p + o, 0, 0, 0};
            for (uint32_t i = 0; i < n; i++)
                bitw_put(&b, c->rank[c->row_u[i]], w);
            bitw_flush(&b);
            o += b.o;
        }
        FF_VERIFY(o == size);
        out->len += size;
    } else if (e == FF_ENC_STR_UUID) {
        /* byte planes: byte k of value i at p[k * n + i] (zstd then sees the near-constant
         * time and version bytes of UUIDv7 / v4 as runs) */
        for (uint32_t i = 0; i < n; i++) {
            uint8_t b[16];
            FF_VERIFY(uuid_parse(c->in.str[i].p, c->in.str[i].len, b));
            for (int k = 0; k < 16; k++)
                p[(size_t)k * n + i] = b[k];
        }
        out->len += size;
    } else if (e == FF_ENC_ALLNULL) {
        /* zero bytes */
    } else {
        if (c->n_null) {
            size_t nb = ((size_t)n + 7) / 8;
            memcpy(p, c->in.nulls, nb);
            if (n & 7)
                p[nb - 1] &= (uint8_t)((1u << (n & 7)) - 1); /* padding bits are 0 */
            out->len += nb;
        }
        if ((rc = i64_put_with(e, c->v, c->n_vals, &c->st, out)) != FF_OK)
            return FF_ERR_SET(err, rc, "encoder: %s", ff_rc_name(rc));
        FF_VERIFY(out->len - start == size);
    }
    out->data[out->len] = '\0';
    return FF_OK;
}

/* ---- decoding ---------------------------------------------------------------------------- */

static inline uint64_t swar_popcount(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0Full;
    return (x * 0x0101010101010101ull) >> 56;
}

/* 4 lanes of codes (vector extensions: GCC and clang alike; 16 bytes fit SSE2 registers). */
typedef uint32_t ff_u32x4 __attribute__((vector_size(16)));

/* Whether any codes[i] > last: one branch-free pass (GCC -O2 does not vectorise the plain
 * loop). */
static bool codes_above(const uint32_t *codes, uint32_t n, uint32_t last)
{
    ff_u32x4 a0 = {0, 0, 0, 0}, a1 = {0, 0, 0, 0}, lastv = {last, last, last, last};
    uint32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        ff_u32x4 x0, x1;
        memcpy(&x0, codes + i, sizeof x0);
        memcpy(&x1, codes + i + 4, sizeof x1);
        a0 |= (ff_u32x4)(x0 > lastv);
        a1 |= (ff_u32x4)(x1 > lastv);
    }
    a0 |= a1;
    uint32_t any = a0[0] | a0[1] | a0[2] | a0[3];
    for (; i < n; i++)
        any |= codes[i] > last;
    return any != 0;
}

static void *aalloc(ff_arena *a, size_t n, ff_rc *rc)
{
    void *p = ff_arena_alloc(a, n);
    if (!p)
        *rc = a->over_cap ? FF_ELIMIT : FF_ENOMEM;
    return p;
}

/* Selected rows of a PLAIN or FOR stream of m non-NULL values; nulls (or NULL) is the block's
 * NULL bitmap: row r holds value r - (NULLs before r). False: bytes do not match. */
/* Word w (64 rows) of a NULL bitmap of nb bytes; the bytes past nb read as 0. */
static inline uint64_t null_word(const uint8_t *nulls, size_t nb, uint32_t w)
{
    size_t at = (size_t)w * 8;
    if (at + 8 <= nb)
        return ld64(nulls + at);
    uint64_t x = 0;
    for (size_t k = 0; at + k < nb; k++)
        x |= (uint64_t)nulls[at + k] << (8 * k);
    return x;
}

static bool num_sel(ff_enc e, const uint8_t *p, size_t len, uint32_t m, const uint8_t *nulls,
                    uint32_t n, const uint32_t *sel, uint32_t n_sel, int64_t *v, const char **why)
{
    uint64_t base = 0, mult = 1;
    unsigned w = 64;
    const uint8_t *vals = p;
    size_t nb = len;
    if (e == FF_ENC_I64_PLAIN) {
        if (len != (size_t)m * 8) {
            *why = "plain int stream has the wrong length";
            return false;
        }
    } else {
        if (len < FOR_HDR) {
            *why = "frame-of-reference header truncated";
            return false;
        }
        base = ld64(p);
        mult = ld64(p + 8);
        w = p[16];
        if (w > 64 || mult == 0 || len != FOR_HDR + ff_bitpack_bytes(m, w)) {
            *why = "frame-of-reference stream is malformed";
            return false;
        }
        vals = p + FOR_HDR;
        nb = len - FOR_HDR;
    }
    /* NULLs before row r: the popcounts of the bitmap's whole 64-row words before r's (kept
     * as sel ascends) plus those of r's word below r */
    size_t nbytes = ((size_t)n + 7) / 8;
    uint32_t nn = 0, words_nn = 0, wi = 0; /* words_nn: NULLs in words [0, wi) */
    for (uint32_t k = 0; k < n_sel; k++) {
        uint32_t r = sel[k];
        if (nulls) {
            uint32_t rw = r >> 6;
            for (; wi < rw; wi++)
                words_nn += (uint32_t)swar_popcount(null_word(nulls, nbytes, wi));
            uint64_t cur = null_word(nulls, nbytes, rw);
            if ((cur >> (r & 63)) & 1) {
                v[r] = 0;
                continue;
            }
            nn = words_nn + (uint32_t)swar_popcount(cur & ((1ULL << (r & 63)) - 1));
        }
        uint32_t i = r - nn;
        if (i >= m) {
            *why = "fewer values than rows";
            return false;
        }
        v[r] = e == FF_ENC_I64_PLAIN ? (int64_t)ld64(vals + 8 * (size_t)i)
                                     : (int64_t)(base + unpack_one(vals, nb, i, w) * mult);
    }
    return true;
}

static ff_rc decode_num(const ff_chunk_desc *d, const uint8_t *raw, size_t len, ff_arena *arena,
                        const uint32_t *sel, uint32_t n_sel, ff_colvec *out, const char **why)
{
    uint32_t n = d->n_rows;
    ff_rc rc = FF_OK;
    size_t nb = ((size_t)n + 7) / 8;
    int64_t *v = aalloc(arena, (size_t)n * sizeof *v, &rc);
    if (!v) {
        *why = "out of memory";
        return rc;
    }
    out->kind = FF_VEC_I64;
    out->i64 = v;
    if (d->enc == FF_ENC_ALLNULL) {
        if (d->n_null != n)
            CORRUPT("ALLNULL chunk with non-NULL rows");
        if (len != 0)
            CORRUPT("ALLNULL chunk with bytes");
        uint8_t *nulls = aalloc(arena, nb, &rc);
        if (!nulls) {
            *why = "out of memory";
            return rc;
        }
        memset(v, 0, (size_t)n * sizeof *v);
        memset(nulls, 0xFF, nb);
        if (n & 7)
            nulls[nb - 1] = (uint8_t)((1u << (n & 7)) - 1);
        out->nulls = nulls;
        out->n_null = n;
        return FF_OK;
    }
    if (d->n_null > n)
        CORRUPT("more NULLs than rows");
    if (d->n_null && !d->nullable)
        CORRUPT("NULLs in a non-nullable column");
    if (d->n_null == n)
        CORRUPT("all-NULL chunk not encoded as ALLNULL");
    const uint8_t *nulls = NULL;
    if (d->n_null) {
        if (len < nb)
            CORRUPT("NULL bitmap truncated");
        nulls = raw;
        uint64_t pop = 0;
        size_t k = 0;
        for (; k + 8 <= nb; k += 8) /* SWAR: no popcnt instruction in the x86-64 baseline */
            pop += swar_popcount(ld64(raw + k));
        for (; k < nb; k++)
            pop += swar_popcount(raw[k]);
        if ((n & 7) && (raw[nb - 1] >> (n & 7)))
            CORRUPT("NULL bitmap padding bits set");
        if (pop != d->n_null)
            CORRUPT("NULL bitmap does not match the NULL count");
        raw += nb;
        len -= nb;
    }
    uint32_t m = n - d->n_null;
    out->nulls = nulls;
    out->n_null = d->n_null;
    if (sel && (d->enc == FF_ENC_I64_PLAIN || d->enc == FF_ENC_I64_FOR)) {
        memset(v, 0, (size_t)n * sizeof *v);
        return num_sel(d->enc, raw, len, m, nulls, n, sel, n_sel, v, why) ? FF_OK : FF_ECORRUPT;
    }
    if (!nulls)
        return ff_enc_i64_get(d->enc, raw, len, m, v, why);
    /* the m values, then scattered to their rows 8 at a time (all-NULL and no-NULL bytes,
     * the common ones, are a memset and a memcpy) */
    int64_t *dense = aalloc(arena, ((size_t)m + 8) * sizeof *dense, &rc); /* + 8: see below */
    if (!dense) {
        *why = "out of memory";
        return rc;
    }
    if ((rc = ff_enc_i64_get(d->enc, raw, len, m, dense, why)) != FF_OK)
        return rc;
    memset(dense + m, 0, 8 * sizeof *dense);
    uint32_t j = 0;
    for (uint32_t i = 0; i < n; i += 8) {
        uint32_t k_end = n - i < 8 ? n - i : 8;
        unsigned bits = nulls[i >> 3];
        if (k_end == 8 && bits == 0xFF) {
            memset(v + i, 0, 8 * sizeof *v);
        } else if (k_end == 8 && bits == 0) {
            memcpy(v + i, dense + j, 8 * sizeof *v);
            j += 8;
        } else { /* branch-free: reads dense[j] even for a NULL row (hence the 8 spare) */
            for (uint32_t k = 0; k < k_end; k++) {
                uint64_t is_null = (bits >> k) & 1;
                v[i + k] = dense[j] & (int64_t)(is_null - 1);
                j += (uint32_t)(1 - is_null);
            }
        }
    }
    out->nulls = nulls;
    out->n_null = d->n_null;
    return FF_OK;
}

/* The dictionary of a STR_DICT / STR_POSTINGS chunk at *pp (n rows): n_dict, entry offsets,
 * entry bytes; checks that the entries are sorted and distinct. Advances *pp past it. */
static ff_rc parse_dict(const uint8_t **pp, const uint8_t *end, uint32_t n, bool checked,
                        ff_arena *arena, uint64_t *nd_out, const uint32_t **doff_out,
                        const char **dbytes_out, const char **why)
{
    const uint8_t *p = *pp;
    size_t len = (size_t)(end - p);
    ff_rc rc = FF_OK;
    uint64_t nd;
    if (!ff_varint_get(&p, end, &nd))
        CORRUPT("dictionary size varint bad or truncated");
    if (nd == 0 || nd > n)
        CORRUPT("dictionary size out of range");
    uint32_t *doff = aalloc(arena, ((size_t)nd + 1) * sizeof *doff, &rc);
    if (!doff) {
        *why = "out of memory";
        return rc;
    }
    uint64_t total = 0;
    doff[0] = 0;
    for (uint64_t k = 0; k < nd; k++) {
        uint64_t l;
        if (!ff_varint_get(&p, end, &l))
            CORRUPT("dictionary length varint bad or truncated");
        total += l;
        if (l > len || total > len)
            CORRUPT("dictionary lengths exceed the chunk");
        doff[k + 1] = (uint32_t)total;
    }
    if ((uint64_t)(end - p) < total)
        CORRUPT("dictionary bytes truncated");
    const char *dbytes = (const char *)p;
    p += total;
    for (uint64_t k = 1; k < nd && !checked; k++)
        if (ff_str_cmp(dbytes + doff[k - 1], doff[k] - doff[k - 1], dbytes + doff[k],
                       doff[k + 1] - doff[k]) >= 0)
            CORRUPT("dictionary not sorted or not distinct");
    *pp = p;
    *nd_out = nd;
    *doff_out = doff;
    *dbytes_out = dbytes;
    return FF_OK;
}

/* STR_DICT_SPARSE: decoded as a dictionary whose entry 0 is '' (the stored one has no ''):
 * '' rows get code 0, the others 1 + their stored code, found at their rank among the
 * non-'' rows (popcounts of the bitmap by 64-bit words, kept as sel ascends). */
static ff_rc decode_sparse(const ff_chunk_desc *d, const uint8_t *raw, size_t len, ff_arena *arena,
                           const uint32_t *sel, uint32_t n_sel, ff_colvec *out, const char **why)
{
    uint32_t n = d->n_rows;
    size_t nb = ((size_t)n + 7) / 8;
    ff_rc rc = FF_OK;
    if (len < nb)
        CORRUPT("sparse dictionary bitmap truncated");
    const uint8_t *bm = raw, *p = raw + nb, *end = raw + len;
    uint32_t n_empty = 0;
    for (uint32_t w = 0; w < (n + 63) / 64; w++)
        n_empty += (uint32_t)swar_popcount(null_word(bm, nb, w));
    if ((n & 7) && (bm[nb - 1] >> (n & 7)))
        CORRUPT("sparse dictionary bitmap has bits past the rows");
    if (n_empty == 0 || n_empty == n)
        CORRUPT("sparse dictionary with no '' rows or only '' rows");
    uint32_t m = n - n_empty;
    uint64_t nd;
    const uint32_t *sd;
    const char *dbytes;
    if ((rc = parse_dict(&p, end, m, d->dict_checked, arena, &nd, &sd, &dbytes, why)) != FF_OK)
        return rc;
    if (sd[1] == 0)
        CORRUPT("sparse dictionary holds ''");
    if (p >= end)
        CORRUPT("dictionary bytes truncated");
    unsigned w = *p++;
    if (w != ff_bits_for(nd - 1))
        CORRUPT("dictionary code width does not match its size");
    size_t cb = ff_bitpack_bytes(m, w);
    if ((size_t)(end - p) != cb)
        CORRUPT("dictionary codes have the wrong length");
    uint32_t *doff = aalloc(arena, ((size_t)nd + 2) * sizeof *doff, &rc);
    uint32_t *codes = doff ? aalloc(arena, (size_t)n * sizeof *codes, &rc) : NULL;
    if (!codes) {
        *why = "out of memory";
        return rc;
    }
    doff[0] = 0;
    memcpy(doff + 1, sd, ((size_t)nd + 1) * sizeof *doff);
    if (sel) {
        memset(codes, 0, (size_t)n * sizeof *codes);
        uint32_t words_e = 0, wi = 0; /* '' rows in words [0, wi) */
        for (uint32_t k = 0; k < n_sel; k++) {
            uint32_t r = sel[k], rw = r >> 6;
            for (; wi < rw; wi++)
                words_e += (uint32_t)swar_popcount(null_word(bm, nb, wi));
            uint64_t cur = null_word(bm, nb, rw);
            if ((cur >> (r & 63)) & 1)
                continue; /* '' */
            uint32_t i = r - words_e - (uint32_t)swar_popcount(cur & ((1ULL << (r & 63)) - 1));
            uint64_t c = unpack_one(p, cb, i, w);
            if (c >= nd)
                CORRUPT("dictionary code out of range");
            codes[r] = (uint32_t)c + 1;
        }
    } else {
        uint32_t *tmp = aalloc(arena, ((size_t)m + 1) * sizeof *tmp, &rc);
        if (!tmp) {
            *why = "out of memory";
            return rc;
        }
        ff_bitunpack32(p, m, w, tmp);
        tmp[m] = 0; /* read (not used) by trailing '' rows of the branch-free loop below */
        if (codes_above(tmp, m, (uint32_t)(nd - 1)))
            CORRUPT("dictionary code out of range");
        uint32_t j = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t e = (bm[i >> 3] >> (i & 7)) & 1;
            codes[i] = e ? 0 : tmp[j] + 1;
            j += e ^ 1;
        }
    }
    out->kind = FF_VEC_DICT;
    out->codes = codes;
    out->n_dict = (uint32_t)nd + 1;
    out->dict_off = doff;
    out->dict_bytes = dbytes;
    return FF_OK;
}

static ff_rc decode_str(const ff_chunk_desc *d, const uint8_t *raw, size_t len, ff_arena *arena,
                        const uint32_t *sel, uint32_t n_sel, ff_colvec *out, const char **why)
{
    uint32_t n = d->n_rows;
    const uint8_t *p = raw, *end = raw + len;
    ff_rc rc = FF_OK;
    if (d->n_null)
        CORRUPT("NULLs in a string column");
    if (d->enc == FF_ENC_STR_PLAIN) {
        uint32_t *off = aalloc(arena, ((size_t)n + 1) * sizeof *off, &rc);
        if (!off) {
            *why = "out of memory";
            return rc;
        }
        uint64_t total = 0;
        off[0] = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t l;
            if (!ff_varint_get(&p, end, &l))
                CORRUPT("string length varint bad or truncated");
            total += l;
            if (l > len || total > len)
                CORRUPT("string lengths exceed the chunk");
            off[i + 1] = (uint32_t)total;
        }
        if ((uint64_t)(end - p) != total)
            CORRUPT("string bytes do not match the lengths");
        out->kind = FF_VEC_STR;
        out->off = off;
        out->bytes = (const char *)p;
        return FF_OK;
    }
    if (d->enc == FF_ENC_STR_UUID) {
        if (len != (size_t)n * 16)
            CORRUPT("UUID chunk has the wrong length");
        uint32_t *off = aalloc(arena, ((size_t)n + 1) * sizeof *off, &rc);
        char *txt = off ? aalloc(arena, (size_t)n * 36, &rc) : NULL;
        if (!txt) {
            *why = "out of memory";
            return rc;
        }
        for (uint32_t i = 0; i <= n; i++)
            off[i] = 36 * i;
        if (sel) {
            static const uint8_t zero[16];
            for (uint32_t i = 0; i < n; i++) /* rows not selected: the nil UUID */
                uuid_format(zero, txt + 36 * (size_t)i);
        }
        for (uint32_t s = 0; s < (sel ? n_sel : n); s++) {
            uint32_t i = sel ? sel[s] : s;
            uint8_t b[16];
            for (int k = 0; k < 16; k++)
                b[k] = raw[(size_t)k * n + i];
            uuid_format(b, txt + 36 * (size_t)i);
        }
        out->kind = FF_VEC_STR;
        out->off = off;
        out->bytes = txt;
        return FF_OK;
    }
    if (d->enc == FF_ENC_STR_DICT_SPARSE)
        return decode_sparse(d, raw, len, arena, sel, n_sel, out, why);
    if (d->enc != FF_ENC_STR_DICT && d->enc != FF_ENC_STR_POSTINGS)
        CORRUPT("not a string encoding");
    uint64_t nd;
    const uint32_t *doff;
    const char *dbytes;
    if ((rc = parse_dict(&p, end, n, d->dict_checked, arena, &nd, &doff, &dbytes, why)) != FF_OK)
        return rc;
    if (d->enc == FF_ENC_STR_POSTINGS) {
        /* Every row in exactly one list: the lengths add up to n, and no row is left with
         * the 0xFF.. fill (a row set twice leaves another unset), checked in one vector pass
         * at the end; rows strictly increase within a list. */
        uint32_t *codes = aalloc(arena, (size_t)n * sizeof *codes, &rc);
        uint32_t *low = codes ? aalloc(arena, (size_t)n * sizeof *low, &rc) : NULL;
        if (!low) {
            *why = "out of memory";
            return rc;
        }
        memset(codes, 0xFF, (size_t)n * sizeof *codes);
        uint64_t total = 0;
        for (uint64_t k = 0; k < nd; k++) {
            eflist L;
            if (!ef_parse(&p, end, n, &L, why))
                return FF_ECORRUPT;
            total += L.c;
            if (total > n)
                CORRUPT("postings lists hold more rows than the block");
            if (!ef_scatter(&L, n, (uint32_t)k, low, codes, why))
                return FF_ECORRUPT;
        }
        if (total != n || p != end)
            CORRUPT("postings lists do not cover the block exactly");
        if (codes_above(codes, n, (uint32_t)(nd - 1)))
            CORRUPT("a row is in two postings lists");
        out->kind = FF_VEC_DICT;
        out->codes = codes;
        out->n_dict = (uint32_t)nd;
        out->dict_off = doff;
        out->dict_bytes = dbytes;
        return FF_OK;
    }
    if (p >= end)
        CORRUPT("dictionary bytes truncated");
    unsigned w = *p++;
    if (w != ff_bits_for(nd - 1))
        CORRUPT("dictionary code width does not match its size");
    if ((size_t)(end - p) != ff_bitpack_bytes(n, w))
        CORRUPT("dictionary codes have the wrong length");
    uint32_t *codes = aalloc(arena, (size_t)n * sizeof *codes, &rc);
    if (!codes) {
        *why = "out of memory";
        return rc;
    }
    if (sel) { /* only the selected rows; the others keep code 0, a valid index */
        memset(codes, 0, (size_t)n * sizeof *codes);
        size_t cb = ff_bitpack_bytes(n, w);
        for (uint32_t s = 0; s < n_sel; s++) {
            uint64_t c = unpack_one(p, cb, sel[s], w);
            if (c >= nd)
                CORRUPT("dictionary code out of range");
            codes[sel[s]] = (uint32_t)c;
        }
    } else {
        ff_bitunpack32(p, n, w, codes);
        /* range check (none needed when nd == 2^w): one vector pass over the block */
        if (nd != (uint64_t)1 << w && codes_above(codes, n, (uint32_t)(nd - 1)))
            CORRUPT("dictionary code out of range");
    }
    out->kind = FF_VEC_DICT;
    out->codes = codes;
    out->n_dict = (uint32_t)nd;
    out->dict_off = doff;
    out->dict_bytes = dbytes;
    return FF_OK;
}

ff_rc ff_enc_decode(const ff_chunk_desc *d, const uint8_t *raw, size_t raw_len, ff_arena *arena,
                    ff_colvec *out, const char **why)
{
    return ff_enc_decode_sel(d, raw, raw_len, NULL, 0, arena, out, why);
}

ff_rc ff_enc_decode_sel(const ff_chunk_desc *d, const uint8_t *raw, size_t raw_len,
                        const uint32_t *sel, uint32_t n_sel, ff_arena *arena, ff_colvec *out,
                        const char **why)
{
    memset(out, 0, sizeof *out);
    if (d->n_rows == 0)
        CORRUPT("empty chunk");
    if (raw_len > UINT32_MAX)
        CORRUPT("chunk over 4 GiB");
    if (!ff_enc_valid_for(d->enc, d->type, d->nullable))
        CORRUPT("encoding not valid for the column type");
    if (sel && n_sel && sel[n_sel - 1] >= d->n_rows)
        CORRUPT("selected row past the chunk");
    ff_rc rc = ff_type_is_str(d->type) ? decode_str(d, raw, raw_len, arena, sel, n_sel, out, why)
                                       : decode_num(d, raw, raw_len, arena, sel, n_sel, out, why);
    if (rc != FF_OK) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->type = d->type;
    out->n_rows = d->n_rows;
    return FF_OK;
}

ff_rc ff_enc_postings_match(const ff_chunk_desc *d, const uint8_t *raw, size_t raw_len,
                            const ff_str *vals, uint32_t n_vals, ff_arena *arena, uint32_t *rows,
                            uint32_t *n_out, ff_colvec *vec, const char **why)
{
    *n_out = 0;
    if (vec)
        memset(vec, 0, sizeof *vec);
    if (d->enc != FF_ENC_STR_POSTINGS || !ff_type_is_str(d->type)) {
        *why = "not a postings chunk";
        return FF_EINVAL;
    }
    uint32_t n = d->n_rows;
    if (n == 0)
        CORRUPT("empty chunk");
    const uint8_t *p = raw, *end = raw + raw_len;
    uint64_t nd;
    const uint32_t *doff;
    const char *dbytes;
    ff_rc rc = parse_dict(&p, end, n, d->dict_checked, arena, &nd, &doff, &dbytes, why);
    if (rc != FF_OK)
        return rc;
    /* the wanted codes, by binary search in the sorted dictionary */
    uint8_t *want = aalloc(arena, (size_t)nd, &rc);
    if (!want) {
        *why = "out of memory";
        return rc;
    }
    memset(want, 0, (size_t)nd);
    uint32_t n_want = 0;
    for (uint32_t v = 0; v < n_vals; v++) {
        uint64_t lo = 0, hi = nd;
        while (lo < hi) {
            uint64_t mid = (lo + hi) / 2;
            int c =
                ff_str_cmp(dbytes + doff[mid], doff[mid + 1] - doff[mid], vals[v].p, vals[v].len);
            if (c == 0) {
                n_want += !want[mid];
                want[mid] = 1;
                break;
            }
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    /* one list: its rows are the answer; several: mark them in a bitmap, read it in order */
    uint64_t *bits = NULL;
    size_t words = ((size_t)n + 63) / 64;
    if (n_want > 1) {
        bits = aalloc(arena, words * sizeof *bits, &rc);
        if (!bits) {
            *why = "out of memory";
            return rc;
        }
        memset(bits, 0, words * sizeof *bits);
    }
    uint32_t *codes = NULL; /* vec: the matched rows' codes, 0 elsewhere */
    if (vec) {
        codes = aalloc(arena, (size_t)n * sizeof *codes, &rc);
        if (!codes) {
            *why = "out of memory";
            return rc;
        }
        memset(codes, 0, (size_t)n * sizeof *codes);
    }
    uint64_t total = 0;
    uint32_t m = 0;
    for (uint64_t k = 0; k < nd; k++) {
        eflist L;
        if (!ef_parse(&p, end, n, &L, why))
            return FF_ECORRUPT;
        total += L.c;
        if (total > n)
            CORRUPT("postings lists hold more rows than the block");
        if (!want[k])
            continue;
        if (!ef_rows(&L, n, n_want > 1 ? rows : rows + m, why))
            return FF_ECORRUPT;
        for (uint32_t i = 0; codes && i < L.c; i++)
            codes[rows[i]] = (uint32_t)k;
        if (n_want == 1) {
            m = L.c;
            continue;
        }
        for (uint32_t i = 0; i < L.c; i++) {
            uint64_t b = (uint64_t)1 << (rows[i] & 63);
            if (bits[rows[i] >> 6] & b)
                CORRUPT("a row is in two postings lists");
            bits[rows[i] >> 6] |= b;
        }
    }
    if (total != n || p != end)
        CORRUPT("postings lists do not cover the block exactly");
    if (bits) {
        for (size_t w = 0; w < words; w++)
            for (uint64_t x = bits[w]; x; x &= x - 1)
                rows[m++] = (uint32_t)(64 * w + (unsigned)__builtin_ctzll(x));
    }
    *n_out = m;
    if (vec) {
        vec->kind = FF_VEC_DICT;
        vec->type = d->type;
        vec->n_rows = n;
        vec->codes = codes;
        vec->n_dict = (uint32_t)nd;
        vec->dict_off = doff;
        vec->dict_bytes = dbytes;
    }
    return FF_OK;
}
