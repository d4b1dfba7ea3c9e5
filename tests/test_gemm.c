/* GEMM kernels against a double-precision reference, for every kernel path this build has and
 * this CPU can run (tests/isa_list.h) x precise/fast/fast+lossy x weight kind (F32, BF16, F16,
 * MLX affine 2..8 bits, group 64/16, ggml block types with random codes and finite fp16 scales)
 * x odd shapes; dg_gemm, dg_gemm_rows (a sub-range, neighbours untouched) and dg_gemm_tn.
 *
 * Bounds: exact paths (precise, and fast for formats without a quantized path): max |y - ref| /
 * max |ref| <= 1e-5 (fp32 accumulation over up to 2816 terms); int16 path (the default fast
 * path for 4/8-bit affine and the ggml types): relative RMS error ||y - ref|| / ||ref|| <= 1e-4 per call
 * (activations int16 per 64- or 32-column block, Q6_K at half the range; expected ~2e-5; 4-bit through dg_gemm, 4- and
 * 8-bit through dg_gemm_q); lossy int8 paths (opt-in, dg_kernels.lossy): relative RMS <= 1% (expected
 * ~0.3-0.5%). Every integer path a table lists is also run explicitly through dg_gemm_q, where its
 * error must also be noise, not bias (bias_z, gain_z within BIAS_Z standard errors of 0). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/ggml_type.h"
#include "core/numeric.h"
#include "core/pool.h"
#include "isa_list.h"
#include "kernels/c/c.h"
#include "kernels/gemm.h"
#include "t.h"

#define EXACT_TOL 1e-5
#define Q8_TOL 1e-2
#define Q16_TOL 1e-4
#define TN16_TOL 5e-5   /* dg_gemm_tn on int16 (P folded with the table's scales, per block of
                           tokens): 2^-16 of a block's largest per term, max error */
#define BIAS_Z 6.0      /* |bias_z|, |gain_z| bound for integer paths over >= BIAS_N activation rows */
#define BIAS_N 200

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}
static double unif(void) { return (rnd() & 0xffffff) / 16777216.0; }
static double gauss(void) { return unif() + unif() + unif() + unif() - 2.0; }

typedef struct {
    dg_mat m;
    uint8_t *wbuf, *sbuf, *bbuf;
} tmat;

/* Byte offsets of the fp16 scale fields in a block of a ggml type (-1 ends), the rest of a block
 * being codes and packed sub-scales for which any bit pattern is valid. */
static const int *ggml_halves(int type) {
    static const int d0[] = {0, -1}, d02[] = {0, 2, -1}, q6[] = {208, -1}, q2[] = {80, 82, -1}, q3[] = {108, -1};
    switch (type) {
    case DG_GGML_Q4_K: case DG_GGML_Q5_K: case DG_GGML_Q4_1: case DG_GGML_Q5_1: return d02;
    case DG_GGML_Q6_K: return q6;
    case DG_GGML_Q2_K: return q2;
    case DG_GGML_Q3_K: return q3;
    default: return d0;
    }
}

/* Random matrix of the kind (GGML: `bits` is the block type); rows start 1 byte off alignment
 * with padded strides (MLX files do not align). */
