/* `dgemma` built against the mock model (tests/mock_model.h) so the run command can be
 * exercised before the real forward pass is merged: -m DIR replays DIR's golden case
 * $DG_MOCK_CASE (default gen1). Not part of the normal build:
 *   make build/libdgemma.a && cc -std=c11 -O1 -g -D_GNU_SOURCE -Iinclude -Isrc -Itests tests/mock_cli.c \
 *     src/cli/main.c src/cli/args.c src/cli/cmd_run.c src/cli/visual.c build/libdgemma.a -lcjson -lpthread -lm \
 *     -o build/dgemma-mock */
#include "t.h"
#include "golden_io.h"
#include "mock_model.h"
#include "format/gen_config.h"
#include "cli/cli.h"

typedef struct mock { dg_ctx ctx; gio_file g; cJSON *j; dg_gen_params p, sched; int32_t prompt[64]; } mock;

dg_status dg_model_load(const char *dir, const dg_load_params *lp, dg_model **out, dg_error *err) {
    mock *mk = calloc(1, sizeof *mk);
    char path[1024];
    snprintf(path, sizeof path, "%s/golden.json", dir);
    mk->j = gio_load_json(path);
    snprintf(path, sizeof path, "%s/golden.safetensors", dir);
    if (!mk->j || !gio_open(&mk->g, path)) { free(mk); return dg_fail(err, DG_ERR_IO, "%s: no goldens", dir); }
    const cJSON *cfg = cJSON_GetObjectItem(mk->j, "config_summary");
    const char *cs = getenv("DG_MOCK_CASE") ? getenv("DG_MOCK_CASE") : "gen1";
    const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(mk->j, "cases"), cs);
    const cJSON *pj = cJSON_GetObjectItem(c, "prompt");
    mk->ctx.P = cJSON_GetArraySize(pj);
    for (int i = 0; i < mk->ctx.P && i < 64; i++) mk->prompt[i] = (int32_t)cJSON_GetArrayItem(pj, i)->valuedouble;
    mk->ctx.m.L = (int)cJSON_GetObjectItem(cfg, "canvas_length")->valuedouble;
    mk->ctx.m.V = (int)cJSON_GetObjectItem(cfg, "vocab")->valuedouble;
    mk->ctx.m.max_positions = 4096;
    mk->ctx.g = &mk->g;
    mk->ctx.sleep_us = getenv("DG_MOCK_SLEEP_US") ? atoi(getenv("DG_MOCK_SLEEP_US")) : 0;
    mk->ctx.gen = cs;
    mk->ctx.prompt = mk->prompt;
    mk->ctx.prev_logits = malloc((size_t)mk->ctx.m.L * mk->ctx.m.V * 4);
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    char *t = gio_read_all(path, NULL);
    dg_status st = dg_gen_config_parse(t, &mk->p, err);
    free(t);
    /* The mock's self-conditioning check needs the case's schedule (pass the same flags). */
    mk->sched = mk->p;
    mk->sched.max_denoising_steps = (int)cJSON_GetObjectItem(c, "max_denoising_steps")->valuedouble;
    mk->ctx.p = &mk->sched;
    *out = (dg_model *)mk;  /* dg_model is the first member of the first member */
    return st;
}
void dg_model_free(dg_model *m) {
    mock *mk = (mock *)m;
    if (!mk) return;
    gio_close(&mk->g);
    cJSON_Delete(mk->j);
    free(mk->ctx.prev_logits);
    free(mk);
}
void dg_model_gen_defaults(const dg_model *m, dg_gen_params *p) { *p = ((const mock *)m)->p; }
dg_status dg_ctx_new(const dg_model *m, const dg_ctx_params *cp, dg_ctx **out, dg_error *err) {
    *out = &((mock *)m)->ctx;
    return DG_OK;
}
void dg_ctx_free(dg_ctx *c) {}
int cmd_check_golden(int argc, char **argv) { return 1; }
int cmd_mkmodel(int argc, char **argv) { return 1; }
int cmd_info(int argc, char **argv) { return 1; }
