#include "server/http.h"
#include "server/sse.h"
#include "core/error.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* MHD's inactivity timeout: how long a kept-alive connection may wait silently for its next
 * request. */
#define IDLE_S 60

/* One open connection, for the receive deadline: MHD's own timeout counts inactivity, so a
 * client trickling a byte at a time would hold its connection (and thread) forever. */
typedef struct watch {
    int fd;
    int receiving;              /* waiting for (the rest of) a request */
    double since;               /* when the deadline starts: connect, or IDLE_S after an answer */
    struct watch *prev, *next;
} watch;

struct http {
    struct MHD_Daemon *d;
    http_app *app;
    int port;
    pthread_mutex_t mu;         /* guards the watch list and stop */
    pthread_cond_t cv;
    watch *watches;
    int stop, watchdog_started;
    pthread_t watchdog;
    atomic_int open_requests;   /* between a request's headers and the end of its answer */
};

/* Per-request state across the handler's calls (headers, body pieces, final call). */
typedef struct conn_state {
    dg_sb body;
    int too_big, ep, status;
    double t0;
    char method[16], path[96];
    oa_req *req;                /* a generation request, held for the log line */
} conn_state;

/* What a reply needs: the app, the connection and its request state. */
typedef struct ex {
    http_app *app;
    struct MHD_Connection *c;
    conn_state *cs;
} ex;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int http_peer_gone(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return 1;
    /* The end of the client's input is not the end of the client: a half-closed peer still
     * reads the answer. A reset (or any socket error) is. */
    struct pollfd p = {.fd = ci->connect_fd, .events = 0};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

static enum MHD_Result reply(ex *x, int status, const char *type, const char *body, size_t len, const char *ignored,
                             int retry_after, int close) {
    x->cs->status = status;
    metrics_request(x->app->metrics, x->cs->ep, status);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    if (ignored && *ignored) MHD_add_response_header(r, "X-Dgemma-Ignored", ignored);
    if (retry_after) MHD_add_response_header(r, "Retry-After", "1");
    if (status == 401) MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    if (close) MHD_add_response_header(r, "Connection", "close");
    enum MHD_Result ret = MHD_queue_response(x->c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_json(ex *x, int status, const dg_sb *b, const char *ignored, int retry_after) {
    return reply(x, status, "application/json", b->len ? b->s : "{}", b->len, ignored, retry_after, 0);
}

static enum MHD_Result reply_error(ex *x, int status, const char *type, const char *code, const char *msg, int retry_after,
                                   int close) {
    dg_sb b = {0};
    oa_error(&b, type, NULL, code, "%s", msg);
    enum MHD_Result r = reply(x, status, "application/json", dg_sb_str(&b), b.len, NULL, retry_after, close);
    dg_sb_free(&b);
    return r;
}

static int authorized(http_app *app, struct MHD_Connection *c) {
    if (!app->api_key) return 1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!h || strncmp(h, "Bearer ", 7)) return 0;
    const char *k = h + 7, *want = app->api_key;
    size_t lk = strlen(k), lw = strlen(want);
    unsigned diff = (unsigned)(lk ^ lw);
    for (size_t i = 0; i < lw; i++) diff |= (unsigned char)want[i] ^ (unsigned char)(i < lk ? k[i] : 0);
    return diff == 0;   /* compared in time independent of where the keys differ */
}

static enum MHD_Result models(ex *x) {
    http_app *app = x->app;
    cJSON *o = cJSON_CreateObject(), *d = cJSON_AddArrayToObject(o, "data"), *m = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "object", "list");
    cJSON_AddItemToArray(d, m);
    cJSON_AddStringToObject(m, "id", app->info.model_id);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", 0);
    cJSON_AddStringToObject(m, "owned_by", "dgemma");
    cJSON *meta = cJSON_AddObjectToObject(m, "meta");
    cJSON_AddNumberToObject(meta, "vocab_size", app->info.vocab);
    cJSON_AddNumberToObject(meta, "canvas_length", app->info.canvas_length);
    cJSON_AddNumberToObject(meta, "context_tokens", app->info.ctx_tokens);
    cJSON_AddNumberToObject(meta, "max_batch", app->max_batch);
    char *s = cJSON_PrintUnformatted(o);
    dg_sb b = {0};
    if (s) dg_sb_puts(&b, s);
    enum MHD_Result r = reply_json(x, s ? 200 : 500, &b, NULL, 0);
    dg_sb_free(&b);
    free(s);
    cJSON_Delete(o);
    return r;
}

static enum MHD_Result health(ex *x) {
    int q, a;
    sched_load(x->app->sched, &q, &a);
    int stopping = atomic_load(&x->app->stopping);
    dg_sb b = {0};
    dg_sb_printf(&b, "{\"status\":\"%s\",\"queued\":%d,\"active\":%d,\"max_batch\":%d}", stopping ? "shutting_down" : "ok", q, a,
                 x->app->max_batch);
    enum MHD_Result r = reply_json(x, stopping ? 503 : 200, &b, NULL, 0);
    dg_sb_free(&b);
    return r;
}

static enum MHD_Result metrics_page(ex *x) {
    int q, a;
    sched_load(x->app->sched, &q, &a);
    dg_sb b = {0};
    metrics_render(x->app->metrics, q, a, x->app->max_batch, &b);
    enum MHD_Result r = reply(x, 200, "text/plain; version=0.0.4", dg_sb_str(&b), b.len, NULL, 0, 0);
    dg_sb_free(&b);
    return r;
}

static enum MHD_Result generate(ex *x, int kind, const dg_sb *body) {
    http_app *app = x->app;
    if (atomic_load(&app->stopping))
        return reply_error(x, 503, "server_error", "shutting_down", "the server is shutting down", 1, 0);
    dg_sb err = {0}, ignored = {0};
    oa_req *r = NULL;
    int status = oa_parse(&app->info, kind, dg_sb_str(body), body->len, &r, &err, &ignored);
    if (status != 200) {
        enum MHD_Result ret = reply_json(x, status, &err, NULL, 0);
        dg_sb_free(&err); dg_sb_free(&ignored);
        return ret;
    }
    x->cs->req = r;                     /* the request's reference: the log line reads it at the end */
    oa_retain(r);                       /* the scheduler's reference, dropped by on_done */
    int q = sched_submit(app->sched, oa_job(r));
    if (q) {
        oa_release(r);
        dg_sb_free(&err); dg_sb_free(&ignored);
        if (q == -1) metrics_rejected(app->metrics);
        return reply_error(x, 503, "server_error", q == -1 ? "queue_full" : "shutting_down",
                           q == -1 ? "the request queue is full; retry later" : "the server is shutting down", 1, 0);
    }
    enum MHD_Result ret;
    if (oa_is_stream(r)) {
        struct MHD_Response *resp = sse_response(r, x->c);
        if (!resp) { oa_cancel(r); dg_sb_free(&err); dg_sb_free(&ignored); return MHD_NO; }
        if (ignored.len) MHD_add_response_header(resp, "X-Dgemma-Ignored", ignored.s);
        x->cs->status = 200;
        metrics_request(app->metrics, x->cs->ep, 200);
        ret = MHD_queue_response(x->c, 200, resp);
        MHD_destroy_response(resp);
    } else {
        const char *out;
        size_t len;
        int st;
        while (!(st = oa_result(r, 100, &out, &len)))
            if (http_peer_gone(x->c)) {     /* nobody will read the answer: free the slot */
                oa_cancel(r);
                dg_sb_free(&err); dg_sb_free(&ignored);
                x->cs->status = 499;
                metrics_request(app->metrics, x->cs->ep, 499);
                return MHD_NO;
            }
        ret = reply(x, st, "application/json", out, len, ignored.s, st == 503, 0);
    }
    dg_sb_free(&err); dg_sb_free(&ignored);
    return ret;
}

/* The connection's watch (MHD's socket context), or NULL. */
static watch *watch_of(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void set_receiving(http *h, struct MHD_Connection *c, int receiving, double delay) {
    watch *w = watch_of(c);
    if (!w) return;
    pthread_mutex_lock(&h->mu);
    w->receiving = receiving;
    w->since = now() + delay;
    pthread_mutex_unlock(&h->mu);
}

static int endpoint_of(const char *url) {
    if (!strcmp(url, "/v1/chat/completions")) return M_EP_CHAT;
    if (!strcmp(url, "/v1/completions")) return M_EP_COMPLETIONS;
    if (!strcmp(url, "/v1/models") || !strncmp(url, "/v1/models/", 11)) return M_EP_MODELS;
    if (!strcmp(url, "/health")) return M_EP_HEALTH;
    if (!strcmp(url, "/metrics")) return M_EP_METRICS;
    return M_EP_OTHER;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    http *h = cls;
    http_app *app = h->app;
    conn_state *cs = *con_cls;
    ex x = {app, c, cs};
    if (!cs) {
        if (!(cs = calloc(1, sizeof *cs))) return MHD_NO;
        *con_cls = x.cs = cs;
        atomic_fetch_add(&h->open_requests, 1);
        cs->t0 = now();
        cs->ep = endpoint_of(url);
        snprintf(cs->method, sizeof cs->method, "%s", method);
        snprintf(cs->path, sizeof cs->path, "%s", url);
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        /* RFC 9112 §6.1: a message with both is a request-smuggling vector; answer, then close
         * the connection so that whatever follows is never read as a request */
        if (cl && MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding"))
            return reply_error(&x, 400, "invalid_request_error", "bad_request",
                               "Content-Length together with Transfer-Encoding is not allowed", 0, 1);
        /* refuse an oversized body before reading it */
        if (cl && strtoull(cl, NULL, 10) > app->max_body) {
            char msg[128];
            snprintf(msg, sizeof msg, "the request body exceeds %zu bytes", app->max_body);
            return reply_error(&x, 413, "invalid_request_error", "body_too_large", msg, 0, 1);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!cs->too_big && cs->body.len + *upload_size > app->max_body) { cs->too_big = 1; dg_sb_free(&cs->body); }
        if (!cs->too_big) dg_sb_put(&cs->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    set_receiving(h, c, 0, 0);          /* the request is in: its receive deadline no longer runs */
    const int post = !strcmp(method, "POST"), get = !strcmp(method, "GET"), ep = cs->ep;
    if (cs->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body exceeds %zu bytes", app->max_body);
        return reply_error(&x, 413, "invalid_request_error", "body_too_large", msg, 0, 1);
    }
    if (!dg_sb_ok(&cs->body)) return reply_error(&x, 500, "server_error", NULL, "out of memory", 0, 0);
    if (ep == M_EP_HEALTH && get) return health(&x);
    if (ep == M_EP_METRICS && get) return metrics_page(&x);
    const int v1 = ep == M_EP_CHAT || ep == M_EP_COMPLETIONS || ep == M_EP_MODELS;
    if (v1 && !authorized(app, c))
        return reply_error(&x, 401, "invalid_request_error", "invalid_api_key", "invalid or missing API key", 0, 0);
    if (ep == M_EP_MODELS && get) return models(&x);
    if ((ep == M_EP_CHAT || ep == M_EP_COMPLETIONS) && post) return generate(&x, ep == M_EP_CHAT ? OA_CHAT : OA_COMPLETION, &cs->body);
    if (ep != M_EP_OTHER) {
        char msg[96];
        snprintf(msg, sizeof msg, "method %.16s is not allowed here", method);
        return reply_error(&x, 405, "invalid_request_error", "method_not_allowed", msg, 0, 0);
    }
    char msg[160];
    snprintf(msg, sizeof msg, "no such endpoint: %.100s", url);
    return reply_error(&x, 404, "invalid_request_error", "not_found", msg, 0, 0);
}

/* The end of one request: its log line; the connection now waits for the next one. */
static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    http *h = cls;
    conn_state *cs = *con_cls;
    if (!cs) return;
    if (h->app->log) {
        oa_stats st = {0};
        if (cs->req) oa_get_stats(cs->req, &st);
        fprintf(h->app->log, "dgemma serve: %s %s %d prompt=%d completion=%d canvases=%d steps=%d%s%s %.3fs%s\n", cs->method,
                cs->path, cs->status, st.prompt_tokens, st.completion_tokens, st.canvases, st.steps, st.finish ? " finish=" : "",
                st.finish ? st.finish : "", now() - cs->t0, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (connection lost)");
    }
    if (cs->req) { oa_cancel(cs->req); oa_release(cs->req); }   /* cancel: no-op once the job is over */
    dg_sb_free(&cs->body);
    free(cs);
    *con_cls = NULL;
    atomic_fetch_sub(&h->open_requests, 1);
    /* a kept-alive connection may first idle (MHD closes it after IDLE_S silent seconds; a
     * client's pool would race a shorter close), then has the receive deadline again */
    set_receiving(h, c, 1, IDLE_S);
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context, enum MHD_ConnectionNotificationCode code) {
    http *h = cls;
    watch *w = *socket_context;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!ci || !(w = calloc(1, sizeof *w))) return;
        w->fd = ci->connect_fd;
        w->receiving = 1;
        w->since = now();
        pthread_mutex_lock(&h->mu);
        w->next = h->watches;
        if (w->next) w->next->prev = w;
        h->watches = w;
        pthread_mutex_unlock(&h->mu);
        *socket_context = w;
    } else if (w) {     /* closed: MHD closes the socket after this, so the fd is never reused under us */
        pthread_mutex_lock(&h->mu);
        if (w->prev) w->prev->next = w->next; else h->watches = w->next;
        if (w->next) w->next->prev = w->prev;
        pthread_mutex_unlock(&h->mu);
        free(w);
        *socket_context = NULL;
    }
}

/* Shuts down the socket of a connection past its receive deadline; MHD then sees the end of
 * the connection on its own thread and closes it. */
static void *watchdog(void *arg) {
    http *h = arg;
    const double limit = h->app->recv_timeout_s;
    pthread_mutex_lock(&h->mu);
    while (!h->stop) {
        const double t = now();
        for (watch *w = h->watches; w; w = w->next)
            if (w->receiving && t > w->since + limit) { shutdown(w->fd, SHUT_RDWR); w->receiving = 0; }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
        pthread_cond_timedwait(&h->cv, &h->mu, &ts);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static void http_free(http *h) {
    if (h->watchdog_started) {
        pthread_mutex_lock(&h->mu);
        h->stop = 1;
        pthread_cond_signal(&h->cv);
        pthread_mutex_unlock(&h->mu);
        pthread_join(h->watchdog, NULL);
    }
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}

dg_status http_start(http_app *app, const char *host, int port, http **out, dg_error *err) {
    *out = NULL;
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int rc = getaddrinfo(host, ps, &hints, &ai);
    if (rc || !ai) return dg_fail(err, DG_ERR_ARG, "--host %s: %s", host, gai_strerror(rc));
    http *h = calloc(1, sizeof *h);
    if (!h) { freeaddrinfo(ai); return dg_fail(err, DG_ERR_NOMEM, "out of memory"); }
    h->app = app;
    atomic_init(&h->open_requests, 0);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (app->recv_timeout_s > 0) {
        if (pthread_create(&h->watchdog, NULL, watchdog, h)) {
            freeaddrinfo(ai);
            http_free(h);
            return dg_fail(err, DG_ERR_NOMEM, "cannot start the connection watchdog thread");
        }
        h->watchdog_started = 1;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handler, h,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_S,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)app->max_conn,
                            MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)app->max_conn_per_ip,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, h,
                            MHD_OPTION_NOTIFY_CONNECTION, on_connection, h,
                            MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->d) {
        http_free(h);
        return dg_fail(err, DG_ERR_IO, "cannot listen on %s:%d (address in use or not available)", host, port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : port;
    *out = h;
    return DG_OK;
}

int http_port(const http *h) { return h->port; }

void http_drain(http *h, double max_s) {
    const double end = now() + max_s;
    while (h && atomic_load(&h->open_requests) > 0 && now() < end) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

void http_stop(http *h) {
    if (!h) return;
    if (h->d) MHD_stop_daemon(h->d);
    http_free(h);
}
