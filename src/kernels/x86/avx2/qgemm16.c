/* int16-activation GEMM against MLX affine weights (4- or 8-bit codes, group a multiple of 64),
 * AVX2, in two layouts: "int16g4" (the default fast path for 4-bit weights, gemm.c / table.c)
 * and "int16" (the first layout, kept by name: the AVX-512 VNNI paths share it).
 *
 * Y[i, r] = sum_blocks ws[r,g] * sa[i,b] * (q_w . q_a)_b + wb[r,g] * sa[i,b] * sum(q_a)_b
 * with activations quantized per block b of QC columns to symmetric int16 (sa = max|x| / 32767,
 * so the rounding error is <= 1.5e-5 of the block max; the weights are used exactly). The integer
 * dots are exact: _mm256_madd_epi16 multiplies u16 codes (<= 255) by s16 activations and sums
 * pairs into int32 (<= 2*255*32767 = 16.7M), and a block adds at most 32 of those per lane
 * (<= 535M < 2^31).
 *
 * Layout ("lanes are blocks", as in the int8 path): each block needs its own fp32 scaling, so 8
 * blocks form a superblock and each 32-bit lane of a vector belongs to a different block. A
 * superblock is QC/2 steps of 32 bytes (16 int16 codes: 2 per block); after those madd+add per
 * (weight row, activation row) one cvt + fma scales the 8 blocks' exact dots at once.
 *   int16:   QC = 64, lane L = weight group 8S + L: superblocks of 512 columns, 32 steps.
 *   int16g4: QC = 32, lane L = half (L >> 2) of group 4S + (L & 3): superblocks of 256 columns
 *            (4 groups), 16 steps. A row is padded to whole superblocks, and at 512 columns a
 *            704-column matrix (the MoE down projection, 11 groups) computes 16 groups, 45% of
 *            them padding, where 256 columns pad it to 12; 2816 columns (5.5 x 512) fit exactly.
 *            The fold comes twice as often (every 16 madd per pair instead of 32), the weight
 *            transpose is an in-lane 4x4 instead of an 8x8 (16 steps from 4 loads), and the
 *            activation blocks are 32 columns wide (finer scales, for free).
 * The weights are repacked into the layout per call and block of rows (dword transpose, then
 * nibbles/bytes zero-extended to 16-bit lanes by shift+mask: ~0.2 instructions per code, paid
 * once per call and amortised over all activation rows); the activations are quantized straight
 * into it. Code order inside a block follows the repack (see the offset tables); only the
 * pairing of code and activation matters.
 *
 * Register block: 2 weight rows x 4 activation rows (8 int32 accumulators, 2 weight vectors and
 * one activation vector live): 6 loads per 8 madd, where 1 x 6 needs 7 per 6 and the loads, not
 * the multiplier, would bound it. The fp32 accumulators of the 8 pairs live in memory (L1): they
 * are touched once per superblock. */
#include <immintrin.h>
#include <string.h>
#include "core/numeric.h"
#include "kernels/x86/avx2/avx2.h"
#include "kernels/x86/avx2/k16.h"
#include "kernels/x86/avx2/simd.h"

#define AI __attribute__((always_inline)) static inline
/* The two layouts: G weight groups per superblock (8: int16, 4: int16g4). */
#define QCOLS(G) ((G) == 8 ? 64 : 32)   /* columns per block = per lane */
#define NSTEPS(G) (QCOLS(G) / 2)        /* 32-byte steps per superblock */

/* int16 offset of code c of a block inside its superblock, block lane 0 (lane L adds 2L).
 * 4-bit: the repack puts code 8s + 4w + k in step 4s + k, word w of the block's dword;
 * 8-bit: code 4s + 2w + k in step 2s + k, word w (see repack). A 32-column block
 * uses the first 32 entries (16 steps). */
#define O4(c) ((4 * ((c) >> 3) + ((c) & 3)) * 16 + (((c) & 7) >> 2))
#define O8(c) ((2 * ((c) >> 2) + ((c) & 1)) * 16 + (((c) & 3) >> 1))
#define X8(O, c) O(c), O(c + 1), O(c + 2), O(c + 3), O(c + 4), O(c + 5), O(c + 6), O(c + 7)
static const uint16_t off4[DG_QB] = {X8(O4, 0), X8(O4, 8), X8(O4, 16), X8(O4, 24), X8(O4, 32), X8(O4, 40), X8(O4, 48), X8(O4, 56)};
static const uint16_t off8[DG_QB] = {X8(O8, 0), X8(O8, 8), X8(O8, 16), X8(O8, 24), X8(O8, 32), X8(O8, 40), X8(O8, 48), X8(O8, 56)};
#undef X8
#undef O8
#undef O4

