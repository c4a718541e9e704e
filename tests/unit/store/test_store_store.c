/* test_store_store.c -- the store (log consumer): per-day parts, dedupe, exactly once across
 * restarts, merges (multiset of rows kept, snapshots survive them), recovery from an
 * interrupted merge and from a partly published seal batch, retention, verify, reading
 * while a seal is in flight, flush, a failed seal, flush and retain while a seal is in flight
 * (after a failed merge; from another thread), the log's retention held back by SEALED, and a
 * fork-based kill -9 loop that checks exactly-once at the end. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/ff_buf.h"
#include "core/ff_clock.h"
#include "core/ff_mem.h"
#include "ff_test.h"
#include "store/ff_store.h"

#define DAY_MS 86400000LL
#define DAY0 20776 /* 2026-11-19 */
#define MAX_IDS 40000

static struct {
    char root[256];
    int run;
    uint32_t counts[MAX_IDS];
    uint64_t per_day[3];
    uint64_t n_rows;
    uint64_t rng;
} g;

static uint64_t rnd(void)
{
    uint64_t x = g.rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return g.rng = x;
}

typedef struct env {
    char logdir[512];
    char storedir[512];
} env;

static void env_new(env *e)
{
    char base[400];
    snprintf(base, sizeof base, "%s/run%d", g.root, g.run++);
    FF_VERIFY(mkdir(base, 0755) == 0);
    snprintf(e->logdir, sizeof e->logdir, "%s/log", base);
    snprintf(e->storedir, sizeof e->storedir, "%s/store", base);
}

static ff_evlog *log_open(const env *e)
{
    ff_evlog_opts o = {.dir = e->logdir, .sync = FF_EVLOG_SYNC_EACH_BATCH};
    ff_evlog *log = NULL;
    ff_err err;
    ff_rc rc = ff_evlog_open(&o, &log, &err);
    if (rc)
        fprintf(stderr, "evlog open: %s\n", err.msg);
    FF_VERIFY(rc == FF_OK);
    return log;
}

/* Event i: id "ev-<i>", day DAY0 + i % 3, received in log order. */
static int64_t ev_ts(int i)
{
    return (int64_t)DAY0 * DAY_MS + (int64_t)(i % 3) * DAY_MS + (int64_t)(i / 3) * 1000;
}

/* Append ids[0..n) (an id may repeat: a retry) in frames of 100 records. */
static void log_append(ff_evlog *log, const int *ids, int n, int64_t recv0)
{
    ff_buf b;
    ff_buf_init(&b, 64u << 20);
    uint32_t in_frame = 0;
    for (int k = 0; k < n; k++) {
        int i = ids[k];
        char rec[512];
        int len = snprintf(rec, sizeof rec,
                           "{\"v\":1,\"event_id\":\"ev-%d\",\"type\":\"track\",\"event\":\"page_"
                           "viewed\",\"ts\":%" PRId64 ",\"received_at\":%" PRId64
                           ",\"user_id\":\"u%d\",\"url\":\"https://shop.example/p/%d\"}",
                           i, ev_ts(i), recv0 + k, i % 97, i % 13);
        uint8_t l4[4] = {(uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16),
                         (uint8_t)(len >> 24)};
        FF_VERIFY(ff_buf_add(&b, l4, 4) == FF_OK && ff_buf_add(&b, rec, (size_t)len) == FF_OK);
        if (++in_frame == 100 || k == n - 1) {
            uint64_t first;
            ff_err err;
            FF_VERIFY(ff_evlog_append(log, b.data, b.len, in_frame, &first, &err) == FF_OK);
            ff_buf_reset(&b);
            in_frame = 0;
        }
    }
    ff_buf_fini(&b);
}

/* ids 0..n_unique-1 in order, with n_dup retries of earlier ids mixed in. Returns count. */
static int make_ids(int *ids, int n_unique, int n_dup)
{
    int k = 0, next = 0, dups = 0;
    while (next < n_unique || dups < n_dup) {
        if (dups < n_dup && next > 10 && (next >= n_unique || rnd() % 10 == 0)) {
            ids[k++] = (int)(rnd() % (uint64_t)next);
            dups++;
        } else {
            ids[k++] = next++;
        }
    }
    return k;
}

static ff_store *store_open(const env *e, ff_evlog *log, const ff_store_opts *extra)
{
    ff_store_opts o = extra ? *extra : (ff_store_opts){0};
    o.dir = e->storedir;
    o.log = log;
    o.no_sync = true;
    ff_store *s = NULL;
    ff_err err;
    ff_rc rc = ff_store_open(&o, &s, &err);
    if (rc)
        fprintf(stderr, "store open: %s %s\n", ff_rc_name(rc), err.msg);
    FF_VERIFY(rc == FF_OK);
    return s;
}

static void drain(ff_store *s)
{
    ff_err err;
    uint64_t n;
    do {
        ff_rc rc = ff_store_poll(s, 0, &n, &err);
        if (rc)
            fprintf(stderr, "poll: %s\n", err.msg);
        FF_VERIFY(rc == FF_OK);
    } while (n);
    FF_VERIFY(ff_store_flush(s, &err) == FF_OK);
}

/* Read every row of a snapshot into g.counts / g.per_day. */
static void collect_snap(const ff_table_snapshot *snap)
{
    memset(g.counts, 0, sizeof g.counts);
    memset(g.per_day, 0, sizeof g.per_day);
    g.n_rows = 0;
    ff_arena a;
    ff_arena_init(&a, 1 << 20, 256u << 20);
    for (size_t p = 0; p < snap->n_parts; p++) {
        const ff_part *part = snap->parts[p];
        const ff_part_info *in = ff_part_get_info(part);
        for (uint32_t b = 0; b < in->n_blocks; b++) {
            ff_block blk;
            ff_arena_reset(&a);
            ff_err err;
            FF_VERIFY(ff_part_read(part, NULL, b, FF_COLSET(FF_COL_EVENT_ID) | FF_COLSET(FF_COL_TS),
                                   &a, &blk, &err) == FF_OK);
            for (uint32_t r = 0; r < blk.n_rows; r++) {
                uint32_t len;
                const char *id = ff_colvec_str(&blk.col[FF_COL_EVENT_ID], r, &len);
                char tmp[32] = {0};
                FF_VERIFY(len > 3 && len < sizeof tmp && memcmp(id, "ev-", 3) == 0);
                memcpy(tmp, id + 3, len - 3);
                int i = atoi(tmp);
                FF_VERIFY(i >= 0 && i < MAX_IDS);
                g.counts[i]++;
                int64_t day = blk.col[FF_COL_TS].i64[r] / DAY_MS - DAY0;
                FF_CHECK(day >= 0 && day < 3);
                FF_CHECK_EQ(day, in->partition_day - DAY0);
                if (day >= 0 && day < 3)
                    g.per_day[day]++;
                g.n_rows++;
            }
        }
    }
    ff_arena_fini(&a);
}

static void collect(ff_store *s)
{
    ff_table_snapshot snap;
    FF_VERIFY(ff_store_snapshot_acquire(s, &snap, NULL) == FF_OK);
    collect_snap(&snap);
    ff_store_snapshot_release(s, &snap);
}

/* Every id in [0, n) exactly once, nothing else. */
static void check_exactly_once(int n)
{
    int bad = 0;
    for (int i = 0; i < MAX_IDS; i++)
        if (g.counts[i] != (i < n ? 1u : 0u) && bad++ < 5)
            fprintf(stderr, "  id %d stored %u times\n", i, g.counts[i]);
    FF_CHECK_EQ(bad, 0);
    FF_CHECK_EQ(g.n_rows, n);
    FF_CHECK_EQ(g.per_day[0], (n + 2) / 3);
    FF_CHECK_EQ(g.per_day[1], (n + 1) / 3);
    FF_CHECK_EQ(g.per_day[2], n / 3);
}

static void check_verify(const env *e, uint64_t want_rows)
{
    uint64_t np = 0, nr = 0;
    ff_err err;
    ff_rc rc = ff_store_verify(e->storedir, &np, &nr, &err);
    if (rc)
        fprintf(stderr, "verify: %s\n", err.msg);
    FF_CHECK_EQ(rc, FF_OK);
    FF_CHECK_EQ(nr, want_rows);
    FF_CHECK(np > 0);
}

