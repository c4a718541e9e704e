/* test_accept_encoding.c -- ff_http_accepts_gzip (Accept-Encoding negotiation). */
#include "ff_test.h"
#include "http/ff_http_enc.h"

static void test_accepts(void)
{
    FF_CHECK(ff_http_accepts_gzip("gzip"));
    FF_CHECK(ff_http_accepts_gzip("gzip, deflate, br")); /* what Chromium sends */
    FF_CHECK(ff_http_accepts_gzip("br;q=1.0, GZip;q=0.5"));
    FF_CHECK(ff_http_accepts_gzip("deflate, x-gzip"));
    FF_CHECK(ff_http_accepts_gzip("*"));
    FF_CHECK(ff_http_accepts_gzip("br, *;q=0.1"));
    FF_CHECK(ff_http_accepts_gzip(" \tgzip ; q=0.001 "));
    FF_CHECK(ff_http_accepts_gzip("identity;q=0,gzip"));
}

static void test_refuses(void)
{
    FF_CHECK(!ff_http_accepts_gzip(NULL));
    FF_CHECK(!ff_http_accepts_gzip(""));
    FF_CHECK(!ff_http_accepts_gzip("identity"));
    FF_CHECK(!ff_http_accepts_gzip("deflate, br"));
    FF_CHECK(!ff_http_accepts_gzip("gzip;q=0"));
    FF_CHECK(!ff_http_accepts_gzip("gzip;q=0.000, deflate"));
    FF_CHECK(!ff_http_accepts_gzip("gzip;q=0, *")); /* named and refused: * does not override */
    FF_CHECK(!ff_http_accepts_gzip("*;q=0"));
    FF_CHECK(!ff_http_accepts_gzip("gzipx, xgzip, gzi")); /* whole names only */
    FF_CHECK(!ff_http_accepts_gzip(",,,;;;q="));
    /* q of the next coding is not read as this one's */
    FF_CHECK(!ff_http_accepts_gzip("gzip;q=0,br;q=1"));
    FF_CHECK(ff_http_accepts_gzip("br;q=0,gzip"));
}

int main(void)
{
    FF_RUN(test_accepts);
    FF_RUN(test_refuses);
    FF_DONE();
}
