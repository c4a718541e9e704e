/* test_json.c -- the strict JSON decoder and writer (src/core/ff_json.h).
 *
 * Parts: JSONTestSuite (y_ accepted, n_ rejected, i_ choices checked against
 * the table below AND against the table in docs/json.md); a differential
 * walk against cJSON on every y_ case cJSON accepts; one test per row 30-46
 * of shared/design/bad-inputs.md; depth, duplicate keys, lone surrogates,
 * number helpers, writer escaping, arena cap, allocation failures; and a
 * throughput figure (printed, never asserted).
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_json.h"
#include "core/ff_mem.h"
#include "ff_test.h"

#ifdef FF_HAVE_CJSON
#include <cjson/cJSON.h>
#endif

#define SUITE_DIR FF_SHARED_DIR "/data/jsontestsuite/test_parsing"
#define DOC_PATH FF_SOURCE_DIR "/docs/json.md"

static struct {
    ff_arena arena;
    ff_json_error jerr;
} g;

/* Parse with default limits into the (reset) test arena. */
static ff_rc parse_n(const char *s, size_t n, ff_json **root)
{
    ff_arena_reset(&g.arena);
    return ff_json_parse(s, n, NULL, &g.arena, root, &g.jerr);
}

/* Expect a rejection with FF_EBADINPUT and this code. */
static void check_reject_n(const char *s, size_t n, const char *code, int line)
{
    ff_json *root = (ff_json *)&g; /* must be set to NULL */
    ff_rc rc = parse_n(s, n, &root);
    if (rc != FF_EBADINPUT || !g.jerr.code || strcmp(g.jerr.code, code) != 0 || root) {
        fprintf(stderr, "line %d: input %.40s: rc %d code %s (%s), wanted %s\n", line, s ? s : "",
                rc, g.jerr.code ? g.jerr.code : "(null)", g.jerr.msg, code);
    }
    FF_CHECK_EQ(rc, FF_EBADINPUT);
    FF_CHECK_STR(g.jerr.code, code);
    FF_CHECK(root == NULL);
    FF_CHECK(g.jerr.offset <= n);
}
#define REJECT(s, code) check_reject_n((s), strlen(s), (code), __LINE__)
#define REJECT_N(s, n, code) check_reject_n((s), (n), (code), __LINE__)

static ff_json *accept_n(const char *s, size_t n, int line)
{
    ff_json *root = NULL;
    ff_rc rc = parse_n(s, n, &root);
    if (rc != FF_OK)
        fprintf(stderr, "line %d: input %.40s rejected: %s at %zu: %s\n", line, s, g.jerr.code,
                g.jerr.offset, g.jerr.msg);
    FF_CHECK_EQ(rc, FF_OK);
    FF_CHECK(root != NULL);
    FF_CHECK(g.jerr.code == NULL);
    return root;
}
#define ACCEPT(s) accept_n((s), strlen(s), __LINE__)

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(f);
    *len = n;
    return buf;
}

/* Writes v compactly into a fresh string (test helper; caller frees). */
static char *to_json(const ff_json *v)
{
    ff_buf b;
    ff_buf_init(&b, 0);
    ff_rc rc = ff_json_write_value(&b, v);
    FF_CHECK_EQ(rc, FF_OK);
    if (!b.data)
        ff_buf_addc(&b, '\0');
    return ff_buf_detach(&b);
}

/* Any node in the tree with these flags? */
static int tree_has_flag(const ff_json *n, uint32_t f)
{
    for (; n; n = n->next) {
        if ((n->flags & f) || tree_has_flag(n->child, f))
            return 1;
    }
    return 0;
}

/* ---- JSONTestSuite ----------------------------------------------------- */

enum num_check { NUM_NONE, NUM_FINITE, NUM_NOT_FINITE, NUM_NOT_I64 };

/* Our choice for every i_ case; docs/json.md holds the same table. */
static const struct icase {
    const char *name;
    const char *outcome; /* accept | accept:bad_surrogate | reject:<code> */
    enum num_check num;
} icases[] = {
    {"i_number_double_huge_neg_exp.json", "accept", NUM_FINITE},
    {"i_number_huge_exp.json", "accept", NUM_NOT_FINITE},
    {"i_number_neg_int_huge_exp.json", "accept", NUM_NOT_FINITE},
    {"i_number_pos_double_huge_exp.json", "accept", NUM_NOT_FINITE},
    {"i_number_real_neg_overflow.json", "accept", NUM_NOT_FINITE},
    {"i_number_real_pos_overflow.json", "accept", NUM_NOT_FINITE},
    {"i_number_real_underflow.json", "accept", NUM_FINITE},
    {"i_number_too_big_neg_int.json", "accept", NUM_NOT_I64},
    {"i_number_too_big_pos_int.json", "accept", NUM_NOT_I64},
    {"i_number_very_big_negative_int.json", "accept", NUM_NOT_I64},
    {"i_object_key_lone_2nd_surrogate.json", "accept:bad_surrogate", NUM_NONE},
    {"i_string_1st_surrogate_but_2nd_missing.json", "accept:bad_surrogate", NUM_NONE},
    {"i_string_1st_valid_surrogate_2nd_invalid.json", "accept:bad_surrogate", NUM_NONE},
    {"i_string_UTF-16LE_with_BOM.json", "reject:invalid_json", NUM_NONE},
    {"i_string_UTF-8_invalid_sequence.json", "reject:invalid_utf8", NUM_NONE},
    {"i_string_UTF8_surrogate_U+D800.json", "reject:invalid_utf8", NUM_NONE},
    {"i_string_incomplete_surrogate_and_escape_valid.json", "accept:bad_surrogate", NUM_NONE},
    {"i_string_incomplete_surrogate_pair.json", "accept:bad_surrogate", NUM_NONE},
    {"i_string_incomplete_surrogates_escape_valid.json", "accept:bad_surrogate", NUM_NONE},
    {"i_string_invalid_lonely_surrogate.json", "accept:bad_surrogate", NUM_NONE},
    {"i_string_invalid_surrogate.json", "accept:bad_surrogate", NUM_NONE},
    {"i_string_invalid_utf-8.json", "reject:invalid_utf8", NUM_NONE},
    {"i_string_inverted_surrogates_U+1D11E.json", "accept:bad_surrogate", NUM_NONE},
    {"i_string_iso_latin_1.json", "reject:invalid_utf8", NUM_NONE},
    {"i_string_lone_second_surrogate.json", "accept:bad_surrogate", NUM_NONE},
    {"i_string_lone_utf8_continuation_byte.json", "reject:invalid_utf8", NUM_NONE},
    {"i_string_not_in_unicode_range.json", "reject:invalid_utf8", NUM_NONE},
    {"i_string_overlong_sequence_2_bytes.json", "reject:invalid_utf8", NUM_NONE},
    {"i_string_overlong_sequence_6_bytes.json", "reject:invalid_utf8", NUM_NONE},
    {"i_string_overlong_sequence_6_bytes_null.json", "reject:invalid_utf8", NUM_NONE},
    {"i_string_truncated-utf-8.json", "reject:invalid_utf8", NUM_NONE},
    {"i_string_utf16BE_no_BOM.json", "reject:invalid_json", NUM_NONE},
    {"i_string_utf16LE_no_BOM.json", "reject:invalid_json", NUM_NONE},
    {"i_structure_500_nested_arrays.json", "reject:too_deep", NUM_NONE},
    {"i_structure_UTF-8_BOM_empty_object.json", "reject:invalid_json", NUM_NONE},
};
#define N_ICASES (sizeof icases / sizeof icases[0])

