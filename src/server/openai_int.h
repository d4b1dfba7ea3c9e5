/* Internals shared by the two halves of the OpenAI mapping: openai_request.c (body -> oa_req)
 * and openai_response.c (the job's callbacks -> SSE chunks or one body; lifetime; reads). */
#ifndef DG_SERVER_OPENAI_INT_H
#define DG_SERVER_OPENAI_INT_H
#include "server/openai.h"
#include <pthread.h>

#define MAX_STOP 16

struct oa_req {
    job job;                    /* first: the scheduler hands back job pointers */
    const oa_info *info;
    int kind, stream, stream_canvas, include_usage;
    char id[48], model[128];
    long long created;
    int32_t *prompt;
    char *stop[MAX_STOP];
    int n_stop;
    size_t max_stop;
    /* scheduler-thread state while generating */
    dg_channel_split *split;
    int strip_thought, stopped, sent_role, c_started;
    dg_sb acc_content, acc_reasoning; /* non-stream: the whole answer */
    dg_sb ids;                    /* committed ids (int32), EOS excluded */
    dg_sb hold;                   /* content not yet emitted: the stop-string look-behind */
    dg_sb thought;                /* start of a reasoning channel, until "thought\n" is decided */
    dg_sb d_content, d_reasoning; /* this canvas's deltas */
    /* shared with the HTTP thread, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs, done, status;
    oa_stats stats;               /* set with done */
    dg_sb out;                    /* stream: pending SSE bytes; otherwise the final body */
    size_t sent;
};

/* A new request (refs = 1) of `kind`; NULL when out of memory. */
oa_req *oa_req_alloc(const oa_info *info, int kind);
void oa_req_free(oa_req *r);
/* Once parsed: the output side (channel splitter, id, job callbacks). 0 when out of memory. */
int oa_req_arm(oa_req *r);

#endif
