/* dgemma check-golden DIR: runs every case of DIR/golden.json against DIR's checkpoint on the
 * precise path and prints the error of every reference tensor, then "N passed, N failed". */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/cli.h"
#include "cli/golden.h"

float *golden_tensor(golden *g, const char *name, int64_t *numel) {
    const dg_tensor *t = dg_st_find(g->st, name);
    if (!t) return NULL;
    int64_t n = dg_tensor_numel(t);
    float *out = malloc((size_t)(n ? n : 1) * sizeof *out);
    if (!out) return NULL;
    for (int64_t i = 0; i < n; i++) {
        const uint8_t *p = t->data + (size_t)i * dg_dtype_size(t->dtype);
        if (t->dtype == DG_DT_F32) memcpy(&out[i], p, 4);
        else if (t->dtype == DG_DT_I32) { int32_t v; memcpy(&v, p, 4); out[i] = (float)v; }
        else if (t->dtype == DG_DT_U8) out[i] = p[0];
        else { free(out); return NULL; }
    }
    *numel = n;
    return out;
}

errstat err_compare(const float *got, const float *want, int64_t n) {
    errstat e = {0, 0, 0};
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= e.max_abs)) e.max_abs = d;   /* NaN propagates */
        if (fabs(want[i]) > e.ref_max) e.ref_max = fabs(want[i]);
    }
    e.max_rel = e.ref_max > 0 ? e.max_abs / e.ref_max : e.max_abs;
    return e;
}

int golden_report(golden *g, const char *label, errstat e, double tol, int relative, int counted) {
    double v = relative ? e.max_rel : e.max_abs;
    int ok = v <= tol;
    printf("  %-34s max_abs %.3e  max_rel %.3e  (tol %s %.0e)%s\n", label, e.max_abs, e.max_rel,
           relative ? "rel" : "abs", tol, counted ? (ok ? "  ok" : "  FAIL") : "  (debug)");
    if (counted) { if (ok) g->passed++; else g->failed++; }
    return ok;
}

/* ---------------------------------------------------------------- taps */

typedef struct collector {
    const dg_model *m;
    int P;                  /* prompt length */
    float **k, **v;         /* per layer [nkv, P, D] */
    int **fill;             /* per layer, per kv head: positions filled */
    int *nkv, *D;
    float **dec_h;          /* per layer [L, H] of the current step */
    float **router_idx;
    float *x0;
} collector;

static void on_tap(void *user, const char *what, int layer, const float *data, int d0, int d1, int d2) {
    collector *c = user;
    if (!strcmp(what, "enc.k") || !strcmp(what, "enc.v")) {
        int g = d0, rows = d1, D = d2, pos = c->fill[layer][g];
        float *dst = (what[4] == 'k' ? c->k : c->v)[layer];
        if (pos + rows <= c->P) memcpy(dst + ((size_t)g * c->P + pos) * D, data, (size_t)rows * D * sizeof(float));
        if (what[4] == 'v') c->fill[layer][g] += rows;
    } else if (!strcmp(what, "dec.h")) {
        memcpy(c->dec_h[layer], data, (size_t)d0 * d1 * sizeof(float));
    } else if (!strcmp(what, "dec.router_idx")) {
        memcpy(c->router_idx[layer], data, (size_t)d0 * d1 * sizeof(float));
    } else if (!strcmp(what, "dec.x0")) {
        memcpy(c->x0, data, (size_t)d0 * d1 * sizeof(float));
    }
}

static int read_ids(const cJSON *a, int32_t **out) {
    int n = cJSON_GetArraySize(a);
    *out = malloc((size_t)(n ? n : 1) * sizeof **out);
    int i = 0;
    for (const cJSON *e = a ? a->child : NULL; e; e = e->next) (*out)[i++] = (int32_t)e->valuedouble;
    return n;
}

static int cmp_tensor(golden *g, const char *name, const float *got, int64_t n, double tol, int rel, int counted) {
    int64_t gn;
    float *want = golden_tensor(g, name, &gn);
    if (!want) { if (counted) { printf("  %-34s missing in golden.safetensors  FAIL\n", name); g->failed++; } return 0; }
    if (gn != n) { printf("  %-34s size %lld vs golden %lld  FAIL\n", name, (long long)n, (long long)gn); free(want); if (counted) g->failed++; return 0; }
    int ok = golden_report(g, name, err_compare(got, want, n), tol, rel, counted);
    free(want);
    return ok;
}

