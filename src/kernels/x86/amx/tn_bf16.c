/* The soft embedding Y = P · W (dg_gemm_tn) on AMX bf16 tiles at near-fp32 accuracy.
 *
 * Every fp32 value x is split as hi + lo, hi = bf16(x), lo = bf16(x - hi): together 16
 * significant bits, |x - hi - lo| <= 2^-17 |x|. A product is then
 *   P·W ~= Phi·Whi + Phi·Wlo + Plo·Whi,
 * three tdpbf16ps per 32-token step, accumulated in fp32 by the tile unit; the dropped Plo·Wlo
 * and the two splits leave a relative error per term of about 2^-16, below the 1e-5 that the
 * exact paths are held to (tests/test_gemm.c). No integer scales: the tile's fp32 sums are Y.
 *
 * Per panel of KB tokens, W's columns [c0, c0 + nc) are expanded (the table's exact expansion)
 * into B tiles (tile row r: tokens 2r, 2r+1 of a 32-token step as bf16 pairs for 16 columns),
 * and P's rows into A tiles (16 rows x 32 tokens, hi and lo; a group's missing rows zero).
 * The C tiles of a slice accumulate in a contiguous buffer over all panels, then go to Y. */
#include "kernels/x86/amx/amx.h"
#include "kernels/x86/amx/tiles.h"

#define AI __attribute__((always_inline)) static inline
#define KB 128          /* tokens (rows of W) per panel */
#define MAXC 1024       /* widest column slice */
#define ROWS 256        /* rows of P packed at a time */
#define TILE DG_TILE

/* Rows [0, m) of P, tokens [k0, k0 + kb) -> A tiles: (16-row group g, step s, plane hi/lo) at
 * ((g * nsteps + s) * 2 + plane) * TILE, 64 bytes per row; a group's missing rows zero. Packed
 * per panel because tile rows at P's own stride (a row per page at the real vocabulary) would
 * cost a TLB walk per row of every tile load. */
static void pack_a(const float *P, int ldp, int m, int k0, int kb, uint8_t *ap) {
    const int nsteps = kb / 32;
    for (int i = 0; i < dg_round16(m); i++) {
        uint8_t *row = ap + (size_t)(i / 16) * nsteps * 2 * TILE + (size_t)(i % 16) * 64;
        if (i < m) dg_bf16x3_row(P + (size_t)i * ldp + k0, kb, nsteps, row);
        else
            for (int s = 0; s < 2 * nsteps; s++) memset(row + (size_t)s * TILE, 0, 64);
    }
}

/* Tokens [k0, k0 + kb) of W's columns [c0, c0 + nc) -> panel: tile (step s, column tile t,
 * plane hi/lo) at ((s * ntile + t) * 2 + plane) * TILE. f: 2 * nc floats of scratch. */
