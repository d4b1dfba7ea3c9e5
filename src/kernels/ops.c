#include "kernels/ops.h"
#include <math.h>

void dg_rmsnorm(float *y, const float *x, const float *w, int n, double eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float r = (float)(1.0 / sqrt(ss / n + eps));
    if (w)
        for (int i = 0; i < n; i++) y[i] = x[i] * r * w[i];
    else
        for (int i = 0; i < n; i++) y[i] = x[i] * r;
}

void dg_gelu_mul(float *y, const float *g, const float *u, int n) {
    for (int i = 0; i < n; i++) {
        float x = g[i];
        float t = tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x));
        y[i] = 0.5f * x * (1.0f + t) * u[i];
    }
}

void dg_rope(float *x, const float *cs, const float *sn, int D) {
    int half = D / 2;
    for (int i = 0; i < half; i++) {
        float a = x[i], b = x[i + half];
        x[i] = a * cs[i] - b * sn[i];
        x[i + half] = b * cs[i] + a * sn[i];
    }
}

void dg_softcap(float *z, int n, double cap) {
    float c = (float)cap, inv = (float)(1.0 / cap);
    for (int i = 0; i < n; i++) z[i] = c * tanhf(z[i] * inv);
}

void dg_softmax(float *p, int n) {
    float mx = -INFINITY;
    for (int v = 0; v < n; v++) if (p[v] > mx) mx = p[v];
    double s = 0;
    for (int v = 0; v < n; v++) { p[v] = (float)exp((double)p[v] - mx); s += p[v]; }
    for (int v = 0; v < n; v++) p[v] = (float)(p[v] / s);
}
