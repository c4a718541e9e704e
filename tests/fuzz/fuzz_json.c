/* fuzz_json.c -- fuzz the strict JSON decoder and the writer.
 *
 * For every input:
 *  - parse it; a failure must leave root NULL, name a known code and an
 *    offset inside the input;
 *  - on success, check the DOM against independent re-computations: depth,
 *    key presence, child counts, spans inside the input, every string and
 *    key valid UTF-8 (own decoder, not the parser's table), duplicate-key
 *    flags (brute force), SUBTREE_BAD exactly on containers above a flag,
 *    and each scalar's span re-parsed alone giving the same value;
 *  - write it, parse the output, and require the same tree (types, keys,
 *    strings, number text, duplicate flags); writing that again must give
 *    the same bytes (writer/parser round trip);
 *  - parse again with max_depth equal to the nesting found (must pass) and
 *    one less (must fail with too_deep), and under a small arena cap (must
 *    pass with the same tree, or fail with too_large).
 * Any violation aborts, which libFuzzer and the replay driver report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_json: " __VA_ARGS__);                                                \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

#define BAD_FLAGS (FF_JSON_F_BAD_SURROGATE | FF_JSON_F_DUP_KEY)

/* Independent UTF-8 check: decode and test the code point ranges. */
static int utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        uint32_t cp;
        size_t k;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            cp = c & 0x1F, k = 1;
        } else if ((c & 0xF0) == 0xE0) {
            cp = c & 0x0F, k = 2;
        } else if ((c & 0xF8) == 0xF0) {
            cp = c & 0x07, k = 3;
        } else {
            return 0;
        }
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3F);
        }
        static const uint32_t min_cp[4] = {0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[k] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += k + 1;
    }
    return 1;
}

typedef struct walk {
    const char *in;
    size_t in_len;
    uint32_t max_nest; /* deepest count of open containers */
} walk;

/* Checks n (and its subtree) and returns its flags OR its descendants'. */
static uint32_t check_node(walk *w, const ff_json *n, uint32_t depth, int parent_is_obj)
{
    if (n->depth != depth)
        FAIL("depth %u, expected %u", n->depth, depth);
    if (parent_is_obj != (n->key != NULL))
        FAIL("key presence does not match the parent type");
    if (n->key && (n->key[n->key_len] != '\0' || !utf8_ok((const void *)n->key, n->key_len)))
        FAIL("key not NUL-terminated or not UTF-8");
    if (n->src < w->in || n->src_len == 0 || n->src_len > w->in_len ||
        (size_t)(n->src - w->in) > w->in_len - n->src_len)
        FAIL("src span outside the input");
    uint32_t below = 0;
    switch (n->type) {
    case FF_JSON_STRING:
        if (n->str[n->len] != '\0' || !utf8_ok((const void *)n->str, n->len))
            FAIL("string not NUL-terminated or not UTF-8");
        if (n->src[0] != '"' || n->src[n->src_len - 1] != '"')
            FAIL("string span does not cover the quotes");
        break;
    case FF_JSON_NUMBER:
        if (n->len != n->src_len || memcmp(n->str, n->src, n->len) != 0 || n->str[n->len])
            FAIL("number text differs from its source");
        break;
    case FF_JSON_ARRAY:
    case FF_JSON_OBJECT: {
        if (depth + 1 > w->max_nest)
            w->max_nest = depth + 1;
        char open = n->type == FF_JSON_ARRAY ? '[' : '{';
        if (n->src[0] != open || n->src[n->src_len - 1] != (open == '[' ? ']' : '}'))
            FAIL("container span does not cover the brackets");
        uint32_t count = 0;
        int dup = 0;
        for (const ff_json *c = n->child; c; c = c->next) {
            count++;
            below |= check_node(w, c, depth + 1, n->type == FF_JSON_OBJECT);
            if (n->type == FF_JSON_OBJECT && !dup && n->n_children <= 3000)
                for (const ff_json *d = c->next; d; d = d->next)
                    if (d->key_len == c->key_len && memcmp(d->key, c->key, c->key_len) == 0)
                        dup = 1;
        }
        if (count != n->n_children)
            FAIL("n_children %u, counted %u", n->n_children, count);
        if (n->n_children <= 3000 && dup != !!(n->flags & FF_JSON_F_DUP_KEY))
            FAIL("duplicate-key flag is %d, brute force says %d", !!(n->flags & FF_JSON_F_DUP_KEY),
                 dup);
        if (!!(n->flags & FF_JSON_F_SUBTREE_BAD) != !!(below & BAD_FLAGS))
            FAIL("SUBTREE_BAD does not match the descendants");
        break;
    }
    default:
        if (n->child || n->n_children)
            FAIL("scalar with children");
        break;
    }
    if (n->type != FF_JSON_OBJECT && (n->flags & FF_JSON_F_DUP_KEY))
        FAIL("DUP_KEY on a non-object");
    if (n->type != FF_JSON_ARRAY && n->type != FF_JSON_OBJECT && (n->flags & FF_JSON_F_SUBTREE_BAD))
        FAIL("SUBTREE_BAD on a scalar");
    if ((n->flags & FF_JSON_F_BAD_SURROGATE) && n->type != FF_JSON_STRING && !n->key)
        FAIL("BAD_SURROGATE on a node that is neither a string nor a member");
    return below | (n->flags & BAD_FLAGS);
}

