/* The channel splitter of model output (TOKENIZER.md §3, §7): the delimiter specials switch
 * between the visible content, the thinking channel and tool-call text; everything else goes
 * through one streaming decoder, flushed at every switch so that no span's text leaks into the
 * next. The delimiter ids come from the tokenizer (their strings are special tokens), so a
 * vocabulary that numbers them differently, or lacks them, still splits correctly. */
#include "dgemma.h"
#include "core/error.h"
#include <stdlib.h>
#include <string.h>

enum { D_CHANNEL_OPEN, D_CHANNEL_CLOSE, D_TOOL_OPEN, D_TOOL_CLOSE, D_N };
static const char *const delim_text[D_N] = {"<|channel>", "<channel|>", "<|tool_call>", "<tool_call|>"};
static const dg_channel delim_to[D_N] = {DG_CHANNEL_REASONING, DG_CHANNEL_CONTENT, DG_CHANNEL_TOOL, DG_CHANNEL_CONTENT};

struct dg_channel_split {
    dg_detok_stream *d;
    int32_t delim[D_N];         /* -1: not in this vocabulary (or splitting off) */
    dg_channel ch;
};

dg_status dg_channel_split_new(const dg_tokenizer *t, int split, dg_channel_split **out, dg_error *err) {
    *out = NULL;
    dg_channel_split *s = calloc(1, sizeof *s);
    if (!s) return dg_fail(err, DG_ERR_NOMEM, "channel splitter: out of memory");
    dg_status st = dg_detok_stream_new(t, 1, &s->d, err);
    if (st) { free(s); return st; }
    for (int k = 0; k < D_N; k++) {
        s->delim[k] = -1;
        int32_t *ids = NULL;
        size_t n = 0;
        if (split && !dg_tokenize(t, delim_text[k], strlen(delim_text[k]), 0, &ids, &n, NULL) && n == 1 &&
            dg_token_is_special(t, ids[0]))
            s->delim[k] = ids[0];
        free(ids);
    }
    s->ch = DG_CHANNEL_CONTENT;
    *out = s;
    return DG_OK;
}

void dg_channel_split_free(dg_channel_split *s) {
    if (!s) return;
    dg_detok_stream_free(s->d);
    free(s);
}

dg_channel dg_channel_split_current(const dg_channel_split *s) { return s->ch; }

static dg_status emit(dg_channel_split *s, const int32_t *ids, size_t n, dg_channel_fn fn, void *user, dg_error *err) {
    if (!n) return DG_OK;
    char *t = NULL;
    size_t len = 0;
    dg_status st = dg_detok_stream_push(s->d, ids, n, &t, &len, err);
    if (!st && len) fn(user, s->ch, t, len, 0);
    free(t);
    return st;
}

/* The span of the current channel ends: its held bytes, with end = 1 (also when empty). */
static dg_status end_span(dg_channel_split *s, dg_channel_fn fn, void *user, dg_error *err) {
    char *t = NULL, empty[1] = "";
    size_t len = 0;
    dg_status st = dg_detok_stream_flush(s->d, &t, &len, err);
    if (!st) fn(user, s->ch, t ? t : empty, len, 1);
    free(t);
    return st;
}

dg_status dg_channel_split_push(dg_channel_split *s, const int32_t *ids, size_t n, dg_channel_fn fn, void *user,
                                dg_error *err) {
    size_t start = 0;
    dg_status st = DG_OK;
    for (size_t i = 0; i < n && !st; i++) {
        int k = 0;
        while (k < D_N && (s->delim[k] < 0 || ids[i] != s->delim[k])) k++;
        if (k == D_N) continue;
        if (!(st = emit(s, ids + start, i - start, fn, user, err))) st = end_span(s, fn, user, err);
        s->ch = delim_to[k];
        start = i + 1;
    }
    return st ? st : emit(s, ids + start, n - start, fn, user, err);
}

dg_status dg_channel_split_end(dg_channel_split *s, dg_channel_fn fn, void *user, dg_error *err) {
    return end_span(s, fn, user, err);
}
