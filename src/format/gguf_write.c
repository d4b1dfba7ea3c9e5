#include "format/gguf_write.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/error.h"
#include "core/ggml_type.h"
#include "core/strbuf.h"
#include "format/gguf.h"

#define ALIGN 32

struct dg_ggw {
    char *path;
    FILE *f;
    dg_sb kv, ti;               /* encoded key/values and tensor infos */
    int n_kv, n_t, cur;
    uint64_t *size;             /* bytes per tensor */
    uint64_t off, written;      /* offset of the current tensor, its bytes written so far */
    int done;
};

dg_status dg_ggw_new(const char *path, dg_ggw **out, dg_error *err) {
    dg_ggw *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) { free(w); return dg_fail(err, DG_ERR_NOMEM, "out of memory"); }
    *out = w;
    return DG_OK;
}

static void put_u32(dg_sb *b, uint32_t v) { dg_sb_put(b, &v, 4); }
static void put_u64(dg_sb *b, uint64_t v) { dg_sb_put(b, &v, 8); }
static void put_str(dg_sb *b, const char *s, size_t n) { put_u64(b, n); dg_sb_put(b, s, n); }
static void key(dg_ggw *w, const char *k, uint32_t type) { put_str(&w->kv, k, strlen(k)); put_u32(&w->kv, type); w->n_kv++; }

void dg_ggw_u32(dg_ggw *w, const char *k, uint32_t v) { key(w, k, DG_GV_U32); put_u32(&w->kv, v); }
void dg_ggw_f32(dg_ggw *w, const char *k, float v) { key(w, k, DG_GV_F32); dg_sb_put(&w->kv, &v, 4); }
void dg_ggw_bool(dg_ggw *w, const char *k, int v) { uint8_t b = v != 0; key(w, k, DG_GV_BOOL); dg_sb_put(&w->kv, &b, 1); }
void dg_ggw_str(dg_ggw *w, const char *k, const char *v) { key(w, k, DG_GV_STRING); put_str(&w->kv, v, strlen(v)); }

static void arr(dg_ggw *w, const char *k, uint32_t elem, size_t n) { key(w, k, DG_GV_ARRAY); put_u32(&w->kv, elem); put_u64(&w->kv, n); }
void dg_ggw_arr_i32(dg_ggw *w, const char *k, const int32_t *v, size_t n) { arr(w, k, DG_GV_I32, n); dg_sb_put(&w->kv, v, 4 * n); }
void dg_ggw_arr_f32(dg_ggw *w, const char *k, const float *v, size_t n) { arr(w, k, DG_GV_F32, n); dg_sb_put(&w->kv, v, 4 * n); }
void dg_ggw_arr_bool(dg_ggw *w, const char *k, const uint8_t *v, size_t n) { arr(w, k, DG_GV_BOOL, n); dg_sb_put(&w->kv, v, n); }
void dg_ggw_arr_str(dg_ggw *w, const char *k, const char *const *s, const size_t *len, size_t n) {
    arr(w, k, DG_GV_STRING, n);
    for (size_t i = 0; i < n; i++) put_str(&w->kv, s[i], len[i]);
}

static uint64_t pad(uint64_t x) { return (x + ALIGN - 1) / ALIGN * ALIGN; }

dg_status dg_ggw_tensor(dg_ggw *w, const char *name, int gtype, int nd, const int64_t *ne, dg_error *err) {
    int bk = dg_ggml_block(gtype);
    if (!bk || nd < 1 || nd > 4 || ne[0] % bk)
        return dg_fail(err, DG_ERR_ARG, "%s: tensor '%s': %d dims, ne[0] %lld cannot be stored as %s", w->path, name, nd, (long long)ne[0], dg_ggml_name(gtype));
    uint64_t *s = realloc(w->size, (size_t)(w->n_t + 1) * sizeof *s);
    if (!s) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    w->size = s;
    uint64_t n = 1;
    for (int i = 0; i < nd; i++) n *= (uint64_t)ne[i];
    s[w->n_t] = n / (uint64_t)bk * dg_ggml_block_bytes(gtype);
    put_str(&w->ti, name, strlen(name));
    put_u32(&w->ti, (uint32_t)nd);
    for (int i = 0; i < nd; i++) put_u64(&w->ti, (uint64_t)ne[i]);
    put_u32(&w->ti, (uint32_t)gtype);
    put_u64(&w->ti, w->off);
    w->off = pad(w->off + s[w->n_t]);
    w->n_t++;
    return DG_OK;
}

static dg_status zeros(dg_ggw *w, uint64_t n, dg_error *err) {
    static const char z[ALIGN];
    if (n && fwrite(z, 1, (size_t)n, w->f) != n) return dg_fail(err, DG_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
    return DG_OK;
}

dg_status dg_ggw_begin(dg_ggw *w, dg_error *err) {
    if (!dg_sb_ok(&w->kv) || !dg_sb_ok(&w->ti)) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    if (!(w->f = fopen(w->path, "wb"))) return dg_fail(err, DG_ERR_IO, "%s: cannot create: %s", w->path, strerror(errno));
    dg_sb h = {0};
    dg_sb_put(&h, "GGUF", 4);
    put_u32(&h, 3);
    put_u64(&h, (uint64_t)w->n_t);
    put_u64(&h, (uint64_t)w->n_kv);
    int ok = dg_sb_ok(&h) && fwrite(h.s, 1, h.len, w->f) == h.len && fwrite(w->kv.s, 1, w->kv.len, w->f) == w->kv.len &&
             (!w->ti.len || fwrite(w->ti.s, 1, w->ti.len, w->f) == w->ti.len);
    uint64_t hl = h.len + w->kv.len + w->ti.len;
    dg_sb_free(&h);
    if (!ok) return dg_fail(err, DG_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
    w->off = w->written = 0;
    w->cur = 0;
    return zeros(w, pad(hl) - hl, err);
}

dg_status dg_ggw_write(dg_ggw *w, const void *data, size_t n, dg_error *err) {
    if (w->cur >= w->n_t || w->written + n > w->size[w->cur])
        return dg_fail(err, DG_ERR_ARG, "%s: more tensor bytes than declared", w->path);
    if (n && fwrite(data, 1, n, w->f) != n) return dg_fail(err, DG_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
    w->written += n;
    if (w->written == w->size[w->cur]) {
        dg_status st = zeros(w, pad(w->written) - w->written, err);
        if (st) return st;
        w->cur++;
        w->written = 0;
    }
    return DG_OK;
}

dg_status dg_ggw_finish(dg_ggw *w, dg_error *err) {
    if (w->cur != w->n_t) return dg_fail(err, DG_ERR_ARG, "%s: %d of %d tensors written", w->path, w->cur, w->n_t);
    int bad = fclose(w->f) != 0;
    w->f = NULL;
    if (bad) return dg_fail(err, DG_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
    w->done = 1;
    return DG_OK;
}

void dg_ggw_free(dg_ggw *w) {
    if (!w) return;
    if (w->f) fclose(w->f);
    if (!w->done) remove(w->path);
    dg_sb_free(&w->kv);
    dg_sb_free(&w->ti);
    free(w->size);
    free(w->path);
    free(w);
}
