/* Sampler cost for one [L, V] block (default 256 x 262144), per kernel and thread count.
 * build: make build/libdgemma.a && cc -O2 -Iinclude -Isrc tools/bench_sampler.c build/libdgemma.a \
 *          $(pkg-config --libs libcjson) -lpthread -lm -o build/bench_sampler
 * usage: build/bench_sampler [L V [reps [threads...]]]   (default threads: 1 2) */
#include "dgemma.h"
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int L = argc > 2 ? atoi(argv[1]) : 256, V = argc > 2 ? atoi(argv[2]) : 262144;
    int reps = argc > 3 ? atoi(argv[3]) : 5;
    int threads[8] = {1, 2}, nt = 2;
    if (argc > 4) for (nt = 0; nt < 8 && 4 + nt < argc; nt++) threads[nt] = atoi(argv[4 + nt]);
    size_t n = (size_t)L * V;
    float *logits = malloc(n * sizeof *logits), *pl = malloc(n * sizeof *pl);
    int32_t *a = malloc(L * 4), *b = malloc(L * 4), *c = malloc(L * 4);
    uint8_t *acc = malloc(L);
    double *H = malloc(L * 8);
    if (!logits || !pl || !a || !b || !c || !acc || !H) { fprintf(stderr, "out of memory\n"); return 1; }
    /* Softcapped-looking logits: 30 * tanh(noise), a few peaked rows. */
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        logits[i] = 30.0f * tanhf(((float)(x >> 40) / (float)(1 << 24) - 0.5f) * 0.6f);
    }
    for (int r = 0; r < L; r += 3) logits[(size_t)r * V + (r * 7919) % V] = 29.0f;
    dg_gen_params p;
    dg_gen_params_default(&p);
    printf("sampler step, L=%d V=%d (%.0f MB of logits), median of %d\n", L, V, n * 4 / 1e6, reps);
    for (int i = DG_ISA_C; i < DG_ISA_COUNT; i++)
        for (int t = 0; t < nt && dg_isa_available((dg_isa)i); t++) {
            dg_sampler *s;
            dg_error err;
            if (dg_sampler_new(L, V, threads[t], (dg_isa)i, &s, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
            double best[64], sum = 0;
            int R = reps < 64 ? reps : 64;
            for (int r = 0; r < R; r++) {
                dg_step st = {.logits = logits, .pl = pl, .canvas = 0, .step = 1 + r % 48, .sampled = a, .argmax = b,
                              .next = c, .accept = acc, .entropy = H};
                double t0 = now();
                if (dg_sampler_step(s, &p, &st, &err)) { fprintf(stderr, "%s\n", err.msg); return 1; }
                best[r] = now() - t0;
                sum += st.mean_entropy;
            }
            for (int u = 0; u < R; u++)         /* insertion sort for the median */
                for (int v = u; v > 0 && best[v] < best[v - 1]; v--) { double tmp = best[v]; best[v] = best[v - 1]; best[v - 1] = tmp; }
            printf("  %-5s threads %d: %8.1f ms/step  (%.2f GB/s of logits; mean H %.3f)\n", dg_isa_name((dg_isa)i), threads[t],
                   best[R / 2] * 1e3, n * 4 / best[R / 2] / 1e9, sum / R);
            dg_sampler_free(s);
        }
    free(logits); free(pl); free(a); free(b); free(c); free(acc); free(H);
    return 0;
}
