/* ff_evlog.c -- the embedded file backend of the event log. See ff_evlog.h
 * for the design and docs/formats/evlog.md for the bytes on disk. */
#include "evlog/ff_evlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/ff_clock.h"
#include "core/ff_log.h"
#include "core/ff_mem.h"

#define SEG_MAGIC "FFLOGSEG"
#define SEG_HDR_BYTES 16u
#define SEG_VERSION 1u
#define FRAME_MAGIC 0x31424646u /* "FFB1" little-endian */
#define FRAME_HDR_BYTES 40u
#define FRAME_VERSION 1u
#define DEFAULT_SEGMENT_BYTES (128ull * 1024 * 1024)

_Static_assert(FRAME_HDR_BYTES == 40, "frame header is 40 bytes on disk");

/* ---- little-endian helpers -------------------------------------------- */

static void put_u16(unsigned char *p, uint16_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}

static void put_u32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static void put_u64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint16_t get_u16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static uint64_t get_u64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* ---- frames ------------------------------------------------------------ */

typedef struct frame_hdr {
    uint32_t n_records;
    uint32_t payload_len;
    uint64_t base_offset;
    int64_t time_ms;
    uint32_t crc;
} frame_hdr;

static uint32_t frame_crc(const unsigned char *hdr, const void *payload, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);
    c = crc32(c, hdr, FRAME_HDR_BYTES - 4);
    /* zlib takes uInt lengths; frames are capped far below 4 GiB. */
    c = crc32(c, payload, (uInt)len);
    return (uint32_t)c;
}

static void frame_hdr_encode(unsigned char *h, uint32_t n, uint32_t len, uint64_t base,
                             int64_t time_ms, const void *payload)
{
    put_u32(h + 0, FRAME_MAGIC);
    put_u16(h + 4, FRAME_VERSION);
    put_u16(h + 6, 0);
    put_u32(h + 8, n);
    put_u32(h + 12, len);
    put_u64(h + 16, base);
    put_u64(h + 24, (uint64_t)time_ms);
    put_u32(h + 32, 0);
    put_u32(h + 36, frame_crc(h, payload, len));
}

/* Decode a header; returns a reason string when it cannot be a frame. */
static const char *frame_hdr_decode(const unsigned char *h, frame_hdr *out)
{
    if (get_u32(h) != FRAME_MAGIC)
        return "bad frame magic";
    if (get_u16(h + 4) != FRAME_VERSION)
        return "unknown frame version";
    out->n_records = get_u32(h + 8);
    out->payload_len = get_u32(h + 12);
    out->base_offset = get_u64(h + 16);
    out->time_ms = (int64_t)get_u64(h + 24);
    out->crc = get_u32(h + 36);
    if (out->payload_len > FF_EVLOG_MAX_FRAME_BYTES)
        return "frame length over the maximum";
    if (out->n_records == 0 || (uint64_t)out->n_records * 4 > out->payload_len)
        return "record count does not fit the payload";
    return NULL;
}

/* Check the records inside a payload: n length-prefixed records, exactly. */
static const char *payload_check(const unsigned char *p, size_t len, uint32_t n)
{
    size_t pos = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (len - pos < 4)
            return "record header past the payload";
        uint32_t rl = get_u32(p + pos);
        pos += 4;
        if (rl > len - pos)
            return "record past the payload";
        pos += rl;
    }
    return pos == len ? NULL : "bytes after the last record";
}

/* ---- segments ---------------------------------------------------------- */

typedef struct seg {
    int fd;
    uint64_t base;
    uint64_t size; /* bytes written (== file size for the active segment) */
    int refs;      /* sync leaders currently using fd (under log->mu) */
    bool retired;
} seg;

typedef struct seg_list {
    uint64_t *bases;
    size_t n;
} seg_list;

struct ff_evlog {
    ff_evlog_opts opts;
    char *dir;
    int dir_fd;
    int lock_fd;

    pthread_mutex_t mu; /* appends, rolls, retention */
    seg *active;
    uint64_t next_offset;
    uint64_t first_offset;
    bool failed;

    pthread_mutex_t sync_mu; /* group commit */
    pthread_cond_t sync_cv;
    bool syncing;
    _Atomic uint64_t durable_offset;

    pthread_t sync_thread; /* interval mode */
    bool sync_thread_running;
    bool stopping;

    _Atomic uint64_t n_syncs;
    _Atomic uint64_t sync_ns_total;
    _Atomic uint64_t sync_ns_max;
    uint64_t truncated_at_open;

    /* Retention holds (under mu; each hold's offset is atomic) and what the last pass kept. */
    ff_evlog_hold *holds;
    uint32_t n_holds;
    uint64_t retain_held_bytes;
    int64_t held_warn_ms; /* last warning that a hold kept segments; 0 = never */
    bool held_warned;     /* warned, and not yet said that it is over */

    /* Checkpoint (see ckpt_write): a position known durable, on disk. */
    int ckpt_fd;
    int64_t ckpt_last_ms;
    bool have_ckpt;
    uint64_t ckpt_seg_base;
    uint64_t ckpt_pos;
};

static void seg_path(const ff_evlog *log, uint64_t base, char *buf, size_t n)
{
    snprintf(buf, n, "%s/%020" PRIu64 ".ffl", log->dir, base);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* List segment bases in ascending order. */
static ff_rc seg_list_read(const char *dir, seg_list *out, ff_err *err)
{
    out->bases = NULL;
    out->n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return FF_ERR_SYS(err, FF_EIO, "cannot open log folder %s", dir);
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l != 24 || strcmp(e->d_name + 20, ".ffl") != 0)
            continue;
        char *end;
        uint64_t b = strtoull(e->d_name, &end, 10);
        if (end != e->d_name + 20)
            continue;
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            uint64_t *nb = ff_realloc(out->bases, cap * sizeof *nb);
            if (!nb) {
                closedir(d);
                ff_free(out->bases);
                return FF_ERR_SET(err, FF_ENOMEM, "out of memory listing segments");
            }
            out->bases = nb;
        }
        out->bases[out->n++] = b;
    }
    closedir(d);
    if (out->n)
        qsort(out->bases, out->n, sizeof *out->bases, cmp_u64);
    return FF_OK;
}

