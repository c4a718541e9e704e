/* ff_collect_int.h -- helpers shared inside src/collect/ (not a public API).
 *
 * WHAT: the small pure pieces the pipeline is made of, one file each, so
 * each can be unit-tested alone: hashing, exact money and the ISO 4217
 * table (ff_money.c), privacy rules (ff_privacy.c), the event vocabulary
 * (ff_vocab.c), user-agent families (ff_ua.c), event-time rules
 * (ff_time.c), bounded gunzip (ff_inflate.c), the distinct-key set
 * (ff_keyset.c). The dedupe window has its own header, ff_dedupe.h.
 *
 * THREADING: everything here is pure or documented per function.
 */
#ifndef FF_COLLECT_INT_H
#define FF_COLLECT_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collect/ff_collect.h"
#include "collect/ff_dedupe.h"
#include "core/ff_arena.h"
#include "core/ff_json.h"

/* ---- hashing (ff_keyset.c) --------------------------------------------- */

/* A fast keyed 64-bit hash (wyhash-style multiply-mix). With a secret random
 * seed it resists hash flooding well enough for bounded tables; it is not a
 * MAC. */
uint64_t ff_collect_hash64(uint64_t seed, const void *p, size_t n);
/* 64-bit finaliser (splitmix64), also the PRNG step. */
uint64_t ff_collect_mix64(uint64_t x);
/* 128 bits from getrandom(), falling back to clock and address entropy. */
void ff_collect_random_seed(uint64_t seed[2]);

/* ---- distinct-key set (ff_keyset.c) ------------------------------------ */

/* Insert-only, lock-free set of 64-bit key hashes holding at most cap keys.
 * THREADING: admit is safe from any number of threads. */
typedef struct ff_keyset ff_keyset;
ff_keyset *ff_keyset_new(uint32_t cap);
void ff_keyset_free(ff_keyset *ks);
/* true when h is present or was added; false when absent and the set is full. */
bool ff_keyset_admit(ff_keyset *ks, uint64_t h);
uint32_t ff_keyset_count(const ff_keyset *ks);

/* ---- money (ff_money.c) ------------------------------------------------ */

/* An exact decimal: value = units / 10^scale. */
typedef struct ff_money {
    int64_t units;
    uint8_t scale; /* 0..8 */
} ff_money;

typedef enum ff_money_rc {
    FF_MONEY_OK,
    FF_MONEY_SYNTAX, /* not a decimal number */
    FF_MONEY_RANGE,  /* |value| > 2^53 major units or the scaled units overflow int64 */
} ff_money_rc;

#define FF_MONEY_FREE_SCALE 8 /* max fraction digits kept when no currency is known */

/* Minor-unit digits of an active ISO 4217 code (exactly 3 uppercase letters),
 * or -1 when the code is not in the table (lowercase, XXX, XTS, metals...). */
int ff_money_currency_digits(const char *code, size_t len);

/* Parse the decimal text s (JSON number grammar, also accepted as the content
 * of a numeric string: optional '-', digits, fraction, exponent). scale >= 0:
 * round half-even to that many fraction digits (*rounded set when digits were
 * dropped and not all zero). scale < 0: keep the text's own fraction digits,
 * rounding half-even only beyond FF_MONEY_FREE_SCALE. Never goes through
 * binary floating point. */
ff_money_rc ff_money_parse(const char *s, size_t len, int scale, ff_money *out, bool *rounded);

/* Format as plain decimal text ("19.99", "-0.5", "1999"); a fixed scale prints
 * exactly scale fraction digits, trailing zeros kept. buf needs 32 bytes.
 * Returns the length. */
size_t ff_money_format(const ff_money *m, char *buf);

/* ---- privacy (ff_privacy.c) -------------------------------------------- */

/* Anonymise a textual IP address: IPv4 keeps /24 (a.b.c.0), IPv6 keeps /48
 * (printed compressed, "2001:db8:1::"); IPv4-mapped IPv6 is treated as IPv4.
 * Returns false when text is not an IP address (then nothing is stored).
 * out needs 64 bytes. */
bool ff_priv_ip_truncate(const char *ip, size_t len, char *out, size_t *out_len);

/* true when an object key names a secret (password, token, cvv, card
 * number, ...): the key is split into words at non-alphanumerics and
 * camelCase boundaries and each word (or a joined pair) is compared with the
 * list in docs/api.md. "company", "span", "classname" do not match. */
