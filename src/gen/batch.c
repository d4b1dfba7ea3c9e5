/* Lockstep batched generation (GENERATION.md §2 for several sequences at once): every active
 * slot's canvas goes through ONE dg_decode_step per step, so the weights are read once for the
 * whole batch. Each slot then runs exactly the per-sequence decisions of dg_generate (same
 * sampler, stop test, commit/EOS rules, RNG draws keyed by seed/canvas/step/pos), so a slot's
 * output does not depend on its neighbours. Slots join (prefill between steps) and leave
 * (finish, cancel, error) independently. All buffers are made in dg_batch_new; a step allocates
 * nothing. */
#include "gen/rng.h"
#include "core/error.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SLOT_FREE = 0, SLOT_ACTIVE, SLOT_DONE };

typedef struct slot {
    int state;
    dg_gen_params p;
    dg_gen_callbacks cb;
    int n_canvases;         /* canvases this request may commit */
    int c, k, run;          /* current canvas, step about to run (1-based), stability run */
    int has_sc;             /* step k > 1: pl holds the previous step's logits / T */
    float *pl;              /* [L, V]: self-conditioning in, logits out, processed logits after */
    int32_t *canvas, *next, *am, *prev;
    dg_gen_result res;
    dg_status status;
    dg_error err;
    double t0;
} slot;

