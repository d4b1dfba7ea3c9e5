/* Sampler contract (GENERATION.md §4): toy steps A and B, HF sanity cases, temperatures, stop
 * rule, tests/golden/sampler vectors, and replays of every stored generate step of the tiny
 * models' goldens — each with the portable and (when present) the AVX2 kernel, in place and not. */
#include "t.h"
#include "golden_io.h"
#include "format/gen_config.h"
#include "gen/rng.h"
#include "isa_list.h"
#include <math.h>
#include <string.h>

#define NEAR_TIE 1e-5

static dg_isa isas[T_MAX_ISAS];
static int n_isas;
static int near_ties_seen;

typedef struct bufs {
    float *pl;
    int32_t *sampled, *argmax, *next;
    uint8_t *accept;
    double *H;
} bufs;

static void bufs_alloc(bufs *b, int L, int V) {
    b->pl = malloc((size_t)L * V * sizeof(float));
    b->sampled = malloc((size_t)L * 4);
    b->argmax = malloc((size_t)L * 4);
    b->next = malloc((size_t)L * 4);
    b->accept = malloc((size_t)L);
    b->H = malloc((size_t)L * 8);
}
static void bufs_free(bufs *b) {
    free(b->pl); free(b->sampled); free(b->argmax); free(b->next); free(b->accept); free(b->H);
}

/* Runs one step; in_place copies logits into pl first and converts there. */
static dg_step run_step(dg_isa isa, int in_place, const dg_gen_params *p, int L, int V, const float *logits,
                        int canvas, int step, bufs *b) {
    dg_sampler *s = NULL;
    dg_error err = {0};
    dg_step st = {0};
    CHECK(dg_sampler_new(L, V, 2, isa, &s, &err) == DG_OK, "sampler_new: %s", err.msg);
    if (!s) return st;
    if (in_place) memcpy(b->pl, logits, (size_t)L * V * sizeof(float));
    st.logits = in_place ? b->pl : logits;
    st.pl = b->pl;
    st.canvas = canvas;
    st.step = step;
    st.sampled = b->sampled;
    st.argmax = b->argmax;
    st.next = b->next;
    st.accept = b->accept;
    st.entropy = b->H;
    CHECK(dg_sampler_step(s, p, &st, &err) == DG_OK, "sampler_step: %s", err.msg);
    dg_sampler_free(s);
    return st;
}

static dg_gen_params toy_params(uint64_t seed, double tmin, double tmax, int N, double bound) {
    dg_gen_params p;
    dg_gen_params_default(&p);
    p.seed = seed;
    p.t_min = tmin;
    p.t_max = tmax;
    p.max_denoising_steps = N;
    p.entropy_bound = bound;
    return p;
}

