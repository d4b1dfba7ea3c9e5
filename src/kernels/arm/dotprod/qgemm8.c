/* int8 GEMM against MLX affine weights (4- or 8-bit codes, group a multiple of 64) with SDOT
 * (ARMv8.2 dotprod): the lossy fast path (int8 activations), as int8_avx2.
 *
 * Y[i, r] = sum_b ws[r,b] * sa[i,b] * (q_w . q_a)_b + wb'[r,b] * sa[i,b] * sum(q_a)_b
 * SDOT multiplies signed bytes only: 4-bit codes (0..15) are used as they are; 8-bit codes are
 * stored as q - 128 (xor 0x80), and q_w . q_a = (q_w - 128) . q_a + 128 sum(q_a) moves the
 * difference into the bias term: wb' = wb + 128 ws (exact: ws is bf16). Integer dots are exact
 * (a lane sums 64 products of at most 128 * 127).
 *
 * Layout ("lanes are blocks", as the AVX2 paths): each 64-code block needs its own fp32 scale,
 * so 4 blocks form a superblock and lane L of each 16-byte step belongs to block L: 16 SDOTs
 * (4 codes per lane each) complete the 4 blocks' dots, and one cvt + one fmla scales all four.
 * Weights are repacked per call and block of rows (nibble unpack, 4x4 dword transposes), the
 * activations quantized straight into the layout. Within a block, codes follow the 4-bit unpack
 * order (dg_planar4) for 4-bit weights and the natural order for 8-bit ones.
 *
 * Register block: 2 weight rows x 4 activation rows, per step 6 loads and 8 SDOTs (8 int32 +
 * 8 fp32 accumulators); per superblock 16 x 8 SDOTs (512 MACs per pair) and 8 x (cvt + fmul +
 * fmla) for the fold: ~3% over the integer work. */
#include <arm_neon.h>
#include <string.h>
#include "kernels/arm/dotprod/dotprod.h"
#include "kernels/arm/neon/simd.h"

#define AI __attribute__((always_inline)) static inline
#define SB 256   /* bytes per superblock: 4 blocks x 64 codes */
#define IA 4     /* activation rows per register block */

/* Byte of code c (position u in the block's order) of block L inside its superblock. */
static inline int slot(int u, int L) { return (u >> 2) * 16 + L * 4 + (u & 3); }

static void quantize8(const dg_qact *q, const float *X, int ldx, int i0, int i1) {
    const int nb = q->cols / DG_QB;
    for (int i = i0; i < i1; i++) {
        const float *x = X + (size_t)i * ldx;
        int8_t *qr = (int8_t *)(q->q + (size_t)i * q->row_bytes);
        float *sc = q->scale + (size_t)i * q->nblocks, *ss = q->ssum + (size_t)i * q->nblocks;
        memset(qr, 0, q->row_bytes);   /* padding blocks */
        for (int b = 0; b < nb; b++) {
            int32_t qi[DG_QB];
            const float s = dg_quant_block_neon(x + (size_t)b * DG_QB, 127.0f, qi);
            int8_t *d = qr + (size_t)(b >> 2) * SB;
            int sum = 0;
            for (int c = 0; c < DG_QB; c++) {
                sum += qi[c];
                d[slot(q->bits == 4 ? dg_planar4(c) : c, b & 3)] = (int8_t)qi[c];
            }
            sc[b] = s;
            ss[b] = s * (float)sum;
        }
        for (int b = nb; b < q->nblocks; b++) sc[b] = ss[b] = 0.0f;
    }
}

