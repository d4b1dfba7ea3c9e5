#include "format/gguf.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/error.h"
#include "core/ggml_type.h"

#define MAX_ITEMS (1u << 24)        /* key/values, tensors */
#define MAX_NAME 4096               /* bytes of a key or tensor name */

struct dg_gguf {
    char *path;
    const uint8_t *map;
    size_t size;
    int owns_map;
    uint32_t version;
    int n_kv, n_t;
    size_t kv_cap, t_cap;           /* allocated entries (their names are freed at close) */
    dg_gguf_kv *kv;                 /* file order */
    const dg_gguf_kv **kv_sorted;   /* by key */
    dg_tensor *t;                   /* by name */
};

static const size_t scalar_size[13] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
static const char *const type_names[13] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
                                           "string", "array", "u64", "i64", "f64"};

const char *dg_gguf_type_name(int type) { return type >= 0 && type < 13 ? type_names[type] : "?"; }

/* A bounded reader over the header; every read checks the remaining bytes. */
typedef struct cur { const uint8_t *p, *end; } cur;

static int rd(cur *c, void *out, size_t n) {
    if ((size_t)(c->end - c->p) < n) return 0;
    memcpy(out, c->p, n);
    c->p += n;
    return 1;
}

static int skip(cur *c, uint64_t n) {
    if ((uint64_t)(c->end - c->p) < n) return 0;
    c->p += n;
    return 1;
}

/* A string: u64 length then bytes; `*s` points at the bytes in the mapping. */
static int rd_str(cur *c, const uint8_t **s, uint64_t *len) {
    if (!rd(c, len, 8)) return 0;
    *s = c->p;
    return skip(c, *len);
}

static int by_key(const void *a, const void *b) {
    return strcmp((*(const dg_gguf_kv *const *)a)->key, (*(const dg_gguf_kv *const *)b)->key);
}
static int by_name(const void *a, const void *b) { return strcmp(((const dg_tensor *)a)->name, ((const dg_tensor *)b)->name); }

