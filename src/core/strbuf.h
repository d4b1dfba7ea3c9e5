/* A growable byte buffer (JSON headers, config files, HTTP bodies, SSE frames), always
 * NUL-terminated. Allocation failure is sticky (sb.oom) so callers check once at the end.
 * Once any function below has touched a buffer, s is non-NULL (an empty append allocates), so
 * s may go to memcmp / memmem even when len is 0; a buffer never touched is {NULL, 0}: read it
 * through dg_sb_str. */
#ifndef DG_CORE_STRBUF_H
#define DG_CORE_STRBUF_H
#include <stddef.h>
#include "core/error.h"

typedef struct dg_sb {
    char *s;
    size_t len, cap;
    int oom;
} dg_sb;

void dg_sb_printf(dg_sb *b, const char *fmt, ...) DG_PRINTF(2, 3);
void dg_sb_put(dg_sb *b, const void *s, size_t n);
void dg_sb_puts(dg_sb *b, const char *s);
/* Removes the first n bytes (sent data). */
void dg_sb_consume(dg_sb *b, size_t n);
static inline int dg_sb_ok(const dg_sb *b) { return !b->oom; }
/* The text, "" for a buffer that never received anything (or whose allocation failed). */
static inline const char *dg_sb_str(const dg_sb *b) { return b->s ? b->s : ""; }
/* Appends s as a JSON string literal (quotes and escapes included). */
void dg_sb_json_str(dg_sb *b, const char *s);
void dg_sb_free(dg_sb *b);

#endif
