/* Generation trajectories in check-golden: dg_generate on the precise path with a trace
 * callback that compares every step's decisions with genX.cC.sK.* (GENERATION.md §4.6). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/golden.h"

typedef struct trace {
    golden *g;
    const char *name;
    const cJSON *canvases;          /* golden per-canvas records */
    double max_logit_err, max_entropy_err;
    int mismatches, near_ties, diverged, steps_seen;
} trace;

/* Margin recorded for a decision of step k of canvas c (small = near-tie). */
static double margin(const trace *t, int c, int k, const char *what) {
    const cJSON *cv = cJSON_GetArrayItem(t->canvases, c);
    const cJSON *steps = cv ? cJSON_GetObjectItem(cv, "steps") : NULL;
    const cJSON *st = steps ? cJSON_GetArrayItem(steps, k - 1) : NULL;
    const cJSON *m = st ? cJSON_GetObjectItem(cJSON_GetObjectItem(st, "margins"), what) : NULL;
    return cJSON_IsNumber(m) ? m->valuedouble : INFINITY;
}

static int cmp_ids(trace *t, int c, int k, const char *what, const char *margin_key, const int32_t *got, const uint8_t *got8, int L) {
    char n[160];
    snprintf(n, sizeof n, "%s.c%d.s%d.%s", t->name, c, k, what);
    int64_t gn;
    float *want = golden_tensor(t->g, n, &gn);
    if (!want || gn != L) { printf("  %s missing in golden data\n", n); free(want); t->mismatches++; return 0; }
    int bad = -1;
    for (int i = 0; i < L && bad < 0; i++)
        if ((got ? (float)got[i] : (float)got8[i]) != want[i]) bad = i;
    free(want);
    if (bad < 0) return 1;
    double mg = margin_key ? margin(t, c, k, margin_key) : INFINITY;
    if (mg < 1e-5) {
        printf("  %s: position %d differs at a recorded near-tie (margin %.2e): accepted; trajectories diverge here\n", n, bad, mg);
        t->near_ties++;
        t->diverged = 1;
    } else {
        printf("  %s: position %d differs (margin %.2e)  MISMATCH\n", n, bad, mg);
        t->mismatches++;
        t->diverged = 1;
    }
    return 0;
}

static int on_trace(void *user, const dg_gen_frame *f) {
    trace *t = user;
    if (t->diverged) return 0;
    int c = f->canvas, k = f->step, L = f->L;
    char n[160];
    int64_t gn;
    t->steps_seen++;
    if (!cmp_ids(t, c, k, "input", NULL, f->input, NULL, L)) return 0;
    snprintf(n, sizeof n, "%s.c%d.s%d.logits", t->name, c, k);
    float *want = golden_tensor(t->g, n, &gn);
    if (want && gn == (int64_t)L * f->V) {
        errstat e = err_compare(f->logits, want, gn);
        if (getenv("DG_GOLDEN_VERBOSE")) printf("  c%d s%d logits max_abs %.3e\n", c, k, e.max_abs);
        if (!(e.max_abs <= t->max_logit_err)) t->max_logit_err = e.max_abs;
    } else t->mismatches++;
    free(want);
    snprintf(n, sizeof n, "%s.c%d.s%d.entropy", t->name, c, k);
    want = golden_tensor(t->g, n, &gn);
    if (want && gn == L)
        for (int i = 0; i < L; i++) {
            double d = fabs(f->entropy[i] - want[i]);
            if (!(d <= t->max_entropy_err)) t->max_entropy_err = d;
        }
    free(want);
    if (!cmp_ids(t, c, k, "argmax", "argmax_gap", f->argmax, NULL, L)) return 0;
    if (!cmp_ids(t, c, k, "sampled", "sample", f->sampled, NULL, L)) return 0;
    if (!cmp_ids(t, c, k, "accept", "accept", NULL, f->accept, L)) return 0;
    cmp_ids(t, c, k, "renoised", "accept", f->next, NULL, L);
    return 0;
}

