/* A growable byte buffer (response bodies, SSE frames). Allocation failure makes it "failed":
 * later appends are ignored and buf_ok() says so, so callers check once at the end. */
#ifndef DG_SERVER_BUF_H
#define DG_SERVER_BUF_H
#include <stddef.h>

typedef struct buf {
    char *p;
    size_t len, cap;
    int failed;
} buf;

void buf_add(buf *b, const void *data, size_t n);
void buf_adds(buf *b, const char *s);
void buf_printf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Removes the first n bytes. */
void buf_consume(buf *b, size_t n);
static inline int buf_ok(const buf *b) { return !b->failed; }
void buf_free(buf *b);

#endif
