/* ff_part.c -- part writer (sort, encode, compress, atomic publish) and reader (map, check,
 * decode on demand). The byte layout is in docs/formats/part.md; keep both in step. */
#include "store/ff_part.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lz4.h>
#include <zstd.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/ff_clock.h"
#include "core/ff_mem.h"

/* ---- on-disk constants ------------------------------------------------------------------- */

#define HEADER_BYTES 16
#define TRAILER_BYTES 32
#define FOOTER_FIXED_BYTES 88
#define ENTRY_BYTES 48
#define MS_PER_DAY 86400000

static const char header_magic[8] = {'F', 'F', 'S', 'T', 'P', 'A', 'R', 'T'};
static const char footer_magic[8] = {'F', 'F', 'S', 'T', 'F', 'O', 'O', 'T'};
static const char trailer_magic[8] = {'F', 'F', 'S', 'T', 'T', 'A', 'I', 'L'};

enum { CODEC_NONE = 0, CODEC_ZSTD = 1, CODEC_LZ4 = 2 };
enum { Z_HAS_MINMAX = 1, Z_MIN_TRUNC = 2, Z_MAX_TRUNC = 4, Z_ALL = 7 };

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int k = 0; k < 4; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int k = 0; k < 8; k++)
        p[k] = (uint8_t)(v >> (8 * k));
}

static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int k = 0; k < 4; k++)
        v |= (uint32_t)p[k] << (8 * k);
    return v;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int k = 0; k < 8; k++)
        v |= (uint64_t)p[k] << (8 * k);
    return v;
}

static int64_t day_of(int64_t ts_ms)
{
    int64_t d = ts_ms / MS_PER_DAY;
    return (ts_ms % MS_PER_DAY < 0) ? d - 1 : d;
}

/* A parsed directory entry. */
typedef struct pent {
    uint64_t off;
    uint32_t stored, raw;
    uint64_t sum;
    uint32_t n_null;
    uint8_t enc, codec, zflags;
    int64_t min, max;
} pent;

static void entry_write(uint8_t *p, const pent *e)
{
    put_u64(p, e->off);
    put_u32(p + 8, e->stored);
    put_u32(p + 12, e->raw);
    put_u64(p + 16, e->sum);
    put_u32(p + 24, e->n_null);
    p[28] = e->enc;
    p[29] = e->codec;
    p[30] = e->zflags;
    p[31] = 0;
    put_u64(p + 32, (uint64_t)e->min);
    put_u64(p + 40, (uint64_t)e->max);
}

static void entry_read(const uint8_t *p, pent *e)
{
    e->off = get_u64(p);
    e->stored = get_u32(p + 8);
    e->raw = get_u32(p + 12);
    e->sum = get_u64(p + 16);
    e->n_null = get_u32(p + 24);
    e->enc = p[28];
    e->codec = p[29];
    e->zflags = p[30];
    e->min = (int64_t)get_u64(p + 32);
    e->max = (int64_t)get_u64(p + 40);
}

/* ======================================================================================== */
/* writer                                                                                    */
/* ======================================================================================== */

typedef struct wcol {
    int64_t *num;
    uint8_t *isnull; /* nullable numeric: 1 = NULL */
    uint32_t *off;   /* string: n + 1 offsets */
    char *bytes;
    uint64_t n_bytes, cap_bytes;
} wcol;

typedef enum wstate { W_ADDING, W_DONE, W_FAILED } wstate;

typedef struct wfin wfin; /* finish's working memory (below) */
static void wfin_free(wfin *f);

struct ff_part_writer {
    ff_part_writer_opts o;
    wstate state;
    uint64_t n, cap;
    uint64_t total_bytes;
    wcol col[FF_COL_COUNT];
    uint64_t off_min, off_max;
    wfin *fin; /* NULL until the first finish; kept by reset */
};

/* Fill in defaults and check opts. */
static ff_rc writer_opts(const ff_part_writer_opts *opts, ff_part_writer_opts *out, ff_err *err)
{
    ff_part_writer_opts o = opts ? *opts : (ff_part_writer_opts){0};
    if (o.block_rows == 0)
        o.block_rows = FF_PART_BLOCK_ROWS;
    if (o.block_rows > FF_PART_MAX_BLOCK_ROWS)
        return FF_ERR_SET(err, FF_EINVAL, "part writer: block_rows %u over %u", o.block_rows,
                          FF_PART_MAX_BLOCK_ROWS);
    if (o.zstd_level == 0)
        o.zstd_level = 3;
    if (o.zstd_level > 19 || o.zstd_level < -1)
        return FF_ERR_SET(err, FF_EINVAL, "part writer: zstd level %d not in -1, 1..19",
                          o.zstd_level);
    if (o.max_rows == 0)
        o.max_rows = 16u * 1024 * 1024;
    if (o.max_rows > (1u << 31)) /* row numbers and the sort use 32 bits */
        o.max_rows = 1u << 31;
    if (o.max_bytes == 0)
        o.max_bytes = 2ull * 1024 * 1024 * 1024;
    if (o.enc_allowed == 0)
        o.enc_allowed = FF_ENC_ANY;
    if (o.version == 0)
        o.version = FF_PART_VERSION;
    if (o.version < 2 || o.version > FF_PART_VERSION)
        return FF_ERR_SET(err, FF_EINVAL, "part writer: format version %u not in 2..%d", o.version,
                          FF_PART_VERSION);
    if (o.version < 3) /* what version 2 readers know */
        o.enc_allowed &= ~(FF_ENC_BIT(FF_ENC_STR_POSTINGS) | FF_ENC_BIT(FF_ENC_STR_DICT_SPARSE));
    if (o.has_log_range && o.log_first > o.log_last)
        return FF_ERR_SET(err, FF_EINVAL, "part writer: log range %" PRIu64 "..%" PRIu64,
                          o.log_first, o.log_last);
    if (o.created_ms == 0)
        o.created_ms = ff_clock_now_ms();
    *out = o;
    return FF_OK;
}

ff_rc ff_part_writer_new(const ff_part_writer_opts *opts, ff_part_writer **out, ff_err *err)
{
    *out = NULL;
    ff_part_writer_opts o;
    ff_rc rc = writer_opts(opts, &o, err);
    if (rc)
        return rc;
    ff_part_writer *w = ff_calloc(1, sizeof *w);
    if (!w)
        return FF_ERR_SET(err, FF_ENOMEM, "part writer: out of memory");
    w->o = o;
    w->off_min = UINT64_MAX;
    *out = w;
    return FF_OK;
}

void ff_part_writer_free(ff_part_writer *w)
{
    if (!w)
        return;
    for (int c = 0; c < FF_COL_COUNT; c++) {
        ff_free(w->col[c].num);
        ff_free(w->col[c].isnull);
        ff_free(w->col[c].off);
        ff_free(w->col[c].bytes);
    }
    wfin_free(w->fin);
    ff_free(w);
}

static ff_rc resize_rows(ff_part_writer *w, uint64_t cap);

/* Capacity kept across a reset is trimmed when it is over RESET_SLACK times what the last
 * part needed and over the floor below, so a burst does not pin its peak memory forever. */
#define RESET_SLACK 4
#define RESET_KEEP_BYTES (64u << 20)
#define RESET_KEEP_ROWS (256u * 1024)

ff_rc ff_part_writer_reset(ff_part_writer *w, const ff_part_writer_opts *opts, ff_err *err)
{
    ff_part_writer_opts o;
    ff_rc rc = writer_opts(opts, &o, err);
    if (rc)
        return rc;
    for (int c = 0; c < FF_COL_COUNT; c++) {
        wcol *k = &w->col[c];
        if (k->bytes && k->cap_bytes > RESET_KEEP_BYTES &&
            k->cap_bytes / RESET_SLACK > k->n_bytes) {
            uint64_t cap = k->n_bytes * 2 > 4096 ? k->n_bytes * 2 : 4096;
            char *p = ff_realloc(k->bytes, (size_t)cap);
            if (p) { /* a failed shrink keeps the larger buffer: still valid */
                k->bytes = p;
                k->cap_bytes = cap;
            }
        }
        k->n_bytes = 0;
    }
    if (w->cap > RESET_KEEP_ROWS && w->cap / RESET_SLACK > w->n)
        resize_rows(w, w->n * 2 > 1024 ? w->n * 2 : 1024); /* shrinking: cannot lose rows */
    w->o = o;
    w->state = W_ADDING;
    w->n = 0;
    w->total_bytes = 0;
    w->off_min = UINT64_MAX;
    w->off_max = 0;
    return FF_OK;
}

uint64_t ff_part_writer_n_rows(const ff_part_writer *w)
{
    return w->n;
}

static ff_rc grow_bytes(wcol *k, uint64_t need)
{
    if (need <= k->cap_bytes)
        return FF_OK;
    uint64_t cap = k->cap_bytes ? k->cap_bytes : 4096;
    while (cap < need)
        cap *= 2;
    if (cap > UINT32_MAX)
        cap = UINT32_MAX;
    char *p = ff_realloc(k->bytes, (size_t)cap);
    if (!p)
        return FF_ENOMEM;
    k->bytes = p;
    k->cap_bytes = cap;
    return FF_OK;
}

/* Reallocate every column's per-row arrays to cap rows (more or fewer). On failure the
 * arrays already resized keep at least min(old, new) rows, which is what w->cap then says. */
static ff_rc resize_rows(ff_part_writer *w, uint64_t cap)
{
    if (cap < w->cap)
        w->cap = cap;
    for (int c = 0; c < FF_COL_COUNT; c++) {
        const ff_col_def *d = ff_schema_col((ff_col)c);
        wcol *k = &w->col[c];
        if (ff_type_is_str(d->type)) {
            uint32_t *p = ff_realloc(k->off, (size_t)(cap + 1) * sizeof *p);
            if (!p)
                return FF_ENOMEM;
            if (!k->off)
                p[0] = 0;
            k->off = p;
            if (!k->bytes && grow_bytes(k, 1) != FF_OK) /* never NULL, even when all '' */
                return FF_ENOMEM;
        } else {
            int64_t *p = ff_realloc(k->num, (size_t)cap * sizeof *p);
            if (!p)
                return FF_ENOMEM;
            k->num = p;
            if (d->nullable) {
                uint8_t *q = ff_realloc(k->isnull, (size_t)cap);
                if (!q)
                    return FF_ENOMEM;
                k->isnull = q;
            }
        }
    }
    w->cap = cap;
    return FF_OK;
}

