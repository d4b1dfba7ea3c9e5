/* int8 GEMM against MLX affine weights (4- or 8-bit codes, group a multiple of 64), AVX2.
 *
 * Y[i, r] = sum_blocks ws[r,g] * sa[i,b] * (q_w . q_a)_b + wb[r,g] * sa[i,b] * sum(q_a)_b
 * where b runs over 64-column blocks (g = the weight group holding b). The integer dot of one
 * block is exact in int32; each block costs one int->fp32 conversion and one FMA per
 * (weight row, activation row) pair, and the bias term is a short fp32 dot over blocks.
 *
 * 4-bit: 32 code bytes of a block are split into low nibbles (even columns) and high nibbles
 * (odd columns); activations are stored [even | odd] so no interleaving is needed, and
 * _mm256_maddubs_epi16 (u8 code x s8 activation) pair sums stay within 2*15*127, far from the
 * int16 limit. Register block: 2 weight rows x 4 activation rows.
 * 8-bit: pair sums of u8 x s8 could reach 2*255*127 > 32767, so codes are widened to int16 and
 * dotted with int16 activations by _mm256_madd_epi16 (exact int32). Register block: 1 x 6. */
#include <immintrin.h>
#include <math.h>
#include <string.h>
#include "core/numeric.h"
#include "kernels/gemm_internal.h"

#define AI __attribute__((always_inline)) static inline

AI float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* sum_c a[c] * b[c] over nb floats. */
AI float dot_f(const float *a, const float *b, int nb) {
    __m256 acc = _mm256_setzero_ps();
    int c = 0;
    for (; c + 8 <= nb; c += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + c), _mm256_loadu_ps(b + c), acc);
    float s = hsum8(acc);
    for (; c < nb; c++) s += a[c] * b[c];
    return s;
}

void dg_quantize_rows_avx2(const dg_qact *q, const float *X, int ldx, int i0, int i1) {
    const int nb = q->cols / DG_QB;
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int i = i0; i < i1; i++) {
        const float *x = X + (size_t)i * ldx;
        uint8_t *qr = q->q + (size_t)i * q->row_bytes;
        float *sc = q->scale + (size_t)i * nb, *ss = q->ssum + (size_t)i * nb;
        for (int b = 0; b < nb; b++) {
            const float *xb = x + (size_t)b * DG_QB;
            __m256 mx = _mm256_setzero_ps();
            for (int j = 0; j < DG_QB; j += 8) mx = _mm256_max_ps(mx, _mm256_and_ps(_mm256_loadu_ps(xb + j), absmask));
            __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(mx), _mm256_extractf128_ps(mx, 1));
            m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
            m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
            float amax = _mm_cvtss_f32(m4);
            /* a NaN/Inf row makes amax non-finite; the result is garbage either way, but keep
             * the codes defined (0) rather than converting NaN to int */
            float inv = amax > 0.0f && amax <= 3.0e38f ? 127.0f / amax : 0.0f;
            __m256 vinv = _mm256_set1_ps(inv);
            int32_t qi[DG_QB];
            for (int j = 0; j < DG_QB; j += 8)   /* round to nearest (MXCSR default) */
                _mm256_storeu_si256((__m256i *)(qi + j), _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(xb + j), vinv)));
            int sum = 0;
            for (int j = 0; j < DG_QB; j++) {
                if (qi[j] > 127) qi[j] = 127;       /* x * (127 / amax) may round up past 127 */
                if (qi[j] < -127) qi[j] = -127;
                sum += qi[j];
            }
            if (q->bits == 4) {
                int8_t *d = (int8_t *)qr + (size_t)b * DG_QB;
                for (int t = 0; t < DG_QB / 2; t++) { d[t] = (int8_t)qi[2 * t]; d[DG_QB / 2 + t] = (int8_t)qi[2 * t + 1]; }
            } else {
                int16_t *d = (int16_t *)qr + (size_t)b * DG_QB;
                for (int j = 0; j < DG_QB; j++) d[j] = (int16_t)qi[j];
            }
            float s = inv > 0.0f ? amax / 127.0f : 0.0f;
            sc[b] = s;
            ss[b] = s * (float)sum;
        }
    }
}

