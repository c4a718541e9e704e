/* ff_options.c -- the option table and its loader. See ff_options.h. */
#include "config/ff_options.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum opt_type { T_STR, T_U64, T_DBL, T_ENUM, T_BOOL, T_LIST } opt_type;

typedef struct opt {
    const char *name; /* flag --name, env FOOTFALL_NAME, file key name */
    opt_type type;
    size_t off;
    size_t size; /* T_STR buffer size */
    const char *def;
    double min, max;
    const char *const *choices; /* T_ENUM, NULL-terminated */
    unsigned cmds;
    const char *help;
} opt;

#define OFF(f) offsetof(ff_config, f)
#define SZ(f) sizeof(((ff_config *)0)->f)

static const char *const fsync_names[] = {"batch", "interval", NULL};
static const char *const ip_names[] = {"truncate", "drop", NULL};
static const char *const kind_names[] = {"write", "read", "admin", NULL};
static const char *const format_names[] = {"table", "json", "csv", NULL};
static const char *const import_format_names[] = {"auto", "ndjson", "segment", "csv", NULL};
static const char *const webhook_format_names[] = {"json", "slack", NULL};
static const char *const on_off_names[] = {"on", "off", NULL};

enum {
    SRV = FF_CMD_SERVE | FF_CMD_DEMO,
    DATA = FF_CMD_SERVE | FF_CMD_DEMO | FF_CMD_KEYS | FF_CMD_LOG | FF_CMD_STORE | FF_CMD_QUERY |
           FF_CMD_IMPORT,
    ALL = 0x1ffu,
};