typedef struct span { uint64_t begin, end; int idx; } span;
static int by_begin(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* A NUL-terminated copy of a key or name (non-empty, bounded, no NUL inside). */
static int stash(const uint8_t *s, uint64_t len, const char **out) {
    if (len == 0 || len > MAX_NAME || memchr(s, 0, (size_t)len)) return 0;
    char *c = malloc((size_t)len + 1);
    if (!c) return 0;
    memcpy(c, s, (size_t)len);
    c[len] = 0;
    *out = c;
    return 1;
}

static dg_status parse(dg_gguf *f, dg_error *err) {
    const char *P = f->path;
    cur c = {f->map, f->map + f->size};
    uint8_t magic[4];
    uint64_t n_t, n_kv;
    if (!rd(&c, magic, 4) || memcmp(magic, "GGUF", 4))
        return dg_fail(err, DG_ERR_FORMAT, "%s: not a GGUF file (bad magic)", P);
    if (!rd(&c, &f->version, 4)) return dg_fail(err, DG_ERR_FORMAT, "%s: truncated header", P);
    if (f->version != 2 && f->version != 3)
        return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: GGUF version %u is not supported (2 or 3, little-endian)", P, f->version);
    if (!rd(&c, &n_t, 8) || !rd(&c, &n_kv, 8)) return dg_fail(err, DG_ERR_FORMAT, "%s: truncated header", P);
    /* each key/value takes >= 13 bytes and each tensor info >= 29: bounds the counts by the size */
    if (n_kv > MAX_ITEMS || n_kv * 13 > f->size || n_t > MAX_ITEMS || n_t * 29 > f->size)
        return dg_fail(err, DG_ERR_FORMAT, "%s: %llu key/values and %llu tensors cannot fit in %zu bytes",
                       P, (unsigned long long)n_kv, (unsigned long long)n_t, f->size);
    f->kv = calloc(n_kv ? n_kv : 1, sizeof *f->kv);
    f->kv_sorted = calloc(n_kv ? n_kv : 1, sizeof *f->kv_sorted);
    f->t = calloc(n_t ? n_t : 1, sizeof *f->t);
    f->kv_cap = (size_t)n_kv;
    f->t_cap = (size_t)n_t;
    if (!f->kv || !f->kv_sorted || !f->t) return dg_fail(err, DG_ERR_NOMEM, "%s: out of memory", P);

    for (uint64_t i = 0; i < n_kv; i++) {
        dg_gguf_kv *kv = &f->kv[i];
        const uint8_t *ks;
        uint64_t klen;
        uint32_t type;
        if (!rd_str(&c, &ks, &klen)) return dg_fail(err, DG_ERR_FORMAT, "%s: key/value %llu: truncated key", P, (unsigned long long)i);
        if (!stash(ks, klen, &kv->key))
            return dg_fail(err, DG_ERR_FORMAT, "%s: key/value %llu: key is empty, too long or holds a NUL byte", P, (unsigned long long)i);
        if (!rd(&c, &type, 4)) return dg_fail(err, DG_ERR_FORMAT, "%s: key '%s': truncated", P, kv->key);
        if (type > DG_GV_F64) return dg_fail(err, DG_ERR_FORMAT, "%s: key '%s': unknown value type %u", P, kv->key, type);
        kv->type = kv->elem = (int)type;
        kv->count = 1;
        if (type == DG_GV_ARRAY) {
            uint32_t et;
            if (!rd(&c, &et, 4) || !rd(&c, &kv->count, 8)) return dg_fail(err, DG_ERR_FORMAT, "%s: key '%s': truncated array", P, kv->key);
            if (et > DG_GV_F64) return dg_fail(err, DG_ERR_FORMAT, "%s: key '%s': unknown array element type %u", P, kv->key, et);
            if (et == DG_GV_ARRAY) return dg_fail(err, DG_ERR_UNSUPPORTED, "%s: key '%s': arrays of arrays are not supported", P, kv->key);
            kv->elem = (int)et;
        }
        kv->data = c.p;
        if (kv->elem == DG_GV_STRING) {
            for (uint64_t k = 0; k < kv->count; k++) {
                const uint8_t *s;
                uint64_t len;
                if (!rd_str(&c, &s, &len))
                    return dg_fail(err, DG_ERR_FORMAT, "%s: key '%s': string %llu runs past the end of the file", P, kv->key, (unsigned long long)k);
            }
        } else {
            size_t es = scalar_size[kv->elem];
            if (kv->count > (uint64_t)(c.end - c.p) / es || !skip(&c, kv->count * es))
                return dg_fail(err, DG_ERR_FORMAT, "%s: key '%s': %llu values run past the end of the file", P, kv->key, (unsigned long long)kv->count);
            if (kv->elem == DG_GV_BOOL)
                for (uint64_t k = 0; k < kv->count; k++)
                    if (kv->data[k] > 1) return dg_fail(err, DG_ERR_FORMAT, "%s: key '%s': bool value %u", P, kv->key, kv->data[k]);
        }
        f->kv_sorted[i] = kv;
        f->n_kv++;
    }
    qsort(f->kv_sorted, (size_t)f->n_kv, sizeof *f->kv_sorted, by_key);
    for (int i = 1; i < f->n_kv; i++)
        if (!strcmp(f->kv_sorted[i]->key, f->kv_sorted[i - 1]->key))
            return dg_fail(err, DG_ERR_FORMAT, "%s: key '%s' appears twice", P, f->kv_sorted[i]->key);

    uint64_t align = 32;
    const dg_gguf_kv *ak = dg_gguf_find_kv(f, "general.alignment");
    if (ak) {
        uint32_t a;
        if (ak->type != DG_GV_U32) return dg_fail(err, DG_ERR_FORMAT, "%s: key 'general.alignment' has type %s (expected u32)", P, dg_gguf_type_name(ak->type));
        memcpy(&a, ak->data, 4);
        if (a == 0 || (a & (a - 1))) return dg_fail(err, DG_ERR_FORMAT, "%s: general.alignment %u is not a power of two", P, a);
        align = a;
    }

    uint64_t *offs = calloc(n_t ? n_t : 1, sizeof *offs);
    span *spans = calloc(n_t ? n_t : 1, sizeof *spans);
    dg_status st = DG_OK;
    if (!offs || !spans) { st = dg_fail(err, DG_ERR_NOMEM, "%s: out of memory", P); goto done; }
    for (uint64_t i = 0; i < n_t; i++) {
        dg_tensor *t = &f->t[i];
        const uint8_t *ns;
        uint64_t nlen, ne[4] = {1, 1, 1, 1};
        uint32_t nd, type;
        if (!rd_str(&c, &ns, &nlen)) { st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor info %llu: truncated", P, (unsigned long long)i); goto done; }
        if (!stash(ns, nlen, &t->name)) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor info %llu: name is empty, too long or holds a NUL byte", P, (unsigned long long)i);
            goto done;
        }
        t->stored_name = t->name;
        t->file = f->path;
        if (!rd(&c, &nd, 4)) { st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': truncated info", P, t->name); goto done; }
        if (nd < 1 || nd > 4) { st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': %u dimensions (1 to 4)", P, t->name, nd); goto done; }
        for (uint32_t d = 0; d < nd; d++)
            if (!rd(&c, &ne[d], 8)) { st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': truncated info", P, t->name); goto done; }
        if (!rd(&c, &type, 4) || !rd(&c, &offs[i], 8)) { st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': truncated info", P, t->name); goto done; }
        int bk = dg_ggml_block((int)type);
        if (type > 1000 || !bk) {
            st = dg_fail(err, DG_ERR_UNSUPPORTED, "%s: tensor '%s': ggml type id %u is not supported (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K, IQ4_NL, IQ4_XS)",
                         P, t->name, type);
            goto done;
        }
        uint64_t numel = 1;
        for (uint32_t d = 0; d < nd; d++) {
            if (ne[d] < 1 || ne[d] > (1ull << 40) || numel > (1ull << 50) / ne[d]) {
                st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': bad dimension ne[%u] = %llu", P, t->name, d, (unsigned long long)ne[d]);
                goto done;
            }
            numel *= ne[d];
        }
        if (ne[0] % (uint64_t)bk) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': ne[0] = %llu is not a multiple of the %s block (%d)", P, t->name,
                         (unsigned long long)ne[0], dg_ggml_name((int)type), bk);
            goto done;
        }
        if (offs[i] % align) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': offset %llu is not a multiple of the alignment %llu", P, t->name,
                         (unsigned long long)offs[i], (unsigned long long)align);
            goto done;
        }
        t->gtype = (int)type;
        t->dtype = type == DG_GGML_F32 ? DG_DT_F32 : type == DG_GGML_F16 ? DG_DT_F16 : type == DG_GGML_BF16 ? DG_DT_BF16 : DG_DT_U8;
        t->ndim = (int)nd;
        for (uint32_t d = 0; d < nd; d++) t->shape[d] = (int64_t)ne[nd - 1 - d];
        t->nbytes = (size_t)(numel / (uint64_t)bk * dg_ggml_block_bytes((int)type));
        f->n_t++;
    }
    uint64_t hdr = (uint64_t)(c.p - f->map), data_start = (hdr + align - 1) / align * align;
    if (data_start > f->size) { st = dg_fail(err, DG_ERR_FORMAT, "%s: truncated: the data section would start at %llu of %zu bytes", P, (unsigned long long)data_start, f->size); goto done; }
    uint64_t data_size = f->size - data_start;
    for (int i = 0; i < f->n_t; i++) {
        dg_tensor *t = &f->t[i];
        if (offs[i] > data_size || t->nbytes > data_size - offs[i]) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s': data [%llu, +%zu) lies outside the file's %llu data bytes (truncated?)", P, t->name,
                         (unsigned long long)offs[i], t->nbytes, (unsigned long long)data_size);
            goto done;
        }
        t->data = f->map + data_start + offs[i];
        spans[i] = (span){offs[i], offs[i] + t->nbytes, i};
    }
    qsort(spans, (size_t)f->n_t, sizeof *spans, by_begin);
    for (int i = 1; i < f->n_t; i++)
        if (spans[i].begin < spans[i - 1].end) {
            st = dg_fail(err, DG_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap in the data section", P,
                         f->t[spans[i - 1].idx].name, f->t[spans[i].idx].name);
            goto done;
        }
    qsort(f->t, (size_t)f->n_t, sizeof *f->t, by_name);
    for (int i = 1; i < f->n_t; i++)
        if (!strcmp(f->t[i].name, f->t[i - 1].name)) { st = dg_fail(err, DG_ERR_FORMAT, "%s: tensor '%s' appears twice", P, f->t[i].name); goto done; }
