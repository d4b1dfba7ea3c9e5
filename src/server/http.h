/* The HTTP front end on libmicrohttpd (thread per connection): routing, API key, body limits,
 * OpenAI error bodies, queue-full back-pressure. Generation is handed to the scheduler. */
#ifndef DG_SERVER_HTTP_H
#define DG_SERVER_HTTP_H
#include "dgemma.h"
#include "server/metrics.h"
#include "server/openai.h"
#include "server/scheduler.h"
#include <stdatomic.h>

struct MHD_Connection;

typedef struct http_app {
    oa_info info;
    sched *sched;
    metrics *metrics;
    const char *api_key;        /* NULL: no auth */
    size_t max_body;
    int max_batch;
    atomic_int stopping;        /* new generation requests get 503 */
} http_app;

typedef struct http http;
/* host: an address or name; port 0 picks a free one (see http_port). */
dg_status http_start(http_app *app, const char *host, int port, http **out, dg_error *err);
int http_port(const http *h);
/* Stops accepting connections (the listening socket closes); open ones keep being served. */
void http_quiesce(http *h);
/* Closes everything; waits for the connection threads. */
void http_stop(http *h);

/* 1 when the peer of a connection has closed it (checked without consuming input). */
int http_peer_gone(struct MHD_Connection *c);

#endif
