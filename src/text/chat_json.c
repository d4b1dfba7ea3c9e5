/* OpenAI-style messages JSON -> dg_chat_msg[], packed in one allocation (free(msgs) frees all). */
#include "core/error.h"
#include "dgemma.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

enum { F_ROLE, F_CONTENT, F_PARTS, F_REASONING, F_CALLS, F_CALL_ID, F_NAME, N_F };

/* The fields of one message as strings (owned: printed JSON or copies). */
static int fields(const cJSON *m, char *f[N_F]) {
    const cJSON *v;
    memset(f, 0, N_F * sizeof *f);
    static const char *const keys[N_F] = {"role", NULL, NULL, NULL, NULL, "tool_call_id", "name"};
    for (int k = 0; k < N_F; k++)
        if (keys[k] && cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(m, keys[k]))) f[k] = strdup(v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(m, "content");
    if (cJSON_IsString(v)) f[F_CONTENT] = strdup(v->valuestring);
    else if (cJSON_IsArray(v)) f[F_PARTS] = cJSON_PrintUnformatted(v);
    v = cJSON_GetObjectItemCaseSensitive(m, "reasoning_content");
    if (!cJSON_IsString(v)) v = cJSON_GetObjectItemCaseSensitive(m, "reasoning");
    if (cJSON_IsString(v)) f[F_REASONING] = strdup(v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) > 0) f[F_CALLS] = cJSON_PrintUnformatted(v);
    return 1;
}

dg_status dg_chat_msgs_from_json(const char *json, size_t len, dg_chat_msg **msgs, int *n_msgs, dg_error *err) {
    if (!json || !msgs || !n_msgs) return dg_fail(err, DG_ERR_ARG, "dg_chat_msgs_from_json: NULL argument");
    *msgs = NULL;
    *n_msgs = 0;
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root) return dg_fail(err, DG_ERR_FORMAT, "messages: invalid JSON near byte %zu", (size_t)(cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() - json : 0));
    const cJSON *arr = root;
    if (cJSON_IsObject(root)) arr = cJSON_GetObjectItemCaseSensitive(root, "messages"); /* a whole request body */
    if (!cJSON_IsArray(arr)) { cJSON_Delete(root); return dg_fail(err, DG_ERR_FORMAT, "messages: expected a JSON array of messages"); }
    int n = cJSON_GetArraySize(arr);
    char *(*f)[N_F] = calloc((size_t)(n ? n : 1), sizeof *f);
    if (!f) { cJSON_Delete(root); return dg_fail(err, DG_ERR_NOMEM, "out of memory"); }
    size_t total = (size_t)n * sizeof(dg_chat_msg);
    dg_status st = DG_OK;
    int i = 0;
    for (const cJSON *m = arr->child; m; m = m->next, i++) {
        if (!cJSON_IsObject(m)) { st = dg_fail(err, DG_ERR_FORMAT, "messages[%d]: not an object", i); break; }
        fields(m, f[i]);
        if (!f[i][F_ROLE]) { st = dg_fail(err, DG_ERR_FORMAT, "messages[%d]: no \"role\" string", i); break; }
        for (int k = 0; k < N_F; k++) if (f[i][k]) total += strlen(f[i][k]) + 1;
    }
    cJSON_Delete(root);
    char *block = st ? NULL : malloc(total ? total : 1);
    if (!st && !block) st = dg_fail(err, DG_ERR_NOMEM, "out of memory");
    if (!st) {
        dg_chat_msg *out = (dg_chat_msg *)(void *)block;
        char *p = block + (size_t)n * sizeof(dg_chat_msg);
        for (int j = 0; j < n; j++) {
            const char **dst[N_F] = {&out[j].role, &out[j].content, &out[j].content_parts_json, &out[j].reasoning,
                                     &out[j].tool_calls_json, &out[j].tool_call_id, &out[j].name};
            for (int k = 0; k < N_F; k++) {
                *dst[k] = NULL;
                if (!f[j][k]) continue;
                size_t l = strlen(f[j][k]) + 1;
                memcpy(p, f[j][k], l);
                *dst[k] = p;
                p += l;
            }
        }
        *msgs = out;
        *n_msgs = n;
    }
    for (int j = 0; j < n; j++) for (int k = 0; k < N_F; k++) free(f[j][k]);
    free(f);
    return st;
}
