/* Attention's two products on bf16 tiles at near-fp32 accuracy (the bf16x3 scheme of
 * qgemm_bf16.c: every value split as bf16 hi + lo, the lo·lo product dropped), with K and V
 * packed once per layer call instead of once per task.
 *
 * One kv head's packed form, nk keys rounded up to 32 (nk32), D dims:
 *   K: 16-key blocks x steps(D) 32-dim steps x {hi, lo} B tiles (the weight layout of
 *      qgemm_bf16.c with keys as weight rows): scores = Q · Kᵀ.
 *   V: 16-dim tiles x nk32 / 32 key steps x {hi, lo} B tiles, tile row kk holding keys 2kk and
 *      2kk + 1 of the step as bf16 pairs for 16 dims: out = P · V, the reduction over keys.
 * The output runs over keys in chunks of KCH, so P's split stays in L2; its C tiles are kept in
 * the scratch between chunks. */
#include "kernels/x86/amx/amx.h"
#include "kernels/x86/amx/tiles.h"

#define AI __attribute__((always_inline)) static inline
#define TILE DG_TILE
#define KCH 1024   /* keys of P split per output chunk */

static inline int steps(int n) { return (n + 31) / 32; }
static inline int round32(int n) { return (n + 31) / 32 * 32; }
static size_t k_bytes(int nk, int D) { return (size_t)round32(nk) / 16 * steps(D) * 2 * TILE; }

static size_t kv_bytes(int nk, int D) {
    return k_bytes(nk, D) + (size_t)((D + 15) / 16) * (round32(nk) / 32) * 2 * TILE;
}

