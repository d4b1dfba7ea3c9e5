/* config.json (model/config.c) and generation_config.json (format/gen_config.c): the input is
 * both texts, split at the first NUL byte. Parsing must fail with a message or give a config
 * whose geometry passes its own checks. */
#include "fuzz.h"
#include "model/config.h"
#include "format/gen_config.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) { (void)argc; (void)argv; return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = fuzz_str(data, size);
    size_t a = strlen(s);
    const char *gen = a < size ? s + a + 1 : "";
    dg_config c;
    dg_error e = {0};
    if (dg_config_parse(s, "config.json", &c, &e) == DG_OK) {
        FUZZ_ASSERT(c.n_layers >= 1 && c.n_layers <= DG_MAX_LAYERS && c.top_k <= c.n_experts && c.n_heads % c.n_kv == 0 &&
                    c.rot_pairs_full <= c.g_head_dim / 2, "inconsistent config accepted");
        dg_config_free(&c);
    } else FUZZ_ASSERT(e.msg[0], "config failure without a message");
    dg_gen_params p;
    memset(&e, 0, sizeof e);
    if (dg_gen_config_parse(gen, &p, &e) == DG_OK)
        FUZZ_ASSERT(dg_gen_params_validate(&p, NULL) == DG_OK, "invalid generation params accepted");
    else FUZZ_ASSERT(e.msg[0], "generation config failure without a message");
    free(s);
    return 0;
}
