/* Integer GEMMs against MLX affine 4/8-bit weights (group a multiple of 64) on AMX int8 tiles.
 *
 * The formula is the AVX2 paths' (x86/avx2/qgemm16.c): per 64-column block b,
 *   Y[i, r] += ws[r,b] * sa[i,b] * (q_w . q_a)_b + wb[r,b] * ssum[i,b].
 * A tile dot with K = 64 is exactly one block: C[r][i] = sum_k A[r][k] B[k/4][4i + k%4] for 16
 * weight rows r (A: their codes as u8, row-major) and 16 activation rows i (B: their codes in
 * the dot's "VNNI" layout, written so by the quantizer). Each block's int32 C is then scaled in
 * fp32: per weight row one zmm over the 16 activation rows, cvt + mul + 2 fma.
 *
 * int16 path: activations quantized to int16 exactly as the AVX2 int16 path (near-exact), each
 * code split as 256 * hi + lo with hi signed, lo unsigned bytes; tdpbusd (u8 x s8) and tdpbuud
 * (u8 x u8) give the two planes' dots, recombined exactly in int32 (<= 64 * 255 * 32767 < 2^31).
 * int8 path: int8 activations (the AVX2 int8 path's scheme), one tdpbusd per block.
 *
 * Code order inside a block (the tile's k) is the weights' unpacked order: for 4-bit, the low
 * nibbles of the 32 packed bytes (even codes) then the high ones (odd codes); for 8-bit the
 * natural order. The quantizer writes each activation code where its weight code meets it.
 *
 * Tiles are per thread: every call configures them and releases them at the end (tiles.h). */
#include <immintrin.h>
#include <string.h>
#include "kernels/x86/avx2/avx2.h"
#include "kernels/x86/amx/amx.h"
#include "kernels/x86/amx/tiles.h"

#define AI __attribute__((always_inline)) static inline
#define T 16   /* tile rows: weight rows and activation rows per tile dot */
#define KC 6   /* blocks per chunk: 4 weight tiles + 2 activation planes x KC KiB fit in L1 */
#define GB 16  /* activation groups per batch: their partial sums, GB x 4 x 1 KiB, in scratch */

/* C (+)= A . B, A unsigned; B signed (BUSD) or unsigned (BUUD) */
#define TILE_DPBUSD(c, a, b) __asm__ volatile("tdpbusd %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::: "memory")
#define TILE_DPBUUD(c, a, b) __asm__ volatile("tdpbuud %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::: "memory")


/* Activation layout: 16-row groups; group g, plane p (0: int8 codes or int16 high bytes, 1: low
 * bytes), block b is one 1 KiB B tile at q + g * 16 * row_bytes + (p * nblocks + b) * 1024;
 * scale and ssum are [group][block][16]. row_bytes = planes * nblocks * 64, rows allocated in
 * whole groups (the padding rows zero). */
static size_t act_bytes(int n, int cols, int planes) { return dg_qact_blocked_bytes(dg_round16(n), cols, planes); }
static void act_init(dg_qact *q, void *buf, int n, const dg_mat *W, int planes) {
    int n16 = dg_round16(n);
    dg_qact_blocked_init(q, buf, n16, W->cols, W->bits, planes);
    q->n = n;
    if (n < n16) {   /* the last group's padding rows: zero codes and scales */
        size_t g = (size_t)(n / T);
        memset(q->q + g * T * q->row_bytes, 0, T * q->row_bytes);
        memset(q->scale + g * T * q->nblocks, 0, T * q->nblocks * sizeof(float));
        memset(q->ssum + g * T * q->nblocks, 0, T * q->nblocks * sizeof(float));
    }
}

/* Tile position k holds code k (8-bit) or, for 4-bit, the even codes then the odd ones (see the
 * header): the permutation of the codes 0..63 (two halves of 32 int16) into positions 0..31, 32..63. */
static const uint16_t order4[64] = {
    0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 42, 44, 46, 48, 50, 52, 54, 56, 58, 60, 62,
    1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31, 33, 35, 37, 39, 41, 43, 45, 47, 49, 51, 53, 55, 57, 59, 61, 63};

/* 64 bytes in tile order (positions 4j..4j+3 a dword) -> dword j at d + 64 j: the block's B-tile
 * row of this activation row. */
AI void scatter_row(uint8_t *d, __m256i p0, __m256i p1) {
    const __m512i at = _mm512_setr_epi32(0, 64, 128, 192, 256, 320, 384, 448, 512, 576, 640, 704, 768, 832, 896, 960);
    _mm512_i32scatter_epi32(d, at, _mm512_inserti64x4(_mm512_castsi256_si512(p0), p1, 1), 1);
}

