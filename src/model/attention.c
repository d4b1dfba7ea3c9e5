/* Attention as two GEMMs per (kv head, block of query rows): the query heads that share a kv
 * head (GQA) are stacked into one activation block, so each packing of the cached K (and of
 * Vᵀ) serves all of them; scores = Q Kᵀ against the cache laid out [kv_head][pos][D], masked
 * softmax (the table's vector one on the fast path), then out = P V with V transposed once per layer, in
 * parallel. Scale 1.0 (the q/k norms replace 1/sqrt(D)); query head h reads kv head
 * h / (nq / nkv). */
#include "model/attention.h"
#include <math.h>
#include <string.h>
#include "kernels/isa.h"

typedef struct att_job {
    const dg_pass *ps;
    const dg_layer *L;
    const dg_span *sp;
    dg_kv *kv;
    int nk;             /* keys: cache entries (+ staged canvas rows in the decoder) */
    int key_pos0;       /* absolute position of key 0 */
    int rb;             /* query rows per task: att_rows / heads per kv head */
} att_job;

/* The reference path's softmax over one row's visible keys: libm expf, double sum (the
 * goldens were checked with it; the fast path takes the table's vector softmax). */
static void precise_softmax(float *s, int n) {
    float mx = -INFINITY;
    for (int t = 0; t < n; t++) if (s[t] > mx) mx = s[t];
    double sum = 0;
    for (int t = 0; t < n; t++) {
        s[t] = expf(s[t] - mx);
        sum += s[t];
    }
    float inv = (float)(1.0 / sum);
    for (int t = 0; t < n; t++) s[t] *= inv;
}

static void att_task(void *user, int task, int thread) {
    att_job *j = user;
    dg_ctx *c = j->ps->c;
    const dg_layer *L = j->L;
    const dg_config *cfg = &c->m->cfg;
    int nq = cfg->n_heads, D = L->D, group = nq / L->n_kv, qd = nq * D, nk = j->nk;
    int nblk = (j->sp->rows + j->rb - 1) / j->rb;
    int g = task / nblk, r0 = (task % nblk) * j->rb;
    int rows = j->sp->rows - r0 < j->rb ? j->sp->rows - r0 : j->rb, n = group * rows;
    int row0 = j->sp->row0 + r0;
    dg_mat K = {.kind = DG_W_F32, .rows = nk, .cols = D, .w = (const uint8_t *)(j->kv->k + (size_t)g * j->kv->cap * D),
                .w_stride = (size_t)D * sizeof(float)};
    dg_mat VT = {.kind = DG_W_F32, .rows = D, .cols = nk, .w = (const uint8_t *)(c->att_vt + (size_t)g * D * nk),
                 .w_stride = (size_t)nk * sizeof(float)};
    /* scratch: scores [n][nk], stacked queries [n][D], outputs [n][D]; row hh * rows + i is
     * query head g * group + hh of row i */
    float *S = c->att_scratch[thread], *Xq = S + (size_t)c->att_rows * c->att_keys, *O = Xq + (size_t)c->att_rows * D;
    for (int hh = 0; hh < group; hh++)
        for (int i = 0; i < rows; i++)
            memcpy(Xq + ((size_t)hh * rows + i) * D, c->q + (size_t)(row0 + i) * qd + (size_t)(g * group + hh) * D,
                   (size_t)D * sizeof *Xq);
    dg_gemm_rows(&c->k, thread, &K, 0, nk, Xq, n, D, S, nk);
    for (int r = 0; r < n; r++) {
        float *s = S + (size_t)r * nk;
        int lo = 0, hi = nk;        /* visible keys [lo, hi) */
        if (!j->ps->decoder) {
            int qpos = j->sp->pos0 + r0 + r % rows;
            hi = qpos - j->key_pos0 + 1;
            if (!L->full && qpos - cfg->window + 1 - j->key_pos0 > lo) lo = qpos - cfg->window + 1 - j->key_pos0;
        }
        memset(s, 0, (size_t)lo * sizeof *s);
        if (c->k.precise) precise_softmax(s + lo, hi - lo);
        else c->k.t->softmax(s + lo, hi - lo);
        memset(s + hi, 0, (size_t)(nk - hi) * sizeof *s);
    }
    dg_gemm_rows(&c->k, thread, &VT, 0, D, S, n, nk, O, D);
    for (int hh = 0; hh < group; hh++)
        for (int i = 0; i < rows; i++)
            memcpy(c->att + (size_t)(row0 + i) * qd + (size_t)(g * group + hh) * D, O + ((size_t)hh * rows + i) * D,
                   (size_t)D * sizeof *O);
}

/* Vᵀ of one kv head, keys [t0, t0 + VT_KEYS): 16 dims at a time, so that reads and writes
 * both run along rows. */
#define VT_KEYS 256
typedef struct vt_job { const dg_kv *kv; float *vt; int D, nk, nblk; } vt_job;

static void vt_task(void *user, int task, int thread) {
    vt_job *j = user;
    int g = task / j->nblk, t0 = (task % j->nblk) * VT_KEYS, t1 = t0 + VT_KEYS < j->nk ? t0 + VT_KEYS : j->nk, D = j->D;
    const float *V = j->kv->v + (size_t)g * j->kv->cap * D;
    float *VT = j->vt + (size_t)g * D * j->nk;
    for (int d0 = 0; d0 < D; d0 += 16) {
        int d1 = d0 + 16 < D ? d0 + 16 : D;
        for (int t = t0; t < t1; t++)
            for (int d = d0; d < d1; d++) VT[(size_t)d * j->nk + t] = V[(size_t)t * D + d];
    }
}

void dg_attention(const dg_pass *ps, int li) {
    dg_ctx *c = ps->c;
    const dg_layer *L = &c->m->layers[li];
    int D = L->D, nkv = L->n_kv, kvd = nkv * D, nq = c->m->cfg.n_heads;
    for (int s = 0; s < ps->nsp; s++) {
        const dg_span *sp = &ps->sp[s];
        dg_seq *seq = &c->seqs[sp->seq];
        dg_kv *kv = &seq->kv[li];
        att_job j = {ps, L, sp, kv, kv->n, 0, c->att_rows / (nq / nkv)};
        if (ps->decoder) {
            /* stage the canvas K/V after the cache entries; kv->n stays: nothing is committed */
            for (int g = 0; g < nkv; g++)
                for (int i = 0; i < sp->rows; i++) {
                    size_t dst = ((size_t)g * kv->cap + (size_t)(kv->n + i)) * D;
                    memcpy(kv->k + dst, c->kn + (size_t)(sp->row0 + i) * kvd + (size_t)g * D, (size_t)D * sizeof(float));
                    memcpy(kv->v + dst, c->vn + (size_t)(sp->row0 + i) * kvd + (size_t)g * D, (size_t)D * sizeof(float));
                }
            j.nk = kv->n + sp->rows;
            j.key_pos0 = seq->len - kv->n;
        } else {
            j.key_pos0 = seq->len - (kv->n - sp->rows);
        }
        vt_job vj = {kv, c->att_vt, D, j.nk, (j.nk + VT_KEYS - 1) / VT_KEYS};
        dg_pool_run(c->pool, nkv * vj.nblk, vt_task, &vj);
        dg_pool_run(c->pool, nkv * ((sp->rows + j.rb - 1) / j.rb), att_task, &j);
        double fl = 4.0 * nq * sp->rows * (double)j.nk * D;   /* Q K^T and P V, fp32 kernels */
        c->prof.flops += fl;
        c->prof.ops[DG_PART_ATTENTION][DG_OPS_FP32] += fl;
    }
}
