#include "format/gguf_names.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { const char *gguf, *hf; } pair;

static const pair globals[] = {
    {"token_embd.weight", "model.decoder.embed_tokens.weight"},
    {"output_norm.weight", "model.decoder.norm.weight"},
    {"self_cond_pre_norm.weight", "model.decoder.self_conditioning.pre_norm.weight"},
    {"self_cond_gate.weight", "model.decoder.self_conditioning.gate_proj.weight"},
    {"self_cond_up.weight", "model.decoder.self_conditioning.up_proj.weight"},
    {"self_cond_down.weight", "model.decoder.self_conditioning.down_proj.weight"},
};

/* blk.N.<gguf> <-> model.decoder.layers.N.<hf> */
static const pair layer[] = {
    {"attn_norm.weight", "input_layernorm.weight"},
    {"attn_q.weight", "self_attn.q_proj.weight"},
    {"attn_k.weight", "self_attn.k_proj.weight"},
    {"attn_v.weight", "self_attn.v_proj.weight"},
    {"attn_output.weight", "self_attn.o_proj.weight"},
    {"attn_q_norm.weight", "self_attn.q_norm.weight"},
    {"attn_k_norm.weight", "self_attn.k_norm.weight"},
    {"post_attention_norm.weight", "post_attention_layernorm.weight"},
    {"ffn_norm.weight", "pre_feedforward_layernorm.weight"},
    {"ffn_gate.weight", "mlp.gate_proj.weight"},
    {"ffn_up.weight", "mlp.up_proj.weight"},
    {"ffn_down.weight", "mlp.down_proj.weight"},
    {"post_ffw_norm_1.weight", "post_feedforward_layernorm_1.weight"},
    {"pre_ffw_norm_2.weight", "pre_feedforward_layernorm_2.weight"},
    {"post_ffw_norm_2.weight", "post_feedforward_layernorm_2.weight"},
    {"post_ffw_norm.weight", "post_feedforward_layernorm.weight"},
    {"ffn_gate_inp.weight", "router.proj.weight"},
    {"ffn_gate_inp.scale", "router.scale"},
    {"ffn_gate_up_exps.weight", "experts.gate_up_proj"},
    {"ffn_down_exps.weight", "experts.down_proj"},
    {"ffn_down_exps.scale", "router.per_expert_scale"},
    {"layer_output_scale.weight", "layer_scalar"},
};

#define HF_LAYER "model.decoder.layers."
#define HF_ENC "model.encoder.language_model.layers."

/* "N.<rest>" after a prefix: the layer number and the rest; 0 if malformed. */
static int layer_of(const char *s, int *n, const char **rest) {
    char *end;
    if (*s < '0' || *s > '9') return 0;
    long v = strtol(s, &end, 10);
    if (*end != '.' || v > 100000) return 0;
    *n = (int)v;
    *rest = end + 1;
    return 1;
}

int dg_gguf_to_hf(const char *g, char *out, size_t n) {
    for (size_t i = 0; i < sizeof globals / sizeof *globals; i++)
        if (!strcmp(g, globals[i].gguf)) return snprintf(out, n, "%s", globals[i].hf) < (int)n;
    int L;
    const char *rest;
    if (strncmp(g, "blk.", 4) || !layer_of(g + 4, &L, &rest)) return 0;
    if (!strcmp(rest, "enc_layer_output_scale.weight")) return snprintf(out, n, HF_ENC "%d.layer_scalar", L) < (int)n;
    for (size_t i = 0; i < sizeof layer / sizeof *layer; i++)
        if (!strcmp(rest, layer[i].gguf)) return snprintf(out, n, HF_LAYER "%d.%s", L, layer[i].hf) < (int)n;
    return 0;
}

int dg_hf_to_gguf(const char *h, char *out, size_t n) {
    for (size_t i = 0; i < sizeof globals / sizeof *globals; i++)
        if (!strcmp(h, globals[i].hf)) return snprintf(out, n, "%s", globals[i].gguf) < (int)n;
    int L;
    const char *rest;
    if (!strncmp(h, HF_ENC, strlen(HF_ENC)) && layer_of(h + strlen(HF_ENC), &L, &rest) && !strcmp(rest, "layer_scalar"))
        return snprintf(out, n, "blk.%d.enc_layer_output_scale.weight", L) < (int)n;
    if (strncmp(h, HF_LAYER, strlen(HF_LAYER)) || !layer_of(h + strlen(HF_LAYER), &L, &rest)) return 0;
    for (size_t i = 0; i < sizeof layer / sizeof *layer; i++)
        if (!strcmp(rest, layer[i].hf)) return snprintf(out, n, "blk.%d.%s", L, layer[i].gguf) < (int)n;
    return 0;
}
