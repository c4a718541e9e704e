/* ff_ua.c -- coarse device / browser / OS families from a User-Agent.
 *
 * A hand parser, not a UA database: one pass over the string notes which of
 * a few dozen tokens occur, then fixed precedence rules pick the families
 * (Edge and Opera and Samsung Internet before Chrome, Chrome before Safari,
 * since each later one's token also appears in the earlier ones' strings).
 * Good enough for dashboards split by mobile/tablet/desktop and by the big
 * five browsers; anything unrecognised is left out of the record rather
 * than guessed. context.device.type and context.os.name, when the SDK sends
 * them, win over the UA (docs/api.md).
 */
#include <string.h>

#include "collect/ff_collect_int.h"

enum {
    T_IPHONE = 1u << 0,
    T_IPAD = 1u << 1,
    T_IPOD = 1u << 2,
    T_ANDROID = 1u << 3,
    T_MOBI = 1u << 4,
    T_WINDOWS = 1u << 5,
    T_MACOS = 1u << 6,
    T_LINUX = 1u << 7,
    T_CROS = 1u << 8,
    T_EDGE = 1u << 9,
    T_OPERA = 1u << 10,
    T_SAMSUNG = 1u << 11,
    T_FIREFOX = 1u << 12,
    T_CHROME = 1u << 13,
    T_SAFARI = 1u << 14,
    T_MSIE = 1u << 15,
    T_TABLET = 1u << 16,
    T_TV = 1u << 17,
    T_CRIOS = 1u << 18,
    T_VERSION = 1u << 19,
    T_WINPHONE = 1u << 20,
};

static bool at(const char *s, size_t len, size_t i, const char *lit, size_t n)
{
    return len - i >= n && memcmp(s + i, lit, n) == 0;
}

#define AT(lit) at(ua, len, i, lit, sizeof(lit) - 1)

void ff_ua_parse(const char *ua, size_t len, ff_ua_info *out)
{
    out->device = out->browser = out->os = NULL;
    if (!ua || len == 0)
        return;
    unsigned t = 0;
    for (size_t i = 0; i < len; i++) {
        switch (ua[i]) {
        case 'i':
            if (AT("iPhone"))
                t |= T_IPHONE;
            else if (AT("iPad"))
                t |= T_IPAD;
            else if (AT("iPod"))
                t |= T_IPOD;
            break;
        case 'A':
            if (AT("Android"))
                t |= T_ANDROID;
            break;
        case 'M':
            if (AT("Mobi"))
                t |= T_MOBI;
            else if (AT("Macintosh") || AT("Mac OS X"))
                t |= T_MACOS;
            else if (AT("MSIE "))
                t |= T_MSIE;
            break;
        case 'W':
            if (AT("Windows Phone"))
                t |= T_WINPHONE;
            else if (AT("Windows"))
                t |= T_WINDOWS;
            break;
        case 'L':
            if (AT("Linux"))
                t |= T_LINUX;
            break;
        case 'C':
            if (AT("CrOS"))
                t |= T_CROS;
            else if (AT("Chrome/") || AT("Chromium/"))
                t |= T_CHROME;
            else if (AT("CriOS/"))
                t |= T_CRIOS;
            break;
        case 'E':
            if (AT("Edg/") || AT("EdgA/") || AT("EdgiOS/") || AT("Edge/"))
                t |= T_EDGE;
            break;
        case 'O':
            if (AT("OPR/") || AT("Opera"))
                t |= T_OPERA;
            break;
        case 'S':
            if (AT("SamsungBrowser/"))
                t |= T_SAMSUNG;
            else if (AT("Safari/"))
                t |= T_SAFARI;
            else if (AT("SmartTV") || AT("SMART-TV"))
                t |= T_TV;
            break;
        case 'F':
            if (AT("Firefox/") || AT("FxiOS/"))
                t |= T_FIREFOX;
            break;
        case 'T':
            if (AT("Trident/"))
                t |= T_MSIE;
            else if (AT("Tablet"))
                t |= T_TABLET;
            break;
        case 'V':
            if (AT("Version/"))
                t |= T_VERSION;
            break;
        default:
            break;
        }
    }
    if (t & T_WINPHONE)
        out->os = "Windows Phone";
    else if (t & (T_IPHONE | T_IPAD | T_IPOD))
        out->os = "iOS";
    else if (t & T_ANDROID)
        out->os = "Android";
    else if (t & T_CROS)
        out->os = "ChromeOS";
    else if (t & T_WINDOWS)
        out->os = "Windows";
    else if (t & T_MACOS)
        out->os = "macOS";
    else if (t & T_LINUX)
        out->os = "Linux";

    if (t & T_EDGE)
        out->browser = "Edge";
    else if (t & T_OPERA)
        out->browser = "Opera";
    else if (t & T_SAMSUNG)
        out->browser = "Samsung Internet";
    else if (t & T_FIREFOX)
        out->browser = "Firefox";
    else if (t & (T_CHROME | T_CRIOS))
        out->browser = "Chrome";
    else if (t & T_MSIE)
        out->browser = "Internet Explorer";
    else if ((t & T_SAFARI) || ((t & (T_IPHONE | T_IPAD | T_IPOD)) && (t & T_VERSION)))
        out->browser = "Safari";

    if (t & T_TV)
        out->device = "tv";
    else if ((t & (T_IPAD | T_TABLET)) || ((t & T_ANDROID) && !(t & T_MOBI)))
        out->device = "tablet";
    else if (t & (T_IPHONE | T_IPOD | T_MOBI | T_ANDROID | T_WINPHONE))
        out->device = "mobile";
    else if (t & (T_WINDOWS | T_MACOS | T_LINUX | T_CROS))
        out->device = "desktop";
}

