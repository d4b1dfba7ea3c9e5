/* The transformer forward pass (MODEL.md §4, §6, §7), precise fp32 path.
 * One layer function serves both modes; they differ in masks, cache policy and scalar. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/error.h"
#include "kernels/isa.h"
#include "kernels/ops.h"
#include "model/attention.h"
#include "model/context.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef dg_pass pass;

/* Every weight product of the pass goes through here, so the profile counts flops and the
 * bytes of weights read. */
static void mm(dg_ctx *c, const dg_mat *W, const float *X, int n, int ldx, float *Y, int ldy) {
    dg_gemm(&c->k, c->pool, W, X, n, ldx, Y, ldy);
    c->prof.flops += 2.0 * n * W->rows * W->cols;
    c->prof.weight_bytes += (double)dg_mat_bytes(W);
}

/* ---------------------------------------------------------------- RoPE */

/* cos/sin of every row's position for both layer types: angle = p * inv_freq, in double
 * (the precise path keeps RoPE in full precision, MODEL.md §3). */
static void rope_tables(pass *ps) {
    dg_ctx *c = ps->c;
    const dg_config *cfg = &c->m->cfg;
    int hs = cfg->head_dim / 2, hf = cfg->g_head_dim / 2, hmax = hs > hf ? hs : hf;
    for (int s = 0; s < ps->nsp; s++)
        for (int i = 0; i < ps->sp[s].rows; i++) {
            int row = ps->sp[s].row0 + i;
            double p = (double)(ps->sp[s].pos0 + i);
            float *cs = c->rope_cs + (size_t)row * hmax, *sn = c->rope_sn + (size_t)row * hmax;
            float *cf = cs + (size_t)c->max_rows * hmax, *sf = sn + (size_t)c->max_rows * hmax;
            for (int j = 0; j < hs; j++) { cs[j] = (float)cos(p * c->inv_freq_s[j]); sn[j] = (float)sin(p * c->inv_freq_s[j]); }
            for (int j = 0; j < hf; j++) { cf[j] = (float)cos(p * c->inv_freq_f[j]); sf[j] = (float)sin(p * c->inv_freq_f[j]); }
        }
}

/* ---------------------------------------------------------------- parallel row helpers */

typedef struct rows_job {
    pass *ps;
    const dg_layer *L;
    int li;
} rows_job;