static void toy_a(dg_isa isa, int in_place) {
    static const float lg[4][8] = {{10, 0, 0, 0, 0, 0, 0, 0}, {2, 1, 0, -1, 0, 0, 0, 0},
                                   {5, 5, 0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0, 0, 0}};
    dg_gen_params p = toy_params(42, 0.4, 0.8, 48, 0.1);
    bufs b;
    bufs_alloc(&b, 4, 8);
    dg_step st = run_step(isa, in_place, &p, 4, 8, &lg[0][0], 0, 1, &b);
    static const double H1[4] = {0.00035215987836883085, 1.3983995789175294, 0.73490943532961739, 2.0794415416798357};
    static const int32_t tok1[4] = {0, 5, 0, 1}, am1[4] = {0, 0, 0, 0}, nx1[4] = {0, 3, 0, 5};
    static const uint8_t ac1[4] = {1, 0, 1, 0};
    CHECK(st.T == 0.8, "toy A step 1: T %.17g", st.T);
    for (int i = 0; i < 4; i++) {
        CHECK(fabs(b.H[i] - H1[i]) < 1e-6, "toy A k=1 pos %d: H %.12g want %.12g (isa %d)", i, b.H[i], H1[i], isa);
        CHECK(b.sampled[i] == tok1[i], "toy A k=1 pos %d: token %d want %d", i, b.sampled[i], tok1[i]);
        CHECK(b.argmax[i] == am1[i], "toy A k=1 pos %d: argmax %d", i, b.argmax[i]);
        CHECK(b.accept[i] == ac1[i], "toy A k=1 pos %d: accept %d", i, b.accept[i]);
        CHECK(b.next[i] == nx1[i], "toy A k=1 pos %d: next %d want %d", i, b.next[i], nx1[i]);
        CHECK(fabsf(b.pl[i * 8] - lg[i][0] / 0.8f) <= 1e-6f * fabsf(lg[i][0] / 0.8f), "toy A pl");
    }
    CHECK(st.n_accept == 2, "toy A k=1 n_accept %d", st.n_accept);
    st = run_step(isa, in_place, &p, 4, 8, &lg[0][0], 0, 48, &b);
    static const double H48[4] = {4.1274435977961463e-09, 0.47208646344986754, 0.69333828563769484, 2.0794415416798357};
    static const int32_t tok48[4] = {0, 0, 1, 7}, nx48[4] = {0, 0, 1, 4};
    static const uint8_t ac48[4] = {1, 1, 0, 0};
    CHECK(st.T == 0.40833333333333338, "toy A step 48: T %.17g", st.T);
    for (int i = 0; i < 4; i++) {
        CHECK(fabs(b.H[i] - H48[i]) < 1e-6, "toy A k=48 pos %d: H %.12g want %.12g", i, b.H[i], H48[i]);
        CHECK(b.sampled[i] == tok48[i], "toy A k=48 pos %d: token %d want %d", i, b.sampled[i], tok48[i]);
        CHECK(b.accept[i] == ac48[i], "toy A k=48 pos %d: accept %d", i, b.accept[i]);
        CHECK(b.next[i] == nx48[i], "toy A k=48 pos %d: next %d want %d", i, b.next[i], nx48[i]);
    }
    bufs_free(&b);
}

static void toy_b(dg_isa isa, int in_place) {
    float lg[3][8] = {{0}};
    lg[1][0] = lg[2][0] = 4;
    dg_gen_params p = toy_params(7, 0.4, 0.8, 48, 0.1);
    bufs b;
    bufs_alloc(&b, 3, 8);
    dg_step st = run_step(isa, in_place, &p, 3, 8, &lg[0][0], 3, 5, &b);
    CHECK(st.T == 0.76666666666666672, "toy B: T %.17g", st.T);
    CHECK(fabs(b.H[1] - 0.22800926594693047) < 1e-6 && b.H[1] == b.H[2], "toy B: tied entropies %.17g %.17g", b.H[1], b.H[2]);
    CHECK(fabs(b.H[0] - log(8.0)) < 1e-6, "toy B: H0");
    CHECK(b.accept[1] == 1 && b.accept[2] == 0 && b.accept[0] == 0, "toy B: accept %d %d %d", b.accept[0], b.accept[1], b.accept[2]);
    CHECK(b.sampled[1] == 3 && b.argmax[1] == 0, "toy B: pos1 token %d argmax %d", b.sampled[1], b.argmax[1]);
    CHECK(b.next[0] == 4 && b.next[1] == 3 && b.next[2] == 6, "toy B: next %d %d %d", b.next[0], b.next[1], b.next[2]);
    bufs_free(&b);
}

