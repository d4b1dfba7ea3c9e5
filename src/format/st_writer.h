/* A streaming safetensors writer (FORMATS.md §4), optionally sharded like Hugging Face.
 *
 * Use: dg_stw_new, dg_stw_add every tensor (name, dtype, shape) in file order, dg_stw_begin
 * (assigns shards and offsets), then dg_stw_write the tensors' bytes back to back in that
 * order, then dg_stw_finish (checks the byte count, closes the files, writes
 * model.safetensors.index.json when sharded). dg_stw_free after a failure removes the files
 * it created, so a failed run leaves no truncated checkpoint behind.
 *
 * Shards: tensors fill `model-0000k-of-0000N.safetensors` in order until the next one would
 * pass max_shard_bytes (a tensor bigger than that gets a shard of its own); a checkpoint that
 * fits one shard is written as `model.safetensors` with no index. Headers are HF style:
 * compact JSON with {"__metadata__": {"format": "pt"}}, space-padded so data starts at a
 * multiple of 8.
 *
 * I/O runs on a background thread with two buffers, so the caller computes the next bytes
 * while the previous ones go to disk. */
#ifndef DG_FORMAT_ST_WRITER_H
#define DG_FORMAT_ST_WRITER_H
#include <stdint.h>
#include "format/safetensors.h"

typedef struct dg_stw dg_stw;

/* Called on the caller's thread as data is handed to the I/O thread. */
typedef void (*dg_write_progress_fn)(void *user, uint64_t bytes_done, uint64_t bytes_total);

#define DG_STW_DEFAULT_SHARD 5000000000ull    /* HF's "5GB" */

/* dir must exist. max_shard_bytes 0 = never shard. */
dg_status dg_stw_new(const char *dir, uint64_t max_shard_bytes, dg_stw **out, dg_error *err);
void dg_stw_set_progress(dg_stw *w, dg_write_progress_fn fn, void *user);
dg_status dg_stw_add(dg_stw *w, const char *name, dg_dtype dtype, int ndim, const int64_t *shape, dg_error *err);
dg_status dg_stw_begin(dg_stw *w, dg_error *err);
dg_status dg_stw_write(dg_stw *w, const void *data, size_t n, dg_error *err);
dg_status dg_stw_finish(dg_stw *w, dg_error *err);
void dg_stw_free(dg_stw *w);

uint64_t dg_stw_total_bytes(const dg_stw *w);     /* tensor data, after dg_stw_begin */
int dg_stw_n_shards(const dg_stw *w);

/* Writes a whole small file (config JSON); names the file in errors. */
dg_status dg_write_text_file(const char *path, const char *text, size_t len, dg_error *err);

#endif
