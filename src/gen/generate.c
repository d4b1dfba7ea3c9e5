/* The block-diffusion generation loop (GENERATION.md §2) for one sequence: prefill, then per
 * canvas: random init, denoising steps (decoder + sampler), stop test, commit of the argmax
 * canvas, EOS/pad, commit pass. All buffers live in the generator; nothing is allocated per step. */
#include "gen/rng.h"
#include "core/error.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct dg_generator {
    dg_ctx *ctx;
    int L, V, max_positions, n_threads;
    dg_sampler *sampler;
    float *pl;              /* processed logits; step k's pl is step k + 1's sc, which the
                               decoder consumes in place before writing that step's logits */
    float *raw;             /* raw logits when a trace wants them (else decoded into pl[cur]) */
    int32_t *canvas, *next, *sampled, *am[2];
    uint8_t *accept;
    double *H;
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

const char *dg_finish_name(dg_finish f) {
    switch (f) {
    case DG_FINISH_STOP: return "stop";
    case DG_FINISH_LENGTH: return "length";
    case DG_FINISH_CANCELLED: return "cancelled";
    default: return "none";
    }
}

void dg_generator_free(dg_generator *g) {
    if (!g) return;
    dg_sampler_free(g->sampler);
    free(g->pl); free(g->raw);
    free(g->canvas); free(g->next); free(g->sampled); free(g->am[0]); free(g->am[1]);
    free(g->accept); free(g->H);
    free(g);
}

dg_status dg_generator_new(dg_ctx *ctx, int n_threads, dg_generator **out, dg_error *err) {
    *out = NULL;
    const dg_model *m = ctx ? dg_ctx_model(ctx) : NULL;
    if (!m) return dg_fail(err, DG_ERR_ARG, "generator: context has no model");
    dg_model_info info;
    memset(&info, 0, sizeof info);
    dg_model_get_info(m, &info);
    if (info.canvas_length < 1 || info.vocab_size < 1)
        return dg_fail(err, DG_ERR_ARG, "generator: bad model geometry (canvas %d, vocab %d)", info.canvas_length, info.vocab_size);
    dg_generator *g = calloc(1, sizeof *g);
    if (!g) return dg_fail(err, DG_ERR_NOMEM, "generator: out of memory");
    g->ctx = ctx;
    g->L = info.canvas_length;
    g->V = info.vocab_size;
    g->max_positions = info.max_positions;
    g->n_threads = n_threads;
    size_t LV = (size_t)g->L * (size_t)g->V, L = (size_t)g->L;
    g->pl = malloc(LV * sizeof(float));
    g->canvas = malloc(L * 4);
    g->next = malloc(L * 4);
    g->sampled = malloc(L * 4);
    g->am[0] = malloc(L * 4);
    g->am[1] = malloc(L * 4);
    g->accept = malloc(L);
    g->H = malloc(L * sizeof(double));
    if (!g->pl || !g->canvas || !g->next || !g->sampled || !g->am[0] || !g->am[1] || !g->accept || !g->H) {
        dg_generator_free(g);
        return dg_fail(err, DG_ERR_NOMEM, "generator: out of memory for [%d, %d] logits", g->L, g->V);
    }
    dg_status st = dg_sampler_new(g->L, g->V, n_threads, dg_ctx_isa(ctx), &g->sampler, err);
    if (st) { dg_generator_free(g); return st; }
    *out = g;
    return DG_OK;
}

void dg_gen_result_free(dg_gen_result *r) {
    if (!r) return;
    free(r->ids);
    free(r->steps);
    r->ids = NULL;
    r->steps = NULL;
}

static int first_eos(const dg_gen_params *p, const int32_t *a, int L, int *id) {
    for (int i = 0; i < L; i++)
        for (int e = 0; e < p->n_eos; e++)
            if (a[i] == p->eos_ids[e]) { *id = a[i]; return i; }
    return -1;
}

static dg_status cancelled(dg_gen_result *res, dg_error *err, double t0) {
    res->finish = DG_FINISH_CANCELLED;
    res->t_total = now() - t0;
    return dg_fail(err, DG_ERR_CANCELLED, "generation cancelled after %d canvases (%d steps)", res->n_canvases, res->n_steps);
}

