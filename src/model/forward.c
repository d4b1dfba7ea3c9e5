/* The transformer forward pass (MODEL.md §4, §6, §7): the blocks of forward.h composed into
 * layers and passes. One layer function serves both modes; they differ in masks, cache policy
 * and scalar. The profile and the debug taps live here, outside the blocks' math. */
#include <math.h>
#include <string.h>
#include <time.h>
#include "core/error.h"
#include "kernels/isa.h"
#include "kernels/ops.h"
#include "model/forward.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds since *t, and restarts *t: one profile bucket per call. */
static double lap(double *t) {
    double n = now(), d = n - *t;
    *t = n;
    return d;
}

/* Flops of a product with W, counted in the current part by the kind of kernel W gets. */
void dg_count_flops(dg_ctx *c, const dg_mat *W, double flops) {
    const dg_qpath *p = dg_gemm_qpath(&c->k, W);
    c->prof.flops += flops;
    c->prof.ops[c->part][p ? p->ops : DG_OPS_FP32] += flops;
}

/* Every weight product of the pass goes through here, so the profile counts flops and the
 * bytes of weights read. */
void dg_mm(dg_ctx *c, const dg_mat *W, const float *X, int n, int ldx, float *Y, int ldy) {
    dg_gemm(&c->k, c->pool, W, X, n, ldx, Y, ldy);
    dg_count_flops(c, W, 2.0 * n * W->rows * W->cols);
    c->prof.weight_bytes += (double)dg_mat_bytes(W);
}

static void tap(dg_ctx *c, const char *what, int layer, const float *d, int d0, int d1, int d2) {
    if (c->tap) c->tap(c->tap_user, what, layer, d, d0, d1, d2);
}

/* cos/sin of every row's position for both layer types: angle = p * inv_freq, in double
 * (the precise path keeps RoPE in full precision, MODEL.md §3). */
static void rope_tables(const dg_pass *ps) {
    dg_ctx *c = ps->c;
    const dg_config *cfg = &c->m->cfg;
    int hs = cfg->head_dim / 2, hf = cfg->g_head_dim / 2, hmax = hs > hf ? hs : hf;
    for (int s = 0; s < ps->nsp; s++)
        for (int i = 0; i < ps->sp[s].rows; i++) {
            int row = ps->sp[s].row0 + i;
            double p = (double)(ps->sp[s].pos0 + i);
            float *cs = c->rope_cs + (size_t)row * hmax, *sn = c->rope_sn + (size_t)row * hmax;
            float *cf = cs + (size_t)c->max_rows * hmax, *sf = sn + (size_t)c->max_rows * hmax;
            for (int j = 0; j < hs; j++) { cs[j] = (float)cos(p * c->inv_freq_s[j]); sn[j] = (float)sin(p * c->inv_freq_s[j]); }
            for (int j = 0; j < hf; j++) { cf[j] = (float)cos(p * c->inv_freq_f[j]); sf[j] = (float)sin(p * c->inv_freq_f[j]); }
        }
}

/* Encoder: the pass's new K/V become cache entries. */
static void commit_kv(const dg_pass *ps, int li) {
    dg_ctx *c = ps->c;
    const dg_layer *L = &c->m->layers[li];
    int kvd = L->n_kv * L->D;
    for (int s = 0; s < ps->nsp; s++) {
        const dg_span *sp = &ps->sp[s];
        dg_kv *kv = &c->seqs[sp->seq].kv[li];
        dg_kv_append(kv, c->kn + (size_t)sp->row0 * kvd, c->vn + (size_t)sp->row0 * kvd, sp->rows);
        for (int g = 0; c->tap && g < L->n_kv; g++) {
            tap(c, "enc.k", li, dg_kv_k(kv, g) + (size_t)(kv->n - sp->rows) * L->D, g, sp->rows, L->D);
            tap(c, "enc.v", li, dg_kv_v(kv, g) + (size_t)(kv->n - sp->rows) * L->D, g, sp->rows, L->D);
        }
    }
}

typedef struct { dg_ctx *c; float *y; const float *x, *w; } norm_job;
static void norm_row(void *user, int i, int thread) {
    const norm_job *j = user;
    size_t H = (size_t)j->c->m->cfg.hidden;
    dg_rmsnorm(j->y + i * H, j->x + i * H, j->w, (int)H, j->c->m->cfg.eps);
}

void dg_norm_rows(dg_ctx *c, float *y, const float *x, const float *w, int S) {
    norm_job j = {c, y, x, w};
    dg_pool_run(c->pool, S, norm_row, &j);
}

