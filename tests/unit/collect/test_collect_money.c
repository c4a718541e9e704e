/* test_collect_money.c -- exact decimals, half-even rounding, limits, ISO 4217. */
#include <string.h>

#include "collect/ff_collect_int.h"
#include "ff_test.h"

static const char *fmt(const char *in, int scale, int *rc_out, bool *rounded)
{
    static char buf[32];
    ff_money m;
    bool r = false;
    ff_money_rc rc = ff_money_parse(in, strlen(in), scale, &m, &r);
    *rc_out = rc;
    if (rounded)
        *rounded = r;
    if (rc != FF_MONEY_OK)
        return "ERR";
    ff_money_format(&m, buf);
    return buf;
}

static void test_exact(void)
{
    int rc;
    bool r;
    FF_CHECK_STR(fmt("19.99", 2, &rc, &r), "19.99");
    FF_CHECK(!r);
    FF_CHECK_STR(fmt("19.9", 2, &rc, &r), "19.90");
    FF_CHECK_STR(fmt("19", 2, &rc, &r), "19.00");
    FF_CHECK_STR(fmt("0.1", 2, &rc, &r), "0.10");
    FF_CHECK_STR(fmt("0.07", 2, &rc, &r), "0.07");
    FF_CHECK_STR(fmt("-3.5", 2, &rc, &r), "-3.50");
    FF_CHECK_STR(fmt("1999", 0, &rc, &r), "1999");
    FF_CHECK_STR(fmt("1.234", 3, &rc, &r), "1.234");
    FF_CHECK_STR(fmt("1.999e1", 2, &rc, &r), "19.99");
    FF_CHECK_STR(fmt("1999E-2", 2, &rc, &r), "19.99");
    FF_CHECK_STR(fmt("0", 2, &rc, &r), "0.00");
    FF_CHECK_STR(fmt("-0", 2, &rc, &r), "0.00");
    FF_CHECK_STR(fmt("0e999999", 2, &rc, &r), "0.00");
    /* a sum that floats get wrong: 0.1 + 0.2 is exactly 0.30 here */
    ff_money a, b;
    ff_money_parse("0.1", 3, 2, &a, &r);
    ff_money_parse("0.2", 3, 2, &b, &r);
    FF_CHECK_EQ(a.units + b.units, 30);
    /* 4 decimals (CLF) */
    FF_CHECK_STR(fmt("12.3456", 4, &rc, &r), "12.3456");
}

static void test_half_even(void)
{
    int rc;
    bool r;
    FF_CHECK_STR(fmt("19.999", 2, &rc, &r), "20.00");
    FF_CHECK(r);
    FF_CHECK_STR(fmt("0.125", 2, &rc, &r), "0.12"); /* tie: to even */
    FF_CHECK_STR(fmt("0.135", 2, &rc, &r), "0.14");
    FF_CHECK_STR(fmt("0.1251", 2, &rc, &r), "0.13"); /* above the tie */
    FF_CHECK_STR(fmt("-0.125", 2, &rc, &r), "-0.12");
    FF_CHECK_STR(fmt("-0.135", 2, &rc, &r), "-0.14");
    FF_CHECK_STR(fmt("2.5", 0, &rc, &r), "2");
    FF_CHECK_STR(fmt("3.5", 0, &rc, &r), "4");
    FF_CHECK_STR(fmt("0.004", 2, &rc, &r), "0.00");
    FF_CHECK(r);
    FF_CHECK_STR(fmt("0.005", 2, &rc, &r), "0.00");
    FF_CHECK_STR(fmt("0.0051", 2, &rc, &r), "0.01");
    FF_CHECK_STR(fmt("1e-30", 2, &rc, &r), "0.00");
    FF_CHECK(r);
    FF_CHECK_STR(fmt("19.990", 2, &rc, &r), "19.99");
    FF_CHECK(!r); /* dropped digits were zero: nothing lost */
    FF_CHECK_STR(fmt("9.995", 2, &rc, &r), "10.00");
}

static void test_free_scale(void)
{
    int rc;
    bool r;
    FF_CHECK_STR(fmt("19.999", -1, &rc, &r), "19.999");
    FF_CHECK_STR(fmt("19", -1, &rc, &r), "19");
    FF_CHECK_STR(fmt("1.5e-3", -1, &rc, &r), "0.0015");
    FF_CHECK_STR(fmt("1.5e3", -1, &rc, &r), "1500");
    FF_CHECK_STR(fmt("0.123456789", -1, &rc, &r), "0.12345679");
    FF_CHECK(r);
}

