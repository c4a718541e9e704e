/* ff_decimal.c -- see ff_decimal.h. */
#include "core/ff_decimal.h"

static const uint64_t pow10_u64[] = {1ull,
                                     10ull,
                                     100ull,
                                     1000ull,
                                     10000ull,
                                     100000ull,
                                     1000000ull,
                                     10000000ull,
                                     100000000ull,
                                     1000000000ull,
                                     10000000000ull,
                                     100000000000ull,
                                     1000000000000ull,
                                     10000000000000ull,
                                     100000000000000ull,
                                     1000000000000000ull,
                                     10000000000000000ull,
                                     100000000000000000ull,
                                     1000000000000000000ull};

typedef struct digits {
    const char *int_s, *frac_s;
    int64_t int_n, frac_n;
} digits;

/* Digit k of the significand (integer digits then fraction digits); 0 outside. */
static inline int digit_at(const digits *d, int64_t k)
{
    if (k < 0 || k >= d->int_n + d->frac_n)
        return 0;
    return k < d->int_n ? d->int_s[k] - '0' : d->frac_s[k - d->int_n] - '0';
}

ff_rc ff_decimal_parse_scaled(const char *s, size_t len, int scale, int max_free_scale,
                              int64_t *units_out, int *scale_out, bool *rounded)
{
    size_t i = 0;
    bool neg = false;
    *rounded = false;
    if (i < len && s[i] == '-') {
        neg = true;
        i++;
    }
    digits d = {s + i, s + i, 0, 0};
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    d.int_n = (int64_t)(i - (size_t)(d.int_s - s));
    if (d.int_n == 0)
        return FF_EBADINPUT;
    d.frac_s = s + i;
    if (i < len && s[i] == '.') {
        i++;
        d.frac_s = s + i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        d.frac_n = (int64_t)(i - (size_t)(d.frac_s - s));
        if (d.frac_n == 0)
            return FF_EBADINPUT;
    }
    int64_t exp = 0;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        size_t e0 = i;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (exp < 1000000)
                exp = exp * 10 + (s[i] - '0');
            i++;
        }
        if (i == e0)
            return FF_EBADINPUT;
        if (eneg)
            exp = -exp;
    }
    if (i != len)
        return FF_EBADINPUT;

    if (scale < 0) {
        int64_t own = d.frac_n - exp;
        scale = own < 0 ? 0 : own > max_free_scale ? max_free_scale : (int)own;
    }
    if (scale > 18)
        return FF_ELIMIT;
    if (scale_out)
        *scale_out = scale;
    int64_t n = d.int_n + d.frac_n;
    int64_t f = 0; /* first non-zero digit */
    while (f < n && digit_at(&d, f) == 0)
        f++;
    if (f == n) { /* zero, whatever the exponent */
        *units_out = 0;
        return FF_OK;
    }
    /* Digit k weighs 10^(n-1-k+exp-frac_n); keep those weighing >= 10^-scale: k < keep. */
    int64_t keep = n + exp - d.frac_n + scale;
    if (keep - f > 19)
        return FF_ELIMIT;
    uint64_t units = 0;
    int64_t end = keep < n ? keep : n;
    for (int64_t k = f; k < end; k++) {
        units = units * 10 + (uint64_t)digit_at(&d, k);
        if (units > (uint64_t)INT64_MAX)
            return FF_ELIMIT;
    }
    if (keep > n) {
        int64_t sh = keep - n;
        if (sh > 18 || units > (uint64_t)INT64_MAX / pow10_u64[sh])
            return FF_ELIMIT;
        units *= pow10_u64[sh];
    } else {
        /* Round half-even on the dropped digits [max(keep, f), n). */
        int d0 = keep >= f ? digit_at(&d, keep) : 0;
        bool rest = false;
        for (int64_t k = (keep >= f ? keep + 1 : f); k < n && !rest; k++)
            rest = digit_at(&d, k) != 0;
        *rounded = d0 != 0 || rest;
        if (d0 > 5 || (d0 == 5 && (rest || (units & 1)))) {
            units++;
            if (units > (uint64_t)INT64_MAX)
                return FF_ELIMIT;
        }
    }
    *units_out = neg ? -(int64_t)units : (int64_t)units;
    return FF_OK;
}
