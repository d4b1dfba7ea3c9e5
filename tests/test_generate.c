/* The generation loop against a mock model that replays the golden trajectories of the tiny
 * models: the mock's decoder returns the stored logits of genX.cC.sK and checks what the loop
 * feeds it (input canvas, self-conditioning = previous logits / T, positions via the cache
 * length, commit passes with the committed canvases). The mock defines the model/context API
 * itself, so this test links only src/gen and src/core from the library. */
#include "t.h"
#include "golden_io.h"
#include "format/gen_config.h"
#include "mock_model.h"
#include <math.h>
#include <string.h>

typedef struct watch {
    int frames, traces, canvases, emitted, cancel_canvas, cancel_step, prefill;
    const dg_ctx *ctx;
} watch;

static int on_step(void *user, const dg_gen_frame *f) {
    watch *w = user;
    w->frames++;
    CHECK(f->logits == NULL && f->pl && f->argmax && f->input, "on_step frame");
    return f->canvas == w->cancel_canvas && f->step == w->cancel_step;
}
static int on_trace(void *user, const dg_gen_frame *f) {
    watch *w = user;
    w->traces++;
    CHECK(f->logits && !memcmp(f->logits, w->ctx->prev_logits, (size_t)f->L * f->V * 4), "trace frame carries the raw logits");
    CHECK(fabs(f->pl[5] - f->logits[5] / f->T) <= 1e-6 * fabs(f->pl[5]) + 1e-7, "trace pl = logits / T");
    return 0;
}
static int on_canvas(void *user, int canvas, const int32_t *ids, int L, int n_emit, int n_steps) {
    watch *w = user;
    CHECK(canvas == w->canvases, "canvases in order");
    w->canvases++;
    w->emitted += n_emit;
    return 0;
}
static int on_prefill(void *user, int done, int total) { ((watch *)user)->prefill = done; return 0; }

static void case_params(const cJSON *cs, dg_gen_params *p) {
    dg_gen_params_default(p);
    p->seed = gio_u64(cJSON_GetObjectItem(cs, "seed"));
    p->max_new_tokens = (int)cJSON_GetObjectItem(cs, "max_new_tokens")->valuedouble;
    p->max_denoising_steps = (int)cJSON_GetObjectItem(cs, "max_denoising_steps")->valuedouble;
    p->t_min = cJSON_GetObjectItem(cs, "t_min")->valuedouble;
    p->t_max = cJSON_GetObjectItem(cs, "t_max")->valuedouble;
    p->entropy_bound = cJSON_GetObjectItem(cs, "entropy_bound")->valuedouble;
    p->stability_threshold = (int)cJSON_GetObjectItem(cs, "stability_threshold")->valuedouble;
    p->confidence_threshold = cJSON_GetObjectItem(cs, "confidence_threshold")->valuedouble;
}

static void reset(dg_ctx *c) {
    c->cache_len = c->canvas = c->step = c->encodes = c->bad = 0;
}

