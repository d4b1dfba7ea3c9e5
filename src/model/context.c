/* dg_ctx: allocation of caches and scratch (once), and the checked public entry points. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "core/cpu.h"
#include "core/error.h"
#include "kernels/isa.h"
#include "model/attention.h"
#include "model/context.h"

#include <unistd.h>

static int imax(int a, int b) { return a > b ? a : b; }
static int imin(int a, int b) { return a < b ? a : b; }

static float *falloc(size_t n, int *ok) {
    float *p = NULL;
    if (n == 0) n = 1;
    if (!(p = aligned_alloc(64, (n * sizeof(float) + 63) & ~(size_t)63))) *ok = 0;
    return p;
}

dg_status dg_ctx_new(const dg_model *m, const dg_ctx_params *p, dg_ctx **out, dg_error *err) {
    *out = NULL;
    dg_ctx_params d = {0};
    if (!p) p = &d;
    const dg_config *cfg = &m->cfg;
    if (p->n_threads < 0 || p->n_threads > 1024) return dg_fail(err, DG_ERR_ARG, "n_threads %d out of range", p->n_threads);
    if (p->max_tokens < 0 || p->n_seq < 0 || p->n_seq > 64 || p->max_chunk < 0)
        return dg_fail(err, DG_ERR_ARG, "invalid context parameters");
    const dg_isa_table *table;
    dg_status st = dg_isa_resolve(p->isa, &table, err);
    if (st) return st;
    dg_ctx *c = calloc(1, sizeof *c);
    if (!c) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    c->m = m;
    c->n_threads = p->n_threads ? p->n_threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (c->n_threads < 1) c->n_threads = 1;
    c->max_tokens = p->max_tokens ? p->max_tokens : 8192;
    if (c->max_tokens > cfg->max_pos) c->max_tokens = cfg->max_pos;
    c->n_seq = p->n_seq ? p->n_seq : 1;
    c->max_chunk = p->max_chunk ? p->max_chunk : cfg->canvas;
    c->max_rows = imax(c->max_chunk, c->n_seq * cfg->canvas);
    int H = cfg->hidden, R = c->max_rows, E = cfg->n_experts, K = cfg->top_k, Ie = cfg->moe_inter;
    int Dmax = imax(cfg->head_dim, cfg->g_head_dim), hmax = Dmax / 2;
    int kvmax = imax(cfg->n_kv * cfg->head_dim, cfg->g_n_kv * cfg->g_head_dim);
    int ok = 1;
    c->pool = dg_pool_new(c->n_threads);
    if (c->pool && p->count_tasks && !dg_pool_count_tasks(c->pool)) ok = 0;
    if (!c->pool || !dg_kernels_init(&c->k, table->isa, p->precise, p->int8, c->n_threads, m->max_cols)) ok = 0;
    size_t RH = (size_t)R * H;
    c->x = falloc(RH, &ok); c->xn = falloc(RH, &ok); c->r = falloc(RH, &ok); c->a = falloc(RH, &ok);
    c->h1 = falloc(RH, &ok); c->m1 = falloc(RH, &ok); c->m2 = falloc(RH, &ok);
    c->q = falloc((size_t)R * cfg->n_heads * Dmax, &ok);
    c->att = falloc((size_t)R * cfg->n_heads * Dmax, &ok);
    c->kn = falloc((size_t)R * kvmax, &ok);
    c->vn = falloc((size_t)R * kvmax, &ok);
    c->g = falloc((size_t)R * cfg->inter, &ok);
    c->u = falloc((size_t)R * cfg->inter, &ok);
    c->slot_out = falloc(RH * K, &ok);
    c->route_w = falloc((size_t)R * K, &ok);
    c->router_logits = falloc((size_t)R * imax(E, K), &ok);
    c->route_idx = calloc((size_t)R * K, sizeof(int));
    c->exp_count = calloc((size_t)E, sizeof(int));
    c->exp_order = calloc((size_t)E, sizeof(int));
    c->exp_rows = calloc((size_t)E * R, sizeof(int));
    /* what attention's products read: Vᵀ, or the table's packed K/V of every kv head */
    const dg_attpath *ap = ok ? dg_kernels_att(&c->k) : NULL;
    int keys = c->att_keys = c->max_tokens + R;
    size_t vt = (size_t)kvmax * (size_t)keys;
    if (ap) {
        int skeys = imin(keys, imax(1, cfg->window - 1) + R);   /* a sliding layer's most keys */
        size_t kf = (size_t)cfg->n_kv * ap->kv_bytes(skeys, cfg->head_dim), kg = (size_t)cfg->g_n_kv * ap->kv_bytes(keys, cfg->g_head_dim);
        vt = ((kf > kg ? kf : kg) + sizeof(float) - 1) / sizeof(float);
    }
    c->att_vt = falloc(vt, &ok);
    c->rope_cs = falloc(2 * (size_t)R * hmax, &ok);
    c->rope_sn = falloc(2 * (size_t)R * hmax, &ok);
    c->inv_freq_s = calloc((size_t)hmax, sizeof(double));
    c->inv_freq_f = calloc((size_t)hmax, sizeof(double));
    c->sc_idx = calloc((size_t)cfg->canvas * DG_SC_CAP, sizeof *c->sc_idx);
    c->sc_cnt = calloc((size_t)cfg->canvas, sizeof *c->sc_cnt);
    c->exp_load = calloc((size_t)m->n_layers, sizeof *c->exp_load);
    if (!c->sc_idx || !c->sc_cnt || !c->exp_load) ok = 0;
    c->att_rows = imax(DG_ATT_ROWS, cfg->n_heads);
    c->att_pscr = ((size_t)c->att_rows * ((size_t)c->att_keys + 2 * (size_t)Dmax) + 15) / 16 * 16;
    c->exp_scratch = calloc((size_t)c->n_threads, sizeof(float *));
    c->att_scratch = calloc((size_t)c->n_threads, sizeof(float *));
    if (!c->route_idx || !c->exp_count || !c->exp_order || !c->exp_rows || !c->inv_freq_s || !c->inv_freq_f ||
        !c->exp_scratch || !c->att_scratch) ok = 0;
    for (int t = 0; ok && t < c->n_threads; t++) {
        c->exp_scratch[t] = falloc((size_t)R * (2 * (size_t)H + 3 * (size_t)Ie), &ok);
        /* scores, stacked queries, outputs; then (64-byte aligned) the packed path's scratch */
        c->att_scratch[t] = falloc(c->att_pscr + (ap ? (ap->scratch_bytes(c->att_rows, Dmax) + 3) / 4 : 0), &ok);
    }
    if (ok) {
        /* inv_freq[j] = 1 / theta^(2j / D); proportional RoPE: only the first pairs rotate,
         * with the full head dim as denominator (MODEL.md §4.3). */
        for (int j = 0; j < cfg->head_dim / 2; j++) c->inv_freq_s[j] = 1.0 / pow(cfg->theta_sliding, 2.0 * j / cfg->head_dim);
        for (int j = 0; j < cfg->g_head_dim / 2; j++)
            c->inv_freq_f[j] = j < cfg->rot_pairs_full ? 1.0 / pow(cfg->theta_full, 2.0 * j / cfg->g_head_dim) : 0.0;
    }
    c->seqs = calloc((size_t)c->n_seq, sizeof *c->seqs);
    if (!c->seqs) ok = 0;
    for (int s = 0; ok && s < c->n_seq; s++) {
        c->seqs[s].kv = calloc((size_t)m->n_layers, sizeof(dg_kv));
        if (!c->seqs[s].kv) { ok = 0; break; }
        for (int li = 0; li < m->n_layers; li++) {
            const dg_layer *L = &m->layers[li];
            /* room for the decoder to stage a canvas after the cache entries */
            int cap = (L->full ? c->max_tokens : imax(1, cfg->window - 1)) + c->max_rows;
            if (!dg_kv_init(&c->seqs[s].kv[li], L->n_kv, L->D, cap)) ok = 0;
        }
    }
    if (!ok) {
        dg_ctx_free(c);
        return dg_fail(err, DG_ERR_NOMEM, "out of memory allocating the context (%d tokens, %d sequences)", c->max_tokens, c->n_seq);
    }
    *out = c;
    return DG_OK;
}