static tmat make_mat(dg_wkind kind, int rows, int cols, int bits, int group) {
    tmat t;
    memset(&t, 0, sizeof t);
    dg_mat *m = &t.m;
    m->kind = kind; m->rows = rows; m->cols = cols; m->bits = bits; m->group = group;
    if (kind == DG_W_GGML) { m->gtype = bits; m->bits = 0; }
    size_t rowb = kind == DG_W_F32 ? 4 * (size_t)cols : kind == DG_W_AFFINE ? ((size_t)cols * bits + 7) / 8
                : kind == DG_W_GGML ? (size_t)cols / dg_ggml_block(bits) * dg_ggml_block_bytes(bits) : 2 * (size_t)cols;
    m->w_stride = rowb + 3;
    t.wbuf = malloc(m->w_stride * rows + 1);
    m->w = t.wbuf + 1;
    uint8_t *w = t.wbuf + 1;
    for (int r = 0; r < rows; r++) {
        uint8_t *row = w + (size_t)r * m->w_stride;
        for (size_t b = 0; b < rowb; b++) row[b] = (uint8_t)rnd();
        for (int j = 0; j < cols; j++) {
            float v = (float)(gauss() * 0.05);
            if (kind == DG_W_F32) memcpy(row + 4 * (size_t)j, &v, 4);
            if (kind == DG_W_BF16) { uint16_t h = dg_f32_to_bf16(v); memcpy(row + 2 * (size_t)j, &h, 2); }
            if (kind == DG_W_F16) {   /* random finite halves of modest magnitude, some subnormal */
                uint16_t h = (uint16_t)((rnd() & 0x83ff) | ((rnd() % 16 + (j % 7 == 0 ? 0 : 6)) << 10));
                memcpy(row + 2 * (size_t)j, &h, 2);
            }
        }
        if (kind == DG_W_GGML)   /* scales: random signs, magnitudes 2^-11 .. 2^-7 */
            for (size_t b = 0; b < rowb / dg_ggml_block_bytes(bits); b++)
                for (const int *o = ggml_halves(bits); *o >= 0; o++) {
                    uint16_t h = (uint16_t)((rnd() & 0x83ff) | ((4 + rnd() % 5) << 10));
                    memcpy(row + b * dg_ggml_block_bytes(bits) + *o, &h, 2);
                }
        /* the packed-code tail bits past cols stay random: kernels must ignore them */
    }
    if (kind == DG_W_AFFINE) {
        int ng = cols / group;
        m->sb_stride = 2 * (size_t)ng + 2;
        t.sbuf = malloc(m->sb_stride * rows + 1);
        t.bbuf = malloc(m->sb_stride * rows + 1);
        m->scales = t.sbuf + 1;
        m->biases = t.bbuf + 1;
        for (int r = 0; r < rows; r++)
            for (int g = 0; g < ng; g++) {
                float s = (float)((0.5 + unif()) * 0.1 / (1 << bits)), b;
                if (rnd() % 8 == 0) s = -s;   /* MLX may use negative scales */
                b = (float)(-s * ((1 << bits) - 1) * (0.3 + 0.4 * unif()));
                uint16_t hs = dg_f32_to_bf16(s), hb = dg_f32_to_bf16(b);
                memcpy(t.sbuf + 1 + (size_t)r * m->sb_stride + 2 * (size_t)g, &hs, 2);
                memcpy(t.bbuf + 1 + (size_t)r * m->sb_stride + 2 * (size_t)g, &hb, 2);
            }
    }
    return t;
}

static void free_mat(tmat *t) { free(t->wbuf); free(t->sbuf); free(t->bbuf); }

/* W expanded by the scalar reference expansion, as doubles [rows][cols]. */
static double *expand_ref(const dg_mat *m) {
    double *d = malloc(sizeof(double) * m->rows * m->cols);
    float *row = malloc(sizeof(float) * m->cols);
    for (int r = 0; r < m->rows; r++) {
        dg_mat_row(m, r, row);
        for (int j = 0; j < m->cols; j++) d[(size_t)r * m->cols + j] = row[j];
    }
    free(row);
    return d;
}

/* Is the error noise or bias? Per activation row i (the independent unit: the outputs of one
 * row share its quantization error) u_i = sum_c e_ic (bias) and v_i = sum_c e_ic * ref_ic (the
 * error's projection on the reference: a gain error, e.g. rounding toward zero or a wrong
 * scale); bias_z, gain_z = sum u_i / sqrt(sum u_i^2) and the same for v, ~N(0, 1) for noise,
 * near -sqrt(n) or +sqrt(n) for a systematic error (a bug) however small the RMS error. */
