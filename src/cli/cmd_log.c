/* cmd_log.c -- `footfall log dump|verify`: read the event log. Both open
 * the log read-only, so they work while a server writes to it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/ff_cli.h"
#include "evlog/ff_evlog.h"

static int log_dump(const ff_config *cfg, ff_evlog *log)
{
    ff_evlog_cursor *cur;
    ff_err err = {0};
    if (ff_evlog_cursor_open(log, cfg->from, &cur, &err) != FF_OK) {
        fprintf(stderr, "footfall log dump: %s\n", err.msg);
        return 1;
    }
    uint64_t off, n = 0;
    const void *rec;
    size_t len;
    ff_rc rc;
    while ((!cfg->limit || n < cfg->limit) &&
           (rc = ff_evlog_cursor_next(cur, &off, &rec, &len, &err)) == FF_OK) {
        fwrite(rec, 1, len, stdout);
        fputc('\n', stdout);
        n++;
    }
    ff_evlog_cursor_close(cur);
    if (fflush(stdout) != 0)
        return 1;
    if (cfg->limit && n >= cfg->limit)
        return 0;
    if (rc != FF_EOF) {
        fprintf(stderr, "footfall log dump: %s\n", err.msg);
        return 1;
    }
    return 0;
}

int ff_cmd_log(int argc, char **argv)
{
    const char *usage = "footfall log dump [--data DIR] [--from OFFSET] [--limit N]\n"
                        "       footfall log verify [--data DIR]\n"
                        "       footfall log repair [--data DIR]   (cuts the log at damage: "
                        "records after it are lost)";
    if (argc < 1 || argv[0][0] == '-') {
        ff_config cfg;
        int code, n;
        if (!ff_cli_load(&cfg, FF_CMD_LOG, usage, argc, argv, NULL, 0, &n, &code))
            return code;
        fprintf(stderr, "Usage: %s\n", usage);
        return 2;
    }
    const char *sub = argv[0];
    ff_config cfg;
    int code, n_pos;
    if (!ff_cli_load(&cfg, FF_CMD_LOG, usage, argc - 1, argv + 1, NULL, 0, &n_pos, &code))
        return code;
    if (!strcmp(sub, "repair")) {
        /* Explicitly chosen loss: open in write mode with repair allowed, so
         * recovery cuts the newest segment at its first damaged frame. */
        char rdir[1100];
        snprintf(rdir, sizeof rdir, "%s/log", cfg.data);
        ff_evlog_opts ro = {.dir = rdir, .repair = true};
        ff_evlog *rlog;
        ff_err rerr = {0};
        if (ff_evlog_open(&ro, &rlog, &rerr) != FF_OK) {
            fprintf(stderr, "footfall log repair: %s\n", rerr.msg);
            return 1;
        }
        ff_evlog_stats st;
        ff_evlog_stats_get(rlog, &st);
        ff_evlog_close(rlog);
        printf("repaired: cut %" PRIu64 " bytes; the log now ends at offset %" PRIu64 "\n",
               st.truncated_bytes_at_open, st.next_offset);
        return 0;
    }
    if (strcmp(sub, "dump") && strcmp(sub, "verify")) {
        fprintf(stderr, "footfall log: unknown subcommand '%s'\nUsage: %s\n", sub, usage);
        return 2;
    }
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/log", cfg.data);
    ff_evlog_opts o = {.dir = dir, .read_only = true};
    ff_evlog *log;
    ff_err err = {0};
    if (ff_evlog_open(&o, &log, &err) != FF_OK) {
        fprintf(stderr, "footfall log %s: %s\n", sub, err.msg);
        return 1;
    }
    int rc;
    if (!strcmp(sub, "dump")) {
        rc = log_dump(&cfg, log);
    } else {
        uint64_t n = 0;
        if (ff_evlog_verify(log, &n, &err) != FF_OK) {
            fprintf(stderr, "footfall log verify: DAMAGED: %s\n", err.msg);
            rc = 1;
        } else {
            printf("ok: %" PRIu64 " records verified\n", n);
            rc = 0;
        }
    }
    ff_evlog_close(log);
    return rc;
}
