/* Quantization of fp32 rows into ggml blocks for the GGUF writer: Q8_0, Q5_0, Q4_K, Q5_K, Q6_K
 * (the types of a Q8_0 and a Q4_K_M file) and F32. Q8_0 follows ggml's reference quantizer
 * exactly. For the others scales are stored fp16 and the codes computed from the stored values,
 * every scale rounded up so the block's range is covered (no clipping): the error per weight is
 * at most half a code step of its (sub-)block. Those values are not llama-quantize's (it searches
 * scales to minimise error); any choice decodes under the same format (FORMATS.md §3.4). */
#ifndef DG_FORMAT_GGML_QUANT_H
#define DG_FORMAT_GGML_QUANT_H
#include <stddef.h>
#include <stdint.h>

/* 1 if dg_ggml_quantize_row can write `type`. */
int dg_ggml_quant_ok(int type);
/* n values (a multiple of the block) -> n / block blocks at out. */
void dg_ggml_quantize_row(int type, const float *x, int64_t n, uint8_t *out);
/* IEEE binary16 nearest-even of a finite float (saturating to ±65504). */
uint16_t dg_f32_to_f16(float f);

#endif
