/* libFuzzer target: arbitrary bytes through the GGUF reader from memory, then every reader
 * entry the loaders use (typed metadata access, string arrays, the dequantizer on each tensor's
 * first row), so a file that validates can be consumed without reading outside it.
 * Build: clang -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -Isrc tests/fuzz/fuzz_gguf.c
 *        src/format/gguf.c src/core/error.c src/core/ggml_type.c src/kernels/ggml_dequant.c */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/ggml_type.h"
#include "format/gguf.h"
#include "kernels/ggml_dequant.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dg_gguf *f = NULL;
    dg_error e;
    if (dg_gguf_open_mem(data, size, "fuzz.gguf", &f, &e)) return 0;
    for (int i = 0; i < dg_gguf_kv_count(f); i++) {
        const dg_gguf_kv *kv = dg_gguf_kv_at(f, i);
        int64_t v;
        double d;
        int b, found;
        const char *s;
        size_t len;
        dg_gguf_get_int(f, kv->key, 1, &v, &found, &e);
        dg_gguf_get_float(f, kv->key, 1, &d, &found, &e);
        dg_gguf_get_bool(f, kv->key, 1, &b, &found, &e);
        dg_gguf_get_str(f, kv->key, 1, &s, &len, &found, &e);
        if (kv->type != DG_GV_ARRAY) continue;
        if (kv->elem == DG_GV_STRING) {
            const uint8_t *p = kv->data;
            for (uint64_t k = 0; k < kv->count; k++) s = dg_gguf_arr_next_str(&p, &len);
        } else if (kv->elem != DG_GV_F32 && kv->elem != DG_GV_F64) {
            for (uint64_t k = 0; k < kv->count && k < 4096; k++) v = dg_gguf_arr_int(kv, k);
        }
    }
    for (int i = 0; i < dg_gguf_tensor_count(f); i++) {
        const dg_tensor *t = dg_gguf_tensor_at(f, i);
        int n = (int)(t->shape[t->ndim - 1] < 1024 ? t->shape[t->ndim - 1] : 1024);
        n -= n % dg_ggml_block(t->gtype);
        float *row = malloc((size_t)(n ? n : 1) * sizeof *row);
        if (row) dg_ggml_expand(t->gtype, t->data, 0, n, row);
        free(row);
    }
    dg_gguf_close(f);
    return 0;
}
