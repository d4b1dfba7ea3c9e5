#include "server/openai.h"
#include "server/sse.h"
#include "core/error.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Special ids that route text in a chat answer (TOKENIZER.md §3, §7). */
#define TOK_TOOL_CALL_OPEN 48
#define TOK_TOOL_CALL_CLOSE 49
#define TOK_CHANNEL_OPEN 100
#define TOK_CHANNEL_CLOSE 101
#define MAX_STOP 16

enum { MODE_CONTENT, MODE_REASONING, MODE_TOOL };

struct oa_req {
    job job;                    /* first: the scheduler hands back job pointers */
    const oa_info *info;
    int kind, stream, stream_canvas, include_usage;
    char id[48], model[128];
    long long created;
    int32_t *prompt;
    char *stop[MAX_STOP];
    int n_stop;
    size_t max_stop;
    /* scheduler-thread state while generating */
    dg_detok_stream *ds;
    int mode, strip_thought, stopped, sent_role, c_started;
    dg_sb acc_content, acc_reasoning; /* non-stream: the whole answer */
    dg_sb ids;                    /* committed ids (int32), EOS excluded */
    dg_sb hold;                   /* content not yet emitted: the stop-string look-behind */
    dg_sb thought;                /* start of a reasoning channel, until "thought\n" is decided */
    dg_sb d_content, d_reasoning; /* this canvas's deltas */
    /* shared with the HTTP thread, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs, done, status;
    dg_sb out;                    /* stream: pending SSE bytes; otherwise the final body */
    size_t sent;
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void oa_error(dg_sb *out, const char *type, const char *param, const char *code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "message", msg);
    cJSON_AddStringToObject(e, "type", type);
    if (param) cJSON_AddStringToObject(e, "param", param); else cJSON_AddNullToObject(e, "param");
    if (code) cJSON_AddStringToObject(e, "code", code); else cJSON_AddNullToObject(e, "code");
    char *s = cJSON_PrintUnformatted(o);
    out->len = 0;
    if (s) dg_sb_puts(out, s);
    free(s);
    cJSON_Delete(o);
}

/* ------------------------------------------------------------------ lifetime */

static void req_free(oa_req *r) {
    for (int i = 0; i < r->n_stop; i++) free(r->stop[i]);
    free(r->prompt);
    dg_detok_stream_free(r->ds);
    dg_sb_free(&r->ids); dg_sb_free(&r->hold); dg_sb_free(&r->thought);
    dg_sb_free(&r->d_content); dg_sb_free(&r->d_reasoning);
    dg_sb_free(&r->acc_content); dg_sb_free(&r->acc_reasoning); dg_sb_free(&r->out);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    free(r);
}

job *oa_job(oa_req *r) { return &r->job; }
int oa_is_stream(const oa_req *r) { return r->stream; }
void oa_cancel(oa_req *r) { atomic_store(&r->job.cancel, 1); }

void oa_retain(oa_req *r) {
    pthread_mutex_lock(&r->mu);
    r->refs++;
    pthread_mutex_unlock(&r->mu);
}

void oa_release(oa_req *r) {
    pthread_mutex_lock(&r->mu);
    int last = --r->refs == 0;
    pthread_mutex_unlock(&r->mu);
    if (last) req_free(r);
}

/* ------------------------------------------------------------------ output side */

/* Appends SSE bytes for the HTTP thread; a client that stops reading is cut off rather than
 * letting its backlog grow without bound. */
static void publish(oa_req *r, const dg_sb *b) {
    pthread_mutex_lock(&r->mu);
    dg_sb_put(&r->out, b->s, b->len);
    if (r->out.len - r->sent > r->info->max_buffered || !dg_sb_ok(&r->out)) atomic_store(&r->job.cancel, 1);
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static cJSON *chunk_new(const oa_req *r) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", r->id);
    cJSON_AddStringToObject(o, "object", r->kind == OA_CHAT ? "chat.completion.chunk" : "text_completion");
    cJSON_AddNumberToObject(o, "created", (double)r->created);
    cJSON_AddStringToObject(o, "model", r->model);
    return o;
}

