/* Bad input: malformed / truncated tokenizer.json, unknown merge pieces, duplicate ids, gaps,
 * empty and invalid-UTF-8 text, 100 MB of text. Uses a tiny generated tokenizer, so it always runs. */
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "dgemma.h"
#include "t.h"
#include "tok_fixture.h"

static char dir[256];

/* A minimal valid tokenizer: 256 byte pieces at 3..258, specials 0..2, then letters and merges. */
static char *tiny_json(const char *extra_vocab, const char *merges, const char *added) {
    size_t cap = 1 << 16, o = 0;
    char *s = malloc(cap);
    o += (size_t)snprintf(s + o, cap - o, "{\"version\":\"1.0\",\"added_tokens\":[%s],\"normalizer\":null,"
                          "\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"fuse_unk\":true,\"vocab\":{"
                          "\"<pad>\":0,\"<eos>\":1,\"<bos>\":2", added);
    for (int b = 0; b < 256; b++) o += (size_t)snprintf(s + o, cap - o, ",\"<0x%02X>\":%d", b, 3 + b);
    o += (size_t)snprintf(s + o, cap - o, ",\"a\":259,\"b\":260,\"ab\":261,\"\\u2581\":262,\"\\u2581a\":263%s},\"merges\":[%s]}}",
                          extra_vocab, merges);
    return s;
}
#define ADDED "{\"id\":0,\"content\":\"<pad>\",\"special\":true},{\"id\":1,\"content\":\"<eos>\",\"special\":true},{\"id\":2,\"content\":\"<bos>\",\"special\":true}"

static dg_status load_text(const char *json, size_t n, dg_tokenizer **t, dg_error *e) {
    char p[300];
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    FILE *f = fopen(p, "wb");
    fwrite(json, 1, n, f);
    fclose(f);
    return dg_tokenizer_load(p, t, e);
}

