#include "format/safetensors.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "core/error.h"
#include "core/file.h"
#include "core/json.h"

struct dg_st_file {
    char *path;
    uint8_t *map;
    size_t size;
    int n;
    dg_tensor *t;       /* sorted by name */
    char *names;        /* storage for names */
};

static const struct { const char *name; size_t size; } dtypes[DG_DT_COUNT] = {
    [DG_DT_BOOL] = {"BOOL", 1}, [DG_DT_U8] = {"U8", 1},   [DG_DT_I8] = {"I8", 1},
    [DG_DT_U16] = {"U16", 2},   [DG_DT_I16] = {"I16", 2}, [DG_DT_F16] = {"F16", 2},
    [DG_DT_BF16] = {"BF16", 2}, [DG_DT_U32] = {"U32", 4}, [DG_DT_I32] = {"I32", 4},
    [DG_DT_F32] = {"F32", 4},   [DG_DT_U64] = {"U64", 8}, [DG_DT_I64] = {"I64", 8},
    [DG_DT_F64] = {"F64", 8},
};

const char *dg_dtype_name(dg_dtype t) { return (unsigned)t < DG_DT_COUNT ? dtypes[t].name : "?"; }
size_t dg_dtype_size(dg_dtype t) { return (unsigned)t < DG_DT_COUNT ? dtypes[t].size : 0; }

int64_t dg_tensor_numel(const dg_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const dg_tensor *)a)->name, ((const dg_tensor *)b)->name);
}

typedef struct { size_t begin, end; int idx; } span;
static int by_begin(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end > y->end) - (x->end < y->end);
}

/* Reads a JSON number that must be a non-negative integer representable exactly. */
static int json_uint(const cJSON *v, uint64_t *out) {
    if (!cJSON_IsNumber(v)) return 0;
    double d = v->valuedouble;
    if (d < 0 || d > 9007199254740992.0 || d != (double)(uint64_t)d) return 0;
    *out = (uint64_t)d;
    return 1;
}

static dg_status parse_header(dg_st_file *f, const char *json, size_t json_len, size_t data_size, dg_error *err) {
    char what[4200];
    snprintf(what, sizeof what, "%s: header", f->path);
    cJSON *root = NULL;
    dg_status st = dg_json_object(json, json_len, what, &root, err);
    if (st) return st;
    int count = 0;
    size_t name_bytes = 0;
    for (cJSON *e = root->child; e; e = e->next) {
        if (!e->string) continue;
        if (!strcmp(e->string, "__metadata__")) continue;
        count++;
        name_bytes += strlen(e->string) + 1;
    }
    f->t = calloc(count ? (size_t)count : 1, sizeof *f->t);
    f->names = malloc(name_bytes ? name_bytes : 1);
    span *spans = calloc(count ? (size_t)count : 1, sizeof *spans);
    if (!f->t || !f->names || !spans) { st = dg_fail(err, DG_ERR_NOMEM, "%s: out of memory", f->path); goto done; }
    char *np = f->names;
    for (cJSON *e = root->child; e; e = e->next) {
        if (!strcmp(e->string, "__metadata__")) {
            if (!cJSON_IsObject(e)) { st = dg_fail(err, DG_ERR_FORMAT, "%s: __metadata__ is not an object", f->path); goto done; }
            continue;
        }
        dg_tensor *t = &f->t[f->n];
        size_t len = strlen(e->string) + 1;
        memcpy(np, e->string, len);
        t->name = np;
        np += len;
        t->file = f->path;
        t->gtype = -1;
        const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
        const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        if (!cJSON_IsObject(e) || !cJSON_IsString(dt) || !cJSON_IsArray(sh) || !cJSON_IsArray(off)) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': entry needs dtype, shape and data_offsets", f->path, t->name);
            goto done;
        }
        int known = -1;
        for (int i = 0; i < DG_DT_COUNT; i++)
            if (!strcmp(dt->valuestring, dtypes[i].name)) known = i;
        if (known < 0) {
            st = dg_fail(err, DG_ERR_UNSUPPORTED, "%s: tensor '%s': unsupported dtype '%s'", f->path, t->name, dt->valuestring);
            goto done;
        }
        t->dtype = (dg_dtype)known;
        int nd = cJSON_GetArraySize(sh);
        if (nd > DG_MAX_DIMS) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': %d dimensions (max %d)", f->path, t->name, nd, DG_MAX_DIMS);
            goto done;
        }
        t->ndim = nd;
        uint64_t numel = 1;
        int i = 0;
        for (cJSON *d = sh->child; d; d = d->next, i++) {
            uint64_t v;
            if (!json_uint(d, &v) || v > (1ull << 40)) {
                st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': bad shape entry", f->path, t->name);
                goto done;
            }
            t->shape[i] = (int64_t)v;
            if (v && numel > (UINT64_MAX / 16) / v) {
                st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': shape too large", f->path, t->name);
                goto done;
            }
            numel *= v;
        }
        uint64_t b, en;
        if (cJSON_GetArraySize(off) != 2 || !json_uint(off->child, &b) || !json_uint(off->child->next, &en) || b > en) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': data_offsets must be [begin, end] with begin <= end", f->path, t->name);
            goto done;
        }
        if (en > data_size) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] extend past the data buffer (%zu bytes); file truncated?",
                         f->path, t->name, (unsigned long long)b, (unsigned long long)en, data_size);
            goto done;
        }
        uint64_t want = numel * dtypes[known].size;
        if (en - b != want) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': %llu bytes of data but dtype %s x shape needs %llu",
                         f->path, t->name, (unsigned long long)(en - b), dt->valuestring, (unsigned long long)want);
            goto done;
        }
        t->nbytes = (size_t)want;
        spans[f->n] = (span){(size_t)b, (size_t)en, f->n};
        f->n++;
    }
    qsort(spans, (size_t)f->n, sizeof *spans, by_begin);
    for (int i = 1; i < f->n; i++)
        if (spans[i].begin < spans[i - 1].end && spans[i].end > spans[i].begin) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap in the data buffer", f->path,
                         f->t[spans[i - 1].idx].name, f->t[spans[i].idx].name);
            goto done;
        }
    /* Offsets for now; dg_st_open rebases them onto the mapping. */
    for (int i = 0; i < f->n; i++) f->t[spans[i].idx].data = (const uint8_t *)(uintptr_t)spans[i].begin;
    qsort(f->t, (size_t)f->n, sizeof *f->t, by_name);
    for (int i = 1; i < f->n; i++)
        if (!strcmp(f->t[i].name, f->t[i - 1].name)) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s' appears twice in the header", f->path, f->t[i].name);
            goto done;
        }
