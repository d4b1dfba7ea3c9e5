/* Matrix products against stored weights.
 *
 * A dg_mat is a view of one weight matrix [rows = out_features, cols = in_features] as stored
 * in the mapped file: F32, BF16, F16, or MLX affine-quantized (packed codes + bf16 scales/biases
 * per group). Kernels never copy or dequantize a whole matrix; they expand a few rows at a time.
 *
 * Paths: the precise path (fp32 activations, weights expanded exactly to fp32, fp32 accumulation)
 * is the reference the golden checks use; fast paths (int16 or int8 activations, ...) are chosen
 * by dg_kernels.precise = 0 and the ISA, and are tested against the precise one. */
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

typedef struct dg_kernels {
    dg_isa isa;
    int precise;
    /* Fast path for 4-bit affine weights: 0 (default) = int16 activations (near-exact,
     * ~1e-5 relative error per product); 1 = int8 activations (faster, ~0.5% per product, which
     * compounds to several % on the logits). Set by the context after dg_kernels_init. */
    int int8;
    int n_threads;
    float **scratch;        /* per thread: packed panels, fast-path space (see gemm.c) */
    size_t scratch_floats;
    int max_cols;
    /* Fast path only: quantized activations, shared by the tasks of one dg_gemm call (so
     * dg_gemm must not run concurrently with itself on one dg_kernels), and per thread for
     * dg_gemm_rows. Each holds DG_QROWS rows of max_cols columns; more rows go in chunks. */
    void *qshared;
    void **qthread;
} dg_kernels;

#define DG_QROWS 256

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

/* Activations quantized for the int8 path (precise == 0, AVX2, MLX affine weights of 4 or 8 bits
 * with a group size that is a multiple of 64). Each row is quantized per 64-column block to
 * symmetric int8, q = round(x / s) with s = max|x| / 127; blocks are padded to a multiple of 8
 * (zero codes, zero scales). The layout depends on the weights' bits (qgemm_avx2.c): for 4-bit
 * weights, int8 codes interleaved across 8 blocks (dword lane L of each 32-byte step belongs to
 * block L) to match the kernel's repacked weights; for 8-bit weights, int16 codes in natural
 * order (u8 codes times int8 would saturate the 16-bit pair sums of maddubs). Quantize once, use
 * for every matrix with the same input (q/k/v, gate/up), via dg_gemm_q / dg_gemm_rows_q. */
typedef struct dg_qact {
    int n, cols, bits;
    int wide;           /* 1: int16 codes (dg_qact16_init), 0: the int8 layouts above */
    int nblocks;        /* 64-column blocks, padded to a multiple of 8 */
    size_t row_bytes;   /* stride of q, a multiple of 64 */
    uint8_t *q;         /* [n][row_bytes] */
    float *scale;       /* [n][nblocks] */
    float *ssum;        /* [n][nblocks]: scale * (sum of the block's codes), for the bias term */
} dg_qact;

/* Bytes of buffer (64-byte aligned) dg_qact_init needs for n rows of cols columns. */
size_t dg_qact_bytes(int n, int cols, int bits);
/* Lays q out in buf. Returns 0 if the int8 path cannot serve (bits, cols % 64). */
int dg_qact_init(dg_qact *q, void *buf, int n, int cols, int bits);
/* The int16 layout (default fast path): each 64-column block quantized to symmetric int16,
 * q = round(x / s) with s = max|x| / 32767, codes interleaved across 8 blocks (dword lane L of
 * each 32-byte step belongs to block L; order within a block per bits, see qgemm16_avx2.c).
 * Same size as the 8-bit int8 layout; scale and ssum as above. dg_qact_quantize, dg_gemm_q and
 * dg_gemm_rows_q take either layout. */
size_t dg_qact16_bytes(int n, int cols, int bits);
int dg_qact16_init(dg_qact *q, void *buf, int n, int cols, int bits);
/* Quantizes X[n = q->n, q->cols] (row stride ldx) into q, in parallel. */
void dg_qact_quantize(dg_pool *pool, dg_qact *q, const float *X, int ldx);
/* True if dg_gemm_q / dg_gemm_rows_q can take W with activations quantized for W->bits
 * (fast path, AVX2 ISA, 4/8-bit affine, group a multiple of 64). */
int dg_gemm_q_ok(const dg_kernels *k, const dg_mat *W);
/* dg_gemm / dg_gemm_rows with pre-quantized activations (q->n rows; q->bits == W->bits). */
void dg_gemm_q(const dg_kernels *k, dg_pool *pool, const dg_mat *W, const dg_qact *q, float *Y, int ldy);
void dg_gemm_rows_q(const dg_kernels *k, int thread, const dg_mat *W, int r0, int r1,
                    const dg_qact *q, float *Y, int ldy);

/* Expands row r of W to fp32 (embedding lookup). */
void dg_mat_row(const dg_mat *W, int r, float *out);

/* Expands columns [c0, c0+nc) of row r to fp32. */
void dg_mat_row_range(const dg_mat *W, int r, int c0, int nc, float *out);

#endif