static int jint(const cJSON *o, const char *k, int def) {
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsNumber(v) ? v->valueint : def;
}
static double jnum(const cJSON *o, const char *k, double def) {
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* Teacher-forced replay: every step gets the golden input canvas and the golden
 * self-conditioning input (previous golden logits / T), so each step's logits and decisions
 * are checked on their own. Free-running trajectories of chaotic tiny models can drift
 * (fp32 rounding is amplified through self-conditioning), this replay cannot. */
static int replay_forced(golden *g, const dg_model *m, const char *name, const cJSON *cs,
                         const dg_gen_params *p, const int32_t *prompt, int P, int n_threads) {
    dg_model_info mi;
    dg_model_get_info(m, &mi);
    const int L = mi.canvas_length, V = mi.vocab_size;
    const cJSON *canvases = cJSON_GetObjectItem(cs, "canvases");
    trace t = {.g = g, .name = name, .canvases = canvases};
    dg_error err = {0};
    dg_ctx *ctx = NULL;
    dg_sampler *smp = NULL;
    dg_ctx_params cp = {.n_threads = n_threads, .precise = 1};
    cli_env_ctx(&cp);
    float *buf = malloc((size_t)L * V * sizeof(float)), *logits = malloc((size_t)L * V * sizeof(float));
    int32_t *canvas = malloc((size_t)L * 4), *sampled = malloc((size_t)L * 4), *am = malloc((size_t)L * 4), *next = malloc((size_t)L * 4);
    uint8_t *acc = malloc((size_t)L);
    double *H = malloc((size_t)L * sizeof(double));
    int ok = 0, n_steps = 0;
    if (dg_ctx_new(m, &cp, &ctx, &err) || dg_sampler_new(L, V, n_threads, dg_ctx_isa(ctx), &smp, &err) ||
        dg_encode(ctx, 0, prompt, P, NULL, NULL, &err)) {
        printf("  replay: %s\n", err.msg);
        goto done;
    }
    int nc = cJSON_GetArraySize(canvases);
    for (int c = 0; c < nc && !t.mismatches; c++) {
        int ns = cJSON_GetObjectItem(cJSON_GetArrayItem(canvases, c), "n_steps")->valueint;
        for (int k = 1; k <= ns && !t.mismatches; k++) {
            char n[160];
            int64_t gn;
            snprintf(n, sizeof n, "%s.c%d.s%d.input", name, c, k);
            float *in = golden_tensor(g, n, &gn);
            if (!in || gn != L) { free(in); t.mismatches++; break; }
            for (int i = 0; i < L; i++) canvas[i] = (int32_t)in[i];
            free(in);
            float *sc = NULL;
            if (k > 1) {
                snprintf(n, sizeof n, "%s.c%d.s%d.logits", name, c, k - 1);
                float *prev = golden_tensor(g, n, &gn);
                if (!prev || gn != (int64_t)L * V) { free(prev); t.mismatches++; break; }
                double T = dg_step_temperature(p, k - 1);
                for (int64_t i = 0; i < gn; i++) buf[i] = (float)((double)prev[i] / T);
                free(prev);
                sc = buf;
            }
            const int32_t *cv = canvas;
            int seq = 0;
            if (dg_decode_step(ctx, 1, &seq, &cv, &sc, &logits, &err)) { printf("  replay: %s\n", err.msg); t.mismatches++; break; }
            dg_step st = {.logits = logits, .pl = buf, .canvas = c, .step = k, .sampled = sampled, .argmax = am,
                          .next = next, .accept = acc, .entropy = H};
            if (dg_sampler_step(smp, p, &st, &err)) { printf("  replay: %s\n", err.msg); t.mismatches++; break; }
            dg_gen_frame f = {.canvas = c, .step = k, .L = L, .V = V, .input = canvas, .logits = logits,
                              .argmax = am, .sampled = sampled, .next = next, .accept = acc, .entropy = H};
            t.diverged = 0;
            on_trace(&t, &f);
            n_steps++;
        }
        char n[160];
        int64_t gn;
        snprintf(n, sizeof n, "%s.c%d.committed", name, c);
        float *com = golden_tensor(g, n, &gn);
        if (com && gn == L && c + 1 < nc) {
            for (int i = 0; i < L; i++) canvas[i] = (int32_t)com[i];
            if (dg_encode(ctx, 0, canvas, L, NULL, NULL, &err)) { printf("  replay: %s\n", err.msg); t.mismatches++; }
        }
        free(com);
    }
    /* decisions and entropies decide; logits are reported (in a chaotic model the same fp32
     * error budget lands anywhere from 3e-4 to 1e-3 depending on summation order) */
    ok = !t.mismatches && t.max_entropy_err <= 1e-4;
    printf("  teacher-forced replay: %d steps, logits max_abs %.3e, entropy max_abs %.3e (tol 1e-04), "
           "%d near-tie(s)%s\n", n_steps, t.max_logit_err, t.max_entropy_err, t.near_ties, ok ? "" : ", differs");
done:
    dg_sampler_free(smp);
    dg_ctx_free(ctx);
    free(buf); free(logits); free(canvas); free(sampled); free(am); free(next); free(acc); free(H);
    return ok;
}

int golden_run_gen_case(golden *g, const dg_model *m, const char *name, const void *case_json, int n_threads) {
    const cJSON *cs = case_json;
    dg_gen_params p;
    dg_model_gen_defaults(m, &p);
    p.seed = (uint64_t)jnum(cs, "seed", 0);
    p.max_new_tokens = jint(cs, "max_new_tokens", p.max_new_tokens);
    p.max_denoising_steps = jint(cs, "max_denoising_steps", p.max_denoising_steps);
    p.t_min = jnum(cs, "t_min", p.t_min);
    p.t_max = jnum(cs, "t_max", p.t_max);
    p.entropy_bound = jnum(cs, "entropy_bound", p.entropy_bound);
    p.stability_threshold = jint(cs, "stability_threshold", p.stability_threshold);
    p.confidence_threshold = jnum(cs, "confidence_threshold", p.confidence_threshold);
    p.pad_id = jint(cs, "pad_token_id", p.pad_id);
    const cJSON *eos = cJSON_GetObjectItem(cs, "eos_token_ids");
    if (cJSON_IsArray(eos)) {
        p.n_eos = 0;
        for (const cJSON *e = eos->child; e && p.n_eos < 16; e = e->next) p.eos_ids[p.n_eos++] = e->valueint;
    }
    const cJSON *pr = cJSON_GetObjectItem(cs, "prompt");
    int P = cJSON_GetArraySize(pr), i = 0;
    int32_t *prompt = malloc((size_t)(P ? P : 1) * sizeof *prompt);
    for (const cJSON *e = pr ? pr->child : NULL; e; e = e->next) prompt[i++] = e->valueint;
    printf("%s: generate, prompt %d tokens, seed %llu, %d steps max\n", name, P, (unsigned long long)p.seed, p.max_denoising_steps);

    dg_error err = {0};
    dg_ctx *ctx = NULL;
    dg_generator *gen = NULL;
    dg_gen_result res;
    memset(&res, 0, sizeof res);
    dg_ctx_params cp = {.n_threads = n_threads, .precise = 1};
    cli_env_ctx(&cp);
    trace t = {.g = g, .name = name, .canvases = cJSON_GetObjectItem(cs, "canvases")};
    dg_gen_callbacks cb = {.on_trace = on_trace, .user = &t};
    int ok = 0;
    if (dg_ctx_new(m, &cp, &ctx, &err) || dg_generator_new(ctx, n_threads, &gen, &err) ||
        dg_generate(gen, 0, prompt, P, &p, &cb, &res, &err)) {
        printf("  generate: %s  FAIL\n", err.msg);
        g->failed++;
        goto done;
    }
    printf("  %d steps compared; logits max_abs %.3e (tol 1e-03), entropy max_abs %.3e (tol 1e-04)\n",
           t.steps_seen, t.max_logit_err, t.max_entropy_err);
    int steps_ok = 1;
    for (int c = 0; c < res.n_canvases; c++) {
        const cJSON *cv = cJSON_GetArrayItem(t.canvases, c);
        int want = cv ? jint(cv, "n_steps", -1) : -1;
        printf("  canvas %d: %d steps (golden %d)%s\n", c, res.steps[c], want, res.steps[c] == want ? "" : "  MISMATCH");
        if (res.steps[c] != want) steps_ok = 0;
    }
    if (cJSON_GetArraySize(t.canvases) != res.n_canvases) {
        printf("  %d canvases run, golden %d  MISMATCH\n", res.n_canvases, cJSON_GetArraySize(t.canvases));
        steps_ok = 0;
    }
    char n[160];
    snprintf(n, sizeof n, "%s.output_ids", name);
    int64_t gn;
    float *want = golden_tensor(g, n, &gn);
    int ids_ok = want && gn == P + res.n_ids;
    for (int j = 0; ids_ok && j < res.n_ids; j++) ids_ok = want[P + j] == (float)res.ids[j];
    free(want);
    printf("  output ids %s\n", ids_ok ? "equal" : "DIFFER");
    if (t.near_ties)
        printf("  %d near-tie decision(s): the checker accepts either outcome there (GENERATION.md §4.6)\n", t.near_ties);
    int exact = t.mismatches == 0 && t.max_logit_err <= 1e-3 && t.max_entropy_err <= 1e-4 && steps_ok && ids_ok;
    /* A free-running trajectory may only differ after a near-tie, or after its inputs drifted
     * (logits beyond tolerance before the first different decision): then the teacher-forced
     * replay below is the check of every step. */
    int drift = !exact && t.max_logit_err > 1e-3;
    printf("  free-running trajectory: %s\n", exact ? "identical" : t.near_ties && !t.mismatches ? "diverged at a near-tie"
                                        : drift ? "drifted (self-conditioning amplifies fp32 rounding in this model)"
                                                : "DIFFERS");
    /* The replay is reported always; it decides only when the free run drifted. (It can itself
     * meet router near-ties that the free run did not, since its inputs are the reference's.) */
    int forced = replay_forced(g, m, name, cs, &p, prompt, P, n_threads);
    ok = exact || (t.near_ties && t.mismatches == 0) || (drift && forced);
done:
    printf("  %s\n", ok ? "ok" : "FAIL");
    if (ok) g->passed++; else g->failed++;
    dg_gen_result_free(&res);
    dg_generator_free(gen);
    dg_ctx_free(ctx);
    free(prompt);
    return ok;
}