/* A chunk with one choice: delta (chat) or text (completion) and a finish reason. */
static void send_chunk(oa_req *r, const char *content, const char *reasoning, cJSON *tool_calls,
                       const char *finish, cJSON *extra) {
    cJSON *o = chunk_new(r), *ch = cJSON_AddArrayToObject(o, "choices"), *c = cJSON_CreateObject();
    cJSON_AddItemToArray(ch, c);
    cJSON_AddNumberToObject(c, "index", 0);
    if (r->kind == OA_CHAT) {
        cJSON *d = cJSON_AddObjectToObject(c, "delta");
        if (!r->sent_role) { cJSON_AddStringToObject(d, "role", "assistant"); r->sent_role = 1; }
        if (reasoning) cJSON_AddStringToObject(d, "reasoning_content", reasoning);
        if (content) cJSON_AddStringToObject(d, "content", content);
        if (tool_calls) cJSON_AddItemToObject(d, "tool_calls", tool_calls);
    } else {
        cJSON_AddStringToObject(c, "text", content ? content : "");
        cJSON_AddNullToObject(c, "logprobs");
    }
    if (finish) cJSON_AddStringToObject(c, "finish_reason", finish); else cJSON_AddNullToObject(c, "finish_reason");
    if (extra) cJSON_AddItemToObject(o, "dgemma", extra);
    char *s = cJSON_PrintUnformatted(o);
    dg_sb b = {0};
    if (s) sse_event(&b, NULL, s, strlen(s));
    publish(r, &b);
    dg_sb_free(&b);
    free(s);
    cJSON_Delete(o);
}

/* Content text through the stop strings: emits all but the last max_stop-1 bytes (never
 * splitting a UTF-8 sequence); on a match, emits up to it and marks the request stopped. Chat
 * content is trimmed like the template parser does: leading whitespace dropped, trailing
 * whitespace held until more text follows (dropped at the end). */
static int is_ws(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v'; }

static void content_text(oa_req *r, const char *t, size_t n, int final) {
    if (r->stopped) return;
    const int trim = r->kind == OA_CHAT;
    if (trim && !r->c_started) {
        while (n && is_ws(*t)) { t++; n--; }
        r->c_started = n > 0;
    }
    dg_sb_put(&r->hold, t, n);
    if (!dg_sb_ok(&r->hold)) return;
    size_t cut = r->hold.len;
    for (int i = 0; i < r->n_stop; i++) {
        const char *m = memmem(r->hold.s, r->hold.len, r->stop[i], strlen(r->stop[i]));
        if (m && (size_t)(m - r->hold.s) < cut) { cut = (size_t)(m - r->hold.s); r->stopped = 1; }
    }
    if (!r->stopped && !final && r->max_stop > 1)
        cut = r->hold.len > r->max_stop - 1 ? r->hold.len - (r->max_stop - 1) : 0;
    if (!r->stopped && !final)
        while (cut > 0 && cut < r->hold.len && ((unsigned char)r->hold.s[cut] & 0xC0) == 0x80) cut--;
    if (trim)
        while (cut > 0 && is_ws(r->hold.s[cut - 1])) cut--;
    dg_sb_put(&r->d_content, r->hold.s, cut);
    dg_sb_consume(&r->hold, (final || r->stopped) ? r->hold.len : cut);
}

/* Reasoning text: drop the "thought\n" that opens the thinking channel. */
static void reasoning_text(oa_req *r, const char *t, size_t n, int final) {
    static const char lead[] = "thought\n";
    if (!r->strip_thought) { dg_sb_put(&r->d_reasoning, t, n); return; }
    dg_sb_put(&r->thought, t, n);
    size_t l = r->thought.len, k = sizeof lead - 1;
    if (l < k && !memcmp(r->thought.s, lead, l) && !final) return;    /* undecided yet */
    size_t skip = l >= k && !memcmp(r->thought.s, lead, k) ? k : 0;
    dg_sb_put(&r->d_reasoning, r->thought.s + skip, l - skip);
    dg_sb_consume(&r->thought, l);
    r->strip_thought = 0;
}

/* NUL bytes (a byte-fallback token) cannot travel through C strings and cJSON: drop them, in
 * the stream and in the final text alike. */
static size_t drop_nul(char *t, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) if (t[i]) t[o++] = t[i];
    if (t) t[o] = 0;
    return o;
}

static void route(oa_req *r, char *t, size_t n, int final) {
    n = drop_nul(t, n);
    if (r->mode == MODE_CONTENT) content_text(r, t, n, final);
    else if (r->mode == MODE_REASONING) reasoning_text(r, t, n, final);
    /* MODE_TOOL: tool calls are parsed from the whole output at the end */
}

static void push_ids(oa_req *r, const int32_t *ids, size_t n) {
    char *t = NULL;
    size_t len = 0;
    if (n && !dg_detok_stream_push(r->ds, ids, n, &t, &len, NULL)) route(r, t, len, 0);
    free(t);
}

static void flush_ids(oa_req *r, int final) {
    char *t = NULL;
    size_t len = 0;
    char empty[1] = "";
    if (!dg_detok_stream_flush(r->ds, &t, &len, NULL)) route(r, t ? t : empty, len, final);
    free(t);
}

/* This canvas's deltas: one chunk when streaming, else kept for the final body, so that a
 * non-stream answer is exactly the concatenation of the stream's deltas. */
