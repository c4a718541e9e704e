/* ff_keys.c -- see ff_keys.h. */
#include "auth/ff_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/ff_clock.h"
#include "core/ff_log.h"
#include "core/ff_mem.h"

#define KEY_BODY_CHARS 32
#define MAX_KEYS 100000

typedef struct key_row {
    char id[17];
    ff_key_kind kind;
    unsigned char hash[32];
    int64_t created_ms;
    int64_t revoked_ms;
    char name[128];
} key_row;

struct ff_keys {
    char path[4096];
    char dir[4096];
    pthread_rwlock_t lock;
    key_row *rows;
    size_t n;
    struct timespec mtime;
    off_t size;
    int64_t last_check_ms;
    pthread_mutex_t write_mu;
};

static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
static const char kind_letter[] = {'w', 'r', 'a'};

const char *ff_key_kind_name(ff_key_kind kind)
{
    switch (kind) {
    case FF_KEY_WRITE:
        return "write";
    case FF_KEY_READ:
        return "read";
    case FF_KEY_ADMIN:
        return "admin";
    }
    return "?";
}

static int kind_parse(const char *s)
{
    for (int i = 0; i < 3; i++)
        if (!strcmp(s, ff_key_kind_name((ff_key_kind)i)))
            return i;
    return -1;
}

static void sha256(const void *p, size_t n, unsigned char out[32])
{
    unsigned int len = 32;
    EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Parse keys.tsv into a new table. Malformed lines are an error: the file
 * is ours, so damage must be loud rather than silently drop keys. */
static ff_rc load_file(const char *path, key_row **rows_out, size_t *n_out, ff_err *err)
{
    *rows_out = NULL;
    *n_out = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return FF_OK;
        return FF_ERR_SYS(err, FF_EIO, "cannot read %s", path);
    }
    size_t cap = 0, n = 0;
    key_row *rows = NULL;
    char line[1024];
    int lineno = 0;
    ff_rc rc = FF_OK;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\n")] = 0;
        if (!line[0] || line[0] == '#')
            continue;
        char *fields[6];
        int nf = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, "\t", &save); t && nf < 6; t = strtok_r(NULL, "\t", &save))
            fields[nf++] = t;
        if (nf < 5 || strlen(fields[0]) > 16 || kind_parse(fields[1]) < 0 ||
            strlen(fields[2]) != 64) {
            rc = FF_ERR_SET(err, FF_ECORRUPT, "%s:%d: malformed key line", path, lineno);
            break;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            if (cap > MAX_KEYS) {
                rc = FF_ERR_SET(err, FF_ELIMIT, "%s: more than %d keys", path, MAX_KEYS);
                break;
            }
            key_row *nr = ff_realloc(rows, cap * sizeof *nr);
            if (!nr) {
                rc = FF_ERR_SET(err, FF_ENOMEM, "out of memory");
                break;
            }
            rows = nr;
        }
        key_row *r = &rows[n];
        memset(r, 0, sizeof *r);
        snprintf(r->id, sizeof r->id, "%s", fields[0]);
        r->kind = (ff_key_kind)kind_parse(fields[1]);
        bool ok = true;
        for (int i = 0; i < 32; i++) {
            int hi = hexval(fields[2][2 * i]), lo = hexval(fields[2][2 * i + 1]);
            if (hi < 0 || lo < 0)
                ok = false;
            r->hash[i] = (unsigned char)((hi << 4) | lo);
        }
        if (!ok) {
            rc = FF_ERR_SET(err, FF_ECORRUPT, "%s:%d: bad hash", path, lineno);
            break;
        }
        r->created_ms = strtoll(fields[3], NULL, 10);
        r->revoked_ms = strtoll(fields[4], NULL, 10);
        if (nf > 5)
            snprintf(r->name, sizeof r->name, "%s", fields[5]);
        n++;
    }
    fclose(f);
    if (rc) {
        ff_free(rows);
        return rc;
    }
    *rows_out = rows;
    *n_out = n;
    return FF_OK;
}

static void note_mtime(ff_keys *k)
{
    struct stat st;
    if (stat(k->path, &st) == 0) {
        k->mtime = st.st_mtim;
        k->size = st.st_size;
    } else {
        memset(&k->mtime, 0, sizeof k->mtime);
        k->size = -1;
    }
}

