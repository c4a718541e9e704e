/* test_collect_dedupe.c -- the event-id window: reserve / commit / release,
 * conflicts, waiting on another request, expiry, eviction when full, stale
 * ring slots, seeding, and two threads racing on the same ids. */
#include <pthread.h>
#include <string.h>

#include "collect/ff_collect_int.h"
#include "core/ff_clock.h"
#include "ff_test.h"

#define NOW 1750000000000LL

/* Keys that all land in shard 0 (key % 64 == 0), spread in the table. */
static uint64_t k0(uint64_t i)
{
    return (ff_collect_mix64(i) & ~(uint64_t)63) | 64;
}

static void test_lifecycle(void)
{
    ff_dedupe *d = ff_dedupe_new(10000, 86400000);
    ff_dedupe_resv r1, r2;
    FF_CHECK_EQ(ff_dedupe_reserve(d, 42, 7, NOW, 1, &r1), FF_DEDUPE_NEW);
    FF_CHECK_EQ(ff_dedupe_reserve(d, 42, 7, NOW, 1, &r2), FF_DEDUPE_DUP);      /* same request */
    FF_CHECK_EQ(ff_dedupe_reserve(d, 42, 8, NOW, 1, &r2), FF_DEDUPE_CONFLICT); /* differs */
    FF_CHECK_EQ(ff_dedupe_reserve(d, 42, 7, NOW, 2, &r2), FF_DEDUPE_PENDING);  /* in flight */
    ff_dedupe_commit(d, &r1, 1);
    FF_CHECK_EQ(ff_dedupe_reserve(d, 42, 7, NOW, 2, &r2), FF_DEDUPE_DUP);
    FF_CHECK_EQ(ff_dedupe_reserve(d, 42, 9, NOW, 2, &r2), FF_DEDUPE_CONFLICT);
    FF_CHECK_EQ(ff_dedupe_reserve(d, 42, 0, NOW, 2, &r2), FF_DEDUPE_DUP); /* unknown hash */
    /* commit/release by the wrong owner do nothing */
    FF_CHECK_EQ(ff_dedupe_reserve(d, 43, 1, NOW, 1, &r1), FF_DEDUPE_NEW);
    ff_dedupe_release(d, &r1, 2);
    FF_CHECK_EQ(ff_dedupe_reserve(d, 43, 1, NOW, 2, &r2), FF_DEDUPE_PENDING);
    /* release: the retry is new again */
    ff_dedupe_release(d, &r1, 1);
    FF_CHECK_EQ(ff_dedupe_reserve(d, 43, 1, NOW, 2, &r2), FF_DEDUPE_NEW);
    ff_dedupe_commit(d, &r2, 2);
    /* an old reservation handle cannot touch the new entry */
    ff_dedupe_release(d, &r1, 1);
    FF_CHECK_EQ(ff_dedupe_reserve(d, 43, 1, NOW, 3, &r2), FF_DEDUPE_DUP);
    ff_dedupe_stats st;
    ff_dedupe_stats_get(d, &st);
    FF_CHECK_EQ(st.entries, 2);
    FF_CHECK(st.capacity >= 10000);
    ff_dedupe_free(d);
}

static void test_expiry_and_seed(void)
{
    ff_dedupe *d = ff_dedupe_new(10000, 10000); /* 10 s window */
    ff_dedupe_resv r;
    FF_CHECK_EQ(ff_dedupe_reserve(d, 5, 1, NOW, 1, &r), FF_DEDUPE_NEW);
    ff_dedupe_commit(d, &r, 1);
    FF_CHECK_EQ(ff_dedupe_reserve(d, 5, 1, NOW + 9000, 2, &r), FF_DEDUPE_DUP);
    FF_CHECK_EQ(ff_dedupe_reserve(d, 5, 1, NOW + 12000, 2, &r), FF_DEDUPE_NEW);
    ff_dedupe_commit(d, &r, 2);
    /* seeding */
    ff_dedupe_seed(d, 77, NOW - 2000, NOW);
    FF_CHECK_EQ(ff_dedupe_reserve(d, 77, 123, NOW, 3, &r), FF_DEDUPE_DUP); /* never a conflict */
    ff_dedupe_seed(d, 78, NOW - 60000, NOW);                               /* too old: skipped */
    FF_CHECK_EQ(ff_dedupe_reserve(d, 78, 1, NOW, 3, &r), FF_DEDUPE_NEW);
    ff_dedupe_free(d);
}

