/* Loads an HF tokenizer.json (BPE + byte fallback) and tokenizer_config.json into flat tables.
 * The 33 MB file is read with a purpose-built pull scanner (json_scan.c), not a DOM. */
#include "text/tokenizer_int.h"
#include "core/error.h"
#include "format/gguf_set.h"
#include "core/file.h"
#include "core/json.h"
#include "text/json_scan.h"
#include "text/utf8.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_IDS (1 << 26)
#define SPACE_PIECE "\xE2\x96\x81"

typedef tok_entry entry;
typedef tok_merge merge_ent;
typedef tok_added_ent added_ent;

typedef struct scan {
    js j;
    js_buf arena, key, val;
    entry *vocab; size_t n_vocab, cap_vocab;
    merge_ent *merges; size_t n_merges, cap_merges;
    added_ent *added; size_t n_added, cap_added;
    int have_model, have_vocab, have_merges, byte_fallback;
} scan;

#define GROW(arr, n, cap) \
    ((n) < (cap) || grow_array((void **)&(arr), &(cap), sizeof *(arr)))

static int grow_array(void **p, size_t *cap, size_t elem) {
    size_t nc = *cap ? *cap * 2 : 1024;
    void *q = realloc(*p, nc * elem);
    if (!q) return 0;
    *p = q;
    *cap = nc;
    return 1;
}

/* Copies the string just scanned (s->val) into the arena; returns its offset. */
static int stash(scan *s, const js_buf *b, uint32_t *off, uint32_t *len) {
    if (s->arena.n + b->n >= UINT32_MAX) return js_error(&s->j, "tokenizer data larger than 4 GB");
    *off = (uint32_t)s->arena.n;
    *len = (uint32_t)b->n;
    if (!js_buf_put(&s->arena, b->d, b->n)) return js_error(&s->j, "out of memory");
    return 1;
}

static int parse_vocab(scan *s) {
    int first = 1, r;
    if (!js_obj_begin(&s->j)) return 0;
    while ((r = js_obj_next(&s->j, &first, &s->key)) == 1) {
        if (!GROW(s->vocab, s->n_vocab, s->cap_vocab)) return js_error(&s->j, "out of memory");
        entry *e = &s->vocab[s->n_vocab];
        long long id;
        if (!stash(s, &s->key, &e->off, &e->len) || !js_int(&s->j, &id)) return 0;
        if (id < 0 || id >= MAX_IDS) return js_error(&s->j, "vocab id %lld out of range", id);
        e->id = id;
        s->n_vocab++;
    }
    s->have_vocab = 1;
    return r == 0;
}

/* A merge is ["a", "b"] or the legacy "a b" (split at the first space: pieces hold no U+0020). */
static int parse_merges(scan *s) {
    int first = 1, r;
    if (!js_arr_begin(&s->j)) return 0;
    while ((r = js_arr_next(&s->j, &first)) == 1) {
        if (!GROW(s->merges, s->n_merges, s->cap_merges)) return js_error(&s->j, "out of memory");
        merge_ent *m = &s->merges[s->n_merges];
        if (js_peek(&s->j) == '"') {
            if (!js_string(&s->j, &s->val)) return 0;
            char *sp = memchr(s->val.d, ' ', s->val.n);
            if (!sp) return js_error(&s->j, "merge %zu: \"%.60s\" has no space", s->n_merges, s->val.d);
            js_buf a = {s->val.d, (size_t)(sp - s->val.d), 0}, b = {sp + 1, s->val.n - (size_t)(sp - s->val.d) - 1, 0};
            if (!stash(s, &a, &m->aoff, &m->alen) || !stash(s, &b, &m->boff, &m->blen)) return 0;
        } else {
            int f2 = 1, k = 0;
            if (!js_arr_begin(&s->j)) return 0;
            while ((r = js_arr_next(&s->j, &f2)) == 1) {
                if (k == 2) return js_error(&s->j, "merge %zu has more than two pieces", s->n_merges);
                if (!js_string(&s->j, &s->val)) return 0;
                if (!(k == 0 ? stash(s, &s->val, &m->aoff, &m->alen) : stash(s, &s->val, &m->boff, &m->blen))) return 0;
                k++;
            }
            if (r < 0) return 0;
            if (k != 2) return js_error(&s->j, "merge %zu has %d piece(s), expected 2", s->n_merges, k);
        }
        s->n_merges++;
    }
    s->have_merges = 1;
    return r == 0;
}

