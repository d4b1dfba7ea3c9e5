/* int16-activation GEMM against ggml block-quantized weights (GGUF: Q8_0, Q4_0, Q5_0, IQ4_NL of
 * 32-value blocks; Q4_K, Q5_K, Q6_K, IQ4_XS of 256-value superblocks), AVX2. The fast path for
 * those types: near-exact, and it replaces the fp32 path's float expansion + fp32 FMAs by an
 * integer decode and exact int32 dots.
 *
 * Every supported type is, per 32-value sub-block b of a row, w = ws_b * code + wb_b with
 * integer codes (Q8_0: d * q; Q4_1: d * q + m; Q4_K: (d * sc) * q - dmin * m; IQ4_XS: (d * (ls - 32)) * table[q];
 * Q6_K's int8 scales are per 16 values, so its code is (q - 32) * sc with ws = d). So
 *   Y[i, r] = sum_b ws[r,b] * sa[i,b] * (code . q_a)_b + wb[r,b] * sa[i,b] * sum(q_a)_b,
 * the fold of the affine int16 path (qgemm16.c) with 32-value blocks: the register block is
 * shared (k16.h), a superblock is 8 sub-blocks (one per 32-bit lane) in 16 steps of 32 bytes,
 * step s holding codes 2s, 2s+1 of each block. Activations are quantized per 64 columns to
 * symmetric int16 (dg_quant_block_avx2; both 32-value halves get the same scale), each half's
 * scale and sum stored per 32-block.
 *
 * Exactness of the integer dots (int32 per lane, 32 products): |code| <= 128 (Q8_0, IQ4) against
 * |q_a| <= 32767 gives <= 134M. Q6_K codes reach 32 * 128 = 4096, so its activations use
 * qmax = 16383 (q->bits 14): 32 * 4096 * 16383 = 2147352576 < 2^31, at twice the (still ~3e-5
 * relative) activation rounding error.
 *
 * Weights are decoded per call and block of rows (Q8_0 and Q4_K with vector widening, the others
 * scalar per value; then a dword transpose per superblock), paid once per call and amortised over
 * all activation rows. */
#include <immintrin.h>
#include <string.h>
#include "core/ggml_type.h"
#include "core/numeric.h"
#include "kernels/ggml_dequant.h"
#include "kernels/x86/avx2/k16.h"
#include "kernels/x86/avx2/simd.h"

#define STEPS 16    /* 32-byte steps per superblock of 8 x 32 values */
#define RSUB 32     /* weight rows decoded and swept together (32 x 5.5 KiB at 2816 columns: L2) */

static int served_type(int t) {
    switch (t) {
    case DG_GGML_Q8_0: case DG_GGML_Q4_0: case DG_GGML_Q4_1: case DG_GGML_Q5_0: case DG_GGML_Q5_1: case DG_GGML_IQ4_NL:
    case DG_GGML_Q4_K: case DG_GGML_Q5_K: case DG_GGML_Q6_K: case DG_GGML_IQ4_XS: return 1;
    default: return 0;
    }
}

static int serves_g(const dg_mat *W) { return W->kind == DG_W_GGML && served_type(W->gtype) && W->cols % 64 == 0; }

/* int16 offset of code c of 32-block b inside its row's activation layout */
static inline size_t act_off(int b, int c) { return (size_t)(b >> 3) * 256 + (size_t)(c >> 1) * 16 + (size_t)(b & 7) * 2 + (c & 1); }

static void quantize_g(const dg_qact *q, const float *X, int ldx, int i0, int i1) {
    const int nb = q->cols / 32;
    const float qmax = q->bits == 14 ? 16383.0f : 32767.0f;
    for (int i = i0; i < i1; i++) {
        const float *x = X + (size_t)i * ldx;
        int16_t *qr = (int16_t *)(q->q + (size_t)i * q->row_bytes);
        float *sc = q->scale + (size_t)i * q->nblocks, *ss = q->ssum + (size_t)i * q->nblocks;
        for (int b = 0; b < nb; b += 2) {
            int32_t qi[DG_QB];
            const float s = dg_quant_block_avx2(x + (size_t)b * 32, qmax, qi);
            for (int h = 0; h < 2; h++) {
                int sum = 0;
                for (int c = 0; c < 32; c++) {
                    sum += qi[32 * h + c];
                    qr[act_off(b + h, c)] = (int16_t)qi[32 * h + c];
                }
                sc[b + h] = s;
                ss[b + h] = s * (float)sum;   /* |sum| <= 32 * 32767 < 2^24: exact */
            }
        }
        for (int b = nb; b < q->nblocks; b++) {   /* padding: zero codes and scales */
            sc[b] = ss[b] = 0.0f;
            for (int c = 0; c < 32; c++) qr[act_off(b, c)] = 0;
        }
    }
}

