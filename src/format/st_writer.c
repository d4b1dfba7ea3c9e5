#include "format/st_writer.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/strbuf.h"

#define BUF_BYTES (16u << 20)

typedef struct entry {
    char *name;
    dg_dtype dtype;
    int ndim;
    int64_t shape[DG_MAX_DIMS];
    uint64_t nbytes, offset;    /* offset within its shard's data buffer */
    int shard;
} entry;

typedef struct shard {
    char *path;
    dg_sb header;               /* 8-byte length + padded JSON */
    uint64_t data_bytes;
    int created;
} shard;

/* One buffer handed to the I/O thread: bytes for `shard` (-1: close the open file). */
typedef struct job { const uint8_t *buf; size_t len; int shard; } job;

struct dg_stw {
    char *dir;
    uint64_t max_shard;
    entry *t;
    int n, cap;
    shard *sh;
    int n_shards;
    int begun, finished;
    uint64_t total, done;
    int cur_shard;              /* shard the next caller byte belongs to */
    uint64_t shard_left;        /* data bytes left in cur_shard */
    uint8_t *buf[2];
    size_t fill;
    int cur;
    dg_write_progress_fn progress;
    void *user;
    /* I/O thread */
    pthread_t th;
    int th_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    job pending;
    int has_job, quit;
    int fd, fd_shard;           /* thread-owned */
    dg_status io_st;
    dg_error io_err;
};

static dg_status io_fail(dg_stw *w, const char *path, const char *what, int e) {
    w->io_st = dg_fail(&w->io_err, DG_ERR_IO, "%s: %s: %s", path, what, strerror(e));
    return w->io_st;
}

static dg_status write_all(dg_stw *w, int fd, const uint8_t *p, size_t n, const char *path) {
    while (n) {
        ssize_t k = write(fd, p, n > (1u << 30) ? (1u << 30) : n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return io_fail(w, path, "write failed", errno);
        }
        if (k == 0) return io_fail(w, path, "write failed", ENOSPC);
        p += k;
        n -= (size_t)k;
    }
    return DG_OK;
}

static void io_close(dg_stw *w) {
    if (w->fd < 0) return;
    if (close(w->fd) != 0 && !w->io_st) io_fail(w, w->sh[w->fd_shard].path, "close failed", errno);
    w->fd = -1;
}

/* Runs on the I/O thread: opens shards as their first bytes arrive (header first). */
static void io_job(dg_stw *w, const job *j) {
    if (w->io_st) return;
    if (j->shard != w->fd_shard || j->shard < 0) {
        io_close(w);
        w->fd_shard = j->shard;
        if (j->shard < 0 || w->io_st) return;
        shard *s = &w->sh[j->shard];
        w->fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (w->fd < 0) { io_fail(w, s->path, "cannot create", errno); return; }
        s->created = 1;
        if (write_all(w, w->fd, (const uint8_t *)s->header.s, s->header.len, s->path)) return;
    }
    write_all(w, w->fd, j->buf, j->len, w->sh[j->shard].path);
}

static void *io_main(void *arg) {
    dg_stw *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->has_job && !w->quit) pthread_cond_wait(&w->cv, &w->mu);
        if (!w->has_job && w->quit) break;
        job j = w->pending;
        pthread_mutex_unlock(&w->mu);
        io_job(w, &j);
        pthread_mutex_lock(&w->mu);
        w->has_job = 0;      /* only now may the caller reuse j.buf */
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Waits for the I/O thread to be idle; returns its sticky status. */
static dg_status io_wait(dg_stw *w, dg_error *err) {
    pthread_mutex_lock(&w->mu);
    while (w->has_job) pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
    if (w->io_st && err) *err = w->io_err;
    return w->io_st;
}

static dg_status io_submit(dg_stw *w, const uint8_t *buf, size_t len, int shard, dg_error *err) {
    dg_status st = io_wait(w, err);
    if (st) return st;
    pthread_mutex_lock(&w->mu);
    w->pending = (job){buf, len, shard};
    w->has_job = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return DG_OK;
}

dg_status dg_stw_new(const char *dir, uint64_t max_shard_bytes, dg_stw **out, dg_error *err) {
    *out = NULL;
    dg_stw *w = calloc(1, sizeof *w);
    if (!w || !(w->dir = strdup(dir))) { free(w); return dg_fail(err, DG_ERR_NOMEM, "out of memory"); }
    w->max_shard = max_shard_bytes;
    w->fd = -1;
    w->fd_shard = -1;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    *out = w;
    return DG_OK;
}

void dg_stw_set_progress(dg_stw *w, dg_write_progress_fn fn, void *user) { w->progress = fn; w->user = user; }

