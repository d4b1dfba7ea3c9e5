/* generation_config.json -> dg_gen_params (GENERATION.md §1). Internal: the model loader calls
 * it with the file's text (or with config.json["generation_config"] of MLX conversions). */
#ifndef DG_GEN_CONFIG_H
#define DG_GEN_CONFIG_H
#include "dgemma.h"

struct cJSON;

/* Built-in defaults overridden by the fields present in `json_text`; unknown fields (metadata)
 * are ignored, known fields of the wrong type or value fail with DG_ERR_FORMAT naming the field.
 * The result is validated (dg_gen_params_validate). */
dg_status dg_gen_config_parse(const char *json_text, dg_gen_params *out, dg_error *err);
/* The same from an already parsed object; `out` must hold defaults (or earlier values) to
 * override. */
dg_status dg_gen_config_apply(const struct cJSON *obj, dg_gen_params *out, dg_error *err);

#endif
