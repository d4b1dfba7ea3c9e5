/* The channel splitter (src/text/channels.c) on a tiny generated tokenizer whose delimiter
 * specials sit at ids 264..267 and whose id 100 is the byte 'a' (100 / 101 are the channel ids
 * of the real Gemma vocabulary: a splitter with hard-coded ids misroutes here). Checks routing,
 * the end-of-span calls, split = 0, and that a byte-fallback sequence is never split. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "dgemma.h"
#include "core/strbuf.h"
#include "t.h"

typedef struct got { dg_sb text[3]; int ends[3], calls; } got;

static void collect(void *user, dg_channel ch, char *text, size_t len, int end) {
    got *g = user;
    dg_sb_put(&g->text[ch], text, len);
    if (end) { g->ends[ch]++; dg_sb_puts(&g->text[ch], "|"); }
    g->calls++;
}

int main(void) {
    char dir[] = "/tmp/dg_channels_XXXXXX", path[64];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    FILE *f = fopen(path, "wb");
    fputs("{\"version\":\"1.0\",\"added_tokens\":[{\"id\":0,\"content\":\"<pad>\",\"special\":true},"
          "{\"id\":1,\"content\":\"<eos>\",\"special\":true},{\"id\":2,\"content\":\"<bos>\",\"special\":true},"
          "{\"id\":264,\"content\":\"<|channel>\",\"special\":true},{\"id\":265,\"content\":\"<channel|>\",\"special\":true},"
          "{\"id\":266,\"content\":\"<|tool_call>\",\"special\":true},{\"id\":267,\"content\":\"<tool_call|>\",\"special\":true}],"
          "\"normalizer\":null,\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"fuse_unk\":true,\"vocab\":{"
          "\"<pad>\":0,\"<eos>\":1,\"<bos>\":2", f);
    for (int b = 0; b < 256; b++) fprintf(f, ",\"<0x%02X>\":%d", b, 3 + b);
    fputs(",\"a\":259,\"b\":260,\"ab\":261,\"\\u2581\":262,\"\\u2581a\":263,\"<|channel>\":264,\"<channel|>\":265,"
          "\"<|tool_call>\":266,\"<tool_call|>\":267},\"merges\":[\"a b\"]}}", f);
    fclose(f);
    dg_tokenizer *t = NULL;
    dg_error err = {0};
    CHECK(!dg_tokenizer_load(path, &t, &err), "tokenizer: %s", err.msg);
    unlink(path);
    rmdir(dir);
    if (!t) return t_done("test_channels");

    /* 'a'(100) <|channel> b ab <channel|> a <|tool_call> b <tool_call|> e-acute as two byte tokens,
     * pushed in pieces that cut the byte pair */
    const int32_t ids[] = {100, 264, 260, 261, 265, 259, 266, 260, 267, 3 + 0xC3, 3 + 0xA9};
    dg_channel_split *s = NULL;
    got g;
    memset(&g, 0, sizeof g);
    CHECK(!dg_channel_split_new(t, 1, &s, &err), "new: %s", err.msg);
    CHECK(!dg_channel_split_push(s, ids, 5, collect, &g, NULL), "push");
    CHECK(dg_channel_split_current(s) == DG_CHANNEL_CONTENT, "back in content after <channel|>");
    CHECK(!dg_channel_split_push(s, ids + 5, 5, collect, &g, NULL), "push");
    CHECK(!strcmp(dg_sb_str(&g.text[DG_CHANNEL_CONTENT]), "a|a|"), "content so far '%s'", dg_sb_str(&g.text[0]));
    CHECK(!dg_channel_split_push(s, ids + 10, 1, collect, &g, NULL) && !dg_channel_split_end(s, collect, &g, NULL), "end");
    CHECK(!strcmp(dg_sb_str(&g.text[DG_CHANNEL_CONTENT]), "a|a|\xc3\xa9|"), "content '%s'", dg_sb_str(&g.text[0]));
    CHECK(!strcmp(dg_sb_str(&g.text[DG_CHANNEL_REASONING]), "bab|"), "reasoning '%s'", dg_sb_str(&g.text[1]));
    CHECK(!strcmp(dg_sb_str(&g.text[DG_CHANNEL_TOOL]), "b|"), "tool '%s'", dg_sb_str(&g.text[2]));
    CHECK(g.ends[0] == 3 && g.ends[1] == 1 && g.ends[2] == 1, "one end per span: %d %d %d", g.ends[0], g.ends[1], g.ends[2]);
    dg_channel_split_free(s);
    for (int k = 0; k < 3; k++) dg_sb_free(&g.text[k]);

    /* split = 0: every id is content (specials skipped), one span */
    memset(&g, 0, sizeof g);
    CHECK(!dg_channel_split_new(t, 0, &s, &err), "new");
    dg_channel_split_push(s, ids, sizeof ids / sizeof *ids, collect, &g, NULL);
    dg_channel_split_end(s, collect, &g, NULL);
    CHECK(!strcmp(dg_sb_str(&g.text[0]), "ababab\xc3\xa9|") && g.ends[0] == 1 && !g.text[1].len, "unsplit '%s'", dg_sb_str(&g.text[0]));
    dg_channel_split_free(s);
    for (int k = 0; k < 3; k++) dg_sb_free(&g.text[k]);
    dg_tokenizer_free(t);
    return t_done("test_channels");
}