static void deliver(oa_req *r) {
    if (!r->stream) {
        dg_sb_put(&r->acc_content, r->d_content.s, r->d_content.len);
        dg_sb_put(&r->acc_reasoning, r->d_reasoning.s, r->d_reasoning.len);
    } else if (r->d_content.len || r->d_reasoning.len)
        send_chunk(r, r->d_content.len ? r->d_content.s : NULL, r->d_reasoning.len ? r->d_reasoning.s : NULL, NULL, NULL, NULL);
    r->d_content.len = r->d_reasoning.len = 0;
}

/* A committed canvas (scheduler thread): text deltas by channel; stop strings. */
static int on_canvas(void *user, int canvas, const int32_t *ids, int L, int n_emit, int n_steps) {
    oa_req *r = user;
    dg_sb_put(&r->ids, ids, (size_t)n_emit * sizeof *ids);
    r->d_content.len = r->d_reasoning.len = 0;
    int start = 0;
    for (int i = 0; r->kind == OA_CHAT && i < n_emit; i++) {
        int32_t id = ids[i];
        int to = id == TOK_CHANNEL_OPEN ? MODE_REASONING : id == TOK_CHANNEL_CLOSE ? MODE_CONTENT
               : id == TOK_TOOL_CALL_OPEN ? MODE_TOOL : id == TOK_TOOL_CALL_CLOSE ? MODE_CONTENT : -1;
        if (to < 0) continue;
        push_ids(r, ids + start, (size_t)(i - start));
        flush_ids(r, 1);
        r->mode = to;
        r->strip_thought = to == MODE_REASONING;
        start = i + 1;
    }
    push_ids(r, ids + start, (size_t)(n_emit - start));
    deliver(r);
    return r->stopped;      /* a stop string ends the request: cancel the rest */
}

/* Per-step draft events for live viewers (opt-in "stream_canvas"); formatted without cJSON so
 * that a step costs one append. */
static int on_step(void *user, const dg_gen_frame *f) {
    oa_req *r = user;
    if (!r->stream_canvas) return 0;
    dg_sb b = {0};
    dg_sb_printf(&b, "{\"object\":\"dgemma.step\",\"id\":\"%s\",\"canvas\":%d,\"step\":%d,\"max_steps\":%d,"
                   "\"temperature\":%.6g,\"mean_entropy\":%.6g,\"n_accept\":%d,\"stop\":%s,\"ids\":[",
               r->id, f->canvas, f->step, f->max_steps, f->T, f->mean_entropy, f->n_accept, f->stop ? "true" : "false");
    for (int i = 0; i < f->L; i++) dg_sb_printf(&b, i ? ",%d" : "%d", f->argmax[i]);
    dg_sb_puts(&b, "],\"accepted\":\"");
    for (int i = 0; i < f->L; i++) dg_sb_put(&b, f->accept[i] ? "1" : "0", 1);
    dg_sb_puts(&b, "\"}");
    dg_sb e = {0};
    sse_event(&e, "dgemma.step", b.s, b.len);
    publish(r, &e);
    dg_sb_free(&e);
    dg_sb_free(&b);
    return 0;
}

static cJSON *usage_json(const oa_req *r, const dg_gen_result *res) {
    cJSON *u = cJSON_CreateObject();
    int c = res ? res->n_emitted : 0;
    cJSON_AddNumberToObject(u, "prompt_tokens", r->job.n_prompt);
    cJSON_AddNumberToObject(u, "completion_tokens", c);
    cJSON_AddNumberToObject(u, "total_tokens", r->job.n_prompt + c);
    return u;
}

/* Diffusion metrics (GENERATION.md §7) of one request, as the "dgemma" extension object. */
static cJSON *dgemma_json(const oa_req *r, const dg_gen_result *res, int with_ids) {
    cJSON *o = cJSON_CreateObject();
    char seed[24];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)r->job.p.seed);
    cJSON_AddStringToObject(o, "seed", seed);
    cJSON_AddNumberToObject(o, "canvas_length", r->info->canvas_length);
    cJSON_AddNumberToObject(o, "canvases", res->n_canvases);
    cJSON_AddItemToObject(o, "steps_per_canvas", cJSON_CreateIntArray(res->steps, res->n_canvases));
    cJSON_AddNumberToObject(o, "steps", res->n_steps);
    cJSON_AddNumberToObject(o, "early_halts", res->n_early_halt);
    cJSON_AddNumberToObject(o, "prefill_s", res->t_prefill);
    cJSON_AddNumberToObject(o, "ttfc_s", res->t_first_canvas);
    cJSON_AddNumberToObject(o, "total_s", res->t_total);
    cJSON_AddNumberToObject(o, "s_per_step", res->n_steps ? res->t_steps / res->n_steps : 0);
    cJSON_AddNumberToObject(o, "committed_tokens_per_s", res->t_total > 0 ? res->n_emitted / res->t_total : 0);
    cJSON_AddNumberToObject(o, "tokens_per_forward", res->n_steps ? (double)res->n_emitted / res->n_steps : 0);
    if (with_ids) cJSON_AddItemToObject(o, "output_ids", cJSON_CreateIntArray((const int *)r->ids.s, (int)(r->ids.len / 4)));
    return o;
}

