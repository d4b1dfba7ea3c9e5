/* dg_cache_fill_synthetic (benchmarks' long contexts): it appends to every layer's cache like
 * encoding would (full layers keep all, sliding ones the last window - 1, oldest dropped), with
 * K at the RMS of the k_norm weights and V at RMS 1; a decoder step after it runs and is finite;
 * too many positions are refused. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "model/context.h"
#include "model/synth.h"
#include "t.h"

int main(void) {
    (void)t_golden;
    char dir[] = "/tmp/dg_cfill_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    dg_synth_params sp = {.preset = "tiny", .seed = 3, .out = {.dir = dir, .n_threads = 2}};
    dg_error err = {0};
    CHECK(!dg_synth_write(&sp, NULL, &err), "%s", err.msg);
    dg_model *m = NULL;
    dg_ctx *c = NULL;
    CHECK(!dg_model_load(dir, NULL, &m, &err), "%s", err.msg);
    dg_ctx_params cp = {.n_threads = 2, .max_tokens = 80};
    CHECK(m && !dg_ctx_new(m, &cp, &c, &err), "%s", err.msg);
    if (!c) return t_done("test_cache_fill");
    const int W = m->cfg.window, L = m->cfg.canvas, V = m->cfg.vocab;
    int sl = -1, fl = -1;
    for (int li = 0; li < m->n_layers; li++) *(m->layers[li].full ? &fl : &sl) = li;
    CHECK(sl >= 0 && fl >= 0, "tiny preset has both layer kinds");

    CHECK(!dg_cache_fill_synthetic(c, 0, 50, 9, &err), "%s", err.msg);
    CHECK(dg_cache_len(c, 0) == 50, "len %d", dg_cache_len(c, 0));
    dg_kv *ks = &c->seqs[0].kv[sl], *kf = &c->seqs[0].kv[fl];
    CHECK(kf->n == 50 && ks->n == W - 1, "full layer holds %d, sliding %d (window %d)", kf->n, ks->n, W);
    const dg_layer *F = &m->layers[fl];
    double kk = 0, vv = 0, w = 0;
    for (int i = 0; i < kf->n * F->D; i++) { kk += (double)kf->k[i] * kf->k[i]; vv += (double)kf->v[i] * kf->v[i]; }
    for (int d = 0; d < F->D; d++) w += (double)F->k_norm[d] * F->k_norm[d];
    double krms = sqrt(kk / (kf->n * F->D)), vrms = sqrt(vv / (kf->n * F->D)), want = sqrt(w / F->D);
    CHECK(fabs(krms / want - 1) < 0.05 && fabs(vrms - 1) < 0.05, "K RMS %.4f (want %.4f), V RMS %.4f", krms, want, vrms);

    /* 3 more: the sliding layer drops its 3 oldest and keeps the rest in order */
    const dg_layer *S = &m->layers[sl];
    size_t row = (size_t)S->D;
    float *prev = malloc((size_t)(W - 1) * row * sizeof *prev);
    memcpy(prev, ks->k, (size_t)(W - 1) * row * sizeof *prev);
    CHECK(!dg_cache_fill_synthetic(c, 0, 3, 9, &err), "%s", err.msg);
    CHECK(dg_cache_len(c, 0) == 53 && kf->n == 53 && ks->n == W - 1, "after 3 more: len %d, full %d, sliding %d", dg_cache_len(c, 0), kf->n, ks->n);
    CHECK(!memcmp(ks->k, prev + 3 * row, (size_t)(W - 4) * row * sizeof *prev), "sliding cache did not shift by 3");
    CHECK(memcmp(ks->k + (size_t)(W - 4) * row, prev + (size_t)(W - 4) * row, 3 * row * sizeof *prev), "new entries equal old ones");
    free(prev);

    CHECK(dg_cache_fill_synthetic(c, 0, 40, 9, &err) == DG_ERR_RANGE, "overflow accepted");
    CHECK(dg_cache_fill_synthetic(c, 5, 1, 9, &err) == DG_ERR_ARG, "bad sequence accepted");

    int32_t *canvas = calloc((size_t)L, sizeof *canvas);
    float *logits = malloc((size_t)L * V * sizeof *logits);
    for (int i = 0; i < L; i++) canvas[i] = (i * 11 + 1) % V;
    int seq = 0, finite = 1;
    const int32_t *cv = canvas;
    float *sc = NULL;
    CHECK(!dg_decode_step(c, 1, &seq, &cv, &sc, &logits, &err), "%s", err.msg);
    for (int i = 0; i < L * V; i++) finite &= isfinite(logits[i]);
    CHECK(finite, "non-finite logits after a synthetic cache");
    free(canvas);
    free(logits);
    dg_ctx_free(c);
    dg_model_free(m);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return t_done("test_cache_fill");
}
