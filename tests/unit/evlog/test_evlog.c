/* test_evlog.c -- the event log: append/read, density, recovery, group
 * commit, segment rolls, retention, verify, read-only readers. */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "core/ff_buf.h"
#include "evlog/ff_evlog.h"
#include "ff_test.h"

static char tmpdir[256];

static void fresh_dir(void)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    FF_CHECK(system(cmd) == 0);
}

static void payload_add(ff_buf *b, const char *rec)
{
    uint32_t l = (uint32_t)strlen(rec);
    unsigned char h[4] = {(unsigned char)l, (unsigned char)(l >> 8), (unsigned char)(l >> 16),
                          (unsigned char)(l >> 24)};
    ff_buf_add(b, h, 4);
    ff_buf_add(b, rec, l);
}

static ff_evlog *open_log(uint64_t seg_bytes)
{
    ff_evlog_opts o = {.dir = tmpdir, .segment_bytes = seg_bytes};
    ff_evlog *log = NULL;
    ff_err err = {0};
    ff_rc rc = ff_evlog_open(&o, &log, &err);
    if (rc)
        fprintf(stderr, "open: %s\n", err.msg);
    FF_CHECK_EQ(rc, FF_OK);
    return log;
}

static uint64_t append_n(ff_evlog *log, int first, int n)
{
    ff_buf b;
    ff_buf_init(&b, 0);
    char rec[64];
    for (int i = 0; i < n; i++) {
        snprintf(rec, sizeof rec, "{\"i\":%d}", first + i);
        payload_add(&b, rec);
    }
    uint64_t off = 0;
    FF_CHECK_EQ(ff_evlog_append(log, b.data, b.len, (uint32_t)n, &off, NULL), FF_OK);
    ff_buf_fini(&b);
    return off;
}

/* Read everything from `from`; checks records are {"i":k} with k == offset. */
static uint64_t read_all(ff_evlog *log, uint64_t from)
{
    ff_evlog_cursor *c;
    FF_CHECK_EQ(ff_evlog_cursor_open(log, from, &c, NULL), FF_OK);
    uint64_t n = 0, off;
    const void *rec;
    size_t len;
    ff_err err = {0};
    ff_rc rc;
    while ((rc = ff_evlog_cursor_next(c, &off, &rec, &len, &err)) == FF_OK) {
        char want[64];
        snprintf(want, sizeof want, "{\"i\":%llu}", (unsigned long long)off);
        FF_CHECK(len == strlen(want) && memcmp(rec, want, len) == 0);
        FF_CHECK_EQ(off, from + n);
        n++;
    }
    if (rc != FF_EOF)
        fprintf(stderr, "cursor: %s\n", err.msg);
    FF_CHECK_EQ(rc, FF_EOF);
    ff_evlog_cursor_close(c);
    return n;
}

static void test_append_read(void)
{
    fresh_dir();
    ff_evlog *log = open_log(0);
    FF_CHECK_EQ(append_n(log, 0, 3), 0);
    FF_CHECK_EQ(append_n(log, 3, 5), 3);
    FF_CHECK_EQ(read_all(log, 0), 8);
    FF_CHECK_EQ(read_all(log, 4), 4);
    FF_CHECK_EQ(read_all(log, 8), 0);
    ff_evlog_close(log);
    log = open_log(0);
    FF_CHECK_EQ(append_n(log, 8, 2), 8);
    FF_CHECK_EQ(read_all(log, 0), 10);
    uint64_t n = 0;
    FF_CHECK_EQ(ff_evlog_verify(log, &n, NULL), FF_OK);
    FF_CHECK_EQ(n, 10);
    ff_evlog_close(log);
}

static void test_bad_append(void)
{
    fresh_dir();
    ff_evlog *log = open_log(0);
    const char bad[] = "\x10\x00\x00\x00zz";
    FF_CHECK_EQ(ff_evlog_append(log, bad, 6, 1, NULL, NULL), FF_EINVAL);
    FF_CHECK_EQ(ff_evlog_append(log, bad, 6, 0, NULL, NULL), FF_EINVAL);
    FF_CHECK_EQ(read_all(log, 0), 0);
    ff_evlog_close(log);
}

