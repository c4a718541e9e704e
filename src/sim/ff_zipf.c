/* ff_zipf.c -- Zipf-Mandelbrot sampler over an integer CDF (see ff_sim_int.h). */
#include "sim/ff_sim_int.h"

#include "core/ff_mem.h"

ff_rc ff_zipf_init(ff_zipf *z, uint32_t n, uint32_t q)
{
    z->cdf = NULL;
    z->n = 0;
    if (n == 0 || q == 0)
        return FF_EINVAL;
    uint64_t *cdf = ff_malloc((size_t)n * sizeof *cdf);
    if (!cdf)
        return FF_ENOMEM;
    /* weight(k) = 2^32 / (k + q) >= 2^32 / (2^32 + 2^32) > 0 for any uint32
     * k and q, so the table is strictly increasing (invariant 2); the sum is
     * below 2^32 * (ln(n) + 1) < 2^38, far from overflow. */
    uint64_t acc = 0;
    for (uint32_t k = 0; k < n; k++) {
        acc += (1ull << 32) / ((uint64_t)k + q);
        cdf[k] = acc;
    }
    z->cdf = cdf;
    z->n = n;
    return FF_OK;
}

void ff_zipf_fini(ff_zipf *z)
{
    ff_free(z->cdf);
    z->cdf = NULL;
    z->n = 0;
}

uint32_t ff_zipf_sample(const ff_zipf *z, ff_simrng *r)
{
    /* Modulo bias is total / 2^64 < 2^-26: negligible. */
    uint64_t x = ff_simrng_next(r) % z->cdf[z->n - 1];
    uint32_t lo = 0, hi = z->n - 1; /* first k with cdf[k] > x */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (z->cdf[mid] > x)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}
