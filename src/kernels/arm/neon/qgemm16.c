/* int16-activation GEMM against MLX affine weights (4- or 8-bit codes, group a multiple of 64),
 * plain NEON: the near-exact integer path of every ARM table (the counterpart of int16_avx2).
 *
 * Y[i, r] = sum_blocks ws[r,g] * sa[i,b] * (q_w . q_a)_b + wb[r,g] * sa[i,b] * sum(q_a)_b
 * with activations quantized per 64-column block to symmetric int16 (sa = max|x| / 32767; the
 * weights are used exactly). The integer dots are exact: smlal multiplies the u8 codes (as
 * int16, <= 255) by int16 activations into int32 lanes; a block puts 16 products in each lane
 * (<= 16 * 255 * 32767 < 2^31).
 *
 * NEON folds a block's four int32 lanes into fp32 with one cvt + one fmla-by-scalar, so both
 * operands keep the natural code order: the activations are quantized as they are, and the
 * weights of up to RSUB rows are widened to int16 once per call into per-thread scratch (nibble
 * unpack + zip + widen), then swept against all activation rows.
 *
 * Register block: 2 weight rows x 4 activation rows. Per 8 codes: 2 + 4 loads and 16 smlal
 * (8 int32 accumulators, two chains each), per block 8 cvt + 8 fmla: 6 loads per 16 multiplies,
 * plus ~12% for the fold. */
#include <arm_neon.h>
#include <string.h>
#include "kernels/arm/neon/neon.h"
#include "kernels/arm/neon/simd.h"

#define AI __attribute__((always_inline)) static inline
#define IA 4    /* activation rows per register block */
#define RSUB 32 /* weight rows widened and swept together: 32 x 5.5 KiB (2816 columns) stays in L2 */

static void quantize16(const dg_qact *q, const float *X, int ldx, int i0, int i1) {
    const int nb = q->cols / DG_QB;
    for (int i = i0; i < i1; i++) {
        const float *x = X + (size_t)i * ldx;
        int16_t *qr = (int16_t *)(q->q + (size_t)i * q->row_bytes);
        float *sc = q->scale + (size_t)i * q->nblocks, *ss = q->ssum + (size_t)i * q->nblocks;
        for (int b = 0; b < nb; b++) {
            int32_t qi[DG_QB];
            const float s = dg_quant_block_neon(x + (size_t)b * DG_QB, 32767.0f, qi);
            int32x4_t sum = vdupq_n_s32(0);
            for (int j = 0; j < DG_QB; j += 8) {
                int32x4_t a = vld1q_s32(qi + j), c = vld1q_s32(qi + j + 4);
                sum = vaddq_s32(sum, vaddq_s32(a, c));
                vst1q_s16(qr + (size_t)b * DG_QB + j, vcombine_s16(vmovn_s32(a), vmovn_s32(c)));
            }
            sc[b] = s;
            ss[b] = s * (float)vaddvq_s32(sum);   /* |sum| <= 64 * 32767 < 2^24: exact in fp32 */
        }
        for (int b = nb; b < q->nblocks; b++) sc[b] = ss[b] = 0.0f;   /* padding (codes unread) */
    }
}

/* One row's codes widened to int16 in natural order: nb blocks of 64. */
static void widen_row(const uint8_t *row, int bits, int nb, int16_t *out) {
    for (int c = 0; c < nb * DG_QB; c += 16) {
        uint8x16_t v;
        if (bits == 8) v = vld1q_u8(row + c);
        else {
            uint8x8_t p = vld1_u8(row + c / 2), lo = vand_u8(p, vdup_n_u8(15)), hi = vshr_n_u8(p, 4);
            v = vcombine_u8(vzip1_u8(lo, hi), vzip2_u8(lo, hi));   /* code 2j: low nibble of byte j */
        }
        vst1q_s16(out + c, vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v))));
        vst1q_s16(out + c + 8, vreinterpretq_s16_u16(vmovl_high_u8(v)));
    }
}

#define R4(X) X(0) X(1) X(2) X(3)

/* R (1 or 2) widened weight rows w0, w1 (block scales ws0, ws1) against M <= 4 activation rows
 * from i: out[u * 4 + t] without the bias term. Rows >= M and w1 when R == 1 are dead code. */
