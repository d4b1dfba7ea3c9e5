/* int16-activation GEMM against MLX affine weights (4- or 8-bit codes, group a multiple of 64),
 * AVX2. The default fast path for those formats (gemm.c): near-exact and faster than the fp32
 * path, where the int8 path (qgemm_avx2.c) is faster still but ~100x less accurate.
 *
 * Y[i, r] = sum_blocks ws[r,g] * sa[i,b] * (q_w . q_a)_b + wb[r,g] * sa[i,b] * sum(q_a)_b
 * with activations quantized per 64-column block b to symmetric int16 (sa = max|x| / 32767, so
 * the rounding error is <= 1.5e-5 of the block max; the weights are used exactly). The integer
 * dots are exact: _mm256_madd_epi16 multiplies u16 codes (<= 255) by s16 activations and sums
 * pairs into int32 (<= 2*255*32767 = 16.7M), and a 64-column block adds 32 of those per lane
 * (<= 535M < 2^31).
 *
 * Layout ("lanes are blocks", as in the int8 path): a 64-code block needs its own fp32 scaling,
 * so 8 blocks form a superblock and each 32-bit lane of a vector belongs to a different block. A
 * superblock is 32 steps of 32 bytes (16 int16 codes: 2 per block); after 32 madd+add per
 * (weight row, activation row) one cvt + fma scales the 8 blocks' exact dots at once. The
 * weights are repacked into that layout per call and block of rows (dword transpose, then
 * nibbles/bytes zero-extended to 16-bit lanes by shift+mask: ~0.25 instructions per code, paid
 * once per call and amortised over all activation rows); the activations are quantized straight
 * into it. Code order inside a block follows the repack (see the offset tables); only the
 * pairing of code and activation matters.
 *
 * Register block: 2 weight rows x 4 activation rows (8 int32 accumulators, 2 weight vectors and
 * one activation vector live): 6 loads per 8 madd, where 1 x 6 needs 7 per 6 and the loads, not
 * the multiplier, would bound it. The fp32 accumulators of the 8 pairs live in memory (L1): they
 * are touched once per 32 steps. */
#include <immintrin.h>
#include <string.h>
#include "core/numeric.h"
#include "kernels/x86/avx2/avx2.h"
#include "kernels/x86/avx2/k16.h"
#include "kernels/x86/avx2/simd.h"

#define AI __attribute__((always_inline)) static inline
#define STEPS 32              /* 32-byte steps per superblock */
#define SB16 (STEPS * 16)     /* int16 values per superblock (8 blocks x 64) */

/* int16 offset of code c of a block inside its superblock, block lane 0 (lane L adds 2L).
 * 4-bit: the repack puts code 8s + 4w + k in step 4s + k, word w of the block's dword;
 * 8-bit: code 4s + 2w + k in step 2s + k, word w (see repack4 / repack8). */
#define O4(c) ((4 * ((c) >> 3) + ((c) & 3)) * 16 + (((c) & 7) >> 2))
#define O8(c) ((2 * ((c) >> 2) + ((c) & 1)) * 16 + (((c) & 3) >> 1))
#define X8(O, c) O(c), O(c + 1), O(c + 2), O(c + 3), O(c + 4), O(c + 5), O(c + 6), O(c + 7)
static const uint16_t off4[DG_QB] = {X8(O4, 0), X8(O4, 8), X8(O4, 16), X8(O4, 24), X8(O4, 32), X8(O4, 40), X8(O4, 48), X8(O4, 56)};
static const uint16_t off8[DG_QB] = {X8(O8, 0), X8(O8, 8), X8(O8, 16), X8(O8, 24), X8(O8, 32), X8(O8, 40), X8(O8, 48), X8(O8, 56)};
#undef X8
#undef O8
#undef O4
static inline size_t blk_base(int b) { return (size_t)(b >> 3) * SB16 + (size_t)(b & 7) * 2; }

static void quantize16(const dg_qact *q, const float *X, int ldx, int i0, int i1) {
    const int nb = q->cols / DG_QB;
    const uint16_t *off = q->bits == 4 ? off4 : off8;
    for (int i = i0; i < i1; i++) {
        const float *x = X + (size_t)i * ldx;
        int16_t *qr = (int16_t *)(q->q + (size_t)i * q->row_bytes);
        float *sc = q->scale + (size_t)i * q->nblocks, *ss = q->ssum + (size_t)i * q->nblocks;
        for (int b = 0; b < nb; b++) {
            const float *xb = x + (size_t)b * DG_QB;
            int32_t qi[DG_QB];
            const float s = dg_quant_block_avx2(xb, 32767.0f, qi);
            int sum = 0;
            int16_t *d = qr + blk_base(b);
            for (int j = 0; j < DG_QB; j++) {
                sum += qi[j];
                d[off[j]] = (int16_t)qi[j];
            }
            sc[b] = s;
            ss[b] = s * (float)sum;   /* |sum| <= 64 * 32767 < 2^24: exact in fp32 */
        }
        for (int b = nb; b < q->nblocks; b++) {   /* padding: zero codes and scales */
            sc[b] = ss[b] = 0.0f;
            int16_t *d = qr + blk_base(b);
            for (int j = 0; j < DG_QB; j++) d[off4[j]] = 0;   /* same set of slots for either table */
        }
    }
}

