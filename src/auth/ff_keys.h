/* ff_keys.h -- API keys: write (ingest), read (queries), admin.
 *
 * WHAT: keys are single-purpose. A write key may only send events; a read
 * key may only query; an admin key manages. Keys are stored hashed: the
 * clear key is printed once by `footfall keys create` and never written.
 *
 * DESIGN: a key is "ff" + kind letter (w/r/a) + "_" + 32 base62 characters
 * from getrandom(2) (about 190 bits). The store is DATA/keys.tsv, one line
 * per key: id, kind, SHA-256 of the key (hex), created (ms), revoked (ms or
 * 0), name. Because keys carry 190 bits of entropy a plain SHA-256 is the
 * right hash (no password stretching needed) and makes lookups cheap. The
 * file is replaced atomically (write temp, fsync, rename, fsync dir).
 * A running server re-reads the file when its mtime changes (checked at
 * most once a second), so created or revoked keys apply without restart.
 * Comparison of hashes is constant-time.
 *
 * THREADING: ff_keys_check and ff_keys_maybe_reload are thread-safe (a
 * read-write lock around an immutable table).
 * OWNERSHIP: open returns an owned handle.
 */
#ifndef FF_KEYS_H
#define FF_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "core/ff_err.h"

typedef enum ff_key_kind {
    FF_KEY_WRITE = 0,
    FF_KEY_READ = 1,
    FF_KEY_ADMIN = 2,
} ff_key_kind;

typedef struct ff_keys ff_keys;

ff_rc ff_keys_open(const char *data_dir, ff_keys **out, ff_err *err);
void ff_keys_close(ff_keys *k);

/* Create a key; writes the clear key (NUL-terminated) into key_out (>= 40
 * bytes) and its id into id_out (>= 17 bytes). */
ff_rc ff_keys_create(ff_keys *k, ff_key_kind kind, const char *name, char *key_out, char *id_out,
                     ff_err *err);
ff_rc ff_keys_revoke(ff_keys *k, const char *id, ff_err *err);

/* Look a presented key up. FF_OK and *kind_out when it is known and not
 * revoked; FF_EAUTH otherwise. */
ff_rc ff_keys_check(ff_keys *k, const char *key, size_t len, ff_key_kind *kind_out);

/* Re-read the file if it changed; cheap to call often. */
void ff_keys_maybe_reload(ff_keys *k);

/* List keys (id, kind, created, revoked, name) as text lines. */
void ff_keys_list(ff_keys *k,
                  void (*fn)(void *ud, const char *id, ff_key_kind kind, int64_t created_ms,
                             int64_t revoked_ms, const char *name),
                  void *ud);

const char *ff_key_kind_name(ff_key_kind kind);

#endif /* FF_KEYS_H */
