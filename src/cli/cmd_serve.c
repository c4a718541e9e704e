/* cmd_serve.c -- `footfall serve`: the collector. */
#include <stdio.h>

#include "cli/ff_cli.h"
#include "core/ff_log.h"
#include "http/ff_server.h"

int ff_cmd_serve(int argc, char **argv)
{
    ff_config cfg;
    int code, n_pos;
    if (!ff_cli_load(&cfg, FF_CMD_SERVE, "footfall serve [--data DIR] [--listen HOST:PORT]", argc,
                     argv, NULL, 0, &n_pos, &code))
        return code;
    ff_cli_signals_block();
    ff_server *s;
    ff_err err = {0};
    if (ff_server_open(&cfg, &s, &err) != FF_OK) {
        fprintf(stderr, "footfall serve: %s\n", err.msg);
        return 1;
    }
    printf("listening %s\n", ff_server_url(s));
    fflush(stdout);
    FF_LOG(FF_LOG_INFO, "serve", "serving data=%s url=%s fsync=%s", cfg.data, ff_server_url(s),
           cfg.fsync == FF_FSYNC_BATCH ? "batch" : "interval");
    while (!ff_cli_wait_signal(1000))
        ff_server_tick(s);
    FF_LOG(FF_LOG_INFO, "serve", "stopping");
    ff_server_close(s);
    return 0;
}
