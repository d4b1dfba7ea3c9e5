/* dgemma mkmodel: writes a synthetic checkpoint (random weights, real layout) for tests and
 * benchmarks. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "cli/cli.h"
#include "model/synth.h"

static const char usage_text[] =
    "usage: dgemma mkmodel --preset tiny|26b-a4b --out DIR [--layers N] [--vocab V] [--seed S]\n"
    "                      [--quant mlx4|mlx8] [--group G] [--shard-size BYTES] [-t THREADS]\n"
    "Writes config.json, generation_config.json and deterministic random weights in the HF bf16\n"
    "layout, or with --quant in the mlx-community layout. Shards at 5 GB by default\n"
    "(--shard-size 0: one file). DIR is created if missing.\n";

/* Creates dir and missing parents (mkdir -p); an existing directory is reused. */
int cli_make_dir(const char *dir) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *s = tmp + 1; *s; s++)
        if (*s == '/') { *s = 0; mkdir(tmp, 0755); *s = '/'; }
    if (mkdir(dir, 0755) == 0) return 1;
    struct stat sb;
    if (errno == EEXIST && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode)) return 1;
    fprintf(stderr, "dgemma: %s: cannot create directory: %s\n", dir, strerror(errno == EEXIST ? ENOTDIR : errno));
    return 0;
}

int cmd_mkmodel(int argc, char **argv) {
    dg_synth_params p = {.preset = NULL, .seed = 1, .out = {.max_shard_bytes = DG_STW_DEFAULT_SHARD}};
    long v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage_text, stdout); return 0; }
        if (!strcmp(a, "--preset")) { if (!(p.preset = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--out")) { if (!(p.out.dir = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--layers")) { if (!(val = cli_value(argc, argv, &i)) || !cli_int(a, val, 1, 256, &v)) return 2; p.n_layers = (int)v; }
        else if (!strcmp(a, "--vocab")) { if (!(val = cli_value(argc, argv, &i)) || !cli_int(a, val, 256, 1 << 24, &v)) return 2; p.vocab = (int)v; }
        else if (!strcmp(a, "--seed")) { if (!(val = cli_value(argc, argv, &i)) || !cli_u64(a, val, &p.seed)) return 2; }
        else if (!strcmp(a, "--group")) { if (!(val = cli_value(argc, argv, &i)) || !cli_int(a, val, 16, 1024, &v)) return 2; p.group = (int)v; }
        else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) { if (!(val = cli_value(argc, argv, &i)) || !cli_int(a, val, 1, 1024, &v)) return 2; p.out.n_threads = (int)v; }
        else if (!strcmp(a, "--shard-size")) { if (!(val = cli_value(argc, argv, &i)) || !cli_u64(a, val, &p.out.max_shard_bytes)) return 2; }
        else if (!strcmp(a, "--quant")) {
            if (!(val = cli_value(argc, argv, &i))) return 2;
            if (!dg_recipe_parse(val, &p.recipe)) { fprintf(stderr, "dgemma: --quant: unknown recipe '%s' (expected mlx4 or mlx8)\n", val); return 2; }
        } else { fprintf(stderr, "dgemma: mkmodel: unknown argument %s\n%s", a, usage_text); return 2; }
    }
    if (!p.preset || !p.out.dir) { fputs(usage_text, stderr); return 2; }
    if (!cli_make_dir(p.out.dir)) return 1;
    cli_meter m;
    cli_meter_start(&m);
    p.out.progress = cli_write_progress;
    p.out.user = &m;
    dg_synth_result r;
    dg_error err = {0};
    if (dg_synth_write(&p, &r, &err)) return cli_report(&err);
    double t = cli_meter_elapsed(&m);
    fprintf(stderr, "mkmodel: %s%s%s: %lld parameters, %d tensors, %.3f GB in %d file%s, %.1f s (%.0f MB/s) -> %s\n",
            p.preset, p.recipe ? " " : "", p.recipe ? dg_recipe_name(p.recipe) : "", (long long)r.params, r.tensors,
            r.bytes / 1e9, r.shards, r.shards == 1 ? "" : "s", t, t > 0 ? r.bytes / 1e6 / t : 0.0, p.out.dir);
    return 0;
}
