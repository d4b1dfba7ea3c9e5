/* Self-attention of one layer (MODEL.md §4.4, §6): dg_attention_qkv and dg_attention_out
 * (model/forward.h). */
#ifndef DG_MODEL_ATTENTION_H
#define DG_MODEL_ATTENTION_H
#include "model/context.h"

/* Query rows per attention task: sizes the per-thread score scratch. */
#define DG_ATT_ROWS 48

#endif
