/* ff_err.h -- the single table of error codes, and error detail.
 *
 * WHAT: every fallible function returns an ff_rc: FF_OK (0) or a negative
 * FF_E* code from the table below. Detail (message, errno, file, line) goes
 * into an optional ff_err out-parameter that callers may pass as NULL.
 *
 * DESIGN: codes are stable and never renumbered; each has one doc line saying
 * cause and remedy. errno is converted at the syscall boundary and only there.
 * ff_panic() is for invariant violations only: it prints a crash report and
 * aborts. Nothing below main() calls exit().
 *
 * THREADING: all functions are thread-safe; an ff_err belongs to its caller.
 */
#ifndef FF_ERR_H
#define FF_ERR_H

#include <stddef.h>

typedef enum ff_rc {
    FF_OK = 0,
    FF_EOF = -1,       /* end of data: a reader reached the durable tail */
    FF_ENOMEM = -2,    /* allocation failed: lower load or raise memory */
    FF_EIO = -3,       /* an OS I/O call failed: see errno in the detail */
    FF_ECORRUPT = -4,  /* stored data failed a check (CRC, magic, bounds) */
    FF_EBADINPUT = -5, /* input from outside is malformed: fix the sender */
    FF_ELIMIT = -6,    /* a configured bound was hit (size, count, depth) */
    FF_EINVAL = -7,    /* a caller passed an invalid argument or option */
    FF_ENOTFOUND = -8, /* the named thing does not exist */
    FF_EFAILED = -9,   /* the object is in the sticky FAILED state: reopen it */
    FF_EEXIST = -10,   /* the thing already exists */
    FF_EAGAIN = -11,   /* temporarily unavailable (back-pressure): retry later */
    FF_ELOCKED = -12,  /* another process holds the lock on the data folder */
    FF_EAUTH = -13,    /* credentials missing, unknown or of the wrong kind */
} ff_rc;

typedef struct ff_err {
    ff_rc code;
    int sys_errno; /* saved errno, 0 when not an OS error */
    const char *file;
    int line;
    char msg[512];
} ff_err;

/* Record an error with its location; err may be NULL. Returns code. */
ff_rc ff_err_set(ff_err *err, ff_rc code, int sys_errno, const char *file, int line,
                 const char *fmt, ...) __attribute__((format(printf, 6, 7)));

#define FF_ERR_SET(err, code, ...) ff_err_set((err), (code), 0, __FILE__, __LINE__, __VA_ARGS__)
#define FF_ERR_SYS(err, code, ...) ff_err_set((err), (code), errno, __FILE__, __LINE__, __VA_ARGS__)

/* Stable short name of a code ("EIO"), never NULL. */
const char *ff_rc_name(ff_rc code);

/* Print a crash report and abort. For invariant violations only. */
_Noreturn void ff_panic(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define FF_PANIC(...) ff_panic(__FILE__, __LINE__, __VA_ARGS__)
#define FF_VERIFY(x)                                                                               \
    do {                                                                                           \
        if (!(x))                                                                                  \
            ff_panic(__FILE__, __LINE__, "verify failed: %s", #x);                                 \
    } while (0)
#ifdef NDEBUG
#define FF_ASSERT(x) ((void)0)
#else
#define FF_ASSERT(x) FF_VERIFY(x)
#endif

#endif /* FF_ERR_H */