/* 4x4 dword transpose: v[L] (dwords 4g..4g+3 of block L) -> d[k] (step 4g + k). */
static inline void tr4(const uint8x16_t v[4], int8x16_t *d) {
    uint32x4_t r0 = vreinterpretq_u32_u8(v[0]), r1 = vreinterpretq_u32_u8(v[1]), r2 = vreinterpretq_u32_u8(v[2]),
               r3 = vreinterpretq_u32_u8(v[3]);
    uint64x2_t t0 = vreinterpretq_u64_u32(vtrn1q_u32(r0, r1)), t1 = vreinterpretq_u64_u32(vtrn2q_u32(r0, r1)),
               t2 = vreinterpretq_u64_u32(vtrn1q_u32(r2, r3)), t3 = vreinterpretq_u64_u32(vtrn2q_u32(r2, r3));
    d[0] = vreinterpretq_s8_u64(vtrn1q_u64(t0, t2));
    d[1] = vreinterpretq_s8_u64(vtrn1q_u64(t1, t3));
    d[2] = vreinterpretq_s8_u64(vtrn2q_u64(t0, t2));
    d[3] = vreinterpretq_s8_u64(vtrn2q_u64(t1, t3));
}

/* One row's codes -> nsb superblocks of 16 steps (missing blocks zero). */
static void repack(const uint8_t *row, int bits, int nb, int nsb, int8x16_t *out) {
    for (int S = 0; S < nsb; S++) {
        uint8x16_t u[4][4];   /* [block L][16-byte part g] */
        for (int L = 0; L < 4; L++) {
            int b = 4 * S + L;
            if (b >= nb) { for (int g = 0; g < 4; g++) u[L][g] = vdupq_n_u8(0); continue; }
            if (bits == 4) dg_unpack4_planar(row + (size_t)b * 32, u[L]);
            else
                for (int g = 0; g < 4; g++) u[L][g] = veorq_u8(vld1q_u8(row + (size_t)b * 64 + 16 * g), vdupq_n_u8(0x80));
        }
        for (int g = 0; g < 4; g++) {
            uint8x16_t v[4] = {u[0][g], u[1][g], u[2][g], u[3][g]};
            tr4(v, out + (size_t)S * 16 + 4 * g);
        }
    }
}

#define R4(X) X(0) X(1) X(2) X(3)

/* R (1 or 2) repacked weight rows against M <= 4 activation rows from i: out[u * 4 + t]
 * without the bias term. Rows >= M and w1 when R == 1 are dead code after inlining. */
AI void k8(const int8x16_t *w0, const int8x16_t *w1, const float *ws0, const float *ws1, const dg_qact *q, int i,
           const int R, const int M, int nsb, float *out) {
#define DECL(t) float32x4_t f0##t = vdupq_n_f32(0.0f), f1##t = f0##t; \
    const int8_t *a##t = (const int8_t *)(q->q + (size_t)(i + (M > t ? t : 0)) * q->row_bytes); \
    const float *sa##t = q->scale + (size_t)(i + (M > t ? t : 0)) * q->nblocks;
    R4(DECL)
#undef DECL
    for (int S = 0; S < nsb; S++) {
        const int8x16_t *x0 = w0 + (size_t)S * 16, *x1 = w1 + (size_t)S * 16;
#define ZERO(t) int32x4_t c0##t = vdupq_n_s32(0), c1##t = c0##t;
        R4(ZERO)
#undef ZERO
#pragma GCC unroll 16
        for (int s = 0; s < 16; s++) {
            int8x16_t v0 = x0[s], v1 = R > 1 ? x1[s] : v0;
#define STEP(t) if (M > t) { int8x16_t a = vld1q_s8(a##t + (size_t)S * SB + 16 * s); \
                c0##t = vdotq_s32(c0##t, v0, a); if (R > 1) c1##t = vdotq_s32(c1##t, v1, a); }
            R4(STEP)
#undef STEP
        }
        float32x4_t s0 = vld1q_f32(ws0 + 4 * S), s1 = R > 1 ? vld1q_f32(ws1 + 4 * S) : s0;
#define FOLD(t) if (M > t) { float32x4_t sa = vld1q_f32(sa##t + 4 * S); \
                f0##t = vfmaq_f32(f0##t, vcvtq_f32_s32(c0##t), vmulq_f32(s0, sa)); \
                if (R > 1) f1##t = vfmaq_f32(f1##t, vcvtq_f32_s32(c1##t), vmulq_f32(s1, sa)); }
        R4(FOLD)
#undef FOLD
    }
#define OUT(t) if (M > t) { out[t] = vaddvq_f32(f0##t); if (R > 1) out[4 + t] = vaddvq_f32(f1##t); }
    R4(OUT)
#undef OUT
}

