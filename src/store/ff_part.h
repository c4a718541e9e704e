/* ff_part.h -- immutable columnar parts: one file per part; writer and reader.
 *
 * WHAT: a part is a sorted, immutable batch of events on disk, the unit that the log consumer
 * seals, merges merge, TTL drops and queries scan. Byte layout: docs/formats/part.md.
 *
 * DESIGN:
 *
 *   file = header | chunk ... chunk | footer | trailer
 *
 *   Rows are sorted by (person, ts, log_offset) (ff_row_cmp) and cut into blocks of
 *   block_rows (8192 by default; only the last block is shorter). Each (block, column) is one
 *   chunk: the column's values in that block, encoded (ff_enc.h: the candidates that apply
 *   are encoded and compressed and the smallest stored result wins) and compressed with zstd
 *   when that saves at least 1/8. Chunks are laid out column by column (all blocks of
 *   event_id, then all of ts, ...), so a scan of a few columns reads a few contiguous runs.
 *   The footer holds the part's facts (version, rows, min/max ts, the log offset range it
 *   covers, partition day), the schema, and a directory entry per chunk: offset, lengths,
 *   encoding, codec, XXH3-64 checksum of the stored bytes, NULL count and min/max (the zone
 *   map, ff_zone.h). The trailer (last 32 bytes) locates the footer and checksums it.
 *
 *   Writer: rows are added in any order (copied into the writer); finish sorts, encodes and
 *   writes "<path>.tmp", fsyncs it, renames it to path without replacing (renameat2
 *   RENAME_NOREPLACE, or link+unlink where that is unsupported), and fsyncs the directory:
 *   after a crash either the complete part exists under its name or it does not (a stale
 *   "<path>.tmp" may remain: whoever owns the folder deletes *.tmp at start). The writer
 *   holds every row until finish -- about 120 bytes per row plus the string bytes, bounded by
 *   max_rows/max_bytes -- and finish needs 16 more bytes per row for the sort. reset empties
 *   a writer for the next part while keeping all of that memory (and the zstd context).
 *
 *     new --add*--> [adding] --finish ok--> [done]      (free or reset in any state;
 *                                                         reset --> [adding], empty)
 *                     |   \----finish fails--> [failed] (temp removed; add/finish: FF_EFAILED)
 *                     \--finish: path exists (checked first, nothing written) --> [adding]
 *
 *   Reader: open maps the file read-only, checks header, trailer, footer checksum and every
 *   directory entry's bounds, and keeps the parsed directory. Chunks are checked lazily: each
 *   read verifies the checksum of the chunks it touches, decompresses and decodes them, and
 *   touches no other chunk. Any damage gives FF_ECORRUPT with the file, byte offset, block,
 *   column and reason in the ff_err message; hostile bytes never crash the reader
 *   (tests/fuzz/fuzz_part.c).
 *
 * INVARIANTS (of every part that opens):
 *  (1) n_rows == sum of block rows; blocks 0..n-2 hold exactly block_rows rows, the last
 *      1..block_rows; n_rows == 0 exactly when n_blocks == 0.
 *  (2) Rows are in ff_row_cmp order across the whole part (the writer guarantees it; the
 *      reader does not re-check it).
 *  (3) min_ts/max_ts bound every row's ts; log_first <= every row's log_offset <= log_last.
 *  (4) Every directory entry points inside the chunk area; a chunk's bytes are covered by
 *      its checksum, the footer by the trailer's.
 *  (5) With a partition day, every row's ts falls on that UTC day.
 *
 * THREADING: an open ff_part is immutable: any number of threads may call ff_part_read /
 * ff_part_zone / ff_part_get_info on one handle concurrently, each with its own ff_part_ctx
 * and arena (blocks may be the same or different). ff_part_close must not race with them.
 * A writer belongs to one thread.
 *
 * OWNERSHIP: open returns an owned handle (close frees it); ff_part_open_mem borrows the
 * buffer for the handle's life. Vectors from ff_part_read live in the caller's arena and in
 * the part's mapping (ff_colvec.h). The writer copies added rows.
 *
 * A mapped file that is truncated by someone else while open would fault (SIGBUS): parts are
 * immutable and only ever deleted (unlink keeps the mapping valid), never rewritten.
 */
#ifndef FF_PART_H
#define FF_PART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_err.h"
#include "store/ff_colvec.h"
#include "store/ff_enc.h"
#include "store/ff_schema.h"
#include "store/ff_zone.h"

