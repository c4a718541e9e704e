/* ff_privacy.c -- what must never be stored, and traffic that is not people.
 *
 * IP addresses are cut to their network (/24 for IPv4, /48 for IPv6, the
 * granularity Google Analytics and Matomo use for anonymisation) before
 * anything is written. Values under secret-looking keys are replaced, and
 * card numbers (PANs) are found by shape (13-19 digits) and Luhn check
 * anywhere in free text -- a PCI DSS scope the analytics store must stay out
 * of. The bot and spam-referrer lists are short and explicit (crawlers and a
 * dozen referrer-spam domains), matched without regexes in one pass.
 *
 * Costs admitted: any 13-19 digit identifier that passes Luhn (about 1 in 10
 * of them) is masked too, except epoch timestamps and repeated digits (see
 * not_a_card); we prefer over-masking to storing a card number. Order ids, product ids and user ids
 * (the typed columns) are not scanned, only free text (see docs/api.md).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "collect/ff_collect_int.h"

static inline unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

static inline bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* ---- IP ------------------------------------------------------------------ */

static bool parse_v4(const char *s, size_t len, unsigned char b[4])
{
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= len || s[i] != '.')
                return false;
            i++;
        }
        unsigned v = 0;
        size_t d = 0;
        while (i < len && is_digit((unsigned char)s[i]) && d < 4) {
            v = v * 10 + (unsigned)(s[i] - '0');
            i++;
            d++;
        }
        if (d == 0 || d > 3 || v > 255 || (d > 1 && s[i - d] == '0'))
            return false;
        b[part] = (unsigned char)v;
    }
    return i == len;
}

static size_t put_v4_24(char *out, const unsigned char *b)
{
    size_t o = 0;
    for (int i = 0; i < 3; i++) {
        unsigned v = b[i];
        if (v >= 100)
            out[o++] = (char)('0' + v / 100);
        if (v >= 10)
            out[o++] = (char)('0' + v / 10 % 10);
        out[o++] = (char)('0' + v % 10);
        out[o++] = '.';
    }
    out[o++] = '0';
    out[o] = '\0';
    return o;
}

bool ff_priv_ip_truncate(const char *ip, size_t len, char *out, size_t *out_len)
{
    unsigned char b4[4];
    while (len && (ip[0] == ' ' || ip[0] == '\t')) {
        ip++;
        len--;
    }
    while (len && (ip[len - 1] == ' ' || ip[len - 1] == '\t'))
        len--;
    if (parse_v4(ip, len, b4)) {
        *out_len = put_v4_24(out, b4);
        return true;
    }
    char tmp[64];
    if (len >= 2 && ip[0] == '[' && ip[len - 1] == ']') { /* "[::1]" */
        ip++;
        len -= 2;
    }
    const char *pct = memchr(ip, '%', len); /* zone id: "fe80::1%eth0" */
    if (pct)
        len = (size_t)(pct - ip);
    if (len == 0 || len >= sizeof tmp)
        return false;
    memcpy(tmp, ip, len);
    tmp[len] = '\0';
    unsigned char b[16];
    if (inet_pton(AF_INET6, tmp, b) != 1)
        return false;
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(b, mapped, 12) == 0) {
        *out_len = put_v4_24(out, b + 12);
        return true;
    }
    memset(b + 6, 0, 10);
    if (!inet_ntop(AF_INET6, b, out, 64))
        return false;
    *out_len = strlen(out);
    return true;
}

/* ---- secret keys --------------------------------------------------------- */

typedef struct word {
    const char *s;
    size_t n;
} word;
#define W(lit)                                                                                     \
    {                                                                                              \
        lit, sizeof(lit) - 1                                                                       \
    }

static bool word_is_secret(const char *w, size_t n)
{
    /* Short words must match exactly: "pan" is not "company". */
    static const word exact[] = {W("pwd"),  W("cvv"), W("cvc"), W("cvv2"),
                                 W("cvc2"), W("pan"), W("ssn")};
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (exact[i].n == n && memcmp(w, exact[i].s, n) == 0)
            return true;
    if (n < 5)
        return false;
    /* Long words match inside a word too: "accesstoken", "passwordhash". */
    static const word inside[] = {W("password"), W("passwd"), W("passphrase"), W("secret"),
                                  W("token"),    W("apikey"), W("cardnumber"), W("creditcard")};
    if (n >= 8 && memcmp(w, "secretar", 8) == 0) /* secretary, secretariat */
        return false;
    for (size_t i = 0; i < sizeof inside / sizeof inside[0]; i++) {
        size_t m = inside[i].n;
        if (m > n)
            continue;
        for (size_t j = 0; j + m <= n; j++)
            if (w[j] == inside[i].s[0] && memcmp(w + j, inside[i].s, m) == 0)
                return true;
    }
    return false;
}

