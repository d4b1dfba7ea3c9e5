/* Attention as two GEMMs per (head, block of query rows): scores = Q Kᵀ against the cache
 * laid out [kv_head][pos][D], masked softmax, then out = P V with V transposed once per layer.
 * Scale 1.0 (the q/k norms replace 1/sqrt(D)); GQA: query head h reads kv head h / (nq / nkv). */
#include "model/attention.h"
#include <math.h>
#include <string.h>

typedef struct att_job {
    const dg_pass *ps;
    const dg_layer *L;
    const dg_span *sp;
    dg_kv *kv;
    int nk;             /* keys: cache entries (+ staged canvas rows in the decoder) */
    int key_pos0;       /* absolute position of key 0 */
    int rb;             /* query rows per task, <= DG_ATT_ROWS */
} att_job;

/* Query rows per task: at most DG_ATT_ROWS (the scratch), at least 6 (one micro-kernel call),
 * in as many blocks per head as fill the threads best (16 heads x 6 blocks of 48 rows are 96
 * tasks, which keep 64 threads 75% busy; 8 blocks of 32 fill them). */
static int att_rows(dg_pool *pool, int nq, int rows) {
    int lo = (rows + DG_ATT_ROWS - 1) / DG_ATT_ROWS, hi = (rows + 5) / 6;
    int parts = dg_pool_parts(pool, nq, lo, hi);
    return (rows + parts - 1) / parts;
}

static void att_task(void *user, int task, int thread) {
    att_job *j = user;
    dg_ctx *c = j->ps->c;
    const dg_layer *L = j->L;
    const dg_config *cfg = &c->m->cfg;
    int nq = cfg->n_heads, D = L->D, group = nq / L->n_kv, qd = nq * D, nk = j->nk;
    int h = task % nq, r0 = (task / nq) * j->rb;
    int rows = j->sp->rows - r0 < j->rb ? j->sp->rows - r0 : j->rb;
    int g = h / group, row0 = j->sp->row0 + r0;
    dg_mat K = {.kind = DG_W_F32, .rows = nk, .cols = D, .w = (const uint8_t *)(j->kv->k + (size_t)g * j->kv->cap * D),
                .w_stride = (size_t)D * sizeof(float)};
    dg_mat VT = {.kind = DG_W_F32, .rows = D, .cols = nk, .w = (const uint8_t *)(c->att_vt + (size_t)g * D * nk),
                 .w_stride = (size_t)nk * sizeof(float)};
    float *S = c->att_scratch[thread];
    dg_gemm_rows(&c->k, thread, &K, 0, nk, c->q + (size_t)row0 * qd + (size_t)h * D, rows, qd, S, nk);
    for (int i = 0; i < rows; i++) {
        float *s = S + (size_t)i * nk;
        int lo = 0, hi = nk;        /* visible keys [lo, hi) */
        if (!j->ps->decoder) {
            int qpos = j->sp->pos0 + r0 + i;
            hi = qpos - j->key_pos0 + 1;
            if (!L->full && qpos - cfg->window + 1 - j->key_pos0 > lo) lo = qpos - cfg->window + 1 - j->key_pos0;
        }
        float mx = -INFINITY;
        for (int t = lo; t < hi; t++) if (s[t] > mx) mx = s[t];
        double sum = 0;
        for (int t = 0; t < nk; t++) {
            float e = t >= lo && t < hi ? expf(s[t] - mx) : 0.0f;
            s[t] = e;
            sum += e;
        }
        float inv = (float)(1.0 / sum);
        for (int t = lo; t < hi; t++) s[t] *= inv;
    }
    dg_gemm_rows(&c->k, thread, &VT, 0, D, S, rows, nk, c->att + (size_t)row0 * qd + (size_t)h * D, qd);
}

void dg_attention(const dg_pass *ps, int li) {
    dg_ctx *c = ps->c;
    const dg_layer *L = &c->m->layers[li];
    int D = L->D, nkv = L->n_kv, kvd = nkv * D, nq = c->m->cfg.n_heads;
    for (int s = 0; s < ps->nsp; s++) {
        const dg_span *sp = &ps->sp[s];
        dg_seq *seq = &c->seqs[sp->seq];
        dg_kv *kv = &seq->kv[li];
        att_job j = {ps, L, sp, kv, kv->n, 0, att_rows(c->pool, nq, sp->rows)};
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
        for (int g = 0; g < nkv; g++) {
            const float *V = kv->v + (size_t)g * kv->cap * D;
            float *VT = c->att_vt + (size_t)g * D * j.nk;
            for (int t = 0; t < j.nk; t++)
                for (int d = 0; d < D; d++) VT[(size_t)d * j.nk + t] = V[(size_t)t * D + d];
        }
        dg_pool_run(c->pool, nq * ((sp->rows + j.rb - 1) / j.rb), att_task, &j);
        c->prof.flops += 4.0 * nq * sp->rows * (double)j.nk * D;   /* Q K^T and P V */
    }
}
