#include "kernels/gemm_internal.h"

void dg_mk_c(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate) {
    float acc[DG_MR][DG_NR] = {{0}};
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