static bool pair_is_secret(const char *a, size_t an, const char *b, size_t bn)
{
    static const word pairs[][2] = {
        {W("api"), W("key")},     {W("card"), W("number")},     {W("card"), W("no")},
        {W("credit"), W("card")}, {W("card"), W("num")},        {W("security"), W("code")},
        {W("pass"), W("word")},   {W("social"), W("security")},
    };
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        if (pairs[i][0].n == an && pairs[i][1].n == bn && memcmp(a, pairs[i][0].s, an) == 0 &&
            memcmp(b, pairs[i][1].s, bn) == 0)
            return true;
    return false;
}

static uint32_t letters(const char *s, size_t n)
{
    uint32_t m = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = lower((unsigned char)s[i]);
        if (c >= 'a' && c <= 'z')
            m |= 1u << (c - 'a');
    }
    return m;
}

/* Quick filter: the letters each secret word (or pair) needs. A key whose
 * letters hold none of these sets cannot match (most keys: price, url...). */
static bool maybe_secret(uint32_t have)
{
#define L(c) (1u << ((c) - 'a'))
    static const uint32_t need[] = {
        L('p') | L('w') | L('d'),                            /* pwd, password, passwd, passphrase */
        L('c') | L('v'),                                     /* cvv, cvc */
        L('p') | L('a') | L('n'),                            /* pan */
        L('s') | L('n'),                                     /* ssn */
        L('s') | L('e') | L('c') | L('r') | L('t'),          /* secret */
        L('t') | L('o') | L('k') | L('e') | L('n'),          /* token */
        L('a') | L('p') | L('i') | L('k') | L('e') | L('y'), /* apikey, api key */
        L('c') | L('a') | L('r') | L('d') | L('n'),          /* card number / no / num */
        L('c') | L('r') | L('e') | L('d') | L('i') | L('t') | L('a'),          /* credit card */
        L('s') | L('e') | L('c') | L('u') | L('r') | L('i') | L('t') | L('y'), /* security */
        L('p') | L('a') | L('s') | L('w') | L('o') | L('r') | L('d'),          /* pass word */
    };
#undef L
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if ((have & need[i]) == need[i])
            return true;
    return false;
}

/* Exact pre-filter: every secret word or pair starts with one of these
 * trigrams (pwd, cvv/cvc, pan, ssn, pas-sword/swd/sphrase/s word, sec-ret/urity,
 * tok-en, api-key, car-d, cre-dit, soc-ial), and a word is a run of the key's
 * own bytes lowercased, so a key holding none of them (case-insensitively)
 * cannot match. c | 0x20 maps only 'A'-'Z' onto 'a'-'z'. */
static bool has_secret_trigram(const char *key, size_t len)
{
#define T3(a, b, c) ((uint32_t)(a) << 16 | (uint32_t)(b) << 8 | (uint32_t)(c))
    if (len < 3)
        return false;
    uint32_t t = (uint32_t)((unsigned char)key[0] | 0x20) << 8 | ((unsigned char)key[1] | 0x20);
    for (size_t i = 2; i < len; i++) {
        t = (t << 8 | ((unsigned char)key[i] | 0x20)) & 0xFFFFFFu;
        switch (t) {
        case T3('p', 'w', 'd'):
        case T3('c', 'v', 'v'):
        case T3('c', 'v', 'c'):
        case T3('p', 'a', 'n'):
        case T3('s', 's', 'n'):
        case T3('p', 'a', 's'):
        case T3('s', 'e', 'c'):
        case T3('t', 'o', 'k'):
        case T3('a', 'p', 'i'):
        case T3('c', 'a', 'r'):
        case T3('c', 'r', 'e'):
        case T3('s', 'o', 'c'):
            return true;
        default:
            break;
        }
    }
    return false;
#undef T3
}

