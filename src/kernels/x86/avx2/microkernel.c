/* 6x16 fp32 micro-kernel: 12 accumulators, two panel loads and six broadcasts per k.
 * Row tails (m < 6, e.g. the ~16-row expert GEMMs: 6+6+4) get the same vector code with fewer
 * rows instead of a scalar fallback; column tails (nc < 16) compute all 16 columns of the
 * (zero-padded) panel and store only nc. Every output is the same FMA chain whatever its
 * position in the tile. */
#include <immintrin.h>
#include "kernels/x86/avx2/avx2.h"

#define AI __attribute__((always_inline)) static inline

/* Accumulators are named variables, not arrays: GCC -O2 keeps arrays of vectors in memory
 * across iterations (a store per FMA), which costs 4x. Rows >= M are dead code after inlining. */
#define MK_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

AI void mk(const int M, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate) {
#define DECL(i) __m256 a##i##0 = _mm256_setzero_ps(), a##i##1 = a##i##0; const float *x##i = x + (size_t)(i) * ldx;
    MK_ROWS(DECL)
#undef DECL
    /* The tile of Y this call adds to was last touched a whole panel ago (in L3 or memory by
     * now): ask for it before the k loop, not after, where its misses stalled ~14% of the
     * kernel's time in a 6-layer step. */
    if (accumulate)
        for (int i = 0; i < M; i++) {
            _mm_prefetch((const char *)(y + (size_t)i * ldy), _MM_HINT_T0);
            _mm_prefetch((const char *)(y + (size_t)i * ldy + nc - 1), _MM_HINT_T0);   /* its last column */
        }
    for (int k = 0; k < kc; k++) {
        __m256 w0 = _mm256_load_ps(wt + (size_t)k * 16), w1 = _mm256_load_ps(wt + (size_t)k * 16 + 8), b;
#define STEP(i) if (M > i) { b = _mm256_broadcast_ss(x##i + k); a##i##0 = _mm256_fmadd_ps(b, w0, a##i##0); \
                             a##i##1 = _mm256_fmadd_ps(b, w1, a##i##1); }
        MK_ROWS(STEP)
#undef STEP
    }
    __m256 acc[2 * DG_MR_AVX2];
#define SAVE(i) acc[2 * i] = a##i##0; acc[2 * i + 1] = a##i##1;
    MK_ROWS(SAVE)
#undef SAVE
    if (nc == DG_NR) {
        for (int i = 0; i < M; i++) {
            float *yr = y + (size_t)i * ldy;
            if (accumulate) {
                _mm256_storeu_ps(yr, _mm256_add_ps(_mm256_loadu_ps(yr), acc[2 * i]));
                _mm256_storeu_ps(yr + 8, _mm256_add_ps(_mm256_loadu_ps(yr + 8), acc[2 * i + 1]));
            } else {
                _mm256_storeu_ps(yr, acc[2 * i]);
                _mm256_storeu_ps(yr + 8, acc[2 * i + 1]);
            }
        }
    } else {
        for (int i = 0; i < M; i++) {
            float t[DG_NR], *yr = y + (size_t)i * ldy;
            _mm256_storeu_ps(t, acc[2 * i]);
            _mm256_storeu_ps(t + 8, acc[2 * i + 1]);
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
