/* fuzz_accept_encoding.c -- fuzz ff_http_accepts_gzip (the Accept-Encoding header).
 *
 * For every input (as a NUL-terminated header value, cut at its first NUL):
 *  - no crash, no read past the string (ASan);
 *  - the same answer twice (no hidden state);
 *  - a header with neither "gzip" (any case) nor "*" in it never accepts;
 *  - appending ", gzip;q=0" to a header that does not name gzip never makes it accept, and
 *    appending ", gzip" to one that names no coding "gzip"/"x-gzip" always does.
 * Any violation aborts, which libFuzzer and the replay driver report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/ff_http_enc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has_ci(const char *s, const char *needle)
{
    size_t n = strlen(needle);
    for (; *s; s++)
        if (!strncasecmp(s, needle, n))
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 32);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    bool a = ff_http_accepts_gzip(s);
    if (a != ff_http_accepts_gzip(s)) {
        fprintf(stderr, "not deterministic\n");
        abort();
    }
    if (a && !has_ci(s, "gzip") && !strchr(s, '*')) {
        fprintf(stderr, "accepts without gzip or *\n");
        abort();
    }
    if (!has_ci(s, "gzip")) {
        size_t len = strlen(s);
        memcpy(s + len, ", gzip;q=0", 11);
        if (ff_http_accepts_gzip(s)) {
            fprintf(stderr, "an explicit gzip;q=0 accepted\n");
            abort();
        }
        memcpy(s + len, ", gzip", 7);
        if (!ff_http_accepts_gzip(s)) {
            fprintf(stderr, "an explicit gzip refused\n");
            abort();
        }
    }
    free(s);
    return 0;
}
