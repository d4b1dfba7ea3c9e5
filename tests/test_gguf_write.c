/* Writing GGUF: the block quantizers' error bounds (quantize, then the exact dequantizer), fp16
 * rounding, and `quantize --recipe gguf-*` on tiny-a: every tensor decodes to its bf16 source
 * within its type's bound, and the key names and types, tensor names and order
 * equal those of the llama.cpp converter's file for the same layout (gguf-g-q8_0: tiny-g has
 * tiny-a's layer pattern), and Q8_0 blocks are llama-quantize's bytes. With the tokenizer fixture, the tokenizer.* key/values written from
 * tokenizer.json are byte for byte the converter's (tokenizer.gguf.gz). */
#include <math.h>
#include <string.h>
#include <unistd.h>
#include "core/ggml_type.h"
#include "core/numeric.h"
#include "dgemma.h"
#include "format/ggml_quant.h"
#include "format/gguf.h"
#include "format/weights.h"
#include "kernels/ggml_dequant.h"
#include "t.h"
#include "tok_fixture.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static float frand(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return (float)((rng >> 11) * 0x1.0p-53) * 2.0f - 1.0f; }

/* Bound on |error| / max|x| of a 256-weight stretch (see ggml_quant.c: every step rounded up,
 * no clipping, error at most half the weight's step; the step exceeds range/levels by at most
 * one unit of the 6-bit or int8 scale multiplier and fp16 rounding; Q8_0 is ggml's scheme). */
static double bound(int type) {
    switch (type) {
    case DG_GGML_Q8_0: return 0.5 / 127 + 1.0 / 2048 + 1e-6;   /* d rounded to nearest fp16: the max may clip by 2^-11 */
    case DG_GGML_Q5_0: return 0.5 / 15 * 1.002;
    case DG_GGML_Q6_K: return 0.5 * (1.0 / 31 + 1.0 / (31 * 127)) * 1.01;
    case DG_GGML_Q5_K: return 0.5 * (2.0 / 31) * (1 + 1.0 / 63) * 1.01 + 2.0 / 63 * 0.002;
    default: return 0.5 * (2.0 / 15) * (1 + 1.0 / 63) * 1.01 + 2.0 / 63 * 0.002;   /* Q4_K */
    }
}

static void test_quantizers(void) {
    static const int types[] = {DG_GGML_Q8_0, DG_GGML_Q5_0, DG_GGML_Q4_K, DG_GGML_Q5_K, DG_GGML_Q6_K};
    enum { N = 256 * 64 };
    static float x[N], y[N];
    static uint8_t q[N * 2];
    for (size_t ti = 0; ti < sizeof types / sizeof *types; ti++) {
        int t = types[ti];
        for (int pass = 0; pass < 3; pass++) {
            for (int i = 0; i < N; i++) {
                x[i] = frand() * (pass == 1 ? 1e-2f : 1.0f);
                if (pass == 2 && i % 97 == 0) x[i] *= 40.0f;   /* outliers */
                if (pass == 2 && i % 256 < 32) x[i] = fabsf(x[i]);   /* a sub-block without negatives */
            }
            dg_ggml_quantize_row(t, x, N, q);
            dg_ggml_expand(t, q, 0, N, y);
            double worst = 0;
            for (int b = 0; b < N / 256; b++) {
                double amax = 0, e = 0;
                for (int j = 0; j < 256; j++) amax = fmax(amax, fabs(x[256 * b + j]));
                for (int j = 0; j < 256; j++) e = fmax(e, fabs((double)x[256 * b + j] - y[256 * b + j]));
                worst = fmax(worst, e / amax);
            }
            CHECK(worst <= bound(t), "%s pass %d: error %.3g of max|x| > bound %.3g", dg_ggml_name(t), pass, worst, bound(t));
        }
    }
}

static void test_f16(void) {
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        if ((h & 0x7c00) == 0x7c00) continue;   /* inf / NaN */
        if (dg_f32_to_f16(dg_f16_to_f32((uint16_t)h)) != h) bad++;
    }
    CHECK(bad == 0, "%d fp16 values do not round-trip", bad);
    CHECK(dg_f32_to_f16(1.0f + 0x1p-11f) == 0x3c00 && dg_f32_to_f16(1.0f + 0x1.8p-10f) == 0x3c02, "ties to even");
    CHECK(dg_f32_to_f16(0x1p-25f) == 0 && dg_f32_to_f16(0x1.8p-25f) == 1 && dg_f32_to_f16(1e6f) == 0x7bff, "tiny / huge");
}

