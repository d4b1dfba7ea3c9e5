/* Minimal test harness: CHECK records failures; t_done() prints a summary and sets the exit code.
 * A test that ran no check fails: only t_skip() (exit status 77, what tests/run.sh counts as a
 * skip) may end a test without checking anything. */
#ifndef DG_TESTS_T_H
#define DG_TESTS_T_H
#include <stdio.h>
#include <stdlib.h>

#define T_SKIP 77

static int t_fail, t_pass;
#define CHECK(cond, ...) do { \
    if (cond) t_pass++; \
    else { t_fail++; fprintf(stderr, "%s:%d: CHECK(%s) failed: ", __FILE__, __LINE__, #cond); \
           fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
static int t_done(const char *name) {
    printf("%s: %d checks passed, %d failed\n", name, t_pass, t_fail);
    if (!t_pass && !t_fail) { printf("%s: no check was executed\n", name); return 1; }
    return t_fail ? 1 : 0;
}
/* Ends a test that cannot run here, saying why; the exit status for main(). */
static inline int t_skip(const char *name, const char *why) {
    printf("%s: SKIP: %s\n", name, why);
    return t_fail ? 1 : T_SKIP;
}
/* Directory of the golden data carried by the repository. */
static inline const char *t_golden(void) {
    const char *d = getenv("DG_GOLDEN");
    return d ? d : "tests/golden";
}
#endif
