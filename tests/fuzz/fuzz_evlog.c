/* fuzz_evlog.c -- the event log reader and recovery against arbitrary bytes.
 *
 * The input becomes the newest segment file of a log (the first byte is a switch: even puts a valid
 * segment header first, so the fuzzer reaches frames sooner). Then: a read-only open + verify +
 * cursor scan (as `footfall log dump` does), and a write-mode open (recovery truncates any torn
 * tail) followed by a full scan, an append and a second scan. Invariants checked: no crash or leak;
 * after recovery every frame verifies, offsets are dense, and an append lands at the recovered end.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evlog/ff_evlog.h"

static char dir[128];
static char seg[256];

static void write_file(const uint8_t *data, size_t size)
{
    FILE *f = fopen(seg, "wb");
    if (!f)
        abort();
    if (size) {
        /* The first byte only chooses: even = a valid segment header first. */
        static const unsigned char hdr[16] = {'F', 'F', 'L', 'O', 'G', 'S', 'E', 'G', 1, 0, 0, 0};
        if ((data[0] & 1) == 0)
            fwrite(hdr, 1, sizeof hdr, f);
        data++;
        size--;
    }
    fwrite(data, 1, size, f);
    fclose(f);
}

static uint64_t scan(ff_evlog *log, int must_be_clean)
{
    ff_evlog_cursor *c;
    if (ff_evlog_cursor_open(log, 0, &c, NULL) != FF_OK)
        abort();
    uint64_t off, n = 0, expect = 0;
    const void *rec;
    size_t len;
    ff_rc rc;
    while ((rc = ff_evlog_cursor_next(c, &off, &rec, &len, NULL)) == FF_OK) {
        if (off != expect++)
            abort(); /* offsets must be dense */
        n++;
    }
    if (must_be_clean && rc != FF_EOF)
        abort(); /* recovery must leave a log that reads to its end */
    ff_evlog_cursor_close(c);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/ff_fuzz_evlog_%d", (int)getpid());
        snprintf(seg, sizeof seg, "%s/00000000000000000000.ffl", dir);
    }
    /* Start from an empty folder each time (unlink, not a shell: speed). */
    mkdir(dir, 0755);
    DIR *d = opendir(dir);
    if (!d)
        abort();
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    write_file(data, size);

    ff_evlog_opts ro = {.dir = dir, .read_only = true};
    ff_evlog *log = NULL;
    if (ff_evlog_open(&ro, &log, NULL) == FF_OK) {
        ff_evlog_verify(log, NULL, NULL);
        scan(log, 0);
        ff_evlog_close(log);
    }

    ff_evlog_opts rw = {.dir = dir};
    if (ff_evlog_open(&rw, &log, NULL) != FF_OK)
        return 0; /* e.g. an unreadable segment header: refused, not crashed */
    uint64_t n = scan(log, 1);
    if (ff_evlog_verify(log, NULL, NULL) != FF_OK)
        abort();
    static const unsigned char rec[] = {3, 0, 0, 0, 'a', 'b', 'c'};
    uint64_t first = 0;
    if (ff_evlog_append(log, rec, sizeof rec, 1, &first, NULL) == FF_OK) {
        if (first != n)
            abort();
        if (scan(log, 1) != n + 1)
            abort();
    }
    ff_evlog_close(log);
    return 0;
}
