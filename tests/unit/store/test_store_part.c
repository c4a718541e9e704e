/* test_store_part.c -- parts end to end: write (memory and file, atomic publish), read back every
 * value in sort order, block boundaries, edge values, forced encodings, column subsets that
 * touch only their chunks, every single-byte corruption and truncation detected, verify,
 * concurrent readers, allocation failures, canonical records and the Taobao slice.
 *
 * `test_store_part --write-seeds DIR` writes the fuzz seed corpus (tests/fuzz/corpus/fuzz_part). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/ff_mem.h"
#include "ff_test.h"
#include "store/ff_part.h"

#define DAY_MS 86400000LL
#define TEST_DAY 20776 /* 2026-11-19 */

static struct {
    uint64_t rng;
    ff_arena rows_arena; /* strings of generated rows */
    ff_arena read_arena;
    ff_part_ctx *sweep_ctx;
    char tmpdir[256];
} g;

static uint64_t rnd(void)
{
    uint64_t x = g.rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return g.rng = x;
}

static ff_str astr(const char *s, size_t n)
{
    char *p = ff_arena_strndup(&g.rows_arena, s, n);
    FF_VERIFY(p);
    return (ff_str){p, (uint32_t)n};
}

static ff_str cstr(const char *s)
{
    return (ff_str){s, (uint32_t)strlen(s)};
}

/* ---- generated rows ---------------------------------------------------------------------- */

static const char *events[] = {"page_viewed", "product_viewed", "product_added", "order_completed",
                               "products_searched"};
static const char *devices[] = {"mobile", "desktop", "tablet", ""};
static const char *browsers[] = {"Chrome", "Safari", "Firefox", "Edge"};

typedef struct gen_opts {
    bool extremes;  /* INT64/UINT64 extremes in numeric columns */
    bool all_null;  /* price/quantity/revenue always NULL */
    bool all_empty; /* every optional string '' */
    int64_t day;    /* partition day of ts */
    int n_persons;
} gen_opts;

static void gen_row(ff_row *r, uint64_t i, const gen_opts *o)
{
    char buf[400];
    ff_row_clear(r);
    int n;
    n = snprintf(buf, sizeof buf, "evt-%08llx-%llu", (unsigned long long)rnd(),
                 (unsigned long long)i);
    r->str[FF_COL_EVENT_ID] = astr(buf, (size_t)n);
    r->num[FF_COL_TS] = o->day * DAY_MS + (int64_t)(rnd() % DAY_MS);
    r->num[FF_COL_RECEIVED_AT] = r->num[FF_COL_TS] + (int64_t)(rnd() % 5000);
    r->num[FF_COL_LOG_OFFSET] = (int64_t)(1000 + i);
    r->str[FF_COL_TYPE] = cstr(rnd() % 4 ? "track" : "page");
    r->str[FF_COL_EVENT] = cstr(events[rnd() % 5]);
    unsigned p = (unsigned)(rnd() % (unsigned)o->n_persons);
    if (p % 3) {
        n = snprintf(buf, sizeof buf, "user-%06u", p);
        r->str[FF_COL_USER_ID] = astr(buf, (size_t)n);
    }
    n = snprintf(buf, sizeof buf, "anon-%u-%u", p, (unsigned)(rnd() % 2));
    r->str[FF_COL_ANONYMOUS_ID] = astr(buf, (size_t)n);
    if (!o->all_empty) {
        r->str[FF_COL_EVENT_ORIGINAL] = cstr(rnd() % 2 ? "Product Viewed" : "");
        n = snprintf(buf, sizeof buf, "https://shop.example.com/p/item-%u",
                     (unsigned)(rnd() % 300));
        r->str[FF_COL_URL] = astr(buf, (size_t)n);
        r->str[FF_COL_DEVICE] = cstr(devices[rnd() % 4]);
        r->str[FF_COL_BROWSER] = cstr(browsers[rnd() % 4]);
        r->str[FF_COL_COUNTRY] = cstr(rnd() % 2 ? "DE" : "FR");
        if (rnd() % 3 == 0) {
            n = snprintf(buf, sizeof buf, "prod-%05u", (unsigned)(rnd() % 500));
            r->str[FF_COL_PRODUCT_ID] = astr(buf, (size_t)n);
        }
        /* properties: sometimes longer than the zone bound, sometimes binary */
        size_t pl = rnd() % 4 == 0 ? 70 + rnd() % 200 : rnd() % 30;
        for (size_t k = 0; k < pl; k++)
            buf[k] = (char)(rnd() % 8 == 0 ? rnd() % 256 : 'a' + rnd() % 3);
        r->str[FF_COL_PROPERTIES] = astr(buf, pl);
    }
    if (!o->all_null) {
        if (rnd() % 3 == 0) {
            r->num[FF_COL_PRICE] = (int64_t)(rnd() % 100000) * 100;
            r->null &= ~FF_COLSET(FF_COL_PRICE);
        }
        if (rnd() % 4 == 0) {
            r->num[FF_COL_QUANTITY] = (int64_t)(rnd() % 5) + 1;
            r->null &= ~FF_COLSET(FF_COL_QUANTITY);
        }
        if (rnd() % 10 == 0) {
            r->num[FF_COL_REVENUE] = (int64_t)(rnd() % 10000000);
            r->null &= ~FF_COLSET(FF_COL_REVENUE);
        }
    }
    if (o->extremes) {
        const int64_t ex[] = {INT64_MIN, INT64_MAX, 0, -1};
        r->num[FF_COL_QUANTITY] = ex[rnd() % 4];
        r->null &= ~FF_COLSET(FF_COL_QUANTITY);
        r->num[FF_COL_PRICE] = ex[rnd() % 4];
        r->null &= ~FF_COLSET(FF_COL_PRICE);
        r->num[FF_COL_RECEIVED_AT] = ex[rnd() % 4];
        r->num[FF_COL_LOG_OFFSET] = (int64_t)(UINT64_MAX - i); /* above INT64_MAX */
    }
}

static ff_row *gen_rows(uint32_t n, const gen_opts *o)
{
    ff_row *rows = ff_malloc((size_t)(n ? n : 1) * sizeof *rows);
    FF_VERIFY(rows);
    for (uint32_t i = 0; i < n; i++)
        gen_row(&rows[i], i, o);
    return rows;
}

static int row_cmp_q(const void *a, const void *b)
{
    return ff_row_cmp(a, b);
}

static bool row_equal(const ff_row *a, const ff_row *b)
{
    for (int c = 0; c < FF_COL_COUNT; c++) {
        if (ff_type_is_str(ff_schema_col((ff_col)c)->type)) {
            if (ff_str_cmp(a->str[c].p, a->str[c].len, b->str[c].p, b->str[c].len) != 0)
                return false;
        } else {
            bool an = a->null & FF_COLSET(c), bn = b->null & FF_COLSET(c);
            if (an != bn || (!an && a->num[c] != b->num[c]))
                return false;
        }
    }
    return true;
}

/* Write rows (added in a shuffled order) into a memory part. */
static ff_rc write_mem(const ff_row *rows, uint32_t n, const ff_part_writer_opts *o, ff_buf *out,
                       ff_part_info *info, ff_err *err)
{
    ff_part_writer *w;
    ff_rc rc = ff_part_writer_new(o, &w, err);
    if (rc)
        return rc;
    uint32_t *ord = malloc((size_t)(n ? n : 1) * sizeof *ord); /* not subject to injection */
    FF_VERIFY(ord);
    for (uint32_t i = 0; i < n; i++)
        ord[i] = i;
    for (uint32_t i = n; i > 1; i--) {
        uint32_t j = (uint32_t)(rnd() % i), t = ord[i - 1];
        ord[i - 1] = ord[j];
        ord[j] = t;
    }
    for (uint32_t i = 0; i < n && rc == FF_OK; i++)
        rc = ff_part_writer_add(w, &rows[ord[i]], err);
    free(ord);
    if (rc == FF_OK)
        rc = ff_part_writer_finish_mem(w, out, info, err);
    ff_part_writer_free(w);
    return rc;
}

