/* Tokenizer benchmark (not a test): load time, single-thread encode MB/s over the corpus.
 * usage: bench_tokenizer TOKENIZER_DIR CORPUS.bin [REPEATS] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "dgemma.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s TOKENIZER_DIR CORPUS.bin [REPEATS]\n", argv[0]); return 2; }
    int reps = argc > 3 ? atoi(argv[3]) : 3;
    dg_error e = {0};
    dg_tokenizer *t = NULL;
    double t0 = now();
    if (dg_tokenizer_load(argv[1], &t, &e)) { fprintf(stderr, "bench: %s\n", e.msg); return 1; }
    double load = now() - t0;
    FILE *f = fopen(argv[2], "rb");
    if (!f) { fprintf(stderr, "bench: cannot open %s\n", argv[2]); return 1; }
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    rewind(f);
    unsigned char *c = malloc(n);
    if (!c || fread(c, 1, n, f) != n) { fprintf(stderr, "bench: read failed\n"); return 1; }
    fclose(f);
    double best = 1e30;
    size_t bytes = 0, toks = 0;
    for (int r = 0; r < reps; r++) {
        bytes = toks = 0;
        t0 = now();
        for (size_t o = 0; o + 4 <= n;) {
            size_t len = (size_t)c[o] | (size_t)c[o + 1] << 8 | (size_t)c[o + 2] << 16 | (size_t)c[o + 3] << 24;
            int32_t *ids;
            size_t k;
            if (dg_tokenize(t, (const char *)c + o + 4, len, 0, &ids, &k, &e)) { fprintf(stderr, "bench: %s\n", e.msg); return 1; }
            free(ids);
            bytes += len;
            toks += k;
            o += 4 + len;
        }
        double dt = now() - t0;
        if (dt < best) best = dt;
    }
    printf("c: load %.3f s, encode %zu bytes (%zu tokens) in %.3f s = %.2f MB/s\n", load, bytes, toks, best, (double)bytes / best / 1e6);
    free(c);
    dg_tokenizer_free(t);
    return 0;
}
