/* The safetensors container (format/safetensors.c): any bytes as a file. Opening must fail
 * cleanly or give tensors that lie inside the mapping with bytes == numel * dtype size. */
#include "fuzz.h"
#include "format/safetensors.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dg_st_file *f = NULL;
    dg_error e = {0};
    if (dg_st_open(fuzz_file(data, size), &f, &e) == DG_OK) {
        for (int i = 0; i < dg_st_count(f); i++) {
            const dg_tensor *t = dg_st_at(f, i);
            FUZZ_ASSERT(t->nbytes == (size_t)dg_tensor_numel(t) * dg_dtype_size(t->dtype), "%s: %zu bytes", t->name, t->nbytes);
            FUZZ_ASSERT(dg_st_find(f, t->name) == t, "%s not found by name", t->name);
            volatile uint8_t sink = 0;
            if (t->nbytes) sink ^= t->data[0] ^ t->data[t->nbytes - 1];   /* inside the mapping (ASan: no; SIGBUS/SEGV: yes) */
            (void)sink;
        }
        dg_st_close(f);
    } else {
        FUZZ_ASSERT(e.msg[0], "failure without a message");
    }
    return 0;
}