static void test_lock(void)
{
    fresh_dir();
    ff_evlog *a = open_log(0);
    ff_evlog_opts o = {.dir = tmpdir};
    ff_evlog *b = NULL;
    FF_CHECK_EQ(ff_evlog_open(&o, &b, NULL), FF_ELOCKED);
    ff_evlog_close(a);
}

static char *newest_segment(void)
{
    static char path[512];
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s/*.ffl | sort | tail -1", tmpdir);
    FILE *p = popen(cmd, "r");
    path[0] = 0;
    if (fgets(path, sizeof path, p))
        path[strcspn(path, "\n")] = 0;
    pclose(p);
    return path;
}

static off_t file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : -1;
}

/* A crash happens between checkpoints: forget the checkpoint so the frames
 * written since count as not-yet-known-durable, as after a real crash. */
static void forget_checkpoint(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/CHECKPOINT", tmpdir);
    unlink(p);
}

/* Write a checkpoint saying bytes [0, pos) of segment 0 were durable. */
static void set_checkpoint(uint64_t pos)
{
    unsigned char b[32] = {'F', 'F', 'C', 'K', 'P', 'T', '0', '1'};
    for (int i = 0; i < 8; i++)
        b[16 + i] = (unsigned char)(pos >> (8 * i));
    uint32_t c = (uint32_t)crc32(crc32(0L, Z_NULL, 0), b, 24);
    for (int i = 0; i < 4; i++)
        b[24 + i] = (unsigned char)(c >> (8 * i));
    char p[512];
    snprintf(p, sizeof p, "%s/CHECKPOINT", tmpdir);
    FILE *f = fopen(p, "wb");
    fwrite(b, 1, sizeof b, f);
    fclose(f);
}

static void test_torn_tail(void)
{
    /* Truncate into the last frame at every possible length: recovery must
     * keep exactly the frames before it. */
    fresh_dir();
    ff_evlog *log = open_log(0);
    append_n(log, 0, 4);
    append_n(log, 4, 4);
    ff_evlog_close(log);
    char seg[512];
    snprintf(seg, sizeof seg, "%s", newest_segment());
    off_t full = file_size(seg);
    off_t second_frame_len = 40 + 4 * (4 + 7);
    for (off_t cut = 1; cut < second_frame_len; cut += 7) {
        log = open_log(0);
        ff_evlog_close(log);
        forget_checkpoint();
        FF_CHECK_EQ(truncate(seg, full - cut), 0);
        log = open_log(0);
        FF_CHECK_EQ(read_all(log, 0), 4);
        FF_CHECK_EQ(ff_evlog_verify(log, NULL, NULL), FF_OK);
        append_n(log, 4, 4); /* restore for the next round */
        FF_CHECK_EQ(read_all(log, 0), 8);
        ff_evlog_close(log);
        full = file_size(seg);
    }
    /* A flipped byte in the last frame's payload: the CRC fails at the very
     * end of the file, which is how a torn write looks: cut. */
    {
        forget_checkpoint();
        int fd = open(seg, O_RDWR);
        unsigned char c;
        FF_CHECK_EQ(pread(fd, &c, 1, full - 3), 1);
        c ^= 0x5a;
        FF_CHECK_EQ(pwrite(fd, &c, 1, full - 3), 1);
        close(fd);
        log = open_log(0);
        FF_CHECK_EQ(read_all(log, 0), 4);
        append_n(log, 4, 4);
        ff_evlog_close(log);
        full = file_size(seg);
    }
    /* A zero-filled tail (as some file systems leave after a crash): cut. */
    {
        int fd = open(seg, O_WRONLY | O_APPEND);
        char zeros[100] = {0};
        FF_CHECK_EQ(write(fd, zeros, sizeof zeros), 100);
        close(fd);
        log = open_log(0);
        FF_CHECK_EQ(read_all(log, 0), 8);
        ff_evlog_close(log);
        FF_CHECK_EQ(file_size(seg), full);
    }
    /* A damaged header of a complete frame is not a crash artefact: open
     * refuses and changes nothing; repair cuts there on purpose. */
    {
        int fd = open(seg, O_RDWR);
        off_t at = full - second_frame_len + 10;
        unsigned char c;
        FF_CHECK_EQ(pread(fd, &c, 1, at), 1);
        c ^= 0x5a;
        FF_CHECK_EQ(pwrite(fd, &c, 1, at), 1);
        close(fd);
        ff_evlog_opts o = {.dir = tmpdir};
        ff_err err = {0};
        FF_CHECK_EQ(ff_evlog_open(&o, &log, &err), FF_ECORRUPT);
        FF_CHECK(strstr(err.msg, "log repair") != NULL);
        if (!strstr(err.msg, "log repair"))
            fprintf(stderr, "open said: %s\n", err.msg);
        FF_CHECK_EQ(file_size(seg), full);
        o.repair = true;
        FF_CHECK_EQ(ff_evlog_open(&o, &log, &err), FF_OK);
        FF_CHECK_EQ(read_all(log, 0), 4);
        append_n(log, 4, 4);
        ff_evlog_close(log);
        full = file_size(seg);
    }
    /* Garbage appended after the last frame. */
    int fd = open(seg, O_WRONLY | O_APPEND);
    FF_CHECK_EQ(write(fd, "garbage!garbage!garbage!garbage!garbage!garbage!", 48), 48);
    close(fd);
    log = open_log(0);
    FF_CHECK_EQ(read_all(log, 0), 8);
    FF_CHECK_EQ(ff_evlog_verify(log, NULL, NULL), FF_OK);
    ff_evlog_close(log);
}

static void test_damage_after_checkpoint_is_torn(void)
{
    /* Frames 2 and 3 were written after the last checkpoint; a crash left
     * frame 2 bad and frame 3 whole (pages persist in any order). Neither
     * was acknowledged as durable, so recovery cuts at frame 2. */
    fresh_dir();
    ff_evlog *log = open_log(0);
    append_n(log, 0, 4);
    append_n(log, 4, 4);
    append_n(log, 8, 4);
    ff_evlog_close(log);
    off_t frame = 40 + 4 * (4 + 7);
    set_checkpoint((uint64_t)(16 + frame));
    char seg[512];
    snprintf(seg, sizeof seg, "%s", newest_segment());
    int fd = open(seg, O_RDWR);
    unsigned char c = 'X';
    FF_CHECK_EQ(pwrite(fd, &c, 1, 16 + frame + 40 + 6), 1);
    close(fd);
    log = open_log(0);
    FF_CHECK_EQ(read_all(log, 0), 4);
    ff_evlog_close(log);
    FF_CHECK_EQ(file_size(seg), 16 + frame);
}

static void test_mid_segment_damage_refused(void)
{
    /* Damage in an early frame with good frames after it: open must not cut
     * the acknowledged records behind it. */
    fresh_dir();
    ff_evlog *log = open_log(0);
    append_n(log, 0, 4);
    append_n(log, 4, 4);
    append_n(log, 8, 4);
    ff_evlog_close(log);
    char seg[512];
    snprintf(seg, sizeof seg, "%s", newest_segment());
    off_t before = file_size(seg);
    int fd = open(seg, O_RDWR);
    unsigned char c = 'X';
    FF_CHECK_EQ(pwrite(fd, &c, 1, 16 + 40 + 6), 1); /* payload of the first frame */
    close(fd);
    ff_evlog_opts o = {.dir = tmpdir};
    ff_err err = {0};
    FF_CHECK_EQ(ff_evlog_open(&o, &log, &err), FF_ECORRUPT);
    FF_CHECK(strstr(err.msg, "damaged") != NULL);
    FF_CHECK_EQ(file_size(seg), before);
}

static void test_mid_corruption_detected(void)
{
    fresh_dir();
    ff_evlog *log = open_log(0);
    append_n(log, 0, 4);
    append_n(log, 4, 4);
    ff_evlog_close(log);
    char seg[512];
    snprintf(seg, sizeof seg, "%s", newest_segment());
    int fd = open(seg, O_RDWR);
    unsigned char c = 'X';
    FF_CHECK_EQ(pwrite(fd, &c, 1, 16 + 40 + 6), 1); /* inside the first frame */
    close(fd);
    ff_evlog_opts o = {.dir = tmpdir, .read_only = true};
    FF_CHECK_EQ(ff_evlog_open(&o, &log, NULL), FF_OK);
    ff_err err = {0};
    FF_CHECK_EQ(ff_evlog_verify(log, NULL, &err), FF_ECORRUPT);
    FF_CHECK(strstr(err.msg, "damaged") != NULL);
    ff_evlog_close(log);
}

static void test_roll_and_retention(void)
{
    fresh_dir();
    ff_evlog *log = open_log(300); /* tiny segments: a few frames each */
    for (int i = 0; i < 40; i++)
        append_n(log, i * 3, 3);
    FF_CHECK_EQ(read_all(log, 0), 120);
    FF_CHECK_EQ(read_all(log, 61), 59);
    ff_evlog_stats st;
    ff_evlog_stats_get(log, &st);
    FF_CHECK(st.n_segments > 5);
    FF_CHECK_EQ(st.next_offset, 120);
    FF_CHECK_EQ(ff_evlog_verify(log, NULL, NULL), FF_OK);
    ff_evlog_close(log);

    ff_evlog_opts o = {.dir = tmpdir, .segment_bytes = 300, .retain_bytes = 1000};
    FF_CHECK_EQ(ff_evlog_open(&o, &log, NULL), FF_OK);
    ff_evlog_stats_get(log, &st);
    FF_CHECK(st.bytes <= 1000 + 300);
    FF_CHECK(st.first_offset > 0);
    /* A reader from 0 starts at the oldest retained record. */
    ff_evlog_cursor *c;
    ff_evlog_cursor_open(log, 0, &c, NULL);
    uint64_t off;
    const void *rec;
    size_t len;
    FF_CHECK_EQ(ff_evlog_cursor_next(c, &off, &rec, &len, NULL), FF_OK);
    FF_CHECK_EQ(off, st.first_offset);
    ff_evlog_cursor_close(c);
    FF_CHECK_EQ(append_n(log, 120, 3), 120);
    ff_evlog_close(log);
}

/* Set every segment's mtime to `ago_s` seconds in the past (for age retention). */
static void age_segments(int ago_s)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "touch -d '%d seconds ago' %s/*.ffl", ago_s, tmpdir);
    FF_CHECK(system(cmd) == 0);
}