static ff_rc grow_rows(ff_part_writer *w)
{
    uint64_t cap = w->cap ? w->cap * 2 : 1024;
    if (cap > w->o.max_rows)
        cap = w->o.max_rows;
    return resize_rows(w, cap);
}

ff_rc ff_part_writer_add(ff_part_writer *w, const ff_row *row, ff_err *err)
{
    if (w->state != W_ADDING)
        return FF_ERR_SET(err, w->state == W_FAILED ? FF_EFAILED : FF_EINVAL,
                          "part writer: add after finish");
    if (w->n >= w->o.max_rows)
        return FF_ERR_SET(err, FF_ELIMIT, "part writer: more than %" PRIu64 " rows", w->o.max_rows);
    int64_t ts = row->num[FF_COL_TS];
    if (w->o.has_partition_day && day_of(ts) != w->o.partition_day)
        return FF_ERR_SET(err, FF_EINVAL,
                          "part writer: ts %" PRId64 " is not on partition day %" PRId32, ts,
                          w->o.partition_day);
    uint64_t lo = (uint64_t)row->num[FF_COL_LOG_OFFSET];
    if (w->o.has_log_range && (lo < w->o.log_first || lo > w->o.log_last))
        return FF_ERR_SET(err, FF_EINVAL,
                          "part writer: log offset %" PRIu64 " outside %" PRIu64 "..%" PRIu64, lo,
                          w->o.log_first, w->o.log_last);
    uint64_t add = 0;
    for (int c = 0; c < FF_COL_COUNT; c++) {
        if (!ff_type_is_str(ff_schema_col((ff_col)c)->type))
            continue;
        add += row->str[c].len;
        if (w->col[c].n_bytes + row->str[c].len >= UINT32_MAX)
            return FF_ERR_SET(err, FF_ELIMIT, "part writer: column %s over 4 GiB",
                              ff_schema_col((ff_col)c)->name);
    }
    if (w->total_bytes + add > w->o.max_bytes)
        return FF_ERR_SET(err, FF_ELIMIT, "part writer: more than %" PRIu64 " string bytes",
                          w->o.max_bytes);
    if (w->n == w->cap && grow_rows(w) != FF_OK)
        return FF_ERR_SET(err, FF_ENOMEM, "part writer: out of memory at %" PRIu64 " rows", w->n);
    for (int c = 0; c < FF_COL_COUNT; c++) {
        wcol *k = &w->col[c];
        if (ff_type_is_str(ff_schema_col((ff_col)c)->type) &&
            grow_bytes(k, k->n_bytes + row->str[c].len) != FF_OK)
            return FF_ERR_SET(err, FF_ENOMEM, "part writer: out of memory");
    }
    /* Nothing fails past this point: the row goes in whole or not at all. */
    uint64_t i = w->n;
    for (int c = 0; c < FF_COL_COUNT; c++) {
        const ff_col_def *d = ff_schema_col((ff_col)c);
        wcol *k = &w->col[c];
        if (ff_type_is_str(d->type)) {
            if (row->str[c].len)
                memcpy(k->bytes + k->n_bytes, row->str[c].p, row->str[c].len);
            k->n_bytes += row->str[c].len;
            k->off[i + 1] = (uint32_t)k->n_bytes;
        } else {
            bool is_null = d->nullable && (row->null & FF_COLSET(c));
            k->num[i] = is_null ? 0 : row->num[c];
            if (d->nullable)
                k->isnull[i] = is_null;
        }
    }
    w->total_bytes += add;
    if (lo < w->off_min)
        w->off_min = lo;
    if (lo > w->off_max)
        w->off_max = lo;
    w->n++;
    return FF_OK;
}

/* ---- sorting ----------------------------------------------------------------------------- */

typedef struct sortctx {
    const ff_part_writer *w;
    const uint64_t *pkey; /* first 8 bytes of the person, big-endian, zero-padded */
} sortctx;

static ff_str person_of(const ff_part_writer *w, uint32_t r)
{
    const wcol *u = &w->col[FF_COL_USER_ID];
    uint32_t ul = u->off[r + 1] - u->off[r];
    if (ul)
        return (ff_str){u->bytes + u->off[r], ul};
    const wcol *a = &w->col[FF_COL_ANONYMOUS_ID];
    return (ff_str){a->bytes + a->off[r], a->off[r + 1] - a->off[r]};
}

static int row_cmp(const sortctx *s, uint32_t a, uint32_t b)
{
    if (s->pkey[a] != s->pkey[b])
        return s->pkey[a] < s->pkey[b] ? -1 : 1;
    ff_str pa = person_of(s->w, a), pb = person_of(s->w, b);
    int c = ff_str_cmp(pa.p, pa.len, pb.p, pb.len);
    if (c)
        return c;
    const int64_t *ts = s->w->col[FF_COL_TS].num;
    if (ts[a] != ts[b])
        return ts[a] < ts[b] ? -1 : 1;
    const int64_t *lo = s->w->col[FF_COL_LOG_OFFSET].num;
    uint64_t x = (uint64_t)lo[a], y = (uint64_t)lo[b];
    return x < y ? -1 : x > y;
}

/* Stable merge sort of perm[0..n): insertion-sorted runs of 32, then bottom-up merges. */
static uint32_t *sort_perm(const sortctx *s, uint32_t *a, uint32_t *tmp, uint32_t n)
{
    const uint32_t run = 32;
    for (uint32_t lo = 0; lo < n; lo += run) {
        uint32_t hi = lo + run < n ? lo + run : n;
        for (uint32_t i = lo + 1; i < hi; i++) {
            uint32_t x = a[i], j = i;
            while (j > lo && row_cmp(s, a[j - 1], x) > 0) {
                a[j] = a[j - 1];
                j--;
            }
            a[j] = x;
        }
    }
    for (uint64_t width = run; width < n; width *= 2) {
        for (uint64_t lo = 0; lo < n; lo += 2 * width) {
            uint32_t mid = (uint32_t)(lo + width < n ? lo + width : n);
            uint32_t hi = (uint32_t)(lo + 2 * width < n ? lo + 2 * width : n);
            uint32_t i = (uint32_t)lo, j = mid, k = (uint32_t)lo;
            if (mid == hi || row_cmp(s, a[mid - 1], a[mid]) <= 0) {
                memcpy(tmp + lo, a + lo, (size_t)(hi - lo) * sizeof *a);
                continue;
            }
            while (i < mid && j < hi)
                tmp[k++] = row_cmp(s, a[j], a[i]) < 0 ? a[j++] : a[i++];
            while (i < mid)
                tmp[k++] = a[i++];
            while (j < hi)
                tmp[k++] = a[j++];
        }
        uint32_t *t = a;
        a = tmp;
        tmp = t;
    }
    return a;
}

/* ---- output sink: a file (buffered) or a memory buffer ----------------------------------- */

#define SINK_BUF (1u << 20)

typedef struct sink {
    int fd;
    ff_buf *mem;
    ff_buf wb;
    uint64_t pos;
    const char *path;
} sink;

static ff_rc write_all(int fd, const void *p, size_t n, const char *path, ff_err *err)
{
    const char *c = p;
    while (n) {
        ssize_t k = write(fd, c, n);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return FF_ERR_SYS(err, FF_EIO, "part %s: write: %s", path, strerror(errno));
        }
        c += k;
        n -= (size_t)k;
    }
    return FF_OK;
}

static ff_rc sink_flush(sink *s, ff_err *err)
{
    if (s->mem || s->wb.len == 0)
        return FF_OK;
    ff_rc rc = write_all(s->fd, s->wb.data, s->wb.len, s->path, err);
    ff_buf_reset(&s->wb);
    return rc;
}

static ff_rc sink_put(sink *s, const void *p, size_t n, ff_err *err)
{
    ff_rc rc;
    if (s->mem) {
        if ((rc = ff_buf_add(s->mem, p, n)) != FF_OK)
            return FF_ERR_SET(err, rc, "part (memory): output buffer: %s", ff_rc_name(rc));
    } else {
        if (s->wb.len + n > SINK_BUF && (rc = sink_flush(s, err)) != FF_OK)
            return rc;
        if (n >= SINK_BUF) {
            if ((rc = write_all(s->fd, p, n, s->path, err)) != FF_OK)
                return rc;
        } else if ((rc = ff_buf_add(&s->wb, p, n)) != FF_OK) {
            return FF_ERR_SET(err, rc, "part %s: write buffer: %s", s->path, ff_rc_name(rc));
        }
    }
    s->pos += n;
    return FF_OK;
}

/* ---- encoding one chunk: try the candidates, keep the smallest stored form --------------- */

typedef struct wenc {
    ff_enc_ctx *ec;
    ZSTD_CCtx *cctx;
    ff_buf raw[2], comp[2]; /* per candidate: encoded bytes, compressed form */
    ff_buf alt;             /* the other compressor's output */
    int best;               /* slot of the best candidate so far, -1 = none */
    size_t best_sz;         /* its cost: stored size, weighted for decoding speed */
    ff_enc best_enc;
    uint8_t best_codec;
    uint32_t n_rows; /* of the chunk being encoded */
} wenc;

/* The stored form of slot k's raw bytes. Every column of every query goes through the
 * decompressor, and on these 1-40 KB chunks zstd decodes 3-5x slower than LZ4 (mostly its
 * per-frame table set-up; see docs/benchmarks.md), so the codec is chosen for reading speed
 * first: LZ4 when it saves at least 1/8, zstd only when it saves another quarter of that and
 * at least one byte per row (less is noise against the ~30 bytes a row takes), else the raw
 * bytes. The hot narrow columns (codes, numbers) end up LZ4 or raw, the wide text ones
 * (properties, ids) zstd. */
