/* The generation knobs (GENERATION.md §1) as command-line flags, shared by run and chat. */
#include "cli/cli.h"
#include <limits.h>
#include <string.h>

const char cli_gen_usage[] =
    "  --max-new-tokens N       canvases = ceil(N / canvas length)   (generation_config / 256)\n"
    "  --steps N                max denoising steps per canvas      (48)\n"
    "  --entropy-bound X        entropy-bound acceptance, nats > 0  (0.1)\n"
    "  --t-min X, --t-max X     temperature schedule, t_max > t_min  (0.4, 0.8)\n"
    "  --stability N            stable = N previous argmax canvases equal (1; 0 = always)\n"
    "  --confidence X           mean entropy below which a canvas is confident (0.005)\n"
    "  --seed S                 RNG seed (0)\n";

void cli_gen_opts_init(cli_gen_opts *o) {
    *o = (cli_gen_opts){.max_new = -1, .steps = -1, .stability = -1, .bound = -1, .tmin = -1, .tmax = -1, .conf = -1};
}

int cli_gen_opt(cli_gen_opts *o, int argc, char **argv, int *i) {
    const char *a = argv[*i], *v;
    static const char *const flags[] = {"--max-new-tokens", "--steps", "--entropy-bound", "--t-min", "--t-max",
                                        "--stability", "--confidence", "--seed"};
    int k = -1;
    for (int j = 0; j < (int)(sizeof flags / sizeof *flags); j++)
        if (!strcmp(a, flags[j])) k = j;
    if (k < 0) return 0;
    if (!(v = cli_value(argc, argv, i))) return -1;
    int ok;
    switch (k) {
    case 0: ok = cli_int(a, v, 1, INT_MAX / 2, &o->max_new); break;
    case 1: ok = cli_int(a, v, 1, 100000, &o->steps); break;
    case 2: ok = cli_double(a, v, 0, 1e9, &o->bound); break;
    case 3: ok = cli_double(a, v, 0, 1e6, &o->tmin); break;
    case 4: ok = cli_double(a, v, 0, 1e6, &o->tmax); break;
    case 5: ok = cli_int(a, v, 0, 100000, &o->stability); break;
    case 6: ok = cli_double(a, v, 0, 1e9, &o->conf); break;
    default: ok = cli_u64(a, v, &o->seed); o->have_seed = ok; break;
    }
    return ok ? 1 : -1;
}

dg_status cli_gen_opts_apply(const cli_gen_opts *o, dg_gen_params *p, dg_error *err) {
    if (o->max_new >= 0) p->max_new_tokens = (int)o->max_new;
    if (o->steps >= 0) p->max_denoising_steps = (int)o->steps;
    if (o->bound >= 0) p->entropy_bound = o->bound;
    if (o->tmin >= 0) p->t_min = o->tmin;
    if (o->tmax >= 0) p->t_max = o->tmax;
    if (o->stability >= 0) p->stability_threshold = (int)o->stability;
    if (o->conf >= 0) p->confidence_threshold = o->conf;
    if (o->have_seed) p->seed = o->seed;
    return dg_gen_params_validate(p, err);
}