/* dg_quant_block_avx2's codes and scale (the same max, the same scale, the same rounding), left in
 * registers: the codes went through a stack array, and reading it back as zmm after ymm stores
 * missed store forwarding (three quarters of the quantizer's samples). */
AI float quant_block(const float *xb, float qmax, __m512i c[4]) {
    __m512 x[4], mx = _mm512_setzero_ps();
    for (int j = 0; j < 4; j++) { x[j] = _mm512_loadu_ps(xb + 16 * j); mx = _mm512_max_ps(mx, _mm512_abs_ps(x[j])); }
    const float amax = _mm512_reduce_max_ps(mx);
    const float inv = amax > 0.0f && amax <= 3.0e38f ? qmax / amax : 0.0f;
    const __m512 vinv = _mm512_set1_ps(inv);
    for (int j = 0; j < 4; j++) c[j] = _mm512_cvtps_epi32(_mm512_mul_ps(x[j], vinv));
    return inv > 0.0f ? amax / qmax : 0.0f;
}

static void quantize(const dg_qact *q, const float *X, int ldx, int i0, int i1, int planes) {
    const int nb = q->cols / DG_QB;
    const float qmax = planes == 2 ? 32767.0f : 127.0f;
    const __m512i o0 = _mm512_loadu_si512(order4), o1 = _mm512_loadu_si512(order4 + 32);
    for (int i = i0; i < i1; i++) {
        const float *x = X + (size_t)i * ldx;
        uint8_t *grp = q->q + (size_t)(i / T) * T * q->row_bytes + (size_t)(i % T) * 4;
        const size_t sg = (size_t)(i / T) * q->nblocks * T + (size_t)(i % T);
        for (int b = 0; b < nb; b++) {
            __m512i qc[4];
            const float s = quant_block(x + (size_t)b * DG_QB, qmax, qc);
            /* codes 0..31 and 32..63 as int16 (|code| <= 32767), then in tile order */
            __m512i c0 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(qc[0])), _mm512_cvtepi32_epi16(qc[1]), 1);
            __m512i c1 = _mm512_inserti64x4(_mm512_castsi256_si512(_mm512_cvtepi32_epi16(qc[2])), _mm512_cvtepi32_epi16(qc[3]), 1);
            __m512i t0 = c0, t1 = c1;
            if (q->bits == 4) { t0 = _mm512_permutex2var_epi16(c0, o0, c1); t1 = _mm512_permutex2var_epi16(c0, o1, c1); }
            const int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(_mm512_madd_epi16(c0, _mm512_set1_epi16(1)),
                                                                     _mm512_madd_epi16(c1, _mm512_set1_epi16(1))));
            uint8_t *hi = grp + (size_t)b * 1024;
            if (planes == 2) {   /* v = 256 hi + lo: hi = v >> 8 (arithmetic, floor), lo = its low byte */
                scatter_row(hi, _mm512_cvtepi16_epi8(_mm512_srai_epi16(t0, 8)), _mm512_cvtepi16_epi8(_mm512_srai_epi16(t1, 8)));
                scatter_row(hi + (size_t)q->nblocks * 1024, _mm512_cvtepi16_epi8(t0), _mm512_cvtepi16_epi8(t1));
            } else {
                scatter_row(hi, _mm512_cvtepi16_epi8(t0), _mm512_cvtepi16_epi8(t1));
            }
            q->scale[sg + (size_t)b * T] = s;
            q->ssum[sg + (size_t)b * T] = s * (float)sum;   /* |sum| <= 64 * 32767 < 2^24: exact */
        }
    }
}

/* Weight rows [r0, r0 + nr) -> u8 codes, row-major, rstride bytes per row (block b at b * 64);
 * rows nr..dg_round16(nr) zero. */
static void repack(const dg_mat *W, int r0, int nr, int nb, size_t rstride, uint8_t *rp) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    for (int r = 0; r < dg_round16(nr); r++) {
        uint8_t *d = rp + (size_t)r * rstride;
        if (r >= nr) { memset(d, 0, (size_t)nb * 64); continue; }
        const uint8_t *row = W->w + (size_t)(r0 + r) * W->w_stride;
        if (W->bits == 8) { memcpy(d, row, (size_t)nb * 64); continue; }
        for (int b = 0; b < nb; b++) {
            __m256i v = _mm256_loadu_si256((const __m256i *)(row + (size_t)b * 32));
            _mm256_store_si256((__m256i *)(d + (size_t)b * 64), _mm256_and_si256(v, m4));
            _mm256_store_si256((__m256i *)(d + (size_t)b * 64 + 32), _mm256_and_si256(_mm256_srli_epi16(v, 4), m4));
        }
    }
}

