/* ff_sim_int.h -- helpers shared inside src/sim: the seeded RNG and the Zipf
 * sampler. Not part of the subsystem's contract (see ff_sim.h).
 *
 * WHAT: xoshiro256** (Blackman & Vigna) seeded through splitmix64, integer
 * helpers on top of it, and a Zipf-Mandelbrot sampler over ranks 0..n-1.
 *
 * DESIGN: everything is integer arithmetic so a seed gives the same stream on
 * every platform. ff_simrng_below uses the high 32 bits and a multiply-shift
 * (Lemire) without rejection: the bias is < n / 2^32, irrelevant here.
 * The Zipf sampler stores a cumulative table of weights
 * floor(2^32 / (k + q)) (s = 1) and samples by binary search; it costs
 * 8 bytes per rank and O(log n) per draw.
 *
 * INVARIANTS:
 *  (1) A zeroed ff_simrng is never used: ff_simrng_seed always leaves a
 *      non-zero state (splitmix64 output is a bijection of a counter).
 *  (2) ff_zipf cdf is strictly increasing, so every rank has a positive
 *      probability and the search terminates.
 *
 * THREADING: objects belong to one thread. OWNERSHIP: ff_zipf_init allocates
 * the table (ff_zipf_fini frees it); the caller owns the struct storage.
 */
#ifndef FF_SIM_INT_H
#define FF_SIM_INT_H

#include <stdint.h>

#include "core/ff_err.h"

typedef struct ff_simrng {
    uint64_t s[4];
} ff_simrng;

/* splitmix64 step: advances *x and returns a well-mixed value. */
static inline uint64_t ff_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A stateless 64-bit mix of a and b (for per-user stable attributes). */
static inline uint64_t ff_sim_mix(uint64_t a, uint64_t b)
{
    uint64_t x = a ^ (b * 0xd1b54a32d192ed03ull);
    return ff_splitmix64(&x);
}

static inline void ff_simrng_seed(ff_simrng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = ff_splitmix64(&x);
}

static inline uint64_t ff_simrng_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static inline uint64_t ff_simrng_next(ff_simrng *r)
{
    uint64_t *s = r->s;
    const uint64_t result = ff_simrng_rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ff_simrng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n) for n <= 2^32 (n = 0 gives 0). */
static inline uint32_t ff_simrng_below(ff_simrng *r, uint32_t n)
{
    return (uint32_t)(((ff_simrng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [lo, hi] (lo <= hi). */
static inline uint32_t ff_simrng_range(ff_simrng *r, uint32_t lo, uint32_t hi)
{
    return lo + ff_simrng_below(r, hi - lo + 1);
}

/* True with probability permille / 1000. */
static inline int ff_simrng_chance(ff_simrng *r, uint32_t permille)
{
    return ff_simrng_below(r, 1000) < permille;
}

/* Zipf-Mandelbrot sampler: P(k) proportional to 1 / (k + q), k in [0, n). */
typedef struct ff_zipf {
    uint64_t *cdf; /* cdf[k] = sum of weights of ranks 0..k */
    uint32_t n;
} ff_zipf;

/* n >= 1, q >= 1. Errors: FF_EINVAL, FF_ENOMEM. */
ff_rc ff_zipf_init(ff_zipf *z, uint32_t n, uint32_t q);
void ff_zipf_fini(ff_zipf *z);
/* A rank in [0, n); rank 0 is the most likely. */
uint32_t ff_zipf_sample(const ff_zipf *z, ff_simrng *r);

#endif /* FF_SIM_INT_H */
