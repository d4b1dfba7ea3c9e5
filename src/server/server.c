#include "server/server.h"
#include "server/http.h"
#include "core/error.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct srv {
    srv_config cfg;
    dg_model *model;
    dg_tokenizer *tok;
    dg_ctx *ctx;
    metrics metrics;
    sched *sched;
    http *http;
    http_app app;
    atomic_ullong next_id;
    char model_id[256];
};

static void srv_free(srv *s) {
    if (!s) return;
    http_stop(s->http);
    sched_free(s->sched);
    dg_ctx_free(s->ctx);
    dg_tokenizer_free(s->tok);
    dg_model_free(s->model);
    metrics_destroy(&s->metrics);
    free(s);
}

dg_status srv_start(const srv_config *cfg, srv **out, dg_error *err) {
    *out = NULL;
    /* an empty key would mean "no key": a public server left open by a missing secret */
    if (cfg->api_key && !*cfg->api_key)
        return dg_fail(err, DG_ERR_ARG, "the API key (--api-key or DGEMMA_API_KEY) is empty: give a key, or none for an open server");
    srv *s = calloc(1, sizeof *s);
    if (!s) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    s->cfg = *cfg;
    metrics_init(&s->metrics);
    atomic_init(&s->next_id, 1);
    dg_status st;
    dg_load_params lp = {.n_layers = cfg->layers};
    if ((st = dg_model_load(cfg->model_dir, &lp, &s->model, err))) goto fail;
    if ((st = dg_tokenizer_load(cfg->tokenizer ? cfg->tokenizer : cfg->model_dir, &s->tok, err))) {
        dg_fail_wrap(err, "tokenizer (give one with --tokenizer FILE)");
        goto fail;
    }
    dg_model_info mi;
    dg_model_get_info(s->model, &mi);
    int ctx_tokens = cfg->ctx_tokens > 0 ? cfg->ctx_tokens : 4096;
    if (mi.max_positions > 0 && ctx_tokens > mi.max_positions) ctx_tokens = mi.max_positions;
    dg_ctx_params cp = {.n_threads = cfg->threads, .max_tokens = ctx_tokens, .n_seq = cfg->max_batch, .isa = cfg->isa, .int8 = cfg->int8};
    if ((st = dg_ctx_new(s->model, &cp, &s->ctx, err))) goto fail;
    if ((st = sched_new(s->ctx, cfg->max_batch, cfg->queue, cfg->threads, &s->metrics, cfg->log, cfg->log_every_s, &s->sched, err))) goto fail;
    if (cfg->model_id) snprintf(s->model_id, sizeof s->model_id, "%s", cfg->model_id);
    else {
        const char *b = cfg->model_dir + strlen(cfg->model_dir);
        while (b > cfg->model_dir && b[-1] == '/') b--;
        const char *e = b;
        while (b > cfg->model_dir && b[-1] != '/') b--;
        snprintf(s->model_id, sizeof s->model_id, "%.*s", (int)(e - b), b);
    }
    http_app *a = &s->app;
    a->info.tok = s->tok;
    a->info.model_id = s->model_id;
    a->info.vocab = mi.vocab_size;
    a->info.canvas_length = mi.canvas_length;
    a->info.ctx_tokens = ctx_tokens;
    dg_model_gen_defaults(s->model, &a->info.defaults);
    a->info.next_id = &s->next_id;
    a->info.max_buffered = 64u << 20;
    a->info.max_steps = cfg->max_steps;
    a->info.max_canvases = cfg->max_canvases;
    a->info.timeout_s = cfg->timeout_s;
    for (int id = 0; id < dg_tokenizer_vocab_size(s->tok); id++) {
        size_t n = 0;
        if (dg_token_piece(s->tok, id, &n) && n > a->info.max_piece_bytes) a->info.max_piece_bytes = n;
    }
    a->sched = s->sched;
    a->metrics = &s->metrics;
    a->api_key = cfg->api_key;
    a->max_body = cfg->max_body;
    a->max_batch = cfg->max_batch;
    a->max_conn_per_ip = cfg->max_conn_per_ip;
    a->max_conn = cfg->max_conn;
    a->recv_timeout_s = cfg->recv_timeout_s;
    a->log = cfg->log;
    atomic_init(&a->stopping, 0);
    if ((st = http_start(a, cfg->host, cfg->port, &s->http, err))) goto fail;
    *out = s;
    return DG_OK;
fail:
    srv_free(s);
    return st;
}

int srv_port(const srv *s) { return http_port(s->http); }

void srv_stop(srv *s) {
    if (!s) return;
    /* keep listening while draining: /health says 503 instead of a refused connection */
    atomic_store(&s->app.stopping, 1);
    sched_shutdown(s->sched, s->cfg.grace_s);
    http_drain(s->http, 5);
    srv_free(s);
}
