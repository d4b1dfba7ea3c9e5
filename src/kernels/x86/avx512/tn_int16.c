/* The soft embedding Y = P · W (dg_gemm_tn) on VNNI int16 dots, for MLX affine 4/8-bit tables.
 *
 * The sum runs over tokens v, across the table's per-row scales, so they go to P's side:
 *   Y[i, c] = sum_v (P[i,v] s[v,g]) (q[v,c] - h) + sum_v P[i,v] (b[v,g] + h s[v,g])
 * (g: the group of column c, h = 2^(bits-1)). The centred codes are exact int16. P[i,v] s[v,g]
 * is quantized to int16 per row, group and block of KB tokens, with the scale bound
 * pmax(i) smax(g) / 32767 (pmax over the row's block, smax over the group's; the exact max of
 * P s measured 15-30% slower): each term is off by at most 2^-16 of its block's largest, about
 * the int16 GEMMs' activation error. The bias term is summed in fp32.
 *
 * vpdpwssd takes tokens (v, v+1) as one int16 pair per 32-bit lane; per block
 * |sum| <= KB * 32767 * 128 < 2^31, then one cvt + fma per (row, 16 columns) into fp32.
 * Per block: P's rows are copied once (at P's own stride, 2^20 bytes at the real vocabulary,
 * every row falls in the same cache sets), then per group the quantized rows, then per 64
 * columns a panel of centred code pairs that all rows sweep, MR at a time. */
#include <immintrin.h>
#include <string.h>
#include "core/numeric.h"
#include "kernels/x86/avx512/avx512.h"

#define AI __attribute__((always_inline)) static inline
#define KB 256          /* tokens per block */
#define LDB (KB + 16)   /* row stride of the copied and the quantized block (apart in the cache) */
#define MR 4            /* rows per register block: MR x 4 accumulators + 4 code vectors */
#define ROWS 256        /* rows of P per pass, a multiple of MR */
#define CH 64           /* columns per code panel */
#define MAXC 1024       /* widest column slice */

/* 16 codes of row v from column c, as bytes. */
AI __m128i codes16(const dg_mat *W, int v, int c) {
    const uint8_t *row = W->w + (size_t)v * W->w_stride;
    if (W->bits == 8) return _mm_loadu_si128((const __m128i *)(row + c));
    __m128i b = _mm_loadl_epi64((const __m128i *)(row + c / 2)), m = _mm_set1_epi8(15);
    return _mm_unpacklo_epi8(_mm_and_si128(b, m), _mm_and_si128(_mm_srli_epi16(b, 4), m));
}

/* Tokens [k0, k0 + kp*2) of columns [c, c + 16u): pan[(p * 4 + t) * 32] = the int16 pairs
 * (q[k0+2p, c+16t+j] - h, q[k0+2p+1, c+16t+j] - h), j < 16; tokens past the table and tiles
 * t >= u zero. */
static void code_panel(const dg_mat *W, int k0, int kp, int c, int u, int16_t *pan) {
    const __m512i h = _mm512_set1_epi16((short)(1 << (W->bits - 1)));
    for (int p = 0; p < kp; p++) {
        int v = k0 + 2 * p;
        for (int t = 0; t < 4; t++) {
            __m512i z = _mm512_setzero_si512();
            if (v < W->rows && t < u) {
                __m128i x = codes16(W, v, c + 16 * t), y = v + 1 < W->rows ? codes16(W, v + 1, c + 16 * t) : x;
                __m256i xy = _mm256_set_m128i(_mm_unpackhi_epi8(x, y), _mm_unpacklo_epi8(x, y));
                z = _mm512_sub_epi16(_mm512_cvtepu8_epi16(xy), h);
                if (v + 1 >= W->rows) z = _mm512_maskz_mov_epi16(0x55555555u, z);   /* keep token v only */
            }
            _mm512_store_si512(pan + ((size_t)p * 4 + t) * 32, z);
        }
    }
}

#define ROWS4(X) X(0) X(1) X(2) X(3)

/* Rows [i, i + MR) of the quantized block against the panel (4 column tiles, the first u of
 * them real): yacc (row stride ldy) += alpha[row] * sum. Spelled out so that the 16
 * accumulators stay in registers. */
