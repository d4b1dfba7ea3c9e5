/* GEMM drivers.
 *
 * fp32 path (precise, and fast for non-affine weights or affine formats the int8 path does not
 * take): pack a panel of expanded weights (DG_KC deep, 16 wide, L2 resident), then sweep the
 * activation rows through the ISA's 6x16 micro-kernel. Weights are expanded once per call and
 * never held whole. The AVX2 packing (expand_avx2.c) gives bit-identical panels.
 *
 * int16 / int8 paths (fast, AVX2, 4/8-bit affine with group % 64 == 0; qgemm16_avx2.c,
 * qgemm_avx2.c): activations are quantized once per call (or once by the caller: dg_gemm_q),
 * then each block of NB weight rows is repacked into the kernel's layout (per thread scratch)
 * and dotted with all activation rows. int16 is the default (near-exact); int8 is opt-in
 * (dg_kernels.int8, from dg_ctx_params.int8) for 4-bit weights. */
#include "kernels/gemm.h"
#include <stdlib.h>
#include <string.h>
#include "kernels/gemm_internal.h"

#define KC DG_KC
#define NB 64       /* weight rows per block / task of dg_gemm */
#define NBT 128     /* columns of W per task of dg_gemm_tn: P (n x V fp32, the big operand) is
                       streamed once per task, so wider tiles mean fewer passes over it */

static int use_avx2(const dg_kernels *k) { return k->isa >= DG_ISA_AVX2; }

static dg_microkernel microkernel(const dg_kernels *k) { return use_avx2(k) ? dg_mk_avx2 : dg_mk_c; }

static size_t round64(size_t b) { return (b + 63) & ~(size_t)63; }

static int padded_blocks(int cols) { return (cols / DG_QB + 7) / 8 * 8; }
static size_t qrow_bytes(int cols, int bits) {
    return (size_t)padded_blocks(cols) * DG_QB * (bits == 8 ? 2 : 1);   /* 8-bit: hi and lo planes */
}

size_t dg_qact_bytes(int n, int cols, int bits) {
    return (size_t)n * qrow_bytes(cols, bits) + 2 * round64((size_t)n * (size_t)padded_blocks(cols) * sizeof(float));
}

int dg_qact_init(dg_qact *q, void *buf, int n, int cols, int bits) {
    memset(q, 0, sizeof *q);
    if ((bits != 4 && bits != 8) || cols <= 0 || cols % DG_QB) return 0;
    q->n = n;
    q->cols = cols;
    q->bits = bits;
    q->nblocks = padded_blocks(cols);
    q->row_bytes = qrow_bytes(cols, bits);
    q->q = buf;
    q->scale = (float *)(q->q + (size_t)n * q->row_bytes);
    q->ssum = (float *)((uint8_t *)q->scale + round64((size_t)n * (size_t)q->nblocks * sizeof(float)));
    return 1;
}

size_t dg_qact16_bytes(int n, int cols, int bits) { return dg_qact_bytes(n, cols, 8); }

int dg_qact16_init(dg_qact *q, void *buf, int n, int cols, int bits) {
    if (!dg_qact_init(q, buf, n, cols, bits)) return 0;
    q->wide = 1;
    q->row_bytes = qrow_bytes(cols, 8);   /* 2 bytes per code; the int8 layouts' scale/ssum offsets differ */
    q->scale = (float *)(q->q + (size_t)n * q->row_bytes);
    q->ssum = (float *)((uint8_t *)q->scale + round64((size_t)n * (size_t)q->nblocks * sizeof(float)));
    return 1;
}

static float *scratch_wsb(const dg_kernels *k, int thread) { return k->scratch[thread]; }

