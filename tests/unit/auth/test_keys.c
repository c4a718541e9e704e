/* test_keys.c -- keys: create/check per kind, stored hashed, revoke,
 * reload by another process's change, malformed file refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/ff_keys.h"
#include "ff_test.h"

static char dir[256];

static void test_create_check(void)
{
    ff_keys *k;
    FF_CHECK_EQ(ff_keys_open(dir, &k, NULL), FF_OK);
    char w[40], r[40], a[40], id[17], rid[17];
    FF_CHECK_EQ(ff_keys_create(k, FF_KEY_WRITE, "web", w, id, NULL), FF_OK);
    FF_CHECK_EQ(ff_keys_create(k, FF_KEY_READ, "dash", r, rid, NULL), FF_OK);
    FF_CHECK_EQ(ff_keys_create(k, FF_KEY_ADMIN, "", a, id, NULL), FF_OK);
    FF_CHECK(strncmp(w, "ffw_", 4) == 0 && strlen(w) == 36);
    FF_CHECK(strncmp(r, "ffr_", 4) == 0);
    FF_CHECK(strcmp(w, r) != 0);
    ff_key_kind kind = FF_KEY_ADMIN;
    FF_CHECK_EQ(ff_keys_check(k, w, strlen(w), &kind), FF_OK);
    FF_CHECK_EQ(kind, FF_KEY_WRITE);
    FF_CHECK_EQ(ff_keys_check(k, r, strlen(r), &kind), FF_OK);
    FF_CHECK_EQ(kind, FF_KEY_READ);
    FF_CHECK_EQ(ff_keys_check(k, a, strlen(a), &kind), FF_OK);
    FF_CHECK_EQ(kind, FF_KEY_ADMIN);
    FF_CHECK_EQ(ff_keys_check(k, w, strlen(w) - 1, &kind), FF_EAUTH);
    FF_CHECK_EQ(ff_keys_check(k, "", 0, &kind), FF_EAUTH);
    FF_CHECK_EQ(ff_keys_check(k, "ffw_nope", 8, &kind), FF_EAUTH);

    /* Stored hashed: the clear key is nowhere in the file. */
    char path[512];
    snprintf(path, sizeof path, "%s/keys.tsv", dir);
    FILE *f = fopen(path, "r");
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    FF_CHECK(strstr(buf, w + 4) == NULL && strstr(buf, r + 4) == NULL);
    FF_CHECK(strstr(buf, "web") != NULL);
    struct stat st;
    stat(path, &st);
    FF_CHECK_EQ(st.st_mode & 077, 0);

    /* A second handle (another process) sees them; revoke applies. */
    ff_keys *k2;
    FF_CHECK_EQ(ff_keys_open(dir, &k2, NULL), FF_OK);
    FF_CHECK_EQ(ff_keys_check(k2, w, strlen(w), &kind), FF_OK);
    FF_CHECK_EQ(ff_keys_revoke(k2, id, NULL), FF_OK);
    FF_CHECK_EQ(ff_keys_revoke(k2, "nosuchid", NULL), FF_ENOTFOUND);
    FF_CHECK_EQ(ff_keys_check(k2, a, strlen(a), &kind), FF_EAUTH);
    /* The first handle picks the change up on reload (at most once a second). */
    sleep(1);
    usleep(100 * 1000);
    ff_keys_maybe_reload(k);
    FF_CHECK_EQ(ff_keys_check(k, a, strlen(a), &kind), FF_EAUTH);
    FF_CHECK_EQ(ff_keys_check(k, w, strlen(w), &kind), FF_OK);
    ff_keys_close(k2);
    ff_keys_close(k);
}

static void test_bad_name_and_file(void)
{
    ff_keys *k;
    FF_CHECK_EQ(ff_keys_open(dir, &k, NULL), FF_OK);
    char key[40], id[17];
    FF_CHECK_EQ(ff_keys_create(k, FF_KEY_WRITE, "two\nlines", key, id, NULL), FF_EINVAL);
    ff_keys_close(k);
    char path[512];
    snprintf(path, sizeof path, "%s/keys.tsv", dir);
    FILE *f = fopen(path, "a");
    fprintf(f, "garbage line\n");
    fclose(f);
    ff_err err = {0};
    FF_CHECK_EQ(ff_keys_open(dir, &k, &err), FF_ECORRUPT);
    FF_CHECK(strstr(err.msg, "malformed") != NULL);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/ff_test_keys_%d", (int)getpid());
    FF_RUN(test_create_check);
    FF_RUN(test_bad_name_and_file);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        return 1;
    FF_DONE();
}