/* Every tensor of the written file against its bf16 source: F32 exact, blocks within the
 * type's bound per row (row max |x| >= block max |x|). */
static void compare_weights(const char *src_dir, const char *gguf) {
    dg_weights *ws = NULL, *wg = NULL;
    dg_error e = {0};
    if (dg_weights_open(src_dir, &ws, &e) || dg_weights_open(gguf, &wg, &e)) { CHECK(0, "%s", e.msg); goto done; }
    int matched = 0, bad = 0;
    for (int i = 0; i < dg_weights_count(ws); i++) {
        const dg_tensor *s = dg_weights_at(ws, i), *g = dg_weights_find(wg, s->name);
        if (!g) continue;
        matched++;
        int64_t K = s->shape[s->ndim - 1], rows = dg_tensor_numel(s) / K;
        size_t rb = (size_t)(K / dg_ggml_block(g->gtype)) * dg_ggml_block_bytes(g->gtype);
        float *x = malloc((size_t)K * sizeof *x), *y = malloc((size_t)K * sizeof *y);
        int same_shape = g->ndim == s->ndim && !memcmp(g->shape, s->shape, (size_t)s->ndim * sizeof *s->shape);
        for (int64_t r = 0; same_shape && r < rows; r++) {
            for (int64_t j = 0; j < K; j++) {
                size_t at = (size_t)(r * K + j) * 2;
                x[j] = s->dtype == DG_DT_BF16 ? dg_bf16_to_f32(dg_ld16(s->data + at)) : NAN;
            }
            dg_ggml_expand(g->gtype, g->data + (size_t)r * rb, 0, (int)K, y);
            double amax = 0, err = 0;
            for (int64_t j = 0; j < K; j++) { amax = fmax(amax, fabs(x[j])); err = fmax(err, fabs((double)x[j] - y[j])); }
            if (g->gtype == DG_GGML_F32 ? err != 0 : err > bound(g->gtype) * amax) { bad++; break; }
        }
        CHECK(same_shape, "%s: shape differs", s->name);
        free(x);
        free(y);
    }
    CHECK(matched >= 140 && bad == 0, "%s: %d tensors compared, %d beyond their type's bound", gguf, matched, bad);
done:
    dg_weights_close(ws);
    dg_weights_close(wg);
}

/* ggml's Q8_0 reproduces itself: requantizing the dequantized weights of the converter's file
 * must give its bytes back, so dg_ggml_quantize_row(Q8_0) is byte-compatible with llama-quantize. */
static void requantize_reference(void) {
    char p[1024];
    snprintf(p, sizeof p, "%s/gguf-g-q8_0/model.gguf", t_golden());
    dg_gguf *f = NULL;
    dg_error e = {0};
    if (dg_gguf_open(p, &f, &e)) { CHECK(0, "%s", e.msg); return; }
    int n = 0, same = 0;
    for (int i = 0; i < dg_gguf_tensor_count(f); i++) {
        const dg_tensor *t = dg_gguf_tensor_at(f, i);
        if (t->gtype != DG_GGML_Q8_0) continue;
        int64_t numel = dg_tensor_numel(t);
        float *x = malloc((size_t)numel * sizeof *x);
        uint8_t *q = malloc(t->nbytes);
        dg_ggml_expand(DG_GGML_Q8_0, t->data, 0, (int)numel, x);
        dg_ggml_quantize_row(DG_GGML_Q8_0, x, numel, q);
        n++;
        same += !memcmp(q, t->data, t->nbytes);
        free(x);
        free(q);
    }
    CHECK(n == 57 && same == n, "Q8_0: %d of %d tensors requantize to the converter's bytes", same, n);
    dg_gguf_close(f);
}

static int run(const char *cmd) { return system(cmd); }

/* Key names and types, and the tensor names in order, of a GGUF file as one string. */
static char *layout(const char *path, int with_tokenizer) {
    dg_gguf *f = NULL;
    dg_error e = {0};
    if (dg_gguf_open(path, &f, &e)) { CHECK(0, "%s: %s", path, e.msg); return NULL; }
    size_t cap = 1 << 16, n = 0;
    char *s = calloc(1, cap);
    for (int i = 0; i < dg_gguf_kv_count(f); i++) {
        const dg_gguf_kv *kv = dg_gguf_kv_at(f, i);
        if (!strcmp(kv->key, "general.size_label") || (!with_tokenizer && !strncmp(kv->key, "tokenizer.", 10))) continue;
        n += (size_t)snprintf(s + n, cap - n, "%s:%d:%d\n", kv->key, kv->type, kv->elem);
    }
    dg_gguf_close(f);
    return s;
}