int dg_kernels_init(dg_kernels *k, dg_isa isa, int precise, int n_threads, int max_cols) {
    memset(k, 0, sizeof *k);
    k->isa = isa;
    k->precise = precise;
    /* the int8 fast path on request only: its error (~0.5% per product) compounds over layers */
    k->n_threads = n_threads;
    k->max_cols = max_cols;
    /* fp32 path: a panel of NBT x KC (dg_gemm_tn; dg_gemm uses NB x KC) + 16 x KC of expanded
     * rows for the transpose; int8 path: fp32 scales and biases of NB rows + those rows'
     * 4-bit codes repacked as bytes (see qgemm_avx2.c); int16 path: the same scales and biases
     * + 32 rows' codes as int16 (qgemm16_avx2.c), the same size */
    size_t nbp = (size_t)padded_blocks(max_cols),
           q8 = 2 * (size_t)NB * nbp + (size_t)NB * nbp * DG_QB / sizeof(float) + 16,
           fp = (size_t)NBT * KC + (size_t)DG_NR * KC;
    k->scratch_floats = fp > q8 ? fp : q8;
    k->scratch = calloc((size_t)n_threads, sizeof *k->scratch);
    if (!k->scratch) return 0;
    for (int t = 0; t < n_threads; t++) {
        k->scratch[t] = aligned_alloc(64, round64(k->scratch_floats * sizeof(float)));
        if (!k->scratch[t]) return 0;
    }
    if (!precise && use_avx2(k) && max_cols >= DG_QB) {
        size_t qb = round64(dg_qact_bytes(DG_QROWS, max_cols, 8));
        k->qshared = aligned_alloc(64, qb);
        k->qthread = calloc((size_t)n_threads, sizeof *k->qthread);
        if (!k->qshared || !k->qthread) return 0;
        for (int t = 0; t < n_threads; t++)
            if (!(k->qthread[t] = aligned_alloc(64, qb))) return 0;
    }
    return 1;
}

void dg_kernels_free(dg_kernels *k) {
    if (k->scratch)
        for (int t = 0; t < k->n_threads; t++) free(k->scratch[t]);
    free(k->scratch);
    if (k->qthread)
        for (int t = 0; t < k->n_threads; t++) free(k->qthread[t]);
    free(k->qthread);
    free(k->qshared);
    memset(k, 0, sizeof *k);
}

int dg_gemm_q_ok(const dg_kernels *k, const dg_mat *W) {
    return !k->precise && use_avx2(k) && k->qshared && dg_q8_eligible(W) && W->cols <= k->max_cols;
}

/* Which quantized path dg_gemm / dg_gemm_rows take on their own: 0 = none (fp32 path), 8 = int8,
 * 16 = int16; 4-bit weights only. int16 by default: ~1.1x the fp32 path on the dense shapes and
 * ~2x on the 16-row expert shapes (where the fp32 path's weight expansion dominates), with ~2e-5
 * relative error (Zen 3: vpmaddwd issues ~1.25/cycle against 2 FMAs, so 16 MACs per madd buy
 * ~1.25x at best). int8 on request (k->int8): ~2x the fp32 path, ~0.5% error per product.
 * 8-bit weights stay on the exact fp32 path: the int16 kernel measured only 7-9% faster there
 * (q_proj and head shapes, 1 and 2 threads), under the 10% that a quantized default must buy;
 * the 8-bit int8 kernel (~15%) is not worth its error. Callers may still take either for 8-bit
 * through dg_qact16_init / dg_qact_init + dg_gemm_q. */
static int auto_q(const dg_kernels *k, const dg_mat *W) {
    if (!dg_gemm_q_ok(k, W) || W->bits != 4) return 0;
    return k->int8 ? 8 : 16;
}

static void quantize_rows(const dg_qact *q, const float *X, int ldx, int i0, int i1) {
    if (q->wide) dg_quantize16_rows_avx2(q, X, ldx, i0, i1);
    else dg_quantize_rows_avx2(q, X, ldx, i0, i1);
}

static void q_rows(const dg_mat *W, int r0, int r1, const dg_qact *q, float *Y, int ldy, float *wsb) {
    if (q->wide) dg_q16_rows_avx2(W, r0, r1, q, Y, ldy, wsb);
    else dg_q8_rows_avx2(W, r0, r1, q, Y, ldy, wsb);
}

/* Lays out q for the quantized path `path` (8 or 16) of auto_q. */
static void qact_init(dg_qact *q, void *buf, int path, int n, int cols, int bits) {
    if (path == 16) dg_qact16_init(q, buf, n, cols, bits);
    else dg_qact_init(q, buf, n, cols, bits);
}

/* ---- fp32 path ---- */

static void pack_rows_c(const dg_mat *W, int r0, int nr, int k0, int kc, float *p, float *tmp) {
    for (int r = 0; r < DG_NR; r++) {
        if (r < nr) {
            dg_mat_row_range(W, r0 + r, k0, kc, tmp);
            for (int j = 0; j < kc; j++) p[(size_t)j * DG_NR + r] = tmp[j];
        } else {
            for (int j = 0; j < kc; j++) p[(size_t)j * DG_NR + r] = 0.0f;
        }
    }
}

