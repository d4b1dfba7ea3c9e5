/* The AVX-512 kernels (F/BW/VL/DQ + VNNI, x86-64), entries of the avx512 table (table.c) and
 * building blocks of the amx one. Declarations only: callable on any x86 build, runnable where
 * the CPU has the ISA. */
#ifndef DG_KERNELS_AVX512_H
#define DG_KERNELS_AVX512_H
#include "kernels/isa.h"

#define DG_MR_AVX512 16
/* acc += dot(a, b) in place, for the files built with VNNI: through the intrinsics gcc copies
 * the accumulators around each dot (in the soft embedding a quarter of the loop's instructions
 * were register moves) */
#define DG_DPWSSD(acc, a, b) __asm__("vpdpwssd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b))
#define DG_DPBUSD(acc, a, b) __asm__("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(a), "v"(b))
void dg_mk_avx512(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate);
/* Integer paths for MLX affine 4/8-bit weights on the AVX2 paths' layouts, with VNNI dots:
 * int16 activations (vpdpwssd, near-exact) and int8 activations (vpdpbusd, lossy). */
extern const dg_qpath dg_qpath_int16_avx512, dg_qpath_int8_avx512;
/* int16 activations on the AVX2 int16g4 layout (superblocks of 256 columns, half the padding). */
extern const dg_qpath dg_qpath_int16g4_avx512;
/* The soft embedding P · W over MLX affine 4/8-bit tables on vpdpwssd: the table's scales
 * folded into P, quantized to int16 per row, group and block of tokens (near-exact). */
extern const dg_tnpath dg_tnpath_int16_avx512;
/* Peak loops (dg_peak_fn) of the fp32 micro-kernel's FMA and the two paths' dots; the amx
 * table's fp32 kind is this fp32 one. */
double dg_peak_fp32_avx512(long reps);
double dg_peak_int16_avx512(long reps);
double dg_peak_int8_avx512(long reps);

#endif
