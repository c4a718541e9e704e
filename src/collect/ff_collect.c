/* ff_collect.c -- the entry point: request-level checks, the batch and
 * single-call shapes, dedupe settlement and the counters. The per-event work
 * is in ff_decode.c; the design is described in ff_collect.h.
 */
#include "collect/ff_collect.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/ff_collect_int.h"
#include "core/ff_clock.h"
#include "core/ff_mem.h"

/* Buffers bigger than this are freed rather than kept for the next request. */
#define FF_COLLECT_KEEP_BYTES (4u * 1024 * 1024)

const char *const ff_reason_names[FF_R__N] = {
    [FF_R_INVALID_EVENT] = "invalid_event",
    [FF_R_EVENT_TOO_LARGE] = "event_too_large",
    [FF_R_DUPLICATE_KEY] = "duplicate_key",
    [FF_R_INVALID_STRING] = "invalid_string",
    [FF_R_MISSING_TYPE] = "missing_field:type",
    [FF_R_INVALID_TYPE] = "invalid_type",
    [FF_R_MISSING_EVENT] = "missing_field:event",
    [FF_R_INVALID_TYPE_EVENT] = "invalid_type:event",
    [FF_R_NAME_TOO_LONG] = "name_too_long",
    [FF_R_INVALID_NAME] = "invalid_name",
    [FF_R_MISSING_IDENTITY] = "missing_identity",
    [FF_R_INVALID_IDENTITY] = "invalid_identity",
    [FF_R_INVALID_EVENT_ID] = "invalid_event_id",
    [FF_R_MISSING_GROUP_ID] = "missing_field:groupId",
    [FF_R_MISSING_PREVIOUS_ID] = "missing_field:previousId",
    [FF_R_INVALID_TYPE_PROPERTIES] = "invalid_type:properties",
    [FF_R_INVALID_TYPE_TRAITS] = "invalid_type:traits",
    [FF_R_INVALID_TYPE_CONTEXT] = "invalid_type:context",
    [FF_R_TOO_MANY_PROPERTIES] = "too_many_properties",
    [FF_R_PROPS_TOO_DEEP] = "props_too_deep",
    [FF_R_ARRAY_TOO_LONG] = "array_too_long",
    [FF_R_NUMBER_OUT_OF_RANGE] = "number_out_of_range",
    [FF_R_INVALID_AMOUNT] = "invalid_amount",
    [FF_R_AMOUNT_OUT_OF_RANGE] = "amount_out_of_range",
    [FF_R_INVALID_CURRENCY] = "invalid_currency",
    [FF_R_KEY_CARDINALITY_CAP] = "key_cardinality_cap",
};

const char *const ff_drop_names[FF_D__N] = {
    [FF_D_BOT] = "bot",
    [FF_D_SPAM_REFERRER] = "spam_referrer",
};

const char *const ff_flag_names[FF_F__N] = {
    [FF_F_TIMESTAMP_ADJUSTED] = "timestamp_adjusted",
    [FF_F_INVALID_TIMESTAMP] = "invalid_timestamp",
    [FF_F_CLOCK_SKEW_CORRECTED] = "clock_skew_corrected",
    [FF_F_LOSSY_NUMBER] = "lossy_number",
    [FF_F_NUMERIC_STRING] = "numeric_string",
    [FF_F_AMOUNT_ROUNDED] = "amount_rounded",
    [FF_F_NO_CURRENCY] = "no_currency",
    [FF_F_SUSPICIOUS_UNICODE] = "suspicious_unicode",
    [FF_F_INVALID_URL] = "invalid_url",
    [FF_F_NO_EVENT_ID] = "no_event_id",
    [FF_F_INVALID_QUANTITY] = "invalid_quantity",
    [FF_F_REDACTED] = "redacted",
};

const char *const ff_scrub_names[FF_S__N] = {
    [FF_S_PASSWORD_FIELD] = "password_field",
    [FF_S_CARD_NUMBER] = "card_number",
    [FF_S_IP] = "ip",
};

