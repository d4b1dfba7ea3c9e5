/* OpenAI request/response mapping: a request body becomes an oa_req (prompt ids, generation
 * params, output options) carrying a scheduler job; the job's callbacks (scheduler thread)
 * turn committed canvases into SSE chunks or, at the end, one response body. The HTTP side
 * reads that output under the request's lock. */
#ifndef DG_SERVER_OPENAI_H
#define DG_SERVER_OPENAI_H
#include "dgemma.h"
#include "core/strbuf.h"
#include "server/scheduler.h"
#include <stdatomic.h>

enum { OA_CHAT, OA_COMPLETION };

typedef struct oa_info {
    const dg_tokenizer *tok;        /* NULL: token-id prompts only */
    const char *model_id;
    int vocab, canvas_length, ctx_tokens;
    dg_gen_params defaults;
    atomic_ullong *next_id;         /* request ids */
    size_t max_buffered;            /* stream bytes a slow client may leave unread */
    int max_steps, max_canvases;    /* caps per request: denoising steps per canvas, canvases */
    double timeout_s;               /* a request's deadline from its start (0: none) */
    size_t max_piece_bytes;         /* longest token piece (0: unknown): a cheap prompt bound */
} oa_info;

typedef struct oa_req oa_req;

/* Parses and validates a request. Returns the HTTP status: 200 with *out set (refs = 1), or an
 * error status with the OpenAI error JSON in errbody. `ignored` receives the comma-separated
 * names of accepted-but-ignored fields (for the X-Dgemma-Ignored header). */
int oa_parse(const oa_info *info, int kind, const char *body, size_t len, oa_req **out, dg_sb *errbody, dg_sb *ignored);
job *oa_job(oa_req *r);
int oa_is_stream(const oa_req *r);
/* One more holder (the scheduler, once submitted); oa_release drops one, the last frees. */
void oa_retain(oa_req *r);
void oa_release(oa_req *r);
/* The client is gone or the server is stopping: the job stops at the next step. */
void oa_cancel(oa_req *r);

/* Waits up to ms for output (stream) or completion. Then, for a stream, moves at most `max`
 * pending bytes into dst and returns their count (0 with *done = 1 at the end); *done is set
 * once the job ended and every byte was read. */
size_t oa_read(oa_req *r, char *dst, size_t max, int ms, int *done);
/* Non-stream: waits up to ms; returns 0 while running, else the HTTP status, with the body. */
int oa_result(oa_req *r, int ms, const char **body, size_t *len);

/* What the request log reports once the job ended (zeros before). */
typedef struct oa_stats {
    int prompt_tokens, completion_tokens, canvases, steps;
    const char *finish;         /* "stop", "length", "tool_calls", "cancelled" or "error" */
} oa_stats;
void oa_get_stats(oa_req *r, oa_stats *out);

/* An OpenAI error body {"error": {message, type, param, code}}. */
void oa_error(dg_sb *out, const char *type, const char *param, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
