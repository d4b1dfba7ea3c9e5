/* Writing a checkpoint's tensors, one at a time, either as plain tensors or MLX-quantized
 * (X.weight U32 codes, X.scales, X.biases bf16). Shared by `mkmodel` (values generated) and
 * `quantize` (values read from a mapped checkpoint), so there is one quantizer path.
 *
 * Values are produced in chunks of rows (a row = the last dimension) by a callback, converted
 * or quantized in parallel on a thread pool, and streamed to the safetensors writer; only one
 * chunk and the current tensor's scales/biases are in memory at a time. */
#ifndef DG_FORMAT_CKPT_WRITE_H
#define DG_FORMAT_CKPT_WRITE_H
#include "format/st_writer.h"

/* Fills out[nrows × K] (K = last dim) with rows row0.. of the logical tensor, as fp32.
 * Called from several threads at once on disjoint rows. */
typedef void (*dg_rows_fn)(const void *src, int64_t row0, int64_t nrows, float *out);

typedef struct dg_out_item {
    char name[256];             /* tensor name; for a quantized item the module path (no .weight) */
    int ndim;
    int64_t shape[DG_MAX_DIMS]; /* logical shape */
    int bits, group;            /* > 0: MLX affine; 0: plain */
    dg_dtype dtype;             /* plain items: stored dtype (BF16 when produced by `rows`) */
    const uint8_t *raw;         /* plain items: bytes copied as they are (NULL: use rows) */
    dg_rows_fn rows;
    const void *src;
} dg_out_item;

typedef struct dg_ckpt_write_params {
    const char *dir;
    uint64_t max_shard_bytes;   /* 0 = one file */
    int n_threads;              /* 0 = online CPUs */
    dg_write_progress_fn progress;
    void *user;
} dg_ckpt_write_params;

/* Writes all items in order; returns the bytes of tensor data and the shard count. */
dg_status dg_ckpt_write(const dg_ckpt_write_params *p, const dg_out_item *items, int n,
                        uint64_t *bytes, int *shards, dg_error *err);

int64_t dg_out_item_numel(const dg_out_item *it);

#endif
