/* The HTTP front end on libmicrohttpd (thread per connection): routing, API key, body limits,
 * OpenAI error bodies, queue-full back-pressure, connection bounds (per client address, in all,
 * a deadline to receive each request), the request log. Generation is handed to the scheduler. */
#ifndef DG_SERVER_HTTP_H
#define DG_SERVER_HTTP_H
#include "dgemma.h"
#include "server/metrics.h"
#include "server/openai.h"
#include "server/scheduler.h"
#include <stdatomic.h>
#include <stdio.h>

struct MHD_Connection;

typedef struct http_app {
    oa_info info;
    sched *sched;
    metrics *metrics;
    const char *api_key;        /* NULL: no auth */
    size_t max_body;
    int max_batch;
    int max_conn_per_ip, max_conn;
    double recv_timeout_s;      /* headers + body of one request, or the idle wait for the next */
    FILE *log;                  /* a line per request; NULL: quiet */
    atomic_int stopping;        /* new generation requests and /health get 503 */
} http_app;

typedef struct http http;
/* host: an address or name; port 0 picks a free one (see http_port). */
dg_status http_start(http_app *app, const char *host, int port, http **out, dg_error *err);
int http_port(const http *h);
/* Waits up to max_s seconds for the answers in flight to be sent (their jobs are over). */
void http_drain(http *h, double max_s);
/* Closes everything; waits for the connection threads. */
void http_stop(http *h);

/* 1 when the peer of a connection is known gone: a reset or error, not the end of its input
 * (a client may shut down its sending side and still read the answer). Consumes nothing. */
int http_peer_gone(struct MHD_Connection *c);

#endif
