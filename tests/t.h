/* Minimal test harness: CHECK records failures; t_done() prints a summary and sets the exit code. */
#ifndef DG_TESTS_T_H
#define DG_TESTS_T_H
#include <stdio.h>
#include <stdlib.h>

static int t_fail, t_pass;
#define CHECK(cond, ...) do { \
    if (cond) t_pass++; \
    else { t_fail++; fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
           fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
static int t_done(const char *name) {
    printf("%s: %d checks passed, %d failed\n", name, t_pass, t_fail);
    return t_fail ? 1 : 0;
}
/* Directory of the golden data carried by the repository. */
static inline const char *t_golden(void) {
    const char *d = getenv("DG_GOLDEN");
    return d ? d : "tests/golden";
}
#endif
