/* The portable kernels (any architecture): the reference every ISA's table is tested against. */
#ifndef DG_KERNELS_C_H
#define DG_KERNELS_C_H
#include "kernels/isa.h"

#define DG_MR_C 6
void dg_mk_c(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate);
void dg_pack_c(const dg_mat *W, int r0, int nr, int k0, int kc, float *panel, float *tmp);
void dg_sample_row_c(const float *logits, float *pl, int V, double invT, double u, dg_row_result *r);

#endif
