/* ff_http_enc.c -- Accept-Encoding: see ff_http_enc.h. */
#include "http/ff_http_enc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool ff_http_accepts_gzip(const char *ae)
{
    int gzip = -1, star = -1; /* -1 not named, 0 refused (q=0), 1 accepted */
    for (const char *p = ae; p && *p;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',' && *e != ';' && *e != ' ' && *e != '\t')
            e++;
        size_t n = (size_t)(e - p);
        int *slot =
            (n == 4 && !strncasecmp(p, "gzip", 4)) || (n == 6 && !strncasecmp(p, "x-gzip", 6))
                ? &gzip
            : (n == 1 && *p == '*') ? &star
                                    : NULL;
        const char *end = strchr(e, ',');
        if (!end)
            end = e + strlen(e);
        int ok = 1;
        for (const char *q = e; q + 1 < end; q++) {
            if ((*q == 'q' || *q == 'Q') && q[1] == '=') {
                /* q=0 (0.0, 0.000): refused; the number is read within this coding */
                char num[16];
                size_t k = 0;
                for (const char *d = q + 2; d < end && k + 1 < sizeof num; d++)
                    num[k++] = *d;
                num[k] = 0;
                ok = strtod(num, NULL) > 0;
                break;
            }
        }
        if (slot)
            *slot = ok;
        p = end;
    }
    return gzip == 1 || (gzip == -1 && star == 1);
}
