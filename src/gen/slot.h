/* One sequence's generation state (GENERATION.md §2) as a step-driven machine: prefill at
 * start, then after every decoder step the sampler, the stop test, and at the end of a canvas
 * the commit (argmax, EOS -> pad), the commit pass and the next canvas's random init.
 * dg_generate drives one slot; dg_batch drives several through one shared decoder step. */
#ifndef DG_GEN_SLOT_H
#define DG_GEN_SLOT_H
#include "dgemma.h"

enum { DG_SLOT_FREE = 0, DG_SLOT_ACTIVE, DG_SLOT_DONE };

/* What the slots of one context share: geometry, the sampler and its per-position outputs
 * (consumed within one slot's turn). */
typedef struct dg_slot_shared {
    dg_ctx *ctx;
    int L, V, max_positions;
    dg_sampler *sampler;
    int32_t *sampled;
    uint8_t *accept;
    double *H;
} dg_slot_shared;

typedef struct dg_slot {
    int state, seq;
    dg_gen_params p;
    dg_gen_callbacks cb;
    int n_canvases;
    int c, k, run;          /* current canvas, step about to run (1-based), stability run */
    int has_sc;             /* step k > 1: pl holds the previous step's logits / T */
    float *pl;              /* [L, V]: self-conditioning in, logits out, processed logits after */
    float *raw;             /* [L, V] raw logits, only while a trace callback wants them */
    int32_t *canvas, *next, *am, *prev;
    dg_gen_result res;
    dg_status status;
    dg_error err;
    double t0;
} dg_slot;

dg_status dg_slot_shared_init(dg_slot_shared *sh, dg_ctx *ctx, int n_threads, dg_error *err);
void dg_slot_shared_free(dg_slot_shared *sh);
/* The slot's buffers, made once and reused by every request it serves. */
int dg_slot_alloc(dg_slot *s, int L, int V);
void dg_slot_free(dg_slot *s);

/* Validates, prefills `prompt` into sequence `seq` and draws canvas 0. */
dg_status dg_slot_start(dg_slot_shared *sh, dg_slot *s, int seq, const int32_t *prompt, int n_prompt,
                        const dg_gen_params *p, const dg_gen_callbacks *cb, dg_error *err);
/* The decoder's inputs for this slot's next step. */
static inline float *dg_slot_sc(dg_slot *s) { return s->has_sc ? s->pl : NULL; }
static inline float *dg_slot_logits(dg_slot *s) { return s->raw ? s->raw : s->pl; }
/* Everything after the decoder step that took t_dec seconds: sampler, stop test, callbacks,
 * commit. The slot may end (DONE) here. */
void dg_slot_after_decode(dg_slot_shared *sh, dg_slot *s, double t_dec);
void dg_slot_cancel(dg_slot *s);
void dg_slot_fail(dg_slot *s, const dg_error *e);
/* Hands the result over (the slot becomes FREE) and returns its status. */
dg_status dg_slot_take(dg_slot *s, dg_gen_result *res, dg_error *err);

#endif
