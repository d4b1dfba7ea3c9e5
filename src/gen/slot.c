#include "gen/slot.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/error.h"
#include "gen/rng.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

dg_status dg_slot_shared_init(dg_slot_shared *sh, dg_ctx *ctx, int n_threads, dg_error *err) {
    memset(sh, 0, sizeof *sh);
    const dg_model *m = ctx ? dg_ctx_model(ctx) : NULL;
    if (!m) return dg_fail(err, DG_ERR_ARG, "generation: context has no model");
    dg_model_info info;
    memset(&info, 0, sizeof info);
    dg_model_get_info(m, &info);
    if (info.canvas_length < 1 || info.vocab_size < 1)
        return dg_fail(err, DG_ERR_ARG, "generation: bad model geometry (canvas %d, vocab %d)", info.canvas_length, info.vocab_size);
    sh->ctx = ctx;
    sh->L = info.canvas_length;
    sh->V = info.vocab_size;
    sh->max_positions = info.max_positions;
    sh->sampled = malloc((size_t)sh->L * 4);
    sh->accept = malloc((size_t)sh->L);
    sh->H = malloc((size_t)sh->L * sizeof(double));
    if (!sh->sampled || !sh->accept || !sh->H) {
        dg_slot_shared_free(sh);
        return dg_fail(err, DG_ERR_NOMEM, "generation: out of memory");
    }
    dg_status st = dg_sampler_new(sh->L, sh->V, n_threads, dg_ctx_isa(ctx), &sh->sampler, err);
    if (st) dg_slot_shared_free(sh);
    return st;
}

void dg_slot_shared_free(dg_slot_shared *sh) {
    dg_sampler_free(sh->sampler);
    free(sh->sampled); free(sh->accept); free(sh->H);
    memset(sh, 0, sizeof *sh);
}

int dg_slot_alloc(dg_slot *s, int L, int V) {
    memset(s, 0, sizeof *s);
    s->pl = malloc((size_t)L * (size_t)V * sizeof(float));
    s->canvas = malloc((size_t)L * 4);
    s->next = malloc((size_t)L * 4);
    s->am = malloc((size_t)L * 4);
    s->prev = malloc((size_t)L * 4);
    return s->pl && s->canvas && s->next && s->am && s->prev;
}

void dg_slot_free(dg_slot *s) {
    free(s->pl); free(s->raw); free(s->canvas); free(s->next); free(s->am); free(s->prev);
    dg_gen_result_free(&s->res);
    memset(s, 0, sizeof *s);
}

static void finish(dg_slot *s, dg_finish f, dg_status st) {
    s->state = DG_SLOT_DONE;
    s->res.finish = f;
    s->res.t_total = now() - s->t0;
    s->status = st;
}

void dg_slot_fail(dg_slot *s, const dg_error *e) {
    if (e != &s->err) s->err = *e;
    finish(s, s->res.finish ? s->res.finish : DG_FINISH_NONE, e->code ? e->code : DG_ERR_ARG);
}

void dg_slot_cancel(dg_slot *s) {
    if (s->state != DG_SLOT_ACTIVE) return;
    dg_fail(&s->err, DG_ERR_CANCELLED, "generation cancelled after %d canvases (%d steps)", s->res.n_canvases, s->res.n_steps);
    finish(s, DG_FINISH_CANCELLED, DG_ERR_CANCELLED);
}