static void test_eviction(void)
{
    ff_dedupe *d = ff_dedupe_new(64 * 16, 86400000); /* 16 per shard */
    ff_dedupe_resv r, ra;
    /* stale ring slots: A reserved, released, reserved again */
    uint64_t A = k0(1000);
    FF_CHECK_EQ(ff_dedupe_reserve(d, A, 1, NOW, 1, &r), FF_DEDUPE_NEW);
    ff_dedupe_release(d, &r, 1);
    FF_CHECK_EQ(ff_dedupe_reserve(d, A, 1, NOW, 1, &ra), FF_DEDUPE_NEW);
    ff_dedupe_commit(d, &ra, 1);
    for (uint64_t i = 0; i < 15; i++) { /* fills the ring: slot 0 (stale) goes first */
        FF_CHECK_EQ(ff_dedupe_reserve(d, k0(i), 1, NOW, 1, &r), FF_DEDUPE_NEW);
        ff_dedupe_commit(d, &r, 1);
    }
    FF_CHECK_EQ(ff_dedupe_reserve(d, A, 1, NOW, 2, &r), FF_DEDUPE_DUP);
    ff_dedupe_stats st;
    ff_dedupe_stats_get(d, &st);
    FF_CHECK_EQ(st.evictions, 0);
    FF_CHECK_EQ(ff_dedupe_reserve(d, k0(15), 1, NOW, 1, &r), FF_DEDUPE_NEW); /* evicts A */
    ff_dedupe_commit(d, &r, 1);
    ff_dedupe_stats_get(d, &st);
    FF_CHECK_EQ(st.evictions, 1);
    FF_CHECK_EQ(ff_dedupe_reserve(d, A, 1, NOW, 2, &r), FF_DEDUPE_NEW); /* oldest went first */
    ff_dedupe_commit(d, &r, 2);
    /* many more: bounded, newest kept, oldest gone */
    for (uint64_t i = 100; i < 5000; i++) {
        ff_dedupe_reserve(d, k0(i), 1, NOW, 1, &r);
        ff_dedupe_commit(d, &r, 1);
    }
    ff_dedupe_stats_get(d, &st);
    FF_CHECK(st.entries <= st.capacity);
    FF_CHECK_EQ(ff_dedupe_reserve(d, k0(4999), 1, NOW, 2, &r), FF_DEDUPE_DUP);
    FF_CHECK_EQ(ff_dedupe_reserve(d, k0(100), 1, NOW, 2, &r), FF_DEDUPE_NEW);
    ff_dedupe_free(d);
}

typedef struct waiter {
    ff_dedupe *d;
    uint64_t key;
    uint64_t wait_ms;
    ff_dedupe_rc rc;
} waiter;

static void *wait_thread(void *arg)
{
    waiter *w = arg;
    ff_dedupe_resv r;
    w->rc = ff_dedupe_reserve_wait(w->d, w->key, 1, NOW, 2,
                                   ff_clock_mono_ns() + w->wait_ms * 1000000u, &r);
    if (w->rc == FF_DEDUPE_NEW)
        ff_dedupe_commit(w->d, &r, 2);
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_wait(void)
{
    ff_dedupe *d = ff_dedupe_new(10000, 86400000);
    for (int outcome = 0; outcome < 3; outcome++) {
        ff_dedupe_resv r;
        uint64_t key = 900 + (uint64_t)outcome;
        FF_CHECK_EQ(ff_dedupe_reserve(d, key, 1, NOW, 1, &r), FF_DEDUPE_NEW);
        waiter w = {d, key, outcome == 2 ? 100 : 5000, FF_DEDUPE_PENDING};
        pthread_t t;
        pthread_create(&t, NULL, wait_thread, &w);
        sleep_ms(outcome == 2 ? 300 : 50);
        if (outcome == 0)
            ff_dedupe_commit(d, &r, 1);
        else if (outcome == 1)
            ff_dedupe_release(d, &r, 1);
        pthread_join(t, NULL);
        if (outcome == 0)
            FF_CHECK_EQ(w.rc, FF_DEDUPE_DUP); /* the first request stored it */
        else if (outcome == 1)
            FF_CHECK_EQ(w.rc, FF_DEDUPE_NEW); /* its append failed: ours goes in */
        else
            FF_CHECK_EQ(w.rc, FF_DEDUPE_TIMEOUT);
        if (outcome == 2)
            ff_dedupe_commit(d, &r, 1);
    }
    ff_dedupe_free(d);
}

#define N_RACE 200000

typedef struct racer {
    ff_dedupe *d;
    uint32_t owner;
    uint32_t n_new;
} racer;

static void *race(void *arg)
{
    racer *rc = arg;
    for (uint64_t i = 0; i < N_RACE; i++) {
        ff_dedupe_resv r;
        uint64_t key = ff_collect_mix64(i * 7919 + 1);
        ff_dedupe_rc x = ff_dedupe_reserve_wait(rc->d, key, 1, NOW, rc->owner,
                                                ff_clock_mono_ns() + 5000000000ULL, &r);
        if (x == FF_DEDUPE_NEW) {
            rc->n_new++;
            if (i % 5 == 0) { /* some appends fail and are retried at once */
                ff_dedupe_release(rc->d, &r, rc->owner);
                x = ff_dedupe_reserve_wait(rc->d, key, 1, NOW, rc->owner,
                                           ff_clock_mono_ns() + 5000000000ULL, &r);
                if (x != FF_DEDUPE_NEW) {
                    rc->n_new--; /* the other thread stored it meanwhile */
                    continue;
                }
            }
            ff_dedupe_commit(rc->d, &r, rc->owner);
        }
    }
    return NULL;
}

static void test_threads(void)
{
    ff_dedupe *d = ff_dedupe_new(2 * N_RACE, 86400000);
    racer a = {d, 1, 0}, b = {d, 2, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, race, &a);
    pthread_create(&tb, NULL, race, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    /* every id stored exactly once between the two threads */
    FF_CHECK_EQ(a.n_new + b.n_new, N_RACE);
    ff_dedupe_stats st;
    ff_dedupe_stats_get(d, &st);
    FF_CHECK_EQ(st.entries, N_RACE);
    FF_CHECK_EQ(st.evictions, 0);
    ff_dedupe_free(d);
}

int main(void)
{
    FF_RUN(test_lifecycle);
    FF_RUN(test_expiry_and_seed);
    FF_RUN(test_eviction);
    FF_RUN(test_wait);
    FF_RUN(test_threads);
    FF_DONE();
}
