/* The K/V cache of one layer: append, stage, sliding-window trim. */
#include "model/kv_cache.h"
#include <stdlib.h>
#include <string.h>

int dg_kv_init(dg_kv *kv, int n_kv, int D, int cap) {
    size_t bytes = ((size_t)n_kv * cap * D * sizeof(float) + 63) & ~(size_t)63;
    *kv = (dg_kv){.n_kv = n_kv, .D = D, .cap = cap};
    if (!bytes) bytes = 64;
    kv->k = aligned_alloc(64, bytes);
    kv->v = aligned_alloc(64, bytes);
    return kv->k && kv->v;
}

void dg_kv_free(dg_kv *kv) {
    free(kv->k);
    free(kv->v);
    kv->k = kv->v = NULL;
}

void dg_kv_stage(dg_kv *kv, const float *kn, const float *vn, int rows) {
    size_t D = (size_t)kv->D, ld = (size_t)kv->n_kv * D;
    for (int g = 0; g < kv->n_kv; g++) {
        float *k = dg_kv_k(kv, g) + (size_t)kv->n * D, *v = dg_kv_v(kv, g) + (size_t)kv->n * D;
        for (int i = 0; i < rows; i++) {
            memcpy(k + i * D, kn + i * ld + g * D, D * sizeof *k);
            memcpy(v + i * D, vn + i * ld + g * D, D * sizeof *v);
        }
    }
}

void dg_kv_append(dg_kv *kv, const float *kn, const float *vn, int rows) {
    dg_kv_stage(kv, kn, vn, rows);
    kv->n += rows;
}

void dg_kv_trim(dg_kv *kv, int keep) {
    if (kv->n <= keep) return;
    size_t D = (size_t)kv->D, drop = (size_t)(kv->n - keep);
    for (int g = 0; g < kv->n_kv; g++) {
        memmove(dg_kv_k(kv, g), dg_kv_k(kv, g) + drop * D, (size_t)keep * D * sizeof(float));
        memmove(dg_kv_v(kv, g), dg_kv_v(kv, g) + drop * D, (size_t)keep * D * sizeof(float));
    }
    kv->n = keep;
}