/* 8x8 dword transpose in registers: v[L] (8 dwords of block L) -> o[s] (dword s of every block). */
AI void tr8(const __m256i v[8], __m256i o[8]) {
    __m256 r[8];
    for (int t = 0; t < 8; t++) r[t] = _mm256_castsi256_ps(v[t]);
    dg_transpose8_avx2(r);
    for (int t = 0; t < 8; t++) o[t] = _mm256_castps_si256(r[t]);
}

/* One row's 4-bit codes -> nsb superblocks of 32 x 16 int16 (missing blocks zero). After the
 * transpose, lane L of t[s] holds codes 8s..8s+7 of block L (MLX: code 2j in the low nibble of
 * byte j); nibble k of each 16-bit word goes to step 4s + k. */
static void repack4(const uint8_t *row, int nb, int nsb, __m256i *out) {
    const __m256i m = _mm256_set1_epi16(0x000f);
    for (int S = 0; S < nsb; S++) {
        __m256i v[8], t[8];
        for (int L = 0; L < 8; L++) {
            int b = 8 * S + L;
            v[L] = b < nb ? _mm256_loadu_si256((const __m256i *)(row + (size_t)b * 32)) : _mm256_setzero_si256();
        }
        tr8(v, t);
        __m256i *d = out + (size_t)S * STEPS;
        for (int s = 0; s < 8; s++) {
            _mm256_store_si256(d + 4 * s + 0, _mm256_and_si256(t[s], m));
            _mm256_store_si256(d + 4 * s + 1, _mm256_and_si256(_mm256_srli_epi16(t[s], 4), m));
            _mm256_store_si256(d + 4 * s + 2, _mm256_and_si256(_mm256_srli_epi16(t[s], 8), m));
            _mm256_store_si256(d + 4 * s + 3, _mm256_srli_epi16(t[s], 12));
        }
    }
}

/* One row's 8-bit codes -> nsb superblocks (missing blocks zero). Lane L of t[s] (s < 16) holds
 * codes 4s..4s+3 of block L; the low / high byte of each word goes to step 2s / 2s + 1. */
static void repack8(const uint8_t *row, int nb, int nsb, __m256i *out) {
    const __m256i m = _mm256_set1_epi16(0x00ff);
    for (int S = 0; S < nsb; S++) {
        __m256i *d = out + (size_t)S * STEPS;
        for (int half = 0; half < 2; half++) {
            __m256i v[8], t[8];
            for (int L = 0; L < 8; L++) {
                int b = 8 * S + L;
                v[L] = b < nb ? _mm256_loadu_si256((const __m256i *)(row + (size_t)b * 64 + 32 * half)) : _mm256_setzero_si256();
            }
            tr8(v, t);
            for (int s = 0; s < 8; s++) {
                _mm256_store_si256(d + 16 * half + 2 * s, _mm256_and_si256(t[s], m));
                _mm256_store_si256(d + 16 * half + 2 * s + 1, _mm256_srli_epi16(t[s], 8));
            }
        }
    }
}

#define RSUB 32 /* weight rows repacked and swept together: 32 x 6 KiB (2816 columns) stays in L2 */

/* Y[i, r] for all rows of q and W rows [r0, r1) (r1 - r0 <= DG_QNB): dg_qpath.rows in isa.h. */
static void rows16(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch) {
    float *wsb = scratch;
    const int nb = W->cols / DG_QB, nbp = q->nblocks, nsb = nbp / 8, nr = r1 - r0;
    float *ws = wsb, *wb = wsb + (size_t)nr * nbp;
    dg_block_scales(W, r0, nr, nbp, ws, wb);
    __m256i *rp = (__m256i *)(wb + (size_t)nr * nbp);   /* 64-byte aligned: nr * nbp is a multiple of 8 */
    const size_t rstride = (size_t)nsb * STEPS;         /* vectors per repacked row */
    for (int rs = 0; rs < nr; rs += RSUB) {
        int re = nr - rs < RSUB ? nr : rs + RSUB;
        for (int r = rs; r < re; r++) {
            const uint8_t *row = W->w + (size_t)(r0 + r) * W->w_stride;
            if (W->bits == 4) repack4(row, nb, nsb, rp + (size_t)(r - rs) * rstride);
            else repack8(row, nb, nsb, rp + (size_t)(r - rs) * rstride);
        }
        dg_k16_sweep(rp, rstride, ws, wb, nbp, rs, re, r0, q, Y, ldy, STEPS);
    }
}

/* ---- the path's entry in the avx2 table ---- */

static int chosen16(const dg_mat *W) { return dg_affine_blocked(W) && W->bits == 4; }
static size_t act_bytes16(int n, int cols) { return dg_qact_blocked_bytes(n, cols, 2); }
static void act_init16(dg_qact *q, void *buf, int n, const dg_mat *W) { dg_qact_blocked_init(q, buf, n, W->cols, W->bits, 2); }
/* fp32 scales and biases of DG_QNB rows per block + RSUB rows' codes as int16 */
static size_t scratch16(int cols) {
    size_t nbp = (size_t)dg_qblocks(cols);
    return 2 * DG_QNB * nbp * sizeof(float) + (size_t)RSUB * nbp * DG_QB * 2;
}

/* 8-bit weights are served on request only: the kernel measured 7-9% faster than the fp32 path
 * there (q_proj and head shapes), under the 10% a quantized default must buy. */
const dg_qpath dg_qpath_int16_avx2 = {
    .name = "int16", .lossy = 0, .serves = dg_affine_blocked, .chosen = chosen16,
    .act_bytes = act_bytes16, .act_init = act_init16, .quantize = quantize16, .rows = rows16,
    .scratch_bytes = scratch16,
};