bool ff_priv_key_is_secret(const char *key, size_t len);

/* Luhn check over n ASCII digits. */
bool ff_priv_luhn(const char *digits, size_t n);

/* Find the next card number in s[from..len): a run of 13-19 digits,
 * optionally grouped by single spaces or dashes, not adjacent to other digits
 * or letters, with a valid Luhn check digit, that is not an epoch timestamp
 * or one digit repeated. Sets [*start, *end) to the byte span to replace. */
bool ff_priv_find_pan(const char *s, size_t len, size_t from, size_t *start, size_t *end);

/* true when the integer text (digits only, optional '-') is a card number. */
bool ff_priv_int_is_pan(const char *s, size_t len);

/* Known crawler user agents (Googlebot, bingbot, HeadlessChrome, ...). */
bool ff_priv_ua_is_bot(const char *ua, size_t len);

/* Referrer whose host is on the spam list (or a subdomain of one). */
bool ff_priv_referrer_is_spam(const char *url, size_t len);

/* A URL we store: not longer than max_bytes, and not a javascript:, data:,
 * vbscript: or file: URL (scheme matched case-insensitively, after leading
 * spaces and control characters as browsers strip them). */
bool ff_priv_url_ok(const char *s, size_t len, size_t max_bytes);

/* Text with bidi controls (U+202A-202E, U+2066-2069, U+200E/F, U+061C),
 * zero-width characters (U+200B-200D, U+2060, U+FEFF) or letters of more
 * than one of Latin / Cyrillic / Greek (homoglyph names). */
bool ff_priv_suspicious_unicode(const char *s, size_t len);

/* ---- vocabulary (ff_vocab.c) ------------------------------------------- */

enum {
    FF_EV_REVENUE = 1u << 0, /* an amount needs a currency */
    FF_EV_NEG_OK = 1u << 1,  /* negative amounts allowed (refunds, chargebacks) */
    FF_EV_PRODUCT = 1u << 2, /* single-product event: items[0]/products[0] fill columns */
};

/* Canonical name for an event name as sent (Segment e-commerce v2, GA4, our
 * ff: payment names), matched case-insensitively with spaces, dashes and
 * underscores equivalent; NULL when the name is not in the vocabulary. */
const char *ff_vocab_canonical(const char *name, size_t len, size_t *out_len);
/* FF_EV_* bits of a canonical name (0 for names outside the vocabulary). */
unsigned ff_vocab_class(const char *canonical, size_t len);
bool ff_vocab_table_sorted(void); /* self-check for the unit test */

/* ---- user agent (ff_ua.c) ---------------------------------------------- */

typedef struct ff_ua_info {
    const char *device;  /* "mobile" | "tablet" | "desktop" | "tv" | NULL */
    const char *browser; /* "Chrome", "Safari", "Firefox", "Edge", ... or NULL */
    const char *os;      /* "Windows", "macOS", "iOS", "Android", "Linux", ... or NULL */
} ff_ua_info;

/* Coarse families from a User-Agent string (hand parser, one pass). */
void ff_ua_parse(const char *ua, size_t len, ff_ua_info *out);
/* context.device.type ("phone", "mobile", "tablet", "desktop", ...) to a device class. */
const char *ff_ua_device_class(const char *type, size_t len);
/* context.os.name ("iOS", "Mac OS X", "Windows", ...) to an OS family. */
const char *ff_ua_os_family(const char *name, size_t len);

/* ---- event time (ff_time.c) -------------------------------------------- */

enum {
    FF_TS_ADJUSTED = 1u << 0, /* parsed but out of range: ts = received_at */
    FF_TS_INVALID = 1u << 1,  /* not a timestamp: ts = received_at */
    FF_TS_SKEW = 1u << 2,     /* client clock corrected by received_at - sentAt */
};

/* Parse a timestamp node: an RFC 3339 string, or an epoch number whose
 * magnitude decides the unit (|v| < 1e11: seconds, else milliseconds).
 * false when not one (negative epochs, > 1e15 ms, non-finite, other types). */
bool ff_time_parse(const ff_json *v, int64_t *ms_out);

typedef struct ff_time_in {
    const ff_json *timestamp; /* each may be NULL */
    const ff_json *original;  /* originalTimestamp */
    const ff_json *sent_at;   /* the event's sentAt, else the envelope's */
    int64_t received_at_ms;
    int64_t min_ts_ms, max_future_ms, max_clock_skew_ms;
} ff_time_in;