/* Tool calls of a chat answer, parsed from the raw decode (specials kept, TOKENIZER.md §7). */
static cJSON *tool_calls(oa_req *r) {
    if (r->kind != OA_CHAT) return NULL;
    char *raw = NULL, *content = NULL, *reasoning = NULL, *cj = NULL;
    size_t len = 0;
    cJSON *calls = NULL;
    if (!dg_detokenize(r->info->tok, (const int32_t *)r->ids.s, r->ids.len / 4, 0, &raw, &len, NULL)) {
        drop_nul(raw, len);
        if (!dg_chat_parse(raw, &content, &reasoning, &cj, NULL) && cj) calls = cJSON_Parse(cj);
    }
    free(raw); free(content); free(reasoning); free(cj);
    if (calls && !cJSON_GetArraySize(calls)) { cJSON_Delete(calls); calls = NULL; }
    return calls;
}

/* The last held text (detokenizer bytes, stop look-behind, undecided channel start). */
static void flush_all(oa_req *r) {
    flush_ids(r, 1);
    content_text(r, "", 0, 1);
    reasoning_text(r, "", 0, 1);
    deliver(r);
}

static const char *finish_reason(const oa_req *r, const dg_gen_result *res, int has_calls) {
    if (r->stopped) return "stop";
    if (res->finish == DG_FINISH_STOP) return has_calls ? "tool_calls" : "stop";
    return "length";
}

/* The job ended (scheduler thread): final stream chunks, or the whole response body. */
static void on_done(job *j, dg_status st, const dg_error *err, const dg_gen_result *res) {
    oa_req *r = (oa_req *)j;
    dg_sb body = {0};
    int status = 200;
    const int ok = res && (st == DG_OK || (st == DG_ERR_CANCELLED && r->stopped));
    if (!ok) {
        const char *msg = err && err->msg[0] ? err->msg : dg_status_name(st);
        if (st == DG_ERR_CANCELLED) { status = 503; oa_error(&body, "server_error", NULL, "cancelled", "%s", msg); }
        else if (st == DG_ERR_RANGE || st == DG_ERR_ARG) { status = 400; oa_error(&body, "invalid_request_error", NULL, NULL, "%s", msg); }
        else { status = 500; oa_error(&body, "server_error", NULL, NULL, "generation failed: %s", msg); }
        if (r->stream) {
            dg_sb e = {0};
            sse_event(&e, NULL, body.s, body.len);
            sse_done(&e);
            body.len = 0;
            dg_sb_put(&body, e.s, e.len);
            dg_sb_free(&e);
        }
    } else if (r->stream) {
        flush_all(r);
        cJSON *calls = tool_calls(r);
        int n_calls = calls ? cJSON_GetArraySize(calls) : 0;
        if (n_calls) {
            int i = 0;
            cJSON *c;
            cJSON_ArrayForEach(c, calls) cJSON_AddNumberToObject(c, "index", i++);
            send_chunk(r, NULL, NULL, calls, NULL, NULL);
        }
        send_chunk(r, NULL, NULL, NULL, finish_reason(r, res, n_calls), dgemma_json(r, res, 0));
        if (r->include_usage) {
            cJSON *o = chunk_new(r);
            cJSON_AddArrayToObject(o, "choices");
            cJSON_AddItemToObject(o, "usage", usage_json(r, res));
            char *s = cJSON_PrintUnformatted(o);
            if (s) sse_event(&body, NULL, s, strlen(s));
            free(s);
            cJSON_Delete(o);
        }
        sse_done(&body);
    } else {
        flush_all(r);
        cJSON *calls = tool_calls(r);
        const char *content = dg_sb_str(&r->acc_content), *reasoning = r->acc_reasoning.s;
        int n_calls = calls ? cJSON_GetArraySize(calls) : 0;
        cJSON *o = cJSON_CreateObject(), *ch, *c = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", r->id);
        cJSON_AddStringToObject(o, "object", r->kind == OA_CHAT ? "chat.completion" : "text_completion");
        cJSON_AddNumberToObject(o, "created", (double)r->created);
        cJSON_AddStringToObject(o, "model", r->model);
        ch = cJSON_AddArrayToObject(o, "choices");
        cJSON_AddItemToArray(ch, c);
        cJSON_AddNumberToObject(c, "index", 0);
        if (r->kind == OA_CHAT) {
            cJSON *m = cJSON_AddObjectToObject(c, "message");
            cJSON_AddStringToObject(m, "role", "assistant");
            if (n_calls && !*content) cJSON_AddNullToObject(m, "content");
            else cJSON_AddStringToObject(m, "content", content);
            if (reasoning && *reasoning) cJSON_AddStringToObject(m, "reasoning_content", reasoning);
            if (n_calls) { cJSON_AddItemToObject(m, "tool_calls", calls); calls = NULL; }
        } else {
            cJSON_AddStringToObject(c, "text", content);
            cJSON_AddNullToObject(c, "logprobs");
        }
        cJSON_AddStringToObject(c, "finish_reason", finish_reason(r, res, n_calls));
        cJSON_AddItemToObject(o, "usage", usage_json(r, res));
        cJSON_AddItemToObject(o, "dgemma", dgemma_json(r, res, 1));
        char *s = cJSON_PrintUnformatted(o);
        if (s) dg_sb_puts(&body, s); else status = 500;
        free(s);
        cJSON_Delete(o);
        cJSON_Delete(calls);
    }
    pthread_mutex_lock(&r->mu);
    if (r->stream) dg_sb_put(&r->out, body.s, body.len);
    else { dg_sb_free(&r->out); r->out = body; body = (dg_sb){0}; }
    if (!dg_sb_ok(&r->out)) status = 500;
    r->status = status;
    r->done = 1;
    pthread_cond_broadcast(&r->cv);
    pthread_mutex_unlock(&r->mu);
    dg_sb_free(&body);
    oa_release(r);      /* the scheduler's reference */
}

