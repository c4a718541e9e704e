/* ff_json.h -- strict JSON (RFC 8259 + I-JSON checks) into an arena DOM,
 * and a small JSON writer.
 *
 * WHAT: the decoder every door uses for bodies from the network, and the
 * writer for every JSON we emit (records, API answers).
 *
 * DESIGN: written by hand rather than taken from cJSON/jansson because the
 * collector needs what those libraries do not give: rejection of every
 * JSONTestSuite n_ case (cJSON accepts leading zeros, "1.", etc.), a depth
 * limit enforced without recursion limits of the C stack, UTF-8 validation
 * (RFC 3629: no overlongs, no encoded surrogates), duplicate-key and
 * lone-surrogate detection reported per node (so one bad event in a batch
 * rejects that event, not the batch), and numbers kept as their source text
 * so money can be parsed exactly as decimal. It is tested against cJSON on
 * every y_ case of JSONTestSuite and fuzzed (tests/fuzz/fuzz_json.c).
 * The full rule list, error codes and implementation-defined choices are in
 * docs/json.md.
 *
 * Parsing is one pass over the input with an explicit stack (no recursion),
 * so nesting is bounded by max_depth, never by the C stack. Nodes and decoded
 * strings are allocated from the caller's arena. Strings are decoded (escapes
 * resolved) and NUL-terminated, with their byte length in len (they may
 * contain NUL). Number text is copied too, so it is NUL-terminated.
 *
 * INVARIANTS:
 *  (1) A successful parse consumed the whole input (only whitespace after).
 *  (2) Every string (value or key) holds valid UTF-8; an escaped lone
 *      surrogate is decoded as U+FFFD and flagged FF_JSON_F_BAD_SURROGATE.
 *  (3) Numbers match the RFC 8259 grammar; num text is the source text.
 *  (4) Every container with a flagged descendant (or a flagged member key
 *      below it) carries FF_JSON_F_SUBTREE_BAD; no other container does.
 *  (5) The writer only emits valid UTF-8 JSON that ff_json_parse accepts.
 *
 * ERRORS (ff_json_error.code, stable strings): "empty_body" (no value: empty
 * or whitespace only), "invalid_json" (syntax, incl. a leading UTF-8 BOM whose
 * msg starts with "bom:"), "invalid_utf8" (bad UTF-8 inside a string),
 * "too_deep" (nesting over max_depth), with FF_EBADINPUT; "too_large" with
 * FF_ELIMIT (the arena's cap was hit); "no_memory" with FF_ENOMEM.
 *
 * THREADING: no shared state.
 * OWNERSHIP: nodes, keys, strings and number text live in the caller's arena
 * until it is reset. The src spans point into buf (borrowed): use them only
 * while buf is alive. The parser takes arena memory in blocks, so up to one
 * partly used block (at most 64 KiB) per parse is not handed out.
 */
#ifndef FF_JSON_H
#define FF_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_err.h"

typedef enum ff_json_type {
    FF_JSON_NULL,
    FF_JSON_FALSE,
    FF_JSON_TRUE,
    FF_JSON_NUMBER,
    FF_JSON_STRING,
    FF_JSON_ARRAY,
    FF_JSON_OBJECT,
} ff_json_type;

enum {
    /* string: an escaped lone surrogate (decoded as U+FFFD); on any member
     * node (whatever its type): the member's key had one. */
    FF_JSON_F_BAD_SURROGATE = 1u << 0,
    FF_JSON_F_DUP_KEY = 1u << 1,     /* object: some key appears twice */
    FF_JSON_F_SUBTREE_BAD = 1u << 2, /* container: a descendant has a flag above */
};

typedef struct ff_json ff_json;
struct ff_json {
    ff_json_type type;
    uint32_t flags;
    uint32_t depth;      /* root = 0 */
    uint32_t n_children; /* arrays and objects */
    const char *key;     /* member name when the parent is an object, else NULL */
    size_t key_len;      /* decoded, NUL-terminated, may contain NUL */
    const char *str;     /* STRING: decoded text; NUMBER: source text; both NUL-terminated */
    size_t len;          /* bytes in str, without the NUL */
    ff_json *child;      /* first child, in document order */
    ff_json *next;       /* next sibling */
    const char *src;     /* span of this value in the input (borrowed from buf) */
    size_t src_len;
};

#define FF_JSON_DEFAULT_MAX_DEPTH 64

typedef struct ff_json_limits {
    /* At most this many containers may be open at once: with 64, 64 nested
     * '[' parse and 65 fail with "too_deep". 0 = FF_JSON_DEFAULT_MAX_DEPTH. */
    uint32_t max_depth;
} ff_json_limits;

typedef struct ff_json_error {
    const char *code; /* see ERRORS above; NULL after a successful parse */
    size_t offset;    /* byte offset of the problem in buf */
    char msg[128];
} ff_json_error;

/* Parse buf[0..len). On failure returns FF_EBADINPUT (or FF_ENOMEM / FF_ELIMIT
 * when memory or the arena's cap is exhausted), leaves *root_out NULL and
 * fills jerr. lim and jerr may be NULL (defaults / no detail). Borrows buf
 * (see OWNERSHIP); on failure the arena may hold partial allocations. */
ff_rc ff_json_parse(const char *buf, size_t len, const ff_json_limits *lim, ff_arena *arena,
                    ff_json **root_out, ff_json_error *jerr);

/* Lookup helpers; return NULL when absent or not an object. With duplicate
 * keys (FF_JSON_F_DUP_KEY) the first member wins. Linear in n_children. */
ff_json *ff_json_get(const ff_json *obj, const char *key);
ff_json *ff_json_getn(const ff_json *obj, const char *key, size_t key_len);

/* Number helpers. */
/* as_i64: only pure integer text ("-12", not "1.0" or "1e2") in int64 range. */
bool ff_json_as_i64(const ff_json *n, int64_t *out);
/* as_double: strtod of the text; false when not finite (1e400). Underflow
 * (1e-400) gives 0 or a subnormal and is true. Needs the "C" LC_NUMERIC. */
bool ff_json_as_double(const ff_json *n, double *out);
/* True when v is a string equal to the NUL-terminated s (byte-exact). */
bool ff_json_is_str(const ff_json *v, const char *s);

/* Writer: appends to b (FF_ELIMIT/FF_ENOMEM from ff_buf; b may then hold a
 * partial value). Strings get quotes and are escaped per RFC 8259: '"' and
 * '\\' with a backslash, \b \f \n \r \t short forms, other control bytes as
 * "\u00XX", U+2028/U+2029 as "\u2028"/"\u2029" (safe to embed in scripts).
 * Invalid UTF-8 in s is written as U+FFFD, one per bad byte, so the output is
 * always valid JSON. */
ff_rc ff_json_write_str(ff_buf *b, const char *s, size_t len);
/* Writes v back as compact JSON (numbers as their source text, members in
 * order, duplicates kept). v's own key is not written. No recursion. */
ff_rc ff_json_write_value(ff_buf *b, const ff_json *v);

#endif /* FF_JSON_H */
