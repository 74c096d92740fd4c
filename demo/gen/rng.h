/* rng: the generator's only source of randomness.
 *
 * xoshiro256** streams seeded through splitmix64. Every part of the data set
 * draws from its own stream, named by (seed, stream id), so the same seed and
 * sizes give the same data however the parts are ordered or re-run (the
 * delivery simulation runs twice over the same streams, see deliver.c). */
#ifndef GEN_RNG_H
#define GEN_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
    uint64_t s[4];
};

/* stream ids; per-item streams add the item's index to the base */
enum {
    STREAM_CONTACTS = 1,
    STREAM_SEGMENTS = 2,
    STREAM_PLAN = 3,
    STREAM_ORGANIC = 4,
    STREAM_CAMPAIGN = 1u << 20,   /* + campaign generation index: timeline */
    STREAM_CONTENT = 2u << 20,    /* + campaign generation index: texts */
    STREAM_DELIVERY = 3u << 20,   /* + campaign generation index: ledger */
};

uint64_t mix64(uint64_t x);
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(struct rng *r);
uint64_t rng_below(struct rng *r, uint64_t n);           /* [0, n), n > 0 */
int64_t rng_range(struct rng *r, int64_t lo, int64_t hi); /* [lo, hi] */
double rng_unit(struct rng *r);                          /* [0, 1) */
double rng_uniform(struct rng *r, double lo, double hi); /* [lo, hi) */
int rng_chance(struct rng *r, double p);
double rng_normal(struct rng *r, double mean, double sd);
double rng_exp(struct rng *r, double mean);
size_t rng_weighted(struct rng *r, const unsigned *w, size_t n);
/* a version 4 UUID in its 36-character text form */
void rng_uuid(struct rng *r, char out[37]);

#endif
