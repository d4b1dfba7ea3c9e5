/* The i8mm kernels (ARMv8.6 SMMLA), entries of the i8mm table (table.c) beside the dotprod and
 * NEON ones; declarations only. */
#ifndef DG_KERNELS_I8MM_H
#define DG_KERNELS_I8MM_H
#include "kernels/isa.h"

/* int8 activations against MLX affine 4/8-bit weights (lossy, as int8_avx2). */
extern const dg_qpath dg_qpath_int8_i8mm;

#endif