static void wait_ms(oa_req *r, int ms) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    pthread_cond_timedwait(&r->cv, &r->mu, &ts);
}

size_t oa_read(oa_req *r, char *dst, size_t max, int ms, int *done) {
    pthread_mutex_lock(&r->mu);
    if (r->sent == r->out.len && !r->done) wait_ms(r, ms);
    size_t n = r->out.len - r->sent;
    if (n > max) n = max;
    if (n) memcpy(dst, r->out.s + r->sent, n);
    r->sent += n;
    if (r->sent == r->out.len && r->sent > (1u << 16)) { dg_sb_consume(&r->out, r->sent); r->sent = 0; }
    *done = r->done && r->sent == r->out.len;
    pthread_mutex_unlock(&r->mu);
    return n;
}

int oa_result(oa_req *r, int ms, const char **body, size_t *len) {
    pthread_mutex_lock(&r->mu);
    if (!r->done) wait_ms(r, ms);
    int st = r->done ? r->status : 0;
    *body = dg_sb_str(&r->out);
    *len = r->out.len;
    pthread_mutex_unlock(&r->mu);
    return st;
}

/* ------------------------------------------------------------------ request parsing */

typedef struct parse {
    const oa_info *info;
    dg_sb *err, *ignored;
    int status;
} parse;

static int bad(parse *ps, const char *param, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(parse *ps, const char *param, const char *fmt, ...) {
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    oa_error(ps->err, "invalid_request_error", param, NULL, "%s", msg);
    ps->status = 400;
    return 0;
}

/* Optional integer field in [lo, hi]: 1 ok (absent leaves *out), 0 on a type/range error. */
static int get_int(parse *ps, const cJSON *o, const char *k, long long lo, long long hi, long long *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble))
        return bad(ps, k, "'%s' must be an integer", k);
    if (v->valuedouble < (double)lo || v->valuedouble > (double)hi)
        return bad(ps, k, "'%s' must be in [%lld, %lld] (got %.17g)", k, lo, hi, v->valuedouble);
    *out = (long long)v->valuedouble;
    return 1;
}

static int get_num(parse *ps, const cJSON *o, const char *k, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) return bad(ps, k, "'%s' must be a number", k);
    *out = v->valuedouble;
    return 1;
}

static int get_bool(parse *ps, const cJSON *o, const char *k, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!v || cJSON_IsNull(v)) return 1;
    if (!cJSON_IsBool(v)) return bad(ps, k, "'%s' must be a boolean", k);
    *out = cJSON_IsTrue(v);
    return 1;
}

static int get_seed(parse *ps, const cJSON *o, uint64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "seed");
    if (!v || cJSON_IsNull(v)) return 1;
    if (cJSON_IsString(v)) {    /* 64-bit seeds do not survive JSON numbers */
        char *end;
        const char *s = v->valuestring;
        unsigned long long x = strtoull(s, &end, 10);
        if (!*s || *end || *s == '-') return bad(ps, "seed", "'seed' must be a non-negative integer");
        *out = x;
        return 1;
    }
    long long x = 0;
    if (!get_int(ps, o, "seed", 0, 9007199254740992LL, &x)) return 0;
    *out = (uint64_t)x;
    return 1;
}

