/* ff_store.c -- the log consumer and part set. Design: ff_store.h. */
#include "store/ff_store.h"

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
#include <time.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "core/ff_arena.h"
#include "core/ff_clock.h"
#include "core/ff_log.h"
#include "core/ff_mem.h"
#include "store/ff_part.h"

#define DAY_MS 86400000LL
#define DAY_MAX 2932896 /* 9999-12-31 */
#define PATH_MAX_BYTES 4096
#define SEALED_NAME "SEALED"
#define POLL_WAIT_MS 50

/* ---- small helpers ----------------------------------------------------------------------- */

static void civil_from_days(int64_t z, int *y_out, unsigned *m_out, unsigned *d_out)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *y_out = (int)(y + (m <= 2));
    *m_out = m;
    *d_out = d;
}

static int64_t day_of_ms(int64_t ts)
{
    return ts >= 0 ? ts / DAY_MS : -((-(ts + 1)) / DAY_MS) - 1;
}

static void day_name(int32_t day, char buf[32])
{
    int y;
    unsigned m, d;
    civil_from_days(day, &y, &m, &d);
    snprintf(buf, 32, "%04d%02u%02u", y, m, d);
}

/* "YYYYMMDD" -> day number; false when name is not one. */
static bool day_parse(const char *name, int32_t *day_out)
{
    if (strlen(name) != 8)
        return false;
    for (int i = 0; i < 8; i++)
        if (name[i] < '0' || name[i] > '9')
            return false;
    int y = (name[0] - '0') * 1000 + (name[1] - '0') * 100 + (name[2] - '0') * 10 + (name[3] - '0');
    unsigned m = (unsigned)((name[4] - '0') * 10 + (name[5] - '0'));
    unsigned d = (unsigned)((name[6] - '0') * 10 + (name[7] - '0'));
    if (m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    int64_t day = ff_clock_days_from_civil(y, m, d);
    char back[32];
    if (day < 0 || day > DAY_MAX)
        return false;
    day_name((int32_t)day, back);
    if (strcmp(back, name) != 0)
        return false;
    *day_out = (int32_t)day;
    return true;
}

static void part_name(uint32_t level, uint64_t first, uint64_t last, char buf[64])
{
    snprintf(buf, 64, "L%u-%020" PRIu64 "-%020" PRIu64 ".part", level, first, last);
}

static bool part_parse(const char *name, uint32_t *level, uint64_t *first, uint64_t *last)
{
    unsigned lv;
    uint64_t f, l;
    if (sscanf(name, "L%u-%20" SCNu64 "-%20" SCNu64 ".part", &lv, &f, &l) != 3)
        return false;
    char back[64];
    if (lv > FF_STORE_MAX_LEVEL || f > l)
        return false;
    part_name(lv, f, l, back);
    if (strcmp(back, name) != 0)
        return false;
    *level = lv;
    *first = f;
    *last = l;
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static ff_rc fsync_dir(const char *path, ff_err *err)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return FF_ERR_SYS(err, FF_EIO, "cannot open folder %s", path);
    int r = fsync(fd);
    int e = errno;
    close(fd);
    if (r != 0) {
        errno = e;
        return FF_ERR_SYS(err, FF_EIO, "fsync folder %s", path);
    }
    return FF_OK;
}

/* ---- dedupe set (DESIGN: FIFO ring of (hash, received_at) + linear-probing index) -------- */

typedef struct dd_ent {
    uint64_t h;
    int64_t t;
} dd_ent;

typedef struct dedupe {
    dd_ent *ring;
    size_t cap, head, n;
    uint64_t *tab; /* 0 = empty; grows with n (random writes into a huge table would fault in
                      every page of it), up to the first power of two >= 2 * cap */
    size_t mask, tab_max;
    int64_t window_ms; /* < 0: off */
    int64_t horizon;   /* max received_at seen */
    bool have_horizon;
    uint64_t evicted;
} dedupe;

static uint64_t dd_hash(const char *p, size_t n)
{
    uint64_t h = XXH3_64bits(p, n);
    return h ? h : 1;
}

static ff_rc dd_init(dedupe *d, int64_t window_ms, uint64_t cap)
{
    memset(d, 0, sizeof *d);
    d->window_ms = window_ms;
    if (window_ms < 0)
        return FF_OK;
    size_t tab = 16;
    while (tab < cap * 2)
        tab <<= 1;
    d->tab_max = tab;
    tab = tab < 4096 ? tab : 4096;
    d->cap = (size_t)cap;
    d->ring = ff_calloc(d->cap, sizeof *d->ring);
    d->tab = ff_calloc(tab, sizeof *d->tab);
    d->mask = tab - 1;
    return d->ring && d->tab ? FF_OK : FF_ENOMEM;
}

static void dd_fini(dedupe *d)
{
    ff_free(d->ring);
    ff_free(d->tab);
}

static bool dd_has(const dedupe *d, uint64_t h)
{
    for (size_t i = h & d->mask;; i = (i + 1) & d->mask) {
        if (d->tab[i] == h)
            return true;
        if (d->tab[i] == 0)
            return false;
    }
}

static void dd_tab_del(dedupe *d, uint64_t h)
{
    size_t i = h & d->mask;
    while (d->tab[i] != h) {
        if (d->tab[i] == 0)
            return;
        i = (i + 1) & d->mask;
    }
    d->tab[i] = 0;
    /* Backward-shift deletion keeps every probe chain unbroken. */
    for (size_t j = (i + 1) & d->mask; d->tab[j]; j = (j + 1) & d->mask) {
        size_t k = d->tab[j] & d->mask;
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            d->tab[i] = d->tab[j];
            d->tab[j] = 0;
            i = j;
        }
    }
}

static void dd_pop(dedupe *d)
{
    dd_tab_del(d, d->ring[d->head].h);
    d->head = (d->head + 1) % d->cap;
    d->n--;
}

static void dd_advance(dedupe *d, int64_t t)
{
    if (!d->have_horizon || t > d->horizon) {
        d->horizon = t;
        d->have_horizon = true;
    }
    while (d->n && d->ring[d->head].t < d->horizon - d->window_ms)
        dd_pop(d);
}

static void dd_tab_put(dedupe *d, uint64_t h)
{
    size_t i = h & d->mask;
    while (d->tab[i])
        i = (i + 1) & d->mask;
    d->tab[i] = h;
}

/* Double the index (rebuilt from the ring). On allocation failure keep the old one: it still
 * works, at a higher load factor (bounded: the ring never exceeds cap <= tab_max / 2). */
static void dd_grow(dedupe *d)
{
    size_t size = (d->mask + 1) * 2;
    uint64_t *nt = ff_calloc(size, sizeof *nt);
    if (!nt)
        return;
    ff_free(d->tab);
    d->tab = nt;
    d->mask = size - 1;
    for (size_t k = 0; k < d->n; k++)
        dd_tab_put(d, d->ring[(d->head + k) % d->cap].h);
}

/* Insert h (not present). */
static void dd_add(dedupe *d, uint64_t h, int64_t t)
{
    if (d->n == d->cap) {
        dd_pop(d);
        d->evicted++;
    }
    if ((d->n + 1) * 2 > d->mask + 1 && d->mask + 1 < d->tab_max)
        dd_grow(d);
    d->ring[(d->head + d->n) % d->cap] = (dd_ent){h, t};
    d->n++;
    dd_tab_put(d, h);
}

/* ---- part entries and the live set ------------------------------------------------------- */

typedef struct part_ent {
    ff_part *p;
    int refs; /* the live set holds one; each snapshot one */
    uint32_t level;
    int32_t day;
    uint64_t first, last;
    char *path;
} part_ent;

#define SPARE_WRITERS 4

typedef struct day_batch {
    int32_t day;
    ff_part_writer *w;
    uint64_t first, last; /* offsets of its rows */
} day_batch;

/* One seal batch: the log range [first, last] read since the previous batch, as one writer
 * per UTC day. The consumer fills one (ff_store.fill) while the seal thread seals the one
 * before it (ff_store.flight). */
typedef struct seal_batch {
    day_batch day[FF_STORE_MAX_BATCH_DAYS];
    size_t n_days;
    uint64_t records, rows, last; /* last: offset of its last record */
    uint64_t start_ns;            /* when its first record was read */
} seal_batch;

struct ff_store {
    ff_store_opts o;
    char *dir;
    ff_evlog *log;

    pthread_mutex_t mu; /* live set, refs, SEALED (sealed), counters read by stats */
    part_ent **live;
    size_t n_live, cap_live;
    uint64_t sealed;     /* SEALED; written by whoever seals (the seal thread), under mu */
    ff_evlog_hold *hold; /* holds the log from SEALED against its retention (writer only) */

    pthread_mutex_t work_mu; /* consumer steps vs retain */
    ff_evlog_cursor *cur;
    uint64_t next_read;        /* first offset not read */
    _Atomic uint64_t read_pub; /* next_read, published for ff_store_backlog (any thread) */
    seal_batch fill;           /* the batch being read (consumer-owned) */
    int64_t last_retain_ms;
    ff_arena arena;
    dedupe dd;
    ff_part_ctx *ctx;

