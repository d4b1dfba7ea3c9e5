/* dgemma quantize IN OUT --recipe mlx4|mlx8|gguf-q8_0|gguf-q4_k_m: MLX affine conversion of an
 * HF bf16 checkpoint, or a GGUF file in the llama.cpp DiffusionGemma draft's layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "model/quantize.h"
#include "text/tokenizer_int.h"

/* The tokenizer.* keys from IN/tokenizer.json (and tokenizer.chat_template from
 * chat_template.jinja), when the checkpoint has them. */
static dg_status tokenizer_kv(void *user, dg_ggw *w, dg_error *err) {
    const char *dir = user;
    char p[4096];
    struct stat sb;
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    if (stat(p, &sb) != 0) {
        fprintf(stderr, "quantize: %s: no tokenizer.json; the GGUF gets no tokenizer keys\n", dir);
        return DG_OK;
    }
    dg_tokenizer *t = NULL;
    dg_status st = dg_tokenizer_load(p, &t, err);
    if (!st) st = dg_tokenizer_to_gguf(t, w, err);
    dg_tokenizer_free(t);
    snprintf(p, sizeof p, "%s/chat_template.jinja", dir);
    char *tpl = !st && stat(p, &sb) == 0 ? cli_read_file(p) : NULL;
    if (tpl) dg_ggw_str(w, "tokenizer.chat_template", tpl);
    free(tpl);
    return st;
}

static int quantize_gguf(const char *in, const char *out, dg_gguf_recipe recipe) {
    char path[4096];
    size_t n = strlen(out);
    if (n > 5 && !strcmp(out + n - 5, ".gguf")) snprintf(path, sizeof path, "%s", out);
    else {
        if (!cli_make_dir(out)) return 1;
        snprintf(path, sizeof path, "%s/model.gguf", out);
    }
    dg_gguf_quant_params p = {.in_dir = in, .out_path = path, .recipe = recipe, .tokenizer_kv = tokenizer_kv, .user = (void *)in};
    dg_quantize_result r;
    dg_error err = {0};
    cli_meter m;
    cli_meter_start(&m);
    if (dg_quantize_gguf(&p, &r, &err)) return cli_report(&err);
    fprintf(stderr, "quantize: %s: %d tensors (%d quantized), %.3f GB -> %.3f GB, %.1f s -> %s\n",
            recipe == DG_GGUF_Q8_0 ? "gguf-q8_0" : "gguf-q4_k_m", r.tensors_in, r.quantized, r.bytes_in / 1e9, r.bytes / 1e9,
            cli_meter_elapsed(&m), path);
    return 0;
}

static const char usage_text[] =
    "usage: dgemma quantize IN_DIR OUT_DIR --recipe mlx4|mlx8 [--group 64] [--shard-size BYTES] [-t THREADS]\n"
    "       dgemma quantize IN_DIR OUT.gguf|OUT_DIR --recipe gguf-q8_0|gguf-q4_k_m\n"
    "Streams an HF (bf16) checkpoint into the mlx-community MLX affine layout. mlx4: 8-bit embedding,\n"
    "attention, dense MLP and router, 4-bit experts and self-conditioning; mlx8: 8-bit everywhere.\n"
    "Modules whose input width is not a multiple of the group use 32 or 16 (recorded in config.json).\n"
    "gguf-*: one GGUF file with the llama.cpp DiffusionGemma draft's names and metadata (Q8_0, or\n"
    "llama-quantize's Q4_K_M type choice), tokenizer keys from tokenizer.json.\n";

int cmd_quantize(int argc, char **argv) {
    dg_quantize_params p = {.out = {.max_shard_bytes = DG_STW_DEFAULT_SHARD}};
    const char *pos[2] = {NULL, NULL}, *recipe = NULL, *val;
    int npos = 0;
    long v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage_text, stdout); return 0; }
        if (!strcmp(a, "--recipe")) { if (!(recipe = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--group")) { if (!(val = cli_value(argc, argv, &i)) || !cli_int(a, val, 16, 1024, &v)) return 2; p.group = (int)v; }
        else if (!strcmp(a, "--shard-size")) { if (!(val = cli_value(argc, argv, &i)) || !cli_u64(a, val, &p.out.max_shard_bytes)) return 2; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { if (!(val = cli_value(argc, argv, &i)) || !cli_int(a, val, 1, 1024, &v)) return 2; p.out.n_threads = (int)v; }
        else if (a[0] == '-') { fprintf(stderr, "dgemma: quantize: unknown option %s\n%s", a, usage_text); return 2; }
        else if (npos < 2) pos[npos++] = a;
        else { fprintf(stderr, "dgemma: quantize: unexpected argument %s\n%s", a, usage_text); return 2; }
    }
    if (npos != 2 || !recipe) { fputs(usage_text, stderr); return 2; }
    if (!strcmp(recipe, "gguf-q8_0")) return quantize_gguf(pos[0], pos[1], DG_GGUF_Q8_0);
    if (!strcmp(recipe, "gguf-q4_k_m")) return quantize_gguf(pos[0], pos[1], DG_GGUF_Q4_K_M);
    if (!dg_recipe_parse(recipe, &p.recipe)) {
        fprintf(stderr, "dgemma: quantize: unknown recipe '%s' (expected mlx4, mlx8, gguf-q8_0 or gguf-q4_k_m)\n", recipe);
        return 2;
    }
    p.in_dir = pos[0];
    p.out.dir = pos[1];
    if (!cli_make_dir(p.out.dir)) return 1;
    cli_meter m;
    cli_meter_start(&m);
    p.out.progress = cli_write_progress;
    p.out.user = &m;
    dg_quantize_result r;
    dg_error err = {0};
    if (dg_quantize_checkpoint(&p, &r, &err)) return cli_report(&err);
    double t = cli_meter_elapsed(&m);
    fprintf(stderr, "quantize: %s: %d tensors (%d quantized), %.3f GB -> %.3f GB in %d file%s, %.1f s (%.0f MB/s written) -> %s\n",
            dg_recipe_name(p.recipe), r.tensors_in, r.quantized, r.bytes_in / 1e9, r.bytes / 1e9, r.shards,
            r.shards == 1 ? "" : "s", t, t > 0 ? r.bytes / 1e6 / t : 0.0, p.out.dir);
    return 0;
}
