/* Lockstep batching must not change results: on the real tiny-a model, requests denoised
 * together through dg_batch (different prompts, seeds, knobs, lengths, joining at different
 * steps, one cancelled midway) must produce exactly the ids, steps and finish of dg_generate
 * run alone with the same inputs. */
#include "t.h"
#include "dgemma.h"
#include <string.h>

typedef struct req {
    int32_t prompt[8];
    int n_prompt;
    uint64_t seed;
    int max_new, steps, join_at;  /* join_at: batch step before which the request starts */
    double bound;
} req;

typedef struct counter { int canvases, steps; } counter;
static int on_canvas(void *u, int c, const int32_t *ids, int L, int n_emit, int n_steps) { ((counter *)u)->canvases++; return 0; }
static int on_step(void *u, const dg_gen_frame *f) { ((counter *)u)->steps++; return 0; }

static void params(const dg_model *m, const req *r, dg_gen_params *p) {
    dg_model_gen_defaults(m, p);
    p->seed = r->seed;
    p->max_new_tokens = r->max_new;
    p->max_denoising_steps = r->steps;
    p->entropy_bound = r->bound;
}

int main(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tiny-a", t_golden());
    dg_model *m = NULL;
    dg_error err = {0};
    if (dg_model_load(dir, NULL, &m, &err)) { CHECK(0, "load: %s", err.msg); return t_done("test_batch"); }
    enum { NR = 6, SLOTS = 4 };
    const req reqs[NR] = {
        {{2, 17, 93, 250, 41}, 5, 1234, 32, 8, 0, 0.1},
        {{2, 17, 93, 250, 41}, 5, 15, 48, 8, 0, 0.1},
        {{2, 5, 6}, 3, 7, 64, 12, 1, 0.3},
        {{2, 300, 301, 302, 303, 304, 305}, 7, 99, 40, 6, 3, 0.05},
        {{2, 44}, 2, 5, 16, 48, 2, 0.1},
        {{2, 17, 93}, 3, 1, 80, 10, 9, 0.2},
    };
    /* reference: one at a time */
    dg_ctx *c1 = NULL;
    dg_ctx_params cp = {.n_threads = 2, .n_seq = 1};
    dg_generator *g = NULL;
    CHECK(!dg_ctx_new(m, &cp, &c1, &err) && !dg_generator_new(c1, 2, &g, &err), "ctx: %s", err.msg);
    dg_gen_result ref[NR];
    for (int i = 0; i < NR; i++) {
        dg_gen_params p;
        params(m, &reqs[i], &p);
        dg_cache_clear(c1, 0);
        CHECK(dg_generate(g, 0, reqs[i].prompt, reqs[i].n_prompt, &p, NULL, &ref[i], &err) == DG_OK, "ref %d: %s", i, err.msg);
    }
    /* batched: SLOTS slots, requests join at join_at (or when a slot frees) */
    dg_ctx *cb = NULL;
    cp.n_seq = SLOTS;
    dg_batch *b = NULL;
    CHECK(!dg_ctx_new(m, &cp, &cb, &err) && !dg_batch_new(cb, SLOTS, 2, &b, &err), "batch ctx: %s", err.msg);
    int slot_of[NR], next = 0, done = 0, max_active = 0;
    counter cnt[NR];
    memset(cnt, 0, sizeof cnt);
    dg_gen_result got[NR];
    memset(got, 0, sizeof got);
    for (int step = 0; done < NR && step < 10000; step++) {
        while (next < NR && reqs[next].join_at <= step) {
            int s = -1;
            for (int k = 0; k < SLOTS && s < 0; k++) if (dg_batch_state(b, k) == 0) s = k;
            if (s < 0) break;
            dg_gen_params p;
            params(m, &reqs[next], &p);
            dg_cache_clear(cb, s);
            dg_gen_callbacks cbs = {.on_canvas = on_canvas, .on_step = on_step, .user = &cnt[next]};
            CHECK(dg_batch_start(b, s, reqs[next].prompt, reqs[next].n_prompt, &p, &cbs, &err) == DG_OK, "start %d: %s", next, err.msg);
            slot_of[next++] = s;
        }
        if (dg_batch_n_active(b) > max_active) max_active = dg_batch_n_active(b);
        CHECK(dg_batch_step(b, &err) == DG_OK, "step: %s", err.msg);
        for (int i = 0; i < next; i++)
            if (slot_of[i] >= 0 && dg_batch_state(b, slot_of[i]) == 2) {
                CHECK(dg_batch_take(b, slot_of[i], &got[i], &err) == DG_OK, "take %d: %s", i, err.msg);
                slot_of[i] = -1;
                done++;
            }
    }
    CHECK(done == NR && max_active == SLOTS, "all done (%d), batch filled (%d)", done, max_active);
    for (int i = 0; i < NR; i++) {
        CHECK(got[i].n_ids == ref[i].n_ids && !memcmp(got[i].ids, ref[i].ids, (size_t)ref[i].n_ids * 4),
              "request %d: batched ids differ from dg_generate", i);
        CHECK(got[i].finish == ref[i].finish && got[i].n_emitted == ref[i].n_emitted && got[i].n_steps == ref[i].n_steps &&
              got[i].n_canvases == ref[i].n_canvases && got[i].n_early_halt == ref[i].n_early_halt &&
              !memcmp(got[i].steps, ref[i].steps, (size_t)ref[i].n_canvases * sizeof(int)),
              "request %d: finish %s/%s steps %d/%d", i, dg_finish_name(got[i].finish), dg_finish_name(ref[i].finish),
              got[i].n_steps, ref[i].n_steps);
        CHECK(cnt[i].canvases == ref[i].n_canvases && cnt[i].steps == ref[i].n_steps, "request %d callbacks", i);
        dg_gen_result_free(&got[i]);
    }
    /* Cancel one of two: the other continues unchanged. */
    dg_gen_params p0, p1;
    params(m, &reqs[0], &p0);
    params(m, &reqs[5], &p1);
    dg_cache_clear(cb, 0);
    dg_cache_clear(cb, 1);
    CHECK(!dg_batch_start(b, 0, reqs[0].prompt, reqs[0].n_prompt, &p0, NULL, &err), "start: %s", err.msg);
    CHECK(!dg_batch_start(b, 1, reqs[5].prompt, reqs[5].n_prompt, &p1, NULL, &err), "start: %s", err.msg);
    CHECK(dg_batch_start(b, 1, reqs[5].prompt, 1, &p1, NULL, &err) == DG_ERR_ARG, "busy slot refused");
    for (int s = 0; s < 3; s++) dg_batch_step(b, &err);
    dg_batch_cancel(b, 0);
    while (dg_batch_n_active(b)) CHECK(dg_batch_step(b, &err) == DG_OK, "step: %s", err.msg);
    dg_gen_result r;
    CHECK(dg_batch_take(b, 0, &r, &err) == DG_ERR_CANCELLED && r.finish == DG_FINISH_CANCELLED && r.n_steps == 3, "cancelled slot");
    dg_gen_result_free(&r);
    CHECK(dg_batch_take(b, 1, &r, &err) == DG_OK && r.n_ids == ref[5].n_ids && !memcmp(r.ids, ref[5].ids, (size_t)r.n_ids * 4),
          "neighbour of a cancelled slot unchanged");
    dg_gen_result_free(&r);
    /* Bad input leaves the slot free. */
    int32_t bad[2] = {2, 384};
    CHECK(dg_batch_start(b, 0, bad, 2, &p0, NULL, &err) == DG_ERR_RANGE && dg_batch_state(b, 0) == 0, "bad id: %s", err.msg);
    p0.t_min = 0.95;
    CHECK(dg_batch_start(b, 0, bad, 1, &p0, NULL, &err) == DG_ERR_ARG && dg_batch_state(b, 0) == 0, "bad params: %s", err.msg);
    CHECK(dg_batch_start(b, SLOTS, bad, 1, &p1, NULL, &err) == DG_ERR_ARG, "no such slot");
    dg_batch *b2 = NULL;
    CHECK(dg_batch_new(c1, 2, 1, &b2, &err) == DG_ERR_ARG && !b2, "more slots than sequences: %s", err.msg);
    for (int i = 0; i < NR; i++) dg_gen_result_free(&ref[i]);
    dg_batch_free(b);
    dg_generator_free(g);
    dg_ctx_free(cb);
    dg_ctx_free(c1);
    dg_model_free(m);
    return t_done("test_batch");
}
