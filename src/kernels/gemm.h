/* Matrix products against stored weights.
 *
 * A dg_mat is a view of one weight matrix [rows = out_features, cols = in_features] as stored
 * in the mapped file: F32, BF16, F16, MLX affine-quantized (packed codes + bf16 scales/biases
 * per group), or ggml block-quantized (GGUF). Kernels never copy or dequantize a whole matrix;
 * they expand a few rows at a time.
 *
 * Paths: the precise path (fp32 activations, weights expanded exactly to fp32, fp32 accumulation)
 * is the reference the golden checks use; fast paths (integer GEMMs with int16 or int8
 * activations) are chosen by dg_kernels.precise = 0 and the ISA's table (kernels/isa.h), and
 * are tested against the precise one. */
#ifndef DG_KERNELS_GEMM_H
#define DG_KERNELS_GEMM_H
#include <stddef.h>
#include <stdint.h>
#include "core/pool.h"
#include "dgemma.h"

typedef enum dg_wkind { DG_W_F32, DG_W_BF16, DG_W_F16, DG_W_AFFINE, DG_W_GGML } dg_wkind;

typedef struct dg_mat {
    dg_wkind kind;
    int rows, cols;                 /* logical shape [out, in] */
    const uint8_t *w;               /* row r starts at w + r * w_stride (maybe unaligned) */
    size_t w_stride;
    const uint8_t *scales, *biases; /* AFFINE: bf16 [rows, cols / group], row stride sb_stride */
    size_t sb_stride;
    int bits, group;                /* AFFINE only */
    int gtype;                      /* GGML: block type (core/ggml_type.h); rows of whole blocks */
} dg_mat;

typedef struct dg_isa_table dg_isa_table;
typedef struct dg_qpath dg_qpath;
typedef struct dg_attpath dg_attpath;

typedef struct dg_kernels {
    const dg_isa_table *t;  /* the ISA's kernels (kernels/isa.h) */
    dg_isa isa;
    int precise;            /* 1: fp32 path only */
    int lossy;              /* fast path may take lossy integer paths (int8 activations) */
    int n_threads;
    void **scratch;         /* per thread: packed panels, integer-path repacking */
    size_t scratch_bytes;
    int max_cols;
    /* Fast path only: quantized activations, shared by the tasks of one dg_gemm call (so
     * dg_gemm must not run concurrently with itself on one dg_kernels), and per thread for
     * dg_gemm_rows. Each holds DG_QROWS rows of max_cols columns; more rows go in chunks. */
    void *qshared;
    void **qthread;
    size_t qbytes;
} dg_kernels;

#define DG_QROWS 256

/* Sets up the kernels of `isa` (resolved: dg_isa_resolve) with per-thread scratch for matrices
 * of up to max_cols columns. lossy: see dg_kernels. Returns 0 when out of memory. */
int dg_kernels_init(dg_kernels *k, dg_isa isa, int precise, int lossy, int n_threads, int max_cols);
void dg_kernels_free(dg_kernels *k);

/* The table's attention path on packed K/V (kernels/isa.h), or NULL (precise path, or none:
 * attention runs on dg_gemm_rows). */
const dg_attpath *dg_kernels_att(const dg_kernels *k);

/* Y[i, r] = sum_j X[i, j] * W[r, j] for i < n, r < W->rows (row strides ldx, ldy in floats).
 * Parallel over blocks of W rows, so every weight byte is read once per call. */
void dg_gemm(const dg_kernels *k, dg_pool *pool, const dg_mat *W,
             const float *X, int n, int ldx, float *Y, int ldy);

/* The same for W rows [r0, r1) only, on the calling thread (`thread` picks its scratch).
 * Used inside tasks that already run in parallel (MoE experts). Writes Y[i, r] for r in range. */
void dg_gemm_rows(const dg_kernels *k, int thread, const dg_mat *W, int r0, int r1,
                  const float *X, int n, int ldx, float *Y, int ldy);

/* Y[i, c] = sum_r P[i, r] * W[r, c]: the non-transposed product (soft embedding P · E).
 * Parallel over column tiles of W. dg_gemm_tn_ops: the kind of arithmetic it does for W
 * (benchmarks). */
