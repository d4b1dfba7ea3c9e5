/* Loading: config.json -> geometry; every tensor bound by name, dtype and shape checked
 * against the config (MODEL.md §2.3), MLX affine modules detected by their `.scales`. */
#include "model/model.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/error.h"
#include "core/ggml_type.h"
#include "core/file.h"
#include "core/numeric.h"
#include "format/gen_config.h"
#include "format/gguf_names.h"
#include "format/gguf_set.h"
#include "model/config_gguf.h"

typedef struct binder {
    dg_model *m;
    const char *dir;
    const char *cfg;            /* what the expected shapes come from, for messages */
    float *small_next, *small_end;
    dg_error *err;
} binder;

static const char *shape_str(const dg_tensor *t, char *buf, size_t n) {
    size_t o = 0;
    o += (size_t)snprintf(buf + o, n - o, "[");
    for (int i = 0; i < t->ndim && o < n; i++) o += (size_t)snprintf(buf + o, n - o, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
    if (o < n) snprintf(buf + o, n - o, "]");
    return buf;
}

static int shape_is(const dg_tensor *t, int nd, const int64_t *want) {
    if (t->ndim != nd) return 0;
    for (int i = 0; i < nd; i++)
        if (t->shape[i] != want[i]) return 0;
    return 1;
}

static dg_status shape_error(binder *b, const dg_tensor *t, int nd, const int64_t *want) {
    char got[128], w[128];
    size_t o = 0;
    o += (size_t)snprintf(w + o, sizeof w - o, "[");
    for (int i = 0; i < nd; i++) o += (size_t)snprintf(w + o, sizeof w - o, "%s%lld", i ? ", " : "", (long long)want[i]);
    snprintf(w + o, sizeof w - o, "]");
    return dg_fail(b->err, DG_ERR_SHAPE, "%s: tensor '%s' has shape %s but %s implies %s",
                   t->file, t->stored_name ? t->stored_name : t->name, shape_str(t, got, sizeof got), b->cfg, w);
}

/* A required tensor is absent: named as the file would name it. */
static dg_status missing(binder *b, const char *name) {
    char g[256];
    if (dg_weights_gguf(b->m->w) && dg_hf_to_gguf(name, g, sizeof g)) name = g;
    return dg_fail(b->err, DG_ERR_MISSING, "%s: missing tensor '%s'", b->dir, name);
}

static const char *type_name(const dg_tensor *t) { return t->gtype >= 0 ? dg_ggml_name(t->gtype) : dg_dtype_name(t->dtype); }

/* A 1-D float vector (norm weights, scales): copied to fp32 (tiny). */
static dg_status bind_vec(binder *b, const char *name, int64_t len, const float **out) {
    const dg_tensor *t = dg_weights_find(b->m->w, name);
    if (!t) return missing(b, name);
    if (!shape_is(t, 1, &len)) return shape_error(b, t, 1, &len);
    if (t->dtype != DG_DT_BF16 && t->dtype != DG_DT_F32 && t->dtype != DG_DT_F16)
        return dg_fail(b->err, DG_ERR_SHAPE, "%s: tensor '%s' has dtype %s (expected BF16, F16 or F32)", t->file,
                       t->stored_name ? t->stored_name : t->name, type_name(t));
    if (b->small_next + len > b->small_end) return dg_fail(b->err, DG_ERR_NOMEM, "internal: small-tensor arena exhausted");
    float *dst = b->small_next;
    b->small_next += len;
    for (int64_t i = 0; i < len; i++) {
        const uint8_t *p = t->data + (size_t)i * dg_dtype_size(t->dtype);
        if (t->dtype == DG_DT_BF16) dst[i] = dg_bf16_to_f32(dg_ld16(p));
        else if (t->dtype == DG_DT_F16) dst[i] = dg_f16_to_f32(dg_ld16(p));
        else { uint32_t u = dg_ld32(p); memcpy(&dst[i], &u, 4); }
    }
    b->m->weight_bytes += t->nbytes;
    *out = dst;
    return DG_OK;
}

static dg_status bind_scalar(binder *b, const char *name, float *out) {
    const float *v;
    dg_status st = bind_vec(b, name, 1, &v);
    if (st) return st;
    *out = v[0];
    return DG_OK;
}

/* Bits and group size of a quantized module from config.json `quantization`
 * (per-module override, then defaults); 0 where the config says nothing. */
static void quant_params(const dg_model *m, const char *module, int *bits, int *group) {
    *bits = *group = 0;
    const cJSON *q = m->cfg.quant;
    if (!q) return;
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(q, module);
    for (int pass = 0; pass < 2; pass++, o = q) {
        if (!cJSON_IsObject(o)) continue;
        const cJSON *bv = cJSON_GetObjectItemCaseSensitive(o, "bits"), *gv = cJSON_GetObjectItemCaseSensitive(o, "group_size");
        if (!*bits && cJSON_IsNumber(bv)) *bits = bv->valueint;
        if (!*group && cJSON_IsNumber(gv)) *group = gv->valueint;
    }
}

/* Binds a weight matrix [rows, cols] (or n_exp of them, stacked). `module` is the path
 * without `.weight`; HF stores expert tensors without the suffix, MLX with it. */
static dg_status bind_mat(binder *b, const char *module, int n_exp, int64_t rows, int64_t cols, dg_mat *out) {
    dg_model *m = b->m;
    char name[512], sname[512], bname[512];
    snprintf(name, sizeof name, "%s.weight", module);
    snprintf(sname, sizeof sname, "%s.scales", module);
    snprintf(bname, sizeof bname, "%s.biases", module);
    const dg_tensor *t = dg_weights_find(m->w, name);
    if (!t && n_exp) t = dg_weights_find(m->w, module);
    if (!t) return missing(b, name);
    const dg_tensor *sc = dg_weights_find(m->w, sname), *bi = dg_weights_find(m->w, bname);
    int nd = n_exp ? 3 : 2;
    int64_t want[3];
    int o = 0;
    if (n_exp) want[o++] = n_exp;
    want[o++] = rows;
    want[o++] = cols;
    int n = n_exp ? n_exp : 1;
    if (!sc && t->gtype >= 0 && dg_ggml_block(t->gtype) > 1) {
        /* GGUF blocks: whole blocks per row (the reader checked ne[0] % block) */
        if (!shape_is(t, nd, want)) return shape_error(b, t, nd, want);
        size_t stride = (size_t)cols / (size_t)dg_ggml_block(t->gtype) * dg_ggml_block_bytes(t->gtype);
        for (int e = 0; e < n; e++)
            out[e] = (dg_mat){.kind = DG_W_GGML, .rows = (int)rows, .cols = (int)cols, .gtype = t->gtype,
                              .w = t->data + (size_t)e * (size_t)rows * stride, .w_stride = stride};
        m->weight_bytes += t->nbytes;
        m->quantized = 1;
        return DG_OK;
    }
    if (!sc) {
        if (!shape_is(t, nd, want)) return shape_error(b, t, nd, want);
        dg_wkind kind;
        if (t->dtype == DG_DT_BF16) kind = DG_W_BF16;
        else if (t->dtype == DG_DT_F16) kind = DG_W_F16;
        else if (t->dtype == DG_DT_F32) kind = DG_W_F32;
        else return dg_fail(b->err, DG_ERR_SHAPE, "%s: tensor '%s' has dtype %s (expected BF16, F16 or F32, or U32 with .scales)",
                            t->file, t->name, dg_dtype_name(t->dtype));
        size_t es = dg_dtype_size(t->dtype), stride = (size_t)cols * es;
        for (int e = 0; e < n; e++)
            out[e] = (dg_mat){.kind = kind, .rows = (int)rows, .cols = (int)cols,
                              .w = t->data + (size_t)e * (size_t)rows * stride, .w_stride = stride};
        m->weight_bytes += t->nbytes;
        return DG_OK;
    }
    /* MLX affine: uint32 codes [.., rows, cols*bits/32], bf16 scales/biases [.., rows, cols/group]. */
    if (!bi) return dg_fail(b->err, DG_ERR_MISSING, "%s: '%s' exists but '%s' is missing", sc->file, sname, bname);
    if (t->dtype != DG_DT_U32)
        return dg_fail(b->err, DG_ERR_SHAPE, "%s: quantized tensor '%s' has dtype %s (expected U32)", t->file, t->name, dg_dtype_name(t->dtype));
    if (sc->dtype != DG_DT_BF16 && sc->dtype != DG_DT_F16 && sc->dtype != DG_DT_F32)
        return dg_fail(b->err, DG_ERR_SHAPE, "%s: '%s' has dtype %s (expected BF16)", sc->file, sname, dg_dtype_name(sc->dtype));
    if (sc->dtype != DG_DT_BF16 || bi->dtype != DG_DT_BF16)
        return dg_fail(b->err, DG_ERR_UNSUPPORTED, "%s: '%s'/'%s' must be BF16", sc->file, sname, bname);
    if (t->ndim != nd || sc->ndim != nd || bi->ndim != nd)
        return dg_fail(b->err, DG_ERR_SHAPE, "%s: quantized '%s' must have %d dimensions", t->file, module, nd);
    const dg_tensor *parts[3] = {t, sc, bi};
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < nd - 1; i++)
            if (parts[k]->shape[i] != want[i]) {
                char got[128];
                return dg_fail(b->err, DG_ERR_SHAPE, "%s: quantized tensor '%s' has shape %s; config.json implies %s%lld rows",
                               parts[k]->file, parts[k]->name, shape_str(parts[k], got, sizeof got),
                               n_exp ? "experts x " : "", (long long)rows);
            }
    if (sc->shape[nd - 1] != bi->shape[nd - 1])
        return dg_fail(b->err, DG_ERR_SHAPE, "%s: '%s' and '%s' disagree in shape", sc->file, sname, bname);
    int64_t packed = t->shape[nd - 1], ngroups = sc->shape[nd - 1];
    int cbits, cgroup;
    quant_params(m, module, &cbits, &cgroup);
    if (packed <= 0 || ngroups <= 0 || (packed * 32) % cols || cols % ngroups)
        return dg_fail(b->err, DG_ERR_SHAPE, "%s: quantized '%s': packed width %lld / %lld groups do not fit %lld input columns",
                       t->file, module, (long long)packed, (long long)ngroups, (long long)cols);
    int bits = (int)(packed * 32 / cols), group = (int)(cols / ngroups);
    if (bits != 2 && bits != 3 && bits != 4 && bits != 5 && bits != 6 && bits != 8)
        return dg_fail(b->err, DG_ERR_UNSUPPORTED, "%s: quantized '%s': %d bits per weight is not supported (2, 3, 4, 5, 6, 8)", t->file, module, bits);
    if ((cbits && cbits != bits) || (cgroup && cgroup != group))
        return dg_fail(b->err, DG_ERR_SHAPE, "%s: quantized '%s': config.json says bits %d group %d but the shapes give bits %d group %d",
                       t->file, module, cbits, cgroup, bits, group);
    size_t stride = (size_t)packed * 4, sstride = (size_t)ngroups * 2;
    for (int e = 0; e < n; e++)
        out[e] = (dg_mat){.kind = DG_W_AFFINE, .rows = (int)rows, .cols = (int)cols,
                          .w = t->data + (size_t)e * (size_t)rows * stride, .w_stride = stride,
                          .scales = sc->data + (size_t)e * (size_t)rows * sstride,
                          .biases = bi->data + (size_t)e * (size_t)rows * sstride,
                          .sb_stride = sstride, .bits = bits, .group = group};
    m->weight_bytes += t->nbytes + sc->nbytes + bi->nbytes;
    m->quantized = 1;
    return DG_OK;
}

