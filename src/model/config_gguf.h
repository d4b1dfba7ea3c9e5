/* GGUF metadata -> dg_config and generation defaults (FORMATS.md §3.2): the `diffusion-gemma.*`
 * geometry, layer types from the sliding-window pattern, proportional RoPE from rope_freqs,
 * `diffusion.canvas_length`, and the sampler defaults `diffusion.eb_*` when present. */
#ifndef DG_MODEL_CONFIG_GGUF_H
#define DG_MODEL_CONFIG_GGUF_H
#include "format/weights.h"
#include "model/config.h"

/* w must be a GGUF set (dg_weights_gguf(w) != NULL). gen must hold the built-in defaults. */
dg_status dg_config_from_gguf(const dg_weights *w, dg_config *c, dg_gen_params *gen, dg_error *err);

#endif
