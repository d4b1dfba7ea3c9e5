/* 6x16 fp32 micro-kernel: 24 accumulators (6 rows x 4 vectors), four panel loads and six scalar
 * loads per k, each row's four FMAs by element (fmla v, v, v.s[0]): 28 of the 32 registers.
 * Row tails (m < 6) get the same code with fewer rows; column tails compute the 16 columns of
 * the zero-padded panel and store nc. */
#include <arm_neon.h>
#include "kernels/arm/neon/neon.h"

#define AI __attribute__((always_inline)) static inline
/* Named accumulators (not arrays, which GCC may keep in memory); rows >= M are dead code. */
#define MK_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5)

AI void store_row(float *yr, float32x4_t a0, float32x4_t a1, float32x4_t a2, float32x4_t a3, int nc, int accumulate) {
    float t[DG_NR];
    if (nc == DG_NR && accumulate) {
        vst1q_f32(yr, vaddq_f32(vld1q_f32(yr), a0));
        vst1q_f32(yr + 4, vaddq_f32(vld1q_f32(yr + 4), a1));
        vst1q_f32(yr + 8, vaddq_f32(vld1q_f32(yr + 8), a2));
        vst1q_f32(yr + 12, vaddq_f32(vld1q_f32(yr + 12), a3));
        return;
    }
    float *d = nc == DG_NR && !accumulate ? yr : t;
    vst1q_f32(d, a0);
    vst1q_f32(d + 4, a1);
    vst1q_f32(d + 8, a2);
    vst1q_f32(d + 12, a3);
    if (d == t)
        for (int j = 0; j < nc; j++) yr[j] = accumulate ? yr[j] + t[j] : t[j];
}

AI void mk(const int M, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate) {
#define DECL(i) float32x4_t a##i##0 = vdupq_n_f32(0.0f), a##i##1 = a##i##0, a##i##2 = a##i##0, a##i##3 = a##i##0; \
    const float *x##i = x + (size_t)(M > i ? i : 0) * ldx;
    MK_ROWS(DECL)
#undef DECL
    for (int k = 0; k < kc; k++) {
        const float *w = wt + (size_t)k * DG_NR;
        float32x4_t w0 = vld1q_f32(w), w1 = vld1q_f32(w + 4), w2 = vld1q_f32(w + 8), w3 = vld1q_f32(w + 12);
#define STEP(i) if (M > i) { float b = x##i[k]; a##i##0 = vfmaq_n_f32(a##i##0, w0, b); a##i##1 = vfmaq_n_f32(a##i##1, w1, b); \
                             a##i##2 = vfmaq_n_f32(a##i##2, w2, b); a##i##3 = vfmaq_n_f32(a##i##3, w3, b); }
        MK_ROWS(STEP)
#undef STEP
    }
#define SAVE(i) if (M > i) store_row(y + (size_t)(i) * ldy, a##i##0, a##i##1, a##i##2, a##i##3, nc, accumulate);
    MK_ROWS(SAVE)
#undef SAVE
}

void dg_mk_neon(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate) {
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
