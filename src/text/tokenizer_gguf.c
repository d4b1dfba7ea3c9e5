/* The tokenizer from GGUF metadata (FORMATS.md §3.2, `tokenizer.ggml.*`, model "gemma4"): the
 * same tables as tokenizer.json gives. Every token is a vocabulary piece; tokens the converter
 * typed control, user-defined or unknown are the tokenizer.json added tokens (all special in
 * Gemma 4), matched before BPE; merges are "left right" split at the first space. */
#include "core/error.h"
#include "format/gguf.h"
#include "format/gguf_write.h"
#include "text/tokenizer_int.h"
#include <stdlib.h>
#include <string.h>

#define MAX_IDS (1 << 26)
enum { TYPE_UNKNOWN = 2, TYPE_CONTROL = 3, TYPE_USER = 4 };

typedef struct arena { char *d; size_t n, cap; } arena;

static int put(arena *a, const char *s, size_t n, uint32_t *off) {
    if (a->n + n >= UINT32_MAX) return 0;
    if (a->n + n > a->cap) {
        size_t c = a->cap ? a->cap : 1 << 20;
        while (c < a->n + n) c *= 2;
        char *d = realloc(a->d, c);
        if (!d) return 0;
        a->d = d;
        a->cap = c;
    }
    memcpy(a->d + a->n, s, n);
    *off = (uint32_t)a->n;
    a->n += n;
    return 1;
}

/* A special id key, else the id of `piece`; must lie in the vocabulary. */
static dg_status special_id(const dg_gguf *f, const dg_tokenizer *t, const char *key, const char *piece, int32_t *out, dg_error *err) {
    int64_t v;
    int found;
    dg_status st = dg_gguf_get_int(f, key, 1, &v, &found, err);
    if (st) return st;
    if (!found) { *out = dg_tok_piece_id(t, piece, strlen(piece)); return DG_OK; }
    if (v < 0 || v >= t->n_ids) return dg_fail(err, DG_ERR_FORMAT, "%s: metadata '%s' = %lld is outside the vocabulary", dg_gguf_path(f), key, (long long)v);
    *out = (int32_t)v;
    return DG_OK;
}

