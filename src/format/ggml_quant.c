#include "format/ggml_quant.h"
#include <math.h>
#include <string.h>
#include "core/ggml_type.h"
#include "core/numeric.h"

uint16_t dg_f32_to_f16(float f) {
    if (f > 65504.0f) f = 65504.0f;
    if (f < -65504.0f) f = -65504.0f;
    uint32_t u;
    memcpy(&u, &f, 4);
    uint32_t sign = (u >> 16) & 0x8000u, a = u & 0x7fffffffu;
    if (a < 0x33000001u) return (uint16_t)sign;                 /* |f| <= 2^-25: rounds to zero */
    if (a < 0x38800000u) {                                      /* subnormal half */
        int e = (int)(a >> 23);
        uint32_t m = (a & 0x7fffffu) | 0x800000u;
        int sh = 126 - e;                                       /* 14 + (113 - e) */
        uint32_t q = m >> sh, rem = m & ((1u << sh) - 1), half = 1u << (sh - 1);
        if (rem > half || (rem == half && (q & 1))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t r = a - 0x38000000u;                               /* rebias 127 -> 15 */
    uint32_t q = r >> 13, rem = r & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (q & 1))) q++;
    return (uint16_t)(sign | q);
}

static float h(uint16_t v) { return dg_f16_to_f32(v); }
static void st16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }

/* The smallest fp16 >= x (x >= 0). */
static uint16_t f16_up(float x) {
    uint16_t v = dg_f32_to_f16(x);
    if (h(v) < x && v < 0x7bff) v++;
    return v;
}

static int clampi(long v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : (int)v; }

/* Q8_0 as ggml's reference quantizer: d = amax / 127, codes round(x · (1 / d)) half away from
 * zero (so a Q8_0 file of the same weights is byte-identical to llama-quantize's). */
static void q8_0(const float *x, uint8_t *b) {
    float amax = 0;
    for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
    float d = amax / 127.0f, id = d > 0 ? 1.0f / d : 0.0f;
    st16(b, dg_f32_to_f16(d));
    for (int j = 0; j < 32; j++) b[2 + j] = (uint8_t)(int8_t)clampi(lroundf(x[j] * id), -127, 127);
}

/* Q5_0: d·(q − 16), q in 0..31; d = amax / 15 keeps every weight within −16..15 codes. */
static void q5_0(const float *x, uint8_t *b) {
    float amax = 0;
    for (int j = 0; j < 32; j++) amax = fmaxf(amax, fabsf(x[j]));
    uint16_t d = f16_up(amax / 15.0f);
    float dq = h(d);
    st16(b, d);
    uint32_t qh = 0;
    int q[32];
    for (int j = 0; j < 32; j++) {
        q[j] = dq > 0 ? clampi(lrintf(x[j] / dq) + 16, 0, 31) : 16;
        qh |= (uint32_t)(q[j] >> 4) << j;
    }
    memcpy(b + 2, &qh, 4);
    for (int j = 0; j < 16; j++) b[6 + j] = (uint8_t)((q[j] & 15) | (q[j + 16] & 15) << 4);
}

/* Q4_K / Q5_K: per 32-weight sub-block an offset dmin·mn covering its minimum, then a step
 * d·sc covering its maximum above that offset in 15 / 31 codes; mn and sc are 6-bit multiples
 * of the super-block's fp16 dmin and d, all rounded up, so no code clips. */