static const opt table[] = {
    {"config", T_STR, OFF(config), SZ(config), "", 0, 0, NULL, ALL & ~FF_CMD_CONFIG,
     "Config file of `name = value` lines (same names as the flags)."},
    {"data", T_STR, OFF(data), SZ(data), "./footfall-data", 0, 0, NULL, DATA | FF_CMD_CONFIG,
     "Data folder: event log, keys."},
    {"listen", T_STR, OFF(listen), SZ(listen), "127.0.0.1:8080", 0, 0, NULL, SRV | FF_CMD_CONFIG,
     "HOST:PORT to listen on; port 0 picks a free one (printed at start)."},
    {"log-level", T_STR, OFF(log_level), SZ(log_level), "info", 0, 0, NULL, ALL,
     "error, warn, info, debug or trace."},
    {"fsync", T_ENUM, OFF(fsync), 0, "batch", 0, 0, fsync_names, SRV | FF_CMD_CONFIG,
     "batch: a 200 means the batch was fsynced (group commit). interval: fsync in the "
     "background every --fsync-interval-ms; a power cut may lose that much acknowledged data."},
    {"fsync-interval-ms", T_U64, OFF(fsync_interval_ms), 0, "200", 1, 60000, NULL,
     SRV | FF_CMD_CONFIG, "Background fsync period for --fsync interval."},
    {"segment-mb", T_U64, OFF(segment_mb), 0, "128", 1, 4096, NULL, SRV | FF_CMD_CONFIG,
     "Event log segment size."},
    {"retain-mb", T_U64, OFF(retain_mb), 0, "0", 0, 1e9, NULL, SRV | FF_CMD_CONFIG,
     "Delete the oldest log segments beyond this total size, but never one holding events the "
     "store has not sealed yet (docs/operations.md, Retention); 0 keeps everything."},
    {"retain-hours", T_U64, OFF(retain_hours), 0, "0", 0, 1e7, NULL, SRV | FF_CMD_CONFIG,
     "Delete log segments older than this, but never one holding events the store has not "
     "sealed yet; 0 keeps everything."},
    {"ip-mode", T_ENUM, OFF(ip_mode), 0, "truncate", 0, 0, ip_names,
     SRV | FF_CMD_IMPORT | FF_CMD_CONFIG,
     "How client IPs are stored: truncate (IPv4 /24, IPv6 /48) or drop. Never raw."},
    {"max-body-kb", T_U64, OFF(max_body_kb), 0, "1024", 1, 1048576, NULL, SRV | FF_CMD_CONFIG,
     "Largest request body, before and after gzip decompression (413 beyond)."},
    {"max-batch-kb", T_U64, OFF(max_batch_kb), 0, "500", 1, 1048576, NULL, SRV | FF_CMD_CONFIG,
     "Largest batch (decompressed JSON) (413 beyond)."},
    {"max-event-kb", T_U64, OFF(max_event_kb), 0, "32", 1, 1048576, NULL,
     SRV | FF_CMD_IMPORT | FF_CMD_CONFIG,
     "Largest single event; bigger ones are rejected with event_too_large."},
    {"max-batch-events", T_U64, OFF(max_batch_events), 0, "500", 1, 100000, NULL,
     SRV | FF_CMD_CONFIG, "Most events in one batch (413 too_many_events beyond)."},
    {"max-connections", T_U64, OFF(max_connections), 0, "512", 1, 65536, NULL, SRV | FF_CMD_CONFIG,
     "Concurrent connections (one thread each)."},
    {"header-timeout-s", T_U64, OFF(header_timeout_s), 0, "10", 1, 3600, NULL, SRV | FF_CMD_CONFIG,
     "Idle connections and stalled requests are closed after this."},
    {"body-timeout-s", T_U64, OFF(body_timeout_s), 0, "30", 1, 3600, NULL, SRV | FF_CMD_CONFIG,
     "A request body must arrive completely within this."},
    {"rate-limit", T_U64, OFF(rate_limit), 0, "0", 0, 1e9, NULL, SRV | FF_CMD_CONFIG,
     "Ingest requests per second per client IP (429 + Retry-After beyond); 0 = no limit."},
    {"ingest-max-lag", T_U64, OFF(ingest_max_lag), 0, "10000", 0, 1e9, NULL, SRV | FF_CMD_CONFIG,
     "Answer ingest with 503 + Retry-After while the columnar store has more than this many "
     "logged events left to read, so accepted events stay queryable within about a second "
     "(back-pressure); 0 = never."},
    {"cors-origins", T_STR, OFF(cors_origins), SZ(cors_origins), "*", 0, 0, NULL,
     SRV | FF_CMD_CONFIG, "Comma-separated origins allowed to send from browsers; * = any."},
    {"dedupe-hours", T_U64, OFF(dedupe_hours), 0, "24", 0, 720, NULL,
     SRV | FF_CMD_IMPORT | FF_CMD_CONFIG,
     "Window in which a repeated event id is recognised and not stored twice."},
    {"dedupe-capacity", T_U64, OFF(dedupe_capacity), 0, "2000000", 1000, 1e9, NULL,
     SRV | FF_CMD_IMPORT | FF_CMD_CONFIG,
     "Most event ids remembered for dedupe (oldest forgotten first)."},
    {"store-keep-days", T_U64, OFF(store_keep_days), 0, "0", 0, 100000, NULL, SRV | FF_CMD_CONFIG,
     "Drop whole days of the columnar store older than this; 0 keeps everything."},
    {"store-seal-ms", T_U64, OFF(store_seal_ms), 0, "250", 10, 60000, NULL, SRV | FF_CMD_CONFIG,
     "Events consumed from the log are sealed into a queryable part this often."},
    {"store-merge-fanin", T_U64, OFF(store_merge_fanin), 0, "8", 2, 64, NULL, SRV | FF_CMD_CONFIG,
     "Merge a day's parts of one level once there are more than this."},
    {"watermark-ms", T_U64, OFF(watermark_ms), 0, "30000", 0, 3600000, NULL, SRV | FF_CMD_CONFIG,
     "Live metrics: bounded out-of-orderness; the event-time watermark trails the newest event "
     "time by this much."},
    {"lateness-ms", T_U64, OFF(lateness_ms), 0, "300000", 0, 1800000, NULL, SRV | FF_CMD_CONFIG,
     "Live metrics: events up to this far behind the watermark still update their windows; "
     "later ones are only counted (they are stored all the same)."},
    {"session-gap-min", T_U64, OFF(session_gap_min), 0, "30", 1, 1440, NULL, SRV | FF_CMD_CONFIG,
     "A session ends after this many minutes (event time) without events."},
    {"abandon-min", T_U64, OFF(abandon_min), 0, "30", 1, 10080, NULL, SRV | FF_CMD_CONFIG,
     "A cart with items (or a started checkout) with no checkout (or order) for this many "
     "minutes, or whose session ends, gives a cart_abandoned (checkout_abandoned) event."},
    {"stream-checkpoint-ms", T_U64, OFF(stream_checkpoint_ms), 0, "5000", 100, 600000, NULL,
     SRV | FF_CMD_CONFIG,
     "The live state is checkpointed (DATA/stream/CHECKPOINT) this often; a crash redoes at "
     "most this much of the log."},
    {"stream-derived", T_BOOL, OFF(stream_derived), 0, "true", 0, 0, NULL, SRV | FF_CMD_CONFIG,
     "Write the live processor's session_ended, cart_abandoned and checkout_abandoned events "
     "into the log (stored and queryable, flag `derived`); false keeps them out of the store "
     "(the live view still counts them)."},
    {"webhook", T_LIST, OFF(webhook), SZ(webhook), "", 0, 0, NULL, SRV | FF_CMD_CONFIG,
     "Alert webhook URL (repeatable). Each firing/resolved alert is POSTed as JSON; a URL "
     "prefixed `slack+` (slack+https://hooks.slack.com/...) gets Slack's {\"text\": ...}."},
    {"webhook-format", T_ENUM, OFF(webhook_format), 0, "json", 0, 0, webhook_format_names,
     SRV | FF_CMD_CONFIG, "Body of every webhook: json ({\"alert\": {...}}) or slack."},
    {"webhook-attempts", T_U64, OFF(webhook_attempts), 0, "6", 1, 100, NULL, SRV | FF_CMD_CONFIG,
     "Tries per webhook delivery before it goes to DATA/alerts/dead-letter.ndjson."},
    {"webhook-backoff-ms", T_U64, OFF(webhook_backoff_ms), 0, "1000", 1, 3600000, NULL,
     SRV | FF_CMD_CONFIG,
     "First retry delay; doubles per try (capped at 5 min), with 50-100% random jitter."},
    {"webhook-timeout-s", T_U64, OFF(webhook_timeout_s), 0, "10", 1, 600, NULL, SRV | FF_CMD_CONFIG,
     "One webhook request must complete within this."},
    {"alert-cooldown-s", T_U64, OFF(alert_cooldown_s), 0, "900", 0, 604800, NULL,
     SRV | FF_CMD_CONFIG,
     "An alert that fires again this soon (event time) after resolving re-opens the same "
     "incident without a new notification."},
    {"alert-history", T_U64, OFF(alert_history), 0, "1000", 1, 1000000, NULL, SRV | FF_CMD_CONFIG,
     "Resolved alerts kept (DATA/alerts/alerts.json, GET /v1/alerts)."},
    {"rule", T_LIST, OFF(rule), SZ(rule), "", 0, 0, NULL, SRV | FF_CMD_CONFIG,
     "Alert rule `NAME: SPEC` (repeatable), e.g. `bulk_buyer: event=product_added by=user_id "
     "max(quantity)>=50 window=1h`; `NAME: off` disables a default. Syntax and the shipped "
     "defaults: docs/operations.md."},
    {"rule-defaults", T_ENUM, OFF(rule_defaults), 0, "on", 0, 0, on_off_names, SRV | FF_CMD_CONFIG,
     "Use the shipped default rules (besides the configured ones)."},
    {"rule-max-keys", T_U64, OFF(rule_max_keys), 0, "100000", 100, 1e8, NULL, SRV | FF_CMD_CONFIG,
     "Keys (users, IPs, devices...) the rules track at once; idle ones are evicted first."},
    {"anomaly-warmup-min", T_U64, OFF(anomaly_warmup_min), 0, "30", 2, 100000, NULL,
     SRV | FF_CMD_CONFIG, "Minutes of history before the anomaly detector may alert."},
    {"anomaly-threshold", T_DBL, OFF(anomaly_threshold), 0, "6", 1, 1000, NULL, SRV | FF_CMD_CONFIG,
     "Robust z-score beyond which a minute is anomalous."},
    {"anomaly-min-weight", T_DBL, OFF(anomaly_min_weight), 0, "20", 1, 1e9, NULL,
     SRV | FF_CMD_CONFIG,
     "A rate (payment failures per attempt, ...) is judged only over at least this many."},
    {"anomaly-alpha", T_DBL, OFF(anomaly_alpha), 0, "0.05", 0.001, 1, NULL, SRV | FF_CMD_CONFIG,
     "Weight of one minute in the baseline's moving averages."},
    {"kind", T_ENUM, OFF(kind), 0, "write", 0, 0, kind_names, FF_CMD_KEYS,
     "Key kind: write (ingest only), read (queries) or admin."},
    {"name", T_STR, OFF(name), SZ(name), "", 0, 0, NULL, FF_CMD_KEYS,
     "A label for the key, shown by `keys list`."},
    {"id", T_STR, OFF(key_id), SZ(key_id), "", 0, 0, NULL, FF_CMD_KEYS,
     "Key id (as shown by `keys list`) for `keys revoke`."},
    {"format", T_ENUM, OFF(format), 0, "table", 0, 0, format_names, FF_CMD_QUERY,
     "Output: an aligned table, ClickHouse-style JSON (meta, data, rows, statistics) or CSV "
     "with a header line."},
    {"query-timeout-s", T_U64, OFF(query_timeout_s), 0, "30", 1, 86400, NULL,
     SRV | FF_CMD_QUERY | FF_CMD_CONFIG, "A query running longer than this stops with an error."},
    {"query-mem-mb", T_U64, OFF(query_mem_mb), 0, "1024", 16, 1048576, NULL,
     SRV | FF_CMD_QUERY | FF_CMD_CONFIG,
     "Memory one query may use; beyond it the query stops with an error."},
    {"from", T_U64, OFF(from), 0, "0", 0, 1.8e19, NULL, FF_CMD_LOG, "First log offset to print."},
    {"limit", T_U64, OFF(limit), 0, "0", 0, 1.8e19, NULL, FF_CMD_LOG,
     "Print at most this many records; 0 = all."},
    {"url", T_STR, OFF(url), SZ(url), "http://127.0.0.1:8080", 0, 0, NULL, FF_CMD_SIMULATE,
     "Footfall server to send to."},
    {"key", T_STR, OFF(key), SZ(key), "", 0, 0, NULL, FF_CMD_SIMULATE, "Write key."},
    {"rate", T_DBL, OFF(rate), 0, "200", 0.1, 1e7, NULL, FF_CMD_SIMULATE | FF_CMD_DEMO,
     "Simulated events per second."},
    {"duration", T_DBL, OFF(duration), 0, "0", 0, 1e7, NULL, FF_CMD_SIMULATE | FF_CMD_DEMO,
     "Seconds to run; 0 = until Ctrl-C."},
    {"seed", T_U64, OFF(seed), 0, "0", 0, 1.8e19, NULL, FF_CMD_SIMULATE | FF_CMD_DEMO,
     "Random seed: the same seed sends the same traffic (and the same message ids, which "
     "the collector then drops as duplicates); 0 picks one and prints it."},
    {"anomaly", T_STR, OFF(anomaly), SZ(anomaly), "", 0, 0, NULL, FF_CMD_SIMULATE | FF_CMD_DEMO,
     "Inject an incident: payment-failures (the failure rate jumps to 60% after --anomaly-start)."},
    {"anomaly-start", T_DBL, OFF(anomaly_start), 0, "60", 0, 1e9, NULL, FF_CMD_SIMULATE,
     "Seconds of event time after the start before --anomaly begins; 0 = at once."},
    {"time-scale", T_DBL, OFF(time_scale), 0, "1", 0.001, 1e6, NULL, FF_CMD_SIMULATE,
     "Replay clock: event times advance this many times faster than the wall clock (until "
     "they catch up with it; never in the future). With --start-ago, hours of history in "
     "minutes."},
    {"start-ago", T_DBL, OFF(start_ago), 0, "0", 0, 31622400, NULL, FF_CMD_SIMULATE,
     "Replay clock: the first event time is this many seconds in the past."},
    {"batch", T_U64, OFF(batch), 0, "100", 1, 500, NULL, FF_CMD_SIMULATE | FF_CMD_DEMO,
     "Events per request."},
    {"format", T_ENUM, OFF(import_format), 0, "auto", 0, 0, import_format_names, FF_CMD_IMPORT,
     "Input format: ndjson (one canonical event per line), segment (one Segment message or "
     "{\"batch\":[...]} per line) or csv (needs --map); auto = the map's format, else ndjson."},
    {"map", T_STR, OFF(map), SZ(map), "", 0, 0, NULL, FF_CMD_IMPORT,
     "Column map for a known data set: taobao (UserBehavior CSV) or apache (combined access "
     "log). Implies the format."},
    {"keep-bots", T_BOOL, OFF(keep_bots), 0, "false", 0, 0, NULL, FF_CMD_IMPORT,
     "Store events from bot user agents instead of dropping them (as the collector does)."},
    {"progress", T_BOOL, OFF(progress), 0, "false", 0, 0, NULL, FF_CMD_IMPORT,
     "Show the progress bar even when stderr is not a terminal."},
};

