/* The Gemma 4 / DiffusionGemma chat template (TOKENIZER.md §6), rendered directly in C: the rules
 * of the large-model Jinja template, including the pre-closed empty thought channel when thinking
 * is off. Tools, tool calls and arguments are JSON (cJSON); formatting follows the template's fmt. */
#include "text/chat.h"
#include "core/error.h"
#include "text/utf8.h"
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct out { js_buf b; int nomem; } out;

static void put(out *o, const char *s, size_t n) { if (!o->nomem && !js_buf_put(&o->b, s, n)) o->nomem = 1; }
static void puts_(out *o, const char *s) { put(o, s, strlen(s)); }

static int is_space_cp(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

void dg_chat_trim(const char *s, size_t n, size_t *b, size_t *e) {
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, j = n;
    while (i < n) {
        int l = dg_utf8_seq_len(u + i, n - i);
        if (!l || !is_space_cp(dg_utf8_decode(u + i, l))) break;
        i += (size_t)l;
    }
    while (j > i) {
        size_t k = j - 1;
        while (k > i && (u[k] & 0xC0) == 0x80) k--;
        int l = dg_utf8_seq_len(u + k, j - k);
        if (l != (int)(j - k) || !is_space_cp(dg_utf8_decode(u + k, l))) break;
        j = k;
    }
    *b = i;
    *e = j;
}

static void put_trim(out *o, const char *s) {
    size_t b, e;
    dg_chat_trim(s, strlen(s), &b, &e);
    put(o, s + b, e - b);
}

/* strip_thinking: drop <|channel>...<channel|> parts, then trim. */
static void put_strip_thinking(out *o, const char *s) {
    js_buf tmp = {0};
    const char *p = s;
    for (;;) {
        const char *end = strstr(p, "<channel|>");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *open = memmem(p, n, "<|channel>", 10);
        if (!js_buf_put(&tmp, p, open ? (size_t)(open - p) : n)) o->nomem = 1;
        if (!end) break;
        p = end + 10;
    }
    if (tmp.d) put_trim(o, tmp.d);
    free(tmp.d);
}

static int cmp_keys(const void *a, const void *b) {
    return strcmp((*(cJSON *const *)a)->string, (*(cJSON *const *)b)->string);
}

/* Children of an object sorted by key (caller frees). */
static cJSON **sorted_children(const cJSON *obj, int *n) {
    int k = cJSON_GetArraySize(obj), i = 0;
    cJSON **v = malloc((size_t)(k ? k : 1) * sizeof *v);
    if (!v) return NULL;
    for (cJSON *c = obj->child; c; c = c->next) v[i++] = c;
    qsort(v, (size_t)k, sizeof *v, cmp_keys);
    *n = k;
    return v;
}

static void put_number(out *o, double d) {
    char tmp[64];
    if (d == floor(d) && fabs(d) < 1e15) snprintf(tmp, sizeof tmp, "%.0f", d);
    else {
        /* shortest form that reads back the same, like Python's repr */
        for (int p = 1; p <= 17; p++) {
            snprintf(tmp, sizeof tmp, "%.*g", p, d);
            if (strtod(tmp, NULL) == d) break;
        }
    }
    puts_(o, tmp);
}

/* fmt(v): the template's argument formatting; quote_keys wraps mapping keys in <|"|>. */
static void fmt(out *o, const cJSON *v, int quote_keys) {
    if (cJSON_IsString(v)) { puts_(o, Q); puts_(o, v->valuestring); puts_(o, Q); }
    else if (cJSON_IsBool(v)) puts_(o, cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNumber(v)) put_number(o, v->valuedouble);
    else if (cJSON_IsNull(v)) puts_(o, "None");
    else if (cJSON_IsArray(v)) {
        puts_(o, "[");
        for (const cJSON *c = v->child; c; c = c->next) { fmt(o, c, quote_keys); if (c->next) puts_(o, ","); }
        puts_(o, "]");
    } else if (cJSON_IsObject(v)) {
        int n;
        cJSON **kids = sorted_children(v, &n);
        if (!kids) { o->nomem = 1; return; }
        puts_(o, "{");
        for (int i = 0; i < n; i++) {
            if (i) puts_(o, ",");
            if (quote_keys) { puts_(o, Q); puts_(o, kids[i]->string); puts_(o, Q); }
            else puts_(o, kids[i]->string);
            puts_(o, ":");
            fmt(o, kids[i], quote_keys);
        }
        puts_(o, "}");
        free(kids);
    }
}

static const char *str_item(const cJSON *o, const char *k) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void put_upper(out *o, const char *s) {
    for (; *s; s++) { char c = (*s >= 'a' && *s <= 'z') ? (char)(*s - 32) : *s; put(o, &c, 1); }
}

static void put_schema_body(out *o, const cJSON *schema);

/* properties:{name:{...},...} sorted by name */
static void put_properties(out *o, const cJSON *props) {
    int n;
    cJSON **kids = sorted_children(props, &n);
    if (!kids) { o->nomem = 1; return; }
    for (int i = 0; i < n; i++) {
        if (i) puts_(o, ",");
        puts_(o, kids[i]->string);
        puts_(o, ":{");
        put_schema_body(o, kids[i]);
        puts_(o, "}");
    }
    free(kids);
}

static void put_required(out *o, const cJSON *req) {
    puts_(o, "required:[");
    for (const cJSON *c = req->child; c; c = c->next) {
        if (cJSON_IsString(c)) { puts_(o, Q); puts_(o, c->valuestring); puts_(o, Q); }
        if (c->next) puts_(o, ",");
    }
    puts_(o, "]");
}

/* One property schema: description, enum, items, nullable, properties, required, type. */
static void put_schema_body(out *o, const cJSON *s) {
    int first = 1;
#define SEP() do { if (!first) puts_(o, ","); first = 0; } while (0)
    const char *desc = str_item(s, "description"), *type = str_item(s, "type");
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(s, "enum"), *items = cJSON_GetObjectItemCaseSensitive(s, "items"),
                *props = cJSON_GetObjectItemCaseSensitive(s, "properties"), *req = cJSON_GetObjectItemCaseSensitive(s, "required"),
                *nullable = cJSON_GetObjectItemCaseSensitive(s, "nullable");
    if (desc) { SEP(); puts_(o, "description:" Q); puts_(o, desc); puts_(o, Q); }
    if (cJSON_IsArray(en)) { SEP(); puts_(o, "enum:"); fmt(o, en, 1); }
    if (cJSON_IsObject(items)) { SEP(); puts_(o, "items:{"); put_schema_body(o, items); puts_(o, "}"); }
    if (cJSON_IsTrue(nullable)) { SEP(); puts_(o, "nullable:true"); }
    if (cJSON_IsObject(props) && props->child) { SEP(); puts_(o, "properties:{"); put_properties(o, props); puts_(o, "}"); }
    if (cJSON_IsArray(req) && req->child) { SEP(); put_required(o, req); }
    if (type) { SEP(); puts_(o, "type:" Q); put_upper(o, type); puts_(o, Q); }
#undef SEP
}

/* <|tool>declaration:NAME{description:...,parameters:{...}}<tool|> */
static void put_tool(out *o, const cJSON *tool) {
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tool, "function");
    if (!cJSON_IsObject(fn)) fn = tool; /* a bare function declaration */
    const char *name = str_item(fn, "name"), *desc = str_item(fn, "description");
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(fn, "parameters"), *resp = cJSON_GetObjectItemCaseSensitive(fn, "response");
    puts_(o, "<|tool>declaration:");
    puts_(o, name ? name : "");
    puts_(o, "{description:" Q);
    if (desc) put_trim(o, desc);
    puts_(o, Q);
    if (cJSON_IsObject(params)) {
        const cJSON *props = cJSON_GetObjectItemCaseSensitive(params, "properties"), *req = cJSON_GetObjectItemCaseSensitive(params, "required");
        const char *type = str_item(params, "type");
        puts_(o, ",parameters:{");
        if (cJSON_IsObject(props) && props->child) { puts_(o, "properties:{"); put_properties(o, props); puts_(o, "},"); }
        if (cJSON_IsArray(req) && req->child) { put_required(o, req); puts_(o, ","); }
        if (type) { puts_(o, "type:" Q); put_upper(o, type); puts_(o, Q); }
        else if (o->b.n && o->b.d[o->b.n - 1] == ',') o->b.n--; /* no trailing comma */
        puts_(o, "}");
    }
    if (cJSON_IsObject(resp)) {
        const char *rd = str_item(resp, "description"), *rt = str_item(resp, "type");
        puts_(o, ",response:{");
        if (rd) { puts_(o, "description:" Q); puts_(o, rd); puts_(o, Q); if (rt) puts_(o, ","); }
        if (rt) { puts_(o, "type:" Q); put_upper(o, rt); puts_(o, Q); }
        puts_(o, "}");
    }
    puts_(o, "}<tool|>");
}

