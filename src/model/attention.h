/* Self-attention of one layer (MODEL.md §4.4, §6): dg_attention_qkv and dg_attention_out
 * (model/forward.h). */
#ifndef DG_MODEL_ATTENTION_H
#define DG_MODEL_ATTENTION_H
#include "model/context.h"

/* Stacked query rows (heads sharing a kv head x rows) per attention task: sizes the
 * per-thread scratch (at least the heads of one kv head: ctx->att_rows). */
#define DG_ATT_ROWS 128

#endif
