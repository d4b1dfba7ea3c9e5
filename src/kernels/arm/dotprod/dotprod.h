/* The dotprod kernels (ARMv8.2 SDOT), entries of the dotprod table (table.c) beside the NEON
 * ones; declarations only. */
#ifndef DG_KERNELS_DOTPROD_H
#define DG_KERNELS_DOTPROD_H
#include "kernels/isa.h"

/* int8 activations against MLX affine 4/8-bit weights (lossy, as int8_avx2). */
extern const dg_qpath dg_qpath_int8_dotprod;

#endif