const char *const ff_reqcode_names[FF_Q__N] = {
    [FF_Q_UNSUPPORTED_MEDIA_TYPE] = "unsupported_media_type",
    [FF_Q_UNSUPPORTED_ENCODING] = "unsupported_encoding",
    [FF_Q_EMPTY_BODY] = "empty_body",
    [FF_Q_INVALID_GZIP] = "invalid_gzip",
    [FF_Q_BODY_TOO_LARGE] = "body_too_large",
    [FF_Q_TOO_COMPLEX] = "too_complex",
    [FF_Q_INVALID_JSON] = "invalid_json",
    [FF_Q_INVALID_UTF8] = "invalid_utf8",
    [FF_Q_TOO_DEEP] = "too_deep",
    [FF_Q_INVALID_JSON_ROOT] = "invalid_json_root",
    [FF_Q_DUPLICATE_KEY] = "duplicate_key",
    [FF_Q_INVALID_BATCH] = "invalid_batch",
    [FF_Q_EMPTY_BATCH] = "empty_batch",
    [FF_Q_TOO_MANY_EVENTS] = "too_many_events",
    [FF_Q_BATCH_TOO_LARGE] = "batch_too_large",
};

static const int reqcode_status[FF_Q__N] = {
    [FF_Q_UNSUPPORTED_MEDIA_TYPE] = 415,
    [FF_Q_UNSUPPORTED_ENCODING] = 415,
    [FF_Q_EMPTY_BODY] = 400,
    [FF_Q_INVALID_GZIP] = 400,
    [FF_Q_BODY_TOO_LARGE] = 413,
    [FF_Q_TOO_COMPLEX] = 413,
    [FF_Q_INVALID_JSON] = 400,
    [FF_Q_INVALID_UTF8] = 400,
    [FF_Q_TOO_DEEP] = 400,
    [FF_Q_INVALID_JSON_ROOT] = 400,
    [FF_Q_DUPLICATE_KEY] = 400,
    [FF_Q_INVALID_BATCH] = 400,
    [FF_Q_EMPTY_BATCH] = 400,
    [FF_Q_TOO_MANY_EVENTS] = 413,
    [FF_Q_BATCH_TOO_LARGE] = 413,
};

void ff_collect_opts_default(ff_collect_opts *o)
{
    memset(o, 0, sizeof *o);
    o->max_body_bytes = 1024 * 1024;
    o->max_batch_bytes = 500 * 1000;
    o->max_event_bytes = 32 * 1024;
    o->max_batch_events = 500;
    o->max_json_depth = 64;
    o->max_properties = 256;
    o->max_prop_depth = 5;
    o->max_array_items = 100;
    o->max_name_bytes = 200;
    o->max_id_bytes = 200;
    o->max_url_bytes = 2000;
    o->key_cardinality_cap = 10000;
    o->ip_mode = FF_COLLECT_IP_TRUNCATE;
    o->max_future_ms = 23LL * 3600 * 1000;
    o->min_ts_ms = 946684800000LL; /* 2000-01-01T00:00:00Z */
    o->max_clock_skew_ms = 3600LL * 1000;
    o->dedupe_window_ms = 24LL * 3600 * 1000;
    o->dedupe_capacity = 2000000;
    o->dedupe_wait_ms = 5000;
}

ff_rc ff_collect_new(const ff_collect_opts *user, ff_collect **out, ff_err *err)
{
    *out = NULL;
    ff_collect_opts d;
    ff_collect_opts_default(&d);
    ff_collect_opts o = user ? *user : d;
#define DEF(f)                                                                                     \
    if (!o.f)                                                                                      \
    o.f = d.f
    DEF(max_body_bytes);
    DEF(max_batch_bytes);
    DEF(max_event_bytes);
    DEF(max_batch_events);
    DEF(max_json_depth);
    DEF(max_properties);
    DEF(max_prop_depth);
    DEF(max_array_items);
    DEF(max_name_bytes);
    DEF(max_id_bytes);
    DEF(max_url_bytes);
    DEF(key_cardinality_cap);
    DEF(max_future_ms);
    DEF(min_ts_ms);
    DEF(max_clock_skew_ms);
    DEF(dedupe_window_ms);
    DEF(dedupe_capacity);
    DEF(dedupe_wait_ms);
#undef DEF
    if (o.max_body_bytes > 256u * 1024 * 1024 || o.max_event_bytes > o.max_body_bytes ||
        o.max_batch_events > 100000 || o.max_json_depth > 1024 || o.max_future_ms < 0 ||
        o.max_clock_skew_ms < 0 || o.dedupe_window_ms < 1000 ||
        (o.ip_mode != FF_COLLECT_IP_TRUNCATE && o.ip_mode != FF_COLLECT_IP_DROP))
        return FF_ERR_SET(err, FF_EINVAL, "collect: option out of range");
    ff_collect *c = ff_calloc(1, sizeof *c);
    if (!c)
        return FF_ERR_SET(err, FF_ENOMEM, "collect: out of memory");
    c->o = o;
    ff_collect_random_seed(c->seed);
    c->dedupe = ff_dedupe_new(o.dedupe_capacity, o.dedupe_window_ms);
    c->keys = ff_keyset_new(o.key_cardinality_cap);
    if (!c->dedupe || !c->keys) {
        ff_collect_free(c);
        return FF_ERR_SET(err, FF_ENOMEM, "collect: out of memory for the dedupe window (%u ids)",
                          o.dedupe_capacity);
    }
    atomic_init(&c->rng_counter, 0);
    atomic_init(&c->owner_seq, 0);
    *out = c;
    return FF_OK;
}

