/* ff_enc.h -- column chunk encodings: bit packing, varints, int and string streams.
 *
 * WHAT: turns the values of one column in one block (a "chunk") into bytes and back. The part
 * writer asks for the size of every applicable encoding, encodes the candidates, compresses
 * them (zstd, in ff_part.c) and keeps the smallest; the reader decodes into ff_colvec.
 * Byte layouts are normative in docs/formats/part.md ("Encodings").
 *
 * DESIGN:
 *  Int64 value streams (time, Int64, Decimal units, UInt64 bit patterns), m values:
 *   I64_PLAIN        m x int64 little-endian
 *   I64_FOR          base int64, mult u64, width u8, m x (v - base) / mult bit-packed in
 *                    `width` bits (frame of reference; mult = gcd of all v - base, so
 *                    second-precision times and 2-digit decimals lose their zero digits;
 *                    width 0 = all values equal)
 *   I64_DELTA_VARINT zigzag-LEB128 varint of v[0], then of each v[i] - v[i-1]
 *   I64_DELTA_FOR    v[0] int64, dmin int64, mult u64, width u8, m-1 x (d[i] - dmin) / mult
 *                    bit-packed, d[i] = v[i] - v[i-1]
 *   All arithmetic wraps modulo 2^64, so INT64_MIN..INT64_MAX and UInt64 round-trip.
 *  A numeric chunk of n rows with k NULLs is: [null bitmap, ceil(n/8) bytes, if 0 < k < n]
 *  [stream of the n-k non-NULL values]. All rows NULL: encoding ALLNULL, zero bytes.
 *  String chunks (n rows, '' included):
 *   STR_PLAIN  n varint lengths, then the n strings' bytes back to back (so the decoder hands
 *              out offsets + bytes without copying the bytes)
 *   STR_DICT   varint n_dict, n_dict varint lengths, the entries' bytes, width u8 (= bits to
 *              hold n_dict-1), n codes bit-packed. Entries are sorted and distinct, so codes
 *              order like the strings (ff_colvec.h). One dictionary per chunk.
 *   STR_UUID   16 planes of n bytes: every value is a canonical lowercase UUID text
 *              (8-4-4-4-12 hex digits), stored as its 16 binary bytes, byte k of value i at
 *              [k * n + i] (so zstd sees UUIDv7's time bytes as runs); decoded back to text.
 *   STR_POSTINGS the dictionary of STR_DICT (without width and codes), then per entry the
 *              rows holding it as an Elias-Fano list: varint count c, u8 l, c x l low bits
 *              bit-packed, then the high bits (bit (r >> l) + i set for the i-th row r) in
 *              ceil((c + ((n - 1) >> l)) / 8) bytes; l = floor(log2(n / c)). About as small
 *              as the codes (2 + entropy bits a row), and `col = 'x'` / `col IN (...)` reads
 *              only those entries' lists (ff_enc_postings_match) instead of every row's code.
 *   STR_DICT_SPARSE a bitmap of the '' rows (ceil(n/8) bytes; some but not all rows ''), then
 *              STR_DICT of the other rows (its dictionary without ''). For columns set on few
 *              events (product_id on 15%): the codes of the rest only, no LZ4 needed, and a
 *              row is read at its rank (decoded with '' as dictionary entry 0).
 *  Bit packing is LSB-first in a little-endian bit stream: value i occupies bits
 *  [i*w, (i+1)*w) of the byte string, bit b of the stream being bit b%8 of byte b/8.
 *  Varints are LEB128 (7 bits per byte, low group first, high bit = more); decoders reject
 *  overlong forms (a final 0x00 group after the first byte) and values past 64 bits.
 *
 * INVARIANTS:
 *  (1) decode(encode(x)) == x for every encoding applicable to x's type.
 *  (2) ff_enc_size() is the exact length ff_enc_encode() appends.
 *  (3) A decoder never reads outside [raw, raw+raw_len), consumes exactly raw_len bytes, and
 *      returns FF_ECORRUPT (never crashes, never asserts) for anything the encoder could not
 *      have produced; on success the vector meets ff_colvec.h's invariants.
 *
 * THREADING: an ff_enc_ctx belongs to one thread; the stateless functions are thread-safe.
 * OWNERSHIP: ff_enc_prepare borrows the chunk input until the next prepare or free; encode
 * appends to the caller's buffer. Decoded vectors point into the caller's arena and into raw
 * (string bytes are not copied): keep raw alive as long as the vector.
 */
