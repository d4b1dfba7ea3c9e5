/* int8 GEMM against MLX affine weights (4- or 8-bit codes, group a multiple of 64), AVX2.
 *
 * Y[i, r] = sum_blocks ws[r,g] * sa[i,b] * (q_w . q_a)_b + wb[r,g] * sa[i,b] * sum(q_a)_b
 * where b runs over 64-column blocks (g = the weight group holding b). Integer dots are exact in
 * int32; the bias term is a short fp32 dot over blocks.
 *
 * 4-bit ("lanes are blocks"): a 64-code block needs its own fp32 scaling, and with one block per
 * vector that conversion (cvt + mul + fma on 8 lanes for one scalar's worth of information) costs
 * as much as the integer work. So 8 blocks form a superblock and each 32-bit lane of a vector
 * belongs to a different block: a 512-code superblock is 16 steps of 32 bytes, lane L of step s
 * holding 4 codes of block L. _mm256_maddubs_epi16 (u8 code x s8 activation, pair sums <= 2*15*127)
 * results are summed in int16 over 8 steps (<= 30480, no saturation), widened once, and one
 * cvt + fma then scales 8 blocks at once. The weights are repacked into that layout per call and
 * block of 64 rows (unpacked nibbles, 8x8 dword transposes: ~0.2 instructions per code, paid once
 * per call and amortised over all activation rows); the activations are quantized straight into
 * it. Within a block the code order is the nibble unpack's (low nibbles = even codes, then high
 * nibbles = odd codes); only the pairing of code and activation matters. Register block: 1 weight
 * row x 6 activation rows (6 fp32 + 6 int16 accumulators).
 * 8-bit: the same superblock layout (codes in natural order, no unpack). u8 x s8 pair sums
 * could reach 2*255*127 > 32767 and saturate, so each activation code is split as 16 hi + lo
 * (both in [-8, 8]), two planes each dotted by maddubs (exact), recombined in int32. Register
 * block: 1 x 4. Twice the multiplies of 4-bit; dg_gemm uses it only on request (gemm.c). */
#include <immintrin.h>
#include <math.h>
#include <string.h>
#include "core/numeric.h"
#include "kernels/x86/avx2/avx2.h"
#include "kernels/x86/avx2/simd.h"

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

/* Byte offset of code c of a block inside its 4-bit-layout superblock, block lane 0 (see the
 * header): code c sits in step (c & 1) * 8 + c / 8, byte (c % 8) / 2 of the block's dword. */
#define Q4(c) (((c) & 1) * 256 + ((c) >> 3) * 32 + (((c) & 7) >> 1))
#define Q4x8(c) Q4(c), Q4(c + 1), Q4(c + 2), Q4(c + 3), Q4(c + 4), Q4(c + 5), Q4(c + 6), Q4(c + 7)
static const uint16_t q4_off[DG_QB] = {Q4x8(0), Q4x8(8), Q4x8(16), Q4x8(24), Q4x8(32), Q4x8(40), Q4x8(48), Q4x8(56)};
#undef Q4x8
#undef Q4
/* 8-bit layout: code c of a block in step c / 4, byte c % 4 of the block's dword. */
#define Q8(c) (((c) >> 2) * 32 + ((c) & 3))
#define Q8x8(c) Q8(c), Q8(c + 1), Q8(c + 2), Q8(c + 3), Q8(c + 4), Q8(c + 5), Q8(c + 6), Q8(c + 7)
static const uint16_t q8_off[DG_QB] = {Q8x8(0), Q8x8(8), Q8x8(16), Q8x8(24), Q8x8(32), Q8x8(40), Q8x8(48), Q8x8(56)};
#undef Q8x8
#undef Q8
static inline size_t q4_base(int b) { return (size_t)(b >> 3) * 512 + (size_t)(b & 7) * 4; }