/* Lane of the k-th block of a row (in column order) inside its superblock: int16g4 puts group
 * g, half h of a superblock in lane 4h + g (the in-lane 4x4 transpose in repack). */
static inline int blk_lane(int G, int k) { return G == 8 ? (k & 7) : 4 * (k & 1) + ((k & 7) >> 1); }
/* Superblocks of a row of `cols` columns. */
static inline int n_super(int G, int cols) { return (cols + 8 * QCOLS(G) - 1) / (8 * QCOLS(G)); }

AI void quantize16(const dg_qact *q, const float *X, int ldx, int i0, int i1, const int G) {
    const int qc = QCOLS(G), nb = q->cols / qc;
    const uint16_t *off = q->bits == 4 ? off4 : off8;
    for (int i = i0; i < i1; i++) {
        const float *x = X + (size_t)i * ldx;
        int16_t *qr = (int16_t *)(q->q + (size_t)i * q->row_bytes);
        float *sc = q->scale + (size_t)i * q->nblocks, *ss = q->ssum + (size_t)i * q->nblocks;
        for (int k = 0; k < q->nblocks; k++) {   /* blocks k >= nb: padding, zero codes and scales */
            const int l = (k & ~7) + blk_lane(G, k);
            int16_t *d = qr + (size_t)(k >> 3) * 8 * qc + 2 * (l & 7);
            int32_t qi[DG_QB];
            const float s = k < nb ? dg_quant_span_avx2(x + (size_t)k * qc, qc, 32767.0f, qi) : 0.0f;
            int sum = 0;
            for (int j = 0; j < qc; j++) {
                int v = k < nb ? qi[j] : 0;
                sum += v;
                d[off[j]] = (int16_t)v;
            }
            sc[l] = s;
            ss[l] = s * (float)sum;   /* |sum| <= 64 * 32767 < 2^24: exact in fp32 */
        }
    }
}

/* The bf16 scales/biases of W rows [r0, r0+nr) as fp32 per lane (nl lanes, the padding ones 0):
 * ws/wb are [nr][nl]. Groups of 64 columns (MLX's default): whole superblocks by vector loads
 * (int16: the 8 groups' values; int16g4: the 4 groups' values in both halves). */
