/* GEMM drivers: pack a panel of expanded weights (KC deep, 16 wide, L1/L2 resident), then
 * sweep the activation rows through the ISA's 6x16 micro-kernel. Weights are expanded once
 * per call and never held whole. */
#include "kernels/gemm.h"
#include <stdlib.h>
#include <string.h>
#include "kernels/gemm_internal.h"

#define KC 256      /* depth of a packed panel */
#define NB 64       /* weight rows (or columns, for gemm_tn) per block: 4 panels of 16 */

static dg_microkernel microkernel(dg_isa isa) {
    return isa == DG_ISA_C ? dg_mk_c : dg_mk_avx2;
}

int dg_kernels_init(dg_kernels *k, dg_isa isa, int precise, int n_threads, int max_cols) {
    memset(k, 0, sizeof *k);
    k->isa = isa;
    k->precise = precise;
    k->n_threads = n_threads;
    (void)max_cols;
    k->scratch_floats = (size_t)NB * KC + KC + NB;
    k->scratch = calloc((size_t)n_threads, sizeof *k->scratch);
    if (!k->scratch) return 0;
    for (int t = 0; t < n_threads; t++) {
        k->scratch[t] = aligned_alloc(64, ((k->scratch_floats * sizeof(float)) + 63) & ~(size_t)63);
        if (!k->scratch[t]) return 0;
    }
    return 1;
}

void dg_kernels_free(dg_kernels *k) {
    if (k->scratch)
        for (int t = 0; t < k->n_threads; t++) free(k->scratch[t]);
    free(k->scratch);
    memset(k, 0, sizeof *k);
}

void dg_gemm_rows(const dg_kernels *k, int thread, const dg_mat *W, int r0, int r1,
                  const float *X, int n, int ldx, float *Y, int ldy) {
    dg_microkernel mk = microkernel(k->isa);
    float *panel = k->scratch[thread], *tmp = panel + (size_t)NB * KC;
    for (int rb = r0; rb < r1; rb += NB) {
        int nrows = r1 - rb < NB ? r1 - rb : NB, ngroups = (nrows + DG_NR - 1) / DG_NR;
        for (int k0 = 0; k0 < W->cols; k0 += KC) {
            int kc = W->cols - k0 < KC ? W->cols - k0 : KC;
            for (int g = 0; g < ngroups; g++) {
                float *p = panel + (size_t)g * KC * DG_NR;
                for (int r = 0; r < DG_NR; r++) {
                    int row = rb + g * DG_NR + r;
                    if (row < r1) {
                        dg_mat_row_range(W, row, k0, kc, tmp);
                        for (int j = 0; j < kc; j++) p[(size_t)j * DG_NR + r] = tmp[j];
                    } else {
                        for (int j = 0; j < kc; j++) p[(size_t)j * DG_NR + r] = 0.0f;
                    }
                }
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
    dg_gemm_rows(j->k, thread, j->W, r0, r1, j->X, j->n, j->ldx, j->Y, j->ldy);
}

void dg_gemm(const dg_kernels *k, dg_pool *pool, const dg_mat *W,
             const float *X, int n, int ldx, float *Y, int ldy) {
    if (n <= 0) return;
    gemm_job j = {k, W, X, n, ldx, ldy, Y};
    dg_pool_run(pool, (W->rows + NB - 1) / NB, gemm_task, &j);
}

/* Y[:, c0:c0+NB] = P · W[:, c0:c0+NB]: the panel is a slice of W's rows, already k-major. */
static void gemm_tn_task(void *user, int task, int thread) {
    gemm_job *j = user;
    const dg_mat *W = j->W;
    dg_microkernel mk = microkernel(j->k->isa);
    float *panel = j->k->scratch[thread], *tmp = panel + (size_t)NB * KC;
    int c0 = task * NB, ncols = W->cols - c0 < NB ? W->cols - c0 : NB, ngroups = (ncols + DG_NR - 1) / DG_NR;
    for (int k0 = 0; k0 < W->rows; k0 += KC) {
        int kc = W->rows - k0 < KC ? W->rows - k0 : KC;
        for (int kk = 0; kk < kc; kk++) {
            dg_mat_row_range(W, k0 + kk, c0, ncols, tmp);
            for (int g = 0; g < ngroups; g++) {
                float *p = panel + (size_t)g * KC * DG_NR + (size_t)kk * DG_NR;
                for (int c = 0; c < DG_NR; c++) {
                    int col = g * DG_NR + c;
                    p[c] = col < ncols ? tmp[col] : 0.0f;
                }
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
    dg_pool_run(pool, (W->cols + NB - 1) / NB, gemm_tn_task, &j);
}
