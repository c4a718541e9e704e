/* ff_dedupe.c -- sharded event-id window; design in ff_dedupe.h. */
#include "collect/ff_dedupe.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#include "core/ff_clock.h"
#include "core/ff_mem.h"

#define N_SHARDS 64

typedef struct dd_entry {
    uint64_t key; /* 0 = empty slot */
    uint32_t phash;
    int32_t ts_s;   /* seconds since d->base_ms */
    uint32_t pos;   /* ring position it was inserted at */
    uint32_t owner; /* 0 = STORED, else PENDING under this owner */
} dd_entry;

typedef struct dd_slot {
    uint64_t key;
    int32_t ts_s; /* copy of the entry's time: expiry checks need no table lookup */
    uint32_t unused;
} dd_slot;

typedef struct dd_shard {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint32_t n_waiters;
    uint32_t cap;    /* entries and ring slots */
    uint32_t nslots; /* table slots, >= cap * 4 / 3 */
    uint32_t count;
    uint32_t head, tail; /* ring positions; ring[pos % cap] */
    dd_entry *tab;
    dd_slot *ring;
    uint64_t evictions, expired;
    char pad[64];
} dd_shard;

struct ff_dedupe {
    int64_t base_ms;
    int64_t window_s;
    uint32_t capacity;
    dd_shard shards[N_SHARDS];
};

static inline uint64_t norm_key(uint64_t k)
{
    return k ? k : 1;
}

static inline uint32_t home(const dd_shard *sh, uint64_t key)
{
    return (uint32_t)(((key >> 32) * (uint64_t)sh->nslots) >> 32);
}

static inline uint32_t next_slot(const dd_shard *sh, uint32_t i)
{
    return i + 1 == sh->nslots ? 0 : i + 1;
}

static inline int32_t to_s(const ff_dedupe *d, int64_t ms)
{
    int64_t s = (ms - d->base_ms) / 1000;
    if (s > INT32_MAX)
        s = INT32_MAX;
    if (s < INT32_MIN)
        s = INT32_MIN;
    return (int32_t)s;
}

static int64_t find(const dd_shard *sh, uint64_t key)
{
    uint32_t i = home(sh, key);
    while (sh->tab[i].key != 0) {
        if (sh->tab[i].key == key)
            return i;
        i = next_slot(sh, i);
    }
    return -1;
}

/* Backward-shift deletion: keeps every probe chain unbroken. */
static void del_at(dd_shard *sh, uint32_t i)
{
    uint32_t j = i;
    for (;;) {
        j = next_slot(sh, j);
        if (sh->tab[j].key == 0)
            break;
        uint32_t k = home(sh, sh->tab[j].key);
        bool stays = (i <= j) ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        sh->tab[i] = sh->tab[j];
        i = j;
    }
    sh->tab[i].key = 0;
    sh->count--;
}

static void wake(dd_shard *sh)
{
    if (sh->n_waiters)
        pthread_cond_broadcast(&sh->cv);
}

/* Pop the ring head; removes the entry if the slot is still its own. */
static void pop_head(dd_shard *sh, bool count_as_eviction)
{
    uint32_t pos = sh->head++;
    uint64_t key = sh->ring[pos % sh->cap].key;
    int64_t idx = find(sh, key);
    if (idx >= 0 && sh->tab[idx].pos == pos) {
        bool pending = sh->tab[idx].owner != 0;
        del_at(sh, (uint32_t)idx);
        if (count_as_eviction)
            sh->evictions++;
        else
            sh->expired++;
        if (pending)
            wake(sh);
    }
}

static void expire_some(ff_dedupe *d, dd_shard *sh, int32_t now_s)
{
    for (int n = 0; n < 8 && sh->head != sh->tail; n++) {
        if ((int64_t)sh->ring[sh->head % sh->cap].ts_s >= now_s - d->window_s)
            break; /* the oldest entry is still inside the window */
        pop_head(sh, false);
    }
}

