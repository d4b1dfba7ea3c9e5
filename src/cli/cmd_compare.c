/* dgemma compare -m DIR: the fast kernel paths against the precise path on one checkpoint.
 * Same prompt, same canvas, one decoder step without and one with self-conditioning; reports
 * per path the relative RMS error of the logits, whether the error is noise or bias (see
 * errstats.h) and the argmax agreement over canvas positions. --depths runs it on the first N
 * layers for each N (the loader's n_layers, as `bench --layers`), to show how the error grows. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/errstats.h"
#include "cli/sc_entropy.h"
#include "gen/rng.h"

enum { MAX_DEPTHS = 64, MAX_PATHS = 3 * DG_ISA_COUNT };
enum { FAST, PRECISE, INT8 };
static const char *const variant_name[] = {"fast", "precise", "fast int8"};
typedef struct path { dg_isa isa; int variant; } path;
/* With --hidden, per decoder step (1 and 2) and layer: the residual stream after the layer
 * ("dec.h", [L, H]) and the experts each canvas token was routed to ("dec.router_idx", [L, K]):
 * the error vs depth of every layer in one run, and how often a rounding difference changed a
 * routing choice (a discrete jump that no kernel can avoid, however exact). */
typedef struct taps { float *h, *route; } taps;
typedef struct run { float *step1, *step2, *own2; taps t[2]; } run;
typedef struct tap_sink { taps *into; size_t per_h, per_route; int n_layers; } tap_sink;
typedef struct opts {
    int threads, plen, hidden;
    double sc_H;
    dg_isa ref;                 /* the reference: the precise path on this ISA */
    path paths[MAX_PATHS];
    int n_paths;
} opts;

static void path_name(const path *q, char *buf, size_t n) {
    snprintf(buf, n, "%s %s", dg_isa_name(q->isa), variant_name[q->variant]);
}

static void run_free(run *r) {
    free(r->step1); free(r->step2); free(r->own2);
    for (int k = 0; k < 2; k++) { free(r->t[k].h); free(r->t[k].route); }
    *r = (run){0};
}

static void on_tap(void *user, const char *what, int layer, const float *data, int d0, int d1, int d2) {
    tap_sink *t = user;
    if (!t->into || layer < 0 || layer >= t->n_layers) return;
    size_t n = (size_t)d0 * d1;
    if (!strcmp(what, "dec.h") && n == t->per_h) memcpy(t->into->h + (size_t)layer * n, data, n * sizeof(float));
    if (!strcmp(what, "dec.router_idx") && n == t->per_route) memcpy(t->into->route + (size_t)layer * n, data, n * sizeof(float));
}

/* sc = from / 0.8, or synthetic logits of mean entropy sc_H (the same on every path). */
static void sc_input(float *sc, const float *from, int L, int V, double sc_H) {
    for (size_t i = 0; i < (size_t)L * V; i++) sc[i] = from[i] / 0.8f;
    if (sc_H >= 0) cli_sc_fill(sc, L, V, sc_H, 4321);
}

/* Prefill, step 1 (no self-conditioning), step 2 with `sc_from` (the reference's step 1, so
 * both paths see the same input; NULL: this path's own step 1) and, when `own`, step 2 again
 * with this path's own step 1: it includes the drift of its input. The steps leave the cache
 * as it is, so they share one prefill. */
