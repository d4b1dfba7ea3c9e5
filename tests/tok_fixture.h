/* Locates the derived Gemma 4 tokenizer fixture (tools/tokenizer_fixture.sh builds it). */
#ifndef DG_TESTS_TOK_FIXTURE_H
#define DG_TESTS_TOK_FIXTURE_H
#include <stdio.h>
#include <stdlib.h>

static const char *tok_fixture_dir(void) {
    const char *d = getenv("DG_TOKENIZER_FIXTURE");
    return d ? d : "models/tokenizer";
}
/* 1 if the fixture exists; otherwise says how to make it (the caller then skips: t_skip).
 * DG_REQUIRE_FIXTURE=1 makes absence fatal. */
static inline int tok_fixture_present(const char *test) {
    char p[1024];
    snprintf(p, sizeof p, "%s/tokenizer.json", tok_fixture_dir());
    FILE *f = fopen(p, "rb");
    if (f) { fclose(f); return 1; }
    fprintf(stderr, "%s: %s missing; run tools/tokenizer_fixture.sh\n", test, p);
    if (getenv("DG_REQUIRE_FIXTURE") && atoi(getenv("DG_REQUIRE_FIXTURE"))) exit(1);
    return 0;
}
#endif
