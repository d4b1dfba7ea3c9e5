/* Tokenizer vectors of TOKENIZER.md §8 (golden and derived) on the derived Gemma 4 fixture. */
#include <string.h>
#include <time.h>
#include "dgemma.h"
#include "t.h"
#include "tok_fixture.h"

static const dg_tokenizer *T;
static int valid_utf8(const char *s, size_t n);

static void check_enc(const char *text, size_t len, int bos, const char *want) {
    int32_t *ids = NULL;
    size_t n = 0;
    dg_error e = {0};
    dg_status st = dg_tokenize(T, text, len, bos, &ids, &n, &e);
    char got[8192] = "";
    size_t o = 0;
    for (size_t i = 0; i < n && o < sizeof got - 16; i++) o += (size_t)snprintf(got + o, sizeof got - o, i ? " %d" : "%d", ids[i]);
    CHECK(st == DG_OK && !strcmp(got, want), "encode \"%.60s\": got [%s] want [%s] %s", text, got, want, st ? e.msg : "");
    /* decode(encode(x)) == x whenever no special string or NBSP-like fallback loses information */
    char *back = NULL;
    size_t bl = 0;
    if (!bos && dg_detokenize(T, ids, n, 0, &back, &bl, &e) == DG_OK) {
        /* a literal U+2581 legitimately comes back as a space */
        if (!strstr(text, "\xE2\x96\x81") && valid_utf8(text, len)) CHECK(bl == len && !memcmp(back, text, len), "roundtrip \"%.60s\" -> \"%.60s\"", text, back);
    }
    free(back);
    free(ids);
}
#define ENC(text, want) check_enc(text, sizeof(text) - 1, 0, want)

static void check_dec(const int32_t *ids, size_t n, int skip, const char *want) {
    char *s = NULL;
    size_t l = 0;
    dg_error e = {0};
    dg_status st = dg_detokenize(T, ids, n, skip, &s, &l, &e);
    CHECK(st == DG_OK && l == strlen(want) && !memcmp(s, want, l), "decode: got \"%s\" want \"%s\" %s", s ? s : "", want, st ? e.msg : "");
    /* the streaming decoder, one id at a time, gives the same text */
    dg_detok_stream *ds = NULL;
    char buf[4096] = "";
    size_t bn = 0;
    if (dg_detok_stream_new(T, skip, &ds, &e) == DG_OK) {
        for (size_t i = 0; i <= n; i++) {
            char *piece = NULL;
            size_t pl = 0;
            st = i < n ? dg_detok_stream_push(ds, ids + i, 1, &piece, &pl, &e) : dg_detok_stream_flush(ds, &piece, &pl, &e);
            if (st == DG_OK && bn + pl < sizeof buf) { memcpy(buf + bn, piece, pl); bn += pl; }
            free(piece);
        }
        dg_detok_stream_free(ds);
    }
    CHECK(bn == strlen(want) && !memcmp(buf, want, bn), "stream decode: got \"%.*s\" want \"%s\"", (int)bn, buf, want);
    free(s);
}

static int valid_utf8(const char *s, size_t n) {
    /* cheap check sufficient for the vectors here: no 0xFF and no truncated tail */
    for (size_t i = 0; i < n; i++) if ((unsigned char)s[i] == 0xFF) return 0;
    return n == 0 || (unsigned char)s[n - 1] < 0xC0;
}