static int one_path(const dg_model *m, int precise, int int8, dg_isa isa, const opts *o, const int32_t *prompt,
                    const int32_t *canvas, const float *sc_from, int own, run *out, dg_error *err) {
    dg_model_info mi;
    dg_model_get_info(m, &mi);
    const int L = mi.canvas_length, V = mi.vocab_size;
    size_t LV = (size_t)L * V;
    dg_ctx *ctx = NULL;
    dg_ctx_params cp = {.n_threads = o->threads, .precise = precise, .int8 = int8, .isa = isa,
                        .max_tokens = o->plen + L};
    if (dg_ctx_new(m, &cp, &ctx, err)) return 0;
    int seq = 0, ok = 0;
    size_t LH = (size_t)L * mi.hidden_size;
    tap_sink sink = {.per_h = LH, .per_route = (size_t)L * mi.top_k, .n_layers = mi.n_layers};
    if (o->hidden) {
        for (int k = 0; k < 2; k++) {
            out->t[k].h = calloc((size_t)mi.n_layers * LH, sizeof(float));
            out->t[k].route = calloc((size_t)mi.n_layers * sink.per_route, sizeof(float));
            if (!out->t[k].h || !out->t[k].route) {
                snprintf(err->msg, sizeof err->msg, "out of memory for the --hidden taps");
                dg_ctx_free(ctx);
                return 0;
            }
        }
        dg_ctx_set_tap(ctx, on_tap, &sink);
    }
    float *sc = malloc(LV * sizeof *sc), *nosc = NULL;
    out->step1 = malloc(LV * sizeof(float));
    out->step2 = malloc(LV * sizeof(float));
    out->own2 = own ? malloc(LV * sizeof(float)) : NULL;
    if (!sc || !out->step1 || !out->step2 || (own && !out->own2)) snprintf(err->msg, sizeof err->msg, "out of memory for the logits");
    else if (!dg_encode(ctx, 0, prompt, o->plen, NULL, NULL, err) &&
        (sink.into = o->hidden ? &out->t[0] : NULL, !dg_decode_step(ctx, 1, &seq, &canvas, &nosc, &out->step1, err))) {
        sc_input(sc, sc_from ? sc_from : out->step1, L, V, o->sc_H);
        sink.into = o->hidden ? &out->t[1] : NULL;
        ok = !dg_decode_step(ctx, 1, &seq, &canvas, &sc, &out->step2, err);
        sink.into = NULL;
        if (ok && own) {
            sc_input(sc, out->step1, L, V, o->sc_H);
            ok = !dg_decode_step(ctx, 1, &seq, &canvas, &sc, &out->own2, err);
        }
    }
    free(sc);
    dg_ctx_free(ctx);
    return ok;
}

/* Canvas tokens of S whose set of K experts differs between a and b ([S, K] indices as floats). */
static int route_changes(const float *a, const float *b, int S, int K) {
    int changed = 0;
    for (int i = 0; i < S; i++) {
        int same = 1;
        for (int j = 0; j < K && same; j++) {
            int found = 0;
            for (int k = 0; k < K && !found; k++) found = a[(size_t)i * K + j] == b[(size_t)i * K + k];
            same = found;
        }
        changed += !same;
    }
    return changed;
}

/* layer >= 0: the hidden state after that layer (no argmax: rows are not distributions) and
 * `routed` canvas tokens whose experts changed in it. */
static void report(cJSON *rows, int depth, int layer, int routed, dg_isa ref_isa, const char *path, const char *step,
                   const float *ref, const float *got, int L, int V) {
    cli_errstats s;
    cli_errstats_compute(ref, got, L, V, &s);
    if (rows) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "layers", depth);
        if (layer >= 0) {
            cJSON_AddNumberToObject(o, "hidden_after_layer", layer + 1);
            cJSON_AddNumberToObject(o, "route_changes", routed);
        }
        cJSON_AddStringToObject(o, "path", path);
        cJSON_AddStringToObject(o, "reference", dg_isa_name(ref_isa));   /* its precise path */
        cJSON_AddStringToObject(o, "step", step);
        cJSON_AddNumberToObject(o, "rel_rms", s.rel_rms);
        cJSON_AddNumberToObject(o, "bias", s.bias);
        cJSON_AddNumberToObject(o, "corr", s.corr);
        cJSON_AddNumberToObject(o, "slope", s.slope);
        cJSON_AddNumberToObject(o, "gain", s.gain);
        if (layer < 0) {
            cJSON_AddNumberToObject(o, "argmax_agree", s.agree);
            cJSON_AddNumberToObject(o, "rows", s.rows);
        }
        cJSON_AddItemToArray(rows, o);
        return;
    }
    char what[96];
    if (layer >= 0) {
        snprintf(what, sizeof what, "%s, %s, hidden after layer %d", path, step, layer + 1);
        printf("  %-46s rel RMS %7.4f%%  bias %+.4f  corr %+.4f  slope-1 %+.1e  gain %.4f  experts changed %d/%d\n", what,
               100 * s.rel_rms, s.bias, s.corr, s.slope - 1, s.gain, routed, L);
        fflush(stdout);
        return;
    }
    snprintf(what, sizeof what, "%s, %s", path, step);
    printf("  %-46s rel RMS %7.4f%%  bias %+.4f  corr %+.4f  slope-1 %+.1e  gain %.4f  argmax %d/%d (%.1f%%)\n", what,
           100 * s.rel_rms, s.bias, s.corr, s.slope - 1, s.gain, s.agree, s.rows, 100.0 * s.agree / s.rows);
    fflush(stdout);   /* long runs: each line as soon as it is known */
}

