#include "cli/textio.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Channel delimiters of the Gemma 4 template (TOKENIZER.md §3). */
#define TOK_CHANNEL_OPEN 100
#define TOK_CHANNEL_CLOSE 101

dg_tokenizer *textio_load(const char *path, const char *model_dir, dg_error *err) {
    char buf[4096];
    struct stat sb;
    if (!path && (stat(model_dir, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        /* the model directory is the mistake, not its tokenizer.json */
        err->code = DG_ERR_IO;
        snprintf(err->msg, sizeof err->msg, "%s: no such model directory", model_dir);
        return NULL;
    }
    if (!path) {
        snprintf(buf, sizeof buf, "%s/tokenizer.json", model_dir);
        path = buf;
    }
    dg_tokenizer *t = NULL;
    if (dg_tokenizer_load(path, &t, err)) return NULL;
    return t;
}

dg_status textio_user_turn(const dg_tokenizer *t, const char *system, const char *user, int thinking, int first,
                           int32_t **ids, int *n, dg_error *err) {
    dg_chat_msg msgs[2];
    int k = 0;
    memset(msgs, 0, sizeof msgs);
    if (first && system && *system) { msgs[k].role = "system"; msgs[k].content = system; k++; }
    msgs[k].role = "user";
    msgs[k].content = user;
    k++;
    char *text = NULL;
    dg_status st = dg_chat_render(t, msgs, k, NULL, thinking, 1, &text, err);
    if (st) return st;
    const char *body = text;
    char *joined = NULL;
    if (!first) {
        /* a continuation: no <bos>; the previous answer's <turn|> is followed by a newline */
        if (!strncmp(body, "<bos>", 5)) body += 5;
        size_t l = strlen(body);
        joined = malloc(l + 2);
        if (!joined) { free(text); return DG_ERR_NOMEM; }
        joined[0] = '\n';
        memcpy(joined + 1, body, l + 1);
        body = joined;
    }
    size_t nn = 0;
    st = dg_tokenize(t, body, strlen(body), 0, ids, &nn, err);
    *n = (int)nn;
    free(text);
    free(joined);
    return st;
}

struct textio_stream {
    dg_detok_stream *d;
    FILE *out;
    int show_thinking, in_channel;
};

textio_stream *textio_stream_new(const dg_tokenizer *t, FILE *out, int show_thinking) {
    textio_stream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (dg_detok_stream_new(t, 1, &s->d, NULL)) { free(s); return NULL; }
    s->out = out;
    s->show_thinking = show_thinking;
    return s;
}

static void emit(textio_stream *s, const int32_t *ids, int n) {
    char *txt = NULL;
    size_t len = 0;
    if (n > 0 && !dg_detok_stream_push(s->d, ids, (size_t)n, &txt, &len, NULL) && len) fwrite(txt, 1, len, s->out);
    free(txt);
}

static void flush(textio_stream *s) {
    char *txt = NULL;
    size_t len = 0;
    if (!dg_detok_stream_flush(s->d, &txt, &len, NULL) && len) fwrite(txt, 1, len, s->out);
    free(txt);
}

void textio_stream_push(textio_stream *s, const int32_t *ids, int n) {
    if (!s) return;
    int start = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] != TOK_CHANNEL_OPEN && ids[i] != TOK_CHANNEL_CLOSE) continue;
        if (!s->in_channel || s->show_thinking) emit(s, ids + start, i - start);
        flush(s);
        s->in_channel = ids[i] == TOK_CHANNEL_OPEN;
        if (s->show_thinking) fputs(s->in_channel ? "[thinking] " : " [/thinking]\n", s->out);
        start = i + 1;
    }
    if (!s->in_channel || s->show_thinking) emit(s, ids + start, n - start);
    fflush(s->out);
}

void textio_stream_end(textio_stream *s) {
    if (!s) return;
    flush(s);
    fflush(s->out);
    dg_detok_stream_free(s->d);
    free(s);
}

const char *textio_piece(void *tokenizer, int32_t id, char *buf, size_t n) {
    size_t len = 0;
    const char *p = dg_token_piece(tokenizer, id, &len);
    if (!p || n == 0) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len && o + 1 < n; i++) {
        if (i + 2 < len && (unsigned char)p[i] == 0xE2 && (unsigned char)p[i + 1] == 0x96 && (unsigned char)p[i + 2] == 0x81) {
            buf[o++] = ' ';
            i += 2;
        } else if (p[i] == '\n') {
            if (o + 3 < n) { buf[o++] = '\\'; buf[o++] = 'n'; }
        } else buf[o++] = p[i];
    }
    buf[o] = 0;
    return buf;
}
