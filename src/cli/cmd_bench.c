/* dgemma bench: prefill and denoising-step speed on any checkpoint (synthetic ones from
 * mkmodel have the real shapes). Steps run the real loop: decoder with self-conditioning from
 * the previous step, then the sampler; B canvases share each step. Prints medians. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "cli/cli.h"
#include "cli/sc_entropy.h"
#include "gen/rng.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Share of the peak a part reached: the time its flops need at the peaks of their kinds over
 * the time it took. */
static double peak_share(const dg_step_profile *p, int part, double secs, const double *peak) {
    double ideal = 0;
    for (int k = 0; k < DG_OPS_KINDS; k++)
        if (p->ops[part][k] > 0) {
            if (peak[k] <= 0) return 0;
            ideal += p->ops[part][k] / peak[k];
        }
    return secs > 0 ? ideal / secs : 0;
}

static void usage(FILE *f) {
    fprintf(f, "usage: dgemma bench -m DIR [--steps K] [--prompt-len P] [--canvases B] [-t N] [--isa NAME]\n"
               "                   [--precise] [--layers N] [--sc-entropy H] [--synthetic-cache N] [--json]\n"
               "Prefill of P random tokens, then K denoising steps (decoder + sampler) of B canvases in lockstep.\n"
               "The step figure is the median of steps 2..K: step 1 has no self-conditioning input (unless\n"
               "--sc-entropy), so it is a cheaper step than every later one.\n"
               "--sc-entropy H: every step's self-conditioning input is synthetic logits whose softmax has a mean\n"
               "entropy of H nats per row (0 = one-hot .. ln V = uniform) instead of the previous step's output.\n"
               "--synthetic-cache N: instead of a prefill, N positions of random K/V in every layer's cache (a step's\n"
               "cost at a long context without encoding it; no prefill figure).\n"
               "--isa NAME: a kernel path by name (dgemma kernels lists them; DGEMMA_ISA does the same).\n");
}