dg_status dg_stw_add(dg_stw *w, const char *name, dg_dtype dtype, int ndim, const int64_t *shape, dg_error *err) {
    if (w->begun) return dg_fail(err, DG_ERR_ARG, "safetensors writer: tensor '%s' added after begin", name);
    if (ndim < 0 || ndim > DG_MAX_DIMS || (unsigned)dtype >= DG_DT_COUNT)
        return dg_fail(err, DG_ERR_ARG, "safetensors writer: tensor '%s': bad dtype or rank", name);
    uint64_t nb = dg_dtype_size(dtype);
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] && nb > UINT64_MAX / 2 / (uint64_t)shape[i]))
            return dg_fail(err, DG_ERR_ARG, "safetensors writer: tensor '%s': bad shape", name);
        nb *= (uint64_t)shape[i];
    }
    if (w->n == w->cap) {
        int cap = w->cap ? 2 * w->cap : 256;
        entry *t = realloc(w->t, (size_t)cap * sizeof *t);
        if (!t) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
        w->t = t;
        w->cap = cap;
    }
    entry *e = &w->t[w->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(name))) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    e->dtype = dtype;
    e->ndim = ndim;
    memcpy(e->shape, shape, (size_t)ndim * sizeof *shape);
    e->nbytes = nb;
    w->n++;
    return DG_OK;
}

static int name_cmp(const void *a, const void *b) {
    return strcmp((*(entry *const *)a)->name, (*(entry *const *)b)->name);
}

dg_status dg_stw_begin(dg_stw *w, dg_error *err) {
    if (w->begun) return dg_fail(err, DG_ERR_ARG, "safetensors writer: begin called twice");
    if (!w->n) return dg_fail(err, DG_ERR_ARG, "safetensors writer: no tensors");
    /* Duplicate names would make an invalid file; check once, sorted. */
    entry **byname = malloc((size_t)w->n * sizeof *byname);
    if (!byname) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    for (int i = 0; i < w->n; i++) byname[i] = &w->t[i];
    qsort(byname, (size_t)w->n, sizeof *byname, name_cmp);
    for (int i = 1; i < w->n; i++)
        if (!strcmp(byname[i]->name, byname[i - 1]->name)) {
            dg_status st = dg_fail(err, DG_ERR_ARG, "safetensors writer: tensor '%s' added twice", byname[i]->name);
            free(byname);
            return st;
        }
    free(byname);
    /* Greedy HF-style sharding. */
    int ns = 1;
    uint64_t in_shard = 0;
    for (int i = 0; i < w->n; i++) {
        entry *e = &w->t[i];
        if (w->max_shard && in_shard > 0 && in_shard + e->nbytes > w->max_shard) { ns++; in_shard = 0; }
        e->shard = ns - 1;
        e->offset = in_shard;
        in_shard += e->nbytes;
        w->total += e->nbytes;
    }
    w->sh = calloc((size_t)ns, sizeof *w->sh);
    if (!w->sh) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    w->n_shards = ns;
    for (int s = 0; s < ns; s++) {
        char name[64];
        if (ns == 1) snprintf(name, sizeof name, "model.safetensors");
        else snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, ns);
        dg_sb p = {0};
        dg_sb_printf(&p, "%s/%s", w->dir, name);
        w->sh[s].path = p.s;
        dg_sb *h = &w->sh[s].header;
        dg_sb_put(h, "\0\0\0\0\0\0\0\0", 8);
        dg_sb_printf(h, "{\"__metadata__\":{\"format\":\"pt\"}");
        for (int i = 0; i < w->n; i++) {
            entry *e = &w->t[i];
            if (e->shard != s) continue;
            dg_sb_put(h, ",", 1);
            dg_sb_json_str(h, e->name);
            dg_sb_printf(h, ":{\"dtype\":\"%s\",\"shape\":[", dg_dtype_name(e->dtype));
            for (int d = 0; d < e->ndim; d++) dg_sb_printf(h, "%s%lld", d ? "," : "", (long long)e->shape[d]);
            dg_sb_printf(h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)e->offset,
                         (unsigned long long)(e->offset + e->nbytes));
            w->sh[s].data_bytes += e->nbytes;
        }
        dg_sb_put(h, "}", 1);
        while (h->len % 8) dg_sb_put(h, " ", 1);
        if (p.oom || h->oom) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
        uint64_t hl = h->len - 8;
        memcpy(h->s, &hl, 8);   /* little-endian hosts only (x86-64, arm64) */
    }
    w->buf[0] = malloc(BUF_BYTES);
    w->buf[1] = malloc(BUF_BYTES);
    if (!w->buf[0] || !w->buf[1]) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    if (pthread_create(&w->th, NULL, io_main, w) != 0) return dg_fail(err, DG_ERR_NOMEM, "cannot start the writer thread");
    w->th_started = 1;
    w->begun = 1;
    w->cur_shard = 0;
    w->shard_left = w->sh[0].data_bytes;
    return DG_OK;
}

/* Hands the filled buffer to the I/O thread and switches to the other one. */
static dg_status flush_buf(dg_stw *w, dg_error *err) {
    if (!w->fill) return DG_OK;
    dg_status st = io_submit(w, w->buf[w->cur], w->fill, w->cur_shard, err);
    if (st) return st;
    w->done += w->fill;
    w->fill = 0;
    w->cur ^= 1;
    if (w->progress) w->progress(w->user, w->done, w->total);
    return DG_OK;
}

