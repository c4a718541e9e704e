/* ff_stream_int.h -- helpers shared inside src/stream (not part of the processor's API).
 *
 * WHAT: the small building blocks the processor's concept files share: a string-keyed hash
 * map (ff_smap), the checkpoint's binary writer/reader (ff_ser_*), the dedupe window
 * (ff_sdedupe), deterministic ids for derived events (ff_stream_uuid) and URL path
 * extraction.
 *
 * DESIGN:
 *  - ff_smap: open addressing with linear probing and backward-shift deletion (no tombstones);
 *    keys are copied (one allocation per entry holding the key bytes), values are a pointer or
 *    an int64 the caller interprets. Load <= 0.7; grows by doubling up to max_entries (after
 *    that ff_smap_put returns FF_ELIMIT). Hash: XXH3-64 of the key bytes.
 *  - ff_ser: little-endian fixed-width integers and length-prefixed byte strings into an
 *    ff_buf; the reader never reads past its input (a short or damaged checkpoint sets `bad`
 *    and every later read returns zeros).
 *  - ff_sdedupe: the store's rule (ff_store.h, "Dedupe"): 64-bit XXH3 of event_id, a FIFO ring
 *    ordered by insertion with a linear-probing index of ring positions; entries whose
 *    received_at is older than (max received_at seen - window_ms) leave from the front, and at
 *    max_ids the oldest leaves early (counted).
 *
 * INVARIANTS: (1) an smap never holds two entries with the same key; (2) the dedupe index
 * holds exactly the ring's live positions.
 *
 * THREADING: none; each object belongs to one thread. OWNERSHIP: ff_smap owns its key copies,
 * not the pointed-to values (the caller frees those, e.g. by iterating before ff_smap_fini).
 */
#ifndef FF_STREAM_INT_H
#define FF_STREAM_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ff_buf.h"
#include "core/ff_err.h"

/* ---- string map -------------------------------------------------------------------------- */

typedef struct ff_smap_ent {
    uint64_t hash;
    char *key; /* NULL = empty slot; owned, NUL-terminated */
    uint32_t klen;
    union {
        void *p;
        int64_t i;
    } v;
} ff_smap_ent;

typedef struct ff_smap {
    ff_smap_ent *slots;
    size_t cap; /* power of two, 0 before the first put */
    size_t n;
    size_t max_entries;
    size_t key_bytes; /* sum of key lengths (memory accounting) */
} ff_smap;

void ff_smap_init(ff_smap *m, size_t max_entries);
void ff_smap_fini(ff_smap *m); /* frees key copies, not values */
uint64_t ff_smap_hash(const char *k, size_t len);
/* The entry for key, or NULL. */
ff_smap_ent *ff_smap_get(const ff_smap *m, const char *k, size_t len);
/* The entry for key, created (value zeroed) when missing (*created says so). FF_ELIMIT at
 * max_entries, FF_ENOMEM. Pointers to entries are invalidated by any later put/del. */
ff_rc ff_smap_put(ff_smap *m, const char *k, size_t len, ff_smap_ent **out, bool *created);
/* Remove key; returns true when it was there. */
bool ff_smap_del(ff_smap *m, const char *k, size_t len);
/* Iterate: for (size_t i = 0; i < m->cap; i++) if (m->slots[i].key) ... (no put/del meanwhile) */

/* ---- checkpoint serialisation ------------------------------------------------------------ */

ff_rc ff_ser_u64(ff_buf *b, uint64_t v);
ff_rc ff_ser_i64(ff_buf *b, int64_t v);
ff_rc ff_ser_u32(ff_buf *b, uint32_t v);
ff_rc ff_ser_bytes(ff_buf *b, const void *p, size_t n); /* u32 length + bytes */
ff_rc ff_ser_str(ff_buf *b, const char *s);             /* NULL written as empty */

typedef struct ff_deser {
    const unsigned char *p;
    size_t n, pos;
    bool bad;
} ff_deser;

uint64_t ff_deser_u64(ff_deser *d);
int64_t ff_deser_i64(ff_deser *d);
uint32_t ff_deser_u32(ff_deser *d);
/* A view into the input (not copied); *len_out gets its length; NULL + bad on overrun. */
const void *ff_deser_bytes(ff_deser *d, size_t *len_out);
/* A heap copy (ff_malloc), NUL-terminated; NULL for an empty string or on error. */
char *ff_deser_strdup(ff_deser *d);

/* ---- dedupe window ----------------------------------------------------------------------- */

typedef struct ff_sdedupe ff_sdedupe;

ff_sdedupe *ff_sdedupe_new(uint64_t max_ids, int64_t window_ms);
void ff_sdedupe_free(ff_sdedupe *d);
/* True when event_id was seen within the window (a duplicate); otherwise remembers it. */
bool ff_sdedupe_check(ff_sdedupe *d, const char *id, size_t len, int64_t received_at_ms);
uint64_t ff_sdedupe_size(const ff_sdedupe *d);
uint64_t ff_sdedupe_evicted(const ff_sdedupe *d);
size_t ff_sdedupe_bytes(const ff_sdedupe *d);

/* ---- misc -------------------------------------------------------------------------------- */

/* A UUID-shaped id (version 8, RFC 9562 "custom") from XXH3-128 of text: deterministic, so a
 * derived event re-created after a crash gets the same event_id. out needs 37 bytes. */
void ff_stream_uuid(const char *text, size_t len, char out[37]);
/* The path of a URL: from the first '/' after "scheme://host" (or the start) up to '?' or
 * '#'; "/" when the URL has a host and no path. *len_out = 0 for an empty url. */
const char *ff_stream_url_path(const char *url, size_t len, size_t *len_out);
/* Find the string value of "key" at the top level of a compact JSON object text (our own
 * canonical output: no whitespace); returns a pointer to the raw (still escaped) bytes, or
 * NULL. Used for a few properties (payment_method, $previous_id) without a full parse. */
const char *ff_stream_json_str(const char *obj, size_t len, const char *key, size_t *len_out);

#endif /* FF_STREAM_INT_H */
