/* cmd_config.c -- `footfall config dump|docs`. */
#include <stdio.h>
#include <string.h>

#include "cli/ff_cli.h"

int ff_cmd_config(int argc, char **argv)
{
    const char *usage = "footfall config dump [--config FILE] [options]\n"
                        "       footfall config docs";
    if (argc >= 1 && !strcmp(argv[0], "docs")) {
        ff_options_markdown(stdout);
        return 0;
    }
    if (argc < 1 || strcmp(argv[0], "dump") != 0) {
        fprintf(stderr, "Usage: %s\n", usage);
        return 2;
    }
    /* dump shows the server's view: serve options, loaded the way serve does. */
    ff_config cfg;
    int code, n_pos;
    if (!ff_cli_load(&cfg, FF_CMD_SERVE, usage, argc - 1, argv + 1, NULL, 0, &n_pos, &code))
        return code;
    ff_options_dump(stdout, &cfg, FF_CMD_SERVE);
    return 0;
}