/* Sampling knobs of autoregressive servers: accepted, ignored, and named in a header. */
static void note_ignored(parse *ps, const cJSON *o) {
    static const char *const names[] = {"temperature", "top_p", "top_k", "min_p", "presence_penalty",
                                        "frequency_penalty", "repetition_penalty", "logit_bias", "user",
                                        "parallel_tool_calls", "tool_choice", "store", "metadata", "service_tier",
                                        "typical_p", "best_of"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (cJSON_GetObjectItemCaseSensitive(o, names[i])) {
            if (ps->ignored->len) dg_sb_puts(ps->ignored, ",");
            dg_sb_puts(ps->ignored, names[i]);
        }
}

static int parse_common(parse *ps, const cJSON *o, oa_req *r) {
    dg_gen_params *p = &r->job.p;
    *p = ps->info->defaults;
    long long v;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, "n");
    if (n && !cJSON_IsNull(n) && !(cJSON_IsNumber(n) && n->valuedouble == 1))
        return bad(ps, "n", "'n' must be 1: one choice per request (send several requests; they are batched)");
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(o, "response_format");
    if (rf && !cJSON_IsNull(rf)) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(rf, "type");
        if (!cJSON_IsObject(rf) || !cJSON_IsString(t))
            return bad(ps, "response_format", "'response_format' must be an object with a 'type'");
        if (strcmp(t->valuestring, "text"))
            return bad(ps, "response_format", "response_format type '%s' is not supported: dgemma has no constrained "
                       "decoding for diffusion canvases; use \"text\"", t->valuestring);
    }
    const cJSON *lp = cJSON_GetObjectItemCaseSensitive(o, "logprobs");
    if (lp && !cJSON_IsNull(lp) && !cJSON_IsFalse(lp))
        return bad(ps, "logprobs", "'logprobs' is not supported (diffusion commits whole canvases)");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
    if (model && !cJSON_IsNull(model) && !cJSON_IsString(model)) return bad(ps, "model", "'model' must be a string");
    snprintf(r->model, sizeof r->model, "%s", ps->info->model_id);
    v = -1;
    const long long max_tok = (long long)ps->info->ctx_tokens;
    if (!get_int(ps, o, "max_tokens", 1, max_tok, &v)) return 0;
    if (!get_int(ps, o, "max_completion_tokens", 1, max_tok, &v)) return 0;
    if (v > 0) p->max_new_tokens = (int)v;
    if (!get_seed(ps, o, &p->seed)) return 0;
    v = -1;
    if (!get_int(ps, o, "max_denoising_steps", 1, 100000, &v)) return 0;
    if (v > 0) p->max_denoising_steps = (int)v;
    v = -1;
    if (!get_int(ps, o, "stability_threshold", 0, 100000, &v)) return 0;
    if (v >= 0) p->stability_threshold = (int)v;
    if (!get_num(ps, o, "entropy_bound", &p->entropy_bound) || !get_num(ps, o, "t_min", &p->t_min) ||
        !get_num(ps, o, "t_max", &p->t_max) || !get_num(ps, o, "confidence_threshold", &p->confidence_threshold))
        return 0;
    dg_error e = {0};
    if (dg_gen_params_validate(p, &e)) return bad(ps, NULL, "%s", e.msg);
    if (!get_bool(ps, o, "stream", &r->stream) || !get_bool(ps, o, "stream_canvas", &r->stream_canvas)) return 0;
    if (r->stream_canvas && !r->stream) return bad(ps, "stream_canvas", "'stream_canvas' needs \"stream\": true");
    const cJSON *so = cJSON_GetObjectItemCaseSensitive(o, "stream_options");
    if (so && !cJSON_IsNull(so)) {
        if (!cJSON_IsObject(so)) return bad(ps, "stream_options", "'stream_options' must be an object");
        if (!get_bool(ps, so, "include_usage", &r->include_usage)) return 0;
    }
    const cJSON *stop = cJSON_GetObjectItemCaseSensitive(o, "stop");
    if (stop && !cJSON_IsNull(stop)) {
        const cJSON *s;
        if (cJSON_IsString(stop)) s = stop;
        else if (!cJSON_IsArray(stop) || cJSON_GetArraySize(stop) > MAX_STOP)
            return bad(ps, "stop", "'stop' must be a string or an array of at most %d strings", MAX_STOP);
        else s = stop->child;
        for (; s; s = cJSON_IsString(stop) ? NULL : s->next) {
            if (!cJSON_IsString(s) || !*s->valuestring) return bad(ps, "stop", "'stop' entries must be non-empty strings");
            if (!(r->stop[r->n_stop] = strdup(s->valuestring))) { ps->status = 500; return 0; }
            size_t l = strlen(s->valuestring);
            if (l > r->max_stop) r->max_stop = l;
            r->n_stop++;
        }
    }
    note_ignored(ps, o);
    return 1;
}

