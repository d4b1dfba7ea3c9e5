/* The vocabulary side of the decoder (MODEL.md §4.9, §4.10): the self-conditioning input,
 * the tied head and the final logit softcap. Both products run over the whole 262,144-word
 * embedding table E. */
#include <string.h>
#include "kernels/isa.h"
#include "kernels/ops.h"
#include "model/forward.h"

typedef struct { float *p; int V; const dg_isa_table *t; } softmax_job;
static void softmax_row(void *user, int i, int thread) {
    softmax_job *j = user;
    j->t->softmax(j->p + (size_t)i * j->V, j->V);
}

/* soft[i] = softmax(sc[i]) E for the L rows of one canvas; sc becomes the probabilities. */
static void soft_embedding(dg_ctx *c, float *sc, float *soft) {
    const dg_model *m = c->m;
    int L = m->cfg.canvas, V = m->cfg.vocab, H = m->cfg.hidden;
    softmax_job sj = {sc, V, c->k.t};
    dg_pool_run(c->pool, L, softmax_row, &sj);
    dg_gemm_tn(&c->k, c->pool, &m->embed, sc, L, V, soft, H);
    c->prof.flops += 2.0 * L * (double)V * H;
    c->prof.weight_bytes += (double)dg_mat_bytes(&m->embed);
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
