/* The OpenAI mapping (src/server/openai.c) without HTTP or a model: requests are parsed, then
 * the job's callbacks are fed canvases of real token ids (as the scheduler would) and the
 * stream / body checked: thinking -> reasoning_content, tool calls in OpenAI shape, stop strings
 * across canvas boundaries, UTF-8 never split, stream deltas == non-stream answer, and 400s in
 * OpenAI's error shape. Needs the tokenizer fixture (skips without it). */
#include "t.h"
#include "tok_fixture.h"
#include "server/openai.h"
#include "core/error.h"
#include "text/utf8.h"
#include <cjson/cJSON.h>
#include <string.h>

static dg_tokenizer *tok;
static atomic_ullong ids_counter;
static oa_info info;

static int parse(int kind, const char *body, oa_req **r, dg_sb *err) {
    dg_sb ign = {0};
    err->len = 0;
    int st = oa_parse(&info, kind, body, strlen(body), r, err, &ign);
    dg_sb_free(&ign);
    return st;
}

/* Feeds text as canvases of L ids (the last partial), ending with finish; returns the output. */
static void run(oa_req *r, const char *text, int L, dg_finish fin, dg_sb *out) {
    int32_t *ids = NULL;
    size_t n = 0;
    CHECK(!dg_tokenize(tok, text, strlen(text), 0, &ids, &n, NULL), "tokenize");
    job *j = oa_job(r);
    oa_retain(r);   /* the scheduler's reference */
    int c = 0, cancelled = 0;
    for (size_t at = 0; at < n && !cancelled; at += (size_t)L, c++) {
        int k = (int)(n - at < (size_t)L ? n - at : (size_t)L);
        cancelled = j->cb.on_canvas(j->cb.user, c, ids + at, L, k, 3);
    }
    int steps[64] = {0};
    dg_gen_result res = {.n_emitted = (int)n, .finish = cancelled ? DG_FINISH_CANCELLED : fin, .stop_id = -1,
                         .n_canvases = c, .steps = steps, .n_steps = 3 * c};
    dg_error e = {0};
    if (cancelled) dg_fail(&e, DG_ERR_CANCELLED, "cancelled");
    j->on_done(j, cancelled ? DG_ERR_CANCELLED : DG_OK, &e, &res);
    out->len = 0;
    if (oa_is_stream(r)) {
        char tmp[777];
        int done = 0;
        while (!done) { size_t k = oa_read(r, tmp, sizeof tmp, 10, &done); dg_sb_put(out, tmp, k); }
    } else {
        const char *b;
        size_t len;
        int st = oa_result(r, 10, &b, &len);
        CHECK(st == 200, "status %d", st);
        dg_sb_put(out, b, len);
    }
    free(ids);
}

/* Concatenated stream deltas of one field; checks every data line is JSON or [DONE]. */
static void deltas(const char *sse, const char *field, dg_sb *out, int *n_chunks, cJSON **calls, const char **finish) {
    static char fin[32];
    out->len = 0;
    *n_chunks = 0;
    fin[0] = 0;
    for (const char *l = sse; (l = strstr(l, "data: ")); l += 6) {
        const char *e = strstr(l, "\n\n");
        if (!strncmp(l + 6, "[DONE]", 6)) { CHECK(e && !e[2], "[DONE] is last"); break; }
        cJSON *o = cJSON_ParseWithLength(l + 6, (size_t)(e - l - 6));
        CHECK(o != NULL, "chunk is JSON");
        cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0);
        cJSON *d = cJSON_GetObjectItem(ch, "delta"), *f = cJSON_GetObjectItem(d, field);
        if (!d) f = cJSON_GetObjectItem(ch, "text");
        if (cJSON_IsString(f)) { dg_sb_puts(out, f->valuestring); (*n_chunks)++; }
        cJSON *tc = cJSON_GetObjectItem(d, "tool_calls");
        if (tc && calls) *calls = cJSON_Duplicate(tc, 1);
        cJSON *fr = cJSON_GetObjectItem(ch, "finish_reason");
        if (cJSON_IsString(fr)) snprintf(fin, sizeof fin, "%s", fr->valuestring);
        cJSON_Delete(o);
    }
    *finish = fin;
}

static cJSON *message(const dg_sb *body) {
    cJSON *o = cJSON_Parse(body->s);
    return o;
}

