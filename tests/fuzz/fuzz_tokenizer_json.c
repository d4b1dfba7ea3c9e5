/* tokenizer.json loading (text/tokenizer.c, text/json_scan.c): any bytes as the file. A
 * tokenizer that loads must then tokenize and decode its own pieces without failing. */
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dg_tokenizer *t = NULL;
    dg_error e = {0};
    if (dg_tokenizer_load(fuzz_file(data, size), &t, &e) != DG_OK) {
        FUZZ_ASSERT(e.msg[0] && !t, "failure without a message");
        return 0;
    }
    int n = dg_tokenizer_vocab_size(t);
    int32_t ids[64];
    int k = 0;
    for (int i = 0; i < n && k < 64; i += 1 + n / 64) ids[k++] = i;
    char *text = NULL;
    size_t len = 0;
    FUZZ_ASSERT(dg_detokenize(t, ids, (size_t)k, 0, &text, &len, &e) == DG_OK, "decode: %s", e.msg);
    int32_t *back = NULL;
    size_t nb = 0;
    /* add_bos only where there is a <bos>: without one dg_tokenize refuses it, by design */
    FUZZ_ASSERT(dg_tokenize(t, text, len, dg_tokenizer_bos(t) >= 0, &back, &nb, &e) == DG_OK, "encode: %s", e.msg);
    for (size_t i = 0; i < nb; i++) FUZZ_ASSERT(back[i] >= 0 && back[i] < n, "id %d outside [0, %d)", back[i], n);
    free(back);
    free(text);
    dg_tokenizer_free(t);
    return 0;
}