/* Read every row of p (all columns) and compare with sorted[]. Returns mismatches. */
static long compare_part(const ff_part *p, const ff_row *sorted, uint32_t n)
{
    long bad = 0;
    uint64_t row = 0;
    ff_part_ctx *ctx;
    FF_VERIFY(ff_part_ctx_new(&ctx, NULL) == FF_OK);
    const ff_part_info *in = ff_part_get_info(p);
    for (uint32_t b = 0; b < in->n_blocks; b++) {
        ff_arena_reset(&g.read_arena);
        ff_block blk;
        ff_err err = {0};
        if (ff_part_read(p, ctx, b, FF_COLSET_ALL, &g.read_arena, &blk, &err) != FF_OK) {
            fprintf(stderr, "read block %u: %s\n", b, err.msg);
            bad++;
            continue;
        }
        bad += blk.first_row != row || blk.cols != FF_COLSET_ALL;
        for (uint32_t i = 0; i < blk.n_rows; i++, row++) {
            ff_row r;
            ff_block_row(&blk, i, &r);
            if (row >= n || !row_equal(&r, &sorted[row])) {
                if (bad < 3)
                    fprintf(stderr, "row %llu differs\n", (unsigned long long)row);
                bad++;
            }
        }
    }
    ff_part_ctx_free(ctx);
    bad += row != n;
    return bad;
}

/* Generate, write, open, compare, verify. */
static long roundtrip(uint32_t n, const gen_opts *go, const ff_part_writer_opts *wo, ff_buf *keep)
{
    ff_row *rows = gen_rows(n, go);
    ff_buf out;
    ff_buf_init(&out, 0);
    ff_part_info info;
    ff_err err = {0};
    long bad = 0;
    if (write_mem(rows, n, wo, &out, &info, &err) != FF_OK) {
        fprintf(stderr, "write: %s\n", err.msg);
        bad++;
        goto done;
    }
    qsort(rows, n, sizeof *rows, row_cmp_q);
    ff_part *p;
    if (ff_part_open_mem(out.data, out.len, "rt", NULL, &p, &err) != FF_OK) {
        fprintf(stderr, "open: %s\n", err.msg);
        bad++;
        goto done;
    }
    const ff_part_info *pi = ff_part_get_info(p);
    uint32_t br = wo && wo->block_rows ? wo->block_rows : FF_PART_BLOCK_ROWS;
    bad += pi->n_rows != n || pi->n_blocks != (n + br - 1) / br || pi->block_rows != br;
    bad += pi->file_bytes != out.len || info.file_bytes != out.len;
    bad += info.n_rows != n || info.min_ts != pi->min_ts || info.max_ts != pi->max_ts;
    bad += info.chunk_bytes != pi->chunk_bytes;
    if (n) {
        int64_t mn = rows[0].num[FF_COL_TS], mx = mn;
        for (uint32_t i = 0; i < n; i++) {
            mn = rows[i].num[FF_COL_TS] < mn ? rows[i].num[FF_COL_TS] : mn;
            mx = rows[i].num[FF_COL_TS] > mx ? rows[i].num[FF_COL_TS] : mx;
        }
        bad += pi->min_ts != mn || pi->max_ts != mx;
    }
    bad += compare_part(p, rows, n);
    if (ff_part_verify(p, NULL, &err) != FF_OK) {
        fprintf(stderr, "verify: %s\n", err.msg);
        bad++;
    }
    ff_part_close(p);
done:
    if (keep)
        ff_buf_add(keep, out.data, out.len);
    ff_buf_fini(&out);
    ff_free(rows);
    ff_arena_reset(&g.rows_arena);
    return bad;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_roundtrip(void)
{
    gen_opts go = {.day = TEST_DAY, .n_persons = 60};
    ff_part_writer_opts wo = {
        .block_rows = 1000, .has_partition_day = true, .partition_day = TEST_DAY};
    FF_CHECK_EQ(roundtrip(2500, &go, &wo, NULL), 0); /* 1000 + 1000 + 500 */
    ff_part_writer_opts def = {0};
    FF_CHECK_EQ(roundtrip(9000, &go, &def, NULL), 0); /* default 8192-row blocks */
}

/* A writer reused through ff_part_writer_reset (after a finish, after a failed finish, with
 * other options) writes byte for byte the part a fresh writer writes from the same rows. */
static void test_writer_reset(void)
{
    static const struct {
        uint32_t n, block_rows;
        bool all_empty;
    } rounds[] = {{20000, 0, false}, {3000, 1000, true}, {1, 0, false}, {9000, 4096, false}};
    ff_part_writer *w = NULL;
    ff_err err = {0};
    FF_CHECK_EQ(ff_part_writer_new(NULL, &w, &err), FF_OK);
    /* a failed finish (no such folder) leaves the writer failed; reset makes it usable */
    ff_row one;
    gen_opts g0 = {.day = TEST_DAY, .n_persons = 5};
    gen_row(&one, 0, &g0);
    FF_CHECK_EQ(ff_part_writer_add(w, &one, &err), FF_OK);
    FF_CHECK(ff_part_writer_finish(w, "/nonexistent-ff-dir/x.part", NULL, &err) != FF_OK);
    FF_CHECK_EQ(ff_part_writer_add(w, &one, &err), FF_EFAILED);
    for (size_t k = 0; k < sizeof rounds / sizeof rounds[0]; k++) {
        gen_opts go = {.day = TEST_DAY, .n_persons = 40, .all_empty = rounds[k].all_empty};
        ff_part_writer_opts wo = {.block_rows = rounds[k].block_rows,
                                  .has_partition_day = true,
                                  .partition_day = (int32_t)TEST_DAY,
                                  .created_ms = 1700000000000 + (int64_t)k};
        ff_row *rows = gen_rows(rounds[k].n, &go);
        FF_CHECK_EQ(ff_part_writer_reset(w, &wo, &err), FF_OK);
        FF_CHECK_EQ(ff_part_writer_n_rows(w), 0);
        for (uint32_t i = 0; i < rounds[k].n; i++)
            FF_CHECK_EQ(ff_part_writer_add(w, &rows[rounds[k].n - 1 - i], &err), FF_OK);
        ff_buf reused, fresh;
        ff_buf_init(&reused, 0);
        ff_buf_init(&fresh, 0);
        ff_part_info ri, fi;
        FF_CHECK_EQ(ff_part_writer_finish_mem(w, &reused, &ri, &err), FF_OK);
        FF_CHECK_EQ(write_mem(rows, rounds[k].n, &wo, &fresh, &fi, &err), FF_OK);
        FF_CHECK_EQ(ri.n_rows, rounds[k].n);
        FF_CHECK_EQ(reused.len, fresh.len);
        FF_CHECK(reused.len == fresh.len && memcmp(reused.data, fresh.data, reused.len) == 0);
        ff_buf_fini(&reused);
        ff_buf_fini(&fresh);
        ff_free(rows);
        ff_arena_reset(&g.rows_arena);
    }
    /* bad options: FF_EINVAL, the writer is unchanged (still done) */
    ff_part_writer_opts bad = {.zstd_level = 42};
    FF_CHECK_EQ(ff_part_writer_reset(w, &bad, &err), FF_EINVAL);
    FF_CHECK_EQ(ff_part_writer_add(w, &one, &err), FF_EINVAL);
    ff_part_writer_free(w);
}

static void test_boundaries(void)
{
    gen_opts go = {.day = TEST_DAY, .n_persons = 7};
    ff_part_writer_opts wo = {.block_rows = 64};
    const uint32_t sizes[] = {1, 2, 63, 64, 65, 128, 129};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++)
        FF_CHECK_EQ(roundtrip(sizes[k], &go, &wo, NULL), 0);
    gen_opts ex = {.day = TEST_DAY, .n_persons = 3, .extremes = true};
    FF_CHECK_EQ(roundtrip(300, &ex, &wo, NULL), 0);
    gen_opts nul = {.day = TEST_DAY, .n_persons = 1, .all_null = true, .all_empty = true};
    FF_CHECK_EQ(roundtrip(200, &nul, &wo, NULL), 0);
    ff_part_writer_opts one = {.block_rows = 1};
    FF_CHECK_EQ(roundtrip(5, &go, &one, NULL), 0);
    ff_part_writer_opts big = {.block_rows = FF_PART_MAX_BLOCK_ROWS};
    FF_CHECK_EQ(roundtrip(300, &go, &big, NULL), 0);

    /* ts extremes (no partition day) */
    ff_row r[3];
    for (int i = 0; i < 3; i++) {
        ff_row_clear(&r[i]);
        r[i].str[FF_COL_USER_ID] = cstr("u");
        r[i].num[FF_COL_LOG_OFFSET] = i;
    }
    r[0].num[FF_COL_TS] = INT64_MIN;
    r[1].num[FF_COL_TS] = INT64_MAX;
    r[2].num[FF_COL_TS] = 0;
    ff_buf out;
    ff_buf_init(&out, 0);
    ff_part_info info;
    FF_CHECK_EQ(write_mem(r, 3, NULL, &out, &info, NULL), FF_OK);
    FF_CHECK(info.min_ts == INT64_MIN && info.max_ts == INT64_MAX);
    FF_CHECK_EQ(info.partition_day, FF_PART_DAY_NONE);
    ff_part *p;
    FF_CHECK_EQ(ff_part_open_mem(out.data, out.len, "x", NULL, &p, NULL), FF_OK);
    qsort(r, 3, sizeof *r, row_cmp_q);
    FF_CHECK_EQ(compare_part(p, r, 3), 0);
    ff_zone z;
    FF_CHECK_EQ(ff_part_zone(p, 0, FF_COL_TS, &z), FF_OK);
    FF_CHECK(z.min == INT64_MIN && z.max == INT64_MAX);
    FF_CHECK_EQ(ff_part_zone(p, 1, FF_COL_TS, &z), FF_EINVAL);
    ff_part_close(p);
    ff_buf_fini(&out);
}

