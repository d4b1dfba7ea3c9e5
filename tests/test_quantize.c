/* MLX affine quantization (src/format/mlx_quant.c) against the loader's reader
 * (dg_mat_row_range in src/kernels/expand.c):
 *  - pack/unpack: random codes packed for every bit width read back exactly;
 *  - error bound: for bits 2..8 and groups 16..128, every dequantized element satisfies
 *        |w − deq| ≤ s/2 · (1 + 2^-12) + 2^-22 · (|w| + |b| + n·s)
 *    where s, b are the STORED bf16 scale and bias of its group and n = 2^bits − 1.
 *    s/2 is the rounding-to-nearest-code bound (the stored range covers the group);
 *    the s·2^-12 term covers fp32 error in choosing the code ((w − b)·(1/s), ≤ a few ulps of
 *    a value ≤ n ≤ 255), the 2^-22 term the fp32 rounding of s·q + b at dequantization;
 *  - directed bf16 rounding against brute force. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core/numeric.h"
#include "format/mlx_quant.h"
#include "kernels/gemm.h"
#include "t.h"
#include "dequant_check.h"
#include "model/quantize.h"
#include <sys/stat.h>
#include <unistd.h>

static uint64_t rng_state = 0x1234567;
static uint64_t rnd(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static float urand(void) { return (float)((rnd() >> 11) * (1.0 / 9007199254740992.0)); }

static void test_pack(void) {
    const int bitsv[] = {2, 3, 4, 5, 6, 8};
    for (int bi = 0; bi < 6; bi++) {
        int bits = bitsv[bi], K = 256, group = 32;
        uint8_t codes[256], packed[256];
        uint16_t sc[8], bs[8];
        for (int j = 0; j < K; j++) codes[j] = (uint8_t)(rnd() & ((1u << bits) - 1));
        dg_affine_pack(codes, K, bits, packed);
        for (int g = 0; g < 8; g++) { sc[g] = dg_f32_to_bf16(1.0f); bs[g] = 0; }
        dg_mat m = {.kind = DG_W_AFFINE, .rows = 1, .cols = K, .w = packed, .w_stride = dg_affine_row_bytes(K, bits),
                    .scales = (const uint8_t *)sc, .biases = (const uint8_t *)bs, .sb_stride = 16, .bits = bits, .group = group};
        float out[256];
        int bad = 0;
        dg_mat_row(&m, 0, out);
        for (int j = 0; j < K; j++) bad += out[j] != (float)codes[j];
        /* unaligned sub-ranges too (the reader's fast paths start on odd columns) */
        for (int c0 = 1; c0 < 40; c0 += 3) {
            dg_mat_row_range(&m, 0, c0, 37, out);
            for (int j = 0; j < 37; j++) bad += out[j] != (float)codes[c0 + j];
        }
        CHECK(!bad, "bits %d: %d codes read back wrong", bits, bad);
    }
}

/* Values of one test row: a mix of scales, offsets, constant and one-signed groups. */
static void fill_row(float *w, int K, int kind) {
    for (int j = 0; j < K; j++) {
        float v;
        switch (kind) {
        case 0: v = (urand() * 2 - 1) * 0.05f; break;
        case 1: v = (urand() * 2 - 1) * 300.0f; break;
        case 2: v = -3.0f - urand() * 1e-3f; break;            /* narrow negative band */
        case 3: v = 0.25f; break;                                 /* constant */
        case 4: v = (j % 7 == 0) ? 5.0f : (urand() - 0.5f) * 1e-4f; break;   /* outliers */
        default: v = 1e-30f * (urand() - 0.5f); break;            /* tiny */
        }
        w[j] = dg_bf16_round(v);
    }
}