static ff_rc full_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    const char *p = buf;
    while (len) {
        ssize_t w = pwrite(fd, p, len, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return FF_EIO;
        }
        p += w;
        len -= (size_t)w;
        off += (uint64_t)w;
    }
    return FF_OK;
}

/* Reads exactly len bytes; returns the number read (short at end of file) or -1. */
static ssize_t full_pread(int fd, void *buf, size_t len, uint64_t off)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, p + got, len - got, (off_t)(off + got));
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static ff_rc seg_create(ff_evlog *log, uint64_t base, seg **out, ff_err *err)
{
    char path[4096];
    seg_path(log, base, path, sizeof path);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return FF_ERR_SYS(err, FF_EIO, "cannot create segment %s", path);
    unsigned char h[SEG_HDR_BYTES] = {0};
    memcpy(h, SEG_MAGIC, 8);
    put_u32(h + 8, SEG_VERSION);
    if (full_pwrite(fd, h, sizeof h, 0) || fdatasync(fd) || fsync(log->dir_fd)) {
        int e = errno;
        close(fd);
        errno = e;
        return FF_ERR_SYS(err, FF_EIO, "cannot initialise segment %s", path);
    }
    seg *s = ff_calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    }
    s->fd = fd;
    s->base = base;
    s->size = SEG_HDR_BYTES;
    *out = s;
    return FF_OK;
}

static void seg_release(seg *s)
{
    if (s) {
        close(s->fd);
        ff_free(s);
    }
}

/* Scan one segment file frame by frame. Reports where the valid prefix
 * ends, the offset after the last good record, and why it stopped. */
typedef struct scan_result {
    uint64_t good_bytes;  /* end of the last valid frame */
    uint64_t next_offset; /* base + n of the last valid frame */
    uint64_t n_records;
    uint64_t file_bytes;
    const char *stop_reason; /* NULL when the whole file is valid */
    bool torn;               /* the bad part reaches the end of the file */
} scan_result;

/* True when every byte of [from, to) is zero (a zero-filled tail). */
static bool tail_is_zeros(int fd, uint64_t from, uint64_t to)
{
    unsigned char buf[4096];
    while (from < to) {
        size_t n = to - from < sizeof buf ? (size_t)(to - from) : sizeof buf;
        ssize_t r = full_pread(fd, buf, n, from);
        if (r <= 0)
            return false;
        for (ssize_t i = 0; i < r; i++)
            if (buf[i])
                return false;
        from += (uint64_t)r;
    }
    return true;
}

static ff_rc seg_scan(int fd, uint64_t expect_base, scan_result *r, ff_err *err)
{
    memset(r, 0, sizeof *r);
    struct stat st;
    if (fstat(fd, &st) != 0)
        return FF_ERR_SYS(err, FF_EIO, "fstat");
    r->file_bytes = (uint64_t)st.st_size;
    r->next_offset = expect_base;
    unsigned char sh[SEG_HDR_BYTES];
    ssize_t n = full_pread(fd, sh, sizeof sh, 0);
    if (n < 0)
        return FF_ERR_SYS(err, FF_EIO, "read segment header");
    if ((size_t)n < sizeof sh || memcmp(sh, SEG_MAGIC, 8) != 0 || get_u32(sh + 8) != SEG_VERSION) {
        r->stop_reason = (size_t)n < sizeof sh ? "short segment header" : "bad segment header";
        /* Short, or zeros with nothing after them: a crash while creating it. */
        bool zeros = (size_t)n == sizeof sh && r->file_bytes == sizeof sh;
        for (size_t i = 0; zeros && i < sizeof sh; i++)
            zeros = sh[i] == 0;
        r->torn = (size_t)n < sizeof sh || zeros;
        return FF_OK;
    }
    uint64_t pos = SEG_HDR_BYTES;
    unsigned char *buf = NULL;
    size_t buf_cap = 0;
    while (pos < r->file_bytes) {
        unsigned char h[FRAME_HDR_BYTES];
        n = full_pread(fd, h, sizeof h, pos);
        if (n < 0) {
            ff_free(buf);
            return FF_ERR_SYS(err, FF_EIO, "read frame header");
        }
        if ((size_t)n < sizeof h) {
            r->stop_reason = "short frame header";
            r->torn = true;
            break;
        }
        frame_hdr fh;
        const char *why = frame_hdr_decode(h, &fh);
        if (!why && fh.base_offset != r->next_offset)
            why = "offsets are not dense";
        if (why) {
            r->stop_reason = why;
            /* A crash leaves a prefix of a frame, or zeros: torn. Anything
             * else that fails here with data behind it is damage. */
            r->torn = tail_is_zeros(fd, pos, r->file_bytes);
            break;
        }
        uint64_t end = pos + FRAME_HDR_BYTES + fh.payload_len;
        if (end > r->file_bytes) {
            r->stop_reason = "frame runs past the end of the file";
            r->torn = true;
            break;
        }
        if (fh.payload_len > buf_cap) {
            unsigned char *nb = ff_realloc(buf, fh.payload_len);
            if (!nb) {
                ff_free(buf);
                return FF_ERR_SET(err, FF_ENOMEM, "out of memory reading a frame");
            }
            buf = nb;
            buf_cap = fh.payload_len;
        }
        n = full_pread(fd, buf, fh.payload_len, pos + FRAME_HDR_BYTES);
        if (n < 0 || (size_t)n != fh.payload_len) {
            ff_free(buf);
            return FF_ERR_SYS(err, FF_EIO, "read frame payload");
        }
        if (frame_crc(h, buf, fh.payload_len) != fh.crc) {
            r->stop_reason = "CRC mismatch";
            r->torn = end == r->file_bytes || tail_is_zeros(fd, end, r->file_bytes);
            break;
        }
        why = payload_check(buf, fh.payload_len, fh.n_records);
        if (why) {
            r->stop_reason = why;
            r->torn = end == r->file_bytes || tail_is_zeros(fd, end, r->file_bytes);
            break;
        }
        pos = end;
        r->good_bytes = pos;
        r->next_offset = fh.base_offset + fh.n_records;
        r->n_records += fh.n_records;
    }
    if (r->good_bytes == 0)
        r->good_bytes = SEG_HDR_BYTES;
    ff_free(buf);
    return FF_OK;
}

