/* Golden files for tests: tensors of golden.safetensors by name, and golden.json. */
#ifndef DG_TESTS_GOLDEN_IO_H
#define DG_TESTS_GOLDEN_IO_H
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "format/safetensors.h"

/* Golden tensors go through the library's own safetensors reader (strict validation, mmap). */
typedef struct gio_file {
    dg_st_file *st;
} gio_file;

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
    g->st = NULL;
    return dg_st_open(path, &g->st, NULL) == DG_OK;
}

static inline void gio_close(gio_file *g) {
    dg_st_close(g->st);
    g->st = NULL;
}

/* Copies a tensor into a new malloc'ed buffer (aligned for any type); NULL if absent or the
 * dtype differs from `dtype`. */
static inline void *gio_copy(const gio_file *g, const char *name, const char *dtype, int64_t *numel) {
    const dg_tensor *t = g->st ? dg_st_find(g->st, name) : NULL;
    if (!t || strcmp(dg_dtype_name(t->dtype), dtype)) return NULL;
    void *p = malloc(t->nbytes ? t->nbytes : 1);
    if (p) memcpy(p, t->data, t->nbytes);
    if (numel) *numel = dg_tensor_numel(t);
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