static void run_forward_case(golden *g, const dg_model *m, const char *name, const cJSON *cs, int n_threads) {
    dg_model_info mi;
    dg_model_get_info(m, &mi);
    const int L = mi.canvas_length, V = mi.vocab_size, H = mi.hidden_size, nl = mi.n_layers;
    int32_t *prompt, *canvas;
    int P = read_ids(cJSON_GetObjectItem(cs, "prompt"), &prompt);
    int nc = read_ids(cJSON_GetObjectItem(cs, "canvas"), &canvas);
    printf("%s: forward, prompt %d tokens, canvas %d\n", name, P, nc);
    dg_error err = {0};
    dg_ctx *ctx = NULL;
    dg_ctx_params cp = {.n_threads = n_threads, .precise = 1};
    cli_env_ctx(&cp);
    collector col = {.m = m, .P = P};
    col.k = calloc((size_t)nl, sizeof(float *)); col.v = calloc((size_t)nl, sizeof(float *));
    col.fill = calloc((size_t)nl, sizeof(int *)); col.dec_h = calloc((size_t)nl, sizeof(float *));
    col.router_idx = calloc((size_t)nl, sizeof(float *));
    col.x0 = malloc((size_t)L * H * sizeof(float));
    float *logits = malloc((size_t)L * V * sizeof(float)), *sc = malloc((size_t)L * V * sizeof(float));
    char tn[128];
    if (nc != L) { printf("  canvas length %d != model canvas %d  FAIL\n", nc, L); g->failed++; goto done; }
    if (dg_ctx_new(m, &cp, &ctx, &err)) { printf("  context: %s  FAIL\n", err.msg); g->failed++; goto done; }
    for (int li = 0; li < nl; li++) {
        snprintf(tn, sizeof tn, "%s.enc.k.L%d", name, li);
        const dg_tensor *t = dg_st_find(g->st, tn);
        int nkv = t ? (int)t->shape[0] : 1, D = t ? (int)t->shape[2] : 1;
        col.k[li] = calloc((size_t)nkv * P * D, sizeof(float));
        col.v[li] = calloc((size_t)nkv * P * D, sizeof(float));
        col.fill[li] = calloc((size_t)nkv + 8, sizeof(int));
        col.dec_h[li] = malloc((size_t)L * H * sizeof(float));
        col.router_idx[li] = malloc((size_t)L * mi.top_k * sizeof(float));
    }
    dg_ctx_set_tap(ctx, on_tap, &col);
    if (dg_encode(ctx, 0, prompt, P, NULL, NULL, &err)) { printf("  encode: %s  FAIL\n", err.msg); g->failed++; goto done; }
    for (int li = 0; li < nl; li++) {
        snprintf(tn, sizeof tn, "%s.enc.k.L%d", name, li);
        const dg_tensor *t = dg_st_find(g->st, tn);
        int64_t n = t ? dg_tensor_numel(t) : 0;
        cmp_tensor(g, tn, col.k[li], n, 1e-4, 1, 1);
        snprintf(tn, sizeof tn, "%s.enc.v.L%d", name, li);
        cmp_tensor(g, tn, col.v[li], n, 1e-4, 1, 1);
    }
    const int32_t *cv = canvas;
    int seq = 0;
    float *scp = NULL;
    for (int step = 1; step <= 2; step++) {
        if (step == 2) {
            /* self-conditioning input = golden step-1 logits / 0.8 */
            int64_t gn;
            snprintf(tn, sizeof tn, "%s.logits.step1", name);
            float *l1 = golden_tensor(g, tn, &gn);
            if (!l1 || gn != (int64_t)L * V) { printf("  %s missing  FAIL\n", tn); g->failed++; free(l1); break; }
            for (int64_t i = 0; i < gn; i++) sc[i] = (float)((double)l1[i] / 0.8);
            free(l1);
            scp = sc;
        }
        if (dg_decode_step(ctx, 1, &seq, &cv, &scp, &logits, &err)) { printf("  decode: %s  FAIL\n", err.msg); g->failed++; break; }
        snprintf(tn, sizeof tn, "%s.dec.x0.step%d", name, step);
        cmp_tensor(g, tn, col.x0, (int64_t)L * H, 1e-4, 1, 0);
        if (step == 1)
            for (int li = 0; li < nl; li++) {
                snprintf(tn, sizeof tn, "%s.dec.h.L%d.step1", name, li);
                cmp_tensor(g, tn, col.dec_h[li], (int64_t)L * H, 1e-4, 1, 0);
                snprintf(tn, sizeof tn, "%s.dec.router_idx.L%d.step1", name, li);
                cmp_tensor(g, tn, col.router_idx[li], (int64_t)L * mi.top_k, 0, 0, 0);
            }
        snprintf(tn, sizeof tn, "%s.logits.step%d", name, step);
        cmp_tensor(g, tn, logits, (int64_t)L * V, 1e-3, 0, 1);
    }
done:
    dg_ctx_free(ctx);
    for (int li = 0; li < nl; li++) {
        if (col.k) free(col.k[li]);
        if (col.v) free(col.v[li]);
        if (col.fill) free(col.fill[li]);
        if (col.dec_h) free(col.dec_h[li]);
        if (col.router_idx) free(col.router_idx[li]);
    }
    free(col.k); free(col.v); free(col.fill); free(col.dec_h); free(col.router_idx); free(col.x0);
    free(logits); free(sc); free(prompt); free(canvas);
}