/* bytes per repacked weight row in scratch */
static inline size_t rstride_scratch(size_t nbp) { return nbp * 64; }

#define R16(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

/* Loads block b's weight tile and activation tile(s) into tmm TA, TH (and TL). */
#define LOAD_SET(b, TA, TH, TL) { DG_TLOAD(TA, a + (size_t)(b) * 64, rstride); DG_TLOAD(TH, bq + (size_t)(b) * 1024, 64); \
        if (P == 2) DG_TLOAD(TL, bq + ((size_t)q->nblocks + (b)) * 1024, 64); }
/* Block b's dots from the set TA, TH, TL into tmm0 (tmm1: low bytes), then the next block's
 * loads into the other set, then the stores: the tile unit keeps the loads off the chain
 * zero -> dot -> store that each block's C goes through. */
#define DOT_SET(b, TA, TH, TL, NA, NH, NL) { DG_TZERO(0); TILE_DPBUSD(0, TA, TH); \
        if (P == 2) { DG_TZERO(1); TILE_DPBUUD(1, TA, TL); } \
        if ((b) + 1 < b1) LOAD_SET((b) + 1, NA, NH, NL); \
        DG_TSTORE(0, cb[(b) & 1][0], 64); if (P == 2) DG_TSTORE(1, cb[(b) & 1][1], 64); }

/* 16 weight rows (codes a, stride rstride; scales ws / biases wb, [16][nbp]) against activation
 * group g of q over blocks [b0, b1): out[r][i] (+)= (first: =). Block b's tile work is issued
 * before block b - 1 is folded, so the tile unit and the vector fold overlap. */
AI void tile16(const uint8_t *a, size_t rstride, const float *ws, const float *wb, int nbp, const dg_qact *q, int g,
               int b0, int b1, int first, const int P, float out[T][T]) {
    int32_t cb[2][2][T * T] __attribute__((aligned(64)));
    const uint8_t *bq = q->q + (size_t)g * T * q->row_bytes;
    const float *sa = q->scale + (size_t)g * q->nblocks * T, *ss = q->ssum + (size_t)g * q->nblocks * T;
#define DECL(r) __m512 f##r = first ? _mm512_setzero_ps() : _mm512_load_ps(out[r]);
    R16(DECL)
#undef DECL
    LOAD_SET(b0, 2, 3, 4);
    for (int b = b0; b <= b1; b++) {
        if (b < b1) {
            if ((b - b0) & 1) DOT_SET(b, 5, 6, 7, 2, 3, 4)
            else DOT_SET(b, 2, 3, 4, 5, 6, 7)
        }
        if (b == b0) continue;
        const int p = b - 1;   /* fold the previous block */
        const int32_t *ch = cb[p & 1][0], *cl = cb[p & 1][1];
        const __m512 vsa = _mm512_load_ps(sa + (size_t)p * T), vss = _mm512_load_ps(ss + (size_t)p * T);
#define FOLD(r) { __m512i c = _mm512_load_si512(ch + (r) * T); \
        if (P == 2) c = _mm512_add_epi32(_mm512_slli_epi32(c, 8), _mm512_load_si512(cl + (r) * T)); \
        f##r = _mm512_fmadd_ps(_mm512_cvtepi32_ps(c), _mm512_mul_ps(vsa, _mm512_set1_ps(ws[(size_t)(r) * nbp + p])), f##r); \
        f##r = _mm512_fmadd_ps(vss, _mm512_set1_ps(wb[(size_t)(r) * nbp + p]), f##r); }
        R16(FOLD)
#undef FOLD
    }
#define OUT(r) _mm512_store_ps(out[r], f##r);
    R16(OUT)
#undef OUT
}
#undef DOT_SET
#undef LOAD_SET