typedef struct ff_time_out {
    int64_t ts_ms;
    int64_t sent_at_ms; /* valid when has_sent_at */
    int64_t original_ms;
    bool has_sent_at, has_original;
    unsigned flags;     /* FF_TS_* */
    const ff_json *raw; /* the node whose value was replaced (flags ADJUSTED/INVALID) */
} ff_time_out;

/* The event-time rule of docs/api.md ("Event time"). */
void ff_time_resolve(const ff_time_in *in, ff_time_out *out);

/* ---- gunzip (ff_inflate.c) --------------------------------------------- */

typedef enum ff_inflate_rc {
    FF_INFLATE_OK,
    FF_INFLATE_TOO_LARGE, /* more than max_out bytes: stopped there */
    FF_INFLATE_CORRUPT,   /* not gzip, bad CRC, truncated, trailing garbage */
    FF_INFLATE_NOMEM,     /* heap or arena exhausted */
} ff_inflate_rc;

/* Gunzip in[0..len) (one or more gzip members) into memory from the arena,
 * never producing more than max_out bytes (the output buffer grows by
 * doubling up to max_out + 1, so memory is bounded whatever the ratio). */
ff_inflate_rc ff_inflate_gzip(const char *in, size_t len, size_t max_out, ff_arena *arena,
                              char **out, size_t *out_len);

/* ---- the collector object and per-event decoding (ff_collect.c, ff_decode.c) */

/* Per-event rejection reasons: the codes in the rejected list and in
 * footfall_events_rejected_total{reason}. Never renamed (docs/api.md). */
typedef enum ff_reason {
    FF_R_INVALID_EVENT,
    FF_R_EVENT_TOO_LARGE,
    FF_R_DUPLICATE_KEY,
    FF_R_INVALID_STRING,
    FF_R_MISSING_TYPE,
    FF_R_INVALID_TYPE,
    FF_R_MISSING_EVENT,
    FF_R_INVALID_TYPE_EVENT,
    FF_R_NAME_TOO_LONG,
    FF_R_INVALID_NAME,
    FF_R_MISSING_IDENTITY,
    FF_R_INVALID_IDENTITY,
    FF_R_INVALID_EVENT_ID,
    FF_R_MISSING_GROUP_ID,
    FF_R_MISSING_PREVIOUS_ID,
    FF_R_INVALID_TYPE_PROPERTIES,
    FF_R_INVALID_TYPE_TRAITS,
    FF_R_INVALID_TYPE_CONTEXT,
    FF_R_TOO_MANY_PROPERTIES,
    FF_R_PROPS_TOO_DEEP,
    FF_R_ARRAY_TOO_LONG,
    FF_R_NUMBER_OUT_OF_RANGE,
    FF_R_INVALID_AMOUNT,
    FF_R_AMOUNT_OUT_OF_RANGE,
    FF_R_INVALID_CURRENCY,
    FF_R_KEY_CARDINALITY_CAP,
    FF_R__N
} ff_reason;
extern const char *const ff_reason_names[FF_R__N];

/* Events dropped on purpose but answered as success. */
typedef enum ff_drop { FF_D_BOT, FF_D_SPAM_REFERRER, FF_D__N } ff_drop;
extern const char *const ff_drop_names[FF_D__N];

/* Flags written into a record's "flags" array (and counted). */
typedef enum ff_flag {
    FF_F_TIMESTAMP_ADJUSTED,
    FF_F_INVALID_TIMESTAMP,
    FF_F_CLOCK_SKEW_CORRECTED,
    FF_F_LOSSY_NUMBER,
    FF_F_NUMERIC_STRING,
    FF_F_AMOUNT_ROUNDED,
    FF_F_NO_CURRENCY,
    FF_F_SUSPICIOUS_UNICODE,
    FF_F_INVALID_URL,
    FF_F_NO_EVENT_ID,
    FF_F_INVALID_QUANTITY,
    FF_F_REDACTED,
    FF_F__N
} ff_flag;
extern const char *const ff_flag_names[FF_F__N];

typedef enum ff_scrub { FF_S_PASSWORD_FIELD, FF_S_CARD_NUMBER, FF_S_IP, FF_S__N } ff_scrub;
extern const char *const ff_scrub_names[FF_S__N];

