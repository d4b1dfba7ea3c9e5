#include "format/ckpt_write.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/error.h"
#include "core/numeric.h"
#include "core/pool.h"
#include "format/mlx_quant.h"

#define CHUNK_ELEMS (2u << 20)      /* fp32 values per chunk: 8 MiB */
#define MAX_TASKS 16

int64_t dg_out_item_numel(const dg_out_item *it) {
    int64_t n = 1;
    for (int i = 0; i < it->ndim; i++) n *= it->shape[i];
    return n;
}

static void item_dims(const dg_out_item *it, int64_t *rows, int64_t *K) {
    *K = it->ndim ? it->shape[it->ndim - 1] : 1;
    *rows = *K ? dg_out_item_numel(it) / *K : 0;
}

/* State of one chunk, shared by its tasks. */
typedef struct chunk {
    const dg_out_item *it;
    int64_t row0, nrows, K;
    int n_tasks;
    float *f;                   /* nrows × K fp32 */
    uint8_t *out;               /* bf16 or packed codes for the chunk */
    uint16_t *scales, *biases;  /* whole tensor (quantized items) */
} chunk;

static void chunk_task(void *user, int task, int thread) {
    (void)thread;
    chunk *c = user;
    int64_t per = (c->nrows + c->n_tasks - 1) / c->n_tasks, r0 = task * per, r1 = r0 + per;
    if (r1 > c->nrows) r1 = c->nrows;
    if (r0 >= r1) return;
    float *f = c->f + (size_t)(r0 * c->K);
    c->it->rows(c->it->src, c->row0 + r0, r1 - r0, f);
    const dg_out_item *it = c->it;
    if (it->bits) {
        int64_t ng = c->K / it->group;
        size_t rb = dg_affine_row_bytes((int)c->K, it->bits);
        dg_affine_quantize(f, r1 - r0, (int)c->K, it->bits, it->group, c->out + (size_t)r0 * rb,
                           c->scales + (size_t)((c->row0 + r0) * ng), c->biases + (size_t)((c->row0 + r0) * ng));
    } else {
        uint16_t *o = (uint16_t *)c->out + (size_t)(r0 * c->K);
        size_t n = (size_t)((r1 - r0) * c->K);
        for (size_t i = 0; i < n; i++) o[i] = dg_f32_to_bf16(f[i]);
    }
}

static dg_status declare(dg_stw *w, const dg_out_item *it, dg_error *err) {
    if (!it->bits) return dg_stw_add(w, it->name, it->dtype, it->ndim, it->shape, err);
    int64_t rows, K, sh[DG_MAX_DIMS];
    item_dims(it, &rows, &K);
    if (it->ndim < 2 || !dg_affine_ok((int)K, it->bits, it->group) || K > (1 << 20))
        return dg_fail(err, DG_ERR_ARG, "'%s': %lld inputs cannot be stored with %d bits, group %d",
                       it->name, (long long)K, it->bits, it->group);
    char n[300];
    memcpy(sh, it->shape, (size_t)it->ndim * sizeof *sh);
    dg_status st;
    sh[it->ndim - 1] = K * it->bits / 32;
    snprintf(n, sizeof n, "%s.weight", it->name);
    if ((st = dg_stw_add(w, n, DG_DT_U32, it->ndim, sh, err))) return st;
    sh[it->ndim - 1] = K / it->group;
    snprintf(n, sizeof n, "%s.scales", it->name);
    if ((st = dg_stw_add(w, n, DG_DT_BF16, it->ndim, sh, err))) return st;
    snprintf(n, sizeof n, "%s.biases", it->name);
    return dg_stw_add(w, n, DG_DT_BF16, it->ndim, sh, err);
}

typedef struct bufs {
    float *f;
    uint8_t *out;
    uint16_t *scales, *biases;
} bufs;