static size_t count_files(const char *dir, const char *suffix)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*%s' | wc -l", dir, suffix);
    FILE *p = popen(cmd, "r");
    FF_VERIFY(p);
    size_t n = 0;
    FF_VERIFY(fscanf(p, "%zu", &n) == 1);
    pclose(p);
    return n;
}

static int sh(const char *cmd)
{
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- tests ------------------------------------------------------------------------------ */

static int ids_buf[2 * MAX_IDS];

static void test_consume_dedupe_restart(void)
{
    env e;
    env_new(&e);
    ff_evlog *log = log_open(&e);
    int n = make_ids(ids_buf, 3000, 300);
    log_append(log, ids_buf, n, 1000000);
    ff_store *s = store_open(&e, log, &(ff_store_opts){.seal_max_rows = 500, .no_merge = true});
    drain(s);
    ff_store_stats st;
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.duplicates, 300);
    FF_CHECK_EQ(st.rows, 3000);
    FF_CHECK_EQ(st.resume_offset, (uint64_t)n);
    FF_CHECK_EQ(st.lag, 0);
    FF_CHECK(st.seals >= 6);
    FF_CHECK(st.parts >= 3 * 6);
    collect(s);
    check_exactly_once(3000);
    /* One writer per folder; readers are welcome. */
    ff_store_opts w2 = {.dir = e.storedir, .log = log};
    ff_store *s2 = NULL;
    ff_err err;
    FF_CHECK_EQ(ff_store_open(&w2, &s2, &err), FF_ELOCKED);
    w2.read_only = true;
    w2.log = NULL;
    FF_CHECK_EQ(ff_store_open(&w2, &s2, &err), FF_OK);
    if (s2) {
        ff_store_stats_get(s2, &st);
        FF_CHECK_EQ(st.rows, 3000);
        ff_store_close(s2);
    }
    ff_store_close(s);
    check_verify(&e, 3000);

    /* Restart: nothing re-added; the dedupe set is rebuilt from the parts. */
    s = store_open(&e, log, &(ff_store_opts){.seal_max_rows = 500, .no_merge = true});
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.rows, 3000);
    FF_CHECK_EQ(st.resume_offset, (uint64_t)n);
    FF_CHECK_EQ(st.dedupe_ids, 3000);
    uint64_t nr;
    FF_CHECK_EQ(ff_store_poll(s, 0, &nr, NULL), FF_OK);
    FF_CHECK_EQ(nr, 0);
    /* Retries of old ids plus new ones. */
    int more[200];
    for (int k = 0; k < 200; k++)
        more[k] = k % 2 ? 3000 + k / 2 : (int)(rnd() % 3000);
    log_append(log, more, 200, 2000000);
    drain(s);
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.duplicates, 100);
    FF_CHECK_EQ(st.rows, 3100);
    collect(s);
    check_exactly_once(3100);
    ff_store_close(s);

    /* A small dedupe window: retries outside it are stored again (the documented rule). */
    s = store_open(&e, log, &(ff_store_opts){.dedupe_window_ms = 10, .no_merge = true});
    ff_store_stats_get(s, &st);
    FF_CHECK(st.dedupe_ids <= 11);
    int old[1] = {5};
    log_append(log, old, 1, 3000000);
    drain(s);
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.duplicates, 0);
    FF_CHECK_EQ(st.rows, 3101);
    ff_store_close(s);
    ff_evlog_close(log);
}

/* A small capacity evicts early (counted) but keeps finding the recent ids: exercises the
 * ring, the index's backward-shift deletions and the eviction counter. */
static void test_dedupe_capacity(void)
{
    env e;
    env_new(&e);
    ff_evlog *log = log_open(&e);
    int ids[2000 + 300];
    for (int i = 0; i < 2000; i++)
        ids[i] = i;
    for (int k = 0; k < 300; k++) /* retries among the newest 50 */
        ids[2000 + k] = 1950 + (int)(rnd() % 50);
    log_append(log, ids, 2300, 1000000);
    ff_store *s = store_open(&e, log, &(ff_store_opts){.dedupe_max_ids = 64, .no_merge = true});
    drain(s);
    ff_store_stats st;
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.duplicates, 300);
    FF_CHECK_EQ(st.rows, 2000);
    FF_CHECK_EQ(st.dedupe_ids, 64);
    FF_CHECK_EQ(st.dedupe_evicted, 2000 - 64);
    collect(s);
    check_exactly_once(2000);
    ff_store_close(s);
    /* Rebuilt with the same bound at open. */
    s = store_open(&e, log, &(ff_store_opts){.dedupe_max_ids = 64, .no_merge = true});
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.dedupe_ids, 64);
    int again[3] = {1999, 1990, 1980};
    log_append(log, again, 3, 2000000);
    drain(s);
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.rows, 2000);
    FF_CHECK_EQ(st.duplicates, 3);
    ff_store_close(s);
    ff_evlog_close(log);
}

static void test_merge(void)
{
    env e;
    env_new(&e);
    ff_evlog *log = log_open(&e);
    int n = make_ids(ids_buf, 6000, 0);
    log_append(log, ids_buf, n, 1000000);
    ff_store_opts mo = {.seal_max_rows = 150, .no_merge = true, .merge_fanin = 4};
    ff_store *s = store_open(&e, log, &mo);
    drain(s);
    ff_store_stats st;
    ff_store_stats_get(s, &st);
    uint64_t parts_before = st.parts;
    FF_CHECK_EQ(parts_before, 40 * 3);
    /* A snapshot taken before the merge stays readable after it. */
    ff_table_snapshot old;
    FF_CHECK_EQ(ff_store_snapshot_acquire(s, &old, NULL), FF_OK);
    ff_err err;
    FF_CHECK_EQ(ff_store_merge_all(s, &err), FF_OK);
    ff_store_stats_get(s, &st);
    FF_CHECK(st.parts < parts_before);
    FF_CHECK(st.parts <= 3 * 4 * 3); /* at most fanin parts per level per day */
    FF_CHECK(st.merges > 0);
    FF_CHECK_EQ(st.rows, 6000);
    collect_snap(&old);
    check_exactly_once(6000);
    ff_store_snapshot_release(s, &old);
    FF_CHECK(old.parts == NULL && old.n_parts == 0);
    collect(s);
    check_exactly_once(6000);
    FF_CHECK_EQ(count_files(e.storedir, ".part"), st.parts);
    ff_store_close(s);
    check_verify(&e, 6000);

    /* Merges in the consumer (poll) keep the per-(day, level) count bounded. */
    env e2;
    env_new(&e2);
    ff_evlog *log2 = log_open(&e2);
    log_append(log2, ids_buf, n, 1000000);
    ff_store_opts po = {.seal_max_rows = 100, .merge_fanin = 3};
    s = store_open(&e2, log2, &po);
    uint64_t nr;
    do {
        FF_CHECK_EQ(ff_store_poll(s, 100, &nr, NULL), FF_OK);
    } while (nr);
    FF_CHECK_EQ(ff_store_flush(s, NULL), FF_OK);
    FF_CHECK_EQ(ff_store_merge_all(s, NULL), FF_OK);
    ff_store_stats_get(s, &st);
    FF_CHECK(st.merges > 10);
    FF_CHECK(st.parts < 60);
    /* Write amplification: rows rewritten by merges per stored row stays small. */
    FF_CHECK(st.merged_rows <= 5 * st.rows);
    collect(s);
    check_exactly_once(6000);
    ff_store_close(s);
    check_verify(&e2, 6000);
    ff_evlog_close(log2);
    ff_evlog_close(log);
}

/* Every part under dir rewritten by the writer in format version `version` (the rows, block
 * size, log range and day kept); returns how many. */