/* Retention past its size or age limits keeps every segment with a record at or past the
 * lowest hold, and nothing at all while a hold it waits for (retain_n_holds) is missing: at
 * open, at each roll and at ff_evlog_retain. Moving the hold forward lets it go. */
static void test_retention_holds(void)
{
    fresh_dir();
    ff_evlog_opts o = {
        .dir = tmpdir, .segment_bytes = 300, .retain_bytes = 1000, .retain_n_holds = 1};
    ff_evlog *log = NULL;
    FF_CHECK_EQ(ff_evlog_open(&o, &log, NULL), FF_OK);
    /* No hold yet: the rolls (each runs retention) delete nothing, though far over 1000 B. */
    for (int i = 0; i < 40; i++)
        append_n(log, i * 3, 3);
    FF_CHECK_EQ(ff_evlog_retain(log, NULL), FF_OK);
    ff_evlog_stats st;
    ff_evlog_stats_get(log, &st);
    uint32_t n_all = st.n_segments;
    FF_CHECK(n_all > 5);
    FF_CHECK(st.bytes > 3000);
    FF_CHECK_EQ(st.first_offset, 0);
    FF_CHECK(st.retain_held_bytes > 0);
    FF_CHECK_EQ(read_all(log, 0), 120);

    /* A hold at 30: only segments wholly below 30 go. */
    ff_evlog_hold *h = NULL;
    FF_CHECK_EQ(ff_evlog_hold_new(log, "test", 30, &h, NULL), FF_OK);
    FF_CHECK_EQ(ff_evlog_retain(log, NULL), FF_OK);
    ff_evlog_stats_get(log, &st);
    FF_CHECK(st.first_offset > 0 && st.first_offset <= 30);
    FF_CHECK(st.n_segments < n_all);
    FF_CHECK(st.retain_held_bytes > 0); /* still over the limit: held */
    FF_CHECK(st.bytes > 1000 + 300);
    FF_CHECK_EQ(read_all(log, st.first_offset), 120 - st.first_offset);
    uint64_t first_at_30 = st.first_offset;

    /* Appends roll and run retention: still nothing at or past 30 goes. */
    for (int i = 40; i < 50; i++)
        append_n(log, i * 3, 3);
    ff_evlog_stats_get(log, &st);
    FF_CHECK_EQ(st.first_offset, first_at_30);
    FF_CHECK_EQ(read_all(log, 30), 120);

    /* The consumer caught up: the size limit applies again. */
    ff_evlog_hold_set(h, 150);
    FF_CHECK_EQ(ff_evlog_retain(log, NULL), FF_OK);
    ff_evlog_stats_get(log, &st);
    FF_CHECK(st.first_offset > 30);
    FF_CHECK(st.bytes <= 1000 + 300);
    FF_CHECK_EQ(st.retain_held_bytes, 0);
    FF_CHECK_EQ(read_all(log, st.first_offset), 150 - st.first_offset);
    ff_evlog_hold_free(h);
    ff_evlog_close(log);

    /* Age: every segment older than the limit. Open runs retention before any consumer could
     * take its hold: it must wait for it. */
    fresh_dir();
    log = open_log(300);
    for (int i = 0; i < 40; i++)
        append_n(log, i * 3, 3);
    ff_evlog_close(log);
    age_segments(3600);
    o = (ff_evlog_opts){
        .dir = tmpdir, .segment_bytes = 300, .retain_ms = 60000, .retain_n_holds = 1};
    FF_CHECK_EQ(ff_evlog_open(&o, &log, NULL), FF_OK);
    ff_evlog_stats_get(log, &st);
    FF_CHECK_EQ(st.first_offset, 0);
    FF_CHECK(st.n_segments > 5);
    n_all = st.n_segments;
    FF_CHECK_EQ(ff_evlog_hold_new(log, "test", 60, &h, NULL), FF_OK);
    FF_CHECK_EQ(ff_evlog_retain(log, NULL), FF_OK);
    ff_evlog_stats_get(log, &st);
    FF_CHECK(st.first_offset > 0 && st.first_offset <= 60);
    FF_CHECK(st.retain_held_bytes > 0);
    FF_CHECK_EQ(read_all(log, 60), 60);
    /* The lowest of two holds counts. */
    ff_evlog_hold *h2 = NULL;
    FF_CHECK_EQ(ff_evlog_hold_new(log, "other", 120, &h2, NULL), FF_OK);
    ff_evlog_hold_set(h, 120);
    ff_evlog_hold_set(h2, 90);
    FF_CHECK_EQ(ff_evlog_retain(log, NULL), FF_OK);
    ff_evlog_stats_get(log, &st);
    FF_CHECK(st.first_offset > 60 && st.first_offset <= 90);
    FF_CHECK_EQ(read_all(log, 90), 30);
    /* One of the two freed: the one left (120) is as many holds as retention waits for. */
    ff_evlog_hold_free(h2);
    FF_CHECK_EQ(ff_evlog_retain(log, NULL), FF_OK);
    ff_evlog_stats_get(log, &st);
    FF_CHECK(st.first_offset > 90 && st.first_offset <= 120);
    /* Without any hold (the consumer closed) retention waits again. */
    ff_evlog_hold_free(h);
    uint64_t first = st.first_offset;
    age_segments(3600);
    FF_CHECK_EQ(ff_evlog_retain(log, NULL), FF_OK);
    ff_evlog_stats_get(log, &st);
    FF_CHECK_EQ(st.first_offset, first);
    ff_evlog_close(log);
}