/* Generation trajectories: replayed by golden_gen.c once generation exists. */
int golden_run_gen_case(golden *g, const dg_model *m, const char *name, const void *case_json, int n_threads);

int cmd_check_golden(int argc, char **argv) {
    const char *dir = NULL;
    long threads = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-t") || !strcmp(argv[i], "--threads")) {
            const char *v = cli_value(argc, argv, &i);
            if (!v || !cli_int("-t", v, 1, 1024, &threads)) return 2;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            printf("usage: dgemma check-golden [-t THREADS] DIR\n"
                   "Runs every case of DIR/golden.json on DIR's checkpoint (precise path) and compares.\n");
            return 0;
        } else if (argv[i][0] == '-') { fprintf(stderr, "dgemma: check-golden: unknown option %s\n", argv[i]); return 2; }
        else dir = argv[i];
    }
    if (!dir) { fprintf(stderr, "usage: dgemma check-golden [-t THREADS] DIR\n"); return 2; }
    golden g = {.dir = dir};
    dg_error err = {0};
    char path[4096];
    snprintf(path, sizeof path, "%s/golden.safetensors", dir);
    if (dg_st_open(path, &g.st, &err)) return cli_report(&err);
    snprintf(path, sizeof path, "%s/golden.json", dir);
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long sz = 0;
    if (f && fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0) {
        rewind(f);
        text = malloc((size_t)sz + 1);
        if (text && fread(text, 1, (size_t)sz, f) == (size_t)sz) text[sz] = 0;
        else { free(text); text = NULL; }
    }
    if (f) fclose(f);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    free(text);
    const cJSON *cases = root ? cJSON_GetObjectItem(root, "cases") : NULL;
    if (!cJSON_IsObject(cases)) {
        fprintf(stderr, "dgemma: %s: missing or malformed (no \"cases\" object)\n", path);
        cJSON_Delete(root);
        dg_st_close(g.st);
        return 1;
    }
    g.json = root;
    dg_model *m = NULL;
    if (dg_model_load(dir, NULL, &m, &err)) { cJSON_Delete(root); dg_st_close(g.st); return cli_report(&err); }
    for (const cJSON *cs = cases->child; cs; cs = cs->next) {
        const cJSON *kind = cJSON_GetObjectItem(cs, "kind");
        const char *k = cJSON_IsString(kind) ? kind->valuestring : "";
        if (!strcmp(k, "forward")) run_forward_case(&g, m, cs->string, cs, (int)threads);
        else if (!strcmp(k, "generate")) golden_run_gen_case(&g, m, cs->string, cs, (int)threads);
        else { printf("%s: unknown case kind '%s'  skipped\n", cs->string, k); g.skipped++; }
    }
    dg_model_free(m);
    cJSON_Delete(root);
    dg_st_close(g.st);
    printf("%d passed, %d failed, %d skipped\n", g.passed, g.failed, g.skipped);
    return g.failed ? 1 : 0;
}
