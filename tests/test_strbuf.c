/* dg_sb (src/core/strbuf.c): a buffer that was written to never has NULL data, even when every
 * write was empty, so memcmp / memmem / s + 0 on it are defined (UBSan flags them on NULL). */
#include "t.h"
#include "core/strbuf.h"
#include <string.h>

int main(void) {
    dg_sb b = {0};
    CHECK(!strcmp(dg_sb_str(&b), "") && b.len == 0, "untouched buffer reads as \"\"");
    dg_sb_put(&b, "", 0);
    CHECK(b.s && b.s[0] == 0 && b.len == 0, "an empty put allocates (s %p)", (void *)b.s);
    CHECK(memmem(b.s, b.len, "x", 1) == NULL && !memcmp(b.s, "thought\n", b.len), "memmem / memcmp on an empty buffer");
    dg_sb_put(&b, NULL, 0);
    CHECK(b.s && b.len == 0, "put(NULL, 0) is a no-op that keeps s");
    dg_sb_free(&b);
    dg_sb_consume(&b, 3);
    CHECK(b.s && b.len == 0 && b.s[0] == 0, "consume on an untouched buffer leaves it allocated and empty");
    dg_sb_free(&b);
    dg_sb_printf(&b, "%s", "");
    CHECK(b.s && b.len == 0, "empty printf allocates");
    dg_sb_puts(&b, "abc");
    dg_sb_consume(&b, 1);
    CHECK(b.len == 2 && !strcmp(b.s, "bc"), "consume '%s'", b.s);
    dg_sb_free(&b);
    CHECK(b.s == NULL && b.len == 0, "free resets");
    return t_done("test_strbuf");
}
