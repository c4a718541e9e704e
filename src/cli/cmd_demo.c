/* cmd_demo.c -- `footfall demo`: a server on the embedded default, keys,
 * and the shop simulator sending through the HTTP API, with a live line of
 * figures until Ctrl-C. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/ff_keys.h"
#include "cli/ff_cli.h"
#include "core/ff_clock.h"
#include "http/ff_server.h"
#include "sim/ff_sim.h"

typedef struct demo_sim {
    ff_sim_opts opts;
    ff_sim_stats final;
    ff_err err;
    ff_rc rc;
    volatile sig_atomic_t stop;
    volatile sig_atomic_t done;
} demo_sim;

static void *sim_main(void *p)
{
    demo_sim *d = p;
    d->rc = ff_sim_run(&d->opts, NULL, NULL, &d->final, &d->err);
    d->done = 1;
    return NULL;
}

int ff_cmd_demo(int argc, char **argv)
{
    ff_config cfg;
    int code, n_pos;
    if (!ff_cli_load(&cfg, FF_CMD_DEMO,
                     "footfall demo [--data DIR] [--listen HOST:PORT] [--rate N] [--duration S]",
                     argc, argv, NULL, 0, &n_pos, &code))
        return code;
    ff_cli_signals_block();
    /* Keys are stored hashed, so the demo makes a fresh pair each run. */
    ff_err err = {0};
    ff_keys *keys = NULL;
    char wkey[40], rkey[40], id[17];
    if (ff_keys_open(cfg.data, &keys, &err) != FF_OK ||
        ff_keys_create(keys, FF_KEY_WRITE, "demo", wkey, id, &err) != FF_OK ||
        ff_keys_create(keys, FF_KEY_READ, "demo", rkey, id, &err) != FF_OK) {
        fprintf(stderr, "footfall demo: %s\n", err.msg);
        ff_keys_close(keys);
        return 1;
    }
    ff_keys_close(keys);
    ff_server *s;
    if (ff_server_open(&cfg, &s, &err) != FF_OK) {
        fprintf(stderr, "footfall demo: %s\n", err.msg);
        return 1;
    }
    ff_server_set_demo_key(s, wkey);
    printf("footfall demo\n"
           "  server     %s  (data in %s)\n"
           "  write key  %s\n"
           "  read key   %s\n"
           "  try        footfall log dump --data %s --from 0 --limit 5\n"
           "  dashboard  %s/dash/  (sign in with the read key above)\n"
           "  shop       %s/demo/  (a demo shop instrumented with the browser SDK)\n"
           "  metrics    %s/metrics\n"
           "Simulated shop traffic at %.0f events/s. Ctrl-C stops.\n\n",
           ff_server_url(s), cfg.data, wkey, rkey, cfg.data, ff_server_url(s), ff_server_url(s),
           ff_server_url(s), cfg.rate);
    fflush(stdout);

    demo_sim d = {0};
    d.opts = (ff_sim_opts){
        .url = ff_server_url(s),
        .write_key = wkey,
        .rate = cfg.rate,
        .duration_s = cfg.duration,
        .seed = cfg.seed,
        .batch_size = (uint32_t)cfg.batch,
        .anomaly = cfg.anomaly[0] ? cfg.anomaly : NULL,
        .stop = &d.stop,
    };
    pthread_t th;
    if (pthread_create(&th, NULL, sim_main, &d) != 0) {
        fprintf(stderr, "footfall demo: cannot start the simulator\n");
        ff_server_close(s);
        return 1;
    }
    bool tty = isatty(STDOUT_FILENO);
    ff_server_counts prev;
    ff_server_counts_get(s, &prev);
    uint64_t t_prev = ff_clock_mono_ns();
    while (!d.done) {
        if (ff_cli_wait_signal(1000)) {
            d.stop = 1;
            break;
        }
        ff_server_tick(s);
        ff_server_counts now;
        ff_server_counts_get(s, &now);
        uint64_t t = ff_clock_mono_ns();
        double eps =
            (double)(now.events_accepted - prev.events_accepted) / ((double)(t - t_prev) / 1e9);
        printf("%sevents/s %7.0f | stored %10llu | rejected %6llu | failed requests %llu%s",
               tty ? "\r" : "", eps, (unsigned long long)now.log_next_offset,
               (unsigned long long)now.events_rejected, (unsigned long long)now.requests_failed,
               tty ? "   " : "\n");
        fflush(stdout);
        prev = now;
        t_prev = t;
    }
    pthread_join(th, NULL);
    printf("\nstopped. sent %llu events, %llu accepted.\n", (unsigned long long)d.final.n_sent,
           (unsigned long long)d.final.n_accepted);
    if (d.rc != FF_OK)
        fprintf(stderr, "footfall demo: simulator: %s\n", d.err.msg);
    ff_server_close(s);
    return d.rc == FF_OK ? 0 : 1;
}
