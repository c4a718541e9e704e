/* ff_ratelimit.h -- per-client token buckets for ingest back-pressure.
 *
 * WHAT: at most `rate` requests per second per client address, with bursts
 * up to `burst`; beyond that the collector answers 429 with Retry-After.
 *
 * DESIGN: a fixed table of 4096 buckets indexed by a hash of the address
 * (XXH3). Two addresses that collide share a bucket: the table's memory is
 * bounded whatever the number of clients, at the cost of occasionally
 * limiting an innocent neighbour together with a flooder. Each bucket keeps
 * the exact address so a collision replaces the bucket rather than mixing.
 *
 * THREADING: thread-safe (a mutex per 64 buckets).
 * OWNERSHIP: new returns an owned handle.
 */
#ifndef FF_RATELIMIT_H
#define FF_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/ff_err.h"

typedef struct ff_ratelimit ff_ratelimit;

ff_rc ff_ratelimit_new(double rate_per_s, double burst, ff_ratelimit **out, ff_err *err);
void ff_ratelimit_free(ff_ratelimit *rl);

/* Take one token for addr at time now_ns. false when empty; then
 * *retry_after_s says when a token will be there (rounded up). */
bool ff_ratelimit_take(ff_ratelimit *rl, const char *addr, uint64_t now_ns,
                       uint32_t *retry_after_s);

#endif /* FF_RATELIMIT_H */