/* The comparison on the first `depth` layers (0: all): every path against the C precise path. */
static int one_depth(const char *dir, int depth, const opts *o, int fast_only, cJSON *rows) {
    dg_error err = {0};
    dg_model *m = NULL;
    dg_load_params lp = {.n_layers = depth};
    if (dg_model_load(dir, &lp, &m, &err)) return cli_report(&err);
    dg_model_info mi;
    dg_model_get_info(m, &mi);
    const int L = mi.canvas_length, V = mi.vocab_size;
    int32_t *prompt = malloc((size_t)o->plen * sizeof *prompt), *canvas = malloc((size_t)L * sizeof *canvas);
    for (int i = 0; i < o->plen; i++) prompt[i] = dg_randint(dg_rng(7, 1, 0, 0, (uint64_t)i), (uint32_t)V);
    dg_rng_init_canvas(11, 0, L, V, canvas);
    run ref = {0};
    int rc = 1;
    if (!rows)
        printf("%s: %d layers, %s, prompt %d tokens, canvas %d\n", dir, mi.n_layers, mi.quantized ? "MLX affine" : "bf16/f32",
               o->plen, L);
    if (!rows) {
        char r[64];
        path_name(&(path){o->ref, PRECISE}, r, sizeof r);
        printf("  reference: %s\n", r);
        fflush(stdout);
    }
    if (!one_path(m, 1, 0, o->ref, o, prompt, canvas, NULL, 0, &ref, &err)) { cli_report(&err); goto out; }
    for (int k = 0; k < o->n_paths; k++) {
        const path *q = &o->paths[k];
        run got = {0};
        dg_error e2 = {0};
        char label[64];
        path_name(q, label, sizeof label);
        if (!one_path(m, q->variant == PRECISE, q->variant == INT8, q->isa, o, prompt, canvas, ref.step1, q->variant != PRECISE,
                      &got, &e2)) {
            fprintf(rows ? stderr : stdout, "  %-46s not run: %s\n", label, e2.msg);
        } else {
            report(rows, mi.n_layers, -1, 0, o->ref, label, "step 1", ref.step1, got.step1, L, V);
            report(rows, mi.n_layers, -1, 0, o->ref, label, "step 2 (same self-cond input)", ref.step2, got.step2, L, V);
            if (got.own2) report(rows, mi.n_layers, -1, 0, o->ref, label, "step 2 (own self-cond)", ref.step2, got.own2, L, V);
            size_t LH = (size_t)L * mi.hidden_size, LK = (size_t)L * mi.top_k;
            for (int li = 0; o->hidden && li < mi.n_layers; li++)
                for (int k = 0; k < 2; k++) {
                    int routed = route_changes(ref.t[k].route + li * LK, got.t[k].route + li * LK, L, mi.top_k);
                    report(rows, mi.n_layers, li, routed, o->ref, label, k ? "step 2" : "step 1", ref.t[k].h + li * LH,
                           got.t[k].h + li * LH, L, mi.hidden_size);
                }
        }
        run_free(&got);
    }
    rc = 0;
out:
    run_free(&ref);
    free(prompt);
    free(canvas);
    dg_model_free(m);
    return rc;
}

