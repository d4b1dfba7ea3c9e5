/* The counter-based RNG contract (GENERATION.md §4.1): every draw is a pure function of
 * (seed, purpose, canvas, step, pos), so draws can be made in any order on any thread. */
#ifndef DG_GEN_RNG_H
#define DG_GEN_RNG_H
#include <stdint.h>
#include "core/hash.h"

enum { DG_RNG_INIT = 1, DG_RNG_SAMPLE = 2, DG_RNG_RENOISE = 3 };

#define DG_RNG_GOLDEN DG_GOLDEN64

static inline uint64_t dg_rng(uint64_t seed, uint64_t purpose, uint64_t canvas, uint64_t step, uint64_t pos) {
    uint64_t h = seed;
    h = dg_mix64(h + DG_RNG_GOLDEN * (purpose + 1));
    h = dg_mix64(h + DG_RNG_GOLDEN * (canvas + 1));
    h = dg_mix64(h + DG_RNG_GOLDEN * (step + 1));
    h = dg_mix64(h + DG_RNG_GOLDEN * (pos + 1));
    return h;
}

/* 53 random bits -> [0, 1). */
static inline double dg_uniform01(uint64_t h) { return (double)(h >> 11) * 0x1.0p-53; }

/* Top 32 bits scaled to [0, V) without division. */
static inline int32_t dg_randint(uint64_t h, uint32_t V) { return (int32_t)(((h >> 32) * (uint64_t)V) >> 32); }

/* Initial canvas of canvas `c` (§2.2): canvas[pos] = randint(rng(seed, 1, c, 0, pos), V). */
void dg_rng_init_canvas(uint64_t seed, int c, int L, int V, int32_t *canvas);

#endif