int main(void) {
    test_f16();
    test_quantizers();
    char dir[] = "/tmp/dg_ggw_XXXXXX", cmd[4096], p8[1100], p4[1100], ref[1100];
    if (!mkdtemp(dir)) { CHECK(0, "mkdtemp"); return t_done("test_gguf_write"); }
    const char *dg = getenv("DG") ? getenv("DG") : "build/dgemma";
    snprintf(p8, sizeof p8, "%s/a-q8.gguf", dir);
    snprintf(p4, sizeof p4, "%s/a-q4km.gguf", dir);
    snprintf(cmd, sizeof cmd, "%s quantize %s/tiny-a %s --recipe gguf-q8_0 2>/dev/null && %s quantize %s/tiny-a %s --recipe gguf-q4_k_m 2>/dev/null",
             dg, t_golden(), p8, dg, t_golden(), p4);
    CHECK(run(cmd) == 0, "%s failed", cmd);
    char src[1100];
    snprintf(src, sizeof src, "%s/tiny-a", t_golden());
    compare_weights(src, p8);
    compare_weights(src, p4);
    requantize_reference();
    snprintf(ref, sizeof ref, "%s/gguf-g-q8_0/model.gguf", t_golden());
    char *a = layout(p8, 0), *b = layout(ref, 0);
    CHECK(a && b && !strcmp(a, b), "key names/types differ from the converter's:\n%s---\n%s", a ? a : "", b ? b : "");
    free(a); free(b);
    dg_gguf *fa = NULL, *fb = NULL;
    dg_error e = {0};
    if (!dg_gguf_open(p8, &fa, &e) && !dg_gguf_open(ref, &fb, &e)) {
        int same = dg_gguf_tensor_count(fa) == dg_gguf_tensor_count(fb);
        for (int i = 0; same && i < dg_gguf_tensor_count(fa); i++) same = !strcmp(dg_gguf_tensor_at(fa, i)->name, dg_gguf_tensor_at(fb, i)->name);
        CHECK(same, "tensor names differ from the converter's");
    }
    dg_gguf_close(fa);
    dg_gguf_close(fb);
    if (tok_fixture_present("test_gguf_write")) {
        snprintf(cmd, sizeof cmd, "mkdir -p %s/t && cp %s/tiny-a/*.json %s/tiny-a/model.safetensors %s/tokenizer.json %s/t/ && %s quantize %s/t %s/t.gguf --recipe gguf-q8_0 2>/dev/null"
                 " && gzip -dc %s/gguf-t-q8_0/tokenizer.gguf.gz > %s/ref.gguf",
                 dir, t_golden(), t_golden(), tok_fixture_dir(), dir, dg, dir, dir, t_golden(), dir);
        CHECK(run(cmd) == 0, "%s failed", cmd);
        char pt[1100], pr[1100];
        snprintf(pt, sizeof pt, "%s/t.gguf", dir);
        snprintf(pr, sizeof pr, "%s/ref.gguf", dir);
        dg_gguf *ft = NULL, *fr = NULL;
        if (!dg_gguf_open(pt, &ft, &e) && !dg_gguf_open(pr, &fr, &e)) {
            int keys = 0, same = 0;
            for (int i = 0; i < dg_gguf_kv_count(fr); i++) {
                const dg_gguf_kv *r = dg_gguf_kv_at(fr, i), *t = dg_gguf_find_kv(ft, r->key);
                if (strncmp(r->key, "tokenizer.", 10)) continue;
                keys++;
                same += t && t->type == r->type && t->elem == r->elem && t->count == r->count;
                if (t && t->elem == DG_GV_STRING) {
                    const uint8_t *x = t->data, *y = r->data;
                    for (uint64_t k = 0; k < t->count; k++) {
                        size_t lx, ly;
                        const char *sx = dg_gguf_arr_next_str(&x, &lx), *sy = dg_gguf_arr_next_str(&y, &ly);
                        if (lx != ly || memcmp(sx, sy, lx)) { same--; break; }
                    }
                } else if (t && t->count == r->count) {
                    size_t es = t->elem == DG_GV_BOOL || t->elem == DG_GV_U8 ? 1 : 4;
                    if (memcmp(t->data, r->data, (size_t)t->count * es)) same--;
                }
            }
            CHECK(keys == 13 && same == keys, "tokenizer keys: %d of %d identical to the converter's", same, keys);
        } else CHECK(0, "%s", e.msg);
        dg_gguf_close(ft);
        dg_gguf_close(fr);
    }
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    run(cmd);
    return t_done("test_gguf_write");
}
