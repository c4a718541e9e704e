/* cmd_import.c -- `footfall import FILE`: load a file of events into the data folder through
 * the same path as HTTP ingest.
 *
 * Lines are converted to Segment messages (collect/ff_import.h), batched (up to 500 events or
 * 4 MiB) and decoded by the collector with a ff_collect_backfill (historical times kept as
 * given), so validation, privacy, bot drops and dedupe are the HTTP ones; the payload is
 * appended to the event log as ff_server.c does, and the store consumer (a thread, as in the
 * server) seals it into parts; the command waits until it has caught up, so `footfall query`
 * sees the rows when the command returns. The data folder must not
 * be held by a running server (its log and store are locked: FF_ELOCKED).
 *
 * Exit codes: 0 every line imported (duplicates and bot drops count as fine), 1 some lines
 * rejected (the rest imported), 2 usage error, 3 import stopped (locked folder, I/O, memory).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/ff_cli.h"
#include "collect/ff_collect.h"
#include "collect/ff_import.h"
#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_clock.h"
#include "core/ff_json.h"
#include "core/ff_mem.h"
#include "evlog/ff_evlog.h"
#include "store/ff_store.h"

#define BATCH_EVENTS 500
#define BATCH_BYTES (4u << 20)
#define MAX_ALIASES 64
#define MAX_MESSAGES 100 /* rejected lines printed; the rest are only counted */
#define READ_BYTES (FF_IMPORT_MAX_LINE_BYTES + (1u << 20))

enum { EXIT_REJECTED = 1, EXIT_USAGE = 2, EXIT_STOPPED = 3 };

typedef struct line_ref {
    uint64_t line_no;
    size_t begin, end;    /* its messages in body */
    uint32_t first_event; /* index of its first message in the batch */
    uint32_t n_events;
} line_ref;

typedef struct pending_msg {
    uint64_t line_no;
    long sub; /* message in the line, -1: the line */
    char reason[64];
    char detail[200];
} pending_msg;

typedef struct imp {
    const char *path;
    ff_import_format fmt;
    const ff_import_map *map;
    ff_collect *col;
    ff_evlog *log;
    ff_store *store;
    ff_arena arena;     /* line DOMs and alias strings, reset per batch */
    ff_arena dec_arena; /* the collector's DOM */
    ff_buf body;        /* {"batch":[ message, message, ... */
    ff_buf tmp;
    ff_collect_out out;
    line_ref *lines;
    size_t n_lines, cap_lines;
    uint32_t n_events; /* in the batch */
    ff_collect_alias aliases[MAX_ALIASES];
    size_t n_aliases;
    /* totals */
    uint64_t n_read, n_msgs, n_imported, n_rejected, n_duplicates, n_dropped;
    uint64_t n_printed;
    pending_msg pending[MAX_MESSAGES];
    size_t n_pending;
    bool suppressed, told_suppressed;
    /* progress */
    bool progress, bar_shown;
    uint64_t file_bytes, done_bytes;
    uint64_t t0_ns, last_bar_ns;
    ff_err err;
} imp;

static const char BODY_HEAD[] = "{\"batch\":[";

static void bar_clear(imp *m)
{
    if (m->bar_shown) {
        fputs("\r\033[K", stderr);
        m->bar_shown = false;
    }
}

static void bar_draw(imp *m, bool force)
{
    if (!m->progress)
        return;
    uint64_t now = ff_clock_mono_ns();
    if (!force && now - m->last_bar_ns < 100000000ull)
        return;
    m->last_bar_ns = now;
    double secs = (double)(now - m->t0_ns) / 1e9;
    double rate = secs > 0 ? (double)m->n_msgs / secs : 0;
    if (m->file_bytes) {
        double f = (double)m->done_bytes / (double)m->file_bytes;
        if (f > 1)
            f = 1;
        char bar[31];
        int full = (int)(f * 30);
        for (int i = 0; i < 30; i++)
            bar[i] = i < full ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r[%s] %3d%%  %" PRIu64 " events  %.0f events/s\033[K", bar,
                (int)(f * 100), m->n_msgs, rate);
    } else {
        fprintf(stderr, "\r%" PRIu64 " events  %.0f events/s\033[K", m->n_msgs, rate);
    }
    m->bar_shown = true;
}

/* Rejections are collected per batch (the converter's as lines are read, the collector's when
 * the batch is decoded) and printed in line order when the batch is done. */