typedef struct { double max_rel, rms_rel, bias_z, gain_z; } errs;

static errs compare(const float *y, int ldy, const double *ref, int n, int cols) {
    double mx = 0, num = 0, den = 0, maxref = 0, su = 0, su2 = 0, sv = 0, sv2 = 0;
    for (int i = 0; i < n; i++) {
        double u = 0, v = 0;
        for (int c = 0; c < cols; c++) {
            double d = y[(size_t)i * ldy + c] - ref[(size_t)i * cols + c], e = fabs(d), a = fabs(ref[(size_t)i * cols + c]);
            if (!(e <= mx)) mx = e;   /* NaN propagates into mx */
            if (a > maxref) maxref = a;
            num += e * e; den += a * a;
            u += d;
            v += d * ref[(size_t)i * cols + c];
        }
        su += u; su2 += u * u; sv += v; sv2 += v * v;
    }
    errs r = {mx / (maxref > 0 ? maxref : 1), sqrt(num / (den > 0 ? den : 1)), su2 > 0 ? su / sqrt(su2) : 0.0,
              sv2 > 0 ? sv / sqrt(sv2) : 0.0};
    return r;
}

static const char *kind_name(const dg_mat *m, char *buf) {
    static const char *names[] = {"f32", "bf16", "f16", "affine"};
    if (m->kind == DG_W_AFFINE) sprintf(buf, "affine%d/g%d", m->bits, m->group);
    else if (m->kind == DG_W_GGML) sprintf(buf, "ggml %s", dg_ggml_name(m->gtype));
    else strcpy(buf, names[m->kind]);
    return buf;
}

typedef struct {
    dg_isa isa; int precise, lossy; dg_kernels k;
    double worst_exact, worst_q8, q8_num, worst_q16, q16_num, worst_z; int n_q8, n_exact, q8_cnt, n_q16, n_z, n_same;
} path;

/* What decides a product's values: the table's fp32 kernels and the integer path (NULL: none).
 * Paths whose tables share them (neon/dotprod/i8mm precise, avx512/amx on ggml weights, every
 * table's explicit run of a shared integer path) give the same bits on the same inputs, so each
 * distinct set runs once per weight matrix and n; the rest count as n_same. */
typedef struct { int mr; dg_microkernel mk; dg_expand_fn expand; dg_pack_fn pack; const dg_qpath *qp; const dg_tnpath *tn; } kernel_set;
typedef struct { kernel_set s[64]; int n; } kernel_sets;

static int ran_before(kernel_sets *done, const dg_isa_table *t, const dg_qpath *qp, int fp32, const dg_tnpath *tn) {
    kernel_set k = {fp32 ? t->mr : 0, fp32 ? t->mk : NULL, fp32 ? t->expand : NULL, fp32 ? t->pack : NULL, qp, tn};
    for (int i = 0; i < done->n; i++)
        if (done->s[i].mr == k.mr && done->s[i].mk == k.mk && done->s[i].expand == k.expand && done->s[i].pack == k.pack &&
            done->s[i].qp == k.qp && done->s[i].tn == k.tn) return 1;
    if (done->n < 64) done->s[done->n++] = k;
    return 0;
}

static void note_q(path *P, int lossy, double v) {
    if (!lossy) { if (v > P->worst_q16) P->worst_q16 = v; P->q16_num += v * v; P->n_q16++; }
    else { if (v > P->worst_q8) P->worst_q8 = v; P->q8_num += v * v; P->q8_cnt++; P->n_q8++; }
}

