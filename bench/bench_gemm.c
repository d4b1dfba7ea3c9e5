/* GEMM throughput on the real DiffusionGemma shapes, per kernel path, 1 and 2 threads, next to
 * the measured memory read bandwidth (the roof for weight streaming).
 *   make bench && build/bench/bench_gemm [--full] [--c]
 * --full: the head and gemm_tn at the full vocabulary (262144; default a 1/8 slice of it, same
 *         per-row work, so the rates are representative; the full tn shape re-streams a 256 MiB P);
 * --only S: only the shapes whose name contains S (e.g. "bit" for the affine ones);
 * --isa NAME, --threads N: only that kernel table, only that thread count (1 or 2: a profile
 *         that sees one path);
 * --expert-rows N: activation rows per expert in the MoE shapes (default 16, the mean of a
 *         256-row canvas; a routed canvas spreads 5..30, and 17 pays for two 16-row tiles);
 * --experts N: distinct 4-bit experts per MoE run (default 8, whose 18 MB can stay in the last
 *         level cache; 128, a layer's, stream from memory as in a step);
 * --c:    also time the portable C path (slow). GFLOP/s counts 2 flops per multiply-add; weight
 * GB/s is the stored weight bytes (codes + scales + biases) read once per call, over the time.
 * Paths, for every kernel table this build has and this CPU runs: "precise" = exact fp32;
 * "fast" = dg_gemm's own choice (an integer path for 4-bit affine weights, fp32 otherwise);
 * "+lossy" = the same with lossy integer paths allowed (dg_kernels.lossy, DGEMMA_INT8=1);
 * "via NAME" rows: that integer path forced through dg_gemm_q (affine shapes). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/cpu.h"
#include "kernels/isa.h"
#include "core/numeric.h"
#include "core/pool.h"
#include "kernels/gemm.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static uint64_t rng = 88172645463325252ull;
static uint32_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (uint32_t)(rng >> 11); }

typedef struct { dg_mat m; void *buf; size_t bytes; } bmat;

static bmat make(dg_wkind kind, int rows, int cols, int bits) {
    bmat b;
    memset(&b, 0, sizeof b);
    dg_mat *m = &b.m;
    m->kind = kind; m->rows = rows; m->cols = cols; m->bits = bits; m->group = 64;
    m->w_stride = kind == DG_W_AFFINE ? (size_t)cols * bits / 8 : kind == DG_W_F32 ? 4 * (size_t)cols : 2 * (size_t)cols;
    m->sb_stride = kind == DG_W_AFFINE ? 2 * (size_t)(cols / 64) : 0;
    b.bytes = m->w_stride * rows + 2 * m->sb_stride * rows;
    uint8_t *p = aligned_alloc(64, (b.bytes + 63) & ~(size_t)63);
    b.buf = p;
    m->w = p;
    m->scales = p + m->w_stride * rows;
    m->biases = m->scales + m->sb_stride * rows;
    for (size_t i = 0; i < m->w_stride * rows; i += 2) {
        uint16_t h = kind == DG_W_AFFINE ? (uint16_t)rnd() : dg_f32_to_bf16((float)((int)(rnd() % 2001) - 1000) * 1e-5f);
        memcpy(p + i, &h, 2);
    }
    for (size_t i = m->w_stride * rows; i < b.bytes; i += 2) {
        uint16_t h = dg_f32_to_bf16((float)((int)(rnd() % 2001) - 1000) * 1e-5f);
        memcpy(p + i, &h, 2);
    }
    return b;
}

static float *randf(size_t n, float scale) {
    float *x = aligned_alloc(64, (n * sizeof(float) + 63) & ~(size_t)63);
    for (size_t i = 0; i < n; i++) x[i] = scale * (float)((int)(rnd() % 2001) - 1000) * 1e-3f;
    return x;
}

/* ---- memory bandwidth: each thread sums its share of a 1 GiB buffer ---- */
typedef struct { const uint64_t *p; size_t n; int parts; uint64_t sink[64]; } bw_job;
static void bw_task(void *user, int task, int thread) {
    bw_job *j = user;
    size_t a = j->n * task / j->parts, b = j->n * (task + 1) / j->parts;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = a; i + 4 <= b; i += 4) { s0 += j->p[i]; s1 += j->p[i + 1]; s2 += j->p[i + 2]; s3 += j->p[i + 3]; }
    j->sink[task] = s0 + s1 + s2 + s3;
}
static double bandwidth(dg_pool *pool, int threads) {
    size_t n = (size_t)1 << 27;   /* 1 GiB */
    uint64_t *p = malloc(n * 8);
    for (size_t i = 0; i < n; i++) p[i] = i;
    bw_job j = {p, n, threads, {0}};
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) {
        double t0 = now();
        dg_pool_run(pool, threads, bw_task, &j);
        double t = now() - t0;
        if (t < best) best = t;
    }
    free(p);
    return n * 8 / best / 1e9;
}

