/* Sparse rows of the non-transposed product P · W for probability rows (the self-conditioning
 * soft embedding, MODEL.md §4.9): a row whose mass sits on a few tokens is summed over those
 * tokens' rows of W instead of through the dense GEMM. See gemm.h for the error bound. */
#include <string.h>
#include "kernels/gemm.h"
#include "kernels/isa.h"

int dg_tn_select(const float *p, int V, double eps, int cap, int *idx, double *dropped) {
    /* Every token below tau is dropped; at most 1/tau tokens can reach it, and those are the
     * candidates. tau = eps / cap keeps the dropped mass small when the row is concentrated;
     * the dropped mass is then summed exactly rather than assumed. */
    const float tau = (float)(eps / cap);
    double drop = 0;
    int n = 0;
    for (int v = 0; v < V; v++) {
        if (p[v] < tau) { drop += p[v]; continue; }
        if (n == cap) return -1;
        idx[n++] = v;
    }
    *dropped = drop;
    return drop <= eps ? n : -1;
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
