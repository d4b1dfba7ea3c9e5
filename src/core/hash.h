/* The SplitMix64 finaliser: the one hash of the counter-based generators (sampling draws,
 * synthetic checkpoints, synthetic caches). */
#ifndef DG_CORE_HASH_H
#define DG_CORE_HASH_H
#include <stdint.h>

#define DG_GOLDEN64 0x9E3779B97F4A7C15ull

static inline uint64_t dg_mix64(uint64_t z) {
    z ^= z >> 30;
    z *= 0xBF58476D1CE4E5B9ull;
    z ^= z >> 27;
    z *= 0x94D049BB133111EBull;
    z ^= z >> 31;
    return z;
}

#endif