typedef struct { const dg_kernels *k; const bmat *W; int nw; const float *X; int n, ldx; float *Y; int ldy; } moe_job;
static void moe_task(void *user, int task, int thread) {
    moe_job *j = user;
    const dg_mat *W = &j->W[task % j->nw].m;
    dg_gemm_rows(j->k, thread, W, 0, W->rows, j->X, j->n, j->ldx, j->Y + (size_t)thread * j->n * j->ldy, j->ldy);
}

enum { OP_GEMM, OP_MOE, OP_TN, OP_GEMMQ };

static const char *only;
static int erows = 16;   /* activation rows per expert (--expert-rows) */
static int nexp = 8;     /* distinct 4-bit experts per MoE run (--experts) */

static void run(const char *name, int op, const dg_kernels *k, dg_pool *pool, const bmat *W, int nw,
                int n, double bw, const dg_qpath *qp) {
    char label[96];
    if (qp) { snprintf(label, sizeof label, "%s via %s", name, qp->name); name = label; }
    if (only && !strstr(name, only)) return;
    const dg_mat *m = &W[0].m;
    int in = op == OP_TN ? m->rows : m->cols, out = op == OP_TN ? m->cols : m->rows;
    float *X = randf((size_t)n * in, op == OP_TN ? 0.001f : 1.0f), *Y = randf((size_t)n * out * 2, 0);
    double flop = 2.0 * n * (double)in * out * (op == OP_MOE ? nw : 1), bytes = W[0].bytes * (double)(op == OP_MOE ? nw : 1);
    double best = 1e30, total = 0;
    int reps = 0;
    do {
        double t0 = now();
        if (op == OP_GEMM) dg_gemm(k, pool, m, X, n, in, Y, out);
        else if (op == OP_GEMMQ) {   /* a named integer path, quantization included */
            dg_qact q;
            dg_qact_init(&q, qp, k->qshared, n, m);
            dg_qact_quantize(pool, &q, X, in);
            dg_gemm_q(k, pool, m, &q, Y, out);
        }
        else if (op == OP_TN) dg_gemm_tn(k, pool, m, X, n, in, Y, out);
        else { moe_job j = {k, W, nw, X, n, in, Y, out}; dg_pool_run(pool, nw, moe_task, &j); }
        double t = now() - t0;
        if (reps > 0 || t > 2.0) { if (t < best) best = t; total += t; }   /* first run warms up */
        reps++;
    } while (total < 1.5 && reps < 50);
    printf("%-40s %-7s %-11s %d thr %9.2f ms %8.1f GFLOP/s %7.2f GB/s (%3.0f%% of bw)\n", name, dg_isa_name(k->isa),
           k->precise ? "precise" : k->lossy ? "fast+lossy" : "fast", dg_pool_size(pool), best * 1e3, flop / best / 1e9, bytes / best / 1e9,
           100.0 * bytes / best / 1e9 / bw);
    fflush(stdout);
    free(X); free(Y);
}

