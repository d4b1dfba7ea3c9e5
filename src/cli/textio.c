#include "cli/textio.h"
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

dg_tokenizer *textio_load(const char *path, const char *model_dir, dg_error *err) {
    struct stat sb;
    if (!path && stat(model_dir, &sb) != 0) {
        /* the model directory is the mistake, not its tokenizer.json */
        err->code = DG_ERR_IO;
        snprintf(err->msg, sizeof err->msg, "%s: no such model directory or GGUF file", model_dir);
        return NULL;
    }
    if (!path) path = model_dir;    /* its tokenizer.json, or a GGUF model's metadata */
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
    dg_channel_split *split;
    FILE *out;
    int show_thinking;
    dg_channel shown;           /* channel of the last text written (markers on a change) */
};

textio_stream *textio_stream_new(const dg_tokenizer *t, FILE *out, int show_thinking) {
    textio_stream *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    if (dg_channel_split_new(t, 1, &s->split, NULL)) { free(s); return NULL; }
    s->out = out;
    s->show_thinking = show_thinking;
    return s;
}

/* Content and tool-call text are printed; the thinking channel only with show_thinking, set off
 * by markers. */
static void text_out(void *user, dg_channel ch, char *text, size_t len, int end) {
    textio_stream *s = user;
    if (ch == DG_CHANNEL_REASONING && !s->show_thinking) return;
    if (ch != s->shown && s->show_thinking) {
        if (s->shown == DG_CHANNEL_REASONING) fputs(" [/thinking]\n", s->out);
        if (ch == DG_CHANNEL_REASONING) fputs("[thinking] ", s->out);
    }
    s->shown = ch;
    if (len) fwrite(text, 1, len, s->out);
}

void textio_stream_push(textio_stream *s, const int32_t *ids, int n) {
    if (!s) return;
    if (n > 0) dg_channel_split_push(s->split, ids, (size_t)n, text_out, s, NULL);
    fflush(s->out);
}

void textio_stream_end(textio_stream *s) {
    if (!s) return;
    dg_channel_split_end(s->split, text_out, s, NULL);
    fflush(s->out);
    dg_channel_split_free(s->split);
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
