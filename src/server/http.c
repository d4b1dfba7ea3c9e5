#include "server/http.h"
#include "server/sse.h"
#include "core/error.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct http {
    struct MHD_Daemon *d;
    http_app *app;
    int port;
};

/* Per-request state across the handler's calls (headers, body pieces, final call). */
typedef struct conn_state {
    dg_sb body;
    int too_big;
} conn_state;

int http_peer_gone(struct MHD_Connection *c) {
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!ci) return 1;
    char ch;
    ssize_t n = recv(ci->connect_fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return 1;
    return n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
}

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *type, const char *body, size_t len,
                             const char *ignored, int retry_after) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, "Content-Type", type);
    if (ignored && *ignored) MHD_add_response_header(r, "X-Dgemma-Ignored", ignored);
    if (retry_after) MHD_add_response_header(r, "Retry-After", "1");
    if (status == 401) MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result reply_json(http_app *app, int ep, struct MHD_Connection *c, int status, const dg_sb *b,
                                  const char *ignored, int retry_after) {
    metrics_request(app->metrics, ep, status);
    return reply(c, status, "application/json", b->len ? b->s : "{}", b->len, ignored, retry_after);
}

static enum MHD_Result reply_error(http_app *app, int ep, struct MHD_Connection *c, int status, const char *type,
                                   const char *code, const char *msg, int retry_after) {
    dg_sb b = {0};
    oa_error(&b, type, NULL, code, "%s", msg);
    enum MHD_Result r = reply_json(app, ep, c, status, &b, NULL, retry_after);
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

static enum MHD_Result models(http_app *app, struct MHD_Connection *c) {
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
    enum MHD_Result r = reply_json(app, M_EP_MODELS, c, s ? 200 : 500, &b, NULL, 0);
    dg_sb_free(&b);
    free(s);
    cJSON_Delete(o);
    return r;
}

static enum MHD_Result health(http_app *app, struct MHD_Connection *c) {
    int q, a;
    sched_load(app->sched, &q, &a);
    int stopping = atomic_load(&app->stopping);
    dg_sb b = {0};
    dg_sb_printf(&b, "{\"status\":\"%s\",\"queued\":%d,\"active\":%d,\"max_batch\":%d}", stopping ? "shutting_down" : "ok", q, a,
               app->max_batch);
    enum MHD_Result r = reply_json(app, M_EP_HEALTH, c, stopping ? 503 : 200, &b, NULL, 0);
    dg_sb_free(&b);
    return r;
}

static enum MHD_Result metrics_page(http_app *app, struct MHD_Connection *c) {
    int q, a;
    sched_load(app->sched, &q, &a);
    dg_sb b = {0};
    metrics_render(app->metrics, q, a, app->max_batch, &b);
    metrics_request(app->metrics, M_EP_METRICS, 200);
    enum MHD_Result r = reply(c, 200, "text/plain; version=0.0.4", dg_sb_str(&b), b.len, NULL, 0);
    dg_sb_free(&b);
    return r;
}

static enum MHD_Result generate(http_app *app, struct MHD_Connection *c, int kind, const dg_sb *body) {
    const int ep = kind == OA_CHAT ? M_EP_CHAT : M_EP_COMPLETIONS;
    if (atomic_load(&app->stopping))
        return reply_error(app, ep, c, 503, "server_error", "shutting_down", "the server is shutting down", 1);
    dg_sb err = {0}, ignored = {0};
    oa_req *r = NULL;
    int status = oa_parse(&app->info, kind, dg_sb_str(body), body->len, &r, &err, &ignored);
    if (status != 200) {
        enum MHD_Result ret = reply_json(app, ep, c, status, &err, NULL, 0);
        dg_sb_free(&err); dg_sb_free(&ignored);
        return ret;
    }
    oa_retain(r);                       /* the scheduler's reference, dropped by on_done */
    int q = sched_submit(app->sched, oa_job(r));
    if (q) {
        oa_release(r);
        oa_release(r);
        dg_sb_free(&err); dg_sb_free(&ignored);
        if (q == -1) metrics_rejected(app->metrics);
        return reply_error(app, ep, c, 503, "server_error", q == -1 ? "queue_full" : "shutting_down",
                           q == -1 ? "the request queue is full; retry later" : "the server is shutting down", 1);
    }
    enum MHD_Result ret;
    if (oa_is_stream(r)) {
        struct MHD_Response *resp = sse_response(r, c);
        if (!resp) { oa_cancel(r); oa_release(r); dg_sb_free(&err); dg_sb_free(&ignored); return MHD_NO; }
        if (ignored.len) MHD_add_response_header(resp, "X-Dgemma-Ignored", ignored.s);
        metrics_request(app->metrics, ep, 200);
        ret = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
    } else {
        const char *out;
        size_t len;
        int st;
        while (!(st = oa_result(r, 100, &out, &len)))
            if (http_peer_gone(c)) {        /* nobody will read the answer: free the slot */
                oa_cancel(r);
                oa_release(r);
                dg_sb_free(&err); dg_sb_free(&ignored);
                metrics_request(app->metrics, ep, 499);
                return MHD_NO;
            }
        metrics_request(app->metrics, ep, st);
        ret = reply(c, st, "application/json", out, len, ignored.s, st == 503);
    }
    oa_release(r);
    dg_sb_free(&err); dg_sb_free(&ignored);
    return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    http_app *app = cls;
    conn_state *cs = *con_cls;
    if (!cs) {
        if (!(cs = calloc(1, sizeof *cs))) return MHD_NO;
        *con_cls = cs;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        /* refuse an oversized body before reading it */
        if (cl && strtoull(cl, NULL, 10) > app->max_body) {
            char msg[128];
            snprintf(msg, sizeof msg, "the request body exceeds %zu bytes", app->max_body);
            return reply_error(app, M_EP_OTHER, c, 413, "invalid_request_error", "body_too_large", msg, 0);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!cs->too_big && cs->body.len + *upload_size > app->max_body) { cs->too_big = 1; dg_sb_free(&cs->body); }
        if (!cs->too_big) dg_sb_put(&cs->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    const int post = !strcmp(method, "POST"), get = !strcmp(method, "GET");
    const int is_chat = !strcmp(url, "/v1/chat/completions"), is_cmpl = !strcmp(url, "/v1/completions");
    const int is_models = !strcmp(url, "/v1/models") || !strncmp(url, "/v1/models/", 11);
    const int ep = is_chat ? M_EP_CHAT : is_cmpl ? M_EP_COMPLETIONS : is_models ? M_EP_MODELS : M_EP_OTHER;
    if (cs->too_big) {
        char msg[128];
        snprintf(msg, sizeof msg, "the request body exceeds %zu bytes", app->max_body);
        return reply_error(app, ep, c, 413, "invalid_request_error", "body_too_large", msg, 0);
    }
    if (!dg_sb_ok(&cs->body)) return reply_error(app, ep, c, 500, "server_error", NULL, "out of memory", 0);
    if (!strcmp(url, "/health") && get) return health(app, c);
    if (!strcmp(url, "/metrics") && get) return metrics_page(app, c);
    if ((is_chat || is_cmpl || is_models) && !authorized(app, c))
        return reply_error(app, ep, c, 401, "invalid_request_error", "invalid_api_key", "invalid or missing API key", 0);
    if (is_models && get) return models(app, c);
    if ((is_chat || is_cmpl) && post) return generate(app, c, is_chat ? OA_CHAT : OA_COMPLETION, &cs->body);
    if (is_chat || is_cmpl || is_models || !strcmp(url, "/health") || !strcmp(url, "/metrics")) {
        char msg[96];
        snprintf(msg, sizeof msg, "method %.16s is not allowed here", method);
        return reply_error(app, ep, c, 405, "invalid_request_error", "method_not_allowed", msg, 0);
    }
    char msg[160];
    snprintf(msg, sizeof msg, "no such endpoint: %.100s", url);
    return reply_error(app, ep, c, 404, "invalid_request_error", "not_found", msg, 0);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
    conn_state *cs = *con_cls;
    if (!cs) return;
    dg_sb_free(&cs->body);
    free(cs);
    *con_cls = NULL;
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
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ITC;
    if (ai->ai_family == AF_INET6) flags |= MHD_USE_IPv6;
    h->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handler, app,
                            MHD_OPTION_SOCK_ADDR, ai->ai_addr,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)512,
                            MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
                            MHD_OPTION_END);
    freeaddrinfo(ai);
    if (!h->d) { free(h); return dg_fail(err, DG_ERR_IO, "cannot listen on %s:%d (address in use or not available)", host, port); }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : port;
    *out = h;
    return DG_OK;
}

int http_port(const http *h) { return h->port; }

void http_quiesce(http *h) {
    if (!h || !h->d) return;
    MHD_socket s = MHD_quiesce_daemon(h->d);
    if (s != MHD_INVALID_SOCKET) close(s);
}

void http_stop(http *h) {
    if (!h) return;
    if (h->d) MHD_stop_daemon(h->d);
    free(h);
}