    /* The seal thread (DESIGN: overlapped seals). It seals `flight` while the consumer reads
     * into `fill`; at most one batch is in flight, and batches are handed over in log order.
     * seal_mu guards everything in this block; lock order work_mu -> seal_mu -> mu. */
    pthread_mutex_t seal_mu;
    pthread_cond_t seal_cv; /* a batch was handed over, or seal_quit */
    pthread_cond_t done_cv; /* the batch in flight was sealed (or failed) */
    pthread_t seal_thread;
    bool seal_running, seal_quit, in_flight;
    seal_batch flight;
    ff_rc seal_rc; /* the first failed seal (sticky: no later batch is handed over) */
    ff_err seal_err;
    /* Writers of sealed batches, kept for the next batches (ff_part_writer_reset): their
     * buffers, sort arrays and zstd contexts are reused instead of faulted in every second.
     * At most SPARE_WRITERS: a live server's batches touch one day (two around midnight), and
     * two batches alternate (one read, one sealed); a backfill touching many days does not
     * keep a writer per day. The seal thread returns them, the consumer takes them. */
    ff_part_writer *spare[SPARE_WRITERS];
    size_t n_spare;

    pthread_t thread;
    bool thread_running;
    atomic_bool stop;
    ff_rc thread_rc;
    ff_err thread_err;

    /* Merges run on their own thread while the consumer runs (a merge of 8 seals' rows takes
     * seconds; in the consumer it held back the seals, so new events were not queryable).
     * merge_mu: merges vs retention (both remove parts from the live set and delete files);
     * lock order work_mu -> merge_mu -> mu. mctx: the merge's part reads. */
    pthread_mutex_t merge_mu;
    pthread_cond_t merge_cv; /* with mu: a seal published parts, or stop */
    pthread_t merge_thread;
    bool merge_running;
    uint64_t merge_kicks; /* seals since the merge thread last looked (under mu) */
    ff_part_ctx *mctx;

    atomic_bool failed;
    int lock_fd;
    ff_store_stats st; /* counters (under mu) */
};

static void ent_unref_locked(part_ent *e, part_ent ***to_free, size_t *n_free)
{
    if (--e->refs == 0)
        (*to_free)[(*n_free)++] = e;
}

static void ent_free(part_ent *e)
{
    if (!e)
        return;
    ff_part_close(e->p);
    ff_free(e->path);
    ff_free(e);
}

static ff_rc live_reserve(ff_store *s, size_t extra)
{
    if (s->n_live + extra <= s->cap_live)
        return FF_OK;
    size_t cap = s->cap_live ? s->cap_live * 2 : 64;
    while (cap < s->n_live + extra)
        cap *= 2;
    part_ent **nl = ff_realloc(s->live, cap * sizeof *nl);
    if (!nl)
        return FF_ENOMEM;
    s->live = nl;
    s->cap_live = cap;
    return FF_OK;
}

static ff_rc ent_open(const char *path, uint32_t level, int32_t day, uint64_t first, uint64_t last,
                      part_ent **out, ff_err *err)
{
    part_ent *e = ff_calloc(1, sizeof *e);
    if (!e || !(e->path = ff_strdup(path))) {
        ff_free(e);
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    }
    ff_rc rc = ff_part_open(path, NULL, &e->p, err);
    if (rc) {
        ent_free(e);
        return rc;
    }
    const ff_part_info *in = ff_part_get_info(e->p);
    if (in->log_first != first || in->log_last != last || in->partition_day != day) {
        ent_free(e);
        return FF_ERR_SET(err, FF_ECORRUPT,
                          "part %s: footer says log range %" PRIu64 "-%" PRIu64
                          ", day %d; its name and folder disagree",
                          path, in->log_first, in->log_last, (int)in->partition_day);
    }
    e->refs = 1;
    e->level = level;
    e->day = day;
    e->first = first;
    e->last = last;
    *out = e;
    return FF_OK;
}

static ff_rc set_failed(ff_store *s, ff_rc rc)
{
    atomic_store(&s->failed, true);
    return rc;
}

/* ---- SEALED ------------------------------------------------------------------------------ */

static ff_rc sealed_read(const char *dir, bool *exists, uint64_t *out, ff_err *err)
{
    char path[PATH_MAX_BYTES];
    snprintf(path, sizeof path, "%s/" SEALED_NAME, dir);
    *exists = false;
    *out = 0;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            return FF_OK;
        return FF_ERR_SYS(err, FF_EIO, "cannot open %s", path);
    }
    char buf[64] = {0};
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (n == 0 || end == buf || *end != '\n' || end[1] != 0 || errno)
        return FF_ERR_SET(err, FF_ECORRUPT, "%s: not one decimal offset and a newline", path);
    *exists = true;
    *out = v;
    return FF_OK;
}

static ff_rc sealed_write(ff_store *s, uint64_t next, ff_err *err)
{
    char path[PATH_MAX_BYTES], tmp[PATH_MAX_BYTES], buf[32];
    snprintf(path, sizeof path, "%s/" SEALED_NAME, s->dir);
    snprintf(tmp, sizeof tmp, "%s/" SEALED_NAME ".tmp", s->dir);
    int n = snprintf(buf, sizeof buf, "%" PRIu64 "\n", next);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return FF_ERR_SYS(err, FF_EIO, "cannot create %s", tmp);
    bool ok = write(fd, buf, (size_t)n) == n && (s->o.no_sync || fsync(fd) == 0);
    int e = errno;
    close(fd);
    if (!ok) {
        unlink(tmp);
        errno = e;
        return FF_ERR_SYS(err, FF_EIO, "cannot write %s", tmp);
    }
    if (rename(tmp, path) != 0)
        return FF_ERR_SYS(err, FF_EIO, "cannot rename %s", tmp);
    return s->o.no_sync ? FF_OK : fsync_dir(s->dir, err);
}

/* ---- open: scan and recover -------------------------------------------------------------- */

typedef struct cand {
    char *path;
    uint32_t level;
    int32_t day;
    uint64_t first, last;
    bool dead;
} cand;

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    if (x->level != y->level)
        return x->level > y->level ? -1 : 1;
    return 0;
}

typedef struct cand_list {
    cand *v;
    size_t n, cap;
} cand_list;

static void cands_free(cand_list *cl)
{
    for (size_t i = 0; i < cl->n; i++)
        ff_free(cl->v[i].path);
    ff_free(cl->v);
}

/* Collect parts of every day folder. When fix, delete *.tmp (counted in *n_cleaned) and, unless
 * no_sync, fsync the folders touched. */
static ff_rc scan_dir(const char *dir, bool fix, bool no_sync, cand_list *cl, uint64_t *n_cleaned,
                      ff_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return FF_ERR_SYS(err, errno == ENOENT ? FF_ENOTFOUND : FF_EIO, "cannot open %s", dir);
    ff_rc rc = FF_OK;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        int32_t day;
        if (!day_parse(de->d_name, &day))
            continue;
        char ddir[PATH_MAX_BYTES];
        snprintf(ddir, sizeof ddir, "%s/%s", dir, de->d_name);
        DIR *dd = opendir(ddir);
        if (!dd) { /* ENOENT: retention removed it meanwhile (a reader retries) */
            rc = FF_ERR_SYS(err, errno == ENOENT ? FF_ENOTFOUND : FF_EIO, "cannot open %s", ddir);
            break;
        }
        struct dirent *pe;
        bool removed = false;
        while (!rc && (pe = readdir(dd))) {
            char path[PATH_MAX_BYTES + 256];
            snprintf(path, sizeof path, "%s/%s", ddir, pe->d_name);
            if (ends_with(pe->d_name, ".tmp")) {
                if (fix && unlink(path) == 0) {
                    (*n_cleaned)++;
                    removed = true;
                }
                continue;
            }
            cand c = {0};
            c.day = day;
            if (!part_parse(pe->d_name, &c.level, &c.first, &c.last))
                continue; /* not ours: left alone */
            if (cl->n == cl->cap) {
                size_t cap = cl->cap ? cl->cap * 2 : 64;
                cand *nv = ff_realloc(cl->v, cap * sizeof *nv);
                if (!nv) {
                    rc = FF_ERR_SET(err, FF_ENOMEM, "out of memory");
                    break;
                }
                cl->v = nv;
                cl->cap = cap;
            }
            if (!(c.path = ff_strdup(path))) {
                rc = FF_ERR_SET(err, FF_ENOMEM, "out of memory");
                break;
            }
            cl->v[cl->n++] = c;
        }
        closedir(dd);
        if (!rc && removed && !no_sync)
            rc = fsync_dir(ddir, err);
    }
    closedir(d);
    if (!rc && cl->n)
        qsort(cl->v, cl->n, sizeof *cl->v, cand_cmp);
    return rc;
}

