/* test_collect_privacy.c -- IP truncation, secret keys, card numbers (Luhn),
 * bots, spam referrers, URL schemes and suspicious unicode. */
#include <string.h>

#include "collect/ff_collect_int.h"
#include "ff_test.h"

static const char *trunc_ip(const char *ip)
{
    static char out[64];
    size_t n;
    if (!ff_priv_ip_truncate(ip, strlen(ip), out, &n))
        return "NONE";
    FF_CHECK_EQ(n, strlen(out));
    return out;
}

static void test_ip(void)
{
    FF_CHECK_STR(trunc_ip("203.0.113.77"), "203.0.113.0");
    FF_CHECK_STR(trunc_ip("10.1.2.255"), "10.1.2.0");
    FF_CHECK_STR(trunc_ip(" 8.8.8.8 "), "8.8.8.0");
    FF_CHECK_STR(trunc_ip("0.0.0.0"), "0.0.0.0");
    FF_CHECK_STR(trunc_ip("2001:db8:abcd:12::77"), "2001:db8:abcd::");
    FF_CHECK_STR(trunc_ip("2001:0db8:85a3:0000:0000:8a2e:0370:7334"), "2001:db8:85a3::");
    FF_CHECK_STR(trunc_ip("::1"), "::");
    FF_CHECK_STR(trunc_ip("[2606:4700:4700::1111]"), "2606:4700:4700::");
    FF_CHECK_STR(trunc_ip("fe80::1%eth0"), "fe80::");
    FF_CHECK_STR(trunc_ip("::ffff:192.0.2.128"), "192.0.2.0");
    FF_CHECK_STR(trunc_ip("256.1.1.1"), "NONE");
    FF_CHECK_STR(trunc_ip("1.2.3"), "NONE");
    FF_CHECK_STR(trunc_ip("01.2.3.4"), "NONE");
    FF_CHECK_STR(trunc_ip("1.2.3.4.5"), "NONE");
    FF_CHECK_STR(trunc_ip("example.com"), "NONE");
    FF_CHECK_STR(trunc_ip(""), "NONE");
    FF_CHECK_STR(trunc_ip("1.2.3.4, 5.6.7.8"), "NONE");
}

static bool secret(const char *k)
{
    return ff_priv_key_is_secret(k, strlen(k));
}

static void test_secret_keys(void)
{
    const char *yes[] = {
        "password",    "Password",     "PASSWORD",      "user_password", "passwordConfirm",
        "newPassword", "passwd",       "pwd",           "secret",        "clientSecret",
        "token",       "access_token", "accessToken",   "csrf-token",    "accesstoken",
        "api_key",     "apiKey",       "API_KEY",       "apikey",        "x-api-key",
        "cvv",         "CVV2",         "cvc",           "card_number",   "cardNumber",
        "cardnumber",  "card-number",  "pan",           "PAN",           "ssn",
        "user.ssn",    "creditCard",   "refresh_token2"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        FF_CHECK(secret(yes[i]));
        if (!secret(yes[i]))
            fprintf(stderr, "  not secret: %s\n", yes[i]);
    }
    const char *no[] = {"company",  "span",    "classname", "expand",    "name",
                        "email",    "plan",    "pandas",    "secretary", "passenger",
                        "keyboard", "api",     "key",       "card",      "number",
                        "order_id", "product", "currency",  "card_type", "passage",
                        "pwdx",     "japan",   "tokyo",     "lesson",    ""};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        FF_CHECK(!secret(no[i]));
        if (secret(no[i]))
            fprintf(stderr, "  secret by mistake: %s\n", no[i]);
    }
}

static const char *mask(const char *s)
{
    static char out[512];
    size_t o = 0, from = 0, st, en, n = strlen(s);
    while (ff_priv_find_pan(s, n, from, &st, &en)) {
        memcpy(out + o, s + from, st - from);
        o += st - from;
        memcpy(out + o, "#", 1);
        o++;
        from = en;
    }
    memcpy(out + o, s + from, n - from);
    out[o + n - from] = '\0';
    return out;
}

