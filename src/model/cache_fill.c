/* Synthetic cache contents for benchmarks of long contexts: a step's cost at 32K cached
 * positions does not depend on the values, and encoding 32K tokens on two cores takes far
 * longer than the step one wants to time. */
#include <math.h>
#include "core/error.h"
#include "core/hash.h"
#include "model/context.h"

/* n rows of D values, uniform with RMS rms, from (seed, layer, which, row). */
static void fill_rows(float *dst, int n, int D, float rms, uint64_t key) {
    const float a = rms * sqrtf(3.0f) / 2147483648.0f;
    for (int i = 0; i < n; i++)
        for (int d = 0; d < D; d += 2) {
            uint64_t h = dg_mix64(key + DG_GOLDEN64 * ((uint64_t)i * (uint64_t)D + (uint64_t)d + 1));
            dst[(size_t)i * D + d] = a * (float)(int32_t)(uint32_t)h;
            if (d + 1 < D) dst[(size_t)i * D + d + 1] = a * (float)(int32_t)(uint32_t)(h >> 32);
        }
}

dg_status dg_cache_fill_synthetic(dg_ctx *c, int seq, int n, uint64_t seed, dg_error *err) {
    if (seq < 0 || seq >= c->n_seq) return dg_fail(err, DG_ERR_ARG, "sequence %d does not exist (context has %d)", seq, c->n_seq);
    dg_seq *s = &c->seqs[seq];
    if (n < 0 || (long)s->len + n > c->max_tokens)
        return dg_fail(err, DG_ERR_RANGE, "synthetic cache: %d + %d positions exceed the context size of %d tokens", s->len, n, c->max_tokens);
    const dg_config *cfg = &c->m->cfg;
    for (int li = 0; li < c->m->n_layers; li++) {
        const dg_layer *L = &c->m->layers[li];
        dg_kv *kv = &s->kv[li];
        /* K as after k_norm (RMS of its weights), V as after the weightless v_norm (RMS 1) */
        double ss = 0;
        for (int d = 0; d < L->D; d++) ss += (double)L->k_norm[d] * L->k_norm[d];
        float krms = (float)sqrt(ss / L->D);
        int keep = L->full ? kv->n + n : cfg->window - 1 < kv->n + n ? cfg->window - 1 : kv->n + n;
        int old = keep - n > 0 ? keep - n : 0, add = keep - old, drop = kv->n - old;
        for (int g = 0; g < L->n_kv; g++) {
            float *k = kv->k + (size_t)g * kv->cap * L->D, *v = kv->v + (size_t)g * kv->cap * L->D;
            if (drop > 0)
                for (int i = 0; i < old; i++)
                    for (int d = 0; d < L->D; d++) {
                        k[(size_t)i * L->D + d] = k[(size_t)(i + drop) * L->D + d];
                        v[(size_t)i * L->D + d] = v[(size_t)(i + drop) * L->D + d];
                    }
            uint64_t key = dg_mix64(seed + DG_GOLDEN64 * (uint64_t)(li * 4096 + g + 1) + (uint64_t)s->len);
            fill_rows(k + (size_t)old * L->D, add, L->D, krms, key);
            fill_rows(v + (size_t)old * L->D, add, L->D, 1.0f, dg_mix64(key));
        }
        kv->n = keep;
    }
    s->len += n;
    return DG_OK;
}
