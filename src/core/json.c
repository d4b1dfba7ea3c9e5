#include "core/json.h"
#include "core/error.h"

void dg_text_pos(const char *text, size_t off, int *line, int *col) {
    int l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (text[i] == '\n') { l++; c = 1; }
        else c++;
    }
    *line = l;
    *col = c;
}

static int blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

dg_status dg_json_object(const char *text, size_t len, const char *what, cJSON **out, dg_error *err) {
    const char *end = NULL;
    int line, col;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : 0;
        dg_text_pos(text, off, &line, &col);
        return dg_fail(err, DG_ERR_FORMAT, "%s: invalid JSON at line %d, column %d%s", what, line, col,
                       off >= len ? " (unexpected end)" : "");
    }
    size_t off = (size_t)(end - text);
    while (off < len && blank(text[off])) off++;
    if (off < len && text[off]) {
        cJSON_Delete(root);
        dg_text_pos(text, off, &line, &col);
        return dg_fail(err, DG_ERR_FORMAT, "%s: unexpected text after the JSON value at line %d, column %d", what, line, col);
    }
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return dg_fail(err, DG_ERR_FORMAT, "%s: not a JSON object", what);
    }
    *out = root;
    return DG_OK;
}
