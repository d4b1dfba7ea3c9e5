/* Tokenize and streaming detokenize (text/bpe.c, text/detok.c) with the Gemma 4 tokenizer.
 * The input is a text: its ids must be in range and decode back to it (valid UTF-8 without
 * U+2581, which the decoder maps to a space by design). The same bytes read as token ids,
 * pushed to the streaming decoder in chunks the input also chooses, must give exactly
 * dg_detokenize of all of them, with and without special tokens. */
#include "fuzz.h"
#include "text/utf8.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; fuzz_tokenizer(); return 0; }

static void stream_equals_whole(const dg_tokenizer *t, const int32_t *ids, size_t n, const uint8_t *chunks, size_t nc, int skip) {
    char *whole = NULL;
    size_t wl = 0;
    dg_error e = {0};
    FUZZ_ASSERT(dg_detokenize(t, ids, n, skip, &whole, &wl, &e) == DG_OK, "detokenize: %s", e.msg);
    dg_detok_stream *s = NULL;
    FUZZ_ASSERT(dg_detok_stream_new(t, skip, &s, &e) == DG_OK, "stream: %s", e.msg);
    char *cat = malloc(wl + 1);
    size_t cl = 0;
    for (size_t at = 0, c = 0, empty = 0; at <= n; c++) {
        size_t k = nc ? chunks[c % nc] % 5 : 1;     /* 0..4 ids per push, empty pushes included */
        if (k == 0 && empty) k = 1;                 /* but never two in a row: progress */
        empty = k == 0;
        if (at + k > n) k = n - at;
        char *piece = NULL;
        size_t pl = 0;
        dg_status st = at == n ? dg_detok_stream_flush(s, &piece, &pl, &e) : dg_detok_stream_push(s, ids + at, k, &piece, &pl, &e);
        FUZZ_ASSERT(st == DG_OK, "stream push/flush: %s", e.msg);
        FUZZ_ASSERT(cl + pl <= wl, "the stream gives more text than the whole decode");
        memcpy(cat + cl, piece, pl);
        cl += pl;
        free(piece);
        if (at == n) break;
        at += k;
    }
    FUZZ_ASSERT(cl == wl && !memcmp(cat, whole, wl), "stream (%zu bytes) != whole decode (%zu bytes)", cl, wl);
    free(cat);
    free(whole);
    dg_detok_stream_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const dg_tokenizer *t = fuzz_tokenizer();
    const int V = dg_tokenizer_vocab_size(t);
    int32_t *ids = NULL;
    size_t n = 0;
    dg_error e = {0};
    FUZZ_ASSERT(dg_tokenize(t, (const char *)data, size, 0, &ids, &n, &e) == DG_OK, "tokenize: %s", e.msg);
    for (size_t i = 0; i < n; i++) FUZZ_ASSERT(ids[i] >= 0 && ids[i] < V, "id %d out of range", ids[i]);
    if (dg_utf8_valid(data, size) && !memmem(data, size, "\xe2\x96\x81", 3)) {
        char *text = NULL;
        size_t len = 0;
        FUZZ_ASSERT(dg_detokenize(t, ids, n, 0, &text, &len, &e) == DG_OK, "detokenize: %s", e.msg);
        FUZZ_ASSERT(len == size && !memcmp(text, data, size), "decode(encode(text)) != text (%zu vs %zu bytes)", len, size);
        free(text);
    }
    stream_equals_whole(t, ids, n, data, size, 0);
    free(ids);
    /* the bytes as ids: 3 bytes each, folded into the vocabulary */
    size_t m = size / 3;
    int32_t *raw = malloc((m ? m : 1) * sizeof *raw);
    for (size_t i = 0; i < m; i++) raw[i] = (int32_t)(((uint32_t)data[3 * i] << 16 | (uint32_t)data[3 * i + 1] << 8 | data[3 * i + 2]) % (uint32_t)V);
    stream_equals_whole(t, raw, m, data, size, 0);
    stream_equals_whole(t, raw, m, data + size / 2, size - size / 2, 1);
    free(raw);
    return 0;
}
