/* Server metrics (GENERATION.md §7) and their Prometheus text exposition. Thread-safe: HTTP
 * threads count requests, the scheduler counts steps, canvases and tokens. */
#ifndef DG_SERVER_METRICS_H
#define DG_SERVER_METRICS_H
#include "core/strbuf.h"
#include <pthread.h>

enum { M_EP_CHAT, M_EP_COMPLETIONS, M_EP_MODELS, M_EP_HEALTH, M_EP_METRICS, M_EP_OTHER, M_EP_N };
#define M_STEP_BUCKETS 10
#define M_MAX_CODES 16

typedef struct metrics {
    pthread_mutex_t mu;
    unsigned long long req[M_EP_N][M_MAX_CODES];   /* per endpoint, per status code */
    int codes[M_MAX_CODES], n_codes;
    unsigned long long canvases, early_halts, committed, prompt_tokens, steps, rejected, cancelled;
    unsigned long long steps_hist[M_STEP_BUCKETS + 1];   /* steps per canvas, cumulative at export */
    unsigned long long batch_rows;
    unsigned long long canvas_steps;                    /* sum of steps over committed canvases */                      /* sum over decoder steps of the batch size */
    double step_seconds, busy_seconds, prefill_seconds;
} metrics;

void metrics_init(metrics *m);
void metrics_destroy(metrics *m);
void metrics_request(metrics *m, int endpoint, int code);
void metrics_rejected(metrics *m);
void metrics_cancelled(metrics *m);
/* One batched decoder step of `rows` canvases (decoder + samplers) that took `s` seconds. */
void metrics_step(metrics *m, int rows, double s);
void metrics_canvas(metrics *m, int steps, int early_halt, int committed);
void metrics_prefill(metrics *m, int tokens, double s);
void metrics_busy(metrics *m, double s);
/* Appends the Prometheus text format; queue depth and active slots are sampled by the caller. */
void metrics_render(metrics *m, int queue_depth, int active, int max_batch, dg_sb *out);

#endif