#define N_OPTS (sizeof table / sizeof table[0])

/* Two rows may share a name when their commands differ (--format of query and import): the
 * row of cmd wins, else the first row of that name. */
static const opt *find_opt(const char *name, size_t len, unsigned cmd)
{
    const opt *any = NULL;
    for (size_t i = 0; i < N_OPTS; i++)
        if (strlen(table[i].name) == len && strncmp(table[i].name, name, len) == 0) {
            if (table[i].cmds & cmd)
                return &table[i];
            if (!any)
                any = &table[i];
        }
    return any;
}

/* Which source (1 file, 2 environment, 3 flags) last set each repeatable option. */
typedef struct list_levels {
    unsigned char level[256];
} list_levels;

static ff_rc set_value(ff_config *cfg, const opt *o, const char *v, const char *source,
                       ff_err *err);

static ff_rc set_list(ff_config *cfg, const opt *o, const char *v, const char *source, int level,
                      list_levels *lv, ff_err *err);

static ff_rc set_value(ff_config *cfg, const opt *o, const char *v, const char *source, ff_err *err)
{
    char *base = (char *)cfg;
    switch (o->type) {
    case T_LIST:
        return set_list(cfg, o, v, source, 0, NULL, err);
    case T_STR: {
        size_t l = strlen(v);
        if (l >= o->size)
            return FF_ERR_SET(err, FF_EINVAL, "%s: value of %s is too long (max %zu bytes)", source,
                              o->name, o->size - 1);
        memcpy(base + o->off, v, l + 1);
        return FF_OK;
    }
    case T_U64: {
        errno = 0;
        char *end;
        if (!*v || *v == '-')
            goto bad_number;
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || *end)
            goto bad_number;
        if ((double)x < o->min || (double)x > o->max)
            return FF_ERR_SET(err, FF_EINVAL, "%s: %s must be between %.0f and %.0f, got %s",
                              source, o->name, o->min, o->max, v);
        *(uint64_t *)(base + o->off) = x;
        return FF_OK;
    }
    case T_DBL: {
        errno = 0;
        char *end;
        double x = strtod(v, &end);
        if (errno || *end || !*v || !isfinite(x))
            goto bad_number;
        if (x < o->min || x > o->max)
            return FF_ERR_SET(err, FF_EINVAL, "%s: %s must be between %g and %g, got %s", source,
                              o->name, o->min, o->max, v);
        *(double *)(base + o->off) = x;
        return FF_OK;
    }
    case T_ENUM:
        for (int i = 0; o->choices[i]; i++) {
            if (strcmp(o->choices[i], v) == 0) {
                *(uint64_t *)(base + o->off) = (uint64_t)i;
                return FF_OK;
            }
        }
        {
            char list[128] = "";
            for (int i = 0; o->choices[i]; i++) {
                strncat(list, i ? "|" : "", sizeof list - strlen(list) - 1);
                strncat(list, o->choices[i], sizeof list - strlen(list) - 1);
            }
            return FF_ERR_SET(err, FF_EINVAL, "%s: %s must be one of %s, got '%s'", source, o->name,
                              list, v);
        }
    case T_BOOL:
        if (!strcmp(v, "1") || !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on")) {
            *(bool *)(base + o->off) = true;
            return FF_OK;
        }
        if (!strcmp(v, "0") || !strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off")) {
            *(bool *)(base + o->off) = false;
            return FF_OK;
        }
        goto bad_number;
    }
    return FF_EINVAL;