static void quantize8(const dg_qact *q, const float *X, int ldx, int i0, int i1) {
    const int nb = q->cols / DG_QB;
    for (int i = i0; i < i1; i++) {
        const float *x = X + (size_t)i * ldx;
        uint8_t *qr = q->q + (size_t)i * q->row_bytes;
        float *sc = q->scale + (size_t)i * q->nblocks, *ss = q->ssum + (size_t)i * q->nblocks;
        for (int b = 0; b < nb; b++) {
            const float *xb = x + (size_t)b * DG_QB;
            int32_t qi[DG_QB];
            const float s = dg_quant_block_avx2(xb, 127.0f, qi);
            int sum = 0;
            for (int j = 0; j < DG_QB; j++) sum += qi[j];
            if (q->bits == 4) {
                uint8_t *d = qr + q4_base(b);
                for (int j = 0; j < DG_QB; j++) d[q4_off[j]] = (uint8_t)(int8_t)qi[j];
            } else {   /* q = 16 hi + lo with hi in [-8, 8], lo in [-8, 7] */
                uint8_t *dh = qr + q4_base(b), *dl = dh + (size_t)q->nblocks * DG_QB;
                for (int j = 0; j < DG_QB; j++) {
                    int hi = (qi[j] + 8) >> 4;   /* arithmetic shift: floor */
                    dh[q8_off[j]] = (uint8_t)(int8_t)hi;
                    dl[q8_off[j]] = (uint8_t)(int8_t)(qi[j] - 16 * hi);
                }
            }
            sc[b] = s;
            ss[b] = s * (float)sum;
        }
        for (int b = nb; b < q->nblocks; b++) {   /* padding: zero codes and scales */
            sc[b] = ss[b] = 0.0f;
            for (int j = 0; j < DG_QB; j++) {
                qr[q4_base(b) + j / 4 * 32 + j % 4] = 0;
                if (q->bits == 8) qr[(size_t)q->nblocks * DG_QB + q4_base(b) + j / 4 * 32 + j % 4] = 0;
            }
        }
    }
}

/* Accumulators and row pointers are named variables (not arrays, which GCC -O2 would keep in
 * memory); rows >= M are dead code after inlining. */
#define R4(X) X(0) X(1) X(2) X(3)
#define R6(X) X(0) X(1) X(2) X(3) X(4) X(5)

