/* Vectorised row operations: the logits block's softcap and self-conditioning softmax (256 x
 * 262144 values per step) and the MLPs' GELU. exp is Cephes' single-precision scheme
 * (Cody-Waite range reduction, degree-5 polynomial; about 1 ulp), tanh(x) = 1 - 2 / (exp(2x) +
 * 1) for |x| >= 0.625 and an odd polynomial below, where the subtraction would cancel. */
#include <immintrin.h>
#include <math.h>
#include "kernels/ops.h"
#include "kernels/x86/avx2/avx2.h"

static inline __m256 exp8(__m256 x) {
    const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-88.3762626647949f);
    x = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
    __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500E-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

/* tanh on [-0.625, 0.625]: x + x^3 * P(x^2) (Cephes tanhf), else via exp. */
static inline __m256 tanh8(__m256 x) {
    __m256 ax = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
    __m256 z = _mm256_mul_ps(x, x);
    __m256 p = _mm256_set1_ps(-5.70498872745E-3f);
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(2.06390887954E-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-5.37397155531E-2f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(1.33314422036E-1f));
    p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(-3.33332819422E-1f));
    __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), x, x);
    __m256 e = exp8(_mm256_mul_ps(ax, _mm256_set1_ps(2.0f)));
    __m256 big = _mm256_sub_ps(_mm256_set1_ps(1.0f), _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
    big = _mm256_or_ps(big, _mm256_and_ps(x, _mm256_set1_ps(-0.0f)));   /* sign of x */
    return _mm256_blendv_ps(small, big, _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_GE_OQ));
}

void dg_softcap_avx2(float *z, int n, double cap) {
    const __m256 c = _mm256_set1_ps((float)cap), inv = _mm256_set1_ps((float)(1.0 / cap));
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(z + i, _mm256_mul_ps(c, tanh8(_mm256_mul_ps(_mm256_loadu_ps(z + i), inv))));
    for (; i < n; i++) z[i] = (float)cap * tanhf(z[i] * (float)(1.0 / cap));
}

void dg_softmax_avx2(float *p, int n) {
    __m256 vm = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= n; i += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(p + i));
    float m[8], mx = -INFINITY;
    _mm256_storeu_ps(m, vm);
    for (int k = 0; k < 8; k++) if (m[k] > mx) mx = m[k];
    for (; i < n; i++) if (p[i] > mx) mx = p[i];
    /* the sum in double, in 8 lanes: 262144 terms */
    __m256 vmx = _mm256_set1_ps(mx);
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(p + i), vmx));
        _mm256_storeu_ps(p + i, e);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(e)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1)));
    }
    double s[4], sum = 0;
    _mm256_storeu_pd(s, _mm256_add_pd(s0, s1));
    sum = s[0] + s[1] + s[2] + s[3];
    for (; i < n; i++) { p[i] = expf(p[i] - mx); sum += p[i]; }
    __m256 vinv = _mm256_set1_ps((float)(1.0 / sum));
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(p + i, _mm256_mul_ps(_mm256_loadu_ps(p + i), vinv));
    for (; i < n; i++) p[i] *= (float)(1.0 / sum);
}

/* The MLPs' gelu_tanh(g) * u (ops.c's formula, tanh8 for tanhf): 256 x 8 x 704 + 256 x 2,112
 * values a layer, where the scalar tanhf cost ~30 ns each (Xeon model 207). */
void dg_gelu_mul_avx2(float *y, const float *g, const float *u, int n) {
    const __m256 c = _mm256_set1_ps(0.7978845608028654f), k = _mm256_set1_ps(0.044715f), h = _mm256_set1_ps(0.5f),
                 one = _mm256_set1_ps(1.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 x = _mm256_loadu_ps(g + i), x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
        __m256 t = tanh8(_mm256_mul_ps(c, _mm256_fmadd_ps(k, x3, x)));
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(h, x), _mm256_add_ps(one, t)), _mm256_loadu_ps(u + i)));
    }
    if (i < n) dg_gelu_mul(y + i, g + i, u + i, n - i);
}
