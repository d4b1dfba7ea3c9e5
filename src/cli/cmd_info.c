/* dgemma info -m DIR: what a checkpoint is, after full validation. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "cli/cli.h"

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
    printf("model       %s\nlayers      %d\nhidden      %d\nheads       %d\nexperts     %d (top %d)\n"
           "vocab       %d\ncanvas      %d\nwindow      %d\nquantized   %s\nweights     %.3f GB mapped\nload time   %.3f s\n",
           dir, mi.n_layers, mi.hidden_size, mi.n_heads, mi.n_experts, mi.top_k, mi.vocab_size, mi.canvas_length,
           mi.sliding_window, mi.quantized ? "yes (MLX affine)" : "no", mi.weight_bytes / 1e9,
           (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    dg_model_free(m);
    return 0;
}
