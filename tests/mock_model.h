/* A mock model/context for tests of the generation loop: it replays one golden generate case
 * (genX of a tiny model): dg_decode_step returns the stored logits of genX.cC.sK and CHECKs what
 * the loop feeds it (input canvas, self-conditioning = previous logits / T, positions via the
 * cache length, commit passes with the committed canvases). Include after t.h and golden_io.h. */
#ifndef DG_TESTS_MOCK_MODEL_H
#define DG_TESTS_MOCK_MODEL_H
#include "dgemma.h"
#include "core/error.h"
#include <math.h>
#include <string.h>
#include <unistd.h>

struct dg_model { int L, V, max_positions; };
struct dg_ctx {
    dg_model m;
    dg_isa isa;
    gio_file *g;
    const char *gen;
    const int32_t *prompt;
    int P, cache_len, canvas, step, encodes, bad;
    int sleep_us;           /* simulated decoder time (CLI tests of Ctrl-C and --visual) */
    const dg_gen_params *p;
    float *prev_logits;
};

const dg_model *dg_ctx_model(const dg_ctx *c) { return &c->m; }
dg_isa dg_ctx_isa(const dg_ctx *c) { return c->isa; }
void dg_model_get_info(const dg_model *m, dg_model_info *i) {
    memset(i, 0, sizeof *i);
    i->vocab_size = m->V;
    i->canvas_length = m->L;
    i->max_positions = m->max_positions;
}
int dg_cache_len(const dg_ctx *c, int seq) { return seq == 0 ? c->cache_len : -1; }

dg_status dg_encode(dg_ctx *c, int seq, const int32_t *ids, int n, dg_progress_fn progress, void *user, dg_error *err) {
    if (c->encodes == 0) {
        CHECK(n == c->P && !memcmp(ids, c->prompt, (size_t)n * 4), "%s: prefill got %d tokens", c->gen, n);
        if (progress) progress(user, n, n);
    } else {
        char name[96];
        snprintf(name, sizeof name, "%s.c%d.committed", c->gen, c->canvas);
        int32_t *want = gio_copy(c->g, name, "I32", NULL);
        CHECK(n == c->m.L && want && !memcmp(ids, want, (size_t)n * 4), "%s: commit pass", name);
        CHECK(c->cache_len == c->P + c->canvas * c->m.L, "%s: commit at position %d", name, c->cache_len);
        free(want);
        c->canvas++;
        c->step = 0;
    }
    c->encodes++;
    c->cache_len += n;
    return DG_OK;
}

dg_status dg_decode_step(dg_ctx *c, int n_seq, const int *seqs, const int32_t *const *canvases,
                         float *const *sc, float *const *logits, dg_error *err) {
    const int L = c->m.L, V = c->m.V;
    CHECK(n_seq == 1 && seqs[0] == 0, "one sequence");
    c->step++;
    if (c->sleep_us > 0) usleep((useconds_t)c->sleep_us);
    char name[96];
    snprintf(name, sizeof name, "%s.c%d.s%d.input", c->gen, c->canvas, c->step);
    int32_t *in = gio_copy(c->g, name, "I32", NULL);
    if (!in) { c->bad = 1; return dg_fail(err, DG_ERR_MISSING, "mock: no golden step %s", name); }
    CHECK(!memcmp(in, canvases[0], (size_t)L * 4), "%s: input canvas", name);
    free(in);
    CHECK(c->cache_len == c->P + c->canvas * L, "%s: canvas positions start at %d", name, c->cache_len);
    if (c->step == 1) CHECK(sc[0] == NULL, "%s: no self-conditioning at step 1", name);
    else {
        CHECK(sc[0] != NULL, "%s: self-conditioning missing", name);
        double T = dg_step_temperature(c->p, c->step - 1);
        int ok = sc[0] != NULL;
        for (size_t i = 0; ok && i < (size_t)L * V; i++) {
            double want = c->prev_logits[i] / T;
            ok = fabs(sc[0][i] - want) <= 1e-6 * fabs(want) + 1e-7;
        }
        CHECK(ok, "%s: self-conditioning input is not the previous logits / T", name);
    }
    snprintf(name, sizeof name, "%s.c%d.s%d.logits", c->gen, c->canvas, c->step);
    float *lg = gio_copy(c->g, name, "F32", NULL);
    if (!lg) return dg_fail(err, DG_ERR_MISSING, "mock: %s missing", name);
    memcpy(logits[0], lg, (size_t)L * V * 4);
    memcpy(c->prev_logits, lg, (size_t)L * V * 4);
    free(lg);
    return DG_OK;
}

#endif
