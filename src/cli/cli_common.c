/* cli_common.c -- option loading and signal handling shared by commands. */
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "cli/ff_cli.h"
#include "core/ff_log.h"

bool ff_cli_load(ff_config *cfg, unsigned cmd, const char *usage, int argc, char **argv,
                 const char **pos, int max_pos, int *n_pos, int *exit_code)
{
    ff_err err = {0};
    if (ff_options_load(cfg, cmd, argc, argv, pos, max_pos, n_pos, &err) != FF_OK) {
        fprintf(stderr, "footfall: %s\n", err.msg);
        *exit_code = 2;
        return false;
    }
    if (cfg->help) {
        printf("Usage: %s\n\n", usage);
        ff_options_help(stdout, cmd);
        *exit_code = 0;
        return false;
    }
    int lvl = ff_log_level_parse(cfg->log_level);
    if (lvl < 0) {
        fprintf(stderr, "footfall: --log-level must be error|warn|info|debug|trace\n");
        *exit_code = 2;
        return false;
    }
    ff_log_set_level((ff_log_level)lvl);
    return true;
}

void ff_cli_signals_block(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

bool ff_cli_wait_signal(int ms)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    return sigtimedwait(&set, NULL, &ts) > 0;
}
