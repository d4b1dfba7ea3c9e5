/* Helpers shared by the ARM kernels (neon/, dotprod/, i8mm/): the symmetric quantization of one
 * activation block, a float dot, and the 4-bit unpack of the integer paths. Include only from
 * files under kernels/arm/ (NEON intrinsics). */
#ifndef DG_KERNELS_SIMD_NEON_H
#define DG_KERNELS_SIMD_NEON_H
#include <arm_neon.h>
#include <stdint.h>
#include "kernels/arm/neon/neon.h"

/* Codes qi[j] = round(x[j] * qmax / max|x|) in [-qmax, qmax] (round to nearest even, as the x86
 * kernels' MXCSR default). Returns the block's scale amax / qmax. A NaN/Inf block (vmaxq keeps
 * NaN) or an all-zero one gets scale 0 and codes 0 (fcvtns turns NaN into 0). */
static inline float dg_quant_block_neon(const float *xb, float qmax, int32_t qi[DG_QB]) {
    float32x4_t mx = vdupq_n_f32(0.0f);
    for (int j = 0; j < DG_QB; j += 4) mx = vmaxq_f32(mx, vabsq_f32(vld1q_f32(xb + j)));
    float amax = vmaxvq_f32(mx);
    float inv = amax > 0.0f && amax <= 3.0e38f ? qmax / amax : 0.0f;
    for (int j = 0; j < DG_QB; j += 4) vst1q_s32(qi + j, vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(xb + j), inv)));
    return inv > 0.0f ? amax / qmax : 0.0f;
}

/* sum_c a[c] * b[c] over n floats. */
static inline float dg_dot_neon(const float *a, const float *b, int n) {
    float32x4_t acc = vdupq_n_f32(0.0f);
    int c = 0;
    for (; c + 4 <= n; c += 4) acc = vfmaq_f32(acc, vld1q_f32(a + c), vld1q_f32(b + c));
    float s = vaddvq_f32(acc);
    for (; c < n; c++) s += a[c] * b[c];
    return s;
}

/* The 64 codes of one 4-bit block (32 bytes, code 2j in the low nibble of byte j) as 64 bytes,
 * in the order the int8 paths use ("planar"): per 16-byte half h, its 16 low nibbles (codes
 * 32h + 2j) then its 16 high nibbles (codes 32h + 2j + 1). dg_planar4 gives a code's position. */
static inline void dg_unpack4_planar(const uint8_t *p, uint8x16_t u[4]) {
    const uint8x16_t m = vdupq_n_u8(0x0f);
    uint8x16_t v0 = vld1q_u8(p), v1 = vld1q_u8(p + 16);
    u[0] = vandq_u8(v0, m);
    u[1] = vshrq_n_u8(v0, 4);
    u[2] = vandq_u8(v1, m);
    u[3] = vshrq_n_u8(v1, 4);
}
static inline int dg_planar4(int c) { return (c & 32) + ((c & 1) << 4) + ((c & 31) >> 1); }

#endif