#ifndef FF_ENC_H
#define FF_ENC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_err.h"
#include "store/ff_colvec.h"
#include "store/ff_schema.h"

/* Encoding ids, stored in part footers: never renumber. */
typedef enum ff_enc {
    FF_ENC_ALLNULL = 0,
    FF_ENC_I64_PLAIN = 1,
    FF_ENC_I64_FOR = 2,
    FF_ENC_I64_DELTA_VARINT = 3,
    FF_ENC_I64_DELTA_FOR = 4,
    FF_ENC_STR_PLAIN = 16,
    FF_ENC_STR_DICT = 17,
    FF_ENC_STR_UUID = 18,
    FF_ENC_STR_POSTINGS = 19,    /* part format version 3 */
    FF_ENC_STR_DICT_SPARSE = 20, /* part format version 3 */
} ff_enc;

#define FF_ENC_BIT(e) (1u << (unsigned)(e))
#define FF_ENC_ANY 0xFFFFFFFFu
#define FF_ENC_I64_ALL                                                                             \
    (FF_ENC_BIT(FF_ENC_I64_PLAIN) | FF_ENC_BIT(FF_ENC_I64_FOR) |                                   \
     FF_ENC_BIT(FF_ENC_I64_DELTA_VARINT) | FF_ENC_BIT(FF_ENC_I64_DELTA_FOR))
#define FF_ENC_STR_ALL                                                                             \
    (FF_ENC_BIT(FF_ENC_STR_PLAIN) | FF_ENC_BIT(FF_ENC_STR_DICT) | FF_ENC_BIT(FF_ENC_STR_UUID) |    \
     FF_ENC_BIT(FF_ENC_STR_POSTINGS) | FF_ENC_BIT(FF_ENC_STR_DICT_SPARSE))

/* "i64_for" etc.; "?" for an unknown id. */
const char *ff_enc_name(ff_enc e);
/* Whether encoding e may hold a column of type t (ALLNULL: nullable only). */
bool ff_enc_valid_for(ff_enc e, ff_type t, bool nullable);

/* ---- primitives ------------------------------------------------------------------------ */

#define FF_VARINT_MAX 10

static inline uint64_t ff_zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ ((uint64_t)0 - ((uint64_t)v >> 63));
}
static inline int64_t ff_unzigzag(uint64_t u)
{
    return (int64_t)((u >> 1) ^ ((uint64_t)0 - (u & 1)));
}

size_t ff_varint_len(uint64_t v);
size_t ff_varint_put(uint8_t *p, uint64_t v); /* p has FF_VARINT_MAX bytes; returns length */
/* Reads one varint at *p (< end); advances *p. False when truncated, overlong or > 64 bits. */
bool ff_varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v);

/* Bits to hold x (0 for 0, 64 for values >= 2^63). */
unsigned ff_bits_for(uint64_t x);
/* Bytes of n values packed in width bits: ceil(n * width / 8). */
size_t ff_bitpack_bytes(uint32_t n, unsigned width);
/* Pack the low width bits (0..64) of v[0..n) into out[0 .. ff_bitpack_bytes). */
void ff_bitpack(const uint64_t *v, uint32_t n, unsigned width, uint8_t *out);
/* Unpack n values of width bits (0..64) from in (which holds ff_bitpack_bytes(n, width)). */
void ff_bitunpack64(const uint8_t *in, uint32_t n, unsigned width, uint64_t *out);
/* The same for width <= 32 into uint32_t. */
void ff_bitunpack32(const uint8_t *in, uint32_t n, unsigned width, uint32_t *out);

/* ---- int64 value streams (no NULLs) ------------------------------------------------------ */

/* Exact encoded size of v[0..n) in encoding e (an I64_* id). */
size_t ff_enc_i64_size(ff_enc e, const int64_t *v, uint32_t n);
/* Appends the encoding of v[0..n) to out (FF_ELIMIT / FF_ENOMEM from the buffer). */
ff_rc ff_enc_i64_put(ff_enc e, const int64_t *v, uint32_t n, ff_buf *out);
/* Decodes exactly n values from p[0..len) into out. FF_ECORRUPT with *why on bad bytes. */
ff_rc ff_enc_i64_get(ff_enc e, const uint8_t *p, size_t len, uint32_t n, int64_t *out,
                     const char **why);

/* ---- chunks ------------------------------------------------------------------------------ */