void ff_collect_free(ff_collect *c)
{
    if (!c)
        return;
    ff_dedupe_free(c->dedupe);
    ff_keyset_free(c->keys);
    ff_free(c);
}

/* ---- request-level checks ------------------------------------------------- */

static bool ieq(const char *a, size_t an, const char *lit)
{
    size_t n = strlen(lit);
    if (an != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char x = a[i];
        if (x >= 'A' && x <= 'Z')
            x = (char)(x + 32);
        if (x != lit[i])
            return false;
    }
    return true;
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* application/json or text/plain, charset absent or UTF-8 (RFC 9110 8.3). */
static bool content_type_ok(const char *ct)
{
    if (!ct)
        return false;
    const char *semi = strchr(ct, ';');
    const char *mt = ct;
    size_t mn = semi ? (size_t)(semi - ct) : strlen(ct);
    trim(&mt, &mn);
    if (!ieq(mt, mn, "application/json") && !ieq(mt, mn, "text/plain"))
        return false;
    while (semi) {
        const char *p = semi + 1;
        semi = strchr(p, ';');
        size_t pn = semi ? (size_t)(semi - p) : strlen(p);
        const char *eq = memchr(p, '=', pn);
        if (!eq)
            continue;
        const char *name = p, *val = eq + 1;
        size_t nn = (size_t)(eq - p), vn = pn - nn - 1;
        trim(&name, &nn);
        trim(&val, &vn);
        if (!ieq(name, nn, "charset"))
            continue;
        if (vn >= 2 && val[0] == '"' && val[vn - 1] == '"') {
            val++;
            vn -= 2;
        }
        if (!ieq(val, vn, "utf-8") && !ieq(val, vn, "utf8"))
            return false;
    }
    return true;
}

/* 0 = identity, 1 = gzip, -1 = unsupported */
static int content_encoding(const char *ce)
{
    if (!ce)
        return 0;
    size_t n = strlen(ce);
    trim(&ce, &n);
    if (n == 0 || ieq(ce, n, "identity"))
        return 0;
    if (ieq(ce, n, "gzip") || ieq(ce, n, "x-gzip"))
        return 1;
    return -1;
}

static void fail(ff_collect *c, ff_collect_out *out, ff_reqcode q, const char *msg)
{
    out->status = reqcode_status[q];
    out->code = ff_reqcode_names[q];
    out->message = msg;
    atomic_fetch_add_explicit(&c->n.req_rejected[q], 1, memory_order_relaxed);
}

static ff_reqcode json_code(const char *code)
{
    if (code && strcmp(code, "invalid_utf8") == 0)
        return FF_Q_INVALID_UTF8;
    if (code && strcmp(code, "too_deep") == 0)
        return FF_Q_TOO_DEEP;
    if (code && strcmp(code, "empty_body") == 0)
        return FF_Q_EMPTY_BODY;
    return FF_Q_INVALID_JSON;
}

ff_rc ff_collect_decode(ff_collect *c, const ff_collect_req *req, ff_arena *arena,
                        ff_collect_out *out)
{
    const ff_collect_opts *o = &c->o;
    struct ff_collect_priv *p = out->priv;
    if (p && !p->finished)
        ff_collect_finish(c, out, false); /* a caller that skipped finish: release */
    if (!p) {
        p = ff_calloc(1, sizeof *p);
        if (!p)
            return FF_ENOMEM;
        out->priv = p;
    }
    /* Reuse the buffers of a previous request (no malloc per request), but
     * give back memory a huge request left behind. */
    ff_buf keep_payload = out->payload, keep_rejected = out->rejected;
    if (keep_payload.cap > FF_COLLECT_KEEP_BYTES)
        ff_buf_fini(&keep_payload);
    if (p->deferred.cap > FF_COLLECT_KEEP_BYTES)
        ff_buf_fini(&p->deferred);
    memset(out, 0, sizeof *out);
    out->priv = p;
    out->payload = keep_payload;
    out->rejected = keep_rejected;
    ff_buf_reset(&out->payload);
    ff_buf_reset(&out->rejected);
    ff_buf_reset(&p->deferred);
    out->rejected.max = 64 + (size_t)o->max_batch_events * 64;
    out->payload.max = 1; /* the real cap is set below, once the batch size is known */
    out->code = "";
    out->message = "";
    p->c = c;
    p->finished = false;
    p->n_resv = p->n_deferred = p->wait_timeouts = p->races = 0;
    memset(p->rejected, 0, sizeof p->rejected);
    memset(p->dropped, 0, sizeof p->dropped);
    memset(p->flags, 0, sizeof p->flags);
    memset(p->scrub, 0, sizeof p->scrub);
    ff_rc rc = ff_buf_addc(&out->rejected, '[');
    if (rc)
        return rc;
    atomic_fetch_add_explicit(&c->n.bytes_received, req->body_len, memory_order_relaxed);

    if (!content_type_ok(req->content_type)) {
        fail(c, out, FF_Q_UNSUPPORTED_MEDIA_TYPE,
             "Content-Type must be application/json or text/plain, charset UTF-8");
        goto done;
    }
    int enc = content_encoding(req->content_encoding);
    if (enc < 0) {
        fail(c, out, FF_Q_UNSUPPORTED_ENCODING, "Content-Encoding must be gzip or identity");
        goto done;
    }
    const char *body = req->body;
    size_t len = req->body_len;
    if (len == 0) {
        fail(c, out, FF_Q_EMPTY_BODY, "the request body is empty");
        goto done;
    }
    /* gzip by header, or by magic bytes when no header says so (PostHog rule) */
    if (enc == 1 ||
        (enc == 0 && !req->content_encoding && len >= 3 && (unsigned char)body[0] == 0x1f &&
         (unsigned char)body[1] == 0x8b && (unsigned char)body[2] == 0x08)) {
        char *inflated;
        size_t ilen;
        switch (ff_inflate_gzip(body, len, o->max_body_bytes, arena, &inflated, &ilen)) {
        case FF_INFLATE_OK:
            break;
        case FF_INFLATE_TOO_LARGE:
            fail(c, out, FF_Q_BODY_TOO_LARGE, "the body inflates to more than the limit");
            goto done;
        case FF_INFLATE_CORRUPT:
            fail(c, out, FF_Q_INVALID_GZIP, "the gzip stream is corrupt or truncated");
            goto done;
        case FF_INFLATE_NOMEM:
            if (arena->over_cap) {
                fail(c, out, FF_Q_TOO_COMPLEX, "the request needs more memory than allowed");
                goto done;
            }
            return FF_ENOMEM;
        }
        atomic_fetch_add_explicit(&c->n.bytes_inflated, ilen, memory_order_relaxed);
        body = inflated;
        len = ilen;
        if (len == 0) {
            fail(c, out, FF_Q_EMPTY_BODY, "the request body is empty");
            goto done;
        }
    } else if (len > o->max_body_bytes) {
        fail(c, out, FF_Q_BODY_TOO_LARGE, "the body is larger than the limit");
        goto done;
    }

    ff_json_limits lim = {o->max_json_depth};
    ff_json *root = NULL;
    ff_json_error jerr;
    rc = ff_json_parse(body, len, &lim, arena, &root, &jerr);
    if (rc == FF_ENOMEM && !arena->over_cap)
        return FF_ENOMEM;
    if (rc == FF_ELIMIT || (rc == FF_ENOMEM && arena->over_cap)) {
        fail(c, out, FF_Q_TOO_COMPLEX, "the request needs more memory than allowed");
        goto done;
    }
    if (rc != FF_OK) {
        fail(c, out, json_code(jerr.code), "the body is not valid JSON");
        goto done;
    }
    if (root->type != FF_JSON_OBJECT) {
        fail(c, out, FF_Q_INVALID_JSON_ROOT, "the body must be a JSON object");
        goto done;
    }

    ff_decode_req r;
    memset(&r, 0, sizeof r);
    r.c = c;
    r.req = req;
    r.out = out;
    r.p = p;
    r.rng = ff_collect_mix64(c->seed[1] ^
                             atomic_fetch_add_explicit(&c->rng_counter, 1, memory_order_relaxed));
    r.deadline_mono_ns = ff_clock_mono_ns() + (uint64_t)o->dedupe_wait_ms * 1000000u;
    p->owner = atomic_fetch_add_explicit(&c->owner_seq, 1, memory_order_relaxed) + 1;
    if (p->owner == 0)
        p->owner = atomic_fetch_add_explicit(&c->owner_seq, 1, memory_order_relaxed) + 1;

    const ff_json *wk = NULL, *batch = NULL;
    const ff_json *items = NULL;
    uint32_t n = 1;
    for (const ff_json *m = root->child; m; m = m->next) {
        if (m->key_len == 8 && memcmp(m->key, "writeKey", 8) == 0)
            wk = m;
        else if (req->call == FF_CALL_BATCH && m->key_len == 5 && memcmp(m->key, "batch", 5) == 0)
            batch = m;
        else if (req->call == FF_CALL_BATCH && m->key_len == 7 &&
                 memcmp(m->key, "context", 7) == 0 && m->type == FF_JSON_OBJECT)
            r.env_context = m;
        else if (req->call == FF_CALL_BATCH && m->key_len == 6 && memcmp(m->key, "sentAt", 6) == 0)
            r.env_sent_at = m;
    }
    if (req->call == FF_CALL_BATCH) {
        if (root->flags & FF_JSON_F_DUP_KEY) {
            fail(c, out, FF_Q_DUPLICATE_KEY, "the batch envelope has a duplicate key");
            goto done;
        }
        if (!batch || batch->type != FF_JSON_ARRAY) {
            fail(c, out, FF_Q_INVALID_BATCH, "the body needs a \"batch\" array");
            goto done;
        }
        if (batch->n_children == 0) {
            fail(c, out, FF_Q_EMPTY_BATCH, "the batch is empty");
            goto done;
        }
        if (batch->n_children > o->max_batch_events) {
            fail(c, out, FF_Q_TOO_MANY_EVENTS, "the batch has more events than the limit");
            goto done;
        }
        size_t total = 0;
        for (const ff_json *it = batch->child; it; it = it->next)
            if (it->src_len <= o->max_event_bytes) /* oversize ones are rejected alone */
                total += it->src_len;
        if (total > o->max_batch_bytes) {
            fail(c, out, FF_Q_BATCH_TOO_LARGE, "the batch's events are larger than the limit");
            goto done;
        }
        n = batch->n_children;
        items = batch->child;
    } else {
        items = root;
    }
    if (wk && wk->type == FF_JSON_STRING && !(root->flags & FF_JSON_F_DUP_KEY)) {
        out->write_key = wk->str;
        out->write_key_len = wk->len;
    }
    out->n_events = n;
    ff_decode_scan_ctx(r.env_context, &r.env);

    /* Bounds: every record is at most about twice its source (escapes) plus
     * the fixed columns; merged envelope context counts per event. */
    size_t env = r.env_context ? r.env_context->src_len : 0;
    size_t cap = 2 * (len + (size_t)n * env) + (size_t)n * 2048 + 4096;
    if (cap > (size_t)64 * 1024 * 1024)
        cap = (size_t)64 * 1024 * 1024;
    out->payload.max = cap;
    p->deferred.max = cap;
    if (p->cap_items < n) {
        ff_free(p->resv);
        ff_free(p->deferred_items);
        p->resv = ff_malloc(sizeof *p->resv * n);
        p->deferred_items = ff_malloc(sizeof *p->deferred_items * n);
        p->cap_items = (p->resv && p->deferred_items) ? n : 0;
        if (!p->cap_items)
            return FF_ENOMEM;
    }
    rc = ff_buf_reserve(&out->payload, len + (size_t)n * 256 < cap ? len + (size_t)n * 256 : cap);
    if (rc == FF_ENOMEM)
        return rc;

    uint32_t i = 0;
    for (const ff_json *it = items; it && i < n; it = it->next, i++) {
        rc = ff_decode_event(&r, it, i);
        if (rc != FF_OK)
            return rc;
        if (req->call != FF_CALL_BATCH)
            break;
    }
    if (p->n_deferred) {
        rc = ff_decode_resolve_deferred(&r);
        if (rc != FF_OK)
            return rc;
    }
done:
    rc = ff_buf_addc(&out->rejected, ']');
    if (rc)
        return rc;
    return FF_OK;
}

void ff_collect_finish(ff_collect *c, ff_collect_out *out, bool appended_ok)
{
    struct ff_collect_priv *p = out->priv;
    if (!p || p->finished)
        return;
    p->finished = true;
    if (out->status != 0)
        return;
    ff_collect_counters *n = &c->n;
    if (!appended_ok && out->n_records > 0) {
        for (uint32_t i = 0; i < p->n_resv; i++)
            ff_dedupe_release(c->dedupe, &p->resv[i], p->owner);
        atomic_fetch_add_explicit(&n->appends_failed, 1, memory_order_relaxed);
        return;
    }
    for (uint32_t i = 0; i < p->n_resv; i++)
        ff_dedupe_commit(c->dedupe, &p->resv[i], p->owner);
    atomic_fetch_add_explicit(&n->requests_ok, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&n->accepted, out->n_records, memory_order_relaxed);
    for (int i = 0; i < FF_R__N; i++)
        if (p->rejected[i])
            atomic_fetch_add_explicit(&n->rejected[i], p->rejected[i], memory_order_relaxed);
    for (int i = 0; i < FF_D__N; i++)
        if (p->dropped[i])
            atomic_fetch_add_explicit(&n->dropped[i], p->dropped[i], memory_order_relaxed);
    for (int i = 0; i < FF_F__N; i++)
        if (p->flags[i])
            atomic_fetch_add_explicit(&n->flags[i], p->flags[i], memory_order_relaxed);
    for (int i = 0; i < FF_S__N; i++)
        if (p->scrub[i])
            atomic_fetch_add_explicit(&n->scrubbed[i], p->scrub[i], memory_order_relaxed);
    if (out->n_duplicates)
        atomic_fetch_add_explicit(&n->duplicates, out->n_duplicates, memory_order_relaxed);
    if (out->n_conflicts)
        atomic_fetch_add_explicit(&n->conflicts, out->n_conflicts, memory_order_relaxed);
    if (p->wait_timeouts)
        atomic_fetch_add_explicit(&n->wait_timeouts, p->wait_timeouts, memory_order_relaxed);
    if (p->races)
        atomic_fetch_add_explicit(&n->races, p->races, memory_order_relaxed);
}

void ff_collect_out_init(ff_collect_out *out)
{
    memset(out, 0, sizeof *out);
    out->code = "";
    out->message = "";
    ff_buf_init(&out->payload, 1);
    ff_buf_init(&out->rejected, 1);
}

void ff_collect_out_fini(ff_collect *c, ff_collect_out *out)
{
    struct ff_collect_priv *p = out->priv;
    if (p) {
        if (!p->finished)
            ff_collect_finish(c, out, false);
        ff_free(p->resv);
        ff_free(p->deferred_items);
        ff_buf_fini(&p->deferred);
        ff_free(p);
        out->priv = NULL;
    }
    ff_buf_fini(&out->payload);
    ff_buf_fini(&out->rejected);
}

/* ---- dedupe refill -------------------------------------------------------- */

/* Read a JSON string starting after its opening quote into dst (decoding the
 * escapes a record can hold). Returns the position after the closing quote. */
static const char *read_str(const char *p, const char *e, char *dst, size_t cap, size_t *n)
{
    size_t o = 0;
    while (p < e && *p != '"') {
        char ch = *p++;
        if (ch == '\\') {
            if (p >= e)
                return NULL;
            char x = *p++;
            switch (x) {
            case 'n':
                ch = '\n';
                break;
            case 't':
                ch = '\t';
                break;
            case 'r':
                ch = '\r';
                break;
            case 'b':
                ch = '\b';
                break;
            case 'f':
                ch = '\f';
                break;
            case 'u': {
                /* ids have no control characters; \u2028/\u2029 are 3 bytes */
                if (e - p < 4)
                    return NULL;
                unsigned v = 0;
                for (int k = 0; k < 4; k++) {
                    char h = p[k];
                    v = v * 16 + (unsigned)(h >= 'a'   ? h - 'a' + 10
                                            : h >= 'A' ? h - 'A' + 10
                                                       : h - '0');
                }
                p += 4;
                if (v < 0x80) {
                    ch = (char)v;
                } else if (v < 0x800) {
                    if (o + 2 > cap)
                        return NULL;
                    dst[o++] = (char)(0xC0 | (v >> 6));
                    ch = (char)(0x80 | (v & 0x3F));
                } else {
                    if (o + 3 > cap)
                        return NULL;
                    dst[o++] = (char)(0xE0 | (v >> 12));
                    dst[o++] = (char)(0x80 | ((v >> 6) & 0x3F));
                    ch = (char)(0x80 | (v & 0x3F));
                }
                break;
            }
            default:
                ch = x; /* \" \\ \/ */
            }
        }
        if (o >= cap)
            return NULL;
        dst[o++] = ch;
    }
    if (p >= e)
        return NULL;
    *n = o;
    return p + 1;
}

ff_rc ff_collect_seed_dedupe(ff_collect *c, const char *rec, size_t len)
{
    const char *e = rec + len;
    static const char lead[] = "{\"v\":1,\"event_id\":\"";
    if (len < sizeof lead || memcmp(rec, lead, sizeof lead - 1) != 0)
        return FF_EBADINPUT;
    char id[512];
    size_t id_len;
    const char *p = read_str(rec + sizeof lead - 1, e, id, sizeof id, &id_len);
    if (!p)
        return FF_EBADINPUT;
    /* received_at follows ts; find it at the top level (ids and names come before). */
    static const char key[] = ",\"received_at\":";
    const char *q = NULL;
    for (const char *s = p; s + sizeof key - 1 <= e; s++) {
        if (*s == ',' && memcmp(s, key, sizeof key - 1) == 0) {
            q = s + sizeof key - 1;
            break;
        }
        if (*s == '"' && s > p) /* skip over string values without matching inside them */
        {
            const char *t = s + 1;
            while (t < e && *t != '"')
                t += (*t == '\\') ? 2 : 1;
            s = t;
        }
    }
    if (!q)
        return FF_EBADINPUT;
    int64_t rcv = 0;
    int nd = 0;
    while (q < e && *q >= '0' && *q <= '9' && nd < 18) {
        rcv = rcv * 10 + (*q++ - '0');
        nd++;
    }
    if (nd == 0)
        return FF_EBADINPUT;
    /* A server-assigned id (flag no_event_id) is never sent again by a client. */
    static const char noid[] = "\"no_event_id\"";
    size_t fl = sizeof noid - 1;
    for (const char *s = e - fl; s >= rec && s > e - 400; s--)
        if (memcmp(s, noid, fl) == 0)
            return FF_OK;
    uint64_t k = ff_collect_hash64(c->seed[0], id, id_len);
    ff_dedupe_seed(c->dedupe, k, rcv, ff_clock_now_ms());
    return FF_OK;
}

/* ---- metrics -------------------------------------------------------------- */

static ff_rc metric(ff_buf *b, const char *name, const char *help, const char *type)
{
    return ff_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

#define LOAD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

ff_rc ff_collect_metrics(ff_collect *c, ff_buf *b)
{
    ff_collect_counters *n = &c->n;
    ff_rc rc = FF_OK;
#define P(...)                                                                                     \
    do {                                                                                           \
        if (!rc)                                                                                   \
            rc = ff_buf_printf(b, __VA_ARGS__);                                                    \
    } while (0)
#define M(name, help, type)                                                                        \
    do {                                                                                           \
        if (!rc)                                                                                   \
            rc = metric(b, name, help, type);                                                      \
    } while (0)
    M("footfall_requests_ok_total", "Ingest requests whose events were settled.", "counter");
    P("footfall_requests_ok_total %llu\n", LOAD(n->requests_ok));
    M("footfall_requests_rejected_total", "Ingest requests refused as a whole, by code.",
      "counter");
    for (int i = 0; i < FF_Q__N; i++)
        P("footfall_requests_rejected_total{code=\"%s\"} %llu\n", ff_reqcode_names[i],
          LOAD(n->req_rejected[i]));
    M("footfall_events_accepted_total", "Events stored in the event log.", "counter");
    P("footfall_events_accepted_total %llu\n", LOAD(n->accepted));
    M("footfall_events_rejected_total", "Events rejected, by reason.", "counter");
    for (int i = 0; i < FF_R__N; i++)
        P("footfall_events_rejected_total{reason=\"%s\"} %llu\n", ff_reason_names[i],
          LOAD(n->rejected[i]));
    M("footfall_events_dropped_total", "Events dropped on purpose (answered as success).",
      "counter");
    for (int i = 0; i < FF_D__N; i++)
        P("footfall_events_dropped_total{reason=\"%s\"} %llu\n", ff_drop_names[i],
          LOAD(n->dropped[i]));
    M("footfall_duplicates_total", "Events not stored because their event_id was.", "counter");
    P("footfall_duplicates_total %llu\n", LOAD(n->duplicates));
    M("footfall_conflicting_duplicates_total",
      "Duplicates whose content differed from the stored event (first write wins).", "counter");
    P("footfall_conflicting_duplicates_total %llu\n", LOAD(n->conflicts));
    M("footfall_scrubbed_total", "Values removed for privacy, by kind.", "counter");
    for (int i = 0; i < FF_S__N; i++)
        P("footfall_scrubbed_total{kind=\"%s\"} %llu\n", ff_scrub_names[i], LOAD(n->scrubbed[i]));
    M("footfall_event_flags_total", "Stored events carrying each flag.", "counter");
    for (int i = 0; i < FF_F__N; i++)
        P("footfall_event_flags_total{flag=\"%s\"} %llu\n", ff_flag_names[i], LOAD(n->flags[i]));
    M("footfall_timestamp_adjusted_total",
      "Stored events whose timestamp was replaced by received_at (invalid or out of range).",
      "counter");
    P("footfall_timestamp_adjusted_total %llu\n",
      LOAD(n->flags[FF_F_TIMESTAMP_ADJUSTED]) + LOAD(n->flags[FF_F_INVALID_TIMESTAMP]));
    M("footfall_bytes_received_total", "Request body bytes as received.", "counter");
    P("footfall_bytes_received_total %llu\n", LOAD(n->bytes_received));
    M("footfall_bytes_inflated_total", "Body bytes after gunzip.", "counter");
    P("footfall_bytes_inflated_total %llu\n", LOAD(n->bytes_inflated));
    M("footfall_appends_failed_total", "Decoded requests whose append failed (ids released).",
      "counter");
    P("footfall_appends_failed_total %llu\n", LOAD(n->appends_failed));
    M("footfall_dedupe_unreserved_total",
      "Events stored without a dedupe reservation: a concurrent request held the id and "
      "did not settle in time (timeout) or was younger (race). A second copy is possible.",
      "counter");
    P("footfall_dedupe_unreserved_total{why=\"timeout\"} %llu\n", LOAD(n->wait_timeouts));
    P("footfall_dedupe_unreserved_total{why=\"race\"} %llu\n", LOAD(n->races));
    ff_dedupe_stats ds;
    ff_dedupe_stats_get(c->dedupe, &ds);
    M("footfall_dedupe_entries", "Event ids in the dedupe window.", "gauge");
    P("footfall_dedupe_entries %llu\n", (unsigned long long)ds.entries);
    M("footfall_dedupe_capacity", "Event ids the dedupe window can hold.", "gauge");
    P("footfall_dedupe_capacity %llu\n", (unsigned long long)ds.capacity);
    M("footfall_dedupe_evictions_total", "Ids evicted before the window ended (window full).",
      "counter");
    P("footfall_dedupe_evictions_total %llu\n", (unsigned long long)ds.evictions);
    M("footfall_property_keys", "Distinct property keys admitted (process-wide).", "gauge");
    P("footfall_property_keys %u\n", ff_keyset_count(c->keys));
    M("footfall_property_keys_cap", "Cap on distinct property keys.", "gauge");
    P("footfall_property_keys_cap %u\n", c->o.key_cardinality_cap);
#undef P
#undef M
    return rc;
}

uint64_t ff_collect_counter(ff_collect *c, const char *name)
{
    ff_buf b;
    ff_buf_init(&b, 1 << 20);
    uint64_t v = 0;
    if (ff_collect_metrics(c, &b) == FF_OK && b.data) {
        size_t n = strlen(name);
        const char *s = b.data;
        while (s && *s) {
            if (strncmp(s, name, n) == 0 && s[n] == ' ') {
                v = strtoull(s + n + 1, NULL, 10);
                break;
            }
            s = strchr(s, '\n');
            if (s)
                s++;
        }
    }
    ff_buf_fini(&b);
    return v;
}
