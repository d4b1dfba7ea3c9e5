/* Y = X · Wᵀ for fp32 and bf16 weights (attention's K and Vᵀ, HF bf16 checkpoints) on AMX bf16
 * tiles at near-fp32 accuracy: the scheme of tn_bf16.c. X is split as hi + lo bf16 (the
 * "activation layout"); fp32 W too, bf16 W is its own hi with no lo. Per 32 columns:
 *   Xhi·Whi + Xhi·Wlo + Xlo·Whi   (bf16 W: Xhi·W + Xlo·W, exact but for X's 2^-17 split)
 * accumulated in fp32 by the tiles over the whole row, no per-block fold.
 *
 * Activation layout: 16-row groups; group g, step s (32 columns), plane hi/lo is one A tile at
 * q + ((g * nsteps + s) * 2 + plane) * 1 KiB (16 rows x 64 bytes); columns past cols and the
 * last group's missing rows are zero. Weight rows are repacked per call of `rows` into B tiles:
 * (row tile t, step s, plane) at ((t * nsteps + s) * 2 + plane) * 1 KiB, tile row kk holding
 * columns 2kk, 2kk+1 of the step as bf16 pairs for 16 weight rows. */
#include "kernels/x86/amx/amx.h"
#include "kernels/x86/amx/tiles.h"

#define AI __attribute__((always_inline)) static inline
#define TILE DG_TILE

static inline int steps(int cols) { return (cols + 31) / 32; }

static size_t act_bytes(int n, int cols) { return (size_t)dg_round16(n) * steps(cols) * 128; }

static void act_init(dg_qact *q, void *buf, int n, const dg_mat *W) {
    memset(q, 0, sizeof *q);
    q->n = n;
    q->cols = W->cols;
    q->nblocks = steps(W->cols);
    q->q = buf;
    dg_bf16x3_zero_pad(q->q, n, q->nblocks);
}

void dg_bf16x3_zero_pad(uint8_t *a, int n, int ns) {
    if (n % 16 == 0) return;
    uint8_t *g = a + (size_t)(n / 16) * ns * 2 * TILE;
    for (int t = 0; t < 2 * ns; t++) memset(g + (size_t)t * TILE + (size_t)(n % 16) * 64, 0, (size_t)(16 - n % 16) * 64);
}

void dg_bf16x3_split_rows(const float *X, int ldx, int i0, int i1, int cols, int ns, uint8_t *a) {
    for (int i = i0; i < i1; i++)
        dg_bf16x3_row(X + (size_t)i * ldx, cols, ns, a + (size_t)(i / 16) * ns * 2 * TILE + (size_t)(i % 16) * 64);
}

static void quantize(const dg_qact *q, const float *X, int ldx, int i0, int i1) {
    dg_bf16x3_split_rows(X, ldx, i0, i1, q->cols, q->nblocks, q->q);
}

/* Weight rows [r0, r0 + nr) (missing rows of the last tile zero) -> B tiles in rp.
 * A row's 32 values of a step are 16 bf16 pairs: pair kk goes to tile row kk, column n. */
void dg_bf16x3_pack_rows(const dg_mat *W, int r0, int nr, int ns, uint8_t *rp) {
    const __m512i rowoff = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                              _mm512_set1_epi32(64));
    for (int r = 0; r < dg_round16(nr); r++) {
        uint8_t *t0 = rp + (size_t)(r / 16) * ns * 2 * TILE + (size_t)(r % 16) * 4;
        const uint8_t *w = W->w + (size_t)(r0 + r) * W->w_stride;
        for (int s = 0; s < ns; s++) {
            __m512i hi, lo;
            if (r >= nr) {
                hi = lo = _mm512_setzero_si512();
            } else if (W->kind == DG_W_BF16) {   /* the codes are hi; no lo plane is read */
                int n = W->cols - 32 * s;
                __mmask32 m = n >= 32 ? 0xffffffffu : (__mmask32)((1u << n) - 1);
                hi = _mm512_maskz_loadu_epi16(m, w + (size_t)64 * s);
                lo = _mm512_setzero_si512();
            } else {
                __m512 a, b;
                dg_load32((const float *)w, 32 * s, W->cols, &a, &b);
                dg_split_bf16(a, b, &hi, &lo);
            }
            uint8_t *t = t0 + (size_t)s * 2 * TILE;
            _mm512_i32scatter_epi32(t, rowoff, hi, 1);
            if (W->kind != DG_W_BF16) _mm512_i32scatter_epi32(t + TILE, rowoff, lo, 1);
        }
    }
}

