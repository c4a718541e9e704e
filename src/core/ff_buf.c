#include "core/ff_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/ff_mem.h"

void ff_buf_init(ff_buf *b, size_t max_bytes)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max_bytes ? max_bytes : SIZE_MAX / 2;
}

void ff_buf_fini(ff_buf *b)
{
    ff_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void ff_buf_reset(ff_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

ff_rc ff_buf_reserve(ff_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra)
        return FF_ELIMIT;
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return FF_OK;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap *= 2;
    if (b->max < SIZE_MAX && ncap > b->max + 1) /* max + 1 would wrap at SIZE_MAX */
        ncap = b->max + 1;
    char *p = ff_realloc(b->data, ncap);
    if (!p)
        return FF_ENOMEM;
    b->data = p;
    b->cap = ncap;
    return FF_OK;
}

ff_rc ff_buf_add(ff_buf *b, const void *p, size_t n)
{
    ff_rc rc = ff_buf_reserve(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return FF_OK;
}

ff_rc ff_buf_addc(ff_buf *b, char c)
{
    if (b->len + 2 <= b->cap) {
        b->data[b->len++] = c;
        b->data[b->len] = '\0';
        return FF_OK;
    }
    return ff_buf_add(b, &c, 1);
}

ff_rc ff_buf_adds(ff_buf *b, const char *s)
{
    return ff_buf_add(b, s, strlen(s));
}

ff_rc ff_buf_printf(ff_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return FF_EINVAL;
    if ((size_t)n < sizeof tmp)
        return ff_buf_add(b, tmp, (size_t)n);
    ff_rc rc = ff_buf_reserve(b, (size_t)n);
    if (rc)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return FF_OK;
}

ff_rc ff_buf_add_u64(ff_buf *b, uint64_t v)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return ff_buf_add(b, tmp + i, sizeof tmp - (size_t)i);
}

ff_rc ff_buf_add_i64(ff_buf *b, int64_t v)
{
    if (v < 0) {
        ff_rc rc = ff_buf_addc(b, '-');
        if (rc)
            return rc;
        return ff_buf_add_u64(b, (uint64_t)0 - (uint64_t)v);
    }
    return ff_buf_add_u64(b, (uint64_t)v);
}

char *ff_buf_detach(ff_buf *b)
{
    char *p = b->data;
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}