static void gemm_rows_f32(const dg_kernels *k, int thread, const dg_mat *W, int r0, int r1,
                          const float *X, int n, int ldx, float *Y, int ldy) {
    dg_microkernel mk = microkernel(k);
    int avx2 = use_avx2(k);
    float *panel = k->scratch[thread], *tmp = panel + (size_t)NBT * KC;
    for (int rb = r0; rb < r1; rb += NB) {
        int nrows = r1 - rb < NB ? r1 - rb : NB, ngroups = (nrows + DG_NR - 1) / DG_NR;
        for (int k0 = 0; k0 < W->cols; k0 += KC) {
            int kc = W->cols - k0 < KC ? W->cols - k0 : KC;
            for (int g = 0; g < ngroups; g++) {
                int nr = nrows - g * DG_NR < DG_NR ? nrows - g * DG_NR : DG_NR;
                float *p = panel + (size_t)g * KC * DG_NR;
                if (avx2) dg_pack_rows_avx2(W, rb + g * DG_NR, nr, k0, kc, p, tmp);
                else pack_rows_c(W, rb + g * DG_NR, nr, k0, kc, p, tmp);
            }
            for (int i = 0; i < n; i += DG_MR) {
                int m = n - i < DG_MR ? n - i : DG_MR;
                for (int g = 0; g < ngroups; g++) {
                    int nc = nrows - g * DG_NR < DG_NR ? nrows - g * DG_NR : DG_NR;
                    mk(m, nc, kc, X + (size_t)i * ldx + k0, ldx, panel + (size_t)g * KC * DG_NR,
                       Y + (size_t)i * ldy + rb + g * DG_NR, ldy, k0 > 0);
                }
            }
        }
    }
}

/* ---- int16 / int8 paths ---- */

void dg_gemm_rows_q(const dg_kernels *k, int thread, const dg_mat *W, int r0, int r1,
                    const dg_qact *q, float *Y, int ldy) {
    for (int rb = r0; rb < r1; rb += NB)
        q_rows(W, rb, r1 - rb < NB ? r1 : rb + NB, q, Y, ldy, scratch_wsb(k, thread));
}

typedef struct {
    dg_qact *q;
    const float *X;
    int ldx;
} quant_job;

#define QTASK 8     /* activation rows per quantization task */

static void quant_task(void *user, int task, int thread) {
    quant_job *j = user;
    int i0 = task * QTASK, i1 = i0 + QTASK < j->q->n ? i0 + QTASK : j->q->n;
    quantize_rows(j->q, j->X, j->ldx, i0, i1);
}

void dg_qact_quantize(dg_pool *pool, dg_qact *q, const float *X, int ldx) {
    quant_job j = {q, X, ldx};
    dg_pool_run(pool, (q->n + QTASK - 1) / QTASK, quant_task, &j);
}

typedef struct {
    const dg_kernels *k;
    const dg_mat *W;
    const dg_qact *q;
    float *Y;
    int ldy;
} q8_job;

static void q8_task(void *user, int task, int thread) {
    q8_job *j = user;
    int r0 = task * NB, r1 = r0 + NB < j->W->rows ? r0 + NB : j->W->rows;
    q_rows(j->W, r0, r1, j->q, j->Y, j->ldy, scratch_wsb(j->k, thread));
}

void dg_gemm_q(const dg_kernels *k, dg_pool *pool, const dg_mat *W, const dg_qact *q, float *Y, int ldy) {
    if (q->n <= 0) return;
    q8_job j = {k, W, q, Y, ldy};
    dg_pool_run(pool, (W->rows + NB - 1) / NB, q8_task, &j);
}

/* ---- public entries ---- */

void dg_gemm_rows(const dg_kernels *k, int thread, const dg_mat *W, int r0, int r1,
                  const float *X, int n, int ldx, float *Y, int ldy) {
    int path = auto_q(k, W);
    if (path) {
        /* quantize up to DG_QROWS rows at a time into this thread's buffer */
        for (int i0 = 0; i0 < n; i0 += DG_QROWS) {
            int m = n - i0 < DG_QROWS ? n - i0 : DG_QROWS;
            dg_qact q;
            qact_init(&q, k->qthread[thread], path, m, W->cols, W->bits);
            quantize_rows(&q, X + (size_t)i0 * ldx, ldx, 0, m);
            dg_gemm_rows_q(k, thread, W, r0, r1, &q, Y + (size_t)i0 * ldy, ldy);
        }
        return;
    }
    gemm_rows_f32(k, thread, W, r0, r1, X, n, ldx, Y, ldy);
}

