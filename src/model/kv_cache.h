/* One layer's K/V cache (MODEL.md §6): K and V as [n_kv][cap][D] fp32, holding the positions
 * [len - n, len) of its sequence. The encoder appends and commits; the decoder stages its
 * canvas rows after the held ones without committing; sliding layers are trimmed to the
 * window after each encoder pass. */
#ifndef DG_MODEL_KV_CACHE_H
#define DG_MODEL_KV_CACHE_H
#include <stddef.h>

typedef struct dg_kv {
    float *k, *v;
    int n_kv, D;
    int cap, n;
} dg_kv;

/* Room for cap positions of n_kv heads of width D; returns 0 when out of memory. */
int dg_kv_init(dg_kv *kv, int n_kv, int D, int cap);
void dg_kv_free(dg_kv *kv);

/* Writes `rows` K/V rows (row i of kn/vn: n_kv * D values, head-major) after the n held
 * positions. Stage only: n is unchanged. */
void dg_kv_stage(dg_kv *kv, const float *kn, const float *vn, int rows);
/* Stage and commit: the rows become held positions. */
void dg_kv_append(dg_kv *kv, const float *kn, const float *vn, int rows);
/* Keeps only the last `keep` held positions (sliding window). */
void dg_kv_trim(dg_kv *kv, int keep);

/* Head g's K or V, position 0 of the held ones. */
static inline float *dg_kv_k(const dg_kv *kv, int g) { return kv->k + (size_t)g * kv->cap * kv->D; }
static inline float *dg_kv_v(const dg_kv *kv, int g) { return kv->v + (size_t)g * kv->cap * kv->D; }

#endif