static void check_gemm(path *paths, int np, dg_pool *pool, const tmat *t, int n) {
    const dg_mat *W = &t->m;
    int rows = W->rows, cols = W->cols, ldx = cols + 3, ldy = rows + 5;
    float *X = malloc(sizeof(float) * ((size_t)n * ldx + 1));
    for (size_t i = 0; i < (size_t)n * ldx; i++) X[i] = (float)gauss();
    double *Wd = expand_ref(W), *ref = malloc(sizeof(double) * n * rows);
    for (int i = 0; i < n; i++)
        for (int r = 0; r < rows; r++) {
            double s = 0;
            for (int j = 0; j < cols; j++) s += (double)X[(size_t)i * ldx + j] * Wd[(size_t)r * cols + j];
            ref[(size_t)i * rows + r] = s;
        }
    float *Y = malloc(sizeof(float) * (size_t)n * ldy);
    char kb[32];
    kernel_sets done = {.n = 0}, done_q = {.n = 0};
    for (int p = 0; p < np; p++) {
        path *P = &paths[p];
        /* dg_gemm's own choice of path */
        const dg_qpath *qp = dg_gemm_qpath(&P->k, W);
        int q8 = qp != NULL, lossy = qp && qp->lossy, r0 = rows > 8 ? 3 : 0, r1 = rows > 8 ? rows - 5 : rows;
        /* the integer path alone decides the values where one serves W */
        if (ran_before(&done, P->k.t, qp, !qp, NULL)) P->n_same++;
        else {
            for (size_t i = 0; i < (size_t)n * ldy; i++) Y[i] = NAN;
            dg_gemm(&P->k, pool, W, X, n, ldx, Y, ldy);
            errs e = compare(Y, ldy, ref, n, rows);
            double v = q8 ? e.rms_rel : e.max_rel, tol = lossy ? Q8_TOL : qp ? Q16_TOL : EXACT_TOL;
            CHECK(v <= tol, "dg_gemm %s %s%s (%s) %s rows=%d cols=%d n=%d: %s err %.3g > %.3g", dg_isa_name(P->isa),
                  P->precise ? "precise" : "fast", P->lossy ? "+lossy" : "", dg_qpath_name(qp), kind_name(W, kb), rows, cols, n,
                  q8 ? "rms" : "max", v, tol);
            if (q8) note_q(P, lossy, v);
            else { if (v > P->worst_exact) P->worst_exact = v; P->n_exact++; }

            /* dg_gemm_rows on a sub-range (thread 1's scratch): neighbours stay untouched */
            for (size_t i = 0; i < (size_t)n * ldy; i++) Y[i] = 12345.0f;
            dg_gemm_rows(&P->k, 1, W, r0, r1, X, n, ldx, Y, ldy);
            int untouched = 1;
            double mx = 0, num = 0, den = 0, maxref = 0;
            for (int i = 0; i < n; i++)
                for (int r = 0; r < ldy; r++) {
                    float y = Y[(size_t)i * ldy + r];
                    if (r < r0 || r >= r1) { untouched &= y == 12345.0f; continue; }
                    double rf = ref[(size_t)i * rows + r], d = fabs(y - rf);
                    if (!(d <= mx)) mx = d;
                    if (fabs(rf) > maxref) maxref = fabs(rf);
                    num += d * d; den += rf * rf;
                }
            v = q8 ? sqrt(num / den) : mx / maxref;
            CHECK(untouched && v <= tol, "dg_gemm_rows %s %s%s %s [%d,%d) cols=%d n=%d: err %.3g, untouched %d",
                  dg_isa_name(P->isa), P->precise ? "precise" : "fast", P->lossy ? "+lossy" : "", kind_name(W, kb),
                  r0, r1, cols, n, v, untouched);
        }

        /* every integer path of the table that serves W, explicitly (also those dg_gemm does not
         * choose on its own); once per weight matrix and n, on the plain fast path */
        const dg_qpath *qps[8];
        int nq = P->lossy ? 0 : dg_gemm_qpaths(&P->k, W, qps, 8);
        for (int qi = 0; qi < nq; qi++) {
            const dg_qpath *qpi = qps[qi];
            if (ran_before(&done_q, P->k.t, qpi, 0, NULL)) { P->n_same++; continue; }
            dg_qact qa;
            size_t qb = dg_qact_bytes(qpi, n, W);
            void *buf = aligned_alloc(64, (qb + 63) & ~(size_t)63);
            dg_qact_init(&qa, qpi, buf, n, W);
            dg_qact_quantize(pool, &qa, X, ldx);
            for (size_t i = 0; i < (size_t)n * ldy; i++) Y[i] = NAN;
            dg_gemm_q(&P->k, pool, W, &qa, Y, ldy);
            errs e = compare(Y, ldy, ref, n, rows);
            /* int8 over fewer than 64 outputs: the RMS of a handful of errors scatters
             * widely around its ~0.5% (measured 1.04% on 8 outputs of affine8, cols 64) */
            double qt = !qpi->lossy ? Q16_TOL : (double)n * rows < 64 ? 1.5 * Q8_TOL : Q8_TOL;
            CHECK(e.rms_rel <= qt, "dg_gemm_q %s %s %s rows=%d cols=%d n=%d: rms err %.3g", dg_isa_name(P->isa),
                  qpi->name, kind_name(W, kb), rows, cols, n, e.rms_rel);
            note_q(P, qpi->lossy, e.rms_rel);
            if (n >= BIAS_N) {
                CHECK(fabs(e.bias_z) <= BIAS_Z && fabs(e.gain_z) <= BIAS_Z, "dg_gemm_q %s %s %s rows=%d cols=%d n=%d: error "
                      "is bias, not noise: mean z %.3g, projection on the reference z %.3g",
                      dg_isa_name(P->isa), qpi->name, kind_name(W, kb), rows, cols, n, e.bias_z, e.gain_z);
                if (fabs(e.bias_z) > P->worst_z) P->worst_z = fabs(e.bias_z);
                if (fabs(e.gain_z) > P->worst_z) P->worst_z = fabs(e.gain_z);
                P->n_z++;
            }
            /* sub-range through dg_gemm_rows_q: the same values, neighbours untouched */
            for (size_t i = 0; i < (size_t)n * ldy; i++) Y[i] = 12345.0f;
            dg_gemm_rows_q(&P->k, 0, W, r0, r1, &qa, Y, ldy);
            float *Y2 = malloc(sizeof(float) * (size_t)n * ldy);
            dg_gemm_q(&P->k, pool, W, &qa, Y2, ldy);
            int same = 1;
            for (int i = 0; i < n; i++)
                for (int r = 0; r < ldy; r++) {
                    float y = Y[(size_t)i * ldy + r];
                    if (r < r0 || r >= r1) same &= y == 12345.0f;
                    else if (r < rows) same &= y == Y2[(size_t)i * ldy + r];
                }
            CHECK(same, "dg_gemm_rows_q %s %s %s [%d,%d) differs from dg_gemm_q or touches neighbours",
                  dg_isa_name(P->isa), qpi->name, kind_name(W, kb), r0, r1);
            free(Y2);
            free(buf);
        }
    }
    free(X); free(Wd); free(ref); free(Y);
}