static void test_empty_part(void)
{
    ff_part_writer *w;
    ff_buf out;
    ff_buf_init(&out, 0);
    ff_err err = {0};
    FF_CHECK_EQ(ff_part_writer_new(NULL, &w, NULL), FF_OK);
    FF_CHECK_EQ(ff_part_writer_finish_mem(w, &out, NULL, &err), FF_EINVAL); /* no range */
    FF_CHECK_EQ(ff_part_writer_add(w, NULL, &err), FF_EFAILED);
    ff_part_writer_free(w);
    ff_part_writer_opts o = {.has_log_range = true, .log_first = 10, .log_last = 20};
    FF_CHECK_EQ(ff_part_writer_new(&o, &w, NULL), FF_OK);
    ff_part_info info;
    FF_CHECK_EQ(ff_part_writer_finish_mem(w, &out, &info, &err), FF_OK);
    FF_CHECK_EQ(ff_part_writer_finish_mem(w, &out, &info, &err), FF_EINVAL); /* done */
    ff_part_writer_free(w);
    ff_part *p;
    FF_CHECK_EQ(ff_part_open_mem(out.data, out.len, "empty", NULL, &p, &err), FF_OK);
    const ff_part_info *pi = ff_part_get_info(p);
    FF_CHECK(pi->n_rows == 0 && pi->n_blocks == 0 && pi->log_first == 10 && pi->log_last == 20);
    ff_block blk;
    FF_CHECK_EQ(ff_part_read(p, NULL, 0, FF_COLSET_ALL, &g.read_arena, &blk, &err), FF_EINVAL);
    FF_CHECK_EQ(ff_part_verify(p, NULL, &err), FF_OK);
    FF_CHECK_EQ(ff_part_block_n_rows(p, 0), 0);
    ff_part_close(p);
    ff_buf_fini(&out);
}

static void test_forced_encodings(void)
{
    gen_opts go = {.day = TEST_DAY, .n_persons = 40};
    const uint32_t masks[] = {
        FF_ENC_BIT(FF_ENC_I64_PLAIN) | FF_ENC_BIT(FF_ENC_STR_PLAIN),
        FF_ENC_BIT(FF_ENC_I64_FOR) | FF_ENC_BIT(FF_ENC_STR_DICT),
        FF_ENC_BIT(FF_ENC_I64_DELTA_VARINT) | FF_ENC_BIT(FF_ENC_STR_PLAIN),
        FF_ENC_BIT(FF_ENC_I64_DELTA_FOR) | FF_ENC_BIT(FF_ENC_STR_DICT),
    };
    for (size_t m = 0; m < 4; m++) {
        for (int level = -1; level <= 3; level += 4) {
            ff_part_writer_opts wo = {
                .block_rows = 500, .enc_allowed = masks[m], .zstd_level = level};
            ff_buf keep;
            ff_buf_init(&keep, 0);
            FF_CHECK_EQ(roundtrip(1200, &go, &wo, &keep), 0);
            ff_part *p;
            FF_CHECK_EQ(ff_part_open_mem(keep.data, keep.len, "enc", NULL, &p, NULL), FF_OK);
            int wrong = 0, zstd = 0, lz4 = 0;
            for (uint32_t b = 0; p && b < ff_part_get_info(p)->n_blocks; b++)
                for (int c = 0; c < FF_COL_COUNT; c++) {
                    ff_part_chunk ch;
                    ff_part_chunk_stat(p, b, (ff_col)c, &ch);
                    zstd += ch.zstd;
                    lz4 += ch.lz4;
                    wrong += ch.enc != FF_ENC_ALLNULL && !(masks[m] & FF_ENC_BIT(ch.enc));
                }
            FF_CHECK_EQ(wrong, 0);
            /* compressed (LZ4 for narrow codes and numbers, zstd for wide text), or never */
            FF_CHECK(level < 0 ? zstd + lz4 == 0 : lz4 > 0);
            ff_part_close(p);
            ff_buf_fini(&keep);
        }
    }
}

static ff_part *open_copy(const ff_buf *b, ff_buf *copy, const ff_part_open_opts *o, ff_rc *rc,
                          ff_err *err)
{
    ff_buf_reset(copy);
    ff_buf_add(copy, b->data, b->len);
    ff_part *p = NULL;
    *rc = ff_part_open_mem(copy->data, copy->len, "copy", o, &p, err);
    return p;
}

static void test_column_subset(void)
{
    gen_opts go = {.day = TEST_DAY, .n_persons = 30};
    ff_part_writer_opts wo = {.block_rows = 100};
    ff_row *rows = gen_rows(250, &go);
    ff_buf out, copy;
    ff_buf_init(&out, 0);
    ff_buf_init(&copy, 0);
    FF_CHECK_EQ(write_mem(rows, 250, &wo, &out, NULL, NULL), FF_OK);
    ff_part *p;
    ff_rc rc;
    ff_err err = {0};
    p = open_copy(&out, &copy, NULL, &rc, &err);
    FF_CHECK_EQ(rc, FF_OK);
    ff_block blk;
    ff_colset want = FF_COLSET(FF_COL_TS) | FF_COLSET(FF_COL_EVENT);
    FF_CHECK_EQ(ff_part_read(p, NULL, 1, want, &g.read_arena, &blk, &err), FF_OK);
    FF_CHECK(blk.cols == want && blk.n_rows == 100 && blk.first_row == 100 && blk.block == 1);
    int none = 0;
    for (int c = 0; c < FF_COL_COUNT; c++)
        none += blk.col[c].kind == FF_VEC_NONE;
    FF_CHECK_EQ(none, FF_COL_COUNT - 2);
    FF_CHECK_EQ(blk.col[FF_COL_TS].kind, FF_VEC_I64);
    FF_CHECK_EQ(blk.col[FF_COL_EVENT].kind, FF_VEC_DICT); /* LowCardinality */
    FF_CHECK_EQ(ff_part_read(p, NULL, 0, FF_COLSET(40), &g.read_arena, &blk, &err), FF_EINVAL);
    ff_part_close(p);

    /* Damage the middle of block 0's event_id chunk: ts reads still succeed (untouched), and
     * event_id names the damage. */
    p = open_copy(&out, &copy, NULL, &rc, &err);
    ff_part_chunk ch;
    FF_CHECK_EQ(ff_part_chunk_stat(p, 0, FF_COL_EVENT_ID, &ch), FF_OK);
    ff_part_close(p);
    copy.data[ch.offset + ch.stored_bytes / 2] ^= 0x40;
    FF_CHECK_EQ(ff_part_open_mem(copy.data, copy.len, "damaged.part", NULL, &p, &err), FF_OK);
    FF_CHECK_EQ(ff_part_read(p, NULL, 0, FF_COLSET(FF_COL_TS), &g.read_arena, &blk, &err), FF_OK);
    FF_CHECK_EQ(ff_part_read(p, NULL, 1, FF_COLSET_ALL, &g.read_arena, &blk, &err), FF_OK);
    FF_CHECK_EQ(ff_part_read(p, NULL, 0, FF_COLSET(FF_COL_EVENT_ID), &g.read_arena, &blk, &err),
                FF_ECORRUPT);
    FF_CHECK(strstr(err.msg, "damaged.part") && strstr(err.msg, "event_id") &&
             strstr(err.msg, "checksum") && strstr(err.msg, "byte"));
    FF_CHECK_EQ(blk.cols, 0);
    FF_CHECK_EQ(ff_part_verify(p, NULL, &err), FF_ECORRUPT);
    ff_part_close(p);
    /* Opened without checksums the same damage decodes to different strings (or a decoding
     * error), but never crashes. */
    ff_part_open_opts skip = {.skip_checksums = true};
    FF_CHECK_EQ(ff_part_open_mem(copy.data, copy.len, "damaged.part", &skip, &p, &err), FF_OK);
    rc = ff_part_read(p, NULL, 0, FF_COLSET(FF_COL_EVENT_ID), &g.read_arena, &blk, &err);
    FF_CHECK(rc == FF_OK || rc == FF_ECORRUPT);
    FF_CHECK_EQ(ff_part_verify(p, NULL, &err), FF_ECORRUPT); /* verify checks sums anyway */
    ff_part_close(p);
    ff_buf_fini(&out);
    ff_buf_fini(&copy);
    ff_free(rows);
    ff_arena_reset(&g.rows_arena);
}