static size_t rewrite_parts_as(const char *dir, uint32_t version)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.part' | sort", dir);
    FILE *fp = popen(cmd, "r");
    FF_VERIFY(fp);
    char path[1024];
    size_t n = 0;
    ff_arena a;
    ff_arena_init(&a, 1 << 20, 0);
    while (fgets(path, sizeof path, fp)) {
        path[strcspn(path, "\n")] = 0;
        ff_part *p = NULL;
        ff_err err;
        FF_VERIFY(ff_part_open(path, NULL, &p, &err) == FF_OK);
        const ff_part_info *in = ff_part_get_info(p);
        ff_part_writer_opts wo = {.block_rows = in->block_rows,
                                  .has_log_range = true,
                                  .log_first = in->log_first,
                                  .log_last = in->log_last,
                                  .has_partition_day = true,
                                  .partition_day = in->partition_day,
                                  .no_sync = true,
                                  .version = version};
        ff_part_writer *w = NULL;
        FF_VERIFY(ff_part_writer_new(&wo, &w, &err) == FF_OK);
        for (uint32_t b = 0; b < in->n_blocks; b++) {
            ff_block blk;
            ff_arena_reset(&a);
            FF_VERIFY(ff_part_read(p, NULL, b, FF_COLSET_ALL, &a, &blk, &err) == FF_OK);
            for (uint32_t r = 0; r < blk.n_rows; r++) {
                ff_row row;
                ff_block_row(&blk, r, &row);
                FF_VERIFY(ff_part_writer_add(w, &row, &err) == FF_OK);
            }
        }
        char tmp[1100];
        snprintf(tmp, sizeof tmp, "%s.old.tmp", path);
        FF_VERIFY(ff_part_writer_finish(w, tmp, NULL, &err) == FF_OK);
        ff_part_writer_free(w);
        ff_part_close(p);
        FF_VERIFY(rename(tmp, path) == 0);
        n++;
    }
    pclose(fp);
    ff_arena_fini(&a);
    return n;
}

/* How many parts under dir are of format version `version`. */
static size_t parts_of_version(const char *dir, uint32_t version)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "find '%s' -name '*.part'", dir);
    FILE *fp = popen(cmd, "r");
    FF_VERIFY(fp);
    char path[1024];
    size_t n = 0;
    while (fgets(path, sizeof path, fp)) {
        path[strcspn(path, "\n")] = 0;
        ff_part *p = NULL;
        FF_VERIFY(ff_part_open(path, NULL, &p, NULL) == FF_OK);
        n += ff_part_get_info(p)->version == version;
        ff_part_close(p);
    }
    pclose(fp);
    return n;
}

/* `footfall store rewrite`: parts of an older format version (written here as version 2) are
 * rewritten in this release's: the same rows, verify passes, a second run has nothing to do,
 * no temporary file is left, and a folder with a live writer is refused. */
static void test_rewrite_old_parts(void)
{
    env e;
    env_new(&e);
    ff_evlog *log = log_open(&e);
    int n = make_ids(ids_buf, 3000, 0);
    log_append(log, ids_buf, n, 1000000);
    ff_store_opts mo = {.seal_max_rows = 500, .no_merge = true};
    ff_store *s = store_open(&e, log, &mo);
    drain(s);
    ff_store_close(s);
    size_t n_parts = rewrite_parts_as(e.storedir, 2);
    FF_CHECK(n_parts >= 6);
    FF_CHECK_EQ(parts_of_version(e.storedir, 2), n_parts);
    check_verify(&e, 3000);
    uint64_t np = 0, nw = 0;
    ff_err err;
    s = store_open(&e, log, &mo); /* a writer holds the folder */
    FF_CHECK_EQ(ff_store_rewrite(e.storedir, true, &np, &nw, &err), FF_ELOCKED);
    ff_store_close(s);
    FF_CHECK_EQ(parts_of_version(e.storedir, 2), n_parts);
    FF_CHECK_EQ(ff_store_rewrite(e.storedir, true, &np, &nw, &err), FF_OK);
    FF_CHECK_EQ(np, n_parts);
    FF_CHECK_EQ(nw, n_parts);
    FF_CHECK_EQ(parts_of_version(e.storedir, FF_PART_VERSION), n_parts);
    FF_CHECK_EQ(count_files(e.storedir, ".tmp"), 0);
    check_verify(&e, 3000);
    s = store_open(&e, log, &mo);
    collect(s);
    check_exactly_once(3000);
    ff_store_close(s);
    FF_CHECK_EQ(ff_store_rewrite(e.storedir, true, &np, &nw, &err), FF_OK);
    FF_CHECK_EQ(nw, 0);
    FF_CHECK_EQ(np, n_parts);
    ff_evlog_close(log);
}

static void test_interrupted_merge(void)
{
    env e;
    env_new(&e);
    ff_evlog *log = log_open(&e);
    int n = make_ids(ids_buf, 3000, 0);
    log_append(log, ids_buf, n, 1000000);
    ff_store *s = store_open(&e, log, &(ff_store_opts){.seal_max_rows = 300, .no_merge = true});
    drain(s);
    ff_store_close(s);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s/../saved' && cp -r '%s'/2* '%s/../saved/'", e.storedir,
             e.storedir, e.storedir);
    FF_CHECK_EQ(sh(cmd), 0);
    size_t l0 = count_files(e.storedir, ".part");
    FF_CHECK_EQ(l0, 30);
    s = store_open(&e, log, &(ff_store_opts){.merge_fanin = 4});
    FF_CHECK_EQ(ff_store_merge_all(s, NULL), FF_OK);
    ff_store_close(s);
    size_t merged = count_files(e.storedir, ".part");
    FF_CHECK(merged < l0);
    /* Simulate a crash between publishing the merge output and unlinking its inputs, plus a
     * stale temp file. */
    snprintf(cmd, sizeof cmd,
             "cp -r '%s/../saved'/* '%s/' && touch '%s/20261120/L0-x.part.tmp' '%s/SEALED.tmp'",
             e.storedir, e.storedir, e.storedir, e.storedir);
    FF_CHECK_EQ(sh(cmd), 0);
    FF_CHECK_EQ(count_files(e.storedir, ".part"), merged + 30);
    uint64_t np, nr;
    FF_CHECK_EQ(ff_store_verify(e.storedir, &np, &nr, NULL), FF_ECORRUPT); /* overlaps */
    s = store_open(&e, log, &(ff_store_opts){.no_merge = true});
    ff_store_stats st;
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.cleaned_at_open, 30 + 2);
    FF_CHECK_EQ(st.parts, merged);
    collect(s);
    check_exactly_once(3000);
    ff_store_close(s);
    check_verify(&e, 3000);
    FF_CHECK_EQ(count_files(e.storedir, ".tmp"), 0);
    ff_evlog_close(log);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    FF_VERIFY(f);
    fputs(text, f);
    fclose(f);
}

static void test_partial_seal_batch(void)
{
    env e;
    env_new(&e);
    ff_evlog *log = log_open(&e);
    int n = make_ids(ids_buf, 3000, 0);
    log_append(log, ids_buf, n, 1000000);
    /* No duplicates in the log and dedupe off, so a re-consumed row would show twice. */
    ff_store_opts o = {.seal_max_rows = 500, .no_merge = true, .dedupe_window_ms = -1};
    ff_store *s = store_open(&e, log, &o);
    drain(s);
    ff_store_close(s);
    /* Batches are [500k, 500k + 499]. Pretend the crash hit after the parts of the last two
     * batches were published but before SEALED moved past 2000. */
    char path[600];
    snprintf(path, sizeof path, "%s/SEALED", e.storedir);
    write_file(path, "2000\n");
    uint64_t np, nr;
    FF_CHECK_EQ(ff_store_verify(e.storedir, &np, &nr, NULL), FF_ECORRUPT);
    /* A reader beside the writer skips the unfinished batch and deletes nothing. */
    ff_store_opts ro = {.dir = e.storedir, .read_only = true};
    ff_store *r = NULL;
    FF_CHECK_EQ(ff_store_open(&ro, &r, NULL), FF_OK);
    if (r) {
        ff_store_stats rst;
        ff_store_stats_get(r, &rst);
        FF_CHECK_EQ(rst.rows, 2000);
        FF_CHECK_EQ(rst.cleaned_at_open, 0);
        FF_CHECK_EQ(ff_store_poll(r, 0, NULL, NULL), FF_EINVAL);
        FF_CHECK_EQ(ff_store_flush(r, NULL), FF_EINVAL);
        ff_store_close(r);
    }
    FF_CHECK_EQ(count_files(e.storedir, ".part"), 18);
    s = store_open(&e, log, &o);
    ff_store_stats st;
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.cleaned_at_open, 6);
    FF_CHECK_EQ(st.rows, 2000);
    FF_CHECK_EQ(st.resume_offset, 2000);
    drain(s);
    collect(s);
    check_exactly_once(3000);
    ff_store_close(s);
    check_verify(&e, 3000);

    /* A damaged SEALED is refused, not guessed at. */
    write_file(path, "12x\n");
    ff_store_opts bad = o;
    bad.dir = e.storedir;
    bad.log = log;
    ff_store *s2 = NULL;
    ff_err err;
    FF_CHECK_EQ(ff_store_open(&bad, &s2, &err), FF_ECORRUPT);
    FF_CHECK(s2 == NULL);
    ff_evlog_close(log);
}

