/* cmd_keys.c -- `footfall keys create|list|revoke`. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/ff_keys.h"
#include "cli/ff_cli.h"
#include "core/ff_clock.h"

static void print_key(void *ud, const char *id, ff_key_kind kind, int64_t created_ms,
                      int64_t revoked_ms, const char *name)
{
    (void)ud;
    char c[32], r[32] = "-";
    ff_clock_format_rfc3339(created_ms, c);
    if (revoked_ms)
        ff_clock_format_rfc3339(revoked_ms, r);
    printf("%-12s %-5s %-24s %-24s %s\n", id, ff_key_kind_name(kind), c, r, name);
}

int ff_cmd_keys(int argc, char **argv)
{
    const char *usage = "footfall keys create --kind write|read|admin [--name NAME] [--data DIR]\n"
                        "       footfall keys list [--data DIR]\n"
                        "       footfall keys revoke --id ID [--data DIR]";
    if (argc < 1 || argv[0][0] == '-') {
        ff_config cfg;
        int code, n;
        if (!ff_cli_load(&cfg, FF_CMD_KEYS, usage, argc, argv, NULL, 0, &n, &code))
            return code;
        fprintf(stderr, "Usage: %s\n", usage);
        return 2;
    }
    const char *sub = argv[0];
    ff_config cfg;
    int code, n_pos;
    if (!ff_cli_load(&cfg, FF_CMD_KEYS, usage, argc - 1, argv + 1, NULL, 0, &n_pos, &code))
        return code;
    ff_keys *k;
    ff_err err = {0};
    if (ff_keys_open(cfg.data, &k, &err) != FF_OK) {
        fprintf(stderr, "footfall keys: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    if (!strcmp(sub, "create")) {
        char key[40], id[17];
        if (ff_keys_create(k, (ff_key_kind)cfg.kind, cfg.name, key, id, &err) != FF_OK) {
            fprintf(stderr, "footfall keys create: %s\n", err.msg);
            rc = 1;
        } else {
            printf("%s\n", key);
            fprintf(stderr,
                    "created %s key id=%s (the key is shown only now; it is stored hashed)\n",
                    ff_key_kind_name((ff_key_kind)cfg.kind), id);
        }
    } else if (!strcmp(sub, "list")) {
        printf("%-12s %-5s %-24s %-24s %s\n", "ID", "KIND", "CREATED", "REVOKED", "NAME");
        ff_keys_list(k, print_key, NULL);
    } else if (!strcmp(sub, "revoke")) {
        if (!cfg.key_id[0]) {
            fprintf(stderr, "footfall keys revoke: --id is required\n");
            rc = 2;
        } else if (ff_keys_revoke(k, cfg.key_id, &err) != FF_OK) {
            fprintf(stderr, "footfall keys revoke: %s\n", err.msg);
            rc = 1;
        }
    } else {
        fprintf(stderr, "footfall keys: unknown subcommand '%s'\nUsage: %s\n", sub, usage);
        rc = 2;
    }
    ff_keys_close(k);
    return rc;
}