bool ff_priv_key_is_secret(const char *key, size_t len)
{
    if (!has_secret_trigram(key, len) || !maybe_secret(letters(key, len)))
        return false;
    char cur[40], prev[40];
    size_t cn = 0, pn = 0;
    bool cur_over = false;
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)key[i] : 0;
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c);
        bool boundary = !alnum;
        if (alnum && cn > 0) {
            unsigned char p = (unsigned char)key[i - 1];
            bool up = c >= 'A' && c <= 'Z';
            bool p_low = p >= 'a' && p <= 'z', p_up = p >= 'A' && p <= 'Z';
            bool next_low = i + 1 < len && key[i + 1] >= 'a' && key[i + 1] <= 'z';
            if (up && (p_low || is_digit(p) || (p_up && next_low)))
                boundary = true; /* fooBar, HTTPToken -> HTTP|Token */
            else if (is_digit(c) && !is_digit(p) &&
                     !(cn == 3 && (memcmp(cur, "cvv", 3) == 0 || memcmp(cur, "cvc", 3) == 0)))
                boundary = true; /* token2 -> token|2, but cvv2 stays */
        }
        if (boundary && cn > 0) {
            if (!cur_over) {
                if (word_is_secret(cur, cn))
                    return true;
                if (pn > 0 && pair_is_secret(prev, pn, cur, cn))
                    return true;
                memcpy(prev, cur, cn);
                pn = cn;
            } else {
                pn = 0;
            }
            cn = 0;
            cur_over = false;
        }
        if (alnum) {
            if (cn < sizeof cur)
                cur[cn++] = (char)lower(c);
            else
                cur_over = true;
        }
    }
    return false;
}

/* ---- card numbers -------------------------------------------------------- */

bool ff_priv_luhn(const char *d, size_t n)
{
    unsigned sum = 0;
    bool dbl = false;
    for (size_t i = n; i-- > 0;) {
        unsigned v = (unsigned)(d[i] - '0');
        if (dbl) {
            v *= 2;
            if (v > 9)
                v -= 9;
        }
        sum += v;
        dbl = !dbl;
    }
    return n > 0 && sum % 10 == 0;
}

/* Not a card although Luhn-valid: an epoch time in ms, us or ns between
 * 2001-09-09 and 2040 (13, 16 or 19 digits starting 1 or 20-22; no card
 * network issues those), or one digit repeated. Everything else of 13-19
 * digits that passes Luhn is treated as a card, whatever its prefix, because
 * new networks and test ranges appear and masking too much is the safe side. */
static bool not_a_card(const char *d, size_t n)
{
    bool same = true;
    for (size_t i = 1; i < n && same; i++)
        same = d[i] == d[0];
    if (same)
        return true;
    if (n == 13 || n == 16 || n == 19) {
        uint64_t secs = 0;
        for (size_t i = 0; i < 10; i++)
            secs = secs * 10 + (uint64_t)(d[i] - '0');
        if (secs >= 1000000000u && secs < 2208988800u)
            return true;
    }
    return false;
}

static bool digits_are_pan(const char *d, size_t n)
{
    return n >= 13 && n <= 19 && !not_a_card(d, n) && ff_priv_luhn(d, n);
}

bool ff_priv_int_is_pan(const char *s, size_t len)
{
    if (len < 13 || len > 19)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!is_digit((unsigned char)s[i]))
            return false;
    return digits_are_pan(s, len);
}

#define MAX_GROUPS 24

/* True when s[i..len) holds at least 13 ASCII digits (a card needs 13):
 * most strings have far fewer, and this skips the group scan for them.
 * SWAR, 8 bytes at a time: per byte, x = b & 0x7f plus a bias sets the
 * high bit exactly when x >= '0' (resp. > '9'), with no carry between bytes. */
static inline uint64_t swar_digits(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t x = v & ~high;
    uint64_t ge0 = x + ones * (0x80 - '0');
    uint64_t gt9 = x + ones * (0x80 - '9' - 1);
    return ge0 & ~gt9 & ~v & high; /* high bit of each byte that is a digit */
}