static void test_thread_and_retention(void)
{
    env e;
    env_new(&e);
    ff_evlog *log = log_open(&e);
    ff_store *s = store_open(&e, log, &(ff_store_opts){.seal_interval_ms = 20});
    ff_err err;
    FF_CHECK_EQ(ff_store_start(s, &err), FF_OK);
    int n = make_ids(ids_buf, 900, 0);
    log_append(log, ids_buf, n, 1000000);
    /* Visible within about seal_interval_ms; bounded wait. */
    ff_store_stats st;
    uint64_t t0 = ff_clock_mono_ns();
    do {
        usleep(5000);
        ff_store_stats_get(s, &st);
    } while (st.rows < 900 && ff_clock_mono_ns() - t0 < 5000000000ull);
    FF_CHECK_EQ(st.rows, 900);
    uint64_t ms = (ff_clock_mono_ns() - t0) / 1000000;
    FF_CHECK(ms < 2000);
    fprintf(stderr, "  900 events appended -> all queryable after %" PRIu64 " ms (seal 20 ms)\n",
            ms);
    FF_CHECK_EQ(ff_store_stop(s, &err), FF_OK);
    collect(s);
    check_exactly_once(900);
    /* Retention: keep 1 day relative to DAY0 + 2 -> drops DAY0. */
    uint32_t nd = 0;
    FF_CHECK_EQ(ff_store_retain(s, 1, (int64_t)(DAY0 + 2) * DAY_MS + 5, &nd, &err), FF_OK);
    FF_CHECK_EQ(nd, 1);
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.rows, 600);
    collect(s);
    FF_CHECK_EQ(g.per_day[0], 0);
    FF_CHECK_EQ(g.per_day[1], 300);
    ff_store_close(s);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/20261119", e.storedir);
    FF_CHECK(access(dir, F_OK) != 0);
    check_verify(&e, 600);
    ff_evlog_close(log);
}

/* Readers take snapshots while the consumer thread seals and merges: every snapshot is
 * consistent (no id twice, never fewer rows than the previous one) and its parts stay readable
 * after merges unlink them. */
typedef struct reader_arg {
    ff_store *s;
    atomic_int stop;
    atomic_int n_snaps;
    atomic_int bad;
} reader_arg;

static void *reader_main(void *p)
{
    reader_arg *ra = p;
    uint8_t *seen = calloc(MAX_IDS, 1);
    FF_VERIFY(seen);
    uint64_t prev_rows = 0;
    ff_arena a;
    ff_arena_init(&a, 1 << 20, 256u << 20);
    ff_part_ctx *ctx;
    FF_VERIFY(ff_part_ctx_new(&ctx, NULL) == FF_OK);
    while (!atomic_load(&ra->stop)) {
        ff_table_snapshot snap;
        FF_VERIFY(ff_store_snapshot_acquire(ra->s, &snap, NULL) == FF_OK);
        memset(seen, 0, MAX_IDS);
        uint64_t rows = 0;
        usleep(500); /* let merges retire parts of this snapshot meanwhile */
        for (size_t i = 0; i < snap.n_parts; i++) {
            const ff_part_info *in = ff_part_get_info(snap.parts[i]);
            for (uint32_t b = 0; b < in->n_blocks; b++) {
                ff_block blk;
                ff_arena_reset(&a);
                if (ff_part_read(snap.parts[i], ctx, b, FF_COLSET(FF_COL_EVENT_ID), &a, &blk,
                                 NULL) != FF_OK) {
                    ra->bad++;
                    continue;
                }
                for (uint32_t r = 0; r < blk.n_rows; r++) {
                    uint32_t len;
                    const char *id = ff_colvec_str(&blk.col[FF_COL_EVENT_ID], r, &len);
                    char tmp[16] = {0};
                    memcpy(tmp, id + 3, len > 3 && len < 18 ? len - 3 : 0);
                    int k = atoi(tmp);
                    if (k < 0 || k >= MAX_IDS || seen[k]++)
                        ra->bad++;
                    rows++;
                }
            }
        }
        if (rows < prev_rows)
            ra->bad++;
        prev_rows = rows;
        ff_store_snapshot_release(ra->s, &snap);
        ra->n_snaps++;
    }
    ff_part_ctx_free(ctx);
    ff_arena_fini(&a);
    free(seen);
    return NULL;
}

static void test_concurrent_snapshots(void)
{
    env e;
    env_new(&e);
    ff_evlog *log = log_open(&e);
    ff_store *s = store_open(&e, log, &(ff_store_opts){.seal_interval_ms = 1, .merge_fanin = 3});
    ff_err err;
    FF_CHECK_EQ(ff_store_start(s, &err), FF_OK);
    reader_arg ra = {.s = s};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        FF_VERIFY(pthread_create(&th[i], NULL, reader_main, &ra) == 0);
    int n = make_ids(ids_buf, 6000, 600);
    int ro_opens = 0, ro_bad = 0;
    uint64_t ro_prev = 0;
    for (int off = 0; off < n; off += 300) {
        log_append(log, ids_buf + off, n - off < 300 ? n - off : 300, 1000000 + off);
        usleep(3000);
        /* A separate read-only open (as `footfall query` beside a server) sees a consistent
         * folder while the writer seals and merges. */
        ff_store_opts ro = {.dir = e.storedir, .read_only = true};
        ff_store *r = NULL;
        ff_rc rrc = ff_store_open(&ro, &r, &err);
        if (rrc) {
            fprintf(stderr, "  read-only open: %s\n", err.msg);
            ro_bad++;
            continue;
        }
        collect(r);
        for (int i = 0; i < MAX_IDS; i++)
            ro_bad += g.counts[i] > 1;
        ro_bad += g.n_rows < ro_prev;
        ro_prev = g.n_rows;
        ro_opens++;
        ff_store_close(r);
    }
    FF_CHECK_EQ(ro_bad, 0);
    FF_CHECK(ro_opens >= 20);
    ff_store_stats st;
    uint64_t t0 = ff_clock_mono_ns();
    do {
        usleep(5000);
        ff_store_stats_get(s, &st);
    } while ((st.rows < 6000 || st.lag) && ff_clock_mono_ns() - t0 < 10000000000ull);
    atomic_store(&ra.stop, 1);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    FF_CHECK_EQ(ff_store_stop(s, &err), FF_OK);
    ff_store_stats_get(s, &st);
    fprintf(stderr, "  %d snapshots read during %" PRIu64 " seals and %" PRIu64 " merges\n",
            atomic_load(&ra.n_snaps), st.seals, st.merges);
    FF_CHECK_EQ(ra.bad, 0);
    FF_CHECK(ra.n_snaps > 2);
    FF_CHECK(st.merges > 0);
    FF_CHECK_EQ(st.duplicates, 600);
    collect(s);
    check_exactly_once(6000);
    ff_store_close(s);
    check_verify(&e, 6000);
    ff_evlog_close(log);
}

/* ---- seals overlapped with reading (test hook on the seal thread) ----------------------- */

/* The hook's state: it counts calls, can hold a seal until the test opens the gate (bounded:
 * 5 s, so code that seals in the consumer's own thread fails the checks instead of hanging;
 * each expiry is counted in timeouts, and a test that holds seals asserts it stays 0: an
 * expiry lets the seal proceed while the test thinks it is held), can sleep per part, and can
 * fail the n-th part of the batch starting at fail_first. */