void dg_ctx_free(dg_ctx *c) {
    if (!c) return;
    if (c->seqs)
        for (int s = 0; s < c->n_seq; s++) {
            if (!c->seqs[s].kv) continue;
            for (int li = 0; li < c->m->n_layers; li++) dg_kv_free(&c->seqs[s].kv[li]);
            free(c->seqs[s].kv);
        }
    free(c->seqs);
    if (c->exp_scratch) for (int t = 0; t < c->n_threads; t++) free(c->exp_scratch[t]);
    if (c->att_scratch) for (int t = 0; t < c->n_threads; t++) free(c->att_scratch[t]);
    free(c->exp_scratch); free(c->att_scratch);
    free(c->x); free(c->xn); free(c->r); free(c->a); free(c->h1); free(c->m1); free(c->m2);
    free(c->q); free(c->att); free(c->kn); free(c->vn); free(c->g); free(c->u);
    free(c->slot_out); free(c->route_w); free(c->router_logits); free(c->route_idx);
    free(c->exp_count); free(c->exp_order); free(c->exp_rows); free(c->att_vt); free(c->sc_idx); free(c->sc_cnt);
    free(c->exp_load);
    free(c->rope_cs); free(c->rope_sn); free(c->inv_freq_s); free(c->inv_freq_f);
    dg_kernels_free(&c->k);
    if (c->pool) dg_pool_free(c->pool);
    free(c);
}

