/* The NEON (Advanced SIMD, the AArch64 baseline) kernels, entries of the neon table (table.c)
 * and building blocks of the dotprod and i8mm tables. Declarations only. */
#ifndef DG_KERNELS_NEON_H
#define DG_KERNELS_NEON_H
#include "kernels/isa.h"

#define DG_MR_NEON 6
void dg_mk_neon(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate);
void dg_expand_neon(const dg_mat *W, int r, int c0, int nc, float *out);
void dg_pack_neon(const dg_mat *W, int r0, int nr, int k0, int kc, float *panel, float *tmp);
void dg_softcap_neon(float *z, int n, double cap);
void dg_softmax_neon(float *p, int n);
void dg_gelu_mul_neon(float *y, const float *g, const float *u, int n);
void dg_sample_row_neon(const float *logits, float *pl, int V, double invT, double u, dg_row_result *r);
/* Integer path for MLX affine 4/8-bit weights with int16 activations (near-exact; the plain
 * NEON integer variant, taken by every ARM table). */
extern const dg_qpath dg_qpath_int16_neon;

#endif
