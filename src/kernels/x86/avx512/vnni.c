/* Integer GEMMs against MLX affine 4/8-bit weights with AVX-512 VNNI dots, on the AVX2 paths'
 * layouts (x86/avx2/qgemm16.c, qgemm8.c: the formula, the superblocks of 8 blocks whose 32-bit
 * lane L belongs to block L, the bias term through ssum): int16 and int8 with superblocks of 512
 * columns, int16g4 of 256 (16 or 8 zmm per superblock).
 *
 * A zmm holds two consecutive 32-byte steps of a superblock: lanes L and L + 8 both belong to
 * block L. One vpdpwssd (int16 x int16 pairs) or vpdpbusd (u8 code x s8 activation quads) adds
 * into int32 lanes without saturation, replacing the AVX2 madd + add (and for 8-bit codes with
 * int8 activations the hi/lo split: 4 * 255 * 128 fits easily). Once per superblock each
 * accumulator is scaled in all 16 lanes (cvt, mul, fma, and the bias fma on the lower half):
 * 4 vector ops against the 6 of halving to 8 lanes first, which matters since with 512-bit
 * ops in flight the dots and the fold share ports 0 and 5 (in L1, 128 rows x 3072 columns:
 * 3.38 -> 3.72 G dots/s, Xeon model 207). The order of the fp32 sums is not the AVX2 kernels':
 * int16 agrees with avx2's to rounding, not bit for bit.
 *
 * Register block: 4 weight rows x 3 activation rows, or 3 x 4 (12 int32 zmm accumulators, 12
 * fp32 zmm ones, 3-4 weight vectors): 7 loads per 12 dots. The 2 x 4 block before it (6 loads
 * per 8) ran the 256 x 2,816 -> 4,096 4-bit shape 1.27-1.44x and the 8-bit head shape 1.18x
 * slower (one thread, Xeon model 207, docs/KERNELS.md): the loads, not the dots, bound it.
 * The activation rows are cut into ceil(n / 4) passes of 3-4 rows: an expert's 16 rows take 4
 * passes, not 5 x 3 + 1.
 *
 * Unlike AVX2, the int16 path is chosen for 8-bit codes too: a VNNI dot costs the same for
 * either width, and it measured 1.6x (256 rows) to 3.8x (16 rows) faster than the fp32 path on
 * the 8-bit q_proj shape (Xeon model 207, docs/KERNELS.md). The lossy int8 path stays 4-bit
 * only, as on AVX2: on the 8-bit head its int8 activations cost ~10% logits RMS (tiny compare)
 * where 4-bit-only costs ~2%. */
#include <immintrin.h>
#include <string.h>
#include "kernels/x86/avx2/simd.h"
#include "kernels/x86/avx512/avx512.h"

#define AI __attribute__((always_inline)) static inline
#define IA 4     /* most activation rows per register block (4 with 3 weight rows, else 3 with 4) */
#define RSUB 32  /* weight rows repacked and swept together (L2 resident) */

#define FOR_T(X) X(0) X(1) X(2) X(3)
#define FOR_R(X, t) X(0, t) X(1, t) X(2, t) X(3, t)
#define FOR_R1(X) X(0) X(1) X(2) X(3)

/* CB code bytes per value: 2 = int16 activations (vpdpwssd), 1 = int8 (vpdpbusd with the weight
 * codes as the unsigned operand); V zmm per superblock (16: int16, 8: int16g4 and int8).
 * R <= 4 repacked weight rows (w + r * rstride, scales ws / biases wb + r * nbp) against
 * M <= 4 activation rows from i (R * M <= 12: the accumulators' registers); out[r * 4 + t].
 * Rows >= R, >= M are dead code. */
