/* Model output -> visible content, reasoning (the thought channel) and tool calls
 * (TOKENIZER.md §7). Works on the decode with special tokens kept. Tool-call arguments use the
 * template's grammar: <|"|>strings<|"|>, numbers, true/false, {bare_key:value}, [values]. */
#include "text/chat.h"
#include "core/error.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QL 5 /* strlen(Q) */

typedef struct ap { const char *p, *end; int depth; } ap;

static void ws(ap *a) { while (a->p < a->end && strchr(" \t\r\n", *a->p)) a->p++; }

static cJSON *value(ap *a);

/* A key: bare up to ':' or <|"|>quoted<|"|>. */
static char *key(ap *a) {
    ws(a);
    const char *b = a->p, *e;
    if (a->end - a->p >= QL && !memcmp(a->p, Q, QL)) {
        b = a->p + QL;
        e = memmem(b, (size_t)(a->end - b), Q, QL);
        if (!e) return NULL;
        a->p = e + QL;
    } else {
        while (a->p < a->end && *a->p != ':' && *a->p != ',' && *a->p != '}') a->p++;
        e = a->p;
        while (e > b && strchr(" \t\r\n", e[-1])) e--;
    }
    ws(a);
    if (a->p >= a->end || *a->p != ':' || e == b) return NULL;
    a->p++;
    char *k = malloc((size_t)(e - b) + 1);
    if (k) { memcpy(k, b, (size_t)(e - b)); k[e - b] = 0; }
    return k;
}

/* Members up to `close`; the opening bracket is already consumed. */
static cJSON *members(ap *a, char close) {
    cJSON *c = close == '}' ? cJSON_CreateObject() : cJSON_CreateArray();
    ws(a);
    if (a->p < a->end && *a->p == close) { a->p++; return c; }
    for (;;) {
        char *k = NULL;
        if (close == '}' && !(k = key(a))) break;
        cJSON *v = value(a);
        if (!v) { free(k); break; }
        if (k) cJSON_AddItemToObject(c, k, v);
        else cJSON_AddItemToArray(c, v);
        free(k);
        ws(a);
        if (a->p < a->end && *a->p == ',') { a->p++; continue; }
        if (a->p < a->end && *a->p == close) { a->p++; return c; }
        break;
    }
    cJSON_Delete(c);
    return NULL;
}

static cJSON *value(ap *a) {
    ws(a);
    if (a->p >= a->end || ++a->depth > 64) return NULL;
    cJSON *r = NULL;
    if (a->end - a->p >= QL && !memcmp(a->p, Q, QL)) {
        const char *b = a->p + QL, *e = memmem(b, (size_t)(a->end - b), Q, QL);
        if (e) {
            char *s = malloc((size_t)(e - b) + 1);
            if (s) { memcpy(s, b, (size_t)(e - b)); s[e - b] = 0; r = cJSON_CreateString(s); free(s); }
            a->p = e + QL;
        }
    } else if (*a->p == '{') { a->p++; r = members(a, '}'); }
    else if (*a->p == '[') { a->p++; r = members(a, ']'); }
    else {
        /* bare token: number, true, false, null/None, or an unquoted string */
        const char *b = a->p;
        while (a->p < a->end && !strchr(",}]", *a->p)) a->p++;
        const char *e = a->p;
        while (e > b && strchr(" \t\r\n", e[-1])) e--;
        size_t n = (size_t)(e - b);
        char tmp[64];
        char *end;
        if (n == 4 && !memcmp(b, "true", 4)) r = cJSON_CreateTrue();
        else if (n == 5 && !memcmp(b, "false", 5)) r = cJSON_CreateFalse();
        else if ((n == 4 && !memcmp(b, "null", 4)) || (n == 4 && !memcmp(b, "None", 4))) r = cJSON_CreateNull();
        else if (n > 0 && n < sizeof tmp && (memcpy(tmp, b, n), tmp[n] = 0, strtod(tmp, &end), *end == 0)) r = cJSON_CreateNumber(strtod(tmp, NULL));
        else if (n > 0) {
            char *s = malloc(n + 1);
            if (s) { memcpy(s, b, n); s[n] = 0; r = cJSON_CreateString(s); free(s); }
        }
    }
    a->depth--;
    return r;
}

