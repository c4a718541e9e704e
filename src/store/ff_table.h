/* ff_table.h -- what a query reads: a consistent set of parts.
 *
 * WHAT: the `events` table at one moment, as the store hands it to the SQL
 * executor. Every acknowledged event that the store has consumed is in
 * exactly one of the parts (no duplicates, no gaps), so a query over a
 * snapshot counts each event once.
 *
 * OWNERSHIP: the store fills a snapshot and keeps every part in it open
 * until the snapshot is released (ff_store_snapshot_release); the executor
 * only borrows the parts. Parts are immutable, so threads may read them
 * concurrently (each with its own ff_part_ctx and arena).
 */
#ifndef FF_TABLE_H
#define FF_TABLE_H

#include <stddef.h>

#include "store/ff_part.h"

typedef struct ff_table_snapshot {
    ff_part **parts; /* borrowed */
    size_t n_parts;
    void *owner; /* the store's bookkeeping for release */
} ff_table_snapshot;

#endif /* FF_TABLE_H */
