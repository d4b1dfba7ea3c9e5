/* The GGUF container (FORMATS.md §3.1), versions 2 and 3, little-endian: metadata key/values and
 * tensor infos, then the aligned data section. A file is memory-mapped read-only and validated
 * whole at open: every length and count within the file, value types known, no duplicate keys or
 * tensor names, tensor types supported, ne[0] a multiple of the block, byte sizes from
 * type x shape with overflow checks, offsets aligned, data inside the file, no overlaps.
 * Values and tensor data are then used in place. */
#ifndef DG_FORMAT_GGUF_H
#define DG_FORMAT_GGUF_H
#include <stddef.h>
#include <stdint.h>
#include "format/safetensors.h"

enum {
    DG_GV_U8 = 0, DG_GV_I8 = 1, DG_GV_U16 = 2, DG_GV_I16 = 3, DG_GV_U32 = 4, DG_GV_I32 = 5,
    DG_GV_F32 = 6, DG_GV_BOOL = 7, DG_GV_STRING = 8, DG_GV_ARRAY = 9, DG_GV_U64 = 10,
    DG_GV_I64 = 11, DG_GV_F64 = 12,
};

typedef struct dg_gguf_kv {
    const char *key;
    int type;                   /* DG_GV_* */
    int elem;                   /* arrays: element type (never ARRAY); else == type */
    uint64_t count;             /* arrays: elements; else 1 */
    const uint8_t *data;        /* in the mapping: the value, or the first element; strings
                                   start with their u64 length */
} dg_gguf_kv;

typedef struct dg_gguf dg_gguf;

dg_status dg_gguf_open(const char *path, dg_gguf **out, dg_error *err);
/* The same on bytes already in memory (tests, fuzzing); `data` must outlive the result. */
dg_status dg_gguf_open_mem(const uint8_t *data, size_t size, const char *name, dg_gguf **out, dg_error *err);
void dg_gguf_close(dg_gguf *f);

const char *dg_gguf_path(const dg_gguf *f);
uint32_t dg_gguf_version(const dg_gguf *f);
int dg_gguf_kv_count(const dg_gguf *f);
const dg_gguf_kv *dg_gguf_kv_at(const dg_gguf *f, int i);
const dg_gguf_kv *dg_gguf_find_kv(const dg_gguf *f, const char *key);   /* NULL if absent */
int dg_gguf_tensor_count(const dg_gguf *f);
const dg_tensor *dg_gguf_tensor_at(const dg_gguf *f, int i);            /* sorted by name */
const dg_tensor *dg_gguf_find_tensor(const dg_gguf *f, const char *name);

const char *dg_gguf_type_name(int type);    /* value type names for messages */

/* Typed access; each fails naming the file and key when the key is missing (unless `optional`,
 * then it returns DG_OK and leaves *out alone with *found = 0) or has another type. Integers
 * accept any integer value type whose value fits; floats accept F32 and F64. */
dg_status dg_gguf_get_int(const dg_gguf *f, const char *key, int optional, int64_t *out, int *found, dg_error *err);
dg_status dg_gguf_get_float(const dg_gguf *f, const char *key, int optional, double *out, int *found, dg_error *err);
dg_status dg_gguf_get_bool(const dg_gguf *f, const char *key, int optional, int *out, int *found, dg_error *err);
/* The string value (not NUL-terminated) and its length. */
dg_status dg_gguf_get_str(const dg_gguf *f, const char *key, int optional, const char **s, size_t *len, int *found, dg_error *err);
/* An array of `elem` values, or of any integer type when elem is DG_GV_I64. */
dg_status dg_gguf_get_array(const dg_gguf *f, const char *key, int elem, int optional, const dg_gguf_kv **out, dg_error *err);

/* Element i of an integer or bool array as int64 (array validated by dg_gguf_get_array). */
int64_t dg_gguf_arr_int(const dg_gguf_kv *kv, uint64_t i);
/* Walks a string array: *p starts at kv->data; returns the string and advances. */
const char *dg_gguf_arr_next_str(const uint8_t **p, size_t *len);

#endif