typedef struct seal_gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    int timeouts;      /* holds that ended by the 5 s bound, not by gate_open */
    bool hold;         /* hold calls until opened */
    bool hold_failing; /* hold only the call that fails, until opened */
    bool opened;
    int sleep_ms;     /* per part */
    uint64_t fail_lo; /* parts with first in [fail_lo, fail_hi): the fail_nth one fails */
    uint64_t fail_hi;
    int fail_nth, fail_seen;
    uint64_t max_first; /* largest first offset the hook was asked to write */
} seal_gate;

static void gate_init(seal_gate *g0)
{
    memset(g0, 0, sizeof *g0);
    pthread_mutex_init(&g0->mu, NULL);
    pthread_cond_init(&g0->cv, NULL);
}

static void gate_fini(seal_gate *g0)
{
    pthread_mutex_destroy(&g0->mu);
    pthread_cond_destroy(&g0->cv);
}

static ff_rc gate_hook(void *arg, int32_t day, uint64_t first, uint64_t last)
{
    (void)day;
    (void)last;
    seal_gate *g0 = arg;
    if (g0->sleep_ms)
        usleep((useconds_t)g0->sleep_ms * 1000);
    pthread_mutex_lock(&g0->mu);
    g0->calls++;
    if (first > g0->max_first)
        g0->max_first = first;
    pthread_cond_broadcast(&g0->cv);
    bool fails = first >= g0->fail_lo && first < g0->fail_hi && ++g0->fail_seen == g0->fail_nth;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    while ((g0->hold || (fails && g0->hold_failing)) && !g0->opened)
        if (pthread_cond_timedwait(&g0->cv, &g0->mu, &until) != 0) {
            g0->timeouts++;
            break;
        }
    pthread_mutex_unlock(&g0->mu);
    return fails ? FF_EIO : FF_OK;
}

/* Wait (at most 5 s) until the hook was called at least n times; the calls seen. */
static int gate_wait_calls(seal_gate *g0, int n)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&g0->mu);
    while (g0->calls < n)
        if (pthread_cond_timedwait(&g0->cv, &g0->mu, &until) != 0)
            break;
    int c = g0->calls;
    pthread_mutex_unlock(&g0->mu);
    return c;
}

static void gate_open(seal_gate *g0)
{
    pthread_mutex_lock(&g0->mu);
    g0->opened = true;
    pthread_cond_broadcast(&g0->cv);
    pthread_mutex_unlock(&g0->mu);
}

/* Close the gate again: the next seal is held until gate_open. */
static void gate_close(seal_gate *g0)
{
    pthread_mutex_lock(&g0->mu);
    g0->hold = true;
    g0->opened = false;
    pthread_mutex_unlock(&g0->mu);
}

static int gate_calls(seal_gate *g0)
{
    pthread_mutex_lock(&g0->mu);
    int c = g0->calls;
    pthread_mutex_unlock(&g0->mu);
    return c;
}

static int gate_timeouts(seal_gate *g0)
{
    pthread_mutex_lock(&g0->mu);
    int t = g0->timeouts;
    pthread_mutex_unlock(&g0->mu);
    return t;
}

/* A thread that opens the gate after delay_ms (while the test thread sits in a call that must
 * wait for the held seal). */
typedef struct opener_arg {
    seal_gate *gate;
    int delay_ms;
} opener_arg;

static void *opener_main(void *p)
{
    opener_arg *oa = p;
    usleep((useconds_t)oa->delay_ms * 1000);
    gate_open(oa->gate);
    return NULL;
}

static uint64_t sealed_file(const env *e)
{
    char path[600];
    snprintf(path, sizeof path, "%s/SEALED", e->storedir);
    uint64_t v = UINT64_MAX;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%" SCNu64, &v) != 1)
            v = UINT64_MAX;
        fclose(f);
    }
    return v;
}

/* Part files on disk whose log range starts at or past from. */
static size_t parts_from(const env *e, uint64_t from)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "find '%s' -name 'L*.part'", e->storedir);
    FILE *p = popen(cmd, "r");
    FF_VERIFY(p);
    size_t n = 0;
    char line[1024];
    while (fgets(line, sizeof line, p)) {
        const char *base = strrchr(line, '/');
        unsigned lv;
        uint64_t first, last;
        if (base && sscanf(base + 1, "L%u-%20" SCNu64 "-%20" SCNu64, &lv, &first, &last) == 3 &&
            first >= from)
            n++;
    }
    pclose(p);
    return n;
}

/* The set-up of the seal-thread tests: a fresh folder, a log of the first `append` of `count`
 * new records (ids_buf holds all of them), a gate that lets seals through. Returns count. */
static int seal_setup(env *e, ff_evlog **log, seal_gate *gate, int count, int append)
{
    env_new(e);
    *log = log_open(e);
    int n = make_ids(ids_buf, count, 0);
    log_append(*log, ids_buf, append, 1000000);
    gate_init(gate);
    return n;
}

/* The consumer reads on while a seal is in flight: the first batch's seal is held on the seal
 * thread, and the records appended meanwhile are read (poll returns them, the backlog is 0)
 * while nothing is live and SEALED has not moved. With seals in the consumer's thread, the
 * first poll itself would sit in the held seal. Then the same with the consumer thread, and
 * a full batch behind the held seal stops reading (the memory bound). */
static void test_read_during_seal(void)
{
    env e;
    ff_evlog *log;
    seal_gate gate;
    int n = seal_setup(&e, &log, &gate, 1000, 300);
    gate.hold = true;
    ff_store_opts o = {.seal_max_rows = 300,
                       .seal_interval_ms = 60000,
                       .no_merge = true,
                       .test_seal_hook = gate_hook,
                       .test_seal_arg = &gate};
    ff_store *s = store_open(&e, log, &o);
    ff_err err;
    uint64_t nr = 0;
    uint64_t t0 = ff_clock_mono_ns();
    FF_CHECK_EQ(ff_store_poll(s, 0, &nr, &err), FF_OK);
    FF_CHECK_EQ(nr, 300);                              /* a full batch: handed over */
    FF_CHECK(ff_clock_mono_ns() - t0 < 2000000000ull); /* not held by the seal */
    FF_CHECK(gate_wait_calls(&gate, 1) >= 1);          /* the seal is in flight */
    log_append(log, ids_buf + 300, 200, 2000000);
    FF_CHECK_EQ(ff_store_poll(s, 0, &nr, &err), FF_OK);
    FF_CHECK_EQ(nr, 200);
    ff_store_stats st;
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.consumed_offset, 500);
    FF_CHECK_EQ(st.lag, 0);
    FF_CHECK_EQ(st.resume_offset, 0); /* SEALED waits for the held seal */
    FF_CHECK_EQ(st.rows, 0);          /* and so do the parts */
    FF_CHECK_EQ(sealed_file(&e), UINT64_MAX);
    gate_open(&gate);
    FF_CHECK_EQ(gate_timeouts(&gate), 0); /* the seal was held through the checks above */
    FF_CHECK_EQ(ff_store_flush(s, &err), FF_OK);
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.rows, 500);
    FF_CHECK_EQ(st.resume_offset, 500);
    FF_CHECK_EQ(st.seals, 2);
    collect(s);
    check_exactly_once(500);
    ff_store_close(s);

    /* The consumer thread: it reads the second append while the first seal is held; the
     * batch it fills is then full (200 rows) and waits for the held seal (the memory bound). */
    gate_close(&gate);
    pthread_mutex_lock(&gate.mu);
    gate.calls = 0;
    pthread_mutex_unlock(&gate.mu);
    o.seal_max_rows = 200;
    s = store_open(&e, log, &o);
    FF_CHECK_EQ(ff_store_start(s, &err), FF_OK);
    log_append(log, ids_buf + 500, 200, 3000000);
    FF_CHECK(gate_wait_calls(&gate, 1) >= 1);
    log_append(log, ids_buf + 700, 200, 4000000);
    t0 = ff_clock_mono_ns();
    do {
        usleep(2000);
        ff_store_stats_get(s, &st);
    } while (st.consumed_offset < 900 && ff_clock_mono_ns() - t0 < 4000000000ull);
    FF_CHECK_EQ(st.consumed_offset, 900);
    FF_CHECK_EQ(st.resume_offset, 500);
    FF_CHECK_EQ(st.rows, 500);
    /* The batch [700, 899] is full: the consumer must not read on while the seal is held, so
     * records appended now stay unread (reading on would pass 900 within the 50 ms). */
    log_append(log, ids_buf + 900, n - 900, 5000000);
    usleep(50000);
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.consumed_offset, 900);
    FF_CHECK_EQ(st.lag, (uint64_t)n - 900);
    gate_open(&gate);
    FF_CHECK_EQ(gate_timeouts(&gate), 0); /* the seal was held through the checks above */
    FF_CHECK_EQ(ff_store_stop(s, &err), FF_OK);
    ff_store_stats_get(s, &st);
    FF_CHECK(st.seal_wait_ns_total > 0); /* the full batch waited for the seal */
    FF_CHECK_EQ(st.rows, n);
    FF_CHECK_EQ(st.resume_offset, n);
    collect(s);
    check_exactly_once(n);
    ff_store_close(s);
    check_verify(&e, (uint64_t)n);
    gate_fini(&gate);
    ff_evlog_close(log);
}

