/* What the AMX kernels share: the tile configuration (all eight tiles 16 rows x 64 bytes), the
 * tile instructions as asm with memory clobbers (GCC 12 has no usable intrinsics for them; the
 * clobbers keep the compiler from moving scratch stores and loads across them), and the split
 * of fp32 values into two bf16 for the bf16x3 kernels. */
#ifndef DG_KERNELS_AMX_TILES_H
#define DG_KERNELS_AMX_TILES_H
#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#define DG_TILE 1024   /* bytes of one tile */

typedef struct {
    uint8_t palette, start_row, pad0[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} __attribute__((aligned(64))) dg_tilecfg;

/* Loads a configuration of all eight tiles at 16 rows x 64 bytes (c: caller's storage, which
 * the asm reads). */
static inline void dg_tile_config(dg_tilecfg *c) {
    memset(c, 0, sizeof *c);
    c->palette = 1;
    for (int t = 0; t < 8; t++) c->colsb[t] = 64, c->rows[t] = 16;
    __asm__ volatile("ldtilecfg %0" ::"m"(*c) : "memory");
}

#define DG_TILE_RELEASE() __asm__ volatile("tilerelease" ::: "memory")
#define DG_TZERO(t) __asm__ volatile("tilezero %%tmm" #t ::: "memory")
#define DG_TLOAD(t, p, s) __asm__ volatile("tileloadd (%0,%1,1), %%tmm" #t ::"r"(p), "r"((long)(s)) : "memory")
#define DG_TSTORE(t, p, s) __asm__ volatile("tilestored %%tmm" #t ", (%0,%1,1)" ::"r"(p), "r"((long)(s)) : "memory")
/* C += A . B in fp32 over bf16 pairs */
#define DG_TDPBF16(c, a, b) __asm__ volatile("tdpbf16ps %%tmm" #b ", %%tmm" #a ", %%tmm" #c ::: "memory")

/* 16 bf16 (ymm) -> fp32 */
static inline __attribute__((always_inline)) __m512 dg_bf16x16_f32(__m256i h) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/* 32 floats (a: the first 16) -> hi = bf16 of each (in order), lo = bf16 of what hi leaves:
 * hi + lo holds 16 significant bits, |x - hi - lo| <= 2^-17 |x|. */
static inline __attribute__((always_inline)) void dg_split_bf16(__m512 a, __m512 b, __m512i *hi, __m512i *lo) {
    __m512i h = (__m512i)_mm512_cvtne2ps_pbh(b, a);
    __m512 ra = _mm512_sub_ps(a, dg_bf16x16_f32(_mm512_castsi512_si256(h)));
    __m512 rb = _mm512_sub_ps(b, dg_bf16x16_f32(_mm512_extracti64x4_epi64(h, 1)));
    *hi = h;
    *lo = (__m512i)_mm512_cvtne2ps_pbh(rb, ra);
}

static inline int dg_round16(int n) { return (n + 15) / 16 * 16; }

/* x[c .. c + 32) as two vectors, zero past n (the row's length) */
static inline __attribute__((always_inline)) void dg_load32(const float *x, int c, int n, __m512 *a, __m512 *b) {
    int k = n - c;
    __mmask16 ma = k >= 16 ? 0xffff : (__mmask16)((1u << (k > 0 ? k : 0)) - 1);
    __mmask16 mb = k >= 32 ? 0xffff : (__mmask16)((1u << (k > 16 ? k - 16 : 0)) - 1);
    *a = _mm512_maskz_loadu_ps(ma, x + c);
    *b = _mm512_maskz_loadu_ps(mb, x + c + 16);
}

/* One row of an A-tile layout for the bf16x3 kernels: x[0 .. n) (zero past n) in nsteps steps
 * of 32, step s's hi half at row + s * 2 * DG_TILE and its lo half DG_TILE further. */
static inline __attribute__((always_inline)) void dg_bf16x3_row(const float *x, int n, int nsteps, uint8_t *row) {
    for (int s = 0; s < nsteps; s++) {
        __m512 a, b;
        __m512i hi, lo;
        dg_load32(x, 32 * s, n, &a, &b);
        dg_split_bf16(a, b, &hi, &lo);
        _mm512_store_si512(row + (size_t)s * 2 * DG_TILE, hi);
        _mm512_store_si512(row + (size_t)s * 2 * DG_TILE + DG_TILE, lo);
    }
}

/* C tiles tmm0..3 (NI activation tile groups x ND column tiles; zeroed or loaded by the caller)
 * += nsteps 32-deep steps of Ahi·Bhi + Ahi·Blo (WLO: B has a lo plane) + Alo·Bhi, through tmm4/5
 * (A) and tmm6/7 (B). a: the first group's hi tile of step 0 (lo DG_TILE on, the next group
 * astride on, the next step 2 * DG_TILE on); b: the first column tile's hi tile of step 0 (lo
 * DG_TILE on, the next column tile bstride on, the next step bstep on). */
#define DG_DP4 { DG_TDPBF16(0, 4, 6); if (ND == 2) DG_TDPBF16(1, 4, 7); \
                 if (NI == 2) { DG_TDPBF16(2, 5, 6); if (ND == 2) DG_TDPBF16(3, 5, 7); } }
static inline __attribute__((always_inline)) void dg_bf16x3_steps(const uint8_t *a, size_t astride, const uint8_t *b,
                                                                   size_t bstride, size_t bstep, int nsteps,
                                                                   const int NI, const int ND, const int WLO) {
    const uint8_t *a1 = a + astride;
    for (int s = 0; s < nsteps; s++, a += 2 * DG_TILE, a1 += 2 * DG_TILE, b += bstep) {
        const uint8_t *b1 = b + bstride;
        DG_TLOAD(4, a, 64); if (NI == 2) DG_TLOAD(5, a1, 64);                               /* A hi */
        DG_TLOAD(6, b, 64); if (ND == 2) DG_TLOAD(7, b1, 64);                               /* B hi */
        DG_DP4
        if (WLO) {
            DG_TLOAD(6, b + DG_TILE, 64); if (ND == 2) DG_TLOAD(7, b1 + DG_TILE, 64);         /* B lo */
            DG_DP4
            DG_TLOAD(6, b, 64); if (ND == 2) DG_TLOAD(7, b1, 64);                           /* B hi */
        }
        DG_TLOAD(4, a + DG_TILE, 64); if (NI == 2) DG_TLOAD(5, a1 + DG_TILE, 64);             /* A lo */
        DG_DP4
    }
}
#undef DG_DP4

#endif