dg_isa dg_ctx_isa(const dg_ctx *c) { return c->k.isa; }
int dg_ctx_task_balance(const dg_ctx *c, dg_task_balance *out, int max) { return dg_pool_regions(c->pool, out, max); }
const dg_model *dg_ctx_model(const dg_ctx *c) { return c->m; }

int dg_cache_len(const dg_ctx *c, int seq) {
    return seq >= 0 && seq < c->n_seq ? c->seqs[seq].len : -1;
}

void dg_cache_clear(dg_ctx *c, int seq) {
    if (seq < 0 || seq >= c->n_seq) return;
    c->seqs[seq].len = 0;
    for (int li = 0; li < c->m->n_layers; li++) c->seqs[seq].kv[li].n = 0;
}

static dg_status check_ids(const dg_ctx *c, const int32_t *ids, int n, const char *what, dg_error *err) {
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= c->m->cfg.vocab)
            return dg_fail(err, DG_ERR_RANGE, "%s: token id %d at index %d is outside the vocabulary [0, %d)",
                           what, (int)ids[i], i, c->m->cfg.vocab);
    return DG_OK;
}

dg_status dg_encode(dg_ctx *c, int seq, const int32_t *ids, int n,
                    dg_progress_fn progress, void *user, dg_error *err) {
    if (seq < 0 || seq >= c->n_seq) return dg_fail(err, DG_ERR_ARG, "sequence %d does not exist (context has %d)", seq, c->n_seq);
    if (n < 0 || (n > 0 && !ids)) return dg_fail(err, DG_ERR_ARG, "encode: invalid token array");
    dg_status st = check_ids(c, ids, n, "encode", err);
    if (st) return st;
    dg_seq *s = &c->seqs[seq];
    if ((long)s->len + n > c->max_tokens)
        return dg_fail(err, DG_ERR_RANGE, "encode: %d + %d tokens exceed the context size of %d tokens", s->len, n, c->max_tokens);
    for (int done = 0; done < n;) {
        int chunk = n - done < c->max_chunk ? n - done : c->max_chunk;
        if ((st = dg_forward_encode(c, seq, ids + done, chunk, err))) return st;
        done += chunk;
        if (progress && progress(user, done, n))
            return dg_fail(err, DG_ERR_CANCELLED, "encode cancelled after %d of %d tokens", done, n);
    }
    return DG_OK;
}

dg_status dg_decode_step(dg_ctx *c, int n_seq, const int *seqs,
                         const int32_t *const *canvases, float *const *sc,
                         float *const *logits, dg_error *err) {
    const dg_config *cfg = &c->m->cfg;
    if (n_seq < 1 || n_seq * cfg->canvas > c->max_rows)
        return dg_fail(err, DG_ERR_ARG, "decode: %d canvases, but the context was made for %d", n_seq, c->max_rows / cfg->canvas);
    for (int i = 0; i < n_seq; i++) {
        if (seqs[i] < 0 || seqs[i] >= c->n_seq) return dg_fail(err, DG_ERR_ARG, "decode: sequence %d does not exist", seqs[i]);
        for (int j = 0; j < i; j++)
            if (seqs[j] == seqs[i]) return dg_fail(err, DG_ERR_ARG, "decode: sequence %d given twice", seqs[i]);
        if (!canvases[i] || !logits[i]) return dg_fail(err, DG_ERR_ARG, "decode: missing canvas or logits buffer");
        dg_status st = check_ids(c, canvases[i], cfg->canvas, "decode canvas", err);
        if (st) return st;
        if ((long)c->seqs[seqs[i]].len + cfg->canvas > cfg->max_pos)
            return dg_fail(err, DG_ERR_RANGE, "decode: canvas positions would pass max_position_embeddings (%d)", cfg->max_pos);
    }
    return dg_forward_decode(c, n_seq, seqs, canvases, sc, logits, err);
}

void dg_ctx_set_tap(dg_ctx *c, dg_tap_fn fn, void *user) { c->tap = fn; c->tap_user = user; }
void dg_ctx_last_profile(const dg_ctx *c, dg_step_profile *p) { *p = c->prof; }

int dg_ctx_last_expert_load(const dg_ctx *c, dg_expert_load *out, int cap) {
    int n = c->prof.moe_layers;
    for (int i = 0; i < n && i < cap; i++) out[i] = c->exp_load[i];
    return n;
}
