/* 6x16 fp32 micro-kernel: 12 accumulators, two panel loads and six broadcasts per k. */
#include <immintrin.h>
#include "kernels/gemm_internal.h"

void dg_mk_avx2(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate) {
    if (m != DG_MR || nc != DG_NR) {
        dg_mk_c(m, nc, kc, x, ldx, wt, y, ldy, accumulate);
        return;
    }
    __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00;
    __m256 a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
    const float *x0 = x, *x1 = x + ldx, *x2 = x + 2 * (size_t)ldx, *x3 = x + 3 * (size_t)ldx,
                *x4 = x + 4 * (size_t)ldx, *x5 = x + 5 * (size_t)ldx;
    for (int k = 0; k < kc; k++) {
        __m256 w0 = _mm256_load_ps(wt + (size_t)k * 16), w1 = _mm256_load_ps(wt + (size_t)k * 16 + 8);
        __m256 b;
        b = _mm256_broadcast_ss(x0 + k); a00 = _mm256_fmadd_ps(b, w0, a00); a01 = _mm256_fmadd_ps(b, w1, a01);
        b = _mm256_broadcast_ss(x1 + k); a10 = _mm256_fmadd_ps(b, w0, a10); a11 = _mm256_fmadd_ps(b, w1, a11);
        b = _mm256_broadcast_ss(x2 + k); a20 = _mm256_fmadd_ps(b, w0, a20); a21 = _mm256_fmadd_ps(b, w1, a21);
        b = _mm256_broadcast_ss(x3 + k); a30 = _mm256_fmadd_ps(b, w0, a30); a31 = _mm256_fmadd_ps(b, w1, a31);
        b = _mm256_broadcast_ss(x4 + k); a40 = _mm256_fmadd_ps(b, w0, a40); a41 = _mm256_fmadd_ps(b, w1, a41);
        b = _mm256_broadcast_ss(x5 + k); a50 = _mm256_fmadd_ps(b, w0, a50); a51 = _mm256_fmadd_ps(b, w1, a51);
    }
    __m256 acc[12] = {a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51};
    for (int i = 0; i < 6; i++) {
        float *yr = y + (size_t)i * ldy;
        if (accumulate) {
            _mm256_storeu_ps(yr, _mm256_add_ps(_mm256_loadu_ps(yr), acc[2 * i]));
            _mm256_storeu_ps(yr + 8, _mm256_add_ps(_mm256_loadu_ps(yr + 8), acc[2 * i + 1]));
        } else {
            _mm256_storeu_ps(yr, acc[2 * i]);
            _mm256_storeu_ps(yr + 8, acc[2 * i + 1]);
        }
    }
}