dg_status dg_stw_write(dg_stw *w, const void *data, size_t n, dg_error *err) {
    if (!w->begun || w->finished) return dg_fail(err, DG_ERR_ARG, "safetensors writer: write outside begin/finish");
    const uint8_t *p = data;
    while (n) {
        while (!w->shard_left) {
            dg_status st = flush_buf(w, err);
            if (st) return st;
            if (w->cur_shard + 1 >= w->n_shards)
                return dg_fail(err, DG_ERR_ARG, "safetensors writer: more data than the declared tensors hold");
            w->cur_shard++;
            w->shard_left = w->sh[w->cur_shard].data_bytes;
        }
        size_t k = BUF_BYTES - w->fill;
        if (k > n) k = n;
        if (k > w->shard_left) k = (size_t)w->shard_left;
        memcpy(w->buf[w->cur] + w->fill, p, k);
        w->fill += k;
        w->shard_left -= k;
        p += k;
        n -= k;
        if (w->fill == BUF_BYTES) {
            dg_status st = flush_buf(w, err);
            if (st) return st;
        }
    }
    return DG_OK;
}

static void stop_thread(dg_stw *w) {
    if (!w->th_started) return;
    pthread_mutex_lock(&w->mu);
    while (w->has_job) pthread_cond_wait(&w->cv, &w->mu);
    w->quit = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->th, NULL);
    w->th_started = 0;
    io_close(w);
}

static dg_status write_index(dg_stw *w, dg_error *err) {
    entry **byname = malloc((size_t)w->n * sizeof *byname);
    if (!byname) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    for (int i = 0; i < w->n; i++) byname[i] = &w->t[i];
    qsort(byname, (size_t)w->n, sizeof *byname, name_cmp);
    dg_sb b = {0};
    dg_sb_printf(&b, "{\n  \"metadata\": {\n    \"total_size\": %llu\n  },\n  \"weight_map\": {\n", (unsigned long long)w->total);
    for (int i = 0; i < w->n; i++) {
        const char *path = w->sh[byname[i]->shard].path, *base = strrchr(path, '/');
        dg_sb_put(&b, "    ", 4);
        dg_sb_json_str(&b, byname[i]->name);
        dg_sb_put(&b, ": ", 2);
        dg_sb_json_str(&b, base ? base + 1 : path);
        dg_sb_printf(&b, "%s\n", i + 1 < w->n ? "," : "");
    }
    dg_sb_printf(&b, "  }\n}\n");
    free(byname);
    if (b.oom) { dg_sb_free(&b); return dg_fail(err, DG_ERR_NOMEM, "out of memory"); }
    dg_sb p = {0};
    dg_sb_printf(&p, "%s/model.safetensors.index.json", w->dir);
    dg_status st = p.oom ? dg_fail(err, DG_ERR_NOMEM, "out of memory") : dg_write_text_file(p.s, b.s, b.len, err);
    dg_sb_free(&p);
    dg_sb_free(&b);
    return st;
}

dg_status dg_stw_finish(dg_stw *w, dg_error *err) {
    if (!w->begun || w->finished) return dg_fail(err, DG_ERR_ARG, "safetensors writer: finish without begin");
    dg_status st = flush_buf(w, err);
    if (st) return st;
    if (w->cur_shard != w->n_shards - 1 || w->shard_left || w->done != w->total)
        return dg_fail(err, DG_ERR_ARG, "safetensors writer: %llu of %llu declared bytes were written",
                       (unsigned long long)w->done, (unsigned long long)w->total);
    for (int s = 0; s < w->n_shards; s++)     /* shards of empty tensors only: header alone */
        if (!w->sh[s].data_bytes && (st = io_submit(w, NULL, 0, s, err))) return st;
    if ((st = io_submit(w, NULL, 0, -1, err))) return st;   /* close the last shard */
    stop_thread(w);
    if (w->io_st) { if (err) *err = w->io_err; return w->io_st; }
    if (w->n_shards > 1 && (st = write_index(w, err))) return st;
    w->finished = 1;
    return DG_OK;
}

void dg_stw_free(dg_stw *w) {
    if (!w) return;
    stop_thread(w);
    for (int s = 0; s < w->n_shards; s++) {
        if (!w->finished && w->sh[s].created) unlink(w->sh[s].path);
        free(w->sh[s].path);
        dg_sb_free(&w->sh[s].header);
    }
    for (int i = 0; i < w->n; i++) free(w->t[i].name);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    free(w->t);
    free(w->sh);
    free(w->buf[0]);
    free(w->buf[1]);
    free(w->dir);
    free(w);
}

uint64_t dg_stw_total_bytes(const dg_stw *w) { return w->total; }
int dg_stw_n_shards(const dg_stw *w) { return w->n_shards; }

dg_status dg_write_text_file(const char *path, const char *text, size_t len, dg_error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return dg_fail(err, DG_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    size_t k = fwrite(text, 1, len, f);
    int e = errno;
    if (k != len) { fclose(f); return dg_fail(err, DG_ERR_IO, "%s: write failed: %s", path, strerror(e)); }
    if (fclose(f) != 0) return dg_fail(err, DG_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return DG_OK;
}