/* Open + read all + verify; FF_OK only when nothing complained. */
static ff_rc read_everything(const char *data, size_t len, const ff_part_open_opts *o)
{
    ff_part *p;
    ff_err err;
    ff_rc rc = ff_part_open_mem(data, len, "sweep", o, &p, &err);
    if (rc)
        return rc;
    static ff_part_ctx *ctx; /* one for the whole sweep (freed at exit by main) */
    if (!ctx)
        FF_VERIFY(ff_part_ctx_new(&ctx, NULL) == FF_OK);
    g.sweep_ctx = ctx;
    for (uint32_t b = 0; b < ff_part_get_info(p)->n_blocks && rc == FF_OK; b++) {
        ff_arena_reset(&g.read_arena);
        ff_block blk;
        rc = ff_part_read(p, ctx, b, FF_COLSET_ALL, &g.read_arena, &blk, &err);
        for (int c = 0; rc == FF_OK && c < FF_COL_COUNT; c++) /* touch every value */
            for (uint32_t i = 0; i < blk.n_rows; i++) {
                const ff_colvec *v = &blk.col[c];
                if (v->kind == FF_VEC_I64) {
                    volatile int64_t x = v->i64[i];
                    (void)x;
                } else {
                    uint32_t l;
                    const char *s = ff_colvec_str(v, i, &l);
                    if (l) {
                        volatile char y = s[0] ^ s[l - 1];
                        (void)y;
                    }
                }
            }
    }
    if (rc == FF_OK)
        rc = ff_part_verify(p, ctx, &err);
    ff_part_close(p);
    return rc;
}

static void test_corruption_sweep(void)
{
    gen_opts go = {.day = TEST_DAY, .n_persons = 5};
    ff_part_writer_opts wo = {.block_rows = 16};
    ff_row *rows = gen_rows(40, &go);
    ff_buf out, copy;
    ff_buf_init(&out, 0);
    ff_buf_init(&copy, 0);
    FF_CHECK_EQ(write_mem(rows, 40, &wo, &out, NULL, NULL), FF_OK);
    FF_CHECK_EQ(read_everything(out.data, out.len, NULL), FF_OK);
    long undetected = 0, not_corrupt = 0;
    ff_part_open_opts skip = {.skip_checksums = true};
    for (size_t pos = 0; pos < out.len; pos++) {
        for (int flip = 0; flip < 2; flip++) {
            ff_buf_reset(&copy);
            ff_buf_add(&copy, out.data, out.len);
            copy.data[pos] ^= (char)(flip ? 0xFF : 0x01);
            ff_rc rc = read_everything(copy.data, copy.len, NULL);
            undetected += rc == FF_OK;
            not_corrupt += rc != FF_OK && rc != FF_ECORRUPT;
            /* without checksums: anything but a crash (ASan watches) */
            rc = read_everything(copy.data, copy.len, &skip);
            not_corrupt += rc != FF_OK && rc != FF_ECORRUPT;
        }
    }
    FF_CHECK_EQ(undetected, 0);
    FF_CHECK_EQ(not_corrupt, 0);
    /* every truncation, and trailing garbage */
    long trunc_ok = 0;
    for (size_t len = 0; len < out.len; len++) {
        ff_buf_reset(&copy);
        ff_buf_add(&copy, out.data, len);
        trunc_ok += read_everything(copy.data, len, NULL) != FF_ECORRUPT;
    }
    FF_CHECK_EQ(trunc_ok, 0);
    ff_buf_reset(&copy);
    ff_buf_add(&copy, out.data, out.len);
    ff_buf_add(&copy, "x", 1);
    FF_CHECK_EQ(read_everything(copy.data, copy.len, NULL), FF_ECORRUPT);
    ff_buf_fini(&out);
    ff_buf_fini(&copy);
    ff_free(rows);
    ff_arena_reset(&g.rows_arena);
}

/* Patch the footer as docs/formats/part.md describes it and re-seal its checksum. */
static void reseal_footer(ff_buf *b)
{
    uint8_t *t = (uint8_t *)b->data + b->len - 32;
    uint64_t foff = 0;
    uint32_t flen = 0;
    for (int k = 0; k < 8; k++)
        foff |= (uint64_t)t[k] << (8 * k);
    for (int k = 0; k < 4; k++)
        flen |= (uint32_t)t[8 + k] << (8 * k);
    uint64_t h = XXH3_64bits(b->data + foff, flen);
    for (int k = 0; k < 8; k++)
        t[16 + k] = (uint8_t)(h >> (8 * k));
}

static size_t footer_entry_pos(const ff_buf *b, uint32_t n_blocks, uint32_t block, ff_col col)
{
    const uint8_t *t = (const uint8_t *)b->data + b->len - 32;
    uint64_t foff = 0;
    for (int k = 0; k < 8; k++)
        foff |= (uint64_t)t[k] << (8 * k);
    size_t o = (size_t)foff + 88;
    for (int c = 0; c < FF_COL_COUNT; c++)
        o += 3 + strlen(ff_schema_col((ff_col)c)->name);
    o += 4 * (size_t)n_blocks;
    return o + ((size_t)block * FF_COL_COUNT + (size_t)col) * 48;
}

/* A chunk's checksum is verified at its first read in a process; a later change of the same
 * bytes (in place, under an open handle) is still found by ff_part_verify, which checks every
 * chunk afresh, and by a new handle's first read. */
static void test_checksum_once(void)
{
    gen_opts go = {.day = TEST_DAY, .n_persons = 5};
    ff_part_writer_opts wo = {
        .block_rows = 16, .has_partition_day = true, .partition_day = TEST_DAY};
    ff_row *rows = gen_rows(40, &go);
    ff_buf out;
    ff_buf_init(&out, 0);
    FF_CHECK_EQ(write_mem(rows, 40, &wo, &out, NULL, NULL), FF_OK);
    ff_err err = {0};
    ff_part *p = NULL;
    FF_CHECK_EQ(ff_part_open_mem(out.data, out.len, "c", NULL, &p, &err), FF_OK);
    ff_arena a;
    ff_arena_init(&a, 1 << 16, 0);
    ff_block blk;
    FF_CHECK_EQ(ff_part_read(p, NULL, 1, FF_COLSET(FF_COL_EVENT_ID), &a, &blk, &err), FF_OK);
    ff_part_chunk ch;
    FF_CHECK_EQ(ff_part_chunk_stat(p, 1, FF_COL_EVENT_ID, &ch), FF_OK);
    out.data[ch.offset + ch.stored_bytes / 2] ^= 0x20; /* flip one bit of the stored bytes */
    FF_CHECK_EQ(ff_part_verify(p, NULL, &err), FF_ECORRUPT);
    FF_CHECK(strstr(err.msg, "checksum") != NULL);
    ff_part *q = NULL;
    FF_CHECK_EQ(ff_part_open_mem(out.data, out.len, "c2", NULL, &q, &err), FF_OK);
    ff_arena_reset(&a);
    FF_CHECK_EQ(ff_part_read(q, NULL, 1, FF_COLSET(FF_COL_EVENT_ID), &a, &blk, &err), FF_ECORRUPT);
    ff_part_close(q);
    ff_part_close(p);
    ff_arena_fini(&a);
    ff_buf_fini(&out);
    ff_free(rows);
    ff_arena_reset(&g.rows_arena);
}