int main(void) {
    if (!tok_fixture_present("test_tokenizer")) return t_skip("test_tokenizer", "no tokenizer fixture");
    dg_tokenizer *t = NULL;
    dg_error e = {0};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    dg_status st = dg_tokenizer_load(tok_fixture_dir(), &t, &e);
    clock_gettime(CLOCK_MONOTONIC, &b);
    CHECK(st == DG_OK, "load: %s", e.msg);
    if (st) return t_done("test_tokenizer");
    printf("load: %.3f s\n", (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) * 1e-9);
    T = t;
    CHECK(dg_tokenizer_vocab_size(t) == 262144, "vocab %d", dg_tokenizer_vocab_size(t));
    CHECK(dg_tokenizer_bos(t) == 2 && dg_tokenizer_eos(t) == 1 && dg_tokenizer_pad(t) == 0, "bos/eos/pad");
    CHECK(dg_token_is_special(t, 106) && dg_token_is_special(t, 258884) && !dg_token_is_special(t, 107), "specials");

    /* §8.1 plain-text goldens */
    ENC("Hello", "9259");
    check_enc("<bos>Hello,", 11, 0, "2 9259 236764");
    check_enc("Hello", 5, 1, "2 9259");
    ENC("Hello world! Café déjà vu — 123 😊", "9259 1902 236888 62367 29234 11042 2192 236743 236770 236778 236800 103453");
    /* §8.1 rendered prompts, tokenized in one pass */
    ENC("<bos><|turn>user\nHello<turn|>\n<|turn>model\n<|channel>thought\n<channel|>",
        "2 105 2364 107 9259 106 107 105 4368 107 100 45518 107 101");
    ENC("<bos><|turn>system\n<|think|>\nBe concise.<turn|>\n<|turn>user\nHi<turn|>\n<|turn>model\n",
        "2 105 9731 107 98 107 3912 63510 236761 106 107 105 2364 107 10979 106 107 105 4368 107");
    ENC("<bos><|turn>user\nQ<turn|>\n<|turn>model\nA<turn|>\n", "2 105 2364 107 236935 106 107 105 4368 107 236776 106 107");
    ENC("<bos><|turn>user\nName three primary colors.<turn|>\n<|turn>model\n<|channel>thought\n<channel|>",
        "2 105 2364 107 1567 1806 5905 7913 236761 106 107 105 4368 107 100 45518 107 101");
    ENC("<bos><|turn>system\n<|think|>\n<turn|>\n<|turn>user\nName three primary colors.<turn|>\n<|turn>model\n",
        "2 105 9731 107 98 107 106 107 105 2364 107 1567 1806 5905 7913 236761 106 107 105 4368 107");
    ENC("<bos><|turn>user\nWrite a long essay about Portugal.<turn|>\n<|turn>model\n<|channel>thought\n<channel|>",
        "2 105 2364 107 6974 496 1440 20494 1003 23613 236761 106 107 105 4368 107 100 45518 107 101");
    /* §8.2 derived */
    ENC("<|turn>model\n<|tool_call>call:get_weather{location:<|\"|>Paris<|\"|>}<tool_call|><|tool_response>response:get_weather{value:<|\"|>{\"temp_c\": 18}<|\"|>}<tool_response|>",
        "105 4368 107 48 6639 236787 828 236779 19323 236782 7125 236787 52 50429 52 236783 49 50 6275 236787 828 236779 19323 236782 2394 236787 52 14937 7617 236779 236755 1083 236743 236770 236828 236783 52 236783 51");
    ENC("<bos><|turn>user\nHi<turn|>\n<|turn>model\nHello! How can I help?<turn|>\n<|turn>user\nTell me a joke.<turn|>\n<|turn>model\n<|channel>thought\n<channel|>",
        "2 105 2364 107 10979 106 107 105 4368 107 9259 236888 2088 740 564 1601 236881 106 107 105 2364 107 54593 786 496 31481 236761 106 107 105 4368 107 100 45518 107 101");
    /* §8.3 derived plain text */
    ENC("Hello world", "9259 1902");
    ENC(" leading space", "5830 2557");
    ENC("trailing space ", "136697 2557 236743");
    ENC("two  spaces", "13498 138 35220");
    ENC("tab\there", "4823 255968 8472");
    ENC("line1\nline2", "1257 236770 107 1257 236778");
    ENC("para1\n\npara2", "16847 236770 108 16847 236778");
    ENC("日本語のテキスト", "94951 236945 95830");
    ENC("emoji 🤖🚀", "67906 236743 246143 242015");
    ENC("Ünïcödé façade", "238194 236749 238527 236755 55515 236859 96008");
    ENC("def f(x):\n    return x * 2\n", "2063 517 236769 236781 1473 107 140 2060 1123 808 236743 236778 107");
    ENC("1234567890", "236770 236778 236800 236812 236810 236825 236832 236828 236819 236771");
    ENC("3.14159", "236800 236761 236770 236812 236770 236810 236819");
    ENC("don't", "13246 236789 236745");
    ENC("https://example.com/a?b=c", "2574 1411 8358 236761 854 236786 236746 236881 236763 236784 236755");
    ENC("a\xC2\xA0" "b", "236746 432 398 236763");
    ENC("x\r\ny", "236781 251 107 236762");
    ENC("Why is the sky blue?", "11355 563 506 7217 3730 236881");
    ENC("Why is 6 affraid of 7?", "11355 563 236743 236825 2296 15178 529 236743 236832 236881");
    ENC("<|turn>user\nhi<turn|>", "105 2364 107 2202 106");
    ENC("<|channel>thought\n<channel|>Answer", "100 45518 107 101 7925");
    ENC("<|\"|>x<|\"|>", "52 236781 52");
    ENC(" ", "236743");
    ENC("  ", "138");
    ENC("\t", "255968");
    ENC("\n\n\n", "109");
    ENC("\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", "137");
    ENC("\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", "137 107");
    ENC("\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n", "137 115");
    ENC("\xE2\x96\x81", "236743");
    ENC("<table>", "236820 5127 236813");
    ENC("</s>", "954 236751 236813");
    ENC("<unused0>", "236820 63634 236771 236813");
    ENC("<start_of_turn>", "236820 3041 236779 1340 236779 887 236813");
    ENC("", "");
    /* invalid UTF-8 goes byte by byte through byte fallback */
    check_enc("a\xFF" "b\xC3", 4, 0, "236746 493 236763 433");

    /* decoder checks */
    check_dec((const int32_t[]){236746, 432, 398, 236763}, 4, 0, "a\xC2\xA0" "b");
    check_dec((const int32_t[]){432}, 1, 0, "\xEF\xBF\xBD");
    check_dec((const int32_t[]){432, 236746}, 2, 0, "\xEF\xBF\xBD" "a");
    check_dec((const int32_t[]){432, 432}, 2, 0, "\xEF\xBF\xBD\xEF\xBF\xBD");
    check_dec((const int32_t[]){236743}, 1, 0, " ");
    check_dec((const int32_t[]){2, 105, 2364, 107, 2202, 106}, 6, 0, "<bos><|turn>user\nhi<turn|>");
    check_dec((const int32_t[]){2, 105, 2364, 107, 2202, 106}, 6, 1, "user\nhi");
    /* a valid prefix of an invalid run is not kept */
    check_dec((const int32_t[]){238 + 0xC3, 238 + 0xA9, 238 + 0xC3}, 3, 0, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    check_dec((const int32_t[]){238 + 0xF0, 238 + 0x9F, 238 + 0x98, 238 + 0x8A, 9259}, 5, 0, "\xF0\x9F\x98\x8AHello");

    /* out-of-range ids are errors, not crashes */
    char *s = NULL;
    size_t l;
    CHECK(dg_detokenize(t, (const int32_t[]){5, 262144}, 2, 0, &s, &l, &e) == DG_ERR_RANGE && strstr(e.msg, "262144"), "range: %s", e.msg);
    CHECK(dg_detokenize(t, (const int32_t[]){-1}, 1, 0, &s, &l, &e) == DG_ERR_RANGE, "negative id");
    dg_detok_stream *ds;
    dg_detok_stream_new(t, 0, &ds, &e);
    CHECK(dg_detok_stream_push(ds, (const int32_t[]){432, 999999}, 2, &s, &l, &e) == DG_ERR_RANGE, "stream range");
    dg_detok_stream_free(ds);

    dg_tokenizer_free(t);
    return t_done("test_tokenizer");
}