static void check_tn(path *paths, int np, dg_pool *pool, const tmat *t, int n) {
    const dg_mat *W = &t->m;
    int V = W->rows, C = W->cols, ldp = V + 1, ldy = C + 2;
    float *P = malloc(sizeof(float) * (size_t)n * ldp);
    for (size_t i = 0; i < (size_t)n * ldp; i++) P[i] = (float)unif();
    for (int i = 1; i < n; i += 2) {   /* odd rows as the sampler makes them: softmax rows, peaked */
        float *r = P + (size_t)i * ldp, sum = 0;
        for (int v = 0; v < V; v++) sum += r[v] = expf(6.0f * (float)gauss());
        for (int v = 0; v < V; v++) r[v] /= sum;
    }
    double *Wd = expand_ref(W), *ref = calloc((size_t)n * C, sizeof(double));
    for (int i = 0; i < n; i++)
        for (int v = 0; v < V; v++) {
            double p = P[(size_t)i * ldp + v];
            for (int c = 0; c < C; c++) ref[(size_t)i * C + c] += p * Wd[(size_t)v * C + c];
        }
    float *Y = malloc(sizeof(float) * (size_t)n * ldy);
    char kb[32];
    kernel_sets done = {.n = 0};
    for (int p = 0; p < np; p++) {
        /* the fast path's tile product where the table has one for W, else the fp32 kernels
         * (the expansion feeds both) */
        const dg_tnpath *tn = !paths[p].precise && paths[p].k.t->tn && paths[p].k.t->tn->serves(W) ? paths[p].k.t->tn : NULL;
        if (ran_before(&done, paths[p].k.t, NULL, 1, tn)) { paths[p].n_same++; continue; }
        for (size_t i = 0; i < (size_t)n * ldy; i++) Y[i] = NAN;
        dg_gemm_tn(&paths[p].k, pool, W, P, n, ldp, Y, ldy);
        errs e = compare(Y, ldy, ref, n, C);
        double tol = tn && tn->ops == DG_OPS_INT16 ? TN16_TOL : EXACT_TOL;
        CHECK(e.max_rel <= tol, "dg_gemm_tn %s %s%s%s %s V=%d C=%d n=%d: max err %.3g", dg_isa_name(paths[p].isa),
              paths[p].precise ? "precise" : "fast", tn ? " " : "", tn ? tn->name : "", kind_name(W, kb), V, C, n, e.max_rel);
        if (e.max_rel > paths[p].worst_exact) paths[p].worst_exact = e.max_rel;
    }
    free(P); free(Wd); free(ref); free(Y);
}