/* Accumulators and row pointers are named variables (not arrays, which GCC -O2 would keep in
 * memory); rows >= M are dead code after inlining. */
#define R4(X) X(0) X(1) X(2) X(3)
#define R6(X) X(0) X(1) X(2) X(3) X(4) X(5)

/* 4-bit: rows w0, w1 (block-scale arrays s0, s1) against M activation rows from i. */
AI void k4(const uint8_t *w0, const uint8_t *w1, const float *s0, const float *s1,
           const dg_qact *q, int i, const int M, int nb, float out[2][4]) {
    const __m256i m4 = _mm256_set1_epi8(0x0f), ones = _mm256_set1_epi16(1);
#define DECL(t) __m256 p##t = _mm256_setzero_ps(), r##t = p##t; \
    const int8_t *a##t = (const int8_t *)(q->q + (size_t)(i + (M > t ? t : 0)) * q->row_bytes); \
    const float *sa##t = q->scale + (size_t)(i + (M > t ? t : 0)) * nb;
    R4(DECL)
#undef DECL
    for (int c = 0; c < nb; c++) {
        __m256i v0 = _mm256_loadu_si256((const __m256i *)(w0 + (size_t)c * 32));
        __m256i v1 = _mm256_loadu_si256((const __m256i *)(w1 + (size_t)c * 32));
        __m256i l0 = _mm256_and_si256(v0, m4), h0 = _mm256_and_si256(_mm256_srli_epi16(v0, 4), m4);
        __m256i l1 = _mm256_and_si256(v1, m4), h1 = _mm256_and_si256(_mm256_srli_epi16(v1, 4), m4);
        __m256 ws0 = _mm256_broadcast_ss(s0 + c), ws1 = _mm256_broadcast_ss(s1 + c);
#define STEP(t) if (M > t) { \
            __m256i alo = _mm256_load_si256((const __m256i *)(a##t + (size_t)c * 64)); \
            __m256i ahi = _mm256_load_si256((const __m256i *)(a##t + (size_t)c * 64 + 32)); \
            __m256i d0 = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(l0, alo), _mm256_maddubs_epi16(h0, ahi)), ones); \
            __m256i d1 = _mm256_madd_epi16(_mm256_add_epi16(_mm256_maddubs_epi16(l1, alo), _mm256_maddubs_epi16(h1, ahi)), ones); \
            __m256 as = _mm256_broadcast_ss(sa##t + c); \
            p##t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d0), _mm256_mul_ps(ws0, as), p##t); \
            r##t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d1), _mm256_mul_ps(ws1, as), r##t); }
        R4(STEP)
#undef STEP
    }
#define OUT(t) if (M > t) { out[0][t] = hsum8(p##t); out[1][t] = hsum8(r##t); }
    R4(OUT)
#undef OUT
}

/* 8-bit: row w0 against M activation rows (int16) from i. */
AI void k8(const uint8_t *w0, const float *s0, const dg_qact *q, int i, const int M, int nb, float out[6]) {
#define DECL(t) __m256 p##t = _mm256_setzero_ps(); \
    const int16_t *a##t = (const int16_t *)(q->q + (size_t)(i + (M > t ? t : 0)) * q->row_bytes); \
    const float *sa##t = q->scale + (size_t)(i + (M > t ? t : 0)) * nb;
    R6(DECL)
#undef DECL
    for (int c = 0; c < nb; c++) {
        const uint8_t *p = w0 + (size_t)c * 64;
        __m256i u0 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)p));
        __m256i u1 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(p + 16)));
        __m256i u2 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(p + 32)));
        __m256i u3 = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(p + 48)));
        __m256 ws = _mm256_broadcast_ss(s0 + c);
#define STEP(t) if (M > t) { \
            const __m256i *ap = (const __m256i *)(a##t + (size_t)c * 64); \
            __m256i d = _mm256_add_epi32( \
                _mm256_add_epi32(_mm256_madd_epi16(u0, _mm256_load_si256(ap)), _mm256_madd_epi16(u1, _mm256_load_si256(ap + 1))), \
                _mm256_add_epi32(_mm256_madd_epi16(u2, _mm256_load_si256(ap + 2)), _mm256_madd_epi16(u3, _mm256_load_si256(ap + 3)))); \
            p##t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d), _mm256_mul_ps(ws, _mm256_broadcast_ss(sa##t + c)), p##t); }
        R6(STEP)
#undef STEP
    }