/* flush waits for the seal in flight and seals the rest: when it returns, every record read
 * is in a live part and SEALED is past it. Each poll of 550 hands a full batch of 400 over,
 * and the hook holds its seal: before each such flush the test sees the batch still in flight
 * (not sealed), and a helper thread opens the gate 20 ms later, so flush has a seal in flight
 * to wait for. (With seals in the poll caller's thread the poll itself would sit in the held
 * seal until the hook's timeout, and the batch would be sealed before the flush.) */
static void test_flush_waits(void)
{
    env e;
    ff_evlog *log;
    seal_gate gate;
    int n = seal_setup(&e, &log, &gate, 3000, 3000);
    ff_store_opts o = {.seal_max_rows = 400,
                       .seal_interval_ms = 60000,
                       .dedupe_window_ms = -1,
                       .test_seal_hook = gate_hook,
                       .test_seal_arg = &gate};
    ff_store *s = store_open(&e, log, &o);
    ff_err err;
    uint64_t read = 0, nr;
    int flushes = 0, in_flight_at_flush = 0;
    while (read < (uint64_t)n && flushes < 20) {
        gate_close(&gate);
        int calls0 = gate_calls(&gate);
        ff_store_stats st;
        ff_store_stats_get(s, &st);
        uint64_t seals0 = st.seals;
        FF_CHECK_EQ(ff_store_poll(s, 550, &nr, &err), FF_OK);
        read += nr;
        if (nr >= 400) { /* a full batch was handed over: its seal is held */
            FF_CHECK(gate_wait_calls(&gate, calls0 + 1) > calls0);
            ff_store_stats_get(s, &st);
            FF_CHECK_EQ(st.seals, seals0); /* in flight, not sealed, as flush starts */
            in_flight_at_flush += st.seals == seals0;
        }
        pthread_t opener;
        opener_arg oa = {.gate = &gate, .delay_ms = 20};
        FF_VERIFY(pthread_create(&opener, NULL, opener_main, &oa) == 0);
        FF_CHECK_EQ(ff_store_flush(s, &err), FF_OK);
        FF_VERIFY(pthread_join(opener, NULL) == 0);
        flushes++;
        ff_store_stats_get(s, &st);
        FF_CHECK_EQ(st.resume_offset, read);
        FF_CHECK_EQ(st.rows, read);
        FF_CHECK_EQ(sealed_file(&e), read);
        collect(s);
        FF_CHECK_EQ(g.n_rows, read);
    }
    FF_CHECK_EQ(read, n);
    FF_CHECK_EQ(in_flight_at_flush, 5); /* 3000 = 5 x 550 + 250: five polls handed a batch over */
    FF_CHECK_EQ(gate_timeouts(&gate), 0);
    collect(s);
    check_exactly_once(n);
    FF_CHECK_EQ(ff_store_flush(s, &err), FF_OK); /* nothing pending: a no-op */
    ff_store_close(s);
    check_verify(&e, (uint64_t)n);
    gate_fini(&gate);
    ff_evlog_close(log);
}

/* A failed seal: batch 2's second part fails (after its first part was published) while
 * batch 3 has been read. The store is failed, SEALED stays at batch 2's start, and nothing
 * of batch 3 is ever written; the next open deletes batch 2's part and redoes both. The
 * failing part is held until the test's flush waits for it, so that flush meets the failure
 * of the seal in flight: it, and every later poll and flush, give FF_EFAILED naming the
 * seal's cause (not the seal's own FF_EIO the first time). */
static void test_failed_seal(void)
{
    env e;
    ff_evlog *log;
    seal_gate gate;
    int n = seal_setup(&e, &log, &gate, 1300, 1300);
    gate.fail_lo = 500;
    gate.fail_hi = 1000;
    gate.fail_nth = 2;
    gate.hold_failing = true;
    ff_store_opts o = {.seal_max_rows = 500,
                       .seal_interval_ms = 60000,
                       .no_merge = true,
                       .dedupe_window_ms = -1,
                       .test_seal_hook = gate_hook,
                       .test_seal_arg = &gate};
    ff_store *s = store_open(&e, log, &o);
    ff_err err;
    uint64_t nr = 0;
    /* Batches [0, 499] and [500, 999] are handed over; [1000, 1299] is read (not full). */
    ff_rc rc = ff_store_poll(s, 0, &nr, &err);
    FF_CHECK_EQ(rc, FF_OK);
    FF_CHECK_EQ(nr, 1300);
    /* Batch 1's three parts, then batch 2's first and its second (failing, held) part. */
    FF_CHECK(gate_wait_calls(&gate, 5) >= 5);
    ff_store_stats st;
    ff_store_stats_get(s, &st);
    FF_CHECK(!st.failed); /* the failing seal is still in flight */
    pthread_t opener;
    opener_arg oa = {.gate = &gate, .delay_ms = 20};
    FF_VERIFY(pthread_create(&opener, NULL, opener_main, &oa) == 0);
    memset(&err, 0, sizeof err);
    rc = ff_store_flush(s, &err); /* waits for batch 2, which fails: batch 3 stays unwritten */
    FF_VERIFY(pthread_join(opener, NULL) == 0);
    FF_CHECK_EQ(rc, FF_EFAILED);
    FF_CHECK(strstr(err.msg, "test hook") != NULL); /* the seal's cause, not just "failed" */
    fprintf(stderr, "  flush after a failed seal: %s: %s\n", ff_rc_name(rc), err.msg);
    FF_CHECK_EQ(gate_timeouts(&gate), 0);
    ff_store_stats_get(s, &st);
    FF_CHECK(st.failed);
    FF_CHECK_EQ(st.resume_offset, 500);
    FF_CHECK_EQ(st.rows, 500);
    FF_CHECK_EQ(st.seals, 1);
    FF_CHECK_EQ(sealed_file(&e), 500);
    FF_CHECK_EQ(parts_from(&e, 1000), 0); /* nothing of batch 3 */
    FF_CHECK_EQ(parts_from(&e, 500), 1);  /* batch 2's first part, not live */
    FF_CHECK(gate.max_first < 1000);      /* batch 3 was never handed to the seal thread */
    FF_CHECK_EQ(ff_store_poll(s, 0, &nr, &err), FF_EFAILED);
    FF_CHECK(strstr(err.msg, "test hook") != NULL);
    FF_CHECK_EQ(ff_store_flush(s, &err), FF_EFAILED);
    FF_CHECK(strstr(err.msg, "test hook") != NULL);
    ff_store_close(s);
    /* Reopen: batch 2's published part is deleted, both batches are redone once. */
    o.test_seal_hook = NULL;
    s = store_open(&e, log, &o);
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.cleaned_at_open, 1);
    FF_CHECK_EQ(st.rows, 500);
    drain(s);
    collect(s);
    check_exactly_once(n);
    ff_store_close(s);
    check_verify(&e, (uint64_t)n);
    gate_fini(&gate);
    ff_evlog_close(log);
}

