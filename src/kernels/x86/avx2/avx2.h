/* The AVX2+FMA+F16C kernels (x86-64), entries of the avx2 table (table.c) and building blocks of
 * the wider x86 tables. Declarations only: callable on any x86 build, runnable where the CPU
 * has the ISA. */
#ifndef DG_KERNELS_AVX2_H
#define DG_KERNELS_AVX2_H
#include "kernels/isa.h"

#define DG_MR_AVX2 6
void dg_mk_avx2(int m, int nc, int kc, const float *x, int ldx, const float *wt, float *y, int ldy, int accumulate);
void dg_expand_avx2(const dg_mat *W, int r, int c0, int nc, float *out);
void dg_pack_avx2(const dg_mat *W, int r0, int nr, int k0, int kc, float *panel, float *tmp);
void dg_softcap_avx2(float *z, int n, double cap);
void dg_softmax_avx2(float *p, int n);
void dg_gelu_mul_avx2(float *y, const float *g, const float *u, int n);
void dg_sample_row_avx2(const float *logits, float *pl, int V, double invT, double u, dg_row_result *r);
/* Integer paths for MLX affine 4/8-bit weights: int16 activations (near-exact; int16g4 the default
 * for 4-bit, int16 the first layout) and int8 activations (lossy). */
extern const dg_qpath dg_qpath_int16g4_avx2, dg_qpath_int16_avx2, dg_qpath_int8_avx2;
/* Peak loops of those kernels' inner instructions (peak.c). */
extern const dg_peak_fn dg_peak_avx2[DG_OPS_KINDS];
/* The first int16 layout's and the int8 path's weight repacks, reused by the wider x86 kernels:
 * one row's `bits`-bit codes (nb 64-column blocks) repacked into nsb superblocks of 8 blocks,
 * 32-bit lane L of each 32-byte step belonging to block L; int16 codes (1 KiB per superblock) /
 * bytes (512 B). */
void dg_repack16_avx2(const uint8_t *row, int bits, int nb, int nsb, void *out);
void dg_repack8_avx2(const uint8_t *row, int bits, int nb, int nsb, uint8_t *out);
/* The int16 repack for the int16g4 layout (superblocks of 256 columns: 4 groups, two 32-column halves
 * each), and its fp32 scales/biases of W rows [r0, r0+nr) per lane (nl lanes): ws/wb [nr][nl]. */
void dg_repack16g4_avx2(const uint8_t *row, int bits, int nb, int nsb, void *out);
void dg_lane_scales16g4_avx2(const dg_mat *W, int r0, int nr, int nl, float *ws, float *wb);
/* The same for superblocks of 8 blocks, lane L = block L (the int16 and int8 layouts): what
 * dg_block_scales computes, by vector loads. */
void dg_lane_scales16_avx2(const dg_mat *W, int r0, int nr, int nl, float *ws, float *wb);
/* Integer path for ggml block types (GGUF): int16 activations, near-exact. */
extern const dg_qpath dg_qpath_ggml16_avx2;

#endif