static void expect_fail(const char *json, dg_status want, const char *needle) {
    dg_tokenizer *t = NULL;
    dg_error e = {0};
    dg_status st = load_text(json, strlen(json), &t, &e);
    CHECK(st == want && t == NULL && strstr(e.msg, needle), "want %s containing \"%s\", got %s: %s", dg_status_name(want), needle,
          dg_status_name(st), e.msg);
    dg_tokenizer_free(t);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/dg_tok_bad_%d", (int)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (system(cmd)) return 1;

    dg_error e = {0};
    dg_tokenizer *t = NULL;
    /* the good one first: merges as pairs and as legacy strings */
    char *good = tiny_json("", "[\"a\",\"b\"],\"\\u2581 a\"", ADDED);
    CHECK(load_text(good, strlen(good), &t, &e) == DG_OK, "good: %s", e.msg);
    if (t) {
        int32_t *ids = NULL;
        size_t n = 0;
        CHECK(dg_tokenize(t, "ab a<eos>\xFF", 10, 1, &ids, &n, &e) == DG_OK && n == 5 && ids[0] == 2 && ids[1] == 261 &&
                  ids[2] == 263 && ids[3] == 1 && ids[4] == 3 + 0xFF, "tiny encode (n=%zu)", n);
        free(ids);
        /* empty text: no ids, no error */
        ids = (int32_t *)1;
        CHECK(dg_tokenize(t, "", 0, 0, &ids, &n, &e) == DG_OK && n == 0 && ids == NULL, "empty text");
        CHECK(dg_tokenize(t, NULL, 0, 0, &ids, &n, &e) == DG_OK && n == 0, "NULL empty text");
        CHECK(dg_tokenize(t, NULL, 5, 0, &ids, &n, &e) == DG_ERR_ARG, "NULL text with a length");
        /* 100 MB: ordinary text and one 100 MB word (heap path) */
        size_t big = 100u << 20;
        char *txt = malloc(big);
        for (size_t i = 0; i < big; i++) txt[i] = "ab a\n"[i % 5];
        CHECK(dg_tokenize(t, txt, big, 0, &ids, &n, &e) == DG_OK && n == big / 5 * 3, "100 MB text: %zu ids %s", n, e.msg);
        free(ids);
        memset(txt, 'a', big);
        CHECK(dg_tokenize(t, txt, big, 0, &ids, &n, &e) == DG_OK && n == big, "100 MB word: %zu ids %s", n, e.msg);
        free(ids);
        free(txt);
        char *out = NULL;
        size_t ol;
        CHECK(dg_detokenize(t, (const int32_t[]){264}, 1, 0, &out, &ol, &e) == DG_ERR_RANGE && out == NULL, "decode range");
        dg_tokenizer_free(t);
    }
    /* truncated at many points: always a clean format error */
    size_t gl = strlen(good);
    int all_fail = 1;
    for (size_t cut = 0; cut < gl; cut += 97) {
        t = NULL;
        dg_status st = load_text(good, cut, &t, &e);
        if (st != DG_ERR_FORMAT || t) { all_fail = 0; fprintf(stderr, "cut %zu: %s %s\n", cut, dg_status_name(st), e.msg); }
        dg_tokenizer_free(t);
    }
    CHECK(all_fail, "truncated files must fail with a format error");
    free(good);

    char *j;
    j = tiny_json("", "[\"a\",\"zz\"]", ADDED);
    expect_fail(j, DG_ERR_FORMAT, "unknown piece \"zz\"");
    free(j);
    j = tiny_json(",\"c\":264", "[\"a\",\"c\"]", ADDED); /* "ac" is not a piece */
    expect_fail(j, DG_ERR_FORMAT, "unknown piece \"ac\"");
    free(j);
    j = tiny_json(",\"c\":259", "", ADDED);
    expect_fail(j, DG_ERR_FORMAT, "duplicate id 259");
    free(j);
    j = tiny_json(",\"c\":300", "", ADDED);
    expect_fail(j, DG_ERR_FORMAT, "id 264 has no piece");
    free(j);
    j = tiny_json(",\"a\":264", "", ADDED);
    expect_fail(j, DG_ERR_FORMAT, "appears twice");
    free(j);
    j = tiny_json("", "[\"a\"]", ADDED);
    expect_fail(j, DG_ERR_FORMAT, "expected 2");
    free(j);
    j = tiny_json("", "\"ab\"", ADDED);
    expect_fail(j, DG_ERR_FORMAT, "has no space");
    free(j);
    j = tiny_json("", "", ADDED ",{\"id\":0,\"content\":\"<x>\"}");
    expect_fail(j, DG_ERR_FORMAT, "duplicate id 0 in added_tokens");
    free(j);
    j = tiny_json("", "", "{\"id\":0,\"content\":\"<pad>\",\"lstrip\":true}");
    expect_fail(j, DG_ERR_UNSUPPORTED, "lstrip");
    free(j);
    j = tiny_json(",\"x\":-1", "", ADDED);
    expect_fail(j, DG_ERR_FORMAT, "out of range");
    free(j);
    expect_fail("{\"model\":{\"type\":\"Unigram\"}}", DG_ERR_UNSUPPORTED, "Unigram");
    expect_fail("{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]}}", DG_ERR_UNSUPPORTED, "byte_fallback");
    expect_fail("{}", DG_ERR_MISSING, "model");
    expect_fail("[1,2]", DG_ERR_FORMAT, "expected '{'");
    expect_fail("{\"model\":{\"vocab\":{\"a\\q\":1}}}", DG_ERR_FORMAT, "bad escape");
    expect_fail("{\"model\":{\"vocab\":{\"\\ud800\":1}}}", DG_ERR_FORMAT, "surrogate");
    expect_fail("{\"model\":{}} x", DG_ERR_FORMAT, "trailing");
    expect_fail("", DG_ERR_FORMAT, "end of file");
    /* a syntax error is located by line and column (the ':' missing after "vocab" on line 3) */
    expect_fail("{\n  \"model\": {\n    \"vocab\" {}}}", DG_ERR_FORMAT, "line 3, column 13");
    /* deep nesting in a skipped field: an error, not a stack overflow */
    {
        size_t n = 200000;
        char *deep = malloc(n * 2 + 32);
        size_t o = (size_t)sprintf(deep, "{\"x\":");
        for (size_t i = 0; i < n; i++) deep[o++] = '[';
        deep[o] = 0;
        expect_fail(deep, DG_ERR_FORMAT, "too deep");
        free(deep);
    }
    CHECK(dg_tokenizer_load("/nonexistent/dir", &t, &e) == DG_ERR_IO, "missing path");
    snprintf(cmd, sizeof cmd, "mkdir -p %s/empty", dir);
    if (system(cmd)) return 1;
    snprintf(cmd, sizeof cmd, "%s/empty", dir);
    CHECK(dg_tokenizer_load(cmd, &t, &e) == DG_ERR_IO && strstr(e.msg, "tokenizer.json"), "dir without tokenizer.json: %s", e.msg);

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) return 1;
    return t_done("test_tokenizer_bad");
}
