/* test_collect_keyset.c -- the distinct-key cap, hashing, and two threads. */
#include <pthread.h>
#include <string.h>

#include "collect/ff_collect_int.h"
#include "ff_test.h"

static void test_hash(void)
{
    FF_CHECK(ff_collect_hash64(1, "abc", 3) == ff_collect_hash64(1, "abc", 3));
    FF_CHECK(ff_collect_hash64(1, "abc", 3) != ff_collect_hash64(2, "abc", 3));
    FF_CHECK(ff_collect_hash64(1, "abc", 3) != ff_collect_hash64(1, "abd", 3));
    FF_CHECK(ff_collect_hash64(1, "", 0) != ff_collect_hash64(1, "\0", 1));
    /* every length up to 40 and a one-bit change gives a different hash */
    char buf[64];
    memset(buf, 'x', sizeof buf);
    for (size_t n = 1; n < 40; n++) {
        uint64_t h = ff_collect_hash64(9, buf, n);
        buf[n - 1] ^= 1;
        FF_CHECK(h != ff_collect_hash64(9, buf, n));
        buf[n - 1] ^= 1;
        FF_CHECK(h != ff_collect_hash64(9, buf, n + 1));
    }
    uint64_t s[2] = {0, 0};
    ff_collect_random_seed(s);
    FF_CHECK(s[0] != 0 || s[1] != 0);
}

static void test_cap(void)
{
    ff_keyset *ks = ff_keyset_new(100);
    for (uint64_t i = 1; i <= 100; i++)
        FF_CHECK(ff_keyset_admit(ks, ff_collect_mix64(i)));
    FF_CHECK_EQ(ff_keyset_count(ks), 100);
    FF_CHECK(!ff_keyset_admit(ks, ff_collect_mix64(101)));
    FF_CHECK(ff_keyset_admit(ks, ff_collect_mix64(50))); /* known keys still pass */
    FF_CHECK(ff_keyset_admit(ks, ff_collect_mix64(1)));
    FF_CHECK_EQ(ff_keyset_count(ks), 100);
    FF_CHECK(ff_keyset_admit(ks, 0) == false); /* 0 is a key like any other: full */
    ff_keyset_free(ks);
}

typedef struct arg {
    ff_keyset *ks;
    int admitted;
} arg;

static void *adder(void *p)
{
    arg *a = p;
    for (uint64_t i = 1; i <= 20000; i++)
        a->admitted += ff_keyset_admit(a->ks, ff_collect_mix64(i));
    return NULL;
}

static void test_threads(void)
{
    ff_keyset *ks = ff_keyset_new(10000);
    arg a = {ks, 0}, b = {ks, 0};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, adder, &a);
    pthread_create(&tb, NULL, adder, &b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    FF_CHECK_EQ(ff_keyset_count(ks), 10000);
    /* each thread sees every admitted key as admitted: 10,000 each at least */
    FF_CHECK(a.admitted >= 10000 - 64 && b.admitted >= 10000 - 64);
    int again = 0;
    for (uint64_t i = 1; i <= 20000; i++)
        again += ff_keyset_admit(ks, ff_collect_mix64(i));
    FF_CHECK_EQ(again, 10000);
    ff_keyset_free(ks);
}

int main(void)
{
    FF_RUN(test_hash);
    FF_RUN(test_cap);
    FF_RUN(test_threads);
    FF_DONE();
}
