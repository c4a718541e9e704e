/* ff_arena.h -- per-request / per-batch bump allocator with a byte cap.
 *
 * WHAT: work that lives exactly as long as one request or one batch allocates
 * from an arena and frees everything at once with reset or fini (h2o pools).
 *
 * DESIGN: a linked list of chunks; allocations are 16-byte aligned; a request
 * larger than the chunk size gets a chunk of its own. reset keeps the first
 * chunk for reuse and frees the rest. Every arena has a cap on the bytes it
 * may hold; an allocation past the cap returns NULL and sets over_cap, which
 * callers turn into FF_ELIMIT.
 *
 * THREADING: an arena belongs to one thread at a time; the chunk cache behind them all is
 * locked.
 * OWNERSHIP: the caller owns the ff_arena storage (init/fini); memory returned
 * by ff_arena_alloc is owned by the arena until reset/fini.
 */
#ifndef FF_ARENA_H
#define FF_ARENA_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ff_arena_chunk ff_arena_chunk;

typedef struct ff_arena {
    ff_arena_chunk *head;
    size_t chunk_bytes;
    size_t cap_bytes;
    size_t used_bytes; /* bytes held in chunks */
    bool over_cap;     /* an allocation was refused because of the cap */
} ff_arena;

void ff_arena_init(ff_arena *a, size_t chunk_bytes, size_t cap_bytes);
void ff_arena_fini(ff_arena *a);
void ff_arena_reset(ff_arena *a);

/* Returns NULL when out of memory or over the cap. */
void *ff_arena_alloc(ff_arena *a, size_t n);
char *ff_arena_strndup(ff_arena *a, const char *s, size_t n);
/* Grow p (from ff_arena_alloc, old_n bytes) to new_n bytes in place when it is the last
 * allocation of the current chunk and the chunk has room: returns p. NULL otherwise (p is
 * unchanged; allocate and copy instead). */
void *ff_arena_grow(ff_arena *a, void *p, size_t old_n, size_t new_n);

/* Freed chunks of 256 KB and more are kept process-wide for reuse, up to this many bytes. */
#define FF_ARENA_CACHE_BYTES ((size_t)512 << 20)
/* Bytes held in that cache now; free them all (tests, memory pressure). */
size_t ff_arena_cache_bytes(void);
void ff_arena_cache_drop(void);

#endif /* FF_ARENA_H */
