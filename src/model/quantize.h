/* `dgemma quantize`: an HF (or MLX bf16) checkpoint to the mlx-community MLX affine layout,
 * streamed tensor by tensor from the mapped input. Quantizable text modules get the recipe's
 * bits (src/format/mlx_recipe.h); every other tensor (norms, router scales, layer scalars,
 * vision tower) is copied unchanged. config.json gains `quantization` +
 * `quantization_config` (and an embedded `generation_config`, as mlx-community files have);
 * tokenizer.json, tokenizer_config.json, chat_template.jinja and generation_config.json are
 * copied when present. */
#ifndef DG_MODEL_QUANTIZE_H
#define DG_MODEL_QUANTIZE_H
#include "format/gguf_write.h"
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

/* Rows row0.. of a mapped BF16/F16/F32 tensor (a const dg_tensor *) as fp32 (a dg_rows_fn);
 * the consumed pages are dropped from the process afterwards. */
void dg_tensor_rows_f32(const void *src, int64_t row0, int64_t nrows, float *out);

/* `dgemma quantize --recipe gguf-q8_0|gguf-q4_k_m`: an HF checkpoint to one GGUF file with the
 * llama.cpp DiffusionGemma draft's names and metadata (FORMATS.md §3). Q8_0: every matrix Q8_0.
 * Q4_K_M: llama-quantize's choice: token_embd Q6_K; attn_v and ffn_down / ffn_down_exps Q6_K on
 * the "more bits" layers (first and last eighth, every third between), else Q4_K; with 8 experts
 * attn_k / attn_v Q8_0 and attn_output Q5_K; the rest Q4_K; K-quants fall back to Q5_0 / Q5_1 /
 * Q8_0 where ne[0] is not a multiple of 256. Router matrices and 1-D tensors stay F32. */
typedef enum dg_gguf_recipe { DG_GGUF_NONE = 0, DG_GGUF_Q8_0, DG_GGUF_Q4_K_M } dg_gguf_recipe;

typedef struct dg_gguf_quant_params {
    const char *in_dir, *out_path;
    dg_gguf_recipe recipe;
    /* adds the tokenizer.* keys (NULL: none written) */
    dg_status (*tokenizer_kv)(void *user, dg_ggw *w, dg_error *err);
    void *user;
} dg_gguf_quant_params;

dg_status dg_quantize_gguf(const dg_gguf_quant_params *p, dg_quantize_result *res, dg_error *err);

#endif
