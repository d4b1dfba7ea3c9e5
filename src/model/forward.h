/* The blocks of the forward pass (MODEL.md §4), shared by forward.c, which composes them into
 * layers and passes and keeps the profile and the debug taps outside the math. Each block reads
 * and writes the context's activation buffers, named as in MODEL.md. */
#ifndef DG_MODEL_FORWARD_H
#define DG_MODEL_FORWARD_H
#include "model/context.h"

/* Y = X Wᵀ (n rows): every weight product of the pass goes through here, so the profile
 * counts its flops and weight bytes. */
void dg_mm(dg_ctx *c, const dg_mat *W, const float *X, int n, int ldx, float *Y, int ldy);
/* Adds flops of a product with W to the profile, in the current part (c->part), by the kind of
 * kernel W gets; for products that bypass dg_mm. */
void dg_count_flops(dg_ctx *c, const dg_mat *W, double flops);

/* y[i] = rms_norm(x[i]) * w (w NULL: none) for S rows of width hidden, in parallel over rows:
 * the norms between the products were a serial pass each (y may be x). */
void dg_norm_rows(dg_ctx *c, float *y, const float *x, const float *w, int S);

/* Y = down(gelu(gate X) * up X) for S rows of width hidden; c->g, c->u are the scratch. */
void dg_gated_mlp(dg_ctx *c, const dg_mat *gate, const dg_mat *up, const dg_mat *down,
                  const float *X, int S, float *Y);

/* Attention (attention.c). qkv: x -> xn, q, kn, vn (projections, head norms, RoPE).
 * out: attention over the cache (+ staged canvas), o_proj, post norm, r = x + attn. */
void dg_attention_qkv(const dg_pass *ps, int li);
void dg_attention_out(const dg_pass *ps, int li);

/* Dense MLP (mlp.c): r -> m1 = post_ff1_norm(mlp(pre_ff_norm(r))). */
void dg_dense_mlp(const dg_pass *ps, int li);

/* MoE (moe.c). route: r -> route_idx, route_w, the experts' row lists.
 * experts: r -> m2 = post_ff2_norm(sum_k w_k expert_k(pre_ff2_norm(r))). */
void dg_moe_route(const dg_pass *ps, int li);
void dg_moe_experts(const dg_pass *ps, int li);

/* Vocabulary side (vocab.c). self_cond: the decoder input x = rms_norm(53 E[c] + SC(sc)),
 * SC = sc_mlp(rms_norm(53 softmax(sc) E)); consumes sc in place (MODEL.md §4.9).
 * head: x -> logits = final_norm(x) Eᵀ (tied head); softcap: logits = cap tanh(logits / cap). */
void dg_decoder_input(dg_ctx *c, int n_seq, const int32_t *const *canvases, float *const *sc);
void dg_head(dg_ctx *c, int n_seq, float *const *logits);
void dg_softcap_logits(dg_ctx *c, int n_seq, float *const *logits);

#endif
