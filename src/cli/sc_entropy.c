/* --sc-entropy H (bench, compare): the self-conditioning input of a step scaled by one factor so
 * that its rows' mean softmax entropy is H nats. Random synthetic weights give near-uniform
 * logits; a trained model past its first steps gives concentrated ones, and the fast path's
 * cost of the soft embedding depends on how concentrated they are. */
#include <math.h>
#include "cli/cli.h"

/* Softmax entropy of beta * z[0..V), in nats. */
static double row_entropy(const float *z, int V, double beta) {
    float mx = -INFINITY;
    for (int v = 0; v < V; v++) if (z[v] > mx) mx = z[v];
    double s = 0, sz = 0;
    float b = (float)beta;
    for (int v = 0; v < V; v++) {
        float d = b * (z[v] - mx), e = expf(d);
        s += e;
        sz += (double)d * e;
    }
    return log(s) - sz / s;
}

static double mean_entropy(const float *z, int L, int V, int every, double beta) {
    double h = 0;
    int n = 0;
    for (int i = 0; i < L; i += every, n++) h += row_entropy(z + (size_t)i * V, V, beta);
    return h / n;
}

double cli_scale_to_entropy(float *z, int L, int V, double H) {
    /* entropy falls monotonically with beta: bisect log(beta) on 32 of the rows */
    int every = L > 32 ? L / 32 : 1;
    double lo = log(1e-4), hi = log(1e6);
    for (int it = 0; it < 40; it++) {
        double mid = 0.5 * (lo + hi);
        if (mean_entropy(z, L, V, every, exp(mid)) > H) lo = mid; else hi = mid;
    }
    float beta = (float)exp(0.5 * (lo + hi));
    for (size_t k = 0; k < (size_t)L * V; k++) z[k] *= beta;
    return mean_entropy(z, L, V, 1, 1.0);
}
