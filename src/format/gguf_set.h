/* Which files make up a GGUF model: `-m` may name a .gguf file, the first part of a split set
 * (`NAME-00001-of-0000N.gguf`; every part is a complete GGUF file with its own tensors), or a
 * directory holding exactly one such model. */
#ifndef DG_FORMAT_GGUF_SET_H
#define DG_FORMAT_GGUF_SET_H
#include <stddef.h>
#include "format/gguf.h"

/* 1 and the model's (first) file in out if `path` is a .gguf file or a directory that holds one
 * and no safetensors checkpoint; 0 if not GGUF; -1 with err set when a directory holds
 * several GGUF models or `path` is a later part of a split set. */
int dg_gguf_locate(const char *path, char *out, size_t n, dg_error *err);

/* Opens the file, and for a split set all N parts, checking split.no / split.count /
 * split.tensors.count where present. *parts: n_parts files, caller closes each and frees. */
dg_status dg_gguf_open_set(const char *first, dg_gguf ***parts, int *n_parts, dg_error *err);

#endif
