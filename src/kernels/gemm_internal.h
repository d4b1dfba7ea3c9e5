/* Internals shared by the GEMM drivers (gemm.c) and the per-ISA kernels (*_avx2.c).
 *
 * fp32 path: y[i, 0..15] (+)= sum_k x[i, k] * wt[k, 0..15] for i < m <= 6; only columns < nc are
 * stored. wt is a packed [kc][16] panel (64-byte aligned).
 *
 * int8 path (MLX affine weights, 4 or 8 bits, group a multiple of 64): activations are quantized
 * per 64-column block to symmetric int8 (see dg_qact in gemm.h) and dotted with the integer codes;
 * each block's integer dot is scaled by (weight scale * activation scale) in fp32, and the weight
 * bias enters through the block's sum of activations. */
#ifndef DG_KERNELS_GEMM_INTERNAL_H
#define DG_KERNELS_GEMM_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "kernels/gemm.h"

#define DG_MR 6
#define DG_NR 16
#define DG_KC 256   /* depth of a packed fp32 panel */
#define DG_QB 64    /* activation quantization block (columns) of the int8 path */

typedef void (*dg_microkernel)(int m, int nc, int kc, const float *x, int ldx,
                               const float *wt, float *y, int ldy, int accumulate);

void dg_mk_c(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate);
void dg_mk_avx2(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate);

/* Exact expansion, the same values as dg_mat_row_range (which it calls for what it does not
 * vectorise). */
void dg_expand_avx2(const dg_mat *W, int r, int c0, int nc, float *out);
/* Packs W rows [r0, r0+nr) (nr <= 16, missing rows zero), columns [k0, k0+kc) into a [kc][16]
 * panel. tmp: 16 * DG_KC floats. */
void dg_pack_rows_avx2(const dg_mat *W, int r0, int nr, int k0, int kc, float *panel, float *tmp);

/* The int8 path applies to this matrix (the caller also checks the ISA). */
static inline int dg_q8_eligible(const dg_mat *W) {
    return W->kind == DG_W_AFFINE && (W->bits == 4 || W->bits == 8) && W->group > 0 &&
           W->group % DG_QB == 0 && W->cols % W->group == 0;
}

/* Quantizes rows [i0, i1) of X into q (layout for `bits`, see dg_qact). */
void dg_quantize_rows_avx2(const dg_qact *q, const float *X, int ldx, int i0, int i1);
/* Y[i, r] = sum_j X[i, j] W[r, j] for all rows of q and W rows [r0, r1), r1 - r0 <= 64; wsb:
 * 64-byte aligned scratch of 2 * 64 * q->nblocks floats (the rows' fp32 scales and biases per
 * block) + 64 * q->nblocks * 64 bytes (4-bit codes repacked). */
void dg_q8_rows_avx2(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, float *wsb);

/* int16 path (qgemm16_avx2.c): the same contract for activations laid out by dg_qact16_init.
 * wsb: 2 * 64 * q->nblocks floats + 32 rows * q->nblocks * 128 bytes (codes as int16). */
void dg_quantize16_rows_avx2(const dg_qact *q, const float *X, int ldx, int i0, int i1);
void dg_q16_rows_avx2(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, float *wsb);

#endif
