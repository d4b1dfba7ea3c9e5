/* Sparse rows of the non-transposed product P · W for probability rows (the self-conditioning
 * soft embedding, MODEL.md §4.9): a row whose mass sits on a few tokens is summed over those
 * tokens' rows of W instead of through the dense GEMM. See gemm.h for the error bound. */
#include <stdint.h>
#include <string.h>
#include "kernels/gemm.h"
#include "kernels/isa.h"

int dg_tn_select(const float *p, int V, double eps, int cap, int *idx, double *dropped) {
    /* Pass 1: count and mass of the row per binary exponent of p (p >= 0, so the bits order
     * like the values). The dropped tokens are then the lowest bins whose mass stays <= eps:
     * the smallest such list up to a factor 2 in threshold, found without sorting. */
    double mass[256] = {0};
    int cnt[256] = {0};
    for (int v = 0; v < V; v++) {
        uint32_t b;
        memcpy(&b, &p[v], 4);
        mass[b >> 23 & 255] += p[v];
        cnt[b >> 23 & 255]++;
    }
    double drop = 0;
    int e = 0, n = V;
    while (e < 255 && drop + mass[e] <= eps) { drop += mass[e]; n -= cnt[e]; e++; }
    if (n > cap) return -1;
    /* Pass 2: the tokens of the kept bins, in id order. */
    const uint32_t lo = (uint32_t)e << 23;
    n = 0;
    for (int v = 0; v < V; v++) {
        uint32_t b;
        memcpy(&b, &p[v], 4);
        if (b >= lo) idx[n++] = v;
    }
    *dropped = drop;
    return n;
}

void dg_tn_sparse_row(const dg_kernels *k, const dg_mat *W, const float *p, const int *idx, int n,
                      float *y, float *tmp, double *acc) {
    int C = W->cols;
    memset(acc, 0, (size_t)C * sizeof *acc);
    for (int t = 0; t < n; t++) {
        double pv = p[idx[t]];
        k->t->expand(W, idx[t], 0, C, tmp);
        for (int c = 0; c < C; c++) acc[c] += pv * tmp[c];
    }
    for (int c = 0; c < C; c++) y[c] = (float)acc[c];
}
