/* The AMX kernels (tiles + int8, x86-64), entries of the amx table (table.c). Declarations only:
 * callable on any x86 build, runnable where the CPU has AMX and the OS granted the tile state
 * (dg_cpu_detect asks for it). */
#ifndef DG_KERNELS_AMX_H
#define DG_KERNELS_AMX_H
#include "kernels/isa.h"

/* Integer paths for MLX affine 4/8-bit weights on int8 tiles: int16 activations split into a
 * signed high and an unsigned low byte (near-exact, two tile dots per block), and int8
 * activations (lossy, one). */
extern const dg_qpath dg_qpath_int16_amx, dg_qpath_int8_amx;
/* The soft embedding on bf16 tiles, each value split in two bf16 (near-fp32; tn_bf16.c). */
extern const dg_tnpath dg_tnpath_bf16x3_amx;
/* fp32 and bf16 weights on bf16 tiles, values split in two bf16 (near-fp32; qgemm_bf16.c). */
extern const dg_qpath dg_qpath_bf16x3_amx;
/* Attention's products on K and V packed as bf16 hi + lo B tiles once per layer (attention.c). */
extern const dg_attpath dg_attpath_bf16x3_amx;
/* Shared by the bf16x3 kernels (qgemm_bf16.c): rows [i0, i1) of X (cols wide) into A tiles of
 * ns 32-column steps, the activation layout; the last 16-row group's rows past n zeroed there;
 * W rows [r0, r0 + nr) as B tiles of ns steps (missing rows of the last tile zero); and
 * Y[i][r] = A row i . B row r for i < n, r < nr (wlo: B has a lo plane). */
void dg_bf16x3_split_rows(const float *X, int ldx, int i0, int i1, int cols, int ns, uint8_t *a);
void dg_bf16x3_zero_pad(uint8_t *a, int n, int ns);
void dg_bf16x3_pack_rows(const dg_mat *W, int r0, int nr, int ns, uint8_t *rp);
void dg_bf16x3_product(const uint8_t *a, int n, int ns, const uint8_t *b, int nr, float *Y, int ldy, int wlo);
/* Peak loops (dg_peak_fn) of the tile dots: int8 (tdpbusd), the int16 path's pair per block
 * (tdpbusd + tdpbuud) and bf16 (tdpbf16ps). */
double dg_peak_int8_amx(long reps);
double dg_peak_int16_amx(long reps);
double dg_peak_bf16_amx(long reps);

#endif
