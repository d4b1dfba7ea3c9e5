/* GEMM drivers: the ISA-independent loops around the kernels of one dg_isa_table (isa.h).
 *
 * fp32 path (precise, and fast for weights no integer path takes): pack a panel of expanded
 * weights (DG_KC deep, NB rows, L2 resident), then sweep the activation rows through the
 * micro-kernel. Weights are expanded once per call and never held whole.
 *
 * Integer paths (fast): activations are quantized once per call (or once by the caller:
 * dg_gemm_q), then each block of up to DG_QNB weight rows is repacked into the path's layout
 * (per-thread scratch) and dotted with all activation rows. Which path a matrix gets is the
 * table's first path that chooses it (lossy ones only when the context allows them). */
#include "kernels/gemm.h"
#include <stdlib.h>
#include <string.h>
#include "core/numeric.h"
#include "kernels/isa.h"

#define KC DG_KC
#define NB 64       /* most weight rows per block / task of dg_gemm */
#define NBT 256     /* most columns of W per task of dg_gemm_tn: P (n x V fp32, the big operand)
                       is streamed once per task, so wider tiles mean fewer passes over it; the
                       panel (NBT x KC floats, 256 KiB) stays inside a Zen 3 core's 512 KiB L2.
                       One thread, 256 x 65,536 x 2,816 on AVX2 (Xeon 167): 128 -> 256 wide
                       1.25x, 512 wide 1.4x (panel past that L2, not taken) */

/* Row stride of dg_gemm_tn's copy of P's block: P's own stride (the vocabulary, 2^18 floats)
 * puts every row of a block in the same cache sets; the pad keeps the copy's rows apart too. */
#define LDX_TN (KC + 16)

static size_t round64(size_t b) { return (b + 63) & ~(size_t)63; }