/* Request-level failure codes (out->code, footfall_requests_rejected_total). */
typedef enum ff_reqcode {
    FF_Q_UNSUPPORTED_MEDIA_TYPE,
    FF_Q_UNSUPPORTED_ENCODING,
    FF_Q_EMPTY_BODY,
    FF_Q_INVALID_GZIP,
    FF_Q_BODY_TOO_LARGE,
    FF_Q_TOO_COMPLEX,
    FF_Q_INVALID_JSON,
    FF_Q_INVALID_UTF8,
    FF_Q_TOO_DEEP,
    FF_Q_INVALID_JSON_ROOT,
    FF_Q_DUPLICATE_KEY,
    FF_Q_INVALID_BATCH,
    FF_Q_EMPTY_BATCH,
    FF_Q_TOO_MANY_EVENTS,
    FF_Q_BATCH_TOO_LARGE,
    FF_Q__N
} ff_reqcode;
extern const char *const ff_reqcode_names[FF_Q__N];

typedef struct ff_collect_counters {
    atomic_uint_fast64_t requests_ok;
    atomic_uint_fast64_t req_rejected[FF_Q__N];
    atomic_uint_fast64_t accepted;
    atomic_uint_fast64_t rejected[FF_R__N];
    atomic_uint_fast64_t dropped[FF_D__N];
    atomic_uint_fast64_t flags[FF_F__N];
    atomic_uint_fast64_t scrubbed[FF_S__N];
    atomic_uint_fast64_t duplicates, conflicts, wait_timeouts, races;
    atomic_uint_fast64_t bytes_received, bytes_inflated;
    atomic_uint_fast64_t appends_failed;
} ff_collect_counters;

struct ff_collect {
    ff_collect_opts o;
    uint64_t seed[2]; /* hash keys, from getrandom */
    ff_dedupe *dedupe;
    ff_keyset *keys;
    atomic_uint_fast64_t rng_counter;
    atomic_uint owner_seq;
    ff_collect_counters n;
};

/* A deferred record: its id was pending in another request. */
typedef struct ff_deferred {
    uint64_t key;
    uint32_t phash;
    uint32_t index;
    size_t off, len; /* in priv->deferred */
    unsigned flags;  /* the record's flags and scrub counts, tallied if it is stored */
    uint32_t scrub[FF_S__N];
} ff_deferred;

struct ff_collect_priv {
    ff_collect *c;
    bool finished;
    uint32_t owner;
    uint32_t n_resv, n_deferred, cap_items;
    ff_dedupe_resv *resv;
    ff_deferred *deferred_items;
    ff_buf deferred;
    uint32_t rejected[FF_R__N];
    uint32_t dropped[FF_D__N];
    uint32_t flags[FF_F__N];
    uint32_t scrub[FF_S__N];
    uint32_t wait_timeouts; /* stored unreserved: waited too long */
    uint32_t races;         /* stored unreserved: the id was in a younger request */
};

/* The context members the decoder reads (NULL when absent or null). */
typedef struct ff_ctx_fields {
    const ff_json *user_agent, *page, *session_id, *session_id2, *device, *os, *location, *ip,
        *traits;
} ff_ctx_fields;

/* One pass over a context object (NULL gives all NULL). */
void ff_decode_scan_ctx(const ff_json *ctx, ff_ctx_fields *out);

/* Per-request decoding state shared by all events of one body. */
typedef struct ff_decode_req {
    ff_collect *c;
    const ff_collect_req *req;
    ff_collect_out *out;
    struct ff_collect_priv *p;
    const ff_json *env_context; /* batch envelope context, or NULL */
    ff_ctx_fields env;          /* its members, scanned once per request */
    const ff_json *env_sent_at;
    uint64_t rng;
    uint64_t deadline_mono_ns;
    /* one-entry caches: most events of a request share one user agent */
    const char *ua_key;
    size_t ua_key_len;
    bool ua_bot;
    ff_ua_info ua;
} ff_decode_req;

/* Decode one event (index i) of the request into out->payload, or reject,
 * drop or count it as a duplicate. FF_ENOMEM only when the heap ran out. */
ff_rc ff_decode_event(ff_decode_req *r, const ff_json *item, uint32_t index);
/* Settle events deferred behind another request's pending ids. */
ff_rc ff_decode_resolve_deferred(ff_decode_req *r);
/* Append {"i":k,"reason":"..."} to the rejected list. */
ff_rc ff_decode_reject(ff_decode_req *r, uint32_t index, ff_reason why);

#endif /* FF_COLLECT_INT_H */