/* Same structure and values (the surrogate flag does not survive writing). */
static void same_tree(const ff_json *a, const ff_json *b)
{
    if (a->type != b->type || a->n_children != b->n_children ||
        (a->flags & FF_JSON_F_DUP_KEY) != (b->flags & FF_JSON_F_DUP_KEY))
        FAIL("round trip changed a node's type, size or duplicate flag");
    if ((a->key == NULL) != (b->key == NULL) ||
        (a->key && (a->key_len != b->key_len || memcmp(a->key, b->key, a->key_len) != 0)))
        FAIL("round trip changed a key");
    if ((a->type == FF_JSON_STRING || a->type == FF_JSON_NUMBER) &&
        (a->len != b->len || memcmp(a->str, b->str, a->len) != 0))
        FAIL("round trip changed a value");
    /* iterate siblings, recurse into children (depth is bounded by 64) */
    const ff_json *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)
        same_tree(x, y);
    if (x || y)
        FAIL("round trip changed the children");
}

/* Every scalar's span parses alone to the same value. */
static void check_spans(const ff_json *n, ff_arena *scratch)
{
    for (; n; n = n->next) {
        if (n->type == FF_JSON_ARRAY || n->type == FF_JSON_OBJECT) {
            check_spans(n->child, scratch);
            continue;
        }
        ff_json *r = NULL;
        ff_arena_reset(scratch);
        if (ff_json_parse(n->src, n->src_len, NULL, scratch, &r, NULL) != FF_OK)
            FAIL("a scalar's span does not parse alone");
        if (r->type != n->type || r->len != n->len || (n->len && memcmp(r->str, n->str, n->len)))
            FAIL("a scalar's span parses to a different value");
        /* a member's flag may come from its key instead */
        uint32_t fa = r->flags & FF_JSON_F_BAD_SURROGATE, fb = n->flags & FF_JSON_F_BAD_SURROGATE;
        if (n->key ? (fa && !fb) : fa != fb)
            FAIL("a scalar's span parses with a different surrogate flag");
    }
}

static void check_error(const ff_json_error *je, ff_rc rc, const ff_json *root, size_t size)
{
    static const char *const codes[] = {"empty_body", "invalid_json", "invalid_utf8",
                                        "too_deep",   "too_large",    "no_memory"};
    if (root)
        FAIL("root set after a failed parse");
    if (rc != FF_EBADINPUT && rc != FF_ELIMIT && rc != FF_ENOMEM)
        FAIL("unexpected rc %d", rc);
    if (!je->code)
        FAIL("no error code");
    int known = 0;
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        known |= strcmp(je->code, codes[i]) == 0;
    if (!known)
        FAIL("unknown error code %s", je->code);
    if (je->offset > size)
        FAIL("error offset %zu past the input (%zu)", je->offset, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    ff_arena a1, a2, a3;
    ff_buf b1, b2;
    ff_json *r1 = NULL, *r2 = NULL, *r3 = NULL;
    ff_json_error je;
    ff_arena_init(&a1, 16 * 1024, 256u << 20);
    ff_arena_init(&a2, 16 * 1024, 256u << 20);
    ff_arena_init(&a3, 1024, 0);
    ff_buf_init(&b1, 0);
    ff_buf_init(&b2, 0);

    ff_rc rc = ff_json_parse(in, size, NULL, &a1, &r1, &je);
    if (rc != FF_OK) {
        check_error(&je, rc, r1, size);
        goto out;
    }
    if (je.code)
        FAIL("error code set after success");
    walk w = {in, size, 0};
    check_node(&w, r1, 0, 0);
    if (r1->src_len > size)
        FAIL("root span too long");
    check_spans(r1, &a3);

    /* writer round trip */
    if (ff_json_write_value(&b1, r1) != FF_OK)
        FAIL("write failed");
    if (ff_json_parse(b1.data, b1.len, NULL, &a2, &r2, &je) != FF_OK)
        FAIL("the writer's output does not parse: %s at %zu: %s", je.code, je.offset, je.msg);
    same_tree(r1, r2);
    if (ff_json_write_value(&b2, r2) != FF_OK || b1.len != b2.len ||
        memcmp(b1.data, b2.data, b1.len) != 0)
        FAIL("writing the re-parsed tree gives different bytes");

    /* the depth limit is exact */
    if (w.max_nest >= 2) {
        ff_json_limits lim = {.max_depth = w.max_nest};
        ff_arena_reset(&a2);
        if (ff_json_parse(in, size, &lim, &a2, &r3, &je) != FF_OK)
            FAIL("max_depth equal to the nesting rejects");
        lim.max_depth = w.max_nest - 1;
        ff_arena_reset(&a2);
        if (ff_json_parse(in, size, &lim, &a2, &r3, &je) != FF_EBADINPUT ||
            strcmp(je.code, "too_deep") != 0)
            FAIL("max_depth below the nesting does not give too_deep");
    }

    /* a small cap: same tree or too_large */
    ff_arena_fini(&a2);
    ff_arena_init(&a2, 1024, 8192);
    rc = ff_json_parse(in, size, NULL, &a2, &r3, &je);
    if (rc == FF_OK)
        same_tree(r1, r3);
    else if (rc != FF_ELIMIT || strcmp(je.code, "too_large") != 0 || r3)
        FAIL("small arena: rc %d code %s", rc, je.code ? je.code : "(null)");

out:
    ff_buf_fini(&b1);
    ff_buf_fini(&b2);
    ff_arena_fini(&a1);
    ff_arena_fini(&a2);
    ff_arena_fini(&a3);
    return 0;
}
