/* bench_query_load.c -- builds the data set of bench/query.sh: simulated shop traffic loaded
 * into a footfall data folder and, row for row, into a TSV file for ClickHouse.
 *
 * WHAT: N events of the simulator's model (src/sim, the same generator as `footfall
 * simulate`), spread evenly over D days ending at --end (default: today 00:00 UTC), pass
 * through the collector exactly as HTTP batches would (ff_collect_decode: validation,
 * normalisation, privacy), are appended to DATA/log, and the store consumer then seals and
 * merges them into DATA/store. Each stored record is also written as one TSV line in the
 * column order of bench/query.sh's ClickHouse table, so both engines hold the same rows.
 *
 * DESIGN: the "server clock" of each batch is the simulated time of its events (received_at
 * = sentAt = the batch's simulated now), so nothing is skew-corrected: the data is what a
 * live shop would have produced over those days. Log fsyncs are batched by the interval
 * policy (a bench set-up, not an ingest measurement; bench/ingest.sh measures ingest).
 * TSV: ClickHouse's TabSeparated escaping (\t \n \\ ...), NULL as \N, times as DateTime
 * seconds plus a separate millisecond column (ClickHouse 18.16 has no DateTime64).
 *
 *   bench_query_load --data DIR --events N --days D [--users U] [--seed S] [--tsv FILE]
 *
 * Prints one JSON line with counts and timings.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "collect/ff_collect.h"
#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_clock.h"
#include "evlog/ff_evlog.h"
#include "sim/ff_sim.h"
#include "store/ff_schema.h"
#include "store/ff_store.h"

#define BATCH 500

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, const ff_err *err)
{
    fprintf(stderr, "bench_query_load: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

static void tsv_str(FILE *f, ff_str s)
{
    for (uint32_t i = 0; i < s.len; i++) {
        char c = s.p[i];
        switch (c) {
        case '\t':
            fputs("\\t", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\0':
            fputs("\\0", f);
            break;
        default:
            fputc(c, f);
        }
    }
}

/* Column order of the ClickHouse table in bench/query.sh: every schema column in ff_col
 * order, times as DateTime (seconds) + ts_ms (the milliseconds of ts). */
static void tsv_row(FILE *f, const ff_row *r)
{
    for (int c = 0; c < FF_COL_COUNT; c++) {
        const ff_col_def *d = ff_schema_col((ff_col)c);
        if (c)
            fputc('\t', f);
        if (ff_type_is_str(d->type)) {
            tsv_str(f, r->str[c]);
        } else if (r->null & FF_COLSET(c)) {
            fputs("\\N", f);
        } else if (d->type == FF_TYPE_TIME_MS) {
            int64_t ms = r->num[c];
            fprintf(f, "%" PRId64, ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000));
        } else if (d->type == FF_TYPE_DECIMAL) {
            char b[32];
            size_t n = ff_decimal_format(r->num[c], b);
            fwrite(b, 1, n, f);
        } else if (d->type == FF_TYPE_UINT64) {
            fprintf(f, "%" PRIu64, (uint64_t)r->num[c]);
        } else {
            fprintf(f, "%" PRId64, r->num[c]);
        }
    }
    fprintf(f, "\t%d\n", (int)(((r->num[FF_COL_TS] % 1000) + 1000) % 1000));
}

/* Generate n_events through the collector into log (and tsv when set). Returns seconds. */
static double load_log(ff_evlog *log, uint64_t n_events, int64_t start_ms, double step_ms,
                       uint32_t users, uint64_t seed, const char *tsv, uint64_t *stored_out,
                       uint64_t *rejected_out, uint64_t *dup_out)
{
    ff_err err = {0};
    ff_collect_opts co;
    ff_collect_opts_default(&co);
    co.keep_bots = true;
    ff_collect *col;
    if (ff_collect_new(&co, &col, &err))
        die("collector", &err);
    ff_simgen_opts go = {.seed = seed, .n_users = users, .n_sessions = 256};
    ff_simgen *gen;
    if (ff_simgen_new(&go, &gen, &err))
        die("simulator", &err);
    FILE *tf = NULL;
    if (tsv && !(tf = fopen(tsv, "w"))) {
        perror(tsv);
        exit(1);
    }

    ff_buf body;
    ff_buf_init(&body, 0);
    ff_arena arena, rarena;
    ff_arena_init(&arena, 1 << 20, 256u << 20);
    ff_arena_init(&rarena, 1 << 20, 64u << 20);
    ff_collect_out out;
    ff_collect_out_init(&out);
    uint64_t done = 0, stored = 0, rejected = 0, dup = 0;
    double t0 = mono_s();
    while (done < n_events) {
        ff_buf_reset(&body);
        ff_buf_adds(&body, "{\"batch\":[");
        int64_t now = start_ms;
        uint32_t n = 0;
        for (; n < BATCH && done < n_events; n++, done++) {
            now = start_ms + (int64_t)((double)done * step_ms);
            if (n)
                ff_buf_addc(&body, ',');
            if (ff_simgen_next(gen, now, &body))
                die("generate", NULL);
        }
        char iso[40];
        ff_clock_format_rfc3339(now, iso);
        ff_buf_printf(&body, "],\"sentAt\":\"%s\"}", iso);
        ff_collect_req req = {
            .call = FF_CALL_BATCH,
            .content_type = "application/json",
            .body = body.data,
            .body_len = body.len,
            .peer_ip = "203.0.113.7",
            .user_agent = "Mozilla/5.0 (X11; Linux x86_64) bench",
            .received_at_ms = now,
        };
        ff_arena_reset(&arena);
        if (ff_collect_decode(col, &req, &arena, &out) || out.status) {
            fprintf(stderr, "bench_query_load: decode: %d %s %s\n", out.status,
                    out.code ? out.code : "", out.message ? out.message : "");
            exit(1);
        }
        uint64_t first = 0;
        if (out.n_records &&
            ff_evlog_append(log, out.payload.data, out.payload.len, out.n_records, &first, &err))
            die("append", &err);
        stored += out.n_records;
        rejected += out.n_rejected;
        dup += out.n_duplicates;
        if (tf) {
            const unsigned char *p = (const unsigned char *)out.payload.data;
            const unsigned char *e = p + out.payload.len;
            for (uint64_t off = first; p + 4 <= e; off++) {
                uint32_t len = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                               (uint32_t)p[3] << 24;
                ff_row row;
                ff_arena_reset(&rarena);
                if (ff_row_from_record((const char *)p + 4, len, off, &rarena, &row, &err))
                    die("row", &err);
                tsv_row(tf, &row);
                p += 4 + len;
            }
        }
        ff_collect_finish(col, &out, true);
        if ((done / BATCH) % 2000 == 0)
            fprintf(stderr, "\rloaded %" PRIu64 " / %" PRIu64, done, n_events);
    }
    fprintf(stderr, "\n");
    double t_log = mono_s() - t0;
    ff_collect_out_fini(col, &out);
    ff_collect_free(col);
    ff_simgen_free(gen);
    ff_buf_fini(&body);
    ff_arena_fini(&arena);
    ff_arena_fini(&rarena);
    if (tf && fclose(tf)) {
        perror(tsv);
        exit(1);
    }
    *stored_out = stored;
    *rejected_out = rejected;
    *dup_out = dup;
    return t_log;
}