/* Mark (a) parts at or past SEALED and (b) parts inside a higher-level part's range of the same
 * day as dead; then check that the living ranges of each day are disjoint. */
static ff_rc cands_classify(cand_list *cl, uint64_t sealed, uint64_t *n_batch, uint64_t *n_merge,
                            ff_err *err)
{
    for (size_t i = 0; i < cl->n; i++) {
        cand *a = &cl->v[i];
        if (a->first >= sealed) {
            a->dead = true;
            (*n_batch)++;
        }
    }
    for (size_t i = 0; i < cl->n; i++) {
        cand *a = &cl->v[i];
        if (a->dead)
            continue;
        for (size_t j = 0; j < cl->n; j++) {
            cand *b = &cl->v[j];
            if (j == i || b->dead || b->day != a->day || b->level <= a->level)
                continue;
            if (b->first <= a->first && a->last <= b->last) {
                a->dead = true;
                (*n_merge)++;
                break;
            }
        }
    }
    const cand *prev = NULL;
    for (size_t i = 0; i < cl->n; i++) {
        const cand *a = &cl->v[i];
        if (a->dead)
            continue;
        if (prev && prev->day == a->day && a->first <= prev->last)
            return FF_ERR_SET(err, FF_ECORRUPT, "parts %s and %s cover overlapping log ranges",
                              prev->path, a->path);
        prev = a;
    }
    return FF_OK;
}

static int dd_ent_cmp(const void *a, const void *b)
{
    const dd_ent *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* Keep the cap entries with the largest t: a min-heap on t. */
static void heap_push(dd_ent *hp, size_t *n, size_t cap, dd_ent e)
{
    size_t i;
    if (*n < cap) {
        i = (*n)++;
        while (i > 0 && hp[(i - 1) / 2].t > e.t) {
            hp[i] = hp[(i - 1) / 2];
            i = (i - 1) / 2;
        }
        hp[i] = e;
        return;
    }
    if (cap == 0 || e.t <= hp[0].t)
        return;
    i = 0; /* replace the root and sift down */
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        dd_ent cur = m == i ? e : hp[m];
        if (l < *n && hp[l].t < cur.t) {
            m = l;
            cur = hp[l];
        }
        if (r < *n && hp[r].t < cur.t)
            m = r;
        if (m == i)
            break;
        hp[i] = hp[m];
        i = m;
    }
    hp[i] = e;
}

static ff_rc dedupe_rebuild(ff_store *s, ff_err *err)
{
    dedupe *d = &s->dd;
    if (d->window_ms < 0 || s->n_live == 0)
        return FF_OK;
    /* Horizon: the newest received_at of any block. */
    for (size_t i = 0; i < s->n_live; i++) {
        const ff_part *p = s->live[i]->p;
        for (uint32_t b = 0; b < ff_part_get_info(p)->n_blocks; b++) {
            ff_zone z;
            if (ff_part_zone(p, b, FF_COL_RECEIVED_AT, &z) == FF_OK && z.has_minmax)
                dd_advance(d, z.max);
        }
    }
    if (!d->have_horizon)
        return FF_OK;
    int64_t lo = d->horizon - d->window_ms;
    /* Parts are sorted by person, not by arrival: keep the newest cap ids in a min-heap on
     * received_at, then insert them oldest first, so the ring's FIFO order is arrival order
     * and a full set evicts the oldest, as it would have while consuming. */
    dd_ent *heap = ff_malloc(d->cap * sizeof *heap);
    if (!heap)
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory rebuilding the dedupe set");
    size_t nh = 0;
    ff_arena a;
    ff_arena_init(&a, 1 << 20, (size_t)1 << 30);
    ff_rc rc = FF_OK;
    for (size_t i = 0; i < s->n_live && !rc; i++) { /* live is in log order after open */
        const ff_part *p = s->live[i]->p;
        for (uint32_t b = 0; b < ff_part_get_info(p)->n_blocks && !rc; b++) {
            ff_zone z;
            if (ff_part_zone(p, b, FF_COL_RECEIVED_AT, &z) != FF_OK || !z.has_minmax || z.max < lo)
                continue;
            ff_block blk;
            ff_arena_reset(&a);
            rc = ff_part_read(p, s->ctx, b,
                              FF_COLSET(FF_COL_EVENT_ID) | FF_COLSET(FF_COL_RECEIVED_AT), &a, &blk,
                              err);
            for (uint32_t r = 0; !rc && r < blk.n_rows; r++) {
                int64_t t = blk.col[FF_COL_RECEIVED_AT].i64[r];
                uint32_t len;
                const char *id = ff_colvec_str(&blk.col[FF_COL_EVENT_ID], r, &len);
                if (t < lo || len == 0)
                    continue;
                heap_push(heap, &nh, d->cap, (dd_ent){dd_hash(id, len), t});
            }
        }
    }
    ff_arena_fini(&a);
    if (!rc) {
        qsort(heap, nh, sizeof *heap, dd_ent_cmp);
        for (size_t i = 0; i < nh; i++)
            if (!dd_has(d, heap[i].h))
                dd_add(d, heap[i].h, heap[i].t);
    }
    ff_free(heap);
    return rc;
}

static int ent_log_cmp(const void *a, const void *b)
{
    const part_ent *x = *(part_ent *const *)a, *y = *(part_ent *const *)b;
    if (x->first != y->first)
        return x->first < y->first ? -1 : 1;
    return x->day < y->day ? -1 : x->day > y->day;
}

/* Read SEALED, list the parts, delete the dead ones (writer) or skip them (reader), open the
 * rest into the live set. */
static ff_rc load_parts(ff_store *s, ff_err *err)
{
    ff_rc rc = FF_OK;
    bool have_sealed = false;
    if (!rc) {
        char tmp[PATH_MAX_BYTES];
        snprintf(tmp, sizeof tmp, "%s/" SEALED_NAME ".tmp", s->dir);
        if (!s->o.read_only && unlink(tmp) == 0)
            s->st.cleaned_at_open++;
        rc = sealed_read(s->dir, &have_sealed, &s->sealed, err);
    }
    cand_list cl = {0};
    if (!rc)
        rc = scan_dir(s->dir, !s->o.read_only, s->o.no_sync, &cl, &s->st.cleaned_at_open, err);
    uint64_t n_batch = 0, n_merge = 0;
    if (!rc)
        rc = cands_classify(&cl, s->sealed, &n_batch, &n_merge, err);
    /* Delete the dead, then sync each touched folder. */
    for (size_t i = 0; !rc && !s->o.read_only && i < cl.n; i++) {
        if (!cl.v[i].dead)
            continue;
        if (unlink(cl.v[i].path) != 0 && errno != ENOENT) {
            rc = FF_ERR_SYS(err, FF_EIO, "cannot delete %s", cl.v[i].path);
            break;
        }
        s->st.cleaned_at_open++;
        if (!s->o.no_sync) {
            char *slash = strrchr(cl.v[i].path, '/');
            *slash = 0;
            rc = fsync_dir(cl.v[i].path, err);
            *slash = '/';
        }
    }
    if (!rc && !s->o.read_only && (n_batch || n_merge))
        FF_LOG(FF_LOG_INFO, "store",
               "recovered %s: deleted %" PRIu64 " parts of an unfinished seal and %" PRIu64
               " merge leftovers; resuming at offset %" PRIu64,
               s->dir, n_batch, n_merge, s->sealed);
    for (size_t i = 0; !rc && i < cl.n; i++) {
        cand *c = &cl.v[i];
        if (c->dead)
            continue;
        part_ent *e;
        if (!(rc = live_reserve(s, 1) ? FF_ERR_SET(err, FF_ENOMEM, "out of memory") : FF_OK))
            rc = ent_open(c->path, c->level, c->day, c->first, c->last, &e, err);
        if (!rc)
            s->live[s->n_live++] = e;
    }
    cands_free(&cl);
    return rc;
}

static void live_clear(ff_store *s)
{
    for (size_t i = 0; i < s->n_live; i++)
        if (--s->live[i]->refs == 0)
            ent_free(s->live[i]);
    s->n_live = 0;
}

/* One writer per folder: flock on DATA/store/LOCK, held until close (a killed process
 * releases it). */
static ff_rc lock_folder(const char *dir, int *fd, ff_err *err)
{
    char path[PATH_MAX_BYTES];
    snprintf(path, sizeof path, "%s/LOCK", dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (*fd < 0)
        return FF_ERR_SYS(err, FF_EIO, "cannot open %s", path);
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0)
        return FF_ERR_SYS(err, errno == EWOULDBLOCK ? FF_ELOCKED : FF_EIO,
                          "store folder %s is in use by another writer", dir);
    return FF_OK;
}

static ff_rc lock_dir(ff_store *s, ff_err *err)
{
    return lock_folder(s->dir, &s->lock_fd, err);
}