void dg_gemm_tn(const dg_kernels *k, dg_pool *pool, const dg_mat *W,
                const float *P, int n, int ldp, float *Y, int ldy);
dg_ops dg_gemm_tn_ops(const dg_kernels *k, const dg_mat *W);

/* Sparse rows of P · W for a probability row p[0..V) (V = W->rows, p >= 0): dg_tn_select lists
 * the tokens that carry all but at most eps of the row's mass, in id order, and returns their
 * count, with *dropped = the mass left out (summed in double); -1 when that takes more than
 * cap tokens (take the dense product). The list is every token at or above a power of two,
 * the lowest one that drops at most eps: at most the tokens with p >= p_k / 2, where p_k is
 * the smallest p of the shortest such list.
 * dg_tn_sparse_row then writes y[c] = sum over those tokens of p[v] W[v, c], accumulated in
 * double (tmp: W->cols floats, acc: W->cols doubles). Error against the dense product:
 *   |y[c] - sum_v p[v] W[v, c]| <= dropped * max_v |W[v, c]| + 2^-24 |y[c]|
 * (the dropped terms, then the one rounding to fp32). */
int dg_tn_select(const float *p, int V, double eps, int cap, int *idx, double *dropped);
void dg_tn_sparse_row(const dg_kernels *k, const dg_mat *W, const float *p, const int *idx, int n,
                      float *y, float *tmp, double *acc);

/* Bytes of the stored matrix (codes + scales + biases for affine). */
size_t dg_mat_bytes(const dg_mat *W);

/* Activations quantized for one integer path (kernels/isa.h, dg_qpath): codes in the path's
 * layout, and for the blocked affine layouts an fp32 scale per block (64 or 32 columns, as the
 * path lays them out) and ssum = scale * (sum of the block's codes), which carries the weights'
 * bias term. Quantize once, use for every matrix with the same input through dg_gemm_q /
 * dg_gemm_rows_q. */
typedef struct dg_qact {
    const dg_qpath *path;
    int n, cols, bits;
    int nblocks;        /* blocks of the path's width, padded to a multiple of 8 */
    size_t row_bytes;   /* stride of q, a multiple of 64 */
    uint8_t *q;         /* [n][row_bytes] */
    float *scale;       /* [n][nblocks] */
    float *ssum;        /* [n][nblocks] */
} dg_qact;

/* The integer path dg_gemm takes on its own for W (NULL: the fp32 path). */
const dg_qpath *dg_gemm_qpath(const dg_kernels *k, const dg_mat *W);
/* The paths of this context's ISA that can compute W, preferred first; returns their count
 * (at most max). Empty on the precise path. */
int dg_gemm_qpaths(const dg_kernels *k, const dg_mat *W, const dg_qpath **out, int max);
const char *dg_qpath_name(const dg_qpath *p);
/* Activation buffer bytes for n rows of W, and its layout (the path must serve W). */
size_t dg_qact_bytes(const dg_qpath *p, int n, const dg_mat *W);
void dg_qact_init(dg_qact *q, const dg_qpath *p, void *buf, int n, const dg_mat *W);
/* Quantizes X[n = q->n, q->cols] (row stride ldx) into q, in parallel. */
void dg_qact_quantize(dg_pool *pool, dg_qact *q, const float *X, int ldx);
/* dg_gemm / dg_gemm_rows with pre-quantized activations (q->n rows, laid out for W). */
void dg_gemm_q(const dg_kernels *k, dg_pool *pool, const dg_mat *W, const dg_qact *q, float *Y, int ldy);
void dg_gemm_rows_q(const dg_kernels *k, int thread, const dg_mat *W, int r0, int r1,
                    const dg_qact *q, float *Y, int ldy);

/* Expands row r of W to fp32 (embedding lookup). */
void dg_mat_row(const dg_mat *W, int r, float *out);

/* Expands columns [c0, c0+nc) of row r to fp32. */
void dg_mat_row_range(const dg_mat *W, int r, int c0, int nc, float *out);

#endif