AI void kdot(const __m512i *w, size_t rstride, const float *ws, const float *wb, int nbp, const dg_qact *q, int i,
             const int CB, const int V, const int R, const int M, int nsb, float *out) {
#define DECL_RT(r, t) __m512i c##r##t; __m512 f##r##t = _mm512_setzero_ps();
#define DECL(t) FOR_R(DECL_RT, t) \
    const __m512i *a##t = (const __m512i *)(q->q + (size_t)(i + (M > t ? t : 0)) * q->row_bytes); \
    const float *sa##t = q->scale + (size_t)(i + (M > t ? t : 0)) * q->nblocks, \
                *ss##t = q->ssum + (size_t)(i + (M > t ? t : 0)) * q->nblocks;
    FOR_T(DECL)
#undef DECL
#undef DECL_RT
#define WROW(r) const __m512i *w##r = w + (size_t)(R > r ? r : 0) * rstride; \
    const float *ws##r = ws + (size_t)(R > r ? r : 0) * nbp, *wb##r = wb + (size_t)(R > r ? r : 0) * nbp;
    FOR_R1(WROW)
#undef WROW
    for (int S = 0; S < nsb; S++) {
#define ZERO_RT(r, t) c##r##t = _mm512_setzero_si512();
#define ZERO(t) FOR_R(ZERO_RT, t)
        FOR_T(ZERO)
#undef ZERO
#undef ZERO_RT
#pragma GCC unroll 4
        for (int s = 0; s < V; s++) {
#define LDW(r) __m512i v##r = R > r ? _mm512_load_si512(w##r + (size_t)S * V + s) : _mm512_setzero_si512();
            FOR_R1(LDW)
#undef LDW
#define DOT_RT(r, t) if (R > r) { if (CB == 2) DG_DPWSSD(c##r##t, v##r, a); else DG_DPBUSD(c##r##t, v##r, a); }
#define STEP(t) if (M > t) { __m512i a = _mm512_load_si512(a##t + (size_t)S * V + s); FOR_R(DOT_RT, t) }
            FOR_T(STEP)
#undef STEP
#undef DOT_RT
        }
/* Lanes L and L + 8 share block L's scales: one broadcast load gives both halves; the bias
 * term (codes-independent) is added once, by the lower half (ss zero-extended). */
#define LD8(p) _mm512_broadcast_f32x8(_mm256_load_ps(p))
#define FOLD_RT(r, t) if (R > r) { __m512 sw = LD8(ws##r + (size_t)S * 8), bw = LD8(wb##r + (size_t)S * 8); \
            f##r##t = _mm512_fmadd_ps(bw, ss, _mm512_fmadd_ps(_mm512_cvtepi32_ps(c##r##t), _mm512_mul_ps(sw, sa), f##r##t)); }
#define FOLD(t) if (M > t) { __m512 sa = LD8(sa##t + (size_t)S * 8), ss = _mm512_zextps256_ps512(_mm256_load_ps(ss##t + (size_t)S * 8)); \
            FOR_R(FOLD_RT, t) }
        FOR_T(FOLD)
#undef FOLD
#undef FOLD_RT
#undef LD8
    }
#define OUT_RT(r, t) if (R > r) out[r * 4 + t] = _mm512_reduce_add_ps(f##r##t);
#define OUT(t) if (M > t) { FOR_R(OUT_RT, t) }
    FOR_T(OUT)
#undef OUT
#undef OUT_RT
}

/* One register block: weight rows r .. r + R, activation rows i .. i + m (R <= 4, m <= 4, R * m <= 12). */
AI void kblock(const __m512i *w, size_t rstride, const float *ws, const float *wb, int nbp, const dg_qact *q,
               int i, int m, int R, int nsb, const int CB, const int V, float *out) {
#define K(RR, MM) kdot(w, rstride, ws, wb, nbp, q, i, CB, V, RR, MM, nsb, out)
#define M3(RR) switch (m) { case 3: K(RR, 3); break; case 2: K(RR, 2); break; default: K(RR, 1); break; }
    if (m == 4) {
        switch (R) {
        case 3: K(3, 4); break;
        case 2: K(2, 4); break;
        default: K(1, 4); break;
        }
        return;
    }
    switch (R) {
    case 4: M3(4) break;
    case 3: M3(3) break;
    case 2: M3(2) break;
    default: M3(1) break;
    }
#undef M3
#undef K
}

/* dg_repack16_avx2 for 4-bit rows (the int16 layout's 8 blocks a superblock): the same bytes,
 * the nibble split on zmm (each transposed dword vector to steps 4s..4s+3: one insert, two
 * variable shifts and two ands, 2 stores, against AVX2's 6 ops and 4 stores). */
