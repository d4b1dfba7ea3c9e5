/* The safetensors container: a u64 header length, a JSON header, a data buffer.
 * Files are memory-mapped read-only; tensor data is used in place (possibly unaligned). */
#ifndef DG_FORMAT_SAFETENSORS_H
#define DG_FORMAT_SAFETENSORS_H
#include <stddef.h>
#include <stdint.h>
#include "dgemma.h"

typedef enum dg_dtype {
    DG_DT_BOOL, DG_DT_U8, DG_DT_I8, DG_DT_U16, DG_DT_I16, DG_DT_F16, DG_DT_BF16,
    DG_DT_U32, DG_DT_I32, DG_DT_F32, DG_DT_U64, DG_DT_I64, DG_DT_F64, DG_DT_COUNT
} dg_dtype;

const char *dg_dtype_name(dg_dtype t);
size_t dg_dtype_size(dg_dtype t);

#define DG_MAX_DIMS 8

typedef struct dg_tensor {
    const char *name;
    const char *file;           /* path of the file holding it (for error messages) */
    dg_dtype dtype;
    int ndim;
    int64_t shape[DG_MAX_DIMS];
    size_t nbytes;
    const uint8_t *data;        /* inside the mapping */
    int gtype;                  /* GGUF: ggml type id (core/ggml_type.h; dtype is then F32, F16 or
                                   BF16 for those, U8 for block types); -1 for safetensors */
    const char *stored_name;    /* GGUF: the name in the file (`name` is the HF name it maps to) */
} dg_tensor;

typedef struct dg_st_file dg_st_file;

/* Maps and validates a file: header bounds, JSON, dtypes, shapes, offsets within the
 * buffer, byte counts matching dtype x shape, no overlaps, no duplicate names. */
dg_status dg_st_open(const char *path, dg_st_file **out, dg_error *err);
void dg_st_close(dg_st_file *f);
int dg_st_count(const dg_st_file *f);
const dg_tensor *dg_st_at(const dg_st_file *f, int i);
const dg_tensor *dg_st_find(const dg_st_file *f, const char *name);   /* NULL if absent */
const char *dg_st_path(const dg_st_file *f);

int64_t dg_tensor_numel(const dg_tensor *t);

#endif
