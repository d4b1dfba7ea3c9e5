/* int8 GEMM against MLX affine weights (4- or 8-bit codes, group a multiple of 64) with SMMLA
 * (ARMv8.6 i8mm): the lossy fast path, the same arithmetic as int8_dotprod (dotprod/qgemm8.c:
 * signed codes, 8-bit ones as q - 128 with 128 ws moved into the bias, exact int32 dots).
 *
 * SMMLA multiplies a 2x8 by an 8x2 byte matrix into 2x2 int32: two activation rows against two
 * weight rows, 8 codes deep, 32 MACs per instruction (twice SDOT's 16). All four lanes of the
 * result share one block, so the layouts interleave rows in pairs instead of blocks in lanes:
 * per 8-code chunk, 8 bytes of the pair's first row then 8 of its second, for the activations
 * (quantized straight into it: each row writes only its own half, so any row range may be
 * quantized on its own) and for the weights (repacked per call and block of rows). A block is
 * 8 chunks: 8 SMMLAs per pair of pairs, then one cvt + fmul + fmla scales the 2x2 by
 * sa[row] * ws[row] per lane. Code order within a block as int8_dotprod's.
 *
 * Register block: 2 activation pairs x 2 weight pairs (4 x 4 outputs): per chunk 4 loads and 4
 * SMMLAs (128 MACs); per block 32 SMMLAs and 4 x 3 fold instructions + ~8 to build the lane
 * scales: ~60% more work per instruction than the SDOT path's 2 x 4 block. */
#include <arm_neon.h>
#include <string.h>
#include "kernels/arm/i8mm/i8mm.h"
#include "kernels/arm/neon/simd.h"

#define AI __attribute__((always_inline)) static inline
#define PB 128   /* bytes of one block of a row pair: 8 chunks x 2 rows x 8 codes */

static inline int pos(int bits, int c) { return bits == 4 ? dg_planar4(c) : c; }

static void quantize8(const dg_qact *q, const float *X, int ldx, int i0, int i1) {
    const int nb = q->cols / DG_QB;
    for (int i = i0; i < i1; i++) {
        const float *x = X + (size_t)i * ldx;
        int8_t *qp = (int8_t *)(q->q + (size_t)(i & ~1) * q->row_bytes) + (i & 1) * 8;   /* its half of the pair */
        float *sc = q->scale + (size_t)i * q->nblocks, *ss = q->ssum + (size_t)i * q->nblocks;
        for (int b = 0; b < nb; b++) {
            int32_t qi[DG_QB];
            const float s = dg_quant_block_neon(x + (size_t)b * DG_QB, 127.0f, qi);
            int8_t *d = qp + (size_t)b * PB;
            int sum = 0;
            for (int c = 0; c < DG_QB; c++) {
                int u = pos(q->bits, c);
                sum += qi[c];
                d[(u >> 3) * 16 + (u & 7)] = (int8_t)qi[c];
            }
            sc[b] = s;
            ss[b] = s * (float)sum;
        }
        for (int b = nb; b < q->nblocks; b++) sc[b] = ss[b] = 0.0f;
        if (i + 1 == q->n && (i & 1) == 0) {   /* odd n: the pair's missing row is zero */
            for (int b = 0; b < nb; b++)
                for (int k = 0; k < 8; k++) memset(qp + (size_t)b * PB + 16 * k + 8, 0, 8);
            memset(sc + q->nblocks, 0, (size_t)q->nblocks * sizeof *sc);
            memset(ss + q->nblocks, 0, (size_t)q->nblocks * sizeof *ss);
        }
    }
}

/* One block's 64 codes of a row in the path's order, as 4 x 16 bytes (absent row: zeros). */
static inline void block_codes(const uint8_t *row, int bits, int b, uint8x16_t u[4]) {
    if (!row) { for (int g = 0; g < 4; g++) u[g] = vdupq_n_u8(0); return; }
    if (bits == 4) { dg_unpack4_planar(row + (size_t)b * 32, u); return; }
    for (int g = 0; g < 4; g++) u[g] = veorq_u8(vld1q_u8(row + (size_t)b * 64 + 16 * g), vdupq_n_u8(0x80));
}

