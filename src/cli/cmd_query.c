/* cmd_query.c -- `footfall query "SQL"`: the SQL engine over the store's
 * parts. Opens the store read-only, so it works next to a running server
 * (which keeps sealing new events into parts every second). */
#include <stdio.h>
#include <string.h>

#include "cli/ff_cli.h"
#include "core/ff_buf.h"
#include "sql/ff_sql_exec.h"
#include "store/ff_store.h"

int ff_cmd_query(int argc, char **argv)
{
    const char *usage = "footfall query [--data DIR] [--format table|json|csv] \"SELECT ...\"";
    ff_config cfg;
    int code, n_pos;
    const char *pos[1];
    if (!ff_cli_load(&cfg, FF_CMD_QUERY, usage, argc, argv, pos, 1, &n_pos, &code))
        return code;
    if (n_pos != 1) {
        fprintf(stderr, "Usage: %s\n", usage);
        return 2;
    }
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/store", cfg.data);
    ff_store_opts so = {.dir = dir, .read_only = true};
    ff_store *store;
    ff_err err = {0};
    if (ff_store_open(&so, &store, &err) != FF_OK) {
        fprintf(stderr, "footfall query: %s\n", err.msg);
        return 1;
    }
    ff_table_snapshot snap;
    if (ff_store_snapshot_acquire(store, &snap, &err) != FF_OK) {
        fprintf(stderr, "footfall query: %s\n", err.msg);
        ff_store_close(store);
        return 1;
    }
    ff_sql_exec_opts eo = {
        .mem_cap = (size_t)cfg.query_mem_mb << 20,
        .timeout_ms = (uint32_t)(cfg.query_timeout_s * 1000),
    };
    ff_sql_result *res = NULL;
    ff_sql_error serr;
    memset(&serr, 0, sizeof serr);
    int rc = 0;
    if (ff_sql_query(pos[0], strlen(pos[0]), &snap, &eo, &res, &serr) != FF_OK) {
        fprintf(stderr, "footfall query: %s\n%s\n", serr.msg, serr.snippet);
        rc = 1;
    } else {
        static const char *const formats[] = {"table", "json", "csv"};
        ff_buf out;
        ff_buf_init(&out, 0);
        if (ff_sql_result_write(res, formats[cfg.format], &out) != FF_OK) {
            fprintf(stderr, "footfall query: cannot format the result\n");
            rc = 1;
        } else {
            fwrite(out.data ? out.data : "", 1, out.len, stdout);
            if (fflush(stdout) != 0)
                rc = 1;
        }
        ff_buf_fini(&out);
    }
    ff_sql_result_free(res);
    ff_store_snapshot_release(store, &snap);
    ff_store_close(store);
    return rc;
}