static ff_rc compress_slot(wenc *e, int k, int level, uint8_t *codec, size_t *stored, ff_err *err)
{
    ff_buf *raw = &e->raw[k], *comp = &e->comp[k], *alt = &e->alt;
    *codec = CODEC_NONE;
    *stored = raw->len;
    if (level < 0 || raw->len < 64 || raw->len > (size_t)LZ4_MAX_INPUT_SIZE)
        return FF_OK;
    size_t zb = ZSTD_compressBound(raw->len), lb = (size_t)LZ4_compressBound((int)raw->len);
    ff_buf_reset(comp);
    ff_buf_reset(alt);
    ff_rc rc = ff_buf_reserve(comp, zb);
    rc = rc ? rc : ff_buf_reserve(alt, lb);
    if (rc)
        return FF_ERR_SET(err, rc, "part writer: compression buffer: %s", ff_rc_name(rc));
    int l4 = LZ4_compress_default(raw->data, alt->data, (int)raw->len, (int)lb);
    if (l4 > 0 && (size_t)l4 <= raw->len - raw->len / 8) {
        alt->len = (size_t)l4;
        *codec = CODEC_LZ4;
        *stored = (size_t)l4;
    }
    size_t r = ZSTD_compressCCtx(e->cctx, comp->data, zb, raw->data, raw->len, level);
    if (ZSTD_isError(r))
        return FF_ERR_SET(err, FF_ENOMEM, "part writer: zstd: %s", ZSTD_getErrorName(r));
    if (r <= *stored - *stored / 4 && *stored - r >= e->n_rows) {
        comp->len = r;
        *codec = CODEC_ZSTD;
        *stored = r;
    } else if (*codec == CODEC_LZ4) { /* the LZ4 bytes become slot k's stored form */
        ff_buf t = *comp;
        *comp = *alt;
        *alt = t;
    }
    return FF_OK;
}

static ff_rc try_candidate(wenc *e, ff_enc enc, int level, ff_err *err)
{
    int k = e->best == 0 ? 1 : 0;
    ff_buf_reset(&e->raw[k]);
    ff_rc rc = ff_enc_encode(e->ec, enc, &e->raw[k], err);
    if (rc)
        return rc;
    uint8_t z;
    size_t stored;
    if ((rc = compress_slot(e, k, level, &z, &stored, err)) != FF_OK)
        return rc;
    /* The cost of a candidate is its stored size weighted for decoding speed: varints decode
     * byte by byte (times of person-sorted rows: 3.7 ns a value against 0.5 for bit-packed
     * FOR) and zstd chunks several times slower than LZ4 ones, so each counts 4/3 of its
     * size: it wins only when at least a quarter smaller. */
    size_t cost = stored;
    if (enc == FF_ENC_I64_DELTA_VARINT)
        cost += stored / 3;
    if (z == CODEC_ZSTD)
        cost += stored / 3;
    if (e->best < 0 || cost < e->best_sz) {
        e->best = k;
        e->best_sz = cost;
        e->best_enc = enc;
        e->best_codec = z;
    }
    return FF_OK;
}

static ff_rc try_postings(wenc *e, bool force, ff_err *err)
{
    size_t sz = ff_enc_size(e->ec, FF_ENC_STR_POSTINGS);
    if (sz == SIZE_MAX || e->best < 0 || (!force && sz > e->best_sz + e->best_sz / 4))
        return FF_OK;
    int k = e->best == 0 ? 1 : 0;
    ff_buf_reset(&e->raw[k]);
    ff_rc rc = ff_enc_encode(e->ec, FF_ENC_STR_POSTINGS, &e->raw[k], err);
    if (rc)
        return rc;
    e->best = k;
    e->best_sz = sz;
    e->best_enc = FF_ENC_STR_POSTINGS;
    e->best_codec = CODEC_NONE;
    return FF_OK;
}

/* Pick and produce the stored form of a chunk already given to ff_enc_prepare. */
static ff_rc encode_chunk(wenc *e, const ff_chunk_in *in, uint32_t allowed, int level, ff_err *err)
{
    ff_rc rc = FF_OK;
    e->best = -1;
    e->n_rows = in->n_rows;
    if (ff_type_is_str(in->type)) {
        size_t ps = (allowed & FF_ENC_BIT(FF_ENC_STR_PLAIN)) ? ff_enc_size(e->ec, FF_ENC_STR_PLAIN)
                                                             : SIZE_MAX;
        size_t ds = (allowed & FF_ENC_BIT(FF_ENC_STR_DICT)) ? ff_enc_size(e->ec, FF_ENC_STR_DICT)
                                                            : SIZE_MAX;
        size_t us = (allowed & FF_ENC_BIT(FF_ENC_STR_UUID)) ? ff_enc_size(e->ec, FF_ENC_STR_UUID)
                                                            : SIZE_MAX;
        bool distinct = ff_enc_n_distinct(e->ec) == in->n_rows;
        /* Candidates: a dictionary unless every value is distinct (it would only add codes);
         * binary UUIDs when every value is one (then plain text is never smaller); plain
         * otherwise. A dictionary at most a quarter of plain, or of a LowCardinality column,
         * is taken without trying the rest. */
        bool try_dict = ds != SIZE_MAX && (!distinct || (ps == SIZE_MAX && us == SIZE_MAX));
        bool try_uuid = us != SIZE_MAX;
        bool try_plain = ps != SIZE_MAX && !try_uuid;
        if (try_dict && (in->type == FF_TYPE_LOWCARD || (ps != SIZE_MAX && ds <= ps / 4)))
            try_plain = try_uuid = false;
        if (!try_plain && !try_dict && !try_uuid)
            try_plain = true; /* plain is always valid, whatever the mask says */
        if (try_dict && (rc = try_candidate(e, FF_ENC_STR_DICT, level, err)) != FF_OK)
            return rc;
        if (try_dict && (allowed & FF_ENC_BIT(FF_ENC_STR_DICT_SPARSE)) &&
            ff_enc_size(e->ec, FF_ENC_STR_DICT_SPARSE) != SIZE_MAX &&
            (rc = try_candidate(e, FF_ENC_STR_DICT_SPARSE, level, err)) != FF_OK)
            return rc;
        if (try_uuid && (rc = try_candidate(e, FF_ENC_STR_UUID, level, err)) != FF_OK)
            return rc;
        if (try_plain && (rc = try_candidate(e, FF_ENC_STR_PLAIN, level, err)) != FF_OK)
            return rc;
        /* Postings (a row list per value) let `col = 'x'` read one value's rows instead of
         * every row's code; on the event column they cost ~1/6 more than LZ4-packed codes
         * (0.66 vs 0.56 B/row) and cut a selective filter to the rows it keeps. Taken,
         * uncompressed so a match reads only its lists, when at most 5/4 of the best. */
        bool force = !(allowed & FF_ENC_BIT(FF_ENC_STR_DICT)); /* a mask without dictionaries */
        if ((try_dict || force) && (allowed & FF_ENC_BIT(FF_ENC_STR_POSTINGS)) &&
            (rc = try_postings(e, force, err)) != FF_OK)
            return rc;
        return FF_OK;
    }
    if (ff_enc_size(e->ec, FF_ENC_ALLNULL) != SIZE_MAX)
        return try_candidate(e, FF_ENC_ALLNULL, level, err);
    static const ff_enc ints[] = {FF_ENC_I64_FOR, FF_ENC_I64_DELTA_VARINT, FF_ENC_I64_DELTA_FOR,
                                  FF_ENC_I64_PLAIN};
    for (size_t k = 0; k < sizeof ints / sizeof ints[0]; k++)
        if ((allowed & FF_ENC_BIT(ints[k])) &&
            (rc = try_candidate(e, ints[k], level, err)) != FF_OK)
            return rc;
    if (e->best < 0) /* the mask allowed no int encoding: plain always works */
        return try_candidate(e, FF_ENC_I64_PLAIN, level, err);
    return FF_OK;
}

/* ---- writing a part ---------------------------------------------------------------------- */

typedef struct wscratch {
    int64_t *i64;
    uint8_t *nulls;
    ff_str *str;
} wscratch;

/* What finish needs besides the rows: sort arrays (per row), the directory (per chunk), one
 * block of gathered values, the encoders and their buffers. Allocated at the first finish and
 * kept by ff_part_writer_reset, so a writer reused seal after seal (the store's consumer) does
 * not pay for fresh pages, a new zstd context and buffer regrowth every time. */
struct wfin {
    uint32_t *perm, *tmp;
    uint64_t *pkey;
    uint64_t cap_rows;
    pent *dir;
    size_t cap_dir;
    wscratch sc;
    uint32_t sc_rows;
    ff_buf zblob;
    wenc e;
};

static void wfin_free(wfin *f)
{
    if (!f)
        return;
    ff_free(f->perm);
    ff_free(f->tmp);
    ff_free(f->pkey);
    ff_free(f->dir);
    ff_free(f->sc.i64);
    ff_free(f->sc.nulls);
    ff_free(f->sc.str);
    ff_buf_fini(&f->zblob);
    ff_buf_fini(&f->e.alt);
    for (int k = 0; k < 2; k++) {
        ff_buf_fini(&f->e.raw[k]);
        ff_buf_fini(&f->e.comp[k]);
    }
    ZSTD_freeCCtx(f->e.cctx);
    ff_enc_ctx_free(f->e.ec);
    ff_free(f);
}

/* An array of n elements of size sz to replace old, which is freed (contents not kept); NULL
 * when out of memory (old is then kept). */
static void *fin_array(void *old, size_t n, size_t sz)
{
    void *q = ff_malloc(n * sz);
    if (q)
        ff_free(old);
    return q;
}

