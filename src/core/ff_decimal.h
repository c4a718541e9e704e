/* ff_decimal.h -- exact decimal text to scaled integers.
 *
 * WHAT: money and prices must never go through binary floating point. This
 * turns the text of a JSON number or a numeric string ("19.99", "-0.5",
 * "1.25e2") into an integer count of 10^-scale units, rounding half-even
 * when the text has more fraction digits than the scale, and says whether
 * it rounded. The collector uses it with the currency's minor-unit digits,
 * the store with its fixed Decimal(18, 4) scale.
 *
 * DESIGN: one pass over the digits; the exponent only moves the decimal
 * point, so "1e-400" is exactly 0 and "1e400" is out of range, without ever
 * computing a power. Grammar: optional '-', digits, optional '.' digits,
 * optional e/E [+-] digits (JSON's number grammar, leading zeros allowed).
 *
 * THREADING: pure function. OWNERSHIP: borrows the text.
 */
#ifndef FF_DECIMAL_H
#define FF_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ff_err.h"

/* Parse s[0..len) into units of 10^-scale. With scale < 0 the number keeps
 * its own fraction digits, at most max_free_scale (then rounded). On FF_OK
 * *scale_out (may be NULL) holds the scale used. FF_EBADINPUT: not a decimal
 * number; FF_ELIMIT: the units do not fit an int64. */
ff_rc ff_decimal_parse_scaled(const char *s, size_t len, int scale, int max_free_scale,
                              int64_t *units_out, int *scale_out, bool *rounded);

#endif /* FF_DECIMAL_H */