/* Arguments: a mapping renders as sorted key:fmt(value); a string holding a JSON object (the
 * OpenAI wire form) is treated as that mapping; any other string is inserted verbatim. */
static void put_arguments(out *o, const cJSON *args) {
    cJSON *parsed = NULL;
    if (cJSON_IsString(args)) {
        parsed = cJSON_Parse(args->valuestring);
        if (!cJSON_IsObject(parsed)) { cJSON_Delete(parsed); puts_(o, args->valuestring); return; }
        args = parsed;
    }
    if (cJSON_IsObject(args)) {
        int n;
        cJSON **kids = sorted_children(args, &n);
        if (!kids) o->nomem = 1;
        for (int i = 0; kids && i < n; i++) {
            if (i) puts_(o, ",");
            puts_(o, kids[i]->string);
            puts_(o, ":");
            fmt(o, kids[i], 0);
        }
        free(kids);
    }
    cJSON_Delete(parsed);
}

/* Text of a content-parts array; media parts become their placeholders (or are collected in
 * media when it is non-NULL, for tool results). sep_space: the system turn's "part + space". */
static void put_parts(out *o, const cJSON *parts, int model, int sep_space, js_buf *media) {
    for (const cJSON *p = parts->child; p; p = p->next) {
        const char *type = str_item(p, "type");
        if (cJSON_IsString(p)) type = "string";
        if (!type) continue;
        const char *ph = !strcmp(type, "image") || !strcmp(type, "image_url") ? "<|image|>"
                       : !strcmp(type, "audio") || !strcmp(type, "input_audio") ? "<|audio|>"
                       : !strcmp(type, "video") ? "<|video|>" : NULL;
        if (ph) {
            if (media) js_buf_put(media, ph, strlen(ph));
            else puts_(o, ph);
            continue;
        }
        const char *text = cJSON_IsString(p) ? p->valuestring : str_item(p, "text");
        if (!text) continue;
        if (model) put_strip_thinking(o, text);
        else put_trim(o, text);
        if (sep_space) puts_(o, " ");
    }
}