static dg_status write_item(dg_stw *w, dg_pool *pool, const dg_out_item *it, bufs *b, dg_error *err) {
    int64_t rows, K;
    item_dims(it, &rows, &K);
    if (!it->bits && it->raw) {
        size_t nb = (size_t)dg_out_item_numel(it) * dg_dtype_size(it->dtype);
        return dg_stw_write(w, it->raw, nb, err);
    }
    if (!it->bits && it->dtype != DG_DT_BF16)
        return dg_fail(err, DG_ERR_ARG, "'%s': generated tensors are stored as BF16", it->name);
    if (!rows || !K) return DG_OK;
    int64_t chunk_rows = CHUNK_ELEMS / K;
    if (chunk_rows < 1) chunk_rows = 1;
    if (chunk_rows > rows) chunk_rows = rows;
    int64_t ng = it->bits ? K / it->group : 0;
    dg_status st = DG_OK;
    if (it->bits) {
        b->scales = malloc((size_t)(rows * ng) * 2);
        b->biases = malloc((size_t)(rows * ng) * 2);
        if (!b->scales || !b->biases) return dg_fail(err, DG_ERR_NOMEM, "'%s': out of memory for scales", it->name);
    }
    for (int64_t r0 = 0; r0 < rows && !st; r0 += chunk_rows) {
        int64_t nr = rows - r0 < chunk_rows ? rows - r0 : chunk_rows;
        chunk c = {it, r0, nr, K, 0, b->f, b->out, b->scales, b->biases};
        c.n_tasks = (int)(nr < MAX_TASKS ? nr : MAX_TASKS);
        dg_pool_run(pool, c.n_tasks, chunk_task, &c);
        size_t nb = it->bits ? (size_t)nr * dg_affine_row_bytes((int)K, it->bits) : (size_t)(nr * K) * 2;
        st = dg_stw_write(w, b->out, nb, err);
    }
    if (!st && it->bits) st = dg_stw_write(w, b->scales, (size_t)(rows * ng) * 2, err);
    if (!st && it->bits) st = dg_stw_write(w, b->biases, (size_t)(rows * ng) * 2, err);
    free(b->scales);
    free(b->biases);
    b->scales = b->biases = NULL;
    return st;
}

dg_status dg_ckpt_write(const dg_ckpt_write_params *p, const dg_out_item *items, int n,
                        uint64_t *bytes, int *shards, dg_error *err) {
    dg_stw *w = NULL;
    dg_pool *pool = NULL;
    bufs b = {0};
    dg_status st = dg_stw_new(p->dir, p->max_shard_bytes, &w, err);
    if (st) return st;
    dg_stw_set_progress(w, p->progress, p->user);
    for (int i = 0; i < n && !st; i++) st = declare(w, &items[i], err);
    if (!st) st = dg_stw_begin(w, err);
    if (st) goto done;
    int nt = p->n_threads > 0 ? p->n_threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    pool = dg_pool_new(nt > 0 ? nt : 1);
    /* Chunks hold up to CHUNK_ELEMS values, or one row when rows are longer. */
    size_t maxk = CHUNK_ELEMS;
    for (int i = 0; i < n; i++) {
        int64_t rows, K;
        item_dims(&items[i], &rows, &K);
        if ((size_t)K > maxk) maxk = (size_t)K;
    }
    b.f = malloc(maxk * sizeof(float));
    b.out = malloc(maxk * 2);
    if (!pool || !b.f || !b.out) { st = dg_fail(err, DG_ERR_NOMEM, "out of memory"); goto done; }
    for (int i = 0; i < n && !st; i++) st = write_item(w, pool, &items[i], &b, err);
    if (!st) st = dg_stw_finish(w, err);
    if (!st) {
        if (bytes) *bytes = dg_stw_total_bytes(w);
        if (shards) *shards = dg_stw_n_shards(w);
    }
done:
    dg_stw_free(w);
    dg_pool_free(pool);
    free(b.f);
    free(b.out);
    return st;
}
