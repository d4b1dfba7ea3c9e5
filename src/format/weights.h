/* The weight files of a model directory: `model.safetensors`, or shards listed by
 * `model.safetensors.index.json`. All shards are mapped; lookups go through one sorted index. */
#ifndef DG_FORMAT_WEIGHTS_H
#define DG_FORMAT_WEIGHTS_H
#include "format/safetensors.h"

typedef struct dg_weights dg_weights;

dg_status dg_weights_open(const char *dir, dg_weights **out, dg_error *err);
void dg_weights_close(dg_weights *w);
const dg_tensor *dg_weights_find(const dg_weights *w, const char *name);
int dg_weights_count(const dg_weights *w);
const dg_tensor *dg_weights_at(const dg_weights *w, int i);

#endif