bad_number:
    return FF_ERR_SET(err, FF_EINVAL, "%s: %s: '%s' is not a valid value", source, o->name, v);
}

/* A repeatable option: the first value from a new source replaces the list, later ones from
 * the same source are appended ('\n'-separated); an empty value clears it. */
static ff_rc set_list(ff_config *cfg, const opt *o, const char *v, const char *source, int level,
                      list_levels *lv, ff_err *err)
{
    char *buf = (char *)cfg + o->off;
    size_t idx = (size_t)(o - table);
    if (lv && idx < sizeof lv->level && lv->level[idx] != level) {
        lv->level[idx] = (unsigned char)level;
        buf[0] = 0;
    }
    if (!*v) {
        buf[0] = 0;
        return FF_OK;
    }
    size_t have = strlen(buf), l = strlen(v);
    if (have + (have ? 1 : 0) + l >= o->size)
        return FF_ERR_SET(err, FF_EINVAL, "%s: too many or too long values of %s (max %zu bytes)",
                          source, o->name, o->size - 1);
    if (have)
        buf[have++] = '\n';
    memcpy(buf + have, v, l + 1);
    return FF_OK;
}

bool ff_options_list_next(const char *list, size_t *pos, const char **item, size_t *len)
{
    size_t p = *pos;
    for (;;) {
        while (list[p] == '\n')
            p++;
        if (!list[p]) {
            *pos = p;
            return false;
        }
        size_t e = p;
        while (list[e] && list[e] != '\n')
            e++;
        size_t b = p, t = e;
        while (b < t && (list[b] == ' ' || list[b] == '\t'))
            b++;
        while (t > b && (list[t - 1] == ' ' || list[t - 1] == '\t' || list[t - 1] == '\r'))
            t--;
        p = e;
        if (t > b) {
            *item = list + b;
            *len = t - b;
            *pos = p;
            return true;
        }
    }
}

