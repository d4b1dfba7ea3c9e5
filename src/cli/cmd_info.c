/* dgemma info -m DIR: what a checkpoint is, after full validation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"
#include "core/ggml_type.h"
#include "format/gguf_set.h"

/* GGUF: version, tensor count and how many tensors of each ggml type the file set holds. */
static void gguf_types(const char *path) {
    char first[4096];
    dg_error err = {0};
    dg_gguf **parts = NULL;
    int np = 0, count[64] = {0}, n = 0;
    if (dg_gguf_locate(path, first, sizeof first, &err) != 1 || dg_gguf_open_set(first, &parts, &np, &err)) return;
    for (int i = 0; i < np; i++)
        for (int j = 0; j < dg_gguf_tensor_count(parts[i]); j++, n++) count[dg_gguf_tensor_at(parts[i], j)->gtype & 63]++;
    printf("gguf        v%u, %d file%s, %d tensors:", dg_gguf_version(parts[0]), np, np == 1 ? "" : "s", n);
    for (int t = 0; t < 64; t++)
        if (count[t]) printf(" %s %d", dg_ggml_name(t), count[t]);
    printf("\n");
    for (int i = 0; i < np; i++) dg_gguf_close(parts[i]);
    free(parts);
}

int cmd_info(int argc, char **argv) {
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-m")) { if (!(dir = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { printf("usage: dgemma info -m DIR\n"); return 0; }
        else { fprintf(stderr, "dgemma: info: unknown argument %s\n", argv[i]); return 2; }
    }
    if (!dir) { fprintf(stderr, "usage: dgemma info -m DIR\n"); return 2; }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    dg_model *m;
    dg_error err = {0};
    if (dg_model_load(dir, NULL, &m, &err)) return cli_report(&err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    dg_model_info mi;
    dg_model_get_info(m, &mi);
    char first[4096];
    int gguf = dg_gguf_locate(dir, first, sizeof first, &err) == 1;
    printf("model       %s\nlayers      %d\nhidden      %d\nheads       %d\nexperts     %d (top %d)\n"
           "vocab       %d\ncanvas      %d\nwindow      %d\nquantized   %s\nweights     %.3f GB mapped\nload time   %.3f s\n",
           dir, mi.n_layers, mi.hidden_size, mi.n_heads, mi.n_experts, mi.top_k, mi.vocab_size, mi.canvas_length,
           mi.sliding_window, !mi.quantized ? "no" : gguf ? "yes (GGUF blocks)" : "yes (MLX affine)", mi.weight_bytes / 1e9,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    gguf_types(dir);
    dg_model_free(m);
    return 0;
}
