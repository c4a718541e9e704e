/* test_collect_ua.c -- coarse device / browser / OS families. */
#include <string.h>

#include "collect/ff_collect_int.h"
#include "ff_test.h"

typedef struct ua_case {
    const char *ua, *device, *browser, *os;
} ua_case;

static const ua_case cases[] = {
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36",
     "desktop", "Chrome", "Windows"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87",
     "desktop", "Edge", "Windows"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Safari/605.1.15",
     "desktop", "Safari", "macOS"},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:127.0) Gecko/20100101 Firefox/127.0",
     "desktop", "Firefox", "macOS"},
    {"Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0", "desktop", "Firefox",
     "Linux"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
     "mobile", "Safari", "iOS"},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
     "mobile", "Chrome", "iOS"},
    {"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1",
     "tablet", "Safari", "iOS"},
    {"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.6478.71 Mobile Safari/537.36",
     "mobile", "Chrome", "Android"},
    {"Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36",
     "tablet", "Chrome", "Android"},
    {"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) "
     "SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
     "mobile", "Samsung Internet", "Android"},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0",
     "desktop", "Opera", "Windows"},
    {"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/126.0.0.0 Safari/537.36",
     "desktop", "Chrome", "ChromeOS"},
    {"Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko", "desktop",
     "Internet Explorer", "Windows"},
    {"Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/537.36 SamsungBrowser/4.0 TV "
     "Safari/537.36",
     "tv", "Samsung Internet", "Linux"},
    {"analytics-node-next/latest", NULL, NULL, NULL},
    {"", NULL, NULL, NULL},
};

static void check_str_or_null(const char *got, const char *want)
{
    if (!want)
        FF_CHECK(got == NULL);
    else
        FF_CHECK_STR(got, want);
}

static void test_ua(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ff_ua_info u;
        ff_ua_parse(cases[i].ua, strlen(cases[i].ua), &u);
        int before = ff_test_failures;
        check_str_or_null(u.device, cases[i].device);
        check_str_or_null(u.browser, cases[i].browser);
        check_str_or_null(u.os, cases[i].os);
        if (ff_test_failures != before)
            fprintf(stderr, "  ^ for %s\n", cases[i].ua);
    }
}

static void test_context_fields(void)
{
    FF_CHECK_STR(ff_ua_device_class("phone", 5), "mobile");
    FF_CHECK_STR(ff_ua_device_class("Mobile", 6), "mobile");
    FF_CHECK_STR(ff_ua_device_class("ios", 3), "mobile");
    FF_CHECK_STR(ff_ua_device_class("TABLET", 6), "tablet");
    FF_CHECK_STR(ff_ua_device_class("desktop", 7), "desktop");
    FF_CHECK(ff_ua_device_class("toaster", 7) == NULL);
    FF_CHECK_STR(ff_ua_os_family("iOS", 3), "iOS");
    FF_CHECK_STR(ff_ua_os_family("Mac OS X", 8), "macOS");
    FF_CHECK_STR(ff_ua_os_family("Android", 7), "Android");
    FF_CHECK_STR(ff_ua_os_family("windows", 7), "Windows");
    FF_CHECK(ff_ua_os_family("BeOS", 4) == NULL);
}

int main(void)
{
    FF_RUN(test_ua);
    FF_RUN(test_context_fields);
    FF_DONE();
}