typedef struct ini_ctx {
    ff_config *cfg;
    unsigned cmd;
    const char *path;
    ff_err *err;
    ff_rc rc;
    list_levels *lv;
} ini_ctx;

static int on_ini_line(void *user, const char *section, const char *name, const char *value)
{
    (void)section;
    ini_ctx *c = user;
    if (c->rc)
        return 0;
    char n[64];
    size_t l = strlen(name);
    if (l >= sizeof n) {
        c->rc = FF_ERR_SET(c->err, FF_EINVAL, "%s: unknown option '%s'", c->path, name);
        return 0;
    }
    for (size_t i = 0; i <= l; i++)
        n[i] = name[i] == '_' ? '-' : name[i];
    const opt *o = find_opt(n, l, c->cmd);
    if (!o) {
        c->rc = FF_ERR_SET(c->err, FF_EINVAL, "%s: unknown option '%s'", c->path, name);
        return 0;
    }
    if (!(o->cmds & c->cmd))
        return 1; /* a shared file may hold options of other commands */
    c->rc = o->type == T_LIST ? set_list(c->cfg, o, value, c->path, 1, c->lv, c->err)
                              : set_value(c->cfg, o, value, c->path, c->err);
    return c->rc ? 0 : 1;
}

static void env_name(const opt *o, char *buf, size_t n)
{
    snprintf(buf, n, "FOOTFALL_%s", o->name);
    for (char *p = buf; *p; p++)
        *p = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
}