dg_status dg_generate(dg_generator *g, int seq, const int32_t *prompt, int n_prompt,
                      const dg_gen_params *p, const dg_gen_callbacks *cb,
                      dg_gen_result *res, dg_error *err) {
    static const dg_gen_callbacks none;
    if (!cb) cb = &none;
    memset(res, 0, sizeof *res);
    res->stop_id = -1;
    const double t0 = now();
    const int L = g->L, V = g->V;
    dg_status st = dg_gen_params_validate(p, err);
    if (st) return st;
    if (p->pad_id >= V) return dg_fail(err, DG_ERR_RANGE, "pad_token_id %d is outside the vocabulary [0, %d)", p->pad_id, V);
    const int past = dg_cache_len(g->ctx, seq);
    if (past < 0) return dg_fail(err, DG_ERR_ARG, "sequence %d does not exist", seq);
    if (n_prompt < 0 || (n_prompt > 0 && !prompt)) return dg_fail(err, DG_ERR_ARG, "bad prompt (%d tokens)", n_prompt);
    if (n_prompt == 0 && past == 0) return dg_fail(err, DG_ERR_ARG, "empty prompt");
    for (int i = 0; i < n_prompt; i++)
        if (prompt[i] < 0 || prompt[i] >= V)
            return dg_fail(err, DG_ERR_RANGE, "prompt token %d at index %d is outside the vocabulary [0, %d)", prompt[i], i, V);
    const int n_canvases = (int)(((long long)p->max_new_tokens + L - 1) / L);
    const long long need = (long long)past + n_prompt + (long long)n_canvases * L;
    if (g->max_positions > 0 && need > g->max_positions)
        return dg_fail(err, DG_ERR_RANGE,
                       "%d cached + %d prompt tokens + %d canvas%s x %d need %lld positions; the model has %d",
                       past, n_prompt, n_canvases, n_canvases == 1 ? "" : "es", L, need, g->max_positions);
    if (cb->on_trace && !g->raw && !(g->raw = malloc((size_t)L * (size_t)V * sizeof(float))))
        return dg_fail(err, DG_ERR_NOMEM, "generator: out of memory for the trace logits");
    res->ids = malloc((size_t)n_canvases * (size_t)L * sizeof *res->ids);
    res->steps = calloc((size_t)n_canvases, sizeof *res->steps);
    if (!res->ids || !res->steps) { dg_gen_result_free(res); return dg_fail(err, DG_ERR_NOMEM, "generate: out of memory"); }
    res->prompt_tokens = n_prompt;

    double t = now();
    if (n_prompt > 0 && (st = dg_encode(g->ctx, seq, prompt, n_prompt, cb->on_prefill, cb->user, err))) {
        dg_fail_wrap(err, "prefill");
        return st;
    }
    res->t_prefill = now() - t;

    const int N = p->max_denoising_steps;
    for (int c = 0; c < n_canvases; c++) {
        dg_rng_init_canvas(p->seed, c, L, V, g->canvas);
        res->n_canvases = c + 1;
        float *sc = NULL;
        int run = 0, k, stop = 0;
        int32_t *am = g->am[0], *prev = g->am[1];
        for (k = 1; k <= N; k++) {
            const double ts = now();
            float *logits = g->raw ? g->raw : g->pl;
            const int32_t *cv = g->canvas;
            if ((st = dg_decode_step(g->ctx, 1, &seq, &cv, &sc, &logits, err))) {
                dg_fail_wrap(err, "canvas %d step %d", c, k);
                return st;
            }
            const double tsamp = now();
            dg_step s = {.logits = logits, .pl = g->pl, .canvas = c, .step = k, .sampled = g->sampled,
                         .argmax = am, .next = g->next, .accept = g->accept, .entropy = g->H};
            if ((st = dg_sampler_step(g->sampler, p, &s, err))) return st;
            int stable, confident;
            stop = dg_stop_test(p, k > 1 ? prev : NULL, am, L, s.mean_entropy, &run, &stable, &confident);
            const double te = now();
            res->t_sampler += te - tsamp;
            res->t_steps += te - ts;
            res->n_steps++;
            res->steps[c] = k;
            if (cb->on_trace || cb->on_step) {
                dg_gen_frame f = {.canvas = c, .step = k, .max_steps = N, .L = L, .V = V, .T = s.T,
                                  .mean_entropy = s.mean_entropy, .n_accept = s.n_accept, .stable = stable,
                                  .confident = confident, .stop = stop, .input = g->canvas, .sc = NULL,
                                  .logits = NULL, .pl = g->pl, .argmax = am, .sampled = g->sampled,
                                  .next = g->next, .accept = g->accept, .entropy = g->H, .step_seconds = te - ts};
                if (cb->on_step && cb->on_step(cb->user, &f)) return cancelled(res, err, t0);
                f.logits = g->raw;
                if (cb->on_trace && cb->on_trace(cb->user, &f)) return cancelled(res, err, t0);
            }
            int32_t *tmp = prev; prev = am; am = tmp;            /* prev = this step's argmax */
            if (stop) break;
            sc = g->pl;
            tmp = g->canvas; g->canvas = g->next; g->next = tmp; /* renoised canvas feeds step k + 1 */
        }
        if (stop && k < N) res->n_early_halt++;

        /* Commit the argmax canvas of the last executed step; pads after the first EOS. */
        int32_t *out = res->ids + (size_t)c * L;
        memcpy(out, prev, (size_t)L * sizeof *out);
        int stop_id = -1, eos = first_eos(p, out, L, &stop_id);
        if (eos >= 0)
            for (int i = eos + 1; i < L; i++) out[i] = p->pad_id;
        res->n_ids += L;
        res->n_emitted += eos >= 0 ? eos : L;
        if (c == 0) res->t_first_canvas = now() - t0;
        if (cb->on_canvas && cb->on_canvas(cb->user, c, out, L, eos >= 0 ? eos : L, res->steps[c]))
            return cancelled(res, err, t0);
        if (eos >= 0) { res->finish = DG_FINISH_STOP; res->stop_id = stop_id; break; }
        if (c == n_canvases - 1) { res->finish = DG_FINISH_LENGTH; break; }
        /* Commit pass: the canvas's K/V at the positions it was denoised at. */
        t = now();
        if ((st = dg_encode(g->ctx, seq, out, L, NULL, NULL, err))) {
            dg_fail_wrap(err, "commit of canvas %d", c);
            return st;
        }
        res->t_commit += now() - t;
    }
    res->t_total = now() - t0;
    return DG_OK;
}
