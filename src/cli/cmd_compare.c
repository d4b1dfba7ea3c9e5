/* dgemma compare -m DIR: the fast kernel paths against the precise path on one checkpoint.
 * Same prompt, same canvas, one decoder step without and one with self-conditioning; reports
 * the relative RMS error of the logits and the argmax agreement over canvas positions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/sc_entropy.h"
#include "gen/rng.h"

typedef struct run { float *step1, *step2; } run;

/* Prefill, step 1 (no self-conditioning), step 2 with `sc_from` / 0.8 as self-conditioning
 * (the reference's step 1, so both paths see the same input; NULL: this path's own step 1),
 * scaled to a mean entropy of sc_H nats when sc_H >= 0. */
static int one_path(const dg_model *m, int precise, dg_isa isa, int threads, const int32_t *prompt, int P,
                    const int32_t *canvas, const float *sc_from, double sc_H, run *out, dg_error *err) {
    dg_model_info mi;
    dg_model_get_info(m, &mi);
    size_t LV = (size_t)mi.canvas_length * mi.vocab_size;
    dg_ctx *ctx = NULL;
    dg_ctx_params cp = {.n_threads = threads, .precise = precise, .isa = isa, .max_tokens = P + mi.canvas_length};
    if (dg_ctx_new(m, &cp, &ctx, err)) return 0;
    int seq = 0, ok = 0;
    float *sc = malloc(LV * sizeof *sc), *nosc = NULL;
    out->step1 = malloc(LV * sizeof(float));
    out->step2 = malloc(LV * sizeof(float));
    if (sc && out->step1 && out->step2 && !dg_encode(ctx, 0, prompt, P, NULL, NULL, err) &&
        !dg_decode_step(ctx, 1, &seq, &canvas, &nosc, &out->step1, err)) {
        const float *from = sc_from ? sc_from : out->step1;
        for (size_t i = 0; i < LV; i++) sc[i] = from[i] / 0.8f;
        if (sc_H >= 0) cli_sc_fill(sc, mi.canvas_length, mi.vocab_size, sc_H, 4321);   /* the same input on every path */
        ok = !dg_decode_step(ctx, 1, &seq, &canvas, &sc, &out->step2, err);
    }
    free(sc);
    dg_ctx_free(ctx);
    return ok;
}

static void report(const char *what, const float *ref, const float *got, int L, int V) {
    double se = 0, sr = 0;
    int agree = 0;
    for (int i = 0; i < L; i++) {
        int ar = 0, ag = 0;
        for (int v = 0; v < V; v++) {
            size_t k = (size_t)i * V + v;
            double d = (double)got[k] - ref[k];
            se += d * d;
            sr += (double)ref[k] * ref[k];
            if (ref[k] > ref[(size_t)i * V + ar]) ar = v;
            if (got[k] > got[(size_t)i * V + ag]) ag = v;
        }
        agree += ar == ag;
    }
    printf("  %-40s logits rel RMS %.4f%%   argmax agreement %d/%d (%.1f%%)\n", what, 100 * sqrt(se / (sr > 0 ? sr : 1)),
           agree, L, 100.0 * agree / L);
}

int cmd_compare(int argc, char **argv) {
    const char *dir = NULL;
    long threads = 0, plen = 32, layers = 0;
    double sc_H = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: dgemma compare -m DIR [--prompt-len P] [--layers N] [-t N] [--sc-entropy H]\n"
                   "Fast kernel paths vs the precise path: logits relative RMS error and argmax agreement.\n"
                   "--sc-entropy H: step 2's self-conditioning input is synthetic logits of mean entropy H nats per row.\n");
            return 0;
        } else if (!strcmp(a, "-m")) { if (!(dir = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "-t")) { if (!(v = cli_value(argc, argv, &i)) || !cli_int(a, v, 0, 4096, &threads)) return 2; }
        else if (!strcmp(a, "--prompt-len")) { if (!(v = cli_value(argc, argv, &i)) || !cli_int(a, v, 1, 1 << 16, &plen)) return 2; }
        else if (!strcmp(a, "--sc-entropy")) { if (!(v = cli_value(argc, argv, &i)) || !cli_double(a, v, 0, 100, &sc_H)) return 2; }
        else if (!strcmp(a, "--layers")) { if (!(v = cli_value(argc, argv, &i)) || !cli_int(a, v, 1, 1000, &layers)) return 2; }
        else { fprintf(stderr, "dgemma compare: unknown option '%s'\n", a); return 2; }
    }
    if (!dir) { fprintf(stderr, "usage: dgemma compare -m DIR\n"); return 2; }
    dg_error err = {0};
    dg_model *m = NULL;
    dg_load_params lp = {.n_layers = (int)layers};
    if (dg_model_load(dir, &lp, &m, &err)) return cli_report(&err);
    dg_model_info mi;
    dg_model_get_info(m, &mi);
    const int L = mi.canvas_length, V = mi.vocab_size;
    int32_t *prompt = malloc((size_t)plen * sizeof *prompt), *canvas = malloc((size_t)L * sizeof *canvas);
    for (int i = 0; i < plen; i++) prompt[i] = dg_randint(dg_rng(7, 1, 0, 0, (uint64_t)i), (uint32_t)V);
    dg_rng_init_canvas(11, 0, L, V, canvas);
    run ref = {0};
    int rc = 1;
    printf("%s: %d layers, %s, prompt %ld tokens, canvas %d\n", dir, mi.n_layers, mi.quantized ? "MLX affine" : "bf16/f32", plen, L);
    if (!one_path(m, 1, DG_ISA_C, (int)threads, prompt, (int)plen, canvas, NULL, sc_H, &ref, &err)) { cli_report(&err); goto out; }
    for (int p = DG_ISA_C; p < DG_ISA_COUNT; p++)
        for (int precise = 1; precise >= 0; precise--) {
            if (!dg_isa_available((dg_isa)p) || (p == DG_ISA_C && precise)) continue;   /* C precise: the reference itself */
            run got = {0};
            dg_error e2 = {0};
            char label[64];
            snprintf(label, sizeof label, "%s %s", dg_isa_name((dg_isa)p), precise ? "precise" : "fast");
            if (!one_path(m, precise, (dg_isa)p, (int)threads, prompt, (int)plen, canvas, ref.step1, sc_H, &got, &e2)) {
                printf("  %-28s not run: %s\n", label, e2.msg);
            } else {
                char l1[96], l2[96];
                snprintf(l1, sizeof l1, "%s, step 1", label);
                snprintf(l2, sizeof l2, "%s, step 2 (same self-cond input)", label);
                report(l1, ref.step1, got.step1, L, V);
                report(l2, ref.step2, got.step2, L, V);
                if (!precise) {
                    /* step 2 fed by this path's own step 1: includes the drift of its input */
                    run own = {0};
                    if (one_path(m, precise, (dg_isa)p, (int)threads, prompt, (int)plen, canvas, NULL, sc_H, &own, &e2)) {
                        snprintf(l2, sizeof l2, "%s, step 2 (own self-cond)", label);
                        report(l2, ref.step2, own.step2, L, V);
                    }
                    free(own.step1);
                    free(own.step2);
                }
            }
            free(got.step1);
            free(got.step2);
        }
    rc = 0;
out:
    free(ref.step1); free(ref.step2); free(prompt); free(canvas);
    dg_model_free(m);
    return rc;
}
