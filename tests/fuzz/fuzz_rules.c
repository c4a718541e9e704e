/* fuzz_rules.c -- fuzz the alert rule parser (ff_rules_check / ff_rules_new) and the rules
 * checkpoint loader.
 *
 * For every input:
 *  - as a rule line: ff_rules_check returns FF_OK or FF_EBADINPUT (nothing else) with a
 *    non-empty message of printable ASCII; when OK, ff_rules_new with only that rule must succeed,
 * its JSON must be a valid array of one rule (or none for "NAME: off"), and a few events must run
 * through it, with the rules' state surviving save -> load byte-identically;
 *  - as a checkpoint: ff_rules_load on the raw bytes returns FF_OK or FF_ECORRUPT, never
 *    crashes, and leaves a usable (saveable) state.
 * Any violation aborts, which libFuzzer and the replay driver report.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ff_arena.h"
#include "core/ff_json.h"
#include "stream/ff_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        fprintf(stderr, "fuzz_rules: " __VA_ARGS__);                                               \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

static int n_alerts;
static void sink(void *ctx, const ff_alert_fire *f)
{
    (void)ctx;
    if (!f->rule || !f->key || !f->summary || !f->evidence_json)
        FAIL("alert with a NULL string");
    ff_arena a;
    ff_arena_init(&a, 8192, 1u << 22);
    ff_json *root = NULL;
    if (ff_json_parse(f->evidence_json, strlen(f->evidence_json), NULL, &a, &root, NULL) != FF_OK ||
        root->type != FF_JSON_OBJECT)
        FAIL("evidence is not a JSON object: %s", f->evidence_json);
    ff_arena_fini(&a);
    n_alerts++;
}

static ff_str S(const char *s)
{
    return (ff_str){s, (uint32_t)strlen(s)};
}

static void run_events(ff_rules *r)
{
    static const char *const events[] = {"payment_failed", "product_added", "e", "page"};
    for (int i = 0; i < 40; i++) {
        ff_row row;
        ff_row_clear(&row);
        row.str[FF_COL_EVENT_ID] = S("id");
        row.str[FF_COL_TYPE] = S(i % 3 ? "track" : "page");
        row.str[FF_COL_EVENT] = S(events[i % 4]);
        row.str[FF_COL_USER_ID] = S(i % 2 ? "u1" : "u2");
        row.str[FF_COL_ANONYMOUS_ID] = S("a");
        row.str[FF_COL_IP] = S("203.0.113.0");
        row.str[FF_COL_PRODUCT_ID] = S("p");
        row.str[FF_COL_PROPERTIES] = S(i % 5 ? "{\"card_fingerprint\":\"fp\",\"n\":3}" : "{");
        row.num[FF_COL_TS] = 1767225600000 + (int64_t)i * 700;
        row.num[FF_COL_QUANTITY] = i;
        row.num[FF_COL_PRICE] = 199900;
        row.null = 0;
        ff_rules_on_event(r, &row, sink, NULL);
        if (i % 10 == 9)
            ff_rules_advance(r, row.num[FF_COL_TS] + (int64_t)i * 100000, sink, NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ff_err err;
    memset(&err, 0, sizeof err);
    ff_rc rc = ff_rules_check((const char *)data, size, &err);
    if (rc != FF_OK && rc != FF_EBADINPUT)
        FAIL("check returned %d", rc);
    if (rc != FF_OK && !err.msg[0])
        FAIL("empty error message");
    for (const char *p = err.msg; rc != FF_OK && *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
            FAIL("error message with a control or non-ASCII byte: '%s'", err.msg);
    if (rc == FF_OK) {
        char *line = malloc(size + 1);
        memcpy(line, data, size);
        line[size] = 0;
        const char *rules[] = {line};
        ff_rules_cfg c = {.rules = rules, .n_rules = 1, .no_defaults = true, .max_keys = 100};
        ff_rules *r = NULL;
        if (strlen(line) != size) {
            free(line);
            return 0; /* cannot happen: NUL is rejected */
        }
        if (ff_rules_new(&c, &r, &err) != FF_OK)
            FAIL("a checked rule was refused: %s", err.msg);
        ff_buf j;
        ff_buf_init(&j, 1u << 20);
        if (ff_rules_json(r, &j, NULL) != FF_OK)
            FAIL("json failed");
        ff_arena a;
        ff_arena_init(&a, 8192, 1u << 22);
        ff_json *root = NULL;
        if (ff_json_parse(j.data, j.len, NULL, &a, &root, NULL) != FF_OK ||
            root->type != FF_JSON_ARRAY || root->n_children > 1)
            FAIL("rules json is not an array of at most one: %s", j.data);
        ff_arena_fini(&a);
        ff_buf_fini(&j);
        run_events(r);
        ff_buf s1, s2;
        ff_buf_init(&s1, 1u << 24);
        ff_buf_init(&s2, 1u << 24);
        if (ff_rules_save(r, &s1, NULL) != FF_OK)
            FAIL("save failed");
        ff_rules *r2 = NULL;
        if (ff_rules_new(&c, &r2, NULL) != FF_OK)
            FAIL("second new failed");
        if (ff_rules_load(r2, s1.data, s1.len, &err) != FF_OK)
            FAIL("own checkpoint refused: %s", err.msg);
        if (ff_rules_save(r2, &s2, NULL) != FF_OK || s1.len != s2.len ||
            memcmp(s1.data, s2.data, s1.len) != 0)
            FAIL("save -> load -> save differs");
        ff_rules_free(r2);
        ff_buf_fini(&s1);
        ff_buf_fini(&s2);
        ff_rules_free(r);
        free(line);
    }
    /* the same bytes as a checkpoint */
    ff_rules *d = NULL;
    ff_rules_cfg dc = {.max_keys = 100};
    if (ff_rules_new(&dc, &d, NULL) != FF_OK)
        FAIL("defaults refused");
    rc = ff_rules_load(d, data, size, &err);
    if (rc != FF_OK && rc != FF_ECORRUPT)
        FAIL("load returned %d", rc);
    run_events(d);
    ff_buf s;
    ff_buf_init(&s, 1u << 24);
    if (ff_rules_save(d, &s, NULL) != FF_OK)
        FAIL("save after load failed");
    ff_buf_fini(&s);
    ff_rules_free(d);
    return 0;
}