/* Two weight rows (r1 may be NULL) -> nb blocks of 8 interleaved chunks. */
static void repack_pair(const uint8_t *r0, const uint8_t *r1, int bits, int nb, int8_t *out) {
    for (int b = 0; b < nb; b++) {
        uint8x16_t u0[4], u1[4];
        block_codes(r0, bits, b, u0);
        block_codes(r1, bits, b, u1);
        for (int g = 0; g < 4; g++) {
            uint64x2_t a = vreinterpretq_u64_u8(u0[g]), c = vreinterpretq_u64_u8(u1[g]);
            vst1q_s8(out + (size_t)b * PB + 32 * g, vreinterpretq_s8_u64(vzip1q_u64(a, c)));
            vst1q_s8(out + (size_t)b * PB + 32 * g + 16, vreinterpretq_s8_u64(vzip2q_u64(a, c)));
        }
    }
}

#define T2(X) X(0, 0) X(0, 1) X(1, 0) X(1, 1)

/* MP (1 or 2) activation pairs from row i against RP (1 or 2) weight pairs w0, w1 with lane
 * scales l0, l1 ([nbp][4]: ws of the pair's rows as r0 r1 r0 r1): out[m][r] holds the 2x2
 * (rows 2m, 2m+1 of the tile x weight rows 2r, 2r+1) without the bias term. */
AI void kmm(const int8_t *w0, const int8_t *w1, const float *l0, const float *l1, const dg_qact *q, int i,
            const int MP, const int RP, int nb, float32x4_t out[2][2]) {
    const int8_t *a0 = (const int8_t *)(q->q + (size_t)i * q->row_bytes), *a1 = a0 + (MP > 1 ? 2 * q->row_bytes : 0);
    const float *sa[4];
    for (int t = 0; t < 4; t++) sa[t] = q->scale + (size_t)(i + (MP > 1 || t < 2 ? t : 0)) * q->nblocks;
#define DECL(m, r) float32x4_t f##m##r = vdupq_n_f32(0.0f);
    T2(DECL)
#undef DECL
    for (int b = 0; b < nb; b++) {
#define ZERO(m, r) int32x4_t c##m##r = vdupq_n_s32(0);
        T2(ZERO)
#undef ZERO
        const int8_t *x0 = a0 + (size_t)b * PB, *x1 = a1 + (size_t)b * PB, *y0 = w0 + (size_t)b * PB, *y1 = w1 + (size_t)b * PB;
#pragma GCC unroll 8
        for (int k = 0; k < 8; k++) {
            int8x16_t va0 = vld1q_s8(x0 + 16 * k), va1 = MP > 1 ? vld1q_s8(x1 + 16 * k) : va0;
            int8x16_t vw0 = vld1q_s8(y0 + 16 * k), vw1 = RP > 1 ? vld1q_s8(y1 + 16 * k) : vw0;
#define STEP(m, r) if (MP > m && RP > r) c##m##r = vmmlaq_s32(c##m##r, va##m, vw##r);
            T2(STEP)
#undef STEP
        }
        float32x4_t s0 = vcombine_f32(vdup_n_f32(sa[0][b]), vdup_n_f32(sa[1][b])),
                    s1 = MP > 1 ? vcombine_f32(vdup_n_f32(sa[2][b]), vdup_n_f32(sa[3][b])) : s0;
        float32x4_t g0 = vld1q_f32(l0 + 4 * (size_t)b), g1 = RP > 1 ? vld1q_f32(l1 + 4 * (size_t)b) : g0;
#define FOLD(m, r) if (MP > m && RP > r) f##m##r = vfmaq_f32(f##m##r, vcvtq_f32_s32(c##m##r), vmulq_f32(s##m, g##r));
        T2(FOLD)
#undef FOLD
    }
#define OUT(m, r) if (MP > m && RP > r) out[m][r] = f##m##r;
    T2(OUT)
#undef OUT
}