done:
    free(offs);
    free(spans);
    return st;
}

dg_status dg_gguf_open_mem(const uint8_t *data, size_t size, const char *name, dg_gguf **out, dg_error *err) {
    *out = NULL;
    dg_gguf *f = calloc(1, sizeof *f);
    if (!f || !(f->path = strdup(name))) { free(f); return dg_fail(err, DG_ERR_NOMEM, "out of memory"); }
    f->map = data;
    f->size = size;
    dg_status st = parse(f, err);
    if (st) { dg_gguf_close(f); return st; }
    *out = f;
    return DG_OK;
}

dg_status dg_gguf_open(const char *path, dg_gguf **out, dg_error *err) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return dg_fail(err, DG_ERR_IO, "%s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) { close(fd); return dg_fail(err, DG_ERR_IO, "%s: not a regular file", path); }
    size_t size = (size_t)sb.st_size;
    if (size < 24) { close(fd); return dg_fail(err, DG_ERR_FORMAT, "%s: truncated (%zu bytes, no GGUF header)", path, size); }
    void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return dg_fail(err, DG_ERR_IO, "%s: mmap: %s", path, strerror(errno));
    dg_status st = dg_gguf_open_mem(m, size, path, out, err);
    if (st) { munmap(m, size); return st; }
    (*out)->owns_map = 1;
    return DG_OK;
}