/* V rows a, b (NULL: past nk), dims [d0, d0 + 16) -> the pair rows of a hi and a lo tile */
AI void v_pair(const float *a, const float *b, int d0, int D, uint8_t *hi, uint8_t *lo) {
    static const uint16_t order[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                       8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i ilv = _mm512_loadu_si512(order);
    int k = D - d0;
    __mmask16 m = k >= 16 ? 0xffff : (__mmask16)((1u << k) - 1);
    __m512 va = a ? _mm512_maskz_loadu_ps(m, a + d0) : _mm512_setzero_ps();
    __m512 vb = b ? _mm512_maskz_loadu_ps(m, b + d0) : _mm512_setzero_ps();
    __m512i h, l;
    dg_split_bf16(va, vb, &h, &l);   /* [a's 16 | b's 16] -> (a, b) pairs */
    _mm512_store_si512(hi, _mm512_permutexvar_epi16(ilv, h));
    _mm512_store_si512(lo, _mm512_permutexvar_epi16(ilv, l));
}

static void pack(const float *K, const float *V, int nk, int D, int t0, int t1, void *kv) {
    uint8_t *kp = kv, *vp = kp + k_bytes(nk, D);
    int nsd = steps(D), nsk = round32(nk) / 32, ndt = (D + 15) / 16;
    dg_mat Km = {.kind = DG_W_F32, .rows = nk, .cols = D, .w = (const uint8_t *)K, .w_stride = (size_t)D * sizeof(float)};
    dg_bf16x3_pack_rows(&Km, t0, t1 - t0, nsd, kp + (size_t)(t0 / 16) * nsd * 2 * TILE);
    for (int s = t0 / 32; s < steps(t1); s++)
        for (int kk = 0; kk < 16; kk++) {
            int ka = 32 * s + 2 * kk;
            const float *a = ka < nk ? V + (size_t)ka * D : NULL, *b = ka + 1 < nk ? V + (size_t)(ka + 1) * D : NULL;
            for (int t = 0; t < ndt; t++) {
                uint8_t *tl = vp + ((size_t)t * nsk + s) * 2 * TILE + (size_t)kk * 64;
                v_pair(a, b, 16 * t, D, tl, tl + TILE);
            }
        }
}

/* Rows [0, n) of X (cols wide, row stride ldx) as A tiles of ns steps in a */
static void split_rows(const float *X, int ldx, int n, int cols, int ns, uint8_t *a) {
    dg_bf16x3_split_rows(X, ldx, 0, n, cols, ns, a);
    dg_bf16x3_zero_pad(a, n, ns);
}

static size_t scratch_bytes(int n, int D) {
    size_t q = (size_t)dg_round16(n) * steps(D) * 128;
    size_t o = (size_t)dg_round16(n) * ((D + 15) / 16) * 16 * sizeof(float) + (size_t)dg_round16(n) * (KCH / 32) * 128;
    return q > o ? q : o;
}

static void scores(const void *kv, int nk, int D, const float *Q, int n, float *S, int lds, void *scratch) {
    split_rows(Q, D, n, D, steps(D), scratch);
    dg_bf16x3_product(scratch, n, steps(D), kv, nk, S, lds, 1);
}

/* C tiles of (groups g, g + 1) x (dim tiles t, t + 1) += one chunk's steps; acc: [ng][ndt] tiles */
AI void chunk_block(float *acc, int ndt, int g, int t, const uint8_t *a, size_t astride, const uint8_t *b,
                    size_t bstride, int ns, int first, const int NI, const int ND) {
    float *c0 = acc + ((size_t)g * ndt + t) * 256, *c2 = c0 + (size_t)ndt * 256;
    if (first) {
        DG_TZERO(0); if (ND == 2) DG_TZERO(1);
        if (NI == 2) { DG_TZERO(2); if (ND == 2) DG_TZERO(3); }
    } else {
        DG_TLOAD(0, c0, 64); if (ND == 2) DG_TLOAD(1, c0 + 256, 64);
        if (NI == 2) { DG_TLOAD(2, c2, 64); if (ND == 2) DG_TLOAD(3, c2 + 256, 64); }
    }
    dg_bf16x3_steps(a, astride, b, bstride, 2 * TILE, ns, NI, ND, 1);
    DG_TSTORE(0, c0, 64); if (ND == 2) DG_TSTORE(1, c0 + 256, 64);
    if (NI == 2) { DG_TSTORE(2, c2, 64); if (ND == 2) DG_TSTORE(3, c2 + 256, 64); }
}

static void apply(const void *kv, int nk, int D, const float *P, int n, int ldp, float *O, void *scratch) {
    const uint8_t *vp = (const uint8_t *)kv + k_bytes(nk, D);
    int ng = (n + 15) / 16, ndt = (D + 15) / 16, nsk = round32(nk) / 32;
    float *acc = scratch;
    uint8_t *a = (uint8_t *)(acc + (size_t)ng * 16 * ndt * 16);
    size_t bstride = (size_t)nsk * 2 * TILE;
    for (int k0 = 0; k0 < nk; k0 += KCH) {
        int kc = nk - k0 < KCH ? nk - k0 : KCH, ns = steps(kc), first = k0 == 0;
        size_t astride = (size_t)ns * 2 * TILE;
        split_rows(P + k0, ldp, n, kc, ns, a);
        dg_tilecfg cfg;
        dg_tile_config(&cfg);
        for (int t = 0; t < ndt; t += 2) {
            const uint8_t *b = vp + ((size_t)t * nsk + k0 / 32) * 2 * TILE;
            int two_t = t + 1 < ndt;
            for (int g = 0; g < ng; g += 2) {
                const uint8_t *ag = a + (size_t)g * astride;
                if (g + 1 < ng && two_t) chunk_block(acc, ndt, g, t, ag, astride, b, bstride, ns, first, 2, 2);
                else if (g + 1 < ng) chunk_block(acc, ndt, g, t, ag, astride, b, bstride, ns, first, 2, 1);
                else if (two_t) chunk_block(acc, ndt, g, t, ag, astride, b, bstride, ns, first, 1, 2);
                else chunk_block(acc, ndt, g, t, ag, astride, b, bstride, ns, first, 1, 1);
            }
        }
        DG_TILE_RELEASE();
    }
    for (int i = 0; i < n; i++)
        for (int t = 0; t < ndt; t++) {
            int nc = D - 16 * t < 16 ? D - 16 * t : 16;
            memcpy(O + (size_t)i * D + 16 * t, acc + ((size_t)(i / 16) * ndt + t) * 256 + (size_t)(i % 16) * 16,
                   (size_t)nc * sizeof(float));
        }
}

const dg_attpath dg_attpath_bf16x3_amx = {
    .name = "bf16x3", .ops = DG_OPS_BF16, .kv_bytes = kv_bytes, .pack = pack, .scratch_bytes = scratch_bytes,
    .scores = scores, .apply = apply,
};
