#include "model/config_gguf.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/error.h"
#include "core/numeric.h"

#define ARCH "diffusion-gemma."

typedef struct rd { const dg_gguf *f; const char *P; dg_error *err; } rd;

/* An integer key in [lo, hi]; absent -> def, or an error when def == -2 (required). */
static dg_status geti(rd *r, const char *key, int def, int64_t lo, int64_t hi, int *out) {
    int64_t v;
    int found;
    dg_status st = dg_gguf_get_int(r->f, key, def != -2, &v, &found, r->err);
    if (st) return st;
    if (!found) { *out = def; return DG_OK; }
    if (v < lo || v > hi) return dg_fail(r->err, DG_ERR_FORMAT, "%s: metadata '%s' = %lld outside [%lld, %lld]", r->P, key, (long long)v, (long long)lo, (long long)hi);
    *out = (int)v;
    return DG_OK;
}

/* The shortest decimal that rounds to the same float32: metadata floats are float32 copies of
 * the HF config's decimals (0.4 is stored as 0.4000000059604645), and the engine computes with
 * the decimal's double as the safetensors path does. */
static double f32_decimal(double v) {
    if ((double)(float)v != v || !isfinite(v)) return v;
    char buf[40];
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        double d = strtod(buf, NULL);
        if ((float)d == (float)v) return d;
    }
    return v;
}

/* A float key; absent -> def (NAN = required). */
static dg_status getf(rd *r, const char *key, double def, double *out) {
    int found;
    double v;
    dg_status st = dg_gguf_get_float(r->f, key, !isnan(def), &v, &found, r->err);
    if (st) return st;
    if (!found) { *out = def; return DG_OK; }
    if (!isfinite(v)) return dg_fail(r->err, DG_ERR_FORMAT, "%s: metadata '%s' is not finite", r->P, key);
    *out = f32_decimal(v);
    return DG_OK;
}

/* head_count_kv: one integer, or an integer array of one value per layer. Sliding layers must
 * agree, as must full layers. */
static dg_status kv_heads(rd *r, dg_config *c) {
    const char *key = ARCH "attention.head_count_kv";
    const dg_gguf_kv *kv = dg_gguf_find_kv(r->f, key);
    if (kv && kv->type != DG_GV_ARRAY) {
        dg_status st = geti(r, key, -2, 1, 1024, &c->n_kv);
        c->g_n_kv = c->n_kv;
        return st;
    }
    const dg_gguf_kv *a;
    dg_status st = dg_gguf_get_array(r->f, key, DG_GV_I64, 0, &a, r->err);
    if (st) return st;
    if (a->count != (uint64_t)c->n_layers)
        return dg_fail(r->err, DG_ERR_FORMAT, "%s: metadata '%s' has %llu entries for %d layers", r->P, key, (unsigned long long)a->count, c->n_layers);
    c->n_kv = c->g_n_kv = 0;
    for (int i = 0; i < c->n_layers; i++) {
        int64_t v = dg_gguf_arr_int(a, (uint64_t)i);
        int *dst = c->full[i] ? &c->g_n_kv : &c->n_kv;
        if (v < 1 || v > 1024) return dg_fail(r->err, DG_ERR_FORMAT, "%s: metadata '%s'[%d] = %lld", r->P, key, i, (long long)v);
        if (*dst && *dst != v)
            return dg_fail(r->err, DG_ERR_UNSUPPORTED, "%s: metadata '%s': %s layers with different key/value head counts", r->P, key, c->full[i] ? "full" : "sliding");
        *dst = (int)v;
    }
    if (!c->n_kv) c->n_kv = c->g_n_kv;
    if (!c->g_n_kv) c->g_n_kv = c->n_kv;
    return DG_OK;
}

/* rope_freqs (ggml's per-pair frequency divisors, full layers): 1.0 for the pairs that rotate,
 * then a huge factor (1e30) that freezes the rest — MODEL.md's proportional RoPE. Absent: every
 * pair rotates. */
