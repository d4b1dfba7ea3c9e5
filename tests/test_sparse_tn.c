/* Sparse soft-embedding rows (dg_tn_select + dg_tn_sparse_row, kernels/gemm.h) against a
 * double-precision dense reference sum_v p[v] E[v, c], on an 8-bit affine table quantized by
 * the project's MLX quantizer (the layout of the real embedding), for every kernel path.
 *
 * Checked: the selection lists a top set of tokens in id order, no longer than the contract
 * allows (those with p >= p_k / 2 for the shortest list of k tokens, found here by sorting),
 * drops at most eps (recomputed independently in double) and could not drop a whole power of
 * two more; it refuses a row only when the allowed list exceeds cap; and the sparse row obeys
 * the stated bound
 *   |y[c] - ref[c]| <= dropped * max_v |E[v, c]| + 2^-24 |y[c]| (+ 1e-12 for the double sums).
 * The bound is also checked to be tight enough to mean something: on a row whose dropped tail
 * is one token aligned with max |E|, the error reaches at least half of it. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "format/mlx_quant.h"
#include "isa_list.h"
#include "kernels/gemm.h"
#include "t.h"

#define V 4096
#define C 192
#define CAP 64
#define EPS 1e-3

static uint64_t rng = 0x2545f4914f6cdd1dull;
static double unif(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* p = softmax(beta * g) with g standard-ish normal, in double, stored as fp32 */
static void prob_row(float *p, double beta) {
    double *z = malloc(sizeof(double) * V), mx = -INFINITY, s = 0;
    for (int v = 0; v < V; v++) { z[v] = beta * (unif() + unif() + unif() - 1.5) * 2; if (z[v] > mx) mx = z[v]; }
    for (int v = 0; v < V; v++) s += (z[v] = exp(z[v] - mx));
    for (int v = 0; v < V; v++) p[v] = (float)(z[v] / s);
    free(z);
}

typedef struct { const dg_mat *E; const double *Ed; const double *emax; } table;