int dg_kernels_init(dg_kernels *k, dg_isa isa, int precise, int lossy, int n_threads, int max_cols) {
    memset(k, 0, sizeof *k);
    k->t = dg_isa_table_get(isa);
    if (!k->t) return 0;
    k->isa = isa;
    k->precise = precise;
    k->lossy = lossy;
    k->n_threads = n_threads;
    k->max_cols = max_cols;
    /* fp32 path: a panel of NBT x KC (dg_gemm_tn; dg_gemm uses NB x KC and the rest for its
     * dense Y buffer) + DG_NR x KC of expanded rows for the transpose + dg_gemm_tn's copy of
     * P's block; integer paths: what each says it needs */
    size_t sb = ((size_t)NBT * KC + (size_t)DG_NR * KC + (size_t)DG_MR_MAX * LDX_TN) * sizeof(float), qb = 0;
    for (const dg_qpath *const *p = k->t->qpaths; !precise && p && *p; p++) {
        size_t s = (*p)->scratch_bytes(max_cols), a = (*p)->act_bytes(DG_QROWS, max_cols);
        if (s > sb) sb = s;
        if (a > qb) qb = a;
    }
    const dg_tnpath *tn = precise ? NULL : k->t->tn;
    if (tn && tn->scratch_bytes(tn->max_cols) > sb) sb = tn->scratch_bytes(tn->max_cols);
    k->scratch_bytes = round64(sb);
    k->scratch = calloc((size_t)n_threads, sizeof *k->scratch);
    if (!k->scratch) return 0;
    for (int t = 0; t < n_threads; t++)
        if (!(k->scratch[t] = aligned_alloc(64, k->scratch_bytes))) return 0;
    if (qb) {
        k->qbytes = round64(qb);
        k->qshared = aligned_alloc(64, k->qbytes);
        k->qthread = calloc((size_t)n_threads, sizeof *k->qthread);
        if (!k->qshared || !k->qthread) return 0;
        for (int t = 0; t < n_threads; t++)
            if (!(k->qthread[t] = aligned_alloc(64, k->qbytes))) return 0;
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

const dg_attpath *dg_kernels_att(const dg_kernels *k) { return k->precise ? NULL : k->t->att; }

/* ---- integer paths ---- */

int dg_gemm_qpaths(const dg_kernels *k, const dg_mat *W, const dg_qpath **out, int max) {
    int n = 0;
    if (k->precise || !k->qshared || W->cols > k->max_cols) return 0;
    for (const dg_qpath *const *p = k->t->qpaths; p && *p && n < max; p++)
        if ((*p)->serves(W)) out[n++] = *p;
    return n;
}

const dg_qpath *dg_gemm_qpath(const dg_kernels *k, const dg_mat *W) {
    if (k->precise || !k->qshared || W->cols > k->max_cols) return NULL;
    for (const dg_qpath *const *p = k->t->qpaths; p && *p; p++)
        if ((!(*p)->lossy || k->lossy) && (*p)->chosen(W)) return *p;
    return NULL;
}

const char *dg_qpath_name(const dg_qpath *p) { return p ? p->name : "fp32"; }

size_t dg_qact_bytes(const dg_qpath *p, int n, const dg_mat *W) { return p->act_bytes(n, W->cols); }

void dg_qact_init(dg_qact *q, const dg_qpath *p, void *buf, int n, const dg_mat *W) {
    p->act_init(q, buf, n, W);
    q->path = p;
}

size_t dg_qact_lanes_bytes(int n, int nblocks, int qc, int code_bytes) {
    return (size_t)n * (size_t)nblocks * (size_t)qc * (size_t)code_bytes + 2 * round64((size_t)n * (size_t)nblocks * sizeof(float));
}

void dg_qact_lanes_init(dg_qact *q, void *buf, int n, int cols, int bits, int nblocks, int qc, int code_bytes) {
    memset(q, 0, sizeof *q);
    q->n = n;
    q->cols = cols;
    q->bits = bits;
    q->nblocks = nblocks;
    q->row_bytes = (size_t)nblocks * (size_t)qc * (size_t)code_bytes;
    q->q = buf;
    q->scale = (float *)(q->q + (size_t)n * q->row_bytes);
    q->ssum = (float *)((uint8_t *)q->scale + round64((size_t)n * (size_t)nblocks * sizeof(float)));
}

size_t dg_qact_blocked_bytes(int n, int cols, int code_bytes) {
    return dg_qact_lanes_bytes(n, dg_qblocks(cols), DG_QB, code_bytes);
}

void dg_qact_blocked_init(dg_qact *q, void *buf, int n, int cols, int bits, int code_bytes) {
    dg_qact_lanes_init(q, buf, n, cols, bits, dg_qblocks(cols), DG_QB, code_bytes);
}

void dg_block_scales(const dg_mat *W, int r0, int nr, int nbp, float *ws, float *wb) {
    const int nb = W->cols / DG_QB, per = W->group / DG_QB;
    for (int r = 0; r < nr; r++) {
        const uint8_t *sr = W->scales + (size_t)(r0 + r) * W->sb_stride, *br = W->biases + (size_t)(r0 + r) * W->sb_stride;
        for (int c = 0; c < nbp; c++) {
            ws[(size_t)r * nbp + c] = c < nb ? dg_bf16_to_f32(dg_ld16(sr + 2 * (size_t)(c / per))) : 0.0f;
            wb[(size_t)r * nbp + c] = c < nb ? dg_bf16_to_f32(dg_ld16(br + 2 * (size_t)(c / per))) : 0.0f;
        }
    }
}

void dg_gemm_rows_q(const dg_kernels *k, int thread, const dg_mat *W, int r0, int r1,
                    const dg_qact *q, float *Y, int ldy) {
    for (int rb = r0; rb < r1; rb += DG_QNB)
        q->path->rows(W, rb, r1 - rb < DG_QNB ? r1 : rb + DG_QNB, q, Y, ldy, k->scratch[thread]);
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
    j->q->path->quantize(j->q, j->X, j->ldx, i0, i1);
}

void dg_qact_quantize(dg_pool *pool, dg_qact *q, const float *X, int ldx) {
    quant_job j = {q, X, ldx};
    dg_pool_run(pool, (q->n + QTASK - 1) / QTASK, quant_task, &j);
}

/* Weight rows per task of a row-parallel product: blocks of at most `most` rows, in multiples
 * of DG_NR, and as many as fill the pool's threads best (small matrices at high thread counts:
 * 256 rows are 4 blocks of 64 but 16 of 16). */
static int row_block(dg_pool *pool, int rows, int most) {
    int granules = (rows + DG_NR - 1) / DG_NR, per = most / DG_NR;
    int parts = dg_pool_parts(pool, 1, (granules + per - 1) / per, granules);
    return (granules + parts - 1) / parts * DG_NR;
}

typedef struct {
    const dg_kernels *k;
    const dg_mat *W;
    const dg_qact *q;
    float *Y;
    int ldy, rb;
} q_job;

static void q_task(void *user, int task, int thread) {
    q_job *j = user;
    int r0 = task * j->rb, r1 = r0 + j->rb < j->W->rows ? r0 + j->rb : j->W->rows;
    j->q->path->rows(j->W, r0, r1, j->q, j->Y, j->ldy, j->k->scratch[thread]);
}

void dg_gemm_q(const dg_kernels *k, dg_pool *pool, const dg_mat *W, const dg_qact *q, float *Y, int ldy) {
    if (q->n <= 0) return;
    q_job j = {k, W, q, Y, ldy, row_block(pool, W->rows, DG_QNB)};
    dg_pool_run(pool, (W->rows + j.rb - 1) / j.rb, q_task, &j);
}

/* ---- fp32 path ---- */

/* dst[0, n) = src[0, n) in chunks of a constant 16 floats, which GCC moves with vector
 * registers: a memcpy of a variable size became rep movsq (P's 1 KiB rows: 4% of dg_gemm_tn
 * on a Zen 2; the panels' 64-byte groups and dg_gemm's Y blocks too). */
static void copy_floats(float *dst, const float *src, int n) {
    int c = 0;
    for (; c + 16 <= n; c += 16) memcpy(dst + c, src + c, 16 * sizeof *dst);
    if (c < n) memcpy(dst + c, src + c, (size_t)(n - c) * sizeof *dst);
}

static void gemm_rows_f32(const dg_kernels *k, int thread, const dg_mat *W, int r0, int r1,
                          const float *X, int n, int ldx, float *Y, int ldy) {
    const dg_isa_table *t = k->t;
    float *panel = k->scratch[thread], *tmp = panel + (size_t)NBT * KC, *yb = panel + (size_t)NB * KC;
    /* The KC slices add into Y one after another. Y's row stride (the vocabulary, for the head)
     * puts a block's rows in the same cache sets, so between slices its tile fell out to memory;
     * where it fits beside the panel, the block's Y is summed in a dense buffer (row stride NB)
     * and written once. Same sums in the same order either way. */
    const int local = (size_t)n * NB <= (size_t)(NBT - NB) * KC;
    float *yd = local ? yb : Y;
    const int ldd = local ? NB : ldy;
    for (int rb = r0; rb < r1; rb += NB) {
        int nrows = r1 - rb < NB ? r1 - rb : NB, ngroups = (nrows + DG_NR - 1) / DG_NR;
        const int yc = local ? 0 : rb;   /* Y's column of the block's first row, in yd */
        for (int k0 = 0; k0 < W->cols; k0 += KC) {
            int kc = W->cols - k0 < KC ? W->cols - k0 : KC;
            for (int g = 0; g < ngroups; g++) {
                int nr = nrows - g * DG_NR < DG_NR ? nrows - g * DG_NR : DG_NR;
                t->pack(W, rb + g * DG_NR, nr, k0, kc, panel + (size_t)g * KC * DG_NR, tmp);
            }
            for (int i = 0; i < n; i += t->mr) {
                int m = n - i < t->mr ? n - i : t->mr;
                for (int g = 0; g < ngroups; g++) {
                    int nc = nrows - g * DG_NR < DG_NR ? nrows - g * DG_NR : DG_NR;
                    t->mk(m, nc, kc, X + (size_t)i * ldx + k0, ldx, panel + (size_t)g * KC * DG_NR,
                          yd + (size_t)i * ldd + yc + g * DG_NR, ldd, k0 > 0);
                }
            }
        }
        if (local)
            for (int i = 0; i < n; i++) copy_floats(Y + (size_t)i * ldy + rb, yb + (size_t)i * NB, nrows);
    }
}

/* ---- public entries ---- */

void dg_gemm_rows(const dg_kernels *k, int thread, const dg_mat *W, int r0, int r1,
                  const float *X, int n, int ldx, float *Y, int ldy) {
    const dg_qpath *p = dg_gemm_qpath(k, W);
    if (p) {
        /* quantize up to DG_QROWS rows at a time into this thread's buffer */
        for (int i0 = 0; i0 < n; i0 += DG_QROWS) {
            int m = n - i0 < DG_QROWS ? n - i0 : DG_QROWS;
            dg_qact q;
            dg_qact_init(&q, p, k->qthread[thread], m, W);
            p->quantize(&q, X + (size_t)i0 * ldx, ldx, 0, m);
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
    int rb;         /* dg_gemm: rows per task; dg_gemm_tn: columns */
} gemm_job;

static void gemm_task(void *user, int task, int thread) {
    gemm_job *j = user;
    int r0 = task * j->rb, r1 = r0 + j->rb < j->W->rows ? r0 + j->rb : j->W->rows;
    gemm_rows_f32(j->k, thread, j->W, r0, r1, j->X, j->n, j->ldx, j->Y, j->ldy);
}

void dg_gemm(const dg_kernels *k, dg_pool *pool, const dg_mat *W,
             const float *X, int n, int ldx, float *Y, int ldy) {
    if (n <= 0) return;
    const dg_qpath *p = dg_gemm_qpath(k, W);
    if (p) {
        for (int i0 = 0; i0 < n; i0 += DG_QROWS) {
            int m = n - i0 < DG_QROWS ? n - i0 : DG_QROWS;
            dg_qact q;
            dg_qact_init(&q, p, k->qshared, m, W);
            dg_qact_quantize(pool, &q, X + (size_t)i0 * ldx, ldx);
            dg_gemm_q(k, pool, W, &q, Y + (size_t)i0 * ldy, ldy);
        }
        return;
    }
    gemm_job j = {k, W, X, n, ldx, ldy, Y, row_block(pool, W->rows, NB)};
    dg_pool_run(pool, (W->rows + j.rb - 1) / j.rb, gemm_task, &j);
}

/* Rows ahead of the one being expanded whose slice dg_gemm_tn prefetches: a task reads a few
 * hundred bytes of each row at the row stride, which the hardware prefetcher does not follow,
 * so without it every row's first touch waits on memory. */
#define TN_PREFETCH 8

/* Asks for the cache lines of bytes [lo, hi) from p. always_inline: as a separate function
 * holding only prefetches, GCC's IPA modref counts the call free of side effects and drops it. */
__attribute__((always_inline)) static inline void prefetch_span(const void *p, size_t lo, size_t hi) {
    for (size_t b = lo & ~(size_t)63; b < hi; b += 64) __builtin_prefetch((const char *)p + b);
}

/* Row r's columns [c0, c0 + nc) and their affine scales/biases. Any weight kind: the byte
 * range is taken in proportion to the row's stride. */
__attribute__((always_inline)) static inline void prefetch_cols(const dg_mat *W, int r, int c0, int nc) {
    prefetch_span(W->w + (size_t)r * W->w_stride, (size_t)c0 * W->w_stride / (size_t)W->cols,
                  (size_t)(c0 + nc) * W->w_stride / (size_t)W->cols);
    if (W->kind == DG_W_AFFINE) {
        size_t g = (size_t)c0 / (size_t)W->group * 2;
        __builtin_prefetch(W->scales + (size_t)r * W->sb_stride + g);
        __builtin_prefetch(W->biases + (size_t)r * W->sb_stride + g);
    }
}

/* Y[:, c0:c0+w] = P · W[:, c0:c0+w] (w = j->rb): the panel is a slice of W's rows, already k-major, so
 * packing is expansion plus a copy per 16 columns. */
static void gemm_tn_task(void *user, int task, int thread) {
    gemm_job *j = user;
    const dg_mat *W = j->W;
    const dg_isa_table *t = j->k->t;
    float *panel = j->k->scratch[thread], *tmp = panel + (size_t)NBT * KC, *xb = tmp + (size_t)DG_NR * KC;
    int c0 = task * j->rb, ncols = W->cols - c0 < j->rb ? W->cols - c0 : j->rb, ngroups = (ncols + DG_NR - 1) / DG_NR;
    for (int k0 = 0; k0 < W->rows; k0 += KC) {
        int kc = W->rows - k0 < KC ? W->rows - k0 : KC;
        for (int kk = 0; kk < kc; kk++) {
            if (k0 + kk + TN_PREFETCH < W->rows) prefetch_cols(W, k0 + kk + TN_PREFETCH, c0, ncols);
            t->expand(W, k0 + kk, c0, ncols, tmp);
            for (int g = 0; g < ngroups; g++) {
                float *p = panel + (size_t)g * KC * DG_NR + (size_t)kk * DG_NR;
                int nc = ncols - g * DG_NR < DG_NR ? ncols - g * DG_NR : DG_NR;
                copy_floats(p, tmp + g * DG_NR, nc);
                for (int c = nc; c < DG_NR; c++) p[c] = 0.0f;
            }
        }
        for (int i = 0; i < j->n; i += t->mr) {
            int m = j->n - i < t->mr ? j->n - i : t->mr;
            for (int r = 0; r < m; r++) copy_floats(xb + (size_t)r * LDX_TN, j->X + (size_t)(i + r) * j->ldx + k0, kc);
            /* the next block's rows of P, from memory at the real vocabulary (P is n x V) */
            for (int r = i + m; r < i + 2 * m && r < j->n; r++)
                prefetch_span(j->X + (size_t)r * j->ldx + k0, 0, (size_t)kc * sizeof *j->X);
            for (int g = 0; g < ngroups; g++) {
                int nc = ncols - g * DG_NR < DG_NR ? ncols - g * DG_NR : DG_NR;
                t->mk(m, nc, kc, xb, LDX_TN, panel + (size_t)g * KC * DG_NR,
                      j->Y + (size_t)i * j->ldy + c0 + g * DG_NR, j->ldy, k0 > 0);
            }
        }
    }
}

static const dg_tnpath *tn_path(const dg_kernels *k, const dg_mat *W) {
    const dg_tnpath *p = k->precise ? NULL : k->t->tn;
    return p && p->serves(W) ? p : NULL;
}

dg_ops dg_gemm_tn_ops(const dg_kernels *k, const dg_mat *W) {
    const dg_tnpath *p = tn_path(k, W);
    return p ? p->ops : DG_OPS_FP32;
}

typedef struct {
    const dg_kernels *k;
    const dg_mat *W;
    const float *P;
    float *Y;
    int n, ldp, ldy, w;
} tn_job;

static void tn_cols_task(void *user, int task, int thread) {
    tn_job *j = user;
    int c0 = task * j->w, nc = j->W->cols - c0 < j->w ? j->W->cols - c0 : j->w;
    j->k->t->tn->cols(j->k->t, j->W, c0, nc, j->P, j->n, j->ldp, j->Y, j->ldy, j->k->scratch[thread]);
}

/* Columns per task of dg_gemm_tn: as wide as `most` allows in a multiple of the threads (each
 * task reads all of P once), in whole 16-column tiles. */
static int tn_width(dg_pool *pool, int cols, int most) {
    int th = dg_pool_size(pool), tiles = (cols + 15) / 16, parts = th;
    while ((tiles + parts - 1) / parts * 16 > most) parts += th;
    return (tiles + parts - 1) / parts * 16;
}

void dg_gemm_tn(const dg_kernels *k, dg_pool *pool, const dg_mat *W,
                const float *P, int n, int ldp, float *Y, int ldy) {
    if (n <= 0) return;
    const dg_tnpath *tp = tn_path(k, W);
    if (tp) {
        tn_job j = {k, W, P, Y, n, ldp, ldy, tn_width(pool, W->cols, tp->max_cols)};
        dg_pool_run(pool, (W->cols + j.w - 1) / j.w, tn_cols_task, &j);
        return;
    }
    gemm_job j = {k, W, P, n, ldp, ldy, Y, tn_width(pool, W->cols, NBT)};
    dg_pool_run(pool, (W->cols + j.rb - 1) / j.rb, gemm_tn_task, &j);
}