static void sweep_rows(const int16_t *q, const int16_t *pan, int kp, const float *alpha, float *yacc, int ldy, int u) {
#define DECL(r) __m512i c##r##0 = _mm512_setzero_si512(), c##r##1 = c##r##0, c##r##2 = c##r##0, c##r##3 = c##r##0;
    ROWS4(DECL)
#undef DECL
    for (int p = 0; p < kp; p++) {
        const __m512i *w = (const __m512i *)(pan + (size_t)p * 128);
        __m512i w0 = _mm512_load_si512(w), w1 = _mm512_load_si512(w + 1), w2 = _mm512_load_si512(w + 2),
                w3 = _mm512_load_si512(w + 3);
#define STEP(r) { int32_t pr; memcpy(&pr, q + (size_t)(r) * LDB + 2 * p, 4); __m512i a = _mm512_set1_epi32(pr); \
        DG_DPWSSD(c##r##0, a, w0); DG_DPWSSD(c##r##1, a, w1); DG_DPWSSD(c##r##2, a, w2); DG_DPWSSD(c##r##3, a, w3); }
        ROWS4(STEP)
#undef STEP
    }
#define ADD(r, t) if (u > t) { float *y = yacc + (size_t)(r) * ldy + 16 * t; \
        _mm512_storeu_ps(y, _mm512_fmadd_ps(_mm512_cvtepi32_ps(c##r##t), _mm512_set1_ps(alpha[r]), _mm512_loadu_ps(y))); }
#define OUT(r) ADD(r, 0) ADD(r, 1) ADD(r, 2) ADD(r, 3)
    ROWS4(OUT)
#undef OUT
#undef ADD
}

static void sweep(const int16_t *q, int mp, const int16_t *pan, int kp, const float *alpha, float *yacc, int ldy, int u) {
    for (int i = 0; i < mp; i += MR) sweep_rows(q + (size_t)i * LDB, pan, kp, alpha + i, yacc + (size_t)i * ldy, ldy, u);
}

typedef struct {
    float *yacc;     /* [ROWS][nc] */
    float *pb;       /* [ROWS][LDB]: the block of P over its rows' largest, zero past the table */
    int16_t *q;      /* [ROWS][LDB] */
    int16_t *pan;    /* [KB / 2][CH / 16][32] */
    float *bacc;     /* [ROWS][nc / 16]: the bias term per row and group (index in the slice) */
    float *sv, *bv;  /* [LDB]: the group's scales (times 32767 / smax) and centred biases */
    float *pmax, *alpha; /* [ROWS] */
} bufs;

/* Lays the buffers out from base (NULL: only counts); returns the bytes they take. */
static size_t carve(void *base, int nc, bufs *b) {
    size_t off = 0;
#define TAKE(field, type, count) b->field = base ? (type *)((uint8_t *)base + off) : NULL; \
    off += ((size_t)(count) * sizeof(type) + 63) & ~(size_t)63;
    TAKE(yacc, float, (size_t)ROWS * nc)
    TAKE(pb, float, (size_t)ROWS * LDB)
    TAKE(q, int16_t, (size_t)ROWS * LDB)
    TAKE(pan, int16_t, (size_t)KB / 2 * CH * 2)
    TAKE(bacc, float, (size_t)ROWS * (nc / 16))
    TAKE(sv, float, LDB)
    TAKE(bv, float, LDB)
    TAKE(pmax, float, ROWS)
    TAKE(alpha, float, ROWS)
#undef TAKE
    return off;
}

static size_t scratch_bytes(int nc) {
    bufs b;
    return carve(NULL, nc, &b);
}

/* Rows [0, m) of P, tokens [k0, k0 + kb) -> pmax and pb = P / pmax (zero to kr, a multiple
 * of 16; all zero where pmax is). */
static void copy_block(const float *P, int ldp, int m, int k0, int kb, int kr, bufs *b) {
    for (int i = 0; i < m; i++) {
        float *d = b->pb + (size_t)i * LDB;
        memcpy(d, P + (size_t)i * ldp + k0, (size_t)kb * sizeof *d);
        memset(d + kb, 0, (size_t)(kr - kb) * sizeof *d);
        __m512 mx = _mm512_setzero_ps();
        for (int v = 0; v < kr; v += 16) mx = _mm512_max_ps(mx, _mm512_abs_ps(_mm512_load_ps(d + v)));
        b->pmax[i] = _mm512_reduce_max_ps(mx);
        __m512 f = _mm512_set1_ps(b->pmax[i] > 0 ? 1.0f / b->pmax[i] : 0.0f);
        for (int v = 0; v < kr; v += 16) _mm512_store_ps(d + v, _mm512_mul_ps(_mm512_load_ps(d + v), f));
    }
}

/* Group g's scales over the block -> sv (times 32767 / smax), bv; returns smax. */
static float group_scales(const dg_mat *W, int g, int k0, int kb, int kr, bufs *b) {
    const float h = (float)(1 << (W->bits - 1));
    float smax = 0;
    for (int v = 0; v < kr; v++) {
        float s = 0, bias = 0;
        if (v < kb) {
            size_t o = (size_t)(k0 + v) * W->sb_stride + 2 * (size_t)g;
            s = dg_bf16_to_f32(dg_ld16(W->scales + o));
            bias = dg_bf16_to_f32(dg_ld16(W->biases + o)) + h * s;
        }
        b->sv[v] = s;
        b->bv[v] = bias;
        if (s > smax) smax = s; else if (-s > smax) smax = -s;
    }
    if (smax > 0) {
        __m512 f = _mm512_set1_ps(32767.0f / smax);
        for (int v = 0; v < kr; v += 16) _mm512_store_ps(b->sv + v, _mm512_mul_ps(_mm512_load_ps(b->sv + v), f));
    }
    return smax;
}

/* Rows [0, mp) of the block -> q (int16 of P s / alpha), alpha, and the bias term into bacc
 * column gi. Rows past m are zero. */
static void quantize_group(int m, int mp, int kr, float smax, int gi, int ngs, bufs *b) {
    for (int i = 0; i < mp; i++) {
        int16_t *q = b->q + (size_t)i * LDB;
        const float *x = b->pb + (size_t)i * LDB;
        b->alpha[i] = i < m ? b->pmax[i] * smax / 32767.0f : 0.0f;
        if (i >= m) { memset(q, 0, (size_t)kr * sizeof *q); continue; }
        __m512 bs = _mm512_setzero_ps();
        for (int v = 0; v < kr; v += 16) {
            __m512 p = _mm512_load_ps(x + v);
            bs = _mm512_fmadd_ps(p, _mm512_load_ps(b->bv + v), bs);
            __m512i z = _mm512_cvtps_epi32(_mm512_mul_ps(p, _mm512_load_ps(b->sv + v)));
            _mm256_storeu_si256((__m256i *)(q + v), _mm512_cvtsepi32_epi16(z));
        }
        b->bacc[(size_t)i * ngs + gi] += b->pmax[i] * _mm512_reduce_add_ps(bs);
    }
}

static void cols(const dg_isa_table *tb, const dg_mat *W, int c0, int nc, const float *P, int n, int ldp,
                 float *Y, int ldy, void *scratch) {
    (void)tb;
    bufs b;
    carve(scratch, nc, &b);
    const int G = W->group, g0 = c0 / G, g1 = (c0 + nc - 1) / G, ngs = g1 - g0 + 1;
    for (int i0 = 0; i0 < n; i0 += ROWS) {
        int m = n - i0 < ROWS ? n - i0 : ROWS, mp = (m + MR - 1) / MR * MR;
        memset(b.yacc, 0, (size_t)mp * nc * sizeof *b.yacc);
        memset(b.bacc, 0, (size_t)mp * ngs * sizeof *b.bacc);
        for (int k0 = 0; k0 < W->rows; k0 += KB) {
            int kb = W->rows - k0 < KB ? W->rows - k0 : KB, kr = (kb + 15) / 16 * 16;
            copy_block(P + (size_t)i0 * ldp, ldp, m, k0, kb, kr, &b);
            for (int g = g0; g <= g1; g++) {
                float smax = group_scales(W, g, k0, kb, kr, &b);
                quantize_group(m, mp, kr, smax, g - g0, ngs, &b);   /* smax 0: q all zero, the biases count */
                if (smax == 0) continue;
                int ca = g * G > c0 ? g * G : c0, cb = (g + 1) * G < c0 + nc ? (g + 1) * G : c0 + nc;
                for (int c = ca; c < cb; c += CH) {
                    int u = (cb - c < CH ? cb - c : CH) / 16;
                    code_panel(W, k0, kr / 2, c, u, b.pan);
                    sweep(b.q, mp, b.pan, kr / 2, b.alpha, b.yacc + (c - c0), nc, u);
                }
            }
        }
        for (int i = 0; i < m; i++) {
            const float *ya = b.yacc + (size_t)i * nc, *ba = b.bacc + (size_t)i * ngs;
            float *y = Y + (size_t)(i0 + i) * ldy + c0;
            for (int j = 0; j < nc; j++) y[j] = ya[j] + ba[(c0 + j) / G - g0];
        }
    }
}

static int serves(const dg_mat *W) {
    return W->kind == DG_W_AFFINE && (W->bits == 4 || W->bits == 8) && W->group > 0 && W->group % 16 == 0 &&
           W->cols % W->group == 0;
}

const dg_tnpath dg_tnpath_int16_avx512 = {
    .name = "int16", .ops = DG_OPS_INT16, .max_cols = MAXC, .serves = serves, .cols = cols,
    .scratch_bytes = scratch_bytes,
};