static int expect_string(scan *s, const char *field, const char *want) {
    if (js_null(&s->j)) return want == NULL || !*want ? 1 : js_error(&s->j, "%s is null, expected \"%s\"", field, want);
    if (!js_string(&s->j, &s->val)) return 0;
    if (want && strcmp(s->val.d, want)) {
        dg_fail(s->j.err, DG_ERR_UNSUPPORTED, "%s: %s \"%.60s\" is not supported (expected \"%s\")",
                s->j.what, field, s->val.d, want);
        s->j.failed = 1;
        return 0;
    }
    return 1;
}

static int parse_model(scan *s) {
    int first = 1, r;
    if (!js_obj_begin(&s->j)) return 0;
    s->have_model = 1;
    while ((r = js_obj_next(&s->j, &first, &s->key)) == 1) {
        const char *k = s->key.d;
        int ok;
        if (!strcmp(k, "type")) ok = expect_string(s, "model.type", "BPE");
        else if (!strcmp(k, "vocab")) ok = parse_vocab(s);
        else if (!strcmp(k, "merges")) ok = parse_merges(s);
        else if (!strcmp(k, "byte_fallback")) ok = js_bool(&s->j, &s->byte_fallback);
        else if (!strcmp(k, "continuing_subword_prefix")) ok = expect_string(s, "model.continuing_subword_prefix", "");
        else if (!strcmp(k, "end_of_word_suffix")) ok = expect_string(s, "model.end_of_word_suffix", "");
        else ok = js_skip(&s->j);
        if (!ok) return 0;
    }
    return r == 0;
}

static int parse_added(scan *s) {
    int first = 1, r;
    if (!js_arr_begin(&s->j)) return 0;
    while ((r = js_arr_next(&s->j, &first)) == 1) {
        if (!GROW(s->added, s->n_added, s->cap_added)) return js_error(&s->j, "out of memory");
        added_ent *a = &s->added[s->n_added];
        int f2 = 1, have_id = 0, have_content = 0, flag;
        long long id = -1;
        a->special = 0;
        if (!js_obj_begin(&s->j)) return 0;
        while ((r = js_obj_next(&s->j, &f2, &s->key)) == 1) {
            const char *k = s->key.d;
            int ok = 1;
            if (!strcmp(k, "id")) ok = have_id = js_int(&s->j, &id);
            else if (!strcmp(k, "content")) ok = have_content = js_string(&s->j, &s->val) && stash(s, &s->val, &a->off, &a->len);
            else if (!strcmp(k, "special")) ok = js_bool(&s->j, &a->special);
            else if (!strcmp(k, "lstrip") || !strcmp(k, "rstrip") || !strcmp(k, "single_word")) {
                /* Gemma's added tokens never strip; matching them otherwise would differ from HF. */
                ok = js_bool(&s->j, &flag);
                if (ok && flag) {
                    dg_fail(s->j.err, DG_ERR_UNSUPPORTED, "%s: added token %lld: %s=true is not supported", s->j.what, id, k);
                    s->j.failed = 1;
                    return 0;
                }
            } else ok = js_skip(&s->j);
            if (!ok) return 0;
        }
        if (r < 0) return 0;
        if (!have_id || !have_content) return js_error(&s->j, "added token %zu lacks id or content", s->n_added);
        if (id < 0 || id >= MAX_IDS) return js_error(&s->j, "added token id %lld out of range", id);
        if (a->len == 0) return js_error(&s->j, "added token %lld has empty content", id);
        a->id = id;
        s->n_added++;
    }
    return r == 0;
}

