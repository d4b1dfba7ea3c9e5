/* Encoding (TOKENIZER.md §4): special tokens matched literally on the raw text, space -> U+2581,
 * byte fallback for characters without a piece, BPE merges by lowest rank then leftmost.
 * A segment is cut into words only where the vocabulary proves no piece can span the cut
 * (tokenizer_int.h), so the result is the same as BPE on the whole segment, just faster. */
#include "text/tokenizer_int.h"
#include "core/error.h"
#include "text/utf8.h"
#include <stdlib.h>
#include <string.h>

#define SMALL_WORD 64   /* below this, a quadratic scan beats a heap */

typedef struct enc {
    const dg_tokenizer *t;
    int32_t *sym;               /* the current word's symbols */
    size_t n_sym, cap_sym;
    int32_t *prev, *next;       /* linked list for long words */
    uint64_t *heap;             /* (rank << 32 | position) min-heap for long words */
    size_t cap_long;
    int32_t *out;
    size_t n_out, cap_out;
    int nomem;
} enc;

static int push_out(enc *e, int32_t id) {
    if (e->n_out == e->cap_out) {
        size_t nc = e->cap_out ? e->cap_out * 2 : 64;
        int32_t *o = realloc(e->out, nc * sizeof *o);
        if (!o) return e->nomem = 1, 0;
        e->out = o;
        e->cap_out = nc;
    }
    e->out[e->n_out++] = id;
    return 1;
}

static int push_sym(enc *e, int32_t id) {
    if (e->n_sym == e->cap_sym) {
        size_t nc = e->cap_sym ? e->cap_sym * 2 : 256;
        int32_t *s = realloc(e->sym, nc * sizeof *s);
        if (!s) return e->nomem = 1, 0;
        e->sym = s;
        e->cap_sym = nc;
    }
    e->sym[e->n_sym++] = id;
    return 1;
}

static void short_word(enc *e) {
    const dg_tokenizer *t = e->t;
    int32_t *s = e->sym;
    size_t n = e->n_sym;
    uint32_t rank[SMALL_WORD];
    int32_t merged[SMALL_WORD];
    for (size_t i = 0; i + 1 < n; i++)
        if (!dg_tok_merge(t, s[i], s[i + 1], &rank[i], &merged[i])) rank[i] = UINT32_MAX;
    while (n > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (rank[i] < rank[best]) best = i;
        if (rank[best] == UINT32_MAX) break;
        s[best] = merged[best];
        memmove(s + best + 1, s + best + 2, (n - best - 2) * sizeof *s);
        memmove(rank + best, rank + best + 1, (n - best - 2) * sizeof *rank);
        memmove(merged + best, merged + best + 1, (n - best - 2) * sizeof *merged);
        n--;
        if (best > 0 && !dg_tok_merge(t, s[best - 1], s[best], &rank[best - 1], &merged[best - 1])) rank[best - 1] = UINT32_MAX;
        if (best + 1 < n && !dg_tok_merge(t, s[best], s[best + 1], &rank[best], &merged[best])) rank[best] = UINT32_MAX;
    }
    for (size_t i = 0; i < n; i++) push_out(e, s[i]);
}

static void heap_push(uint64_t *h, size_t *n, uint64_t v) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (h[p] <= v) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = v;
}

static void sift_down(uint64_t *h, size_t n, size_t i) {
    uint64_t v = h[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1] < h[c]) c++;
        if (v <= h[c]) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = v;
}

/* O(n log n): heap of candidate pairs keyed by (rank, left position); stale entries skipped. */
static void long_word(enc *e) {
    const dg_tokenizer *t = e->t;
    size_t n = e->n_sym;
    if (n > e->cap_long) {
        free(e->prev); free(e->next); free(e->heap);
        e->prev = malloc(n * sizeof *e->prev);
        e->next = malloc(n * sizeof *e->next);
        e->heap = malloc(2 * n * sizeof *e->heap); /* n-1 pairs, +1 net per merge */
        e->cap_long = n;
        if (!e->prev || !e->next || !e->heap) { e->cap_long = 0; e->nomem = 1; return; }
    }
    int32_t *s = e->sym, *prev = e->prev, *next = e->next;
    uint64_t *h = e->heap;
    size_t hn = 0;
    uint32_t r;
    int32_t m;
    for (size_t i = 0; i < n; i++) {
        prev[i] = (int32_t)i - 1;
        next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
        if (i + 1 < n && dg_tok_merge(t, s[i], s[i + 1], &r, &m)) h[hn++] = ((uint64_t)r << 32) | i;
    }
    for (size_t i = hn / 2; i-- > 0;) sift_down(h, hn, i);
    while (hn) {
        uint64_t top = h[0];
        h[0] = h[--hn];
        sift_down(h, hn, 0);
        uint32_t pos = (uint32_t)top, want = (uint32_t)(top >> 32);
        int32_t nx = next[pos];
        if (s[pos] < 0 || nx < 0) continue;
        if (!dg_tok_merge(t, s[pos], s[nx], &r, &m) || r != want) continue; /* stale */
        s[pos] = m;
        s[nx] = -1;
        next[pos] = next[nx];
        if (next[nx] >= 0) prev[next[nx]] = (int32_t)pos;
        /* a merge pops one entry and pushes at most two, and there are < n merges: hn < 2n */
        if (prev[pos] >= 0 && dg_tok_merge(t, s[prev[pos]], s[pos], &r, &m)) heap_push(h, &hn, ((uint64_t)r << 32) | (uint32_t)prev[pos]);
        if (next[pos] >= 0 && dg_tok_merge(t, s[pos], s[next[pos]], &r, &m)) heap_push(h, &hn, ((uint64_t)r << 32) | pos);
    }
    for (int32_t i = 0; i >= 0; i = next[i]) push_out(e, s[i]);
}