AI void lane_scales(const dg_mat *W, int r0, int nr, int nl, const int G, float *ws, float *wb) {
    const int ng = W->cols / DG_QB, vec = W->group == DG_QB;
    for (int r = 0; r < nr; r++) {
        const uint8_t *sr = W->scales + (size_t)(r0 + r) * W->sb_stride, *br = W->biases + (size_t)(r0 + r) * W->sb_stride;
        float *wsr = ws + (size_t)r * nl, *wbr = wb + (size_t)r * nl;
        int k = 0;   /* k: block in column order, stored at its lane */
        for (; vec && (k / 8 + 1) * G <= ng; k += 8) {
            const uint8_t *s = sr + 2 * (size_t)(k / 8 * G), *b = br + 2 * (size_t)(k / 8 * G);
            if (G == 8) {
                _mm256_store_ps(wsr + k, dg_bf16x8_avx2(s));
                _mm256_store_ps(wbr + k, dg_bf16x8_avx2(b));
            } else {
                __m128 s4 = dg_bf16x4_avx2(s), b4 = dg_bf16x4_avx2(b);
                _mm256_store_ps(wsr + k, _mm256_set_m128(s4, s4));
                _mm256_store_ps(wbr + k, _mm256_set_m128(b4, b4));
            }
        }
        for (; k < nl; k++) {
            int l = (k & ~7) + blk_lane(G, k), c = k * QCOLS(G);
            wsr[l] = c < W->cols ? dg_bf16_to_f32(dg_ld16(sr + 2 * (size_t)(c / W->group))) : 0.0f;
            wbr[l] = c < W->cols ? dg_bf16_to_f32(dg_ld16(br + 2 * (size_t)(c / W->group))) : 0.0f;
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

/* 4x4 dword transpose inside each 128-bit half: o[d] lane 4h + g = dword 4h + d of v[g]. */
AI void tr4(const __m256i v[4], __m256i o[4]) {
    __m256i a0 = _mm256_unpacklo_epi32(v[0], v[1]), a1 = _mm256_unpackhi_epi32(v[0], v[1]),
            a2 = _mm256_unpacklo_epi32(v[2], v[3]), a3 = _mm256_unpackhi_epi32(v[2], v[3]);
    o[0] = _mm256_unpacklo_epi64(a0, a2);
    o[1] = _mm256_unpackhi_epi64(a0, a2);
    o[2] = _mm256_unpacklo_epi64(a1, a3);
    o[3] = _mm256_unpackhi_epi64(a1, a3);
}

/* Dwords t[0..n) (lane L: 8 codes of its block, MLX: code 2j in the low nibble of byte j) ->
 * steps 4s + k: nibble k of each 16-bit word, zero-extended. */
AI void nibbles16(const __m256i *t, int n, __m256i *d) {
    const __m256i m = _mm256_set1_epi16(0x000f);
    for (int s = 0; s < n; s++) {
        _mm256_store_si256(d + 4 * s + 0, _mm256_and_si256(t[s], m));
        _mm256_store_si256(d + 4 * s + 1, _mm256_and_si256(_mm256_srli_epi16(t[s], 4), m));
        _mm256_store_si256(d + 4 * s + 2, _mm256_and_si256(_mm256_srli_epi16(t[s], 8), m));
        _mm256_store_si256(d + 4 * s + 3, _mm256_srli_epi16(t[s], 12));
    }
}

/* Dwords t[0..n) (lane L: 4 codes of its block) -> steps 2s + k: byte k of each word. */
AI void bytes16(const __m256i *t, int n, __m256i *d) {
    const __m256i m = _mm256_set1_epi16(0x00ff);
    for (int s = 0; s < n; s++) {
        _mm256_store_si256(d + 2 * s, _mm256_and_si256(t[s], m));
        _mm256_store_si256(d + 2 * s + 1, _mm256_srli_epi16(t[s], 8));
    }
}

/* One row's codes (nb = cols / 64 groups) -> nsb superblocks of NSTEPS(G) x 16 int16, missing
 * groups zero. G == 8, 4-bit: the 8 groups' 32 bytes, 8x8-transposed (lane L, t[s]: codes
 * 8s..8s+7 of group L); G == 4, 4-bit: 4 groups, 4x4-transposed per half; 8-bit: the same with
 * each group's 64 bytes taken as two 32-byte halves (G == 8: two passes of 16 steps; G == 4: the
 * 8 half-groups as the 8 lanes, lane 4h + g). */
static void repack(const uint8_t *row, int bits, int nb, int nsb, const int G, __m256i *out) {
#define LD(b, off) ((b) < nb ? _mm256_loadu_si256((const __m256i *)(row + (size_t)(b) * 8 * bits + (off))) : _mm256_setzero_si256())
    for (int S = 0; S < nsb; S++) {
        __m256i v[8], t[8], *d = out + (size_t)S * NSTEPS(G);
        if (G == 4 && bits == 4) {
            for (int g = 0; g < 4; g++) v[g] = LD(4 * S + g, 0);
            tr4(v, t);
            nibbles16(t, 4, d);
        } else if (G == 4) {
            for (int L = 0; L < 8; L++) v[L] = LD(4 * S + (L & 3), 32 * (L >> 2));
            tr8(v, t);
            bytes16(t, 8, d);
        } else if (bits == 4) {
            for (int L = 0; L < 8; L++) v[L] = LD(8 * S + L, 0);
            tr8(v, t);
            nibbles16(t, 8, d);
        } else {
            for (int half = 0; half < 2; half++) {
                for (int L = 0; L < 8; L++) v[L] = LD(8 * S + L, 32 * half);
                tr8(v, t);
                bytes16(t, 8, d + 16 * half);
            }
        }
    }
#undef LD
}

void dg_repack16_avx2(const uint8_t *row, int bits, int nb, int nsb, void *out) { repack(row, bits, nb, nsb, 8, out); }
void dg_repack16g4_avx2(const uint8_t *row, int bits, int nb, int nsb, void *out) { repack(row, bits, nb, nsb, 4, out); }
void dg_lane_scales16g4_avx2(const dg_mat *W, int r0, int nr, int nl, float *ws, float *wb) {
    lane_scales(W, r0, nr, nl, 4, ws, wb);
}
void dg_lane_scales16_avx2(const dg_mat *W, int r0, int nr, int nl, float *ws, float *wb) {
    lane_scales(W, r0, nr, nl, 8, ws, wb);
}

#define RSUB 32 /* weight rows repacked and swept together: 32 x 6 KiB (2816 columns) stays in L2 */

/* Y[i, r] for all rows of q and W rows [r0, r1) (r1 - r0 <= DG_QNB): dg_qpath.rows in isa.h. */
AI void rows16(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch, const int G) {
    const int ST = NSTEPS(G);
    const int nb = W->cols / DG_QB, nl = q->nblocks, nsb = nl / 8, nr = r1 - r0;
    float *ws = scratch, *wb = ws + (size_t)nr * nl;
    lane_scales(W, r0, nr, nl, G, ws, wb);
    __m256i *rp = (__m256i *)(wb + (size_t)nr * nl);   /* 64-byte aligned: nr * nl is a multiple of 8 */
    const size_t rstride = (size_t)nsb * ST;            /* vectors per repacked row */
    for (int rs = 0; rs < nr; rs += RSUB) {
        int re = nr - rs < RSUB ? nr : rs + RSUB;
        for (int r = rs; r < re; r++)
            repack(W->w + (size_t)(r0 + r) * W->w_stride, W->bits, nb, nsb, G, rp + (size_t)(r - rs) * rstride);
        dg_k16_sweep(rp, rstride, ws, wb, nl, rs, re, r0, q, Y, ldy, ST);
    }
}

/* ---- the paths' entries in the avx2 table ---- */

static int chosen4(const dg_mat *W) { return dg_affine_blocked(W) && W->bits == 4; }
/* fp32 scales and biases of DG_QNB rows per lane + RSUB rows' codes as int16, for either layout */
static size_t scratch16(int cols) {
    size_t s4 = 8 * (size_t)n_super(4, cols), s8 = 8 * (size_t)n_super(8, cols);
    size_t b4 = 2 * DG_QNB * s4 * sizeof(float) + (size_t)RSUB * s4 * 32 * 2,
           b8 = 2 * DG_QNB * s8 * sizeof(float) + (size_t)RSUB * s8 * 64 * 2;
    return b4 > b8 ? b4 : b8;
}

#define PATH(NAME, G)                                                                                      \
    static size_t act_bytes_##NAME(int n, int cols) { return dg_qact_lanes_bytes(n, 8 * n_super(G, cols), QCOLS(G), 2); } \
    static void act_init_##NAME(dg_qact *q, void *buf, int n, const dg_mat *W) {                          \
        dg_qact_lanes_init(q, buf, n, W->cols, W->bits, 8 * n_super(G, W->cols), QCOLS(G), 2);             \
    }                                                                                                      \
    static void quantize_##NAME(const dg_qact *q, const float *X, int ldx, int i0, int i1) { quantize16(q, X, ldx, i0, i1, G); } \
    static void rows_##NAME(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch) { \
        rows16(W, r0, r1, q, Y, ldy, scratch, G);                                                          \
    }
PATH(g8, 8)
PATH(g4, 4)
#undef PATH

/* 8-bit weights are served on request only: the first layout measured 7-9% faster than the fp32
 * path there (q_proj and head shapes), under the 10% a quantized default must buy. */
const dg_qpath dg_qpath_int16g4_avx2 = {
    .name = "int16g4", .ops = DG_OPS_INT16, .lossy = 0, .serves = dg_affine_blocked, .chosen = chosen4,
    .act_bytes = act_bytes_g4, .act_init = act_init_g4, .quantize = quantize_g4, .rows = rows_g4,
    .scratch_bytes = scratch16,
};
/* The first layout, after int16g4 in the table (which takes every matrix it would): by name,
 * and the AVX-512 paths share its layout. */
const dg_qpath dg_qpath_int16_avx2 = {
    .name = "int16", .ops = DG_OPS_INT16, .lossy = 0, .serves = dg_affine_blocked, .chosen = chosen4,
    .act_bytes = act_bytes_g8, .act_init = act_init_g8, .quantize = quantize_g8, .rows = rows_g8,
    .scratch_bytes = scratch16,
};
