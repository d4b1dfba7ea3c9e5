/* Vectorised row operations: the logits block's softcap and self-conditioning softmax and the
 * MLPs' GELU, the same schemes as the AVX2 ones (Cephes expf: Cody-Waite reduction and a degree-5
 * polynomial, ~1 ulp; tanh(x) = 1 - 2 / (exp(2x) + 1) for |x| >= 0.625, an odd polynomial
 * below, where the subtraction would cancel), 4 lanes at a time. */
#include <arm_neon.h>
#include <math.h>
#include "kernels/arm/neon/neon.h"
#include "kernels/ops.h"

static inline float32x4_t exp4(float32x4_t x) {
    x = vmaxq_f32(vminq_f32(x, vdupq_n_f32(88.3762626647949f)), vdupq_n_f32(-88.3762626647949f));
    float32x4_t fx = vrndnq_f32(vmulq_n_f32(x, 1.44269504088896341f));
    x = vfmsq_f32(x, fx, vdupq_n_f32(0.693359375f));
    x = vfmsq_f32(x, fx, vdupq_n_f32(-2.12194440e-4f));
    float32x4_t y = vdupq_n_f32(1.9875691500E-4f);
    y = vfmaq_f32(vdupq_n_f32(1.3981999507E-3f), y, x);
    y = vfmaq_f32(vdupq_n_f32(8.3334519073E-3f), y, x);
    y = vfmaq_f32(vdupq_n_f32(4.1665795894E-2f), y, x);
    y = vfmaq_f32(vdupq_n_f32(1.6666665459E-1f), y, x);
    y = vfmaq_f32(vdupq_n_f32(5.0000001201E-1f), y, x);
    y = vfmaq_f32(vaddq_f32(x, vdupq_n_f32(1.0f)), y, vmulq_f32(x, x));
    int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(fx), vdupq_n_s32(127)), 23);
    return vmulq_f32(y, vreinterpretq_f32_s32(e));
}

static inline float32x4_t tanh4(float32x4_t x) {
    float32x4_t ax = vabsq_f32(x), z = vmulq_f32(x, x);
    float32x4_t p = vdupq_n_f32(-5.70498872745E-3f);
    p = vfmaq_f32(vdupq_n_f32(2.06390887954E-2f), p, z);
    p = vfmaq_f32(vdupq_n_f32(-5.37397155531E-2f), p, z);
    p = vfmaq_f32(vdupq_n_f32(1.33314422036E-1f), p, z);
    p = vfmaq_f32(vdupq_n_f32(-3.33332819422E-1f), p, z);
    float32x4_t small = vfmaq_f32(x, vmulq_f32(p, z), x);
    float32x4_t e = exp4(vmulq_n_f32(ax, 2.0f));
    float32x4_t big = vsubq_f32(vdupq_n_f32(1.0f), vdivq_f32(vdupq_n_f32(2.0f), vaddq_f32(e, vdupq_n_f32(1.0f))));
    big = vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(big),
                                          vandq_u32(vreinterpretq_u32_f32(x), vdupq_n_u32(0x80000000u))));
    return vbslq_f32(vcgeq_f32(ax, vdupq_n_f32(0.625f)), big, small);
}

void dg_softcap_neon(float *z, int n, double cap) {
    const float c = (float)cap, inv = (float)(1.0 / cap);
    int i = 0;
    for (; i + 4 <= n; i += 4) vst1q_f32(z + i, vmulq_n_f32(tanh4(vmulq_n_f32(vld1q_f32(z + i), inv)), c));
    for (; i < n; i++) z[i] = c * tanhf(z[i] * inv);
}

void dg_softmax_neon(float *p, int n) {
    float32x4_t vm = vdupq_n_f32(-INFINITY);
    int i = 0;
    for (; i + 4 <= n; i += 4) vm = vmaxq_f32(vm, vld1q_f32(p + i));
    float mx = vmaxvq_f32(vm);
    for (; i < n; i++) if (p[i] > mx) mx = p[i];
    /* the sum in double, in 4 lanes: 262144 terms */
    float64x2_t s0 = vdupq_n_f64(0.0), s1 = s0;
    for (i = 0; i + 4 <= n; i += 4) {
        float32x4_t e = exp4(vsubq_f32(vld1q_f32(p + i), vdupq_n_f32(mx)));
        vst1q_f32(p + i, e);
        s0 = vaddq_f64(s0, vcvt_f64_f32(vget_low_f32(e)));
        s1 = vaddq_f64(s1, vcvt_high_f64_f32(e));
    }
    double sum = vaddvq_f64(vaddq_f64(s0, s1));
    for (; i < n; i++) { p[i] = expf(p[i] - mx); sum += p[i]; }
    const float inv = (float)(1.0 / sum);
    for (i = 0; i + 4 <= n; i += 4) vst1q_f32(p + i, vmulq_n_f32(vld1q_f32(p + i), inv));
    for (; i < n; i++) p[i] *= inv;
}

/* The MLPs' gelu_tanh(g) * u (ops.c's formula, tanh4 for tanhf). */
void dg_gelu_mul_neon(float *y, const float *g, const float *u, int n) {
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t x = vld1q_f32(g + i), x3 = vmulq_f32(vmulq_f32(x, x), x);
        float32x4_t t = tanh4(vmulq_n_f32(vfmaq_n_f32(x, x3, 0.044715f), 0.7978845608028654f));
        vst1q_f32(y + i, vmulq_f32(vmulq_f32(vmulq_n_f32(x, 0.5f), vaddq_f32(vdupq_n_f32(1.0f), t)), vld1q_f32(u + i)));
    }
    if (i < n) dg_gelu_mul(y + i, g + i, u + i, n - i);
}