typedef struct writer_arg {
    ff_evlog *log;
    int id;
    int n;
} writer_arg;

static void *writer_main(void *p)
{
    writer_arg *a = p;
    for (int i = 0; i < a->n; i++) {
        ff_buf b;
        ff_buf_init(&b, 0);
        char rec[64];
        snprintf(rec, sizeof rec, "w%d-%d", a->id, i);
        payload_add(&b, rec);
        payload_add(&b, rec);
        FF_CHECK_EQ(ff_evlog_append(a->log, b.data, b.len, 2, NULL, NULL), FF_OK);
        ff_buf_fini(&b);
    }
    return NULL;
}

static void test_group_commit(void)
{
    fresh_dir();
    ff_evlog *log = open_log(4096);
    enum { T = 8, N = 50 };
    pthread_t th[T];
    writer_arg args[T];
    for (int i = 0; i < T; i++) {
        args[i] = (writer_arg){log, i, N};
        pthread_create(&th[i], NULL, writer_main, &args[i]);
    }
    for (int i = 0; i < T; i++)
        pthread_join(th[i], NULL);
    ff_evlog_stats st;
    ff_evlog_stats_get(log, &st);
    FF_CHECK_EQ(st.next_offset, T * N * 2);
    FF_CHECK_EQ(st.durable_offset, T * N * 2);
    /* Group commit: fewer syncs than appends (each append waits for one). */
    fprintf(stderr, "group commit: %d appends, %llu syncs\n", T * N,
            (unsigned long long)st.n_syncs);
    FF_CHECK(st.n_syncs <= (uint64_t)T * N);
    /* Every record is there exactly once, the two of a pair adjacent. */
    ff_evlog_cursor *c;
    ff_evlog_cursor_open(log, 0, &c, NULL);
    int seen[T][N];
    memset(seen, 0, sizeof seen);
    uint64_t off, n = 0;
    const void *rec;
    size_t len;
    while (ff_evlog_cursor_next(c, &off, &rec, &len, NULL) == FF_OK) {
        int w, i;
        char tmp[64];
        memcpy(tmp, rec, len);
        tmp[len] = 0;
        if (sscanf(tmp, "w%d-%d", &w, &i) == 2 && w >= 0 && w < T && i >= 0 && i < N)
            seen[w][i]++;
        n++;
    }
    ff_evlog_cursor_close(c);
    FF_CHECK_EQ(n, T * N * 2);
    int bad = 0;
    for (int w = 0; w < T; w++)
        for (int i = 0; i < N; i++)
            bad += seen[w][i] != 2;
    FF_CHECK_EQ(bad, 0);
    FF_CHECK_EQ(ff_evlog_verify(log, NULL, NULL), FF_OK);
    ff_evlog_close(log);
}

