/* bench_part.c -- part encode/decode throughput and bytes per event.
 *
 * Usage: bench_part [--taobao CSV] [--ndjson FILE] [--level N] [--block-rows N] [--repeat N]
 *   --taobao   the Taobao UserBehavior CSV (default ../shared/data/taobao-userbehavior-slice/
 *              UserBehavior_slice.csv, relative to the working folder)
 *   --ndjson   canonical records, one per line (`footfall log dump` output)
 *
 * For each data set: conversion to rows (records: JSON parse), writer (sort + encode +
 * compress, in memory), bytes per event (total and per column, with the encodings chosen),
 * and decode speed for a full scan and for single-column scans. Prints JSON lines, one per
 * measurement (style.md section 12); never asserts on time.
 *
 * Not under bench/ directly yet: CMake links bench_*.c against FF_ALL_LIBS, which does not
 * hold ff_store until the binary uses it, so it would break the default build. Until then:
 *   cmake --build build-store --target ff_store
 *   cc -O2 -std=c11 -D_GNU_SOURCE -Isrc bench/store/bench_part.c build-store/libff_store.a \
 *      build-store/libff_evlog.a build-store/libff_core.a -lzstd -lz -lpthread -lm \
 *      -o build-store/bench_part
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ff_clock.h"
#include "store/ff_part.h"

typedef struct dataset {
    const char *name;
    ff_row *rows;
    uint32_t n;
    uint64_t input_bytes;
    double convert_s;
    ff_arena arena;
} dataset;

static double now_s(void)
{
    return (double)ff_clock_mono_ns() / 1e9;
}

static int load(dataset *d, const char *path, bool taobao)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "bench_part: %s: cannot open (skipped)\n", path);
        return -1;
    }
    ff_arena_init(&d->arena, 4 << 20, 0);
    uint32_t cap = 1 << 16;
    d->rows = malloc(cap * sizeof *d->rows);
    size_t lcap = 1 << 20;
    char *line = malloc(lcap);
    double t0 = now_s();
    while (fgets(line, (int)lcap, f)) {
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            len--;
        if (!len)
            continue;
        if (d->n == cap) {
            cap *= 2;
            d->rows = realloc(d->rows, cap * sizeof *d->rows);
        }
        ff_err err;
        ff_rc rc = taobao ? ff_row_from_taobao(line, len, d->n, &d->arena, &d->rows[d->n], &err)
                          : ff_row_from_record(line, len, d->n, &d->arena, &d->rows[d->n], &err);
        if (rc != FF_OK) {
            fprintf(stderr, "bench_part: %s line %u: %s\n", path, d->n + 1, err.msg);
            continue;
        }
        d->input_bytes += len + 1;
        d->n++;
    }
    d->convert_s = now_s() - t0;
    fclose(f);
    free(line);
    return 0;
}

static void bench(dataset *d, int level, uint32_t block_rows, int repeat)
{
    uint64_t raw_bytes = 0; /* column values as plain bytes: strings + 8 per number */
    for (uint32_t i = 0; i < d->n; i++)
        for (int c = 0; c < FF_COL_COUNT; c++)
            raw_bytes += ff_type_is_str(ff_schema_col((ff_col)c)->type) ? d->rows[i].str[c].len : 8;
    printf("{\"bench\":\"part_convert\",\"data\":\"%s\",\"rows\":%u,\"input_bytes\":%llu,"
           "\"seconds\":%.3f,\"rows_per_s\":%.0f}\n",
           d->name, d->n, (unsigned long long)d->input_bytes, d->convert_s, d->n / d->convert_s);

    ff_buf out;
    ff_buf_init(&out, 0);
    ff_part_info info = {0};
    double best_w = 1e9;
    for (int r = 0; r < repeat; r++) {
        ff_buf_reset(&out);
        ff_part_writer_opts o = {.block_rows = block_rows, .zstd_level = level};
        ff_part_writer *w;
        double t0 = now_s();
        ff_part_writer_new(&o, &w, NULL);
        for (uint32_t i = 0; i < d->n; i++)
            ff_part_writer_add(w, &d->rows[i], NULL);
        ff_err err;
        if (ff_part_writer_finish_mem(w, &out, &info, &err) != FF_OK) {
            fprintf(stderr, "bench_part: write: %s\n", err.msg);
            exit(1);
        }
        ff_part_writer_free(w);
        double t = now_s() - t0;
        best_w = t < best_w ? t : best_w;
    }
    printf("{\"bench\":\"part_write\",\"data\":\"%s\",\"rows\":%u,\"zstd_level\":%d,"
           "\"block_rows\":%u,\"seconds\":%.3f,\"rows_per_s\":%.0f,\"raw_mb_per_s\":%.1f,"
           "\"file_bytes\":%llu,\"bytes_per_event\":%.2f,\"raw_bytes_per_event\":%.1f,"
           "\"input_bytes_per_event\":%.1f}\n",
           d->name, d->n, level, info.block_rows, best_w, d->n / best_w, raw_bytes / best_w / 1e6,
           (unsigned long long)info.file_bytes, (double)info.file_bytes / d->n,
           (double)raw_bytes / d->n, (double)d->input_bytes / d->n);

    ff_part *p;
    ff_err err;
    if (ff_part_open_mem(out.data, out.len, d->name, NULL, &p, &err) != FF_OK) {
        fprintf(stderr, "bench_part: open: %s\n", err.msg);
        exit(1);
    }
    /* per column: stored bytes per event and the encodings chosen */
    for (int c = 0; c < FF_COL_COUNT; c++) {
        uint64_t stored = 0, raw = 0;
        uint32_t encs[32] = {0}, zstd = 0;
        for (uint32_t b = 0; b < info.n_blocks; b++) {
            ff_part_chunk ch;
            ff_part_chunk_stat(p, b, (ff_col)c, &ch);
            stored += ch.stored_bytes;
            raw += ch.raw_bytes;
            encs[ch.enc & 31]++;
            zstd += ch.zstd;
        }
        char encbuf[160] = "";
        size_t o = 0;
        for (int e = 0; e < 32; e++)
            if (encs[e])
                o += (size_t)snprintf(encbuf + o, sizeof encbuf - o, "%s%s:%u", o ? "," : "",
                                      ff_enc_name((ff_enc)e), encs[e]);
        printf("{\"bench\":\"part_column\",\"data\":\"%s\",\"column\":\"%s\","
               "\"bytes_per_event\":%.3f,\"raw_bytes_per_event\":%.3f,\"encodings\":\"%s\","
               "\"zstd_chunks\":%u}\n",
               d->name, ff_schema_col((ff_col)c)->name, (double)stored / d->n, (double)raw / d->n,
               encbuf, zstd);
    }
    printf("{\"bench\":\"part_footer\",\"data\":\"%s\",\"bytes_per_event\":%.3f}\n", d->name,
           (double)(info.file_bytes - info.chunk_bytes) / d->n);

    /* decode: all columns, then single columns */
    ff_part_ctx *ctx;
    ff_part_ctx_new(&ctx, NULL);
    ff_arena a;
    ff_arena_init(&a, 1 << 20, 0);
    struct {
        const char *name;
        ff_colset cols;
    } scans[] = {{"all", FF_COLSET_ALL},
                 {"ts", FF_COLSET(FF_COL_TS)},
                 {"event", FF_COLSET(FF_COL_EVENT)},
                 {"user_id", FF_COLSET(FF_COL_USER_ID)},
                 {"price", FF_COLSET(FF_COL_PRICE)},
                 {"properties", FF_COLSET(FF_COL_PROPERTIES)}};
    for (size_t s = 0; s < sizeof scans / sizeof scans[0]; s++) {
        double best = 1e9;
        uint64_t stored = 0;
        for (uint32_t b = 0; b < info.n_blocks; b++)
            for (int c = 0; c < FF_COL_COUNT; c++)
                if (scans[s].cols & FF_COLSET(c)) {
                    ff_part_chunk ch;
                    ff_part_chunk_stat(p, b, (ff_col)c, &ch);
                    stored += ch.stored_bytes;
                }
        volatile uint64_t sink = 0;
        for (int r = 0; r < repeat; r++) {
            double t0 = now_s();
            for (uint32_t b = 0; b < info.n_blocks; b++) {
                ff_block blk;
                ff_arena_reset(&a);
                if (ff_part_read(p, ctx, b, scans[s].cols, &a, &blk, &err) != FF_OK) {
                    fprintf(stderr, "bench_part: read: %s\n", err.msg);
                    exit(1);
                }
                sink += blk.n_rows;
            }
            double t = now_s() - t0;
            best = t < best ? t : best;
        }
        printf("{\"bench\":\"part_read\",\"data\":\"%s\",\"columns\":\"%s\",\"rows\":%u,"
               "\"seconds\":%.4f,\"rows_per_s\":%.0f,\"stored_mb_per_s\":%.1f}\n",
               d->name, scans[s].name, d->n, best, d->n / best, stored / best / 1e6);
    }
    ff_arena_fini(&a);
    ff_part_ctx_free(ctx);
    ff_part_close(p);
    ff_buf_fini(&out);
}