ff_rc ff_keys_open(const char *data_dir, ff_keys **out, ff_err *err)
{
    *out = NULL;
    if (mkdir(data_dir, 0755) != 0 && errno != EEXIST)
        return FF_ERR_SYS(err, FF_EIO, "cannot create data folder %s", data_dir);
    ff_keys *k = ff_calloc(1, sizeof *k);
    if (!k)
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    snprintf(k->dir, sizeof k->dir, "%s", data_dir);
    snprintf(k->path, sizeof k->path, "%s/keys.tsv", data_dir);
    pthread_rwlock_init(&k->lock, NULL);
    pthread_mutex_init(&k->write_mu, NULL);
    note_mtime(k);
    ff_rc rc = load_file(k->path, &k->rows, &k->n, err);
    if (rc) {
        ff_keys_close(k);
        return rc;
    }
    k->last_check_ms = ff_clock_now_ms();
    *out = k;
    return FF_OK;
}

void ff_keys_close(ff_keys *k)
{
    if (!k)
        return;
    pthread_rwlock_destroy(&k->lock);
    pthread_mutex_destroy(&k->write_mu);
    ff_free(k->rows);
    ff_free(k);
}

void ff_keys_maybe_reload(ff_keys *k)
{
    int64_t now = ff_clock_now_ms();
    pthread_mutex_lock(&k->write_mu);
    if (now - k->last_check_ms < 1000) {
        pthread_mutex_unlock(&k->write_mu);
        return;
    }
    k->last_check_ms = now;
    struct stat st;
    bool changed = stat(k->path, &st) == 0
                       ? (st.st_mtim.tv_sec != k->mtime.tv_sec ||
                          st.st_mtim.tv_nsec != k->mtime.tv_nsec || st.st_size != k->size)
                       : k->size != -1;
    if (changed) {
        key_row *rows;
        size_t n;
        ff_err err = {0};
        if (load_file(k->path, &rows, &n, &err) == FF_OK) {
            pthread_rwlock_wrlock(&k->lock);
            ff_free(k->rows);
            k->rows = rows;
            k->n = n;
            pthread_rwlock_unlock(&k->lock);
            note_mtime(k);
            FF_LOG(FF_LOG_INFO, "keys", "reloaded %zu keys", n);
        } else {
            FF_LOG(FF_LOG_ERROR, "keys", "keeping the old keys: %s", err.msg);
        }
    }
    pthread_mutex_unlock(&k->write_mu);
}

ff_rc ff_keys_check(ff_keys *k, const char *key, size_t len, ff_key_kind *kind_out)
{
    if (!key || len == 0 || len > 200)
        return FF_EAUTH;
    unsigned char h[32];
    sha256(key, len, h);
    ff_rc rc = FF_EAUTH;
    pthread_rwlock_rdlock(&k->lock);
    for (size_t i = 0; i < k->n; i++) {
        if (CRYPTO_memcmp(h, k->rows[i].hash, 32) == 0 && k->rows[i].revoked_ms == 0) {
            *kind_out = k->rows[i].kind;
            rc = FF_OK;
        }
    }
    pthread_rwlock_unlock(&k->lock);
    return rc;
}

static ff_rc write_file(ff_keys *k, const key_row *rows, size_t n, ff_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", k->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return FF_ERR_SYS(err, FF_EIO, "cannot write %s", tmp);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "# footfall keys: id, kind, sha256(key), created_ms, revoked_ms, name\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "%s\t%s\t", rows[i].id, ff_key_kind_name(rows[i].kind));
        for (int j = 0; j < 32; j++)
            fprintf(f, "%02x", rows[i].hash[j]);
        fprintf(f, "\t%lld\t%lld\t%s\n", (long long)rows[i].created_ms,
                (long long)rows[i].revoked_ms, rows[i].name);
    }
    bool ok = fflush(f) == 0 && fsync(fd) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, k->path) != 0) {
        unlink(tmp);
        return FF_ERR_SYS(err, FF_EIO, "cannot write %s", k->path);
    }
    int dfd = open(k->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return FF_OK;
}