static void insert(dd_shard *sh, uint64_t key, uint32_t phash, int32_t ts_s, uint32_t owner,
                   uint32_t *pos_out)
{
    while (sh->tail - sh->head >= sh->cap)
        pop_head(sh, true);
    uint32_t pos = sh->tail++;
    sh->ring[pos % sh->cap] = (dd_slot){key, ts_s, 0};
    uint32_t i = home(sh, key);
    while (sh->tab[i].key != 0)
        i = next_slot(sh, i);
    sh->tab[i] = (dd_entry){key, phash, ts_s, pos, owner};
    sh->count++;
    if (pos_out)
        *pos_out = pos;
}

ff_dedupe *ff_dedupe_new(uint32_t capacity, int64_t window_ms)
{
    ff_dedupe *d = ff_calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->base_ms = ff_clock_now_ms();
    d->window_s = window_ms / 1000 > 0 ? window_ms / 1000 : 1;
    uint32_t per = (capacity + N_SHARDS - 1) / N_SHARDS;
    if (per < 16)
        per = 16;
    d->capacity = per * N_SHARDS;
    int i;
    for (i = 0; i < N_SHARDS; i++) {
        dd_shard *sh = &d->shards[i];
        sh->cap = per;
        sh->nslots = per + per / 3 + 1;
        sh->tab = ff_calloc(sh->nslots, sizeof *sh->tab);
        sh->ring = ff_calloc(per, sizeof *sh->ring);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&sh->cv, &ca);
        pthread_condattr_destroy(&ca);
        pthread_mutex_init(&sh->mu, NULL);
        if (!sh->tab || !sh->ring) {
            i++;
            goto fail;
        }
    }
    return d;
fail:
    while (i-- > 0) {
        ff_free(d->shards[i].tab);
        ff_free(d->shards[i].ring);
        pthread_cond_destroy(&d->shards[i].cv);
        pthread_mutex_destroy(&d->shards[i].mu);
    }
    ff_free(d);
    return NULL;
}

void ff_dedupe_free(ff_dedupe *d)
{
    if (!d)
        return;
    for (int i = 0; i < N_SHARDS; i++) {
        ff_free(d->shards[i].tab);
        ff_free(d->shards[i].ring);
        pthread_cond_destroy(&d->shards[i].cv);
        pthread_mutex_destroy(&d->shards[i].mu);
    }
    ff_free(d);
}

static ff_dedupe_rc reserve_locked(ff_dedupe *d, dd_shard *sh, uint64_t key, uint32_t phash,
                                   int64_t now_ms, uint32_t owner, ff_dedupe_resv *resv,
                                   uint32_t *holder)
{
    int32_t now_s = to_s(d, now_ms);
    expire_some(d, sh, now_s);
    int64_t idx = find(sh, key);
    if (idx >= 0) {
        dd_entry *e = &sh->tab[idx];
        if (e->owner == 0 && (int64_t)e->ts_s < now_s - d->window_s) {
            del_at(sh, (uint32_t)idx); /* out of the window: absent */
            sh->expired++;
        } else if (e->owner == 0 || e->owner == owner) {
            return (phash && e->phash && phash != e->phash) ? FF_DEDUPE_CONFLICT : FF_DEDUPE_DUP;
        } else {
            *holder = e->owner;
            return FF_DEDUPE_PENDING;
        }
    }
    resv->key = key;
    insert(sh, key, phash, now_s, owner, &resv->pos);
    return FF_DEDUPE_NEW;
}

ff_dedupe_rc ff_dedupe_reserve(ff_dedupe *d, uint64_t key, uint32_t phash, int64_t now_ms,
                               uint32_t owner, ff_dedupe_resv *resv)
{
    key = norm_key(key);
    dd_shard *sh = &d->shards[key % N_SHARDS];
    uint32_t holder;
    pthread_mutex_lock(&sh->mu);
    ff_dedupe_rc rc = reserve_locked(d, sh, key, phash, now_ms, owner, resv, &holder);
    pthread_mutex_unlock(&sh->mu);
    return rc;
}

