/* The kernel interface: one table of entry points per instruction set, chosen once per context.
 *
 * The drivers (gemm.c), the forward pass and the sampler call kernels only through a
 * dg_isa_table. Each ISA's code lives in its own folder (c/, x86/avx2/, ...), compiled with that
 * ISA's flags and only for the architecture that has it; table.c is the one place that says
 * which function serves which entry, and which tables this build and this CPU offer.
 *
 * fp32 GEMM (precise path, and fast path for weights no integer path takes): W rows are expanded
 * and packed into [kc][DG_NR] panels (DG_KC deep), then activation rows go through the
 * micro-kernel `mr` at a time:
 *   y[i, 0..nc) (+)= sum_k x[i, k] * wt[k, 0..nc)   for i < m <= mr; wt 64-byte aligned.
 *
 * Integer GEMMs (fast path): a dg_qpath quantizes the activations into its own layout once per
 * call (dg_qact), then dots them with blocks of at most DG_QNB weight rows, repacking those rows
 * into per-thread scratch. A table lists its paths in order of preference. */
#ifndef DG_KERNELS_ISA_H
#define DG_KERNELS_ISA_H
#include <stddef.h>
#include <stdint.h>
#include "core/error.h"
#include "kernels/gemm.h"
#include "kernels/sample_row.h"

#define DG_MR_MAX 16 /* most rows a micro-kernel takes per call */
#define DG_NR 16     /* panel width */
#define DG_KC 256    /* panel depth */
#define DG_QB 64     /* activation quantization block (columns) of the affine integer paths */
#define DG_QNB 64    /* most weight rows per dg_qpath.rows call */

typedef void (*dg_microkernel)(int m, int nc, int kc, const float *x, int ldx,
                               const float *wt, float *y, int ldy, int accumulate);
/* Exact expansion of columns [c0, c0+nc) of row r: the values of dg_mat_row_range. */
typedef void (*dg_expand_fn)(const dg_mat *W, int r, int c0, int nc, float *out);
/* Packs W rows [r0, r0+nr) (nr <= DG_NR, missing rows zero), columns [k0, k0+kc) into a
 * [kc][DG_NR] panel; tmp: DG_NR * DG_KC floats. */
typedef void (*dg_pack_fn)(const dg_mat *W, int r0, int nr, int k0, int kc, float *panel, float *tmp);

struct dg_qpath {
    const char *name;
    dg_ops ops;         /* the kind of arithmetic it does (benchmarks' share of peak) */
    /* 1: error per product well above 1e-4 relative (int8 activations): taken on its own only
     * when the context allows lossy paths (dg_kernels.lossy). */
    int lossy;
    /* The path can compute W (explicit use through dg_gemm_q: tests, benchmarks). */
    int (*serves)(const dg_mat *W);
    /* dg_gemm / dg_gemm_rows take the path on their own for W (implies serves). */
    int (*chosen)(const dg_mat *W);
    /* Activation buffer for n rows of W's width, and its layout in buf (64-byte aligned). */
    size_t (*act_bytes)(int n, int cols);
    void (*act_init)(dg_qact *q, void *buf, int n, const dg_mat *W);
    /* Quantizes rows [i0, i1) of X into q. */
    void (*quantize)(const dg_qact *q, const float *X, int ldx, int i0, int i1);
    /* Y[i, r] = sum_j X[i, j] W[r, j] for all rows of q and W rows [r0, r1), r1 - r0 <= DG_QNB.
     * scratch: 64-byte aligned, scratch_bytes(W->cols). */
    void (*rows)(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, void *scratch);
    size_t (*scratch_bytes)(int cols);
};

/* A faster transposed product Y = P · W (dg_gemm_tn, the soft embedding) where an ISA has one
 * (fast path only): each task computes one slice of W's columns (at most max_cols wide, a
 * multiple of 16) against all of P. */
typedef struct dg_tnpath {
    const char *name;
    dg_ops ops;
    int max_cols;
    int (*serves)(const dg_mat *W);
    /* Y[i, c0:c0+nc) = sum_v P[i, v] W[v, c0:c0+nc) for i < n; t: the table (its expansion);
     * scratch: 64-byte aligned, scratch_bytes(nc) */
    void (*cols)(const dg_isa_table *t, const dg_mat *W, int c0, int nc, const float *P, int n, int ldp,
                 float *Y, int ldy, void *scratch);
    size_t (*scratch_bytes)(int nc);
} dg_tnpath;

/* Attention's two products on packed K and V where an ISA has a faster form than the fp32 GEMMs
 * (fast path only). Each kv head's K and V ([nk][D] fp32, as the cache holds them) are packed
 * once per layer call, in parallel over key ranges; every task's scores and outputs then run on
 * the packed form, so no task repacks or transposes the cache. */
