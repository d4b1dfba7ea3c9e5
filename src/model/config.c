#include "model/config.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>
#include "core/error.h"
#include "core/json.h"
#include "core/numeric.h"

/* Reads an integer field; absent -> def, or an error naming the key when def is REQUIRED. */
#define REQUIRED (-2)
static dg_status get_int(const cJSON *o, const char *key, int def, long lo, long hi, int *out,
                         const char *path, const char *where, dg_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) {
        if (def == REQUIRED) return dg_fail(err, DG_ERR_MISSING, "%s: %s.%s is missing", path, where, key);
        *out = def;
        return DG_OK;
    }
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi)
        return dg_fail(err, DG_ERR_FORMAT, "%s: %s.%s must be an integer in [%ld, %ld]", path, where, key, lo, hi);
    *out = (int)v->valuedouble;
    return DG_OK;
}

static dg_status get_num(const cJSON *o, const char *key, double def, double *out,
                         const char *path, const char *where, dg_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) { *out = def; return DG_OK; }
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return dg_fail(err, DG_ERR_FORMAT, "%s: %s.%s must be a number", path, where, key);
    *out = v->valuedouble;
    return DG_OK;
}

static dg_status parse_rope(const cJSON *rp, const char *type, int D, double *theta, int *rot_pairs,
                            const char *path, dg_error *err) {
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(rp, type);
    if (!cJSON_IsObject(o)) return dg_fail(err, DG_ERR_MISSING, "%s: text_config.rope_parameters.%s is missing", path, type);
    const cJSON *rt = cJSON_GetObjectItemCaseSensitive(o, "rope_type");
    const char *kind = cJSON_IsString(rt) ? rt->valuestring : "default";
    dg_status st = get_num(o, "rope_theta", 10000.0, theta, path, type, err);
    if (st) return st;
    if (!(*theta > 1.0)) return dg_fail(err, DG_ERR_FORMAT, "%s: rope_parameters.%s.rope_theta must be > 1", path, type);
    double factor;
    if ((st = get_num(o, "factor", 1.0, &factor, path, type, err))) return st;
    if (factor != 1.0) return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: rope_parameters.%s.factor %g (only 1.0 is supported)", path, type, factor);
    if (!strcmp(kind, "default")) {
        double prf;
        if ((st = get_num(o, "partial_rotary_factor", 1.0, &prf, path, type, err))) return st;
        if (prf != 1.0) return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: rope_parameters.%s: default RoPE with partial_rotary_factor %g", path, type, prf);
        *rot_pairs = D / 2;
    } else if (!strcmp(kind, "proportional")) {
        double prf;
        if ((st = get_num(o, "partial_rotary_factor", 1.0, &prf, path, type, err))) return st;
        if (!(prf > 0 && prf <= 1)) return dg_fail(err, DG_ERR_FORMAT, "%s: rope_parameters.%s.partial_rotary_factor must be in (0, 1]", path, type);
        *rot_pairs = (int)floor(prf * D / 2.0);   /* int(partial * D // 2) */
    } else {
        return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: rope_parameters.%s.rope_type '%s' is not supported", path, type, kind);
    }
    return DG_OK;
}

/* MLX also writes microscaling formats (mode mxfp4, mxfp8: no biases, shared exponents);
 * only affine packing is implemented. Modules may override the mode. */
static dg_status check_quant_mode(const cJSON *q, const char *path, dg_error *err) {
    for (int pass = 0; pass < 2; pass++)
        for (const cJSON *o = pass ? q->child : q; o; o = pass ? o->next : NULL) {
            const cJSON *mode = cJSON_GetObjectItemCaseSensitive(o, "mode");
            if (!mode) continue;
            const char *where = pass ? o->string : "quantization";
            if (!cJSON_IsString(mode)) return dg_fail(err, DG_ERR_FORMAT, "%s: %s.mode must be a string", path, where);
            if (strcmp(mode->valuestring, "affine"))
                return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: %s.mode '%s' is not supported (only 'affine' MLX quantization)",
                               path, where, mode->valuestring);
        }
    return DG_OK;
}