static int tokenize(parse *ps, oa_req *r, const char *text, int add_bos) {
    if (!ps->info->tok) return bad(ps, NULL, "this server has no tokenizer: send token ids (see --tokenizer)");
    size_t n = 0;
    dg_error e = {0};
    if (dg_tokenize(ps->info->tok, text, strlen(text), add_bos, &r->prompt, &n, &e)) return bad(ps, NULL, "tokenizer: %s", e.msg);
    if (n > (size_t)ps->info->ctx_tokens) return bad(ps, NULL, "the prompt has %zu tokens; the context holds %d", n, ps->info->ctx_tokens);
    r->job.n_prompt = (int)n;
    return 1;
}

static int chat_prompt(parse *ps, const cJSON *o, oa_req *r) {
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(o, "messages");
    if (!cJSON_IsArray(msgs) || !cJSON_GetArraySize(msgs)) return bad(ps, "messages", "'messages' must be a non-empty array");
    int i = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs) {
        const cJSON *role = cJSON_GetObjectItemCaseSensitive(m, "role"), *c = cJSON_GetObjectItemCaseSensitive(m, "content");
        if (!cJSON_IsObject(m)) return bad(ps, "messages", "messages[%d] must be an object", i);
        if (!cJSON_IsString(role)) return bad(ps, "messages", "messages[%d].role must be a string", i);
        static const char *const roles[] = {"system", "developer", "user", "assistant", "tool"};
        int known = 0;
        for (int k = 0; k < 5; k++) known |= !strcmp(role->valuestring, roles[k]);
        if (!known) return bad(ps, "messages", "messages[%d].role '%.40s' is not one of system, developer, user, assistant, tool", i, role->valuestring);
        if (c && !cJSON_IsNull(c) && !cJSON_IsString(c) && !cJSON_IsArray(c))
            return bad(ps, "messages", "messages[%d].content must be a string, an array of parts or null", i);
        const cJSON *tc = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
        if (tc && !cJSON_IsNull(tc) && !cJSON_IsArray(tc)) return bad(ps, "messages", "messages[%d].tool_calls must be an array", i);
        i++;
    }
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(o, "tools");
    if (tools && !cJSON_IsNull(tools) && !cJSON_IsArray(tools)) return bad(ps, "tools", "'tools' must be an array");
    const cJSON *tch = cJSON_GetObjectItemCaseSensitive(o, "tool_choice");
    int use_tools = tools && cJSON_IsArray(tools) && cJSON_GetArraySize(tools) > 0 &&
                    !(cJSON_IsString(tch) && !strcmp(tch->valuestring, "none"));
    int thinking = 0;
    const cJSON *kw = cJSON_GetObjectItemCaseSensitive(o, "chat_template_kwargs");
    if (kw && !cJSON_IsNull(kw)) {
        if (!cJSON_IsObject(kw)) return bad(ps, "chat_template_kwargs", "'chat_template_kwargs' must be an object");
        if (!get_bool(ps, kw, "enable_thinking", &thinking)) return 0;
    }
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(o, "thinking");
    if (cJSON_IsBool(th)) thinking = cJSON_IsTrue(th);
    else if (cJSON_IsObject(th)) {     /* {"type": "enabled" | "disabled"} */
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(th, "type");
        if (!cJSON_IsString(t)) return bad(ps, "thinking", "'thinking.type' must be \"enabled\" or \"disabled\"");
        thinking = !strcmp(t->valuestring, "enabled");
    } else if (th && !cJSON_IsNull(th)) return bad(ps, "thinking", "'thinking' must be a boolean or {\"type\": ...}");
    char *mj = cJSON_PrintUnformatted(msgs), *tj = use_tools ? cJSON_PrintUnformatted(tools) : NULL, *text = NULL;
    dg_chat_msg *cm = NULL;
    int n = 0, ok = 0;
    dg_error e = {0};
    if (!mj || (use_tools && !tj)) ps->status = 500;
    else if (!ps->info->tok) bad(ps, NULL, "this server has no tokenizer; chat needs one (--tokenizer FILE)");
    else if (dg_chat_msgs_from_json(mj, strlen(mj), &cm, &n, &e)) bad(ps, "messages", "%s", e.msg);
    else if (dg_chat_render(ps->info->tok, cm, n, tj, thinking, 1, &text, &e)) bad(ps, "messages", "%s", e.msg);
    else ok = tokenize(ps, r, text, 0);
    free(mj); free(tj); free(cm); free(text);
    return ok;
}

