#include "server/scheduler.h"
#include "core/error.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct slot_ctx {
    struct sched *s;
    job *j;
} slot_ctx;

struct sched {
    dg_ctx *ctx;
    dg_batch *batch;
    metrics *m;
    int max_batch, queue_cap;
    slot_ctx *slots;
    pthread_t thread;
    int started;
    pthread_mutex_t mu;         /* guards the queue and the flags below */
    pthread_cond_t cv;
    job *head, *tail;
    int queued, active, stopping;
    double deadline;
    /* throughput log (scheduler thread only) */
    FILE *log;
    double log_every, log_t0;
    unsigned long long log_steps, log_rows, log_tokens;
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Wrappers around the job's callbacks: metrics, and the cancel flag polled once per step. */
static int slot_on_step(void *user, const dg_gen_frame *f) {
    slot_ctx *sc = user;
    if (atomic_load(&sc->j->cancel)) return 1;
    return sc->j->cb.on_step ? sc->j->cb.on_step(sc->j->cb.user, f) : 0;
}

static int slot_on_canvas(void *user, int canvas, const int32_t *ids, int L, int n_emit, int n_steps) {
    slot_ctx *sc = user;
    metrics_canvas(sc->s->m, n_steps, n_steps < sc->j->p.max_denoising_steps, n_emit);
    sc->s->log_tokens += (unsigned long long)n_emit;
    int r = sc->j->cb.on_canvas ? sc->j->cb.on_canvas(sc->j->cb.user, canvas, ids, L, n_emit, n_steps) : 0;
    return r || atomic_load(&sc->j->cancel);
}

static void finish_slot(sched *s, int i) {
    dg_gen_result res;
    dg_error err = {0};
    dg_status st = dg_batch_take(s->batch, i, &res, &err);
    job *j = s->slots[i].j;
    s->slots[i].j = NULL;
    if (st == DG_ERR_CANCELLED) metrics_cancelled(s->m);
    j->on_done(j, st, &err, &res);
    dg_gen_result_free(&res);
    pthread_mutex_lock(&s->mu);
    s->active--;
    pthread_mutex_unlock(&s->mu);
}

/* Prefill a queued job into free slot i (outside the lock: it may take a while). */
static void admit(sched *s, int i, job *j) {
    dg_error err = {0};
    dg_cache_clear(s->ctx, i);
    s->slots[i].j = j;
    dg_gen_callbacks cb = {.on_prefill = j->cb.on_prefill, .on_step = slot_on_step, .on_canvas = slot_on_canvas,
                           .user = &s->slots[i]};
    const double t = now();
    dg_status st = atomic_load(&j->cancel) ? dg_fail(&err, DG_ERR_CANCELLED, "cancelled before it started")
                                           : dg_batch_start(s->batch, i, j->prompt, j->n_prompt, &j->p, &cb, &err);
    metrics_prefill(s->m, st ? 0 : j->n_prompt, now() - t);
    j->t_deadline = j->timeout_s > 0 ? now() + j->timeout_s : 0;
    if (st) {
        s->slots[i].j = NULL;
        if (st == DG_ERR_CANCELLED) metrics_cancelled(s->m);
        j->on_done(j, st, &err, NULL);
        return;
    }
    pthread_mutex_lock(&s->mu);
    s->active++;
    pthread_mutex_unlock(&s->mu);
}

/* While busy, one line per interval: what an operator tailing the log wants to see. */
static void log_throughput(sched *s) {
    const double t = now(), dt = t - s->log_t0;
    if (!s->log || dt < s->log_every) return;
    if (s->log_steps) {
        int q, a;
        sched_load(s, &q, &a);
        fprintf(s->log, "dgemma serve: %d active, %d queued: %.2f steps/s, %.2f canvases per step, %.1f tokens/s over %.0f s\n",
                a, q, s->log_steps / dt, (double)s->log_rows / (double)s->log_steps, s->log_tokens / dt, dt);
    }
    s->log_t0 = t;
    s->log_steps = s->log_rows = s->log_tokens = 0;
}

static void *run(void *arg) {
    sched *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        if (!s->head && !s->active && !s->stopping) {
            while (!s->head && !s->active && !s->stopping) pthread_cond_wait(&s->cv, &s->mu);
            s->log_t0 = now();      /* rates are of busy time: an idle spell starts a new interval */
            s->log_steps = s->log_rows = s->log_tokens = 0;
        }
        if (s->stopping && !s->head && !s->active) { pthread_mutex_unlock(&s->mu); break; }
        const int cancel_all = s->stopping && now() >= s->deadline;
        /* fill free slots from the queue, FIFO */
        for (int i = 0; i < s->max_batch && s->head; i++) {
            if (dg_batch_state(s->batch, i) != 0) continue;
            job *j = s->head;
            s->head = j->next;
            if (!s->head) s->tail = NULL;
            s->queued--;
            pthread_mutex_unlock(&s->mu);
            admit(s, i, j);
            pthread_mutex_lock(&s->mu);
        }
        pthread_mutex_unlock(&s->mu);
        const double t0 = now();
        int rows = 0;
        for (int i = 0; i < s->max_batch; i++) {
            if (dg_batch_state(s->batch, i) != 1) continue;
            job *j = s->slots[i].j;
            j->hit_shutdown = cancel_all;
            j->hit_deadline = j->t_deadline > 0 && t0 >= j->t_deadline;
            if (cancel_all || j->hit_deadline || atomic_load(&j->cancel)) dg_batch_cancel(s->batch, i);
            else rows++;
        }
        if (rows) {
            dg_error err = {0};
            dg_batch_step(s->batch, &err);   /* a failed shared step fails its slots; they report it */
            metrics_step(s->m, rows, now() - t0);
            s->log_steps++;
            s->log_rows += (unsigned long long)rows;
        }
        for (int i = 0; i < s->max_batch; i++)
            if (dg_batch_state(s->batch, i) == 2) finish_slot(s, i);
        metrics_busy(s->m, now() - t0);
        log_throughput(s);
    }
    return NULL;
}

