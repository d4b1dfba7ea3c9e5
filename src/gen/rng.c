#include "gen/rng.h"

void dg_rng_init_canvas(uint64_t seed, int c, int L, int V, int32_t *canvas) {
    for (int pos = 0; pos < L; pos++)
        canvas[pos] = dg_randint(dg_rng(seed, DG_RNG_INIT, (uint64_t)c, 0, (uint64_t)pos), (uint32_t)V);
}