/* HF sampler unit tests: T = 1 (t_min 0, t_max 1, N = 1, k = 1), V = 10000. */
static void hf_sanity(dg_isa isa) {
    const int L = 256, V = 10000;
    float *lg = calloc((size_t)L * V, sizeof(float));
    lg[0 * V + 17] = 18.0f;
    lg[1 * V + 5] = 14.5f;
    lg[2 * V + 9999] = 14.5f;
    bufs b;
    bufs_alloc(&b, L, V);
    dg_gen_params p = toy_params(3, 0.0, 1.0, 1, 0.1);
    dg_step st = run_step(isa, 0, &p, L, V, lg, 0, 1, &b);
    CHECK(st.T == 1.0, "HF sanity T");
    CHECK(fabs(b.H[0] - 0.002892977820481985) < 1e-6, "HF sanity H(18) %.12g", b.H[0]);
    CHECK(fabs(b.H[1] - 0.0777864896611862) < 1e-6, "HF sanity H(14.5) %.12g", b.H[1]);
    CHECK(fabs(b.H[3] - 9.210340371976184) < 1e-5, "HF sanity H(0) %.12g", b.H[3]);
    CHECK(b.argmax[0] == 17 && b.argmax[2] == 9999 && b.argmax[3] == 0, "HF sanity argmax");
    int n = 0;
    for (int i = 0; i < L; i++) n += b.accept[i];
    CHECK(n == 3 && b.accept[0] && b.accept[1] && b.accept[2], "bound 0.1 accepts 0, 1, 2 (n %d)", n);
    p.entropy_bound = 0.01;
    run_step(isa, 0, &p, L, V, lg, 0, 1, &b);
    n = 0;
    for (int i = 0; i < L; i++) n += b.accept[i];
    CHECK(n == 2 && b.accept[0] && b.accept[1], "bound 0.01 accepts 0, 1 (n %d)", n);
    /* Masked vocabulary (-inf logits) stays finite; NaN logits are refused. */
    for (int v = 100; v < V; v++) lg[3 * V + v] = -INFINITY;
    run_step(isa, 0, &p, L, V, lg, 0, 1, &b);
    CHECK(fabs(b.H[3] - log(100.0)) < 1e-5 && b.sampled[3] < 100, "-inf logits: H %.12g token %d", b.H[3], b.sampled[3]);
    lg[4 * V + 7] = NAN;
    dg_sampler *s;
    dg_error err = {0};
    dg_sampler_new(L, V, 1, isa, &s, &err);
    dg_step bad = {.logits = lg, .pl = b.pl, .canvas = 0, .step = 1, .sampled = b.sampled, .argmax = b.argmax,
                   .next = b.next, .accept = b.accept, .entropy = b.H};
    CHECK(dg_sampler_step(s, &p, &bad, &err) == DG_ERR_RANGE && strstr(err.msg, "position 4"), "NaN logits refused: %s", err.msg);
    dg_sampler_free(s);
    bufs_free(&b);
    free(lg);
}

static void temperatures(const cJSON *j) {
    const cJSON *t = cJSON_GetObjectItem(j, "temperatures_float64");
    int Ns[2] = {8, 48};
    for (int i = 0; i < 2; i++) {
        char key[8];
        snprintf(key, sizeof key, "N%d", Ns[i]);
        dg_gen_params p = toy_params(0, 0.4, 0.8, Ns[i], 0.1);
        const cJSON *arr = cJSON_GetObjectItem(t, key);
        CHECK(cJSON_GetArraySize(arr) == Ns[i], "temperatures %s", key);
        for (int k = 1; k <= Ns[i]; k++)
            CHECK(dg_step_temperature(&p, k) == gio_f64(cJSON_GetArrayItem(arr, k - 1)), "T(%d of %d) = %.17g", k, Ns[i],
                  dg_step_temperature(&p, k));
    }
}

static void stop_rule(const cJSON *j) {
    const cJSON *v = cJSON_GetObjectItem(j, "stop_rule_vectors");
    const cJSON *canv = cJSON_GetObjectItem(v, "argmax_canvases"), *mh = cJSON_GetObjectItem(v, "meanH");
    const cJSON *flags = cJSON_GetObjectItem(v, "expected_stop_flags");
    int n = cJSON_GetArraySize(canv), L = cJSON_GetArraySize(cJSON_GetArrayItem(canv, 0));
    for (int s = 0; s <= 2; s++) {
        char key[32];
        snprintf(key, sizeof key, "stability_threshold_%d", s);
        dg_gen_params p = toy_params(0, 0.4, 0.8, 48, 0.1);
        p.stability_threshold = s;
        p.confidence_threshold = cJSON_GetObjectItem(v, "confidence_threshold")->valuedouble;
        int32_t prev[8], cur[8], run = 0;
        for (int k = 0; k < n; k++) {
            for (int i = 0; i < L; i++) cur[i] = (int32_t)cJSON_GetArrayItem(cJSON_GetArrayItem(canv, k), i)->valuedouble;
            int stable, conf;
            int stop = dg_stop_test(&p, k ? prev : NULL, cur, L, cJSON_GetArrayItem(mh, k)->valuedouble, &run, &stable, &conf);
            int want = cJSON_IsTrue(cJSON_GetArrayItem(cJSON_GetObjectItem(flags, key), k));
            CHECK(stop == want, "stop rule s=%d step %d: %d want %d", s, k + 1, stop, want);
            memcpy(prev, cur, sizeof cur);
        }
    }
}