/* C tiles tmm0..3 = (group g, g + 1) x (row tile t, t + 1) over all steps; a: group g's step-0
 * hi tile (g + 1 at astride), b: row tile t's (t + 1 at bstride). */
AI void block(const uint8_t *a, size_t astride, const uint8_t *b, size_t bstride, int ns, const int NI, const int ND,
              const int WLO) {
    DG_TZERO(0); if (ND == 2) DG_TZERO(1);
    if (NI == 2) { DG_TZERO(2); if (ND == 2) DG_TZERO(3); }
    dg_bf16x3_steps(a, astride, b, bstride, 2 * TILE, ns, NI, ND, WLO);
}

/* C tile (activation rows 16g.., weight rows r..) from cbuf into Y, the rows and columns that exist */
static void put(const float *c, int g, int r, int n, int nr, float *Y, int ldy) {
    int ni = n - 16 * g < 16 ? n - 16 * g : 16, nc = nr - r < 16 ? nr - r : 16;
    for (int i = 0; i < ni; i++) memcpy(Y + (size_t)(16 * g + i) * ldy + r, c + 16 * i, (size_t)nc * sizeof(float));
}

AI void product(const uint8_t *a, int n, int ns, const uint8_t *b0, int nr, float *Y, int ldy, const int WLO) {
    const int ng = (n + 15) / 16, nt = (nr + 15) / 16;
    const size_t stride = (size_t)ns * 2 * TILE;
    float cb[4][256] __attribute__((aligned(64)));
    dg_tilecfg cfg;
    dg_tile_config(&cfg);
    for (int t = 0; t < nt; t += 2) {
        const uint8_t *b = b0 + (size_t)t * stride;
        int two_t = t + 1 < nt;
        for (int g = 0; g < ng; g += 2) {
            const uint8_t *ag = a + (size_t)g * stride;
            int two_g = g + 1 < ng;
            if (two_g && two_t) block(ag, stride, b, stride, ns, 2, 2, WLO);
            else if (two_g) block(ag, stride, b, stride, ns, 2, 1, WLO);
            else if (two_t) block(ag, stride, b, stride, ns, 1, 2, WLO);
            else block(ag, stride, b, stride, ns, 1, 1, WLO);
            DG_TSTORE(0, cb[0], 64); if (two_t) DG_TSTORE(1, cb[1], 64);
            if (two_g) { DG_TSTORE(2, cb[2], 64); if (two_t) DG_TSTORE(3, cb[3], 64); }
            put(cb[0], g, 16 * t, n, nr, Y, ldy);
            if (two_t) put(cb[1], g, 16 * (t + 1), n, nr, Y, ldy);
            if (two_g) {
                put(cb[2], g + 1, 16 * t, n, nr, Y, ldy);
                if (two_t) put(cb[3], g + 1, 16 * (t + 1), n, nr, Y, ldy);
            }
        }
    }
    DG_TILE_RELEASE();
}

void dg_bf16x3_product(const uint8_t *a, int n, int ns, const uint8_t *b, int nr, float *Y, int ldy, int wlo) {
    if (wlo) product(a, n, ns, b, nr, Y, ldy, 1);
    else product(a, n, ns, b, nr, Y, ldy, 0);
}

static void rows(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch) {
    dg_bf16x3_pack_rows(W, r0, r1 - r0, q->nblocks, scratch);
    dg_bf16x3_product(q->q, q->n, q->nblocks, scratch, r1 - r0, Y + r0, ldy, W->kind != DG_W_BF16);
}

static size_t scratch_bytes(int cols) { return (size_t)DG_QNB * steps(cols) * 2 * 64; }

static int serves(const dg_mat *W) { return W->kind == DG_W_F32 || W->kind == DG_W_BF16; }

const dg_qpath dg_qpath_bf16x3_amx = {
    .name = "bf16x3", .ops = DG_OPS_BF16, .lossy = 0, .serves = serves, .chosen = serves,
    .act_bytes = act_bytes, .act_init = act_init, .quantize = quantize, .rows = rows,
    .scratch_bytes = scratch_bytes,
};
