/* Chat template goldens (TOKENIZER.md §8.1/8.2) and output parsing (§7). The id checks need the
 * tokenizer fixture; the string checks always run. */
#include <string.h>
#include "dgemma.h"
#include "t.h"
#include "tok_fixture.h"

static dg_tokenizer *T;

static void check_render(const char *msgs_json, const char *tools, int think, int gen, const char *want, const char *want_ids) {
    dg_chat_msg *m = NULL;
    int n = 0;
    dg_error e = {0};
    char *out = NULL;
    dg_status st = dg_chat_msgs_from_json(msgs_json, strlen(msgs_json), &m, &n, &e);
    if (!st) st = dg_chat_render(T, m, n, tools, think, gen, &out, &e);
    CHECK(st == DG_OK, "render %s: %s", msgs_json, e.msg);
    if (want) CHECK(out && !strcmp(out, want), "render %s:\n got  %s\n want %s", msgs_json, out ? out : "", want);
    if (want_ids && T && out) {
        int32_t *ids = NULL;
        size_t k = 0;
        char got[8192] = "";
        size_t o = 0;
        if (dg_tokenize(T, out, strlen(out), 0, &ids, &k, &e) == DG_OK)
            for (size_t i = 0; i < k && o < sizeof got - 16; i++) o += (size_t)snprintf(got + o, sizeof got - o, i ? " %d" : "%d", ids[i]);
        CHECK(!strcmp(got, want_ids), "ids of %s:\n got  %s\n want %s", msgs_json, got, want_ids);
        free(ids);
    }
    free(out);
    free(m);
}

#define TOOL_WEATHER "[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"description\":\"Get the weather for a city.\"," \
    "\"parameters\":{\"type\":\"object\",\"properties\":{\"location\":{\"type\":\"string\",\"description\":\"The city name\"}},\"required\":[\"location\"]}}}]"

static void check_parse(const char *text, const char *want_content, const char *want_reasoning, const char *want_calls) {
    char *c = NULL, *r = NULL, *calls = NULL;
    dg_error e = {0};
    CHECK(dg_chat_parse(text, &c, &r, &calls, &e) == DG_OK, "parse: %s", e.msg);
    CHECK(c && !strcmp(c, want_content), "content of %s: got \"%s\"", text, c ? c : "");
    CHECK(r && !strcmp(r, want_reasoning), "reasoning of %s: got \"%s\"", text, r ? r : "");
    CHECK(want_calls ? calls && !strcmp(calls, want_calls) : !calls, "calls of %s: got %s", text, calls ? calls : "(null)");
    free(c); free(r); free(calls);
}