/* Compares one step's outputs with the golden tensors under `prefix`. A mismatch is a failure
 * unless the recorded margin of that decision is below NEAR_TIE (then it is reported). */
typedef struct margins { double sample, accept, argmax_gap; } margins;

static int compare_step(const gio_file *g, const char *prefix, int L, const bufs *b, margins m) {
    char name[160];
    int64_t n;
    int bad = 0;
    snprintf(name, sizeof name, "%s.argmax", prefix);
    int32_t *am = gio_copy(g, name, "I32", &n);
    snprintf(name, sizeof name, "%s.entropy", prefix);
    float *H = gio_copy(g, name, "F32", &n);
    snprintf(name, sizeof name, "%s.sampled", prefix);
    int32_t *sm = gio_copy(g, name, "I32", &n);
    snprintf(name, sizeof name, "%s.accept", prefix);
    uint8_t *ac = gio_copy(g, name, "U8", &n);
    snprintf(name, sizeof name, "%s.renoised", prefix);
    int32_t *rn = gio_copy(g, name, "I32", &n);
    CHECK(am && H && sm && ac && rn && n == L, "%s: golden tensors missing", prefix);
    if (!(am && H && sm && ac && rn)) bad = 1;
    for (int i = 0; !bad && i < L; i++) {
        if (fabs(b->H[i] - H[i]) > 1e-4) { CHECK(0, "%s pos %d: entropy %.9g want %.9g", prefix, i, b->H[i], H[i]); bad = 1; }
        struct { const char *what; int got, want; double margin; } d[4] = {
            {"argmax", b->argmax[i], am[i], m.argmax_gap}, {"sampled", b->sampled[i], sm[i], m.sample},
            {"accept", b->accept[i], ac[i], m.accept}, {"renoised", b->next[i], rn[i], m.accept}};
        for (int k = 0; k < 4; k++) {
            if (d[k].got == d[k].want) continue;
            if (d[k].margin < NEAR_TIE) {
                printf("near-tie: %s pos %d %s %d vs golden %d (margin %.3g) - accepted\n", prefix, i, d[k].what,
                       d[k].got, d[k].want, d[k].margin);
                near_ties_seen++;
                bad = 2;
            } else {
                CHECK(0, "%s pos %d: %s %d want %d (margin %.3g)", prefix, i, d[k].what, d[k].got, d[k].want, d[k].margin);
                bad = 1;
            }
        }
    }
    if (!bad) t_pass++;
    free(am); free(H); free(sm); free(ac); free(rn);
    return bad;
}