static int parse_root(scan *s) {
    int first = 1, r;
    if (!js_obj_begin(&s->j)) return 0;
    while ((r = js_obj_next(&s->j, &first, &s->key)) == 1) {
        int ok;
        if (!strcmp(s->key.d, "model")) ok = parse_model(s);
        else if (!strcmp(s->key.d, "added_tokens")) ok = js_null(&s->j) || parse_added(s);
        else ok = js_skip(&s->j);
        if (!ok) return 0;
    }
    if (r < 0) return 0;
    if (js_peek(&s->j) != 0) return js_error(&s->j, "trailing data after the top-level object");
    return 1;
}

/* ------------------------------------------------------------------ tables */

static uint32_t hash_bytes(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    h ^= h >> 29;
    return (uint32_t)(h ^ (h >> 32));
}

int32_t dg_tok_piece_id(const dg_tokenizer *t, const char *s, size_t n) {
    uint32_t h = hash_bytes(s, n), i = h & t->ph_mask;
    for (;;) {
        uint64_t v = t->ph[i];
        if (v == UINT64_MAX) return -1;
        int32_t id = (int32_t)(uint32_t)v;
        /* the stored hash spares most visits to the piece bytes (cache misses at load time) */
        if ((uint32_t)(v >> 32) == h && t->len[id] == n && !memcmp(t->pieces + t->off[id], s, n)) return id;
        i = (i + 1) & t->ph_mask;
    }
}

static uint32_t pow2_at_least(size_t n) {
    uint32_t c = 16;
    while (c < n) c <<= 1;
    return c;
}

typedef struct added_sort { uint64_t key; tok_added a; } added_sort;

static int cmp_added(const void *a, const void *b) {
    uint64_t x = ((const added_sort *)a)->key, y = ((const added_sort *)b)->key;
    return x < y ? -1 : x > y;
}

void dg_tokenizer_free(dg_tokenizer *t) {
    if (!t) return;
    free(t->pieces); free(t->off); free(t->len); free(t->flags); free(t->byte_of);
    free(t->ph); free(t->mkey); free(t->mrank); free(t->mid);
    free(t->added); free(t->bmp); free(t->nosplit_cp);
    free(t);
}

int dg_tokenizer_vocab_size(const dg_tokenizer *t) { return t ? t->n_ids : 0; }

