/* Portable fp32 micro-kernel and panel packing. */
#include "kernels/c/c.h"

void dg_mk_c(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate) {
    float acc[DG_MR_C][DG_NR] = {{0}};
    for (int k = 0; k < kc; k++) {
        const float *w = wt + (size_t)k * DG_NR;
        for (int i = 0; i < m; i++) {
            float xv = x[(size_t)i * ldx + k];
            for (int j = 0; j < DG_NR; j++) acc[i][j] += xv * w[j];
        }
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < nc; j++) y[(size_t)i * ldy + j] = accumulate ? y[(size_t)i * ldy + j] + acc[i][j] : acc[i][j];
}

void dg_pack_c(const dg_mat *W, int r0, int nr, int k0, int kc, float *p, float *tmp) {
    for (int r = 0; r < DG_NR; r++) {
        if (r < nr) {
            dg_mat_row_range(W, r0 + r, k0, kc, tmp);
            for (int j = 0; j < kc; j++) p[(size_t)j * DG_NR + r] = tmp[j];
        } else {
            for (int j = 0; j < kc; j++) p[(size_t)j * DG_NR + r] = 0.0f;
        }
    }
}
