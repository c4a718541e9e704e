/* ff_tz.h -- IANA time zones from the system's TZif files: UTC <-> local time per zone.
 *
 * WHAT: ff_tz_get loads a zone by its IANA name ("Europe/Berlin") from the TZif file (RFC 8536,
 * versions 1-4) under $TZDIR or /usr/share/zoneinfo (Debian package tzdata) and returns an
 * immutable zone; ff_tz_offset gives its UTC offset at an instant, ff_tz_span the whole interval
 * around an instant over which that offset holds (so a loop over sorted or clustered times
 * looks the table up once per interval), ff_tz_from_local the instant of a local wall time.
 * Past the file's last transition the POSIX TZ rule of the footer ("CET-1CEST,M3.5.0,
 * M10.5.0/3") is used, as RFC 8536 says; before the first one, the first standard-time type
 * (glibc's choice; zic writes the LMT type first, so that is RFC 8536's type 0 as well).
 *
 * WHY HAND-WRITTEN: glibc's localtime_r works in the process-wide zone of TZ/tzset(), so it
 * cannot give several queries on several threads their own zones; Debian has no small C
 * time-zone library to link. The format is small and stable, and tests/unit/core/test_tz.c
 * checks this reader against glibc's localtime_r for many zones and instants 1970-2100.
 *
 * SAFETY: a zone name is checked before any file is opened: 1-255 bytes of [A-Za-z0-9_+-/],
 * no leading '/', no empty component (so no "..": '.' is not allowed at all); only regular
 * files of at most 1 MiB are read, and every count and index of the file is bounds-checked.
 * Files with leap seconds ("right/...") are refused (FF_EBADINPUT): their times are not
 * POSIX times. "UTC" is built in and needs no file.
 *
 * CACHE: zones are loaded once per process and kept (cache by name, at most FF_TZ_MAX_ZONES
 * names; past that ff_tz_get fails with FF_ELIMIT). A zone pointer stays valid until exit.
 *
 * THREADING: ff_tz_get is thread-safe (one mutex around the cache); a zone is immutable, so
 * the other functions are pure and can run on any thread. OWNERSHIP: zones belong to the
 * cache; never free them.
 */
#ifndef FF_TZ_H
#define FF_TZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ff_err.h"

#define FF_TZ_MAX_ZONES 1024 /* distinct names loaded per process (tzdata has ~600) */
#define FF_TZ_NAME_MAX 255

typedef struct ff_tz ff_tz;

/* An interval [lo, hi) of UTC seconds with one UTC offset (seconds east of UTC). */
typedef struct ff_tz_span {
    int64_t lo, hi;
    int32_t off;
} ff_tz_span;

/* Whether name is an acceptable zone name (see SAFETY); nothing is opened. */
bool ff_tz_name_ok(const char *name, size_t len);

/* The zone named name[0..len): FF_OK and *out, or FF_EBADINPUT (a bad name, a file that is no
 * TZif or has leap seconds), FF_ENOTFOUND (no such file), FF_ELIMIT (cache full), FF_EIO,
 * FF_ENOMEM; err gets a message naming the zone. */
ff_rc ff_tz_get(const char *name, size_t len, const ff_tz **out, ff_err *err);

/* The built-in UTC zone (never NULL). */
const ff_tz *ff_tz_utc(void);

const char *ff_tz_name(const ff_tz *z);
/* True for a zone whose offset is 0 at every instant (UTC, Etc/UTC, GMT ...). */
bool ff_tz_is_utc(const ff_tz *z);

/* Offset from UTC (local = utc + offset) at UTC second t. */
int32_t ff_tz_offset(const ff_tz *z, int64_t t);
/* The interval holding t over which the offset is constant (lo/hi may be INT64_MIN/MAX). */
void ff_tz_span_at(const ff_tz *z, int64_t t, ff_tz_span *sp);

/* The UTC second at which local wall time `local` (seconds since 1970-01-01 00:00 local)
 * occurs. Repeated local times (a fall-back) give the earlier instant. Skipped local times
 * (a spring-forward gap) give local - (offset before the gap) when gap_after, i.e. an instant
 * at or after the gap, else local - (offset after the gap), before it. */
int64_t ff_tz_from_local(const ff_tz *z, int64_t local, bool gap_after);

#endif /* FF_TZ_H */