static void test_read_only_follow(void)
{
    fresh_dir();
    ff_evlog *w = open_log(0);
    append_n(w, 0, 2);
    ff_evlog_opts o = {.dir = tmpdir, .read_only = true};
    ff_evlog *r = NULL;
    FF_CHECK_EQ(ff_evlog_open(&o, &r, NULL), FF_OK);
    ff_evlog_cursor *c;
    ff_evlog_cursor_open(r, 0, &c, NULL);
    uint64_t off;
    const void *rec;
    size_t len;
    int n = 0;
    while (ff_evlog_cursor_next(c, &off, &rec, &len, NULL) == FF_OK)
        n++;
    FF_CHECK_EQ(n, 2);
    append_n(w, 2, 3); /* the tail grows: the same cursor follows it */
    while (ff_evlog_cursor_next(c, &off, &rec, &len, NULL) == FF_OK)
        n++;
    FF_CHECK_EQ(n, 5);
    ff_evlog_cursor_close(c);
    ff_evlog_close(r);
    ff_evlog_close(w);
}

static void test_interval_sync(void)
{
    fresh_dir();
    ff_evlog_opts o = {.dir = tmpdir, .sync = FF_EVLOG_SYNC_INTERVAL, .sync_interval_ms = 20};
    ff_evlog *log = NULL;
    FF_CHECK_EQ(ff_evlog_open(&o, &log, NULL), FF_OK);
    append_n(log, 0, 3);
    FF_CHECK_EQ(ff_evlog_wait(log, 2, 5000), FF_OK);
    FF_CHECK_EQ(read_all(log, 0), 3);
    ff_evlog_close(log);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/ff_test_evlog_%d", (int)getpid());
    FF_RUN(test_append_read);
    FF_RUN(test_bad_append);
    FF_RUN(test_lock);
    FF_RUN(test_torn_tail);
    FF_RUN(test_mid_corruption_detected);
    FF_RUN(test_mid_segment_damage_refused);
    FF_RUN(test_damage_after_checkpoint_is_torn);
    FF_RUN(test_roll_and_retention);
    FF_RUN(test_retention_holds);
    FF_RUN(test_group_commit);
    FF_RUN(test_read_only_follow);
    FF_RUN(test_interval_sync);
    fresh_dir();
    FF_DONE();
}