static void replay(const char *model, dg_isa isa) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s/golden.json", t_golden(), model);
    cJSON *j = gio_load_json(path);
    snprintf(path, sizeof path, "%s/%s/golden.safetensors", t_golden(), model);
    gio_file g;
    CHECK(j && gio_open(&g, path), "cannot read %s goldens", model);
    if (!j || !g.st) return;
    const cJSON *cfg = cJSON_GetObjectItem(j, "config_summary");
    dg_ctx ctx = {.m = {(int)cJSON_GetObjectItem(cfg, "canvas_length")->valuedouble,
                        (int)cJSON_GetObjectItem(cfg, "vocab")->valuedouble, 4096}, .isa = isa, .g = &g};
    ctx.prev_logits = malloc((size_t)ctx.m.L * ctx.m.V * 4);
    dg_generator *gen = NULL;
    dg_error err = {0};
    CHECK(dg_generator_new(&ctx, 2, &gen, &err) == DG_OK, "generator_new: %s", err.msg);
    const cJSON *cs;
    cJSON_ArrayForEach(cs, cJSON_GetObjectItem(j, "cases")) {
        if (strcmp(cJSON_GetObjectItem(cs, "kind")->valuestring, "generate")) continue;
        dg_gen_params p;
        case_params(cs, &p);
        const cJSON *pj = cJSON_GetObjectItem(cs, "prompt"), *oj = cJSON_GetObjectItem(cs, "output_ids");
        int P = cJSON_GetArraySize(pj), n_out = cJSON_GetArraySize(oj);
        int32_t prompt[64];
        for (int i = 0; i < P; i++) prompt[i] = (int32_t)cJSON_GetArrayItem(pj, i)->valuedouble;
        ctx.gen = cs->string;
        ctx.prompt = prompt;
        ctx.P = P;
        ctx.p = &p;
        int want_early = 0, eos_case = 0;
        const cJSON *cv;
        cJSON_ArrayForEach(cv, cJSON_GetObjectItem(cs, "canvases")) {
            want_early += cJSON_IsTrue(cJSON_GetObjectItem(cv, "stopped_early"));
            eos_case |= cJSON_IsTrue(cJSON_GetObjectItem(cv, "eos_hit"));
        }
        for (int traced = 0; traced < 2; traced++) {   /* watching must not change any decision */
            reset(&ctx);
            watch w = {.cancel_canvas = -1, .ctx = &ctx};
            dg_gen_callbacks cb = {.on_prefill = on_prefill, .on_step = on_step, .on_trace = traced ? on_trace : NULL,
                                   .on_canvas = on_canvas, .user = &w};
            dg_gen_result r;
            dg_status st = dg_generate(gen, 0, prompt, P, &p, &cb, &r, &err);
            CHECK(st == DG_OK, "%s %s: %s", model, cs->string, err.msg);
            CHECK(r.n_ids == n_out - P, "%s %s: %d ids, want %d", model, cs->string, r.n_ids, n_out - P);
            int same = r.n_ids == n_out - P;
            for (int i = 0; same && i < r.n_ids; i++) same = r.ids[i] == (int32_t)cJSON_GetArrayItem(oj, P + i)->valuedouble;
            CHECK(same, "%s %s: output ids differ from the golden", model, cs->string);
            CHECK(r.finish == (eos_case ? DG_FINISH_STOP : DG_FINISH_LENGTH), "%s %s: finish %s", model, cs->string, dg_finish_name(r.finish));
            int k = 0, total = 0, emitted = 0;
            cJSON_ArrayForEach(cv, cJSON_GetObjectItem(cs, "canvases")) {
                int n = (int)cJSON_GetObjectItem(cv, "n_steps")->valuedouble;
                CHECK(k < r.n_canvases && r.steps[k] == n, "%s %s c%d: %d steps, want %d", model, cs->string, k,
                      k < r.n_canvases ? r.steps[k] : -1, n);
                total += n;
                k++;
            }
            CHECK(r.n_canvases == k && r.n_steps == total, "%s %s: canvases %d steps %d", model, cs->string, r.n_canvases, r.n_steps);
            CHECK(r.n_early_halt == want_early, "%s %s: early halts %d want %d", model, cs->string, r.n_early_halt, want_early);
            if (eos_case) {
                int e = -1;
                for (int i = 0; i < r.n_ids && e < 0; i++)
                    if (r.ids[i] == 1 || r.ids[i] == 106 || r.ids[i] == 50) e = i;
                CHECK(e >= 0 && r.stop_id == r.ids[e] && r.n_emitted == e, "%s %s: stop id %d, emitted %d", model, cs->string, r.stop_id, r.n_emitted);
                for (int i = e + 1; i < r.n_ids; i++) CHECK(r.ids[i] == 0, "pad after EOS");
            } else CHECK(r.n_emitted == r.n_ids && r.stop_id == -1, "no EOS: all emitted");
            emitted = w.emitted;
            CHECK(w.frames == total && w.traces == (traced ? total : 0) && w.canvases == k && emitted == r.n_emitted && w.prefill == P,
                  "callbacks: frames %d traces %d canvases %d", w.frames, w.traces, w.canvases);
            CHECK(ctx.encodes == k, "%s %s: %d encoder calls (the last canvas is not encoded)",
                  model, cs->string, ctx.encodes);
            CHECK(r.t_total >= r.t_prefill + r.t_steps && r.t_steps >= r.t_sampler, "timings add up");
            dg_gen_result_free(&r);
        }
        /* max_new_tokens not a multiple of L: the same canvases are denoised, exactly that many
         * tokens are emitted (an EOS at the cut still stops) */
        {
            const int L = ctx.m.L, n_can = (n_out - P + L - 1) / L;
            int e = -1;
            for (int i = 0; eos_case && i < n_out - P && e < 0; i++) {
                int32_t id = (int32_t)cJSON_GetArrayItem(oj, P + i)->valuedouble;
                if (id == 1 || id == 106 || id == 50) e = i;
            }
            const int cuts[2] = {eos_case ? e : n_out - P - 3, eos_case ? e - 1 : n_out - P - L + 1};
            for (int q = 0; q < 2; q++) {
                dg_gen_params p2 = p;
                p2.max_new_tokens = cuts[q];
                if (cuts[q] < 1 || (cuts[q] + L - 1) / L != n_can) continue;
                reset(&ctx);
                watch w = {.cancel_canvas = -1, .ctx = &ctx};
                dg_gen_callbacks cb = {.on_canvas = on_canvas, .user = &w};
                dg_gen_result r;
                CHECK(dg_generate(gen, 0, prompt, P, &p2, &cb, &r, &err) == DG_OK, "%s", err.msg);
                int same = r.n_ids == n_out - P;
                for (int i = 0; same && i < r.n_ids; i++) same = r.ids[i] == (int32_t)cJSON_GetArrayItem(oj, P + i)->valuedouble;
                const dg_finish want = eos_case && q == 0 ? DG_FINISH_STOP : DG_FINISH_LENGTH;
                CHECK(same && r.n_emitted == cuts[q] && w.emitted == cuts[q] && r.finish == want,
                      "%s %s max_new_tokens %d: same ids %d, emitted %d (callbacks %d), finish %s", model, cs->string,
                      cuts[q], same, r.n_emitted, w.emitted, dg_finish_name(r.finish));
                dg_gen_result_free(&r);
            }
        }
        /* Cancel from the step callback in canvas 1: canvas 0 stays committed. */
        reset(&ctx);
        watch w = {.cancel_canvas = 1, .cancel_step = 2, .ctx = &ctx};
        dg_gen_callbacks cb = {.on_step = on_step, .on_canvas = on_canvas, .user = &w};
        dg_gen_result r;
        CHECK(dg_generate(gen, 0, prompt, P, &p, &cb, &r, &err) == DG_ERR_CANCELLED, "%s %s: cancel", model, cs->string);
        CHECK(r.finish == DG_FINISH_CANCELLED && r.n_ids == ctx.m.L && r.n_canvases == 2 && r.steps[1] == 2,
              "%s %s: partial result after cancel (ids %d canvases %d)", model, cs->string, r.n_ids, r.n_canvases);
        dg_gen_result_free(&r);
    }
    /* Bad input. */
    dg_gen_params p;
    dg_gen_params_default(&p);
    dg_gen_result r;
    int32_t bad[2] = {3, ctx.m.V};
    reset(&ctx);
    CHECK(dg_generate(gen, 0, bad, 2, &p, NULL, &r, &err) == DG_ERR_RANGE && strstr(err.msg, "outside the vocabulary"), "id >= V: %s", err.msg);
    dg_gen_result_free(&r);
    CHECK(dg_generate(gen, 0, bad, 0, &p, NULL, &r, &err) == DG_ERR_ARG && strstr(err.msg, "empty prompt"), "empty prompt: %s", err.msg);
    CHECK(dg_generate(gen, 1, bad, 1, &p, NULL, &r, &err) == DG_ERR_ARG, "bad sequence: %s", err.msg);
    p.t_min = 0.9;
    CHECK(dg_generate(gen, 0, bad, 1, &p, NULL, &r, &err) == DG_ERR_ARG && strstr(err.msg, "t_max"), "t_min > t_max: %s", err.msg);
    dg_gen_params_default(&p);
    p.max_new_tokens = 4096;
    CHECK(dg_generate(gen, 0, bad, 1, &p, NULL, &r, &err) == DG_ERR_RANGE && strstr(err.msg, "positions"), "too long: %s", err.msg);
    CHECK(ctx.encodes == 0, "nothing encoded on bad input");
    dg_generator_free(gen);
    free(ctx.prev_logits);
    gio_close(&g);
    cJSON_Delete(j);
}

int main(void) {
    const char *models[3] = {"tiny-a", "tiny-b", "tiny-a-mlx4"};
    for (int m = 0; m < 3; m++) {
        replay(models[m], DG_ISA_C);
        replay(models[m], DG_ISA_AUTO);
    }
    return t_done("test_generate");
}