static void test_bound(void) {
    const int bitsv[] = {2, 3, 4, 5, 6, 8}, groups[] = {16, 32, 64, 128};
    enum { K = 512, R = 6 };
    static float w[R * K], deq[K];
    static uint8_t packed[R * K];
    static uint16_t sc[R * K / 16], bs[R * K / 16];
    for (int bi = 0; bi < 6; bi++)
        for (int gi = 0; gi < 4; gi++) {
            int bits = bitsv[bi], g = groups[gi];
            CHECK(dg_affine_ok(K, bits, g), "ok(%d, %d, %d)", K, bits, g);
            for (int r = 0; r < R; r++) fill_row(w + r * K, K, r);
            dg_affine_quantize(w, R, K, bits, g, packed, sc, bs);
            dg_mat m = {.kind = DG_W_AFFINE, .rows = R, .cols = K, .w = packed, .w_stride = dg_affine_row_bytes(K, bits),
                        .scales = (const uint8_t *)sc, .biases = (const uint8_t *)bs, .sb_stride = (size_t)(K / g) * 2,
                        .bits = bits, .group = g};
            double n = (1 << bits) - 1, worst = 0;
            int bad = 0, neg = 0;
            for (int r = 0; r < R; r++) {
                dg_mat_row(&m, r, deq);
                for (int j = 0; j < K; j++) {
                    double s = dg_bf16_to_f32(sc[r * (K / g) + j / g]), b = dg_bf16_to_f32(bs[r * (K / g) + j / g]);
                    double x = w[r * K + j], e = fabs(x - deq[j]);
                    double bound = s / 2 * (1 + ldexp(1, -12)) + ldexp(1, -22) * (fabs(x) + fabs(b) + n * s);
                    if (s < 0) neg++;
                    if (!(e <= bound)) { if (bad++ < 3) fprintf(stderr, "bits %d g %d row %d col %d: w %g deq %g s %g b %g\n", bits, g, r, j, x, deq[j], s, b); }
                    if (s > 0 && e / s > worst) worst = e / s;
                }
            }
            CHECK(!bad && !neg, "bits %d group %d: %d elements past the bound, %d negative scales", bits, g, bad, neg);
            CHECK(worst <= 0.5 + 1e-3, "bits %d group %d: worst error %.6f scales", bits, g, worst);
            /* the constant row dequantizes exactly */
            dg_mat_row(&m, 3, deq);
            int exact = 1;
            for (int j = 0; j < K; j++) exact &= deq[j] == 0.25f;
            CHECK(exact, "bits %d group %d: constant row not exact", bits, g);
        }
    CHECK(!dg_affine_ok(48, 4, 64) && !dg_affine_ok(48, 3, 16) && !dg_affine_ok(64, 7, 16) && dg_affine_ok(48, 4, 16),
          "dg_affine_ok rejects misfits");
}

static void test_directed(void) {
    int bad = 0;
    for (int i = 0; i < 200000; i++) {
        uint32_t u = (uint32_t)rnd();
        float x;
        memcpy(&x, &u, 4);
        if (!isfinite(x) || fabsf(x) > 1e38f) continue;
        float d = dg_bf16_to_f32(dg_bf16_down(x)), up = dg_bf16_to_f32(dg_bf16_up(x));
        float nearest = dg_bf16_round(x);
        /* d ≤ x ≤ up, both within one bf16 step, and one of them is the nearest */
        if (!(d <= x && x <= up && (d == nearest || up == nearest))) bad++;
        if (d != up && dg_f32_to_bf16(up) - dg_f32_to_bf16(d) != 1 && dg_f32_to_bf16(d) - dg_f32_to_bf16(up) != 1) bad++;
    }
    CHECK(!bad, "%d directed roundings wrong", bad);
}

/* dg_quantize_checkpoint on tiny-a: every quantized module within half a scale of the input. */
static void test_checkpoint(void) {
    char dir[] = "/tmp/dg_quant_XXXXXX", in[512], cmd[600];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(in, sizeof in, "%s/tiny-a", t_golden());
    const dg_recipe rs[2] = {DG_RECIPE_MLX4, DG_RECIPE_MLX8};
    for (int i = 0; i < 2; i++) {
        dg_quantize_params p = {.in_dir = in, .recipe = rs[i], .out = {.dir = dir, .n_threads = 2}};
        dg_quantize_result r;
        dg_error err = {0};
        CHECK(!dg_quantize_checkpoint(&p, &r, &err), "%s", err.msg);
        CHECK(r.quantized == 63 && r.tensors_in == 143, "%d of %d tensors quantized", r.quantized, r.tensors_in);
        check_dequant(in, dir, 63);
    }
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

int main(void) {
    test_pack();
    test_bound();
    test_directed();
    test_checkpoint();
    return t_done("test_quantize");
}
