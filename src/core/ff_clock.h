/* ff_clock.h -- wall and monotonic time, RFC 3339 parsing and formatting.
 *
 * WHAT: event time is milliseconds since the Unix epoch, UTC, as int64.
 * Parsing accepts RFC 3339 / ISO 8601 date-times as SDKs send them
 * ("2012-12-02T00:30:12.984Z", "+02:00" offsets, 0-9 fraction digits,
 * a space instead of T) and validates every field (no Feb 30, no 25:61).
 *
 * THREADING: all functions are thread-safe and allocate nothing.
 */
#ifndef FF_CLOCK_H
#define FF_CLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

int64_t ff_clock_now_ms(void);   /* CLOCK_REALTIME */
uint64_t ff_clock_mono_ns(void); /* CLOCK_MONOTONIC */

/* Parse an RFC 3339 date-time; returns false when it is not one. */
bool ff_clock_parse_rfc3339(const char *s, size_t len, int64_t *ms_out);
/* Format as "YYYY-MM-DDTHH:MM:SS.mmmZ"; buf needs 25 bytes. Returns length. */
size_t ff_clock_format_rfc3339(int64_t ms, char *buf);
/* Days since the epoch for a proleptic Gregorian date. */
int64_t ff_clock_days_from_civil(int64_t y, unsigned m, unsigned d);

#endif /* FF_CLOCK_H */