static void q45_k(const float *x, uint8_t *b, int five) {
    const int top = five ? 31 : 15;
    float lo[8], hi[8], step[8], smax = 0, omax = 0;
    for (int s = 0; s < 8; s++) {
        lo[s] = hi[s] = 0;
        for (int l = 0; l < 32; l++) { lo[s] = fminf(lo[s], x[32 * s + l]); hi[s] = fmaxf(hi[s], x[32 * s + l]); }
        omax = fmaxf(omax, -lo[s]);
    }
    uint16_t m16 = f16_up(omax / 63.0f);
    float dmin = h(m16);
    int sc[8], mn[8];
    for (int s = 0; s < 8; s++) {
        mn[s] = dmin > 0 ? clampi((long)ceilf(-lo[s] / dmin), 0, 63) : 0;
        step[s] = (hi[s] + dmin * (float)mn[s]) / (float)top;
        smax = fmaxf(smax, step[s]);
    }
    uint16_t d16 = f16_up(smax / 63.0f);
    float d = h(d16);
    for (int s = 0; s < 8; s++) sc[s] = d > 0 ? clampi((long)ceilf(step[s] / d), 0, 63) : 0;
    st16(b, d16);
    st16(b + 2, m16);
    uint8_t *S = b + 4, *qh = b + 16, *qs = b + (five ? 48 : 16);
    for (int i = 0; i < 4; i++) {
        S[i] = (uint8_t)(sc[i] | (sc[i + 4] >> 4) << 6);
        S[i + 4] = (uint8_t)(mn[i] | (mn[i + 4] >> 4) << 6);
        S[i + 8] = (uint8_t)((sc[i + 4] & 15) | (mn[i + 4] & 15) << 4);
    }
    memset(qs, 0, 128);
    if (five) memset(qh, 0, 32);
    for (int w = 0; w < 256; w++) {
        int s = w / 32, c = w / 64, l = w % 32;
        float ds = d * (float)sc[s], dm = dmin * (float)mn[s];
        int q = ds > 0 ? clampi(lrintf((x[w] + dm) / ds), 0, top) : 0;
        qs[32 * c + l] |= (uint8_t)(s & 1 ? (q & 15) << 4 : q & 15);
        if (five) qh[l] |= (uint8_t)((q >> 4) << s);
    }
}

/* Q6_K: per 16-weight sub-block an int8 multiple of d as its step, codes −32..31. */
static void q6_k(const float *x, uint8_t *b) {
    float step[16], smax = 0;
    for (int s = 0; s < 16; s++) {
        float a = 0;
        for (int l = 0; l < 16; l++) a = fmaxf(a, fabsf(x[16 * s + l]));
        step[s] = a / 31.0f;
        smax = fmaxf(smax, step[s]);
    }
    uint16_t d16 = f16_up(smax / 127.0f);
    float d = h(d16);
    memset(b, 0, 210);
    int sc[16];
    for (int s = 0; s < 16; s++) {
        sc[s] = d > 0 ? clampi((long)ceilf(step[s] / d), 0, 127) : 0;
        b[192 + s] = (uint8_t)(int8_t)sc[s];
    }
    st16(b + 208, d16);
    for (int w = 0; w < 256; w++) {
        int hf = w / 128, r = w % 128, k = r / 32, l = r % 32;
        float ds = d * (float)sc[w / 16];
        int q = (ds > 0 ? clampi(lrintf(x[w] / ds), -32, 31) : 0) + 32;
        b[64 * hf + l + 32 * (k & 1)] |= (uint8_t)((q & 15) << (k >= 2 ? 4 : 0));
        b[128 + 32 * hf + l] |= (uint8_t)((q >> 4) << (2 * k));
    }
}

int dg_ggml_quant_ok(int type) {
    return type == DG_GGML_F32 || type == DG_GGML_Q8_0 || type == DG_GGML_Q5_0 || type == DG_GGML_Q4_K || type == DG_GGML_Q5_K ||
           type == DG_GGML_Q6_K;
}

void dg_ggml_quantize_row(int type, const float *x, int64_t n, uint8_t *out) {
    if (type == DG_GGML_F32) { memcpy(out, x, (size_t)n * 4); return; }
    int bk = dg_ggml_block(type);
    size_t bb = dg_ggml_block_bytes(type);
    for (int64_t i = 0; i < n / bk; i++) {
        const float *xi = x + i * bk;
        uint8_t *o = out + (size_t)i * bb;
        switch (type) {
        case DG_GGML_Q8_0: q8_0(xi, o); break;
        case DG_GGML_Q5_0: q5_0(xi, o); break;
        case DG_GGML_Q4_K: q45_k(xi, o, 0); break;
        case DG_GGML_Q5_K: q45_k(xi, o, 1); break;
        case DG_GGML_Q6_K: q6_k(xi, o); break;
        default: break;
        }
    }
}
