/* ff_money.c -- exact decimal amounts and the ISO 4217 table.
 *
 * Money is parsed from the JSON number's source text (or a numeric string),
 * never through a double: the digits are scaled to the currency's minor unit
 * as an int64 and rounded half-even (banker's rounding, IEEE 754's default
 * for decimals) when the client sent more fraction digits than the currency
 * has. 19.99 USD is {1999, 2}; 1000 JPY is {1000, 0}; 1.234 KWD is {1234, 3}.
 *
 * The table lists the active ISO 4217 codes with their minor-unit digits
 * (list one, as published by SIX; recently withdrawn codes ANG, CUC, SLL and
 * ZWL are still accepted for late senders). Codes with no minor unit
 * ("N.A.": XAU, XDR, XTS, XXX ...) are not currencies a shop charges in, so
 * they are not in the table and are rejected as invalid_currency.
 */
#include <string.h>

#include "collect/ff_collect_int.h"
#include "core/ff_decimal.h"

typedef struct cur {
    char code[4];
    uint8_t digits;
} cur;

/* Sorted by code (binary search). */
static const cur currencies[] = {
    {"AED", 2}, {"AFN", 2}, {"ALL", 2}, {"AMD", 2}, {"ANG", 2}, {"AOA", 2}, {"ARS", 2}, {"AUD", 2},
    {"AWG", 2}, {"AZN", 2}, {"BAM", 2}, {"BBD", 2}, {"BDT", 2}, {"BGN", 2}, {"BHD", 3}, {"BIF", 0},
    {"BMD", 2}, {"BND", 2}, {"BOB", 2}, {"BOV", 2}, {"BRL", 2}, {"BSD", 2}, {"BTN", 2}, {"BWP", 2},
    {"BYN", 2}, {"BZD", 2}, {"CAD", 2}, {"CDF", 2}, {"CHE", 2}, {"CHF", 2}, {"CHW", 2}, {"CLF", 4},
    {"CLP", 0}, {"CNY", 2}, {"COP", 2}, {"COU", 2}, {"CRC", 2}, {"CUC", 2}, {"CUP", 2}, {"CVE", 2},
    {"CZK", 2}, {"DJF", 0}, {"DKK", 2}, {"DOP", 2}, {"DZD", 2}, {"EGP", 2}, {"ERN", 2}, {"ETB", 2},
    {"EUR", 2}, {"FJD", 2}, {"FKP", 2}, {"GBP", 2}, {"GEL", 2}, {"GHS", 2}, {"GIP", 2}, {"GMD", 2},
    {"GNF", 0}, {"GTQ", 2}, {"GYD", 2}, {"HKD", 2}, {"HNL", 2}, {"HTG", 2}, {"HUF", 2}, {"IDR", 2},
    {"ILS", 2}, {"INR", 2}, {"IQD", 3}, {"IRR", 2}, {"ISK", 0}, {"JMD", 2}, {"JOD", 3}, {"JPY", 0},
    {"KES", 2}, {"KGS", 2}, {"KHR", 2}, {"KMF", 0}, {"KPW", 2}, {"KRW", 0}, {"KWD", 3}, {"KYD", 2},
    {"KZT", 2}, {"LAK", 2}, {"LBP", 2}, {"LKR", 2}, {"LRD", 2}, {"LSL", 2}, {"LYD", 3}, {"MAD", 2},
    {"MDL", 2}, {"MGA", 2}, {"MKD", 2}, {"MMK", 2}, {"MNT", 2}, {"MOP", 2}, {"MRU", 2}, {"MUR", 2},
    {"MVR", 2}, {"MWK", 2}, {"MXN", 2}, {"MXV", 2}, {"MYR", 2}, {"MZN", 2}, {"NAD", 2}, {"NGN", 2},
    {"NIO", 2}, {"NOK", 2}, {"NPR", 2}, {"NZD", 2}, {"OMR", 3}, {"PAB", 2}, {"PEN", 2}, {"PGK", 2},
    {"PHP", 2}, {"PKR", 2}, {"PLN", 2}, {"PYG", 0}, {"QAR", 2}, {"RON", 2}, {"RSD", 2}, {"RUB", 2},
    {"RWF", 0}, {"SAR", 2}, {"SBD", 2}, {"SCR", 2}, {"SDG", 2}, {"SEK", 2}, {"SGD", 2}, {"SHP", 2},
    {"SLE", 2}, {"SLL", 2}, {"SOS", 2}, {"SRD", 2}, {"SSP", 2}, {"STN", 2}, {"SVC", 2}, {"SYP", 2},
    {"SZL", 2}, {"THB", 2}, {"TJS", 2}, {"TMT", 2}, {"TND", 3}, {"TOP", 2}, {"TRY", 2}, {"TTD", 2},
    {"TWD", 2}, {"TZS", 2}, {"UAH", 2}, {"UGX", 0}, {"USD", 2}, {"USN", 2}, {"UYI", 0}, {"UYU", 2},
    {"UYW", 4}, {"UZS", 2}, {"VED", 2}, {"VES", 2}, {"VND", 0}, {"VUV", 0}, {"WST", 2}, {"XAF", 0},
    {"XCD", 2}, {"XCG", 2}, {"XOF", 0}, {"XPF", 0}, {"YER", 2}, {"ZAR", 2}, {"ZMW", 2}, {"ZWG", 2},
    {"ZWL", 2},
};

