/* Generation parameters: built-in defaults, generation_config.json, HF validation rules. */
#include "format/gen_config.h"
#include "core/error.h"
#include "core/json.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

void dg_gen_params_default(dg_gen_params *p) {
    memset(p, 0, sizeof *p);
    p->max_new_tokens = 256;
    p->max_denoising_steps = 48;
    p->t_min = 0.4;
    p->t_max = 0.8;
    p->entropy_bound = 0.1;
    p->stability_threshold = 1;
    p->confidence_threshold = 0.005;
    p->eos_ids[0] = 1;      /* <eos> */
    p->eos_ids[1] = 106;    /* <end_of_turn> */
    p->eos_ids[2] = 50;     /* <|tool_response> (TOKENIZER.md §3) */
    p->n_eos = 3;
    p->pad_id = 0;
    p->seed = 0;
}

dg_status dg_gen_params_validate(const dg_gen_params *p, dg_error *err) {
    if (p->max_new_tokens <= 0)
        return dg_fail(err, DG_ERR_ARG, "max_new_tokens must be > 0 (got %d)", p->max_new_tokens);
    if (p->max_denoising_steps <= 0)
        return dg_fail(err, DG_ERR_ARG, "max_denoising_steps must be a positive integer (got %d)", p->max_denoising_steps);
    if (!(p->t_min >= 0) || !isfinite(p->t_min))
        return dg_fail(err, DG_ERR_ARG, "t_min must be >= 0 (got %g)", p->t_min);
    if (!(p->t_max >= 0) || !isfinite(p->t_max))
        return dg_fail(err, DG_ERR_ARG, "t_max must be >= 0 (got %g)", p->t_max);
    if (!(p->t_max > p->t_min))
        return dg_fail(err, DG_ERR_ARG, "t_max must be > t_min (got t_min %g, t_max %g)", p->t_min, p->t_max);
    if (p->stability_threshold < 0)
        return dg_fail(err, DG_ERR_ARG, "stability_threshold must be an integer >= 0 (got %d)", p->stability_threshold);
    if (!(p->confidence_threshold > 0) || !isfinite(p->confidence_threshold))
        return dg_fail(err, DG_ERR_ARG, "confidence_threshold must be > 0 (got %g)", p->confidence_threshold);
    if (!(p->entropy_bound > 0) || !isfinite(p->entropy_bound))
        return dg_fail(err, DG_ERR_ARG, "entropy_bound must be > 0 (got %g)", p->entropy_bound);
    if (p->n_eos < 0 || p->n_eos > (int)(sizeof p->eos_ids / sizeof *p->eos_ids))
        return dg_fail(err, DG_ERR_ARG, "n_eos out of range (got %d)", p->n_eos);
    for (int i = 0; i < p->n_eos; i++)
        if (p->eos_ids[i] < 0) return dg_fail(err, DG_ERR_ARG, "eos_token_id %d is negative", p->eos_ids[i]);
    if (p->pad_id < 0) return dg_fail(err, DG_ERR_ARG, "pad_token_id %d is negative", p->pad_id);
    return DG_OK;
}

/* JSON integers arrive as doubles: accept only exact integers in int range. */
static dg_status get_int(const cJSON *o, const char *key, int *out, dg_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return DG_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 2147483647.0)
        return dg_fail(err, DG_ERR_FORMAT, "generation config: %s must be an integer", key);
    *out = (int)v->valuedouble;
    return DG_OK;
}

static dg_status get_num(const cJSON *o, const char *key, double *out, dg_error *err) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!v || cJSON_IsNull(v)) return DG_OK;
    if (!cJSON_IsNumber(v)) return dg_fail(err, DG_ERR_FORMAT, "generation config: %s must be a number", key);
    *out = v->valuedouble;
    return DG_OK;
}

dg_status dg_gen_config_apply(const cJSON *o, dg_gen_params *p, dg_error *err) {
    if (!cJSON_IsObject(o)) return dg_fail(err, DG_ERR_FORMAT, "generation config: not a JSON object");
    dg_status st;
    if ((st = get_int(o, "max_new_tokens", &p->max_new_tokens, err)) ||
        (st = get_int(o, "max_denoising_steps", &p->max_denoising_steps, err)) ||
        (st = get_num(o, "t_min", &p->t_min, err)) ||
        (st = get_num(o, "t_max", &p->t_max, err)) ||
        (st = get_int(o, "stability_threshold", &p->stability_threshold, err)) ||
        (st = get_num(o, "confidence_threshold", &p->confidence_threshold, err)) ||
        (st = get_int(o, "pad_token_id", &p->pad_id, err)))
        return st;
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(o, "sampler_config");
    if (sc && !cJSON_IsNull(sc)) {
        if (!cJSON_IsObject(sc)) return dg_fail(err, DG_ERR_FORMAT, "generation config: sampler_config must be an object");
        const cJSON *cls = cJSON_GetObjectItemCaseSensitive(sc, "_cls_name");
        if (cJSON_IsString(cls) && strcmp(cls->valuestring, "EntropyBoundSamplerConfig"))
            return dg_fail(err, DG_ERR_UNSUPPORTED, "generation config: sampler %s is not supported (only EntropyBoundSamplerConfig)",
                           cls->valuestring);
        if ((st = get_num(sc, "entropy_bound", &p->entropy_bound, err))) return st;
    }
    const cJSON *eos = cJSON_GetObjectItemCaseSensitive(o, "eos_token_id");
    if (eos && !cJSON_IsNull(eos)) {
        int n = 0;
        if (cJSON_IsNumber(eos)) {
            if ((st = get_int(o, "eos_token_id", &p->eos_ids[0], err))) return st;
            n = 1;
        } else if (cJSON_IsArray(eos)) {
            const cJSON *e;
            cJSON_ArrayForEach(e, eos) {
                if (n == (int)(sizeof p->eos_ids / sizeof *p->eos_ids))
                    return dg_fail(err, DG_ERR_FORMAT, "generation config: more than %d eos_token_id entries", n);
                if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) || e->valuedouble < 0 || e->valuedouble > 2147483647.0)
                    return dg_fail(err, DG_ERR_FORMAT, "generation config: eos_token_id entries must be non-negative integers");
                p->eos_ids[n++] = (int)e->valuedouble;
            }
        } else return dg_fail(err, DG_ERR_FORMAT, "generation config: eos_token_id must be an integer or a list");
        p->n_eos = n;
    }
    return dg_gen_params_validate(p, err);
}

dg_status dg_gen_config_parse(const char *json_text, dg_gen_params *out, dg_error *err) {
    dg_gen_params_default(out);
    const char *t = json_text ? json_text : "";
    cJSON *o = NULL;
    dg_status st = dg_json_object(t, strlen(t), "generation config", &o, err);
    if (st) return st;
    st = dg_gen_config_apply(o, out, err);
    cJSON_Delete(o);
    return st;
}
