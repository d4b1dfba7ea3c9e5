/* Attention as two GEMMs per (kv head, block of query rows): the query heads that share a kv
 * head (GQA) are stacked into one activation block, so each packing of the cached K (and of
 * Vᵀ) serves all of them; scores = Q Kᵀ against the cache laid out [kv_head][pos][D], masked
 * softmax (the table's vector one on the fast path), then out = P V with V transposed once per layer, in
 * parallel. Scale 1.0 (the q/k norms replace 1/sqrt(D)); query head h reads kv head
 * h / (nq / nkv). */
#include "model/attention.h"
#include <math.h>
#include <string.h>
#include "kernels/ops.h"
#include "model/forward.h"
#include "kernels/isa.h"

typedef struct att_job {
    const dg_pass *ps;
    const dg_layer *L;
    const dg_span *sp;
    dg_kv *kv;
    int nk;             /* keys: cache entries (+ staged canvas rows in the decoder) */
    int key_pos0;       /* absolute position of key 0 */
    int rb;             /* query rows per task (each stacks the kv head's query heads) */
    const dg_attpath *ap;   /* the table's packed path (c->att_vt holds K/V packed), or NULL */
} att_job;

/* Query rows per task: at most rb_max (the scratch holds att_rows stacked rows), at least 6
 * (one micro-kernel call), in as many blocks per kv head as fill the threads best. */
static int att_rows(dg_pool *pool, int nkv, int rows, int rb_max) {
    int lo = (rows + rb_max - 1) / rb_max, hi = (rows + 5) / 6;
    int parts = dg_pool_parts(pool, nkv, lo, hi < lo ? lo : hi);
    return (rows + parts - 1) / parts;
}

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
    dg_mat K = {.kind = DG_W_F32, .rows = nk, .cols = D, .w = (const uint8_t *)dg_kv_k(j->kv, g),
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
    const dg_attpath *ap = j->ap;
    const uint8_t *kvp = (const uint8_t *)c->att_vt + (ap ? (size_t)g * ap->kv_bytes(nk, D) : 0);
    void *ascr = S + c->att_pscr;
    if (ap) ap->scores(kvp, nk, D, Xq, n, S, nk, ascr);
    else dg_gemm_rows(&c->k, thread, &K, 0, nk, Xq, n, D, S, nk);
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
    if (ap) ap->apply(kvp, nk, D, S, n, nk, O, ascr);
    else dg_gemm_rows(&c->k, thread, &VT, 0, D, S, n, nk, O, D);
    for (int hh = 0; hh < group; hh++)
        for (int i = 0; i < rows; i++)
            memcpy(c->att + (size_t)(row0 + i) * qd + (size_t)(g * group + hh) * D, O + ((size_t)hh * rows + i) * D,
                   (size_t)D * sizeof *O);
}

/* What the products read, once per layer call, keys [t0, t0 + VT_KEYS) of one kv head: the
 * table's packed K/V, or Vᵀ (16 dims at a time, so that reads and writes both run along rows). */
#define VT_KEYS 256
typedef struct vt_job { const dg_kv *kv; float *vt; int D, nk, nblk; const dg_attpath *ap; } vt_job;

static void vt_task(void *user, int task, int thread) {
    vt_job *j = user;
    int g = task / j->nblk, t0 = (task % j->nblk) * VT_KEYS, t1 = t0 + VT_KEYS < j->nk ? t0 + VT_KEYS : j->nk, D = j->D;
    const float *V = dg_kv_v(j->kv, g);
    if (j->ap) {
        j->ap->pack(dg_kv_k(j->kv, g), V, j->nk, D, t0, t1, (uint8_t *)j->vt + (size_t)g * j->ap->kv_bytes(j->nk, D));
        return;
    }
    float *VT = j->vt + (size_t)g * D * j->nk;
    for (int d0 = 0; d0 < D; d0 += 16) {
        int d1 = d0 + 16 < D ? d0 + 16 : D;
        for (int t = t0; t < t1; t++)
            for (int d = d0; d < d1; d++) VT[(size_t)d * j->nk + t] = V[(size_t)t * D + d];
    }
}

/* Reads q, kn, vn of the pass (post norm and RoPE), writes att. Encoder: the new K/V are
 * already appended to the cache; causal (+ window on sliding layers). Decoder: the canvas
 * K/V are staged after the cache entries (not committed); bidirectional. */
