/* ff_keyset.c -- hashing helpers and the process-wide distinct-key set.
 *
 * The key set bounds how many distinct property keys the collector lets
 * into storage (a column-per-key store or a dashboard key picker must not be
 * blown up by a client sending random keys). It is an insert-only open-
 * addressing table of 64-bit hashes with twice as many slots as the cap, so
 * probes stay short; slots are atomics and insertion is a CAS, so request
 * threads never take a lock. Keys are never removed (a restart clears the
 * set). A hash collision would let a new key through as "known": harmless.
 */
#include <stdatomic.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "collect/ff_collect_int.h"
#include "core/ff_mem.h"

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t load32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline uint64_t mum(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

#define K0 0xa0761d6478bd642fULL
#define K1 0xe7037ed1a0b428dbULL
#define K2 0x8ebc6af09c88c6e3ULL
#define K3 0x589965cc75374cc3ULL

uint64_t ff_collect_hash64(uint64_t seed, const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = seed ^ mum(seed ^ K0, K1);
    uint64_t a, b;
    size_t left = n;
    while (left > 16) {
        h = mum(load64(p) ^ K1, load64(p + 8) ^ h);
        p += 16;
        left -= 16;
    }
    if (left >= 8) {
        a = load64(p);
        b = load64(p + left - 8);
    } else if (left >= 4) {
        a = load32(p);
        b = load32(p + left - 4);
    } else if (left > 0) {
        a = ((uint64_t)p[0] << 16) | ((uint64_t)p[left >> 1] << 8) | p[left - 1];
        b = 0;
    } else {
        a = b = 0;
    }
    h = mum(a ^ K1, b ^ h);
    return mum(h ^ K2, (uint64_t)n ^ K3);
}

uint64_t ff_collect_mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void ff_collect_random_seed(uint64_t seed[2])
{
    if (getrandom(seed, 2 * sizeof seed[0], GRND_NONBLOCK) == (ssize_t)(2 * sizeof seed[0]))
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)(uintptr_t)seed;
    seed[0] = ff_collect_mix64(x);
    seed[1] = ff_collect_mix64(seed[0] ^ (uint64_t)time(NULL));
}

struct ff_keyset {
    uint32_t cap;
    uint32_t mask;
    atomic_uint count;
    _Atomic uint64_t *slots; /* 0 = empty */
};

ff_keyset *ff_keyset_new(uint32_t cap)
{
    ff_keyset *ks = ff_calloc(1, sizeof *ks);
    if (!ks)
        return NULL;
    uint32_t n = 64;
    while (n < (uint64_t)cap * 2 && n < (1u << 30))
        n <<= 1;
    ks->slots = ff_calloc(n, sizeof *ks->slots);
    if (!ks->slots) {
        ff_free(ks);
        return NULL;
    }
    ks->cap = cap < n / 2 ? cap : n / 2;
    ks->mask = n - 1;
    atomic_init(&ks->count, 0);
    return ks;
}

void ff_keyset_free(ff_keyset *ks)
{
    if (!ks)
        return;
    ff_free((void *)ks->slots);
    ff_free(ks);
}

bool ff_keyset_admit(ff_keyset *ks, uint64_t h)
{
    if (h == 0)
        h = 1;
    uint32_t i = (uint32_t)(h >> 32) & ks->mask;
    for (uint32_t probes = 0; probes <= ks->mask; probes++, i = (i + 1) & ks->mask) {
        uint64_t v = atomic_load_explicit(&ks->slots[i], memory_order_acquire);
        if (v == h)
            return true;
        if (v != 0)
            continue;
        /* Empty slot: h is absent. Claim a unit of the cap, then the slot. */
        unsigned c = atomic_fetch_add_explicit(&ks->count, 1, memory_order_relaxed);
        if (c >= ks->cap) {
            atomic_fetch_sub_explicit(&ks->count, 1, memory_order_relaxed);
            /* Another thread may be inserting h right now; a last look. */
            for (uint32_t j = i, k = 0; k <= ks->mask; k++, j = (j + 1) & ks->mask) {
                uint64_t w = atomic_load_explicit(&ks->slots[j], memory_order_acquire);
                if (w == h)
                    return true;
                if (w == 0)
                    break;
            }
            return false;
        }
        uint64_t expect = 0;
        if (atomic_compare_exchange_strong_explicit(&ks->slots[i], &expect, h, memory_order_acq_rel,
                                                    memory_order_acquire))
            return true;
        atomic_fetch_sub_explicit(&ks->count, 1, memory_order_relaxed);
        if (expect == h)
            return true;
        /* Lost the slot to another key: keep probing. */
    }
    return false;
}

uint32_t ff_keyset_count(const ff_keyset *ks)
{
    return atomic_load_explicit(&((ff_keyset *)ks)->count, memory_order_relaxed);
}