static dg_status fill(const dg_gguf *f, tok_src *s, arena *a, dg_error *err) {
    const char *P = dg_gguf_path(f);
    const char *model;
    size_t ml;
    const dg_gguf_kv *tok, *types, *scores, *merges;
    dg_status st = dg_gguf_get_str(f, "tokenizer.ggml.model", 0, &model, &ml, NULL, err);
    if (st) return st;
    if (ml != 6 || memcmp(model, "gemma4", 6))
        return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: tokenizer.ggml.model '%.*s' is not supported (expected 'gemma4')", P, (int)(ml > 40 ? 40 : ml), model);
    if ((st = dg_gguf_get_array(f, "tokenizer.ggml.tokens", DG_GV_STRING, 0, &tok, err)) ||
        (st = dg_gguf_get_array(f, "tokenizer.ggml.token_type", DG_GV_I64, 0, &types, err)) ||
        (st = dg_gguf_get_array(f, "tokenizer.ggml.scores", DG_GV_F32, 1, &scores, err)))
        return st;
    if (tok->count == 0 || tok->count > MAX_IDS) return dg_fail(err, DG_ERR_FORMAT, "%s: tokenizer.ggml.tokens has %llu entries", P, (unsigned long long)tok->count);
    if (types->count != tok->count || (scores && scores->count != tok->count))
        return dg_fail(err, DG_ERR_FORMAT, "%s: tokenizer arrays of unequal length: %llu tokens, %llu token_type, %llu scores", P,
                       (unsigned long long)tok->count, (unsigned long long)types->count, (unsigned long long)(scores ? scores->count : tok->count));
    if ((st = dg_gguf_get_array(f, "tokenizer.ggml.merges", DG_GV_STRING, 0, &merges, err))) return st;
    size_t n = (size_t)tok->count, n_special = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t ty = dg_gguf_arr_int(types, i);
        n_special += ty == TYPE_UNKNOWN || ty == TYPE_CONTROL || ty == TYPE_USER;
    }
    s->vocab = malloc(n * sizeof *s->vocab);
    s->added = malloc((n_special ? n_special : 1) * sizeof *s->added);
    s->merges = malloc((merges->count ? (size_t)merges->count : 1) * sizeof *s->merges);
    if (!s->vocab || !s->added || !s->merges) return dg_fail(err, DG_ERR_NOMEM, "%s: out of memory", P);
    const uint8_t *p = tok->data;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *str = dg_gguf_arr_next_str(&p, &len);
        tok_entry *e = &s->vocab[s->n_vocab++];
        e->id = (int64_t)i;
        e->len = (uint32_t)len;
        if (len >= UINT32_MAX || !put(a, str, len, &e->off)) return dg_fail(err, DG_ERR_NOMEM, "%s: tokenizer data too large", P);
        int64_t ty = dg_gguf_arr_int(types, i);
        if (ty == TYPE_UNKNOWN || ty == TYPE_CONTROL || ty == TYPE_USER) {
            if (!len) return dg_fail(err, DG_ERR_FORMAT, "%s: special token %zu is empty", P, i);
            s->added[s->n_added++] = (tok_added_ent){e->off, e->len, e->id, 1};
        }
    }
    p = merges->data;
    for (uint64_t i = 0; i < merges->count; i++) {
        size_t len;
        const char *str = dg_gguf_arr_next_str(&p, &len);
        const char *sp = memchr(str, ' ', len);
        if (!sp) return dg_fail(err, DG_ERR_FORMAT, "%s: tokenizer.ggml.merges[%llu] \"%.*s\" has no space", P, (unsigned long long)i, (int)(len > 60 ? 60 : len), str);
        tok_merge *m = &s->merges[s->n_merges++];
        size_t la = (size_t)(sp - str);
        m->alen = (uint32_t)la;
        m->blen = (uint32_t)(len - la - 1);
        if (!put(a, str, la, &m->aoff) || !put(a, sp + 1, len - la - 1, &m->boff)) return dg_fail(err, DG_ERR_NOMEM, "%s: tokenizer data too large", P);
    }
    return DG_OK;
}

dg_status dg_tokenizer_load_gguf(const char *path, dg_tokenizer **out, dg_error *err) {
    *out = NULL;
    dg_gguf *f;
    dg_status st = dg_gguf_open(path, &f, err);
    if (st) return st;
    dg_tokenizer *t = calloc(1, sizeof *t);
    tok_src s = {.what = dg_gguf_path(f)};
    arena a = {0};
    if (!t) st = dg_fail(err, DG_ERR_NOMEM, "out of memory");
    if (!st) st = fill(f, &s, &a, err);
    if (!st) {
        s.arena = a.d ? a.d : malloc(1);
        a.d = NULL;
        st = s.arena ? dg_tok_build(&s, t, err) : dg_fail(err, DG_ERR_NOMEM, "out of memory");
        free(s.arena);
    }
    int add_bos = 0, found;
    if (!st) st = special_id(f, t, "tokenizer.ggml.bos_token_id", "<bos>", &t->bos_id, err);
    if (!st) st = special_id(f, t, "tokenizer.ggml.eos_token_id", "<eos>", &t->eos_id, err);
    if (!st) st = special_id(f, t, "tokenizer.ggml.padding_token_id", "<pad>", &t->pad_id, err);
    if (!st) st = special_id(f, t, "tokenizer.ggml.unknown_token_id", "<unk>", &t->unk_id, err);
    if (!st) st = dg_gguf_get_bool(f, "tokenizer.ggml.add_bos_token", 1, &add_bos, &found, err);
    if (t) t->add_bos = add_bos;
    free(a.d);
    free(s.vocab);
    free(s.merges);
    free(s.added);
    dg_gguf_close(f);
    if (st) { dg_tokenizer_free(t); return st; }
    *out = t;
    return DG_OK;
}

/* ---- writing: the keys llama.cpp's converter writes for this tokenizer */

typedef struct rank_pair { uint32_t rank; int32_t l, r; } rank_pair;
static int by_rank(const void *a, const void *b) {
    uint32_t x = ((const rank_pair *)a)->rank, y = ((const rank_pair *)b)->rank;
    return x < y ? -1 : x > y;
}