struct dg_batch {
    dg_ctx *ctx;
    int n_slots, L, V, max_positions;
    dg_sampler *sampler;
    slot *slots;
    /* shared scratch of the sampler's per-position outputs (consumed within one slot's turn) */
    int32_t *sampled;
    uint8_t *accept;
    double *H;
    /* the argument arrays of dg_decode_step */
    int *seqs, *who;
    const int32_t **canvases;
    float **sc, **logits;
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void dg_batch_free(dg_batch *b) {
    if (!b) return;
    for (int i = 0; b->slots && i < b->n_slots; i++) {
        slot *s = &b->slots[i];
        free(s->pl); free(s->canvas); free(s->next); free(s->am); free(s->prev);
        dg_gen_result_free(&s->res);
    }
    free(b->slots);
    dg_sampler_free(b->sampler);
    free(b->sampled); free(b->accept); free(b->H);
    free(b->seqs); free(b->who); free(b->canvases); free(b->sc); free(b->logits);
    free(b);
}

dg_status dg_batch_new(dg_ctx *ctx, int n_slots, int n_threads, dg_batch **out, dg_error *err) {
    *out = NULL;
    const dg_model *m = ctx ? dg_ctx_model(ctx) : NULL;
    if (!m) return dg_fail(err, DG_ERR_ARG, "batch: context has no model");
    if (n_slots < 1) return dg_fail(err, DG_ERR_ARG, "batch: %d slots", n_slots);
    if (dg_cache_len(ctx, n_slots - 1) < 0)
        return dg_fail(err, DG_ERR_ARG, "batch: %d slots need a context made with n_seq >= %d", n_slots, n_slots);
    dg_model_info info;
    memset(&info, 0, sizeof info);
    dg_model_get_info(m, &info);
    if (info.canvas_length < 1 || info.vocab_size < 1)
        return dg_fail(err, DG_ERR_ARG, "batch: bad model geometry (canvas %d, vocab %d)", info.canvas_length, info.vocab_size);
    dg_batch *b = calloc(1, sizeof *b);
    if (!b) return dg_fail(err, DG_ERR_NOMEM, "batch: out of memory");
    b->ctx = ctx;
    b->n_slots = n_slots;
    b->L = info.canvas_length;
    b->V = info.vocab_size;
    b->max_positions = info.max_positions;
    const size_t L = (size_t)b->L, LV = L * (size_t)b->V, n = (size_t)n_slots;
    b->slots = calloc(n, sizeof *b->slots);
    b->sampled = malloc(L * 4);
    b->accept = malloc(L);
    b->H = malloc(L * sizeof(double));
    b->seqs = malloc(n * sizeof *b->seqs);
    b->who = malloc(n * sizeof *b->who);
    b->canvases = malloc(n * sizeof *b->canvases);
    b->sc = malloc(n * sizeof *b->sc);
    b->logits = malloc(n * sizeof *b->logits);
    int ok = b->slots && b->sampled && b->accept && b->H && b->seqs && b->who && b->canvases && b->sc && b->logits;
    for (int i = 0; ok && i < n_slots; i++) {
        slot *s = &b->slots[i];
        s->pl = malloc(LV * sizeof(float));
        s->canvas = malloc(L * 4);
        s->next = malloc(L * 4);
        s->am = malloc(L * 4);
        s->prev = malloc(L * 4);
        ok = s->pl && s->canvas && s->next && s->am && s->prev;
    }
    if (!ok) {
        dg_batch_free(b);
        return dg_fail(err, DG_ERR_NOMEM, "batch: out of memory for %d x [%d, %d] logits", n_slots, (int)L, (int)(LV / L));
    }
    dg_status st = dg_sampler_new(b->L, b->V, n_threads, dg_ctx_isa(ctx), &b->sampler, err);
    if (st) { dg_batch_free(b); return st; }
    *out = b;
    return DG_OK;
}

int dg_batch_slots(const dg_batch *b) { return b->n_slots; }

int dg_batch_n_active(const dg_batch *b) {
    int n = 0;
    for (int i = 0; i < b->n_slots; i++) n += b->slots[i].state == SLOT_ACTIVE;
    return n;
}

int dg_batch_state(const dg_batch *b, int i) {
    if (i < 0 || i >= b->n_slots) return -1;
    return b->slots[i].state == SLOT_ACTIVE ? 1 : b->slots[i].state == SLOT_DONE ? 2 : 0;
}

/* Ends a slot: it leaves the lockstep batch; its result waits for dg_batch_take. */
static void finish(slot *s, dg_finish f, dg_status st) {
    s->state = SLOT_DONE;
    s->res.finish = f;
    s->res.t_total = now() - s->t0;
    s->status = st;
}

static void fail(slot *s, const dg_error *e) {
    s->err = *e;
    finish(s, s->res.finish ? s->res.finish : DG_FINISH_NONE, e->code ? e->code : DG_ERR_ARG);
}

static void cancel(slot *s) {
    dg_fail(&s->err, DG_ERR_CANCELLED, "generation cancelled after %d canvases (%d steps)", s->res.n_canvases, s->res.n_steps);
    finish(s, DG_FINISH_CANCELLED, DG_ERR_CANCELLED);
}

void dg_batch_cancel(dg_batch *b, int i) {
    if (i >= 0 && i < b->n_slots && b->slots[i].state == SLOT_ACTIVE) cancel(&b->slots[i]);
}

dg_status dg_batch_start(dg_batch *b, int i, const int32_t *prompt, int n_prompt, const dg_gen_params *p,
                         const dg_gen_callbacks *cb, dg_error *err) {
    if (i < 0 || i >= b->n_slots) return dg_fail(err, DG_ERR_ARG, "batch: slot %d does not exist (%d slots)", i, b->n_slots);
    slot *s = &b->slots[i];
    if (s->state != SLOT_FREE) return dg_fail(err, DG_ERR_ARG, "batch: slot %d is busy", i);
    if (cb && cb->on_trace) return dg_fail(err, DG_ERR_UNSUPPORTED, "batch: on_trace is not supported");
    const int L = b->L, V = b->V;
    dg_status st = dg_gen_params_validate(p, err);
    if (st) return st;
    if (p->pad_id >= V) return dg_fail(err, DG_ERR_RANGE, "pad_token_id %d is outside the vocabulary [0, %d)", p->pad_id, V);
    const int past = dg_cache_len(b->ctx, i);
    if (n_prompt < 0 || (n_prompt > 0 && !prompt)) return dg_fail(err, DG_ERR_ARG, "bad prompt (%d tokens)", n_prompt);
    if (n_prompt == 0 && past == 0) return dg_fail(err, DG_ERR_ARG, "empty prompt");
    for (int j = 0; j < n_prompt; j++)
        if (prompt[j] < 0 || prompt[j] >= V)
            return dg_fail(err, DG_ERR_RANGE, "prompt token %d at index %d is outside the vocabulary [0, %d)", prompt[j], j, V);
    const int n_canvases = (int)(((long long)p->max_new_tokens + L - 1) / L);
    const long long need = (long long)past + n_prompt + (long long)n_canvases * L;
    if (b->max_positions > 0 && need > b->max_positions)
        return dg_fail(err, DG_ERR_RANGE,
                       "%d cached + %d prompt tokens + %d canvas%s x %d need %lld positions; the model has %d",
                       past, n_prompt, n_canvases, n_canvases == 1 ? "" : "es", L, need, b->max_positions);
    memset(&s->res, 0, sizeof s->res);
    s->res.stop_id = -1;
    s->res.ids = malloc((size_t)n_canvases * (size_t)L * sizeof *s->res.ids);
    s->res.steps = calloc((size_t)n_canvases, sizeof *s->res.steps);
    if (!s->res.ids || !s->res.steps) {
        dg_gen_result_free(&s->res);
        return dg_fail(err, DG_ERR_NOMEM, "batch: out of memory");
    }
    s->t0 = now();
    s->p = *p;
    memset(&s->cb, 0, sizeof s->cb);
    if (cb) s->cb = *cb;
    s->res.prompt_tokens = n_prompt;
    if (n_prompt > 0 && (st = dg_encode(b->ctx, i, prompt, n_prompt, s->cb.on_prefill, s->cb.user, err))) {
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
    s->state = SLOT_ACTIVE;
    return DG_OK;
}

static int first_eos(const dg_gen_params *p, const int32_t *a, int L, int *id) {
    for (int i = 0; i < L; i++)
        for (int e = 0; e < p->n_eos; e++)
            if (a[i] == p->eos_ids[e]) { *id = a[i]; return i; }
    return -1;
}

/* Commit of slot i's current canvas (argmax of its last step, in s->prev), then either the end
 * of the request or the commit pass and the next canvas's random init (dg_generate's order). */
static void commit(dg_batch *b, int i, slot *s) {
    const int L = b->L, c = s->c;
    dg_gen_result *r = &s->res;
    int32_t *out = r->ids + (size_t)c * L;
    memcpy(out, s->prev, (size_t)L * sizeof *out);
    int stop_id = -1, eos = first_eos(&s->p, out, L, &stop_id);
    if (eos >= 0)
        for (int j = eos + 1; j < L; j++) out[j] = s->p.pad_id;
    r->n_ids += L;
    r->n_emitted += eos >= 0 ? eos : L;
    if (c == 0) r->t_first_canvas = now() - s->t0;
    if (s->cb.on_canvas && s->cb.on_canvas(s->cb.user, c, out, L, eos >= 0 ? eos : L, r->steps[c])) { cancel(s); return; }
    if (eos >= 0) { r->stop_id = stop_id; finish(s, DG_FINISH_STOP, DG_OK); return; }
    if (c == s->n_canvases - 1) { finish(s, DG_FINISH_LENGTH, DG_OK); return; }
    const double t = now();
    dg_status st = dg_encode(b->ctx, i, out, L, NULL, NULL, &s->err);
    if (st) { dg_fail_wrap(&s->err, "commit of canvas %d", c); fail(s, &s->err); return; }
    r->t_commit += now() - t;
    s->c = c + 1;
    s->k = 1;
    s->run = 0;
    s->has_sc = 0;
    r->n_canvases = s->c + 1;
    dg_rng_init_canvas(s->p.seed, s->c, L, b->V, s->canvas);
}

dg_status dg_batch_step(dg_batch *b, dg_error *err) {
    const int L = b->L, V = b->V;
    int n = 0;
    for (int i = 0; i < b->n_slots; i++) {
        slot *s = &b->slots[i];
        if (s->state != SLOT_ACTIVE) continue;
        b->who[n] = i;
        b->seqs[n] = i;
        b->canvases[n] = s->canvas;
        b->sc[n] = s->has_sc ? s->pl : NULL;
        b->logits[n] = s->pl;
        n++;
    }
    if (n == 0) return DG_OK;
    const double ts = now();
    dg_status st = dg_decode_step(b->ctx, n, b->seqs, b->canvases, b->sc, b->logits, err);
    if (st) {
        /* The shared forward failed: every slot in it fails with the same message. */
        dg_fail_wrap(err, "decode step of %d sequence%s", n, n == 1 ? "" : "s");
        for (int j = 0; j < n; j++) fail(&b->slots[b->who[j]], err);
        return st;
    }
    const double t_dec = now() - ts;
    for (int j = 0; j < n; j++) {
        const int i = b->who[j];
        slot *s = &b->slots[i];
        const double tsamp = now();
        const int k = s->k, N = s->p.max_denoising_steps;
        dg_step d = {.logits = s->pl, .pl = s->pl, .canvas = s->c, .step = k, .sampled = b->sampled,
                     .argmax = s->am, .next = s->next, .accept = b->accept, .entropy = b->H};
        if ((st = dg_sampler_step(b->sampler, &s->p, &d, &s->err))) {
            dg_fail_wrap(&s->err, "canvas %d step %d", s->c, k);
            fail(s, &s->err);
            continue;
        }
        int stable, confident;
        const int stop = dg_stop_test(&s->p, k > 1 ? s->prev : NULL, s->am, L, d.mean_entropy, &s->run, &stable, &confident);
        const double te = now();
        dg_gen_result *r = &s->res;
        r->t_sampler += te - tsamp;
        r->t_steps += t_dec + (te - tsamp);
        r->n_steps++;
        r->steps[s->c] = k;
        if (s->cb.on_step) {
            dg_gen_frame f = {.canvas = s->c, .step = k, .max_steps = N, .L = L, .V = V, .T = d.T,
                              .mean_entropy = d.mean_entropy, .n_accept = d.n_accept, .stable = stable,
                              .confident = confident, .stop = stop, .input = s->canvas, .sc = NULL,
                              .logits = NULL, .pl = s->pl, .argmax = s->am, .sampled = b->sampled,
                              .next = s->next, .accept = b->accept, .entropy = b->H,
                              .step_seconds = t_dec + (te - tsamp)};
            if (s->cb.on_step(s->cb.user, &f)) { cancel(s); continue; }
        }
        int32_t *tmp = s->prev; s->prev = s->am; s->am = tmp;     /* prev = this step's argmax */
        if (stop || k == N) {
            if (stop && k < N) r->n_early_halt++;
            commit(b, i, s);
            continue;
        }
        s->has_sc = 1;
        s->k = k + 1;
        tmp = s->canvas; s->canvas = s->next; s->next = tmp;      /* renoised canvas feeds step k + 1 */
    }
    return DG_OK;
}

dg_status dg_batch_take(dg_batch *b, int i, dg_gen_result *res, dg_error *err) {
    memset(res, 0, sizeof *res);
    res->stop_id = -1;
    if (i < 0 || i >= b->n_slots) return dg_fail(err, DG_ERR_ARG, "batch: slot %d does not exist", i);
    slot *s = &b->slots[i];
    if (s->state == SLOT_ACTIVE) cancel(s);
    if (s->state != SLOT_DONE) return dg_fail(err, DG_ERR_ARG, "batch: slot %d holds no request", i);
    *res = s->res;
    memset(&s->res, 0, sizeof s->res);
    s->state = SLOT_FREE;
    if (s->status && err) *err = s->err;
    return s->status;
}