static void test_verify_detects(void)
{
    gen_opts go = {.day = TEST_DAY, .n_persons = 5};
    ff_part_writer_opts wo = {
        .block_rows = 16, .has_partition_day = true, .partition_day = TEST_DAY};
    ff_row *rows = gen_rows(40, &go);
    ff_buf out;
    ff_buf_init(&out, 0);
    FF_CHECK_EQ(write_mem(rows, 40, &wo, &out, NULL, NULL), FF_OK);
    ff_err err = {0};
    ff_part *p;
    /* ts zone max of block 1 raised by one: opens (consistent), verify finds it */
    size_t e = footer_entry_pos(&out, 3, 1, FF_COL_TS);
    out.data[e + 40] = (char)(out.data[e + 40] + 1);
    reseal_footer(&out);
    FF_CHECK_EQ(ff_part_open_mem(out.data, out.len, "z", NULL, &p, &err), FF_OK);
    FF_CHECK_EQ(ff_part_verify(p, NULL, &err), FF_ECORRUPT);
    FF_CHECK(strstr(err.msg, "zone map") && strstr(err.msg, "ts"));
    ff_part_close(p);
    out.data[e + 40] = (char)(out.data[e + 40] - 1);
    /* partition day moved: verify finds it */
    const uint8_t *t = (const uint8_t *)out.data + out.len - 32;
    uint64_t foff = 0;
    for (int k = 0; k < 8; k++)
        foff |= (uint64_t)t[k] << (8 * k);
    out.data[foff + 64] = (char)(out.data[foff + 64] + 1);
    reseal_footer(&out);
    FF_CHECK_EQ(ff_part_open_mem(out.data, out.len, "d", NULL, &p, &err), FF_OK);
    FF_CHECK_EQ(ff_part_get_info(p)->partition_day, TEST_DAY + 1);
    FF_CHECK_EQ(ff_part_verify(p, NULL, &err), FF_ECORRUPT);
    FF_CHECK(strstr(err.msg, "partition day") != NULL);
    ff_part_close(p);
    out.data[foff + 64] = (char)(out.data[foff + 64] - 1);
    /* an unknown encoding id fails at open, naming block and column */
    out.data[e + 28] = 9;
    reseal_footer(&out);
    FF_CHECK_EQ(ff_part_open_mem(out.data, out.len, "e", NULL, &p, &err), FF_ECORRUPT);
    FF_CHECK(strstr(err.msg, "block 1 column ts") != NULL);
    out.data[e + 28] = 4;
    /* a future version is refused by name */
    out.data[8] = 4;
    FF_CHECK_EQ(ff_part_open_mem(out.data, out.len, "v", NULL, &p, &err), FF_ECORRUPT);
    FF_CHECK(strstr(err.msg, "version 4") != NULL);
    out.data[8] = 3;
    /* relabelled as version 1, a part with LZ4 chunks is corrupt (v1 had no LZ4) */
    out.data[8] = 1;
    out.data[foff + 8] = 1;
    out.data[out.len - 32 + 12] = 1;
    reseal_footer(&out);
    FF_CHECK_EQ(ff_part_open_mem(out.data, out.len, "v1", NULL, &p, &err), FF_ECORRUPT);
    FF_CHECK(strstr(err.msg, "unknown codec 2") != NULL);
    /* a version-1 part (the previous release's: uncompressed here) opens, reads, verifies */
    ff_buf v1;
    ff_buf_init(&v1, 0);
    ff_part_writer_opts wo1 = wo;
    wo1.zstd_level = -1;
    wo1.enc_allowed = FF_ENC_ANY & ~FF_ENC_BIT(FF_ENC_STR_POSTINGS) &
                      ~FF_ENC_BIT(FF_ENC_STR_DICT_SPARSE); /* not in version 1 */
    FF_CHECK_EQ(write_mem(rows, 40, &wo1, &v1, NULL, NULL), FF_OK);
    const uint8_t *t1 = (const uint8_t *)v1.data + v1.len - 32;
    foff = 0;
    for (int k = 0; k < 8; k++)
        foff |= (uint64_t)t1[k] << (8 * k);
    v1.data[8] = 1;
    v1.data[foff + 8] = 1;
    v1.data[v1.len - 32 + 12] = 1;
    reseal_footer(&v1);
    FF_CHECK_EQ(ff_part_open_mem(v1.data, v1.len, "v1", NULL, &p, &err), FF_OK);
    FF_CHECK(p && ff_part_get_info(p)->version == 1);
    FF_CHECK(p && ff_part_verify(p, NULL, &err) == FF_OK);
    ff_part_close(p);
    /* header and footer versions must agree */
    v1.data[foff + 8] = 2;
    reseal_footer(&v1);
    FF_CHECK_EQ(ff_part_open_mem(v1.data, v1.len, "v1", NULL, &p, &err), FF_ECORRUPT);
    FF_CHECK(strstr(err.msg, "footer version 2") != NULL);
    ff_buf_fini(&v1);
    ff_buf_fini(&out);
    ff_free(rows);
    ff_arena_reset(&g.rows_arena);
}

static void test_files(void)
{
    char path[512], tmp[520], nodir[512];
    snprintf(path, sizeof path, "%s/day-20776-0001.part", g.tmpdir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(nodir, sizeof nodir, "%s/missing/x.part", g.tmpdir);
    gen_opts go = {.day = TEST_DAY, .n_persons = 20};
    ff_row *rows = gen_rows(500, &go);
    ff_part_writer *w;
    ff_err err = {0};
    ff_part_writer_opts wo = {.block_rows = 128};
    FF_CHECK_EQ(ff_part_writer_new(&wo, &w, &err), FF_OK);
    for (int i = 0; i < 500; i++)
        FF_CHECK_EQ(ff_part_writer_add(w, &rows[i], &err), FF_OK);
    FF_CHECK_EQ(ff_part_writer_n_rows(w), 500);
    ff_part_info info;
    FF_CHECK_EQ(ff_part_writer_finish(w, path, &info, &err), FF_OK);
    ff_part_writer_free(w);
    struct stat st;
    FF_CHECK(stat(path, &st) == 0 && (uint64_t)st.st_size == info.file_bytes);
    FF_CHECK(stat(tmp, &st) != 0 && errno == ENOENT); /* no temp left */
    ff_part *p;
    FF_CHECK_EQ(ff_part_open(path, NULL, &p, &err), FF_OK);
    qsort(rows, 500, sizeof *rows, row_cmp_q);
    FF_CHECK_EQ(compare_part(p, rows, 500), 0);
    FF_CHECK_EQ(ff_part_verify(p, NULL, &err), FF_OK);
    /* a second part under the same name is refused; the first stays intact */
    FF_CHECK_EQ(ff_part_writer_new(&wo, &w, &err), FF_OK);
    FF_CHECK_EQ(ff_part_writer_add(w, &rows[0], &err), FF_OK);
    FF_CHECK_EQ(ff_part_writer_finish(w, path, NULL, &err), FF_EEXIST);
    /* nothing was written: the writer still takes rows and finishes under another name */
    FF_CHECK_EQ(ff_part_writer_add(w, &rows[1], &err), FF_OK);
    char path2[520];
    snprintf(path2, sizeof path2, "%s/day-20776-0002.part", g.tmpdir);
    FF_CHECK_EQ(ff_part_writer_finish(w, path2, &info, &err), FF_OK);
    FF_CHECK_EQ(info.n_rows, 2);
    FF_CHECK_EQ(ff_part_writer_add(w, &rows[0], &err), FF_EINVAL); /* done */
    ff_part_writer_free(w);
    unlink(path2);
    FF_CHECK_EQ(compare_part(p, rows, 500), 0); /* the mapping is still the old file */
    ff_part_close(p);
    /* the same part renamed under the temp name's folder still opens; a missing folder fails */
    FF_CHECK_EQ(ff_part_writer_new(&wo, &w, &err), FF_OK);
    FF_CHECK_EQ(ff_part_writer_add(w, &rows[0], &err), FF_OK);
    ff_rc rc = ff_part_writer_finish(w, nodir, NULL, &err);
    FF_CHECK(rc == FF_ENOTFOUND || rc == FF_EIO);
    ff_part_writer_free(w);
    FF_CHECK_EQ(ff_part_open(nodir, NULL, &p, &err), FF_ENOTFOUND);
    FF_CHECK_EQ(ff_part_open(g.tmpdir, NULL, &p, &err), FF_ECORRUPT); /* a folder */
    /* a file cut short (a crash without the atomic rename would leave one) */
    char cut[520];
    snprintf(cut, sizeof cut, "%s/cut.part", g.tmpdir);
    FILE *in = fopen(path, "rb"), *o = fopen(cut, "wb");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, in);
    fwrite(buf, 1, n, o);
    fclose(in);
    fclose(o);
    FF_CHECK_EQ(ff_part_open(cut, NULL, &p, &err), FF_ECORRUPT);
    FF_CHECK(strstr(err.msg, "cut.part") != NULL);
    unlink(cut);
    unlink(path);
    ff_free(rows);
    ff_arena_reset(&g.rows_arena);
}