/* "call:NAME{args}" -> an OpenAI tool call object, or NULL if it does not parse. */
static cJSON *parse_call(const char *s, size_t n, int index) {
    if (n < 5 || memcmp(s, "call:", 5)) return NULL;
    const char *b = s + 5, *end = s + n, *br = memchr(b, '{', (size_t)(end - b));
    if (!br) return NULL;
    ap a = {br + 1, end, 0};
    cJSON *args = members(&a, '}');
    if (!args) return NULL;
    char *name = malloc((size_t)(br - b) + 1), id[32];
    if (!name) { cJSON_Delete(args); return NULL; }
    memcpy(name, b, (size_t)(br - b));
    name[br - b] = 0;
    snprintf(id, sizeof id, "call_%d", index);
    char *argstr = cJSON_PrintUnformatted(args);
    cJSON *call = cJSON_CreateObject(), *fn = cJSON_CreateObject();
    cJSON_AddStringToObject(call, "id", id);
    cJSON_AddStringToObject(call, "type", "function");
    cJSON_AddStringToObject(fn, "name", name);
    cJSON_AddStringToObject(fn, "arguments", argstr ? argstr : "{}");
    cJSON_AddItemToObject(call, "function", fn);
    free(argstr);
    free(name);
    cJSON_Delete(args);
    return call;
}

static int putb(js_buf *b, const char *s, size_t n) { return js_buf_put(b, s, n); }

dg_status dg_chat_parse(const char *text, char **content, char **reasoning, char **tool_calls_json, dg_error *err) {
    if (!text || !content || !reasoning || !tool_calls_json) return dg_fail(err, DG_ERR_ARG, "dg_chat_parse: NULL argument");
    *content = *reasoning = *tool_calls_json = NULL;
    js_buf vis = {0}, rsn = {0};
    cJSON *calls = cJSON_CreateArray();
    int ok = calls != NULL, n_calls = 0;
    size_t n = strlen(text);
    /* Generation ends at a stop token; whatever follows is not output. */
    static const char *const stops[] = {"<turn|>", "<eos>", "<|tool_response>"};
    for (int k = 0; k < 3; k++) { const char *s = strstr(text, stops[k]); if (s && (size_t)(s - text) < n) n = (size_t)(s - text); }
    const char *p = text, *end = text + n;
    while (ok && p < end) {
        const char *ch = memmem(p, (size_t)(end - p), "<|channel>", 10), *tc = memmem(p, (size_t)(end - p), "<|tool_call>", 12);
        const char *next = ch && (!tc || ch < tc) ? ch : tc;
        if (!next) { ok = putb(&vis, p, (size_t)(end - p)); break; }
        ok = putb(&vis, p, (size_t)(next - p));
        if (next == ch) {
            const char *b = ch + 10, *e = memmem(b, (size_t)(end - b), "<channel|>", 10);
            if (end - b >= 8 && !memcmp(b, "thought\n", 8)) b += 8;
            const char *stop = e ? e : end; /* an unclosed channel: the rest is reasoning */
            if (rsn.n) ok = ok && putb(&rsn, "\n", 1);
            ok = ok && putb(&rsn, b, (size_t)(stop - b));
            p = e ? e + 10 : end;
        } else {
            const char *b = tc + 12, *e = memmem(b, (size_t)(end - b), "<tool_call|>", 12);
            const char *stop = e ? e : end;
            cJSON *call = parse_call(b, (size_t)(stop - b), n_calls);
            if (call) { cJSON_AddItemToArray(calls, call); n_calls++; }
            else ok = putb(&vis, tc, (size_t)(stop - tc)); /* not a call after all: keep the text */
            p = e ? e + 12 : end;
        }
    }
    /* pads and any other stray specials of the channel/tool syntax are not content */
    if (ok) {
        size_t b, e;
        js_buf clean = {0};
        const char *s = vis.d ? vis.d : "";
        size_t sl = vis.n;
        for (size_t i = 0; ok && i < sl;) {
            if (!strncmp(s + i, "<pad>", 5)) { i += 5; continue; }
            if (!strncmp(s + i, "<channel|>", 10)) { i += 10; continue; }
            if (!strncmp(s + i, "<tool_call|>", 12)) { i += 12; continue; }
            ok = putb(&clean, s + i, 1);
            i++;
        }
        const char *c = clean.d ? clean.d : "";
        dg_chat_trim(c, clean.n, &b, &e);
        *content = malloc(e - b + 1);
        if (*content) { memcpy(*content, c + b, e - b); (*content)[e - b] = 0; }
        free(clean.d);
        const char *r = rsn.d ? rsn.d : "";
        dg_chat_trim(r, rsn.n, &b, &e);
        *reasoning = malloc(e - b + 1);
        if (*reasoning) { memcpy(*reasoning, r + b, e - b); (*reasoning)[e - b] = 0; }
        if (n_calls) *tool_calls_json = cJSON_PrintUnformatted(calls);
        ok = *content && *reasoning && (!n_calls || *tool_calls_json);
    }
    free(vis.d);
    free(rsn.d);
    cJSON_Delete(calls);
    if (!ok) {
        free(*content); free(*reasoning); free(*tool_calls_json);
        *content = *reasoning = *tool_calls_json = NULL;
        return dg_fail(err, DG_ERR_NOMEM, "dg_chat_parse: out of memory");
    }
    return DG_OK;
}
