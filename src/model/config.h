/* config.json of a DiffusionGemma checkpoint (MODEL.md §2): nested text_config, top-level
 * canvas_length, per-layer-type RoPE, optional MLX `quantization` block. */
#ifndef DG_MODEL_CONFIG_H
#define DG_MODEL_CONFIG_H
#include "dgemma.h"

#define DG_MAX_LAYERS 256

typedef struct dg_config {
    int vocab, hidden, n_layers, n_heads;
    int head_dim, n_kv;             /* sliding layers */
    int g_head_dim, g_n_kv;         /* full layers */
    int inter, n_experts, top_k, moe_inter;
    int window, canvas, max_pos;
    double eps, softcap;
    double theta_sliding, theta_full;
    int rot_pairs_full;             /* proportional RoPE: pairs that rotate */
    unsigned char full[DG_MAX_LAYERS];
    float embed_scale;              /* bf16(sqrt(hidden)) */
    void *quant;                    /* cJSON object "quantization" (owned) or NULL */
    void *gen_embedded;             /* cJSON "generation_config" inside config.json (owned) or NULL */
} dg_config;

/* Parses and validates; `path` names the file in messages. */
dg_status dg_config_parse(const char *json, const char *path, dg_config *c, dg_error *err);
void dg_config_free(dg_config *c);

#endif