/* Every table's expansion and packing must give exactly the portable values. */
static void check_expand(const dg_isa *isas, int n_isas, const tmat *t) {
    const dg_mat *W = &t->m;
    float *a = malloc(sizeof(float) * W->cols), *b = malloc(sizeof(float) * W->cols);
    float *pa = aligned_alloc(64, sizeof(float) * DG_KC * DG_NR), *pb = aligned_alloc(64, sizeof(float) * DG_KC * DG_NR),
          *tmp = aligned_alloc(64, sizeof(float) * DG_KC * DG_NR);
    char kb[32];
    for (int ii = 0; ii < n_isas; ii++) {
        const dg_isa_table *tb = dg_isa_table_get(isas[ii]);
        int same = 1, psame = 1;
        for (int r = 0; r < W->rows && r < 8; r++) {
            int c0 = W->cols > 40 ? 8 * (r % 3) + (r == 5) : 0, nc = W->cols - c0 - (r & 1);
            dg_mat_row_range(W, r, c0, nc, a);
            tb->expand(W, r, c0, nc, b);
            same &= memcmp(a, b, sizeof(float) * nc) == 0;
        }
        int nr = W->rows < DG_NR ? W->rows : DG_NR - 3, kc = W->cols < DG_KC ? W->cols : DG_KC;
        dg_pack_c(W, 0, nr, 0, kc, pa, tmp);
        tb->pack(W, 0, nr, 0, kc, pb, tmp);
        psame = memcmp(pa, pb, sizeof(float) * (size_t)kc * DG_NR) == 0;
        CHECK(same && psame, "%s expansion/packing of %s cols=%d differs from the portable one (expand %d, pack %d)",
              dg_isa_name(isas[ii]), kind_name(W, kb), W->cols, same, psame);
    }
    free(a); free(b); free(pa); free(pb); free(tmp);
}