ff_rc ff_options_load(ff_config *cfg, unsigned cmd, int argc, char **argv, const char **pos,
                      int max_pos, int *n_pos, ff_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    *n_pos = 0;
    list_levels lv;
    memset(&lv, 0, sizeof lv);
    for (size_t i = 0; i < N_OPTS; i++) {
        ff_rc rc = set_value(cfg, &table[i], table[i].def, "default", err);
        if (rc)
            return rc;
    }
    /* The config file's path can come from the environment or the flags. */
    const char *cfile = getenv("FOOTFALL_CONFIG");
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc)
            cfile = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            cfile = argv[i] + 9;
    }
    if (cfile && *cfile) {
        ini_ctx c = {cfg, cmd, cfile, err, FF_OK, &lv};
        int r = ini_parse(cfile, on_ini_line, &c);
        if (c.rc)
            return c.rc;
        if (r < 0)
            return FF_ERR_SYS(err, FF_EINVAL, "cannot read config file %s", cfile);
        if (r > 0)
            return FF_ERR_SET(err, FF_EINVAL, "%s:%d: not a `name = value` line", cfile, r);
        snprintf(cfg->config, sizeof cfg->config, "%s", cfile);
    }
    for (size_t i = 0; i < N_OPTS; i++) {
        if (!(table[i].cmds & cmd))
            continue;
        char en[96];
        env_name(&table[i], en, sizeof en);
        const char *v = getenv(en);
        if (v) {
            ff_rc rc = table[i].type == T_LIST ? set_list(cfg, &table[i], v, en, 2, &lv, err)
                                               : set_value(cfg, &table[i], v, en, err);
            if (rc)
                return rc;
        }
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            cfg->help = true;
            continue;
        }
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (*n_pos >= max_pos)
                return FF_ERR_SET(err, FF_EINVAL, "unexpected argument '%s'", a);
            pos[(*n_pos)++] = a;
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nl = eq ? (size_t)(eq - name) : strlen(name);
        const opt *o = find_opt(name, nl, cmd);
        if (!o || !(o->cmds & cmd))
            return FF_ERR_SET(err, FF_EINVAL, "unknown option '--%.*s' (see --help)", (int)nl,
                              name);
        const char *v;
        if (eq) {
            v = eq + 1;
        } else if (o->type == T_BOOL) {
            v = "true"; /* a bare --flag */
        } else {
            if (i + 1 >= argc)
                return FF_ERR_SET(err, FF_EINVAL, "option --%s needs a value", o->name);
            v = argv[++i];
        }
        char src[96];
        snprintf(src, sizeof src, "--%s", o->name);
        ff_rc rc = o->type == T_LIST ? set_list(cfg, o, v, src, 3, &lv, err)
                                     : set_value(cfg, o, v, src, err);
        if (rc)
            return rc;
    }
    return FF_OK;
}

