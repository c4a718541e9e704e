/* ff_ratelimit.c -- see ff_ratelimit.h. */
#include "http/ff_ratelimit.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <xxhash.h>

#include "core/ff_mem.h"

#define N_BUCKETS 4096
#define N_LOCKS 64

typedef struct bucket {
    char addr[48];
    double tokens;
    uint64_t last_ns;
} bucket;

struct ff_ratelimit {
    double rate;
    double burst;
    pthread_mutex_t locks[N_LOCKS];
    bucket buckets[N_BUCKETS];
};

ff_rc ff_ratelimit_new(double rate_per_s, double burst, ff_ratelimit **out, ff_err *err)
{
    if (!(rate_per_s > 0) || !(burst >= 1))
        return FF_ERR_SET(err, FF_EINVAL, "rate limit needs rate > 0 and burst >= 1");
    ff_ratelimit *rl = ff_calloc(1, sizeof *rl);
    if (!rl)
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    rl->rate = rate_per_s;
    rl->burst = burst;
    for (int i = 0; i < N_LOCKS; i++)
        pthread_mutex_init(&rl->locks[i], NULL);
    *out = rl;
    return FF_OK;
}

void ff_ratelimit_free(ff_ratelimit *rl)
{
    if (!rl)
        return;
    for (int i = 0; i < N_LOCKS; i++)
        pthread_mutex_destroy(&rl->locks[i]);
    ff_free(rl);
}

bool ff_ratelimit_take(ff_ratelimit *rl, const char *addr, uint64_t now_ns, uint32_t *retry_after_s)
{
    size_t len = strlen(addr);
    if (len >= sizeof rl->buckets[0].addr)
        len = sizeof rl->buckets[0].addr - 1;
    uint64_t h = XXH3_64bits(addr, len);
    size_t i = (size_t)(h % N_BUCKETS);
    pthread_mutex_t *mu = &rl->locks[i % N_LOCKS];
    bucket *b = &rl->buckets[i];
    pthread_mutex_lock(mu);
    if (strncmp(b->addr, addr, len) != 0 || b->addr[len] != '\0') {
        memcpy(b->addr, addr, len);
        b->addr[len] = '\0';
        b->tokens = rl->burst;
        b->last_ns = now_ns;
    }
    double dt = now_ns > b->last_ns ? (double)(now_ns - b->last_ns) / 1e9 : 0;
    b->last_ns = now_ns;
    b->tokens = fmin(rl->burst, b->tokens + dt * rl->rate);
    bool ok = b->tokens >= 1.0;
    if (ok) {
        b->tokens -= 1.0;
    } else if (retry_after_s) {
        *retry_after_s = (uint32_t)ceil((1.0 - b->tokens) / rl->rate);
    }
    pthread_mutex_unlock(mu);
    return ok;
}
