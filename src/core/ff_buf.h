/* ff_buf.h -- a growable byte buffer with a maximum (curl's dynbuf).
 *
 * WHAT: the one growable buffer. Every buffer is given a maximum at init;
 * growing past it fails with FF_ELIMIT and leaves the content untouched.
 *
 * DESIGN: doubling growth; the content is always NUL-terminated (the NUL is
 * not counted in len) so text can be passed to C string functions.
 *
 * THREADING: one thread at a time. OWNERSHIP: the caller owns the ff_buf
 * storage; ff_buf_detach returns owned memory (free with ff_free).
 */
#ifndef FF_BUF_H
#define FF_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "core/ff_err.h"

typedef struct ff_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
} ff_buf;

void ff_buf_init(ff_buf *b, size_t max_bytes);
void ff_buf_fini(ff_buf *b);
void ff_buf_reset(ff_buf *b); /* len = 0, keeps memory */

ff_rc ff_buf_reserve(ff_buf *b, size_t extra);
ff_rc ff_buf_add(ff_buf *b, const void *p, size_t n);
ff_rc ff_buf_addc(ff_buf *b, char c);
ff_rc ff_buf_adds(ff_buf *b, const char *s);
ff_rc ff_buf_printf(ff_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
ff_rc ff_buf_add_u64(ff_buf *b, uint64_t v);
ff_rc ff_buf_add_i64(ff_buf *b, int64_t v);
char *ff_buf_detach(ff_buf *b);

#endif /* FF_BUF_H */
