/* The register block of the int16-activation integer paths (qgemm16.c: MLX affine weights,
 * qgemm_ggml.c: ggml block types), AVX2. Both lay weights and activations out as superblocks of 8
 * blocks whose 32-bit lanes are the blocks ("lanes are blocks", see qgemm16.c): per pair of
 * weight and activation rows, `steps` madd+add give the 8 blocks' exact int32 dots, then one
 * cvt + fma scales them with the per-lane fp32 products ws * sa and adds the bias terms
 * wb * ssum. Include only from AVX2 files. */
#ifndef DG_KERNELS_K16_AVX2_H
#define DG_KERNELS_K16_AVX2_H
#include <immintrin.h>
#include "kernels/x86/avx2/avx2.h"

#define AI __attribute__((always_inline)) static inline

AI float dg_hsum8_avx2(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

#define R4(X) X(0) X(1) X(2) X(3)

/* R (1 or 2) repacked weight rows w0, w1 (lane scales ws0, ws1, biases wb0, wb1) against M <= 4
 * activation rows from i; out[r * 4 + t]. Accumulators are named variables (arrays stay in
 * memory at -O2); rows >= M and the second weight row when R == 1 are dead code after inlining. */
AI void dg_k16(const __m256i *w0, const __m256i *w1, const float *ws0, const float *ws1, const float *wb0,
            const float *wb1, const dg_qact *q, int i, const int R, const int M, int nsb, const int ST, float *out) {
#define DECL(t) __m256i c0##t, c1##t; __m256 f0##t = _mm256_setzero_ps(), f1##t = _mm256_setzero_ps(); \
    const __m256i *a##t = (const __m256i *)(q->q + (size_t)(i + (M > t ? t : 0)) * q->row_bytes); \
    const float *sa##t = q->scale + (size_t)(i + (M > t ? t : 0)) * q->nblocks, \
                *ss##t = q->ssum + (size_t)(i + (M > t ? t : 0)) * q->nblocks;
    R4(DECL)
#undef DECL
    for (int S = 0; S < nsb; S++) {
        const __m256i *x0 = w0 + (size_t)S * ST, *x1 = w1 + (size_t)S * ST;
#define ZERO(t) c0##t = c1##t = _mm256_setzero_si256();
        R4(ZERO)
#undef ZERO
#pragma GCC unroll 4
        for (int s = 0; s < ST; s++) {
            __m256i v0 = _mm256_load_si256(x0 + s), v1 = R > 1 ? _mm256_load_si256(x1 + s) : v0;
            /* One activation row's step as one asm block, its vector read twice from L1 (as a
             * memory operand of each madd; loads are not the bound at 10 per 8 madd). Left to
             * itself GCC hoists the loads of all rows together, runs out of the 16 registers
             * and keeps accumulators on the stack, whose store-to-load chains then bound the
             * loop (measured ~2x slower). */
#define STEP(t) if (M > t) { const __m256i *ap = a##t + (size_t)S * ST + s; __m256i tmp; \
                if (R > 1) __asm__("vpmaddwd %[a], %[w0], %[x]\n\tvpaddd %[x], %[c0], %[c0]\n\t" \
                                   "vpmaddwd %[a], %[w1], %[x]\n\tvpaddd %[x], %[c1], %[c1]" \
                                   : [c0] "+x"(c0##t), [c1] "+x"(c1##t), [x] "=&x"(tmp) \
                                   : [a] "m"(*ap), [w0] "x"(v0), [w1] "x"(v1)); \
                else __asm__("vpmaddwd %[a], %[w0], %[x]\n\tvpaddd %[x], %[c0], %[c0]" \
                             : [c0] "+x"(c0##t), [x] "=&x"(tmp) : [a] "m"(*ap), [w0] "x"(v0)); }
            R4(STEP)
#undef STEP
        }
        /* scale the 8 blocks' dots, and add the bias term wb * sa * sum(q_a) of the same 8 blocks */
        __m256 s0 = _mm256_load_ps(ws0 + (size_t)S * 8), s1 = R > 1 ? _mm256_load_ps(ws1 + (size_t)S * 8) : s0,
               b0 = _mm256_load_ps(wb0 + (size_t)S * 8), b1 = R > 1 ? _mm256_load_ps(wb1 + (size_t)S * 8) : b0;
#define FOLD(t) if (M > t) { __m256 sa = _mm256_load_ps(sa##t + (size_t)S * 8), ss = _mm256_load_ps(ss##t + (size_t)S * 8); \
            f0##t = _mm256_fmadd_ps(b0, ss, _mm256_fmadd_ps(_mm256_cvtepi32_ps(c0##t), _mm256_mul_ps(s0, sa), f0##t)); \
            if (R > 1) f1##t = _mm256_fmadd_ps(b1, ss, _mm256_fmadd_ps(_mm256_cvtepi32_ps(c1##t), _mm256_mul_ps(s1, sa), f1##t)); }
        R4(FOLD)
#undef FOLD
    }
#define OUT(t) if (M > t) { out[t] = dg_hsum8_avx2(f0##t); if (R > 1) out[4 + t] = dg_hsum8_avx2(f1##t); }
    R4(OUT)
#undef OUT
}

#define DG_K16_IA 4   /* activation rows per register block */

/* Y[i, r0 + r] for all rows of q and the repacked weight rows r in [rs, re) (row r at
 * rp + (r - rs) * rstride vectors; its per-lane scales and bias terms at ws / wb + r * nbp). */
AI void dg_k16_sweep(const __m256i *rp, size_t rstride, const float *ws, const float *wb, int nbp, int rs, int re,
                     int r0, const dg_qact *q, float *Y, int ldy, const int steps) {
    const int nsb = nbp / 8;
    for (int i = 0; i < q->n; i += DG_K16_IA) {
        int m = q->n - i < DG_K16_IA ? q->n - i : DG_K16_IA;
        for (int r = rs; r < re; r += 2) {
            const __m256i *w0 = rp + (size_t)(r - rs) * rstride, *w1 = w0 + rstride;
            const float *s0 = ws + (size_t)r * nbp, *s1 = s0 + nbp, *b0 = wb + (size_t)r * nbp, *b1 = b0 + nbp;
            float out[8];
            if (r + 1 < re) {
                switch (m) {
                case 4: dg_k16(w0, w1, s0, s1, b0, b1, q, i, 2, 4, nsb, steps, out); break;
                case 3: dg_k16(w0, w1, s0, s1, b0, b1, q, i, 2, 3, nsb, steps, out); break;
                case 2: dg_k16(w0, w1, s0, s1, b0, b1, q, i, 2, 2, nsb, steps, out); break;
                default: dg_k16(w0, w1, s0, s1, b0, b1, q, i, 2, 1, nsb, steps, out); break;
                }
            } else {
                switch (m) {
                case 4: dg_k16(w0, w0, s0, s0, b0, b0, q, i, 1, 4, nsb, steps, out); break;
                case 3: dg_k16(w0, w0, s0, s0, b0, b0, q, i, 1, 3, nsb, steps, out); break;
                case 2: dg_k16(w0, w0, s0, s0, b0, b0, q, i, 1, 2, nsb, steps, out); break;
                default: dg_k16(w0, w0, s0, s0, b0, b0, q, i, 1, 1, nsb, steps, out); break;
                }
            }
            int rr = r + 1 < re ? 2 : 1;
            for (int u = 0; u < rr; u++)
                for (int t = 0; t < m; t++) Y[(size_t)(i + t) * ldy + r0 + r + u] = out[4 * u + t];
        }
    }
}

#undef R4
#undef AI
#endif
