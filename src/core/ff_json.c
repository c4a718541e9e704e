/* ff_json.c -- strict JSON decoder into an arena DOM, and the JSON writer.
 *
 * The contract is in ff_json.h and the rules in docs/json.md. This comment
 * explains how the code meets them and what it costs.
 *
 * PARSER. One loop over the input with two states, "a value starts here"
 * (parse_value) and "a value just ended" (after_value). Open containers sit
 * on an explicit stack of frames {node, last child}; nothing recurses, so
 * 100000 nested '[' cost one frame each until max_depth says stop. The stack
 * lives on the C stack for the default depth and moves to the heap (ff_mem)
 * only when a caller allows deeper nesting.
 *
 * STRINGS are scanned first (find the closing quote, validate escapes and
 * UTF-8), then copied: a plain memcpy when the scan saw no backslash, else a
 * decode into a buffer of the source length (escapes only shrink). The scan
 * looks at 8 bytes per step (SWAR: a word without '"', '\\', a control byte
 * or a byte >= 0x80 is skipped whole); only the interesting bytes go through
 * the class switch. Non-ASCII text is validated one sequence at a time.
 *
 * MEMORY. Nodes and strings are carved by a bump pointer from blocks taken
 * from the arena (the first block is sized from the input length, later ones
 * double up to 64 KiB). This keeps ff_arena_alloc, a call into another file,
 * off the per-node path. The cost is the unused tail of the last block.
 * When a block would cross the arena's cap but the request itself fits, the
 * exact request is tried, so the cap is only reported when it is real.
 *
 * DUPLICATE KEYS are checked when an object closes: pairwise for up to 16
 * members, else a hash table of member indexes (linear probing, load <= 1/2).
 * Keys chosen to collide could make the table quadratic, so the probes are
 * budgeted; past the budget the keys are sorted instead (O(n log n)).
 *
 * FLAGS. Marking a node bad walks the frame stack upwards setting
 * SUBTREE_BAD and stops at the first frame that already has it: a frame's
 * flag implies every frame below it has it (they were marked in the same or
 * an earlier walk), so each frame is marked at most once.
 */
#include "core/ff_json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ff_mem.h"

#define JSON_LOCAL_FRAMES 64
#define JSON_DUP_LINEAR_MAX 16
#define JSON_BLOCK_MIN 512
#define JSON_BLOCK_MAX (64 * 1024)

#if defined(__GNUC__)
#define J_LIKELY(x) __builtin_expect(!!(x), 1)
#define J_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define J_COLD __attribute__((cold, noinline))
#else
#define J_LIKELY(x) (x)
#define J_UNLIKELY(x) (x)
#define J_COLD
#endif

/* ---- character tables -------------------------------------------------- */

/* Classes of bytes inside a string. */
enum { SC_PLAIN = 0, SC_QUOTE, SC_BSLASH, SC_CTRL, SC_HIGH };

#define C4(x) x, x, x, x
#define C16(x) C4(x), C4(x), C4(x), C4(x)
static const unsigned char str_class[256] = {
    C16(SC_CTRL),  C16(SC_CTRL),                                            /* 0x00-0x1f */
    SC_PLAIN,      SC_PLAIN,      SC_QUOTE,     SC_PLAIN,     C4(SC_PLAIN), /* 0x20-0x27 */
    C4(SC_PLAIN),  C4(SC_PLAIN),                                            /* 0x28-0x2f */
    C16(SC_PLAIN), C16(SC_PLAIN),                                           /* 0x30-0x4f */
    C4(SC_PLAIN),  C4(SC_PLAIN),  C4(SC_PLAIN), SC_BSLASH,    SC_PLAIN,     /* 0x50-0x5d */
    SC_PLAIN,      SC_PLAIN,                                                /* 0x5e-0x5f */
    C16(SC_PLAIN), C16(SC_PLAIN),                                           /* 0x60-0x7f */
    C16(SC_HIGH),  C16(SC_HIGH),  C16(SC_HIGH), C16(SC_HIGH),               /* 0x80-0xbf */
    C16(SC_HIGH),  C16(SC_HIGH),  C16(SC_HIGH), C16(SC_HIGH),               /* 0xc0-0xff */
};

/* JSON whitespace (RFC 8259: space, tab, LF, CR; not FF or VT). */
static inline int is_ws(unsigned c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline int is_digit(unsigned c)
{
    return c - '0' < 10u;
}

static inline int hex_val(unsigned c)
{
    if (c - '0' < 10u)
        return (int)(c - '0');
    c |= 0x20u;
    if (c - 'a' < 6u)
        return (int)(c - 'a' + 10);
    return -1;
}

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *e)
{
    while (p < e && is_ws(*p))
        p++;
    return p;
}