/* One column of one block, as the writer holds it. */
typedef struct ff_chunk_in {
    ff_type type;
    bool nullable;
    uint32_t n_rows;
    const int64_t *i64;   /* numeric: n_rows values (NULL rows: any value) */
    const uint8_t *nulls; /* numeric nullable: bitmap as in ff_colvec, or NULL for none */
    const ff_str *str;    /* string: n_rows values */
} ff_chunk_in;

/* What a decoder needs to know about a chunk (from the part's block directory). */
typedef struct ff_chunk_desc {
    ff_type type;
    bool nullable;
    ff_enc enc;
    uint32_t n_rows;
    uint32_t n_null; /* numeric nullable: NULL rows; must match the bitmap */
    /* These exact bytes were decoded before (the part reader knows by chunk and checksum):
     * the dictionary's order check is skipped. Everything else is still checked. */
    bool dict_checked;
} ff_chunk_desc;

typedef struct ff_enc_ctx ff_enc_ctx;

ff_rc ff_enc_ctx_new(ff_enc_ctx **out, ff_err *err);
void ff_enc_ctx_free(ff_enc_ctx *c); /* NULL is a no-op */

/* Analyse one chunk: counts NULLs, builds the dictionary of a string chunk, computes the size
 * of every applicable encoding. Borrows in (and what it points to) until the next call. */
ff_rc ff_enc_prepare(ff_enc_ctx *c, const ff_chunk_in *in, ff_err *err);
/* Exact raw size of the prepared chunk in encoding e; SIZE_MAX when e does not apply. */
size_t ff_enc_size(const ff_enc_ctx *c, ff_enc e);
/* NULL rows of a numeric chunk; distinct values of a string chunk. */
uint32_t ff_enc_n_null(const ff_enc_ctx *c);
uint32_t ff_enc_n_distinct(const ff_enc_ctx *c);
/* The distinct values of a prepared string chunk ('' included when present), in first-seen
 * order; *n gets their count (ff_enc_n_distinct). NULL for a numeric chunk. Valid until the
 * next prepare. */
const ff_str *ff_enc_distinct(const ff_enc_ctx *c, uint32_t *n);
/* The applicable encoding in allowed (FF_ENC_BIT mask) with the smallest raw size. */
ff_enc ff_enc_smallest(const ff_enc_ctx *c, uint32_t allowed);
/* Append the prepared chunk encoded as e. FF_EINVAL when e does not apply. */
ff_rc ff_enc_encode(ff_enc_ctx *c, ff_enc e, ff_buf *out, ff_err *err);

/* Decode a raw (decompressed) chunk into out, allocating from arena. FF_ECORRUPT with *why
 * for bad bytes; FF_ELIMIT / FF_ENOMEM when the arena refuses. */
ff_rc ff_enc_decode(const ff_chunk_desc *d, const uint8_t *raw, size_t raw_len, ff_arena *arena,
                    ff_colvec *out, const char **why);
/* Selective decode: as ff_enc_decode, but only the rows sel[0..n_sel) (ascending, < n_rows)
 * are decoded and checked; every other row reads as 0 / NULL-free 0 (numbers), a valid
 * dictionary code (0; postings decode every row's own) or a zero UUID. Encodings that can be
 * read at a row (plain and frame-of-reference numbers, dictionaries incl. sparse ones, UUIDs)
 * cost O(n_sel); the sequential ones (delta, plain strings, postings) decode in full.
 * sel == NULL means every row. For a WHERE that keeps a few rows of each block. */
ff_rc ff_enc_decode_sel(const ff_chunk_desc *d, const uint8_t *raw, size_t raw_len,
                        const uint32_t *sel, uint32_t n_sel, ff_arena *arena, ff_colvec *out,
                        const char **why);

/* The rows (ascending, into rows[] with room for n_rows) of a STR_POSTINGS chunk whose value
 * is one of vals[0..n_vals); *n_out gets their count. Reads and checks only the lists of those
 * values (and every list's header). With vec, also the column as a selective decode of those
 * rows gives it (FF_VEC_DICT; every other row code 0). FF_EINVAL when the chunk is not
 * STR_POSTINGS; FF_ECORRUPT with *why for bad bytes; FF_ELIMIT / FF_ENOMEM from the arena. */
ff_rc ff_enc_postings_match(const ff_chunk_desc *d, const uint8_t *raw, size_t raw_len,
                            const ff_str *vals, uint32_t n_vals, ff_arena *arena, uint32_t *rows,
                            uint32_t *n_out, ff_colvec *vec, const char **why);

#endif /* FF_ENC_H */
