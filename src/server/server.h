/* dgemma serve: the model, tokenizer, scheduler and HTTP front end put together. */
#ifndef DG_SERVER_SERVER_H
#define DG_SERVER_SERVER_H
#include "dgemma.h"
#include <stddef.h>
#include <stdio.h>

typedef struct srv_config {
    const char *model_dir, *tokenizer, *host, *api_key, *model_id;
    int port;               /* 0: any free port */
    int threads, max_batch, queue, ctx_tokens, layers;
    dg_isa isa;             /* kernel path of the context (AUTO: the best here) */
    int int8;               /* allow the lossy integer paths (dg_ctx_params.int8) */
    size_t max_body;
    double grace_s;         /* shutdown: how long in-flight requests may still run */
    /* work per request: steps per canvas, canvases, seconds from admission (0: none) */
    int max_steps, max_canvases;
    double timeout_s;
    /* connections: per client address, in all; seconds to receive a request's headers and body */
    int max_conn_per_ip, max_conn;
    double recv_timeout_s;
    FILE *log;              /* a line per request and a throughput line while busy; NULL: quiet */
    double log_every_s;     /* seconds between throughput lines */
} srv_config;

typedef struct srv srv;
dg_status srv_start(const srv_config *cfg, srv **out, dg_error *err);
int srv_port(const srv *s);
/* Graceful stop: new requests get 503 (/health too), queued ones are dropped (503), running
 * ones get grace_s seconds to finish and are then cut (what they committed, finish_reason
 * "cancelled"); then everything is closed and freed. */
void srv_stop(srv *s);

#endif