dg_status dg_slot_start(dg_slot_shared *sh, dg_slot *s, int seq, const int32_t *prompt, int n_prompt,
                        const dg_gen_params *p, const dg_gen_callbacks *cb, dg_error *err) {
    if (s->state != DG_SLOT_FREE) return dg_fail(err, DG_ERR_ARG, "generation: the slot is busy");
    const int L = sh->L, V = sh->V;
    dg_status st = dg_gen_params_validate(p, err);
    if (st) return st;
    if (p->pad_id >= V) return dg_fail(err, DG_ERR_RANGE, "pad_token_id %d is outside the vocabulary [0, %d)", p->pad_id, V);
    const int past = dg_cache_len(sh->ctx, seq);
    if (past < 0) return dg_fail(err, DG_ERR_ARG, "sequence %d does not exist", seq);
    if (n_prompt < 0 || (n_prompt > 0 && !prompt)) return dg_fail(err, DG_ERR_ARG, "bad prompt (%d tokens)", n_prompt);
    if (n_prompt == 0 && past == 0) return dg_fail(err, DG_ERR_ARG, "empty prompt");
    for (int j = 0; j < n_prompt; j++)
        if (prompt[j] < 0 || prompt[j] >= V)
            return dg_fail(err, DG_ERR_RANGE, "prompt token %d at index %d is outside the vocabulary [0, %d)", prompt[j], j, V);
    const int n_canvases = (int)(((long long)p->max_new_tokens + L - 1) / L);
    const long long need = (long long)past + n_prompt + (long long)n_canvases * L;
    if (sh->max_positions > 0 && need > sh->max_positions)
        return dg_fail(err, DG_ERR_RANGE, "%d cached + %d prompt tokens + %d canvas%s x %d need %lld positions; the model has %d",
                       past, n_prompt, n_canvases, n_canvases == 1 ? "" : "es", L, need, sh->max_positions);
    if (cb && cb->on_trace && !s->raw && !(s->raw = malloc((size_t)L * (size_t)V * sizeof(float))))
        return dg_fail(err, DG_ERR_NOMEM, "generation: out of memory for the trace logits");
    if (!(cb && cb->on_trace)) { free(s->raw); s->raw = NULL; }
    dg_gen_result_free(&s->res);
    memset(&s->res, 0, sizeof s->res);
    s->res.stop_id = -1;
    s->res.ids = malloc((size_t)n_canvases * (size_t)L * sizeof *s->res.ids);
    s->res.steps = calloc((size_t)n_canvases, sizeof *s->res.steps);
    if (!s->res.ids || !s->res.steps) {
        dg_gen_result_free(&s->res);
        return dg_fail(err, DG_ERR_NOMEM, "generation: out of memory");
    }
    s->t0 = now();
    s->seq = seq;
    s->p = *p;
    memset(&s->cb, 0, sizeof s->cb);
    if (cb) s->cb = *cb;
    s->res.prompt_tokens = n_prompt;
    if (n_prompt > 0 && (st = dg_encode(sh->ctx, seq, prompt, n_prompt, s->cb.on_prefill, s->cb.user, err))) {
        dg_fail_wrap(err, "prefill");
        dg_gen_result_free(&s->res);
        return st;
    }
    s->res.t_prefill = now() - s->t0;
    s->n_canvases = n_canvases;
    s->c = 0;
    s->k = 1;
    s->run = 0;
    s->has_sc = 0;
    s->status = DG_OK;
    memset(&s->err, 0, sizeof s->err);
    dg_rng_init_canvas(p->seed, 0, L, V, s->canvas);
    s->res.n_canvases = 1;
    s->state = DG_SLOT_ACTIVE;
    return DG_OK;
}

static int first_eos(const dg_gen_params *p, const int32_t *a, int L, int *id) {
    for (int i = 0; i < L; i++)
        for (int e = 0; e < p->n_eos; e++)
            if (a[i] == p->eos_ids[e]) { *id = a[i]; return i; }
    return -1;
}

/* Commit of the current canvas (the argmax of its last step, in s->prev), then either the end
 * of the request or the commit pass at the canvas's positions and the next canvas's init. */