static bool has_13_digits(const char *s, size_t len, size_t i)
{
    unsigned nd = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t v;
        memcpy(&v, s + i, 8);
        /* digit count: one bit per digit byte, summed by the multiply */
        nd += (unsigned)(((swar_digits(v) >> 7) * 0x0101010101010101ULL) >> 56);
        if (nd >= 13)
            return true;
    }
    for (; i < len; i++)
        nd += is_digit((unsigned char)s[i]);
    return nd >= 13;
}

bool ff_priv_find_pan(const char *s, size_t len, size_t from, size_t *start, size_t *end)
{
    size_t i = from;
    if (!has_13_digits(s, len, from))
        return false;
    while (i < len) {
        /* Next digit run start (not preceded by a digit: runs are maximal). */
        while (i + 8 <= len) {
            uint64_t v;
            memcpy(&v, s + i, 8);
            uint64_t m = swar_digits(v);
            if (m) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                i += (size_t)__builtin_ctzll(m) >> 3;
#endif
                break;
            }
            i += 8;
        }
        while (i < len && !is_digit((unsigned char)s[i]))
            i++;
        if (i >= len)
            return false;
        /* Collect groups: digits separated by exactly one ' ' or '-'. */
        size_t gs[MAX_GROUPS], ge[MAX_GROUPS];
        int ng = 0;
        size_t total = 0;
        size_t j = i;
        for (;;) {
            size_t g0 = j;
            while (j < len && is_digit((unsigned char)s[j]))
                j++;
            gs[ng] = g0;
            ge[ng] = j;
            total += j - g0;
            ng++;
            if (ng == MAX_GROUPS || j + 1 >= len || (s[j] != ' ' && s[j] != '-') ||
                !is_digit((unsigned char)s[j + 1]))
                break;
            j++;
        }
        if (total >= 13) {
            /* Try windows of consecutive groups [a, b] with 13..19 digits;
             * a single group longer than 19 digits is a number, not a card. */
            for (int a = 0; a < ng; a++) {
                size_t nd = 0;
                char buf[20];
                for (int b = a; b < ng; b++) {
                    size_t gl = ge[b] - gs[b];
                    if (nd + gl > 19)
                        break;
                    memcpy(buf + nd, s + gs[b], gl);
                    nd += gl;
                    if (nd >= 13 && digits_are_pan(buf, nd)) {
                        *start = gs[a];
                        *end = ge[b];
                        return true;
                    }
                }
            }
        }
        i = ge[ng - 1];
        while (i < len && is_digit((unsigned char)s[i])) /* defensive: skip the run */
            i++;
    }
    return false;
}

/* ---- bots and spam --------------------------------------------------------- */

static bool at_ci(const char *s, size_t len, size_t i, const char *lit)
{
    size_t n = strlen(lit);
    if (len - i < n)
        return false;
    for (size_t k = 0; k < n; k++)
        if (lower((unsigned char)s[i + k]) != (unsigned char)lit[k])
            return false;
    return true;
}

bool ff_priv_ua_is_bot(const char *ua, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        switch (lower((unsigned char)ua[i])) {
        case 'b':
            if (at_ci(ua, len, i, "bot")) {
                /* Googlebot/2.1, bingbot/2.0, PetalBot;, DuckDuckBot-Https;
                 * "Cubot" phones are not followed by one of these. */
                if (i + 3 == len || ua[i + 3] == '/' || ua[i + 3] == ';' || ua[i + 3] == ')' ||
                    ua[i + 3] == '-')
                    return true;
            }
            if (at_ci(ua, len, i, "bingpreview"))
                return true;
            break;
        case 's':
            if (at_ci(ua, len, i, "spider") || at_ci(ua, len, i, "slurp"))
                return true;
            break;
        case 'c':
            if (at_ci(ua, len, i, "crawler"))
                return true;
            break;
        case 'h':
            if (at_ci(ua, len, i, "headlesschrome"))
                return true;
            break;
        case 'f':
            if (at_ci(ua, len, i, "facebookexternalhit"))
                return true;
            break;
        case 'p':
            if (at_ci(ua, len, i, "phantomjs"))
                return true;
            break;
        case 'l':
            if (at_ci(ua, len, i, "lighthouse"))
                return true;
            break;
        default:
            break;
        }
    }
    return false;
}