static void test_writer_limits(void)
{
    ff_part_writer *w;
    ff_err err = {0};
    ff_part_writer_opts bad = {.block_rows = FF_PART_MAX_BLOCK_ROWS + 1};
    FF_CHECK_EQ(ff_part_writer_new(&bad, &w, &err), FF_EINVAL);
    ff_part_writer_opts lvl = {.zstd_level = 30};
    FF_CHECK_EQ(ff_part_writer_new(&lvl, &w, &err), FF_EINVAL);
    ff_part_writer_opts range = {.has_log_range = true, .log_first = 5, .log_last = 4};
    FF_CHECK_EQ(ff_part_writer_new(&range, &w, &err), FF_EINVAL);

    ff_part_writer_opts o = {.max_rows = 3,
                             .max_bytes = 100,
                             .has_partition_day = true,
                             .partition_day = TEST_DAY,
                             .has_log_range = true,
                             .log_first = 10,
                             .log_last = 20};
    FF_CHECK_EQ(ff_part_writer_new(&o, &w, &err), FF_OK);
    ff_row r;
    ff_row_clear(&r);
    r.num[FF_COL_TS] = TEST_DAY * DAY_MS;
    r.num[FF_COL_LOG_OFFSET] = 10;
    FF_CHECK_EQ(ff_part_writer_add(w, &r, &err), FF_OK);
    r.num[FF_COL_TS] = TEST_DAY * DAY_MS - 1; /* the day before */
    FF_CHECK_EQ(ff_part_writer_add(w, &r, &err), FF_EINVAL);
    r.num[FF_COL_TS] = (TEST_DAY + 1) * DAY_MS; /* the day after */
    FF_CHECK_EQ(ff_part_writer_add(w, &r, &err), FF_EINVAL);
    r.num[FF_COL_TS] = (TEST_DAY + 1) * DAY_MS - 1;
    r.num[FF_COL_LOG_OFFSET] = 21;
    FF_CHECK_EQ(ff_part_writer_add(w, &r, &err), FF_EINVAL);
    r.num[FF_COL_LOG_OFFSET] = 20;
    static char big[101];
    r.str[FF_COL_PROPERTIES] = (ff_str){big, 101};
    FF_CHECK_EQ(ff_part_writer_add(w, &r, &err), FF_ELIMIT);
    r.str[FF_COL_PROPERTIES] = (ff_str){big, 100};
    FF_CHECK_EQ(ff_part_writer_add(w, &r, &err), FF_OK);
    r.str[FF_COL_PROPERTIES] = (ff_str){"", 0};
    FF_CHECK_EQ(ff_part_writer_add(w, &r, &err), FF_OK);
    FF_CHECK_EQ(ff_part_writer_add(w, &r, &err), FF_ELIMIT); /* max_rows */
    FF_CHECK_EQ(ff_part_writer_n_rows(w), 3);
    ff_buf out;
    ff_buf_init(&out, 0);
    ff_part_info info;
    FF_CHECK_EQ(ff_part_writer_finish_mem(w, &out, &info, &err), FF_OK);
    FF_CHECK(info.log_first == 10 && info.log_last == 20 && info.partition_day == TEST_DAY);
    FF_CHECK_EQ(ff_part_writer_add(w, &r, &err), FF_EINVAL);
    ff_part_writer_free(w);
    /* an output buffer with a small maximum fails cleanly and is left as it was */
    ff_buf small;
    ff_buf_init(&small, 64);
    ff_buf_add(&small, "keep", 4);
    FF_CHECK_EQ(ff_part_writer_new(&o, &w, &err), FF_OK);
    FF_CHECK_EQ(ff_part_writer_add(w, &r, &err), FF_OK);
    FF_CHECK_EQ(ff_part_writer_finish_mem(w, &small, NULL, &err), FF_ELIMIT);
    FF_CHECK(small.len == 4 && memcmp(small.data, "keep", 4) == 0);
    ff_part_writer_free(w);
    ff_buf_fini(&small);
    ff_buf_fini(&out);
    ff_part_writer_free(NULL);
    ff_part_close(NULL);
    ff_part_ctx_free(NULL);
}

/* ---- concurrent readers ------------------------------------------------------------------ */

typedef struct reader_job {
    const ff_part *p;
    int reverse;
    uint64_t sum;
    int errors;
} reader_job;

static uint64_t block_digest(const ff_block *b)
{
    uint64_t h = b->block;
    for (int c = 0; c < FF_COL_COUNT; c++)
        for (uint32_t i = 0; i < b->n_rows; i++) {
            const ff_colvec *v = &b->col[c];
            if (v->kind == FF_VEC_I64) {
                h = h * 31 + (uint64_t)v->i64[i] + ff_colvec_is_null(v, i);
            } else {
                uint32_t l;
                const char *s = ff_colvec_str(v, i, &l);
                h = h * 31 + XXH3_64bits(s, l);
            }
        }
    return h;
}

static void *reader_main(void *arg)
{
    reader_job *j = arg;
    ff_part_ctx *ctx;
    if (ff_part_ctx_new(&ctx, NULL) != FF_OK) {
        j->errors++;
        return NULL;
    }
    ff_arena a;
    ff_arena_init(&a, 1 << 20, 0);
    uint32_t nb = ff_part_get_info(j->p)->n_blocks;
    for (int round = 0; round < 3; round++)
        for (uint32_t k = 0; k < nb; k++) {
            uint32_t b = j->reverse ? nb - 1 - k : k;
            ff_block blk;
            ff_arena_reset(&a);
            if (ff_part_read(j->p, ctx, b, FF_COLSET_ALL, &a, &blk, NULL) != FF_OK) {
                j->errors++;
                continue;
            }
            j->sum += block_digest(&blk);
        }
    ff_arena_fini(&a);
    ff_part_ctx_free(ctx);
    return NULL;
}

static void test_threads(void)
{
    gen_opts go = {.day = TEST_DAY, .n_persons = 100};
    ff_part_writer_opts wo = {.block_rows = 256};
    ff_row *rows = gen_rows(5000, &go);
    ff_buf out;
    ff_buf_init(&out, 0);
    FF_CHECK_EQ(write_mem(rows, 5000, &wo, &out, NULL, NULL), FF_OK);
    ff_part *p;
    FF_CHECK_EQ(ff_part_open_mem(out.data, out.len, "mt", NULL, &p, NULL), FF_OK);
    reader_job solo = {p, 0, 0, 0};
    reader_main(&solo);
    reader_job jobs[3] = {{p, 0, 0, 0}, {p, 1, 0, 0}, {p, 0, 0, 0}};
    pthread_t th[3];
    for (int k = 0; k < 3; k++)
        FF_CHECK_EQ(pthread_create(&th[k], NULL, reader_main, &jobs[k]), 0);
    for (int k = 0; k < 3; k++)
        pthread_join(th[k], NULL);
    for (int k = 0; k < 3; k++) {
        FF_CHECK_EQ(jobs[k].errors, 0);
        FF_CHECK(jobs[k].sum == solo.sum);
    }
    FF_CHECK(solo.sum != 0);
    ff_part_close(p);
    ff_buf_fini(&out);
    ff_free(rows);
    ff_arena_reset(&g.rows_arena);
}

/* ---- allocation failures ----------------------------------------------------------------- */

static void test_alloc_failures(void)
{
    gen_opts go = {.day = TEST_DAY, .n_persons = 10};
    ff_part_writer_opts wo = {.block_rows = 64};
    ff_row *rows = gen_rows(150, &go);
    int clean = 0, other = 0;
    long k;
    for (k = 1; k < 5000; k++) {
        ff_buf out;
        ff_buf_init(&out, 0);
        ff_arena a;
        ff_arena_init(&a, 4096, 0);
        ff_mem_fail_after(k);
        ff_rc rc = write_mem(rows, 150, &wo, &out, NULL, NULL);
        ff_part *p = NULL;
        if (rc == FF_OK)
            rc = ff_part_open_mem(out.data, out.len, "oom", NULL, &p, NULL);
        for (uint32_t b = 0; rc == FF_OK && b < ff_part_get_info(p)->n_blocks; b++) {
            ff_block blk;
            rc = ff_part_read(p, NULL, b, FF_COLSET_ALL, &a, &blk, NULL);
        }
        ff_mem_fail_after(0);
        ff_part_close(p);
        ff_arena_fini(&a);
        ff_buf_fini(&out);
        if (rc == FF_OK)
            break; /* the countdown outlived the whole run */
        if (rc == FF_ENOMEM || rc == FF_ELIMIT)
            clean++;
        else
            other++;
    }
    FF_CHECK(k < 5000);
    FF_CHECK(clean > 50);
    FF_CHECK_EQ(other, 0);
    ff_free(rows);
    ff_arena_reset(&g.rows_arena);
}

