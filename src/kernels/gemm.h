/* Matrix products against stored weights.
 *
 * A dg_mat is a view of one weight matrix [rows = out_features, cols = in_features] as stored
 * in the mapped file: F32, BF16, F16, or MLX affine-quantized (packed codes + bf16 scales/biases
 * per group). Kernels never copy or dequantize a whole matrix; they expand a few rows at a time.
 *
 * Paths: the precise path (fp32 activations, weights expanded exactly to fp32, fp32 accumulation)
 * is the reference the golden checks use; fast paths (int8 activations, ...) are chosen by
 * dg_kernels.precise = 0 and the ISA, and are tested against the precise one. */
#ifndef DG_KERNELS_GEMM_H
#define DG_KERNELS_GEMM_H
#include <stddef.h>
#include <stdint.h>
#include "core/pool.h"
#include "dgemma.h"

typedef enum dg_wkind { DG_W_F32, DG_W_BF16, DG_W_F16, DG_W_AFFINE } dg_wkind;

typedef struct dg_mat {
    dg_wkind kind;
    int rows, cols;                 /* logical shape [out, in] */
    const uint8_t *w;               /* row r starts at w + r * w_stride (maybe unaligned) */
    size_t w_stride;
    const uint8_t *scales, *biases; /* AFFINE: bf16 [rows, cols / group], row stride sb_stride */
    size_t sb_stride;
    int bits, group;                /* AFFINE only */
} dg_mat;

/* Largest `cols` any kernel call may see; sizes the per-thread scratch. */
#define DG_GEMM_ROW_BLOCK 4

typedef struct dg_kernels {
    dg_isa isa;
    int precise;
    int n_threads;
    float **scratch;        /* per thread: DG_GEMM_ROW_BLOCK * max_cols floats (+ fast-path space) */
    size_t scratch_floats;
} dg_kernels;

/* Allocates per-thread scratch for matrices of up to max_cols columns. */
int dg_kernels_init(dg_kernels *k, dg_isa isa, int precise, int n_threads, int max_cols);
void dg_kernels_free(dg_kernels *k);

/* Y[i, r] = sum_j X[i, j] * W[r, j] for i < n, r < W->rows (row strides ldx, ldy in floats).
 * Parallel over blocks of W rows, so every weight byte is read once per call. */
void dg_gemm(const dg_kernels *k, dg_pool *pool, const dg_mat *W,
             const float *X, int n, int ldx, float *Y, int ldy);

/* The same for W rows [r0, r1) only, on the calling thread (`thread` picks its scratch).
 * Used inside tasks that already run in parallel (MoE experts). Writes Y[i, r] for r in range. */
void dg_gemm_rows(const dg_kernels *k, int thread, const dg_mat *W, int r0, int r1,
                  const float *X, int n, int ldx, float *Y, int ldy);

/* Y[i, c] = sum_r P[i, r] * W[r, c]: the non-transposed product (soft embedding P · E).
 * Parallel over column tiles of W. */
void dg_gemm_tn(const dg_kernels *k, dg_pool *pool, const dg_mat *W,
                const float *P, int n, int ldp, float *Y, int ldy);

/* Bytes of the stored matrix (codes + scales + biases for affine). */
size_t dg_mat_bytes(const dg_mat *W);

/* Expands row r of W to fp32 (embedding lookup). */
void dg_mat_row(const dg_mat *W, int r, float *out);

/* Expands columns [c0, c0+nc) of row r to fp32. */
void dg_mat_row_range(const dg_mat *W, int r, int c0, int nc, float *out);

#endif