done:
    free(spans);
    cJSON_Delete(root);
    return st;
}

dg_status dg_st_open(const char *path, dg_st_file **out, dg_error *err) {
    *out = NULL;
    dg_st_file *f = calloc(1, sizeof *f);
    if (!f) return dg_fail(err, DG_ERR_NOMEM, "out of memory");
    f->path = strdup(path);
    dg_status st = DG_OK;
    int fd = dg_open_regular(path, &f->size, err);
    if (fd < 0) { st = DG_ERR_IO; goto fail; }
    if (f->size < 8) { close(fd); st = dg_fail(err, DG_ERR_FORMAT, "%s: truncated (%zu bytes, no header length)", path, f->size); goto fail; }
    void *m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) { st = dg_fail(err, DG_ERR_IO, "%s: mmap: %s", path, strerror(errno)); goto fail; }
    f->map = m;
    uint64_t hlen;
    memcpy(&hlen, f->map, 8);
    if (hlen > f->size - 8 || hlen > (100u << 20)) {
        st = dg_fail(err, DG_ERR_FORMAT, "%s: header length %llu exceeds the file (%zu bytes)", path, (unsigned long long)hlen, f->size);
        goto fail;
    }
    size_t data_start = 8 + (size_t)hlen;
    st = parse_header(f, (const char *)f->map + 8, (size_t)hlen, f->size - data_start, err);
    if (st) goto fail;
    for (int i = 0; i < f->n; i++) f->t[i].data = f->map + data_start + (size_t)(uintptr_t)f->t[i].data;
    *out = f;
    return DG_OK;
fail:
    dg_st_close(f);
    return st;
}

void dg_st_close(dg_st_file *f) {
    if (!f) return;
    if (f->map) munmap(f->map, f->size);
    free(f->t);
    free(f->names);
    free(f->path);
    free(f);
}

int dg_st_count(const dg_st_file *f) { return f->n; }
const dg_tensor *dg_st_at(const dg_st_file *f, int i) { return &f->t[i]; }
const char *dg_st_path(const dg_st_file *f) { return f->path; }

const dg_tensor *dg_st_find(const dg_st_file *f, const char *name) {
    dg_tensor key = {.name = name};
    return bsearch(&key, f->t, (size_t)f->n, sizeof *f->t, by_name);
}
