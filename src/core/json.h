/* JSON files as cJSON trees, with syntax errors reported as file, line and column. */
#ifndef DG_CORE_JSON_H
#define DG_CORE_JSON_H
#include <stddef.h>
#include <cjson/cJSON.h>
#include "dgemma.h"

/* Line and column (both from 1; the column counts bytes) of byte `off` of text. */
void dg_text_pos(const char *text, size_t off, int *line, int *col);
/* Parses text[0..len) (trailing white space allowed, nothing else) into an object.
 * what names the text in messages ("DIR/config.json"). */
dg_status dg_json_object(const char *text, size_t len, const char *what, cJSON **out, dg_error *err);

#endif
