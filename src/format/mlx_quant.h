/* MLX affine quantization (FORMATS.md §2.4): per group of g consecutive inputs of a row,
 * w ≈ scale · q + bias with q in [0, 2^b − 1], codes packed as a little-endian bit stream
 * (code j = bits [j·b, j·b + b) of the row), scale and bias stored as bf16.
 *
 * Scheme: bias = group minimum rounded DOWN to bf16, scale = (max − bias) / (2^b − 1) rounded
 * UP to bf16, codes = round((w − bias) / scale) computed from those stored values. The stored
 * range [bias, bias + (2^b − 1)·scale] therefore covers the whole group and
 *     |w − (scale·q + bias)| ≤ scale / 2   (+ fp32 rounding slack, see tests/test_quantize.c)
 * for every element. (MLX ≥ 0.2x anchors the larger-magnitude edge and may store negative
 * scales; any choice is valid under the dequantization contract, this one bounds the error.) */
#ifndef DG_FORMAT_MLX_QUANT_H
#define DG_FORMAT_MLX_QUANT_H
#include <stddef.h>
#include <stdint.h>

/* 1 if a row of K inputs can be stored with these parameters: bits in {2,3,4,5,6,8},
 * g divides K, and a row fills whole uint32 words (K·bits divisible by 32). */
int dg_affine_ok(int K, int bits, int group);

/* Bytes of packed codes per row: K·bits/8. */
static inline size_t dg_affine_row_bytes(int K, int bits) { return (size_t)K * (size_t)bits / 8; }

/* Quantizes `rows` rows of K values (fp32, row-major). packed: rows × row_bytes;
 * scales, biases: rows × K/g bf16 bit patterns. Requires dg_affine_ok. */
void dg_affine_quantize(const float *w, int64_t rows, int K, int bits, int group,
                        uint8_t *packed, uint16_t *scales, uint16_t *biases);

/* Packs K codes (each < 2^bits) of one row. */
void dg_affine_pack(const uint8_t *codes, int K, int bits, uint8_t *out);

/* bf16 rounding toward −∞ / +∞ (bit patterns); finite inputs. */
uint16_t dg_bf16_down(float x);
uint16_t dg_bf16_up(float x);

#endif
