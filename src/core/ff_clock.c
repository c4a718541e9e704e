#include "core/ff_clock.h"

#include <stdio.h>
#include <time.h>

int64_t ff_clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t ff_clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Howard Hinnant's days_from_civil. */
int64_t ff_clock_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool digits(const char *s, size_t n, unsigned *out)
{
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

bool ff_clock_parse_rfc3339(const char *s, size_t len, int64_t *ms_out)
{
    unsigned y, mo, d, h = 0, mi = 0, se = 0;
    if (len < 10 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) || s[7] != '-' ||
        !digits(s + 8, 2, &d))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return false;
    size_t i = 10;
    int64_t frac_ms = 0;
    int64_t offset_s = 0;
    if (i < len) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return false;
        i++;
        if (len - i < 8 || !digits(s + i, 2, &h) || s[i + 2] != ':' || !digits(s + i + 3, 2, &mi) ||
            s[i + 5] != ':' || !digits(s + i + 6, 2, &se))
            return false;
        i += 8;
        if (h > 23 || mi > 59 || se > 60) /* 60: leap second, folded into the next */
            return false;
        if (i < len && s[i] == '.') {
            i++;
            size_t nd = 0;
            int64_t scale = 100;
            while (i < len && s[i] >= '0' && s[i] <= '9') {
                if (nd < 3) {
                    frac_ms += (s[i] - '0') * scale;
                    scale /= 10;
                }
                nd++;
                i++;
            }
            if (nd == 0 || nd > 9)
                return false;
        }
        if (i >= len)
            return false; /* a date-time needs a zone */
        if (s[i] == 'Z' || s[i] == 'z') {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            unsigned oh, om;
            if (len - i < 6 || !digits(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
                !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
                return false;
            offset_s = (int64_t)(oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
            i += 6;
        } else {
            return false;
        }
        if (i != len)
            return false;
    }
    int64_t days = ff_clock_days_from_civil(y, mo, d);
    int64_t secs = days * 86400 + h * 3600 + mi * 60 + se - offset_s;
    *ms_out = secs * 1000 + frac_ms;
    return true;
}

size_t ff_clock_format_rfc3339(int64_t ms, char *buf)
{
    int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
    int64_t msr = ms - secs * 1000;
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t sod = secs - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    int n = snprintf(buf, 25, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", (int)y, m, d,
                     (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), (int)msr);
    return n > 0 ? (size_t)n : 0;
}
