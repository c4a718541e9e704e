/* ff_log.h -- the process logger: logfmt lines on stderr.
 *
 * WHAT: `ts level sub=evlog msg="..."`. FF_LOG checks the level before
 * formatting, so disabled levels cost one comparison. Hot paths do not log;
 * they count (see /metrics).
 *
 * THREADING: thread-safe (one write(2) per line). The level is set once at
 * start-up; it is the one piece of file-scope state style.md allows.
 */
#ifndef FF_LOG_H
#define FF_LOG_H

typedef enum ff_log_level {
    FF_LOG_ERROR = 0,
    FF_LOG_WARN = 1,
    FF_LOG_INFO = 2,
    FF_LOG_DEBUG = 3,
    FF_LOG_TRACE = 4,
} ff_log_level;

extern int ff_log_threshold;

void ff_log_set_level(ff_log_level level);
/* Parse "error|warn|info|debug|trace"; returns -1 when unknown. */
int ff_log_level_parse(const char *s);
void ff_log_write(ff_log_level level, const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define FF_LOG(level, sub, ...)                                                                    \
    do {                                                                                           \
        if ((int)(level) <= ff_log_threshold)                                                      \
            ff_log_write((level), (sub), __VA_ARGS__);                                             \
    } while (0)

#endif /* FF_LOG_H */
