/* A small pull scanner for big JSON files (tokenizer.json): no tree, strings unescaped into a
 * reusable buffer. cJSON needs ~0.8 s and 220 MB for a 33 MB tokenizer.json; this needs ~0.1 s. */
#ifndef DG_TEXT_JSON_SCAN_H
#define DG_TEXT_JSON_SCAN_H
#include <stddef.h>
#include "dgemma.h"

typedef struct js_buf { char *d; size_t n, cap; } js_buf;

typedef struct js {
    const char *p, *begin, *end;
    const char *what;   /* file name for messages */
    dg_error *err;
    int failed;         /* first error wins; every call is a no-op after it */
} js;

int js_buf_reserve(js_buf *b, size_t extra);   /* 0 on out of memory */
int js_buf_put(js_buf *b, const void *s, size_t n);

void js_init(js *j, const char *data, size_t n, const char *what, dg_error *err);
/* Records a format error at the current offset; returns 0 for `return js_error(...)`. */
int js_error(js *j, const char *fmt, ...);
/* Next non-blank character without consuming it ('\0' at the end). */
char js_peek(js *j);
/* Object / array iteration: call *_begin, then *_next until it returns 0 (end) or -1 (error).
 * js_obj_next reads the key into key (NUL-terminated) and consumes the ':'. */
int js_obj_begin(js *j);
int js_obj_next(js *j, int *first, js_buf *key);
int js_arr_begin(js *j);
int js_arr_next(js *j, int *first);
/* Values. js_string appends nothing: it resets out and fills it (NUL-terminated, length out->n). */
int js_string(js *j, js_buf *out);
int js_int(js *j, long long *v);
int js_bool(js *j, int *v);
int js_null(js *j);          /* 1 if the next value is null (consumed) */
int js_skip(js *j);          /* any value, nesting depth limited */

#endif