int main(int argc, char **argv)
{
    const char *data = NULL, *tsv = NULL;
    uint64_t n_events = 1000000, seed = 42;
    uint32_t days = 14, users = 200000;
    int64_t end_ms = 0;
    int store_only = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--store-only")) { /* rebuild DATA/store from the existing log */
            store_only = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "bench_query_load: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (!strcmp(a, "--data"))
            data = v;
        else if (!strcmp(a, "--tsv"))
            tsv = v;
        else if (!strcmp(a, "--events"))
            n_events = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--days"))
            days = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--users"))
            users = (uint32_t)strtoul(v, NULL, 10);
        else if (!strcmp(a, "--seed"))
            seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--end-ms"))
            end_ms = strtoll(v, NULL, 10);
        else {
            fprintf(stderr, "usage: bench_query_load --data DIR [--events N] [--days D] "
                            "[--users U] [--seed S] [--end-ms MS] [--tsv FILE]\n");
            return 2;
        }
    }
    if (!data || !days || !n_events) {
        fprintf(stderr, "bench_query_load: --data DIR is required; events and days > 0\n");
        return 2;
    }
    if (!end_ms)
        end_ms = ff_clock_now_ms() / 86400000 * 86400000;
    int64_t start_ms = end_ms - (int64_t)days * 86400000;
    double step_ms = (double)days * 86400000.0 / (double)n_events;

    ff_err err = {0};
    char dir[2048];
    if (mkdir(data, 0755) && errno != EEXIST) {
        perror(data);
        return 1;
    }
    snprintf(dir, sizeof dir, "%s/log", data);
    ff_evlog_opts lo = {.dir = dir, .sync = FF_EVLOG_SYNC_INTERVAL, .sync_interval_ms = 1000};
    ff_evlog *log;
    if (ff_evlog_open(&lo, &log, &err))
        die("open log", &err);
    uint64_t stored = 0, rejected = 0, dup = 0;
    double t_log = 0;
    if (!store_only)
        t_log =
            load_log(log, n_events, start_ms, step_ms, users, seed, tsv, &stored, &rejected, &dup);
    snprintf(dir, sizeof dir, "%s/store", data);
    if (store_only) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            return 1;
    }
    ff_store_opts so = {.dir = dir, .log = log, .seal_max_rows = 100000};
    ff_store *st;
    if (ff_store_open(&so, &st, &err))
        die("open store", &err);
    double t1 = mono_s();
    for (;;) {
        uint64_t n = 0;
        if (ff_store_poll(st, 1000000, &n, &err))
            die("store poll", &err);
        if (!n)
            break;
    }
    if (ff_store_flush(st, &err))
        die("seal", &err);
    double t_seal = mono_s() - t1;
    if (ff_store_merge_all(st, &err))
        die("merge", &err);
    double t_store = mono_s() - t1;
    ff_store_stats ss;
    ff_store_stats_get(st, &ss);
    ff_store_close(st);
    ff_evlog_close(log);
    printf("{\"events\":%" PRIu64 ",\"stored\":%" PRIu64 ",\"rejected\":%" PRIu64
           ",\"duplicates\":%" PRIu64 ",\"start_ms\":%" PRId64 ",\"end_ms\":%" PRId64
           ",\"rows\":%" PRIu64 ",\"parts\":%" PRIu64 ",\"store_bytes\":%" PRIu64
           ",\"load_s\":%.2f,\"seal_s\":%.2f,\"store_s\":%.2f}\n",
           n_events, stored, rejected, dup, start_ms, end_ms, ss.rows, ss.parts, ss.bytes, t_log,
           t_seal, t_store);
    return 0;
}
