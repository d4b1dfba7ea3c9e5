/* Which modules an MLX conversion quantizes and how (FORMATS.md §2.2), and the config.json
 * `quantization` / `quantization_config` blocks that describe it.
 *
 * mlx4 (the published mlx-community recipe, current revision): 8 bits for embed_tokens,
 * attention q/k/v/o, dense mlp and router.proj; 4 bits (the default) for experts and
 * self-conditioning. mlx8: 8 bits everywhere. Group size g (64) unless the input dimension is
 * not a multiple of it: then the largest of {64, 32, 16} below g that fits, recorded as a
 * per-module override (as tests/golden/tiny-a-mlx4 does). Norms, router.scale,
 * per_expert_scale and layer scalars are never quantized. */
#ifndef DG_FORMAT_MLX_RECIPE_H
#define DG_FORMAT_MLX_RECIPE_H
#include <stdint.h>
#include "core/strbuf.h"
#include "format/ckpt_write.h"

typedef enum dg_recipe { DG_RECIPE_NONE = 0, DG_RECIPE_MLX4, DG_RECIPE_MLX8 } dg_recipe;

/* "mlx4" / "mlx8"; returns 0 for anything else. */
int dg_recipe_parse(const char *s, dg_recipe *out);
const char *dg_recipe_name(dg_recipe r);

/* Bits and group for `module` (tensor path without `.weight`) with K inputs; 0 = keep it
 * unquantized (not a quantizable module, or no group size fits K). */
int dg_recipe_assign(dg_recipe r, int group, const char *module, int64_t K, int *bits, int *group_out);

/* Appends `"quantization": {...},\n  "quantization_config": {...}` (2-space JSON, defaults
 * first, then overrides sorted by module) for the quantized items. */
void dg_recipe_json(dg_recipe r, int group, const dg_out_item *items, int n, dg_sb *out);

/* config.json text + quantization blocks (+ an embedded generation_config object when
 * gen_json is non-NULL), inserted before the closing brace so the original text stays as is. */
dg_status dg_config_with_quant(const char *config_json, const char *path, dg_recipe r, int group,
                               const dg_out_item *items, int n, const char *gen_json, dg_sb *out, dg_error *err);

#endif