static void report(imp *m, uint64_t line_no, long sub, const char *reason, const char *detail)
{
    m->n_rejected++;
    if (m->n_printed + m->n_pending >= MAX_MESSAGES) {
        m->suppressed = true;
        return;
    }
    pending_msg *p = &m->pending[m->n_pending++];
    p->line_no = line_no;
    p->sub = sub;
    snprintf(p->reason, sizeof p->reason, "%s", reason);
    snprintf(p->detail, sizeof p->detail, "%s", detail ? detail : "");
}

static int pending_cmp(const void *a, const void *b)
{
    const pending_msg *x = a, *y = b;
    if (x->line_no != y->line_no)
        return x->line_no < y->line_no ? -1 : 1;
    return x->sub < y->sub ? -1 : x->sub > y->sub;
}

static void report_flush(imp *m)
{
    if (m->n_pending)
        bar_clear(m);
    qsort(m->pending, m->n_pending, sizeof m->pending[0], pending_cmp);
    for (size_t i = 0; i < m->n_pending; i++) {
        const pending_msg *p = &m->pending[i];
        char where[48] = "";
        if (p->sub >= 0)
            snprintf(where, sizeof where, " (message %ld of the line)", p->sub + 1);
        fprintf(stderr, "%s:%" PRIu64 ": rejected: %s%s%s%s\n", m->path, p->line_no, p->reason,
                where, p->detail[0] ? ": " : "", p->detail);
    }
    m->n_printed += m->n_pending;
    m->n_pending = 0;
    if (m->suppressed && !m->told_suppressed) {
        bar_clear(m);
        fprintf(stderr, "footfall import: more rejected lines are counted but not shown\n");
        m->told_suppressed = true;
    }
}

/* Wait (bounded) until the consumer thread has read everything durable, then stop it; the
 * caller's own polls below pick up anything left. */