/* ---- retention ---------------------------------------------------------- */

#define HELD_WARN_EVERY_MS (10 * 60 * 1000)

struct ff_evlog_hold {
    ff_evlog *log;
    ff_evlog_hold *next; /* log->holds, under log->mu */
    _Atomic uint64_t from_offset;
    char name[32];
};

/* The lowest offset a consumer still needs: 0 while a hold retention waits for is missing,
 * UINT64_MAX when nothing holds. *who names it for the log line. */
static uint64_t retain_floor_locked(ff_evlog *log, const char **who)
{
    if (log->n_holds < log->opts.retain_n_holds) {
        *who = NULL; /* a consumer that has not opened yet */
        return 0;
    }
    uint64_t floor = UINT64_MAX;
    *who = NULL;
    for (ff_evlog_hold *h = log->holds; h; h = h->next) {
        uint64_t v = atomic_load(&h->from_offset);
        if (v < floor) {
            floor = v;
            *who = h->name;
        }
    }
    return floor;
}

static ff_rc retain_locked(ff_evlog *log, ff_err *err)
{
    if (!log->opts.retain_bytes && !log->opts.retain_ms)
        return FF_OK;
    seg_list sl;
    ff_rc rc = seg_list_read(log->dir, &sl, err);
    if (rc)
        return rc;
    uint64_t total = 0;
    uint64_t *sizes = ff_calloc(sl.n ? sl.n : 1, sizeof *sizes);
    int64_t *mtimes = ff_calloc(sl.n ? sl.n : 1, sizeof *mtimes);
    if (!sizes || !mtimes) {
        ff_free(sizes);
        ff_free(mtimes);
        ff_free(sl.bases);
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < sl.n; i++) {
        char path[4096];
        seg_path(log, sl.bases[i], path, sizeof path);
        struct stat st;
        if (stat(path, &st) == 0) {
            sizes[i] = (uint64_t)st.st_size;
            mtimes[i] = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
        }
        total += sizes[i];
    }
    int64_t now = ff_clock_now_ms();
    const char *who;
    uint64_t floor = retain_floor_locked(log, &who);
    uint64_t held = 0;
    /* Never delete the active (newest) segment. Segment i holds the offsets
     * [bases[i], bases[i + 1]): it may go only when all of them are below the floor. Once one
     * is held, so are all newer ones; the loop goes on only to count what the limits would
     * have deleted (as if it had been). */
    for (size_t i = 0; i + 1 < sl.n; i++) {
        bool too_big = log->opts.retain_bytes && total > log->opts.retain_bytes;
        bool too_old = log->opts.retain_ms && now - mtimes[i] > (int64_t)log->opts.retain_ms;
        if (!too_big && !too_old)
            break;
        total -= sizes[i];
        if (held || sl.bases[i + 1] > floor) {
            held += sizes[i];
            continue;
        }
        char path[4096];
        seg_path(log, sl.bases[i], path, sizeof path);
        if (unlink(path) != 0) {
            rc = FF_ERR_SYS(err, FF_EIO, "cannot delete old segment %s", path);
            break;
        }
        log->first_offset = sl.bases[i + 1];
        FF_LOG(FF_LOG_INFO, "evlog", "retention deleted segment base=%" PRIu64, sl.bases[i]);
    }
    fsync(log->dir_fd);
    log->retain_held_bytes = held;
    /* Rate-limited: a store that keeps up but trails a roll (retain_bytes below two
     * segments) would otherwise warn at every roll. */
    if (held && who) {
        if (!log->held_warn_ms || now - log->held_warn_ms >= HELD_WARN_EVERY_MS) {
            log->held_warn_ms = now;
            log->held_warned = true;
            FF_LOG(FF_LOG_WARN, "evlog",
                   "retention held back: %" PRIu64 " bytes of segments past the retention "
                   "limits are kept because %s still needs the log from offset %" PRIu64
                   "; they go once it has caught up",
                   held, who, floor);
        }
    } else if (!held && log->held_warned) {
        log->held_warned = false;
        FF_LOG(FF_LOG_INFO, "evlog", "retention no longer held back");
    }
    ff_free(sizes);
    ff_free(mtimes);
    ff_free(sl.bases);
    return rc;
}

ff_rc ff_evlog_retain(ff_evlog *log, ff_err *err)
{
    pthread_mutex_lock(&log->mu);
    ff_rc rc = retain_locked(log, err);
    pthread_mutex_unlock(&log->mu);
    return rc;
}