dg_status dg_config_parse(const char *json, const char *path, dg_config *c, dg_error *err) {
    memset(c, 0, sizeof *c);
    cJSON *root = NULL;
    dg_status st = dg_json_object(json, strlen(json), path, &root, err);
    if (st) return st;
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (!cJSON_IsString(mt)) { st = dg_fail(err, DG_ERR_MISSING, "%s: model_type is missing", path); goto done; }
    if (strcmp(mt->valuestring, "diffusion_gemma")) {
        st = dg_fail(err, DG_ERR_UNSUPPORTED, "%s: model_type '%s' is not supported (expected 'diffusion_gemma')", path, mt->valuestring);
        goto done;
    }
    const cJSON *tc = cJSON_GetObjectItemCaseSensitive(root, "text_config");
    if (!cJSON_IsObject(tc)) { st = dg_fail(err, DG_ERR_MISSING, "%s: text_config is missing", path); goto done; }
    const char *T = "text_config";
#define INT(o, key, def, lo, hi, dst, where) if ((st = get_int(o, key, def, lo, hi, dst, path, where, err))) goto done
    /* Every key that sets a shape is required: a default would turn a typo into a shape
     * error on some tensor far from its cause. */
    INT(root, "canvas_length", REQUIRED, 1, 65536, &c->canvas, "config");
    INT(tc, "vocab_size", REQUIRED, 8, 1 << 24, &c->vocab, T);
    INT(tc, "hidden_size", REQUIRED, 8, 1 << 16, &c->hidden, T);
    INT(tc, "num_hidden_layers", REQUIRED, 1, DG_MAX_LAYERS, &c->n_layers, T);
    INT(tc, "num_attention_heads", REQUIRED, 1, 1024, &c->n_heads, T);
    INT(tc, "head_dim", REQUIRED, 2, 4096, &c->head_dim, T);
    INT(tc, "num_key_value_heads", REQUIRED, 1, 1024, &c->n_kv, T);
    INT(tc, "global_head_dim", REQUIRED, 2, 4096, &c->g_head_dim, T);
    INT(tc, "num_global_key_value_heads", REQUIRED, 1, 1024, &c->g_n_kv, T);
    INT(tc, "intermediate_size", REQUIRED, 1, 1 << 20, &c->inter, T);
    INT(tc, "num_experts", REQUIRED, 1, 4096, &c->n_experts, T);
    INT(tc, "top_k_experts", REQUIRED, 1, 4096, &c->top_k, T);
    INT(tc, "moe_intermediate_size", REQUIRED, 1, 1 << 20, &c->moe_inter, T);
    INT(tc, "sliding_window", REQUIRED, 1, 1 << 24, &c->window, T);
    INT(tc, "max_position_embeddings", 131072, 1, 1 << 30, &c->max_pos, T);
#undef INT
    if ((st = get_num(tc, "rms_norm_eps", 1e-6, &c->eps, path, T, err))) goto done;
    if ((st = get_num(tc, "final_logit_softcapping", 30.0, &c->softcap, path, T, err))) goto done;
    if (!(c->eps > 0)) { st = dg_fail(err, DG_ERR_FORMAT, "%s: text_config.rms_norm_eps must be > 0", path); goto done; }
    if (c->top_k > c->n_experts) { st = dg_fail(err, DG_ERR_FORMAT, "%s: top_k_experts %d > num_experts %d", path, c->top_k, c->n_experts); goto done; }
    if (c->n_heads % c->n_kv || c->n_heads % c->g_n_kv) {
        st = dg_fail(err, DG_ERR_FORMAT, "%s: num_attention_heads %d is not a multiple of the key/value head counts", path, c->n_heads);
        goto done;
    }
    if (c->head_dim % 2 || c->g_head_dim % 2) { st = dg_fail(err, DG_ERR_FORMAT, "%s: head dims must be even", path); goto done; }
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(tc, "hidden_activation");
    if (act && !(cJSON_IsString(act) && !strcmp(act->valuestring, "gelu_pytorch_tanh"))) {
        st = dg_fail(err, DG_ERR_UNSUPPORTED, "%s: hidden_activation must be gelu_pytorch_tanh", path);
        goto done;
    }
    const cJSON *bidi = cJSON_GetObjectItemCaseSensitive(tc, "use_bidirectional_attention");
    if (cJSON_IsString(bidi) && !strcmp(bidi->valuestring, "all")) {
        st = dg_fail(err, DG_ERR_UNSUPPORTED, "%s: use_bidirectional_attention 'all' is not supported", path);
        goto done;
    }
    const cJSON *ab = cJSON_GetObjectItemCaseSensitive(tc, "attention_bias");
    if (cJSON_IsTrue(ab)) { st = dg_fail(err, DG_ERR_UNSUPPORTED, "%s: attention_bias true is not supported", path); goto done; }

    const cJSON *lt = cJSON_GetObjectItemCaseSensitive(tc, "layer_types");
    if (lt) {
        if (!cJSON_IsArray(lt) || cJSON_GetArraySize(lt) != c->n_layers) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: text_config.layer_types must list %d layer types", path, c->n_layers);
            goto done;
        }
        int i = 0;
        for (const cJSON *e = lt->child; e; e = e->next, i++) {
            if (cJSON_IsString(e) && !strcmp(e->valuestring, "full_attention")) c->full[i] = 1;
            else if (cJSON_IsString(e) && !strcmp(e->valuestring, "sliding_attention")) c->full[i] = 0;
            else { st = dg_fail(err, DG_ERR_FORMAT, "%s: text_config.layer_types[%d] is not a known layer type", path, i); goto done; }
        }
    } else {
        for (int i = 0; i < c->n_layers; i++) c->full[i] = (i + 1) % 6 == 0;
        c->full[c->n_layers - 1] = 1;
    }
    const cJSON *rp = cJSON_GetObjectItemCaseSensitive(tc, "rope_parameters");
    if (!cJSON_IsObject(rp)) { st = dg_fail(err, DG_ERR_MISSING, "%s: text_config.rope_parameters is missing", path); goto done; }
    int rot_sliding;
    if ((st = parse_rope(rp, "sliding_attention", c->head_dim, &c->theta_sliding, &rot_sliding, path, err))) goto done;
    if ((st = parse_rope(rp, "full_attention", c->g_head_dim, &c->theta_full, &c->rot_pairs_full, path, err))) goto done;
    if (rot_sliding != c->head_dim / 2) {
        st = dg_fail(err, DG_ERR_UNSUPPORTED, "%s: partial RoPE on sliding layers is not supported", path);
        goto done;
    }
    c->embed_scale = dg_bf16_round(sqrtf((float)c->hidden));

    cJSON *q = cJSON_DetachItemFromObjectCaseSensitive(root, "quantization");
    if (q && !cJSON_IsObject(q)) { cJSON_Delete(q); st = dg_fail(err, DG_ERR_FORMAT, "%s: quantization must be an object", path); goto done; }
    c->quant = q;
    if (q && (st = check_quant_mode(q, path, err))) goto done;
    cJSON *g = cJSON_DetachItemFromObjectCaseSensitive(root, "generation_config");
    if (g && !cJSON_IsObject(g)) { cJSON_Delete(g); g = NULL; }
    c->gen_embedded = g;
done:
    cJSON_Delete(root);
    if (st) dg_config_free(c);
    return st;
}

void dg_config_free(dg_config *c) {
    cJSON_Delete(c->quant);
    cJSON_Delete(c->gen_embedded);
    c->quant = c->gen_embedded = NULL;
}