int main(void) {
    if (!tok_fixture_present("test_server_openai")) return t_skip("test_server_openai", "no tokenizer fixture");
    char path[1024];
    snprintf(path, sizeof path, "%s/tokenizer.json", tok_fixture_dir());
    dg_error err = {0};
    CHECK(!dg_tokenizer_load(path, &tok, &err), "tokenizer: %s", err.msg);
    if (!tok) return t_done("test_server_openai");
    info = (oa_info){.tok = tok, .model_id = "m", .vocab = 262144, .canvas_length = 16, .ctx_tokens = 4096,
                     .next_id = &ids_counter, .max_buffered = 1 << 20, .max_steps = 100, .max_canvases = 32};
    dg_gen_params_default(&info.defaults);
    info.defaults.n_eos = 3;
    info.defaults.eos_ids[0] = 1; info.defaults.eos_ids[1] = 106; info.defaults.eos_ids[2] = 50;
    dg_sb e = {0}, out = {0}, d = {0};
    oa_req *r;
    int n;
    const char *fin;

    /* thinking + content, streamed in canvases of 5 ids, equals the non-stream answer */
    const char *ans = "<|channel>thought\nLet me think: 2+2.<channel|>The answer is 4 \xe2\x82\xac, caf\xc3\xa9.  ";
    const char *chat = "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":%s,"
                       "\"chat_template_kwargs\":{\"enable_thinking\":true}}";
    char body[512];
    snprintf(body, sizeof body, chat, "true");
    CHECK(parse(OA_CHAT, body, &r, &e) == 200, "chat parse: %s", e.s);
    run(r, ans, 5, DG_FINISH_STOP, &out);
    deltas(out.s, "content", &d, &n, NULL, &fin);
    CHECK(!strcmp(d.s, "The answer is 4 \xe2\x82\xac, caf\xc3\xa9."), "stream content '%s'", d.s);
    CHECK(!strcmp(fin, "stop"), "finish %s", fin);
    deltas(out.s, "reasoning_content", &d, &n, NULL, &fin);
    CHECK(!strcmp(d.s, "Let me think: 2+2."), "stream reasoning '%s'", d.s);
    CHECK(strstr(out.s, "\"role\":\"assistant\"") && strstr(out.s, "data: [DONE]\n\n"), "role first, [DONE] last");
    oa_release(r);
    snprintf(body, sizeof body, chat, "false");
    CHECK(parse(OA_CHAT, body, &r, &e) == 200, "chat parse");
    run(r, ans, 5, DG_FINISH_STOP, &out);
    cJSON *o = message(&out), *m = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0), "message");
    CHECK(m && !strcmp(cJSON_GetObjectItem(m, "content")->valuestring, "The answer is 4 \xe2\x82\xac, caf\xc3\xa9."), "content");
    CHECK(m && !strcmp(cJSON_GetObjectItem(m, "reasoning_content")->valuestring, "Let me think: 2+2."), "reasoning_content");
    CHECK(!strcmp(cJSON_GetObjectItem(o, "object")->valuestring, "chat.completion") && cJSON_GetObjectItem(o, "usage"), "shape");
    cJSON_Delete(o);
    oa_release(r);

    /* UTF-8: canvases of 1 id never produce invalid UTF-8 in a chunk (cJSON would reject it) */
    CHECK(parse(OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":true}", &r, &e) == 200, "parse");
    run(r, "\xf0\x9f\x98\x80\xe4\xb8\xad\xe6\x96\x87", 1, DG_FINISH_LENGTH, &out);
    deltas(out.s, "content", &d, &n, NULL, &fin);
    CHECK(!strcmp(d.s, "\xf0\x9f\x98\x80\xe4\xb8\xad\xe6\x96\x87") && !strcmp(fin, "length"), "utf-8 '%s' %s", d.s, fin);
    oa_release(r);

    /* tool calls: OpenAI shape, finish_reason tool_calls, stream and not */
    const char *call = "<|tool_call>call:get_weather{city:<|\"|>Paris<|\"|>,days:3}<tool_call|>";
    const char *tools = "{\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}],\"stream\":%s,\"tools\":[{\"type\":\"function\","
                        "\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}}]}";
    char call_ids[2][80] = {"", ""};
    for (int stream = 0; stream < 2; stream++) {
        snprintf(body, sizeof body, tools, stream ? "true" : "false");
        CHECK(parse(OA_CHAT, body, &r, &e) == 200, "tools parse: %s", e.s);
        run(r, call, 4, DG_FINISH_STOP, &out);
        cJSON *calls = NULL;
        if (stream) {
            deltas(out.s, "content", &d, &n, &calls, &fin);
            CHECK(!strcmp(fin, "tool_calls") && d.len == 0, "stream tool call finish %s content '%s'", fin, d.s ? d.s : "");
        } else {
            o = message(&out);
            cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0);
            m = cJSON_GetObjectItem(ch, "message");
            CHECK(cJSON_IsNull(cJSON_GetObjectItem(m, "content")), "content null with tool calls");
            CHECK(!strcmp(cJSON_GetObjectItem(ch, "finish_reason")->valuestring, "tool_calls"), "finish tool_calls");
            calls = cJSON_Duplicate(cJSON_GetObjectItem(m, "tool_calls"), 1);
            cJSON_Delete(o);
        }
        cJSON *c0 = cJSON_GetArrayItem(calls, 0), *fn = cJSON_GetObjectItem(c0, "function");
        CHECK(cJSON_GetArraySize(calls) == 1 && cJSON_IsString(cJSON_GetObjectItem(c0, "id")) &&
              !strcmp(cJSON_GetObjectItem(c0, "type")->valuestring, "function") &&
              !strcmp(cJSON_GetObjectItem(fn, "name")->valuestring, "get_weather"), "tool call shape (stream %d)", stream);
        cJSON *args = cJSON_Parse(cJSON_GetStringValue(cJSON_GetObjectItem(fn, "arguments")));
        CHECK(args && !strcmp(cJSON_GetObjectItem(args, "city")->valuestring, "Paris") &&
              cJSON_GetObjectItem(args, "days")->valuedouble == 3, "arguments are a JSON string");
        CHECK(!stream || cJSON_IsNumber(cJSON_GetObjectItem(c0, "index")), "stream tool call has an index");
        const char *cid = cJSON_GetStringValue(cJSON_GetObjectItem(c0, "id"));
        snprintf(call_ids[stream], sizeof call_ids[stream], "%s", cid ? cid : "");
        cJSON_Delete(args);
        cJSON_Delete(calls);
        oa_release(r);
    }

    /* tool-call ids differ between answers (a conversation carries the earlier ones) */
    CHECK(call_ids[0][0] && strcmp(call_ids[0], call_ids[1]) && strcmp(call_ids[0], "call_0"), "tool call ids '%s' '%s'", call_ids[0], call_ids[1]);

    /* stop strings, also across a canvas boundary: the text ends before them, generation stops */
    const char *stops[] = {"\"END\"", "[\"xx\", \"lo wo\"]"};
    for (int s = 0; s < 2; s++)
        for (int stream = 0; stream < 2; stream++) {
            snprintf(body, sizeof body, "{\"prompt\":\"hi\",\"stop\":%s,\"stream\":%s}", stops[s], stream ? "true" : "false");
            CHECK(parse(OA_COMPLETION, body, &r, &e) == 200, "completion parse: %s", e.s);
            run(r, s ? "hello world and more" : "one two END three four five", 1, DG_FINISH_LENGTH, &out);
            const char *want = s ? "hel" : "one two ";
            if (stream) {
                deltas(out.s, "text", &d, &n, NULL, &fin);
                CHECK(d.s && !strcmp(d.s, want) && !strcmp(fin, "stop"), "stop %d stream: '%s' %s", s, d.s ? d.s : "", fin);
            } else {
                o = message(&out);
                cJSON *ch = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0);
                CHECK(!strcmp(cJSON_GetObjectItem(ch, "text")->valuestring, want) &&
                      !strcmp(cJSON_GetObjectItem(ch, "finish_reason")->valuestring, "stop"), "stop %d: %s", s, out.s);
                cJSON_Delete(o);
            }
            oa_release(r);
        }

    /* empty first text (UBSan: memmem / memcmp on a buffer that never got bytes): a thinking
     * answer with a stop string starts with <|channel>, and an empty channel <|channel><channel|> */
    static const char *const empties[] = {"<|channel>thought\nhm<channel|>Yes. STOP no", "<|channel><channel|>Yes. STOP no"};
    for (int k = 0; k < 2; k++)
        for (int stream = 0; stream < 2; stream++) {
            snprintf(body, sizeof body, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":\"STOP\",\"stream\":%s,"
                     "\"chat_template_kwargs\":{\"enable_thinking\":true}}", stream ? "true" : "false");
            CHECK(parse(OA_CHAT, body, &r, &e) == 200, "parse: %s", e.s);
            run(r, empties[k], 1, DG_FINISH_LENGTH, &out);
            if (stream) {
                deltas(out.s, "content", &d, &n, NULL, &fin);
                CHECK(!strcmp(dg_sb_str(&d), "Yes.") && !strcmp(fin, "stop"), "empty start %d stream: '%s' %s", k, dg_sb_str(&d), fin);
            } else {
                o = message(&out);
                m = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "choices"), 0), "message");
                CHECK(m && !strcmp(cJSON_GetObjectItem(m, "content")->valuestring, "Yes."), "empty start %d: %s", k, out.s);
                cJSON_Delete(o);
            }
            oa_release(r);
        }

    /* errors: 400 in OpenAI's shape, naming the field */
    static const struct { int kind; const char *body, *param, *msg; } bad[] = {
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"n\":2}", "n", "'n' must be 1"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":\"json_schema\"}}", "response_format", "not supported"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", "messages", "is not one of"},
        {OA_CHAT, "{\"messages\":\"hi\"}", "messages", "non-empty array"},
        {OA_CHAT, "{\"messages\":[]}", "messages", "non-empty array"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":5}]}", "messages", "content must be"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":\"9\"}", "max_tokens", "integer"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":0}", "max_tokens", "must be in"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":100000}", "max_tokens", "must be in"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":1}", "stream", "boolean"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"seed\":-1}", "seed", "seed"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"t_min\":0.9}", NULL, "t_max must be > t_min"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"entropy_bound\":0}", NULL, "entropy_bound"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_denoising_steps\":0}", "max_denoising_steps", "must be in"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stop\":[1]}", "stop", "non-empty strings"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream_canvas\":true}", "stream_canvas", "needs"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"logprobs\":true}", "logprobs", "not supported"},
        {OA_CHAT, "[1,2]", NULL, "JSON object"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\"", NULL, "not valid JSON"},
        {OA_COMPLETION, "{\"prompt\":[1,2,300000]}", "prompt", "outside the vocabulary"},
        {OA_COMPLETION, "{\"prompt\":[[1],[2]]}", "prompt", "one prompt per request"},
        {OA_COMPLETION, "{\"prompt\":\"\"}", "prompt", "empty"},
        {OA_COMPLETION, "{\"prompt\":[1.5]}", "prompt", "integer"},
        /* strict JSON: trailing bytes, a raw NUL in a key (the length below counts it) */
        {OA_COMPLETION, "{\"prompt\":[1]} {\"prompt\":[2]}", NULL, "after the value"},
        {OA_COMPLETION, "{\"prompt\":[1]}x", NULL, "after the value"},
        /* seeds: no sign, no space, no wrap-around; numbers only while a double is exact */
        {OA_COMPLETION, "{\"prompt\":[1],\"seed\":\"18446744073709551616\"}", "seed", "below 2^64"},
        {OA_COMPLETION, "{\"prompt\":[1],\"seed\":\" 7\"}", "seed", "digits only"},
        {OA_COMPLETION, "{\"prompt\":[1],\"seed\":\"+7\"}", "seed", "digits only"},
        {OA_COMPLETION, "{\"prompt\":[1],\"seed\":9007199254740993}", "seed", "must be in"},
        /* server caps (steps per canvas 100, canvases 32 of 16 here) */
        {OA_COMPLETION, "{\"prompt\":[1],\"max_denoising_steps\":100000,\"stability_threshold\":0}", "max_denoising_steps", "must be in [1, 100]"},
        {OA_COMPLETION, "{\"prompt\":[1],\"max_tokens\":513}", "max_tokens", "at most 32 per request"},
        /* text-only engine; unknown model */
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},"
                  "{\"type\":\"image_url\",\"image_url\":{\"url\":\"data:,\"}}]}]}", "messages", "reads text only"},
        {OA_CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\",\"input_audio\":{}}]}]}", "messages", "reads text only"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        r = NULL;
        int st = parse(bad[i].kind, bad[i].body, &r, &e);
        cJSON *root = cJSON_Parse(e.s ? e.s : ""), *eo = cJSON_GetObjectItem(root, "error");
        const cJSON *msg = cJSON_GetObjectItem(eo, "message"), *param = cJSON_GetObjectItem(eo, "param");
        CHECK(st == 400 && !r && cJSON_IsString(msg) && strstr(msg->valuestring, bad[i].msg) &&
              cJSON_IsString(cJSON_GetObjectItem(eo, "type")) &&
              (bad[i].param ? cJSON_IsString(param) && !strcmp(param->valuestring, bad[i].param) : cJSON_IsNull(param)),
              "bad request %zu (%s): %d %s", i, bad[i].body, st, e.s ? e.s : "");
        cJSON_Delete(root);
    }
    /* a raw NUL inside a key (cJSON would read the key as "prompt") */
    {
        static const char nulkey[] = "{\"prompt\0x\":[1,2]}";
        r = NULL;
        CHECK(oa_parse(&info, OA_COMPLETION, nulkey, sizeof nulkey - 1, &r, &e, &d) == 400 && !r && strstr(e.s, "NUL"), "NUL in a key: %s", e.s);
        if (r) oa_release(r);
    }
    /* 404 for an unknown model, context_length_exceeded for prompts that cannot fit */
    {
        static const struct { int kind, status; const char *body, *code; } coded[] = {
            {OA_CHAT, 404, "{\"model\":\"nope\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}", "model_not_found"},
            {OA_COMPLETION, 400, NULL, "context_length_exceeded"},     /* 4097 prompt ids */
        };
        dg_sb ids4k = {0};
        dg_sb_puts(&ids4k, "{\"prompt\":[1");
        for (int i = 0; i < 4096; i++) dg_sb_puts(&ids4k, ",1");
        dg_sb_puts(&ids4k, "]}");
        for (size_t i = 0; i < sizeof coded / sizeof *coded; i++) {
            r = NULL;
            int st = parse(coded[i].kind, coded[i].body ? coded[i].body : ids4k.s, &r, &e);
            cJSON *root = cJSON_Parse(dg_sb_str(&e)), *code = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "error"), "code");
            CHECK(st == coded[i].status && !r && cJSON_IsString(code) && !strcmp(code->valuestring, coded[i].code), "coded %zu: %d %s", i, st, e.s);
            cJSON_Delete(root);
        }
        dg_sb_free(&ids4k);
        /* a text that cannot fit even at the longest piece per token is refused before tokenizing */
        const size_t big = 4096 * 8 + 100;
        char *txt = malloc(big + 64);
        memcpy(txt, "{\"prompt\":\"", 11);
        memset(txt + 11, 'a', big);
        strcpy(txt + 11 + big, "\"}");
        info.max_piece_bytes = 8;
        r = NULL;
        int st = parse(OA_COMPLETION, txt, &r, &e);
        CHECK(st == 400 && !r && strstr(dg_sb_str(&e), "cannot fit") && strstr(dg_sb_str(&e), "context_length_exceeded"), "cheap bound: %d %.200s", st, e.s);
        info.max_piece_bytes = 0;
        free(txt);
    }
    /* an error message that cuts a client's string keeps the UTF-8 whole (a 40-byte cut in e-acute) */
    {
        char role[128] = "{\"messages\":[{\"role\":\"";
        size_t o = strlen(role);
        memset(role + o, 'r', 39);
        strcpy(role + o + 39, "\xc3\xa9\xc3\xa9\",\"content\":\"x\"}]}");
        r = NULL;
        CHECK(parse(OA_CHAT, role, &r, &e) == 400, "long role");
        cJSON *root = cJSON_Parse(dg_sb_str(&e));
        CHECK(root && dg_utf8_valid((const unsigned char *)e.s, e.len), "error body is valid UTF-8 JSON: %s", e.s);
        cJSON_Delete(root);
    }
    /* ignored knobs are named */
    dg_sb ign = {0};
    const char *kn = "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"temperature\":0.2,\"top_p\":0.9,\"logit_bias\":{}}";
    r = NULL;
    CHECK(oa_parse(&info, OA_CHAT, kn, strlen(kn), &r, &e, &ign) == 200 && ign.s && !strcmp(ign.s, "temperature,top_p,logit_bias"), "ignored: %s", ign.s ? ign.s : "");
    if (r) oa_release(r);
    dg_sb_free(&ign); dg_sb_free(&e); dg_sb_free(&out); dg_sb_free(&d);
    dg_tokenizer_free(tok);
    return t_done("test_server_openai");
}
