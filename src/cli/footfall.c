/* footfall.c -- entry point: dispatches to the subcommands. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli/ff_cli.h"
#include "core/ff_log.h"

#ifndef FF_VERSION
#define FF_VERSION "dev"
#endif

static void usage(FILE *out)
{
    fprintf(out,
            "footfall %s -- real-time user-behaviour analytics for shops and payment flows\n\n"
            "Usage: footfall COMMAND [options]\n\n"
            "Commands:\n"
            "  serve        run the collector: Segment-compatible HTTP ingest into the log\n"
            "  demo         serve + simulated shop traffic + a live line of figures\n"
            "  simulate     send simulated shop traffic to a running server\n"
            "  keys create  make a write, read or admin key (printed once, stored hashed)\n"
            "  keys list    show keys (ids, kinds, names; never the keys)\n"
            "  keys revoke  revoke a key by id\n"
            "  log dump     print stored events as NDJSON\n"
            "  log verify   check every record of the event log\n"
            "  log repair   cut the log at damaged records (after verify says where)\n"
            "  store verify check every part of the columnar store\n"
            "  store rewrite rewrite parts of older format versions (server stopped)\n"
            "  query        run SQL over the stored events (ClickHouse dialect)\n"
            "  import       load a file of events (NDJSON, Segment, Taobao CSV, access log)\n"
            "  config dump  print the effective configuration\n"
            "  config docs  print docs/options.md (generated from the option table)\n"
            "  version      print the version\n\n"
            "`footfall COMMAND --help` shows each command's options.\n",
            FF_VERSION);
}

int main(int argc, char **argv)
{
    /* Queries allocate and free hundreds of MB in 1 MB arena chunks. glibc's defaults hand
     * such memory back to the kernel at once (mmap over 128 KB, trim over 128 KB), so every
     * query paid its page faults again: ~30% of a funnel query's CPU was the kernel zeroing
     * pages. Keep up to 256 MB of freed memory per malloc arena for the next query instead
     * (docs/operations.md: memory). */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("footfall %s\n", FF_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "serve"))
        return ff_cmd_serve(argc - 2, argv + 2);
    if (!strcmp(cmd, "demo"))
        return ff_cmd_demo(argc - 2, argv + 2);
    if (!strcmp(cmd, "simulate"))
        return ff_cmd_simulate(argc - 2, argv + 2);
    if (!strcmp(cmd, "keys"))
        return ff_cmd_keys(argc - 2, argv + 2);
    if (!strcmp(cmd, "log"))
        return ff_cmd_log(argc - 2, argv + 2);
    if (!strcmp(cmd, "store"))
        return ff_cmd_store(argc - 2, argv + 2);
    if (!strcmp(cmd, "query"))
        return ff_cmd_query(argc - 2, argv + 2);
    if (!strcmp(cmd, "import"))
        return ff_cmd_import(argc - 2, argv + 2);
    if (!strcmp(cmd, "config"))
        return ff_cmd_config(argc - 2, argv + 2);
    fprintf(stderr, "footfall: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