static ff_rc store_drain(imp *m)
{
    for (int i = 0; i < 120000; i++) { /* 10 min at 5 ms */
        ff_store_stats st;
        ff_store_stats_get(m->store, &st);
        if (st.failed || st.lag == 0)
            break;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return ff_store_stop(m->store, &m->err);
}

static ff_rc store_catch_up(imp *m)
{
    for (int i = 0; i < 1000000; i++) {
        uint64_t n = 0;
        ff_rc rc = ff_store_poll(m->store, 0, &n, &m->err);
        if (rc || n == 0)
            return rc;
    }
    return FF_OK;
}

/* Settle one decoded request whose events are lines[lo..hi). */
static ff_rc settle(imp *m, size_t lo, size_t hi)
{
    ff_collect_out *o = &m->out;
    if (o->n_records) {
        ff_rc rc =
            ff_evlog_append(m->log, o->payload.data, o->payload.len, o->n_records, NULL, &m->err);
        if (rc) {
            ff_collect_finish(m->col, o, false);
            return rc;
        }
    }
    ff_collect_finish(m->col, o, true);
    m->n_imported += o->n_records;
    m->n_duplicates += o->n_duplicates;
    m->n_dropped += o->n_dropped;
    if (o->n_rejected) {
        ff_json *root = NULL;
        ff_arena_reset(&m->dec_arena);
        if (ff_json_parse(o->rejected.data, o->rejected.len, NULL, &m->dec_arena, &root, NULL) !=
                FF_OK ||
            root->type != FF_JSON_ARRAY) {
            m->n_rejected += o->n_rejected;
            return FF_OK;
        }
        uint32_t base = m->lines[lo].first_event;
        size_t k = lo; /* indices come mostly in order: walk on from the last line found */
        for (const ff_json *it = root->child; it; it = it->next) {
            int64_t i = -1;
            const ff_json *iv = ff_json_get(it, "i"), *rv = ff_json_get(it, "reason");
            if (!iv || !ff_json_as_i64(iv, &i) || i < 0)
                continue;
            uint32_t ev = base + (uint32_t)i;
            if (ev < m->lines[k].first_event)
                k = lo;
            while (k + 1 < hi && m->lines[k + 1].first_event <= ev)
                k++;
            const line_ref *l = &m->lines[k];
            report(m, l->line_no, l->n_events > 1 ? (long)(ev - l->first_event) : -1,
                   rv && rv->type == FF_JSON_STRING ? rv->str : "rejected", NULL);
        }
    }
    return FF_OK;
}

static ff_rc decode(imp *m, const char *body, size_t len)
{
    ff_collect_backfill bf = {m->aliases, m->n_aliases};
    ff_collect_req req = {
        .call = FF_CALL_BATCH,
        .content_type = "application/json",
        .body = body,
        .body_len = len,
        .received_at_ms = ff_clock_now_ms(),
        .backfill = &bf,
    };
    ff_arena_reset(&m->dec_arena);
    ff_rc rc = ff_collect_decode(m->col, &req, &m->dec_arena, &m->out);
    if (rc)
        FF_ERR_SET(&m->err, rc, "out of memory decoding a batch");
    return rc;
}

static void batch_reset(imp *m)
{
    ff_buf_reset(&m->body);
    ff_buf_adds(&m->body, BODY_HEAD);
    m->n_lines = 0;
    m->n_events = 0;
    ff_arena_reset(&m->arena);
    m->n_aliases = 0;
    for (size_t i = 0; m->map && i < m->map->n_aliases && i < MAX_ALIASES; i++)
        m->aliases[m->n_aliases++] = m->map->aliases[i];
}

static ff_rc flush(imp *m)
{
    if (m->n_lines == 0) {
        batch_reset(m);
        return FF_OK;
    }
    m->body.data[m->body.len - 1] = ']'; /* the last message's ',' */
    ff_rc rc = ff_buf_addc(&m->body, '}');
    if (!rc)
        rc = decode(m, m->body.data, m->body.len);
    if (rc)
        return rc;
    if (m->out.status == 0) {
        rc = settle(m, 0, m->n_lines);
    } else {
        /* The request as a whole failed (a limit): decode line by line to say which. */
        ff_collect_finish(m->col, &m->out, false);
        for (size_t k = 0; k < m->n_lines && !rc; k++) {
            line_ref *l = &m->lines[k];
            ff_buf_reset(&m->tmp);
            ff_buf_adds(&m->tmp, BODY_HEAD);
            ff_buf_add(&m->tmp, m->body.data + l->begin, l->end - l->begin - 1);
            rc = ff_buf_adds(&m->tmp, "]}");
            if (!rc)
                rc = decode(m, m->tmp.data, m->tmp.len);
            if (rc)
                break;
            if (m->out.status) {
                ff_collect_finish(m->col, &m->out, false);
                m->n_rejected += l->n_events ? l->n_events - 1 : 0;
                report(m, l->line_no, -1, m->out.code, m->out.message);
                continue;
            }
            uint32_t keep = l->first_event;
            l->first_event = 0;
            rc = settle(m, k, k + 1);
            l->first_event = keep;
        }
    }
    batch_reset(m);
    report_flush(m);
    bar_draw(m, false);
    return rc;
}

/* The alias a line needs: true when it can join the batch as it is. */
static bool alias_fits(imp *m, const ff_collect_alias *a)
{
    for (size_t i = 0; i < m->n_aliases; i++)
        if (m->aliases[i].from_len == a->from_len &&
            !memcmp(m->aliases[i].from, a->from, a->from_len))
            return m->aliases[i].to_len == a->to_len && !memcmp(m->aliases[i].to, a->to, a->to_len);
    if (m->n_aliases == MAX_ALIASES)
        return false;
    m->aliases[m->n_aliases++] = *a;
    return true;
}

static ff_rc do_line(imp *m, const char *line, size_t len, uint64_t line_no)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t mark = m->body.len;
        ff_import_line_out res;
        ff_rc rc = ff_import_line(m->fmt, m->map, line, len, line_no, &m->arena, &m->body, &res);
        if (rc)
            return FF_ERR_SET(&m->err, rc, "out of memory converting line %" PRIu64, line_no);
        if (res.skipped && !res.reason && res.n_events == 0)
            return FF_OK;
        if (attempt == 0)
            m->n_read++;
        if (res.reason) {
            report(m, line_no, -1, res.reason, res.detail);
            return FF_OK;
        }
        if (res.alias.from_len && !alias_fits(m, &res.alias)) {
            if (attempt == 1) { /* cannot happen: a fresh batch takes any one alias */
                m->body.len = mark;
                report(m, line_no, -1, "invalid_event", "event_original conflicts");
                return FF_OK;
            }
            m->body.len = mark;
            rc = flush(m); /* the DOM behind res is gone after this: convert again */
            if (rc)
                return rc;
            continue;
        }
        if (m->n_lines == m->cap_lines) {
            size_t nc = m->cap_lines ? m->cap_lines * 2 : 1024;
            line_ref *nl = ff_realloc(m->lines, nc * sizeof *nl);
            if (!nl)
                return FF_ERR_SET(&m->err, FF_ENOMEM, "out of memory");
            m->lines = nl;
            m->cap_lines = nc;
        }
        m->lines[m->n_lines++] = (line_ref){line_no, mark, m->body.len, m->n_events, res.n_events};
        m->n_events += res.n_events;
        m->n_msgs += res.n_events;
        if (m->n_events >= BATCH_EVENTS || m->body.len >= BATCH_BYTES)
            return flush(m);
        return FF_OK;
    }
    return FF_OK;
}