static float h16(const uint8_t *p) { return dg_f16_to_f32(dg_ld16(p)); }

/* 32-value block at b -> codes c[32], scale *ws, bias *wb. */
static void dec32(int type, const uint8_t *b, int16_t *c, float *ws, float *wb) {
    *ws = h16(b);
    *wb = 0.0f;
    switch (type) {
    case DG_GGML_Q8_0: {
        __m256i v = _mm256_loadu_si256((const __m256i *)(b + 2));
        _mm256_store_si256((__m256i *)c, _mm256_cvtepi8_epi16(_mm256_castsi256_si128(v)));
        _mm256_store_si256((__m256i *)(c + 16), _mm256_cvtepi8_epi16(_mm256_extracti128_si256(v, 1)));
        break;
    }
    case DG_GGML_Q4_0:
        for (int j = 0; j < 16; j++) { c[j] = (int16_t)((b[2 + j] & 15) - 8); c[j + 16] = (int16_t)((b[2 + j] >> 4) - 8); }
        break;
    case DG_GGML_Q4_1:   /* w = d * q + m */
        *wb = h16(b + 2);
        for (int j = 0; j < 16; j++) { c[j] = (int16_t)(b[4 + j] & 15); c[j + 16] = (int16_t)(b[4 + j] >> 4); }
        break;
    case DG_GGML_IQ4_NL:
        for (int j = 0; j < 16; j++) { c[j] = dg_iq4_table[b[2 + j] & 15]; c[j + 16] = dg_iq4_table[b[2 + j] >> 4]; }
        break;
    default: {   /* Q5_0 (code - 16), Q5_1 (+ m): bit j of the u32 qh is the fifth bit of value j */
        const int one = type == DG_GGML_Q5_1, off = one ? 0 : 16;
        if (one) *wb = h16(b + 2);
        uint32_t qh = dg_ld32(b + 2 + 2 * one);
        const uint8_t *qs = b + 6 + 2 * one;
        for (int j = 0; j < 16; j++) {
            c[j] = (int16_t)(((qs[j] & 15) | (int)((qh >> j) & 1) << 4) - off);
            c[j + 16] = (int16_t)(((qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4) - off);
        }
    }
    }
}

/* 256-value superblock at b -> codes c[8][32] (sub-block major), scales ws[8], biases wb[8]. */
static void dec256(int type, const uint8_t *b, int16_t *c, float *ws, float *wb) {
    if (type == DG_GGML_Q6_K) {   /* layout: ggml_dequant.c q6_k */
        const float d = h16(b + 208);
        for (int hf = 0; hf < 2; hf++) {
            const uint8_t *ql = b + 64 * hf, *qh = b + 128 + 32 * hf;
            const int8_t *sc = (const int8_t *)(b + 192 + 8 * hf);
            int16_t *o = c + 128 * hf;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                o[l] = (int16_t)((((ql[l] & 15) | ((qh[l] & 3) << 4)) - 32) * sc[is]);
                o[l + 32] = (int16_t)((((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32) * sc[is + 2]);
                o[l + 64] = (int16_t)((((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32) * sc[is + 4]);
                o[l + 96] = (int16_t)((((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32) * sc[is + 6]);
            }
        }
        for (int s = 0; s < 8; s++) { ws[s] = d; wb[s] = 0.0f; }
        return;
    }
    if (type == DG_GGML_IQ4_XS) {   /* layout: ggml_dequant.c iq4_xs */
        const float d = h16(b);
        unsigned sh = dg_ld16(b + 2);
        for (int s = 0; s < 8; s++) {
            int ls = ((b[4 + s / 2] >> (4 * (s % 2))) & 15) | (int)((sh >> (2 * s)) & 3) << 4;
            const uint8_t *qs = b + 8 + 16 * s;
            for (int j = 0; j < 16; j++) { c[32 * s + j] = dg_iq4_table[qs[j] & 15]; c[32 * s + j + 16] = dg_iq4_table[qs[j] >> 4]; }
            ws[s] = d * (float)(ls - 32);
            wb[s] = 0.0f;
        }
        return;
    }
    /* Q4_K / Q5_K: layout ggml_dequant.c q45_k */
    const float d = h16(b), dmin = h16(b + 2);
    const uint8_t *qh = type == DG_GGML_Q5_K ? b + 16 : NULL, *qs = qh ? b + 48 : b + 16;
    for (int s = 0; s < 8; s++) {
        int sc, mn, cc = s / 2, half = s & 1;
        dg_k_scale_min(b + 4, s, &sc, &mn);
        if (qh)
            for (int l = 0; l < 32; l++) {
                int q = half ? qs[32 * cc + l] >> 4 : qs[32 * cc + l] & 15;
                c[32 * s + l] = (int16_t)(q | ((qh[l] >> s) & 1) << 4);
            }
        else {   /* Q4_K, the common type: 32 nibbles at once */
            __m256i v = _mm256_loadu_si256((const __m256i *)(qs + 32 * cc));
            v = _mm256_and_si256(half ? _mm256_srli_epi16(v, 4) : v, _mm256_set1_epi8(15));
            _mm256_store_si256((__m256i *)(c + 32 * s), _mm256_cvtepu8_epi16(_mm256_castsi256_si128(v)));
            _mm256_store_si256((__m256i *)(c + 32 * s + 16), _mm256_cvtepu8_epi16(_mm256_extracti128_si256(v, 1)));
        }
        ws[s] = d * (float)sc;
        wb[s] = -(dmin * (float)mn);
    }
}

/* One row -> nsb superblocks of 16 steps (missing blocks zero), scales and biases ws/wb[nbp]. The
 * decoded block L (32 int16 = 16 dwords, dword s = codes 2s, 2s+1) is transposed so that step s
 * holds dword s of every block. */
static void decode_row(const dg_mat *W, const uint8_t *row, int nsb, __m256i *out, float *ws, float *wb) {
    const int type = W->gtype, nb = W->cols / 32, k = dg_ggml_block(type) == 256;
    const size_t bb = dg_ggml_block_bytes(type);
    _Alignas(32) int16_t c[256];
    for (int S = 0; S < nsb; S++) {
        if (k) dec256(type, row + (size_t)S * bb, c, ws + 8 * S, wb + 8 * S);
        else
            for (int L = 0; L < 8; L++) {
                int b = 8 * S + L;
                if (b < nb) dec32(type, row + (size_t)b * bb, c + 32 * L, ws + b, wb + b);
                else { memset(c + 32 * L, 0, 64); ws[b] = wb[b] = 0.0f; }
            }
        __m256i *d = out + (size_t)S * STEPS;
        for (int half = 0; half < 2; half++) {
            __m256 v[8];
            for (int L = 0; L < 8; L++) v[L] = _mm256_castsi256_ps(_mm256_load_si256((const __m256i *)(c + 32 * L + 16 * half)));
            dg_transpose8_avx2(v);
            for (int s = 0; s < 8; s++) _mm256_store_si256(d + 8 * half + s, _mm256_castps_si256(v[s]));
        }
    }
}

/* Y[i, r] for all rows of q and W rows [r0, r1) (r1 - r0 <= DG_QNB): dg_qpath.rows in isa.h. */
static void rows_g(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch) {
    const int nbp = q->nblocks, nsb = nbp / 8, nr = r1 - r0;
    float *ws = scratch, *wb = ws + (size_t)nr * nbp;
    __m256i *rp = (__m256i *)(wb + (size_t)nr * nbp);   /* 32-byte aligned: nr * nbp is a multiple of 8 */
    const size_t rstride = (size_t)nsb * STEPS;
    for (int rs = 0; rs < nr; rs += RSUB) {
        int re = nr - rs < RSUB ? nr : rs + RSUB;
        for (int r = rs; r < re; r++)
            decode_row(W, W->w + (size_t)(r0 + r) * W->w_stride, nsb, rp + (size_t)(r - rs) * rstride,
                       ws + (size_t)r * nbp, wb + (size_t)r * nbp);
        dg_k16_sweep(rp, rstride, ws, wb, nbp, rs, re, r0, q, Y, ldy, STEPS);
    }
}

/* ---- the path's entry in the avx2 table ---- */

/* The blocked layout of 64-column blocks over 2 * cols one-byte codes is, byte for byte, that of
 * 32-column blocks over cols int16 codes (same block count and padding): reused, cols restored. */
static size_t act_bytes_g(int n, int cols) { return dg_qact_blocked_bytes(n, 2 * cols, 1); }
static void act_init_g(dg_qact *q, void *buf, int n, const dg_mat *W) {
    dg_qact_blocked_init(q, buf, n, 2 * W->cols, W->gtype == DG_GGML_Q6_K ? 14 : 15, 1);
    q->cols = W->cols;
}
/* fp32 scales and biases of DG_QNB rows per 32-block + RSUB rows' codes as int16 */
static size_t scratch_g(int cols) {
    size_t nbp = (size_t)dg_qblocks(2 * cols);
    return 2 * DG_QNB * nbp * sizeof(float) + (size_t)RSUB * nbp * 32 * 2;
}

const dg_qpath dg_qpath_ggml16_avx2 = {
    .name = "ggml16", .lossy = 0, .serves = serves_g, .chosen = serves_g,
    .act_bytes = act_bytes_g, .act_init = act_init_g, .quantize = quantize_g, .rows = rows_g,
    .scratch_bytes = scratch_g,
};
