/* The weight files of a model: `model.safetensors`, shards listed by
 * `model.safetensors.index.json`, or a GGUF file / split set (gguf_set.h), whose tensors are
 * listed under their HF names (gguf_names.h). All files are mapped; lookups go through one
 * sorted index. */
#ifndef DG_FORMAT_WEIGHTS_H
#define DG_FORMAT_WEIGHTS_H
#include "format/gguf.h"
#include "format/safetensors.h"

typedef struct dg_weights dg_weights;

/* path: a model directory, or a .gguf file (see dg_gguf_locate). */
dg_status dg_weights_open(const char *path, dg_weights **out, dg_error *err);
/* The first GGUF file of the set (it carries the metadata), or NULL for safetensors. */
const dg_gguf *dg_weights_gguf(const dg_weights *w);
void dg_weights_close(dg_weights *w);
const dg_tensor *dg_weights_find(const dg_weights *w, const char *name);
int dg_weights_count(const dg_weights *w);
const dg_tensor *dg_weights_at(const dg_weights *w, int i);

#endif
