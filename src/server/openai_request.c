/* The request half of the OpenAI mapping: a body is validated field by field and becomes an
 * oa_req (prompt ids, generation params, output options) carrying a scheduler job. */
#include "server/openai_int.h"
#include "core/error.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ request parsing */

typedef struct parse {
    const oa_info *info;
    dg_sb *err, *ignored;
    int status;
} parse;

static int vfail(parse *ps, int status, const char *param, const char *code, const char *fmt, va_list ap) {
    char msg[900];
    vsnprintf(msg, sizeof msg, fmt, ap);
    oa_error(ps->err, "invalid_request_error", param, code, "%s", msg);
    ps->status = status;
    return 0;
}

static int bad(parse *ps, const char *param, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(parse *ps, const char *param, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(ps, 400, param, NULL, fmt, ap);
    va_end(ap);
    return 0;
}

/* The prompt (and the canvases asked for) do not fit the context: OpenAI's error code. */
static int too_long(parse *ps, const char *param, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int too_long(parse *ps, const char *param, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfail(ps, 400, param, "context_length_exceeded", fmt, ap);
    va_end(ap);
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

/* Seeds are 64-bit: as a JSON number only up to 2^53 - 1 (a double holds no more exactly: a
 * larger one would be silently rounded), beyond that as a string of decimal digits. */
static int get_seed(parse *ps, const cJSON *o, uint64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "seed");
    if (!v || cJSON_IsNull(v)) return 1;
    if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        size_t n = strspn(s, "0123456789");
        if (!n || s[n]) return bad(ps, "seed", "'seed' as a string must be decimal digits only (got '%.40s')", s);
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (errno == ERANGE) return bad(ps, "seed", "'seed' must be below 2^64 (got '%.40s')", s);
        *out = x;
        return 1;
    }
    long long x = 0;
    if (!get_int(ps, o, "seed", 0, (1LL << 53) - 1, &x)) return 0;
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
            return bad(ps, "response_format", "response_format type '%.40s' is not supported: dgemma has no constrained "
                       "decoding for diffusion canvases; use \"text\"", t->valuestring);
    }
    const cJSON *lp = cJSON_GetObjectItemCaseSensitive(o, "logprobs");
    if (lp && !cJSON_IsNull(lp) && !cJSON_IsFalse(lp))
        return bad(ps, "logprobs", "'logprobs' is not supported (diffusion commits whole canvases)");
    const cJSON *model = cJSON_GetObjectItemCaseSensitive(o, "model");
    if (model && !cJSON_IsNull(model) && !cJSON_IsString(model)) return bad(ps, "model", "'model' must be a string");
    if (cJSON_IsString(model) && strcmp(model->valuestring, ps->info->model_id)) {
        oa_error(ps->err, "invalid_request_error", "model", "model_not_found", "The model '%.100s' does not exist (this server has '%s')",
                 model->valuestring, ps->info->model_id);
        ps->status = 404;
        return 0;
    }
    snprintf(r->model, sizeof r->model, "%s", ps->info->model_id);
    v = -1;
    const long long max_tok = (long long)ps->info->ctx_tokens;
    if (!get_int(ps, o, "max_tokens", 1, max_tok, &v)) return 0;
    if (!get_int(ps, o, "max_completion_tokens", 1, max_tok, &v)) return 0;
    if (v > 0) p->max_new_tokens = (int)v;
    if (!get_seed(ps, o, &p->seed)) return 0;
    v = -1;
    if (!get_int(ps, o, "max_denoising_steps", 1, ps->info->max_steps, &v)) return 0;
    if (v > 0) p->max_denoising_steps = (int)v;
    else if (p->max_denoising_steps > ps->info->max_steps) p->max_denoising_steps = ps->info->max_steps;
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
    size_t n = 0, len = strlen(text);
    dg_error e = {0};
    /* no token covers more text than the longest piece: a text longer than that many bytes per
     * context position cannot fit, and is refused before it costs a tokenization */
    const size_t per = ps->info->max_piece_bytes;
    if (per && len > per * (size_t)ps->info->ctx_tokens)
        return too_long(ps, NULL, "the prompt (%zu bytes) cannot fit: it has at least %zu tokens; the context holds %d",
                        len, (len + per - 1) / per, ps->info->ctx_tokens);
    if (dg_tokenize(ps->info->tok, text, len, add_bos, &r->prompt, &n, &e)) return bad(ps, NULL, "tokenizer: %s", e.msg);
    if (n > (size_t)ps->info->ctx_tokens) return too_long(ps, NULL, "the prompt has %zu tokens; the context holds %d", n, ps->info->ctx_tokens);
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
        int k = 0;
        const cJSON *part;
        for (part = cJSON_IsArray(c) ? c->child : NULL; part; part = part->next) {
            const cJSON *ty = cJSON_GetObjectItemCaseSensitive(part, "type");
            if (!cJSON_IsString(ty)) return bad(ps, "messages", "messages[%d].content[%d] must be an object with a 'type'", i, k);
            if (strcmp(ty->valuestring, "text"))
                return bad(ps, "messages", "messages[%d].content[%d] is a '%.40s' part: this model reads text only", i, k, ty->valuestring);
            k++;
        }
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
    if (n > ps->info->ctx_tokens) return too_long(ps, "prompt", "the prompt has %d tokens; the context holds %d", n, ps->info->ctx_tokens);
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
    /* Strict JSON: a raw NUL is never valid (cJSON would cut a key or string at it), and
     * nothing but whitespace may follow the value. */
    const char *nul = memchr(body, 0, len), *end = NULL;
    if (nul) {
        oa_error(errbody, "invalid_request_error", NULL, NULL, "the body is not valid JSON (a NUL byte at byte %zu)", (size_t)(nul - body));
        return 400;
    }
    cJSON *o = cJSON_ParseWithLengthOpts(body, len, &end, 0);
    if (!o) {
        oa_error(errbody, "invalid_request_error", NULL, NULL, "the body is not valid JSON (error near byte %zu)",
                 end ? (size_t)(end - body) : (size_t)0);
        return 400;
    }
    while (end < body + len && strchr(" \t\r\n", *end)) end++;
    if (end != body + len) {
        cJSON_Delete(o);
        oa_error(errbody, "invalid_request_error", NULL, NULL, "the body is not valid JSON (bytes after the value at byte %zu)",
                 (size_t)(end - body));
        return 400;
    }
    if (!cJSON_IsObject(o)) { cJSON_Delete(o); oa_error(errbody, "invalid_request_error", NULL, NULL, "the body must be a JSON object"); return 400; }
    oa_req *r = oa_req_alloc(info, kind);
    if (!r) { cJSON_Delete(o); oa_error(errbody, "server_error", NULL, NULL, "out of memory"); return 500; }
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
        if (ok && canv > info->max_canvases)
            ok = bad(&ps, "max_tokens", "max_tokens %d needs %lld canvases of %d; this server denoises at most %d per request",
                     r->job.p.max_new_tokens, canv, info->canvas_length, info->max_canvases);
        if (ok && need > info->ctx_tokens)
            ok = too_long(&ps, "max_tokens", "%d prompt tokens + %lld canvas(es) of %d need %lld positions; the context holds %d",
                     r->job.n_prompt, canv, info->canvas_length, need, info->ctx_tokens);
    }
    if (ok && !info->tok) ok = bad(&ps, NULL, "this server has no tokenizer (--tokenizer FILE)");
    if (ok && !oa_req_arm(r)) { ps.status = 500; ok = 0; }
    if (!ok) {
        if (ps.status == 500) oa_error(errbody, "server_error", NULL, NULL, "out of memory");
        oa_req_free(r);
        return ps.status;
    }
    *out = r;
    return 200;
}
