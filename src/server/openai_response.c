/* The response half of the OpenAI mapping: the job's callbacks (scheduler thread) turn
 * committed canvases into content / reasoning deltas (through the channel splitter), stop
 * strings, SSE chunks or, at the end, the whole body; the HTTP side reads it under r->mu. */
#include "server/openai_int.h"
#include "server/sse.h"
#include "core/error.h"
#include "text/utf8.h"
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void oa_error(dg_sb *out, const char *type, const char *param, const char *code, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* a %.40s of a client's string or the size limit may cut a UTF-8 sequence; JSON needs whole ones */
    dg_utf8_scrub(msg, strlen(msg));
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

oa_req *oa_req_alloc(const oa_info *info, int kind) {
    oa_req *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    r->refs = 1;
    r->info = info;
    r->kind = kind;
    r->strip_thought = 1;
    atomic_init(&r->job.cancel, 0);
    return r;
}

void oa_req_free(oa_req *r) {
    for (int i = 0; i < r->n_stop; i++) free(r->stop[i]);
    free(r->prompt);
    dg_channel_split_free(r->split);
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
    if (last) oa_req_free(r);
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

/* Reasoning text: drop the "thought\n" that opens each thinking span. */
static void reasoning_text(oa_req *r, const char *t, size_t n, int end) {
    static const char lead[] = "thought\n";
    if (!r->strip_thought) dg_sb_put(&r->d_reasoning, t, n);
    else {
        dg_sb_put(&r->thought, t, n);
        const size_t l = r->thought.len, k = sizeof lead - 1;
        if (dg_sb_ok(&r->thought) && !(l < k && !memcmp(r->thought.s, lead, l) && !end)) {   /* decided */
            const size_t skip = l >= k && !memcmp(r->thought.s, lead, k) ? k : 0;
            dg_sb_put(&r->d_reasoning, r->thought.s + skip, l - skip);
            dg_sb_consume(&r->thought, l);
            r->strip_thought = 0;
        }
    }
    if (end) r->strip_thought = 1;      /* a later thinking span has its own lead */
}

/* NUL bytes (a byte-fallback token) cannot travel through C strings and cJSON: drop them, in
 * the stream and in the final text alike. */
static size_t drop_nul(char *t, size_t n) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) if (t[i]) t[o++] = t[i];
    if (t) t[o] = 0;
    return o;
}

/* Splitter output by channel; tool-call text is parsed from the whole output at the end. */
static void route(void *user, dg_channel ch, char *t, size_t n, int end) {
    oa_req *r = user;
    n = drop_nul(t, n);
    if (ch == DG_CHANNEL_CONTENT) content_text(r, t, n, end);
    else if (ch == DG_CHANNEL_REASONING) reasoning_text(r, t, n, end);
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
    dg_channel_split_push(r->split, ids, (size_t)n_emit, route, r, NULL);
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
    /* ids unique across a conversation: a later answer's call_0 must not match an earlier one */
    int i = 0;
    cJSON *c;
    cJSON_ArrayForEach(c, calls) {
        char id[80];
        snprintf(id, sizeof id, "call_%s_%d", strchr(r->id, '-') + 1, i++);
        cJSON_ReplaceItemInObjectCaseSensitive(c, "id", cJSON_CreateString(id));
    }
    return calls;
}

/* The last held text (detokenizer bytes, stop look-behind, undecided channel start). */
static void flush_all(oa_req *r) {
    dg_channel_split_end(r->split, route, r, NULL);
    deliver(r);
}

static const char *finish_reason(const oa_req *r, const dg_gen_result *res, int has_calls) {
    if (r->stopped) return "stop";
    if (res->finish == DG_FINISH_CANCELLED) return r->job.hit_deadline ? "length" : "cancelled";
    if (res->finish == DG_FINISH_STOP) return has_calls ? "tool_calls" : "stop";
    return "length";
}

/* The job ended (scheduler thread): final stream chunks, or the whole response body. */
static void on_done(job *j, dg_status st, const dg_error *err, const dg_gen_result *res) {
    oa_req *r = (oa_req *)j;
    dg_sb body = {0};
    int status = 200;
    /* a job cut short once started (stop string, deadline, shutdown) answers with what it
     * committed; one that never started has no answer */
    const int ok = res && (st == DG_OK || st == DG_ERR_CANCELLED);
    const char *finish = "error";
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
        finish = finish_reason(r, res, n_calls);
        send_chunk(r, NULL, NULL, NULL, finish, dgemma_json(r, res, 0));
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
        finish = finish_reason(r, res, n_calls);
        cJSON_AddStringToObject(c, "finish_reason", finish);
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
    r->stats = (oa_stats){.prompt_tokens = r->job.n_prompt, .completion_tokens = res ? res->n_emitted : 0,
                          .canvases = res ? res->n_canvases : 0, .steps = res ? res->n_steps : 0, .finish = finish};
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

void oa_get_stats(oa_req *r, oa_stats *out) {
    pthread_mutex_lock(&r->mu);
    *out = r->stats;
    pthread_mutex_unlock(&r->mu);
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
int oa_req_arm(oa_req *r) {
    const oa_info *info = r->info;
    if (dg_channel_split_new(info->tok, r->kind == OA_CHAT, &r->split, NULL)) return 0;
    unsigned long long seq = atomic_fetch_add(info->next_id, 1);
    snprintf(r->id, sizeof r->id, "%s-%llx%04llx", r->kind == OA_CHAT ? "chatcmpl" : "cmpl", (unsigned long long)time(NULL), seq & 0xffff);
    r->created = (long long)time(NULL);
    r->job.prompt = r->prompt;
    r->job.timeout_s = info->timeout_s;
    r->job.cb.on_canvas = on_canvas;
    r->job.cb.on_step = r->stream_canvas ? on_step : NULL;
    r->job.cb.user = r;
    r->job.on_done = on_done;
    return 1;
}
