/* Test-only reader for golden files: the whole safetensors file is read into memory
 * (goldens are a few MB), the header is parsed with cJSON, tensors are looked up by name.
 * Also loads golden.json. Header-only so tests and tools can include it without linking. */
#ifndef DG_TESTS_GOLDEN_IO_H
#define DG_TESTS_GOLDEN_IO_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gio_file {
    unsigned char *buf;     /* whole file */
    size_t size;
    cJSON *hdr;
    const unsigned char *data;  /* start of the data section */
    size_t data_size;
} gio_file;

typedef struct gio_tensor {
    const void *data;       /* unaligned in general: copy before use as typed array */
    char dtype[8];          /* "F32", "I32", "U8", ... */
    int ndim;
    int64_t shape[8];
    int64_t numel;
    size_t nbytes;
} gio_tensor;

static inline char *gio_read_all(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) { free(b); b = NULL; }
    fclose(f);
    if (b) { b[n] = 0; if (size) *size = (size_t)n; }
    return b;
}

static inline cJSON *gio_load_json(const char *path) {
    char *t = gio_read_all(path, NULL);
    if (!t) return NULL;
    cJSON *j = cJSON_Parse(t);
    free(t);
    return j;
}

static inline int gio_open(gio_file *g, const char *path) {
    memset(g, 0, sizeof *g);
    g->buf = (unsigned char *)gio_read_all(path, &g->size);
    if (!g->buf || g->size < 8) return 0;
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)g->buf[i] << (8 * i);
    if (n > g->size - 8) return 0;
    g->hdr = cJSON_ParseWithLength((const char *)g->buf + 8, (size_t)n);
    g->data = g->buf + 8 + n;
    g->data_size = g->size - 8 - n;
    return g->hdr != NULL;
}

static inline void gio_close(gio_file *g) {
    cJSON_Delete(g->hdr);
    free(g->buf);
    memset(g, 0, sizeof *g);
}

static inline size_t gio_dtype_size(const char *d) {
    if (!strcmp(d, "F64") || !strcmp(d, "I64") || !strcmp(d, "U64")) return 8;
    if (!strcmp(d, "F32") || !strcmp(d, "I32") || !strcmp(d, "U32")) return 4;
    if (!strcmp(d, "F16") || !strcmp(d, "BF16") || !strcmp(d, "I16")) return 2;
    return 1;
}

/* Returns 1 and fills t if the tensor exists and its offsets are sane. */
static inline int gio_find(const gio_file *g, const char *name, gio_tensor *t) {
    memset(t, 0, sizeof *t);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(g->hdr, name);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dt) || !cJSON_IsArray(sh) || cJSON_GetArraySize(off) != 2) return 0;
    snprintf(t->dtype, sizeof t->dtype, "%s", dt->valuestring);
    t->numel = 1;
    const cJSON *d;
    cJSON_ArrayForEach(d, sh) {
        if (t->ndim == 8) return 0;
        t->shape[t->ndim++] = (int64_t)d->valuedouble;
        t->numel *= (int64_t)d->valuedouble;
    }
    size_t a = (size_t)cJSON_GetArrayItem(off, 0)->valuedouble;
    size_t b = (size_t)cJSON_GetArrayItem(off, 1)->valuedouble;
    if (a > b || b > g->data_size || b - a != (size_t)t->numel * gio_dtype_size(t->dtype)) return 0;
    t->data = g->data + a;
    t->nbytes = b - a;
    return 1;
}

/* Copies a tensor into a new malloc'ed buffer (aligned for any type); NULL if absent or the
 * dtype differs from `dtype`. */
static inline void *gio_copy(const gio_file *g, const char *name, const char *dtype, int64_t *numel) {
    gio_tensor t;
    if (!gio_find(g, name, &t) || strcmp(t.dtype, dtype)) return NULL;
    void *p = malloc(t.nbytes ? t.nbytes : 1);
    if (p) memcpy(p, t.data, t.nbytes);
    if (numel) *numel = t.numel;
    return p;
}

/* A JSON number that may exceed 2^53 (seeds): cJSON keeps only a double, so values at the
 * top of the range are taken as 2^64-1 (the only such value the goldens use). */
static inline uint64_t gio_u64(const cJSON *n) {
    double v = n ? n->valuedouble : 0;
    if (v >= 18446744073709549568.0) return UINT64_MAX;
    return v <= 0 ? 0 : (uint64_t)v;
}

/* A float64 stored as a decimal string (goldens keep full precision that way) or a number. */
static inline double gio_f64(const cJSON *n) {
    if (cJSON_IsString(n)) return strtod(n->valuestring, NULL);
    return n ? n->valuedouble : 0;
}

#endif