static void sampler_golden(const cJSON *j, dg_isa isa) {
    char path[512];
    snprintf(path, sizeof path, "%s/sampler/golden.safetensors", t_golden());
    gio_file g;
    CHECK(gio_open(&g, path), "cannot read %s", path);
    const cJSON *c;
    int n = 0;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(j, "cases")) {
        int L = (int)cJSON_GetObjectItem(c, "L")->valuedouble, V = (int)cJSON_GetObjectItem(c, "V")->valuedouble;
        double T = cJSON_GetObjectItem(c, "T")->valuedouble;
        int step = (int)cJSON_GetObjectItem(c, "step")->valuedouble;
        /* A degenerate schedule (t_min = t_max = T) gives the case's temperature at any step. */
        dg_gen_params p = toy_params(gio_u64(cJSON_GetObjectItem(c, "seed")), T, T, 48, cJSON_GetObjectItem(c, "entropy_bound")->valuedouble);
        char name[64];
        snprintf(name, sizeof name, "%s.logits", c->string);
        float *lg = gio_copy(&g, name, "F32", NULL);
        CHECK(lg != NULL, "%s missing", name);
        if (!lg) continue;
        bufs b;
        bufs_alloc(&b, L, V);
        run_step(isa, 0, &p, L, V, lg, (int)cJSON_GetObjectItem(c, "canvas")->valuedouble, step, &b);
        margins m = {cJSON_GetObjectItem(c, "min_sample_margin")->valuedouble, 1, 1};
        compare_step(&g, c->string, L, &b, m);
        const cJSON *Hs = cJSON_GetObjectItem(c, "entropy_float64");
        for (int i = 0; i < L; i++)
            CHECK(fabs(b.H[i] - gio_f64(cJSON_GetArrayItem(Hs, i))) < 2e-6, "%s pos %d: H %.12g vs float64 %.12g", c->string, i,
                  b.H[i], gio_f64(cJSON_GetArrayItem(Hs, i)));
        bufs_free(&b);
        free(lg);
        n++;
    }
    CHECK(n == 3, "sampler golden cases: %d", n);
    gio_close(&g);
}

/* Every step of every generate case of a tiny model's golden: sampler decisions, the loop's
 * bookkeeping (init canvas, input = previous renoised, stop step, committed canvas, EOS/pad). */