int main(int argc, char **argv)
{
    const char *taobao = "../shared/data/taobao-userbehavior-slice/UserBehavior_slice.csv";
    const char *ndjson = NULL;
    int level = 3, repeat = 3;
    uint32_t block_rows = 0;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--taobao"))
            taobao = argv[i + 1];
        else if (!strcmp(argv[i], "--ndjson"))
            ndjson = argv[i + 1];
        else if (!strcmp(argv[i], "--level"))
            level = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--block-rows"))
            block_rows = (uint32_t)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--repeat"))
            repeat = atoi(argv[i + 1]);
    }
#ifdef NDEBUG
    const char *build = "release";
#else
    const char *build = "debug";
#endif
    const char *commit = getenv("FF_COMMIT");
    printf("{\"bench\":\"part_meta\",\"commit\":\"%s\",\"build\":\"%s\",\"repeat\":%d}\n",
           commit ? commit : "unknown", build, repeat);
    dataset t = {.name = "taobao"};
    if (taobao && load(&t, taobao, true) == 0) {
        bench(&t, level, block_rows, repeat);
        ff_arena_fini(&t.arena);
        free(t.rows);
    }
    dataset s = {.name = "records"};
    if (ndjson && load(&s, ndjson, false) == 0) {
        bench(&s, level, block_rows, repeat);
        ff_arena_fini(&s.arena);
        free(s.rows);
    }
    return 0;
}