/* ---- canonical records and Taobao ------------------------------------------------------- */

static const char *records[] = {
    "{\"v\":1,\"event_id\":\"sim-1\",\"type\":\"page\",\"event\":\"page_viewed\","
    "\"ts\":1795379049607,\"received_at\":1795379049638,\"sent_at\":1795379049628,"
    "\"anonymous_id\":\"04372d41-b9e3-49fe-a27e-21775ffd843e\",\"url\":\"https://"
    "shop.example.com/p/ultralight-jeans-241\",\"referrer\":\"https://www.google.com/"
    "\",\"device\":\"mobile\",\"browser\":\"Chrome\",\"os\":\"Android\",\"ip\":\"203.0.113.0\","
    "\"properties\":{\"path\":\"/p/ultralight-jeans-241\",\"name\":\"Product\"},\"context\":{"
    "\"locale\":\"en-US\"}}",
    "{\"v\":1,\"event_id\":\"sim-2\",\"type\":\"track\",\"event\":\"product_shared\","
    "\"event_original\":\"Product Shared\",\"ts\":1795379049767,\"received_at\":1795379049782,"
    "\"anonymous_id\":\"d4a46b0c\",\"product_id\":\"prod-00012\",\"category\":\"Apparel\","
    "\"price\":\"76.99\",\"properties\":{\"share_via\":\"copy_link\"},\"flags\":[\"no_"
    "currency\"]}",
    "{\"v\":1,\"event_id\":\"sim-3\",\"type\":\"track\",\"event\":\"order_completed\","
    "\"ts\":1795379049885,\"received_at\":1795379049887,\"user_id\":\"user-000038\","
    "\"order_id\":\"ord-1\",\"revenue\":\"57.99\",\"currency\":\"EUR\",\"quantity\":2}",
    "{\"v\":1,\"event_id\":\"sim-4\",\"type\":\"identify\",\"event\":\"identify\","
    "\"ts\":1795379049778,\"received_at\":1795379049782,\"user_id\":\"user-000045\","
    "\"traits\":{\"plan\":\"member\"}}",
};

static void test_records(void)
{
    ff_row rows[4];
    ff_err err = {0};
    for (int i = 0; i < 4; i++)
        FF_CHECK_EQ(ff_row_from_record(records[i], strlen(records[i]), (uint64_t)i, &g.rows_arena,
                                       &rows[i], &err),
                    FF_OK);
    ff_buf out;
    ff_buf_init(&out, 0);
    FF_CHECK_EQ(write_mem(rows, 4, NULL, &out, NULL, &err), FF_OK);
    ff_part *p;
    FF_CHECK_EQ(ff_part_open_mem(out.data, out.len, "rec", NULL, &p, &err), FF_OK);
    qsort(rows, 4, sizeof *rows, row_cmp_q);
    FF_CHECK_EQ(compare_part(p, rows, 4), 0);
    ff_block blk;
    FF_CHECK_EQ(ff_part_read(p, NULL, 0, FF_COLSET_ALL, &g.read_arena, &blk, &err), FF_OK);
    /* sorted by person: anon "04372d41...", anon "d4a46b0c", user-000038, user-000045 */
    ff_row r;
    ff_block_row(&blk, 0, &r);
    FF_CHECK(r.str[FF_COL_EVENT_ID].len == 5 && memcmp(r.str[FF_COL_EVENT_ID].p, "sim-1", 5) == 0);
    ff_block_row(&blk, 1, &r);
    FF_CHECK_EQ(r.num[FF_COL_PRICE], 769900);
    ff_block_row(&blk, 2, &r);
    FF_CHECK_EQ(r.num[FF_COL_REVENUE], 579900);
    FF_CHECK_EQ(r.num[FF_COL_QUANTITY], 2);
    FF_CHECK(r.null & FF_COLSET(FF_COL_PRICE));
    ff_block_row(&blk, 3, &r);
    const char *want_props = "{\"$traits\":{\"plan\":\"member\"}}";
    FF_CHECK(r.str[FF_COL_PROPERTIES].len == strlen(want_props) &&
             memcmp(r.str[FF_COL_PROPERTIES].p, want_props, strlen(want_props)) == 0);
    ff_part_close(p);
    ff_buf_fini(&out);
    ff_arena_reset(&g.rows_arena);
}

static void test_taobao(void)
{
    const char *path = FF_SHARED_DIR "/data/taobao-userbehavior-slice/UserBehavior_slice.csv";
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("SKIPPED: %s not found (test_taobao)\n", path);
        return;
    }
    ff_part_writer *w;
    ff_err err = {0};
    ff_part_writer_opts wo = {.has_partition_day = true, .partition_day = 17496};
    FF_CHECK_EQ(ff_part_writer_new(&wo, &w, &err), FF_OK);
    char line[256];
    uint64_t n = 0;
    long counts[4] = {0}; /* pv cart fav buy */
    ff_arena a;
    ff_arena_init(&a, 1 << 16, 0);
    while (fgets(line, sizeof line, f)) {
        ff_row r;
        ff_arena_reset(&a);
        if (ff_row_from_taobao(line, strlen(line), n, &a, &r, &err) != FF_OK ||
            ff_part_writer_add(w, &r, &err) != FF_OK) {
            fprintf(stderr, "line %llu: %s\n", (unsigned long long)n, err.msg);
            break;
        }
        counts[strstr(line, ",pv,")     ? 0
               : strstr(line, ",cart,") ? 1
               : strstr(line, ",fav,")  ? 2
                                        : 3]++;
        n++;
    }
    fclose(f);
    ff_arena_fini(&a);
    FF_CHECK_EQ(n, 96168);
    ff_buf out;
    ff_buf_init(&out, 0);
    ff_part_info info;
    FF_CHECK_EQ(ff_part_writer_finish_mem(w, &out, &info, &err), FF_OK);
    ff_part_writer_free(w);
    printf("taobao slice: %llu rows, %llu bytes, %.2f bytes/event\n", (unsigned long long)n,
           (unsigned long long)info.file_bytes, (double)info.file_bytes / (double)n);
    FF_CHECK(info.file_bytes < n * 40); /* a size bound, not a speed one: see bench_part */
    ff_part *p;
    FF_CHECK_EQ(ff_part_open_mem(out.data, out.len, "taobao", NULL, &p, &err), FF_OK);
    FF_CHECK_EQ(ff_part_verify(p, NULL, &err), FF_OK);
    FF_CHECK(ff_part_get_info(p)->min_ts == 1511658000000LL);
    FF_CHECK(ff_part_get_info(p)->max_ts == 1511664909000LL);
    FF_CHECK(ff_part_get_info(p)->log_first == 0 && ff_part_get_info(p)->log_last == 96167);
    /* count events by name from a two-column read */
    static const char *names[4] = {"product_viewed", "product_added", "product_added_to_wishlist",
                                   "order_completed"};
    long got[4] = {0};
    for (uint32_t b = 0; b < ff_part_get_info(p)->n_blocks; b++) {
        ff_block blk;
        ff_arena_reset(&g.read_arena);
        FF_CHECK_EQ(ff_part_read(p, NULL, b, FF_COLSET(FF_COL_EVENT) | FF_COLSET(FF_COL_USER_ID),
                                 &g.read_arena, &blk, &err),
                    FF_OK);
        for (uint32_t i = 0; i < blk.n_rows; i++) {
            uint32_t l;
            const char *s = ff_colvec_str(&blk.col[FF_COL_EVENT], i, &l);
            for (int k = 0; k < 4; k++)
                got[k] += l == strlen(names[k]) && memcmp(s, names[k], l) == 0;
        }
    }
    for (int k = 0; k < 4; k++)
        FF_CHECK_EQ(got[k], counts[k]);
    ff_part_close(p);
    ff_buf_fini(&out);
}

/* ---- fuzz seeds -------------------------------------------------------------------------- */

static int write_seed(const char *dir, const char *name, uint8_t mode, const void *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return 1;
    fputc(mode, f);
    fwrite(p, 1, n, f);
    return fclose(f) != 0;
}