ff_rc ff_evlog_hold_new(ff_evlog *log, const char *name, uint64_t from_offset, ff_evlog_hold **out,
                        ff_err *err)
{
    *out = NULL;
    ff_evlog_hold *h = ff_calloc(1, sizeof *h);
    if (!h)
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    h->log = log;
    atomic_store(&h->from_offset, from_offset);
    snprintf(h->name, sizeof h->name, "%s", name ? name : "?");
    pthread_mutex_lock(&log->mu);
    h->next = log->holds;
    log->holds = h;
    log->n_holds++;
    pthread_mutex_unlock(&log->mu);
    *out = h;
    return FF_OK;
}

void ff_evlog_hold_set(ff_evlog_hold *h, uint64_t from_offset)
{
    atomic_store(&h->from_offset, from_offset);
}

void ff_evlog_hold_free(ff_evlog_hold *h)
{
    if (!h)
        return;
    ff_evlog *log = h->log;
    pthread_mutex_lock(&log->mu);
    for (ff_evlog_hold **pp = &log->holds; *pp; pp = &(*pp)->next) {
        if (*pp == h) {
            *pp = h->next;
            log->n_holds--;
            break;
        }
    }
    pthread_mutex_unlock(&log->mu);
    ff_free(h);
}

/* ---- checkpoint ------------------------------------------------------------
 *
 * A crash can leave any mix of partly written frames after the last sync, so
 * recovery must cut at the first bad frame -- but only there. Damage to
 * records that were already durable (a bad disk, a stray write) must not be
 * "recovered" by silently dropping everything after it. The CHECKPOINT file
 * records a (segment, byte position) that was durable; it is rewritten at
 * most once a second by the sync leader and at close. Damage before it is
 * refused at open; damage after it is treated as a torn tail. So at most one
 * second of acknowledged records is exposed to media damage, and none to
 * crashes. Format: "FFCKPT01", u64 segment base, u64 byte position, u32
 * CRC-32 of the first 24 bytes, u32 zero -- one 32-byte write. */

#define CKPT_MAGIC "FFCKPT01"
#define CKPT_BYTES 32u
#define CKPT_EVERY_MS 1000

static void ckpt_write(ff_evlog *log, uint64_t seg_base, uint64_t pos)
{
    if (log->ckpt_fd < 0)
        return;
    unsigned char b[CKPT_BYTES] = {0};
    memcpy(b, CKPT_MAGIC, 8);
    put_u64(b + 8, seg_base);
    put_u64(b + 16, pos);
    put_u32(b + 24, (uint32_t)crc32(crc32(0L, Z_NULL, 0), b, 24));
    if (full_pwrite(log->ckpt_fd, b, sizeof b, 0) == FF_OK && fdatasync(log->ckpt_fd) == 0) {
        log->ckpt_last_ms = ff_clock_now_ms();
    } else {
        FF_LOG(FF_LOG_WARN, "evlog", "cannot write the checkpoint: %s", strerror(errno));
    }
}

static void ckpt_read(ff_evlog *log)
{
    log->have_ckpt = false;
    if (log->ckpt_fd < 0)
        return;
    unsigned char b[CKPT_BYTES];
    if (full_pread(log->ckpt_fd, b, sizeof b, 0) != (ssize_t)sizeof b ||
        memcmp(b, CKPT_MAGIC, 8) != 0 ||
        get_u32(b + 24) != (uint32_t)crc32(crc32(0L, Z_NULL, 0), b, 24))
        return;
    log->have_ckpt = true;
    log->ckpt_seg_base = get_u64(b + 8);
    log->ckpt_pos = get_u64(b + 16);
}

/* ---- sync -------------------------------------------------------------- */

static void note_sync_time(ff_evlog *log, uint64_t ns)
{
    atomic_fetch_add(&log->n_syncs, 1);
    atomic_fetch_add(&log->sync_ns_total, ns);
    uint64_t prev = atomic_load(&log->sync_ns_max);
    while (ns > prev && !atomic_compare_exchange_weak(&log->sync_ns_max, &prev, ns)) {
    }
}

/* Make everything written so far durable, sharing one fdatasync with any
 * concurrent callers. Returns FF_OK once durable_offset >= want. */
static ff_rc sync_to(ff_evlog *log, uint64_t want)
{
    pthread_mutex_lock(&log->sync_mu);
    while (atomic_load(&log->durable_offset) < want) {
        if (log->syncing) {
            pthread_cond_wait(&log->sync_cv, &log->sync_mu);
            continue;
        }
        log->syncing = true;
        pthread_mutex_unlock(&log->sync_mu);

        pthread_mutex_lock(&log->mu);
        bool failed = log->failed;
        seg *s = log->active;
        uint64_t target = log->next_offset;
        uint64_t seg_base = s->base, seg_pos = s->size;
        s->refs++;
        pthread_mutex_unlock(&log->mu);

        uint64_t t0 = ff_clock_mono_ns();
        int src = failed ? -1 : fdatasync(s->fd);
        note_sync_time(log, ff_clock_mono_ns() - t0);
        /* Only the leader gets here, so checkpoint writes never overlap. */
        if (src == 0 && ff_clock_now_ms() - log->ckpt_last_ms >= CKPT_EVERY_MS)
            ckpt_write(log, seg_base, seg_pos);

        pthread_mutex_lock(&log->mu);
        if (src != 0 && !failed) {
            FF_LOG(FF_LOG_ERROR, "evlog", "fdatasync failed: %s; log is now FAILED",
                   strerror(errno));
            log->failed = true;
        }
        failed = log->failed;
        if (--s->refs == 0 && s->retired)
            seg_release(s);
        pthread_mutex_unlock(&log->mu);

        pthread_mutex_lock(&log->sync_mu);
        log->syncing = false;
        if (!failed && target > atomic_load(&log->durable_offset))
            atomic_store(&log->durable_offset, target);
        pthread_cond_broadcast(&log->sync_cv);
        if (failed) {
            pthread_mutex_unlock(&log->sync_mu);
            return FF_EFAILED;
        }
    }
    pthread_mutex_unlock(&log->sync_mu);
    return FF_OK;
}