ff_rc ff_store_open(const ff_store_opts *opts, ff_store **out, ff_err *err)
{
    *out = NULL;
    if (!opts || !opts->dir || (!opts->log && !opts->read_only))
        return FF_ERR_SET(err, FF_EINVAL, "store: dir and log are required");
    ff_store *s = ff_calloc(1, sizeof *s);
    if (!s)
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    s->o = *opts;
    if (!s->o.seal_interval_ms)
        s->o.seal_interval_ms = 1000;
    if (!s->o.seal_max_rows)
        s->o.seal_max_rows = 200000;
    if (!s->o.dedupe_window_ms)
        s->o.dedupe_window_ms = DAY_MS;
    if (!s->o.dedupe_max_ids)
        s->o.dedupe_max_ids = (uint64_t)2 << 20;
    if (!s->o.merge_fanin)
        s->o.merge_fanin = 8;
    if (s->o.merge_fanin < 2)
        s->o.merge_fanin = 2;
    if (!s->o.merge_max_rows)
        s->o.merge_max_rows = (uint64_t)2 << 20;
    s->log = opts->log;
    s->lock_fd = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_mutex_init(&s->work_mu, NULL);
    pthread_mutex_init(&s->merge_mu, NULL);
    pthread_cond_init(&s->merge_cv, NULL);
    pthread_mutex_init(&s->seal_mu, NULL);
    pthread_cond_init(&s->seal_cv, NULL);
    pthread_cond_init(&s->done_cv, NULL);
    ff_arena_init(&s->arena, 1 << 16, (size_t)256 << 20);
    s->dir = ff_strdup(opts->dir);
    s->o.dir = s->dir;
    ff_rc rc = s->dir ? FF_OK : FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    if (!rc && dd_init(&s->dd, s->o.dedupe_window_ms, s->o.dedupe_max_ids))
        rc = FF_ERR_SET(err, FF_ENOMEM, "out of memory for the dedupe set");
    if (!rc)
        rc = ff_part_ctx_new(&s->ctx, err);
    if (!rc)
        rc = ff_part_ctx_new(&s->mctx, err);
    if (!rc && !s->o.read_only && mkdir(s->dir, 0755) != 0 && errno != EEXIST)
        rc = FF_ERR_SYS(err, FF_EIO, "cannot create %s", s->dir);
    if (!rc && !s->o.read_only)
        rc = lock_dir(s, err);
    /* A reader races with the writer's merges, which unlink parts: when a part it listed is
     * gone by the time it opens it, it starts over (a few times). */
    for (int attempt = 0; !rc; attempt++) {
        rc = load_parts(s, err);
        if (rc != FF_ENOTFOUND || !s->o.read_only || attempt == 8)
            break;
        live_clear(s);
        rc = FF_OK;
    }
    if (!rc && s->n_live)
        qsort(s->live, s->n_live, sizeof *s->live, ent_log_cmp);
    if (!rc && !s->o.read_only)
        rc = dedupe_rebuild(s, err);
    /* Records at or past SEALED exist only in the log: its retention must keep them. */
    if (!rc && !s->o.read_only)
        rc = ff_evlog_hold_new(s->log, "store", s->sealed, &s->hold, err);
    s->st.dedupe_ids = s->dd.n;
    s->st.dedupe_evicted = s->dd.evicted;
    s->next_read = s->sealed;
    atomic_store(&s->read_pub, s->next_read);
    if (rc) {
        ff_store_close(s);
        return rc;
    }
    *out = s;
    return FF_OK;
}

/* ---- seal ------------------------------------------------------------------------------- */

/* Give back a batch's writers: as spares (keep; under seal_mu) or freed. Empties the batch. */
static void batch_release(ff_store *s, seal_batch *sb, bool keep)
{
    for (size_t i = 0; i < sb->n_days; i++) {
        if (keep && s->n_spare < SPARE_WRITERS)
            s->spare[s->n_spare++] = sb->day[i].w;
        else
            ff_part_writer_free(sb->day[i].w);
    }
    sb->n_days = 0;
    sb->records = sb->rows = 0;
}

/* A writer for a new day of the batch being read: a spare reset to opts, or a new one. */
static ff_rc batch_writer(ff_store *s, const ff_part_writer_opts *wo, ff_part_writer **out,
                          ff_err *err)
{
    pthread_mutex_lock(&s->seal_mu);
    ff_part_writer *w = s->n_spare ? s->spare[--s->n_spare] : NULL;
    pthread_mutex_unlock(&s->seal_mu);
    if (!w)
        return ff_part_writer_new(wo, out, err);
    ff_rc rc = ff_part_writer_reset(w, wo, err);
    if (rc) {
        ff_part_writer_free(w);
        return rc;
    }
    *out = w;
    return FF_OK;
}

static ff_rc ensure_day_dir(ff_store *s, int32_t day, char *ddir, size_t cap, ff_err *err)
{
    char dn[32];
    day_name(day, dn);
    snprintf(ddir, cap, "%s/%s", s->dir, dn);
    if (mkdir(ddir, 0755) == 0)
        return s->o.no_sync ? FF_OK : fsync_dir(s->dir, err);
    if (errno != EEXIST)
        return FF_ERR_SYS(err, FF_EIO, "cannot create %s", ddir);
    return FF_OK;
}

/* Seal one batch (on the seal thread): publish every day's part, then SEALED, then make the
 * parts live. The caller gives the writers back and, on failure, records the error and marks
 * the store failed (in that order, see seal_main). */
static ff_rc seal_batch_run(ff_store *s, seal_batch *sb, ff_err *err)
{
    part_ent *made[FF_STORE_MAX_BATCH_DAYS];
    size_t n_made = 0;
    ff_rc rc = FF_OK;
    uint64_t t0 = ff_clock_mono_ns();
    for (size_t i = 0; i < sb->n_days && !rc; i++) {
        day_batch *b = &sb->day[i];
        char ddir[PATH_MAX_BYTES], name[64], path[PATH_MAX_BYTES + 64];
        if (s->o.test_seal_hook)
            rc = s->o.test_seal_hook(s->o.test_seal_arg, b->day, b->first, b->last);
        if (rc) {
            FF_ERR_SET(err, rc, "seal of %" PRIu64 "-%" PRIu64 " failed (test hook)", b->first,
                       b->last);
            break;
        }
        rc = ensure_day_dir(s, b->day, ddir, sizeof ddir, err);
        if (rc)
            break;
        part_name(0, b->first, b->last, name);
        snprintf(path, sizeof path, "%s/%s", ddir, name);
        rc = ff_part_writer_finish(b->w, path, NULL, err);
        if (!rc)
            rc = ent_open(path, 0, b->day, b->first, b->last, &made[n_made], err);
        if (!rc)
            n_made++;
    }
    uint64_t next = sb->last + 1;
    if (!rc)
        rc = sealed_write(s, next, err);
    if (!rc) {
        pthread_mutex_lock(&s->mu);
        rc = live_reserve(s, n_made) ? FF_ERR_SET(err, FF_ENOMEM, "out of memory") : FF_OK;
        if (!rc) {
            for (size_t i = 0; i < n_made; i++)
                s->live[s->n_live++] = made[i];
            s->sealed = next;
            ff_evlog_hold_set(s->hold, next); /* below next: in parts on disk */
            s->st.seals++;
            uint64_t dt = ff_clock_mono_ns() - t0;
            s->st.seal_ns_total += dt;
            if (dt > s->st.seal_ns_max)
                s->st.seal_ns_max = dt;
            s->st.sealed_rows += sb->rows;
        }
        s->merge_kicks++;
        pthread_cond_signal(&s->merge_cv);
        pthread_mutex_unlock(&s->mu);
    }
    if (rc) {
        for (size_t i = 0; i < n_made; i++)
            ent_free(made[i]);
        return rc;
    }
    return FF_OK;
}

/* The seal thread: seal each batch handed over, one at a time, in the order handed over. A
 * failed seal is remembered (seal_rc): the consumer hands over nothing more, so no later
 * batch is published after a failed one. Under seal_mu, in this order: seal_rc/seal_err are
 * stored, then the store is marked failed, then in_flight is cleared. So whoever sees
 * `failed` set by a seal finds its cause in seal_rc (failed_rc takes seal_mu), and whoever
 * sees in_flight clear after a failed seal sees `failed` too. */
static void *seal_main(void *arg)
{
    ff_store *s = arg;
    pthread_setname_np(pthread_self(), "ff-seal");
    pthread_mutex_lock(&s->seal_mu);
    for (;;) {
        if (!s->in_flight) {
            if (s->seal_quit)
                break;
            pthread_cond_wait(&s->seal_cv, &s->seal_mu);
            continue;
        }
        pthread_mutex_unlock(&s->seal_mu);
        ff_err err = {0};
        ff_rc rc = seal_batch_run(s, &s->flight, &err);
        pthread_mutex_lock(&s->seal_mu);
        batch_release(s, &s->flight, rc == FF_OK);
        if (rc && !s->seal_rc) {
            s->seal_rc = rc;
            s->seal_err = err;
            FF_LOG(FF_LOG_ERROR, "store", "seal failed: %s: %s", ff_rc_name(rc), err.msg);
        }
        if (rc)
            set_failed(s, rc);
        s->in_flight = false;
        pthread_cond_broadcast(&s->done_cv);
    }
    pthread_mutex_unlock(&s->seal_mu);
    return NULL;
}