static const char *const spam_domains[] = {
    "100dollars-seo.com",
    "4webmasters.org",
    "best-seo-offer.com",
    "blackhatworth.com",
    "buttons-for-website.com",
    "buttons-for-your-website.com",
    "darodar.com",
    "floating-share-buttons.com",
    "free-share-buttons.com",
    "get-free-traffic-now.com",
    "hulfingtonpost.com",
    "ilovevitaly.com",
    "priceg.com",
    "ranksonic.info",
    "semalt.com",
    "simple-share-buttons.com",
    "social-buttons.com",
    "trafficmonetize.com",
    "webmonetizer.net",
    "7makemoneyonline.com",
};

bool ff_priv_referrer_is_spam(const char *url, size_t len)
{
    const char *p = url, *e = url + len;
    const char *sep = NULL;
    for (const char *q = p; q + 2 < e && q < p + 16; q++)
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            sep = q;
            break;
        }
    if (sep)
        p = sep + 3;
    else if (len >= 2 && p[0] == '/' && p[1] == '/')
        p += 2;
    const char *h = p;
    while (p < e && *p != '/' && *p != ':' && *p != '?' && *p != '#')
        p++;
    const char *at = memchr(h, '@', (size_t)(p - h)); /* user@host */
    if (at)
        h = at + 1;
    size_t hn = (size_t)(p - h);
    while (hn && h[hn - 1] == '.')
        hn--;
    for (size_t i = 0; i < sizeof spam_domains / sizeof spam_domains[0]; i++) {
        size_t dn = strlen(spam_domains[i]);
        if (hn < dn)
            continue;
        const char *tail = h + hn - dn;
        bool eq = true;
        for (size_t k = 0; k < dn && eq; k++)
            eq = lower((unsigned char)tail[k]) == (unsigned char)spam_domains[i][k];
        if (eq && (hn == dn || tail[-1] == '.'))
            return true;
    }
    return false;
}

bool ff_priv_url_ok(const char *s, size_t len, size_t max_bytes)
{
    if (len > max_bytes)
        return false;
    size_t i = 0;
    while (i < len && (unsigned char)s[i] <= 0x20)
        i++;
    char scheme[12];
    size_t n = 0;
    for (; i < len && n < sizeof scheme; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\t' || c == '\n' || c == '\r')
            continue; /* browsers drop these inside a URL */
        if (c == ':')
            break;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '+' ||
              c == '-' || c == '.'))
            return true; /* no scheme: a relative URL */
        scheme[n++] = (char)lower(c);
    }
    if (i >= len || s[i] != ':')
        return true;
    static const char *const bad[] = {"javascript", "data", "vbscript", "file"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        if (strlen(bad[k]) == n && memcmp(scheme, bad[k], n) == 0)
            return false;
    return true;
}

/* ---- suspicious unicode ---------------------------------------------------- */

bool ff_priv_suspicious_unicode(const char *s, size_t len)
{
    unsigned scripts = 0; /* 1 Latin, 2 Cyrillic, 4 Greek */
    const unsigned char *p = (const unsigned char *)s, *e = p + len;
    bool ascii = true;
    while (p < e) {
        unsigned c = *p;
        uint32_t cp;
        if (c < 0x80) {
            if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
                scripts |= 1;
            p++;
            continue;
        }
        ascii = false;
        if ((c & 0xE0) == 0xC0 && e - p >= 2) {
            cp = ((c & 0x1Fu) << 6) | (p[1] & 0x3Fu);
            p += 2;
        } else if ((c & 0xF0) == 0xE0 && e - p >= 3) {
            cp = ((c & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
            p += 3;
        } else if ((c & 0xF8) == 0xF0 && e - p >= 4) {
            p += 4;
            continue; /* astral: emoji and CJK extensions, not confusable controls */
        } else {
            p++;
            continue;
        }
        if (cp == 0x061C || (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
            (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0xFEFF)
            return true;
        if (cp >= 0x00C0 && cp <= 0x024F && cp != 0xD7 && cp != 0xF7)
            scripts |= 1;
        else if (cp >= 0x0400 && cp <= 0x04FF)
            scripts |= 2;
        else if (cp >= 0x0370 && cp <= 0x03FF)
            scripts |= 4;
    }
    if (ascii)
        return false;
    return (scripts & (scripts - 1)) != 0; /* more than one script */
}