/* x = (r + post_ff_norm(m1 + m2)) * layer scalar. */
typedef struct { dg_ctx *c; const dg_layer *L; float scalar; } out_job;
static void output_row(void *user, int i, int thread) {
    const out_job *j = user;
    dg_ctx *c = j->c;
    int H = c->m->cfg.hidden;
    float *m1 = c->m1 + (size_t)i * H, *x = c->x + (size_t)i * H;
    const float *m2 = c->m2 + (size_t)i * H, *r = c->r + (size_t)i * H;
    for (int d = 0; d < H; d++) m1[d] += m2[d];
    dg_rmsnorm(m1, m1, j->L->post_ff_norm, H, c->m->cfg.eps);
    for (int d = 0; d < H; d++) x[d] = (r[d] + m1[d]) * j->scalar;
}

static void layer_output(const dg_pass *ps, int li) {
    const dg_layer *L = &ps->c->m->layers[li];
    out_job j = {ps->c, L, ps->decoder ? L->scalar_dec : L->scalar_enc};
    dg_pool_run(ps->c->pool, ps->S, output_row, &j);
}

static void layer_forward(const dg_pass *ps, int li) {
    dg_ctx *c = ps->c;
    dg_step_profile *pr = &c->prof;
    double t = now();
    c->part = DG_PART_ATTENTION;
    dg_attention_qkv(ps, li);
    if (!ps->decoder) commit_kv(ps, li);
    /* the encoder's output after the last K/V is never used */
    if (!ps->decoder && li == c->m->n_layers - 1 && !c->tap) { pr->attention += lap(&t); return; }
    dg_attention_out(ps, li);
    pr->attention += lap(&t);
    c->part = DG_PART_DENSE_MLP;
    dg_dense_mlp(ps, li);
    pr->dense_mlp += lap(&t);
    c->part = DG_PART_ROUTER;
    dg_moe_route(ps, li);
    pr->router += lap(&t);
    c->part = DG_PART_EXPERTS;
    dg_moe_experts(ps, li);
    pr->experts += lap(&t);
    layer_output(ps, li);
    pr->other += lap(&t);
    if (c->tap && ps->decoder) {
        int n = ps->S * c->m->cfg.top_k;
        float *tmp = c->router_logits;  /* reuse: indices as floats for the tap */
        for (int i = 0; i < n; i++) tmp[i] = (float)c->route_idx[i];
        tap(c, "dec.router_idx", li, tmp, ps->S, c->m->cfg.top_k, 0);
        tap(c, "dec.router_w", li, c->route_w, ps->S, c->m->cfg.top_k, 0);
    }
    tap(c, ps->decoder ? "dec.h" : "enc.h", li, c->x, ps->S, c->m->cfg.hidden, 0);
}

dg_status dg_forward_encode(dg_ctx *c, int seq, const int32_t *ids, int n, dg_error *err) {
    const dg_model *m = c->m;
    const dg_config *cfg = &m->cfg;
    int H = cfg->hidden;
    dg_seq *sq = &c->seqs[seq];
    dg_span sp = {seq, 0, n, sq->len};
    dg_pass ps = {c, &sp, 1, n, 0};
    for (int i = 0; i < n; i++) {
        float *x = c->x + (size_t)i * H;
        dg_mat_row(&m->embed, ids[i], x);
        for (int d = 0; d < H; d++) x[d] *= cfg->embed_scale;
    }
    rope_tables(&ps);
    for (int li = 0; li < m->n_layers; li++) layer_forward(&ps, li);
    for (int li = 0; li < m->n_layers; li++)   /* sliding layers keep only the last W-1 positions */
        if (!m->layers[li].full) dg_kv_trim(&sq->kv[li], cfg->window - 1);
    sq->len += n;
    (void)err;
    return DG_OK;
}

dg_status dg_forward_decode(dg_ctx *c, int n_seq, const int *seqs, const int32_t *const *canvases,
                            float *const *sc, float *const *logits, dg_error *err) {
    const dg_model *m = c->m;
    const dg_config *cfg = &m->cfg;
    int L = cfg->canvas, S = n_seq * L;
    dg_span sp[64];
    memset(&c->prof, 0, sizeof c->prof);
    double t0 = now(), t = t0;
    for (int s = 0; s < n_seq; s++) sp[s] = (dg_span){seqs[s], s * L, L, c->seqs[seqs[s]].len};
    dg_pass ps = {c, sp, n_seq, S, 1};

    c->part = DG_PART_SELF_COND;
    dg_decoder_input(c, n_seq, canvases, sc);
    c->prof.self_cond = lap(&t);
    tap(c, "dec.x0", -1, c->x, S, cfg->hidden, 0);

    rope_tables(&ps);
    for (int li = 0; li < m->n_layers; li++) layer_forward(&ps, li);

    lap(&t);
    c->part = DG_PART_HEAD;
    dg_head(c, n_seq, logits);
    for (int s = 0; c->tap && s < n_seq; s++) tap(c, "dec.prelogits", -1, logits[s], L, cfg->vocab, 0);
    dg_softcap_logits(c, n_seq, logits);
    c->prof.head = lap(&t);
    c->prof.total = t - t0;
    (void)err;
    return DG_OK;
}
