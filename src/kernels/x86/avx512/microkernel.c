/* 16x16 fp32 micro-kernel: one zmm of 16 columns per row, 16 accumulators, one panel load and
 * 16 broadcast FMAs per k (the broadcast is the FMA's memory operand). Row tails get the same
 * code with fewer rows; column tails compute all 16 (zero-padded) columns and store nc under a
 * mask. Every output is the same FMA chain, in the same k order, as the AVX2 kernel's: the two
 * give bit-identical results. */
#include <immintrin.h>
#include "kernels/x86/avx512/avx512.h"

#define AI __attribute__((always_inline)) static inline

/* Named accumulators, not an array (GCC -O2 keeps arrays of vectors in memory); rows >= M are
 * dead code after inlining. */
#define MK_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

AI void mk(const int M, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate) {
#define DECL(i) __m512 a##i = _mm512_setzero_ps();
    MK_ROWS(DECL)
#undef DECL
    /* the Y tile it adds to, asked for before the k loop (the AVX2 kernel's reason) */
    if (accumulate)
        for (int i = 0; i < M; i++) {
            _mm_prefetch((const char *)(y + (size_t)i * ldy), _MM_HINT_T0);
            _mm_prefetch((const char *)(y + (size_t)i * ldy + nc - 1), _MM_HINT_T0);
        }
    for (int k = 0; k < kc; k++) {
        __m512 w = _mm512_load_ps(wt + (size_t)k * 16);
#define STEP(i) if (M > i) a##i = _mm512_fmadd_ps(_mm512_set1_ps(x[(size_t)(i) * ldx + k]), w, a##i);
        MK_ROWS(STEP)
#undef STEP
    }
    const __mmask16 mask = (__mmask16)((1u << nc) - 1);
#define SAVE(i) if (M > i) { float *yr = y + (size_t)(i) * ldy; \
        _mm512_mask_storeu_ps(yr, mask, accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(mask, yr), a##i) : a##i); }
    MK_ROWS(SAVE)
#undef SAVE
}

void dg_mk_avx512(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate) {
    switch (m) {
#define CASE(i) case i + 1: mk(i + 1, nc, kc, x, ldx, wt, y, ldy, accumulate); break;
    MK_ROWS(CASE)
#undef CASE
    default: break;
    }
}