static dg_status bind_layer(binder *b, int i) {
    dg_model *m = b->m;
    const dg_config *c = &m->cfg;
    dg_layer *L = &m->layers[i];
    char p[256], n[320];
    snprintf(p, sizeof p, "model.decoder.layers.%d", i);
    L->full = c->full[i];
    L->D = L->full ? c->g_head_dim : c->head_dim;
    L->n_kv = L->full ? c->g_n_kv : c->n_kv;
    int H = c->hidden, D = L->D, E = c->n_experts;
    dg_status st;
#define MAT(suffix, ne, r, cc, dst) do { snprintf(n, sizeof n, "%s.%s", p, suffix); if ((st = bind_mat(b, n, ne, r, cc, dst))) return st; } while (0)
#define VEC(suffix, len, dst) do { snprintf(n, sizeof n, "%s.%s", p, suffix); if ((st = bind_vec(b, n, len, dst))) return st; } while (0)
    MAT("self_attn.q_proj", 0, (int64_t)c->n_heads * D, H, &L->q);
    MAT("self_attn.k_proj", 0, (int64_t)L->n_kv * D, H, &L->k);
    snprintf(n, sizeof n, "%s.self_attn.v_proj.weight", p);
    int has_v = dg_weights_find(m->w, n) != NULL;
    if (L->full && has_v) return dg_fail(b->err, DG_ERR_SHAPE, "tensor '%s' present on full-attention layer %d (V must come from k_proj)", n, i);
    if (!L->full) MAT("self_attn.v_proj", 0, (int64_t)L->n_kv * D, H, &L->v);
    MAT("self_attn.o_proj", 0, H, (int64_t)c->n_heads * D, &L->o);
    VEC("self_attn.q_norm.weight", D, &L->q_norm);
    VEC("self_attn.k_norm.weight", D, &L->k_norm);
    VEC("input_layernorm.weight", H, &L->in_norm);
    VEC("post_attention_layernorm.weight", H, &L->post_attn_norm);
    VEC("pre_feedforward_layernorm.weight", H, &L->pre_ff_norm);
    VEC("post_feedforward_layernorm.weight", H, &L->post_ff_norm);
    VEC("pre_feedforward_layernorm_2.weight", H, &L->pre_ff2_norm);
    VEC("post_feedforward_layernorm_1.weight", H, &L->post_ff1_norm);
    VEC("post_feedforward_layernorm_2.weight", H, &L->post_ff2_norm);
    MAT("mlp.gate_proj", 0, c->inter, H, &L->gate);
    MAT("mlp.up_proj", 0, c->inter, H, &L->up);
    MAT("mlp.down_proj", 0, H, c->inter, &L->down);
    MAT("router.proj", 0, E, H, &L->router);
    VEC("router.scale", H, &L->router_scale);
    VEC("router.per_expert_scale", E, &L->per_expert_scale);
    L->exp_gate_up = calloc((size_t)E, sizeof *L->exp_gate_up);
    L->exp_down = calloc((size_t)E, sizeof *L->exp_down);
    if (!L->exp_gate_up || !L->exp_down) return dg_fail(b->err, DG_ERR_NOMEM, "out of memory");
    MAT("experts.gate_up_proj", E, 2 * (int64_t)c->moe_inter, H, L->exp_gate_up);
    MAT("experts.down_proj", E, H, c->moe_inter, L->exp_down);
    snprintf(n, sizeof n, "%s.layer_scalar", p);
    if ((st = bind_scalar(b, n, &L->scalar_dec))) return st;
    snprintf(n, sizeof n, "model.encoder.language_model.layers.%d.layer_scalar", i);
    if ((st = bind_scalar(b, n, &L->scalar_enc))) return st;
#undef MAT
#undef VEC
    return DG_OK;
}