static void attend(const dg_pass *ps, int li) {
    dg_ctx *c = ps->c;
    const dg_layer *L = &c->m->layers[li];
    int D = L->D, nkv = L->n_kv, kvd = nkv * D, nq = c->m->cfg.n_heads;
    for (int s = 0; s < ps->nsp; s++) {
        const dg_span *sp = &ps->sp[s];
        dg_seq *seq = &c->seqs[sp->seq];
        dg_kv *kv = &seq->kv[li];
        const dg_attpath *ap = dg_kernels_att(&c->k);
        att_job j = {ps, L, sp, kv, kv->n, 0, att_rows(c->pool, nkv, sp->rows, c->att_rows / (nq / nkv)), ap};
        if (ps->decoder) {
            /* stage the canvas K/V after the cache entries; kv->n stays: nothing is committed */
            dg_kv_stage(kv, c->kn + (size_t)sp->row0 * kvd, c->vn + (size_t)sp->row0 * kvd, sp->rows);
            j.nk = kv->n + sp->rows;
            j.key_pos0 = seq->len - kv->n;
        } else {
            j.key_pos0 = seq->len - (kv->n - sp->rows);
        }
        vt_job vj = {kv, c->att_vt, D, j.nk, (j.nk + VT_KEYS - 1) / VT_KEYS, ap};
        dg_pool_run(c->pool, nkv * vj.nblk, vt_task, &vj);
        dg_pool_run(c->pool, nkv * ((sp->rows + j.rb - 1) / j.rb), att_task, &j);
        double fl = 4.0 * nq * sp->rows * (double)j.nk * D;   /* Q K^T and P V */
        c->prof.flops += fl;
        c->prof.ops[DG_PART_ATTENTION][ap ? ap->ops : DG_OPS_FP32] += fl;
    }
}

/* A layer's row tasks: the head norms and RoPE, and the residual after o_proj */
typedef struct { dg_ctx *c; const dg_layer *L; } layer_job;

/* q/k/v head norms and RoPE for one row (V has no RoPE; full layers take V from raw K). */
static void qkv_row(void *user, int row, int thread) {
    const layer_job *j = user;
    dg_ctx *c = j->c;
    const dg_layer *L = j->L;
    const dg_config *cfg = &c->m->cfg;
    int D = L->D, nq = cfg->n_heads, nkv = L->n_kv;
    int hmax = (cfg->head_dim > cfg->g_head_dim ? cfg->head_dim : cfg->g_head_dim) / 2;
    const float *cs = c->rope_cs + (size_t)row * hmax + (L->full ? (size_t)c->max_rows * hmax : 0);
    const float *sn = c->rope_sn + (size_t)row * hmax + (L->full ? (size_t)c->max_rows * hmax : 0);
    float *q = c->q + (size_t)row * nq * D, *k = c->kn + (size_t)row * nkv * D, *v = c->vn + (size_t)row * nkv * D;
    for (int h = 0; h < nq; h++) {
        dg_rmsnorm(q + h * D, q + h * D, L->q_norm, D, cfg->eps);
        dg_rope(q + h * D, cs, sn, D);
    }
    if (L->full) memcpy(v, k, (size_t)nkv * D * sizeof *v);   /* V = v_norm(raw k_proj output) */
    for (int h = 0; h < nkv; h++) {
        dg_rmsnorm(v + h * D, v + h * D, NULL, D, cfg->eps);
        dg_rmsnorm(k + h * D, k + h * D, L->k_norm, D, cfg->eps);
        dg_rope(k + h * D, cs, sn, D);
    }
}

void dg_attention_qkv(const dg_pass *ps, int li) {
    dg_ctx *c = ps->c;
    const dg_layer *L = &c->m->layers[li];
    int S = ps->S, H = c->m->cfg.hidden, qd = c->m->cfg.n_heads * L->D, kvd = L->n_kv * L->D;
    dg_norm_rows(c, c->xn, c->x, L->in_norm, S);
    dg_mm(c, &L->q, c->xn, S, H, c->q, qd);
    dg_mm(c, &L->k, c->xn, S, H, c->kn, kvd);
    if (!L->full) dg_mm(c, &L->v, c->xn, S, H, c->vn, kvd);
    layer_job j = {c, L};
    dg_pool_run(c->pool, S, qkv_row, &j);
}

/* r = x + post_attn_norm(a), one row */
static void residual_row(void *user, int i, int thread) {
    const layer_job *j = user;
    dg_ctx *c = j->c;
    int H = c->m->cfg.hidden;
    float *a = c->a + (size_t)i * H, *r = c->r + (size_t)i * H;
    const float *x = c->x + (size_t)i * H;
    dg_rmsnorm(a, a, j->L->post_attn_norm, H, c->m->cfg.eps);
    for (int d = 0; d < H; d++) r[d] = x[d] + a[d];
}

void dg_attention_out(const dg_pass *ps, int li) {
    dg_ctx *c = ps->c;
    const dg_layer *L = &c->m->layers[li];
    int S = ps->S, H = c->m->cfg.hidden, qd = c->m->cfg.n_heads * L->D;
    attend(ps, li);
    dg_mm(c, &L->o, c->att, S, qd, c->a, H);
    layer_job j = {c, L};
    dg_pool_run(c->pool, S, residual_row, &j);
}