static void value_text(const ff_config *cfg, const opt *o, char *buf, size_t n)
{
    const char *base = (const char *)cfg;
    switch (o->type) {
    case T_STR:
    case T_LIST:
        snprintf(buf, n, "%s", base + o->off);
        break;
    case T_U64:
        snprintf(buf, n, "%llu", (unsigned long long)*(const uint64_t *)(base + o->off));
        break;
    case T_DBL:
        snprintf(buf, n, "%g", *(const double *)(base + o->off));
        break;
    case T_ENUM:
        snprintf(buf, n, "%s", o->choices[*(const uint64_t *)(base + o->off)]);
        break;
    case T_BOOL:
        snprintf(buf, n, "%s", *(const bool *)(base + o->off) ? "true" : "false");
        break;
    }
}

static const char *type_hint(const opt *o)
{
    switch (o->type) {
    case T_STR:
        return "TEXT";
    case T_LIST:
        return "TEXT...";
    case T_U64:
        return "N";
    case T_DBL:
        return "X";
    case T_ENUM:
        return "CHOICE";
    case T_BOOL:
        return "BOOL";
    }
    return "";
}

void ff_options_help(FILE *out, unsigned cmd)
{
    fprintf(out, "Options (also FOOTFALL_<NAME> variables and `name = value` in --config):\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        const opt *o = &table[i];
        if (!(o->cmds & cmd))
            continue;
        char flag[64];
        snprintf(flag, sizeof flag, "--%s%s%s", o->name, o->type == T_BOOL ? "" : " ",
                 o->type == T_BOOL ? "" : type_hint(o)); /* a bool is a bare flag */
        fprintf(out, "  %-28s %s", flag, o->help);
        if (o->type == T_ENUM) {
            fprintf(out, " [");
            for (int k = 0; o->choices[k]; k++)
                fprintf(out, "%s%s", k ? "|" : "", o->choices[k]);
            fprintf(out, "]");
        }
        if (o->def[0])
            fprintf(out, " (default: %s)", o->def);
        fputc('\n', out);
    }
    fprintf(out, "  %-28s %s\n", "--help", "Show this help.");
}

