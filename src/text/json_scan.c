#include "text/json_scan.h"
#include "core/error.h"
#include "core/json.h"
#include "text/utf8.h"
#include <stdarg.h>
#include <stdio.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define JS_MAX_DEPTH 256

int js_buf_reserve(js_buf *b, size_t extra) {
    if (b->n + extra + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->n + extra + 1) {
        if (cap > SIZE_MAX / 2) return 0;
        cap *= 2;
    }
    char *d = realloc(b->d, cap);
    if (!d) return 0;
    b->d = d;
    b->cap = cap;
    return 1;
}

int js_buf_put(js_buf *b, const void *s, size_t n) {
    if (!js_buf_reserve(b, n)) return 0;
    memcpy(b->d + b->n, s, n);
    b->n += n;
    b->d[b->n] = 0;
    return 1;
}

void js_init(js *j, const char *data, size_t n, const char *what, dg_error *err) {
    j->p = j->begin = data;
    j->end = data + n;
    j->what = what;
    j->err = err;
    j->failed = 0;
}

int js_error(js *j, const char *fmt, ...) {
    if (j->failed) return 0;
    j->failed = 1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line, col;
    dg_text_pos(j->begin, (size_t)(j->p - j->begin), &line, &col);
    dg_fail(j->err, DG_ERR_FORMAT, "%s: line %d, column %d: %s", j->what, line, col, msg);
    return 0;
}

static void ws(js *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')) j->p++;
}

char js_peek(js *j) {
    if (j->failed) return 0;
    ws(j);
    return j->p < j->end ? *j->p : 0;
}

static int expect(js *j, char c) {
    if (js_peek(j) != c) {
        if (j->p >= j->end) return js_error(j, "unexpected end of file, expected '%c'", c);
        return js_error(j, "expected '%c', found '%c'", c, *j->p);
    }
    j->p++;
    return 1;
}

int js_obj_begin(js *j) { return expect(j, '{'); }
int js_arr_begin(js *j) { return expect(j, '['); }

static int next_item(js *j, int *first, char close) {
    char c = js_peek(j);
    if (j->failed) return -1;
    if (c == close) { j->p++; return 0; }
    if (!*first) {
        if (c != ',') return j->p >= j->end ? (js_error(j, "unexpected end of file"), -1)
                                            : (js_error(j, "expected ',' or '%c'", close), -1);
        j->p++;
    }
    *first = 0;
    return 1;
}

int js_obj_next(js *j, int *first, js_buf *key) {
    int r = next_item(j, first, '}');
    if (r <= 0) return r;
    if (!js_string(j, key) || !expect(j, ':')) return -1;
    return 1;
}

int js_arr_next(js *j, int *first) {
    int r = next_item(j, first, ']');
    if (r == 1 && js_peek(j) == ']') return js_error(j, "trailing ','"), -1;
    return r;
}

static int hex4(const char *s, unsigned *v) {
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        x <<= 4;
        if (c >= '0' && c <= '9') x |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') x |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') x |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *v = x;
    return 1;
}

int js_string(js *j, js_buf *out) {
    out->n = 0;
    if (!expect(j, '"')) return 0;
    for (;;) {
        /* Fast path: copy the run up to the next quote, backslash or control byte. */
        const char *s = j->p;
        while (s < j->end && *s != '"' && *s != '\\' && (unsigned char)*s >= 0x20) s++;
        if (!js_buf_put(out, j->p, (size_t)(s - j->p))) return js_error(j, "out of memory");
        j->p = s;
        if (s >= j->end) return js_error(j, "unterminated string");
        if (*s == '"') { j->p++; break; }
        if ((unsigned char)*s < 0x20) return js_error(j, "control character in string");
        /* escape */
        if (s + 1 >= j->end) return js_error(j, "unterminated string");
        char e = s[1], c;
        j->p = s + 2;
        switch (e) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u': {
            unsigned u, lo;
            if (j->end - j->p < 4 || !hex4(j->p, &u)) return js_error(j, "bad \\u escape");
            j->p += 4;
            uint32_t cp = u;
            if (u >= 0xD800 && u <= 0xDBFF) {
                if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' || !hex4(j->p + 2, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return js_error(j, "unpaired surrogate in \\u escape");
                j->p += 6;
                cp = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            } else if (u >= 0xDC00 && u <= 0xDFFF) {
                return js_error(j, "unpaired surrogate in \\u escape");
            }
            char tmp[4];
            int n = dg_utf8_encode(cp, tmp);
            if (!js_buf_put(out, tmp, (size_t)n)) return js_error(j, "out of memory");
            continue;
        }
        default: return js_error(j, "bad escape '\\%c'", e);
        }
        if (!js_buf_put(out, &c, 1)) return js_error(j, "out of memory");
    }
    if (!js_buf_reserve(out, 0)) return js_error(j, "out of memory");
    out->d[out->n] = 0;
    return 1;
}

int js_int(js *j, long long *v) {
    char c = js_peek(j);
    if (j->failed) return 0;
    const char *s = j->p;
    int neg = 0;
    if (c == '-') { neg = 1; s++; }
    if (s >= j->end || *s < '0' || *s > '9') return js_error(j, "expected an integer");
    long long x = 0;
    while (s < j->end && *s >= '0' && *s <= '9') {
        if (x > (LLONG_MAX - 9) / 10) return js_error(j, "integer too large");
        x = x * 10 + (*s++ - '0');
    }
    if (s < j->end && (*s == '.' || *s == 'e' || *s == 'E')) return js_error(j, "expected an integer");
    j->p = s;
    *v = neg ? -x : x;
    return 1;
}

static int word(js *j, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(j->end - j->p) >= n && !memcmp(j->p, w, n)) { j->p += n; return 1; }
    return 0;
}

int js_bool(js *j, int *v) {
    js_peek(j);
    if (j->failed) return 0;
    if (word(j, "true")) { *v = 1; return 1; }
    if (word(j, "false")) { *v = 0; return 1; }
    return js_error(j, "expected true or false");
}

int js_null(js *j) {
    js_peek(j);
    return !j->failed && word(j, "null");
}

static int skip(js *j, int depth) {
    if (depth > JS_MAX_DEPTH) return js_error(j, "nesting too deep");
    char c = js_peek(j);
    int first = 1, r;
    js_buf tmp = {0};
    switch (c) {
    case '{':
        j->p++;
        while ((r = js_obj_next(j, &first, &tmp)) == 1)
            if (!skip(j, depth + 1)) { r = -1; break; }
        free(tmp.d);
        return r == 0;
    case '[':
        j->p++;
        while ((r = js_arr_next(j, &first)) == 1)
            if (!skip(j, depth + 1)) { r = -1; break; }
        return r == 0;
    case '"':
        r = js_string(j, &tmp);
        free(tmp.d);
        return r;
    case 't': case 'f': { int b; return js_bool(j, &b); }
    case 'n':
        return js_null(j) ? 1 : js_error(j, "bad literal");
    default:
        if (c == '-' || (c >= '0' && c <= '9')) {
            const char *s = j->p + 1;
            while (s < j->end && strchr("0123456789+-.eE", *s)) s++;
            j->p = s;
            return 1;
        }
        return j->p >= j->end ? js_error(j, "unexpected end of file") : js_error(j, "unexpected '%c'", c);
    }
}

int js_skip(js *j) { return skip(j, 0); }
