#include "core/strbuf.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int grow(dg_sb *b, size_t need) {
    if (b->oom) return 0;
    if (b->len + need + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + need + 1) cap *= 2;
    char *s = realloc(b->s, cap);
    if (!s) { b->oom = 1; return 0; }
    b->s = s;
    b->cap = cap;
    return 1;
}

void dg_sb_put(dg_sb *b, const void *s, size_t n) {
    if (!grow(b, n)) return;    /* even for n = 0: b->s is then a string, never NULL */
    if (n) memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void dg_sb_printf(dg_sb *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !grow(b, (size_t)n)) { b->oom = 1; return; }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void dg_sb_json_str(dg_sb *b, const char *s) {
    dg_sb_put(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { char e[2] = {'\\', (char)c}; dg_sb_put(b, e, 2); }
        else if (c < 0x20) dg_sb_printf(b, "\\u%04x", c);
        else dg_sb_put(b, (const char *)&c, 1);
    }
    dg_sb_put(b, "\"", 1);
}

void dg_sb_free(dg_sb *b) {
    free(b->s);
    *b = (dg_sb){0};
}

void dg_sb_puts(dg_sb *b, const char *s) { dg_sb_put(b, s, strlen(s)); }

void dg_sb_consume(dg_sb *b, size_t n) {
    if (n >= b->len) { b->len = 0; if (b->s) b->s[0] = 0; return; }
    memmove(b->s, b->s + n, b->len - n);
    b->len -= n;
    b->s[b->len] = 0;
}
