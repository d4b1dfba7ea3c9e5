/* Server-sent events: framing, and the streaming HTTP response that drains a request's output
 * as the scheduler produces it (one chunk per committed canvas, optional per-step events). */
#ifndef DG_SERVER_SSE_H
#define DG_SERVER_SSE_H
#include "core/strbuf.h"
#include <stddef.h>

struct MHD_Connection;
struct MHD_Response;
typedef struct oa_req oa_req;

/* "event: NAME\n" (if name) + "data: ...\n\n"; data must hold no newline (compact JSON). */
void sse_event(dg_sb *b, const char *name, const char *data, size_t n);
void sse_done(dg_sb *b);

/* A chunked text/event-stream response reading r's output; it holds a reference to r and
 * cancels the job when the client goes away. */
struct MHD_Response *sse_response(oa_req *r, struct MHD_Connection *c);

#endif