/* written; read: 1 (no LZ4 chunks), 2 (LZ4), 3 (STR_POSTINGS chunks) */
#define FF_PART_VERSION 3
#define FF_PART_VERSION_MIN 1
#define FF_PART_BLOCK_ROWS 8192
#define FF_PART_MAX_BLOCK_ROWS 65536
#define FF_PART_MAX_CHUNK_BYTES (1u << 30) /* raw or stored size of one chunk */
#define FF_PART_DAY_NONE INT32_MIN         /* not partitioned by day */

typedef struct ff_part ff_part;
typedef struct ff_part_writer ff_part_writer;
typedef struct ff_part_ctx ff_part_ctx;

/* What a part's footer says about it. */
typedef struct ff_part_info {
    uint32_t version;
    uint32_t n_blocks;
    uint32_t block_rows;
    int32_t partition_day; /* days since 1970-01-01 (UTC) or FF_PART_DAY_NONE */
    uint64_t n_rows;
    int64_t min_ts, max_ts;       /* 0, 0 for an empty part */
    uint64_t log_first, log_last; /* the log offsets the part covers, inclusive */
    int64_t created_ms;
    uint64_t file_bytes;
    uint64_t chunk_bytes; /* stored bytes of all chunks */
} ff_part_info;

/* One chunk's directory entry (for stats, benchmarks and `store verify`). */
typedef struct ff_part_chunk {
    uint64_t offset;
    uint32_t stored_bytes;
    uint32_t raw_bytes;
    ff_enc enc;
    bool zstd;
    bool lz4;
} ff_part_chunk;

/* ---- writer ------------------------------------------------------------------------------ */

typedef struct ff_part_writer_opts {
    uint32_t block_rows; /* 0 = FF_PART_BLOCK_ROWS; at most FF_PART_MAX_BLOCK_ROWS */
    int zstd_level;      /* 0 = 3; 1..19; -1 = never compress */
    /* When set, every row's ts must fall on this UTC day (else add fails with FF_EINVAL). */
    bool has_partition_day;
    int32_t partition_day;
    /* The log offsets the part covers (inclusive). When set, every row's log_offset must be
     * inside; when not set, the range is the rows' min..max log_offset, and an empty part
     * cannot be finished. A consumer that dropped duplicates sets it to what it consumed. */
    bool has_log_range;
    uint64_t log_first, log_last;
    uint64_t max_rows;    /* 0 = 16 Mi rows; add fails with FF_ELIMIT past it */
    uint64_t max_bytes;   /* string bytes held; 0 = 2 GiB; FF_ELIMIT past it */
    uint32_t enc_allowed; /* FF_ENC_BIT mask of encodings to consider; 0 = all (tests) */
    bool no_sync;         /* skip fsyncs: gives up durability; tests and benchmarks only */
    int64_t created_ms;   /* 0 = now */
    uint32_t version;     /* format version to write: 0 = FF_PART_VERSION; 2 (for tests of
                             upgrades: no encodings newer than version 2) */
} ff_part_writer_opts;

/* opts may be NULL (defaults). */
ff_rc ff_part_writer_new(const ff_part_writer_opts *opts, ff_part_writer **out, ff_err *err);
void ff_part_writer_free(ff_part_writer *w); /* NULL is a no-op */
/* Empty w (any state) and give it new opts, as if freshly made by ff_part_writer_new, but
 * keep its memory: column buffers and finish's sort arrays, encoder and zstd context. A
 * consumer that writes a part per second reuses its writers this way and touches no fresh
 * pages (capacity over 4x what the last part needed, past a floor, is given back). FF_EINVAL
 * for bad opts (w is then unchanged). */
ff_rc ff_part_writer_reset(ff_part_writer *w, const ff_part_writer_opts *opts, ff_err *err);

/* Copy one row into the writer. FF_EINVAL for a row outside the partition day or log range,
 * FF_ELIMIT past max_rows/max_bytes, FF_EFAILED after a failed finish. */
ff_rc ff_part_writer_add(ff_part_writer *w, const ff_row *row, ff_err *err);
uint64_t ff_part_writer_n_rows(const ff_part_writer *w);

/* Sort, encode and publish atomically at path (see DESIGN). info_out may be NULL. FF_EEXIST
 * when path exists before anything is written: the writer is unchanged (finish again under
 * another name). Otherwise the writer is done or failed (FF_EIO for an OS failure, or
 * FF_EEXIST when path appeared meanwhile; the temp file is removed): free it. */