static void rows8(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch) {
    const int nb = W->cols / DG_QB, nbp = q->nblocks, nsb = nbp / 4, nr = r1 - r0;
    float *ws = scratch, *wb = ws + (size_t)nr * nbp;
    dg_block_scales(W, r0, nr, nbp, ws, wb);
    if (W->bits == 8)
        for (size_t j = 0; j < (size_t)nr * nbp; j++) wb[j] += 128.0f * ws[j];
    int8x16_t *rp = (int8x16_t *)(wb + (size_t)nr * nbp);   /* 16-byte aligned: nr * nbp is a multiple of 8 */
    const size_t rstride = (size_t)nsb * 16;
    for (int r = 0; r < nr; r++) repack(W->w + (size_t)(r0 + r) * W->w_stride, W->bits, nb, nsb, rp + (size_t)r * rstride);
    for (int i = 0; i < q->n; i += IA) {
        int m = q->n - i < IA ? q->n - i : IA;
        for (int r = 0; r < nr; r += 2) {
            const int8x16_t *w0 = rp + (size_t)r * rstride, *w1 = w0 + rstride;
            const float *s0 = ws + (size_t)r * nbp, *s1 = s0 + nbp;
            float out[8];
            if (r + 1 < nr) {
                switch (m) {
                case 4: k8(w0, w1, s0, s1, q, i, 2, 4, nsb, out); break;
                case 3: k8(w0, w1, s0, s1, q, i, 2, 3, nsb, out); break;
                case 2: k8(w0, w1, s0, s1, q, i, 2, 2, nsb, out); break;
                default: k8(w0, w1, s0, s1, q, i, 2, 1, nsb, out); break;
                }
            } else {
                switch (m) {
                case 4: k8(w0, w0, s0, s0, q, i, 1, 4, nsb, out); break;
                case 3: k8(w0, w0, s0, s0, q, i, 1, 3, nsb, out); break;
                case 2: k8(w0, w0, s0, s0, q, i, 1, 2, nsb, out); break;
                default: k8(w0, w0, s0, s0, q, i, 1, 1, nsb, out); break;
                }
            }
            for (int u = 0; u < (r + 1 < nr ? 2 : 1); u++)
                for (int t = 0; t < m; t++)
                    Y[(size_t)(i + t) * ldy + r0 + r + u] =
                        out[4 * u + t] + dg_dot_neon(wb + (size_t)(r + u) * nbp, q->ssum + (size_t)(i + t) * nbp, nb);
        }
    }
}

/* ---- the path's entry in the dotprod and i8mm tables ---- */

static int chosen8(const dg_mat *W) { return dg_affine_blocked(W) && W->bits == 4; }
static size_t act_bytes8(int n, int cols) { return dg_qact_blocked_bytes(n, cols, 1); }
static void act_init8(dg_qact *q, void *buf, int n, const dg_mat *W) { dg_qact_blocked_init(q, buf, n, W->cols, W->bits, 1); }
/* fp32 scales and biases of DG_QNB rows per block + those rows' codes repacked as bytes */
static size_t scratch8(int cols) {
    size_t nbp = (size_t)dg_qblocks(cols);
    return 2 * DG_QNB * nbp * sizeof(float) + DG_QNB * nbp * DG_QB;
}

const dg_qpath dg_qpath_int8_dotprod = {
    .name = "int8-sdot", .ops = DG_OPS_INT8, .lossy = 1, .serves = dg_affine_blocked, .chosen = chosen8,
    .act_bytes = act_bytes8, .act_init = act_init8, .quantize = quantize8, .rows = rows8,
    .scratch_bytes = scratch8,
};