static void repack16_4(const uint8_t *row, int nb, int nsb, __m512i *out) {
    const __m512i m = _mm512_set1_epi16(0x000f);
    const __m512i sh01 = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1),
                  sh23 = _mm512_inserti64x4(_mm512_set1_epi16(8), _mm256_set1_epi16(12), 1);
    for (int S = 0; S < nsb; S++) {
        __m256 v[8];
        for (int L = 0; L < 8; L++)
            v[L] = 8 * S + L < nb ? _mm256_loadu_ps((const float *)(row + (size_t)(8 * S + L) * 32)) : _mm256_setzero_ps();
        dg_transpose8_avx2(v);
        __m512i *d = out + (size_t)S * 16;
        for (int s = 0; s < 8; s++) {
            __m256i t = _mm256_castps_si256(v[s]);
            __m512i z = _mm512_inserti64x4(_mm512_castsi256_si512(t), t, 1);
            _mm512_store_si512(d + 2 * s, _mm512_and_si512(_mm512_srlv_epi16(z, sh01), m));
            _mm512_store_si512(d + 2 * s + 1, _mm512_and_si512(_mm512_srlv_epi16(z, sh23), m));
        }
    }
}

/* Y[i, r] for all rows of q and W rows [r0, r1) (dg_qpath.rows in isa.h); G: the int16
 * layout's groups per superblock (8: int16, 4: int16g4; int8 has 8). */
AI void rows(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch, const int CB,
             const int G) {
    const int nb = W->cols / DG_QB, nbp = q->nblocks, nsb = nbp / 8, nr = r1 - r0, V = CB == 2 && G == 8 ? 16 : 8;
    float *ws = scratch, *wb = ws + (size_t)nr * nbp;
    /* lanes in block order for int16 and int8 (G == 8), as dg_block_scales, by vector loads */
    if (G == 4) dg_lane_scales16g4_avx2(W, r0, nr, nbp, ws, wb);
    else dg_lane_scales16_avx2(W, r0, nr, nbp, ws, wb);
    __m512i *rp = (__m512i *)(wb + (size_t)nr * nbp);   /* 64-byte aligned: nr * nbp is a multiple of 8 */
    const size_t rstride = (size_t)nsb * V;              /* zmm per repacked row */
    for (int rs = 0; rs < nr; rs += RSUB) {
        int re = nr - rs < RSUB ? nr : rs + RSUB;
        for (int r = rs; r < re; r++) {
            const uint8_t *row = W->w + (size_t)(r0 + r) * W->w_stride;
            void *d = rp + (size_t)(r - rs) * rstride;
            if (CB == 1) dg_repack8_avx2(row, W->bits, nb, nsb, d);
            else if (G == 4) dg_repack16g4_avx2(row, W->bits, nb, nsb, d);
            else if (W->bits == 4) repack16_4(row, nb, nsb, d);
            else dg_repack16_avx2(row, W->bits, nb, nsb, d);
        }
        /* one pass over the repacked rows per block of 3-4 activation rows (the header says why) */
        const int np = (q->n + IA - 1) / IA;
        for (int p = 0, i = 0; p < np; p++) {
            const int m = q->n / np + (p < q->n % np), RB = m == 4 ? 3 : 4;
            for (int r = rs; r < re; r += RB) {
                int R = re - r < RB ? re - r : RB;
                float out[16];
                kblock(rp + (size_t)(r - rs) * rstride, rstride, ws + (size_t)r * nbp, wb + (size_t)r * nbp, nbp, q, i, m,
                       R, nsb, CB, V, out);
                for (int u = 0; u < R; u++)
                    for (int t = 0; t < m; t++) Y[(size_t)(i + t) * ldy + r0 + r + u] = out[4 * u + t];
            }
            i += m;
        }
    }
}

/* fp32 scales and biases of DG_QNB rows per lane + RSUB rows' repacked codes: cb bytes per value,
 * qc columns per lane (64: int16 and int8, 32: int16g4), lanes in superblocks of 8. */
static size_t scratch_bytes(int cols, int cb, int qc) {
    size_t nl = (size_t)(cols / qc + 7) / 8 * 8;
    return 2 * DG_QNB * nl * sizeof(float) + (size_t)RSUB * nl * (size_t)qc * (size_t)cb;
}

/* ---- int16 and int16g4: the AVX2 paths' activations (their quantizers and layouts) ---- */

#define INT16_PATH(SUF, AVX2, G)                                                                          \
    static void rows##SUF(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch) { \
        rows(W, r0, r1, q, Y, ldy, scratch, 2, G);                                                         \
    }                                                                                                      \
    static size_t act_bytes##SUF(int n, int cols) { return AVX2.act_bytes(n, cols); }                      \
    static void act_init##SUF(dg_qact *q, void *buf, int n, const dg_mat *W) { AVX2.act_init(q, buf, n, W); } \
    static void quantize##SUF(const dg_qact *q, const float *X, int ldx, int i0, int i1) {                 \
        AVX2.quantize(q, X, ldx, i0, i1);                                                                  \
    }                                                                                                      \
    static size_t scratch##SUF(int cols) { return scratch_bytes(cols, 2, G == 8 ? 64 : 32); }
