/* dgemma quantize to GGUF (quantize.h): metadata from the loaded config, tensors renamed to the
 * draft convention, streamed row chunk by row chunk through the block quantizer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/error.h"
#include "core/ggml_type.h"
#include "format/ggml_quant.h"
#include "format/gguf_names.h"
#include "model/model.h"
#include "model/quantize.h"

#define ARCH "diffusion-gemma."
#define CHUNK (1 << 20)     /* fp32 values per chunk */

typedef struct item {
    char name[128];
    const dg_tensor *t;     /* NULL: rope_freqs, generated */
    int type, layer, nd;
    int64_t ne[4];
} item;

static int ends(const char *s, const char *x) { size_t n = strlen(s), k = strlen(x); return n >= k && !strcmp(s + n - k, x); }

/* llama-quantize's use_more_bits: the first and last eighth of the layers and every third one
 * between. */
static int more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

static int pick(dg_gguf_recipe r, const item *it, const dg_config *c, int n_v_before) {
    const char *n = it->name;
    if (it->nd == 1 || ends(n, "ffn_gate_inp.weight")) return DG_GGML_F32;
    int t;
    if (r == DG_GGUF_Q8_0) t = DG_GGML_Q8_0;
    else if (!strcmp(n, "token_embd.weight")) t = DG_GGML_Q6_K;
    else if (ends(n, ".attn_v.weight")) {
        int n_v = 0;
        for (int i = 0; i < c->n_layers; i++) n_v += !c->full[i];
        t = c->n_experts == 8 ? DG_GGML_Q8_0 : more_bits(n_v_before, n_v) ? DG_GGML_Q6_K : DG_GGML_Q4_K;
    } else if (ends(n, ".attn_k.weight")) t = c->n_experts == 8 ? DG_GGML_Q8_0 : DG_GGML_Q4_K;
    else if (ends(n, ".attn_output.weight")) t = c->n_experts == 8 ? DG_GGML_Q5_K : DG_GGML_Q4_K;
    else if (ends(n, ".ffn_down.weight") || ends(n, ".ffn_down_exps.weight")) t = more_bits(it->layer, c->n_layers) ? DG_GGML_Q6_K : DG_GGML_Q4_K;
    else t = DG_GGML_Q4_K;
    if (it->ne[0] % dg_ggml_block(t))
        t = t == DG_GGML_Q4_K ? DG_GGML_Q5_0 : t == DG_GGML_Q5_K ? DG_GGML_Q5_1 : DG_GGML_Q8_0;
    if (!dg_ggml_quant_ok(t) || it->ne[0] % dg_ggml_block(t)) t = DG_GGML_Q8_0;
    if (it->ne[0] % 32) t = DG_GGML_F32;
    return t;
}

/* The converter's order: global tensors by name, then each layer's by name. */
static int by_order(const void *a, const void *b) {
    const item *x = a, *y = b;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    return strcmp(x->name, y->name);
}