/* Read fd line by line; lines longer than FF_IMPORT_MAX_LINE_BYTES are rejected. */
static ff_rc read_all(imp *m, int fd, int *usage_error)
{
    char *buf = ff_malloc(READ_BYTES);
    if (!buf)
        return FF_ERR_SET(&m->err, FF_ENOMEM, "out of memory");
    size_t have = 0;
    uint64_t line_no = 1;
    bool skipping = false, first = true;
    ff_rc rc = FF_OK;
    for (;;) {
        ssize_t n = read(fd, buf + have, READ_BYTES - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = FF_ERR_SYS(&m->err, FF_EIO, "cannot read %s", m->path);
            break;
        }
        bool eof = n == 0;
        have += (size_t)n;
        size_t start = 0;
        for (;;) {
            char *nl = memchr(buf + start, '\n', have - start);
            if (!nl && !(eof && start < have))
                break;
            size_t end = nl ? (size_t)(nl - buf) : have;
            if (first) {
                char msg[200];
                first = false;
                if (ff_import_wrong_input(m->map, buf + start, end - start, msg, sizeof msg)) {
                    fprintf(stderr, "footfall import: %s: %s\n", m->path, msg);
                    *usage_error = 1;
                    ff_free(buf);
                    return FF_EINVAL;
                }
            }
            if (!skipping)
                rc = do_line(m, buf + start, end - start, line_no);
            skipping = false;
            line_no++;
            size_t next = nl ? end + 1 : have;
            m->done_bytes += next - start;
            start = next;
            if (rc)
                break;
        }
        if (rc)
            break;
        memmove(buf, buf + start, have - start);
        have -= start;
        if (eof)
            break;
        if (have == READ_BYTES) { /* a line longer than the buffer */
            if (!skipping) {
                m->n_read++;
                first = false;
                report(m, line_no, -1, "event_too_large", "line longer than 1 MiB");
            }
            skipping = true;
            m->done_bytes += have;
            have = 0;
        }
    }
    ff_free(buf);
    return rc;
}

static void summary(imp *m)
{
    report_flush(m);
    bar_draw(m, true);
    bar_clear(m);
    double secs = (double)(ff_clock_mono_ns() - m->t0_ns) / 1e9;
    printf("imported %s: read %" PRIu64 " lines, %" PRIu64 " events: imported %" PRIu64
           ", rejected %" PRIu64 ", duplicates %" PRIu64 ", dropped %" PRIu64
           " in %.2f s (%.0f events/s)\n",
           m->path, m->n_read, m->n_msgs, m->n_imported, m->n_rejected, m->n_duplicates,
           m->n_dropped, secs, secs > 0 ? (double)m->n_msgs / secs : 0.0);
    fflush(stdout);
}

/* Refill the collector's dedupe window from the newest records of the log (as the server
 * does at start), so a re-import within the window is recognised. */
static void seed_dedupe(imp *m, uint64_t capacity)
{
    ff_evlog_stats st;
    ff_evlog_stats_get(m->log, &st);
    uint64_t from = st.next_offset > capacity ? st.next_offset - capacity : 0;
    ff_evlog_cursor *cur;
    if (ff_evlog_cursor_open(m->log, from, &cur, NULL) != FF_OK)
        return;
    uint64_t off;
    const void *rec;
    size_t len;
    while (ff_evlog_cursor_next(cur, &off, &rec, &len, NULL) == FF_OK)
        ff_collect_seed_dedupe(m->col, rec, len);
    ff_evlog_cursor_close(cur);
}

static int locked_message(const ff_config *cfg, const ff_err *err)
{
    fprintf(stderr,
            "footfall import: the data folder %s is in use by a running footfall server (%s).\n"
            "Stop the server and run the import again, or send the events to the server over "
            "HTTP (POST /v1/batch).\n",
            cfg->data, err->msg);
    return EXIT_STOPPED;
}

