/* ff_http_enc.h -- content negotiation for the static files the server sends compressed.
 *
 * WHAT: does a request's Accept-Encoding header accept gzip? (RFC 9110 12.5.3)
 *
 * DESIGN: a "gzip" or "x-gzip" coding, or "*" when gzip is not named, whose q is not 0, is
 * acceptable; names are case-insensitive; a header that is absent (NULL) or names neither
 * accepts nothing (identity is always acceptable, so the plain bytes are the fallback).
 * Malformed parts are skipped, never an error: the answer is then the plain file.
 *
 * INVARIANTS: reads the string only up to its NUL; no allocation.
 * THREADING: pure function. OWNERSHIP: borrows the header for the call.
 */
#ifndef FF_HTTP_ENC_H
#define FF_HTTP_ENC_H

#include <stdbool.h>

bool ff_http_accepts_gzip(const char *accept_encoding);

#endif /* FF_HTTP_ENC_H */