static void replay_model(const char *model, dg_isa isa, int in_place) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s/golden.json", t_golden(), model);
    cJSON *j = gio_load_json(path);
    CHECK(j != NULL, "cannot read %s", path);
    snprintf(path, sizeof path, "%s/%s/golden.safetensors", t_golden(), model);
    gio_file g;
    CHECK(gio_open(&g, path), "cannot read %s", path);
    if (!j || !g.st) return;
    int V = (int)cJSON_GetObjectItem(cJSON_GetObjectItem(j, "config_summary"), "vocab")->valuedouble;
    int L = (int)cJSON_GetObjectItem(cJSON_GetObjectItem(j, "config_summary"), "canvas_length")->valuedouble;
    int steps_checked = 0;
    const cJSON *cs;
    cJSON_ArrayForEach(cs, cJSON_GetObjectItem(j, "cases")) {
        if (strcmp(cJSON_GetObjectItem(cs, "kind")->valuestring, "generate")) continue;
        const char *gen = cs->string;
        dg_gen_params p;
        dg_gen_params_default(&p);
        p.seed = gio_u64(cJSON_GetObjectItem(cs, "seed"));
        p.max_denoising_steps = (int)cJSON_GetObjectItem(cs, "max_denoising_steps")->valuedouble;
        p.t_min = cJSON_GetObjectItem(cs, "t_min")->valuedouble;
        p.t_max = cJSON_GetObjectItem(cs, "t_max")->valuedouble;
        p.entropy_bound = cJSON_GetObjectItem(cs, "entropy_bound")->valuedouble;
        p.stability_threshold = (int)cJSON_GetObjectItem(cs, "stability_threshold")->valuedouble;
        p.confidence_threshold = cJSON_GetObjectItem(cs, "confidence_threshold")->valuedouble;
        bufs b;
        bufs_alloc(&b, L, V);
        int32_t *prev = malloc((size_t)L * 4), *init = malloc((size_t)L * 4);
        const cJSON *cv;
        cJSON_ArrayForEach(cv, cJSON_GetObjectItem(cs, "canvases")) {
            int c = (int)cJSON_GetObjectItem(cv, "canvas")->valuedouble;
            char pre[96], name[160];
            int64_t n;
            snprintf(name, sizeof name, "%s.c%d.init", gen, c);
            int32_t *gi = gio_copy(&g, name, "I32", &n);
            dg_rng_init_canvas(p.seed, c, L, V, init);
            CHECK(gi && !memcmp(gi, init, (size_t)L * 4), "%s: initial canvas", name);
            free(gi);
            int run = 0, stopped = 0, diverged = 0, k = 0;
            const cJSON *stj;
            cJSON_ArrayForEach(stj, cJSON_GetObjectItem(cv, "steps")) {
                k = (int)cJSON_GetObjectItem(stj, "k")->valuedouble;
                snprintf(pre, sizeof pre, "%s.c%d.s%d", gen, c, k);
                snprintf(name, sizeof name, "%s.input", pre);
                int32_t *in = gio_copy(&g, name, "I32", &n);
                /* The loop feeds step k the renoised canvas of step k - 1 (the init at k = 1). */
                if (!diverged) CHECK(in && !memcmp(in, k == 1 ? init : b.next, (size_t)L * 4), "%s: input canvas", pre);
                free(in);
                snprintf(name, sizeof name, "%s.logits", pre);
                float *lg = gio_copy(&g, name, "F32", &n);
                CHECK(lg && n == (int64_t)L * V, "%s missing", name);
                if (!lg) break;
                const cJSON *mj = cJSON_GetObjectItem(stj, "margins");
                margins m = {cJSON_GetObjectItem(mj, "sample")->valuedouble, cJSON_GetObjectItem(mj, "accept")->valuedouble,
                             cJSON_GetObjectItem(mj, "argmax_gap")->valuedouble};
                dg_step st = run_step(isa, in_place, &p, L, V, lg, c, k, &b);
                CHECK(fabs(st.T - cJSON_GetObjectItem(stj, "T")->valuedouble) < 1e-15, "%s: T", pre);
                if (compare_step(&g, pre, L, &b, m)) diverged = 1;
                int stable, conf;
                stopped = dg_stop_test(&p, k > 1 ? prev : NULL, b.argmax, L, st.mean_entropy, &run, &stable, &conf);
                double cm = cJSON_GetObjectItem(mj, "confidence")->valuedouble;
                int want = cJSON_IsTrue(cJSON_GetObjectItem(stj, "stop"));
                if (stopped != want && (cm < NEAR_TIE || diverged)) {
                    printf("near-tie: %s stop %d vs golden %d (confidence margin %.3g) - accepted\n", pre, stopped, want, cm);
                    near_ties_seen++;
                    diverged = 1;
                } else CHECK(stopped == want, "%s: stop %d want %d (meanH %.9g)", pre, stopped, want, st.mean_entropy);
                CHECK(fabs(st.mean_entropy - cJSON_GetObjectItem(stj, "meanH")->valuedouble) < 1e-5, "%s: meanH", pre);
                memcpy(prev, b.argmax, (size_t)L * 4);
                free(lg);
                steps_checked++;
            }
            CHECK(k == (int)cJSON_GetObjectItem(cv, "n_steps")->valuedouble, "%s c%d: steps", gen, c);
            /* "stopped early" means halted before step N (a halt at step N is not early). */
            CHECK((stopped && k < p.max_denoising_steps) == cJSON_IsTrue(cJSON_GetObjectItem(cv, "stopped_early")) || diverged,
                  "%s c%d: stopped_early", gen, c);
            /* Commit: the argmax of the last step, pads after the first EOS. */
            int eos = -1;
            for (int i = 0; i < L && eos < 0; i++)
                for (int e = 0; e < p.n_eos; e++)
                    if (prev[i] == p.eos_ids[e]) eos = i;
            if (eos >= 0)
                for (int i = eos + 1; i < L; i++) prev[i] = p.pad_id;
            CHECK((eos >= 0) == cJSON_IsTrue(cJSON_GetObjectItem(cv, "eos_hit")), "%s c%d: eos_hit", gen, c);
            snprintf(name, sizeof name, "%s.c%d.committed", gen, c);
            int32_t *cm = gio_copy(&g, name, "I32", &n);
            if (!diverged) CHECK(cm && !memcmp(cm, prev, (size_t)L * 4), "%s: committed canvas", name);
            free(cm);
        }
        free(prev);
        free(init);
        bufs_free(&b);
    }
    printf("%s (isa %s, %s): %d steps replayed\n", model, dg_isa_name(isa), in_place ? "in place" : "separate pl", steps_checked);
    CHECK(steps_checked > 0, "%s: no steps", model);
    gio_close(&g);
    cJSON_Delete(j);
}