int main(void) {
    (void)t_golden;
    dg_isa isas[T_MAX_ISAS];
    int n_isas = t_isas(isas);
    dg_pool *pool = dg_pool_new(2);
    path paths[3 * T_MAX_ISAS];
    int np = 0;
    for (int ii = 0; ii < n_isas; ii++) {
        const dg_isa_table *tb = dg_isa_table_get(isas[ii]);
        int has_lossy = 0;
        for (const dg_qpath *const *q = tb->qpaths; q && *q; q++) has_lossy |= (*q)->lossy;
        /* precise; fast; fast with the lossy paths allowed (where the table has one) */
        for (int v = 0; v < 2 + has_lossy; v++) {
            memset(&paths[np], 0, sizeof paths[np]);
            paths[np].isa = isas[ii];
            paths[np].precise = v == 0;
            paths[np].lossy = v == 2;
            if (!dg_kernels_init(&paths[np].k, isas[ii], v == 0, v == 2, 2, 4096)) { CHECK(0, "dg_kernels_init"); return 1; }
            np++;
        }
    }

    struct { dg_wkind kind; int bits, group; } kinds[] = {
        {DG_W_F32, 0, 0}, {DG_W_BF16, 0, 0}, {DG_W_F16, 0, 0},
        {DG_W_AFFINE, 4, 64}, {DG_W_AFFINE, 8, 64}, {DG_W_AFFINE, 4, 128}, {DG_W_AFFINE, 8, 128},
        {DG_W_AFFINE, 2, 64}, {DG_W_AFFINE, 3, 64}, {DG_W_AFFINE, 5, 64}, {DG_W_AFFINE, 6, 64},
        {DG_W_AFFINE, 2, 16}, {DG_W_AFFINE, 3, 16}, {DG_W_AFFINE, 4, 16}, {DG_W_AFFINE, 5, 16},
        {DG_W_AFFINE, 6, 16}, {DG_W_AFFINE, 8, 16}, {DG_W_AFFINE, 4, 32}, {DG_W_AFFINE, 8, 32},
        {DG_W_GGML, DG_GGML_Q8_0, 0}, {DG_W_GGML, DG_GGML_Q4_0, 0}, {DG_W_GGML, DG_GGML_Q5_0, 0},
        {DG_W_GGML, DG_GGML_IQ4_NL, 0}, {DG_W_GGML, DG_GGML_Q4_K, 0}, {DG_W_GGML, DG_GGML_Q5_K, 0},
        {DG_W_GGML, DG_GGML_Q6_K, 0}, {DG_W_GGML, DG_GGML_IQ4_XS, 0}, {DG_W_GGML, DG_GGML_Q4_1, 0}, {DG_W_GGML, DG_GGML_Q5_1, 0},
        {DG_W_GGML, DG_GGML_Q2_K, 0}, {DG_W_GGML, DG_GGML_Q3_K, 0},
    };
    int rowss[] = {8, 48, 384}, colss[] = {16, 48, 64, 704, 2816}, ns[] = {1, 5, 6, 16, 17, 256, 300};
    /* DG_TEST_QUICK: skip the largest products (ASan runs); DG_TEST_QUICK=2 more (emulated
     * runs: make check-arm64 under qemu, every ARM path) */
    const char *qe = getenv("DG_TEST_QUICK");
    double big = qe ? 3e7 : 1e30, emu = qe && atoi(qe) >= 2 ? 3e6 : 1e30;
    for (size_t ki = 0; ki < sizeof kinds / sizeof *kinds; ki++)
        for (int ri = 0; ri < 3; ri++)
            for (int ci = 0; ci < 5; ci++) {
                int cols = colss[ci], g = kinds[ki].group;
                if (g && cols % g) continue;
                if (kinds[ki].kind == DG_W_GGML && cols % dg_ggml_block(kinds[ki].bits)) continue;
                tmat t = make_mat(kinds[ki].kind, rowss[ri], cols, kinds[ki].bits, g);
                check_expand(isas, n_isas, &t);
                for (int ni = 0; ni < 7; ni++) {
                    double size = (double)rowss[ri] * cols * ns[ni];
                    if (size > big) continue;
                    /* the widest shapes only where a quantized path runs (the others are
                     * covered by the smaller ones; the double reference dominates the time) */
                    if ((cols == 704 || ns[ni] == 300) && !(kinds[ki].kind == DG_W_AFFINE && g % 64 == 0 &&
                                                             (kinds[ki].bits == 4 || kinds[ki].bits == 8)) &&
                        kinds[ki].kind != DG_W_GGML) continue;
                    if (size > emu) {   /* draw its inputs all the same: later cases keep their data */
                        for (size_t i = 0; i < (size_t)ns[ni] * (cols + 3); i++) (void)gauss();
                        continue;
                    }
                    check_gemm(paths, np, pool, &t, ns[ni]);
                }
                free_mat(&t);
            }
    {   /* more activation rows than one quantization chunk (DG_QROWS) */
        tmat t = make_mat(DG_W_AFFINE, 48, 2816, 4, 64);
        check_gemm(paths, np, pool, &t, DG_QROWS + 44);
        free_mat(&t);
        t = make_mat(DG_W_AFFINE, 40, 704, 8, 64);
        check_gemm(paths, np, pool, &t, DG_QROWS + 3);
        free_mat(&t);
    }
    struct { dg_wkind kind; int bits, group, V, C, n; } tns[] = {
        {DG_W_F32, 0, 0, 300, 200, 7}, {DG_W_BF16, 0, 0, 1000, 2816, 17}, {DG_W_F16, 0, 0, 513, 64, 1},
        {DG_W_AFFINE, 8, 64, 1000, 2816, 6}, {DG_W_AFFINE, 8, 64, 700, 192, 256}, {DG_W_AFFINE, 4, 64, 300, 128, 5},
        {DG_W_AFFINE, 3, 16, 200, 48, 16},
        /* token counts a multiple of 32 and widths of 16: the tile paths (AMX bf16x3) take
         * these, with row tails (n % 16), odd column tiles and a short last panel */
        {DG_W_AFFINE, 8, 64, 1056, 2816, 37}, {DG_W_BF16, 0, 0, 512, 208, 256}, {DG_W_AFFINE, 8, 64, 512, 192, 256}, {DG_W_BF16, 0, 0, 384, 48, 5},
        {DG_W_AFFINE, 4, 64, 160, 1088, 16},
    };
    for (size_t ti = 0; ti < sizeof tns / sizeof *tns; ti++) {
        tmat t = make_mat(tns[ti].kind, tns[ti].V, tns[ti].C, tns[ti].bits, tns[ti].group);
        check_tn(paths, np, pool, &t, tns[ti].n);
        free_mat(&t);
    }
    for (int p = 0; p < np; p++) {
        printf("path %-7s %-7s%-6s: exact max rel err %.3g over %d gemm checks (+ gemm_tn); int16 rms rel err max %.3g, "
               "quadratic mean %.3g over %d; int8 rms rel err max %.3g, quadratic mean %.3g over %d; |bias/gain z| max %.2f over %d; %d runs the same kernels as an earlier path's (not repeated)\n",
               dg_isa_name(paths[p].isa), paths[p].precise ? "precise" : "fast", paths[p].lossy ? "+lossy" : "",
               paths[p].worst_exact, paths[p].n_exact, paths[p].worst_q16,
               paths[p].n_q16 ? sqrt(paths[p].q16_num / paths[p].n_q16) : 0.0, paths[p].n_q16, paths[p].worst_q8,
               paths[p].q8_cnt ? sqrt(paths[p].q8_num / paths[p].q8_cnt) : 0.0, paths[p].n_q8, paths[p].worst_z, paths[p].n_z,
               paths[p].n_same);
        dg_kernels_free(&paths[p].k);
    }
    dg_pool_free(pool);
    return t_done("test_gemm");
}