void ff_options_dump(FILE *out, const ff_config *cfg, unsigned cmd)
{
    for (size_t i = 0; i < N_OPTS; i++) {
        if (!(table[i].cmds & cmd))
            continue;
        if (table[i].type == T_LIST) { /* one line per item: the file syntax */
            const char *list = (const char *)cfg + table[i].off, *it;
            size_t pos = 0, il;
            while (ff_options_list_next(list, &pos, &it, &il))
                fprintf(out, "%s = %.*s\n", table[i].name, (int)il, it);
            continue;
        }
        char v[1100];
        value_text(cfg, &table[i], v, sizeof v);
        fprintf(out, "%s = %s\n", table[i].name, v);
    }
}

void ff_options_markdown(FILE *out)
{
    static const struct {
        unsigned bit;
        const char *name;
    } cmds[] = {
        {FF_CMD_SERVE, "serve"},       {FF_CMD_DEMO, "demo"},     {FF_CMD_KEYS, "keys"},
        {FF_CMD_LOG, "log"},           {FF_CMD_STORE, "store"},   {FF_CMD_QUERY, "query"},
        {FF_CMD_SIMULATE, "simulate"}, {FF_CMD_CONFIG, "config"}, {FF_CMD_IMPORT, "import"}};
    fprintf(out, "# Options\n\n"
                 "Generated by `footfall config docs` from the option table in "
                 "`src/config/ff_options.c`; do not edit by hand.\n\n"
                 "Every option is a flag (`--name VALUE` or `--name=VALUE`), an environment "
                 "variable (`FOOTFALL_NAME`, dashes as underscores) and a config-file line "
                 "(`name = VALUE`, file given by `--config` or `FOOTFALL_CONFIG`). Precedence: "
                 "flag > environment > file > default.\n\n"
                 "| option | environment | default | commands | meaning |\n"
                 "|---|---|---|---|---|\n");
    for (size_t i = 0; i < N_OPTS; i++) {
        const opt *o = &table[i];
        char en[96];
        env_name(o, en, sizeof en);
        fprintf(out, "| `--%s` | `%s` | `%s` | ", o->name, en, o->def);
        int first = 1;
        for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++) {
            if (o->cmds & cmds[k].bit) {
                fprintf(out, "%s%s", first ? "" : ", ", cmds[k].name);
                first = 0;
            }
        }
        fprintf(out, " | %s", o->help);
        if (o->type == T_ENUM) {
            fprintf(out, " One of:");
            for (int k = 0; o->choices[k]; k++)
                fprintf(out, " `%s`", o->choices[k]);
            fprintf(out, ".");
        }
        if (o->type == T_U64 || o->type == T_DBL)
            fprintf(out, " Range %g to %g.", o->min, o->max);
        if (o->type == T_LIST)
            fprintf(out,
                    " Repeatable: each `--%s` (or file line) adds one; in the environment, "
                    "one per line.",
                    o->name);
        fprintf(out, " |\n");
    }
}