static void gen_config(void) {
    dg_gen_params p;
    dg_error err = {0};
    char path[512];
    snprintf(path, sizeof path, "%s/tiny-a/generation_config.json", t_golden());
    char *text = gio_read_all(path, NULL);
    CHECK(text && dg_gen_config_parse(text, &p, &err) == DG_OK, "parse %s: %s", path, err.msg);
    CHECK(p.max_new_tokens == 16 && p.max_denoising_steps == 48 && p.t_min == 0.4 && p.t_max == 0.8 &&
          p.entropy_bound == 0.1 && p.stability_threshold == 1 && p.confidence_threshold == 0.005 && p.pad_id == 0 &&
          p.n_eos == 3 && p.eos_ids[0] == 1 && p.eos_ids[1] == 106 && p.eos_ids[2] == 50, "tiny-a generation config");
    free(text);
    CHECK(dg_gen_config_parse("{}", &p, &err) == DG_OK && p.max_new_tokens == 256 && p.n_eos == 3, "defaults");
    CHECK(dg_gen_config_parse("{\"eos_token_id\": 7}", &p, &err) == DG_OK && p.n_eos == 1 && p.eos_ids[0] == 7, "scalar eos");
    CHECK(dg_gen_config_parse("{\"t_min\": 0.9}", &p, &err) == DG_ERR_ARG && strstr(err.msg, "t_max must be > t_min"), "t order: %s", err.msg);
    CHECK(dg_gen_config_parse("{\"max_denoising_steps\": 2.5}", &p, &err) == DG_ERR_FORMAT, "non-integer N");
    CHECK(dg_gen_config_parse("{\"sampler_config\": {\"entropy_bound\": 0}}", &p, &err) == DG_ERR_ARG, "bound 0");
    CHECK(dg_gen_config_parse("{\"confidence_threshold\": 0}", &p, &err) == DG_ERR_ARG, "confidence 0");
    CHECK(dg_gen_config_parse("{\"stability_threshold\": -1}", &p, &err) == DG_ERR_ARG, "stability -1");
    CHECK(dg_gen_config_parse("{\"stability_threshold\": 0}", &p, &err) == DG_OK, "stability 0 allowed");
    CHECK(dg_gen_config_parse("{\"max_new_tokens\": 0}", &p, &err) == DG_ERR_ARG, "max_new_tokens 0");
    CHECK(dg_gen_config_parse("{\"sampler_config\": {\"_cls_name\": \"Other\"}}", &p, &err) == DG_ERR_UNSUPPORTED, "sampler class");
    CHECK(dg_gen_config_parse("[1", &p, &err) == DG_ERR_FORMAT, "bad JSON");
}

int main(void) {
    n_isas = t_isas(isas);
    char path[512];
    snprintf(path, sizeof path, "%s/sampler/golden.json", t_golden());
    cJSON *j = gio_load_json(path);
    CHECK(j != NULL, "cannot read %s", path);
    gen_config();
    if (j) { temperatures(j); stop_rule(j); }
    for (int i = 0; i < n_isas; i++)
        for (int in_place = 0; in_place < 2; in_place++) {
            toy_a(isas[i], in_place);
            toy_b(isas[i], in_place);
        }
    for (int i = 0; i < n_isas; i++) {
        hf_sanity(isas[i]);
        if (j) sampler_golden(j, isas[i]);
        const char *models[3] = {"tiny-a", "tiny-b", "tiny-a-mlx4"};
        for (int m = 0; m < 3; m++) replay_model(models[m], isas[i], i & 1);
    }
    cJSON_Delete(j);
    printf("near-ties accepted: %d\n", near_ties_seen);
    return t_done("test_sampler");
}
