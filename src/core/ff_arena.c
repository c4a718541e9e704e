#include "core/ff_arena.h"

#include <stdint.h>
#include <string.h>

#include "core/ff_mem.h"

struct ff_arena_chunk {
    ff_arena_chunk *next;
    size_t size;
    size_t used;
    _Alignas(16) unsigned char data[];
};

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
        ff_free(c);
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
            ff_free(c);
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
    ff_arena_chunk *nc = ff_malloc(sizeof *nc + size);
    if (!nc)
        return NULL;
    nc->size = size;
    nc->used = n;
    a->used_bytes += size;
    if (c && size != a->chunk_bytes) {
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