/* Under seal_mu: FF_EFAILED with the failed seal's reason (seal_rc != 0). */
static ff_rc seal_failed_locked(ff_store *s, ff_err *err)
{
    return FF_ERR_SET(err, FF_EFAILED,
                      "store is failed (a seal failed: %s: %s): close and reopen it",
                      ff_rc_name(s->seal_rc), s->seal_err.msg);
}

/* Under seal_mu: wait until no batch is in flight. When count (only the consumer's hand-over
 * in poll: reading stopped for it), the time waited counts as seal_wait_ns; flush, retain and
 * retention wait on purpose and are not counted. */
static void seal_wait_idle_locked(ff_store *s, bool count)
{
    if (!s->in_flight)
        return;
    uint64_t t0 = ff_clock_mono_ns();
    while (s->in_flight)
        pthread_cond_wait(&s->done_cv, &s->seal_mu);
    if (!count)
        return;
    uint64_t dt = ff_clock_mono_ns() - t0;
    pthread_mutex_lock(&s->mu);
    s->st.seal_wait_ns_total += dt;
    if (dt > s->st.seal_wait_ns_max)
        s->st.seal_wait_ns_max = dt;
    pthread_mutex_unlock(&s->mu);
}

/* Wait for the batch in flight (if any; not counted as seal_wait_ns); FF_EFAILED if a seal
 * failed (this one or an earlier one). */
static ff_rc seal_wait(ff_store *s, ff_err *err)
{
    pthread_mutex_lock(&s->seal_mu);
    seal_wait_idle_locked(s, false);
    ff_rc rc = s->seal_rc ? seal_failed_locked(s, err) : FF_OK;
    pthread_mutex_unlock(&s->seal_mu);
    return rc;
}

/* Hand the batch being read over to the seal thread (started on first use) and start an empty
 * one; first wait for the batch still in flight, if any (counted as seal_wait_ns when
 * count_wait: the consumer's read loop). A seal that failed is returned here as FF_EFAILED
 * with its reason (and the batch is kept, never handed over). */
static ff_rc seal_handoff(ff_store *s, bool count_wait, ff_err *err)
{
    if (s->fill.records == 0)
        return FF_OK;
    pthread_mutex_lock(&s->seal_mu);
    seal_wait_idle_locked(s, count_wait);
    ff_rc rc = s->seal_rc ? seal_failed_locked(s, err) : FF_OK; /* failed: set by seal_main */
    if (!rc && !s->seal_running) {
        s->seal_running = pthread_create(&s->seal_thread, NULL, seal_main, s) == 0;
        if (!s->seal_running)
            rc = FF_ERR_SET(err, FF_ENOMEM, "cannot start the store's seal thread");
    }
    if (!rc) {
        s->flight = s->fill;
        s->in_flight = true;
        pthread_cond_signal(&s->seal_cv);
    }
    pthread_mutex_unlock(&s->seal_mu);
    if (rc)
        return set_failed(s, rc);
    s->fill.n_days = 0;
    s->fill.records = s->fill.rows = 0;
    return FF_OK;
}

/* Seal everything read so far and wait until it is live (or failed). Its waits are on purpose
 * (flush), not counted as seal_wait_ns. */
static ff_rc seal_all(ff_store *s, ff_err *err)
{
    ff_rc rc = seal_handoff(s, false, err);
    if (!rc)
        rc = seal_wait(s, err);
    return rc;
}

/* Stop the seal thread after the batch in flight (close). */
static void seal_thread_stop(ff_store *s)
{
    pthread_mutex_lock(&s->seal_mu);
    bool running = s->seal_running;
    s->seal_quit = true;
    pthread_cond_signal(&s->seal_cv);
    pthread_mutex_unlock(&s->seal_mu);
    if (running)
        pthread_join(s->seal_thread, NULL);
    s->seal_running = false;
}

/* ---- merge ------------------------------------------------------------------------------ */

static int ent_first_cmp(const void *a, const void *b)
{
    const part_ent *x = *(part_ent *const *)a, *y = *(part_ent *const *)b;
    return x->first < y->first ? -1 : x->first > y->first;
}

/* Merge ins[0..n) (one day, one level, in log order) into one part of level + 1. */
/* Every row of p, block by block, into w (a merge, a rewrite); *rows counts them. */
static ff_rc copy_rows(const ff_part *p, ff_part_ctx *ctx, ff_arena *a, ff_part_writer *w,
                       uint64_t *rows, ff_err *err)
{
    ff_rc rc = FF_OK;
    for (uint32_t b = 0; b < ff_part_get_info(p)->n_blocks && !rc; b++) {
        ff_block blk;
        ff_arena_reset(a);
        rc = ff_part_read(p, ctx, b, FF_COLSET_ALL, a, &blk, err);
        for (uint32_t r = 0; !rc && r < blk.n_rows; r++) {
            ff_row row;
            ff_block_row(&blk, r, &row);
            rc = ff_part_writer_add(w, &row, err);
            (*rows)++;
        }
    }
    return rc;
}

static ff_rc merge_parts(ff_store *s, part_ent **ins, size_t n, ff_err *err)
{
    int32_t day = ins[0]->day;
    uint32_t level = ins[0]->level + 1;
    uint64_t first = ins[0]->first, last = ins[n - 1]->last;
    ff_part_writer_opts wo = {.has_partition_day = true,
                              .partition_day = day,
                              .has_log_range = true,
                              .log_first = first,
                              .log_last = last,
                              .no_sync = s->o.no_sync};
    ff_part_writer *w;
    ff_rc rc = ff_part_writer_new(&wo, &w, err);
    if (rc)
        return rc;
    ff_arena a;
    ff_arena_init(&a, 1 << 20, (size_t)1 << 30);
    uint64_t rows = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = copy_rows(ins[i]->p, s->mctx, &a, w, &rows, err);
    ff_arena_fini(&a);
    char ddir[PATH_MAX_BYTES], name[64], path[PATH_MAX_BYTES + 64];
    part_ent *out = NULL;
    if (!rc)
        rc = ensure_day_dir(s, day, ddir, sizeof ddir, err);
    if (!rc) {
        part_name(level, first, last, name);
        snprintf(path, sizeof path, "%s/%s", ddir, name);
        rc = ff_part_writer_finish(w, path, NULL, err);
    }
    ff_part_writer_free(w);
    if (!rc)
        rc = ent_open(path, level, day, first, last, &out, err);
    if (rc)
        return rc;
    /* Swap: the output becomes live and the inputs leave in one step under the lock. */
    part_ent **to_free = ff_malloc(n * sizeof *to_free);
    size_t n_free = 0;
    pthread_mutex_lock(&s->mu);
    if (!to_free || live_reserve(s, 1)) {
        pthread_mutex_unlock(&s->mu);
        ff_free(to_free);
        ent_free(out);
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < s->n_live; i++) {
        bool is_in = false;
        for (size_t j = 0; j < n && !is_in; j++)
            is_in = s->live[i] == ins[j];
        if (!is_in)
            s->live[k++] = s->live[i];
    }
    s->n_live = k;
    s->live[s->n_live++] = out;
    s->st.merges++;
    s->st.merged_rows += rows;
    char **paths = ff_calloc(n, sizeof *paths);
    for (size_t j = 0; j < n; j++) {
        if (paths)
            paths[j] = ff_strdup(ins[j]->path);
        ent_unref_locked(ins[j], &to_free, &n_free);
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t j = 0; j < n_free; j++)
        ent_free(to_free[j]);
    ff_free(to_free);
    /* Unlink the inputs (a crash before this leaves leftovers that open deletes). */
    for (size_t j = 0; j < n; j++) {
        if (paths && paths[j] && unlink(paths[j]) != 0 && errno != ENOENT)
            FF_LOG(FF_LOG_WARN, "store", "cannot delete merged part %s", paths[j]);
        if (paths)
            ff_free(paths[j]);
    }
    ff_free(paths);
    if (!s->o.no_sync)
        rc = fsync_dir(ddir, err);
    return rc;
}

