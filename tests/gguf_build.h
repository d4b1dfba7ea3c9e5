/* A GGUF byte builder for tests (written from FORMATS.md §3.1, independent of src/format):
 * header, key/values, tensor infos, padding, data; fields can be written wrong on purpose. */
#ifndef DG_TESTS_GGUF_BUILD_H
#define DG_TESTS_GGUF_BUILD_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct gb { uint8_t *d; size_t n, cap; } gb;

static void gb_put(gb *b, const void *p, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 256;
        b->d = realloc(b->d, b->cap);
    }
    memcpy(b->d + b->n, p, n);
    b->n += n;
}
static void gb_u32(gb *b, uint32_t v) { gb_put(b, &v, 4); }
static void gb_u64(gb *b, uint64_t v) { gb_put(b, &v, 8); }
static void gb_str(gb *b, const char *s) { gb_u64(b, strlen(s)); gb_put(b, s, strlen(s)); }
static void gb_head(gb *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    gb_put(b, "GGUF", 4);
    gb_u32(b, version);
    gb_u64(b, n_tensors);
    gb_u64(b, n_kv);
}
static void gb_kv_u32(gb *b, const char *k, uint32_t v) { gb_str(b, k); gb_u32(b, 4); gb_u32(b, v); }
static void gb_kv_str(gb *b, const char *k, const char *v) { gb_str(b, k); gb_u32(b, 8); gb_str(b, v); }
/* A tensor info with ne[0..nd) and the given type and offset. */
static void gb_tensor(gb *b, const char *name, int nd, const uint64_t *ne, uint32_t type, uint64_t off) {
    gb_str(b, name);
    gb_u32(b, (uint32_t)nd);
    for (int i = 0; i < nd; i++) gb_u64(b, ne[i]);
    gb_u32(b, type);
    gb_u64(b, off);
}
static void gb_align(gb *b, size_t a) {
    static const uint8_t z[64] = {0};
    while (b->n % a) gb_put(b, z, 1);
}
static void gb_zeros(gb *b, size_t n) {
    static const uint8_t z[256] = {0};
    while (n) { size_t k = n < sizeof z ? n : sizeof z; gb_put(b, z, k); n -= k; }
}
#endif