ff_dedupe_rc ff_dedupe_reserve_wait(ff_dedupe *d, uint64_t key, uint32_t phash, int64_t now_ms,
                                    uint32_t owner, uint64_t deadline_mono_ns, ff_dedupe_resv *resv)
{
    key = norm_key(key);
    dd_shard *sh = &d->shards[key % N_SHARDS];
    struct timespec abst = {(time_t)(deadline_mono_ns / 1000000000u),
                            (long)(deadline_mono_ns % 1000000000u)};
    pthread_mutex_lock(&sh->mu);
    ff_dedupe_rc rc;
    for (;;) {
        uint32_t holder = 0;
        rc = reserve_locked(d, sh, key, phash, now_ms, owner, resv, &holder);
        if (rc != FF_DEDUPE_PENDING)
            break;
        if ((int32_t)(holder - owner) > 0)
            break; /* held by a younger request: never wait for one (no wait cycles) */
        if (ff_clock_mono_ns() >= deadline_mono_ns) {
            rc = FF_DEDUPE_TIMEOUT;
            break;
        }
        sh->n_waiters++;
        pthread_cond_timedwait(&sh->cv, &sh->mu, &abst);
        sh->n_waiters--;
    }
    pthread_mutex_unlock(&sh->mu);
    return rc;
}

void ff_dedupe_prefetch(const ff_dedupe *d, uint64_t key)
{
    key = norm_key(key);
    const dd_shard *sh = &d->shards[key % N_SHARDS];
    /* tab and nslots are fixed at creation: reading them needs no lock. */
    const dd_entry *e = &sh->tab[home(sh, key)];
    __builtin_prefetch(e, 1, 3);
    __builtin_prefetch((const char *)e + 64, 1, 3); /* the probe usually runs on */
}

void ff_dedupe_commit(ff_dedupe *d, const ff_dedupe_resv *resv, uint32_t owner)
{
    dd_shard *sh = &d->shards[resv->key % N_SHARDS];
    pthread_mutex_lock(&sh->mu);
    int64_t idx = find(sh, resv->key);
    if (idx >= 0 && sh->tab[idx].pos == resv->pos && sh->tab[idx].owner == owner) {
        sh->tab[idx].owner = 0;
        wake(sh);
    }
    pthread_mutex_unlock(&sh->mu);
}

void ff_dedupe_release(ff_dedupe *d, const ff_dedupe_resv *resv, uint32_t owner)
{
    dd_shard *sh = &d->shards[resv->key % N_SHARDS];
    pthread_mutex_lock(&sh->mu);
    int64_t idx = find(sh, resv->key);
    if (idx >= 0 && sh->tab[idx].pos == resv->pos && sh->tab[idx].owner == owner) {
        del_at(sh, (uint32_t)idx);
        wake(sh);
    }
    pthread_mutex_unlock(&sh->mu);
}

void ff_dedupe_seed(ff_dedupe *d, uint64_t key, int64_t ts_ms, int64_t now_ms)
{
    key = norm_key(key);
    dd_shard *sh = &d->shards[key % N_SHARDS];
    int32_t ts_s = to_s(d, ts_ms), now_s = to_s(d, now_ms);
    if ((int64_t)ts_s < now_s - d->window_s)
        return;
    pthread_mutex_lock(&sh->mu);
    expire_some(d, sh, now_s);
    if (find(sh, key) < 0)
        insert(sh, key, 0, ts_s, 0, NULL);
    pthread_mutex_unlock(&sh->mu);
}

void ff_dedupe_stats_get(ff_dedupe *d, ff_dedupe_stats *out)
{
    memset(out, 0, sizeof *out);
    out->capacity = d->capacity;
    for (int i = 0; i < N_SHARDS; i++) {
        dd_shard *sh = &d->shards[i];
        pthread_mutex_lock(&sh->mu);
        out->entries += sh->count;
        out->evictions += sh->evictions;
        out->expired += sh->expired;
        pthread_mutex_unlock(&sh->mu);
    }
}
