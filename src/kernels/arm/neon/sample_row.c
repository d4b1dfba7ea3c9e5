/* NEON row kernel (GENERATION.md §4.3); the same passes and the same fp32 exp as sample_row.c,
 * 4 lanes at a time, sums in double. */
#include <arm_neon.h>
#include <math.h>
#include "kernels/arm/neon/neon.h"

static inline float32x4_t exp_neg4(float32x4_t x) {
    const float32x4_t cut = vdupq_n_f32(DG_EXP_CUT);
    uint32x4_t valid = vcgeq_f32(x, cut);          /* false for NaN and x < cut */
    x = vmaxq_f32(x, cut);
    float32x4_t n = vrndmq_f32(vfmaq_f32(vdupq_n_f32(0.5f), x, vdupq_n_f32(DG_EXP_LOG2E)));
    float32x4_t r = vfmsq_f32(x, n, vdupq_n_f32(DG_EXP_C1));
    r = vfmsq_f32(r, n, vdupq_n_f32(DG_EXP_C2));
    float32x4_t p = vdupq_n_f32(DG_EXP_P0);
    p = vfmaq_f32(vdupq_n_f32(DG_EXP_P1), p, r);
    p = vfmaq_f32(vdupq_n_f32(DG_EXP_P2), p, r);
    p = vfmaq_f32(vdupq_n_f32(DG_EXP_P3), p, r);
    p = vfmaq_f32(vdupq_n_f32(DG_EXP_P4), p, r);
    p = vfmaq_f32(vdupq_n_f32(DG_EXP_P5), p, r);
    p = vfmaq_f32(r, p, vmulq_f32(r, r));
    p = vaddq_f32(p, vdupq_n_f32(1.0f));
    int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127)), 23);
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(vmulq_f32(p, vreinterpretq_f32_s32(e))), valid));
}

/* 4 logits from v; past V padded with -inf (weight 0). */
static inline float32x4_t load4(const float *l, int v, int V) {
    if (v + 4 <= V) return vld1q_f32(l + v);
    float buf[4];
    for (int i = 0; i < 4; i++) buf[i] = v + i < V ? l[v + i] : -INFINITY;
    return vld1q_f32(buf);
}

static inline float32x4_t weights4(const float *l, int v, int V, float32x4_t lmax, float invT, float32x4_t *d) {
    *d = vmulq_n_f32(vsubq_f32(load4(l, v, V), lmax), invT);
    return exp_neg4(*d);
}

static int argmax_row(const float *l, int V, float *max_out) {
    int v = 0, am = 0;
    float m = l[0];
    if (V >= 4) {
        float32x4_t vmax = vld1q_f32(l);
        const uint32_t i0[4] = {0, 1, 2, 3};
        uint32x4_t vidx = vld1q_u32(i0), cur = vidx;
        for (v = 4; v + 4 <= V; v += 4) {
            float32x4_t x = vld1q_f32(l + v);
            cur = vaddq_u32(cur, vdupq_n_u32(4));
            uint32x4_t gt = vcgtq_f32(x, vmax);   /* strict: each lane keeps its first max */
            vmax = vbslq_f32(gt, x, vmax);
            vidx = vbslq_u32(gt, cur, vidx);
        }
        float mv[4];
        uint32_t iv[4];
        vst1q_f32(mv, vmax);
        vst1q_u32(iv, vidx);
        m = mv[0];
        am = (int)iv[0];
        for (int i = 1; i < 4; i++)
            if (mv[i] > m || (mv[i] == m && (int)iv[i] < am)) { m = mv[i]; am = (int)iv[i]; }
    } else v = 1;
    for (; v < V; v++)
        if (l[v] > m) { m = l[v]; am = v; }
    *max_out = m;
    return am;
}

void dg_sample_row_neon(const float *logits, float *pl, int V, double invT, double u, dg_row_result *r) {
    const float invTf = (float)invT;
    float lmaxf;
    const int am = argmax_row(logits, V, &lmaxf);
    const float32x4_t lmax = vdupq_n_f32(lmaxf), c88 = vdupq_n_f32(-88.0f);

    double bs[DG_ROW_MAX_BLOCKS];
    const int B = dg_row_block(V);
    double S = 0, E = 0;
    int nb = 0;
    for (int b0 = 0; b0 < V; b0 += B, nb++) {
        int b1 = b0 + B < V ? b0 + B : V;
        float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0, e0 = s0, e1 = s0;
        for (int v = b0; v < b1; v += 4) {
            float32x4_t d, w = weights4(logits, v, V, lmax, invTf, &d);
            float32x4_t wd = vmulq_f32(w, vmaxq_f32(c88, d));    /* NaN d stays NaN */
            s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(w)));
            s1 = vaddq_f64(s1, vcvt_high_f64_f32(w));
            e0 = vaddq_f64(e0, vcvt_f64_f32(vget_low_f32(wd)));
            e1 = vaddq_f64(e1, vcvt_high_f64_f32(wd));
        }
        bs[nb] = vaddvq_f64(vaddq_f64(s0, s1));
        S += bs[nb];
        E += vaddvq_f64(vaddq_f64(e0, e1));
    }

    const double t = u * S;
    int token = -1;
    double cum = 0;
    for (int b = 0, b0 = 0; b < nb; b++, b0 += B) {
        if (cum + bs[b] <= t) { cum += bs[b]; continue; }
        /* Walk sequentially from this block (a rounding miss continues into the next ones). */
        float w[4];
        for (int v = b0; v < V && token < 0; v += 4) {
            float32x4_t d;
            vst1q_f32(w, weights4(logits, v, V, lmax, invTf, &d));
            for (int i = 0; i < 4 && v + i < V; i++) {
                cum += w[i];
                if (cum > t) { token = v + i; break; }
            }
        }
        break;
    }
    if (token < 0) {   /* rounding left no v: the largest v with w_v > 0 */
        float w[4];
        for (int v = ((V - 1) / 4) * 4; v >= 0 && token < 0; v -= 4) {
            float32x4_t d;
            vst1q_f32(w, weights4(logits, v, V, lmax, invTf, &d));
            for (int i = 3; i >= 0; i--)
                if (v + i < V && w[i] > 0) { token = v + i; break; }
        }
    }

    int v = 0;
    for (; v + 4 <= V; v += 4) vst1q_f32(pl + v, vmulq_n_f32(vld1q_f32(logits + v), invTf));
    for (; v < V; v++) pl[v] = logits[v] * invTf;

    r->S = S;
    r->H = isfinite(S) && isfinite(E) && S > 0 ? log(S) - E / S : NAN;
    r->token = token < 0 ? am : token;
    r->argmax = am;
}