static void metadata(dg_ggw *w, const dg_model *m, const char *name, dg_gguf_recipe r) {
    const dg_config *c = &m->cfg;
    const dg_gen_params *g = &m->gen;
    int32_t kv[DG_MAX_LAYERS];
    uint8_t pat[DG_MAX_LAYERS];
    for (int i = 0; i < c->n_layers; i++) { kv[i] = c->full[i] ? c->g_n_kv : c->n_kv; pat[i] = !c->full[i]; }
    dg_ggw_str(w, "general.architecture", "diffusion-gemma");
    dg_ggw_str(w, "general.type", "model");
    dg_ggw_str(w, "general.name", name);
    dg_ggw_u32(w, ARCH "block_count", (uint32_t)c->n_layers);
    dg_ggw_u32(w, ARCH "context_length", (uint32_t)c->max_pos);
    dg_ggw_u32(w, ARCH "embedding_length", (uint32_t)c->hidden);
    dg_ggw_u32(w, ARCH "feed_forward_length", (uint32_t)c->inter);
    dg_ggw_u32(w, ARCH "attention.head_count", (uint32_t)c->n_heads);
    dg_ggw_arr_i32(w, ARCH "attention.head_count_kv", kv, (size_t)c->n_layers);
    dg_ggw_f32(w, ARCH "rope.freq_base", (float)c->theta_full);
    dg_ggw_f32(w, ARCH "rope.freq_base_swa", (float)c->theta_sliding);
    dg_ggw_f32(w, ARCH "attention.layer_norm_rms_epsilon", (float)c->eps);
    dg_ggw_u32(w, ARCH "expert_count", (uint32_t)c->n_experts);
    dg_ggw_u32(w, ARCH "expert_used_count", (uint32_t)c->top_k);
    dg_ggw_u32(w, ARCH "attention.key_length", (uint32_t)c->g_head_dim);
    dg_ggw_u32(w, ARCH "attention.value_length", (uint32_t)c->g_head_dim);
    dg_ggw_f32(w, ARCH "final_logit_softcapping", (float)c->softcap);
    dg_ggw_u32(w, ARCH "attention.sliding_window", (uint32_t)c->window);
    dg_ggw_u32(w, ARCH "attention.shared_kv_layers", 0);
    dg_ggw_u32(w, ARCH "embedding_length_per_layer_input", 0);
    dg_ggw_arr_bool(w, ARCH "attention.sliding_window_pattern", pat, (size_t)c->n_layers);
    dg_ggw_u32(w, ARCH "attention.key_length_swa", (uint32_t)c->head_dim);
    dg_ggw_u32(w, ARCH "attention.value_length_swa", (uint32_t)c->head_dim);
    dg_ggw_u32(w, ARCH "expert_feed_forward_length", (uint32_t)c->moe_inter);
    dg_ggw_u32(w, ARCH "rope.dimension_count", (uint32_t)c->g_head_dim);
    dg_ggw_u32(w, ARCH "rope.dimension_count_swa", (uint32_t)c->head_dim);
    dg_ggw_bool(w, ARCH "attention.causal", 0);
    dg_ggw_u32(w, "diffusion.canvas_length", (uint32_t)c->canvas);
    dg_ggw_u32(w, "diffusion.eb_max_steps", (uint32_t)g->max_denoising_steps);
    dg_ggw_f32(w, "diffusion.eb_t_min", (float)g->t_min);
    dg_ggw_f32(w, "diffusion.eb_t_max", (float)g->t_max);
    dg_ggw_f32(w, "diffusion.eb_entropy_bound", (float)g->entropy_bound);
    dg_ggw_u32(w, "diffusion.eb_stability_threshold", (uint32_t)g->stability_threshold);
    dg_ggw_f32(w, "diffusion.eb_confidence_threshold", (float)g->confidence_threshold);
    (void)r;
}

static dg_status write_item(dg_ggw *w, const item *it, const dg_config *c, float *f, uint8_t *q, dg_error *err) {
    int64_t K = it->ne[0], rows = 1;
    for (int i = 1; i < it->nd; i++) rows *= it->ne[i];
    size_t row_bytes = (size_t)(K / dg_ggml_block(it->type)) * dg_ggml_block_bytes(it->type);
    if (!it->t) {   /* rope_freqs: 1.0 for the rotating pairs, 1e30 freezes the others */
        for (int64_t j = 0; j < K; j++) f[j] = j < c->rot_pairs_full ? 1.0f : 1e30f;
        return dg_ggw_write(w, f, (size_t)K * 4, err);
    }
    int64_t chunk = CHUNK / K > 0 ? CHUNK / K : 1;
    for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
        int64_t nr = rows - r0 < chunk ? rows - r0 : chunk;
        dg_tensor_rows_f32(it->t, r0, nr, f);
        for (int64_t r = 0; r < nr; r++) dg_ggml_quantize_row(it->type, f + r * K, K, q + (size_t)r * row_bytes);
        dg_status st = dg_ggw_write(w, q, (size_t)nr * row_bytes, err);
        if (st) return st;
    }
    return DG_OK;
}

