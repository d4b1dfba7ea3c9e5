/* AVX2 weight expansion and panel packing for the fp32 GEMM path. Bit-identical to expand.c:
 * bf16 -> f32 is a shift, f16 -> f32 by vcvtph2ps is exact, and for affine codes
 * fma(s, q, b) == s*q + b rounded once, because s (bf16, 8 significant bits) times q (< 2^8) is
 * exact in fp32. */
#include <immintrin.h>
#include <string.h>
#include "core/numeric.h"
#include "kernels/x86/avx2/avx2.h"
#include "kernels/x86/avx2/simd.h"

#define AI __attribute__((always_inline)) static inline

/* 8 codes of B bits whose first bit is bit 0 of byte p -> int32 lanes. Reads exactly B bytes. */
AI __m256i codes8(const uint8_t *p, const int B) {
    if (B == 8) return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
    if (B <= 4) {   /* 8 codes fit in 32 bits: broadcast, shift each lane by j*B */
        uint32_t u = 0;
        memcpy(&u, p, (size_t)B);
        __m256i sh = _mm256_setr_epi32(0, B, 2 * B, 3 * B, 4 * B, 5 * B, 6 * B, 7 * B);
        return _mm256_and_si256(_mm256_srlv_epi32(_mm256_set1_epi32((int)u), sh), _mm256_set1_epi32((1 << B) - 1));
    }
    /* 5..7 bits: lane j gathers bytes (j*B)/8 and the next one, then shifts by (j*B)%8 */
    uint64_t u = 0;
    memcpy(&u, p, (size_t)B);
#define O(j) (char)((j) * B / 8), (char)((j) * B / 8 + 1), (char)0x80, (char)0x80
    __m256i ctl = _mm256_setr_epi8(O(0), O(1), O(2), O(3), O(4), O(5), O(6), O(7));
#undef O
    __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi64x((long long)u), ctl);
    __m256i sh = _mm256_setr_epi32(0, B % 8, 2 * B % 8, 3 * B % 8, 4 * B % 8, 5 * B % 8, 6 * B % 8, 7 * B % 8);
    return _mm256_and_si256(_mm256_srlv_epi32(v, sh), _mm256_set1_epi32((1 << B) - 1));
}

/* out[0..nc) = codes [c0, c0+nc) of one row; the range lies inside one group (s, b). */
AI void affine_seg(const uint8_t *row, const dg_mat *W, int r, int c0, int nc, float s, float b, float *out, const int B) {
    int j = 0;
    if ((c0 & 7) == 0) {
        __m256 vs = _mm256_set1_ps(s), vb = _mm256_set1_ps(b);
        for (; j + 8 <= nc; j += 8)
            _mm256_storeu_ps(out + j, _mm256_fmadd_ps(vs, _mm256_cvtepi32_ps(codes8(row + (size_t)(c0 + j) / 8 * B, B)), vb));
    }
    if (j < nc) dg_mat_row_range(W, r, c0 + j, nc - j, out + j);
}

AI void expand_affine(const dg_mat *W, int r, int c0, int nc, float *out, const int B) {
    const uint8_t *row = W->w + (size_t)r * W->w_stride;
    const uint8_t *sr = W->scales + (size_t)r * W->sb_stride, *br = W->biases + (size_t)r * W->sb_stride;
    int g = W->group;
    for (int j = 0; j < nc;) {
        int c = c0 + j, gi = c / g, end = (gi + 1) * g - c0;
        if (end > nc) end = nc;
        affine_seg(row, W, r, c, end - j, dg_bf16_to_f32(dg_ld16(sr + 2 * (size_t)gi)),
                   dg_bf16_to_f32(dg_ld16(br + 2 * (size_t)gi)), out + j, B);
        j = end;
    }
}

