/* Exact expansion of ggml block-quantized rows to fp32 (FORMATS.md §3.4). Every type's value is
 * d·scale·q (− dmin·min, + m) whose products are exact in fp32 (fp16 d has 11 significant bits,
 * scales ≤ 8 bits, codes ≤ 7 bits: ≤ 24 bits), so the only rounding is the final add: the result
 * is the same in any evaluation order, and equal to gguf-py's float32 dequantization. */
#ifndef DG_KERNELS_GGML_DEQUANT_H
#define DG_KERNELS_GGML_DEQUANT_H
#include <stdint.h>

/* out[0..nc) = weights [c0, c0+nc) of a row of `type` (a DG_GGML_* id of a supported type) whose
 * first block starts at `row`. Blocks partly inside the range are decoded whole into a local
 * buffer; nothing else is read. */
void dg_ggml_expand(int type, const uint8_t *row, int c0, int nc, float *out);

/* Shared with the integer paths that decode blocks to codes: the IQ4_NL / IQ4_XS code book, and
 * the 6-bit scale and min of Q4_K / Q5_K sub-block s (0..7) from the block's scales[12]. */
extern const int8_t dg_iq4_table[16];
void dg_k_scale_min(const uint8_t *sc, int s, int *scale, int *min);

#endif