static int completion_prompt(parse *ps, const cJSON *o, oa_req *r) {
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "prompt");
    if (cJSON_IsArray(p) && cJSON_GetArraySize(p) == 1 && (cJSON_IsString(p->child) || cJSON_IsArray(p->child))) p = p->child;
    if (cJSON_IsString(p)) {
        if (!*p->valuestring) return bad(ps, "prompt", "'prompt' is empty");
        return tokenize(ps, r, p->valuestring, 1);
    }
    if (!cJSON_IsArray(p) || !cJSON_GetArraySize(p))
        return bad(ps, "prompt", "'prompt' must be a string or a non-empty array of token ids (one prompt per request)");
    int n = cJSON_GetArraySize(p);
    if (n > ps->info->ctx_tokens) return bad(ps, "prompt", "the prompt has %d tokens; the context holds %d", n, ps->info->ctx_tokens);
    if (!(r->prompt = malloc((size_t)n * sizeof *r->prompt))) { ps->status = 500; return 0; }
    int i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, p) {
        if (!cJSON_IsNumber(t) || t->valuedouble != floor(t->valuedouble))
            return bad(ps, "prompt", "'prompt' must be a string or an array of integer token ids (one prompt per request)");
        if (t->valuedouble < 0 || t->valuedouble >= ps->info->vocab)
            return bad(ps, "prompt", "prompt token %.0f at index %d is outside the vocabulary [0, %d)", t->valuedouble, i, ps->info->vocab);
        r->prompt[i++] = (int32_t)t->valuedouble;
    }
    r->job.n_prompt = n;
    const cJSON *echo = cJSON_GetObjectItemCaseSensitive(o, "echo");
    if (cJSON_IsTrue(echo)) return bad(ps, "echo", "'echo' is not supported");
    return 1;
}

int oa_parse(const oa_info *info, int kind, const char *body, size_t len, oa_req **out, dg_sb *errbody, dg_sb *ignored) {
    *out = NULL;
    parse ps = {.info = info, .err = errbody, .ignored = ignored, .status = 200};
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!o) {
        oa_error(errbody, "invalid_request_error", NULL, NULL, "the body is not valid JSON (error near byte %zu)",
                 end ? (size_t)(end - body) : (size_t)0);
        return 400;
    }
    if (!cJSON_IsObject(o)) { cJSON_Delete(o); oa_error(errbody, "invalid_request_error", NULL, NULL, "the body must be a JSON object"); return 400; }
    oa_req *r = calloc(1, sizeof *r);
    if (!r) { cJSON_Delete(o); oa_error(errbody, "server_error", NULL, NULL, "out of memory"); return 500; }
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->refs = 1;
    r->info = info;
    r->kind = kind;
    atomic_init(&r->job.cancel, 0);
    int ok = parse_common(&ps, o, r) && (kind == OA_CHAT ? chat_prompt(&ps, o, r) : completion_prompt(&ps, o, r));
    cJSON_Delete(o);
    if (ok) {
        for (int i = 0; i < r->job.n_prompt; i++)
            if (r->prompt[i] >= info->vocab) {
                ok = bad(&ps, NULL, "prompt token %d at index %d is outside the model's vocabulary [0, %d)", r->prompt[i], i, info->vocab);
                break;
            }
        const long long canv = ((long long)r->job.p.max_new_tokens + info->canvas_length - 1) / info->canvas_length;
        const long long need = r->job.n_prompt + canv * info->canvas_length;
        if (ok && need > info->ctx_tokens)
            ok = bad(&ps, "max_tokens", "%d prompt tokens + %lld canvas(es) of %d need %lld positions; the context holds %d",
                     r->job.n_prompt, canv, info->canvas_length, need, info->ctx_tokens);
    }
    if (ok && info->tok && dg_detok_stream_new(info->tok, 1, &r->ds, NULL)) { ps.status = 500; ok = 0; }
    if (ok && !info->tok) ok = bad(&ps, NULL, "this server has no tokenizer (--tokenizer FILE)");
    if (!ok) {
        if (ps.status == 500) oa_error(errbody, "server_error", NULL, NULL, "out of memory");
        req_free(r);
        return ps.status;
    }
    unsigned long long seq = atomic_fetch_add(info->next_id, 1);
    snprintf(r->id, sizeof r->id, "%s-%llx%04llx", kind == OA_CHAT ? "chatcmpl" : "cmpl", (unsigned long long)time(NULL), seq & 0xffff);
    r->created = (long long)time(NULL);
    r->job.prompt = r->prompt;
    r->job.cb.on_canvas = on_canvas;
    r->job.cb.on_step = r->stream_canvas ? on_step : NULL;
    r->job.cb.user = r;
    r->job.on_done = on_done;
    (void)now;
    *out = r;
    return 200;
}
