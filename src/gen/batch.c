/* Lockstep batched generation: every active slot's canvas goes through ONE dg_decode_step per
 * step, so the weights are read once for the whole batch; each slot then makes exactly the
 * per-sequence decisions of dg_generate (gen/slot.c), so its output does not depend on its
 * neighbours. Slot i generates on context sequence i; slots join (prefill between steps) and
 * leave (finish, cancel, error) independently. A step allocates nothing. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/error.h"
#include "gen/slot.h"

struct dg_batch {
    dg_slot_shared sh;
    int n_slots;
    dg_slot *slots;
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
    for (int i = 0; b->slots && i < b->n_slots; i++) dg_slot_free(&b->slots[i]);
    free(b->slots);
    dg_slot_shared_free(&b->sh);
    free(b->seqs); free(b->who); free(b->canvases); free(b->sc); free(b->logits);
    free(b);
}

dg_status dg_batch_new(dg_ctx *ctx, int n_slots, int n_threads, dg_batch **out, dg_error *err) {
    *out = NULL;
    if (n_slots < 1) return dg_fail(err, DG_ERR_ARG, "batch: %d slots", n_slots);
    if (!ctx || dg_cache_len(ctx, n_slots - 1) < 0)
        return dg_fail(err, DG_ERR_ARG, "batch: %d slots need a context made with n_seq >= %d", n_slots, n_slots);
    dg_batch *b = calloc(1, sizeof *b);
    if (!b) return dg_fail(err, DG_ERR_NOMEM, "batch: out of memory");
    dg_status st = dg_slot_shared_init(&b->sh, ctx, n_threads, err);
    if (st) { free(b); return st; }
    const size_t n = (size_t)n_slots;
    b->n_slots = n_slots;
    b->slots = calloc(n, sizeof *b->slots);
    b->seqs = malloc(n * sizeof *b->seqs);
    b->who = malloc(n * sizeof *b->who);
    b->canvases = malloc(n * sizeof *b->canvases);
    b->sc = malloc(n * sizeof *b->sc);
    b->logits = malloc(n * sizeof *b->logits);
    int ok = b->slots && b->seqs && b->who && b->canvases && b->sc && b->logits;
    for (int i = 0; ok && i < n_slots; i++) ok = dg_slot_alloc(&b->slots[i], b->sh.L, b->sh.V);
    if (!ok) {
        dg_batch_free(b);
        return dg_fail(err, DG_ERR_NOMEM, "batch: out of memory for %d x [%d, %d] logits", n_slots, b->sh.L, b->sh.V);
    }
    *out = b;
    return DG_OK;
}

int dg_batch_slots(const dg_batch *b) { return b->n_slots; }

int dg_batch_n_active(const dg_batch *b) {
    int n = 0;
    for (int i = 0; i < b->n_slots; i++) n += b->slots[i].state == DG_SLOT_ACTIVE;
    return n;
}

int dg_batch_state(const dg_batch *b, int i) {
    if (i < 0 || i >= b->n_slots) return -1;
    return b->slots[i].state == DG_SLOT_ACTIVE ? 1 : b->slots[i].state == DG_SLOT_DONE ? 2 : 0;
}

void dg_batch_cancel(dg_batch *b, int i) {
    if (i >= 0 && i < b->n_slots) dg_slot_cancel(&b->slots[i]);
}

dg_status dg_batch_start(dg_batch *b, int i, const int32_t *prompt, int n_prompt, const dg_gen_params *p,
                         const dg_gen_callbacks *cb, dg_error *err) {
    if (i < 0 || i >= b->n_slots) return dg_fail(err, DG_ERR_ARG, "batch: slot %d does not exist (%d slots)", i, b->n_slots);
    if (cb && cb->on_trace) return dg_fail(err, DG_ERR_UNSUPPORTED, "batch: on_trace is not supported");
    return dg_slot_start(&b->sh, &b->slots[i], i, prompt, n_prompt, p, cb, err);
}

dg_status dg_batch_step(dg_batch *b, dg_error *err) {
    int n = 0;
    for (int i = 0; i < b->n_slots; i++) {
        dg_slot *s = &b->slots[i];
        if (s->state != DG_SLOT_ACTIVE) continue;
        b->who[n] = i;
        b->seqs[n] = s->seq;
        b->canvases[n] = s->canvas;
        b->sc[n] = dg_slot_sc(s);
        b->logits[n] = dg_slot_logits(s);
        n++;
    }
    if (n == 0) return DG_OK;
    const double ts = now();
    dg_status st = dg_decode_step(b->sh.ctx, n, b->seqs, b->canvases, b->sc, b->logits, err);
    if (st) {
        /* The shared forward failed: every slot in it fails with the same message. */
        dg_fail_wrap(err, "decode step of %d sequence%s", n, n == 1 ? "" : "s");
        for (int j = 0; j < n; j++) dg_slot_fail(&b->slots[b->who[j]], err);
        return st;
    }
    const double t_dec = now() - ts;
    for (int j = 0; j < n; j++) dg_slot_after_decode(&b->sh, &b->slots[b->who[j]], t_dec);
    return DG_OK;
}

dg_status dg_batch_take(dg_batch *b, int i, dg_gen_result *res, dg_error *err) {
    if (i < 0 || i >= b->n_slots) {
        memset(res, 0, sizeof *res);
        res->stop_id = -1;
        return dg_fail(err, DG_ERR_ARG, "batch: slot %d does not exist", i);
    }
    return dg_slot_take(&b->slots[i], res, err);
}
