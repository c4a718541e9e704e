/* test_tz.c -- ff_tz against glibc's localtime_r (the same TZif files), hand-checked offsets,
 * local -> UTC, name validation and the cache. Single-threaded where it sets TZ. */
#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ff_clock.h"
#include "core/ff_tz.h"
#include "ff_test.h"

static const char *zones[] = {
    "Europe/Berlin",      "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
    "America/Sao_Paulo",  "Pacific/Apia",     "Africa/Casablanca",   "UTC",
    "Europe/London",      "America/St_Johns", "Asia/Tehran",         "Pacific/Chatham",
    "America/Santiago",   "Europe/Dublin",    "Antarctica/Troll",    "America/Godthab",
    "Asia/Kolkata",       "Etc/GMT+5",        "Pacific/Kiritimati",  "America/Havana",
    "Australia/Adelaide", "Asia/Gaza",        "Europe/Moscow",       "Africa/Monrovia",
};

static int64_t day(int y, unsigned m, unsigned d)
{
    return ff_clock_days_from_civil(y, m, d) * 86400;
}

static long glibc_off(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (!localtime_r(&tt, &tm))
        return 99999999;
    return tm.tm_gmtoff;
}

static int mismatches;

static void cmp_at(const ff_tz *z, const char *name, int64_t t)
{
    long want = glibc_off(t);
    int32_t got = ff_tz_offset(z, t);
    ff_tz_span sp;
    ff_tz_span_at(z, t, &sp);
    if (got != want || sp.off != got || t < sp.lo || t >= sp.hi) {
        if (mismatches++ < 20)
            fprintf(stderr, "%s at %lld: ff_tz %d (span %lld..%lld), glibc %ld\n", name,
                    (long long)t, got, (long long)sp.lo, (long long)sp.hi, want);
    }
    /* the local wall time maps back to an instant with that wall time, the earliest one */
    int64_t local = t + got, u = ff_tz_from_local(z, local, true);
    if (u + ff_tz_offset(z, u) != local || u > t) {
        if (mismatches++ < 20)
            fprintf(stderr, "%s: from_local(%lld) = %lld, t = %lld\n", name, (long long)local,
                    (long long)u, (long long)t);
    }
}

/* Every zone, 1970-2100: a sweep of uneven steps, and both sides of each offset change. */
static void test_against_glibc(void)
{
    int64_t from = day(1970, 1, 1), to = day(2100, 12, 31);
    long checks = 0;
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
        const ff_tz *z = NULL;
        ff_err err;
        FF_CHECK(ff_tz_get(zones[i], strlen(zones[i]), &z, &err) == FF_OK);
        if (!z) {
            fprintf(stderr, "%s: %s\n", zones[i], err.msg);
            continue;
        }
        setenv("TZ", zones[i], 1);
        tzset();
        for (int64_t t = from; t < to; t += 7 * 3600 + 1217, checks++)
            cmp_at(z, zones[i], t);
        int transitions = 0;
        for (int64_t t = from; t < to; transitions++) {
            ff_tz_span sp;
            ff_tz_span_at(z, t, &sp);
            for (int64_t d = -2; d <= 1; d++, checks++)
                if (sp.hi != INT64_MAX)
                    cmp_at(z, zones[i], sp.hi + d);
            if (sp.hi == INT64_MAX || sp.hi <= t)
                break;
            t = sp.hi;
        }
        if (strcmp(zones[i], "Europe/Berlin") == 0) /* 1980 on, two a year (span ends: 3/yr) */
            FF_CHECK(transitions >= 2 * 120);
    }
    unsetenv("TZ");
    tzset();
    FF_CHECK(checks > 1000000);
    FF_CHECK_EQ(mismatches, 0);
}

static const ff_tz *get(const char *name)
{
    const ff_tz *z = NULL;
    FF_VERIFY(ff_tz_get(name, strlen(name), &z, NULL) == FF_OK);
    return z;
}