/* The converter types these specials user-defined (they print), the others control. */
static int user_defined(const char *p, size_t n) {
    static const char *const names[] = {"<|tool_call>", "<tool_call|>", "<|tool_response>", "<tool_response|>", "<|\"|>", "<|channel>", "<channel|>"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == n && !memcmp(names[i], p, n)) return 1;
    return 0;
}

dg_status dg_tokenizer_to_gguf(const dg_tokenizer *t, dg_ggw *w, dg_error *err) {
    size_t n = (size_t)t->n_ids, nm = 0;
    const char **s = malloc(n * sizeof *s);
    size_t *len = malloc(n * sizeof *len);
    int32_t *type = malloc(n * sizeof *type);
    float *score = malloc(n * sizeof *score);
    rank_pair *rp = malloc(((size_t)t->m_mask + 1) * sizeof *rp);
    dg_status st = DG_OK;
    if (!s || !len || !type || !score || !rp) { st = dg_fail(err, DG_ERR_NOMEM, "out of memory"); goto done; }
    for (size_t i = 0; i < n; i++) {
        s[i] = t->pieces + t->off[i];
        len[i] = t->len[i];
        type[i] = t->flags[i] & TOK_ADDED ? (user_defined(s[i], len[i]) ? TYPE_USER : TYPE_CONTROL) : t->byte_of[i] >= 0 ? 6 : 1;
        score[i] = -1000.0f;
    }
    dg_ggw_str(w, "tokenizer.ggml.model", "gemma4");
    dg_ggw_arr_str(w, "tokenizer.ggml.tokens", s, len, n);
    dg_ggw_arr_f32(w, "tokenizer.ggml.scores", score, n);
    dg_ggw_arr_i32(w, "tokenizer.ggml.token_type", type, n);
    for (uint32_t i = 0; i <= t->m_mask; i++)
        if (t->mkey[i] != UINT64_MAX) rp[nm++] = (rank_pair){t->mrank[i], (int32_t)(t->mkey[i] >> 32), (int32_t)(uint32_t)t->mkey[i]};
    qsort(rp, nm, sizeof *rp, by_rank);
    char **ms = malloc((nm ? nm : 1) * sizeof *ms);
    size_t *ml = malloc((nm ? nm : 1) * sizeof *ml);
    if (!ms || !ml) { free(ms); free(ml); st = dg_fail(err, DG_ERR_NOMEM, "out of memory"); goto done; }
    size_t k = 0;
    for (; k < nm; k++) {
        uint32_t a = t->len[rp[k].l], b = t->len[rp[k].r];
        if (!(ms[k] = malloc((size_t)a + b + 1))) break;
        memcpy(ms[k], t->pieces + t->off[rp[k].l], a);
        ms[k][a] = ' ';
        memcpy(ms[k] + a + 1, t->pieces + t->off[rp[k].r], b);
        ml[k] = (size_t)a + b + 1;
    }
    if (k == nm) dg_ggw_arr_str(w, "tokenizer.ggml.merges", (const char *const *)ms, ml, nm);
    else st = dg_fail(err, DG_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < k; i++) free(ms[i]);
    free(ms);
    free(ml);
    if (st) goto done;
    dg_ggw_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)t->bos_id);
    dg_ggw_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)t->eos_id);
    dg_ggw_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)t->unk_id);
    dg_ggw_u32(w, "tokenizer.ggml.padding_token_id", (uint32_t)t->pad_id);
    int32_t mask = dg_tok_piece_id(t, "<mask>", 6);
    if (mask >= 0) dg_ggw_u32(w, "tokenizer.ggml.mask_token_id", (uint32_t)mask);
    dg_ggw_bool(w, "tokenizer.ggml.add_bos_token", 1);
    dg_ggw_bool(w, "tokenizer.ggml.add_eos_token", 0);
    dg_ggw_bool(w, "tokenizer.ggml.add_space_prefix", 0);
done:
    free(s); free(len); free(type); free(score); free(rp);
    return st;
}