static ff_rc random_chars(char *out, size_t n, ff_err *err)
{
    unsigned char raw[64];
    size_t i = 0;
    while (i < n) {
        ssize_t g = getrandom(raw, sizeof raw, 0);
        if (g < 0) {
            if (errno == EINTR)
                continue;
            return FF_ERR_SYS(err, FF_EIO, "getrandom");
        }
        for (ssize_t j = 0; j < g && i < n; j++)
            if (raw[j] < 248) /* 248 = 4 * 62: keeps the characters uniform */
                out[i++] = b62[raw[j] % 62];
    }
    out[n] = 0;
    return FF_OK;
}

ff_rc ff_keys_create(ff_keys *k, ff_key_kind kind, const char *name, char *key_out, char *id_out,
                     ff_err *err)
{
    if ((int)kind < 0 || kind > FF_KEY_ADMIN)
        return FF_ERR_SET(err, FF_EINVAL, "unknown key kind");
    if (name && (strchr(name, '\t') || strchr(name, '\n') || strlen(name) >= 128))
        return FF_ERR_SET(err, FF_EINVAL, "key name must be one line of at most 127 bytes");
    char body[KEY_BODY_CHARS + 1], id[17];
    ff_rc rc = random_chars(body, KEY_BODY_CHARS, err);
    if (!rc)
        rc = random_chars(id, 12, err);
    if (rc)
        return rc;
    snprintf(key_out, 40, "ff%c_%s", kind_letter[kind], body);
    pthread_mutex_lock(&k->write_mu);
    /* Re-read first so concurrent creators in other processes are kept. */
    key_row *rows;
    size_t n;
    rc = load_file(k->path, &rows, &n, err);
    if (rc) {
        pthread_mutex_unlock(&k->write_mu);
        return rc;
    }
    key_row *nr = ff_realloc(rows, (n + 1) * sizeof *nr);
    if (!nr) {
        ff_free(rows);
        pthread_mutex_unlock(&k->write_mu);
        return FF_ERR_SET(err, FF_ENOMEM, "out of memory");
    }
    rows = nr;
    key_row *r = &rows[n++];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", id);
    r->kind = kind;
    sha256(key_out, strlen(key_out), r->hash);
    r->created_ms = ff_clock_now_ms();
    snprintf(r->name, sizeof r->name, "%s", name ? name : "");
    rc = write_file(k, rows, n, err);
    if (!rc) {
        pthread_rwlock_wrlock(&k->lock);
        ff_free(k->rows);
        k->rows = rows;
        k->n = n;
        pthread_rwlock_unlock(&k->lock);
        note_mtime(k);
        snprintf(id_out, 17, "%s", id);
    } else {
        ff_free(rows);
    }
    pthread_mutex_unlock(&k->write_mu);
    return rc;
}

ff_rc ff_keys_revoke(ff_keys *k, const char *id, ff_err *err)
{
    pthread_mutex_lock(&k->write_mu);
    key_row *rows;
    size_t n;
    ff_rc rc = load_file(k->path, &rows, &n, err);
    if (rc) {
        pthread_mutex_unlock(&k->write_mu);
        return rc;
    }
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(rows[i].id, id) && rows[i].revoked_ms == 0) {
            rows[i].revoked_ms = ff_clock_now_ms();
            found = true;
        }
    }
    if (!found) {
        ff_free(rows);
        pthread_mutex_unlock(&k->write_mu);
        return FF_ERR_SET(err, FF_ENOTFOUND, "no active key with id %s", id);
    }
    rc = write_file(k, rows, n, err);
    if (!rc) {
        pthread_rwlock_wrlock(&k->lock);
        ff_free(k->rows);
        k->rows = rows;
        k->n = n;
        pthread_rwlock_unlock(&k->lock);
        note_mtime(k);
    } else {
        ff_free(rows);
    }
    pthread_mutex_unlock(&k->write_mu);
    return rc;
}

void ff_keys_list(ff_keys *k,
                  void (*fn)(void *ud, const char *id, ff_key_kind kind, int64_t created_ms,
                             int64_t revoked_ms, const char *name),
                  void *ud)
{
    pthread_rwlock_rdlock(&k->lock);
    for (size_t i = 0; i < k->n; i++)
        fn(ud, k->rows[i].id, k->rows[i].kind, k->rows[i].created_ms, k->rows[i].revoked_ms,
           k->rows[i].name);
    pthread_rwlock_unlock(&k->lock);
}
