/* Decoding (TOKENIZER.md §5), HF's decoder chain Replace(U+2581 -> " "), ByteFallback, Fuse:
 * a run of <0xHH> tokens is emitted as its bytes if they are valid UTF-8, else as one U+FFFD per
 * byte token. The streaming form holds back a trailing byte run so its output matches. */
#include "text/tokenizer_int.h"
#include "core/error.h"
#include "text/json_scan.h"
#include "text/utf8.h"
#include <stdlib.h>
#include <string.h>

#define REPL "\xEF\xBF\xBD"

struct dg_detok_stream {
    const dg_tokenizer *t;
    int skip_special;
    unsigned char *run;     /* pending byte-token run */
    size_t n_run, cap_run;
};

/* Emits a finished byte run. */
static int emit_run(js_buf *out, const unsigned char *run, size_t n) {
    if (dg_utf8_valid(run, n)) return js_buf_put(out, run, n);
    for (size_t i = 0; i < n; i++)
        if (!js_buf_put(out, REPL, 3)) return 0;
    return 1;
}

/* A piece with every U+2581 turned into a space. */
static int emit_piece(js_buf *out, const char *p, size_t n) {
    if (!js_buf_reserve(out, n)) return 0;
    size_t i = 0;
    while (i < n) {
        const char *m = (n - i >= 3) ? memchr(p + i, 0xE2, n - i) : NULL;
        size_t stop = m ? (size_t)(m - p) : n;
        if (!js_buf_put(out, p + i, stop - i)) return 0;
        if (!m) break;
        if (stop + 3 <= n && (unsigned char)p[stop + 1] == 0x96 && (unsigned char)p[stop + 2] == 0x81) {
            if (!js_buf_put(out, " ", 1)) return 0;
            i = stop + 3;
        } else {
            if (!js_buf_put(out, p + stop, 1)) return 0;
            i = stop + 1;
        }
    }
    return 1;
}

static int run_put(dg_detok_stream *s, unsigned char b) {
    if (s->n_run == s->cap_run) {
        size_t nc = s->cap_run ? s->cap_run * 2 : 16;
        unsigned char *r = realloc(s->run, nc);
        if (!r) return 0;
        s->run = r;
        s->cap_run = nc;
    }
    s->run[s->n_run++] = b;
    return 1;
}

/* Core of both forms: decodes ids into out, leaving a trailing byte run in s. */
static dg_status decode_ids(dg_detok_stream *s, const int32_t *ids, size_t n, js_buf *out, dg_error *err) {
    const dg_tokenizer *t = s->t;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= t->n_ids)
            return dg_fail(err, DG_ERR_RANGE, "token id %d at position %zu is out of range [0, %d)", id, i, t->n_ids);
        if (s->skip_special && (t->flags[id] & TOK_SPECIAL)) continue;
        int b = t->byte_of[id];
        if (b >= 0) {
            if (!run_put(s, (unsigned char)b)) return dg_fail(err, DG_ERR_NOMEM, "detokenize: out of memory");
            continue;
        }
        if (s->n_run) {
            if (!emit_run(out, s->run, s->n_run)) return dg_fail(err, DG_ERR_NOMEM, "detokenize: out of memory");
            s->n_run = 0;
        }
        if (!emit_piece(out, t->pieces + t->off[id], t->len[id])) return dg_fail(err, DG_ERR_NOMEM, "detokenize: out of memory");
    }
    return DG_OK;
}

static dg_status finish(js_buf *out, char **text, size_t *len, dg_error *err) {
    if (!js_buf_reserve(out, 0)) { free(out->d); return dg_fail(err, DG_ERR_NOMEM, "detokenize: out of memory"); }
    out->d[out->n] = 0;
    *text = out->d;
    if (len) *len = out->n;
    return DG_OK;
}

dg_status dg_detokenize(const dg_tokenizer *t, const int32_t *ids, size_t n, int skip_special,
                        char **text, size_t *len, dg_error *err) {
    if (!t || !text || (!ids && n)) return dg_fail(err, DG_ERR_ARG, "dg_detokenize: NULL argument");
    *text = NULL;
    if (len) *len = 0;
    dg_detok_stream s = {t, skip_special, NULL, 0, 0};
    js_buf out = {0};
    dg_status st = decode_ids(&s, ids, n, &out, err);
    if (!st && s.n_run && !emit_run(&out, s.run, s.n_run)) st = dg_fail(err, DG_ERR_NOMEM, "detokenize: out of memory");
    free(s.run);
    if (st) { free(out.d); return st; }
    return finish(&out, text, len, err);
}

dg_status dg_detok_stream_new(const dg_tokenizer *t, int skip_special, dg_detok_stream **out, dg_error *err) {
    if (!t || !out) return dg_fail(err, DG_ERR_ARG, "dg_detok_stream_new: NULL argument");
    *out = calloc(1, sizeof **out);
    if (!*out) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    (*out)->t = t;
    (*out)->skip_special = skip_special;
    return DG_OK;
}

dg_status dg_detok_stream_push(dg_detok_stream *s, const int32_t *ids, size_t n, char **text, size_t *len, dg_error *err) {
    if (!s || !text || (!ids && n)) return dg_fail(err, DG_ERR_ARG, "dg_detok_stream_push: NULL argument");
    *text = NULL;
    if (len) *len = 0;
    /* Validate first so that a bad id leaves the stream unchanged. */
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= s->t->n_ids)
            return dg_fail(err, DG_ERR_RANGE, "token id %d at position %zu is out of range [0, %d)", ids[i], i, s->t->n_ids);
    js_buf out = {0};
    dg_status st = decode_ids(s, ids, n, &out, err);
    if (st) { free(out.d); return st; }
    return finish(&out, text, len, err);
}

dg_status dg_detok_stream_flush(dg_detok_stream *s, char **text, size_t *len, dg_error *err) {
    if (!s || !text) return dg_fail(err, DG_ERR_ARG, "dg_detok_stream_flush: NULL argument");
    *text = NULL;
    js_buf out = {0};
    if (s->n_run && !emit_run(&out, s->run, s->n_run)) { free(out.d); return dg_fail(err, DG_ERR_NOMEM, "detokenize: out of memory"); }
    s->n_run = 0;
    return finish(&out, text, len, err);
}

void dg_detok_stream_free(dg_detok_stream *s) {
    if (!s) return;
    free(s->run);
    free(s);
}
