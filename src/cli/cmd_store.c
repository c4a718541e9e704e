/* cmd_store.c -- `footfall store verify`: check every part of the columnar
 * store (checksums, ranges, names) without changing anything; `footfall store rewrite`:
 * rewrite parts of older format versions in this release's format (server stopped). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/ff_cli.h"
#include "store/ff_part.h"
#include "store/ff_store.h"

int ff_cmd_store(int argc, char **argv)
{
    const char *usage = "footfall store verify|rewrite [--data DIR]";
    bool rewrite = argc >= 1 && strcmp(argv[0], "rewrite") == 0;
    if (argc < 1 || (strcmp(argv[0], "verify") != 0 && !rewrite)) {
        ff_config cfg;
        int code, n;
        if (argc >= 1 && argv[0][0] == '-' &&
            !ff_cli_load(&cfg, FF_CMD_STORE, usage, argc, argv, NULL, 0, &n, &code))
            return code;
        fprintf(stderr, "Usage: %s\n", usage);
        return 2;
    }
    ff_config cfg;
    int code, n_pos;
    if (!ff_cli_load(&cfg, FF_CMD_STORE, usage, argc - 1, argv + 1, NULL, 0, &n_pos, &code))
        return code;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/store", cfg.data);
    uint64_t n_parts = 0, n_rows = 0;
    ff_err err = {0};
    if (rewrite) {
        uint64_t n_done = 0;
        ff_rc rc = ff_store_rewrite(dir, false, &n_parts, &n_done, &err);
        if (rc == FF_ELOCKED) {
            fprintf(stderr, "footfall store rewrite: %s: stop the server on this folder first\n",
                    err.msg);
            return 1;
        }
        if (rc != FF_OK) {
            fprintf(stderr, "footfall store rewrite: %s (%" PRIu64 " parts rewritten before)\n",
                    err.msg, n_done);
            return 1;
        }
        printf("ok: %" PRIu64 " of %" PRIu64 " parts rewritten in format version %d\n", n_done,
               n_parts, FF_PART_VERSION);
        return 0;
    }
    if (ff_store_verify(dir, &n_parts, &n_rows, &err) != FF_OK) {
        fprintf(stderr, "footfall store verify: DAMAGED: %s\n", err.msg);
        return 1;
    }
    printf("ok: %" PRIu64 " parts, %" PRIu64 " rows verified\n", n_parts, n_rows);
    return 0;
}