static void panel(const dg_isa_table *tb, const dg_mat *W, int k0, int kb, int c0, int nc, uint8_t *pan, float *f) {
    /* bf16 pairs: position 2j <- value j of the first row, 2j + 1 <- value j of the second */
    static const uint16_t order[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                       8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i idx = _mm512_loadu_si512(order);
    const int ntile = nc / 16;
    for (int v = 0; v < kb; v += 2) {
        tb->expand(W, k0 + v, c0, nc, f);
        tb->expand(W, k0 + v + 1, c0, nc, f + nc);
        uint8_t *row = pan + (size_t)(v / 32) * ntile * 2 * TILE + (size_t)(v % 32 / 2) * 64;
        for (int t = 0; t < ntile; t++) {
            __m512i hi, lo;
            dg_split_bf16(_mm512_loadu_ps(f + 16 * t), _mm512_loadu_ps(f + nc + 16 * t), &hi, &lo);
            _mm512_store_si512(row + (size_t)t * 2 * TILE, _mm512_permutexvar_epi16(idx, hi));
            _mm512_store_si512(row + (size_t)t * 2 * TILE + TILE, _mm512_permutexvar_epi16(idx, lo));
        }
    }
}

/* C tiles (NI activation groups x ND column tiles) += the panel's steps. c: the first C tile
 * (the next column tile TILE bytes on, the next group cstride); a, astride, b, bstep: as
 * dg_bf16x3_steps (the panel's next column tile is 2 * TILE on). */
AI void block(const uint8_t *a, size_t astride, const uint8_t *b, size_t bstep, uint8_t *c, size_t cstride,
              int nsteps, int first, const int NI, const int ND) {
    uint8_t *c1 = c + cstride;
    if (first) {
        DG_TZERO(0); if (ND == 2) DG_TZERO(1);
        if (NI == 2) { DG_TZERO(2); if (ND == 2) DG_TZERO(3); }
    } else {
        DG_TLOAD(0, c, 64); if (ND == 2) DG_TLOAD(1, c + TILE, 64);
        if (NI == 2) { DG_TLOAD(2, c1, 64); if (ND == 2) DG_TLOAD(3, c1 + TILE, 64); }
    }
    dg_bf16x3_steps(a, astride, b, 2 * TILE, bstep, nsteps, NI, ND, 1);
    DG_TSTORE(0, c, 64); if (ND == 2) DG_TSTORE(1, c + TILE, 64);
    if (NI == 2) { DG_TSTORE(2, c1, 64); if (ND == 2) DG_TSTORE(3, c1 + TILE, 64); }
}

/* One panel against all ngroups packed groups, accumulating into the C tiles at cb: (group g,
 * column tile t) at (g * ntile + t) * TILE. */
static void sweep(const uint8_t *ap, int ngroups, int nsteps, const uint8_t *pan, int ntile, uint8_t *cb, int first) {
    const size_t gstride = (size_t)nsteps * 2 * TILE, bstep = (size_t)ntile * 2 * TILE, cstride = (size_t)ntile * TILE;
    for (int g = 0; g < ngroups; g += 2) {
        const uint8_t *a = ap + (size_t)g * gstride;
        int two = g + 1 < ngroups;
        for (int t = 0; t < ntile; t += 2) {
            uint8_t *c = cb + ((size_t)g * ntile + t) * TILE;
            const uint8_t *b = pan + (size_t)t * 2 * TILE;
            if (t + 1 < ntile) {
                if (two) block(a, gstride, b, bstep, c, cstride, nsteps, first, 2, 2);
                else block(a, gstride, b, bstep, c, cstride, nsteps, first, 1, 2);
            } else {
                if (two) block(a, gstride, b, bstep, c, cstride, nsteps, first, 2, 1);
                else block(a, gstride, b, bstep, c, cstride, nsteps, first, 1, 1);
            }
        }
    }
}

/* Rows of P at a time (i0), all panels: the C tiles stay in one contiguous buffer (tile loads at
 * Y's own row stride were a quarter of the time), copied to Y at the end. */
static void cols(const dg_isa_table *tb, const dg_mat *W, int c0, int nc, const float *P, int n, int ldp,
                 float *Y, int ldy, void *scratch) {
    uint8_t *pan = scratch, *ap = pan + (size_t)KB * nc * 4, *cb = ap + (size_t)KB * ROWS * 4;
    float *f = (float *)(cb + (size_t)ROWS * nc * 4);
    const int ntile = nc / 16;
    dg_tilecfg cfg;
    dg_tile_config(&cfg);
    for (int i0 = 0; i0 < n; i0 += ROWS) {
        int m = n - i0 < ROWS ? n - i0 : ROWS, ngroups = (m + 15) / 16;
        for (int k0 = 0; k0 < W->rows; k0 += KB) {
            int kb = W->rows - k0 < KB ? W->rows - k0 : KB;
            panel(tb, W, k0, kb, c0, nc, pan, f);
            pack_a(P + (size_t)i0 * ldp, ldp, m, k0, kb, ap);
            sweep(ap, ngroups, kb / 32, pan, ntile, cb, k0 == 0);
        }
        for (int i = 0; i < m; i++)
            for (int t = 0; t < ntile; t++)
                memcpy(Y + (size_t)(i0 + i) * ldy + c0 + 16 * t, cb + ((size_t)(i / 16) * ntile + t) * TILE + (size_t)(i % 16) * 64, 64);
    }
    DG_TILE_RELEASE();
}

static int serves(const dg_mat *W) { return W->rows % 32 == 0 && W->cols % 16 == 0; }

/* the W panel, the packed P rows, the C tiles, two expanded rows of W */
static size_t scratch_bytes(int nc) {
    return (size_t)KB * nc * 4 + (size_t)KB * ROWS * 4 + (size_t)ROWS * nc * 4 + 2 * (size_t)nc * sizeof(float);
}

/* Its flops count as bf16, the nominal ones of P·W: three tile products per nominal one, so its
 * share of the bf16 peak tops out at a third. */
const dg_tnpath dg_tnpath_bf16x3_amx = {
    .name = "bf16x3", .ops = DG_OPS_BF16, .max_cols = MAXC, .serves = serves, .cols = cols,
    .scratch_bytes = scratch_bytes,
};
