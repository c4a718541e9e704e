/* test_options.c -- the option table: defaults, file < env < flags,
 * validation errors that name the option, help and generated docs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/ff_options.h"
#include "ff_test.h"

static ff_rc load(ff_config *cfg, unsigned cmd, int argc, char **argv, ff_err *err)
{
    const char *pos[4];
    int n;
    return ff_options_load(cfg, cmd, argc, argv, pos, 4, &n, err);
}

static void test_defaults(void)
{
    ff_config c;
    FF_CHECK_EQ(load(&c, FF_CMD_SERVE, 0, NULL, NULL), FF_OK);
    FF_CHECK_STR(c.listen, "127.0.0.1:8080");
    FF_CHECK_EQ(c.fsync, FF_FSYNC_BATCH);
    FF_CHECK_EQ(c.max_batch_kb, 500);
    FF_CHECK_EQ(c.max_event_kb, 32);
    FF_CHECK_EQ(c.ip_mode, FF_IPOPT_TRUNCATE);
}

static void test_precedence(void)
{
    char path[] = "/tmp/ff_test_opts_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# comment\n[server]\nlisten = 127.0.0.1:9001\nfsync = interval\n"
               "max_batch_kb = 100\nrate = 5\n");
    fclose(f);
    setenv("FOOTFALL_MAX_BATCH_KB", "200", 1);
    char *argv[] = {"--config", path, "--listen=127.0.0.1:0"};
    ff_config c;
    ff_err err = {0};
    FF_CHECK_EQ(load(&c, FF_CMD_SERVE, 3, argv, &err), FF_OK);
    FF_CHECK_STR(c.listen, "127.0.0.1:0");   /* flag beats file */
    FF_CHECK_EQ(c.max_batch_kb, 200);        /* env beats file */
    FF_CHECK_EQ(c.fsync, FF_FSYNC_INTERVAL); /* file beats default */
    unsetenv("FOOTFALL_MAX_BATCH_KB");
    unlink(path);
}

static void test_errors(void)
{
    ff_config c;
    ff_err err = {0};
    char *a1[] = {"--fsync", "sometimes"};
    FF_CHECK_EQ(load(&c, FF_CMD_SERVE, 2, a1, &err), FF_EINVAL);
    FF_CHECK(strstr(err.msg, "fsync") && strstr(err.msg, "batch|interval"));
    char *a2[] = {"--max-batch-kb", "-3"};
    FF_CHECK_EQ(load(&c, FF_CMD_SERVE, 2, a2, &err), FF_EINVAL);
    FF_CHECK(strstr(err.msg, "max-batch-kb") != NULL);
    char *a3[] = {"--no-such-thing", "1"};
    FF_CHECK_EQ(load(&c, FF_CMD_SERVE, 2, a3, &err), FF_EINVAL);
    FF_CHECK(strstr(err.msg, "no-such-thing") != NULL);
    char *a4[] = {"--rate", "10"}; /* a simulate option is not a serve option */
    FF_CHECK_EQ(load(&c, FF_CMD_SERVE, 2, a4, &err), FF_EINVAL);
    char *a5[] = {"--listen"};
    FF_CHECK_EQ(load(&c, FF_CMD_SERVE, 1, a5, &err), FF_EINVAL);
    FF_CHECK(strstr(err.msg, "needs a value") != NULL);
    char *a6[] = {"--max-connections", "0"};
    FF_CHECK_EQ(load(&c, FF_CMD_SERVE, 2, a6, &err), FF_EINVAL);
    setenv("FOOTFALL_SEGMENT_MB", "lots", 1);
    FF_CHECK_EQ(load(&c, FF_CMD_SERVE, 0, NULL, &err), FF_EINVAL);
    FF_CHECK(strstr(err.msg, "FOOTFALL_SEGMENT_MB") != NULL);
    unsetenv("FOOTFALL_SEGMENT_MB");
    char path[] = "/tmp/ff_test_opts_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "lisen = 1.2.3.4:5\n");
    fclose(f);
    char *a7[] = {"--config", path};
    FF_CHECK_EQ(load(&c, FF_CMD_SERVE, 2, a7, &err), FF_EINVAL);
    FF_CHECK(strstr(err.msg, "lisen") != NULL);
    unlink(path);
}

static void test_help_and_docs(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ff_options_help(f, FF_CMD_SERVE);
    fclose(f);
    FF_CHECK(strstr(buf, "--listen") && strstr(buf, "--fsync") && !strstr(buf, "--rate "));
    free(buf);
    f = open_memstream(&buf, &len);
    ff_options_markdown(f);
    fclose(f);
    FF_CHECK(strstr(buf, "`FOOTFALL_LISTEN`") != NULL);
    /* docs/options.md is generated from the table and must match it. */
    FILE *d = fopen(FF_SOURCE_DIR "/docs/options.md", "r");
    FF_CHECK(d != NULL);
    if (d) {
        char *doc = calloc(1, len + 2);
        size_t got = fread(doc, 1, len + 1, d);
        fclose(d);
        FF_CHECK(got == len && memcmp(doc, buf, len) == 0);
        if (got != len || memcmp(doc, buf, len) != 0)
            fprintf(stderr, "docs/options.md is stale: run `footfall config docs > "
                            "docs/options.md`\n");
        free(doc);
    }
    free(buf);
}

/* Repeatable options: every occurrence within a source is kept in order; a higher source
 * replaces the whole list; ff_options_list_next walks it. */
static void test_repeatable(void)
{
    char path[] = "/tmp/ff_test_opts_XXXXXX";
    int fd = mkstemp(path);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "webhook = http://a.example/1\nwebhook = http://a.example/2\n"
               "rule = r1: event=x by=user_id count>=2 window=1m\n");
    fclose(f);
    char *a1[] = {"--config", path};
    ff_config c;
    ff_err err = {0};
    FF_CHECK_EQ(load(&c, FF_CMD_SERVE, 2, a1, &err), FF_OK);
    FF_CHECK_STR(c.webhook, "http://a.example/1\nhttp://a.example/2");
    const char *it;
    size_t pos = 0, il, n = 0;
    while (ff_options_list_next(c.webhook, &pos, &it, &il))
        n++;
    FF_CHECK_EQ(n, 2);
    pos = 0;
    FF_CHECK(ff_options_list_next(c.rule, &pos, &it, &il));
    FF_CHECK_EQ(il, strlen("r1: event=x by=user_id count>=2 window=1m"));
    char *a2[] = {"--config", path, "--webhook", "http://b/1", "--webhook=http://b/2"};
    FF_CHECK_EQ(load(&c, FF_CMD_SERVE, 5, a2, &err), FF_OK);
    FF_CHECK_STR(c.webhook, "http://b/1\nhttp://b/2"); /* flags replace the file's list */
    FF_CHECK(strncmp(c.rule, "r1:", 3) == 0);          /* untouched by flags */
    char *a3[] = {"--config", path, "--webhook", ""};
    FF_CHECK_EQ(load(&c, FF_CMD_SERVE, 4, a3, &err), FF_OK);
    FF_CHECK_STR(c.webhook, "");
    unlink(path);
}

int main(void)
{
    FF_RUN(test_defaults);
    FF_RUN(test_precedence);
    FF_RUN(test_errors);
    FF_RUN(test_repeatable);
    FF_RUN(test_help_and_docs);
    FF_DONE();
}