int ff_cmd_import(int argc, char **argv)
{
    const char *usage =
        "footfall import [--data DIR] [--format ndjson|segment|csv] [--map taobao|apache] "
        "[--keep-bots] [--progress] FILE";
    ff_config cfg;
    int code, n_pos;
    const char *pos[1];
    if (!ff_cli_load(&cfg, FF_CMD_IMPORT, usage, argc, argv, pos, 1, &n_pos, &code))
        return code;
    if (n_pos != 1) {
        fprintf(stderr, "Usage: %s\n", usage);
        return EXIT_USAGE;
    }
    imp m;
    memset(&m, 0, sizeof m);
    m.path = pos[0];
    if (cfg.map[0]) {
        m.map = ff_import_map_find(cfg.map);
        if (!m.map) {
            fprintf(stderr, "footfall import: unknown map '%s' (maps: %s)\n", cfg.map,
                    ff_import_map_names());
            return EXIT_USAGE;
        }
    }
    static const ff_import_format fmts[] = {FF_IMPORT_NDJSON, FF_IMPORT_NDJSON, FF_IMPORT_SEGMENT,
                                            FF_IMPORT_CSV};
    if (cfg.import_format == 0)
        m.fmt = m.map ? m.map->format : FF_IMPORT_NDJSON;
    else
        m.fmt = fmts[cfg.import_format > 3 ? 0 : cfg.import_format];
    if (m.map && m.fmt != m.map->format) {
        fprintf(stderr, "footfall import: --map %s reads %s, not --format %s\n", m.map->name,
                ff_import_format_name(m.map->format), ff_import_format_name(m.fmt));
        return EXIT_USAGE;
    }
    if (m.fmt == FF_IMPORT_CSV && !m.map) {
        fprintf(stderr, "footfall import: --format csv needs --map NAME (maps: %s)\n",
                ff_import_map_names());
        return EXIT_USAGE;
    }
    int fd = strcmp(m.path, "-") == 0 ? 0 : open(m.path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "footfall import: cannot open %s: %s\n", m.path, strerror(errno));
        return EXIT_USAGE;
    }
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
        m.file_bytes = (uint64_t)sb.st_size;
    m.progress = cfg.progress || isatty(2);
    if (m.map && m.file_bytes) { /* a wrong input is a usage error: say so before creating DIR */
        char head[4096], msg[200];
        ssize_t n = pread(fd, head, sizeof head, 0);
        const char *nl = n > 0 ? memchr(head, '\n', (size_t)n) : NULL;
        if (n > 0 && ff_import_wrong_input(m.map, head, nl ? (size_t)(nl - head) : (size_t)n, msg,
                                           sizeof msg)) {
            fprintf(stderr, "footfall import: %s: %s\n", m.path, msg);
            close(fd);
            return EXIT_USAGE;
        }
    }

    int ret = 0;
    ff_rc rc;
    char dir[1100];
    if (mkdir(cfg.data, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "footfall import: cannot create data folder %s: %s\n", cfg.data,
                strerror(errno));
        ret = EXIT_STOPPED;
        goto out;
    }
    snprintf(dir, sizeof dir, "%s/log", cfg.data);
    ff_evlog_opts lo = {
        .dir = dir,
        .segment_bytes = cfg.segment_mb << 20,
        /* Background fsync instead of one per batch: the command reports success only after
         * everything is durable (ff_evlog_wait below), and an import cut short by a crash is
         * re-run (the derived ids make that idempotent). */
        .sync = FF_EVLOG_SYNC_INTERVAL,
        .sync_interval_ms = 100,
    };
    rc = ff_evlog_open(&lo, &m.log, &m.err);
    if (rc) {
        ret = rc == FF_ELOCKED ? locked_message(&cfg, &m.err) : EXIT_STOPPED;
        if (rc != FF_ELOCKED)
            fprintf(stderr, "footfall import: %s\n", m.err.msg);
        goto out;
    }
    snprintf(dir, sizeof dir, "%s/store", cfg.data);
    ff_store_opts so = {
        .dir = dir,
        .log = m.log,
        .dedupe_window_ms = (int64_t)cfg.dedupe_hours * 3600 * 1000,
    };
    rc = ff_store_open(&so, &m.store, &m.err);
    if (rc) {
        ret = rc == FF_ELOCKED ? locked_message(&cfg, &m.err) : EXIT_STOPPED;
        if (rc != FF_ELOCKED)
            fprintf(stderr, "footfall import: %s\n", m.err.msg);
        goto out;
    }
    ff_collect_opts co;
    ff_collect_opts_default(&co);
    co.max_body_bytes = 16u << 20;
    co.max_batch_bytes = 16u << 20;
    co.max_batch_events = 100000;
    co.max_event_bytes = (size_t)cfg.max_event_kb * 1024;
    if (co.max_event_bytes > co.max_body_bytes)
        co.max_event_bytes = co.max_body_bytes;
    co.ip_mode = cfg.ip_mode == FF_IPOPT_DROP ? FF_COLLECT_IP_DROP : FF_COLLECT_IP_TRUNCATE;
    co.dedupe_window_ms = (int64_t)cfg.dedupe_hours * 3600 * 1000; /* as the server: 0 = default */
    /* The window must hold the log's recent ids (seeded below) and this file's; sized to
     * that rather than the server's default, since the table is allocated up front and
     * touching 2 M slots costs more than importing a small file. Lines are taken to be at
     * least 8 bytes; if more ids come, the oldest are evicted and the store's own dedupe
     * is the backstop, as for the server. */
    {
        ff_evlog_stats lst;
        ff_evlog_stats_get(m.log, &lst);
        uint64_t want = lst.next_offset - lst.first_offset + 1000;
        want += m.file_bytes ? m.file_bytes / 8 : cfg.dedupe_capacity;
        co.dedupe_capacity = (uint32_t)(want < cfg.dedupe_capacity ? want : cfg.dedupe_capacity);
    }
    co.keep_bots = cfg.keep_bots;
    rc = ff_collect_new(&co, &m.col, &m.err);
    if (rc) {
        fprintf(stderr, "footfall import: %s\n", m.err.msg);
        ret = EXIT_STOPPED;
        goto out;
    }
    seed_dedupe(&m, cfg.dedupe_capacity);
    ff_arena_init(&m.arena, 256 * 1024, (size_t)256 << 20);
    ff_arena_init(&m.dec_arena, 1 << 20, (size_t)512 << 20);
    ff_buf_init(&m.body, 64u << 20);
    ff_buf_init(&m.tmp, 64u << 20);
    ff_collect_out_init(&m.out);
    batch_reset(&m);
    m.t0_ns = ff_clock_mono_ns();
    int usage_error = 0;
    /* The store consumer runs beside the reader (the second core), as in the server. */
    rc = ff_store_start(m.store, &m.err);
    if (!rc)
        rc = read_all(&m, fd, &usage_error);
    if (!rc)
        rc = flush(&m);
    if (!rc) { /* everything appended is durable before the consumer is asked to catch up */
        ff_evlog_stats lst;
        ff_evlog_stats_get(m.log, &lst);
        ff_rc wrc = lst.next_offset > 0 ? ff_evlog_wait(m.log, lst.next_offset - 1, 600000) : FF_OK;
        if (wrc)
            rc = FF_ERR_SET(&m.err, FF_EIO, "%s",
                            wrc == FF_EAGAIN ? "the event log did not sync within 10 minutes"
                                             : "the event log failed (see `footfall log verify`)");
    }
    ff_rc src = store_drain(&m);
    if (!rc)
        rc = src;
    if (!rc)
        rc = store_catch_up(&m);
    if (!rc)
        rc = ff_store_flush(m.store, &m.err);
    if (usage_error) {
        ret = EXIT_USAGE;
    } else {
        ff_store_stats st;
        ff_store_stats_get(m.store, &st);
        /* rows the store dropped as duplicates (past the collector's window) */
        if (st.duplicates <= m.n_imported) {
            m.n_imported -= st.duplicates;
            m.n_duplicates += st.duplicates;
        }
        summary(&m);
        if (rc) {
            fprintf(stderr, "footfall import: stopped: %s\n", m.err.msg);
            ret = EXIT_STOPPED;
        } else {
            ret = m.n_rejected ? EXIT_REJECTED : 0;
        }
    }
    ff_collect_out_fini(m.col, &m.out);
    ff_buf_fini(&m.body);
    ff_buf_fini(&m.tmp);
    ff_arena_fini(&m.arena);
    ff_arena_fini(&m.dec_arena);
    ff_free(m.lines);
out:
    if (fd > 0)
        close(fd);
    ff_store_close(m.store);
    ff_collect_free(m.col);
    ff_evlog_close(m.log);
    return ret;
}
