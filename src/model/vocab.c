/* The vocabulary side of the decoder (MODEL.md §4.9, §4.10): the self-conditioning input,
 * the tied head and the final logit softcap. Both products run over the whole 262,144-word
 * embedding table E. */
#include <string.h>
#include "kernels/isa.h"
#include "kernels/ops.h"
#include "model/forward.h"

/* Fast path: a soft-embedding row may leave out tokens worth at most this much probability
 * mass; its error is then at most SC_EPS * max |E| per component (gemm.h, dg_tn_sparse_row). A
 * model past its first steps concentrates the mass of most rows on a few tokens. 1e-5: with
 * 1e-3 and 1e-4 the golden trajectories' teacher-forced decisions changed on the fast path
 * (tiny-b, tiny-a-mlx4); with 1e-5 they match the precise path's. */
#define SC_EPS 1e-5

typedef struct { dg_ctx *c; float *p; float *soft; } softmax_job;

/* Softmax of row i in place; on the fast path, a row whose mass is concentrated is summed
 * sparsely right away (sc_cnt[i] = its token count, or -1: left to the dense product). */
static void softmax_row(void *user, int i, int thread) {
    softmax_job *j = user;
    dg_ctx *c = j->c;
    const dg_mat *E = &c->m->embed;
    float *p = j->p + (size_t)i * E->rows;
    c->k.t->softmax(p, E->rows);
    c->sc_cnt[i] = -1;
    if (c->k.precise) return;
    /* a listed token costs about what a token of the dense product costs a few rows: beyond
     * V/16 tokens the sparse sum stops paying */
    int cap = E->rows / 16 < DG_SC_CAP ? E->rows / 16 : DG_SC_CAP;
    int *idx = c->sc_idx + (size_t)i * DG_SC_CAP;
    double dropped;
    int n = dg_tn_select(p, E->rows, SC_EPS, cap, idx, &dropped);
    if (n < 0) return;
    float *tmp = c->exp_scratch[thread];     /* free during the decoder input */
    dg_tn_sparse_row(&c->k, E, p, idx, n, j->soft + (size_t)i * E->cols, tmp, (double *)(tmp + E->cols + 16));
    c->sc_cnt[i] = n;
}

static void sc_flops(dg_ctx *c, dg_ops kind, double flops) {
    c->prof.flops += flops;
    c->prof.ops[DG_PART_SELF_COND][kind] += flops;
}

/* soft[i] = softmax(sc[i]) E for the L rows of one canvas; sc becomes the probabilities.
 * Dense rows are moved to the front of sc (in order: a row only moves down) and go through one
 * GEMM into c->r, then back to their places. */
static void soft_embedding(dg_ctx *c, float *sc, float *soft) {
    const dg_model *m = c->m;
    int L = m->cfg.canvas, V = m->cfg.vocab, H = m->cfg.hidden, nd = 0;
    softmax_job sj = {c, sc, soft};
    dg_pool_run(c->pool, L, softmax_row, &sj);
    c->prof.sc_rows += L;
    for (int i = 0; i < L; i++) {
        if (c->sc_cnt[i] >= 0) { sc_flops(c, DG_OPS_FP32, 2.0 * c->sc_cnt[i] * H); c->prof.sc_sparse++; continue; }
        if (nd != i) memcpy(sc + (size_t)nd * V, sc + (size_t)i * V, (size_t)V * sizeof *sc);
        nd++;
    }
    if (nd == L) dg_gemm_tn(&c->k, c->pool, &m->embed, sc, L, V, soft, H);
    else if (nd) {
        dg_gemm_tn(&c->k, c->pool, &m->embed, sc, nd, V, c->r, H);
        for (int i = 0, d = 0; i < L; i++)
            if (c->sc_cnt[i] < 0) memcpy(soft + (size_t)i * H, c->r + (size_t)d++ * H, (size_t)H * sizeof *soft);
    }
    if (nd) {
        sc_flops(c, dg_gemm_tn_ops(&c->k, &m->embed), 2.0 * nd * (double)V * H);
        c->prof.weight_bytes += (double)dg_mat_bytes(&m->embed);
    }
}

void dg_decoder_input(dg_ctx *c, int n_seq, const int32_t *const *canvases, float *const *sc) {
    const dg_model *m = c->m;
    const dg_config *cfg = &m->cfg;
    int H = cfg->hidden, L = cfg->canvas, S = n_seq * L;
    int any_sc = 0;
    for (int s = 0; s < n_seq; s++) any_sc |= sc[s] != NULL;
    if (any_sc) {   /* SC = sc_mlp(rms_norm(53 softmax(sc) E)), zero rows for canvases without */
        for (int s = 0; s < n_seq; s++) {
            float *soft = c->a + (size_t)s * L * H;
            if (sc[s]) soft_embedding(c, sc[s], soft);
            else memset(soft, 0, (size_t)L * H * sizeof *soft);
        }
        for (int i = 0; i < S; i++) {
            float *n = c->a + (size_t)i * H;
            for (int d = 0; d < H; d++) n[d] *= cfg->embed_scale;
            dg_rmsnorm(n, n, m->sc_pre_norm, H, cfg->eps);
        }
        dg_gated_mlp(c, &m->sc_gate, &m->sc_up, &m->sc_down, c->a, S, c->m1);
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
}

void dg_head(dg_ctx *c, int n_seq, float *const *logits) {
    const dg_model *m = c->m;
    int H = m->cfg.hidden, L = m->cfg.canvas, V = m->cfg.vocab;
    for (int i = 0; i < n_seq * L; i++) dg_rmsnorm(c->xn + (size_t)i * H, c->x + (size_t)i * H, m->final_norm, H, m->cfg.eps);
    for (int s = 0; s < n_seq; s++) dg_mm(c, &m->embed, c->xn + (size_t)s * L * H, L, H, logits[s], V);
}

typedef struct { float *z; int V; double cap; const dg_isa_table *t; } softcap_job;
static void softcap_row(void *user, int i, int thread) {
    softcap_job *j = user;
    j->t->softcap(j->z + (size_t)i * j->V, j->V, j->cap);
}

void dg_softcap_logits(dg_ctx *c, int n_seq, float *const *logits) {
    const dg_config *cfg = &c->m->cfg;
    for (int s = 0; s < n_seq; s++) {
        softcap_job cj = {logits[s], cfg->vocab, cfg->softcap, c->k.t};
        dg_pool_run(c->pool, cfg->canvas, softcap_row, &cj);
    }
}