static void test_limits(void)
{
    int rc;
    bool r;
    FF_CHECK_STR(fmt("12345678901234567890123", 2, &rc, &r), "ERR");
    FF_CHECK_EQ(rc, FF_MONEY_RANGE);
    FF_CHECK_STR(fmt("1e308", 2, &rc, &r), "ERR");
    FF_CHECK_EQ(rc, FF_MONEY_RANGE);
    FF_CHECK_STR(fmt("92233720368547758.07", 2, &rc, &r), "ERR"); /* > 2^53 major units */
    FF_CHECK_EQ(rc, FF_MONEY_RANGE);
    FF_CHECK_STR(fmt("9007199254740992", 2, &rc, &r), "9007199254740992.00"); /* 2^53 ok */
    FF_CHECK_STR(fmt("9007199254740993", 0, &rc, &r), "ERR");
    FF_CHECK_STR(fmt("-9007199254740993", 0, &rc, &r), "ERR");
    FF_CHECK_STR(fmt("1e999999999999999", 2, &rc, &r), "ERR");
    FF_CHECK_STR(fmt("1e-999999999999999", 2, &rc, &r), "0.00");
    /* syntax */
    FF_CHECK_STR(fmt("", 2, &rc, &r), "ERR");
    FF_CHECK_EQ(rc, FF_MONEY_SYNTAX);
    FF_CHECK_STR(fmt("abc", 2, &rc, &r), "ERR");
    FF_CHECK_STR(fmt("1.", 2, &rc, &r), "ERR");
    FF_CHECK_STR(fmt(".5", 2, &rc, &r), "ERR");
    FF_CHECK_STR(fmt("1,50", 2, &rc, &r), "ERR");
    FF_CHECK_STR(fmt(" 1", 2, &rc, &r), "ERR");
    FF_CHECK_STR(fmt("1e", 2, &rc, &r), "ERR");
    FF_CHECK_STR(fmt("+1", 2, &rc, &r), "ERR");
    FF_CHECK_STR(fmt("$5", 2, &rc, &r), "ERR");
}

static void test_currencies(void)
{
    FF_CHECK_EQ(ff_money_currency_digits("USD", 3), 2);
    FF_CHECK_EQ(ff_money_currency_digits("EUR", 3), 2);
    FF_CHECK_EQ(ff_money_currency_digits("JPY", 3), 0);
    FF_CHECK_EQ(ff_money_currency_digits("KRW", 3), 0);
    FF_CHECK_EQ(ff_money_currency_digits("KWD", 3), 3);
    FF_CHECK_EQ(ff_money_currency_digits("BHD", 3), 3);
    FF_CHECK_EQ(ff_money_currency_digits("CLF", 3), 4);
    FF_CHECK_EQ(ff_money_currency_digits("AED", 3), 2); /* first */
    FF_CHECK_EQ(ff_money_currency_digits("ZWL", 3), 2); /* last */
    FF_CHECK_EQ(ff_money_currency_digits("usd", 3), -1);
    FF_CHECK_EQ(ff_money_currency_digits("XXX", 3), -1);
    FF_CHECK_EQ(ff_money_currency_digits("XTS", 3), -1);
    FF_CHECK_EQ(ff_money_currency_digits("XAU", 3), -1);
    FF_CHECK_EQ(ff_money_currency_digits("BTC", 3), -1);
    FF_CHECK_EQ(ff_money_currency_digits("BTCX", 4), -1);
    FF_CHECK_EQ(ff_money_currency_digits("US", 2), -1);
    FF_CHECK_EQ(ff_money_currency_digits("", 0), -1);
    /* every code of A..Z that the table accepts is uppercase and found again */
    int n = 0;
    char c[3];
    for (c[0] = 'A'; c[0] <= 'Z'; c[0]++)
        for (c[1] = 'A'; c[1] <= 'Z'; c[1]++)
            for (c[2] = 'A'; c[2] <= 'Z'; c[2]++)
                if (ff_money_currency_digits(c, 3) >= 0)
                    n++;
    FF_CHECK(n > 150 && n < 200);
}

int main(void)
{
    FF_RUN(test_exact);
    FF_RUN(test_half_even);
    FF_RUN(test_free_scale);
    FF_RUN(test_limits);
    FF_RUN(test_currencies);
    FF_DONE();
}
