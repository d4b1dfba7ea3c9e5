/* The loaded model: config, mapped weight files, and typed views of every tensor it uses. */
#ifndef DG_MODEL_MODEL_H
#define DG_MODEL_MODEL_H
#include "format/weights.h"
#include "kernels/gemm.h"
#include "model/config.h"

typedef struct dg_layer {
    int full, D, n_kv;                  /* geometry of this layer's attention */
    dg_mat q, k, v, o;                  /* v.w == NULL on full layers: V comes from k_proj */
    const float *q_norm, *k_norm;       /* [D] */
    const float *in_norm, *post_attn_norm, *pre_ff_norm, *post_ff_norm;
    const float *pre_ff2_norm, *post_ff1_norm, *post_ff2_norm;
    dg_mat gate, up, down;              /* dense MLP */
    dg_mat router;                      /* [E, H] */
    const float *router_scale;          /* [H] */
    const float *per_expert_scale;      /* [E] */
    dg_mat *exp_gate_up, *exp_down;     /* n_experts views each: [2*Ie, H], [H, Ie] */
    float scalar_dec, scalar_enc;
} dg_layer;

struct dg_model {
    dg_config cfg;
    dg_weights *w;
    dg_layer *layers;
    int n_layers;                       /* layers in use (may be cut by dg_load_params) */
    dg_mat embed;                       /* [V, H]: token embedding and tied head */
    const float *final_norm;
    const float *sc_pre_norm;
    dg_mat sc_gate, sc_up, sc_down;
    float *small;                       /* fp32 copies of norm vectors and scales (arena) */
    dg_gen_params gen;                  /* generation_config.json (or config.json's copy), validated */
    size_t weight_bytes;
    int quantized;
    int max_cols;                       /* widest matrix input (scratch sizing) */
};

#endif