/* One merge if some (day, level) has more than merge_fanin parts. *did_out tells. */
static ff_rc merge_step(ff_store *s, bool *did_out, ff_err *err)
{
    *did_out = false;
    /* The caller holds merge_mu: only seals change the live set meanwhile, and they only add
     * parts. So the parts of a copy of the live set stay alive while this merge runs. */
    pthread_mutex_lock(&s->mu);
    size_t n = s->n_live;
    part_ent **all = n > s->o.merge_fanin ? ff_malloc(n * sizeof *all) : NULL;
    if (all)
        memcpy(all, s->live, n * sizeof *all);
    pthread_mutex_unlock(&s->mu);
    if (n <= s->o.merge_fanin)
        return FF_OK;
    part_ent **v = all ? ff_malloc(n * sizeof *v) : NULL;
    if (!v) {
        ff_free(all);
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    }
    ff_rc rc = FF_OK;
    for (size_t i = 0; i < n && !*did_out && !rc; i++) {
        part_ent *g = all[i];
        if (g->level >= FF_STORE_MAX_LEVEL)
            continue;
        /* Handle each (day, level) group once: at its first member. */
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = all[j]->day == g->day && all[j]->level == g->level;
        if (seen)
            continue;
        size_t m = 0;
        for (size_t j = i; j < n; j++)
            if (all[j]->day == g->day && all[j]->level == g->level)
                v[m++] = all[j];
        if (m <= s->o.merge_fanin)
            continue;
        qsort(v, m, sizeof *v, ent_first_cmp);
        uint64_t rows = 0;
        size_t k = 0;
        while (k < m && rows + ff_part_get_info(v[k]->p)->n_rows <= s->o.merge_max_rows)
            rows += ff_part_get_info(v[k++]->p)->n_rows;
        if (k < 2)
            continue;
        rc = merge_parts(s, v, k, err);
        *did_out = !rc;
    }
    ff_free(v);
    ff_free(all);
    return rc ? set_failed(s, rc) : FF_OK;
}

/* ---- retention -------------------------------------------------------------------------- */

static ff_rc retain_locked(ff_store *s, uint32_t keep_days, int64_t now_ms, uint32_t *n_days_out,
                           ff_err *err)
{
    if (n_days_out)
        *n_days_out = 0;
    if (!keep_days)
        return FF_OK;
    if (!now_ms)
        now_ms = ff_clock_now_ms();
    int64_t cutoff = day_of_ms(now_ms) - (int64_t)keep_days;
    DIR *d = opendir(s->dir);
    if (!d)
        return FF_ERR_SYS(err, FF_EIO, "cannot open %s", s->dir);
    ff_rc rc = FF_OK;
    struct dirent *de;
    uint32_t n_days = 0;
    while (!rc && (de = readdir(d))) {
        int32_t day;
        if (!day_parse(de->d_name, &day) || day >= cutoff)
            continue;
        /* Leave the live set first, so no new snapshot sees a part being deleted. */
        pthread_mutex_lock(&s->mu);
        part_ent **to_free = ff_malloc((s->n_live + 1) * sizeof *to_free);
        size_t n_free = 0, k = 0;
        if (!to_free) {
            pthread_mutex_unlock(&s->mu);
            rc = FF_ERR_SET(err, FF_ENOMEM, "out of memory");
            break;
        }
        for (size_t i = 0; i < s->n_live; i++) {
            if (s->live[i]->day == day)
                ent_unref_locked(s->live[i], &to_free, &n_free);
            else
                s->live[k++] = s->live[i];
        }
        s->n_live = k;
        pthread_mutex_unlock(&s->mu);
        for (size_t i = 0; i < n_free; i++)
            ent_free(to_free[i]);
        ff_free(to_free);
        char ddir[PATH_MAX_BYTES];
        snprintf(ddir, sizeof ddir, "%s/%s", s->dir, de->d_name);
        DIR *dd = opendir(ddir);
        if (dd) {
            struct dirent *pe;
            while ((pe = readdir(dd))) {
                if (pe->d_name[0] == '.')
                    continue;
                char path[PATH_MAX_BYTES + 256];
                snprintf(path, sizeof path, "%s/%s", ddir, pe->d_name);
                unlink(path);
            }
            closedir(dd);
        }
        if (rmdir(ddir) != 0)
            rc = FF_ERR_SYS(err, FF_EIO, "cannot remove %s", ddir);
        n_days++;
    }
    closedir(d);
    if (!rc && n_days && !s->o.no_sync)
        rc = fsync_dir(s->dir, err);
    if (n_days_out)
        *n_days_out = n_days;
    return rc;
}

ff_rc ff_store_retain(ff_store *s, uint32_t keep_days, int64_t now_ms, uint32_t *n_days_out,
                      ff_err *err)
{
    if (s->o.read_only)
        return FF_ERR_SET(err, FF_EINVAL, "store opened read-only");
    pthread_mutex_lock(&s->work_mu);
    /* The seal in flight may write into a day folder about to be removed: let it finish
     * (work_mu keeps the next batch from being handed over). Its failure is not ours. */
    (void)seal_wait(s, NULL);
    pthread_mutex_lock(&s->merge_mu);
    ff_rc rc = retain_locked(s, keep_days, now_ms, n_days_out, err);
    pthread_mutex_unlock(&s->merge_mu);
    pthread_mutex_unlock(&s->work_mu);
    return rc;
}

/* ---- consume ---------------------------------------------------------------------------- */

static day_batch *batch_day(ff_store *s, int32_t day)
{
    for (size_t i = 0; i < s->fill.n_days; i++)
        if (s->fill.day[i].day == day)
            return &s->fill.day[i];
    return NULL;
}

/* Take one record at offset off into the batch. */
static ff_rc consume_one(ff_store *s, uint64_t off, const char *rec, size_t len, ff_err *err)
{
    ff_row row;
    ff_arena_reset(&s->arena);
    ff_err e2 = {0};
    ff_rc rc = ff_row_from_record(rec, len, off, &s->arena, &row, &e2);
    int64_t day = 0;
    if (rc == FF_OK) {
        day = day_of_ms(row.num[FF_COL_TS]);
        if (day < 0 || day > DAY_MAX) {
            rc = FF_EBADINPUT;
            snprintf(e2.msg, sizeof e2.msg, "ts outside 1970..9999");
        }
    }
    if (rc == FF_ENOMEM)
        return FF_ERR_SET(err, rc, "out of memory converting record %" PRIu64, off);
    day_batch *b = rc ? NULL : batch_day(s, (int32_t)day);
    if (!rc && !b && s->fill.n_days == FF_STORE_MAX_BATCH_DAYS) {
        ff_rc src = seal_handoff(s, true, err); /* the batch so far ends at off - 1 */
        if (src)
            return src;
    }
    if (s->fill.records == 0)
        s->fill.start_ns = ff_clock_mono_ns();
    s->fill.records++;
    s->fill.last = off;
    if (rc) { /* FF_EBADINPUT / FF_ELIMIT: the record cannot be a row; it is skipped */
        pthread_mutex_lock(&s->mu);
        s->st.rejected++;
        pthread_mutex_unlock(&s->mu);
        FF_LOG(FF_LOG_DEBUG, "store", "record %" PRIu64 " rejected: %s", off, e2.msg);
        return FF_OK;
    }
    ff_str id = row.str[FF_COL_EVENT_ID];
    if (s->dd.window_ms >= 0 && id.len) {
        dedupe *d = &s->dd;
        dd_advance(d, row.num[FF_COL_RECEIVED_AT]);
        uint64_t h = dd_hash(id.p, id.len);
        if (dd_has(d, h)) {
            pthread_mutex_lock(&s->mu);
            s->st.duplicates++;
            pthread_mutex_unlock(&s->mu);
            return FF_OK;
        }
        dd_add(d, h, row.num[FF_COL_RECEIVED_AT]);
    }
    if (!b) {
        b = &s->fill.day[s->fill.n_days];
        ff_part_writer_opts wo = {
            .has_partition_day = true, .partition_day = (int32_t)day, .no_sync = s->o.no_sync};
        *b = (day_batch){.day = (int32_t)day, .first = off};
        rc = batch_writer(s, &wo, &b->w, err);
        if (rc)
            return rc;
        s->fill.n_days++;
    }
    rc = ff_part_writer_add(b->w, &row, err);
    if (rc)
        return rc;
    b->last = off;
    s->fill.rows++;
    return FF_OK;
}

/* The batch being read is due by time: seal_interval_ms since its first record. */
static bool fill_due(const ff_store *s, uint64_t now_ns)
{
    return s->fill.records &&
           now_ns - s->fill.start_ns >= (uint64_t)s->o.seal_interval_ms * 1000000u;
}

/* FF_EFAILED, with the failed seal's reason when a seal failed (a seal stores its reason
 * before it marks the store failed, so a caller that saw `failed` finds it here). */
static ff_rc failed_rc(ff_store *s, ff_err *err)
{
    pthread_mutex_lock(&s->seal_mu);
    ff_rc rc = s->seal_rc ? seal_failed_locked(s, err)
                          : FF_ERR_SET(err, FF_EFAILED, "store is failed: close and reopen it");
    pthread_mutex_unlock(&s->seal_mu);
    return rc;
}

/* How often (in records) the read loop checks whether the batch is due by time. */
#define DUE_CHECK_RECORDS 256