static void *sync_thread_main(void *arg)
{
    ff_evlog *log = arg;
    pthread_setname_np(pthread_self(), "ff-log-sync"); /* names show in top -H and perf */
    uint32_t ms = log->opts.sync_interval_ms;
    for (;;) {
        pthread_mutex_lock(&log->sync_mu);
        if (log->stopping) {
            pthread_mutex_unlock(&log->sync_mu);
            break;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(ms % 1000) * 1000000L;
        ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&log->sync_cv, &log->sync_mu, &ts);
        bool stop = log->stopping;
        pthread_mutex_unlock(&log->sync_mu);
        pthread_mutex_lock(&log->mu);
        uint64_t want = log->next_offset;
        pthread_mutex_unlock(&log->mu);
        if (want > atomic_load(&log->durable_offset))
            sync_to(log, want);
        if (stop)
            break;
    }
    return NULL;
}

/* ---- open / close ------------------------------------------------------ */

static ff_rc recover(ff_evlog *log, ff_err *err)
{
    seg_list sl;
    ff_rc rc = seg_list_read(log->dir, &sl, err);
    if (rc)
        return rc;
    if (sl.n == 0) {
        ff_free(sl.bases);
        if (log->opts.read_only) {
            log->active = NULL;
            return FF_OK;
        }
        rc = seg_create(log, 0, &log->active, err);
        return rc;
    }
    log->first_offset = sl.bases[0];
    uint64_t base = sl.bases[sl.n - 1];
    char path[4096];
    seg_path(log, base, path, sizeof path);
    int fd = open(path, (log->opts.read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    ff_free(sl.bases);
    if (fd < 0)
        return FF_ERR_SYS(err, FF_EIO, "cannot open segment %s", path);
    scan_result r;
    rc = seg_scan(fd, base, &r, err);
    if (rc) {
        close(fd);
        return rc;
    }
    bool header_bad = r.stop_reason && strstr(r.stop_reason, "segment header");
    if (header_bad && !r.torn) {
        /* A full-size segment with a damaged header is not a crash artefact
         * (headers are written and synced before any frame): stop and let a
         * human decide rather than throw its records away. */
        close(fd);
        return FF_ERR_SET(err, FF_ECORRUPT,
                          "%s has a damaged segment header; move it aside to start without it "
                          "(its records are then lost) or restore it from a backup",
                          path);
    }
    bool before_ckpt = log->have_ckpt && log->ckpt_seg_base == base && r.good_bytes < log->ckpt_pos;
    if (r.stop_reason && before_ckpt && !log->opts.read_only && !log->opts.repair) {
        /* Damage inside what was already durable is not a crash artefact:
         * cutting there would silently drop acknowledged records. Refuse,
         * and say how to choose the loss explicitly. */
        close(fd);
        return FF_ERR_SET(err, FF_ECORRUPT,
                          "%s is damaged at byte %" PRIu64 " (%s), inside data that was "
                          "already durable (up to byte %" PRIu64 "); the log was not changed. "
                          "Restore the segment from a backup, or run `footfall log repair` to "
                          "cut the log there (the records after it are lost)",
                          path, r.good_bytes, r.stop_reason, log->ckpt_pos);
    }
    if (r.stop_reason && !log->opts.read_only) {
        uint64_t cut = r.file_bytes - r.good_bytes;
        FF_LOG(FF_LOG_WARN, "evlog",
               "recovery: truncating %" PRIu64 " bytes at %s:%" PRIu64 " (%s); %" PRIu64
               " records before it are kept",
               cut, path, r.good_bytes, r.stop_reason, r.next_offset);
        if (header_bad) {
            /* The segment was being created when the crash came: redo it. */
            unsigned char h[SEG_HDR_BYTES] = {0};
            memcpy(h, SEG_MAGIC, 8);
            put_u32(h + 8, SEG_VERSION);
            if (full_pwrite(fd, h, sizeof h, 0)) {
                close(fd);
                return FF_ERR_SYS(err, FF_EIO, "rewrite segment header %s", path);
            }
            r.good_bytes = SEG_HDR_BYTES;
        }
        if (ftruncate(fd, (off_t)r.good_bytes) != 0 || fsync(fd) != 0) {
            close(fd);
            return FF_ERR_SYS(err, FF_EIO, "cannot truncate torn tail of %s", path);
        }
        log->truncated_at_open = cut;
    }
    seg *s = ff_calloc(1, sizeof *s);
    if (!s) {
        close(fd);
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    }
    s->fd = fd;
    s->base = base;
    s->size = r.good_bytes;
    log->active = s;
    log->next_offset = r.next_offset;
    return FF_OK;
}

ff_rc ff_evlog_open(const ff_evlog_opts *opts, ff_evlog **out, ff_err *err)
{
    *out = NULL;
    if (!opts || !opts->dir)
        return FF_ERR_SET(err, FF_EINVAL, "log folder not given");
    ff_evlog *log = ff_calloc(1, sizeof *log);
    if (!log)
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    log->opts = *opts;
    if (!log->opts.segment_bytes)
        log->opts.segment_bytes = DEFAULT_SEGMENT_BYTES;
    if (!log->opts.sync_interval_ms)
        log->opts.sync_interval_ms = 200;
    log->dir_fd = -1;
    log->lock_fd = -1;
    log->ckpt_fd = -1;
    pthread_mutex_init(&log->mu, NULL);
    pthread_mutex_init(&log->sync_mu, NULL);
    pthread_cond_init(&log->sync_cv, NULL);
    log->dir = ff_strdup(opts->dir);
    ff_rc rc = FF_OK;
    if (!log->dir) {
        rc = FF_ERR_SET(err, FF_ENOMEM, "out of memory");
        goto fail;
    }
    log->opts.dir = log->dir;
    if (!opts->read_only && mkdir(log->dir, 0755) != 0 && errno != EEXIST) {
        rc = FF_ERR_SYS(err, FF_EIO, "cannot create log folder %s", log->dir);
        goto fail;
    }
    log->dir_fd = open(log->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (log->dir_fd < 0) {
        rc = FF_ERR_SYS(err, opts->read_only ? FF_ENOTFOUND : FF_EIO, "cannot open log folder %s",
                        log->dir);
        goto fail;
    }
    if (!opts->read_only) {
        char lp[4096];
        snprintf(lp, sizeof lp, "%s/LOCK", log->dir);
        log->lock_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (log->lock_fd < 0) {
            rc = FF_ERR_SYS(err, FF_EIO, "cannot open %s", lp);
            goto fail;
        }
        if (flock(log->lock_fd, LOCK_EX | LOCK_NB) != 0) {
            rc = FF_ERR_SET(err, FF_ELOCKED, "log folder %s is in use by another footfall process",
                            log->dir);
            goto fail;
        }
        snprintf(lp, sizeof lp, "%s/CHECKPOINT", log->dir);
        log->ckpt_fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (log->ckpt_fd < 0) {
            rc = FF_ERR_SYS(err, FF_EIO, "cannot open %s", lp);
            goto fail;
        }
        ckpt_read(log);
    }
    rc = recover(log, err);
    if (rc)
        goto fail;
    atomic_store(&log->durable_offset, log->next_offset);
    if (!opts->read_only && opts->sync == FF_EVLOG_SYNC_INTERVAL) {
        if (pthread_create(&log->sync_thread, NULL, sync_thread_main, log) != 0) {
            rc = FF_ERR_SET(err, FF_EIO, "cannot start the sync thread");
            goto fail;
        }
        log->sync_thread_running = true;
    }
    if (!opts->read_only)
        retain_locked(log, NULL);
    *out = log;
    return FF_OK;
fail:
    ff_evlog_close(log);
    return rc;
}

void ff_evlog_close(ff_evlog *log)
{
    if (!log)
        return;
    if (log->sync_thread_running) {
        pthread_mutex_lock(&log->sync_mu);
        log->stopping = true;
        pthread_cond_broadcast(&log->sync_cv);
        pthread_mutex_unlock(&log->sync_mu);
        pthread_join(log->sync_thread, NULL);
    }
    if (log->active) {
        if (!log->opts.read_only && !log->failed && fdatasync(log->active->fd) == 0)
            ckpt_write(log, log->active->base, log->active->size);
        seg_release(log->active);
    }
    if (log->dir_fd >= 0)
        close(log->dir_fd);
    if (log->ckpt_fd >= 0)
        close(log->ckpt_fd);
    if (log->lock_fd >= 0)
        close(log->lock_fd);       /* releases the flock */
    FF_ASSERT(log->holds == NULL); /* every hold is freed before the log closes */
    pthread_mutex_destroy(&log->mu);
    pthread_mutex_destroy(&log->sync_mu);
    pthread_cond_destroy(&log->sync_cv);
    ff_free(log->dir);
    ff_free(log);
}

/* ---- append ------------------------------------------------------------ */

static ff_rc roll_locked(ff_evlog *log, ff_err *err)
{
    seg *old = log->active;
    /* The old segment must be durable before records land in the new one,
     * so durable_offset can keep describing a prefix of the log. */
    if (fdatasync(old->fd) != 0) {
        log->failed = true;
        return FF_ERR_SYS(err, FF_EFAILED, "fdatasync before segment roll");
    }
    seg *ns;
    ff_rc rc = seg_create(log, log->next_offset, &ns, err);
    if (rc) {
        log->failed = true;
        return rc == FF_EIO ? FF_EFAILED : rc;
    }
    log->active = ns;
    old->retired = true;
    if (old->refs == 0)
        seg_release(old);
    retain_locked(log, NULL);
    return FF_OK;
}

ff_rc ff_evlog_append(ff_evlog *log, const void *payload, size_t len, uint32_t n_records,
                      uint64_t *first_offset_out, ff_err *err)
{
    if (log->opts.read_only)
        return FF_ERR_SET(err, FF_EINVAL, "log opened read-only");
    if (n_records == 0 || len > FF_EVLOG_MAX_FRAME_BYTES)
        return FF_ERR_SET(err, FF_EINVAL, "append of %u records / %zu bytes", n_records, len);
    const char *why = payload_check(payload, len, n_records);
    if (why)
        return FF_ERR_SET(err, FF_EINVAL, "malformed payload: %s", why);

    unsigned char h[FRAME_HDR_BYTES];
    pthread_mutex_lock(&log->mu);
    if (log->failed) {
        pthread_mutex_unlock(&log->mu);
        return FF_ERR_SET(err, FF_EFAILED, "event log is FAILED after an I/O error; restart");
    }
    if (log->active->size > SEG_HDR_BYTES &&
        log->active->size + FRAME_HDR_BYTES + len > log->opts.segment_bytes) {
        ff_rc rc = roll_locked(log, err);
        if (rc) {
            pthread_mutex_unlock(&log->mu);
            return rc;
        }
    }
    uint64_t base = log->next_offset;
    frame_hdr_encode(h, n_records, (uint32_t)len, base, ff_clock_now_ms(), payload);
    seg *s = log->active;
    struct iovec iov[2] = {{h, sizeof h}, {(void *)payload, len}};
    size_t total = sizeof h + len;
    ssize_t w = pwritev(s->fd, iov, 2, (off_t)s->size);
    if (w >= 0 && (size_t)w < total) {
        /* Short write: finish it plainly. */
        size_t done = (size_t)w;
        ff_rc rc = FF_OK;
        if (done < sizeof h)
            rc = full_pwrite(s->fd, h + done, sizeof h - done, s->size + done);
        if (!rc) {
            size_t pdone = done > sizeof h ? done - sizeof h : 0;
            rc = full_pwrite(s->fd, (const char *)payload + pdone, len - pdone,
                             s->size + sizeof h + pdone);
        }
        w = rc ? -1 : (ssize_t)total;
    }
    if (w < 0) {
        int e = errno;
        /* Take back whatever part of the frame reached the file. */
        if (ftruncate(s->fd, (off_t)s->size) != 0)
            FF_LOG(FF_LOG_ERROR, "evlog", "ftruncate after failed write also failed");
        log->failed = true;
        pthread_mutex_unlock(&log->mu);
        errno = e;
        FF_LOG(FF_LOG_ERROR, "evlog", "write failed: %s; log is now FAILED", strerror(e));
        return FF_ERR_SYS(err, FF_EFAILED, "event log write failed");
    }
    s->size += total;
    log->next_offset = base + n_records;
    uint64_t want = log->next_offset;
    pthread_mutex_unlock(&log->mu);

    if (log->opts.sync == FF_EVLOG_SYNC_EACH_BATCH) {
        ff_rc rc = sync_to(log, want);
        if (rc)
            return FF_ERR_SET(err, rc, "event log sync failed; log is FAILED");
    }
    if (first_offset_out)
        *first_offset_out = base;
    return FF_OK;
}

uint64_t ff_evlog_durable_offset(ff_evlog *log)
{
    return atomic_load(&log->durable_offset);
}

ff_rc ff_evlog_wait(ff_evlog *log, uint64_t after_offset, uint32_t timeout_ms)
{
    uint64_t deadline = ff_clock_mono_ns() + (uint64_t)timeout_ms * 1000000u;
    while (atomic_load(&log->durable_offset) <= after_offset) {
        if (ff_clock_mono_ns() >= deadline)
            return FF_EAGAIN;
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return FF_OK;
}

/* ---- cursors ------------------------------------------------------------- */

struct ff_evlog_cursor {
    ff_evlog *log;
    int fd;
    uint64_t seg_base;
    uint64_t pos;         /* file position of the next frame */
    uint64_t next_offset; /* offset of the next record to return */
    unsigned char *frame; /* current payload */
    size_t frame_cap;
    uint32_t frame_len;
    uint32_t frame_n;
    uint32_t frame_i;
    uint32_t frame_pos;
    uint64_t frame_base;
};

static uint64_t visible_limit(ff_evlog *log)
{
    if (log->opts.read_only)
        return UINT64_MAX; /* another process writes: CRC-valid frames only */
    return atomic_load(&log->durable_offset);
}

/* Find the segment holding offset and open it; FF_EOF if no such segment yet. */
static ff_rc cursor_open_segment(ff_evlog_cursor *c, uint64_t offset, ff_err *err)
{
    seg_list sl;
    ff_rc rc = seg_list_read(c->log->dir, &sl, err);
    if (rc)
        return rc;
    if (sl.n == 0) {
        ff_free(sl.bases);
        return FF_EOF;
    }
    size_t idx = 0;
    for (size_t i = 0; i < sl.n; i++)
        if (sl.bases[i] <= offset)
            idx = i;
    if (offset < sl.bases[0]) {
        offset = sl.bases[0]; /* retention removed the start: begin at the oldest */
        c->next_offset = offset;
    }
    uint64_t base = sl.bases[idx];
    ff_free(sl.bases);
    if (c->fd >= 0 && c->seg_base == base)
        return FF_OK;
    char path[4096];
    seg_path(c->log, base, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return FF_ERR_SYS(err, FF_EIO, "cannot open segment %s", path);
    if (c->fd >= 0)
        close(c->fd);
    c->fd = fd;
    c->seg_base = base;
    c->pos = SEG_HDR_BYTES;
    c->frame_n = c->frame_i = 0;
    return FF_OK;
}

ff_rc ff_evlog_cursor_open(ff_evlog *log, uint64_t from_offset, ff_evlog_cursor **out, ff_err *err)
{
    ff_evlog_cursor *c = ff_calloc(1, sizeof *c);
    if (!c)
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    c->log = log;
    c->fd = -1;
    c->next_offset = from_offset;
    *out = c;
    return FF_OK;
}

void ff_evlog_cursor_close(ff_evlog_cursor *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    ff_free(c->frame);
    ff_free(c);
}

/* Load the next frame at c->pos; FF_EOF when none is (yet) complete. */
static ff_rc cursor_load_frame(ff_evlog_cursor *c, ff_err *err)
{
    unsigned char h[FRAME_HDR_BYTES];
    ssize_t n = full_pread(c->fd, h, sizeof h, c->pos);
    if (n < 0)
        return FF_ERR_SYS(err, FF_EIO, "read frame header");
    if ((size_t)n < sizeof h)
        return FF_EOF;
    frame_hdr fh;
    const char *why = frame_hdr_decode(h, &fh);
    if (why) {
        if (c->log->opts.read_only)
            return FF_EOF; /* a frame being written by the live server */
        return FF_ERR_SET(err, FF_ECORRUPT, "segment %020" PRIu64 " at byte %" PRIu64 ": %s",
                          c->seg_base, c->pos, why);
    }
    if (fh.base_offset + fh.n_records > visible_limit(c->log))
        return FF_EOF;
    if (fh.payload_len > c->frame_cap) {
        unsigned char *nb = ff_realloc(c->frame, fh.payload_len);
        if (!nb)
            return FF_ERR_SET(err, FF_ENOMEM, "out of memory reading a frame");
        c->frame = nb;
        c->frame_cap = fh.payload_len;
    }
    n = full_pread(c->fd, c->frame, fh.payload_len, c->pos + FRAME_HDR_BYTES);
    if (n < 0)
        return FF_ERR_SYS(err, FF_EIO, "read frame payload");
    if ((size_t)n < fh.payload_len)
        return FF_EOF;
    if (frame_crc(h, c->frame, fh.payload_len) != fh.crc ||
        payload_check(c->frame, fh.payload_len, fh.n_records)) {
        if (c->log->opts.read_only)
            return FF_EOF;
        return FF_ERR_SET(err, FF_ECORRUPT, "segment %020" PRIu64 " at byte %" PRIu64 ": %s",
                          c->seg_base, c->pos, "CRC mismatch");
    }
    c->pos += FRAME_HDR_BYTES + fh.payload_len;
    c->frame_len = fh.payload_len;
    c->frame_n = fh.n_records;
    c->frame_i = 0;
    c->frame_pos = 0;
    c->frame_base = fh.base_offset;
    return FF_OK;
}

ff_rc ff_evlog_cursor_next(ff_evlog_cursor *c, uint64_t *offset_out, const void **rec_out,
                           size_t *len_out, ff_err *err)
{
    for (;;) {
        if (c->frame_i < c->frame_n) {
            uint32_t rl = get_u32(c->frame + c->frame_pos);
            const unsigned char *rec = c->frame + c->frame_pos + 4;
            uint64_t off = c->frame_base + c->frame_i;
            c->frame_pos += 4 + rl;
            c->frame_i++;
            if (off < c->next_offset)
                continue; /* seeking inside the first frame */
            c->next_offset = off + 1;
            *offset_out = off;
            *rec_out = rec;
            *len_out = rl;
            return FF_OK;
        }
        if (c->fd < 0) {
            ff_rc rc = cursor_open_segment(c, c->next_offset, err);
            if (rc)
                return rc;
        }
        ff_rc rc = cursor_load_frame(c, err);
        if (rc == FF_OK) {
            if (c->frame_base + c->frame_n <= c->next_offset)
                c->frame_i = c->frame_n; /* seeking: skip the whole frame */
            continue;
        }
        if (rc != FF_EOF)
            return rc;
        /* End of this segment's visible frames: is there a newer segment
         * starting exactly where we are? */
        char path[4096];
        seg_path(c->log, c->next_offset, path, sizeof path);
        if (c->next_offset != c->seg_base && access(path, F_OK) == 0) {
            /* Only move on once this segment is complete: its frames end
             * exactly at next_offset, which the name of the new one proves. */
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0)
                return FF_ERR_SYS(err, FF_EIO, "cannot open segment %s", path);
            close(c->fd);
            c->fd = fd;
            c->seg_base = c->next_offset;
            c->pos = SEG_HDR_BYTES;
            continue;
        }
        return FF_EOF;
    }
}

/* ---- verify -------------------------------------------------------------- */

ff_rc ff_evlog_verify(ff_evlog *log, uint64_t *n_records_out, ff_err *err)
{
    seg_list sl;
    ff_rc rc = seg_list_read(log->dir, &sl, err);
    if (rc)
        return rc;
    uint64_t total = 0;
    uint64_t expect = sl.n ? sl.bases[0] : 0;
    for (size_t i = 0; i < sl.n && rc == FF_OK; i++) {
        char path[4096];
        seg_path(log, sl.bases[i], path, sizeof path);
        if (sl.bases[i] != expect) {
            rc = FF_ERR_SET(err, FF_ECORRUPT,
                            "%s: segment starts at offset %" PRIu64
                            " but the previous one ends at %" PRIu64,
                            path, sl.bases[i], expect);
            break;
        }
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rc = FF_ERR_SYS(err, FF_EIO, "cannot open %s", path);
            break;
        }
        scan_result r;
        rc = seg_scan(fd, sl.bases[i], &r, err);
        close(fd);
        if (rc)
            break;
        total += r.n_records;
        expect = r.next_offset;
        bool newest = i + 1 == sl.n;
        if (r.stop_reason) {
            if (newest && r.torn) {
                FF_LOG(FF_LOG_WARN, "evlog",
                       "%s: torn tail of %" PRIu64 " bytes at byte %" PRIu64
                       " (%s): not yet recovered; the next serve truncates it",
                       path, r.file_bytes - r.good_bytes, r.good_bytes, r.stop_reason);
            } else {
                rc = FF_ERR_SET(err, FF_ECORRUPT, "%s: damaged at byte %" PRIu64 ": %s", path,
                                r.good_bytes, r.stop_reason);
            }
        }
    }
    ff_free(sl.bases);
    if (n_records_out)
        *n_records_out = total;
    return rc;
}

void ff_evlog_stats_get(ff_evlog *log, ff_evlog_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&log->mu);
    out->next_offset = log->next_offset;
    out->first_offset = log->first_offset;
    out->failed = log->failed;
    out->retain_held_bytes = log->retain_held_bytes;
    pthread_mutex_unlock(&log->mu);
    out->durable_offset = atomic_load(&log->durable_offset);
    out->n_syncs = atomic_load(&log->n_syncs);
    out->sync_ns_total = atomic_load(&log->sync_ns_total);
    out->sync_ns_max = atomic_load(&log->sync_ns_max);
    out->truncated_bytes_at_open = log->truncated_at_open;
    seg_list sl;
    if (seg_list_read(log->dir, &sl, NULL) == FF_OK) {
        out->n_segments = (uint32_t)sl.n;
        for (size_t i = 0; i < sl.n; i++) {
            char path[4096];
            seg_path(log, sl.bases[i], path, sizeof path);
            struct stat st;
            if (stat(path, &st) == 0)
                out->bytes += (uint64_t)st.st_size;
        }
        ff_free(sl.bases);
    }
}
