/* The tokenizer's tables, shared by the loader, the encoder and the decoder (src/text only). */
#ifndef DG_TEXT_TOKENIZER_INT_H
#define DG_TEXT_TOKENIZER_INT_H
#include <stdint.h>
#include "dgemma.h"

enum { TOK_SPECIAL = 1, TOK_ADDED = 2 };

typedef struct tok_added {
    int32_t id;
    uint32_t off, len;          /* content bytes in pieces[] */
} tok_added;

struct dg_tokenizer {
    int32_t n_ids;              /* ids 0..n_ids-1, no gaps */
    char *pieces;               /* every piece's bytes, back to back */
    uint32_t *off, *len;        /* id -> its piece (added-token content wins) */
    uint8_t *flags;             /* id -> TOK_* */
    int16_t *byte_of;           /* id -> byte value of a <0xHH> piece, else -1 */

    uint64_t *ph;               /* open-addressing map piece -> (hash << 32 | id); ~0 = empty */
    uint32_t ph_mask;

    uint64_t *mkey;             /* merges: (left << 32 | right) -> rank, merged id */
    uint32_t *mrank;
    int32_t *mid;
    uint32_t m_mask;
    uint32_t n_merges;

    tok_added *added;           /* sorted by first byte, then longest content first */
    int n_added;
    uint16_t added_start[257];  /* added[added_start[b] .. added_start[b+1]) begin with byte b */

    int32_t byte_id[256];       /* <0xHH> ids for byte fallback */
    int32_t *bmp;               /* code point < 0x10000 -> id of its one-character piece, or -1 */
    int32_t space_id;           /* id of the piece U+2581, or -1 */
    /* Word splitting (an exact speed-up, derived from the vocabulary at load time):
     * isolated[c] for c in \t \n \r: no piece mixes c with another character, so maximal runs of c
     * are words of their own. no_split_before_space: code points X such that some piece holds
     * "X\u2581" with the U+2581 not first; elsewhere a U+2581 after a non-U+2581 starts a word. */
    uint8_t isolated[32];
    uint32_t *nosplit_cp;
    int n_nosplit;

    int32_t bos_id, eos_id, pad_id, unk_id;
    int add_bos;                /* tokenizer_config.json add_bos_token (informational) */
};

/* What a tokenizer source (tokenizer.json, GGUF metadata) collects before the tables are built:
 * pieces live in one arena, referenced by offset. */
typedef struct tok_entry { uint32_t off, len; int64_t id; } tok_entry;
typedef struct tok_merge { uint32_t aoff, alen, boff, blen; } tok_merge;
typedef struct tok_added_ent { uint32_t off, len; int64_t id; int special; } tok_added_ent;
typedef struct tok_src {
    const char *what;           /* file name for messages */
    char *arena;                /* taken over by dg_tok_build (set to NULL) */
    tok_entry *vocab; size_t n_vocab;
    tok_merge *merges; size_t n_merges;
    tok_added_ent *added; size_t n_added;
} tok_src;

/* Builds t's tables (ids 0..max without gaps, byte fallback pieces, merges by rank = order);
 * the special ids (bos, eos, pad, unk) are the caller's. */
dg_status dg_tok_build(tok_src *s, dg_tokenizer *t, dg_error *err);

/* The tokenizer of a GGUF file's tokenizer.ggml.* metadata (tokenizer_gguf.c). */
dg_status dg_tokenizer_load_gguf(const char *path, dg_tokenizer **out, dg_error *err);
/* Adds the tokenizer.ggml.* keys of t to a GGUF being written (the converter's layout: every
 * piece, specials typed control or user-defined, <0xHH> byte, merges in rank order). */
struct dg_ggw;
dg_status dg_tokenizer_to_gguf(const dg_tokenizer *t, struct dg_ggw *w, dg_error *err);

/* Piece lookup: id or -1. */
int32_t dg_tok_piece_id(const dg_tokenizer *t, const char *s, size_t n);
/* Merge lookup: 1 and fills rank/merged if (l, r) merge. */
static inline int dg_tok_merge(const dg_tokenizer *t, int32_t l, int32_t r, uint32_t *rank, int32_t *merged) {
    uint64_t k = ((uint64_t)(uint32_t)l << 32) | (uint32_t)r;
    uint64_t h = k * 0x9E3779B97F4A7C15ull;
    uint32_t i = (uint32_t)(h >> 40) & t->m_mask;
    for (;;) {
        uint64_t v = t->mkey[i];
        if (v == k) { *rank = t->mrank[i]; *merged = t->mid[i]; return 1; }
        if (v == UINT64_MAX) return 0;
        i = (i + 1) & t->m_mask;
    }
}

#endif