/* Every override in `quantization` must name a text module that is stored quantized. */
static dg_status check_quant_overrides(binder *b) {
    const cJSON *q = b->m->cfg.quant;
    if (!q) return DG_OK;
    for (const cJSON *e = q->child; e; e = e->next) {
        if (!cJSON_IsObject(e)) continue;
        if (strncmp(e->string, "model.decoder.", 14)) continue;   /* vision modules etc. */
        const char *layer = strstr(e->string, "layers.");
        if (layer && atoi(layer + 7) >= b->m->n_layers) continue; /* cut by --layers */
        char n[512];
        snprintf(n, sizeof n, "%s.scales", e->string);
        if (!dg_weights_find(b->m->w, n))
            return dg_fail(b->err, DG_ERR_MISSING, "%s/config.json: quantization override '%s' names no quantized module in the checkpoint", b->dir, e->string);
    }
    return DG_OK;
}

static int max_i(int a, int b) { return a > b ? a : b; }

/* config.json, generation_config.json (or the copy MLX conversions embed), then the weights. */
static dg_status load_hf(dg_model *m, const char *dir, dg_error *err) {
    char path[4096];
    char *text = NULL;
    snprintf(path, sizeof path, "%s/config.json", dir);
    dg_status st = dg_read_file(path, &text, NULL, err);
    if (!st) st = dg_config_parse(text, path, &m->cfg, err);
    free(text);
    if (st) return st;
    dg_gen_params_default(&m->gen);
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    if (dg_path_exists(path)) {
        if ((st = dg_read_file(path, &text, NULL, err))) return st;
        st = dg_gen_config_parse(text, &m->gen, err);
        free(text);
        if (st) return dg_fail_wrap(err, "%s", path);
    } else if (m->cfg.gen_embedded) {
        if ((st = dg_gen_config_apply(m->cfg.gen_embedded, &m->gen, err))) return dg_fail_wrap(err, "%s/config.json: generation_config", dir);
    }
    return dg_weights_open(dir, &m->w, err);
}