/* 4-bit: repacked row w (nsb superblocks; scales ws per block) against M activation rows from i. */
AI void k4(const uint8_t *w, const float *ws, const dg_qact *q, int i, const int M, int nsb, float out[6]) {
    const __m256i ones = _mm256_set1_epi16(1);
#define DECL(t) __m256 f##t = _mm256_setzero_ps(); __m256i p##t; \
    const int8_t *a##t = (const int8_t *)(q->q + (size_t)(i + (M > t ? t : 0)) * q->row_bytes); \
    const float *sa##t = q->scale + (size_t)(i + (M > t ? t : 0)) * q->nblocks;
    R6(DECL)
#undef DECL
    for (int S = 0; S < nsb; S++) {
        const __m256i *wv = (const __m256i *)(w + (size_t)S * 512);
#pragma GCC unroll 2
        for (int h = 0; h < 2; h++) {   /* two halves of 8 steps: int16 sums stay <= 8*3810 */
#define ZERO(t) p##t = _mm256_setzero_si256();
            R6(ZERO)
#undef ZERO
            /* unrolled: the rolled loop spends a register move per accumulator and step, and
             * this kernel is bound by instruction throughput */
#pragma GCC unroll 8
            for (int s = 8 * h; s < 8 * h + 8; s++) {
                __m256i wq = _mm256_load_si256(wv + s);
#define STEP(t) if (M > t) p##t = _mm256_add_epi16(p##t, _mm256_maddubs_epi16(wq, \
                    _mm256_load_si256((const __m256i *)(a##t + (size_t)S * 512 + (size_t)s * 32))));
                R6(STEP)
#undef STEP
                /* keep each step's add in its chain: GCC otherwise re-associates the 8 steps
                 * into a tree whose partial sums spill to the stack */
#define PIN(t) if (M > t) __asm__("" : "+x"(p##t));
                R6(PIN)
#undef PIN
            }
            __m256 w8 = _mm256_load_ps(ws + (size_t)S * 8);
#define FOLD(t) if (M > t) f##t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_madd_epi16(p##t, ones)), \
                    _mm256_mul_ps(w8, _mm256_load_ps(sa##t + (size_t)S * 8)), f##t);
            R6(FOLD)
#undef FOLD
        }
    }
#define OUT(t) if (M > t) out[t] = hsum8(f##t);
    R6(OUT)
#undef OUT
}

/* 8-bit: repacked row w against M <= 4 activation rows from i. Codes are u8 (0..255), so
 * u8 x s8 pair sums with full int8 activations could saturate int16; the activations are split
 * into q = 16 hi + lo (both in [-8, 8]), each plane dotted with maddubs (pair sums <= 2*255*8,
 * eight steps <= 32640, exact), then combined as 16 * hi + lo in int32. */
AI void k8(const uint8_t *w, const float *ws, const dg_qact *q, int i, const int M, int nsb, float out[4]) {
    const __m256i ones = _mm256_set1_epi16(1), sixteen = _mm256_set1_epi16(16);
    const size_t plane = (size_t)q->nblocks * DG_QB;
#define DECL(t) __m256 f##t = _mm256_setzero_ps(); __m256i h##t, l##t; \
    const int8_t *a##t = (const int8_t *)(q->q + (size_t)(i + (M > t ? t : 0)) * q->row_bytes); \
    const float *sa##t = q->scale + (size_t)(i + (M > t ? t : 0)) * q->nblocks;
    R4(DECL)
#undef DECL
    for (int S = 0; S < nsb; S++) {
        const __m256i *wv = (const __m256i *)(w + (size_t)S * 512);
#pragma GCC unroll 2
        for (int hf = 0; hf < 2; hf++) {
#define ZERO(t) h##t = l##t = _mm256_setzero_si256();
            R4(ZERO)
#undef ZERO
#pragma GCC unroll 8
            for (int s = 8 * hf; s < 8 * hf + 8; s++) {
                __m256i wq = _mm256_load_si256(wv + s);
#define STEP(t) if (M > t) { \
                    const int8_t *ap = a##t + (size_t)S * 512 + (size_t)s * 32; \
                    h##t = _mm256_add_epi16(h##t, _mm256_maddubs_epi16(wq, _mm256_load_si256((const __m256i *)ap))); \
                    l##t = _mm256_add_epi16(l##t, _mm256_maddubs_epi16(wq, _mm256_load_si256((const __m256i *)(ap + plane)))); \
                    __asm__("" : "+x"(h##t), "+x"(l##t)); }
                R4(STEP)
#undef STEP
            }
            __m256 w8 = _mm256_load_ps(ws + (size_t)S * 8);
#define FOLD(t) if (M > t) f##t = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_add_epi32(_mm256_madd_epi16(h##t, sixteen), \
                    _mm256_madd_epi16(l##t, ones))), _mm256_mul_ps(w8, _mm256_load_ps(sa##t + (size_t)S * 8)), f##t);
            R4(FOLD)
#undef FOLD
        }
    }
#define OUT(t) if (M > t) out[t] = hsum8(f##t);
    R4(OUT)
#undef OUT
}

/* 8x8 dword transpose: v[0..7] (block L's 8 dwords) -> d[s] (step s: dword s of every block). */
static inline void tr8i(const __m256i v[8], __m256i *d) {
    __m256 r[8];
    for (int t = 0; t < 8; t++) r[t] = _mm256_castsi256_ps(v[t]);
    dg_transpose8_avx2(r);
    for (int t = 0; t < 8; t++) _mm256_store_si256(d + t, _mm256_castps_si256(r[t]));
}

/* One row's 4-bit codes -> nsb superblocks of 16 x 32 bytes (missing blocks zero). */
static void repack4(const uint8_t *row, int nb, int nsb, uint8_t *out) {
    const __m256i m4 = _mm256_set1_epi8(0x0f);
    for (int S = 0; S < nsb; S++) {
        __m256i lo[8], hi[8];
        for (int L = 0; L < 8; L++) {
            int b = 8 * S + L;
            __m256i v = b < nb ? _mm256_loadu_si256((const __m256i *)(row + (size_t)b * 32)) : _mm256_setzero_si256();
            lo[L] = _mm256_and_si256(v, m4);
            hi[L] = _mm256_and_si256(_mm256_srli_epi16(v, 4), m4);
        }
        __m256i *d = (__m256i *)(out + (size_t)S * 512);
        tr8i(lo, d);
        tr8i(hi, d + 8);
    }
}

/* One row's 8-bit codes -> nsb superblocks of 16 x 32 bytes (missing blocks zero). */
static void repack8(const uint8_t *row, int nb, int nsb, uint8_t *out) {
    for (int S = 0; S < nsb; S++) {
        __m256i lo[8], hi[8];
        for (int L = 0; L < 8; L++) {
            int b = 8 * S + L;
            lo[L] = b < nb ? _mm256_loadu_si256((const __m256i *)(row + (size_t)b * 64)) : _mm256_setzero_si256();
            hi[L] = b < nb ? _mm256_loadu_si256((const __m256i *)(row + (size_t)b * 64 + 32)) : _mm256_setzero_si256();
        }
        __m256i *d = (__m256i *)(out + (size_t)S * 512);
        tr8i(lo, d);
        tr8i(hi, d + 8);
    }
}

void dg_repack8_avx2(const uint8_t *row, int bits, int nb, int nsb, uint8_t *out) {
    if (bits == 4) repack4(row, nb, nsb, out);
    else repack8(row, nb, nsb, out);
}

static void rows4(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy,
                  const float *ws, const float *wb, uint8_t *rp) {
    const int nbp = q->nblocks, nsb = nbp / 8, nr = r1 - r0;
    for (int r = 0; r < nr; r++) dg_repack8_avx2(W->w + (size_t)(r0 + r) * W->w_stride, 4, W->cols / DG_QB, nsb, rp + (size_t)r * nsb * 512);
    for (int i = 0; i < q->n; i += 6) {
        int m = q->n - i < 6 ? q->n - i : 6;
        for (int r = 0; r < nr; r++) {
            const uint8_t *w = rp + (size_t)r * nsb * 512;
            const float *s0 = ws + (size_t)r * nbp;
            float out[6];
            switch (m) {
            case 6: k4(w, s0, q, i, 6, nsb, out); break;
            case 5: k4(w, s0, q, i, 5, nsb, out); break;
            case 4: k4(w, s0, q, i, 4, nsb, out); break;
            case 3: k4(w, s0, q, i, 3, nsb, out); break;
            case 2: k4(w, s0, q, i, 2, nsb, out); break;
            default: k4(w, s0, q, i, 1, nsb, out); break;
            }
            for (int t = 0; t < m; t++)
                Y[(size_t)(i + t) * ldy + r0 + r] = out[t] + dot_f(wb + (size_t)r * nbp, q->ssum + (size_t)(i + t) * nbp, nbp);
        }
    }
}

#define I8 4   /* activation rows per 8-bit register block */
static void rows8(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy,
                  const float *ws, const float *wb, uint8_t *rp) {
    const int nbp = q->nblocks, nsb = nbp / 8, nr = r1 - r0;
    for (int r = 0; r < nr; r++) dg_repack8_avx2(W->w + (size_t)(r0 + r) * W->w_stride, 8, W->cols / DG_QB, nsb, rp + (size_t)r * nsb * 512);
    for (int i = 0; i < q->n; i += I8) {
        int m = q->n - i < I8 ? q->n - i : I8;
        for (int r = 0; r < nr; r++) {
            const uint8_t *w = rp + (size_t)r * nsb * 512;
            const float *s0 = ws + (size_t)r * nbp;
            float out[4];
            switch (m) {
            case 4: k8(w, s0, q, i, 4, nsb, out); break;
            case 3: k8(w, s0, q, i, 3, nsb, out); break;
            case 2: k8(w, s0, q, i, 2, nsb, out); break;
            default: k8(w, s0, q, i, 1, nsb, out); break;
            }
            for (int t = 0; t < m; t++)
                Y[(size_t)(i + t) * ldy + r0 + r] = out[t] + dot_f(wb + (size_t)r * nbp, q->ssum + (size_t)(i + t) * nbp, nbp);
        }
    }
}

static void rows_q8(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch) {
    float *wsb = scratch;
    const int nbp = q->nblocks, nr = r1 - r0;
    float *ws = wsb, *wb = wsb + (size_t)nr * nbp;
    dg_lane_scales16_avx2(W, r0, nr, nbp, ws, wb);   /* lane L = block L */
    uint8_t *rp = (uint8_t *)(wb + (size_t)nr * nbp);
    if (W->bits == 4) rows4(W, r0, r1, q, Y, ldy, ws, wb, rp);
    else rows8(W, r0, r1, q, Y, ldy, ws, wb, rp);
}

/* ---- the path's entry in the avx2 table ---- */

static int chosen8(const dg_mat *W) { return dg_affine_blocked(W) && W->bits == 4; }
/* 8-bit weights take int16 codes (the hi and lo planes), 4-bit ones int8 */
static size_t act_bytes8(int n, int cols) { return dg_qact_blocked_bytes(n, cols, 2); }
static void act_init8(dg_qact *q, void *buf, int n, const dg_mat *W) {
    dg_qact_blocked_init(q, buf, n, W->cols, W->bits, W->bits == 8 ? 2 : 1);
}
/* fp32 scales and biases of DG_QNB rows per block + those rows' 4-bit codes repacked as bytes */
static size_t scratch8(int cols) {
    size_t nbp = (size_t)dg_qblocks(cols);
    return 2 * DG_QNB * nbp * sizeof(float) + DG_QNB * nbp * DG_QB;
}

/* The 8-bit int8 kernel (~15% over the fp32 path) is not worth its error as a default. */
const dg_qpath dg_qpath_int8_avx2 = {
    .name = "int8", .ops = DG_OPS_INT8, .lossy = 1, .serves = dg_affine_blocked, .chosen = chosen8,
    .act_bytes = act_bytes8, .act_init = act_init8, .quantize = quantize8, .rows = rows_q8,
    .scratch_bytes = scratch8,
};
