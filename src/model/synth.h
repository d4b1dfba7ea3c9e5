/* Synthetic DiffusionGemma checkpoints (`dgemma mkmodel`): the real config.json layout and the
 * exact HF tensor layout (bf16) or, with a recipe, the mlx-community layout, filled with
 * deterministic random weights scaled so the forward pass stays finite and the logits are not
 * degenerate. Values come from a counter-based generator (SplitMix64 of seed, tensor name and
 * element index), so any chunk is generated independently and the output does not depend on
 * the thread count. */
#ifndef DG_MODEL_SYNTH_H
#define DG_MODEL_SYNTH_H
#include <stdint.h>
#include "format/mlx_recipe.h"

typedef struct dg_synth_params {
    const char *preset;         /* "tiny" or "26b-a4b" */
    int n_layers;               /* 0: the preset's */
    int vocab;                  /* 0: the preset's */
    uint64_t seed;
    dg_recipe recipe;           /* DG_RECIPE_NONE: HF bf16 layout */
    int group;                  /* 0: 64 */
    dg_ckpt_write_params out;   /* dir (must exist), shard size, threads, progress */
} dg_synth_params;

typedef struct dg_synth_result {
    uint64_t bytes;             /* tensor data written */
    int shards, tensors;
    int64_t params;             /* logical parameters */
} dg_synth_result;

dg_status dg_synth_write(const dg_synth_params *p, dg_synth_result *res, dg_error *err);

#endif