static void test_luhn(void)
{
    FF_CHECK(ff_priv_luhn("4111111111111111", 16));
    FF_CHECK(ff_priv_luhn("79927398713", 11));
    FF_CHECK(!ff_priv_luhn("4111111111111112", 16));
    FF_CHECK(!ff_priv_luhn("", 0));
    /* test PANs published by the networks, in several formats */
    FF_CHECK_STR(mask("4111111111111111"), "#");
    FF_CHECK_STR(mask("4111 1111 1111 1111"), "#");
    FF_CHECK_STR(mask("4111-1111-1111-1111"), "#");
    FF_CHECK_STR(mask("card: 5555555555554444, exp 12/29"), "card: #, exp 12/29");
    FF_CHECK_STR(mask("amex 3782 822463 10005."), "amex #.");
    FF_CHECK_STR(mask("6011111111111117"), "#"); /* Discover */
    FF_CHECK_STR(mask("3530111333300000"), "#"); /* JCB */
    FF_CHECK_STR(mask("30569309025904"), "#");   /* Diners, 14 */
    FF_CHECK_STR(mask("2223000048400011"), "#"); /* Mastercard 2-series */
    FF_CHECK_STR(mask("4222222222222"), "#");    /* Visa 13 */
    FF_CHECK_STR(mask("6200000000000005"), "#"); /* UnionPay */
    FF_CHECK_STR(mask("a4111111111111111b"), "a#b");
    FF_CHECK_STR(mask("two 4111111111111111 and 5555-5555-5555-4444"), "two # and #");
    FF_CHECK_STR(mask("4111 1111 1111 1111 2029"), "# 2029"); /* a year after the card */
    /* any Luhn-valid 13-19 digit run, whatever its prefix (bad-inputs row 74) */
    FF_CHECK_STR(mask("3749203585855588"), "#");
    FF_CHECK_STR(mask("ref 9000000000000001"), "ref #");
    FF_CHECK_STR(mask("8888888888888880"), "8888888888888880"); /* not Luhn-valid */
    /* things that are not card numbers stay */
    const char *keep[] = {
        "4111111111111112",     /* bad check digit */
        "1750000000000",        /* epoch ms */
        "1700000000123",        /* epoch ms */
        "1700000000000007",     /* epoch us (Luhn-valid) */
        "41111111111111110000", /* 20 digits in one run: a number, not a card */
        "0000000000000000",     /* one digit repeated */
        "7777777777777777",
        "411111111111",           /* 12 digits */
        "4111  1111 1111 1111",   /* two spaces break the grouping */
        "+44 20 7946 0958",       /* phone */
        "order 2024-06-15 12:00", /* dates */
        "550e8400-e29b-41d4-a716-446655440000",
        "4111.1111.1111.1111",
        "",
    };
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        FF_CHECK_STR(mask(keep[i]), keep[i]);
    FF_CHECK(ff_priv_int_is_pan("4111111111111111", 16));
    FF_CHECK(!ff_priv_int_is_pan("1750000000000", 13));
    FF_CHECK(!ff_priv_int_is_pan("-4111111111111111", 17));
}

static bool bot(const char *ua)
{
    return ff_priv_ua_is_bot(ua, strlen(ua));
}