int main(int argc, char **argv) {
    int full = 0, with_c = 0, only_threads = 0;
    const char *only_isa = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--full")) full = 1;
        else if (!strcmp(argv[i], "--isa") && i + 1 < argc) only_isa = argv[++i];
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) only_threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--expert-rows") && i + 1 < argc) erows = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--experts") && i + 1 < argc) nexp = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--c")) with_c = 1;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    }
    dg_cpu cpu;
    dg_cpu_detect(&cpu);
    int V = full ? 262144 : 32768;
    bmat q_bf16 = make(DG_W_BF16, 4096, 2816, 0), q_8 = make(DG_W_AFFINE, 4096, 2816, 8), q_4 = make(DG_W_AFFINE, 4096, 2816, 4);
    if (erows < 1 || erows > 256 || nexp < 1 || nexp > 128) { fprintf(stderr, "--expert-rows: 1..256, --experts: 1..128\n"); return 2; }
    bmat gu[128], dn[128], gu16[8], dn16[8];
    for (int e = 0; e < nexp; e++) { gu[e] = make(DG_W_AFFINE, 1408, 2816, 4); dn[e] = make(DG_W_AFFINE, 2816, 704, 4); }
    for (int e = 0; e < 8; e++) { gu16[e] = make(DG_W_BF16, 1408, 2816, 0); dn16[e] = make(DG_W_BF16, 2816, 704, 0); }
    bmat head = make(DG_W_AFFINE, V, 2816, 8), headbf = make(DG_W_BF16, V / 4, 2816, 0);
    char hname[64], tname[64], e_gu4[64], e_dn4[64], e_gu16[64], e_dn16[64];
    snprintf(e_gu4, sizeof e_gu4, "%d experts %dx2816->1408 4-bit", nexp, erows);
    snprintf(e_dn4, sizeof e_dn4, "%d experts %dx704->2816 4-bit", nexp, erows);
    snprintf(e_gu16, sizeof e_gu16, "8 experts %dx2816->1408 bf16", erows);
    snprintf(e_dn16, sizeof e_dn16, "8 experts %dx704->2816 bf16", erows);
    for (int threads = 1; threads <= 2; threads++) {
        if (only_threads && threads != only_threads) continue;
        dg_pool *pool = dg_pool_new(threads);
        double bw = bandwidth(pool, threads);
        printf("== %d thread(s): memory read bandwidth %.2f GB/s\n", threads, bw);
        for (int isa = DG_ISA_C; isa <= DG_ISA_I8MM; isa++) {
            const dg_isa_table *tb = dg_isa_table_get((dg_isa)isa);
            if (!tb || !dg_cpu_supports(&cpu, (dg_isa)isa) || (isa == DG_ISA_C && !with_c && !only_isa)) continue;
            if (only_isa && strcmp(only_isa, dg_isa_name((dg_isa)isa))) continue;
            for (int pi = 0; pi < 3; pi++) {   /* precise, fast, fast+lossy */
                int precise = pi == 0, lossy = pi == 2;
                dg_kernels k;
                if (!dg_kernels_init(&k, (dg_isa)isa, precise, lossy, threads, 2816)) return 1;
                snprintf(hname, sizeof hname, "head 256x2816->%d 8-bit", V);
                if (lossy) {   /* what the lossy paths change: the 4-bit shapes */
                    run("q_proj-shape 256x2816->4096 4-bit", OP_GEMM, &k, pool, &q_4, 1, 256, bw, NULL);
                    run(e_gu4, OP_MOE, &k, pool, gu, nexp, erows, bw, NULL);
                    run(e_dn4, OP_MOE, &k, pool, dn, nexp, erows, bw, NULL);
                    dg_kernels_free(&k);
                    continue;
                }
                run("q_proj 256x2816->4096 bf16", OP_GEMM, &k, pool, &q_bf16, 1, 256, bw, NULL);
                run("q_proj 256x2816->4096 8-bit", OP_GEMM, &k, pool, &q_8, 1, 256, bw, NULL);
                run("q_proj-shape 256x2816->4096 4-bit", OP_GEMM, &k, pool, &q_4, 1, 256, bw, NULL);
                run(e_gu4, OP_MOE, &k, pool, gu, nexp, erows, bw, NULL);
                run(e_dn4, OP_MOE, &k, pool, dn, nexp, erows, bw, NULL);
                run(e_gu16, OP_MOE, &k, pool, gu16, 8, erows, bw, NULL);
                run(e_dn16, OP_MOE, &k, pool, dn16, 8, erows, bw, NULL);
                if (isa != DG_ISA_C) {
                    run(hname, OP_GEMM, &k, pool, &head, 1, 256, bw, NULL);
                    snprintf(tname, sizeof tname, "head 256x2816->%d bf16", V / 4);
                    run(tname, OP_GEMM, &k, pool, &headbf, 1, 256, bw, NULL);
                    snprintf(tname, sizeof tname, "gemm_tn 256x%d->2816 8-bit", V);
                    run(tname, OP_TN, &k, pool, &head, 1, 256, bw, NULL);
                    snprintf(tname, sizeof tname, "gemm_tn 256x%d->2816 bf16", V / 4);
                    run(tname, OP_TN, &k, pool, &headbf, 1, 256, bw, NULL);
                }
                /* every integer path of the table, forced, on the affine shapes it serves */
                for (const dg_qpath *const *q = tb->qpaths; !precise && q && *q; q++) {
                    if ((*q)->serves(&q_8.m)) run("q_proj 256x2816->4096 8-bit", OP_GEMMQ, &k, pool, &q_8, 1, 256, bw, *q);
                    if ((*q)->serves(&q_4.m)) run("q_proj-shape 256x2816->4096 4-bit", OP_GEMMQ, &k, pool, &q_4, 1, 256, bw, *q);
                    if ((*q)->serves(&head.m)) run(hname, OP_GEMMQ, &k, pool, &head, 1, 256, bw, *q);
                }
                dg_kernels_free(&k);
            }
        }
        dg_pool_free(pool);
    }
    return 0;
}