ff_rc ff_part_writer_finish(ff_part_writer *w, const char *path, ff_part_info *info_out,
                            ff_err *err);
/* The same, appending the part's bytes to out instead of a file (tests, fuzz seeds, shipping a
 * part elsewhere). On failure out is left as it was. */
ff_rc ff_part_writer_finish_mem(ff_part_writer *w, ff_buf *out, ff_part_info *info_out,
                                ff_err *err);

/* ---- reader ------------------------------------------------------------------------------ */

typedef struct ff_part_open_opts {
    /* Do not verify checksums (footer and chunks): for fuzzing the decoders behind them and
     * for salvage tools. Bounds are still checked; damage may then decode as wrong values. */
    bool skip_checksums;
} ff_part_open_opts;

/* opts may be NULL. FF_ENOTFOUND when the file does not exist, FF_EIO, FF_ECORRUPT. */
ff_rc ff_part_open(const char *path, const ff_part_open_opts *opts, ff_part **out, ff_err *err);
/* Open a part held in memory; buf must outlive the handle. name is for messages. */
ff_rc ff_part_open_mem(const void *buf, size_t len, const char *name, const ff_part_open_opts *opts,
                       ff_part **out, ff_err *err);
void ff_part_close(ff_part *p); /* NULL is a no-op */

const ff_part_info *ff_part_get_info(const ff_part *p);
uint32_t ff_part_block_n_rows(const ff_part *p, uint32_t block); /* 0 when out of range */
/* Zone map of (block, col); FF_EINVAL when out of range. */
ff_rc ff_part_zone(const ff_part *p, uint32_t block, ff_col col, ff_zone *out);
ff_rc ff_part_chunk_stat(const ff_part *p, uint32_t block, ff_col col, ff_part_chunk *out);

/* Per-thread read state (zstd decompression context). */
ff_rc ff_part_ctx_new(ff_part_ctx **out, ff_err *err);
void ff_part_ctx_free(ff_part_ctx *c); /* NULL is a no-op */

/* Decode the columns in cols of one block into out, allocating from arena. Touches only
 * those columns' chunks (and verifies their checksums). ctx may be NULL (slower: a zstd
 * context per chunk). FF_ECORRUPT on damage; FF_ELIMIT when the arena's cap is hit;
 * FF_EINVAL for a block out of range or cols outside FF_COLSET_ALL. */
ff_rc ff_part_read(const ff_part *p, ff_part_ctx *ctx, uint32_t block, ff_colset cols,
                   ff_arena *arena, ff_block *out, ff_err *err);
/* Add the columns in cols to a block that ff_part_read filled (columns it already holds are
 * left alone), decoding only the rows sel[0..n_sel) (ascending): other rows of these columns
 * read as ff_enc_decode_sel says (0, code 0, nil UUID). For a scan whose WHERE, evaluated on
 * the first columns, kept few rows. On error out is left as it was. */
ff_rc ff_part_read_sel(const ff_part *p, ff_part_ctx *ctx, uint32_t block, ff_colset cols,
                       const uint32_t *sel, uint32_t n_sel, ff_arena *arena, ff_block *out,
                       ff_err *err);

/* Whether chunk (block, col) is a STR_POSTINGS one, which ff_part_match answers. */
bool ff_part_can_match(const ff_part *p, uint32_t block, ff_col col);
/* The rows of the block (ascending, into rows[] with room for its n_rows) whose string column
 * col equals one of vals[0..n_vals), read from the chunk's postings without decoding the other
 * rows; *n_out gets their count. out (or NULL): the block, to which col is added as
 * ff_part_read_sel would add it for those rows. FF_EINVAL when !ff_part_can_match;
 * FF_ECORRUPT on damage. */
ff_rc ff_part_match(const ff_part *p, ff_part_ctx *ctx, uint32_t block, ff_col col,
                    const ff_str *vals, uint32_t n_vals, ff_arena *arena, uint32_t *rows,
                    uint32_t *n_out, ff_block *out, ff_err *err);

/* Check every chunk (checksum, decompression, decoding, zone map against the data, sort
 * order, ts range, log range, partition day) even when opened with skip_checksums. For
 * `footfall store verify` and after writing. ctx may be NULL. */
ff_rc ff_part_verify(const ff_part *p, ff_part_ctx *ctx, ff_err *err);

#endif /* FF_PART_H */