static void test_bots(void)
{
    FF_CHECK(bot("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"));
    FF_CHECK(bot("Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"));
    FF_CHECK(bot("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                 "HeadlessChrome/120.0.0.0 Safari/537.36"));
    FF_CHECK(bot("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"));
    FF_CHECK(bot("Mozilla/5.0 (compatible; Baiduspider/2.0)"));
    FF_CHECK(bot("facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"));
    FF_CHECK(bot("Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"));
    FF_CHECK(bot("DuckDuckBot-Https/1.1; (+https://duckduckgo.com/duckduckbot)"));
    FF_CHECK(bot("Mozilla/5.0 (compatible; Yahoo! Slurp)"));
    FF_CHECK(bot("GPTBot/1.0"));
    FF_CHECK(!bot("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                  "Gecko) Chrome/126.0.0.0 Safari/537.36"));
    FF_CHECK(!bot("Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 Chrome/120 "
                  "Mobile Safari/537.36"));
    FF_CHECK(!bot("curl/8.5.0"));
    FF_CHECK(!bot("analytics-node-next/latest"));
    FF_CHECK(!bot("posthog-node/5.0.0"));
    FF_CHECK(!bot(""));
}

static void test_spam_and_urls(void)
{
    const char *spam[] = {"http://semalt.com/",     "https://www.semalt.com/x?y",
                          "//darodar.com",          "http://sub.buttons-for-website.com:8080/",
                          "http://ILOVEVITALY.COM", "http://user@priceg.com/"};
    for (size_t i = 0; i < sizeof spam / sizeof spam[0]; i++)
        FF_CHECK(ff_priv_referrer_is_spam(spam[i], strlen(spam[i])));
    const char *fine[] = {"https://www.google.com/", "https://notsemalt.com/",
                          "https://semalt.com.example/", "https://shop.example/?r=semalt.com", ""};
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++)
        FF_CHECK(!ff_priv_referrer_is_spam(fine[i], strlen(fine[i])));

    const char *bad[] = {"javascript:alert(1)", "JavaScript:alert(1)", " javascript:x",
                         "java\tscript:x",      "data:text/html,<b>",  "DATA:x",
                         "vbscript:x",          "file:///etc/passwd"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        FF_CHECK(!ff_priv_url_ok(bad[i], strlen(bad[i]), 2000));
    const char *ok[] = {"https://shop.example/p?q=javascript:x",
                        "/relative/path",
                        "mailto:a@b",
                        "http://x",
                        "android-app://com.example",
                        "?q=1"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        FF_CHECK(ff_priv_url_ok(ok[i], strlen(ok[i]), 2000));
    FF_CHECK(!ff_priv_url_ok("https://a.example/12345", 23, 20));
    FF_CHECK(ff_priv_url_ok("https://a.example/12345", 23, 23));
}

static bool sus(const char *s)
{
    return ff_priv_suspicious_unicode(s, strlen(s));
}

static void test_unicode(void)
{
    FF_CHECK(sus("abc\xE2\x80\xAE"
                 "def")); /* U+202E */
    FF_CHECK(sus("a\xE2\x80\x8D"
                 "b")); /* ZWJ */
    FF_CHECK(sus("a\xE2\x80\x8B"
                 "b")); /* ZWSP */
    FF_CHECK(sus("\xEF\xBB\xBF"
                 "x"));                         /* BOM inside */
    FF_CHECK(sus("\xE2\x81\xA6x\xE2\x81\xA9")); /* isolates */
    FF_CHECK(sus("p\xD0\xB0ge_view"));          /* Cyrillic a in Latin */
    FF_CHECK(sus("\xCE\xB1pple"));              /* Greek alpha + Latin */
    FF_CHECK(!sus("page_view"));
    FF_CHECK(!sus("\xE8\xB4\xAD\xE4\xB9\xB0\xE5\xAE\x8C\xE6\x88\x90"));         /* CJK */
    FF_CHECK(!sus("\xD0\xBF\xD0\xBE\xD0\xBA\xD1\x83\xD0\xBF\xD0\xBA\xD0\xB0")); /* all Cyrillic */
    FF_CHECK(!sus("caf\xC3\xA9 cr\xC3\xA8me")); /* Latin with accents */
    FF_CHECK(!sus("cart \xF0\x9F\x9B\x92"));    /* emoji */
    FF_CHECK(!sus("e\xCC\x81"));                /* combining mark */
}

int main(void)
{
    FF_RUN(test_ip);
    FF_RUN(test_secret_keys);
    FF_RUN(test_luhn);
    FF_RUN(test_bots);
    FF_RUN(test_spam_and_urls);
    FF_RUN(test_unicode);
    FF_DONE();
}
