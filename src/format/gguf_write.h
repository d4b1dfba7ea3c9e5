/* A GGUF v3 writer (FORMATS.md §3.1): key/values and tensor infos are collected first, then
 * dg_ggw_begin writes the header, and the tensors' bytes follow in the order they were declared
 * (each at the next multiple of 32, the default alignment). A failed write removes the file. */
#ifndef DG_FORMAT_GGUF_WRITE_H
#define DG_FORMAT_GGUF_WRITE_H
#include <stddef.h>
#include <stdint.h>
#include "dgemma.h"

typedef struct dg_ggw dg_ggw;

dg_status dg_ggw_new(const char *path, dg_ggw **out, dg_error *err);
void dg_ggw_u32(dg_ggw *w, const char *key, uint32_t v);
void dg_ggw_f32(dg_ggw *w, const char *key, float v);
void dg_ggw_bool(dg_ggw *w, const char *key, int v);
void dg_ggw_str(dg_ggw *w, const char *key, const char *v);
void dg_ggw_arr_i32(dg_ggw *w, const char *key, const int32_t *v, size_t n);
void dg_ggw_arr_f32(dg_ggw *w, const char *key, const float *v, size_t n);
void dg_ggw_arr_bool(dg_ggw *w, const char *key, const uint8_t *v, size_t n);
/* n strings given as (pointer, length) pairs. */
void dg_ggw_arr_str(dg_ggw *w, const char *key, const char *const *s, const size_t *len, size_t n);
/* ne in ggml order (ne[0] contiguous); ne[0] must be a multiple of the type's block. */
dg_status dg_ggw_tensor(dg_ggw *w, const char *name, int gtype, int nd, const int64_t *ne, dg_error *err);
dg_status dg_ggw_begin(dg_ggw *w, dg_error *err);
/* The next bytes of the current tensor; a tensor's padding is written when its bytes are complete. */
dg_status dg_ggw_write(dg_ggw *w, const void *data, size_t n, dg_error *err);
dg_status dg_ggw_finish(dg_ggw *w, dg_error *err);
void dg_ggw_free(dg_ggw *w);     /* after a failure (or without finish): removes the file */

#endif