/* Offsets worked out by hand from the zones' published rules. */
static void test_known_offsets(void)
{
    const ff_tz *be = get("Europe/Berlin");
    int64_t change = day(2026, 3, 29) + 3600; /* 2026-03-29 01:00 UTC: 02:00 CET -> 03:00 */
    FF_CHECK_EQ(ff_tz_offset(be, change - 1), 3600);
    FF_CHECK_EQ(ff_tz_offset(be, change), 7200);
    FF_CHECK_EQ(ff_tz_offset(be, day(2026, 10, 25) + 3600 - 1), 7200);
    FF_CHECK_EQ(ff_tz_offset(be, day(2026, 10, 25) + 3600), 3600);
    /* 2090 is far past the file's table: the footer rule */
    FF_CHECK_EQ(ff_tz_offset(be, day(2090, 3, 26) + 3600 - 1), 3600);
    FF_CHECK_EQ(ff_tz_offset(be, day(2090, 3, 26) + 3600), 7200);
    const ff_tz *kt = get("Asia/Kathmandu");
    FF_CHECK_EQ(ff_tz_offset(kt, day(2024, 6, 1)), 5 * 3600 + 45 * 60);
    FF_CHECK_EQ(ff_tz_offset(kt, day(1980, 6, 1)), 5 * 3600 + 30 * 60);
    const ff_tz *lh = get("Australia/Lord_Howe");
    FF_CHECK_EQ(ff_tz_offset(lh, day(2024, 1, 15)), 11 * 3600);
    FF_CHECK_EQ(ff_tz_offset(lh, day(2024, 7, 15)), 10 * 3600 + 1800);
    const ff_tz *ny = get("America/New_York");
    FF_CHECK_EQ(ff_tz_offset(ny, day(2024, 3, 10) + 7 * 3600 - 1), -5 * 3600);
    FF_CHECK_EQ(ff_tz_offset(ny, day(2024, 3, 10) + 7 * 3600), -4 * 3600);
    FF_CHECK(ff_tz_is_utc(get("UTC")) && ff_tz_is_utc(get("Etc/UTC")));
    FF_CHECK(!ff_tz_is_utc(be));
    FF_CHECK_STR(ff_tz_name(be), "Europe/Berlin");
}

/* Wall time -> UTC: unique, repeated (earlier instant) and skipped (either side). */
static void test_from_local(void)
{
    const ff_tz *be = get("Europe/Berlin");
    int64_t d = day(2026, 3, 29);
    FF_CHECK_EQ(ff_tz_from_local(be, d, true), d - 3600);                    /* 00:00 CET */
    FF_CHECK_EQ(ff_tz_from_local(be, d + 3 * 3600, true), d + 3600);         /* 03:00 CEST */
    FF_CHECK_EQ(ff_tz_from_local(be, d + 2 * 3600 + 1800, true), d + 5400);  /* 02:30: -1 */
    FF_CHECK_EQ(ff_tz_from_local(be, d + 2 * 3600 + 1800, false), d + 1800); /* 02:30: -2 */
    int64_t o = day(2026, 10, 25);
    FF_CHECK_EQ(ff_tz_from_local(be, o + 2 * 3600 + 1800, true), o + 1800); /* the first 02:30 */
    const ff_tz *utc = ff_tz_utc();
    FF_CHECK_EQ(ff_tz_from_local(utc, 12345, true), 12345);
}

static void test_names(void)
{
    const char *bad[] = {"",
                         "/etc/passwd",
                         "../../etc/passwd",
                         "Europe/../UTC",
                         "Europe//Berlin",
                         "Europe/Berlin/",
                         "a b",
                         "Europe/Berlin;",
                         "./UTC",
                         "Europe/Berl\xc3\xadn"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const ff_tz *z = NULL;
        ff_err err;
        FF_CHECK(!ff_tz_name_ok(bad[i], strlen(bad[i])));
        FF_CHECK(ff_tz_get(bad[i], strlen(bad[i]), &z, &err) == FF_EBADINPUT && !z);
    }
    FF_CHECK(ff_tz_name_ok("Etc/GMT+5", 9) && ff_tz_name_ok("America/Port-au-Prince", 22));
    const ff_tz *z = NULL;
    ff_err err;
    FF_CHECK(ff_tz_get("Mars/Olympus_Mons", 17, &z, &err) == FF_ENOTFOUND && !z);
    FF_CHECK(strstr(err.msg, "Mars/Olympus_Mons") != NULL);
    FF_CHECK(ff_tz_get("Europe", 6, &z, &err) == FF_ENOTFOUND);               /* a directory */
    FF_CHECK(ff_tz_get("right/Europe/Berlin", 19, &z, &err) == FF_EBADINPUT); /* leap seconds */
    /* a length shorter than the string: only that prefix is the name */
    FF_CHECK(ff_tz_get("Europe/BerlinXYZ", 13, &z, &err) == FF_OK && z == get("Europe/Berlin"));
}

static void *load_many(void *arg)
{
    const ff_tz **out = arg;
    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++)
        if (ff_tz_get(zones[i], strlen(zones[i]), &out[i], NULL) != FF_OK)
            out[i] = NULL;
    return NULL;
}

/* Several threads load the same zones at once: one zone object per name. */
static void test_cache_threads(void)
{
    enum { NT = 4, NZ = sizeof zones / sizeof zones[0] };
    const ff_tz *got[NT][NZ];
    pthread_t th[NT];
    for (int i = 0; i < NT; i++)
        FF_VERIFY(pthread_create(&th[i], NULL, load_many, got[i]) == 0);
    for (int i = 0; i < NT; i++)
        pthread_join(th[i], NULL);
    for (int i = 1; i < NT; i++)
        for (int k = 0; k < NZ; k++)
            FF_CHECK(got[i][k] && got[i][k] == got[0][k]);
}

int main(void)
{
    FF_RUN(test_cache_threads);
    FF_RUN(test_known_offsets);
    FF_RUN(test_from_local);
    FF_RUN(test_names);
    FF_RUN(test_against_glibc);
    FF_DONE();
}
