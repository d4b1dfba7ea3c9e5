#include "format/mlx_quant.h"
#include <math.h>
#include <string.h>
#include "core/numeric.h"

int dg_affine_ok(int K, int bits, int group) {
    if (bits != 2 && bits != 3 && bits != 4 && bits != 5 && bits != 6 && bits != 8) return 0;
    /* Groups of whole bytes (g % 8 == 0) keep the packer's slices byte-aligned. */
    if (K <= 0 || group < 8 || group > 4096 || group % 8 || K % group) return 0;
    return ((int64_t)K * bits) % 32 == 0;
}

/* Truncating the low 16 bits rounds toward zero; step one pattern outward (pattern + 1 is
 * the next larger magnitude) when that lands on the wrong side. */
uint16_t dg_bf16_down(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    uint16_t h = (uint16_t)(u >> 16);
    if (dg_bf16_to_f32(h) > x) h++;     /* only for x < 0 */
    return h;
}

uint16_t dg_bf16_up(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    uint16_t h = (uint16_t)(u >> 16);
    if (dg_bf16_to_f32(h) < x) h++;     /* only for x > 0 */
    return h;
}

void dg_affine_pack(const uint8_t *codes, int K, int bits, uint8_t *out) {
    if (bits == 8) { memcpy(out, codes, (size_t)K); return; }
    if (bits == 4) {
        for (int j = 0; j < K; j += 2) out[j / 2] = (uint8_t)(codes[j] | (codes[j + 1] << 4));
        return;
    }
    size_t nb = dg_affine_row_bytes(K, bits);
    memset(out, 0, nb);
    for (int j = 0; j < K; j++) {
        size_t bit = (size_t)j * (size_t)bits;
        unsigned v = (unsigned)codes[j] << (bit & 7);
        out[bit >> 3] |= (uint8_t)v;
        if ((bit & 7) + (size_t)bits > 8) out[(bit >> 3) + 1] |= (uint8_t)(v >> 8);
    }
}

/* One group: stored bias/scale first, then codes from the stored values. Loops run in blocks
 * of 8 (g % 8 == 0) so that -O2's vectorizer takes them (no remainder loop). */
static void quant_group(const float *w, int g, float nmax, uint8_t *codes, uint16_t *sc, uint16_t *bi) {
    float mn8[8], mx8[8];
    for (int k = 0; k < 8; k++) mn8[k] = mx8[k] = w[k];
    for (int j = 8; j < g; j += 8)
        for (int k = 0; k < 8; k++) {
            mn8[k] = w[j + k] < mn8[k] ? w[j + k] : mn8[k];
            mx8[k] = w[j + k] > mx8[k] ? w[j + k] : mx8[k];
        }
    float mn = mn8[0], mx = mx8[0];
    for (int k = 1; k < 8; k++) {
        mn = mn8[k] < mn ? mn8[k] : mn;
        mx = mx8[k] > mx ? mx8[k] : mx;
    }
    uint16_t bh = dg_bf16_down(mn);
    float b = dg_bf16_to_f32(bh);
    /* (mx − b)/nmax in double, then up to the next float and the next bf16: n·s ≥ mx − b. */
    double d = ((double)mx - (double)b) / (double)nmax;
    float df = (float)d;
    if ((double)df < d) df = nextafterf(df, INFINITY);
    uint16_t sh = dg_bf16_up(df);
    float s = dg_bf16_to_f32(sh);
    *sc = sh;
    *bi = bh;
    if (!(s > 0)) { memset(codes, 0, (size_t)g); return; }
    const float inv = 1.0f / s;
    /* Round to nearest even by adding 1.5·2^23 (exact for |x| < 2^22, and x is clamped to
     * [0, nmax] first): rintf is a libm call at -O2 and dominated the run time. */
    const float magic = 12582912.0f;
    for (int j = 0; j < g; j += 8)
        for (int k = 0; k < 8; k++) {
            float x = (w[j + k] - b) * inv;
            x = x < 0.0f ? 0.0f : x > nmax ? nmax : x;
            codes[j + k] = (uint8_t)(int)((x + magic) - magic);
        }
}

void dg_affine_quantize(const float *w, int64_t rows, int K, int bits, int group,
                        uint8_t *packed, uint16_t *scales, uint16_t *biases) {
    uint8_t codes[8192];
    const float nmax = (float)((1 << bits) - 1);
    const int ng = K / group;
    const size_t rb = dg_affine_row_bytes(K, bits);
    for (int64_t r = 0; r < rows; r++) {
        const float *wr = w + (size_t)r * (size_t)K;
        uint8_t *pr = packed + (size_t)r * rb;
        uint16_t *sr = scales + (size_t)r * (size_t)ng, *br = biases + (size_t)r * (size_t)ng;
        /* Codes go through a stack buffer in slices of whole groups that pack to whole bytes. */
        int slice = (int)(sizeof codes) / group * group;
        for (int c0 = 0; c0 < K; c0 += slice) {
            int nc = K - c0 < slice ? K - c0 : slice;
            for (int g0 = 0; g0 < nc; g0 += group)
                quant_group(wr + c0 + g0, group, nmax, codes + g0, sr + (c0 + g0) / group, br + (c0 + g0) / group);
            dg_affine_pack(codes, nc, bits, pr + (size_t)c0 * (size_t)bits / 8);
        }
    }
}