INT16_PATH(16, dg_qpath_int16_avx2, 8)
INT16_PATH(16g4, dg_qpath_int16g4_avx2, 4)
#undef INT16_PATH

const dg_qpath dg_qpath_int16_avx512 = {
    .name = "int16", .ops = DG_OPS_INT16, .lossy = 0, .serves = dg_affine_blocked, .chosen = dg_affine_blocked,
    .act_bytes = act_bytes16, .act_init = act_init16, .quantize = quantize16, .rows = rows16,
    .scratch_bytes = scratch16,
};

/* Chosen where the int16 layout's 512-column superblocks pad a row by over a quarter more than
 * these 256-column ones: the MoE down projection (704 columns: 1,024 against 768), 16 x 704 ->
 * 2,816 1.18x faster. Elsewhere int16 is faster (a fold per 8 dots instead of 16): 256 x 2,816
 * -> 4,096 4-bit 1.10x, 256 x 2,816 -> 8,192 8-bit 1.11x; 16 x 2,816 -> 1,408 is 1.04x faster
 * here, but the same matrices take 256 rows and more in a prefill (one thread, Xeon model 207,
 * docs/KERNELS.md). */
static int chosen16g4(const dg_mat *W) {
    if (!dg_affine_blocked(W)) return 0;
    int pad8 = (W->cols + 511) / 512 * 512, pad4 = (W->cols + 255) / 256 * 256;
    return 4 * pad8 > 5 * pad4;
}

const dg_qpath dg_qpath_int16g4_avx512 = {
    .name = "int16g4", .ops = DG_OPS_INT16, .lossy = 0, .serves = dg_affine_blocked, .chosen = chosen16g4,
    .act_bytes = act_bytes16g4, .act_init = act_init16g4, .quantize = quantize16g4, .rows = rows16g4,
    .scratch_bytes = scratch16g4,
};

/* ---- int8: one byte per activation for either code width ---- */

static void rows8(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch) {
    rows(W, r0, r1, q, Y, ldy, scratch, 1, 8);
}
static size_t act_bytes8(int n, int cols) { return dg_qact_blocked_bytes(n, cols, 1); }
static void act_init8(dg_qact *q, void *buf, int n, const dg_mat *W) { dg_qact_blocked_init(q, buf, n, W->cols, W->bits, 1); }
/* 4-bit: the AVX2 int8 quantizer (its layout follows the nibble unpack of the repack); 8-bit:
 * codes in natural order, code c of block b in step c / 4, byte c % 4 of the block's dword. */
static void quantize8(const dg_qact *q, const float *X, int ldx, int i0, int i1) {
    if (q->bits == 4) {
        dg_qpath_int8_avx2.quantize(q, X, ldx, i0, i1);
        return;
    }
    const int nb = q->cols / DG_QB;
    for (int i = i0; i < i1; i++) {
        const float *x = X + (size_t)i * ldx;
        uint8_t *qr = q->q + (size_t)i * q->row_bytes;
        float *sc = q->scale + (size_t)i * q->nblocks, *ss = q->ssum + (size_t)i * q->nblocks;
        for (int b = 0; b < q->nblocks; b++) {
            int32_t qi[DG_QB] = {0};
            const float s = b < nb ? dg_quant_block_avx2(x + (size_t)b * DG_QB, 127.0f, qi) : 0.0f;
            int sum = 0;
            uint8_t *d = qr + (size_t)(b >> 3) * 512 + (size_t)(b & 7) * 4;
            for (int c = 0; c < DG_QB; c++) {
                sum += qi[c];
                d[(c >> 2) * 32 + (c & 3)] = (uint8_t)(int8_t)qi[c];
            }
            sc[b] = s;
            ss[b] = s * (float)sum;
        }
    }
}
static size_t scratch8(int cols) { return scratch_bytes(cols, 1, 64); }
static int chosen4(const dg_mat *W) { return dg_affine_blocked(W) && W->bits == 4; }

const dg_qpath dg_qpath_int8_avx512 = {
    .name = "int8", .ops = DG_OPS_INT8, .lossy = 1, .serves = dg_affine_blocked, .chosen = chosen4,
    .act_bytes = act_bytes8, .act_init = act_init8, .quantize = quantize8, .rows = rows8,
    .scratch_bytes = scratch8,
};
