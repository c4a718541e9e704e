/* cmd_simulate.c -- `footfall simulate`: shop traffic into a running server. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>

#include "cli/ff_cli.h"
#include "sim/ff_sim.h"

typedef struct sim_thread {
    ff_sim_opts opts;
    ff_sim_stats final;
    ff_err err;
    ff_rc rc;
    volatile sig_atomic_t stop;
} sim_thread;

static void print_tick(const ff_sim_stats *st, void *ud)
{
    (void)ud;
    fprintf(stderr,
            "simulate: %.0fs sent=%llu accepted=%llu rejected=%llu failed=%llu rate=%.0f/s%s\n",
            st->elapsed_s, (unsigned long long)st->n_sent, (unsigned long long)st->n_accepted,
            (unsigned long long)st->n_rejected, (unsigned long long)st->n_failed, st->rate_achieved,
            st->anomaly_active ? " [anomaly]" : "");
}

static void *sim_main(void *p)
{
    sim_thread *t = p;
    t->rc = ff_sim_run(&t->opts, print_tick, NULL, &t->final, &t->err);
    t->stop = 1;
    return NULL;
}

int ff_cmd_simulate(int argc, char **argv)
{
    ff_config cfg;
    int code, n_pos;
    if (!ff_cli_load(&cfg, FF_CMD_SIMULATE,
                     "footfall simulate --url URL --key KEY --rate N --duration S [--seed S] "
                     "[--anomaly payment-failures [--anomaly-start S]] [--time-scale N "
                     "--start-ago S]",
                     argc, argv, NULL, 0, &n_pos, &code))
        return code;
    if (!cfg.key[0]) {
        fprintf(stderr, "footfall simulate: --key (a write key) is required\n");
        return 2;
    }
    ff_cli_signals_block();
    sim_thread t = {0};
    t.opts = (ff_sim_opts){
        .url = cfg.url,
        .write_key = cfg.key,
        .rate = cfg.rate,
        .duration_s = cfg.duration,
        .seed = cfg.seed,
        .batch_size = (uint32_t)cfg.batch,
        .anomaly = cfg.anomaly[0] ? cfg.anomaly : NULL,
        .anomaly_start_s = cfg.anomaly_start > 0 ? cfg.anomaly_start : -1,
        .time_scale = cfg.time_scale,
        .start_ago_s = cfg.start_ago,
        .stop = &t.stop,
    };
    pthread_t th;
    if (pthread_create(&th, NULL, sim_main, &t) != 0) {
        fprintf(stderr, "footfall simulate: cannot start a thread\n");
        return 1;
    }
    while (!t.stop) {
        if (ff_cli_wait_signal(200))
            t.stop = 1;
    }
    pthread_join(th, NULL);
    if (t.rc != FF_OK) {
        fprintf(stderr, "footfall simulate: %s\n", t.err.msg);
        return 1;
    }
    printf("{\"sent\":%llu,\"accepted\":%llu,\"rejected\":%llu,\"failed\":%llu,\"seed\":%llu}\n",
           (unsigned long long)t.final.n_sent, (unsigned long long)t.final.n_accepted,
           (unsigned long long)t.final.n_rejected, (unsigned long long)t.final.n_failed,
           (unsigned long long)t.final.seed);
    return t.final.n_failed ? 1 : 0;
}
