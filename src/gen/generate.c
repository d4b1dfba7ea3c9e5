/* The block-diffusion generation loop (GENERATION.md §2) for one sequence: one slot of
 * gen/slot.c driven through the decoder step by step. The generator keeps the slot's buffers
 * and the sampler, so nothing is allocated per step or per call. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/error.h"
#include "gen/slot.h"

struct dg_generator {
    dg_slot_shared sh;
    dg_slot slot;
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

void dg_gen_result_free(dg_gen_result *r) {
    if (!r) return;
    free(r->ids);
    free(r->steps);
    r->ids = NULL;
    r->steps = NULL;
}

void dg_generator_free(dg_generator *g) {
    if (!g) return;
    dg_slot_free(&g->slot);
    dg_slot_shared_free(&g->sh);
    free(g);
}

dg_status dg_generator_new(dg_ctx *ctx, int n_threads, dg_generator **out, dg_error *err) {
    *out = NULL;
    dg_generator *g = calloc(1, sizeof *g);
    if (!g) return dg_fail(err, DG_ERR_NOMEM, "generator: out of memory");
    dg_status st = dg_slot_shared_init(&g->sh, ctx, n_threads, err);
    if (st) { free(g); return st; }
    if (!dg_slot_alloc(&g->slot, g->sh.L, g->sh.V)) {
        dg_generator_free(g);
        return dg_fail(err, DG_ERR_NOMEM, "generator: out of memory for [%d, %d] logits", g->sh.L, g->sh.V);
    }
    *out = g;
    return DG_OK;
}

dg_status dg_generate(dg_generator *g, int seq, const int32_t *prompt, int n_prompt,
                      const dg_gen_params *p, const dg_gen_callbacks *cb,
                      dg_gen_result *res, dg_error *err) {
    memset(res, 0, sizeof *res);
    res->stop_id = -1;
    dg_slot *s = &g->slot;
    dg_status st = dg_slot_start(&g->sh, s, seq, prompt, n_prompt, p, cb, err);
    if (st) return st;
    while (s->state == DG_SLOT_ACTIVE) {
        const double ts = now();
        const int32_t *cv = s->canvas;
        float *sc = dg_slot_sc(s), *logits = dg_slot_logits(s);
        if ((st = dg_decode_step(g->sh.ctx, 1, &seq, &cv, &sc, &logits, &s->err))) {
            dg_fail_wrap(&s->err, "canvas %d step %d", s->c, s->k);
            dg_slot_fail(s, &s->err);
            break;
        }
        dg_slot_after_decode(&g->sh, s, now() - ts);
    }
    return dg_slot_take(s, res, err);
}