/* A call run on a thread of its own (flush or retain), to see whether it waits. */
typedef struct call_arg {
    ff_store *s;
    bool retain; /* else flush */
    uint32_t keep_days;
    int64_t now_ms;
    uint32_t n_days;
    ff_rc rc;
    ff_err err;
    atomic_bool done;
} call_arg;

static void *call_main(void *p)
{
    call_arg *ca = p;
    if (ca->retain)
        ca->rc = ff_store_retain(ca->s, ca->keep_days, ca->now_ms, &ca->n_days, &ca->err);
    else
        ca->rc = ff_store_flush(ca->s, &ca->err);
    atomic_store(&ca->done, true);
    return NULL;
}

static const char *const day_dirs[3] = {"20261119", "20261120", "20261121"};

/* A merge fails (its output name is taken by a folder) while a seal is held in flight: the
 * store is failed, and flush still waits for the seal in flight before it returns FF_EFAILED,
 * so when it returns no seal is writing (SEALED and the batch's parts are done). */
static void test_flush_waits_after_failed_merge(void)
{
    env e;
    ff_evlog *log;
    seal_gate gate;
    int n = seal_setup(&e, &log, &gate, 400, 400);
    ff_store_opts o = {.seal_max_rows = 100,
                       .seal_interval_ms = 60000,
                       .no_merge = true,
                       .dedupe_window_ms = -1,
                       .test_seal_hook = gate_hook,
                       .test_seal_arg = &gate};
    ff_store *s = store_open(&e, log, &o);
    ff_err err;
    uint64_t nr = 0;
    /* Three batches of 100: three L0 parts per day. Day d's rows are the offsets equal to d
     * mod 3, so merging its three parts would write L1-<d>-<297 + d>. */
    FF_CHECK_EQ(ff_store_poll(s, 300, &nr, &err), FF_OK);
    FF_CHECK_EQ(nr, 300);
    FF_CHECK_EQ(ff_store_flush(s, &err), FF_OK);
    ff_store_close(s);
    o.no_merge = false;
    o.merge_fanin = 2;
    s = store_open(&e, log, &o);
    char block[3][800];
    for (int d = 0; d < 3; d++) {
        snprintf(block[d], sizeof block[d], "%s/%s/L1-%020d-%020d.part", e.storedir, day_dirs[d], d,
                 297 + d);
        FF_VERIFY(mkdir(block[d], 0755) == 0); /* the merge cannot publish its output */
    }
    gate_close(&gate);
    int calls0 = gate_calls(&gate);
    /* Batch [300, 399] is handed over (its seal held), then the poll's merge fails. */
    ff_rc rc = ff_store_poll(s, 100, &nr, &err);
    FF_CHECK(rc != FF_OK);
    FF_CHECK_EQ(nr, 100);
    FF_CHECK(gate_wait_calls(&gate, calls0 + 1) > calls0);
    ff_store_stats st;
    ff_store_stats_get(s, &st);
    FF_CHECK(st.failed);
    FF_CHECK_EQ(st.resume_offset, 300);
    call_arg ca = {.s = s};
    pthread_t t;
    FF_VERIFY(pthread_create(&t, NULL, call_main, &ca) == 0);
    usleep(100000);
    FF_CHECK(!atomic_load(&ca.done)); /* flush waits for the held seal */
    gate_open(&gate);
    FF_VERIFY(pthread_join(t, NULL) == 0);
    FF_CHECK_EQ(ca.rc, FF_EFAILED);
    /* When flush returned, the seal in flight was done. */
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.resume_offset, 400);
    FF_CHECK_EQ(st.seals, 1);
    FF_CHECK_EQ(sealed_file(&e), 400);
    FF_CHECK_EQ(gate_timeouts(&gate), 0);
    ff_store_close(s);
    for (int d = 0; d < 3; d++)
        FF_VERIFY(rmdir(block[d]) == 0);
    check_verify(&e, 400);
    o.test_seal_hook = NULL;
    s = store_open(&e, log, &o);
    drain(s);
    collect(s);
    check_exactly_once(n);
    ff_store_close(s);
    check_verify(&e, (uint64_t)n);
    gate_fini(&gate);
    ff_evlog_close(log);
}

/* ff_store_retain from another thread while a seal is held in flight: it waits for the seal
 * (which writes into the day folder being dropped) and only then drops the day, so no part is
 * written into a removed folder and the store stays consistent. Neither retain's nor flush's
 * waits count as the consumer's seal wait. */
static void test_retain_during_seal(void)
{
    env e;
    ff_evlog *log;
    seal_gate gate;
    seal_setup(&e, &log, &gate, 600, 600);
    gate.sleep_ms = 5; /* batch 1 is in flight at the flush below */
    ff_store_opts o = {.seal_max_rows = 300,
                       .seal_interval_ms = 60000,
                       .no_merge = true,
                       .test_seal_hook = gate_hook,
                       .test_seal_arg = &gate};
    ff_store *s = store_open(&e, log, &o);
    ff_err err;
    uint64_t nr = 0;
    FF_CHECK_EQ(ff_store_poll(s, 300, &nr, &err), FF_OK); /* batch [0, 299]: all three days */
    FF_CHECK_EQ(nr, 300);
    FF_CHECK_EQ(ff_store_flush(s, &err), FF_OK);
    gate.sleep_ms = 0;
    gate_close(&gate);
    int calls0 = gate_calls(&gate);
    FF_CHECK_EQ(ff_store_poll(s, 300, &nr, &err), FF_OK); /* batch [300, 599]: held at day 0 */
    FF_CHECK_EQ(nr, 300);
    FF_CHECK(gate_wait_calls(&gate, calls0 + 1) > calls0);
    call_arg ca = {.s = s, .retain = true, .keep_days = 1, .now_ms = (DAY0 + 2) * DAY_MS + 5};
    pthread_t t;
    FF_VERIFY(pthread_create(&t, NULL, call_main, &ca) == 0);
    usleep(50000);
    FF_CHECK(!atomic_load(&ca.done)); /* retain waits for the held seal */
    ff_store_stats st;
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.resume_offset, 300);
    FF_CHECK_EQ(st.rows, 300);
    gate_open(&gate);
    FF_VERIFY(pthread_join(t, NULL) == 0);
    FF_CHECK_EQ(ca.rc, FF_OK);
    FF_CHECK_EQ(ca.n_days, 1);
    FF_CHECK_EQ(gate_timeouts(&gate), 0);
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.resume_offset, 600);
    FF_CHECK_EQ(st.rows, 400);
    FF_CHECK_EQ(st.seal_wait_ns_total, 0); /* no poll waited: flush and retain do not count */
    collect(s);
    FF_CHECK_EQ(g.n_rows, 400);
    FF_CHECK_EQ(g.per_day[0], 0);
    FF_CHECK_EQ(g.per_day[1], 200);
    FF_CHECK_EQ(g.per_day[2], 200);
    ff_store_close(s);
    char dir[800];
    snprintf(dir, sizeof dir, "%s/%s", e.storedir, day_dirs[0]);
    FF_CHECK(access(dir, F_OK) != 0); /* the held seal did not write into the dropped day */
    check_verify(&e, 400);
    o.test_seal_hook = NULL;
    s = store_open(&e, log, &o);
    ff_store_stats_get(s, &st);
    FF_CHECK_EQ(st.rows, 400);
    FF_CHECK_EQ(st.resume_offset, 600);
    ff_store_close(s);
    gate_fini(&gate);
    ff_evlog_close(log);
}

/* The log's retention and the store's SEALED: a log far over its size limit keeps every
 * record the store has not sealed -- while the store does not read at all, after a restart
 * with a backlog (the log opens before the store can hold it), and with SEALED halfway --
 * and deletes what is below SEALED once the store has caught up. Every record ends up stored
 * exactly once. */