static void flush_word(enc *e) {
    if (e->n_sym == 1) push_out(e, e->sym[0]);
    else if (e->n_sym > 1 && e->n_sym < SMALL_WORD) short_word(e);
    else if (e->n_sym >= SMALL_WORD) long_word(e);
    e->n_sym = 0;
}

static int is_nosplit(const dg_tokenizer *t, uint32_t cp) {
    for (int i = 0; i < t->n_nosplit; i++)
        if (t->nosplit_cp[i] == cp) return 1;
    return 0;
}

/* One text segment between special tokens. */
static void encode_segment(enc *e, const unsigned char *s, size_t n) {
    const dg_tokenizer *t = e->t;
    uint32_t prev_cp = 0;
    int prev_cls = -1, prev_space = 0;
    size_t i = 0;
    while (i < n && !e->nomem) {
        unsigned c = s[i];
        uint32_t cp;
        int l;
        int32_t id;
        if (c < 0x80) {
            cp = c;
            l = 1;
            id = c == ' ' ? t->space_id : t->bmp[c];
        } else if ((l = dg_utf8_seq_len(s + i, n - i)) > 0) {
            cp = dg_utf8_decode(s + i, l);
            id = cp < 0x10000 ? t->bmp[cp] : dg_tok_piece_id(t, (const char *)s + i, (size_t)l);
        } else {
            cp = 0x110000 + c; /* not UTF-8: this byte alone goes through byte fallback */
            l = 1;
            id = -1;
        }
        int space = c == ' ' || cp == 0x2581;
        int cls = cp < 32 && t->isolated[cp] ? (int)cp : 0;
        if (prev_cls >= 0 && (cls != prev_cls || (space && !prev_space && !is_nosplit(t, prev_cp)))) flush_word(e);
        if (id >= 0) push_sym(e, id);
        else if (c == ' ') { /* no U+2581 piece: its three bytes */
            push_sym(e, t->byte_id[0xE2]); push_sym(e, t->byte_id[0x96]); push_sym(e, t->byte_id[0x81]);
        } else
            for (int k = 0; k < l; k++) push_sym(e, t->byte_id[s[i + k]]);
        prev_cp = cp;
        prev_cls = cls;
        prev_space = space;
        i += (size_t)l;
    }
    flush_word(e);
}

dg_status dg_tokenize(const dg_tokenizer *t, const char *text, size_t len, int add_bos,
                      int32_t **ids, size_t *n_ids, dg_error *err) {
    if (!t || !ids || !n_ids || (!text && len)) return dg_fail(err, DG_ERR_ARG, "dg_tokenize: NULL argument");
    *ids = NULL;
    *n_ids = 0;
    if (len > (size_t)INT32_MAX) return dg_fail(err, DG_ERR_RANGE, "dg_tokenize: text of %zu bytes exceeds the 2 GiB limit", len);
    if (add_bos && t->bos_id < 0) return dg_fail(err, DG_ERR_MISSING, "dg_tokenize: the tokenizer has no <bos> token");
    enc e;
    memset(&e, 0, sizeof e);
    e.t = t;
    e.cap_out = len / 3 + 16;
    e.out = malloc(e.cap_out * sizeof *e.out);
    if (!e.out) return dg_fail(err, DG_ERR_NOMEM, "dg_tokenize: out of memory");
    if (add_bos) push_out(&e, t->bos_id);
    const unsigned char *s = (const unsigned char *)text;
    size_t seg = 0, i = 0;
    while (i < len && !e.nomem) {
        unsigned b = s[i];
        int lo = t->added_start[b], hi = t->added_start[b + 1], hit = -1;
        for (int k = lo; k < hi; k++) {
            const tok_added *a = &t->added[k];
            if (a->len <= len - i && !memcmp(s + i, t->pieces + a->off, a->len)) { hit = k; break; }
        }
        if (hit < 0) { i++; continue; }
        encode_segment(&e, s + seg, i - seg);
        push_out(&e, t->added[hit].id);
        i += t->added[hit].len;
        seg = i;
    }
    if (!e.nomem) encode_segment(&e, s + seg, len - seg);
    free(e.sym); free(e.prev); free(e.next); free(e.heap);
    if (e.nomem) {
        free(e.out);
        return dg_fail(err, DG_ERR_NOMEM, "dg_tokenize: out of memory (text of %zu bytes)", len);
    }
    if (e.n_out == 0) { free(e.out); e.out = NULL; }
    *ids = e.out;
    *n_ids = e.n_out;
    return DG_OK;
}
