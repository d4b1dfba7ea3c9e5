/* dgemma serve: the model, tokenizer, scheduler and HTTP front end put together. */
#ifndef DG_SERVER_SERVER_H
#define DG_SERVER_SERVER_H
#include "dgemma.h"
#include <stddef.h>

typedef struct srv_config {
    const char *model_dir, *tokenizer, *host, *api_key, *model_id;
    int port;               /* 0: any free port */
    int threads, max_batch, queue, ctx_tokens, layers;
    size_t max_body;
    double grace_s;         /* shutdown: how long in-flight requests may still run */
} srv_config;

typedef struct srv srv;
dg_status srv_start(const srv_config *cfg, srv **out, dg_error *err);
int srv_port(const srv *s);
/* Graceful stop: no new connections or requests, queued ones dropped (503), running ones get
 * grace_s seconds to finish, then everything is closed and freed. */
void srv_stop(srv *s);

#endif
