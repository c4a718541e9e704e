/* bench_sql.c -- the SQL executor on a store folder: bench/query.py's footfall queries A-D, each
 * run with threads = 1 and threads = 2 (alternating, so load changes hit both alike), median
 * wall time and CPU time of the process per query.
 *
 *   ./build-x/bench_sql DATA_DIR [REPS] [D0]
 *
 * DATA_DIR is a footfall data folder (DATA_DIR/store), REPS the runs per setting (default 7), D0
 * the first day of the data for the retention query (default 2026-11-08, the day of
 * `footfall simulate` data such as /var/tmp/bq3). Output: one line per query and setting, and
 * whether the two settings gave the same CSV. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ff_buf.h"
#include "sql/ff_sql_exec.h"
#include "store/ff_store.h"

#define PERSON "if(user_id != '', user_id, anonymous_id)"

static double now_s(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return v[n / 2];
}

/* Run sql; the CSV goes to out (when not NULL). False on error (printed). */
static int run(const ff_table_snapshot *snap, const char *sql, uint32_t threads, ff_buf *out)
{
    ff_sql_exec_opts o = {0};
    o.threads = threads;
    ff_sql_result *r = NULL;
    ff_sql_error err;
    memset(&err, 0, sizeof err);
    if (ff_sql_query(sql, strlen(sql), snap, &o, &r, &err) != FF_OK) {
        fprintf(stderr, "query failed: %s\n", err.msg);
        return 0;
    }
    if (out)
        ff_sql_result_write(r, "csv", out);
    ff_sql_result_free(r);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_sql DATA_DIR [REPS] [D0]\n");
        return 2;
    }
    int reps = argc > 2 ? atoi(argv[2]) : 7;
    if (reps < 1 || reps > 100)
        reps = 7;
    const char *d0 = argc > 3 ? argv[3] : "2026-11-08";
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/store", argv[1]);
    ff_store_opts so = {.dir = dir, .read_only = true};
    ff_store *store;
    ff_err e = {0};
    if (ff_store_open(&so, &store, &e) != FF_OK) {
        fprintf(stderr, "bench_sql: %s\n", e.msg);
        return 1;
    }
    ff_table_snapshot snap;
    if (ff_store_snapshot_acquire(store, &snap, &e) != FF_OK) {
        fprintf(stderr, "bench_sql: %s\n", e.msg);
        ff_store_close(store);
        return 1;
    }
    char ret[2048], sums[512];
    int rl = 0, sl = 0;
    for (int i = 0; i < 8; i++) {
        rl += snprintf(ret + rl, sizeof ret - (size_t)rl, "%stoDate(ts) = toDate('%s') + %d",
                       i ? ", " : "", d0, i);
        sl += snprintf(sums + sl, sizeof sums - (size_t)sl, "%ssum(r[%d]) AS d%d", i ? ", " : "",
                       i + 1, i);
    }
    static char qc[4096];
    snprintf(qc, sizeof qc,
             "SELECT %s FROM (SELECT " PERSON " AS p, retention(%s) AS r FROM "
             "events GROUP BY p)",
             sums, ret);
    const char *names[] = {"A events per hour", "B exact uniques per day", "C 7-day retention",
                           "D1 funnel, 4 steps in 1 hour", "D2 sessions per user"};
    const char *sqls[] = {
        "SELECT toStartOfHour(ts) AS h, count() AS n FROM events GROUP BY h ORDER BY h",
        "SELECT toDate(ts) AS d, uniqExact(anonymous_id) AS u FROM events GROUP BY d ORDER BY d",
        qc,
        "SELECT level, count() AS n FROM (SELECT " PERSON " AS p, windowFunnel(3600000)(ts, "
        "event = 'product_viewed', event = 'product_added', event = 'checkout_started', "
        "event = 'order_completed') AS level FROM events WHERE event IN ('product_viewed', "
        "'product_added', 'checkout_started', 'order_completed') GROUP BY p) GROUP BY level "
        "ORDER BY level",
        "SELECT s, count() AS users FROM (SELECT " PERSON " AS p, sessionCount(1800)(ts) AS s "
        "FROM events GROUP BY p) GROUP BY s ORDER BY s LIMIT 20",
    };
    int rc = 0;
    for (size_t qi = 0; qi < sizeof sqls / sizeof sqls[0]; qi++) {
        double wall[2][100], cpu[2][100];
        ff_buf out[2];
        for (int t = 0; t < 2; t++) {
            ff_buf_init(&out[t], (size_t)1 << 30);
            if (!run(&snap, sqls[qi], (uint32_t)t + 1, &out[t])) /* warm-up, and the answer */
                rc = 1;
        }
        for (int r = 0; r < reps; r++)
            for (int t = 0; t < 2; t++) {
                double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
                if (!run(&snap, sqls[qi], (uint32_t)t + 1, NULL))
                    rc = 1;
                wall[t][r] = now_s(CLOCK_MONOTONIC) - w0;
                cpu[t][r] = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
            }
        int same = out[0].len == out[1].len && memcmp(out[0].data, out[1].data, out[0].len) == 0;
        for (int t = 0; t < 2; t++)
            printf("%-30s threads=%d  wall %7.1f ms  cpu %7.1f ms  (median of %d)%s\n", names[qi],
                   t + 1, median(wall[t], reps) * 1e3, median(cpu[t], reps) * 1e3, reps,
                   t == 1 ? (same ? "  same result" : "  RESULTS DIFFER") : "");
        if (!same)
            rc = 1;
        ff_buf_fini(&out[0]);
        ff_buf_fini(&out[1]);
    }
    ff_store_snapshot_release(store, &snap);
    ff_store_close(store);
    return rc;
}
