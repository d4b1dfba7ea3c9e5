/* 6x16 fp32 micro-kernel: 12 accumulators, two panel loads and six broadcasts per k.
 * Row tails (m < 6, e.g. the ~16-row expert GEMMs: 6+6+4) get the same vector code with fewer
 * rows instead of a scalar fallback; column tails (nc < 16) compute all 16 columns of the
 * (zero-padded) panel and store only nc. Every output is the same FMA chain whatever its
 * position in the tile. */
#include <immintrin.h>
#include "kernels/gemm_internal.h"

#define AI __attribute__((always_inline)) static inline

AI void mk(const int M, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate) {
    __m256 a0[DG_MR], a1[DG_MR];
    const float *xr[DG_MR];
    for (int i = 0; i < M; i++) {
        a0[i] = a1[i] = _mm256_setzero_ps();
        xr[i] = x + (size_t)i * ldx;
    }
    for (int k = 0; k < kc; k++) {
        __m256 w0 = _mm256_load_ps(wt + (size_t)k * 16), w1 = _mm256_load_ps(wt + (size_t)k * 16 + 8);
        for (int i = 0; i < M; i++) {
            __m256 b = _mm256_broadcast_ss(xr[i] + k);
            a0[i] = _mm256_fmadd_ps(b, w0, a0[i]);
            a1[i] = _mm256_fmadd_ps(b, w1, a1[i]);
        }
    }
    if (nc == DG_NR) {
        for (int i = 0; i < M; i++) {
            float *yr = y + (size_t)i * ldy;
            if (accumulate) {
                _mm256_storeu_ps(yr, _mm256_add_ps(_mm256_loadu_ps(yr), a0[i]));
                _mm256_storeu_ps(yr + 8, _mm256_add_ps(_mm256_loadu_ps(yr + 8), a1[i]));
            } else {
                _mm256_storeu_ps(yr, a0[i]);
                _mm256_storeu_ps(yr + 8, a1[i]);
            }
        }
    } else {
        for (int i = 0; i < M; i++) {
            float t[DG_NR], *yr = y + (size_t)i * ldy;
            _mm256_storeu_ps(t, a0[i]);
            _mm256_storeu_ps(t + 8, a1[i]);
            for (int j = 0; j < nc; j++) yr[j] = accumulate ? yr[j] + t[j] : t[j];
        }
    }
}

void dg_mk_avx2(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate) {
    switch (m) {
    case 6: mk(6, nc, kc, x, ldx, wt, y, ldy, accumulate); break;
    case 5: mk(5, nc, kc, x, ldx, wt, y, ldy, accumulate); break;
    case 4: mk(4, nc, kc, x, ldx, wt, y, ldy, accumulate); break;
    case 3: mk(3, nc, kc, x, ldx, wt, y, ldy, accumulate); break;
    case 2: mk(2, nc, kc, x, ldx, wt, y, ldy, accumulate); break;
    case 1: mk(1, nc, kc, x, ldx, wt, y, ldy, accumulate); break;
    default: break;
    }
}
