/* fuzz_sql.c -- fuzz the SQL front end (lexer, lemon grammar, checks, printers).
 *
 * For every input:
 *  - parse it in an arena capped at 16 MiB;
 *  - on failure: no tree, a known rc and error kind, an offset inside the
 *    input, line and column that agree with the offset (recomputed here), a
 *    one-line message and a snippet ending in a caret line, all free of
 *    control characters and invalid UTF-8;
 *  - on success: dump it, print it as SQL, parse that text again (it must
 *    parse), and require the same dump; printing the second tree must give
 *    the same SQL (format is a fixed point); compute every item's column name
 *    and every call's result type (no crash);
 *  - parse again under a 4 KiB arena cap: the same dump, or arena_limit;
 *  - parse again with the 1st, 2nd and 5th allocation failing: OK with the
 *    same dump, or ENOMEM / arena_limit, never a crash or a leak;
 *  - execute it over an empty table (a query without FROM reads one row, so
 *    constant expressions, DISTINCT, IN (subquery) and the aggregates run):
 *    a result that renders as JSON, or a clean error (bad input, limit, no
 *    memory) with a message, under a 16 MiB cap and a 1 s timeout.
 * Any violation aborts, which libFuzzer and the replay driver report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_mem.h"
#include "sql/ff_sql.h"
#include "sql/ff_sql_exec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_sql: " __VA_ARGS__);                                                 \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

static const char *const KINDS[] = {"too_long",
                                    "bad_char",
                                    "bad_number",
                                    "bad_string",
                                    "unterminated_string",
                                    "unterminated_identifier",
                                    "unterminated_comment",
                                    "bad_identifier",
                                    "syntax",
                                    "too_deep",
                                    "unknown_function",
                                    "wrong_arity",
                                    "bad_parameters",
                                    "bad_argument",
                                    "nested_aggregate",
                                    "aggregate_not_allowed",
                                    "unknown_table",
                                    "bad_position",
                                    "bad_interval",
                                    "duplicate_alias",
                                    "unknown_format",
                                    "arena_limit",
                                    "no_memory"};

/* Valid UTF-8 without control characters (tab and newline allowed when nl). */
static int clean_text(const char *s, int nl)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        if (c < 0x20 || c == 0x7f) {
            if (!(nl && (c == '\n' || c == '\t')))
                return 0;
            p++;
            continue;
        }
        int k = c < 0x80             ? 0
                : (c & 0xE0) == 0xC0 ? 1
                : (c & 0xF0) == 0xE0 ? 2
                : (c & 0xF8) == 0xF0 ? 3
                                     : -1;
        if (k < 0)
            return 0;
        for (int j = 1; j <= k; j++)
            if ((p[j] & 0xC0) != 0x80)
                return 0;
        p += k + 1;
    }
    return 1;
}

static void check_error(const ff_sql_error *e, ff_rc rc, const ff_sql_stmt *st, const char *in,
                        size_t size)
{
    if (st)
        FAIL("tree returned with an error");
    if (rc != FF_EBADINPUT && rc != FF_ELIMIT && rc != FF_ENOMEM)
        FAIL("unexpected rc %d", rc);
    if (e->code != rc)
        FAIL("err.code %d differs from rc %d", e->code, rc);
    int known = 0;
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        known |= e->kind && strcmp(e->kind, KINDS[i]) == 0;
    if (!known)
        FAIL("unknown error kind %s", e->kind ? e->kind : "(null)");
    if (e->offset > size)
        FAIL("error offset %u past the input (%zu)", e->offset, size);
    /* Columns count characters: between the lead bytes and all bytes. */
    uint32_t line = 1, lo = 1, hi = 1;
    for (size_t i = 0; i < e->offset; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '\n') {
            line++;
            lo = hi = 1;
        } else {
            hi++;
            lo += (c & 0xC0) != 0x80;
        }
    }
    if (e->line != line)
        FAIL("line %u, recomputed %u", e->line, line);
    if (e->column < lo || e->column > hi)
        FAIL("column %u outside [%u, %u]", e->column, lo, hi);
    if (!e->msg[0] || !clean_text(e->msg, 0))
        FAIL("empty or unclean message");
    if (!clean_text(e->snippet, 1))
        FAIL("unclean snippet");
    size_t sl = strlen(e->snippet);
    if (sl < 2 || e->snippet[sl - 1] != '^' || !strchr(e->snippet, '\n'))
        FAIL("snippet does not end with a caret line: %s", e->snippet);
}

static void check_types(const ff_sql_node *n, ff_sql_type *out);

static void check_types_sel(const ff_sql_select *s)
{
    ff_sql_type t;
    for (uint32_t i = 0; i < s->n_items; i++)
        check_types(s->items[i].expr, &t);
    if (s->where)
        check_types(s->where, &t);
    if (s->having)
        check_types(s->having, &t);
    if (s->from_sub)
        check_types_sel(s->from_sub);
}

