/* Row-wise elementwise operations of the forward pass (fp32), portable. */
#ifndef DG_KERNELS_OPS_H
#define DG_KERNELS_OPS_H
#include "dgemma.h"

/* y = x * (mean(x^2) + eps)^-1/2 * w over rows of n (w may be NULL: no weight). In place ok. */
void dg_rmsnorm(float *y, const float *x, const float *w, int n, double eps);
/* y = gelu_tanh(g) * u, elementwise. */
void dg_gelu_mul(float *y, const float *g, const float *u, int n);
/* Rotate-half RoPE on one head vector of length D with precomputed cos/sin [D/2]. */
void dg_rope(float *x, const float *cs, const float *sn, int D);
/* logits = cap * tanh(z / cap). */
void dg_softcap(float *z, int n, double cap);
/* p = softmax(p) in place (sum in double). */
void dg_softmax(float *p, int n);
/* (The logits-block row ops have per-ISA versions in the kernel tables: kernels/isa.h.) */

#endif
