/* Expanding stored weights to fp32: exact for F32/BF16/F16, scale*q + bias (one fp32
 * rounding, the product being exact) for MLX affine codes, ggml blocks by ggml_dequant.c. */
#include <string.h>
#include "core/numeric.h"
#include "kernels/gemm.h"
#include "kernels/ggml_dequant.h"

/* Code j of a row: bits [j*b, j*b+b) of the row's little-endian byte stream (MLX packing;
 * for b in {2,4,8} the same as "lowest bits of each uint32 first"). */
static inline unsigned affine_code(const uint8_t *row, int bits, int j) {
    size_t bit = (size_t)j * (size_t)bits;
    const uint8_t *p = row + (bit >> 3);
    unsigned sh = (unsigned)(bit & 7);
    unsigned v = p[0] | ((unsigned)(sh + (unsigned)bits > 8 ? p[1] : 0) << 8);
    return (v >> sh) & ((1u << bits) - 1u);
}

void dg_mat_row_range(const dg_mat *W, int r, int c0, int nc, float *out) {
    const uint8_t *row = W->w + (size_t)r * W->w_stride;
    switch (W->kind) {
    case DG_W_F32:
        memcpy(out, row + (size_t)c0 * 4, (size_t)nc * 4);
        break;
    case DG_W_BF16:
        for (int j = 0; j < nc; j++) out[j] = dg_bf16_to_f32(dg_ld16(row + 2 * (size_t)(c0 + j)));
        break;
    case DG_W_F16:
        for (int j = 0; j < nc; j++) out[j] = dg_f16_to_f32(dg_ld16(row + 2 * (size_t)(c0 + j)));
        break;
    case DG_W_AFFINE: {
        const uint8_t *sr = W->scales + (size_t)r * W->sb_stride, *br = W->biases + (size_t)r * W->sb_stride;
        int g = W->group, bits = W->bits;
        int j = 0;
        while (j < nc) {
            int c = c0 + j, gi = c / g, end = (gi + 1) * g - c0;
            if (end > nc) end = nc;
            float s = dg_bf16_to_f32(dg_ld16(sr + 2 * (size_t)gi)), b = dg_bf16_to_f32(dg_ld16(br + 2 * (size_t)gi));
            if (bits == 4 && !(c & 1) && !((end - j) & 1)) {
                const uint8_t *p = row + (size_t)c / 2;
                for (; j < end; j += 2, p++) {
                    out[j] = s * (float)(*p & 15) + b;
                    out[j + 1] = s * (float)(*p >> 4) + b;
                }
            } else if (bits == 8) {
                for (; j < end; j++) out[j] = s * (float)row[c0 + j] + b;
            } else {
                for (; j < end; j++) out[j] = s * (float)affine_code(row, bits, c0 + j) + b;
            }
        }
        break;
    }
    case DG_W_GGML:
        dg_ggml_expand(W->gtype, row, c0, nc, out);
        break;
    }
}

void dg_mat_row(const dg_mat *W, int r, float *out) { dg_mat_row_range(W, r, 0, W->cols, out); }

size_t dg_mat_bytes(const dg_mat *W) {
    size_t b = (size_t)W->rows * (W->kind == DG_W_AFFINE ? (size_t)W->cols * (size_t)W->bits / 8 : W->w_stride);
    if (W->kind == DG_W_AFFINE) b += 2 * (size_t)W->rows * (size_t)(W->cols / W->group) * 2;
    return b;
}
