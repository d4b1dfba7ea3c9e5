/* Self-attention of one layer (MODEL.md §4.4, §6). */
#ifndef DG_MODEL_ATTENTION_H
#define DG_MODEL_ATTENTION_H
#include "model/context.h"

/* Stacked query rows (heads sharing a kv head x rows) per attention task: sizes the
 * per-thread scratch (at least the heads of one kv head: ctx->att_rows). */
#define DG_ATT_ROWS 128

/* Reads q, kn, vn of the pass (post norm and RoPE), writes att. Encoder: the new K/V are
 * already appended to the cache; causal (+ window on sliding layers). Decoder: the canvas
 * K/V are staged after the cache entries (not committed); bidirectional. */
void dg_attention(const dg_pass *ps, int li);

#endif
