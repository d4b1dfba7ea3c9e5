#include "server/sse.h"
#include "server/openai.h"
#include "server/http.h"
#include <microhttpd.h>
#include <stdlib.h>

void sse_event(dg_sb *b, const char *name, const char *data, size_t n) {
    if (name) dg_sb_printf(b, "event: %s\n", name);
    dg_sb_puts(b, "data: ");
    dg_sb_put(b, data, n);
    dg_sb_puts(b, "\n\n");
}

void sse_done(dg_sb *b) { dg_sb_puts(b, "data: [DONE]\n\n"); }

typedef struct stream {
    oa_req *r;
    struct MHD_Connection *c;
} stream;

/* Called on the connection's own thread (thread-per-connection): it may block. It waits in
 * short slices so that a client that hung up is noticed within ~100 ms, not at the next write
 * (which, on a large model, may be many seconds away). */
static ssize_t reader(void *cls, uint64_t pos, char *dst, size_t max) {
    stream *s = cls;
    for (;;) {
        int done = 0;
        size_t n = oa_read(s->r, dst, max, 100, &done);
        if (n) return (ssize_t)n;
        if (done) return MHD_CONTENT_READER_END_OF_STREAM;
        if (http_peer_gone(s->c)) { oa_cancel(s->r); return MHD_CONTENT_READER_END_WITH_ERROR; }
    }
}

static void release(void *cls) {
    stream *s = cls;
    oa_cancel(s->r);        /* no-op when the job is already over */
    oa_release(s->r);
    free(s);
}

struct MHD_Response *sse_response(oa_req *r, struct MHD_Connection *c) {
    stream *s = malloc(sizeof *s);
    if (!s) return NULL;
    s->r = r;
    s->c = c;
    oa_retain(r);
    struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, reader, s, release);
    if (!resp) { oa_release(r); free(s); return NULL; }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    return resp;
}
