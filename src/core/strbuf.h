/* A growable byte buffer (JSON headers, config files, HTTP bodies, SSE frames), NUL-terminated
 * once anything was put or printed to it, even 0 bytes (a zeroed dg_sb has s == NULL until
 * then). Allocation failure is sticky (sb.oom) so callers check once at the end. */
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
/* Appends s as a JSON string literal (quotes and escapes included). */
void dg_sb_json_str(dg_sb *b, const char *s);
void dg_sb_free(dg_sb *b);

#endif