void dg_expand_avx2(const dg_mat *W, int r, int c0, int nc, float *out) {
    const uint8_t *row = W->w + (size_t)r * W->w_stride;
    int j = 0;
    switch (W->kind) {
    case DG_W_F32:
        memcpy(out, row + (size_t)c0 * 4, (size_t)nc * 4);
        return;
    case DG_W_BF16:
        for (const uint8_t *p = row + 2 * (size_t)c0; j + 8 <= nc; j += 8)
            _mm256_storeu_ps(out + j, _mm256_castsi256_ps(_mm256_slli_epi32(
                _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(p + 2 * (size_t)j))), 16)));
        break;
    case DG_W_F16:
        for (const uint8_t *p = row + 2 * (size_t)c0; j + 8 <= nc; j += 8)
            _mm256_storeu_ps(out + j, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(p + 2 * (size_t)j))));
        break;
    case DG_W_AFFINE:
        switch (W->bits) {
        case 2: expand_affine(W, r, c0, nc, out, 2); return;
        case 3: expand_affine(W, r, c0, nc, out, 3); return;
        case 4: expand_affine(W, r, c0, nc, out, 4); return;
        case 5: expand_affine(W, r, c0, nc, out, 5); return;
        case 6: expand_affine(W, r, c0, nc, out, 6); return;
        case 8: expand_affine(W, r, c0, nc, out, 8); return;
        default: break;
        }
        break;
    default:    /* other kinds (GGML blocks): the exact scalar expansion */
        break;
    }
    if (j < nc) dg_mat_row_range(W, r, c0 + j, nc - j, out + j);
}

/* 8x8 transpose: rows s[0..7] (stride ls) -> d[t*16 + 0..7] for t < 8. */
AI void tr8(const float *s, size_t ls, float *d) {
    __m256 r[8];
    for (int t = 0; t < 8; t++) r[t] = _mm256_loadu_ps(s + (size_t)t * ls);
    dg_transpose8_avx2(r);
    for (int t = 0; t < 8; t++) _mm256_store_ps(d + (size_t)t * 16, r[t]);
}

/* Bits per stored value of the kinds whose rows are plain arrays (0: ggml blocks). */
static int value_bits(const dg_mat *W) {
    switch (W->kind) {
    case DG_W_F32: return 32;
    case DG_W_BF16: case DG_W_F16: return 16;
    case DG_W_AFFINE: return W->bits;
    default: return 0;
    }
}

void dg_pack_avx2(const dg_mat *W, int r0, int nr, int k0, int kc, float *panel, float *tmp) {
    /* The next panel of these rows into L2 while the micro-kernel sweeps this one: a row's next
     * DG_KC columns are touched again only after the sweep, by which time the hardware prefetcher
     * has lost the stream (16 rows of a 2816-byte stride), and the expansion stalled on every
     * load (half its time in perf on the 8-bit head). */
    const int vb = value_bits(W);
    const size_t b0 = (size_t)(k0 + kc) * vb / 8, b1 = (size_t)(k0 + 2 * kc < W->cols ? k0 + 2 * kc : W->cols) * vb / 8;
    for (int r = 0; r < DG_NR; r++) {
        float *t = tmp + (size_t)r * DG_KC;
        if (r >= nr) { memset(t, 0, (size_t)kc * sizeof *t); continue; }
        dg_expand_avx2(W, r0 + r, k0, kc, t);
        const uint8_t *row = W->w + (size_t)(r0 + r) * W->w_stride;
        for (size_t b = b0; vb && b < b1; b += 64) _mm_prefetch((const char *)(row + b), _MM_HINT_T1);
    }
    int j = 0;
    for (; j + 8 <= kc; j += 8) {
        tr8(tmp + j, DG_KC, panel + (size_t)j * DG_NR);
        tr8(tmp + 8 * DG_KC + j, DG_KC, panel + (size_t)j * DG_NR + 8);
    }
    for (; j < kc; j++)
        for (int r = 0; r < DG_NR; r++) panel[(size_t)j * DG_NR + r] = tmp[(size_t)r * DG_KC + j];
}