static const struct icase *icase_find(const char *name)
{
    for (size_t i = 0; i < N_ICASES; i++)
        if (strcmp(icases[i].name, name) == 0)
            return &icases[i];
    return NULL;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted list of the suite's file names (caller frees), NULL when absent. */
static char **suite_list(size_t *count)
{
    DIR *d = opendir(SUITE_DIR);
    if (!d)
        return NULL;
    size_t n = 0, cap = 512;
    char **v = malloc(cap * sizeof *v);
    struct dirent *e;
    while (v && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !strstr(e->d_name, ".json"))
            continue;
        if (n == cap)
            break;
        v[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(v, n, sizeof *v, name_cmp);
    *count = n;
    return v;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The first number node found in document order. */
static const ff_json *first_number(const ff_json *n)
{
    for (; n; n = n->next) {
        if (n->type == FF_JSON_NUMBER)
            return n;
        const ff_json *c = first_number(n->child);
        if (c)
            return c;
    }
    return NULL;
}

static void test_jsontestsuite(void)
{
    size_t n = 0;
    char **names = suite_list(&n);
    if (!names) {
        printf("SKIPPED: JSONTestSuite folder %s is absent\n", SUITE_DIR);
        return;
    }
    FF_CHECK(n >= 300);
    size_t n_y = 0, n_n = 0, n_i = 0;
    for (size_t i = 0; i < n; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", SUITE_DIR, names[i]);
        size_t len;
        char *buf = read_file(path, &len);
        FF_CHECK(buf != NULL);
        if (!buf)
            continue;
        ff_json *root = NULL;
        ff_rc rc = parse_n(buf, len, &root);
        if (names[i][0] == 'y') {
            n_y++;
            if (rc != FF_OK)
                fprintf(stderr, "y_ case rejected: %s: %s %s\n", names[i], g.jerr.code, g.jerr.msg);
            FF_CHECK_EQ(rc, FF_OK);
            /* Writer round trip on every y_ case. */
            if (rc == FF_OK) {
                char *out = to_json(root);
                ff_json *r2 = NULL;
                ff_arena a2;
                ff_arena_init(&a2, 0, 0);
                FF_CHECK_EQ(ff_json_parse(out, strlen(out), NULL, &a2, &r2, NULL), FF_OK);
                char *out2 = r2 ? to_json(r2) : NULL;
                FF_CHECK(out2 && strcmp(out, out2) == 0);
                free(out2);
                free(out);
                ff_arena_fini(&a2);
            }
        } else if (names[i][0] == 'n') {
            n_n++;
            if (rc == FF_OK)
                fprintf(stderr, "n_ case accepted: %s\n", names[i]);
            FF_CHECK_EQ(rc, FF_EBADINPUT);
            FF_CHECK(g.jerr.code != NULL);
            FF_CHECK(g.jerr.offset <= len);
        } else if (names[i][0] == 'i') {
            n_i++;
            char got[64];
            if (rc == FF_OK)
                snprintf(got, sizeof got, "%s",
                         tree_has_flag(root, FF_JSON_F_BAD_SURROGATE) ? "accept:bad_surrogate"
                                                                      : "accept");
            else
                snprintf(got, sizeof got, "reject:%s", g.jerr.code ? g.jerr.code : "?");
            const struct icase *ic = icase_find(names[i]);
            printf("  %-52s %s%s%s\n", names[i], got, rc ? "  -- " : "", rc ? g.jerr.msg : "");
            if (!ic) {
                fprintf(stderr, "i_ case %s has no documented choice\n", names[i]);
                FF_CHECK(ic != NULL);
                free(buf);
                continue;
            }
            FF_CHECK_STR(got, ic->outcome);
            if (rc == FF_OK && ic->num != NUM_NONE) {
                const ff_json *num = first_number(root);
                double d;
                int64_t v;
                FF_CHECK(num != NULL);
                if (ic->num == NUM_FINITE)
                    FF_CHECK(ff_json_as_double(num, &d) && d == 0.0);
                if (ic->num == NUM_NOT_FINITE)
                    FF_CHECK(!ff_json_as_double(num, &d));
                if (ic->num == NUM_NOT_I64)
                    FF_CHECK(!ff_json_as_i64(num, &v) && ff_json_as_double(num, &d));
            }
            if (rc == FF_OK && strstr(ic->outcome, "bad_surrogate"))
                FF_CHECK(root->flags & FF_JSON_F_SUBTREE_BAD);
        }
        free(buf);
    }
    /* Every documented i_ case is in the suite. */
    for (size_t k = 0; k < N_ICASES; k++) {
        int found = 0;
        for (size_t i = 0; i < n; i++)
            found |= strcmp(names[i], icases[k].name) == 0;
        FF_CHECK(found);
    }
    printf("JSONTestSuite: %zu y_, %zu n_, %zu i_ cases\n", n_y, n_n, n_i);
    FF_CHECK(n_y >= 90 && n_n >= 180 && n_i == N_ICASES);
    free_list(names, n);
}

/* The i_ table of docs/json.md must say exactly what icases[] says. Rows
 * look like: | `i_name.json` | outcome | note | */
static void test_doc_table(void)
{
    size_t len;
    char *doc = read_file(DOC_PATH, &len);
    FF_CHECK(doc != NULL);
    if (!doc)
        return;
    char *text = realloc(doc, len + 1);
    FF_CHECK(text != NULL);
    if (!text) {
        free(doc);
        return;
    }
    text[len] = '\0';
    size_t rows = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (strncmp(line, "| `i_", 5) != 0)
            continue;
        char name[128], outcome[64];
        if (sscanf(line, "| `%127[^`]` | %63[^ |]", name, outcome) != 2) {
            fprintf(stderr, "docs/json.md: cannot read row: %s\n", line);
            FF_CHECK(0);
            continue;
        }
        rows++;
        const struct icase *ic = icase_find(name);
        if (!ic || strcmp(ic->outcome, outcome) != 0)
            fprintf(stderr, "docs/json.md says %s -> %s; test table says %s\n", name, outcome,
                    ic ? ic->outcome : "(missing)");
        FF_CHECK(ic != NULL);
        if (ic)
            FF_CHECK_STR(outcome, ic->outcome);
    }
    FF_CHECK_EQ(rows, N_ICASES);
    free(text);
}

/* ---- differential against cJSON ---------------------------------------- */

#ifdef FF_HAVE_CJSON
/* cJSON strings stop at an embedded NUL: compare up to it. */
static int str_eq_c(const char *ours, size_t len, const char *theirs)
{
    size_t n = 0;
    while (n < len && ours[n])
        n++;
    return theirs && strlen(theirs) == n && memcmp(ours, theirs, n) == 0;
}

static int same_as_cjson(const ff_json *a, const cJSON *c, const char **why)
{
    switch (a->type) {
    case FF_JSON_NULL:
        if (!cJSON_IsNull(c))
            return *why = "null", 0;
        return 1;
    case FF_JSON_TRUE:
        if (!cJSON_IsTrue(c))
            return *why = "true", 0;
        return 1;
    case FF_JSON_FALSE:
        if (!cJSON_IsFalse(c))
            return *why = "false", 0;
        return 1;
    case FF_JSON_NUMBER:
        if (!cJSON_IsNumber(c) || strtod(a->str, NULL) != c->valuedouble)
            return *why = "number", 0;
        return 1;
    case FF_JSON_STRING:
        if (!cJSON_IsString(c) || !str_eq_c(a->str, a->len, c->valuestring))
            return *why = "string", 0;
        return 1;
    case FF_JSON_ARRAY:
    case FF_JSON_OBJECT: {
        int obj = a->type == FF_JSON_OBJECT;
        if (obj ? !cJSON_IsObject(c) : !cJSON_IsArray(c))
            return *why = "container type", 0;
        if ((int)a->n_children != cJSON_GetArraySize(c))
            return *why = "child count", 0;
        const cJSON *cc = c->child;
        for (const ff_json *k = a->child; k; k = k->next, cc = cc->next) {
            if (!cc)
                return *why = "children", 0;
            if (obj && !str_eq_c(k->key, k->key_len, cc->string))
                return *why = "key", 0;
            if (!same_as_cjson(k, cc, why))
                return 0;
        }
        return 1;
    }
    }
    return *why = "type", 0;
}
#endif

static void test_cjson_differential(void)
{
#ifndef FF_HAVE_CJSON
    printf("SKIPPED: cJSON differential (built without cJSON)\n");
#else
    size_t n = 0;
    char **names = suite_list(&n);
    if (!names) {
        printf("SKIPPED: cJSON differential: %s is absent\n", SUITE_DIR);
        return;
    }
    size_t compared = 0, cjson_rejects = 0;
    for (size_t i = 0; i < n; i++) {
        if (names[i][0] != 'y')
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", SUITE_DIR, names[i]);
        size_t len;
        char *buf = read_file(path, &len);
        if (!buf)
            continue;
        cJSON *c = cJSON_ParseWithLength(buf, len);
        ff_json *root = NULL;
        ff_rc rc = parse_n(buf, len, &root);
        FF_CHECK_EQ(rc, FF_OK);
        if (!c) {
            cjson_rejects++;
        } else if (rc == FF_OK) {
            const char *why = "";
            int same = same_as_cjson(root, c, &why);
            if (!same)
                fprintf(stderr, "differs from cJSON: %s (%s)\n", names[i], why);
            FF_CHECK(same);
            compared++;
        }
        cJSON_Delete(c);
        free(buf);
    }
    printf("cJSON differential: %zu y_ cases compared, %zu rejected by cJSON\n", compared,
           cjson_rejects);
    FF_CHECK(compared >= 80);
    free_list(names, n);
#endif
}

/* ---- bad-inputs.md rows 30-46 ------------------------------------------ */

static void test_row30_empty(void)
{
    REJECT("", "empty_body");
    REJECT_N(NULL, 0, "empty_body");
    REJECT(" \r\n\t ", "empty_body");
    REJECT("\f", "invalid_json"); /* form feed is not JSON whitespace */
}

static void test_row31_truncated(void)
{
    REJECT("{\"event\":\"a\",", "invalid_json");
    REJECT("{\"event\":\"a\"", "invalid_json");
    REJECT("{\"event\":", "invalid_json");
    REJECT("{\"event\"", "invalid_json");
    REJECT("{\"eve", "invalid_json");
    REJECT("[1,2", "invalid_json");
    REJECT("[", "invalid_json");
    REJECT("tru", "invalid_json");
    REJECT("\"abc", "invalid_json");
    REJECT("\"abc\\", "invalid_json");
    REJECT("\"\\u12", "invalid_json");
    /* offset points at the end for truncation */
    REJECT("{\"event\":\"a\",", "invalid_json");
    FF_CHECK_EQ(g.jerr.offset, 13);
}

static void test_row32_scalar_root(void)
{
    /* RFC 8259 allows any value at the top; the collector answers
     * invalid_json_root by looking at root->type. */
    ff_json *r = ACCEPT("\"str\"");
    FF_CHECK(r && r->type == FF_JSON_STRING && r->depth == 0);
    r = ACCEPT(" 12 ");
    FF_CHECK(r && r->type == FF_JSON_NUMBER);
    r = ACCEPT("null");
    FF_CHECK(r && r->type == FF_JSON_NULL);
    r = ACCEPT("true");
    FF_CHECK(r && r->type == FF_JSON_TRUE);
    r = ACCEPT("false");
    FF_CHECK(r && r->type == FF_JSON_FALSE);
}

static void test_row33_invalid_utf8(void)
{
    REJECT("[\"\xC3\x28\"]", "invalid_utf8");                 /* bad continuation */
    REJECT("[\"\xC0\xAF\"]", "invalid_utf8");                 /* overlong '/' */
    REJECT("[\"\xC1\xBF\"]", "invalid_utf8");                 /* overlong */
    REJECT("[\"\xE0\x80\xAF\"]", "invalid_utf8");             /* 3-byte overlong */
    REJECT("[\"\xF0\x80\x80\xAF\"]", "invalid_utf8");         /* 4-byte overlong */
    REJECT("[\"\xED\xA0\x80\"]", "invalid_utf8");             /* encoded U+D800 */
    REJECT("[\"\xED\xBF\xBF\"]", "invalid_utf8");             /* encoded U+DFFF */
    REJECT("[\"\xF4\x90\x80\x80\"]", "invalid_utf8");         /* U+110000 */
    REJECT("[\"\xF5\x80\x80\x80\"]", "invalid_utf8");         /* lead > F4 */
    REJECT("[\"\xF8\x88\x80\x80\x80\"]", "invalid_utf8");     /* 5-byte form */
    REJECT("[\"\xFC\x84\x80\x80\x80\x80\"]", "invalid_utf8"); /* 6-byte form */
    REJECT("[\"\x80\"]", "invalid_utf8");                     /* lone continuation */
    REJECT("[\"\xE2\x82\"]", "invalid_utf8");                 /* truncated by the quote */
    REJECT("\"\xE2\x82", "invalid_utf8");                     /* truncated by the end */
    REJECT("\"\xFF\"", "invalid_utf8");
    REJECT("{\"k\xC3\":1}", "invalid_utf8"); /* in a key */
    /* a long ASCII run before the bad byte exercises the word-at-a-time scan */
    REJECT("[\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\xC0\xAF\"]", "invalid_utf8");
    FF_CHECK_EQ(g.jerr.offset, 39);
    /* outside strings bad bytes are a syntax error */
    REJECT("[\xC3\xA9]", "invalid_json");
    REJECT("\xED\xA0\x80", "invalid_json");
    /* the edges of the valid ranges pass */
    ff_json *r = ACCEPT("[\"\xC2\x80\xDF\xBF\xE0\xA0\x80\xED\x9F\xBF\xEE\x80\x80\xEF\xBF\xBF"
                        "\xF0\x90\x80\x80\xF4\x8F\xBF\xBF\x7F\"]");
    FF_CHECK(r && r->child && r->child->len == 25);
}

static void test_row34_lone_surrogate(void)
{
    ff_json *r = ACCEPT("{\"a\":{\"b\":[\"x\\ud800y\"],\"c\":\"ok\"},\"d\":\"fine\"}");
    if (!r)
        return;
    ff_json *a = ff_json_get(r, "a"), *b = ff_json_get(a, "b"), *c = ff_json_get(a, "c");
    ff_json *s = b ? b->child : NULL;
    FF_CHECK(s && s->type == FF_JSON_STRING);
    if (!s)
        return;
    FF_CHECK_EQ(s->len, 5);
    FF_CHECK(memcmp(s->str, "x\xEF\xBF\xBDy", 5) == 0);
    FF_CHECK(s->flags & FF_JSON_F_BAD_SURROGATE);
    FF_CHECK(b->flags & FF_JSON_F_SUBTREE_BAD);
    FF_CHECK(a->flags & FF_JSON_F_SUBTREE_BAD);
    FF_CHECK(r->flags & FF_JSON_F_SUBTREE_BAD);
    FF_CHECK_EQ(c->flags, 0);
    FF_CHECK_EQ(ff_json_get(r, "d")->flags, 0);
    FF_CHECK(!(r->flags & FF_JSON_F_BAD_SURROGATE));

    /* in a key: the flag is on the member node, whatever its type */
    r = ACCEPT("[{\"k\\uDC00\":{\"z\":1}},{\"q\":2}]");
    if (!r)
        return;
    ff_json *m = r->child->child;
    FF_CHECK(m->type == FF_JSON_OBJECT);
    FF_CHECK(m->flags & FF_JSON_F_BAD_SURROGATE);
    FF_CHECK_EQ(m->key_len, 4);
    FF_CHECK(memcmp(m->key, "k\xEF\xBF\xBD", 4) == 0);
    FF_CHECK(r->child->flags & FF_JSON_F_SUBTREE_BAD);
    FF_CHECK(r->flags & FF_JSON_F_SUBTREE_BAD);
    FF_CHECK(!(m->flags & FF_JSON_F_SUBTREE_BAD)); /* nothing bad below it */
    FF_CHECK_EQ(r->child->next->flags, 0);

    /* valid pairs are decoded and not flagged */
    r = ACCEPT("\"\\uD834\\uDD1E\\u00e9\\u20AC\"");
    FF_CHECK(r && r->len == 9 && memcmp(r->str, "\xF0\x9D\x84\x9E\xC3\xA9\xE2\x82\xAC", 9) == 0);
    FF_CHECK(r && r->flags == 0);
    /* each bad half becomes one U+FFFD; what follows is decoded normally */
    r = ACCEPT("\"\\uD800\\uD800\\n\"");
    FF_CHECK(r && r->len == 7 && memcmp(r->str, "\xEF\xBF\xBD\xEF\xBF\xBD\n", 7) == 0);
    r = ACCEPT("\"\\uDD1E\\uD834\"");
    FF_CHECK(r && r->len == 6 && (r->flags & FF_JSON_F_BAD_SURROGATE));
    r = ACCEPT("\"\\uD800\\u0041\"");
    FF_CHECK(r && r->len == 4 &&
             memcmp(r->str,
                    "\xEF\xBF\xBD"
                    "A",
                    4) == 0);
    /* root string: flag, no ancestors to mark */
    r = ACCEPT("\"\\uD800\"");
    FF_CHECK(r && r->flags == FF_JSON_F_BAD_SURROGATE);
}

static void test_row35_bom(void)
{
    REJECT("\xEF\xBB\xBF{}", "invalid_json");
    FF_CHECK(strncmp(g.jerr.msg, "bom:", 4) == 0);
    FF_CHECK_EQ(g.jerr.offset, 0);
    REJECT("\xEF\xBB\xBF", "invalid_json");
    REJECT(" \xEF\xBB\xBF{}", "invalid_json");
    /* a BOM inside a string is just U+FEFF */
    ACCEPT("\"\xEF\xBB\xBF\"");
}

static void test_row36_control_chars(void)
{
    for (int c = 0; c < 0x20; c++) {
        char in[8] = {'[', '"', 'a', (char)c, 'b', '"', ']'};
        REJECT_N(in, 7, "invalid_json");
        FF_CHECK_EQ(g.jerr.offset, 3);
    }
    REJECT("{\"a\tb\":1}", "invalid_json");
    ff_json *r = ACCEPT("\"a\x7F"
                        "b\""); /* DEL is allowed */
    FF_CHECK(r && r->len == 3);
    r = ACCEPT("\"a\\u0000b\""); /* escaped NUL is fine and kept */
    FF_CHECK(r && r->len == 3 && r->str[1] == '\0' && r->str[3] == '\0');
}

static void nested(char *buf, int depth, char open, char close)
{
    for (int i = 0; i < depth; i++)
        buf[i] = open;
    for (int i = 0; i < depth; i++)
        buf[depth + i] = close;
    buf[2 * depth] = '\0';
}

static void test_row37_depth(void)
{
    size_t n = 100000;
    char *deep = malloc(n + 1);
    memset(deep, '[', n);
    deep[n] = '\0';
    REJECT(deep, "too_deep");
    FF_CHECK_EQ(g.jerr.offset, 64);
    for (size_t i = 0; i + 5 <= n; i += 5)
        memcpy(deep + i, "{\"a\":", 5);
    REJECT(deep, "too_deep");

    /* default limit: 64 open containers pass, 65 fail */
    char buf[300];
    nested(buf, 64, '[', ']');
    ff_json *r = ACCEPT(buf);
    const ff_json *k = r;
    while (k && k->child)
        k = k->child;
    FF_CHECK(k && k->depth == 63);
    nested(buf, 65, '[', ']');
    REJECT(buf, "too_deep");

    /* a caller limit (bad-inputs row 37: > 32 fails) */
    ff_json_limits lim = {.max_depth = 32};
    ff_json *root;
    nested(buf, 32, '[', ']');
    ff_arena_reset(&g.arena);
    FF_CHECK_EQ(ff_json_parse(buf, strlen(buf), &lim, &g.arena, &root, &g.jerr), FF_OK);
    nested(buf, 33, '[', ']');
    FF_CHECK_EQ(ff_json_parse(buf, strlen(buf), &lim, &g.arena, &root, &g.jerr), FF_EBADINPUT);
    FF_CHECK_STR(g.jerr.code, "too_deep");
    /* scalars do not count: 32 arrays holding a number is fine */
    FF_CHECK_EQ(
        ff_json_parse("[[1]]", 5, &(ff_json_limits){.max_depth = 2}, &g.arena, &root, &g.jerr),
        FF_OK);
    FF_CHECK_EQ(
        ff_json_parse("[[[]]]", 6, &(ff_json_limits){.max_depth = 2}, &g.arena, &root, &g.jerr),
        FF_EBADINPUT);

    /* a deeper caller limit uses a heap stack and still parses iteratively */
    lim.max_depth = 100000;
    for (size_t i = 0; i < n / 2; i++) {
        deep[i] = '[';
        deep[n / 2 + i] = ']';
    }
    ff_arena_reset(&g.arena);
    FF_CHECK_EQ(ff_json_parse(deep, n, &lim, &g.arena, &root, &g.jerr), FF_OK);
    if (root) {
        char *out = to_json(root); /* the writer does not recurse either */
        FF_CHECK(out && strlen(out) == n && memcmp(out, deep, n) == 0);
        free(out);
        /* its heap stack failing to grow is reported, not a crash or leak */
        int enomem = 0;
        for (long nth = 1; nth <= 30; nth++) {
            ff_buf b;
            ff_buf_init(&b, 0);
            ff_mem_fail_after(nth);
            ff_rc rc = ff_json_write_value(&b, root);
            ff_mem_fail_after(0);
            FF_CHECK(rc == FF_OK || rc == FF_ENOMEM);
            enomem += rc == FF_ENOMEM;
            ff_buf_fini(&b);
        }
        FF_CHECK(enomem > 0);
    }
    deep[n - 1] = '[';
    FF_CHECK_EQ(ff_json_parse(deep, n, &lim, &g.arena, &root, &g.jerr), FF_EBADINPUT);
    free(deep);
}

static void test_row38_nan_inf(void)
{
    const char *bad[] = {"NaN",  "[NaN]", "Infinity", "[-Infinity]", "+1",  "[+1]",
                         "-NaN", "nan",   "inf",      "[1,+2]",      "-inf"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        REJECT(bad[i], "invalid_json");
}

static void test_row39_number_grammar(void)
{
    const char *bad[] = {"01",     "[01]",    "-01",  "1.",    "[1.]", ".5",   "[.5]",  "-",
                         "[-]",    "1e",      "[1e]", "1e+",   "1E-",  "0x10", "0X1",   "1.e5",
                         "1..2",   "1.2.3",   "--1",  "- 1",   "1 2",  "0b1",  "1_000", "٣",
                         "[1e5e]", "[0.1.2]", "00",   "-0.e1", "[1,]", "2.e-3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        REJECT(bad[i], "invalid_json");
    const char *good[] = {"0",    "-0",         "0.0",     "1e5",
                          "1E+5", "1e-05",      "-1.5e-3", "123456789012345",
                          "0e0",  "[1,-2,3.25]"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ACCEPT(good[i]);
    ff_json *r = ACCEPT("[ -1.5e-3 ]");
    FF_CHECK(r && r->child && r->child->len == 7 && strcmp(r->child->str, "-1.5e-3") == 0);
}

static void test_row40_42_number_values(void)
{
    double d;
    int64_t v;
    /* 40: 1e400 parses; the event layer rejects it via as_double */
    ff_json *r = ACCEPT("{\"x\":1e400}");
    ff_json *x = ff_json_get(r, "x");
    FF_CHECK(x && !ff_json_as_double(x, &d) && !ff_json_as_i64(x, &v));
    FF_CHECK(ff_json_is_str(x, "1e400") == false); /* a number is not a string */
    FF_CHECK(x && strcmp(x->str, "1e400") == 0);
    r = ACCEPT("-1e400");
    FF_CHECK(!ff_json_as_double(r, &d));
    /* 41: > 2^53 keeps its exact text */
    r = ACCEPT("12345678901234567890123");
    FF_CHECK(r && strcmp(r->str, "12345678901234567890123") == 0);
    FF_CHECK(!ff_json_as_i64(r, &v));
    FF_CHECK(ff_json_as_double(r, &d) && d > 1.2e22 && d < 1.3e22);
    /* 42: -0 and underflow */
    r = ACCEPT("-0");
    FF_CHECK(ff_json_as_i64(r, &v) && v == 0);
    FF_CHECK(ff_json_as_double(r, &d) && d == 0.0);
    r = ACCEPT("1E-400");
    FF_CHECK(ff_json_as_double(r, &d) && d == 0.0);
    FF_CHECK(!ff_json_as_i64(r, &v));
}

/* A copy of key_hash in ff_json.c, to build keys that all land in one
 * bucket and push the duplicate check onto its sorting fallback. If the
 * hash there changes, this still checks correctness, only the fallback is
 * no longer forced. */
static uint64_t mirror_key_hash(const char *k, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, k, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
        k += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, k, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 29;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 32;
    return h;
}

static void test_dup_colliding_keys(void)
{
    enum { NK = 40 }; /* 40 keys: 128 slots, all keys in slot 0 */
    char keys[NK][16];
    int found = 0;
    for (unsigned i = 0; found < NK && i < 10000000; i++) {
        int n = snprintf(keys[found], sizeof keys[found], "c%u", i);
        if ((mirror_key_hash(keys[found], (size_t)n) & 127) == 0)
            found++;
    }
    FF_CHECK_EQ(found, NK);
    char buf[NK * 24 + 64];
    for (int variant = 0; variant < 3; variant++) {
        size_t o = 0;
        o += (size_t)sprintf(buf + o, "[{");
        for (int i = 0; i < NK; i++)
            o += (size_t)sprintf(buf + o, "%s\"%s\":%d", i ? "," : "", keys[i], i);
        if (variant == 1)
            o += (size_t)sprintf(buf + o, ",\"%s\":0", keys[NK / 2]);
        if (variant == 2)
            o += (size_t)sprintf(buf + o, ",\"%s\":0", keys[0]);
        sprintf(buf + o, "}]");
        ff_json *r = ACCEPT(buf);
        FF_CHECK(r && r->child->n_children == NK + (variant ? 1 : 0));
        FF_CHECK_EQ(r && (r->child->flags & FF_JSON_F_DUP_KEY) ? 1 : 0, variant ? 1 : 0);
        FF_CHECK_EQ(r && (r->flags & FF_JSON_F_SUBTREE_BAD) ? 1 : 0, variant ? 1 : 0);
    }
}

static void test_row43_dup_keys(void)
{
    ff_json *r = ACCEPT("{\"event\":\"a\",\"event\":\"b\"}");
    FF_CHECK(r && (r->flags & FF_JSON_F_DUP_KEY));
    FF_CHECK(ff_json_is_str(ff_json_get(r, "event"), "a")); /* first wins */
    FF_CHECK_EQ(r->n_children, 2);

    r = ACCEPT("{\"batch\":[{\"p\":{\"x\":1,\"y\":2,\"x\":3}},{\"q\":1}],\"z\":{}}");
    if (!r)
        return;
    ff_json *batch = ff_json_get(r, "batch");
    ff_json *ev = batch->child, *p = ff_json_get(ev, "p");
    FF_CHECK(p->flags & FF_JSON_F_DUP_KEY);
    FF_CHECK(!(p->flags & FF_JSON_F_SUBTREE_BAD));
    FF_CHECK(ev->flags & FF_JSON_F_SUBTREE_BAD);
    FF_CHECK(batch->flags & FF_JSON_F_SUBTREE_BAD);
    FF_CHECK(r->flags & FF_JSON_F_SUBTREE_BAD);
    FF_CHECK(!(r->flags & FF_JSON_F_DUP_KEY));
    FF_CHECK_EQ(ev->next->flags, 0);
    FF_CHECK_EQ(ff_json_get(r, "z")->flags, 0);

    /* same key in different objects is not a duplicate; keys are compared
     * decoded (escapes) and byte-exact (NUL inside, case) */
    r = ACCEPT("{\"a\":{\"k\":1},\"b\":{\"k\":1},\"K\":1,\"k\":2,\"k\\u0000\":3}");
    FF_CHECK(r && r->flags == 0);
    r = ACCEPT("{\"\\u0061\":1,\"a\":2}");
    FF_CHECK(r && (r->flags & FF_JSON_F_DUP_KEY));
    r = ACCEPT("{\"\":1,\"\":2}");
    FF_CHECK(r && (r->flags & FF_JSON_F_DUP_KEY));

    /* large objects take the hash path: with and without a duplicate, at
     * every position of the duplicate pair */
    size_t nk = 3000;
    char *big = malloc(nk * 24 + 64);
    for (int variant = 0; variant < 4; variant++) {
        size_t o = 0;
        big[o++] = '{';
        for (size_t i = 0; i < nk; i++) {
            size_t key = i;
            if (variant == 1 && i == nk - 1)
                key = 0; /* last repeats the first */
            if (variant == 2 && i == 1000)
                key = 999; /* neighbours */
            if (variant == 3 && i == 17)
                key = 16; /* just past the linear limit */
            o += (size_t)sprintf(big + o, "%s\"key_%zu\":%zu", i ? "," : "", key, i);
        }
        big[o++] = '}';
        r = accept_n(big, o, __LINE__);
        FF_CHECK(r && r->n_children == nk);
        FF_CHECK_EQ(r && (r->flags & FF_JSON_F_DUP_KEY) ? 1 : 0, variant == 0 ? 0 : 1);
    }
    /* 17 keys that share long prefixes and differ only at the end */
    {
        size_t o = 0;
        big[o++] = '[';
        big[o++] = '{';
        for (int i = 0; i < 40; i++)
            o += (size_t)sprintf(big + o, "%s\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%c\":0", i ? "," : "",
                                 'A' + (i % 26));
        memcpy(big + o, "}]", 3);
        r = ACCEPT(big);
        FF_CHECK(r && (r->child->flags & FF_JSON_F_DUP_KEY) && (r->flags & FF_JSON_F_SUBTREE_BAD));
    }
    free(big);
}

static void test_row44_syntax(void)
{
    const char *bad[] = {
        "[1,]",
        "{\"a\":1,}",
        "[1,,2]",
        "[,1]",
        "{,}",
        "[1]//c",
        "/*c*/[1]",
        "[1/*c*/]",
        "# c\n[1]",
        "['a']",
        "{'a':1}",
        "{a:1}",
        "{\"a\" 1}",
        "{\"a\":}",
        "{1:1}",
        "{\"a\":1 \"b\":2}",
        "[1 2]",
        "[\"a\\x41\"]",
        "[\"\\u00G0\"]",
        "[\"\\U0041\"]",
        "[True]",
        "[nul]",
        "[truex]",
        "{\"a\";1}",
        "[\"a\"\"b\"]",
        "]",
        "}",
        "{]",
        "[}",
        "\"\\\"",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        REJECT(bad[i], "invalid_json");
    REJECT("[1,]", "invalid_json");
    FF_CHECK(strstr(g.jerr.msg, "trailing comma") != NULL);
    REJECT("{\"a\":1 ,\n }", "invalid_json");
    FF_CHECK(strstr(g.jerr.msg, "trailing comma") != NULL);
    FF_CHECK_EQ(g.jerr.offset, 10);
    REJECT("[]]", "invalid_json");
    FF_CHECK(strstr(g.jerr.msg, "trailing comma") == NULL);
    REJECT("[nul]", "invalid_json");
    FF_CHECK(strstr(g.jerr.msg, "literal") != NULL);
    REJECT("[1]//c", "invalid_json");
    FF_CHECK(strstr(g.jerr.msg, "comments") != NULL);
}

static void test_row45_trailing_garbage(void)
{
    const char *bad[] = {"{}x", "{}{}", "[] []", "1 2", "\"a\"\"b\"", "{} {", "null,", "{}]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        REJECT(bad[i], "invalid_json");
    REJECT_N("{}\0", 3, "invalid_json");
    FF_CHECK_EQ(g.jerr.offset, 2);
    REJECT("{}x", "invalid_json");
    FF_CHECK_EQ(g.jerr.offset, 2);
}

static void test_row46_whitespace(void)
{
    size_t ws = 900 * 1024;
    char *buf = malloc(2 * ws + 64);
    size_t o = 0;
    for (size_t i = 0; i < ws / 2; i++)
        buf[o++] = " \t\r\n"[i % 4];
    o += (size_t)sprintf(buf + o, "{ \"event\" :\n \"a\" , \"n\" : [ 1 , 2 ] }");
    size_t obj_end = o;
    for (size_t i = 0; i < ws / 2; i++)
        buf[o++] = "\n \t\r"[i % 4];
    ff_json *r = accept_n(buf, o, __LINE__);
    FF_CHECK(r && ff_json_is_str(ff_json_get(r, "event"), "a"));
    FF_CHECK(r && r->src == buf + ws / 2 && r->src_len == obj_end - ws / 2);
    free(buf);
}

/* ---- other behaviour --------------------------------------------------- */

static void test_optional_args(void)
{
    ff_json *root = NULL;
    ff_arena_reset(&g.arena);
    /* jerr and lim may be NULL */
    FF_CHECK_EQ(ff_json_parse("[1,]", 4, NULL, &g.arena, &root, NULL), FF_EBADINPUT);
    FF_CHECK(root == NULL);
    FF_CHECK_EQ(ff_json_parse("", 0, NULL, &g.arena, &root, NULL), FF_EBADINPUT);
    FF_CHECK_EQ(ff_json_parse("[1]", 3, &(ff_json_limits){0}, &g.arena, &root, NULL), FF_OK);
    FF_CHECK(root && root->n_children == 1);
    /* a parse resets the error record */
    FF_CHECK_EQ(ff_json_parse("x", 1, NULL, &g.arena, &root, &g.jerr), FF_EBADINPUT);
    FF_CHECK(g.jerr.code != NULL && g.jerr.msg[0] != '\0');
    FF_CHECK_EQ(ff_json_parse("{}", 2, NULL, &g.arena, &root, &g.jerr), FF_OK);
    FF_CHECK(g.jerr.code == NULL && g.jerr.msg[0] == '\0' && g.jerr.offset == 0);
    ff_buf b;
    ff_buf_init(&b, 0);
    FF_CHECK_EQ(ff_json_write_value(&b, NULL), FF_EINVAL);
    ff_buf_fini(&b);
}

static void test_dom_fields(void)
{
    const char *in = " {\"a\" : [1, \"x\\n\", true] , \"b\":{\"c\":null}} ";
    ff_json *r = ACCEPT(in);
    if (!r)
        return;
    FF_CHECK(r->type == FF_JSON_OBJECT && r->depth == 0 && r->key == NULL);
    FF_CHECK(r->src == in + 1 && r->src_len == strlen(in) - 2);
    FF_CHECK_EQ(r->n_children, 2);
    ff_json *a = ff_json_get(r, "a");
    FF_CHECK(a && a->type == FF_JSON_ARRAY && a->depth == 1 && a->n_children == 3);
    FF_CHECK(a && a->key_len == 1 && strcmp(a->key, "a") == 0);
    FF_CHECK(a && a->src == in + 8 && a->src_len == 16);
    ff_json *one = a->child, *x = one->next, *t = x->next;
    FF_CHECK(one->type == FF_JSON_NUMBER && one->key == NULL && one->depth == 2);
    FF_CHECK(one->src == in + 9 && one->src_len == 1);
    FF_CHECK(x->type == FF_JSON_STRING && x->len == 2 && strcmp(x->str, "x\n") == 0);
    FF_CHECK(x->src_len == 5 && memcmp(x->src, "\"x\\n\"", 5) == 0);
    FF_CHECK(t->type == FF_JSON_TRUE && t->next == NULL && t->src_len == 4);
    ff_json *c = ff_json_get(ff_json_get(r, "b"), "c");
    FF_CHECK(c && c->type == FF_JSON_NULL && c->depth == 2);
    /* lookups */
    FF_CHECK(ff_json_get(r, "zz") == NULL);
    FF_CHECK(ff_json_get(a, "a") == NULL); /* not an object */
    FF_CHECK(ff_json_get(NULL, "a") == NULL);
    FF_CHECK(ff_json_getn(r, "abc", 1) == a);
    FF_CHECK(ff_json_getn(r, "b", 0) == NULL);
    FF_CHECK(!ff_json_is_str(one, "1") && !ff_json_is_str(NULL, "") && ff_json_is_str(x, "x\n"));
    FF_CHECK(!ff_json_is_str(x, "x"));
    r = ACCEPT("{\"\":5,\"a\\u0000b\":6}");
    FF_CHECK(r && ff_json_getn(r, "", 0) == r->child);
    FF_CHECK(r && ff_json_getn(r, "a\0b", 3) == r->child->next);
    FF_CHECK(r && ff_json_get(r, "a") == NULL);
    r = ACCEPT("{}");
    FF_CHECK(r && r->n_children == 0 && r->child == NULL && r->src_len == 2);
}

static void test_i64(void)
{
    static const struct {
        const char *text;
        bool ok;
        int64_t v;
    } t[] = {
        {"0", true, 0},
        {"-0", true, 0},
        {"42", true, 42},
        {"-42", true, -42},
        {"9223372036854775807", true, INT64_MAX},
        {"-9223372036854775808", true, INT64_MIN},
        {"9223372036854775808", false, 0},
        {"-9223372036854775809", false, 0},
        {"18446744073709551616", false, 0},
        {"1.0", false, 0},
        {"1e2", false, 0},
        {"1E0", false, 0},
        {"-1.5", false, 0},
        {"100000000000000000000000000000", false, 0},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        ff_json *r = ACCEPT(t[i].text);
        int64_t v = 12345;
        bool ok = ff_json_as_i64(r, &v);
        FF_CHECK_EQ(ok, t[i].ok);
        if (ok && t[i].ok)
            FF_CHECK_EQ(v, t[i].v);
    }
    int64_t v;
    double d;
    ff_json *s = ACCEPT("\"12\"");
    FF_CHECK(!ff_json_as_i64(s, &v) && !ff_json_as_double(s, &d));
    FF_CHECK(!ff_json_as_i64(NULL, &v) && !ff_json_as_double(NULL, &d));
    ff_json *r = ACCEPT("[19.99, -2.5e3, 1e308, 2e308]");
    ff_json *n = r->child;
    FF_CHECK(ff_json_as_double(n, &d) && d == 19.99);
    FF_CHECK(ff_json_as_double(n->next, &d) && d == -2500.0);
    FF_CHECK(ff_json_as_double(n->next->next, &d) && d == 1e308);
    FF_CHECK(!ff_json_as_double(n->next->next->next, &d));
}

/* Write s, parse the output back and expect the same bytes (or expect). */
static void writer_round_trip(const char *s, size_t n, const char *want_json)
{
    ff_buf b;
    ff_buf_init(&b, 0);
    FF_CHECK_EQ(ff_json_write_str(&b, s, n), FF_OK);
    if (want_json)
        FF_CHECK_STR(b.data, want_json);
    ff_json *r = NULL;
    FF_CHECK_EQ(parse_n(b.data, b.len, &r), FF_OK);
    FF_CHECK(r && r->type == FF_JSON_STRING && r->len == n && memcmp(r->str, s, n) == 0);
    ff_buf_fini(&b);
}

static void test_writer(void)
{
    writer_round_trip("", 0, "\"\"");
    writer_round_trip("plain", 5, "\"plain\"");
    writer_round_trip("q\"b\\s/", 6, "\"q\\\"b\\\\s/\"");
    writer_round_trip("\b\f\n\r\t", 5, "\"\\b\\f\\n\\r\\t\"");
    writer_round_trip("\x00\x01\x1f\x7f", 4, "\"\\u0000\\u0001\\u001f\x7f\"");
    writer_round_trip("a\xE2\x80\xA8"
                      "b\xE2\x80\xA9"
                      "c",
                      9, "\"a\\u2028b\\u2029c\"");
    writer_round_trip("\xE2\x80\xAA\xC3\xA9\xF0\x9F\x98\x80", 9, NULL); /* kept raw */
    /* every byte value below 0x80, and long runs for the word loop */
    char all[128 + 64];
    for (int i = 0; i < 128; i++)
        all[i] = (char)i;
    memset(all + 128, 'z', 64);
    writer_round_trip(all, sizeof all, NULL);

    /* invalid UTF-8 becomes U+FFFD per bad byte */
    ff_buf b;
    ff_buf_init(&b, 0);
    FF_CHECK_EQ(ff_json_write_str(&b,
                                  "a\xC0\xAF"
                                  "b\xED\xA0\x80",
                                  7),
                FF_OK);
    FF_CHECK_STR(b.data, "\"a\xEF\xBF\xBD\xEF\xBF\xBD"
                         "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");
    ff_buf_fini(&b);

    /* the buffer maximum is honoured */
    ff_buf_init(&b, 8);
    FF_CHECK_EQ(ff_json_write_str(&b, "0123456789", 10), FF_ELIMIT);
    ff_buf_fini(&b);

    /* values: compact, order and duplicates kept, numbers as text */
    const char *in = " { \"a\" : [ 1.50 , -0 , 1E+2 , true , false , null , { } , [ ] ] ,"
                     " \"a\" : \"x\\u2028\\ud800\" , \"\\n\" : { \"k\" : \"v\" } } ";
    ff_json *r = ACCEPT(in);
    if (!r)
        return;
    char *out = to_json(r);
    FF_CHECK_STR(out, "{\"a\":[1.50,-0,1E+2,true,false,null,{},[]],\"a\":\"x\\u2028\xEF\xBF\xBD\","
                      "\"\\n\":{\"k\":\"v\"}}");
    free(out);
    out = to_json(ff_json_get(r, "\n")); /* a member: its key is not written */
    FF_CHECK_STR(out, "{\"k\":\"v\"}");
    free(out);
    ff_buf_init(&b, 10);
    FF_CHECK_EQ(ff_json_write_value(&b, r), FF_ELIMIT);
    ff_buf_fini(&b);
}

static void test_arena_cap(void)
{
    /* 2000 members: well over 100 KiB of nodes */
    size_t cap = 16 * 1024 * 1024;
    char *big = malloc(cap);
    size_t o = 0;
    big[o++] = '[';
    for (int i = 0; i < 2000; i++)
        o += (size_t)sprintf(big + o, "%s{\"k\":\"value %d\"}", i ? "," : "", i);
    big[o++] = ']';

    ff_arena a;
    ff_json *root = (ff_json *)&a;
    ff_json_error je;
    ff_arena_init(&a, 4096, 64 * 1024);
    FF_CHECK_EQ(ff_json_parse(big, o, NULL, &a, &root, &je), FF_ELIMIT);
    FF_CHECK_STR(je.code, "too_large");
    FF_CHECK(root == NULL);
    FF_CHECK(a.used_bytes <= 64 * 1024);
    ff_arena_fini(&a);

    /* the same input under a cap just large enough for it passes, and the
     * parser's blocks never cause a false "too_large" near the cap */
    ff_arena_init(&a, 64 * 1024, 0);
    FF_CHECK_EQ(ff_json_parse(big, o, NULL, &a, &root, &je), FF_OK);
    size_t need = a.used_bytes;
    ff_arena_fini(&a);
    printf("arena: %zu bytes of input used %zu bytes of arena\n", o, need);
    size_t lo = 0, hi = need; /* find the smallest cap that works */
    while (lo + 1 < hi) {
        size_t mid = (lo + hi) / 2;
        ff_arena_init(&a, 4096, mid);
        ff_rc rc = ff_json_parse(big, o, NULL, &a, &root, &je);
        FF_CHECK(rc == FF_OK || rc == FF_ELIMIT);
        ff_arena_fini(&a);
        if (rc == FF_OK)
            hi = mid;
        else
            lo = mid;
    }
    ff_arena_init(&a, 4096, hi);
    FF_CHECK_EQ(ff_json_parse(big, o, NULL, &a, &root, &je), FF_OK);
    FF_CHECK(root && root->n_children == 2000);
    ff_arena_fini(&a);
    free(big);

    /* one long string larger than the whole cap */
    ff_arena_init(&a, 4096, 4096);
    char *s = malloc(10002);
    s[0] = '"';
    memset(s + 1, 'x', 10000);
    s[10001] = '"';
    FF_CHECK_EQ(ff_json_parse(s, 10002, NULL, &a, &root, &je), FF_ELIMIT);
    FF_CHECK_STR(je.code, "too_large");
    ff_arena_fini(&a);
    free(s);
}

static void test_alloc_failures(void)
{
    /* Fail every allocation in turn: the parse reports FF_ENOMEM (or
     * succeeds when the failed call was not needed) and never crashes. */
    char *in = malloc(200000);
    size_t o = 0;
    in[o++] = '{';
    for (int i = 0; i < 300; i++)
        o += (size_t)sprintf(in + o, "%s\"key%d\":[\"%0200d\",{\"n\":%d}]", i ? "," : "", i, i, i);
    o += (size_t)sprintf(in + o, ",\"deep\":");
    for (int i = 0; i < 70; i++)
        in[o++] = '[';
    for (int i = 0; i < 70; i++)
        in[o++] = ']';
    in[o++] = '}';
    ff_json_limits lim = {.max_depth = 1000}; /* forces the heap frame stack at depth 64+ */
    int fails = 0, oks = 0;
    for (long k = 1; k < 200; k++) {
        ff_arena a;
        ff_arena_init(&a, 4096, 0);
        ff_json *root = NULL;
        ff_json_error je;
        ff_mem_fail_after(k);
        ff_rc rc = ff_json_parse(in, o, &lim, &a, &root, &je);
        ff_mem_fail_after(0);
        FF_CHECK(rc == FF_OK || rc == FF_ENOMEM);
        if (rc == FF_ENOMEM) {
            fails++;
            FF_CHECK_STR(je.code, "no_memory");
            FF_CHECK(root == NULL);
        } else {
            oks++;
            FF_CHECK(root && root->n_children == 301);
        }
        ff_arena_fini(&a);
    }
    FF_CHECK(fails > 0 && oks > 0);
    free(in);
}

/* ---- throughput (printed, not asserted) ---------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A Segment-style batch built from real Taobao rows when present. */
static size_t make_batch(char *out, size_t cap, int n_events)
{
    static const char *const beh[][2] = {{"pv", "Product Viewed"},
                                         {"cart", "Product Added"},
                                         {"fav", "Product Added to Wishlist"},
                                         {"buy", "Order Completed"}};
    static const char *const ua[] = {
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
        "like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.6099.43 Mobile Safari/537.36"};
    FILE *f = fopen(FF_SHARED_DIR "/data/taobao-userbehavior-slice/UserBehavior_slice.csv", "r");
    size_t o = 0;
    o += (size_t)snprintf(out + o, cap - o, "{\"batch\":[");
    unsigned long long seed = 88172645463325252ull;
    for (int i = 0; i < n_events; i++) {
        unsigned long uid, item, cat, ts;
        char b[16];
        if (!f || fscanf(f, "%lu,%lu,%lu,%15[a-z],%lu\n", &uid, &item, &cat, b, &ts) != 5) {
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            uid = seed % 1000000, item = seed % 5000000, cat = seed % 9000000;
            ts = 1511658000 + (unsigned long)i;
            snprintf(b, sizeof b, "%s", beh[seed % 4][0]);
        }
        int k = 0;
        while (k < 3 && strcmp(b, beh[k][0]) != 0)
            k++;
        o += (size_t)snprintf(
            out + o, cap - o,
            "%s{\"type\":\"track\",\"event\":\"%s\",\"messageId\":\"ajs-next-%lu-%08lx-4c1f-9a2e\","
            "\"userId\":\"%lu\",\"anonymousId\":\"b6e1c7a2-%04lx-4e0f-8c3d-%012lx\","
            "\"timestamp\":\"2017-11-26T%02lu:%02lu:%02lu.000Z\",\"properties\":{\"product_id\":"
            "\"%lu\",\"category\":\"%lu\",\"price\":%lu.%02lu,\"quantity\":%lu,\"currency\":"
            "\"CNY\",\"name\":\"商品 %lu\"},\"context\":{\"ip\":\"10.%lu.%lu.%lu\",\"locale\":"
            "\"zh-CN\",\"userAgent\":\"%s\",\"page\":{\"url\":\"https://shop.example.com/item/"
            "%lu?spm=a1z10\",\"title\":\"淘宝网 - 淘！我喜欢\",\"referrer\":\"https://"
            "www.example.com/search?q=%lu\"},\"library\":{\"name\":\"analytics.js\",\"version\":"
            "\"4.4.5\"}},\"integrations\":{}}",
            i ? "," : "", beh[k][1], ts * 1000, item, uid, uid & 0xffff, item * 7919,
            ts / 3600 % 24, ts / 60 % 60, ts % 60, item, cat, item % 500, item % 100, 1 + item % 3,
            item, uid % 256, item % 256, cat % 256, ua[uid % 3], item, cat);
    }
    o += (size_t)snprintf(out + o, cap - o, "],\"sentAt\":\"2017-11-26T02:00:00.000Z\"}");
    if (f)
        fclose(f);
    return o;
}

static void test_throughput(void)
{
    size_t cap = 2 * 1024 * 1024;
    char *batch = malloc(cap);
    int n_events = 500;
    size_t len = make_batch(batch, cap, n_events);
    ff_arena a;
    ff_arena_init(&a, 256 * 1024, 0);
    ff_json *root = NULL;
    FF_CHECK_EQ(ff_json_parse(batch, len, NULL, &a, &root, NULL), FF_OK);
    FF_CHECK(root && ff_json_get(root, "batch") &&
             ff_json_get(root, "batch")->n_children == (uint32_t)n_events);
    /* arena need with small chunks, so chunk rounding does not hide it */
    ff_arena small;
    ff_arena_init(&small, 4096, 0);
    FF_CHECK_EQ(ff_json_parse(batch, len, NULL, &small, &root, NULL), FF_OK);
    size_t arena_bytes = small.used_bytes;
    ff_arena_fini(&small);
    FF_CHECK_EQ(ff_json_parse(batch, len, NULL, &a, &root, NULL), FF_OK);
    double t0 = now_s(), t;
    int iters = 0;
    do {
        ff_arena_reset(&a);
        ff_json_parse(batch, len, NULL, &a, &root, NULL);
        iters++;
    } while ((t = now_s() - t0) < 0.5 && iters < 20000);
    double mbs = (double)len * iters / t / 1e6;
    printf("throughput: ff_json_parse %.0f MB/s (%zu-byte batch of %d events, %zu B/event, %d "
           "runs; arena need %zu B = %.1fx the input)\n",
           mbs, len, n_events, len / (size_t)n_events, iters, arena_bytes,
           (double)arena_bytes / (double)len);
    /* one event per parse, as the single-event doors do */
    const ff_json *ev = ff_json_get(root, "batch")->child;
    const char *ev_src = ev->src;
    size_t ev_len = ev->src_len;
    ff_arena one;
    ff_arena_init(&one, 16 * 1024, 0);
    t0 = now_s();
    iters = 0;
    do {
        ff_json *r1 = NULL;
        for (int k = 0; k < 100; k++) {
            ff_arena_reset(&one);
            ff_json_parse(ev_src, ev_len, NULL, &one, &r1, NULL);
        }
        iters += 100;
    } while ((t = now_s() - t0) < 0.3 && iters < 2000000);
    printf("throughput: ff_json_parse %.0f MB/s one %zu-byte event per parse (%.0f ns each)\n",
           (double)ev_len * iters / t / 1e6, ev_len, t / iters * 1e9);
    ff_arena_fini(&one);
#ifdef FF_HAVE_CJSON
    t0 = now_s();
    iters = 0;
    do {
        cJSON_Delete(cJSON_ParseWithLength(batch, len));
        iters++;
    } while ((t = now_s() - t0) < 0.3 && iters < 20000);
    printf("throughput: cJSON_Parse %.0f MB/s (same batch, for comparison)\n",
           (double)len * iters / t / 1e6);
#endif
    ff_buf b;
    ff_buf_init(&b, 0);
    t0 = now_s();
    iters = 0;
    do {
        ff_buf_reset(&b);
        ff_json_write_value(&b, root);
        iters++;
    } while ((t = now_s() - t0) < 0.3 && iters < 20000);
    printf("throughput: ff_json_write_value %.0f MB/s\n", (double)b.len * iters / t / 1e6);
    FF_CHECK_EQ(b.len, len); /* the batch is already compact */
    ff_buf_fini(&b);
    ff_arena_fini(&a);
    free(batch);
}

int main(void)
{
    ff_arena_init(&g.arena, 64 * 1024, 0);
    FF_RUN(test_jsontestsuite);
    FF_RUN(test_doc_table);
    FF_RUN(test_cjson_differential);
    FF_RUN(test_row30_empty);
    FF_RUN(test_row31_truncated);
    FF_RUN(test_row32_scalar_root);
    FF_RUN(test_row33_invalid_utf8);
    FF_RUN(test_row34_lone_surrogate);
    FF_RUN(test_row35_bom);
    FF_RUN(test_row36_control_chars);
    FF_RUN(test_row37_depth);
    FF_RUN(test_row38_nan_inf);
    FF_RUN(test_row39_number_grammar);
    FF_RUN(test_row40_42_number_values);
    FF_RUN(test_row43_dup_keys);
    FF_RUN(test_dup_colliding_keys);
    FF_RUN(test_row44_syntax);
    FF_RUN(test_row45_trailing_garbage);
    FF_RUN(test_row46_whitespace);
    FF_RUN(test_optional_args);
    FF_RUN(test_dom_fields);
    FF_RUN(test_i64);
    FF_RUN(test_writer);
    FF_RUN(test_arena_cap);
    FF_RUN(test_alloc_failures);
    FF_RUN(test_throughput);
    ff_arena_fini(&g.arena);
    FF_DONE();
}