int dg_token_is_special(const dg_tokenizer *t, int32_t id) {
    return t && id >= 0 && id < t->n_ids && (t->flags[id] & TOK_SPECIAL);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The pieces that make word splitting exact (see tokenizer_int.h). */
static dg_status find_split_rules(dg_tokenizer *t, size_t n_vocab_pieces, dg_error *err) {
    int mixed[3] = {0, 0, 0};
    const char ws[3] = {'\t', '\n', '\r'};
    size_t cap = 0;
    for (int32_t id = 0; id < t->n_ids; id++) {
        if (t->flags[id] & TOK_ADDED) continue; /* matched before BPE, never merged */
        const unsigned char *p = (const unsigned char *)t->pieces + t->off[id];
        uint32_t n = t->len[id];
        for (int k = 0; k < 3; k++) {
            if (!memchr(p, ws[k], n)) continue;
            for (uint32_t i = 0; i < n; i++)
                if (p[i] != (unsigned char)ws[k]) { mixed[k] = 1; break; }
        }
        for (uint32_t i = 1; i + 3 <= n; i++) {
            if (memcmp(p + i, SPACE_PIECE, 3)) continue;
            uint32_t b = i - 1; /* start of the previous code point */
            while (b > 0 && (p[b] & 0xC0) == 0x80) b--;
            if (i - b == 3 && !memcmp(p + b, SPACE_PIECE, 3)) continue; /* inside a U+2581 run */
            int l = dg_utf8_seq_len(p + b, i - b);
            uint32_t cp = l == (int)(i - b) ? dg_utf8_decode(p + b, l) : 0xFFFFFFFFu;
            int seen = 0;
            for (int q = 0; q < t->n_nosplit; q++) seen |= t->nosplit_cp[q] == cp;
            if (seen) continue;
            if ((size_t)t->n_nosplit == cap) {
                size_t nc = cap ? cap * 2 : 8;
                uint32_t *x = realloc(t->nosplit_cp, nc * sizeof *x);
                if (!x) return dg_fail(err, DG_ERR_NOMEM, "tokenizer: out of memory");
                t->nosplit_cp = x;
                cap = nc;
            }
            t->nosplit_cp[t->n_nosplit++] = cp;
        }
    }
    (void)n_vocab_pieces;
    for (int k = 0; k < 3; k++) t->isolated[(int)ws[k]] = !mixed[k];
    return DG_OK;
}

dg_status dg_tok_build(tok_src *s, dg_tokenizer *t, dg_error *err) {
    const char *what = s->what;

    int64_t max_id = -1;
    for (size_t i = 0; i < s->n_vocab; i++) if (s->vocab[i].id > max_id) max_id = s->vocab[i].id;
    for (size_t i = 0; i < s->n_added; i++) if (s->added[i].id > max_id) max_id = s->added[i].id;
    if (max_id < 0) return dg_fail(err, DG_ERR_FORMAT, "%s: empty vocabulary", what);
    int32_t n = (int32_t)max_id + 1;
    t->n_ids = n;
    t->pieces = s->arena;
    s->arena = NULL;
    t->off = malloc((size_t)n * sizeof *t->off);
    t->len = malloc((size_t)n * sizeof *t->len);
    t->flags = calloc((size_t)n, 1);
    t->byte_of = malloc((size_t)n * sizeof *t->byte_of);
    t->ph_mask = pow2_at_least(s->n_vocab * 2 + 1) - 1;
    t->ph = malloc(((size_t)t->ph_mask + 1) * sizeof *t->ph);
    if (!t->off || !t->len || !t->flags || !t->byte_of || !t->ph) return dg_fail(err, DG_ERR_NOMEM, "%s: out of memory", what);
    memset(t->off, 0xFF, (size_t)n * sizeof *t->off);
    memset(t->ph, 0xFF, ((size_t)t->ph_mask + 1) * sizeof *t->ph);

    for (size_t i = 0; i < s->n_vocab; i++) {
        const entry *e = &s->vocab[i];
        const char *p = t->pieces + e->off;
        if (t->off[e->id] != UINT32_MAX)
            return dg_fail(err, DG_ERR_FORMAT, "%s: duplicate id %lld in model.vocab (\"%.*s\" and \"%.*s\")", what,
                           (long long)e->id, (int)(t->len[e->id] > 60 ? 60 : t->len[e->id]), t->pieces + t->off[e->id],
                           (int)(e->len > 60 ? 60 : e->len), p);
        t->off[e->id] = e->off;
        t->len[e->id] = e->len;
        uint32_t hv = hash_bytes(p, e->len), h = hv & t->ph_mask;
        for (;; h = (h + 1) & t->ph_mask) {
            uint64_t v = t->ph[h];
            if (v == UINT64_MAX) { t->ph[h] = (uint64_t)hv << 32 | (uint32_t)e->id; break; }
            int32_t o = (int32_t)(uint32_t)v;
            if ((uint32_t)(v >> 32) == hv && t->len[o] == e->len && !memcmp(t->pieces + t->off[o], p, e->len))
                return dg_fail(err, DG_ERR_FORMAT, "%s: piece \"%.*s\" appears twice in model.vocab (ids %d and %lld)",
                               what, (int)(e->len > 60 ? 60 : e->len), p, o, (long long)e->id);
        }
    }
    /* Added tokens: their content is what decoding prints for the id. */
    added_sort *as = malloc((s->n_added ? s->n_added : 1) * sizeof *as);
    if (!as) return dg_fail(err, DG_ERR_NOMEM, "%s: out of memory", what);
    for (size_t i = 0; i < s->n_added; i++) {
        const added_ent *a = &s->added[i];
        if (t->flags[a->id] & TOK_ADDED) {
            free(as);
            return dg_fail(err, DG_ERR_FORMAT, "%s: duplicate id %lld in added_tokens", what, (long long)a->id);
        }
        t->off[a->id] = a->off;
        t->len[a->id] = a->len;
        t->flags[a->id] |= TOK_ADDED | (a->special ? TOK_SPECIAL : 0);
        as[i].a = (tok_added){(int32_t)a->id, a->off, a->len};
        /* first byte ascending, then longest first: leftmost-longest at each position */
        as[i].key = ((uint64_t)(unsigned char)t->pieces[a->off] << 40) | ((uint64_t)(UINT32_MAX - a->len) << 8);
    }
    qsort(as, s->n_added, sizeof *as, cmp_added);
    for (size_t i = 1; i < s->n_added; i++)
        if (as[i].a.len == as[i - 1].a.len && !memcmp(t->pieces + as[i].a.off, t->pieces + as[i - 1].a.off, as[i].a.len)) {
            int32_t a = as[i - 1].a.id, b = as[i].a.id;
            free(as);
            return dg_fail(err, DG_ERR_FORMAT, "%s: added tokens %d and %d have the same content", what, a, b);
        }
    t->added = malloc((s->n_added ? s->n_added : 1) * sizeof *t->added);
    if (!t->added) { free(as); return dg_fail(err, DG_ERR_NOMEM, "%s: out of memory", what); }
    for (size_t i = 0; i < s->n_added; i++) t->added[i] = as[i].a;
    t->n_added = (int)s->n_added;
    free(as);
    for (int b = 0, i = 0; b <= 256; b++) {
        while (i < t->n_added && (unsigned char)t->pieces[t->added[i].off] < b) i++;
        t->added_start[b] = (uint16_t)i;
    }
    if (t->n_added > 65535) return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: more than 65535 added tokens", what);

    for (int32_t id = 0; id < n; id++) {
        if (t->off[id] == UINT32_MAX) return dg_fail(err, DG_ERR_FORMAT, "%s: id %d has no piece (ids must run 0..%d without gaps)", what, id, n - 1);
        const char *p = t->pieces + t->off[id];
        t->byte_of[id] = -1;
        if (t->len[id] == 6 && !memcmp(p, "<0x", 3) && p[5] == '>' && hexval(p[3]) >= 0 && hexval(p[4]) >= 0)
            t->byte_of[id] = (int16_t)(hexval(p[3]) * 16 + hexval(p[4]));
    }
    for (int b = 0; b < 256; b++) {
        char name[8];
        snprintf(name, sizeof name, "<0x%02X>", b);
        t->byte_id[b] = dg_tok_piece_id(t, name, 6);
        if (t->byte_id[b] < 0) return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: byte-fallback piece %s is missing", what, name);
    }

    /* Merges: (left, right) -> (rank, merged). A later duplicate overwrites, as in HF. */
    t->n_merges = (uint32_t)s->n_merges;
    t->m_mask = pow2_at_least(s->n_merges * 2 + 1) - 1;
    size_t msz = (size_t)t->m_mask + 1;
    t->mkey = malloc(msz * sizeof *t->mkey);
    t->mrank = malloc(msz * sizeof *t->mrank);
    t->mid = malloc(msz * sizeof *t->mid);
    js_buf cat = {0};
    if (!t->mkey || !t->mrank || !t->mid) return dg_fail(err, DG_ERR_NOMEM, "%s: out of memory", what);
    memset(t->mkey, 0xFF, msz * sizeof *t->mkey);
    for (size_t i = 0; i < s->n_merges; i++) {
        const merge_ent *m = &s->merges[i];
        const char *a = t->pieces + m->aoff, *b = t->pieces + m->boff;
        int32_t ia = dg_tok_piece_id(t, a, m->alen), ib = dg_tok_piece_id(t, b, m->blen);
        cat.n = 0;
        if (!js_buf_put(&cat, a, m->alen) || !js_buf_put(&cat, b, m->blen)) { free(cat.d); return dg_fail(err, DG_ERR_NOMEM, "%s: out of memory", what); }
        int32_t im = dg_tok_piece_id(t, cat.d, cat.n);
        if (ia < 0 || ib < 0 || im < 0) {
            const char *bad = ia < 0 ? a : ib < 0 ? b : cat.d;
            int bl = (int)(ia < 0 ? m->alen : ib < 0 ? m->blen : cat.n);
            dg_fail(err, DG_ERR_FORMAT, "%s: merge %zu (\"%.*s\" \"%.*s\") refers to unknown piece \"%.*s\"", what, i,
                    (int)(m->alen > 40 ? 40 : m->alen), a, (int)(m->blen > 40 ? 40 : m->blen), b, bl > 80 ? 80 : bl, bad);
            free(cat.d);
            return DG_ERR_FORMAT;
        }
        uint64_t k = ((uint64_t)(uint32_t)ia << 32) | (uint32_t)ib;
        uint32_t h = (uint32_t)((k * 0x9E3779B97F4A7C15ull) >> 40) & t->m_mask;
        while (t->mkey[h] != UINT64_MAX && t->mkey[h] != k) h = (h + 1) & t->m_mask;
        t->mkey[h] = k;
        t->mrank[h] = (uint32_t)i;
        t->mid[h] = im;
    }
    free(cat.d);

    /* One-character pieces of the BMP, looked up once here instead of per character. */
    t->bmp = malloc(65536 * sizeof *t->bmp);
    if (!t->bmp) return dg_fail(err, DG_ERR_NOMEM, "%s: out of memory", what);
    for (uint32_t cp = 0; cp < 65536; cp++) {
        char u[4];
        t->bmp[cp] = (cp >= 0xD800 && cp <= 0xDFFF) ? -1 : dg_tok_piece_id(t, u, (size_t)dg_utf8_encode(cp, u));
    }
    t->space_id = dg_tok_piece_id(t, SPACE_PIECE, 3);
    return find_split_rules(t, s->n_vocab, err);
}

static dg_status build_json(scan *s, dg_tokenizer *t, dg_error *err) {
    const char *what = s->j.what;
    if (!s->have_model) return dg_fail(err, DG_ERR_MISSING, "%s: no \"model\" object", what);
    if (!s->have_vocab) return dg_fail(err, DG_ERR_MISSING, "%s: no model.vocab", what);
    if (!s->have_merges) return dg_fail(err, DG_ERR_MISSING, "%s: no model.merges", what);
    if (!s->byte_fallback) return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: model.byte_fallback is not true", what);
    tok_src src = {what, s->arena.d, s->vocab, s->n_vocab, s->merges, s->n_merges, s->added, s->n_added};
    dg_status st = dg_tok_build(&src, t, err);
    s->arena.d = src.arena;     /* NULL once the tables own it */
    return st;
}

/* ------------------------------------------------------------------ files */

/* A special-token setting in tokenizer_config.json is a string or {"content": ...}. */
static int32_t config_token(const dg_tokenizer *t, const cJSON *cfg, const char *key, const char *dflt) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, key);
    if (cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, "content");
    const char *s = cJSON_IsString(v) ? v->valuestring : dflt;
    for (int i = 0; i < t->n_added; i++)
        if (t->added[i].len == strlen(s) && !memcmp(t->pieces + t->added[i].off, s, t->added[i].len)) return t->added[i].id;
    return dg_tok_piece_id(t, s, strlen(s));
}