void dg_gguf_close(dg_gguf *f) {
    if (!f) return;
    if (f->owns_map) munmap((void *)f->map, f->size);
    for (size_t i = 0; f->kv && i < f->kv_cap; i++) free((char *)f->kv[i].key);
    for (size_t i = 0; f->t && i < f->t_cap; i++) free((char *)f->t[i].name);
    free(f->kv);
    free(f->kv_sorted);
    free(f->t);
    free(f->path);
    free(f);
}

const char *dg_gguf_path(const dg_gguf *f) { return f->path; }
uint32_t dg_gguf_version(const dg_gguf *f) { return f->version; }
int dg_gguf_kv_count(const dg_gguf *f) { return f->n_kv; }
const dg_gguf_kv *dg_gguf_kv_at(const dg_gguf *f, int i) { return &f->kv[i]; }
int dg_gguf_tensor_count(const dg_gguf *f) { return f->n_t; }
const dg_tensor *dg_gguf_tensor_at(const dg_gguf *f, int i) { return &f->t[i]; }

const dg_gguf_kv *dg_gguf_find_kv(const dg_gguf *f, const char *key) {
    dg_gguf_kv k = {.key = key};
    const dg_gguf_kv *kp = &k, **r = bsearch(&kp, f->kv_sorted, (size_t)f->n_kv, sizeof *f->kv_sorted, by_key);
    return r ? *r : NULL;
}

const dg_tensor *dg_gguf_find_tensor(const dg_gguf *f, const char *name) {
    dg_tensor k = {.name = name};
    return bsearch(&k, f->t, (size_t)f->n_t, sizeof *f->t, by_name);
}

/* ---- typed access */

static int is_int_type(int t) { return t <= DG_GV_I32 || t == DG_GV_U64 || t == DG_GV_I64 || t == DG_GV_BOOL; }

/* An integer element of type t at p; *ok = 0 for a u64 above INT64_MAX. */
static int64_t int_at(int t, const uint8_t *p, int *ok) {
    *ok = 1;
    switch (t) {
    case DG_GV_U8: case DG_GV_BOOL: return p[0];
    case DG_GV_I8: return (int8_t)p[0];
    case DG_GV_U16: { uint16_t v; memcpy(&v, p, 2); return v; }
    case DG_GV_I16: { int16_t v; memcpy(&v, p, 2); return v; }
    case DG_GV_U32: { uint32_t v; memcpy(&v, p, 4); return v; }
    case DG_GV_I32: { int32_t v; memcpy(&v, p, 4); return v; }
    case DG_GV_U64: { uint64_t v; memcpy(&v, p, 8); if (v > INT64_MAX) *ok = 0; return (int64_t)v; }
    default: { int64_t v; memcpy(&v, p, 8); return v; }
    }
}