AI void k16(const int16_t *w0, const int16_t *w1, const float *ws0, const float *ws1, const dg_qact *q, int i,
            const int R, const int M, int nb, float *out) {
#define DECL(t) float32x4_t f0##t = vdupq_n_f32(0.0f), f1##t = f0##t; \
    const int16_t *a##t = (const int16_t *)(q->q + (size_t)(i + (M > t ? t : 0)) * q->row_bytes); \
    const float *sa##t = q->scale + (size_t)(i + (M > t ? t : 0)) * q->nblocks;
    R4(DECL)
#undef DECL
    for (int b = 0; b < nb; b++) {
        const int16_t *x0 = w0 + (size_t)b * DG_QB, *x1 = w1 + (size_t)b * DG_QB;
#define ZERO(t) int32x4_t c0##t = vdupq_n_s32(0), c1##t = c0##t;
        R4(ZERO)
#undef ZERO
#pragma GCC unroll 8
        for (int s = 0; s < DG_QB; s += 8) {
            int16x8_t v0 = vld1q_s16(x0 + s), v1 = R > 1 ? vld1q_s16(x1 + s) : v0;
#define STEP(t) if (M > t) { int16x8_t a = vld1q_s16(a##t + (size_t)b * DG_QB + s); \
                c0##t = vmlal_high_s16(vmlal_s16(c0##t, vget_low_s16(v0), vget_low_s16(a)), v0, a); \
                if (R > 1) c1##t = vmlal_high_s16(vmlal_s16(c1##t, vget_low_s16(v1), vget_low_s16(a)), v1, a); }
            R4(STEP)
#undef STEP
        }
#define FOLD(t) if (M > t) { f0##t = vfmaq_n_f32(f0##t, vcvtq_f32_s32(c0##t), ws0[b] * sa##t[b]); \
                if (R > 1) f1##t = vfmaq_n_f32(f1##t, vcvtq_f32_s32(c1##t), ws1[b] * sa##t[b]); }
        R4(FOLD)
#undef FOLD
    }
#define OUT(t) if (M > t) { out[t] = vaddvq_f32(f0##t); if (R > 1) out[4 + t] = vaddvq_f32(f1##t); }
    R4(OUT)
#undef OUT
}

/* Y[i, r] for all rows of q and W rows [r0, r1) (r1 - r0 <= DG_QNB): dg_qpath.rows in isa.h. */
static void rows16(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch) {
    const int nb = W->cols / DG_QB, nbp = q->nblocks, nr = r1 - r0;
    float *ws = scratch, *wb = ws + (size_t)nr * nbp;
    dg_block_scales(W, r0, nr, nbp, ws, wb);
    int16_t *wp = (int16_t *)(wb + (size_t)nr * nbp);
    const size_t rstride = (size_t)nbp * DG_QB;
    for (int rs = 0; rs < nr; rs += RSUB) {
        int re = nr - rs < RSUB ? nr : rs + RSUB;
        for (int r = rs; r < re; r++) widen_row(W->w + (size_t)(r0 + r) * W->w_stride, W->bits, nb, wp + (size_t)(r - rs) * rstride);
        for (int i = 0; i < q->n; i += IA) {
            int m = q->n - i < IA ? q->n - i : IA;
            for (int r = rs; r < re; r += 2) {
                const int16_t *w0 = wp + (size_t)(r - rs) * rstride, *w1 = w0 + rstride;
                const float *s0 = ws + (size_t)r * nbp, *s1 = s0 + nbp;
                float out[8];
                if (r + 1 < re) {
                    switch (m) {
                    case 4: k16(w0, w1, s0, s1, q, i, 2, 4, nb, out); break;
                    case 3: k16(w0, w1, s0, s1, q, i, 2, 3, nb, out); break;
                    case 2: k16(w0, w1, s0, s1, q, i, 2, 2, nb, out); break;
                    default: k16(w0, w1, s0, s1, q, i, 2, 1, nb, out); break;
                    }
                } else {
                    switch (m) {
                    case 4: k16(w0, w0, s0, s0, q, i, 1, 4, nb, out); break;
                    case 3: k16(w0, w0, s0, s0, q, i, 1, 3, nb, out); break;
                    case 2: k16(w0, w0, s0, s0, q, i, 1, 2, nb, out); break;
                    default: k16(w0, w0, s0, s0, q, i, 1, 1, nb, out); break;
                    }
                }
                for (int u = 0; u < (r + 1 < re ? 2 : 1); u++)
                    for (int t = 0; t < m; t++)
                        Y[(size_t)(i + t) * ldy + r0 + r + u] =
                            out[4 * u + t] + dg_dot_neon(wb + (size_t)(r + u) * nbp, q->ssum + (size_t)(i + t) * nbp, nb);
            }
        }
    }
}

/* ---- the path's entry in the ARM tables ---- */

static int chosen16(const dg_mat *W) { return dg_affine_blocked(W) && W->bits == 4; }
static size_t act_bytes16(int n, int cols) { return dg_qact_blocked_bytes(n, cols, 2); }
static void act_init16(dg_qact *q, void *buf, int n, const dg_mat *W) { dg_qact_blocked_init(q, buf, n, W->cols, W->bits, 2); }
/* fp32 scales and biases of DG_QNB rows per block + RSUB rows' codes as int16 */
static size_t scratch16(int cols) {
    size_t nbp = (size_t)dg_qblocks(cols);
    return 2 * DG_QNB * nbp * sizeof(float) + (size_t)RSUB * nbp * DG_QB * 2;
}

/* As on x86, 8-bit weights are served on request only: no ARM machine here measured whether the
 * path beats the fp32 one there (docs/KERNELS.md). */
const dg_qpath dg_qpath_int16_neon = {
    .name = "int16", .ops = DG_OPS_INT16, .lossy = 0, .serves = dg_affine_blocked, .chosen = chosen16,
    .act_bytes = act_bytes16, .act_init = act_init16, .quantize = quantize16, .rows = rows16,
    .scratch_bytes = scratch16,
};