int main(void) {
    dg_error e = {0};
    if (tok_fixture_present("test_chat") && dg_tokenizer_load(tok_fixture_dir(), &T, &e)) { CHECK(0, "load: %s", e.msg); T = NULL; }

    check_render("[{\"role\":\"user\",\"content\":\"Hello\"}]", NULL, 0, 1,
                 "<bos><|turn>user\nHello<turn|>\n<|turn>model\n<|channel>thought\n<channel|>",
                 "2 105 2364 107 9259 106 107 105 4368 107 100 45518 107 101");
    check_render("[{\"role\":\"system\",\"content\":\"Be concise.\"},{\"role\":\"user\",\"content\":\"Hi\"}]", NULL, 1, 1,
                 "<bos><|turn>system\n<|think|>\nBe concise.<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\n",
                 "2 105 9731 107 98 107 3912 63510 236761 106 107 105 2364 107 10979 106 107 105 4368 107");
    check_render("[{\"role\":\"user\",\"content\":\"Q\"},{\"role\":\"assistant\",\"content\":\"A\"}]", NULL, 0, 0,
                 "<bos><|turn>user\nQ<turn|>\n<|turn>model\nA<turn|>\n", "2 105 2364 107 236935 106 107 105 4368 107 236776 106 107");
    check_render("[{\"role\":\"user\",\"content\":\"Name three primary colors.\"}]", NULL, 1, 1,
                 "<bos><|turn>system\n<|think|>\n<turn|>\n<|turn>user\nName three primary colors.<turn|>\n<|turn>model\n",
                 "2 105 9731 107 98 107 106 107 105 2364 107 1567 1806 5905 7913 236761 106 107 105 4368 107");
    check_render("[{\"role\":\"user\",\"content\":\"Write a long essay about Portugal.\"}]", NULL, 0, 1, NULL,
                 "2 105 2364 107 6974 496 1440 20494 1003 23613 236761 106 107 105 4368 107 100 45518 107 101");
    check_render("[{\"role\":\"system\",\"content\":\"  S \\n\"},{\"role\":\"user\",\"content\":\" x \"}]", NULL, 0, 1,
                 "<bos><|turn>system\nS<turn|>\n<|turn>user\nx<turn|>\n<|turn>model\n<|channel>thought\n<channel|>", NULL);
    check_render("[{\"role\":\"user\",\"content\":\"What is the weather in Paris?\"}]", TOOL_WEATHER, 0, 1,
                 "<bos><|turn>system\n<|tool>declaration:get_weather{description:<|\"|>Get the weather for a city.<|\"|>,parameters:{properties:{location:{description:<|\"|>The city name<|\"|>,type:<|\"|>STRING<|\"|>}},required:[<|\"|>location<|\"|>],type:<|\"|>OBJECT<|\"|>}}<tool|><turn|>\n<|turn>user\nWhat is the weather in Paris?<turn|>\n<|turn>model\n<|channel>thought\n<channel|>",
                 "2 105 9731 107 46 163688 236787 828 236779 19323 236782 7777 236787 52 3407 506 7606 573 496 3207 236761 52 236764 19031 29616 15921 29616 7125 29616 7777 236787 52 818 3207 1463 52 236764 2084 236787 52 35410 52 5237 15979 24845 52 7125 52 1604 2084 236787 52 60688 52 1807 47 106 107 105 2364 107 3689 563 506 7606 528 9079 236881 106 107 105 4368 107 100 45518 107 101");
    check_render("[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"Hello! How can I help?\"},"
                 "{\"role\":\"user\",\"content\":\"Tell me a joke.\"}]", NULL, 0, 1, NULL,
                 "2 105 2364 107 10979 106 107 105 4368 107 9259 236888 2088 740 564 1601 236881 106 107 105 2364 107 54593 786 496 31481 236761 106 107 105 4368 107 100 45518 107 101");
    /* a call with a string result: the model turn stays open, no generation prompt */
    check_render("[{\"role\":\"user\",\"content\":\"W?\"},{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                 "\"function\":{\"name\":\"get_weather\",\"arguments\":{\"location\":\"Paris\"}}}]},"
                 "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"{\\\"temp_c\\\": 18}\"}]", NULL, 0, 1,
                 "<bos><|turn>user\nW?<turn|>\n<|turn>model\n<|tool_call>call:get_weather{location:<|\"|>Paris<|\"|>}<tool_call|><|tool_response>response:get_weather{value:<|\"|>{\"temp_c\": 18}<|\"|>}<tool_response|>", NULL);
    /* OpenAI string arguments, a pending call (turn left open at <|tool_response>), reasoning kept */
    check_render("[{\"role\":\"user\",\"content\":\"W?\"},{\"role\":\"assistant\",\"reasoning_content\":\"need weather\",\"tool_calls\":[{\"id\":\"c1\","
                 "\"function\":{\"name\":\"f\",\"arguments\":\"{\\\"b\\\":1,\\\"a\\\":[true,\\\"x\\\"],\\\"c\\\":{\\\"z\\\":null}}\"}}]}]", NULL, 0, 1,
                 "<bos><|turn>user\nW?<turn|>\n<|turn>model\n<|channel>thought\nneed weather\n<channel|><|tool_call>call:f{a:[true,<|\"|>x<|\"|>],b:1,c:{z:None}}<tool_call|><|tool_response>", NULL);
    /* response then final answer: same model turn continues, answer closes it */
    check_render("[{\"role\":\"user\",\"content\":\"W?\"},{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"c1\",\"function\":{\"name\":\"f\",\"arguments\":{}}}]},"
                 "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"sunny\"},{\"role\":\"assistant\",\"content\":\"It is sunny.\"}]", NULL, 0, 1,
                 "<bos><|turn>user\nW?<turn|>\n<|turn>model\n<|tool_call>call:f{}<tool_call|><|tool_response>response:f{value:<|\"|>sunny<|\"|>}<tool_response|>It is sunny.<turn|>\n<|turn>model\n<|channel>thought\n<channel|>", NULL);
    /* assistant history: thinking stripped; content parts with an image */
    check_render("[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\" Look: \"},{\"type\":\"image\"},{\"type\":\"text\",\"text\":\"ok?\"}]},"
                 "{\"role\":\"assistant\",\"content\":\"<|channel>thought\\nhm<channel|> Yes.\"}]", NULL, 0, 0,
                 "<bos><|turn>user\nLook:<|image|>ok?<turn|>\n<|turn>model\nYes.<turn|>\n", NULL);

    /* bad input */
    dg_chat_msg *m = NULL;
    int n = 0;
    CHECK(dg_chat_msgs_from_json("[{\"content\":\"x\"}]", 17, &m, &n, &e) == DG_ERR_FORMAT && strstr(e.msg, "role"), "no role: %s", e.msg);
    CHECK(dg_chat_msgs_from_json("[{", 2, &m, &n, &e) == DG_ERR_FORMAT, "truncated messages");
    char *out = NULL;
    dg_chat_msg one = {.role = "user", .content = "x"};
    CHECK(dg_chat_render(NULL, &one, 1, "{\"a\":1}", 0, 1, &out, &e) == DG_ERR_FORMAT && !out, "tools not an array");
    one.tool_calls_json = "nope";
    CHECK(dg_chat_render(NULL, &one, 1, NULL, 0, 1, &out, &e) == DG_ERR_FORMAT && !out, "tool_calls not an array");

    /* output parsing */
    check_parse("<|channel>thought\nLet me think.<channel|>The answer is 4.<turn|>", "The answer is 4.", "Let me think.", NULL);
    check_parse("Plain answer.", "Plain answer.", "", NULL);
    check_parse("<|channel>thought\nunfinished", "", "unfinished", NULL);
    check_parse("<|tool_call>call:get_weather{location:<|\"|>Paris, FR<|\"|>,days:3,opts:{metric:true},tags:[<|\"|>a<|\"|>,1.5]}<tool_call|>"
                "<|tool_call>call:noop{}<tool_call|><|tool_response>",
                "", "",
                "[{\"id\":\"call_0\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"location\\\":\\\"Paris, FR\\\",\\\"days\\\":3,\\\"opts\\\":{\\\"metric\\\":true},\\\"tags\\\":[\\\"a\\\",1.5]}\"}},"
                "{\"id\":\"call_1\",\"type\":\"function\",\"function\":{\"name\":\"noop\",\"arguments\":\"{}\"}}]");
    check_parse("Hi<turn|><pad><pad>", "Hi", "", NULL);
    check_parse("<|tool_call>garbage<tool_call|>x", "<|tool_call>garbagex", "", NULL);

    dg_tokenizer_free(T);
    return t_done("test_chat");
}
