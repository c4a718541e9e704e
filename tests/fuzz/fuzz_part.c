/* fuzz_part.c -- the part reader and the column decoders against arbitrary bytes, and the
 * encoders/writer against arbitrary values.
 *
 * The first byte chooses a mode (mod 4), the rest is the input:
 *   0  a part file, checksums verified: open, read every block, verify
 *   1  a part file, checksums skipped, so mutations reach the footer parser and the decoders
 *   2  one raw chunk: [type][nullable][encoding][n_rows u16][n_null u16] then chunk bytes
 *      (a postings chunk is also matched against one or two values)
 *   3  round trip: the bytes become rows (strings split at ',', numbers from 8-byte groups);
 *      they are written as a part with a small block size, read back and compared
 * Invariants checked besides "no crash, no leak": decoded vectors meet ff_colvec.h's
 * invariants (offsets in range, codes < n_dict, NULL bitmap = n_null), and mode 3 reads back
 * exactly what it wrote, in sort order.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/ff_part.h"

#define MAX_BLOCKS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_vec(const ff_colvec *v, uint32_t n)
{
    if (v->n_rows != n)
        abort();
    volatile char sink = 0;
    if (v->kind == FF_VEC_I64) {
        uint32_t nn = 0;
        for (uint32_t i = 0; i < n; i++) {
            bool isn = ff_colvec_is_null(v, i);
            nn += isn;
            if (isn && v->i64[i] != 0)
                abort();
        }
        if (nn != v->n_null || (v->n_null > 0) != (v->nulls != NULL))
            abort();
    } else if (v->kind == FF_VEC_STR) {
        if (v->off[0] != 0)
            abort();
        for (uint32_t i = 0; i < n; i++)
            if (v->off[i + 1] < v->off[i])
                abort();
        if (v->off[n])
            sink ^= v->bytes[v->off[n] - 1];
    } else if (v->kind == FF_VEC_DICT) {
        if (v->n_dict == 0 || v->dict_off[0] != 0)
            abort();
        for (uint32_t k = 0; k < v->n_dict; k++) {
            if (v->dict_off[k + 1] < v->dict_off[k])
                abort();
            if (k && ff_str_cmp(v->dict_bytes + v->dict_off[k - 1],
                                v->dict_off[k] - v->dict_off[k - 1], v->dict_bytes + v->dict_off[k],
                                v->dict_off[k + 1] - v->dict_off[k]) >= 0)
                abort();
        }
        for (uint32_t i = 0; i < n; i++)
            if (v->codes[i] >= v->n_dict)
                abort();
        if (v->dict_off[v->n_dict])
            sink ^= v->dict_bytes[v->dict_off[v->n_dict] - 1];
    } else {
        abort();
    }
    (void)sink;
}

static void check_rows(const uint32_t *rows, uint32_t m, uint32_t n)
{
    for (uint32_t i = 0; i < m; i++)
        if (rows[i] >= n || (i && rows[i] <= rows[i - 1]))
            abort();
}

/* The postings of a decoded block's column: the rows of its first and last entries (and both)
 * are exactly the rows holding those codes. */
static void check_match(const ff_part *p, ff_part_ctx *ctx, uint32_t b, ff_col c,
                        const ff_colvec *v, ff_arena *a)
{
    uint32_t n = v->n_rows, m = 0, last = v->n_dict - 1;
    uint32_t *rows = ff_arena_alloc(a, (size_t)n * sizeof *rows);
    if (!rows)
        return;
    ff_str vals[2] = {
        {v->dict_bytes, v->dict_off[1]},
        {v->dict_bytes + v->dict_off[last], v->dict_off[last + 1] - v->dict_off[last]}};
    for (uint32_t nv = 1; nv <= 2; nv++) {
        ff_err err;
        ff_block got = {.block = b};
        if (ff_part_match(p, ctx, b, c, vals + 2 - nv, nv, a, rows, &m, nv == 2 ? &got : NULL,
                          &err) != FF_OK)
            abort(); /* the same chunk decoded in full */
        if (nv == 2) {
            check_vec(&got.col[c], n);
            for (uint32_t i = 0; i < m; i++)
                if (got.col[c].codes[rows[i]] != v->codes[rows[i]])
                    abort();
        }
        check_rows(rows, m, n);
        uint32_t j = 0;
        for (uint32_t i = 0; i < n; i++)
            if (v->codes[i] == last || (nv == 2 && v->codes[i] == 0))
                if (j >= m || rows[j++] != i)
                    abort();
        if (j != m)
            abort();
    }
}

