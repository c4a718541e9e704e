#include "core/ff_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

ff_rc ff_err_set(ff_err *err, ff_rc code, int sys_errno, const char *file, int line,
                 const char *fmt, ...)
{
    if (!err)
        return code;
    err->code = code;
    err->sys_errno = sys_errno;
    err->file = file;
    err->line = line;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    if (sys_errno && n >= 0 && (size_t)n < sizeof err->msg - 8) {
        snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(sys_errno));
    }
    return code;
}

const char *ff_rc_name(ff_rc code)
{
    switch (code) {
    case FF_OK:
        return "OK";
    case FF_EOF:
        return "EOF";
    case FF_ENOMEM:
        return "ENOMEM";
    case FF_EIO:
        return "EIO";
    case FF_ECORRUPT:
        return "ECORRUPT";
    case FF_EBADINPUT:
        return "EBADINPUT";
    case FF_ELIMIT:
        return "ELIMIT";
    case FF_EINVAL:
        return "EINVAL";
    case FF_ENOTFOUND:
        return "ENOTFOUND";
    case FF_EFAILED:
        return "EFAILED";
    case FF_EEXIST:
        return "EEXIST";
    case FF_EAGAIN:
        return "EAGAIN";
    case FF_ELOCKED:
        return "ELOCKED";
    case FF_EAUTH:
        return "EAUTH";
    }
    return "E?";
}

void ff_panic(const char *file, int line, const char *fmt, ...)
{
    fprintf(stderr, "\n=== footfall PANIC at %s:%d ===\n", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nThis is a bug in footfall; please report it with the lines above.\n");
    abort();
}
