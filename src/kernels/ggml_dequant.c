#include "kernels/ggml_dequant.h"
#include <string.h>
#include "core/ggml_type.h"
#include "core/numeric.h"

static float h(const uint8_t *p) { return dg_f16_to_f32(dg_ld16(p)); }

/* IQ4_NL / IQ4_XS code book. */
const int8_t dg_iq4_table[16] = {-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113};

/* ---- 32-weight blocks: weight j < 16 is the low nibble of qs[j], weight j + 16 the high one. */

static void q4_0(const uint8_t *b, float *y) {
    float d = h(b);
    for (int j = 0; j < 16; j++) {
        y[j] = d * (float)((b[2 + j] & 15) - 8);
        y[j + 16] = d * (float)((b[2 + j] >> 4) - 8);
    }
}

static void q4_1(const uint8_t *b, float *y) {
    float d = h(b), m = h(b + 2);
    for (int j = 0; j < 16; j++) {
        y[j] = d * (float)(b[4 + j] & 15) + m;
        y[j + 16] = d * (float)(b[4 + j] >> 4) + m;
    }
}

/* Q5: bit j of the u32 qh is the fifth bit of weight j. */
static void q5(const uint8_t *qh4, const uint8_t *qs, float d, float m, int offset, float *y) {
    uint32_t qh = dg_ld32(qh4);
    for (int j = 0; j < 16; j++) {
        int lo = (qs[j] & 15) | (int)((qh >> j) & 1) << 4, hi = (qs[j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
        y[j] = d * (float)(lo - offset) + m;
        y[j + 16] = d * (float)(hi - offset) + m;
    }
}

static void q5_0(const uint8_t *b, float *y) { q5(b + 2, b + 6, h(b), 0.0f, 16, y); }
static void q5_1(const uint8_t *b, float *y) { q5(b + 4, b + 8, h(b), h(b + 2), 0, y); }

static void q8_0(const uint8_t *b, float *y) {
    float d = h(b);
    for (int j = 0; j < 32; j++) y[j] = d * (float)(int8_t)b[2 + j];
}

static void iq4_nl_block(const uint8_t *qs, float d, float *y) {
    for (int j = 0; j < 16; j++) {
        y[j] = d * (float)dg_iq4_table[qs[j] & 15];
        y[j + 16] = d * (float)dg_iq4_table[qs[j] >> 4];
    }
}

static void iq4_nl(const uint8_t *b, float *y) { iq4_nl_block(b + 2, h(b), y); }

/* ---- 256-weight super-blocks */

/* Q4_K / Q5_K: 6-bit scale and min of sub-block s from scales[12]. */
void dg_k_scale_min(const uint8_t *sc, int s, int *scale, int *min) {
    if (s < 4) {
        *scale = sc[s] & 63;
        *min = sc[s + 4] & 63;
    } else {
        *scale = (sc[s + 4] & 15) | ((sc[s - 4] >> 6) << 4);
        *min = (sc[s + 4] >> 4) | ((sc[s] >> 6) << 4);
    }
}

/* Four chunks of 64: bytes qs[32c..] give sub-block 2c (low nibbles) and 2c+1 (high); qh (Q5_K
 * only) adds bit 2c resp. 2c+1 of qh[l] as the fifth bit. */
static void q45_k(const uint8_t *b, const uint8_t *qh, const uint8_t *qs, float *y) {
    float d = h(b), dmin = h(b + 2);
    for (int c = 0; c < 4; c++)
        for (int half = 0; half < 2; half++) {
            int s = 2 * c + half, sc, mn;
            dg_k_scale_min(b + 4, s, &sc, &mn);
            float ds = d * (float)sc, dm = dmin * (float)mn;
            for (int l = 0; l < 32; l++) {
                int q = half ? qs[32 * c + l] >> 4 : qs[32 * c + l] & 15;
                if (qh) q |= ((qh[l] >> s) & 1) << 4;
                y[64 * c + 32 * half + l] = ds * (float)q - dm;
            }
        }
}

static void q4_k(const uint8_t *b, float *y) { q45_k(b, NULL, b + 16, y); }
static void q5_k(const uint8_t *b, float *y) { q45_k(b, b + 16, b + 48, y); }

/* Q6_K: two halves of 128; in half hf, for l < 32: weights l and l + 64 are the low and high
 * nibbles of ql[l], weights l + 32 and l + 96 those of ql[l + 32]; bit pairs 0, 2, 4, 6 of qh[l]
 * are their high bits; int8 scales per 16 weights; code − 32. */
static void q6_k(const uint8_t *b, float *y) {
    float d = h(b + 208);
    for (int hf = 0; hf < 2; hf++) {
        const uint8_t *ql = b + 64 * hf, *qh = b + 128 + 32 * hf;
        const int8_t *sc = (const int8_t *)(b + 192 + 8 * hf);
        float *o = y + 128 * hf;
        for (int l = 0; l < 32; l++) {
            int is = l / 16;
            int q1 = ((ql[l] & 15) | ((qh[l] & 3) << 4)) - 32;
            int q2 = ((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32;
            int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            o[l] = d * (float)sc[is] * (float)q1;
            o[l + 32] = d * (float)sc[is + 2] * (float)q2;
            o[l + 64] = d * (float)sc[is + 4] * (float)q3;
            o[l + 96] = d * (float)sc[is + 6] * (float)q4;
        }
    }
}

/* Q2_K: scales[16] (low nibble scale, high nibble min), qs[64], d, dmin. Two halves of 128 use
 * qs[32hf..]; at shift 2k (k = 0..3), weights 32k + 0..15 are bits of qs[l], 32k + 16..31 of
 * qs[16 + l], with sub-block scales 8hf + 2k and 8hf + 2k + 1. */
static void q2_k(const uint8_t *b, float *y) {
    float d = h(b + 80), dmin = h(b + 82);
    for (int hf = 0; hf < 2; hf++) {
        const uint8_t *q = b + 16 + 32 * hf;
        for (int k = 0; k < 4; k++)
            for (int part = 0; part < 2; part++) {
                uint8_t s = b[8 * hf + 2 * k + part];
                float dl = d * (float)(s & 15), ml = dmin * (float)(s >> 4);
                for (int l = 0; l < 16; l++)
                    y[128 * hf + 32 * k + 16 * part + l] = dl * (float)((q[16 * part + l] >> (2 * k)) & 3) - ml;
            }
    }
}

/* Q3_K: hmask[32], qs[64], scales[12] (16 six-bit scales, offset 32), d. Layout as Q2_K; the
 * third bit of weight (half hf, shift k, byte l) is bit 4hf + k of hmask[l]: clear means -4. */
static void q3_k(const uint8_t *b, float *y) {
    const uint8_t *hm = b, *sc = b + 96;
    float d = h(b + 108);
    for (int hf = 0; hf < 2; hf++) {
        const uint8_t *q = b + 32 + 32 * hf;
        for (int k = 0; k < 4; k++)
            for (int part = 0; part < 2; part++) {
                int i = 8 * hf + 2 * k + part;
                int s = (i < 8 ? sc[i] & 15 : sc[i - 8] >> 4) | (((sc[8 + i % 4] >> (2 * (i / 4))) & 3) << 4);
                float dl = d * (float)(s - 32);
                int bit = 4 * hf + k;
                for (int l = 0; l < 16; l++) {
                    int m = 16 * part + l;
                    int v = ((q[m] >> (2 * k)) & 3) - ((hm[m] >> bit) & 1 ? 0 : 4);
                    y[128 * hf + 32 * k + 16 * part + l] = dl * (float)v;
                }
            }
    }
}

/* IQ4_XS: d, scales_h (u16), scales_l[4], qs[128]; sub-block s (32 weights, qs[16s..]) has the
 * 6-bit scale (nibble s%2 of scales_l[s/2]) | (bits 2s..2s+1 of scales_h) << 4, offset 32. */
static void iq4_xs(const uint8_t *b, float *y) {
    float d = h(b);
    unsigned sh = dg_ld16(b + 2);
    for (int s = 0; s < 8; s++) {
        int ls = ((b[4 + s / 2] >> (4 * (s % 2))) & 15) | (int)((sh >> (2 * s)) & 3) << 4;
        iq4_nl_block(b + 8 + 16 * s, d * (float)(ls - 32), y + 32 * s);
    }
}

typedef void (*block_fn)(const uint8_t *b, float *y);

static block_fn decoder(int type) {
    switch (type) {
    case DG_GGML_Q4_0: return q4_0;
    case DG_GGML_Q4_1: return q4_1;
    case DG_GGML_Q5_0: return q5_0;
    case DG_GGML_Q5_1: return q5_1;
    case DG_GGML_Q8_0: return q8_0;
    case DG_GGML_IQ4_NL: return iq4_nl;
    case DG_GGML_Q2_K: return q2_k;
    case DG_GGML_Q3_K: return q3_k;
    case DG_GGML_Q4_K: return q4_k;
    case DG_GGML_Q5_K: return q5_k;
    case DG_GGML_Q6_K: return q6_k;
    case DG_GGML_IQ4_XS: return iq4_xs;
    default: return NULL;
    }
}

void dg_ggml_expand(int type, const uint8_t *row, int c0, int nc, float *out) {
    if (type == DG_GGML_F32) { memcpy(out, row + 4 * (size_t)c0, 4 * (size_t)nc); return; }
    if (type == DG_GGML_F16 || type == DG_GGML_BF16) {
        for (int j = 0; j < nc; j++) {
            uint16_t v = dg_ld16(row + 2 * (size_t)(c0 + j));
            out[j] = type == DG_GGML_F16 ? dg_f16_to_f32(v) : dg_bf16_to_f32(v);
        }
        return;
    }
    block_fn fn = decoder(type);
    int bk = dg_ggml_block(type);
    size_t bb = dg_ggml_block_bytes(type);
    if (!fn) return;    /* unreachable: the loader binds supported types only */
    float buf[256];
    for (int j = 0; j < nc;) {
        int c = c0 + j, blk = c / bk, in = c - blk * bk, n = bk - in < nc - j ? bk - in : nc - j;
        const uint8_t *b = row + (size_t)blk * bb;
        if (in == 0 && n == bk) fn(b, out + j);
        else {
            fn(b, buf);
            memcpy(out + j, buf + in, (size_t)n * sizeof *out);
        }
        j += n;
    }
}
