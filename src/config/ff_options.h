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
    char cors_origins[1024];
    uint64_t dedupe_hours;
    uint64_t dedupe_capacity;
    uint64_t store_keep_days;
    uint64_t store_seal_ms;
    uint64_t store_merge_fanin;
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
    uint64_t batch;
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

#endif /* FF_OPTIONS_H */
