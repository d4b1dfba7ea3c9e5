/* The OpenAI mapping (server/openai.c) without HTTP or a model: the input is a request body
 * (its first byte picks chat or completions). A rejected request must come with an OpenAI
 * error JSON; an accepted one is driven through its job callbacks, as the scheduler would,
 * with canvases of ids taken from the input bytes (specials, tool-call and channel tokens
 * included), and every SSE data line, or the whole body, must be JSON. */
#include "fuzz.h"
#include <cjson/cJSON.h>
#include "core/error.h"
#include "server/openai.h"

static atomic_ullong ids_counter;
static oa_info info;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc; (void)argv;
    info = (oa_info){.tok = fuzz_tokenizer(), .model_id = "m", .vocab = 262144, .canvas_length = 16, .ctx_tokens = 4096,
                     .next_id = &ids_counter, .max_buffered = 1 << 20};
    dg_gen_params_default(&info.defaults);
    info.defaults.n_eos = 3;
    info.defaults.eos_ids[0] = 1; info.defaults.eos_ids[1] = 106; info.defaults.eos_ids[2] = 50;
    return 0;
}

static void is_json(const char *s, size_t n, const char *what) {
    cJSON *o = cJSON_ParseWithLength(s, n);
    FUZZ_ASSERT(o, "%s is not JSON: %.*s", what, (int)(n > 400 ? 400 : n), s);
    cJSON_Delete(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const int kind = data[0] & 1 ? OA_COMPLETION : OA_CHAT;
    const char *body = (const char *)data + 1;
    const size_t len = size - 1;
    dg_sb err = {0}, ign = {0}, out = {0};
    oa_req *r = NULL;
    int st = oa_parse(&info, kind, body, len, &r, &err, &ign);
    if (st != 200) {
        FUZZ_ASSERT(st >= 400 && st < 600 && !r, "status %d", st);
        is_json(err.s, err.len, "error body");
        goto done;
    }
    job *j = oa_job(r);
    oa_retain(r);
    /* the answer: ids from the body bytes (3 each), in canvases of 16 */
    int32_t cv[16];
    int c = 0, cancelled = 0, n_emit = 0;
    for (size_t at = 0; at + 3 <= len && !cancelled && c < 32; c++) {
        int k = 0;
        for (; k < 16 && at + 3 <= len; k++, at += 3)
            cv[k] = (int32_t)(((uint32_t)(uint8_t)body[at] << 16 | (uint32_t)(uint8_t)body[at + 1] << 8 | (uint8_t)body[at + 2]) % 262144u);
        for (int i = k; i < 16; i++) cv[i] = 0;
        n_emit += k;
        cancelled = j->cb.on_canvas(j->cb.user, c, cv, 16, k, 3);
    }
    int steps[32] = {0};
    dg_gen_result res = {.n_emitted = n_emit, .finish = cancelled ? DG_FINISH_CANCELLED : DG_FINISH_LENGTH, .stop_id = -1,
                         .prompt_tokens = 5, .n_canvases = c, .steps = steps, .n_steps = 3 * c};
    dg_error e = {0};
    if (cancelled) dg_fail(&e, DG_ERR_CANCELLED, "cancelled");
    j->on_done(j, cancelled ? DG_ERR_CANCELLED : DG_OK, &e, &res);
    if (oa_is_stream(r)) {
        char tmp[1024];
        int fin = 0;
        while (!fin) { size_t k = oa_read(r, tmp, sizeof tmp, 10, &fin); dg_sb_put(&out, tmp, k); }
        for (const char *l = out.s; l && (l = strstr(l, "data: ")); l += 6) {
            const char *end = strstr(l, "\n\n");
            FUZZ_ASSERT(end, "SSE event without its blank line");
            if (strncmp(l + 6, "[DONE]", 6)) is_json(l + 6, (size_t)(end - l - 6), "SSE data");
        }
    } else {
        const char *b;
        size_t bl;
        int rs = oa_result(r, 10, &b, &bl);
        FUZZ_ASSERT(rs != 0, "no result after on_done");
        is_json(b, bl, "response body");
    }
    oa_release(r);      /* on_done dropped the scheduler's reference */
done:
    dg_sb_free(&err); dg_sb_free(&ign); dg_sb_free(&out);
    return 0;
}