static dg_status load_config(dg_tokenizer *t, const char *path, dg_error *err) {
    char *data;
    size_t n;
    cJSON *cfg = NULL;
    if (dg_path_exists(path)) {
        dg_status st = dg_read_file(path, &data, &n, err);
        if (st) return st;
        st = dg_json_object(data, n, path, &cfg, err);
        free(data);
        if (st) return st;
        const cJSON *ab = cJSON_GetObjectItemCaseSensitive(cfg, "add_bos_token");
        t->add_bos = cJSON_IsTrue(ab);
    }
    t->bos_id = config_token(t, cfg, "bos_token", "<bos>");
    t->eos_id = config_token(t, cfg, "eos_token", "<eos>");
    t->pad_id = config_token(t, cfg, "pad_token", "<pad>");
    t->unk_id = config_token(t, cfg, "unk_token", "<unk>");
    cJSON_Delete(cfg);
    return DG_OK;
}

dg_status dg_tokenizer_load(const char *path, dg_tokenizer **out, dg_error *err) {
    if (!path || !out) return dg_fail(err, DG_ERR_ARG, "dg_tokenizer_load: NULL argument");
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) return dg_fail(err, DG_ERR_IO, "%s: no such file or directory", path);
    size_t pl = strlen(path);
    /* GGUF: a directory with no tokenizer.json but a GGUF model, or a .gguf file with no
     * tokenizer.json beside it, gives the tokenizer of the GGUF metadata */
    char gguf[4096], beside[4096];
    dg_error gerr;
    const char *slash0 = strrchr(path, '/');
    if (S_ISDIR(st.st_mode)) snprintf(beside, sizeof beside, "%s/tokenizer.json", path);
    else snprintf(beside, sizeof beside, "%.*s%stokenizer.json", slash0 ? (int)(slash0 - path) : 0, path, slash0 ? "/" : "");
    struct stat bs;
    if (stat(beside, &bs) != 0 && dg_gguf_locate(path, gguf, sizeof gguf, &gerr) == 1) return dg_tokenizer_load_gguf(gguf, out, err);
    char *json_path = malloc(pl + 32), *cfg_path = malloc(pl + 32);
    if (!json_path || !cfg_path) { free(json_path); free(cfg_path); return dg_fail(err, DG_ERR_NOMEM, "out of memory"); }
    if (S_ISDIR(st.st_mode)) {
        snprintf(json_path, pl + 32, "%s/tokenizer.json", path);
        snprintf(cfg_path, pl + 32, "%s/tokenizer_config.json", path);
    } else {
        /* A lone file: look for tokenizer_config.json next to it. */
        snprintf(json_path, pl + 32, "%s", path);
        const char *slash = strrchr(path, '/');
        int dl = slash ? (int)(slash - path) : 0;
        snprintf(cfg_path, pl + 32, "%.*s%stokenizer_config.json", dl, path, slash ? "/" : "");
    }
    char *data = NULL;
    size_t n = 0;
    dg_status st2 = dg_read_file(json_path, &data, &n, err);
    dg_tokenizer *t = calloc(1, sizeof *t);
    scan s;
    memset(&s, 0, sizeof s);
    if (!st2 && !t) st2 = dg_fail(err, DG_ERR_NOMEM, "out of memory");
    if (!st2) {
        js_init(&s.j, data, n, json_path, err);
        if (!parse_root(&s)) st2 = err ? err->code : DG_ERR_FORMAT;
        if (!st2) st2 = build_json(&s, t, err);
        if (!st2) st2 = load_config(t, cfg_path, err);
    }
    free(data);
    free(s.arena.d); free(s.key.d); free(s.val.d);
    free(s.vocab); free(s.merges); free(s.added);
    free(json_path);
    free(cfg_path);
    if (st2) { dg_tokenizer_free(t); return st2; }
    *out = t;
    return DG_OK;
}

int32_t dg_tokenizer_bos(const dg_tokenizer *t) { return t ? t->bos_id : -1; }
int32_t dg_tokenizer_eos(const dg_tokenizer *t) { return t ? t->eos_id : -1; }
int32_t dg_tokenizer_pad(const dg_tokenizer *t) { return t ? t->pad_id : -1; }

const char *dg_token_piece(const dg_tokenizer *t, int32_t id, size_t *len) {
    if (!t || id < 0 || id >= t->n_ids) return NULL;
    if (len) *len = t->len[id];
    return t->pieces + t->off[id];
}
