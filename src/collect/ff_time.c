/* ff_time.c -- event time: which client timestamp to trust, and when not.
 *
 * The rule (docs/api.md, "Event time"), after the Segment common spec:
 *
 *   timestamp present   -> ts = timestamp, shifted by (received_at - sentAt)
 *                          when sentAt is known and the two differ by more
 *                          than max_clock_skew_ms (a device clock that is
 *                          wrong by hours or days: flag clock_skew_corrected)
 *   else originalTimestamp and sentAt -> ts = received_at - (sentAt - originalTimestamp)
 *   else originalTimestamp            -> ts = originalTimestamp
 *   else                              -> ts = received_at
 *
 * The field chosen decides: if it does not parse, ts = received_at and the
 * event is flagged invalid_timestamp; if it parses but the result is before
 * min_ts (2000-01-01) or more than max_future_ms ahead of received_at, ts =
 * received_at and the event is flagged timestamp_adjusted. Either way the raw
 * value is kept in the record (properties._raw_timestamp).
 *
 * Epoch numbers: |v| < 1e11 is seconds (1e11 s is the year 5138, and 1e11 ms
 * is March 1973, before any event we accept), otherwise milliseconds.
 * Fractions are allowed (1700000000.5 s). Negative values, values above 1e15
 * ms (year 33658) and non-finite values are not timestamps.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "collect/ff_collect_int.h"
#include "core/ff_clock.h"

static bool parse_epoch_text(const char *s, size_t len, int64_t *ms_out)
{
    if (len == 0 || len > 64)
        return false;
    bool plain = true; /* digits only */
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            plain = false;
    if (plain && len <= 16) {
        int64_t v = 0;
        for (size_t i = 0; i < len; i++)
            v = v * 10 + (s[i] - '0');
        if (v < 100000000000LL)
            v *= 1000;
        if (v > 1000000000000000LL)
            return false;
        *ms_out = v;
        return true;
    }
    char tmp[72];
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    char *end;
    double d = strtod(tmp, &end);
    if (end != tmp + len || !isfinite(d) || d < 0)
        return false;
    if (d < 1e11)
        d *= 1000.0;
    if (d > 1e15)
        return false;
    *ms_out = (int64_t)(d + 0.5); /* d >= 0; no libm (ff_collect does not link it) */
    return true;
}

bool ff_time_parse(const ff_json *v, int64_t *ms_out)
{
    if (!v)
        return false;
    if (v->type == FF_JSON_NUMBER)
        return parse_epoch_text(v->str, v->len, ms_out);
    if (v->type != FF_JSON_STRING || v->len == 0)
        return false;
    if (ff_clock_parse_rfc3339(v->str, v->len, ms_out))
        return true;
    /* Some SDKs send epoch milliseconds as a string: digits and one '.'. */
    size_t dots = 0;
    for (size_t i = 0; i < v->len; i++) {
        char c = v->str[i];
        if (c == '.')
            dots++;
        else if (c < '0' || c > '9')
            return false;
    }
    if (dots > 1 || v->str[0] == '.' || v->str[v->len - 1] == '.')
        return false;
    return parse_epoch_text(v->str, v->len, ms_out);
}

static const ff_json *present(const ff_json *v)
{
    return (v && v->type != FF_JSON_NULL) ? v : NULL;
}

void ff_time_resolve(const ff_time_in *in, ff_time_out *out)
{
    const int64_t rcv = in->received_at_ms;
    memset(out, 0, sizeof *out);
    const ff_json *ts_node = present(in->timestamp);
    const ff_json *orig_node = present(in->original);
    const ff_json *sent_node = present(in->sent_at);

    int64_t v;
    if (sent_node && ff_time_parse(sent_node, &v) && v >= in->min_ts_ms &&
        v <= rcv + in->max_future_ms + 366LL * 86400000) {
        out->has_sent_at = true;
        out->sent_at_ms = v;
    }
    if (orig_node && ff_time_parse(orig_node, &v)) {
        out->has_original = true;
        out->original_ms = v;
    }

    const ff_json *chosen = NULL;
    int64_t cand = rcv;
    if (ts_node) {
        chosen = ts_node;
        if (!ff_time_parse(ts_node, &cand))
            goto invalid;
        if (out->has_sent_at) {
            int64_t skew = rcv - out->sent_at_ms;
            if (skew > in->max_clock_skew_ms || skew < -in->max_clock_skew_ms) {
                cand += skew;
                out->flags |= FF_TS_SKEW;
            }
        }
    } else if (orig_node) {
        chosen = orig_node;
        if (!out->has_original)
            goto invalid;
        if (out->has_sent_at) {
            int64_t skew = rcv - out->sent_at_ms;
            cand = out->original_ms + skew;
            if (skew > in->max_clock_skew_ms || skew < -in->max_clock_skew_ms)
                out->flags |= FF_TS_SKEW;
        } else {
            cand = out->original_ms;
        }
    } else {
        out->ts_ms = rcv;
        return;
    }
    if (cand < in->min_ts_ms || cand > rcv + in->max_future_ms) {
        out->ts_ms = rcv;
        out->flags = (out->flags & ~(unsigned)FF_TS_SKEW) | FF_TS_ADJUSTED;
        out->raw = chosen;
        return;
    }
    out->ts_ms = cand;
    return;
invalid:
    out->ts_ms = rcv;
    out->flags |= FF_TS_INVALID;
    out->raw = chosen;
}