dg_status sched_new(dg_ctx *ctx, int max_batch, int queue_cap, int n_threads, metrics *m, FILE *log, double log_every_s,
                    sched **out, dg_error *err) {
    *out = NULL;
    sched *s = calloc(1, sizeof *s);
    if (!s) return dg_fail(err, DG_ERR_NOMEM, "scheduler: out of memory");
    s->log = log;
    s->log_every = log_every_s;
    s->log_t0 = now();
    s->ctx = ctx;
    s->m = m;
    s->max_batch = max_batch;
    s->queue_cap = queue_cap;
    s->slots = calloc((size_t)max_batch, sizeof *s->slots);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    dg_status st = s->slots ? dg_batch_new(ctx, max_batch, n_threads, &s->batch, err)
                            : dg_fail(err, DG_ERR_NOMEM, "scheduler: out of memory");
    if (st) { sched_free(s); return st; }
    for (int i = 0; i < max_batch; i++) s->slots[i].s = s;
    if (pthread_create(&s->thread, NULL, run, s)) { sched_free(s); return dg_fail(err, DG_ERR_NOMEM, "scheduler: cannot start its thread"); }
    s->started = 1;
    *out = s;
    return DG_OK;
}

int sched_submit(sched *s, job *j) {
    j->next = NULL;
    j->t_submit = now();
    pthread_mutex_lock(&s->mu);
    int r = s->stopping ? -2 : s->queued >= s->queue_cap ? -1 : 0;
    if (!r) {
        if (s->tail) s->tail->next = j; else s->head = j;
        s->tail = j;
        s->queued++;
        pthread_cond_signal(&s->cv);
    }
    pthread_mutex_unlock(&s->mu);
    return r;
}

void sched_load(sched *s, int *queued, int *active) {
    pthread_mutex_lock(&s->mu);
    *queued = s->queued;
    *active = s->active;
    pthread_mutex_unlock(&s->mu);
}

void sched_shutdown(sched *s, double grace_s) {
    if (!s || !s->started) return;
    pthread_mutex_lock(&s->mu);
    job *q = s->head;
    s->head = s->tail = NULL;
    s->queued = 0;
    s->stopping = 1;
    s->deadline = now() + grace_s;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    while (q) {     /* on_done may free the job: read next first */
        job *n = q->next;
        dg_error err;
        dg_fail(&err, DG_ERR_CANCELLED, "the server is shutting down");
        metrics_cancelled(s->m);
        q->on_done(q, DG_ERR_CANCELLED, &err, NULL);
        q = n;
    }
    pthread_join(s->thread, NULL);
    s->started = 0;
}

void sched_free(sched *s) {
    if (!s) return;
    sched_shutdown(s, 0);
    dg_batch_free(s->batch);
    free(s->slots);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s);
}
