/* rng: a seeded xoshiro256** generator (one per owning thread) and the
 * splitmix64 finalizer used for deterministic hashing. */
#ifndef BACKEND_RNG_H
#define BACKEND_RNG_H

#include <stdint.h>

struct rng {
    uint64_t s[4];
};

uint64_t rng_mix(uint64_t x);
void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* uniform in [0, 1) */
double rng_unit(struct rng *r);
/* uniform integer in [lo, hi] */
int64_t rng_between(struct rng *r, int64_t lo, int64_t hi);
/* a seed from the clock and the pid, for when --seed is not given */
uint64_t rng_entropy(void);

#endif