static void rows8(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch) {
    const int nb = W->cols / DG_QB, nbp = q->nblocks, nr = r1 - r0, np = (nr + 1) / 2;
    float *ws = scratch, *wb = ws + (size_t)nr * nbp, *lane = wb + (size_t)nr * nbp;
    dg_block_scales(W, r0, nr, nbp, ws, wb);
    if (W->bits == 8)
        for (size_t j = 0; j < (size_t)nr * nbp; j++) wb[j] += 128.0f * ws[j];
    int8_t *rp = (int8_t *)(lane + (size_t)np * nbp * 4);
    const size_t pstride = (size_t)nbp * PB;
    for (int p = 0; p < np; p++) {
        int ra = 2 * p, rb = 2 * p + 1 < nr ? 2 * p + 1 : -1;
        const uint8_t *wa = W->w + (size_t)(r0 + ra) * W->w_stride, *wbr = rb < 0 ? NULL : W->w + (size_t)(r0 + rb) * W->w_stride;
        repack_pair(wa, wbr, W->bits, nb, rp + (size_t)p * pstride);
        for (int b = 0; b < nb; b++) {
            float sA = ws[(size_t)ra * nbp + b], sB = rb < 0 ? 0.0f : ws[(size_t)rb * nbp + b];
            float *l = lane + ((size_t)p * nbp + b) * 4;
            l[0] = l[2] = sA;
            l[1] = l[3] = sB;
        }
    }
    for (int i = 0; i < q->n; i += 4) {
        const int mp = q->n - i > 2 ? 2 : 1;
        for (int p = 0; p < np; p += 2) {
            const int rpn = np - p > 1 ? 2 : 1;
            const int8_t *w0 = rp + (size_t)p * pstride, *w1 = w0 + pstride;
            const float *l0 = lane + (size_t)p * nbp * 4, *l1 = l0 + (size_t)nbp * 4;
            float32x4_t o[2][2];
            if (mp == 2 && rpn == 2) kmm(w0, w1, l0, l1, q, i, 2, 2, nb, o);
            else if (mp == 2) kmm(w0, w0, l0, l0, q, i, 2, 1, nb, o);
            else if (rpn == 2) kmm(w0, w1, l0, l1, q, i, 1, 2, nb, o);
            else kmm(w0, w0, l0, l0, q, i, 1, 1, nb, o);
            for (int m = 0; m < mp; m++)
                for (int r = 0; r < rpn; r++) {
                    float v[4];
                    vst1q_f32(v, o[m][r]);
                    for (int e = 0; e < 4; e++) {   /* lane e: activation row 2m + e/2, weight row 2r + e%2 */
                        int t = i + 2 * m + e / 2, wr = 2 * (p + r) + e % 2;
                        if (t < q->n && wr < nr)
                            Y[(size_t)t * ldy + r0 + wr] = v[e] + dg_dot_neon(wb + (size_t)wr * nbp, q->ssum + (size_t)t * nbp, nb);
                    }
                }
        }
    }
}

/* ---- the path's entry in the i8mm table ---- */

static int chosen8(const dg_mat *W) { return dg_affine_blocked(W) && W->bits == 4; }
/* rows in pairs: an odd count gets a zero partner row */
static size_t act_bytes8(int n, int cols) { return dg_qact_blocked_bytes(n + (n & 1), cols, 1); }
static void act_init8(dg_qact *q, void *buf, int n, const dg_mat *W) {
    dg_qact_blocked_init(q, buf, n + (n & 1), W->cols, W->bits, 1);
    q->n = n;
}
/* fp32 scales, biases and lane scales of DG_QNB rows per block + those rows' codes as bytes */
static size_t scratch8(int cols) {
    size_t nbp = (size_t)dg_qblocks(cols);
    return 4 * DG_QNB * nbp * sizeof(float) + DG_QNB * nbp * DG_QB;
}

const dg_qpath dg_qpath_int8_i8mm = {
    .name = "int8-smmla", .ops = DG_OPS_INT8, .lossy = 1, .serves = dg_affine_blocked, .chosen = chosen8,
    .act_bytes = act_bytes8, .act_init = act_init8, .quantize = quantize8, .rows = rows8,
    .scratch_bytes = scratch8,
};