dg_status dg_quantize_gguf(const dg_gguf_quant_params *p, dg_quantize_result *res, dg_error *err) {
    dg_model *m = NULL;
    dg_status st = dg_model_load(p->in_dir, NULL, &m, err);
    if (st) return st;
    item *items = NULL;
    dg_ggw *w = NULL;
    float *f = NULL;
    uint8_t *q = NULL;
    dg_quantize_result r = {0};
    if (dg_weights_gguf(m->w) || m->quantized) {
        st = dg_fail(err, DG_ERR_UNSUPPORTED, "%s: the input must be an unquantized HF checkpoint (BF16, F16 or F32 safetensors)", p->in_dir);
        goto done;
    }
    int n = dg_weights_count(m->w), k = 0;
    items = calloc((size_t)n + 1, sizeof *items);
    if (!items) { st = dg_fail(err, DG_ERR_NOMEM, "out of memory"); goto done; }
    int64_t maxk = 0;
    for (int i = 0; i < n; i++) {
        const dg_tensor *t = dg_weights_at(m->w, i);
        item *it = &items[k];
        if (!dg_hf_to_gguf(t->name, it->name, sizeof it->name)) continue;   /* vision tower etc. */
        r.tensors_in++;
        r.bytes_in += t->nbytes;
        it->t = t;
        it->nd = t->ndim;
        for (int d = 0; d < t->ndim; d++) it->ne[d] = t->shape[t->ndim - 1 - d];
        it->layer = strncmp(it->name, "blk.", 4) ? -1 : atoi(it->name + 4);
        if (it->ne[0] > maxk) maxk = it->ne[0];
        k++;
    }
    item *rf = &items[k++];
    snprintf(rf->name, sizeof rf->name, "rope_freqs.weight");
    rf->nd = 1;
    rf->ne[0] = m->cfg.g_head_dim / 2;
    rf->layer = -1;
    qsort(items, (size_t)k, sizeof *items, by_order);
    int n_v = 0;
    for (int i = 0; i < k; i++) {
        items[i].type = pick(p->recipe, &items[i], &m->cfg, n_v);
        if (ends(items[i].name, ".attn_v.weight")) n_v++;
        if (items[i].type != DG_GGML_F32) r.quantized++;
    }
    const char *base = strrchr(p->in_dir, '/');
    base = base && base[1] ? base + 1 : p->in_dir;
    if ((st = dg_ggw_new(p->out_path, &w, err))) goto done;
    metadata(w, m, base, p->recipe);
    if (p->tokenizer_kv && (st = p->tokenizer_kv(p->user, w, err))) goto done;
    dg_ggw_u32(w, "general.quantization_version", 2);
    dg_ggw_u32(w, "general.file_type", p->recipe == DG_GGUF_Q8_0 ? 7 : 15);   /* llama_ftype MOSTLY_Q8_0 / MOSTLY_Q4_K_M */
    for (int i = 0; i < k && !st; i++) st = dg_ggw_tensor(w, items[i].name, items[i].type, items[i].nd, items[i].ne, err);
    if (st || (st = dg_ggw_begin(w, err))) goto done;
    size_t chunk_vals = (size_t)(maxk > CHUNK ? maxk : CHUNK);
    f = malloc(chunk_vals * sizeof *f);
    q = malloc(chunk_vals * sizeof *f);
    if (!f || !q) { st = dg_fail(err, DG_ERR_NOMEM, "out of memory"); goto done; }
    for (int i = 0; i < k && !st; i++) {
        st = write_item(w, &items[i], &m->cfg, f, q, err);
        int64_t nb = items[i].ne[0] / dg_ggml_block(items[i].type) * (int64_t)dg_ggml_block_bytes(items[i].type);
        for (int d = 1; d < items[i].nd; d++) nb *= items[i].ne[d];
        r.bytes += (uint64_t)nb;
    }
    if (!st) st = dg_ggw_finish(w, err);
    r.shards = 1;
    if (!st && res) *res = r;
done:
    dg_ggw_free(w);
    free(items);
    free(f);
    free(q);
    dg_model_free(m);
    return st;
}
