/* dgemma quantize IN OUT --recipe mlx4|mlx8: MLX affine conversion of an HF bf16 checkpoint. */
#include <stdio.h>
#include <string.h>
#include "cli/cli.h"
#include "model/quantize.h"

static const char usage_text[] =
    "usage: dgemma quantize IN_DIR OUT_DIR --recipe mlx4|mlx8 [--group 64] [--shard-size BYTES] [-t THREADS]\n"
    "Streams an HF (bf16) checkpoint into the mlx-community MLX affine layout. mlx4: 8-bit embedding,\n"
    "attention, dense MLP and router, 4-bit experts and self-conditioning; mlx8: 8-bit everywhere.\n"
    "Modules whose input width is not a multiple of the group use 32 or 16 (recorded in config.json).\n";

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
    if (!dg_recipe_parse(recipe, &p.recipe)) {
        fprintf(stderr, "dgemma: quantize: unknown recipe '%s' (expected mlx4 or mlx8)\n", recipe);
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