/* SWAR: a word with a high bit set per byte that is '"', '\\', < 0x20 or
 * >= 0x80. Borrows can only set bits above a true hit, so "any bit" and
 * "lowest bit" are both exact. */
#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t swar_special(uint64_t v)
{
    uint64_t q = v ^ (ONES * '"');
    uint64_t b = v ^ (ONES * '\\');
    uint64_t hq = (q - ONES) & ~q;
    uint64_t hb = (b - ONES) & ~b;
    uint64_t lc = (v - ONES * 0x20) & ~v;
    return (hq | hb | lc | v) & HIGHS;
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SWAR_FIRST(m) ((size_t)__builtin_ctzll(m) >> 3)
#endif

/* Length of the valid UTF-8 sequence at s (RFC 3629 table 3-7), 0 when it
 * is invalid or truncated by e. Only called for s[0] >= 0x80. */
static inline size_t utf8_seq_len(const unsigned char *s, const unsigned char *e)
{
    unsigned c = s[0];
    size_t avail = (size_t)(e - s);
    if (c >= 0xC2 && c <= 0xDF)
        return avail >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (avail < 3 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        if (avail < 4 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0; /* 80-C1 (continuation, overlong lead), F5-FF (> U+10FFFF, 5/6-byte) */
}

static inline unsigned char *utf8_put(unsigned char *o, uint32_t cp)
{
    if (cp < 0x80) {
        *o++ = (unsigned char)cp;
    } else if (cp < 0x800) {
        *o++ = (unsigned char)(0xC0 | (cp >> 6));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (unsigned char)(0xE0 | (cp >> 12));
        *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (unsigned char)(0xF0 | (cp >> 18));
        *o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (unsigned char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* ---- parser state ------------------------------------------------------ */

typedef struct jframe {
    ff_json *node;
    ff_json *last; /* last child, for O(1) append */
} jframe;

typedef struct jparser {
    const unsigned char *buf;
    const unsigned char *end;
    ff_arena *arena;
    uintptr_t blk;     /* bump pointer into the current block */
    uintptr_t blk_end; /* end of the current block (0 = none) */
    size_t blk_next;   /* size of the next block to take */
    ff_json_error *jerr;
    ff_rc rc; /* the first error recorded */
    jframe *frames;
    uint32_t n_frames; /* capacity of frames */
    uint32_t max_depth;
    bool frames_heap;
} jparser;

J_COLD static ff_rc jp_fail(jparser *P, ff_rc rc, const char *code, const unsigned char *at,
                            const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static ff_rc jp_fail(jparser *P, ff_rc rc, const char *code, const unsigned char *at,
                     const char *fmt, ...)
{
    ff_json_error *je = P->jerr;
    P->rc = rc;
    if (!je)
        return rc;
    je->code = code;
    je->offset = at ? (size_t)(at - P->buf) : 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(je->msg, sizeof je->msg, fmt, ap);
    va_end(ap);
    return rc;
}

/* "unexpected 'x'" with non-printable bytes shown as hex. */
J_COLD static ff_rc jp_fail_char(jparser *P, const unsigned char *at, const char *what)
{
    if (at >= P->end)
        return jp_fail(P, FF_EBADINPUT, "invalid_json", at, "unexpected end of input: %s", what);
    unsigned c = *at;
    const char *hint = "";
    if (c == '/')
        hint = " (comments are not JSON)";
    else if (c == '\'')
        hint = " (strings use double quotes)";
    else if (c == ']' || c == '}') {
        const unsigned char *q = at;
        while (q > P->buf && is_ws(q[-1]))
            q--;
        if (q > P->buf && q[-1] == ',')
            hint = " (trailing comma)";
    }
    if (c >= 0x20 && c < 0x7F)
        return jp_fail(P, FF_EBADINPUT, "invalid_json", at, "unexpected '%c': %s%s", (int)c, what,
                       hint);
    return jp_fail(P, FF_EBADINPUT, "invalid_json", at, "unexpected byte 0x%02X: %s", c, what);
}

J_COLD static void *jp_take_slow(jparser *P, size_t n)
{
    ff_arena *a = P->arena;
    if (n > P->blk_next / 4) /* big: its own allocation, keep the block */
        return ff_arena_alloc(a, n);
    size_t want = P->blk_next;
    bool was_over = a->over_cap;
    void *b = ff_arena_alloc(a, want);
    if (!b && a->over_cap) {
        /* The block does not fit under the cap; maybe the request does. */
        a->over_cap = was_over;
        return ff_arena_alloc(a, n);
    }
    if (!b)
        return NULL;
    P->blk = (uintptr_t)b + n;
    P->blk_end = (uintptr_t)b + want;
    if (P->blk_next < JSON_BLOCK_MAX)
        P->blk_next *= 2;
    return b;
}

/* n bytes aligned to align (a power of two <= 16) from the current block. */
static inline void *jp_take(jparser *P, size_t n, uintptr_t align)
{
    uintptr_t c = (P->blk + (align - 1)) & ~(align - 1);
    if (J_LIKELY(c <= P->blk_end && n <= P->blk_end - c)) {
        P->blk = c + n;
        return (void *)c;
    }
    return jp_take_slow(P, n);
}

static ff_rc jp_oom(jparser *P, const unsigned char *at)
{
    if (P->arena->over_cap)
        return jp_fail(P, FF_ELIMIT, "too_large", at, "arena cap of %zu bytes reached",
                       P->arena->cap_bytes);
    return jp_fail(P, FF_ENOMEM, "no_memory", at, "out of memory");
}

static inline ff_json *jp_node(jparser *P, ff_json_type t, const unsigned char *src)
{
    ff_json *n = jp_take(P, sizeof *n, _Alignof(ff_json));
    if (J_UNLIKELY(!n))
        return NULL;
    n->type = t;
    n->flags = 0;
    n->depth = 0;
    n->n_children = 0;
    n->key = NULL;
    n->key_len = 0;
    n->str = NULL;
    n->len = 0;
    n->child = NULL;
    n->next = NULL;
    n->src = (const char *)src;
    n->src_len = 0;
    return n;
}

/* Set SUBTREE_BAD on the open containers frames[0..top]. */
static void jp_mark_ancestors(jparser *P, int top)
{
    for (int i = top; i >= 0; i--) {
        ff_json *c = P->frames[i].node;
        if (c->flags & FF_JSON_F_SUBTREE_BAD)
            break;
        c->flags |= FF_JSON_F_SUBTREE_BAD;
    }
}

/* ---- strings ----------------------------------------------------------- */

/* Scans the string body starting at s (just after the opening quote).
 * Returns the closing quote, or NULL after recording an error. Sets *esc
 * when the body holds a backslash escape. */
static const unsigned char *jp_scan_str(jparser *P, const unsigned char *s, bool *esc)
{
    const unsigned char *e = P->end;
    for (;;) {
        while (e - s >= 8) {
            uint64_t m = swar_special(load64(s));
            if (m) {
#ifdef SWAR_FIRST
                s += SWAR_FIRST(m);
#endif
                break;
            }
            s += 8;
        }
        while (s < e && str_class[*s] == SC_PLAIN)
            s++;
        if (J_UNLIKELY(s >= e)) {
            jp_fail(P, FF_EBADINPUT, "invalid_json", s, "unterminated string");
            return NULL;
        }
        switch (str_class[*s]) {
        case SC_QUOTE:
            return s;
        case SC_BSLASH:
            *esc = true;
            if (e - s < 2) {
                jp_fail(P, FF_EBADINPUT, "invalid_json", s, "unterminated string");
                return NULL;
            }
            switch (s[1]) {
            case '"':
            case '\\':
            case '/':
            case 'b':
            case 'f':
            case 'n':
            case 'r':
            case 't':
                s += 2;
                break;
            case 'u':
                if (e - s < 6 || hex_val(s[2]) < 0 || hex_val(s[3]) < 0 || hex_val(s[4]) < 0 ||
                    hex_val(s[5]) < 0) {
                    jp_fail(P, FF_EBADINPUT, "invalid_json", s,
                            "\\u must be followed by 4 hex digits");
                    return NULL;
                }
                s += 6;
                break;
            default:
                jp_fail(P, FF_EBADINPUT, "invalid_json", s, "invalid escape");
                return NULL;
            }
            break;
        case SC_CTRL:
            jp_fail(P, FF_EBADINPUT, "invalid_json", s,
                    "raw control byte 0x%02X in string (must be escaped)", (unsigned)*s);
            return NULL;
        default: { /* SC_HIGH */
            size_t n = utf8_seq_len(s, e);
            if (J_UNLIKELY(!n)) {
                jp_fail(P, FF_EBADINPUT, "invalid_utf8", s, "invalid UTF-8 byte 0x%02X in string",
                        (unsigned)*s);
                return NULL;
            }
            s += n;
            break;
        }
        }
    }
}

static inline uint32_t hex4(const unsigned char *s)
{
    return (uint32_t)(hex_val(s[0]) << 12 | hex_val(s[1]) << 8 | hex_val(s[2]) << 4 |
                      hex_val(s[3]));
}

/* Decodes the validated body [s, e) into o; returns the end of the output.
 * Output never exceeds the input length. */
static unsigned char *jp_decode(unsigned char *o, const unsigned char *s, const unsigned char *e,
                                bool *bad)
{
    while (s < e) {
        const unsigned char *bs = memchr(s, '\\', (size_t)(e - s));
        if (!bs) {
            memcpy(o, s, (size_t)(e - s));
            return o + (e - s);
        }
        memcpy(o, s, (size_t)(bs - s));
        o += bs - s;
        s = bs;
        unsigned char c = s[1];
        s += 2;
        switch (c) {
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            uint32_t cp = hex4(s);
            s += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (e - s >= 6 && s[0] == '\\' && s[1] == 'u' && (lo = hex4(s + 2)) >= 0xDC00 &&
                    lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    s += 6;
                } else {
                    cp = 0xFFFD;
                    *bad = true;
                }
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                cp = 0xFFFD;
                *bad = true;
            }
            o = utf8_put(o, cp);
            break;
        }
        default: /* '"', '\\', '/' */
            *o++ = c;
            break;
        }
    }
    return o;
}

/* Parses the string whose opening quote is at s. On success stores the
 * decoded text and returns the byte after the closing quote. */
static inline const unsigned char *jp_string(jparser *P, const unsigned char *s, const char **out,
                                             size_t *out_len, bool *bad)
{
    bool esc = false;
    const unsigned char *q = jp_scan_str(P, s + 1, &esc);
    if (J_UNLIKELY(!q))
        return NULL;
    size_t n = (size_t)(q - (s + 1));
    unsigned char *d = jp_take(P, n + 1, 1);
    if (J_UNLIKELY(!d)) {
        jp_oom(P, s);
        return NULL;
    }
    if (J_LIKELY(!esc)) {
        memcpy(d, s + 1, n);
    } else {
        unsigned char *o = jp_decode(d, s + 1, q, bad);
        n = (size_t)(o - d);
    }
    d[n] = '\0';
    *out = (const char *)d;
    *out_len = n;
    return q + 1;
}

/* ---- numbers ----------------------------------------------------------- */

/* Validates the number at s (RFC 8259 grammar); returns its end or NULL. */
static const unsigned char *jp_scan_num(jparser *P, const unsigned char *s)
{
    const unsigned char *e = P->end, *p = s;
    if (*p == '-')
        p++;
    if (p >= e || !is_digit(*p)) {
        jp_fail(P, FF_EBADINPUT, "invalid_json", p, "a number needs a digit here");
        return NULL;
    }
    if (*p == '0') {
        p++;
        if (p < e && is_digit(*p)) {
            jp_fail(P, FF_EBADINPUT, "invalid_json", s, "leading zeros are not allowed");
            return NULL;
        }
    } else {
        while (p < e && is_digit(*p))
            p++;
    }
    if (p < e && *p == '.') {
        p++;
        if (p >= e || !is_digit(*p)) {
            jp_fail(P, FF_EBADINPUT, "invalid_json", p, "a digit must follow the decimal point");
            return NULL;
        }
        while (p < e && is_digit(*p))
            p++;
    }
    if (p < e && (*p | 0x20) == 'e') {
        p++;
        if (p < e && (*p == '+' || *p == '-'))
            p++;
        if (p >= e || !is_digit(*p)) {
            jp_fail(P, FF_EBADINPUT, "invalid_json", p, "the exponent needs digits");
            return NULL;
        }
        while (p < e && is_digit(*p))
            p++;
    }
    return p;
}

/* ---- duplicate keys ---------------------------------------------------- */

static inline bool key_eq(const ff_json *a, const ff_json *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

static uint64_t key_hash(const char *k, size_t n)
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

static int key_cmp(const void *pa, const void *pb)
{
    const ff_json *a = *(const ff_json *const *)pa, *b = *(const ff_json *const *)pb;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    return memcmp(a->key, b->key, a->key_len);
}

/* 1 when obj has two equal keys, 0 when not, FF_ENOMEM when scratch
 * memory is missing. */
static int jp_has_dup(const ff_json *obj)
{
    size_t n = obj->n_children;
    if (n <= JSON_DUP_LINEAR_MAX) {
        for (const ff_json *a = obj->child; a; a = a->next)
            for (const ff_json *b = a->next; b; b = b->next)
                if (key_eq(a, b))
                    return 1;
        return 0;
    }
    size_t slots = 64;
    while (slots < 2 * n)
        slots *= 2;
    const ff_json **arr = ff_malloc(n * sizeof *arr + slots * sizeof(uint32_t));
    if (!arr)
        return FF_ENOMEM;
    uint32_t *tab = (uint32_t *)(void *)(arr + n);
    memset(tab, 0, slots * sizeof *tab);
    size_t i = 0, mask = slots - 1, probes = 0, budget = 8 * n + 64;
    int dup = 0;
    for (const ff_json *c = obj->child; c; c = c->next)
        arr[i++] = c;
    for (i = 0; i < n && !dup; i++) {
        size_t h = (size_t)key_hash(arr[i]->key, arr[i]->key_len) & mask;
        while (tab[h]) {
            if (key_eq(arr[tab[h] - 1], arr[i])) {
                dup = 1;
                break;
            }
            h = (h + 1) & mask;
            if (++probes > budget)
                goto sort;
        }
        tab[h] = (uint32_t)(i + 1);
    }
    ff_free(arr);
    return dup;
sort:
    /* Colliding keys (chosen by a hostile sender?): O(n log n) instead. */
    qsort(arr, n, sizeof *arr, key_cmp);
    for (i = 1; i < n && !dup; i++)
        dup = key_eq(arr[i - 1], arr[i]);
    ff_free(arr);
    return dup;
}

/* ---- the parse loop ---------------------------------------------------- */

static bool jp_grow_frames(jparser *P)
{
    uint64_t want = (uint64_t)P->n_frames * 2;
    if (want > P->max_depth)
        want = P->max_depth;
    if (want > SIZE_MAX / sizeof(jframe))
        return false;
    jframe *f;
    if (P->frames_heap) {
        f = ff_realloc(P->frames, (size_t)want * sizeof *f);
    } else {
        f = ff_malloc((size_t)want * sizeof *f);
        if (f)
            memcpy(f, P->frames, P->n_frames * sizeof *f);
    }
    if (!f)
        return false;
    P->frames = f;
    P->frames_heap = true;
    P->n_frames = (uint32_t)want;
    return true;
}

static ff_rc jp_run(jparser *P, ff_json **root_out)
{
    const unsigned char *p = P->buf, *e = P->end;
    ff_json *root = NULL;
    int top = -1; /* index of the innermost open container */
    /* The member name waiting for its value (objects only). */
    const char *key = NULL;
    size_t key_len = 0;
    bool key_bad = false;

    if (e - p >= 3 && p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
        return jp_fail(P, FF_EBADINPUT, "invalid_json", p,
                       "bom: a UTF-8 byte order mark is not allowed before JSON text");
    p = skip_ws(p, e);
    if (p >= e)
        return jp_fail(P, FF_EBADINPUT, "empty_body", p, "no JSON value in the input");

parse_value:
    for (;;) {
        ff_json *n;
        bool bad = false;
        if (J_UNLIKELY(p >= e))
            return jp_fail_char(P, p, "expected a value");
        unsigned c = *p;
        switch (c) {
        case '"':
            n = jp_node(P, FF_JSON_STRING, p);
            if (J_UNLIKELY(!n))
                return jp_oom(P, p);
            {
                const unsigned char *q = jp_string(P, p, &n->str, &n->len, &bad);
                if (J_UNLIKELY(!q))
                    return P->rc;
                p = q;
            }
            break;
        case '-':
        case '0':
        case '1':
        case '2':
        case '3':
        case '4':
        case '5':
        case '6':
        case '7':
        case '8':
        case '9': {
            const unsigned char *q = jp_scan_num(P, p);
            if (J_UNLIKELY(!q))
                return FF_EBADINPUT;
            n = jp_node(P, FF_JSON_NUMBER, p);
            char *t = n ? jp_take(P, (size_t)(q - p) + 1, 1) : NULL;
            if (J_UNLIKELY(!t))
                return jp_oom(P, p);
            memcpy(t, p, (size_t)(q - p));
            t[q - p] = '\0';
            n->str = t;
            n->len = (size_t)(q - p);
            p = q;
            break;
        }
        case 't':
        case 'f':
        case 'n': {
            static const char *const lit[3] = {"true", "false", "null"};
            static const ff_json_type lt[3] = {FF_JSON_TRUE, FF_JSON_FALSE, FF_JSON_NULL};
            int k = c == 't' ? 0 : c == 'f' ? 1 : 2;
            size_t ln = k == 1 ? 5 : 4;
            if ((size_t)(e - p) < ln || memcmp(p, lit[k], ln) != 0)
                return jp_fail(P, FF_EBADINPUT, "invalid_json", p,
                               "invalid literal (expected true, false or null)");
            n = jp_node(P, lt[k], p);
            if (J_UNLIKELY(!n))
                return jp_oom(P, p);
            p += ln;
            break;
        }
        case '[':
        case '{':
            if (J_UNLIKELY((uint32_t)(top + 1) >= P->max_depth))
                return jp_fail(P, FF_EBADINPUT, "too_deep", p, "nesting deeper than %u containers",
                               P->max_depth);
            n = jp_node(P, c == '[' ? FF_JSON_ARRAY : FF_JSON_OBJECT, p);
            if (J_UNLIKELY(!n))
                return jp_oom(P, p);
            break;
        default:
            return jp_fail_char(P, p, "expected a value");
        }

        /* Attach n to its parent (or make it the root). */
        n->src_len = (size_t)(p - (const unsigned char *)n->src); /* containers: fixed at close */
        n->depth = (uint32_t)(top + 1);
        if (top >= 0) {
            jframe *f = &P->frames[top];
            if (J_UNLIKELY(f->node->n_children == UINT32_MAX))
                return jp_fail(P, FF_ELIMIT, "too_large", p, "too many members in a container");
            if (f->last)
                f->last->next = n;
            else
                f->node->child = n;
            f->last = n;
            f->node->n_children++;
            if (f->node->type == FF_JSON_OBJECT) {
                n->key = key;
                n->key_len = key_len;
                if (J_UNLIKELY(key_bad)) {
                    n->flags |= FF_JSON_F_BAD_SURROGATE;
                    jp_mark_ancestors(P, top);
                }
            }
        } else {
            root = n;
        }
        if (J_UNLIKELY(bad)) {
            n->flags |= FF_JSON_F_BAD_SURROGATE;
            jp_mark_ancestors(P, top);
        }

        if (n->type == FF_JSON_ARRAY || n->type == FF_JSON_OBJECT) {
            if ((uint32_t)(top + 1) >= P->n_frames && !jp_grow_frames(P))
                return jp_fail(P, FF_ENOMEM, "no_memory", p, "out of memory");
            top++;
            P->frames[top].node = n;
            P->frames[top].last = NULL;
            p = skip_ws(p + 1, e);
            if (n->type == FF_JSON_ARRAY) {
                if (p < e && *p == ']')
                    goto close;
                continue; /* first element */
            }
            if (p < e && *p == '}')
                goto close;
            goto member;
        }
        goto after_value;
    }

member: /* p is at the place of a member name */
    if (J_UNLIKELY(p >= e || *p != '"'))
        return jp_fail_char(P, p, "expected a string member name");
    key_bad = false;
    p = jp_string(P, p, &key, &key_len, &key_bad);
    if (J_UNLIKELY(!p))
        return P->rc;
    p = skip_ws(p, e);
    if (J_UNLIKELY(p >= e || *p != ':'))
        return jp_fail_char(P, p, "expected ':' after a member name");
    p = skip_ws(p + 1, e);
    goto parse_value;

after_value:
    for (;;) {
        if (top < 0) {
            p = skip_ws(p, e);
            if (p != e)
                return jp_fail_char(P, p, "expected the end of the input after the document");
            *root_out = root;
            return FF_OK;
        }
        p = skip_ws(p, e);
        if (J_UNLIKELY(p >= e))
            return jp_fail_char(P, p, "expected ',' or the end of the container");
        jframe *f = &P->frames[top];
        if (*p == ',') {
            p = skip_ws(p + 1, e);
            if (f->node->type == FF_JSON_OBJECT)
                goto member;
            goto parse_value;
        }
        if (*p != (f->node->type == FF_JSON_ARRAY ? ']' : '}'))
            return jp_fail_char(P, p,
                                f->node->type == FF_JSON_ARRAY ? "expected ',' or ']'"
                                                               : "expected ',' or '}'");
        goto close;
    }

close : /* p is at the ']' or '}' closing frames[top] */
{
    ff_json *c = P->frames[top].node;
    c->src_len = (size_t)(p + 1 - (const unsigned char *)c->src);
    p++;
    top--;
    if (c->type == FF_JSON_OBJECT && c->n_children > 1) {
        int d = jp_has_dup(c);
        if (d < 0)
            return jp_fail(P, FF_ENOMEM, "no_memory", p, "out of memory");
        if (d) {
            c->flags |= FF_JSON_F_DUP_KEY;
            jp_mark_ancestors(P, top);
        }
    }
}
    goto after_value;
}

ff_rc ff_json_parse(const char *buf, size_t len, const ff_json_limits *lim, ff_arena *arena,
                    ff_json **root_out, ff_json_error *jerr)
{
    jframe local[JSON_LOCAL_FRAMES];
    jparser P;
    *root_out = NULL;
    if (jerr) {
        jerr->code = NULL;
        jerr->offset = 0;
        jerr->msg[0] = '\0';
    }
    P.buf = (const unsigned char *)(buf ? buf : "");
    P.end = P.buf + (buf ? len : 0);
    P.arena = arena;
    P.blk = 0;
    P.blk_end = 0;
    P.blk_next = len > JSON_BLOCK_MAX / 4 ? JSON_BLOCK_MAX : len * 4;
    if (P.blk_next < JSON_BLOCK_MIN)
        P.blk_next = JSON_BLOCK_MIN;
    P.jerr = jerr;
    P.rc = FF_OK;
    P.frames = local;
    P.n_frames = JSON_LOCAL_FRAMES;
    P.max_depth = lim && lim->max_depth ? lim->max_depth : FF_JSON_DEFAULT_MAX_DEPTH;
    if (P.max_depth > (1u << 30)) /* top is an int */
        P.max_depth = 1u << 30;
    P.frames_heap = false;
    ff_rc rc = jp_run(&P, root_out);
    if (P.frames_heap)
        ff_free(P.frames);
    if (rc != FF_OK)
        *root_out = NULL;
    return rc;
}

/* ---- lookups and numbers ----------------------------------------------- */

ff_json *ff_json_getn(const ff_json *obj, const char *key, size_t key_len)
{
    if (!obj || obj->type != FF_JSON_OBJECT)
        return NULL;
    for (ff_json *c = obj->child; c; c = c->next)
        if (c->key_len == key_len && (key_len == 0 || memcmp(c->key, key, key_len) == 0))
            return c;
    return NULL;
}

ff_json *ff_json_get(const ff_json *obj, const char *key)
{
    return ff_json_getn(obj, key, strlen(key));
}

bool ff_json_is_str(const ff_json *v, const char *s)
{
    if (!v || v->type != FF_JSON_STRING)
        return false;
    size_t n = strlen(s);
    return v->len == n && memcmp(v->str, s, n) == 0;
}

bool ff_json_as_i64(const ff_json *n, int64_t *out)
{
    if (!n || n->type != FF_JSON_NUMBER || n->len == 0)
        return false;
    const char *p = n->str, *e = n->str + n->len;
    bool neg = *p == '-';
    if (neg)
        p++;
    if (p == e)
        return false;
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, acc = 0;
    for (; p < e; p++) {
        if (!is_digit((unsigned char)*p))
            return false;
        unsigned d = (unsigned)(*p - '0');
        if (acc > (limit - d) / 10)
            return false;
        acc = acc * 10 + d;
    }
    if (neg)
        *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return true;
}

bool ff_json_as_double(const ff_json *n, double *out)
{
    if (!n || n->type != FF_JSON_NUMBER || n->len == 0 || !n->str)
        return false;
    char *end;
    double d = strtod(n->str, &end);
    if (end != n->str + n->len || !isfinite(d))
        return false; /* a foreign LC_NUMERIC would stop strtod early */
    *out = d;
    return true;
}

/* ---- writer ------------------------------------------------------------ */

ff_rc ff_json_write_str(ff_buf *b, const char *str, size_t len)
{
    static const char hexd[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str, *e = s + len, *run;
    if (len > SIZE_MAX - 2)
        return FF_ELIMIT;
    ff_rc rc = ff_buf_reserve(b, len + 2);
    if (rc || (rc = ff_buf_addc(b, '"')))
        return rc;
    run = s;
    while (s < e) {
        while (e - s >= 8 && !swar_special(load64(s)))
            s += 8;
        while (s < e && str_class[*s] == SC_PLAIN)
            s++;
        if (s >= e)
            break;
        char esc[8];
        size_t n_esc, adv = 1;
        unsigned c = *s;
        if (c >= 0x80) {
            size_t n = utf8_seq_len(s, e);
            if (n == 3 && c == 0xE2 && s[1] == 0x80 && (s[2] == 0xA8 || s[2] == 0xA9)) {
                memcpy(esc, s[2] == 0xA8 ? "\\u2028" : "\\u2029", 6);
                n_esc = 6;
                adv = 3;
            } else if (n) {
                s += n; /* valid: stays in the run */
                continue;
            } else {
                memcpy(esc, "\xEF\xBF\xBD", 3); /* U+FFFD for a bad byte */
                n_esc = 3;
            }
        } else {
            esc[0] = '\\';
            n_esc = 2;
            switch (c) {
            case '"':
                esc[1] = '"';
                break;
            case '\\':
                esc[1] = '\\';
                break;
            case '\b':
                esc[1] = 'b';
                break;
            case '\f':
                esc[1] = 'f';
                break;
            case '\n':
                esc[1] = 'n';
                break;
            case '\r':
                esc[1] = 'r';
                break;
            case '\t':
                esc[1] = 't';
                break;
            default:
                memcpy(esc, "\\u00", 4);
                esc[4] = hexd[c >> 4];
                esc[5] = hexd[c & 15];
                n_esc = 6;
                break;
            }
        }
        if ((rc = ff_buf_add(b, run, (size_t)(s - run))) || (rc = ff_buf_add(b, esc, n_esc)))
            return rc;
        s += adv;
        run = s;
    }
    if ((rc = ff_buf_add(b, run, (size_t)(s - run))))
        return rc;
    return ff_buf_addc(b, '"');
}

ff_rc ff_json_write_value(ff_buf *b, const ff_json *v)
{
    const ff_json *local[JSON_LOCAL_FRAMES];
    const ff_json **stack = local;
    size_t cap = JSON_LOCAL_FRAMES, top = 0; /* stack[0..top) are open containers */
    ff_rc rc = FF_OK;
    const ff_json *n = v;
    if (!v)
        return FF_EINVAL;
    for (;;) {
        if (top > 0 && stack[top - 1]->type == FF_JSON_OBJECT) {
            if ((rc = ff_json_write_str(b, n->key ? n->key : "", n->key_len)) ||
                (rc = ff_buf_addc(b, ':')))
                goto out;
        }
        switch (n->type) {
        case FF_JSON_NULL:
            rc = ff_buf_add(b, "null", 4);
            break;
        case FF_JSON_FALSE:
            rc = ff_buf_add(b, "false", 5);
            break;
        case FF_JSON_TRUE:
            rc = ff_buf_add(b, "true", 4);
            break;
        case FF_JSON_NUMBER:
            rc = n->len ? ff_buf_add(b, n->str, n->len) : ff_buf_addc(b, '0');
            break;
        case FF_JSON_STRING:
            rc = ff_json_write_str(b, n->str ? n->str : "", n->len);
            break;
        case FF_JSON_ARRAY:
        case FF_JSON_OBJECT:
            if ((rc = ff_buf_addc(b, n->type == FF_JSON_ARRAY ? '[' : '{')))
                goto out;
            if (n->child) {
                if (top == cap) {
                    const ff_json **ns;
                    if (stack == local) {
                        ns = ff_malloc(cap * 2 * sizeof *ns);
                        if (ns)
                            memcpy(ns, local, sizeof local);
                    } else {
                        ns = ff_realloc(stack, cap * 2 * sizeof *ns);
                    }
                    if (!ns) {
                        rc = FF_ENOMEM;
                        goto out;
                    }
                    stack = ns;
                    cap *= 2;
                }
                stack[top++] = n;
                n = n->child;
                continue;
            }
            rc = ff_buf_addc(b, n->type == FF_JSON_ARRAY ? ']' : '}');
            break;
        }
        if (rc)
            goto out;
        /* Move to the next sibling, closing finished containers. */
        for (;;) {
            if (top == 0)
                goto out;
            if (n->next) {
                if ((rc = ff_buf_addc(b, ',')))
                    goto out;
                n = n->next;
                break;
            }
            n = stack[--top];
            if ((rc = ff_buf_addc(b, n->type == FF_JSON_ARRAY ? ']' : '}')))
                goto out;
        }
    }
out:
    if (stack != local)
        ff_free(stack);
    return rc;
}
