/* Helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c, `make fuzz`). A target aborts
 * (FUZZ_ASSERT) when an invariant of the code under test breaks; crashes, leaks and undefined
 * behaviour are caught by ASan/UBSan. */
#ifndef DG_FUZZ_H
#define DG_FUZZ_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "dgemma.h"

#define FUZZ_ASSERT(c, ...) do { if (!(c)) { fprintf(stderr, "fuzz: %s:%d: %s: ", __FILE__, __LINE__, #c); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); abort(); } } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* The input as a file the loaders can open by path (a memfd: no disk traffic). */
static inline const char *fuzz_file(const uint8_t *d, size_t n) {
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("fuzz", 0);
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) || pwrite(fd, d, n, 0) != (ssize_t)n) abort();
    return path;
}

/* The input as a NUL-terminated string (a fresh copy; free it). */
static inline char *fuzz_str(const uint8_t *d, size_t n) {
    char *s = malloc(n + 1);
    memcpy(s, d, n);
    s[n] = 0;
    return s;
}

/* The Gemma 4 tokenizer fixture (tools/tokenizer_fixture.sh), loaded once. */
static inline dg_tokenizer *fuzz_tokenizer(void) {
    static dg_tokenizer *t;
    if (!t) {
        const char *d = getenv("DG_TOKENIZER_FIXTURE");
        char p[1024];
        snprintf(p, sizeof p, "%s/tokenizer.json", d ? d : "models/tokenizer");
        dg_error e = {0};
        if (dg_tokenizer_load(p, &t, &e)) { fprintf(stderr, "fuzz: %s (run tools/tokenizer_fixture.sh)\n", e.msg); exit(1); }
    }
    return t;
}

#endif
