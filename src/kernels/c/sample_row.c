/* Portable row kernel (GENERATION.md §4.3); see sampler_row.h for the pass structure. */
#include "kernels/c/c.h"
#include <math.h>
#include <string.h>

static inline float exp_neg(float x) {
    if (!(x >= DG_EXP_CUT)) return 0.0f;         /* also catches NaN -> handled by the caller */
    float n = floorf(x * DG_EXP_LOG2E + 0.5f);
    float r = x - n * DG_EXP_C1 - n * DG_EXP_C2;
    float p = ((((DG_EXP_P0 * r + DG_EXP_P1) * r + DG_EXP_P2) * r + DG_EXP_P3) * r + DG_EXP_P4) * r + DG_EXP_P5;
    p = p * r * r + r + 1.0f;
    uint32_t bits = (uint32_t)((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, 4);
    return p * scale;
}

void dg_sample_row_c(const float *logits, float *pl, int V, double invT, double u, dg_row_result *r) {
    const float invTf = (float)invT;
    int am = 0;
    float lmax = logits[0];
    for (int v = 1; v < V; v++)
        if (logits[v] > lmax) { lmax = logits[v]; am = v; }

    double bs[DG_ROW_MAX_BLOCKS];
    const int B = dg_row_block(V);
    double S = 0, E = 0;
    int nb = 0;
    for (int b0 = 0; b0 < V; b0 += B, nb++) {
        int b1 = b0 + B < V ? b0 + B : V;
        double s = 0, e = 0;
        for (int v = b0; v < b1; v++) {
            float d = (logits[v] - lmax) * invTf;
            float dc = d < -88.0f ? -88.0f : d;     /* -inf logits: w*d = 0; NaN stays NaN */
            float w = exp_neg(d);
            s += w;
            e += (double)(w * dc);
        }
        bs[nb] = s;
        S += s;
        E += e;
    }

    const double t = u * S;
    int token = -1;
    double cum = 0;
    for (int b = 0, b0 = 0; b < nb && token < 0; b++, b0 += B) {
        if (cum + bs[b] <= t) { cum += bs[b]; continue; }
        /* The crossing lies in this block (or, after rounding, a later one): walk sequentially. */
        for (int v = b0; v < V; v++) {
            cum += exp_neg((logits[v] - lmax) * invTf);
            if (cum > t) { token = v; break; }
        }
        break;
    }
    if (token < 0)     /* rounding left no v: the largest v with w_v > 0 */
        for (int v = V - 1; v >= 0 && token < 0; v--)
            if (exp_neg((logits[v] - lmax) * invTf) > 0) token = v;

    for (int v = 0; v < V; v++) pl[v] = logits[v] * invTf;

    r->S = S;
    r->H = isfinite(S) && isfinite(E) && S > 0 ? log(S) - E / S : NAN;
    r->token = token < 0 ? am : token;
    r->argmax = am;
}
