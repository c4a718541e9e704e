/* ff_import.h -- lines of a file -> Segment messages, for `footfall import`.
 *
 * WHAT: the pure part of the importer: one input line in, Segment-shaped
 * message JSON out, which `footfall import` batches into the collector
 * (ff_collect_decode with a ff_collect_backfill) exactly like an HTTP batch,
 * so files go through the same validation, privacy, bot drops and dedupe.
 * Formats and maps (docs/operations.md, "Importing files"):
 *
 *   ndjson   one canonical event per line, keyed by the record's column names
 *            (event_id, ts as RFC 3339 or epoch ms, event, event_original,
 *            type, user_id, anonymous_id, session_id, url, referrer,
 *            product_id, category, price, quantity, order_id, revenue,
 *            currency, search_term, element, country, device, os, ip,
 *            user_agent, group_id, previous_id, properties, traits, context).
 *            The record's own bookkeeping keys (v, received_at, sent_at,
 *            original_ts, flags, browser) are accepted and ignored, so
 *            `footfall log dump` output imports; any other key rejects the
 *            line (a typo never silently drops a column).
 *   segment  one Segment message per line, or a {"batch":[...]} per line (the
 *            envelope's other members are ignored).
 *   csv      a map decides the columns: `taobao` (UserBehavior CSV
 *            user,item,category,behavior,ts-seconds; same mapping as
 *            ff_row_from_taobao in store/ff_schema.h) and `apache` (combined
 *            access log lines -> page events; the raw IP goes to context.ip,
 *            where the collector anonymises it).
 *
 * DESIGN: messages are written as text, each followed by ',' so the caller
 * wraps a run of them as {"batch":[ ... ]} (dropping the last comma). A line
 * with no id gets a deterministic one (ff_import_event_id: UUID-shaped, from
 * the format or map name, the line text and the line number), so importing
 * the same file twice gives the same ids and the collector's and store's
 * dedupe drop the second copy. Lines that cannot become a message are
 * rejected here with the collector's reason codes (invalid_json,
 * invalid_utf8, too_deep, invalid_event, event_too_large,
 * invalid_type:properties, invalid_type:context); everything the collector
 * itself checks is left to it.
 *
 * INVARIANTS:
 *  (1) On FF_OK with res->reason == NULL, exactly res->n_events messages were
 *      appended, each a JSON object that ff_json_parse accepts, each followed
 *      by ','. On a rejected or skipped line nothing was appended.
 *  (2) The same (format, map, line text, line number) gives the same output.
 *
 * THREADING: no shared state; the map table is const.
 * OWNERSHIP: line is borrowed for the call. The arena holds the line's JSON
 * DOM and res->alias's strings (valid until the arena is reset). out is the
 * caller's buffer, appended to.
 */
#ifndef FF_IMPORT_H
#define FF_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collect/ff_collect.h"
#include "core/ff_arena.h"
#include "core/ff_buf.h"
#include "core/ff_err.h"

typedef enum ff_import_format {
    FF_IMPORT_NDJSON,
    FF_IMPORT_SEGMENT,
    FF_IMPORT_CSV,
} ff_import_format;

/* A built-in map for CSV-like inputs. */
typedef struct ff_import_map {
    const char *name; /* --map NAME */
    ff_import_format format;
    const char *what;                /* one line for help and errors */
    const ff_collect_alias *aliases; /* event-name aliases its messages need */
    size_t n_aliases;
} ff_import_map;

#define FF_IMPORT_MAX_LINE_BYTES (1u << 20) /* longer lines: event_too_large */

typedef struct ff_import_line_out {
    uint32_t n_events;  /* messages appended */
    bool skipped;       /* blank line: nothing appended, not an error */
    const char *reason; /* NULL, or the reason code of a rejected line (static text) */
    char detail[200];   /* one human line when reason is set */
    /* from_len > 0: the messages need this alias in their request (ndjson
     * event_original that the vocabulary does not map to event). */
    ff_collect_alias alias;
} ff_import_line_out;

/* Lifecycle: none (pure functions). */

/* Operations */

/* The map called name, or NULL. */
const ff_import_map *ff_import_map_find(const char *name);
/* "taobao, apache" for messages. */
const char *ff_import_map_names(void);
/* "ndjson" / "segment" / "csv" <-> enum; parse gives false for other text. */
bool ff_import_format_parse(const char *s, ff_import_format *out);
const char *ff_import_format_name(ff_import_format f);

/* Convert one line (without its '\n'; a trailing '\r' is ignored) of format
 * fmt (map: required for FF_IMPORT_CSV, ignored otherwise). line_no is
 * 1-based. Returns FF_OK (see res) or FF_ENOMEM/FF_ELIMIT when the arena or
 * out ran out (nothing usable appended). */
ff_rc ff_import_line(ff_import_format fmt, const ff_import_map *map, const char *line, size_t len,
                     uint64_t line_no, ff_arena *arena, ff_buf *out, ff_import_line_out *res);

/* A deterministic UUID-shaped id (version 8, RFC 9562 variant; lowercase,
 * 36 chars + NUL) from scope (format or map name), the line text, the line
 * number and the message's index within the line. */
void ff_import_event_id(const char *scope, const char *line, size_t len, uint64_t line_no,
                        uint32_t sub, char out[37]);

/* For the apache map: true when the first line looks like access_log.csv
 * (the derived CSV), which the map does not read; msg gets a hint. */
bool ff_import_wrong_input(const ff_import_map *map, const char *first_line, size_t len, char *msg,
                           size_t msg_size);

#endif /* FF_IMPORT_H */