/* One read context for the whole run: creating zstd state per input dominated the time. */
static ff_part_ctx *shared_ctx(void)
{
    static ff_part_ctx *ctx;
    if (!ctx && ff_part_ctx_new(&ctx, NULL) != FF_OK)
        abort();
    return ctx;
}

static void fuzz_part_bytes(const uint8_t *data, size_t size, bool skip)
{
    ff_part_open_opts o = {.skip_checksums = skip};
    ff_part *p;
    ff_err err;
    if (ff_part_open_mem(data, size, "fuzz", &o, &p, &err) != FF_OK)
        return;
    const ff_part_info *in = ff_part_get_info(p);
    ff_part_ctx *ctx = shared_ctx();
    ff_arena a;
    ff_arena_init(&a, 1 << 16, 64u << 20);
    for (uint32_t b = 0; b < in->n_blocks && b < MAX_BLOCKS; b++) {
        ff_zone z;
        for (int c = 0; c < FF_COL_COUNT; c++)
            if (ff_part_zone(p, b, (ff_col)c, &z) != FF_OK || z.n_null > z.n_rows)
                abort();
        ff_arena_reset(&a);
        ff_block blk;
        if (ff_part_read(p, ctx, b, FF_COLSET_ALL, &a, &blk, &err) != FF_OK)
            continue;
        if (blk.n_rows != ff_part_block_n_rows(p, b))
            abort();
        for (int c = 0; c < FF_COL_COUNT; c++) {
            check_vec(&blk.col[c], blk.n_rows);
            if (ff_part_can_match(p, b, (ff_col)c) && blk.col[c].kind == FF_VEC_DICT)
                check_match(p, ctx, b, (ff_col)c, &blk.col[c], &a);
        }
    }
    if (in->n_blocks <= MAX_BLOCKS)
        ff_part_verify(p, ctx, &err);
    ff_arena_fini(&a);
    ff_part_close(p);
}

static void fuzz_chunk(const uint8_t *data, size_t size)
{
    if (size < 7)
        return;
    ff_chunk_desc d = {(ff_type)(data[0] % 8),
                       data[1] & 1,
                       (ff_enc)data[2],
                       (uint32_t)(data[3] | data[4] << 8),
                       (uint32_t)(data[5] | data[6] << 8),
                       false};
    ff_arena a;
    ff_arena_init(&a, 1 << 16, 16u << 20);
    ff_colvec v;
    const char *why;
    if (ff_enc_decode(&d, data + 7, size - 7, &a, &v, &why) == FF_OK) {
        check_vec(&v, d.n_rows);
        if (v.kind == FF_VEC_I64 && v.n_null != d.n_null)
            abort();
    }
    if (d.enc == FF_ENC_STR_POSTINGS && d.n_rows) { /* a match reads only some lists */
        uint32_t *rows = ff_arena_alloc(&a, (size_t)d.n_rows * sizeof *rows), m = 0;
        ff_str vals[2] = {{"a", 1}, {(const char *)data + 7, size > 9 ? 2 : 0}};
        if (rows && ff_enc_postings_match(&d, data + 7, size - 7, vals, 1 + (data[1] >> 1 & 1), &a,
                                          rows, &m, NULL, &why) == FF_OK)
            check_rows(rows, m, d.n_rows);
    }
    ff_arena_fini(&a);
}

