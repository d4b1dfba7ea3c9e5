/* Mixture of experts (MODEL.md §4.6): the router picks top_k experts per row on the raw
 * post-attention residual; each expert is a gated GELU MLP run on the rows that chose it,
 * one pool task per expert; the outputs are summed with the router weights. */
#include <math.h>
#include <string.h>
#include "kernels/isa.h"
#include "kernels/ops.h"
#include "model/forward.h"

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

/* The step's expert load, for benchmarks: a synthetic checkpoint must route like a trained,
 * load-balanced one for the step's cost to mean anything. */
static void expert_load(dg_ctx *c, int E) {
    dg_step_profile *p = &c->prof;
    if (p->moe_layers >= c->m->n_layers) return;        /* decoder layers run once a step, in order */
    dg_expert_load *l = &c->exp_load[p->moe_layers];
    *l = (dg_expert_load){c->exp_count[0], c->exp_count[0], 0};
    for (int e = 0; e < E; e++) {
        int n = c->exp_count[e];
        if (n < l->rows_min) l->rows_min = n;
        if (n > l->rows_max) l->rows_max = n;
        l->experts_used += n > 0;
        p->expert_rows += n;
    }
    if (!p->moe_layers || l->rows_min < p->expert_rows_min) p->expert_rows_min = l->rows_min;
    if (!p->moe_layers || l->rows_max > p->expert_rows_max) p->expert_rows_max = l->rows_max;
    p->experts_used += l->experts_used;
    p->moe_layers++;
}

void dg_moe_route(const dg_pass *ps, int li) {
    dg_ctx *c = ps->c;
    const dg_layer *L = &c->m->layers[li];
    int S = ps->S, H = c->m->cfg.hidden;
    float rs = (float)(1.0 / sqrt((double)H));
    dg_norm_rows(c, c->h1, c->r, NULL, S);
    for (int i = 0; i < S; i++) {
        float *n = c->h1 + (size_t)i * H;
        for (int d = 0; d < H; d++) n[d] = n[d] * L->router_scale[d] * rs;
    }
    dg_mm(c, &L->router, c->h1, S, H, c->router_logits, c->m->cfg.n_experts);
    route_rows(c, L, S);
    if (ps->decoder) expert_load(c, c->m->cfg.n_experts);
}

typedef struct moe_job {
    dg_ctx *c;
    const dg_layer *L;
} moe_job;

/* One expert: gather its rows, gate_up, GELU x up, down, scatter into the slot outputs. */
static void expert_task(void *user, int task, int thread) {
    moe_job *j = user;
    dg_ctx *c = j->c;
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
    for (int i = 0; i < cnt; i++) c->k.t->gelu_mul(A + (size_t)i * Ie, GU + (size_t)i * 2 * Ie, GU + (size_t)i * 2 * Ie + Ie, Ie);
    dg_gemm_rows(&c->k, thread, &j->L->exp_down[e], 0, H, A, cnt, Ie, O, H);
    for (int i = 0; i < cnt; i++) memcpy(c->slot_out + (size_t)list[i] * H, O + (size_t)i * H, (size_t)H * sizeof *O);
}

/* m2 = post_ff2_norm(sum_k w_k slot_k), one row */
static void combine_row(void *user, int i, int thread) {
    const moe_job *j = user;
    dg_ctx *c = j->c;
    int H = c->m->cfg.hidden, K = c->m->cfg.top_k;
    float *m2 = c->m2 + (size_t)i * H;
    for (int d = 0; d < H; d++) m2[d] = 0;
    for (int k = 0; k < K; k++) {
        const float *o = c->slot_out + ((size_t)i * K + k) * H;
        float w = c->route_w[(size_t)i * K + k];
        for (int d = 0; d < H; d++) m2[d] += w * o[d];
    }
    dg_rmsnorm(m2, m2, j->L->post_ff2_norm, H, c->m->cfg.eps);
}

void dg_moe_experts(const dg_pass *ps, int li) {
    dg_ctx *c = ps->c;
    const dg_layer *L = &c->m->layers[li];
    const dg_config *cfg = &c->m->cfg;
    int S = ps->S, E = cfg->n_experts;
    dg_norm_rows(c, c->h1, c->r, L->pre_ff2_norm, S);
    moe_job mj = {c, L};
    dg_pool_run(c->pool, c->n_active, expert_task, &mj);
    for (int e = 0; e < E; e++)     /* the experts' products bypass dg_mm: count them here */
        if (c->exp_count[e]) {
            const dg_mat *gu = &L->exp_gate_up[e], *dn = &L->exp_down[e];
            dg_count_flops(c, gu, 2.0 * c->exp_count[e] * gu->rows * (double)gu->cols);
            dg_count_flops(c, dn, 2.0 * c->exp_count[e] * dn->rows * (double)dn->cols);
            c->prof.weight_bytes += (double)(dg_mat_bytes(gu) + dg_mat_bytes(dn));
        }
    dg_pool_run(c->pool, S, combine_row, &mj);
}
