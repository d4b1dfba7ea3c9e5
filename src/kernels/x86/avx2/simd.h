/* Helpers shared by the AVX2 kernels: an 8x8 register transpose and the symmetric quantization
 * of one activation block. Include only from *_avx2.c files (AVX2 intrinsics). */
#ifndef DG_KERNELS_SIMD_AVX2_H
#define DG_KERNELS_SIMD_AVX2_H
#include <immintrin.h>
#include <stdint.h>
#include "core/numeric.h"
#include "kernels/x86/avx2/avx2.h"

/* Transposes 8 rows of 8 lanes in place: r[t][s] becomes r[s][t]. */
__attribute__((always_inline)) static inline void dg_transpose8_avx2(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]), t2 = _mm256_unpacklo_ps(r[2], r[3]),
           t3 = _mm256_unpackhi_ps(r[2], r[3]), t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]),
           t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee),
           u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee),
           u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee),
           u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
    r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
    r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
    r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
    r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

/* 4 / 8 bf16 values at p (unaligned) as fp32. */
__attribute__((always_inline)) static inline __m128 dg_bf16x4_avx2(const uint8_t *p) {
    return _mm_castsi128_ps(_mm_slli_epi32(_mm_cvtepu16_epi32(_mm_loadl_epi64((const __m128i *)p)), 16));
}
__attribute__((always_inline)) static inline __m256 dg_bf16x8_avx2(const uint8_t *p) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p)), 16));
}

/* Codes qi[j] = round(x[j] * qmax / max|x|) in [-qmax, qmax] for j < n (a multiple of 8; round
 * to nearest: MXCSR default; |x| * (qmax / amax) <= qmax up to one rounding). Returns the span's
 * scale amax / qmax. A NaN/Inf span makes amax non-finite: the result is garbage either way, but
 * the codes stay defined (0) rather than converting NaN to int; an all-zero span also gets
 * scale 0. */
static inline float dg_quant_span_avx2(const float *xb, int n, float qmax, int32_t *qi) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 mx = _mm256_setzero_ps();
    for (int j = 0; j < n; j += 8) mx = _mm256_max_ps(mx, _mm256_and_ps(_mm256_loadu_ps(xb + j), absmask));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    float amax = _mm_cvtss_f32(m4);
    float inv = amax > 0.0f && amax <= 3.0e38f ? qmax / amax : 0.0f;
    __m256 vinv = _mm256_set1_ps(inv);
    for (int j = 0; j < n; j += 8)
        _mm256_storeu_si256((__m256i *)(qi + j), _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + j), vinv)));
    return inv > 0.0f ? amax / qmax : 0.0f;
}
/* One 64-column activation block. */
static inline float dg_quant_block_avx2(const float *xb, float qmax, int32_t qi[DG_QB]) {
    return dg_quant_span_avx2(xb, DG_QB, qmax, qi);
}

#endif
