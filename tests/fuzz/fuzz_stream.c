/* fuzz_stream.c -- the stream processor's parsers against arbitrary bytes.
 *
 * The first byte chooses a mode (mod 2), the rest is the input:
 *   0  the state part of a checkpoint (DATA/stream/CHECKPOINT after its fixed header, offset,
 *      event-time cursors and totals): three name tables, the second and minute window
 *      rings (of 2 slots here, not 120/60, so inputs stay small), three top-K sketches,
 *      sessions, links and active users -- in that order, as ff_stream_checkpoint writes them.
 * Whatever loads is then used: the top-K reports, windows are written as JSON, and the watermark is
 * advanced to the end of time so every loaded session ends through the deadline heap. 1  the text
 * scanners: ff_stream_json_str (top-level string of a compact JSON object) and ff_stream_url_path;
 * results must lie inside the input. Besides "no crash, no leak": loaders either succeed or report
 * FF_ECORRUPT, never read past the input (ASan), and a failed load leaves objects that free
 * cleanly.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream/ff_session.h"
#include "stream/ff_stream_int.h"
#include "stream/ff_topk.h"
#include "stream/ff_window.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_fact(void *ctx, ff_sess_fact f, int64_t ts)
{
    (void)ctx;
    (void)f;
    (void)ts;
}

static void on_derived(void *ctx, ff_sess_derived kind, const ff_sess *s, int64_t ts)
{
    (void)ts;
    (void)kind;
    if (!s->person || strlen(s->sid) > 36)
        abort();
    (*(int *)ctx)++;
}

static void mode_state(const uint8_t *p, size_t n)
{
    ff_deser d = {.p = p, .n = n};
    ff_win_tables tb;
    ff_names_init(&tb.events, FF_WIN_NAMES);
    ff_names_init(&tb.currencies, FF_WIN_KEYS);
    ff_names_init(&tb.methods, FF_WIN_KEYS);
    ff_names_load(&tb.events, &d);
    ff_names_load(&tb.currencies, &d);
    ff_names_load(&tb.methods, &d);
    ff_win_ring secs, mins;
    if (ff_win_ring_init(&secs, 2, 1000) || ff_win_ring_init(&mins, 2, 60000)) /* small rings */
        abort();
    ff_win_ring_load(&secs, &d);
    ff_win_ring_load(&mins, &d);
    ff_topk tk[3];
    for (int i = 0; i < 3; i++) {
        if (ff_topk_init(&tk[i], 100, 900000))
            abort();
        ff_topk_load(&tk[i], &d);
    }
    ff_sessions_opts so = {.gap_ms = 60000, .abandon_ms = 30000};
    ff_sessions *ss;
    if (ff_sessions_new(&so, &ss, NULL))
        abort();
    ff_sessions_load(ss, &d);
    if (d.pos > d.n)
        abort();
    /* use what loaded */
    ff_buf b;
    ff_buf_init(&b, 64u << 20);
    for (int i = 0; i < 3; i++)
        ff_topk_json(&tk[i], 10, &b);
    for (uint32_t i = 0; i < mins.n; i++) {
        ff_win *w = &mins.slot[i];
        /* indexes are bounded by the struct; names beyond a table print as "$other" */
        ff_win_json(&b, w, &tb);
        ff_buf_reset(&b);
    }
    (void)ff_sessions_active_users(ss, 30);
    int n_derived = 0;
    ff_sess_hooks h = {.ctx = &n_derived, .fact = no_fact, .derived = on_derived};
    ff_sessions_advance(ss, INT64_MAX, &h);
    ff_sessions_stats st;
    ff_sessions_stats_get(ss, &st);
    if (st.open != 0)
        abort();
    ff_buf_fini(&b);
    ff_sessions_free(ss);
    for (int i = 0; i < 3; i++)
        ff_topk_fini(&tk[i]);
    ff_win_ring_fini(&secs);
    ff_win_ring_fini(&mins);
    ff_names_fini(&tb.events);
    ff_names_fini(&tb.currencies);
    ff_names_fini(&tb.methods);
}

static void mode_text(const uint8_t *p, size_t n)
{
    const char *s = (const char *)p;
    static const char *const keys[] = {"payment_method", "$previous_id", "event_id", "a"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        size_t l = 0;
        const char *v = ff_stream_json_str(s, n, keys[k], &l);
        if (v && (v < s || v + l > s + n))
            abort();
    }
    size_t l = 0;
    const char *v = ff_stream_url_path(s, n, &l);
    if (l && !(v >= s && v + l <= s + n) && !(l == 1 && *v == '/'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] % 2 == 0)
        mode_state(data + 1, size - 1);
    else
        mode_text(data + 1, size - 1);
    return 0;
}
