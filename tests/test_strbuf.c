/* dg_sb (core/strbuf.c). Regression (found by fuzz_openai): putting 0 bytes into an empty
 * buffer left s == NULL, and the server's stop-string search then passed NULL to memmem
 * (undefined behaviour; UBSan aborts) for a completion whose first canvas emitted nothing. */
#include <string.h>
#include "core/strbuf.h"
#include "t.h"

int main(void) {
    dg_sb b = {0};
    dg_sb_put(&b, "", 0);
    CHECK(b.s != NULL && b.len == 0 && b.s[0] == 0, "0 bytes put: s must be an empty string");
    CHECK(memmem(b.s ? b.s : "", b.len, "END", 3) == NULL, "search in the empty buffer");
    dg_sb_put(&b, "abc", 3);
    dg_sb_printf(&b, "%d", 42);
    CHECK(b.len == 5 && !strcmp(b.s, "abc42"), "content '%s'", b.s);
    dg_sb_consume(&b, 2);
    CHECK(b.len == 3 && !strcmp(b.s, "c42"), "after consume '%s'", b.s);
    dg_sb_json_str(&b, "q\"");
    CHECK(!strcmp(b.s, "c42\"q\\\"\""), "json string '%s'", b.s);
    CHECK(dg_sb_ok(&b), "no allocation failure");
    dg_sb_free(&b);
    return t_done("test_strbuf");
}