int cmd_bench(int argc, char **argv) {
    const char *dir = NULL;
    long steps = 3, plen = 64, B = 1, threads = 0, layers = 0, syn = -1;
    int json = 0, precise = 0, isa = DG_ISA_AUTO;
    double sc_H = -1;           /* < 0: self-conditioning from the previous step */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
#define VAL() do { if (!(v = cli_value(argc, argv, &i))) return 2; } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 0; }
        else if (!strcmp(a, "-m")) { VAL(); dir = v; }
        else if (!strcmp(a, "--steps")) { VAL(); if (!cli_int(a, v, 1, 1000, &steps)) return 2; }
        else if (!strcmp(a, "--prompt-len")) { VAL(); if (!cli_int(a, v, 1, 1 << 20, &plen)) return 2; }
        else if (!strcmp(a, "--canvases")) { VAL(); if (!cli_int(a, v, 1, 64, &B)) return 2; }
        else if (!strcmp(a, "-t")) { VAL(); if (!cli_int(a, v, 0, 4096, &threads)) return 2; }
        else if (!strcmp(a, "--layers")) { VAL(); if (!cli_int(a, v, 1, 1000, &layers)) return 2; }
        else if (!strcmp(a, "--isa")) {
            VAL();
            isa = dg_isa_parse(v);
            if (isa < 0) { fprintf(stderr, "dgemma bench: unknown kernel path '%s'\n", v); return 2; }
        }
        else if (!strcmp(a, "--sc-entropy")) { VAL(); if (!cli_double(a, v, 0, 1e3, &sc_H)) return 2; }
        else if (!strcmp(a, "--synthetic-cache")) { VAL(); if (!cli_int(a, v, 0, 1 << 20, &syn)) return 2; }
        else if (!strcmp(a, "--precise")) precise = 1;
        else if (!strcmp(a, "--json")) json = 1;
        else { fprintf(stderr, "dgemma bench: unknown option '%s'\n", a); usage(stderr); return 2; }
#undef VAL
    }
    if (!dir) { usage(stderr); return 2; }
    dg_error err = {0};
    dg_model *m = NULL;
    dg_ctx *ctx = NULL;
    dg_sampler *smp = NULL;
    int rc = 1;
    double t0 = now();
    dg_load_params lp = {.n_layers = (int)layers};
    if (dg_model_load(dir, &lp, &m, &err)) return cli_report(&err);
    double t_load = now() - t0;
    dg_model_info mi;
    dg_model_get_info(m, &mi);
    const int L = mi.canvas_length, V = mi.vocab_size;
    if (sc_H > log((double)V)) {
        fprintf(stderr, "dgemma bench: --sc-entropy %g: above ln V = %.3f, the entropy of the uniform distribution\n", sc_H, log((double)V));
        dg_model_free(m);
        return 2;
    }
    double sc_beta = 0, sc_got = 0;
    dg_ctx_params cp = {.n_threads = (int)threads, .n_seq = (int)B, .precise = precise, .isa = (dg_isa)isa,
                        .max_tokens = (int)(syn >= 0 ? syn : plen) + L + 16, .count_tasks = 1};
    cli_env_ctx(&cp);
    float **buf = calloc((size_t)B, sizeof *buf), **nosc = calloc((size_t)B, sizeof *nosc);
    int32_t **canvas = calloc((size_t)B, sizeof *canvas), *prompt = malloc((size_t)plen * sizeof *prompt);
    int32_t *sampled = malloc((size_t)L * 4), *am = malloc((size_t)L * 4), *next = malloc((size_t)L * 4);
    uint8_t *acc = malloc((size_t)L);
    double *H = malloc((size_t)L * sizeof *H), *times = calloc((size_t)steps, sizeof *times);
    int *seqs = calloc((size_t)B, sizeof *seqs);
    dg_step_profile *prof = calloc((size_t)steps, sizeof *prof);
    double *samp_t = calloc((size_t)steps, sizeof *samp_t);
    dg_expert_load *load = calloc((size_t)steps * (size_t)mi.n_layers, sizeof *load);   /* [step][layer] */
    int *n_load = calloc((size_t)steps, sizeof *n_load);
    if (!load || !n_load || !buf || !nosc || !canvas || !prompt || !sampled || !am || !next || !acc || !H || !times || !seqs || !prof || !samp_t) goto out;
    if (dg_ctx_new(m, &cp, &ctx, &err) || dg_sampler_new(L, V, (int)threads, dg_ctx_isa(ctx), &smp, &err)) { cli_report(&err); goto out; }
    /* the peaks the share-of-peak figures assume: this CPU, this kernel path, these threads */
    double peak[DG_OPS_KINDS];
    char cpu[256];
    int nthr = threads ? (int)threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (dg_isa_peak(dg_ctx_isa(ctx), nthr, 0.1, peak, &err)) { cli_report(&err); goto out; }
    dg_cpu_name(cpu, sizeof cpu);
    for (int b = 0; b < B; b++) {
        buf[b] = malloc((size_t)L * V * sizeof(float));
        canvas[b] = malloc((size_t)L * sizeof(int32_t));
        if (!buf[b] || !canvas[b]) { fprintf(stderr, "dgemma bench: out of memory\n"); goto out; }
        seqs[b] = b;
        dg_rng_init_canvas(1234 + (uint64_t)b, 0, L, V, canvas[b]);
    }
    /* prefill: random ids (the same for every sequence), timed on sequence 0 */
    for (int i = 0; i < plen; i++) prompt[i] = (int32_t)dg_randint(dg_rng(99, 1, 0, 0, (uint64_t)i), (uint32_t)V);
    t0 = now();
    if (syn >= 0) {
        for (int b = 0; b < B; b++)
            if (dg_cache_fill_synthetic(ctx, b, (int)syn, 77, &err)) { cli_report(&err); goto out; }
    } else {
        if (dg_encode(ctx, 0, prompt, (int)plen, NULL, NULL, &err)) { cli_report(&err); goto out; }
    }
    double t_prefill = now() - t0;
    for (int b = 1; b < B && syn < 0; b++)
        if (dg_encode(ctx, b, prompt, (int)plen, NULL, NULL, &err)) { cli_report(&err); goto out; }
    dg_gen_params gp;
    dg_model_gen_defaults(m, &gp);
    for (int k = 1; k <= steps; k++) {
        /* untimed: the step consumes its self-conditioning input, so it is made anew */
        if (sc_H >= 0)
            for (int b = 0; b < B; b++) {
                sc_beta = cli_sc_fill(buf[b], L, V, sc_H, 4321 + (uint64_t)b);
                if (k == 1 && b == 0) sc_got = cli_sc_entropy(buf[b], L, V);
            }
        double ts = now();
        /* the previous step's processed logits are this step's self-conditioning input */
        if (dg_decode_step(ctx, (int)B, seqs, (const int32_t *const *)canvas, k > 1 || sc_H >= 0 ? buf : nosc, buf, &err)) {
            cli_report(&err);
            goto out;
        }
        dg_ctx_last_profile(ctx, &prof[k - 1]);
        n_load[k - 1] = dg_ctx_last_expert_load(ctx, load + (size_t)(k - 1) * mi.n_layers, mi.n_layers);
        if (n_load[k - 1] > mi.n_layers) n_load[k - 1] = mi.n_layers;
        double tsamp = now();
        for (int b = 0; b < B; b++) {
            dg_step st = {.logits = buf[b], .pl = buf[b], .canvas = 0, .step = k, .sampled = sampled, .argmax = am,
                          .next = canvas[b], .accept = acc, .entropy = H};
            if (dg_sampler_step(smp, &gp, &st, &err)) { cli_report(&err); goto out; }
        }
        samp_t[k - 1] = now() - tsamp;
        times[k - 1] = now() - ts;
        if (!json)
            fprintf(stderr, "step %d: %.3f s (head %.3f s, self-cond %.3f s, sampler %.3f s)\n", k, times[k - 1],
                    prof[k - 1].head, prof[k - 1].self_cond, samp_t[k - 1]);
    }
    /* medians over the steps with a self-conditioning input (all with --sc-entropy, else 2..K:
     * step 1 skips the soft embedding); the breakdown is the median step's */
    const int k0 = sc_H < 0 && steps > 1 ? 1 : 0, nmed = (int)steps - k0;
    double *sorted = malloc((size_t)nmed * sizeof *sorted);
    memcpy(sorted, times + k0, (size_t)nmed * sizeof *sorted);
    qsort(sorted, (size_t)nmed, sizeof *sorted, cmp_d);
    double med = sorted[nmed / 2];
    free(sorted);
    int mi_k = k0;
    for (int k = k0; k < steps; k++) if (times[k] == med) mi_k = k;
    dg_step_profile *p = &prof[mi_k];
    const dg_expert_load *ld = load + (size_t)mi_k * mi.n_layers;
    const int nl = n_load[mi_k];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
