/* ff_mem.h -- the one door to the heap.
 *
 * WHAT: malloc/calloc/realloc/free wrappers that every module uses, so tests
 * can make the Nth allocation fail (fault injection, as in SQLite's os.c and
 * curl's torture tests).
 *
 * DESIGN: ff_mem_fail_after(n) arms a countdown; the allocation that brings it
 * to zero returns NULL, and every later one succeeds again. Disarmed (the
 * default) the wrappers cost one relaxed atomic load.
 *
 * THREADING: thread-safe. OWNERSHIP: returns owned memory; ff_free takes it.
 */
#ifndef FF_MEM_H
#define FF_MEM_H

#include <stddef.h>

void *ff_malloc(size_t n);
void *ff_calloc(size_t count, size_t n);
void *ff_realloc(void *p, size_t n);
void ff_free(void *p); /* NULL is a no-op */
char *ff_strdup(const char *s);
char *ff_strndup(const char *s, size_t n);

/* Fault injection: the n-th allocation from now fails (n >= 1); 0 disarms. */
void ff_mem_fail_after(long n);

#endif /* FF_MEM_H */