/* q/k/v head norms and RoPE for one row. */
static void qkv_row(void *user, int row, int thread) {
    rows_job *j = user;
    dg_ctx *c = j->ps->c;
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

/* ---------------------------------------------------------------- MoE */

typedef struct moe_job {
    pass *ps;
    const dg_layer *L;
} moe_job;

/* One expert: gather its rows, gate_up, GELU x up, down, scatter into the slot outputs. */
static void expert_task(void *user, int task, int thread) {
    moe_job *j = user;
    dg_ctx *c = j->ps->c;
    int e = c->exp_order[task];
    const dg_config *cfg = &c->m->cfg;
    int cnt = c->exp_count[e];
    if (!cnt) return;
    int H = cfg->hidden, Ie = cfg->moe_inter, K = cfg->top_k;
    const int *list = c->exp_rows + (size_t)e * c->max_rows;
    float *X = c->exp_scratch[thread], *GU = X + (size_t)c->max_rows * H, *A = GU + (size_t)c->max_rows * 2 * Ie;
    float *O = A + (size_t)c->max_rows * Ie;
    for (int i = 0; i < cnt; i++) memcpy(X + (size_t)i * H, c->h1 + (size_t)(list[i] / K) * H, (size_t)H * sizeof *X);
    dg_gemm_rows(&c->k, thread, &j->L->exp_gate_up[e], 0, 2 * Ie, X, cnt, H, GU, 2 * Ie);
    for (int i = 0; i < cnt; i++) dg_gelu_mul(A + (size_t)i * Ie, GU + (size_t)i * 2 * Ie, GU + (size_t)i * 2 * Ie + Ie, Ie);
    dg_gemm_rows(&c->k, thread, &j->L->exp_down[e], 0, H, A, cnt, Ie, O, H);
    for (int i = 0; i < cnt; i++) memcpy(c->slot_out + (size_t)list[i] * H, O + (size_t)i * H, (size_t)H * sizeof *O);
}

/* Softmax over all experts, top-k (ties: lower id), renormalise, x per_expert_scale. */
static void route_rows(dg_ctx *c, const dg_layer *L, int S) {
    const dg_config *cfg = &c->m->cfg;
    int E = cfg->n_experts, K = cfg->top_k;
    for (int e = 0; e < E; e++) c->exp_count[e] = 0;
    for (int i = 0; i < S; i++) {
        const float *z = c->router_logits + (size_t)i * E;
        float mx = -INFINITY;
        for (int e = 0; e < E; e++) if (z[e] > mx) mx = z[e];
        int *idx = c->route_idx + (size_t)i * K;
        float *w = c->route_w + (size_t)i * K;
        /* softmax is monotonic: select on raw scores, then normalise the chosen ones */
        for (int k = 0; k < K; k++) {
            int best = -1;
            for (int e = 0; e < E; e++) {
                int taken = 0;
                for (int t = 0; t < k; t++) taken |= idx[t] == e;
                if (!taken && (best < 0 || z[e] > z[best])) best = e;
            }
            idx[k] = best;
        }
        double tot = 0, sel = 0;
        for (int e = 0; e < E; e++) tot += exp((double)z[e] - mx);
        for (int k = 0; k < K; k++) sel += exp((double)z[idx[k]] - mx) / tot;
        for (int k = 0; k < K; k++) {
            double p = exp((double)z[idx[k]] - mx) / tot;
            w[k] = (float)(p / sel) * L->per_expert_scale[idx[k]];
            int e = idx[k];
            c->exp_rows[(size_t)e * c->max_rows + c->exp_count[e]++] = i * K + k;
        }
    }
    /* Tasks longest first (LPT): handed out in this order, the big experts start early and the
     * small ones fill the tail, instead of a big one picked last keeping the others waiting. */
    c->n_active = 0;
    for (int e = 0; e < E; e++) {
        if (!c->exp_count[e]) continue;
        int at = c->n_active++;
        while (at > 0 && c->exp_count[c->exp_order[at - 1]] < c->exp_count[e]) {
            c->exp_order[at] = c->exp_order[at - 1];
            at--;
        }
        c->exp_order[at] = e;
    }
}

/* ---------------------------------------------------------------- one layer */

static void tap(dg_ctx *c, const char *what, int layer, const float *d, int d0, int d1, int d2) {
    if (c->tap) c->tap(c->tap_user, what, layer, d, d0, d1, d2);
}

static void layer_forward(pass *ps, int li) {
    dg_ctx *c = ps->c;
    const dg_model *m = c->m;
    const dg_config *cfg = &m->cfg;
    const dg_layer *L = &m->layers[li];
    int S = ps->S, H = cfg->hidden, D = L->D, nq = cfg->n_heads, nkv = L->n_kv;
    int qd = nq * D, kvd = nkv * D, I = cfg->inter, E = cfg->n_experts, K = cfg->top_k;
    double eps = cfg->eps, t0 = now();

    /* attention */
    for (int i = 0; i < S; i++) dg_rmsnorm(c->xn + (size_t)i * H, c->x + (size_t)i * H, L->in_norm, H, eps);
    mm(c, &L->q, c->xn, S, H, c->q, qd);
    mm(c, &L->k, c->xn, S, H, c->kn, kvd);
    if (!L->full) mm(c, &L->v, c->xn, S, H, c->vn, kvd);
    rows_job rj = {ps, L, li};
    dg_pool_run(c->pool, S, qkv_row, &rj);

    if (!ps->decoder) {     /* append the new K/V to the cache */
        for (int s = 0; s < ps->nsp; s++) {
            const dg_span *sp = &ps->sp[s];
            dg_kv *kv = &c->seqs[sp->seq].kv[li];
            for (int g = 0; g < nkv; g++)
                for (int i = 0; i < sp->rows; i++) {
                    size_t dst = ((size_t)g * kv->cap + (size_t)(kv->n + i)) * D;
                    memcpy(kv->k + dst, c->kn + (size_t)(sp->row0 + i) * kvd + (size_t)g * D, (size_t)D * sizeof(float));
                    memcpy(kv->v + dst, c->vn + (size_t)(sp->row0 + i) * kvd + (size_t)g * D, (size_t)D * sizeof(float));
                }
            kv->n += sp->rows;
            if (c->tap)
                for (int g = 0; g < nkv; g++) {
                    size_t off = ((size_t)g * kv->cap + (size_t)(kv->n - sp->rows)) * D;
                    tap(c, "enc.k", li, kv->k + off, g, sp->rows, D);
                    tap(c, "enc.v", li, kv->v + off, g, sp->rows, D);
                }
        }
    }
    int last_encoder_layer = !ps->decoder && li == m->n_layers - 1 && !c->tap;
    if (!last_encoder_layer) {   /* the encoder's output after the last K/V is never used */
        dg_attention(ps, li);
        mm(c, &L->o, c->att, S, qd, c->a, H);
        for (int i = 0; i < S; i++) {
            float *a = c->a + (size_t)i * H, *r = c->r + (size_t)i * H;
            const float *x = c->x + (size_t)i * H;
            dg_rmsnorm(a, a, L->post_attn_norm, H, eps);
            for (int d = 0; d < H; d++) r[d] = x[d] + a[d];
        }
    }
    double t1 = now();
    c->prof.attention += t1 - t0;
    if (!last_encoder_layer) {
        /* dense MLP */
        for (int i = 0; i < S; i++) dg_rmsnorm(c->h1 + (size_t)i * H, c->r + (size_t)i * H, L->pre_ff_norm, H, eps);
        mm(c, &L->gate, c->h1, S, H, c->g, I);
        mm(c, &L->up, c->h1, S, H, c->u, I);
        for (int i = 0; i < S; i++) dg_gelu_mul(c->g + (size_t)i * I, c->g + (size_t)i * I, c->u + (size_t)i * I, I);
        mm(c, &L->down, c->g, S, I, c->m1, H);
        for (int i = 0; i < S; i++) dg_rmsnorm(c->m1 + (size_t)i * H, c->m1 + (size_t)i * H, L->post_ff1_norm, H, eps);
        double t2 = now();
        c->prof.dense_mlp += t2 - t1;

        /* router: on the raw post-attention residual */
        float rs = (float)(1.0 / sqrt((double)H));
        for (int i = 0; i < S; i++) {
            float *n = c->h1 + (size_t)i * H;
            dg_rmsnorm(n, c->r + (size_t)i * H, NULL, H, eps);
            for (int d = 0; d < H; d++) n[d] = n[d] * L->router_scale[d] * rs;
        }
        mm(c, &L->router, c->h1, S, H, c->router_logits, E);
        route_rows(c, L, S);
        double t3 = now();
        c->prof.router += t3 - t2;

        /* experts */
        for (int i = 0; i < S; i++) dg_rmsnorm(c->h1 + (size_t)i * H, c->r + (size_t)i * H, L->pre_ff2_norm, H, eps);
        moe_job mj = {ps, L};
        dg_pool_run(c->pool, c->n_active, expert_task, &mj);
        for (int e = 0; e < E; e++)
            if (c->exp_count[e]) {
                const dg_mat *gu = &L->exp_gate_up[e], *dn = &L->exp_down[e];
                c->prof.flops += 2.0 * c->exp_count[e] * ((double)gu->rows * gu->cols + (double)dn->rows * dn->cols);
                c->prof.weight_bytes += (double)(dg_mat_bytes(gu) + dg_mat_bytes(dn));
            }
        for (int i = 0; i < S; i++) {
            float *m2 = c->m2 + (size_t)i * H;
            for (int d = 0; d < H; d++) m2[d] = 0;
            for (int k = 0; k < K; k++) {
                const float *o = c->slot_out + ((size_t)i * K + k) * H;
                float w = c->route_w[(size_t)i * K + k];
                for (int d = 0; d < H; d++) m2[d] += w * o[d];
            }
            dg_rmsnorm(m2, m2, L->post_ff2_norm, H, eps);
        }
        double t4 = now();
        c->prof.experts += t4 - t3;

        float scalar = ps->decoder ? L->scalar_dec : L->scalar_enc;
        for (int i = 0; i < S; i++) {
            float *m1 = c->m1 + (size_t)i * H, *x = c->x + (size_t)i * H;
            const float *m2 = c->m2 + (size_t)i * H, *r = c->r + (size_t)i * H;
            for (int d = 0; d < H; d++) m1[d] += m2[d];
            dg_rmsnorm(m1, m1, L->post_ff_norm, H, eps);
            for (int d = 0; d < H; d++) x[d] = (r[d] + m1[d]) * scalar;
        }
        c->prof.other += now() - t4;
        if (c->tap && ps->decoder) {
            float *tmp = c->router_logits;  /* reuse: indices as floats for the tap */
            for (int i = 0; i < S * K; i++) tmp[i] = (float)c->route_idx[i];
            tap(c, "dec.router_idx", li, tmp, S, K, 0);
            tap(c, "dec.router_w", li, c->route_w, S, K, 0);
        }
        tap(c, ps->decoder ? "dec.h" : "enc.h", li, c->x, S, H, 0);
    }
}

/* ---------------------------------------------------------------- passes */

dg_status dg_forward_encode(dg_ctx *c, int seq, const int32_t *ids, int n, dg_error *err) {
    const dg_model *m = c->m;
    const dg_config *cfg = &m->cfg;
    int H = cfg->hidden;
    dg_seq *sq = &c->seqs[seq];
    dg_span sp = {seq, 0, n, sq->len};
    pass ps = {c, &sp, 1, n, 0};
    for (int i = 0; i < n; i++) {
        float *x = c->x + (size_t)i * H;
        dg_mat_row(&m->embed, ids[i], x);
        for (int d = 0; d < H; d++) x[d] *= cfg->embed_scale;
    }
    rope_tables(&ps);
    for (int li = 0; li < m->n_layers; li++) layer_forward(&ps, li);
    /* sliding layers keep only the last W-1 positions */
    for (int li = 0; li < m->n_layers; li++) {
        const dg_layer *L = &m->layers[li];
        dg_kv *kv = &sq->kv[li];
        int keep = cfg->window - 1;
        if (L->full || kv->n <= keep) continue;
        int drop = kv->n - keep;
        for (int g = 0; g < L->n_kv; g++) {
            size_t base = (size_t)g * kv->cap * L->D;
            memmove(kv->k + base, kv->k + base + (size_t)drop * L->D, (size_t)keep * L->D * sizeof(float));
            memmove(kv->v + base, kv->v + base + (size_t)drop * L->D, (size_t)keep * L->D * sizeof(float));
        }
        kv->n = keep;
    }
    sq->len += n;
    (void)err;
    return DG_OK;
}

/* Softmax of each row in place (the self-conditioning probabilities). */
typedef struct { float *p; int V; const dg_isa_table *t; } softmax_job;
static void softmax_row(void *user, int i, int thread) {
    softmax_job *j = user;
    j->t->softmax(j->p + (size_t)i * j->V, j->V);
}

typedef struct { float *z; int V; double cap; const dg_isa_table *t; } softcap_job;
static void softcap_row(void *user, int i, int thread) {
    softcap_job *j = user;
    j->t->softcap(j->z + (size_t)i * j->V, j->V, j->cap);
}

dg_status dg_forward_decode(dg_ctx *c, int n_seq, const int *seqs, const int32_t *const *canvases,
                            float *const *sc, float *const *logits, dg_error *err) {
    const dg_model *m = c->m;
    const dg_config *cfg = &m->cfg;
    int H = cfg->hidden, L = cfg->canvas, V = cfg->vocab, I = cfg->inter, S = n_seq * L;
    dg_span sp[64];
    memset(&c->prof, 0, sizeof c->prof);
    double t0 = now();
    for (int s = 0; s < n_seq; s++) sp[s] = (dg_span){seqs[s], s * L, L, c->seqs[seqs[s]].len};
    pass ps = {c, sp, n_seq, S, 1};

    /* decoder input: rms_norm_noweight(53 E[c] + SC), MODEL.md §4.9 */
    int any_sc = 0;
    for (int s = 0; s < n_seq; s++) any_sc |= sc[s] != NULL;
    if (any_sc) {
        for (int s = 0; s < n_seq; s++) {
            float *soft = c->a + (size_t)s * L * H;
            if (!sc[s]) { memset(soft, 0, (size_t)L * H * sizeof *soft); continue; }
            softmax_job sj = {sc[s], V, c->k.t};
            dg_pool_run(c->pool, L, softmax_row, &sj);
            dg_gemm_tn(&c->k, c->pool, &m->embed, sc[s], L, V, soft, H);
            c->prof.flops += 2.0 * L * (double)V * H;
            c->prof.weight_bytes += (double)dg_mat_bytes(&m->embed);
        }
        for (int i = 0; i < S; i++) {
            float *n = c->a + (size_t)i * H;
            for (int d = 0; d < H; d++) n[d] *= cfg->embed_scale;
            dg_rmsnorm(n, n, m->sc_pre_norm, H, cfg->eps);
        }
        mm(c, &m->sc_gate, c->a, S, H, c->g, I);
        mm(c, &m->sc_up, c->a, S, H, c->u, I);
        for (int i = 0; i < S; i++) dg_gelu_mul(c->g + (size_t)i * I, c->g + (size_t)i * I, c->u + (size_t)i * I, I);
        mm(c, &m->sc_down, c->g, S, I, c->m1, H);
    }
    for (int s = 0; s < n_seq; s++)
        for (int i = 0; i < L; i++) {
            int row = s * L + i;
            float *x = c->x + (size_t)row * H;
            dg_mat_row(&m->embed, canvases[s][i], x);
            for (int d = 0; d < H; d++) {
                x[d] *= cfg->embed_scale;
                if (any_sc) x[d] += c->m1[(size_t)row * H + d];
            }
            dg_rmsnorm(x, x, NULL, H, cfg->eps);
        }
    double t1 = now();
    c->prof.self_cond = t1 - t0;
    tap(c, "dec.x0", -1, c->x, S, H, 0);

    rope_tables(&ps);
    for (int li = 0; li < m->n_layers; li++) layer_forward(&ps, li);

    double t2 = now();
    for (int i = 0; i < S; i++) dg_rmsnorm(c->xn + (size_t)i * H, c->x + (size_t)i * H, m->final_norm, H, cfg->eps);
    for (int s = 0; s < n_seq; s++) {
        mm(c, &m->embed, c->xn + (size_t)s * L * H, L, H, logits[s], V);
        if (c->tap) tap(c, "dec.prelogits", -1, logits[s], L, V, 0);
        softcap_job cj = {logits[s], V, cfg->softcap, c->k.t};
        dg_pool_run(c->pool, L, softcap_row, &cj);
    }
    double t3 = now();
    c->prof.head = t3 - t2;
    c->prof.total = t3 - t0;
    (void)err;
    return DG_OK;
}