int64_t dg_gguf_arr_int(const dg_gguf_kv *kv, uint64_t i) {
    int ok;
    return int_at(kv->elem, kv->data + i * scalar_size[kv->elem], &ok);
}

const char *dg_gguf_arr_next_str(const uint8_t **p, size_t *len) {
    uint64_t n;
    memcpy(&n, *p, 8);
    const char *s = (const char *)*p + 8;
    *p += 8 + n;
    *len = (size_t)n;
    return s;
}

static dg_status lookup(const dg_gguf *f, const char *key, int optional, int *found, const dg_gguf_kv **kv, dg_error *err) {
    *kv = dg_gguf_find_kv(f, key);
    if (found) *found = *kv != NULL;
    if (!*kv && !optional) return dg_fail(err, DG_ERR_MISSING, "%s: metadata key '%s' is missing", f->path, key);
    return DG_OK;
}

static dg_status wrong_type(const dg_gguf *f, const dg_gguf_kv *kv, const char *want, dg_error *err) {
    return dg_fail(err, DG_ERR_FORMAT, "%s: metadata key '%s' has type %s%s%s (expected %s)", f->path, kv->key,
                   dg_gguf_type_name(kv->type), kv->type == DG_GV_ARRAY ? " of " : "",
                   kv->type == DG_GV_ARRAY ? dg_gguf_type_name(kv->elem) : "", want);
}

dg_status dg_gguf_get_int(const dg_gguf *f, const char *key, int optional, int64_t *out, int *found, dg_error *err) {
    const dg_gguf_kv *kv;
    dg_status st = lookup(f, key, optional, found, &kv, err);
    if (st || !kv) return st;
    int ok;
    if (kv->type == DG_GV_ARRAY || kv->type == DG_GV_BOOL || !is_int_type(kv->type)) return wrong_type(f, kv, "an integer", err);
    int64_t v = int_at(kv->type, kv->data, &ok);
    if (!ok) return dg_fail(err, DG_ERR_FORMAT, "%s: metadata key '%s': value out of range", f->path, key);
    *out = v;
    return DG_OK;
}

dg_status dg_gguf_get_float(const dg_gguf *f, const char *key, int optional, double *out, int *found, dg_error *err) {
    const dg_gguf_kv *kv;
    dg_status st = lookup(f, key, optional, found, &kv, err);
    if (st || !kv) return st;
    if (kv->type == DG_GV_F32) { float v; memcpy(&v, kv->data, 4); *out = v; }
    else if (kv->type == DG_GV_F64) memcpy(out, kv->data, 8);
    else return wrong_type(f, kv, "f32", err);
    return DG_OK;
}

dg_status dg_gguf_get_bool(const dg_gguf *f, const char *key, int optional, int *out, int *found, dg_error *err) {
    const dg_gguf_kv *kv;
    dg_status st = lookup(f, key, optional, found, &kv, err);
    if (st || !kv) return st;
    if (kv->type != DG_GV_BOOL) return wrong_type(f, kv, "bool", err);
    *out = kv->data[0];
    return DG_OK;
}

dg_status dg_gguf_get_str(const dg_gguf *f, const char *key, int optional, const char **s, size_t *len, int *found, dg_error *err) {
    const dg_gguf_kv *kv;
    dg_status st = lookup(f, key, optional, found, &kv, err);
    if (st || !kv) return st;
    if (kv->type != DG_GV_STRING) return wrong_type(f, kv, "string", err);
    const uint8_t *p = kv->data;
    *s = dg_gguf_arr_next_str(&p, len);
    return DG_OK;
}

dg_status dg_gguf_get_array(const dg_gguf *f, const char *key, int elem, int optional, const dg_gguf_kv **out, dg_error *err) {
    const dg_gguf_kv *kv;
    *out = NULL;
    dg_status st = lookup(f, key, optional, NULL, &kv, err);
    if (st || !kv) return st;
    int ok = kv->type == DG_GV_ARRAY && (elem == DG_GV_I64 ? is_int_type(kv->elem) && kv->elem != DG_GV_BOOL : kv->elem == elem);
    if (!ok) {
        char want[40];
        snprintf(want, sizeof want, "array of %s", elem == DG_GV_I64 ? "integers" : dg_gguf_type_name(elem));
        return wrong_type(f, kv, want, err);
    }
    *out = kv;
    return DG_OK;
}