static ff_rc poll_locked(ff_store *s, uint64_t max_records, uint64_t *n_read, ff_err *err)
{
    *n_read = 0;
    if (s->o.read_only)
        return FF_ERR_SET(err, FF_EINVAL, "store opened read-only");
    if (atomic_load(&s->failed))
        return failed_rc(s, err);
    ff_rc rc = FF_OK;
    if (!s->cur && (rc = ff_evlog_cursor_open(s->log, s->next_read, &s->cur, err)) != FF_OK)
        return set_failed(s, rc);
    while (!max_records || *n_read < max_records) {
        uint64_t off;
        const void *rec;
        size_t len;
        rc = ff_evlog_cursor_next(s->cur, &off, &rec, &len, err);
        if (rc == FF_EOF) {
            rc = FF_OK;
            break;
        }
        if (!rc)
            rc = consume_one(s, off, rec, len, err);
        if (rc)
            return set_failed(s, rc);
        s->next_read = off + 1;
        atomic_store_explicit(&s->read_pub, s->next_read, memory_order_relaxed);
        (*n_read)++;
        /* Full or due by time: hand over, waiting for the seal in flight if there is one
         * (reading on would grow the batch, and with it the next seal and the time until its
         * rows are queryable, unseen by back-pressure, which counts unread records). */
        if (s->fill.rows >= s->o.seal_max_rows ||
            (*n_read % DUE_CHECK_RECORDS == 0 && fill_due(s, ff_clock_mono_ns())))
            rc = seal_handoff(s, true, err);
        if (rc)
            return rc;
    }
    if (fill_due(s, ff_clock_mono_ns()) && (rc = seal_handoff(s, true, err)) != FF_OK)
        return rc;
    pthread_mutex_lock(&s->mu); /* consumer-owned counters, for stats from any thread */
    s->st.dedupe_ids = s->dd.n;
    s->st.dedupe_evicted = s->dd.evicted;
    pthread_mutex_unlock(&s->mu);
    if (!s->o.no_merge && !s->merge_running) { /* else the merge thread does it */
        bool did;
        pthread_mutex_lock(&s->merge_mu);
        rc = merge_step(s, &did, err);
        pthread_mutex_unlock(&s->merge_mu);
        if (rc != FF_OK)
            return rc;
    }
    if (s->o.keep_days) {
        int64_t now = ff_clock_now_ms();
        if (now - s->last_retain_ms >= 60000) {
            s->last_retain_ms = now;
            /* No seal may write into a day folder being removed: wait for the one in flight
             * (work_mu keeps the next from being handed over). */
            if ((rc = seal_wait(s, err)) != FF_OK)
                return rc;
            pthread_mutex_lock(&s->merge_mu); /* waits for a running merge */
            rc = retain_locked(s, s->o.keep_days, now, NULL, err);
            pthread_mutex_unlock(&s->merge_mu);
            if (rc != FF_OK)
                return set_failed(s, rc);
        }
    }
    return FF_OK;
}

ff_rc ff_store_poll(ff_store *s, uint64_t max_records, uint64_t *n_read_out, ff_err *err)
{
    uint64_t n = 0;
    pthread_mutex_lock(&s->work_mu);
    ff_rc rc = poll_locked(s, max_records, &n, err);
    pthread_mutex_unlock(&s->work_mu);
    if (n_read_out)
        *n_read_out = n;
    return rc;
}

/* Seal what was read, and wait until it and the batch in flight are live (or failed). On a
 * failed store nothing more is handed over, but the batch in flight (handed over before the
 * store failed, e.g. by a merge) is still waited for: on return no seal is writing. */
ff_rc ff_store_flush(ff_store *s, ff_err *err)
{
    if (s->o.read_only)
        return FF_ERR_SET(err, FF_EINVAL, "store opened read-only");
    pthread_mutex_lock(&s->work_mu);
    ff_rc rc;
    if (atomic_load(&s->failed)) {
        (void)seal_wait(s, NULL);
        rc = failed_rc(s, err);
    } else {
        rc = seal_all(s, err);
    }
    pthread_mutex_unlock(&s->work_mu);
    return rc;
}

ff_rc ff_store_merge_all(ff_store *s, ff_err *err)
{
    if (s->o.read_only)
        return FF_ERR_SET(err, FF_EINVAL, "store opened read-only");
    pthread_mutex_lock(&s->merge_mu);
    ff_rc rc = atomic_load(&s->failed) ? FF_ERR_SET(err, FF_EFAILED, "store is failed") : FF_OK;
    for (bool did = true; !rc && did;)
        rc = merge_step(s, &did, err);
    pthread_mutex_unlock(&s->merge_mu);
    return rc;
}

/* ---- thread ----------------------------------------------------------------------------- */

static void *consumer_main(void *arg)
{
    ff_store *s = arg;
    pthread_setname_np(pthread_self(), "ff-store"); /* names show in top -H and perf */
    ff_rc rc = FF_OK;
    while (!rc && !atomic_load(&s->stop)) {
        uint64_t n;
        rc = ff_store_poll(s, 10000, &n, &s->thread_err);
        if (rc || n)
            continue;
        uint32_t wait_ms = POLL_WAIT_MS;
        if (s->fill.records) {
            uint64_t age_ms = (ff_clock_mono_ns() - s->fill.start_ns) / 1000000u;
            uint64_t left = age_ms >= s->o.seal_interval_ms ? 0 : s->o.seal_interval_ms - age_ms;
            wait_ms = left < wait_ms ? (uint32_t)left + 1 : wait_ms;
        }
        ff_evlog_wait(s->log, s->next_read, wait_ms);
    }
    /* Seal what is pending; after an error (the store is failed) this only waits for the seal
     * in flight, so stop returns with no seal writing, and the first error is kept. */
    ff_err ferr;
    ff_rc frc = ff_store_flush(s, rc ? &ferr : &s->thread_err);
    if (!rc)
        rc = frc;
    s->thread_rc = rc;
    if (rc)
        FF_LOG(FF_LOG_ERROR, "store", "consumer stopped: %s: %s", ff_rc_name(rc),
               s->thread_err.msg);
    return NULL;
}

/* The merge thread: after seals (or every second), merge while some (day, level) has more
 * than merge_fanin parts. A failed merge marks the store failed (merge_step), which stops the
 * consumer at its next poll, as before. */
static void *merge_main(void *arg)
{
    ff_store *s = arg;
    pthread_setname_np(pthread_self(), "ff-merge");
    ff_err err;
    pthread_mutex_lock(&s->mu);
    while (!atomic_load(&s->stop) && !atomic_load(&s->failed)) {
        if (!s->merge_kicks) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += 1;
            pthread_cond_timedwait(&s->merge_cv, &s->mu, &until);
            continue;
        }
        s->merge_kicks = 0;
        pthread_mutex_unlock(&s->mu);
        pthread_mutex_lock(&s->merge_mu);
        ff_rc rc = FF_OK;
        for (bool did = true; !rc && did && !atomic_load(&s->stop);) {
            memset(&err, 0, sizeof err);
            rc = merge_step(s, &did, &err);
        }
        pthread_mutex_unlock(&s->merge_mu);
        if (rc)
            FF_LOG(FF_LOG_ERROR, "store", "merge failed: %s: %s", ff_rc_name(rc), err.msg);
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void merge_thread_stop(ff_store *s)
{
    if (!s->merge_running)
        return;
    atomic_store(&s->stop, true);
    pthread_mutex_lock(&s->mu);
    pthread_cond_broadcast(&s->merge_cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->merge_thread, NULL);
    s->merge_running = false;
}

ff_rc ff_store_start(ff_store *s, ff_err *err)
{
    if (s->o.read_only)
        return FF_ERR_SET(err, FF_EINVAL, "store opened read-only");
    if (s->thread_running)
        return FF_ERR_SET(err, FF_EINVAL, "store consumer already running");
    atomic_store(&s->stop, false);
    s->thread_rc = FF_OK;
    if (!s->o.no_merge) {   /* without it the consumer merges between seals, as it used to */
        s->merge_kicks = 1; /* look once at start */
        s->merge_running = pthread_create(&s->merge_thread, NULL, merge_main, s) == 0;
    }
    if (pthread_create(&s->thread, NULL, consumer_main, s) != 0) {
        merge_thread_stop(s);
        return FF_ERR_SET(err, FF_ENOMEM, "cannot start the store consumer thread");
    }
    s->thread_running = true;
    return FF_OK;
}

ff_rc ff_store_stop(ff_store *s, ff_err *err)
{
    if (!s->thread_running)
        return FF_OK;
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    merge_thread_stop(s);
    s->thread_running = false;
    if (s->thread_rc && err)
        *err = s->thread_err;
    return s->thread_rc;
}

void ff_store_close(ff_store *s)
{
    if (!s)
        return;
    if (s->thread_running) {
        atomic_store(&s->stop, true);
        pthread_join(s->thread, NULL);
    }
    seal_thread_stop(s); /* after the batch in flight (handed over by a poll) */
    merge_thread_stop(s);
    batch_release(s, &s->fill, false);
    for (size_t i = 0; i < s->n_spare; i++)
        ff_part_writer_free(s->spare[i]);
    ff_evlog_cursor_close(s->cur);
    ff_evlog_hold_free(s->hold); /* after the seal thread: no seal moves it any more */
    live_clear(s);
    ff_free(s->live);
    if (s->lock_fd >= 0)
        close(s->lock_fd);
    ff_part_ctx_free(s->ctx);
    ff_part_ctx_free(s->mctx);
    dd_fini(&s->dd);
    ff_arena_fini(&s->arena);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->work_mu);
    pthread_mutex_destroy(&s->merge_mu);
    pthread_cond_destroy(&s->merge_cv);
    pthread_mutex_destroy(&s->seal_mu);
    pthread_cond_destroy(&s->seal_cv);
    pthread_cond_destroy(&s->done_cv);
    ff_free(s->dir);
    ff_free(s);
}

