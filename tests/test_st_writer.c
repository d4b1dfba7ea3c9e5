/* The streaming safetensors writer: single file and shards read back through the loader's
 * reader (dg_weights_open), byte for byte; misuse and unwritable directories fail cleanly. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "format/st_writer.h"
#include "format/weights.h"
#include "t.h"

static uint8_t byte_at(int t, uint64_t i) { return (uint8_t)(t * 31 + i * 7 + (i >> 9)); }

/* Writes n tensors of growing size to dir with the given shard limit; returns the shard count. */
static int write_set(const char *dir, uint64_t max_shard, int n) {
    dg_stw *w;
    dg_error err = {0};
    CHECK(!dg_stw_new(dir, max_shard, &w, &err), "%s", err.msg);
    for (int t = 0; t < n; t++) {
        char name[64];
        snprintf(name, sizeof name, "t.%d.weight", t);
        int64_t shape[2] = {t + 1, 1000 * (t + 1) + 3};
        CHECK(!dg_stw_add(w, name, DG_DT_U8, 2, shape, &err), "%s", err.msg);
    }
    CHECK(!dg_stw_begin(w, &err), "%s", err.msg);
    uint8_t buf[777];
    for (int t = 0; t < n; t++) {
        uint64_t nb = (uint64_t)(t + 1) * (uint64_t)(1000 * (t + 1) + 3), i = 0;
        while (i < nb) {   /* odd-sized writes cross buffer and tensor boundaries */
            size_t k = nb - i < sizeof buf ? (size_t)(nb - i) : sizeof buf;
            for (size_t j = 0; j < k; j++) buf[j] = byte_at(t, i + j);
            CHECK(!dg_stw_write(w, buf, k, &err), "%s", err.msg);
            i += k;
        }
    }
    CHECK(!dg_stw_finish(w, &err), "%s", err.msg);
    int ns = dg_stw_n_shards(w);
    dg_stw_free(w);
    return ns;
}

static void check_set(const char *dir, int n) {
    dg_weights *wt;
    dg_error err = {0};
    CHECK(!dg_weights_open(dir, &wt, &err), "%s", err.msg);
    if (!wt) return;
    CHECK(dg_weights_count(wt) == n, "count %d", dg_weights_count(wt));
    for (int t = 0; t < n; t++) {
        char name[64];
        snprintf(name, sizeof name, "t.%d.weight", t);
        const dg_tensor *x = dg_weights_find(wt, name);
        CHECK(x != NULL, "%s missing", name);
        if (!x) continue;
        int ok = x->shape[0] == t + 1 && x->shape[1] == 1000 * (t + 1) + 3;
        for (size_t i = 0; ok && i < x->nbytes; i++) ok = x->data[i] == byte_at(t, i);
        CHECK(ok, "%s content", name);
    }
    dg_weights_close(wt);
}

int main(void) {
    (void)t_golden;
    char dir[] = "/tmp/dg_stw_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    int ns = write_set(dir, 0, 12);
    CHECK(ns == 1, "one file, got %d", ns);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK(access(path, F_OK) == 0, "model.safetensors");
    check_set(dir, 12);
    unlink(path);

    ns = write_set(dir, 40000, 12);     /* tensors up to 12*12003 bytes: some alone in a shard */
    CHECK(ns > 3, "sharded, got %d", ns);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    CHECK(access(path, F_OK) == 0, "index");
    check_set(dir, 12);
    for (int s = 1; s <= ns; s++) {
        snprintf(path, sizeof path, "%s/model-%05d-of-%05d.safetensors", dir, s, ns);
        CHECK(unlink(path) == 0, "%s", path);
    }
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    unlink(path);

    /* Misuse: short data, duplicate names, unwritable directory. */
    dg_stw *w;
    dg_error err = {0};
    int64_t shape[1] = {16};
    dg_stw_new(dir, 0, &w, &err);
    dg_stw_add(w, "a", DG_DT_F32, 1, shape, &err);
    dg_stw_begin(w, &err);
    float x[4] = {0};
    dg_stw_write(w, x, sizeof x, &err);
    CHECK(dg_stw_finish(w, &err) == DG_ERR_ARG, "short data");
    CHECK(strstr(err.msg, "16 of 64") || strstr(err.msg, "of 64"), "%s", err.msg);
    dg_stw_free(w);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    CHECK(access(path, F_OK) != 0, "failed write leaves no file");
    dg_stw_new(dir, 0, &w, &err);
    dg_stw_add(w, "a", DG_DT_F32, 1, shape, &err);
    dg_stw_add(w, "a", DG_DT_F32, 1, shape, &err);
    CHECK(dg_stw_begin(w, &err) == DG_ERR_ARG && strstr(err.msg, "twice"), "%s", err.msg);
    dg_stw_free(w);
    dg_stw_new("/nonexistent-dir/x", 0, &w, &err);
    dg_stw_add(w, "a", DG_DT_F32, 1, shape, &err);
    dg_stw_begin(w, &err);
    float y[16] = {0};
    dg_status st = dg_stw_write(w, y, sizeof y, &err);
    if (!st) st = dg_stw_finish(w, &err);
    CHECK(st == DG_ERR_IO && strstr(err.msg, "/nonexistent-dir/x/model.safetensors"), "%s", err.msg);
    dg_stw_free(w);
    rmdir(dir);
    return t_done("test_st_writer");
}
