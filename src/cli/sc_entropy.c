#include "cli/sc_entropy.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "gen/rng.h"

#define LEVELS 256          /* noise levels; level LEVELS is the spike */
#define SPIKE 2.0

static double level_u(int q) { return q == LEVELS ? SPIKE : (double)q / (LEVELS - 1); }

/* Noise level of token v of a row: byte v % 8 of one hash per 8 tokens. */
static int level(uint64_t row_key, int v) {
    return (int)((dg_mix64(row_key + DG_RNG_GOLDEN * (uint64_t)(v / 8 + 1)) >> (8 * (v % 8))) & 0xff);
}

static uint64_t row_key(uint64_t seed, int r) { return dg_mix64(seed + DG_RNG_GOLDEN * (uint64_t)(r + 1)); }

/* Entropy of softmax(beta * u) for a row given as counts per level: log Z - beta E[u]. The
 * histogram makes each bisection step O(levels), not O(V). */
static double hist_entropy(const int *cnt, double beta) {
    double z = 0, zu = 0;
    for (int q = 0; q <= LEVELS; q++) {
        if (!cnt[q]) continue;
        double u = level_u(q), w = cnt[q] * exp(beta * (u - SPIKE));
        z += w;
        zu += w * u;
    }
    return log(z) + beta * SPIKE - beta * zu / z;
}

double cli_sc_fill(float *z, int L, int V, double H, uint64_t seed) {
    int *cnt = calloc((size_t)L * (LEVELS + 1), sizeof *cnt);
    if (!cnt) return 0;
    for (int r = 0; r < L; r++) {
        uint64_t k = row_key(seed, r);
        int spike = dg_randint(dg_mix64(k), (uint32_t)V);
        for (int v = 0; v < V; v++) cnt[(size_t)r * (LEVELS + 1) + (v == spike ? LEVELS : level(k, v))]++;
    }
    /* the entropy falls monotonically with beta (dH/dbeta = -beta Var[u]) */
    double lo = 0, hi = 1;
    for (;;) {
        double m = 0;
        for (int r = 0; r < L; r++) m += hist_entropy(cnt + (size_t)r * (LEVELS + 1), hi);
        if (m / L <= H || hi > 1e6) break;
        lo = hi;
        hi *= 2;
    }
    for (int it = 0; it < 100; it++) {
        double mid = 0.5 * (lo + hi), m = 0;
        for (int r = 0; r < L; r++) m += hist_entropy(cnt + (size_t)r * (LEVELS + 1), mid);
        if (m / L > H) lo = mid; else hi = mid;
    }
    free(cnt);
    double beta = 0.5 * (lo + hi);
    for (int r = 0; r < L; r++) {
        uint64_t k = row_key(seed, r);
        int spike = dg_randint(dg_mix64(k), (uint32_t)V);
        float *zr = z + (size_t)r * V;
        for (int v = 0; v < V; v++) zr[v] = (float)(beta * level_u(v == spike ? LEVELS : level(k, v)));
    }
    return beta;
}

double cli_sc_entropy(const float *z, int L, int V) {
    double tot = 0;
    for (int r = 0; r < L; r++) {
        const float *zr = z + (size_t)r * V;
        double mx = zr[0], s = 0, su = 0;
        for (int v = 1; v < V; v++) if (zr[v] > mx) mx = zr[v];
        for (int v = 0; v < V; v++) {
            double e = exp((double)zr[v] - mx);
            s += e;
            su += e * ((double)zr[v] - mx);
        }
        tot += log(s) - su / s;
    }
    return tot / L;
}