/* Mode 3: rows from bytes, through the writer and back. */
static void fuzz_roundtrip(const uint8_t *data, size_t size)
{
    if (size < 2)
        return;
    uint32_t block_rows = 1 + data[0] % 16;
    int level = data[1] & 1 ? -1 : 1;
    uint32_t enc = ((uint32_t)data[1] >> 1) % 4;
    data += 2;
    size -= 2;
    static const uint32_t masks[4] = {
        0, FF_ENC_BIT(FF_ENC_I64_PLAIN) | FF_ENC_BIT(FF_ENC_STR_DICT),
        FF_ENC_BIT(FF_ENC_I64_DELTA_VARINT) | FF_ENC_BIT(FF_ENC_STR_PLAIN) |
            FF_ENC_BIT(FF_ENC_STR_POSTINGS),
        FF_ENC_BIT(FF_ENC_I64_DELTA_FOR) | FF_ENC_BIT(FF_ENC_I64_FOR)};
    enum { MAXR = 64 };
    ff_row *rows = calloc(MAXR, sizeof *rows);
    if (!rows)
        abort();
    uint32_t n = 0;
    size_t pos = 0;
    /* each row: up to 8 bytes of numbers, then a string up to the next ',' */
    while (pos < size && n < MAXR) {
        ff_row *r = &rows[n];
        ff_row_clear(r);
        uint64_t x = 0;
        size_t k;
        for (k = 0; k < 8 && pos + k < size; k++)
            x |= (uint64_t)data[pos + k] << (8 * k);
        pos += k;
        size_t s0 = pos;
        while (pos < size && data[pos] != ',')
            pos++;
        ff_str s = {(const char *)data + s0, (uint32_t)(pos - s0)};
        if (pos < size)
            pos++;
        r->num[FF_COL_TS] = (int64_t)x;
        r->num[FF_COL_RECEIVED_AT] = (int64_t)(x * 0x9E3779B97F4A7C15ull);
        r->num[FF_COL_LOG_OFFSET] = (int64_t)n;
        if (x & 1) {
            r->num[FF_COL_QUANTITY] = (int64_t)(x >> 1);
            r->null &= ~FF_COLSET(FF_COL_QUANTITY);
        }
        if (x & 2) {
            r->num[FF_COL_PRICE] = -(int64_t)x;
            r->null &= ~FF_COLSET(FF_COL_PRICE);
        }
        r->str[x & 4 ? FF_COL_USER_ID : FF_COL_ANONYMOUS_ID] = s;
        r->str[FF_COL_EVENT] = (ff_str){s.p, s.len > 3 ? 3 : s.len};
        r->str[FF_COL_PROPERTIES] = s;
        r->str[FF_COL_URL] = (ff_str){s.p, s.len / 2};
        n++;
    }
    ff_part_writer_opts o = {
        .block_rows = block_rows, .zstd_level = level, .enc_allowed = masks[enc], .created_ms = 1};
    if (n == 0) {
        o.has_log_range = true;
        o.log_last = 1;
    }
    ff_part_writer *w;
    ff_buf out;
    ff_buf_init(&out, 0);
    if (ff_part_writer_new(&o, &w, NULL) != FF_OK)
        abort();
    for (uint32_t i = 0; i < n; i++)
        if (ff_part_writer_add(w, &rows[i], NULL) != FF_OK)
            abort();
    if (ff_part_writer_finish_mem(w, &out, NULL, NULL) != FF_OK)
        abort();
    ff_part_writer_free(w);
    /* expected order: ff_row_cmp; log offsets are distinct so the order is total */
    for (uint32_t i = 1; i < n; i++)
        for (uint32_t j = i; j > 0 && ff_row_cmp(&rows[j - 1], &rows[j]) > 0; j--) {
            ff_row t = rows[j];
            rows[j] = rows[j - 1];
            rows[j - 1] = t;
        }
    ff_part *p;
    ff_err err;
    if (ff_part_open_mem(out.data, out.len, "rt", NULL, &p, &err) != FF_OK)
        abort();
    if (ff_part_get_info(p)->n_rows != n || ff_part_verify(p, shared_ctx(), &err) != FF_OK)
        abort();
    ff_arena a;
    ff_arena_init(&a, 1 << 16, 0);
    uint32_t row = 0;
    for (uint32_t b = 0; b < ff_part_get_info(p)->n_blocks; b++) {
        ff_block blk;
        ff_arena_reset(&a);
        if (ff_part_read(p, shared_ctx(), b, FF_COLSET_ALL, &a, &blk, &err) != FF_OK)
            abort();
        for (uint32_t i = 0; i < blk.n_rows; i++, row++) {
            ff_row r;
            ff_block_row(&blk, i, &r);
            const ff_row *e = &rows[row];
            for (int c = 0; c < FF_COL_COUNT; c++) {
                if (ff_type_is_str(ff_schema_col((ff_col)c)->type)) {
                    if (ff_str_cmp(r.str[c].p, r.str[c].len, e->str[c].p, e->str[c].len))
                        abort();
                } else if ((r.null ^ e->null) & FF_COLSET(c) ||
                           (!(r.null & FF_COLSET(c)) && r.num[c] != e->num[c])) {
                    abort();
                }
            }
        }
    }
    if (row != n)
        abort();
    ff_arena_fini(&a);
    ff_part_close(p);
    ff_buf_fini(&out);
    free(rows);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0] % 4;
    data++;
    size--;
    switch (mode) {
    case 0:
        fuzz_part_bytes(data, size, false);
        break;
    case 1:
        fuzz_part_bytes(data, size, true);
        break;
    case 2:
        fuzz_chunk(data, size);
        break;
    default:
        fuzz_roundtrip(data, size);
        break;
    }
    return 0;
}