int ff_money_currency_digits(const char *code, size_t len)
{
    if (len != 3)
        return -1;
    for (int i = 0; i < 3; i++)
        if (code[i] < 'A' || code[i] > 'Z')
            return -1;
    size_t lo = 0, hi = sizeof currencies / sizeof currencies[0];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = memcmp(code, currencies[mid].code, 3);
        if (c == 0)
            return currencies[mid].digits;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

static const int64_t pow10_tab[] = {1,
                                    10,
                                    100,
                                    1000,
                                    10000,
                                    100000,
                                    1000000,
                                    10000000,
                                    100000000,
                                    1000000000,
                                    10000000000,
                                    100000000000,
                                    1000000000000,
                                    10000000000000,
                                    100000000000000,
                                    1000000000000000,
                                    10000000000000000,
                                    100000000000000000,
                                    1000000000000000000};

#define MAX_MAJOR (((int64_t)1) << 53)

ff_money_rc ff_money_parse(const char *s, size_t len, int scale, ff_money *out, bool *rounded)
{
    int64_t units;
    int used;
    ff_rc rc = ff_decimal_parse_scaled(s, len, scale, FF_MONEY_FREE_SCALE, &units, &used, rounded);
    if (rc == FF_EBADINPUT)
        return FF_MONEY_SYNTAX;
    if (rc != FF_OK)
        return FF_MONEY_RANGE;
    /* Beyond 2^53 major units a JSON number is not exact anywhere else either. */
    int64_t major = units / pow10_tab[used];
    if (major > MAX_MAJOR || major < -MAX_MAJOR ||
        ((major == MAX_MAJOR || major == -MAX_MAJOR) && units % pow10_tab[used]))
        return FF_MONEY_RANGE;
    out->scale = (uint8_t)used;
    out->units = units;
    return FF_MONEY_OK;
}

size_t ff_money_format(const ff_money *m, char *buf)
{
    uint64_t u = m->units < 0 ? (uint64_t)0 - (uint64_t)m->units : (uint64_t)m->units;
    char tmp[32];
    int n = 0;
    int scale = m->scale;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n <= scale)
        tmp[n++] = '0';
    size_t o = 0;
    if (m->units < 0)
        buf[o++] = '-';
    for (int k = n - 1; k >= 0; k--) {
        buf[o++] = tmp[k];
        if (k == scale && scale > 0)
            buf[o++] = '.';
    }
    buf[o] = '\0';
    return o;
}