#if defined(__APPLE__)
    double rss_gb = (double)ru.ru_maxrss / (1024.0 * 1024.0 * 1024.0);   /* bytes there, KiB on Linux */
#else
    double rss_gb = (double)ru.ru_maxrss / (1024.0 * 1024.0);
#endif
    double other = p->total - p->attention - p->dense_mlp - p->router - p->experts - p->head - p->self_cond;
    static const char *part_key[DG_PARTS] = {"attention", "dense_mlp", "router", "experts", "head", "self_cond"};
    const double part_s[DG_PARTS] = {p->attention, p->dense_mlp, p->router, p->experts, p->head, p->self_cond};
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", dir);
        cJSON_AddNumberToObject(o, "layers", mi.n_layers);
        cJSON_AddStringToObject(o, "isa", dg_isa_name(dg_ctx_isa(ctx)));
        cJSON_AddBoolToObject(o, "precise", precise);
        cJSON_AddNumberToObject(o, "threads", threads);
        cJSON_AddNumberToObject(o, "canvases", B);
        cJSON_AddNumberToObject(o, "load_s", t_load);
        if (syn >= 0) {
            cJSON_AddNumberToObject(o, "synthetic_cache_positions", syn);
        } else {
            cJSON_AddNumberToObject(o, "prefill_tokens", plen);
            cJSON_AddNumberToObject(o, "prefill_tokens_per_s", plen / t_prefill);
        }
        cJSON_AddNumberToObject(o, "step_s_median", med);
        cJSON_AddNumberToObject(o, "step_s_median_from", k0 + 1);
        if (sc_H >= 0) {
            cJSON_AddNumberToObject(o, "sc_entropy_target", sc_H);
            cJSON_AddNumberToObject(o, "sc_entropy", sc_got);
        }
        cJSON_AddNumberToObject(o, "attention_s", p->attention);
        cJSON_AddNumberToObject(o, "dense_mlp_s", p->dense_mlp);
        cJSON_AddNumberToObject(o, "router_s", p->router);
        cJSON_AddNumberToObject(o, "experts_s", p->experts);
        cJSON_AddNumberToObject(o, "head_s", p->head);
        cJSON_AddNumberToObject(o, "self_cond_s", p->self_cond);
        cJSON_AddNumberToObject(o, "self_cond_sparse_rows", p->sc_sparse);
        cJSON_AddNumberToObject(o, "sampler_s", samp_t[mi_k]);
        cJSON_AddNumberToObject(o, "other_s", other);
        cJSON_AddStringToObject(o, "cpu", cpu);
        cJSON_AddNumberToObject(o, "peak_fp32_gflop_per_s", peak[DG_OPS_FP32] / 1e9);
        cJSON_AddNumberToObject(o, "peak_int16_gop_per_s", peak[DG_OPS_INT16] / 1e9);
        cJSON_AddNumberToObject(o, "peak_int8_gop_per_s", peak[DG_OPS_INT8] / 1e9);
        cJSON_AddNumberToObject(o, "peak_bf16_gflop_per_s", peak[DG_OPS_BF16] / 1e9);
        for (int q = 0; q < DG_PARTS; q++) {
            char key[64];
            snprintf(key, sizeof key, "%s_peak_share", part_key[q]);
            cJSON_AddNumberToObject(o, key, peak_share(p, q, part_s[q], peak));
        }
        cJSON_AddNumberToObject(o, "expert_rows_min", p->expert_rows_min);
        cJSON_AddNumberToObject(o, "expert_rows_mean", p->moe_layers ? (double)p->expert_rows / ((double)p->moe_layers * mi.n_experts) : 0);
        cJSON_AddNumberToObject(o, "expert_rows_max", p->expert_rows_max);
        cJSON_AddNumberToObject(o, "experts_used", p->experts_used);
        cJSON_AddNumberToObject(o, "experts_total", p->moe_layers * mi.n_experts);
        cJSON *per = cJSON_AddArrayToObject(o, "expert_load_layers");
        for (int i = 0; i < nl; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "layer", i);
            cJSON_AddNumberToObject(e, "rows_min", ld[i].rows_min);
            cJSON_AddNumberToObject(e, "rows_max", ld[i].rows_max);
            cJSON_AddNumberToObject(e, "experts_used", ld[i].experts_used);
            cJSON_AddItemToArray(per, e);
        }
        cJSON_AddNumberToObject(o, "weight_gb_per_step", p->weight_bytes / 1e9);
        cJSON_AddNumberToObject(o, "weight_gb_per_s", p->weight_bytes / 1e9 / med);
        cJSON_AddNumberToObject(o, "gflop_per_s", p->flops / 1e9 / med);
        cJSON_AddNumberToObject(o, "peak_rss_gb", rss_gb);
        char *t = cJSON_PrintUnformatted(o);
        puts(t);
        free(t);
        cJSON_Delete(o);
    } else {
        printf("model        %s (%d layers, %s%s)\n", dir, mi.n_layers, mi.quantized ? "MLX affine" : "bf16/f32", precise ? ", precise path" : "");
        char pk[160] = "none";   /* the kinds the path has loops for */
        int len = 0;
        for (int k = 0; k < DG_OPS_KINDS; k++)
            if (peak[k] > 0) len += snprintf(pk + len, sizeof pk - (size_t)len, "%s%s %.0f", len ? ", " : "", dg_ops_name((dg_ops)k), peak[k] / 1e9);
        printf("cpu          %s; peak on %d threads (%s loops, as bench/bench_peak): %s%s\n",
               cpu, nthr, dg_isa_name(dg_ctx_isa(ctx)), pk, len ? " GFLOP/s" : "");
        printf("kernels      %s, %d threads, %ld canvas%s per step\n", dg_isa_name(dg_ctx_isa(ctx)), nthr, B, B == 1 ? "" : "es");
        printf("load         %.3f s\n", t_load);
        if (syn >= 0) printf("cache        %ld SYNTHETIC positions of random K/V (no encoder run, no prefill figure)\n", syn);
        else printf("prefill      %ld tokens in %.3f s = %.1f tokens/s\n", plen, t_prefill, plen / t_prefill);
        printf("step         %.3f s median of %d%s (%.3f s per canvas)\n", med, nmed, k0 ? " (steps 2.., with self-cond)" : "", med / B);
        if (sc_H >= 0)
            printf("sc input     synthetic, mean entropy %.4f nats per row (asked %.4f; logits = %.3f x (spike + noise))\n",
                   sc_got, sc_H, sc_beta);
        static const char *part_name[DG_PARTS] = {"attention", "dense mlp", "router", "experts", "head", "self-cond"};
        for (int q = 0; q < DG_PARTS; q++) {
            double fl = 0;
            for (int k = 0; k < DG_OPS_KINDS; k++) fl += p->ops[q][k];
            printf("  %-10s %.3f s %8.1f GFLOP/s %5.1f%% of peak\n", part_name[q], part_s[q],
                   part_s[q] > 0 ? fl / 1e9 / part_s[q] : 0.0, 100 * peak_share(p, q, part_s[q], peak));
        }
        printf("  sampler    %.3f s\n  other      %.3f s\n", samp_t[mi_k], other);
        if (p->moe_layers)
            printf("expert load  rows per expert min %d / mean %.1f / max %d over %d layers; experts used %d of %d\n",
                   p->expert_rows_min, (double)p->expert_rows / ((double)p->moe_layers * mi.n_experts), p->expert_rows_max,
                   p->moe_layers, p->experts_used, p->moe_layers * mi.n_experts);
        /* per layer, experts used / most rows on one expert: shows where routing collapses */
        for (int i = 0; i < nl; i++)
            printf("%s%2d: %3d/%-3d%s", i % 10 ? "  " : "  layers ", i, ld[i].experts_used, ld[i].rows_max,
                   i % 10 == 9 || i == nl - 1 ? "\n" : "");
        if (nl) {
            int worst = 0;
            for (int i = 1; i < nl; i++)
                if (ld[i].experts_used < ld[worst].experts_used ||
                    (ld[i].experts_used == ld[worst].experts_used && ld[i].rows_max > ld[worst].rows_max)) worst = i;
            printf("  worst layer %d: %d of %d experts used, rows per expert %d..%d (used/max above)\n", worst,
                   ld[worst].experts_used, mi.n_experts, ld[worst].rows_min, ld[worst].rows_max);
        }
        printf("weights      %.2f GB read per step, %.2f GB/s\n", p->weight_bytes / 1e9, p->weight_bytes / 1e9 / med);
        printf("compute      %.1f GFLOP per step, %.1f GFLOP/s\n", p->flops / 1e9, p->flops / 1e9 / med);
        printf("peak RSS     %.2f GB\n", rss_gb);
        cli_print_task_balance(ctx, threads);
    }
    rc = 0;
out:
    if (buf) for (int b = 0; b < B; b++) free(buf[b]);
    if (canvas) for (int b = 0; b < B; b++) free(canvas[b]);
    free(buf); free(nosc); free(canvas); free(prompt); free(sampled); free(am); free(next); free(acc); free(H);
    free(times); free(seqs); free(prof); free(samp_t); free(load); free(n_load);
    dg_sampler_free(smp);
    dg_ctx_free(ctx);
    dg_model_free(m);
    return rc;
}
