#include "core/ff_arena.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "core/ff_mem.h"

struct ff_arena_chunk {
    ff_arena_chunk *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

/* ---- chunk cache -------------------------------------------------------------------------
 * A query allocates and frees hundreds of MB of chunks. Handed back to malloc, that memory
 * came back fresh for the next query, and every page was faulted in and zeroed by the kernel
 * again (a sixth of a 20M-event funnel's CPU in a VM). Chunks of 256 KB and more are kept in
 * a process-wide cache (at most FF_ARENA_CACHE_BYTES: a large query's working set, e.g. 1.4M
 * groups of (person, day)) and handed to the next arena that asks
 * for a size they fit (up to 1/4 larger). */
#define CACHE_MIN_CHUNK ((size_t)256 << 10)

static struct {
    pthread_mutex_t mu;
    ff_arena_chunk *head;
    size_t bytes;
} cache = {PTHREAD_MUTEX_INITIALIZER, NULL, 0};

static ff_arena_chunk *chunk_take(size_t size)
{
    if (size >= CACHE_MIN_CHUNK) {
        pthread_mutex_lock(&cache.mu);
        for (ff_arena_chunk **pp = &cache.head; *pp; pp = &(*pp)->next) {
            ff_arena_chunk *c = *pp;
            if (c->size >= size && c->size - size <= size / 4) {
                *pp = c->next;
                cache.bytes -= c->size;
                pthread_mutex_unlock(&cache.mu);
                return c;
            }
        }
        pthread_mutex_unlock(&cache.mu);
    }
    ff_arena_chunk *c = ff_malloc(sizeof *c + size);
    if (c)
        c->size = size;
    return c;
}

static void chunk_release(ff_arena_chunk *c)
{
    if (c->size >= CACHE_MIN_CHUNK) {
        pthread_mutex_lock(&cache.mu);
        if (cache.bytes + c->size <= FF_ARENA_CACHE_BYTES) {
            c->next = cache.head;
            cache.head = c;
            cache.bytes += c->size;
            pthread_mutex_unlock(&cache.mu);
            return;
        }
        pthread_mutex_unlock(&cache.mu);
    }
    ff_free(c);
}

void ff_arena_cache_drop(void)
{
    pthread_mutex_lock(&cache.mu);
    ff_arena_chunk *c = cache.head;
    cache.head = NULL;
    cache.bytes = 0;
    pthread_mutex_unlock(&cache.mu);
    while (c) {
        ff_arena_chunk *n = c->next;
        ff_free(c);
        c = n;
    }
}

size_t ff_arena_cache_bytes(void)
{
    pthread_mutex_lock(&cache.mu);
    size_t b = cache.bytes;
    pthread_mutex_unlock(&cache.mu);
    return b;
}

void ff_arena_init(ff_arena *a, size_t chunk_bytes, size_t cap_bytes)
{
    memset(a, 0, sizeof *a);
    a->chunk_bytes = chunk_bytes ? chunk_bytes : 64 * 1024;
    a->cap_bytes = cap_bytes ? cap_bytes : SIZE_MAX;
}

void ff_arena_fini(ff_arena *a)
{
    ff_arena_chunk *c = a->head;
    while (c) {
        ff_arena_chunk *n = c->next;
        chunk_release(c);
        c = n;
    }
    a->head = NULL;
    a->used_bytes = 0;
}

void ff_arena_reset(ff_arena *a)
{
    ff_arena_chunk *c = a->head;
    ff_arena_chunk *keep = NULL;
    while (c) {
        ff_arena_chunk *n = c->next;
        if (!n && c->size == a->chunk_bytes) {
            keep = c; /* the oldest standard chunk is reused */
        } else {
            chunk_release(c);
        }
        c = n;
    }
    a->head = keep;
    a->used_bytes = 0;
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
        a->used_bytes = keep->size;
    }
    a->over_cap = false;
}

void *ff_arena_alloc(ff_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    ff_arena_chunk *c = a->head;
    if (c && c->size - c->used >= n) {
        void *p = c->data + c->used;
        c->used += n;
        return p;
    }
    size_t size = n > a->chunk_bytes ? n : a->chunk_bytes;
    if (size > a->cap_bytes || a->used_bytes > a->cap_bytes - size) {
        a->over_cap = true;
        return NULL;
    }
    bool standard = size == a->chunk_bytes;
    ff_arena_chunk *nc = chunk_take(size);
    if (!nc)
        return NULL;
    nc->used = n;
    a->used_bytes += nc->size; /* a cached chunk may be a little larger */
    if (c && !standard) {
        /* A big one-off chunk goes behind the head so the head keeps serving. */
        nc->next = c->next;
        c->next = nc;
    } else {
        nc->next = c;
        a->head = nc;
    }
    return nc->data;
}

char *ff_arena_strndup(ff_arena *a, const char *s, size_t n)
{
    char *d = ff_arena_alloc(a, n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

void *ff_arena_grow(ff_arena *a, void *p, size_t old_n, size_t new_n)
{
    ff_arena_chunk *c = a->head;
    size_t r_old = old_n ? (old_n + 15) & ~(size_t)15 : 16;
    size_t r_new = new_n ? (new_n + 15) & ~(size_t)15 : 16;
    if (!c || !p || (unsigned char *)p + r_old != c->data + c->used || r_new < new_n)
        return NULL;
    if (c->used - r_old + r_new > c->size)
        return NULL;
    c->used = c->used - r_old + r_new;
    return p;
}
