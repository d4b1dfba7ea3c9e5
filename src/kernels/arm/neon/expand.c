/* NEON weight expansion and panel packing for the fp32 GEMM path. Bit-identical to expand.c:
 * bf16 -> f32 is a shift, f16 -> f32 by fcvtl is exact, and for affine codes fma(s, q, b) ==
 * s*q + b rounded once, because s (bf16, 8 significant bits) times q (< 2^8) is exact in fp32.
 * 4- and 8-bit affine codes are vectorised; other widths take the portable expansion. */
#include <arm_neon.h>
#include <string.h>
#include "core/numeric.h"
#include "kernels/arm/neon/neon.h"

/* out[0..16) = s * q + b for 16 codes as bytes */
static inline void affine16(uint8x16_t q, float32x4_t vs, float32x4_t vb, float *out) {
    uint16x8_t lo = vmovl_u8(vget_low_u8(q)), hi = vmovl_high_u8(q);
    vst1q_f32(out, vfmaq_f32(vb, vs, vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo)))));
    vst1q_f32(out + 4, vfmaq_f32(vb, vs, vcvtq_f32_u32(vmovl_high_u16(lo))));
    vst1q_f32(out + 8, vfmaq_f32(vb, vs, vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi)))));
    vst1q_f32(out + 12, vfmaq_f32(vb, vs, vcvtq_f32_u32(vmovl_high_u16(hi))));
}

/* Columns [c0, c0+nc) of row r, within one group (scale s, bias b): 16 codes at a time from a
 * 16-aligned column, the rest portable. */
static void affine_seg(const dg_mat *W, const uint8_t *row, int r, int c0, int nc, float s, float b, float *out) {
    int j = 0;
    if ((c0 & 15) == 0 && (W->bits == 4 || W->bits == 8)) {
        float32x4_t vs = vdupq_n_f32(s), vb = vdupq_n_f32(b);
        for (; j + 16 <= nc; j += 16) {
            uint8x16_t q;
            if (W->bits == 8) q = vld1q_u8(row + c0 + j);
            else {
                uint8x8_t p = vld1_u8(row + (size_t)(c0 + j) / 2);
                uint8x8_t lo = vand_u8(p, vdup_n_u8(15)), hi = vshr_n_u8(p, 4);
                q = vcombine_u8(vzip1_u8(lo, hi), vzip2_u8(lo, hi));   /* code 2j: low nibble of byte j */
            }
            affine16(q, vs, vb, out + j);
        }
    }
    if (j < nc) dg_mat_row_range(W, r, c0 + j, nc - j, out + j);
}

void dg_expand_neon(const dg_mat *W, int r, int c0, int nc, float *out) {
    const uint8_t *row = W->w + (size_t)r * W->w_stride;
    int j = 0;
    switch (W->kind) {
    case DG_W_F32:
        memcpy(out, row + (size_t)c0 * 4, (size_t)nc * 4);
        return;
    case DG_W_BF16:
        for (const uint8_t *p = row + 2 * (size_t)c0; j + 8 <= nc; j += 8) {
            uint16x8_t v = vreinterpretq_u16_u8(vld1q_u8(p + 2 * (size_t)j));
            vst1q_f32(out + j, vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(v), 16)));
            vst1q_f32(out + j + 4, vreinterpretq_f32_u32(vshll_high_n_u16(v, 16)));
        }
        break;
    case DG_W_F16:
        for (const uint8_t *p = row + 2 * (size_t)c0; j + 4 <= nc; j += 4)
            vst1q_f32(out + j, vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p + 2 * (size_t)j))));
        break;
    case DG_W_AFFINE: {
        const uint8_t *sr = W->scales + (size_t)r * W->sb_stride, *br = W->biases + (size_t)r * W->sb_stride;
        for (int g = W->group; j < nc;) {
            int c = c0 + j, gi = c / g, end = (gi + 1) * g - c0;
            if (end > nc) end = nc;
            affine_seg(W, row, r, c, end - j, dg_bf16_to_f32(dg_ld16(sr + 2 * (size_t)gi)),
                       dg_bf16_to_f32(dg_ld16(br + 2 * (size_t)gi)), out + j);
            j = end;
        }
        return;
    }
    default:    /* other kinds (GGML blocks): the exact scalar expansion */
        break;
    }
    if (j < nc) dg_mat_row_range(W, r, c0 + j, nc - j, out + j);
}

/* 4x4 transpose: rows s[0..3] (stride ls) -> d[t*16 + 0..3] for t < 4. */
static inline void tr4(const float *s, size_t ls, float *d) {
    float32x4_t r0 = vld1q_f32(s), r1 = vld1q_f32(s + ls), r2 = vld1q_f32(s + 2 * ls), r3 = vld1q_f32(s + 3 * ls);
    float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(r0, r1)), t1 = vreinterpretq_f64_f32(vtrn2q_f32(r0, r1)),
                t2 = vreinterpretq_f64_f32(vtrn1q_f32(r2, r3)), t3 = vreinterpretq_f64_f32(vtrn2q_f32(r2, r3));
    vst1q_f32(d, vreinterpretq_f32_f64(vtrn1q_f64(t0, t2)));
    vst1q_f32(d + 16, vreinterpretq_f32_f64(vtrn1q_f64(t1, t3)));
    vst1q_f32(d + 32, vreinterpretq_f32_f64(vtrn2q_f64(t0, t2)));
    vst1q_f32(d + 48, vreinterpretq_f32_f64(vtrn2q_f64(t1, t3)));
}

void dg_pack_neon(const dg_mat *W, int r0, int nr, int k0, int kc, float *panel, float *tmp) {
    for (int r = 0; r < DG_NR; r++) {
        float *t = tmp + (size_t)r * DG_KC;
        if (r < nr) dg_expand_neon(W, r0 + r, k0, kc, t);
        else memset(t, 0, (size_t)kc * sizeof *t);
    }
    int j = 0;
    for (; j + 4 <= kc; j += 4)
        for (int g = 0; g < DG_NR; g += 4) tr4(tmp + (size_t)g * DG_KC + j, DG_KC, panel + (size_t)j * DG_NR + g);
    for (; j < kc; j++)
        for (int r = 0; r < DG_NR; r++) panel[(size_t)j * DG_NR + r] = tmp[(size_t)r * DG_KC + j];
}
