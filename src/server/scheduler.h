/* The scheduler: one thread owns the model context and a dg_batch of --max-batch slots.
 * Requests wait in a bounded FIFO; free slots are filled between steps (prefill on the slot's
 * sequence), then all active slots advance together through one batched decoder step. A job
 * whose `cancel` flag is set (client gone, stop string matched) or whose deadline passed leaves
 * at the next step. */
#ifndef DG_SERVER_SCHEDULER_H
#define DG_SERVER_SCHEDULER_H
#include "dgemma.h"
#include "server/metrics.h"
#include <stdatomic.h>
#include <stdio.h>

typedef struct job job;
/* Called once per job on the scheduler thread when it ends (result, error or cancel). res is
 * NULL when the job never started (rejected at prefill, dropped at shutdown); the callee owns
 * nothing in it. After on_done the scheduler never touches the job again. */
typedef void (*job_done_fn)(job *j, dg_status st, const dg_error *err, const dg_gen_result *res);

struct job {
    /* set by the submitter, read-only afterwards */
    const int32_t *prompt;
    int n_prompt;
    dg_gen_params p;
    dg_gen_callbacks cb;        /* on_step / on_canvas on the scheduler thread (user = cb.user) */
    job_done_fn on_done;
    double timeout_s;           /* work deadline from admission (0: none) */
    atomic_int cancel;          /* any thread: 1 = stop at the next step */
    /* set by the scheduler before on_done: why a started job was cut short */
    int hit_deadline, hit_shutdown;
    /* scheduler-private */
    job *next;
    double t_submit, t_deadline;
};

typedef struct sched sched;
/* log: a throughput line every log_every_s seconds while busy (NULL: none). */
dg_status sched_new(dg_ctx *ctx, int max_batch, int queue_cap, int n_threads, metrics *m, FILE *log, double log_every_s,
                    sched **out, dg_error *err);
/* 0: queued; -1: queue full; -2: shutting down. */
int sched_submit(sched *s, job *j);
void sched_load(sched *s, int *queued, int *active);
/* Stops taking jobs, drops the queued ones (on_done with DG_ERR_CANCELLED), lets the active
 * ones run for up to grace_s seconds, cancels the rest and joins the thread. */
void sched_shutdown(sched *s, double grace_s);
void sched_free(sched *s);

#endif
