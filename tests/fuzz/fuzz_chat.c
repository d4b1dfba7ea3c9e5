/* Chat (text/chat_json.c, chat_template.c, chat_parse.c): the input as an OpenAI messages
 * array, rendered with the template (with and without tools, thinking on and off); and the
 * input as raw model output, split into content, reasoning and tool calls, whose JSON must
 * parse. */
#include "fuzz.h"
#include <cjson/cJSON.h>

int LLVMFuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; fuzz_tokenizer(); return 0; }

static const char tools[] = "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Weather\","
                            "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}]";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const dg_tokenizer *t = fuzz_tokenizer();
    dg_chat_msg *msgs = NULL;
    int n = 0;
    dg_error e = {0};
    if (dg_chat_msgs_from_json((const char *)data, size, &msgs, &n, &e) == DG_OK) {
        for (int think = 0; think < 2; think++) {
            char *out = NULL;
            if (dg_chat_render(t, msgs, n, think ? tools : NULL, think, 1, &out, &e) == DG_OK) {
                int32_t *ids = NULL;
                size_t ni = 0;
                FUZZ_ASSERT(dg_tokenize(t, out, strlen(out), 0, &ids, &ni, &e) == DG_OK, "tokenize the render: %s", e.msg);
                free(ids);
                free(out);
            } else FUZZ_ASSERT(e.msg[0] && !out, "render failure without a message");
        }
        free(msgs);
    } else FUZZ_ASSERT(e.msg[0], "messages failure without a message");

    char *text = fuzz_str(data, size), *content = NULL, *reasoning = NULL, *calls = NULL;
    if (dg_chat_parse(text, &content, &reasoning, &calls, &e) == DG_OK) {
        FUZZ_ASSERT(content && reasoning, "parse: NULL content or reasoning");
        if (calls) {
            cJSON *j = cJSON_Parse(calls);
            FUZZ_ASSERT(cJSON_IsArray(j), "tool calls are not a JSON array: %s", calls);
            cJSON_Delete(j);
        }
    }
    free(content); free(reasoning); free(calls); free(text);
    return 0;
}
