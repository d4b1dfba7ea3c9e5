/* Symmetric quantization of one activation block, shared by the int8 and int16 paths.
 * Include only from *_avx2.c files (AVX2 intrinsics). */
#ifndef DG_KERNELS_QBLOCK_AVX2_H
#define DG_KERNELS_QBLOCK_AVX2_H
#include <immintrin.h>
#include <stdint.h>
#include "kernels/gemm_internal.h"

/* Codes qi[j] = round(x[j] * qmax / max|x|) in [-qmax, qmax] (round to nearest: MXCSR default;
 * |x| * (qmax / amax) <= qmax up to one rounding). Returns the block's scale amax / qmax. A NaN/Inf
 * block makes amax non-finite: the result is garbage either way, but the codes stay defined (0)
 * rather than converting NaN to int; an all-zero block also gets scale 0. */
static inline float dg_quant_block_avx2(const float *xb, float qmax, int32_t qi[DG_QB]) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 mx = _mm256_setzero_ps();
    for (int j = 0; j < DG_QB; j += 8) mx = _mm256_max_ps(mx, _mm256_and_ps(_mm256_loadu_ps(xb + j), absmask));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
    float amax = _mm_cvtss_f32(m4);
    float inv = amax > 0.0f && amax <= 3.0e38f ? qmax / amax : 0.0f;
    __m256 vinv = _mm256_set1_ps(inv);
    for (int j = 0; j < DG_QB; j += 8)
        _mm256_storeu_si256((__m256i *)(qi + j), _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + j), vinv)));
    return inv > 0.0f ? amax / qmax : 0.0f;
}

#endif