struct dg_attpath {
    const char *name;
    dg_ops ops;
    /* bytes of one kv head's packed K and V for nk keys of width D */
    size_t (*kv_bytes)(int nk, int D);
    /* keys [t0, t1) of K and V (t0 a multiple of 32; t1 < nk only at a multiple of 32) into kv */
    void (*pack)(const float *K, const float *V, int nk, int D, int t0, int t1, void *kv);
    /* per-task scratch (64-byte aligned) for n query rows of width D */
    size_t (*scratch_bytes)(int n, int D);
    /* S[i][t] = Q[i] . K[t] for i < n, t < nk (Q: row stride D) */
    void (*scores)(const void *kv, int nk, int D, const float *Q, int n, float *S, int lds, void *scratch);
    /* O[i] = sum_t P[i][t] V[t] for i < n (O: row stride D) */
    void (*apply)(const void *kv, int nk, int D, const float *P, int n, int ldp, float *O, void *scratch);
};

/* A register-resident loop of one kind's inner instructions: runs `reps` times, returns the
 * ops done (dg_isa_peak). */
typedef double (*dg_peak_fn)(long reps);
/* ops/s of fn run on n_threads threads at once for about `seconds`, summed over the threads,
 * each per second of its own CPU time (kernels/peak.c). */
double dg_peak_rate(dg_peak_fn fn, int n_threads, double seconds);

typedef struct dg_isa_table {
    dg_isa isa;
    int mr;                          /* rows per micro-kernel call, <= DG_MR_MAX */
    dg_microkernel mk;
    dg_expand_fn expand;
    dg_pack_fn pack;
    const dg_qpath *const *qpaths;   /* NULL-terminated, fastest first (lossy ones are skipped
                                        unless allowed) */
    /* Row ops of the logits block and the MLPs (ops.h has the portable definitions). */
    void (*softcap)(float *z, int n, double cap);
    void (*softmax)(float *p, int n);
    void (*gelu_mul)(float *y, const float *g, const float *u, int n);
    dg_row_fn sample_row;
    const dg_tnpath *tn;             /* NULL: dg_gemm_tn on the fp32 panels */
    const dg_attpath *att;           /* NULL: attention on dg_gemm_rows (fp32 K, V transposed) */
    const dg_peak_fn *peak;          /* [DG_OPS_KINDS], entries NULL where none; NULL: none */
} dg_isa_table;

/* The table of `isa` if this build has it (whatever the CPU), else NULL. */
const dg_isa_table *dg_isa_table_get(dg_isa isa);
/* Resolves a request against this build and this CPU: AUTO is the best built table the CPU
 * runs; a named ISA must be built and supported (else DG_ERR_UNSUPPORTED, never a SIGILL). */
dg_status dg_isa_resolve(dg_isa want, const dg_isa_table **out, dg_error *err);

/* ---- shared by the affine integer paths of every ISA ---- */

/* MLX affine weights of 4 or 8 bits whose groups are whole activation blocks. */
static inline int dg_affine_blocked(const dg_mat *W) {
    return W->kind == DG_W_AFFINE && (W->bits == 4 || W->bits == 8) && W->group > 0 &&
           W->group % DG_QB == 0 && W->cols % W->group == 0;
}
/* 64-column blocks of a row, padded to a multiple of 8 (superblocks of 8 blocks). */
static inline int dg_qblocks(int cols) { return (cols / DG_QB + 7) / 8 * 8; }
/* Bytes of a blocked activation layout: n rows of code_bytes per value, fp32 scale and ssum
 * per block. */
size_t dg_qact_blocked_bytes(int n, int cols, int code_bytes);
/* Lays such a layout out in buf (64-byte aligned); q->path is left to the caller. */
void dg_qact_blocked_init(dg_qact *q, void *buf, int n, int cols, int bits, int code_bytes);
/* The same for nblocks blocks of qc columns per row (nblocks * qc >= cols, nblocks a multiple of
 * 8): the layouts whose blocks are not DG_QB wide. */
size_t dg_qact_lanes_bytes(int n, int nblocks, int qc, int code_bytes);
void dg_qact_lanes_init(dg_qact *q, void *buf, int n, int cols, int bits, int nblocks, int qc, int code_bytes);
/* The bf16 scales/biases of W rows [r0, r0+nr) expanded once to one fp32 value per 64-column
 * activation block (nbp blocks, the padding ones 0): ws/wb are [nr][nbp]. */
void dg_block_scales(const dg_mat *W, int r0, int nr, int nbp, float *ws, float *wb);

#endif