/* "1,6,15,30" -> depths; 0 and prints the error on a bad list. */
static int parse_depths(const char *s, int *d, int *n) {
    *n = 0;
    for (const char *p = s; *p;) {
        char tok[16];
        size_t k = strcspn(p, ",");
        long v;
        if (k == 0 || k >= sizeof tok || *n == MAX_DEPTHS) { fprintf(stderr, "dgemma: --depths: expected N,N,... (at most %d)\n", MAX_DEPTHS); return 0; }
        memcpy(tok, p, k);
        tok[k] = 0;
        if (!cli_int("--depths", tok, 1, 1000, &v)) return 0;
        d[(*n)++] = (int)v;
        p += k + (p[k] == ',');
    }
    if (!*n) { fprintf(stderr, "dgemma: --depths: empty list\n"); return 0; }
    return 1;
}

/* "amx,amx-int8,avx2-precise": ISA[-int8|-precise] each; 0 and prints the error on a bad list. */
static int parse_paths(const char *s, opts *o) {
    o->n_paths = 0;
    for (const char *p = s; *p;) {
        char tok[32];
        size_t k = strcspn(p, ",");
        if (k == 0 || k >= sizeof tok || o->n_paths == MAX_PATHS) { fprintf(stderr, "dgemma: --paths: expected ISA[-int8|-precise],...\n"); return 0; }
        memcpy(tok, p, k);
        tok[k] = 0;
        p += k + (p[k] == ',');
        path q = {.variant = FAST};
        char *dash = strchr(tok, '-');
        if (dash) {
            *dash++ = 0;
            if (!strcmp(dash, "int8")) q.variant = INT8;
            else if (!strcmp(dash, "precise")) q.variant = PRECISE;
            else { fprintf(stderr, "dgemma: --paths: '%s': expected -int8 or -precise\n", dash); return 0; }
        }
        int isa = dg_isa_parse(tok);
        if (isa <= 0 || !dg_isa_available((dg_isa)isa)) {
            fprintf(stderr, "dgemma: --paths: '%s' is not a kernel path this build and CPU run (dgemma kernels)\n", tok);
            return 0;
        }
        q.isa = (dg_isa)isa;
        o->paths[o->n_paths++] = q;
    }
    if (!o->n_paths) { fprintf(stderr, "dgemma: --paths: empty list\n"); return 0; }
    return 1;
}

/* Every path this build and CPU run but the reference, best first (AUTO's choice) so that a long
 * run cut short has the figures that matter; DGEMMA_ISA: that ISA only; DGEMMA_INT8: int8 too. */
static void default_paths(opts *o, int fast_only) {
    dg_ctx_params env = {0};
    cli_env_ctx(&env);
    o->n_paths = 0;
    for (int p = DG_ISA_COUNT - 1; p >= DG_ISA_C; p--) {
        if (!dg_isa_available((dg_isa)p) || (env.isa && p != (int)env.isa)) continue;
        o->paths[o->n_paths++] = (path){(dg_isa)p, FAST};
        if (env.int8) o->paths[o->n_paths++] = (path){(dg_isa)p, INT8};
        if (!fast_only && p != (int)o->ref) o->paths[o->n_paths++] = (path){(dg_isa)p, PRECISE};
    }
}