static void test_log_retention_waits_for_store(void)
{
    env e;
    env_new(&e);
    /* A frame of 100 records (~20 KB) per segment; the limit is below one segment. */
    ff_evlog_opts lo = {
        .dir = e.logdir, .segment_bytes = 4096, .retain_bytes = 8192, .retain_n_holds = 1};
    ff_evlog *log = NULL;
    ff_err err;
    FF_VERIFY(ff_evlog_open(&lo, &log, &err) == FF_OK);
    ff_store *s = store_open(&e, log, NULL);
    int n = make_ids(ids_buf, 2000, 0);
    log_append(log, ids_buf, n, 1000000); /* 20 segments; every roll runs retention */
    FF_CHECK_EQ(ff_evlog_retain(log, &err), FF_OK);
    ff_evlog_stats lst;
    ff_evlog_stats_get(log, &lst);
    FF_CHECK_EQ(lst.n_segments, 20);
    FF_CHECK_EQ(lst.first_offset, 0);
    FF_CHECK(lst.retain_held_bytes > 0);

    /* Half of it sealed, then a restart. */
    uint64_t nr = 0;
    FF_CHECK_EQ(ff_store_poll(s, 1000, &nr, &err), FF_OK);
    FF_CHECK_EQ(nr, 1000);
    FF_CHECK_EQ(ff_store_flush(s, &err), FF_OK);
    FF_CHECK_EQ(sealed_file(&e), 1000);
    ff_store_close(s);
    ff_evlog_close(log);

    FF_VERIFY(ff_evlog_open(&lo, &log, &err) == FF_OK);
    ff_evlog_stats_get(log, &lst);
    FF_CHECK_EQ(lst.first_offset, 0); /* open's retention waited for the store */
    FF_CHECK_EQ(lst.n_segments, 20);
    s = store_open(&e, log, NULL);
    FF_CHECK_EQ(ff_evlog_retain(log, &err), FF_OK);
    ff_evlog_stats_get(log, &lst);
    FF_CHECK_EQ(lst.first_offset, 1000); /* exactly the segments below SEALED went */
    FF_CHECK_EQ(lst.n_segments, 10);
    FF_CHECK(lst.retain_held_bytes > 0);

    drain(s);
    FF_CHECK_EQ(sealed_file(&e), 2000);
    FF_CHECK_EQ(ff_evlog_retain(log, &err), FF_OK);
    ff_evlog_stats_get(log, &lst);
    FF_CHECK_EQ(lst.first_offset, 1900); /* all but the newest segment */
    FF_CHECK_EQ(lst.n_segments, 1);
    FF_CHECK_EQ(lst.retain_held_bytes, 0);
    collect(s);
    check_exactly_once(2000);
    ff_store_close(s);
    check_verify(&e, 2000);
    ff_evlog_close(log);
}

/* Child: consume the whole log with tiny seals and eager merges, then exit 0. */
static void kill_child(const env *e, const char *storedir, int ready_fd)
{
    ff_evlog_opts lo = {.dir = e->logdir, .sync = FF_EVLOG_SYNC_EACH_BATCH};
    ff_evlog *log = NULL;
    if (ff_evlog_open(&lo, &log, NULL))
        _exit(2);
    ff_store_opts o = {.seal_max_rows = 200, .seal_interval_ms = 1, .merge_fanin = 3};
    o.dir = storedir;
    o.log = log;
    o.no_sync = true;
    ff_store *s;
    if (ff_store_open(&o, &s, NULL))
        _exit(3);
    if (ready_fd >= 0 && write(ready_fd, "r", 1) != 1)
        _exit(6);
    uint64_t n;
    do {
        if (ff_store_poll(s, 97, &n, NULL))
            _exit(4);
    } while (n);
    if (ff_store_flush(s, NULL))
        _exit(5);
    _exit(0);
}

static void test_kill9(void)
{
    env e;
    env_new(&e);
    ff_evlog *log = log_open(&e);
    int n = make_ids(ids_buf, 12000, 1200);
    log_append(log, ids_buf, n, 1000000);
    ff_evlog_close(log);
    /* Time one undisturbed run (into a scratch folder) to aim the kills across the log. */
    char scratch[600];
    snprintf(scratch, sizeof scratch, "%s.scratch", e.storedir);
    uint64_t t_run = ff_clock_mono_ns();
    pid_t p0 = fork();
    FF_VERIFY(p0 >= 0);
    if (p0 == 0)
        kill_child(&e, scratch, -1);
    int st0;
    FF_VERIFY(waitpid(p0, &st0, 0) == p0);
    FF_CHECK(WIFEXITED(st0) && WEXITSTATUS(st0) == 0);
    uint64_t run_us = (ff_clock_mono_ns() - t_run) / 1000;
    int killed = 0, finished = 0, advanced = 0;
    uint64_t t0 = ff_clock_mono_ns(), prev_sealed = 0;
    char sealed_path[600];
    snprintf(sealed_path, sizeof sealed_path, "%s/SEALED", e.storedir);
    /* 20 rounds, and more (up to 40) until 3 kills landed mid-log: with seals beside reading a
     * full run is shorter, so short random waits land before the first seal more often. */
    for (int round = 0;
         (round < 20 || (advanced < 3 && round < 40)) && ff_clock_mono_ns() - t0 < 60000000000ull;
         round++) {
        int pfd[2];
        FF_VERIFY(pipe(pfd) == 0);
        pid_t pid = fork();
        FF_VERIFY(pid >= 0);
        if (pid == 0) {
            close(pfd[0]);
            kill_child(&e, e.storedir, pfd[1]);
        }
        close(pfd[1]);
        if (round % 3 == 0) {
            /* Early: during the log's and the store's open (recovery deleting leftovers). */
            usleep((useconds_t)(rnd() % 8000));
        } else {
            /* After open: short random runs of seals, merges and SEALED writes, so that the
             * rounds walk through the log in small steps instead of finishing it early. */
            char c;
            struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
            if (poll(&pf, 1, 10000) == 1 && read(pfd[0], &c, 1) == 1)
                usleep((useconds_t)(1000 + rnd() % (run_us / 10 + 1)));
        }
        close(pfd[0]);
        kill(pid, SIGKILL);
        int st;
        FF_VERIFY(waitpid(pid, &st, 0) == pid);
        if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
            killed++;
        else {
            FF_CHECK_EQ(WEXITSTATUS(st), 0);
            finished++;
        }
        uint64_t sealed = 0;
        FILE *f = fopen(sealed_path, "r");
        if (f) {
            if (fscanf(f, "%" SCNu64, &sealed) != 1)
                sealed = 0;
            fclose(f);
        }
        FF_CHECK(sealed >= prev_sealed);
        advanced += sealed > prev_sealed && sealed < (uint64_t)n;
        prev_sealed = sealed;
    }
    fprintf(stderr,
            "  kill -9: full run %" PRIu64 " ms; %d killed, %d finished, %d rounds advanced "
            "SEALED mid-log\n",
            run_us / 1000, killed, finished, advanced);
    FF_CHECK(killed >= 10);
    FF_CHECK(advanced >= 3); /* kills landed between seals, not only before the first */
    log = log_open(&e);
    ff_store *s = store_open(&e, log, &(ff_store_opts){.merge_fanin = 3});
    drain(s);
    collect(s);
    check_exactly_once(12000);
    ff_store_close(s);
    check_verify(&e, 12000);
    ff_evlog_close(log);
}

int main(void)
{
    g.rng = 0x9e3779b97f4a7c15ull;
    snprintf(g.root, sizeof g.root, "/tmp/ff_store_test_XXXXXX");
    FF_VERIFY(mkdtemp(g.root));
    FF_RUN(test_consume_dedupe_restart);
    FF_RUN(test_dedupe_capacity);
    FF_RUN(test_merge);
    FF_RUN(test_interrupted_merge);
    FF_RUN(test_rewrite_old_parts);
    FF_RUN(test_partial_seal_batch);
    FF_RUN(test_thread_and_retention);
    FF_RUN(test_log_retention_waits_for_store);
    FF_RUN(test_concurrent_snapshots);
    FF_RUN(test_read_during_seal);
    FF_RUN(test_flush_waits);
    FF_RUN(test_failed_seal);
    FF_RUN(test_flush_waits_after_failed_merge);
    FF_RUN(test_retain_during_seal);
    FF_RUN(test_kill9);
    if (!ff_test_failures) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", g.root);
        (void)sh(cmd);
    } else {
        fprintf(stderr, "kept %s\n", g.root);
    }
    FF_DONE();
}