static void commit(dg_slot_shared *sh, dg_slot *s) {
    const int L = sh->L, c = s->c;
    dg_gen_result *r = &s->res;
    int32_t *out = r->ids + (size_t)c * L;
    memcpy(out, s->prev, (size_t)L * sizeof *out);
    int stop_id = -1, eos = first_eos(&s->p, out, L, &stop_id);
    if (eos >= 0)
        for (int j = eos + 1; j < L; j++) out[j] = s->p.pad_id;
    /* The canvas is denoised whole, but only max_new_tokens tokens are emitted in all: the last
     * canvas may be cut short (an EOS at or before the cut still means stop). */
    const int left = s->p.max_new_tokens - r->n_emitted, before_eos = eos >= 0 ? eos : L;
    const int n_emit = before_eos < left ? before_eos : left;
    r->n_ids += L;
    r->n_emitted += n_emit;
    if (c == 0) r->t_first_canvas = now() - s->t0;
    if (s->cb.on_canvas && s->cb.on_canvas(s->cb.user, c, out, L, n_emit, r->steps[c])) { dg_slot_cancel(s); return; }
    if (eos >= 0 && eos <= left) { r->stop_id = stop_id; finish(s, DG_FINISH_STOP, DG_OK); return; }
    if (n_emit == left || c == s->n_canvases - 1) { finish(s, DG_FINISH_LENGTH, DG_OK); return; }
    const double t = now();
    if (dg_encode(sh->ctx, s->seq, out, L, NULL, NULL, &s->err)) {
        dg_fail_wrap(&s->err, "commit of canvas %d", c);
        dg_slot_fail(s, &s->err);
        return;
    }
    r->t_commit += now() - t;
    s->c = c + 1;
    s->k = 1;
    s->run = 0;
    s->has_sc = 0;
    r->n_canvases = s->c + 1;
    dg_rng_init_canvas(s->p.seed, s->c, L, sh->V, s->canvas);
}

void dg_slot_after_decode(dg_slot_shared *sh, dg_slot *s, double t_dec) {
    const int L = sh->L, V = sh->V, k = s->k, N = s->p.max_denoising_steps;
    const double tsamp = now();
    dg_step d = {.logits = dg_slot_logits(s), .pl = s->pl, .canvas = s->c, .step = k, .sampled = sh->sampled,
                 .argmax = s->am, .next = s->next, .accept = sh->accept, .entropy = sh->H};
    if (dg_sampler_step(sh->sampler, &s->p, &d, &s->err)) {
        dg_fail_wrap(&s->err, "canvas %d step %d", s->c, k);
        dg_slot_fail(s, &s->err);
        return;
    }
    int stable, confident;
    const int stop = dg_stop_test(&s->p, k > 1 ? s->prev : NULL, s->am, L, d.mean_entropy, &s->run, &stable, &confident);
    const double te = now();
    dg_gen_result *r = &s->res;
    r->t_sampler += te - tsamp;
    r->t_steps += t_dec + (te - tsamp);
    r->n_steps++;
    r->steps[s->c] = k;
    if (s->cb.on_step || s->cb.on_trace) {
        dg_gen_frame f = {.canvas = s->c, .step = k, .max_steps = N, .L = L, .V = V, .T = d.T,
                          .mean_entropy = d.mean_entropy, .n_accept = d.n_accept, .stable = stable,
                          .confident = confident, .stop = stop, .input = s->canvas, .sc = NULL,
                          .logits = NULL, .pl = s->pl, .argmax = s->am, .sampled = sh->sampled,
                          .next = s->next, .accept = sh->accept, .entropy = sh->H,
                          .step_seconds = t_dec + (te - tsamp)};
        if (s->cb.on_step && s->cb.on_step(s->cb.user, &f)) { dg_slot_cancel(s); return; }
        f.logits = s->raw;
        if (s->cb.on_trace && s->cb.on_trace(s->cb.user, &f)) { dg_slot_cancel(s); return; }
    }
    int32_t *tmp = s->prev; s->prev = s->am; s->am = tmp;       /* prev = this step's argmax */
    if (stop || k == N) {
        if (stop && k < N) r->n_early_halt++;
        commit(sh, s);
        return;
    }
    s->has_sc = 1;
    s->k = k + 1;
    tmp = s->canvas; s->canvas = s->next; s->next = tmp;        /* renoised canvas feeds step k + 1 */
}

dg_status dg_slot_take(dg_slot *s, dg_gen_result *res, dg_error *err) {
    dg_slot_cancel(s);
    if (s->state != DG_SLOT_DONE) {
        memset(res, 0, sizeof *res);
        res->stop_id = -1;
        return dg_fail(err, DG_ERR_ARG, "generation: the slot holds no request");
    }
    *res = s->res;
    memset(&s->res, 0, sizeof s->res);
    s->state = DG_SLOT_FREE;
    if (s->status && err) *err = s->err;
    return s->status;
}
