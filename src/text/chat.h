/* Shared helpers of the chat template renderer and the output parser (src/text only). */
#ifndef DG_TEXT_CHAT_H
#define DG_TEXT_CHAT_H
#include <stddef.h>
#include "text/json_scan.h"

/* Python str.strip(): the span of s[0..n) without leading/trailing Unicode whitespace. */
void dg_chat_trim(const char *s, size_t n, size_t *b, size_t *e);
#define Q "<|\"|>"

#endif