/* A GGUF file or set: everything comes from its metadata (config.json beside it is ignored). */
static dg_status load_gguf(dg_model *m, const char *path, dg_error *err) {
    dg_status st = dg_weights_open(path, &m->w, err);
    if (st) return st;
    dg_gen_params_default(&m->gen);
    return dg_config_from_gguf(m->w, &m->cfg, &m->gen, err);
}

dg_status dg_model_load(const char *dir, const dg_load_params *lp, dg_model **out, dg_error *err) {
    *out = NULL;
    if (!dg_path_exists(dir)) return dg_fail(err, DG_ERR_IO, "%s: no such model directory or GGUF file", dir);
    dg_model *m = calloc(1, sizeof *m);
    if (!m) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    char gpath[4096];
    int gguf = dg_gguf_locate(dir, gpath, sizeof gpath, err);
    dg_status st = gguf < 0 ? (err ? err->code : DG_ERR_ARG) : gguf ? load_gguf(m, dir, err) : load_hf(m, dir, err);
    if (st) goto fail;
    dg_config *c = &m->cfg;
    m->n_layers = c->n_layers;
    if (lp && lp->n_layers > 0) {
        if (lp->n_layers > c->n_layers) {
            st = dg_fail(err, DG_ERR_ARG, "--layers %d: the model has only %d layers", lp->n_layers, c->n_layers);
            goto fail;
        }
        m->n_layers = lp->n_layers;
    }

    int H = c->hidden, nl = m->n_layers;
    size_t small = (size_t)nl * (9 * (size_t)H + 2 * (size_t)max_i(c->head_dim, c->g_head_dim) + (size_t)c->n_experts + 2) + 2 * (size_t)H + 16;
    m->small = malloc(small * sizeof(float));
    m->layers = calloc((size_t)nl, sizeof *m->layers);
    if (!m->small || !m->layers) { st = dg_fail(err, DG_ERR_NOMEM, "out of memory"); goto fail; }
    binder b = {m, dir, gguf ? "the GGUF metadata" : "config.json", m->small, m->small + small, err};
    if ((st = bind_mat(&b, "model.decoder.embed_tokens", 0, c->vocab, H, &m->embed))) goto fail;
    if ((st = bind_vec(&b, "model.decoder.norm.weight", H, &m->final_norm))) goto fail;
    if ((st = bind_vec(&b, "model.decoder.self_conditioning.pre_norm.weight", H, &m->sc_pre_norm))) goto fail;
    if ((st = bind_mat(&b, "model.decoder.self_conditioning.gate_proj", 0, c->inter, H, &m->sc_gate))) goto fail;
    if ((st = bind_mat(&b, "model.decoder.self_conditioning.up_proj", 0, c->inter, H, &m->sc_up))) goto fail;
    if ((st = bind_mat(&b, "model.decoder.self_conditioning.down_proj", 0, H, c->inter, &m->sc_down))) goto fail;
    for (int i = 0; i < nl; i++)
        if ((st = bind_layer(&b, i))) goto fail;
    if ((st = check_quant_overrides(&b))) goto fail;
    m->max_cols = max_i(max_i(H, c->inter), max_i(c->n_heads * max_i(c->head_dim, c->g_head_dim), c->moe_inter));
    *out = m;
    return DG_OK;
fail:
    dg_model_free(m);
    return st;
}

void dg_model_free(dg_model *m) {
    if (!m) return;
    if (m->layers)
        for (int i = 0; i < m->n_layers; i++) {
            free(m->layers[i].exp_gate_up);
            free(m->layers[i].exp_down);
        }
    free(m->layers);
    free(m->small);
    dg_weights_close(m->w);
    dg_config_free(&m->cfg);
    free(m);
}

void dg_model_gen_defaults(const dg_model *m, dg_gen_params *p) { *p = m->gen; }

void dg_model_get_info(const dg_model *m, dg_model_info *info) {
    const dg_config *c = &m->cfg;
    *info = (dg_model_info){.vocab_size = c->vocab, .hidden_size = c->hidden, .n_layers = m->n_layers,
                            .n_heads = c->n_heads, .n_experts = c->n_experts, .top_k = c->top_k,
                            .canvas_length = c->canvas, .sliding_window = c->window,
                            .max_positions = c->max_pos, .quantized = m->quantized,
                            .weight_bytes = m->weight_bytes};
}