static int cmp_desc(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

/* Runs one row through the selection and, when sparse, the sparse sum; checks the contract.
 * Returns the selected count (-1 dense) and the largest error as a fraction of its bound. */
static int check_row(const dg_kernels *k, const table *T, const float *p, const char *what, double *frac) {
    static int idx[V];
    static float srt[V];
    double dropped = -1;
    int n = dg_tn_select(p, V, EPS, CAP, idx, &dropped);
    /* the shortest list: the top kmin tokens; the contract allows those with p >= p_kmin / 2 */
    memcpy(srt, p, sizeof srt);
    qsort(srt, V, sizeof *srt, cmp_desc);
    double rest = 0;
    int kmin = V;
    while (kmin > 1 && rest + srt[kmin - 1] <= EPS) rest += srt[--kmin];
    int allowed = 0;
    for (int v = 0; v < V; v++) allowed += p[v] >= srt[kmin - 1] / 2;
    *frac = 0;
    if (n < 0) {
        CHECK(allowed > CAP, "%s: refused, but %d tokens would do", what, allowed);
        return n;
    }
    CHECK(n >= kmin && n <= allowed, "%s: %d tokens listed, shortest list %d, allowed %d", what, n, kmin, allowed);
    float minp = INFINITY;
    for (int t = 0; t < n; t++) {
        CHECK(t == 0 || idx[t] > idx[t - 1], "%s: token list not in id order", what);
        if (p[idx[t]] < minp) minp = p[idx[t]];
    }
    double ref_drop = 0, next_bin = 0;
    for (int v = 0, t = 0; v < V; v++) {
        if (t < n && idx[t] == v) { if (p[v] < 2 * minp) next_bin += p[v]; t++; continue; }
        CHECK(p[v] <= minp, "%s: token %d (p %.3g) left out above a listed one (%.3g)", what, v, p[v], minp);
        ref_drop += p[v];
    }
    CHECK(fabs(dropped - ref_drop) <= 1e-12, "%s: dropped %.17g, recomputed %.17g", what, dropped, ref_drop);
    CHECK(dropped <= EPS, "%s: dropped %.3g > eps", what, dropped);
    CHECK(dropped + next_bin > EPS, "%s: the list could have been a power of two shorter", what);
    float y[C], tmp[C];
    double acc[C];
    dg_tn_sparse_row(k, T->E, p, idx, n, y, tmp, acc);
    for (int c = 0; c < C; c++) {
        double ref = 0;
        for (int v = 0; v < V; v++) ref += (double)p[v] * T->Ed[(size_t)v * C + c];
        double err = fabs(y[c] - ref), bound = dropped * T->emax[c] + ldexp(fabs(y[c]), -24) + 1e-12;
        CHECK(err <= bound, "%s: column %d error %.3g > bound %.3g", what, c, err, bound);
        if (bound > 0 && err / bound > *frac) *frac = err / bound;
    }
    return n;
}

int main(void) {
    (void)t_golden;
    /* the table: N(0, 0.05)-ish values, some rows scaled up so max |E| differs per column */
    float *w = malloc(sizeof(float) * V * C);
    for (size_t i = 0; i < (size_t)V * C; i++) w[i] = (float)((unif() + unif() + unif() - 1.5) * 0.1);
    for (int c = 0; c < C; c++) w[(size_t)(7 * c % V) * C + c] = (float)(0.5 + c * 0.01);
    uint8_t *packed = malloc(dg_affine_row_bytes(C, 8) * V);
    uint16_t *sc = malloc(sizeof(uint16_t) * V * (C / 64)), *bi = malloc(sizeof(uint16_t) * V * (C / 64));
    dg_affine_quantize(w, V, C, 8, 64, packed, sc, bi);
    dg_mat E = {.kind = DG_W_AFFINE, .rows = V, .cols = C, .w = packed, .w_stride = dg_affine_row_bytes(C, 8),
                .scales = (const uint8_t *)sc, .biases = (const uint8_t *)bi, .sb_stride = 2 * (C / 64), .bits = 8, .group = 64};
    double *Ed = malloc(sizeof(double) * V * C), emax[C] = {0};
    float row[C];
    int vmax[C] = {0};
    for (int v = 0; v < V; v++) {
        dg_mat_row(&E, v, row);
        for (int c = 0; c < C; c++) {
            Ed[(size_t)v * C + c] = row[c];
            if (fabs(row[c]) > emax[c]) { emax[c] = fabs(row[c]); vmax[c] = v; }
        }
    }
    table T = {&E, Ed, emax};
    dg_isa isas[T_MAX_ISAS];
    int n_isas = t_isas(isas);
    float *p = malloc(sizeof(float) * V);
    for (int ii = 0; ii < n_isas; ii++) {
        dg_kernels k;
        if (!dg_kernels_init(&k, isas[ii], 0, 0, 1, C)) { CHECK(0, "dg_kernels_init"); return 1; }
        char what[96];
        int sparse = 0, dense = 0;
        double frac;
        /* softmax rows from flat to peaked: the flat ones must go dense, the peaked sparse */
        const double betas[] = {0.5, 2, 4, 8, 12, 16, 24, 40, 80, 200};
        for (int b = 0; b < 10; b++)
            for (int r = 0; r < 4; r++) {
                prob_row(p, betas[b]);
                snprintf(what, sizeof what, "%s beta %.0f row %d", dg_isa_name(isas[ii]), betas[b], r);
                if (check_row(&k, &T, p, what, &frac) < 0) dense++; else sparse++;
            }
        CHECK(sparse > 0 && dense > 0, "%s: %d sparse, %d dense rows: both kinds must occur", dg_isa_name(isas[ii]), sparse, dense);
        /* cap: CAP + 1 equal tokens need more than cap entries */
        for (int v = 0; v < V; v++) p[v] = v <= CAP ? 1.0f / (CAP + 1) : 0.0f;
        CHECK(check_row(&k, &T, p, "cap + 1 tokens", &frac) < 0, "cap + 1 tokens listed sparsely");
        /* eps: a flat tail of total mass 2 eps cannot be dropped, and it needs V > cap tokens */
        for (int v = 0; v < V; v++) p[v] = v == 0 ? (float)(1 - 2 * EPS) : (float)(2 * EPS / (V - 1));
        CHECK(check_row(&k, &T, p, "tail 2 eps", &frac) < 0, "a tail of 2 eps dropped");
        /* tightness: one dropped token sitting on max |E| of column 5 */
        int c5 = 5, vm = vmax[c5], top = vm == 0 ? 1 : 0;
        for (int v = 0; v < V; v++) p[v] = 0.0f;
        p[vm] = (float)(0.9 * EPS);
        p[top] = 1.0f - p[vm];
        CHECK(check_row(&k, &T, p, "one dropped token", &frac) == 1, "one dropped token: not sparse over 1 token");
        CHECK(frac >= 0.5, "one dropped token: error only %.3g of the bound", frac);
        dg_kernels_free(&k);
    }
    free(w); free(packed); free(sc); free(bi); free(Ed); free(p);
    return t_done("test_sparse_tn");
}