/* Bottom-up result types with unknown columns: must not crash. */
static void check_types(const ff_sql_node *n, ff_sql_type *out)
{
    memset(out, 0, sizeof *out);
    if (n->kind == FF_SQL_N_SUBQUERY) {
        check_types_sel(n->v.sub);
        return;
    }
    if (n->kind != FF_SQL_N_CALL) {
        *out = ff_sql_literal_type(n);
        return;
    }
    ff_sql_type args[8];
    uint32_t k = n->n_args < 8 ? n->n_args : 8;
    for (uint32_t i = 0; i < n->n_args; i++) {
        ff_sql_type t;
        check_types(ff_sql_call_arg(n, i), &t);
        if (i < k)
            args[i] = t;
    }
    *out = ff_sql_func_result_type((ff_sql_func_id)n->func, n->flags, args, k);
    ff_buf b;
    ff_buf_init(&b, 1024);
    if (ff_sql_type_name(*out, &b) != FF_OK)
        FAIL("type name failed");
    ff_buf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    ff_arena a1, a2, a3;
    ff_buf d1, d2, f1, f2, tmp;
    ff_sql_stmt *s1 = NULL, *s2 = NULL, *s3 = NULL;
    ff_sql_error e;
    ff_arena_init(&a1, 16 * 1024, 16u << 20);
    ff_arena_init(&a2, 16 * 1024, 64u << 20);
    ff_arena_init(&a3, 1024, 4096);
    ff_buf_init(&d1, 64u << 20);
    ff_buf_init(&d2, 64u << 20);
    ff_buf_init(&f1, 64u << 20);
    ff_buf_init(&f2, 64u << 20);
    ff_buf_init(&tmp, 1u << 20);

    ff_rc rc = ff_sql_parse(in, size, &a1, &s1, &e);
    if (rc != FF_OK) {
        check_error(&e, rc, s1, in, size);
        goto out;
    }
    if (!s1 || !s1->select || e.code != FF_OK)
        FAIL("success without a tree, or with an error recorded");
    if (ff_sql_dump(s1, &d1) != FF_OK || ff_sql_format(s1, &f1) != FF_OK)
        FAIL("dump or format failed");
    for (uint32_t i = 0; i < s1->select->n_items; i++) {
        ff_buf_reset(&tmp);
        if (ff_sql_column_name(s1->select->items[i].expr, &tmp) != FF_OK)
            FAIL("column name failed");
    }
    check_types_sel(s1->select);

    /* The printed SQL parses back to the same tree. */
    if (f1.len <= FF_SQL_MAX_QUERY_BYTES) {
        rc = ff_sql_parse(f1.data, f1.len, &a2, &s2, &e);
        if (rc != FF_OK)
            FAIL("formatted query does not parse: %s at %u: %s\n%s", e.kind, e.offset, e.msg,
                 f1.data);
        if (ff_sql_dump(s2, &d2) != FF_OK || ff_sql_format(s2, &f2) != FF_OK)
            FAIL("second dump failed");
        if (d1.len != d2.len || memcmp(d1.data, d2.data, d1.len) != 0)
            FAIL("round trip changed the tree:\n%s\n%s", d1.data, d2.data);
        if (f1.len != f2.len || memcmp(f1.data, f2.data, f1.len) != 0)
            FAIL("format is not a fixed point:\n%s\n%s", f1.data, f2.data);
    }

    /* A small arena: the same tree or arena_limit. */
    rc = ff_sql_parse(in, size, &a3, &s3, &e);
    if (rc == FF_OK) {
        ff_buf_reset(&d2);
        if (ff_sql_dump(s3, &d2) != FF_OK || d1.len != d2.len || memcmp(d1.data, d2.data, d1.len))
            FAIL("small arena gives a different tree");
    } else if (rc != FF_ELIMIT || strcmp(e.kind, "arena_limit") != 0 || s3) {
        FAIL("small arena: rc %d kind %s", rc, e.kind);
    }

    /* Failing allocations. */
    static const long nth[] = {1, 2, 5};
    for (size_t i = 0; i < sizeof nth / sizeof nth[0]; i++) {
        ff_arena_fini(&a2);
        ff_arena_init(&a2, 1024, 64u << 20);
        ff_mem_fail_after(nth[i]);
        rc = ff_sql_parse(in, size, &a2, &s3, &e);
        ff_mem_fail_after(0);
        if (rc == FF_OK) {
            ff_buf_reset(&d2);
            if (ff_sql_dump(s3, &d2) != FF_OK || d1.len != d2.len ||
                memcmp(d1.data, d2.data, d1.len))
                FAIL("a tree after a failed allocation differs");
        } else if (rc != FF_ENOMEM || strcmp(e.kind, "no_memory") != 0 || s3) {
            FAIL("failed allocation %ld: rc %d kind %s", nth[i], rc, e.kind);
        }
    }

    /* Execute over an empty table. */
    {
        ff_table_snapshot empty;
        memset(&empty, 0, sizeof empty);
        ff_sql_exec_opts eo = {.mem_cap = 16u << 20, .timeout_ms = 1000, .now_ms = 1709251200000};
        ff_sql_result *res = NULL;
        ff_sql_error xe;
        memset(&xe, 0, sizeof xe);
        rc = ff_sql_query(in, size, &empty, &eo, &res, &xe);
        if (rc == FF_OK) {
            ff_buf_reset(&d2);
            if (!res || ff_sql_result_write(res, "json", &d2) != FF_OK)
                FAIL("exec: no result, or it does not render");
        } else if (res || !xe.msg[0] ||
                   (rc != FF_EBADINPUT && rc != FF_ELIMIT && rc != FF_ENOMEM)) {
            FAIL("exec: rc %d kind %s msg %s", rc, xe.kind ? xe.kind : "?", xe.msg);
        }
        ff_sql_result_free(res);
    }

out:
    ff_buf_fini(&d1);
    ff_buf_fini(&d2);
    ff_buf_fini(&f1);
    ff_buf_fini(&f2);
    ff_buf_fini(&tmp);
    ff_arena_fini(&a1);
    ff_arena_fini(&a2);
    ff_arena_fini(&a3);
    return 0;
}