int cmd_compare(int argc, char **argv) {
    const char *dir = NULL;
    long threads = 0, plen = 32, layers = 0;
    int depths[MAX_DEPTHS] = {0}, nd = 0, json = 0, fast_only = 0;
    const char *paths = NULL;
    double sc_H = -1;
    opts o = {.ref = DG_ISA_C};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            printf("usage: dgemma compare -m DIR [--prompt-len P] [--layers N | --depths N,N,...] [-t N] [--sc-entropy H]\n"
                   "                      [--paths ISA[-int8|-precise],...] [--fast-only] [--ref ISA] [--hidden] [--json]\n"
                   "Fast kernel paths vs the precise path: per path the logits' relative RMS error, its bias (mean / RMS\n"
                   "of the error), its correlation with the reference, the slope of got on ref and sd(got)/sd(ref) (a scale\n"
                   "error moves both; chaos, an output that decorrelated, drops the slope and keeps the gain), and\n"
                   "the argmax agreement. DGEMMA_ISA=NAME: that path only; DGEMMA_INT8=1: each fast path also with int8.\n"
                   "--layers N: the first N layers only; --depths N,...: once per depth (error vs depth).\n"
                   "--hidden: also the error of the decoder's hidden state after every layer, steps 1 and 2.\n"
                   "--paths: these paths only (default: every path here, best first). --fast-only: no precise path\n"
                   "but the reference. --ref ISA: the reference is the precise path on ISA (default c; faster on a\n"
                   "large model, and equal to c's to rounding). --json: one array of records on stdout.\n"
                   "--sc-entropy H: step 2's self-conditioning input is synthetic logits of mean entropy H nats per row.\n");
            return 0;
        } else if (!strcmp(a, "-m")) { if (!(dir = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "-t")) { if (!(v = cli_value(argc, argv, &i)) || !cli_int(a, v, 0, 4096, &threads)) return 2; }
        else if (!strcmp(a, "--prompt-len")) { if (!(v = cli_value(argc, argv, &i)) || !cli_int(a, v, 1, 1 << 16, &plen)) return 2; }
        else if (!strcmp(a, "--sc-entropy")) { if (!(v = cli_value(argc, argv, &i)) || !cli_double(a, v, 0, 100, &sc_H)) return 2; }
        else if (!strcmp(a, "--layers")) { if (!(v = cli_value(argc, argv, &i)) || !cli_int(a, v, 1, 1000, &layers)) return 2; }
        else if (!strcmp(a, "--depths")) { if (!(v = cli_value(argc, argv, &i)) || !parse_depths(v, depths, &nd)) return 2; }
        else if (!strcmp(a, "--paths")) { if (!(paths = cli_value(argc, argv, &i))) return 2; }
        else if (!strcmp(a, "--ref")) {
            int r;
            if (!(v = cli_value(argc, argv, &i))) return 2;
            if ((r = dg_isa_parse(v)) <= 0 || !dg_isa_available((dg_isa)r)) {
                fprintf(stderr, "dgemma: --ref: '%s' is not a kernel path this build and CPU run (dgemma kernels)\n", v);
                return 2;
            }
            o.ref = (dg_isa)r;
        }
        else if (!strcmp(a, "--fast-only")) fast_only = 1;
        else if (!strcmp(a, "--hidden")) o.hidden = 1;
        else if (!strcmp(a, "--json")) json = 1;
        else { fprintf(stderr, "dgemma compare: unknown option '%s'\n", a); return 2; }
    }
    if (!dir) { fprintf(stderr, "usage: dgemma compare -m DIR\n"); return 2; }
    if (layers && nd) { fprintf(stderr, "dgemma compare: --layers and --depths: give one\n"); return 2; }
    if (!nd) depths[nd++] = (int)layers;
    o.threads = (int)threads;
    o.plen = (int)plen;
    o.sc_H = sc_H;
    if (paths ? !parse_paths(paths, &o) : (default_paths(&o, fast_only), 0)) return 2;
    cJSON *rows = json ? cJSON_CreateArray() : NULL;
    int rc = 0;
    for (int k = 0; k < nd && !rc; k++) rc = one_depth(dir, depths[k], &o, fast_only, rows);
    if (rows) {
        if (!rc) {
            char *s = cJSON_Print(rows);
            if (s) printf("%s\n", s);
            free(s);
        }
        cJSON_Delete(rows);
    }
    return rc;
}
