/* ff_options.h -- the one option table: flags, FOOTFALL_* variables, config file.
 *
 * WHAT: every setting of every command is one row of a table in
 * ff_options.c: its name, type, default, bounds, the field it fills, which
 * commands take it, and its help text. Parsing, validation, `--help`,
 * `footfall config dump` and docs/options.md are all generated from it
 * (Redis static_configs, Fluent Bit config_map, curl's cmdline-opts).
 *
 * DESIGN: values are applied in order of precedence, later wins:
 *   defaults  <  config file (--config FILE or FOOTFALL_CONFIG)  <
 *   environment (FOOTFALL_<NAME> with '-' as '_')  <  command-line flags.
 * The config file is INI-style `name = value` lines (parsed by libinih);
 * section headers are ignored, `#`/`;` start comments. Unknown names are an
 * error everywhere, so a typo never silently keeps a default.
 * A repeatable option (type list: --webhook, --rule) collects every occurrence
 * within one source, in order; a higher-precedence source that gives it at all
 * replaces the lower one's whole list. An empty value clears the list.
 *
 * INVARIANTS: a loaded ff_config is immutable; reload builds a new one.
 * THREADING: pure functions over caller-owned structs.
 * OWNERSHIP: ff_config is a plain value (fixed-size strings), no pointers.
 */
#ifndef FF_OPTIONS_H
#define FF_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/ff_buf.h"
#include "core/ff_err.h"

/* Commands, as a bit mask in each option row. */
enum {
    FF_CMD_SERVE = 1u << 0,
    FF_CMD_DEMO = 1u << 1,
    FF_CMD_KEYS = 1u << 2,
    FF_CMD_LOG = 1u << 3,
    FF_CMD_SIMULATE = 1u << 4,
    FF_CMD_CONFIG = 1u << 5,
    FF_CMD_STORE = 1u << 6,
    FF_CMD_QUERY = 1u << 7,
    FF_CMD_IMPORT = 1u << 8,
};

typedef enum ff_fsync_mode { FF_FSYNC_BATCH = 0, FF_FSYNC_INTERVAL = 1 } ff_fsync_mode;
typedef enum ff_ip_mode_opt { FF_IPOPT_TRUNCATE = 0, FF_IPOPT_DROP = 1 } ff_ip_mode_opt;
typedef enum ff_key_kind_opt {
    FF_KINDOPT_WRITE = 0,
    FF_KINDOPT_READ,
    FF_KINDOPT_ADMIN
} ff_key_kind_opt;

typedef struct ff_config {
    char config[1024];
    char data[1024];
    char listen[256];
    char log_level[16];
    uint64_t fsync; /* ff_fsync_mode */
    uint64_t fsync_interval_ms;
    uint64_t segment_mb;
    uint64_t retain_mb;
    uint64_t retain_hours;
    uint64_t ip_mode; /* ff_ip_mode_opt */
    uint64_t max_body_kb;
    uint64_t max_batch_kb;
    uint64_t max_event_kb;
    uint64_t max_batch_events;
    uint64_t max_connections;
    uint64_t header_timeout_s;
    uint64_t body_timeout_s;
    uint64_t rate_limit;
    uint64_t ingest_max_lag;
    char cors_origins[1024];
    uint64_t dedupe_hours;
    uint64_t dedupe_capacity;
    uint64_t store_keep_days;
    uint64_t store_seal_ms;
    uint64_t store_merge_fanin;
    /* stream processor (src/stream) */
    uint64_t watermark_ms;
    uint64_t lateness_ms;
    uint64_t session_gap_min;
    uint64_t abandon_min;
    uint64_t stream_checkpoint_ms;
    bool stream_derived;
    /* alerts (src/alert) and rules/anomaly (src/stream) */
    char webhook[4096];      /* repeatable: items separated by '\n' (ff_options_list_next) */
    uint64_t webhook_format; /* 0 json, 1 slack */
    uint64_t webhook_attempts;
    uint64_t webhook_backoff_ms;
    uint64_t webhook_timeout_s;
    uint64_t alert_cooldown_s;
    uint64_t alert_history;
    char rule[16384];       /* repeatable: "NAME: SPEC" lines separated by '\n' */
    uint64_t rule_defaults; /* 0 on, 1 off */
    uint64_t rule_max_keys;
    uint64_t anomaly_warmup_min;
    double anomaly_threshold;
    double anomaly_min_weight;
    double anomaly_alpha;
    /* keys */
    uint64_t kind; /* ff_key_kind_opt */
    char name[128];
    char key_id[64];
    /* query */
    uint64_t format; /* 0 table, 1 json, 2 csv */
    uint64_t query_timeout_s;
    uint64_t query_mem_mb;
    /* log */
    uint64_t from;
    uint64_t limit;
    /* simulate / demo */
    char url[512];
    char key[256];
    double rate;
    double duration;
    uint64_t seed;
    char anomaly[64];
    double anomaly_start;
    double time_scale;
    double start_ago;
    uint64_t batch;
    /* import */
    uint64_t import_format; /* 0 auto, 1 ndjson, 2 segment, 3 csv */
    char map[64];
    bool keep_bots;
    bool progress;
    bool help;
} ff_config;

/* Fill cfg from defaults, file, environment and argv for command `cmd`
 * (an FF_CMD_* bit). argv holds only the options (after the command words).
 * Positional arguments are returned in pos (borrowed from argv), up to
 * max_pos. Errors name the option and the problem. */
ff_rc ff_options_load(ff_config *cfg, unsigned cmd, int argc, char **argv, const char **pos,
                      int max_pos, int *n_pos, ff_err *err);

/* --help text for one command. */
void ff_options_help(FILE *out, unsigned cmd);
/* `footfall config dump`: every option of `cmd` with its effective value. */
void ff_options_dump(FILE *out, const ff_config *cfg, unsigned cmd);
/* docs/options.md, generated. */
void ff_options_markdown(FILE *out);

/* Iterate a repeatable option's value (items separated by '\n'): start with *pos = 0; returns
 * false at the end, else the next non-empty item as item[0..*len). */
bool ff_options_list_next(const char *list, size_t *pos, const char **item, size_t *len);

#endif /* FF_OPTIONS_H */