static dg_status rope_pairs(rd *r, const dg_weights *w, dg_config *c) {
    const dg_tensor *t = dg_weights_find(w, "rope_freqs.weight");
    int half = c->g_head_dim / 2;
    c->rot_pairs_full = half;
    if (!t) return DG_OK;
    if (t->dtype != DG_DT_F32 || t->ndim != 1 || t->shape[0] != half)
        return dg_fail(r->err, DG_ERR_SHAPE, "%s: tensor 'rope_freqs.weight' must be F32 [%d] (full-layer head dim / 2)", t->file, half);
    int n = 0;
    while (n < half && dg_ld32(t->data + 4 * (size_t)n) == 0x3f800000u) n++;   /* 1.0f */
    for (int i = n; i < half; i++) {
        uint32_t u = dg_ld32(t->data + 4 * (size_t)i);
        float v;
        memcpy(&v, &u, 4);
        if (!(v >= 1e20f))
            return dg_fail(r->err, DG_ERR_UNSUPPORTED, "%s: tensor 'rope_freqs.weight'[%d] = %g: only 1.0 (rotating) then frozen (>= 1e20) pairs are supported",
                           t->file, i, (double)v);
    }
    c->rot_pairs_full = n;
    return DG_OK;
}

static dg_status gen_defaults(rd *r, dg_gen_params *g) {
    dg_status st;
    if ((st = geti(r, "diffusion.eb_max_steps", g->max_denoising_steps, 1, 1 << 20, &g->max_denoising_steps)) ||
        (st = getf(r, "diffusion.eb_t_min", g->t_min, &g->t_min)) ||
        (st = getf(r, "diffusion.eb_t_max", g->t_max, &g->t_max)) ||
        (st = getf(r, "diffusion.eb_entropy_bound", g->entropy_bound, &g->entropy_bound)) ||
        (st = geti(r, "diffusion.eb_stability_threshold", g->stability_threshold, 0, 1 << 20, &g->stability_threshold)) ||
        (st = getf(r, "diffusion.eb_confidence_threshold", g->confidence_threshold, &g->confidence_threshold)) ||
        (st = geti(r, "tokenizer.ggml.padding_token_id", g->pad_id, 0, 1 << 30, &g->pad_id)))
        return st;
    /* the stop set stays GENERATION.md's {1, 106, 50}; the file's eos joins it if it differs */
    int eos = -1, have = 0;
    if ((st = geti(r, "tokenizer.ggml.eos_token_id", -1, 0, 1 << 30, &eos))) return st;
    for (int i = 0; i < g->n_eos; i++) have |= g->eos_ids[i] == eos;
    if (eos >= 0 && !have && g->n_eos < (int)(sizeof g->eos_ids / sizeof *g->eos_ids)) g->eos_ids[g->n_eos++] = eos;
    if ((st = dg_gen_params_validate(g, r->err))) return dg_fail_wrap(r->err, "%s: diffusion.eb_* metadata", r->P);
    return DG_OK;
}