#define FIN_ARRAY(field, n)                                                                        \
    do {                                                                                           \
        void *q_ = fin_array(f->field, (n), sizeof *f->field);                                     \
        if (!q_)                                                                                   \
            goto nomem;                                                                            \
        f->field = q_;                                                                             \
    } while (0)

/* Make w->fin hold room for n rows, n_blocks blocks of B rows. */
static ff_rc fin_prepare(ff_part_writer *w, uint32_t n, uint32_t n_blocks, uint32_t B, ff_err *err)
{
    wfin *f = w->fin;
    if (!f) {
        f = ff_calloc(1, sizeof *f);
        if (!f)
            return FF_ERR_SET(err, FF_ENOMEM, "part writer: out of memory");
        ff_buf_init(&f->zblob, UINT32_MAX);
        for (int k = 0; k < 2; k++) {
            ff_buf_init(&f->e.raw[k], (size_t)FF_PART_MAX_CHUNK_BYTES);
            ff_buf_init(&f->e.comp[k], 2 * (size_t)FF_PART_MAX_CHUNK_BYTES);
        }
        ff_buf_init(&f->e.alt, 2 * (size_t)FF_PART_MAX_CHUNK_BYTES); /* swaps with comp[k] */
        f->e.cctx = ZSTD_createCCtx();
        w->fin = f;
        if (!f->e.cctx || ff_enc_ctx_new(&f->e.ec, NULL) != FF_OK)
            goto nomem;
    }
    /* Trim like the row arrays (ff_part_writer_reset): keep up to RESET_SLACK times. */
    if ((uint64_t)n + 1 > f->cap_rows ||
        (f->cap_rows > RESET_KEEP_ROWS && f->cap_rows / RESET_SLACK > (uint64_t)n + 1)) {
        uint64_t cap = (uint64_t)n + 1;
        f->cap_rows = 0; /* until all three have the new size */
        FIN_ARRAY(perm, cap);
        FIN_ARRAY(tmp, cap);
        FIN_ARRAY(pkey, cap);
        f->cap_rows = cap;
    }
    size_t nd = (size_t)n_blocks * FF_COL_COUNT + 1;
    if (nd > f->cap_dir) {
        f->cap_dir = 0;
        FIN_ARRAY(dir, nd);
        f->cap_dir = nd;
    }
    memset(f->dir, 0, nd * sizeof *f->dir);
    if (B != f->sc_rows) {
        f->sc_rows = 0;
        FIN_ARRAY(sc.i64, B);
        FIN_ARRAY(sc.nulls, B / 8 + 1);
        FIN_ARRAY(sc.str, B);
        f->sc_rows = B;
    }
    ff_buf_reset(&f->zblob);
    f->e.best = -1;
    return FF_OK;
nomem:
    return FF_ERR_SET(err, FF_ENOMEM, "part writer: out of memory for %u rows", n);
}
#undef FIN_ARRAY

static ff_rc put_footer(ff_part_writer *w, sink *s, const pent *dir, uint32_t n_blocks,
                        const ff_buf *zblob, int64_t min_ts, int64_t max_ts, uint64_t log_first,
                        uint64_t log_last, ff_err *err)
{
    ff_buf f;
    ff_buf_init(&f, 0);
    size_t cols_bytes = 0;
    for (int c = 0; c < FF_COL_COUNT; c++)
        cols_bytes += 3 + strlen(ff_schema_col((ff_col)c)->name);
    size_t len = FOOTER_FIXED_BYTES + cols_bytes + (size_t)n_blocks * 4 +
                 (size_t)n_blocks * FF_COL_COUNT * ENTRY_BYTES + zblob->len;
    ff_rc rc = ff_buf_reserve(&f, len);
    if (rc) {
        ff_buf_fini(&f);
        return FF_ERR_SET(err, rc, "part writer: footer of %zu bytes: %s", len, ff_rc_name(rc));
    }
    uint8_t *p = (uint8_t *)f.data;
    memset(p, 0, len);
    memcpy(p, footer_magic, 8);
    put_u32(p + 8, w->o.version);
    put_u32(p + 12, FF_COL_COUNT);
    put_u32(p + 16, n_blocks);
    put_u32(p + 20, w->o.block_rows);
    put_u64(p + 24, w->n);
    put_u64(p + 32, (uint64_t)min_ts);
    put_u64(p + 40, (uint64_t)max_ts);
    put_u64(p + 48, log_first);
    put_u64(p + 56, log_last);
    put_u32(p + 64, (uint32_t)(w->o.has_partition_day ? w->o.partition_day : FF_PART_DAY_NONE));
    put_u32(p + 68, 0);
    put_u64(p + 72, (uint64_t)w->o.created_ms);
    put_u32(p + 80, (uint32_t)zblob->len);
    put_u32(p + 84, 0);
    size_t o = FOOTER_FIXED_BYTES;
    for (int c = 0; c < FF_COL_COUNT; c++) {
        const ff_col_def *d = ff_schema_col((ff_col)c);
        size_t nl = strlen(d->name);
        p[o++] = (uint8_t)d->type;
        p[o++] = d->nullable ? 1 : 0;
        p[o++] = (uint8_t)nl;
        memcpy(p + o, d->name, nl);
        o += nl;
    }
    for (uint32_t b = 0; b < n_blocks; b++) {
        uint64_t first = (uint64_t)b * w->o.block_rows;
        uint64_t rows = w->n - first < w->o.block_rows ? w->n - first : w->o.block_rows;
        put_u32(p + o, (uint32_t)rows);
        o += 4;
    }
    for (size_t k = 0; k < (size_t)n_blocks * FF_COL_COUNT; k++) {
        entry_write(p + o, &dir[k]);
        o += ENTRY_BYTES;
    }
    if (zblob->len)
        memcpy(p + o, zblob->data, zblob->len);
    o += zblob->len;
    FF_VERIFY(o == len);
    uint64_t foot_off = s->pos;
    rc = sink_put(s, p, len, err);
    uint8_t t[TRAILER_BYTES];
    put_u64(t, foot_off);
    put_u32(t + 8, (uint32_t)len);
    put_u32(t + 12, w->o.version);
    put_u64(t + 16, XXH3_64bits(p, len));
    memcpy(t + 24, trailer_magic, 8);
    ff_buf_fini(&f);
    if (rc == FF_OK && len > UINT32_MAX)
        rc = FF_ERR_SET(err, FF_ELIMIT, "part writer: footer over 4 GiB");
    if (rc == FF_OK)
        rc = sink_put(s, t, sizeof t, err);
    return rc;
}

static ff_rc zone_to_entry(const ff_zone *z, bool is_str, ff_buf *zblob, pent *e, ff_err *err)
{
    e->zflags = (uint8_t)((z->has_minmax ? Z_HAS_MINMAX : 0) | (z->min_trunc ? Z_MIN_TRUNC : 0) |
                          (z->max_trunc ? Z_MAX_TRUNC : 0));
    if (!z->has_minmax) {
        e->min = e->max = 0;
        return FF_OK;
    }
    if (!is_str) {
        e->min = z->min;
        e->max = z->max;
        return FF_OK;
    }
    uint64_t mo = zblob->len;
    ff_rc rc = ff_buf_add(zblob, z->min_s, z->min_len);
    uint64_t xo = zblob->len;
    if (rc == FF_OK)
        rc = ff_buf_add(zblob, z->max_s, z->max_len);
    if (rc)
        return FF_ERR_SET(err, rc, "part writer: zone strings: %s", ff_rc_name(rc));
    e->min = (int64_t)(mo | ((uint64_t)z->min_len << 32));
    e->max = (int64_t)(xo | ((uint64_t)z->max_len << 32));
    return FF_OK;
}

