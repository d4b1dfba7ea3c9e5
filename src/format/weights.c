#include "format/weights.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/error.h"
#include "format/gguf_names.h"
#include "format/gguf_set.h"
#include "core/file.h"
#include "core/json.h"

struct dg_weights {
    dg_st_file **files;
    int n_files;
    dg_gguf **gguf;             /* or a GGUF set: its tensors under HF names in views */
    int n_gguf;
    dg_tensor *views;
    char *view_names;
    const dg_tensor **index;    /* every tensor of every shard, sorted by name */
    int n;
};

static int by_name(const void *a, const void *b) {
    return strcmp((*(const dg_tensor *const *)a)->name, (*(const dg_tensor *const *)b)->name);
}

static int file_exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static dg_status add_file(dg_weights *w, const char *path, dg_error *err) {
    dg_st_file **nf = realloc(w->files, (size_t)(w->n_files + 1) * sizeof *nf);
    if (!nf) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    w->files = nf;
    dg_status st = dg_st_open(path, &w->files[w->n_files], err);
    if (st) return st;
    w->n_files++;
    return DG_OK;
}

/* Opens the shards named in the index, each once, and checks every listed tensor is where
 * the index says. */
static dg_status open_sharded(dg_weights *w, const char *dir, const char *index_path, dg_error *err) {
    char *text;
    size_t len;
    cJSON *root = NULL;
    dg_status st = dg_read_file(index_path, &text, &len, err);
    if (st) return st;
    st = dg_json_object(text, len, index_path, &root, err);
    free(text);
    if (st) return st;
    const cJSON *map = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    if (!cJSON_IsObject(map)) {
        cJSON_Delete(root);
        return dg_fail(err, DG_ERR_FORMAT, "%s: expected an object with a \"weight_map\" object", index_path);
    }
    char path[4096];
    for (const cJSON *e = map->child; e && !st; e = e->next) {
        if (!cJSON_IsString(e) || strchr(e->valuestring, '/') || !strcmp(e->valuestring, "..")) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: weight_map[\"%s\"] must be a file name", index_path, e->string);
            break;
        }
        int seen = 0;
        for (int i = 0; i < w->n_files; i++) {
            const char *p = dg_st_path(w->files[i]);
            const char *base = strrchr(p, '/');
            if (!strcmp(base ? base + 1 : p, e->valuestring)) seen = 1;
        }
        if (!seen) {
            snprintf(path, sizeof path, "%s/%s", dir, e->valuestring);
            st = add_file(w, path, err);
        }
    }
    for (const cJSON *e = map->child; e && !st; e = e->next) {
        const dg_tensor *found = NULL;
        for (int i = 0; i < w->n_files && !found; i++) {
            const char *p = dg_st_path(w->files[i]);
            const char *base = strrchr(p, '/');
            if (!strcmp(base ? base + 1 : p, e->valuestring)) found = dg_st_find(w->files[i], e->string);
        }
        if (!found) st = dg_fail(err, DG_ERR_MISSING, "%s/%s: tensor '%s' listed in the index is not in that shard", dir, e->valuestring, e->string);
    }
    cJSON_Delete(root);
    return st;
}

/* Every tensor of every part, renamed to its HF name where the convention has one. The split
 * expert form (ffn_gate_exps + ffn_up_exps) is not published and has no HF counterpart here. */
static dg_status open_gguf(dg_weights *w, const char *first, dg_error *err) {
    dg_status st = dg_gguf_open_set(first, &w->gguf, &w->n_gguf, err);
    if (st) return st;
    int n = 0;
    for (int i = 0; i < w->n_gguf; i++) n += dg_gguf_tensor_count(w->gguf[i]);
    w->views = calloc((size_t)(n ? n : 1), sizeof *w->views);
    w->view_names = malloc((size_t)(n ? n : 1) * 128);
    if (!w->views || !w->view_names) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    for (int i = 0, k = 0; i < w->n_gguf; i++)
        for (int j = 0; j < dg_gguf_tensor_count(w->gguf[i]); j++, k++) {
            const dg_tensor *t = dg_gguf_tensor_at(w->gguf[i], j);
            if (strstr(t->name, ".ffn_gate_exps.") || strstr(t->name, ".ffn_up_exps."))
                return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: tensor '%s': separate gate/up expert tensors are not supported (only ffn_gate_up_exps)",
                               t->file, t->name);
            w->views[k] = *t;
            char *nm = w->view_names + (size_t)k * 128;
            if (dg_gguf_to_hf(t->name, nm, 128)) w->views[k].name = nm;
        }
    w->n = n;
    return DG_OK;
}

dg_status dg_weights_open(const char *dir, dg_weights **out, dg_error *err) {
    *out = NULL;
    dg_weights *w = calloc(1, sizeof *w);
    if (!w) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    char path[4096];
    dg_status st;
    int g = dg_gguf_locate(dir, path, sizeof path, err);
    if (g < 0) { dg_weights_close(w); return err ? err->code : DG_ERR_ARG; }
    if (g) st = open_gguf(w, path, err);
    else if (snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir), file_exists(path)) st = open_sharded(w, dir, path, err);
    else {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        if (!file_exists(path))
            st = dg_fail(err, DG_ERR_MISSING, "%s: no model.safetensors or model.safetensors.index.json", dir);
        else st = add_file(w, path, err);
    }
    if (st) { dg_weights_close(w); return st; }
    for (int i = 0; i < w->n_files; i++) w->n += dg_st_count(w->files[i]);
    w->index = malloc((size_t)(w->n ? w->n : 1) * sizeof *w->index);
    if (!w->index) { dg_weights_close(w); return dg_fail(err, DG_ERR_NOMEM, "out of memory"); }
    int k = 0;
    for (int i = 0; i < w->n_files; i++)
        for (int j = 0; j < dg_st_count(w->files[i]); j++) w->index[k++] = dg_st_at(w->files[i], j);
    for (int i = 0; w->views && i < w->n; i++) w->index[k++] = &w->views[i];
    qsort(w->index, (size_t)w->n, sizeof *w->index, by_name);
    for (int i = 1; i < w->n; i++)
        if (!strcmp(w->index[i]->name, w->index[i - 1]->name)) {
            st = dg_fail(err, DG_ERR_FORMAT, "tensor '%s' appears in both %s and %s", w->index[i]->name,
                         w->index[i - 1]->file, w->index[i]->file);
            dg_weights_close(w);
            return st;
        }
    *out = w;
    return DG_OK;
}

void dg_weights_close(dg_weights *w) {
    if (!w) return;
    for (int i = 0; i < w->n_files; i++) dg_st_close(w->files[i]);
    free(w->files);
    for (int i = 0; i < w->n_gguf; i++) dg_gguf_close(w->gguf[i]);
    free(w->gguf);
    free(w->views);
    free(w->view_names);
    free(w->index);
    free(w);
}

const dg_tensor *dg_weights_find(const dg_weights *w, const char *name) {
    dg_tensor key = {.name = name};
    const dg_tensor *kp = &key;
    const dg_tensor **r = bsearch(&kp, w->index, (size_t)w->n, sizeof *w->index, by_name);
    return r ? *r : NULL;
}

int dg_weights_count(const dg_weights *w) { return w->n; }
const dg_tensor *dg_weights_at(const dg_weights *w, int i) { return w->index[i]; }

const dg_gguf *dg_weights_gguf(const dg_weights *w) { return w->n_gguf ? w->gguf[0] : NULL; }
