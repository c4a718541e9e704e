/* ff_assets.h -- static files compiled into the binary.
 *
 * WHAT: the browser SDK (/sdk/footfall.js), the demo shop (/demo/...) and the
 * dashboard (/dash/: index.html, app.js, app.css, uplot.js, uplot.css from
 * web/dash) are embedded at build time by cmake/FFEmbed.cmake, so one binary is
 * all there is to deploy.
 * Text assets are also embedded gzip-compressed (gz, when that saves 10 % or more;
 * compressed at build time, so serving costs nothing): the server answers
 * "Accept-Encoding: gzip" with them. The table ends with a zeroed row.
 *
 * OWNERSHIP: static, read-only data.
 */
#ifndef FF_ASSETS_H
#define FF_ASSETS_H

#include <stddef.h>

typedef struct ff_asset {
    const char *path; /* URL path, e.g. "/sdk/footfall.js" */
    const char *content_type;
    const unsigned char *data;
    size_t len;
    const char *etag;        /* quoted SHA-1 of the content */
    const unsigned char *gz; /* the same content gzip-compressed, or NULL */
    size_t gz_len;
    const char *gz_etag; /* quoted "SHA-1-gz" (a representation of its own), or NULL */
} ff_asset;

extern const ff_asset ff_assets[];
extern const size_t ff_n_assets;

#endif /* FF_ASSETS_H */