typedef struct {
    const dg_kernels *k;
    const dg_mat *W;
    const float *X;
    int n, ldx, ldy;
    float *Y;
} gemm_job;

static void gemm_task(void *user, int task, int thread) {
    gemm_job *j = user;
    int r0 = task * NB, r1 = r0 + NB < j->W->rows ? r0 + NB : j->W->rows;
    gemm_rows_f32(j->k, thread, j->W, r0, r1, j->X, j->n, j->ldx, j->Y, j->ldy);
}

void dg_gemm(const dg_kernels *k, dg_pool *pool, const dg_mat *W,
             const float *X, int n, int ldx, float *Y, int ldy) {
    if (n <= 0) return;
    int path = auto_q(k, W);
    if (path) {
        for (int i0 = 0; i0 < n; i0 += DG_QROWS) {
            int m = n - i0 < DG_QROWS ? n - i0 : DG_QROWS;
            dg_qact q;
            qact_init(&q, k->qshared, path, m, W->cols, W->bits);
            dg_qact_quantize(pool, &q, X + (size_t)i0 * ldx, ldx);
            dg_gemm_q(k, pool, W, &q, Y + (size_t)i0 * ldy, ldy);
        }
        return;
    }
    gemm_job j = {k, W, X, n, ldx, ldy, Y};
    dg_pool_run(pool, (W->rows + NB - 1) / NB, gemm_task, &j);
}

/* Y[:, c0:c0+NBT] = P · W[:, c0:c0+NBT]: the panel is a slice of W's rows, already k-major, so
 * packing is expansion plus a copy per 16 columns. */
static void gemm_tn_task(void *user, int task, int thread) {
    gemm_job *j = user;
    const dg_mat *W = j->W;
    dg_microkernel mk = microkernel(j->k);
    int avx2 = use_avx2(j->k);
    float *panel = j->k->scratch[thread], *tmp = panel + (size_t)NBT * KC;
    int c0 = task * NBT, ncols = W->cols - c0 < NBT ? W->cols - c0 : NBT, ngroups = (ncols + DG_NR - 1) / DG_NR;
    for (int k0 = 0; k0 < W->rows; k0 += KC) {
        int kc = W->rows - k0 < KC ? W->rows - k0 : KC;
        for (int kk = 0; kk < kc; kk++) {
            if (avx2) dg_expand_avx2(W, k0 + kk, c0, ncols, tmp);
            else dg_mat_row_range(W, k0 + kk, c0, ncols, tmp);
            for (int g = 0; g < ngroups; g++) {
                float *p = panel + (size_t)g * KC * DG_NR + (size_t)kk * DG_NR;
                int nc = ncols - g * DG_NR < DG_NR ? ncols - g * DG_NR : DG_NR;
                memcpy(p, tmp + g * DG_NR, (size_t)nc * sizeof *p);
                for (int c = nc; c < DG_NR; c++) p[c] = 0.0f;
            }
        }
        for (int i = 0; i < j->n; i += DG_MR) {
            int m = j->n - i < DG_MR ? j->n - i : DG_MR;
            for (int g = 0; g < ngroups; g++) {
                int nc = ncols - g * DG_NR < DG_NR ? ncols - g * DG_NR : DG_NR;
                mk(m, nc, kc, j->X + (size_t)i * j->ldx + k0, j->ldx, panel + (size_t)g * KC * DG_NR,
                   j->Y + (size_t)i * j->ldy + c0 + g * DG_NR, j->ldy, k0 > 0);
            }
        }
    }
}

void dg_gemm_tn(const dg_kernels *k, dg_pool *pool, const dg_mat *W,
                const float *P, int n, int ldp, float *Y, int ldy) {
    if (n <= 0) return;
    gemm_job j = {k, W, P, n, ldp, ldy, Y};
    dg_pool_run(pool, (W->cols + NBT - 1) / NBT, gemm_tn_task, &j);
}