static int write_seeds(const char *dir)
{
    int rc = 0;
    struct {
        const char *name;
        uint32_t n, block_rows;
        gen_opts go;
        uint32_t enc;
        int level;
    } specs[] = {
        {"one_row", 1, 0, {.day = TEST_DAY, .n_persons = 1}, 0, 0},
        {"three_blocks", 40, 16, {.day = TEST_DAY, .n_persons = 4}, 0, 0},
        {"plain_nozstd",
         20,
         8,
         {.day = TEST_DAY, .n_persons = 3},
         FF_ENC_BIT(FF_ENC_I64_PLAIN) | FF_ENC_BIT(FF_ENC_STR_PLAIN),
         -1},
        {"for_dict",
         20,
         8,
         {.day = TEST_DAY, .n_persons = 3},
         FF_ENC_BIT(FF_ENC_I64_FOR) | FF_ENC_BIT(FF_ENC_STR_DICT),
         -1},
        {"delta",
         20,
         8,
         {.day = TEST_DAY, .n_persons = 3},
         FF_ENC_BIT(FF_ENC_I64_DELTA_VARINT) | FF_ENC_BIT(FF_ENC_STR_DICT),
         0},
        {"dfor",
         20,
         8,
         {.day = TEST_DAY, .n_persons = 3},
         FF_ENC_BIT(FF_ENC_I64_DELTA_FOR) | FF_ENC_BIT(FF_ENC_STR_PLAIN),
         0},
        {"extremes", 12, 5, {.day = TEST_DAY, .n_persons = 2, .extremes = true}, 0, -1},
        {"all_null",
         9,
         4,
         {.day = TEST_DAY, .n_persons = 1, .all_null = true, .all_empty = true},
         0,
         -1},
        {"zstd_big", 300, 150, {.day = TEST_DAY, .n_persons = 9}, 0, 3},
    };
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        ff_row *rows = gen_rows(specs[k].n, &specs[k].go);
        ff_part_writer_opts wo = {.block_rows = specs[k].block_rows,
                                  .enc_allowed = specs[k].enc,
                                  .zstd_level = specs[k].level,
                                  .created_ms = 1};
        ff_buf out;
        ff_buf_init(&out, 0);
        if (write_mem(rows, specs[k].n, &wo, &out, NULL, NULL) != FF_OK)
            rc = 1;
        char name[128];
        snprintf(name, sizeof name, "part_%s", specs[k].name);
        rc |= write_seed(dir, name, 0, out.data, out.len);
        snprintf(name, sizeof name, "nosum_%s", specs[k].name);
        rc |= write_seed(dir, name, 1, out.data, out.len);
        ff_buf_fini(&out);
        ff_free(rows);
    }
    /* Taobao-style rows (UUIDv7 event ids, second-precision times) and canonical records */
    {
        ff_row tb[40];
        char line[96];
        for (int i = 0; i < 40; i++) {
            snprintf(line, sizeof line, "%d,%d,%d,%s,%d", 1000 + i % 7, 5000 + i % 11, 77 + i % 3,
                     i % 5 ? "pv" : "buy", 1511658000 + i * 13);
            FF_VERIFY(ff_row_from_taobao(line, strlen(line), (uint64_t)i, &g.rows_arena, &tb[i],
                                         NULL) == FF_OK);
        }
        ff_part_writer_opts to = {.block_rows = 16, .created_ms = 1};
        ff_buf tout;
        ff_buf_init(&tout, 0);
        if (write_mem(tb, 40, &to, &tout, NULL, NULL) != FF_OK)
            rc = 1;
        rc |= write_seed(dir, "part_taobao", 0, tout.data, tout.len);
        rc |= write_seed(dir, "nosum_taobao", 1, tout.data, tout.len);
        ff_row rr[4];
        for (int i = 0; i < 4; i++)
            FF_VERIFY(ff_row_from_record(records[i], strlen(records[i]), (uint64_t)i, &g.rows_arena,
                                         &rr[i], NULL) == FF_OK);
        ff_buf_reset(&tout);
        if (write_mem(rr, 4, &to, &tout, NULL, NULL) != FF_OK)
            rc = 1;
        rc |= write_seed(dir, "part_records", 0, tout.data, tout.len);
        rc |= write_seed(dir, "nosum_records", 1, tout.data, tout.len);
        ff_buf_fini(&tout);
    }
    /* empty part */
    ff_part_writer *w;
    ff_part_writer_opts eo = {
        .has_log_range = true, .log_first = 1, .log_last = 2, .created_ms = 1};
    ff_buf out;
    ff_buf_init(&out, 0);
    ff_part_writer_new(&eo, &w, NULL);
    if (ff_part_writer_finish_mem(w, &out, NULL, NULL) != FF_OK)
        rc = 1;
    ff_part_writer_free(w);
    rc |= write_seed(dir, "part_empty", 0, out.data, out.len);
    /* raw chunk seeds: [type][nullable][enc][n_rows u16][n_null u16] + bytes */
    ff_buf_reset(&out);
    ff_enc_ctx *c;
    ff_enc_ctx_new(&c, NULL);
    ff_str sv[6] = {{"b", 1}, {"a", 1}, {"", 0}, {"b", 1}, {"ccc", 3}, {"a", 1}};
    ff_chunk_in in = {FF_TYPE_STRING, false, 6, NULL, NULL, sv};
    ff_enc_prepare(c, &in, NULL);
    const ff_enc sencs[2] = {FF_ENC_STR_DICT, FF_ENC_STR_PLAIN};
    for (int k = 0; k < 2; k++) {
        uint8_t h[7] = {FF_TYPE_STRING, 0, (uint8_t)sencs[k], 6, 0, 0, 0};
        ff_buf_reset(&out);
        ff_buf_add(&out, h, 7);
        ff_enc_encode(c, sencs[k], &out, NULL);
        char name[64];
        snprintf(name, sizeof name, "chunk_%s", ff_enc_name(sencs[k]));
        rc |= write_seed(dir, name, 2, out.data, out.len);
    }
    int64_t iv[10] = {5, 9, INT64_MIN, 7, 7, 7, INT64_MAX, 0, 1, 2};
    uint8_t nulls[2] = {0x05, 0};
    ff_chunk_in ii = {FF_TYPE_INT64, true, 10, iv, nulls, NULL};
    ff_enc_prepare(c, &ii, NULL);
    const ff_enc iencs[4] = {FF_ENC_I64_PLAIN, FF_ENC_I64_FOR, FF_ENC_I64_DELTA_VARINT,
                             FF_ENC_I64_DELTA_FOR};
    for (int k = 0; k < 4; k++) {
        uint8_t h[7] = {FF_TYPE_INT64, 1, (uint8_t)iencs[k], 10, 0, 2, 0};
        ff_buf_reset(&out);
        ff_buf_add(&out, h, 7);
        ff_enc_encode(c, iencs[k], &out, NULL);
        char name[64];
        snprintf(name, sizeof name, "chunk_%s", ff_enc_name(iencs[k]));
        rc |= write_seed(dir, name, 2, out.data, out.len);
    }
    ff_enc_ctx_free(c);
    /* round-trip seeds: raw bytes become int64 values / strings */
    const char rt[] = "\x01\x02\x03\x04\x05\x06\x07\x08\xff\xff\xff\xff\xff\xff\xff\x7f"
                      "\x00\x00\x00\x00\x00\x00\x00\x80hello,world,,a,b,a";
    rc |= write_seed(dir, "roundtrip_mixed", 3, rt, sizeof rt - 1);
    ff_buf_fini(&out);
    return rc;
}

int main(int argc, char **argv)
{
    g.rng = 0x2545F4914F6CDD1Dull;
    ff_arena_init(&g.rows_arena, 1 << 20, 0);
    ff_arena_init(&g.read_arena, 1 << 20, 0);
    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) {
        int rc = write_seeds(argv[2]);
        ff_arena_fini(&g.rows_arena);
        ff_arena_fini(&g.read_arena);
        return rc;
    }
    snprintf(g.tmpdir, sizeof g.tmpdir, "/tmp/ff_test_part.XXXXXX");
    if (!mkdtemp(g.tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    FF_RUN(test_roundtrip);
    FF_RUN(test_writer_reset);
    FF_RUN(test_boundaries);
    FF_RUN(test_empty_part);
    FF_RUN(test_forced_encodings);
    FF_RUN(test_column_subset);
    FF_RUN(test_corruption_sweep);
    FF_RUN(test_verify_detects);
    FF_RUN(test_checksum_once);
    FF_RUN(test_files);
    FF_RUN(test_writer_limits);
    FF_RUN(test_threads);
    FF_RUN(test_alloc_failures);
    FF_RUN(test_records);
    FF_RUN(test_taobao);
    rmdir(g.tmpdir);
    ff_part_ctx_free(g.sweep_ctx);
    ff_arena_fini(&g.rows_arena);
    ff_arena_fini(&g.read_arena);
    FF_DONE();
}
