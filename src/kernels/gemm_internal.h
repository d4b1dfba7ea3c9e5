/* The register-blocked inner kernel shared by the GEMM drivers, one per ISA.
 * y[i, 0..15] (+)= sum_k x[i, k] * wt[k, 0..15] for i < 6 (rows beyond m are skipped);
 * only columns < nc are stored. wt is a packed [kc][16] panel. */
#ifndef DG_KERNELS_GEMM_INTERNAL_H
#define DG_KERNELS_GEMM_INTERNAL_H
#include <stddef.h>

#define DG_MR 6
#define DG_NR 16

typedef void (*dg_microkernel)(int m, int nc, int kc, const float *x, int ldx,
                               const float *wt, float *y, int ldy, int accumulate);

void dg_mk_c(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate);
void dg_mk_avx2(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate);

#endif