dg_status dg_config_from_gguf(const dg_weights *w, dg_config *c, dg_gen_params *gen, dg_error *err) {
    memset(c, 0, sizeof *c);
    rd r = {dg_weights_gguf(w), dg_gguf_path(dg_weights_gguf(w)), err};
    const char *arch;
    size_t alen;
    dg_status st = dg_gguf_get_str(r.f, "general.architecture", 0, &arch, &alen, NULL, err);
    if (st) return st;
    if (alen != strlen("diffusion-gemma") || memcmp(arch, "diffusion-gemma", alen))
        return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: general.architecture '%.*s' is not supported (expected 'diffusion-gemma')", r.P, (int)(alen > 64 ? 64 : alen), arch);
    int kl, vl, kls, vls, shared, ple, dims, dims_swa;
#define I(key, def, lo, hi, dst) if ((st = geti(&r, key, def, lo, hi, dst))) return st
    I("diffusion.canvas_length", -2, 1, 65536, &c->canvas);
    I(ARCH "block_count", -2, 1, DG_MAX_LAYERS, &c->n_layers);
    I(ARCH "context_length", 131072, 1, 1 << 30, &c->max_pos);
    I(ARCH "embedding_length", -2, 8, 1 << 16, &c->hidden);
    I(ARCH "feed_forward_length", -2, 1, 1 << 20, &c->inter);
    I(ARCH "expert_feed_forward_length", -2, 1, 1 << 20, &c->moe_inter);
    I(ARCH "expert_count", -2, 1, 4096, &c->n_experts);
    I(ARCH "expert_used_count", -2, 1, 4096, &c->top_k);
    I(ARCH "attention.head_count", -2, 1, 1024, &c->n_heads);
    I(ARCH "attention.key_length", -2, 2, 4096, &kl);
    I(ARCH "attention.value_length", kl, 2, 4096, &vl);
    I(ARCH "attention.key_length_swa", -2, 2, 4096, &kls);
    I(ARCH "attention.value_length_swa", kls, 2, 4096, &vls);
    I(ARCH "attention.sliding_window", -2, 1, 1 << 24, &c->window);
    I(ARCH "attention.shared_kv_layers", 0, 0, DG_MAX_LAYERS, &shared);
    I(ARCH "embedding_length_per_layer_input", 0, 0, 1 << 16, &ple);
    I(ARCH "rope.dimension_count", kl, 2, 4096, &dims);
    I(ARCH "rope.dimension_count_swa", kls, 2, 4096, &dims_swa);
#undef I
    if ((st = getf(&r, ARCH "attention.layer_norm_rms_epsilon", NAN, &c->eps)) ||
        (st = getf(&r, ARCH "final_logit_softcapping", 30.0, &c->softcap)) ||
        (st = getf(&r, ARCH "rope.freq_base", NAN, &c->theta_full)) ||
        (st = getf(&r, ARCH "rope.freq_base_swa", NAN, &c->theta_sliding)))
        return st;
    if (kl != vl || kls != vls) return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: key and value head dims differ", r.P);
    if (shared || ple) return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: shared KV layers / per-layer input embeddings are not part of DiffusionGemma", r.P);
    if (dims != kl || dims_swa != kls) return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: rope.dimension_count%s differs from the head dim (partial RoPE comes from rope_freqs)", r.P, dims != kl ? "" : "_swa");
    if (!(c->eps > 0) || !(c->theta_full > 1) || !(c->theta_sliding > 1)) return dg_fail(err, DG_ERR_FORMAT, "%s: rms epsilon must be > 0 and RoPE bases > 1", r.P);
    c->g_head_dim = kl;
    c->head_dim = kls;
    if (c->top_k > c->n_experts) return dg_fail(err, DG_ERR_FORMAT, "%s: expert_used_count %d > expert_count %d", r.P, c->top_k, c->n_experts);
    if (c->head_dim % 2 || c->g_head_dim % 2) return dg_fail(err, DG_ERR_FORMAT, "%s: head dims must be even", r.P);

    const dg_gguf_kv *pat;
    if ((st = dg_gguf_get_array(r.f, ARCH "attention.sliding_window_pattern", DG_GV_BOOL, 0, &pat, err))) return st;
    if (pat->count != (uint64_t)c->n_layers)
        return dg_fail(err, DG_ERR_FORMAT, "%s: metadata '" ARCH "attention.sliding_window_pattern' has %llu entries for %d layers", r.P, (unsigned long long)pat->count, c->n_layers);
    for (int i = 0; i < c->n_layers; i++) c->full[i] = !dg_gguf_arr_int(pat, (uint64_t)i);
    if ((st = kv_heads(&r, c))) return st;
    if (c->n_heads % c->n_kv || c->n_heads % c->g_n_kv)
        return dg_fail(err, DG_ERR_FORMAT, "%s: head_count %d is not a multiple of the key/value head counts", r.P, c->n_heads);
    const dg_tensor *emb = dg_weights_find(w, "model.decoder.embed_tokens.weight");
    if (!emb || emb->ndim != 2) return dg_fail(err, DG_ERR_MISSING, "%s: tensor 'token_embd.weight' is missing or not 2-D", r.P);
    if (emb->shape[0] < 8 || emb->shape[0] > (1 << 24)) return dg_fail(err, DG_ERR_SHAPE, "%s: token_embd.weight: %lld rows", r.P, (long long)emb->shape[0]);
    c->vocab = (int)emb->shape[0];
    if ((st = rope_pairs(&r, w, c))) return st;
    c->embed_scale = dg_bf16_round(sqrtf((float)c->hidden));
    return gen_defaults(&r, gen);
}