static int role_is(const dg_chat_msg *m, const char *r) { return m->role && !strcmp(m->role, r); }
static int has_text(const char *s) { return s && *s; }

static dg_status render(out *o, const dg_chat_msg *msgs, int n, const cJSON *tools, int thinking, int gen, dg_error *err) {
    puts_(o, "<bos>");
    int start = 0, n_tools = cJSON_IsArray(tools) ? cJSON_GetArraySize(tools) : 0;
    int first_sys = n > 0 && (role_is(&msgs[0], "system") || role_is(&msgs[0], "developer"));
    if (thinking || n_tools > 0 || first_sys) {
        puts_(o, "<|turn>system\n");
        if (thinking) puts_(o, "<|think|>\n");
        if (first_sys) {
            if (msgs[0].content) put_trim(o, msgs[0].content);
            else if (msgs[0].content_parts_json) {
                cJSON *parts = cJSON_Parse(msgs[0].content_parts_json);
                if (!cJSON_IsArray(parts)) { cJSON_Delete(parts); return dg_fail(err, DG_ERR_FORMAT, "message 0: content parts are not a JSON array"); }
                put_parts(o, parts, 0, 1, NULL);
                cJSON_Delete(parts);
            }
            start = 1;
        }
        for (const cJSON *t = n_tools ? tools->child : NULL; t; t = t->next) put_tool(o, t);
        puts_(o, "<turn|>\n");
    }
    int last_user = -1;
    for (int i = 0; i < n; i++) if (role_is(&msgs[i], "user")) last_user = i;
    int prev_assistant = 0, open_end = 0;
    for (int i = start; i < n; i++) {
        const dg_chat_msg *m = &msgs[i];
        if (!m->role) return dg_fail(err, DG_ERR_ARG, "message %d has no role", i);
        if (role_is(m, "tool")) continue;
        int model = role_is(m, "assistant") || role_is(m, "model");
        if (!(model && prev_assistant)) { puts_(o, "<|turn>"); puts_(o, model ? "model" : m->role); puts_(o, "\n"); }
        cJSON *calls = NULL;
        if (m->tool_calls_json) {
            calls = cJSON_Parse(m->tool_calls_json);
            if (!cJSON_IsArray(calls)) { cJSON_Delete(calls); return dg_fail(err, DG_ERR_FORMAT, "message %d: tool_calls is not a JSON array", i); }
        }
        int n_calls = calls ? cJSON_GetArraySize(calls) : 0;
        if (model && has_text(m->reasoning) && i > last_user && n_calls > 0) {
            puts_(o, "<|channel>thought\n");
            puts_(o, m->reasoning);
            puts_(o, "\n<channel|>");
        }
        for (const cJSON *c = n_calls ? calls->child : NULL; c; c = c->next) {
            const cJSON *fn = cJSON_GetObjectItemCaseSensitive(c, "function");
            if (!cJSON_IsObject(fn)) fn = c;
            const char *name = str_item(fn, "name");
            puts_(o, "<|tool_call>call:");
            puts_(o, name ? name : "");
            puts_(o, "{");
            put_arguments(o, cJSON_GetObjectItemCaseSensitive(fn, "arguments"));
            puts_(o, "}<tool_call|>");
        }
        int n_resp = 0;
        for (int j = i + 1; n_calls > 0 && j < n && role_is(&msgs[j], "tool"); j++, n_resp++) {
            const dg_chat_msg *r = &msgs[j];
            const char *name = NULL;
            for (const cJSON *c = calls->child; c && r->tool_call_id; c = c->next) {
                const char *id = str_item(c, "id");
                const cJSON *fn = cJSON_GetObjectItemCaseSensitive(c, "function");
                if (id && !strcmp(id, r->tool_call_id)) name = str_item(cJSON_IsObject(fn) ? fn : c, "name");
            }
            if (!name) name = r->name ? r->name : "unknown";
            puts_(o, "<|tool_response>response:");
            puts_(o, name);
            puts_(o, "{value:");
            js_buf media = {0};
            if (r->content) { puts_(o, Q); puts_(o, r->content); puts_(o, Q); }
            else if (r->content_parts_json) {
                cJSON *parts = cJSON_Parse(r->content_parts_json);
                if (!cJSON_IsArray(parts)) { cJSON_Delete(parts); cJSON_Delete(calls); return dg_fail(err, DG_ERR_FORMAT, "message %d: content parts are not a JSON array", j); }
                out txt = {{0}, 0};
                put_parts(&txt, parts, 0, 0, &media);
                puts_(o, Q);
                if (txt.b.d) put(o, txt.b.d, txt.b.n);
                puts_(o, Q);
                free(txt.b.d);
                cJSON_Delete(parts);
            } else puts_(o, Q Q);
            puts_(o, "}<tool_response|>");
            if (media.d) put(o, media.d, media.n);
            free(media.d);
        }
        cJSON_Delete(calls);
        size_t before = o->b.n;
        if (m->content) { if (model) put_strip_thinking(o, m->content); else put_trim(o, m->content); }
        else if (m->content_parts_json) {
            cJSON *parts = cJSON_Parse(m->content_parts_json);
            if (!cJSON_IsArray(parts)) { cJSON_Delete(parts); return dg_fail(err, DG_ERR_FORMAT, "message %d: content parts are not a JSON array", i); }
            put_parts(o, parts, model, 0, NULL);
            cJSON_Delete(parts);
        }
        int empty = o->b.n == before;
        if (n_calls > 0 && n_resp == 0) { puts_(o, "<|tool_response>"); open_end = 1; }
        else if (n_resp > 0 && empty) open_end = 1;
        else { puts_(o, "<turn|>\n"); open_end = 0; }
        prev_assistant = model;
    }
    if (gen && !open_end) {
        puts_(o, "<|turn>model\n");
        if (!thinking) puts_(o, "<|channel>thought\n<channel|>");
    }
    return DG_OK;
}

dg_status dg_chat_render(const dg_tokenizer *t, const dg_chat_msg *msgs, int n_msgs, const char *tools_json,
                         int enable_thinking, int add_generation_prompt, char **outp, dg_error *err) {
    (void)t;
    if (!outp || (n_msgs > 0 && !msgs) || n_msgs < 0) return dg_fail(err, DG_ERR_ARG, "dg_chat_render: bad arguments");
    *outp = NULL;
    cJSON *tools = NULL;
    if (tools_json && *tools_json) {
        tools = cJSON_Parse(tools_json);
        if (!cJSON_IsArray(tools)) {
            cJSON_Delete(tools);
            return dg_fail(err, DG_ERR_FORMAT, "tools: not a JSON array");
        }
    }
    out o = {{0}, 0};
    dg_status st = render(&o, msgs, n_msgs, tools, enable_thinking, add_generation_prompt, err);
    cJSON_Delete(tools);
    if (!st && (o.nomem || !js_buf_reserve(&o.b, 0))) st = dg_fail(err, DG_ERR_NOMEM, "dg_chat_render: out of memory");
    if (st) { free(o.b.d); return st; }
    o.b.d[o.b.n] = 0;
    *outp = o.b.d;
    return DG_OK;
}
