/* The gated GELU MLP (MODEL.md §4.5), used by the dense MLP of every layer and by the
 * self-conditioning projection. */
#include "kernels/isa.h"
#include "kernels/ops.h"
#include "model/forward.h"

void dg_gated_mlp(dg_ctx *c, const dg_mat *gate, const dg_mat *up, const dg_mat *down,
                  const float *X, int S, float *Y) {
    int H = gate->cols, I = gate->rows;
    dg_mm(c, gate, X, S, H, c->g, I);
    dg_mm(c, up, X, S, H, c->u, I);
    c->k.t->gelu_mul(c->g, c->g, c->u, S * I);   /* elementwise over the S x I block */
    dg_mm(c, down, c->g, S, I, Y, down->rows);
}

void dg_dense_mlp(const dg_pass *ps, int li) {
    dg_ctx *c = ps->c;
    const dg_layer *L = &c->m->layers[li];
    int S = ps->S;
    dg_norm_rows(c, c->h1, c->r, L->pre_ff_norm, S);
    dg_gated_mlp(c, &L->gate, &L->up, &L->down, c->h1, S, c->m1);
    dg_norm_rows(c, c->m1, c->m1, L->post_ff1_norm, S);
}
