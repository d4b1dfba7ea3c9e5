/* AVX2+FMA row kernel (GENERATION.md §4.3); same passes as sampler_row.c. Compiled with -mavx2
 * -mfma; call only when dg_cpu_detect reports avx2. */
#include "kernels/x86/avx2/avx2.h"
#include <immintrin.h>
#include <math.h>

static inline __m256 exp_neg8(__m256 x) {
    const __m256 cut = _mm256_set1_ps(DG_EXP_CUT);
    __m256 valid = _mm256_cmp_ps(x, cut, _CMP_GE_OQ);          /* false for NaN and x < cut */
    x = _mm256_max_ps(x, cut);
    __m256 n = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(DG_EXP_LOG2E), _mm256_set1_ps(0.5f)));
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(DG_EXP_C1), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(DG_EXP_C2), r);
    __m256 p = _mm256_set1_ps(DG_EXP_P0);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(DG_EXP_P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(DG_EXP_P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(DG_EXP_P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(DG_EXP_P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(DG_EXP_P5));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r);
    p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(e)), valid);
}

/* 8 logits from v; past V padded with -inf (weight 0). */
static inline __m256 load8(const float *l, int v, int V) {
    if (v + 8 <= V) return _mm256_loadu_ps(l + v);
    float buf[8];
    for (int i = 0; i < 8; i++) buf[i] = v + i < V ? l[v + i] : -INFINITY;
    return _mm256_loadu_ps(buf);
}

static inline __m256 weights8(const float *l, int v, int V, __m256 lmax, __m256 invT, __m256 *d) {
    *d = _mm256_mul_ps(_mm256_sub_ps(load8(l, v, V), lmax), invT);
    return exp_neg8(*d);
}

static inline double hsum4(__m256d a) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(a), _mm256_extractf128_pd(a, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

static int argmax_row(const float *l, int V, float *max_out) {
    int v = 0, am = 0;
    float m = l[0];
    if (V >= 8) {
        __m256 vmax = _mm256_loadu_ps(l);
        __m256i vidx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), cur = vidx;
        const __m256i eight = _mm256_set1_epi32(8);
        for (v = 8; v + 8 <= V; v += 8) {
            __m256 x = _mm256_loadu_ps(l + v);
            cur = _mm256_add_epi32(cur, eight);
            __m256 gt = _mm256_cmp_ps(x, vmax, _CMP_GT_OQ);   /* strict: each lane keeps its first max */
            vmax = _mm256_blendv_ps(vmax, x, gt);
            vidx = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(vidx), _mm256_castsi256_ps(cur), gt));
        }
        float mv[8];
        int iv[8];
        _mm256_storeu_ps(mv, vmax);
        _mm256_storeu_si256((__m256i *)iv, vidx);
        m = mv[0];
        am = iv[0];
        for (int i = 1; i < 8; i++)
            if (mv[i] > m || (mv[i] == m && iv[i] < am)) { m = mv[i]; am = iv[i]; }
    } else v = 1;
    for (; v < V; v++)
        if (l[v] > m) { m = l[v]; am = v; }
    *max_out = m;
    return am;
}

void dg_sample_row_avx2(const float *logits, float *pl, int V, double invT, double u, dg_row_result *r) {
    const float invTf = (float)invT;
    float lmaxf;
    const int am = argmax_row(logits, V, &lmaxf);
    const __m256 lmax = _mm256_set1_ps(lmaxf), vinv = _mm256_set1_ps(invTf), c88 = _mm256_set1_ps(-88.0f);

    double bs[DG_ROW_MAX_BLOCKS];
    const int B = dg_row_block(V);
    double S = 0, E = 0;
    int nb = 0;
    for (int b0 = 0; b0 < V; b0 += B, nb++) {
        int b1 = b0 + B < V ? b0 + B : V;
        __m256d s0 = _mm256_setzero_pd(), s1 = s0, e0 = s0, e1 = s0;
        for (int v = b0; v < b1; v += 8) {
            __m256 d;
            __m256 w = weights8(logits, v, V, lmax, vinv, &d);
            __m256 wd = _mm256_mul_ps(w, _mm256_max_ps(c88, d));    /* NaN d stays NaN */
            s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(w)));
            s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(w, 1)));
            e0 = _mm256_add_pd(e0, _mm256_cvtps_pd(_mm256_castps256_ps128(wd)));
            e1 = _mm256_add_pd(e1, _mm256_cvtps_pd(_mm256_extractf128_ps(wd, 1)));
        }
        bs[nb] = hsum4(_mm256_add_pd(s0, s1));
        S += bs[nb];
        E += hsum4(_mm256_add_pd(e0, e1));
    }

    const double t = u * S;
    int token = -1;
    double cum = 0;
    for (int b = 0, b0 = 0; b < nb; b++, b0 += B) {
        if (cum + bs[b] <= t) { cum += bs[b]; continue; }
        /* Walk sequentially from this block (a rounding miss continues into the next ones). */
        float w[8];
        for (int v = b0; v < V && token < 0; v += 8) {
            __m256 d;
            _mm256_storeu_ps(w, weights8(logits, v, V, lmax, vinv, &d));
            for (int i = 0; i < 8 && v + i < V; i++) {
                cum += w[i];
                if (cum > t) { token = v + i; break; }
            }
        }
        break;
    }
    if (token < 0) {   /* rounding left no v: the largest v with w_v > 0 */
        float w[8];
        for (int v = ((V - 1) / 8) * 8; v >= 0 && token < 0; v -= 8) {
            __m256 d;
            _mm256_storeu_ps(w, weights8(logits, v, V, lmax, vinv, &d));
            for (int i = 7; i >= 0; i--)
                if (v + i < V && w[i] > 0) { token = v + i; break; }
        }
    }

    int v = 0;
    for (; v + 8 <= V; v += 8) _mm256_storeu_ps(pl + v, _mm256_mul_ps(_mm256_loadu_ps(logits + v), vinv));
    for (; v < V; v++) pl[v] = logits[v] * invTf;

    r->S = S;
    r->H = isfinite(S) && isfinite(E) && S > 0 ? log(S) - E / S : NAN;
    r->token = token < 0 ? am : token;
    r->argmax = am;
}