/* ---- snapshots and stats ---------------------------------------------------------------- */

typedef struct snap_owner {
    size_t n;
    part_ent *ents[];
} snap_owner;

ff_rc ff_store_snapshot_acquire(ff_store *s, ff_table_snapshot *out, ff_err *err)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&s->mu);
    size_t n = s->n_live;
    snap_owner *o = ff_malloc(sizeof *o + (n + 1) * sizeof(part_ent *));
    ff_part **parts = ff_malloc((n + 1) * sizeof *parts);
    if (!o || !parts) {
        pthread_mutex_unlock(&s->mu);
        ff_free(o);
        ff_free(parts);
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    }
    o->n = n;
    for (size_t i = 0; i < n; i++) {
        o->ents[i] = s->live[i];
        s->live[i]->refs++;
        parts[i] = s->live[i]->p;
    }
    pthread_mutex_unlock(&s->mu);
    out->parts = parts;
    out->n_parts = n;
    out->owner = o;
    return FF_OK;
}

void ff_store_snapshot_release(ff_store *s, ff_table_snapshot *snap)
{
    if (!snap || !snap->owner)
        return;
    snap_owner *o = snap->owner;
    size_t n_free = 0;
    part_ent **to_free = o->ents; /* reused in place: entries to free are compacted to front */
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < o->n; i++) {
        part_ent *e = o->ents[i];
        if (--e->refs == 0)
            to_free[n_free++] = e;
    }
    pthread_mutex_unlock(&s->mu);
    for (size_t i = 0; i < n_free; i++)
        ent_free(to_free[i]);
    ff_free(o);
    ff_free(snap->parts);
    memset(snap, 0, sizeof *snap);
}

void ff_store_stats_get(ff_store *s, ff_store_stats *out)
{
    pthread_mutex_lock(&s->mu);
    *out = s->st;
    out->resume_offset = s->sealed;
    out->rows = out->parts = out->bytes = 0;
    for (size_t i = 0; i < s->n_live; i++) {
        const ff_part_info *in = ff_part_get_info(s->live[i]->p);
        out->rows += in->n_rows;
        out->bytes += in->file_bytes;
        out->parts++;
    }
    pthread_mutex_unlock(&s->mu);
    /* The read offset as the consumer publishes it for ff_store_backlog; the dedupe counts
     * as of the consumer's last poll. */
    out->consumed_offset = atomic_load_explicit(&s->read_pub, memory_order_relaxed);
    out->lag = ff_store_backlog(s);
    out->failed = atomic_load(&s->failed);
}

uint64_t ff_store_backlog(ff_store *s)
{
    if (!s->log)
        return 0;
    uint64_t durable = ff_evlog_durable_offset(s->log);
    uint64_t read = atomic_load_explicit(&s->read_pub, memory_order_relaxed);
    return durable > read ? durable - read : 0;
}

/* ---- verify ----------------------------------------------------------------------------- */

ff_rc ff_store_verify(const char *dir, uint64_t *n_parts_out, uint64_t *n_rows_out, ff_err *err)
{
    uint64_t n_parts = 0, n_rows = 0, dummy = 0;
    bool have_sealed;
    uint64_t sealed;
    ff_rc rc = sealed_read(dir, &have_sealed, &sealed, err);
    cand_list cl = {0};
    if (!rc)
        rc = scan_dir(dir, false, true, &cl, &dummy, err);
    ff_part_ctx *ctx = NULL;
    if (!rc)
        rc = ff_part_ctx_new(&ctx, err);
    for (size_t i = 0; !rc && i < cl.n; i++) {
        const cand *c = &cl.v[i];
        if (c->first >= sealed) {
            rc = FF_ERR_SET(err, FF_ECORRUPT,
                            "part %s starts at or past SEALED (%" PRIu64
                            "): an unfinished seal; opening the store deletes it",
                            c->path, sealed);
            break;
        }
        if (i > 0 && cl.v[i - 1].day == c->day && c->first <= cl.v[i - 1].last) {
            rc = FF_ERR_SET(err, FF_ECORRUPT,
                            "parts %s and %s cover overlapping log ranges (a merge leftover "
                            "that opening the store deletes, or damage)",
                            cl.v[i - 1].path, c->path);
            break;
        }
        part_ent *e;
        rc = ent_open(c->path, c->level, c->day, c->first, c->last, &e, err);
        if (rc)
            break;
        rc = ff_part_verify(e->p, ctx, err);
        n_parts++;
        n_rows += ff_part_get_info(e->p)->n_rows;
        ent_free(e);
    }
    ff_part_ctx_free(ctx);
    cands_free(&cl);
    if (n_parts_out)
        *n_parts_out = n_parts;
    if (n_rows_out)
        *n_rows_out = n_rows;
    return rc;
}

/* One old part -> this release's format under the same name: written next to it as *.tmp,
 * then renamed over it (rename replaces atomically), then the folder synced. */
static ff_rc rewrite_part(const char *path, const ff_part *p, bool no_sync, ff_err *err)
{
    const ff_part_info *in = ff_part_get_info(p);
    ff_part_writer_opts wo = {.block_rows = in->block_rows,
                              .has_log_range = true,
                              .log_first = in->log_first,
                              .log_last = in->log_last,
                              .has_partition_day = in->partition_day != FF_PART_DAY_NONE,
                              .partition_day = in->partition_day,
                              .no_sync = no_sync};
    if (in->n_rows > (uint64_t)16 * 1024 * 1024)
        wo.max_rows = in->n_rows;
    ff_part_writer *w = NULL;
    ff_rc rc = ff_part_writer_new(&wo, &w, err);
    ff_arena a;
    ff_arena_init(&a, 1 << 20, 0);
    uint64_t rows = 0;
    if (!rc)
        rc = copy_rows(p, NULL, &a, w, &rows, err);
    char tmp[PATH_MAX_BYTES + 32];
    snprintf(tmp, sizeof tmp, "%s.rewrite.tmp", path);
    unlink(tmp); /* a leftover of an interrupted rewrite */
    if (!rc)
        rc = ff_part_writer_finish(w, tmp, NULL, err);
    ff_part_writer_free(w);
    ff_arena_fini(&a);
    if (!rc && rename(tmp, path) != 0)
        rc = FF_ERR_SYS(err, FF_EIO, "cannot replace %s", path);
    if (rc) {
        unlink(tmp);
        return rc;
    }
    if (!no_sync) {
        char dir[PATH_MAX_BYTES];
        snprintf(dir, sizeof dir, "%s", path);
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        rc = fsync_dir(dir, err);
    }
    return rc;
}

ff_rc ff_store_rewrite(const char *dir, bool no_sync, uint64_t *n_parts_out,
                       uint64_t *n_rewritten_out, ff_err *err)
{
    uint64_t n_parts = 0, n_rewritten = 0, n_cleaned = 0, n_batch = 0, n_merge = 0;
    int lock_fd = -1;
    ff_rc rc = lock_folder(dir, &lock_fd, err);
    bool have_sealed = false;
    uint64_t sealed = UINT64_MAX;
    cand_list cl = {0};
    if (!rc)
        rc = sealed_read(dir, &have_sealed, &sealed, err);
    if (!rc && !have_sealed)
        sealed = UINT64_MAX;
    if (!rc)
        rc = scan_dir(dir, true, no_sync, &cl, &n_cleaned, err);
    if (!rc)
        rc = cands_classify(&cl, sealed, &n_batch, &n_merge, err);
    for (size_t i = 0; !rc && i < cl.n; i++) {
        const cand *c = &cl.v[i];
        if (c->dead) /* deleted by the next open anyway */
            continue;
        ff_part *p = NULL;
        if ((rc = ff_part_open(c->path, NULL, &p, err)) != FF_OK)
            break;
        n_parts++;
        if (ff_part_get_info(p)->version < FF_PART_VERSION) {
            rc = rewrite_part(c->path, p, no_sync, err);
            n_rewritten += rc == FF_OK;
        }
        ff_part_close(p);
    }
    cands_free(&cl);
    if (lock_fd >= 0)
        close(lock_fd); /* releases the flock */
    if (n_parts_out)
        *n_parts_out = n_parts;
    if (n_rewritten_out)
        *n_rewritten_out = n_rewritten;
    return rc;
}