static bool eq_ci(const char *s, size_t len, const char *lit)
{
    size_t n = strlen(lit);
    if (n != len)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != lit[i])
            return false;
    }
    return true;
}

const char *ff_ua_device_class(const char *type, size_t len)
{
    static const char *const mobile[] = {"mobile", "phone",   "smartphone",
                                         "ios",    "android", "handset"};
    static const char *const tablet[] = {"tablet", "ipad"};
    static const char *const desktop[] = {"desktop", "computer", "pc",   "laptop",
                                          "mac",     "windows",  "linux"};
    static const char *const tv[] = {"tv", "smarttv", "smart_tv", "console"};
    for (size_t i = 0; i < sizeof mobile / sizeof mobile[0]; i++)
        if (eq_ci(type, len, mobile[i]))
            return "mobile";
    for (size_t i = 0; i < sizeof tablet / sizeof tablet[0]; i++)
        if (eq_ci(type, len, tablet[i]))
            return "tablet";
    for (size_t i = 0; i < sizeof desktop / sizeof desktop[0]; i++)
        if (eq_ci(type, len, desktop[i]))
            return "desktop";
    for (size_t i = 0; i < sizeof tv / sizeof tv[0]; i++)
        if (eq_ci(type, len, tv[i]))
            return "tv";
    return NULL;
}

const char *ff_ua_os_family(const char *name, size_t len)
{
    static const struct {
        const char *name, *family;
    } map[] = {
        {"ios", "iOS"},           {"ipados", "iOS"},     {"iphone os", "iOS"},
        {"android", "Android"},   {"mac os x", "macOS"}, {"macos", "macOS"},
        {"mac os", "macOS"},      {"os x", "macOS"},     {"windows", "Windows"},
        {"linux", "Linux"},       {"ubuntu", "Linux"},   {"chrome os", "ChromeOS"},
        {"chromeos", "ChromeOS"}, {"cros", "ChromeOS"},  {"windows phone", "Windows Phone"},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (eq_ci(name, len, map[i].name))
            return map[i].family;
    return NULL;
}
