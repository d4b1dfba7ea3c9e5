/* The library reads no environment variable: DGEMMA_ISA and DGEMMA_INT8 are CLI settings, and a
 * program using libdgemma chooses through dg_ctx_params only. Decoder logits on the 4-bit golden
 * checkpoint with both variables set (to values that would change or fail the step if read)
 * must equal those without them, bit for bit; int8 = 1 through the parameter must differ, so
 * the comparison can tell the paths apart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "dgemma.h"
#include "t.h"

static float *logits(const dg_model *m, int int8, dg_isa isa, dg_error *err) {
    dg_model_info mi;
    dg_model_get_info(m, &mi);
    const int L = mi.canvas_length;
    size_t LV = (size_t)L * mi.vocab_size;
    dg_ctx *ctx = NULL;
    dg_ctx_params cp = {.n_threads = 2, .int8 = int8, .isa = isa};
    int32_t prompt[5] = {2, 17, 93, 250, 41}, *canvas = malloc((size_t)L * sizeof *canvas);
    float *out = malloc(LV * sizeof *out), *sc = NULL;
    for (int i = 0; i < L; i++) canvas[i] = (int32_t)((i * 37 + 11) % mi.vocab_size);
    const int32_t *cv = canvas;
    int seq = 0;
    if (dg_ctx_new(m, &cp, &ctx, err) || dg_encode(ctx, 0, prompt, 5, NULL, NULL, err) ||
        dg_decode_step(ctx, 1, &seq, &cv, &sc, &out, err)) { free(out); out = NULL; }
    free(canvas);
    dg_ctx_free(ctx);
    return out;
}

int main(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tiny-a-mlx4", t_golden());
    dg_model *m = NULL;
    dg_error err = {0};
    if (dg_model_load(dir, NULL, &m, &err)) { CHECK(0, "%s: %s", dir, err.msg); return t_done("test_env"); }
    dg_model_info mi;
    dg_model_get_info(m, &mi);
    size_t LV = (size_t)mi.canvas_length * mi.vocab_size;
    unsetenv("DGEMMA_ISA");
    unsetenv("DGEMMA_INT8");
    float *plain = logits(m, 0, DG_ISA_AUTO, &err);
    CHECK(plain != NULL, "plain step: %s", err.msg);
    float *int8 = logits(m, 1, DG_ISA_AUTO, &err);
    CHECK(int8 != NULL, "int8 step: %s", err.msg);
    setenv("DGEMMA_INT8", "1", 1);
    float *env = logits(m, 0, DG_ISA_AUTO, &err);
    CHECK(env != NULL, "a context made with DGEMMA_INT8=1 set: %s", err.msg);
    if (plain && int8 && env) {
        CHECK(memcmp(plain, int8, LV * sizeof *plain) != 0, "int8 = 1 must change the logits of this checkpoint");
        CHECK(memcmp(plain, env, LV * sizeof *plain) == 0, "DGEMMA_INT8=1 in the environment changed the library's logits");
    }
    setenv("DGEMMA_ISA", "no-such-path", 1);
    float *env2 = logits(m, 0, DG_ISA_AUTO, &err);
    CHECK(env2 != NULL, "a context made with DGEMMA_ISA=no-such-path set: %s", err.msg);
    free(plain); free(int8); free(env); free(env2);
    dg_model_free(m);
    return t_done("test_env");
}