#define OUT(t) if (M > t) out[t] = hsum8(p##t);
    R6(OUT)
#undef OUT
}

static void rows4(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, const float *ws, const float *wb) {
    const int nb = W->cols / DG_QB;
    for (int i = 0; i < q->n; i += 4) {
        int m = q->n - i < 4 ? q->n - i : 4;
        for (int r = r0; r < r1; r += 2) {
            /* an odd last row is computed twice (as both rows of the pair) and stored once */
            int rr = r + 1 < r1 ? r + 1 : r;
            const float *s0 = ws + (size_t)(r - r0) * nb, *s1 = ws + (size_t)(rr - r0) * nb;
            const uint8_t *w0 = W->w + (size_t)r * W->w_stride, *w1 = W->w + (size_t)rr * W->w_stride;
            float out[2][4];
            switch (m) {
            case 4: k4(w0, w1, s0, s1, q, i, 4, nb, out); break;
            case 3: k4(w0, w1, s0, s1, q, i, 3, nb, out); break;
            case 2: k4(w0, w1, s0, s1, q, i, 2, nb, out); break;
            default: k4(w0, w1, s0, s1, q, i, 1, nb, out); break;
            }
            for (int t = 0; t < m; t++) {
                const float *ss = q->ssum + (size_t)(i + t) * nb;
                Y[(size_t)(i + t) * ldy + r] = out[0][t] + dot_f(wb + (size_t)(r - r0) * nb, ss, nb);
                if (rr != r) Y[(size_t)(i + t) * ldy + rr] = out[1][t] + dot_f(wb + (size_t)(rr - r0) * nb, ss, nb);
            }
        }
    }
}

static void rows8(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, const float *ws, const float *wb) {
    const int nb = W->cols / DG_QB;
    for (int i = 0; i < q->n; i += 6) {
        int m = q->n - i < 6 ? q->n - i : 6;
        for (int r = r0; r < r1; r++) {
            const float *s0 = ws + (size_t)(r - r0) * nb;
            const uint8_t *w0 = W->w + (size_t)r * W->w_stride;
            float out[6];
            switch (m) {
            case 6: k8(w0, s0, q, i, 6, nb, out); break;
            case 5: k8(w0, s0, q, i, 5, nb, out); break;
            case 4: k8(w0, s0, q, i, 4, nb, out); break;
            case 3: k8(w0, s0, q, i, 3, nb, out); break;
            case 2: k8(w0, s0, q, i, 2, nb, out); break;
            default: k8(w0, s0, q, i, 1, nb, out); break;
            }
            for (int t = 0; t < m; t++)
                Y[(size_t)(i + t) * ldy + r] = out[t] + dot_f(wb + (size_t)(r - r0) * nb, q->ssum + (size_t)(i + t) * nb, nb);
        }
    }
}

void dg_q8_rows_avx2(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, float *wsb) {
    const int nb = W->cols / DG_QB, per = W->group / DG_QB, nr = r1 - r0;
    float *ws = wsb, *wb = wsb + (size_t)nr * nb;
    /* expand the rows' bf16 scales/biases once to one fp32 value per 64-column block */
    for (int r = 0; r < nr; r++) {
        const uint8_t *sr = W->scales + (size_t)(r0 + r) * W->sb_stride, *br = W->biases + (size_t)(r0 + r) * W->sb_stride;
        for (int c = 0; c < nb; c++) {
            ws[(size_t)r * nb + c] = dg_bf16_to_f32(dg_ld16(sr + 2 * (size_t)(c / per)));
            wb[(size_t)r * nb + c] = dg_bf16_to_f32(dg_ld16(br + 2 * (size_t)(c / per)));
        }
    }
    if (W->bits == 4) rows4(W, r0, r1, q, Y, ldy, ws, wb);
    else rows8(W, r0, r1, q, Y, ldy, ws, wb);
}
