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

#endif