static ff_rc write_part(ff_part_writer *w, sink *s, ff_part_info *info, ff_err *err)
{
    const uint32_t n = (uint32_t)w->n;
    const uint32_t B = w->o.block_rows;
    if (n == 0 && !w->o.has_log_range)
        return FF_ERR_SET(err, FF_EINVAL, "part writer: an empty part needs a log range");
    const uint32_t n_blocks = (uint32_t)(((uint64_t)n + B - 1) / B);
    ff_rc rc = fin_prepare(w, n, n_blocks, B, err);
    if (rc)
        return rc;
    wfin *f = w->fin;
    uint32_t *perm = f->perm, *tmp = f->tmp;
    uint64_t *pkey = f->pkey;
    pent *dir = f->dir;
    wscratch sc = f->sc;
    ff_buf *zblob = &f->zblob;
    wenc *e = &f->e;

    /* 1. sort */
    bool sorted = true;
    for (uint32_t i = 0; i < n; i++) {
        perm[i] = i;
        ff_str ps = person_of(w, i);
        uint8_t kb[8] = {0};
        if (ps.len)
            memcpy(kb, ps.p, ps.len < 8 ? ps.len : 8);
        uint64_t k = 0;
        for (int j = 0; j < 8; j++)
            k = (k << 8) | kb[j];
        pkey[i] = k;
    }
    sortctx sctx = {w, pkey};
    for (uint32_t i = 1; i < n && sorted; i++)
        sorted = row_cmp(&sctx, i - 1, i) <= 0;
    const uint32_t *order = sorted ? perm : sort_perm(&sctx, perm, tmp, n);

    int64_t min_ts = 0, max_ts = 0;
    for (uint32_t i = 0; i < n; i++) {
        int64_t t = w->col[FF_COL_TS].num[i];
        if (i == 0 || t < min_ts)
            min_ts = t;
        if (i == 0 || t > max_ts)
            max_ts = t;
    }
    uint64_t log_first = w->o.has_log_range ? w->o.log_first : w->off_min;
    uint64_t log_last = w->o.has_log_range ? w->o.log_last : w->off_max;

    /* 2. header */
    uint8_t hdr[HEADER_BYTES];
    memcpy(hdr, header_magic, 8);
    put_u32(hdr + 8, w->o.version);
    put_u32(hdr + 12, 0);
    if ((rc = sink_put(s, hdr, sizeof hdr, err)) != FF_OK)
        goto out;

    /* 3. chunks, column by column */
    uint64_t chunk_bytes = 0;
    for (int c = 0; c < FF_COL_COUNT && rc == FF_OK; c++) {
        const ff_col_def *d = ff_schema_col((ff_col)c);
        const wcol *k = &w->col[c];
        bool is_str = ff_type_is_str(d->type);
        for (uint32_t b = 0; b < n_blocks; b++) {
            uint32_t first = b * B, rows = n - first < B ? n - first : B;
            ff_chunk_in in = {d->type, d->nullable, rows, NULL, NULL, NULL};
            ff_zone z;
            if (is_str) {
                uint32_t n_empty = 0;
                for (uint32_t j = 0; j < rows; j++) {
                    uint32_t r = order[first + j];
                    sc.str[j] = (ff_str){k->bytes + k->off[r], k->off[r + 1] - k->off[r]};
                    n_empty += sc.str[j].len == 0;
                }
                in.str = sc.str;
                /* The zone of a string chunk is that of its distinct values (the encoder
                 * has them), with the '' rows counted over all rows. */
                if ((rc = ff_enc_prepare(e->ec, &in, err)) != FF_OK)
                    break;
                uint32_t n_uniq;
                const ff_str *uniq = ff_enc_distinct(e->ec, &n_uniq);
                ff_zone_build_str(&z, uniq, n_uniq);
                z.n_rows = rows;
                z.n_null = n_empty;
            } else {
                bool any_null = false;
                if (d->nullable)
                    memset(sc.nulls, 0, (size_t)rows / 8 + 1);
                for (uint32_t j = 0; j < rows; j++) {
                    uint32_t r = order[first + j];
                    sc.i64[j] = k->num[r];
                    if (d->nullable && k->isnull[r]) {
                        sc.nulls[j >> 3] |= (uint8_t)(1u << (j & 7));
                        any_null = true;
                    }
                }
                in.i64 = sc.i64;
                in.nulls = any_null ? sc.nulls : NULL;
                ff_zone_build_i64(&z, d->type, sc.i64, in.nulls, rows);
                if ((rc = ff_enc_prepare(e->ec, &in, err)) != FF_OK)
                    break;
            }
            if ((rc = encode_chunk(e, &in, w->o.enc_allowed, w->o.zstd_level, err)) != FF_OK)
                break;
            const ff_buf *out = e->best_codec != CODEC_NONE ? &e->comp[e->best] : &e->raw[e->best];
            pent *ent = &dir[(size_t)b * FF_COL_COUNT + (size_t)c];
            ent->off = s->pos;
            ent->stored = (uint32_t)out->len;
            ent->raw = (uint32_t)e->raw[e->best].len;
            ent->sum = XXH3_64bits(out->data, out->len);
            ent->n_null = is_str ? z.n_null : ff_enc_n_null(e->ec);
            ent->enc = (uint8_t)e->best_enc;
            ent->codec = e->best_codec;
            if (out->len > FF_PART_MAX_CHUNK_BYTES ||
                e->raw[e->best].len > FF_PART_MAX_CHUNK_BYTES) {
                rc = FF_ERR_SET(err, FF_ELIMIT, "part writer: column %s block %u over %u bytes",
                                d->name, b, FF_PART_MAX_CHUNK_BYTES);
                break;
            }
            if ((rc = zone_to_entry(&z, is_str, zblob, ent, err)) != FF_OK)
                break;
            if ((rc = sink_put(s, out->data, out->len, err)) != FF_OK)
                break;
            chunk_bytes += out->len;
        }
    }
    if (rc != FF_OK)
        goto out;

    /* 4. footer + trailer */
    if ((rc = put_footer(w, s, dir, n_blocks, zblob, min_ts, max_ts, log_first, log_last, err)) !=
        FF_OK)
        goto out;
    if ((rc = sink_flush(s, err)) != FF_OK)
        goto out;
    if (info) {
        *info = (ff_part_info){.version = w->o.version,
                               .n_blocks = n_blocks,
                               .block_rows = B,
                               .partition_day =
                                   w->o.has_partition_day ? w->o.partition_day : FF_PART_DAY_NONE,
                               .n_rows = n,
                               .min_ts = min_ts,
                               .max_ts = max_ts,
                               .log_first = log_first,
                               .log_last = log_last,
                               .created_ms = w->o.created_ms,
                               .file_bytes = s->pos,
                               .chunk_bytes = chunk_bytes};
    }
out:
    return rc;
}

static ff_rc finish_check(ff_part_writer *w, ff_err *err)
{
    if (w->state == W_FAILED)
        return FF_ERR_SET(err, FF_EFAILED, "part writer: failed earlier; free it");
    if (w->state == W_DONE)
        return FF_ERR_SET(err, FF_EINVAL, "part writer: already finished");
    return FF_OK;
}

ff_rc ff_part_writer_finish_mem(ff_part_writer *w, ff_buf *out, ff_part_info *info_out, ff_err *err)
{
    ff_rc rc = finish_check(w, err);
    if (rc)
        return rc;
    sink s = {.fd = -1, .mem = out, .path = "(memory)"};
    size_t start = out->len;
    s.pos = 0;
    ff_buf_init(&s.wb, 0);
    /* Offsets in the part are relative to its first byte: pos starts at 0 whatever out held. */
    rc = write_part(w, &s, info_out, err);
    ff_buf_fini(&s.wb);
    if (rc != FF_OK) {
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
        w->state = W_FAILED;
        return rc;
    }
    w->state = W_DONE;
    return FF_OK;
}

static ff_rc sync_dir_of(const char *path, ff_err *err)
{
    const char *slash = strrchr(path, '/');
    char *dir =
        slash ? ff_strndup(path, slash == path ? 1 : (size_t)(slash - path)) : ff_strdup(".");
    if (!dir)
        return FF_ERR_SET(err, FF_ENOMEM, "part %s: out of memory", path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    ff_rc rc = FF_OK;
    if (fd < 0 || fsync(fd) != 0)
        rc = FF_ERR_SYS(err, FF_EIO, "part %s: fsync of folder %s: %s", path, dir, strerror(errno));
    if (fd >= 0)
        close(fd);
    ff_free(dir);
    return rc;
}

/* Rename tmp to path unless path exists. */
static ff_rc publish(const char *tmp, const char *path, ff_err *err)
{
#ifdef RENAME_NOREPLACE
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) == 0)
        return FF_OK;
    if (errno == EEXIST)
        return FF_ERR_SET(err, FF_EEXIST, "part %s: already exists", path);
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
        return FF_ERR_SYS(err, FF_EIO, "part %s: rename: %s", path, strerror(errno));
#endif
    /* No RENAME_NOREPLACE here: link() refuses to replace too. */
    if (link(tmp, path) != 0) {
        if (errno == EEXIST)
            return FF_ERR_SET(err, FF_EEXIST, "part %s: already exists", path);
        return FF_ERR_SYS(err, FF_EIO, "part %s: link: %s", path, strerror(errno));
    }
    if (unlink(tmp) != 0)
        return FF_ERR_SYS(err, FF_EIO, "part %s: unlink of temp: %s", path, strerror(errno));
    return FF_OK;
}

ff_rc ff_part_writer_finish(ff_part_writer *w, const char *path, ff_part_info *info_out,
                            ff_err *err)
{
    ff_rc rc = finish_check(w, err);
    if (rc)
        return rc;
    if (access(path, F_OK) == 0) /* nothing written yet: the writer stays usable */
        return FF_ERR_SET(err, FF_EEXIST, "part %s: already exists", path);
    size_t pl = strlen(path);
    char *tmp = ff_malloc(pl + 5);
    if (!tmp) {
        w->state = W_FAILED;
        return FF_ERR_SET(err, FF_ENOMEM, "part %s: out of memory", path);
    }
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = FF_ERR_SYS(err, errno == ENOENT ? FF_ENOTFOUND : FF_EIO, "part %s: create: %s", tmp,
                        strerror(errno));
        ff_free(tmp);
        w->state = W_FAILED;
        return rc;
    }
    sink s = {.fd = fd, .path = path};
    ff_buf_init(&s.wb, SINK_BUF + 1);
    rc = write_part(w, &s, info_out, err);
    ff_buf_fini(&s.wb);
    if (rc == FF_OK && !w->o.no_sync && fsync(fd) != 0)
        rc = FF_ERR_SYS(err, FF_EIO, "part %s: fsync: %s", tmp, strerror(errno));
    if (close(fd) != 0 && rc == FF_OK)
        rc = FF_ERR_SYS(err, FF_EIO, "part %s: close: %s", tmp, strerror(errno));
    if (rc == FF_OK)
        rc = publish(tmp, path, err);
    if (rc == FF_OK && !w->o.no_sync)
        rc = sync_dir_of(path, err); /* the part is named but maybe not durable: report it */
    if (rc != FF_OK)
        unlink(tmp);
    ff_free(tmp);
    w->state = rc == FF_OK ? W_DONE : W_FAILED;
    return rc;
}

/* ======================================================================================== */
/* reader                                                                                    */
/* ======================================================================================== */

struct ff_part {
    char *name;
    const uint8_t *base;
    size_t size;
    void *map;
    size_t map_len;
    bool skip_sums;
    ff_part_info info;
    uint64_t footer_off;
    uint32_t footer_len;
    uint32_t *brows;
    pent *dir;
    const uint8_t *zblob;
    uint32_t zblob_len;
    /* Per chunk, what was checked once and holds for the mapping's life (the file is
     * immutable and mapped read-only): OK_SUM its checksum, OK_DICT its dictionary order. */
    _Atomic uint8_t *chunk_ok;
};

enum { OK_SUM = 1, OK_DICT = 2 }; /* ff_part.chunk_ok bits */

struct ff_part_ctx {
    ZSTD_DCtx *dctx;
};

#define BAD(at, ...) corrupt(p, err, (uint64_t)(at), __VA_ARGS__)

