/* ff_colvec.h -- in-memory column vectors: what readers produce and executors consume.
 *
 * WHAT: a block of rows as one typed vector per column (ff_block of ff_colvec), the shape the
 * vectorised SQL executor loops over. The part reader decodes into it; the open (in-memory)
 * part of the log consumer should expose its rows the same way so queries see both alike.
 *
 * DESIGN: flat arrays, no per-value objects (Arrow-like):
 *
 *   FF_VEC_I64   i64[n]               time (ms), Int64, Decimal (units of 10^-4), UInt64 (bit
 *                                     pattern: compare as uint64_t). NULL rows hold 0.
 *   FF_VEC_STR   off[n+1], bytes      row i is bytes[off[i] .. off[i+1]); off[0] == 0.
 *   FF_VEC_DICT  codes[n], n_dict,    row i is dictionary entry codes[i], entry k is
 *                dict_off[n_dict+1],  dict_bytes[dict_off[k] .. dict_off[k+1]).
 *                dict_bytes
 *
 *   nulls        bitmap, bit i (byte i/8, bit i%8, LSB first) = 1 when row i is NULL; a NULL
 *                pointer when no row is NULL. Only nullable numeric columns have NULLs;
 *                strings are never NULL (an absent string is '', see ff_schema.h).
 *
 * A string column comes back as STR or DICT depending on how its chunk was encoded; code
 * that wants one shape calls ff_colvec_str() per row, or works on codes when kind is DICT:
 * the dictionary is sorted, so comparing codes is comparing strings (a predicate like
 * event = 'x' or event < 'x' becomes one binary search over the dictionary plus an integer
 * loop over codes; GROUP BY can key on codes within the block). Dictionaries are per block:
 * codes of different blocks are not comparable.
 *
 * INVARIANTS (guaranteed by the reader even for hostile files -- decoders validate them):
 *  (1) FF_VEC_STR: off[0] == 0, off[] non-decreasing, off[n] is the size of bytes.
 *  (2) FF_VEC_DICT: every codes[i] < n_dict; n_dict >= 1; entries are strictly increasing in
 *      ff_str_cmp order (so all distinct) and dict_off[] behaves like off[] in (1).
 *  (3) nulls != NULL exactly when n_null > 0, and n_null is its population count; padding
 *      bits past n are 0. i64 of a NULL row is 0.
 *
 * THREADING: plain data; share read-only freely.
 * OWNERSHIP: a vector never owns memory. Vectors from ff_part_read point into the caller's
 * arena and into the part's mapping: valid until the arena is reset or the part is closed,
 * whichever comes first.
 */
#ifndef FF_COLVEC_H
#define FF_COLVEC_H

#include <stdbool.h>
#include <stdint.h>

#include "store/ff_schema.h"

typedef enum ff_vec_kind {
    FF_VEC_NONE = 0, /* column not read */
    FF_VEC_I64 = 1,
    FF_VEC_STR = 2,
    FF_VEC_DICT = 3,
} ff_vec_kind;

typedef struct ff_colvec {
    ff_vec_kind kind;
    ff_type type;
    uint32_t n_rows;
    uint32_t n_null;      /* NULL rows (nullable numeric columns only) */
    const uint8_t *nulls; /* NULL when n_null == 0 */

    const int64_t *i64; /* FF_VEC_I64 */

    const uint32_t *off; /* FF_VEC_STR */
    const char *bytes;

    const uint32_t *codes; /* FF_VEC_DICT */
    uint32_t n_dict;
    const uint32_t *dict_off;
    const char *dict_bytes;
} ff_colvec;

/* A block of rows of one part: the columns asked for are filled, the rest are FF_VEC_NONE. */
typedef struct ff_block {
    uint32_t block;     /* index in the part */
    uint32_t n_rows;    /* 1 .. block_rows */
    uint64_t first_row; /* part row number of row 0 */
    ff_colset cols;     /* the filled columns */
    ff_colvec col[FF_COL_COUNT];
} ff_block;

static inline bool ff_colvec_is_null(const ff_colvec *v, uint32_t i)
{
    return v->nulls && (v->nulls[i >> 3] >> (i & 7)) & 1;
}

/* Row i of a STR or DICT vector; *len gets its length. */
static inline const char *ff_colvec_str(const ff_colvec *v, uint32_t i, uint32_t *len)
{
    if (v->kind == FF_VEC_DICT) {
        uint32_t k = v->codes[i];
        *len = v->dict_off[k + 1] - v->dict_off[k];
        return v->dict_bytes + v->dict_off[k];
    }
    *len = v->off[i + 1] - v->off[i];
    return v->bytes + v->off[i];
}

/* Row i of the block as an ff_row (strings borrowed from the block); columns not read are
 * '' / 0 / NULL. For merges and tests. */
void ff_block_row(const ff_block *b, uint32_t i, ff_row *out);

#endif /* FF_COLVEC_H */