AI void rows(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch, const int P) {
    const int nb = W->cols / DG_QB, nbp = q->nblocks, nr = r1 - r0;
    float *ws = scratch, *wb = ws + (size_t)DG_QNB * nbp;
    /* by vector loads: the scalar dg_block_scales was 16% of 128 experts' products */
    dg_lane_scales16_avx2(W, r0, nr, nbp, ws, wb);
    memset(ws + (size_t)nr * nbp, 0, (size_t)(dg_round16(nr) - nr) * nbp * sizeof(float));
    memset(wb + (size_t)nr * nbp, 0, (size_t)(dg_round16(nr) - nr) * nbp * sizeof(float));
    /* 8-bit codes in whole tiles are already the tiles' layout: read in place (a copy of the
     * head's codes was 6% of a step's time) */
    uint8_t *codes = (uint8_t *)(wb + (size_t)DG_QNB * nbp);   /* then the partial sums (scratch_bytes) */
    const uint8_t *rp = codes;
    size_t rstride = rstride_scratch(nbp);
    if (W->bits == 8 && nr % T == 0) {
        rp = W->w + (size_t)r0 * W->w_stride;
        rstride = W->w_stride;
    } else {
        repack(W, r0, nr, nb, rstride, codes);
    }
    /* Blocks in chunks of KC, activation groups in batches of GB: within a chunk the weight
     * tiles' KC blocks (at most 4 x KC KiB) stay in L1 across the batch's groups and each
     * group's (P x KC KiB) across the weight tiles; whole-row sweeps reloaded the activation
     * tiles from L2 for every weight tile, and the tile loads stalled. */
    float (*acc)[T][T] = (float (*)[T][T])(codes + (size_t)DG_QNB * rstride_scratch(nbp));
    const int ntile = dg_round16(nr) / T, ngroups = (q->n + T - 1) / T;
    dg_tilecfg cfg;
    dg_tile_config(&cfg);
    for (int g0 = 0; g0 < ngroups; g0 += GB) {
        int g1 = g0 + GB < ngroups ? g0 + GB : ngroups;
        for (int b0 = 0; b0 < nb; b0 += KC) {
            int b1 = b0 + KC < nb ? b0 + KC : nb;
            for (int g = g0; g < g1; g++)
                for (int t = 0; t < ntile; t++)
                    tile16(rp + (size_t)t * T * rstride, rstride, ws + (size_t)t * T * nbp, wb + (size_t)t * T * nbp, nbp,
                           q, g, b0, b1, b0 == 0, P, acc[(g - g0) * ntile + t]);
        }
        for (int g = g0; g < g1; g++)
            for (int t = 0; t < ntile; t++) {
                int ni = q->n - g * T < T ? q->n - g * T : T, nrt = nr - t * T < T ? nr - t * T : T;
                float (*out)[T] = acc[(g - g0) * ntile + t];
                for (int i = 0; i < ni; i++)
                    for (int r = 0; r < nrt; r++) Y[(size_t)(g * T + i) * ldy + r0 + t * T + r] = out[r][i];
            }
    }
    DG_TILE_RELEASE();
}

/* fp32 scales and biases of DG_QNB rows per block + those rows' codes as bytes + the partial
 * sums of a batch of groups */
static size_t scratch_bytes(int cols) {
    size_t nbp = (size_t)dg_qblocks(cols);
    return 2 * DG_QNB * nbp * sizeof(float) + (size_t)DG_QNB * rstride_scratch(nbp) +
           (size_t)GB * (DG_QNB / T) * T * T * sizeof(float);
}

/* ---- int16 (near-exact): 8-bit codes too, the tiles take them at the same cost ---- */

static size_t act_bytes16(int n, int cols) { return act_bytes(n, cols, 2); }
static void act_init16(dg_qact *q, void *buf, int n, const dg_mat *W) { act_init(q, buf, n, W, 2); }
static void quantize16(const dg_qact *q, const float *X, int ldx, int i0, int i1) { quantize(q, X, ldx, i0, i1, 2); }
static void rows16(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch) {
    rows(W, r0, r1, q, Y, ldy, scratch, 2);
}

const dg_qpath dg_qpath_int16_amx = {
    .name = "int16", .ops = DG_OPS_INT16, .lossy = 0, .serves = dg_affine_blocked, .chosen = dg_affine_blocked,
    .act_bytes = act_bytes16, .act_init = act_init16, .quantize = quantize16, .rows = rows16,
    .scratch_bytes = scratch_bytes,
};

/* ---- int8 (lossy): chosen for 4-bit codes only, as on AVX2 (the 8-bit head would lose ~10%
 * logits RMS to int8 activations) ---- */

static int chosen8(const dg_mat *W) { return dg_affine_blocked(W) && W->bits == 4; }

static size_t act_bytes8(int n, int cols) { return act_bytes(n, cols, 1); }
static void act_init8(dg_qact *q, void *buf, int n, const dg_mat *W) { act_init(q, buf, n, W, 1); }
static void quantize8(const dg_qact *q, const float *X, int ldx, int i0, int i1) { quantize(q, X, ldx, i0, i1, 1); }
static void rows8(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch) {
    rows(W, r0, r1, q, Y, ldy, scratch, 1);
}

const dg_qpath dg_qpath_int8_amx = {
    .name = "int8", .ops = DG_OPS_INT8, .lossy = 1, .serves = dg_affine_blocked, .chosen = chosen8,
    .act_bytes = act_bytes8, .act_init = act_init8, .quantize = quantize8, .rows = rows8,
    .scratch_bytes = scratch_bytes,
};