static ff_rc corrupt(const ff_part *p, ff_err *err, uint64_t at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static ff_rc corrupt(const ff_part *p, ff_err *err, uint64_t at, const char *fmt, ...)
{
    char why[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    return FF_ERR_SET(err, FF_ECORRUPT, "part %s: byte %" PRIu64 ": %s", p->name, at, why);
}

static bool num_le(ff_type t, int64_t a, int64_t b)
{
    return t == FF_TYPE_UINT64 ? (uint64_t)a <= (uint64_t)b : a <= b;
}

static ff_rc parse_footer(ff_part *p, ff_err *err)
{
    const uint8_t *b = p->base;
    if (p->size < HEADER_BYTES + TRAILER_BYTES)
        return BAD(0, "%zu bytes: too short to be a part", p->size);
    if (memcmp(b, header_magic, 8) != 0)
        return BAD(0, "not a part (bad header magic)");
    uint32_t hv = get_u32(b + 8);
    if (hv < FF_PART_VERSION_MIN || hv > FF_PART_VERSION)
        return BAD(8, "unsupported part version %u (this build reads %u..%u)", hv,
                   FF_PART_VERSION_MIN, FF_PART_VERSION);
    if (get_u32(b + 12) != 0)
        return BAD(12, "unknown header flags %#x", get_u32(b + 12));
    const uint8_t *t = b + p->size - TRAILER_BYTES;
    uint64_t tpos = p->size - TRAILER_BYTES;
    if (memcmp(t + 24, trailer_magic, 8) != 0)
        return BAD(tpos + 24, "bad trailer magic (truncated or unfinished part)");
    if (get_u32(t + 12) != hv)
        return BAD(tpos + 12, "trailer version %u, header version %u", get_u32(t + 12), hv);
    uint64_t foff = get_u64(t);
    uint32_t flen = get_u32(t + 8);
    if (foff < HEADER_BYTES || foff > tpos || tpos - foff != flen || flen < FOOTER_FIXED_BYTES)
        return BAD(tpos, "footer position %" PRIu64 "+%u does not fit the file", foff, flen);
    const uint8_t *f = b + foff;
    if (!p->skip_sums && XXH3_64bits(f, flen) != get_u64(t + 16))
        return BAD(foff, "footer checksum mismatch");
    p->footer_off = foff;
    p->footer_len = flen;
    if (memcmp(f, footer_magic, 8) != 0)
        return BAD(foff, "bad footer magic");
    if (get_u32(f + 8) != hv)
        return BAD(foff + 8, "footer version %u, header version %u", get_u32(f + 8), hv);
    uint32_t n_cols = get_u32(f + 12), n_blocks = get_u32(f + 16), brows = get_u32(f + 20);
    ff_part_info *in = &p->info;
    in->version = hv;
    in->n_blocks = n_blocks;
    in->block_rows = brows;
    in->n_rows = get_u64(f + 24);
    in->min_ts = (int64_t)get_u64(f + 32);
    in->max_ts = (int64_t)get_u64(f + 40);
    in->log_first = get_u64(f + 48);
    in->log_last = get_u64(f + 56);
    in->partition_day = (int32_t)get_u32(f + 64);
    in->created_ms = (int64_t)get_u64(f + 72);
    in->file_bytes = p->size;
    uint32_t zlen = get_u32(f + 80);
    if (n_cols != FF_COL_COUNT)
        return BAD(foff + 12, "%u columns, this version has %u", n_cols, FF_COL_COUNT);
    if (brows == 0 || brows > FF_PART_MAX_BLOCK_ROWS)
        return BAD(foff + 20, "block size %u out of range", brows);
    uint64_t per_block = 4 + (uint64_t)FF_COL_COUNT * ENTRY_BYTES;
    if ((uint64_t)n_blocks * per_block > flen)
        return BAD(foff + 16, "%u blocks do not fit a %u-byte footer", n_blocks, flen);
    if ((in->n_rows == 0) != (n_blocks == 0) || in->n_rows > (uint64_t)n_blocks * brows ||
        (n_blocks && in->n_rows <= (uint64_t)(n_blocks - 1) * brows))
        return BAD(foff + 24, "%" PRIu64 " rows do not match %u blocks of %u", in->n_rows, n_blocks,
                   brows);
    if (in->log_first > in->log_last)
        return BAD(foff + 48, "log range %" PRIu64 " > %" PRIu64, in->log_first, in->log_last);
    if (in->n_rows && in->min_ts > in->max_ts)
        return BAD(foff + 32, "min ts over max ts");
    if (get_u32(f + 68) != 0)
        return BAD(foff + 68, "unknown footer flags %#x", get_u32(f + 68));

    uint64_t o = FOOTER_FIXED_BYTES;
    for (int c = 0; c < FF_COL_COUNT; c++) {
        const ff_col_def *d = ff_schema_col((ff_col)c);
        if (o + 3 > flen)
            return BAD(foff + o, "column table truncated");
        uint8_t nl = f[o + 2];
        if (f[o] != d->type || f[o + 1] != (d->nullable ? 1 : 0) || nl != strlen(d->name) ||
            o + 3 + nl > flen || memcmp(f + o + 3, d->name, nl) != 0)
            return BAD(foff + o, "column %d is not %s of this schema version", c, d->name);
        o += 3u + nl;
    }
    uint64_t need = (uint64_t)n_blocks * per_block + zlen;
    if (o + need != flen)
        return BAD(foff + o, "footer length %u does not match its contents", flen);
    p->brows = ff_malloc((size_t)n_blocks * sizeof *p->brows + 1);
    p->dir = ff_malloc((size_t)n_blocks * FF_COL_COUNT * sizeof *p->dir + 1);
    p->chunk_ok = ff_calloc((size_t)n_blocks * FF_COL_COUNT + 1, sizeof *p->chunk_ok);
    if (!p->brows || !p->dir || !p->chunk_ok)
        return FF_ERR_SET(err, FF_ENOMEM, "part %s: out of memory for %u blocks", p->name,
                          n_blocks);
    uint64_t sum = 0;
    for (uint32_t k = 0; k < n_blocks; k++, o += 4) {
        uint32_t r = get_u32(f + o);
        bool last = k + 1 == n_blocks;
        if (r == 0 || r > brows || (!last && r != brows))
            return BAD(foff + o, "block %u has %u rows", k, r);
        p->brows[k] = r;
        sum += r;
    }
    if (sum != in->n_rows)
        return BAD(foff + 24, "block rows add up to %" PRIu64 ", not %" PRIu64, sum, in->n_rows);
    p->zblob = f + o + (uint64_t)n_blocks * FF_COL_COUNT * ENTRY_BYTES;
    p->zblob_len = zlen;
    for (uint32_t k = 0; k < n_blocks; k++) {
        for (int c = 0; c < FF_COL_COUNT; c++, o += ENTRY_BYTES) {
            const ff_col_def *d = ff_schema_col((ff_col)c);
            pent *e = &p->dir[(size_t)k * FF_COL_COUNT + (size_t)c];
            entry_read(f + o, e);
            uint64_t at = foff + o;
            uint32_t rows = p->brows[k];
            if (!ff_enc_valid_for((ff_enc)e->enc, d->type, d->nullable))
                return BAD(at, "block %u column %s: encoding %u not valid", k, d->name, e->enc);
            if (e->codec > (p->info.version >= 2 ? CODEC_LZ4 : CODEC_ZSTD))
                return BAD(at, "block %u column %s: unknown codec %u", k, d->name, e->codec);
            if ((e->enc == FF_ENC_STR_POSTINGS || e->enc == FF_ENC_STR_DICT_SPARSE) &&
                p->info.version < 3)
                return BAD(at, "block %u column %s: encoding %u needs part version 3", k, d->name,
                           e->enc);
            if (e->stored > FF_PART_MAX_CHUNK_BYTES || e->raw > FF_PART_MAX_CHUNK_BYTES ||
                (e->codec == CODEC_NONE && e->raw != e->stored))
                return BAD(at, "block %u column %s: chunk lengths %u/%u", k, d->name, e->stored,
                           e->raw);
            if (e->stored && (e->off < HEADER_BYTES || e->off > foff || foff - e->off < e->stored))
                return BAD(at, "block %u column %s: chunk at %" PRIu64 "+%u outside the data", k,
                           d->name, e->off, e->stored);
            if (e->n_null > rows || (e->n_null && !d->nullable && !ff_type_is_str(d->type)))
                return BAD(at, "block %u column %s: %u NULLs in %u rows", k, d->name, e->n_null,
                           rows);
            if (!ff_type_is_str(d->type) && d->nullable &&
                ((e->enc == FF_ENC_ALLNULL) != (e->n_null == rows)))
                return BAD(at, "block %u column %s: ALLNULL does not match the NULL count", k,
                           d->name);
            if (e->zflags & ~Z_ALL)
                return BAD(at, "block %u column %s: unknown zone flags", k, d->name);
            bool has = e->zflags & Z_HAS_MINMAX;
            if (has != (e->n_null < rows))
                return BAD(at, "block %u column %s: zone min/max flag does not match", k, d->name);
            if (!has)
                continue;
            if (ff_type_is_str(d->type)) {
                uint64_t mo = (uint32_t)e->min, ml = (uint64_t)e->min >> 32;
                uint64_t xo = (uint32_t)e->max, xl = (uint64_t)e->max >> 32;
                if (ml > FF_ZONE_STR_MAX || xl > FF_ZONE_STR_MAX || mo + ml > zlen ||
                    xo + xl > zlen)
                    return BAD(at, "block %u column %s: zone strings outside the footer", k,
                               d->name);
            } else if (!num_le(d->type, e->min, e->max)) {
                return BAD(at, "block %u column %s: zone min over max", k, d->name);
            }
        }
    }
    uint64_t cb = 0;
    for (size_t k = 0; k < (size_t)n_blocks * FF_COL_COUNT; k++)
        cb += p->dir[k].stored;
    in->chunk_bytes = cb;
    return FF_OK;
}

static ff_rc part_new(const char *name, const ff_part_open_opts *opts, ff_part **out, ff_err *err)
{
    ff_part *p = ff_calloc(1, sizeof *p);
    if (p)
        p->name = ff_strdup(name ? name : "(memory)");
    if (!p || !p->name) {
        ff_free(p);
        return FF_ERR_SET(err, FF_ENOMEM, "part: out of memory");
    }
    p->skip_sums = opts && opts->skip_checksums;
    *out = p;
    return FF_OK;
}

ff_rc ff_part_open_mem(const void *buf, size_t len, const char *name, const ff_part_open_opts *opts,
                       ff_part **out, ff_err *err)
{
    *out = NULL;
    ff_part *p;
    ff_rc rc = part_new(name, opts, &p, err);
    if (rc)
        return rc;
    p->base = buf;
    p->size = len;
    if ((rc = parse_footer(p, err)) != FF_OK) {
        ff_part_close(p);
        return rc;
    }
    *out = p;
    return FF_OK;
}

ff_rc ff_part_open(const char *path, const ff_part_open_opts *opts, ff_part **out, ff_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return FF_ERR_SYS(err, errno == ENOENT ? FF_ENOTFOUND : FF_EIO, "part %s: open: %s", path,
                          strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        ff_rc rc = FF_ERR_SYS(err, FF_EIO, "part %s: stat: %s", path, strerror(errno));
        close(fd);
        return rc;
    }
    ff_part *p;
    ff_rc rc = part_new(path, opts, &p, err);
    if (rc) {
        close(fd);
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        rc = BAD(0, "not a regular file");
        ff_part_close(p);
        return rc;
    }
    if (st.st_size < HEADER_BYTES + TRAILER_BYTES) {
        close(fd);
        rc = BAD(0, "%lld bytes: too short to be a part", (long long)st.st_size);
        ff_part_close(p);
        return rc;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        rc = FF_ERR_SYS(err, FF_EIO, "part %s: mmap: %s", path, strerror(errno));
        ff_part_close(p);
        return rc;
    }
    p->map = m;
    p->map_len = (size_t)st.st_size;
    p->base = m;
    p->size = (size_t)st.st_size;
    if ((rc = parse_footer(p, err)) != FF_OK) {
        ff_part_close(p);
        return rc;
    }
    *out = p;
    return FF_OK;
}

void ff_part_close(ff_part *p)
{
    if (!p)
        return;
    if (p->map)
        munmap(p->map, p->map_len);
    ff_free(p->brows);
    ff_free(p->dir);
    ff_free((void *)p->chunk_ok);
    ff_free(p->name);
    ff_free(p);
}

const ff_part_info *ff_part_get_info(const ff_part *p)
{
    return &p->info;
}

uint32_t ff_part_block_n_rows(const ff_part *p, uint32_t block)
{
    return block < p->info.n_blocks ? p->brows[block] : 0;
}

ff_rc ff_part_zone(const ff_part *p, uint32_t block, ff_col col, ff_zone *out)
{
    if (block >= p->info.n_blocks || (unsigned)col >= FF_COL_COUNT)
        return FF_EINVAL;
    const pent *e = &p->dir[(size_t)block * FF_COL_COUNT + (size_t)col];
    memset(out, 0, sizeof *out);
    out->n_rows = p->brows[block];
    out->n_null = e->n_null;
    out->has_minmax = e->zflags & Z_HAS_MINMAX;
    out->min_trunc = e->zflags & Z_MIN_TRUNC;
    out->max_trunc = e->zflags & Z_MAX_TRUNC;
    if (!out->has_minmax)
        return FF_OK;
    if (ff_type_is_str(ff_schema_col(col)->type)) {
        out->min_s = (const char *)p->zblob + (uint32_t)e->min;
        out->min_len = (uint32_t)((uint64_t)e->min >> 32);
        out->max_s = (const char *)p->zblob + (uint32_t)e->max;
        out->max_len = (uint32_t)((uint64_t)e->max >> 32);
    } else {
        out->min = e->min;
        out->max = e->max;
    }
    return FF_OK;
}

ff_rc ff_part_chunk_stat(const ff_part *p, uint32_t block, ff_col col, ff_part_chunk *out)
{
    if (block >= p->info.n_blocks || (unsigned)col >= FF_COL_COUNT)
        return FF_EINVAL;
    const pent *e = &p->dir[(size_t)block * FF_COL_COUNT + (size_t)col];
    *out = (ff_part_chunk){
        e->off, e->stored, e->raw, (ff_enc)e->enc, e->codec == CODEC_ZSTD, e->codec == CODEC_LZ4};
    return FF_OK;
}

ff_rc ff_part_ctx_new(ff_part_ctx **out, ff_err *err)
{
    ff_part_ctx *c = ff_calloc(1, sizeof *c);
    if (c)
        c->dctx = ZSTD_createDCtx();
    if (!c || !c->dctx) {
        ff_free(c);
        return FF_ERR_SET(err, FF_ENOMEM, "part: out of memory for a read context");
    }
    *out = c;
    return FF_OK;
}

void ff_part_ctx_free(ff_part_ctx *c)
{
    if (!c)
        return;
    ZSTD_freeDCtx(c->dctx);
    ff_free(c);
}

/* The raw (decompressed) bytes of chunk (block, col): the mapping itself when stored
 * uncompressed, else a copy in the arena. */
static ff_rc chunk_raw(const ff_part *p, ff_part_ctx *ctx, uint32_t block, ff_col col,
                       bool check_sum, ff_arena *arena, const uint8_t **raw_out, ff_err *err)
{
    const ff_col_def *d = ff_schema_col(col);
    const pent *e = &p->dir[(size_t)block * FF_COL_COUNT + (size_t)col];
    const uint8_t *stored = e->stored ? p->base + e->off : p->base;
    /* Verified at the first read of each chunk in this process (and in full by
     * ff_part_verify): a query that needs a few rows of a chunk then touches only those
     * bytes, not the whole chunk for its checksum. */
    _Atomic uint8_t *ok = &p->chunk_ok[(size_t)block * FF_COL_COUNT + (size_t)col];
    if (check_sum && !(atomic_load_explicit(ok, memory_order_relaxed) & OK_SUM)) {
        if (XXH3_64bits(stored, e->stored) != e->sum)
            return BAD(e->off, "block %u column %s: chunk checksum mismatch", block, d->name);
        atomic_fetch_or_explicit(ok, OK_SUM, memory_order_relaxed);
    }
    const uint8_t *raw = stored;
    if (e->codec == CODEC_ZSTD) {
        uint8_t *dst = ff_arena_alloc(arena, (size_t)e->raw + 1);
        if (!dst)
            return FF_ERR_SET(err, arena->over_cap ? FF_ELIMIT : FF_ENOMEM,
                              "part %s: block %u column %s: no memory for %u bytes", p->name, block,
                              d->name, e->raw);
        size_t r = ctx ? ZSTD_decompressDCtx(ctx->dctx, dst, e->raw, stored, e->stored)
                       : ZSTD_decompress(dst, e->raw, stored, e->stored);
        if (ZSTD_isError(r))
            return BAD(e->off, "block %u column %s: zstd: %s", block, d->name,
                       ZSTD_getErrorName(r));
        if (r != e->raw)
            return BAD(e->off, "block %u column %s: decompressed to %zu bytes, not %u", block,
                       d->name, r, e->raw);
        raw = dst;
    } else if (e->codec == CODEC_LZ4) {
        uint8_t *dst = ff_arena_alloc(arena, (size_t)e->raw + 1);
        if (!dst)
            return FF_ERR_SET(err, arena->over_cap ? FF_ELIMIT : FF_ENOMEM,
                              "part %s: block %u column %s: no memory for %u bytes", p->name, block,
                              d->name, e->raw);
        int r = LZ4_decompress_safe((const char *)stored, (char *)dst, (int)e->stored, (int)e->raw);
        if (r < 0)
            return BAD(e->off, "block %u column %s: lz4: malformed block", block, d->name);
        if ((uint32_t)r != e->raw)
            return BAD(e->off, "block %u column %s: decompressed to %d bytes, not %u", block,
                       d->name, r, e->raw);
        raw = dst;
    }
    *raw_out = raw;
    return FF_OK;
}

static ff_rc read_chunk(const ff_part *p, ff_part_ctx *ctx, uint32_t block, ff_col col,
                        bool check_sum, const uint32_t *sel, uint32_t n_sel, ff_arena *arena,
                        ff_colvec *out, ff_err *err)
{
    const ff_col_def *d = ff_schema_col(col);
    const pent *e = &p->dir[(size_t)block * FF_COL_COUNT + (size_t)col];
    const uint8_t *raw;
    ff_rc crc = chunk_raw(p, ctx, block, col, check_sum, arena, &raw, err);
    if (crc != FF_OK)
        return crc;
    ff_chunk_desc cd = {d->type, d->nullable, (ff_enc)e->enc, p->brows[block], e->n_null, false};
    if (ff_type_is_str(d->type))
        cd.n_null = 0; /* for strings the entry counts '' rows, which are not NULL */
    _Atomic uint8_t *ok = &p->chunk_ok[(size_t)block * FF_COL_COUNT + (size_t)col];
    cd.dict_checked = check_sum && (atomic_load_explicit(ok, memory_order_relaxed) & OK_DICT);
    const char *why = "?";
    ff_rc rc = ff_enc_decode_sel(&cd, raw, e->raw, sel, n_sel, arena, out, &why);
    if (rc == FF_OK && check_sum && !cd.dict_checked)
        atomic_fetch_or_explicit(ok, OK_DICT, memory_order_relaxed);
    if (rc == FF_ECORRUPT)
        return BAD(e->off, "block %u column %s (%s): %s", block, d->name,
                   ff_enc_name((ff_enc)e->enc), why);
    if (rc != FF_OK)
        return FF_ERR_SET(err, rc, "part %s: block %u column %s: %s", p->name, block, d->name, why);
    return FF_OK;
}

static ff_rc read_block(const ff_part *p, ff_part_ctx *ctx, uint32_t block, ff_colset cols,
                        bool check_sums, ff_arena *arena, ff_block *out, ff_err *err)
{
    memset(out, 0, sizeof *out);
    if (block >= p->info.n_blocks)
        return FF_ERR_SET(err, FF_EINVAL, "part %s: block %u of %u", p->name, block,
                          p->info.n_blocks);
    if (cols & ~FF_COLSET_ALL)
        return FF_ERR_SET(err, FF_EINVAL, "part %s: unknown columns in set %#" PRIx64, p->name,
                          cols);
    out->block = block;
    out->n_rows = p->brows[block];
    out->first_row = (uint64_t)block * p->info.block_rows;
    for (int c = 0; c < FF_COL_COUNT; c++) {
        if (!(cols & FF_COLSET(c)))
            continue;
        ff_rc rc =
            read_chunk(p, ctx, block, (ff_col)c, check_sums, NULL, 0, arena, &out->col[c], err);
        if (rc != FF_OK) {
            memset(out, 0, sizeof *out);
            return rc;
        }
        out->cols |= FF_COLSET(c);
    }
    return FF_OK;
}

ff_rc ff_part_read(const ff_part *p, ff_part_ctx *ctx, uint32_t block, ff_colset cols,
                   ff_arena *arena, ff_block *out, ff_err *err)
{
    return read_block(p, ctx, block, cols, !p->skip_sums, arena, out, err);
}

ff_rc ff_part_read_sel(const ff_part *p, ff_part_ctx *ctx, uint32_t block, ff_colset cols,
                       const uint32_t *sel, uint32_t n_sel, ff_arena *arena, ff_block *out,
                       ff_err *err)
{
    if (block >= p->info.n_blocks || block != out->block || (cols & ~FF_COLSET_ALL))
        return FF_ERR_SET(err, FF_EINVAL, "part %s: bad selective read of block %u", p->name,
                          block);
    ff_colvec got[FF_COL_COUNT];
    ff_colset add = cols & ~out->cols;
    for (int c = 0; c < FF_COL_COUNT; c++) {
        if (!(add & FF_COLSET(c)))
            continue;
        ff_rc rc =
            read_chunk(p, ctx, block, (ff_col)c, !p->skip_sums, sel, n_sel, arena, &got[c], err);
        if (rc != FF_OK)
            return rc;
    }
    for (int c = 0; c < FF_COL_COUNT; c++)
        if (add & FF_COLSET(c))
            out->col[c] = got[c];
    out->cols |= add;
    return FF_OK;
}

bool ff_part_can_match(const ff_part *p, uint32_t block, ff_col col)
{
    if (block >= p->info.n_blocks || (unsigned)col >= FF_COL_COUNT)
        return false;
    return p->dir[(size_t)block * FF_COL_COUNT + (size_t)col].enc == FF_ENC_STR_POSTINGS;
}

ff_rc ff_part_match(const ff_part *p, ff_part_ctx *ctx, uint32_t block, ff_col col,
                    const ff_str *vals, uint32_t n_vals, ff_arena *arena, uint32_t *rows,
                    uint32_t *n_out, ff_block *out, ff_err *err)
{
    *n_out = 0;
    if (!ff_part_can_match(p, block, col))
        return FF_ERR_SET(err, FF_EINVAL, "part %s: block %u column %d has no postings", p->name,
                          block, (int)col);
    const ff_col_def *d = ff_schema_col(col);
    const pent *e = &p->dir[(size_t)block * FF_COL_COUNT + (size_t)col];
    const uint8_t *raw;
    ff_rc rc = chunk_raw(p, ctx, block, col, !p->skip_sums, arena, &raw, err);
    if (rc != FF_OK)
        return rc;
    ff_chunk_desc cd = {d->type, d->nullable, FF_ENC_STR_POSTINGS, p->brows[block], 0, false};
    const char *why = "?";
    if (out && out->block != block)
        return FF_ERR_SET(err, FF_EINVAL, "part %s: match into a block of another number", p->name);
    ff_colvec v;
    rc = ff_enc_postings_match(&cd, raw, e->raw, vals, n_vals, arena, rows, n_out, out ? &v : NULL,
                               &why);
    if (rc == FF_OK && out) {
        out->col[col] = v;
        out->cols |= FF_COLSET(col);
    }
    if (rc == FF_ECORRUPT)
        return BAD(e->off, "block %u column %s (str_postings): %s", block, d->name, why);
    if (rc != FF_OK)
        return FF_ERR_SET(err, rc, "part %s: block %u column %s: %s", p->name, block, d->name, why);
    return FF_OK;
}

/* ---- verify ------------------------------------------------------------------------------ */

static bool zone_same(const ff_zone *a, const ff_zone *b, bool is_str)
{
    if (a->n_null != b->n_null || a->has_minmax != b->has_minmax)
        return false;
    if (!a->has_minmax)
        return true;
    if (!is_str)
        return a->min == b->min && a->max == b->max;
    return a->min_trunc == b->min_trunc && a->max_trunc == b->max_trunc &&
           a->min_len == b->min_len && a->max_len == b->max_len &&
           memcmp(a->min_s, b->min_s, a->min_len) == 0 &&
           memcmp(a->max_s, b->max_s, a->max_len) == 0;
}

ff_rc ff_part_verify(const ff_part *p, ff_part_ctx *user_ctx, ff_err *err)
{
    if (p->skip_sums) {
        const uint8_t *t = p->base + p->size - TRAILER_BYTES;
        if (XXH3_64bits(p->base + p->footer_off, p->footer_len) != get_u64(t + 16))
            return BAD(p->footer_off, "footer checksum mismatch");
    }
    ff_part_ctx *ctx = user_ctx;
    ff_rc rc = ctx ? FF_OK : ff_part_ctx_new(&ctx, err);
    if (rc)
        return rc;
    ff_arena arena;
    ff_arena_init(&arena, 1 << 16, 0);
    ff_str *sv = ff_malloc((size_t)p->info.block_rows * sizeof *sv + 1);
    char prev_person[FF_ZONE_STR_MAX * 4];
    ff_row prev;
    bool have_prev = false;
    uint32_t prev_len = 0;
    bool prev_trunc = false;
    int64_t min_ts = 0, max_ts = 0;
    if (!sv)
        rc = FF_ERR_SET(err, FF_ENOMEM, "part %s: out of memory", p->name);
    for (uint32_t b = 0; b < p->info.n_blocks && rc == FF_OK; b++) {
        ff_arena_reset(&arena);
        ff_block blk;
        for (int c = 0; c < FF_COL_COUNT; c++) /* verify checks every chunk afresh */
            atomic_store_explicit(&p->chunk_ok[(size_t)b * FF_COL_COUNT + (size_t)c], 0,
                                  memory_order_relaxed);
        if ((rc = read_block(p, ctx, b, FF_COLSET_ALL, true, &arena, &blk, err)) != FF_OK)
            break;
        uint64_t at = p->dir[(size_t)b * FF_COL_COUNT].off;
        for (int c = 0; c < FF_COL_COUNT && rc == FF_OK; c++) {
            const ff_colvec *v = &blk.col[c];
            const ff_col_def *d = ff_schema_col((ff_col)c);
            ff_zone want, got;
            ff_part_zone(p, b, (ff_col)c, &want);
            if (ff_type_is_str(d->type)) {
                for (uint32_t i = 0; i < blk.n_rows; i++)
                    sv[i].p = ff_colvec_str(v, i, &sv[i].len);
                ff_zone_build_str(&got, sv, blk.n_rows);
            } else {
                ff_zone_build_i64(&got, d->type, v->i64, v->nulls, blk.n_rows);
            }
            if (!zone_same(&want, &got, ff_type_is_str(d->type)))
                rc = BAD(p->dir[(size_t)b * FF_COL_COUNT + (size_t)c].off,
                         "block %u column %s: zone map does not match the data", b, d->name);
        }
        for (uint32_t i = 0; i < blk.n_rows && rc == FF_OK; i++) {
            ff_row r;
            ff_block_row(&blk, i, &r);
            int64_t ts = r.num[FF_COL_TS];
            uint64_t lo = (uint64_t)r.num[FF_COL_LOG_OFFSET];
            if (b == 0 && i == 0)
                min_ts = max_ts = ts;
            min_ts = ts < min_ts ? ts : min_ts;
            max_ts = ts > max_ts ? ts : max_ts;
            if (lo < p->info.log_first || lo > p->info.log_last)
                rc = BAD(at, "block %u row %u: log offset %" PRIu64 " outside the part's range", b,
                         i, lo);
            else if (p->info.partition_day != FF_PART_DAY_NONE &&
                     day_of(ts) != p->info.partition_day)
                rc = BAD(at, "block %u row %u: ts not on the partition day", b, i);
            else if (have_prev && ff_row_cmp(&prev, &r) > 0)
                rc = BAD(at, "block %u row %u: rows out of order", b, i);
            if (rc)
                break;
            /* Keep the previous row's sort key across blocks (the arena is reset). The
             * person is copied up to a bound: beyond it, order is checked within blocks. */
            ff_str ps = ff_row_person(&r);
            prev_trunc = ps.len > sizeof prev_person;
            prev_len = prev_trunc ? (uint32_t)sizeof prev_person : ps.len;
            if (prev_len)
                memcpy(prev_person, ps.p, prev_len);
            ff_row_clear(&prev);
            prev.str[FF_COL_USER_ID] = (ff_str){prev_person, prev_len};
            prev.num[FF_COL_TS] = ts;
            prev.num[FF_COL_LOG_OFFSET] = (int64_t)lo;
            have_prev = !prev_trunc;
        }
    }
    if (rc == FF_OK && p->info.n_rows && (min_ts != p->info.min_ts || max_ts != p->info.max_ts))
        rc = BAD(p->footer_off + 32, "footer ts range does not match the rows");
    ff_free(sv);
    ff_arena_fini(&arena);
    if (ctx != user_ctx)
        ff_part_ctx_free(ctx);
    return rc;
}
