/* `dgemma quantize`: an HF (or MLX bf16) checkpoint to the mlx-community MLX affine layout,
 * streamed tensor by tensor from the mapped input. Quantizable text modules get the recipe's
 * bits (src/format/mlx_recipe.h); every other tensor (norms, router scales, layer scalars,
 * vision tower) is copied unchanged. config.json gains `quantization` +
 * `quantization_config` (and an embedded `generation_config`, as mlx-community files have);
 * tokenizer.json, tokenizer_config.json, chat_template.jinja and generation_config.json are
 * copied when present. */
#ifndef DG_MODEL_QUANTIZE_H
#define DG_MODEL_QUANTIZE_H
#include "format/mlx_recipe.h"

typedef struct dg_quantize_params {
    const char *in_dir;
    dg_recipe recipe;
    int group;                  /* 0: 64 */
    dg_ckpt_write_params out;   /* out.dir must exist and differ from in_dir */
} dg_quantize_params;

typedef struct dg_quantize_result {
    uint64_t bytes_in, bytes;   /* tensor data read / written */
    int tensors_in, quantized, shards;
} dg_quantize_result;

dg_status dg_quantize_checkpoint(const dg_quantize_params *p, dg_quantize_result *res, dg_error *err);

#endif
